//! Deterministic, parallel products with the data matrix `A` and the linear-operator trait the
//! iterative solvers run on.
//!
//! Every product here splits its work into chunks of a fixed size (never a function of the
//! thread count) and reduces partial results in a fixed order, so `A·x` and `Aᵀ·y` are bitwise
//! identical for 1, 2 or N threads.

use crate::error::{Error, Result};
use crate::input::{
    check_finite_slice, filled_or_too_large, zeros_or_too_large, Layout, MatrixRef, SparseRef,
};
pub(crate) use crate::scalar::{exponent, mul_pow2};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use rayon::prelude::*;
use std::borrow::Cow;

/// Rows per chunk of a product (a constant, so results do not depend on the thread count).
const ROW_CHUNK: usize = 8192;
/// Columns per chunk of a dense `Aᵀ·y`.
const COL_CHUNK: usize = 64;
/// At most this many partial column sums (row chunks × columns) are held by
/// [`DataOp::col_norms_sq`] on a CSR `A`; above it the rows are summed in one sequential pass.
const COL_NORM_PARTIALS_MAX: usize = 1 << 24;

/// A real linear operator `M: ℝᶜ → ℝʳ` given by its products (faer's `LinOp` idea, restricted to
/// what LSQR needs).
pub(crate) trait LinOp: Sync {
    /// `r`, the length of `M·x`.
    fn nrows(&self) -> usize;
    /// `c`, the length of `x`.
    fn ncols(&self) -> usize;
    /// `out = M·x`.
    fn apply(&self, x: &[f64], out: &mut [f64]);
    /// `out = Mᵀ·y`.
    fn apply_t(&self, y: &[f64], out: &mut [f64]);
    /// The fused Golub–Kahan step `u ← M·v − alpha·u`, then `out = Mᵀ·u` (with the updated `u`).
    /// Operators that can do both in one pass over their data override it (half the memory
    /// traffic); the default calls [`apply`](Self::apply) and [`apply_t`](Self::apply_t).
    fn apply_fused(&self, v: &[f64], alpha: f64, u: &mut [f64], out: &mut [f64]) {
        let mut t = vec![0.0; u.len()];
        self.apply(v, &mut t);
        for (ui, ti) in u.iter_mut().zip(&t) {
            *ui = ti - alpha * *ui;
        }
        self.apply_t(u, out);
    }
    /// [`apply_fused`](Self::apply_fused) with the new `u` scaled by a power of two `scale`:
    /// `u ← scale·(M·v − alpha·u)`, then `out = Mᵀ·u`. LSQR passes `scale ≈ 1/‖M‖` when `‖M‖`
    /// is far from 1, so that `Mᵀ·u`, of size `‖M‖²` unscaled, neither overflows (`‖M‖ ≳ 10¹⁵⁴`)
    /// nor underflows; the scaling is exact, so the bits are those of the unscaled step times
    /// `scale`. The default scales `u` after [`apply`](Self::apply) and then calls
    /// [`apply_t`](Self::apply_t) (for `scale = 1` it is [`apply_fused`](Self::apply_fused)).
    fn apply_fused_scaled(
        &self,
        v: &[f64],
        alpha: f64,
        scale: f64,
        u: &mut [f64],
        out: &mut [f64],
    ) {
        if scale == 1.0 {
            return self.apply_fused(v, alpha, u, out);
        }
        let mut t = vec![0.0; u.len()];
        self.apply(v, &mut t);
        for (ui, ti) in u.iter_mut().zip(&t) {
            *ui = (ti - alpha * *ui) * scale;
        }
        self.apply_t(u, out);
    }
    /// How many `f64` a product with `M` or `Mᵀ` allocates for its own use (a bound; what the
    /// default [`apply_fused`](Self::apply_fused) allocates, `nrows`, unless overridden).
    fn product_scratch(&self) -> u128 {
        self.nrows() as u128
    }
}

/// `A` prepared for repeated products: dense as given (borrowed); sparse as a compact CSR with
/// 32-bit column indices (12 bytes per nonzero read per pass instead of 16: the iteration is
/// memory-bound, so every pass over `A` reads a quarter less). CSR input lends its row pointers
/// and values and only its indices are converted; CSC input is copied, because `A·x` on CSC
/// needs a scatter that cannot be split across threads without per-thread copies of the output.
pub(crate) enum DataOp<'a> {
    Dense(MatRef<'a, f64>, Par),
    Csr(CsrRows<'a>, Par),
}

/// `A` in compact CSR: row `i`'s entries sit at `indptr[i] − base .. indptr[i + 1] − base` of
/// `indices` and `data` (`base = indptr[0]`, non-zero for a borrowed row block of a larger matrix).
pub(crate) struct CsrRows<'a> {
    nrows: usize,
    ncols: usize,
    indptr: Cow<'a, [usize]>,
    base: usize,
    indices: Vec<u32>,
    data: Cow<'a, [f64]>,
}

impl<'a> CsrRows<'a> {
    fn from_sparse(s: SparseRef<'a, f64>, par: Par) -> Result<Self> {
        let (n, d) = (s.nrows(), s.ncols());
        match s.layout() {
            Layout::Csr => {
                let (indptr, indices, data) = s.raw_parts();
                // The values and row pointers are used in place; converting the indices is a
                // streaming pass, split across the threads (element by element: the result does
                // not depend on the split).
                let mut compact = vec![0u32; indices.len()];
                let convert = |(dst, src): (&mut [u32], &[usize])| {
                    for (c, &j) in dst.iter_mut().zip(src) {
                        *c = j as u32;
                    }
                };
                const CHUNK: usize = 1 << 16;
                if threads(par) {
                    compact
                        .par_chunks_mut(CHUNK)
                        .zip(indices.par_chunks(CHUNK))
                        .for_each(convert);
                } else {
                    compact
                        .chunks_mut(CHUNK)
                        .zip(indices.chunks(CHUNK))
                        .for_each(convert);
                }
                Ok(CsrRows {
                    nrows: n,
                    ncols: d,
                    indptr: Cow::Borrowed(indptr),
                    base: indptr[0],
                    indices: compact,
                    data: Cow::Borrowed(data),
                })
            }
            Layout::Csc => {
                // The CSC form of A is the CSR form of Aᵀ; its transpose is the CSR form of A.
                let (indptr, indices, data) =
                    crate::sketch::transpose_compressed(&s.transpose(), par, |i| i as u32)?;
                Ok(CsrRows {
                    nrows: n,
                    ncols: d,
                    indptr: Cow::Owned(indptr),
                    base: 0,
                    indices,
                    data: Cow::Owned(data),
                })
            }
        }
    }

    #[inline(always)]
    fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let r = (self.indptr[i] - self.base)..(self.indptr[i + 1] - self.base);
        (&self.indices[r.clone()], &self.data[r])
    }
    fn shape(&self) -> (usize, usize) {
        (self.nrows, self.ncols)
    }
}

impl<'a> DataOp<'a> {
    /// Wraps a validated matrix; `par` bounds the threads used by each product.
    ///
    /// # Errors
    /// [`Error::TooLarge`] for sparse input with more than 2³² columns, whose indices do not fit
    /// the compact copy's 32 bits, or whose iteration vectors (a few of length `n` and `d`) or
    /// row pointers cannot be allocated.
    ///
    /// # Performance
    /// CSR input: its column indices converted to 32 bits (4 bytes per nonzero, on the threads
    /// of `par`); CSC input: one `O(nnz)` copy into compact CSR (12 bytes per nonzero; see
    /// [`transpose_compressed`](crate::sketch::transpose_compressed) for when it is parallel).
    pub(crate) fn new(a: MatrixRef<'a, f64>, par: Par) -> Result<Self> {
        Ok(match a {
            MatrixRef::Dense(m) => DataOp::Dense(m, par),
            MatrixRef::Sparse(s) => {
                let limit = u128::from(u32::MAX) + 1;
                if s.ncols() as u128 > limit {
                    return Err(Error::TooLarge {
                        what: "the 32-bit column indices of the least-squares operator".into(),
                        requested: s.ncols() as u128,
                        limit,
                    });
                }
                // The iterations keep a handful of vectors of length d and n; a sparse matrix
                // does not bound either by what it stores.
                let vectors = 4u128 * (s.nrows() as u128 + s.ncols() as u128);
                crate::input::ensure_allocatable::<f64>(
                    usize::try_from(vectors).ok(),
                    || {
                        let (n, d) = (s.nrows(), s.ncols());
                        format!("the iteration vectors for a {n}×{d} operator")
                    },
                    vectors,
                )?;
                DataOp::Csr(CsrRows::from_sparse(s, par)?, par)
            }
        })
    }

    fn par(&self) -> Par {
        match self {
            DataOp::Dense(_, p) | DataOp::Csr(_, p) => *p,
        }
    }

    /// The squared 2-norm of each column (`‖A e_j‖²`), bitwise the same for every thread count:
    /// the rows in chunks of `ROW_CHUNK` whose partial sums are added in chunk order (as
    /// [`LinOp::apply_t`]); a dense chunk by sub-blocks of [`dense_sub_rows`] rows, as the
    /// fused pass reads it ([`add_col_sums_sq`]).
    /// Not scale-safe: a column whose sum over- or underflows comes out `∞` or subnormal.
    pub(crate) fn col_norms_sq(&self) -> Vec<f64> {
        let par = threads(self.par());
        match self {
            DataOp::Dense(m, _) => {
                let m = *m;
                let (n, d) = (m.nrows(), m.ncols());
                let sub_rows = dense_sub_rows(d);
                let partial = |c: usize| {
                    let mut acc = vec![0.0; d];
                    let end = ((c + 1) * ROW_CHUNK).min(n);
                    for r in (c * ROW_CHUNK..end).step_by(sub_rows) {
                        add_col_sums_sq(m.subrows(r, sub_rows.min(end - r)), &mut acc);
                    }
                    acc
                };
                let chunks = n.div_ceil(ROW_CHUNK).max(1);
                let parts: Vec<Vec<f64>> = if par {
                    (0..chunks).into_par_iter().map(partial).collect()
                } else {
                    (0..chunks).map(partial).collect()
                };
                let mut out = vec![0.0; d];
                sum_in_order(parts.iter().map(Vec::as_slice), &mut out);
                out
            }
            DataOp::Csr(rows, _) => {
                let (n, d) = rows.shape();
                let partial = |c: usize| {
                    let mut acc = vec![0.0; d];
                    for i in c * ROW_CHUNK..((c + 1) * ROW_CHUNK).min(n) {
                        let (idx, val) = rows.row(i);
                        for (&j, &v) in idx.iter().zip(val) {
                            acc[j as usize] += v * v;
                        }
                    }
                    acc
                };
                let chunks = n.div_ceil(ROW_CHUNK).max(1);
                // Partial sums of many rows and columns would take more memory than the matrix
                // (the choice depends on the shape only, so the bits still do not depend on the
                // threads).
                if !self.col_norms_by_chunks() {
                    let mut out = vec![0.0; d];
                    for i in 0..n {
                        let (idx, val) = rows.row(i);
                        for (&j, &v) in idx.iter().zip(val) {
                            out[j as usize] += v * v;
                        }
                    }
                    return out;
                }
                let parts: Vec<Vec<f64>> = if par {
                    (0..chunks).into_par_iter().map(partial).collect()
                } else {
                    (0..chunks).map(partial).collect()
                };
                let mut out = vec![0.0; d];
                sum_in_order(parts.iter().map(Vec::as_slice), &mut out);
                out
            }
        }
    }

    /// The squared 2-norm of each row (`‖a_i‖²`), computed deterministically.
    #[allow(dead_code)]
    pub(crate) fn row_norms_sq(&self) -> Vec<f64> {
        match self {
            DataOp::Dense(m, _) => (0..m.nrows())
                .map(|i| (0..m.ncols()).map(|j| m[(i, j)] * m[(i, j)]).sum())
                .collect(),
            DataOp::Csr(rows, _) => (0..rows.shape().0)
                .map(|i| rows.row(i).1.iter().map(|v| v * v).sum())
                .collect(),
        }
    }
}

fn threads(par: Par) -> bool {
    matches!(par, Par::Rayon(n) if n.get() > 1)
}

impl LinOp for DataOp<'_> {
    fn nrows(&self) -> usize {
        match self {
            DataOp::Dense(m, _) => m.nrows(),
            DataOp::Csr(rows, _) => rows.shape().0,
        }
    }
    fn ncols(&self) -> usize {
        match self {
            DataOp::Dense(m, _) => m.ncols(),
            DataOp::Csr(rows, _) => rows.shape().1,
        }
    }

    fn apply(&self, x: &[f64], out: &mut [f64]) {
        let par = threads(self.par());
        match self {
            DataOp::Dense(m, _) => {
                let m = *m;
                let xv = MatRef::from_column_major_slice(x, x.len(), 1);
                let work = |(c, chunk): (usize, &mut [f64])| {
                    let rows = m.subrows(c * ROW_CHUNK, chunk.len());
                    let len = chunk.len();
                    let dst = faer::MatMut::from_column_major_slice_mut(chunk, len, 1);
                    matmul(dst, Accum::Replace, rows, xv, 1.0, Par::Seq);
                };
                if par {
                    out.par_chunks_mut(ROW_CHUNK).enumerate().for_each(work);
                } else {
                    out.chunks_mut(ROW_CHUNK).enumerate().for_each(work);
                }
            }
            DataOp::Csr(rows, _) => {
                let work = |(c, chunk): (usize, &mut [f64])| {
                    for (k, o) in chunk.iter_mut().enumerate() {
                        let (idx, val) = rows.row(c * ROW_CHUNK + k);
                        let mut s = 0.0;
                        for (&j, &v) in idx.iter().zip(val) {
                            s += v * x[j as usize];
                        }
                        *o = s;
                    }
                };
                if par {
                    out.par_chunks_mut(ROW_CHUNK).enumerate().for_each(work);
                } else {
                    out.chunks_mut(ROW_CHUNK).enumerate().for_each(work);
                }
            }
        }
    }

    fn apply_t(&self, y: &[f64], out: &mut [f64]) {
        let par = threads(self.par());
        match self {
            DataOp::Dense(m, _) => {
                let m = *m;
                let yv = MatRef::from_column_major_slice(y, y.len(), 1);
                let work = |(c, chunk): (usize, &mut [f64])| {
                    let cols = m.subcols(c * COL_CHUNK, chunk.len());
                    let len = chunk.len();
                    let dst = faer::MatMut::from_column_major_slice_mut(chunk, len, 1);
                    matmul(dst, Accum::Replace, cols.transpose(), yv, 1.0, Par::Seq);
                };
                if par {
                    out.par_chunks_mut(COL_CHUNK).enumerate().for_each(work);
                } else {
                    out.chunks_mut(COL_CHUNK).enumerate().for_each(work);
                }
            }
            DataOp::Csr(rows, _) => {
                let (n, d) = rows.shape();
                let chunks = n.div_ceil(ROW_CHUNK).max(1);
                let partial = |c: usize| {
                    let mut acc = vec![0.0; d];
                    let end = ((c + 1) * ROW_CHUNK).min(n);
                    for (i, &yi) in y.iter().enumerate().take(end).skip(c * ROW_CHUNK) {
                        if yi != 0.0 {
                            let (idx, val) = rows.row(i);
                            for (&j, &v) in idx.iter().zip(val) {
                                acc[j as usize] += v * yi;
                            }
                        }
                    }
                    acc
                };
                let parts: Vec<Vec<f64>> = if par {
                    (0..chunks).into_par_iter().map(partial).collect()
                } else {
                    (0..chunks).map(partial).collect()
                };
                sum_in_order(parts.iter().map(Vec::as_slice), out);
            }
        }
    }

    fn apply_fused(&self, v: &[f64], alpha: f64, u: &mut [f64], out: &mut [f64]) {
        self.apply_fused_scaled(v, alpha, 1.0, u, out);
    }

    fn product_scratch(&self) -> u128 {
        // One partial Aᵀ·y of length d per row chunk, all held until the ordered reduction
        // (a dense fused pass adds a sub-block of at most 256 rows).
        let (n, d) = (self.nrows() as u128, self.ncols() as u128);
        n.div_ceil(ROW_CHUNK as u128).max(1) * d + 256
    }

    fn apply_fused_scaled(
        &self,
        v: &[f64],
        alpha: f64,
        scale: f64,
        u: &mut [f64],
        out: &mut [f64],
    ) {
        // One pass per fixed row chunk: u_c ← scale·(A_c·v − α·u_c), partial_c = A_cᵀ·u_c; the
        // partials are summed in chunk order, so the result does not depend on the thread count.
        // (`scale` is a power of two, 1 unless ‖A‖ is far from 1: the product by it is exact.)
        let parts = self.fused_parts::<false>((v, alpha, scale), u);
        sum_in_order(parts.iter().map(|(p, _)| p.as_slice()), out);
    }
}

/// `out = Σ_c parts[c]`, added in the order given (the fixed chunk order that makes a chunked
/// product independent of the thread count).
fn sum_in_order<'p>(parts: impl IntoIterator<Item = &'p [f64]>, out: &mut [f64]) {
    out.fill(0.0);
    for p in parts {
        for (o, x) in out.iter_mut().zip(p) {
            *o += x;
        }
    }
}

/// `work` on each fixed row chunk of `u` (`ROW_CHUNK` entries, with its index), on rayon's
/// threads when `par`; the results in chunk order.
fn over_row_chunks<R: Send>(
    u: &mut [f64],
    par: bool,
    work: impl Fn((usize, &mut [f64])) -> R + Sync + Send,
) -> Vec<R> {
    if par {
        u.par_chunks_mut(ROW_CHUNK).enumerate().map(work).collect()
    } else {
        u.chunks_mut(ROW_CHUNK).enumerate().map(work).collect()
    }
}

impl DataOp<'_> {
    /// `out = AᵀA·v`, with `scratch` (length `n`) left holding `A·v`. A CSR `A` is read once, by
    /// the fused pass with `α = 0` (`scratch` zeroed first), which gives the bits of
    /// [`apply`](LinOp::apply) then [`apply_t`](LinOp::apply_t): each row's `A_i·v` is summed
    /// in the same order, zero products are skipped alike and the partial `A_cᵀ·u_c` of each row
    /// chunk is added in the same chunk order. A dense `A` takes those two products (faer's
    /// column blocks for `Aᵀ`, which the fused pass's row chunks would round differently).
    ///
    /// # Performance
    /// One pass over a CSR `A` instead of two: P1's refinement residual `(AᵀA)²x` on the
    /// `10⁶ × 100` matrix of `benches/kernel_regression.rs` (10⁷ nonzeros) reads `A` twice, not
    /// four times.
    pub(crate) fn gram_apply(&self, v: &[f64], scratch: &mut [f64], out: &mut [f64]) {
        match self {
            DataOp::Csr(..) => {
                scratch.fill(0.0);
                self.apply_fused(v, 0.0, scratch, out);
            }
            DataOp::Dense(..) => {
                self.apply(v, scratch);
                self.apply_t(scratch, out);
            }
        }
    }

    /// `‖|A|ᵖ·(|A|ᵀ|A|)ʲ·|x|‖` (`p` 0 or 1, `|·|` entrywise): the scale of the rounding error
    /// of computing `Aᵖ(AᵀA)ʲx` in `f64` componentwise — each product `A·v` errs by at most a
    /// small multiple of `u·|A|·|v|` entry by entry — which on a matrix with columns of very
    /// different norms lies far below the normwise `‖A‖^{2j+p}·‖x‖`. `None` when it overflows
    /// (or is not finite). Fixed row chunks summed in chunk order: the same bits on every
    /// thread count.
    ///
    /// # Performance
    /// `j + p` passes over `A` (one per `|A|ᵀ|A|·v`, reading each row once for both of its
    /// products), on the threads of `par`; work arrays of `O(n + d)` plus one partial of
    /// length `d` per row chunk.
    pub(crate) fn abs_power_norm(&self, x: &[f64], j: usize, p: usize) -> Option<f64> {
        let par = threads(self.par());
        let (n, d) = (self.nrows(), self.ncols());
        let mut v: Vec<f64> = x.iter().map(|t| t.abs()).collect();
        let mut w = vec![0.0; n];
        for step in 0..j + p {
            // The last pass of p = 1 needs |A|·v only.
            let with_t = step < j;
            let parts = over_row_chunks(&mut w, par, |(c, chunk)| {
                abs_chunk(self, c * ROW_CHUNK, chunk, &v, with_t)
            });
            if with_t {
                let mut next = vec![0.0; d];
                for part in &parts {
                    axpy(1.0, part, &mut next);
                }
                v = next;
            }
        }
        let out = if p == 1 { norm2(&w) } else { norm2(&v) };
        out.is_finite().then_some(out)
    }

    /// The fused pass's per-chunk partials, in chunk order: for each fixed row chunk `c`,
    /// `u_c ← scale·(A_c·v − α·u_c)`, then `(A_cᵀ·u_c, s_c)` where `s_c` holds the chunk's column
    /// sums of squares in the order of [`col_norms_sq`](Self::col_norms_sq) with `NORMS` and is
    /// empty without. When every `v_j` is ±0 (the first pass of a run from `x = 0`) the products
    /// `A_c·v` are skipped: for finite `A` they are signed zeros.
    fn fused_parts<const NORMS: bool>(
        &self,
        (v, alpha, scale): (&[f64], f64, f64),
        u: &mut [f64],
    ) -> Vec<(Vec<f64>, Vec<f64>)> {
        let v = (v, v.iter().all(|&x| x == 0.0));
        let par = threads(self.par());
        match self {
            DataOp::Dense(m, _) => over_row_chunks(u, par, |(c, chunk)| {
                dense_fused_chunk::<NORMS>(*m, c * ROW_CHUNK, chunk, v, alpha, scale)
            }),
            DataOp::Csr(rows, _) => over_row_chunks(u, par, |(c, chunk)| {
                csr_fused_chunk::<NORMS>(rows, c * ROW_CHUNK, chunk, v, alpha, scale)
            }),
        }
    }

    /// Whether [`col_norms_sq`](Self::col_norms_sq) sums fixed row chunks (always for a dense
    /// `A`; for a CSR one unless the partials would exceed `COL_NORM_PARTIALS_MAX`).
    fn col_norms_by_chunks(&self) -> bool {
        let (n, d) = (self.nrows(), self.ncols());
        matches!(self, DataOp::Dense(..))
            || n.div_ceil(ROW_CHUNK).max(1).saturating_mul(d) <= COL_NORM_PARTIALS_MAX
    }
}

/// One row chunk (rows `r0 ..`) of [`DataOp::abs_power_norm`]: `w_c = |A_c|·v` and, with
/// `with_t`, the partial `|A_c|ᵀ·w_c` (empty without). A dense chunk is read column by
/// column (contiguous in faer's column-major storage).
fn abs_chunk(op: &DataOp<'_>, r0: usize, w: &mut [f64], v: &[f64], with_t: bool) -> Vec<f64> {
    let d = v.len();
    let mut acc = if with_t { vec![0.0; d] } else { Vec::new() };
    w.fill(0.0);
    match op {
        DataOp::Dense(m, _) => {
            let rows = m.subrows(r0, w.len());
            for (k, &vk) in v.iter().enumerate() {
                let col = rows.col(k);
                for (i, wi) in w.iter_mut().enumerate() {
                    *wi += col[i].abs() * vk;
                }
            }
            if with_t {
                for (k, ak) in acc.iter_mut().enumerate() {
                    let col = rows.col(k);
                    *ak = w.iter().enumerate().map(|(i, wi)| col[i].abs() * wi).sum();
                }
            }
        }
        DataOp::Csr(rows, _) => {
            for (k, wk) in w.iter_mut().enumerate() {
                let (idx, val) = rows.row(r0 + k);
                let s: f64 = idx
                    .iter()
                    .zip(val)
                    .map(|(&c, a)| a.abs() * v[c as usize])
                    .sum();
                *wk = s;
                if with_t && s != 0.0 {
                    for (&c, a) in idx.iter().zip(val) {
                        acc[c as usize] += a.abs() * s;
                    }
                }
            }
        }
    }
    acc
}

/// Rows per sub-block of a dense row chunk, so that a sub-block (about 512 KiB) read by one
/// product is read again from L2 by the next: 50 000 × 1000, 2 threads, one fused pass took
/// 28–30 ms with 64 rows against 33–35 ms with 256 (a plain read of the 400 MB: 21 ms); below
/// d ≈ 250 the size made no difference (scratch harness, 2026-12-01).
fn dense_sub_rows(d: usize) -> usize {
    (65_536 / d.max(1)).clamp(32, 256)
}

/// `sq[j] += Σ_i b_ij²` for each column of the block `b`, each column's sum taken with eight
/// interleaved partial sums (row `k` into lane `k mod 8`, the lanes then added pairwise): a
/// fixed order, so the same bits on every thread count, that the compiler can vectorize (a
/// single running sum waits on every addition).
fn add_col_sums_sq(b: MatRef<'_, f64>, sq: &mut [f64]) {
    for (j, s) in sq.iter_mut().enumerate().take(b.ncols()) {
        let col = b.col(j);
        let mut lanes = [0.0f64; 8];
        if let Some(c) = col.try_as_col_major() {
            let xs = c.as_slice();
            let mut blocks = xs.chunks_exact(8);
            for blk in &mut blocks {
                for (l, x) in lanes.iter_mut().zip(blk) {
                    *l += x * x;
                }
            }
            for (l, x) in lanes.iter_mut().zip(blocks.remainder()) {
                *l += x * x;
            }
        } else {
            for k in 0..col.nrows() {
                lanes[k % 8] += col[k] * col[k];
            }
        }
        *s += ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
            + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    }
}

/// One row chunk (rows `r0 ..`) of the fused dense pass, sub-block by sub-block
/// ([`dense_sub_rows`]): `u_c ← scale·(A_c·v − α·u_c)`, its partial `A_cᵀ·u_c` (faer's
/// products), and with `NORMS` the chunk's column sums of squares as
/// [`DataOp::col_norms_sq`] takes them (so the same bits); empty without.
fn dense_fused_chunk<const NORMS: bool>(
    m: MatRef<'_, f64>,
    r0: usize,
    chunk: &mut [f64],
    (v, v_zero): (&[f64], bool),
    alpha: f64,
    scale: f64,
) -> (Vec<f64>, Vec<f64>) {
    let d = m.ncols();
    let sub_rows = dense_sub_rows(d);
    let vv = MatRef::from_column_major_slice(v, v.len(), 1);
    let mut acc = vec![0.0; d];
    let mut sq = if NORMS { vec![0.0; d] } else { Vec::new() };
    // Stays zero when the products are skipped.
    let mut t = Mat::<f64>::zeros(sub_rows, 1);
    for (s, sub) in chunk.chunks_mut(sub_rows).enumerate() {
        let len = sub.len();
        let rows = m.subrows(r0 + s * sub_rows, len);
        let mut tv = t.as_mut().subrows_mut(0, len);
        if !v_zero {
            matmul(tv.as_mut(), Accum::Replace, rows, vv, 1.0, Par::Seq);
        }
        for (k, ck) in sub.iter_mut().enumerate() {
            *ck = (tv[(k, 0)] - alpha * *ck) * scale;
        }
        let uc = MatRef::from_column_major_slice(&*sub, len, 1);
        let dst = faer::MatMut::from_column_major_slice_mut(&mut acc, d, 1);
        matmul(dst, Accum::Add, rows.transpose(), uc, 1.0, Par::Seq);
        if NORMS {
            add_col_sums_sq(rows, &mut sq);
        }
    }
    (acc, sq)
}

/// One row chunk (rows `r0 ..`) of the fused CSR pass: `u_c ← scale·(A_c·v − α·u_c)`, then its
/// partial `A_cᵀ·u_c`, and with `NORMS` also the chunk's partial column sums of squares, in the
/// row and entry order of [`DataOp::col_norms_sq`] (so the same bits); empty without.
/// `v_zero`: every `v_j` is ±0, so that each `a_ij·v_j` is a signed zero and their sum from
/// `+0` is `+0` for finite `A` (the first pass of a run from `x = 0`): the products are skipped.
fn csr_fused_chunk<const NORMS: bool>(
    rows: &CsrRows<'_>,
    r0: usize,
    chunk: &mut [f64],
    (v, v_zero): (&[f64], bool),
    alpha: f64,
    scale: f64,
) -> (Vec<f64>, Vec<f64>) {
    let d = rows.shape().1;
    let mut acc = vec![0.0; d];
    let mut sq = if NORMS { vec![0.0; d] } else { Vec::new() };
    for (k, ck) in chunk.iter_mut().enumerate() {
        let (idx, val) = rows.row(r0 + k);
        let mut s = 0.0;
        if !v_zero {
            for (&j, &a) in idx.iter().zip(val) {
                s += a * v[j as usize];
            }
        }
        let ui = (s - alpha * *ck) * scale;
        *ck = ui;
        if ui != 0.0 {
            for (&j, &a) in idx.iter().zip(val) {
                acc[j as usize] += a * ui;
                if NORMS {
                    sq[j as usize] += a * a;
                }
            }
        } else if NORMS {
            for (&j, &a) in idx.iter().zip(val) {
                sq[j as usize] += a * a;
            }
        }
    }
    (acc, sq)
}

impl DataOp<'_> {
    /// The rows `rows` of `A` (in that order) as a dense `rows.len() × d` matrix, each column
    /// scaled by `col_scale[j]` (duplicate entries of a sparse row summed in storage order), or
    /// `None` when it cannot be allocated. Dense `A` is read column by column (ascending `rows`
    /// touch each column once, front to back).
    pub(crate) fn gather_rows(&self, rows: &[usize], col_scale: &[f64]) -> Option<Mat<f64>> {
        let d = self.ncols();
        let mut out = zeros_or_too_large(rows.len(), d, "gathered rows").ok()?;
        match self {
            DataOp::Dense(m, _) => {
                for (j, &s) in col_scale.iter().enumerate().take(d) {
                    let src = m.col(j);
                    for (k, &i) in rows.iter().enumerate() {
                        out[(k, j)] = src[i] * s;
                    }
                }
            }
            DataOp::Csr(csr, _) => {
                for (k, &i) in rows.iter().enumerate() {
                    let (idx, val) = csr.row(i);
                    for (&j, &v) in idx.iter().zip(val) {
                        out[(k, j as usize)] += v * col_scale[j as usize];
                    }
                }
            }
        }
        Some(out)
    }
}

impl DataOp<'_> {
    /// [`LinOp::apply_fused`] (`scale = 1`) together with [`col_norms_sq`](Self::col_norms_sq),
    /// in one pass over `A` and bitwise what the two give separately (same row chunks and
    /// sub-blocks, partials added in chunk order); `None`, having done nothing, when
    /// `col_norms_sq` would not split the rows of a CSR `A` into chunks. The first pass of an
    /// LSQR run that needs the column norms before it can start (the probe's equilibration)
    /// thus costs no extra pass.
    pub(crate) fn apply_fused_with_col_norms(
        &self,
        v: &[f64],
        alpha: f64,
        u: &mut [f64],
        out: &mut [f64],
    ) -> Option<Vec<f64>> {
        if !self.col_norms_by_chunks() {
            return None;
        }
        let parts = self.fused_parts::<true>((v, alpha, 1.0), u);
        sum_in_order(parts.iter().map(|(p, _)| p.as_slice()), out);
        let mut norms = vec![0.0; self.ncols()];
        sum_in_order(parts.iter().map(|(_, q)| q.as_slice()), &mut norms);
        Some(norms)
    }
}

impl DataOp<'_> {
    /// The norms of the columns of `[A; √λI]` (`λ = ridge`) from the squared column norms `sq`
    /// of `A` ([`col_norms_sq`](Self::col_norms_sq), which is not scale-safe): `√(sq_j + λ)`
    /// where that sum is safely in range, bitwise; the columns where it over- or underflowed
    /// (or may have lost a share of its terms to underflow: below [`SAFE_SUM_SQ_MIN`]) are
    /// summed again by a scale-safe [`SumSq`], in one more sequential pass over `A`. A norm
    /// is `∞` only when it exceeds the largest `f64`, `0` only for a zero column with `λ = 0`.
    ///
    /// # Performance
    /// No pass over `A` unless a column's `sq_j + λ` is out of range (a zero column included).
    pub(crate) fn col_norms_from_sq(&self, sq: Vec<f64>, ridge: f64) -> Vec<f64> {
        let safe = |s: f64| s.is_finite() && s >= SAFE_SUM_SQ_MIN;
        let mut norms: Vec<f64> = sq.iter().map(|&q| (q + ridge).sqrt()).collect();
        let redo: Vec<bool> = sq.iter().map(|&q| !safe(q + ridge)).collect();
        if !redo.contains(&true) {
            return norms;
        }
        let mut sums = vec![SumSq::ZERO; self.ncols()];
        match self {
            DataOp::Dense(m, _) => {
                for (j, sum) in sums.iter_mut().enumerate().filter(|(j, _)| redo[*j]) {
                    m.col(j).iter().for_each(|&v| sum.add(v));
                }
            }
            DataOp::Csr(rows, _) => {
                for i in 0..rows.shape().0 {
                    let (idx, val) = rows.row(i);
                    for (&j, &v) in idx.iter().zip(val) {
                        if redo[j as usize] {
                            sums[j as usize].add(v);
                        }
                    }
                }
            }
        }
        for ((norm, sum), _) in norms
            .iter_mut()
            .zip(&mut sums)
            .zip(&redo)
            .filter(|(_, &r)| r)
        {
            sum.add_square(ridge);
            *norm = sum.sqrt();
        }
        norms
    }
}

impl DataOp<'_> {
    /// `‖A‖_F` from the squared column norms `sq` of `A` ([`col_norms_sq`](Self::col_norms_sq)):
    /// `√(Σ sq_j)` when that sum is safely in range, else the scale-safe norm of the column
    /// norms [`col_norms_from_sq`](Self::col_norms_from_sq) recomputes (one more pass over `A`).
    pub(crate) fn frobenius_from_sq(&self, sq: &[f64]) -> f64 {
        let sum: f64 = sq.iter().sum();
        if sum.is_finite() && sum >= SAFE_SUM_SQ_MIN {
            sum.sqrt()
        } else {
            norm_of(&self.col_norms_from_sq(sq.to_vec(), 0.0))
        }
    }
}

/// `2⁻⁹⁶⁰`: a sum of squares of `n` terms that is at least this lost at most a share
/// `n·2⁻⁶²` of it to underflowed terms (each below `2⁻¹⁰²²`); below it
/// [`DataOp::col_norms_from_sq`] sums the column again.
const SAFE_SUM_SQ_MIN: f64 = f64::from_bits((1023 - 960) << 52);

/// Euclidean norm, scaled to avoid overflow and underflow (deterministic: one sequential pass).
pub(crate) fn norm2(x: &[f64]) -> f64 {
    // NaN propagates (`f64::max` would drop it and call an all-NaN vector zero).
    let scale = x.iter().fold(0.0f64, |m, v| {
        if v.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(v.abs())
        }
    });
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let s: f64 = x.iter().map(|v| (v / scale) * (v / scale)).sum();
    scale * s.sqrt()
}

/// The power of two `s` by which to scale a quantity of size `x` so that `s·x` is near 1 (at most
/// `2¹⁰²³`, so a subnormal `x` lands in `[2⁻⁵¹, 1)`), or 1 when `x` is within `2^±128` of 1 (0, ∞
/// and NaN: 1). Multiplying by it is exact, so a
/// computation on `s·x` gives the bits of the computation on `x` times `s`; leaving moderate
/// sizes at 1 keeps the products of ordinary data exactly as they were.
pub(crate) fn rescale_for(x: f64) -> f64 {
    let e = exponent(x);
    if e.abs() <= 128 {
        1.0
    } else {
        // e ≥ −1074, but 2^−e is representable only up to 2¹⁰²³: a subnormal x is scaled by
        // 2¹⁰²³ (to at least 2⁻⁵¹, in range), never by ∞.
        mul_pow2(1.0, (-e).min(1023))
    }
}

/// `Σ xᵢ²` held as `ssq·4ᵏ`, where `k` is the largest `⌊log₂|xᵢ|⌋` added so far (changes of `k`
/// rescale `ssq` by an exact power of four), so that neither the squares nor their sum over- or
/// underflow while `√(Σ xᵢ²)` is representable. Each scaled square is the naive square times
/// `4⁻ᵏ` exactly, so wherever the naive `Σ xᵢ²` (summed in the same order) stays normal,
/// [`sqrt`](Self::sqrt) returns its square root to the bit; and scaling every `xᵢ` by `2ʲ`
/// scales the result by `2ʲ` exactly (within the normal range of the result).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SumSq {
    ssq: f64,
    k: i32,
}

impl SumSq {
    pub(crate) const ZERO: SumSq = SumSq { ssq: 0.0, k: 0 };

    /// Raises the scale to `2ᵉ` when `e` exceeds it (the first term sets it).
    fn rescale_to(&mut self, e: i32) {
        if self.ssq == 0.0 {
            self.k = e;
        } else if e > self.k {
            self.ssq = mul_pow2(self.ssq, 2 * (self.k - e));
            self.k = e;
        }
    }

    /// Adds `x²`.
    pub(crate) fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.ssq += x * x;
            return;
        }
        if x == 0.0 {
            return;
        }
        self.rescale_to(exponent(x));
        let y = mul_pow2(x, -self.k);
        self.ssq += y * y;
    }

    /// Adds `q ≥ 0`, a quantity that is already a square (such as a ridge parameter `λ`).
    pub(crate) fn add_square(&mut self, q: f64) {
        if !q.is_finite() {
            self.ssq += q;
            return;
        }
        if q == 0.0 {
            return;
        }
        // ⌊e/2⌋ (arithmetic shift), so that q·4⁻ᵏ < 4 for the new scale.
        self.rescale_to(exponent(q) >> 1);
        self.ssq += mul_pow2(q, -2 * self.k);
    }

    /// `√(Σ xᵢ²)`.
    pub(crate) fn sqrt(&self) -> f64 {
        if !self.ssq.is_finite() {
            return self.ssq.sqrt();
        }
        mul_pow2(self.ssq.sqrt(), self.k)
    }
}

/// `√(Σ xᵢ²)` of a few scalars by [`SumSq`]: the bits of `(x₀² + x₁² + …).sqrt()` wherever
/// that neither over- nor underflows, and no over- or underflow elsewhere.
pub(crate) fn norm_of(xs: &[f64]) -> f64 {
    let mut s = SumSq::ZERO;
    xs.iter().for_each(|&x| s.add(x));
    s.sqrt()
}

/// `(a·b)/(c·d)` with the exponents taken out first (exactly, as powers of two): the bits of the
/// naive formula wherever its products and quotient stay normal, and no spurious overflow to
/// ∞ or underflow to 0 elsewhere (a large `a·b` over a large `c·d`, say).
pub(crate) fn quotient(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let (ea, eb, ec, ed) = (exponent(a), exponent(b), exponent(c), exponent(d));
    let q = (mul_pow2(a, -ea) * mul_pow2(b, -eb)) / (mul_pow2(c, -ec) * mul_pow2(d, -ed));
    mul_pow2(q, ea + eb - ec - ed)
}

/// `r ≤ t·b` for `b > 0`, compared as `r·2⁻ᵉ ≤ t·(b·2⁻ᵉ)` with `2ᵉ ≤ b`: the naive comparison's
/// answer wherever `t·b` stays normal, and no underflow of `t·b` to 0 (nor overflow) elsewhere.
pub(crate) fn at_most_times(r: f64, t: f64, b: f64) -> bool {
    let e = exponent(b);
    mul_pow2(r, -e) <= t * mul_pow2(b, -e)
}

/// `y ← y + alpha·x`.
pub(crate) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// `r = b − A·x`.
pub(crate) fn residual(op: &dyn LinOp, x: &[f64], b: &[f64]) -> Vec<f64> {
    let mut r = vec![0.0; op.nrows()];
    op.apply(x, &mut r);
    for (ri, bi) in r.iter_mut().zip(b) {
        *ri = bi - *ri;
    }
    r
}

/// An estimate of `‖M‖₂` from `iters` steps of Golub–Kahan (Lanczos) bidiagonalization started
/// from a fixed vector (all ones, perturbed deterministically): the largest singular value of
/// the `k × k` upper bidiagonal `B_k = U_kᵀ M V_k`. In exact arithmetic `σ_max(B_k) ≤ ‖M‖₂`
/// (interlacing), so it is a lower bound that converges from below, at the Lanczos rate rather
/// than the power method's: on a 600 × 25 Gaussian matrix, whose top singular values are close,
/// 30 power steps left it 3.6 % low (the first run of the test
/// `normal_equation_residual_matches_a_dense_computation`, against the former estimate). Without
/// reorthogonalization the extreme Ritz value still converges (lost orthogonality only repeats it).
pub(crate) fn norm2_estimate(op: &dyn LinOp, iters: usize) -> f64 {
    let c = op.ncols();
    let mut v: Vec<f64> = (0..c)
        .map(|j| 1.0 + 0.5 * crate::seed::unit_f64(crate::seed::splitmix64(j as u64)))
        .collect();
    let nv = norm2(&v);
    if nv == 0.0 || !nv.is_finite() {
        return 0.0;
    }
    v.iter_mut().for_each(|x| *x /= nv);
    let mut u = vec![0.0; op.nrows()];
    let mut mv = vec![0.0; op.nrows()];
    let mut w = vec![0.0; c];
    let (mut alphas, mut betas) = (Vec::new(), Vec::new());
    let mut beta = 0.0;
    for _ in 0..iters.max(1) {
        // α u = M v − β u
        op.apply(&v, &mut mv);
        for (ui, mi) in u.iter_mut().zip(&mv) {
            *ui = mi - beta * *ui;
        }
        let alpha = norm2(&u);
        if alpha == 0.0 || !alpha.is_finite() {
            break;
        }
        u.iter_mut().for_each(|x| *x /= alpha);
        alphas.push(alpha);
        // β v' = Mᵀ u − α v
        op.apply_t(&u, &mut w);
        for (wi, vi) in w.iter_mut().zip(&v) {
            *wi -= alpha * vi;
        }
        beta = norm2(&w);
        if beta == 0.0 || !beta.is_finite() {
            break;
        }
        betas.push(beta);
        for (vi, wi) in v.iter_mut().zip(&w) {
            *vi = wi / beta;
        }
    }
    let k = alphas.len();
    if k == 0 {
        return 0.0;
    }
    // The bidiagonal scaled by a power of two when its entries are far from 1 (‖M‖ ≈ 10¹⁶⁰:
    // faer's SVD of the unscaled matrix may fail or lose accuracy there); exact, and the
    // identity for ordinary sizes.
    let top = alphas.iter().chain(&betas).copied().fold(0.0, f64::max);
    let s = rescale_for(top);
    let b = faer::Mat::<f64>::from_fn(k, k, |i, j| {
        if i == j {
            alphas[i] * s
        } else if j == i + 1 {
            betas[i] * s
        } else {
            0.0
        }
    });
    match crate::dense::singular_values(b.as_ref()) {
        Ok(sv) if !sv.is_empty() => sv[0] / s,
        _ => alphas.iter().copied().fold(0.0, f64::max),
    }
}

/// The normal-equation residual `‖Aᵀ(b − Ax)‖ / (‖A‖₂·‖b − Ax‖)` — the backward-error measure the
/// solvers stop on and the figure the `lstsq` example reports as `normal_eq_residual`.
///
/// `‖A‖₂` is estimated by 30 steps of Golub–Kahan bidiagonalization (a lower bound, so the
/// figure is conservative; within rounding of the SVD's `σ_max` on the tested matrices). Returns
/// 0 when the residual is exactly zero.
///
/// The figure does not change when `x` and `b` are scaled together, and where `A·x` overflows
/// it is computed for them scaled down by a power of two.
///
/// # Errors
/// [`Error::DimensionMismatch`] when `x` does not have `d` entries or `b` does not have `n`;
/// [`Error::NonFinite`] for NaN or ±∞ in `x` or `b`, or when `b − A·x` overflows even for `x`
/// and `b` scaled to entries below 1 (entries of `A` near `f64::MAX`); [`Error::Empty`] for an
/// empty `A`.
///
/// # Performance
/// About 32 products with `A` and 32 with `Aᵀ`: O(nnz(A)) each.
pub fn normal_equation_residual(
    a: MatrixRef<'_, f64>,
    x: &[f64],
    b: &[f64],
    par: Par,
) -> Result<f64> {
    ridge_normal_equation_residual(a, x, b, 0.0, par)
}

/// The normal-equation residual of the ridge problem `min ‖Ax − b‖² + λ‖x‖²`, i.e. of the
/// augmented least-squares problem `[A; √λI]x ≈ [b; 0]`:
/// `‖Aᵀr − λx‖ / (√(‖A‖₂² + λ)·√(‖r‖² + λ‖x‖²))` with `r = b − Ax`. Equals
/// [`normal_equation_residual`] for `λ = 0`.
///
/// # Errors
/// As [`normal_equation_residual`], plus [`Error::InvalidParameter`] for `λ < 0` or non-finite.
///
/// # Performance
/// As [`normal_equation_residual`].
pub fn ridge_normal_equation_residual(
    a: MatrixRef<'_, f64>,
    x: &[f64],
    b: &[f64],
    lambda: f64,
    par: Par,
) -> Result<f64> {
    a.require_nonempty("A")?;
    if x.len() != a.ncols() {
        return Err(Error::dim(
            "length of x vs columns of A",
            a.ncols(),
            x.len(),
        ));
    }
    if b.len() != a.nrows() {
        return Err(Error::dim("length of b vs rows of A", a.nrows(), b.len()));
    }
    check_finite_slice(x, "x")?;
    check_finite_slice(b, "b")?;
    super::check_lambda(lambda, "lambda")?;
    let op = DataOp::new(a, par)?;
    // Peak: r and u, mv of the norm estimate (n each), Aᵀr and v, w of the estimate (d each),
    // and the products' partial sums, plus an eighth for the allocator's own mappings (as
    // `lsqr::ensure_workspace`). A sparse A declares n and d without storing them.
    let (n, d) = (a.nrows() as u128, a.ncols() as u128);
    let peak = 3 * (n + d) + op.product_scratch();
    let peak = peak + peak / 8;
    crate::input::ensure_allocatable::<f64>(
        usize::try_from(peak).ok(),
        || format!("the workspace of the normal-equation residual for a {n}×{d} A"),
        peak,
    )?;
    let mut r = residual(&op, x, b);
    let mut rn = norm2(&r).hypot(lambda.sqrt() * norm2(x));
    // `A·x` (or `b − A·x`) overflowed although `x` and `b` are finite: the figure is the same
    // for `(c·x, c·b)` (numerator and denominator both scale by `c`), so recompute with them
    // scaled by the power of two that brings their largest entry below 1. (Before, `Ok(NaN)`.)
    let scaled: Vec<f64>;
    let mut x = x;
    if !rn.is_finite() {
        let top = crate::scalar::max_abs(x.iter().chain(b).copied());
        let k = -(crate::scalar::exponent(top) + 1);
        scaled = x.iter().map(|&v| crate::scalar::mul_pow2(v, k)).collect();
        let bs: Vec<f64> = b.iter().map(|&v| crate::scalar::mul_pow2(v, k)).collect();
        x = &scaled;
        r = residual(&op, x, &bs);
        rn = norm2(&r).hypot(lambda.sqrt() * norm2(x));
        if let Some(row) = r.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "the residual b − A·x, which overflows even with x and b scaled to \
                       entries below 1 (scale A down by a power of two)"
                    .into(),
                row,
                col: 0,
            });
        }
    }
    if rn == 0.0 {
        return Ok(0.0);
    }
    // Aᵀr − λx is formed for r/‖r‖ (scaled by a power of two, so exactly) when ‖r‖ is far from
    // 1: unscaled it has the size ‖A‖·‖r‖, which overflows when ‖A‖ and ‖r‖ are large and
    // underflows when they are small although the ratio below is an ordinary number.
    let s = rescale_for(rn);
    if s != 1.0 {
        r.iter_mut().for_each(|ri| *ri *= s);
    }
    let mut atr = vec![0.0; op.ncols()];
    op.apply_t(&r, &mut atr);
    // (−λ·xᵢ)·s rather than (−λ·s)·xᵢ: λ·s alone may be subnormal (λ = 10⁻⁸, s = 2⁻¹⁰⁰⁰).
    for (ai, xi) in atr.iter_mut().zip(x) {
        *ai += (-lambda * xi) * s;
    }
    // √(‖A‖₂² + λ) and the quotient with their squares and products kept in range (at
    // ‖A‖ ≈ 10¹⁶⁰ the square overflowed to ∞ and the figure came out 0 for every x).
    let mut an = SumSq::ZERO;
    an.add(norm2_estimate(&op, 30));
    an.add_square(lambda);
    let an = an.sqrt().max(f64::MIN_POSITIVE);
    Ok(quotient(norm2(&atr), 1.0, an, rn * s))
}

/// A column index stored as `usize` (borrowed CSR) or `u32` (the compact copy).
trait Index: Copy + Sync {
    fn ix(self) -> usize;
}
impl Index for usize {
    #[inline(always)]
    fn ix(self) -> usize {
        self
    }
}
impl Index for u32 {
    #[inline(always)]
    fn ix(self) -> usize {
        self as usize
    }
}

/// `AᵀA` (`d × d`) from rows given by `row(i) = (column indices, values)`, `O(Σᵢ nnz(rowᵢ)²)`,
/// bitwise the same for every thread count. The lower triangle is built in the result's own
/// columns, then mirrored into the upper one in place.
///
/// - `d ≤ 512` ([`GRAM_ROW_CHUNKS_MAX_D`]): 8 fixed row chunks, each summed into a `d × d`
///   buffer (2 MB at most; one buffer a thread, reused from chunk to chunk), added into the
///   result in chunk order.
/// - Larger `d`: the lower triangle in blocks of columns, each built by one task that runs over
///   all rows and adds `a_ij·a_ik` (`k ≥ j`, `j` in its block) into its block's columns (about
///   1 MB, so they stay in cache), summing over the rows in row order, so the bits depend on
///   neither the thread count nor the block width. No buffer besides the result.
///
/// # Performance
/// Measured through `normal_equations` (2 threads, random CSR, 2026-12-05): the row chunks
/// alone (the only scheme before) took 0.38 s at `n = 10⁵`, `d = 2000`, 10 nonzeros a row, and
/// 2.51 s at 200 a row, against 0.119 s and 1.37 s by column blocks (ten buffers of 32 MB,
/// whose page faults and scattered writes dominated); at `d = 200` the column blocks were
/// slower (0.030 s against 0.016 s at 10 a row, `n = 2·10⁵`: every block reads every row),
/// and at `d = 500` the two were within 6%. Memory: the result, plus (`d ≤ 512`) one chunk
/// buffer per thread.
fn gram_from_rows<'r, J: Index + 'r>(
    n: usize,
    d: usize,
    row: impl Fn(usize) -> (&'r [J], &'r [f64]) + Sync,
    par: Par,
) -> Result<faer::Mat<f64>> {
    let what = "Gram matrix AᵀA";
    // A sparse `A` may declare up to 2³² columns (`DataOp::new`), whose `d·d` does not fit a
    // `usize`: the buffers below are sized by it.
    if d.checked_mul(d).is_none() {
        return Err(Error::TooLarge {
            what: format!("the {d}×{d} Gram matrix AᵀA"),
            requested: d as u128 * d as u128,
            limit: (isize::MAX as usize / std::mem::size_of::<f64>()) as u128,
        });
    }
    let mut out = zeros_or_too_large(d, d, what)?;
    // An owned `Mat` stores its columns contiguously (the `None` arm is unreachable).
    let cols = out
        .as_mut()
        .col_iter_mut()
        .map(|c| c.try_as_col_major_mut().map(|c| c.as_slice_mut()))
        .collect::<Option<Vec<&mut [f64]>>>();
    let Some(mut cols) = cols else {
        return Err(Error::Factorization {
            reason: format!("internal: the columns of the {d}×{d} Gram matrix are not contiguous"),
        });
    };
    // Lower triangle: entry `(k, j)`, `k ≥ j`, at `cols[j][k]`.
    if d <= GRAM_ROW_CHUNKS_MAX_D {
        gram_by_row_chunks(n, d, &row, par, &mut cols)?;
    } else {
        gram_by_column_blocks(n, d, &row, par, &mut cols);
    }
    // The upper triangle from the lower, in tiles of 64 × 64 so that the strided reads of the
    // mirror stay in cache.
    const TILE: usize = 64;
    for j0 in (0..d).step_by(TILE) {
        for i0 in (0..=j0).step_by(TILE) {
            for j in j0..(j0 + TILE).min(d) {
                // Row `j` of columns `i0..` (`i < j`) into column `j`'s rows `i0..`.
                let (left, right) = cols.split_at_mut(j);
                let i1 = (i0 + TILE).min(j);
                for (dst, src) in right[0][i0..i1].iter_mut().zip(&left[i0..i1]) {
                    *dst = src[j];
                }
            }
        }
    }
    drop(cols);
    Ok(out)
}

/// The largest `d` for which [`gram_from_rows`] sums row chunks into buffers of their own.
const GRAM_ROW_CHUNKS_MAX_D: usize = 512;

/// Entries (`f64`) in one column block of [`gram_by_column_blocks`]: 1 MB.
const GRAM_BLOCK_ENTRIES: usize = 1 << 17;

/// Adds the lower triangle of `AᵀA` into `cols` (column `j`'s entries `k ≥ j`,
/// [`gram_from_rows`]) from 8 fixed row chunks.
///
/// # Errors
/// [`Error::TooLarge`] when a chunk's buffer cannot be allocated.
fn gram_by_row_chunks<'r, J: Index + 'r>(
    n: usize,
    d: usize,
    row: &(impl Fn(usize) -> (&'r [J], &'r [f64]) + Sync),
    par: Par,
    cols: &mut [&mut [f64]],
) -> Result<()> {
    const CHUNKS: usize = 8;
    let per = n.div_ceil(CHUNKS).max(1);
    // Adds chunk `c`'s rows' outer products into `g` (entry `(k, j)`, `k ≥ j`, at `j·d + k`).
    let partial_into = |c: usize, g: &mut [f64]| {
        // After a Cholesky on these threads the chunks took 10% longer (d = 200, 50 a row).
        crate::cpu::clear_upper_vector_state();
        for i in (c * per)..((c + 1) * per).min(n) {
            let (idx, val) = row(i);
            for (p, (&j, &vj)) in idx.iter().zip(val).enumerate() {
                let j = j.ix();
                let gc = &mut g[j * d..(j + 1) * d];
                for (&k, &vk) in idx[p..].iter().zip(&val[p..]) {
                    gc[k.ix()] += vj * vk;
                }
            }
        }
    };
    // The chunks' Grams are added into the result (zero) in chunk order on either path, so the
    // bits do not depend on the thread count.
    let add = |g: &[f64], cols: &mut [&mut [f64]]| {
        for (j, col) in cols.iter_mut().enumerate() {
            col[j..]
                .iter_mut()
                .zip(&g[j * d + j..(j + 1) * d])
                .for_each(|(a, b)| *a += b);
        }
    };
    // Chunks run in waves of one per thread, each into a buffer of its own, reused by the next
    // wave: `T·d²` entries at most (`8·d²` when all 8 ran at once: 16 MB at `d = 512`).
    let what = "Gram matrix AᵀA";
    let wave = if threads(par) {
        crate::dense::bounded(par).degree().min(CHUNKS)
    } else {
        1
    };
    let mut bufs = (0..wave)
        .map(|_| filled_or_too_large(d * d, 0.0, what))
        .collect::<Result<Vec<Vec<f64>>>>()?;
    for c0 in (0..CHUNKS).step_by(wave) {
        let live = &mut bufs[..wave.min(CHUNKS - c0)];
        let run = |(k, g): (usize, &mut Vec<f64>)| {
            if c0 > 0 {
                g.fill(0.0);
            }
            partial_into(c0 + k, g);
        };
        if live.len() > 1 {
            live.par_iter_mut().enumerate().for_each(run);
        } else {
            live.iter_mut().enumerate().for_each(run);
        }
        for g in live.iter() {
            add(g, cols);
        }
    }
    Ok(())
}

/// Adds the lower triangle of `AᵀA` into `cols` (zero on entry; column `j`'s entries `k ≥ j`,
/// [`gram_from_rows`]) by blocks of columns.
fn gram_by_column_blocks<'r, J: Index + 'r>(
    n: usize,
    d: usize,
    row: &(impl Fn(usize) -> (&'r [J], &'r [f64]) + Sync),
    par: Par,
    cols: &mut [&mut [f64]],
) {
    // About 1 MB of columns a block, and at least 4 blocks a thread to balance the triangle's
    // uneven columns (the leftmost carry the most products).
    // `par` bounded: P1/P2 hand their operators `lstsq.par` as given, and `4·degree()`
    // overflowed for `Par::rayon(usize::MAX)`.
    let tasks = if threads(par) {
        4 * crate::dense::bounded(par).degree()
    } else {
        1
    };
    // At least 16 columns a block (or all `d`): every block reads every row, so 64 threads at
    // `d = 513` would otherwise make 171 passes over `A` for blocks of 3 columns.
    let width = (GRAM_BLOCK_ENTRIES / d.max(1))
        .min(d.div_ceil(tasks))
        .max(16)
        .min(d)
        .max(1);
    let fill_block = |(b, block): (usize, &mut [&mut [f64]])| {
        let j0 = b * width;
        let j1 = j0 + block.len();
        for i in 0..n {
            let (idx, val) = row(i);
            let start = idx.partition_point(|&j| j.ix() < j0);
            for p in start..idx.len() {
                let j = idx[p].ix();
                if j >= j1 {
                    break;
                }
                let vj = val[p];
                let col = &mut *block[j - j0];
                for (&k, &vk) in idx[p..].iter().zip(&val[p..]) {
                    col[k.ix()] += vj * vk;
                }
            }
        }
    };
    if threads(par) {
        cols.par_chunks_mut(width).enumerate().for_each(fill_block);
    } else {
        cols.chunks_mut(width).enumerate().for_each(fill_block);
    }
}

impl DataOp<'_> {
    /// `AᵀA` (`d × d`): dense, faer's matmul on the operator's threads; CSR, [`gram_from_rows`]
    /// (bitwise the same for every thread count).
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the `d × d` buffers cannot be allocated.
    pub(crate) fn gram(&self) -> Result<faer::Mat<f64>> {
        let d = self.ncols();
        Ok(match self {
            DataOp::Dense(m, par) => {
                let mut g = zeros_or_too_large(d, d, "Gram matrix AᵀA")?;
                let par = crate::dense::par_for_result(*par, d, d);
                matmul(g.as_mut(), Accum::Replace, m.transpose(), *m, 1.0, par);
                g
            }
            DataOp::Csr(rows, par) => gram_from_rows(rows.nrows, d, |i| rows.row(i), *par)?,
        })
    }

    /// The multiply-adds of [`gram`](Self::gram): `Σᵢ nnz(rowᵢ)·(nnz(rowᵢ) + 1)/2` (the upper
    /// triangle's outer products) for CSR, `n·d·(d + 1)/2` for dense; as `f64`, which holds any
    /// such count to within a relative 2⁻⁵³.
    pub(crate) fn gram_work(&self) -> f64 {
        let tri = |k: f64| k * (k + 1.0) / 2.0;
        match self {
            DataOp::Dense(m, _) => m.nrows() as f64 * tri(m.ncols() as f64),
            DataOp::Csr(rows, _) => rows
                .indptr
                .windows(2)
                .map(|w| tri((w[1] - w[0]) as f64))
                .sum(),
        }
    }

    /// Stored entries: `nnz` for CSR, `n·d` for dense.
    pub(crate) fn stored(&self) -> f64 {
        match self {
            DataOp::Dense(m, _) => m.nrows() as f64 * m.ncols() as f64,
            DataOp::Csr(rows, _) => rows.indices.len() as f64,
        }
    }
}

/// `(AᵀA, Aᵀb)` for the normal equations, without copying a CSR or dense `A` (CSC is converted
/// to CSR once). Sparse Gram: [`gram_from_rows`]; dense: faer's matmul with `par`.
///
/// # Errors
/// As [`DataOp::new`].
pub(crate) fn gram_and_atb(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    par: Par,
) -> Result<(faer::Mat<f64>, Vec<f64>)> {
    let d = a.ncols();
    Ok(match a {
        MatrixRef::Sparse(s) if s.layout() == Layout::Csr => {
            let g = gram_from_rows(s.nrows(), d, |i| s.outer(i), par)?;
            let mut atb = vec![0.0; d];
            for (i, &bi) in b.iter().enumerate() {
                let (idx, val) = s.outer(i);
                for (&j, &v) in idx.iter().zip(val) {
                    atb[j] += v * bi;
                }
            }
            (g, atb)
        }
        _ => {
            let op = DataOp::new(a, par)?;
            let g = op.gram()?;
            let mut atb = vec![0.0; d];
            op.apply_t(b, &mut atb);
            (g, atb)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{at_most_times, exponent, mul_pow2, norm2, norm_of, quotient, SumSq};

    /// Deterministic values spread over `[2⁻²⁰, 2²⁰]` in size, both signs.
    fn values(count: usize) -> Vec<f64> {
        (0..count as u64)
            .map(|i| {
                let u = crate::seed::unit_f64(crate::seed::splitmix64(i));
                let e = (crate::seed::splitmix64(i ^ 0xabc) % 41) as i32 - 20;
                (2.0 * u - 1.0) * mul_pow2(1.0, e)
            })
            .collect()
    }

    /// `gram_apply` gives the bits of `apply` then `apply_t`, on 1 and 2 threads, for a CSR
    /// `A` of three row chunks (one partial) with rows whose product is a signed zero or empty
    /// (skipped by both), and for a dense `A`; `scratch` holds `A·v`.
    #[test]
    fn gram_apply_is_apply_then_apply_t_bit_for_bit() {
        use super::{DataOp, LinOp, ROW_CHUNK};
        use faer::Par;
        let (n, d) = (2 * ROW_CHUNK + 77, 13);
        let vals = values(n * 4);
        let (mut tri_i, mut tri_j, mut tri_v) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            if i % 11 == 3 {
                continue; // an empty row
            }
            for k in 0..(1 + i % 4) {
                tri_i.push(i);
                tri_j.push((i * 7 + k * 5) % d);
                // Rows i ≡ 5 (mod 11) store −0 only: a zero product, skipped by both.
                tri_v.push(if i % 11 == 5 { -0.0 } else { vals[i * 4 + k] });
            }
        }
        let a = sprs::TriMat::from_triplets((n, d), tri_i, tri_j, tri_v).to_csr::<usize>();
        let dense = faer::Mat::from_fn(n, d, |i, j| vals[(i * d + j) % vals.len()]);
        let v: Vec<f64> = (0..d).map(|j| if j == 4 { 0.0 } else { vals[j] }).collect();
        for par in [Par::Seq, Par::rayon(2)] {
            for a in [
                crate::MatrixRef::sparse(&a).unwrap(),
                crate::MatrixRef::dense(dense.as_ref()).unwrap(),
            ] {
                let op = DataOp::new(a, par).unwrap();
                let (mut t, mut want) = (vec![0.0; n], vec![0.0; d]);
                op.apply(&v, &mut t);
                op.apply_t(&t, &mut want);
                let (mut scratch, mut got) = (vec![f64::NAN; n], vec![f64::NAN; d]);
                op.gram_apply(&v, &mut scratch, &mut got);
                let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{par:?}");
                assert_eq!(bits(&scratch), bits(&t), "{par:?}");
            }
        }
    }

    #[test]
    fn exponents_and_powers_of_two_are_exact() {
        for (x, e) in [
            (1.0, 0),
            (1.5, 0),
            (0.75, -1),
            (f64::MAX, 1023),
            (f64::MIN_POSITIVE, -1022),
        ] {
            assert_eq!(exponent(x), e, "{x:e}");
            assert_eq!(exponent(-x), e, "{x:e}");
        }
        assert_eq!(exponent(f64::from_bits(1)), -1074);
        assert_eq!(exponent(f64::from_bits(3)), -1073);
        assert_eq!(mul_pow2(1.0, -1074), f64::from_bits(1));
        assert_eq!(mul_pow2(f64::from_bits(1), 2097), 2f64.powi(1023));
        assert_eq!(mul_pow2(3.0, 2000), f64::INFINITY);
        assert_eq!(mul_pow2(3.0, -2000), 0.0);
    }

    /// The scaled norms and quotient give the naive formulas' bits on ordinary values, scale
    /// exactly by powers of two, and survive where the naive ones over- or underflow.
    #[test]
    fn scaled_scalar_arithmetic_matches_the_naive_formulas_and_scales_exactly() {
        let v = values(3000);
        for w in v.chunks(3) {
            let (a, b, c) = (w[0], w[1], w[2]);
            let naive = (a * a + b * b + c * c).sqrt();
            assert_eq!(norm_of(w).to_bits(), naive.to_bits(), "{w:?}");
            let mut s = SumSq::ZERO;
            s.add(a);
            s.add(b);
            s.add_square(c * c);
            assert_eq!(s.sqrt().to_bits(), naive.to_bits(), "{w:?}");
            let q = (a * b) / (c * w[0].max(0.5));
            assert_eq!(quotient(a, b, c, w[0].max(0.5)).to_bits(), q.to_bits());
            assert_eq!(at_most_times(a, 0.5, b.abs()), a <= 0.5 * b.abs());
            for k in [-1000, -660, -520, 520, 530, 1000] {
                let p = |x: f64| mul_pow2(x, k);
                let scaled = norm_of(&[p(a), p(b), p(c)]);
                assert_eq!(scaled.to_bits(), p(naive).to_bits(), "2^{k}·{w:?}");
                let qs = quotient(p(a), b, p(c), w[0].max(0.5));
                assert_eq!(qs.to_bits(), q.to_bits(), "2^{k}·{w:?}");
                assert_eq!(at_most_times(p(a), 0.5, p(b.abs())), a <= 0.5 * b.abs());
            }
        }
    }

    #[test]
    fn norm2_is_scaled_and_propagates_nan() {
        assert_eq!(norm2(&[3.0, -4.0]), 5.0);
        assert_eq!(norm2(&[3e300, 4e300]), 5e300);
        assert_eq!(norm2(&[0.0, -0.0]), 0.0);
        assert_eq!(norm2(&[1.0, f64::INFINITY]), f64::INFINITY);
        for x in [[f64::NAN, 1.0], [1.0, f64::NAN], [f64::NAN, f64::NAN]] {
            assert!(norm2(&x).is_nan(), "{x:?}");
        }
    }

    /// `gather_rows` copies the listed rows (in the order listed, repeats allowed) with each
    /// column scaled, exactly, for a dense and a CSR `A`: the row-sampled certificate reads
    /// `S·A·D⁻¹` from it.
    #[test]
    fn gathered_rows_are_the_scaled_rows() {
        use super::{DataOp, MatrixRef, Par};
        let a = crate::problems::random_sparse(300, 7, 3, crate::Seed::new(9)).unwrap();
        let dense = MatrixRef::sparse(&a).unwrap().to_dense().unwrap();
        let scale: Vec<f64> = (0..7).map(|j| 0.5f64.powi(j) * 3.0).collect();
        let rows = [5, 0, 299, 17, 17, 150];
        for view in [
            MatrixRef::sparse(&a).unwrap(),
            MatrixRef::dense(dense.as_ref()).unwrap(),
        ] {
            let got = DataOp::new(view, Par::Seq)
                .unwrap()
                .gather_rows(&rows, &scale)
                .unwrap();
            assert_eq!((got.nrows(), got.ncols()), (rows.len(), 7));
            for (k, &i) in rows.iter().enumerate() {
                for (j, s) in scale.iter().enumerate() {
                    assert_eq!(got[(k, j)].to_bits(), (dense[(i, j)] * s).to_bits());
                }
            }
        }
    }

    /// The fused pass with column norms gives bitwise what `apply_fused` and `col_norms_sq`
    /// give separately, on one thread and on two, over several row chunks (rows with zero
    /// `u_i`, whose entries only the norms read, included), also from `x = ±0`, where it skips
    /// the products with `x`; the same for a dense `A` on 1 and 2 threads, column-major or
    /// strided; and declines a CSR `A` with too many row chunks × columns.
    #[test]
    fn fused_pass_with_column_norms_keeps_the_bits_of_the_two_passes() {
        use super::{DataOp, LinOp, MatrixRef, Par, COL_NORM_PARTIALS_MAX, ROW_CHUNK};
        let n = 20_000; // three row chunks
        let a = crate::problems::random_sparse(n, 37, 5, crate::Seed::new(8)).unwrap();
        let av = MatrixRef::sparse(&a).unwrap();
        let x: Vec<f64> = (0..37).map(|j| (j as f64 * 0.37).sin()).collect();
        // u_i = A x − b vanishes on every tenth row: b is A x there.
        let ax = {
            let op = DataOp::new(av, Par::Seq).unwrap();
            let mut ax = vec![0.0; n];
            op.apply(&x, &mut ax);
            ax
        };
        let b: Vec<f64> = (0..n)
            .map(|i| if i % 10 == 0 { ax[i] } else { (i as f64).cos() })
            .collect();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for par in [Par::Seq, Par::rayon(2)] {
            let op = DataOp::new(av, par).unwrap();
            let (mut u1, mut out1) = (b.clone(), vec![0.0; 37]);
            op.apply_fused(&x, 1.0, &mut u1, &mut out1);
            let (mut u2, mut out2) = (b.clone(), vec![0.0; 37]);
            let norms = op
                .apply_fused_with_col_norms(&x, 1.0, &mut u2, &mut out2)
                .expect("CSR is fused");
            assert_eq!(bits(&u1), bits(&u2));
            assert_eq!(bits(&out1), bits(&out2));
            assert_eq!(bits(&norms), bits(&op.col_norms_sq()));
            assert!(u2.iter().filter(|&&v| v == 0.0).count() >= n / 10);
            // From x = 0 (the products skipped): u = −b and Aᵀu exactly as `apply_t` gives it.
            let (mut u0, mut out0) = (b.clone(), vec![0.0; 37]);
            let norms0 = op
                .apply_fused_with_col_norms(&[0.0; 37], 1.0, &mut u0, &mut out0)
                .unwrap();
            let minus_b: Vec<f64> = b.iter().map(|v| -v).collect();
            let mut atu = vec![0.0; 37];
            op.apply_t(&minus_b, &mut atu);
            assert_eq!(bits(&u0), bits(&minus_b));
            assert_eq!(bits(&out0), bits(&atu));
            assert_eq!(bits(&norms0), bits(&norms));
            let (mut u3, mut out3) = (b.clone(), vec![0.0; 37]);
            op.apply_fused(&[-0.0; 37], 1.0, &mut u3, &mut out3);
            assert_eq!((bits(&u3), bits(&out3)), (bits(&minus_b), bits(&atu)));
        }
        // Dense, column-major on 1 and 2 threads and strided (the transpose of a row-major
        // copy, whose products are faer's other kernels but whose column sums take the same
        // lanes): per view (u, Aᵀu, norms) of a pass from x and of one from x = 0.
        let dense = av.to_dense().unwrap();
        let row_major = dense.transpose().to_owned();
        let strided = row_major.transpose();
        assert!(strided.col(0).try_as_col_major().is_none());
        let sparse_norms = DataOp::new(av, Par::Seq).unwrap().col_norms_sq();
        let minus_b: Vec<f64> = b.iter().map(|v| -v).collect();
        let mut runs = Vec::new();
        for (view, par) in [
            (dense.as_ref(), Par::Seq),
            (dense.as_ref(), Par::rayon(2)),
            (strided, Par::rayon(2)),
        ] {
            let op = DataOp::new(MatrixRef::dense(view).unwrap(), par).unwrap();
            let mut passes = Vec::new();
            for x in [x.clone(), vec![0.0; 37]] {
                let (mut u1, mut out1) = (b.clone(), vec![0.0; 37]);
                op.apply_fused(&x, 1.0, &mut u1, &mut out1);
                let (mut u2, mut out2) = (b.clone(), vec![0.0; 37]);
                let norms = op
                    .apply_fused_with_col_norms(&x, 1.0, &mut u2, &mut out2)
                    .expect("dense is fused");
                assert!(bits(&u1) == bits(&u2) && bits(&out1) == bits(&out2));
                assert!(bits(&norms) == bits(&op.col_norms_sq()));
                passes.push((bits(&u2), bits(&out2), bits(&norms)));
            }
            assert!(passes[0].2 == passes[1].2, "the norms do not depend on x");
            assert!(passes[1].0 == bits(&minus_b), "from x = 0, u = −b");
            for (p, q) in passes[0]
                .2
                .iter()
                .map(|&p| f64::from_bits(p))
                .zip(&sparse_norms)
            {
                assert!((p - q).abs() <= 1e-14 * q, "{p} vs {q}");
            }
            runs.push(passes);
        }
        assert!(runs[0] == runs[1], "1 and 2 threads");
        assert!(
            runs[1][0].2 == runs[2][0].2,
            "column-major and strided norms"
        );
        // A CSR `A` whose chunked column sums would be too many is declined, untouched.
        let (n, d) = (ROW_CHUNK * 257, 1 << 16);
        assert!(257 * d > COL_NORM_PARTIALS_MAX);
        let tall = sprs::TriMat::<f64>::new((n, d)).to_csr::<usize>();
        let op = DataOp::new(MatrixRef::sparse(&tall).unwrap(), Par::Seq).unwrap();
        let mut u = vec![1.0; n];
        assert!(op
            .apply_fused_with_col_norms(&vec![0.0; d], 1.0, &mut u, &mut vec![0.0; d])
            .is_none());
        assert!(u.iter().all(|&v| v == 1.0), "declined without touching u");
    }

    /// A `d` whose `d·d` overflows a `usize` (`d = 2³²`, which `DataOp::new` admits for a
    /// sparse `A`: at most `2³²` columns) is refused as too large; `d * d` panicked with
    /// "attempt to multiply with overflow" (and wrapped to 0 in a release build).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn gram_from_rows_refuses_a_d_whose_square_overflows() {
        let row = |_: usize| -> (&[u32], &[f64]) { (&[], &[]) };
        let d = 1usize << 32;
        match super::gram_from_rows(0, d, row, faer::Par::Seq) {
            Err(crate::Error::TooLarge { what, .. }) => {
                assert!(what.contains("Gram matrix AᵀA"), "{what}")
            }
            other => panic!("expected TooLarge, got {:?}", other.map(|g| g.nrows())),
        }
    }

    /// The `TooLarge` error for an unallocatable `AᵀA` names it once: the helpers add "the"
    /// themselves, and were handed "the Gram matrix AᵀA", so the messages read "the the Gram
    /// matrix AᵀA" (sparse, column blocks) and "the 2147483648×2147483648 the Gram matrix AᵀA"
    /// (dense). `d = 2³¹` (`2⁶²` entries) cannot be allocated.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_unallocatable_gram_matrix_is_named_once() {
        let d = 1usize << 31;
        let row = |_: usize| -> (&[u32], &[f64]) { (&[], &[]) };
        let sparse = super::gram_from_rows(0, d, row, faer::Par::Seq).map(|g| g.nrows());
        let view = faer::MatRef::<f64>::from_column_major_slice(&[], 0, d);
        let op = super::DataOp::new(crate::MatrixRef::Dense(view), faer::Par::Seq).unwrap();
        let dense = op.gram().map(|g| g.nrows());
        for got in [sparse, dense] {
            match got {
                Err(crate::Error::TooLarge { what, .. }) => {
                    assert!(what.contains("Gram matrix AᵀA"), "{what}");
                    assert_eq!(what.matches("the").count(), 1, "{what}");
                }
                other => panic!("expected TooLarge, got {other:?}"),
            }
        }
    }

    /// [`super::gram_from_rows`] on both of its schemes (`d = 300` by row chunks, `d = 700` by
    /// column blocks): exactly symmetric; the same bits on one thread and on 2 and 7 (the block
    /// width and the row chunks' waves, 7 then 1, follow the thread count); within
    /// `4·k·u·Σ|a_ij·a_ik|` of a dense reference. For
    /// the column blocks the bits are also those of the plain sum over the rows in row order,
    /// the scheme's contract.
    #[test]
    fn gram_from_rows_is_symmetric_thread_invariant_and_accurate() {
        use faer::Par;
        for d in [300usize, 700] {
            let n = 3000;
            let a = crate::problems::random_sparse(n, d, 40, crate::Seed::new(d as u64)).unwrap();
            let ip = a.indptr().raw_storage().to_vec();
            let (ind, dat) = (a.indices(), a.data());
            let row = |i: usize| (&ind[ip[i]..ip[i + 1]], &dat[ip[i]..ip[i + 1]]);
            let g1 = super::gram_from_rows(n, d, row, Par::Seq).unwrap();
            for t in [2, 7] {
                let gt = super::gram_from_rows(n, d, row, Par::rayon(t)).unwrap();
                for j in 0..d {
                    for i in 0..d {
                        assert_eq!(gt[(i, j)].to_bits(), g1[(i, j)].to_bits(), "d {d} t {t}");
                    }
                }
            }
            let mut plain = vec![0.0f64; d * d];
            let mut abs = vec![0.0f64; d * d];
            for i in 0..n {
                let (idx, val) = row(i);
                for (p, (&j, &vj)) in idx.iter().zip(val).enumerate() {
                    for (&k, &vk) in idx[p..].iter().zip(&val[p..]) {
                        plain[j * d + k] += vj * vk;
                        abs[j * d + k] += (vj * vk).abs();
                    }
                }
            }
            for j in 0..d {
                for k in j..d {
                    assert_eq!(g1[(k, j)].to_bits(), g1[(j, k)].to_bits(), "d {d}");
                    let err = (g1[(k, j)] - plain[j * d + k]).abs();
                    assert!(err <= 4.0 * 40.0 * f64::EPSILON * abs[j * d + k], "d {d}");
                    if d > super::GRAM_ROW_CHUNKS_MAX_D {
                        assert_eq!(g1[(k, j)].to_bits(), plain[j * d + k].to_bits(), "d {d}");
                    }
                }
            }
        }
    }

    /// At `d = 512`, the largest `d` of the row-chunk scheme ([`super::GRAM_ROW_CHUNKS_MAX_D`]),
    /// `gram_from_rows` has the bits of its documented order, recomputed here by plain loops:
    /// 8 chunks of `⌈n/8⌉` rows (`n = 2003`, so the last chunk is short), each summed in row order
    /// from zero, the chunks then added in chunk order; on 1 thread and 3 (waves of 3, 3, 2).
    /// Kills the scheme's threshold `d ≤ 512` read as `d < 512` (the column blocks, whose bits
    /// are the plain row-order sums, then run at `d = 512`; both schemes are thread-invariant and
    /// equally accurate, so only the documented order separates them).
    #[test]
    fn gram_from_rows_at_the_row_chunk_limit_sums_eight_chunks_in_order() {
        use faer::Par;
        let (n, d) = (2003usize, super::GRAM_ROW_CHUNKS_MAX_D);
        let a = crate::problems::random_sparse(n, d, 40, crate::Seed::new(5)).unwrap();
        let ip = a.indptr().raw_storage().to_vec();
        let (ind, dat) = (a.indices(), a.data());
        let row = |i: usize| (&ind[ip[i]..ip[i + 1]], &dat[ip[i]..ip[i + 1]]);
        let per = n.div_ceil(8);
        let mut want = vec![0.0f64; d * d];
        for c in 0..8 {
            let mut part = vec![0.0f64; d * d];
            for i in c * per..((c + 1) * per).min(n) {
                let (idx, val) = row(i);
                for (p, (&j, &vj)) in idx.iter().zip(val).enumerate() {
                    for (&k, &vk) in idx[p..].iter().zip(&val[p..]) {
                        part[j * d + k] += vj * vk;
                    }
                }
            }
            want.iter_mut().zip(&part).for_each(|(w, p)| *w += p);
        }
        for par in [Par::Seq, Par::rayon(3)] {
            let g = super::gram_from_rows(n, d, row, par).unwrap();
            for j in 0..d {
                for k in j..d {
                    let w = want[j * d + k].to_bits();
                    assert_eq!(g[(k, j)].to_bits(), w, "({k}, {j}) {par:?}");
                    assert_eq!(g[(j, k)].to_bits(), w, "({j}, {k}) {par:?}");
                }
            }
        }
    }

    /// `abs_power_norm` against a plain computation of `‖|A|ᵖ(|A|ᵀ|A|)ʲ|x|‖` (all terms
    /// non-negative, so both agree to a relative `(2j + p)·n·u`; checked at `10⁻¹²`), on CSR,
    /// CSC, dense and strided dense views of one matrix with three row chunks, `j = 0…2`,
    /// `p = 0, 1`; the same bits on 1 and 2 threads for each view.
    #[test]
    fn abs_power_norm_matches_a_plain_computation_on_every_layout_and_thread_count() {
        use super::{DataOp, MatrixRef, Par};
        let (n, d) = (20_000, 23);
        let a = crate::problems::random_sparse(n, d, 4, crate::Seed::new(9)).unwrap();
        let csc = a.to_csc();
        let dense = MatrixRef::sparse(&a).unwrap().to_dense().unwrap();
        let row_major = dense.transpose().to_owned();
        let x: Vec<f64> = (0..d)
            .map(|k| (k as f64 * 0.71).cos() * 3f64.powi(k as i32 % 5 - 2))
            .collect();
        let plain = |j: usize, p: usize| {
            let mut v: Vec<f64> = x.iter().map(|t| t.abs()).collect();
            let av = |v: &[f64]| -> Vec<f64> {
                (0..n)
                    .map(|i| (0..d).map(|k| dense[(i, k)].abs() * v[k]).sum())
                    .collect()
            };
            for _ in 0..j {
                let w = av(&v);
                v = (0..d)
                    .map(|k| (0..n).map(|i| dense[(i, k)].abs() * w[i]).sum())
                    .collect();
            }
            if p == 1 {
                v = av(&v);
            }
            norm2(&v)
        };
        let views = [
            MatrixRef::sparse(&a).unwrap(),
            MatrixRef::sparse(&csc).unwrap(),
            MatrixRef::dense(dense.as_ref()).unwrap(),
            MatrixRef::dense(row_major.transpose()).unwrap(),
        ];
        for j in 0..3 {
            for p in 0..2 {
                let want = plain(j, p);
                for (k, view) in views.iter().enumerate() {
                    let one = DataOp::new(*view, Par::Seq)
                        .unwrap()
                        .abs_power_norm(&x, j, p);
                    let two = DataOp::new(*view, Par::rayon(2))
                        .unwrap()
                        .abs_power_norm(&x, j, p);
                    let one = one.expect("finite");
                    assert_eq!(
                        Some(one.to_bits()),
                        two.map(f64::to_bits),
                        "view {k} j {j} p {p}"
                    );
                    assert!(
                        (one - want).abs() <= 1e-12 * want,
                        "view {k} j {j} p {p}: {one} vs {want}"
                    );
                }
            }
        }
        // Overflow is None, not infinity.
        let op = DataOp::new(views[0], Par::Seq).unwrap();
        assert_eq!(op.abs_power_norm(&vec![1e300; d], 2, 1), None);
    }
}
