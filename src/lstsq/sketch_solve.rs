//! Sketch-and-solve: the cheapest least-squares estimate, `x̃ = argmin ‖S(Ax − b)‖`.

use super::check_problem;
use super::ops::{norm2, residual, DataOp, LinOp};
use super::precondition::HouseholderQr;
use crate::error::{Error, Result};
use crate::input::{check_finite_dense, MatrixRef};
use crate::scalar::{exponent, mul_pow2};
use crate::seed::Seed;
use crate::sketch::{SketchExt, SketchKind, SketchOperator};
use faer::{Mat, MatRef, Par};
use std::time::Instant;

/// Parameters of [`sketch_and_solve`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SketchSolveParams {
    /// Sketch family (default sparse sign with `s = 8`; an `s` above the sketch's rows `m` is
    /// capped at `m`, as in [`LstsqParams::nnz_per_col`](super::LstsqParams::nnz_per_col)).
    pub sketch: SketchKind,
    /// Sketch rows `m`; `None` means `10d` (expected residual ratio ≈ 1.05, its square ≈ 1.11).
    pub sketch_rows: Option<usize>,
    /// Seed of the sketch (used as given).
    pub seed: Seed,
    /// Thread budget.
    pub par: Par,
}

impl Default for SketchSolveParams {
    fn default() -> Self {
        SketchSolveParams {
            sketch: SketchKind::SparseSign { nnz_per_col: 8 },
            sketch_rows: None,
            seed: Seed::new(0),
            par: Par::Seq,
        }
    }
}

/// A-posteriori information about a sketch-and-solve estimate.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SketchSolveInfo {
    /// The sketch family's name.
    pub sketch: &'static str,
    /// Rows `m` of the sketch.
    pub sketch_rows: usize,
    /// The actual residual `‖Ax̃ − b‖` (one product with `A`).
    pub residual_norm: f64,
    /// The sketched residual `‖S(Ax̃ − b)‖`, the minimum of the sketched problem (the norm of
    /// the last `m − d` entries of `QᵀSb` for `SA = QR`).
    pub sketched_residual_norm: f64,
    /// `‖g‖` for `g = R⁻ᵀAᵀ(b − Ax̃)`, where `SA = QR`: the normal-equation residual in the
    /// sketch's preconditioned coordinates. It measures how far `x̃` is from optimal:
    /// `(1 − ε₋)·‖g‖ ≤ ‖A(x̃ − x⋆)‖ ≤ (1 + ε₊)·‖g‖`, where `1 − ε₋` and `1 + ε₊` are the extreme
    /// singular values of `SU` for an orthonormal basis `U` of `range(A)` (the sketch's
    /// distortion of `range(A)`). See [`ratio_bound`](Self::ratio_bound).
    pub excess_estimate: f64,
    /// The expected residual ratio `‖Ax̃ − b‖ / min‖Ax − b‖ ≈ √(1 + d/(m − d − 1))`: for a
    /// Gaussian sketch the *squared* ratio has expectation exactly `1 + d/(m − d − 1)`, so the
    /// ratio itself is ≈ 1.16 at `m = 4d`, 1.05 at `10d`, 1.01 at `40d`; `∞` when
    /// `m ≤ d + 1`.
    pub expected_ratio: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl SketchSolveInfo {
    /// An a-posteriori upper bound on the residual ratio `‖Ax̃ − b‖ / min_x ‖Ax − b‖`, valid
    /// whenever the sketch stretches no vector of `range(A)` by more than `1 + epsilon`
    /// (`‖SAy‖ ≤ (1 + ε)‖Ay‖` for all `y`):
    ///
    /// `‖Ax̃ − b‖ / √(‖Ax̃ − b‖² − (1 + ε)²‖g‖²)`, with `‖g‖` =
    /// [`excess_estimate`](Self::excess_estimate),
    ///
    /// and `∞` when the root's argument is not positive. Derivation: with `r̃ = b − Ax̃` and `x⋆`
    /// the minimizer, `‖r̃‖² = OPT² + ‖A(x̃ − x⋆)‖²` and `‖A(x̃ − x⋆)‖ ≤ (1 + ε)‖g‖` (since
    /// `σ_min(AR⁻¹) ≥ 1/(1 + ε)` when `SAR⁻¹ = Q` has orthonormal columns). Everything but `ε` is
    /// computed. For a Gaussian sketch `1 + ε ≈ 1 + √(d/m)` (the edge of the Marchenko–Pastur
    /// law), which sparse sign sketches with `s ≥ 4` match closely on most inputs (README,
    /// distortion table); [`crate::diagnostics::distortion`] measures it exactly on small problems.
    /// `epsilon` that is negative or NaN gives NaN. Computed as `1/√((1 − t)(1 + t))` with
    /// `t = (1 + ε)‖g‖/‖Ax̃ − b‖`, so that it does not depend on the scale of the problem (the
    /// squares of residuals beyond `10¹⁵⁴` overflowed and gave 0, below `10⁻¹⁵⁴` underflowed and
    /// gave `∞`); a residual norm that is not finite gives `∞`.
    pub fn ratio_bound(&self, epsilon: f64) -> f64 {
        if epsilon.is_nan() || epsilon < 0.0 {
            return f64::NAN;
        }
        let r = self.residual_norm;
        if !r.is_finite() {
            return f64::INFINITY;
        }
        let t = (1.0 + epsilon) * self.excess_estimate / r;
        let q = (1.0 - t) * (1.0 + t);
        if q > 0.0 {
            1.0 / q.sqrt()
        } else {
            f64::INFINITY
        }
    }
}

/// Sketch-and-solve with a sketch family chosen by value: draws the `m × n` sketch
/// (`m = 10d` by default) from `params.seed` and calls [`sketch_and_solve_with`].
///
/// # Examples
///
/// ```
/// use randnla::lstsq::{sketch_and_solve, SketchSolveParams};
/// use randnla::MatrixRef;
/// let a = randnla::problems::gaussian_matrix(2000, 10, randnla::Seed::new(3)).unwrap();
/// let b: Vec<f64> = (0..2000).map(|i| (i as f64 * 0.1).cos()).collect();
/// let (x, info) = sketch_and_solve(MatrixRef::dense(a.as_ref()).unwrap(), &b,
///                                  &SketchSolveParams::default()).unwrap();
/// assert_eq!(x.len(), 10);
/// assert!((info.expected_ratio - (1.0f64 + 10.0 / 89.0).sqrt()).abs() < 1e-12);
/// // ‖Ax̃ − b‖/OPT is at most ratio_bound(ε) when the sketch stretches range(A) by at most
/// // 1 + ε; at m = 10d a Gaussian-like sketch stretches by about 1 + √(1/10) ≈ 1.32, so
/// // ε = 0.5 is generous, and the bound it gives is finite (1.77 here, for an actual 1.13;
/// // ε = 1 would allow so much stretch that no finite bound follows).
/// let xq = randnla::lstsq::qr_solve(MatrixRef::dense(a.as_ref()).unwrap(), &b, 0.0,
///                                   randnla::faer::Par::Seq).unwrap();
/// let axq = &a * randnla::faer::Mat::from_fn(10, 1, |i, _| xq[i]);
/// let opt = (0..2000).map(|i| (b[i] - axq[(i, 0)]).powi(2)).sum::<f64>().sqrt();
/// let bound = info.ratio_bound(0.5);
/// assert!(bound.is_finite(), "{bound}");
/// assert!(info.residual_norm / opt <= bound);
/// ```
///
/// # Errors
/// As [`sketch_and_solve_with`], plus the sketch constructor's errors
/// ([`Error::InvalidParameter`], and [`Error::TooLarge`] from the SRHT's row selection).
pub fn sketch_and_solve(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    params: &SketchSolveParams,
) -> Result<(Vec<f64>, SketchSolveInfo)> {
    check_problem(&a, b)?;
    let m = params
        .sketch_rows
        .unwrap_or_else(|| a.ncols().saturating_mul(10));
    check_sketch_rows(m, a.ncols())?;
    let kind = match params.sketch {
        SketchKind::SparseSign { nnz_per_col } => SketchKind::SparseSign {
            nnz_per_col: nnz_per_col.min(m),
        },
        other => other,
    };
    let s = kind
        .build::<f64>(m, a.nrows(), params.seed)
        .map_err(|e| e.renamed("m", "sketch_rows"))?;
    sketch_and_solve_with(a, b, s.as_ref(), params.par)
}

/// Sketch-and-solve needs at least `d` sketch rows.
fn check_sketch_rows(m: usize, d: usize) -> Result<()> {
    if m < d {
        return Err(Error::param(
            "sketch_rows",
            format!("sketch-and-solve needs m ≥ d = {d} sketch rows, got {m}"),
        ));
    }
    Ok(())
}

/// `x̃ = argmin ‖S(Ax − b)‖` for a given sketch `S` (`m × n`, `m ≥ d`), by Householder QR of
/// `SA`. With an ε-subspace embedding of `range([A, b])`, `‖Ax̃ − b‖ ≤ (1+ε)/(1−ε)·min‖Ax − b‖`;
/// for a Gaussian sketch `E‖Ax̃ − b‖² = (1 + d/(m−d−1))·OPT²`, which sparse sign sketches with
/// `s ≥ 4` match closely, coherent inputs included (mean excess `‖Ax̃ − b‖²/OPT² − 1` over 200
/// seeds on `[I; 10⁻³G]`, `2000 × 20`, `m = 10d`: 0.1116 for `s = 8`, 0.1137 for `s = 4`, 0.1117
/// for the Gaussian, against `d/(m−d−1) = 0.1117`). CountSketch does not on coherent inputs:
/// 2.91 there, 26× the Gaussian figure, because two of the `d` heavy rows share a bucket with
/// probability `≈ 1 − e^{−d²/2m}` (63% here); give it `m = O(d²)` rows or use `s ≥ 4`. The
/// a-posteriori [`SketchSolveInfo`] carries the actual residual, that expected ratio, and the
/// preconditioned normal-equation residual from which
/// [`SketchSolveInfo::ratio_bound`] bounds the ratio actually reached.
/// Forward error grows with `κ(A)`; for an accurate solution use
/// [`sketch_and_precondition`](super::sketch_and_precondition).
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`] (`b` of the wrong length, or the sketch's
/// columns ≠ `n`), [`Error::NonFinite`] (NaN in `b`, a sketch `SA` that overflowed — entries
/// of `A` near `f64::MAX` — or a solution that does not fit in `f64`; a `b` near `f64::MAX` and
/// an `A` near `10³⁰⁷` are solved, scaled into range by powers of two),
/// [`Error::InvalidParameter`] when `m < d`, [`Error::TooLarge`] when the `m × d` sketch `SA`
/// (or the sketch's work copy of its output) cannot be allocated,
/// [`Error::RankDeficient`] when `SA` has a zero pivot or is too close to singular for a finite
/// solution.
///
/// # Performance
/// The sketch (`O(s·nnz(A) + m·d)` for sparse sign) plus `O(m·d²)` for the QR, which runs on
/// one thread so that the answer is bitwise the same for every thread count. The a-posteriori
/// figures take two more passes over `A` (`Ax̃` and `Aᵀr̃`) and `O(d²)`. Memory: two `m × d`
/// matrices while sketching (`S·A` and the sparse sign kernel's work copy), then `S·A` alone,
/// factored in place (the sketched residual is read from `QᵀSb`), with the `u32` copy of a CSR
/// `A`'s column indices for the a-posteriori passes. Peak heap measured (counting allocator,
/// `Par::Seq`, `20 000 × 200`, `m = 2000`, sparse sign `s = 8`): 2.20·(8·m·d) bytes on dense
/// `A`, 2.08·(8·m·d) on CSR with 12 a row.
///
/// # References
/// T. Sarlós, "Improved approximation algorithms for large matrices via random projections",
/// FOCS 2006; D. Woodruff, "Sketching as a tool for numerical linear algebra", arXiv 1411.4357.
pub fn sketch_and_solve_with(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    sketch: &dyn SketchOperator<f64>,
    par: Par,
) -> Result<(Vec<f64>, SketchSolveInfo)> {
    let t = Instant::now();
    check_problem(&a, b)?;
    let (n, d) = (a.nrows(), a.ncols());
    if sketch.ncols() != n {
        return Err(Error::dim(
            "columns of the sketch vs rows of A",
            n,
            sketch.ncols(),
        ));
    }
    let m = sketch.nrows();
    check_sketch_rows(m, d)?;
    if let Some(scale) = super::RhsScale::needed(b) {
        // Linear in b, and the sketch and QR commute with powers of two (see RhsScale).
        let (x, info) = sketch_and_solve_with(a, &scale.down(b), sketch, par)?;
        return Ok((
            scale.x(x, "sketch-and-solve")?,
            SketchSolveInfo {
                residual_norm: scale.up(info.residual_norm),
                sketched_residual_norm: scale.up(info.sketched_residual_norm),
                excess_estimate: scale.up(info.excess_estimate),
                ..info
            },
        ));
    }
    let sa = sketch.apply(a, par)?;
    // An A near f64::MAX can overflow its sketch: report that, not the rank deficiency the QR
    // of an infinite sketch would show.
    check_finite_dense(sa.as_ref(), "the sketch S·A (it overflowed)")?;
    let sb = sketch.apply(
        MatrixRef::Dense(MatRef::from_column_major_slice(b, n, 1)),
        par,
    )?;
    check_finite_dense(
        sb.as_ref(),
        "the sketched right-hand side S·b (it overflowed)",
    )?;
    // faer's QR overflowed on a sketch with entries near 10³⁰⁸ ("rank 1" for A = 1e307·G). What
    // it works on is moved away from the ends of the range by powers of two (exact;
    // SA·x = Sb becomes (2⁻ᵃSA)·y = 2⁻ᵇSb with x = 2ᵇ⁻ᵃy); other sketches are not touched.
    let (mut sa, mut sb) = (sa, sb);
    let shift_a = crate::dense::into_qr_range(&mut sa);
    let shift_b = crate::dense::into_qr_range(&mut sb);
    // Par::Seq: faer's blocked QR is not bitwise reproducible across thread counts. It factors
    // `S·A` in place: the sketched residual comes from `QᵀSb` below, so no copy is kept.
    let qr = HouseholderQr::new(sa, Par::Seq);
    let r = qr.r();
    if (0..d).any(|i| r[(i, i)] == 0.0) {
        return Err(super::rank_deficient(r.as_ref(), m, n));
    }
    // QᵀSb: its first d entries give y = R⁻¹(QᵀSb)[..d], the norm of the other m − d is the
    // minimum of the sketched problem, ‖S(Ax̃ − b)‖ (without the cancellation of forming
    // S·A·x̃ − S·b).
    let mut qtb = qr.qt(sb, Par::Seq);
    let sketched_residual_norm = mul_pow2(qtb.subrows(d, m - d).norm_l2(), shift_b);
    faer::linalg::triangular_solve::solve_upper_triangular_in_place(
        r.as_ref(),
        qtb.subrows_mut(0, d),
        Par::Seq,
    );
    let y = qtb.subrows(0, d);
    if (0..d).any(|i| !y[(i, 0)].is_finite()) {
        return Err(super::rank_deficient(r.as_ref(), m, n));
    }
    let x = (0..d)
        .map(|i| mul_pow2(y[(i, 0)], shift_b - shift_a))
        .collect();
    let x = super::finite_solution(x, "sketch-and-solve")?;
    let op = DataOp::new(a, par)?;
    let r_tilde = residual(&op, &x, b);
    let residual_norm = norm2(&r_tilde);
    // g = R⁻ᵀ Aᵀ r̃ (the sign of r̃ does not matter for its norm). R is the triangle of 2⁻ᵃ·SA
    // (a = 0 unless the QR copy was scaled), and Aᵀr̃ itself may over- or underflow (A and r̃
    // both near 1e-160 lost digits, near 1e-300 gave 0): with ⌊log₂ max|r̃ᵢ|⌋ = e,
    // g = 2ᵉ·R⁻ᵀAᵀ(2⁻ᵃ⁻ᵉ·r̃), whose product has the size of 2⁻ᵃ·A. Powers of two commute with
    // the products, so on data of ordinary size these are the bits of the unscaled formula.
    let top = r_tilde.iter().fold(0.0f64, |t, v| t.max(v.abs()));
    let g_exponent = exponent(top);
    let scaled: Vec<f64> = r_tilde
        .iter()
        .map(|v| mul_pow2(*v, -shift_a - g_exponent))
        .collect();
    let mut atr = vec![0.0; d];
    op.apply_t(&scaled, &mut atr);
    let mut g = Mat::from_fn(d, 1, |i, _| atr[i]);
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(
        r.transpose(),
        g.as_mut(),
        Par::Seq,
    );
    let excess_estimate = mul_pow2(g.norm_l2(), g_exponent);
    Ok((
        x,
        SketchSolveInfo {
            sketch: sketch.name(),
            sketch_rows: m,
            residual_norm,
            sketched_residual_norm,
            excess_estimate,
            expected_ratio: if m > d + 1 {
                (1.0 + d as f64 / (m - d - 1) as f64).sqrt()
            } else {
                f64::INFINITY
            },
            seconds: t.elapsed().as_secs_f64(),
        },
    ))
}
