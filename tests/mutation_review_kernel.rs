//! Hand mutation testing of `src/lstsq/kernel_regression.rs` (changes since 20ee568: the
//! Cholesky routes of `InnerSolve`, `Auto`'s rules, P2's corrected semi-normal equations, P3's
//! sparse rows and evaluation-error check). Each test kills a mutant the rest of the suite left
//! alive; its doc comment names the mutant and how it fails.
//!
//! 30 mutants (2026-12-06); the suite killed 19, these tests seven more, and one showed a bug
//! (P2's semi-normal equations on consistent systems, fixed; two tests below). Survivors with
//! no test: `semi_normal_floor` without its `‖L‖_F·‖y‖` term (a probe with the solution along
//! `A`'s smallest singular direction, 8000 × 8, `κ = 10³`, still stalled below the reduced
//! floor: the floor is a worst-case bound), the floor trusted whatever `d·κ²·u` (no stalled
//! untrusted case found: at `κ = 10⁶` the test value reached `tol`), P3's `evaluation_error`
//! without the `+4` in `γ` (a heuristic estimate changed by a bounded factor; no documented
//! value pins it), and P2 without the consistency test `‖r‖ ≤ tol·‖b‖` (near-equivalent: the
//! other tests accept the same answer a step later, on the consistent systems below too).

use crate::common;

use common::vec_of;
use faer::linalg::solvers::SolveLstsq;
use faer::Mat;
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, solve_p3, InnerSolve, KernelParams};
use randnla::problems::{gaussian_matrix, ls_problem};
use randnla::{Error, MatrixRef, Seed};

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn with(inner_solve: InnerSolve) -> KernelParams {
    KernelParams {
        inner_solve,
        ..KernelParams::default()
    }
}

/// Kills: `auto_cholesky_factor` testing `κ²·u ≤ 10⁻⁶` without the factor `j` (mutant M01).
///
/// `Auto`'s accuracy rule is `j·κ(A)²·u ≤ 10⁻⁶` (`solve_p1`'s `# Performance`), i.e.
/// `κ(A) ≤ 9.5·10⁴/√j`. On Epperly's `2000 × 10` problem with `κ(A) = 8·10⁴` (`κ²·u ≈ 7·10⁻⁷`;
/// dense and cheap to form, so the cost rule prefers the Cholesky route; with `d = 10` the
/// singular values are far apart and the power-iteration estimate of `κ` is close to it) `Auto`
/// takes the Cholesky route at `j = 1` and keeps CG at `j = 2` (`1.4·10⁻⁶`). The right-hand
/// side is `A`'s top right singular vector (`σ_max = 1`, so `x = b` for every `j`), which keeps
/// `(AᵀA)²` of condition `4·10¹⁹` solvable to a residual of `tol` on either route. Without the
/// `j` the rule took the Cholesky route at `j = 2` as well (`cholesky = true`).
#[test]
fn auto_accuracy_rule_scales_with_the_power() {
    let (a, _, _, _) = ls_problem(2000, 10, 8e4, 0.0, Seed::new(31)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let svd = a.thin_svd().unwrap();
    let b: Vec<f64> = (0..10).map(|i| svd.V()[(i, 0)]).collect();
    let p = KernelParams {
        tol: 1e-8,
        ..with(InnerSolve::Auto)
    };
    for (j, cholesky) in [(1usize, true), (2, false)] {
        let (_, info) = solve_p1(av, j, &b, &p).unwrap_or_else(|e| panic!("j = {j}: {e:?}"));
        assert_eq!(info.cholesky, cholesky, "j = {j}: {info:?}");
        assert!(info.relative_residual <= 1e-8, "j = {j}: {info:?}");
    }
}

/// Was a bug (found by this review, fixed in the same session): P2's forced Cholesky route was
/// `NotConverged` on a consistent least-squares problem that the same route solves when it is
/// inconsistent. Epperly's `2000 × 30` at
/// `κ(A) = 10⁶`, `b = A·x₀` (residual 0), `j = 0`: the first semi-normal step leaves
/// `‖r‖ ≈ κ²·u·‖b‖`, above `lstsq.tol·‖b‖`, and the test value `‖L⁻¹Aᵀr‖/‖r‖` of a residual
/// inside `range(A)` is about 1 at every step (measured `1.0`, then `1.0000037`), so the stall
/// test (`test ≥ last`) ends the loop although `‖r‖` is still falling by `κ²·u ≈ 10⁻⁴` a step;
/// with `d·κ²·u ≈ 3 > 1` the floor is 0 and the route errs. With a residual of norm 1
/// (`p2`'s `residual_norm = 1`, same `κ`) the forced route is `Ok` after 6 steps. The stall test
/// now also counts a step that halves `‖r‖` as progress.
#[test]
fn p2_forced_cholesky_route_solves_a_consistent_system() {
    let (a, b, x0, _) = ls_problem(2000, 30, 1e6, 0.0, Seed::new(61)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let (x, info) = solve_p2(av, 0, &b, &with(InnerSolve::Cholesky)).unwrap();
    assert!(info.cholesky, "{info:?}");
    let err = norm(&x.iter().zip(&x0).map(|(p, q)| p - q).collect::<Vec<_>>()) / norm(&x0);
    assert!(err <= 1e-8, "forward error {err:e}");
}

/// `exp(AAᵀ)` densely.
fn exp_kernel(a: &Mat<f64>) -> Mat<f64> {
    let g = a * a.transpose();
    Mat::from_fn(g.nrows(), g.ncols(), |i, j| g[(i, j)].exp())
}

/// `‖K·x − b‖` densely.
fn residual(k: &Mat<f64>, x: &[f64], b: &[f64]) -> f64 {
    let kx = k * Mat::from_fn(x.len(), 1, |i, _| x[i]);
    norm(&(0..b.len()).map(|i| kx[(i, 0)] - b[i]).collect::<Vec<_>>())
}

/// Kills: `SparseRows::dist2` merging the two rows' column indices in the wrong order (`x < y`
/// for `x > y`, mutant M19).
///
/// P3 on a sparse `A` with `d > n` (read as sparse rows) with two near-duplicate rows whose
/// patterns differ: row 1 is row 0 (eight entries of 0.7 in columns 1–8, `‖a₀‖² = 3.92`) plus
/// `δ = 2⁻¹²` in column 0. `½‖a₀ − a₁‖² = δ²/2 ≈ 3·10⁻⁸` is inside the near-duplicate margin
/// (`2⁻²⁶·u·(‖a₀‖² + ‖a₁‖²) ≈ 10⁻⁷`), so `G₀₁` is recomputed from the merged rows. A merge that
/// lost step consumed one row before the other and added `‖a₀‖² + ‖a₁‖²` instead of `δ²`:
/// `G₀₁ ≈ e^{−3.9}` for `1 − 3·10⁻⁸`, a different matrix, whose answer misses the residual of the
/// true `exp(AAᵀ)` by order `‖b‖`. The check: `b = exp(AAᵀ)·x₀` with `x₀ = O(1)`, the answer's
/// residual recomputed densely within `10⁻⁸·‖b‖` (tol `10⁻¹⁰` plus the dense product's
/// rounding, about `10⁻¹⁴·‖b‖`), for CSR and CSC input, as the dense input's answer does.
#[test]
fn p3_sparse_near_duplicate_rows_with_different_patterns() {
    let (n, d) = (6, 12);
    let delta = 2f64.powi(-12);
    let g = gaussian_matrix(n, d, Seed::new(72)).unwrap();
    let a = Mat::from_fn(n, d, |i, k| match i {
        0 | 1 if k == 0 => {
            if i == 1 {
                delta
            } else {
                0.0
            }
        }
        0 | 1 if k <= 8 => 0.7,
        0 | 1 => 0.0,
        _ => 0.5 * g[(i, k)],
    });
    let mut t = sprs::TriMat::new((n, d));
    for i in 0..n {
        for k in 0..d {
            if a[(i, k)] != 0.0 {
                t.add_triplet(i, k, a[(i, k)]);
            }
        }
    }
    let csr: sprs::CsMat<f64> = t.to_csr();
    let k = exp_kernel(&a);
    let x0: Vec<f64> = (0..n).map(|i| 1.0 - 0.3 * i as f64).collect();
    let b: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| k[(i, j)] * x0[j]).sum())
        .collect();
    let (xd, _) = solve_p3(
        MatrixRef::dense(a.as_ref()).unwrap(),
        &b,
        &KernelParams::default(),
    )
    .unwrap();
    let rd = residual(&k, &xd, &b);
    assert!(rd <= 1e-8 * norm(&b), "dense input: {:e}", rd / norm(&b));
    for (name, m) in [("CSR", csr.clone()), ("CSC", csr.to_csc())] {
        let (x, _) =
            solve_p3(MatrixRef::sparse(&m).unwrap(), &b, &KernelParams::default()).unwrap();
        let r = residual(&k, &x, &b);
        assert!(r <= 1e-8 * norm(&b), "{name}: {:e}", r / norm(&b));
    }
}

/// Kills: P2's semi-normal equations without their stall test `test ≥ last` (mutant M31: they
/// run on to `SEMI_NORMAL_MAX_STEPS = 8` once the test value stops falling).
///
/// On Epperly's `3000 × 30` problem at `κ(A) = 10⁴` with a residual of norm 1 the test value
/// `‖L⁻¹Aᵀr‖/‖r‖` stalls at its rounding floor (`2·10⁻¹⁴`, above `lstsq.tol = 10⁻¹⁴`; see
/// `kernel_inner_solve::p2_semi_normal_equations_accept_their_rounding_floor`) and is accepted
/// there "once [it] stops falling" (`p2_by_cholesky`'s doc), after the few steps of a contraction
/// of `κ(A)²·u ≈ 10⁻⁸` each ("three or four reach any `tol` above `u`"): `lstsq_iterations ≤ 5`,
/// on the forced and the `Auto` route, with the dense optimum's residual (to `10⁻¹²`). Without the
/// stall test every such solve took all 8 steps.
#[test]
fn p2_semi_normal_equations_stop_when_the_test_value_stalls() {
    let (n, d) = (3000, 30);
    let (a, b, _, _) = ls_problem(n, d, 1e4, 1.0, Seed::new(31)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let mut rhs = Mat::from_fn(n, 1, |i, _| b[i]);
    a.col_piv_qr().solve_lstsq_in_place(rhs.as_mut());
    let y: Vec<f64> = (0..d).map(|i| rhs[(i, 0)]).collect();
    let opt = residual(&a, &y, &b);
    for route in [InnerSolve::Cholesky, InnerSolve::Auto] {
        let (x, info) =
            solve_p2(av, 0, &b, &with(route)).unwrap_or_else(|e| panic!("{route:?}: {e:?}"));
        assert!(info.cholesky, "{route:?}: {info:?}");
        assert!(
            (1..=5).contains(&info.lstsq_iterations),
            "{route:?}: {info:?}"
        );
        let res = residual(&a, &x, &b);
        assert!(
            res <= opt * (1.0 + 1e-12),
            "{route:?}: {res:e} vs OPT {opt:e}"
        );
    }
}

/// Kills: `solve_p1` returning an answer whose entries underflowed when it is scaled back
/// without holding its recomputed residual to `tol` (mutant M26: the `rel > tol` check after
/// `unscale_x` dropped).
///
/// `A = 2¹²⁰·A₀` (inside the range P1 solves unscaled for `j = 1`, `2^±128`) and `b = 2⁻⁹⁶⁰·b₀`
/// (a normal number, outside `[2⁻²⁵⁶, 2²⁵⁷)`, so solved as `b₀`-sized and scaled back): the exact
/// `x ≈ 2⁻¹²⁰⁰·x₀` is below the smallest subnormal, the `x` returned would be 0 with a residual
/// of `‖b‖`, and `solve_p1`'s doc requires `NotConverged` ("no longer `Ok(x = 0)`"). At
/// `b = 2⁻⁷⁰⁰·b₀` (`x ≈ 2⁻⁹⁴⁰`, normal) the same `A` is `Ok` within `tol`. The mutant returned
/// `Ok` with `x = 0`.
#[test]
fn p1_answer_that_underflows_after_rescaling_b_is_not_converged() {
    let g = gaussian_matrix(50, 4, Seed::new(77)).unwrap();
    let a = Mat::from_fn(50, 4, |i, k| g[(i, k)] * 2f64.powi(120));
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b0 = vec_of(&gaussian_matrix(4, 1, Seed::new(78)).unwrap());
    let scaled = |e: i32| b0.iter().map(|v| v * 2f64.powi(e)).collect::<Vec<_>>();
    let p = KernelParams::default();
    let (x, info) = solve_p1(av, 1, &scaled(-700), &p).unwrap();
    assert!(info.relative_residual <= 1e-10, "{info:?}");
    assert!(x.iter().all(|v| v.abs() >= f64::MIN_POSITIVE), "{x:?}");
    let r = solve_p1(av, 1, &scaled(-960), &p);
    assert!(matches!(r, Err(Error::NotConverged { .. })), "{r:?}");
}

/// Kills: P3 reporting the residual of the solve instead of that of the `x` returned when an
/// entry of `x = D⁻¹w` underflowed (mutant M27: the recomputed residual used for the check but
/// not reported).
///
/// `A = [[37, 0], [0, 0.1]]` (`solve_p3`'s doc example) with `b = [b₂·e^{−0.01}·(1 + 10⁻¹²), b₂]`:
/// the exact `x₁ ≈ 10⁻¹²·b₁·e^{−1369}` is far below the subnormals and returns as 0, and row 1's
/// residual is then `x₂ − b₁ ≈ 10⁻¹²·b₁` (`exp(AAᵀ)` has off-diagonal `e⁰ = 1`): within `tol`, so
/// `Ok`, and `KernelInfo::residual_norm` is "recomputed … on the `x` returned when entries of it
/// underflowed". It is checked against the residual of the returned `x` computed here without
/// forming `e^{1369}` (`x₁ = 0` exactly): rows `x₂ − b₁` and `e^{0.01}·x₂ − b₂`; agreement to
/// 1 % (the residual, `7·10⁻¹³·‖b‖`, is computed from a difference of `b₁`-sized numbers, exact
/// to about `u·b₁`, 10⁻⁴ of it). The mutant reported the solve's residual, about `10⁻¹⁶·‖b‖`.
#[test]
fn p3_reports_the_residual_of_the_x_returned_after_an_underflow() {
    let a = Mat::from_fn(2, 2, |i, k| match (i, k) {
        (0, 0) => 37.0,
        (1, 1) => 0.1,
        _ => 0.0,
    });
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b2 = 1.0f64;
    let b = [b2 * (-0.01f64).exp() * (1.0 + 1e-12), b2];
    for route in [InnerSolve::Auto, InnerSolve::Cg] {
        let (x, info) =
            solve_p3(av, &b, &with(route)).unwrap_or_else(|e| panic!("{route:?}: {e:?}"));
        assert_eq!(x[0], 0.0, "{route:?}: {x:?}");
        let res = (x[1] - b[0]).hypot(0.01f64.exp() * x[1] - b[1]);
        assert!(res > 1e-13 && res <= 1e-10 * norm(&b), "{route:?}: {res:e}");
        assert!(
            (info.residual_norm - res).abs() <= 1e-2 * res,
            "{route:?}: reported {:e}, residual of x {res:e}",
            info.residual_norm
        );
    }
}

/// Kills: `a_scaled_answer` holding P2's recomputed residual to `tol` instead of to the solve's
/// own residual and `tol` in quadrature (mutant M21: `beside_opt` ignored).
///
/// `A = 2²⁰⁰·A₀` (`50 × 4`, beyond P2's `2^±128` for `j = 1`, so solved as `A₀` and the answer
/// scaled by `2⁻⁶⁰⁰`) and `b = 2⁻⁴³⁰·b₀` with `b₀` not in `range(A₀)` (OPT ≈ `‖b‖`): the answer,
/// about `2⁻¹⁰³⁰`, is subnormal (44 significant bits, a relative `10⁻¹³`), so its residual is
/// recomputed and must be within `tol·‖b‖` (in quadrature) of the solve's, which includes OPT.
/// The answer is `Ok` with the relative residual of the unscaled problem `(A₀, b₀)` (to
/// `10⁻⁹`). Held to `tol` alone, a residual of OPT ≫ `tol·‖b‖` was `NotConverged`.
#[test]
fn p2_subnormal_answer_of_a_scaled_a_keeps_its_least_squares_residual() {
    let g = gaussian_matrix(50, 4, Seed::new(79)).unwrap();
    let a0 = Mat::from_fn(50, 4, |i, k| g[(i, k)]);
    let a = Mat::from_fn(50, 4, |i, k| g[(i, k)] * 2f64.powi(200));
    let b0 = vec_of(&gaussian_matrix(50, 1, Seed::new(80)).unwrap());
    let b: Vec<f64> = b0.iter().map(|v| v * 2f64.powi(-430)).collect();
    let p = KernelParams::default();
    let (_, i0) = solve_p2(MatrixRef::dense(a0.as_ref()).unwrap(), 1, &b0, &p).unwrap();
    assert!(i0.relative_residual > 0.1, "{i0:?}");
    let (x, info) = solve_p2(MatrixRef::dense(a.as_ref()).unwrap(), 1, &b, &p)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        x.iter().all(|v| *v != 0.0 && v.abs() < f64::MIN_POSITIVE),
        "{x:?}"
    );
    assert!(
        (info.relative_residual - i0.relative_residual).abs() <= 1e-9,
        "{info:?} vs {i0:?}"
    );
}

/// Kills: P3 falling back to Nyström-CG when the forced Cholesky route does not converge
/// (mutant M22: the fallback taken for `InnerSolve::Cholesky` as for `Auto`).
///
/// `InnerSolve::Cholesky`: "Forced, … a stalled refinement [is] `Error::NotConverged`", from
/// the route asked for, which makes no CG iteration. A tolerance of `10⁻¹⁸` (below the
/// rounding of any `f64` residual) makes every route fail: forced Cholesky must be
/// `NotConverged` from the Cholesky route, whose `iterations` count its solves with the factor
/// (since session 50; they were its CG iterations, 0): one per residual in the history after
/// the first, at most `max_refinements + 1`. The mutant ran CG after it and reported CG's
/// error (`NotConverged` with up to `max_iters = 50` CG iterations per run, or a breakdown).
#[test]
fn p3_forced_cholesky_route_does_not_fall_back_to_cg() {
    let n = 80;
    let g = gaussian_matrix(n, 4, Seed::new(81)).unwrap();
    let a = Mat::from_fn(n, 4, |i, k| 0.5 * g[(i, k)]);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
    let p = KernelParams {
        tol: 1e-18,
        max_iters: 50,
        ..with(InnerSolve::Cholesky)
    };
    let r = solve_p3(av, &b, &p);
    match &r {
        Err(Error::NotConverged {
            iterations,
            history,
            ..
        }) => assert!(
            *iterations + 1 == history.len() && *iterations <= p.max_refinements + 1,
            "{r:?}"
        ),
        _ => panic!("{r:?}"),
    }
}

/// `Auto` keeps P2's Cholesky route on consistent systems (the bug above, on the route `Auto`
/// chooses): Epperly's `3000 × 40` at `κ(A) = 3·10⁴` (`κ²·u ≈ 10⁻⁷`, inside `Auto`'s accuracy
/// rule), `b = A·x₀`, `j = 0`, problem seeds 0–7. Each step cuts `‖r‖` by about `κ²·u` while
/// the test value stays near 1, so before the fix the stall test ended the Cholesky route
/// whenever the second test value came out above the first, and `Auto` fell back to CG
/// (`info.cholesky = false`, here on seed 4). Pass rule: every seed on the Cholesky route,
/// relative residual within `tol`.
#[test]
fn auto_keeps_the_cholesky_route_on_consistent_p2_systems() {
    let p = with(InnerSolve::Auto);
    let mut cg = Vec::new();
    for seed in 0..8u64 {
        let (a, b, _, _) = ls_problem(3000, 40, 3e4, 0.0, Seed::new(seed)).unwrap();
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let (_, info) = solve_p2(av, 0, &b, &p).unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        assert!(info.relative_residual <= p.tol, "seed {seed}: {info:?}");
        if !info.cholesky {
            cg.push(seed);
        }
    }
    assert!(cg.is_empty(), "seeds that fell back to CG: {cg:?}");
}
