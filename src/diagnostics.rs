//! Exact diagnostics for small dense problems: orthonormal bases, condition numbers, and the
//! distortion and embedding error of a sketch on a subspace.

use crate::error::{Error, Result};
use crate::input::{check_finite_dense, MatrixRef};
use crate::sketch::{SketchExt, SketchOperator};
use faer::{Mat, MatRef, Par};

/// An orthonormal basis `Q` (`n × d`) of the column space of a full-column-rank `n × d` matrix,
/// from faer's Householder QR `A = QR`.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], [`Error::InvalidParameter`] when `n < d`, and
/// [`Error::RankDeficient`] when some `|R_jj| ≤ max(n, d)·u·max_k ‖a_k‖` (`u` the unit
/// roundoff, `a_k` the columns of `A`): the columns are dependent to working precision and `Q`
/// would span directions outside `range(A)` (an all-zero `A` used to get the first `d` unit
/// vectors); its `rank` is the number of singular values above `max(n, d)·u·σ_max` (at most
/// `d − 1`). The scale is the largest column norm, not the largest `|R_kk|`: a dependent column
/// leaves rounding noise of about `u·‖a_j‖` in `R_jj`, which can be far above
/// `u·max_k |R_kk|` when that column is long (`[g₀, g₁, g₂, 10³·(g₀ + g₁)]` passed as full
/// rank). Since every `|R_jj| ≥ σ_min(A)` and `max_k ‖a_k‖ ≤ ‖A‖₂`, every `A` with
/// `κ(A) < 1/(max(n, d)·u)` passes (9·10¹¹ at `n = 10⁴`).
pub fn orthonormal_basis(a: MatRef<'_, f64>) -> Result<Mat<f64>> {
    if a.nrows() == 0 || a.ncols() == 0 {
        return Err(Error::empty("A"));
    }
    if a.nrows() < a.ncols() {
        return Err(Error::param(
            "A",
            format!("need a tall matrix, got {}×{}", a.nrows(), a.ncols()),
        ));
    }
    check_finite_dense(a, "A")?;
    // `Q` and the rank test do not change when `A` is scaled by a power of two; entries beyond
    // `2^±128` are moved to `[1, 2)` first (a Gaussian `2¹⁰²⁰·A` was "rank 0": its Householder
    // norms overflowed; with subnormal entries `2⁻¹⁰³⁰·A`, "rank 5" of 6).
    let scaled;
    let a = match crate::scalar::shift_toward_range(crate::dense::max_abs(a), 128, 0) {
        Some(e) => {
            scaled = Mat::from_fn(a.nrows(), a.ncols(), |i, j| {
                crate::scalar::mul_pow2(a[(i, j)], -e)
            });
            scaled.as_ref()
        }
        None => a,
    };
    let (q, r_diagonal) = crate::dense::thin_q_and_r_diagonal(a);
    // The largest column norm is within √d of ‖A‖₂, and bounds the rounding noise a dependent
    // column leaves in its `R_jj` (max |R_kk| does not: a long dependent column beside short
    // independent ones has `|R_jj| ≈ u·‖a_j‖ ≫ u·max_k |R_kk|`).
    let scale = (0..a.ncols()).fold(0.0f64, |m, j| m.max(a.col(j).norm_l2()));
    let threshold = a.nrows().max(a.ncols()) as f64 * (f64::EPSILON / 2.0) * scale;
    if r_diagonal.iter().any(|r| r.abs() <= threshold) {
        // faer's unpivoted QR zeroes the rest of R's diagonal after a dependent column, so
        // counting the large `R_jj` gave the dependent column's index (a 256 × 12 A of rank 11
        // with column 3 zero reported rank 3); the rank comes from the singular values, with
        // the same relative threshold. Only on this error path: an SVD costs several QRs.
        let sv = crate::dense::singular_values(a).map_err(|e| Error::Factorization {
            reason: format!("SVD for the rank of a rank-deficient A: {e:?}"),
        })?;
        let threshold = a.nrows().max(a.ncols()) as f64 * (f64::EPSILON / 2.0) * sv[0];
        let rank = sv.iter().filter(|&&s| s > threshold).count();
        return Err(Error::RankDeficient {
            rank: rank.min(a.ncols() - 1),
            required: a.ncols(),
        });
    }
    Ok(q)
}

/// The 2-norm condition number `σ_max/σ_min` of a dense matrix (`∞` when `σ_min = 0`).
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], [`Error::Factorization`] when the SVD does not converge.
pub fn condition_number(a: MatRef<'_, f64>) -> Result<f64> {
    if a.nrows() == 0 || a.ncols() == 0 {
        return Err(Error::empty("matrix"));
    }
    check_finite_dense(a, "matrix")?;
    // κ does not change under scaling: entries far from 1 are scaled by an exact power of two
    // first. `singular_values` scales too (its SVD over- or underflowed, as 1e300·A did), but
    // then returns the singular values at the input's scale, where `σ_max` can exceed
    // `f64::MAX` while `σ_max/σ_min` is finite; here both stay scaled.
    let e = crate::scalar::exponent(crate::dense::max_abs(a));
    let scaled;
    let a = if e.abs() > 128 {
        scaled = faer::Mat::from_fn(a.nrows(), a.ncols(), |i, j| {
            crate::scalar::mul_pow2(a[(i, j)], -e)
        });
        scaled.as_ref()
    } else {
        a
    };
    let sv = crate::dense::singular_values(a).map_err(|e| Error::Factorization {
        reason: format!("SVD: {e:?}"),
    })?;
    let (max, min) = (sv[0], sv[sv.len() - 1]);
    Ok(if min > 0.0 { max / min } else { f64::INFINITY })
}

/// The distortion `κ(S·Q) = σ_max(SQ)/σ_min(SQ)` of a sketch on the subspace spanned by the
/// orthonormal columns of `Q`: `κ ≤ (1+ε)/(1−ε)` for an ε-subspace embedding. Measured exactly
/// (dense SVD of the `m × d` sketch); `∞` when `S·Q` is rank deficient: `m < d`, or
/// `σ_min ≤ max(m, d)·u·σ_max` (`u` the unit roundoff; the rank rule of
/// [`orthonormal_basis`]), where the computed `σ_min` is rounding noise (a sample of one row
/// repeated gave `5.9·10¹⁶`). So every finite value is below `1/(max(m, d)·u)`.
///
/// # Errors
/// As [`SketchExt::apply`] and [`condition_number`].
///
/// # Examples
/// ```
/// use randnla::diagnostics::{distortion, orthonormal_basis};
/// use randnla::sketch::Srht;
/// use randnla::Seed;
/// let a = randnla::faer::Mat::from_fn(8, 3, |i, j| ((i + 1) as f64).powi(j as i32));
/// let q = orthonormal_basis(a.as_ref())?;
/// // An SRHT keeping all 8 rows of the Hadamard transform is orthogonal: no distortion.
/// let full = Srht::new(8, 8, Seed::new(1))?;
/// let kappa = distortion(&full, q.as_ref(), randnla::faer::Par::Seq)?;
/// assert!((kappa - 1.0).abs() < 1e-12, "κ(SQ) = {kappa}");
/// // Two rows cannot embed a 3-dimensional subspace: S·Q is rank deficient.
/// let short = Srht::new(2, 8, Seed::new(1))?;
/// assert_eq!(distortion(&short, q.as_ref(), randnla::faer::Par::Seq)?, f64::INFINITY);
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn distortion(sketch: &dyn SketchOperator<f64>, q: MatRef<'_, f64>, par: Par) -> Result<f64> {
    let par = crate::dense::bounded(par);
    let sq = sketch.apply(MatrixRef::dense(q)?, par)?;
    if sq.nrows() < sq.ncols() {
        // Fewer rows than columns: `S·Q` has rank at most m < d (the singular values alone
        // would only describe its row space).
        return Ok(f64::INFINITY);
    }
    sketched_kappa(sq.as_ref())
}

/// The embedding error `ε = ‖(SQ)ᵀ(SQ) − I‖₂ = max(σ_max² − 1, 1 − σ_min²)` of a sketch on the
/// subspace spanned by the orthonormal columns of `Q` (`σ` the singular values of `S·Q`,
/// `σ_min = 0` when `m < d`): the smallest `ε` with `(1 − ε)‖y‖² ≤ ‖S·Q·y‖² ≤ (1 + ε)‖y‖²` for
/// every `y`, i.e. `S` is an ε-subspace embedding of `range(Q)` exactly when this is `≤ ε`.
///
/// Unlike [`distortion`]'s `κ(S·Q)`, which no scaling of `S` changes, `ε` sees the scale: a
/// row sample of `[I_d; 10⁻³·G]` that misses every one of the first `d` rows leaves `S·Q`
/// small but well conditioned, `κ` near 1 and `ε` near 1 (the tour's leverage section shows
/// both). Where only the geometry matters (a preconditioner, sketch-and-solve's argmin), `κ` is
/// the figure; where norms are estimated from `‖S·x‖`, `ε` is. Measured exactly (dense SVD
/// of the `m × d` sketch).
///
/// # Errors
/// As [`distortion`], and [`Error::NonFinite`] when `σ_max(S·Q)²` overflows `f64` (beyond
/// `≈ 1.3·10¹⁵⁴`: a `Q` far from orthonormal, or a sketch with entries of that size).
///
/// # Examples
/// ```
/// use randnla::diagnostics::{embedding_error, orthonormal_basis};
/// use randnla::sketch::Srht;
/// use randnla::Seed;
/// let a = randnla::faer::Mat::from_fn(8, 3, |i, j| ((i + 1) as f64).powi(j as i32));
/// let q = orthonormal_basis(a.as_ref())?;
/// // All 8 rows of the Hadamard transform: an orthogonal S, so ‖SQy‖ = ‖y‖ for every y.
/// let full = Srht::new(8, 8, Seed::new(1))?;
/// assert!(embedding_error(&full, q.as_ref(), randnla::faer::Par::Seq)? < 1e-12);
/// // Two rows leave a direction y with S·Q·y = 0: ε ≥ 1.
/// let short = Srht::new(2, 8, Seed::new(1))?;
/// assert!(embedding_error(&short, q.as_ref(), randnla::faer::Par::Seq)? >= 1.0);
/// # Ok::<(), randnla::Error>(())
/// ```
///
/// # References
/// D. P. Woodruff, "Sketching as a Tool for Numerical Linear Algebra", Foundations and Trends
/// in Theoretical Computer Science 10 (2014) (subspace embeddings, §2.1).
pub fn embedding_error(
    sketch: &dyn SketchOperator<f64>,
    q: MatRef<'_, f64>,
    par: Par,
) -> Result<f64> {
    let par = crate::dense::bounded(par);
    let sq = sketch.apply(MatrixRef::dense(q)?, par)?;
    let sv = crate::dense::singular_values(sq.as_ref()).map_err(|e| Error::Factorization {
        reason: format!("SVD: {e:?}"),
    })?;
    let max = sv.first().copied().unwrap_or(0.0);
    let min = match sv.last() {
        Some(&min) if sq.nrows() >= sq.ncols() => min,
        _ => 0.0,
    };
    let eps = (max * max - 1.0).max(1.0 - min * min);
    crate::input::check_finite_slice(&[eps], "ε = ‖(SQ)ᵀSQ − I‖₂ (σ_max(SQ)² overflowed f64)")?;
    Ok(eps)
}

/// `κ(X)` of a sketched basis `X` (`m × d`, `m ≥ d`), `∞` when `X` is rank deficient to working
/// precision (`σ_min ≤ max(m, d)·u·σ_max`, as [`orthonormal_basis`] decides rank): beyond it
/// the SVD's `σ_min` is rounding noise, and a rank-1 `X` gave a finite `κ ≈ 6·10¹⁶`.
fn sketched_kappa(x: MatRef<'_, f64>) -> Result<f64> {
    let kappa = condition_number(x)?;
    let tolerance = x.nrows().max(x.ncols()) as f64 * (f64::EPSILON / 2.0);
    Ok(if kappa * tolerance >= 1.0 {
        f64::INFINITY
    } else {
        kappa
    })
}

/// The Gram matrix `AᵀA` (`d × d`) of a dense or sparse matrix.
///
/// # Performance
/// Sparse: `O(Σᵢ nnz(rowᵢ)²)` with one CSR pass (a CSC input is transposed first, `O(nnz)`).
/// Dense: one `faer` matrix product, `O(n·d²)`.
///
/// # Errors
/// [`Error::Empty`] when `A` has no rows or no columns; [`Error::TooLarge`] when the `d × d`
/// result, or for CSC input the `n + 1` row pointers of its CSR copy, cannot be allocated (a
/// sparse matrix may declare far more rows and columns than it stores); [`Error::NonFinite`]
/// when an entry of `AᵀA` overflows (entries of `A` beyond ≈ 10¹⁵⁴), or naming the entry of an
/// unvalidated `MatrixRef::Dense` that is NaN or ∞.
pub fn gram(a: MatrixRef<'_, f64>, par: Par) -> Result<Mat<f64>> {
    a.require_nonempty("A")?;
    let par = crate::dense::bounded(par);
    let d = a.ncols();
    let mut g = crate::input::zeros_or_too_large::<f64>(d, d, "Gram matrix")?;
    match a {
        MatrixRef::Dense(a) => {
            faer::linalg::matmul::matmul(
                g.as_mut(),
                faer::Accum::Replace,
                a.transpose(),
                a,
                1.0,
                crate::dense::par_for_result(par, d, d),
            );
        }
        MatrixRef::Sparse(s) => {
            let mut add_row = |idx: &[usize], val: &[f64]| {
                for (p, (&j, &vj)) in idx.iter().zip(val).enumerate() {
                    for (&k, &vk) in idx[..=p].iter().zip(&val[..=p]) {
                        g[(j, k)] += vj * vk;
                    }
                }
            };
            match s.layout() {
                crate::input::Layout::Csr => {
                    for i in 0..s.outer_dim() {
                        let (idx, val) = s.outer(i);
                        add_row(idx, val);
                    }
                }
                crate::input::Layout::Csc => {
                    let t = crate::sketch::csr_rows_of_csc(&s, par)?;
                    for i in 0..s.nrows() {
                        let r = t.indptr[i]..t.indptr[i + 1];
                        add_row(&t.indices[r.clone()], &t.data[r]);
                    }
                }
            }
            // Only the lower triangle was accumulated; mirror it.
            for j in 0..d {
                for k in 0..j {
                    g[(k, j)] = g[(j, k)];
                }
            }
        }
    }
    if let Err(overflow) = check_finite_dense(
        g.as_ref(),
        "the Gram matrix AᵀA (it overflowed f64: scale A down)",
    ) {
        // A `MatrixRef::Dense` built without validation may hold the NaN or ∞ itself: name it
        // rather than blame an overflow (sparse views are always validated).
        if let MatrixRef::Dense(m) = a {
            check_finite_dense(m, "A (an unvalidated MatrixRef::Dense)")?;
        }
        return Err(overflow);
    }
    Ok(g)
}

/// Dense inputs up to this many entries get an exact thin QR in [`RangeBasis::new`].
const EXACT_QR_LIMIT: usize = 20_000_000;

/// A basis of `range(A)` prepared once, to measure the distortion of many sketches on it.
///
/// When `A` (`n × d`, full column rank) has at most `2·10⁷` entries it is densified and `Q` comes
/// from a Householder QR (exact to rounding). Otherwise `Q = A·R⁻¹` with `R` the Cholesky factor of
/// `AᵀA`, so `κ(SQ) = κ((SA)·R⁻¹)` is computed from `S·A` alone, in input-sparsity time; that route
/// squares the condition number of `A` and is accurate while `κ(A)² ≪ 1/u`, i.e. `κ(A) ≲ 10⁶`.
#[derive(Clone, Debug)]
pub struct RangeBasis {
    /// The shape `n × d` of the `A` the basis was built from.
    shape: (usize, usize),
    basis: Basis,
}

#[derive(Clone, Debug)]
enum Basis {
    Orthonormal(Mat<f64>),
    /// The Cholesky factor `L` of `(2⁻ˢA)ᵀ(2⁻ˢA)`, and the shift `s`.
    CholeskyFactor(Mat<f64>, i32),
}

impl RangeBasis {
    /// Prepares the basis of `range(A)`.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::InvalidParameter`] when `n < d`, [`Error::RankDeficient`] as
    /// [`orthonormal_basis`] (small inputs) or when the Cholesky factorization `AᵀA = LLᵀ` fails
    /// or has a pivot `L_jj ≤ 2⁻²²·‖a_j‖` (large ones: the column `a_j` is dependent on the
    /// others to the precision of `AᵀA`; every `A` with `κ(A) < 2²² ≈ 4·10⁶` passes);
    /// [`Error::NonFinite`] for a NaN or ±∞ in a dense `A` built as `MatrixRef::Dense(view)`
    /// without validation; [`Error::TooLarge`] as [`gram`] and [`MatrixRef::to_dense`], or when the
    /// copy of a large `A` scaled by a power of two cannot be allocated.
    ///
    /// The result does not depend on the scale of `A`: on the large-input route, an `A` whose
    /// largest entry is beyond `2^±128` is scaled by a power of two (a copy: `O(nnz)` or
    /// `O(n·d)` memory) before `AᵀA` is formed, which would otherwise under- or overflow, and
    /// again before it is sketched in [`RangeBasis::distortion`].
    ///
    /// # Performance
    /// Small inputs: `O(n·d²)` (dense QR). Large: `O(Σᵢ nnz(rowᵢ)² + d³)`.
    pub fn new(a: MatrixRef<'_, f64>, par: Par) -> Result<Self> {
        let par = crate::dense::bounded(par);
        Self::with_exact_limit(a, par, EXACT_QR_LIMIT)
    }

    fn with_exact_limit(a: MatrixRef<'_, f64>, par: Par, exact_limit: usize) -> Result<Self> {
        a.require_nonempty("A")?;
        let (n, d) = (a.nrows(), a.ncols());
        if n < d {
            return Err(Error::param(
                "A",
                format!("need a tall matrix, got {n}×{d}"),
            ));
        }
        if n.saturating_mul(d) <= exact_limit {
            let q = orthonormal_basis(a.to_dense()?.as_ref())?;
            return Ok(RangeBasis {
                shape: (n, d),
                basis: Basis::Orthonormal(q),
            });
        }
        // κ((SA)·R⁻¹) does not change when `A` is scaled by a power of two, but `AᵀA` squares
        // the entries: a full-rank `A` near `2⁻⁷⁰⁰` was "rank 0" (its Gram matrix underflowed
        // to zero) and one near `2⁷⁰⁰` an overflowed Gram matrix. Entries beyond `2^±128` are
        // moved to `[1, 2)` (a scaled copy; only then), and `S·A` by the same shift below.
        let shift =
            crate::scalar::shift_toward_range(crate::input::max_abs_entry(a), 128, 0).unwrap_or(0);
        let g = if shift == 0 {
            gram(a, par)?
        } else {
            let copy = crate::input::Pow2Scaled::new(a, shift)?;
            gram(copy.view(a), par)?
        };
        // A column dependent on the others leaves only the rounding noise of `AᵀA` in its pivot:
        // `L_jj ≈ 10⁻⁸·‖a_j‖` (measured 1.5–6·10⁻⁸; `√u·‖a_j‖` times a small factor), positive
        // about half of the time, and then `κ((SA)·R⁻¹)` is a finite number of no meaning (a
        // third column `3·a₀ + 0.1·a₁` measured 3.5·10⁷). A pivot below `2⁻²²·‖a_j‖ ≈
        // 2.4·10⁻⁷·‖a_j‖` is refused as dependent: there `κ(A)² ≥ 2⁴⁴` and this route keeps no
        // more than about two digits, while every `A` with `κ(A) < 2²²` passes (`L_jj ≥ σ_min`
        // and `‖a_j‖ ≤ ‖A‖₂`). The rank reported is the first such column: the pivots after a
        // noise pivot are noise over noise, which may pass the test or fail the factorization.
        let first_dependent = |l: MatRef<'_, f64>| {
            (0..l.ncols()).position(|j| {
                let floor = crate::scalar::mul_pow2(g[(j, j)].sqrt(), -22);
                // Not above the floor (a NaN pivot included).
                l[(j, j)].partial_cmp(&floor) != Some(std::cmp::Ordering::Greater)
            })
        };
        let l = match g.llt(faer::Side::Lower) {
            Ok(llt) => llt.L().to_owned(),
            Err(faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index }) => {
                // The leading `index` columns were factored: a dependent one among them is the
                // rank (a lower bound), else `index`.
                let rank = match index {
                    0 => 0,
                    k => g
                        .as_ref()
                        .submatrix(0, 0, k, k)
                        .llt(faer::Side::Lower)
                        .ok()
                        .and_then(|f| first_dependent(f.L()))
                        .unwrap_or(k),
                };
                return Err(Error::RankDeficient { rank, required: d });
            }
        };
        if let Some(rank) = first_dependent(l.as_ref()) {
            return Err(Error::RankDeficient { rank, required: d });
        }
        Ok(RangeBasis {
            shape: (n, d),
            basis: Basis::CholeskyFactor(l, shift),
        })
    }

    /// `κ(S·Q)` for the sketch `S`; `a` must be the matrix the basis was built from.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `a`'s shape differs from the basis's, and the errors of
    /// [`SketchExt::apply`] and [`condition_number`]; [`Error::TooLarge`] when the copy of a
    /// large `A` scaled by a power of two (see [`RangeBasis::new`]) cannot be allocated.
    ///
    /// # Performance
    /// Small inputs: one sketch of `Q` and an SVD. Large: one sketch of `A` (of its scaled copy,
    /// `O(nnz)` or `O(n·d)` more time and memory, when `A` is beyond `2^±128`), a triangular
    /// solve and an SVD of the `m × d` result.
    pub fn distortion(
        &self,
        sketch: &dyn SketchOperator<f64>,
        a: MatrixRef<'_, f64>,
        par: Par,
    ) -> Result<f64> {
        let par = crate::dense::bounded(par);
        // Both dimensions, on both routes: the error named "rows" with two equal numbers when
        // only the columns differed, and the Cholesky route did not compare the rows at all.
        let (n, d) = self.shape;
        if a.ncols() != d {
            return Err(Error::dim("columns of A vs the basis", d, a.ncols()));
        }
        if a.nrows() != n {
            return Err(Error::dim("rows of A vs the basis", n, a.nrows()));
        }
        match &self.basis {
            Basis::Orthonormal(q) => distortion(sketch, q.as_ref(), par),
            Basis::CholeskyFactor(l, shift) => {
                // (S·2⁻ˢA)·(2⁻ˢR)⁻¹ = (SA)·R⁻¹. The sketch is applied to the scaled copy, not
                // scaled after: `S·A` itself overflowed for entries near `2¹⁰¹⁹` (an error where
                // the exact route measures) and lost bits to subnormal sums near `2⁻¹⁰⁶⁰`.
                let sa = if *shift == 0 {
                    sketch.apply(a, par)?
                } else {
                    let copy = crate::input::Pow2Scaled::new(a, *shift)?;
                    sketch.apply(copy.view(a), par)?
                };
                if sa.nrows() < sa.ncols() {
                    return Ok(f64::INFINITY); // rank at most m < d, as in [`distortion`]
                }
                // (SA)·R⁻¹ with R = Lᵀ: solve L·Xᵀ = (SA)ᵀ.
                let mut xt = sa.transpose().to_owned();
                let par = crate::dense::par_for_result(par, xt.nrows(), xt.ncols());
                faer::linalg::triangular_solve::solve_lower_triangular_in_place(
                    l.as_ref(),
                    xt.as_mut(),
                    par,
                );
                sketched_kappa(xt.transpose())
            }
        }
    }
}

/// The distortion `κ(S·Q)` of a sketch on the column space of a full-rank `n × d` matrix `A`
/// (dense or sparse): [`RangeBasis::new`] followed by [`RangeBasis::distortion`].
///
/// # Errors
/// As those two.
pub fn distortion_on_range(
    sketch: &dyn SketchOperator<f64>,
    a: MatrixRef<'_, f64>,
    par: Par,
) -> Result<f64> {
    let par = crate::dense::bounded(par);
    RangeBasis::new(a, par)?.distortion(sketch, a, par)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::SparseSign;
    use crate::Seed;

    /// The rank a rank-deficient `A` is refused with is its rank: a 256 × 12 Gaussian `A` with
    /// one column zeroed or replaced by twice another has rank 11 wherever that column is (faer's
    /// QR zeroes R's diagonal after the dependent column, and counting it reported 0 to 4).
    #[test]
    fn orthonormal_basis_reports_the_rank_of_a_rank_deficient_a() {
        let g = crate::problems::gaussian_matrix(256, 12, Seed::new(1)).unwrap();
        for col in [0usize, 3, 11] {
            for doubled in [false, true] {
                let mut a = g.clone();
                for i in 0..256 {
                    a[(i, col)] = if doubled {
                        2.0 * a[(i, (col + 1) % 12)]
                    } else {
                        0.0
                    };
                }
                let r = orthonormal_basis(a.as_ref());
                assert!(
                    matches!(
                        r,
                        Err(Error::RankDeficient {
                            rank: 11,
                            required: 12
                        })
                    ),
                    "column {col} (doubled: {doubled}): {:?}",
                    r.map(drop)
                );
            }
        }
        let zero = Mat::<f64>::zeros(5, 2);
        assert!(matches!(
            orthonormal_basis(zero.as_ref()),
            Err(Error::RankDeficient {
                rank: 0,
                required: 2
            })
        ));
    }

    /// κ is the same to the bit for `2ᵏ·A` over the whole range (an audit found the SVD of
    /// `1e300·A` not converging), `∞` for a zero matrix, and a lone huge entry has κ = ∞.
    #[test]
    fn condition_number_is_scale_invariant() {
        let a = crate::problems::gaussian_matrix(50, 6, Seed::new(4)).unwrap();
        let kappa = condition_number(a.as_ref()).unwrap();
        assert!(kappa > 1.0 && kappa < 10.0, "{kappa}");
        for k in [-1060, -1000, -700, -130, 130, 700, 1000, 1015] {
            let scaled = Mat::from_fn(50, 6, |i, j| crate::scalar::mul_pow2(a[(i, j)], k));
            let got = condition_number(scaled.as_ref()).unwrap();
            if k >= -1000 {
                assert_eq!(got.to_bits(), kappa.to_bits(), "2^{k}");
            } else {
                // Subnormal entries keep fewer digits.
                assert!(
                    (got - kappa).abs() <= 1e-3 * kappa,
                    "2^{k}: {got} vs {kappa}"
                );
            }
        }
        assert_eq!(
            condition_number(Mat::<f64>::zeros(4, 3).as_ref()).unwrap(),
            f64::INFINITY
        );
        let lone = Mat::from_fn(4, 3, |i, j| if i == 0 && j == 0 { 1e300 } else { 0.0 });
        assert_eq!(condition_number(lone.as_ref()).unwrap(), f64::INFINITY);
        // Singular values beyond `f64::MAX`, a finite ratio: `1.5·2¹⁰²³·[1 1; −1 1]` has both
        // `σ = 1.5·√2·2¹⁰²³`, so κ = 1 (to rounding), not ∞/∞.
        let big = 1.5 * f64::powi(2.0, 1023);
        let rotation = Mat::from_fn(2, 2, |i, j| if i == 1 && j == 0 { -big } else { big });
        let got = condition_number(rotation.as_ref()).unwrap();
        assert!((got - 1.0).abs() < 1e-14, "{got}");
    }

    /// An overflowing Gram matrix is an error, dense and sparse (an audit found `Ok(∞)` for
    /// `1e300·A`); `1e150·A` is still formed.
    #[test]
    fn an_overflowing_gram_matrix_is_an_error() {
        let a = crate::problems::random_sparse(40, 5, 3, Seed::new(5)).unwrap();
        for (scale, overflows) in [(1e300, true), (1e150, false)] {
            let s = a.map(|v| v * scale);
            let dense = MatrixRef::sparse(&s).unwrap().to_dense().unwrap();
            for view in [
                MatrixRef::sparse(&s).unwrap(),
                MatrixRef::dense(dense.as_ref()).unwrap(),
            ] {
                let g = gram(view, Par::Seq);
                assert_eq!(
                    matches!(g, Err(Error::NonFinite { .. })),
                    overflows,
                    "{scale:e}"
                );
            }
        }
    }

    /// An unvalidated `MatrixRef::Dense` holding NaN is named as such (it was reported as an
    /// overflowed Gram matrix, "scale A down"); an overflow of finite entries still says so.
    #[test]
    fn gram_names_a_non_finite_unvalidated_input_not_an_overflow() {
        let mut a = Mat::from_fn(6, 3, |i, j| (i + 2 * j) as f64);
        a[(4, 1)] = f64::NAN;
        match gram(MatrixRef::Dense(a.as_ref()), Par::Seq) {
            Err(Error::NonFinite { what, row, col }) => {
                assert!(
                    what.contains("unvalidated") && !what.contains("overflow"),
                    "{what}"
                );
                assert_eq!((row, col), (4, 1));
            }
            other => panic!("{other:?}"),
        }
        a[(4, 1)] = 1e200;
        match gram(MatrixRef::Dense(a.as_ref()), Par::Seq) {
            Err(Error::NonFinite { what, .. }) => assert!(what.contains("overflowed"), "{what}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cholesky_route_agrees_with_the_exact_qr_route() {
        let a = crate::problems::random_sparse(3000, 20, 4, Seed::new(1)).unwrap();
        let s = SparseSign::new(60, 3000, 8, Seed::new(2)).unwrap();
        for csr in [true, false] {
            let m = if csr { a.clone() } else { a.to_csc() };
            let view = MatrixRef::sparse(&m).unwrap();
            let exact = RangeBasis::with_exact_limit(view, Par::Seq, usize::MAX)
                .and_then(|b| b.distortion(&s, view, Par::Seq))
                .unwrap();
            let chol = RangeBasis::with_exact_limit(view, Par::Seq, 0)
                .and_then(|b| b.distortion(&s, view, Par::Seq))
                .unwrap();
            assert!((exact - chol).abs() < 1e-10 * exact, "{exact} vs {chol}");
        }
        // A rank-deficient matrix makes the Cholesky route fail with an error, not a panic.
        let z = Mat::<f64>::zeros(100, 3);
        let r = RangeBasis::with_exact_limit(MatrixRef::dense(z.as_ref()).unwrap(), Par::Seq, 0);
        assert!(matches!(r, Err(Error::RankDeficient { .. })));
        // A basis used with a matrix of another shape is an error.
        let b = RangeBasis::new(MatrixRef::sparse(&a).unwrap(), Par::Seq).unwrap();
        let other = Mat::<f64>::zeros(100, 20);
        let r = b.distortion(
            &s_small(),
            MatrixRef::dense(other.as_ref()).unwrap(),
            Par::Seq,
        );
        assert!(r.is_err());
    }

    /// The exact route refuses a rank-deficient `A` as the Cholesky route does, instead of
    /// measuring the sketch on a basis of some other subspace (an all-zero `A` gave κ = 2.31).
    #[test]
    fn rank_deficient_inputs_are_refused_on_both_routes() {
        let s = SparseSign::new(40, 200, 8, Seed::new(2)).unwrap();
        let zero = Mat::<f64>::zeros(200, 5);
        let g = crate::problems::gaussian_matrix(200, 5, Seed::new(3)).unwrap();
        let mut dup = g.clone();
        for i in 0..200 {
            dup[(i, 4)] = 3.0 * g[(i, 1)];
        }
        for (name, a, rank) in [("zero", &zero, 0), ("duplicate column", &dup, 4)] {
            let r = orthonormal_basis(a.as_ref());
            assert!(
                matches!(r, Err(Error::RankDeficient { rank: k, required: 5 }) if k == rank),
                "{name}: {r:?}"
            );
            let r = distortion_on_range(&s, MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq);
            assert!(
                matches!(r, Err(Error::RankDeficient { .. })),
                "{name}: {r:?}"
            );
        }
        // Full rank but ill-conditioned (κ = 1e10 by column scaling) still has a basis.
        let scaled = Mat::from_fn(200, 5, |i, j| g[(i, j)] * 10f64.powi(-(10 * j as i32) / 4));
        assert!(orthonormal_basis(scaled.as_ref()).is_ok());
    }

    /// The Cholesky route reports as `rank` the first column it finds dependent, a lower bound
    /// on the rank as [`Error::RankDeficient`] promises, also where a later pivot (noise over
    /// noise) fails or passes the relative test. `A = [c₀ c₁ c₂ c₃ c₄]`, `c₂ = 0.1c₀ + 0.3c₁`
    /// and `c₃ = 0.2c₀ − 0.7c₁ + 0.5c₂` (rank 2, then the independent `c₄`), for several data:
    /// each gives `rank: 2`. (Before, a failed pivot `j` was reported as rank `j`, and a passed
    /// factorization as the number of pivots above the test, counting noise ones.)
    #[test]
    fn cholesky_route_reports_the_first_dependent_column() {
        for seed in 0..8 {
            let g = crate::problems::gaussian_matrix(300, 3, Seed::new(40 + seed)).unwrap();
            let a = Mat::from_fn(300, 5, |i, j| {
                let c2 = 0.1 * g[(i, 0)] + 0.3 * g[(i, 1)];
                match j {
                    0 | 1 => g[(i, j)],
                    2 => c2,
                    3 => 0.2 * g[(i, 0)] - 0.7 * g[(i, 1)] + 0.5 * c2,
                    _ => g[(i, 2)],
                }
            });
            let r =
                RangeBasis::with_exact_limit(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq, 0);
            assert!(
                matches!(
                    r,
                    Err(Error::RankDeficient {
                        rank: 2,
                        required: 5
                    })
                ),
                "seed {seed}: {r:?}"
            );
        }
    }

    /// The Cholesky route scales `A` by a power of two before forming `AᵀA` (dense and sparse):
    /// `2^±700·A` measures as `A` does (it was "rank 0" and an overflowed Gram matrix).
    #[test]
    fn cholesky_route_is_scale_invariant() {
        let a = crate::problems::random_sparse(400, 6, 3, Seed::new(6)).unwrap();
        let s = SparseSign::new(40, 400, 8, Seed::new(2)).unwrap();
        let kappa = RangeBasis::with_exact_limit(MatrixRef::sparse(&a).unwrap(), Par::Seq, 0)
            .and_then(|b| b.distortion(&s, MatrixRef::sparse(&a).unwrap(), Par::Seq))
            .unwrap();
        for k in [-700, 700] {
            let scaled = a.map(|&v| crate::scalar::mul_pow2(v, k));
            let dense = MatrixRef::sparse(&scaled).unwrap().to_dense().unwrap();
            for view in [
                MatrixRef::sparse(&scaled).unwrap(),
                MatrixRef::dense(dense.as_ref()).unwrap(),
            ] {
                let got = RangeBasis::with_exact_limit(view, Par::Seq, 0)
                    .and_then(|b| b.distortion(&s, view, Par::Seq))
                    .unwrap();
                assert!(
                    (got - kappa).abs() < 1e-12 * kappa,
                    "2^{k}: {got} vs {kappa}"
                );
            }
        }
    }

    /// `RangeBasis::new` takes the exact QR route up to and including `EXACT_QR_LIMIT` entries
    /// and the Cholesky route beyond, as its docs say. The two are told apart by a matrix with
    /// `κ(A) ≈ 2·10⁸`: columns `a₀ = e₀` and `a₁ = e₀ + 10⁻⁸·e₁` (the rest `e_j`). The QR keeps
    /// `|R₁₁| ≈ 7·10⁻⁹`, far above its rank threshold `n·u·max‖a_k‖ ≈ 3·10⁻¹¹`; the Gram matrix
    /// rounds `1 + 10⁻¹⁶` to 1, so its Cholesky factor has a zero pivot and the route refuses the
    /// matrix as rank-deficient. The zero rows below row `d` make the size without making work
    /// for the Cholesky route (the exact route densifies them: 160 MB).
    #[test]
    fn the_exact_qr_route_ends_at_its_documented_size() {
        let d = 100;
        let nearly_collinear = |n: usize| {
            let mut t = sprs::TriMat::new((n, d));
            t.add_triplet(0, 0, 1.0);
            t.add_triplet(0, 1, 1.0);
            t.add_triplet(1, 1, 1e-8);
            for j in 2..d {
                t.add_triplet(j, j, 1.0);
            }
            t.to_csr::<usize>()
        };
        let at_limit = nearly_collinear(EXACT_QR_LIMIT / d);
        assert_eq!(at_limit.rows() * d, EXACT_QR_LIMIT);
        let exact = RangeBasis::new(MatrixRef::sparse(&at_limit).unwrap(), Par::Seq);
        assert!(matches!(
            exact,
            Ok(RangeBasis {
                basis: Basis::Orthonormal(_),
                ..
            })
        ));
        let beyond = nearly_collinear(EXACT_QR_LIMIT / d + 1);
        match RangeBasis::new(MatrixRef::sparse(&beyond).unwrap(), Par::Seq) {
            Err(Error::RankDeficient { rank, required }) => assert_eq!((rank, required), (1, d)),
            other => panic!("{other:?}"),
        }
    }

    /// `embedding_error` is `max(λ_max − 1, 1 − λ_min)` over the eigenvalues of `(SQ)ᵀSQ`
    /// (an independent route, to 10⁻¹²); it sees a sample that misses the coherent rows, which
    /// `distortion` does not: scores 0 on the first `d` rows of `[I_d; 10⁻³·G]` keep them out of
    /// every draw, and `S·Q` is then small (`ε > 0.9`) but well conditioned (`κ < 10`). A sketch
    /// with fewer rows than `d` has `ε ≥ 1`; a `Q` of the wrong height, or one whose `σ_max(SQ)²`
    /// overflows, is an error.
    #[test]
    fn embedding_error_is_the_gram_matrix_distance_from_identity() {
        use crate::sketch::sampling::RowSampling;
        let (n, d) = (2000, 10);
        let a = crate::problems::coherent_matrix(n, d, 1e-3, Seed::new(1)).unwrap();
        let q = orthonormal_basis(a.as_ref()).unwrap();
        let reference = |s: &dyn SketchOperator<f64>| {
            let sq = s
                .apply(MatrixRef::dense(q.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            let gram = sq.transpose() * &sq;
            let eig = gram.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
            let lo = eig.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = eig.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (hi - 1.0).max(1.0 - lo)
        };
        let sign = SparseSign::new(8 * d, n, 8, Seed::new(2)).unwrap();
        let mut scores = vec![1.0; n];
        scores[..d].iter_mut().for_each(|w| *w = 0.0);
        let blind = RowSampling::with_replacement(&scores, 40 * d, Seed::new(3)).unwrap();
        for s in [&sign as &dyn SketchOperator<f64>, &blind] {
            let eps = embedding_error(s, q.as_ref(), Par::Seq).unwrap();
            let want = reference(s);
            assert!(
                (eps - want).abs() <= 1e-12 * want.max(1.0),
                "{eps} vs {want}"
            );
        }
        let eps = embedding_error(&blind, q.as_ref(), Par::Seq).unwrap();
        let kappa = distortion(&blind, q.as_ref(), Par::Seq).unwrap();
        assert!(eps > 0.9 && kappa < 10.0, "ε = {eps}, κ = {kappa}");
        let short = SparseSign::new(d - 1, n, 8, Seed::new(2)).unwrap();
        assert!(embedding_error(&short, q.as_ref(), Par::Seq).unwrap() >= 1.0);
        let wrong = Mat::<f64>::zeros(n - 1, d);
        assert!(matches!(
            embedding_error(&sign, wrong.as_ref(), Par::Seq),
            Err(Error::DimensionMismatch { .. })
        ));
        // σ_max² beyond f64 (a "Q" of norm 10²⁰⁰): an error, not Ok(∞).
        let huge = Mat::from_fn(n, d, |i, j| if i == j { 1e200 } else { 0.0 });
        match embedding_error(&sign, huge.as_ref(), Par::Seq) {
            Err(Error::NonFinite { what, .. }) => assert!(what.contains("overflowed"), "{what}"),
            other => panic!("{other:?}"),
        }
    }

    fn s_small() -> SparseSign {
        SparseSign::new(10, 100, 2, Seed::new(3)).unwrap()
    }

    #[test]
    fn gram_matches_dense_product() {
        let a = crate::problems::random_sparse(200, 7, 3, Seed::new(4)).unwrap();
        let d = MatrixRef::sparse(&a).unwrap().to_dense().unwrap();
        let g0 = gram(MatrixRef::dense(d.as_ref()).unwrap(), Par::Seq).unwrap();
        for m in [a.clone(), a.to_csc()] {
            let g = gram(MatrixRef::sparse(&m).unwrap(), Par::Seq).unwrap();
            for j in 0..7 {
                for k in 0..7 {
                    assert!((g[(j, k)] - g0[(j, k)]).abs() < 1e-12 * g0[(j, j)]);
                }
            }
        }
    }

    #[test]
    fn gram_of_a_huge_declared_shape_is_too_large_not_an_abort() {
        use crate::input::SparseRef;
        // One stored entry; 2^62 columns (a 2^124-entry Gram matrix) or, for CSC, 2^62 rows
        // whose CSR copy would need 2^62 + 1 pointers.
        let huge = 1usize << 62;
        let wide = SparseRef::try_csr(1, huge, &[0, 1], &[7], &[2.0]).unwrap();
        let tall = SparseRef::try_csc(huge, 1, &[0, 1], &[7], &[2.0]).unwrap();
        for a in [wide, tall] {
            match gram(MatrixRef::Sparse(a), Par::Seq) {
                Err(Error::TooLarge { requested, .. }) => assert!(requested > 1 << 61),
                other => panic!("{other:?}"),
            }
        }
    }
}
