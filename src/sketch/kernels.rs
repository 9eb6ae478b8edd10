//! Shared plumbing for the sketch kernels: work buffers, access patterns, task splitting.
//!
//! Every kernel accumulates into a contiguous work buffer loaded from the caller's `out` (any
//! strides) and stored back afterwards, so that `out += contributions` is carried out entry by
//! entry in a fixed order — the basis of the bitwise-reproducibility contract.

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
    /// Calls `f(col, value)` for every nonzero of row `i` with column in `c0..c1`, in increasing
    /// column order.
    #[inline(always)]
    pub(crate) fn for_each_in(&self, i: usize, c0: usize, c1: usize, mut f: impl FnMut(usize, T)) {
        match self {
            RowAccess::Csr(s) => {
                let (idx, val) = s.outer(i);
                // The first and last panels need one search, the whole width none.
                let a = if c0 == 0 {
                    0
                } else {
                    idx.partition_point(|&c| c < c0)
                };
                let b = if c1 >= s.ncols() {
                    idx.len()
                } else {
                    idx.partition_point(|&c| c < c1)
                };
                for (&c, &v) in idx[a..b].iter().zip(&val[a..b]) {
                    f(c, v);
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
                while *cursor < idx.len() && idx[*cursor] < hi {
                    let i = idx[*cursor];
                    if i >= lo {
                        f(i, val[*cursor]);
                    }
                    *cursor += 1;
                }
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
/// (`O(nnz)` time and memory); the rows of each column come out in ascending order, as from any
/// other layout, so the result's bits do not depend on the layout.
///
/// # Errors
/// As [`csr_to_csc`].
pub(crate) fn with_columns<T: Scalar, R>(
    block: MatrixRef<'_, T>,
    f: impl FnOnce(&ColAccess<'_, T>) -> R,
) -> crate::Result<R> {
    Ok(match Access::of(block) {
        Access::Cols(cols) => f(&cols),
        Access::Rows(RowAccess::Dense(a)) => f(&ColAccess::Dense(a)),
        Access::Rows(RowAccess::Csr(s)) => {
            let csc = csr_to_csc(&s)?;
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

/// Copies `out` into a column-major buffer.
pub(crate) fn load_col_major<T: Scalar>(out: &MatMut<'_, T>) -> Vec<T> {
    let (m, d) = (out.nrows(), out.ncols());
    let mut buf = Vec::with_capacity(m * d);
    for c in 0..d {
        for r in 0..m {
            buf.push(out[(r, c)]);
        }
    }
    buf
}

/// Writes a column-major buffer back into `out`.
pub(crate) fn store_col_major<T: Scalar>(buf: &[T], mut out: MatMut<'_, T>) {
    let m = out.nrows();
    for c in 0..out.ncols() {
        for r in 0..m {
            out[(r, c)] = buf[c * m + r];
        }
    }
}

/// Copies `out` into column panels of width `w`, each row-major: panel `p` holds columns
/// `p·w .. min((p+1)·w, d)` of every row, at offset `m·p·w`. With `w = d` this is plain row-major.
pub(crate) fn load_row_panels<T: Scalar>(out: &MatMut<'_, T>, w: usize) -> Vec<T> {
    let (m, d) = (out.nrows(), out.ncols());
    let mut buf = vec![T::ZERO; m * d];
    for (p, panel) in buf.chunks_mut(m * w).enumerate() {
        let wp = panel.len() / m;
        for_tiles(m, wp, |r, j| panel[r * wp + j] = out[(r, p * w + j)]);
    }
    buf
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
pub(crate) fn store_row_panels<T: Scalar>(buf: &[T], mut out: MatMut<'_, T>, w: usize) {
    let m = out.nrows();
    for (p, panel) in buf.chunks(m * w).enumerate() {
        let wp = panel.len() / m;
        for_tiles(m, wp, |r, j| out[(r, p * w + j)] = panel[r * wp + j]);
    }
}

/// Bytes of output a row kernel aims to keep in one core's L2 cache while it streams input rows
/// past it.
pub(crate) const PANEL_BYTES: usize = 256 * 1024;

/// Number of tasks to split work into for `par`. Results never depend on it.
pub(crate) fn tasks(par: Par) -> usize {
    match par {
        Par::Seq => 1,
        #[allow(unreachable_patterns)]
        _ => par.degree().max(1),
    }
}

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
/// [`Error::TooLarge`](crate::Error::TooLarge) when its `ncols + 1` column pointers cannot be
/// allocated (a sparse matrix may declare far more columns than it stores).
pub(crate) fn csr_to_csc<T: Scalar>(a: &SparseRef<'_, T>) -> crate::Result<OwnedCsc<T>> {
    let (nrows, ncols, nnz) = (a.nrows(), a.ncols(), a.nnz());
    let mut indptr = crate::input::filled_or_too_large(
        ncols.saturating_add(1),
        0usize,
        "pointers of a copy in the other compressed layout",
    )?;
    for i in 0..nrows {
        for &c in a.outer(i).0 {
            indptr[c + 1] += 1;
        }
    }
    for c in 0..ncols {
        indptr[c + 1] += indptr[c];
    }
    // Scatter with indptr[c] as column c's cursor (no second array of ncols cursors: ncols is
    // declared, not bounded by what is stored); afterwards indptr[c] is where column c + 1
    // starts, so shifting by one restores the pointers.
    let mut indices = vec![0usize; nnz];
    let mut data = vec![T::ZERO; nnz];
    for i in 0..nrows {
        let (idx, val) = a.outer(i);
        for (&c, &v) in idx.iter().zip(val) {
            indices[indptr[c]] = i;
            data[indptr[c]] = v;
            indptr[c] += 1;
        }
    }
    indptr.copy_within(0..ncols, 1);
    indptr[0] = 0;
    Ok(OwnedCsc {
        indptr,
        indices,
        data,
    })
}
