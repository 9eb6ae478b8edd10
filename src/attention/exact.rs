//! Exact attention, computed in row blocks so that no `n × m` matrix is ever formed.

use super::{check_block, check_even_degree, check_output, check_qkv, output_matrix, tasks};
use crate::error::{Error, Result};
use crate::input::zeros_or_too_large;
use crate::scalar::Scalar;
use faer::linalg::matmul::matmul;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

/// The attention kernel of [`exact_attention`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Kernel {
    /// `w_ij = e^{scale·⟨q_i,k_j⟩}`, normalized to sum to one over `J(i)` (the usual softmax
    /// attention; transformers use `scale = 1/√h`). Computed with a running row maximum, so large
    /// scaled scores never overflow: every weight is `e^{s·x − s·x_max} ≤ 1`, and where `s·x`
    /// itself leaves the `f64` range (`|scale|` near `10³⁰⁸`) it is formed as
    /// `e^{s·(x − x_max)}`, so the weights still concentrate on the largest scores instead of
    /// becoming `∞ − ∞`. The raw score `x = ⟨q,k⟩` is formed in `T`: one beyond `T`'s range is
    /// [`Error::NonFinite`].
    Softmax {
        /// The factor applied to every score (finite).
        scale: f64,
    },
    /// `w_ij = ⟨q_i,k_j⟩^p` with `p` even, and `out_i = Σ_j w_ij v_j / (1 + Σ_j w_ij)`.
    Polynomial {
        /// The even degree `p` (2 ..= 64).
        degree: usize,
    },
}

/// Settings of [`exact_attention`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactParams {
    /// Causal (query `i` sees keys `j ≤ i`; needs `n = m`) or not. Default `false`.
    pub causal: bool,
    /// Rows per block, for queries and keys alike (default 256): memory per thread is
    /// `b² + b·d` scalars.
    pub block: usize,
}

impl Default for ExactParams {
    fn default() -> Self {
        ExactParams {
            causal: false,
            block: 256,
        }
    }
}

/// Exact softmax or polynomial attention of `Q` (`n × h`), `K` (`m × h`), `V` (`m × d`), as
/// defined in the [module documentation](super); returns the `n × d` output.
///
/// Queries are taken `b` rows at a time; for each query block the keys are swept in blocks of
/// `b`: the scores `Q_I K_Jᵀ` (`b × b`, one GEMM), the weights (entrywise power, or `exp` against
/// a running row maximum for softmax; entries with `j > i` set to zero when causal), then
/// `num_I += W V_J` (one GEMM) and the row sums of `W` into the normalizer.
///
/// # Errors
/// [`Error::Empty`] for an empty `Q`, `K` or `V`; [`Error::DimensionMismatch`] when `K` does not
/// have `h` columns, `V` does not have `m` rows, or (causal) `m ≠ n`; [`Error::NonFinite`] for
/// NaN/∞ in the inputs, or a score `⟨q_i,k_j⟩` or an output that overflowed `T` (the scores are
/// formed in `T`; see the module's Precision section); [`Error::InvalidParameter`] for an odd,
/// zero or too large degree, a non-finite softmax scale, or a block size outside `1..=8192`;
/// [`Error::TooLarge`] when the `n × d` output exceeds [`MAX_OUTPUT`](super::MAX_OUTPUT) scalars
/// or cannot be allocated (checked before any work), or when a thread's block buffers (`b ×
/// min(b, m)` scores, `b × d` numerators: 512 MiB of `f64` scores at `b = 8192`) cannot be.
///
/// # Performance
/// `2·n·m·(h + d)` flops (about half when causal) in `b × b` GEMMs plus `n·m` powers or
/// exponentials; query blocks are spread over `par`'s threads, each running sequential GEMMs, so
/// the output is bitwise identical for any thread count. Extra memory: `b² + b·d` scalars per
/// thread plus the output (each query block writes its rows straight into it); never `n × m`.
/// The numerators are accumulated in `T` (GEMM), the
/// normalizers in `f64`; polynomial weights are kept in a per-row power-of-two scale when they
/// would sum past `2^{E/2}` (see the module's Precision section), which costs one test per row
/// and key block and, for a block that needs it, its scores once more.
///
/// # Examples
/// ```
/// use randnla::attention::{exact_attention, ExactParams, Kernel};
/// // One query q = [1, 0] and two keys with scores ⟨q, k_j⟩ = 1 and 2. The second column of V
/// // is all ones, so it shows the total weight each kernel gives the values.
/// let q = randnla::faer::mat![[1.0f64, 0.0]];
/// let k = randnla::faer::mat![[1.0f64, 0.0], [2.0, 0.0]];
/// let v = randnla::faer::mat![[4.0f64, 1.0], [8.0, 1.0]];
/// let (p, par) = (ExactParams::default(), randnla::faer::Par::Seq);
/// // Softmax with scale ln 3: weights 3 and 9, normalized to 1/4 and 3/4: out = [7, 1].
/// let softmax = Kernel::Softmax { scale: 3f64.ln() };
/// let out = exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), softmax, &p, par)?;
/// assert!((out[(0, 0)] - 7.0).abs() < 1e-12 && (out[(0, 1)] - 1.0).abs() < 1e-12);
/// // Degree 2: weights 1 and 4 over 1 + 5, so out = [(4 + 32)/6, 5/6] = [6, 5/6].
/// let poly = Kernel::Polynomial { degree: 2 };
/// let out = exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), poly, &p, par)?;
/// assert!((out[(0, 0)] - 6.0).abs() < 1e-12 && (out[(0, 1)] - 5.0 / 6.0).abs() < 1e-12);
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn exact_attention<T: Scalar>(
    q: MatRef<'_, T>,
    k: MatRef<'_, T>,
    v: MatRef<'_, T>,
    kernel: Kernel,
    params: &ExactParams,
    par: Par,
) -> Result<Mat<T>> {
    check_qkv(q, k, v, params.causal)?;
    check_block(params.block)?;
    match kernel {
        Kernel::Polynomial { degree } => check_even_degree(degree)?,
        Kernel::Softmax { scale } => {
            if !scale.is_finite() {
                return Err(Error::param(
                    "scale",
                    format!("softmax scale {scale} must be finite"),
                ));
            }
        }
    }
    let (n, d, b) = (q.nrows(), v.ncols(), params.block);
    // The output is allocated before any work, and each query block writes its rows straight
    // into it: holding every block's result until the end would double the peak.
    let mut out = output_matrix::<T>(n, d, "attention output")?;
    let run = |(blk, mut dst): (usize, faer::MatMut<'_, T>)| -> Result<()> {
        let lo = blk * b;
        let y = query_block(q.subrows(lo, dst.nrows()), lo, k, v, kernel, params)?;
        dst.copy_from(&y);
        Ok(())
    };
    if tasks(par) > 1 {
        // The first failing block in row order, as on one thread (not the first in time).
        let done: Vec<Result<()>> = out
            .as_mut()
            .par_row_chunks_mut(b)
            .enumerate()
            .map(run)
            .collect();
        crate::error::first_error_in_order(done)?;
    } else {
        let mut lo = 0;
        while lo < n {
            let rows = b.min(n - lo);
            run((lo / b, out.as_mut().subrows_mut(lo, rows)))?;
            lo += rows;
        }
    }
    check_output(out.as_ref())?;
    Ok(out)
}

/// The output rows `lo .. lo + qb.nrows()`; [`Error::TooLarge`] when its buffers (up to
/// `b × b` scores and `b × d` numerators) cannot be allocated.
fn query_block<T: Scalar>(
    qb: MatRef<'_, T>,
    lo: usize,
    k: MatRef<'_, T>,
    v: MatRef<'_, T>,
    kernel: Kernel,
    params: &ExactParams,
) -> Result<Mat<T>> {
    let (bq, d, b) = (qb.nrows(), v.ncols(), params.block);
    let kend = if params.causal { lo + bq } else { k.nrows() };
    // Up to 8192² scores and b·d numerators per thread: asked of the allocator (faer's
    // `Mat::zeros` aborts instead).
    let mut num = zeros_or_too_large::<T>(bq, d, "block of numerators (use a smaller block)")?;
    let mut den = vec![0.0f64; bq];
    // Softmax: the raw score at which each row's scaled score is largest so far.
    let mut row_best: Vec<Option<f64>> = vec![None; bq];
    // Polynomial: each row's weights are held as `(x·2^{−e})^p = w·2^{−p·e}`, exact scalings by
    // powers of two, with `e ≥ 0` raised only when the row's weights in one key block would sum
    // past `2^{E/2}` (`E` = 1024 for f64, 128 for f32); `e` is then chosen so that the row's
    // largest weight so far is at most 1. Rows that never need it keep `e = 0`, i.e. the
    // unscaled arithmetic bit for bit.
    let max_exp = if T::from_f64(f64::MAX).finite() {
        f64::MAX_EXP
    } else {
        f32::MAX_EXP
    };
    let weight_limit = f64::from(max_exp / 2).exp2();
    let mut row_exp: Vec<i32> = vec![0; bq];
    let mut row_scale: Vec<f64> = vec![1.0; bq];
    let mut largest: Vec<f64> = vec![0.0; bq];
    let mut den_saved: Vec<f64> = vec![0.0; bq];
    let mut s = zeros_or_too_large::<T>(bq, b.min(kend), "block of scores (use a smaller block)")?;
    let one = T::from_f64(1.0);
    let mut j0 = 0;
    while j0 < kend {
        let bk = b.min(kend - j0);
        let mut sv = s.as_mut().subcols_mut(0, bk);
        // The block's scores `Q_b K_jᵀ`.
        let scores = |dst: MatMut<'_, T>| {
            matmul(
                dst,
                Accum::Replace,
                qb,
                k.subrows(j0, bk).transpose(),
                one,
                Par::Seq,
            )
        };
        scores(sv.rb_mut());
        // The scalar loops below ran at half speed after that GEMM without this (`crate::cpu`).
        crate::cpu::clear_upper_vector_state();
        // Row ii may see keys j0 + jj ≤ lo + ii (causal) — a prefix of the block's columns.
        let visible = |ii: usize| -> usize {
            if params.causal {
                (lo + ii + 1).saturating_sub(j0).min(bk)
            } else {
                bk
            }
        };
        match kernel {
            Kernel::Polynomial { degree } => {
                let p = degree as i32;
                // Optimistic pass: weights in the rows' current scales, and one test per row
                // afterwards (every weight is ≥ 0, p being even, so the block's sum bounds each
                // of them). A row whose block sum passes 2^{E/2} sends the block once through
                // the slow path: scores again, that row's exponent raised until its largest
                // weight is ≤ 1 (so later blocks sum to at most their length), weights again.
                den_saved.copy_from_slice(&den);
                for attempt in 0..2 {
                    // Rows still unscaled (the common case) skip the per-row scale.
                    let unscaled = row_exp.iter().all(|&e| e == 0);
                    for jj in 0..bk {
                        let col = sv.rb_mut().col_mut(jj);
                        let col = col.try_as_col_major_mut().expect("contiguous column");
                        for (ii, x) in col.as_slice_mut().iter_mut().enumerate() {
                            if jj < visible(ii) {
                                let xv = x.to_f64();
                                let w = if unscaled {
                                    xv.powi(p)
                                } else {
                                    (xv * row_scale[ii]).powi(p)
                                };
                                den[ii] += w;
                                *x = T::from_f64(w);
                            } else {
                                *x = T::ZERO;
                            }
                        }
                    }
                    let over = |now: &f64, before: &f64| {
                        let added = now - before;
                        added.is_nan() || added > weight_limit
                    };
                    if attempt == 1 || !den.iter().zip(&den_saved).any(|(n, b)| over(n, b)) {
                        break;
                    }
                    for (ii, (now, before)) in den.iter().zip(&den_saved).enumerate() {
                        largest[ii] = if over(now, before) { 0.0 } else { f64::NAN };
                    }
                    den.copy_from_slice(&den_saved);
                    scores(sv.rb_mut());
                    // The largest |score| of each row that passed (NaN marks the others).
                    for jj in 0..bk {
                        let col = sv.rb().col(jj);
                        let col = col.try_as_col_major().expect("contiguous column");
                        for (ii, x) in col.as_slice().iter().enumerate() {
                            if jj < visible(ii) && !largest[ii].is_nan() {
                                largest[ii] = largest[ii].max(x.to_f64().abs());
                            }
                        }
                    }
                    for ii in 0..bq {
                        let big = largest[ii];
                        // Non-finite scores (f32 products beyond range) are left to the final
                        // check, which reports them.
                        if !(big.is_finite() && big > 0.0) {
                            continue;
                        }
                        // The smallest e ≥ 0 with |x|·2^{−e} ≤ 1, so every weight is ≤ 1.
                        let mut e = big.log2().ceil().max(0.0) as i32;
                        while big * 2f64.powi(-e) > 1.0 {
                            e += 1;
                        }
                        if e <= row_exp[ii] {
                            continue;
                        }
                        // Exact unless the old terms fall below the smallest subnormal, where
                        // they are negligible next to the new ones.
                        let factor = 2f64.powi(-p * (e - row_exp[ii]));
                        den[ii] *= factor;
                        let f = T::from_f64(factor);
                        for c in 0..d {
                            num[(ii, c)] *= f;
                        }
                        row_exp[ii] = e;
                        row_scale[ii] = 2f64.powi(-e);
                    }
                }
            }
            Kernel::Softmax { scale } => {
                // A score beyond T's range is an error, as documented: −∞ (a large negative
                // product in f32) gave the key a weight of e^{−∞} = 0 and an Ok output that
                // silently left it out.
                for ii in 0..bq {
                    for jj in 0..visible(ii) {
                        if !sv[(ii, jj)].finite() {
                            return Err(Error::NonFinite {
                                what: format!(
                                    "the softmax score ⟨q_i, k_j⟩ of query row and key column \
                                     (it overflowed {}: scale Q and K down)",
                                    T::NAME
                                ),
                                row: lo + ii,
                                col: j0 + jj,
                            });
                        }
                    }
                }
                // The running maximum of the scaled scores is kept as the raw score `x_max`
                // that attains it (the largest score for scale > 0, the smallest for scale < 0):
                // `fl(scale·x)` is monotone in `x`, so `fl(scale·x_max)` is that maximum
                // bitwise. A weight is `e^{fl(scale·x) − fl(scale·x_max)}` when both are finite
                // and `e^{scale·(x − x_max)}` when one is not (|scale| near 10³⁰⁸): the same
                // value up to rounding, without `∞ − ∞`.
                let better = |x: f64, best: f64| {
                    if scale > 0.0 {
                        x > best
                    } else if scale < 0.0 {
                        x < best
                    } else {
                        false
                    }
                };
                let weight = |x: f64, best: f64| -> f64 {
                    let (sx, sb) = (scale * x, scale * best);
                    if sx.is_finite() && sb.is_finite() {
                        (sx - sb).exp()
                    } else {
                        (scale * (x - best)).exp()
                    }
                };
                // New running maxima, and the rescaling of what was accumulated so far.
                for ii in 0..bq {
                    let vis = visible(ii);
                    if vis == 0 {
                        continue;
                    }
                    let mut best = row_best[ii].unwrap_or_else(|| sv[(ii, 0)].to_f64());
                    for jj in 0..vis {
                        let x = sv[(ii, jj)].to_f64();
                        if better(x, best) {
                            best = x;
                        }
                    }
                    match row_best[ii] {
                        // Nothing accumulated yet: nothing to rescale.
                        None => row_best[ii] = Some(best),
                        Some(old) if better(best, old) => {
                            let alpha = weight(old, best);
                            if alpha != 1.0 {
                                den[ii] *= alpha;
                                let a = T::from_f64(alpha);
                                for c in 0..d {
                                    num[(ii, c)] *= a;
                                }
                            }
                            row_best[ii] = Some(best);
                        }
                        Some(_) => {}
                    }
                }
                for jj in 0..bk {
                    let col = sv.rb_mut().col_mut(jj);
                    let col = col.try_as_col_major_mut().expect("contiguous column");
                    for (ii, x) in col.as_slice_mut().iter_mut().enumerate() {
                        if jj < visible(ii) {
                            let best = row_best[ii].unwrap_or(0.0);
                            let w = weight(x.to_f64(), best);
                            den[ii] += w;
                            *x = T::from_f64(w);
                        } else {
                            *x = T::ZERO;
                        }
                    }
                }
            }
        }
        matmul(
            num.as_mut(),
            Accum::Add,
            sv.rb(),
            v.subrows(j0, bk),
            one,
            Par::Seq,
        );
        j0 += bk;
    }
    for (ii, &dn) in den.iter().enumerate() {
        // `1 + Σw` in the row's scale: `2^{−p·e} + Σ w·2^{−p·e}`.
        let shift = match kernel {
            Kernel::Polynomial { degree } => 2f64.powi(-(degree as i32) * row_exp[ii]),
            Kernel::Softmax { .. } => 0.0,
        };
        let inv = T::from_f64(1.0 / (shift + dn));
        for c in 0..d {
            num[(ii, c)] *= inv;
        }
    }
    Ok(num)
}
