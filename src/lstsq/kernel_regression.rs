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
//! whose optimum is that of P2 (`range(A(AᵀA)ʲ) = range(A)` for full-rank `A`), then solves P1
//! with right-hand side `y`.
//!
//! P3 uses `exp(AAᵀ) = D·G·D` with `D = diag(e^{‖aᵢ‖²/2})` and `G_ij = e^{−‖aᵢ − aⱼ‖²/2}` (a
//! Gaussian kernel matrix): the scaling `D`, which carries most of the ill-conditioning, is removed
//! exactly, and `G w = D⁻¹b` is solved by CG preconditioned with a randomized Nyström
//! approximation of `G` built from a Gaussian sketch `G·Ω` of `ℓ` columns (Frangella, Tropp, Udell,
//! arXiv 2110.02820); `x = D⁻¹w`. The stopping test is on the true scaled residual
//! `‖D(Gw − D⁻¹b)‖ = ‖exp(AAᵀ)x − b‖`.
//!
//! When the operator is invertible (full-rank `A` for P1; distinct rows of `A` for P3) the
//! optimum is `OPT = 0` and the guarantee is `‖residual‖ ≤ tol·‖b‖`; for P2 it is
//! `‖residual‖ ≤ (1 + ε)·OPT` with `ε` of the order of `tol`.

use super::lsqr::Callback;
use super::ops::{axpy, norm2, DataOp, LinOp};
use super::precondition::{solve_one, Preconditioner};
use super::{check_common, Factorization, LstsqParams};
use crate::error::{Error, Result};
use crate::input::{check_finite_slice, MatrixRef};
use crate::sketch::{Gaussian, SketchOperator};
use faer::{Mat, MatRef, Par};

/// Parameters of the kernel regression solvers.
#[derive(Clone, Debug)]
pub struct KernelParams {
    /// Sketch and LSQR settings for P1/P2 (`sketch_rows`, `seed`, `par`, and `tol` for the
    /// least-squares stage of P2); the seed also draws P3's Nyström sketch.
    pub lstsq: LstsqParams,
    /// Relative residual tolerance of the final answer (default `1e-10`): P1/P3 stop when
    /// `‖residual‖ ≤ tol·‖b‖`.
    pub tol: f64,
    /// Maximum CG iterations per inner solve (default 1000).
    pub max_iters: usize,
    /// Maximum outer refinement steps for P1/P2 (default 4).
    pub max_refinements: usize,
    /// Nyström rank `ℓ` for P3 (default `min(n, 200)`).
    pub nystrom_rank: Option<usize>,
}

impl Default for KernelParams {
    fn default() -> Self {
        KernelParams {
            lstsq: LstsqParams::default(),
            tol: 1e-10,
            max_iters: 1000,
            max_refinements: 4,
            nystrom_rank: None,
        }
    }
}

/// Diagnostics of a kernel regression solve.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelInfo {
    /// CG iterations over all inner solves.
    pub cg_iterations: usize,
    /// Outer refinement steps (P1/P2), 1 for P3.
    pub refinements: usize,
    /// LSQR iterations of the least-squares stage (P2 only).
    pub lstsq_iterations: usize,
    /// The final residual norm of the problem solved, recomputed matrix-free.
    pub residual_norm: f64,
    /// `residual_norm / ‖b‖`.
    pub relative_residual: f64,
}

/// Preconditioned conjugate gradients on an SPD operator from `x = 0`; stops when
/// `weight(r) ≤ target` where `r` is the recurrence residual. Returns `(x, iterations)`.
fn pcg(
    apply: &dyn Fn(&[f64], &mut [f64]),
    precond: &dyn Fn(&[f64], &mut [f64]),
    b: &[f64],
    weight: &dyn Fn(&[f64]) -> f64,
    target: f64,
    max_iters: usize,
) -> Result<(Vec<f64>, usize)> {
    let n = b.len();
    let mut x = vec![0.0; n];
    let mut r = b.to_vec();
    if weight(&r) <= target {
        return Ok((x, 0));
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
            return Ok((x, k + 1));
        }
        precond(&r, &mut z);
        let rz_new: f64 = r.iter().zip(&z).map(|(a, b)| a * b).sum();
        let beta = rz_new / rz;
        rz = rz_new;
        for (pi, zi) in p.iter_mut().zip(&z) {
            *pi = zi + beta * *pi;
        }
    }
    Err(Error::NotConverged {
        iterations: max_iters,
        residual: weight(&r) / target.max(f64::MIN_POSITIVE),
        tolerance: 1.0,
    })
}

/// `(AᵀA)ʲ·x`, matrix-free.
fn gram_power(op: &DataOp<'_>, j: usize, x: &[f64]) -> Vec<f64> {
    let mut v = x.to_vec();
    let mut t = vec![0.0; op.nrows()];
    for _ in 0..j {
        op.apply(&v, &mut t);
        op.apply_t(&t, &mut v);
    }
    v
}

/// Solves `(AᵀA)ʲ x = b` by `j` preconditioned-CG solves per outer step plus refinement on the
/// true residual. Returns `(x, cg iterations, refinements)`.
fn p1_core(
    op: &DataOp<'_>,
    pre: &Preconditioner,
    j: usize,
    b: &[f64],
    params: &KernelParams,
) -> Result<(Vec<f64>, usize, usize)> {
    let d = b.len();
    let bn = norm2(b);
    let mut x = vec![0.0; d];
    if j == 0 || bn == 0.0 {
        return Ok((b.to_vec(), 0, 0));
    }
    let gram = |v: &[f64], out: &mut [f64]| {
        let mut tt = vec![0.0; op.nrows()];
        op.apply(v, &mut tt);
        op.apply_t(&tt, out);
    };
    let precond = |r: &[f64], out: &mut [f64]| {
        let mut s = vec![0.0; r.len()];
        pre.apply_t(r, &mut s);
        pre.apply(&s, out);
    };
    let (mut cg, mut steps) = (0usize, 0usize);
    let mut last = f64::INFINITY;
    loop {
        let mx = gram_power(op, j, &x);
        let res: Vec<f64> = b.iter().zip(&mx).map(|(bi, mi)| bi - mi).collect();
        let rn = norm2(&res);
        if rn <= params.tol * bn {
            return Ok((x, cg, steps));
        }
        if steps > params.max_refinements || rn >= last {
            // Refinement stopped helping (rounding floor of the matrix-free product, about
            // u·‖(AᵀA)ʲ‖·‖x‖) or ran out of steps.
            return Err(Error::NotConverged {
                iterations: cg,
                residual: rn / bn,
                tolerance: params.tol,
            });
        }
        last = rn;
        // δ = (AᵀA)^{-j} res, inner solves to a tolerance that leaves room for the κ-growth of
        // the j-fold product; refinement mops up the rest.
        let mut delta = res;
        for _ in 0..j {
            let dn = norm2(&delta);
            let (z, it) = pcg(
                &gram,
                &precond,
                &delta,
                &|r: &[f64]| norm2(r),
                1e-3 * params.tol.max(1e-13) * dn,
                params.max_iters,
            )
            .or_else(|e| match e {
                // The recurrence residual can stall at rounding level; accept and let the outer
                // refinement decide.
                Error::NotConverged { .. } => Ok((vec![0.0; d], params.max_iters)),
                other => Err(other),
            })?;
            cg += it;
            delta = z;
        }
        axpy(1.0, &delta, &mut x);
        steps += 1;
    }
}

fn check_full_rank(pre: &Preconditioner, d: usize) -> Result<()> {
    if pre.factorization() == Factorization::Svd {
        return Err(Error::RankDeficient {
            rank: pre.rank(),
            required: d,
        });
    }
    Ok(())
}

/// Largest power `j` P1 and P2 accept. Each CG iteration makes `2j` passes over `A` and
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
    check_common(params.lstsq.tol, params.lstsq.max_iters, params.lstsq.ridge)
}

/// P1: `min_x ‖(AᵀA)ʲ x − b‖` for `b ∈ ℝᵈ` (`x = (AᵀA)^{−j} b` for full-rank `A`).
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`] (`b` not of length `d`), [`Error::NonFinite`],
/// [`Error::InvalidParameter`] (tolerances, `max_iters`, `j > 64`, and as
/// [`Preconditioner::new`]), [`Error::RankDeficient`] when `A` is numerically rank deficient
/// (`AᵀA` singular), [`Error::NotConverged`] when refinement stalls above `tol`.
///
/// # Performance
/// Sketch and QR as [`sketch_and_precondition`](super::sketch_and_precondition), then about
/// `j·log(1/tol)` CG iterations of `O(nnz(A) + d²)` each, per refinement step.
///
/// # References
/// Z. Song, J. Yin, L. Zhang, "Solving attention kernel regression problem via pre-conditioner",
/// arXiv 2308.14304.
pub fn solve_p1(
    a: MatrixRef<'_, f64>,
    j: usize,
    b: &[f64],
    params: &KernelParams,
) -> Result<(Vec<f64>, KernelInfo)> {
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
    let pre = Preconditioner::new(a, &params.lstsq)?;
    check_full_rank(&pre, a.ncols())?;
    let op = DataOp::new(a, params.lstsq.par)?;
    let (x, cg, steps) = p1_core(&op, &pre, j, b, params)?;
    let mx = gram_power(&op, j, &x);
    let rn = norm2(&b.iter().zip(&mx).map(|(p, q)| p - q).collect::<Vec<_>>());
    Ok((
        x,
        KernelInfo {
            cg_iterations: cg,
            refinements: steps,
            lstsq_iterations: 0,
            residual_norm: rn,
            relative_residual: rn / norm2(b).max(f64::MIN_POSITIVE),
        },
    ))
}

/// P2: `min_x ‖A(AᵀA)ʲ x − b‖` for `b ∈ ℝⁿ`: the least-squares solution `y` of `Ay ≈ b` by
/// sketch-and-precondition, then `(AᵀA)ʲ x = y` as in [`solve_p1`] (same sketch and factor).
///
/// # Errors
/// As [`solve_p1`] with `b` of length `n`, plus those of
/// [`sketch_and_precondition`](super::sketch_and_precondition).
///
/// # Performance
/// One sketch-and-precondition solve plus one P1 solve.
///
/// # References
/// Z. Song, J. Yin, L. Zhang, arXiv 2308.14304.
pub fn solve_p2(
    a: MatrixRef<'_, f64>,
    j: usize,
    b: &[f64],
    params: &KernelParams,
) -> Result<(Vec<f64>, KernelInfo)> {
    super::check_problem(&a, b)?;
    check_kernel_params(params)?;
    check_power(j)?;
    let pre = Preconditioner::new(a, &params.lstsq)?;
    check_full_rank(&pre, a.ncols())?;
    let op = DataOp::new(a, params.lstsq.par)?;
    let x0 = pre.warm_start(
        MatRef::from_column_major_slice(b, b.len(), 1),
        params.lstsq.par,
    )?;
    let x0: Vec<f64> = (0..x0.nrows()).map(|i| x0[(i, 0)]).collect();
    let mut cb: Callback<'_> = None;
    let (y, info) = solve_one(&op, &pre, b, x0, &params.lstsq, &mut cb)?;
    let (x, cg, steps) = p1_core(&op, &pre, j, &y, params)?;
    let mut t = vec![0.0; op.nrows()];
    op.apply(&gram_power(&op, j, &x), &mut t);
    let rn = norm2(&b.iter().zip(&t).map(|(p, q)| p - q).collect::<Vec<_>>());
    Ok((
        x,
        KernelInfo {
            cg_iterations: cg,
            refinements: steps,
            lstsq_iterations: info.iterations,
            residual_norm: rn,
            relative_residual: rn / norm2(b).max(f64::MIN_POSITIVE),
        },
    ))
}

/// P3: `min_x ‖exp(AAᵀ) x − b‖` (`exp` entrywise, `x ∈ ℝⁿ`) via `exp(AAᵀ) = D·G·D`: solves
/// `G w = D⁻¹b` by Nyström-preconditioned CG and returns `x = D⁻¹w`.
///
/// # Errors
/// [`Error::Empty`], [`Error::DimensionMismatch`] (`b` not of length `n`), [`Error::NonFinite`],
/// [`Error::InvalidParameter`] (tolerances; a row with `‖aᵢ‖²/2 > 700`, where `e^{‖aᵢ‖²/2}`
/// overflows), [`Error::TooLarge`] for `n > 16384` (the kernel matrix is formed densely),
/// [`Error::Factorization`] when `G` is not numerically positive definite (repeated rows),
/// [`Error::NotConverged`].
///
/// # Performance
/// `O(n²·d)` to form `G` (memory `n²`), `O(n²·ℓ)` for the Nyström sketch, `O(n²)` per CG
/// iteration.
///
/// # References
/// Z. Song, J. Yin, L. Zhang, arXiv 2308.14304 (the `D·G·D` factorization); Z. Frangella,
/// J. Tropp, M. Udell, "Randomized Nyström preconditioning", arXiv 2110.02820.
pub fn solve_p3(
    a: MatrixRef<'_, f64>,
    b: &[f64],
    params: &KernelParams,
) -> Result<(Vec<f64>, KernelInfo)> {
    super::check_problem(&a, b)?;
    check_kernel_params(params)?;
    let n = a.nrows();
    if n > 16384 {
        return Err(Error::TooLarge {
            what: format!("the dense {n}×{n} kernel matrix of P3"),
            requested: (n as u128) * (n as u128),
            limit: 16384 * 16384,
        });
    }
    let par = crate::dense::bounded(params.lstsq.par);
    let op = DataOp::new(a, par)?;
    let sq = op.row_norms_sq();
    if let Some(i) = sq.iter().position(|&s| s / 2.0 > 700.0) {
        return Err(Error::param(
            "A",
            format!(
                "row {i} has ‖aᵢ‖²/2 = {} > 700: exp(AAᵀ) overflows f64",
                sq[i] / 2.0
            ),
        ));
    }
    let dinv: Vec<f64> = sq.iter().map(|s| (-s / 2.0).exp()).collect();
    // G = exp(AAᵀ − ½‖aᵢ‖² − ½‖aⱼ‖²), formed from the dense copy of A.
    let ad = a.to_dense()?;
    let mut g = Mat::<f64>::zeros(n, n);
    faer::linalg::matmul::matmul(
        g.as_mut(),
        faer::Accum::Replace,
        ad.as_ref(),
        ad.transpose(),
        1.0,
        par,
    );
    drop(ad);
    for jj in 0..n {
        for i in 0..n {
            g[(i, jj)] = (g[(i, jj)] - 0.5 * sq[i] - 0.5 * sq[jj]).min(0.0).exp();
        }
    }
    let ell = params.nystrom_rank.unwrap_or(200).min(n).max(1);
    let nys = Nystrom::new(g.as_ref(), ell, params.lstsq.seed.derive(0x41), par)?;
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
    let (w, iters) = pcg(
        &apply,
        &|r, out| nys.apply_inverse(r, out),
        &c,
        &weight,
        params.tol * bn,
        params.max_iters,
    )
    .map_err(|e| match e {
        Error::NotConverged {
            iterations,
            residual,
            ..
        } => Error::NotConverged {
            iterations,
            residual: residual * params.tol,
            tolerance: params.tol,
        },
        other => other,
    })?;
    let x: Vec<f64> = w.iter().zip(&dinv).map(|(wi, di)| wi * di).collect();
    let mut gw = vec![0.0; n];
    apply(&w, &mut gw);
    let r: Vec<f64> = c.iter().zip(&gw).map(|(ci, gi)| ci - gi).collect();
    let rn = weight(&r);
    Ok((
        x,
        KernelInfo {
            cg_iterations: iters,
            refinements: 1,
            lstsq_iterations: 0,
            residual_norm: rn,
            relative_residual: rn / bn.max(f64::MIN_POSITIVE),
        },
    ))
}

/// Randomized Nyström approximation `G ≈ U Λ Uᵀ` of an SPD matrix from a Gaussian sketch, and
/// the preconditioner `P⁻¹ = U·diag((λ_ℓ)/(λᵢ))·Uᵀ + (I − UUᵀ)` (Frangella–Tropp–Udell with
/// `μ = 0`, floored at `λ_ℓ > 0`).
struct Nystrom {
    u: Mat<f64>,
    scale: Vec<f64>,
}

impl Nystrom {
    fn new(g: MatRef<'_, f64>, ell: usize, seed: crate::Seed, par: Par) -> Result<Self> {
        let n = g.nrows();
        let s = Gaussian::new(ell, n, seed)?;
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
