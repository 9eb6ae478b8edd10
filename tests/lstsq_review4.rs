//! Fourth review of least squares: the forward-stability sweep on sparse storage (CSR and CSC,
//! several sketch seeds), attention-kernel regression P3 at larger data scales on every inner
//! route, and a rank-deficient `A` whose range is itself ill-conditioned.

use crate::common;

use common::{gauss, rel};
use faer::linalg::solvers::SolveLstsq;
use faer::{Mat, Par};
use randnla::lstsq::kernel_regression::{solve_p3, InnerSolve, KernelParams};
use randnla::lstsq::{
    normal_equation_residual, qr_solve, ridge_normal_equation_residual, sketch_and_precondition,
    Factorization, LstsqParams, Preconditioner,
};
use randnla::{MatrixRef, Seed};

/// Unit roundoff `u = 2⁻⁵³`.
const U: f64 = f64::EPSILON / 2.0;

fn col(v: &[f64]) -> Mat<f64> {
    Mat::from_fn(v.len(), 1, |i, _| v[i])
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn cond(m: &Mat<f64>) -> f64 {
    randnla::diagnostics::condition_number(m.as_ref()).unwrap()
}

fn unit(v: Vec<f64>) -> Vec<f64> {
    let s = norm(&v);
    v.into_iter().map(|x| x / s).collect()
}

/// A sparse least-squares problem with an exactly known SVD (see
/// [`sparse_epperly`]): the CSR matrix, `b`, the exact solution `x` (unit norm) and the `d × d`
/// factor `B = diag(σ)·Vᵀ` with `A = P·B`.
pub(crate) struct SparseProblem {
    pub(crate) a: sprs::CsMat<f64>,
    pub(crate) b: Vec<f64>,
    pub(crate) x: Vec<f64>,
    pub(crate) factor: Mat<f64>,
}

/// Epperly's problem made sparse, with singular values set exactly:
/// `A = P·diag(σ)·Vᵀ` (`n × d`), where
/// - `P` (`n × d`) has one entry per row, in column `i mod d`, a Gaussian value, and each
///   column scaled to unit norm: its columns have disjoint supports, so they are orthonormal;
/// - `V` (`d × d`) is orthogonal and block diagonal up to a permutation: index `k` belongs to
///   group `k mod (d/group)`, and within each group of `group` indices `V` is the Q factor of a
///   Householder QR of a seeded Gaussian `group × group` matrix (faer). With `group = d` it is
///   one dense random orthogonal matrix (every row of `A` is then dense in its `d` columns);
///   with `group = 5` every row of `A` holds exactly 5 entries, and each group's indices take
///   singular values from across the whole range (`σ_t, σ_{t+10}, …, σ_{t+40}`), so a group's
///   columns are nearly collinear (not merely badly scaled, which column equilibration would
///   undo);
/// - `σ = logspace(0, −log₁₀κ, d)`, so `‖A‖ = 1` and `κ(A) = κ` (for the exact product;
///   stored entries are rounded once, relative error `u`).
///
/// `b = A·x + r` with `x` a seeded Gaussian direction of unit norm, `A·x` summed from the
/// stored entries, and `r` a seeded Gaussian projected twice onto the orthogonal complement of
/// `range(A) = range(P)` (per column of `P`, whose supports are disjoint) and scaled to
/// `‖r‖ = ρ`: as in `randnla::problems::ls_problem`, `x` is the exact least-squares solution
/// before `b` is rounded.
pub(crate) fn sparse_epperly(
    n: usize,
    d: usize,
    group: usize,
    kappa: f64,
    rho: f64,
    seed: u64,
) -> SparseProblem {
    assert!(d.is_multiple_of(group) && n >= d);
    let groups = d / group;
    let raw = common::rhs(n, seed);
    let mut col_sq = vec![0.0; d];
    for (i, v) in raw.iter().enumerate() {
        col_sq[i % d] += v * v;
    }
    let p: Vec<f64> = (0..n).map(|i| raw[i] / col_sq[i % d].sqrt()).collect();
    // V, group by group: index k is the (k / groups)-th member of group k % groups.
    let mut v = Mat::<f64>::zeros(d, d);
    for t in 0..groups {
        let q = gauss(group, group, seed + 1 + t as u64)
            .qr()
            .compute_thin_Q();
        for a in 0..group {
            for c in 0..group {
                v[(t + a * groups, t + c * groups)] = q[(a, c)];
            }
        }
    }
    let logk = kappa.log10();
    let sigma: Vec<f64> = (0..d)
        .map(|k| 10f64.powf(-logk * k as f64 / (d - 1) as f64))
        .collect();
    // B = diag(σ)·Vᵀ: B[c, j] = σ_c·V[j, c], nonzero only for j ≡ c (mod groups).
    let factor = Mat::from_fn(d, d, |c, j| sigma[c] * v[(j, c)]);
    let mut indptr = vec![0usize];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    for (i, &pi) in p.iter().enumerate() {
        let c = i % d;
        for j in (0..d).filter(|j| j % groups == c % groups) {
            indices.push(j);
            data.push(pi * factor[(c, j)]);
        }
        indptr.push(indices.len());
    }
    let a = sprs::CsMat::new((n, d), indptr, indices, data);
    assert_eq!(a.nnz(), n * group);
    let x = unit(common::rhs(d, seed + 100));
    let mut r = common::rhs(n, seed + 200);
    for _ in 0..2 {
        let mut dots = vec![0.0; d];
        for i in 0..n {
            dots[i % d] += p[i] * r[i];
        }
        for i in 0..n {
            r[i] -= p[i] * dots[i % d];
        }
    }
    let r: Vec<f64> = unit(r).into_iter().map(|v| v * rho).collect();
    let b: Vec<f64> = a
        .outer_iterator()
        .zip(&r)
        .map(|(row, ri)| row.iter().map(|(j, v)| v * x[j]).sum::<f64>() + ri)
        .collect();
    SparseProblem { a, b, x, factor }
}

/// The dense forward-stability sweep of `tests/lstsq.rs`
/// (`epperly_sweep_is_forward_stable_and_iterations_do_not_grow_with_kappa`) on sparse storage,
/// with five sketch seeds per cell instead of one.
/// Problems: [`sparse_epperly`] at 4000 × 50 in two shapes — dense rows (`V` one random
/// orthogonal matrix; 200 000 stored entries) and 5 entries per row (`V` block orthogonal in
/// groups of 5 that each span the whole spectrum; 20 000 entries) — for κ ∈ {1e4, 1e8, 1e12} ×
/// ρ ∈ {1e-6, 1e-3}, `‖A‖ = ‖x‖ = 1`. Sketched path (`probe: false`), sketch seeds 0–4, each
/// solved from CSR and from CSC. Pass rules, every seed — the dense sweep's, with the same
/// tolerances and the same reasons:
/// - converged; forward error `‖x̂ − x‖/‖x‖ ≤ 10u(κ + κ²ρ)`, the bound a backward-stable solver
///   attains (at κ = 1e12 it exceeds 1 for both ρ and says nothing; the cells where it is below
///   0.1 are counted: 4 per shape);
/// - every LSQR run takes ≤ `log(tol)/log((κ_p − 1)/(κ_p + 1)) + 5` iterations, `κ_p = κ(A·N)`
///   computed by a dense SVD from the preconditioner `N` the same seed builds. Since `A = P·B`
///   with orthonormal `P`, `κ(A·N) = κ(B·N)`, a 50 × 50 SVD (the computed value carries the
///   rounding of the product, about `u·κ(A)` relative, as the dense sweep's does);
/// - the reported Ritz estimate of `κ_p` lies in `[κ_p/2, κ_p·(1 + 10⁻⁸ + 10uκ)]` (a lower
///   bound that tightens, up to the rounding of the operator);
/// - the normal-equation residual `‖Aᵀr‖/(‖A‖‖r‖)` is ≤ 10× that of a Householder QR solve
///   (`qr_solve`) of the same problem;
///
/// and `x` from CSC storage equals `x` from CSR bit for bit (documented: the CSC input is copied
/// to the same compact CSR the iterations read), with the same iteration counts.
///
/// Measured (seeds 0–4): worst forward error 1.0·10⁻² of its bound (dense rows, κ = 1e8,
/// ρ = 1e-6), iterations at most 0.80 of their bound, normal-equation residual at most 8.0×
/// QR's (dense rows, κ = 1e12, ρ = 1e-3, seed 4: 5.0·10⁻¹⁰ against 6.2·10⁻¹¹). That last rule is
/// the tight one, in a cell where the forward bound says nothing (`κ²ρu ≈ 10⁵`): over sketch
/// seeds 0–29 the ratio there reached 61× (dense rows; 14× with 5 per row) with one refinement
/// run, against 3.6× on the dense generator's problem of the same size, before the solver
/// checked its answer for backward stability and refined further
/// ([`backward_check_refines_the_answers_a_single_refinement_run_leaves_far_from_qr`]); the
/// seeds are fixed, so the test is deterministic. About 6 s in the debug profile.
#[test]
fn sparse_sweep_is_forward_stable_for_every_seed_and_storage() {
    let (n, d) = (4000, 50);
    let start = std::time::Instant::now();
    let mut informative = 0;
    let (mut worst_fe, mut worst_it, mut worst_ner) = (0.0f64, 0.0f64, 0.0f64);
    let (mut worst_fe_at, mut worst_ner_at) = (String::new(), String::new());
    for (shape, group) in [("dense rows", d), ("5 per row", 5)] {
        for (ki, &kappa) in [1e4, 1e8, 1e12].iter().enumerate() {
            for (ri, &rho) in [1e-6, 1e-3].iter().enumerate() {
                let cell = format!("{shape}, κ={kappa:e} ρ={rho:e}");
                let pr = sparse_epperly(n, d, group, kappa, rho, 500 + 10 * ki as u64 + ri as u64);
                let csc = pr.a.to_csc();
                let csr_v = MatrixRef::sparse(&pr.a).unwrap();
                let csc_v = MatrixRef::sparse(&csc).unwrap();
                let xq = qr_solve(csr_v, &pr.b, 0.0, Par::Seq).unwrap();
                let ner_qr = normal_equation_residual(csr_v, &xq, &pr.b, Par::Seq).unwrap();
                let bound = 10.0 * U * (kappa + kappa * kappa * rho);
                informative += usize::from(bound < 0.1);
                for s in 0..5 {
                    let what = format!("{cell}, sketch seed {s}");
                    let params = LstsqParams {
                        probe: false,
                        seed: Seed::new(s),
                        ..Default::default()
                    };
                    let (xs, info) = sketch_and_precondition(csr_v, &pr.b, &params).unwrap();
                    let (xc, info_c) = sketch_and_precondition(csc_v, &pr.b, &params).unwrap();
                    assert!(
                        xs.iter().zip(&xc).all(|(p, q)| p.to_bits() == q.to_bits()),
                        "{what}: CSC answer differs from CSR"
                    );
                    assert_eq!(info.run_iterations, info_c.run_iterations, "{what}");
                    assert!(info.converged, "{what}: {info:?}");

                    let fe = rel(&xs, &pr.x);
                    if bound < 1.0 && fe / bound > worst_fe {
                        worst_fe = fe / bound;
                        worst_fe_at = format!("{what} ({fe:.2e} vs {bound:.2e})");
                    }
                    assert!(fe <= bound, "{what}: forward error {fe:e} > {bound:e}");

                    let pre = Preconditioner::new(csr_v, &params).unwrap();
                    assert_eq!(pre.sketch_rows(), info.sketch_rows, "{what}");
                    assert_eq!(Some(pre.factorization()), info.factorization, "{what}");
                    let kp = cond(&(&pr.factor * pre.to_dense()));
                    let it_bound = params.tol.ln() / ((kp - 1.0) / (kp + 1.0)).ln() + 5.0;
                    for &it in &info.run_iterations {
                        worst_it = worst_it.max(it as f64 / it_bound);
                        assert!(
                            it as f64 <= it_bound,
                            "{what}: run took {it} iterations > bound {it_bound:.1} (κ_p = {kp:.3})"
                        );
                    }
                    let slack = 1e-8 + 10.0 * U * kappa;
                    assert!(
                        info.kappa_estimate <= kp * (1.0 + slack)
                            && info.kappa_estimate >= kp / 2.0,
                        "{what}: κ estimate {} vs exact {kp}",
                        info.kappa_estimate
                    );

                    let ner = normal_equation_residual(csr_v, &xs, &pr.b, Par::Seq).unwrap();
                    if ner / ner_qr > worst_ner {
                        worst_ner = ner / ner_qr;
                        worst_ner_at = format!("{what} ({ner:.2e} vs {ner_qr:.2e})");
                    }
                    assert!(
                        ner <= 10.0 * ner_qr,
                        "{what}: normal-eq residual {ner:e} vs QR {ner_qr:e}"
                    );
                }
            }
        }
    }
    assert_eq!(
        informative, 8,
        "cells where the forward-error bound is below 0.1"
    );
    eprintln!(
        "sparse sweep: worst forward error / bound (bound < 1) {worst_fe:.3e} at {worst_fe_at}, \
         iterations / bound {worst_it:.3}, normal-eq residual / QR's {worst_ner:.3} at \
         {worst_ner_at}; {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// The sweep's hardest cell (dense rows, κ = 1e12, ρ = 1e-3, 4000 × 50) over sketch seeds
/// 0–29, where one refinement run left the normal-equation residual up to 61× that of a
/// Householder QR solve (6 of 30 seeds above 10×).
/// After the refinement runs asked for, the solver tests its answer against the level a
/// backward-stable answer meets (`‖Aᵀr‖ ≤ u·σ(‖r‖ + σ‖x‖ + ‖b‖)`) and runs up to two more
/// refinement runs while it fails. Pass rules, every seed:
/// - defaults (one refinement run asked for): normal-equation residual ≤ 10× QR's, and at
///   most 4 runs; at least one seed needed an extra run (else the test shows nothing);
/// - `refinement_steps = 0` (plain sketch-and-precondition, which the user asked for): exactly
///   one run, no check;
/// - in the κ = 1e8, ρ = 1e-3 cell, whose answers all sat within 1.4× of QR's residual with
///   one refinement run, no seed pays an extra run (a check set too strict would).
///
/// Measured: at most 8.0× QR's (median 1.19×), extra runs on 9 of 30 seeds (before: 61×,
/// median 2.48×).
#[test]
fn backward_check_refines_the_answers_a_single_refinement_run_leaves_far_from_qr() {
    let (n, d) = (4000, 50);
    let hard = sparse_epperly(n, d, d, 1e12, 1e-3, 521);
    let av = MatrixRef::sparse(&hard.a).unwrap();
    let xq = qr_solve(av, &hard.b, 0.0, Par::Seq).unwrap();
    let ner_qr = normal_equation_residual(av, &xq, &hard.b, Par::Seq).unwrap();
    let (mut extra, mut worst) = (0, 0.0f64);
    for s in 0..30 {
        let params = LstsqParams {
            probe: false,
            seed: Seed::new(s),
            ..Default::default()
        };
        let (x, info) = sketch_and_precondition(av, &hard.b, &params).unwrap();
        let ratio = normal_equation_residual(av, &x, &hard.b, Par::Seq).unwrap() / ner_qr;
        worst = worst.max(ratio);
        assert!(
            ratio <= 10.0,
            "seed {s}: {ratio:.2}× QR's residual, runs {:?}",
            info.run_iterations
        );
        assert!(
            info.runs <= 4 && info.run_iterations.len() == info.runs,
            "seed {s}"
        );
        extra += usize::from(info.runs > 2);

        let plain = LstsqParams {
            refinement_steps: 0,
            ..params
        };
        let (_, info) = sketch_and_precondition(av, &hard.b, &plain).unwrap();
        assert_eq!(info.runs, 1, "seed {s}: plain sketch-and-precondition");
    }
    assert!(extra >= 1, "no seed was refined further");

    let mild = sparse_epperly(n, d, d, 1e8, 1e-3, 510 + 1);
    let av = MatrixRef::sparse(&mild.a).unwrap();
    for s in 0..30 {
        let params = LstsqParams {
            probe: false,
            seed: Seed::new(s),
            ..Default::default()
        };
        let (_, info) = sketch_and_precondition(av, &mild.b, &params).unwrap();
        assert_eq!(
            info.runs, 2,
            "seed {s}: an extra run on a problem that needs none"
        );
    }
    eprintln!(
        "backward check: worst {worst:.2}× QR's residual, {extra} of 30 seeds refined further"
    );
}

/// The backward check on ridge problems: the sketched ridge solve factors `[√λI; SA]`, and a
/// small `λ` leaves the augmented problem `[A; √λI]x ≈ [b; 0]` as ill-conditioned as `A`. The
/// check is that of the augmented problem, `‖Aᵀr − λx‖ ≤ u·σ̄(‖r̄‖ + σ̄‖x‖ + ‖b‖)` with
/// `σ̄ = σ_max([√λI; SA])` and `r̄ = [b − Ax; −√λx]`. Problem: the hard cell of the previous
/// test (dense rows, κ = 10¹², ρ = 10⁻³, 4000 × 50, `‖A‖ = 1`) with `λ ∈ {10⁻³⁰, 10⁻²⁴,
/// 10⁻²⁰}` (below, at and above `σ_min² = 10⁻²⁴`), sketch seeds 0–29. Pass rules, every seed:
/// - the augmented normal-equation residual (`ridge_normal_equation_residual`) is ≤ 10× that
///   of a Householder QR solve of the same ridge problem (`qr_solve`, rows `[√λI; A]`);
/// - at most 4 runs; at least one seed per `λ` takes an extra run;
/// - on the κ = 10⁸ cell, where every answer is within 1.4× of QR's with one refinement run,
///   no seed pays an extra run at any of the three `λ`.
///
/// Measured before the check covered ridge (2026-12-06): at most 9.7×, 15.3×, 14.6× QR's
/// (median 2.9×, 3.3×, 1.9×; 4 seeds above 10×); with it, 3.2×, 6.0×, 4.7× (median 0.60×,
/// 1.01×, 1.87×), extra runs on 15, 15, 3 of 30 seeds; κ = 10⁸: none.
#[test]
fn backward_check_covers_ridge_with_a_small_lambda() {
    let (n, d) = (4000, 50);
    let hard = sparse_epperly(n, d, d, 1e12, 1e-3, 521);
    let mild = sparse_epperly(n, d, d, 1e8, 1e-3, 511);
    for lambda in [1e-30, 1e-24, 1e-20] {
        let av = MatrixRef::sparse(&hard.a).unwrap();
        let ner =
            |x: &[f64]| ridge_normal_equation_residual(av, x, &hard.b, lambda, Par::Seq).unwrap();
        let ner_qr = ner(&qr_solve(av, &hard.b, lambda, Par::Seq).unwrap());
        let (mut extra, mut worst) = (0, 0.0f64);
        for s in 0..30 {
            let params = LstsqParams {
                probe: false,
                seed: Seed::new(s),
                ridge: lambda,
                ..Default::default()
            };
            let (x, info) = sketch_and_precondition(av, &hard.b, &params).unwrap();
            let ratio = ner(&x) / ner_qr;
            worst = worst.max(ratio);
            assert!(
                ratio <= 10.0,
                "λ {lambda:e}, seed {s}: {ratio:.2}× QR's residual, runs {:?}",
                info.run_iterations
            );
            assert!(info.runs <= 4, "λ {lambda:e}, seed {s}");
            extra += usize::from(info.runs > 2);

            let mv = MatrixRef::sparse(&mild.a).unwrap();
            let (_, info) = sketch_and_precondition(mv, &mild.b, &params).unwrap();
            assert_eq!(
                info.runs, 2,
                "λ {lambda:e}, seed {s}: an extra run at κ = 1e8"
            );
        }
        assert!(extra >= 1, "λ {lambda:e}: no seed was refined further");
        eprintln!("ridge λ {lambda:e}: worst {worst:.2}× QR's residual, {extra} of 30 refined");
    }
}

/// Dense least squares by faer's column-pivoted QR: `(x, ‖Kx − b‖)`.
fn dense_lstsq(k: &Mat<f64>, b: &[f64]) -> (Vec<f64>, f64) {
    let mut rhs = col(b);
    k.col_piv_qr().solve_lstsq_in_place(rhs.as_mut());
    let x: Vec<f64> = (0..k.ncols()).map(|i| rhs[(i, 0)]).collect();
    (x.clone(), dense_residual(k, &x, b))
}

/// `‖Kx − b‖` with `K` formed densely by the test.
fn dense_residual(k: &Mat<f64>, x: &[f64], b: &[f64]) -> f64 {
    let r = k * col(x);
    norm(&(0..k.nrows()).map(|i| r[(i, 0)] - b[i]).collect::<Vec<_>>())
}

/// P3 `min ‖exp(AAᵀ)x − b‖` beyond the one scale `lstsq_kernel::p3_matches_dense_solve` uses
/// (`A = 0.4·G`): `A = c·G` for c ∈ {0.6, 0.8} with the same sizes and seeds (n = 1000, d = 16,
/// `G` Gaussian seed 5, `b` Gaussian seed 6), on each inner route (`Auto`, `Cg`, `Cholesky`).
/// `K = exp(AAᵀ)` is formed densely here (entrywise `exp` of faer's `AAᵀ`). `‖aᵢ‖²` reaches
/// about 26 at c = 0.8, far below the documented trouble spot (`‖aᵢ‖²` near 100, where
/// evaluating `exp(AAᵀ)` in `f64` alone costs `tol`), so every route must answer. Pass rules:
/// - residual `‖Kx − b‖ ≤ max(1.01·res_dense, 10⁻¹⁰‖b‖)`, `res_dense` that of faer's
///   column-pivoted QR solve of `K` (the rule of the existing test; 10⁻¹⁰ is the default
///   `tol`, which the docs guarantee for an invertible `K`);
/// - relative forward error against the dense solution `≤ 10·κ(K)·tol` wherever that is below 1,
///   `κ(K)` from faer's symmetric eigenvalues of `K` (SPD for distinct rows): a residual of
///   `tol·‖b‖` allows `‖x − x*‖/‖x*‖ ≤ κ·tol`, and the dense solution's own error (about
///   `u·κ`) and the test's differently rounded `K` are far below the other factor of 10.
///
/// Measured: κ(K) = 1.2·10⁷ at c = 0.6 (forward bound 1.2·10⁻², errors 9·10⁻¹⁵ by Cholesky and
/// 8·10⁻¹² by CG) and 5.9·10¹¹ at c = 0.8 (bound 590: not applied); residuals/‖b‖ 5·10⁻¹⁵ and
/// 4·10⁻¹⁵ on the Cholesky routes (dense QR: 6·10⁻¹⁵, 4·10⁻¹⁵), 7.8·10⁻¹¹ and 1.2·10⁻¹¹ by CG,
/// within the 10⁻¹⁰ of the rule. `Auto` takes the Cholesky route at n = 1000, as documented
/// (asserted through `info.cholesky`).
#[test]
fn p3_matches_dense_solves_at_larger_scales_on_every_route() {
    let (n, d) = (1000, 16);
    let start = std::time::Instant::now();
    let g = gauss(n, d, 5);
    let b = common::rhs(n, 6);
    let nb = norm(&b);
    for c in [0.6, 0.8] {
        let a = Mat::from_fn(n, d, |i, j| c * g[(i, j)]);
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let aat = &a * a.transpose();
        let k = Mat::from_fn(n, n, |i, j| aat[(i, j)].exp());
        let (x_dense, res_dense) = dense_lstsq(&k, &b);
        let eig = k.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
        let (lo, hi) = (eig[0], eig[n - 1]);
        assert!(lo > 0.0, "c={c}: K not positive definite ({lo:e})");
        let kappa = hi / lo;
        let max_sq = (0..n).map(|i| aat[(i, i)]).fold(0.0f64, f64::max);
        for route in [InnerSolve::Auto, InnerSolve::Cg, InnerSolve::Cholesky] {
            let params = KernelParams {
                inner_solve: route,
                ..KernelParams::default()
            };
            let what = format!("c={c}, {route:?} (κ(K) = {kappa:.3e}, max ‖aᵢ‖² = {max_sq:.1})");
            let (x, info) = solve_p3(av, &b, &params).unwrap_or_else(|e| panic!("{what}: {e:?}"));
            // Cholesky on its route and on Auto's (n ≤ 8192, and the forced Cholesky succeeds,
            // so Auto has no reason to fall back); CG on its own.
            assert_eq!(
                info.cholesky,
                route != InnerSolve::Cg,
                "{what}: route taken"
            );
            let res = dense_residual(&k, &x, &b);
            let res_bound = (1.01 * res_dense).max(params.tol * nb);
            assert!(
                res <= res_bound,
                "{what}: residual {res:e} > {res_bound:e} (dense {res_dense:e})"
            );
            let fe = rel(&x, &x_dense);
            let fe_bound = 10.0 * kappa * params.tol;
            if fe_bound < 1.0 {
                assert!(
                    fe <= fe_bound,
                    "{what}: forward error {fe:e} > {fe_bound:e}"
                );
            }
            eprintln!(
                "P3 {what}: residual/‖b‖ {:.3e} (bound {:.3e}, dense {:.3e}), forward error \
                 {fe:.3e} (bound {fe_bound:.3e}), cholesky {}, refinements {}, cg {}",
                res / nb,
                res_bound / nb,
                res_dense / nb,
                info.cholesky,
                info.refinements,
                info.cg_iterations
            );
        }
    }
    eprintln!("P3 scales: {:.1} s", start.elapsed().as_secs_f64());
}

/// The rank-deficient problem of
/// [`rank_deficient_with_an_ill_conditioned_range_gives_the_minimum_norm_solution`]:
/// `A` (dense), its CSR copy, `U` (whose column 40 is orthogonal to `range(A)`) and the exact
/// minimum-norm solution `x` of `(A, Ax + ρ·U₄₀)`.
struct RankDeficient {
    a: Mat<f64>,
    csr: sprs::CsMat<f64>,
    u: Mat<f64>,
    x: Vec<f64>,
}

const RD_RANK: usize = 40;

fn rank_deficient_problem() -> RankDeficient {
    let (n, d, r) = (2000, 50, RD_RANK);
    let u = gauss(n, r + 1, 31).qr().compute_thin_Q();
    let v = gauss(d, d, 32).qr().compute_thin_Q();
    let sigma: Vec<f64> = (0..r)
        .map(|k| 10f64.powf(-8.0 * k as f64 / (r - 1) as f64))
        .collect();
    let us = Mat::from_fn(n, r, |i, k| u[(i, k)] * sigma[k]);
    let a = &us * v.subcols(0, r).transpose();
    let mut tri = sprs::TriMat::new((n, d));
    for i in 0..n {
        for j in 0..d {
            tri.add_triplet(i, j, a[(i, j)]);
        }
    }
    let csr: sprs::CsMat<f64> = tri.to_csr();
    let coeff = unit(common::rhs(r, 33));
    let x: Vec<f64> = (0..d)
        .map(|j| (0..r).map(|k| v[(j, k)] * coeff[k]).sum())
        .collect();
    RankDeficient { a, csr, u, x }
}

/// The pass rules of
/// [`rank_deficient_with_an_ill_conditioned_range_gives_the_minimum_norm_solution`] for each `ρ`
/// of `rhos`; the worst error / bound.
fn check_rank_deficient(rhos: &[f64]) -> f64 {
    let pr = rank_deficient_problem();
    let (a, r) = (&pr.a, RD_RANK);
    let (n, d) = (a.nrows(), a.ncols());
    let ax = a * col(&pr.x);
    // The reference: faer's SVD of the stored A, cut at 1e-13·σ₁ (the library's rcond).
    let svd = a.thin_svd().unwrap();
    let s = svd.S().column_vector();
    let kept = (0..d).filter(|&k| s[k] > 1e-13 * s[0]).count();
    assert_eq!(kept, r, "dense SVD: singular values {s:?}");
    let kappa_r = 1e8;
    let mut worst = 0.0f64;
    for &rho in rhos {
        let b: Vec<f64> = (0..n).map(|i| ax[(i, 0)] + rho * pr.u[(i, r)]).collect();
        let utb = svd.U().transpose() * col(&b);
        let x_ref: Vec<f64> = (0..d)
            .map(|j| (0..r).map(|k| svd.V()[(j, k)] * utb[(k, 0)] / s[k]).sum())
            .collect();
        let bound = 10.0 * U * (kappa_r + kappa_r * kappa_r * rho / (s[0] * norm(&x_ref)));
        let e_ref = rel(&x_ref, &pr.x);
        assert!(
            e_ref <= bound,
            "ρ={rho:e}: dense SVD reference off by {e_ref:e} > {bound:e}"
        );
        for (storage, view) in [
            ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&pr.csr).unwrap()),
        ] {
            let what = format!("ρ={rho:e}, {storage}");
            let sketched = LstsqParams {
                probe: false,
                ..Default::default()
            };
            let (xs, info) = sketch_and_precondition(view, &b, &sketched)
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            assert!(info.converged, "{what}: {info:?}");
            assert_eq!(info.rank, r, "{what}: reported rank");
            assert_eq!(info.factorization, Some(Factorization::Svd), "{what}");
            let e = rel(&xs, &x_ref);
            worst = worst.max(e / bound);
            eprintln!(
                "rank-deficient {what}: error vs A⁺b {e:.3e} (bound {bound:.3e}; reference vs \
                 exact x {e_ref:.3e}, solver vs exact x {:.3e}), iterations {:?}",
                rel(&xs, &pr.x),
                info.run_iterations
            );
            assert!(e <= bound, "{what}: ‖x − A⁺b‖/‖A⁺b‖ = {e:e} > {bound:e}");
            let (xd, info_d) = sketch_and_precondition(view, &b, &LstsqParams::default())
                .unwrap_or_else(|e| panic!("{what}, default: {e:?}"));
            assert!(
                xd.iter().zip(&xs).all(|(p, q)| p.to_bits() == q.to_bits()),
                "{what}: the default (probe {} iterations, {:?}) differs from the sketched solve",
                info_d.probe_iterations,
                info_d.factorization
            );
            assert_eq!(info_d.rank, r, "{what}: default's reported rank");
        }
    }
    worst
}

/// A rank-deficient `A` whose range is ill-conditioned: `A = U·diag(σ)·Vᵀ`, 2000 × 50, `σ` =
/// logspace(0, −8, 40) followed by 10 zeros (`U` the thin Q of a seeded Gaussian 2000 × 41,
/// `V` that of a Gaussian 50 × 50, both faer Householder QR), so rank 40, `‖A‖ = 1` and
/// `κ_r = σ₁/σ₄₀ = 10⁸`. The docs' rank threshold keeps `σ = 10⁻⁸`: the relative cut is
/// `rcond = 10⁻¹³`, and the unpivoted QR of the sketch drops only directions below `16·m·ε`
/// (`≤ 1.4·10⁻¹¹` for the `m ≤ n/2 = 1000` rows here), while the 10 zero singular values of the
/// stored (rounded) `A` are about `10⁻¹⁶`. `x = V₄₀·(unit Gaussian)`, in `range(Aᵀ)`, `‖x‖ = 1`,
/// and `b = Ax + ρ·U₄₁` (`U₄₁ ⊥ range(A)`) for ρ ∈ {1e-6, 1e-3}, so `x = A⁺b` (smaller residuals:
/// the next test).
/// Solved from dense and CSR storage, sketched (`probe: false`) and with the default probe.
/// Pass rules:
/// - `info.rank = 40` with the SVD (LSRN) preconditioner, converged;
/// - `‖x̂ − A⁺b‖/‖A⁺b‖ ≤ 10u(κ_r + κ_r²ρ/(‖A‖‖A⁺b‖))` (ALGORITHMS.md §5's forward-error bound on
///   the rank-40 problem), `A⁺b` from a dense faer SVD of the stored `A` with the same cut
///   (`σ > 10⁻¹³·σ₁`; that it keeps exactly 40 is asserted); the reference is itself held to
///   the same bound against the exact `x`, so a bad reference fails as such;
/// - with the default probe the answer is the sketched solve's, bit for bit (documented: an
///   ill-conditioned `A` pays the probe's passes, then the sketched solve runs unchanged).
///
/// Measured: error vs `A⁺b` at most 2.5·10⁻² of the bound (2.8·10⁻⁴ against 1.1·10⁻², CSR at
/// ρ = 1e-3); the reference's own error against the exact `x` is about 2·10⁻² of it.
#[test]
fn rank_deficient_with_an_ill_conditioned_range_gives_the_minimum_norm_solution() {
    let start = std::time::Instant::now();
    let worst = check_rank_deficient(&[1e-6, 1e-3]);
    eprintln!(
        "rank-deficient: worst error / bound {worst:.3e}; {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// The same problem and pass rules with a smaller residual, ρ ∈ {1e-10, 1e-8, 2e-7}
/// (`‖r‖/‖b‖ ≈ 5·10⁻¹⁰ … 10⁻⁶`; `‖b‖ = 0.19`): a well-posed rank-deficient problem whose sketch
/// (800 rows) finds the right rank, 40, which the docs say gets its minimum-norm solution
/// (`Error::Factorization` is documented only for a sketch that missed part of `range(Aᵀ)`).
/// It failed until 2026-12-06 (the check now allows for its rounding floor
/// `100·u·(σ_max‖x‖ + ‖b‖)/‖r‖`): every ρ from 1e-11 to 2e-7 was refused, dense and CSR, with
/// `Factorization { "the sketch of 800 rows found rank 40 < 50, but A has more:
/// ‖Aᵀr‖/(σ_max(SA)·‖r‖) = 4.19e-8 > 1.0e-11 …" }` (ρ = 1e-10, dense; 6.28e-8 from CSR). The
/// SVD route's check (`check_sketched_rank`) holds `‖Aᵀr‖/(σ_max·‖r‖)` to `100·max(tol, rcond)
/// = 10⁻¹¹` without a rounding allowance: the `r = b − Ax` it computes carries an error of about
/// `u·‖b‖`, whose `Aᵀ`-image alone is of order `u·‖b‖/‖r‖` relative (the library's own
/// `normal_equation_residual` at the *exact* `x` is 9.7·10⁻⁹ at ρ = 1e-10 and 9.1·10⁻¹² only at
/// ρ = 1e-7), so no answer can pass. Below ρ ≈ 10⁻¹² the consistency test
/// (`‖r‖ ≤ 10⁻¹¹·‖b‖`) lets it through, and from ρ = 5e-7 on the ratio is below the limit.
#[test]

fn rank_deficient_with_a_small_residual_gives_the_minimum_norm_solution() {
    check_rank_deficient(&[1e-10, 1e-8, 2e-7]);
}

/// A refinement run whose update vanishes in rounding ends the refinement, as a run without an
/// iteration does: every further run would repeat it exactly. Found by the `solvers` fuzz
/// target once the backward check could add runs: `A = 2⁸⁰⁰·G` (60 × 3, Gaussian `G`) and
/// `b = 2⁻⁷⁶⁰·g`, whose solution `‖A⁺b‖ ≈ 2⁻¹⁵⁶⁰` lies below the smallest subnormal, so `x = 0`
/// is its nearest representable answer; each LSQR run made one iteration whose update
/// underflowed, and the solve went on for every run allowed (`refinement_steps + 1`, plus the
/// check's two, since `‖Aᵀb‖/(σ‖b‖) ≈ 1` at `x = 0`). Now: `x = 0`, two runs (the first and
/// one refinement run, which shows that nothing moves), whatever `refinement_steps` allows.
#[test]
fn refinement_stops_when_a_run_leaves_x_unchanged() {
    let g = gauss(60, 3, 11);
    let a = Mat::from_fn(60, 3, |i, j| g[(i, j)] * 2f64.powi(800));
    let b: Vec<f64> = common::rhs(60, 12)
        .into_iter()
        .map(|v| v * 2f64.powi(-760))
        .collect();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    for steps in [1, 10] {
        let params = LstsqParams {
            probe: false,
            refinement_steps: steps,
            ..Default::default()
        };
        let (x, info) = sketch_and_precondition(av, &b, &params).unwrap();
        assert!(x.iter().all(|&v| v == 0.0), "steps {steps}: {x:?}");
        assert_eq!(info.runs, 2, "steps {steps}: {:?}", info.run_iterations);
        assert!(
            info.run_iterations.iter().all(|&it| it >= 1),
            "{:?}",
            info.run_iterations
        );
    }
}
