//! Attention kernel regression (Song, Yin, Zhang, arXiv 2308.14304) with sketch-based
//! preconditioning.
//!
//! For `A ∈ ℝ^{n×d}`:
//! - **P1** `min_x ‖(AᵀA)ʲ x − b‖`, `b ∈ ℝᵈ` ([`solve_p1`]);
//! - **P2** `min_x ‖A(AᵀA)ʲ x − b‖`, `b ∈ ℝⁿ` ([`solve_p2`]);
//! - **P3** `min_x ‖exp(AAᵀ) x − b‖`, `b, x ∈ ℝⁿ`, `exp` entrywise ([`solve_p3`]).
//!
//! P1 and P2 reuse the sketch-and-precondition factor `SA = QR`: `AᵀA ≈ RᵀR` up to the
//! embedding distortion, so conjugate gradients on `AᵀA` preconditioned by `(RᵀR)⁻¹` converge at
//! a rate set by `κ(AR⁻¹)² ≈ 9` (at `m = 4d`) whatever `κ(A)` is. `(AᵀA)ʲ` is never formed: P1
//! applies `(AᵀA)⁻¹` `j` times by preconditioned CG and then refines on the true residual
//! `b − (AᵀA)ʲx` (applied matrix-free, `2j` products with `A`). P2 first solves the least-squares
//! problem `y = argmin ‖Ay − b‖` by [`sketch_and_precondition`](super::sketch_and_precondition),
//! whose optimum is that of P2 (`range(A(AᵀA)ʲ) = range(A)` for full-rank `A`), then solves
//! `(AᵀA)ʲx = y` as P1 does, refining on `‖A(y − (AᵀA)ʲx)‖` rather than `‖y − (AᵀA)ʲx‖`: since
//! `b − Ay ⊥ range(A)`,
//! `‖A(AᵀA)ʲx − b‖² = ‖b − Ay‖² + ‖A(y − (AᵀA)ʲx)‖²`, so that is the quantity the answer's
//! residual depends on (a test on `‖y − (AᵀA)ʲx‖` alone would let it grow by `‖A‖`).
//! The inner solves have a second route ([`InnerSolve`]): where forming `AᵀA` costs less than
//! the CG passes over `A` it replaces (small `d`, sparse rows) and its Cholesky factor shows
//! `j·κ(A)²·u ≤ 10⁻⁶`, the default applies `(AᵀA)⁻¹` by two triangular solves with that
//! factor, makes no sketch, and finds P2's `y` by the corrected semi-normal equations
//! (Björck 1987) with the same factor instead of LSQR; the refinement on the true residual is
//! the same, so is the guarantee. Its error per step, about `κ(A)²·u`, is what the sketched CG
//! avoids: on ill-conditioned `A` it is CG's route that converges.
//!
//! P3 uses `exp(AAᵀ) = D·G·D` with `D = diag(e^{‖aᵢ‖²/2})` and `G_ij = e^{−‖aᵢ − aⱼ‖²/2}` (a
//! Gaussian kernel matrix): the scaling `D`, which carries most of the ill-conditioning, is removed
//! exactly, and `G w = D⁻¹b` is solved by CG preconditioned with a randomized Nyström
//! approximation of `G` built from a Gaussian sketch `G·Ω` of `ℓ` columns (Frangella, Tropp, Udell,
//! arXiv 2110.02820), or, by default up to `n = 8192`, by the Cholesky factor of `G` with the
//! same refinement ([`InnerSolve`]); `x = D⁻¹w`. CG stops on its recurrence residual, weighted to
//! `‖D(Gw − D⁻¹b)‖ = ‖exp(AAᵀ)x − b‖`; the answer is accepted only when the true residual,
//! recomputed from `w`, meets the tolerance too (otherwise CG is restarted on it).
//! Entries of `G` for near-duplicate rows are computed from `aᵢ − aⱼ` directly: through the Gram
//! matrix, `⟨aᵢ,aⱼ⟩ − ½‖aᵢ‖² − ½‖aⱼ‖²` carries an absolute error of about `u·‖a‖²`, which is the
//! whole of `½‖aᵢ − aⱼ‖²` (and of `G`'s smallest eigenvalue) when the rows nearly coincide.
//!
//! Guarantees, with `tol = KernelParams::tol`: P1 and P3 (invertible operators: full-rank `A`,
//! distinct rows of `A`) return `‖residual‖ ≤ tol·‖b‖`. For P3 that is the residual of the
//! rounded `D·G·D` combined with an estimate of how far it may lie from that of the exact
//! `exp(AAᵀ)`:
//! the entries are off by a relative `u·(‖aᵢ‖² + ‖aⱼ‖²)`, which for rows with `‖aᵢ‖²` near 100
//! is above `tol = 10⁻¹⁰` of `‖b‖` (no `f64` solve does better there: a dense LU of
//! `exp(AAᵀ)` leaves a residual of the same size), so such a solve needs a looser `tol`. P2 returns
//! `‖residual‖² ≤ ‖b − Ay‖² + (tol·‖b‖)²`, i.e. `‖residual‖ ≤ OPT + tol·‖b‖` up to the accuracy
//! of the least-squares stage `y` (whose normal-equation residual meets `lstsq.tol`, or on the
//! Cholesky route stalls at its rounding floor with an equivalent bound: see `p2_by_cholesky`;
//! or stalls with a certified excess `‖A(y − y*)‖ ≤ s·‖b‖`, `s ≤ tol/2`, which the refinement
//! then counts against `tol`, so that `‖A((AᵀA)ʲx − y*)‖ ≤ tol·‖b‖` still).
//! When a guarantee is not met the solvers return [`Error::NotConverged`], never a wrong `Ok`.
//!
//! Attainable `tol` for P1 and P2: the residual they refine on, `b − (AᵀA)ʲx` (P2: its image
//! under `A`), is computed with an error of about `e = u·‖A‖₂^{2j+p}·‖x‖/‖b‖` relative to `‖b‖`
//! (`p = 0` for P1, 1 for P2; each product `AᵀA·v` is rounded at the scale of `‖A‖²·‖v‖`), so
//! a computed residual below `tol` certifies nothing when `e` is not. An answer is accepted
//! only when `√(rel² + e²) ≤ tol` (`rel` the computed relative residual; `‖A‖₂` estimated from
//! the inner route's factor, `L` or the sketch's `R`; an estimate, not a bound, as P3's);
//! otherwise refinement goes on and ends in `NotConverged`, whose `rounding_floor` is `e`.
//! Since `‖x‖` reaches `κ(A)^{2j+p}·‖b‖/‖A‖^{2j+p}`, `e` lies between about
//! `u·κ(A)^{2j}/√d` for a `b` spread over all singular directions and `u·κ(A)^{2j+p}` for a
//! `b` along the smallest (P2: `u_d`, where the floor is `κ(A)` times P1's). Measured on
//! Epperly's `3000 × 30` problems (seeds 0–2, `κ(A) = 10…10⁴`, `j = 1, 2`, before the
//! combined test): the smallest decade of `tol` that returned `Ok` was `10⁻²`–`10⁻¹` of
//! `u·κ(A)^{2j}`; a review found `Ok`s whose exact residual missed `tol` by up to 3× below
//! `0.1·u·κ(A)^{2j}`, which the combined test refuses. So the default `tol = 10⁻¹⁰` is met up
//! to about `κ(A) = 10³` at `j = 1` and `κ(A) ≈ 30` at `j = 2` for a generic `b`, less for P2
//! with `b` near `u_d`. Tests: `p1_and_p2_reach_their_rounding_floor_and_refuse_below_it`,
//! `tests/review49.rs` (exact residuals in double-double arithmetic).
//!
//! Where that normwise `e` refuses, the componentwise `u·‖|A|ᵖ(|A|ᵀ|A|)ʲ|x|‖/‖b‖` (`j + p`
//! more passes over `A`) is tried too, and the floor reported is the smaller: on an `A` whose
//! columns differ in scale the normwise `e` charges every entry of `x` at the largest
//! column's scale and was 240–8000× the actual rounding (`random_sparse` `4000 × 40`, columns
//! scaled over 2–3 decades), refusing answers that met the default `tol`; the componentwise
//! one was within a factor of 10 of it. (A sweep of both Epperly and such column-scaled
//! problems, `κ = 10…10⁴`, `j = 1, 2`, every route, `tol = 10⁻²…10⁻¹⁶`, checked in
//! double-double: no `Ok` missed `tol` above `tol = 10⁻¹⁵`, where a few, as before, missed it
//! by up to 1.13× for P1 — both estimates leave out the products' lengths, which matter only
//! where the error is a few `u` — and by up to 3.8× for P2, within its least-squares stage's
//! `lstsq.tol = 10⁻¹⁴`.) Test: `column_scaled_a_meets_the_default_tol` in `tests/review49.rs`.

use super::lsqr::Callback;
use super::ops::{axpy, norm2, rescale_for, DataOp, LinOp};
use super::precondition::{solve_one, Preconditioner};
use super::RhsScale;
use super::{check_common, check_common_named, Factorization, LstsqParams};
use crate::error::{Error, Result};
use crate::input::{check_finite_slice, zeros_or_too_large, MatrixRef};
use crate::sketch::{Gaussian, SketchOperator};
use faer::{Mat, MatRef, Par};
use std::time::Instant;

/// Parameters of the kernel regression solvers.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelParams {
    /// Sketch and LSQR settings for P1/P2 (`sketch_rows`, `seed`, `par`, and `tol` for the
    /// least-squares stage of P2, which the Cholesky route may also end on a certified bound
    /// within half of [`tol`](Self::tol), see the module docs); the seed also draws P3's
    /// Nyström sketch. `ridge` must be 0: the three problems have no ridge term.
    pub lstsq: LstsqParams,
    /// Relative residual tolerance of the final answer (default `1e-10`): P1/P3 stop when
    /// `‖residual‖ ≤ tol·‖b‖`, P2 when `‖A(y − (AᵀA)ʲx)‖ ≤ tol·‖b‖` (see the module docs,
    /// which also give the smallest `tol` P1/P2 can certify: about `u·‖A‖^{2j}·‖x‖/‖b‖`, up to
    /// `u·κ(A)^{2j}`, P2 `u·κ(A)^{2j+1}`; less, `u·‖(|A|ᵀ|A|)ʲ|x|‖/‖b‖`, when `A`'s columns
    /// differ in scale).
    pub tol: f64,
    /// Maximum CG iterations per inner solve (default 1000; the Cholesky route of
    /// [`InnerSolve`] has none).
    pub max_iters: usize,
    /// Refinement steps allowed after the first solve (default 4): P1/P2 refine on the true
    /// residual, P3 restarts CG on it (or solves again with the Cholesky factor); so at most
    /// `max_refinements + 1` solves or CG runs.
    pub max_refinements: usize,
    /// Nyström rank `ℓ` for P3 (default `min(n, 200)`; values above `n` are capped at `n`,
    /// `Some(0)` is [`Error::InvalidParameter`]).
    pub nystrom_rank: Option<usize>,
    /// How the solvers apply the inverse of their matrix inside the refinement loop (P1/P2:
    /// `AᵀA`; P3: the Gaussian kernel matrix `G`); default [`InnerSolve::Auto`].
    pub inner_solve: InnerSolve,
}

/// How the kernel solvers apply the inverse of their matrix between refinement steps (P1/P2:
/// `AᵀA`; P3: the Gaussian kernel matrix `G` of `exp(AAᵀ) = D·G·D`). Every route refines on
/// the true residual, so all meet the same guarantee; they differ in cost, and in the rounding
/// of the answer (within `tol`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InnerSolve {
    /// [`Cholesky`](Self::Cholesky) where it is expected to be cheaper and accurate enough,
    /// else [`Cg`](Self::Cg); and `Cg` after all when the Cholesky breaks down or its
    /// refinement does not reach `tol` (the rules: [`solve_p1`]'s and [`solve_p3`]'s
    /// `# Performance`).
    #[default]
    Auto,
    /// Preconditioned conjugate gradients. P1/P2: on `AᵀA`, matrix-free, preconditioned by the
    /// sketch's `(RᵀR)⁻¹` (one fused pass over a CSR `A` per iteration, two over a dense one;
    /// a rate independent of `κ(A)`);
    /// P3: on `G`, preconditioned by its randomized Nyström approximation.
    Cg,
    /// Form the matrix (P1/P2: `AᵀA`, `O(Σᵢ nnz(rowᵢ)²)` sparse, `O(n·d²)` dense; P3 forms
    /// `G` on every route) and solve with its Cholesky factor (`O(d²)` or `O(n²)` per solve,
    /// after `O(d³/3)` or `O(n³/3)` to factor). Each refinement step cuts the error by about
    /// `κ·u` (`u = 2⁻⁵³`, `κ` the matrix's condition number: `κ(A)²` for P1/P2), so this
    /// needs `κ` well below `1/u`. Forced, a Cholesky breakdown is [`Error::Factorization`]
    /// and a stalled refinement [`Error::NotConverged`], whose `iterations` are then the
    /// refinement's steps (solves with the factor), as the route makes no CG iterations.
    Cholesky,
}

option_names!(InnerSolve, "inner_solve", [Auto => "auto", Cg => "cg", Cholesky => "cholesky"]);

impl Default for KernelParams {
    fn default() -> Self {
        KernelParams {
            lstsq: LstsqParams::default(),
            tol: 1e-10,
            max_iters: 1000,
            max_refinements: 4,
            nystrom_rank: None,
            inner_solve: InnerSolve::Auto,
        }
    }
}

/// Diagnostics of a kernel regression solve. Unlike the least-squares [`Info`](super::Info) there
/// is no per-iteration callback and no condition estimate: each solve is a few refinement steps
/// of short preconditioned-CG runs (or, on the Cholesky routes, of solves with the factor), whose
/// progress `residual_history` records.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct KernelInfo {
    /// CG iterations over all inner solves.
    pub cg_iterations: usize,
    /// Outer refinement steps (P1/P2), CG runs or, on the Cholesky route, solves with the
    /// factor of `G` (P3).
    pub refinements: usize,
    /// P2 only: LSQR iterations of the least-squares stage, or on the Cholesky route the steps
    /// of its semi-normal equations.
    pub lstsq_iterations: usize,
    /// The final residual norm of the problem solved, recomputed matrix-free (on the `x`
    /// returned when entries of it underflowed; see [`solve_p1`]).
    pub residual_norm: f64,
    /// `residual_norm / ‖b‖`.
    pub relative_residual: f64,
    /// The quantity the solver refines on, relative to `‖b‖` (P1: `‖b − (AᵀA)ʲx‖`; P2:
    /// `‖A(y − (AᵀA)ʲx)‖`; P3: `‖exp(AAᵀ)x − b‖`), at `x = 0` and after each refinement step or
    /// CG run (`refinements + 1` entries), oldest first; empty when nothing was solved (`j = 0`,
    /// or `b = 0`). The last entry is ≤ `tol`.
    pub residual_history: Vec<f64>,
    /// Wall-clock seconds of the whole solve, validation included.
    pub seconds: f64,
    /// Whether the answer came from the [`InnerSolve::Cholesky`] route (inner solves by the
    /// Cholesky factor of the formed matrix); then `cg_iterations` is 0.
    pub cholesky: bool,
}

impl KernelInfo {
    /// The record of an answer found without solving anything (`x = b` for `j = 0`, `x = 0`
    /// for `b = 0`): no iterations, a residual of exactly zero, an empty history.
    fn exact_without_solving(start: Instant) -> Self {
        KernelInfo {
            cg_iterations: 0,
            refinements: 0,
            lstsq_iterations: 0,
            residual_norm: 0.0,
            relative_residual: 0.0,
            residual_history: Vec::new(),
            seconds: start.elapsed().as_secs_f64(),
            cholesky: false,
        }
    }
}

/// What [`pcg`] returns: its last iterate, whether or not it met the target (callers test the
/// true residual).
struct CgRun {
    x: Vec<f64>,
    iterations: usize,
}

/// Preconditioned conjugate gradients on an SPD operator from `x = 0`; stops when
/// `weight(r) ≤ target` where `r` is the recurrence residual, or after `max_iters` iterations
/// (then `x` is the last iterate, which callers refine from).
///
/// # Errors
/// [`Error::Factorization`] on breakdown (`pᵀAp ≤ 0` or non-finite): the operator is not
/// numerically positive definite.
fn pcg(
    apply: &dyn Fn(&[f64], &mut [f64]),
    precond: &dyn Fn(&[f64], &mut [f64]),
    b: &[f64],
    weight: &dyn Fn(&[f64]) -> f64,
    target: f64,
    max_iters: usize,
) -> Result<CgRun> {
    let n = b.len();
    let mut x = vec![0.0; n];
    let mut r = b.to_vec();
    if weight(&r) <= target {
        return Ok(CgRun { x, iterations: 0 });
    }
    let mut z = vec![0.0; n];
    precond(&r, &mut z);
    let mut p = z.clone();
    let mut rz: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
    let mut ap = vec![0.0; n];
    for k in 0..max_iters {
        apply(&p, &mut ap);
        let pap: f64 = p.iter().zip(&ap).map(|(a, b)| a * b).sum();
        if pap.is_nan() || pap <= 0.0 || !rz.is_finite() {
            return Err(Error::Factorization {
                reason: format!(
                    "CG breakdown at iteration {k}: the operator is not numerically positive definite"
                ),
            });
        }
        let alpha = rz / pap;
        axpy(alpha, &p, &mut x);
        axpy(-alpha, &ap, &mut r);
        let w = weight(&r);
        if w <= target {
            return Ok(CgRun {
                x,
                iterations: k + 1,
            });
        }
        precond(&r, &mut z);
        let rz_new: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
        let beta = rz_new / rz;
        rz = rz_new;
        for (pi, zi) in p.iter_mut().zip(&z) {
            *pi = zi + beta * *pi;
        }
    }
    Ok(CgRun {
        x,
        iterations: max_iters,
    })
}

/// `(AᵀA)ʲ·x`, matrix-free.
fn gram_power(op: &DataOp<'_>, j: usize, x: &[f64]) -> Vec<f64> {
    let mut v = x.to_vec();
    let mut w = vec![0.0; v.len()];
    let mut t = vec![0.0; op.nrows()];
    for _ in 0..j {
        op.gram_apply(&v, &mut t, &mut w);
        std::mem::swap(&mut v, &mut w);
    }
    v
}

impl Refined {
    /// What an error about this answer reports as `iterations`: the CG iterations, or on the
    /// Cholesky route, which has none, the steps taken.
    fn performed(&self, cholesky: bool) -> usize {
        if cholesky {
            self.steps
        } else {
            self.cg_iterations
        }
    }
}

/// What [`p1_core`] returns.
struct Refined {
    x: Vec<f64>,
    cg_iterations: usize,
    steps: usize,
    /// `measure(res)/scale` at `x = 0` and after each step.
    history: Vec<f64>,
    /// The final `measure(res)`.
    measure: f64,
    /// `(AᵀA)ʲx` of the returned `x` when the final test computed it (not at `x = 0`), so that
    /// P2 can form its residual `b − A(AᵀA)ʲx` with one pass over `A` instead of `j + 1`.
    gram_power_x: Option<Vec<f64>>,
    /// [`Target::spent`]: the part of `tol` the answer's check gave to an earlier stage, so
    /// that a later check of the same answer (P2's, after `x` is scaled back) holds the
    /// residual to the same `tol − spent`.
    spent: f64,
}

/// How [`p1_core`] applies `(AᵀA)⁻¹` ([`InnerSolve`]).
enum Inner<'p> {
    /// Preconditioned CG with the sketch's factor.
    Cg(&'p Preconditioner),
    /// The Cholesky factor `L` of the formed `AᵀA` (zero above the diagonal,
    /// [`crate::dense::cholesky_factor`]).
    Cholesky(Mat<f64>),
}

/// What [`p1_core`]'s refinement measures and must bring below `tol`: the ratio
/// `measure(res)/scale` of the true residual `res = b − (AᵀA)ʲx` (P1: `‖res‖/‖b‖`; P2:
/// `‖A·res‖/‖b_P2‖`), plus `spent`.
struct Target<'m> {
    measure: &'m dyn Fn(&[f64]) -> f64,
    /// The power of `A` that `measure` applies on top of the residual (P1: 0; P2: 1), for the
    /// residual's rounding estimate ([`residual_resolution`]).
    power: usize,
    scale: f64,
    /// A part of `tol` already used by an earlier stage (P2's Cholesky route: the
    /// least-squares stage's certified excess relative to `scale`, when that stage was accepted
    /// on it, [`p2_by_cholesky`]; else 0).
    spent: f64,
    /// Whether a [`Error::NotConverged`] reports a `rounding_floor`: not when the caller
    /// discards the error (`Auto`'s Cholesky attempt before its CG fallback), since the
    /// componentwise estimate costs `j + p` passes over `A`.
    report_floor: bool,
}

/// Solves `(AᵀA)ʲ x = b` by `j` inner solves per outer step ([`Inner`]) plus refinement on
/// the true residual `res = b − (AᵀA)ʲx`, until `measure(res)/scale + spent ≤ tol`
/// ([`Target`]), the ratio being what the history records.
///
/// # Errors
/// [`Error::NotConverged`] when refinement stops reducing `measure(res)` above the target or
/// runs out of steps (`max_refinements` after the first); [`Error::Factorization`] on CG
/// breakdown.
fn p1_core(
    op: &DataOp<'_>,
    inner: &Inner<'_>,
    j: usize,
    b: &[f64],
    target: &Target<'_>,
    params: &KernelParams,
) -> Result<Refined> {
    let d = b.len();
    let mut x = vec![0.0; d];
    if j == 0 || norm2(b) == 0.0 {
        return Ok(Refined {
            x: b.to_vec(),
            cg_iterations: 0,
            steps: 0,
            history: Vec::new(),
            measure: 0.0,
            gram_power_x: None,
            spent: target.spent,
        });
    }
    // A ratio, not `measure ≤ tol·scale`: that product underflows for a tiny `b`.
    let scale = target.scale.max(f64::MIN_POSITIVE);
    let measure = target.measure;
    let gram = |v: &[f64], out: &mut [f64]| {
        let mut tt = vec![0.0; op.nrows()];
        op.gram_apply(v, &mut tt, out);
    };
    let precond = |r: &[f64], out: &mut [f64]| {
        if let Inner::Cg(pre) = inner {
            let mut s = vec![0.0; r.len()];
            pre.apply_t(r, &mut s);
            pre.apply(&s, out);
        }
    };
    let (mut cg, mut steps) = (0usize, 0usize);
    let mut last = f64::INFINITY;
    let mut history = Vec::new();
    // ‖A‖₂ from the inner route's factor, estimated once, when first needed.
    let mut a_norm: Option<Option<f64>> = None;
    loop {
        // At the start x = 0, so the residual is b: (AᵀA)ʲ·0 is ±0 in every entry (A is
        // finite), and b − (±0) = b bit for bit, so the 2j passes over A are skipped.
        let (res, mx): (Vec<f64>, Option<Vec<f64>>) = if steps == 0 {
            (b.to_vec(), None)
        } else {
            let mx = gram_power(op, j, &x);
            (
                b.iter().zip(&mx).map(|(bi, mi)| bi - mi).collect(),
                Some(mx),
            )
        };
        let rn = measure(&res);
        let rel = rn / scale;
        history.push(rel);
        let resolution = |a_norm: &mut Option<Option<f64>>| {
            let norm = *a_norm.get_or_insert_with(|| factor_norm(inner));
            residual_resolution(norm, j, target.power, norm2(&x), scale)
        };
        let componentwise = || componentwise_resolution(op, j, target.power, &x, scale);
        // Accepted when the residual, combined with the estimated error of computing it, meets
        // what is left of `tol`: below that error a computed `rel ≤ tol` certifies nothing
        // (x = 0 has none). The normwise estimate costs O(d²) once; the componentwise one,
        // sharper when A's columns differ in scale, `j + p` passes over A, so it is asked only
        // when the normwise one refuses.
        let left = params.tol - target.spent;
        let meets = |e: f64| rel.hypot(e) <= left;
        if rel <= left
            && (steps == 0 || meets(resolution(&mut a_norm)) || componentwise().is_some_and(meets))
        {
            return Ok(Refined {
                x,
                cg_iterations: cg,
                steps,
                history,
                measure: rn,
                gram_power_x: mx,
                spent: target.spent,
            });
        }
        if steps > params.max_refinements || rn >= last {
            // Refinement stopped helping (rounding floor of the matrix-free product, about
            // u·‖(AᵀA)ʲ‖·‖x‖) or ran out of steps.
            return Err(Error::NotConverged {
                // CG iterations on the CG route; on the Cholesky route, which has none, the
                // steps taken (each `j` solves with the factor), as `Refined::performed`.
                iterations: match inner {
                    Inner::Cg(_) => cg,
                    Inner::Cholesky(_) => steps,
                },
                residual: rel,
                tolerance: params.tol,
                history,
                rounding_floor: target
                    .report_floor
                    .then(|| {
                        [Some(resolution(&mut a_norm)), componentwise()]
                            .into_iter()
                            .flatten()
                            .filter(|e| *e > 0.0 && e.is_finite())
                            .reduce(f64::min)
                    })
                    .flatten(),
            });
        }
        last = rn;
        // δ = (AᵀA)^{-j} res, inner solves to a tolerance that leaves room for the κ-growth of
        // the j-fold product; refinement mops up the rest.
        let mut delta = res;
        for _ in 0..j {
            // CG runs on `delta·2^k` with `2^k ≈ 1/‖delta‖` and the answer is scaled back:
            // scaling by a power of two is exact and every CG quantity scales with it (α and β
            // not at all), so this is the unscaled run bit for bit, except that a tiny
            // right-hand side no longer underflows `pᵀAp` to 0.
            let dn = norm2(&delta);
            let k = if dn > 0.0 && dn.is_finite() {
                -(dn.log2().round() as i32)
            } else {
                0
            };
            // |k| ≤ 1000 keeps 2^k finite (a step of subnormal size is scaled part of the way).
            let k = k.clamp(-1000, 1000);
            let (up, down) = (2f64.powi(k), 2f64.powi(-k));
            delta.iter_mut().for_each(|v| *v *= up);
            if let Inner::Cholesky(l) = inner {
                crate::dense::cholesky_solve_in_place(l.as_ref(), &mut delta);
                delta.iter_mut().for_each(|v| *v *= down);
                continue;
            }
            // An unconverged inner run (the recurrence residual can stall at rounding level, or
            // `max_iters` is small) still hands on its last iterate: the outer test on the true
            // residual decides whether the step was good enough.
            let run = pcg(
                &gram,
                &precond,
                &delta,
                &|r: &[f64]| norm2(r),
                1e-3 * params.tol.max(1e-13) * dn * up,
                params.max_iters,
            )?;
            cg += run.iterations;
            delta = run.x;
            delta.iter_mut().for_each(|v| *v *= down);
        }
        axpy(1.0, &delta, &mut x);
        steps += 1;
    }
}

/// An estimate of `‖A‖₂` from the inner route's factor: `‖L‖₂` for the Cholesky factor of
/// `AᵀA` (equal up to rounding), `‖R‖₂ = ‖SA‖₂` for the sketch's (within its distortion).
/// `None` where there is none (a diagonal preconditioner) or it is not finite.
fn factor_norm(inner: &Inner<'_>) -> Option<f64> {
    match inner {
        Inner::Cholesky(l) => {
            // `L`'s strict upper triangle is zero ([`crate::dense::cholesky_factor`]).
            let est = super::precondition::triangular_norm_estimate(l.as_ref());
            est.is_finite().then_some(est)
        }
        Inner::Cg(pre) => pre.norm_estimate(),
    }
}

/// An estimate of the error with which [`p1_core`] computes its relative residual at `x`:
/// `u·‖A‖₂^{2j+p}·‖x‖/scale`, `p` the power of `A` the measure applies on top of the residual
/// (P1: 0; P2: 1, `‖A·res‖`). Each of the `j` products `AᵀA·v` is rounded at the scale of
/// `‖A‖₂²·‖v‖`, and the error of the first, on `x` itself, is carried through the later ones
/// (the residual's own terms, `b` and `(AᵀA)ʲx`, can be far smaller than `‖A‖^{2j}·‖x‖` when
/// `x` lies along `A`'s small singular directions, which is where its error dominates). It is
/// an estimate, not a bound (a sum of `k` rounded terms errs by about `√k·u` of their
/// magnitudes, which `‖A‖₂` already weighs). 0 when `‖A‖₂` is unknown (the check then rests on
/// the computed residual alone, as before this estimate); computed in logarithms, so that
/// `‖A‖^{2j}` at `j` up to 64 does not overflow on its own.
fn residual_resolution(a_norm: Option<f64>, j: usize, p: usize, xn: f64, scale: f64) -> f64 {
    let Some(a_norm) = a_norm.filter(|v| *v > 0.0) else {
        return 0.0;
    };
    if xn == 0.0 {
        return 0.0;
    }
    let power = (2 * j + p) as f64;
    let u = f64::EPSILON / 2.0;
    (u.ln() + power * a_norm.ln() + xn.ln() - scale.ln()).exp()
}

/// The componentwise counterpart of [`residual_resolution`]:
/// `u·‖|A|ᵖ(|A|ᵀ|A|)ʲ|x|‖/scale` ([`DataOp::abs_power_norm`]). Each product `A·v` errs entry
/// by entry by a small multiple of `u·|A|·|v|`, and those errors are carried through the later
/// products, so this follows the rounding where `A`'s columns differ in scale, where the
/// normwise estimate `u·‖A‖^{2j+p}·‖x‖` charges every entry of `x` at `A`'s largest scale. As
/// that one, an estimate, not a bound: the first-order bound has a factor of about `2j + p`
/// times the products' lengths, which the rounding errors' cancellation does not reach (a
/// factor of `2j + p` refused answers whose error was a tenth of `tol`). On `random_sparse`
/// `4000 × 40` with column `k` scaled by `10^{−3k/39}` or `10^{−2k/39}` (`j = 1, 2`, `b`
/// Gaussian or along either end of the spectrum), the error of `(AᵀA)ʲx` computed by plain
/// row-order `f64` products (against double-double) was 0.13–10 of `u·‖(|A|ᵀ|A|)ʲ|x|‖` and
/// `2·10⁻⁴`–10 of the normwise estimate (the high ends for `x` along `A`'s largest singular
/// vector, where both are about `u` and the products' lengths show); on Epperly's dense
/// `2000 × 10` both estimates were 50–450× the error. `None` when it does not fit in `f64`.
fn componentwise_resolution(
    op: &DataOp<'_>,
    j: usize,
    p: usize,
    x: &[f64],
    scale: f64,
) -> Option<f64> {
    let u = f64::EPSILON / 2.0;
    let v = op.abs_power_norm(x, j, p)?;
    let e = u * v / scale;
    e.is_finite().then_some(e)
}

/// P1: [`p1_core`] on the route `params.inner_solve` asks for ([`InnerSolve`]), and whether
/// the answer came from the Cholesky route. The sketched preconditioner is made when needed:
/// for the CG route, and for the rank check of a forced Cholesky route (`Auto` takes the
/// Cholesky route without a sketch only when [`auto_cholesky_factor`] has found `A` far from
/// rank deficient). `Auto` falls back to CG when the Cholesky route's refinement fails.
fn refine(
    a: MatrixRef<'_, f64>,
    op: &DataOp<'_>,
    j: usize,
    b: &[f64],
    measure: &dyn Fn(&[f64]) -> f64,
    scale: f64,
    params: &KernelParams,
) -> Result<(Refined, bool)> {
    let target = Target {
        measure,
        power: 0,
        scale,
        spent: 0.0,
        report_floor: true,
    };
    let mut pre = None;
    let factor = match params.inner_solve {
        InnerSolve::Cg => None,
        InnerSolve::Cholesky => {
            pre = Some(full_rank_preconditioner(a, &params.lstsq)?);
            Some(gram_factor(op)?)
        }
        InnerSolve::Auto => auto_cholesky_factor(op, j),
    };
    if let Some(l) = factor {
        let first = Target {
            report_floor: params.inner_solve == InnerSolve::Cholesky,
            ..target
        };
        match p1_core(op, &Inner::Cholesky(l), j, b, &first, params) {
            Ok(r) => return Ok((r, true)),
            Err(e) if params.inner_solve == InnerSolve::Cholesky => return Err(e),
            Err(_) => {}
        }
    }
    let pre = match pre {
        Some(p) => p,
        None => full_rank_preconditioner(a, &params.lstsq)?,
    };
    Ok((p1_core(op, &Inner::Cg(&pre), j, b, &target, params)?, false))
}

/// Most steps of the semi-normal equations in [`p2_by_cholesky`]: each cuts the error by about
/// `κ(A)²·u ≤ 10⁻⁶` on Auto's route, so three or four reach any `tol` above `u`.
const SEMI_NORMAL_MAX_STEPS: usize = 8;

/// P2's Cholesky route: `y = argmin ‖Ay − b‖` by the corrected semi-normal equations with the
/// factor `L` of the formed `AᵀA` (`y ← y + L⁻ᵀL⁻¹Aᵀ(b − Ay)` from `y = 0`, one fused pass over
/// `A` per step), until `‖L⁻¹Aᵀr‖ ≤ lstsq.tol·‖r‖` — the normal-equation residual
/// `‖Mᵀr‖/(‖M‖·‖r‖)` of `M = AL⁻ᵀ`, whose norm is 1 (`MᵀM = I` up to rounding), the test LSQR
/// applies to the sketched `AR⁻¹` — or `‖r‖ ≤ lstsq.tol·‖b‖` (consistent to the tolerance, LSQR's
/// other test); then P1's refinement on `y` with the same factor. Returns
/// `y`, the steps taken, and the refinement.
///
/// The test value is recomputed, not estimated by a recurrence as LSQR's is, so it cannot fall
/// below its own rounding, about `u·κ(A)·(‖b‖ + ‖A‖‖y‖)/‖r‖` (`Aᵀr` is formed with an error
/// of `u·‖A‖·(‖b‖ + ‖A‖‖y‖)`, which `L⁻¹` amplifies by up to `1/σ_min(A)`): at the default
/// `lstsq.tol = 10⁻¹⁴` that floor was above the tolerance from `κ(A) ≈ 10⁴` on, inside Auto's
/// range, and the route ended `NotConverged` (stalled at `2·10⁻¹⁴`) on well-posed problems.
/// So once the test value `τ` stops falling it also passes at that floor ([`semi_normal_floor`])
/// when `τ ≤ √lstsq.tol` or `τ·‖r‖ ≤ lstsq.tol·‖b‖`: `τ` bounds the least-squares error,
/// `‖A(y − y*)‖ ≤ τ‖r‖` and `‖r‖² = OPT² + ‖A(y − y*)‖² ≤ OPT² + τ²‖r‖²` (exactly for
/// `LLᵀ = AᵀA`, and to a factor `1 + d·κ(L)²·u` for the computed `L`), so `‖r‖` is then within
/// a relative `lstsq.tol/2` of `OPT`, or `A(y − y*)` within `lstsq.tol·‖b‖`, the bound the
/// consistency test gives. (A nearly consistent system, `‖r‖ = 10⁻¹³·‖b‖`, `κ(A) = 10`,
/// stalled at `τ ≈ 10⁻⁴`: its `r` is computed with an error of `u·‖b‖`.) Failing that, a stalled
/// stage is accepted when its certified excess ([`stage_excess`]) is at most half of P2's own
/// `tol`: P2 needs `‖A((AᵀA)ʲx − y*)‖ ≤ tol·‖b‖`, which is at most the refinement's
/// `‖A((AᵀA)ʲx − y)‖` plus that excess, so the refinement is held to `tol` minus it. (A
/// consistent `b = u_d` at `κ(A) = 10³` stalled with `‖r‖ ≈ 10⁻¹³·‖b‖` — `r` is computed with an
/// error of `u·‖A‖‖y‖ = u·κ(A)‖b‖` — and `τ` between 0.15 and 1: the consistency test at
/// `lstsq.tol = 10⁻¹⁴` cannot pass there, and the forced route ended `NotConverged` even at
/// `tol = 10⁻²`, where CG's route, whose LSQR stops on recurrence estimates, returned `Ok`.)
///
/// A step counts as progress when the test value falls or `‖r‖` at least halves: on a
/// (nearly) consistent system `r` lies in `range(A)`, where the test value stays near 1 while
/// each step cuts `‖r‖` by about `κ(A)²·u` until the consistency test passes.
///
/// # Errors
/// [`Error::NotConverged`] when a step makes no progress or the steps run out, and the answer
/// is not accepted at the floor; as [`p1_core`].
///
/// # References
/// Å. Björck, "Stability analysis of the method of seminormal equations for linear least
/// squares problems", Linear Algebra Appl. 88/89 (1987).
fn p2_by_cholesky(
    op: &DataOp<'_>,
    l: Mat<f64>,
    j: usize,
    b: &[f64],
    through_a: &dyn Fn(&[f64]) -> f64,
    bn: f64,
    params: &KernelParams,
) -> Result<(Vec<f64>, usize, Refined)> {
    use faer::linalg::triangular_solve as tri;
    let d = op.ncols();
    let mut y = vec![0.0; d];
    let mut u = vec![0.0; op.nrows()];
    let mut h = vec![0.0; d];
    let mut history = Vec::new();
    let (mut last, mut last_rn) = (f64::INFINITY, f64::INFINITY);
    let mut steps = 0usize;
    let mut spent = 0.0;
    let (kappa, l_norm) = factor_condition(l.as_ref());
    loop {
        // u ← A·y − b = −r, h = Aᵀu = −Aᵀr, then h ← L⁻¹h.
        u.copy_from_slice(b);
        op.apply_fused(&y, 1.0, &mut u, &mut h);
        let col = faer::MatMut::from_column_major_slice_mut(&mut h, d, 1);
        tri::solve_lower_triangular_in_place(l.as_ref(), col, Par::Seq);
        let rn = norm2(&u);
        let test = norm2(&h) / rn.max(f64::MIN_POSITIVE);
        history.push(test);
        // LSQR's two tests: the normal-equation residual, or a system consistent to `tol`.
        if test <= params.lstsq.tol || rn <= params.lstsq.tol * bn {
            break;
        }
        // Progress (see the doc): the test value falls, or ‖r‖ at least halves (Epperly's
        // 2000 × 30, κ = 10⁶, b = A·x₀: test values 1.0, 1.0000037; the forced route erred
        // before ‖r‖ counted).
        let progress = test < last || rn <= 0.5 * last_rn;
        if steps >= SEMI_NORMAL_MAX_STEPS || test.is_nan() || !progress {
            // Stalled: accepted at the test's own rounding floor when `‖A(y − y*)‖ ≤ test·‖r‖`
            // is within a relative `tol/2` of OPT (`test ≤ √tol`) or within `tol·‖b‖` (as the
            // consistency test, `‖r‖ ≤ tol·‖b‖`, accepts).
            let yn = norm2(&y);
            let floor = semi_normal_floor(d, kappa, l_norm, yn, bn, rn);
            let tol = params.lstsq.tol;
            if test <= floor && (test <= tol.sqrt() || test * rn <= tol * bn) {
                break;
            }
            // Or when the stage's certified excess leaves at least half of P2's own `tol` to
            // the refinement, which then has to meet the rest.
            let excess = stage_excess(d, test, floor, rn, l_norm, yn, bn);
            if excess <= 0.5 * params.tol {
                spent = excess;
                break;
            }
            return Err(Error::NotConverged {
                iterations: steps,
                residual: test,
                tolerance: params.lstsq.tol,
                history,
                // Zero when the floor's own argument does not hold (see `semi_normal_floor`);
                // at 1 or above it says only that the test value cannot be certified at all.
                rounding_floor: (floor > 0.0 && floor < 1.0).then_some(floor),
            });
        }
        (last, last_rn) = (test, rn);
        // δ = L⁻ᵀ·(−h) = (AᵀA)⁻¹Aᵀr.
        h.iter_mut().for_each(|v| *v = -*v);
        let col = faer::MatMut::from_column_major_slice_mut(&mut h, d, 1);
        tri::solve_upper_triangular_in_place(l.as_ref().transpose(), col, Par::Seq);
        axpy(1.0, &h, &mut y);
        steps += 1;
    }
    let r = p1_core(
        op,
        &Inner::Cholesky(l),
        j,
        &y,
        &Target {
            measure: through_a,
            power: 1,
            scale: bn,
            spent,
            // `Auto` discards this route's errors for its CG fallback.
            report_floor: params.inner_solve == InnerSolve::Cholesky,
        },
        params,
    )?;
    Ok((y, steps, r))
}

/// The rounding floor of [`p2_by_cholesky`]'s test value `‖L⁻¹Aᵀr‖/‖r‖` at `y`:
/// `√d·u·κ(L)·(‖b‖ + ‖L‖_F·‖y‖)/‖r‖` (`‖L‖_F ≥ ‖A‖`). Zero (no allowance) when `d·κ(L)²·u > 1`,
/// where `AL⁻ᵀ` may be far from orthonormal and the test value no longer bounds the excess
/// residual; infinite or NaN parts are capped by the caller's `min`, or make it zero.
fn semi_normal_floor(d: usize, kappa: f64, l_norm: f64, yn: f64, bn: f64, rn: f64) -> f64 {
    let u = f64::EPSILON / 2.0;
    let df = d as f64;
    let trusted = df * kappa * kappa * u <= 1.0;
    if !trusted {
        return 0.0;
    }
    // Finite for ordinary input: the callers keep b within 2^±257 and A near unit scale, so
    // ‖b‖ and ‖L‖_F·‖y‖ are far from overflow (an infinite floor is capped by the caller).
    let floor = df.sqrt() * u * kappa * (bn + l_norm * yn) / rn.max(f64::MIN_POSITIVE);
    if floor.is_nan() {
        0.0
    } else {
        floor
    }
}

/// A bound on the least-squares stage's excess `‖A(y − y*)‖/‖b‖` (`y*` the exact
/// least-squares solution) from what [`p2_by_cholesky`] computed at `y`: the smaller of
/// - `‖r‖` itself, since `‖r‖² = OPT² + ‖A(y − y*)‖²` for any `y`, plus the error of computing
///   `r = b − Ay`, at most `(d + 1)·u·(‖b‖ + ‖A‖_F·‖y‖)` (`‖L‖_F = ‖A‖_F`);
/// - `(τ + floor)·‖r‖`, the test value `τ` plus its rounding floor ([`semi_normal_floor`]),
///   when that floor is given (`floor > 0`, `AL⁻ᵀ` close to orthonormal).
///
/// The first is what certifies a (nearly) consistent system, where `r` is rounding noise and
/// `τ` says nothing; the second an inconsistent one. Infinite (no bound) when neither is
/// finite.
fn stage_excess(d: usize, test: f64, floor: f64, rn: f64, l_norm: f64, yn: f64, bn: f64) -> f64 {
    let u = f64::EPSILON / 2.0;
    let bn = bn.max(f64::MIN_POSITIVE);
    let consistent = (rn + (d as f64 + 1.0) * u * (bn + l_norm * yn)) / bn;
    let by_test = if floor > 0.0 {
        (test + floor) * rn / bn
    } else {
        f64::INFINITY
    };
    let e = consistent.min(by_test);
    if e.is_nan() {
        f64::INFINITY
    } else {
        e
    }
}

/// `(κ(L), ‖L‖_F)` for the lower-triangular Cholesky factor `L` (κ estimated,
/// [`triangular_condition_estimate`](super::precondition::triangular_condition_estimate)).
fn factor_condition(l: MatRef<'_, f64>) -> (f64, f64) {
    // The estimator takes an upper-triangular matrix: `Lᵀ`, whose strict lower triangle is
    // zero ([`crate::dense::cholesky_factor`]).
    let kappa = super::precondition::triangular_condition_estimate(l.transpose());
    (kappa, l.norm_l2())
}

/// The Cholesky factor of the formed `AᵀA`.
///
/// # Errors
/// [`Error::TooLarge`] when the `d × d` buffers cannot be allocated; [`Error::Factorization`]
/// when the Cholesky breaks down.
fn gram_factor(op: &DataOp<'_>) -> Result<Mat<f64>> {
    crate::dense::cholesky_factor(op.gram()?).map_err(|e| Error::Factorization {
        reason: format!(
            "Cholesky of the formed AᵀA failed ({e:?}): not numerically positive definite \
             (κ(A)² near 1/u or beyond); InnerSolve::Cg does not form it"
        ),
    })
}

/// The largest `d` for which [`InnerSolve::Auto`] considers the Cholesky route of P1/P2 (a
/// `d × d` matrix of 128 MB and a Cholesky of `d³/3` flops at the limit).
const AUTO_GRAM_MAX_D: usize = 4096;

/// CG iterations per inner solve the cost rule of [`auto_cholesky_factor`] assumes for the CG
/// route, at one outer step: a low count (on the bench problems the CG route takes 22 per
/// inner solve at `j = 2`, 44 in all; 22–43 at `j = 1` on the problems below), so the
/// Cholesky route is chosen only where it clearly pays.
const AUTO_CG_ITERATIONS: f64 = 25.0;

/// The cost of a multiply-add in a dense blocked kernel (faer's GEMM for a dense `AᵀA`, its
/// Cholesky, the Householder QR of the CG route's sketch) in the unit of
/// [`auto_cholesky_factor`]'s cost rule, a multiply-add in a pass over a sparse or dense `A`
/// (or in the sparse `AᵀA`, which runs at about that rate). Measured on 2 threads
/// (2026-12-05): passes ≈ 0.5 ns per multiply-add; the sparse `AᵀA` 0.3–0.8 ns; a dense
/// `AᵀA` (`50 000 × 1600`) 0.04 ns per multiply-add of its triangle; the QR of a `8000 × 2000`
/// sketch ≈ 0.05 ns.
const AUTO_BLAS3_WEIGHT: f64 = 0.1;

/// Largest `j·κ(A)²·u` for which [`InnerSolve::Auto`] takes P1/P2's Cholesky route: each
/// refinement step then cuts the error by a factor of about `10⁻⁶·c` (`c` a modest constant
/// for the Cholesky's and the products' rounding), so the default `tol` takes one to three
/// steps; and `κ(A) ≤ 9.5·10⁴/√j` is far from rank deficiency, so the sketch's rank check is
/// not needed.
const AUTO_GRAM_CONTRACTION: f64 = 1e-6;

/// The Cholesky factor `L` of the formed `AᵀA` when [`InnerSolve::Auto`] takes P1/P2's Cholesky
/// route, else `None`: `d ≤` [`AUTO_GRAM_MAX_D`]; the Cholesky route is expected to be the
/// cheaper ([`auto_prefers_cholesky`]); `AᵀA` can be formed and factored; and `κ(L) = κ(A)`
/// (estimated,
/// [`triangular_condition_estimate`](super::precondition::triangular_condition_estimate)) has
/// `j·κ(A)²·u ≤` [`AUTO_GRAM_CONTRACTION`].
fn auto_cholesky_factor(op: &DataOp<'_>, j: usize) -> Option<Mat<f64>> {
    if op.ncols() > AUTO_GRAM_MAX_D || !auto_prefers_cholesky(op, j) {
        return None;
    }
    let l = gram_factor(op).ok()?;
    let (kappa, _) = factor_condition(l.as_ref());
    (j as f64 * kappa * kappa * f64::EPSILON / 2.0 <= AUTO_GRAM_CONTRACTION).then_some(l)
}

/// [`InnerSolve::Auto`]'s cost rule for P1/P2 (`j` inner solves a refinement step): the
/// Cholesky route, forming `AᵀA` (`W` multiply-adds, [`DataOp::gram_work`]: `Σᵢ nnz(rowᵢ)²/2`
/// sparse, weighted 1; `n·d²/2` dense, weighted `w =` [`AUTO_BLAS3_WEIGHT`]) and factoring it
/// (`w·d³/6`), costs at most the CG route's [`AUTO_CG_ITERATIONS`] CG iterations of a pass
/// (`2·nnz(A)`) per inner solve plus the QR of its sketch of at least `4d` rows (`w·4d³`):
/// `W·(1 or w) + w·d³/6 ≤ 50·j·nnz(A) + 4w·d³`.
///
/// Measured on 2 threads (`P1`, `j = 1`, tol 10⁻¹⁰, 2026-12-05): dense `50 000 × d` (κ(A) ≈ 10)
/// took 0.036 / 0.056 / 0.17 / 0.70 / 2.73 s by the Cholesky route at `d` = 100 / 200 / 400 /
/// 800 / 1600 against 0.11 / 0.21 / 0.41 / 1.14 / 3.31 s by CG. The rule takes Cholesky up to
/// `d ≈ 1000·j`, so CG at `d = 1600`, 1.2× slower there; the rule before it, which weighed
/// every multiply-add alike and left out the QR, took CG from `d = 200`. Sparse with 100
/// nonzeros a row, `200 000 × 1000`: 0.49 against 1.25 s; 200 a row, `10⁵ × 2000`: 1.22
/// against 2.72 s; 400 a row, `50 000 × 1000`, where the rule takes CG: 1.35 against 1.11 s;
/// 1000 a row (dense, stored sparse): 6.85 against 2.44 s.
fn auto_prefers_cholesky(op: &DataOp<'_>, j: usize) -> bool {
    let w = AUTO_BLAS3_WEIGHT;
    let d3 = (op.ncols() as f64).powi(3);
    let gram_weight = match op {
        DataOp::Dense(..) => w,
        DataOp::Csr(..) => 1.0,
    };
    let cholesky = gram_weight * op.gram_work() + w * d3 / 6.0;
    let cg = AUTO_CG_ITERATIONS * j as f64 * 2.0 * op.stored() + 4.0 * w * d3;
    cholesky <= cg
}

/// The scale of `b` the kernel solvers work at: `b` with its largest entry outside
/// `[2⁻²⁵⁶, 2²⁵⁷)` is brought into `[1, 2)` by a power of two (else left alone, so ordinary
/// right-hand sides are solved bit for bit as given). P1–P3 are linear in `b`: solving for the
/// scaled `b` and scaling `x` back is exact up to the final scaling, while a subnormal `b` (or one
/// whose norm overflows) would leave the solvers' products without precision (or infinite).
const RHS_EXPONENT_RANGE: i32 = 256;

/// The caller's `x` from `xs`, the solution for the scaled right-hand side `2⁻ᵉ·b`
/// ([`RhsScale::x`]: [`Error::NonFinite`] when it overflows), and `Some(2⁻ᵉ·x)` when that is
/// not `xs`: scaling back the solution of a tiny `b` rounded entries of it to subnormals or to
/// zero (`x ≈ 2⁻¹¹³²` came back as `0`), so the solve's residual no longer describes what is
/// returned and the caller must recompute it on `2⁻ᵉ·x` (exact: scaling a subnormal up is exact).
/// `None` as well when the caller's `b` is itself subnormal (largest entry below `2⁻¹⁰²²`): it
/// carries no more digits than the rounded `x`, and the final rounding is the documented one.
fn unscale_x(
    scale: &RhsScale,
    xs: Vec<f64>,
    b_top: f64,
    solver: &str,
) -> Result<(Vec<f64>, Option<Vec<f64>>)> {
    let x = scale.x(xs.clone(), solver)?;
    if b_top < f64::MIN_POSITIVE {
        return Ok((x, None));
    }
    let back: Vec<f64> = x.iter().map(|&v| scale.down_one(v)).collect();
    let lost = back.iter().zip(&xs).any(|(p, q)| p != q);
    Ok((x, lost.then_some(back)))
}

/// The error for an answer that cannot be returned with its guarantee: its entries
/// underflowed (see [`unscale_x`]) and the relative residual `rel` of what would be returned,
/// recomputed, exceeds `tol`; or (P3) the residual plus the estimated error of evaluating
/// `exp(AAᵀ)` in `f64` ([`evaluation_error`]), `rel`, does. [`Error::NotConverged`], with `rel`
/// appended to the history.
fn unmet(iterations: usize, rel: f64, tol: f64, mut history: Vec<f64>) -> Error {
    history.push(rel);
    Error::NotConverged {
        iterations,
        residual: rel,
        tolerance: tol,
        history,
        rounding_floor: None,
    }
}

/// The sketched preconditioner of `A`, or [`Error::RankDeficient`] with `required: d` when `A`
/// is numerically rank deficient (P1 and P2 need `AᵀA` invertible). A zero `A`, which the
/// preconditioner itself refuses as needing rank 1, is reported the same way.
fn full_rank_preconditioner(a: MatrixRef<'_, f64>, params: &LstsqParams) -> Result<Preconditioner> {
    let d = a.ncols();
    let pre = Preconditioner::new(a, params).map_err(|e| match e {
        Error::RankDeficient { rank, .. } => Error::RankDeficient { rank, required: d },
        e => e,
    })?;
    // An SVD preconditioner of full rank (`LstsqParams::factorization` forced to `Svd`) serves
    // as well as `R⁻¹`; of lower rank, `AᵀA` is singular.
    if pre.factorization() == Factorization::Svd && pre.rank() < d {
        return Err(Error::RankDeficient {
            rank: pre.rank(),
            required: d,
        });
    }
    Ok(pre)
}

/// P1 and P2 solve an `A` whose largest entry lies beyond `2^±L` as `A = 2ˢA′` with `A′` of
/// unit scale (an exact copy), and scale the answer by `2^{−2js}` (P1) or `2^{−(2j+1)s}` (P2)
/// once at the end, where `L = min(A_EXPONENT_LIMIT, ⌊POWER_EXPONENT_BUDGET/p⌋)` for the power
/// `p = 2j` (P1) or `2j + 1` (P2) of `A` in the operator ([`a_shift`]). On `A` itself the
/// powers `(AᵀA)ʲ` over- or underflow long before the answer does: `A = 2⁻³⁰⁰·G`,
/// `b = 2⁻⁶⁰⁰·b₀`, `j = 2` (`x ≈ 2⁶⁰⁰·x₀`) was refused as a CG breakdown ("not numerically
/// positive definite"), and an answer that does overflow got that message instead of
/// [`Error::NonFinite`]. Within the limit nothing changes (every step commutes with a power of
/// two, so the bits would be the same wherever nothing over- or underflowed).
const A_EXPONENT_LIMIT: i32 = 128;

/// The largest `|p·e|` for an `A` of largest entry `2ᵉ` that P1 and P2 solve unscaled, `p` the
/// power of `A` in the operator. The solvers work on a `b` within `2^±256` ([`RHS_EXPONENT_RANGE`])
/// and an answer of about `2^{−p·e}·b`: with `|p·e| ≤ 512` it stays within `2^±768`. A fixed
/// limit on `e` alone let the answer leave the range for `j ≥ 3`: `A = 2¹⁰⁰·G`, `b = 2³⁰⁰·b₀`,
/// `j = 6` (`x ≈ 2⁻⁹⁰⁰`, representable) was `NotConverged` at residual 1 (the scaled solve's
/// `x ≈ 2⁻¹²⁰⁰` underflowed to 0), and `A = 2⁻¹⁰⁰·G`, `b = 2⁻³⁰⁰·b₀` (`x ≈ 2⁹⁰⁰`) a CG
/// breakdown.
const POWER_EXPONENT_BUDGET: i32 = 512;

/// The shift `s` for an `A` whose operator holds it to the power `power` (`2j` for P1,
/// `2j + 1` for P2), or `None` for an `A` within the limit (see [`A_EXPONENT_LIMIT`]).
fn a_shift(a: MatrixRef<'_, f64>, power: usize) -> Option<i32> {
    let power = i32::try_from(power.max(1)).unwrap_or(i32::MAX);
    let limit = A_EXPONENT_LIMIT.min(POWER_EXPONENT_BUDGET / power);
    crate::scalar::shift_toward_range(crate::input::max_abs_entry(a), limit, 0)
}

/// The caller's answer `2ᵏ·xs` from the solve on the scaled `A′` ([`A_EXPONENT_LIMIT`]):
/// [`Error::NonFinite`] when it overflows; when entries of it round to subnormals or to zero,
/// the residual of what is returned is recomputed on `A′` (`residual` of `2⁻ᵏ·x`, exact) and
/// must meet the guarantee itself, else [`Error::NotConverged`]: P1 `≤ tol·‖b‖`; P2
/// (`beside_opt`) within `tol·‖b‖`, in quadrature, of the solve's own (which includes OPT).
#[allow(clippy::too_many_arguments)]
fn a_scaled_answer(
    xs: Vec<f64>,
    k: i32,
    mut info: KernelInfo,
    b: &[f64],
    params: &KernelParams,
    start: Instant,
    solver: &str,
    beside_opt: bool,
    residual: &dyn Fn(&[f64]) -> Result<f64>,
) -> Result<(Vec<f64>, KernelInfo)> {
    let mul = crate::scalar::mul_pow2;
    let x = super::finite_solution(xs.iter().map(|&v| mul(v, k)).collect(), solver)?;
    let lost = xs
        .iter()
        .zip(&x)
        .any(|(s, v)| *s != 0.0 && v.abs() < f64::MIN_POSITIVE);
    if lost {
        let back: Vec<f64> = x.iter().map(|&v| mul(v, -k)).collect();
        let rn = residual(&back)?;
        let bn = norm2(b).max(f64::MIN_POSITIVE);
        let rel = rn / bn;
        let allowed = if beside_opt {
            info.relative_residual.hypot(params.tol)
        } else {
            params.tol
        };
        if rn.is_nan() || rel > allowed {
            return Err(unmet(
                info.cg_iterations,
                rel,
                params.tol,
                info.residual_history,
            ));
        }
        info.residual_norm = rn;
        info.relative_residual = rel;
    }
    info.seconds = start.elapsed().as_secs_f64();
    Ok((x, info))
}

/// Largest power `j` P1 and P2 accept. Each refinement step makes `j` products `AᵀA·v` and
/// `(AᵀA)ʲ` has condition number `κ(A)^{2j}`: far beyond 64 the problem has no accurate answer
/// in `f64` and the loop runs practically forever (`j = usize::MAX` hung before this bound).
const MAX_POWER: usize = 64;

fn check_power(j: usize) -> Result<()> {
    if j > MAX_POWER {
        return Err(Error::param(
            "j",
            format!("the power j = {j} exceeds the limit of {MAX_POWER}"),
        ));
    }
    Ok(())
}

fn check_kernel_params(params: &KernelParams) -> Result<()> {
    check_common(params.tol, params.max_iters, 0.0)?;
    check_common_named(
        params.lstsq.tol,
        params.lstsq.max_iters,
        params.lstsq.ridge,
        ["lstsq.tol", "lstsq.max_iters", "lstsq.ridge"],
    )?;
    if params.lstsq.ridge != 0.0 {
        // P2's least-squares stage and P1's preconditioner would silently solve for AᵀA + λI.
        return Err(Error::param(
            "lstsq.ridge",
            format!(
                "kernel regression has no ridge term; lstsq.ridge must be 0, got {}",
                params.lstsq.ridge
            ),
        ));
    }
    Ok(())
}

/// P1: `min_x ‖(AᵀA)ʲ x − b‖` for `b ∈ ℝᵈ` (`x = (AᵀA)^{−j} b` for full-rank `A`).
///
/// Any finite `b` is accepted: one whose largest entry lies outside `[2⁻²⁵⁶, 2²⁵⁶]` (subnormal,
/// or with an overflowing norm) is solved as `2^e·b` and the answer scaled back by `2^{−e}`
/// (exact but for that final rounding); P2 and P3 do the same. When that rounding (or, in P3,
/// the product `x = D⁻¹w`) takes entries of `x` to subnormals or to zero, the residual is
/// recomputed on the `x` returned, which must meet the guarantee itself: an exact solution
/// below the smallest subnormal (`A = 2²⁶⁶·[[1, 0], [0, 2], [1, 1]]`, `b ≈ 2⁻⁶⁰⁰`,
/// `x ≈ 2⁻¹¹³²`) is [`Error::NotConverged`], no longer `Ok(x = 0)` reported with a relative
/// residual of 10⁻¹⁶. (A `b` that is itself subnormal is exempt: its answer is returned as
/// rounded, with the residual of the scaled solve.) Likewise an `A` whose largest entry lies
/// beyond `2^±128` (for `j ≥ 3`, beyond `2^±⌊256/j⌋`; P2: `2^±⌊512/(2j+1)⌋` from `j = 2`) is
/// solved as `2ˢA′` with `A′` of unit scale and the answer scaled by `2^{−2js}`
/// (P2: `2^{−(2j+1)s}`) at the end, so `(AᵀA)ʲ` need not be representable, only the answer.
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`] (`b` not of length `d`), [`Error::NonFinite`]
/// (NaN/∞ in the input, or a solution that does not fit in `f64`),
/// [`Error::InvalidParameter`] (tolerances, `max_iters`, `j > 64`, `lstsq.ridge ≠ 0`, and for
/// `j ≥ 1` as [`Preconditioner::new`]), [`Error::RankDeficient`] when `A` is numerically rank
/// deficient (`AᵀA` singular) and `j ≥ 1` (`j = 0` returns `x = b` for any `A`),
/// [`Error::NotConverged`] when refinement stalls above `tol`, or when the answer underflows so
/// that the `x` returned misses `tol` (see above), [`Error::Factorization`] when conjugate
/// gradients break down (`pᵀAp ≤ 0` or a non-finite value) or, with [`InnerSolve::Cholesky`]
/// forced, when the Cholesky of the formed `AᵀA` does, [`Error::TooLarge`] when the
/// preconditioner's sketch or the solver's work vectors cannot be allocated (as
/// [`Preconditioner::new`]), or, with [`InnerSolve::Cholesky`] forced, the `d × d` Gram matrix.
///
/// # Performance
/// Sketch and QR as [`sketch_and_precondition`](super::sketch_and_precondition) (for the rank
/// check and the CG route's preconditioner; `Auto`'s Cholesky route makes no sketch, see below),
/// then per refinement step `j` passes over a CSR `A` (each product `AᵀA·v` fused into one
/// pass; `2j` for a dense `A`) for the true residual and either (CG route) about `j·log(1/tol)` CG
/// iterations of `O(nnz(A) + d²)` each, or (Cholesky route) `2j` triangular solves of `O(d²)`,
/// after forming `AᵀA` once (`O(Σᵢ nnz(rowᵢ)²)` sparse, `O(n·d²)` dense) and its Cholesky factor
/// (`O(d³/3)`). [`InnerSolve::Auto`] takes the Cholesky route when `d ≤ 4096`, forming and
/// factoring `AᵀA` costs at most 25 CG iterations per inner solve and the QR of the CG route's
/// sketch (sparse `A`: `Σᵢ nnz(rowᵢ)²/2 + d³/60 ≤ 50·j·nnz(A) + 0.4·d³`; dense: `n·d²/20 + d³/60 ≤
/// 50·j·n·d + 0.4·d³`, BLAS-3 multiply-adds weighted 0.1, so dense `A` up to `d ≈ 1000·j`),
/// and `j·κ(L)²·u ≤ 10⁻⁶` (`κ(L) = κ(A)` estimated from the Cholesky factor `L` of `AᵀA`;
/// that bound, `κ(A) ≤ 9.5·10⁴/√j`, stands in for the sketch's rank check, whose threshold
/// is `κ(A) > 1/rcond`); it falls back to CG when `AᵀA` cannot be formed or factored, or
/// when the Cholesky route's refinement does not reach `tol`. At `d = 100`, 10 nonzeros a row and
/// `j = 2`, the Cholesky route is several times faster than CG (`benches/kernel_regression.rs`).
/// Memory on the Cholesky route: `AᵀA` (`8d²` bytes, factored in place; while a sparse `AᵀA`
/// with `d ≤ 512` is summed, one more `d × d` buffer per thread), `O(n + d)` vectors, and for a
/// sparse `A` the operator's `u32` copy of its column indices (`tests/attention.rs`,
/// `kernel_regression_cholesky_route_holds_one_d_by_d_matrix`).
///
/// # References
/// Z. Song, J. Yin, L. Zhang, "Solving attention kernel regression problem via pre-conditioner",
/// arXiv 2308.14304.
///
/// # Examples
/// ```
/// use randnla::lstsq::kernel_regression::{solve_p1, KernelParams};
/// use randnla::MatrixRef;
/// // AᵀA = [[2, 1], [1, 5]], whose inverse is [[5, −1], [−1, 2]]/9. With j = 2 and b = [1, 1]:
/// // (AᵀA)⁻¹b = [4, 1]/9, and (AᵀA)⁻¹ of that is x = [19, −2]/81.
/// let a = randnla::faer::mat![[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]];
/// let a = MatrixRef::dense(a.as_ref())?;
/// let (x, info) = solve_p1(a, 2, &[1.0, 1.0], &KernelParams::default())?;
/// assert!((x[0] - 19.0 / 81.0).abs() < 1e-9 && (x[1] + 2.0 / 81.0).abs() < 1e-9, "{x:?}");
/// assert!(info.relative_residual <= 1e-10); // ‖b − (AᵀA)²x‖ ≤ tol·‖b‖
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn solve_p1(
    a: MatrixRef<'_, f64>,
    j: usize,
    b: &[f64],
    params: &KernelParams,
) -> Result<(Vec<f64>, KernelInfo)> {
    let start = Instant::now();
    a.require_nonempty("A")?;
    if b.len() != a.ncols() {
        return Err(Error::dim(
            "length of b vs columns of A (P1)",
            a.ncols(),
            b.len(),
        ));
    }
    check_finite_slice(b, "b")?;
    check_kernel_params(params)?;
    check_power(j)?;
    if j == 0 {
        // (AᵀA)⁰ = I whatever A is: x = b exactly, with no factor of A to build (A of any rank
        // or shape, d > n included).
        return Ok((b.to_vec(), KernelInfo::exact_without_solving(start)));
    }
    // The preconditioner's parameters are checked whichever route `Auto` takes (the Cholesky
    // route makes no sketch, and accepted `sketch_rows < d` or `nnz_per_col = 0` where the CG
    // route refused them).
    Preconditioner::plan(a, &params.lstsq)?;
    if let Some(shift) = a_shift(a, 2 * j) {
        let copy = crate::input::Pow2Scaled::new(a, shift)?;
        let av = copy.view(a);
        let (xs, info) = solve_p1(av, j, b, params)?;
        // A = 2ˢA′: (AᵀA)⁻ʲ = 4^{−js}(A′ᵀA′)⁻ʲ.
        let k = -2 * j as i32 * shift;
        return a_scaled_answer(
            xs,
            k,
            info,
            b,
            params,
            start,
            "P1",
            false,
            &|v: &[f64]| {
                let kx = gram_power(&DataOp::new(av, params.lstsq.par)?, j, v);
                Ok(norm2(
                    &b.iter().zip(&kx).map(|(p, q)| p - q).collect::<Vec<_>>(),
                ))
            },
        );
    }
    let op = DataOp::new(a, params.lstsq.par)?;
    let scale = RhsScale::into_range(b, RHS_EXPONENT_RANGE);
    let b_top = crate::scalar::max_abs(b.iter().copied());
    let b = scale.down(b);
    let bn = norm2(&b);
    let (mut r, cholesky) = refine(a, &op, j, &b, &|r: &[f64]| norm2(r), bn, params)?;
    let performed = r.performed(cholesky);
    let (x, lost) = unscale_x(&scale, r.x, b_top, "P1")?;
    if let Some(back) = lost {
        let kx = gram_power(&op, j, &back);
        r.measure = norm2(&b.iter().zip(&kx).map(|(p, q)| p - q).collect::<Vec<_>>());
        let rel = r.measure / bn;
        if rel > params.tol {
            return Err(unmet(performed, rel, params.tol, r.history));
        }
    }
    Ok((
        x,
        KernelInfo {
            cg_iterations: r.cg_iterations,
            refinements: r.steps,
            lstsq_iterations: 0,
            residual_norm: scale.up(r.measure),
            relative_residual: r.measure / bn.max(f64::MIN_POSITIVE),
            residual_history: r.history,
            seconds: start.elapsed().as_secs_f64(),
            cholesky,
        },
    ))
}

/// P2: `min_x ‖A(AᵀA)ʲ x − b‖` for `b ∈ ℝⁿ`: the least-squares solution `y` of `Ay ≈ b` by
/// sketch-and-precondition (on the Cholesky route of [`InnerSolve`], by the corrected
/// semi-normal equations with the Cholesky factor of `AᵀA`), then `(AᵀA)ʲ x = y` as in
/// [`solve_p1`] (same sketch and factor, or the same Cholesky factor),
/// refined until `‖A(y − (AᵀA)ʲx)‖ ≤ tol·‖b‖`, so that
/// `‖A(AᵀA)ʲx − b‖² ≤ ‖b − Ay‖² + (tol·‖b‖)²`.
///
/// # Errors
/// As [`solve_p1`] with `b` of length `n`, plus those of
/// [`sketch_and_precondition`](super::sketch_and_precondition), except that
/// [`Error::RankDeficient`] applies to `j = 0` too: P2 with `j = 0` is `min ‖Ax − b‖` itself,
/// solved with the full-rank factor of `A` (for a rank-deficient `A`, call
/// [`sketch_and_precondition`](super::sketch_and_precondition), whose SVD preconditioner
/// handles it).
///
/// # Performance
/// One sketch-and-precondition solve plus one P1 solve; or, on the Cholesky route, forming and
/// factoring `AᵀA` as in [`solve_p1`], a few semi-normal steps of one pass over `A` each, and
/// P1's refinement with that factor (no sketch unless [`InnerSolve::Cholesky`] is forced).
/// [`InnerSolve::Auto`] applies [`solve_p1`]'s rules with `j + 1` inner solves (the
/// least-squares stage counts as one), and falls back to the sketch when the Cholesky route
/// does not converge.
///
/// # References
/// Z. Song, J. Yin, L. Zhang, arXiv 2308.14304.
///
/// # Examples
/// ```
/// use randnla::lstsq::kernel_regression::{solve_p2, KernelParams};
/// use randnla::MatrixRef;
/// // With A = [[1, 0], [0, 2], [1, 1]] and x₀ = [1, −1]: AᵀA·x₀ = [1, −4] and A·[1, −4] =
/// // [1, −8, −3]. Adding z = [2, 1, −2], orthogonal to range(A) (Aᵀz = 0), gives a b that
/// // A(AᵀA)x cannot fit exactly: the minimizer is still x₀, at residual ‖z‖ = 3.
/// let a = randnla::faer::mat![[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]];
/// let b = [3.0, -7.0, -5.0];
/// let (x, info) = solve_p2(MatrixRef::dense(a.as_ref())?, 1, &b, &KernelParams::default())?;
/// assert!((x[0] - 1.0).abs() < 1e-9 && (x[1] + 1.0).abs() < 1e-9, "{x:?}");
/// assert!((info.residual_norm - 3.0).abs() < 1e-9, "{}", info.residual_norm);
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn solve_p2(
    a: MatrixRef<'_, f64>,
    j: usize,
    b: &[f64],
    params: &KernelParams,
) -> Result<(Vec<f64>, KernelInfo)> {
    let start = Instant::now();
    super::check_problem(&a, b)?;
    check_kernel_params(params)?;
    check_power(j)?;
    // As in `solve_p1`: the preconditioner's parameters whichever route `Auto` takes.
    Preconditioner::plan(a, &params.lstsq)?;
    if let Some(shift) = a_shift(a, 2 * j + 1) {
        let copy = crate::input::Pow2Scaled::new(a, shift)?;
        let av = copy.view(a);
        let (xs, info) = solve_p2(av, j, b, params)?;
        // A = 2ˢA′: A(AᵀA)ʲ = 2^{(2j+1)s}·A′(A′ᵀA′)ʲ.
        let k = -(2 * j as i32 + 1) * shift;
        return a_scaled_answer(xs, k, info, b, params, start, "P2", true, &|v: &[f64]| {
            let op = DataOp::new(av, params.lstsq.par)?;
            let mut t = vec![0.0; op.nrows()];
            op.apply(&gram_power(&op, j, v), &mut t);
            Ok(norm2(
                &b.iter().zip(&t).map(|(p, q)| p - q).collect::<Vec<_>>(),
            ))
        });
    }
    // A forced Cholesky route makes the sketch for its rank check first (as the CG route).
    let forced = params.inner_solve == InnerSolve::Cholesky;
    let pre = if forced {
        Some(full_rank_preconditioner(a, &params.lstsq)?)
    } else {
        None
    };
    let op = DataOp::new(a, params.lstsq.par)?;
    let scale = RhsScale::into_range(b, RHS_EXPONENT_RANGE);
    let b_top = crate::scalar::max_abs(b.iter().copied());
    let b = &scale.down(b)[..];
    let through_a = |r: &[f64]| {
        let mut ar = vec![0.0; op.nrows()];
        op.apply(r, &mut ar);
        norm2(&ar)
    };
    let bn = norm2(b);
    // The least-squares stage counts as one more inner solve in Auto's cost rule.
    let factor = match params.inner_solve {
        InnerSolve::Cg => None,
        InnerSolve::Cholesky => Some(gram_factor(&op)?),
        InnerSolve::Auto => auto_cholesky_factor(&op, j + 1),
    };
    let by_cholesky = match factor {
        Some(l) => match p2_by_cholesky(&op, l, j, b, &through_a, bn, params) {
            Ok(v) => Some(v),
            Err(e) if forced => return Err(e),
            Err(_) => None,
        },
        None => None,
    };
    let (y, lstsq_iterations, r, cholesky) = match by_cholesky {
        Some((y, steps, r)) => (y, steps, r, true),
        None => {
            let pre = match pre {
                Some(p) => p,
                None => full_rank_preconditioner(a, &params.lstsq)?,
            };
            let x0 = pre.warm_start(
                MatRef::from_column_major_slice(b, b.len(), 1),
                params.lstsq.par,
            )?;
            let x0: Vec<f64> = (0..x0.nrows()).map(|i| x0[(i, 0)]).collect();
            let mut cb: Callback<'_> = None;
            let (y, info) = solve_one(&op, &pre, b, x0, &params.lstsq, &mut cb)?;
            let r = p1_core(
                &op,
                &Inner::Cg(&pre),
                j,
                &y,
                &Target {
                    measure: &through_a,
                    power: 1,
                    scale: bn,
                    spent: 0.0,
                    report_floor: true,
                },
                params,
            )?;
            (y, info.iterations, r, false)
        }
    };
    let (x, lost) = unscale_x(&scale, r.x.clone(), b_top, "P2")?;
    // `(AᵀA)ʲ·xs`: the refinement's last one when `xs` is its answer (the same bits).
    let kx = match lost {
        Some(back) => {
            let kx = gram_power(&op, j, &back);
            let rel = through_a(&y.iter().zip(&kx).map(|(p, q)| p - q).collect::<Vec<_>>()) / bn;
            // Held to what the refinement was held to (`tol` less the least-squares stage's
            // share, on the Cholesky route).
            if rel > params.tol - r.spent {
                return Err(unmet(r.performed(cholesky), rel, params.tol, r.history));
            }
            kx
        }
        None => match r.gram_power_x {
            Some(kx) => kx,
            None => gram_power(&op, j, &r.x),
        },
    };
    let mut t = vec![0.0; op.nrows()];
    op.apply(&kx, &mut t);
    let rn = norm2(&b.iter().zip(&t).map(|(p, q)| p - q).collect::<Vec<_>>());
    Ok((
        x,
        KernelInfo {
            cg_iterations: r.cg_iterations,
            refinements: r.steps,
            lstsq_iterations,
            residual_norm: scale.up(rn),
            relative_residual: rn / bn.max(f64::MIN_POSITIVE),
            residual_history: r.history,
            seconds: start.elapsed().as_secs_f64(),
            cholesky,
        },
    ))
}

/// P3: `min_x ‖exp(AAᵀ) x − b‖` (`exp` entrywise, `x ∈ ℝⁿ`) via `exp(AAᵀ) = D·G·D`: solves
/// `G w = D⁻¹b` and returns `x = D⁻¹w`. By default ([`InnerSolve::Auto`]) `G w = D⁻¹b` is
/// solved by the Cholesky factor of `G` with iterative refinement for `n ≤ 8192`, falling back
/// to Nyström-preconditioned CG when that fails, and by the CG for larger `n` (the rule and its
/// measurements are under `# Performance`).
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`] (`b` not of length `n`), [`Error::NonFinite`]
/// (NaN/∞ in the input, or a solution that does not fit in `f64`),
/// [`Error::InvalidParameter`] (tolerances, `nystrom_rank = Some(0)`; a row with
/// `‖aᵢ‖²/2 > 700`: `e^{‖aᵢ‖²/2}` is then
/// within `e^{9.8}` of overflow and its inverse near the subnormals — `exp(AAᵀ)` itself, whose
/// diagonal is `e^{‖aᵢ‖²}`, overflows `f64` already from `‖aᵢ‖² > 709.8`, which is accepted:
/// only `D` and `G` are formed), [`Error::TooLarge`] for `n > 16384` (the kernel matrix is formed
/// densely) or when `G` (or, for a dense `A`, its copy) or the Nyström preconditioner's work
/// arrays (about `7nℓ + 5ℓ²` numbers) cannot be allocated, or (on the Cholesky route forced by
/// [`InnerSolve::Cholesky`]) the `n × n` copy of `G` its factor overwrites,
/// [`Error::Factorization`] when `G` is not numerically positive definite (repeated rows),
/// [`Error::NotConverged`] when the true residual stays above `tol·‖b‖` after at most
/// `max_refinements + 1` CG runs of up to `max_iters` iterations each (or Cholesky solves), or
/// when it meets it but not with the estimated error of evaluating `exp(AAᵀ)` in `f64` added (from
/// `‖aᵢ‖²` near 100 on a Gaussian `A` at the default `tol`; see the module docs), or when that of
/// the `x` returned does because entries of `x` underflow (`xᵢ ≈ e^{−‖aᵢ‖²}·bᵢ` for a row far from
/// the others: `A = [[37, 0], [0, 0.1]]`, `b = [1, 1]` has `x₁ ≈ 10⁻⁵⁹⁵`, which used to come back
/// as `Ok` with `x₁ = 0` and a reported residual of 0; the true one is `0.007·‖b‖`).
///
/// # Performance
/// To form `G`: dense `A`, `O(n²·d)` by GEMM on a copy of `A` (memory `n² + n·d`); sparse `A`,
/// `O(Σ_k nnz(A_{:,k})²)` (at most `n²·d/2`) after sorting its entries by column, memory
/// `n² + O(nnz(A) + n)` whatever `d` is. Then, on the CG route, `O(n²·ℓ)` for the Nyström
/// sketch (memory about `7nℓ + 5ℓ²`) and `O(n²)` per CG iteration; on the Cholesky route
/// ([`InnerSolve`]), `O(n³/3)` for the Cholesky factor of `G` (on the threads of
/// `lstsq.par`; memory another `n²`) and `O(n²)` per refinement step. [`InnerSolve::Auto`]
/// takes the Cholesky route for `n ≤ 8192` and falls back to CG when the factorization or its
/// refinement fails. The rule follows `benches/kernel_regression.rs` (2 cores, `n × 16`
/// Gaussian `A` at two scales): a Cholesky of the formed `exp(AAᵀ)` took 0.14–0.96× the time
/// of the Nyström-CG solve up to `n = 4000`, and at `n = 6000` 1.54 s against 11.8 s on a
/// flat spectrum (608 CG iterations; they grow like `n` on a flat tail beyond the Nyström
/// rank) and 1.62 s against 1.8–1.9 s on a well-conditioned one (57 iterations). Beyond some
/// `n` the Cholesky's `n³/3` overtakes CG on well-conditioned kernels (not measured; the
/// worst case of CG, a flat spectrum, is the worse risk), and above 8192 CG is the default,
/// which also bounds the route's extra memory (the factor) at 512 MB.
///
/// # References
/// Z. Song, J. Yin, L. Zhang, arXiv 2308.14304 (the `D·G·D` factorization); Z. Frangella,
/// J. Tropp, M. Udell, "Randomized Nyström preconditioning", arXiv 2110.02820.
///
/// # Examples
/// ```
/// use randnla::lstsq::kernel_regression::{solve_p3, KernelParams};
/// use randnla::MatrixRef;
/// // Three distinct rows, so exp(AAᵀ) is invertible: b = exp(AAᵀ)·x₀ is solved back to x₀.
/// let a = randnla::faer::mat![[1.0f64, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let x0 = [1.0, -1.0, 0.5];
/// let kernel = |i: usize, j: usize| (a[(i, 0)] * a[(j, 0)] + a[(i, 1)] * a[(j, 1)]).exp();
/// let b: Vec<f64> = (0..3).map(|i| (0..3).map(|j| kernel(i, j) * x0[j]).sum()).collect();
/// let (x, info) = solve_p3(MatrixRef::dense(a.as_ref())?, &b, &KernelParams::default())?;
/// for (xi, x0i) in x.iter().zip(&x0) {
///     assert!((xi - x0i).abs() < 1e-8, "{x:?}");
/// }
/// assert!(info.relative_residual <= 1e-10); // ‖exp(AAᵀ)x − b‖ ≤ tol·‖b‖
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn solve_p3(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    params: &KernelParams,
) -> Result<(Vec<f64>, KernelInfo)> {
    let start = Instant::now();
    super::check_problem(&a, b)?;
    check_kernel_params(params)?;
    if params.nystrom_rank == Some(0) {
        // Was silently rank 1; a rank-0 "preconditioner" is no Nyström approximation at all.
        return Err(Error::param(
            "nystrom_rank",
            "must be at least 1 (values above n are capped at n), got 0",
        ));
    }
    let n = a.nrows();
    if n > 16384 {
        return Err(Error::TooLarge {
            what: format!("the dense {n}×{n} kernel matrix of P3"),
            requested: (n as u128) * (n as u128),
            limit: 16384 * 16384,
        });
    }
    let par = crate::dense::bounded(params.lstsq.par);
    let rows = KernelRows::new(a, par)?;
    let sq = rows.row_norms_sq(par)?;
    if let Some(i) = sq.iter().position(|&s| s / 2.0 > 700.0) {
        return Err(Error::param(
            "A",
            format!(
                "row {i} has ‖aᵢ‖²/2 = {} > 700: exp(AAᵀ) overflows f64",
                sq[i] / 2.0
            ),
        ));
    }
    if b.iter().all(|&v| v == 0.0) {
        // x = 0 solves it exactly; nothing to factor (G may even be numerically singular).
        return Ok((vec![0.0; n], KernelInfo::exact_without_solving(start)));
    }
    let scale = RhsScale::into_range(b, RHS_EXPONENT_RANGE);
    let b_top = crate::scalar::max_abs(b.iter().copied());
    let b = &scale.down(b)[..];
    let dinv: Vec<f64> = sq.iter().map(|s| (-s / 2.0).exp()).collect();
    let g = gaussian_kernel(&rows, &sq, par)?;
    // Auto keeps the Cholesky's breakdown: when CG breaks down too, it names the cause (G
    // itself), where CG's error would blame its Nyström preconditioner.
    let (factor, breakdown) = match params.inner_solve {
        InnerSolve::Cg => (None, None),
        InnerSolve::Cholesky => (Some(kernel_factor(g.as_ref(), par)?), None),
        InnerSolve::Auto if auto_factors_p3(n) => match kernel_factor(g.as_ref(), par) {
            Ok(l) => (Some(l), None),
            Err(e @ Error::Factorization { .. }) => (None, Some(e)),
            Err(_) => (None, None),
        },
        InnerSolve::Auto => (None, None),
    };
    let c: Vec<f64> = b.iter().zip(&dinv).map(|(bi, di)| bi * di).collect();
    let bn = norm2(b);
    let apply = |v: &[f64], out: &mut [f64]| {
        let vm = MatRef::from_column_major_slice(v, n, 1);
        let om = faer::MatMut::from_column_major_slice_mut(out, n, 1);
        faer::linalg::matmul::matmul(om, faer::Accum::Replace, g.as_ref(), vm, 1.0, Par::Seq);
    };
    // ‖D r‖ = ‖exp(AAᵀ)x − b‖ for r = D⁻¹b − Gw.
    let weight = |r: &[f64]| {
        let s: Vec<f64> = r.iter().zip(&dinv).map(|(ri, di)| ri / di).collect();
        norm2(&s)
    };
    // CG's recurrence residual can drift from the true one (the weights D reach e^700): accept
    // only a true residual within the target, restarting CG on it while that helps. The
    // Cholesky route refines the same way, one solve per step.
    let target = params.tol * bn;
    let run = |inner: &P3Inner<'_>| -> Result<(Vec<f64>, KernelInfo)> {
        let mut w = vec![0.0; n];
        let mut r = c.clone();
        let (mut iters, mut restarts) = (0usize, 0usize);
        let mut last = f64::INFINITY;
        let mut history = Vec::new();
        // What an error reports as `iterations`: CG's on the CG route; on the Cholesky route,
        // which has none, the solves with the factor.
        let performed = |iters: usize, restarts: usize| match inner {
            P3Inner::Cg(_) => iters,
            P3Inner::Cholesky(_) => restarts,
        };
        loop {
            let rn = weight(&r);
            if bn > 0.0 {
                history.push(rn / bn);
            }
            if rn <= target {
                // `rn` is the residual of the computed `D·G·D`, whose entries carry relative errors
                // of about `u·(‖aᵢ‖² + ‖aⱼ‖²)` (the rounding of the exponents, amplified by `exp`):
                // the residual of the exact `exp(AAᵀ)` is that one plus a vector of independent
                // rounding errors of norm about `eval`, so its norm is about `√(rn² + eval²)`.
                // Accept only when that is within the target.
                let expected =
                    |rn: f64, w: &[f64]| rn.hypot(evaluation_error(g.as_ref(), &sq, w, &weight));
                let expected_rn = expected(rn, &w);
                if expected_rn.is_nan() || expected_rn > target {
                    return Err(unmet(
                        performed(iters, restarts),
                        expected_rn / bn,
                        params.tol,
                        history,
                    ));
                }
                let xs: Vec<f64> = w.iter().zip(&dinv).map(|(wi, di)| wi * di).collect();
                // `x = D⁻¹w` underflows where both factors are small (`xᵢ ≈ e^{−‖aᵢ‖²}·bᵢ` for a
                // row far from the others), and so may scaling it back: then the residual is that
                // of what is returned, recomputed.
                let flushed = xs
                    .iter()
                    .zip(&w)
                    .any(|(x, w)| *w != 0.0 && x.abs() < f64::MIN_POSITIVE);
                let (x, lost) = unscale_x(&scale, xs.clone(), b_top, "P3")?;
                let mut rn = rn;
                if flushed || lost.is_some() {
                    let back = lost.unwrap_or(xs);
                    let w2: Vec<f64> = back.iter().zip(&dinv).map(|(xi, di)| xi / di).collect();
                    let mut gw = vec![0.0; n];
                    apply(&w2, &mut gw);
                    rn = weight(
                        &c.iter()
                            .zip(&gw)
                            .map(|(ci, gi)| ci - gi)
                            .collect::<Vec<_>>(),
                    );
                    // Held to the same test as the solve's own residual, evaluation error included.
                    let expected_rn = expected(rn, &w2);
                    if expected_rn.is_nan() || expected_rn > target {
                        return Err(unmet(
                            performed(iters, restarts),
                            expected_rn / bn,
                            params.tol,
                            history,
                        ));
                    }
                }
                return Ok((
                    x,
                    KernelInfo {
                        cg_iterations: iters,
                        refinements: restarts,
                        lstsq_iterations: 0,
                        residual_norm: scale.up(rn),
                        relative_residual: rn / bn.max(f64::MIN_POSITIVE),
                        residual_history: history,
                        seconds: start.elapsed().as_secs_f64(),
                        cholesky: matches!(inner, P3Inner::Cholesky(_)),
                    },
                ));
            }
            // The first run is not held to `x = 0`'s residual: CG minimizes the error in `G`'s
            // norm, in which the entries of `w` below `u·‖w‖` are not resolved, while `‖D·‖` weighs
            // them by up to `e^{‖aᵢ‖²/2}`; when `D` spans more than `1/u` its answer can be far
            // worse than `x = 0` in that norm (`16·‖b‖` on `1.8·G`, 1000 × 16 Gaussian), and one
            // restart on the true residual, whose small entries are then the large ones, resolves
            // them. Later runs must improve on the one before.
            if restarts > params.max_refinements || (restarts >= 2 && rn >= last) {
                return Err(Error::NotConverged {
                    iterations: performed(iters, restarts),
                    residual: rn / bn,
                    tolerance: params.tol,
                    history,
                    rounding_floor: None,
                });
            }
            last = rn;
            // CG runs on `s·r` with `s` a power of two that brings `‖r‖` near 1 (1 for ordinary
            // sizes, [`rescale_for`]) and its answer is scaled back: exact, so the bits are those
            // of the run on `r`, except that a residual of tiny entries (`D⁻¹` reaches `e^{−700}`)
            // no longer underflows `rᵀz` and `pᵀGp` to 0, which read as a breakdown.
            let s = rescale_for(norm2(&r));
            let mut rs: Vec<f64> = r.iter().map(|v| v * s).collect();
            match inner {
                P3Inner::Cg(nys) => {
                    let run = pcg(
                        &apply,
                        &|r, out| nys.apply_inverse(r, out),
                        &rs,
                        &weight,
                        target * s,
                        params.max_iters,
                    )?;
                    iters += run.iterations;
                    rs = run.x;
                }
                P3Inner::Cholesky(l) => crate::dense::cholesky_solve_in_place(l.as_ref(), &mut rs),
            }
            restarts += 1;
            axpy(1.0 / s, &rs, &mut w);
            let mut gw = vec![0.0; n];
            apply(&w, &mut gw);
            for ((ri, ci), gi) in r.iter_mut().zip(&c).zip(&gw) {
                *ri = ci - gi;
            }
        }
    };
    if let Some(l) = factor {
        match run(&P3Inner::Cholesky(l)) {
            Err(Error::NotConverged { .. }) if params.inner_solve == InnerSolve::Auto => {}
            result => return result,
        }
    }
    let ell = params.nystrom_rank.unwrap_or(200).min(n);
    let by_cg = Nystrom::new(g.as_ref(), ell, params.lstsq.seed.derive(0x41), par)
        .and_then(|nys| run(&P3Inner::Cg(&nys)));
    match (by_cg, breakdown) {
        (Err(Error::Factorization { .. }), Some(cholesky)) => Err(cholesky),
        (result, _) => result,
    }
}

/// How [`solve_p3`] applies `G⁻¹` ([`InnerSolve`]).
enum P3Inner<'n> {
    /// CG preconditioned by the Nyström approximation.
    Cg(&'n Nystrom),
    /// The Cholesky factor `L` of `G` ([`kernel_factor`]).
    Cholesky(Mat<f64>),
}

/// The largest `n` for which [`InnerSolve::Auto`] factors P3's kernel matrix (see
/// [`solve_p3`]'s `# Performance`): 512 MB for the factor at the limit.
const AUTO_P3_CHOLESKY_MAX_N: usize = 8192;

/// Whether [`InnerSolve::Auto`] tries P3's Cholesky route for `n` rows.
fn auto_factors_p3(n: usize) -> bool {
    n <= AUTO_P3_CHOLESKY_MAX_N
}

/// The Cholesky factor of P3's Gaussian kernel matrix `G`, on the threads of `par`.
///
/// # Errors
/// [`Error::TooLarge`] when the copy of `G` cannot be allocated; [`Error::Factorization`] when
/// the Cholesky breaks down (`G` numerically singular: rows of `A` that coincide to rounding).
fn kernel_factor(g: MatRef<'_, f64>, par: Par) -> Result<Mat<f64>> {
    let n = g.nrows();
    let mut copy = zeros_or_too_large::<f64>(n, n, "copy of G for its Cholesky factor")?;
    copy.copy_from(g);
    crate::dense::cholesky_factor_par(copy, par).map_err(|e| Error::Factorization {
        reason: format!(
            "Cholesky of the Gaussian kernel matrix G failed ({e:?}): G is not numerically \
             positive definite (rows of A that coincide to rounding)"
        ),
    })
}

/// An estimate of how far the residual `D(D⁻¹b − Gw)` computed from the rounded `D` and `G`
/// may lie from that of the exact `exp(AAᵀ)` at `x = D⁻¹w`: `‖D·e‖` with
/// `eᵢ = u·(Σⱼ (γᵢⱼ·G_ij·wⱼ)²)^{1/2}`, `γᵢⱼ = ‖aᵢ‖² + ‖aⱼ‖² + 4` (`weight` applies `‖D·‖`).
/// The exponent `⟨aᵢ,aⱼ⟩` that `D_i·G_ij·D_j` represents is rounded at the scale of
/// `‖aᵢ‖² + ‖aⱼ‖²`, and `exp` turns that absolute error into a relative one of the entry; the
/// `4` covers the roundings of `exp` itself, of `x = D⁻¹w` and of the product. The entries'
/// errors are those of independent roundings, so they are summed in quadrature: a sum of
/// magnitudes (`|G|·|w|`) overstates them by the square root of the number of terms where
/// `Gw` cancels (an ill-conditioned `G` with `‖w‖ ≫ ‖c‖`). It is an estimate, not a bound: on
/// Gaussian `A` with `‖aᵢ‖²` up to 150 the difference measured against an 80-bit evaluation
/// was 2–40 % of it.
///
/// # Performance
/// `O(n²)`, one pass over `G`.
fn evaluation_error(
    g: MatRef<'_, f64>,
    sq: &[f64],
    w: &[f64],
    weight: &dyn Fn(&[f64]) -> f64,
) -> f64 {
    let n = w.len();
    // Σⱼ (γᵢⱼ·G_ij·wⱼ)² accumulated column by column (G is column major), with `w` scaled by
    // one power of two (exact) so that its largest entry is of order 1 and the squares neither
    // under- nor overflow for ordinary entries of `G`.
    let scale = rescale_for(w.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    let mut acc = vec![0.0f64; n];
    for (j, &wj) in w.iter().enumerate() {
        let wj = wj * scale;
        if wj == 0.0 {
            continue;
        }
        let col = g.col(j);
        for (i, a) in acc.iter_mut().enumerate() {
            let t = (sq[i] + sq[j] + 4.0) * col[i] * wj;
            *a += t * t;
        }
    }
    let u = 0.5 * f64::EPSILON;
    let e: Vec<f64> = acc.iter().map(|a| u * a.sqrt() / scale).collect();
    weight(&e)
}

/// The rows of `A` as P3 reads them: a dense `A` as given; a sparse one as compressed rows
/// (CSR input borrowed, CSC input transposed: `O(nnz + n)`), never as a dense `n × d` copy. P3
/// needs only `AAᵀ` (`n × n`): a sparse `A` of 200 rows and 800 entries with `d = 2³¹` hashed
/// feature columns was refused as [`Error::TooLarge`] ("the iteration vectors for a
/// 200×2147483648 operator"), and with `d = 10⁶` it took a 1.6 GB dense copy and a GEMM of
/// `n²·d` flops.
enum KernelRows<'a> {
    /// `A` as given, copied densely to form `G` by GEMM: a dense `A`, or a sparse one for which
    /// that is the cheaper way ([`KernelRows::new`]).
    Dense(MatrixRef<'a, f64>),
    Sparse(SparseRows<'a>),
}

/// `A` in CSR: row `i`'s entries sit at `indptr[i] − base .. indptr[i + 1] − base` of `indices`
/// and `data`, column indices strictly increasing (as [`SparseRef`](crate::SparseRef) holds them).
struct SparseRows<'a> {
    indptr: std::borrow::Cow<'a, [usize]>,
    base: usize,
    indices: std::borrow::Cow<'a, [usize]>,
    data: std::borrow::Cow<'a, [f64]>,
}

impl SparseRows<'_> {
    fn row(&self, i: usize) -> (&[usize], &[f64]) {
        let r = (self.indptr[i] - self.base)..(self.indptr[i + 1] - self.base);
        (&self.indices[r.clone()], &self.data[r])
    }

    /// `AAᵀ` (`n × n`) as the sum over the columns `k` of `A` of the outer products of their
    /// entries, each pair's terms added in ascending `k`. The entries are sorted by column
    /// first (`O(nnz·log nnz)` time, `O(nnz)` memory), so a huge `d` costs nothing. On the
    /// threads of `par`, each taking blocks of columns of `AAᵀ` (every entry still sums its
    /// terms in ascending `k`, so the bits do not depend on the thread count).
    ///
    /// # Performance
    /// `O(Σ_k nnz(A_{:,k})²)` flops: at most `n²/2` per column, so never more than a dense
    /// GEMM's `n²·d`; in parallel, each block also scans the sorted entries once (`O(nnz)`,
    /// `O(log)` per column of `A` to find its rows).
    fn gram(&self, n: usize, par: Par) -> Result<Mat<f64>> {
        let nnz = self.data.len();
        crate::input::ensure_allocatable::<(usize, usize, f64)>(
            Some(nnz),
            || format!("the {nnz} entries of A sorted by column (P3)"),
            nnz as u128,
        )?;
        let mut by_col: Vec<(usize, usize, f64)> = Vec::with_capacity(nnz);
        for i in 0..n {
            let (idx, val) = self.row(i);
            by_col.extend(idx.iter().zip(val).map(|(&k, &v)| (k, i, v)));
        }
        by_col.sort_unstable_by_key(|&(k, i, _)| (k, i));
        let mut g = zeros_or_too_large::<f64>(n, n, "kernel matrix of P3")?;
        let cols: Vec<&[(usize, usize, f64)]> = by_col.chunk_by(|p, q| p.0 == q.0).collect();
        // Columns j0.. of the upper triangle of AAᵀ: for each column of A (rows ascending), the
        // pairs (i, j) with i ≤ j and j in the block, in ascending k for every entry.
        let block = |j0: usize, mut gb: faer::MatMut<'_, f64>| {
            let j1 = j0 + gb.ncols();
            for col in &cols {
                let lo = col.partition_point(|e| e.1 < j0);
                let hi = col.partition_point(|e| e.1 < j1);
                for (q, &(_, j, vj)) in col.iter().enumerate().take(hi).skip(lo) {
                    for &(_, i, vi) in &col[..=q] {
                        gb[(i, j - j0)] += vi * vj;
                    }
                }
            }
        };
        let threads = par.degree();
        if threads > 1 && n >= 256 {
            // Blocks of ~n/(8·threads) columns: the later ones hold more of the triangle, and
            // rayon hands out the blocks as threads free up.
            use rayon::prelude::*;
            column_blocks(g.as_mut(), n.div_ceil(8 * threads).max(32))
                .into_par_iter()
                .for_each(|(j0, gb)| block(j0, gb));
        } else {
            block(0, g.as_mut());
        }
        for j in 0..n {
            for i in (j + 1)..n {
                g[(i, j)] = g[(j, i)];
            }
        }
        Ok(g)
    }

    /// `‖aᵢ − aⱼ‖²`, merging the two rows' sorted column indices.
    fn dist2(&self, i: usize, j: usize) -> f64 {
        let ((ia, va), (ib, vb)) = (self.row(i), self.row(j));
        let (mut p, mut q, mut s) = (0usize, 0usize, 0.0f64);
        while p < ia.len() || q < ib.len() {
            let diff = match (ia.get(p), ib.get(q)) {
                (Some(&x), Some(&y)) if x == y => {
                    p += 1;
                    q += 1;
                    va[p - 1] - vb[q - 1]
                }
                (Some(&x), Some(&y)) if x > y => {
                    q += 1;
                    -vb[q - 1]
                }
                (Some(_), _) => {
                    p += 1;
                    va[p - 1]
                }
                (None, _) => {
                    q += 1;
                    -vb[q - 1]
                }
            };
            s += diff * diff;
        }
        s
    }
}

impl<'a> KernelRows<'a> {
    /// A sparse `A` is read as such unless its dense copy is no larger than `G` (`d ≤ n`) and
    /// the sparse Gram's `Σ_k nnz(A_{:,k})²/2` scalar products would cost more than an eighth
    /// of the GEMM's `n²·d` (a 4000 × 64 `A` stored sparse but full: the sparse Gram made the
    /// solve 4× slower); then it is copied densely, as before.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when a CSC `A`'s rows cannot be allocated.
    fn new(a: MatrixRef<'a, f64>, par: Par) -> Result<Self> {
        Ok(match a {
            MatrixRef::Dense(_) => KernelRows::Dense(a),
            MatrixRef::Sparse(s)
                if s.ncols() <= s.nrows() && {
                    let mut counts = vec![0u128; s.ncols()];
                    for k in 0..s.outer_dim() {
                        let idx = s.outer(k).0;
                        match s.layout() {
                            crate::Layout::Csr => idx.iter().for_each(|&j| counts[j] += 1),
                            crate::Layout::Csc => counts[k] = idx.len() as u128,
                        }
                    }
                    let sparse: u128 = counts.iter().map(|c| c * c).sum();
                    let (n, d) = (s.nrows() as u128, s.ncols() as u128);
                    4 * sparse > n * n * d
                } =>
            {
                KernelRows::Dense(a)
            }
            MatrixRef::Sparse(s) => KernelRows::Sparse(match s.layout() {
                crate::Layout::Csr => {
                    let (indptr, indices, data) = s.raw_parts();
                    SparseRows {
                        indptr: indptr.into(),
                        base: indptr[0],
                        indices: indices.into(),
                        data: data.into(),
                    }
                }
                crate::Layout::Csc => {
                    // The CSC form of A is the CSR form of Aᵀ; its transpose is the CSR form
                    // of A (row pointers: n + 1 of them).
                    let (indptr, indices, data) =
                        crate::sketch::transpose_compressed(&s.transpose(), par, |i| i)?;
                    SparseRows {
                        indptr: indptr.into(),
                        base: 0,
                        indices: indices.into(),
                        data: data.into(),
                    }
                }
            }),
        })
    }

    /// `‖aᵢ‖²` for each row (not scale-safe: a square that overflows gives `∞`, which P3
    /// refuses anyway), summed in the order of [`DataOp::row_norms_sq`].
    fn row_norms_sq(&self, par: Par) -> Result<Vec<f64>> {
        Ok(match self {
            KernelRows::Dense(a) => DataOp::new(*a, par)?.row_norms_sq(),
            KernelRows::Sparse(s) => (0..s.indptr.len() - 1)
                .map(|i| s.row(i).1.iter().map(|v| v * v).sum())
                .collect(),
        })
    }
}

/// `(i, j) ↦ ‖aᵢ − aⱼ‖²`.
type Dist2<'r> = dyn FnMut(usize, usize) -> f64 + 'r;

/// The Gaussian kernel matrix `G_ij = e^{−‖aᵢ − aⱼ‖²/2}` of the rows of `A`, given
/// `sq[i] = ‖aᵢ‖²`.
///
/// The exponent is formed as `⟨aᵢ,aⱼ⟩ − ½‖aᵢ‖² − ½‖aⱼ‖²` from `AAᵀ` (one GEMM for a dense `A`;
/// [`SparseRows::gram`] for a sparse one), whose absolute error is about
/// `√d·u·(‖aᵢ‖² + ‖aⱼ‖²)` (`d·u` at worst). Where `u·(‖aᵢ‖² + ‖aⱼ‖²)` is more than `2⁻²⁶`
/// of the exponent's size (near-duplicate rows, for which `1 − G_ij ≈ ½‖aᵢ − aⱼ‖²` sets `G`'s
/// smallest eigenvalues) the exponent is recomputed from `aᵢ − aⱼ` directly, with relative error
/// about `d·u`. The margin is a heuristic: pairs just outside it keep a relative error in their
/// exponent of about `√d·2⁻²⁶` (10⁻⁷ at `d` = 100), against up to 100 % for the pairs inside it
/// before this recomputation. Rounding can make a Gram-formed exponent positive; it is clamped
/// to 0.
///
/// # Errors
/// [`Error::TooLarge`] when `G` or the dense copy of a dense `A` cannot be allocated.
///
/// # Performance
/// Dense `A`: `O(n²·d)` flops by GEMM on a copy of `A`; sparse `A`: as [`SparseRows::gram`].
/// Plus `O(d)` (sparse: `O(nnz(aᵢ) + nnz(aⱼ))`) per near-duplicate pair, and `n²` exponentials
/// (in parallel column blocks on the threads of `par` for `n ≥ 256`: the same bits).
fn gaussian_kernel(rows: &KernelRows<'_>, sq: &[f64], par: Par) -> Result<Mat<f64>> {
    let n = sq.len();
    // `‖aᵢ − aⱼ‖²` computed directly; for a dense `A` from its rows, copied contiguously on the
    // first near-duplicate pair.
    let (mut g, mut dist2): (Mat<f64>, Box<Dist2<'_>>) = match rows {
        KernelRows::Dense(a) => {
            let a = a.to_dense()?;
            let mut g = zeros_or_too_large::<f64>(n, n, "kernel matrix of P3")?;
            faer::linalg::matmul::matmul(
                g.as_mut(),
                faer::Accum::Replace,
                a.as_ref(),
                a.transpose(),
                1.0,
                crate::dense::par_for_result(par, n, n),
            );
            let mut t: Option<Mat<f64>> = None;
            let dist2 = move |i: usize, j: usize| -> f64 {
                let t = t.get_or_insert_with(|| a.transpose().to_owned());
                t.col(i)
                    .iter()
                    .zip(t.col(j).iter())
                    .map(|(p, q)| (p - q) * (p - q))
                    .sum()
            };
            (g, Box::new(dist2))
        }
        KernelRows::Sparse(s) => (s.gram(n, par)?, Box::new(|i, j| s.dist2(i, j))),
    };
    let margin = f64::EPSILON * (1u64 << 26) as f64;
    // Columns `jj0..` of G from the Gram entries. The near-duplicate pairs, whose difference of
    // Gram entries has lost the distance to cancellation, are marked NaN (no other entry can be:
    // `A` and `sq` are finite) and left for `dist2`; returned, the columns holding any.
    let fill = |jj0: usize, mut gb: faer::MatMut<'_, f64>| -> Vec<usize> {
        // The GEMM above ran on these threads: without this the loop took 2.7× as long.
        crate::cpu::clear_upper_vector_state();
        let mut marked = Vec::new();
        for c in 0..gb.ncols() {
            let jj = jj0 + c;
            let mut any = false;
            for i in 0..n {
                let e = gb[(i, c)] - 0.5 * sq[i] - 0.5 * sq[jj];
                gb[(i, c)] = if i == jj {
                    1.0
                } else if -e <= margin * (sq[i] + sq[jj]) {
                    any = true;
                    f64::NAN
                } else {
                    e.min(0.0).exp()
                };
            }
            if any {
                marked.push(jj);
            }
        }
        marked
    };
    let marked: Vec<usize> = if par.degree() > 1 && n >= 256 {
        use rayon::prelude::*;
        column_blocks(g.as_mut(), n.div_ceil(8 * par.degree()).max(32))
            .into_par_iter()
            .flat_map_iter(|(jj0, gb)| fill(jj0, gb))
            .collect()
    } else {
        fill(0, g.as_mut())
    };
    for jj in marked {
        for i in 0..n {
            if g[(i, jj)].is_nan() {
                g[(i, jj)] = (-0.5 * dist2(i, jj)).min(0.0).exp();
            }
        }
    }
    Ok(g)
}

/// `g` split into blocks of `width ≥ 1` columns (the last may be narrower), each with the index
/// of its first column: the tasks of the parallel loops that fill P3's `n × n` matrices.
fn column_blocks(g: faer::MatMut<'_, f64>, width: usize) -> Vec<(usize, faer::MatMut<'_, f64>)> {
    let width = width.max(1);
    let mut blocks = Vec::with_capacity(g.ncols().div_ceil(width));
    let mut rest = g;
    let mut j0 = 0;
    while rest.ncols() > 0 {
        let w = width.min(rest.ncols());
        let (head, tail) = rest.split_at_col_mut(w);
        blocks.push((j0, head));
        j0 += w;
        rest = tail;
    }
    blocks
}

/// Randomized Nyström approximation `G ≈ U Λ Uᵀ` of an SPD matrix from a Gaussian sketch, and
/// the preconditioner `P⁻¹ = U·diag((λ_ℓ)/(λᵢ))·Uᵀ + (I − UUᵀ)` (Frangella–Tropp–Udell with
/// `μ = 0`, floored at `λ_ℓ > 0`).
struct Nystrom {
    u: Mat<f64>,
    scale: Vec<f64>,
}

impl Nystrom {
    /// # Errors
    /// [`Error::TooLarge`] when its work arrays cannot be allocated; [`Error::Factorization`]
    /// when the core or the SVD fails.
    fn new(g: MatRef<'_, f64>, ell: usize, seed: crate::Seed, par: Par) -> Result<Self> {
        let n = g.nrows();
        // Live at the peak: Ω, GΩ, GΩ + νΩ, B and its transpose and the SVD's U (n × ℓ each),
        // the core twice, its factor and the SVD's V (ℓ × ℓ each), and the SVD's workspace,
        // all from faer's constructors, which panic when an allocation fails (n = 3000 at
        // `nystrom_rank = 3000` under a 512 MiB address limit did). Asked for at once.
        let (nn, ll) = (n as u128, ell as u128);
        let peak = 7 * nn * ll + 5 * ll * ll;
        crate::input::ensure_allocatable::<f64>(
            usize::try_from(peak).ok(),
            || format!("the work arrays of the rank-{ell} Nyström preconditioner of P3 (n = {n})"),
            peak,
        )?;
        let s = Gaussian::new(ell, n, seed).map_err(|e| e.renamed("m", "nystrom_rank"))?;
        let omega = SketchOperator::<f64>::to_dense(&s)?.transpose().to_owned(); // n × ℓ
        let y = crate::dense::product(g, omega.as_ref()); // G Ω
        let nu = f64::EPSILON * y.norm_l2();
        let y_nu = &y + faer::Scale(nu) * &omega;
        let core = crate::dense::product(omega.transpose(), y_nu.as_ref()); // ℓ × ℓ, SPD up to rounding
        let core = Mat::from_fn(ell, ell, |i, j| 0.5 * (core[(i, j)] + core[(j, i)]));
        let llt = core
            .llt(faer::Side::Lower)
            .map_err(|e| Error::Factorization {
                reason: format!("Nyström core ΩᵀGΩ is not positive definite: {e:?}"),
            })?;
        // B = Y_ν L⁻ᵀ.
        let mut bt = y_nu.transpose().to_owned();
        let par = crate::dense::par_for_result(par, bt.nrows(), bt.ncols());
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(llt.L(), bt.as_mut(), par);
        let b = bt.transpose().to_owned();
        let svd = crate::dense::thin_svd(b.as_ref()).map_err(|e| Error::Factorization {
            reason: format!("SVD in the Nyström preconditioner: {e:?}"),
        })?;
        let sv = &svd.s;
        let lam: Vec<f64> = (0..ell).map(|i| (sv[i] * sv[i] - nu).max(0.0)).collect();
        let floor = lam.iter().rev().copied().find(|&l| l > 0.0).unwrap_or(1.0);
        let scale: Vec<f64> = lam.iter().map(|&l| floor / l.max(floor)).collect();
        Ok(Nystrom { u: svd.u, scale })
    }

    fn apply_inverse(&self, r: &[f64], out: &mut [f64]) {
        let rv = MatRef::from_column_major_slice(r, r.len(), 1);
        let c = crate::dense::product(self.u.transpose(), rv);
        let adj = Mat::from_fn(c.nrows(), 1, |i, _| c[(i, 0)] * (self.scale[i] - 1.0));
        let corr = crate::dense::product(self.u.as_ref(), adj.as_ref());
        for (i, o) in out.iter_mut().enumerate() {
            *o = r[i] + corr[(i, 0)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P2's reported residual reuses the refinement's last `(AᵀA)ʲx` and is the bits of
    /// `‖b − A·(AᵀA)ʲx‖` recomputed from the returned `x` with two fresh products (the code
    /// before the reuse), on both routes, CSR and dense, 1 and 2 threads.
    #[test]
    fn p2_residual_is_recomputed_bit_for_bit_from_x() {
        let (n, d, j) = (300, 8, 2);
        let a = crate::problems::random_sparse(n, d, 3, crate::Seed::new(4)).unwrap();
        let dense = a.to_dense();
        let dense = Mat::from_fn(n, d, |i, k| dense[[i, k]]);
        let b: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) as f64).sin()).collect();
        for route in [InnerSolve::Auto, InnerSolve::Cg] {
            for par in [Par::Seq, Par::rayon(2)] {
                for view in [
                    MatrixRef::sparse(&a).unwrap(),
                    MatrixRef::dense(dense.as_ref()).unwrap(),
                ] {
                    let mut params = KernelParams {
                        inner_solve: route,
                        ..Default::default()
                    };
                    params.lstsq.par = par;
                    let (x, info) = solve_p2(view, j, &b, &params).unwrap();
                    let op = DataOp::new(view, par).unwrap();
                    let mut t = vec![0.0; n];
                    op.apply(&gram_power(&op, j, &x), &mut t);
                    let rn = norm2(&b.iter().zip(&t).map(|(p, q)| p - q).collect::<Vec<_>>());
                    assert_eq!(
                        info.residual_norm.to_bits(),
                        rn.to_bits(),
                        "{route:?} {par:?}"
                    );
                }
            }
        }
    }

    /// `Auto` tries P3's Cholesky route up to `n = 8192` and not beyond (the integration tests
    /// exercise both sides of the route at `n ≤ 4097`; a kernel matrix of 8193² entries is too
    /// large for them).
    #[test]
    fn auto_factors_p3_up_to_8192_rows() {
        assert!(auto_factors_p3(1) && auto_factors_p3(4097) && auto_factors_p3(8192));
        assert!(!auto_factors_p3(8193) && !auto_factors_p3(16384));
    }

    /// Preconditioned CG against its textbook bound. The operator is `M = diag(λᵢ·cᵢ)` with `λᵢ`
    /// spread evenly over `[1, κ]` (κ = 400) and `cᵢ` over `10^{±6}`; the preconditioner is
    /// `diag(1/cᵢ)` (and, in the unpreconditioned case, `cᵢ = 1` with the identity), so the
    /// preconditioned operator has condition number κ whatever `cᵢ` is. CG reduces the `M`-norm
    /// error by `2ρᵏ`, `ρ = (√κ − 1)/(√κ + 1)`, and the 2-norm residual it stops on by at most
    /// `√κ(M)·2ρᵏ`, so reaching `‖r‖ ≤ ε‖b‖` takes at most `⌈ln(2√κ(M)/ε)/ln(1/ρ)⌉` iterations
    /// (267 unpreconditioned, 405 preconditioned, for ε = 10⁻¹⁰; measured: 126 and 138).
    /// Steepest descent (CG without `β`) needs about `(κ/2)·ln(2√κ(M)/ε)` (≈ 5000), and CG that
    /// ignored the preconditioner would face κ(M) = 4·10¹⁴. The returned iterate's true residual
    /// `b − Mx` must meet the target up to the drift of the recurrence residual, which on a
    /// diagonal operator is a few units of rounding per iteration (10⁻³ε allowed).
    #[test]
    fn pcg_meets_the_conjugate_gradient_bound() {
        let (n, kappa, eps) = (400usize, 400.0f64, 1e-10);
        let lam: Vec<f64> = (0..n)
            .map(|i| 1.0 + (kappa - 1.0) * i as f64 / (n - 1) as f64)
            .collect();
        let spread: Vec<f64> = (0..n)
            .map(|i| 10f64.powi(((i * 7919) % 13) as i32 - 6))
            .collect();
        let b: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let bn = norm2(&b);
        for preconditioned in [false, true] {
            let c: Vec<f64> = if preconditioned {
                spread.clone()
            } else {
                vec![1.0; n]
            };
            let m: Vec<f64> = lam.iter().zip(&c).map(|(l, ci)| l * ci).collect();
            let apply = |v: &[f64], out: &mut [f64]| {
                for ((o, vi), mi) in out.iter_mut().zip(v).zip(&m) {
                    *o = mi * vi;
                }
            };
            let precond = |r: &[f64], out: &mut [f64]| {
                for ((o, ri), ci) in out.iter_mut().zip(r).zip(&c) {
                    *o = ri / ci;
                }
            };
            let kappa_m = m.iter().cloned().fold(0.0, f64::max)
                / m.iter().cloned().fold(f64::INFINITY, f64::min);
            let rho = (kappa.sqrt() - 1.0) / (kappa.sqrt() + 1.0);
            let bound = ((2.0 * kappa_m.sqrt() / eps).ln() / (1.0 / rho).ln()).ceil() as usize;
            let run = pcg(
                &apply,
                &precond,
                &b,
                &|r: &[f64]| norm2(r),
                eps * bn,
                100_000,
            )
            .unwrap();
            assert!(
                run.iterations <= bound,
                "preconditioned = {preconditioned}: {} iterations, bound {bound}",
                run.iterations
            );
            let mut mx = vec![0.0; n];
            apply(&run.x, &mut mx);
            let res = norm2(&b.iter().zip(&mx).map(|(p, q)| p - q).collect::<Vec<_>>());
            assert!(
                res <= 1.001 * eps * bn,
                "preconditioned = {preconditioned}: true residual {:e}",
                res / bn
            );
        }
    }

    /// Near-duplicate rows far from the origin: `aᵢ[k] = c_k + δ·[k ∈ Oᵢ]` with
    /// `c_k = 8 + k/10` (`‖c‖² ≈ 1150`, so the Gram form's exponent carries an error of about
    /// `u·2300 ≈ 5·10⁻¹³`) and `δ = 2⁻¹⁴`. The differences of stored rows are exact in floating
    /// point (Sterbenz), so `x = ½‖aᵢ − aⱼ‖²` (about 2·10⁻⁹) is known to a relative `d·u`.
    /// `1 − G_ij` must equal `1 − e^{−x}` to within the spacing of doubles near 1 (`4u`
    /// allowed); through the Gram matrix alone the error is about 10⁻¹³.
    #[test]
    fn near_duplicate_rows_keep_their_distance() {
        let d = 16;
        let delta = 2f64.powi(-14);
        let offsets: [&[usize]; 4] = [&[], &[0], &[0, 1], &[2, 3, 5]];
        let a = Mat::from_fn(offsets.len(), d, |i, k| {
            let c = 8.0 + k as f64 / 10.0;
            c + if offsets[i].contains(&k) { delta } else { 0.0 }
        });
        let sq: Vec<f64> = (0..a.nrows())
            .map(|i| (0..d).map(|k| a[(i, k)] * a[(i, k)]).sum())
            .collect();
        let g = gaussian_kernel(
            &KernelRows::Dense(MatrixRef::dense(a.as_ref()).unwrap()),
            &sq,
            Par::Seq,
        )
        .unwrap();
        for i in 0..a.nrows() {
            assert_eq!(g[(i, i)], 1.0);
            for j in 0..a.nrows() {
                if i == j {
                    continue;
                }
                let x: f64 = (0..d).map(|k| (a[(i, k)] - a[(j, k)]).powi(2)).sum::<f64>() / 2.0;
                assert!(x > 0.0 && x < 1e-8);
                let exact = -(-x).exp_m1();
                let err = ((1.0 - g[(i, j)]) - exact).abs();
                assert!(
                    err <= 4.0 * f64::EPSILON,
                    "G[{i},{j}]: 1 − G = {:e}, exact {exact:e}, error {err:e}",
                    1.0 - g[(i, j)]
                );
            }
        }
    }

    /// The near-duplicate recomputation of [`near_duplicate_rows_keep_their_distance`] in
    /// [`gaussian_kernel`]'s parallel column blocks (`n = 300 ≥ 256`): 75 groups of the four
    /// near-duplicate rows, group `q` shifted by `q/4` in every coordinate (so rows of different
    /// groups are far apart). Every near pair keeps `1 − G_ij` within `4u` of `1 − e^{−x}`, and
    /// `G` has the same bits on one, two and three threads.
    #[test]
    fn near_duplicate_rows_keep_their_distance_in_parallel_blocks() {
        let d = 16;
        let delta = 2f64.powi(-14);
        let offsets: [&[usize]; 4] = [&[], &[0], &[0, 1], &[2, 3, 5]];
        let n = 300;
        let a = Mat::from_fn(n, d, |i, k| {
            let c = 8.0 + k as f64 / 10.0 + (i / 4) as f64 / 4.0;
            c + if offsets[i % 4].contains(&k) {
                delta
            } else {
                0.0
            }
        });
        let sq: Vec<f64> = (0..n)
            .map(|i| (0..d).map(|k| a[(i, k)] * a[(i, k)]).sum())
            .collect();
        let rows = KernelRows::Dense(MatrixRef::dense(a.as_ref()).unwrap());
        let g = gaussian_kernel(&rows, &sq, Par::Seq).unwrap();
        for t in [2, 3] {
            let gt = gaussian_kernel(&rows, &sq, Par::rayon(t)).unwrap();
            for j in 0..n {
                for i in 0..n {
                    assert_eq!(gt[(i, j)].to_bits(), g[(i, j)].to_bits(), "{t} threads");
                }
            }
        }
        for j in 0..n {
            for i in 0..n {
                assert!(
                    (0.0..=1.0).contains(&g[(i, j)]),
                    "G[{i},{j}] = {}",
                    g[(i, j)]
                );
                if i == j || i / 4 != j / 4 {
                    continue;
                }
                let x: f64 = (0..d).map(|k| (a[(i, k)] - a[(j, k)]).powi(2)).sum::<f64>() / 2.0;
                let exact = -(-x).exp_m1();
                let err = ((1.0 - g[(i, j)]) - exact).abs();
                assert!(err <= 4.0 * f64::EPSILON, "G[{i},{j}]: error {err:e}");
            }
        }
    }
}
