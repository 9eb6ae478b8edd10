//! Query strategies (uniform, leverage, Chen–Price BSS) and the learner that runs them.

use super::dense;
use super::fit::{self, FitInfo};
use super::oracle::{Budgeted, LabelOracle};
use super::{square_zeros, Pool};
use crate::error::{Error, Result};
use crate::input::filled_or_too_large;
use crate::leverage::{approx_leverage_scores, ApproxParams};
use crate::seed::{unit_f64, Seed};
use faer::Par;
use std::collections::BTreeMap;
use std::time::Instant;

/// Stream of the iid draws (uniform, leverage).
const STREAM_DRAWS: u64 = 0x81;
/// Stream of the BSS proposals.
const STREAM_PROPOSE: u64 = 0x82;
/// Stream of the BSS acceptance tests.
const STREAM_ACCEPT: u64 = 0x83;
/// Stream of the seed of DMMW approximate scores.
const STREAM_APPROX: u64 = 0x84;
/// Proposals allowed for one BSS step before giving up (acceptance is ≥ 1/(d·κ) in theory).
const MAX_PROPOSALS: u64 = 1 << 22;

/// Where the leverage strategy's scores come from.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ScoreSource {
    /// The pool's scores `‖Wᵀx_i‖²`: exact leverage scores for [`Basis::Exact`](super::Basis),
    /// sketch-approximate (sandwich-bounded) ones for [`Basis::Sketched`](super::Basis).
    Pool,
    /// Drineas–Magdon-Ismail–Mahoney–Woodruff approximate scores
    /// ([`approx_leverage_scores`]), from `seed.derive(0x84)`, computed sequentially.
    Approx(ApproxParams),
    /// Scores supplied by the caller (one non-negative weight per row).
    Given(Vec<f64>),
}

/// Parameters of the Chen–Price BSS-type sparsification.
///
/// The process keeps `B = Σ_j s_j v_j v_jᵀ` between barriers `l·I ≺ B ≺ u·I`, starting from
/// `B = 0`, `u = 2d/γ`, `l = −2d/γ`. At each step, with `M = (uI − B)⁻¹ + (B − lI)⁻¹` and
/// `Φ = tr M`, it draws row `i` with probability `∝ v_iᵀMv_i` (by rejection from the score
/// distribution `∝ ‖v_i‖²`, exact), adds `s·v_iv_iᵀ` with `s = γ/(v_iᵀMv_i)`, and moves
/// `u += γ/(Φ(1−γ))`, `l += γ/(Φ(1+γ))`. The weight of a row is the sum of its `s`, divided by
/// `tr B / Σ_i‖v_i‖²` so that `Σ w v vᵀ ≈ VᵀV`. The barriers force every direction to be
/// covered (`(B − lI)⁻¹` blows up in a direction `B` neglects), and `s ≤ γ/(v_iᵀMv_i)` keeps the
/// weights balanced — the two properties behind `O(d/ε)` labels.
///
/// The barrier moves assume `Σ_i v_iv_iᵀ = I` (the expected step `E[s·vvᵀ]` is `γ·VᵀV/Φ`), so
/// the process runs on an exactly orthonormal basis: the pool's own for
/// [`Basis::Exact`](super::Basis::Exact); for the other bases `v_i = L⁻¹Wᵀx_i` with `LLᵀ = VᵀV`,
/// made once per pool by the first BSS learner (a Gram pass and a score pass over `X`). On a
/// sketched basis (`κ(VᵀV) ≈ 1–4`) without it, `B` outgrew the upper barrier in long rounds
/// (`select_labels` at `k ≥ 14d` failed for every seed tried); on an as-given basis far from
/// orthonormal the barriers broke down or the rejection sampler stalled.
///
/// A round stops after `k` steps ([`Learner::select`]) or `k` new labels
/// ([`Learner::select_labels`]); rows drawn again are free. The step size `γ`
/// is chosen so that the barrier gap `u − l` grows by the factor `growth` over a first round of
/// `k` steps: with `Φ ≈ 4d/(u − l)`, `γ²/(1 − γ²) = 2d·ln(growth)/k`. Later rounds choose `γ` so
/// that the gap grows in proportion to the round's share of labels. Either rule's `γ` is then
/// clamped to `[10⁻³, 0.9]` (a first round with `k < 2d·ln(growth)/4.26`, e.g. `k < 0.65·d` at
/// the default growth, gets `γ = 0.9` and its gap grows by less than `growth`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BssParams {
    /// A fixed `γ ∈ (0, 1)` for every round, overriding the rule above (`None`, the default,
    /// uses the rule).
    pub gamma: Option<f64>,
    /// Growth of the barrier gap over the first round (default 4; must be `> 1`). Chen–Price's
    /// loop runs until the gap doubles (from `4d/γ` to `8d/γ`), i.e. growth 2. Measured on the
    /// §8 experiment (20 trials each, mean ratio at k = 2d / 5d / 20d): growth 2 → 311 (one
    /// blow-up) / 1.39 / 1.045; **4 → 2.57 / 1.18 / 1.066**; 8 → 1.59 / 1.33 / 1.074;
    /// 16 → 1.90 / 1.31 / 1.074. A larger growth means a larger `γ`: stronger barriers (fewer
    /// bad draws at small k) but less even weights (more variance at large k).
    pub growth: f64,
    /// In [`Learner::select_labels`], at most this many steps per requested label (default 50):
    /// a safety stop for pools whose mass sits on a few rows (the product saturates, so
    /// `usize::MAX` means no stop but the round's other ones).
    pub max_steps_per_label: usize,
}

impl Default for BssParams {
    fn default() -> Self {
        BssParams {
            gamma: None,
            growth: 4.0,
            max_steps_per_label: 50,
        }
    }
}

/// A query strategy.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Strategy {
    /// i.i.d. uniform draws, equal weights (`n/m` for `m` draws).
    Uniform,
    /// i.i.d. draws with `p_i ∝` the scores, weights `1/(m·p_i)` (importance weights).
    Leverage(ScoreSource),
    /// Chen–Price randomized BSS-type linear-sample sparsification.
    Bss(BssParams),
}

/// [`Strategy::bss`]: the Chen–Price BSS selection with default parameters, the strategy with
/// the linear-sample guarantee (and the examples' default).
impl Default for Strategy {
    fn default() -> Self {
        Strategy::bss()
    }
}

impl Strategy {
    /// Leverage sampling with the pool's scores.
    pub fn leverage() -> Self {
        Strategy::Leverage(ScoreSource::Pool)
    }
    /// BSS with default parameters.
    pub fn bss() -> Self {
        Strategy::Bss(BssParams::default())
    }
    /// A short name (`"uniform"`, `"leverage"`, `"bss"`).
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Uniform => "uniform",
            Strategy::Leverage(_) => "leverage",
            Strategy::Bss(_) => "bss",
        }
    }
}

/// Parses `"uniform"`, `"leverage"` ([`Strategy::leverage`]: the pool's scores) and `"bss"`
/// ([`Strategy::bss`]: default parameters), the names [`Strategy::name`] gives, in any case;
/// anything else is [`Error::InvalidParameter`] named `strategy`.
impl std::str::FromStr for Strategy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match crate::names::option_key(s).as_str() {
            "uniform" => Ok(Strategy::Uniform),
            "leverage" => Ok(Strategy::leverage()),
            "bss" => Ok(Strategy::bss()),
            _ => Err(crate::names::unknown_option(
                "strategy",
                s,
                &["uniform", "leverage", "bss"],
            )),
        }
    }
}

/// What one call of [`Learner::select`] did.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RoundInfo {
    /// 0-based round number.
    pub round: usize,
    /// The `k` passed to the round, as given ([`Learner::select_labels`] lowers its target to
    /// the rows still drawable, so `new_labels` can be smaller without a safety stop).
    pub requested: usize,
    /// New labels bought (≤ `requested`). [`Learner::select`] buys fewer whenever draws repeat
    /// rows (labeled earlier in the round or before it: they are free); [`Learner::select_labels`]
    /// buys fewer only when the safety stop triggered or fewer rows with a positive score were
    /// left unlabeled.
    pub new_labels: usize,
    /// Distinct labeled rows after the round.
    pub labels_total: usize,
    /// Draws (iid) or BSS steps taken in the round, repeats of labeled rows included.
    pub steps: u64,
    /// BSS proposals (rejection sampling) in the round; equals `steps` for iid strategies.
    pub proposals: u64,
    /// The BSS step size used (`None` for iid strategies).
    pub gamma: Option<f64>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// When a round stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Until {
    /// After `k` draws / steps.
    Draws,
    /// After `k` new labels.
    Labels,
}

/// The state of the BSS process.
#[derive(Clone, Debug)]
struct BssState {
    params: BssParams,
    /// `B`, row-major `d × d`.
    b: Vec<f64>,
    u: f64,
    l: f64,
    gap_start: f64,
    /// `tr B = Σ s_j ‖v_j‖²`.
    trace: f64,
    /// Steps taken so far.
    steps: u64,
    /// `Σ_i ‖v_i‖²` over the orthonormal basis the process runs on (`d` up to rounding).
    score_sum: f64,
}

/// Selection state over a pool: which rows were chosen, with which raw weights and labels.
#[derive(Debug)]
pub struct Learner<'p, 'a> {
    pool: &'p Pool<'a>,
    strategy: Strategy,
    seed: Seed,
    /// Cumulative proposal weights.
    cdf: Vec<f64>,
    /// Proposal weights (`q_i`), and their sum.
    q: Vec<f64>,
    q_sum: f64,
    /// The last row with `q_i > 0` (the only rows drawn are those with `q_i > 0`).
    last: usize,
    /// Rows `draw` can return (where the CDF rises, and `last`): once that many are labeled, no
    /// draw can buy another label. A rise narrower than the draws' resolution (`2⁻⁵³·Σq`) is
    /// counted but practically never drawn; only a round with no step cap
    /// (`max_steps_per_label = usize::MAX`) could then run on.
    drawable: usize,
    /// Draw/proposal counter over the learner's life.
    counter: u64,
    /// Accumulated raw weight per labeled row (draw counts, or Σ s for BSS).
    acc: BTreeMap<usize, f64>,
    labels: BTreeMap<usize, f64>,
    /// Rows in the order they were first labeled.
    order: Vec<usize>,
    bss: Option<BssState>,
    rounds: Vec<RoundInfo>,
}

impl<'p, 'a> Learner<'p, 'a> {
    /// A learner with no labels yet.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for BSS parameters out of range (`γ ∉ (0, 1)`, `growth ≤ 1`,
    /// `max_steps_per_label = 0`), or given scores that are negative, non-finite or all zero;
    /// [`Error::DimensionMismatch`] for given scores of the wrong length; [`Error::TooLarge`] when
    /// the per-row scores and their CDF, or BSS's `d × d` matrix, cannot be allocated; the errors
    /// of [`approx_leverage_scores`]. BSS on a pool whose basis is not
    /// [`Basis::Exact`](super::Basis::Exact) orthonormalizes it here (a Gram pass and a score
    /// pass over `X`, once per pool): [`Error::RankDeficient`] when a column of `V = XW` lies
    /// within about `10⁻⁶` (relative Cholesky pivot of `VᵀV`) of the span of the ones before
    /// it, as an [`Basis::AsGiven`](super::Basis::AsGiven) `X` without full numerical column
    /// rank does; [`Error::NonFinite`] when the scores on that basis overflow.
    ///
    /// # Performance
    /// `O(n)` for the scores' CDF, after the scores themselves: read from the pool's basis
    /// (leverage), taken as given, or estimated by [`approx_leverage_scores`]; BSS adds a `d × d`
    /// matrix.
    pub fn new(pool: &'p Pool<'a>, strategy: Strategy, seed: Seed) -> Result<Self> {
        let n = pool.nrows();
        let q: Vec<f64> = match &strategy {
            Strategy::Uniform => filled_or_too_large(n, 1.0, "uniform scores")?,
            Strategy::Leverage(ScoreSource::Pool) => pool.scores().to_vec(),
            // BSS runs on an exactly orthonormal basis: the pool's own (exact basis) or one made
            // from it (see `BssParams`).
            Strategy::Bss(_) => pool.orthonormal()?.1.to_vec(),
            Strategy::Leverage(ScoreSource::Approx(p)) => {
                approx_leverage_scores(pool.matrix(), p, seed.derive(STREAM_APPROX), Par::Seq)?.0
            }
            Strategy::Leverage(ScoreSource::Given(s)) => {
                if s.len() != n {
                    return Err(Error::dim("given scores vs rows of the pool", n, s.len()));
                }
                s.clone()
            }
        };
        if let Some((i, w)) = q
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
        {
            return Err(Error::param(
                "scores",
                format!("score {i} is {w}; scores must be finite and ≥ 0"),
            ));
        }
        let mut q = q;
        // Only the scores' proportions matter: scores whose largest lies beyond 2^±200 are
        // scaled by the power of two that brings it into [1, 2) — given ones near f64::MAX,
        // whose sum overflows, and subnormal ones, whose draw target u·Σq rounded to a multiple
        // of 2⁻¹⁰⁷⁴ (scores (1, 3)·2⁻¹⁰⁷⁴ drew row 0 with probability 1/8). Exact, so in
        // between (where no scaling is needed) it would change no bit.
        let top = crate::scalar::max_abs(q.iter().copied());
        if let Some(e) = crate::scalar::out_of_range_exponent(top, 200) {
            q.iter_mut()
                .for_each(|w| *w = crate::scalar::mul_pow2(*w, -e));
        }
        let mut cdf = filled_or_too_large(n, 0.0, "score CDF")?;
        let mut acc = 0.0;
        for (c, &w) in cdf.iter_mut().zip(&q) {
            acc += w;
            *c = acc;
        }
        if !(acc > 0.0 && acc.is_finite()) {
            return Err(Error::param(
                "scores",
                format!("the scores sum to {acc}; need a positive finite sum"),
            ));
        }
        let bss = match &strategy {
            Strategy::Bss(p) => {
                if let Some(g) = p.gamma {
                    if !(g > 0.0 && g < 1.0) {
                        return Err(Error::param("gamma", format!("γ = {g}; need 0 < γ < 1")));
                    }
                }
                if !(p.growth > 1.0 && p.growth.is_finite()) {
                    return Err(Error::param(
                        "growth",
                        format!("growth = {}; need a finite value > 1", p.growth),
                    ));
                }
                if p.max_steps_per_label == 0 {
                    return Err(Error::param("max_steps_per_label", "must be at least 1"));
                }
                Some(BssState {
                    score_sum: pool.orthonormal()?.2,
                    params: *p,
                    b: square_zeros(pool.ncols(), "BSS matrix B")?,
                    u: 0.0,
                    l: 0.0,
                    gap_start: 0.0,
                    trace: 0.0,
                    steps: 0,
                })
            }
            _ => None,
        };
        let last = q.iter().rposition(|&x| x > 0.0).unwrap_or(0);
        // Rows `draw` can return: those where the CDF rises (a positive score below half an ulp
        // of the running sum does not), and `last`, the clamp for a target rounded up.
        let rises = (0..last).filter(|&i| cdf[i] > if i == 0 { 0.0 } else { cdf[i - 1] });
        let drawable = rises.count() + 1;
        Ok(Learner {
            pool,
            strategy,
            seed,
            cdf,
            last,
            drawable,
            q,
            q_sum: acc,
            counter: 0,
            acc: BTreeMap::new(),
            labels: BTreeMap::new(),
            order: Vec::new(),
            bss,
            rounds: Vec::new(),
        })
    }

    /// Draws a row from the proposal distribution with the uniform word `w`.
    fn draw(&self, w: u64) -> usize {
        let target = unit_f64(w) * self.q_sum;
        self.cdf.partition_point(|&c| c <= target).min(self.last)
    }

    /// One round of `k` draws (iid strategies) or `k` BSS steps, the textbook rule: every draw
    /// needs at most one new label, so at most `k` labels are bought — fewer when rows repeat
    /// (repeats are free and add to the row's weight). Leverage sampling with `k` draws has the
    /// importance weights `1/(k·p_i)`, which make the weighted Gram matrix unbiased:
    /// `E[Σ_draws x_i x_iᵀ/(k·p_i)] = XᵀX`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when the oracle's pool size is not `n`;
    /// [`Error::InvalidParameter`] for `k = 0`, `k` above the oracle's remaining budget, or a
    /// total budget below `d` (no strategy can fit `d` coefficients from fewer labels);
    /// the oracle's errors (a NaN label is [`Error::NonFinite`]); [`Error::Factorization`] if
    /// the BSS barriers break down in rounding (on a pool numerically close to rank deficient:
    /// the rank itself is checked when the learner is made); [`Error::NotConverged`] when one
    /// BSS step's rejection sampler rejects more than `2²²` proposals in a row (`residual` is
    /// that run, `tolerance` is `2²²`; on the orthonormal basis BSS runs on, each proposal is
    /// accepted with probability at least about `1/d`, so this is a safeguard);
    /// [`Error::TooLarge`] when BSS's two `d × d` work matrices cannot be allocated.
    ///
    /// After an error the learner keeps what the round did before it: the labels bought and the
    /// draws or BSS steps taken count in [`labels`](Self::labels), [`weights`](Self::weights)
    /// and [`fit`](Self::fit), but the round is not added to [`rounds`](Self::rounds). The draw
    /// whose query failed is undone, so a round retried after the oracle's error (with budget
    /// left: [`Budgeted`] counts the failed query) draws that row again; when the first query
    /// of a round fails, the retried round is the one the failure interrupted, bit for bit.
    ///
    /// # Performance
    /// Uniform and leverage sampling: `O(k·log n)` for the draws (a binary search of the scores'
    /// CDF each). BSS: `O(d³)` per step (two `d × d` Cholesky factorizations and triangular
    /// inverses for the barrier potentials) plus `O(d²)` per proposal of its rejection sampler,
    /// so `O(k·d³)` for `k` steps when proposals are accepted at a steady rate. Plus the oracle's
    /// cost per new label.
    ///
    /// # References
    /// X. Chen, E. Price, "Active regression via linear-sample sparsification", COLT 2019,
    /// arXiv 1711.10051 (BSS selection and its weights).
    pub fn select<O: LabelOracle>(
        &mut self,
        k: usize,
        oracle: &mut Budgeted<O>,
    ) -> Result<RoundInfo> {
        self.round(k, oracle, Until::Draws)
    }

    /// One round that keeps drawing (repeats are free) until `k` *new* labels are bought — the
    /// whole budget is spent. On pools whose leverage sits on a few rows this takes many more
    /// draws than `k` (capped: `100k + 10⁴` draws, or `max_steps_per_label·k + 100` BSS steps).
    ///
    /// Only rows with a positive score can be drawn (every row for [`Strategy::Uniform`]), so
    /// `k` is first lowered to the number of those rows still unlabeled (it sets the caps above
    /// and BSS's step size too), and the round stops as soon as all of them are labeled: a `k`
    /// or budget larger than the pool buys the rest of the pool (`new_labels < requested`)
    /// instead of drawing repeats until a cap set by `k`.
    ///
    /// # Errors
    /// As [`select`](Self::select).
    pub fn select_labels<O: LabelOracle>(
        &mut self,
        k: usize,
        oracle: &mut Budgeted<O>,
    ) -> Result<RoundInfo> {
        self.round(k, oracle, Until::Labels)
    }

    fn round<O: LabelOracle>(
        &mut self,
        k: usize,
        oracle: &mut Budgeted<O>,
        until: Until,
    ) -> Result<RoundInfo> {
        let start = Instant::now();
        let (n, d) = (self.pool.nrows(), self.pool.ncols());
        if oracle.pool_size() != n {
            return Err(Error::dim(
                "oracle's pool size vs rows of the pool",
                n,
                oracle.pool_size(),
            ));
        }
        if oracle.budget() < d {
            return Err(Error::param(
                "budget",
                format!(
                    "a budget of {} labels is below d = {d}; at least d labels are needed",
                    oracle.budget()
                ),
            ));
        }
        if k == 0 {
            return Err(Error::param("k", "a round must request at least one label"));
        }
        if k > oracle.remaining() {
            return Err(Error::param(
                "k",
                format!(
                    "{k} labels requested but only {} remain of the budget of {}",
                    oracle.remaining(),
                    oracle.budget()
                ),
            ));
        }
        let before = self.labels.len();
        // Labels mode: no more new labels than rows that can still be drawn and bought.
        let target = match until {
            Until::Draws => k,
            Until::Labels => k.min(self.drawable - before),
        };
        let (steps, proposals, gamma) = if self.bss.is_some() {
            self.bss_round(target, oracle, until)?
        } else {
            self.iid_round(target, oracle, until)?
        };
        let info = RoundInfo {
            round: self.rounds.len(),
            requested: k,
            new_labels: self.labels.len() - before,
            labels_total: self.labels.len(),
            steps,
            proposals,
            gamma,
            seconds: start.elapsed().as_secs_f64(),
        };
        self.rounds.push(info.clone());
        Ok(info)
    }

    /// Labels row `i` (if new) and records it.
    fn label<O: LabelOracle>(&mut self, i: usize, oracle: &mut Budgeted<O>) -> Result<()> {
        if let std::collections::btree_map::Entry::Vacant(e) = self.labels.entry(i) {
            e.insert(oracle.query(i)?);
            self.order.push(i);
        }
        Ok(())
    }

    fn iid_round<O: LabelOracle>(
        &mut self,
        k: usize,
        oracle: &mut Budgeted<O>,
        until: Until,
    ) -> Result<(u64, u64, Option<f64>)> {
        let cap = match until {
            Until::Draws => k as u64,
            Until::Labels => (k as u64).saturating_mul(100).saturating_add(10_000),
        };
        let mut new = 0;
        let mut steps = 0u64;
        while steps < cap {
            if until == Until::Labels && self.labels.len() == self.drawable {
                // Every drawable row is labeled: further draws could only repeat.
                break;
            }
            let i = self.draw(self.seed.word(STREAM_DRAWS, self.counter));
            if !self.labels.contains_key(&i) {
                if new == k {
                    // The next draw needs a label beyond this round: leave it for the next round
                    // (so that rounds k₁ then k₂ equal one round of k₁ + k₂).
                    break;
                }
                self.label(i, oracle)?;
                new += 1;
            }
            self.counter += 1;
            steps += 1;
            *self.acc.entry(i).or_insert(0.0) += 1.0;
        }
        Ok((steps, steps, None))
    }

    #[allow(clippy::needless_range_loop)]
    fn bss_round<O: LabelOracle>(
        &mut self,
        k: usize,
        oracle: &mut Budgeted<O>,
        until: Until,
    ) -> Result<(u64, u64, Option<f64>)> {
        let d = self.pool.ncols();
        let df = d as f64;
        let pool = self.pool;
        let linv = pool.orthonormal()?.0;
        let mut m = square_zeros(d, "BSS matrix M")?;
        let mut work = square_zeros(d, "BSS workspace")?;
        let mut st = self.bss.take().expect("bss state");
        let gamma = match st.params.gamma {
            Some(g) => g,
            None => {
                let growth = if st.steps == 0 {
                    st.params.growth
                } else {
                    let gap = st.u - st.l;
                    let per_label = (gap - st.gap_start) / st.steps.max(1) as f64;
                    1.0 + k.max(1) as f64 * per_label / gap
                };
                // (k = 0 only for a select_labels round with nothing left to label: no steps.)
                let t = 2.0 * df * growth.ln() / k.max(1) as f64;
                (t / (1.0 + t)).sqrt().clamp(1e-3, 0.9)
            }
        };
        if st.steps == 0 {
            st.u = 2.0 * df / gamma;
            st.l = -2.0 * df / gamma;
            st.gap_start = st.u - st.l;
        }
        let cap = match until {
            Until::Draws => k as u64,
            Until::Labels => (st.params.max_steps_per_label as u64)
                .saturating_mul(k as u64)
                .saturating_add(100),
        };
        let mut new = 0;
        let (mut steps, mut proposals) = (0u64, 0u64);
        let (mut v, mut tmp) = (vec![0.0; d], vec![0.0; d]);
        // The state is taken out of `self` for the round and put back however the round ends:
        // with an error, or with a panic of the oracle that the caller may catch (the learner
        // would otherwise lose its BSS state and silently continue with iid draws).
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<()> {
            while steps < cap {
                if until == Until::Labels && self.labels.len() == self.drawable {
                    // Every drawable row is labeled: further steps could only repeat.
                    break;
                }
                // M = (uI − B)⁻¹ + (B − lI)⁻¹ and Φ = tr M.
                let mut phi = 0.0;
                m.iter_mut().for_each(|x| *x = 0.0);
                for (sign, shift) in [(-1.0, st.u), (1.0, st.l)] {
                    for a in 0..d {
                        for c in 0..d {
                            work[a * d + c] = sign * st.b[a * d + c];
                        }
                        work[a * d + a] -= sign * shift;
                    }
                    if dense::cholesky(&mut work, d).is_err() {
                        // The basis is orthonormal and its rows span it (checked when it was
                        // made), so a barrier matrix loses positive definiteness only in rounding:
                        // the lower barrier l rising to λ_min(B) beside a direction the rows
                        // barely span, or B growing into the upper one.
                        let why = if sign > 0.0 {
                            "the lower barrier reached B's smallest eigenvalue in rounding (the \
                             pool is numerically close to rank deficient)"
                        } else {
                            "the upper barrier broke down numerically"
                        };
                        return Err(Error::Factorization {
                            reason: format!(
                                "a BSS barrier matrix lost positive definiteness (u = {}, l = {}): \
                                 {why}",
                                st.u, st.l
                            ),
                        });
                    }
                    let linv = dense::lower_inverse(&work, d)?;
                    phi += dense::lower_gram(&linv, d, &mut work);
                    m.iter_mut().zip(&work).for_each(|(a, b)| *a += b);
                }
                // An upper bound on λ_max(M): min(Gershgorin, Frobenius).
                let mut gersh: f64 = 0.0;
                let mut frob = 0.0;
                for a in 0..d {
                    let row = &m[a * d..(a + 1) * d];
                    gersh = gersh.max(row.iter().map(|x| x.abs()).sum());
                    frob += row.iter().map(|x| x * x).sum::<f64>();
                }
                let bound = gersh.min(frob.sqrt()).min(phi);
                // Rejection sampling: propose i ∝ ‖v_i‖², accept with v_iᵀMv_i/(bound·‖v_i‖²).
                let step_start = self.counter;
                let (i, quad, vnorm) = loop {
                    if self.counter - step_start > MAX_PROPOSALS {
                        // The stopping criterion is the run of rejected proposals, against
                        // the allowance (both were left at 0: "0e0 > tolerance 0e0").
                        return Err(Error::NotConverged {
                            iterations: MAX_PROPOSALS as usize,
                            residual: (self.counter - step_start) as f64,
                            tolerance: MAX_PROPOSALS as f64,
                            history: Vec::new(),
                            rounding_floor: None,
                        });
                    }
                    let t = self.counter;
                    self.counter += 1;
                    let i = self.draw(self.seed.word(STREAM_PROPOSE, t));
                    pool.whiten_orthonormal(linv, i, &mut v, &mut tmp);
                    let vn: f64 = v.iter().map(|x| x * x).sum();
                    if vn == 0.0 {
                        continue;
                    }
                    let qf = dense::quad_form(&m, &v);
                    if unit_f64(self.seed.word(STREAM_ACCEPT, t)) * bound * vn < qf {
                        break (i, qf, vn);
                    }
                };
                if !self.labels.contains_key(&i) {
                    if new == k {
                        // Leave this step to the next round (its distribution depends only on
                        // B, u, l, so the next round redraws the same row).
                        self.counter = step_start;
                        break;
                    }
                    if let Err(e) = self.label(i, oracle) {
                        // Undo the step (as an iid draw whose query fails is undone): a retry
                        // redraws the same row.
                        self.counter = step_start;
                        return Err(e);
                    }
                    new += 1;
                }
                proposals += self.counter - step_start;
                steps += 1;
                st.steps += 1;
                let s = gamma / quad;
                for a in 0..d {
                    let sva = s * v[a];
                    for c in 0..d {
                        st.b[a * d + c] += sva * v[c];
                    }
                }
                st.trace += s * vnorm;
                *self.acc.entry(i).or_insert(0.0) += s;
                st.u += gamma / (phi * (1.0 - gamma));
                st.l += gamma / (phi * (1.0 + gamma));
            }
            Ok(())
        }));
        self.bss = Some(st);
        match result {
            Ok(r) => r?,
            Err(panic) => std::panic::resume_unwind(panic),
        }
        Ok((steps, proposals, Some(gamma)))
    }

    /// The labeled rows (ascending) with their weights, normalized so that
    /// `Σ_i w_i x_ix_iᵀ ≈ XᵀX`: `w_i = c_i/(m·p_i)` for `c_i` draws of row `i` out of `m`
    /// (iid strategies), `w_i = (Σ s)/(tr B/Σ_jℓ_j)` for BSS, where `ℓ_j = ‖v_j‖²` on the
    /// orthonormal basis BSS runs on (the leverage scores; see [`BssParams`]), so that
    /// `Σ_i w_iℓ_i = Σ_jℓ_j = d` up to rounding.
    pub fn weights(&self) -> Vec<(usize, f64)> {
        match &self.bss {
            Some(st) => {
                let mid = if st.trace > 0.0 {
                    st.trace / st.score_sum
                } else {
                    1.0
                };
                self.acc.iter().map(|(&i, &s)| (i, s / mid)).collect()
            }
            None => {
                let m: f64 = self.acc.values().sum();
                self.acc
                    .iter()
                    .map(|(&i, &c)| (i, c * self.q_sum / (m * self.q[i])))
                    .collect()
            }
        }
    }

    /// The labels bought so far, by row.
    pub fn labels(&self) -> &BTreeMap<usize, f64> {
        &self.labels
    }
    /// Rows in the order they were first labeled.
    pub fn order(&self) -> &[usize] {
        &self.order
    }
    /// The rounds so far.
    pub fn rounds(&self) -> &[RoundInfo] {
        &self.rounds
    }
    /// The strategy.
    pub fn strategy(&self) -> &Strategy {
        &self.strategy
    }

    /// The weighted least-squares fit `argmin Σ w_i(x_iᵀβ − y_i)² + λ‖β‖²` on the labels bought
    /// so far, with the weights of [`weights`](Self::weights).
    ///
    /// # Errors
    /// [`Error::Empty`] before any label; [`Error::InvalidParameter`] for `λ < 0` or non-finite;
    /// [`Error::RankDeficient`] when the labeled rows do not determine `β` and `λ` is 0 or too
    /// small to (as [`weighted_least_squares`](crate::active::weighted_least_squares));
    /// [`Error::TooLarge`] and [`Error::Factorization`] as
    /// [`weighted_least_squares`](crate::active::weighted_least_squares).
    ///
    /// # Performance
    /// `O(k·d²)` for `k` labeled rows.
    pub fn fit(&self, lambda: f64) -> Result<(Vec<f64>, FitInfo)> {
        let start = Instant::now();
        let wts = self.weights();
        let rows: Vec<usize> = wts.iter().map(|&(i, _)| i).collect();
        let w: Vec<f64> = wts.iter().map(|&(_, w)| w).collect();
        let y: Vec<f64> = rows.iter().map(|i| self.labels[i]).collect();
        if rows.is_empty() {
            return Err(Error::empty(
                "the set of labelled rows (no label bought yet: call `select` before `fit`)",
            ));
        }
        fit::check_args(self.pool.nrows(), &rows, &w, &y, lambda)?;
        let pool = self.pool;
        let beta = fit::solve(
            pool.ncols(),
            |t, out| {
                out.iter_mut().for_each(|x| *x = 0.0);
                pool.for_row(rows[t], |j, x| out[j] = x);
            },
            &w,
            &y,
            lambda,
        )?;
        let info = FitInfo {
            labels: rows.len(),
            lambda,
            weight_range: (
                w.iter().copied().fold(f64::INFINITY, f64::min),
                w.iter().copied().fold(0.0, f64::max),
            ),
            weight_sum: w.iter().sum(),
            seconds: start.elapsed().as_secs_f64(),
        };
        Ok((beta, info))
    }
}
