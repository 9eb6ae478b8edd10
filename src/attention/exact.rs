//! Exact attention, computed in row blocks so that no `n × m` matrix is ever formed.

use super::{check_block, check_even_degree, check_output, check_qkv, tasks};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use faer::linalg::matmul::matmul;
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;

/// The attention kernel of [`exact_attention`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kernel {
    /// `w_ij = e^{scale·⟨q_i,k_j⟩}`, normalized to sum to one over `J(i)` (the usual softmax
    /// attention; transformers use `scale = 1/√h`). Computed with a running row maximum, so large
    /// scores never overflow.
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
/// NaN/∞ in the inputs, or an output that overflowed `T`; [`Error::InvalidParameter`] for an odd,
/// zero or too large degree, a non-finite softmax scale, or a block size outside `1..=8192`.
///
/// # Performance
/// `2·n·m·(h + d)` flops (about half when causal) in `b × b` GEMMs plus `n·m` powers or
/// exponentials; query blocks are spread over `par`'s threads, each running sequential GEMMs, so
/// the output is bitwise identical for any thread count. Extra memory: `b² + b·d` scalars per
/// thread plus the output; never `n × m`. The numerators are accumulated in `T` (GEMM), the
/// normalizers in `f64`.
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
    let nb = n.div_ceil(b);
    let run = |blk: usize| {
        let lo = blk * b;
        let hi = (lo + b).min(n);
        query_block(q.subrows(lo, hi - lo), lo, k, v, kernel, params)
    };
    let blocks: Vec<Mat<T>> = if tasks(par) > 1 {
        (0..nb).into_par_iter().map(run).collect()
    } else {
        (0..nb).map(run).collect()
    };
    let mut out = Mat::<T>::zeros(n, d);
    for (blk, y) in blocks.iter().enumerate() {
        out.as_mut().subrows_mut(blk * b, y.nrows()).copy_from(y);
    }
    check_output(out.as_ref())?;
    Ok(out)
}

/// The output rows `lo .. lo + qb.nrows()`.
fn query_block<T: Scalar>(
    qb: MatRef<'_, T>,
    lo: usize,
    k: MatRef<'_, T>,
    v: MatRef<'_, T>,
    kernel: Kernel,
    params: &ExactParams,
) -> Mat<T> {
    let (bq, d, b) = (qb.nrows(), v.ncols(), params.block);
    let kend = if params.causal { lo + bq } else { k.nrows() };
    let mut num = Mat::<T>::zeros(bq, d);
    let mut den = vec![0.0f64; bq];
    let mut row_max = vec![f64::NEG_INFINITY; bq];
    let mut s = Mat::<T>::zeros(bq, b.min(kend));
    let one = T::from_f64(1.0);
    let mut j0 = 0;
    while j0 < kend {
        let bk = b.min(kend - j0);
        let mut sv = s.as_mut().subcols_mut(0, bk);
        matmul(
            sv.rb_mut(),
            Accum::Replace,
            qb,
            k.subrows(j0, bk).transpose(),
            one,
            Par::Seq,
        );
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
                for jj in 0..bk {
                    let col = sv.rb_mut().col_mut(jj);
                    let col = col.try_as_col_major_mut().expect("contiguous column");
                    for (ii, x) in col.as_slice_mut().iter_mut().enumerate() {
                        if jj < visible(ii) {
                            let w = x.to_f64().powi(p);
                            den[ii] += w;
                            *x = T::from_f64(w);
                        } else {
                            *x = T::ZERO;
                        }
                    }
                }
            }
            Kernel::Softmax { scale } => {
                // New running maxima, and the rescaling of what was accumulated so far.
                for ii in 0..bq {
                    let vis = visible(ii);
                    let mut m = row_max[ii];
                    for jj in 0..vis {
                        m = m.max(scale * sv[(ii, jj)].to_f64());
                    }
                    if m > row_max[ii] {
                        let alpha = (row_max[ii] - m).exp();
                        if alpha != 1.0 {
                            den[ii] *= alpha;
                            let a = T::from_f64(alpha);
                            for c in 0..d {
                                num[(ii, c)] *= a;
                            }
                        }
                        row_max[ii] = m;
                    }
                }
                for jj in 0..bk {
                    let col = sv.rb_mut().col_mut(jj);
                    let col = col.try_as_col_major_mut().expect("contiguous column");
                    for (ii, x) in col.as_slice_mut().iter_mut().enumerate() {
                        if jj < visible(ii) {
                            let w = (scale * x.to_f64() - row_max[ii]).exp();
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
    let shift = match kernel {
        Kernel::Polynomial { .. } => 1.0,
        Kernel::Softmax { .. } => 0.0,
    };
    for (ii, &dn) in den.iter().enumerate() {
        let inv = T::from_f64(1.0 / (shift + dn));
        for c in 0..d {
            num[(ii, c)] *= inv;
        }
    }
    num
}
