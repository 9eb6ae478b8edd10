//! The weighted least-squares fit on the labeled rows.

use super::dense::householder_lstsq;
use crate::error::{Error, Result};
use crate::input::{
    check_finite_dense, check_finite_slice, filled_or_too_large, Layout, MatrixRef,
};
use crate::scalar::{exponent, mul_pow2};
use std::collections::BTreeMap;

/// Diagnostics of a fit.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
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
/// `d` independent rows) and `λ` is 0 or too small to: the rank test `|R_jj| ≤ 10⁻¹²·max|R_jj|`
/// applies to the QR of the weighted rows stacked on `√λ·I` (columns equilibrated), so `√λ`
/// below about `10⁻¹²` of the weighted rows' scale does not count (one row `(1, 1)`, weight 1:
/// `λ = 10⁻²⁰` is solved, `λ = 10⁻²⁶` is rank deficient); [`Error::TooLarge`] when the
/// weighted system (`k` selected rows, plus `d` for ridge, times `d`) has more than `2³¹`
/// entries or cannot be allocated;
/// [`Error::Factorization`] when the solve produces a non-finite value (`β` itself does not fit in
/// `f64`; `X` and the labels are brought into range by powers of two first).
///
/// # Performance
/// `O(k·d²)` time and `O(k·d)` memory (the weighted system, built once), plus one pass over a
/// CSC `X` to gather the stored entries of its selected rows.
///
/// # Examples
///
/// Rows `(1, 0)`, `(0, 1)`, `(1, 1)` with weights 1, 1, 2: the normal equations
/// `[3 2; 2 3]·β = (9, 10)` give `β = (7/5, 12/5)`. Row 2 listed twice with weight 1 each is the
/// same problem.
///
/// ```
/// use randnla::active::weighted_least_squares;
/// use randnla::MatrixRef;
/// let x = randnla::faer::mat![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let x = MatrixRef::dense(x.as_ref())?;
/// let beta = weighted_least_squares(x, &[0, 1, 2], &[1.0, 1.0, 2.0], &[1.0, 2.0, 4.0], 0.0)?;
/// assert!((beta[0] - 1.4).abs() < 1e-14 && (beta[1] - 2.4).abs() < 1e-14);
/// let repeated = weighted_least_squares(x, &[0, 1, 2, 2], &[1.0; 4], &[1.0, 2.0, 4.0, 4.0], 0.0)?;
/// assert!((repeated[0] - 1.4).abs() < 1e-14 && (repeated[1] - 2.4).abs() < 1e-14);
/// // Ridge adds λ·I to the normal equations: [4 2; 2 4]·β = (9, 10) gives β = (4/3, 11/6).
/// let ridge = weighted_least_squares(x, &[0, 1, 2], &[1.0, 1.0, 2.0], &[1.0, 2.0, 4.0], 1.0)?;
/// assert!((ridge[0] - 4.0 / 3.0).abs() < 1e-14 && (ridge[1] - 11.0 / 6.0).abs() < 1e-14);
/// // Two rows cannot determine β when they are the same row.
/// assert!(matches!(
///     weighted_least_squares(x, &[2, 2], &[1.0, 1.0], &[4.0, 4.0], 0.0),
///     Err(randnla::Error::RankDeficient { .. })
/// ));
/// # Ok::<(), randnla::Error>(())
/// ```
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
    let k = rows.len();
    system_rows(k, d, lambda)?;
    // Rows are copied straight into the weighted system: no k × d buffer besides it.
    match x {
        MatrixRef::Dense(a) => solve(
            d,
            |t, out| {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = a[(rows[t], j)];
                }
            },
            weights,
            labels,
            lambda,
        ),
        MatrixRef::Sparse(s) if s.layout() == Layout::Csr => solve(
            d,
            |t, out| {
                out.iter_mut().for_each(|x| *x = 0.0);
                let (idx, val) = s.outer(rows[t]);
                for (&j, &v) in idx.iter().zip(val) {
                    out[j] = v;
                }
            },
            weights,
            labels,
            lambda,
        ),
        MatrixRef::Sparse(s) => {
            // The stored entries (u, j, v) of the distinct selected rows (u numbers them), in
            // column order, then grouped by u (a stable sort keeps each row's entries in column
            // order): at most nnz(X) entries however often a row repeats.
            let mut distinct: BTreeMap<usize, usize> = BTreeMap::new();
            for &r in rows {
                let u = distinct.len();
                distinct.entry(r).or_insert(u);
            }
            let mut entries: Vec<(usize, usize, f64)> = Vec::new();
            for j in 0..s.outer_dim() {
                let (idx, val) = s.outer(j);
                for (&i, &v) in idx.iter().zip(val) {
                    if let Some(&u) = distinct.get(&i) {
                        entries.push((u, j, v));
                    }
                }
            }
            entries.sort_by_key(|e| e.0);
            let start: Vec<usize> = (0..=distinct.len())
                .map(|u| entries.partition_point(|e| e.0 < u))
                .collect();
            solve(
                d,
                |t, out| {
                    out.iter_mut().for_each(|x| *x = 0.0);
                    let u = distinct[&rows[t]];
                    for &(_, j, v) in &entries[start[u]..start[u + 1]] {
                        out[j] = v;
                    }
                },
                weights,
                labels,
                lambda,
            )
        }
    }
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
    Error::within(req, 1 << 31, || {
        format!("the {rows}×{d} weighted least-squares matrix")
    })?;
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
    // rows·d ≤ 2³¹ was checked, but the allocator may still refuse 16 GB.
    let what = format!("{rows}×{d} weighted least-squares system");
    let mut a = filled_or_too_large(rows * d, 0.0, &what)?;
    let mut b = filled_or_too_large(rows, 0.0, &what)?;
    let mut work = filled_or_too_large(rows, 0.0, &what)?;
    // The ridge rows √λ·I come first: each reflection then pivots on √λ (plus the data below
    // it), and a large λ does not mix data rows with √λ-sized ones (stacked below the data, the
    // fit lost 3e-4 relative at λ = 1e25 and returned a wrong vector at 1e300).
    let ridge = rows - k;
    // The weighted rows √w_t·x_t and labels √w_t·y_t can overflow where X, y, w and β are all
    // finite (X near 1e308 with w = 16): the rows are scaled by powers of two *before* the
    // weights multiply them (exact, and undone on the solution). Columns by 2^{c_j}, bringing
    // each column's largest selected entry into [1, 2) (c_j ≤ 1000, so that a ridge entry
    // √λ·2^{c_j} stays finite for a column near the subnormal range); every row, ridge rows
    // included, by the common 2^{−g} that brings max(√w, √λ) into [1, 2) (a common factor of all
    // rows does not change β); the labels by the 2^{−e} that brings their largest into [1, 2).
    // Then β_j = 2^{c_j + e}·β'_j.
    for t in 0..k {
        fill(t, &mut a[(ridge + t) * d..(ridge + t + 1) * d]);
    }
    let mut top = vec![0.0f64; d];
    for row in a[ridge * d..rows * d].chunks_exact(d) {
        for (m, x) in top.iter_mut().zip(row) {
            *m = m.max(x.abs());
        }
    }
    let col_shift: Vec<i32> = top.iter().map(|&m| (-exponent(m)).min(1000)).collect();
    let sl = lambda.sqrt();
    let g = exponent(crate::scalar::max_abs(
        weights.iter().map(|w| w.sqrt()).chain([sl]),
    ));
    let e = exponent(crate::scalar::max_abs(labels.iter().copied()));
    let sl = mul_pow2(sl, -g);
    for j in 0..ridge {
        a[j * d + j] = mul_pow2(sl, col_shift[j]);
    }
    for t in 0..k {
        let sw = mul_pow2(weights[t].sqrt(), -g);
        let dst = &mut a[(ridge + t) * d..(ridge + t + 1) * d];
        for (x, &c) in dst.iter_mut().zip(&col_shift) {
            *x = mul_pow2(*x, c) * sw;
        }
        b[ridge + t] = sw * mul_pow2(labels[t], -e);
    }
    let mut x = householder_lstsq(&mut a, &mut b, &mut work, rows, d, 1e-12)
        .map_err(|rank| Error::RankDeficient { rank, required: d })?;
    for (xj, &c) in x.iter_mut().zip(&col_shift) {
        *xj = mul_pow2(*xj, c + e);
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::Factorization {
            reason: "the weighted least-squares solve produced a non-finite value".into(),
        });
    }
    Ok(x)
}
