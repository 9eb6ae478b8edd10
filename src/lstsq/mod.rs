//! Least squares in input-sparsity time: sketch-and-solve, sketch-and-precondition (with
//! refinement), ridge regression, multiple right-hand sides, attention-kernel regression, and the
//! honest baselines they are measured against.
//!
//! | function | solves | cost | accuracy |
//! |---|---|---|---|
//! | [`sketch_and_solve`] | `argmin ‖S(Ax − b)‖` | `O(s·nnz(A) + m·d²)` | residual `≈ √(1 + d/(m−d−1))·OPT` |
//! | [`sketch_and_precondition`] | `argmin ‖Ax − b‖` (+ `λ‖x‖²`) | `O(s·nnz(A) + m·d² + iters·(nnz(A) + d²))` | backward error ≤ `tol`, forward error as Householder QR |
//! | [`qr_solve`] | `argmin ‖Ax − b‖` (+ `λ‖x‖²`) | `O(n·d²)`, dense `n × d` memory (`(n + d) × d` with ridge) | backward stable |
//! | [`normal_equations`] | `(AᵀA + λI)x = Aᵀb` | `O(Σ nnz(row)² + d³)` | squares `κ(A)` |
//! | [`lsqr()`] | `argmin ‖Ax − b‖` (+ `λ‖x‖²`) | `iters·nnz(A)`, iterations grow with `κ(A)` | stalls on ill-conditioned `A` |
//!
//! # The recommended solver
//! [`sketch_and_precondition`] (Blendenpik / LSRN family): sketch `SA` with a sparse sign
//! embedding (`m = 4d`–`16d` rows from a cost model, `s = 8` nonzeros per column by default),
//! factor `SA = QR`, start from the sketch-and-solve solution `x₀ = R⁻¹QᵀSb`, and run LSQR on the
//! operator `AR⁻¹`, applied matrix-free (`AR⁻¹` is never formed). Because `S` is a subspace
//! embedding, `κ(AR⁻¹) ≤ (1+ε)/(1−ε)` whatever `κ(A)` is, so the iteration count depends only on
//! the tolerance. Plain sketch-and-precondition is not backward stable (Meier, Nakatsukasa,
//! Townsend, Webb, arXiv 2302.07202); this crate uses *sketch-and-precondition with iterative
//! refinement* (Epperly, Meier, Nakatsukasa, arXiv 2406.03468): after LSQR stops, the true residual
//! `b − Ax` is recomputed and LSQR is restarted on the correction, which the tests show gives the
//! forward error of a Householder QR solve on `κ(A) = 10¹²` problems. The answer is then tested
//! against the normal-equation residual any exact answer of a nearby problem has
//! (`‖Aᵀr‖ ≤ u·‖A‖(‖r‖ + ‖A‖‖x‖ + ‖b‖)`) and refined up to twice more while it fails: with one
//! refinement run alone, that residual reached 61× a Householder QR solve's on a sparse
//! `κ = 10¹²` problem for some sketch seeds; with the test, 8× at most.
//!
//! Not every problem needs a preconditioner. By default ([`LstsqParams::probe`]) the solver first
//! runs LSQR without a sketch (on `A`, or on `A` with equilibrated columns when their norms
//! differ by more than 10×) and keeps it while its observed rate predicts convergence in fewer
//! passes over `A` than half the estimated cost of sketching, factoring and iterating; a
//! well-conditioned or merely badly scaled `A` is then solved in its LSQR passes alone (on the
//! peers' 2·10⁵ × 500 well-conditioned problem 3.5× faster than with the sketch), while an
//! ill-conditioned one pays [`PROBE_MIN_ITERATIONS`] passes before the sketched solve, which is
//! bitwise unchanged. An equilibrated answer is kept only when a row sample of `A` (or, if that
//! misses, a CountSketch) certifies full column rank, so a rank-deficient `A` still gets its
//! minimum-norm solution.
//!
//! Rank-deficient `A` (numerical rank `r < d`, detected from the sketch) switches to the LSRN
//! preconditioner `N = V_r Σ_r⁻¹` from the SVD `SA = UΣVᵀ`, which returns the minimum-norm
//! solution. That includes wide `A` (`n < d`) and consistent systems (an answer with
//! `‖r‖ ≤ 100·max(tol, rcond)·‖b‖` passes the rank check, since the normal-equation ratio of
//! a residual made of rounding says nothing). Ridge regression sketches `[√λ I; SA]` and runs LSQR
//! on `[A; √λ I]·R⁻¹`.
//!
//! # Reproducibility
//! All randomness is the sketch, drawn from `params.seed.derive(0x40)`; every product with `A`
//! uses fixed-size chunks with a fixed reduction order, so the answer is bitwise identical for
//! any thread count.

use crate::error::{Error, Result};
use crate::input::{check_finite_slice, MatrixRef};
use faer::Par;

mod baselines;
pub mod kernel_regression;
mod lsqr;
mod ops;
mod precondition;
mod sketch_solve;

pub use baselines::{lsqr, normal_equations, qr_solve, LsqrParams};
pub use ops::{normal_equation_residual, ridge_normal_equation_residual};
pub use precondition::{
    ridge, sketch_and_precondition, sketch_and_precondition_multi,
    sketch_and_precondition_with_callback, Preconditioner,
};
pub use sketch_solve::{
    sketch_and_solve, sketch_and_solve_with, SketchSolveInfo, SketchSolveParams,
};

/// Iterations the probe ([`LstsqParams::probe`]) always makes before it judges
/// its rate of convergence (unless it converges sooner).
pub const PROBE_MIN_ITERATIONS: usize = 3;

/// Stream of [`Seed::derive`](crate::Seed::derive) used for the preconditioner's sketch.
pub const SKETCH_STREAM: u64 = 0x40;

/// Which right preconditioner `N` is built: how the sketched matrix `SA` is factored, or no
/// sketch at all ([`Diagonal`](Factorization::Diagonal)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Factorization {
    /// Householder QR; switch to the SVD when the estimated `κ(R)` exceeds `1/rcond`.
    #[default]
    Auto,
    /// Householder QR `SA = QR`, preconditioner `R⁻¹` (Blendenpik). Requires full column rank.
    Qr,
    /// Thin SVD `SA = UΣVᵀ`, preconditioner `V_r Σ_r⁻¹` over the `r` singular values above
    /// `rcond·σ_max` (LSRN); gives the minimum-norm solution for rank-deficient `A`.
    Svd,
    /// No sketch: `N = D⁻¹`, each column of `[A; √λI]` divided by its norm (column
    /// equilibration, the classical cheap preconditioner; the column norms come with LSQR's
    /// first pass over a sparse `A`, one more pass over a dense one). It fixes badly
    /// scaled columns, not ill-conditioning that survives equilibration (nearly collinear
    /// columns), and for rank-deficient `A` it gives the least-squares solution of minimum
    /// `‖Dx‖`, not of minimum `‖x‖`. Asked for, it is used as it is; the default's probe
    /// ([`LstsqParams::probe`]) uses it on badly scaled columns and keeps its answer only when
    /// `A` is certified to have full column rank (or with a ridge `λ` that alone makes
    /// `[A; √λI]` of full numerical rank, `√λ ≥ rcond·‖[A; √λI]‖_F`).
    Diagonal,
}

option_names!(Factorization, "factorization", [Auto => "auto", Qr => "qr", Svd => "svd", Diagonal => "diagonal"]);

/// Parameters of [`sketch_and_precondition`] and friends.
#[derive(Clone, Debug, PartialEq)]
pub struct LstsqParams {
    /// Rows `m` of the sparse sign sketch; `None` picks `m = c·d` with `c ∈ {4, 6, 8, 12, 16}`
    /// from a cost model of the sketch, the QR of `SA` and the LSQR passes over `A`
    /// (`m ≤ n/2`, never below `4d`; 8d for the bench's sparse and dense problems). Larger `m`
    /// means fewer iterations and a costlier QR: LSQR contracts at worst like `√(d/m)` per step
    /// (the rate `(κ−1)/(κ+1)` at the edges of the Marchenko–Pastur law), and faster in practice;
    /// measured (first LSQR run, medians of 7 seeds, `4000 × 50` Gaussian, coherent `[I; 10⁻³G]`
    /// and Epperly `κ = 10⁸`), 2d takes 1.42–1.49× the iterations of 4d and 8d 0.71–0.79× (48, 33
    /// and 25 on the Gaussian input; `tests/claims_review.rs`). Must be at least `d`.
    pub sketch_rows: Option<usize>,
    /// Nonzeros per column `s` of the sparse sign sketch (default 8). The sketch costs about
    /// `s` scattered updates per stored entry of `A`, so smaller `s` is cheaper: on the bench's
    /// 2·10⁵ × 500 illmix problem `s = 2` with `m = 6d` solved in 252–255 ms against 361–369 ms
    /// for the defaults (28 against 23 iterations). It is also less robust: on a coherent
    /// matrix (`[I; 10⁻³G]`, `20000 × 50`, `m = 8d`) the worst distortion `κ(SQ)` over 20
    /// seeds, drawn for ten disjoint blocks of 20 seeds, was 3.5–11.6 for `s = 2` (three blocks
    /// above 10: heavy-tailed, as two heavy rows may share both their buckets), 2.4–2.8 for
    /// `s = 4` and 2.1–2.4 for `s = 8`; by LSQR's rate `(κ−1)/(κ+1)` a `κ` of 11 takes about 5×
    /// the iterations of 2.3 (an estimate, not a measurement). Keep 8 unless the rows of `A` are
    /// known to be incoherent.
    /// Values above the sketch's row count `m` are capped at `m`.
    pub nnz_per_col: usize,
    /// Seed of the sketch.
    pub seed: crate::Seed,
    /// Tolerance of the stopping rule (default `1e-14`, the level at which the forward error
    /// matches a Householder QR solve; `1e-12` is about 15% faster): the normal-equation residual
    /// estimate `‖(AN)ᵀr‖/(‖AN‖·‖r‖)` or the consistency test `‖r‖ ≤ tol·‖b‖` (see [`IterState`]).
    /// With a ridge `λ` above `‖A‖_F²` the normal-equation test is held to a smaller tolerance, so
    /// that the ridge problem's own backward error is `tol` (see [`ridge`]).
    pub tol: f64,
    /// Maximum LSQR iterations per run (default 500); exceeding it is [`Error::NotConverged`].
    pub max_iters: usize,
    /// Refinement runs after the first LSQR solve (default 1; 0 gives plain
    /// sketch-and-precondition, which is not backward stable). The runs stop early once a
    /// refinement run leaves `x` unchanged (no iteration, or an update lost in rounding), since
    /// the next would repeat it; otherwise every run asked for is made, and on an
    /// ill-conditioned problem each one iterates (10–15 iterations at `κ = 10¹²`: its recomputed
    /// residual carries rounding of size `u·κ(A)` in the preconditioned test), so a large value
    /// costs that many runs (the value is a budget of work, not a cap). With at least one, a
    /// sketched solve (with or without ridge) then checks its answer for backward stability and
    /// makes up to two more runs while it fails (step 5 of [`sketch_and_precondition`]);
    /// `info.runs` counts them.
    pub refinement_steps: usize,
    /// Which factorization of `SA` to use (default [`Factorization::Auto`]).
    pub factorization: Factorization,
    /// With [`Factorization::Auto`] (default `true`): try LSQR without a sketch first, and
    /// sketch only if it would not converge fast. The probe runs LSQR on `A` itself, or, when
    /// the column norms of `[A; √λI]` differ by more than 10× (and none is zero or out of
    /// range, and, unless a ridge `√λ ≥ rcond·‖[A; √λI]‖_F` makes the solution numerically
    /// unique, by less than `1/rcond`, beyond which the certificate below
    /// could never accept), on the column-equilibrated
    /// `A·D⁻¹` ([`Factorization::Diagonal`]): badly scaled columns are the ill-conditioning a
    /// diagonal undoes. It continues while its observed rate of convergence predicts reaching
    /// `tol` in fewer passes over `A` than half of what the sketch, the factorization and the
    /// preconditioned iterations are estimated to cost (the cost model of
    /// [`sketch_rows`](Self::sketch_rows)), judged from its [`PROBE_MIN_ITERATIONS`]th iteration
    /// on. If it converges, that is the answer (no sketch made; `info.factorization` is `None`
    /// on `A`, where LSQR from 0 gives the minimum-norm solution of a rank-deficient `A`, and
    /// `Some(Diagonal)` when equilibrated). An equilibrated answer (without such a ridge) is kept
    /// only if about `2d` sampled rows of `A`, or else a CountSketch of `2d` rows, certify that `A`
    /// has full numerical column rank (`κ(A)` bounded by `1/rcond`), since for rank-deficient `A`
    /// it is the solution of minimum `‖Dx‖`, not `‖x‖`. Otherwise the probe's iterate is discarded
    /// and the sketched solve runs exactly as with `probe = false` (same bits), after
    /// [`Info::probe_iterations`] passes spent: usually `PROBE_MIN_ITERATIONS`, at most the budget
    /// (or the probe's whole run when the certificate refused it). Well-conditioned and merely
    /// badly scaled problems are then solved in their LSQR passes instead of a sketch and a QR. The
    /// multi-right-hand-side solver probes each column and sketches once if any column is left.
    pub probe: bool,
    /// Relative singular-value threshold of the numerical rank (default `1e-13`). In practice the
    /// threshold is also bounded below by faer's unpivoted QR of the sketch, which leaves out a
    /// column whose part orthogonal to the earlier columns is below `16·m·ε` of its norm
    /// (`1.4·10⁻¹¹` at `m = 4000`): such a direction counts as rank-deficient even when its
    /// singular value exceeds `rcond·σ_max` (faer's SVD, which factors by the same QR first, does
    /// the same). The rank is that of `A` as given, as in NumPy's `lstsq` (not of its
    /// equilibrated columns, the convention of R's `lm` that the active-learning pool and the
    /// leverage scores follow): features in very different units (column scales `1e7, 1, 1e-7`,
    /// `κ(A) ≈ 10¹⁴`) count as rank-deficient at the default, and the answer leaves the smallest
    /// column's direction out — the sketched path's truncated minimum-norm answer (`info.rank <
    /// d`, `info.factorization` `Some(Svd)`), and the probe's LSQR on `A`, which does not resolve
    /// it either (NumPy gives the same truncated answer; SciPy's `lstsq`, whose default
    /// threshold is about `ε`, and a dense QR keep the column). Scale such columns to comparable
    /// norms first (powers of two keep the data exact), or lower `rcond`.
    pub rcond: f64,
    /// Ridge parameter `λ ≥ 0` (default 0): minimizes `‖Ax − b‖² + λ‖x‖²`. For `λ` far above
    /// `‖A‖²` keep the probe on (see [`ridge`]'s Accuracy section).
    pub ridge: f64,
    /// Thread budget for the sketch, the factorization and the products with `A`.
    pub par: Par,
}

impl Default for LstsqParams {
    fn default() -> Self {
        LstsqParams {
            sketch_rows: None,
            nnz_per_col: 8,
            seed: crate::Seed::new(0),
            tol: 1e-14,
            max_iters: 500,
            refinement_steps: 1,
            factorization: Factorization::Auto,
            probe: true,
            rcond: 1e-13,
            ridge: 0.0,
            par: Par::Seq,
        }
    }
}

/// What the per-iteration callback sees.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct IterState {
    /// 0 for the first LSQR solve, `1..` for refinement runs.
    pub run: usize,
    /// Whether this iteration belongs to the probe ([`LstsqParams::probe`]);
    /// the sketched solve that follows a probe that gave up counts its runs and iterations
    /// afresh.
    pub probe: bool,
    /// Iterations so far, over all runs (1-based).
    pub iteration: usize,
    /// LSQR's estimate of the residual norm of the current run's problem.
    pub residual_norm: f64,
    /// LSQR's estimate of the normal-equation residual `‖(AN)ᵀr‖/(‖AN‖·‖r‖)` of the
    /// preconditioned operator `AN` (`N = R⁻¹` or `V_rΣ_r⁻¹`).
    pub normal_eq_residual: f64,
}

/// Wall-clock seconds spent in each phase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Timings {
    /// Computing `SA` and `Sb`.
    pub sketch: f64,
    /// Factoring `SA` (QR or SVD, and the condition estimate).
    pub factor: f64,
    /// The LSQR iterations and refinement (including the products with `A`).
    pub iterate: f64,
    /// The probe ([`LstsqParams::probe`]): its column norms, iterations and, when it
    /// equilibrated the columns and converged, the full-rank certificate.
    pub probe: f64,
    /// Everything, including validation.
    pub total: f64,
}

/// Diagnostics of an iterative least-squares solve.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Info {
    /// LSQR iterations over all runs of the solve that produced the answer.
    pub iterations: usize,
    /// Iterations of the probe ([`LstsqParams::probe`]). When the probe solved the problem
    /// (`sketch_rows == 0`) they are `iterations`; when it gave up, or its equilibrated answer
    /// was not certified, they come on top of `iterations`, which count the sketched solve's
    /// runs alone.
    pub probe_iterations: usize,
    /// LSQR runs done (1 + refinement runs).
    pub runs: usize,
    /// Iterations of each run (`run_iterations.len() == runs`).
    pub run_iterations: Vec<usize>,
    /// Per iteration: LSQR's estimate of the current run's residual norm.
    pub residual_history: Vec<f64>,
    /// Per iteration: LSQR's estimate of the normal-equation residual (the stopping test).
    pub normal_eq_history: Vec<f64>,
    /// Estimated `κ(AN)` of the preconditioned operator: `σ_max/σ_min` of the Golub–Kahan
    /// bidiagonal of the first LSQR run (Ritz values, a lower bound that tightens with the
    /// iterations); `NaN` when no iteration was needed. For [`lsqr()`] it estimates `κ(A)`.
    pub kappa_estimate: f64,
    /// Rank of the preconditioner: the numerical rank of `SA` (that of `A`, up to the sketch)
    /// when the SVD preconditioner dropped directions, else `d`. A solve without a sketch (the
    /// probe's answer, [`lsqr()`]) reports `d` whatever `A`'s rank: this is not a rank estimate
    /// there (an `A` with a repeated column that the probe solves reports `d`).
    pub rank: usize,
    /// Preconditioner used (`None` for unpreconditioned LSQR, and when the probe of
    /// [`LstsqParams::probe`] solved the problem on `A`; `Some(Diagonal)` when it solved the
    /// column-equilibrated problem).
    pub factorization: Option<Factorization>,
    /// Rows of the sketch (0 for unpreconditioned LSQR).
    pub sketch_rows: usize,
    /// Whether the stopping rule was met.
    pub converged: bool,
    /// Whether the callback stopped the solve.
    pub stopped_by_callback: bool,
    /// Final value of the stopping test (for a ridge above `‖A‖_F²`, compared with a tolerance
    /// below `tol`: see [`ridge`]).
    pub stopping_value: f64,
    /// The tolerance asked for.
    pub tol: f64,
    /// The true residual norm `‖b − Ax‖` (for ridge: `‖[b − Ax; −√λx]‖`), recomputed at the end.
    /// For a `b` solved as `2⁻ᵉ·b` (entries beyond `2⁹⁶⁰`, or all below `2⁻⁹⁶⁰`) it is that of
    /// the scaled solve, times `2ᵉ`: where scaling `x` back rounds its entries (to subnormals or
    /// 0; `A = [9.6·10²⁸¹]`, `b = [5·10⁻²⁹²]` gives `x = 0`), the residual of the `x` returned
    /// can be larger than this figure (here `‖b‖ = 5·10⁻²⁹²` against a reported `8.9·10⁻³⁰⁸`).
    pub residual_norm: f64,
    /// Time spent in each phase.
    pub timings: Timings,
}

/// `x` when every entry is finite, else an [`Error::NonFinite`] naming `solver` and the first
/// offending entry: the solution overflowed (it is not representable in `f64`, or rounding made
/// it so), which a solver must not return as an answer.
pub(crate) fn finite_solution(x: Vec<f64>, solver: &str) -> Result<Vec<f64>> {
    match x.iter().position(|v| !v.is_finite()) {
        None => Ok(x),
        Some(row) => Err(Error::NonFinite {
            what: format!(
                "the solution x of {solver} (it overflowed: x_{row} = {})",
                x[row]
            ),
            row,
            col: 0,
        }),
    }
}

/// A `b` whose largest entry is at or beyond `2^RHS_EXPONENT_LIMIT` (≈ 1e289) is scaled down
/// first by the solvers ([`RhsScale::needed`]).
const RHS_EXPONENT_LIMIT: i32 = 960;

/// Where [`RhsScale::needed`] puts the largest entry of `b`: `2^RHS_EXPONENT_TARGET` (≈ 1e271),
/// far enough below `f64::MAX` for `‖b‖` and the
/// products with `b` (every solver here handled `b` at `2¹⁰⁰⁰` with a finite norm), no further, so
/// that the small entries of a `b` that mixes sizes keep their bits.
const RHS_EXPONENT_TARGET: i32 = 900;

/// A right-hand side near the top of the `f64` range, solved in range. The solvers are linear in
/// `b`, and each of their steps commutes with a power of two (sums, products, quotients and
/// square roots of sums of squares, and scale-free stopping tests), so they solve for `b·2⁻ᵉ`
/// and scale `x` and the residual norms back by `2ᵉ`: the bits of the unscaled solve scaled,
/// except that entries of `b` below `2^(e−1022)` (below 10⁻²⁷¹ when the top entry is near
/// `f64::MAX`; a shift of at least 2⁶⁰) become subnormal and lose bits. Without it
/// `b = 5·10³⁰⁷ · 1` (200 rows, `‖b‖` beyond `f64::MAX`) ended in `NotConverged` after 0
/// iterations with a NaN test value, and `qr_solve` returned NaN.
pub(crate) struct RhsScale {
    exponent: i32,
}

impl RhsScale {
    /// `Some` when `b` (finite, checked already) has an entry of magnitude `≥ 2^960`: it is
    /// brought to `[1, 2)·2⁹⁰⁰`.
    pub(crate) fn needed(b: &[f64]) -> Option<Self> {
        Self::needed_for(b.iter().copied())
    }

    /// [`RhsScale::needed`] for the entries of `b` given one by one.
    pub(crate) fn needed_for(b: impl Iterator<Item = f64>) -> Option<Self> {
        let top = crate::scalar::max_abs(b);
        crate::scalar::shift_toward_range(top, RHS_EXPONENT_LIMIT - 1, RHS_EXPONENT_TARGET)
            .filter(|&shift| shift > 0)
            .map(|exponent| RhsScale { exponent })
    }

    /// [`needed_for`](Self::needed_for), and also `Some` for a `b` whose largest entry is
    /// below `2⁻⁹⁶⁰` (subnormal entries included): it is brought to `[1, 2)`, which is exact for
    /// every entry, and the solution and residual norms are scaled back, rounding once. For the
    /// sketch-and-precondition solvers, whose answer and rank check are otherwise computed in
    /// the subnormal range: `b = 2⁻¹⁰⁷⁰·g` (entries ≈ 10⁻³²²) on a rank-deficient `A` was refused
    /// as [`Error::Factorization`] ("the sketch is not a subspace embedding of A; use more
    /// sketch rows"), since an iterate of a few significant bits leaves an `Aᵀr` of rounding.
    pub(crate) fn needed_at_either_end_for(b: impl Iterator<Item = f64>) -> Option<Self> {
        let top = crate::scalar::max_abs(b);
        match crate::scalar::out_of_range_exponent(top, RHS_EXPONENT_LIMIT) {
            Some(exponent) if exponent < 0 => Some(RhsScale { exponent }),
            _ => {
                crate::scalar::shift_toward_range(top, RHS_EXPONENT_LIMIT - 1, RHS_EXPONENT_TARGET)
                    .filter(|&shift| shift > 0)
                    .map(|exponent| RhsScale { exponent })
            }
        }
    }

    /// The scale that brings the largest `|bᵢ|` into `[1, 2)` when its exponent `⌊log₂|bᵢ|⌋`
    /// lies outside `[−range, range]`, and the identity otherwise (also for `b = 0`): for
    /// solvers whose products lose precision on subnormal data too (kernel regression).
    pub(crate) fn into_range(b: &[f64], range: i32) -> Self {
        let top = crate::scalar::max_abs(b.iter().copied());
        RhsScale {
            exponent: crate::scalar::out_of_range_exponent(top, range).unwrap_or(0),
        }
    }

    /// `b·2⁻ᵉ`.
    pub(crate) fn down(&self, b: &[f64]) -> Vec<f64> {
        b.iter().map(|&v| self.down_one(v)).collect()
    }

    /// One entry of `b·2⁻ᵉ`.
    pub(crate) fn down_one(&self, v: f64) -> f64 {
        crate::scalar::mul_pow2(v, -self.exponent)
    }

    /// A norm of the scaled problem in the caller's units (`∞` where it does not fit).
    pub(crate) fn up(&self, v: f64) -> f64 {
        crate::scalar::mul_pow2(v, self.exponent)
    }

    /// The callback's view of a scaled solve: the residual norm in the caller's units.
    pub(crate) fn state(&self, s: &IterState) -> IterState {
        IterState {
            residual_norm: self.up(s.residual_norm),
            ..*s
        }
    }

    /// The caller's solution and diagnostics from the scaled solve's; [`Error::NonFinite`] when
    /// `x` itself does not fit in `f64`.
    pub(crate) fn solution(
        &self,
        x: Vec<f64>,
        mut info: Info,
        solver: &str,
    ) -> Result<(Vec<f64>, Info)> {
        self.info(&mut info);
        Ok((self.x(x, solver)?, info))
    }

    /// The caller's `x` from the scaled solve's ([`Error::NonFinite`] when it does not fit).
    pub(crate) fn x(&self, x: Vec<f64>, solver: &str) -> Result<Vec<f64>> {
        finite_solution(x.into_iter().map(|v| self.up(v)).collect(), solver)
    }

    /// The caller's diagnostics from the scaled solve's (the residual norms scale; the
    /// normal-equation residuals, iteration counts and κ estimates do not).
    pub(crate) fn info(&self, info: &mut Info) {
        info.residual_norm = self.up(info.residual_norm);
        info.residual_history
            .iter_mut()
            .for_each(|r| *r = self.up(*r));
    }
}

/// Checks `A` and `b` of a least-squares problem.
pub(crate) fn check_problem(a: &MatrixRef<'_, f64>, b: &[f64]) -> Result<()> {
    a.require_nonempty("A")?;
    if b.len() != a.nrows() {
        return Err(Error::dim("length of b vs rows of A", a.nrows(), b.len()));
    }
    check_finite_slice(b, "b")
}

/// Checks a tolerance / iteration budget / ridge parameter (the fields `tol`, `max_iters` and
/// `ridge` of the caller's parameters).
pub(crate) fn check_common(tol: f64, max_iters: usize, ridge: f64) -> Result<()> {
    check_common_named(tol, max_iters, ridge, ["tol", "max_iters", "ridge"])
}

/// [`check_common`] for fields the caller knows by other names (`lstsq.tol`, ... in
/// `KernelParams`), so that an error names the field that was set.
pub(crate) fn check_common_named(
    tol: f64,
    max_iters: usize,
    ridge: f64,
    names: [&'static str; 3],
) -> Result<()> {
    if !(tol.is_finite() && tol > 0.0 && tol < 1.0) {
        return Err(Error::param(
            names[0],
            format!("must be in (0, 1), got {tol}"),
        ));
    }
    if max_iters == 0 {
        return Err(Error::param(names[1], "must be at least 1"));
    }
    check_lambda(ridge, names[2])
}

/// Checks a ridge parameter `λ` given as the argument or field `name` (`lambda` for the
/// functions that take it as an argument, `ridge` for [`LstsqParams::ridge`]).
pub(crate) fn check_lambda(lambda: f64, name: &'static str) -> Result<()> {
    if !(lambda.is_finite() && lambda >= 0.0) {
        return Err(Error::param(
            name,
            format!("λ must be finite and ≥ 0, got {lambda}"),
        ));
    }
    Ok(())
}

/// The error for a triangle `R` (`d × d`, from the Householder QR of a `rows × d` matrix) with a
/// zero pivot: [`Error::RankDeficient`] with the numerical rank of `R` (the matrix's), the number
/// of singular values above `σ_max·max(rows, d)·ε` (NumPy's `matrix_rank` rule), at most `d − 1`.
/// The count of nonzero pivots is not a rank: without column pivoting one zero column can leave
/// later pivots at zero too. `at_most` caps the count where the caller knows a bound (the rank of
/// a sketch `SA` is at most `n`, the rows of `A`: rounding in the QR of `SA` for a wide `A` could
/// leave one singular value above the threshold). `O(d³)`, on the error path only.
pub(crate) fn rank_deficient(r: faer::MatRef<'_, f64>, rows: usize, at_most: usize) -> Error {
    let d = r.ncols();
    let rank = match crate::dense::singular_values(r) {
        Ok(sv) => {
            let tol = sv.first().copied().unwrap_or(0.0) * rows.max(d) as f64 * f64::EPSILON;
            sv.iter().filter(|&&s| s > tol).count()
        }
        // A triangle whose SVD does not converge: report what the pivots say.
        Err(_) => (0..d).filter(|&i| r[(i, i)] != 0.0).count(),
    };
    Error::RankDeficient {
        rank: rank.min(d.saturating_sub(1)).min(at_most),
        required: d,
    }
}
