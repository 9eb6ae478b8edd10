//! Shared plumbing for the sketch kernels: work buffers, access patterns, task splitting.
//!
//! Every kernel carries out `out += contributions` entry by entry in a fixed order — the basis of
//! the bitwise-reproducibility contract. Most accumulate into a contiguous work buffer loaded
//! from the caller's `out` (any strides) and stored back afterwards; CountSketch on row-accessed
//! input with a small output whose columns are contiguous adds straight into those columns
//! instead (`SparseSign::add_rows_to_columns`, the same bits as the row kernel).

use super::prefetch::prefetch;
use crate::input::{Layout, MatrixRef, SparseRef};
use crate::scalar::Scalar;
use faer::{MatMut, MatRef, Par};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How a block is best traversed.
pub(crate) enum Access<'a, T> {
    /// Row by row: CSR, or dense with unit column stride (row-major).
    Rows(RowAccess<'a, T>),
    /// Column by column: CSC, or dense column-major (or general strides).
    Cols(ColAccess<'a, T>),
}

pub(crate) enum RowAccess<'a, T> {
    Csr(SparseRef<'a, T>),
    Dense(MatRef<'a, T>),
}

pub(crate) enum ColAccess<'a, T> {
    Csc(SparseRef<'a, T>),
    Dense(MatRef<'a, T>),
}

impl<'a, T: Scalar> Access<'a, T> {
    pub(crate) fn of(block: MatrixRef<'a, T>) -> Self {
        match block {
            MatrixRef::Sparse(s) => match s.layout() {
                Layout::Csr => Access::Rows(RowAccess::Csr(s)),
                Layout::Csc => Access::Cols(ColAccess::Csc(s)),
            },
            MatrixRef::Dense(a) => {
                if a.col_stride() == 1 && a.row_stride() != 1 {
                    Access::Rows(RowAccess::Dense(a))
                } else {
                    Access::Cols(ColAccess::Dense(a))
                }
            }
        }
    }
}

impl<T: Scalar> RowAccess<'_, T> {
    /// Input bytes per row of a block of `k` rows, on average: stored entries times (index +
    /// value) for CSR, `d` values for dense rows.
    pub(crate) fn mean_row_bytes(&self, k: usize) -> usize {
        match self {
            RowAccess::Csr(s) => (s
                .nnz()
                .saturating_mul(std::mem::size_of::<usize>() + std::mem::size_of::<T>()))
            .div_ceil(k.max(1)),
            RowAccess::Dense(a) => a.ncols().saturating_mul(std::mem::size_of::<T>()),
        }
    }

    /// Hints the CPU to fetch the stored entries [`PREFETCH_AHEAD`] positions past those of CSR
    /// row `i`, for a walk over the rows in ascending order (nothing for dense rows, whose stream
    /// the hardware prefetcher follows on its own). One hint per 8 entries of the indices and of
    /// the values (a cache line of `usize` or `f64`; half a line of `f32`), at most
    /// [`PREFETCH_MAX_ENTRIES`] entries; the hint never changes a result.
    #[inline(always)]
    pub(crate) fn prefetch_after(&self, i: usize) {
        self.prefetch_entries(i, PREFETCH_AHEAD);
    }

    /// Hints the CPU to fetch the stored entries of CSR row `i`, for a walk that visits rows out
    /// of order (nothing for dense rows).
    #[inline(always)]
    pub(crate) fn prefetch_row(&self, i: usize) {
        self.prefetch_entries(i, 0);
    }

    /// Prefetches the cache lines of the stored entries `ahead` positions past those of row `i`
    /// that lie inside the index and value arrays.
    #[inline(always)]
    fn prefetch_entries(&self, i: usize, ahead: usize) {
        if let RowAccess::Csr(s) = self {
            let (ptr, idx, val) = s.raw_parts();
            let (Some(&base), Some(&lo), Some(&hi)) = (ptr.first(), ptr.get(i), ptr.get(i + 1))
            else {
                return;
            };
            let (lo, hi) = (lo - base + ahead, hi - base + ahead);
            let end = hi.min(lo + PREFETCH_MAX_ENTRIES).min(idx.len());
            let mut q = lo & !7;
            while q < end {
                prefetch(idx, q);
                prefetch(val, q);
                q += 8;
            }
        }
    }

    /// Calls `f(col, value)` once for every nonzero of row `i` with column in `c0..c1`: in
    /// increasing column order, except on a CSR row when `c0 > 0` and `c1` reaches the last
    /// column, which is walked backwards. The kernels add each entry into an output entry of its
    /// own column, so the order within a row does not change their bits.
    #[inline(always)]
    pub(crate) fn for_each_in(&self, i: usize, c0: usize, c1: usize, mut f: impl FnMut(usize, T)) {
        match self {
            RowAccess::Csr(s) => {
                // The row's range straight from the row pointers: `SparseRef::outer` was not
                // inlined here (3% of CountSketch on CSR, perf) and checks `i` again.
                let (ptr, idx, val) = s.raw_parts();
                let (Some(&base), Some(&lo), Some(&hi)) = (ptr.first(), ptr.get(i), ptr.get(i + 1))
                else {
                    return;
                };
                let (idx, val) = (&idx[lo - base..hi - base], &val[lo - base..hi - base]);
                let entries = idx.iter().zip(val);
                // The whole width needs no search. The first panel walks forwards and the last
                // backwards until they leave their columns, instead of a binary search per row
                // and panel: s = 8 on two threads 302–324 → 247–265 ms (5·10⁷ nnz, m = 400,
                // d = 200, `examples/sketch_cpu`, three alternating runs of each build).
                match (c0 == 0, c1 >= s.ncols()) {
                    (true, true) => entries.for_each(|(&c, &v)| f(c, v)),
                    (true, false) => {
                        for (&c, &v) in entries.take_while(|(&c, _)| c < c1) {
                            f(c, v);
                        }
                    }
                    (false, true) => {
                        for (&c, &v) in entries.rev().take_while(|(&c, _)| c >= c0) {
                            f(c, v);
                        }
                    }
                    (false, false) => {
                        let a = idx.partition_point(|&c| c < c0);
                        let b = a + idx[a..].partition_point(|&c| c < c1);
                        for (&c, &v) in idx[a..b].iter().zip(&val[a..b]) {
                            f(c, v);
                        }
                    }
                }
            }
            RowAccess::Dense(a) => {
                let row = a.row(i);
                for c in c0..c1 {
                    let v = row[c];
                    if v != T::ZERO {
                        f(c, v);
                    }
                }
            }
        }
    }
}

/// How far ahead (in stored entries, 2 KiB of indices) [`RowAccess::prefetch_after`] fetches.
///
/// CountSketch on CSR (`s = 1`) makes one read-modify-write per stored entry at a random line of
/// a 640 KB output; the hardware prefetcher then fell behind on the two input streams (perf put
/// 45% of the kernel's samples on the loads of indices and values). A scratch loop identical to
/// the kernel's, 8·10⁵ × 200 CSR with 25 per row (2·10⁷ nnz), m = 400, one thread, best of 15
/// (2026-12-02): 31.0–31.7 ms without hints, 22.8–24.1 ms with them 1 KiB ahead, 23.4–23.9 ms
/// 2 KiB ahead (equal within the noise; 2 KiB keeps a whole row of up to 256 entries ahead),
/// 26.3 and 27.1 ms at ½ and 4 KiB; touching the same lines with ordinary loads instead took
/// 38.3 ms (a demand load that misses holds up retirement; a prefetch does not).
pub(crate) const PREFETCH_AHEAD: usize = 256;

/// At most this many entries of one row are prefetched per call: a long row's own stream is
/// followed by the hardware prefetcher, and hints for lines far ahead would be evicted before use
/// (with several column panels every task would also hint the whole row).
const PREFETCH_MAX_ENTRIES: usize = 512;

/// The rows of a CSR matrix with the row pointers `ptr` that store entries. Chunks of
/// [`COUNT_CHUNK`] rows whose end pointers are equal store nothing and are skipped whole; the
/// others are counted by a comparison per row, a loop without calls that the compiler can
/// vectorize (cheaper on inputs that store every row than a [`next_stored_row`] per row).
/// `O(k/COUNT_CHUNK + rows of the chunks that store entries)`.
pub(crate) fn count_stored_rows(ptr: &[usize]) -> usize {
    let k = ptr.len() - 1;
    let mut count = 0;
    let mut lo = 0;
    while lo < k {
        let hi = lo.saturating_add(COUNT_CHUNK).min(k);
        if ptr[hi] != ptr[lo] {
            count += ptr[lo..hi]
                .iter()
                .zip(&ptr[lo + 1..=hi])
                .filter(|(a, b)| a != b)
                .count();
        }
        lo = hi;
    }
    count
}

/// Rows per chunk of [`count_stored_rows`].
const COUNT_CHUNK: usize = 4096;

/// The first row at or after `i` of a CSR matrix with the `k + 1` row pointers `ptr` that stores
/// an entry, or `k` when none does. A run of empty rows is crossed by a galloping search over the
/// pointers (`O(log run)`), so a walk over the stored rows costs `O(stored rows + runs·log k)`
/// rather than `O(k)`: a hypersparse input declares many rows but stores few.
pub(crate) fn next_stored_row(ptr: &[usize], i: usize) -> usize {
    let k = ptr.len() - 1;
    if i >= k || ptr[i + 1] != ptr[i] {
        return i.min(k);
    }
    // Rows i ..= lo − 1 are empty (ptr[lo] == base); find the first j > lo with ptr[j] != base,
    // which makes row j − 1 the first stored one (j = k + 1: none).
    let base = ptr[i];
    let (mut lo, mut step) = (i + 1, 1usize);
    let hi = loop {
        let probe = lo.saturating_add(step);
        if probe >= k {
            break k;
        }
        if ptr[probe] != base {
            break probe;
        }
        lo = probe;
        step = step.saturating_mul(2);
    };
    lo + ptr[lo + 1..=hi].partition_point(|&p| p == base)
}

impl<T: Scalar> ColAccess<'_, T> {
    /// One past the last stored row below `hi` in any column, from the cursors on (CSC); `hi`
    /// for dense input. After a skip over empty rows, a block can end there instead of at `hi`,
    /// so per-row work (hashing, generating) is done only up to the last row that needs it.
    /// `O(d log nnz)`: callers use it only after a skip, never on inputs without empty runs.
    pub(crate) fn stored_end(&self, cursors: &[usize], lo: usize, hi: usize) -> usize {
        match self {
            ColAccess::Csc(s) => cursors
                .iter()
                .enumerate()
                .filter_map(|(c, &p)| {
                    let column = s.outer(c).0;
                    let idx = &column[p.min(column.len())..];
                    let below = idx.partition_point(|&row| row < hi);
                    below.checked_sub(1).map(|last| idx[last] + 1)
                })
                .max()
                .map_or(lo, |end| end.clamp(lo, hi)),
            ColAccess::Dense(_) => hi,
        }
    }

    /// Calls `f(row, value)` for every nonzero of column `c` with row in `lo..hi`, in increasing
    /// row order; `cursor` is the position reached in a CSC column (advanced past `hi`).
    #[inline(always)]
    pub(crate) fn for_each(
        &self,
        c: usize,
        lo: usize,
        hi: usize,
        cursor: &mut usize,
        mut f: impl FnMut(usize, T),
    ) {
        match self {
            ColAccess::Csc(s) => {
                let (idx, val) = s.outer(c);
                // The position in a local, written back once: through `cursor` it was reloaded
                // and stored around every entry.
                let mut at = *cursor;
                while at < idx.len() && idx[at] < hi {
                    let i = idx[at];
                    if i >= lo {
                        f(i, val[at]);
                    }
                    at += 1;
                }
                *cursor = at;
            }
            ColAccess::Dense(a) => {
                let col = a.col(c);
                if let Some(sl) = col.try_as_col_major() {
                    let sl = sl.as_slice();
                    for (i, &v) in sl[lo..hi].iter().enumerate() {
                        if v != T::ZERO {
                            f(lo + i, v);
                        }
                    }
                } else {
                    for i in lo..hi {
                        let v = col[i];
                        if v != T::ZERO {
                            f(i, v);
                        }
                    }
                }
            }
        }
    }
}

/// Runs `f` with column-by-column access to `block`. CSR input is transposed to CSC first
/// (`O(nnz)` time and memory, on the threads of `par` for large inputs); the rows of each column
/// come out in ascending order, as from any other layout, so the result's bits do not depend on
/// the layout.
///
/// # Errors
/// As [`csr_to_csc`].
pub(crate) fn with_columns<T: Scalar, R>(
    block: MatrixRef<'_, T>,
    par: Par,
    f: impl FnOnce(&ColAccess<'_, T>) -> R,
) -> crate::Result<R> {
    Ok(match Access::of(block) {
        Access::Cols(cols) => f(&cols),
        Access::Rows(RowAccess::Dense(a)) => f(&ColAccess::Dense(a)),
        Access::Rows(RowAccess::Csr(s)) => {
            let csc = csr_to_csc(&s, par)?;
            let view = SparseRef::from_valid_parts(
                Layout::Csc,
                s.nrows(),
                s.ncols(),
                &csc.indptr,
                &csc.indices,
                &csc.data,
            );
            f(&ColAccess::Csc(view))
        }
    })
}

/// Splits a column-major work buffer (`m` entries per column) and its per-column cursors into
/// contiguous ranges of `cols_per_task` columns and runs `run(task, (columns, cursors))` on each,
/// on the rayon pool when `tasks > 1`. Columns are independent, so the partition never changes a
/// result.
pub(crate) fn for_column_chunks<T: Scalar>(
    work: &mut [T],
    cursors: &mut [usize],
    m: usize,
    cols_per_task: usize,
    tasks: usize,
    run: impl Fn((usize, (&mut [T], &mut [usize]))) + Send + Sync,
) {
    if tasks > 1 {
        work.par_chunks_mut(cols_per_task * m)
            .zip(cursors.par_chunks_mut(cols_per_task))
            .enumerate()
            .for_each(run);
    } else {
        work.chunks_mut(cols_per_task * m)
            .zip(cursors.chunks_mut(cols_per_task))
            .enumerate()
            .for_each(run);
    }
}

/// Estimated cost, in picoseconds, of what a block-by-block column walk adds to a column
/// kernel's work on a CSC input of `d` columns, `nnz` entries and an output of `out_bytes`,
/// when it visits `blocks` row blocks: each block visits every column (a cursor check,
/// [`COLUMN_VISIT_PS`]), and each column with entries in the block brings its output column
/// back into cache when the output does not fit in one core's L2 ([`COLUMN_REFILL_PS`]). A
/// kernel that takes the entries column by column pays neither.
pub(crate) fn block_walk_ps(blocks: u128, d: usize, nnz: usize, out_bytes: u128) -> u128 {
    let visits = blocks.saturating_mul(d as u128);
    let refill = if out_bytes > L2_BYTES {
        visits.min(nnz as u128).saturating_mul(COLUMN_REFILL_PS)
    } else {
        0
    };
    visits
        .saturating_mul(COLUMN_VISIT_PS)
        .saturating_add(refill)
}

/// Bytes of an `m × d` output of `T`, for the cost rules.
pub(crate) fn out_bytes<T>(m: usize, d: usize) -> u128 {
    (m as u128)
        .saturating_mul(d as u128)
        .saturating_mul(std::mem::size_of::<T>() as u128)
}

/// The entry kernels are chosen only where the cost model gives them at least this factor over
/// the block kernels (the sparse sign's row blocks, the Gaussian's super-blocks), which every
/// input used before and which win on ordinary shapes: the model is rough (±2× across shapes),
/// the gains it is there for are 2.6–11× on wide inputs and `O(d)` on hypersparse ones.
pub(crate) const ENTRY_MARGIN: u128 = 2;

/// One core's L2 cache on the development machine (AMD EPYC, 1 MiB per core).
const L2_BYTES: u128 = 1 << 20;
/// Measured cost of visiting one column in one block (the cursor check), ≈ 10 ns.
const COLUMN_VISIT_PS: u128 = 10_000;
/// Measured cost of bringing an output column back into cache for a block, ≈ 100 ns.
const COLUMN_REFILL_PS: u128 = 100_000;

/// Calls `entry(state, column, row, value)` for every stored entry of a CSC matrix, column by
/// column and in ascending row order within a column, where `column` is that column's `m`
/// entries of the column-major work buffer. Columns are shared out in contiguous ranges, one per
/// task (on the rayon pool when `par` has more than one thread), each task with its own
/// `init()` state. Columns are independent, so the partition never changes a result.
pub(crate) fn for_each_csc_entry<T: Scalar, S>(
    csc: &SparseRef<'_, T>,
    work: &mut [T],
    m: usize,
    par: Par,
    init: impl Fn() -> S + Send + Sync,
    entry: impl Fn(&mut S, &mut [T], usize, T) + Send + Sync,
) {
    let tasks = tasks(par);
    let cols_per_task = chunk_len(csc.ncols(), tasks);
    let run = |(t, part): (usize, &mut [T])| {
        let mut state = init();
        for (cc, col) in part.chunks_mut(m).enumerate() {
            let (rows, vals) = csc.outer(t * cols_per_task + cc);
            for (&i, &v) in rows.iter().zip(vals) {
                entry(&mut state, col, i, v);
            }
        }
    };
    if tasks > 1 {
        work.par_chunks_mut(cols_per_task * m)
            .enumerate()
            .for_each(run);
    } else {
        work.chunks_mut(cols_per_task * m).enumerate().for_each(run);
    }
}

/// [`for_column_chunks`] for one block of rows `..from` of a column walk, returning where the
/// next block can start: the first stored row at or after `from` in any column of a CSC input
/// (`end` when none is left), or `from` for dense input, which stores every row. A CSC input may
/// declare far more rows than it stores, and a walk that visits every block would take hours for
/// 2^40 declared rows. Each task takes the minimum over its own columns after walking them, while
/// they are in cache, so the skip adds no sequential pass over the columns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn for_column_chunks_then_resume<T: Scalar>(
    cols: &ColAccess<'_, T>,
    work: &mut [T],
    cursors: &mut [usize],
    m: usize,
    cols_per_task: usize,
    tasks: usize,
    (from, end): (usize, usize),
    run: impl Fn((usize, (&mut [T], &mut [usize]))) + Send + Sync,
) -> usize {
    let csc = match cols {
        ColAccess::Csc(s) => Some(*s),
        ColAccess::Dense(_) => None,
    };
    let next = AtomicUsize::new(usize::MAX);
    for_column_chunks(
        work,
        cursors,
        m,
        cols_per_task,
        tasks,
        |(t, (part, curs))| {
            run((t, (part, &mut *curs)));
            if let Some(s) = csc {
                let first = t * cols_per_task;
                let local = curs
                    .iter()
                    .enumerate()
                    .filter_map(|(cc, &p)| s.outer(first + cc).0.get(p).copied())
                    .min();
                if let Some(row) = local {
                    next.fetch_min(row, Ordering::Relaxed);
                }
            }
        },
    );
    match csc {
        Some(_) => next.into_inner().clamp(from, end),
        None => from,
    }
}

/// One cursor (a position in a CSC column) per column of a `d`-column block, for the kernels
/// that walk the columns in row blocks; [`Error::TooLarge`](crate::Error::TooLarge) when they
/// cannot be allocated (`d` is as large as a sparse input declares: with `m = 1` the cursors
/// take as much memory as the output, and a `vec!` aborted where the output and its work copy
/// had just fit).
pub(crate) fn column_cursors(d: usize) -> crate::Result<Vec<usize>> {
    crate::input::filled_or_too_large(d, 0, "column cursors of a sketch kernel")
}

/// Copies `out` into a column-major buffer, or [`Error::TooLarge`](crate::Error::TooLarge) when
/// the copy cannot be allocated (see [`work_buffer`]).
pub(crate) fn try_load_col_major<T: Scalar>(out: &MatMut<'_, T>) -> crate::Result<Vec<T>> {
    let mut buf = work_buffer(out.nrows(), out.ncols())?;
    push_col_major(out, &mut buf);
    Ok(buf)
}

fn push_col_major<T: Scalar>(out: &MatMut<'_, T>, buf: &mut Vec<T>) {
    for c in 0..out.ncols() {
        match out.as_ref().col(c).try_as_col_major() {
            Some(col) => buf.extend_from_slice(col.as_slice()),
            None => buf.extend((0..out.nrows()).map(|r| out[(r, c)])),
        }
    }
}

/// An empty buffer with room for exactly `m·d` entries: a kernel's copy of its `m × d` output.
///
/// # Errors
/// [`Error::TooLarge`](crate::Error::TooLarge) when the allocator refuses it. The copy doubles
/// the memory of `S·A`, so an output that could just be allocated (`apply` checks it) may leave
/// no room for it: `vec!` aborted there (`lstsq --sketch-rows 10000000` on a 2000 × 50 `A`,
/// two 4 GB buffers under a 6 GB address limit).
fn work_buffer<T>(m: usize, d: usize) -> crate::Result<Vec<T>> {
    let what = || format!("the {m}×{d} work copy of a sketch output");
    work_buffer_of(what, m.checked_mul(d), m as u128 * d as u128)
}

/// [`work_buffer`] with room for `len` scalars (`None`: more than a `usize` counts, `requested`
/// in full), for the work copy `what` (an output with padded rows, say).
fn work_buffer_of<T>(
    what: impl FnOnce() -> String,
    len: Option<usize>,
    requested: u128,
) -> crate::Result<Vec<T>> {
    let mut buf = Vec::new();
    match len {
        Some(len) if buf.try_reserve_exact(len).is_ok() => Ok(buf),
        _ => Err(crate::Error::TooLarge {
            what: what(),
            requested,
            limit: (isize::MAX as usize / std::mem::size_of::<T>().max(1)) as u128,
        }),
    }
}

/// Every column of `out` as a slice, or `None` when its columns are not contiguous (a row-major
/// or reversed view): for kernels that write straight into the output.
pub(crate) fn contiguous_columns<T>(out: MatMut<'_, T>) -> Option<Vec<&mut [T]>> {
    out.col_iter_mut()
        .map(|c| c.try_as_col_major_mut().map(|c| c.as_slice_mut()))
        .collect()
}

/// Writes a column-major buffer back into `out`.
pub(crate) fn store_col_major<T: Scalar>(buf: &[T], mut out: MatMut<'_, T>) {
    let m = out.nrows();
    debug_assert_eq!(buf.len(), m * out.ncols());
    for (c, src) in buf.chunks_exact(m.max(1)).enumerate().take(out.ncols()) {
        match out.as_mut().col_mut(c).try_as_col_major_mut() {
            Some(col) => col.as_slice_mut().copy_from_slice(src),
            None => {
                for (r, &v) in src.iter().enumerate() {
                    out[(r, c)] = v;
                }
            }
        }
    }
}

/// The layout of the row kernel's work copy of an `m × d` output: column panels of width `w`
/// (the last may be narrower), panel `p` holding columns `p·w .. min((p+1)·w, d)` of every row,
/// row-major with row stride `stride` at offset `p·m·stride`. With `w = d` it is row-major.
///
/// The stride is `w` padded by one cache line when `w` scalars fill a multiple of 2048 bytes:
/// the `s` rows an input entry adds into then start in different L1 sets instead of one (with
/// 4096-byte rows, all `s` targets of an entry compete for the 8 ways of a single set). Measured
/// on one thread, `s = 8`, `m = 400`, CSR with 25 entries a row, 2·10⁶ nnz, best of 15
/// (throwaway harness, 2026-12-02): before the padding `d = 512` took 12.7 ns/nnz against 9.9 at
/// `d = 500`, `d = 1024` 15.5 against 10.4 at `d = 1000`; with it, two alternating runs of each
/// build, `d = 512` 11.0–11.1 → 9.4–9.6 ns/nnz, `d = 1024` 12.7–14.2 → 10.8–11.7, `d = 200`
/// and `500` (not padded) unchanged.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowPanels {
    pub(crate) m: usize,
    pub(crate) d: usize,
    /// Columns per panel (`≥ 1`).
    pub(crate) w: usize,
    /// Scalars from one row of a panel to the next (`≥ w`).
    pub(crate) stride: usize,
}

impl RowPanels {
    /// Panels of width `w` (at least 1) for an `m × d` output of `T`.
    pub(crate) fn new<T>(m: usize, d: usize, w: usize) -> Self {
        let w = w.max(1);
        let size = std::mem::size_of::<T>().max(1);
        let stride = if (w * size).is_multiple_of(2048) {
            w + (64 / size).max(1)
        } else {
            w
        };
        RowPanels { m, d, w, stride }
    }

    /// Scalars per panel, `m·stride`: the chunk length that splits the buffer into panels.
    pub(crate) fn panel_len(&self) -> usize {
        self.m * self.stride
    }

    /// Width of panel `p`.
    pub(crate) fn width(&self, p: usize) -> usize {
        self.w.min(self.d - p * self.w)
    }
}

/// Copies `out` into a work buffer laid out as `panels`.
///
/// # Errors
/// [`Error::TooLarge`](crate::Error::TooLarge) when the copy cannot be allocated (see
/// [`work_buffer`]).
pub(crate) fn load_row_panels<T: Scalar>(
    out: &MatMut<'_, T>,
    panels: RowPanels,
) -> crate::Result<Vec<T>> {
    let (m, d) = (out.nrows(), out.ncols());
    debug_assert_eq!((m, d), (panels.m, panels.d));
    let requested = m as u128 * panels.stride as u128 * d.div_ceil(panels.w) as u128;
    let len = m
        .checked_mul(panels.stride)
        .and_then(|l| l.checked_mul(d.div_ceil(panels.w)));
    let what = || {
        format!(
            "the {m}×{d} work copy of a sketch output (rows of {} scalars)",
            panels.stride
        )
    };
    let mut buf = work_buffer_of(what, len, requested)?;
    // `len` is `Some`: its room was reserved.
    buf.resize(len.unwrap_or_default(), T::ZERO);
    // `apply` hands over a freshly zeroed output, which the buffer already holds: a read of
    // `out` instead of a transposing copy (at 10⁵ entries into a 400 × 200 output the copy
    // took a sixth of the sketch). Only +0 counts, so the bits are those of the copy.
    if is_positive_zero(out) {
        return Ok(buf);
    }
    let stride = panels.stride;
    for (p, panel) in buf.chunks_mut(panels.panel_len()).enumerate() {
        let (c0, wp) = (p * panels.w, panels.width(p));
        for_tiles(m, wp, |r, j| panel[r * stride + j] = out[(r, c0 + j)]);
    }
    Ok(buf)
}

/// Whether every entry of `out` is +0 (−0 is not: −0 + −0 is −0, +0 + −0 is +0). Contiguous
/// columns are read as slices, OR-ing the bits of a chunk at a time.
fn is_positive_zero<T: Scalar>(out: &MatMut<'_, T>) -> bool {
    let bits = |v: &T| v.to_f64().to_bits();
    (0..out.ncols()).all(|c| match out.as_ref().col(c).try_as_col_major() {
        Some(col) => col
            .as_slice()
            .chunks(256)
            .all(|chunk| chunk.iter().fold(0, |any, v| any | bits(v)) == 0),
        None => (0..out.nrows()).all(|r| bits(&out[(r, c)]) == 0),
    })
}

/// Visits every `(r, j)` of an `m × w` index range in 32 × 32 tiles, so that a transposing copy
/// touches a few pages at a time instead of one page per entry.
#[inline(always)]
fn for_tiles(m: usize, w: usize, mut f: impl FnMut(usize, usize)) {
    const TILE: usize = 32;
    for r0 in (0..m).step_by(TILE) {
        for j0 in (0..w).step_by(TILE) {
            for j in j0..(j0 + TILE).min(w) {
                for r in r0..(r0 + TILE).min(m) {
                    f(r, j);
                }
            }
        }
    }
}

/// Writes panels made by [`load_row_panels`] back into `out`.
pub(crate) fn store_row_panels<T: Scalar>(buf: &[T], mut out: MatMut<'_, T>, panels: RowPanels) {
    let (m, stride) = (out.nrows(), panels.stride);
    for (p, panel) in buf.chunks(panels.panel_len()).enumerate() {
        let (c0, wp) = (p * panels.w, panels.width(p));
        for_tiles(m, wp, |r, j| out[(r, c0 + j)] = panel[r * stride + j]);
    }
}

/// Bytes of output a row kernel aims to keep in one core's L2 cache while it streams input rows
/// past it.
pub(crate) const PANEL_BYTES: usize = 256 * 1024;

pub(crate) use crate::dense::tasks;

/// Splits `len` items into `tasks` nearly equal contiguous chunk lengths (at least 1).
pub(crate) fn chunk_len(len: usize, tasks: usize) -> usize {
    len.div_ceil(tasks.max(1)).max(1)
}

/// A CSC copy of a CSR matrix (counting sort; row indices come out sorted in each column).
pub(crate) struct OwnedCsc<T> {
    pub(crate) indptr: Vec<usize>,
    pub(crate) indices: Vec<usize>,
    pub(crate) data: Vec<T>,
}

/// The CSC copy of a CSR matrix.
///
/// # Errors
/// [`Error::TooLarge`](crate::Error::TooLarge) when it cannot be allocated: its `ncols + 1`
/// column pointers (a sparse matrix may declare far more columns than it stores), or its
/// `nnz` indices and values (an input that fits in memory once need not fit twice).
///
/// # Performance
/// `O(nnz + nrows + ncols)`, on the threads of `par` for large inputs with long enough rows (see
/// [`transpose_compressed`]).
pub(crate) fn csr_to_csc<T: Scalar>(a: &SparseRef<'_, T>, par: Par) -> crate::Result<OwnedCsc<T>> {
    let (indptr, indices, data) = transpose_compressed(a, par, |i| i)?;
    Ok(OwnedCsc {
        indptr,
        indices,
        data,
    })
}

/// One task's share of the output of [`transpose_compressed`]: positions `base ..` of the
/// index and value arrays.
struct OutputPart<'o, I, T> {
    base: usize,
    indices: &'o mut [I],
    data: &'o mut [T],
}

/// Stored entries below which [`transpose_compressed`] stays on one thread.
const PAR_TRANSPOSE_MIN: usize = 1 << 16;
/// Mean entries per outer slice below which [`transpose_compressed`] stays on one thread: every
/// task binary-searches every slice, which short slices do not repay (a Gaussian sketch of a CSR
/// 10⁶ × 200 with 5 entries per row was no faster on two threads).
const PAR_TRANSPOSE_MIN_MEAN: usize = 8;

/// The compressed arrays `(pointers, indices, data)` of the other layout of `a` (CSR → CSC, or
/// CSC → CSR read through [`SparseRef::transpose`]), with each index stored as `index(i)`.
///
/// A counting sort: count each inner index, prefix-sum, then scatter with the pointers as
/// cursors. With several tasks (`par` above one thread, at least 2¹⁶ entries and 8 per outer
/// slice on average), task `t` owns a contiguous range of inner indices — its part of the
/// pointers and of the output arrays — and finds its entries in each outer slice by binary
/// search, so the tasks share no writes. The result is the same for every thread count.
///
/// # Errors
/// As [`csr_to_csc`].
pub(crate) fn transpose_compressed<T: Scalar, I: Copy + Default + Send>(
    a: &SparseRef<'_, T>,
    par: Par,
    index: impl Fn(usize) -> I + Sync,
) -> crate::Result<(Vec<usize>, Vec<I>, Vec<T>)> {
    let nnz = a.nnz();
    let mean = nnz / a.nrows().max(1);
    // Every task reads every outer slice's indices for its search: at most one task per 4
    // entries of an average slice.
    let tasks = if nnz >= PAR_TRANSPOSE_MIN && mean >= PAR_TRANSPOSE_MIN_MEAN {
        tasks(par).min(mean / 4)
    } else {
        1
    };
    transpose_in_tasks(a, tasks, index)
}

/// [`transpose_compressed`] with the inner indices split among `tasks` tasks (at most one per
/// inner index).
fn transpose_in_tasks<T: Scalar, I: Copy + Default + Send>(
    a: &SparseRef<'_, T>,
    tasks: usize,
    index: impl Fn(usize) -> I + Sync,
) -> crate::Result<(Vec<usize>, Vec<I>, Vec<T>)> {
    let (nrows, ncols, nnz) = (a.nrows(), a.ncols(), a.nnz());
    let mut indptr = crate::input::filled_or_too_large(
        ncols.saturating_add(1),
        0usize,
        "pointers of a copy in the other compressed layout",
    )?;
    let width = chunk_len(ncols, tasks.min(ncols).max(1));
    // The chunks of `width` inner indices actually made: fewer than asked when ⌈ncols/width⌉ is
    // (10 columns in 8 tasks: width 2, 5 chunks).
    let tasks = ncols.div_ceil(width).max(1);
    // The entries of row i whose column lies in c0..c1, as a range of positions in the row.
    let part = |idx: &[usize], c0: usize, c1: usize| {
        let lo = if c0 == 0 {
            0
        } else {
            idx.partition_point(|&c| c < c0)
        };
        let hi = if c1 >= ncols {
            idx.len()
        } else {
            lo + idx[lo..].partition_point(|&c| c < c1)
        };
        lo..hi
    };
    // 1. Column counts: task t counts columns t·width .. into indptr[c + 1].
    let count = |(t, counts): (usize, &mut [usize])| {
        let c0 = t * width;
        for i in 0..nrows {
            let idx = a.outer(i).0;
            for &c in &idx[part(idx, c0, c0 + counts.len())] {
                counts[c - c0] += 1;
            }
        }
    };
    if tasks > 1 {
        indptr[1..]
            .par_chunks_mut(width)
            .enumerate()
            .for_each(count);
    } else {
        count((0, &mut indptr[1..]));
    }
    for c in 0..ncols {
        indptr[c + 1] += indptr[c];
    }
    // 2. Scatter with indptr[c] as column c's cursor (no second array of ncols cursors: ncols is
    // declared, not bounded by what is stored); afterwards indptr[c] is where column c + 1
    // starts, so shifting by one restores the pointers. Task t writes only its columns' part
    // of the output, positions indptr[t·width] .. indptr[(t + 1)·width].
    // The copy doubles the memory of the input's entries: the allocator is asked, so that an
    // input that fits once but not twice is a `TooLarge` error (`vec!` aborted there).
    let what = "entries of a copy in the other compressed layout";
    let mut indices = crate::input::filled_or_too_large(nnz, I::default(), what)?;
    let mut data = crate::input::filled_or_too_large(nnz, T::ZERO, what)?;
    let mut outputs = Vec::with_capacity(tasks);
    let (mut rest_i, mut rest_d) = (indices.as_mut_slice(), data.as_mut_slice());
    for t in 0..tasks {
        let (c0, c1) = (t * width, ((t + 1) * width).min(ncols));
        let len = indptr[c1] - indptr[c0];
        let (head_i, tail_i) = rest_i.split_at_mut(len);
        let (head_d, tail_d) = rest_d.split_at_mut(len);
        outputs.push(OutputPart {
            base: indptr[c0],
            indices: head_i,
            data: head_d,
        });
        (rest_i, rest_d) = (tail_i, tail_d);
    }
    let scatter = |(t, (cursors, out)): (usize, (&mut [usize], OutputPart<'_, I, T>))| {
        let c0 = t * width;
        for i in 0..nrows {
            let (idx, val) = a.outer(i);
            let r = part(idx, c0, c0 + cursors.len());
            for (&c, &v) in idx[r.clone()].iter().zip(&val[r]) {
                let at = cursors[c - c0] - out.base;
                out.indices[at] = index(i);
                out.data[at] = v;
                cursors[c - c0] += 1;
            }
        }
    };
    if tasks > 1 {
        indptr[..ncols]
            .par_chunks_mut(width)
            .zip(outputs.into_par_iter())
            .enumerate()
            .for_each(scatter);
    } else if let Some(out) = outputs.into_iter().next() {
        scatter((0, (&mut indptr[..ncols], out)));
    }
    indptr.copy_within(0..ncols, 1);
    indptr[0] = 0;
    Ok((indptr, indices, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{below, Seed};

    /// A CSR matrix with `nnz` entries at random positions (duplicates merged), every tenth row
    /// empty and the columns above `ncols / 2 + 1` sparser, as compressed arrays.
    fn random_csr(nrows: usize, ncols: usize, nnz: usize, seed: u64) -> sprs::CsMat<f64> {
        let s = Seed::new(seed);
        let mut tri = sprs::TriMat::new((nrows, ncols));
        for k in 0..nnz as u64 {
            let i = below(s.word(1, k), nrows as u64) as usize;
            let mut j = below(s.word(2, k), ncols as u64) as usize;
            if j > ncols / 2 + 1 && k % 3 != 0 {
                j /= 2;
            }
            if i % 10 != 3 {
                tri.add_triplet(i, j, (s.word(3, k) % 1000) as f64 - 500.0);
            }
        }
        tri.to_csr()
    }

    /// The parallel counting sort gives the same arrays as one task and as a sort of the
    /// triplets by (column, row), for 2 to 8 tasks, including more tasks than columns and more
    /// tasks than chunks of columns (10 columns in 8 tasks make 5 chunks of 2).
    #[test]
    fn transpose_is_the_same_for_every_task_count() {
        let shapes = [
            (200_000, 1),
            (100_000, 2),
            (30_000, 5),
            (30_000, 7),
            (30_000, 9),
            (30_000, 10),
            (30_000, 11),
            (2000, 500),
            (700, 5000),
        ];
        for (nrows, ncols) in shapes {
            let a = random_csr(nrows, ncols, 100_000, 7 + ncols as u64);
            let view = SparseRef::from_sprs(a.view()).unwrap();
            let mut expected: Vec<(usize, usize, f64)> =
                a.iter().map(|(&v, (i, j))| (j, i, v)).collect();
            expected.sort_by_key(|&(j, i, _)| (j, i));
            let one = transpose_in_tasks(&view, 1, |i| i as u32).unwrap();
            assert_eq!(one.0.len(), ncols + 1);
            for (j, w) in one.0.windows(2).enumerate() {
                let got = (w[0]..w[1]).map(|p| (j, one.1[p] as usize, one.2[p].to_bits()));
                let want = expected[w[0]..w[1]]
                    .iter()
                    .map(|&(j, i, v)| (j, i, v.to_bits()));
                assert!(got.eq(want), "{nrows}×{ncols}: column {j}");
            }
            assert_eq!(one.0[ncols], expected.len());
            for t in [2, 3, 4, 5, 6, 8] {
                let many = transpose_in_tasks(&view, t, |i| i as u32).unwrap();
                assert_eq!(many.0, one.0, "{nrows}×{ncols}, {t} tasks: pointers");
                assert_eq!(many.1, one.1, "{nrows}×{ncols}, {t} tasks: indices");
                let bits = |d: &[f64]| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&many.2), bits(&one.2), "{nrows}×{ncols}, {t} tasks");
            }
        }
    }

    /// Rows of 2048 bytes or a multiple are padded by one cache line (8 f64, 16 f32), others
    /// not; panels split `d` into `⌈d/w⌉` pieces, the last one narrower.
    #[test]
    fn row_panels_pad_rows_that_fill_a_multiple_of_2048_bytes() {
        let stride64 = |w| RowPanels::new::<f64>(10, 1000, w).stride;
        let stride32 = |w| RowPanels::new::<f32>(10, 1000, w).stride;
        assert_eq!(
            [stride64(256), stride64(512), stride64(768), stride64(1024)],
            [264, 520, 776, 1032]
        );
        assert_eq!(
            [stride64(200), stride64(255), stride64(128)],
            [200, 255, 128]
        );
        assert_eq!(
            [stride32(512), stride32(1024), stride32(256)],
            [528, 1040, 256]
        );
        let p = RowPanels::new::<f64>(3, 1000, 256);
        assert_eq!(p.panel_len(), 3 * 264);
        let widths: Vec<usize> = (0..1000usize.div_ceil(256)).map(|q| p.width(q)).collect();
        assert_eq!(widths, [256, 256, 256, 232]);
    }

    /// The stored-row count and the galloping search agree with a linear scan of the pointers:
    /// empty runs of every length up to 70 (crossing the powers of two), at the start and the
    /// end, across the counting chunks, and matrices without rows or stored entries.
    #[test]
    fn stored_rows_are_found_as_by_a_linear_scan() {
        let linear = |ptr: &[usize], i: usize| {
            let k = ptr.len() - 1;
            (i..k).find(|&r| ptr[r + 1] != ptr[r]).unwrap_or(k)
        };
        let mut shapes: Vec<Vec<usize>> = vec![vec![0], vec![3, 3, 3], vec![0, 1], vec![5, 5, 7]];
        for gap in 0..70 {
            // Row 0 stored, `gap` empty rows, one stored row, `gap` empty rows at the end.
            let mut ptr = vec![0, 2];
            ptr.extend(std::iter::repeat_n(2, gap));
            ptr.push(3);
            ptr.extend(std::iter::repeat_n(3, gap));
            shapes.push(ptr.clone());
            // The same starting with the empty run.
            shapes.push([vec![0; gap], ptr].concat());
        }
        // Runs of empty rows across the counting chunks, which end at row 4096 and 8192.
        let mut long = vec![0usize];
        for r in 0..20_000usize {
            let stores = r % 4096 == 4095 || (8000..8300).contains(&r) || r % 7001 == 3;
            long.push(long[r] + usize::from(stores));
        }
        shapes.push(long);
        for ptr in &shapes {
            let count = ptr.windows(2).filter(|w| w[1] != w[0]).count();
            assert_eq!(count_stored_rows(ptr), count, "{ptr:?}");
            for i in 0..ptr.len() + 2 {
                assert_eq!(next_stored_row(ptr, i), linear(ptr, i), "{ptr:?} from {i}");
            }
        }
    }

    proptest::proptest! {
        /// Any small CSR structure (empty rows and columns, more tasks than columns) gives the
        /// same arrays for 1 to 9 tasks, equal to a sort of the triplets by (column, row).
        #[test]
        fn transpose_matches_sorted_triplets(
            nrows in 0usize..30,
            ncols in 0usize..30,
            cells in proptest::collection::vec((0usize..30, 0usize..30, -4i8..4), 0..200),
            tasks in 1usize..10,
        ) {
            let mut tri = sprs::TriMat::new((nrows, ncols));
            for &(i, j, v) in &cells {
                if i < nrows && j < ncols {
                    tri.add_triplet(i, j, f64::from(v));
                }
            }
            let a: sprs::CsMat<f64> = tri.to_csr();
            let view = SparseRef::from_sprs(a.view()).unwrap();
            let mut expected: Vec<(usize, usize, u64)> =
                a.iter().map(|(&v, (i, j))| (j, i, v.to_bits())).collect();
            expected.sort_unstable();
            let (ptr, idx, val) = transpose_in_tasks(&view, tasks, |i| i).unwrap();
            proptest::prop_assert_eq!(ptr.len(), ncols + 1);
            let got: Vec<(usize, usize, u64)> = ptr
                .windows(2)
                .enumerate()
                .flat_map(|(j, w)| (w[0]..w[1]).map(move |p| (j, p)))
                .map(|(j, p)| (j, idx[p], val[p].to_bits()))
                .collect();
            proptest::prop_assert_eq!(got, expected);
            let one = transpose_in_tasks(&view, 1, |i| i).unwrap();
            proptest::prop_assert_eq!((ptr, idx), (one.0, one.1));
        }
    }
}
