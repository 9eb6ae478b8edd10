//! Sparse sign embeddings (OSNAP) — and the kernel CountSketch shares.

use super::kernels::{self, Access, ColAccess, RowAccess, ENTRY_MARGIN, PANEL_BYTES};
use super::{check_block, check_dims, check_output_finite, dense_zeros, SketchOperator};
use crate::error::{Error, Result};
use crate::input::{MatrixRef, SparseRef};
use crate::scalar::Scalar;
use crate::seed::{below, keyed_word, splitmix64, streams, Seed};
use faer::{Mat, MatMut, Par};
use rayon::prelude::*;

/// Input rows whose column-of-`S` codes are generated together (a constant, never a function of
/// the thread count). 8192 rows × 8 codes × 4 bytes = 256 KiB: it stays in L2. The row kernel on
/// large outputs and the column kernel on dense columns use larger blocks
/// ([`partitioned_block_rows`], [`DENSE_COL_BLOCK`]); CSC columns and small outputs use this.
/// Every block is capped at [`MAX_BLOCK_CODES`] codes, which binds only for `s > 256`.
const ROW_BLOCK: usize = 8192;

/// Nonzeros per column up to which [`SparseSign::encode_column`] checks the rows already taken
/// by a linear search rather than a hash set.
const LINEAR_MEMBERSHIP_UP_TO: usize = 64;

/// The increment of the SplitMix64 sequence that [`SparseSign::encode_column`] hashes.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Outputs of the row kernel larger than this many bytes are filled by row partitions instead of
/// column panels (see [`SparseSign::accumulate_rows`]). Below it the output stays in the caches
/// near the cores well enough that sorting codes by partition costs more than it saves: at
/// `m = 400, d = 200` (640 kB) skipping partitions took CountSketch from 9.8 to 6.0 ns/nnz and
/// sparse sign `s = 8` from 38 to 21 ns/nnz (`examples/sketch_cpu`, one thread, 2e7 nnz).
const PARTITION_ABOVE: usize = 4 * 1024 * 1024;

/// Input bytes per row block of the partitioned row kernel (see [`partitioned_block_rows`]).
const BLOCK_INPUT_BYTES: usize = 8 << 20;

/// At most this many codes (`rows × s`) are hashed per block, by every kernel that hashes a
/// block of rows: the code table (and, in the partitioned row kernel, its copy sorted by
/// partition) then takes at most 25 MB. It shrinks blocks of [`ROW_BLOCK`] rows only for
/// `s > 256`, of [`DENSE_COL_BLOCK`] rows for `s > 64`, and the partitioned row kernel's blocks
/// only for rows under `4s` bytes; without it `s` near `m` asked for `8192·s` codes, gigabytes
/// at `s = 10⁵`.
const MAX_BLOCK_CODES: usize = 1 << 21;

/// `rows` capped so that a block hashes at most [`MAX_BLOCK_CODES`] codes (at least one row).
fn capped_block_rows(rows: usize, s: usize) -> usize {
    rows.min((MAX_BLOCK_CODES / s.max(1)).max(1))
}

/// Input rows per block of the row kernel when it fills the output by row partitions, for input
/// rows of `row_bytes` bytes on average and `s` nonzeros per column of `S`.
///
/// Each block sweeps the whole output once (every partition is brought into a core's cache to
/// receive the block's codes) and reads each of its input rows `s` times, once per code. Fixed
/// blocks of [`ROW_BLOCK`] rows made the sweeps dominate: at `s = 8` an output entry received
/// under one update per sweep. Blocks of about 8 MiB of input (never fewer than `ROW_BLOCK`
/// rows) keep the input block and a 16 MB output together in a 32 MB L3. Measured, medians of
/// 5, sparse sign `s = 8` on CSR, 2 threads (1 thread), scratch harness alternating block sizes
/// on the same sketch, 2026-12-01:
/// - 2·10⁵ × 500, 25 per row, `m = 4000` (the least-squares bench's illmix): 142 → 106 ms
///   (188 → 143 ms); blocks of 4 or 16 MiB took 114 and 119 ms;
/// - 2·10⁶ × 500, 4 per row, `m = 4000`: 470 → 344 ms (901 → 538 ms);
/// - outputs larger than the L3 (61 and 122 MB) and rows of ≈ 1 kB: within the noise.
///
/// The bits do not depend on the block size (each output entry receives its contributions in
/// ascending input-row order whatever the blocks), only the time does.
fn partitioned_block_rows(row_bytes: usize, s: usize) -> usize {
    capped_block_rows((BLOCK_INPUT_BYTES / row_bytes.max(1)).max(ROW_BLOCK), s)
}

/// Input rows per block of the column kernel on dense columns. Each block sweeps every output
/// column once; a dense column reads the block's code table in order, so the table need not stay
/// in L2 and a larger block only saves sweeps. Measured (medians of 5, `s = 8`, 2 threads,
/// scratch harness alternating block sizes, 2026-12-01): 50 000 × 1000 at `m = 8000` (a 64 MB
/// output) 321–384 → 299–338 ms, 50 000 × 500 at `m = 6000` 132–160 → 113–132 ms; outputs of
/// 0.6–4 MB within the noise. CSC columns keep [`ROW_BLOCK`]: they read the table at random rows.
const DENSE_COL_BLOCK: usize = 32_768;

/// Width of the column panels the row kernel works on: one panel per task, or the whole width
/// when the output is large enough to be filled by row partitions.
fn row_kernel_panel_width<T>(m: usize, d: usize, tasks: usize) -> usize {
    if m * d * std::mem::size_of::<T>() > PARTITION_ABOVE {
        d
    } else {
        kernels::chunk_len(d, tasks)
    }
}

/// Whether CountSketch adds a block of rows straight into the output's columns
/// ([`SparseSign::add_rows_to_columns`]) instead of the row kernel's row-major work copy: when
/// the block stores at most [`DIRECT_ENTRIES_PER_OUTPUT`] entries per output entry, filling,
/// zeroing and transposing the copy costs more than the scattered column writes save. Only for
/// outputs the row kernel fills on one thread anyway (up to [`PARTITION_ABOVE`] bytes, see
/// [`row_kernel_par`]).
///
/// `col_stride` is the output's column stride in scalars. When it is a multiple of 4096 bytes
/// (`m = 512, 1024, …` in f64) the entries of one input row land in a single L1 set of 8 ways,
/// of 2048 bytes in two: there the direct path pays off only for fewer entries, a quarter or one
/// per output entry. Measured (throwaway harness, one thread, best of 1000, `d = 200`, 10⁵
/// entries, 25 a row, direct against work copy, 2026-12-02): `m = 512` 531 against 225 µs,
/// `m = 1024` 534 / 335, `m = 2048` (0.24 entries per output entry) 581 / 683, `m = 256` 213 /
/// 162, `m = 768` (0.65) 255 / 287; unaffected strides `m = 384, 400, 640` 171 / 194,
/// 168 / 193, 194 / 258. With this rule, old build against new: `m = 256` 213 → 168 µs,
/// `m = 512` 503 → 223, `m = 1024` 482 → 364, `m = 400, 768, 2048` unchanged.
fn count_goes_direct<T: Scalar>(
    rows: &RowAccess<'_, T>,
    k: usize,
    (m, d): (usize, usize),
    col_stride: usize,
) -> bool {
    let stored = match rows {
        RowAccess::Csr(a) => a.nnz() as u128,
        RowAccess::Dense(_) => k as u128 * d as u128,
    };
    let entries = m as u128 * d as u128;
    let stride_bytes = col_stride as u128 * std::mem::size_of::<T>() as u128;
    // Stored entries per output entry, in quarters.
    let quarters: u128 = if d == 1 || !stride_bytes.is_multiple_of(2048) {
        4 * DIRECT_ENTRIES_PER_OUTPUT as u128
    } else if !stride_bytes.is_multiple_of(4096) {
        4
    } else {
        1
    };
    entries * std::mem::size_of::<T>() as u128 <= PARTITION_ABOVE as u128
        && 4 * stored <= quarters * entries
}

/// Stored entries per output entry up to which CountSketch writes straight into the output's
/// columns (see [`count_goes_direct`]). Measured on the benches' CSR (25 entries per row,
/// `m = 400`, `d = 200`, one thread), `SketchExt::apply` in a throwaway harness, best of
/// 1000–6000 calls, the previous build against this one, 2026-12-02: at 0.31 entries per output
/// entry (2.5·10⁴ stored) 106 → 46 µs, at 1.25 200 → 169–170 µs, at 1.9 279 → 256 µs, at 2.5
/// equal (340–343 µs both), at 3.75 457–484 → 511–521 µs (slower: hence 2). Output columns
/// 2048 or 4096 bytes apart lower it to 1 or ¼ (see [`count_goes_direct`]).
const DIRECT_ENTRIES_PER_OUTPUT: usize = 2;

/// The parallelism the row kernel actually uses. CountSketch (`s = 1`) on an output small enough
/// for column panels stays on one thread: a panel task binary-searches every input row for its
/// columns, which costs more than the one read-modify-write per entry it shares out (2 threads
/// were slower than one: 130–157 ms against 112–117 ms at m = 400, d = 200, 5e7 nnz,
/// `examples/sketch_cpu --threads`).
fn row_kernel_par<T>(m: usize, d: usize, s: usize, par: Par) -> Par {
    if s == 1 && m * d * std::mem::size_of::<T>() <= PARTITION_ABOVE {
        Par::Seq
    } else {
        par
    }
}

/// Whether the column kernel should hash each stored entry's row on its own
/// ([`SparseSign::accumulate_entries`]) rather than hash the rows of each block once for all
/// columns ([`SparseSign::accumulate_cols`]), for a CSC block of `k` rows, `d` columns, `nnz`
/// entries, `s` nonzeros per column of `S` and an output of `out_bytes`. Both give the same
/// bits; this only picks the faster.
///
/// The block kernel hashes every row of the blocks it visits and walks the columns once per
/// block ([`kernels::block_walk_ps`]); it visits at most `min(⌈k/ROW_BLOCK⌉, nnz)` blocks, since
/// it skips runs of empty rows. The entry kernel hashes once per stored entry. Both make the same
/// `s·nnz` additions. The entry kernel must win by [`ENTRY_MARGIN`] in the model.
///
/// Measured with a scratch harness that timed both kernels forced and the rule (one thread,
/// release; 29 random CSC shapes with `k = 10⁴…10⁶` rows, `d = 10²…10⁶` columns,
/// `nnz = 2.5·10⁵…4·10⁶`, from `k/4` to 400 per row, `s = 1, 8, 32`, `m = 8…64`): where the rule
/// picks the entry kernel, that kernel was 2.6–11× faster; where it keeps the block kernel, the
/// entry kernel was at most 2.2× faster (and up to 2.6× slower). A hypersparse input (16 000
/// columns of one entry, rows 2²⁰ apart) took 1.98 s with the block kernel and 15 ms with the entry
/// kernel: the block kernel is `O(nnz·d)` there.
fn hash_entries(k: usize, d: usize, nnz: usize, s: usize, out_bytes: u128) -> bool {
    let blocks = k.div_ceil(ROW_BLOCK).min(nnz) as u128;
    let rows_hashed = (k as u128).min(blocks * ROW_BLOCK as u128);
    let s = s as u128;
    // s < m < 2³¹ (SparseSign::new), but saturate anyway.
    let hash = HASH_PS
        .saturating_add(HASH_PS_PER_NONZERO.saturating_mul(s))
        .saturating_add(HASH_PS_PER_PAIR.saturating_mul(s).saturating_mul(s));
    let block_cost = rows_hashed
        .saturating_mul(hash)
        .saturating_add(kernels::block_walk_ps(blocks, d, nnz, out_bytes));
    (nnz as u128)
        .saturating_mul(hash)
        .saturating_mul(ENTRY_MARGIN)
        < block_cost
}

/// Measured cost of generating one column of `S` (Floyd's sampling compares each new row with
/// the ones drawn before it): about `8000 + 2000·s + 375·s²` picoseconds, a fit (10.4, 48 and
/// 456 ns at `s = 1, 8, 32`) to the 10, 40 and 420 ns measured on a `10⁶ × 1` input with one
/// entry per row.
///
/// Since [`SparseSign::encode_column`] draws a column's candidates before checking them
/// (2026-12-02), `S·x` over 10⁶ columns measured 11, 33–36 and 272–291 ns per column at
/// `s = 2, 8, 32`, where the model says 13.5, 48 and 456: it now overstates the hashing by
/// 1.2–1.6×. The constants are kept. Overstating the hash makes [`hash_entries`] pick the
/// entry kernel a little less often than it would win, so the rule errs toward the block kernel.
const HASH_PS: u128 = 8_000;
const HASH_PS_PER_NONZERO: u128 = 2_000;
const HASH_PS_PER_PAIR: u128 = 375;

/// A sparse sign embedding (OSNAP): each column of the `m × n` matrix `S` has exactly `s`
/// nonzeros, at distinct rows drawn uniformly without replacement, each `±1/√s` with independent
/// fair signs.
///
/// `E‖Sx‖² = ‖x‖²` for every `x`. With `s = O(log(d/δ)/ε)` and `m = O(d·log(d/δ)/ε²)` it is an
/// ε-subspace embedding for any fixed `d`-dimensional subspace with probability `1 − δ`
/// (Nelson–Nguyễn, arXiv 1211.1002; Cohen, arXiv 1507.02268). In practice `s = 8` at
/// `m = 2d` gives distortion κ(SQ) ≈ 5 for preconditioning (`tests/sketch_core.rs`), on coherent
/// matrices too — unlike [`CountSketch`](super::CountSketch).
///
/// # Performance
/// `S·A` costs `O(s·nnz(A) + m·d)` time and `O(m·d)` extra memory (the output and a contiguous
/// work copy of it, row-major for row access: peak 2.1–2.2·(8·m·d) bytes measured on CSR and
/// dense `20 000 × 200`, `m = 2000`); generating `S` costs `O(s²)` per column for `s ≤ 64`
/// (Floyd's sampling without replacement, rows taken checked by a linear search) and `O(s)`
/// expected above (a hash set), and nothing is stored: column `j` is regenerated from
/// `(seed, j)`.
///
/// # Errors
/// Applying it (any [`SketchOperator`] or [`SketchExt`](super::SketchExt) method) returns
/// [`Error::NonFinite`], never ±∞ or NaN, when `S·A` overflows the scalar type (entries of `A`
/// within a factor of about `√(n/m)` of its largest value for typical data, up to `n·√s/m` for
/// data whose signs follow the sketch's); scale `A` down by a power of two (see
/// [`SketchOperator::apply_block_into`], also for the state of an accumulated output).
///
/// # References
/// J. Nelson, H. L. Nguyễn, "OSNAP: Faster numerical linear algebra algorithms via sparser subspace
/// embeddings", FOCS 2013, arXiv 1211.1002. RandBLAS's `SparseDist`/`SparseSkOp` follow the same
/// distribution.
///
/// # Examples
///
/// ```
/// use randnla::sketch::{SparseSign, SketchExt};
/// use randnla::{MatrixRef, Seed};
/// let s = SparseSign::new(64, 1000, 8, Seed::new(7)).unwrap();
/// let x = vec![1.0; 1000];
/// let sx = s.apply_vec(&x).unwrap();
/// assert_eq!(sx.len(), 64);
/// // ‖Sx‖² is an unbiased estimate of ‖x‖² = 1000.
/// let norm2: f64 = sx.iter().map(|v| v * v).sum();
/// assert!(norm2 > 500.0 && norm2 < 2000.0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparseSign {
    m: usize,
    n: usize,
    s: usize,
    seed: Seed,
    /// `seed.stream_key(SPARSE_ROWS)` and `seed.stream_key(SPARSE_SIGNS)`, computed once: a
    /// column's words are then one SplitMix64 round each instead of three (the same words).
    row_key: u64,
    sign_key: u64,
}

impl SparseSign {
    /// The recommended number of nonzeros per column.
    pub const DEFAULT_NNZ_PER_COL: usize = 8;

    /// The `m × n` sparse sign sketch with `s` nonzeros per column, drawn from `seed`. With
    /// `s = 1` it is the [`CountSketch`](super::CountSketch) of the same seed, bit for bit, and
    /// its [`name`](Self::name) says so (`"count"`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] named `m` for `m = 0` or `m ≥ 2³¹`, `n` for `n = 0`, and
    /// `nnz_per_col` (as [`SketchKind::SparseSign`](super::SketchKind::SparseSign) calls `s`)
    /// for `s = 0`, `s > m` or `s > 2²¹` (a column's codes must fit one hashed block of 2²¹
    /// codes; at that density the sketch has long stopped being sparse).
    pub fn new(m: usize, n: usize, s: usize, seed: Seed) -> Result<Self> {
        check_dims(m, n)?;
        if m >= 1 << 31 {
            return Err(Error::param(
                "m",
                format!("the sketch dimension m (rows of S) = {m} must be below 2^31"),
            ));
        }
        if s == 0 || s > m {
            return Err(Error::param(
                "nnz_per_col",
                format!("s = {s} must satisfy 1 ≤ s ≤ m = {m}"),
            ));
        }
        if s > MAX_BLOCK_CODES {
            return Err(Error::param(
                "nnz_per_col",
                format!("s = {s} exceeds the limit of {MAX_BLOCK_CODES}"),
            ));
        }
        Ok(SparseSign {
            m,
            n,
            s,
            seed,
            row_key: seed.stream_key(streams::SPARSE_ROWS),
            sign_key: seed.stream_key(streams::SPARSE_SIGNS),
        })
    }

    /// Nonzeros per column (`s`).
    pub fn nnz_per_col(&self) -> usize {
        self.s
    }

    /// Column `j` of `S` as `(row, value)` pairs, `value = ±1/√s`, in generation order.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `j ≥ n`.
    pub fn column(&self, j: usize) -> Result<Vec<(usize, f64)>> {
        if j >= self.n {
            return Err(Error::param(
                "j",
                format!("column {j} is outside 0..{}", self.n),
            ));
        }
        let mut codes = vec![0u32; self.s];
        self.encode_column(j, &mut codes);
        let scale = 1.0 / (self.s as f64).sqrt();
        Ok(codes
            .iter()
            .map(|&c| {
                let v = if c & 1 == 1 { -scale } else { scale };
                ((c >> 1) as usize, v)
            })
            .collect())
    }

    /// Writes the `s` codes `(row << 1) | negative` of column `j` into `dst` (`dst.len() == s`).
    ///
    /// Rows are a uniform `s`-subset of `0..m` by Floyd's algorithm on a SplitMix64 sequence
    /// keyed by `(seed, j)`: step `t` draws `r` uniform in `0..=m−s+t` and takes `r`, or
    /// `m−s+t` when `r` was taken before. Signs are the bits of an independent word (a fresh
    /// word per 64 rows).
    ///
    /// Up to [`LINEAR_MEMBERSHIP_UP_TO`] nonzeros all candidates `r` are drawn first (they do
    /// not depend on each other, so the CPU overlaps their hashing) and the rows already taken
    /// are then searched linearly (`O(s²)`, fastest for small `s`); `s = 2, 4, 8` have loops of
    /// fixed length. Above it a hash set keeps the cost `O(s)`. Every path gives the same codes.
    ///
    /// # Performance
    /// Per code, `S·x` over 10⁶ columns, `m = 400`, one thread, best of 11, two alternating
    /// runs against the single loop that drew and checked each row in turn (2026-12-02):
    /// `s = 2` 6.3–9.5 → 5.3–5.5 ns, `s = 4` 5.3–5.7 → 4.4–4.5, `s = 8` 5.5–5.6 → 4.1–4.5,
    /// `s = 32` 11.7–13.6 → 8.5–9.1, `s = 64` 21–24 → 9.7–10.2. On `S·A` (8·10⁵ × 200 CSR,
    /// 25 per row, `s = 8`, one thread) best of 9: 149–157 → 139–149 ms in three alternating
    /// runs. The generic two-phase loop is a little slower than the single loop at `s = 3`
    /// (5.6–5.8 → 6.0–6.1 ns) and `s = 16` (7.3–7.5 → 8.1–8.3): its searches end at a
    /// different length every step, with no hashing left to overlap the mispredicted exits; a
    /// fixed-length loop for `s = 16` was slower still (10.5 ns). These are throwaway harnesses
    /// (not in the repository) timing `SketchExt::apply_vec` and `SketchExt::apply` on this VM.
    ///
    /// The hash set: `S·x` over 1000 columns, `m = 5000`: 132 ms against 1.78 s for the linear
    /// search at `s = 4096`, 15 against 73 ms at `s = 512`, 1.9 against 1.7 ms at `s = 65`
    /// (scratch harness, 2026-12-01).
    #[inline]
    pub(crate) fn encode_column(&self, j: usize, dst: &mut [u32]) {
        match self.s {
            2 => self.encode_few::<2>(j, dst),
            4 => self.encode_few::<4>(j, dst),
            8 => self.encode_few::<8>(j, dst),
            s if s <= LINEAR_MEMBERSHIP_UP_TO => {
                let mut rows = [0u32; LINEAR_MEMBERSHIP_UP_TO];
                let rows = &mut rows[..s];
                self.draw_candidates(j, rows);
                let first = (self.m - s) as u32;
                for t in 1..s {
                    if rows[..t].contains(&rows[t]) {
                        rows[t] = first + t as u32;
                    }
                }
                self.write_codes(j, rows, dst);
            }
            _ => self.encode_hashed(j, dst),
        }
    }

    /// [`encode_column`](Self::encode_column) for `s = S ≤ 64`, with loops of fixed length.
    #[inline(always)]
    fn encode_few<const S: usize>(&self, j: usize, dst: &mut [u32]) {
        let mut rows = [0u32; S];
        self.draw_candidates(j, &mut rows);
        // Rows taken so far; u32::MAX is never a row (m < 2³¹) and stands for "none yet".
        let mut taken = [u32::MAX; S];
        let first = (self.m - S) as u32;
        for t in 0..S {
            let r = rows[t];
            let seen = taken.iter().fold(false, |any, &x| any | (x == r));
            taken[t] = if seen { first + t as u32 } else { r };
        }
        self.write_codes(j, &taken, dst);
    }

    /// The candidates of Floyd's algorithm for column `j`: `rows[t]` uniform in
    /// `0..=m − s + t` (`s = rows.len()`), before any is replaced.
    #[inline(always)]
    fn draw_candidates(&self, j: usize, rows: &mut [u32]) {
        let first = (self.m - rows.len()) as u64;
        let state = keyed_word(self.row_key, j as u64);
        for (t, r) in rows.iter_mut().enumerate() {
            let word = splitmix64(state.wrapping_add((t as u64 + 1).wrapping_mul(GOLDEN_GAMMA)));
            *r = below(word, first + t as u64 + 1) as u32;
        }
    }

    /// `dst[t] = (rows[t] << 1) | sign bit t` of column `j`, for `s ≤ 64` rows (one sign word).
    #[inline(always)]
    fn write_codes(&self, j: usize, rows: &[u32], dst: &mut [u32]) {
        let signs = keyed_word(self.sign_key, j as u64);
        for (t, (code, &row)) in dst.iter_mut().zip(rows).enumerate() {
            *code = (row << 1) | ((signs >> t) & 1) as u32;
        }
    }

    /// [`encode_column`](Self::encode_column) for `s > 64`: a hash set of the rows taken, and a
    /// fresh sign word per 64 rows.
    fn encode_hashed(&self, j: usize, dst: &mut [u32]) {
        let m = self.m as u64;
        let s = self.s as u64;
        let mut state = keyed_word(self.row_key, j as u64);
        let sign_base = keyed_word(self.sign_key, j as u64);
        let mut signs = sign_base;
        let mut taken = std::collections::HashSet::<u32>::with_capacity(self.s);
        for (t, jj) in (m - s..m).enumerate() {
            state = state.wrapping_add(GOLDEN_GAMMA);
            let r = below(splitmix64(state), jj + 1) as u32;
            // Floyd: when r was taken, jj (larger than every earlier candidate) cannot have been.
            let row = if taken.contains(&r) { jj as u32 } else { r };
            taken.insert(row);
            if t > 0 && t % 64 == 0 {
                signs = splitmix64(sign_base ^ (t / 64) as u64);
            }
            let neg = ((signs >> (t % 64)) & 1) as u32;
            dst[t] = (row << 1) | neg;
        }
    }

    /// The code of column `j` when `s = 1` (CountSketch): what [`encode_column`] writes, from
    /// one iteration of its loop with nothing taken before it, computed without the loop.
    ///
    /// On CountSketch over CSR with 25 entries per row, `encode_column` took 12% of `S·A`.
    ///
    /// [`encode_column`]: Self::encode_column
    #[inline(always)]
    fn count_code(&self, j: usize) -> u32 {
        let state = keyed_word(self.row_key, j as u64).wrapping_add(GOLDEN_GAMMA);
        let row = below(splitmix64(state), self.m as u64) as u32;
        let neg = (keyed_word(self.sign_key, j as u64) & 1) as u32;
        (row << 1) | neg
    }

    /// Fills `table` with the codes of columns `first .. first + table.len()/s`.
    fn encode_range(&self, first: usize, table: &mut [u32], par: Par) {
        let s = self.s;
        let fill = |(k, chunk): (usize, &mut [u32])| {
            if s == 1 {
                for (t, code) in chunk.iter_mut().enumerate() {
                    *code = self.count_code(first + k * 1024 + t);
                }
                return;
            }
            for (t, codes) in chunk.chunks_mut(s).enumerate() {
                self.encode_column(first + k * 1024 + t, codes);
            }
        };
        if kernels::tasks(par) > 1 {
            table.par_chunks_mut(1024 * s).enumerate().for_each(fill);
        } else {
            table.chunks_mut(1024 * s).enumerate().for_each(fill);
        }
    }

    /// Fills `table` with the codes of columns `first + rows[t]`, `t = 0 .. table.len()/s`: the
    /// listed rows of a block that skips its empty rows (see [`BlockRows`]). The same codes as
    /// [`encode_range`](Self::encode_range) gives those columns, shared among the tasks alike.
    fn encode_listed(&self, first: usize, rows: &[usize], table: &mut [u32], par: Par) {
        let s = self.s;
        let fill = |(k, chunk): (usize, &mut [u32])| {
            if s == 1 {
                for (code, &i) in chunk.iter_mut().zip(&rows[k * 1024..]) {
                    *code = self.count_code(first + i);
                }
                return;
            }
            for (codes, &i) in chunk.chunks_mut(s).zip(&rows[k * 1024..]) {
                self.encode_column(first + i, codes);
            }
        };
        if kernels::tasks(par) > 1 {
            table.par_chunks_mut(1024 * s).enumerate().for_each(fill);
        } else {
            table.chunks_mut(1024 * s).enumerate().for_each(fill);
        }
    }

    fn scale<T: Scalar>(&self) -> T {
        T::from_f64(1.0 / (self.s as f64).sqrt())
    }

    /// Row-oriented kernel (CSR or row-major input): each input row is added, times `±1/√s`,
    /// into the `s` output rows of its column of `S`.
    ///
    /// Two layouts of the work, chosen by [`row_kernel_panel_width`] from the output's size:
    ///
    /// * **Column panels** (output up to [`PARTITION_ABOVE`] bytes): the `m × d` output is cut
    ///   into one column panel per task, each stored row-major on its own (see
    ///   [`kernels::load_row_panels`]); a task reads only its panel's columns of each input row,
    ///   so the tasks share no reads or writes and together do the work of one sequential pass.
    /// * **Row partitions** (larger outputs, `panel_width == d`): each block's codes are sorted
    ///   by output-row partition of [`PANEL_BYTES`] (a counting sort, stable in the input row) and
    ///   every partition is filled from the input rows that reach it, so its read-modify-writes
    ///   stay in one core's L2. Partitions are disjoint output rows, so tasks take whole
    ///   partitions and no code is visited twice. Blocks hold about 8 MiB of input
    ///   ([`partitioned_block_rows`]), fewer sweeps over the output than `ROW_BLOCK` rows.
    ///
    /// On CSR input with empty rows, blocks hold up to their row count of *stored* rows and hash
    /// only those ([`BlockRows::Listed`]), so the cost is `O(s²·stored rows + s·nnz + m·d)` plus
    /// a scan of the `k + 1` row pointers that skips empty runs
    /// ([`kernels::count_stored_rows`], [`kernels::next_stored_row`]); inputs that store every
    /// row are hashed block by block in bulk, as before.
    ///
    /// Either way each output entry receives its contributions in ascending input-row order, as
    /// in the column kernel, so the bits do not depend on the layout, the blocks or the number of
    /// tasks.
    #[allow(clippy::too_many_arguments)]
    fn accumulate_rows<T: Scalar>(
        &self,
        row_offset: usize,
        rows: &RowAccess<'_, T>,
        k: usize,
        work: &mut [T],
        panels: kernels::RowPanels,
        par: Par,
    ) {
        let (m, s) = (self.m, self.s);
        let (panel_width, stride) = (panels.w, panels.stride);
        let scale: T = self.scale();
        let partitioned = panel_width * m * std::mem::size_of::<T>() > PARTITION_ABOVE;
        // Output rows per partition: one partition fits `PANEL_BYTES`; at most ROW_BLOCK
        // partitions, so sorting codes by partition costs O(block) per block.
        let part_rows = if partitioned {
            (PANEL_BYTES / (stride * std::mem::size_of::<T>()).max(1))
                .max(1)
                .max(m.div_ceil(ROW_BLOCK))
        } else {
            m
        };
        let parts = m.div_ceil(part_rows);
        // CSR rows that store no entry add nothing: hashing their columns of `S` anyway made the
        // cost O(s²·k) for any nnz (4.7 s at s = 8 for 5·10⁷ rows and one entry). The stored
        // rows are counted, and when some are empty each block lists its stored rows and hashes
        // only those (see `BlockRows`); neither walk visits every row of long empty runs.
        let pointers = match rows {
            RowAccess::Csr(a) => Some(a.raw_parts().0),
            RowAccess::Dense(_) => None,
        };
        let stored = pointers.map_or(k, kernels::count_stored_rows);
        let block_rows = if partitioned {
            partitioned_block_rows(rows.mean_row_bytes(stored), s)
        } else {
            capped_block_rows(ROW_BLOCK, s)
        };
        let mut table = vec![0u32; block_rows.min(stored) * s];
        let mut listed: Vec<usize> = Vec::with_capacity(if stored < k {
            block_rows.min(stored)
        } else {
            0
        });
        // (index of the input row in the block, code), sorted by partition, ascending in the row
        // within each.
        let mut entries: Vec<(u32, u32)> = Vec::new();
        let mut starts = vec![0usize; parts + 1];
        let mut lo = 0;
        while lo < k {
            let (block, hi) = match pointers {
                Some(p) if stored < k => {
                    // The next `block_rows` stored rows; when they are consecutive rows, they are
                    // hashed in bulk like a block of an input without empty rows.
                    listed.clear();
                    let mut i = kernels::next_stored_row(p, lo);
                    while i < k && listed.len() < block_rows {
                        listed.push(i);
                        i = kernels::next_stored_row(p, i + 1);
                    }
                    let (Some(&first), Some(&last)) = (listed.first(), listed.last()) else {
                        break;
                    };
                    if listed.len() == last + 1 - first {
                        (BlockRows::Range(first), last + 1)
                    } else {
                        (BlockRows::Listed(&listed), last + 1)
                    }
                }
                _ => {
                    let hi = lo.saturating_add(block_rows).min(k);
                    (BlockRows::Range(lo), hi)
                }
            };
            let len = match block {
                BlockRows::Range(lo) => hi - lo,
                BlockRows::Listed(l) => l.len(),
            };
            let table = &mut table[..len * s];
            match block {
                BlockRows::Range(lo) => self.encode_range(row_offset + lo, table, par),
                BlockRows::Listed(l) => self.encode_listed(row_offset, l, table, par),
            }
            let table = &*table;
            if partitioned {
                starts.fill(0);
                for &code in table.iter() {
                    starts[(code >> 1) as usize / part_rows + 1] += 1;
                }
                for q in 0..parts {
                    starts[q + 1] += starts[q];
                }
                let mut next = starts[..parts].to_vec();
                entries.clear();
                entries.resize(table.len(), (0, 0));
                for (i, codes) in table.chunks_exact(s).enumerate() {
                    for &code in codes {
                        let slot = &mut next[(code >> 1) as usize / part_rows];
                        entries[*slot] = (i as u32, code);
                        *slot += 1;
                    }
                }
                let (entries, starts) = (&entries, &starts);
                let d = panel_width;
                let fill = |(q, part): (usize, &mut [T])| {
                    // See `run` below.
                    crate::cpu::clear_upper_vector_state();
                    let mine = &entries[starts[q]..starts[q + 1]];
                    let first = q * part_rows;
                    // One loop per kind of block, as in the column panels below.
                    match block {
                        BlockRows::Range(lo) => {
                            add_entries_to_partition(
                                mine,
                                |t| lo + t,
                                rows,
                                part,
                                (first, d, stride),
                                scale,
                            );
                        }
                        BlockRows::Listed(listed) => {
                            let row_of = |t| listed[t];
                            add_entries_to_partition(
                                mine,
                                row_of,
                                rows,
                                part,
                                (first, d, stride),
                                scale,
                            );
                        }
                    }
                };
                if kernels::tasks(par) > 1 {
                    work.par_chunks_mut(part_rows * stride)
                        .enumerate()
                        .for_each(fill);
                } else {
                    work.chunks_mut(part_rows * stride)
                        .enumerate()
                        .for_each(fill);
                }
                lo = hi;
                continue;
            }
            let run = |(p, panel): (usize, &mut [T])| {
                // After a faer GEMM on the thread, s = 8 took 0.119–0.122 s against 0.091–0.093 s
                // with this (2·10⁵ × 500 CSR, 25 a row, m = 4000, one thread; CountSketch
                // 0.036–0.038 against 0.032–0.033 s).
                crate::cpu::clear_upper_vector_state();
                let (c0, w) = (p * panel_width, panels.width(p));
                // (offset of the target row in `panel`, ±1/√s) for the codes of one input row.
                let mut targets: Vec<(usize, T)> = Vec::with_capacity(s);
                let (panel, targets) = (&mut *panel, &mut targets);
                // One loop per kind of block, each compiled on its own, so that a block of
                // consecutive rows runs the loop it always did (a closure shared by both loops
                // was not inlined: 4% more instructions for a whole `sketch_cpu`-like run at
                // s = 1 and 8, by callgrind).
                match block {
                    BlockRows::Range(lo) => {
                        let pairs = (lo..).zip(table.chunks_exact(s));
                        add_rows_to_panel(pairs, rows, panel, (c0, w, stride, s), scale, targets);
                    }
                    BlockRows::Listed(listed) => {
                        let pairs = listed.iter().copied().zip(table.chunks_exact(s));
                        add_rows_to_panel(pairs, rows, panel, (c0, w, stride, s), scale, targets);
                    }
                }
            };
            if kernels::tasks(par) > 1 {
                work.par_chunks_mut(panels.panel_len())
                    .enumerate()
                    .for_each(run);
            } else {
                work.chunks_mut(panels.panel_len())
                    .enumerate()
                    .for_each(run);
            }
            lo = hi;
        }
    }

    /// CountSketch (`s = 1`) of rows added straight into the output's columns (`cols[c]` is
    /// column `c`, contiguous), for inputs small next to the output ([`count_goes_direct`]): no
    /// row-major work copy to fill, zero and transpose back. Each stored row `i` adds
    /// `±scale·a_i` into output row `h(i)`, rows in ascending order, so every output entry sums
    /// its contributions in the order of the row kernel: the same bits.
    fn add_rows_to_columns<T: Scalar>(
        &self,
        row_offset: usize,
        rows: &RowAccess<'_, T>,
        k: usize,
        cols: &mut [&mut [T]],
    ) {
        let scale: T = self.scale();
        let d = cols.len();
        // CSR rows that store nothing are skipped in runs (a hypersparse input declares many).
        let pointers = match rows {
            RowAccess::Csr(a) => Some(a.raw_parts().0),
            RowAccess::Dense(_) => None,
        };
        let next = |i: usize| pointers.map_or(i, |p| kernels::next_stored_row(p, i));
        let mut i = next(0);
        while i < k {
            let code = self.count_code(row_offset + i);
            let coef = if code & 1 == 1 { -scale } else { scale };
            let r = (code >> 1) as usize;
            rows.prefetch_after(i);
            rows.for_each_in(i, 0, d, |c, v| cols[c][r] += coef * v);
            i = next(i + 1);
        }
    }

    /// Column-oriented kernel for CSC input that stores few entries per row: each stored entry
    /// hashes its own column of `S` (`O(s²)` each) instead of the rows of a block sharing one
    /// table, so the cost is `O(nnz·s² + m·d)` whatever the declared row count, with no walk over
    /// row blocks. The entries of a column are visited in ascending row order and each adds
    /// `±(scale·v)` as in [`accumulate_cols`](Self::accumulate_cols): the bits are the same.
    fn accumulate_entries<T: Scalar>(
        &self,
        row_offset: usize,
        csc: &SparseRef<'_, T>,
        work: &mut [T],
        par: Par,
    ) {
        let scale: T = self.scale();
        let codes = || vec![0u32; self.s];
        kernels::for_each_csc_entry(csc, work, self.m, par, codes, |codes, col, i, v| {
            self.encode_column(row_offset + i, codes);
            let sv = scale * v;
            let pm = [sv, -sv];
            for &code in codes.iter() {
                col[(code >> 1) as usize] += pm[(code & 1) as usize];
            }
        });
    }

    /// Column-oriented kernel: output columns are independent; within one, input rows are visited
    /// in ascending order.
    ///
    /// # Errors
    /// As [`kernels::column_cursors`].
    fn accumulate_cols<T: Scalar>(
        &self,
        row_offset: usize,
        cols: &ColAccess<'_, T>,
        k: usize,
        work: &mut [T],
        d: usize,
        par: Par,
    ) -> Result<()> {
        let (m, s) = (self.m, self.s);
        let scale: T = self.scale();
        let tasks = kernels::tasks(par);
        let cols_per_task = kernels::chunk_len(d, tasks);
        let mut cursors = kernels::column_cursors(d)?;
        // Dense columns read the whole code table in order, so a larger block costs nothing in
        // locality and saves sweeps over the output (see `DENSE_COL_BLOCK`).
        let block_rows = match cols {
            ColAccess::Dense(_) => capped_block_rows(DENSE_COL_BLOCK, s),
            ColAccess::Csc(_) => capped_block_rows(ROW_BLOCK, s),
        };
        let mut table = vec![0u32; block_rows.min(k) * s];
        let (mut lo, mut skipped) = (0, false);
        while lo < k {
            let mut hi = lo.saturating_add(block_rows).min(k);
            if skipped {
                // Rows are sparse here: hash only up to the block's last stored row.
                hi = cols.stored_end(&cursors, lo, hi).max(lo + 1);
            }
            let table = &mut table[..(hi - lo) * s];
            self.encode_range(row_offset + lo, table, par);
            let table = &*table;
            let run = |(t, (part, curs)): (usize, (&mut [T], &mut [usize]))| {
                for (cc, (col, cur)) in part.chunks_mut(m).zip(curs.iter_mut()).enumerate() {
                    let c = t * cols_per_task + cc;
                    if s == 1 {
                        // CountSketch: one code per row, read directly (the same arithmetic as
                        // the general loop, so the same bits). Criterion medians, CSC 25 per
                        // row, m = 400, d = 200, one thread, 2026-12-03: 362 → 266 µs at 10⁵
                        // entries, 3.65 → 2.61 ms at 10⁶, 36.1 → 34.8 ms at 10⁷ (memory-bound);
                        // dense 50 000 × 1000 into m = 2000, best of 5: 0.263 → 0.169 s (one
                        // thread), 0.118 → 0.090 s (two).
                        cols.for_each(c, lo, hi, cur, |i, v| {
                            let code = table[i - lo];
                            let sv = scale * v;
                            col[(code >> 1) as usize] += [sv, -sv][(code & 1) as usize];
                        });
                        continue;
                    }
                    cols.for_each(c, lo, hi, cur, |i, v| {
                        // Indexed by the sign bit: no data-dependent branch (a random sign
                        // mispredicts half the time). (−scale)·v == −(scale·v) exactly, so the
                        // bits equal those of the row kernel's `coef * v`.
                        let sv = scale * v;
                        let pm = [sv, -sv];
                        for &code in &table[(i - lo) * s..(i - lo + 1) * s] {
                            col[(code >> 1) as usize] += pm[(code & 1) as usize];
                        }
                    });
                }
            };
            lo = kernels::for_column_chunks_then_resume(
                cols,
                work,
                &mut cursors,
                m,
                cols_per_task,
                tasks,
                (hi, k),
                run,
            );
            skipped = lo > hi;
        }
        Ok(())
    }
}

/// Adds each input row `i` of `pairs`, times `±scale`, into the output rows its codes name, in
/// one column panel of the row kernel (columns `c0 .. c0 + w`, stored row-major in `panel` with
/// row stride `stride`, see [`kernels::RowPanels`]);
/// `s` codes per row, `targets` is scratch space for them. Rows in the order given (ascending).
#[inline(always)]
fn add_rows_to_panel<'c, T: Scalar>(
    pairs: impl Iterator<Item = (usize, &'c [u32])>,
    rows: &RowAccess<'_, T>,
    panel: &mut [T],
    (c0, w, stride, s): (usize, usize, usize, usize),
    scale: T,
    targets: &mut Vec<(usize, T)>,
) {
    for (i, codes) in pairs {
        rows.prefetch_after(i);
        if s == 1 {
            let code = codes[0];
            let coef = if code & 1 == 1 { -scale } else { scale };
            let base = (code >> 1) as usize * stride;
            let dst = &mut panel[base..base + w];
            rows.for_each_in(i, c0, c0 + w, |c, v| dst[c - c0] += coef * v);
            continue;
        }
        targets.clear();
        targets.extend(codes.iter().map(|&code| {
            let coef = if code & 1 == 1 { -scale } else { scale };
            ((code >> 1) as usize * stride, coef)
        }));
        rows.for_each_in(i, c0, c0 + w, |c, v| {
            let c = c - c0;
            for &(base, coef) in targets.iter() {
                panel[base + c] += coef * v;
            }
        });
    }
}

/// Adds, for each `(t, code)` of `entries` (a block's codes that fall in one row partition of
/// the row kernel, ascending in `t`), input row `row_of(t)` times `±scale` into output row
/// `code >> 1`, stored row-major (`d` columns, row stride `stride`) in `part` from output row
/// `first` on.
#[inline(always)]
fn add_entries_to_partition<T: Scalar>(
    entries: &[(u32, u32)],
    row_of: impl Fn(usize) -> usize,
    rows: &RowAccess<'_, T>,
    part: &mut [T],
    (first, d, stride): (usize, usize, usize),
    scale: T,
) {
    for (k, &(t, code)) in entries.iter().enumerate() {
        if let Some(&(next, _)) = entries.get(k + PARTITION_LOOKAHEAD) {
            rows.prefetch_row(row_of(next as usize));
        }
        let coef = if code & 1 == 1 { -scale } else { scale };
        let base = ((code >> 1) as usize - first) * stride;
        let dst = &mut part[base..base + d];
        rows.for_each_in(row_of(t as usize), 0, d, |c, v| dst[c] += coef * v);
    }
}

/// How many entries ahead the partitioned row kernel prefetches the input row it will read.
const PARTITION_LOOKAHEAD: usize = 4;

/// The input rows of one block of the row kernel, in ascending order; the block's code table
/// holds their columns of `S` in the same order.
#[derive(Clone, Copy)]
enum BlockRows<'l> {
    /// Every row from the given one to the block's end, hashed in bulk by
    /// [`SparseSign::encode_range`]: a block of an input without empty rows (dense, or CSR
    /// storing every row), or a run of consecutive stored rows.
    Range(usize),
    /// The CSR rows that store entries, for a block that has empty rows.
    Listed(&'l [usize]),
}

impl<T: Scalar> SketchOperator<T> for SparseSign {
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
        if self.s == 1 {
            "count"
        } else {
            "sparse-sign"
        }
    }

    fn apply_block_into(
        &self,
        row_offset: usize,
        block: MatrixRef<'_, T>,
        mut out: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        check_block(self.m, self.n, row_offset, &block, &out)?;
        let (k, d) = (block.nrows(), block.ncols());
        if k == 0 || d == 0 {
            return Ok(());
        }
        match Access::of(block) {
            Access::Rows(rows) => {
                let col_stride = out.col_stride().unsigned_abs();
                if self.s == 1 && count_goes_direct(&rows, k, (self.m, d), col_stride) {
                    if let Some(mut cols) = kernels::contiguous_columns(out.as_mut()) {
                        self.add_rows_to_columns(row_offset, &rows, k, &mut cols);
                        return check_output_finite(out.as_ref());
                    }
                }
                let par = row_kernel_par::<T>(self.m, d, self.s, par);
                let w = row_kernel_panel_width::<T>(self.m, d, kernels::tasks(par));
                let panels = kernels::RowPanels::new::<T>(self.m, d, w);
                let mut work = kernels::load_row_panels(&out, panels)?;
                self.accumulate_rows(row_offset, &rows, k, &mut work, panels, par);
                kernels::store_row_panels(&work, out.as_mut(), panels);
            }
            Access::Cols(cols) => {
                let mut work = kernels::try_load_col_major(&out)?;
                match &cols {
                    ColAccess::Csc(csc)
                        if hash_entries(
                            k,
                            d,
                            csc.nnz(),
                            self.s,
                            kernels::out_bytes::<T>(self.m, d),
                        ) =>
                    {
                        self.accumulate_entries(row_offset, csc, &mut work, par)
                    }
                    _ => self.accumulate_cols(row_offset, &cols, k, &mut work, d, par)?,
                }
                kernels::store_col_major(&work, out.as_mut());
            }
        }
        check_output_finite(out.as_ref())
    }

    fn to_dense(&self) -> Result<Mat<T>> {
        let mut out = dense_zeros::<T>(self.m, self.n)?;
        let mut codes = vec![0u32; self.s];
        let scale: T = self.scale();
        for j in 0..self.n {
            self.encode_column(j, &mut codes);
            for &code in &codes {
                out[((code >> 1) as usize, j)] = if code & 1 == 1 { -scale } else { scale };
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::random_sparse;

    /// Every path of `encode_column` (fixed loops for s = 2, 4, 8, two phases up to 64, the hash
    /// set above) against Floyd's algorithm written out step by step, rows and signs. Small `m`
    /// makes replacements frequent (at m = s every step after a collision replaces).
    #[test]
    fn every_membership_path_draws_floyds_codes() {
        /// The codes, and how many steps replaced a candidate already taken.
        fn floyd(op: &SparseSign, j: usize) -> (Vec<u32>, usize) {
            let (m, s) = (op.m as u64, op.s as u64);
            let mut state = op.seed.word(streams::SPARSE_ROWS, j as u64);
            let signs = |t: usize| {
                let base = op.seed.word(streams::SPARSE_SIGNS, j as u64);
                let word = if t < 64 {
                    base
                } else {
                    splitmix64(base ^ (t / 64) as u64)
                };
                ((word >> (t % 64)) & 1) as u32
            };
            let (mut rows, mut replaced): (Vec<u32>, usize) = (Vec::new(), 0);
            for jj in m - s..m {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let r = below(splitmix64(state), jj + 1) as u32;
                let taken = rows.contains(&r);
                replaced += usize::from(taken);
                rows.push(if taken { jj as u32 } else { r });
            }
            let codes = rows
                .iter()
                .enumerate()
                .map(|(t, &row)| (row << 1) | signs(t))
                .collect();
            (codes, replaced)
        }
        let mut replaced = vec![0usize; 66];
        for (m, s) in [
            (2, 2),
            (3, 2),
            (4, 4),
            (9, 4),
            (8, 8),
            (9, 8),
            (400, 8),
            (5, 3),
            (64, 33),
            (64, 64),
            (1000, 64),
            (100, 65),
            (100, 100),
            (1000, 200),
            (5000, 4096),
            (1 << 20, 300),
            ((1 << 31) - 1, 8),
        ] {
            let op = SparseSign::new(m, usize::MAX, s, Seed::new(77)).unwrap();
            let mut codes = vec![0u32; s];
            for j in (0..50).chain([1 << 40, usize::MAX - 1]) {
                op.encode_column(j, &mut codes);
                let (expected, replacements) = floyd(&op, j);
                assert_eq!(codes, expected, "m = {m}, s = {s}, column {j}");
                replaced[if s > 64 { 65 } else { s }] += replacements;
                let mut rows: Vec<u32> = codes.iter().map(|c| c >> 1).collect();
                rows.sort_unstable();
                rows.dedup();
                assert_eq!(rows.len(), s, "distinct rows, m = {m}, s = {s}");
                assert!(rows.iter().all(|&r| (r as usize) < m));
            }
        }
        // Every path met the replacement step many times (index 65: the hash set, s > 64).
        for k in [2, 3, 4, 8, 33, 64, 65] {
            assert!(replaced[k] >= 20, "path {k}: {} replacements", replaced[k]);
        }
    }

    #[test]
    fn count_code_is_the_code_encode_column_writes() {
        for m in [1, 2, 3, 400, 1 << 20, (1 << 31) - 1] {
            for seed in [0, 5, u64::MAX] {
                let op = SparseSign::new(m, usize::MAX, 1, Seed::new(seed)).unwrap();
                let mut code = [0u32];
                for j in [0, 1, 2, 999, 1 << 40, usize::MAX - 1] {
                    op.encode_column(j, &mut code);
                    assert_eq!(
                        op.count_code(j),
                        code[0],
                        "m = {m}, seed {seed}, column {j}"
                    );
                }
            }
        }
    }

    /// Runs the block kernel and the entry kernel on the same CSC block, both accumulating into
    /// the same nonzero starting output, and returns both work buffers as f64 (exact for f32).
    fn both_kernels<T: Scalar>(
        op: &SparseSign,
        row_offset: usize,
        a: SparseRef<'_, T>,
        par: Par,
    ) -> (Vec<f64>, Vec<f64>) {
        let (k, d) = (a.nrows(), a.ncols());
        let start: Vec<T> = (0..op.m * d)
            .map(|i| T::from_f64((i as f64 * 0.37).sin()))
            .collect();
        let mut blocks = start.clone();
        op.accumulate_cols(row_offset, &ColAccess::Csc(a), k, &mut blocks, d, par)
            .unwrap();
        let mut entries = start;
        op.accumulate_entries(row_offset, &a, &mut entries, par);
        let wide = |v: Vec<T>| v.into_iter().map(T::to_f64).collect();
        (wide(blocks), wide(entries))
    }

    fn assert_same_bits(x: &[f64], y: &[f64], what: &str) {
        assert_eq!(x.len(), y.len(), "{what}");
        for (i, (a, b)) in x.iter().zip(y).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{what}: entry {i}: {a} vs {b}");
        }
    }

    #[test]
    fn entry_and_block_kernels_give_the_same_bits() {
        // Tall, wide, and one entry per row; then a hypersparse block whose stored rows are
        // 2^20 apart (the block kernel skips the empty runs between them), and a block with
        // explicitly stored zeros and empty columns.
        let mut cases: Vec<(String, sprs::CsMat<f64>)> =
            [(20_000, 7, 3), (50, 300, 2), (9000, 40, 1)]
                .into_iter()
                .map(|(n, d, r)| {
                    let a = random_sparse(n, d, r, crate::Seed::new(n as u64)).unwrap();
                    (format!("{n}x{d}, {r} per row"), a.to_csc())
                })
                .collect();
        // Two entries per column, rows scrambled across the columns.
        let d = 300;
        let mut tri = sprs::TriMat::new((1usize << 40, d));
        for t in 0..2 * d {
            tri.add_triplet((t * 7919 % (2 * d)) << 20, t / 2, 1.0 + t as f64 / 7.0);
        }
        cases.push(("hypersparse 2^40 x 300".into(), tri.to_csc()));
        // Every third column empty, every fifth stored value an explicit ±0.
        let mut tri = sprs::TriMat::new((5000, 30));
        for t in 0..900usize {
            let (row, col) = (t * 4099 % 5000, t % 30);
            if col % 3 != 0 {
                let sign = if t % 2 == 0 { 1.0 } else { -1.0 };
                let v = if t % 5 == 0 {
                    sign * 0.0
                } else {
                    sign * (1.0 + t as f64)
                };
                tri.add_triplet(row, col, v);
            }
        }
        cases.push(("zeros and empty columns".into(), tri.to_csc()));
        for (name, a) in &cases {
            let Ok(MatrixRef::Sparse(view)) = MatrixRef::sparse(a) else {
                panic!("{name}: not a valid sparse matrix");
            };
            let a32 = a.map(|&v| v as f32);
            let Ok(MatrixRef::Sparse(view32)) = MatrixRef::sparse(&a32) else {
                panic!("{name}: the f32 copy is not a valid sparse matrix");
            };
            for s in [1, 3, 8] {
                for row_offset in [0, 12_345] {
                    let op =
                        SparseSign::new(64, a.rows() + row_offset, s, crate::Seed::new(9)).unwrap();
                    for par in [Par::Seq, Par::rayon(2), Par::rayon(3)] {
                        let what = format!("{name}, s = {s}, offset {row_offset}, {par:?}");
                        let (blocks, entries) = both_kernels(&op, row_offset, view, par);
                        assert_same_bits(&blocks, &entries, &what);
                        let (blocks, entries) = both_kernels(&op, row_offset, view32, par);
                        assert_same_bits(&blocks, &entries, &format!("f32, {what}"));
                    }
                }
            }
        }
    }

    /// CountSketch's direct column path and the row kernel, on the same rows (CSR, CSR with long
    /// runs of empty rows, dense rows; f64 and f32), both accumulating into the same nonzero
    /// output that holds −0 entries: the same bits.
    #[test]
    fn count_direct_path_and_row_kernel_give_the_same_bits() {
        fn both<T: Scalar>(
            op: &SparseSign,
            row_offset: usize,
            rows: &RowAccess<'_, T>,
            k: usize,
            d: usize,
        ) -> (Vec<f64>, Vec<f64>) {
            let m = op.m;
            let start = Mat::<T>::from_fn(m, d, |i, j| {
                if (i + j) % 5 == 0 {
                    T::from_f64(-0.0)
                } else {
                    T::from_f64(((i * d + j) as f64 * 0.37).sin())
                }
            });
            let mut direct = start.clone();
            let Some(mut cols) = kernels::contiguous_columns(direct.as_mut()) else {
                panic!("a Mat has contiguous columns");
            };
            op.add_rows_to_columns(row_offset, rows, k, &mut cols);
            let mut kernel = start.clone();
            let panels = kernels::RowPanels::new::<T>(m, d, d);
            let mut work = kernels::load_row_panels(&kernel.as_mut(), panels).unwrap();
            op.accumulate_rows(row_offset, rows, k, &mut work, panels, Par::Seq);
            kernels::store_row_panels(&work, kernel.as_mut(), panels);
            let flat = |x: &Mat<T>| {
                (0..d)
                    .flat_map(|j| (0..m).map(move |i| (i, j)))
                    .map(|(i, j)| x[(i, j)].to_f64())
                    .collect::<Vec<f64>>()
            };
            (flat(&direct), flat(&kernel))
        }
        let a = random_sparse(3000, 20, 4, crate::Seed::new(31)).unwrap();
        // Stored rows 2^10 apart: the direct path must skip the empty runs, as the kernel does.
        let mut tri = sprs::TriMat::new((200 << 10, 12));
        for t in 0..200usize {
            tri.add_triplet(t << 10, t % 12, 1.0 + t as f64);
            tri.add_triplet(t << 10, (t * 5 + 1) % 12, -2.0 - t as f64);
        }
        let hyper = tri.to_csr();
        // 512 columns: rows of 2048 (f32) and 4096 (f64) bytes, padded in the kernel's copy.
        let wide = random_sparse(400, 512, 30, crate::Seed::new(32)).unwrap();
        for (name, a) in [("random", &a), ("hypersparse", &hyper), ("wide", &wide)] {
            let (k, d) = (a.rows(), a.cols());
            let a32 = a.map(|&v| v as f32);
            let (Ok(MatrixRef::Sparse(v64)), Ok(MatrixRef::Sparse(v32))) =
                (MatrixRef::sparse(a), MatrixRef::sparse(&a32))
            else {
                panic!("{name}: not a valid sparse matrix");
            };
            for row_offset in [0, 777] {
                let op = SparseSign::new(48, k + row_offset, 1, crate::Seed::new(5)).unwrap();
                let what = format!("{name}, offset {row_offset}");
                let (x, y) = both(&op, row_offset, &RowAccess::Csr(v64), k, d);
                assert_same_bits(&x, &y, &what);
                let (x, y) = both(&op, row_offset, &RowAccess::Csr(v32), k, d);
                assert_same_bits(&x, &y, &format!("f32, {what}"));
                if k < 10_000 {
                    // The same rows dense and row-major (zeros are skipped by both paths).
                    let t = MatrixRef::Sparse(v64)
                        .to_dense()
                        .unwrap()
                        .transpose()
                        .to_owned();
                    let (x, y) = both(&op, row_offset, &RowAccess::Dense(t.transpose()), k, d);
                    assert_same_bits(&x, &y, &format!("dense rows, {what}"));
                }
            }
        }
    }

    /// The rule sends CountSketch straight into the output only for small inputs next to small
    /// outputs.
    #[test]
    fn count_goes_direct_only_for_few_entries_per_output_entry() {
        let a = random_sparse(4000, 200, 25, crate::Seed::new(3)).unwrap();
        let Ok(MatrixRef::Sparse(v)) = MatrixRef::sparse(&a) else {
            panic!("not a valid sparse matrix");
        };
        let rows = RowAccess::Csr(v);
        // 10⁵ entries: 1.25 per entry of a 400 × 200 output (direct), 12.5 of a 40 × 200 one
        // (work copy); a 2000 × 200 output (3.2 MB) is direct by count, a 40 000 × 200 one is over
        // PARTITION_ABOVE (partitioned kernel).
        let rule = |m, stride| count_goes_direct::<f64>(&rows, 4000, (m, 200), stride);
        assert!(rule(400, 400));
        assert!(!rule(40, 40));
        assert!(rule(2000, 2000));
        assert!(!rule(40_000, 40_000));
        // Column strides of 4096 bytes: direct up to a quarter entry per output entry (10⁵
        // entries: 0.98 per entry at m = 512, 0.24 at 2048); of 2048 bytes up to one.
        assert!(!rule(512, 512));
        assert!(!rule(1024, 1024));
        assert!(rule(2048, 2048));
        assert!(!rule(256, 256));
        assert!(rule(768, 768));
        // A padded stride is not penalized.
        assert!(rule(512, 520));
    }

    #[test]
    fn cost_rule_hashes_entries_only_where_it_wins_by_far() {
        let rule = |k, d, nnz, s, m| hash_entries(k, d, nnz, s, kernels::out_bytes::<f64>(m, d));
        // Block kernel: the lstsq bench's tall problem, 4 entries per row, and three wide
        // shapes where it was measured 1.8–2.6× faster (a review found them picked wrongly by
        // an earlier rule).
        assert!(!rule(200_000, 500, 4_900_000, 8, 4000));
        assert!(!rule(1_000_000, 100, 4_000_000, 1, 64));
        assert!(!rule(100_000, 100_000, 3_000_000, 8, 8));
        assert!(!rule(10_000, 1_000_000, 1_400_000, 32, 32));
        assert!(!rule(10_000, 1_000_000, 4_000_000, 8, 16));
        // Entry kernel: fewer entries than rows, very wide, or hypersparse (measured 3–11×
        // faster, and O(nnz) instead of O(nnz·d) when the rows are far apart).
        assert!(rule(1_000_000, 100, 250_000, 8, 64));
        assert!(rule(1_000_000, 10_000, 1_000_000, 8, 64));
        assert!(rule(1_000_000, 100_000, 4_000_000, 1, 64));
        assert!(rule(1 << 40, 16_000, 16_000, 8, 64));
        assert!(rule(usize::MAX, usize::MAX, 3, 8, 64));
    }
}
