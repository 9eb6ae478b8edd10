//! LSQR (Paige and Saunders, 1982), written for this crate.
//!
//! LSQR solves `min ‖M·z − c‖² + damp²·‖z‖²` by the Golub–Kahan bidiagonalization of `M` started
//! from `c`: after `k` steps `M·V_k = U_{k+1}·B_k` with `B_k` lower bidiagonal (`α` on the
//! diagonal, `β` below), and `z_k = V_k·y_k` where `y_k` solves the small problem
//! `min ‖B_k·y − β₁e₁‖` (plus the damping) by Givens rotations. It is mathematically CG on the
//! normal equations but numerically more reliable; its error decreases at least like
//! `2·((κ−1)/(κ+1))^k` with `κ = κ(M)`, so it is fast exactly when `M` is well conditioned — which
//! is what a sketched preconditioner buys.
//!
//! # Stopping rule
//! With `r_k = c − M·z_k` (augmented by `−damp·z_k` when damped) LSQR's recurrences give
//! `‖r_k‖` and `‖Mᵀr_k‖` for free. The run stops as converged when either
//! - `‖Mᵀr_k‖ / (‖M‖·‖r_k‖) ≤ tol` (the normal-equation residual: a backward-error estimate for
//!   least squares), where `‖M‖₂` is estimated from below by the largest column norm of `B_k`
//!   seen so far (so the test is conservative; sketch-and-precondition passes a smaller
//!   tolerance for this test alone when a ridge far above `‖A‖²` makes it lax), or
//! - `‖r_k‖ ≤ tol·‖b‖` (the system is consistent to the tolerance; `‖b‖` is the right-hand
//!   side of the whole problem, passed in so that refinement runs keep the original scale).
//!
//! # References
//! C. C. Paige and M. A. Saunders, "LSQR: An algorithm for sparse linear equations and sparse least
//! squares", ACM TOMS 8(1), 1982.

use super::ops::{
    at_most_times, axpy, exponent, mul_pow2, norm2, norm_of, quotient, rescale_for, LinOp, SumSq,
};
use super::IterState;
use crate::error::Result;
use std::ops::ControlFlow;

/// Settings of one LSQR run.
pub(crate) struct LsqrRun {
    /// Tolerance of the consistency test `‖r‖ ≤ tol·‖b‖`.
    pub tol: f64,
    /// Tolerance of the normal-equation test `‖Mᵀr‖/(‖M‖‖r‖) ≤ ne_tol`: `tol`, except for a
    /// ridge far above `‖A‖²`, where sketch-and-precondition tightens it (see
    /// `precondition::structured_tol`).
    pub ne_tol: f64,
    pub max_iters: usize,
    pub damp: f64,
    /// A known lower estimate of `‖M‖₂` (from an earlier run on the same operator), or 0.
    pub anorm_hint: f64,
    /// The size of `‖M‖₂` known before any product, or 0: 1 for an operator preconditioned by a
    /// sketch (`M = AN` with `SAN` of orthonormal columns, so `‖M‖ ≈ 1`). Only the scaling of
    /// the products uses it (exact powers of two, which change no bits unless a product would
    /// otherwise leave the range), never the stopping test.
    pub scale_hint: f64,
    /// `‖b‖` of the whole problem (the scale of the consistency test).
    pub bnorm: f64,
    /// Index of this run (0 = first solve, 1.. = refinement), reported to the callback.
    pub run: usize,
    /// Iterations done by earlier runs (so the callback sees a global count).
    pub offset: usize,
}

/// What one LSQR run produced.
pub(crate) struct LsqrOutcome {
    pub z: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
    pub stopped_by_callback: bool,
    /// The final value of the normal-equation test (or of the consistency test when that
    /// stopped the run, expressed as `‖r‖/‖b‖`).
    pub test_value: f64,
    pub anorm: f64,
    /// Diagonal (`α₁..α_k`) and subdiagonal (`β₂..β_{k+1}`) of `B_k`.
    pub alphas: Vec<f64>,
    pub betas: Vec<f64>,
}

/// Per-iteration history: LSQR's estimates of `‖r‖` and of the normal-equation residual.
#[derive(Default)]
pub(crate) struct History {
    pub residual: Vec<f64>,
    pub normal_eq: Vec<f64>,
}

/// Callback type used by the solvers.
pub(crate) type Callback<'c> = Option<&'c mut dyn FnMut(&IterState) -> ControlFlow<()>>;

fn scale(x: &mut [f64], s: f64) {
    x.iter_mut().for_each(|v| *v *= s);
}

/// `x ← x/norm` as `x·(1/norm)` (the bits LSQR always had), except where `1/norm` overflows
/// (`norm` below 2⁻¹⁰²⁴): there `x` and `norm` are first scaled up by the same power of two,
/// which is exact (`|xᵢ| ≤ norm`, so every entry is subnormal or small and moves up exactly).
fn normalize_by(x: &mut [f64], norm: f64) {
    let inv = 1.0 / norm;
    if inv.is_finite() {
        scale(x, inv);
    } else {
        let k = -exponent(norm);
        x.iter_mut().for_each(|v| *v = mul_pow2(*v, k));
        scale(x, 1.0 / mul_pow2(norm, k));
    }
}

/// Checks that an LSQR run on `op` can allocate its work vectors: `u` (length `nrows`), `z`,
/// `v`, `w` and `Mᵀu` (length `ncols` each), and the scratch of the operator's products, all live
/// at once. A sparse operator declares its dimensions without storing them, and `vec!` aborts
/// on allocation failure (a 3 × 10⁸ file with one entry asked for 800 MB per vector and aborted
/// under a 4 GB address-space limit); the allocator is asked first for the whole peak, plus an
/// eighth for what the allocator itself maps (per-thread arenas, one mapping per large vector):
/// a probe of exactly the 4.0 GB peak passed under that 4.096 GB limit, and the vectors then
/// did not fit.
///
/// # Errors
/// [`Error::TooLarge`](crate::Error::TooLarge) when it refuses.
pub(crate) fn ensure_workspace(op: &dyn LinOp) -> Result<()> {
    let (n, d) = (op.nrows() as u128, op.ncols() as u128);
    let peak = n + 4 * d + op.product_scratch();
    let peak = peak + peak / 8;
    crate::input::ensure_allocatable::<f64>(
        usize::try_from(peak).ok(),
        || format!("the LSQR workspace for a {n}×{d} operator"),
        peak,
    )
}

/// Runs LSQR on `min ‖op·z − c‖² + damp²‖z‖²` from `z = 0`.
pub(crate) fn lsqr_run(
    op: &dyn LinOp,
    c: &[f64],
    cfg: &LsqrRun,
    hist: &mut History,
    cb: &mut Callback<'_>,
) -> LsqrOutcome {
    lsqr_run_from(op, c, None, cfg, hist, cb)
}

/// [`lsqr_run`] given `opᵀ·c` when the caller computed it already (in the same pass over the
/// data as `c` itself), which saves one product with `opᵀ`.
pub(crate) fn lsqr_run_from(
    op: &dyn LinOp,
    c: &[f64],
    op_t_c: Option<Vec<f64>>,
    cfg: &LsqrRun,
    hist: &mut History,
    cb: &mut Callback<'_>,
) -> LsqrOutcome {
    let nc = op.ncols();
    let mut z = vec![0.0; nc];
    let mut u = c.to_vec();
    let mut beta = norm2(&u);
    let mut v = vec![0.0; nc];
    let mut alpha = 0.0;
    if beta > 0.0 {
        normalize_by(&mut u, beta);
        // The caller's Mᵀc has the size ‖M‖·‖c‖, which can under- or overflow although
        // Mᵀ(c/‖c‖) is in range (‖M‖ = 2⁻⁵²⁰ with ‖c‖ = 2⁻⁶⁶⁰: every entry 0, read as "Mᵀc = 0,
        // converged" by sketch-and-precondition); then it is recomputed from the normalized u.
        let usable = |w: &[f64]| {
            let nw = norm2(w);
            nw.is_finite() && nw > 0.0 && exponent(nw) > -960
        };
        match op_t_c {
            Some(w) if w.len() == nc && usable(&w) => {
                v = w;
                normalize_by(&mut v, beta);
            }
            _ => op.apply_t(&u, &mut v),
        }
        alpha = norm2(&v);
    }
    let mut out = LsqrOutcome {
        z: Vec::new(),
        iterations: 0,
        converged: false,
        stopped_by_callback: false,
        test_value: 0.0,
        anorm: cfg.anorm_hint,
        alphas: Vec::new(),
        betas: Vec::new(),
    };
    // Every scalar recurrence below is scale-safe: the norms are sums of squares kept in range
    // by exact powers of two (`norm_of`, `SumSq`), the stopping test is a quotient with its
    // exponents taken out, and the fused product is scaled by a power of two when ‖M‖ is far
    // from 1. So a run on (2ᵏ·M, 2ʲ·c) does what the run on (M, c) does, with every quantity
    // scaled by its power of two, for any k, j that keep the data and the solution finite; and
    // on data of ordinary size every value is bitwise what the naive formulas gave. (Naively,
    // ‖c‖ ≈ 10⁻²⁰⁰ made `φ̄²` underflow, so the first iteration reported ‖r‖ = 0 and
    // "converged"; ‖M‖ ≈ 10¹⁶⁰ made `α²` overflow, so ‖M‖ = ∞ and x = 0 "converged" at once.)
    let mut anorm = cfg.anorm_hint.max(norm_of(&[alpha, cfg.damp]));
    // Finite data whose products overflow (entries near f64::MAX): not converged, x unchanged,
    // never a NaN norm read as zero and reported as an exact solution.
    if !(alpha.is_finite() && beta.is_finite()) {
        out.z = z;
        out.test_value = f64::NAN;
        return out;
    }
    // Exact solution at the start: c = 0, or Mᵀc = 0 (c orthogonal to the range).
    if beta == 0.0 || alpha == 0.0 || at_most_times(beta, cfg.tol, cfg.bnorm) {
        // The value of the test that stopped it: ‖Mᵀc‖ = 0 makes the normal-equation test 0;
        // otherwise the consistency test ‖c‖/‖b‖ (`bnorm > 0` here, as β ≤ tol·‖b‖ with β > 0).
        out.test_value = if beta == 0.0 || alpha == 0.0 {
            0.0
        } else {
            beta / cfg.bnorm
        };
        out.z = z;
        out.converged = true;
        out.anorm = anorm;
        return out;
    }
    let test0 = alpha / anorm;
    // With damping (the unpreconditioned ridge baseline, always from x = 0) the test at x = 0
    // is no answer: ‖Mᵀc‖ ≤ tol·√(‖M‖² + λ)·‖c‖ holds for every λ ≳ (‖Mᵀc‖/(tol·‖c‖))², where
    // the solution ≈ Mᵀc/λ is not 0. One iteration finds it (SciPy's lsqr iterates once too);
    // `x = 0` was returned as converged with a forward error of 100 % for λ ≥ 10⁵⁰.
    if test0 <= cfg.ne_tol && cfg.damp == 0.0 {
        out.z = z;
        out.converged = true;
        out.test_value = test0;
        out.anorm = anorm;
        return out;
    }
    normalize_by(&mut v, alpha);
    let mut w = v.clone();
    let mut phibar = beta;
    let mut rhobar = alpha;
    // Σ ψᵢ², the part of ‖r‖² the damping has rotated out of φ̄.
    let mut res2 = SumSq::ZERO;
    let mut tmp_v = vec![0.0; nc];
    let mut test = test0;
    for k in 0..cfg.max_iters {
        out.alphas.push(alpha);
        // Bidiagonalization: β u = M v − α u, α v = Mᵀu − β v (one fused pass over M's data;
        // Mᵀ is applied to the unnormalized u and the result scaled by 1/β).
        // With ‖M‖ far from 1 the new u is scaled by a power of two `sc ≈ 1/‖M‖` inside the
        // pass, so that Mᵀu (of size ‖M‖² otherwise) stays in range; the scaling is exact and
        // cancels below (u/‖u‖ and (Mᵀu)/‖u‖ do not depend on it); sc = 1 for ordinary sizes.
        // `anorm` alone is a poor guide at the start of a run from a good warm start: it is then
        // `α = ‖Mᵀu‖`, a normal-equation residual far below `‖M‖` (ridge `λ = 10³⁰⁸` with
        // `‖A‖ = 1`: `α ≈ 4·10⁻¹⁵⁶` against `‖M‖ ≈ 1`), and `u` scaled by `1/α` overflowed
        // inside the pass (`√λ·u`, before `Nᵀ` brings it back).
        let sc = rescale_for(anorm.max(cfg.scale_hint));
        op.apply_fused_scaled(&v, alpha, sc, &mut u, &mut tmp_v);
        let beta_sc = norm2(&u);
        beta = beta_sc / sc;
        out.betas.push(beta);
        anorm = anorm.max(norm_of(&[alpha, beta, cfg.damp]));
        if beta > 0.0 {
            normalize_by(&mut u, beta_sc);
            if beta_sc.is_finite() && tmp_v.iter().any(|t| !t.is_finite()) {
                // `Mᵀu` overflowed inside the pass while `u` did not: `sc` was chosen for an
                // `anorm` far below `‖M‖`. At the first step `anorm` is only `α₁ = ‖Mᵀc‖/‖c‖`,
                // tiny when `c` is nearly orthogonal to the range (`M = 2⁵²⁰·[I; 0]` with
                // `α₁ ≈ 2⁻¹³`: `Mᵀu ≈ 2¹⁰⁴⁰`). `Mᵀ(u/‖u‖)` is at most `‖M‖`, so it is formed
                // again from the normalized `u`: one more product, on this path only.
                op.apply_t(&u, &mut tmp_v);
                for (vi, ti) in v.iter_mut().zip(&tmp_v) {
                    *vi = ti - beta * *vi;
                }
            } else {
                for (vi, ti) in v.iter_mut().zip(&tmp_v) {
                    *vi = ti / beta_sc - beta * *vi;
                }
            }
            alpha = norm2(&v);
            if alpha > 0.0 {
                normalize_by(&mut v, alpha);
            }
        } else {
            alpha = 0.0;
        }
        if !(alpha.is_finite() && beta.is_finite()) {
            test = f64::NAN;
            break;
        }
        // Eliminate the damping, then the subdiagonal β, by plane rotations.
        let rhobar1 = rhobar.hypot(cfg.damp);
        let (c1, s1) = (rhobar / rhobar1, cfg.damp / rhobar1);
        let psi = s1 * phibar;
        phibar *= c1;
        let rho = rhobar1.hypot(beta);
        let (cs, sn) = (rhobar1 / rho, beta / rho);
        let theta = sn * alpha;
        rhobar = -cs * alpha;
        let phi = cs * phibar;
        phibar *= sn;
        axpy(phi / rho, &w, &mut z);
        for (wi, vi) in w.iter_mut().zip(&v) {
            *wi = vi - (theta / rho) * *wi;
        }
        res2.add(psi);
        // ‖r‖ = √(φ̄² + Σψ²) (added in that order: the bits of the naive sum where it is safe).
        let rnorm = {
            let mut t = res2;
            t.add(phibar);
            t.sqrt()
        };
        // ‖Mᵀr‖/(‖M‖‖r‖) with ‖Mᵀr‖ = α·|s·φ|: of sizes 2ᵏ⁺ʲ over 2ᵏ·2ʲ under scaling.
        test = if rnorm > 0.0 {
            quotient(alpha, (sn * phi).abs(), anorm, rnorm)
        } else {
            0.0
        };
        let consistent = at_most_times(rnorm, cfg.tol, cfg.bnorm);
        out.iterations = k + 1;
        hist.residual.push(rnorm);
        hist.normal_eq.push(test);
        if let Some(f) = cb.as_mut() {
            let state = IterState {
                run: cfg.run,
                probe: false,
                iteration: cfg.offset + k + 1,
                residual_norm: rnorm,
                normal_eq_residual: test,
            };
            if f(&state).is_break() {
                out.stopped_by_callback = true;
                break;
            }
        }
        if test <= cfg.ne_tol || consistent || alpha == 0.0 || beta == 0.0 {
            out.converged = true;
            if consistent && test > cfg.ne_tol {
                test = if cfg.bnorm > 0.0 {
                    rnorm / cfg.bnorm
                } else {
                    0.0
                };
            }
            break;
        }
    }
    out.z = z;
    out.test_value = test;
    out.anorm = anorm;
    out
}

/// `σ_max/σ_min` of the `(k+1)×k` bidiagonal `B_k` (at most its first 200 columns): Ritz
/// estimates of the extreme singular values of the operator, so the ratio approaches `κ(M)` from
/// below as `k` grows. `NaN` when no iteration was done.
pub(crate) fn bidiagonal_condition(alphas: &[f64], betas: &[f64]) -> f64 {
    let k = alphas.len().min(betas.len()).min(200);
    if k == 0 {
        return f64::NAN;
    }
    // Scaled by a power of two when the entries are far from 1 (exact, and the ratio does not
    // depend on it): faer's SVD of a bidiagonal with entries near 10¹⁶⁰ may not converge.
    let top = alphas[..k]
        .iter()
        .chain(&betas[..k])
        .copied()
        .fold(0.0, f64::max);
    let s = rescale_for(top);
    let b = faer::Mat::<f64>::from_fn(k + 1, k, |i, j| {
        if i == j {
            alphas[j] * s
        } else if i == j + 1 {
            betas[j] * s
        } else {
            0.0
        }
    });
    match crate::dense::singular_values(b.as_ref()) {
        Ok(sv) if !sv.is_empty() && sv[sv.len() - 1] > 0.0 => sv[0] / sv[sv.len() - 1],
        Ok(_) => f64::INFINITY,
        Err(_) => f64::NAN,
    }
}
