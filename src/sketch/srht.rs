//! The subsampled randomized Hadamard transform.

use super::kernels;
use super::{check_block, check_dims, check_output_finite, dense_zeros, SketchOperator};
use crate::error::{Error, Result};
use crate::input::filled_or_too_large;
use crate::input::MatrixRef;
use crate::scalar::Scalar;
use crate::seed::{below, splitmix64, streams, Seed};
use faer::{Mat, MatMut, Par};
use std::collections::HashSet;
use std::sync::Mutex;

/// Largest padded length accepted (`2^30`): the transform works on one length-`n'` column at a
/// time.
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
/// thread (and an `O(nnz(A))` CSC copy of a CSR input, whose columns it transforms); the
/// operator stores the `m` selected row indices. A sparse column of `c` entries with
/// `c·m ≤ n'/32` is transformed entry by entry instead, in `O(c·m·log n')` and without the
/// buffer (same bits), so hypersparse columns cost little; any denser column still costs a whole
/// length-`n'` transform, so on sparse data prefer [`SparseSign`](super::SparseSign).
/// Row-block merging (`apply_block_into` at an offset) is exact in exact arithmetic; each call
/// transforms every column of the block in full unless the column is sparse enough for the
/// entry-by-entry path.
///
/// # Errors
/// Applying it (any [`SketchOperator`] or [`SketchExt`](super::SketchExt) method) returns
/// [`Error::NonFinite`], never ±∞ or NaN, when the transform overflows the scalar type. The
/// unnormalized Hadamard sums come before the `1/√m` scale, so entries of `A` within a factor of
/// about `n'` of the largest value can overflow (and `∞ − ∞` gives NaN) even where the scaled
/// result would fit; scale `A` down by a power of two (see
/// [`SketchOperator::apply_block_into`], also for the state of an accumulated output).
///
/// # References
/// N. Ailon, B. Chazelle, "The fast Johnson–Lindenstrauss transform", STOC 2006;
/// J. A. Tropp, "Improved analysis of the subsampled randomized Hadamard transform", arXiv
/// 1011.1595; H. Avron, P. Maymounkov, S. Toledo, "Blendenpik", SIAM J. Sci. Comput. 2010.
///
/// # Examples
///
/// ```
/// use randnla::sketch::{SketchExt, SketchOperator, Srht};
/// use randnla::Seed;
/// // n need not be a power of two: the transform pads to n' = 1024 internally.
/// let s = Srht::new(64, 1000, Seed::new(3))?;
/// assert_eq!((s.nrows(), s.ncols()), (64, 1000));
/// let x: Vec<f64> = (0..1000).map(|i| (i as f64).sin()).collect();
/// let sx = s.apply_vec(&x)?;
/// // The SRHT is an isometry in expectation: ‖Sx‖² ≈ ‖x‖².
/// let (nx, nsx): (f64, f64) = (
///     x.iter().map(|v| v * v).sum(),
///     sx.iter().map(|v| v * v).sum(),
/// );
/// assert!(nsx > 0.5 * nx && nsx < 1.5 * nx, "{nsx} vs {nx}");
/// # Ok::<(), randnla::Error>(())
/// ```
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
    /// [`Error::InvalidParameter`] named `m` for `m = 0` or `m > n'`, `n` for `n = 0` or
    /// `n > 2^30`;
    /// [`Error::TooLarge`] when the `m` selected rows (or the set used to draw them) cannot be
    /// allocated.
    pub fn new(m: usize, n: usize, seed: Seed) -> Result<Self> {
        check_dims(m, n)?;
        if n > 1 << MAX_LOG2_PAD {
            return Err(Error::param(
                "n",
                format!("the input dimension n = {n} exceeds the SRHT limit of 2^{MAX_LOG2_PAD}"),
            ));
        }
        let n_pad = n.next_power_of_two();
        if m > n_pad {
            return Err(Error::param(
                "m",
                format!(
                    "the sketch dimension m (rows of S) = {m} exceeds the padded input \
                     dimension n' = {n_pad}"
                ),
            ));
        }
        let rows = selected_rows(m, n_pad, seed, m > n_pad / 64)?;
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

/// Floyd's algorithm: a uniform `m`-subset of `0..n_pad`, ascending. Membership is a hash set
/// (`bitmap == false`, for small `m`) or a bitmap of `n_pad` bits (at most 128 MB); both draw the
/// same subset.
///
/// # Errors
/// [`Error::TooLarge`] when the allocator refuses the row list or the set.
fn selected_rows(m: usize, n_pad: usize, seed: Seed, bitmap: bool) -> Result<Vec<usize>> {
    let refused = |what: &str| Error::TooLarge {
        what: format!("the SRHT's {what} for m = {m}"),
        requested: m as u128,
        limit: m as u128,
    };
    let mut rows: Vec<usize> = Vec::new();
    rows.try_reserve_exact(m)
        .map_err(|_| refused("selected rows"))?;
    let mut state = seed.word(streams::SRHT_ROWS, 0);
    let mut draw = |jj: usize| {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        below(splitmix64(state), jj as u64 + 1) as usize
    };
    if bitmap {
        let mut chosen = filled_or_too_large(n_pad.div_ceil(64), 0u64, "SRHT's row bitmap")?;
        for jj in (n_pad - m)..n_pad {
            let r = draw(jj);
            let r = if chosen[r / 64] >> (r % 64) & 1 == 1 {
                jj
            } else {
                r
            };
            chosen[r / 64] |= 1 << (r % 64);
        }
        rows.extend((0..n_pad).filter(|&r| chosen[r / 64] >> (r % 64) & 1 == 1));
    } else {
        let mut chosen = HashSet::new();
        chosen.try_reserve(m).map_err(|_| refused("row set"))?;
        for jj in (n_pad - m)..n_pad {
            let r = draw(jj);
            if !chosen.insert(r) {
                chosen.insert(jj);
            }
        }
        rows.extend(chosen);
        rows.sort_unstable();
    }
    Ok(rows)
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

/// A column with `c` stored entries is transformed entry by entry ([`fwht_entry`], about
/// `c·log₂ n'` steps for each of the `m` kept rows) when `c·m ≤ n' / SPARSE_EVAL_RATIO`, and by
/// the whole length-`n'` [`fwht`] otherwise; the two give the same bits. Break-even, measured
/// (scratch harness, CSC columns of `c` spread entries, one thread, medians of 5, 2026-12-01):
/// `c ≈ 26` at `n' = 2^14, m = 20` (ratio ≈ 32) and `c ≈ 550` at `n' = 2^20, m = 100` (ratio
/// ≈ 19: 6.4 ms against 10.9 ms per column at `c = 320`).
const SPARSE_EVAL_RATIO: usize = 32;

/// Entry `r` of the unnormalized Walsh–Hadamard transform of a length-`2^bits` vector that is
/// `+0` outside `entries` (ascending, distinct indices below `2^bits`), in `O(len·bits)`.
///
/// It makes exactly the additions and subtractions that [`fwht`] makes on the way to entry `r`,
/// with the same operands in the same order (an all-`+0` half stays `+0` through every
/// butterfly, and is passed as `+0`), so the result has the same bits as `fwht`'s entry `r`.
/// After the butterflies of bits `0 … bits−1`, the entry at `r` is `u + v` when bit `bits−1` of
/// `r` is clear and `u − v` when it is set, `u` and `v` being the entries of the lower and upper
/// halves (by that bit) at `r`'s position within them.
fn fwht_entry<T: Scalar>(r: usize, bits: u32, entries: &[(usize, T)]) -> T {
    match (entries, bits) {
        ([], _) => T::ZERO,
        ([(_, v), ..], 0) => *v,
        _ => {
            let half = 1usize << (bits - 1);
            let (lower, upper) = entries.split_at(entries.partition_point(|&(i, _)| i & half == 0));
            let u = fwht_entry(r & !half, bits - 1, lower);
            let v = fwht_entry(r | half, bits - 1, upper);
            if r & half == 0 {
                u + v
            } else {
                u - v
            }
        }
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
        mut out: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        check_block(self.m, self.n, row_offset, &block, &out)?;
        let (k, d, m) = (block.nrows(), block.ncols(), self.m);
        if k == 0 || d == 0 {
            return Ok(());
        }
        let bits = self.n_pad.trailing_zeros();
        let failed: Mutex<Option<Error>> = Mutex::new(None);
        kernels::with_columns(block, par, |cols| {
            // Signs of the block's rows, computed once when the block stores at least one entry
            // per row; a sparser block hashes the sign of each stored entry instead, so a
            // hypersparse block costs nothing per declared row.
            let neg: Option<Vec<bool>> =
                (block.nnz() >= k).then(|| (0..k).map(|i| self.negative(row_offset + i)).collect());
            let negative = |i: usize| match &neg {
                Some(neg) => neg[i],
                None => self.negative(row_offset + i),
            };
            let scale = T::from_f64(1.0 / (m as f64).sqrt());
            let mut work = kernels::try_load_col_major(&out)?;
            let tasks = kernels::tasks(par);
            let cols_per_task = kernels::chunk_len(d, tasks);
            let run = |(t, (part, curs)): (usize, (&mut [T], &mut [usize]))| {
                // After a faer GEMM on the thread the butterflies took 16% longer without this
                // (`crate::cpu`; 65 536 × 200 dense, m = 800, one thread: 0.146–0.149 s against
                // 0.127–0.128 s).
                crate::cpu::clear_upper_vector_state();
                // The length-n' buffer is allocated on the first column that needs it.
                let mut z: Vec<T> = Vec::new();
                // The column's entries of D·a (global row, value), ascending in the row.
                let mut entries: Vec<(usize, T)> = Vec::new();
                for (cc, (col, cursor)) in part.chunks_mut(m).zip(curs.iter_mut()).enumerate() {
                    let c = t * cols_per_task + cc;
                    entries.clear();
                    cols.for_each(c, 0, k, cursor, |i, v| {
                        entries.push((row_offset + i, if negative(i) { -v } else { v }));
                    });
                    if entries.len().saturating_mul(m) <= self.n_pad / SPARSE_EVAL_RATIO {
                        for (o, &r) in col.iter_mut().zip(&self.rows) {
                            *o += fwht_entry(r, bits, &entries) * scale;
                        }
                        continue;
                    }
                    if z.is_empty() {
                        match filled_or_too_large(self.n_pad, T::ZERO, "SRHT's padded column") {
                            Ok(buf) => z = buf,
                            Err(e) => {
                                let mut slot = failed.lock().unwrap_or_else(|p| p.into_inner());
                                slot.get_or_insert(e);
                                return;
                            }
                        }
                    } else {
                        z.iter_mut().for_each(|v| *v = T::ZERO);
                    }
                    for &(i, v) in &entries {
                        z[i] = v;
                    }
                    fwht(&mut z);
                    for (o, &r) in col.iter_mut().zip(&self.rows) {
                        *o += z[r] * scale;
                    }
                }
            };
            let mut cursors = kernels::column_cursors(d)?;
            kernels::for_column_chunks(&mut work, &mut cursors, m, cols_per_task, tasks, run);
            if failed.lock().map_or(true, |f| f.is_none()) {
                kernels::store_col_major(&work, out.as_mut());
            }
            Ok::<(), crate::Error>(())
        })??;
        match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            // The butterflies can overflow before the 1/√m scale (and make ∞ − ∞ = NaN).
            None => check_output_finite(out.as_ref()),
        }
    }

    fn to_dense(&self) -> Result<Mat<T>> {
        let mut out = dense_zeros::<T>(self.m, self.n)?;
        let scale = 1.0 / (self.m as f64).sqrt();
        for i in 0..self.n {
            let negative = self.negative(i);
            for (k, &r) in self.rows.iter().enumerate() {
                let h_neg = (r & i).count_ones() & 1 == 1;
                out[(k, i)] = T::from_f64(if h_neg ^ negative { -scale } else { scale });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A splitmix-driven value: normal numbers of both signs, ±0, a subnormal, and values that
    /// cancel each other exactly.
    fn tricky(state: u64) -> f64 {
        match splitmix64(state) % 8 {
            0 => 0.0,
            1 => -0.0,
            2 => f64::MIN_POSITIVE / 8.0,
            3 => 1.0,
            4 => -1.0,
            _ => (splitmix64(state ^ 0xabcd) % 2001) as f64 / 7.0 - 140.0,
        }
    }

    #[test]
    fn entry_by_entry_transform_has_the_bits_of_the_whole_transform() {
        let mut state = 11u64;
        for bits in 0..=10u32 {
            let n = 1usize << bits;
            for count in [0, 1, 2, 3, 5, 17, n] {
                for _ in 0..4 {
                    // `count` distinct positions (fewer when n is smaller), ascending.
                    let mut chosen: Vec<usize> = (0..n).collect();
                    for t in (1..n).rev() {
                        state += 1;
                        chosen.swap(t, below(splitmix64(state), t as u64 + 1) as usize);
                    }
                    chosen.truncate(count.min(n));
                    chosen.sort_unstable();
                    let entries: Vec<(usize, f64)> = chosen
                        .iter()
                        .map(|&i| {
                            state += 1;
                            (i, tricky(state))
                        })
                        .collect();
                    let mut z = vec![0.0; n];
                    for &(i, v) in &entries {
                        z[i] = v;
                    }
                    fwht(&mut z);
                    for (r, &want) in z.iter().enumerate() {
                        let got = fwht_entry(r, bits, &entries);
                        assert_eq!(
                            got.to_bits(),
                            want.to_bits(),
                            "n = {n}, r = {r}, entries {entries:?}"
                        );
                    }
                }
            }
        }
    }

    /// Columns of 0 … 40 entries take the entry-by-entry path (`c·m ≤ 8192/32`) and denser ones
    /// the whole transform; both must give what the whole transform gives, bit for bit.
    #[test]
    fn sparse_and_dense_columns_match_the_whole_transform() {
        use crate::input::SparseRef;
        // A block of 3000 rows at offset 1500 of a 5000-column operator (n' = 8192).
        let (n, m, row_offset) = (3000usize, 6usize, 1500usize);
        let op = Srht::new(m, 5000, Seed::new(9)).unwrap();
        let counts = [0usize, 1, 2, 3, 40, 400, 3000];
        let (mut indptr, mut indices, mut values) = (vec![0usize], Vec::new(), Vec::new());
        let mut state = 5u64;
        for &c in &counts {
            let step = n / c.max(1);
            for t in 0..c {
                state += 1;
                indices.push(t * step + (splitmix64(state) as usize % step));
                values.push(tricky(state));
            }
            indptr.push(indices.len());
        }
        let a = SparseRef::try_csc(n, counts.len(), &indptr, &indices, &values).unwrap();
        {
            let mut got = Mat::<f64>::zeros(m, counts.len());
            SketchOperator::<f64>::apply_block_into(
                &op,
                row_offset,
                MatrixRef::Sparse(a),
                got.as_mut(),
                Par::rayon(2),
            )
            .unwrap();
            let scale = 1.0 / (m as f64).sqrt();
            for j in 0..counts.len() {
                let mut z = vec![0.0; op.padded_dim()];
                for p in indptr[j]..indptr[j + 1] {
                    let i = row_offset + indices[p];
                    z[i] = if op.negative(i) {
                        -values[p]
                    } else {
                        values[p]
                    };
                }
                fwht(&mut z);
                for (k, &r) in op.rows.iter().enumerate() {
                    let want = 0.0 + z[r] * scale;
                    assert_eq!(got[(k, j)].to_bits(), want.to_bits(), "column {j}, row {k}");
                }
            }
        }
    }

    #[test]
    fn hash_set_and_bitmap_select_the_same_rows() {
        for (m, n_pad) in [
            (1, 1),
            (1, 64),
            (3, 128),
            (64, 64),
            (100, 4096),
            (4000, 4096),
        ] {
            for seed in 0..5 {
                let seed = Seed::new(seed);
                let by_set = selected_rows(m, n_pad, seed, false).unwrap();
                let by_bits = selected_rows(m, n_pad, seed, true).unwrap();
                assert_eq!(by_set, by_bits, "m = {m}, n' = {n_pad}");
                assert_eq!(by_set.len(), m);
                assert!(by_set.windows(2).all(|w| w[0] < w[1]) && by_set[m - 1] < n_pad);
            }
        }
    }

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
