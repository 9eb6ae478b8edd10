//! Least squares (issue 4): accuracy against dense references, stability on Epperly's problems,
//! statistics of sketch-and-solve, reproducibility, bad input and non-convergence.

use crate::common;

use common::{assert_bitwise, rel_diff, with_threads, Layouts};
use faer::{Mat, Par};
use proptest::prelude::*;
use randnla::lstsq::*;
use randnla::problems::{gaussian_matrix, ls_problem, random_sparse, sparse_ls_illmix};
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
use randnla::{Error, MatrixRef, Seed};
use std::ops::ControlFlow;

const U: f64 = f64::EPSILON / 2.0;

fn col(v: &[f64]) -> Mat<f64> {
    Mat::from_fn(v.len(), 1, |i, _| v[i])
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Minimum-norm least-squares solution by the dense SVD (pseudo-inverse), singular values below
/// `1e-10·σ_max` dropped.
fn pinv_solve(a: &Mat<f64>, b: &[f64]) -> Vec<f64> {
    let svd = a.thin_svd().unwrap();
    let s = svd.S().column_vector();
    let smax = s[0];
    let utb = svd.U().transpose() * col(b);
    let mut c = Mat::<f64>::zeros(s.nrows(), 1);
    for i in 0..s.nrows() {
        if s[i] > 1e-10 * smax {
            c[(i, 0)] = utb[(i, 0)] / s[i];
        }
    }
    let x = svd.V() * c;
    (0..a.ncols()).map(|i| x[(i, 0)]).collect()
}

fn cond(a: &Mat<f64>) -> f64 {
    randnla::diagnostics::condition_number(a.as_ref()).unwrap()
}

/// The least-squares solution by Householder QR and its residual norm OPT = ‖b − Ax⋆‖.
fn qr_optimum(a: &Mat<f64>, b: &[f64]) -> (Vec<f64>, f64) {
    let x = qr_solve(MatrixRef::dense(a.as_ref()).unwrap(), b, 0.0, Par::Seq).unwrap();
    let ax = a * col(&x);
    let opt = norm(&(0..b.len()).map(|i| b[i] - ax[(i, 0)]).collect::<Vec<_>>());
    (x, opt)
}

fn rhs(n: usize, seed: u64) -> Vec<f64> {
    let g = gaussian_matrix(n, 1, Seed::new(seed)).unwrap();
    (0..n).map(|i| g[(i, 0)]).collect()
}

/// Epperly's sweep κ ∈ {1, 1e4, 1e8, 1e12} × ρ ∈ {1e-12, 1e-6, 1e-3} at 2000 × 50 (‖A‖ = ‖x‖ = 1):
/// - forward error ‖x̂ − x‖/‖x‖ ≤ 10u(κ + κ²ρ) (the bound a backward-stable solver attains).
///   At κ = 1e12 with ρ ≥ 1e-6 that bound exceeds 1 and says nothing (κ²ρu ≥ 1: no digit of the
///   solution is determined; the generator's `x` is itself 1.5 and 1486 away from the exact
///   least-squares solution of the rounded `b` there, a review measured); the test counts the
///   ten cells where it is below 0.1 and so informative, and in the other two the backward-error
///   comparison with QR below is the check;
/// - every LSQR run needs ≤ log(tol)/log((κ_p − 1)/(κ_p + 1)) + 5 iterations, κ_p = κ(A·N)
///   measured exactly by a dense SVD;
/// - the reported κ estimate (Ritz values) is a lower bound within a factor 2 of κ_p;
/// - the normal-equation residual ‖Aᵀr‖/(‖A‖‖r‖) (backward error) is within 10× that of a
///   Householder QR solve of the same problem (QR itself reaches ~1e-13..1e-10 for ρ ≥ 1e-6 and
///   ~1e-4 for ρ = 1e-12, where b is consistent to rounding and the ratio measures only noise).
#[test]
fn epperly_sweep_is_forward_stable_and_iterations_do_not_grow_with_kappa() {
    let (n, d) = (2000, 50);
    // The sketched solve (the probe would solve the κ = 1 cells unpreconditioned); the default,
    // probe included, is held to the same accuracy at the end of each cell.
    let params = LstsqParams {
        probe: false,
        ..Default::default()
    };
    let mut informative = 0;
    for (ki, &kappa) in [1.0, 1e4, 1e8, 1e12].iter().enumerate() {
        for (ri, &rho) in [1e-12, 1e-6, 1e-3].iter().enumerate() {
            let seed = Seed::new(100 + 10 * ki as u64 + ri as u64);
            let (a, b, x, _) = ls_problem(n, d, kappa, rho, seed).unwrap();
            let av = MatrixRef::dense(a.as_ref()).unwrap();
            let (xs, info) = sketch_and_precondition(av, &b, &params).unwrap();
            assert!(info.converged);
            let fe = dist(&xs, &x) / norm(&x);
            let bound = 10.0 * U * (kappa + kappa * kappa * rho);
            assert!(
                fe <= bound,
                "κ={kappa:e} ρ={rho:e}: forward error {fe:e} > {bound:e}"
            );
            informative += usize::from(bound < 0.1);

            let pre = Preconditioner::new(av, &params).unwrap();
            let kp = cond(&(&a * pre.to_dense()));
            let it_bound = params.tol.ln() / ((kp - 1.0) / (kp + 1.0)).ln() + 5.0;
            for &it in &info.run_iterations {
                assert!(
                    it as f64 <= it_bound,
                    "κ={kappa:e} ρ={rho:e}: run took {it} iterations > bound {it_bound:.1} (κ_p = {kp:.3})"
                );
            }
            // The operator LSQR applies is A·R⁻¹ in floating point, which differs from the exact
            // one by about u·κ(A) in relative terms (and so does the "exact" κ_p computed from
            // the dense product): the Ritz bound holds to that accuracy, not to rounding.
            let slack = 1e-8 + 10.0 * U * kappa;
            assert!(
                info.kappa_estimate <= kp * (1.0 + slack) && info.kappa_estimate >= kp / 2.0,
                "κ={kappa:e} ρ={rho:e}: κ estimate {} vs exact {kp}",
                info.kappa_estimate
            );
            let xq = qr_solve(av, &b, 0.0, Par::Seq).unwrap();
            let ner = normal_equation_residual(av, &xs, &b, Par::Seq).unwrap();
            let ner_qr = normal_equation_residual(av, &xq, &b, Par::Seq).unwrap();
            assert!(
                ner <= 10.0 * ner_qr,
                "κ={kappa:e} ρ={rho:e}: normal-eq residual {ner:e} vs QR {ner_qr:e}"
            );
            let (xd, info_d) = sketch_and_precondition(av, &b, &LstsqParams::default()).unwrap();
            let fe_d = dist(&xd, &x) / norm(&x);
            let ner_d = normal_equation_residual(av, &xd, &b, Par::Seq).unwrap();
            assert!(
                fe_d <= bound && ner_d <= 10.0 * ner_qr,
                "κ={kappa:e} ρ={rho:e}, default (probe {} iterations, {:?}): forward error {fe_d:e}, normal-eq residual {ner_d:e}",
                info_d.probe_iterations,
                info_d.factorization
            );
            // κ(A) = 1 needs no preconditioner; from 1e4 on the probe gives up.
            assert_eq!(
                info_d.factorization.is_none(),
                kappa == 1.0,
                "κ={kappa:e} ρ={rho:e}"
            );
        }
    }
    assert_eq!(
        informative, 10,
        "cells where the forward-error bound is below 0.1"
    );
}

/// ALGORITHMS.md §5: with a sketch of m = 2d–4d rows the preconditioned operator `A·R⁻¹` has
/// κ ≤ (1 + ε)/(1 − ε) whatever κ(A), so LSQR's iteration count does not grow with κ(A). On
/// Epperly's problems that share `U` (same problem seed) and differ only in κ(A) ∈ {1, 10⁴,
/// 10⁸, 10¹²}, for m = 2d and 4d and six sketch seeds (no probe):
/// - κ(A·R⁻¹) (dense SVD of the product) is the same for every κ(A) to 10⁻³ relative: it is
///   κ(S·U), a property of the sketch and `range(A)` alone (measured: agreement to 2·10⁻⁵; the
///   product's rounding, about u·κ(A), is the only difference);
/// - it is at most 7 at m = 2d (§1's subspace-embedding figure for s = 8, m = 2d) and 3.5 at
///   m = 4d (a Gaussian sketch's (1 + √(d/m))/(1 − √(d/m)) = 3, plus room for the spread over
///   seeds); measured 4.86–5.41 and 2.76–3.06;
/// - every LSQR run (first solve and refinement) stops within 5 plus
///   log(tol)/log((κ_p − 1)/(κ_p + 1)) iterations, a bound free of κ(A) (measured first runs: 46–60
///   at 2d, 33–38 at 4d, growing by at most a quarter from κ(A) = 1 to 10¹²).
#[test]
fn preconditioned_conditioning_and_iterations_do_not_depend_on_kappa() {
    let (n, d) = (2000, 50);
    for (m, kp_max) in [(2 * d, 7.0), (4 * d, 3.5)] {
        for s in 0..6 {
            let params = LstsqParams {
                probe: false,
                sketch_rows: Some(m),
                seed: Seed::new(s),
                ..Default::default()
            };
            let mut kps = Vec::new();
            for kappa in [1.0, 1e4, 1e8, 1e12] {
                let (a, b, _, _) = ls_problem(n, d, kappa, 1e-6, Seed::new(500)).unwrap();
                let av = MatrixRef::dense(a.as_ref()).unwrap();
                let pre = Preconditioner::new(av, &params).unwrap();
                let kp = cond(&(&a * pre.to_dense()));
                assert!(kp <= kp_max, "m={m} seed {s} κ={kappa:e}: κ(AR⁻¹) = {kp}");
                let it_bound = params.tol.ln() / ((kp - 1.0) / (kp + 1.0)).ln() + 5.0;
                let (_, info) = sketch_and_precondition(av, &b, &params).unwrap();
                assert!(info.converged, "m={m} seed {s} κ={kappa:e}");
                for &it in &info.run_iterations {
                    assert!(
                        it as f64 <= it_bound,
                        "m={m} seed {s} κ={kappa:e}: {it} iterations > {it_bound:.1} (κ_p = {kp:.3})"
                    );
                }
                kps.push(kp);
            }
            for &kp in &kps {
                assert!(
                    (kp / kps[0] - 1.0).abs() <= 1e-3,
                    "m={m} seed {s}: κ(AR⁻¹) over κ(A) = 1, 1e4, 1e8, 1e12: {kps:?}"
                );
            }
        }
    }
}

/// Plain sketch-and-precondition (no refinement) is not backward stable at κ = 1e12
/// (Meier et al., arXiv 2302.07202); one refinement run fixes it. Measured at seed 7 with
/// m = 4d (pinned: the figures below are for that sketch; the default m, 16d here, gives
/// 1.7e-10, within 10× of QR as the Epperly sweep checks): the normal-equation residual of the
/// plain solve is ~1e-6, the refined one ≈ 1e-10, within 10× of Householder QR's.
#[test]
fn refinement_restores_backward_stability_at_kappa_1e12() {
    let (a, b, _, _) = ls_problem(2000, 50, 1e12, 1e-3, Seed::new(7)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let refined = LstsqParams {
        sketch_rows: Some(200),
        ..Default::default()
    };
    let plain = LstsqParams {
        refinement_steps: 0,
        ..refined.clone()
    };
    let (x0, _) = sketch_and_precondition(av, &b, &plain).unwrap();
    let (x1, info) = sketch_and_precondition(av, &b, &refined).unwrap();
    let ner0 = normal_equation_residual(av, &x0, &b, Par::Seq).unwrap();
    let ner1 = normal_equation_residual(av, &x1, &b, Par::Seq).unwrap();
    assert_eq!(info.runs, 2);
    assert!(
        ner0 > 1e-9,
        "plain S&P unexpectedly backward stable here: {ner0:e}"
    );
    // The refined residual is at the level of a backward-stable solve (Householder QR on the
    // same problem), 1e-10 at most; the plain one is orders of magnitude above it.
    let xq = qr_solve(av, &b, 0.0, Par::Seq).unwrap();
    let ner_qr = normal_equation_residual(av, &xq, &b, Par::Seq).unwrap();
    assert!(
        ner1 <= 10.0 * ner_qr && ner1 <= 2e-10 && ner0 > 1e3 * ner1,
        "refined: {ner1:e}, QR: {ner_qr:e}, plain: {ner0:e}"
    );
}

/// Sketch-and-solve: over 200 seeds the mean squared residual ratio (‖Ax̃ − b‖/OPT)² minus 1
/// must be within 15% of d/(m − d − 1) (the Gaussian-sketch expectation; the sample mean's
/// standard deviation is ≈ 3% of it here, so 15% is 5 sd), for a Gaussian and a sparse sign
/// sketch at m = 4d, 10d and 40d (ALGORITHMS.md §5's three points: ≈ 1.16, 1.05, 1.01); and the
/// reported `expected_ratio` is √(1 + d/(m − d − 1)).
#[test]
fn sketch_and_solve_residual_ratio_matches_theory_over_many_seeds() {
    let (n, d) = (2000, 20);
    let a = gaussian_matrix(n, d, Seed::new(1)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = rhs(n, 2);
    let (_, opt) = qr_optimum(&a, &b);
    for kind in [
        SketchKind::Gaussian,
        SketchKind::SparseSign { nnz_per_col: 8 },
    ] {
        for m in [4 * d, 10 * d, 40 * d] {
            let expected = d as f64 / (m - d - 1) as f64;
            let mut sum = 0.0;
            let seeds = 200;
            for s in 0..seeds {
                let p = SketchSolveParams {
                    sketch: kind,
                    sketch_rows: Some(m),
                    seed: Seed::new(1000 + s),
                    par: Par::Seq,
                };
                let (_, info) = sketch_and_solve(av, &b, &p).unwrap();
                assert!((info.expected_ratio - (1.0 + expected).sqrt()).abs() < 1e-12);
                assert!(info.residual_norm >= opt * (1.0 - 1e-12));
                sum += (info.residual_norm / opt).powi(2) - 1.0;
            }
            let mean = sum / seeds as f64;
            assert!(
                (mean / expected - 1.0).abs() <= 0.15,
                "{kind:?} m={m}: mean excess {mean:.4} vs expected {expected:.4}"
            );
        }
    }
}

/// Sketch-and-solve's a-posteriori figures against exact computation, for Gaussian and sparse
/// sign sketches at m = 2d, 4d, 10d, 5 seeds each, on a Gaussian `A` with a random `b` and on
/// Epperly's problem with κ = 10⁶ (ρ = 10⁻³). With `U` an orthonormal basis of range(A) and σ₋,
/// σ₊ the extreme singular values of `SU` (computed densely here):
/// - σ₋·‖g‖ ≤ ‖A(x̃ − x⋆)‖ ≤ σ₊·‖g‖ (`excess_estimate` = ‖g‖), to 1e-8 relative;
/// - the true ratio ‖Ax̃ − b‖/OPT ≤ `ratio_bound(σ₊ − 1)`, to 1e-8 relative;
/// - the bound is informative: at m = 10d, `bound − 1 ≤ 4·(ratio − 1)` (measured 1.6–2.8×).
#[test]
fn sketch_and_solve_bound_holds_with_the_exact_distortion() {
    let (n, d) = (2000, 20);
    let gauss = gaussian_matrix(n, d, Seed::new(21)).unwrap();
    let (epperly, b_epperly, _, _) = ls_problem(n, d, 1e6, 1e-3, Seed::new(22)).unwrap();
    for (name, a, b) in [
        ("gaussian", gauss, rhs(n, 24)),
        ("κ = 1e6", epperly, b_epperly),
    ] {
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let u = randnla::diagnostics::orthonormal_basis(a.as_ref()).unwrap();
        let (xopt, opt) = qr_optimum(&a, &b);
        for kind in [
            SketchKind::Gaussian,
            SketchKind::SparseSign { nnz_per_col: 8 },
        ] {
            for m in [2 * d, 4 * d, 10 * d] {
                for seed in 0..5 {
                    let p = SketchSolveParams {
                        sketch: kind,
                        sketch_rows: Some(m),
                        seed: Seed::new(300 + seed),
                        par: Par::Seq,
                    };
                    let (x, info) = sketch_and_solve(av, &b, &p).unwrap();
                    let s = kind.build::<f64>(m, n, p.seed).unwrap();
                    let su = s
                        .as_ref()
                        .apply(MatrixRef::dense(u.as_ref()).unwrap(), Par::Seq)
                        .unwrap();
                    let sv = su.singular_values().unwrap();
                    let (hi, lo) = (sv[0], sv[d - 1]);
                    let diff: Vec<f64> = x.iter().zip(&xopt).map(|(p, q)| p - q).collect();
                    let excess = norm(&col_vec(&(&a * col(&diff))));
                    let g = info.excess_estimate;
                    let what = format!("{name}, {kind:?}, m = {m}, seed {seed}");
                    assert!(
                        lo * g <= excess * (1.0 + 1e-8) && excess <= hi * g * (1.0 + 1e-8),
                        "{what}: ‖A(x̃ − x⋆)‖ = {excess:e}, ‖g‖ = {g:e}, σ ∈ [{lo}, {hi}]"
                    );
                    let ratio = info.residual_norm / opt;
                    let bound = info.ratio_bound(hi - 1.0);
                    assert!(
                        ratio <= bound * (1.0 + 1e-8),
                        "{what}: ratio {ratio} > bound {bound}"
                    );
                    if m == 10 * d {
                        assert!(
                            bound - 1.0 <= 4.0 * (ratio - 1.0),
                            "{what}: bound {bound} vs ratio {ratio}"
                        );
                    }
                }
            }
        }
    }
}

/// `sketched_residual_norm` is `‖S(Ax̃ − b)‖`, recomputed here with the same sketch (rebuilt from
/// the seed) applied to the explicit residual `Ax̃ − b`, for a Gaussian and a sparse sign sketch at
/// `m = 4d`; both sides are the same quantity up to rounding in sums of `n` terms of size `‖b‖`,
/// so they must agree to `1e-10` relative (the residual is of the order of `‖b‖` here, `b`
/// random). At the smallest admissible `m = d` (a square `SA`, invertible for a Gaussian sketch)
/// the sketched problem is solved exactly: the sketched residual is `0` up to rounding amplified
/// by `κ(SA)`, so at most `1e-8·‖Sb‖`, and `expected_ratio` is `∞` (`m ≤ d + 1`).
#[test]
fn sketch_and_solve_reports_the_sketched_residual_and_accepts_m_equal_to_d() {
    let (n, d) = (500, 10);
    let a = gaussian_matrix(n, d, Seed::new(61)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = rhs(n, 62);
    for kind in [
        SketchKind::Gaussian,
        SketchKind::SparseSign { nnz_per_col: 8 },
    ] {
        for m in [4 * d, d] {
            if m == d && kind != SketchKind::Gaussian {
                continue;
            }
            let p = SketchSolveParams {
                sketch: kind,
                sketch_rows: Some(m),
                seed: Seed::new(63),
                par: Par::Seq,
            };
            let (x, info) = sketch_and_solve(av, &b, &p).unwrap();
            let s = kind.build::<f64>(m, n, p.seed).unwrap();
            let ax = &a * col(&x);
            let r: Vec<f64> = (0..n).map(|i| ax[(i, 0)] - b[i]).collect();
            let sr = norm(&s.as_ref().apply_vec(&r).unwrap());
            let sb = norm(&s.as_ref().apply_vec(&b).unwrap());
            let got = info.sketched_residual_norm;
            let what = format!("{kind:?}, m = {m}");
            if m == d {
                assert!(
                    got <= 1e-8 * sb,
                    "{what}: ‖S(Ax̃ − b)‖ = {got:e}, ‖Sb‖ = {sb:e}"
                );
                assert!(sr <= 1e-8 * sb, "{what}: recomputed {sr:e}, ‖Sb‖ = {sb:e}");
                assert_eq!(info.expected_ratio, f64::INFINITY, "{what}");
            } else {
                assert!(
                    (got - sr).abs() <= 1e-10 * sr,
                    "{what}: reported {got} vs recomputed {sr}"
                );
            }
        }
    }
}

fn col_vec(m: &Mat<f64>) -> Vec<f64> {
    (0..m.nrows()).map(|i| m[(i, 0)]).collect()
}

/// A rank-deficient A (rank 20 of 30): the SVD (LSRN) preconditioner is chosen automatically
/// and the solution equals the dense pseudo-inverse solution to 1e-9 (relative).
#[test]
fn rank_deficient_gives_the_minimum_norm_solution() {
    let (n, d, r) = (1000, 30, 20);
    let g1 = gaussian_matrix(n, r, Seed::new(11)).unwrap();
    let g2 = gaussian_matrix(r, d, Seed::new(12)).unwrap();
    let a = &g1 * &g2;
    let b = rhs(n, 13);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let xref = pinv_solve(&a, &b);
    let sketched = LstsqParams {
        probe: false,
        ..Default::default()
    };
    let (x, info) = sketch_and_precondition(av, &b, &sketched).unwrap();
    assert_eq!(info.rank, r);
    assert_eq!(info.factorization, Some(Factorization::Svd));
    let e = dist(&x, &xref) / norm(&xref);
    assert!(e <= 1e-9, "min-norm solution differs by {e:e}");
    // The default's probe gives up here (κ ≈ 10 on the range: too slow unpreconditioned) and
    // the answer is the same. With five columns of a 4000 × 25 Gaussian matrix repeated at
    // half their size (κ ≈ 1.3 on the range) the probe solves it unpreconditioned at tol 1e-10:
    // LSQR from 0 stays in range(Aᵀ), so it gives the minimum-norm solution too.
    let (x, _) = sketch_and_precondition(av, &b, &LstsqParams::default()).unwrap();
    let e = dist(&x, &xref) / norm(&xref);
    assert!(e <= 1e-9, "default: min-norm solution differs by {e:e}");
    let g = gaussian_matrix(4000, 25, Seed::new(14)).unwrap();
    let dup = Mat::from_fn(4000, 30, |i, j| {
        if j < 25 {
            g[(i, j)]
        } else {
            0.5 * g[(i, j - 25)]
        }
    });
    let b_dup = rhs(4000, 15);
    let loose = LstsqParams {
        tol: 1e-10,
        ..Default::default()
    };
    let dv = MatrixRef::dense(dup.as_ref()).unwrap();
    let (x_dup, info) = sketch_and_precondition(dv, &b_dup, &loose).unwrap();
    assert_eq!(info.factorization, None);
    let xref_dup = pinv_solve(&dup, &b_dup);
    let e = dist(&x_dup, &xref_dup) / norm(&xref_dup);
    assert!(e <= 1e-9, "probe: min-norm solution differs by {e:e}");
    // Forcing QR on it is an error, not a wrong answer (an explicit factorization skips the
    // probe).
    let qr_only = LstsqParams {
        factorization: Factorization::Qr,
        ..Default::default()
    };
    assert!(matches!(
        sketch_and_precondition(av, &b, &qr_only),
        Err(Error::RankDeficient { required: 30, .. })
    ));
    // Forcing the SVD on a full-rank problem gives the same answer as QR.
    let sp = random_sparse(800, 15, 4, Seed::new(3)).unwrap();
    let spv = MatrixRef::sparse(&sp).unwrap();
    let b2 = rhs(800, 4);
    let svd = LstsqParams {
        factorization: Factorization::Svd,
        ..Default::default()
    };
    let (xs, _) = sketch_and_precondition(spv, &b2, &svd).unwrap();
    let xq = qr_solve(spv, &b2, 0.0, Par::Seq).unwrap();
    assert!(dist(&xs, &xq) / norm(&xq) <= 1e-12);
    // And on the ridge problem, where the factored sketch is [SA; √λI].
    let ridge_svd = LstsqParams { ridge: 2.5, ..svd };
    let (xs, info) = sketch_and_precondition(spv, &b2, &ridge_svd).unwrap();
    assert_eq!(info.factorization, Some(Factorization::Svd));
    let xq = qr_solve(spv, &b2, 2.5, Par::Seq).unwrap();
    assert!(dist(&xs, &xq) / norm(&xq) <= 1e-12);
}

/// An exact zero pivot is reported with the matrix's numerical rank (singular values above
/// `σ_max·max(rows, d)·ε`), not with the count of nonzero pivots: a 500 × 4 Gaussian matrix with
/// one zero column has rank 3 wherever that column is (the pivot count gave its index), and a
/// 5 × 12 matrix sketched to 120 rows has rank 5 (the pivot count gave 6).
#[test]
fn exact_rank_deficiency_reports_the_numerical_rank() {
    let b = rhs(500, 2);
    for j in 0..4 {
        let mut a = gaussian_matrix(500, 4, Seed::new(5)).unwrap();
        a.col_mut(j).fill(0.0);
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        for (what, got) in [
            ("qr_solve", qr_solve(av, &b, 0.0, Par::Seq).map(|_| ())),
            (
                "sketch_and_solve",
                sketch_and_solve(av, &b, &SketchSolveParams::default()).map(|_| ()),
            ),
        ] {
            assert!(
                matches!(
                    got,
                    Err(Error::RankDeficient {
                        rank: 3,
                        required: 4
                    })
                ),
                "{what}, zero column {j}: {got:?}"
            );
        }
    }
    let wide = gaussian_matrix(5, 12, Seed::new(6)).unwrap();
    let got = sketch_and_solve(
        MatrixRef::dense(wide.as_ref()).unwrap(),
        &rhs(5, 3),
        &SketchSolveParams::default(),
    );
    assert!(
        matches!(
            got,
            Err(Error::RankDeficient {
                rank: 5,
                required: 12
            })
        ),
        "{got:?}"
    );
}

/// Sketch-and-solve caps a sparse sign sketch's `s` at its rows `m`, as sketch-and-precondition
/// does: `m = 5 ≥ d = 4` with the default `s = 8` is a valid request (it was refused as an
/// invalid `nnz_per_col` the caller never set), and gives the same answer as `s = 5` asked for.
#[test]
fn sketch_and_solve_caps_nnz_per_col_at_the_sketch_rows() {
    let a = gaussian_matrix(500, 4, Seed::new(7)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = rhs(500, 8);
    let params = SketchSolveParams {
        sketch_rows: Some(5),
        ..Default::default()
    };
    let (x, info) = sketch_and_solve(av, &b, &params).unwrap();
    assert_eq!(info.sketch_rows, 5);
    let five = SketchSolveParams {
        sketch: SketchKind::SparseSign { nnz_per_col: 5 },
        ..params
    };
    let (x5, _) = sketch_and_solve(av, &b, &five).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&x), bits(&x5), "s = 8 capped at m = 5 vs s = 5");
    // Fewer rows than columns is still an error, named after the rows.
    let three = SketchSolveParams {
        sketch_rows: Some(3),
        ..Default::default()
    };
    assert!(matches!(
        sketch_and_solve(av, &b, &three),
        Err(Error::InvalidParameter {
            name: "sketch_rows",
            ..
        })
    ));
}

/// Ridge: sketch-and-precondition on [A; √λI] equals the dense QR of [A; √λI] and the normal
/// equations (AᵀA + λI) to 1e-10, for λ across six orders of magnitude; unpreconditioned LSQR
/// with damp = √λ agrees too.
#[test]
fn ridge_matches_dense_solves() {
    let a = random_sparse(1500, 40, 5, Seed::new(21)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let b = rhs(1500, 22);
    for lambda in [1e-3, 1.0, 1e3] {
        let (x, info) = ridge(av, &b, lambda, &LstsqParams::default()).unwrap();
        assert!(info.converged);
        let xq = qr_solve(av, &b, lambda, Par::Seq).unwrap();
        let xn = normal_equations(av, &b, lambda, Par::Seq).unwrap();
        let (xl, _) = lsqr(
            av,
            &b,
            &LsqrParams {
                ridge: lambda,
                ..Default::default()
            },
        )
        .unwrap();
        for (name, other) in [("qr", &xq), ("normal", &xn), ("lsqr", &xl)] {
            let e = dist(&x, other) / norm(other);
            assert!(e <= 1e-10, "λ={lambda}: vs {name} {e:e}");
        }
        let resid = {
            let ax = MatrixRef::sparse(&a).unwrap().to_dense().unwrap() * col(&x);
            let r: Vec<f64> = (0..1500).map(|i| b[i] - ax[(i, 0)]).collect();
            (norm(&r).powi(2) + lambda * norm(&x).powi(2)).sqrt()
        };
        assert!((info.residual_norm - resid).abs() <= 1e-10 * resid);
        let ner = ridge_normal_equation_residual(av, &x, &b, lambda, Par::Seq).unwrap();
        assert!(ner <= 1e-13, "λ={lambda}: ridge normal-eq residual {ner:e}");
    }
}

/// Multiple right-hand sides share the sketch and the factorization and match per-column dense
/// QR solves to 1e-10 (and ridge per column too).
#[test]
fn multiple_right_hand_sides_match_dense_solves() {
    let a = random_sparse(1200, 25, 4, Seed::new(31)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let bm = gaussian_matrix(1200, 3, Seed::new(32)).unwrap();
    for lambda in [0.0, 0.5] {
        let p = LstsqParams {
            ridge: lambda,
            ..Default::default()
        };
        let (x, infos) = sketch_and_precondition_multi(av, bm.as_ref(), &p).unwrap();
        assert_eq!((x.nrows(), x.ncols(), infos.len()), (25, 3, 3));
        for j in 0..3 {
            let bj: Vec<f64> = (0..1200).map(|i| bm[(i, j)]).collect();
            let xq = qr_solve(av, &bj, lambda, Par::Seq).unwrap();
            let xj: Vec<f64> = (0..25).map(|i| x[(i, j)]).collect();
            assert!(dist(&xj, &xq) / norm(&xq) <= 1e-10);
            assert!(infos[j].converged);
            assert_eq!(infos[j].timings.sketch, infos[0].timings.sketch);
        }
    }
}

/// The multi-right-hand-side solver probes each column as the single-column solver does: on a
/// well-conditioned `A` (probe on `A`) and on a column-scaled one, dense or CSR (equilibrated,
/// certified; on CSR the column norms come from column 0's first pass) every column is bitwise
/// the single-column default answer and no sketch is made; on nearly collinear columns every
/// column gives up and is bitwise the answer with the probe off, after at least
/// `PROBE_MIN_ITERATIONS` probe iterations. `Factorization::Diagonal` asked for: every column
/// bitwise the single-column answer, dense and CSR.
#[test]
fn multiple_right_hand_sides_probe_each_column() {
    let (n, d, k) = (3000, 20, 3);
    let g = gaussian_matrix(n, d, Seed::new(33)).unwrap();
    let scale = |j: usize| 10f64.powf(-5.0 * j as f64 / 19.0);
    let scaled = Mat::from_fn(n, d, |i, j| g[(i, j)] * scale(j));
    let scaled_csr = {
        let a = random_sparse(n, d, 6, Seed::new(36)).unwrap();
        let mut t = sprs::TriMat::new((n, d));
        for (v, (i, j)) in a.iter() {
            t.add_triplet(i, j, v * scale(j));
        }
        t.to_csr::<usize>()
    };
    let (mix, _, _) = sparse_ls_illmix(n, d, 0.2, 2e-8, 1e-3, Seed::new(34)).unwrap();
    let bm = gaussian_matrix(n, k, Seed::new(35)).unwrap();
    let off = LstsqParams {
        probe: false,
        ..Default::default()
    };
    let cases = [
        (MatrixRef::dense(g.as_ref()).unwrap(), Some(None)),
        (
            MatrixRef::dense(scaled.as_ref()).unwrap(),
            Some(Some(Factorization::Diagonal)),
        ),
        (
            MatrixRef::sparse(&scaled_csr).unwrap(),
            Some(Some(Factorization::Diagonal)),
        ),
        (MatrixRef::sparse(&mix).unwrap(), None),
    ];
    let diagonal = LstsqParams {
        factorization: Factorization::Diagonal,
        ..Default::default()
    };
    for av in [cases[1].0, cases[2].0] {
        let (x, _) = sketch_and_precondition_multi(av, bm.as_ref(), &diagonal).unwrap();
        for j in 0..k {
            let bj: Vec<f64> = (0..n).map(|i| bm[(i, j)]).collect();
            let (single, _) = sketch_and_precondition(av, &bj, &diagonal).unwrap();
            let xj: Vec<f64> = (0..d).map(|i| x[(i, j)]).collect();
            assert_bitwise(&col(&xj), &col(&single), "Diagonal: multi vs single");
        }
    }
    for (av, probe_solves) in cases {
        let (x, infos) =
            sketch_and_precondition_multi(av, bm.as_ref(), &LstsqParams::default()).unwrap();
        let (x_off, _) = sketch_and_precondition_multi(av, bm.as_ref(), &off).unwrap();
        for (j, info) in infos.iter().enumerate() {
            let xj: Vec<f64> = (0..d).map(|i| x[(i, j)]).collect();
            match probe_solves {
                Some(factorization) => {
                    let bj: Vec<f64> = (0..n).map(|i| bm[(i, j)]).collect();
                    let (single, _) =
                        sketch_and_precondition(av, &bj, &LstsqParams::default()).unwrap();
                    assert_bitwise(&col(&xj), &col(&single), "multi vs single");
                    assert_eq!(info.factorization, factorization);
                    assert_eq!(
                        (info.sketch_rows, info.probe_iterations),
                        (0, info.iterations)
                    );
                }
                None => {
                    let xj_off: Vec<f64> = (0..d).map(|i| x_off[(i, j)]).collect();
                    assert_bitwise(&col(&xj), &col(&xj_off), "probe on vs off");
                    assert!(info.sketch_rows > 0);
                    assert!(info.probe_iterations >= PROBE_MIN_ITERATIONS);
                }
            }
        }
    }
}

/// The sketched multi-right-hand-side path (probe off, nearly collinear columns, κ ≈ 1e8):
/// column j warm-starts from its own sketch-and-solve solution (its first residual is the
/// single-column solve's to 1e-10; the warm starts come from one blocked solve, so the bits
/// differ) and ends backward stable, within 1e-6 of the single-column answer; the default
/// sketch has at least 4d rows; the κ estimate is the first run's (the same bits with no
/// refinement run).
/// With a ridge, the sketched preconditioner of `[A; √λI]` makes it well conditioned:
/// `κ([A; √λI]·N) ≤ 3`, measured by a dense SVD.
#[test]
fn sketched_multiple_right_hand_sides_equal_single_solves() {
    let (n, d) = (3000, 20);
    let (mix, _, _) = sparse_ls_illmix(n, d, 0.2, 2e-8, 1e-3, Seed::new(34)).unwrap();
    let av = MatrixRef::sparse(&mix).unwrap();
    let bm = gaussian_matrix(n, 3, Seed::new(37)).unwrap();
    let off = LstsqParams {
        probe: false,
        ..Default::default()
    };
    let (x, infos) = sketch_and_precondition_multi(av, bm.as_ref(), &off).unwrap();
    for (j, multi) in infos.iter().enumerate() {
        let bj: Vec<f64> = (0..n).map(|i| bm[(i, j)]).collect();
        let (single, info) = sketch_and_precondition(av, &bj, &off).unwrap();
        let xj: Vec<f64> = (0..d).map(|i| x[(i, j)]).collect();
        // The warm start: ‖b_j − A x₀‖ (the first residual) is column j's own.
        let (r0, r1) = (multi.residual_history[0], info.residual_history[0]);
        assert!((r0 - r1).abs() <= 1e-10 * r1, "column {j}: {r0} vs {r1}");
        // Both backward stable as a Householder QR solve (normal-equation residual within 10×
        // its own); at κ ≈ 1e8 that fixes x to ≈ 1e-8 (measured 5.5e-8 apart).
        let xq = qr_solve(av, &bj, 0.0, Par::Seq).unwrap();
        let ner_qr = normal_equation_residual(av, &xq, &bj, Par::Seq).unwrap();
        for x in [&xj, &single] {
            let ner = normal_equation_residual(av, x, &bj, Par::Seq).unwrap();
            assert!(ner <= 10.0 * ner_qr, "column {j}: {ner:e} vs QR {ner_qr:e}");
        }
        assert!(dist(&xj, &single) <= 1e-6 * norm(&single), "column {j}");
        assert!(info.runs >= 2 && info.sketch_rows >= 4 * d, "{info:?}");
        let once = LstsqParams {
            refinement_steps: 0,
            ..off
        };
        let (_, first_run) = sketch_and_precondition(av, &bj, &once).unwrap();
        assert_eq!(
            first_run.kappa_estimate.to_bits(),
            info.kappa_estimate.to_bits()
        );
    }
    let dense = av.to_dense().unwrap();
    for lambda in [1e-4, 1e2] {
        let p = LstsqParams {
            ridge: lambda,
            ..off
        };
        let pre = Preconditioner::new(av, &p).unwrap().to_dense();
        let stacked = Mat::from_fn(n + d, d, |i, j| {
            if i < n {
                dense[(i, j)]
            } else if i - n == j {
                lambda.sqrt()
            } else {
                0.0
            }
        });
        let kp = cond(&(&stacked * &pre));
        assert!(kp <= 3.0, "λ = {lambda}: κ = {kp}");
        if lambda < 1.0 {
            assert!(
                cond(&stacked) > 100.0 * kp,
                "λ = {lambda}: the problem needs it"
            );
        }
    }
}

/// Bitwise reproducibility: the same seed gives the same x for 1, 2 and 4 threads (sparse and
/// dense A, and unpreconditioned LSQR), and CSR vs CSC storage (the CSC input is converted to the
/// same CSR arrays); dense storage agrees to 1e-12 (its products sum in a different order).
#[test]
fn answers_are_bitwise_identical_across_threads_and_sparse_layouts() {
    let a = random_sparse(20_000, 30, 4, Seed::new(41)).unwrap();
    let lay = Layouts::new(a);
    let b = rhs(20_000, 42);
    // The sketched solve; the probe's path has its own test below.
    let solve = |v: MatrixRef<'_, f64>, par: Par| {
        let p = LstsqParams {
            par,
            probe: false,
            ..Default::default()
        };
        col(&sketch_and_precondition(v, &b, &p).unwrap().0)
    };
    let views = lay.views();
    let reference = with_threads(1, |par| solve(views[0].1, par));
    for t in [2, 4] {
        let x = with_threads(t, |par| solve(views[0].1, par));
        assert_bitwise(&x, &reference, &format!("csr, {t} threads"));
        // CSC is copied to CSR on the threads (80 000 entries: the parallel transposition).
        let x = with_threads(t, |par| solve(views[1].1, par));
        assert_bitwise(&x, &reference, &format!("csc, {t} threads"));
        let x = with_threads(t, |par| solve(views[2].1, par));
        let x1 = with_threads(1, |par| solve(views[2].1, par));
        assert_bitwise(&x, &x1, &format!("dense, {t} threads"));
        let l = |par| {
            let p = LsqrParams {
                par,
                ..Default::default()
            };
            col(&lsqr(views[0].1, &b, &p).unwrap().0)
        };
        assert_bitwise(&with_threads(t, l), &with_threads(1, l), "lsqr");
    }
    assert_bitwise(&solve(views[1].1, Par::Seq), &reference, "csc vs csr");
    for (name, v) in &views[2..] {
        assert!(
            rel_diff(&solve(*v, Par::Seq), &reference) <= 1e-12,
            "{name}"
        );
    }
}

/// At a size where faer's blocked QR of the sketch (1040 × 130) gives different bits on two
/// threads than on one, sketch-and-precondition and sketch-and-solve still give the same bits on
/// 1, 2 and 4 threads (sketch-and-solve did not, before its QR was pinned to one thread).
#[test]
fn sketch_qr_keeps_answers_independent_of_the_thread_count() {
    let a = random_sparse(6000, 130, 12, Seed::new(45)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let b = rhs(6000, 46);
    let solve = |par: Par| {
        let p = LstsqParams {
            par,
            sketch_rows: Some(1040),
            ..Default::default()
        };
        let x = col(&sketch_and_precondition(av, &b, &p).unwrap().0);
        let sp = SketchSolveParams {
            sketch_rows: Some(1040),
            par,
            ..Default::default()
        };
        (x, col(&sketch_and_solve(av, &b, &sp).unwrap().0))
    };
    let (x1, y1) = with_threads(1, solve);
    for t in [2, 4] {
        let (xt, yt) = with_threads(t, solve);
        assert_bitwise(&xt, &x1, &format!("sketch-and-precondition, {t} threads"));
        assert_bitwise(&yt, &y1, &format!("sketch-and-solve, {t} threads"));
    }
}

/// A CSR row block borrowed from a larger matrix (its row pointers start above 0; the
/// least-squares operator lends them and the values instead of copying) solves bitwise like an
/// owned copy of the same rows, on 1 and 2 threads, by sketch-and-precondition and by LSQR.
#[test]
fn borrowed_csr_row_blocks_solve_like_owned_copies() {
    let a = random_sparse(6000, 25, 4, Seed::new(43)).unwrap();
    assert!(a.is_csr());
    let (lo, hi) = (7, 5003);
    let mut tri = sprs::TriMat::new((hi - lo, a.cols()));
    for i in lo..hi {
        let row = a.outer_view(i).unwrap();
        for (j, &v) in row.iter() {
            tri.add_triplet(i - lo, j, v);
        }
    }
    let owned: sprs::CsMat<f64> = tri.to_csr();
    let block = MatrixRef::sparse(&a).unwrap().row_block(lo, hi).unwrap();
    let b = rhs(hi - lo, 44);
    type Solver = fn(MatrixRef<'_, f64>, &[f64], Par) -> Mat<f64>;
    let s_and_p: Solver = |v, b, par| {
        let p = LstsqParams {
            par,
            ..Default::default()
        };
        col(&sketch_and_precondition(v, b, &p).unwrap().0)
    };
    let plain: Solver = |v, b, par| {
        let p = LsqrParams {
            par,
            ..Default::default()
        };
        col(&lsqr(v, b, &p).unwrap().0)
    };
    for (name, solve) in [("sketch-and-precondition", s_and_p), ("lsqr", plain)] {
        for t in [1, 2] {
            let (x_block, x_owned) = with_threads(t, |par| {
                let owned = MatrixRef::sparse(&owned).unwrap();
                (solve(block, &b, par), solve(owned, &b, par))
            });
            assert_bitwise(&x_block, &x_owned, &format!("{name}, {t} threads"));
        }
    }
}

/// The ill-conditioned sparse problem with collinear column pairs (κ ≈ 1e8) at a test-sized
/// scale: sketch-and-precondition reaches normal-eq residual ≤ 1e-10 and the QR solution;
/// unpreconditioned LSQR does not converge in 1000 iterations; the normal equations lose
/// digits (forward error ≥ 1000× that of sketch-and-precondition) or fail outright.
#[test]
fn illmix_sparse_problem_needs_the_preconditioner() {
    let (a, b, _) = sparse_ls_illmix(6000, 100, 0.05, 2e-8, 1e-3, Seed::new(51)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let xq = qr_solve(av, &b, 0.0, Par::Seq).unwrap();
    let (x, info) = sketch_and_precondition(av, &b, &LstsqParams::default()).unwrap();
    assert!(info.converged);
    let ner = normal_equation_residual(av, &x, &b, Par::Seq).unwrap();
    assert!(ner <= 1e-10, "{ner:e}");
    let e_sp = dist(&x, &xq) / norm(&xq);
    assert!(e_sp <= 1e-6, "{e_sp:e}");
    match lsqr(av, &b, &LsqrParams::default()) {
        Err(Error::NotConverged { iterations, .. }) => assert_eq!(iterations, 1000),
        Ok((_, info)) => panic!(
            "unpreconditioned LSQR should stall, took {}",
            info.iterations
        ),
        Err(e) => panic!("unexpected {e}"),
    }
    if let Ok(xn) = normal_equations(av, &b, 0.0, Par::Seq) {
        let e_ne = dist(&xn, &xq) / norm(&xq);
        assert!(
            e_ne >= 1e3 * e_sp.max(1e-12),
            "normal equations {e_ne:e} vs {e_sp:e}"
        );
    }
}

#[test]
fn callback_sees_every_iteration_and_can_stop_early() {
    let a = random_sparse(3000, 20, 4, Seed::new(61)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let b = rhs(3000, 62);
    let mut seen = Vec::new();
    let (_, info) = sketch_and_precondition_with_callback(
        av,
        &b,
        &LstsqParams::default(),
        &mut |s: &IterState| {
            seen.push(s.iteration);
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert_eq!(seen, (1..=info.iterations).collect::<Vec<_>>());
    assert_eq!(info.residual_history.len(), info.iterations);
    assert!(info.timings.total >= info.timings.iterate);
    let (x, info) = sketch_and_precondition_with_callback(
        av,
        &b,
        &LstsqParams::default(),
        &mut |s: &IterState| {
            if s.iteration >= 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert_eq!(x.len(), 20);
    assert_eq!(info.iterations, 3);
    assert!(info.stopped_by_callback && !info.converged);
}

#[test]
fn non_convergence_is_an_error_with_diagnostics() {
    let (a, b, _, _) = ls_problem(1000, 30, 1e6, 1e-3, Seed::new(71)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let p = LstsqParams {
        max_iters: 2,
        ..Default::default()
    };
    // The error carries the stopping test's history: one value per iteration, the last one the
    // reported final value.
    match sketch_and_precondition(av, &b, &p) {
        Err(Error::NotConverged {
            iterations,
            residual,
            tolerance,
            history,
            ..
        }) => {
            assert_eq!(iterations, 2);
            assert!(residual > tolerance && tolerance == 1e-14);
            assert_eq!(history.len(), 2, "{history:?}");
            assert_eq!(history.last(), Some(&residual));
        }
        Ok((_, info)) => panic!("expected NotConverged, converged in {}", info.iterations),
        Err(e) => panic!("unexpected {e}"),
    }
    let lp = LsqrParams {
        max_iters: 5,
        ..Default::default()
    };
    match lsqr(av, &b, &lp) {
        Err(Error::NotConverged {
            iterations: 5,
            residual,
            history,
            ..
        }) => {
            assert_eq!(history.len(), 5, "{history:?}");
            assert_eq!(history.last(), Some(&residual));
        }
        other => panic!("expected NotConverged after 5 iterations, got {other:?}"),
    }
}

#[test]
fn bad_input_is_an_error_for_every_entry_point() {
    let a = random_sparse(100, 5, 2, Seed::new(81)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let b = rhs(100, 82);
    let short = &b[..99];
    let mut nan = b.clone();
    nan[7] = f64::NAN;
    let empty = Mat::<f64>::zeros(0, 5);
    let ev = MatrixRef::dense(empty.as_ref()).unwrap();
    let p = LstsqParams::default();
    let is_dim = |e: Error| matches!(e, Error::DimensionMismatch { .. });
    let is_nan = |e: Error| matches!(e, Error::NonFinite { .. });
    let is_empty = |e: Error| matches!(e, Error::Empty { .. });
    let is_param = |e: Error| matches!(e, Error::InvalidParameter { .. });

    assert!(is_dim(sketch_and_precondition(av, short, &p).unwrap_err()));
    assert!(is_nan(sketch_and_precondition(av, &nan, &p).unwrap_err()));
    assert!(is_empty(sketch_and_precondition(ev, &[], &p).unwrap_err()));
    assert!(is_param(ridge(av, &b, -1.0, &p).unwrap_err()));
    assert!(is_param(ridge(av, &b, f64::NAN, &p).unwrap_err()));
    for bad in [
        LstsqParams {
            tol: 0.0,
            ..p.clone()
        },
        LstsqParams {
            tol: f64::NAN,
            ..p.clone()
        },
        LstsqParams {
            max_iters: 0,
            ..p.clone()
        },
        LstsqParams {
            sketch_rows: Some(4),
            ..p.clone()
        },
        LstsqParams {
            nnz_per_col: 0,
            ..p.clone()
        },
        LstsqParams {
            rcond: 0.0,
            ..p.clone()
        },
    ] {
        assert!(
            is_param(sketch_and_precondition(av, &b, &bad).unwrap_err()),
            "{bad:?}"
        );
    }
    let mut cb = |_: &IterState| ControlFlow::Continue(());
    assert!(is_dim(
        sketch_and_precondition_with_callback(av, short, &p, &mut cb).unwrap_err()
    ));
    assert!(is_empty(
        Preconditioner::new(ev, &p).map(|_| ()).unwrap_err()
    ));

    let bm = gaussian_matrix(99, 2, Seed::new(1)).unwrap();
    assert!(is_dim(
        sketch_and_precondition_multi(av, bm.as_ref(), &p).unwrap_err()
    ));
    let b0 = Mat::<f64>::zeros(100, 0);
    assert!(is_empty(
        sketch_and_precondition_multi(av, b0.as_ref(), &p).unwrap_err()
    ));
    let mut bn = gaussian_matrix(100, 2, Seed::new(1)).unwrap();
    bn[(3, 1)] = f64::INFINITY;
    assert!(is_nan(
        sketch_and_precondition_multi(av, bn.as_ref(), &p).unwrap_err()
    ));

    let sp = SketchSolveParams::default();
    assert!(is_dim(sketch_and_solve(av, short, &sp).unwrap_err()));
    assert!(is_nan(sketch_and_solve(av, &nan, &sp).unwrap_err()));
    assert!(is_empty(sketch_and_solve(ev, &[], &sp).unwrap_err()));
    let small = SketchSolveParams {
        sketch_rows: Some(3),
        ..sp
    };
    assert!(is_param(sketch_and_solve(av, &b, &small).unwrap_err()));
    let wrong: Box<dyn SketchOperator<f64>> =
        SketchKind::Gaussian.build(20, 101, Seed::new(1)).unwrap();
    assert!(is_dim(
        sketch_and_solve_with(av, &b, wrong.as_ref(), Par::Seq).unwrap_err()
    ));

    assert!(is_dim(qr_solve(av, short, 0.0, Par::Seq).unwrap_err()));
    assert!(is_nan(qr_solve(av, &nan, 0.0, Par::Seq).unwrap_err()));
    assert!(is_param(qr_solve(av, &b, -2.0, Par::Seq).unwrap_err()));
    assert!(is_empty(qr_solve(ev, &[], 0.0, Par::Seq).unwrap_err()));
    assert!(is_dim(
        normal_equations(av, short, 0.0, Par::Seq).unwrap_err()
    ));
    assert!(is_param(
        normal_equations(av, &b, -1.0, Par::Seq).unwrap_err()
    ));
    assert!(is_nan(
        normal_equations(av, &nan, 0.0, Par::Seq).unwrap_err()
    ));
    let lp = LsqrParams::default();
    assert!(is_dim(lsqr(av, short, &lp).unwrap_err()));
    assert!(is_param(
        lsqr(av, &b, &LsqrParams { ridge: -1.0, ..lp }).unwrap_err()
    ));
    assert!(is_param(
        lsqr(av, &b, &LsqrParams { tol: 2.0, ..lp }).unwrap_err()
    ));
    assert!(is_dim(
        normal_equation_residual(av, &b[..4], &b, Par::Seq).unwrap_err()
    ));
    assert!(is_dim(
        normal_equation_residual(av, &b[..5], short, Par::Seq).unwrap_err()
    ));
    assert!(is_nan(
        normal_equation_residual(av, &[f64::NAN; 5], &b, Par::Seq).unwrap_err()
    ));

    // A wide matrix without ridge cannot be solved by QR or the normal equations.
    let wide = gaussian_matrix(3, 5, Seed::new(2)).unwrap();
    let wv = MatrixRef::dense(wide.as_ref()).unwrap();
    assert!(is_param(
        qr_solve(wv, &[1.0, 2.0, 3.0], 0.0, Par::Seq).unwrap_err()
    ));
    assert!(is_param(
        normal_equations(wv, &[1.0, 2.0, 3.0], 0.0, Par::Seq).unwrap_err()
    ));

    assert!(ls_problem(3, 5, 10.0, 0.1, Seed::new(1)).is_err());
    assert!(ls_problem(30, 5, 0.5, 0.1, Seed::new(1)).is_err());
    assert!(ls_problem(30, 5, 10.0, -0.1, Seed::new(1)).is_err());
    assert!(sparse_ls_illmix(30, 1, 0.1, 1e-8, 0.0, Seed::new(1)).is_err());
    assert!(sparse_ls_illmix(30, 4, 0.0, 1e-8, 0.0, Seed::new(1)).is_err());
    assert!(sparse_ls_illmix(30, 4, 0.5, 2.0, 0.0, Seed::new(1)).is_err());
    // Both pass the n·d ≤ 2³⁴ bound: one row of 2³⁴ columns needed 128 GB vectors of length d
    // (it aborted the process), 2²⁹ rows a 4 GB right-hand side. Refused up front now.
    for (n, d) in [(1, 1usize << 34), (1 << 29, 2)] {
        assert!(matches!(
            sparse_ls_illmix(n, d, 1e-9, 0.5, 0.0, Seed::new(1)),
            Err(randnla::Error::TooLarge { .. })
        ));
    }
}

/// A zero right-hand side gives x = 0 with no iterations; a consistent system (b = Ax) is solved
/// to the tolerance.
#[test]
fn zero_and_consistent_right_hand_sides() {
    let a = random_sparse(500, 10, 3, Seed::new(91)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let (x, info) = sketch_and_precondition(av, &[0.0; 500], &LstsqParams::default()).unwrap();
    assert!(x.iter().all(|&v| v == 0.0) && info.iterations == 0 && info.converged);
    let xt: Vec<f64> = (0..10).map(|i| i as f64 - 4.5).collect();
    let ax = av.to_dense().unwrap() * col(&xt);
    let b: Vec<f64> = (0..500).map(|i| ax[(i, 0)]).collect();
    let (x, _) = sketch_and_precondition(av, &b, &LstsqParams::default()).unwrap();
    assert!(dist(&x, &xt) / norm(&xt) <= 1e-12);
}

fn small_problem() -> impl Strategy<Value = (usize, usize, usize, u64)> {
    (2usize..12)
        .prop_flat_map(|d| (Just(d), (3 * d)..(20 * d), 1usize..=d.min(4), 0u64..1000))
        .prop_map(|(d, n, k, s)| (n, d, k, s))
}

proptest! {
    #![proptest_config(common::proptest_config(32))]
    /// On random small sparse problems sketch-and-precondition always succeeds, agrees with the
    /// dense reference — Householder QR when κ(A) < 1e6, else the SVD pseudo-inverse (rank-
    /// deficient A: half the cases repeat a column; the minimum-norm solution) — within twice
    /// the backward-stable bound 10u(κ + κ²ρ/(‖A‖‖x‖)) against QR (measured at most 0.38 of
    /// it over eight samples of 32 cases) and 1e-9 against the pseudo-inverse, and its
    /// normal-equation residual is ≤ 10·tol (measured ≤ 9e-15). Every case asserts.
    #[test]
    fn agrees_with_qr_on_random_sparse_problems((n, d, k, s) in small_problem(), repeat in any::<bool>()) {
        let a = random_sparse(n, d, k, Seed::new(s)).unwrap();
        // Half the cases append a copy of column 0: rank d of d + 1 columns.
        let a = if repeat {
            let mut t = sprs::TriMat::new((n, d + 1));
            for (&v, (i, j)) in a.iter() {
                t.add_triplet(i, j, v);
                if j == 0 {
                    t.add_triplet(i, d, v);
                }
            }
            t.to_csr()
        } else {
            a
        };
        let d = a.cols();
        let av = MatrixRef::sparse(&a).unwrap();
        let b = rhs(n, s + 1);
        let got = sketch_and_precondition(av, &b, &LstsqParams { seed: Seed::new(s), ..Default::default() });
        prop_assert!(got.is_ok(), "{n}×{d}, k = {k}: {:?}", got.err());
        let (x, _) = got.unwrap();
        let ad = av.to_dense().unwrap();
        let ac = cond(&ad);
        let reference = if ac < 1e6 {
            qr_solve(av, &b, 0.0, Par::Seq).unwrap()
        } else {
            pinv_solve(&ad, &b)
        };
        // Against QR, the bound a backward-stable solver attains, 10u(κ + κ²ρ/(‖A‖‖x‖)) with
        // ρ = ‖b − Ax‖, for each of the two (so twice it); a fixed 1e-9 against the
        // pseudo-inverse (the rank-deficient matrices' nonzero singular values are well
        // conditioned).
        let tol = if ac < 1e6 {
            let smax = ad.thin_svd().unwrap().S().column_vector()[0];
            let r: Vec<f64> = {
                let ax = &ad * col(&reference);
                (0..n).map(|i| b[i] - ax[(i, 0)]).collect()
            };
            20.0 * U * (ac + ac * ac * norm(&r) / (smax * norm(&reference)))
        } else {
            1e-9
        };
        prop_assert!(
            dist(&x, &reference) <= tol * norm(&reference).max(1e-300),
            "{n}×{d}, k = {k}, κ = {ac:e}: {:e}", dist(&x, &reference) / norm(&reference)
        );
        let ner = normal_equation_residual(av, &x, &b, Par::Seq).unwrap();
        prop_assert!(ner <= 10.0 * LstsqParams::default().tol, "{n}×{d}, k = {k}: {ner:e}");
    }
}

/// The LSQR operator copies sparse input with 32-bit column indices: a matrix wider than 2³²
/// columns is an error, never a silently truncated index (column 2³² would become column 0).
#[cfg(target_pointer_width = "64")]
#[test]
fn sparse_input_wider_than_2_pow_32_columns_is_an_error() {
    let d = (1usize << 32) + 1;
    let a = sprs::CsMat::new((1, d), vec![0, 1], vec![d - 1], vec![1.0]);
    let view = MatrixRef::sparse(&a).unwrap();
    let err = lsqr(view, &[1.0], &LsqrParams::default()).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    // Sketch-and-precondition's default sketch for 2³² columns has more rows than 32-bit
    // indices reach: the error names `sketch_rows` (the parameter a caller can change) and says
    // the value was the default, not the sketch constructor's internal `rows`.
    let err = sketch_and_precondition(view, &[1.0], &LstsqParams::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "sketch_rows",
                ..
            }
        ) && err.to_string().contains("default"),
        "{err}"
    );
}

/// Parameters whose extreme values used to hang, abort or panic (a panic-hunting review): a huge
/// thread count handed to faer, a huge refinement count, the default `s = 8` on a sketch of
/// four rows, and normal equations whose Gram matrix exceeds the limit.
#[test]
fn extreme_parameters_get_answers_or_errors_quickly() {
    common::quick("extreme lstsq parameters", extreme_parameter_cases);
}

fn extreme_parameter_cases() {
    let a = gaussian_matrix(3000, 40, Seed::new(5)).unwrap();
    let b = rhs(3000, 6);
    let view = MatrixRef::dense(a.as_ref()).unwrap();
    let huge = Par::Rayon(std::num::NonZeroUsize::MAX);
    let reference = qr_solve(view, &b, 0.0, Par::Seq).unwrap();
    let x = qr_solve(view, &b, 0.0, huge).unwrap();
    assert!(dist(&x, &reference) <= 1e-12 * norm(&reference));
    let x = normal_equations(view, &b, 0.0, huge).unwrap();
    assert!(dist(&x, &reference) <= 1e-10 * norm(&reference));

    let params = LstsqParams {
        refinement_steps: 1 << 40,
        ..LstsqParams::default()
    };
    let (x, info) = sketch_and_precondition(view, &b, &params).unwrap();
    assert!(dist(&x, &reference) <= 1e-12 * norm(&reference));
    assert!(info.runs <= 4, "{} runs", info.runs);

    // m = 4d = 4 rows by default, below the default s = 8.
    let tiny = Mat::<f64>::from_fn(1, 1, |_, _| 2.0);
    let (x, _) =
        sketch_and_precondition(MatrixRef::dense(tiny.as_ref()).unwrap(), &[3.0], &params).unwrap();
    assert!((x[0] - 1.5).abs() < 1e-15, "{x:?}");

    let wide = randnla::SparseRef::<f64>::try_csr(1, 20_000, &[0, 0], &[], &[]).unwrap();
    let r = normal_equations(MatrixRef::Sparse(wide), &[1.0], 1.0, Par::Seq);
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
}

/// Finite entries near `f64::MAX` whose products overflow (here `‖Aᵀb‖`, a row of ten entries
/// of 1e308). The overflow used to be read as a zero norm and reported as an exact, converged
/// `x = 0`; it is a `NotConverged` error. (`b` near `f64::MAX` alone is solved in range: see
/// `right_hand_sides_whose_norm_overflows_are_solved_in_range`.)
#[test]
fn overflowing_products_are_not_reported_as_converged() {
    let a = Mat::<f64>::from_fn(6, 10, |i, j| if (i + j) % 2 == 0 { 1e308 } else { -1e308 });
    let b: Vec<f64> = (0..6).map(|i| if i == 0 { 1e308 } else { 0.0 }).collect();
    let r = lsqr(
        MatrixRef::dense(a.as_ref()).unwrap(),
        &b,
        &LsqrParams::default(),
    );
    assert!(matches!(r, Err(Error::NotConverged { .. })), "{r:?}");
}

/// A sketch of `m = d` rows is allowed but is often no subspace embedding of a small `A`: it
/// can find `A` rank-deficient when it is not, and LSQR on the SVD preconditioner of the lower
/// rank then passes its own test with a wrong answer (an audit found 79 of 200 seeds at 6 × 5
/// returning `Ok` with up to 96% error). Pass rule, over 200 seeds: every answer is either an
/// `Error::Factorization` naming the sketch or within 1e-8 of the QR solution, and the error
/// does come (the sketch does lose rank on some seeds).
#[test]
fn a_sketch_that_loses_rank_is_an_error_not_a_wrong_answer() {
    let (mut refused, mut answered) = (0, 0);
    for seed in 0..200 {
        let a = gaussian_matrix(6, 5, Seed::new(1000 + seed)).unwrap();
        let b = rhs(6, 2000 + seed);
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let params = LstsqParams {
            probe: false,
            sketch_rows: Some(5),
            seed: Seed::new(seed),
            ..Default::default()
        };
        match sketch_and_precondition(av, &b, &params) {
            Ok((x, _)) => {
                let (want, _) = qr_optimum(&a, &b);
                assert!(dist(&x, &want) <= 1e-8 * norm(&want), "seed {seed}");
                answered += 1;
            }
            Err(Error::Factorization { reason }) => {
                assert!(reason.contains("more sketch rows"), "{reason}");
                refused += 1;
            }
            Err(e) => panic!("seed {seed}: {e}"),
        }
    }
    assert!(
        refused > 0 && answered > 0,
        "{refused} refused, {answered} answered"
    );
}

/// A solution that overflows f64 is an `Error::NonFinite` from the baselines, never an `Ok`
/// holding ∞ or NaN (an audit found `qr_solve` returning `[-inf]` for a representable 1e300
/// and `[NaN; 5]` for `b` near `f64::MAX`, now solved in range, and `lsqr` returning `[inf]`;
/// `sketch_and_solve` called an overflowed sketch a rank deficiency); a representable one is
/// returned.
#[test]
fn overflowing_solutions_are_errors() {
    let one = |v: f64| Mat::<f64>::from_fn(1, 1, |_, _| v);
    let tiny = one(1e-300);
    let tiny = MatrixRef::dense(tiny.as_ref()).unwrap();
    let r = qr_solve(tiny, &[1e300], 0.0, Par::Seq);
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    let a = gaussian_matrix(200, 5, Seed::new(3)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    // b = f64::MAX·1 gave [NaN; 5]; it is now solved in range: x = f64::MAX·x(1), which fits.
    let x1 = qr_solve(av, &[1.0; 200], 0.0, Par::Seq).unwrap();
    let x = qr_solve(av, &[f64::MAX; 200], 0.0, Par::Seq).unwrap();
    for (xi, x1i) in x.iter().zip(&x1) {
        assert!(
            (xi / f64::MAX - x1i).abs() <= 1e-14 * x1i.abs(),
            "{xi:e} vs {x1i:e}·MAX"
        );
    }
    // A b near f64::MAX whose solution does not fit: an error, not ∞.
    let r = qr_solve(tiny, &[f64::MAX], 0.0, Par::Seq);
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    let sub = one(1e-310);
    let r = lsqr(
        MatrixRef::dense(sub.as_ref()).unwrap(),
        &[1.0],
        &LsqrParams::default(),
    );
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    // Sketch-and-solve on an A whose sketch overflows (entries ±0.9·f64::MAX): that, not a rank
    // deficiency. (A b near f64::MAX is solved in range and its S·b cannot overflow.)
    let top = Mat::from_fn(200, 5, |i, j| a[(i, j)].signum() * 0.9 * f64::MAX);
    let r = sketch_and_solve(
        MatrixRef::dense(top.as_ref()).unwrap(),
        &rhs(200, 4),
        &SketchSolveParams::default(),
    );
    match r {
        Err(Error::NonFinite { what, .. }) => assert!(what.contains("S·A"), "{what}"),
        r => panic!("{r:?}"),
    }
    // An A near 1e307, whose sketch fits but whose QR took naive norms ("rank 1" before the
    // power-of-two prescale): x = x₀/1e307, to the precision left at that size.
    let (x0, info0) = sketch_and_solve(av, &rhs(200, 4), &SketchSolveParams::default()).unwrap();
    let huge = Mat::from_fn(200, 5, |i, j| a[(i, j)] * 1e307);
    let (x, info) = sketch_and_solve(
        MatrixRef::dense(huge.as_ref()).unwrap(),
        &rhs(200, 4),
        &SketchSolveParams::default(),
    )
    .unwrap();
    let back: Vec<f64> = x.iter().map(|v| v * 1e307).collect();
    assert!(
        dist(&back, &x0) <= 1e-12 * norm(&x0),
        "{} {back:?} vs {x0:?}",
        dist(&back, &x0) / norm(&x0)
    );
    assert!((info.residual_norm / info0.residual_norm - 1.0).abs() <= 1e-10);
    assert!(
        (info.excess_estimate / info0.excess_estimate - 1.0).abs() <= 1e-12,
        "{} vs {}",
        info.excess_estimate,
        info0.excess_estimate
    );
    // Representable answers are returned: 1e300/2 and 1e-300/1e-310 = 1e10.
    let x = qr_solve(
        MatrixRef::dense(one(2.0).as_ref()).unwrap(),
        &[1e300],
        0.0,
        Par::Seq,
    );
    assert_eq!(x.unwrap(), vec![5e299]);
    let (x, _) = lsqr(
        MatrixRef::dense(sub.as_ref()).unwrap(),
        &[1e-300],
        &LsqrParams::default(),
    )
    .unwrap();
    assert!((x[0] - 1e10).abs() <= 1e-6 * 1e10, "{x:?}");
}

/// The oracle behind the lstsq assertions: `ridge_normal_equation_residual` against the same
/// figure computed densely, `‖Aᵀr − λx‖ / (√(σ_max² + λ)·√(‖r‖² + λ‖x‖²))` with σ_max from a
/// dense SVD, on a Gaussian, an ill-conditioned (κ = 1e8) and a sparse matrix, at λ = 0 and 0.3,
/// for a random `x` and for the QR solution. Pass rule: 1e-12 relative for the random `x`
/// (measured within 3·10⁻¹⁵; the 30-step power method the crate used before was 3.6 % off on
/// the Gaussian matrix); for the QR solutions, whose figures are rounding noise near 1e-16 that
/// sparse and dense products round differently, |crate − dense| ≤ 1e-6·dense + 1e-14.
#[test]
fn normal_equation_residual_matches_a_dense_computation() {
    let (n, d) = (600, 25);
    let gauss = gaussian_matrix(n, d, Seed::new(31)).unwrap();
    let (ill, _, _, _) = ls_problem(n, d, 1e8, 1e-3, Seed::new(32)).unwrap();
    let sparse = random_sparse(n, d, 3, Seed::new(33)).unwrap();
    let sparse_dense = MatrixRef::sparse(&sparse).unwrap().to_dense().unwrap();
    let b = rhs(n, 34);
    for (name, a) in [
        ("gaussian", &gauss),
        ("κ = 1e8", &ill),
        ("sparse", &sparse_dense),
    ] {
        let views = if name == "sparse" {
            vec![MatrixRef::sparse(&sparse).unwrap()]
        } else {
            vec![MatrixRef::dense(a.as_ref()).unwrap()]
        };
        let sigma = a.singular_values().unwrap()[0];
        for av in views {
            let xq = qr_solve(av, &b, 0.0, Par::Seq).unwrap();
            for (random, x) in [(true, rhs(d, 35)), (false, xq)] {
                for lambda in [0.0, 0.3] {
                    let ax = a * col(&x);
                    let r: Vec<f64> = (0..n).map(|i| b[i] - ax[(i, 0)]).collect();
                    let atr = a.transpose() * col(&r);
                    let g: Vec<f64> = (0..d).map(|j| atr[(j, 0)] - lambda * x[j]).collect();
                    let rn = (norm(&r).powi(2) + lambda * norm(&x).powi(2)).sqrt();
                    let exact = norm(&g) / ((sigma * sigma + lambda).sqrt() * rn);
                    let got = ridge_normal_equation_residual(av, &x, &b, lambda, Par::Seq).unwrap();
                    let allowed = if random {
                        1e-12 * exact
                    } else {
                        1e-6 * exact + 1e-14
                    };
                    assert!(
                        (got - exact).abs() <= allowed,
                        "{name}, λ = {lambda}: {got:e} vs dense {exact:e}"
                    );
                }
            }
        }
    }
}

/// `2ᵏ`, exactly (`|k| ≤ 1022`).
fn pow2(k: i32) -> f64 {
    2f64.powi(k)
}

/// The scalings `(k, j)` of `(2ᵏ·A, 2ʲ·b)` checked against `(A, b)`: `b` near the bottom and the
/// top of the range, `A` large enough that `‖A‖²` overflows, small enough that it underflows,
/// and both at once. The solution is then `2ʲ⁻ᵏ·x`.
const SCALINGS: [(i32, i32); 5] = [(0, -660), (0, 530), (520, 0), (-520, 0), (520, 530)];

/// A dense and a sparse well-conditioned 400 × 15 problem, each with `2ᵏ·A` on request.
fn scaling_problems() -> (Mat<f64>, sprs::CsMat<f64>, Vec<f64>) {
    let dense = gaussian_matrix(400, 15, Seed::new(71)).unwrap();
    let sparse = random_sparse(400, 15, 4, Seed::new(72)).unwrap();
    (dense, sparse, rhs(400, 73))
}

/// Runs `solve` on `(2ᵏ·A, b)` for the dense and the sparse matrix of [`scaling_problems`].
fn on_scaled<R>(k: i32, mut solve: impl FnMut(&'static str, MatrixRef<'_, f64>) -> R) -> Vec<R> {
    let (dense, sparse, _) = scaling_problems();
    let s = pow2(k);
    let dense = Mat::from_fn(dense.nrows(), dense.ncols(), |i, j| dense[(i, j)] * s);
    let sparse = sparse.map(|v| v * s);
    vec![
        solve("dense", MatrixRef::dense(dense.as_ref()).unwrap()),
        solve("sparse", MatrixRef::sparse(&sparse).unwrap()),
    ]
}

/// Asserts `x = 2ᵉ·x₀` to the bit.
fn assert_scaled_bitwise(x: &[f64], x0: &[f64], e: i32, what: &str) {
    assert_eq!(x.len(), x0.len(), "{what}");
    for (i, (xi, x0i)) in x.iter().zip(x0).enumerate() {
        assert_eq!(
            xi.to_bits(),
            (x0i * pow2(e)).to_bits(),
            "{what}: x[{i}] = {xi:e}, want 2^{e}·{x0i:e}"
        );
    }
}

/// LSQR's scalar recurrences are scale-safe: on `(2ᵏ·A, 2ʲ·b)` it makes the same iterations as
/// on `(A, b)`, stops on the same test values, and returns `2ʲ⁻ᵏ·x` to the bit, for `b` and `A`
/// near both ends of the range (see [`SCALINGS`]). Bitwise because every scaling is by a power of
/// two and every step is homogeneous: products and norms scale exactly, the norms of two or three
/// scalars and the stopping quotient take their exponents out exactly, and glibc's `hypot` (the
/// rotations) scales by powers of two only. A review found ‖b‖ ≈ 10⁻²⁰⁰ and 10¹⁶⁰ stopping after
/// one iteration at a test value of 0.02 ("converged"; `φ̄²` under- and overflowed) and
/// ‖A‖ ≈ 10¹⁶⁰ returning x = 0 after no iteration (`α²` overflowed to ‖A‖ = ∞).
#[test]
fn lsqr_is_invariant_under_power_of_two_scaling() {
    let (_, _, b) = scaling_problems();
    let reference = on_scaled(0, |name, a| {
        let (x, info) = lsqr(a, &b, &LsqrParams::default()).unwrap();
        (name, x, info)
    });
    for (k, j) in SCALINGS {
        let bj: Vec<f64> = b.iter().map(|v| v * pow2(j)).collect();
        let got = on_scaled(k, |_, a| lsqr(a, &bj, &LsqrParams::default()));
        for ((name, x0, info0), got) in reference.iter().zip(got) {
            let what = format!("{name}, (2^{k}·A, 2^{j}·b)");
            let (x, info) = got.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(info.converged, "{what}");
            assert_eq!(info.iterations, info0.iterations, "{what}: iterations");
            assert_eq!(
                info.normal_eq_history, info0.normal_eq_history,
                "{what}: the stopping test's values"
            );
            assert_scaled_bitwise(&x, x0, j - k, &what);
        }
    }
}

/// Sketch-and-precondition (with refinement) on `(2ᵏ·A, 2ʲ·b)` against `(A, b)`: the same
/// iterations in every run and `2ʲ⁻ᵏ·x`. With `A` unscaled it is bitwise, stopping values
/// included: the sketch, the warm start, the residuals and LSQR all scale exactly. With `A`
/// scaled, to 1e-12: faer's QR of the sketch need not scale to the bit. (Before the fix
/// ‖b‖ ≈ 10⁻²⁰⁰ or 10¹⁶⁰ stopped after 2 iterations at a test value of 0.03.)
fn check_sketch_and_precondition_scaling(scalings: &[(i32, i32)]) {
    let (_, _, b) = scaling_problems();
    let params = LstsqParams::default();
    let reference = on_scaled(0, |name, a| {
        let (x, info) = sketch_and_precondition(a, &b, &params).unwrap();
        (name, x, info)
    });
    for &(k, j) in scalings {
        let bj: Vec<f64> = b.iter().map(|v| v * pow2(j)).collect();
        let got = on_scaled(k, |_, a| sketch_and_precondition(a, &bj, &params));
        for ((name, x0, info0), got) in reference.iter().zip(got) {
            let what = format!("{name}, (2^{k}·A, 2^{j}·b)");
            let (x, info) = got.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(info.converged, "{what}");
            assert_eq!(
                info.run_iterations, info0.run_iterations,
                "{what}: iterations"
            );
            if k == 0 {
                assert_eq!(
                    info.normal_eq_history, info0.normal_eq_history,
                    "{what}: the stopping test's values"
                );
                assert_scaled_bitwise(&x, x0, j, &what);
            } else {
                let want: Vec<f64> = x0.iter().map(|v| v * pow2(j - k)).collect();
                let err = dist(&x, &want) / norm(&want);
                assert!(err <= 1e-12, "{what}: x off by {err:e}");
            }
        }
    }
}

/// [`check_sketch_and_precondition_scaling`] for `b` near both ends of the range (at `2⁻¹⁰⁰⁰`
/// the refinement's residual, ~10⁻¹⁶ of ‖b‖, would be subnormal: the limit of exactness) and
/// for `A` scaled down.
#[test]
fn sketch_and_precondition_is_invariant_under_power_of_two_scaling() {
    check_sketch_and_precondition_scaling(&[
        (0, -660),
        (0, 530),
        (0, -900),
        (0, 1000),
        (-520, 0),
        (-520, -660),
    ]);
}

/// The same with `A` scaled up. LSQR is not the problem here (it runs on `AN`, of norm ≈ 1):
/// at `k = 520` the preconditioner failed first — `triangular_condition_estimate` formed `RᵀR·v`,
/// which overflowed, read κ(R) = ∞ and switches to the SVD, which faer does not converge on a
/// triangle with entries near 10¹⁵⁷ (a `Factorization` error). Scaling `R` by
/// `rescale_for(max |rᵢᵢ|)` inside the estimate (κ does not depend on it) makes this test pass.
#[test]
fn sketch_and_precondition_is_invariant_under_scaling_a_up() {
    check_sketch_and_precondition_scaling(&[(520, 0), (520, 530)]);
}

/// `b` whose entries are finite but whose norm is not (every entry near 2¹⁰²²): every LSQR-based
/// solver, sketch-and-solve, the multi-RHS solver and the dense baselines scale `b` into range and
/// return the bits of the solve on `2⁻ʲ·b`, scaled by `2ʲ`; residual norms scale with it (to ∞
/// where they do not fit in `f64`) and the callback sees them in the caller's units. Before,
/// `‖b‖ = ∞` gave `NotConverged` after 0 iterations with a NaN test value (LSQR,
/// sketch-and-precondition) and a `NonFinite` error for the overflowed `S·b` (sketch-and-solve).
#[test]
fn right_hand_sides_whose_norm_overflows_are_solved_in_range() {
    let (_, _, b) = scaling_problems();
    let top = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let j = 1022 - top.log2().floor() as i32;
    let big: Vec<f64> = b.iter().map(|v| v * pow2(j)).collect();
    assert!(big.iter().all(|v| v.is_finite()) && norm(&big).is_infinite());
    let up = |v: f64| v * pow2(j);
    let params = LstsqParams::default();
    on_scaled(0, |name, a| {
        // Sketch-and-precondition, with the callback's residual norms.
        let mut seen0 = Vec::new();
        let (x0, info0) = sketch_and_precondition_with_callback(a, &b, &params, &mut |s| {
            seen0.push(s.residual_norm);
            ControlFlow::Continue(())
        })
        .unwrap();
        let mut seen = Vec::new();
        let (x, info) = sketch_and_precondition_with_callback(a, &big, &params, &mut |s| {
            seen.push(s.residual_norm);
            ControlFlow::Continue(())
        })
        .unwrap_or_else(|e| panic!("{name}: sketch-and-precondition: {e}"));
        assert_scaled_bitwise(&x, &x0, j, name);
        assert_eq!(info.run_iterations, info0.run_iterations, "{name}");
        assert_eq!(info.normal_eq_history, info0.normal_eq_history, "{name}");
        assert_eq!(
            info.residual_norm.to_bits(),
            up(info0.residual_norm).to_bits()
        );
        assert!(!seen0.is_empty(), "{name}: the callback saw no iteration");
        let want: Vec<f64> = seen0.iter().map(|&r| up(r)).collect();
        assert_eq!(seen, want, "{name}: the callback's residual norms");
        // Ridge (the same path) and unpreconditioned LSQR.
        let (x0, info0) = ridge(a, &b, 0.5, &params).unwrap();
        let (x, info) = ridge(a, &big, 0.5, &params).unwrap();
        assert_scaled_bitwise(&x, &x0, j, &format!("{name}, ridge"));
        assert_eq!(
            info.residual_norm.to_bits(),
            up(info0.residual_norm).to_bits()
        );
        let (x0, info0) = lsqr(a, &b, &LsqrParams::default()).unwrap();
        let (x, info) =
            lsqr(a, &big, &LsqrParams::default()).unwrap_or_else(|e| panic!("{name}: LSQR: {e}"));
        assert_scaled_bitwise(&x, &x0, j, &format!("{name}, LSQR"));
        let hist: Vec<f64> = info0.residual_history.iter().map(|&r| up(r)).collect();
        assert_eq!(info.residual_history, hist, "{name}, LSQR");
        // The dense baselines.
        let x0 = qr_solve(a, &b, 0.0, Par::Seq).unwrap();
        let x = qr_solve(a, &big, 0.0, Par::Seq).unwrap_or_else(|e| panic!("{name}: QR: {e}"));
        assert_scaled_bitwise(&x, &x0, j, &format!("{name}, QR"));
        let x0 = normal_equations(a, &b, 0.0, Par::Seq).unwrap();
        let x = normal_equations(a, &big, 0.0, Par::Seq)
            .unwrap_or_else(|e| panic!("{name}: normal equations: {e}"));
        assert_scaled_bitwise(&x, &x0, j, &format!("{name}, normal equations"));
        // Sketch-and-solve.
        let ss = SketchSolveParams::default();
        let (x0, i0) = sketch_and_solve(a, &b, &ss).unwrap();
        let (x, i) = sketch_and_solve(a, &big, &ss)
            .unwrap_or_else(|e| panic!("{name}: sketch-and-solve: {e}"));
        assert_scaled_bitwise(&x, &x0, j, &format!("{name}, sketch-and-solve"));
        assert_eq!(i.residual_norm.to_bits(), up(i0.residual_norm).to_bits());
        assert_eq!(
            i.sketched_residual_norm.to_bits(),
            up(i0.sketched_residual_norm).to_bits()
        );
        assert_eq!(
            i.excess_estimate.to_bits(),
            up(i0.excess_estimate).to_bits()
        );
        // The residual norm overflows here (the ratio bound's scale invariance is checked in
        // sketch_and_solve_is_scale_invariant): no bound can be claimed, rather than the 0 of
        // its overflowed squares.
        assert!(i.residual_norm.is_infinite());
        assert_eq!(i.ratio_bound(0.5), f64::INFINITY);
        // Two right-hand sides at once, one of them in range: each column is scaled on its
        // own, so both keep the bits of the single-column solves.
        let bb = Mat::from_fn(b.len(), 2, |i, c| if c == 0 { big[i] } else { b[i] });
        let (xm, infos) = sketch_and_precondition_multi(a, bb.as_ref(), &params)
            .unwrap_or_else(|e| panic!("{name}: multi: {e}"));
        let (x0, info0) = sketch_and_precondition(a, &b, &params).unwrap();
        for (c, e) in [(0, j), (1, 0)] {
            let x: Vec<f64> = xm.col(c).iter().copied().collect();
            assert_scaled_bitwise(&x, &x0, e, &format!("{name}, multi column {c}"));
            assert_eq!(
                infos[c].residual_norm.to_bits(),
                (info0.residual_norm * pow2(e)).to_bits()
            );
        }
    });
}

/// A `b` that mixes entries near `f64::MAX` with small ones: the direct solvers keep the small
/// entries' information (the scaling into range moves `b` no further than it must). Columns on
/// disjoint rows, so `x₁` depends on the small entries alone: `x₁ = Σ aᵢ₁bᵢ / Σ aᵢ₁²` over the
/// odd rows. Scaling the top entry to [1, 2) made entries of 1e-250 zero (x₁ = 0) and cost
/// entries of 1e-10 about ten bits (6e-14 relative error).
#[test]
fn right_hand_sides_mixing_huge_and_small_entries_keep_the_small_ones() {
    let n = 40;
    let a = Mat::from_fn(n, 2, |i, j| match (i % 2, j) {
        (0, 0) => 1.0 + (i % 5) as f64,
        (1, 1) => 1.0 + (i % 3) as f64,
        _ => 0.0,
    });
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    for small in [1e-10, 1e-250] {
        let b: Vec<f64> = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    pow2(1000) * (1.0 + (i % 7) as f64)
                } else {
                    small * (1.0 + (i % 4) as f64) * if i % 3 == 0 { -1.0 } else { 1.0 }
                }
            })
            .collect();
        assert!(norm(&b).is_infinite());
        let odd = |f: &dyn Fn(usize) -> f64| (1..n).step_by(2).map(f).sum::<f64>();
        let want = odd(&|i| a[(i, 1)] * b[i]) / odd(&|i| a[(i, 1)] * a[(i, 1)]);
        let qr = qr_solve(av, &b, 0.0, Par::Seq).unwrap();
        let ne = normal_equations(av, &b, 0.0, Par::Seq).unwrap();
        for (what, x) in [("QR", &qr), ("normal equations", &ne)] {
            assert!(
                (x[1] - want).abs() <= 1e-14 * want.abs(),
                "{what}, small = {small:e}: x₁ = {:e}, want {want:e}",
                x[1]
            );
        }
    }
}

/// Sketch-and-solve on `(c·A, c·b)` reports what it reports on `(A, b)`: the same `x` and
/// `ratio_bound`, and its norms scaled by `c`. Its QR runs on copies prescaled by powers of two;
/// the excess estimate `‖R⁻ᵀAᵀr̃‖` was 0 at c = 1e-160 (`Aᵀr̃` underflowed before it was scaled
/// back), which made the ratio bound claim 1.00000005 against 1.43.
#[test]
fn sketch_and_solve_is_scale_invariant() {
    let a = gaussian_matrix(200, 5, Seed::new(3)).unwrap();
    let b = rhs(200, 4);
    let ss = SketchSolveParams::default();
    let (x0, i0) = sketch_and_solve(MatrixRef::dense(a.as_ref()).unwrap(), &b, &ss).unwrap();
    for c in [1e-300, 1e-160, 1e160, 1e300] {
        let ac = Mat::from_fn(200, 5, |i, j| a[(i, j)] * c);
        let bc: Vec<f64> = b.iter().map(|v| v * c).collect();
        let (x, i) = sketch_and_solve(MatrixRef::dense(ac.as_ref()).unwrap(), &bc, &ss)
            .unwrap_or_else(|e| panic!("c = {c:e}: {e}"));
        assert!(dist(&x, &x0) <= 1e-12 * norm(&x0), "c = {c:e}: x");
        for (what, got, want) in [
            ("residual", i.residual_norm / c, i0.residual_norm),
            (
                "sketched residual",
                i.sketched_residual_norm / c,
                i0.sketched_residual_norm,
            ),
            ("excess", i.excess_estimate / c, i0.excess_estimate),
            ("ratio bound", i.ratio_bound(0.5), i0.ratio_bound(0.5)),
        ] {
            assert!(
                (got - want).abs() <= 1e-10 * want,
                "c = {c:e}, {what}: {got:e} vs {want:e}"
            );
        }
    }
}

/// Columns spread over 10^±200 and 10^±300: faer's QR handles them, so sketch-and-solve's prescale
/// must not touch them (a first version that moved the sketch's top entry to [1, 2) turned the
/// 10⁻²⁰⁰ column into zeros and answered "rank 1"). Pass rule: `Ok`, with a residual within 1.5×
/// the optimum of a dense QR solve (the expected ratio at m = 10d is ≈ 1.05).
#[test]
fn sketch_and_solve_keeps_columns_spread_over_the_range() {
    let a0 = gaussian_matrix(200, 5, Seed::new(3)).unwrap();
    for spread in [
        [1e-200, 1.0, 1e200, 1e-100, 1e100],
        [1e-300, 1.0, 1e300, 1.0, 1.0],
    ] {
        let a = Mat::from_fn(200, 5, |i, j| a0[(i, j)] * spread[j]);
        let b = rhs(200, 4);
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let (xq, opt) = qr_optimum(&a, &b);
        assert!(xq.iter().all(|v| v.is_finite()) && opt > 0.0);
        let (_, info) = sketch_and_solve(av, &b, &SketchSolveParams::default())
            .unwrap_or_else(|e| panic!("{spread:?}: {e}"));
        let ratio = info.residual_norm / opt;
        assert!(
            (1.0..=1.5).contains(&ratio),
            "{spread:?}: residual ratio {ratio}"
        );
    }
}

/// The SVD preconditioner on `c·A` for c = 1e±300 gives the answer for `A` scaled by `1/c`: faer's
/// SVD of a triangle with entries near 10³⁰⁰ did not converge (an `Error::Factorization`) until
/// the SVDs took a power-of-two-scaled copy. A sketch that overflows (entries of `A` near
/// `f64::MAX`) is an `Error::NonFinite` naming it, not an SVD failure.
#[test]
fn the_svd_preconditioner_works_at_the_ends_of_the_range() {
    let a = gaussian_matrix(400, 15, Seed::new(71)).unwrap();
    let b = rhs(400, 73);
    let params = LstsqParams {
        factorization: Factorization::Svd,
        ..Default::default()
    };
    let (x0, _) =
        sketch_and_precondition(MatrixRef::dense(a.as_ref()).unwrap(), &b, &params).unwrap();
    for c in [1e300, 1e-300] {
        let ac = Mat::from_fn(400, 15, |i, j| a[(i, j)] * c);
        let (x, info) =
            sketch_and_precondition(MatrixRef::dense(ac.as_ref()).unwrap(), &b, &params)
                .unwrap_or_else(|e| panic!("c = {c:e}: {e}"));
        assert_eq!(info.factorization, Some(Factorization::Svd));
        let back: Vec<f64> = x.iter().map(|v| v * c).collect();
        assert!(dist(&back, &x0) <= 1e-12 * norm(&x0), "c = {c:e}");
    }
    let top = Mat::from_fn(400, 15, |i, j| a[(i, j)].signum() * 0.9 * f64::MAX);
    let r = sketch_and_precondition(MatrixRef::dense(top.as_ref()).unwrap(), &b, &params);
    match r {
        Err(Error::NonFinite { what, .. }) => assert!(what.contains("S·A"), "{what}"),
        r => panic!("{r:?}"),
    }
}

/// `normal_equation_residual` is a ratio of norms, so `(2ᵏ·A, 2ʲ⁻ᵏ·x, 2ʲ·b)` — the same
/// residual direction, scaled — gives the figure of `(A, x, b)`, to 1e-12 (its ‖A‖₂ estimate
/// comes from an SVD of a scaled bidiagonal). At ‖A‖ = 2⁵²⁰ the former `(est² + λ).sqrt()`
/// overflowed and the figure was 0 for every x; `‖A‖·‖r‖` overflowed at (2⁵²⁰, 2⁵³⁰) too.
#[test]
fn normal_equation_residual_is_invariant_under_power_of_two_scaling() {
    let (_, _, b) = scaling_problems();
    let xs: Vec<Vec<f64>> = on_scaled(0, |_, a| qr_solve(a, &b, 0.0, Par::Seq).unwrap());
    let random = rhs(15, 74);
    let reference = on_scaled(0, |_, a| {
        [&random, &xs[0], &xs[1]].map(|x| normal_equation_residual(a, x, &b, Par::Seq).unwrap())
    });
    for (k, j) in SCALINGS {
        let bj: Vec<f64> = b.iter().map(|v| v * pow2(j)).collect();
        let got = on_scaled(k, |_, a| {
            [&random, &xs[0], &xs[1]].map(|x| {
                let xs: Vec<f64> = x.iter().map(|v| v * pow2(j - k)).collect();
                normal_equation_residual(a, &xs, &bj, Par::Seq).unwrap()
            })
        });
        for (layout, (want, got)) in reference.iter().zip(&got).enumerate() {
            for (which, (w, g)) in want.iter().zip(got).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-12 * w,
                    "layout {layout}, x {which}, (2^{k}·A, 2^{j}·b): {g:e} vs {w:e}"
                );
            }
        }
    }
}

/// Subnormal sizes (review of the scale-safe arithmetic): a residual of 1e-310 made the
/// rescaling factor 2^1030 = ∞ and `ridge_normal_equation_residual` returned NaN (it is 1 here:
/// r = b, Aᵀr = b); and a consistent system with ‖b‖ ≈ 1e-300, whose warm start leaves a
/// subnormal residual, divided it by its norm (1/β = ∞) and reported NotConverged instead of an
/// exact solution.
#[test]
fn subnormal_residuals_are_neither_nan_nor_a_failure() {
    let one = Mat::<f64>::from_fn(1, 1, |_, _| 1.0);
    let av = MatrixRef::dense(one.as_ref()).unwrap();
    for b in [1e-310, 5e-324, 1e-300] {
        let r = normal_equation_residual(av, &[0.0], &[b], Par::Seq).unwrap();
        assert_eq!(r, 1.0, "b = {b:e}");
        let r = ridge_normal_equation_residual(av, &[0.0], &[b], 0.0, Par::Seq).unwrap();
        assert_eq!(r, 1.0, "ridge, b = {b:e}");
    }
    let (a, _, _, _) = ls_problem(300, 8, 10.0, 0.0, Seed::new(4)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let x_true: Vec<f64> = (0..8).map(|j| 1.0 + j as f64).collect();
    let b: Vec<f64> = (0..300)
        .map(|i| (0..8).map(|j| a[(i, j)] * x_true[j]).sum::<f64>() * 1e-300)
        .collect();
    let (x, info) = sketch_and_precondition(av, &b, &LstsqParams::default())
        .unwrap_or_else(|e| panic!("consistent system at 1e-300: {e}"));
    assert!(info.converged, "{info:?}");
    // κ(A) = 10 and a consistent system: x to 1e-12 relative, as at ordinary scale. The data
    // (≈ 1e-300) are normal numbers; only the warm start's leftover residual is subnormal, and
    // the solver rescales it rather than losing digits.
    for (xi, ti) in x.iter().zip(&x_true) {
        assert!(
            (xi / 1e-300 - ti).abs() <= 1e-12 * ti,
            "{xi:e} against {ti}e-300"
        );
    }
    let (x, info) = lsqr(av, &b, &LsqrParams::default()).unwrap();
    assert!(info.converged, "{info:?}");
    for (xi, ti) in x.iter().zip(&x_true) {
        assert!(
            (xi / 1e-300 - ti).abs() <= 1e-12 * ti,
            "LSQR: {xi:e} against {ti}e-300"
        );
    }
}

/// The first stopping value of LSQR is ‖Aᵀr₁‖/(‖B₁e₁‖·‖r₁‖) with ‖B₁e₁‖ = hypot(α₁, β₂)
/// (the documented "largest column norm of B_k"), recomputed densely from one Golub–Kahan step.
#[test]
fn lsqr_first_stopping_value_uses_the_column_norm_of_b1() {
    let a = gaussian_matrix(300, 12, Seed::new(5)).unwrap();
    let b = rhs(300, 6);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let p = LsqrParams {
        max_iters: 1,
        tol: 1e-14,
        ..Default::default()
    };
    let history = match lsqr(av, &b, &p) {
        Err(Error::NotConverged { history, .. }) => history,
        other => panic!("expected NotConverged, got {other:?}"),
    };
    // One Golub–Kahan step: β₁u₁ = b, α₁v₁ = Aᵀu₁, β₂u₂ = Av₁ − α₁u₁.
    let beta1 = norm(&b);
    let u1: Vec<f64> = b.iter().map(|x| x / beta1).collect();
    let atu = a.transpose() * col(&u1);
    let atu = col_vec(&atu);
    let alpha1 = norm(&atu);
    let v1: Vec<f64> = atu.iter().map(|x| x / alpha1).collect();
    let av1 = &a * col(&v1);
    let w: Vec<f64> = (0..300).map(|i| av1[(i, 0)] - alpha1 * u1[i]).collect();
    let beta2 = norm(&w);
    // x₁ = argmin_t ‖b − t·Av₁‖ along v₁.
    let av1v = col_vec(&av1);
    let t = b.iter().zip(&av1v).map(|(x, y)| x * y).sum::<f64>() / norm(&av1v).powi(2);
    let r: Vec<f64> = (0..300).map(|i| b[i] - t * av1v[i]).collect();
    let atr = a.transpose() * col(&r);
    let atr = col_vec(&atr);
    let want = norm(&atr) / (alpha1.hypot(beta2) * norm(&r));
    assert!(
        (history[0] - want).abs() <= 1e-8 * want,
        "first stopping value {:e}, dense {want:e}",
        history[0]
    );
}

/// With damping, LSQR's running ‖r‖ estimate includes the damping part:
/// the last residual_history entry equals √(‖b − Ax‖² + λ‖x‖²) (= info.residual_norm).
#[test]
fn damped_lsqr_residual_history_includes_the_ridge_term() {
    let a = gaussian_matrix(300, 12, Seed::new(7)).unwrap();
    let b = rhs(300, 8);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let lambda = 50.0;
    let (x, info) = lsqr(
        av,
        &b,
        &LsqrParams {
            ridge: lambda,
            ..Default::default()
        },
    )
    .unwrap();
    let ax = &a * col(&x);
    let r: Vec<f64> = (0..300).map(|i| b[i] - ax[(i, 0)]).collect();
    let want = (norm(&r).powi(2) + lambda * norm(&x).powi(2)).sqrt();
    let last = *info.residual_history.last().unwrap();
    assert!(
        (last - want).abs() <= 1e-8 * want,
        "history {last:e}, true {want:e}"
    );
    let rn = info.residual_norm;
    assert!(
        (rn - want).abs() <= 1e-10 * want,
        "residual_norm {rn:e}, true {want:e}"
    );
}

/// A consistent system stops on ‖r‖ ≤ tol·‖b‖ (the second stopping rule) once LSQR has
/// terminated (≈ d steps), instead of iterating until the normal-equation test catches up.
#[test]
fn consistent_system_stops_on_the_residual_test() {
    let (a, _, _, _) = ls_problem(400, 10, 10.0, 0.0, Seed::new(9)).unwrap();
    let xt: Vec<f64> = (0..10).map(|j| 1.0 + j as f64).collect();
    let ax = &a * col(&xt);
    let b = col_vec(&ax);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let (_, info) = lsqr(
        av,
        &b,
        &LsqrParams {
            tol: 1e-10,
            ..Default::default()
        },
    )
    .unwrap();
    // LSQR terminates in d = 10 steps in exact arithmetic on a consistent system; 5 spare.
    assert!(info.iterations <= 15, "{} iterations", info.iterations);
    assert!(info.stopping_value <= 1e-10, "{info:?}");
}

/// The QR/SVD switch depends on κ(R), which does not depend on the scale of A: a
/// well-conditioned A scaled by 2⁻⁶⁰ (or 2⁶⁰) still gets the QR preconditioner.
#[test]
fn factorization_choice_is_scale_invariant() {
    let a = gaussian_matrix(600, 10, Seed::new(11)).unwrap();
    let b = rhs(600, 12);
    for k in [-60, 0, 60] {
        let s = 2f64.powi(k);
        let ak = Mat::from_fn(600, 10, |i, j| a[(i, j)] * s);
        let params = LstsqParams {
            probe: false,
            ..Default::default()
        };
        let (_, info) =
            sketch_and_precondition(MatrixRef::dense(ak.as_ref()).unwrap(), &b, &params).unwrap();
        assert_eq!(info.factorization, Some(Factorization::Qr), "A·2^{k}");
    }
}

/// Ridge with a tiny right-hand side (2⁻⁹⁹⁰·b, where the caller's Mᵀc underflows the
/// `usable` test and LSQR recomputes it with `apply_t`) is 2⁻⁹⁹⁰ times the ordinary answer.
#[test]
fn ridge_with_a_tiny_rhs_scales() {
    let a = gaussian_matrix(400, 15, Seed::new(13)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = rhs(400, 14);
    let lambda = 30.0;
    let (x0, _) = ridge(av, &b, lambda, &LstsqParams::default()).unwrap();
    let s = 2f64.powi(-990);
    let bs: Vec<f64> = b.iter().map(|v| v * s).collect();
    let (x, info) = ridge(av, &bs, lambda, &LstsqParams::default()).unwrap();
    assert!(info.converged);
    let err = x
        .iter()
        .zip(&x0)
        .map(|(a, b)| (a / s - b).powi(2))
        .sum::<f64>()
        .sqrt()
        / norm(&x0);
    assert!(err <= 1e-10, "x off by {err:e}");
}

/// `ls_problem` builds what it documents: σ_i = cond^(−i/(d−1)) (geometric, ‖A‖ = 1,
/// κ = cond), ‖x‖ = 1 in a random direction (not a singular vector), ‖r‖ = residual_norm with
/// Aᵀr = 0, and b = Ax + r.
#[test]
fn ls_problem_has_the_prescribed_spectrum_solution_and_residual() {
    let (n, d, cond, rho) = (300, 21, 1e6, 1e-2);
    let (a, b, x, r) = ls_problem(n, d, cond, rho, Seed::new(5)).unwrap();
    let sv = a.singular_values().unwrap();
    for (i, s) in sv.iter().enumerate() {
        let want = cond.powf(-(i as f64) / (d - 1) as f64);
        assert!(
            (s - want).abs() <= 1e-8 * want,
            "σ_{i} = {s:e}, want {want:e}"
        );
    }
    assert!((norm(&x) - 1.0).abs() <= 1e-14, "‖x‖ = {}", norm(&x));
    assert!(
        (norm(&r) - rho).abs() <= 1e-14 * rho,
        "‖r‖ = {:e}",
        norm(&r)
    );
    let atr = (a.transpose() * col(&r)).norm_l2();
    assert!(atr <= 1e-14 * rho, "‖Aᵀr‖ = {atr:e}");
    let ax = &a * col(&x);
    let gap: Vec<f64> = (0..n).map(|i| b[i] - ax[(i, 0)] - r[i]).collect();
    assert!(
        norm(&gap) <= 1e-15 * norm(&b),
        "‖b − Ax − r‖ = {:e}",
        norm(&gap)
    );
    // A unit x along the top right singular vector would give ‖Ax‖ = 1; a random direction
    // gives about (mean σ²)^½ ≈ 0.25 here.
    let axn = ax.norm_l2();
    assert!(
        axn < 0.9,
        "‖Ax‖ = {axn}: x is (nearly) a top singular vector"
    );
}

/// `sparse_ls_illmix`: column 2k+1 differs from column 2k by δ_k times an independent column,
/// δ = logspace(0, log₁₀ delta_min, d/2); κ(A) is of the order of 1/delta_min; b − A·x⋆ is the
/// noise, of norm about noise·√n.
#[test]
fn illmix_pairs_are_collinear_to_the_documented_delta() {
    let (n, d, delta_min, noise) = (3000, 12, 1e-6, 0.1);
    let (a, b, x) = sparse_ls_illmix(n, d, 0.3, delta_min, noise, Seed::new(8)).unwrap();
    let dense = MatrixRef::sparse(&a).unwrap().to_dense().unwrap();
    let pairs = d / 2;
    for k in 0..pairs {
        let delta = delta_min.powf(k as f64 / (pairs - 1) as f64);
        let (e, o) = (dense.col(2 * k), dense.col(2 * k + 1));
        let diff = (0..n).map(|i| (o[i] - e[i]).powi(2)).sum::<f64>().sqrt();
        let ratio = diff / e.norm_l2();
        assert!(
            ratio > 0.5 * delta && ratio < 2.0 * delta,
            "pair {k}: ‖a_odd − a_even‖/‖a_even‖ = {ratio:e}, δ = {delta:e}"
        );
    }
    let kappa = randnla::diagnostics::condition_number(dense.as_ref()).unwrap();
    assert!(
        kappa > 0.3 / delta_min && kappa < 30.0 / delta_min,
        "κ = {kappa:e}"
    );
    let ax = &dense * col(&x);
    let res: Vec<f64> = (0..n).map(|i| b[i] - ax[(i, 0)]).collect();
    let per_row = norm(&res) / (n as f64).sqrt();
    assert!(
        (per_row / noise - 1.0).abs() < 0.1,
        "noise per row {per_row}"
    );
}

/// Rows of `random_sparse` come from independent streams across its 4096-row blocks: with
/// d | 4096 the forced column of rows i and i + 4096 coincides, so a reused stream would make
/// the rows equal.
#[test]
fn random_sparse_blocks_use_independent_streams() {
    let a = random_sparse(8192, 64, 3, Seed::new(7)).unwrap();
    let same = (0..4096)
        .filter(|&i| {
            let (r, s) = (a.outer_view(i).unwrap(), a.outer_view(i + 4096).unwrap());
            r.indices() == s.indices() && r.data() == s.data()
        })
        .count();
    assert_eq!(same, 0, "{same} rows repeat 4096 rows later");
}

/// A Gaussian problem (κ ≈ 1.3) needs no preconditioner: the probe solves it without a
/// sketch, within LSQR's iteration bound for κ(A) (measured by a dense SVD), as accurately as
/// Householder QR. The same matrix with columns scaled by logspace(0, −8) (κ ≈ 1e8): the
/// probe equilibrates the columns, solves it in about as many iterations as the unscaled
/// problem, and keeps the answer once the CountSketch certifies full rank; bitwise the answer of
/// `Factorization::Diagonal` asked for outright. Without the equilibration (the probe on `A`, as
/// before it) the probe gives up and sketches: checked with the probe off, which sketches.
#[test]
fn probe_solves_well_conditioned_problems_without_a_sketch() {
    let (n, d) = (3000, 40);
    let g = gaussian_matrix(n, d, Seed::new(71)).unwrap();
    let b = rhs(n, 72);
    let params = LstsqParams::default();
    let gv = MatrixRef::dense(g.as_ref()).unwrap();
    let (x, info) = sketch_and_precondition(gv, &b, &params).unwrap();
    assert!(info.converged);
    assert_eq!(info.factorization, None);
    assert_eq!(info.sketch_rows, 0);
    assert_eq!(info.probe_iterations, info.iterations);
    assert_eq!(info.timings.sketch, 0.0);
    let k = cond(&g);
    let bound = params.tol.ln() / ((k - 1.0) / (k + 1.0)).ln() + 5.0;
    for &it in &info.run_iterations {
        assert!(
            it as f64 <= bound,
            "{it} iterations > {bound:.1} (κ = {k:.3})"
        );
    }
    let xq = qr_solve(gv, &b, 0.0, Par::Seq).unwrap();
    let ner = normal_equation_residual(gv, &x, &b, Par::Seq).unwrap();
    let ner_qr = normal_equation_residual(gv, &xq, &b, Par::Seq).unwrap();
    // The backward error asked for (QR's is at rounding level, 8e-17 here).
    assert!(ner <= params.tol, "{ner:e} vs QR {ner_qr:e}");
    assert!(dist(&x, &xq) <= 1e-13 * norm(&xq), "{:e}", dist(&x, &xq));

    let scale = |j: usize| 10f64.powf(-8.0 * j as f64 / (d - 1) as f64);
    let a = Mat::from_fn(n, d, |i, j| g[(i, j)] * scale(j));
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let (x_default, info) = sketch_and_precondition(av, &b, &params).unwrap();
    assert_eq!(info.factorization, Some(Factorization::Diagonal));
    assert_eq!((info.sketch_rows, info.timings.sketch), (0, 0.0));
    assert_eq!(info.probe_iterations, info.iterations);
    let sketched = LstsqParams {
        probe: false,
        ..Default::default()
    };
    let (_, info_s) = sketch_and_precondition(av, &b, &sketched).unwrap();
    assert_eq!(info_s.factorization, Some(Factorization::Qr));
    let diag = LstsqParams {
        factorization: Factorization::Diagonal,
        ..Default::default()
    };
    let (xd, info_d) = sketch_and_precondition(av, &b, &diag).unwrap();
    assert_eq!(info_d.factorization, Some(Factorization::Diagonal));
    assert_eq!(info_d.probe_iterations, 0);
    // κ(A·D⁻¹) is within a few percent of κ(G): the bound above with 5 iterations to spare.
    for &it in &info_d.run_iterations {
        assert!(it as f64 <= bound + 5.0, "diagonal: {it} iterations");
    }
    // The solution of the scaled problem is D⁻¹ times the unscaled one.
    let sx: Vec<f64> = (0..d).map(|j| xd[j] * scale(j)).collect();
    assert!(dist(&sx, &xq) <= 1e-12 * norm(&xq), "{:e}", dist(&sx, &xq));
    assert_bitwise(
        &col(&x_default),
        &col(&xd),
        "equilibrated probe vs Diagonal",
    );
    assert_eq!(info.run_iterations, info_d.run_iterations);
}

/// The equilibrated probe on a rank-deficient `A` (columns scaled over four decades, five of
/// them repeated at 10⁻³ of their size): LSQR on `A·D⁻¹` converges, to the solution of minimum
/// `‖Dx‖`, which is not the minimum-norm one; the CountSketch certificate refuses full rank and
/// the sketched solve (truncated SVD) gives the minimum-norm solution, bitwise as with the probe
/// off. A zero column keeps the probe on `A`. With ridge (a unique solution) the equilibrated
/// answer on the same `A` is kept without a certificate (which would refuse it) and matches the
/// dense ridge solve.
#[test]
fn equilibrated_probe_keeps_the_minimum_norm_solution() {
    let (n, r) = (4000, 25);
    let g = gaussian_matrix(n, r, Seed::new(81)).unwrap();
    let scale = |j: usize| 10f64.powf(-4.0 * j as f64 / (r - 1) as f64);
    let a = Mat::from_fn(n, r + 5, |i, j| {
        if j < r {
            g[(i, j)] * scale(j)
        } else {
            1e-3 * g[(i, j - r)] * scale(j - r)
        }
    });
    let b = rhs(n, 82);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let loose = |probe, factorization| LstsqParams {
        tol: 1e-10,
        probe,
        factorization,
        ..Default::default()
    };
    let (x, info) = sketch_and_precondition(av, &b, &loose(true, Factorization::Auto)).unwrap();
    let (x_off, _) = sketch_and_precondition(av, &b, &loose(false, Factorization::Auto)).unwrap();
    let (x_diag, info_diag) =
        sketch_and_precondition(av, &b, &loose(true, Factorization::Diagonal)).unwrap();
    assert_eq!(info.factorization, Some(Factorization::Svd));
    assert_eq!(info.rank, r);
    // The probe ran to convergence (the iterations of the explicit Diagonal solve), then sketched.
    assert_eq!(info.probe_iterations, info_diag.iterations);
    assert_bitwise(&col(&x), &col(&x_off), "refused probe vs probe off");
    let xref = pinv_solve(&a, &b);
    let e = dist(&x, &xref) / norm(&xref);
    assert!(e <= 1e-8, "min-norm solution differs by {e:e}");
    let e_diag = dist(&x_diag, &xref) / norm(&xref);
    assert!(e_diag >= 1e-3, "min ‖Dx‖ is not min ‖x‖ here: {e_diag:e}");

    let full = Mat::from_fn(n, r, |i, j| a[(i, j)]);
    let fv = MatrixRef::dense(full.as_ref()).unwrap();
    let (_, info_full) =
        sketch_and_precondition(fv, &b, &loose(true, Factorization::Auto)).unwrap();
    assert_eq!(info_full.factorization, Some(Factorization::Diagonal));
    // A zero column has no norm to divide by (its D would fall back to 1): the probe stays on
    // `A`, gives up within a few iterations (κ ≈ 10⁴ from the scaling), and the sketched SVD
    // solve gives that column 0, as the minimum-norm solution does.
    let zero = Mat::from_fn(n, r + 1, |i, j| if j < r { a[(i, j)] } else { 0.0 });
    let zv = MatrixRef::dense(zero.as_ref()).unwrap();
    let (xz, info_z) = sketch_and_precondition(zv, &b, &loose(true, Factorization::Auto)).unwrap();
    assert_eq!(info_z.factorization, Some(Factorization::Svd));
    assert!(
        info_z.probe_iterations <= PROBE_MIN_ITERATIONS + 2,
        "{} probe iterations",
        info_z.probe_iterations
    );
    assert!(xz[r].abs() <= 1e-12 * norm(&xz), "{:e}", xz[r]);
    // λ above the repeated columns' squared norms (≤ 4·10⁻³): `[A; √λI]·D⁻¹` is well conditioned.
    let lambda = 0.1;
    let (x_ridge, info_ridge) = ridge(av, &b, lambda, &LstsqParams::default()).unwrap();
    assert_eq!(info_ridge.factorization, Some(Factorization::Diagonal));
    let x_qr = qr_solve(av, &b, lambda, Par::Seq).unwrap();
    let e = dist(&x_ridge, &x_qr) / norm(&x_qr);
    assert!(e <= 1e-10, "ridge: {e:e}");
}

/// The equilibrated probe's answer is kept only when the certificate bounds `κ(A)`, not just
/// `κ(A·D⁻¹)`, by `1/rcond`: its bound `√d·‖S‖·κ(R)·κ(D)` carries the column-norm spread
/// `κ(D)`. Gaussian columns scaled over two decades (`κ(A·D⁻¹)` ≈ 1.1, the probe converges on
/// `A·D⁻¹`) with `rcond = 5·10⁻⁴`: `κ(D)·rcond = 0.05`, so the probe equilibrates, but the
/// bound (≈ 360·κ(D) for the row sample of 60 of 20 000 rows, whose `‖R⁻¹‖` carries
/// `√(n/2d)`) times `rcond` is ≈ 18 > 1, so its answer is refused and the default is bitwise
/// the sketched solve. (Without `κ(D)` it would be ≈ 0.2 and accept.)
#[test]
fn the_certificate_counts_the_column_scaling() {
    let (n, d) = (20_000, 30);
    let g = gaussian_matrix(n, d, Seed::new(81)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| {
        g[(i, j)] * 10f64.powf(-2.0 * j as f64 / (d - 1) as f64)
    });
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = rhs(n, 82);
    let params = LstsqParams {
        rcond: 5e-4,
        ..Default::default()
    };
    let (x, info) = sketch_and_precondition(av, &b, &params).unwrap();
    let off = LstsqParams {
        probe: false,
        ..params
    };
    let (x_off, info_off) = sketch_and_precondition(av, &b, &off).unwrap();
    assert!(
        info.probe_iterations > PROBE_MIN_ITERATIONS + 3,
        "the probe converged"
    );
    assert_eq!(info.factorization, Some(Factorization::Qr));
    assert_eq!(info.run_iterations, info_off.run_iterations);
    assert_bitwise(&col(&x), &col(&x_off), "probe refused vs off");
    // With a smaller rcond the same answer is certified and kept.
    let (_, kept) = sketch_and_precondition(av, &b, &LstsqParams::default()).unwrap();
    assert_eq!(kept.factorization, Some(Factorization::Diagonal));
}

/// On nearly collinear column pairs (ill-conditioning that survives equilibration) the probe
/// gives up after its minimum of iterations and the sketched solve that follows is bitwise the
/// solve without the probe: same x, same iterations, same preconditioner.
#[test]
fn probe_gives_up_on_collinear_columns_and_changes_no_bit() {
    let (a, b, _) = sparse_ls_illmix(6000, 100, 0.05, 2e-8, 1e-3, Seed::new(73)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let (x, info) = sketch_and_precondition(av, &b, &LstsqParams::default()).unwrap();
    let off = LstsqParams {
        probe: false,
        ..Default::default()
    };
    let (x0, info0) = sketch_and_precondition(av, &b, &off).unwrap();
    assert_bitwise(&col(&x), &col(&x0), "probe on vs off");
    assert_eq!(info.factorization, Some(Factorization::Qr));
    assert_eq!(info.run_iterations, info0.run_iterations);
    assert_eq!(info0.probe_iterations, 0);
    // It judges from its PROBE_MIN_ITERATIONS-th iteration and stops there: the rate is plain.
    assert_eq!(info.probe_iterations, PROBE_MIN_ITERATIONS);
    assert!(info.timings.probe > 0.0 && info0.timings.probe == 0.0);
}

/// The probe's answers (LSQR on `A`, or on `A·D⁻¹` with the certificate when the columns are
/// scaled over three decades), like the sketched ones, do not depend on the thread count or on
/// CSR against CSC input, and the callback sees its iterations flagged, then the sketched
/// solve's counted from 1.
#[test]
fn probe_is_reproducible_and_reported_to_the_callback() {
    let a = random_sparse(20_000, 30, 4, Seed::new(75)).unwrap();
    let mut scaled = a.clone();
    for mut row in scaled.outer_iterator_mut() {
        for (j, v) in row.iter_mut() {
            *v *= 10f64.powf(-3.0 * j as f64 / 29.0);
        }
    }
    let b = rhs(20_000, 76);
    for (csr, expected) in [(a, None), (scaled, Some(Factorization::Diagonal))] {
        let lay = Layouts::new(csr);
        let views = lay.views();
        let solve = |v: MatrixRef<'_, f64>, par: Par| {
            let p = LstsqParams {
                par,
                ..Default::default()
            };
            let (x, info) = sketch_and_precondition(v, &b, &p).unwrap();
            assert_eq!(info.factorization, expected);
            col(&x)
        };
        let reference = with_threads(1, |par| solve(views[0].1, par));
        for t in [2, 4] {
            assert_bitwise(
                &with_threads(t, |par| solve(views[0].1, par)),
                &reference,
                "csr",
            );
            assert_bitwise(
                &with_threads(t, |par| solve(views[1].1, par)),
                &reference,
                "csc",
            );
        }
    }
    let (a, b, _) = sparse_ls_illmix(6000, 100, 0.05, 2e-8, 1e-3, Seed::new(77)).unwrap();
    let av = MatrixRef::sparse(&a).unwrap();
    let mut seen = Vec::new();
    let (_, info) = sketch_and_precondition_with_callback(
        av,
        &b,
        &LstsqParams::default(),
        &mut |s: &IterState| {
            seen.push((s.probe, s.iteration));
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    let p = info.probe_iterations;
    assert!(p >= PROBE_MIN_ITERATIONS);
    let expected: Vec<(bool, usize)> = (1..=p)
        .map(|i| (true, i))
        .chain((1..=info.iterations).map(|i| (false, i)))
        .collect();
    assert_eq!(seen, expected);
    // A callback that stops during the probe gets the probe's iterate, marked as stopped.
    let (x, info) = sketch_and_precondition_with_callback(
        av,
        &b,
        &LstsqParams::default(),
        &mut |s: &IterState| {
            if s.iteration >= 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert_eq!(x.len(), 100);
    assert!(info.stopped_by_callback && !info.converged);
    assert_eq!(info.factorization, None);
    assert_eq!((info.iterations, info.probe_iterations), (2, 2));
}

/// `Factorization::Diagonal` chosen outright: no sketch, `N = D⁻¹` with `D` the column norms of
/// `[A; √λI]` (a zero column keeps 1), and ridge solves on it match the dense normal equations.
#[test]
fn diagonal_preconditioner_is_the_inverse_column_norms() {
    let (n, d) = (500, 6);
    let g = gaussian_matrix(n, d, Seed::new(79)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| {
        if j == 3 {
            0.0
        } else {
            g[(i, j)] * (j + 1) as f64
        }
    });
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    for lambda in [0.0, 2.5] {
        let params = LstsqParams {
            factorization: Factorization::Diagonal,
            ridge: lambda,
            ..Default::default()
        };
        let pre = Preconditioner::new(av, &params).unwrap();
        assert_eq!(pre.sketch_rows(), 0);
        assert_eq!(pre.factorization(), Factorization::Diagonal);
        let n_dense = pre.to_dense();
        for j in 0..d {
            let sq: f64 = (0..n).map(|i| a[(i, j)] * a[(i, j)]).sum::<f64>() + lambda;
            let want = if sq > 0.0 { 1.0 / sq.sqrt() } else { 1.0 };
            assert!((n_dense[(j, j)] - want).abs() <= 1e-14 * want, "column {j}");
            for i in (0..d).filter(|&i| i != j) {
                assert_eq!(n_dense[(i, j)], 0.0);
            }
        }
    }
    let b = rhs(n, 80);
    let params = LstsqParams {
        factorization: Factorization::Diagonal,
        ridge: 2.5,
        ..Default::default()
    };
    let (x, info) = sketch_and_precondition(av, &b, &params).unwrap();
    assert_eq!(info.factorization, Some(Factorization::Diagonal));
    assert_eq!(info.probe_iterations, 0);
    let xn = normal_equations(av, &b, 2.5, Par::Seq).unwrap();
    assert!(dist(&x, &xn) <= 1e-10 * norm(&xn), "{:e}", dist(&x, &xn));
}

/// Columns whose squared norms over- or underflow (scaled by about 2^±565 ≈ 10^±170, so that
/// `‖A e_j‖²` is ∞ or 0 in f64) are still equilibrated, dense and CSR:
/// - `Factorization::Diagonal` with norms 2^±565 apart: its diagonal is the inverse column
///   norms to 1e-14 and its answer the column-scaled problem's to 1e-10 in the scaled norm
///   (before, an out-of-range square made `D_j = 1` and LSQR stopped on its normwise test with
///   the tiny column's coefficient 0: 89% error);
/// - the default solver on `A` scaled by 2^±560 with column norms 2^12 apart: its probe
///   equilibrates (no sketch) and the answer is the scaled problem's to 1e-10;
/// - the default solver with norms 2^±565 apart (`κ(A) ≥ κ(D) > 1/rcond`: numerically
///   rank-deficient) converges to `tol` by the normal-equation residual.
#[test]
fn columns_beyond_the_range_of_their_squared_norms_are_equilibrated() {
    let (dense, sparse, b) = scaling_problems();
    let sparse_as_dense = MatrixRef::sparse(&sparse).unwrap().to_dense().unwrap();
    let extreme = |j: usize| match j {
        0 => -565,
        7 => 565,
        11 => 570,
        _ => 0,
    };
    let uniform_high = |j: usize| 560 + 4 * (j % 4) as i32;
    let uniform_low = |j: usize| -560 - 4 * (j % 4) as i32;
    type Exponents = fn(usize) -> i32;
    let cases: [(&str, Exponents, Factorization); 4] = [
        ("extreme", extreme, Factorization::Diagonal),
        ("uniform high", uniform_high, Factorization::Auto),
        ("uniform low", uniform_low, Factorization::Auto),
        ("extreme", extreme, Factorization::Auto),
    ];
    for (what, e, factorization) in cases {
        let d = dense.ncols();
        let scaled_dense = Mat::from_fn(dense.nrows(), d, |i, j| dense[(i, j)] * pow2(e(j)));
        let mut tri = sprs::TriMat::new(sparse.shape());
        for (v, (i, j)) in sparse.iter() {
            tri.add_triplet(i, j, v * pow2(e(j)));
        }
        let scaled_sparse: sprs::CsMat<f64> = tri.to_csr();
        for (layout, unscaled, a) in [
            (
                "dense",
                &dense,
                MatrixRef::dense(scaled_dense.as_ref()).unwrap(),
            ),
            (
                "sparse",
                &sparse_as_dense,
                MatrixRef::sparse(&scaled_sparse).unwrap(),
            ),
        ] {
            let what = format!("{what} {layout} {factorization:?}");
            let params = LstsqParams {
                factorization,
                ..Default::default()
            };
            let (x, info) = sketch_and_precondition(a, &b, &params).unwrap();
            assert!(info.converged, "{what}");
            if what.starts_with("extreme") && factorization == Factorization::Auto {
                let ner = normal_equation_residual(a, &x, &b, Par::Seq).unwrap();
                assert!(ner <= params.tol, "{what}: {ner:e}");
                continue;
            }
            assert_eq!(info.sketch_rows, 0, "{what}: equilibrated, no sketch");
            let (y, _) = qr_optimum(unscaled, &b);
            let dx: Vec<f64> = x.iter().enumerate().map(|(j, v)| v * pow2(e(j))).collect();
            let err = dist(&dx, &y) / norm(&y);
            assert!(err <= 1e-10, "{what}: {err:e}");
            let diagonal = LstsqParams {
                factorization: Factorization::Diagonal,
                ..params
            };
            let n_dense = Preconditioner::new(a, &diagonal).unwrap().to_dense();
            for j in 0..d {
                let norm_j = (0..unscaled.nrows())
                    .map(|i| unscaled[(i, j)].powi(2))
                    .sum::<f64>();
                let want = pow2(-e(j)) / norm_j.sqrt();
                assert!(
                    (n_dense[(j, j)] - want).abs() <= 1e-14 * want,
                    "{what} column {j}"
                );
            }
        }
    }
}

/// LSQR evaluates its consistency test `‖r‖ ≤ tol·‖b‖` on the starting point too. On a
/// consistent system `b = A·x` the sketch-and-solve warm start solves `SAx = Sb` exactly up to
/// rounding (`‖r₀‖ ≈ u·κ·‖b‖ ≈ 10⁻¹⁵‖b‖` here, κ(A) = 10), which meets `tol = 10⁻¹⁰`: the solve
/// must return the warm start with 0 iterations, in every run, instead of iterating on a
/// residual made of rounding.
#[test]
fn a_warm_start_that_meets_the_consistency_test_is_returned_without_iterating() {
    let (a, _, _, _) = ls_problem(400, 10, 10.0, 0.0, Seed::new(9)).unwrap();
    let xt: Vec<f64> = (0..10).map(|j| 1.0 + j as f64).collect();
    let b = col_vec(&(&a * col(&xt)));
    let bn = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    let params = LstsqParams {
        probe: false,
        tol: 1e-10,
        ..Default::default()
    };
    let (x, info) =
        sketch_and_precondition(MatrixRef::dense(a.as_ref()).unwrap(), &b, &params).unwrap();
    assert!(info.converged, "{info:?}");
    assert_eq!(info.iterations, 0, "{info:?}");
    assert!(info.residual_norm <= 1e-10 * bn, "{info:?}");
    // The stopping value is the consistency test that stopped it, ‖r₀‖/‖b‖: LSQR's ‖c‖ and the
    // recomputed residual are the same norm computed twice (10⁻⁶ relative allowed for the
    // different summation orders of a residual made of rounding).
    let test = info.residual_norm / bn;
    assert!(
        (info.stopping_value - test).abs() <= 1e-6 * test,
        "stopping value {:e}, ‖r‖/‖b‖ = {test:e}",
        info.stopping_value
    );
    let e = rel_diff(&col(&x), &col(&xt));
    assert!(e <= 1e-13, "x off by {e:e}");
}

/// Consistent systems with a rank-deficient `A`: a tall `1000 × 5` of rank 4 (the fifth column
/// the sum of the first two) with `b = A·w` exactly in its range, a wide `5 × 10` Gaussian (full
/// row rank, so every `b` is consistent) and a wide `20 × 40` of rank 10 with `b` in its range.
/// Each has infinitely many exact solutions; the solvers must return the minimum-norm one
/// (dense pseudo-inverse, 1e-9 relative), with the probe, without it and through the multi-RHS
/// path. The residual is rounding, so the normal-equation ratio `‖Aᵀr‖/(‖A‖‖r‖)` says nothing
/// (it was ≈ 0.6, and the rank check rejected the answer with "the sketch found rank 4 < 5, but
/// A has more"): the answer is accepted on the consistency test `‖r‖ ≤ tol·‖b‖` instead.
#[test]
fn consistent_rank_deficient_and_wide_systems_get_the_minimum_norm_solution() {
    let g = gaussian_matrix(1000, 4, Seed::new(1)).unwrap();
    let tall = Mat::from_fn(1000, 5, |i, j| {
        if j < 4 {
            g[(i, j)]
        } else {
            g[(i, 0)] + g[(i, 1)]
        }
    });
    let b_tall: Vec<f64> = (0..1000)
        .map(|i| g[(i, 0)] + 2.0 * g[(i, 2)] - g[(i, 3)])
        .collect();
    let wide = gaussian_matrix(5, 10, Seed::new(2)).unwrap();
    let b_wide = rhs(5, 3);
    let wide_low = &gaussian_matrix(20, 10, Seed::new(4)).unwrap()
        * &gaussian_matrix(10, 40, Seed::new(5)).unwrap();
    let b_wide_low = col_vec(&(&wide_low * col(&rhs(40, 6))));
    let cases: [(&str, &Mat<f64>, &[f64]); 3] = [
        ("tall rank 4 of 5", &tall, &b_tall),
        ("wide 5 × 10", &wide, &b_wide),
        ("wide 20 × 40 rank 10", &wide_low, &b_wide_low),
    ];
    for (name, a, b) in cases {
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let xref = pinv_solve(a, b);
        for probe in [true, false] {
            let params = LstsqParams {
                probe,
                ..Default::default()
            };
            let (x, info) = sketch_and_precondition(av, b, &params)
                .unwrap_or_else(|e| panic!("{name}, probe {probe}: {e}"));
            let e = dist(&x, &xref) / norm(&xref);
            assert!(
                e <= 1e-9,
                "{name}, probe {probe}: x off by {e:e} ({info:?})"
            );
            assert!(
                info.residual_norm <= params.tol * norm(b) * 100.0,
                "{name}, probe {probe}: {info:?}"
            );
            let (xm, _) = sketch_and_precondition_multi(av, col(b).as_ref(), &params)
                .unwrap_or_else(|e| panic!("{name}, probe {probe}, multi: {e}"));
            let e = dist(&col_vec(&xm), &xref) / norm(&xref);
            assert!(e <= 1e-9, "{name}, probe {probe}, multi: x off by {e:e}");
        }
    }
}

/// A wide `A` (`n < d`) without ridge has infinitely many least-squares solutions: the QR and
/// normal-equation baselines refuse it with an `InvalidParameter` that names the solver that
/// returns the minimum-norm solution (the normal equations used to fail in the Cholesky), and
/// sketch-and-solve reports `RankDeficient` with the rank `n` (it said "rank 6" for this
/// rank-5 `A`: rounding in the QR of the 100-row sketch). With a ridge every solver has a unique
/// answer: `ridge` matches the QR of `[A; √λI]`.
#[test]
fn wide_systems_without_ridge_are_refused_with_a_pointer_to_the_minimum_norm_solver() {
    let a = gaussian_matrix(5, 10, Seed::new(2)).unwrap();
    let b = rhs(5, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let refusals = [
        ("qr_solve", qr_solve(av, &b, 0.0, Par::Seq).err()),
        (
            "normal_equations",
            normal_equations(av, &b, 0.0, Par::Seq).err(),
        ),
    ];
    for (name, e) in refusals {
        assert!(
            matches!(&e, Some(e @ Error::InvalidParameter { .. })
                if e.to_string().contains("sketch_and_precondition returns the minimum-norm")),
            "{name}: {e:?}"
        );
    }
    let r = sketch_and_solve(av, &b, &SketchSolveParams::default());
    assert!(
        matches!(
            r,
            Err(Error::RankDeficient {
                rank: 5,
                required: 10
            })
        ),
        "{r:?}"
    );
    let xq = qr_solve(av, &b, 0.1, Par::Seq).unwrap();
    let (xr, _) = ridge(av, &b, 0.1, &LstsqParams::default()).unwrap();
    assert!(
        dist(&xr, &xq) <= 1e-12 * norm(&xq),
        "ridge {xr:?} vs QR {xq:?}"
    );
}

/// A sketch size the sketch's constructor refuses is reported under the caller's parameter,
/// `sketch_rows` (the constructor's own name is `m`, which the caller never set).
#[test]
fn a_refused_sketch_size_names_sketch_rows() {
    let a = gaussian_matrix(40, 3, Seed::new(1)).unwrap();
    let b = vec![1.0; 40];
    let p = SketchSolveParams {
        sketch: SketchKind::Gaussian,
        sketch_rows: Some((1 << 18) + 1),
        ..Default::default()
    };
    match sketch_and_solve(MatrixRef::dense(a.as_ref()).unwrap(), &b, &p) {
        Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, "sketch_rows"),
        r => panic!("{:?}", r.map(|(_, info)| info)),
    }
}
