//! Dense Gaussian sketches, generated in fixed blocks from counter-derived seeds.

use super::kernels::{self, ColAccess};
use super::{check_block, check_dims, check_output_finite, dense_zeros, SketchOperator};
use crate::error::Result;
use crate::input::{ensure_allocatable, filled_or_too_large, MatrixRef, SparseRef};
use crate::scalar::Scalar;
use crate::seed::{streams, Seed};
use faer::{Mat, MatMut, Par};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Columns of `S` generated from one seeded stream (a constant of the format: changing it changes
/// every Gaussian sketch's values).
const GEN_BLOCK: usize = 64;
/// Generation blocks materialized together before they are applied (memory `m × 1024`), fewer
/// when that would exceed [`SUPER_BLOCK_BYTES`].
const SUPER_BLOCK: usize = 16;
/// Most bytes of `S` one super-block holds (at least one generation block, `m × 64`). The
/// super-block size does not change any bit: each output entry receives its input rows by
/// `axpy` in ascending order whatever the super-blocks, as in the per-entry kernel.
const SUPER_BLOCK_BYTES: usize = 64 << 20;

/// Most rows a Gaussian sketch may have (see [`Gaussian::new`]).
const MAX_ROWS: usize = 1 << 18;

/// A dense Gaussian sketch: the `m × n` matrix `S` has iid `N(0, 1/m)` entries.
///
/// Columns `64g .. 64g + 63` of `S` are drawn, column by column, from a `Xoshiro256PlusPlus`
/// stream seeded by `(seed, g)`, so any block of `S` can be regenerated alone, by any thread.
/// `E‖Sx‖² = ‖x‖²`; with `m = O((d + log(1/δ))/ε²)` it is an ε-subspace embedding for every
/// `d`-dimensional subspace, independent of coherence — the accuracy reference the sparse
/// sketches are measured against.
///
/// # Performance
/// `S·A` costs `O(m·nnz(A))` flops plus `m·n` normal draws (for a CSC input that stores few
/// entries per row block, at most `64·m` per stored entry instead), and `O(m·(d + 1024))` memory
/// (plus an `O(nnz(A))` CSC copy of a CSR input: the kernel walks columns); `S` is never stored.
/// A row block passed to [`SketchOperator::apply_block_into`] that starts inside a generation
/// block of 64 rows of `A` regenerates that block's earlier columns of `S` (at most `63·m` extra
/// draws per call): streaming 4096 rows one at a time (`m = 400`) took 0.14 s, 7.3 s before
/// generation stopped at the block's last row (2026-12-04, one thread).
/// Each output entry is accumulated over input rows in ascending order (no GEMM blocking), which
/// makes the result bitwise reproducible across threads, layouts and row blocks at the price of
/// running below dense GEMM speed; `benches/sketch.rs` reports the ratio to a GEMM with the
/// materialized sketch.
///
/// # Errors
/// Applying it (any [`SketchOperator`] or [`SketchExt`](super::SketchExt) method) returns
/// [`crate::Error::NonFinite`], never ±∞ or NaN, when `S·A` overflows the scalar type (entries of
/// `A` within a factor of about `√(n/m)` of its largest value for typical data, up to about
/// `0.8·n/√m` for data whose signs follow the sketch's); scale `A` down by a power of two (see
/// [`SketchOperator::apply_block_into`], also for the state of an accumulated output).
/// [`crate::Error::TooLarge`] when the block of `S` it generates at a time cannot be allocated:
/// up to `m × 1024` entries and 64 MiB, never less than `m × 64` (128 MiB of `f64` at
/// `m = 2¹⁸`), or `m × 64` per thread for a CSC input that stores few entries per block.
///
/// # References
/// P.-G. Martinsson, J. A. Tropp, "Randomized numerical linear algebra: foundations and
/// algorithms", Acta Numerica 2020, arXiv 2002.01387, §8.
///
/// # Examples
///
/// ```
/// use randnla::diagnostics::{distortion, orthonormal_basis};
/// use randnla::sketch::Gaussian;
/// use randnla::{problems, Seed};
/// // A Gaussian sketch of 4d rows embeds the range of any n × d matrix with distortion κ(SQ)
/// // around (1 + √(1/4)) / (1 − √(1/4)) = 3, coherent or not.
/// let a = problems::gaussian_matrix(2000, 10, Seed::new(1))?;
/// let q = orthonormal_basis(a.as_ref())?;
/// let s = Gaussian::new(40, 2000, Seed::new(2))?;
/// let kappa = distortion(&s, q.as_ref(), randnla::faer::Par::Seq)?;
/// assert!(kappa > 1.0 && kappa < 6.0, "κ(SQ) = {kappa}");
/// # Ok::<(), randnla::Error>(())
/// ```
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
    /// [`crate::Error::InvalidParameter`] named `m` for `m = 0` or `m > 2¹⁸`, `n` for `n = 0`.
    /// The limit on `m`: `S` is generated in blocks of `m × 64` entries (128 MB at that limit;
    /// `m = 2²⁴` once asked for 128 GB and aborted). Sketches that tall are
    /// [`SparseSign`](super::SparseSign)'s job.
    pub fn new(m: usize, n: usize, seed: Seed) -> Result<Self> {
        check_dims(m, n)?;
        if m > MAX_ROWS {
            return Err(crate::Error::param(
                "m",
                format!(
                    "the sketch dimension m (rows of S) = {m} exceeds the Gaussian sketch's \
                     limit of {MAX_ROWS}"
                ),
            ));
        }
        Ok(Gaussian { m, n, seed })
    }

    /// Writes columns `64g ..` of `S` (column-major, `m` per column) into `buf`.
    fn gen_block<T: Scalar>(&self, g: usize, buf: &mut [T]) {
        // The previous block's GEMM ran on this thread (`crate::cpu`).
        crate::cpu::clear_upper_vector_state();
        let mut rng = self.seed.block_rng(streams::GAUSSIAN_BLOCKS, g as u64);
        let scale = 1.0 / (self.m as f64).sqrt();
        for v in buf.iter_mut() {
            let z: f64 = StandardNormal.sample(&mut rng);
            *v = T::from_f64(z * scale);
        }
    }

    /// Writes columns `first .. first + buf.len()/m` of `S` into `buf` (column-major), for
    /// `first` a multiple of `GEN_BLOCK`. Every entry of `buf` is overwritten.
    fn gen_columns_into<T: Scalar>(&self, first: usize, buf: &mut [T], par: Par) {
        let m = self.m;
        let g0 = first / GEN_BLOCK;
        let run = |(b, chunk): (usize, &mut [T])| self.gen_block(g0 + b, chunk);
        if kernels::tasks(par) > 1 {
            buf.par_chunks_mut(m * GEN_BLOCK).enumerate().for_each(run);
        } else {
            buf.chunks_mut(m * GEN_BLOCK).enumerate().for_each(run);
        }
    }
}

#[inline(always)]
fn axpy<T: Scalar>(dst: &mut [T], a: T, x: &[T]) {
    for (d, &x) in dst.iter_mut().zip(x) {
        *d += a * x;
    }
}

impl Gaussian {
    /// Column kernel: `S` is generated in super-blocks of `SUPER_BLOCK·GEN_BLOCK` rows shared by
    /// all columns; output columns are independent and, within one, input rows are visited in
    /// ascending order. Generation blocks without stored rows are skipped.
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge) when the super-block's buffer (at most
    /// `m × 1024` entries of `S` and 64 MiB, but never less than one generation block of
    /// `m × 64`: 128 MiB of `f64` at `m = 2¹⁸`) or the column cursors
    /// ([`kernels::column_cursors`]) cannot be allocated.
    fn accumulate_super_blocks<T: Scalar>(
        &self,
        row_offset: usize,
        cols: &ColAccess<'_, T>,
        k: usize,
        work: &mut [T],
        d: usize,
        par: Par,
    ) -> Result<()> {
        let m = self.m;
        let tasks = kernels::tasks(par);
        let cols_per_task = kernels::chunk_len(d, tasks);
        let mut cursors = kernels::column_cursors(d)?;
        // Global input rows covered by this block, walked in super-blocks aligned to GEN_BLOCK.
        let (start, end) = (row_offset, row_offset + k);
        let mut sb_start = start / GEN_BLOCK * GEN_BLOCK;
        let blocks = (SUPER_BLOCK_BYTES / (m * GEN_BLOCK * std::mem::size_of::<T>()).max(1))
            .clamp(1, SUPER_BLOCK);
        // One buffer for every super-block, as long as the longest one this block needs (a
        // `vec!` per super-block aborted where the allocator refused).
        let longest = (blocks * GEN_BLOCK).min(end - sb_start);
        let mut buf = filled_or_too_large(m * longest, T::ZERO, "Gaussian sketch's block of S")?;
        while sb_start < end {
            // Up to the block's last row, not a whole super-block (a stream of 1-row blocks drew
            // 1024·m normals per row): a generation block's stream is column-major, so its
            // first columns are a prefix of it, the same values whatever is generated after.
            let sb_end = sb_start
                .saturating_add(blocks * GEN_BLOCK)
                .min(end)
                .min(self.n);
            let s_cols = &mut buf[..m * (sb_end - sb_start)];
            self.gen_columns_into(sb_start, s_cols, par);
            let s_cols = &*s_cols;
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
                    work,
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
        Ok(())
    }

    /// Column kernel for CSC input that stores few entries per generation block: each stored
    /// entry regenerates the block of `S` holding its column (each task keeps the last block it
    /// generated until an entry needs another one), so nothing is generated for blocks without
    /// entries and no block walk visits every column. Cost `O(nnz·GEN_BLOCK·m)` generation at
    /// most, plus the `m·nnz` multiply-adds; the same values are added in the same order as in
    /// the super-block kernel, so the bits are the same.
    fn accumulate_entries<T: Scalar>(
        &self,
        row_offset: usize,
        csc: &SparseRef<'_, T>,
        work: &mut [T],
        par: Par,
    ) {
        let m = self.m;
        // Per task: the last generation block it made, and which one it is.
        let state = || (vec![T::ZERO; m * GEN_BLOCK], None);
        kernels::for_each_csc_entry(csc, work, m, par, state, |(block, held), col, i, v| {
            let row = row_offset + i;
            let g = row / GEN_BLOCK;
            if *held != Some(g) {
                let len = (self.n - g * GEN_BLOCK).min(GEN_BLOCK);
                self.gen_block(g, &mut block[..len * m]);
                *held = Some(g);
            }
            let at = row % GEN_BLOCK * m;
            axpy(col, v, &block[at..at + m]);
        });
    }
}

/// Whether the Gaussian column kernel should generate `S` per stored entry
/// ([`Gaussian::accumulate_entries`]) rather than per super-block of rows shared by all columns
/// ([`Gaussian::accumulate_super_blocks`]), for a CSC block of `k` rows, `d` columns, `nnz`
/// entries, `m` rows of `S` and an output of `out_bytes`. Both give the same bits; this only
/// picks the faster. The super-block kernel generates `SUPER_BLOCK·GEN_BLOCK·m` normals and
/// walks the columns ([`kernels::block_walk_ps`]) for each of the at most
/// `min(⌈k/(SUPER_BLOCK·GEN_BLOCK)⌉, nnz)` super-blocks it visits; the entry kernel at most
/// `GEN_BLOCK·m` normals per entry. The entry kernel must win by [`kernels::ENTRY_MARGIN`] in
/// the model. Measured on 7 shapes (`k = 10⁵…10⁶`, `d = 10²…10⁵`, `m = 4…64`, one thread), the
/// rule kept the super-block kernel where the entry kernel was 4.7–18× slower or at most 1.4×
/// faster; on hypersparse input (4000 columns of one entry, rows 2²⁰ apart, `m = 64`) the entry
/// kernel took 58 ms against 0.74 s.
fn generate_per_entry(k: usize, d: usize, nnz: usize, m: usize, out_bytes: u128) -> bool {
    let rows_per_super = (SUPER_BLOCK * GEN_BLOCK) as u128;
    let supers = (k as u128).div_ceil(rows_per_super).min(nnz as u128);
    let normals = supers
        .saturating_mul(rows_per_super)
        .saturating_mul(m as u128);
    let super_cost = normals
        .saturating_mul(NORMAL_PS)
        .saturating_add(kernels::block_walk_ps(supers, d, nnz, out_bytes));
    let entry_normals = (nnz as u128).saturating_mul(GEN_BLOCK as u128 * m as u128);
    entry_normals
        .saturating_mul(NORMAL_PS)
        .saturating_mul(kernels::ENTRY_MARGIN)
        < super_cost
}

/// Measured cost of one normal draw, scaled and stored, in picoseconds (2.3–2.4 ns).
const NORMAL_PS: u128 = 2_400;

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
        mut out: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        check_block(self.m, self.n, row_offset, &block, &out)?;
        let (k, d, m) = (block.nrows(), block.ncols(), self.m);
        if k == 0 || d == 0 {
            return Ok(());
        }
        kernels::with_columns(block, par, |cols| {
            let mut work = kernels::try_load_col_major(&out)?;
            match cols {
                ColAccess::Csc(csc)
                    if generate_per_entry(k, d, csc.nnz(), m, kernels::out_bytes::<T>(m, d)) =>
                {
                    // Each task holds one generation block of `m × 64` (a `vec!` in the task,
                    // which aborted where the allocator refused): ask for all of them first.
                    let tasks = kernels::tasks(par).min(d);
                    ensure_allocatable::<T>(
                        (m * GEN_BLOCK).checked_mul(tasks),
                        || format!("the Gaussian sketch's {tasks} blocks of {m}×{GEN_BLOCK}"),
                        (m * GEN_BLOCK) as u128 * tasks as u128,
                    )?;
                    self.accumulate_entries(row_offset, csc, &mut work, par)
                }
                _ => self.accumulate_super_blocks(row_offset, cols, k, &mut work, d, par)?,
            }
            kernels::store_col_major(&work, out.as_mut());
            Ok::<(), crate::Error>(())
        })??;
        check_output_finite(out.as_ref())
    }

    fn to_dense(&self) -> Result<Mat<T>> {
        // Generated one block of 64 columns at a time straight into the matrix (a whole copy
        // of S first doubled the memory); each block is its own stream, so the values are
        // those the kernels generate (`gen_columns_into`).
        let (m, n) = (self.m, self.n);
        let mut out = dense_zeros::<T>(m, n)?;
        let mut buf = filled_or_too_large(
            m * GEN_BLOCK.min(n),
            T::ZERO,
            "Gaussian sketch's block of S",
        )?;
        for g in 0..n.div_ceil(GEN_BLOCK) {
            let first = g * GEN_BLOCK;
            let cols = (n - first).min(GEN_BLOCK);
            let buf = &mut buf[..m * cols];
            self.gen_block(g, buf);
            for (c, column) in buf.chunks_exact(m).enumerate() {
                for (i, &v) in column.iter().enumerate() {
                    out[(i, first + c)] = v;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::random_sparse;

    #[test]
    fn entry_and_super_block_kernels_give_the_same_bits() {
        // A sparse block (most generation blocks empty), a tall one with 6 entries per row, and
        // a hypersparse one whose rows are 2^20 apart. The last generation block of S is
        // partial (n = k + offset + 37); the 30 000-row block at offset 100 has entries in it.
        let mut cases: Vec<sprs::CsMat<f64>> = [(30_000, 5, 1), (3000, 40, 6)]
            .into_iter()
            .map(|(n, d, r)| {
                random_sparse(n, d, r, crate::Seed::new(n as u64))
                    .unwrap()
                    .to_csc()
            })
            .collect();
        let mut tri = sprs::TriMat::new((1usize << 40, 60));
        for t in 0..180usize {
            tri.add_triplet((t * 7919 % 180) << 20, t % 60, 1.0 + t as f64 / 7.0);
        }
        cases.push(tri.to_csc());
        let m = 24;
        for a in &cases {
            let Ok(MatrixRef::Sparse(view)) = MatrixRef::sparse(a) else {
                panic!("not a valid sparse matrix");
            };
            let (k, d) = (a.rows(), a.cols());
            let start: Vec<f64> = (0..m * d).map(|i| (i as f64 * 0.37).sin()).collect();
            for row_offset in [0, 100] {
                let op = Gaussian::new(m, k + row_offset + 37, crate::Seed::new(5)).unwrap();
                for par in [Par::Seq, Par::rayon(2), Par::rayon(3)] {
                    let mut blocks = start.clone();
                    let cols = ColAccess::Csc(view);
                    op.accumulate_super_blocks(row_offset, &cols, k, &mut blocks, d, par)
                        .unwrap();
                    let mut entries = start.clone();
                    op.accumulate_entries(row_offset, &view, &mut entries, par);
                    for (i, (x, y)) in blocks.iter().zip(&entries).enumerate() {
                        let what = format!("{k}×{d}, offset {row_offset}, {par:?}, entry {i}");
                        assert_eq!(x.to_bits(), y.to_bits(), "{what}: {x} vs {y}");
                    }
                }
            }
        }
    }

    /// At m = 20 000 a super-block holds 6 generation blocks instead of 16 (it is capped at
    /// `SUPER_BLOCK_BYTES`); the bits must still be those of the per-entry kernel.
    #[test]
    fn smaller_super_blocks_for_tall_sketches_keep_the_bits() {
        let m = 20_000;
        let blocks = SUPER_BLOCK_BYTES / (m * GEN_BLOCK * 8);
        assert!((1..SUPER_BLOCK).contains(&blocks), "{blocks}");
        let a = random_sparse(3000, 3, 2, crate::Seed::new(8))
            .unwrap()
            .to_csc();
        let Ok(MatrixRef::Sparse(view)) = MatrixRef::sparse(&a) else {
            panic!("not a valid sparse matrix");
        };
        let op = Gaussian::new(m, 3000 + 100, crate::Seed::new(6)).unwrap();
        let start: Vec<f64> = (0..m * 3).map(|i| (i as f64 * 0.11).cos()).collect();
        let mut blocks = start.clone();
        op.accumulate_super_blocks(
            100,
            &ColAccess::Csc(view),
            3000,
            &mut blocks,
            3,
            Par::rayon(2),
        )
        .unwrap();
        let mut entries = start;
        op.accumulate_entries(100, &view, &mut entries, Par::Seq);
        for (i, (x, y)) in blocks.iter().zip(&entries).enumerate() {
            assert_eq!(x.to_bits(), y.to_bits(), "entry {i}: {x} vs {y}");
        }
    }

    #[test]
    fn cost_rule_generates_per_entry_only_where_it_wins_by_far() {
        let rule = |k, d, nnz, m| generate_per_entry(k, d, nnz, m, kernels::out_bytes::<f64>(m, d));
        // Shapes where the super-block kernel was measured 4.7–18× faster (among them the
        // sketch of a 10⁴ × 10⁶ sparse matrix from the right, m = 20), and one where the entry
        // kernel was 1.4× faster, short of the margin.
        assert!(!rule(1_000_000, 100, 100_000, 64));
        assert!(!rule(100_000, 100_000, 1_000_000, 64));
        assert!(!rule(1_000_000, 10_000, 320_000, 20));
        assert!(!rule(1_000_000, 1000, 170_000, 4));
        assert!(!rule(1_000_000, 100, 10_000, 64));
        // Hypersparse (one entry per 2^20 rows): per entry, 16× fewer normals and no walk.
        assert!(rule(1 << 40, 16_000, 16_000, 64));
        assert!(rule(1 << 40, 50_000, 50_000, 16));
        assert!(rule(usize::MAX, usize::MAX, 3, 1 << 20));
    }
}
