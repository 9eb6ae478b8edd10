//! The robust tensor power method, exact and sketched, and the quality measures used to judge it.

use super::sketched::{
    median, median_vectors, Buffers, Fft, ModeHashing, TensorSketches, MIN_SKETCH_DIM,
};
use super::symmetric::{dot, normal_from_words, SymmetricTensor};
use crate::error::{Error, Result};
use crate::scalar::mul_pow2;
use crate::seed::Seed;
use faer::Par;

/// Stream of the random starts: start `τ` of component `j` is drawn from
/// `seed.derive(START_STREAM)` at stream `2·(j·L + τ)` and `2·(j·L + τ) + 1`. Both methods use it,
/// so the exact and sketched methods run from the same starts for the same seed.
pub(crate) const START_STREAM: u64 = 0x70;
/// Largest rank, starts or iteration count accepted.
pub const MAX_COUNT: usize = 1 << 16;
/// Largest number of contractions one call may make, `rank·(starts·(iters + 1) + refine_iters +
/// 1)`: `2²⁴ ≈ 1.7·10⁷`. Each count alone is capped at [`MAX_COUNT`], but their product was not,
/// and `rank = starts = iters = 2¹⁶` asked for `2⁴⁸` contractions (hours even on a 2 × 2 × 2
/// tensor). ALGORITHMS.md §7's protocol (`L = 50`, `N = 30`, rank 10, and its headline rank 100)
/// makes at most `100·(50·31 + 30 + 1) = 158 100`, the tests, benches and examples far fewer
/// (at most `2·(10·31 + 50 + 1) = 722` with the largest counts, `10·(10·16 + 16) = 1760` with the
/// defaults at rank 10): the cap is over 100 times the largest of them.
pub(crate) const MAX_CONTRACTIONS: u128 = 1 << 24;

/// Parameters of the robust tensor power method (Anandkumar et al. 2014, Algorithm 1).
#[derive(Clone, Debug, PartialEq)]
pub struct PowerParams {
    /// Random starts `L` per component. Default 10 (the reference code uses 50; with decaying
    /// weights 10 starts find the leading remaining component reliably).
    pub starts: usize,
    /// Power iterations `N` from every start. Default 15 (reference 30; iterations converge
    /// quadratically near an orthogonal component).
    pub iters: usize,
    /// Further iterations on the best start. Default 15.
    pub refine_iters: usize,
}

impl Default for PowerParams {
    fn default() -> Self {
        PowerParams {
            starts: 10,
            iters: 15,
            refine_iters: 15,
        }
    }
}

/// Parameters of the sketched tensor power method.
#[derive(Clone, Debug, PartialEq)]
pub struct SketchParams {
    /// Starts and iterations, as for the exact method.
    pub power: PowerParams,
    /// Number of independent sketches `B`; `0` (default) picks it from `n`
    /// (see [`SketchParams::resolve`]).
    pub sketches: usize,
    /// Sketch size `b` (a power of two); `0` (default) picks it from `n`.
    pub sketch_dim: usize,
    /// Sketches used while the `L` starts iterate (the medians of the first `search_sketches`
    /// sketches, folded to `search_sketch_dim`; at most `B`). The search only has to land in
    /// the right basin, so a few sketches suffice. Default 3; `0` means all `B`, and so does
    /// any value above `B`.
    pub search_sketches: usize,
    /// Size `b_s` the sketches are folded to for the search and for all but the last
    /// `polish_iters` refinement iterations: a power of two from `16` to `b` (other values
    /// are rounded down to a power of two, values above `b` use `b`; below `16` is an
    /// error, as for `sketch_dim`). The folded sketch is the count sketch with hashes `h mod b_s`,
    /// read off every `(b/b_s)`-th frequency of the stored spectrum, so it costs `≈ b/b_s`
    /// times less and nothing extra is built or deflated. `0` (default) picks `b/4`, at least
    /// `min(b, 2¹⁰)` (see [`SketchParams::resolve_search`]).
    pub search_sketch_dim: usize,
    /// Refinement iterations at the full size `b` with all `B` sketches, at the end of the
    /// `refine_iters`; the weight `λ` is always estimated at full size. Default 2: near an
    /// orthogonal component the power map converges quadratically, so two full iterations from
    /// the folded iterate (relative noise `√(b/b_s)` times the full one) reach the full sketches'
    /// own noise level. `usize::MAX` refines at full size throughout; `0` leaves the factors
    /// with the folded sketches' error (`√(b/b_s)` times larger) and only the weight at full size.
    pub polish_iters: usize,
    /// How the sketches hash the modes: [`ModeHashing::Auto`] (default: the shared hash at
    /// order 3 when the folded search size is at least `16n`, per-mode hashes otherwise; see
    /// [`SketchParams::resolve_hashing`]), [`ModeHashing::PerMode`] (Wang et
    /// al.'s independent hash per mode) or [`ModeHashing::Shared`] (one hash for all modes: `p!`
    /// times cheaper to build from dense storage and one FFT per sketch of `u^{⊗q}`; unbiased at
    /// order 3, biased at order ≥ 4 on tensors with large partial traces; see [`ModeHashing`]).
    pub hashing: ModeHashing,
}

impl Default for SketchParams {
    fn default() -> Self {
        SketchParams {
            power: PowerParams::default(),
            sketches: 0,
            sketch_dim: 0,
            search_sketches: 3,
            search_sketch_dim: 0,
            polish_iters: 2,
            hashing: ModeHashing::Auto,
        }
    }
}

impl SketchParams {
    /// The `(B, b)` used for a tensor of order `p` and dimension `n`: given values are kept;
    /// automatic ones aim at `B·b ≈ 4096·(p − 2)·n`, which puts the error of each recovered
    /// factor of a well-separated orthogonal tensor near 0.03 (the error scales like
    /// `√(n/(B·b))`): `b` is the smallest power of two ≥ `256·n`, within `2¹⁰..=2¹⁸`, `B` is even
    /// and within `6..=30`. The reference defaults `B = 30`, `b = 2¹⁶` are reached at `n ≈ 256` for
    /// `b` (and `B` stays smaller). The factor `p − 2`: order-4 contractions are noisier; at
    /// `4096·n` an order-4, `n = 30`, rank-5 tensor (noise 0.01) came out with the largest
    /// factor error 0.030–0.043 (shared hashing) and 0.047–0.073 (per-mode) over 8 seeds, and
    /// 0.026–0.033 at twice the size.
    ///
    /// Above order 4 the automatic shape falls short of that accuracy. `b` depends on `n` only,
    /// so `B` reaches its cap of 30 and `B·b` stays below the target (0.62 of it at `p = 5`,
    /// `n = 8`; 0.43 at `p = 9`, `n = 5`); the variance of the estimates at a component grows
    /// faster than `p − 2` (per coordinate about 3, 6, 9 and 14 times `‖T‖_F²/b` at
    /// `p = 3, 4, 5, 6`, rank-one tensor, `n = 5`); and from order 7 on the per-sketch estimates
    /// are skewed enough that their median sits below the weight (by about 1 % at `p = 7` and
    /// 4–5 % at `p = 9`, `b = 2048`, where their mean is within 1 %). Largest factor / weight
    /// error over 8 seeds with the automatic shape (synthetic rank 2, noise 0.01; review of
    /// 2026-12-04): `p = 5, n = 8`: 0.054 / 0.040; `p = 6, n = 6`: 0.038 / 0.058; `p = 7,
    /// n = 5`: 0.051 / 0.081; `p = 8, n = 5`: 0.076 / 0.091; `p = 9, n = 5`: 0.096 / 0.119.
    /// At such orders give a larger
    /// [`SketchParams::sketch_dim`] (and at such small `n`, the exact method's `n^p` per
    /// contraction is cheap).
    pub fn resolve(&self, n: usize, order: usize) -> (usize, usize) {
        // Saturating: 4096·n·(p − 2) passes 2¹²⁸ for `n` and `p` near `usize::MAX`.
        let target = (4096 * n as u128).saturating_mul((order.max(3) - 2) as u128);
        let b = if self.sketch_dim != 0 {
            self.sketch_dim
        } else {
            (256u128 * n.max(1) as u128)
                .next_power_of_two()
                .clamp(1 << 10, 1 << 18) as usize
        };
        let bb = if self.sketches != 0 {
            self.sketches
        } else {
            let want = target.div_ceil(b.max(1) as u128).clamp(6, 30) as usize;
            want + want % 2
        };
        (bb, b)
    }

    /// The hashing the power method uses on a tensor of order `p` and dimension `n`:
    /// [`SketchParams::hashing`] resolved ([`ModeHashing::resolve`]) against the folded search
    /// size [`SketchParams::resolve_search`] of the sketch size from [`SketchParams::resolve`].
    pub fn resolve_hashing(&self, n: usize, order: usize) -> ModeHashing {
        let (_, b) = self.resolve(n, order);
        self.hashing.resolve(order, n, self.resolve_search(b))
    }

    /// The folded size `b_s` for sketches of size `b` (a power of two, as every sketch size
    /// is): a given `search_sketch_dim`, or automatically `b/4` but at least `min(b, 2¹⁰)`,
    /// capped at `b` and rounded down to a power of two `≥ 2`. A folded sketch's estimates
    /// carry relative noise `≈ √(n/b_s)·‖T‖_F/λ`, twice the full sketch's at `b/4`. (At
    /// `b/8`, n = 400, the noisier search picked the components out of order and the later
    /// ones ended less accurate: factor error 0.056–0.078 against 0.040 at `b/4` and at `b`.)
    pub fn resolve_search(&self, b: usize) -> usize {
        let b = b.max(2);
        let d = if self.search_sketch_dim != 0 {
            self.search_sketch_dim.min(b)
        } else {
            (b / 4).max(b.min(1 << 10))
        };
        (1usize << (usize::BITS - 1 - d.leading_zeros())).max(2)
    }
}

/// Which contraction oracle produced a decomposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PowerMethod {
    /// Exact contractions on the tensor.
    Exact,
    /// Medians of FFT contractions over count sketches.
    Sketched,
}

option_names!(PowerMethod, "method", [Exact => "exact", Sketched => "sketched" | "sketch"]);

/// Diagnostics of one recovered component.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ComponentInfo {
    /// Index of the start that was refined.
    pub best_start: usize,
    /// `T(u,…,u)` of every start after `N` iterations (of the deflated tensor). For the
    /// sketched method these are the search phase's estimates (the first `search_sketches`
    /// sketches folded to `b_s`, see [`SketchParams`]), noisier than the weight.
    pub start_values: Vec<f64>,
    /// `min(‖u − u_prev‖, ‖u + u_prev‖)` at the last refinement iteration (tends to 0 as the
    /// iterate converges). `NaN` when no step was measured: `refine_iters = 0`, or
    /// `T(I,u,…,u)` vanished (the deflated tensor is zero along `u`), so the iterate could
    /// not move.
    pub final_change: f64,
    /// Sketched method only: a standard-error proxy for the weight,
    /// `√(π/2)·1.4826·MAD/√B` (the per-sketch spread `1.4826·MAD` estimates σ, and a median of
    /// `B` Gaussian values has standard error `√(π/2)·σ/√B`; the weight is `⟨u, z⟩` with `z` the
    /// coordinate-wise median, somewhat more accurate than the median of the `B` values).
    /// It measures the spread, not the bias: against the exact method's weight on the same
    /// tensor (orthogonal, rank 2, 40 sketch seeds, `tests/claims_review.rs`) the median spread
    /// was 1.01–1.17× the RMS error at orders 3 and 4, but 0.86× at order 7 and 0.79× at order 9
    /// (`n = 5`), where the median is biased low (see [`SketchParams`]).
    /// `NaN` with a single sketch (`B = 1`), where there is no spread to measure (its MAD is 0,
    /// which would claim an exact weight).
    pub weight_spread: Option<f64>,
}

/// A symmetric CP decomposition `T ≈ Σ_j λ_j a_j^{⊗p}` with unit factors.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CpDecomposition {
    /// Weights `λ_j` in the order found (for odd `p` they are made non-negative by flipping `a_j`).
    pub weights: Vec<f64>,
    /// Unit factors `a_j`, each of length `n`.
    pub factors: Vec<Vec<f64>>,
    /// Per-component diagnostics.
    pub components: Vec<ComponentInfo>,
    /// Which method ran.
    pub method: PowerMethod,
    /// `(B, b)` for the sketched method.
    pub sketch_shape: Option<(usize, usize)>,
    /// Number of `T(I,u,…,u)` evaluations, those of [`refine_exact`] included.
    pub contractions: usize,
    /// Sweeps of [`refine_exact`] applied to the decomposition afterwards, summed over its calls
    /// (0 when none: the power methods return their own result).
    pub exact_sweeps: usize,
}

/// Which sketches the sketched oracle contracts with (the exact oracle ignores it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The `L` starts: the first `search_sketches` sketches, folded to `b_s`.
    Search,
    /// The refinement of the best start: all `B` sketches, folded to `b_s`.
    Refine,
    /// The last refinement iterations and the weight: all `B` sketches at full size `b`.
    Polish,
}

/// `(T(I,u,…,u), T(u,…,u), spread of the value)`.
type Eval = (Vec<f64>, f64, Option<f64>);

/// A contraction oracle over a tensor being deflated; it works in the units of `T·2⁻ᵉ` (see
/// [`SymmetricTensor`]'s scaling note), [`scale_back`] converts what it found.
trait Oracle {
    /// `(T(I,u,…,u), T(u,…,u), spread of the value)` of the deflated tensor.
    fn eval(&mut self, u: &[f64]) -> Result<Eval>;
    fn deflate(&mut self, w: f64, u: &[f64]) -> Result<()>;
    /// Switches between the (possibly cheaper) phases of the sketched method.
    fn set_phase(&mut self, _phase: Phase) {}
    /// Whether [`Oracle::set_phase`] changes the evaluations.
    fn phased(&self) -> bool {
        false
    }
    /// [`Oracle::eval`] of each vector, the same results (an oracle may share work among
    /// them: [`ExactOracle`] streams a dense tensor once for all).
    fn eval_many(&mut self, us: &[&[f64]]) -> Result<Vec<Eval>> {
        us.iter().map(|u| self.eval(u)).collect()
    }
    /// Whether [`Oracle::eval_many`] is cheaper than its evaluations one by one, so that
    /// [`robust_power`] runs the starts in lockstep ([`iterate_starts`]).
    fn batches(&self) -> bool {
        false
    }
}

struct ExactOracle<'a> {
    t: &'a SymmetricTensor,
    par: Par,
    found: Vec<(f64, Vec<f64>)>,
}

impl ExactOracle<'_> {
    /// The deflated `(T(I,u,…,u), T(u,…,u))` from the tensor's own `z = T(I,u,…,u)`.
    fn deflated(&self, mut z: Vec<f64>, u: &[f64]) -> Eval {
        let p = self.t.order() as i32;
        for (w, a) in &self.found {
            let c = w * dot(a, u).powi(p - 1);
            z.iter_mut().zip(a).for_each(|(zi, ai)| *zi -= c * ai);
        }
        let v = dot(&z, u);
        (z, v, None)
    }
}

impl Oracle for ExactOracle<'_> {
    fn eval(&mut self, u: &[f64]) -> Result<Eval> {
        Ok(self.deflated(self.t.but_one_scaled(u, self.par), u))
    }
    fn eval_many(&mut self, us: &[&[f64]]) -> Result<Vec<Eval>> {
        let zs = self.t.but_one_scaled_many(us, self.par);
        Ok(zs
            .into_iter()
            .zip(us)
            .map(|(z, u)| self.deflated(z, u))
            .collect())
    }
    fn batches(&self) -> bool {
        true
    }
    fn deflate(&mut self, w: f64, u: &[f64]) -> Result<()> {
        self.found.push((w, u.to_vec()));
        Ok(())
    }
}

struct SketchOracle {
    s: TensorSketches,
    par: Par,
    search_sketches: usize,
    /// Plans for the search (folded) and the full sketch size.
    search_fft: Fft,
    full_fft: Fft,
    /// Evaluation buffers for the two sizes, reused across evaluations.
    search_bufs: Buffers,
    full_bufs: Buffers,
    phase: Phase,
}

impl Oracle for SketchOracle {
    fn eval(&mut self, u: &[f64]) -> Result<Eval> {
        let all = self.s.sketches();
        let (count, fft) = match self.phase {
            Phase::Search if self.search_sketches > 0 => (self.search_sketches, &self.search_fft),
            Phase::Search | Phase::Refine => (all, &self.search_fft),
            Phase::Polish => (all, &self.full_fft),
        };
        let bufs = if fft.len() == self.full_fft.len() {
            &mut self.full_bufs
        } else {
            &mut self.search_bufs
        };
        let est = self.s.estimates_with(count, u, fft, self.par, bufs)?;
        // The value is ⟨u, z⟩ with z the coordinate-wise median of the vector estimates: its
        // error is 10–25 % smaller than the median of the per-sketch values ⟨u, z_m⟩ (measured
        // at the true factors of synthetic n = 30, p = 4 and n = 60, p = 3 tensors, 30 seeds,
        // both hashings). The per-sketch values still give the spread.
        let z = median_vectors(&est);
        let v = dot(&z, u);
        let mut vals: Vec<f64> = est.iter().map(|zm| dot(zm, u)).collect();
        let mid = median(&mut vals);
        let mut dev: Vec<f64> = vals.iter().map(|x| (x - mid).abs()).collect();
        // 1.4826·MAD estimates the per-sketch σ; the weight comes from medians over the B
        // sketches, whose standard error is √(π/2)·σ/√B for Gaussian errors (not σ/√B). One
        // sketch has no spread to measure: its MAD is 0, which would read as an exact weight.
        let spread = if vals.len() < 2 {
            f64::NAN
        } else {
            1.4826 * std::f64::consts::FRAC_PI_2.sqrt() * median(&mut dev)
                / (vals.len() as f64).sqrt()
        };
        Ok((z, v, Some(spread)))
    }
    fn deflate(&mut self, w: f64, u: &[f64]) -> Result<()> {
        self.s.deflate_scaled(w, u, self.par)
    }
    fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
    }
    fn phased(&self) -> bool {
        true
    }
}

fn check_params(n: usize, rank: usize, p: &PowerParams) -> Result<()> {
    if rank == 0 || rank > MAX_COUNT {
        return Err(Error::param(
            "rank",
            format!("{rank}: expected 1..={MAX_COUNT}"),
        ));
    }
    if (rank as u128) * (n as u128) > (1u128 << 28) {
        return Err(Error::TooLarge {
            what: "factor matrix (rank × n)".into(),
            requested: rank as u128 * n as u128,
            limit: 1 << 28,
        });
    }
    for (name, v, min) in [
        ("starts", p.starts, 1),
        ("iters", p.iters, 0),
        ("refine_iters", p.refine_iters, 0),
    ] {
        if v < min || v > MAX_COUNT {
            return Err(Error::param(
                name,
                format!("{v}: expected {min}..={MAX_COUNT}"),
            ));
        }
    }
    let per_component = p.starts as u128 * (p.iters as u128 + 1) + p.refine_iters as u128 + 1;
    let contractions = rank as u128 * per_component;
    if contractions > MAX_CONTRACTIONS {
        return Err(Error::param(
            "rank·(starts·(iters + 1) + refine_iters + 1)",
            format!(
                "{rank}·({}·({} + 1) + {} + 1) = {contractions} contractions: expected at most \
                 {MAX_CONTRACTIONS} (2^24) in one call; lower rank, starts or iters",
                p.starts, p.iters, p.refine_iters
            ),
        ));
    }
    Ok(())
}

/// The random start `τ` of component `j` (unit Gaussian direction).
pub(crate) fn start_vector(seed: Seed, n: usize, starts: usize, j: usize, tau: usize) -> Vec<f64> {
    let s = seed.derive(START_STREAM);
    let id = 2 * (j as u64 * starts as u64 + tau as u64);
    let mut u: Vec<f64> = (0..n as u64)
        .map(|i| normal_from_words(s.word(id, i), s.word(id + 1, i)))
        .collect();
    normalize(&mut u);
    u
}

/// `u ← u/‖u‖`, returning `‖u‖` (0, ∞ or NaN leave `u` as it is). `Σuᵢ²` in `[2⁻⁹⁶⁰, ∞)` is
/// used as it is (the bits this always had); below (or when it overflows) `u` is first scaled by
/// the power of two that brings its largest entry into `[1, 2)`: with iterates of size `10⁻¹⁶¹`
/// (a component fitted to what deflation leaves of a tensor brought to unit scale) the plain
/// `Σuᵢ²` was subnormal and the "unit" factor came back with `‖u‖² = 0.9965`.
fn normalize(u: &mut [f64]) -> f64 {
    const SAFE_SUM_SQ_MIN: f64 = f64::from_bits((1023 - 960) << 52);
    let sq = dot(u, u);
    let top = crate::scalar::max_abs(u.iter().copied());
    if (sq.is_finite() && sq >= SAFE_SUM_SQ_MIN) || sq.is_nan() || top == 0.0 || !top.is_finite() {
        let nrm = sq.sqrt();
        if nrm > 0.0 && nrm.is_finite() {
            u.iter_mut().for_each(|x| *x /= nrm);
        }
        return nrm;
    }
    let k = -crate::scalar::exponent(top);
    u.iter_mut()
        .for_each(|x| *x = crate::scalar::mul_pow2(*x, k));
    let nrm = dot(u, u).sqrt();
    u.iter_mut().for_each(|x| *x /= nrm);
    crate::scalar::mul_pow2(nrm, -k)
}

/// One power step, shared by [`iterate`] and [`iterate_starts`]: `z = T(I,u,…,u)` is
/// normalized and becomes the new `u` (the old `u` is left in `z`, whose buffer the next
/// evaluation replaces). Returns the step's change `min(‖z − u‖, ‖z + u‖)` (a factor's sign is
/// not identifiable), or `None`, with `u` unchanged, when `‖z‖` is 0, infinite or NaN: no step
/// is defined.
fn advance(u: &mut Vec<f64>, z: &mut Vec<f64>) -> Option<f64> {
    let nrm = normalize(z);
    if !(nrm > 0.0 && nrm.is_finite()) {
        return None;
    }
    let d1: f64 = z.iter().zip(u.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
    let d2: f64 = z.iter().zip(u.iter()).map(|(a, b)| (a + b) * (a + b)).sum();
    std::mem::swap(u, z);
    Some(d1.min(d2).sqrt())
}

/// `(u, T(u,…,u), spread, last change, evaluations)` after [`iterate`].
type Iterated = (Vec<f64>, f64, Option<f64>, f64, usize);

/// `u ← T(I,u,…,u)/‖·‖` for `iters` steps; evaluation number `polish_from` (counting from 0;
/// there are `iters + 1`) and all later ones run in [`Phase::Polish`]. Returns the final `u`,
/// its value and spread, the last change and the number of evaluations.
fn iterate(
    o: &mut dyn Oracle,
    mut u: Vec<f64>,
    iters: usize,
    polish_from: usize,
) -> Result<Iterated> {
    // NaN until a step is measured (a vanished folded evaluation repeated at full size
    // may use up the last iteration without one).
    let mut change = f64::NAN;
    let mut evals = 0;
    if polish_from == 0 {
        o.set_phase(Phase::Polish);
    }
    let (mut z, mut v, mut spread) = o.eval(&u)?;
    evals += 1;
    let mut polish_from = polish_from;
    for _ in 0..iters {
        if evals == polish_from {
            o.set_phase(Phase::Polish);
        }
        let Some(step) = advance(&mut u, &mut z) else {
            // `z` came from evaluation number `evals − 1`, folded when it is below
            // `polish_from` (also when `evals == polish_from`: the phase has just switched to
            // full size, but `z` is still the folded one).
            if o.phased() && polish_from != usize::MAX && evals <= polish_from {
                // The folded estimate vanished (a folded sketch too small to resolve `u`):
                // go on at full size rather than stop on an unconverged `u`.
                polish_from = evals;
                o.set_phase(Phase::Polish);
                (z, v, spread) = o.eval(&u)?;
                evals += 1;
                continue;
            }
            // T(I,u,…,u) = 0: no step is defined, so no change is reported.
            change = f64::NAN;
            break;
        };
        change = step;
        (z, v, spread) = o.eval(&u)?;
        evals += 1;
    }
    if o.phased() && polish_from != usize::MAX && evals <= polish_from {
        // Stopped early (T(I,u,…,u) vanished) before the full-size phase: the value and
        // spread still come from it.
        o.set_phase(Phase::Polish);
        (_, v, spread) = o.eval(&u)?;
        evals += 1;
    }
    Ok((u, v, spread, change, evals))
}

/// [`iterate`] of every start in `starts` with no polish phase (`polish_from = usize::MAX`) on
/// an oracle without phases, the starts advanced in lockstep so that each round evaluates all
/// the unfinished ones in one [`Oracle::eval_many`]: the same results, start by start, as
/// `iterate(o, u0, iters, usize::MAX)` (each start's steps and tests are those of [`iterate`],
/// and the oracle's evaluation of a vector does not depend on the others).
///
/// # Performance
/// A dense tensor is streamed once a round instead of once per start (`L` starts: `iters + 1`
/// passes over `T` where one by one they took `L·(iters + 1)`).
fn iterate_starts(
    o: &mut dyn Oracle,
    starts: Vec<Vec<f64>>,
    iters: usize,
) -> Result<Vec<Iterated>> {
    struct Start {
        u: Vec<f64>,
        z: Vec<f64>,
        v: f64,
        spread: Option<f64>,
        change: f64,
        evals: usize,
        done: bool,
    }
    let first = {
        let us: Vec<&[f64]> = starts.iter().map(Vec::as_slice).collect();
        o.eval_many(&us)?
    };
    let mut state: Vec<Start> = starts
        .into_iter()
        .zip(first)
        .map(|(u, (z, v, spread))| Start {
            u,
            z,
            v,
            spread,
            change: f64::NAN,
            evals: 1,
            done: false,
        })
        .collect();
    for _ in 0..iters {
        let mut stepped = Vec::new();
        for (k, st) in state.iter_mut().enumerate().filter(|(_, st)| !st.done) {
            match advance(&mut st.u, &mut st.z) {
                Some(step) => {
                    st.change = step;
                    stepped.push(k);
                }
                None => {
                    // T(I,u,…,u) = 0: no step is defined, so no change is reported.
                    st.change = f64::NAN;
                    st.done = true;
                }
            }
        }
        if stepped.is_empty() {
            break;
        }
        let evals = {
            let us: Vec<&[f64]> = stepped.iter().map(|&k| state[k].u.as_slice()).collect();
            o.eval_many(&us)?
        };
        for (&k, (z, v, spread)) in stepped.iter().zip(evals) {
            let st = &mut state[k];
            (st.z, st.v, st.spread) = (z, v, spread);
            st.evals += 1;
        }
    }
    Ok(state
        .into_iter()
        .map(|st| (st.u, st.v, st.spread, st.change, st.evals))
        .collect())
}

/// Most starts [`robust_power`] runs in lockstep at once ([`iterate_starts`]): each group
/// streams a dense tensor once a round, so 16 starts read it 16 times less often than one by
/// one, while the group's vectors (`2·16·n` values) stay small next to the tensor.
const LOCKSTEP_STARTS: usize = 16;

/// Weights, factors, diagnostics and the number of contractions.
type Found = (Vec<f64>, Vec<Vec<f64>>, Vec<ComponentInfo>, usize);

/// Scales the weights, start values and spreads found on `T·2⁻ᵉ` back by `2ᵉ` (exact; nothing
/// changes at `e = 0`).
///
/// # Errors
/// [`Error::NonFinite`] for a weight beyond the `f64` range.
fn scale_back(weights: &mut [f64], infos: &mut [ComponentInfo], e: i32) -> Result<()> {
    if e == 0 {
        return Ok(());
    }
    for (j, w) in weights.iter_mut().enumerate() {
        *w = mul_pow2(*w, e);
        if !w.is_finite() {
            return Err(Error::NonFinite {
                what: format!("weight of component {j} (beyond the f64 range)"),
                row: 0,
                col: j,
            });
        }
    }
    for c in infos {
        c.start_values.iter_mut().for_each(|v| *v = mul_pow2(*v, e));
        if let Some(s) = &mut c.weight_spread {
            *s = mul_pow2(*s, e);
        }
    }
    Ok(())
}

fn robust_power(
    o: &mut dyn Oracle,
    order: usize,
    n: usize,
    rank: usize,
    params: &PowerParams,
    polish_iters: usize,
    seed: Seed,
) -> Result<Found> {
    let mut weights = Vec::with_capacity(rank);
    let mut factors = Vec::with_capacity(rank);
    let mut infos = Vec::with_capacity(rank);
    let mut evals = 0;
    for j in 0..rank {
        let mut best: Option<(usize, Vec<f64>, f64)> = None;
        let mut start_values = Vec::with_capacity(params.starts);
        o.set_phase(Phase::Search);
        let u0 = |tau| start_vector(seed, n, params.starts, j, tau);
        let searched: Vec<Iterated> = if o.batches() && !o.phased() {
            // Groups of at most LOCKSTEP_STARTS, so that the work vectors stay O(n) however
            // many starts are asked for (up to 2¹⁶ at n up to 2¹⁴ would be 16 GB at once).
            let mut all = Vec::with_capacity(params.starts);
            for first in (0..params.starts).step_by(LOCKSTEP_STARTS) {
                let group = (first..params.starts.min(first + LOCKSTEP_STARTS)).map(u0);
                all.extend(iterate_starts(o, group.collect(), params.iters)?);
            }
            all
        } else {
            (0..params.starts)
                .map(|tau| iterate(o, u0(tau), params.iters, usize::MAX))
                .collect::<Result<_>>()?
        };
        for (tau, (u, v, _, _, e)) in searched.into_iter().enumerate() {
            evals += e;
            start_values.push(v);
            // |v| ranks the starts at every order: at odd order the sign of u flips v; at even
            // order a component of negative weight is as much an attractor of the power map as
            // one of positive weight (|⟨a,u⟩| evolves alike), and ranking by the signed v
            // preferred a smaller positive component to a dominant negative one.
            let score = v.abs();
            if best.as_ref().is_none_or(|b| score > b.2) {
                best = Some((tau, u, score));
            }
        }
        let (best_start, u, _) = best.ok_or_else(|| Error::param("starts", "no starts"))?;
        o.set_phase(Phase::Refine);
        let polish_from = params.refine_iters.saturating_sub(polish_iters);
        let (mut u, mut v, spread, change, e) = iterate(o, u, params.refine_iters, polish_from)?;
        evals += e;
        if order % 2 == 1 && v < 0.0 {
            u.iter_mut().for_each(|x| *x = -*x);
            v = -v;
        }
        if !v.is_finite() || u.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("tensor power iterate of component {j} (overflow)"),
                row: u.iter().position(|x| !x.is_finite()).unwrap_or(0),
                col: j,
            });
        }
        o.deflate(v, &u)?;
        weights.push(v);
        factors.push(u);
        infos.push(ComponentInfo {
            best_start,
            start_values,
            final_change: if params.refine_iters == 0 {
                f64::NAN
            } else {
                change
            },
            weight_spread: spread,
        });
    }
    Ok((weights, factors, infos, evals))
}

/// Exact robust tensor power method: for each of `rank` components, `L` random starts run `N`
/// iterations `u ← T(I,u,…,u)/‖T(I,u,…,u)‖` of the deflated tensor, the start with the largest
/// `|T(u,…,u)|` is refined for `refine_iters` more, `λ = T(u,…,u)`, and the tensor is deflated
/// `T ← T − λ u^{⊗p}` (implicitly: `T(I,u,…,u) − Σ_l λ_l⟨a_l,u⟩^{p−1} a_l`).
///
/// Reproducible from `seed` (the starts), bitwise identical for any thread count. Works at any
/// scale of the entries ([`SymmetricTensor`]'s scaling note): `2ᵏ·T` gives the factors of `T`
/// bit for bit and the weights times `2ᵏ` when both lie outside `[2⁻²⁵⁶, 2²⁵⁶]` (both are then
/// brought to the same unit scale), or both inside it and no entry or iterate is subnormal at
/// either scale; otherwise to rounding, except where one scale's iterates underflow (a
/// `T·2⁻⁶⁰⁰` with entries from 2 to `7·10¹⁶⁰` is used as given, and its tiny entries are lost
/// to underflow where those of `T`, brought to unit scale, are not). Components fitted to
/// rounding-level remainders (below) are rounding noise at any scale and need not agree.
///
/// Asking for more components than the tensor has is not an error: the extra ones are fitted to
/// what deflation leaves (noise, or rounding of order `1e-16·‖T‖_F` for an exactly low-rank
/// tensor) and come back with correspondingly small weights. Compare the weights with the first
/// ones, or [`residual_rel`] before and after, to choose the rank. Where `T(I,u,…,u)` is exactly
/// zero (the zero tensor, every entry 0), the power map has no step: such a component comes
/// back with weight 0, the first start as its factor and `final_change = NaN`, not an error
/// ([`residual_rel`] is what refuses a zero tensor: its relative residual is `0/0`).
///
/// **Dynamic range.** Deflation leaves rounding of order `10⁻¹⁶·λ_max`, so a component of weight
/// `r·λ_max` comes back with a factor error of roughly `10⁻¹⁷/r`, and one below about
/// `10⁻¹⁵·λ_max` is lost: the fit is then to the rounding (orthonormal factors, `n = 3`,
/// weights 1 and `r`: factor error `1.4·10⁻⁵` at `r = 10⁻¹²` and `1.7·10⁻³` at `r = 10⁻¹⁴`
/// (order 3); at `r = 10⁻³⁰⁰` the second weight reads `4·10⁻¹⁶`, a fit to the rounding).
/// Only the ratio matters, not the scale: with weights `10¹⁵⁰` and `10⁻¹⁵⁰` the small
/// component is lost as well (there the second weight came back exactly 0, with
/// `final_change = NaN`: the rounding left by the deflation vanished along the iterate).
///
/// **Orthogonal components only.** The method, and its guarantee (Anandkumar et al. 2014), is
/// for orthogonally decomposable tensors: orthonormal `a_j`, plus small noise. With
/// non-orthogonal factors the `a_j` are not fixed points of the power map and deflating one
/// leaves cross terms, so the iterates converge (`final_change ≈ 0`) to other vectors. Two unit
/// factors with `⟨a₁, a₂⟩ = c` and weights 1 and 0.9 (`n = 3`, 10 starts, 30 + 50 iterations):
/// at order 3 the largest factor error is 0.011, 0.18 and 0.43 at `c = 0.1, 0.3, 0.5`
/// ([`residual_rel`] 0.014, 0.19, 0.33); at order 4 it is 0.0009, 0.030 and 0.23. The
/// diagnostics of a component do not show it; [`residual_rel`] does. Whiten such a tensor
/// first (with its second moment, as in Anandkumar et al.) or use an ALS-type CP method.
///
/// # Errors
/// [`Error::InvalidParameter`] for `rank ∉ 1..=2¹⁶`, `starts = 0` or counts above 2¹⁶;
/// [`Error::TooLarge`] for `rank·n > 2²⁸` (the factor matrix);
/// [`Error::InvalidParameter`] named `rank·(starts·(iters + 1) + refine_iters + 1)` when that
/// number of contractions exceeds `2²⁴` (each count is within `2¹⁶`, but their product could ask
/// for `2⁴⁸`, hours even on a tiny tensor; ALGORITHMS.md §7's protocol at rank 100 makes
/// `158 100`);
/// [`Error::NonFinite`] if an iterate overflows or a weight is beyond the `f64` range.
///
/// # Performance
/// `rank·(L·(N+1) + N_refine + 1)` contractions of `n^p` (dense) or `p·nnz` (coordinate)
/// multiply-adds each, plus `O(j·n)` each while component `j + 1` is sought (the deflation is
/// implicit: `T(I,u,…,u) − Σ_{l≤j} λ_l⟨a_l,u⟩^{p−1} a_l`), which dominates for a sparse tensor
/// with `p·nnz < j·n`. The starts advance in lockstep, in groups of up to 16: a dense tensor
/// is streamed once per round for a whole group (`rank·(N + N_refine + 2)` passes over the
/// array in all for `L ≤ 16`), each of its innermost blocks of `n` entries read once from
/// memory for the group's products (results bit for bit those of the starts one by one). At
/// `n = 400`, order 3 (512 MB), rank 10, `L = 5`, `N = 8` on 2 threads: 21.1 s against 37.8 s
/// before (`examples/tensor_power`, BENCHMARKS.md).
///
/// # References
/// A. Anandkumar, R. Ge, D. Hsu, S. Kakade, M. Telgarsky, "Tensor decompositions for learning
/// latent variable models", JMLR 2014, arXiv 1210.7559.
pub fn power_method_exact(
    t: &SymmetricTensor,
    rank: usize,
    params: &PowerParams,
    seed: Seed,
    par: Par,
) -> Result<CpDecomposition> {
    check_params(t.dim(), rank, params)?;
    let mut o = ExactOracle {
        t,
        par,
        found: Vec::new(),
    };
    let (mut weights, factors, mut components, contractions) =
        robust_power(&mut o, t.order(), t.dim(), rank, params, 0, seed)?;
    scale_back(&mut weights, &mut components, t.scale_exp())?;
    Ok(CpDecomposition {
        weights,
        factors,
        components,
        method: PowerMethod::Exact,
        sketch_shape: None,
        contractions,
        exact_sweeps: 0,
    })
}

/// Sketched robust tensor power method (Wang–Tung–Smola–Anandkumar 2015): the same algorithm
/// and starts as [`power_method_exact`], with every contraction replaced by the median over
/// `B` count sketches of size `b` ([`TensorSketches`]), and deflation done on the sketches.
/// Cheaper contractions where accuracy is not yet needed ([`SketchParams`]): the `L` starts
/// iterate on the first `search_sketches` sketches folded to size `b_s` (default `b/4`); the
/// best start is refined on all `B` folded sketches, then for the last `polish_iters`
/// iterations on all `B` at full size, which also give its weight.
///
/// After the sketches are built (`O(B·nnz(T))`), the tensor is not touched again. The
/// sketches' noise leaves the factors about 0.03 from the components and the residual several
/// times the exact method's; [`refine_exact`] on the result removes that with one or two
/// passes over `T`.
///
/// # Errors
/// As [`power_method_on_sketches`] (that is, [`power_method_exact`]'s, a `search_sketch_dim`
/// in `1..16`, and too many colliding pairs at the folded size) and
/// [`TensorSketches::with_hashing`]; all parameters are checked before the sketches are built.
///
/// # Performance
/// Build `O(B·(p·nnz + b log b))` with per-mode hashing (`O(B·(nnz/p! + b log b))` on dense
/// storage with the shared hash, which the default [`ModeHashing::Auto`] picks at order 3);
/// each contraction `O(B·p·(n + b log b))` (`p − 1` forward real FFTs and one inverse of
/// length `b`, or `b_s` when folded; one forward FFT with the shared hash, plus its order-3
/// correction: `≈ 2n²/b_s ≤ n/8` colliding pairs per sketch under `Auto`, each a walk of the
/// slice `T_xx·`), independent of `nnz`.
///
/// # References
/// Y. Wang, H.-Y. Tung, A. Smola, A. Anandkumar, "Fast and guaranteed tensor decomposition via
/// sketching", NeurIPS 2015, arXiv 1506.04448.
///
/// # Examples
///
/// ```
/// use randnla::tensor::{match_factors, power_method_sketched, SketchParams, SymmetricTensor};
/// use randnla::Seed;
/// // An order-3 tensor Σ λ_k v_k^{⊗3} with 3 orthonormal components in dimension 40, plus
/// // noise 0.01, decomposed from its sketches alone.
/// let (t, weights, factors) =
///     SymmetricTensor::synthetic_orthogonal(3, 40, 3, 0.01, Seed::new(1))?;
/// let params = SketchParams::default();
/// let cp = power_method_sketched(&t, 3, &params, Seed::new(2), randnla::faer::Par::Seq)?;
/// let matches = match_factors(3, &weights, &factors, &cp.weights, &cp.factors)?;
/// assert!(matches.iter().all(|m| m.factor_error < 0.1), "{matches:?}");
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn power_method_sketched(
    t: &SymmetricTensor,
    rank: usize,
    params: &SketchParams,
    seed: Seed,
    par: Par,
) -> Result<CpDecomposition> {
    // Every parameter is checked before the sketches are built (`O(B·nnz)`), not after.
    check_params(t.dim(), rank, &params.power)?;
    check_search_dim(params)?;
    let (bb, b) = params.resolve(t.dim(), t.order());
    let hashing = params.resolve_hashing(t.dim(), t.order());
    let s = TensorSketches::with_hashing(t, bb, b, hashing, seed, par)?;
    power_method_on_sketches(s, rank, params, seed, par)
}

/// The sketched method on prebuilt sketches (consumed: they are deflated in place). From
/// `params` it uses `power`, `search_sketches`, `search_sketch_dim` and `polish_iters`; the
/// shape `(B, b)` is the sketches' own. The weights are in the sketched tensor's units, also
/// when the sketches hold it scaled ([`TensorSketches`]' scaling note).
///
/// # Errors
/// As [`power_method_exact`]; [`Error::InvalidParameter`] for a `search_sketch_dim` in
/// `1..16`; [`Error::TooLarge`] when shared-hash sketches of order 3 are
/// evaluated at a folded size with more than `2²⁷` colliding pairs in one sketch (see
/// [`TensorSketches::with_hashing`]). Sketches built with [`ModeHashing::Auto`] were resolved
/// against their full size `b`; [`power_method_sketched`] resolves it against the folded search
/// size instead ([`SketchParams::resolve_hashing`]), which keeps the correction cheap.
pub fn power_method_on_sketches(
    mut sketches: TensorSketches,
    rank: usize,
    params: &SketchParams,
    seed: Seed,
    par: Par,
) -> Result<CpDecomposition> {
    let (search_sketches, polish_iters) = (params.search_sketches, params.polish_iters);
    // Checked before the folded pairs are cached (`keep_folded`), which may take a while.
    check_params(sketches.dim(), rank, &params.power)?;
    check_search_dim(params)?;
    let search_fft = sketches.folded_fft(params.resolve_search(sketches.sketch_dim()));
    sketches.keep_folded(search_fft.len());
    let full_fft = sketches.folded_fft(sketches.sketch_dim());
    let params = &params.power;
    let (order, n) = (sketches.order(), sketches.dim());
    let shape = (sketches.sketches(), sketches.sketch_dim());
    let scale_exp = sketches.scale_exp();
    let mut o = SketchOracle {
        s: sketches,
        par,
        search_sketches,
        search_fft,
        full_fft,
        search_bufs: Buffers::default(),
        full_bufs: Buffers::default(),
        phase: Phase::Polish,
    };
    let (mut weights, factors, mut components, contractions) =
        robust_power(&mut o, order, n, rank, params, polish_iters, seed)?;
    scale_back(&mut weights, &mut components, scale_exp)?;
    Ok(CpDecomposition {
        weights,
        factors,
        components,
        method: PowerMethod::Sketched,
        sketch_shape: Some(shape),
        contractions,
        exact_sweeps: 0,
    })
}

/// Refines a decomposition with exact contractions of `T`: `sweeps` simultaneous power steps on
/// every component, each against the tensor deflated by all the others,
///
/// `u_j ← z_j/‖z_j‖`, `z_j = T(I,u_j,…,u_j) − Σ_{l≠j} λ_l⟨u_l,u_j⟩^{p−1} u_l`,
/// `λ_j ← ⟨z_j, u_j⟩` (all from the previous sweep's `u` and `λ`),
///
/// then the weights of the final factors are evaluated the same way: exact, deflated by the other
/// components. It is the exact method's refinement started from given factors, with every
/// component deflated by all the others (not only by those found before it), so that all of
/// them advance in one pass over a dense `T` per sweep.
///
/// Use it after [`power_method_sketched`] (or [`power_method_on_sketches`]) when the tensor
/// can be read a few more times: near an orthogonal component the power map's error goes from
/// `e` to about `e^{p−1}` a step, so from the sketched method's factor error (about 0.03 with
/// the automatic shape) one or two sweeps reach the accuracy of [`power_method_exact`]. Measured
/// on synthetic orthogonal tensors, rank 10, both hashings (`tests/tensor_refine.rs`,
/// `tests/spec_review2.rs`): noiseless, the largest factor error went 0.028–0.041 →
/// `1.7·10⁻⁴`–`7.9·10⁻⁴` → `2·10⁻⁸`–`9·10⁻⁸` → `10⁻¹⁵`–`5·10⁻¹⁴` at order 3 (`n = 50, 100`) and
/// 0.041 → `10⁻⁵` → `7·10⁻¹⁵` at order 4 (`n = 16`, rank 5); with noise 0.01 the sketched
/// residual, 4–7 times the exact method's (0.041–0.067 against 0.0099–0.0100, `n = 50, 100`),
/// equals it to 4 digits after two sweeps, as do the factor errors (ALGORITHMS.md §7's
/// "residual within 10 % of the exact method", read relatively, which the sketched method alone
/// does not meet).
///
/// The result keeps `method`, `sketch_shape` and each component's `best_start` and
/// `start_values`; `final_change` becomes the last sweep's `min(‖u − u_prev‖, ‖u + u_prev‖)`
/// (unchanged when `sweeps = 0`; `NaN` where `z_j` vanished), `weight_spread` becomes `None`
/// (the weight is exact), `contractions` grows by `rank·(sweeps + 1)` and `exact_sweeps` by
/// `sweeps`. Factors that are not unit are normalized first, their weights multiplied by
/// `‖a_j‖^p` (the same term `λ_j a_j^{⊗p}`); at odd order a negative weight is made positive by
/// flipping its factor, as the power methods do. Bitwise identical for any thread count.
///
/// Orthogonally decomposable tensors only, as for the power methods: with non-orthogonal
/// factors the sweeps converge to other vectors (see [`power_method_exact`]).
///
/// # Errors
/// [`Error::DimensionMismatch`] when the weights, factors and components differ in number or a
/// factor's length is not `n`; [`Error::NonFinite`] for a non-finite weight or factor entry, a
/// weight that overflows once its factor is made unit, or an iterate or weight that overflows;
/// [`Error::InvalidParameter`] for a zero factor, `sweeps` above 2¹⁶, or `rank·(sweeps + 1)`
/// above 2²⁴ contractions.
///
/// # Performance
/// `rank·(sweeps + 1)` exact contractions, `O(n^p)` multiply-adds each on dense storage
/// (`O(p·nnz)` on coordinates), with the dense tensor read once per sweep, and once more for
/// the final weights, for up to 16 components (the exact method's lockstep kernel): `sweeps + 1`
/// passes for `rank ≤ 16`; plus `O(rank²·n)` per sweep for the
/// deflation. At `n = 400`, order 3, rank 10 (512 MB), two sweeps took 0.27 s on two
/// threads and 0.54 s on one (medians of 5), against 0.96 s and 1.2 s for the sketched method
/// itself and 5.0 s and 9.9 s for the exact one (`benches/tensor_power.rs` `method_p3`,
/// `examples/tensor_power --exact-sweeps 2`, AMD VM, 2026-12-07).
///
/// # References
/// A. Anandkumar, R. Ge, D. Hsu, S. Kakade, M. Telgarsky, "Tensor decompositions for learning
/// latent variable models", JMLR 2014, arXiv 1210.7559 (the power map's quadratic convergence
/// near a component of an orthogonal order-3 tensor).
///
/// # Examples
/// ```
/// use randnla::tensor::{
///     match_factors, power_method_sketched, refine_exact, SketchParams, SymmetricTensor,
/// };
/// use randnla::Seed;
/// let par = randnla::faer::Par::Seq;
/// let (t, weights, factors) =
///     SymmetricTensor::synthetic_orthogonal(3, 40, 3, 0.01, Seed::new(1))?;
/// let cp = power_method_sketched(&t, 3, &SketchParams::default(), Seed::new(2), par)?;
/// let refined = refine_exact(&t, &cp, 2, par)?;
/// let before = match_factors(3, &weights, &factors, &cp.weights, &cp.factors)?;
/// let after = match_factors(3, &weights, &factors, &refined.weights, &refined.factors)?;
/// // The sketches' error (0.017 here) falls to the noise's (8.4·10⁻⁴).
/// let worst = |m: &[randnla::tensor::FactorMatch]| {
///     m.iter().map(|m| m.factor_error).fold(0.0, f64::max)
/// };
/// assert!(worst(&before) > 0.01 && worst(&after) < 1.5e-3, "{before:?} {after:?}");
/// assert_eq!((refined.exact_sweeps, refined.contractions), (2, cp.contractions + 9));
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn refine_exact(
    t: &SymmetricTensor,
    cp: &CpDecomposition,
    sweeps: usize,
    par: Par,
) -> Result<CpDecomposition> {
    let (n, k) = (t.dim(), cp.weights.len());
    check_components(n, &cp.weights, &slices(&cp.factors))?;
    if cp.components.len() != k {
        return Err(Error::dim(
            "components (one per weight)",
            k,
            cp.components.len(),
        ));
    }
    if sweeps > MAX_COUNT {
        return Err(Error::param(
            "sweeps",
            format!("{sweeps}: expected 0..={MAX_COUNT}"),
        ));
    }
    let evals = k as u128 * (sweeps as u128 + 1);
    if evals > MAX_CONTRACTIONS {
        return Err(Error::param(
            "rank·(sweeps + 1)",
            format!(
                "{k}·({sweeps} + 1) = {evals} contractions: expected at most {MAX_CONTRACTIONS} \
                 (2^24) in one call"
            ),
        ));
    }
    let (e, p) = (t.scale_exp(), t.order());
    let odd = p % 2 == 1;
    let mut us = cp.factors.clone();
    // Weights in the units of T·2⁻ᵉ, the oracle's (see `SymmetricTensor`'s scaling note).
    let mut ws: Vec<f64> = cp.weights.iter().map(|&w| mul_pow2(w, -e)).collect();
    // A negative weight at odd order needs no flip here: `T(I,u,…,u)` is even in `u`, so the
    // first sweep computes the same bits for `(λ, u)` and `(−λ, −u)` but the sign of `⟨z, u⟩`,
    // and the turn-over rule below (or the final flip) makes the weight positive.
    for (j, (u, w)) in us.iter_mut().zip(&mut ws).enumerate() {
        let nrm = normalize(u);
        if !(nrm > 0.0 && nrm.is_finite()) {
            return Err(Error::param(
                "factors",
                format!("factor {j} is zero: it has no direction to refine"),
            ));
        }
        // `λ·(c·u)^{⊗p} = (λ·c^p)·u^{⊗p}`: the weight of the unit factor.
        *w *= nrm.powi(p as i32);
        if !w.is_finite() {
            return Err(Error::NonFinite {
                what: format!(
                    "weight of component {j} times ‖factor‖^p (beyond the f64 range once the \
                     factor is made unit)"
                ),
                row: 0,
                col: j,
            });
        }
    }
    let mut changes: Vec<f64> = cp.components.iter().map(|c| c.final_change).collect();
    for sweep in 0..=sweeps {
        let evaluated = deflated_by_the_others(t, &us, &ws, par);
        let last = sweep == sweeps;
        for (j, (mut z, v)) in evaluated.into_iter().enumerate() {
            ws[j] = v;
            if last {
                continue;
            }
            match advance(&mut us[j], &mut z) {
                Some(step) => {
                    changes[j] = step;
                    // `z` now holds the previous factor: at odd order a factor that turned
                    // over carries its weight's sign with it (λ·u^{⊗p} = (−λ)·(−u)^{⊗p}).
                    if odd && dot(&us[j], &z) < 0.0 {
                        ws[j] = -v;
                    }
                }
                None => changes[j] = f64::NAN,
            }
        }
    }
    let mut components = cp.components.clone();
    for (j, ((u, w), c)) in us.iter_mut().zip(&mut ws).zip(&mut components).enumerate() {
        if odd && *w < 0.0 {
            u.iter_mut().for_each(|x| *x = -*x);
            *w = -*w;
        }
        if !w.is_finite() || u.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("refined factor or weight of component {j} (overflow)"),
                row: u.iter().position(|x| !x.is_finite()).unwrap_or(0),
                col: j,
            });
        }
        if sweeps > 0 {
            c.final_change = changes[j];
        }
        c.weight_spread = None;
    }
    scale_back(&mut ws, &mut [], e)?;
    Ok(CpDecomposition {
        weights: ws,
        factors: us,
        components,
        method: cp.method,
        sketch_shape: cp.sketch_shape,
        contractions: cp.contractions.saturating_add(k * (sweeps + 1)),
        exact_sweeps: cp.exact_sweeps.saturating_add(sweeps),
    })
}

/// `(z_j, ⟨z_j, u_j⟩)` with `z_j = T(I,u_j,…,u_j) − Σ_{l≠j} w_l⟨u_l,u_j⟩^{p−1} u_l` for every
/// `j`, in the units of `T·2⁻ᵉ`; the contractions in groups of [`LOCKSTEP_STARTS`] (one pass
/// over a dense `T` per group).
fn deflated_by_the_others(
    t: &SymmetricTensor,
    us: &[Vec<f64>],
    ws: &[f64],
    par: Par,
) -> Vec<(Vec<f64>, f64)> {
    let p = t.order() as i32;
    let mut out = Vec::with_capacity(us.len());
    for first in (0..us.len()).step_by(LOCKSTEP_STARTS) {
        let group: Vec<&[f64]> = us[first..us.len().min(first + LOCKSTEP_STARTS)]
            .iter()
            .map(Vec::as_slice)
            .collect();
        for (off, mut z) in t.but_one_scaled_many(&group, par).into_iter().enumerate() {
            let (j, u) = (first + off, group[off]);
            for (l, (w, a)) in ws.iter().zip(us).enumerate() {
                if l != j {
                    let c = w * dot(a, u).powi(p - 1);
                    z.iter_mut().zip(a).for_each(|(zi, ai)| *zi -= c * ai);
                }
            }
            let v = dot(&z, u);
            out.push((z, v));
        }
    }
    out
}

/// `search_sketch_dim` is 0 (automatic) or at least the smallest sketch size.
fn check_search_dim(params: &SketchParams) -> Result<()> {
    if params.search_sketch_dim != 0 && params.search_sketch_dim < MIN_SKETCH_DIM {
        return Err(Error::param(
            "search_sketch_dim",
            format!(
                "{}: expected 0 (automatic) or at least {MIN_SKETCH_DIM}, as for the sketch size",
                params.search_sketch_dim
            ),
        ));
    }
    Ok(())
}

/// The factors as slices: the public functions take any `&[F]` with `F: AsRef<[f64]>`
/// (`Vec<f64>`, `&[f64]`, arrays), the work is done on `&[&[f64]]`.
pub(crate) fn slices<F: AsRef<[f64]>>(factors: &[F]) -> Vec<&[f64]> {
    factors.iter().map(AsRef::as_ref).collect()
}

fn check_components(n: usize, weights: &[f64], factors: &[&[f64]]) -> Result<()> {
    if weights.len() != factors.len() {
        return Err(Error::dim(
            "factors (one per weight)",
            weights.len(),
            factors.len(),
        ));
    }
    crate::input::check_finite_slice(weights, "weights")?;
    for f in factors {
        if f.len() != n {
            return Err(Error::dim("factor length", n, f.len()));
        }
        crate::input::check_finite_slice(f, "factor")?;
    }
    Ok(())
}

/// Relative residual `‖T − Σ_j λ_j a_j^{⊗p}‖_F / ‖T‖_F`.
/// `factors[j]` is `a_j`: a `Vec<f64>` (as [`CpDecomposition::factors`] holds them), a `&[f64]`
/// or an array, anything `AsRef<[f64]>`.
///
/// For dense storage it is summed entry by entry, `Σ_I (T_I − Σ_j λ_j ∏_m a_j[i_m])²`, accurate
/// to rounding (an exact rank-2 tensor gives about `1e-16`). For coordinate storage the
/// approximation is not formed: `‖T‖² − 2Σ_j λ_j T(a_j,…,a_j) + Σ_{j,l} λ_j λ_l ⟨a_j,a_l⟩^p`,
/// whose terms cancel when the residual is small: the squared residual carries an error of a
/// few hundred `u·‖T‖²`, so the figure is accurate to about `√(300·u) ≈ 2·10⁻⁷` (an exact
/// decomposition reads `10⁻⁸`–`2·10⁻⁷`, not 0: up to 1.7·10⁻⁷ over 300 random ones of orders
/// 3–5 in a user's review). At extreme scales computed on `T·2⁻ᵉ` with the
/// weights `λ_j·2⁻ᵉ` (see [`SymmetricTensor`]'s scaling note): the ratio is the same. The
/// figure does not depend on the thread count (fixed blocks of rows, summed in order).
///
/// # Errors
/// Mismatched lengths or non-finite values; [`Error::Empty`] for a zero tensor (every entry 0:
/// the ratio is `0/0`);
/// [`Error::NonFinite`] when the terms overflow (weights or factors far beyond the tensor's
/// scale), rather than a meaningless ratio.
///
/// # Performance
/// Dense: `O(k·n^p)`, one pass over the array (as `k` contractions). Coordinate: `k` exact
/// contractions plus `O(k²n)`.
///
/// # Examples
/// ```
/// use randnla::tensor::{residual_rel, SymmetricTensor};
/// // T = 2·a⊗a⊗a + b⊗b⊗b with orthonormal a, b: ‖T‖_F² = 2² + 1² = 5.
/// let (a, b) = (vec![0.6, 0.8, 0.0], vec![-0.8, 0.6, 0.0]);
/// let factors = vec![a, b];
/// let t = SymmetricTensor::from_components(3, 3, &[2.0, 1.0], &factors)?;
/// let par = randnla::faer::Par::Seq;
/// // The exact components leave only rounding.
/// assert!(residual_rel(&t, &[2.0, 1.0], &factors, par)? < 1e-15);
/// // Without b the residual is b⊗b⊗b, of norm 1: 1/√5 relative.
/// let r = residual_rel(&t, &[2.0], &factors[..1], par)?;
/// assert!((r - 0.2f64.sqrt()).abs() < 1e-15, "{r}");
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn residual_rel<F: AsRef<[f64]>>(
    t: &SymmetricTensor,
    weights: &[f64],
    factors: &[F],
    par: Par,
) -> Result<f64> {
    let factors = &slices(factors);
    check_components(t.dim(), weights, factors)?;
    let tn = t.norm_scaled();
    if tn == 0.0 {
        return Err(Error::empty(
            "tensor (every entry is zero, so ‖T‖_F = 0 and the relative residual is 0/0)",
        ));
    }
    let e = t.scale_exp();
    let p = t.order() as i32;
    let r2 = match t.dense_data() {
        Some(data) => dense_residual_sq(data, t, weights, factors, par),
        None => {
            let mut r2 = tn * tn;
            for (w, a) in weights.iter().zip(factors) {
                r2 -= 2.0 * mul_pow2(*w, -e) * dot(&t.but_one_scaled(a, par), a);
            }
            for (wj, aj) in weights.iter().zip(factors) {
                for (wl, al) in weights.iter().zip(factors) {
                    r2 += mul_pow2(*wj, -e) * mul_pow2(*wl, -e) * dot(aj, al).powi(p);
                }
            }
            r2
        }
    };
    if !r2.is_finite() {
        return Err(Error::NonFinite {
            what: "residual (the terms overflow: weights or factors far beyond the tensor's scale)"
                .into(),
            row: 0,
            col: 0,
        });
    }
    Ok(r2.max(0.0).sqrt() / tn)
}

/// Rows (last-mode fibres of length `n`) per task of [`dense_residual_sq`]: fixed, so that the
/// partial sums, added in order, do not depend on the thread count.
const RESIDUAL_ROWS_PER_TASK: usize = 64;

/// `‖T·2⁻ᵉ − Σ_j λ_j·2⁻ᵉ·a_j^{⊗p}‖_F²` summed over the row-major dense array `data` of `t`: for
/// each fibre `(i₁, …, i_{p−1}, ·)` the coefficients `c_j = λ_j·2⁻ᵉ·∏_{m<p} a_j[i_m]`, then
/// `Σ_i (T·2⁻ᵉ − Σ_j c_j a_j[i])²`.
fn dense_residual_sq(
    data: &[f64],
    t: &SymmetricTensor,
    weights: &[f64],
    factors: &[&[f64]],
    par: Par,
) -> f64 {
    let (n, p) = (t.dim(), t.order());
    let s = t.scale_factor();
    let e = t.scale_exp();
    let w: Vec<f64> = weights.iter().map(|&w| mul_pow2(w, -e)).collect();
    let rows = data.len() / n;
    let task = |first: usize| -> f64 {
        let last = (first + RESIDUAL_ROWS_PER_TASK).min(rows);
        let mut c = vec![0.0; w.len()];
        let mut sum = 0.0;
        for r in first..last {
            // The fibre's leading indices, from its row number (row-major: the first index varies
            // slowest).
            c.copy_from_slice(&w);
            let mut rest = r;
            for _ in 0..p - 1 {
                let i = rest % n;
                rest /= n;
                for (cj, a) in c.iter_mut().zip(factors) {
                    *cj *= a[i];
                }
            }
            let fibre = &data[r * n..(r + 1) * n];
            for (i, &v) in fibre.iter().enumerate() {
                let model: f64 = c.iter().zip(factors).map(|(cj, a)| cj * a[i]).sum();
                let d = v * s - model;
                sum += d * d;
            }
        }
        sum
    };
    let starts: Vec<usize> = (0..rows).step_by(RESIDUAL_ROWS_PER_TASK).collect();
    let partial: Vec<f64> = if crate::dense::tasks(par) > 1 {
        use rayon::prelude::*;
        starts.par_iter().map(|&f| task(f)).collect()
    } else {
        starts.iter().map(|&f| task(f)).collect()
    };
    partial.iter().sum()
}

/// How well one true component was recovered.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FactorMatch {
    /// Index of the true component.
    pub truth: usize,
    /// Index of the recovered component matched to it.
    pub found: usize,
    /// `min(‖a − â‖, ‖a + â‖)` (error up to sign).
    pub factor_error: f64,
    /// `|λ̂ − λ|/|λ|`, with `λ̂` sign-corrected for odd order when `â ≈ −a` (by the formula,
    /// infinite for a true weight 0, or `NaN` when `λ̂` is 0 too).
    pub weight_rel_error: f64,
}

/// Matches recovered components to true ones greedily by largest `|⟨a, â⟩|` (each used once)
/// and reports the errors, one row per true component (in the order of `true_weights`). A true
/// component left without a partner (fewer recovered than true) gets `found = usize::MAX` and
/// infinite errors. `order` (the tensor's order, ≥ 1) only decides the sign of the weights: at
/// odd order `λ·a^{⊗p} = (−λ)·(−a)^{⊗p}`, so a weight found with a flipped factor is compared
/// as `−λ̂`; at even order the sign of a factor does not matter.
/// The factors may be `Vec<f64>`s, `&[f64]`s or arrays (anything `AsRef<[f64]>`).
///
/// # Errors
/// [`Error::InvalidParameter`] for `order = 0`; mismatched lengths, non-finite values, or
/// factors of different lengths; [`Error::Empty`] for factors of length 0; [`Error::TooLarge`] when
/// the candidate pairs (`k_true·k_found`) exceed `2^24` or their list cannot be allocated.
///
/// # Performance
/// `O(k_true·k_found·(n + log(k_true·k_found)))`: every pair's inner product, then a sort.
///
/// # Examples
/// ```
/// use randnla::tensor::match_factors;
/// let (a, b) = (vec![0.6, 0.8, 0.0], vec![-0.8, 0.6, 0.0]);
/// // The decomposition 2·a^{⊗3} + b^{⊗3} found in the other order, with a's sign flipped: at
/// // odd order (−2)·(−a)^{⊗3} = 2·a^{⊗3}, so the weight −2 is matched as 2.
/// let neg_a: Vec<f64> = a.iter().map(|x| -x).collect();
/// let m = match_factors(3, &[2.0, 1.0], &[a, b.clone()], &[1.0, -2.0], &[b, neg_a])?;
/// assert_eq!((m[0].found, m[1].found), (1, 0));
/// assert!(m.iter().all(|m| m.factor_error == 0.0 && m.weight_rel_error == 0.0), "{m:?}");
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn match_factors<F: AsRef<[f64]>, G: AsRef<[f64]>>(
    order: usize,
    true_weights: &[f64],
    true_factors: &[F],
    weights: &[f64],
    factors: &[G],
) -> Result<Vec<FactorMatch>> {
    if order == 0 {
        return Err(Error::param(
            "order",
            "the tensor order is at least 1 (a tensor of order 0 has no factors), got 0",
        ));
    }
    let (true_factors, factors) = (&slices(true_factors), &slices(factors));
    let n = true_factors
        .first()
        .or(factors.first())
        .map_or(0, |f| f.len());
    check_components(n, true_weights, true_factors)?;
    check_components(n, weights, factors)?;
    if n == 0 && !(true_factors.is_empty() && factors.is_empty()) {
        return Err(Error::empty("factors (length 0)"));
    }
    // Every (true, found) pair is held and sorted: bound their number (24 bytes each, 384 MiB
    // at the bound) and reserve them before computing any.
    let pair_count = true_factors.len() as u128 * factors.len() as u128;
    let what = || {
        format!(
            "matching {} true against {} found components",
            true_factors.len(),
            factors.len()
        )
    };
    Error::within(pair_count, 1 << 24, what)?;
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    pairs
        .try_reserve_exact(pair_count as usize)
        .map_err(|_| Error::TooLarge {
            what: what(),
            requested: pair_count,
            limit: 1 << 24,
        })?;
    for (i, a) in true_factors.iter().enumerate() {
        for (j, b) in factors.iter().enumerate() {
            pairs.push((dot(a, b).abs(), i, j));
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut used_t = vec![false; true_factors.len()];
    let mut used_f = vec![false; factors.len()];
    let mut out: Vec<FactorMatch> = (0..true_factors.len())
        .map(|i| FactorMatch {
            truth: i,
            found: usize::MAX,
            factor_error: f64::INFINITY,
            weight_rel_error: f64::INFINITY,
        })
        .collect();
    for (_, i, j) in pairs {
        if used_t[i] || used_f[j] {
            continue;
        }
        used_t[i] = true;
        used_f[j] = true;
        let (a, b) = (true_factors[i], factors[j]);
        let d1: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
        let d2: f64 = a.iter().zip(b).map(|(x, y)| (x + y) * (x + y)).sum();
        let flip = d2 < d1 && order % 2 == 1;
        let w = if flip { -weights[j] } else { weights[j] };
        out[i] = FactorMatch {
            truth: i,
            found: j,
            factor_error: d1.min(d2).sqrt(),
            weight_rel_error: (w - true_weights[i]).abs() / true_weights[i].abs(),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rank-one order-3 tensor `λ·a⊗a⊗a` whose estimate vanishes outside [`Phase::Polish`]
    /// when `vanish_folded`, as a folded sketch too small to resolve `u` can make it, or
    /// everywhere when `vanish_always`.
    struct RankOne {
        a: Vec<f64>,
        lambda: f64,
        phase: Phase,
        vanish_folded: bool,
        vanish_always: bool,
    }

    impl Oracle for RankOne {
        fn eval(&mut self, u: &[f64]) -> Result<Eval> {
            let c = dot(&self.a, u);
            let vanish = self.vanish_always || (self.vanish_folded && self.phase != Phase::Polish);
            let s = if vanish { 0.0 } else { self.lambda * c * c };
            Ok((self.a.iter().map(|x| s * x).collect(), s * c, None))
        }
        fn deflate(&mut self, _w: f64, _u: &[f64]) -> Result<()> {
            Ok(())
        }
        fn set_phase(&mut self, phase: Phase) {
            self.phase = phase;
        }
        fn phased(&self) -> bool {
            true
        }
    }

    fn rank_one(vanish_folded: bool, vanish_always: bool) -> RankOne {
        RankOne {
            a: vec![0.6, 0.8, 0.0],
            lambda: 2.0,
            phase: Phase::Refine,
            vanish_folded,
            vanish_always,
        }
    }

    /// A folded estimate that vanishes must not end the refinement on the unconverged start
    /// with a reported change of 0: the iteration goes on at full size and converges there.
    #[test]
    fn a_vanished_folded_estimate_moves_the_refinement_to_full_size() {
        let u0 = vec![0.5, 0.5, 0.5f64.sqrt()];
        let (u, v, _, change, evals) = iterate(&mut rank_one(true, false), u0, 5, 3).unwrap();
        let err = u.iter().zip([0.6, 0.8, 0.0]).map(|(x, y)| (x - y).abs());
        assert!(err.fold(0.0, f64::max) < 1e-15, "u = {u:?}");
        assert!((v - 2.0).abs() < 1e-14, "v = {v}");
        assert!(change < 1e-15, "change = {change}");
        // Evaluations: the vanished one, its full-size repeat, then one per remaining step.
        assert_eq!(evals, 6);
    }

    /// [`ExactOracle`] without its batched evaluation: the starts run one by one.
    struct OneByOne<'a>(ExactOracle<'a>);

    impl Oracle for OneByOne<'_> {
        fn eval(&mut self, u: &[f64]) -> Result<Eval> {
            self.0.eval(u)
        }
        fn deflate(&mut self, w: f64, u: &[f64]) -> Result<()> {
            self.0.deflate(w, u)
        }
    }

    /// The starts in lockstep with one pass over the tensor a round ([`iterate_starts`]) give
    /// the bits of the starts one by one ([`iterate`]): weights, factors, diagnostics and the
    /// contraction count, at orders 3 and 4, on 1 and 2 threads, and where the deflated tensor
    /// vanishes (`2·e₀^{⊗3}` asked for two components: the second's starts all stop at their
    /// first step, `T(I,u,u) = 0` exactly).
    #[test]
    fn starts_in_lockstep_match_the_starts_one_by_one() {
        let mut spike = vec![0.0; 64];
        spike[0] = 2.0;
        let tensors = [
            SymmetricTensor::synthetic_orthogonal(3, 12, 3, 0.05, Seed::new(1))
                .unwrap()
                .0,
            SymmetricTensor::synthetic_orthogonal(4, 6, 2, 0.05, Seed::new(2))
                .unwrap()
                .0,
            SymmetricTensor::dense(3, 4, spike).unwrap(),
        ];
        let params = PowerParams {
            starts: 4,
            iters: 6,
            refine_iters: 3,
        };
        // More starts than one lockstep group holds (two groups and a partial one).
        let many = PowerParams {
            starts: 2 * LOCKSTEP_STARTS + 3,
            ..params.clone()
        };
        for (t, params) in tensors
            .iter()
            .map(|t| (t, &params))
            .chain([(&tensors[0], &many)])
        {
            for par in [Par::Seq, Par::rayon(2)] {
                let run = |o: &mut dyn Oracle| {
                    robust_power(o, t.order(), t.dim(), 2, params, 0, Seed::new(3)).unwrap()
                };
                let oracle = || ExactOracle {
                    t,
                    par,
                    found: Vec::new(),
                };
                let (w1, f1, i1, e1) = run(&mut oracle());
                let (w2, f2, i2, e2) = run(&mut OneByOne(oracle()));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&w1), bits(&w2), "order {}, {par:?}", t.order());
                for (a, b) in f1.iter().zip(&f2) {
                    assert_eq!(bits(a), bits(b));
                }
                for (a, b) in i1.iter().zip(&i2) {
                    assert_eq!(a.best_start, b.best_start);
                    assert_eq!(bits(&a.start_values), bits(&b.start_values));
                    assert_eq!(a.final_change.to_bits(), b.final_change.to_bits());
                }
                assert_eq!(e1, e2);
            }
        }
        // The vanishing case was reached: the spike's second component has value 0 from
        // every start, after one evaluation each (its search then stops).
        let t = &tensors[2];
        let mut o = ExactOracle {
            t,
            par: Par::Seq,
            found: Vec::new(),
        };
        let (w, _, infos, _) = robust_power(&mut o, 3, 4, 2, &params, 0, Seed::new(3)).unwrap();
        assert_eq!(w[0], 2.0);
        assert!(infos[1].start_values.iter().all(|&v| v == 0.0), "{infos:?}");
    }

    /// A tensor that is zero along `u` at full size gives no step: the change is `NaN`, not
    /// the 0 that reads as "converged".
    #[test]
    fn an_estimate_vanishing_at_full_size_reports_no_change() {
        let u0 = vec![1.0, 0.0, 0.0];
        let (u, v, _, change, _) = iterate(&mut rank_one(true, true), u0.clone(), 5, 0).unwrap();
        assert_eq!((u, v), (u0, 0.0));
        assert!(change.is_nan(), "change = {change}");
    }
}
