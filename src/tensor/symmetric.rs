//! Symmetric tensors of order `p ≥ 3` in dense or coordinate storage, and their exact
//! contractions `T(u,…,u)` and `T(I,u,…,u)`.

use crate::error::{Error, Result};
use crate::scalar::{exponent, mul_pow2};
use crate::seed::Seed;
use faer::Par;
use rayon::prelude::*;

/// Smallest order accepted (order 2 is a symmetric matrix: use an eigensolver).
pub const MIN_ORDER: usize = 3;
/// Largest order accepted.
pub const MAX_ORDER: usize = 12;
/// Largest dimension `n` accepted: vectors of length `n` are allocated per start and factor.
pub const MAX_DIM: usize = 1 << 26;
/// Largest number of entries of dense storage (`n^p`): 2²⁸ entries, 2 GiB of `f64`.
pub const MAX_ENTRIES: usize = 1 << 28;
/// Largest memory, in bytes, that building coordinate storage may hold at its peak, checked
/// before anything is allocated: the stored form, `4p + 8` bytes per stored entry (`p` `u32`
/// indices and an `f64`), plus the sort buffer of the build, 16 bytes per entry (4 when
/// `n^p ≥ 2⁶⁴`). Separately, the coordinate input and its validation may hold `12p + 48` bytes
/// per given entry (a `.tns` line: `p` indices and the value as parsed, the sorted key, its
/// position, its group and the permutation check's reference to it). 4 GiB: at order 3 about
/// 119 million stored entries (the 400³ tensor of BENCHMARKS.md, 64 million, takes 2.3 GB), at
/// order 12 about 60 million.
pub const MAX_COORDINATE_BYTES: u64 = 1 << 32;

/// Largest magnitudes of the entries at which the contractions work on the tensor as given;
/// outside `[2⁻²⁵⁶, 2²⁵⁶]` they work on `T·2⁻ᵉ` with the largest entry in `[½, 1)` (see
/// [`SymmetricTensor`]'s scaling note).
const UNSCALED_MIN: f64 = f64::from_bits((1023 - 256) << 52);
const UNSCALED_MAX: f64 = f64::from_bits((1023 + 256) << 52);

/// Rows (first-mode indices) contracted by one task of the dense kernel.
const DENSE_ROWS_PER_TASK: usize = 4;
/// Entries contracted by one task of the coordinate kernel.
const COO_ENTRIES_PER_TASK: usize = 1 << 15;

/// Stream of the synthetic noise entries (`seed.word(NOISE_STREAM, ·)`).
pub(crate) const NOISE_STREAM: u64 = 0x73;

#[derive(Clone, Debug)]
enum Storage {
    /// Row-major `n^p` array: entry `(i₁,…,i_p)` at `((i₁·n + i₂)·n + …)·n + i_p`.
    Dense(Vec<f64>),
    /// Every listed permutation of every entry, sorted lexicographically by index;
    /// `idx[e·p .. (e+1)·p]` are the indices of entry `e`.
    Coo { idx: Vec<u32>, val: Vec<f64> },
}

/// A real symmetric tensor `T ∈ ℝ^{n×…×n}` of order `p` (`T_{π(i)} = T_i` for every
/// permutation `π` of the modes), in dense or sparse coordinate storage.
///
/// Constructors validate once (sizes, finiteness, symmetry); contractions then never fail on
/// the tensor's account.
///
/// # Scaling
/// The power method is homogeneous (`c·T` has the factors of `T` and the weights times `c`), but
/// its norms square the entries. When the largest `|entry|` lies outside `[2⁻²⁵⁶, 2²⁵⁶]`, the
/// norm, the contractions, the power methods, the sketches and
/// [`residual_rel`](super::residual_rel) work on `T·2⁻ᵉ`, the power of two that brings the largest
/// entry into `[½, 1)`, and scale their results back by `2ᵉ`: exact (multiplying by a power of two
/// is, in the normal range), so the factors are those of the unscaled computation bit for bit and
/// only results beyond the `f64` range are lost. Tensors within the range are used as given.
///
/// | storage | built by | `T(I,u,…,u)` costs |
/// |---|---|---|
/// | dense `n^p` array | [`SymmetricTensor::dense`], [`SymmetricTensor::from_components`] | `n^p` multiply-adds |
/// | coordinate (every permutation stored) | [`SymmetricTensor::coordinate`], [`read_tns`](super::read_tns) | `p·nnz` |
#[derive(Clone, Debug)]
pub struct SymmetricTensor {
    order: usize,
    dim: usize,
    storage: Storage,
    /// `e` of the scaling note: the contractions work on `T·2⁻ᵉ` (0 within the range).
    scale_exp: i32,
}

/// Validated coordinate entries grouped by unordered multi-index (see
/// [`SymmetricTensor::coordinate`]).
pub(crate) struct CoordinateGroups {
    /// The sorted (canonical) indices of every entry, `p` per entry.
    keys: Vec<u32>,
    /// Entries ordered by key (then by position).
    order_of: Vec<usize>,
    /// `(start in order_of, length)` of each group of entries with one key.
    groups: Vec<(usize, usize)>,
    /// Stored entries once every group is expanded to all its distinct permutations.
    total: u128,
}

impl CoordinateGroups {
    /// Entries of the coordinate form (every distinct permutation of every multi-index).
    pub(crate) fn stored_entries(&self) -> u128 {
        self.total
    }

    /// Checks the shape, the indices, finiteness, and that each multi-index is listed once or in
    /// all its distinct permutations with equal values; groups the entries by multi-index.
    pub(crate) fn validate(
        order: usize,
        dim: usize,
        indices: &[usize],
        values: &[f64],
    ) -> Result<Self> {
        check_shape(order, dim)?;
        if indices.len() != values.len().saturating_mul(order) {
            return Err(Error::dim(
                "coordinate indices (order × entries)",
                values.len().saturating_mul(order),
                indices.len(),
            ));
        }
        if values.is_empty() {
            return Err(Error::empty("coordinate tensor (no entries)"));
        }
        crate::input::check_finite_slice(values, "coordinate tensor values")?;
        let nnz = values.len();
        // The input and what is built here, counted before anything is allocated.
        let bytes = nnz as u128 * input_bytes_per_entry(order) as u128;
        let what = || {
            format!(
                "{nnz} coordinate entries of order {order} and their validation ({} bytes \
                 each: the elements are bytes)",
                input_bytes_per_entry(order)
            )
        };
        Error::within(bytes, MAX_COORDINATE_BYTES as u128, what)?;
        // Canonical (sorted) key of each entry.
        let mut keys: Vec<u32> =
            try_with_capacity(nnz * order, bytes, MAX_COORDINATE_BYTES as u128, what)?;
        let mut order_of: Vec<usize> =
            try_with_capacity(nnz, bytes, MAX_COORDINATE_BYTES as u128, what)?;
        // (start in order_of, length) of each group: at most one per entry.
        let mut groups: Vec<(usize, usize)> =
            try_with_capacity(nnz, bytes, MAX_COORDINATE_BYTES as u128, what)?;
        for (e, chunk) in indices.chunks_exact(order).enumerate() {
            for &i in chunk {
                if i >= dim {
                    return Err(Error::structure(format!(
                        "entry {e}: index {i} is not below the dimension {dim}"
                    )));
                }
                keys.push(i as u32);
            }
            keys[e * order..].sort_unstable();
        }
        order_of.extend(0..nnz);
        // A total order (ties broken by position): the unstable sort, which allocates nothing,
        // gives the same result as a stable one.
        order_of.sort_unstable_by(|&a, &b| {
            keys[a * order..(a + 1) * order]
                .cmp(&keys[b * order..(b + 1) * order])
                .then(a.cmp(&b))
        });
        // Group by key and count the stored entries.
        let mut total: u128 = 0;
        let mut g = 0;
        while g < nnz {
            let key = &keys[order_of[g] * order..(order_of[g] + 1) * order];
            let mut h = g + 1;
            while h < nnz && &keys[order_of[h] * order..(order_of[h] + 1) * order] == key {
                h += 1;
            }
            let perms = distinct_permutations(key);
            let len = h - g;
            if len != 1 && len as u128 != perms {
                let e = order_of[g];
                return Err(Error::structure(format!(
                    "entry {e} (indices {:?}): its multi-index is listed {len} times, but a symmetric \
                     tensor needs it once or in all {perms} distinct permutations",
                    &indices[e * order..(e + 1) * order]
                )));
            }
            if len > 1 {
                // All distinct permutations must be present exactly once with equal values.
                let mut seen: Vec<&[usize]> =
                    try_with_capacity(len, bytes, MAX_COORDINATE_BYTES as u128, what)?;
                seen.extend(
                    order_of[g..h]
                        .iter()
                        .map(|&e| &indices[e * order..(e + 1) * order]),
                );
                seen.sort_unstable();
                if seen.windows(2).any(|w| w[0] == w[1]) {
                    let e = order_of[g];
                    return Err(Error::structure(format!(
                        "entry {e} (indices {:?}): a permutation is listed twice",
                        &indices[e * order..(e + 1) * order]
                    )));
                }
                let v0 = values[order_of[g]];
                for &e in &order_of[g + 1..h] {
                    let v = values[e];
                    if permutation_values_differ(v, v0) {
                        return Err(Error::structure(format!(
                            "entry {e} (indices {:?}) = {v} differs from its permutation's value {v0}: \
                             the tensor is not symmetric",
                            &indices[e * order..(e + 1) * order]
                        )));
                    }
                }
            }
            total += perms;
            groups.push((g, len));
            g = h;
        }
        Ok(CoordinateGroups {
            keys,
            order_of,
            groups,
            total,
        })
    }
}

/// Whether two listed permutations of one multi-index disagree: their values differ by more
/// than `1e-10` relative (room for values written out in decimal and read back). The one rule
/// of [`CoordinateGroups::validate`] and of the `.tns` reader's line-naming diagnosis.
pub(crate) fn permutation_values_differ(v: f64, v0: f64) -> bool {
    (v - v0).abs() > 1e-10 * v.abs().max(v0.abs())
}

/// `n^p` as a checked count.
pub(crate) fn dense_len(order: usize, dim: usize) -> Option<usize> {
    let mut len: usize = 1;
    for _ in 0..order {
        len = len.checked_mul(dim)?;
    }
    Some(len)
}

fn check_shape(order: usize, dim: usize) -> Result<()> {
    if !(MIN_ORDER..=MAX_ORDER).contains(&order) {
        let hint = match order {
            // The power method on a matrix is the eigenvalue problem: say so rather than only
            // giving the range.
            2 => " (an order-2 symmetric tensor is a symmetric matrix: use an eigensolver)",
            0 | 1 => " (orders 0 and 1 are a scalar and a vector: nothing to decompose)",
            _ => "",
        };
        return Err(Error::param(
            "order",
            format!("order {order} is outside {MIN_ORDER}..={MAX_ORDER}{hint}"),
        ));
    }
    if dim == 0 {
        return Err(Error::empty("tensor (dimension 0)"));
    }
    if dim > MAX_DIM {
        return Err(Error::TooLarge {
            what: "tensor dimension".into(),
            requested: dim as u128,
            limit: MAX_DIM as u128,
        });
    }
    Ok(())
}

fn check_dense_size(order: usize, dim: usize) -> Result<usize> {
    match dense_len(order, dim) {
        Some(len) if len <= MAX_ENTRIES => Ok(len),
        _ => Err(Error::TooLarge {
            what: format!("a dense tensor of order {order} and dimension {dim}"),
            requested: (dim as u128).saturating_pow(order as u32),
            limit: MAX_ENTRIES as u128,
        }),
    }
}

/// `n^p` zeros for dense storage (`len` from [`check_dense_size`]), or [`Error::TooLarge`] when
/// the allocator refuses them (`vec!` would abort).
fn dense_zeros(len: usize, order: usize, dim: usize) -> Result<Vec<f64>> {
    let mut v = try_with_capacity(len, len as u128, MAX_ENTRIES as u128, || {
        format!("a dense tensor of order {order} and dimension {dim}")
    })?;
    v.resize(len, 0.0);
    Ok(v)
}

/// An empty vector with room for `len` elements, or [`Error::TooLarge`] (`what`, `requested`,
/// `limit`: a request within its limit that the allocator refused) instead of an abort.
pub(crate) fn try_with_capacity<T>(
    len: usize,
    requested: u128,
    limit: u128,
    what: impl FnOnce() -> String,
) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::TooLarge {
        what: what(),
        requested,
        limit,
    })?;
    Ok(v)
}

/// Bytes that parsing and validating coordinate input hold per given entry: `p` indices and the
/// value as given (`usize`, `f64`), the sorted key (`p` `u32`), its position, its group, and a
/// reference to its indices while its group's permutations are checked (up to a whole input of
/// one multi-index listed in all its permutations).
pub(crate) fn input_bytes_per_entry(order: usize) -> u64 {
    12 * order as u64 + 48
}

/// The `e` of [`SymmetricTensor`]'s scaling note for entries `v`: 0 when the largest `|v|` is 0
/// or within `[2⁻²⁵⁶, 2²⁵⁶]`, else its exponent (at least −1023, so that `2⁻ᵉ` is finite).
fn scale_exponent(v: &[f64]) -> i32 {
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if max == 0.0 || (UNSCALED_MIN..=UNSCALED_MAX).contains(&max) {
        0
    } else {
        // `e` with max = m·2ᵉ, m ∈ [½, 1).
        (exponent(max) + 1).max(-1023)
    }
}

/// Next lexicographic permutation of `a` in place; `false` when `a` was the last one.
pub(crate) fn next_permutation<T: Ord>(a: &mut [T]) -> bool {
    if a.len() < 2 {
        return false;
    }
    let mut i = a.len() - 1;
    while i > 0 && a[i - 1] >= a[i] {
        i -= 1;
    }
    if i == 0 {
        return false;
    }
    let mut j = a.len() - 1;
    while a[j] <= a[i - 1] {
        j -= 1;
    }
    a.swap(i - 1, j);
    a[i..].reverse();
    true
}

/// Number of distinct permutations of a sorted multi-index.
fn distinct_permutations(sorted: &[u32]) -> u128 {
    let mut count: u128 = (1..=sorted.len() as u128).product();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i + 1;
        while j < sorted.len() && sorted[j] == sorted[i] {
            j += 1;
        }
        count /= (1..=(j - i) as u128).product::<u128>();
        i = j;
    }
    count
}

/// [`Error::NonFinite`] naming `what` and its first non-finite entry, for a result computed
/// from finite inputs whose terms overflowed (a public contraction or sketch must not return
/// `Ok` with an infinite or `NaN` value).
pub(crate) fn check_overflow(v: &[f64], what: &str) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::NonFinite {
            what: format!(
                "{what} (computed from finite input, its terms overflow the f64 range: the \
                 vector is far from unit scale, or the entries near the largest f64)"
            ),
            row: i,
            col: 0,
        }),
    }
}

/// Inner product with four accumulators (a fixed summation order).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        s[0] += x[0] * y[0];
        s[1] += x[1] * y[1];
        s[2] += x[2] * y[2];
        s[3] += x[3] * y[3];
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// [`dot`] of `s·a` and `b`, each `s·aᵢ` rounded first: for a power of two `s` (and `s·aᵢ`
/// normal) bitwise the [`dot`] of the scaled vector.
#[inline]
fn dot_scaled(a: &[f64], b: &[f64], s: f64) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        acc[0] += (x[0] * s) * y[0];
        acc[1] += (x[1] * s) * y[1];
        acc[2] += (x[2] * s) * y[2];
        acc[3] += (x[3] * s) * y[3];
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += (x * s) * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `Σ_{j} u_{j₁}…u_{j_d} slice[j]` for a contiguous slice of `n^d` entries (`d ≥ 1`), the
/// entries multiplied by `s` (a power of two) first unless `s = 1`.
///
/// The recursion counts the modes `d`: the slice's length cannot tell them apart when `n = 1`
/// (every level has one entry), and stopping on `len == n` there dropped `d − 1` factors of `u`.
fn contract_slice(slice: &[f64], u: &[f64], modes: usize, s: f64) -> f64 {
    if modes <= 1 {
        return if s == 1.0 {
            dot(slice, u)
        } else {
            dot_scaled(slice, u, s)
        };
    }
    let step = slice.len() / u.len();
    let mut acc = 0.0;
    for (j, sub) in slice.chunks_exact(step).enumerate() {
        if u[j] != 0.0 {
            acc += u[j] * contract_slice(sub, u, modes - 1, s);
        }
    }
    acc
}

/// [`contract_slice`] for several vectors at once, bit for bit: `out[l]` is
/// `contract_slice(slice, us[l], modes, s)`. Each innermost block of `n` entries is read once
/// for all the vectors (and stays in L1 while they use it), where separate contractions stream
/// the whole slice once per vector. Every `l` sums the same products in the same order as
/// `contract_slice` (from `+0`, skipping `j` where its `u_l[j] = 0`); `scratch` holds
/// `us.len()·(modes − 1)` values for the levels below.
fn contract_slice_many(
    slice: &[f64],
    us: &[&[f64]],
    modes: usize,
    s: f64,
    out: &mut [f64],
    scratch: &mut [f64],
) {
    if modes <= 1 {
        for (o, u) in out.iter_mut().zip(us) {
            *o = if s == 1.0 {
                dot(slice, u)
            } else {
                dot_scaled(slice, u, s)
            };
        }
        return;
    }
    let step = slice.len() / us[0].len();
    let (inner, below) = scratch.split_at_mut(us.len());
    out.fill(0.0);
    for (j, sub) in slice.chunks_exact(step).enumerate() {
        if us.iter().all(|u| u[j] == 0.0) {
            continue;
        }
        contract_slice_many(sub, us, modes - 1, s, inner, below);
        for ((o, u), &x) in out.iter_mut().zip(us).zip(inner.iter()) {
            if u[j] != 0.0 {
                *o += u[j] * x;
            }
        }
    }
}

/// Standard normal from two uniform words (Box–Muller, cosine branch).
#[inline]
pub(crate) fn normal_from_words(w1: u64, w2: u64) -> f64 {
    let u1 = ((w1 >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
    let u2 = crate::seed::unit_f64(w2);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl SymmetricTensor {
    /// The tensor with validated storage; computes its scale exponent (one pass).
    fn with_storage(order: usize, dim: usize, storage: Storage) -> Self {
        let scale_exp = match &storage {
            Storage::Dense(d) => scale_exponent(d),
            Storage::Coo { val, .. } => scale_exponent(val),
        };
        SymmetricTensor {
            order,
            dim,
            storage,
            scale_exp,
        }
    }

    /// The `e` of the scaling note: the contractions work on `T·2⁻ᵉ` (0 for tensors whose
    /// largest `|entry|` is within `[2⁻²⁵⁶, 2²⁵⁶]`).
    pub(crate) fn scale_exp(&self) -> i32 {
        self.scale_exp
    }

    /// `2⁻ᵉ`, the factor of the scaling note (1 within the range).
    pub(crate) fn scale_factor(&self) -> f64 {
        mul_pow2(1.0, -self.scale_exp)
    }

    /// A dense symmetric tensor from its `n^p` entries in row-major order (entry
    /// `(i₁,…,i_p)` at `((i₁·n + i₂)·n + …)·n + i_p`).
    ///
    /// # Errors
    /// `order ∉ 3..=12`, `dim = 0` or too large, `data.len() ≠ n^p`, a non-finite entry, or an
    /// entry that differs by more than `1e-10·max|T|` from the entry at its sorted multi-index
    /// (`i₁ ≤ … ≤ i_p`, the permutation whose value is stored) ([`Error::InvalidStructure`],
    /// naming the two entries; use [`SymmetricTensor::dense_symmetrized`] to symmetrize
    /// instead). Differences within that tolerance are removed: every entry takes the value at
    /// its sorted multi-index, so no entry changes by more than `1e-10·max|T|` and the stored
    /// tensor is exactly symmetric (and [`write_tns`] with
    /// [`TnsEntries::Unique`](super::TnsEntries::Unique) loses nothing).
    ///
    /// # Performance
    /// `O(p log p·n^p)`: every entry's multi-index is sorted, for the check and for the stored
    /// value.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::tensor::SymmetricTensor;
    /// // Order 3, n = 2: T_ijk = 1 + i + j + k, symmetric. Row-major, entry (i,j,k) is at
    /// // 4i + 2j + k, whose number of one bits is i + j + k.
    /// let entries = || (0..8u32).map(|l| 1.0 + l.count_ones() as f64).collect::<Vec<f64>>();
    /// let t = SymmetricTensor::dense(3, 2, entries())?;
    /// assert_eq!((t.order(), t.dim(), t.nnz()), (3, 2, 8));
    /// assert_eq!(t.get(&[1, 0, 1])?, 3.0);
    /// assert_eq!(t.get(&[1, 1, 1])?, 4.0);
    /// // ‖T‖_F² = 1² + 3·2² + 3·3² + 4² = 56.
    /// assert!((t.norm() - 56f64.sqrt()).abs() < 1e-14);
    /// // T_101 off by 1e-12 (within 1e-10·max|T|): accepted, and stored as T_011, exactly.
    /// let mut near = entries();
    /// near[0b101] += 1e-12;
    /// assert_eq!(SymmetricTensor::dense(3, 2, near)?.get(&[1, 0, 1])?, 3.0);
    /// // T_011 off by 0.5: no longer equal to T_101 and T_110, refused.
    /// let mut bad = entries();
    /// bad[0b011] += 0.5;
    /// let err = SymmetricTensor::dense(3, 2, bad);
    /// assert!(matches!(err, Err(randnla::Error::InvalidStructure { .. })), "{err:?}");
    /// # Ok(()) }
    /// ```
    ///
    /// [`write_tns`]: super::write_tns
    pub fn dense(order: usize, dim: usize, data: Vec<f64>) -> Result<Self> {
        check_shape(order, dim)?;
        let len = check_dense_size(order, dim)?;
        if data.len() != len {
            return Err(Error::dim("dense tensor entries (n^p)", len, data.len()));
        }
        crate::input::check_finite_slice(&data, "dense tensor")?;
        let scale = data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let tol = 1e-10 * scale;
        // Every entry against the one at its sorted multi-index, whose value is stored for all
        // (comparing adjacent transpositions only let differences add up along a chain of
        // swaps: up to p(p−1)/2 times the tolerance between two permutations, all then
        // silently replaced).
        let mut idx = vec![0usize; order];
        let mut sorted = vec![0usize; order];
        for (lin, &v) in data.iter().enumerate() {
            let mut r = lin;
            for k in (0..order).rev() {
                idx[k] = r % dim;
                r /= dim;
            }
            sorted.copy_from_slice(&idx);
            sorted.sort_unstable();
            let first = sorted.iter().fold(0usize, |acc, &i| acc * dim + i);
            if first != lin && (data[first] - v).abs() > tol {
                return Err(Error::structure(format!(
                    "tensor is not symmetric: entry {idx:?} = {v} but its permutation \
                     {sorted:?} = {} (the permutations of a multi-index may differ by at most \
                     1e-10·max|T| = {tol:e})",
                    data[first]
                )));
            }
        }
        let mut data = data;
        copy_sorted_representatives(&mut data, order, dim);
        Ok(SymmetricTensor::with_storage(
            order,
            dim,
            Storage::Dense(data),
        ))
    }

    /// The symmetric part `(1/p!) Σ_π T_π` of a dense tensor given row-major.
    ///
    /// # Errors
    /// As [`SymmetricTensor::dense`], except that asymmetry is removed instead of reported.
    ///
    /// # Performance
    /// `O(p log p·n^p)`: every entry's multi-index is sorted once, and each orbit of
    /// permutations is walked once, from its sorted representative (the orbits partition the
    /// `n^p` entries, so there is no `p!` factor).
    pub fn dense_symmetrized(order: usize, dim: usize, data: Vec<f64>) -> Result<Self> {
        check_shape(order, dim)?;
        let len = check_dense_size(order, dim)?;
        if data.len() != len {
            return Err(Error::dim("dense tensor entries (n^p)", len, data.len()));
        }
        crate::input::check_finite_slice(&data, "dense tensor")?;
        let mut out = dense_zeros(len, order, dim)?;
        let mut idx = vec![0u32; order];
        let mut sorted = vec![0u32; order];
        for lin in 0..len {
            let mut r = lin;
            for k in (0..order).rev() {
                idx[k] = (r % dim) as u32;
                r /= dim;
            }
            // Only the lexicographically smallest representative computes the orbit average.
            sorted.copy_from_slice(&idx);
            sorted.sort_unstable();
            if sorted != idx {
                continue;
            }
            let mut perm = sorted.clone();
            let mut sum = 0.0;
            let mut count = 0.0;
            let mut lins = Vec::new();
            loop {
                let l = perm.iter().fold(0usize, |acc, &i| acc * dim + i as usize);
                sum += data[l];
                count += 1.0;
                lins.push(l);
                if !next_permutation(&mut perm) {
                    break;
                }
            }
            let mut avg = sum / count;
            if !avg.is_finite() {
                // The sum overflowed (entries near the largest f64): average 2⁻⁶⁴ times the
                // entries (no overflow for up to 12! of them) and scale back, exactly.
                let small: f64 = lins.iter().map(|&l| mul_pow2(data[l], -64)).sum();
                avg = mul_pow2(small / count, 64);
            }
            for l in lins {
                out[l] = avg;
            }
        }
        Ok(SymmetricTensor::with_storage(
            order,
            dim,
            Storage::Dense(out),
        ))
    }

    /// A sparse symmetric tensor from coordinate entries (0-based; `indices[e·p..(e+1)·p]` is
    /// entry `e`, `values[e]` its value).
    ///
    /// Each unordered multi-index may be given either **once** (any one of its permutations —
    /// the others are implied by symmetry) or **with all its distinct permutations** carrying equal
    /// values; both forms may be mixed. The tensor stores every permutation. "Equal" allows a
    /// relative difference of `1e-10` (values written out in decimal and read back); the value
    /// listed first is the one stored for all permutations.
    ///
    /// # Errors
    /// Order or dimension out of range; `indices.len() ≠ p·values.len()`; an index `≥ dim`; a
    /// non-finite value; no entries; a multi-index listed in some but not all of its permutations,
    /// repeated, or with a permutation's value differing from the first listed (the one stored)
    /// by more than `1e-10` relative (so two later ones may differ by up to `2e-10`);
    /// [`Error::TooLarge`] when the validation or the stored permutations with the build's sort
    /// buffer would take more than [`MAX_COORDINATE_BYTES`] (checked before they are allocated),
    /// or the allocator refuses them.
    ///
    /// # Performance
    /// `O(nnz·p·log nnz)` plus the expansion; memory `4p + 8` bytes per stored permutation,
    /// `4p + 24` at the peak of the build.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::tensor::SymmetricTensor;
    /// // Order 3, n = 3: T_000 = 1; T_012 = 2, listed once as (2, 1, 0) (its other 5
    /// // permutations are implied); T_112 = 3, listed in all 3 of its distinct permutations.
    /// let indices = [0, 0, 0,  2, 1, 0,  1, 1, 2,  1, 2, 1,  2, 1, 1];
    /// let values = [1.0, 2.0, 3.0, 3.0, 3.0];
    /// let t = SymmetricTensor::coordinate(3, 3, &indices, &values)?;
    /// assert!(!t.is_dense());
    /// assert_eq!(t.nnz(), 1 + 6 + 3); // every permutation is stored
    /// assert_eq!(t.get(&[0, 0, 0])?, 1.0);
    /// assert_eq!(t.get(&[0, 1, 2])?, 2.0);
    /// assert_eq!(t.get(&[1, 2, 0])?, 2.0);
    /// assert_eq!(t.get(&[2, 1, 1])?, 3.0);
    /// assert_eq!(t.get(&[2, 2, 2])?, 0.0); // not listed
    /// // ‖T‖_F² = 1² + 6·2² + 3·3² = 52.
    /// assert!((t.norm() - 52f64.sqrt()).abs() < 1e-14);
    /// // T_112 listed in 2 of its 3 permutations: refused.
    /// let err = SymmetricTensor::coordinate(3, 3, &[1, 1, 2,  1, 2, 1], &[3.0, 3.0]);
    /// assert!(matches!(err, Err(randnla::Error::InvalidStructure { .. })), "{err:?}");
    /// # Ok(()) }
    /// ```
    pub fn coordinate(order: usize, dim: usize, indices: &[usize], values: &[f64]) -> Result<Self> {
        let groups = CoordinateGroups::validate(order, dim, indices, values)?;
        Self::coordinate_from_groups(order, dim, values, groups)
    }

    /// [`SymmetricTensor::coordinate`] on validated groups.
    pub(crate) fn coordinate_from_groups(
        order: usize,
        dim: usize,
        values: &[f64],
        groups: CoordinateGroups,
    ) -> Result<Self> {
        let CoordinateGroups {
            keys,
            order_of,
            groups,
            total,
        } = groups;
        // Lexicographic order is the order of the row-major linear index when it fits in a u64:
        // then 16-byte (index, value) pairs are sorted; otherwise the rows are sorted through a
        // permutation of 4-byte positions. The memory of either is counted before allocating.
        let packed = (dim as u64).checked_pow(order as u32).is_some();
        let per_entry = 4 * order as u128 + 8 + if packed { 16 } else { 4 };
        let bytes = total.saturating_mul(per_entry);
        let what = || {
            format!(
                "the coordinate storage of {total} stored entries of order {order} (every \
                 permutation; {per_entry} bytes each with the sort buffer: the elements are bytes)"
            )
        };
        Error::within(bytes, MAX_COORDINATE_BYTES as u128, what)?;
        let total = total as usize;
        let limit = MAX_COORDINATE_BYTES as u128;
        // Every distinct permutation of every group, in lexicographic order of the multi-index.
        let mut idx: Vec<u32> = try_with_capacity(total * order, bytes, limit, what)?;
        let mut val: Vec<f64> = try_with_capacity(total, bytes, limit, what)?;
        let mut perm = vec![0u32; order];
        let mut each_permutation = |f: &mut dyn FnMut(&[u32], f64)| {
            for &(g, _) in &groups {
                let e = order_of[g];
                perm.copy_from_slice(&keys[e * order..(e + 1) * order]);
                loop {
                    f(&perm, values[e]);
                    if !next_permutation(&mut perm) {
                        break;
                    }
                }
            }
        };
        if packed {
            let mut lin: Vec<(u64, f64)> = try_with_capacity(total, bytes, limit, what)?;
            each_permutation(&mut |i, v| {
                let l = i.iter().fold(0u64, |acc, &x| acc * dim as u64 + x as u64);
                lin.push((l, v));
            });
            lin.sort_unstable_by_key(|&(l, _)| l);
            idx.resize(total * order, 0);
            for ((l, v), dst) in lin.into_iter().zip(idx.chunks_exact_mut(order)) {
                let mut r = l;
                for d in dst.iter_mut().rev() {
                    *d = (r % dim as u64) as u32;
                    r /= dim as u64;
                }
                val.push(v);
            }
        } else {
            // At most 2³² bytes at ≥ 24 per entry: positions fit in a u32 below `DONE`.
            const DONE: u32 = u32::MAX;
            let mut ord: Vec<u32> = try_with_capacity(total, bytes, limit, what)?;
            each_permutation(&mut |i, v| {
                idx.extend_from_slice(i);
                val.push(v);
            });
            ord.extend(0..total as u32);
            let row = |k: u32| &idx[k as usize * order..(k as usize + 1) * order];
            // The multi-indices are distinct: the order is total.
            ord.sort_unstable_by(|&a, &b| row(a).cmp(row(b)));
            // Position k takes the row at ord[k]: follow each cycle once, marking it done.
            let mut first = vec![0u32; order];
            for start in 0..total {
                if ord[start] == DONE {
                    continue;
                }
                first.copy_from_slice(&idx[start * order..(start + 1) * order]);
                let v0 = val[start];
                let mut k = start;
                loop {
                    let src = ord[k] as usize;
                    ord[k] = DONE;
                    if src == start {
                        idx[k * order..(k + 1) * order].copy_from_slice(&first);
                        val[k] = v0;
                        break;
                    }
                    idx.copy_within(src * order..(src + 1) * order, k * order);
                    val[k] = val[src];
                    k = src;
                }
            }
        }
        Ok(SymmetricTensor::with_storage(
            order,
            dim,
            Storage::Coo { idx, val },
        ))
    }

    /// The dense tensor with the coordinate entries of [`SymmetricTensor::coordinate`] (same
    /// input rules and validation), without the coordinate form in between: equal to
    /// `SymmetricTensor::coordinate(..)?.to_dense()`, bit for bit.
    ///
    /// # Errors
    /// As [`SymmetricTensor::coordinate`], and `n^p > 2²⁸` ([`Error::TooLarge`]).
    ///
    /// # Performance
    /// `O(nnz·p·log nnz)` plus one write per stored permutation; memory `n^p` values plus
    /// `O(p·nnz)` for the validation (the coordinate form would hold every permutation).
    pub fn dense_from_entries(
        order: usize,
        dim: usize,
        indices: &[usize],
        values: &[f64],
    ) -> Result<Self> {
        let groups = CoordinateGroups::validate(order, dim, indices, values)?;
        Self::dense_from_groups(order, dim, values, &groups)
    }

    /// [`SymmetricTensor::dense_from_entries`] on validated groups.
    pub(crate) fn dense_from_groups(
        order: usize,
        dim: usize,
        values: &[f64],
        groups: &CoordinateGroups,
    ) -> Result<Self> {
        let len = check_dense_size(order, dim)?;
        let mut out = dense_zeros(len, order, dim)?;
        let mut perm = vec![0u32; order];
        for &(g, _) in &groups.groups {
            let e = groups.order_of[g];
            perm.copy_from_slice(&groups.keys[e * order..(e + 1) * order]);
            loop {
                let lin = perm.iter().fold(0usize, |acc, &x| acc * dim + x as usize);
                out[lin] = values[e];
                if !next_permutation(&mut perm) {
                    break;
                }
            }
        }
        Ok(SymmetricTensor::with_storage(
            order,
            dim,
            Storage::Dense(out),
        ))
    }

    /// The dense tensor `Σ_j λ_j a_j^{⊗p}` (`factors[j]` is `a_j`, of length `dim`: a `Vec<f64>`,
    /// a `&[f64]` or an array), exactly symmetric: every entry is the one computed for its
    /// sorted multi-index.
    ///
    /// # Errors
    /// Shape errors, `weights.len() ≠ factors.len()`, no components, non-finite values, an entry
    /// of the sum beyond the `f64` range ([`Error::NonFinite`]), or `n^p > 2²⁸` (or refused by
    /// the allocator).
    ///
    /// # Performance
    /// `O(k·n^p)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::tensor::SymmetricTensor;
    /// // T = 2·a⊗a⊗a − b⊗b⊗b in dimension 3.
    /// let (a, b) = ([0.6, 0.8, 0.0], [0.0, 0.6, -0.8]);
    /// let t = SymmetricTensor::from_components(3, 3, &[2.0, -1.0], &[a, b])?;
    /// assert!(t.is_dense());
    /// // Every entry against the sum computed by hand.
    /// for i in 0..3 {
    ///     for j in 0..3 {
    ///         for k in 0..3 {
    ///             let want = 2.0 * a[i] * a[j] * a[k] - b[i] * b[j] * b[k];
    ///             let got = t.get(&[i, j, k])?;
    ///             assert!((got - want).abs() < 1e-15, "T_{i}{j}{k} = {got}, expected {want}");
    ///         }
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn from_components<F: AsRef<[f64]>>(
        order: usize,
        dim: usize,
        weights: &[f64],
        factors: &[F],
    ) -> Result<Self> {
        let factors = &super::power::slices(factors);
        check_shape(order, dim)?;
        let len = check_dense_size(order, dim)?;
        if weights.len() != factors.len() {
            return Err(Error::dim(
                "factors (one per weight)",
                weights.len(),
                factors.len(),
            ));
        }
        if weights.is_empty() {
            return Err(Error::empty("components"));
        }
        crate::input::check_finite_slice(weights, "weights")?;
        for f in factors {
            if f.len() != dim {
                return Err(Error::dim("factor length", dim, f.len()));
            }
            crate::input::check_finite_slice(f, "factor")?;
        }
        let mut data = dense_zeros(len, order, dim)?;
        for (&w, a) in weights.iter().zip(factors) {
            add_power(&mut data, order, dim, w, a);
        }
        // The products are rounded in mode order, so `(i,j,k)` and `(j,i,k)` may differ in the
        // last bit: store the sorted multi-index's value everywhere (exact symmetry).
        copy_sorted_representatives(&mut data, order, dim);
        if let Some(i) = data.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite {
                what: "tensor of the components (overflow)".into(),
                row: i,
                col: 0,
            });
        }
        Ok(SymmetricTensor::with_storage(
            order,
            dim,
            Storage::Dense(data),
        ))
    }

    /// Order `p` (number of modes).
    pub fn order(&self) -> usize {
        self.order
    }

    /// Dimension `n` of every mode.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of stored entries: `n^p` for dense storage, every stored permutation for
    /// coordinate storage.
    pub fn nnz(&self) -> usize {
        match &self.storage {
            Storage::Dense(d) => d.len(),
            Storage::Coo { val, .. } => val.len(),
        }
    }

    /// The row-major entries for dense storage.
    pub(crate) fn dense_data(&self) -> Option<&[f64]> {
        match &self.storage {
            Storage::Dense(d) => Some(d),
            Storage::Coo { .. } => None,
        }
    }

    /// Whether the storage is dense.
    pub fn is_dense(&self) -> bool {
        matches!(self.storage, Storage::Dense(_))
    }

    /// Frobenius norm `‖T‖_F`, without overflow or underflow of the squares (see the scaling
    /// note): infinite only when the norm itself is beyond the `f64` range.
    pub fn norm(&self) -> f64 {
        mul_pow2(self.norm_scaled(), self.scale_exp)
    }

    /// `‖T·2⁻ᵉ‖_F` (the scaling note's `e`; `‖T‖_F` itself within the range).
    pub(crate) fn norm_scaled(&self) -> f64 {
        let v = match &self.storage {
            Storage::Dense(d) => d,
            Storage::Coo { val, .. } => val,
        };
        if self.scale_exp == 0 {
            return dot(v, v).sqrt();
        }
        // The scaled copy's squares, summed in `dot`'s order, without the copy.
        let s = self.scale_factor();
        let mut acc = [0.0f64; 4];
        let mut c = v.chunks_exact(4);
        for x in &mut c {
            for (a, &xi) in acc.iter_mut().zip(x) {
                let y = xi * s;
                *a += y * y;
            }
        }
        let mut tail = 0.0;
        for &x in c.remainder() {
            let y = x * s;
            tail += y * y;
        }
        ((acc[0] + acc[1]) + (acc[2] + acc[3]) + tail).sqrt()
    }

    /// Visits every stored entry `(indices, value)` in storage order.
    pub fn for_each_entry(&self, mut f: impl FnMut(&[u32], f64)) {
        let p = self.order;
        match &self.storage {
            Storage::Dense(d) => {
                let mut idx = vec![0u32; p];
                for &v in d {
                    f(&idx, v);
                    for k in (0..p).rev() {
                        idx[k] += 1;
                        if (idx[k] as usize) < self.dim {
                            break;
                        }
                        idx[k] = 0;
                    }
                }
            }
            Storage::Coo { idx, val } => {
                for (i, &v) in idx.chunks_exact(p).zip(val) {
                    f(i, v);
                }
            }
        }
    }

    /// A dense copy.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when `n^p > 2²⁸` or the allocator refuses the `n^p` values.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::tensor::SymmetricTensor;
    /// // T_012 = 1.5 (and its permutations), T_222 = −4, in coordinate storage.
    /// let c = SymmetricTensor::coordinate(3, 3, &[0, 1, 2,  2, 2, 2], &[1.5, -4.0])?;
    /// let d = c.to_dense()?;
    /// assert!(!c.is_dense() && d.is_dense());
    /// assert_eq!((c.nnz(), d.nnz()), (7, 27));
    /// for i in 0..3 {
    ///     for j in 0..3 {
    ///         for k in 0..3 {
    ///             let mut sorted = [i, j, k];
    ///             sorted.sort();
    ///             let want = match sorted {
    ///                 [0, 1, 2] => 1.5,
    ///                 [2, 2, 2] => -4.0,
    ///                 _ => 0.0,
    ///             };
    ///             assert_eq!(d.get(&[i, j, k])?, want, "entry ({i}, {j}, {k})");
    ///         }
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn to_dense(&self) -> Result<SymmetricTensor> {
        let len = check_dense_size(self.order, self.dim)?;
        let mut data = dense_zeros(len, self.order, self.dim)?;
        match &self.storage {
            Storage::Dense(d) => data.copy_from_slice(d),
            Storage::Coo { idx, val } => {
                for (i, &v) in idx.chunks_exact(self.order).zip(val) {
                    let l = i.iter().fold(0usize, |acc, &x| acc * self.dim + x as usize);
                    data[l] = v;
                }
            }
        }
        Ok(SymmetricTensor {
            order: self.order,
            dim: self.dim,
            storage: Storage::Dense(data),
            scale_exp: self.scale_exp,
        })
    }

    /// The entry at `index` (0-based).
    ///
    /// # Errors
    /// `index.len() ≠ p` or an index `≥ n`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::tensor::SymmetricTensor;
    /// use randnla::Error;
    /// // T_011 = 5 (listed once; its permutations implied), n = 2.
    /// let t = SymmetricTensor::coordinate(3, 2, &[1, 0, 1], &[5.0])?;
    /// for index in [[0, 1, 1], [1, 0, 1], [1, 1, 0]] {
    ///     assert_eq!(t.get(&index)?, 5.0);
    /// }
    /// assert_eq!(t.get(&[0, 0, 1])?, 0.0); // not stored
    /// assert!(matches!(t.get(&[0, 1]), Err(Error::DimensionMismatch { .. }))); // p = 3 indices
    /// assert!(matches!(t.get(&[0, 1, 2]), Err(Error::InvalidStructure { .. }))); // 2 ≥ n
    /// # Ok(()) }
    /// ```
    pub fn get(&self, index: &[usize]) -> Result<f64> {
        if index.len() != self.order {
            return Err(Error::dim("multi-index length", self.order, index.len()));
        }
        if let Some(&i) = index.iter().find(|&&i| i >= self.dim) {
            return Err(Error::structure(format!(
                "index {i} is not below the dimension {}",
                self.dim
            )));
        }
        Ok(match &self.storage {
            Storage::Dense(d) => d[index.iter().fold(0usize, |acc, &x| acc * self.dim + x)],
            Storage::Coo { idx, val } => {
                let key: Vec<u32> = index.iter().map(|&i| i as u32).collect();
                let p = self.order;
                let (mut lo, mut hi) = (0usize, val.len());
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if idx[mid * p..(mid + 1) * p] < key[..] {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                if lo < val.len() && idx[lo * p..(lo + 1) * p] == key[..] {
                    val[lo]
                } else {
                    0.0
                }
            }
        })
    }

    pub(crate) fn check_vec(&self, u: &[f64], what: &str) -> Result<()> {
        if u.len() != self.dim {
            return Err(Error::dim(what.to_string(), self.dim, u.len()));
        }
        crate::input::check_finite_slice(u, what)
    }

    /// `T(I,u,…,u)`: the vector `z_i = Σ_{j₂…j_p} T_{i j₂…j_p} u_{j₂}⋯u_{j_p}`.
    ///
    /// Bitwise identical for every thread count (fixed task sizes and reduction order). At
    /// extreme scales computed on `T·2⁻ᵉ` and scaled back (see the scaling note).
    ///
    /// # Errors
    /// `u.len() ≠ n` or a non-finite entry of `u`; [`Error::NonFinite`] when the result is
    /// beyond the `f64` range (a finite `u` far from unit scale, or entries near the largest
    /// `f64`, whose products overflow), rather than `Ok` with an infinite or `NaN` entry.
    ///
    /// # Performance
    /// Dense: `n^p` multiply-adds, one pass over the array. Coordinate: `p·nnz`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::faer::Par;
    /// use randnla::tensor::SymmetricTensor;
    /// use randnla::Seed;
    /// // A dense tensor with no structure to exploit: rank 2 plus 50 % noise, n = 4.
    /// let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 4, 2, 0.5, Seed::new(7))?;
    /// let u = [0.5, -1.0, 0.25, 2.0];
    /// let z = t.contract_but_one(&u, Par::Seq)?;
    /// // z_i = Σ_jk T_ijk u_j u_k and T(u,u,u) = Σ_ijk T_ijk u_i u_j u_k, summed by hand; the
    /// // entries and z are of order 1, so 1e-12 is rounding only.
    /// let mut all = 0.0;
    /// for i in 0..4 {
    ///     let mut zi = 0.0;
    ///     for j in 0..4 {
    ///         for k in 0..4 {
    ///             zi += t.get(&[i, j, k])? * u[j] * u[k];
    ///         }
    ///     }
    ///     assert!((z[i] - zi).abs() < 1e-12, "z[{i}] = {}, expected {zi}", z[i]);
    ///     all += u[i] * zi;
    /// }
    /// let v = t.contract_all(&u, Par::Seq)?;
    /// assert!((v - all).abs() < 1e-12, "T(u,u,u) = {v}, expected {all}");
    /// # Ok(()) }
    /// ```
    pub fn contract_but_one(&self, u: &[f64], par: Par) -> Result<Vec<f64>> {
        self.check_vec(u, "u")?;
        let mut z = self.but_one_scaled(u, par);
        if self.scale_exp != 0 {
            z.iter_mut().for_each(|x| *x = mul_pow2(*x, self.scale_exp));
        }
        check_overflow(&z, "T(I,u,…,u)")?;
        Ok(z)
    }

    /// `T(u,…,u) = Σ_i u_i·T(I,u,…,u)_i`.
    ///
    /// # Errors
    /// As [`SymmetricTensor::contract_but_one`].
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::faer::Par;
    /// use randnla::tensor::SymmetricTensor;
    /// // T = 2·a⊗a⊗a − b⊗b⊗b with orthonormal a, b: T(u,u,u) = 2⟨a,u⟩³ − ⟨b,u⟩³.
    /// let (a, b) = ([0.6, 0.8, 0.0], [0.0, 0.0, 1.0]);
    /// let t = SymmetricTensor::from_components(3, 3, &[2.0, -1.0], &[a, b])?;
    /// assert!((t.contract_all(&a, Par::Seq)? - 2.0).abs() < 1e-15);
    /// assert!((t.contract_all(&b, Par::Seq)? + 1.0).abs() < 1e-15);
    /// // u = (a + b)/√2: ⟨a,u⟩ = ⟨b,u⟩ = 1/√2, so T(u,u,u) = (2 − 1)/2^{3/2}.
    /// let s = 0.5f64.sqrt();
    /// let u = [0.6 * s, 0.8 * s, s];
    /// let v = t.contract_all(&u, Par::Seq)?;
    /// assert!((v - 0.5f64.powf(1.5)).abs() < 1e-15, "{v}");
    /// # Ok(()) }
    /// ```
    pub fn contract_all(&self, u: &[f64], par: Par) -> Result<f64> {
        self.check_vec(u, "u")?;
        let z = self.but_one_scaled(u, par);
        let v = mul_pow2(dot(&z, u), self.scale_exp);
        check_overflow(&[v], "T(u,…,u)")?;
        Ok(v)
    }

    /// `(T·2⁻ᵉ)(I,u,…,u)` with the scaling note's `e` (`T(I,u,…,u)` within the range): every
    /// entry is multiplied by `2⁻ᵉ` before it meets `u`, which gives bitwise the contraction of
    /// the scaled tensor.
    pub(crate) fn but_one_scaled(&self, u: &[f64], par: Par) -> Vec<f64> {
        let n = self.dim;
        let parallel = super::tasks(par) > 1;
        let s = self.scale_factor();
        match &self.storage {
            Storage::Dense(d) => {
                let row = d.len() / n;
                let mut z = vec![0.0; n];
                let task = |(t, zs): (usize, &mut [f64])| {
                    for (r, zi) in zs.iter_mut().enumerate() {
                        let i = t * DENSE_ROWS_PER_TASK + r;
                        *zi = contract_slice(&d[i * row..(i + 1) * row], u, self.order - 1, s);
                    }
                };
                if parallel {
                    z.par_chunks_mut(DENSE_ROWS_PER_TASK)
                        .enumerate()
                        .for_each(task);
                } else {
                    z.chunks_mut(DENSE_ROWS_PER_TASK).enumerate().for_each(task);
                }
                z
            }
            Storage::Coo { idx, val } => {
                let p = self.order;
                // Each task sums its entries into runs of equal first index (entries are sorted),
                // then the runs are added in task order.
                // The exact method's contraction (the baseline of the sketched one's benchmark):
                // no extra multiply per entry when the tensor needs no scaling.
                let scaled = s != 1.0;
                let task = |(ic, vc): (&[u32], &[f64])| -> Vec<(u32, f64)> {
                    let mut runs: Vec<(u32, f64)> = Vec::new();
                    for (i, &v) in ic.chunks_exact(p).zip(vc) {
                        let mut prod = if scaled { v * s } else { v };
                        for &j in &i[1..] {
                            prod *= u[j as usize];
                        }
                        match runs.last_mut() {
                            Some((r, s)) if *r == i[0] => *s += prod,
                            _ => runs.push((i[0], prod)),
                        }
                    }
                    runs
                };
                let chunks: Vec<Vec<(u32, f64)>> = if parallel {
                    idx.par_chunks(COO_ENTRIES_PER_TASK * p)
                        .zip(val.par_chunks(COO_ENTRIES_PER_TASK))
                        .map(task)
                        .collect()
                } else {
                    idx.chunks(COO_ENTRIES_PER_TASK * p)
                        .zip(val.chunks(COO_ENTRIES_PER_TASK))
                        .map(task)
                        .collect()
                };
                let mut z = vec![0.0; n];
                for runs in chunks {
                    for (i, s) in runs {
                        z[i as usize] += s;
                    }
                }
                z
            }
        }
    }

    /// [`but_one_scaled`](Self::but_one_scaled) of each vector in `us` (all of length `n`),
    /// the same bits: a dense tensor is streamed once for all of them
    /// ([`contract_slice_many`]), coordinate storage once per vector.
    pub(crate) fn but_one_scaled_many(&self, us: &[&[f64]], par: Par) -> Vec<Vec<f64>> {
        let Storage::Dense(d) = &self.storage else {
            return us.iter().map(|u| self.but_one_scaled(u, par)).collect();
        };
        let (n, l) = (self.dim, us.len());
        if l == 0 {
            return Vec::new();
        }
        let parallel = super::tasks(par) > 1;
        let s = self.scale_factor();
        let row = d.len() / n;
        let modes = self.order - 1;
        // Row-major `n × l`: entry `(i, l)` is `T(I,u_l,…,u_l)_i`.
        let mut z = vec![0.0; n * l];
        let task = |(t, zs): (usize, &mut [f64])| {
            let mut scratch = vec![0.0; l * modes.max(1)];
            for (r, zi) in zs.chunks_mut(l).enumerate() {
                let i = t * DENSE_ROWS_PER_TASK + r;
                contract_slice_many(&d[i * row..(i + 1) * row], us, modes, s, zi, &mut scratch);
            }
        };
        if parallel {
            z.par_chunks_mut(DENSE_ROWS_PER_TASK * l)
                .enumerate()
                .for_each(task);
        } else {
            z.chunks_mut(DENSE_ROWS_PER_TASK * l)
                .enumerate()
                .for_each(task);
        }
        (0..l)
            .map(|k| (0..n).map(|i| z[i * l + k]).collect())
            .collect()
    }

    /// A synthetic test tensor `T = Σ_{j<k} λ_j a_j^{⊗p} + E` with orthonormal `a_j` (Gram–Schmidt
    /// on Gaussian vectors), decaying weights `λ_j = 0.8^j`, and a symmetric Gaussian noise
    /// tensor `E` scaled so that `‖E‖_F = noise·‖Σ λ_j a_j^{⊗p}‖_F`. Dense storage, exactly
    /// symmetric like [`SymmetricTensor::dense`]'s: every ordering of a multi-index reads the same
    /// bits.
    ///
    /// Returns the tensor, the weights and the factors. A pure function of `seed`.
    ///
    /// # Errors
    /// Shape errors, `k = 0`, `k > n`, `noise < 0` or non-finite or so large that the noise
    /// entries overflow, `n^p > 2²⁸` (or refused by the allocator).
    ///
    /// # Performance
    /// `O((k + p log p)·n^p)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::faer::Par;
    /// use randnla::tensor::SymmetricTensor;
    /// use randnla::Seed;
    /// let (n, seed) = (6, Seed::new(5));
    /// let (t, weights, factors) = SymmetricTensor::synthetic_orthogonal(3, n, 3, 0.1, seed)?;
    /// assert_eq!((t.order(), t.dim(), t.nnz()), (3, n, n * n * n));
    /// // Weights 0.8^j; orthonormal factors.
    /// for (j, w) in weights.iter().enumerate() {
    ///     assert!((w - 0.8f64.powi(j as i32)).abs() < 1e-15, "λ_{j} = {w}");
    /// }
    /// let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
    /// for (j, a) in factors.iter().enumerate() {
    ///     for (l, b) in factors.iter().enumerate() {
    ///         let want = if j == l { 1.0 } else { 0.0 };
    ///         assert!((dot(a, b) - want).abs() < 1e-12, "⟨a_{j}, a_{l}⟩");
    ///     }
    /// }
    /// // The noise E = T − Σ λ_j a_j^{⊗3} has ‖E‖_F = 0.1·‖Σ λ_j a_j^{⊗3}‖_F (to rounding).
    /// let signal = SymmetricTensor::from_components(3, n, &weights, &factors)?;
    /// let mut e2 = 0.0;
    /// for i in 0..n {
    ///     for j in 0..n {
    ///         for k in 0..n {
    ///             e2 += (t.get(&[i, j, k])? - signal.get(&[i, j, k])?).powi(2);
    ///         }
    ///     }
    /// }
    /// let ratio = e2.sqrt() / signal.norm();
    /// assert!((ratio - 0.1).abs() < 1e-12, "{ratio}");
    /// // A pure function of the seed.
    /// let (again, _, factors_again) = SymmetricTensor::synthetic_orthogonal(3, n, 3, 0.1, seed)?;
    /// assert_eq!(factors_again, factors);
    /// let u = vec![1.0; n];
    /// assert_eq!(again.contract_all(&u, Par::Seq)?, t.contract_all(&u, Par::Seq)?);
    /// # Ok(()) }
    /// ```
    pub fn synthetic_orthogonal(
        order: usize,
        dim: usize,
        k: usize,
        noise: f64,
        seed: Seed,
    ) -> Result<(SymmetricTensor, Vec<f64>, Vec<Vec<f64>>)> {
        check_shape(order, dim)?;
        let len = check_dense_size(order, dim)?;
        if k == 0 || k > dim {
            return Err(Error::param(
                "k",
                format!("the rank {k} must be in 1..={dim} (orthogonal components)"),
            ));
        }
        if !(noise.is_finite() && noise >= 0.0) {
            return Err(Error::param(
                "noise",
                format!("{noise} is not a finite value ≥ 0"),
            ));
        }
        let fseed = seed.derive(0x72);
        let mut factors: Vec<Vec<f64>> = Vec::with_capacity(k);
        let mut j = 0u64;
        while factors.len() < k {
            let mut a: Vec<f64> = (0..dim as u64)
                .map(|i| normal_from_words(fseed.word(2 * j, i), fseed.word(2 * j + 1, i)))
                .collect();
            j += 1;
            for _ in 0..2 {
                for f in &factors {
                    let c = dot(&a, f);
                    a.iter_mut().zip(f).for_each(|(x, y)| *x -= c * y);
                }
            }
            let nrm = dot(&a, &a).sqrt();
            if nrm > 1e-8 {
                a.iter_mut().for_each(|x| *x /= nrm);
                factors.push(a);
            }
        }
        let weights: Vec<f64> = (0..k).map(|j| 0.8f64.powi(j as i32)).collect();
        let mut data = dense_zeros(len, order, dim)?;
        for (&w, a) in weights.iter().zip(&factors) {
            add_power(&mut data, order, dim, w, a);
        }
        // `add_power` multiplies in index order, so the orderings of one multi-index round
        // differently: make the storage exactly symmetric, as `dense` and `from_components` do
        // (the noise below is a function of the sorted multi-index, so it keeps that).
        copy_sorted_representatives(&mut data, order, dim);
        if noise > 0.0 {
            let signal = dot(&data, &data).sqrt();
            let nseed = seed.derive(NOISE_STREAM);
            let mut e = dense_zeros(len, order, dim)?;
            let mut idx = vec![0usize; order];
            for (lin, x) in e.iter_mut().enumerate() {
                let mut r = lin;
                for kk in (0..order).rev() {
                    idx[kk] = r % dim;
                    r /= dim;
                }
                idx.sort_unstable();
                let canon = idx.iter().fold(0u64, |acc, &i| acc * dim as u64 + i as u64);
                *x = normal_from_words(nseed.word(0, canon), nseed.word(1, canon));
            }
            let en = dot(&e, &e).sqrt();
            let scale = noise * signal / en;
            data.iter_mut().zip(&e).for_each(|(d, x)| *d += scale * x);
            if !data.iter().all(|x| x.is_finite()) {
                return Err(Error::param(
                    "noise",
                    format!("{noise}: the noise entries overflow the f64 range"),
                ));
            }
        }
        Ok((
            SymmetricTensor::with_storage(order, dim, Storage::Dense(data)),
            weights,
            factors,
        ))
    }
}

/// Equality of the tensors, not of their storage: the same order `p`, dimension `n` and every
/// entry equal (`==` on `f64`, so `−0 = +0`; entries are finite). A coordinate tensor equals its
/// [`to_dense`](SymmetricTensor::to_dense) copy, and explicitly stored zeros count as absent.
///
/// # Performance
/// `O(p·nnz)` when both are in coordinate storage, `O(n^p)` when either is dense.
///
/// # Examples
///
/// ```
/// # fn main() -> randnla::Result<()> {
/// use randnla::tensor::SymmetricTensor;
/// let c = SymmetricTensor::coordinate(3, 2, &[0, 1, 1, 0, 0, 0], &[2.0, 0.0])?;
/// let d = SymmetricTensor::coordinate(3, 2, &[1, 0, 1], &[2.0])?; // the same, no stored zero
/// assert!(c == d && c == c.to_dense()?);
/// assert!(c != SymmetricTensor::coordinate(3, 2, &[1, 1, 0], &[-2.0])?);
/// # Ok(()) }
/// ```
impl PartialEq for SymmetricTensor {
    fn eq(&self, other: &Self) -> bool {
        if self.order != other.order || self.dim != other.dim {
            return false;
        }
        /// Stored coordinate entries whose value is not zero, in storage (lexicographic) order.
        fn nonzero<'a>(p: usize, idx: &'a [u32], val: &[f64]) -> Vec<(&'a [u32], f64)> {
            let pairs = idx.chunks_exact(p).zip(val.iter().copied());
            pairs.filter(|&(_, v)| v != 0.0).collect()
        }
        let p = self.order;
        match (&self.storage, &other.storage) {
            (Storage::Dense(a), Storage::Dense(b)) => a == b,
            (Storage::Coo { idx: ia, val: va }, Storage::Coo { idx: ib, val: vb }) => {
                nonzero(p, ia, va) == nonzero(p, ib, vb)
            }
            (Storage::Dense(d), Storage::Coo { idx, val })
            | (Storage::Coo { idx, val }, Storage::Dense(d)) => {
                // Coordinate indices are distinct, so the dense array's nonzeros are the
                // coordinate ones exactly when each coordinate entry is found there and the
                // counts agree.
                let linear =
                    |i: &[u32]| i.iter().fold(0usize, |acc, &x| acc * self.dim + x as usize);
                let entries = nonzero(p, idx, val);
                entries.iter().all(|&(i, v)| d[linear(i)] == v)
                    && d.iter().filter(|&&v| v != 0.0).count() == entries.len()
            }
        }
    }
}

/// Sets every entry of a row-major `n^p` array to the entry at its sorted multi-index
/// (`i₁ ≤ … ≤ i_p`): exactly symmetric storage from entries that are symmetric up to rounding.
/// The sorted multi-index is the lexicographically smallest of its permutations, so in
/// row-major order it is visited first and is never overwritten before it is copied.
fn copy_sorted_representatives(data: &mut [f64], order: usize, dim: usize) {
    let mut idx = vec![0usize; order];
    let mut sorted = vec![0usize; order];
    for lin in 0..data.len() {
        sorted.copy_from_slice(&idx);
        sorted.sort_unstable();
        let first = sorted.iter().fold(0usize, |acc, &i| acc * dim + i);
        if first != lin {
            data[lin] = data[first];
        }
        // The next multi-index in row-major order (an odometer: no divisions).
        for k in (0..order).rev() {
            idx[k] += 1;
            if idx[k] < dim {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// `data += w·a^{⊗p}` on a dense row-major array.
fn add_power(data: &mut [f64], order: usize, dim: usize, w: f64, a: &[f64]) {
    // Build the outer power mode by mode: prefix products of length n^d.
    let mut prefix = vec![w];
    for _ in 0..order - 1 {
        let mut next = Vec::with_capacity(prefix.len() * dim);
        for &p in &prefix {
            next.extend(a.iter().map(|&x| p * x));
        }
        prefix = next;
    }
    for (chunk, &p) in data.chunks_exact_mut(dim).zip(&prefix) {
        for (d, &x) in chunk.iter_mut().zip(a) {
            *d += p * x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_counts() {
        assert_eq!(distinct_permutations(&[0, 1, 2]), 6);
        assert_eq!(distinct_permutations(&[0, 0, 2]), 3);
        assert_eq!(distinct_permutations(&[1, 1, 1]), 1);
        assert_eq!(distinct_permutations(&[0, 0, 1, 1]), 6);
    }
}
