//! Dense Gaussian sketches, generated in fixed blocks from counter-derived seeds.

use super::kernels;
use super::{check_block, check_dense_size, check_dims, SketchOperator};
use crate::error::Result;
use crate::input::MatrixRef;
use crate::scalar::Scalar;
use crate::seed::{streams, Seed};
use faer::{Mat, MatMut, Par};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Columns of `S` generated from one seeded stream (a constant of the format: changing it changes
/// every Gaussian sketch's values).
const GEN_BLOCK: usize = 64;
/// Generation blocks materialized together before they are applied (memory `m × 1024`).
const SUPER_BLOCK: usize = 16;

/// A dense Gaussian sketch: the `m × n` matrix `S` has iid `N(0, 1/m)` entries.
///
/// Columns `64g .. 64g + 63` of `S` are drawn, column by column, from a `Xoshiro256PlusPlus`
/// stream seeded by `(seed, g)`, so any block of `S` can be regenerated alone, by any thread.
/// `E‖Sx‖² = ‖x‖²`; with `m = O((d + log(1/δ))/ε²)` it is an ε-subspace embedding for every
/// `d`-dimensional subspace, independent of coherence — the accuracy reference the sparse
/// sketches are measured against.
///
/// # Performance
/// `S·A` costs `O(m·nnz(A))` flops plus `m·n` normal draws, and `O(m·(d + 1024))` memory; `S` is
/// never stored. Each output entry is accumulated over input rows in ascending order (no GEMM
/// blocking), which makes the result bitwise reproducible across threads, layouts and row blocks
/// at the price of running below dense GEMM speed; `benches/sketch.rs` reports the ratio to a
/// GEMM with the materialized sketch.
///
/// # References
/// P.-G. Martinsson, J. A. Tropp, "Randomized numerical linear algebra: foundations and
/// algorithms", Acta Numerica 2020, arXiv 2002.01387, §8.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gaussian {
    m: usize,
    n: usize,
    seed: Seed,
}

impl Gaussian {
    /// The `m × n` Gaussian sketch drawn from `seed`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for `m = 0` or `n = 0`.
    pub fn new(m: usize, n: usize, seed: Seed) -> Result<Self> {
        check_dims(m, n)?;
        Ok(Gaussian { m, n, seed })
    }

    /// Writes columns `64g ..` of `S` (column-major, `m` per column) into `buf`.
    fn gen_block<T: Scalar>(&self, g: usize, buf: &mut [T]) {
        let mut rng = self.seed.block_rng(streams::GAUSSIAN_BLOCKS, g as u64);
        let scale = 1.0 / (self.m as f64).sqrt();
        for v in buf.iter_mut() {
            let z: f64 = StandardNormal.sample(&mut rng);
            *v = T::from_f64(z * scale);
        }
    }

    /// Columns `first .. first + cols` of `S`, for `first` a multiple of `GEN_BLOCK`.
    fn gen_columns<T: Scalar>(&self, first: usize, cols: usize, par: Par) -> Vec<T> {
        let m = self.m;
        let mut buf = vec![T::ZERO; m * cols];
        let g0 = first / GEN_BLOCK;
        let run = |(b, chunk): (usize, &mut [T])| self.gen_block(g0 + b, chunk);
        if kernels::tasks(par) > 1 {
            buf.par_chunks_mut(m * GEN_BLOCK).enumerate().for_each(run);
        } else {
            buf.chunks_mut(m * GEN_BLOCK).enumerate().for_each(run);
        }
        buf
    }
}

#[inline(always)]
fn axpy<T: Scalar>(dst: &mut [T], a: T, x: &[T]) {
    for (d, &x) in dst.iter_mut().zip(x) {
        *d += a * x;
    }
}

impl<T: Scalar> SketchOperator<T> for Gaussian {
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
        "gaussian"
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
        kernels::with_columns(block, |cols| {
            let mut work = kernels::load_col_major(&out);
            let tasks = kernels::tasks(par);
            let cols_per_task = kernels::chunk_len(d, tasks);
            let mut cursors = vec![0usize; d];
            // Global input rows covered by this block, walked in super-blocks aligned to GEN_BLOCK.
            let (start, end) = (row_offset, row_offset + k);
            let mut sb_start = start / GEN_BLOCK * GEN_BLOCK;
            while sb_start < end {
                let sb_end = sb_start.saturating_add(SUPER_BLOCK * GEN_BLOCK).min(self.n);
                let s_cols: Vec<T> = self.gen_columns(sb_start, sb_end - sb_start, par);
                // Local rows of the block inside this super-block.
                let lo = sb_start.max(start) - row_offset;
                let hi = sb_end.min(end) - row_offset;
                let run = |(t, (part, curs)): (usize, (&mut [T], &mut [usize]))| {
                    for (cc, (col, cur)) in part.chunks_mut(m).zip(curs.iter_mut()).enumerate() {
                        let c = t * cols_per_task + cc;
                        cols.for_each(c, lo, hi, cur, |i, v| {
                            let g = row_offset + i - sb_start;
                            axpy(col, v, &s_cols[g * m..(g + 1) * m]);
                        });
                    }
                };
                // Skip the generation blocks that hold no stored row (the streams are per block).
                let next = row_offset
                    + kernels::for_column_chunks_then_resume(
                        cols,
                        &mut work,
                        &mut cursors,
                        m,
                        cols_per_task,
                        tasks,
                        (hi, k),
                        run,
                    );
                if next >= end {
                    break;
                }
                sb_start = sb_end.max(next / GEN_BLOCK * GEN_BLOCK);
            }
            kernels::store_col_major(&work, out);
        })?;
        Ok(())
    }

    fn to_dense(&self) -> Result<Mat<T>> {
        check_dense_size(self.m, self.n)?;
        let buf: Vec<T> = self.gen_columns(0, self.n, Par::Seq);
        Ok(Mat::from_fn(self.m, self.n, |i, j| buf[j * self.m + i]))
    }
}
