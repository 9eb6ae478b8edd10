//! The weighted least-squares fit on the labeled rows.

use super::dense::householder_lstsq;
use crate::error::{Error, Result};
use crate::input::{check_finite_dense, check_finite_slice, Layout, MatrixRef};
use std::collections::BTreeMap;

/// Diagnostics of a fit.
#[derive(Clone, Debug, PartialEq)]
pub struct FitInfo {
    /// Distinct labeled rows used.
    pub labels: usize,
    /// The ridge parameter.
    pub lambda: f64,
    /// Smallest and largest weight.
    pub weight_range: (f64, f64),
    /// `Σ_i w_i` over the labeled rows (≈ `n` for well-normalized weights on an incoherent pool).
    pub weight_sum: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Weighted (ridge) least squares on selected rows:
/// `β̃ = argmin_β Σ_t w_t (x_{r_t}ᵀβ − y_t)² + λ‖β‖²`, by Householder QR of the `k × d` matrix
/// `[√w_t x_{r_t}ᵀ]` (stacked on `√λ·I` when `λ > 0`). Rows may repeat (their weights add).
///
/// The weights of [`Learner::fit`](super::Learner::fit) are normalized so that
/// `Σ_t w_t x_t x_tᵀ ≈ XᵀX`, which is what makes `λ` mean the same as in the full problem
/// `‖Xβ − y‖² + λ‖β‖²`.
///
/// # Errors
/// [`Error::Empty`] for an empty `X` or no rows; [`Error::DimensionMismatch`] when `rows`,
/// `weights` and `labels` differ in length; [`Error::InvalidParameter`] for a row index `≥ n`,
/// a weight that is negative or not finite, or `λ < 0`; [`Error::NonFinite`] for NaN/∞ in `X` or
/// the labels; [`Error::RankDeficient`] when the weighted rows do not determine `β` (fewer than
/// `d` independent rows and `λ = 0`); [`Error::TooLarge`] when the weighted system (`k` selected
/// rows, plus `d` for ridge, times `d`) has more than `2³¹` entries.
///
/// # Performance
/// `O(k·d²)` time and `O(k·d)` memory, plus one pass over a CSC `X` to gather its rows.
pub fn weighted_least_squares(
    x: MatrixRef<'_, f64>,
    rows: &[usize],
    weights: &[f64],
    labels: &[f64],
    lambda: f64,
) -> Result<Vec<f64>> {
    x.require_nonempty("X")?;
    if let MatrixRef::Dense(a) = x {
        check_finite_dense(a, "X")?;
    }
    let (n, d) = (x.nrows(), x.ncols());
    check_args(n, rows, weights, labels, lambda)?;
    // Gather the selected rows (row-major).
    let k = rows.len();
    system_rows(k, d, lambda)?;
    let mut gathered = vec![0.0; k * d];
    match x {
        MatrixRef::Dense(a) => {
            for (t, &r) in rows.iter().enumerate() {
                for j in 0..d {
                    gathered[t * d + j] = a[(r, j)];
                }
            }
        }
        MatrixRef::Sparse(s) if s.layout() == Layout::Csr => {
            for (t, &r) in rows.iter().enumerate() {
                let (idx, val) = s.outer(r);
                for (&j, &v) in idx.iter().zip(val) {
                    gathered[t * d + j] = v;
                }
            }
        }
        MatrixRef::Sparse(s) => {
            let mut pos: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (t, &r) in rows.iter().enumerate() {
                pos.entry(r).or_default().push(t);
            }
            for j in 0..s.outer_dim() {
                let (idx, val) = s.outer(j);
                for (&i, &v) in idx.iter().zip(val) {
                    if let Some(ts) = pos.get(&i) {
                        for &t in ts {
                            gathered[t * d + j] = v;
                        }
                    }
                }
            }
        }
    }
    solve(
        d,
        |t, out| out.copy_from_slice(&gathered[t * d..(t + 1) * d]),
        weights,
        labels,
        lambda,
    )
}

pub(crate) fn check_args(
    n: usize,
    rows: &[usize],
    weights: &[f64],
    labels: &[f64],
    lambda: f64,
) -> Result<()> {
    if rows.is_empty() {
        return Err(Error::empty("the selected rows"));
    }
    if weights.len() != rows.len() {
        return Err(Error::dim(
            "weights vs selected rows",
            rows.len(),
            weights.len(),
        ));
    }
    if labels.len() != rows.len() {
        return Err(Error::dim(
            "labels vs selected rows",
            rows.len(),
            labels.len(),
        ));
    }
    if let Some(&r) = rows.iter().find(|&&r| r >= n) {
        return Err(Error::param(
            "rows",
            format!("row {r} is outside the pool of {n} rows"),
        ));
    }
    if let Some((t, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(Error::param(
            "weights",
            format!("weight {t} is {w}; weights must be finite and ≥ 0"),
        ));
    }
    check_finite_slice(labels, "labels")?;
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(Error::param(
            "lambda",
            format!("λ = {lambda}; the ridge parameter must be finite and ≥ 0"),
        ));
    }
    Ok(())
}

/// The rows of the weighted system for `k` selected rows (plus `d` for ridge), checked against the
/// size limit before anything of size `k·d` is allocated.
fn system_rows(k: usize, d: usize, lambda: f64) -> Result<usize> {
    let extra = if lambda > 0.0 { d } else { 0 };
    let rows = k.saturating_add(extra);
    if rows < d {
        return Err(Error::RankDeficient {
            rank: rows,
            required: d,
        });
    }
    let req = rows as u128 * d as u128;
    if req > 1 << 31 {
        return Err(Error::TooLarge {
            what: format!("the {rows}×{d} weighted least-squares matrix"),
            requested: req,
            limit: 1 << 31,
        });
    }
    Ok(rows)
}

/// Solves the weighted problem given a row filler `fill(t, out)` (`out` has length `d`).
pub(crate) fn solve(
    d: usize,
    fill: impl Fn(usize, &mut [f64]),
    weights: &[f64],
    labels: &[f64],
    lambda: f64,
) -> Result<Vec<f64>> {
    let k = weights.len();
    let rows = system_rows(k, d, lambda)?;
    let mut a = vec![0.0; rows * d];
    let mut b = vec![0.0; rows];
    for t in 0..k {
        let sw = weights[t].sqrt();
        let dst = &mut a[t * d..(t + 1) * d];
        fill(t, dst);
        dst.iter_mut().for_each(|x| *x *= sw);
        b[t] = sw * labels[t];
    }
    let sl = lambda.sqrt();
    for j in 0..rows - k {
        a[(k + j) * d + j] = sl;
    }
    let x = householder_lstsq(&mut a, &mut b, rows, d, 1e-12)
        .map_err(|rank| Error::RankDeficient { rank, required: d })?;
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::Factorization {
            reason: "the weighted least-squares solve produced a non-finite value".into(),
        });
    }
    Ok(x)
}
