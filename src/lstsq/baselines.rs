//! The honest baselines: dense Householder QR, the normal equations, unpreconditioned LSQR.

use super::lsqr::{bidiagonal_condition, ensure_workspace, lsqr_run, History, LsqrRun};
use super::ops::{norm2, DataOp, LinOp};
use super::precondition::HouseholderQr;
use super::{check_common, check_lambda, check_problem, Info, Timings};
use crate::error::{Error, Result};
use crate::input::MatrixRef;
use faer::{Mat, Par};
use std::time::Instant;

/// Parameters of unpreconditioned [`lsqr`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LsqrParams {
    /// Tolerance of the stopping rule (as in [`LstsqParams::tol`](super::LstsqParams::tol)).
    pub tol: f64,
    /// Maximum iterations (default 1000).
    pub max_iters: usize,
    /// Ridge parameter `λ ≥ 0` (LSQR's `damp = √λ`).
    pub ridge: f64,
    /// Thread budget of the products with `A`.
    pub par: Par,
}

impl Default for LsqrParams {
    fn default() -> Self {
        LsqrParams {
            tol: 1e-14,
            max_iters: 1000,
            ridge: 0.0,
            par: Par::Seq,
        }
    }
}

/// At most `2³¹` entries for the `n × d` dense matrix `what` names.
fn check_dense_size(n: usize, d: usize, what: &str) -> Result<()> {
    let req = n as u128 * d as u128;
    Error::within(req, 1 << 31, || format!("the {n}×{d} {what}"))?;
    Ok(())
}

/// What the baselines say to a wide `A` without ridge (sketch-and-solve answers
/// [`Error::RankDeficient`] with a rank ≤ `n` there: its sketch of `A` has rank ≤ `n` too).
pub(crate) const WIDE_HINT: &str = " (a wide A has infinitely many least-squares solutions; \
     sketch_and_precondition returns the minimum-norm one)";

/// Dense Householder QR least squares (faer): `x = argmin ‖Ax − b‖² + λ‖x‖²` via the QR of `A`
/// (of `[A; √λI]` for `λ > 0`, ordered `[√λI; A]` when `√λ` exceeds every entry of `A`: the
/// large rows first, as Powell–Reid row sorting asks, so that a large `λ` keeps the accuracy of
/// a well-conditioned problem; with the ridge rows below, λ = 10³⁰ on a Gaussian `A` gave a
/// relative error of 10⁻², λ = 10⁶⁰ an answer 10¹³ times too large). Backward stable; the
/// accuracy reference for the other solvers.
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`], [`Error::NonFinite`] for bad `A`/`b`;
/// [`Error::InvalidParameter`] for `λ < 0` or for `n < d` without ridge; [`Error::TooLarge`] when
/// `(n + d)·d` exceeds `2³¹` (the size of the dense copy it factors with ridge rows; checked for
/// every `λ`, also `λ = 0`, where the copy is `n × d`), for a dense `A` as for a sparse one;
/// [`Error::RankDeficient`] for an exactly singular `R` (carrying `A`'s numerical rank) and,
/// without ridge, for a *numerically* rank-deficient `A` (a column equal to a combination of others
/// up to rounding), whose answer would be dominated by rounding: the `R` of `A` with its columns
/// equilibrated by powers of two has an estimated condition number above `1/rcond` for the default
/// [`LstsqParams::rcond`](super::LstsqParams::rcond) (10⁻¹³), and the error carries the number
/// of its singular values above `rcond·σ_max`. Columns in different units are not a rank
/// deficiency here (scales `10⁷, 1, 10⁻⁷` are solved accurately). For a rank-deficient `A` use
/// [`sketch_and_precondition`](super::sketch_and_precondition), which returns the minimum-norm
/// solution. [`Error::NonFinite`] when the solution overflows (an `A` with entries near
/// `f64::MAX` is factored scaled down by a power of two, so its column norms do not overflow).
///
/// # Performance
/// `O(n·d²)` time, `n·d` memory (`(n + d)·d` with ridge; sparse inputs are densified). A baseline:
/// it runs faer's blocked QR on `par` as given, as a user of faer would, so unlike the crate's
/// solvers its bits may differ between thread counts.
///
/// # References
/// G. Golub, "Numerical methods for solving linear least squares problems", Numer. Math. 1965.
///
/// # Examples
/// ```
/// use randnla::lstsq::qr_solve;
/// use randnla::MatrixRef;
/// // A 3 × 2 system with no exact solution: AᵀA = [[2, 1], [1, 2]] and Aᵀb = [5, 6], so the
/// // least-squares solution is (AᵀA)⁻¹Aᵀb = [4/3, 7/3].
/// let a = randnla::faer::mat![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let b = [1.0, 2.0, 4.0];
/// let x = qr_solve(MatrixRef::dense(a.as_ref())?, &b, 0.0, randnla::faer::Par::Seq)?;
/// assert!((x[0] - 4.0 / 3.0).abs() < 1e-14 && (x[1] - 7.0 / 3.0).abs() < 1e-14, "{x:?}");
/// // With λ = 1: (AᵀA + I)⁻¹Aᵀb = [[3, 1], [1, 3]]⁻¹·[5, 6] = [9/8, 13/8].
/// let x = qr_solve(MatrixRef::dense(a.as_ref())?, &b, 1.0, randnla::faer::Par::Seq)?;
/// assert!((x[0] - 9.0 / 8.0).abs() < 1e-14 && (x[1] - 13.0 / 8.0).abs() < 1e-14, "{x:?}");
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn qr_solve(a: MatrixRef<'_, f64>, b: &[f64], lambda: f64, par: Par) -> Result<Vec<f64>> {
    check_problem(&a, b)?;
    check_lambda(lambda, "lambda")?;
    if let Some(scale) = super::RhsScale::needed(b) {
        return scale.x(qr_solve(a, &scale.down(b), lambda, par)?, "the QR solve");
    }
    let (n, d) = (a.nrows(), a.ncols());
    check_dense_size(n.saturating_add(d), d, "dense copy of A")?;
    if n < d && lambda == 0.0 {
        return Err(Error::param(
            "A",
            format!("QR least squares needs n ≥ d without ridge, got {n}×{d}{WIDE_HINT}"),
        ));
    }
    let par = crate::dense::bounded(par);
    let extra = if lambda > 0.0 { d } else { 0 };
    // [A; √λI], written straight into one allocation (A is not densified on its own first).
    let mut m = crate::input::zeros_or_too_large::<f64>(n + extra, d, "dense copy of A")?;
    a.write_dense(m.as_mut().subrows_mut(0, n));
    let sl = lambda.sqrt();
    // Householder QR is accurate when rows with large entries come first (Powell–Reid row
    // sorting): with `√λ` above every entry of `A` the ridge rows go on top, `[√λI; A]`. Below
    // them, the reflector of column j took its pivot from A's row j, whose entry vanished in
    // `a_jj ± ‖[A; √λI]e_j‖ ≈ ±√λ`, and the first entry of `Qᵀ[b; 0]` came out of the
    // cancellation `b_j − b_j(1 + δ)`, wrong by `u·‖b‖` where the answer is `≈ (Aᵀb)_j/√λ`.
    let ridge_first = extra > 0 && sl > crate::dense::max_abs(m.as_ref());
    if ridge_first {
        for i in (0..n).rev() {
            for j in 0..d {
                m[(d + i, j)] = m[(i, j)];
            }
        }
        for i in 0..d {
            for j in 0..d {
                m[(i, j)] = if i == j { sl } else { 0.0 };
            }
        }
    } else {
        for j in 0..extra {
            m[(n + j, j)] = sl;
        }
    }
    let rhs = Mat::from_fn(n + extra, 1, |i, _| match (ridge_first, i) {
        (true, i) if i < d => 0.0,
        (true, i) => b[i - d],
        (false, i) if i < n => b[i],
        _ => 0.0,
    });
    // An `A` (or `√λ`) near f64::MAX overflowed faer's column norms, and a full-rank `A` was
    // reported as rank 1: the matrix is moved down by a power of two first (exact;
    // `[2⁻ᵉA; 2⁻ᵉ√λI]·y = [b; 0]` gives `x = 2⁻ᵉy`), ordinary data are not touched.
    let shift = crate::dense::into_qr_range(&mut m);
    let qr = HouseholderQr::new(m, par);
    let r = qr.r();
    if (0..d).any(|i| r[(i, i)] == 0.0) {
        return Err(super::rank_deficient(r.as_ref(), n + extra, n + extra));
    }
    if lambda == 0.0 {
        numerically_full_rank(r)?;
    }
    let y = qr.solve_lstsq(rhs, par);
    let x = (0..d)
        .map(|i| crate::scalar::mul_pow2(y[(i, 0)], -shift))
        .collect();
    super::finite_solution(x, "the QR solve")
}

/// `Ok` when the triangle `R` of `A = QR` (no zero pivot) has full numerical rank after its
/// columns are equilibrated by powers of two, `RD` (the `R` of `AD`, exactly): its estimated
/// condition number is at most `1/rcond` for the crate's default `rcond` (10⁻¹³), the rule by
/// which [`Preconditioner::new`](super::Preconditioner::new) keeps its QR. Householder QR is
/// column-wise backward stable, so it is the conditioning of `A` with equilibrated columns
/// (van der Sluis) that bounds its forward error: a `200 × 3` `A` whose third column is the
/// sum of the first two (`R₃₃ ≈ 10⁻¹⁶·‖A‖`) was solved as `x ≈ ±1.6·10¹⁴`, while columns in
/// different units (scales `10⁷, 1, 10⁻⁷`) keep an accurate answer and are not refused. The
/// estimate (power iteration, `O(d²)`) is a lower bound of `κ(RD)`, so a full-rank `A` with
/// `κ(AD) < 10¹³` is never refused. Otherwise [`Error::RankDeficient`] with the number of
/// singular values of `RD` above `rcond·σ_max` (at most `d − 1`), computed on this error path
/// only. A non-finite `R` (an `A` near `f64::MAX`) is left to the solve's own check.
fn numerically_full_rank(mut rd: Mat<f64>) -> Result<()> {
    let d = rd.ncols();
    if (0..d).any(|j| rd.col(j).iter().any(|v| !v.is_finite())) {
        return Ok(());
    }
    // `rd` is the solver's own copy of R (`HouseholderQr::r`), equilibrated in place.
    crate::dense::equilibrate_columns(rd.as_mut());
    let rcond = super::LstsqParams::default().rcond;
    if super::precondition::triangular_condition_estimate(rd.as_ref()) * rcond <= 1.0 {
        return Ok(());
    }
    let rank = match crate::dense::singular_values(rd.as_ref()) {
        Ok(sv) => {
            let smax = sv.first().copied().unwrap_or(0.0);
            sv.iter().filter(|&&s| s > rcond * smax).count()
        }
        Err(_) => {
            let rmax = (0..d).fold(0.0f64, |m, i| m.max(rd[(i, i)].abs()));
            (0..d).filter(|&i| rd[(i, i)].abs() > rcond * rmax).count()
        }
    };
    Err(Error::RankDeficient {
        rank: rank.min(d - 1),
        required: d,
    })
}

/// The normal equations: `x = (AᵀA + λI)⁻¹Aᵀb` by Cholesky (faer). Fast, but the Gram matrix has
/// condition number `κ(A)²`, so the forward error is about `u·κ(A)²` and the factorization fails
/// once `κ(A) ≳ 10⁸`.
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`], [`Error::NonFinite`] (NaN/∞ in the input, or
/// a solution that does not fit in `f64`; a `b` whose norm overflows is solved as `2⁻ᵉ·b` and `x`
/// scaled back, as by the iterative solvers), [`Error::InvalidParameter`] (`λ < 0`, or `n < d`
/// without ridge);
/// [`Error::Factorization`] when `AᵀA + λI` is not numerically positive definite;
/// [`Error::TooLarge`] when the `d × d` Gram matrix has more than `2²⁸` entries (`d > 16384`)
/// or its buffers cannot be allocated, or the scaled copy of `A` below cannot be.
///
/// The answer does not depend on the scale of `A`: an `A` whose largest entry is beyond
/// `2^±128` is scaled by a power of two (a copy: `O(n·d)` or `O(nnz)` memory) before `AᵀA` is
/// formed, which would otherwise over- or underflow.
///
/// # Performance
/// Sparse CSR/CSC: `O(Σᵢ nnz(rowᵢ)²)` to form `AᵀA` from the row structure (for `d ≤ 512`
/// from 8 fixed row chunks in parallel, reduced in order: the result and a `d × d` buffer per
/// chunk, 2 MB each at most, two in all on one thread; above, by blocks of columns that stay
/// in cache, in the result alone), dense: `O(n·d²)`;
/// then `O(d³)` Cholesky.
pub fn normal_equations(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    lambda: f64,
    par: Par,
) -> Result<Vec<f64>> {
    check_problem(&a, b)?;
    check_lambda(lambda, "lambda")?;
    if let Some(scale) = super::RhsScale::needed(b) {
        let x = normal_equations(a, &scale.down(b), lambda, par)?;
        return scale.x(x, "the normal-equation solve");
    }
    let (n, d) = (a.nrows(), a.ncols());
    if n < d && lambda == 0.0 {
        // AᵀA is singular: say so instead of failing in the Cholesky.
        return Err(Error::param(
            "A",
            format!("the normal equations need n ≥ d without ridge, got {n}×{d}{WIDE_HINT}"),
        ));
    }
    // At most 2^28 entries: the Gram matrix is held up to three times (an empty 1 × 30000 CSR
    // asked for four 7.2 GB buffers under the former 2^31 limit and aborted).
    if d as u128 * d as u128 > 1 << 28 {
        return Err(Error::TooLarge {
            what: format!("the {d}×{d} Gram matrix AᵀA"),
            requested: d as u128 * d as u128,
            limit: 1 << 28,
        });
    }
    // AᵀA squares the entries of A: a well-conditioned A near 2^±530 overflowed (underflowed)
    // it and was refused as "not positive definite". An A whose largest entry is beyond
    // 2^±128 is solved as 2⁻ˢA with λ·4⁻ˢ (a scaled copy), whose solution is 2ˢx; the shift is
    // exact, so the bits are those of the unscaled formula wherever that did not over- or
    // underflow. A λ·4⁻ˢ beyond f64 (λ ≳ 2¹⁰⁰⁰‖A‖²) keeps the unscaled route, where λ dominates.
    let top = crate::input::max_abs_entry(a);
    if let Some(shift) = crate::scalar::shift_toward_range(top, 128, 0) {
        let mul = crate::scalar::mul_pow2;
        let scaled_lambda = mul(mul(lambda, -shift), -shift);
        if scaled_lambda.is_finite() {
            let copy = crate::input::Pow2Scaled::new(a, shift)?;
            let y = normal_equations(copy.view(a), b, scaled_lambda, par)?;
            let x = y.into_iter().map(|v| mul(v, -shift)).collect();
            return super::finite_solution(x, "the normal-equation solve");
        }
    }
    let par = crate::dense::bounded(par);
    let (mut g, atb) = super::ops::gram_and_atb(a, b, par)?;
    for i in 0..d {
        g[(i, i)] += lambda;
    }
    let x = crate::dense::cholesky_solve(g, &atb).map_err(|e| Error::Factorization {
        reason: format!(
            "Cholesky of AᵀA + λI failed ({e:?}): not numerically positive definite (κ(A)² too large, or A rank deficient)"
        ),
    })?;
    super::finite_solution(x, "the normal-equation solve")
}

/// Unpreconditioned LSQR on `min ‖Ax − b‖² + λ‖x‖²` from `x = 0`, with Paige and Saunders'
/// stopping rule (as [`sketch_and_precondition`](super::sketch_and_precondition) without a
/// ridge; with one, the backward error of `[A; √λI]x ≈ [b; 0]`, as SciPy's `lsqr` with `damp`,
/// which is not tightened for `λ` far above `‖A‖²` as the sketched solver's is: the forward
/// error may then reach `tol·√λ/‖A‖`, see [`ridge`](super::ridge)). Its iteration count grows with
/// `κ(A)`: it stalls on ill-conditioned problems, which is why the sketched preconditioner exists.
/// With a ridge it makes at least one iteration: for `λ` so large that `‖Aᵀb‖ ≤
/// tol·√(‖A‖² + λ)·‖b‖` (`λ ≳ 10⁵⁰` on a unit-scale `A`) `x = 0` already meets the stopping rule
/// (a bound on the backward error of `[A; √λI]x ≈ [b; 0]`), but the answer is `≈ Aᵀb/λ`, which
/// the first iteration finds (as SciPy's `lsqr` does).
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`], [`Error::NonFinite`],
/// [`Error::InvalidParameter`] (`tol ∉ (0, 1)`, `max_iters = 0`, `λ < 0`), [`Error::TooLarge`]
/// for a sparse `A` with more than 2³² columns or whose iteration vectors cannot be allocated,
/// [`Error::NotConverged`] after `max_iters` iterations, and [`Error::NonFinite`] when the
/// solution overflows.
///
/// # Performance
/// `O(nnz(A) + n + d)` per iteration; memory `O(n + d)`, plus for a sparse `A` its column
/// indices in 32 bits (4 bytes per nonzero; a CSC `A` is copied whole into compact CSR, 12 bytes
/// per nonzero), which every iteration reads.
///
/// # References
/// C. C. Paige and M. A. Saunders, "LSQR", ACM TOMS 8(1), 1982.
///
/// # Examples
/// ```
/// use randnla::lstsq::{lsqr, qr_solve, LsqrParams};
/// use randnla::MatrixRef;
/// // A well-conditioned 100 × 3 problem: LSQR reaches the dense QR solution in a few iterations.
/// let a = randnla::faer::Mat::from_fn(100, 3, |i, j| {
///     let diagonal = if i % 3 == j { 2.0 } else { 0.0 };
///     diagonal + ((i * (j + 2)) as f64).sin()
/// });
/// let b: Vec<f64> = (0..100).map(|i| (0.3 * i as f64).cos()).collect();
/// let a = MatrixRef::dense(a.as_ref())?;
/// let (x, info) = lsqr(a, &b, &LsqrParams::default())?;
/// let x_qr = qr_solve(a, &b, 0.0, randnla::faer::Par::Seq)?;
/// assert!(info.converged && info.iterations <= 20, "{} iterations", info.iterations);
/// for (xi, qi) in x.iter().zip(&x_qr) {
///     assert!((xi - qi).abs() < 1e-12, "{x:?} vs {x_qr:?}");
/// }
/// # Ok::<(), randnla::Error>(())
/// ```
pub fn lsqr(a: MatrixRef<'_, f64>, b: &[f64], params: &LsqrParams) -> Result<(Vec<f64>, Info)> {
    let t = Instant::now();
    check_problem(&a, b)?;
    check_common(params.tol, params.max_iters, params.ridge)?;
    if let Some(scale) = super::RhsScale::needed(b) {
        let (x, info) = lsqr(a, &scale.down(b), params)?;
        return scale.solution(x, info, "LSQR");
    }
    let op = DataOp::new(a, params.par)?;
    ensure_workspace(&op)?;
    let cfg = LsqrRun {
        tol: params.tol,
        ne_tol: params.tol,
        max_iters: params.max_iters,
        damp: params.ridge.sqrt(),
        anorm_hint: 0.0,
        scale_hint: 0.0,
        bnorm: norm2(b),
        run: 0,
        offset: 0,
    };
    let mut hist = History::default();
    let out = lsqr_run(&op, b, &cfg, &mut hist, &mut None);
    if !out.converged {
        return Err(Error::NotConverged {
            iterations: out.iterations,
            residual: out.test_value,
            tolerance: params.tol,
            history: hist.normal_eq,
            rounding_floor: None,
        });
    }
    let x = super::finite_solution(out.z, "LSQR")?;
    let mut r = vec![0.0; op.nrows()];
    op.apply(&x, &mut r);
    r.iter_mut().zip(b).for_each(|(ri, bi)| *ri = bi - *ri);
    let damp = params.ridge.sqrt();
    let rn = norm2(&r).hypot(damp * norm2(&x));
    let secs = t.elapsed().as_secs_f64();
    let info = Info {
        iterations: out.iterations,
        probe_iterations: 0,
        runs: 1,
        run_iterations: vec![out.iterations],
        residual_history: hist.residual,
        normal_eq_history: hist.normal_eq,
        kappa_estimate: bidiagonal_condition(&out.alphas, &out.betas),
        rank: op.ncols(),
        factorization: None,
        sketch_rows: 0,
        converged: true,
        stopped_by_callback: false,
        stopping_value: out.test_value,
        tol: params.tol,
        residual_norm: rn,
        timings: Timings {
            sketch: 0.0,
            factor: 0.0,
            iterate: secs,
            probe: 0.0,
            total: secs,
        },
    };
    Ok((x, info))
}
