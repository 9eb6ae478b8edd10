//! Exact diagnostics for small dense problems: orthonormal bases, condition numbers and the
//! distortion of a sketch on a subspace.

use crate::error::{Error, Result};
use crate::input::{check_finite_dense, MatrixRef};
use crate::sketch::{SketchExt, SketchOperator};
use faer::{Mat, MatRef, Par};

/// An orthonormal basis `Q` (`n × d`) of the column space of a full-column-rank `n × d` matrix,
/// from faer's Householder QR.
///
/// # Errors
/// [`Error::Empty`], [`Error::NonFinite`], or [`Error::InvalidParameter`] when `n < d`.
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
    Ok(a.qr().compute_thin_Q())
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
    let sv = a.singular_values().map_err(|e| Error::Factorization {
        reason: format!("SVD: {e:?}"),
    })?;
    let (max, min) = (sv[0], sv[sv.len() - 1]);
    Ok(if min > 0.0 { max / min } else { f64::INFINITY })
}

/// The distortion `κ(S·Q) = σ_max(SQ)/σ_min(SQ)` of a sketch on the subspace spanned by the
/// orthonormal columns of `Q`: `κ ≤ (1+ε)/(1−ε)` for an ε-subspace embedding. Measured exactly
/// (dense SVD of the `m × d` sketch); `∞` when `S·Q` is rank deficient.
///
/// # Errors
/// As [`SketchExt::apply`] and [`condition_number`].
pub fn distortion(sketch: &dyn SketchOperator<f64>, q: MatRef<'_, f64>, par: Par) -> Result<f64> {
    let sq = sketch.apply(MatrixRef::dense(q)?, par)?;
    condition_number(sq.as_ref())
}
