//! Row-sampling sketches: keep a random subset of the rows of `A`, rescaled so that the sketch is
//! unbiased.
//!
//! A row-sampling sketch `S` has one nonzero per row: row `t` of `S·A` is a rescaled copy of one
//! row of `A`. Sampled by *leverage scores* (see [`crate::leverage`]) it is a subspace embedding
//! with `m = O(d·log(d/δ)/ε²)` rows on *every* matrix — coherent ones included, where uniform
//! sampling needs `m` of order `n` (Drineas–Mahoney–Muthukrishnan 2006; Woodruff, *Sketching as
//! a Tool for Numerical Linear Algebra*, arXiv 1411.4357, §2.4). Two schemes:
//!
//! * [`RowSampling::with_replacement`]: `m` i.i.d. draws `i_t ~ p`, row `t` of `S` is
//!   `e_{i_t}ᵀ / √(m·p_{i_t})`. Exactly `m` rows; a row may be drawn more than once.
//! * [`RowSampling::bernoulli`]: every row `i` is kept independently with probability
//!   `q_i = min(1, m·p_i)` and scaled by `1/√q_i`. Each row is kept at most once, the expected
//!   number of kept rows is `Σ q_i ≤ m`, and the realized number is random: it is fixed when the
//!   operator is built, and [`nrows`](SketchOperator::nrows) returns it (it may be `0` when
//!   `m` is small).
//!
//! In both, `E[SᵀS] = I` on the rows with `p_i > 0`, so `E‖Sx‖² = ‖x‖²` for every `x` supported
//! there — up to the resolution of the draws, which compare a uniform with 53 random bits to
//! `q_i`, or (with replacement) to a cumulative sum of the weights in `f64`: a row whose `p_i`
//! is below about `2⁻⁵³` is drawn with a probability off by up to `2⁻⁵³` per draw, or never
//! (weights `[1, 2⁻⁶⁰]`: row 1 is never drawn with replacement). Probabilities are given as
//! non-negative weights (leverage scores, ridge leverage scores, squared row norms from
//! [`row_norm_weights`], or all ones for uniform sampling) and normalized internally:
//! `p_i = w_i / Σ w`.
//!
//! # Reproducibility
//! Draw `t` (with replacement) is the inverse CDF of `p` at the uniform
//! `unit_f64(seed.word(·, t))`; the keep/drop decision of row `i` (Bernoulli) uses
//! `seed.word(·, i)`. Both are pure functions of `(seed, index)` and the weights, so the operator
//! is the same for any thread count. Every entry of `S·A` receives exactly one contribution (from
//! its one sampled row), so `S·A` is bitwise identical for CSR, CSC and dense storage, for any
//! thread count, and for `A` whole or split into row blocks:
//! `apply_block_into(row_offset, block, ..)` adds exactly the sampled rows that fall inside
//! `row_offset .. row_offset + block.nrows()`.

use super::{check_block, overflow_error, SketchOperator};
use crate::error::{Error, Result};
use crate::input::{Layout, MatrixRef, SparseRef};
use crate::scalar::{exponent, mul_pow2, Scalar};
use crate::seed::{unit_f64, Seed};
use faer::{Mat, MatMut, Par};
use std::borrow::Cow;

/// Stream of the i.i.d. draws (with replacement).
const STREAM_DRAWS: u64 = 0x30;
/// Stream of the Bernoulli keep/drop decisions.
const STREAM_BERNOULLI: u64 = 0x31;
/// Largest number of rows a sampling sketch may have (24 bytes each: 6 GiB).
const MAX_ROWS: usize = 1 << 28;

/// How the rows of a [`RowSampling`] sketch were drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SamplingScheme {
    /// `m` i.i.d. draws with replacement, scale `1/√(m·p_i)`.
    WithReplacement,
    /// Independent keep/drop per row with `q_i = min(1, m·p_i)`, scale `1/√q_i`.
    Bernoulli,
}

option_names!(SamplingScheme, "scheme", [WithReplacement => "with-replacement", Bernoulli => "bernoulli"]);

/// A row-sampling sketch (see the [module docs](self) for the two schemes and their scaling).
///
/// # Errors
/// Applying it (any [`SketchOperator`] or [`SketchExt`](super::SketchExt) method) returns
/// [`Error::NonFinite`], never ±∞ or NaN, when a scaled row overflows the scalar type: a scale
/// `1/√(m·p_i)` above 1 (a row drawn rarely) times an entry near the largest value. Scale `A`
/// down by a power of two (see [`SketchOperator::apply_block_into`], also for the state of an
/// accumulated output).
///
/// # Examples
///
/// ```
/// use randnla::sketch::{sampling::RowSampling, SketchExt};
/// use randnla::{MatrixRef, Seed};
/// let a = randnla::faer::Mat::<f64>::from_fn(1000, 3, |i, j| (i + j) as f64);
/// // Squared row norms as weights; 50 draws with replacement.
/// let view = MatrixRef::dense(a.as_ref()).unwrap();
/// let w = randnla::sketch::sampling::row_norm_weights(view).unwrap();
/// let s = RowSampling::with_replacement(&w, 50, Seed::new(1)).unwrap();
/// let sa = s.apply(view, randnla::faer::Par::Seq).unwrap();
/// assert_eq!((sa.nrows(), sa.ncols()), (50, 3));
/// // Row t of S·A is row rows()[t] of A times scales()[t].
/// let (i, c) = (s.rows()[7], s.scales()[7]);
/// assert_eq!(sa[(7, 2)], c * a[(i, 2)]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RowSampling {
    n: usize,
    seed: Seed,
    scheme: SamplingScheme,
    /// Input row of output row `t`.
    rows: Vec<usize>,
    /// Scale of output row `t`.
    scales: Vec<f64>,
    /// Output rows sorted by `(rows[t], t)`.
    order: Vec<usize>,
}

/// Validates weights and returns them with their sum; weights whose largest is far from 1
/// (beyond `2^±128`) are first scaled by an exact power of two, so that their sum neither
/// overflows (`[1e308, 1e308]` summed to ∞ and was refused) nor loses digits to underflow. The
/// probabilities `w_i/Σ w` do not depend on the scaling; ordinary weights are used as given.
fn check_weights(weights: &[f64]) -> Result<(Cow<'_, [f64]>, f64)> {
    if weights.is_empty() {
        return Err(Error::empty(
            "the list of sampling weights (one per row of A)",
        ));
    }
    let mut largest = 0.0f64;
    for (i, &w) in weights.iter().enumerate() {
        if !w.is_finite() || w < 0.0 {
            return Err(Error::param(
                "weights",
                format!("weight {i} is {w}; every weight must be finite and ≥ 0"),
            ));
        }
        largest = largest.max(w);
    }
    let e = exponent(largest);
    let weights = if e.abs() > 128 {
        let mut scaled = crate::input::filled_or_too_large(weights.len(), 0.0, "scaled weights")?;
        for (s, &w) in scaled.iter_mut().zip(weights) {
            *s = mul_pow2(w, -e);
        }
        Cow::Owned(scaled)
    } else {
        Cow::Borrowed(weights)
    };
    let total: f64 = weights.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(Error::param(
            "weights",
            format!("the weights sum to {total}; their sum must be positive and finite"),
        ));
    }
    Ok((weights, total))
}

/// `1/√(m·p)` with `p = w/Σ w`, the scale of a row drawn with replacement. When `m·w/Σ w`
/// falls below the normal range (a subnormal weight beside normal ones) it is formed with `w`
/// scaled by 2⁶⁰⁰ and the result scaled back by 2⁻³⁰⁰, both exact: `1/√(m·p)` then keeps full
/// precision instead of coming out `+∞` (`p` rounded to 0) or a few digits short. Where `m·p`
/// is normal this is the plain formula, bit for bit. The result is finite for every `w > 0`:
/// at most `√(Σ w/w) ≤ 2⁶³³` for the weights [`check_weights`] lets through.
fn inverse_sqrt_probability(w: f64, m: usize, total: f64) -> f64 {
    let mp = m as f64 * w / total;
    if mp >= f64::MIN_POSITIVE || w == 0.0 {
        1.0 / mp.sqrt()
    } else {
        mul_pow2(1.0 / (m as f64 * mul_pow2(w, 600) / total).sqrt(), 300)
    }
}

/// `scale·v` in `T`: the scale rounded to `T` times `v`, or, when the scale lies beyond `T`'s
/// range (an `f32` sketch of a row drawn with probability below about `10⁻⁷⁷/m`, scale above
/// `f32::MAX`), the `f64` product `scale·v` rounded to `T`, which is finite whenever the scaled
/// entry fits `T`.
#[inline]
fn scaled<T: Scalar>(scale: f64, s: T, v: T) -> T {
    if s.finite() {
        s * v
    } else {
        T::from_f64(scale * v.to_f64())
    }
}

fn check_rows(m: usize) -> Result<()> {
    if m == 0 {
        return Err(Error::param(
            "m",
            "m = 0 sampled rows; at least one row is required",
        ));
    }
    if m > MAX_ROWS {
        return Err(Error::TooLarge {
            what: format!("a row-sampling sketch with m = {m} rows (24 bytes per row)"),
            requested: m as u128,
            limit: MAX_ROWS as u128,
        });
    }
    Ok(())
}

impl RowSampling {
    /// `m` rows drawn i.i.d. with replacement with probabilities `p_i = w_i / Σ w`; row `t` of
    /// `S` is `e_{i_t}ᵀ/√(m·p_{i_t})`.
    ///
    /// # Errors
    /// [`Error::Empty`] for no weights; [`Error::InvalidParameter`] for a negative, NaN or infinite
    /// weight, weights summing to zero, or `m = 0`; [`Error::TooLarge`] for
    /// `m > 2^28` or when the CDF or the sampled rows cannot be allocated.
    ///
    /// # Performance
    /// `O(n + m·log n + m·log m)` time (the CDF, a binary search per draw, and the draws sorted
    /// by input row for [`apply_block_into`](SketchOperator::apply_block_into)), `O(n)`
    /// temporary memory (the CDF), `O(m)` stored (24 bytes per row).
    pub fn with_replacement(weights: &[f64], m: usize, seed: Seed) -> Result<Self> {
        let (weights, total) = check_weights(weights)?;
        check_rows(m)?;
        let mut cdf = crate::input::filled_or_too_large(weights.len(), 0.0, "CDF of the weights")?;
        let mut acc = 0.0;
        for (c, &w) in cdf.iter_mut().zip(weights.iter()) {
            acc += w;
            *c = acc;
        }
        let total_cdf = acc;
        // The last row with positive weight: the clamp for a target rounded up to the total.
        let last = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);
        let mut rows = Vec::new();
        let mut scales = Vec::new();
        if rows.try_reserve_exact(m).is_err() || scales.try_reserve_exact(m).is_err() {
            return Err(Error::TooLarge {
                what: format!("the {m} sampled rows and their scales"),
                requested: m as u128,
                limit: MAX_ROWS as u128,
            });
        }
        for t in 0..m {
            let target = unit_f64(seed.word(STREAM_DRAWS, t as u64)) * total_cdf;
            let i = cdf.partition_point(|&c| c <= target).min(last);
            rows.push(i);
            scales.push(inverse_sqrt_probability(weights[i], m, total));
        }
        Ok(Self::assemble(
            weights.len(),
            seed,
            SamplingScheme::WithReplacement,
            rows,
            scales,
        ))
    }

    /// Uniform sampling with replacement: [`with_replacement`](Self::with_replacement) with equal
    /// weights (scale `√(n/m)`).
    ///
    /// # Errors
    /// As [`with_replacement`](Self::with_replacement); `n = 0` is [`Error::Empty`];
    /// [`Error::TooLarge`] when the `n` weights cannot be allocated.
    pub fn uniform(n: usize, m: usize, seed: Seed) -> Result<Self> {
        if n == 0 {
            return Err(Error::empty("A (uniform sampling needs n ≥ 1 rows)"));
        }
        Self::with_replacement(
            &crate::input::filled_or_too_large(n, 1.0, "uniform weights")?,
            m,
            seed,
        )
    }

    /// Independent (Bernoulli) sampling with expected size at most `m`: row `i` is kept with
    /// probability `q_i = min(1, m·p_i)`, `p_i = w_i/Σ w`, and scaled by `1/√q_i`. The kept rows
    /// appear in increasing order; [`nrows`](SketchOperator::nrows) is their number (random, with
    /// mean `Σ q_i`; it can be 0).
    ///
    /// # Errors
    /// As [`with_replacement`](Self::with_replacement).
    ///
    /// # Performance
    /// `O(n)` time, one random word per row; `O(number kept)` stored (24 bytes per row).
    pub fn bernoulli(weights: &[f64], m: usize, seed: Seed) -> Result<Self> {
        let (weights, total) = check_weights(weights)?;
        check_rows(m)?;
        let mut rows = Vec::new();
        let mut scales = Vec::new();
        for (i, &w) in weights.iter().enumerate() {
            let p = w / total;
            if p >= f64::MIN_POSITIVE || w == 0.0 {
                let q = (m as f64 * p).min(1.0);
                if q > 0.0 && unit_f64(seed.word(STREAM_BERNOULLI, i as u64)) < q {
                    rows.push(i);
                    scales.push(1.0 / q.sqrt());
                }
            } else if unit_f64(seed.word(STREAM_BERNOULLI, i as u64)) == 0.0 {
                // `p_i` below the normal range, `q_i = m·p_i < 2⁻⁹⁹⁴`: the uniform (a multiple of
                // 2⁻⁵³) is below `q_i` only when it is 0. `p_i` is formed scaled by 2⁶⁰⁰, so a
                // weight whose `w_i/Σ w` underflowed to 0 or to a subnormal with few digits left
                // still gets the scale `1/√q_i` to full precision (≈ 10¹⁵⁰ or more, finite).
                rows.push(i);
                let q_scaled = m as f64 * (mul_pow2(w, 600) / total);
                scales.push(mul_pow2(1.0 / q_scaled.sqrt(), 300));
            }
        }
        Ok(Self::assemble(
            weights.len(),
            seed,
            SamplingScheme::Bernoulli,
            rows,
            scales,
        ))
    }

    fn assemble(
        n: usize,
        seed: Seed,
        scheme: SamplingScheme,
        rows: Vec<usize>,
        scales: Vec<f64>,
    ) -> Self {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_unstable_by_key(|&t| (rows[t], t));
        RowSampling {
            n,
            seed,
            scheme,
            rows,
            scales,
            order,
        }
    }

    /// The input row copied into output row `t`, for every `t`.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// The scale of output row `t` (`1/√(m·p_i)` or `1/√q_i`), for every `t`.
    pub fn scales(&self) -> &[f64] {
        &self.scales
    }

    /// How the rows were drawn.
    pub fn scheme(&self) -> SamplingScheme {
        self.scheme
    }

    /// The output rows whose input row lies in `lo..hi`, sorted by input row.
    fn draws_in(&self, lo: usize, hi: usize) -> &[usize] {
        let a = self.order.partition_point(|&t| self.rows[t] < lo);
        let b = self.order.partition_point(|&t| self.rows[t] < hi);
        &self.order[a..b]
    }
}

impl<T: Scalar> SketchOperator<T> for RowSampling {
    fn nrows(&self) -> usize {
        self.rows.len()
    }
    fn ncols(&self) -> usize {
        self.n
    }
    fn seed(&self) -> Seed {
        self.seed
    }
    fn name(&self) -> &'static str {
        match self.scheme {
            SamplingScheme::WithReplacement => "row-sampling",
            SamplingScheme::Bernoulli => "bernoulli-sampling",
        }
    }

    /// Adds `scale_t · A[i_t, :]` into row `t` of `out` for every draw whose input row `i_t` lies
    /// in this block. Single-threaded (`par` is unused): the work is `O(m·d)` copies for dense and
    /// CSR blocks (only the sampled rows are read) and `O(nnz(block) + m·d)` for CSC blocks, and
    /// the overflow check reads only the rows it wrote (scales `1/√(m·p_i)` above 1 can take an
    /// entry of `A` past the largest `T`).
    fn apply_block_into(
        &self,
        row_offset: usize,
        block: MatrixRef<'_, T>,
        mut out: MatMut<'_, T>,
        _par: Par,
    ) -> Result<()> {
        check_block(self.rows.len(), self.n, row_offset, &block, &out)?;
        let k = block.nrows();
        let draws = self.draws_in(row_offset, row_offset + k);
        if draws.is_empty() || block.ncols() == 0 {
            return Ok(());
        }
        match block {
            MatrixRef::Dense(a) => {
                for &t in draws {
                    let i = self.rows[t] - row_offset;
                    let (scale, s) = (self.scales[t], T::from_f64(self.scales[t]));
                    for c in 0..a.ncols() {
                        // Zeros are skipped, as the other families' dense kernels do, so an
                        // output holding `−0` keeps it as it does for an unstored sparse entry.
                        let v = a[(i, c)];
                        if v != T::ZERO {
                            out[(t, c)] += scaled(scale, s, v);
                        }
                    }
                }
            }
            MatrixRef::Sparse(sp) if sp.layout() == Layout::Csr => {
                for &t in draws {
                    let (scale, s) = (self.scales[t], T::from_f64(self.scales[t]));
                    let (idx, val) = sp.outer(self.rows[t] - row_offset);
                    for (&c, &v) in idx.iter().zip(val) {
                        out[(t, c)] += scaled(scale, s, v);
                    }
                }
            }
            MatrixRef::Sparse(sp) => {
                // CSC: merge each column's (sorted) row indices with the (sorted) draws.
                for c in 0..sp.ncols() {
                    let (idx, val) = sp.outer(c);
                    let mut p = 0;
                    for &t in draws {
                        let i = self.rows[t] - row_offset;
                        while p < idx.len() && idx[p] < i {
                            p += 1;
                        }
                        if p == idx.len() {
                            break;
                        }
                        if idx[p] == i {
                            let scale = self.scales[t];
                            out[(t, c)] += scaled(scale, T::from_f64(scale), val[p]);
                        }
                    }
                }
            }
        }
        // The rows written, the first NaN or ±∞ in column-major order (as the other sketches'
        // check of their whole output reports it).
        for c in 0..out.ncols() {
            if let Some(t) = draws
                .iter()
                .copied()
                .filter(|&t| !out[(t, c)].finite())
                .min()
            {
                return Err(overflow_error::<T>("S·A", "A", t, c));
            }
        }
        Ok(())
    }

    /// # Errors
    /// Besides the trait's: [`Error::NonFinite`] for an `f32` sketch holding a scale above
    /// `f32::MAX` (a row drawn with probability below about `10⁻⁷⁷/m`), which `f32` cannot
    /// store; [`apply`](super::SketchExt::apply) still applies such a sketch (in `f64`, rounded).
    fn to_dense(&self) -> Result<Mat<T>> {
        if let Some(t) = self.scales.iter().position(|&c| !T::from_f64(c).finite()) {
            return Err(Error::NonFinite {
                what: format!(
                    "the scale of a sampled row ({:e}, above the largest {}; `apply` applies it \
                     in f64, but `to_dense` cannot store it: use the f64 sketch),",
                    self.scales[t],
                    T::NAME
                ),
                row: t,
                col: self.rows[t],
            });
        }
        let mut s = super::dense_zeros::<T>(self.rows.len(), self.n)?;
        for (t, (&i, &c)) in self.rows.iter().zip(&self.scales).enumerate() {
            s[(t, i)] = T::from_f64(c);
        }
        Ok(s)
    }
}

/// Squared Euclidean row norms `w_i = ‖a_i‖²`: the weights of norm-squared sampling
/// (Frieze–Kannan–Vempala; Drineas–Kannan–Mahoney), a cheap but coherence-blind alternative to
/// leverage scores.
///
/// Each `w_i` is summed over the row's entries in ascending column order, whatever the layout of
/// `A`, so the weights are bitwise the same for CSR, CSC and dense storage.
///
/// Rows of tiny entries: a square below `f64::MIN_POSITIVE` (an entry below ≈ 1.5·10⁻¹⁵⁴) is
/// rounded to a multiple of `2⁻¹⁰⁷⁴`, so such a row's weight is off by up to (its stored
/// entries)·`2⁻¹⁰⁷⁵` in absolute terms. Beside a largest weight well inside the normal range
/// this is far below the draws' resolution (`2⁻⁵³` of the sum); beside one near `2⁻¹⁰²²` it is
/// not (a row of 1000 entries `1.5·2⁻⁵³⁸` beside a row `[2⁻⁵¹¹]` gets a weight 78% high). Scale
/// `A` up by a power of two first in that case (the probabilities do not change).
///
/// # Errors
/// [`Error::Empty`] for an `A` without rows or columns; [`Error::NonFinite`] for a NaN/∞ in a dense
/// `A` built without validation, or a squared row norm beyond the largest `f64` (entries above
/// ≈ 10¹⁵⁴): it names the first such row and the column at which that row's running sum of
/// squares passed `f64::MAX`; [`Error::InvalidParameter`] (named `A`) when `A` has a nonzero
/// entry but every squared row norm is below `f64::MIN_POSITIVE` (every entry below
/// ≈ 1.5·10⁻¹⁵⁴ in magnitude): the weights would be 0, or subnormal with too few digits to be
/// sampling proportions, so the message says to scale `A` up by a power of two (the
/// probabilities do not change). An `A` whose entries are all zero has all-zero weights.
/// [`Error::TooLarge`] when the `n` weights cannot be allocated (a sparse `A` may declare far
/// more rows than it stores).
///
/// # Performance
/// One pass over the stored entries, `O(nnz)` time, `O(n)` memory.
pub fn row_norm_weights(a: MatrixRef<'_, f64>) -> Result<Vec<f64>> {
    a.require_nonempty("A")?;
    let mut w = crate::input::filled_or_too_large(a.nrows(), 0.0, "row weights")?;
    match a {
        MatrixRef::Dense(d) => {
            crate::input::check_finite_dense(d, "A")?;
            for c in 0..d.ncols() {
                for (i, wi) in w.iter_mut().enumerate() {
                    let v = d[(i, c)];
                    *wi += v * v;
                }
            }
        }
        MatrixRef::Sparse(s) => {
            for k in 0..s.outer_dim() {
                let (idx, val) = s.outer(k);
                for (&j, &v) in idx.iter().zip(val) {
                    let i = if s.layout() == Layout::Csr { k } else { j };
                    w[i] += v * v;
                }
            }
        }
    }
    if let Some(row) = w.iter().position(|v| v.is_infinite()) {
        return Err(Error::NonFinite {
            what: "the squared norm of a row of A, whose running sum of squares (over ascending \
                   columns) overflowed f64 at the column named here (scale A down by a power of \
                   two; the sampling probabilities do not change),"
                .into(),
            row,
            col: overflow_column(a, row),
        });
    }
    // Every weight underflowed (to 0, or to a subnormal with few digits left): refuse, unless
    // A is zero; only this case, rare, scans A again. A normal largest weight does not make the
    // small ones exact: a square below the normal range is rounded to a multiple of 2⁻¹⁰⁷⁴, so
    // a weight is off by up to (its row's entries)·2⁻¹⁰⁷⁵, which the docs state.
    let largest = w.iter().fold(0.0f64, |m, &v| m.max(v));
    if largest < f64::MIN_POSITIVE && has_nonzero(a) {
        return Err(Error::param(
            "A",
            format!(
                "every squared row norm underflows f64 (the largest is {largest:e}, below \
                 {:e}: A's entries are all below about 1.5e-154 in magnitude), so the weights \
                 would be 0 or lose their digits; scale A up by a power of two (the sampling \
                 probabilities do not change)",
                f64::MIN_POSITIVE
            ),
        ));
    }
    Ok(w)
}

/// The column at which the running sum of squares of `row` (ascending columns, as
/// [`row_norm_weights`] adds them, so the same bits) first becomes infinite.
fn overflow_column(a: MatrixRef<'_, f64>, row: usize) -> usize {
    let mut acc = 0.0f64;
    let mut first_infinite = |v: f64| {
        acc += v * v;
        acc.is_infinite()
    };
    let found = match a {
        MatrixRef::Dense(d) => (0..d.ncols()).find(|&c| first_infinite(d[(row, c)])),
        MatrixRef::Sparse(s) if s.layout() == Layout::Csr => {
            let (idx, val) = s.outer(row);
            idx.iter()
                .zip(val)
                .find(|&(_, &v)| first_infinite(v))
                .map(|(&c, _)| c)
        }
        MatrixRef::Sparse(s) => (0..s.outer_dim()).find(|&c| {
            let (idx, val) = s.outer(c);
            idx.binary_search(&row)
                .is_ok_and(|p| first_infinite(val[p]))
        }),
    };
    // The row's weight is infinite, so its running sum became infinite at some column.
    found.unwrap_or(a.ncols() - 1)
}

/// Whether `A` stores a nonzero value.
fn has_nonzero(a: MatrixRef<'_, f64>) -> bool {
    match a {
        MatrixRef::Dense(d) => (0..d.ncols()).any(|c| (0..d.nrows()).any(|i| d[(i, c)] != 0.0)),
        MatrixRef::Sparse(s) => (0..s.outer_dim()).any(|k| s.outer(k).1.iter().any(|&v| v != 0.0)),
    }
}

/// An owned CSR copy of a CSC matrix (`O(nnz)` time and memory, column indices sorted in each
/// row), for kernels that need row access.
pub(crate) struct OwnedCsr {
    pub(crate) indptr: Vec<usize>,
    pub(crate) indices: Vec<usize>,
    pub(crate) data: Vec<f64>,
}

impl OwnedCsr {
    /// The CSR form of a CSC matrix: the CSC form of its transpose's CSR view.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when its `nrows + 1` row pointers cannot be allocated.
    pub(crate) fn from_csc(a: &SparseRef<'_, f64>, par: Par) -> Result<Self> {
        let t = super::kernels::csr_to_csc(&a.transpose(), par)?;
        Ok(OwnedCsr {
            indptr: t.indptr,
            indices: t.indices,
            data: t.data,
        })
    }
}
