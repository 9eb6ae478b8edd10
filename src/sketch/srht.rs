//! The subsampled randomized Hadamard transform.

use super::kernels;
use super::{check_block, check_dense_size, check_dims, SketchOperator};
use crate::error::{Error, Result};
use crate::input::MatrixRef;
use crate::scalar::Scalar;
use crate::seed::{below, splitmix64, streams, Seed};
use faer::{Mat, MatMut, Par};
use std::collections::HashSet;

/// Largest padded length accepted (`2^30`): the transform works on one length-`n'` column at a time.
const MAX_LOG2_PAD: u32 = 30;

/// The subsampled randomized Hadamard transform `S = √(n'/m) · R · (H/√n') · D = (1/√m)·R·H·D`.
///
/// `D` is a diagonal of independent fair signs, `H` the `n' × n'` Walsh–Hadamard matrix (entries
/// `±1`, `n' = 2^⌈log₂ n⌉`, the input zero-padded), and `R` selects `m` of its `n'` rows uniformly
/// without replacement. `E‖Sx‖² = ‖x‖²`; with `m = O((d + log(n/δ))·log(d/δ)/ε²)` it is an
/// ε-subspace embedding (Tropp, arXiv 1011.1595).
///
/// # Performance
/// `S·A` costs `O(n'·log n')` per column of `A` plus `O(nnz(A))`, with one length-`n'` buffer per
/// thread; the operator stores the `m` selected row indices. For sparse `A` the transform still
/// touches all `n'` entries of each column, so on sparse data prefer [`SparseSign`](super::SparseSign).
/// Row-block merging (`apply_block_into` at an offset) is exact in exact arithmetic, but each call
/// transforms a full length-`n'` column.
///
/// # References
/// N. Ailon, B. Chazelle, "The fast Johnson–Lindenstrauss transform", STOC 2006;
/// J. A. Tropp, "Improved analysis of the subsampled randomized Hadamard transform", arXiv 1011.1595;
/// H. Avron, P. Maymounkov, S. Toledo, "Blendenpik", SIAM J. Sci. Comput. 2010.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srht {
    m: usize,
    n: usize,
    n_pad: usize,
    seed: Seed,
    rows: Vec<usize>,
}

impl Srht {
    /// The `m × n` SRHT drawn from `seed`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `m = 0`, `n = 0`, `n > 2^30` or `m > n'`.
    pub fn new(m: usize, n: usize, seed: Seed) -> Result<Self> {
        check_dims(m, n)?;
        if n > 1 << MAX_LOG2_PAD {
            return Err(Error::param(
                "cols",
                format!("n = {n} exceeds the SRHT limit of 2^{MAX_LOG2_PAD}"),
            ));
        }
        let n_pad = n.next_power_of_two();
        if m > n_pad {
            return Err(Error::param(
                "rows",
                format!("m = {m} exceeds the padded dimension n' = {n_pad}"),
            ));
        }
        // Floyd's algorithm: a uniform m-subset of 0..n_pad.
        let mut chosen = HashSet::with_capacity(m);
        let mut state = seed.word(streams::SRHT_ROWS, 0);
        for jj in (n_pad - m)..n_pad {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let r = below(splitmix64(state), jj as u64 + 1) as usize;
            if !chosen.insert(r) {
                chosen.insert(jj);
            }
        }
        let mut rows: Vec<usize> = chosen.into_iter().collect();
        rows.sort_unstable();
        Ok(Srht {
            m,
            n,
            n_pad,
            seed,
            rows,
        })
    }

    /// The padded dimension `n' = 2^⌈log₂ n⌉`.
    pub fn padded_dim(&self) -> usize {
        self.n_pad
    }

    /// The rows of `H` that `R` keeps, ascending.
    pub fn selected_rows(&self) -> &[usize] {
        &self.rows
    }

    /// `true` when `D[i] = −1`.
    #[inline(always)]
    fn negative(&self, i: usize) -> bool {
        (self.seed.word(streams::SRHT_SIGNS, (i / 64) as u64) >> (i % 64)) & 1 == 1
    }
}

/// In-place unnormalized fast Walsh–Hadamard transform of a power-of-two-length slice.
pub(crate) fn fwht<T: Scalar>(a: &mut [T]) {
    let n = a.len();
    let mut h = 1;
    while h < n {
        for chunk in a.chunks_exact_mut(2 * h) {
            let (l, r) = chunk.split_at_mut(h);
            for (x, y) in l.iter_mut().zip(r.iter_mut()) {
                let (u, v) = (*x, *y);
                *x = u + v;
                *y = u - v;
            }
        }
        h *= 2;
    }
}

impl<T: Scalar> SketchOperator<T> for Srht {
    fn nrows(&self) -> usize {
        self.m
    }
    fn ncols(&self) -> usize {
        self.n
    }
    fn seed(&self) -> Seed {
        self.seed
    }
    fn name(&self) -> &'static str {
        "srht"
    }

    fn apply_block_into(
        &self,
        row_offset: usize,
        block: MatrixRef<'_, T>,
        out: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        check_block(self.m, self.n, row_offset, &block, &out)?;
        let (k, d, m) = (block.nrows(), block.ncols(), self.m);
        if k == 0 || d == 0 {
            return Ok(());
        }
        kernels::with_columns(block, par, |cols| {
            // Signs of the block's rows, computed once.
            let neg: Vec<bool> = (0..k).map(|i| self.negative(row_offset + i)).collect();
            let scale = T::from_f64(1.0 / (m as f64).sqrt());
            let mut work = kernels::load_col_major(&out);
            let tasks = kernels::tasks(par);
            let cols_per_task = kernels::chunk_len(d, tasks);
            let run = |(t, (part, curs)): (usize, (&mut [T], &mut [usize]))| {
                let mut z = vec![T::ZERO; self.n_pad];
                for (cc, (col, cursor)) in part.chunks_mut(m).zip(curs.iter_mut()).enumerate() {
                    let c = t * cols_per_task + cc;
                    z.iter_mut().for_each(|v| *v = T::ZERO);
                    cols.for_each(c, 0, k, cursor, |i, v| {
                        z[row_offset + i] = if neg[i] { -v } else { v };
                    });
                    fwht(&mut z);
                    for (o, &r) in col.iter_mut().zip(&self.rows) {
                        *o += z[r] * scale;
                    }
                }
            };
            let mut cursors = vec![0usize; d];
            kernels::for_column_chunks(&mut work, &mut cursors, m, cols_per_task, tasks, run);
            kernels::store_col_major(&work, out);
        })?;
        Ok(())
    }

    fn to_dense(&self) -> Result<Mat<T>> {
        check_dense_size(self.m, self.n)?;
        let scale = 1.0 / (self.m as f64).sqrt();
        Ok(Mat::from_fn(self.m, self.n, |k, i| {
            let h_neg = (self.rows[k] & i).count_ones() & 1 == 1;
            let v = if h_neg ^ self.negative(i) {
                -scale
            } else {
                scale
            };
            T::from_f64(v)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fwht_matches_the_explicit_hadamard_matrix() {
        let n = 16;
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut y = x.clone();
        fwht(&mut y);
        for (r, &yr) in y.iter().enumerate() {
            let expect: f64 = (0..n)
                .map(|i| {
                    let s = if (r & i).count_ones() % 2 == 1 {
                        -1.0
                    } else {
                        1.0
                    };
                    s * x[i]
                })
                .sum();
            assert!((yr - expect).abs() < 1e-12);
        }
    }
}
