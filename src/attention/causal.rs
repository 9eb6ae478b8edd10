//! Block lower-triangular products `tril(ABᵀ)C` and `tril((ABᵀ)^{∘2})C` with a streamed prefix
//! state: the engine of causal linear-time attention.

use super::features::{pairs, self_tensor};
use super::{check_block, check_output_size, output_matrix, tasks};
use crate::error::{Error, Result};
use crate::input::check_finite_dense;
use crate::scalar::Scalar;
use faer::linalg::matmul::matmul;
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;

/// Rows of a block handled by one task (a constant: results never depend on the thread count).
pub(crate) const ROW_CHUNK: usize = 64;
/// Columns of the prefix state updated by one task.
pub(crate) const FEAT_CHUNK: usize = 256;
/// Largest prefix state accepted, in scalars.
pub(crate) const MAX_STATE: u128 = 1 << 28;

/// `tril(A Bᵀ) C` for `A, B ∈ ℝ^{n×r}`, `C ∈ ℝ^{n×e}`: row `i` is `Σ_{j ≤ i} ⟨a_i, b_j⟩ c_j`,
/// computed in blocks of `b` rows without forming the `n × n` matrix.
///
/// Inside block `l`: `tril(A_l B_lᵀ) C_l`; across blocks: `A_l P_l` with the prefix state
/// `P_l = Σ_{l' < l} B_{l'}ᵀ C_{l'}` (`r × e`), updated after each block.
///
/// # Errors
/// [`Error::Empty`] for an empty `A`, `B` or `C`; [`Error::DimensionMismatch`] when the row
/// counts differ or `B` does not have `r` columns; [`Error::NonFinite`] for NaN/∞ in the
/// inputs, or an output that overflowed `T`;
/// [`Error::InvalidParameter`] for a block size outside `1..=8192`; [`Error::TooLarge`] when the
/// state `r × e` exceeds 2²⁸ scalars or the `n × e` output exceeds
/// [`MAX_OUTPUT`](super::MAX_OUTPUT) scalars (both checked before the data is read), or when
/// the state, the output or a block's copies of the inputs and result cannot be allocated.
///
/// # Performance
/// `O(n·b·(r + e) + n·r·e)` flops, `O(r·e + b²)` extra memory; bitwise identical for any `par`.
///
/// # Examples
/// ```
/// use randnla::attention::causal_product;
/// let a = randnla::faer::Mat::from_fn(5, 2, |i, j| (i + 2 * j) as f64 * 0.5 - 1.0);
/// let b = randnla::faer::Mat::from_fn(5, 2, |i, j| ((i * 3 + j) % 4) as f64 - 1.5);
/// let c = randnla::faer::Mat::from_fn(5, 1, |i, _| (i + 1) as f64);
/// // Blocks of 2 rows: rows 2–4 also use the prefix state of the blocks before them.
/// let out = causal_product(a.as_ref(), b.as_ref(), c.as_ref(), 2, randnla::faer::Par::Seq)?;
/// // Row i is Σ_{j ≤ i} ⟨a_i, b_j⟩ c_j; row 0 sees the first key alone.
/// let dot = |i: usize, j: usize| a[(i, 0)] * b[(j, 0)] + a[(i, 1)] * b[(j, 1)];
/// assert!((out[(0, 0)] - dot(0, 0) * c[(0, 0)]).abs() < 1e-12);
/// for i in 0..5 {
///     let want: f64 = (0..=i).map(|j| dot(i, j) * c[(j, 0)]).sum();
///     assert!((out[(i, 0)] - want).abs() < 1e-12, "row {i}: {} vs {want}", out[(i, 0)]);
/// }
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn causal_product<T: Scalar>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: MatRef<'_, T>,
    block: usize,
    par: Par,
) -> Result<Mat<T>> {
    check_abc(a, b, c, block, false)?;
    causal_dense(a, b, c, false, block, par)
}

/// The two public block products on dense, already checked inputs: `squared` selects
/// `tril((ABᵀ)^{∘2})C` over `tril(ABᵀ)C`.
fn causal_dense<T: Scalar>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: MatRef<'_, T>,
    squared: bool,
    block: usize,
    par: Par,
) -> Result<Mat<T>> {
    let mut out = output_matrix::<T>(a.nrows(), c.ncols(), "block-product output")?;
    // A·2^−s and B·2^s have the same ⟨a_i, b_j⟩: balanced, neither A ⊗ A nor the prefix state
    // built from B leaves the range where the products do not.
    let shift = super::balancing_shift(a, b, if squared { 2 } else { 1 });
    let block_of = |m: MatRef<'_, T>, lo: usize, k: usize, s: i32, what: &str| {
        if s == 0 {
            copy_or_too_large(m.subrows(lo, k), what)
        } else {
            super::scaled_rows(m, lo, k, s, what)
        }
    };
    let src = Sources {
        n: a.nrows(),
        r: a.ncols(),
        e: c.ncols(),
        a: |lo, k| block_of(a, lo, k, -shift, "block of A (use a smaller block)"),
        b: |lo, k| block_of(b, lo, k, shift, "block of B (use a smaller block)"),
        c: |lo, k| copy_or_too_large(c.subrows(lo, k), "block of C (use a smaller block)"),
    };
    causal_blocks(&src, squared, block, par, |lo, y| {
        out.as_mut().subrows_mut(lo, y.nrows()).copy_from(y);
        Ok(())
    })?;
    let products = if squared {
        "⟨a_i, b_j⟩²"
    } else {
        "⟨a_i, b_j⟩"
    };
    super::check_overflow(
        out.as_ref(),
        "block-product output",
        products,
        "A and B (or C)",
    )?;
    Ok(out)
}

/// A copy of `m`, or [`Error::TooLarge`] naming `what` when it cannot be allocated (`to_owned`
/// aborts instead): a block of an input is as large as the input when `n ≤ b`.
fn copy_or_too_large<T: Scalar>(m: MatRef<'_, T>, what: &str) -> Result<Mat<T>> {
    let mut out = crate::input::zeros_or_too_large::<T>(m.nrows(), m.ncols(), what)?;
    out.copy_from(m);
    Ok(out)
}

/// `tril((A Bᵀ)^{∘2}) C` (entrywise square, then lower triangle including the diagonal):
/// row `i` is `Σ_{j ≤ i} ⟨a_i, b_j⟩² c_j`.
///
/// Inside block `l`: `tril((A_l B_lᵀ)^{∘2}) C_l`; across blocks: `(A_l ⊗ A_l) P_l` with
/// `P_l = Σ_{l' < l} (B_{l'} ⊗ B_{l'})ᵀ C_{l'}` (rows tensored with themselves, stored in the
/// symmetric half: `r(r+1)/2 × e`), since `⟨a⊗a, b⊗b⟩ = ⟨a, b⟩²`.
///
/// # Errors
/// As [`causal_product`], with the state `r(r+1)/2 × e` (at most 2²⁸ scalars).
///
/// # Performance
/// `O(n·b·(r + e) + n·r²·e)` flops, `O(r²·e + b·(r + e) + b²)` extra memory (the in-block
/// features are tensored 2¹⁸ scalars at a time, at least 256 columns), independent of `n`;
/// bitwise identical for any `par`.
pub fn causal_squared_product<T: Scalar>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: MatRef<'_, T>,
    block: usize,
    par: Par,
) -> Result<Mat<T>> {
    check_abc(a, b, c, block, true)?;
    causal_dense(a, b, c, true, block, par)
}

/// Checks shapes, the block size, the sizes of the state and of the output (before the data
/// is read: a request too large to hold is refused without scanning it), then finiteness.
fn check_abc<T: Scalar>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: MatRef<'_, T>,
    block: usize,
    squared: bool,
) -> Result<()> {
    for (name, m) in [("A", a), ("B", b), ("C", c)] {
        if m.nrows() == 0 || m.ncols() == 0 {
            return Err(Error::empty(format!(
                "{name} ({}×{})",
                m.nrows(),
                m.ncols()
            )));
        }
    }
    if b.nrows() != a.nrows() {
        return Err(Error::dim("rows of B vs rows of A", a.nrows(), b.nrows()));
    }
    if c.nrows() != a.nrows() {
        return Err(Error::dim("rows of C vs rows of A", a.nrows(), c.nrows()));
    }
    if b.ncols() != a.ncols() {
        return Err(Error::dim(
            "columns of B vs columns of A",
            a.ncols(),
            b.ncols(),
        ));
    }
    check_block(block)?;
    // The state is allocated whole before the first block: the plain product's `r × e` state
    // is checked as the squared product's `r(r+1)/2 × e` one (A = B = 1×50000, C = 1×50000
    // would ask for 2·10¹⁰ bytes).
    check_state(a.ncols(), c.ncols(), squared)?;
    check_output_size(a.nrows(), c.ncols(), "block-product output")?;
    check_finite_dense(a, "A")?;
    check_finite_dense(b, "B")?;
    check_finite_dense(c, "C")
}

/// Checks the size of the prefix state (`r` or `r(r+1)/2` rows, `e` columns).
pub(crate) fn check_state(r: usize, e: usize, squared: bool) -> Result<()> {
    let rows = if squared {
        r as u128 * (r as u128 + 1) / 2
    } else {
        r as u128
    };
    let req = rows * e as u128;
    Error::within(req, MAX_STATE, || format!("a {rows}×{e} prefix state"))?;
    Ok(())
}

/// Where the rows of the three factors come from: `a(lo, k)` returns rows `lo .. lo + k` of `A`
/// (features of queries), `b` of `B` (features of keys), `c` of `C` (values, with a ones column).
pub(crate) struct Sources<FA, FB, FC> {
    pub(crate) n: usize,
    pub(crate) r: usize,
    pub(crate) e: usize,
    pub(crate) a: FA,
    pub(crate) b: FB,
    pub(crate) c: FC,
}

/// Scalars of workspace used by [`causal_blocks`] with `threads` tasks (besides the sources').
///
/// No more tasks run at once than a phase has (`⌈b/64⌉` row chunks, `⌈dim/256⌉` feature chunks),
/// so `threads` is capped there: `Par::Rayon(usize::MAX)` is a valid request, and the product
/// must not overflow.
pub(crate) fn causal_workspace(
    r: usize,
    e: usize,
    block: usize,
    squared: bool,
    threads: usize,
) -> usize {
    let dim = if squared { r * (r + 1) / 2 } else { r };
    let chunk = ROW_CHUNK.min(block);
    let per_row_task = chunk * block
        + chunk * e
        + if squared {
            tensor_chunk_bound(chunk, dim)
        } else {
            0
        };
    let row_tasks = threads.min(block.div_ceil(ROW_CHUNK));
    let (per_feat_task, feat_tasks) = if squared {
        (
            block * FEAT_CHUNK.min(dim),
            threads.min(dim.div_ceil(FEAT_CHUNK)),
        )
    } else {
        (0, 0)
    };
    dim * e
        + 2 * block * r
        + 2 * block * e
        + (row_tasks * per_row_task).max(feat_tasks * per_feat_task)
}

/// The block lower-triangular product, streaming the prefix state; hands each block's result
/// (`k × e`, rows `lo .. lo + k`) to `sink` in order.
pub(crate) fn causal_blocks<T, FA, FB, FC>(
    src: &Sources<FA, FB, FC>,
    squared: bool,
    block: usize,
    par: Par,
    mut sink: impl FnMut(usize, &Mat<T>) -> Result<()>,
) -> Result<()>
where
    T: Scalar,
    FA: Fn(usize, usize) -> Result<Mat<T>>,
    FB: Fn(usize, usize) -> Result<Mat<T>>,
    FC: Fn(usize, usize) -> Result<Mat<T>>,
{
    let (n, r, e) = (src.n, src.r, src.e);
    let dim = if squared { r * (r + 1) / 2 } else { r };
    let one = T::from_f64(1.0);
    let mut state = crate::input::zeros_or_too_large::<T>(dim, e, "prefix state")?;
    // As many index pairs as state rows (8 bytes each, up to 2²⁸ of them for a 1-column C):
    // asked of the allocator first, as `Vec::with_capacity` would abort.
    let pairs = if squared {
        crate::input::ensure_allocatable::<(u32, u32)>(
            Some(dim),
            || format!("the {dim} index pairs of the self-tensored features"),
            dim as u128,
        )?;
        pairs(r)
    } else {
        Vec::new()
    };
    let parallel = tasks(par) > 1;
    let mut lo = 0;
    while lo < n {
        let k = block.min(n - lo);
        let a = (src.a)(lo, k)?;
        let b = (src.b)(lo, k)?;
        let c = (src.c)(lo, k)?;
        // Phase 1, rows in fixed chunks: the in-block triangle plus the prefix contribution,
        // each chunk written straight into its rows of the block's result (collecting the
        // chunks' results first held a third k × e buffer).
        let mut y =
            crate::input::zeros_or_too_large::<T>(k, e, "block of results (use a smaller block)")?;
        let row_task = |(t, mut dst): (usize, faer::MatMut<'_, T>)| {
            let r0 = t * ROW_CHUNK;
            let rk = dst.nrows();
            let ar = a.as_ref().subrows(r0, rk);
            // Keys r0 + rk .. k are all in the future of these rows.
            let kc = r0 + rk;
            let mut s = Mat::<T>::zeros(rk, kc);
            matmul(
                s.as_mut(),
                Accum::Replace,
                ar,
                b.as_ref().subrows(0, kc).transpose(),
                one,
                Par::Seq,
            );
            for j in 0..kc {
                let col = s.col_as_slice_mut(j);
                for (i, x) in col.iter_mut().enumerate() {
                    if j > r0 + i {
                        *x = T::ZERO;
                    } else if squared {
                        *x = *x * *x;
                    }
                }
            }
            matmul(
                dst.rb_mut(),
                Accum::Replace,
                s.as_ref(),
                c.as_ref().subrows(0, kc),
                one,
                Par::Seq,
            );
            if lo > 0 {
                if squared {
                    add_self_tensor_times(dst.rb_mut(), ar, &pairs, state.as_ref());
                } else {
                    matmul(dst.rb_mut(), Accum::Add, ar, state.as_ref(), one, Par::Seq);
                }
            }
        };
        let chunks = row_chunks_mut(y.as_mut(), ROW_CHUNK);
        if parallel {
            chunks.into_par_iter().enumerate().for_each(row_task);
        } else {
            chunks.into_iter().enumerate().for_each(row_task);
        }
        // Phase 2, state rows in fixed chunks: P += (B_l ⊗ B_l)ᵀ C_l (or B_lᵀ C_l).
        if lo + k < n {
            if squared {
                add_tensored_products(state.as_mut(), b.as_ref(), c.as_ref(), &pairs, parallel);
            } else {
                matmul(
                    state.as_mut(),
                    Accum::Add,
                    b.as_ref().transpose(),
                    c.as_ref(),
                    one,
                    Par::Seq,
                );
            }
        }
        sink(lo, &y)?;
        lo += k;
    }
    Ok(())
}

/// `state += (B ⊗ B)ᵀ C`, row `i` of `state` belonging to the self-tensored feature `pairs[i]`
/// of `B`'s rows. Computed in fixed chunks of [`FEAT_CHUNK`] feature rows (never a function of
/// the thread count, so the bits are not either), on rayon tasks when `parallel`; only one
/// chunk's `n × FEAT_CHUNK` block of `B ⊗ B` exists at a time per task.
pub(crate) fn add_tensored_products<T: Scalar>(
    state: faer::MatMut<'_, T>,
    b: MatRef<'_, T>,
    c: MatRef<'_, T>,
    pairs: &[(u32, u32)],
    parallel: bool,
) {
    let feat_task = |(t, mut dst): (usize, faer::MatMut<'_, T>)| {
        let c0 = t * FEAT_CHUNK;
        let bt = self_tensor(b, &pairs[c0..c0 + dst.nrows()]);
        matmul(
            dst.rb_mut(),
            Accum::Add,
            bt.as_ref().transpose(),
            c,
            T::from_f64(1.0),
            Par::Seq,
        );
    };
    let chunks = row_chunks_mut(state, FEAT_CHUNK);
    if parallel {
        chunks.into_par_iter().enumerate().for_each(feat_task);
    } else {
        chunks.into_iter().enumerate().for_each(feat_task);
    }
}

/// Scalars of `F ⊗ F` that [`add_self_tensor_times`] forms at a time (2 MiB of f64) when
/// `F` has few rows; never fewer than [`FEAT_CHUNK`] columns.
const TENSOR_CHUNK_SCALARS: usize = 1 << 18;

/// Columns of `F ⊗ F` formed at a time for an `F` of `rows` rows: `2¹⁸/rows`, at least
/// [`FEAT_CHUNK`]. A function of the block's shape only, never of the thread count. Measured
/// with sketched attention at n = 16384, h = d = 64, two threads, best of 5, alternating builds:
/// causal r = 64 (64-row chunks) took 272 ms with 256 columns at a time against 253–258 ms for
/// all 2080 at once, hence more columns for few rows; with this rule 258–316 ms against
/// 270–277 ms, and non-causal r = 64 (256-row blocks, 1024 columns at a time) 255–264 ms
/// against 235–260 ms: equal within the machine's noise.
pub(crate) fn tensor_chunk_cols(rows: usize) -> usize {
    FEAT_CHUNK.max(TENSOR_CHUNK_SCALARS / rows.max(1))
}

/// The most scalars of `F ⊗ F` that [`add_self_tensor_times`] holds at a time for an `F` of up
/// to `rows` rows and `dim` self-tensored features: `min(max(256·rows, 2¹⁸), rows·dim)` (a
/// shorter last block can hold a few more than `rows·tensor_chunk_cols(rows)`).
pub(crate) fn tensor_chunk_bound(rows: usize, dim: usize) -> usize {
    (rows * FEAT_CHUNK)
        .max(TENSOR_CHUNK_SCALARS)
        .min(rows * dim)
}

/// `y += (F ⊗ F) P`, column `i` of `F ⊗ F` being the self-tensored feature `pairs[i]` of `F`'s
/// rows and `P` the `pairs.len() × e` state. Summed over fixed chunks of
/// [`tensor_chunk_cols`]`(rows(F))` features, so only that many columns of `F ⊗ F` exist at a
/// time (the whole of it is `rows(F) × r(r+1)/2`: 8192 × 2 098 176 scalars at the largest
/// accepted block and `r`).
pub(crate) fn add_self_tensor_times<T: Scalar>(
    mut y: faer::MatMut<'_, T>,
    f: MatRef<'_, T>,
    pairs: &[(u32, u32)],
    state: MatRef<'_, T>,
) {
    let cols = tensor_chunk_cols(f.nrows());
    for (t, chunk) in pairs.chunks(cols).enumerate() {
        let ft = self_tensor(f, chunk);
        matmul(
            y.rb_mut(),
            Accum::Add,
            ft.as_ref(),
            state.subrows(t * cols, chunk.len()),
            T::from_f64(1.0),
            Par::Seq,
        );
    }
}

/// Splits a matrix into consecutive row chunks of `chunk` rows (the last may be shorter).
pub(crate) fn row_chunks_mut<T>(m: faer::MatMut<'_, T>, chunk: usize) -> Vec<faer::MatMut<'_, T>> {
    let mut out = Vec::new();
    let mut rest = m;
    while rest.nrows() > chunk {
        let (top, bottom) = rest.split_at_row_mut(chunk);
        out.push(top);
        rest = bottom;
    }
    out.push(rest);
    out
}
