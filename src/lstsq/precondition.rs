//! Sketch-and-precondition with iterative refinement (the crate's recommended least-squares
//! solver), ridge regression and multiple right-hand sides on the same path.

use super::lsqr::{bidiagonal_condition, lsqr_run_from, Callback, History, LsqrRun};
use super::ops::{norm2, DataOp, LinOp};
use super::{
    check_common, check_problem, Factorization, Info, IterState, LstsqParams, RhsScale, Timings,
};
use crate::error::{Error, Result};
use crate::input::{check_finite_dense, MatrixRef};
use crate::sketch::{SketchExt, SketchOperator, SparseSign};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::matmul;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use std::ops::ControlFlow;
use std::time::Instant;

/// A Householder QR factorization computed with an explicit thread budget (so that it does not
/// depend on faer's global parallelism setting).
pub(crate) struct HouseholderQr {
    /// `R` in the upper triangle, the Householder vectors below.
    factors: Mat<f64>,
    coeff: Mat<f64>,
}

impl HouseholderQr {
    /// Factors an `m × d` matrix with `m ≥ d`.
    pub(crate) fn new(a: Mat<f64>, par: Par) -> Self {
        let (factors, coeff) = crate::dense::householder_qr(a, par);
        HouseholderQr { factors, coeff }
    }

    /// The `d × d` upper-triangular factor `R`.
    pub(crate) fn r(&self) -> Mat<f64> {
        crate::dense::upper_triangle(self.factors.as_ref())
    }

    /// `argmin ‖(QR)·X − B‖` for an `m × k` right-hand side: `X = R⁻¹ (QᵀB)[..d]`.
    pub(crate) fn solve_lstsq(&self, b: Mat<f64>, par: Par) -> Mat<f64> {
        let mut x = self.qt_head(b, par);
        solve_upper_triangular_in_place(
            self.factors.subrows(0, self.factors.ncols()),
            x.as_mut(),
            par,
        );
        x
    }

    /// `(QᵀB)[..d]`, the first `d` rows of `QᵀB` for an `m × k` right-hand side `B`.
    pub(crate) fn qt_head(&self, b: Mat<f64>, par: Par) -> Mat<f64> {
        let d = self.factors.ncols();
        self.qt(b, par).subrows(0, d).to_owned()
    }

    /// `QᵀB` (all `m` rows, in `B`'s storage) for an `m × k` right-hand side `B`: its first `d`
    /// rows give the least-squares solution, the norm of the other `m − d` rows of a column is
    /// that column's least-squares residual.
    pub(crate) fn qt(&self, mut b: Mat<f64>, par: Par) -> Mat<f64> {
        use faer::linalg::householder as hh;
        let k = b.ncols();
        let req = hh::apply_block_householder_sequence_transpose_on_the_left_in_place_scratch::<f64>(
            self.factors.nrows(),
            self.coeff.nrows(),
            k,
        );
        hh::apply_block_householder_sequence_transpose_on_the_left_in_place_with_conj(
            self.factors.as_ref(),
            self.coeff.as_ref(),
            faer::Conj::No,
            b.as_mut(),
            par,
            MemStack::new(&mut MemBuffer::new(req)),
        );
        b
    }
}

/// An estimate of `κ₂(R)` for an upper-triangular `R`: 10 power steps for `σ_max` and 10 inverse
/// power steps for `σ_min`, from a fixed start vector (a lower bound of the true value, usually
/// within a small factor). `∞` for a zero or non-finite diagonal or a non-finite iterate.
pub(crate) fn triangular_condition_estimate(r: MatRef<'_, f64>) -> f64 {
    let d = r.ncols();
    if (0..d).any(|i| r[(i, i)] == 0.0 || !r[(i, i)].is_finite()) {
        return f64::INFINITY;
    }
    // κ does not depend on the scale of R, but RᵀR·v does: R with entries near 1e157 (A scaled
    // by 2^520) overflowed it and read κ = ∞. An R far from 1 is scaled by a power of two first
    // (exact; ordinary R is used as it is, bit for bit).
    let top = (0..d).fold(0.0f64, |m, i| m.max(r[(i, i)].abs()));
    let s = super::ops::rescale_for(top);
    if s != 1.0 {
        let scaled = Mat::<f64>::from_fn(r.nrows(), d, |i, j| r[(i, j)] * s);
        return triangular_condition_estimate_unscaled(scaled.as_ref());
    }
    triangular_condition_estimate_unscaled(r)
}

/// The fixed start vector of the power steps: entries in `[1, 1.5)`.
fn power_start(d: usize) -> Mat<f64> {
    Mat::<f64>::from_fn(d, 1, |i, _| {
        1.0 + 0.5 * crate::seed::unit_f64(crate::seed::splitmix64(i as u64))
    })
}

/// Scales `v` to unit norm (when its norm is positive and finite) and returns that norm.
fn normalize_col(v: &mut Mat<f64>) -> f64 {
    let n = v.norm_l2();
    if n > 0.0 && n.is_finite() {
        *v = &*v * faer::Scale(1.0 / n);
    }
    n
}

/// `‖R·v‖` after 10 power steps on `RᵀR` from [`power_start`]: a lower bound of `σ_max(R)`,
/// usually within a few percent. `None` for a non-finite iterate.
fn power_norm_estimate(r: MatRef<'_, f64>) -> Option<f64> {
    let mut v = power_start(r.ncols());
    normalize_col(&mut v);
    let mut smax = 0.0;
    for _ in 0..10 {
        let rv = crate::dense::product(r, v.as_ref());
        smax = rv.norm_l2();
        v = crate::dense::product(r.transpose(), rv.as_ref());
        if !normalize_col(&mut v).is_finite() {
            return None;
        }
    }
    Some(smax)
}

/// An estimate of `σ_max(R) = ‖R‖₂` by [`power_norm_estimate`], for `R` of any finite scale (an `R`
/// far from 1 is scaled by a power of two first, so that `RᵀR·v` stays in range). NaN when the
/// iterates are not finite.
pub(crate) fn triangular_norm_estimate(r: MatRef<'_, f64>) -> f64 {
    let top = (0..r.ncols()).fold(0.0f64, |m, i| m.max(r[(i, i)].abs()));
    let s = super::ops::rescale_for(top);
    let scaled;
    let r = if s == 1.0 {
        r
    } else {
        scaled = Mat::<f64>::from_fn(r.nrows(), r.ncols(), |i, j| r[(i, j)] * s);
        scaled.as_ref()
    };
    power_norm_estimate(r).map_or(f64::NAN, |n| n / s)
}

fn triangular_condition_estimate_unscaled(r: MatRef<'_, f64>) -> f64 {
    let Some(smax) = power_norm_estimate(r) else {
        return f64::INFINITY;
    };
    let mut w = power_start(r.ncols());
    normalize_col(&mut w);
    let mut inv = 0.0;
    for _ in 0..10 {
        solve_lower_triangular_in_place(r.transpose(), w.as_mut(), Par::Seq);
        solve_upper_triangular_in_place(r, w.as_mut(), Par::Seq);
        inv = normalize_col(&mut w);
        if !inv.is_finite() || inv == 0.0 {
            return f64::INFINITY;
        }
    }
    // ‖(RᵀR)⁻¹w‖ → 1/σ_min² for the converged unit vector w.
    smax * inv.sqrt()
}

/// The default number of sketch rows `m = c·d`, `c ∈ {4, 6, 8, 12, 16}`, chosen to minimize a
/// cost model fitted to CPU times on the bench machine (2-core AMD EPYC):
/// - the QR of the `m × d` sketch: `2md²` flops at 0.06 ns each;
/// - the sketch `SA`: 50 ns per nonzero of a sparse `A` (8 ns per entry of a dense one), growing
///   like `m/4096` once an output column no longer fits the L1 cache;
/// - LSQR: `ln(1/tol)/ln(√c) + 7` iterations (LSQR on a sketched preconditioner contracts about
///   like `√(d/m)` per step; 7 for the refinement run), each one fused pass over `A` at 2 ns per
///   stored entry.
///
/// Sparse problems like the bench's 200 000 × 500 one get `c = 8`; dense `50 000 × 1000` gets
/// `c = 8` too, small `d` with many rows `c = 4`. `m` is capped at `n/2` (never below `4d`).
pub(crate) fn default_sketch_rows(n: usize, d: usize, nnz: usize, sparse: bool, tol: f64) -> usize {
    let cost = |c: usize| precondition_cost(c as f64, d, nnz, sparse, tol);
    let mut best = 4usize;
    for c in [6usize, 8, 12, 16] {
        if c.saturating_mul(d) > n / 2 {
            break;
        }
        if cost(c) < cost(best) {
            best = c;
        }
    }
    best.saturating_mul(d)
}

/// The cost model of [`default_sketch_rows`] for a sketch of `m = c·d` rows (model units).
fn precondition_cost(c: f64, d: usize, nnz: usize, sparse: bool, tol: f64) -> f64 {
    let digits = (1.0 / tol.clamp(1e-300, 0.5)).ln();
    let (d_f, nnz_f) = (d as f64, nnz as f64);
    let per_entry = if sparse { 50.0 } else { 8.0 };
    let m = c * d_f;
    let qr = 0.12 * c * d_f.powi(3);
    let sketch = per_entry * nnz_f * (m / 4096.0).max(1.0);
    let iters = digits / c.sqrt().ln() + 7.0;
    qr + sketch + iters * 2.0 * nnz_f
}

/// The model's cost of the whole sketched solve with `m` sketch rows, in passes over `A` (one
/// pass: 2 units per stored entry). Sketches of fewer than `2d` rows count as `2d` (the
/// model's rate `√(d/m)` says nothing below that).
pub(crate) fn precondition_passes(m: usize, d: usize, nnz: usize, sparse: bool, tol: f64) -> f64 {
    let c = (m as f64 / d.max(1) as f64).max(2.0);
    precondition_cost(c, d, nnz, sparse, tol) / (2.0 * (nnz.max(1) as f64))
}

/// What [`Preconditioner::plan`] decided: the checked sketch, or no sketch.
pub(crate) enum Plan {
    Sketch(SparseSign),
    Diagonal,
}

enum Kind {
    Qr {
        qr: HouseholderQr,
        r: Mat<f64>,
    },
    /// From the SVD `R = U_R Σ Vᵀ` of the QR's triangle: `SA = (Q U_R) Σ Vᵀ` has the same `Σ`
    /// and `V`, and `Q` is kept to apply `(Q U_R)ᵀ` in the warm start.
    Svd {
        qr: HouseholderQr,
        u_r: Mat<f64>,
        s: Vec<f64>,
        v: Mat<f64>,
    },
    /// `N = D⁻¹` with `D` the column norms; `inv[j] = 1/D_j`.
    Diagonal {
        inv: Vec<f64>,
    },
}

/// The right preconditioner `N` of sketch-and-precondition: `N = R⁻¹` from `SA = QR`
/// (Blendenpik), or `N = V_r Σ_r⁻¹` from `SA = UΣVᵀ` (LSRN), together with the sketch that made it.
/// The SVD is that of the `d × d` triangle `R = U_R Σ Vᵀ` (`SA = (Q·U_R) Σ Vᵀ`): `SA` is always
/// factored by Householder QR first, in place.
///
/// For ridge (`λ > 0`) the sketched matrix is `[√λ I; SA]` (the large rows first) and `N`
/// preconditions `[A; √λ I]`.
/// `κ(AN) ≤ (1+ε)/(1−ε)` when `S` is an ε-subspace embedding for `range(A)`.
///
/// # Performance
/// Sketch `O(s·nnz(A) + m·d)`; QR `O(m·d²)`, plus `O(d³)` for the SVD; memory `m·d` (the
/// sketch, factored in place; with ridge, `(m + d)·d` for `[√λI; SA]`, sketched in place too).
pub struct Preconditioner {
    kind: Kind,
    /// `None` for the diagonal preconditioner, which sketches nothing.
    sketch: Option<SparseSign>,
    m: usize,
    d: usize,
    sqrt_lambda: f64,
    /// With a ridge: `‖A‖_F`, or `‖SA‖_F` (within the sketch's distortion of it) for a sketched
    /// preconditioner, which [`structured_tol`] compares with `√λ`; NaN without a ridge.
    a_norm: f64,
    sketch_seconds: f64,
    factor_seconds: f64,
}

/// A summary, not the factors: the factorization, rank, sketch, sizes, ridge and timings (a
/// `d × d` triangle would make a line of megabytes at `d` in the thousands).
impl std::fmt::Debug for Preconditioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preconditioner")
            .field("factorization", &self.factorization())
            .field("rank", &self.rank())
            .field("sketch", &self.sketch)
            .field("sketch_rows", &self.m)
            .field("d", &self.d)
            .field("ridge", &(self.sqrt_lambda * self.sqrt_lambda))
            .field("sketch_seconds", &self.sketch_seconds)
            .field("factor_seconds", &self.factor_seconds)
            .finish()
    }
}

impl Preconditioner {
    /// Sketches `A` and factors the sketch as `params` say (`sketch_rows`, `nnz_per_col`, `seed`,
    /// `factorization`, `rcond`, `ridge`, `par`).
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty `A`; [`Error::InvalidParameter`] for `sketch_rows < d`,
    /// `sketch_rows ≥ 2³¹`, `nnz_per_col = 0` or `> 2²¹` (values above `m` are capped at `m`,
    /// so the default 8 works for sketches of fewer rows), `rcond` outside `(0, 1)`, or `λ < 0`;
    /// [`Error::TooLarge`] when the `m × d` sketch `SA`, or the sketch's work copy of it, cannot
    /// be allocated (a sparse `A` may declare far more columns than it stores, and `m` is not
    /// bounded by `n`: `sketch_rows = 10⁷` on a 2000 × 50 `A` asks for two 4 GB buffers);
    /// [`Error::RankDeficient`] for [`Factorization::Qr`] on a numerically rank-deficient sketch;
    /// [`Error::Factorization`] when the SVD fails.
    pub fn new(a: MatrixRef<'_, f64>, params: &LstsqParams) -> Result<Self> {
        match Self::plan(a, params)? {
            Plan::Diagonal => {
                let data = DataOp::new(a, params.par)?;
                Ok(Self::diagonal(&data, params.ridge))
            }
            Plan::Sketch(sketch) => Self::build(a, sketch, params),
        }
    }

    /// Checks `params` against `A` and makes the sketch (not yet applied): every parameter
    /// error [`new`](Self::new) can give, before any work on `A`.
    pub(crate) fn plan(a: MatrixRef<'_, f64>, params: &LstsqParams) -> Result<Plan> {
        a.require_nonempty("A")?;
        check_common(0.5, 1, params.ridge)?;
        if !(params.rcond > 0.0 && params.rcond < 1.0) {
            return Err(Error::param(
                "rcond",
                format!("must be in (0, 1), got {}", params.rcond),
            ));
        }
        if params.factorization == Factorization::Diagonal {
            return Ok(Plan::Diagonal);
        }
        let (n, d) = (a.nrows(), a.ncols());
        let m = params.sketch_rows.unwrap_or_else(|| {
            let sparse = matches!(a, MatrixRef::Sparse(_));
            default_sketch_rows(n, d, a.nnz(), sparse, params.tol)
        });
        if m < d {
            return Err(Error::param(
                "sketch_rows",
                format!("the sketch needs at least d = {d} rows, got {m}"),
            ));
        }
        if m >= 1 << 31 {
            // Named here, after the parameter the caller sets (or left at its default), rather
            // than as the sketch constructor's `rows`.
            let chosen = match params.sketch_rows {
                Some(_) => String::new(),
                None => format!(", the default for A's d = {d} columns"),
            };
            return Err(Error::param(
                "sketch_rows",
                format!("m = {m}{chosen} must be below 2^31 (32-bit row indices)"),
            ));
        }
        Ok(Plan::Sketch(SparseSign::new(
            m,
            n,
            params.nnz_per_col.min(m),
            params.seed.derive(super::SKETCH_STREAM),
        )?))
    }

    /// Applies the planned `sketch` to `A` and factors `SA` (or `[√λI; SA]`).
    fn build(a: MatrixRef<'_, f64>, sketch: SparseSign, params: &LstsqParams) -> Result<Self> {
        let (m, d) = (sketch.nrows(), a.ncols());
        let par = params.par;
        let t = Instant::now();
        // CSR input goes to the row kernel as it is. (A CSC copy for the column kernel was faster
        // on the earlier VM, 0.28 s against 0.72 s of CPU on the 200 000 × 500 illmix problem;
        // on the current one, 2026-12-01, the copy alone costs 50 ms and copy + column kernel
        // 125 ms against 82 ms for the row kernel on 2 threads, 173 ms against 144 ms on one.)
        let sqrt_lambda = params.ridge.sqrt();
        let mut a_norm = f64::NAN;
        let sa = if params.ridge > 0.0 {
            // [√λI; SA], with SA sketched straight into the bottom rows (`apply` is the same
            // accumulation into zeros, so the bits are those of `sketch.apply(a)`). The rows of
            // √λI come first, as in `qr_solve` (Powell–Reid row ordering): with λ far above
            // ‖A‖² and SA on top, Householder QR lost SA's entries in `(SA)_jj ± √λ`, and the
            // warm start came out 10¹⁶ times too large at λ = 10¹⁰⁰ (3000 × 40 Gaussian).
            // d ≤ m < 2³¹ (checked above), so m + d does not overflow.
            let mut aug =
                crate::input::zeros_or_too_large::<f64>(m + d, d, "sketched ridge matrix")?;
            sketch.apply_block_into(0, a, aug.as_mut().subrows_mut(d, m), par)?;
            let col_norms: Vec<f64> = (0..d).map(|j| norm2(&aug.col_as_slice(j)[d..])).collect();
            a_norm = super::ops::norm_of(&col_norms);
            for j in 0..d {
                aug[(j, j)] = sqrt_lambda;
            }
            aug
        } else {
            sketch.apply(a, par)?
        };
        // Entries of A near f64::MAX can overflow the sketch: the sparse sign sketch checks its
        // output and says so (Error::NonFinite), rather than the rank deficiency or the SVD
        // failure a factorization of ±∞ would report.
        let sketch_seconds = t.elapsed().as_secs_f64();
        let t = Instant::now();
        // Par::Seq: faer's blocked QR is not bitwise reproducible across thread counts. The
        // sketch is factored in place (no copy of the m × d matrix); when the SVD is needed it is
        // that of the d × d triangle, which has the singular values and right singular vectors
        // of SA (Householder QR is backward stable, so they are as accurate as an SVD of SA).
        // Caveat: faer's unpivoted QR leaves out a column whose part orthogonal to the earlier
        // ones is below 16·m·ε of its norm, which zeroes a row of R; faer's SVD of SA factors
        // it by the same QR first, so it drops that direction too (checked on 4000 × 3 with a
        // relative gap of 10⁻¹²: σ_min 4·10⁻²³ instead of ≈ 2.6·10⁻¹¹). See `LstsqParams::rcond`.
        let qr = HouseholderQr::new(sa, Par::Seq);
        let r = qr.r();
        let use_qr = match params.factorization {
            Factorization::Svd => false,
            _ => triangular_condition_estimate(r.as_ref()) * params.rcond <= 1.0,
        };
        let kind = if use_qr {
            Kind::Qr { qr, r }
        } else if params.factorization == Factorization::Qr {
            let rmax = (0..d).fold(0.0f64, |acc, i| acc.max(r[(i, i)].abs()));
            let rank = (0..d)
                .filter(|&i| r[(i, i)].abs() > params.rcond * rmax)
                .count();
            return Err(Error::RankDeficient {
                rank: rank.min(d - 1),
                required: d,
            });
        } else {
            let svd = crate::dense::thin_svd(r.as_ref()).map_err(|e| Error::Factorization {
                reason: format!("SVD of the sketched matrix's triangle: {e:?}"),
            })?;
            let sv = svd.s;
            let smax = sv.first().copied().unwrap_or(0.0);
            let rank = sv.iter().filter(|&&s| s > params.rcond * smax).count();
            if rank == 0 {
                return Err(Error::RankDeficient {
                    rank: 0,
                    required: 1,
                });
            }
            Kind::Svd {
                qr,
                u_r: svd.u.subcols(0, rank).to_owned(),
                s: sv[..rank].to_vec(),
                v: svd.v.subcols(0, rank).to_owned(),
            }
        };
        Ok(Preconditioner {
            kind,
            sketch: Some(sketch),
            m,
            d,
            sqrt_lambda,
            a_norm,
            sketch_seconds,
            factor_seconds: t.elapsed().as_secs_f64(),
        })
    }

    /// The diagonal preconditioner of [`Factorization::Diagonal`]: `N = D⁻¹` where `D_j` is the
    /// norm of column `j` of `[A; √λI]` (scale-safe), or 1 when that norm is 0 or its inverse
    /// is out of range: LSQR on the column-equilibrated problem. (Powers of two near the norms
    /// would make the scaling exact, but leave column norms up to 2× apart: on the peers'
    /// column-scaled `sparse_ls_ill` that took 23 iterations instead of 9.)
    ///
    /// # Performance
    /// One pass over `A` (its column sums of squares), no sketch.
    pub(crate) fn diagonal(data: &DataOp<'_>, ridge: f64) -> Self {
        let norms = ColumnNorms::new(data, data.col_norms_sq(), ridge);
        Self::diagonal_with_fallbacks(norms, ridge).0
    }

    /// [`diagonal`](Self::diagonal) from the column norms of `[A; √λI]`, and
    /// whether every `D_j` is the column's norm (none is the fallback 1 of a zero or
    /// out-of-range norm).
    fn diagonal_with_fallbacks(col_norms: ColumnNorms, ridge: f64) -> (Self, bool) {
        let mut exact = true;
        let inv = col_norms
            .augmented
            .into_iter()
            .map(|norm| {
                let inv = 1.0 / norm;
                if (f64::MIN_POSITIVE..=1.0 / f64::MIN_POSITIVE).contains(&inv) {
                    inv
                } else {
                    exact = false;
                    1.0
                }
            })
            .collect();
        (Self::inverse_diagonal(inv, ridge, col_norms.a_norm), exact)
    }

    /// The probe's preconditioner ([`LstsqParams::probe`]): [`diagonal`](Self::diagonal) when
    /// the column norms of `[A; √λI]` differ by more than [`EQUILIBRATE_ABOVE`] and all of them
    /// are usable (no zero column, no norm out of range: then `A·D⁻¹` has unit columns, which
    /// [`full_rank_certified`] relies on), else [`identity`](Self::identity). The first flag
    /// says which; the second whether the ridge alone makes the solution numerically unique
    /// ([`ridge_is_full_rank`]). `col_norms`: the column norms of `[A; √λI]`. Without such a
    /// ridge, norms that differ by `1/rcond` or more are not equilibrated: the certificate's
    /// bound is at least their spread `κ(D)` times `rcond`, so it could never accept the
    /// equilibrated answer (and such an `A` is numerically rank-deficient, `κ(A) ≥ κ(D)`,
    /// whose answer LSQR on `A` itself or the sketch's SVD gives).
    fn for_probe(col_norms: ColumnNorms, params: &LstsqParams) -> (Self, bool, bool) {
        let d = col_norms.augmented.len();
        let a_norm = col_norms.a_norm;
        let unique = ridge_is_full_rank(&col_norms.augmented, params);
        let (diag, exact) = Self::diagonal_with_fallbacks(col_norms, params.ridge);
        let spread = diag.column_norm_spread();
        let certifiable = unique || spread * params.rcond < 1.0;
        if exact && spread > EQUILIBRATE_ABOVE && certifiable {
            (diag, true, unique)
        } else {
            (Self::identity(d, params.ridge, a_norm), false, unique)
        }
    }

    /// `max_j D_j / min_j D_j` of a diagonal preconditioner `N = D⁻¹` (1 for the others).
    fn column_norm_spread(&self) -> f64 {
        match &self.kind {
            Kind::Diagonal { inv } => {
                let (lo, hi) = inv.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
                hi / lo
            }
            _ => 1.0,
        }
    }

    /// No preconditioning (`N = I`, for the probe of [`LstsqParams::probe`]): LSQR on `A`
    /// itself, whose iterates from 0 stay in `range(Aᵀ)`, so that it converges to the
    /// minimum-norm solution as the SVD preconditioner does (a diagonal `N` would give the
    /// solution of minimum `‖N⁻¹x‖` instead when `A` is rank-deficient).
    /// `a_norm`: `‖A‖_F` with a ridge (NaN if unknown).
    pub(crate) fn identity(d: usize, ridge: f64, a_norm: f64) -> Self {
        Self::inverse_diagonal(vec![1.0; d], ridge, a_norm)
    }

    /// `N = diag(inv)`, no sketch.
    fn inverse_diagonal(inv: Vec<f64>, ridge: f64, a_norm: f64) -> Self {
        Preconditioner {
            d: inv.len(),
            kind: Kind::Diagonal { inv },
            sketch: None,
            m: 0,
            sqrt_lambda: ridge.sqrt(),
            a_norm,
            sketch_seconds: 0.0,
            factor_seconds: 0.0,
        }
    }

    /// `σ_max(SA)`, an estimate of `‖A‖₂` within the sketch's distortion (with a ridge,
    /// `σ_max([√λI; SA])`, of `‖[A; √λI]‖₂`), for a sketched preconditioner (`None` for the
    /// diagonal one): the SVD's largest singular value, or [`triangular_norm_estimate`] of `R`.
    fn sketch_norm(&self) -> Option<f64> {
        match &self.kind {
            Kind::Qr { r, .. } => Some(triangular_norm_estimate(r.as_ref())),
            Kind::Svd { s, .. } => s.first().copied(),
            Kind::Diagonal { .. } => None,
        }
    }

    /// `‖AN‖₂` as known before any product with `A`: 1 for a sketched preconditioner (`SAN`
    /// has orthonormal columns, so `‖AN‖ ∈ [1/(1+ε), 1/(1−ε)]` for an ε-embedding; with a
    /// ridge, of `[A; √λI]N`), 0 (unknown) for the diagonal one.
    fn operator_norm_hint(&self) -> f64 {
        match &self.kind {
            Kind::Qr { .. } | Kind::Svd { .. } => 1.0,
            Kind::Diagonal { .. } => 0.0,
        }
    }

    /// Numerical rank `r` (`d` for the QR and diagonal preconditioners).
    pub fn rank(&self) -> usize {
        match &self.kind {
            Kind::Qr { .. } | Kind::Diagonal { .. } => self.d,
            Kind::Svd { s, .. } => s.len(),
        }
    }

    /// Rows `m` of the sketch (0 for [`Factorization::Diagonal`]).
    pub fn sketch_rows(&self) -> usize {
        self.m
    }

    /// An estimate of `‖SA‖₂` (within the sketch's distortion of `‖A‖₂`) from its factor:
    /// `‖R‖₂` ([`triangular_norm_estimate`]) or, for an SVD factor, the largest singular value;
    /// `None` for the diagonal preconditioner, which factors nothing, and for a non-finite
    /// estimate.
    pub(crate) fn norm_estimate(&self) -> Option<f64> {
        let est = match &self.kind {
            Kind::Qr { r, .. } => triangular_norm_estimate(r.as_ref()),
            Kind::Svd { s, .. } => *s.first()?,
            Kind::Diagonal { .. } => return None,
        };
        est.is_finite().then_some(est)
    }

    /// Which factorization was used.
    pub fn factorization(&self) -> Factorization {
        match self.kind {
            Kind::Qr { .. } => Factorization::Qr,
            Kind::Svd { .. } => Factorization::Svd,
            Kind::Diagonal { .. } => Factorization::Diagonal,
        }
    }

    /// `N` as a dense `d × r` matrix (`R⁻¹` or `V_r Σ_r⁻¹`), for diagnostics: `κ(A·N)` is the
    /// condition number LSQR sees.
    ///
    /// # Performance
    /// `O(d³)` for `R⁻¹`.
    pub fn to_dense(&self) -> Mat<f64> {
        match &self.kind {
            Kind::Qr { r, .. } => {
                let mut inv = Mat::<f64>::identity(self.d, self.d);
                solve_upper_triangular_in_place(r.as_ref(), inv.as_mut(), Par::Seq);
                inv
            }
            Kind::Svd { s, v, .. } => Mat::from_fn(self.d, s.len(), |i, j| v[(i, j)] / s[j]),
            Kind::Diagonal { inv } => {
                Mat::from_fn(self.d, self.d, |i, j| if i == j { inv[i] } else { 0.0 })
            }
        }
    }

    /// `out = N·z`.
    pub(crate) fn apply(&self, z: &[f64], out: &mut [f64]) {
        match &self.kind {
            Kind::Qr { r, .. } => {
                out.copy_from_slice(z);
                let len = out.len();
                let col = MatMut::from_column_major_slice_mut(out, len, 1);
                solve_upper_triangular_in_place(r.as_ref(), col, Par::Seq);
            }
            Kind::Svd { s, v, .. } => {
                let scaled: Vec<f64> = z.iter().zip(s).map(|(zi, si)| zi / si).collect();
                let zc = MatRef::from_column_major_slice(&scaled, scaled.len(), 1);
                let len = out.len();
                let dst = MatMut::from_column_major_slice_mut(out, len, 1);
                matmul(dst, Accum::Replace, v.as_ref(), zc, 1.0, Par::Seq);
            }
            Kind::Diagonal { inv } => {
                for ((o, zi), di) in out.iter_mut().zip(z).zip(inv) {
                    *o = zi * di;
                }
            }
        }
    }

    /// `out = Nᵀ·x`.
    pub(crate) fn apply_t(&self, x: &[f64], out: &mut [f64]) {
        match &self.kind {
            Kind::Qr { r, .. } => {
                out.copy_from_slice(x);
                let len = out.len();
                let col = MatMut::from_column_major_slice_mut(out, len, 1);
                solve_lower_triangular_in_place(r.transpose(), col, Par::Seq);
            }
            Kind::Svd { s, v, .. } => {
                let xc = MatRef::from_column_major_slice(x, x.len(), 1);
                let len = out.len();
                let dst = MatMut::from_column_major_slice_mut(out, len, 1);
                matmul(dst, Accum::Replace, v.transpose(), xc, 1.0, Par::Seq);
                out.iter_mut().zip(s).for_each(|(o, si)| *o /= si);
            }
            Kind::Diagonal { .. } => self.apply(x, out),
        }
    }

    /// The sketch-and-solve solutions `argmin ‖[√λI; SA]X − [0; SB]‖` for the columns of `B`
    /// (zero for the diagonal preconditioner, which has no sketch).
    pub(crate) fn warm_start(&self, b: MatRef<'_, f64>, par: Par) -> Result<Mat<f64>> {
        let Some(sketch) = &self.sketch else {
            return crate::input::zeros_or_too_large::<f64>(self.d, b.ncols(), "warm start");
        };
        let rows = if self.sqrt_lambda > 0.0 {
            self.m + self.d
        } else {
            self.m
        };
        // [0; Sb] (rows as in `[√λI; SA]`), or Sb without a ridge, with Sb sketched straight into
        // the bottom rows (the bits of `sketch.apply(b)`), allocated fallibly like SA.
        let mut sb =
            crate::input::zeros_or_too_large::<f64>(rows, b.ncols(), "sketched right-hand side")?;
        sketch.apply_block_into(
            0,
            MatrixRef::Dense(b),
            sb.as_mut().subrows_mut(rows - self.m, self.m),
            par,
        )?;
        Ok(match &self.kind {
            Kind::Qr { qr, .. } => qr.solve_lstsq(sb, Par::Seq),
            Kind::Svd { qr, u_r, s, v } => {
                let head = qr.qt_head(sb, Par::Seq);
                let mut c = crate::dense::product(u_r.transpose(), head.as_ref());
                for j in 0..c.ncols() {
                    for (i, si) in s.iter().enumerate() {
                        c[(i, j)] /= si;
                    }
                }
                crate::dense::product(v.as_ref(), c.as_ref())
            }
            // Has no sketch, so it returned zeros above; the same answer here.
            Kind::Diagonal { .. } => Mat::zeros(self.d, b.ncols()),
        })
    }
}

/// The preconditioned (and, for ridge, augmented) operator `[A; √λI]·N`, applied matrix-free.
struct PrecondOp<'o, 'a> {
    a: &'o DataOp<'a>,
    pre: &'o Preconditioner,
}

impl LinOp for PrecondOp<'_, '_> {
    fn nrows(&self) -> usize {
        self.a.nrows()
            + if self.pre.sqrt_lambda > 0.0 {
                self.pre.d
            } else {
                0
            }
    }
    fn ncols(&self) -> usize {
        self.pre.rank()
    }
    fn apply(&self, z: &[f64], out: &mut [f64]) {
        let mut t = vec![0.0; self.pre.d];
        self.pre.apply(z, &mut t);
        let n = self.a.nrows();
        self.a.apply(&t, &mut out[..n]);
        for (o, ti) in out[n..].iter_mut().zip(&t) {
            *o = self.pre.sqrt_lambda * ti;
        }
    }
    fn apply_t(&self, y: &[f64], out: &mut [f64]) {
        let n = self.a.nrows();
        let mut t = vec![0.0; self.pre.d];
        self.a.apply_t(&y[..n], &mut t);
        for (ti, yi) in t.iter_mut().zip(&y[n..]) {
            *ti += self.pre.sqrt_lambda * yi;
        }
        self.pre.apply_t(&t, out);
    }
    fn apply_fused(&self, z: &[f64], alpha: f64, u: &mut [f64], out: &mut [f64]) {
        self.apply_fused_scaled(z, alpha, 1.0, u, out);
    }
    /// One fused pass over `A` at any `scale` (the trait's default would apply `A` and `Aᵀ` in
    /// two passes when `scale ≠ 1`, with other bits: a preconditioned `‖AN‖` is near 1, so it
    /// never mattered, but the unpreconditioned probe runs on `A` itself, and on `2⁵²⁰·A` it
    /// stopped one iteration later than on `A`).
    fn apply_fused_scaled(
        &self,
        z: &[f64],
        alpha: f64,
        scale: f64,
        u: &mut [f64],
        out: &mut [f64],
    ) {
        let n = self.a.nrows();
        let sl = self.pre.sqrt_lambda;
        let mut t = vec![0.0; self.pre.d];
        self.pre.apply(z, &mut t);
        let mut acc = vec![0.0; self.pre.d];
        let (top, bottom) = u.split_at_mut(n);
        self.a.apply_fused_scaled(&t, alpha, scale, top, &mut acc);
        for ((ui, ti), ai) in bottom.iter_mut().zip(&t).zip(acc.iter_mut()) {
            *ui = (sl * ti - alpha * *ui) * scale;
            *ai += sl * *ui;
        }
        self.pre.apply_t(&acc, out);
    }
}

/// The augmented residual `[b − Ax; −√λ x]`.
fn aug_residual(op: &PrecondOp<'_, '_>, x: &[f64], b: &[f64]) -> Vec<f64> {
    let n = op.a.nrows();
    let mut r = vec![0.0; op.nrows()];
    op.a.apply(x, &mut r[..n]);
    for (ri, bi) in r[..n].iter_mut().zip(b) {
        *ri = bi - *ri;
    }
    for (ri, xi) in r[n..].iter_mut().zip(x) {
        *ri = -op.pre.sqrt_lambda * xi;
    }
    r
}

/// The column norms of `[A; √λI]` and, with a ridge, `‖A‖_F` (for [`structured_tol`]).
struct ColumnNorms {
    augmented: Vec<f64>,
    a_norm: f64,
}

impl ColumnNorms {
    /// From the squared column norms `sq` of `A` ([`DataOp::col_norms_from_sq`],
    /// [`DataOp::frobenius_from_sq`]); `a_norm` is NaN without a ridge.
    fn new(a: &DataOp<'_>, sq: Vec<f64>, ridge: f64) -> Self {
        let a_norm = if ridge > 0.0 {
            a.frobenius_from_sq(&sq)
        } else {
            f64::NAN
        };
        ColumnNorms {
            augmented: a.col_norms_from_sq(sq, ridge),
            a_norm,
        }
    }
}

/// The first pass of an LSQR run, made before the run: at its starting `x`, the augmented
/// residual `r = [b − Ax; −√λ x]` and `g = Aᵀ(b − Ax) − λx` (the gradient before `Nᵀ`).
struct FirstPass {
    r: Vec<f64>,
    g: Vec<f64>,
}

impl FirstPass {
    /// `r` and `g` at `x` with one fused pass over `A` (`u ← Ax − b`, then `Aᵀu`); `sl = √λ`.
    /// With `col_norms`, also the squared column norms of `A` from the same pass when
    /// [`DataOp::apply_fused_with_col_norms`] can (`None` for a CSR `A` with too many row
    /// chunks × columns, and the pass is the plain one, with the same `r` and `g`).
    fn at(
        a: &DataOp<'_>,
        sl: f64,
        x: &[f64],
        b: &[f64],
        col_norms: bool,
    ) -> (Self, Option<Vec<f64>>) {
        let (n, d) = (a.nrows(), a.ncols());
        let mut r = vec![0.0; n + if sl > 0.0 { d } else { 0 }];
        r[..n].copy_from_slice(b);
        let mut acc = vec![0.0; d];
        let norms = if col_norms {
            a.apply_fused_with_col_norms(x, 1.0, &mut r[..n], &mut acc)
        } else {
            None
        };
        if norms.is_none() {
            a.apply_fused(x, 1.0, &mut r[..n], &mut acc);
        }
        // r_top = Ax − b now, acc = Aᵀ(Ax − b); negation is exact.
        r[..n].iter_mut().for_each(|v| *v = -*v);
        for (ri, xi) in r[n..].iter_mut().zip(x) {
            *ri = -sl * xi;
        }
        let g = acc
            .iter()
            .zip(x)
            .map(|(a, xi)| -a - sl * (sl * xi))
            .collect();
        (FirstPass { r, g }, norms)
    }

    /// The column norms of `[A; √λI]` ([`DataOp::col_norms_from_sq`]) and the first pass of
    /// an LSQR run from `x = 0`, in one pass over `A` (two over a CSR `A` with too many row
    /// chunks × columns, one more for columns whose sums of squares leave the safe range),
    /// bitwise what [`col_norms_sq`](DataOp::col_norms_sq) and [`FirstPass::at`] give
    /// separately: the column norms the probe and the diagonal preconditioner need before
    /// LSQR starts cost no pass of their own.
    fn at_zero_with_col_norms(a: &DataOp<'_>, ridge: f64, b: &[f64]) -> (ColumnNorms, Self) {
        let (first, sq) = Self::at(a, ridge.sqrt(), &vec![0.0; a.ncols()], b, true);
        let sq = sq.unwrap_or_else(|| a.col_norms_sq());
        (ColumnNorms::new(a, sq, ridge), first)
    }

    /// `r` and `(AN)ᵀr = Nᵀg`.
    fn preconditioned(self, pre: &Preconditioner) -> (Vec<f64>, Vec<f64>) {
        let mut out = vec![0.0; pre.rank()];
        pre.apply_t(&self.g, &mut out);
        (self.r, out)
    }
}

/// LSQR with refinement from the warm start `x0`, for one right-hand side.
pub(crate) fn solve_one(
    a: &DataOp<'_>,
    pre: &Preconditioner,
    b: &[f64],
    x: Vec<f64>,
    params: &LstsqParams,
    cb: &mut Callback<'_>,
) -> Result<(Vec<f64>, Info)> {
    solve_one_from(a, pre, b, x, None, params, cb)
}

/// [`solve_one`] whose first pass at `x` (`first`, when `Some`) was made already.
fn solve_one_from(
    a: &DataOp<'_>,
    pre: &Preconditioner,
    b: &[f64],
    mut x: Vec<f64>,
    mut first: Option<FirstPass>,
    params: &LstsqParams,
    cb: &mut Callback<'_>,
) -> Result<(Vec<f64>, Info)> {
    let t = Instant::now();
    let op = PrecondOp { a, pre };
    let bnorm = norm2(b);
    let mut hist = History::default();
    let (mut iterations, mut runs, mut anorm) = (0usize, 0usize, 0.0f64);
    let mut kappa = f64::NAN;
    let mut run_iterations = Vec::new();
    let (mut converged, mut stopped, mut test) = (false, false, 0.0);
    let mut nx = vec![0.0; pre.d];
    // ‖r‖ of the current x when known (a run that made no iteration leaves x unchanged).
    let mut known_rnorm = None;
    // ‖Aᵀr − λx‖ of the current x when known (as ‖r‖).
    let mut known_gnorm = None;
    // After the `refinement_steps` runs asked for, at most EXTRA_REFINEMENT_RUNS more while the
    // answer fails the backward-stability test (sketched preconditioners).
    let mut check = (params.refinement_steps >= 1)
        .then(|| pre.sketch_norm())
        .flatten()
        .map(BackwardCheck::new);
    let extra = if check.is_some() {
        EXTRA_REFINEMENT_RUNS
    } else {
        0
    };
    let last_run = params.refinement_steps.saturating_add(extra);
    for run in 0..=last_run {
        // An overflowed iterate (the warm start or a run's update) is the answer's overflow,
        // not LSQR's failure: a run from it starts at `r = b − A·∞` and gives up with a NaN
        // test value.
        x = super::finite_solution(x, "sketch-and-precondition")?;
        let pass = match first.take() {
            Some(pass) => pass,
            None => FirstPass::at(a, pre.sqrt_lambda, &x, b, false).0,
        };
        let gnorm = norm2(&pass.g);
        let (r, ntr) = pass.preconditioned(pre);
        let rnorm = norm2(&r);
        let ne_tol = structured_tol(pre, params.tol, norm2(&r[..a.nrows()]), norm2(&x), rnorm);
        let cfg = LsqrRun {
            tol: params.tol,
            ne_tol,
            max_iters: params.max_iters,
            damp: 0.0,
            anorm_hint: anorm,
            scale_hint: pre.operator_norm_hint(),
            bnorm,
            run,
            offset: iterations,
        };
        let out = lsqr_run_from(&op, &r, Some(ntr), &cfg, &mut hist, cb);
        runs += 1;
        iterations += out.iterations;
        run_iterations.push(out.iterations);
        anorm = out.anorm;
        if kappa.is_nan() {
            kappa = bidiagonal_condition(&out.alphas, &out.betas);
        }
        // Whether the run moved `x` at all: an update below half an ulp of every entry (a
        // solution that underflows, `‖A⁺b‖` below the smallest subnormal) leaves it as it was.
        let moved = out.iterations > 0 && {
            pre.apply(&out.z, &mut nx);
            x.iter().zip(&nx).any(|(xi, di)| *xi + di != *xi)
        };
        if moved {
            (known_rnorm, known_gnorm) = (None, None);
            super::ops::axpy(1.0, &nx, &mut x);
        } else {
            (known_rnorm, known_gnorm) = (Some(rnorm), Some(gnorm));
        }
        converged = out.converged;
        stopped = out.stopped_by_callback;
        test = out.test_value;
        if stopped {
            break;
        }
        if !converged {
            return Err(Error::NotConverged {
                iterations,
                residual: test,
                tolerance: params.tol,
                history: hist.normal_eq,
                rounding_floor: None,
            });
        }
        // A refinement run that left `x` as it was (no iteration, or an update that vanished in
        // rounding) would be repeated exactly by every further run (`refinement_steps = 2^40`
        // on a well-conditioned problem looped for hours before this; on an ill-conditioned one
        // every run moves `x`, and the runs asked for are all made).
        if run >= 1 && !moved {
            // After an extra run, `x` is the answer the check judged last, which need not be the
            // best it judged (a run may lower the excess by growing `‖x‖` while `‖Aᵀr‖` rises):
            // the check chooses, as after the last run allowed.
            if let Some(check) = check.as_mut().filter(|_| run > params.refinement_steps) {
                (x, known_rnorm, known_gnorm) =
                    match check.judge_norms(x, rnorm, gnorm, bnorm, true) {
                        Verdict::Done { x, rnorm, gnorm } => (x, Some(rnorm), Some(gnorm)),
                        Verdict::Refine(x) => (x, known_rnorm, known_gnorm),
                    };
            }
            break;
        }
        if let Some(check) = check.as_mut().filter(|_| run >= params.refinement_steps) {
            x = super::finite_solution(x, "sketch-and-precondition")?;
            let pass = FirstPass::at(a, pre.sqrt_lambda, &x, b, false).0;
            match check.judge(x, &pass, bnorm, run == last_run) {
                Verdict::Done {
                    x: best,
                    rnorm,
                    gnorm,
                } => {
                    x = best;
                    (known_rnorm, known_gnorm) = (Some(rnorm), Some(gnorm));
                    break;
                }
                Verdict::Refine(current) => {
                    x = current;
                    first = Some(pass);
                }
            }
        }
    }
    let residual_norm = match known_rnorm {
        Some(rn) => rn,
        None => norm2(&aug_residual(&op, &x, b)),
    };
    if converged && !stopped {
        check_sketched_rank(a, pre, (&x, b), (residual_norm, known_gnorm, bnorm), params)?;
    }
    let info = Info {
        iterations,
        probe_iterations: 0,
        runs,
        run_iterations,
        residual_history: hist.residual,
        normal_eq_history: hist.normal_eq,
        kappa_estimate: kappa,
        rank: pre.rank(),
        factorization: Some(pre.factorization()),
        sketch_rows: pre.m,
        converged: converged && !stopped,
        stopped_by_callback: stopped,
        stopping_value: test,
        tol: params.tol,
        residual_norm,
        timings: Timings {
            sketch: pre.sketch_seconds,
            factor: pre.factor_seconds,
            iterate: t.elapsed().as_secs_f64(),
            probe: 0.0,
            total: 0.0,
        },
    };
    Ok((x, info))
}

/// Refinement runs that [`solve_one`] adds, at most, after the `refinement_steps` runs asked for,
/// while the answer fails [`BackwardCheck`]'s test and each run still halves its excess. On a
/// sparse `κ = 10¹²` problem (30 sketch seeds) one refinement run left the normal-equation
/// residual up to 61× that of a Householder QR solve; two runs always, 4.3× at most; one run
/// and this check, 8.0× at most, with an extra run on 9 of the 30 seeds.
const EXTRA_REFINEMENT_RUNS: usize = 2;

/// The backward-stability test of a sketched solve, made after the refinement runs asked for:
/// `‖Aᵀr‖ ≤ u·σ·(‖r‖ + σ‖x‖ + ‖b‖)` with `σ = σ_max(SA) ≈ ‖A‖₂` and `u = 2⁻⁵³`. With a ridge
/// it is the test of the augmented problem `[A; √λI]x ≈ [b; 0]`: `Aᵀr − λx` for `Aᵀr`, the
/// augmented residual `[b − Ax; −√λx]` for `r`, and `σ = σ_max([√λI; SA])`.
///
/// An `x` that exactly solves a problem whose data `A`, `b` are perturbed by `δA`, `δb`
/// (`‖δA‖ ≤ εσ`, `‖δb‖ ≤ ε‖b‖`) has, to first order, `Aᵀr = Aᵀ(δA·x − δb) − δAᵀr` of norm at
/// most `εσ(‖r‖ + σ‖x‖ + ‖b‖)`: an answer above that with `ε = u` is not the exact answer of a
/// problem `u`-close to the data. (Below it, the test cannot tell; `‖Aᵀr‖/(σ‖r‖)` itself
/// bounds the backward error, as `δA = r(Aᵀr)ᵀ/‖r‖²` shows.) With one refinement run the
/// normal-equation residual on an ill-conditioned problem (`κ = 10¹²`, `‖r‖/‖b‖ = 10⁻³`)
/// ranged from 0.1× to 61× that of a Householder QR solve over the sketch seeds, and the
/// answers above this test's level were the ones far above QR's; QR's own answer met it with
/// room to spare (0.15 of the level). A further run from the recomputed residual brings them
/// down. The test also fails some answers whose `‖Aᵀr‖` is near its own rounding level (the
/// same sparse generator at `‖r‖/‖b‖ = 0.1`: 0 to 15 of 30 seeds per cell at `κ` from 10⁴ to
/// 10¹², normal-equation residuals near `10⁻¹⁵`), where the extra run costs 2–12 iterations and
/// gains up to 2×; with a ridge, on a problem as well conditioned as `κ([A; √λI]) ≈ 10³` at
/// `‖r‖/‖b‖ = 1`, on every seed, for 1–2 iterations (residuals 12–77× QR's before, 3.0–15.6×
/// after; `tests/lstsq_review6.rs`). Where `‖Aᵀr‖` itself leaves the range of `f64` (`A` and
/// `b` scaled by `2^±600` on that problem, `‖Aᵀr‖ ≈ 2^±1200·10⁻³`: ∞ or 0), the test is not
/// applied (excess 0), and the answer is the one after the runs asked for.
///
/// A small ridge leaves the augmented problem as ill-conditioned as `A`: on the same sparse
/// `κ = 10¹²`, `‖r‖/‖b‖ = 10⁻³` problem with `λ` from `10⁻³⁰` to `10⁻²⁰` (around
/// `σ_min² = 10⁻²⁴`), one refinement run left the augmented normal-equation residual up to 15×
/// that of a Householder QR solve of the ridge problem, and the check brought it within 6.0×
/// (extra runs on 3–15 of 30 seeds per `λ`); at `‖r‖/‖b‖ = 0.1`, `λ = 10⁻³⁰`, from 62× to 21×,
/// every answer then below the level (QR's own answer sits at 0.16 of it there).
struct BackwardCheck {
    sigma: f64,
    /// The excess of the last answer judged (∞ before the first).
    previous_excess: f64,
    /// Of the answers judged, the one with the smallest normal-equation residual, with its
    /// `‖r‖` and `‖Aᵀr‖`.
    best: Option<(Vec<f64>, f64, f64)>,
}

/// `‖Aᵀr‖/‖r‖` (0 for `r = 0`), the normal-equation residual up to the common factor `1/σ`,
/// with the exponents taken out: the answers [`BackwardCheck::judge`] chooses from are compared
/// by it.
fn ner_key(rnorm: f64, gnorm: f64) -> f64 {
    if rnorm > 0.0 {
        super::ops::quotient(gnorm, 1.0, rnorm, 1.0)
    } else {
        0.0
    }
}

/// What [`BackwardCheck::judge`] decided.
enum Verdict {
    /// Stop, with this answer (the best judged) and its `‖r‖`, `‖Aᵀr‖`.
    Done { x: Vec<f64>, rnorm: f64, gnorm: f64 },
    /// Run again from this answer (handed back).
    Refine(Vec<f64>),
}

impl BackwardCheck {
    fn new(sigma: f64) -> Self {
        BackwardCheck {
            sigma,
            previous_excess: f64::INFINITY,
            best: None,
        }
    }

    /// `‖Aᵀr‖ / (u·σ·(‖r‖ + σ‖x‖ + ‖b‖))`: at most 1 passes. Computed as the inverse of
    /// `u·(σ‖r‖/g + (σ‖x‖/g)·σ + σ‖b‖/g)` (`g = ‖Aᵀr‖`) with each quotient's exponents taken out,
    /// so that it does not change when `A` and `b` are scaled by powers of two (a level or
    /// `σ²‖x‖` far out of range would otherwise decide the extra runs). 0 (the test not applied)
    /// when it is not a finite number (`g = 0` included) or `σ` is not positive and finite.
    fn excess(&self, gnorm: f64, rnorm: f64, xnorm: f64, bnorm: f64) -> f64 {
        use super::ops::quotient;
        let (u, s) = (f64::EPSILON / 2.0, self.sigma);
        if !(s > 0.0 && s.is_finite()) {
            return 0.0;
        }
        let terms = quotient(s, rnorm, gnorm, 1.0)
            + quotient(s, xnorm, gnorm, 1.0) * s
            + quotient(s, bnorm, gnorm, 1.0);
        let excess = 1.0 / (u * terms);
        if excess.is_finite() {
            excess
        } else {
            0.0
        }
    }

    /// Judges the answer `x` after a run (`pass`: `r` and `g = Aᵀr` at `x`). Stops when it
    /// passes, when `last`, or when its excess is not below half the previous answer's (the
    /// runs have stalled at the problem's rounding level); then hands back, of all the answers
    /// judged, the one with the smallest normal-equation residual `‖Aᵀr‖/(σ‖r‖)` (the latest on
    /// a tie), so the answer is never worse by that measure than the one after the runs asked
    /// for. The excess decides whether to go on, the residual which answer to keep: a run may
    /// lower the excess by inflating `‖x‖` along directions the problem barely determines,
    /// without lowering `‖Aᵀr‖` (a sparse `κ = 10¹²`, `‖r‖/‖b‖ = 0.1` problem: `‖x‖` 10× larger,
    /// excess 1.66 → 0.20, residual 1.16× higher), and the earlier answer is then the better one.
    fn judge(&mut self, x: Vec<f64>, pass: &FirstPass, bnorm: f64, last: bool) -> Verdict {
        self.judge_norms(x, norm2(&pass.r), norm2(&pass.g), bnorm, last)
    }

    /// [`judge`](Self::judge) given `‖r‖` and `‖Aᵀr‖` at `x`.
    fn judge_norms(
        &mut self,
        x: Vec<f64>,
        rnorm: f64,
        gnorm: f64,
        bnorm: f64,
        last: bool,
    ) -> Verdict {
        let excess = self.excess(gnorm, rnorm, norm2(&x), bnorm);
        let stop = excess <= 1.0 || excess > 0.5 * self.previous_excess || last;
        self.previous_excess = excess;
        let better = |best: &(Vec<f64>, f64, f64)| ner_key(rnorm, gnorm) <= ner_key(best.1, best.2);
        if stop {
            return match self.best.take() {
                Some(best) if !better(&best) => Verdict::Done {
                    x: best.0,
                    rnorm: best.1,
                    gnorm: best.2,
                },
                _ => Verdict::Done { x, rnorm, gnorm },
            };
        }
        if self.best.as_ref().is_none_or(better) {
            self.best = Some((x.clone(), rnorm, gnorm));
        }
        Verdict::Refine(x)
    }
}

/// The tolerance of LSQR's normal-equation test for a run from `x` (`rtop = ‖b − Ax‖`,
/// `rbar = ‖[b − Ax; −√λx]‖`): `tol·min(1, √2·ρ)` with
///
/// `ρ = (‖A‖·‖b − Ax‖ + (‖A‖² + λ)·‖x‖) / (‖Ā‖·‖r̄‖)`, `Ā = [A; √λI]`, `‖Ā‖² = ‖A‖² + λ`
///
/// (`‖A‖` estimated by `‖A‖_F`, or by `‖SA‖_F` on the sketched route), and `tol` without a ridge.
///
/// LSQR's test `‖Āᵀr̄‖ ≤ tol·‖Ā‖·‖r̄‖` bounds the backward error of the augmented problem, which
/// may perturb the block `√λI` as much as `A`. The ridge problem's own backward error (relative
/// perturbations of `A`, `b` and `λ` of size `tol`; to first order `g = Aᵀr − λx` changes by
/// `δAᵀr − AᵀδA·x − δλ·x`) is met when `‖g‖ ≤ tol·(‖A‖‖r‖ + (‖A‖² + λ)‖x‖)`, which is the
/// test above scaled by `ρ`. By Cauchy–Schwarz `ρ ≤ 1` exactly when the structured test is the
/// tighter one, and `ρ ≥ ‖A‖/‖Ā‖ ≥ 1/√2` whenever `λ ≤ ‖A‖²` (the ratio of a positive linear
/// form to a Euclidean norm is least on the boundary of the quadrant `‖r‖, ‖x‖ ≥ 0`), so with
/// the factor `√2` every run with `λ ≤ ‖A‖²` keeps the tolerance `tol`. For `λ ≫ ‖A‖²`, `ρ ≈
/// 2‖A‖/√λ`: the augmented test then allows a forward error of `tol·√λ/‖A‖` (a 2000 × 10
/// Gaussian `A`: 2.5·10⁻¹⁰ at `λ = 10⁶` with `tol = 10⁻¹²`, 2·10⁻² at `λ = 10¹⁰⁰`, reported as
/// converged), while the structured one keeps it near `tol` times the problem's condition.
/// The gradient is computed to `≈ u·(‖A‖‖b‖ + (‖A‖² + λ)‖x‖)`, so the test is attainable for
/// `tol` above a few `u`. `ρ` is taken at the start of each run; from `x = 0` it is at most
/// twice too small, which only costs an iteration.
fn structured_tol(pre: &Preconditioner, tol: f64, rtop: f64, xnorm: f64, rbar: f64) -> f64 {
    if pre.sqrt_lambda == 0.0 || rbar == 0.0 {
        return tol;
    }
    let hyp = super::ops::norm_of(&[pre.a_norm, pre.sqrt_lambda]);
    // (‖A‖/‖Ā‖)·(‖r‖/‖r̄‖) + ‖Ā‖·(‖x‖/‖r̄‖), each factor in range (‖x‖/‖r̄‖ ≤ 1/√λ).
    let rho = (pre.a_norm / hyp) * (rtop / rbar) + hyp * (xnorm / rbar);
    if rho.is_finite() {
        tol * (std::f64::consts::SQRT_2 * rho).min(1.0)
    } else {
        tol
    }
}

/// With the SVD preconditioner of rank `r < d` (the sketch found `A` rank-deficient), LSQR's
/// test sees `Aᵀr` only through `Nᵀ = Σ_r⁻¹V_rᵀ`: when the sketch missed a direction of
/// `range(Aᵀ)` (a sketch of too few rows, e.g. `m = d` on a small `A`: not a subspace
/// embedding) the answer would pass that test and still be wrong. So the true
/// `‖Aᵀr‖/(σ_max(SA)·‖r‖)` is checked (`gnorm` = `‖Aᵀr‖` at `x` when known, else one more pass):
/// above `100·max(tol, rcond)`, and above its rounding floor `100·u·(σ_max‖x‖ + ‖b‖)/‖r‖` (the
/// computed `r = b − Ax` carries an error of about `u·(‖A‖‖x‖ + ‖b‖)`, whose image under `Aᵀ`
/// no answer can get below: on a rank-deficient `A` with `‖r‖/‖b‖` between `10⁻¹⁰` and `10⁻⁶`
/// the ratio at the exact solution was `10⁻⁸`–`10⁻¹¹`, and such problems were refused), it is an
/// [`Error::Factorization`]. (For a rank-deficient `A` the directions outside `V_r` carry at
/// most `≈ rcond·‖A‖‖r‖` of `Aᵀr`.) Nothing to check for the
/// other preconditioners, a ridge (full rank) or `r = 0` (`x = 0`, `Aᵀb` of that size checked),
/// nor when the answer meets the consistency test `‖r‖ ≤ 100·max(tol, rcond)·‖b‖`: then `r` is
/// rounding, whose `Aᵀr` points anywhere (the ratio was ≈ 0.6 on a consistent rank-deficient
/// or wide system), and `x ∈ range((SA)ᵀ) ⊆ range(Aᵀ)` solving `Ax ≈ b` is the minimum-norm
/// solution to that accuracy whether or not the sketch saw all of `range(Aᵀ)`.
fn check_sketched_rank(
    a: &DataOp<'_>,
    pre: &Preconditioner,
    (x, b): (&[f64], &[f64]),
    (rnorm, gnorm, bnorm): (f64, Option<f64>, f64),
    params: &LstsqParams,
) -> Result<()> {
    let Kind::Svd { s, .. } = &pre.kind else {
        return Ok(());
    };
    if s.len() == pre.d || pre.sqrt_lambda > 0.0 || rnorm == 0.0 {
        return Ok(());
    }
    let limit = 100.0 * params.tol.max(params.rcond);
    if super::ops::at_most_times(rnorm, limit, bnorm) {
        return Ok(());
    }
    let gnorm = gnorm.unwrap_or_else(|| norm2(&FirstPass::at(a, 0.0, x, b, false).0.g));
    let sigma_max = s.first().copied().unwrap_or(0.0);
    let ner = super::ops::quotient(gnorm, 1.0, sigma_max, rnorm);
    // 100·u·(σ_max‖x‖ + ‖b‖)/‖r‖, each term scaled so that neither product over- nor underflows.
    let floor = 100.0
        * f64::EPSILON
        * (super::ops::quotient(sigma_max, norm2(x), rnorm, 1.0)
            + super::ops::quotient(bnorm, 1.0, rnorm, 1.0));
    // A NaN figure is not a pass.
    if ner <= limit.max(floor) {
        return Ok(());
    }
    Err(Error::Factorization {
        reason: format!(
            "the sketch of {} rows found rank {} < {}, but A has more: ‖Aᵀr‖/(σ_max(SA)·‖r‖) = \
             {:.2e} > {:.1e} at the answer (the sketch is not a subspace embedding of A; \
             use more sketch rows)",
            pre.m,
            s.len(),
            pre.d,
            ner,
            limit.max(floor),
        ),
    })
}

/// The probe continues only while it is predicted to cost less than this share of the sketched
/// solve (in passes over `A`, by the cost model): the cost model is rough, and a probe that gives
/// up late wastes what it spent.
const PROBE_BUDGET_SHARE: f64 = 0.5;

/// Column norms of `[A; √λI]` further apart than this factor make the probe run LSQR on the
/// column-equilibrated `A·D⁻¹` ([`Preconditioner::diagonal`]) instead of on `A`: badly scaled
/// columns (features in different units) are the ill-conditioning a diagonal undoes, and LSQR's
/// iterations grow with the condition number they add. Below it `A` itself is used, whose LSQR
/// iterates keep the minimum-norm solution of a rank-deficient `A` without further checks.
const EQUILIBRATE_ABOVE: f64 = 10.0;

/// Whether the ridge `λ` alone makes `[A; √λI]` of full numerical rank at `rcond`:
/// `‖[A; √λI]‖_F·rcond ≤ √λ` (`col_norms` its column norms), which bounds
/// `κ([A; √λI]) ≤ ‖[A; √λI]‖_F/√λ` by `1/rcond`. Then the equilibrated probe's answer is the
/// ridge solution whatever the rank of `A`. A smaller `λ > 0` does not: on a rank-deficient `A`
/// the ridge solution is the minimum-norm one to within `O(λ)`, while LSQR on `[A; √λI]·D⁻¹`
/// meets its tolerance at the solution of minimum `‖Dx‖` long before `λ` matters (`λ = 10⁻³⁰`
/// on a 2000 × 12 `A` with two repeated columns scaled over three decades: 7.5% from the ridge
/// solution, against 2·10⁻¹⁵ for the sketched solve, which treats `[√λI; SA]` as
/// rank-deficient), so the answer needs the certificate as without ridge.
fn ridge_is_full_rank(col_norms: &[f64], params: &LstsqParams) -> bool {
    params.ridge > 0.0 && {
        let fro = norm2(col_norms);
        fro.is_finite() && super::ops::at_most_times(fro * params.rcond, 1.0, params.ridge.sqrt())
    }
}

/// Stream of [`Seed::derive`](crate::Seed::derive) for the CountSketch of
/// [`full_rank_certified`] (the preconditioner's sketch uses [`super::SKETCH_STREAM`]).
const CERTIFICATE_STREAM: u64 = 0x42;

/// Stream of [`Seed::word`](crate::Seed::word) for the row sample of [`full_rank_certified`].
const CERTIFICATE_SAMPLE_STREAM: u64 = 0x43;

/// Whether `A` is certified to have full numerical column rank, so that the answer of the
/// equilibrated probe (LSQR on `A·D⁻¹`, `N = D⁻¹` with unit columns `AN`) is the unique
/// least-squares solution. Without it a rank-deficient `A` would get the solution of minimum
/// `‖Dx‖` rather than the minimum-norm one the sketched solve gives.
///
/// For a matrix `S` with `SAN = QR`: `‖AN‖ ≤ √d` and `σ_min(SAN) ≤ ‖S‖·σ_min(AN)` give
/// `κ(A) ≤ κ(AN)·κ(D) ≤ √d·‖S‖·‖R⁻¹‖·κ(D)`, with `‖R⁻¹‖` estimated as `κ̂(R)/max_j ‖Re_j‖`
/// (`κ̂` the power-iteration estimate the QR path uses). Certified when that bound is at most
/// `1/rcond`, the condition at which the sketched solve would switch to the truncated SVD.
/// `rank(SA) ≤ rank(A)` for every `S`, so a rank-deficient `A` is never certified. Two `S` are
/// tried, the cheap one first:
/// 1. a row sample ([`certificate_sample`]): distinct rows, so `‖S‖ = 1`, and only the `≈ 2d`
///    sampled rows are read. It misses on sparse or coherent `A` (a column whose few entries
///    are not sampled leaves `SAN` rank-deficient), hence
/// 2. a CountSketch (`s = 1`) of `m = 2d` rows, `L` the most rows of `A` it sends to one row, so
///    `‖S‖ = √L`: every row counts; a coherent `A` (rows that it adds together) may still fail.
///
/// Not certified, the sketched solve runs. Any failure to allocate also counts as not certified.
///
/// # Performance
/// The sample: `n` hashes, `≈ 2d` rows copied, a sequential QR of them (`≈ 3.3·d³` flops). The
/// CountSketch, only when the sample does not certify: one update per stored entry of `A` into a
/// `2d × d` output, `n` hashes for the loads, and another such QR. Both far less than the
/// preconditioner's `s = 8` sketch of `4d`–`16d` rows; the sample saves the pass over `A`.
fn full_rank_certified(
    a: MatrixRef<'_, f64>,
    data: &DataOp<'_>,
    pre: &Preconditioner,
    params: &LstsqParams,
) -> bool {
    certified_by_sample(data, pre, params) || certified_by_count_sketch(a, pre, params)
}

/// `√d·‖S‖·‖R⁻¹‖·κ(D) ≤ 1/rcond` for `SAN = QR` given `SAN` (at least `d` rows; else `false`)
/// and `‖S‖² = norm_s_sq`: the test of [`full_rank_certified`].
fn certificate_bound_holds(
    san: Mat<f64>,
    norm_s_sq: f64,
    pre: &Preconditioner,
    params: &LstsqParams,
) -> bool {
    let d = san.ncols();
    if san.nrows() < d {
        return false;
    }
    let r = HouseholderQr::new(san, Par::Seq).r();
    let r_norm = (0..d).fold(0.0f64, |acc, j| acc.max(r.col(j).norm_l2()));
    let bound = (d as f64 * norm_s_sq).sqrt() * triangular_condition_estimate(r.as_ref()) / r_norm;
    bound * pre.column_norm_spread() * params.rcond <= 1.0
}

/// [`full_rank_certified`]'s first try: `S` the row sample of [`certificate_sample`].
fn certified_by_sample(data: &DataOp<'_>, pre: &Preconditioner, params: &LstsqParams) -> bool {
    let Kind::Diagonal { inv } = &pre.kind else {
        return false;
    };
    let rows = certificate_sample(data.nrows(), data.ncols(), params.seed);
    data.gather_rows(&rows, inv)
        .is_some_and(|san| certificate_bound_holds(san, 1.0, pre, params))
}

/// [`full_rank_certified`]'s second try: `S` a CountSketch of `2d` rows.
fn certified_by_count_sketch(
    a: MatrixRef<'_, f64>,
    pre: &Preconditioner,
    params: &LstsqParams,
) -> bool {
    let Kind::Diagonal { inv } = &pre.kind else {
        return false;
    };
    let (n, d) = (a.nrows(), a.ncols());
    let m = d.saturating_mul(2);
    if m >= 1 << 31 {
        return false;
    }
    let Ok(sketch) = SparseSign::new(m, n, 1, params.seed.derive(CERTIFICATE_STREAM)) else {
        return false;
    };
    let Ok(mut san) = sketch.apply(a, params.par) else {
        return false;
    };
    for (j, &s) in inv.iter().enumerate() {
        san.col_mut(j).iter_mut().for_each(|v| *v *= s);
    }
    let mut load = vec![0u32; m];
    let mut code = [0u32; 1];
    for i in 0..n {
        sketch.encode_column(i, &mut code);
        load[(code[0] >> 1) as usize] += 1;
    }
    let most = load.iter().copied().max().unwrap_or(0) as f64;
    certificate_bound_holds(san, most, pre, params)
}

/// The rows of [`full_rank_certified`]'s sample, ascending: every row when `n ≤ 2d`, else each
/// row independently with probability `2d/n` (a word of `seed`'s stream
/// [`CERTIFICATE_SAMPLE_STREAM`] per row index, so the sample does not depend on the threads),
/// stopping at `3d` rows.
fn certificate_sample(n: usize, d: usize, seed: crate::Seed) -> Vec<usize> {
    let target = d.saturating_mul(2);
    if n <= target {
        return (0..n).collect();
    }
    // p·2⁶⁴ with p = 2d/n < 1 (the cast saturates, never wraps).
    let threshold = (target as f64 / n as f64 * 2f64.powi(64)) as u64;
    let cap = d.saturating_mul(3);
    let mut rows = Vec::new();
    for i in 0..n {
        if seed.word(CERTIFICATE_SAMPLE_STREAM, i as u64) < threshold {
            rows.push(i);
            if rows.len() >= cap {
                break;
            }
        }
    }
    rows
}

/// How the unpreconditioned probe ended.
enum ProbeEnd {
    /// Converged, or stopped by the caller's callback: the answer.
    Solved(Vec<f64>, Box<Info>),
    /// Gave up after this many iterations: sketch.
    GaveUp { iterations: usize },
}

/// Iterations still needed to bring the stopping test from the last value of `tests` (one
/// LSQR run's, one per iteration) to `tol`, at the geometric rate of its last four steps;
/// `∞` when it is not falling, 0 when fewer than two values are known.
fn predicted_iterations(tests: &[f64], tol: f64) -> f64 {
    let k = tests.len();
    let w = k.saturating_sub(1).min(4);
    if w == 0 {
        return 0.0;
    }
    let (first, last) = (tests[k - 1 - w], tests[k - 1]);
    if last.is_nan() || last <= tol {
        return 0.0;
    }
    let rate = (last / first).powf(1.0 / w as f64);
    if rate.is_nan() || rate >= 1.0 {
        return f64::INFINITY;
    }
    (tol / last).ln() / rate.ln()
}

/// LSQR from `x = 0` preconditioned by `plain` (the identity or the column equilibration of
/// [`Preconditioner::for_probe`]), with refinement as in [`solve_one`], given up as soon as (from
/// iteration [`PROBE_MIN_ITERATIONS`](super::PROBE_MIN_ITERATIONS) on) the iterations done plus
/// those predicted by [`predicted_iterations`] exceed `budget`, or a run exceeds `max_iters`. The
/// caller's callback sees every iteration (with `probe = true`) and may stop the solve.
/// `first`: the first pass at `x = 0`, when made already.
fn probe(
    data: &DataOp<'_>,
    plain: &Preconditioner,
    b: &[f64],
    first: Option<FirstPass>,
    params: &LstsqParams,
    budget: f64,
    cb: &mut Callback<'_>,
) -> Result<ProbeEnd> {
    let (mut gave_up, mut run, mut tests) = (false, usize::MAX, Vec::new());
    let result = {
        let mut judge = |state: &IterState| {
            if let Some(f) = cb.as_mut() {
                if f(&IterState {
                    probe: true,
                    ..*state
                })
                .is_break()
                {
                    return ControlFlow::Break(());
                }
            }
            if state.run != run {
                run = state.run;
                tests.clear();
            }
            tests.push(state.normal_eq_residual);
            let done = state.iteration as f64;
            if state.iteration >= super::PROBE_MIN_ITERATIONS
                && (done >= budget || done + predicted_iterations(&tests, params.tol) > budget)
            {
                gave_up = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        };
        let mut inner: Callback<'_> = Some(&mut judge);
        solve_one_from(
            data,
            plain,
            b,
            vec![0.0; plain.d],
            first,
            params,
            &mut inner,
        )
    };
    match result {
        Err(Error::NotConverged { iterations, .. }) => Ok(ProbeEnd::GaveUp { iterations }),
        Err(e) => Err(e),
        Ok((_, info)) if gave_up => Ok(ProbeEnd::GaveUp {
            iterations: info.iterations,
        }),
        Ok((x, info)) => Ok(ProbeEnd::Solved(x, Box::new(info))),
    }
}

/// The probe's answer for one right-hand side, or what it spent (`S`) before the sketched solve.
type Probed<S> = std::result::Result<(Vec<f64>, Info), S>;

/// The probe's outcome for one right-hand side: its answer (with `Info` filled in as the
/// probe's), or the iterations it spent before the sketched solve must run. An equilibrated
/// answer is kept only if the ridge makes the solution unique ([`ridge_is_full_rank`]) or
/// [`full_rank_certified`], which is computed once and
/// cached in `certified` for the other right-hand sides of the same `A`; a callback's stop
/// returns its iterate. The caller sets `timings.probe` and `timings.total`.
#[allow(clippy::too_many_arguments)]
fn probe_one(
    a: MatrixRef<'_, f64>,
    data: &DataOp<'_>,
    (plain, equilibrated, unique): (&Preconditioner, bool, bool),
    (b, first): (&[f64], Option<FirstPass>),
    params: &LstsqParams,
    budget: f64,
    cb: &mut Callback<'_>,
    certified: &mut Option<bool>,
) -> Result<Probed<usize>> {
    Ok(match probe(data, plain, b, first, params, budget, cb)? {
        // The identity keeps the minimum-norm solution, a large enough ridge makes it unique,
        // and a callback's stop returns its iterate; else the rank has to be certified.
        ProbeEnd::Solved(x, mut info)
            if !equilibrated
                || unique
                || info.stopped_by_callback
                || *certified
                    .get_or_insert_with(|| full_rank_certified(a, data, plain, params)) =>
        {
            info.factorization = equilibrated.then_some(Factorization::Diagonal);
            info.probe_iterations = info.iterations;
            info.timings.iterate = 0.0;
            Ok((x, *info))
        }
        // Not certified: the equilibrated answer may not be the minimum-norm one.
        ProbeEnd::Solved(_, info) => Err(info.iterations),
        ProbeEnd::GaveUp { iterations } => Err(iterations),
    })
}

/// An overflowed column of the multi-RHS solution is an error, as for a single right-hand
/// side, naming the column `j` of `B`.
fn in_column(j: usize) -> impl Fn(Error) -> Error {
    move |e| match e {
        Error::NonFinite { what, row, .. } => Error::NonFinite {
            what: format!("{what}, column {j} of B"),
            row,
            col: j,
        },
        other => other,
    }
}

/// [`solve_unchecked`]'s answer, refused as [`Error::NonFinite`] when `x` overflowed (a
/// `1 × 1` `A = [10⁻³⁰⁰]` with `b = [10¹⁰]` came back as `Ok(x = [∞])` on the sketched route
/// without refinement; found by the `solvers` fuzz target).
fn solve_impl(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    params: &LstsqParams,
    cb: Callback<'_>,
) -> Result<(Vec<f64>, Info)> {
    let (x, info) = solve_unchecked(a, b, params, cb)?;
    Ok((super::finite_solution(x, "sketch-and-precondition")?, info))
}

fn solve_unchecked(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    params: &LstsqParams,
    mut cb: Callback<'_>,
) -> Result<(Vec<f64>, Info)> {
    let t = Instant::now();
    check_problem(&a, b)?;
    check_common(params.tol, params.max_iters, params.ridge)?;
    if let Some(scale) = RhsScale::needed_at_either_end_for(b.iter().copied()) {
        let mut unscaled = |s: &IterState| match cb.as_mut() {
            Some(f) => f(&scale.state(s)),
            None => ControlFlow::Continue(()),
        };
        let (x, info) = solve_impl(a, &scale.down(b), params, Some(&mut unscaled))?;
        return scale.solution(x, info, "sketch-and-precondition");
    }
    let (data, pre, probe_iterations, probe_seconds) = match Preconditioner::plan(a, params)? {
        Plan::Diagonal => {
            // x₀ = 0 (no sketch to warm-start from): the column norms come with the first pass.
            let data = DataOp::new(a, params.par)?;
            let (norms, first) = FirstPass::at_zero_with_col_norms(&data, params.ridge, b);
            let pre = Preconditioner::diagonal_with_fallbacks(norms, params.ridge).0;
            let x0 = vec![0.0; pre.d];
            let (x, mut info) = solve_one_from(&data, &pre, b, x0, Some(first), params, &mut cb)?;
            info.timings.total = t.elapsed().as_secs_f64();
            return Ok((x, info));
        }
        Plan::Sketch(sketch) if params.probe && params.factorization == Factorization::Auto => {
            let data = DataOp::new(a, params.par)?;
            let tp = Instant::now();
            let sparse = matches!(a, MatrixRef::Sparse(_));
            let passes =
                precondition_passes(sketch.nrows(), a.ncols(), a.nnz(), sparse, params.tol);
            let (norms, first) = FirstPass::at_zero_with_col_norms(&data, params.ridge, b);
            let (plain, equilibrated, unique) = Preconditioner::for_probe(norms, params);
            let budget = PROBE_BUDGET_SHARE * passes;
            let (plain, rhs) = ((&plain, equilibrated, unique), (b, Some(first)));
            let spent = match probe_one(a, &data, plain, rhs, params, budget, &mut cb, &mut None)? {
                Ok((x, mut info)) => {
                    info.timings.probe = tp.elapsed().as_secs_f64();
                    info.timings.total = t.elapsed().as_secs_f64();
                    return Ok((x, info));
                }
                Err(spent) => spent,
            };
            let secs = tp.elapsed().as_secs_f64();
            (data, Preconditioner::build(a, sketch, params)?, spent, secs)
        }
        Plan::Sketch(sketch) => {
            let pre = Preconditioner::build(a, sketch, params)?;
            (DataOp::new(a, params.par)?, pre, 0, 0.0)
        }
    };
    let x0 = pre.warm_start(MatRef::from_column_major_slice(b, b.len(), 1), params.par)?;
    let x0: Vec<f64> = (0..x0.nrows()).map(|i| x0[(i, 0)]).collect();
    let (x, mut info) = solve_one(&data, &pre, b, x0, params, &mut cb)?;
    info.probe_iterations = probe_iterations;
    info.timings.probe = probe_seconds;
    info.timings.total = t.elapsed().as_secs_f64();
    Ok((x, info))
}

/// Solves `min ‖Ax − b‖₂` (or the ridge problem `min ‖Ax − b‖² + λ‖x‖²` when `params.ridge = λ
/// > 0`) by sketch-and-precondition with iterative refinement.
///
/// By default a probe comes first ([`LstsqParams::probe`]): LSQR without a sketch, on `A` or,
/// when the column norms differ by more than 10×, on `A` with equilibrated columns, kept if it
/// converges fast (and, equilibrated, if `A` is certified to have full column rank). Otherwise:
///
/// 1. `S`: an `m × n` sparse sign sketch (`m = c·d` from a cost model, `c ∈ {4, …, 16}`,
///    see [`LstsqParams::sketch_rows`]; `s = 8` by default) from
///    `params.seed.derive(0x40)`; compute `SA` (and `[√λI; SA]` for ridge).
/// 2. Factor: `SA = QR` (preconditioner `N = R⁻¹`); when `κ(R)` is estimated above
///    `1/rcond`, or with [`Factorization::Svd`], `SA = UΣVᵀ` and `N = V_rΣ_r⁻¹` (minimum-norm
///    solution for rank-deficient `A`).
/// 3. Warm start `x₀ = N·(sketched solution)` = `argmin ‖S(Ax − b)‖` (sketch-and-solve).
/// 4. LSQR on `min ‖AN·z − (b − Ax₀)‖` with `AN` applied matrix-free (`N` by triangular solves),
///    `x ← x₀ + Nz`; then `refinement_steps` more LSQR runs on the recomputed true residual.
///    Each run stops on `‖(AN)ᵀr‖/(‖AN‖‖r‖) ≤ tol` or `‖r‖ ≤ tol·‖b‖`.
/// 5. When `refinement_steps ≥ 1`: a check of the answer. If `‖Aᵀr‖ > u·σ(‖r‖ + σ‖x‖ + ‖b‖)`
///    (`σ = σ_max(SA)`, `u = 2⁻⁵³`; with a ridge, the same test of the augmented problem
///    `[A; √λI]x ≈ [b; 0]`), more than any answer that
///    exactly solves a problem `u`-close to the data can have, up to two more refinement runs
///    follow, while each at least halves that excess; of the answers judged, the one with the
///    smallest normal-equation residual is returned (never worse than the first).
///    On a sparse `κ = 10¹²` problem one refinement run left the normal-equation residual up to
///    61× that of a Householder QR solve over 30 sketch seeds, and the check brought every seed
///    within 8.0× (9 of them took an extra run; with a ridge `λ` from `10⁻³⁰` to `10⁻²⁰`, from
///    up to 15× to within 6.0×); on problems whose answers pass (the bench's
///    `κ ≈ 10⁸` sparse problem, dense problems up to `κ = 10¹⁰`) it costs one product with
///    `Aᵀ` (fused with the final residual's pass) and `O(d²)` for `σ`. It also fires on some
///    answers whose residual is large enough that `‖Aᵀr‖` sits at its own rounding level
///    (`‖r‖/‖b‖ = 0.1`), for an extra run of 2–12 iterations.
///
/// Since `κ(AN) ≤ (1+ε)/(1−ε)` (≈ 3 at `m = 4d`, ≈ 2 at `8d`), each run needs about
/// `log(tol)/log((κ−1)/(κ+1))` iterations whatever `κ(A)` is.
///
/// # Examples
///
/// ```
/// use randnla::lstsq::{sketch_and_precondition, LstsqParams};
/// use randnla::MatrixRef;
/// let a = randnla::problems::random_sparse(2000, 20, 4, randnla::Seed::new(1)).unwrap();
/// let b: Vec<f64> = (0..2000).map(|i| (i as f64).sin()).collect();
/// let (x, info) = sketch_and_precondition(MatrixRef::sparse(&a).unwrap(), &b,
///                                         &LstsqParams::default()).unwrap();
/// assert!(info.converged && x.len() == 20);
/// ```
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`] (`b` not of length `n`), [`Error::NonFinite`]
/// (NaN/∞ in `b`, a sketch `S·A` that overflowed — entries of `A` near `f64::MAX` — or a solution
/// that does not fit in `f64`; a `b` whose norm overflows, or whose entries are all below
/// `2⁻⁹⁶⁰` (subnormal ones included), is solved as `2⁻ᵉ·b`, exactly, and `x` scaled back),
/// [`Error::InvalidParameter`] (`tol ∉ (0,1)`, `max_iters = 0`, `λ < 0`, and as
/// [`Preconditioner::new`]), [`Error::TooLarge`] (as [`Preconditioner::new`]; also a sparse `A`
/// with more than 2³² columns, whose indices do not fit the compact copy the iterations read, or
/// whose iteration vectors cannot be allocated), [`Error::RankDeficient`], [`Error::Factorization`]
/// (also when the sketch found `A` rank-deficient but the answer shows it is not: a sketch of too
/// few rows, such as `sketch_rows = d` on a small `A`), and [`Error::NotConverged`] (iterations
/// done, final test value, tolerance) when a run exceeds `max_iters`.
///
/// # Performance
/// `O(s·nnz(A) + m·d²)` for the sketch and QR, then `O(nnz(A) + d²)` per iteration; memory
/// `O(m·d + n)` plus, for sparse `A`, its column indices in 32 bits (4 bytes per nonzero; a CSC
/// `A` is copied whole into compact CSR, 12 bytes per nonzero), read by every LSQR pass.
/// Deterministic given the seed: bitwise identical for every thread count.
///
/// # References
/// H. Avron, P. Maymounkov, S. Toledo, "Blendenpik", SISC 2010; X. Meng, M. Saunders,
/// M. Mahoney, "LSRN", arXiv 1109.5981; E. Epperly, M. Meier, Y. Nakatsukasa, "Fast randomized
/// least-squares solvers can be just as accurate and stable as classical direct solvers",
/// arXiv 2406.03468.
pub fn sketch_and_precondition(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    params: &LstsqParams,
) -> Result<(Vec<f64>, Info)> {
    solve_impl(a, b, params, None)
}

/// [`sketch_and_precondition`] with a per-iteration callback. Returning
/// `ControlFlow::Break(())` stops the solve: the current iterate is returned with
/// `info.converged = false` and `info.stopped_by_callback = true`.
///
/// # Errors
/// As [`sketch_and_precondition`].
pub fn sketch_and_precondition_with_callback(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    params: &LstsqParams,
    callback: &mut dyn FnMut(&IterState) -> ControlFlow<()>,
) -> Result<(Vec<f64>, Info)> {
    solve_impl(a, b, params, Some(callback))
}

/// Ridge regression `min ‖Ax − b‖² + λ‖x‖²`: [`sketch_and_precondition`] with
/// `params.ridge = lambda` (sketch `[√λI; SA]`, LSQR on `[A; √λI]·R⁻¹`). As there, the default
/// probe ([`LstsqParams::probe`](super::LstsqParams::probe)) first tries LSQR on `[A; √λI]`
/// without a sketch (or with equilibrated columns) and keeps its answer when it converges fast;
/// `info.factorization` says which preconditioner gave the answer (`None` when the probe
/// solved it on `[A; √λI]` itself).
///
/// # Accuracy for `λ ≫ ‖A‖²`
/// LSQR's own stopping rule is the backward error of the augmented problem,
/// `‖Āᵀr̄‖ ≤ tol·‖Ā‖·‖r̄‖` with `Ā = [A; √λI]` (Paige and Saunders' rule, as in SciPy's `lsqr`
/// with `damp`). It may perturb `√λI` as much as `A`, and for `λ` far above `‖A‖²` it allows a
/// relative forward error of about `tol·√λ/‖A‖`. So every LSQR run here holds its
/// normal-equation test to `tol·min(1, √2·ρ)` instead, the scaling that makes it the backward
/// error of the ridge problem itself (perturbations of `A`, `b` and `λ` of relative size
/// `tol`): `ρ = (‖A‖‖r‖ + (‖A‖² + λ)‖x‖)/(‖Ā‖‖r̄‖)`, with `‖A‖` estimated by `‖A‖_F` (or
/// `‖SA‖_F`); for `λ ≤ ‖A‖_F²` the test is unchanged. And the sketch is factored as
/// `[√λI; SA]`, large rows first (as [`qr_solve`](super::qr_solve) does). Before both
/// (review of 2026-12-04), a 2000 × 10 Gaussian `A` with `tol = 10⁻¹²` was solved to
/// `2.4·10⁻³` of a dense QR solve at `λ = 10⁶⁰` (sketched route) and `1.1·10⁻⁸` at `10¹⁰`
/// (the probe), a 3000 × 40 one 10¹⁶ times too large at `10¹⁰⁰`, all reported converged; now
/// within `1.3·10⁻¹⁴` for `λ` from 10¹⁰ to 10³⁰⁰ on every route (`tests/lstsq_ridge_scale.rs`).
///
/// # Errors
/// As [`sketch_and_precondition`]; `λ < 0` or non-finite is [`Error::InvalidParameter`].
///
/// # Examples
/// ```
/// use randnla::lstsq::{ridge, LstsqParams};
/// use randnla::MatrixRef;
/// let a = randnla::faer::Mat::from_fn(200, 4, |i, j| ((i * (j + 1)) as f64 * 0.37).sin());
/// let b: Vec<f64> = (0..200).map(|i| (0.1 * i as f64).cos()).collect();
/// let lambda = 2.0;
/// let (x, info) = ridge(MatrixRef::dense(a.as_ref())?, &b, lambda, &LstsqParams::default())?;
/// assert!(info.converged);
/// // The ridge solution solves the regularized normal equations (AᵀA + λI)x = Aᵀb.
/// let xm = randnla::faer::Mat::from_fn(4, 1, |i, _| x[i]);
/// let bm = randnla::faer::Mat::from_fn(200, 1, |i, _| b[i]);
/// let lhs = a.transpose() * (&a * &xm) + lambda * &xm;
/// let rhs = a.transpose() * &bm;
/// for i in 0..4 {
///     assert!((lhs[(i, 0)] - rhs[(i, 0)]).abs() < 1e-10 * rhs.norm_l2(), "row {i}");
/// }
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn ridge(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    lambda: f64,
    params: &LstsqParams,
) -> Result<(Vec<f64>, Info)> {
    let p = LstsqParams {
        ridge: lambda,
        ..params.clone()
    };
    // A bad λ is named as this function's argument, not as the field the solve reads it from
    // (after the same checks of `A` and `b` as before, so the errors keep their precedence).
    sketch_and_precondition(a, b, &p).map_err(|e| match e {
        Error::InvalidParameter {
            name: "ridge",
            reason,
        } => Error::InvalidParameter {
            name: "lambda",
            reason,
        },
        other => other,
    })
}

/// [`sketch_and_precondition`] for the `k` columns of `B` (`n × k`), sharing one sketch and one
/// factorization; returns `X` (`d × k`) and one [`Info`] per column (each carrying the shared
/// sketch and factor timings).
///
/// # Errors
/// As [`sketch_and_precondition`]; `B` with no columns is [`Error::Empty`], a NaN in `B` is
/// [`Error::NonFinite`], and so is a column `j` whose solution overflows (`col = j`, the
/// message names the column).
///
/// With the probe ([`LstsqParams::probe`], default on) each column is first probed as
/// [`sketch_and_precondition`] would (the column norms and the full-rank certificate computed
/// once for all); the columns it solves keep its answers, and the sketch and factorization are
/// made only if some column is left, which then gets the same bits as with `probe = false`.
/// Either way every column of `X` (and its [`Info`] apart from timings) is bitwise what
/// [`sketch_and_precondition`] returns for that column alone.
///
/// # Performance
/// One sketch and one factorization for all columns (none when the probe solves them all),
/// then LSQR per column.
pub fn sketch_and_precondition_multi(
    a: MatrixRef<'_, f64>,
    b: MatRef<'_, f64>,
    params: &LstsqParams,
) -> Result<(Mat<f64>, Vec<Info>)> {
    let t = Instant::now();
    a.require_nonempty("A")?;
    if b.ncols() == 0 {
        return Err(Error::empty("B (no right-hand sides)"));
    }
    if b.nrows() != a.nrows() {
        return Err(Error::dim("rows of B vs rows of A", a.nrows(), b.nrows()));
    }
    check_finite_dense(b, "B")?;
    check_common(params.tol, params.max_iters, params.ridge)?;
    // Columns are solved independently (each to the bits of the single-column solver), so each
    // column whose norm could overflow is scaled into range on its own.
    let scales: Vec<Option<RhsScale>> = (0..b.ncols())
        .map(|j| RhsScale::needed_at_either_end_for(b.col(j).iter().copied()))
        .collect();
    if scales.iter().any(Option::is_some) {
        let bs = Mat::from_fn(b.nrows(), b.ncols(), |i, j| match &scales[j] {
            Some(scale) => scale.down_one(b[(i, j)]),
            None => b[(i, j)],
        });
        let (mut x, mut infos) = sketch_and_precondition_multi(a, bs.as_ref(), params)?;
        for (j, scale) in scales.iter().enumerate() {
            if let Some(scale) = scale {
                let xj = scale.x(
                    x.col(j).iter().copied().collect(),
                    "sketch-and-precondition",
                )?;
                x.col_mut(j).iter_mut().zip(xj).for_each(|(o, v)| *o = v);
                scale.info(&mut infos[j]);
            }
        }
        return Ok((x, infos));
    }
    let k = b.ncols();
    let column = |j: usize| -> Vec<f64> { (0..b.nrows()).map(|i| b[(i, j)]).collect() };
    // Per column: the probe's answer, or the iterations and seconds it spent first.
    let mut probed: Vec<Probed<(usize, f64)>> = (0..k).map(|_| Err((0, 0.0))).collect();
    let plan = Preconditioner::plan(a, params)?;
    let data = DataOp::new(a, params.par)?;
    // The diagonal preconditioner's column norms come with column 0's first pass (from x₀ = 0).
    let mut first0 = None;
    let pre = match plan {
        Plan::Diagonal => {
            let (norms, first) = FirstPass::at_zero_with_col_norms(&data, params.ridge, &column(0));
            first0 = Some(first);
            Preconditioner::diagonal_with_fallbacks(norms, params.ridge).0
        }
        Plan::Sketch(sketch) => {
            if params.probe && params.factorization == Factorization::Auto {
                let tp = Instant::now();
                let sparse = matches!(a, MatrixRef::Sparse(_));
                let passes =
                    precondition_passes(sketch.nrows(), a.ncols(), a.nnz(), sparse, params.tol);
                // The column norms come with the first column's first pass.
                let (norms, first) =
                    FirstPass::at_zero_with_col_norms(&data, params.ridge, &column(0));
                let (plain, equilibrated, unique) = Preconditioner::for_probe(norms, params);
                let mut first = Some(first);
                let mut since = tp;
                let mut certified = None;
                for (j, slot) in probed.iter_mut().enumerate() {
                    let outcome = probe_one(
                        a,
                        &data,
                        (&plain, equilibrated, unique),
                        (&column(j), first.take()),
                        params,
                        PROBE_BUDGET_SHARE * passes,
                        &mut None,
                        &mut certified,
                    )
                    .map_err(in_column(j))?;
                    let secs = since.elapsed().as_secs_f64();
                    since = Instant::now();
                    *slot = match outcome {
                        Ok((xj, mut info)) => {
                            info.timings.probe = secs;
                            Ok((xj, info))
                        }
                        Err(spent) => Err((spent, secs)),
                    };
                }
            }
            if probed.iter().all(|p| p.is_ok()) {
                // The probe solved every column: no sketch (this preconditioner goes unused).
                Preconditioner::identity(a.ncols(), params.ridge, f64::NAN)
            } else {
                Preconditioner::build(a, sketch, params)?
            }
        }
    };
    let mut x = Mat::<f64>::zeros(a.ncols(), k);
    let mut infos = Vec::with_capacity(k);
    for (j, outcome) in probed.into_iter().enumerate() {
        let (xj, mut info) = match outcome {
            Ok(done) => done,
            Err((spent, secs)) => {
                // The column's own warm start, made as the single-column solver makes it: one
                // warm start for all k columns rounded differently (faer's k-column Householder
                // apply and triangular solve), up to 8·10⁻¹⁶ relative in x and other iteration
                // counts on an ill-conditioned A (consistency review, session 38).
                let x0 = pre
                    .warm_start(b.subcols(j, 1), params.par)
                    .map_err(in_column(j))?;
                let xj: Vec<f64> = (0..x0.nrows()).map(|i| x0[(i, 0)]).collect();
                let first = first0.take().filter(|_| j == 0);
                let (xj, mut info) =
                    solve_one_from(&data, &pre, &column(j), xj, first, params, &mut None)
                        .map_err(in_column(j))?;
                info.probe_iterations = spent;
                info.timings.probe = secs;
                (xj, info)
            }
        };
        let xj = super::finite_solution(xj, "sketch-and-precondition").map_err(in_column(j))?;
        for (i, v) in xj.into_iter().enumerate() {
            x[(i, j)] = v;
        }
        info.timings.total = t.elapsed().as_secs_f64();
        infos.push(info);
    }
    Ok((x, infos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::random_sparse;
    use crate::Seed;

    fn pass_with(rnorm: f64, gnorm: f64) -> FirstPass {
        FirstPass {
            r: vec![rnorm],
            g: vec![gnorm],
        }
    }

    /// [`BackwardCheck::judge`]: with `σ = 1`, `‖x‖ = 1`, `‖b‖ = 1`, `‖r‖ = 1` the level is
    /// `3u`. An answer at the level stops at once with itself; one above it asks for another
    /// run; a run that does not halve the excess stops with the better of the two answers by
    /// `‖Aᵀr‖/‖r‖` (either one); `last` stops regardless; an answer that passes only because
    /// its `‖x‖` grew is not kept over a better earlier one. A level that under- or overflows, or a
    /// non-finite norm, applies no test.
    #[test]
    fn backward_check_stops_at_the_level_on_stalling_and_on_the_last_run() {
        let u = f64::EPSILON / 2.0;
        let level = 3.0 * u;
        let x = |v: f64| vec![v];
        let stopped = |v: Verdict| match v {
            Verdict::Done { x, rnorm, gnorm } => (x[0], rnorm, gnorm),
            Verdict::Refine(_) => panic!("asked for another run"),
        };
        let refined = |v: Verdict| match v {
            Verdict::Refine(x) => x[0],
            Verdict::Done { .. } => panic!("stopped"),
        };

        let mut check = BackwardCheck::new(1.0);
        assert_eq!(
            stopped(check.judge(x(1.0), &pass_with(1.0, level), 1.0, false)).0,
            1.0
        );

        // Too far above; the next run halves the excess and passes.
        let mut check = BackwardCheck::new(1.0);
        assert_eq!(
            refined(check.judge(x(1.0), &pass_with(1.0, 100.0 * level), 1.0, false)),
            1.0
        );
        assert_eq!(
            stopped(check.judge(x(-1.0), &pass_with(1.0, 0.5 * level), 1.0, false)).0,
            -1.0
        );

        // Stalled, worse: the earlier answer with its norms.
        let mut check = BackwardCheck::new(1.0);
        refined(check.judge(x(1.0), &pass_with(1.0, 100.0 * level), 1.0, false));
        let kept = stopped(check.judge(x(-1.0), &pass_with(1.0, 150.0 * level), 1.0, false));
        assert_eq!(kept, (1.0, 1.0, 100.0 * level));
        // Stalled, better (excess 60 > 50): the new one.
        let mut check = BackwardCheck::new(1.0);
        refined(check.judge(x(1.0), &pass_with(1.0, 100.0 * level), 1.0, false));
        let kept = stopped(check.judge(x(-1.0), &pass_with(1.0, 60.0 * level), 1.0, false));
        assert_eq!(kept, (-1.0, 1.0, 60.0 * level));
        // Halving, but the last run allowed.
        let mut check = BackwardCheck::new(1.0);
        refined(check.judge(x(1.0), &pass_with(1.0, 100.0 * level), 1.0, false));
        assert_eq!(
            stopped(check.judge(x(-1.0), &pass_with(1.0, 10.0 * level), 1.0, true)).0,
            -1.0
        );

        // The second answer passes (its ‖x‖ = 1000 raises the level to 1002u) but its ‖Aᵀr‖ is
        // twice the first's: the first is returned.
        let mut check = BackwardCheck::new(1.0);
        refined(check.judge(x(1.0), &pass_with(1.0, 100.0 * level), 1.0, false));
        let kept = stopped(check.judge(x(1000.0), &pass_with(1.0, 200.0 * level), 1.0, false));
        assert_eq!(kept, (1.0, 1.0, 100.0 * level));

        // The excess does not change, bit for bit, when A is scaled by 2ᵏ and b by 2ʲ
        // (σ → 2ᵏσ, x → 2ʲ⁻ᵏx, r → 2ʲr, Aᵀr → 2ᵏ⁺ʲAᵀr), far beyond where the naive level
        // u·σ·(‖r‖ + σ‖x‖ + ‖b‖) over- or underflows.
        let (sigma, g, r, xn, b) = (3.7, 1.3e-12, 2.1e-3, 0.8, 1.1);
        let base = BackwardCheck::new(sigma).excess(g, r, xn, b);
        assert!(base > 1.0 && base.is_finite(), "{base}");
        for (k, j) in [
            (600, 0),
            (-600, 0),
            (0, 700),
            (0, -700),
            (500, -500),
            (-400, 300),
        ] {
            let p = |e: i32| 2f64.powi(e);
            let scaled = BackwardCheck::new(sigma * p(k)).excess(
                g * p(k + j),
                r * p(j),
                xn * p(j - k),
                b * p(j),
            );
            assert_eq!(scaled.to_bits(), base.to_bits(), "2^{k}, 2^{j}");
        }

        // No test: σ = 0 (level 0), σ = ∞, a level that overflows, an infinite ‖Aᵀr‖.
        for (sigma, g) in [
            (0.0, 1.0),
            (f64::INFINITY, 1.0),
            (1e300, 1.0),
            (1.0, f64::INFINITY),
        ] {
            let mut check = BackwardCheck::new(sigma);
            let xn = if sigma == 1e300 { 1e300 } else { 1.0 };
            stopped(check.judge(x(xn), &pass_with(1.0, g), 1.0, false));
        }
    }

    /// [`triangular_norm_estimate`] is within 1% of `σ_max` on a triangle with singular
    /// values from 1 to 10⁻¹² (the `R` of a Householder QR of a seeded matrix with that
    /// spectrum) and on the same triangle scaled by `2⁶⁰⁰` and `2⁻⁶⁰⁰` (where `RᵀR·v` would
    /// leave the range without the power-of-two scaling).
    #[test]
    fn triangular_norm_estimate_is_close_at_any_scale() {
        let (a, _, _, _) = crate::problems::ls_problem(200, 30, 1e12, 0.0, Seed::new(4)).unwrap();
        let r = HouseholderQr::new(a, Par::Seq).r();
        let smax = crate::dense::singular_values(r.as_ref()).unwrap()[0];
        for e in [0, 600, -600] {
            let s = 2f64.powi(e);
            let scaled = Mat::<f64>::from_fn(30, 30, |i, j| r[(i, j)] * s);
            let est = triangular_norm_estimate(scaled.as_ref()) / s;
            assert!((est / smax - 1.0).abs() < 1e-2, "2^{e}: {est} vs {smax}");
        }
    }

    /// `structured_tol` keeps `tol` exactly (so LSQR stops where it always did) whenever
    /// `λ ≤ ‖A‖²`, for every `‖b − Ax‖` and `‖x‖` (the bound `ρ ≥ ‖A‖/‖Ā‖ ≥ 1/√2` of its
    /// doc), including the extremes `x = 0` and `r = 0`; without a ridge or with an unknown
    /// `‖A‖` (NaN) too. Above `‖A‖²` it tightens: at `λ = 10⁴·‖A‖²` from `x = 0`,
    /// `ρ = ‖A‖/‖Ā‖ ≈ 10⁻²`, so the tolerance is `√2·10⁻²·tol` to within 10⁻⁴ relative.
    #[test]
    fn structured_tol_changes_nothing_up_to_the_norm_of_a() {
        let tol = 1e-12;
        let with = |a_norm: f64, lambda: f64| Preconditioner::identity(3, lambda, a_norm);
        // (‖r‖, ‖x‖): ‖r̄‖ = √(‖r‖² + λ‖x‖²).
        let cases = |lambda: f64| {
            let mut v = Vec::new();
            for r in [0.0, 1e-300, 1e-8, 1.0, 1e8, 1e300] {
                for x in [0.0, 1e-300, 1e-8, 1.0, 1e8] {
                    let rbar = super::super::ops::norm_of(&[r, lambda.sqrt() * x]);
                    if rbar > 0.0 && rbar.is_finite() {
                        v.push((r, x, rbar));
                    }
                }
            }
            v
        };
        for a_norm in [1e-150, 1e-3, 1.0, 7.0, 1e100] {
            for share in [1e-30, 1e-6, 0.25, 1.0] {
                let lambda = share * a_norm * a_norm;
                if lambda == 0.0 {
                    continue;
                }
                let pre = with(a_norm, lambda);
                for (r, x, rbar) in cases(lambda) {
                    let t = structured_tol(&pre, tol, r, x, rbar);
                    assert_eq!(t, tol, "‖A‖ {a_norm:e}, λ {lambda:e}, r {r:e}, x {x:e}");
                }
            }
            let lambda = 1e4 * a_norm * a_norm;
            let t = structured_tol(&with(a_norm, lambda), tol, 1.0, 0.0, 1.0);
            let want = std::f64::consts::SQRT_2 * 1e-2 * tol;
            assert!((t - want).abs() <= 1e-4 * want, "{t:e} vs {want:e}");
        }
        assert_eq!(structured_tol(&with(1.0, 0.0), tol, 1.0, 1.0, 1.0), tol);
        assert_eq!(
            structured_tol(&with(f64::NAN, 1e6), tol, 1.0, 0.0, 1.0),
            tol
        );
    }

    /// The certificate must bound `κ(A)` for every `S`, including a CountSketch that amplifies
    /// `A`'s weakest direction: its `‖S‖` is `√L`, `L` the most rows it adds into one bucket
    /// (`σ_min(SAN) ≤ ‖S‖·σ_min(AN)`). Adversarial `A` (`2000 × 2`): `u` spread over the rows
    /// outside the CountSketch's heaviest bucket `B` (`L ≈ 500` rows), `w` over `B` with the
    /// sketch's own signs, so `‖Sw‖ = √L` while `‖w‖ = 1`; `A = [u, 100(u + εw)]`, whose
    /// `κ(A) ≈ 100/ε`. `rcond = 10⁻⁴`. The row sample cannot certify it (distinct rows,
    /// `‖S‖ = 1`: its bound is a true upper bound on `κ(A)`). Pass rule: for every ε of the sweep,
    /// certified implies `κ(A) ≤ 1/rcond` (`κ` computed densely); the sweep must include a
    /// certified `A` (ε = 0.5) and the adversarial one, ε = 25·rcond (`κ(A) ≈ 4/rcond`), which a
    /// bound taking `‖S‖ = 1` certifies (≈ 0.36/rcond).
    #[test]
    fn the_count_sketch_certificate_counts_the_norm_of_the_sketch() {
        let (n, d) = (2000usize, 2usize);
        let params = LstsqParams {
            rcond: 1e-4,
            ..Default::default()
        };
        let sketch = SparseSign::new(2 * d, n, 1, params.seed.derive(CERTIFICATE_STREAM)).unwrap();
        let s = SketchOperator::<f64>::to_dense(&sketch).unwrap();
        let (mut bucket, mut sign) = (vec![0usize; n], vec![0.0f64; n]);
        for i in 0..n {
            for k in 0..2 * d {
                if s[(k, i)] != 0.0 {
                    (bucket[i], sign[i]) = (k, s[(k, i)].signum());
                }
            }
        }
        let mut load = vec![0usize; 2 * d];
        bucket.iter().for_each(|&k| load[k] += 1);
        let heavy = (0..2 * d).max_by_key(|&k| load[k]).unwrap();
        let l = load[heavy];
        let (mut certified_any, mut refused_adversarial) = (false, false);
        for eps in [0.5, 0.05, 0.01, 25.0 * params.rcond, 1e-3, 5e-4] {
            let a = Mat::from_fn(n, d, |i, j| {
                let (u, w) = if bucket[i] == heavy {
                    (0.0, sign[i] / (l as f64).sqrt())
                } else {
                    (1.0 / ((n - l) as f64).sqrt(), 0.0)
                };
                if j == 0 {
                    u
                } else {
                    100.0 * (u + eps * w)
                }
            });
            let kappa = crate::diagnostics::condition_number(a.as_ref()).unwrap();
            let av = MatrixRef::dense(a.as_ref()).unwrap();
            let data = DataOp::new(av, Par::Seq).unwrap();
            let pre = Preconditioner::diagonal(&data, 0.0);
            assert!(!certified_by_sample(&data, &pre, &params) || kappa * params.rcond <= 1.0);
            let certified = full_rank_certified(av, &data, &pre, &params);
            assert!(
                !certified || kappa * params.rcond <= 1.0,
                "ε = {eps}: certified with κ(A)·rcond = {}",
                kappa * params.rcond
            );
            certified_any |= certified;
            if eps == 25.0 * params.rcond {
                assert!(
                    kappa * params.rcond > 3.0,
                    "κ(A)·rcond = {}",
                    kappa * params.rcond
                );
                refused_adversarial = !certified;
            }
        }
        assert!(certified_any && refused_adversarial);
    }

    /// The CountSketch certificate takes `‖S‖² = L`, the most rows of `A` the sketch sends to
    /// one bucket, as [`full_rank_certified`] documents. A `40 × 3` Gaussian `A` spreads over
    /// 6 buckets of unequal loads (counted here from `S`'s dense form); with the bound
    /// `√(d·L)·κ̂(R)/max_j ‖Re_j‖` of `SA = QR` computed here (`N = I`, so `κ(D) = 1`), an
    /// `rcond` 1% below `1/bound` certifies and 1% above does not. Kills the load read as the
    /// fewest rows (a bound smaller by `√(L/L_min)` certifies both), which the adversarial test
    /// above, whose buckets are nearly equal, lets through.
    #[test]
    fn the_count_sketch_certificate_takes_the_heaviest_bucket() {
        let (n, d) = (40usize, 3usize);
        let a = crate::problems::gaussian_matrix(n, d, Seed::new(8)).unwrap();
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let pre = Preconditioner::identity(d, 0.0, f64::NAN);
        let seed = LstsqParams::default().seed;
        let sketch = SparseSign::new(2 * d, n, 1, seed.derive(CERTIFICATE_STREAM)).unwrap();
        let s = SketchOperator::<f64>::to_dense(&sketch).unwrap();
        let load: Vec<usize> = (0..2 * d)
            .map(|k| (0..n).filter(|&i| s[(k, i)] != 0.0).count())
            .collect();
        let (most, fewest) = (*load.iter().max().unwrap(), *load.iter().min().unwrap());
        assert!(
            2 * fewest <= most,
            "loads {load:?}: the test needs unequal buckets"
        );
        let r = HouseholderQr::new(&s * &a, Par::Seq).r();
        let r_norm = (0..d).fold(0.0f64, |acc, j| acc.max(r.col(j).norm_l2()));
        let bound = ((d * most) as f64).sqrt() * triangular_condition_estimate(r.as_ref()) / r_norm;
        assert!(bound.is_finite() && bound > 1.0, "bound {bound}");
        for (factor, want) in [(0.99, true), (1.01, false)] {
            let params = LstsqParams {
                rcond: factor / bound,
                ..Default::default()
            };
            assert_eq!(
                certified_by_count_sketch(av, &pre, &params),
                want,
                "rcond = {factor}/bound, loads {load:?}"
            );
        }
    }

    /// [`certificate_bound_holds`] refuses an `S·A·N` with fewer rows than columns, as it
    /// documents (a row sample of a tall `A` can come back with fewer than `d` rows, since each
    /// row is drawn with probability `2d/n`): such a sketch certifies nothing, and its `R` is
    /// not square. `3 × 6`, `1 × 2` and `5 × 6` matrices of full row rank: `false`, no panic.
    /// Kills the guard dropped (the condition estimate then reads `R`'s diagonal past its rows
    /// and panics) or relaxed to `nrows() < d − 1`.
    #[test]
    fn the_certificate_refuses_a_sketch_with_fewer_rows_than_columns() {
        let params = LstsqParams::default();
        for (rows, d) in [(3usize, 6usize), (1, 2), (5, 6)] {
            let san = Mat::from_fn(
                rows,
                d,
                |i, j| if i == j { 1.0 } else { 0.01 * (i + j) as f64 },
            );
            let pre = Preconditioner::identity(d, 0.0, f64::NAN);
            assert!(
                !certificate_bound_holds(san, 1.0, &pre, &params),
                "{rows} × {d}"
            );
        }
        // d rows of a well-conditioned matrix pass (the guard is not `<= d`).
        let san = Mat::from_fn(
            6,
            6,
            |i, j| if i == j { 1.0 } else { 0.01 * (i + j) as f64 },
        );
        let pre = Preconditioner::identity(6, 0.0, f64::NAN);
        assert!(certificate_bound_holds(san, 1.0, &pre, &params));
    }

    /// The default `m = c·d` is what `LstsqParams::sketch_rows` documents: `c` from
    /// `{4, 6, 8, 12, 16}` minimizing the cost model among the multiples with `c·d ≤ n/2`, and
    /// `4d` when no multiple fits (`n < 12d`; then `m` may exceed `n/2`, never `4d`). Checked
    /// against a brute-force argmin over the admissible set, for shapes where the model picks each
    /// end, and for the bench's sparse and dense problems (`8d`, as the docs say).
    #[test]
    fn default_sketch_rows_is_the_documented_argmin() {
        let brute = |n: usize, d: usize, nnz: usize, sparse: bool, tol: f64| {
            let mut admissible = vec![4usize];
            admissible.extend([6usize, 8, 12, 16].iter().filter(|&&c| c * d <= n / 2));
            let cost = |c: usize| precondition_cost(c as f64, d, nnz, sparse, tol);
            let best = admissible
                .iter()
                .copied()
                .min_by(|&p, &q| cost(p).total_cmp(&cost(q)))
                .unwrap();
            best * d
        };
        for &(n, d, nnz, sparse) in &[
            (100usize, 10usize, 1000usize, false),
            (119, 10, 1190, false),
            (200_000, 500, 4_900_000, true),
            (50_000, 1000, 50_000_000, false),
            (1_000_000, 10, 10_000_000, false),
            (100_000, 2000, 1_000_000, true),
        ] {
            for tol in [1e-14, 1e-8] {
                let m = default_sketch_rows(n, d, nnz, sparse, tol);
                assert_eq!(
                    m,
                    brute(n, d, nnz, sparse, tol),
                    "{n}×{d}, nnz {nnz}, tol {tol}"
                );
                assert!(m >= 4 * d && m <= 16 * d);
            }
        }
        assert_eq!(default_sketch_rows(100, 10, 1000, false, 1e-14), 40);
        assert_eq!(
            default_sketch_rows(200_000, 500, 4_900_000, true, 1e-14),
            4000
        );
        assert_eq!(
            default_sketch_rows(50_000, 1000, 50_000_000, false, 1e-14),
            8000
        );
    }

    /// The warm start is the sketch-and-solve solution `argmin ‖SAx − Sb‖`, whichever
    /// factorization holds the sketch: from `SA = QR`, and from the SVD of `R` with `Q` applied
    /// to `Sb`. On a full-rank problem (ridge or not) the two agree to rounding.
    #[test]
    fn qr_and_svd_preconditioners_warm_start_alike() {
        let a = random_sparse(900, 12, 4, Seed::new(5)).unwrap();
        let av = MatrixRef::sparse(&a).unwrap();
        let b = Mat::<f64>::from_fn(900, 2, |i, j| ((i * 13 + j * 7) % 17) as f64 - 8.0);
        for ridge in [0.0, 3.0] {
            let params = |factorization| LstsqParams {
                factorization,
                ridge,
                ..Default::default()
            };
            let qr = Preconditioner::new(av, &params(Factorization::Qr)).unwrap();
            let svd = Preconditioner::new(av, &params(Factorization::Svd)).unwrap();
            assert_eq!(svd.factorization(), Factorization::Svd);
            let x_qr = qr.warm_start(b.as_ref(), Par::Seq).unwrap();
            let x_svd = svd.warm_start(b.as_ref(), Par::Seq).unwrap();
            let err = (&x_qr - &x_svd).norm_l2() / x_qr.norm_l2();
            assert!(err < 1e-12, "ridge {ridge}: warm starts differ by {err:e}");
        }
    }

    /// The certificate's row sample: every row when `n ≤ 2d`; else distinct ascending rows, as
    /// many as a Binomial(n, 2d/n) draw gives (within 5 standard deviations of `2d`), capped at
    /// `3d`, and a function of the seed alone.
    #[test]
    fn certificate_sample_is_about_2d_distinct_rows() {
        assert_eq!(
            certificate_sample(70, 40, Seed::new(1)),
            (0..70).collect::<Vec<_>>()
        );
        let (n, d) = (1_000_000, 300);
        for seed in 0..5 {
            let rows = certificate_sample(n, d, Seed::new(seed));
            assert!(rows.windows(2).all(|w| w[0] < w[1]) && *rows.last().unwrap() < n);
            let sd = (2.0 * d as f64).sqrt();
            let k = rows.len() as f64;
            assert!(
                (k - 2.0 * d as f64).abs() <= 5.0 * sd,
                "seed {seed}: {k} rows"
            );
            assert_eq!(rows, certificate_sample(n, d, Seed::new(seed)));
        }
        // A tiny d makes the cap bind sometimes: never above 3d.
        assert!((0..50).all(|s| certificate_sample(10_000, 1, Seed::new(s)).len() <= 3));
    }

    /// The sample certifies a column-scaled full-rank `A` (dense and CSR) without the
    /// CountSketch; on a CSR `A` with a column that has one stored entry the sample misses it
    /// (rank-deficient `SAN`), and the CountSketch, which sees every row, certifies; a
    /// rank-deficient `A` (a repeated column) is certified by neither.
    #[test]
    fn certificate_tries_the_row_sample_then_the_count_sketch() {
        let (n, d) = (20_000, 30);
        let params = LstsqParams::default();
        let scale = |j: usize| 10f64.powf(-4.0 * j as f64 / (d - 1) as f64);
        let sparse = random_sparse(n, d, 6, Seed::new(11)).unwrap();
        let scaled_csr = |one_entry_col: Option<usize>, repeat: bool| {
            let mut t = sprs::TriMat::new((n, d));
            for (v, (i, j)) in sparse.iter() {
                match (one_entry_col, repeat) {
                    (Some(c), _) if j == c => {}
                    // Column 1 := 3 × column 0 (rank d − 1).
                    (_, true) if j == 1 => {}
                    (_, true) if j == 0 => {
                        t.add_triplet(i, 0, *v);
                        t.add_triplet(i, 1, 3.0 * v);
                    }
                    _ => t.add_triplet(i, j, v * scale(j)),
                }
            }
            if let Some(c) = one_entry_col {
                t.add_triplet(n / 2 + 1, c, scale(c));
            }
            t.to_csr::<usize>()
        };
        fn pre_for(av: MatrixRef<'_, f64>) -> (DataOp<'_>, Preconditioner) {
            let data = DataOp::new(av, Par::Seq).unwrap();
            let norms = ColumnNorms::new(&data, data.col_norms_sq(), 0.0);
            let (pre, equilibrated, _) = Preconditioner::for_probe(norms, &LstsqParams::default());
            assert!(equilibrated);
            (data, pre)
        }
        let dense = faer::Mat::from_fn(n, d, |i, j| {
            (crate::seed::unit_f64(crate::seed::splitmix64((i * d + j) as u64)) - 0.5) * scale(j)
        });
        let plain = scaled_csr(None, false);
        for av in [
            MatrixRef::dense(dense.as_ref()).unwrap(),
            MatrixRef::sparse(&plain).unwrap(),
        ] {
            let (data, pre) = pre_for(av);
            assert!(certified_by_sample(&data, &pre, &params));
            assert!(full_rank_certified(av, &data, &pre, &params));
        }
        let lone = scaled_csr(Some(7), false);
        let av = MatrixRef::sparse(&lone).unwrap();
        let (data, pre) = pre_for(av);
        assert!(!certificate_sample(n, d, params.seed).contains(&(n / 2 + 1)));
        assert!(!certified_by_sample(&data, &pre, &params));
        assert!(certified_by_count_sketch(av, &pre, &params));
        assert!(full_rank_certified(av, &data, &pre, &params));
        let repeated = scaled_csr(None, true);
        let av = MatrixRef::sparse(&repeated).unwrap();
        let (data, pre) = pre_for(av);
        assert!(!certified_by_sample(&data, &pre, &params));
        assert!(!certified_by_count_sketch(av, &pre, &params));
        assert!(!full_rank_certified(av, &data, &pre, &params));
    }
}
