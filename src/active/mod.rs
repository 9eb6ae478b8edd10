//! Active-learning query selection for linear regression: choose which labels to buy.
//!
//! A *pool* `X` (`n × d`, dense or sparse) is known; its labels `y` are not, and each one costs a
//! query to a [`LabelOracle`]. Given a budget of `k` labels, pick `k` rows and weights `w` and fit
//! `β̃ = argmin Σ_{i∈S} w_i (x_iᵀβ − y_i)² (+ λ‖β‖²)`; the goal is
//! `‖Xβ̃ − y‖² ≤ (1 + ε)·OPT` with `OPT = min_β ‖Xβ − y‖²` — for *every* `y`, noise adversarial
//! included, because the selection never looks at label values.
//!
//! | strategy | selection | labels for `E‖Xβ̃ − y‖² ≤ (1+ε)OPT` |
//! |---|---|---|
//! | [`Strategy::Uniform`] | i.i.d. uniform rows | `O(n·max ℓ_i/ε)` — unbounded on coherent pools |
//! | [`Strategy::Leverage`] | i.i.d. rows with `p_i = ℓ_i/d`, weights `1/(m·p_i)` | `O(d log d + d/ε)`; rare draws that miss a high-leverage direction make the *mean* ratio huge |
//! | [`Strategy::Bss`] | Chen–Price randomized BSS-type linear-sample sparsification, balanced weights | `O(d/ε)` |
//!
//! # The pool's basis, and nearly orthogonal bases
//! Every strategy works with a *whitened* pool `V = X·W` (`W` is `d × d`): row `i` of `V` is
//! `v_i = Wᵀx_i`, and `‖v_i‖²` is the sampling score of row `i`. [`Pool::new`] builds `W` once:
//!
//! * [`Basis::Exact`]: `V` has exactly orthonormal columns, so `‖v_i‖² = ℓ_i` are the exact
//!   leverage scores (`W = R⁻¹L⁻ᵀ`, `R` from the QR of a `4d × n` sparse sign sketch of `X`, `L`
//!   the Cholesky factor of `(XR⁻¹)ᵀXR⁻¹`; two streaming passes, `X` is never densified).
//! * [`Basis::Sketched`]: `W = R⁻¹` from the QR of an `m₁ × n` sparse sign sketch only. Then `V`
//!   is a *nearly orthogonal basis* — `VᵀV = Σ` with `κ(Σ) = κ(S₁Q)² ≈ 1–4` — and `‖v_i‖²`
//!   are leverage scores within the sandwich factors of [`crate::leverage`]. This is the setting
//!   of Chen–Song–Sun–Yin–Zhuo (arXiv 2306.03356): sampling by these scores only needs
//!   `E[vvᵀ]` to be within constant factors of the identity, so the second pass is skipped.
//! * [`Basis::AsGiven`]: `W = I`: the columns of `X` are already (nearly) orthogonal — e.g. a
//!   polynomial or Fourier basis evaluated at `n` points, the continuous setting of both papers.
//!
//! The iid strategies and the fits are the same on the three. BSS's barrier moves assume an
//! exactly orthonormal basis, so on a sketched or as-given pool the first BSS learner makes one
//! (`W·L⁻ᵀ` with `LLᵀ = VᵀV`: a Gram pass and a score pass over `X`, kept by the pool) and BSS
//! runs on it — without it, long BSS rounds on a sketched basis broke their upper barrier. For
//! BSS the three bases therefore select from the same distribution (the process is invariant
//! under a rotation of the basis); a sketched basis saves the second pass for the iid
//! strategies only.
//!
//! # Batch and sequential use
//! A [`Learner`] holds the selection state. [`Learner::select`] makes `k` more draws (BSS: `k`
//! steps), buying at most `k` labels — the textbook rule, under which leverage sampling has the
//! weights `1/(k·p_i)`; [`Learner::select_labels`] keeps drawing until `k` *new* labels are
//! bought, spending the whole budget (rows drawn again are free). Batch selection is one call;
//! sequential rounds are several calls, each continuing from the previous state: iid strategies
//! keep drawing from the same counter (rounds `k₁` then `k₂` equal one round of `k₁ + k₂`), the
//! BSS process continues from its current barriers with a step size chosen so that each round's
//! steps carry weight in proportion to their number. [`Learner::fit`] solves the weighted
//! least-squares problem with the labels bought so far. The [`Budgeted`] wrapper refuses any
//! label beyond the budget, so it is never exceeded. The selection never depends on label
//! *values*, which is why the guarantees hold for adversarial noise.
//!
//! ```
//! use randnla::active::{Basis, Budgeted, Learner, Pool, SliceOracle, Strategy};
//! use randnla::{problems, MatrixRef, Seed};
//! let x = problems::cauchy_rows(2000, 10, Seed::new(1))?;
//! let beta: Vec<f64> = (0..10).map(|j| j as f64).collect();
//! let y: Vec<f64> = (0..2000)
//!     .map(|i| (0..10).map(|j| x[(i, j)] * beta[j]).sum::<f64>() + ((i * 7 % 13) as f64 - 6.0))
//!     .collect();
//! let view = MatrixRef::dense(x.as_ref())?;
//! let pool = Pool::new(view, Basis::Exact, Seed::new(2), randnla::faer::Par::Seq)?;
//! let mut oracle = Budgeted::new(SliceOracle::new(&y), 100);
//! let mut learner = Learner::new(&pool, Strategy::bss(), Seed::new(3))?;
//! learner.select(100, &mut oracle)?;
//! let (beta_hat, info) = learner.fit(0.0)?;
//! assert!(oracle.labels_used() <= 100 && info.labels == oracle.labels_used());
//! let ratio = pool.residual_norm_sq(&beta_hat, &y)? / pool.least_squares(&y)?.1;
//! assert!(ratio < 2.0);
//! # Ok::<(), randnla::Error>(())
//! ```
//!
//! # Measured
//! Cauchy rows, n = 2·10⁴, d = 50, `y = Xβ + 5g`, one pool, 200 trials (noise and selection seed
//! vary), [`Learner::select`] with `k` draws/steps, exact basis; ratio `‖Xβ̃ − y‖²/OPT` as
//! median / mean (`cargo bench --bench active`, load average ≈ 16–18 on 2 cores):
//!
//! | k | uniform | leverage | BSS |
//! |---|---|---|---|
//! | 2d | 9.3·10⁵ / 2.2·10⁶ | 1.92 / 436 | 1.32 / 480 |
//! | 3d | 2.2·10⁵ / 5.3·10⁵ | 1.16 / 35.2 | 1.08 / **1.40** |
//! | 5d | 5.6·10⁴ / 1.4·10⁵ | 1.06 / 15.5 | 1.06 / **1.15** |
//! | 7d | 2.3·10⁴ / 6.2·10⁴ | 1.04 / 1.18 | 1.05 / 1.12 |
//! | 10d | 1.2·10⁴ / 2.7·10⁴ | 1.04 / 1.13 | 1.04 / 1.13 |
//! | 14d | 6.0·10³ / 1.4·10⁴ | 1.03 / 1.08 | 1.03 / 1.08 |
//! | 20d | 2.0·10³ / 5.8·10³ | 1.02 / 1.05 | 1.02 / 1.05 |
//!
//! (At k = d every leverage/BSS selection repeats rows and has fewer than d distinct labels.)
//! BSS removes the rare catastrophic draws of leverage sampling at small budgets (the mean at 5d
//! drops from 15.5 to 1.15, the worst trial from 2835 to 4.5); for mean ≤ 1.1 both need
//! k = 14d on this grid — a label-saving factor of 1.0, not the 2 hoped for.
//!
//! # Reproducibility
//! Streams `0x80–0x8F` of the seeds: the pool's sketch uses `seed.derive(0x80)`; draws of the
//! iid strategies `word(0x81, t)`, BSS proposals and acceptance tests `word(0x82, t)` /
//! `word(0x83, t)` with `t` a counter over the learner's life (never reset between rounds), and
//! DMMW approximate scores `seed.derive(0x84)`. The selection loop is sequential; the pool's
//! passes over `X` use fixed 2048-row chunks reduced in order, so everything is bitwise identical
//! for any thread count.
//!
//! # References
//! X. Chen, E. Price, "Active regression via linear-sample sparsification", COLT 2019,
//! arXiv 1711.10051.
//! Y. T. Lee, H. Sun, "Constructing linear-sized spectral sparsification in almost-linear time",
//! FOCS 2015, arXiv 1508.03261 (the randomized BSS process).
//! J. Batson, D. Spielman, N. Srivastava, "Twice-Ramanujan sparsifiers", STOC 2009.
//! X. Chen, Z. Song, B. Sun, J. Yin, D. Zhuo, "Query complexity of active learning for function
//! family with nearly orthogonal basis", arXiv 2306.03356.

use crate::error::{Error, Result};
use crate::input::{
    check_finite_dense, check_finite_slice, ensure_allocatable, filled_or_too_large, Layout,
    MatrixRef, SparseRef,
};
use crate::seed::Seed;
use crate::sketch::sampling::OwnedCsr;
use crate::sketch::{SketchExt, SparseSign};
use faer::Par;
use rayon::prelude::*;
use std::time::Instant;

mod dense;
mod fit;
mod oracle;
mod strategy;

pub use fit::{weighted_least_squares, FitInfo};
pub use oracle::{Budgeted, LabelOracle, SliceOracle};
pub use strategy::{BssParams, Learner, RoundInfo, ScoreSource, Strategy};

/// Stream of the pool's sketch.
const STREAM_POOL: u64 = 0x80;
/// Rows per chunk of the passes over `X` (a constant, never a function of the thread count).
const CHUNK: usize = 2048;

/// How [`Pool::new`] whitens the pool (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum Basis {
    /// Exactly orthonormal `V = XW`: scores are the exact leverage scores.
    #[default]
    Exact,
    /// A nearly orthogonal basis from a sketch (`m₁` rows; `None` = `10d`): one pass fewer
    /// (BSS makes that pass at its first learner: see the [module docs](self)).
    Sketched {
        /// Rows `m₁ ≥ d` of the sparse sign sketch (`None` = `10d`; `m₁ ≥ n` sketches nothing:
        /// `R` comes from the QR of `X` itself, and the scores are the exact leverage scores).
        sketch_rows: Option<usize>,
    },
    /// `W = I`: `X`'s columns are taken as the (nearly orthogonal) basis. (`W = 2⁻ᵉ·I` when
    /// `X`'s largest entry `≈ 2ᵉ` lies beyond `2^±200`, so that the scores neither overflow nor
    /// underflow — `2¹⁰²³·I` at most, for an `X` in the subnormal range; a scalar `W` changes
    /// neither the selection nor the fit.)
    AsGiven,
}

impl Basis {
    /// A short name (`"exact"`, `"sketched"`, `"as-given"`).
    pub fn name(self) -> &'static str {
        match self {
            Basis::Exact => "exact",
            Basis::Sketched { .. } => "sketched",
            Basis::AsGiven => "as-given",
        }
    }
}

/// Parses `"exact"`, `"sketched"` (with `sketch_rows: None`, i.e. `10d`) and `"as-given"` (also
/// `"given"`), the names [`Basis::name`] gives, in any case and with `_` for `-`; anything else
/// is [`Error::InvalidParameter`] named `basis`.
impl std::str::FromStr for Basis {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match crate::names::option_key(s).as_str() {
            "exact" => Ok(Basis::Exact),
            "sketched" => Ok(Basis::Sketched { sketch_rows: None }),
            "as-given" | "given" => Ok(Basis::AsGiven),
            _ => Err(crate::names::unknown_option(
                "basis",
                s,
                &["exact", "sketched", "as-given"],
            )),
        }
    }
}

/// Row access to the pool.
enum Rows<'a> {
    /// Row-major copy of a dense pool.
    Dense(Vec<f64>),
    Csr(SparseRef<'a, f64>),
    Owned(OwnedCsr),
}

/// Diagnostics of [`Pool::new`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PoolInfo {
    /// Rows of `X`.
    pub n: usize,
    /// Columns of `X`.
    pub d: usize,
    /// Stored entries of `X`.
    pub nnz: usize,
    /// The basis built.
    pub basis: Basis,
    /// Rows of the sketch used (0 when none).
    pub sketch_rows: usize,
    /// `Σ_i ‖v_i‖²` (`= d` for [`Basis::Exact`]).
    pub score_sum: f64,
    /// `max_i ‖v_i‖²/Σ‖v‖²·n`: the coherence `n·max ℓ_i/d` for the exact basis (1 = incoherent).
    pub coherence: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// An unlabeled pool `X` with its whitening `W` and sampling scores `‖Wᵀx_i‖²`.
pub struct Pool<'a> {
    x: MatrixRef<'a, f64>,
    rows: Rows<'a>,
    n: usize,
    d: usize,
    /// `W`, row-major `d × d`: `v_i = Wᵀx_i`.
    w: Vec<f64>,
    scores: Vec<f64>,
    info: PoolInfo,
    /// The parallelism of [`Pool::new`], for the pass made later ([`Pool::orthonormal`]).
    par: Par,
    /// The orthonormal basis BSS runs on, made on first use for a basis other than
    /// [`Basis::Exact`] ([`Pool::orthonormal`]).
    orthonormal: std::sync::OnceLock<Result<Orthonormal>>,
}

/// An exactly orthonormal basis of a pool built on another basis `V = XW`: rows
/// `v'_i = L⁻¹Wᵀx_i` with `LLᵀ = VᵀV` (so `V'ᵀV' = I` up to rounding), kept as `L⁻¹`
/// (row-major lower triangular `d × d`) rather than as the product `W·L⁻ᵀ`, which need not fit
/// in `f64` (a subnormal as-given `X` has `W = 2¹⁰²³·I`); the scores `‖v'_i‖²` (the leverage
/// scores) and their sum (`d` up to rounding).
/// `(L⁻¹ or None for the identity, scores, Σ scores)` of [`Pool::orthonormal`].
pub(crate) type OrthonormalRef<'s> = (Option<&'s [f64]>, &'s [f64], f64);

#[derive(Debug)]
struct Orthonormal {
    linv: Vec<f64>,
    scores: Vec<f64>,
    score_sum: f64,
}

impl std::fmt::Debug for Pool<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("info", &self.info).finish()
    }
}

impl<'a> Pool<'a> {
    /// Validates `X` and builds its whitening (see [`Basis`]).
    ///
    /// # Errors
    /// [`Error::Empty`] for no rows or columns; [`Error::NonFinite`] for NaN/∞ in a dense `X`,
    /// and with [`Basis::Exact`] and [`Basis::Sketched`] for a sketch `S·X` that overflows
    /// `f64` (entries of `X` near `f64::MAX`, when the sketch has fewer rows than `X`: scale
    /// `X` down by a power of two, which changes neither the scores nor the selection) or a
    /// whitening `W` that overflows (a column of `X` whose largest entry is near the
    /// subnormal range); [`Error::InvalidParameter`] for `n < d` or a sketch with fewer than
    /// `d` rows; [`Error::RankDeficient`] for an all-zero `X` and, with [`Basis::Exact`] and
    /// [`Basis::Sketched`], when `X` does not have full column rank numerically
    /// (`|R_jj| ≤ 10⁻¹²·max|R_jj|` for the `R` of the sketch with its columns equilibrated by
    /// powers of two, so the test does not depend on the columns' units). [`Basis::AsGiven`]
    /// does not test the rank (it reads `X` once): a rank-deficient `X` builds a pool, and
    /// the fit and [`least_squares`](Self::least_squares) report it as `RankDeficient`;
    /// [`Error::TooLarge`] when a dense row-major copy would exceed `2³¹` entries, or when a
    /// buffer cannot be allocated — the `d × d` whitening first of all, which a sparse `X` does
    /// not bound by what it stores.
    ///
    /// # Performance
    /// [`Basis::Exact`]: `O(8·nnz + m₁d² + 2·nnz·d + n·d²)` time (a sketch, then two passes);
    /// [`Basis::Sketched`]: `O(8·nnz + m₁d² + nnz·d)`; [`Basis::AsGiven`]: `O(nnz)`. Memory
    /// `O(n + m₁d + (t + 3)·d²)` beyond `X` for `t` tasks of `par` (the Gram pass keeps one
    /// partial `d × d` sum per task), plus a row-major copy of a dense `X` (and a CSR copy of a
    /// CSC `X`).
    pub fn new(x: MatrixRef<'a, f64>, basis: Basis, seed: Seed, par: Par) -> Result<Self> {
        let start = Instant::now();
        x.require_nonempty("pool X")?;
        let (n, d) = (x.nrows(), x.ncols());
        if n < d {
            return Err(Error::param(
                "X",
                format!("the pool has n = {n} rows but d = {d} columns; need n ≥ d"),
            ));
        }
        // Every basis keeps a d × d W: refuse a d no allocation can hold before reading X.
        let mut w = square_zeros(d, "whitening W")?;
        if basis == Basis::AsGiven {
            for i in 0..d {
                w[i * d + i] = 1.0;
            }
        }
        let rows = match x {
            MatrixRef::Dense(a) => {
                check_finite_dense(a, "pool X")?;
                let req = n as u128 * d as u128;
                Error::within(req, 1 << 31, || {
                    format!("a row-major copy of the {n}×{d} pool")
                })?;
                let mut buf = filled_or_too_large(n * d, 0.0, "row-major copy of the pool")?;
                for j in 0..d {
                    let col = a.col(j);
                    for i in 0..n {
                        buf[i * d + j] = col[i];
                    }
                }
                Rows::Dense(buf)
            }
            MatrixRef::Sparse(s) if s.layout() == Layout::Csr => Rows::Csr(s),
            MatrixRef::Sparse(s) => Rows::Owned(OwnedCsr::from_csc(&s, par)?),
        };
        let mut pool = Pool {
            x,
            rows,
            n,
            d,
            w,
            par,
            orthonormal: std::sync::OnceLock::new(),
            scores: Vec::new(),
            info: PoolInfo {
                n,
                d,
                nnz: x.nnz(),
                basis,
                sketch_rows: 0,
                score_sum: 0.0,
                coherence: 0.0,
                seconds: 0.0,
            },
        };
        let sketch_rows = match basis {
            Basis::AsGiven => None,
            Basis::Exact => Some(d.saturating_mul(4)),
            Basis::Sketched { sketch_rows } => Some(sketch_rows.unwrap_or(d.saturating_mul(10))),
        };
        if let Some(m1) = sketch_rows {
            if m1 < d {
                return Err(Error::param(
                    "sketch_rows",
                    format!("m₁ = {m1} cannot capture d = {d} columns; need m₁ ≥ d"),
                ));
            }
            // R from the QR of S·X (of X itself when sketching would not compress).
            let sx = if m1 >= n {
                x.to_dense()?
            } else {
                pool.info.sketch_rows = m1;
                let s = SparseSign::new(
                    m1,
                    n,
                    SparseSign::DEFAULT_NNZ_PER_COL.min(m1),
                    seed.derive(STREAM_POOL),
                )
                .map_err(|e| e.renamed("m", "sketch_rows"))?;
                s.apply(x, par)?
            };
            // Columns equilibrated by powers of two, S·X·D (exact): the rank test below sees
            // unit-sized columns, so features in different units (scales 1e7 … 1e-7) are not
            // mistaken for a rank deficiency, and X near the ends of the range neither
            // overflows nor underflows R.
            let mut sx = sx;
            let shifts = crate::dense::equilibrate_columns(sx.as_mut());
            let rank_of = |r: &faer::Mat<f64>| {
                let rmax = (0..d).fold(0.0f64, |m, j| m.max(r[(j, j)].abs()));
                let rank = (0..d).filter(|&j| r[(j, j)].abs() > 1e-12 * rmax).count();
                (rank, rmax)
            };
            let mut r = crate::dense::thin_r(sx.as_ref());
            let (mut rank, rmax) = rank_of(&r);
            if rank < d && rmax > 0.0 {
                // faer's QR passes over a column whose part orthogonal to the others is below
                // `16·(m₁ − k)·ε` of its norm (above the test's 10⁻¹² from m₁ ≈ 280 rows on) and
                // leaves every later diagonal entry 0: a column `4·10⁻¹²` from another (d = 200,
                // m₁ = 2000) was refused as rank 2. Such a sketch is factored again with every
                // column reflected (`dense::exact_r`) before refusing.
                r = crate::dense::exact_r(sx.as_ref());
                rank = rank_of(&r).0;
            }
            if rank < d || rmax == 0.0 {
                return Err(Error::RankDeficient { rank, required: d });
            }
            // W₀ = D·R⁻¹ (upper triangular), row-major: R⁻¹ by back substitution per column, in
            // the zeroed W (its strict lower triangle stays zero), then row i scaled by D_ii.
            let w0 = &mut pool.w;
            for c in 0..d {
                for i in (0..=c).rev() {
                    let mut s = if i == c { 1.0 } else { 0.0 };
                    for k in i + 1..=c {
                        s -= r[(i, k)] * w0[k * d + c];
                    }
                    w0[i * d + c] = s / r[(i, i)];
                }
            }
            for (i, &sh) in shifts.iter().enumerate() {
                w0[i * d..(i + 1) * d]
                    .iter_mut()
                    .for_each(|x| *x = crate::scalar::mul_pow2(*x, sh));
            }
            if let Some(p) = w0.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    what: "the whitening W (a column of X lies so far below the others that \
                           its scale overflows f64: scale that column up)"
                        .into(),
                    row: p / d,
                    col: p % d,
                });
            }
            if basis == Basis::Exact {
                let mut g = pool.gram(par)?;
                dense::gram_cholesky(&mut g, d)
                    .map_err(|rank| Error::RankDeficient { rank, required: d })?;
                let linv = dense::lower_inverse(&g, d)?;
                drop(g);
                pool.w = times_inverse_transpose(&pool.w, &linv, d)?;
            }
        }
        if basis == Basis::AsGiven {
            // W = 2⁻ᵉ·I when X's largest entry 2ᵉ is beyond 2^±200, so that the scores ‖v_i‖²
            // neither overflow nor underflow (X near 1e-170 gave all-zero scores). A scalar W
            // changes neither the sampling probabilities nor the BSS process.
            // The power is capped at 2¹⁰²³, the largest f64 holds: X in the subnormal range
            // (below 2⁻¹⁰²³) gave W = ∞·I, refused as scores that "overflowed".
            if let Some(e) = crate::scalar::out_of_range_exponent(pool.max_abs(), 200) {
                for i in 0..d {
                    pool.w[i * d + i] = crate::scalar::mul_pow2(1.0, (-e).min(1023));
                }
            }
        }
        pool.scores = pool.row_scores(par)?;
        let sum: f64 = pool.scores.iter().sum();
        let max = pool.scores.iter().copied().fold(0.0, f64::max);
        if sum.is_infinite() {
            let row = pool
                .scores
                .iter()
                .position(|s| s.is_infinite())
                .unwrap_or(0);
            return Err(Error::NonFinite {
                what: "a pool row's score (it overflowed f64: scale X down, the scores' \
                       proportions do not change)"
                    .into(),
                row,
                col: 0,
            });
        }
        if !(sum > 0.0 && sum.is_finite()) {
            return Err(Error::RankDeficient {
                rank: 0,
                required: d,
            });
        }
        pool.info.score_sum = sum;
        pool.info.coherence = max / sum * n as f64;
        pool.info.seconds = start.elapsed().as_secs_f64();
        Ok(pool)
    }

    /// Rows `n` of the pool.
    pub fn nrows(&self) -> usize {
        self.n
    }
    /// Columns `d` of the pool.
    pub fn ncols(&self) -> usize {
        self.d
    }
    /// The pool as given.
    pub fn matrix(&self) -> MatrixRef<'a, f64> {
        self.x
    }
    /// The sampling scores `‖v_i‖² = ‖Wᵀx_i‖²` (exact leverage scores for [`Basis::Exact`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use randnla::active::{Basis, Pool};
    /// use randnla::leverage::{exact_leverage_scores, ExactParams};
    /// use randnla::{problems, MatrixRef, Seed};
    /// let par = randnla::faer::Par::Seq;
    /// let x = problems::cauchy_rows(500, 6, Seed::new(7))?;
    /// let x = MatrixRef::dense(x.as_ref())?;
    /// let pool = Pool::new(x, Basis::Exact, Seed::new(1), par)?;
    /// let (exact, _) = exact_leverage_scores(x, &ExactParams::default(), par)?;
    /// let worst = pool.scores().iter().zip(&exact);
    /// let worst = worst.map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    /// assert!(worst < 1e-10, "{worst}");
    /// // A sketched basis (10d sketch rows by default) gives V with VᵀV = Σ near I: when its
    /// // sketch is an ε-embedding, Σ's eigenvalues and so the mean score lie within
    /// // [(1 + ε)⁻², (1 − ε)⁻²]; with ε = ½ the scores sum to between 0.44·d and 4·d.
    /// let sketched = Pool::new(x, Basis::Sketched { sketch_rows: None }, Seed::new(1), par)?;
    /// let sum: f64 = sketched.scores().iter().sum();
    /// assert!(sum > 0.44 * 6.0 && sum < 4.0 * 6.0, "{sum}");
    /// # Ok::<(), randnla::Error>(())
    /// ```
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }
    /// Diagnostics of the construction.
    pub fn info(&self) -> &PoolInfo {
        &self.info
    }
    /// The whitening `W` (`d × d`, row-major).
    pub fn whitening(&self) -> &[f64] {
        &self.w
    }

    /// Calls `f(j, x_ij)` for the stored entries of row `i`.
    #[inline]
    pub(crate) fn for_row(&self, i: usize, mut f: impl FnMut(usize, f64)) {
        match &self.rows {
            Rows::Dense(buf) => {
                for (j, &v) in buf[i * self.d..(i + 1) * self.d].iter().enumerate() {
                    f(j, v)
                }
            }
            Rows::Csr(s) => {
                let (idx, val) = s.outer(i);
                for (&j, &v) in idx.iter().zip(val) {
                    f(j, v)
                }
            }
            Rows::Owned(o) => {
                let r = o.indptr[i]..o.indptr[i + 1];
                for (&j, &v) in o.indices[r.clone()].iter().zip(&o.data[r]) {
                    f(j, v)
                }
            }
        }
    }

    /// `out = v_i = Wᵀx_i` (length `d`).
    #[inline]
    pub(crate) fn whiten(&self, i: usize, out: &mut [f64]) {
        self.whiten_with(&self.w, i, out)
    }

    /// `out = Wᵀx_i` for a row-major `d × d` `w` other than the pool's.
    #[inline]
    fn whiten_with(&self, w: &[f64], i: usize, out: &mut [f64]) {
        let d = self.d;
        out.iter_mut().for_each(|o| *o = 0.0);
        self.for_row(i, |j, x| {
            if x != 0.0 {
                for (o, &wk) in out.iter_mut().zip(&w[j * d..(j + 1) * d]) {
                    *o += x * wk;
                }
            }
        });
    }

    /// `x_iᵀβ`.
    #[inline]
    pub(crate) fn row_dot(&self, i: usize, beta: &[f64]) -> f64 {
        let mut s = 0.0;
        self.for_row(i, |j, x| s += x * beta[j]);
        s
    }

    /// The largest `|x_ij|` of the pool (0 for a zero pool).
    fn max_abs(&self) -> f64 {
        let top = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        match &self.rows {
            Rows::Dense(buf) => top(buf),
            Rows::Csr(s) => (0..s.outer_dim()).fold(0.0, |m, k| m.max(top(s.outer(k).1))),
            Rows::Owned(o) => top(&o.data),
        }
    }

    /// Runs `f(lo, hi)` on fixed row chunks (in parallel under `par`) and returns the results in
    /// chunk order.
    fn map_chunks<R: Send>(&self, par: Par, f: impl Fn(usize, usize) -> R + Sync) -> Vec<R> {
        let chunks: Vec<usize> = (0..self.n.div_ceil(CHUNK)).collect();
        let run = |&c: &usize| f(c * CHUNK, ((c + 1) * CHUNK).min(self.n));
        if matches!(par, Par::Seq) {
            chunks.iter().map(run).collect()
        } else {
            chunks.par_iter().map(run).collect()
        }
    }

    /// Runs `f(lo, hi)` on the fixed row chunks and hands the results to `fold` in chunk order.
    /// Under `par`, groups of as many chunks as `par` has tasks run in parallel and are folded
    /// before the next group starts, so at most that many results are alive at a time (the
    /// order of the fold, hence the bits of its result, does not depend on `par`).
    fn fold_chunks<R: Send>(
        &self,
        par: Par,
        f: impl Fn(usize, usize) -> R + Sync,
        mut fold: impl FnMut(R) -> Result<()>,
    ) -> Result<()> {
        let chunks = self.n.div_ceil(CHUNK);
        // Chunks in flight at once: no more than the pool runs, since each holds its partial
        // result (a d × d Gram) until the group is folded; the group size never changes the bits.
        let group = match par {
            Par::Seq => 1,
            Par::Rayon(t) => t.get().min(rayon::current_num_threads()).max(1),
        };
        let run = |c: usize| f(c * CHUNK, ((c + 1) * CHUNK).min(self.n));
        let mut lo = 0;
        while lo < chunks {
            let hi = lo.saturating_add(group).min(chunks);
            if hi - lo == 1 {
                fold(run(lo))?;
            } else {
                let parts: Vec<R> = (lo..hi).into_par_iter().map(run).collect();
                for p in parts {
                    fold(p)?;
                }
            }
            lo = hi;
        }
        Ok(())
    }

    /// `VᵀV` (row-major, full), accumulated per chunk and reduced in chunk order.
    fn gram(&self, par: Par) -> Result<Vec<f64>> {
        self.gram_with(&self.w, par)
    }

    /// The exactly orthonormal basis BSS runs on: the pool's own for [`Basis::Exact`]; for the
    /// other bases `W·L⁻ᵀ`, `L` the Cholesky factor of `Σ = VᵀV`, made on the first call by a
    /// Gram pass and a score pass over `X` (with the `par` of [`Pool::new`]; the chunked sums
    /// give the same bits for any thread count) and kept for later calls.
    ///
    /// # Errors
    /// [`Error::RankDeficient`] when the pool's rows do not span its basis: a Cholesky pivot
    /// `l_jj` of `Σ` at most `10⁻⁶` of its column's norm `√Σ_jj` (an `X` without full numerical
    /// column rank, which [`Basis::AsGiven`] does not test: a column within about `10⁻⁶` of the
    /// span of the ones before it, where `W·L⁻ᵀ` would be orthonormal only to about
    /// `κ(V)²·u ≥ 10⁻⁴`); [`Error::NonFinite`] for scores that overflow;
    /// [`Error::TooLarge`] for buffers that cannot be allocated.
    ///
    /// Returns `(L⁻¹, scores, Σ scores)`, with `L⁻¹ = None` (the identity) for the exact basis;
    /// [`whiten_orthonormal`](Self::whiten_orthonormal) applies it.
    pub(crate) fn orthonormal(&self) -> Result<OrthonormalRef<'_>> {
        if self.info.basis == Basis::Exact {
            return Ok((None, &self.scores, self.info.score_sum));
        }
        let o = self.orthonormal.get_or_init(|| self.make_orthonormal());
        let o = o.as_ref().map_err(Clone::clone)?;
        Ok((Some(&o.linv), &o.scores, o.score_sum))
    }

    /// `out = L⁻¹·Wᵀx_i` (`out = Wᵀx_i` for `linv = None`); `tmp` has length `d`.
    #[inline]
    pub(crate) fn whiten_orthonormal(
        &self,
        linv: Option<&[f64]>,
        i: usize,
        out: &mut [f64],
        tmp: &mut [f64],
    ) {
        let Some(linv) = linv else {
            return self.whiten(i, out);
        };
        let d = self.d;
        self.whiten(i, tmp);
        for (a, o) in out.iter_mut().enumerate() {
            *o = linv[a * d..a * d + a + 1]
                .iter()
                .zip(&tmp[..=a])
                .map(|(l, t)| l * t)
                .sum();
        }
    }

    fn make_orthonormal(&self) -> Result<Orthonormal> {
        let d = self.d;
        let mut g = self.gram(self.par)?;
        let norms: Vec<f64> = (0..d).map(|j| g[j * d + j]).collect();
        // Refused: a failed pivot, or a pivot that is not zero in rounding but at most 10⁻⁶ of
        // its column (relative to each column, so columns of any scale pass). The `10⁻¹²` of
        // Pool::new's test on `R` could not see a dependent column here (a pivot from a Gram
        // matrix carries an error of about √u of its column: `0.1·c₀ + 0.3·c₁` left
        // `l²/Σ ≈ 2·10⁻¹⁶`); and where κ(V) ≥ 10⁶ the basis made from `Σ` would be orthonormal
        // only to `κ(V)²·u ≥ 10⁻⁴`. The relative test runs on the columns factored before a
        // failed pivot j too (gram_cholesky): a dependent column before j (whose noise pivot
        // made pivot j noise over noise) is the rank to report, a lower bound as
        // `RankDeficient` promises.
        dense::gram_cholesky(&mut g, d)
            .map_err(|rank| Error::RankDeficient { rank, required: d })?;
        if let Some(rank) = dense::first_dependent_column(&g, &norms, d) {
            return Err(Error::RankDeficient { rank, required: d });
        }
        let linv = dense::lower_inverse(&g, d)?;
        drop(g);
        let scores = self.row_scores_with(Some(&linv), self.par)?;
        let score_sum: f64 = scores.iter().sum();
        if !score_sum.is_finite() {
            return Err(Error::NonFinite {
                what: "the orthonormalized pool's scores (they overflowed f64)".into(),
                row: scores.iter().position(|s| !s.is_finite()).unwrap_or(0),
                col: 0,
            });
        }
        Ok(Orthonormal {
            linv,
            scores,
            score_sum,
        })
    }

    /// `(XW)ᵀXW` for a row-major `d × d` `w` (as [`gram`](Self::gram)).
    fn gram_with(&self, w: &[f64], par: Par) -> Result<Vec<f64>> {
        let d = self.d;
        let mut g = square_zeros(d, "Gram matrix VᵀV")?;
        self.fold_chunks(
            par,
            |lo, hi| {
                let mut g = square_zeros(d, "partial Gram matrix")?;
                let mut v = vec![0.0; d];
                for i in lo..hi {
                    self.whiten_with(w, i, &mut v);
                    for a in 0..d {
                        let va = v[a];
                        if va != 0.0 {
                            for (o, &vb) in g[a * d..a * d + a + 1].iter_mut().zip(&v[..=a]) {
                                *o += va * vb;
                            }
                        }
                    }
                }
                Ok(g)
            },
            |p: Result<Vec<f64>>| {
                g.iter_mut().zip(&p?).for_each(|(a, b)| *a += b);
                Ok(())
            },
        )?;
        for a in 0..d {
            for b in 0..a {
                g[b * d + a] = g[a * d + b];
            }
        }
        Ok(g)
    }

    fn row_scores(&self, par: Par) -> Result<Vec<f64>> {
        self.row_scores_with(None, par)
    }

    /// `‖L⁻¹Wᵀx_i‖²` for every row (`‖Wᵀx_i‖²` for `linv = None`).
    fn row_scores_with(&self, linv: Option<&[f64]>, par: Par) -> Result<Vec<f64>> {
        let d = self.d;
        let mut scores = filled_or_too_large(self.n, 0.0, "pool scores")?;
        let fill = |(c, out): (usize, &mut [f64])| {
            let (mut v, mut tmp) = (vec![0.0; d], vec![0.0; d]);
            for (t, o) in out.iter_mut().enumerate() {
                self.whiten_orthonormal(linv, c * CHUNK + t, &mut v, &mut tmp);
                *o = v.iter().map(|x| x * x).sum::<f64>();
            }
        };
        if matches!(par, Par::Seq) {
            scores.chunks_mut(CHUNK).enumerate().for_each(fill);
        } else {
            scores.par_chunks_mut(CHUNK).enumerate().for_each(fill);
        }
        Ok(scores)
    }

    fn check_vec(&self, y: &[f64], what: &str) -> Result<()> {
        if y.len() != self.n {
            return Err(Error::dim(
                format!("length of {what} vs rows of the pool"),
                self.n,
                y.len(),
            ));
        }
        check_finite_slice(y, what)
    }

    /// `‖Xβ − y‖²` (evaluation; reads every label).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for `β` of length `≠ d` or `y` of length `≠ n`;
    /// [`Error::NonFinite`] for NaN/∞ in either, or when `‖Xβ − y‖²` itself overflows `f64`
    /// (naming the row where the running sum does).
    pub fn residual_norm_sq(&self, beta: &[f64], y: &[f64]) -> Result<f64> {
        self.check_vec(y, "y")?;
        if beta.len() != self.d {
            return Err(Error::dim(
                "length of β vs columns of X",
                self.d,
                beta.len(),
            ));
        }
        check_finite_slice(beta, "β")?;
        let parts = self.map_chunks(Par::Seq, |lo, hi| {
            (lo..hi)
                .map(|i| {
                    let r = self.row_dot(i, beta) - y[i];
                    r * r
                })
                .sum::<f64>()
        });
        let total: f64 = parts.iter().sum();
        if !total.is_finite() {
            return Err(self.residual_overflow(beta, y, "‖Xβ − y‖²"));
        }
        Ok(total)
    }

    /// The error for a squared residual norm that left the `f64` range: names the first row
    /// where the running sum `Σ_{t≤i} (x_tᵀβ − y_t)²` stops being finite.
    fn residual_overflow(&self, beta: &[f64], y: &[f64], what: &str) -> Error {
        let mut sum = 0.0f64;
        let row = (0..self.n)
            .position(|i| {
                let r = self.row_dot(i, beta) - y[i];
                sum += r * r;
                !sum.is_finite()
            })
            .unwrap_or(0);
        Error::NonFinite {
            what: format!(
                "{what} (it overflows f64 by this row: scale y and β down by a power of two; \
                 ratios of residuals do not change)"
            ),
            row,
            col: 0,
        }
    }

    /// The full-label least-squares solution `β* = argmin ‖Xβ − y‖²` and `OPT = ‖Xβ* − y‖²`
    /// (evaluation and experiments: reads every label; not what a learner with a budget does).
    /// Solved in the pool's basis, `β* = W(VᵀV)⁻¹Vᵀy`, with two refinement steps, on `2⁻ᵉ·y`
    /// when `y`'s largest entry `≈ 2ᵉ` lies beyond `2^±200` (exact; `β*` and `OPT` are scaled
    /// back by `2ᵉ` and `2²ᵉ`), so that the intermediate `Vᵀy` does not overflow where `β*`
    /// and `OPT` fit; and in the basis `V·C`, `C` the powers of two that bring a column of `V`
    /// whose largest entry lies beyond `2^±100` into `[1, 2)` (exact), so that `VᵀV` does not
    /// underflow or overflow where `V`'s columns differ in scale.
    ///
    /// # Errors
    /// As [`residual_norm_sq`](Self::residual_norm_sq) (also when `β*` or `OPT` does not fit in
    /// `f64`); [`Error::RankDeficient`] if `VᵀV` is not numerically positive definite (`rank`:
    /// the first column within `10⁻⁶` of the span of the ones before it, or else the failed
    /// Cholesky pivot: a lower bound on the rank).
    ///
    /// # Performance
    /// `O(5·nnz·d + n·d² + d³)`.
    #[allow(clippy::needless_range_loop)]
    pub fn least_squares(&self, y: &[f64]) -> Result<(Vec<f64>, f64)> {
        self.check_vec(y, "y")?;
        let d = self.d;
        // y = 2ᵉ·y' with y' in range: Vᵀy ≈ Rβ* overflowed at y ≈ 10³⁰⁷ where β* and OPT fit.
        let ey =
            crate::scalar::out_of_range_exponent(crate::scalar::max_abs(y.iter().copied()), 200)
                .unwrap_or(0);
        let scaled: Vec<f64>;
        let y_in = if ey == 0 {
            y
        } else {
            scaled = y.iter().map(|&v| crate::scalar::mul_pow2(v, -ey)).collect();
            &scaled
        };
        // The basis V·C with C = diag(2^{c_j}) bringing a column of V whose largest entry lies
        // beyond 2^±100 into [1, 2): exact (in range nothing changes), and the Gram matrix
        // neither underflows nor overflows where V's columns differ in scale (an as-given X
        // with columns in units 1e100, 1, 1e-100 was called rank deficient).
        let mut top = vec![0.0f64; d];
        let mut v = vec![0.0; d];
        for i in 0..self.n {
            self.whiten(i, &mut v);
            top.iter_mut()
                .zip(&v)
                .for_each(|(t, x)| *t = t.max(x.abs()));
        }
        let mut wc = self.w.clone();
        for (k, &t) in top.iter().enumerate() {
            if let Some(e) = crate::scalar::out_of_range_exponent(t, 100) {
                for j in 0..d {
                    wc[j * d + k] = crate::scalar::mul_pow2(wc[j * d + k], -e);
                }
            }
        }
        let mut l = self.gram_with(&wc, Par::Seq)?;
        dense::gram_cholesky(&mut l, d)
            .map_err(|rank| Error::RankDeficient { rank, required: d })?;
        let linv = dense::lower_inverse(&l, d)?;
        drop(l);
        let mut ginv = square_zeros(d, "inverse Gram matrix")?;
        dense::lower_gram(&linv, d, &mut ginv);
        let mut beta = vec![0.0; d];
        let mut r = y_in.to_vec();
        for _ in 0..3 {
            // z = (VᵀV)⁻¹Vᵀr; β += Wz; r = y − Xβ (V = X·W·C, W·C in `wc`).
            let mut vtr = vec![0.0; d];
            self.fold_chunks(
                Par::Seq,
                |lo, hi| {
                    let mut acc = vec![0.0; d];
                    let mut v = vec![0.0; d];
                    for i in lo..hi {
                        self.whiten_with(&wc, i, &mut v);
                        acc.iter_mut().zip(&v).for_each(|(a, b)| *a += b * r[i]);
                    }
                    acc
                },
                |p| {
                    vtr.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
                    Ok(())
                },
            )?;
            let z: Vec<f64> = (0..d)
                .map(|a| (0..d).map(|b| ginv[a * d + b] * vtr[b]).sum())
                .collect();
            for (j, bj) in beta.iter_mut().enumerate() {
                *bj += (0..d).map(|k| wc[j * d + k] * z[k]).sum::<f64>();
            }
            for (i, ri) in r.iter_mut().enumerate() {
                *ri = y_in[i] - self.row_dot(i, &beta);
            }
        }
        beta.iter_mut()
            .for_each(|b| *b = crate::scalar::mul_pow2(*b, ey));
        if let Some(j) = beta.iter().position(|b| !b.is_finite()) {
            return Err(Error::NonFinite {
                what: "the least-squares solution β* (it does not fit in f64)".into(),
                row: j,
                col: 0,
            });
        }
        let opt = crate::scalar::mul_pow2(r.iter().map(|x| x * x).sum::<f64>(), 2 * ey);
        if !opt.is_finite() {
            return Err(self.residual_overflow(&beta, y, "OPT = ‖Xβ* − y‖²"));
        }
        Ok((beta, opt))
    }
}

/// A zeroed row-major `d × d` buffer, or [`Error::TooLarge`] when it cannot be allocated
/// (`vec!` aborts instead; a sparse pool does not bound `d` by what it stores).
/// `W·L⁻ᵀ` for row-major `d × d` `w` and lower triangular `linv = L⁻¹`:
/// `(W·L⁻ᵀ)[j, k] = Σ_{m ≤ k} W[j, m]·L⁻¹[k, m]`.
fn times_inverse_transpose(w: &[f64], linv: &[f64], d: usize) -> Result<Vec<f64>> {
    let mut out = square_zeros(d, "whitening W")?;
    for j in 0..d {
        for k in 0..d {
            let mut s = 0.0;
            for m in 0..=k {
                s += w[j * d + m] * linv[k * d + m];
            }
            out[j * d + k] = s;
        }
    }
    Ok(out)
}

pub(crate) fn square_zeros(d: usize, what: &str) -> Result<Vec<f64>> {
    let len = d.checked_mul(d);
    ensure_allocatable::<f64>(len, || format!("the {d}×{d} {what}"), d as u128 * d as u128)?;
    filled_or_too_large(len.unwrap_or(0), 0.0, &format!("{d}×{d} {what}"))
}

/// A seeded active-regression test problem (the one `benches/active.rs` measures): `X` with Cauchy
/// rows ([`crate::problems::cauchy_rows`]`(n, d, seed.derive(0x86))`), `β` iid standard normal
/// (`seed.block_rng(0x87, 0)`), and `y = Xβ + noise·g` with `g` iid standard normal drawn from
/// `noise_seed` (so one pool can be paired with many noise draws). Returns `(X, β, y)`.
///
/// # Errors
/// As [`crate::problems::cauchy_rows`] and [`noisy_labels`] (a negative or non-finite `noise` is
/// [`Error::InvalidParameter`]).
#[allow(clippy::type_complexity)]
pub fn cauchy_problem(
    n: usize,
    d: usize,
    noise: f64,
    seed: Seed,
    noise_seed: Seed,
) -> Result<(faer::Mat<f64>, Vec<f64>, Vec<f64>)> {
    use rand_distr::{Distribution, StandardNormal};
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::param(
            "noise",
            format!("must be finite and ≥ 0, got {noise}"),
        ));
    }
    let x = crate::problems::cauchy_rows(n, d, seed.derive(0x86))?;
    let mut rng = seed.block_rng(0x87, 0);
    let beta: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
    let y = noisy_labels(MatrixRef::Dense(x.as_ref()), &beta, noise, noise_seed)?;
    Ok((x, beta, y))
}

/// `y = Xβ + noise·g`, `g` iid standard normal from `noise_seed` (stream `0x88`), for a dense,
/// CSR or CSC `X`. Each `(Xβ)_i` is summed from 0 over row `i`'s entries in ascending column
/// order, so the three layouts give the same bits (stored zeros add nothing).
///
/// # Errors
/// [`Error::DimensionMismatch`] when `β` does not have one entry per column of `X`;
/// [`Error::InvalidParameter`] for a negative or non-finite `noise`; [`Error::NonFinite`] when
/// `X` (a dense one not validated by [`MatrixRef::dense`]) or `β` holds a NaN or infinity, or a
/// label overflows; [`Error::TooLarge`] when the `n` labels cannot be allocated (a sparse `X`
/// may declare far more rows than it stores).
///
/// # Examples
/// ```
/// use randnla::active::noisy_labels;
/// use randnla::{MatrixRef, Seed};
/// let x = randnla::faer::mat![[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]];
/// // Without noise, y = Xβ exactly.
/// let y = noisy_labels(MatrixRef::dense(x.as_ref())?, &[2.0, 4.0], 0.0, Seed::new(1))?;
/// assert_eq!(y, [10.0, -4.0, 8.0]);
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn noisy_labels(
    x: MatrixRef<'_, f64>,
    beta: &[f64],
    noise: f64,
    noise_seed: Seed,
) -> Result<Vec<f64>> {
    use rand_distr::{Distribution, StandardNormal};
    if beta.len() != x.ncols() {
        return Err(Error::dim(
            "length of β vs columns of X",
            x.ncols(),
            beta.len(),
        ));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::param(
            "noise",
            format!("must be finite and ≥ 0, got {noise}"),
        ));
    }
    crate::input::check_finite_slice(beta, "β")?;
    let mut y = filled_or_too_large(x.nrows(), 0.0, "labels y")?;
    match x {
        MatrixRef::Dense(a) => {
            crate::input::check_finite_dense(a, "X")?;
            for (i, yi) in y.iter_mut().enumerate() {
                *yi = (0..a.ncols()).fold(0.0, |s, j| s + a[(i, j)] * beta[j]);
            }
        }
        MatrixRef::Sparse(sp) => {
            for k in 0..sp.outer_dim() {
                let (idx, val) = sp.outer(k);
                for (&j, &v) in idx.iter().zip(val) {
                    match sp.layout() {
                        Layout::Csr => y[k] += v * beta[j],
                        Layout::Csc => y[j] += v * beta[k],
                    }
                }
            }
        }
    }
    let mut rng = noise_seed.block_rng(0x88, 0);
    for yi in &mut y {
        let g: f64 = StandardNormal.sample(&mut rng);
        *yi += noise * g;
    }
    crate::input::check_finite_slice(&y, "labels y = Xβ + noise·g")?;
    Ok(y)
}
