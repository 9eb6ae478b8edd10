//! Attention kernel regression (P1, P2, P3 of Song–Yin–Zhang) against dense solves at n ≤ 2000.

use crate::common;

use common::vec_of;
use faer::linalg::solvers::SolveLstsq;
use faer::Mat;
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, solve_p3, InnerSolve, KernelParams};
use randnla::problems::gaussian_matrix;
use randnla::{Error, MatrixRef, Seed};

fn col(v: &[f64]) -> Mat<f64> {
    Mat::from_fn(v.len(), 1, |i, _| v[i])
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `A = G·diag(logspace(0, −1, d))`, n × d: κ(A) ≈ 10·κ(G) ≈ 30.
fn test_matrix(n: usize, d: usize, seed: u64) -> Mat<f64> {
    let g = gaussian_matrix(n, d, Seed::new(seed)).unwrap();
    Mat::from_fn(n, d, |i, j| {
        g[(i, j)] * 10f64.powf(-(j as f64) / (d - 1) as f64) / (n as f64).sqrt()
    })
}

/// The `300 × 16` matrix `0.4·G` (Gaussian `G`, seed 5) that the smaller P3 tests share.
fn p3_matrix() -> Mat<f64> {
    let g = gaussian_matrix(300, 16, Seed::new(5)).unwrap();
    Mat::from_fn(300, 16, |i, j| 0.4 * g[(i, j)])
}

/// Dense least squares by faer's column-pivoted QR: (x, ‖Kx − b‖).
fn dense_lstsq(k: &Mat<f64>, b: &[f64]) -> (Vec<f64>, f64) {
    let mut rhs = col(b);
    k.col_piv_qr().solve_lstsq_in_place(rhs.as_mut());
    let x: Vec<f64> = (0..k.ncols()).map(|i| rhs[(i, 0)]).collect();
    let r = k * col(&x);
    let res: Vec<f64> = (0..k.nrows()).map(|i| r[(i, 0)] - b[i]).collect();
    (x, norm(&res))
}

fn gram_power(a: &Mat<f64>, j: usize) -> Mat<f64> {
    let g = a.transpose() * a;
    let mut m = Mat::<f64>::identity(a.ncols(), a.ncols());
    for _ in 0..j {
        m = &m * &g;
    }
    m
}

/// P1 with j = 1, 2, 3 at 1500 × 20: OPT = 0 (AᵀA invertible), so the pass rule is
/// ‖(AᵀA)ʲx − b‖ ≤ tol·‖b‖ (tol = 1e-10) and the solution matches the dense solve to
/// 1e-10·κ((AᵀA)ʲ).
#[test]
fn p1_matches_dense_solve() {
    let a = test_matrix(1500, 20, 1);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_of(&gaussian_matrix(20, 1, Seed::new(2)).unwrap());
    for j in 1..=3 {
        let (x, info) = solve_p1(av, j, &b, &KernelParams::default()).unwrap();
        let m = gram_power(&a, j);
        let (xd, _) = dense_lstsq(&m, &b);
        let r = &m * col(&x);
        let res = norm(&(0..20).map(|i| r[(i, 0)] - b[i]).collect::<Vec<_>>());
        assert!(res <= 1e-10 * norm(&b), "j={j}: residual {res:e}");
        // The matrix-free residual the solver reports meets the same rule, and so does the last
        // entry of its history (one per refinement step).
        assert!(
            info.residual_norm <= 1e-10 * norm(&b),
            "j={j}: reported {:e}",
            info.residual_norm
        );
        assert_eq!(info.residual_history.len(), info.refinements + 1, "j={j}");
        assert!(info.residual_history.last().is_some_and(|&r| r <= 1e-10));
        let kappa = randnla::diagnostics::condition_number(m.as_ref()).unwrap();
        let e = norm(&x.iter().zip(&xd).map(|(p, q)| p - q).collect::<Vec<_>>()) / norm(&xd);
        assert!(
            e <= 1e-10 * kappa,
            "j={j}: ‖x − x_dense‖/‖x_dense‖ = {e:e}, κ = {kappa:e}"
        );
    }
}

/// ‖K x − b‖ with `K` formed densely by the test.
fn dense_residual(k: &Mat<f64>, x: &[f64], b: &[f64]) -> f64 {
    let r = k * col(x);
    norm(&(0..k.nrows()).map(|i| r[(i, 0)] - b[i]).collect::<Vec<_>>())
}

/// P2 with j = 0, 1, 2 at 2000 × 15 and a random `b` (OPT ≈ ‖b‖): the residual of the returned
/// `x`, recomputed here with the dense `A(AᵀA)ʲ`, is ≤ (1 + 1e-8)·OPT, OPT from the dense
/// column-pivoted QR solve. The solver's own `residual_norm` agrees with it to 1e-8.
#[test]
fn p2_is_within_one_plus_eps_of_opt() {
    let a = test_matrix(2000, 15, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_of(&gaussian_matrix(2000, 1, Seed::new(4)).unwrap());
    for j in 0..=2 {
        let (x, info) = solve_p2(av, j, &b, &KernelParams::default()).unwrap();
        let k = &a * gram_power(&a, j);
        let (_, opt) = dense_lstsq(&k, &b);
        let res = dense_residual(&k, &x, &b);
        assert!(res <= (1.0 + 1e-8) * opt, "j={j}: {res} vs OPT {opt}");
        assert!(
            (info.residual_norm - res).abs() <= 1e-8 * res,
            "j={j}: reported {} vs recomputed {res}",
            info.residual_norm
        );
    }
}

/// P2 on a nearly consistent `b = A·w + 10⁻⁹·g` (OPT ≈ 10⁻⁹‖g‖), where "(1 + ε)·OPT" says
/// little: the documented guarantee is ‖A(AᵀA)ʲx − b‖² ≤ ‖b − Ay‖² + (tol·‖b‖)², checked with
/// the dense OPT in place of ‖b − Ay‖ (the least-squares stage meets 1e-14 here) and 1 % for
/// it, plus 10⁻¹⁴‖b‖ for the rounding of the dense product (κ(A(AᵀA)ʲ) ≤ 30 for this A).
#[test]
fn p2_meets_its_bound_on_a_nearly_consistent_problem() {
    let (n, d) = (2000, 15);
    let g = gaussian_matrix(n, d, Seed::new(11)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| g[(i, j)] / (n as f64).sqrt());
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let w = gaussian_matrix(d, 1, Seed::new(12)).unwrap();
    let noise = gaussian_matrix(n, 1, Seed::new(13)).unwrap();
    let aw = &a * &w;
    let b: Vec<f64> = (0..n).map(|i| aw[(i, 0)] + 1e-9 * noise[(i, 0)]).collect();
    let mut params = KernelParams::default();
    params.lstsq.tol = 1e-14;
    for j in 0..=2 {
        let (x, _) = solve_p2(av, j, &b, &params).unwrap();
        let k = &a * gram_power(&a, j);
        let kappa = randnla::diagnostics::condition_number(k.as_ref()).unwrap();
        assert!(kappa <= 30.0, "j={j}: κ = {kappa}");
        let (_, opt) = dense_lstsq(&k, &b);
        let res = dense_residual(&k, &x, &b);
        let bound = (1.01 * opt).hypot(params.tol * norm(&b)) + 1e-14 * norm(&b);
        assert!(
            res <= bound,
            "j={j}: {res:e} vs bound {bound:e} (OPT {opt:e})"
        );
    }
}

/// An inner CG capped at 5 iterations hands its partial iterate on, and outer refinement on
/// the true residual finishes the job: ‖(AᵀA)ʲx − b‖ ≤ tol·‖b‖ recomputed densely. (When the
/// partial iterate was dropped, the second refinement step made no progress and P1 failed.)
#[test]
fn p1_refines_from_partial_inner_solves() {
    let a = test_matrix(1500, 20, 1);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_of(&gaussian_matrix(20, 1, Seed::new(2)).unwrap());
    let params = KernelParams {
        max_iters: 5,
        max_refinements: 60,
        // The CG route: the Gram route has no inner iterations to cap.
        inner_solve: InnerSolve::Cg,
        ..KernelParams::default()
    };
    for j in 1..=2 {
        let (x, info) = solve_p1(av, j, &b, &params).unwrap();
        let res = dense_residual(&gram_power(&a, j), &x, &b);
        assert!(res <= 1e-10 * norm(&b), "j={j}: residual {res:e}");
        assert!(info.refinements > 1, "j={j}: {info:?}");
    }
}

/// P3 at n = 1000, d = 16 (rows N(0, 0.4²I)): exp(AAᵀ) has κ ≈ e^{max‖aᵢ‖² − min‖aᵢ‖²}·κ(G);
/// our residual must be ≤ max(1.01·(dense residual), 1e-10·‖b‖).
#[test]
fn p3_matches_dense_solve() {
    let (n, d) = (1000, 16);
    let g = gaussian_matrix(n, d, Seed::new(5)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| 0.4 * g[(i, j)]);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_of(&gaussian_matrix(n, 1, Seed::new(6)).unwrap());
    let (x, info) = solve_p3(av, &b, &KernelParams::default()).unwrap();
    let aat = &a * a.transpose();
    let k = Mat::from_fn(n, n, |i, j| aat[(i, j)].exp());
    let (_, res_dense) = dense_lstsq(&k, &b);
    let r = &k * col(&x);
    let res = norm(&(0..n).map(|i| r[(i, 0)] - b[i]).collect::<Vec<_>>());
    assert!(info.residual_norm <= 1e-10 * norm(&b));
    assert_eq!(info.residual_history.len(), info.refinements + 1);
    assert!(info.residual_history.last().is_some_and(|&r| r <= 1e-10));
    assert!(
        res <= (1.01 * res_dense).max(1e-10 * norm(&b)),
        "{res:e} vs dense {res_dense:e}"
    );
}

/// The refinement budget means what `KernelParams::max_refinements` documents: at most
/// `max_refinements + 1` solves (P1) or CG runs (P3). Inner runs are capped (P1: 5 CG iterations,
/// P3: 3) so that several are needed; a first solve with a generous budget takes `K > 1` of them
/// (`refinements = K`). Solving again with `max_refinements = K − 1` must succeed, with the same
/// answer bit for bit (the runs are deterministic and the budget is not reached), while
/// `max_refinements = K − 2` must return `NotConverged`. The boundary is exact, so the pass rule
/// is exact.
#[test]
fn refinement_budget_allows_exactly_max_refinements_plus_one_runs() {
    let a = test_matrix(1500, 20, 1);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_of(&gaussian_matrix(20, 1, Seed::new(2)).unwrap());
    let a3 = p3_matrix();
    let a3v = MatrixRef::dense(a3.as_ref()).unwrap();
    let b3 = vec_of(&gaussian_matrix(300, 1, Seed::new(12)).unwrap());
    type Run<'s> = Box<dyn Fn(usize) -> randnla::Result<(Vec<f64>, usize)> + 's>;
    let runs: [(&str, Run<'_>); 2] = [
        (
            "P1",
            Box::new(|max_refinements| {
                let p = KernelParams {
                    max_iters: 5,
                    max_refinements,
                    inner_solve: InnerSolve::Cg,
                    ..KernelParams::default()
                };
                solve_p1(av, 1, &b, &p).map(|(x, i)| (x, i.refinements))
            }),
        ),
        (
            "P3",
            Box::new(|max_refinements| {
                let p = KernelParams {
                    max_iters: 3,
                    max_refinements,
                    inner_solve: InnerSolve::Cg,
                    ..KernelParams::default()
                };
                solve_p3(a3v, &b3, &p).map(|(x, i)| (x, i.refinements))
            }),
        ),
    ];
    for (name, run) in &runs {
        let (x, k) = run(60).unwrap();
        assert!(k >= 2, "{name}: only {k} run; the test needs several");
        let (x1, k1) = run(k - 1).unwrap_or_else(|e| panic!("{name}, budget {}: {e:?}", k - 1));
        assert_eq!(k1, k, "{name}");
        assert!(
            x.iter().zip(&x1).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name}: a different answer"
        );
        let r = run(k - 2);
        assert!(
            matches!(r, Err(Error::NotConverged { .. })),
            "{name}, budget {}: {r:?}",
            k - 2
        );
    }
}

/// P1's inner CG is preconditioned by `(RᵀR)⁻¹` from the sketch `SA = QR`, so its rate is set by
/// `κ(AR⁻¹)² ≈ 9` whatever `κ(A)` is (module docs). Bound: preconditioned CG reduces the
/// `AᵀA`-norm error by `2ρᵏ`, `ρ = (√9 − 1)/(√9 + 1) = 1/2`, and the residual norm it stops on
/// by at most `κ(A)·2ρᵏ` (`√κ(AᵀA)` between the two norms), so an inner solve to its target
/// `10⁻³·tol` takes at most `⌈log₂(2κ(A)/(10⁻³·tol))⌉` iterations, and P1 with `j = 1` at most that
/// many per refinement step. `A = G·diag(logspace(0, −2))·M` with `M` a Gaussian `20 × 20`: columns
/// far from orthogonal (κ(A) ≈ 460), where `R` is far from diagonal and a preconditioner applied
/// in the wrong order, `(RRᵀ)⁻¹`, no longer looks like `(AᵀA)⁻¹` (measured: 90 iterations
/// against about 20; the bound here is 54).
#[test]
fn p1_inner_iterations_are_bounded_independently_of_the_conditioning() {
    let (n, d) = (1500, 20);
    let g = gaussian_matrix(n, d, Seed::new(1)).unwrap();
    let m = gaussian_matrix(d, d, Seed::new(3)).unwrap();
    let gd = Mat::from_fn(n, d, |i, j| {
        g[(i, j)] * 10f64.powf(-2.0 * j as f64 / (d - 1) as f64) / (n as f64).sqrt()
    });
    let a = &gd * &m;
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let kappa = randnla::diagnostics::condition_number(a.as_ref()).unwrap();
    assert!(kappa > 100.0, "κ(A) = {kappa}");
    let b = vec_of(&gaussian_matrix(d, 1, Seed::new(2)).unwrap());
    // The CG route's iterations are what is bounded (the default would factor AᵀA here).
    let p = KernelParams {
        inner_solve: InnerSolve::Cg,
        ..KernelParams::default()
    };
    let (x, info) = solve_p1(av, 1, &b, &p).unwrap();
    assert!(!info.cholesky && info.cg_iterations > 0, "{info:?}");
    let per_solve = (2.0 * kappa / (1e-3 * p.tol)).log2().ceil() as usize;
    assert!(
        info.cg_iterations <= per_solve * info.refinements,
        "{} CG iterations in {} steps; bound {per_solve} per step (κ(A) = {kappa:.0})",
        info.cg_iterations,
        info.refinements
    );
    let res = dense_residual(&gram_power(&a, 1), &x, &b);
    assert!(res <= 1e-10 * norm(&b), "residual {res:e}");
}

/// `relative_residual` is `residual_norm/‖b‖` as documented, for P1, P2 and P3, with `b` of norm
/// far from 1 (scaled by 10³, inside the range solved as given): one division, so `1e-14`
/// relative.
#[test]
fn relative_residual_is_the_residual_over_the_norm_of_b() {
    let a = test_matrix(200, 6, 9);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let a3 = p3_matrix();
    let a3v = MatrixRef::dense(a3.as_ref()).unwrap();
    let p = KernelParams::default();
    let scaled = |n: usize, seed: u64| -> Vec<f64> {
        vec_of(&gaussian_matrix(n, 1, Seed::new(seed)).unwrap())
            .iter()
            .map(|v| 1e3 * v)
            .collect()
    };
    let (b6, b200, b300) = (scaled(6, 10), scaled(200, 11), scaled(300, 12));
    for (name, b, info) in [
        ("P1", &b6, solve_p1(av, 2, &b6, &p).unwrap().1),
        ("P2", &b200, solve_p2(av, 1, &b200, &p).unwrap().1),
        ("P3", &b300, solve_p3(a3v, &b300, &p).unwrap().1),
    ] {
        let want = info.residual_norm / norm(b);
        assert!(
            (info.relative_residual - want).abs() <= 1e-14 * want,
            "{name}: relative_residual {:e} vs residual/‖b‖ {want:e}",
            info.relative_residual
        );
    }
}

#[test]
fn kernel_regression_rejects_bad_input() {
    let a = test_matrix(100, 5, 7);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let p = KernelParams::default();
    assert!(matches!(
        solve_p1(av, 1, &[1.0; 4], &p),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        solve_p1(av, 1, &[f64::NAN; 5], &p),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        solve_p2(av, 1, &[1.0; 99], &p),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        solve_p3(av, &[1.0; 5], &p),
        Err(Error::DimensionMismatch { .. })
    ));
    let bad = KernelParams {
        tol: 0.0,
        ..KernelParams::default()
    };
    assert!(matches!(
        solve_p1(av, 1, &[1.0; 5], &bad),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        solve_p3(av, &[1.0; 100], &bad),
        Err(Error::InvalidParameter { .. })
    ));
    // The kernel problems have no ridge term; λ > 0 would silently change P1's and P2's answers.
    let mut ridged = KernelParams::default();
    ridged.lstsq.ridge = 0.5;
    for r in [
        solve_p1(av, 1, &[1.0; 5], &ridged),
        solve_p2(av, 1, &[1.0; 100], &ridged),
        solve_p3(av, &[1.0; 100], &ridged),
    ] {
        assert!(matches!(r, Err(Error::InvalidParameter { .. })), "{r:?}");
    }
    let empty = Mat::<f64>::zeros(0, 5);
    let ev = MatrixRef::dense(empty.as_ref()).unwrap();
    assert!(matches!(solve_p2(ev, 1, &[], &p), Err(Error::Empty { .. })));
    // Rank-deficient A: AᵀA is singular.
    let mut r = a.clone();
    for i in 0..100 {
        r[(i, 4)] = r[(i, 3)];
    }
    let rv = MatrixRef::dense(r.as_ref()).unwrap();
    assert!(matches!(
        solve_p1(rv, 1, &[1.0; 5], &p),
        Err(Error::RankDeficient { .. })
    ));
    // A zero A needs the same rank d = 5 (the preconditioner alone asked for 1).
    let zero = Mat::<f64>::zeros(100, 5);
    let zv = MatrixRef::dense(zero.as_ref()).unwrap();
    for r in [
        solve_p1(zv, 1, &[1.0; 5], &p).map(drop),
        solve_p2(zv, 1, &[1.0; 100], &p).map(drop),
    ] {
        assert!(
            matches!(
                r,
                Err(Error::RankDeficient {
                    rank: 0,
                    required: 5
                })
            ),
            "{r:?}"
        );
    }
    // Iteration budgets too small: NotConverged, not a wrong answer.
    let tiny = KernelParams {
        max_iters: 1,
        max_refinements: 0,
        // The budgets cap CG; the Gram route (one Cholesky solve per step) meets this in one.
        inner_solve: InnerSolve::Cg,
        ..KernelParams::default()
    };
    let b100 = vec_of(&gaussian_matrix(100, 1, Seed::new(8)).unwrap());
    assert!(matches!(
        solve_p3(av, &b100, &tiny),
        Err(Error::NotConverged { .. })
    ));
    match solve_p1(av, 2, &[1.0; 5], &tiny) {
        // One value per refinement step: here the only step allowed, and a second evaluation.
        Err(Error::NotConverged {
            residual, history, ..
        }) => {
            assert!(!history.is_empty() && history.len() <= 2, "{history:?}");
            assert_eq!(history.last(), Some(&residual));
        }
        other => panic!("expected NotConverged, got {other:?}"),
    }
    // exp(‖aᵢ‖²/2) overflow.
    let big = Mat::from_fn(10, 2, |i, _| if i == 3 { 30.0 } else { 0.1 * i as f64 });
    let bv = MatrixRef::dense(big.as_ref()).unwrap();
    assert!(matches!(
        solve_p3(bv, &[1.0; 10], &p),
        Err(Error::InvalidParameter { .. })
    ));
}

/// P1 and P2 refuse powers beyond 64 (`j = usize::MAX` looped practically forever).
#[test]
fn huge_powers_are_invalid() {
    let a = randnla::problems::gaussian_matrix(300, 4, Seed::new(1)).unwrap();
    let view = MatrixRef::dense(a.as_ref()).unwrap();
    let params = KernelParams::default();
    for j in [65, usize::MAX] {
        let r = solve_p1(view, j, &[1.0; 4], &params);
        assert!(
            matches!(r, Err(Error::InvalidParameter { .. })),
            "P1 j = {j}: {r:?}"
        );
        let r = solve_p2(view, j, &[1.0; 300], &params);
        assert!(
            matches!(r, Err(Error::InvalidParameter { .. })),
            "P2 j = {j}: {r:?}"
        );
    }
    let r = solve_p1(view, 2, &[1.0; 4], &params);
    assert!(r.is_ok(), "P1 j = 2: {r:?}");
}

/// Right-hand sides at the ends of the f64 range: P1–P3 are linear in `b`, so the answer for
/// `2^k·b` is `2^k` times the answer for `b`. With `b` subnormal (P1 used to accept `x = 0` as
/// converged: its relative test was clamped at the smallest normal) or near 2¹⁰⁰⁰ (an inner
/// CG scale factor of 2^±1030 was infinite), the solvers must return that answer, not `x = 0`,
/// a breakdown or a NotConverged. The reference is the answer for `2^{−k}·b` (exact: `b` is
/// `2^k·b₀` rounded), scaled by `2^k`; compared to 1e-8 relative plus two subnormal ulps.
#[test]
fn right_hand_sides_at_the_ends_of_the_range() {
    let a = test_matrix(200, 6, 9);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let a3 = p3_matrix();
    let a3v = MatrixRef::dense(a3.as_ref()).unwrap();
    let p = KernelParams::default();
    let b6 = vec_of(&gaussian_matrix(6, 1, Seed::new(10)).unwrap());
    let b200 = vec_of(&gaussian_matrix(200, 1, Seed::new(11)).unwrap());
    let b300 = vec_of(&gaussian_matrix(300, 1, Seed::new(12)).unwrap());
    let pow2 = |v: &[f64], k: i32| -> Vec<f64> {
        // In two steps: 2^k alone overflows for |k| > 1023.
        v.iter()
            .map(|x| x * 2f64.powi(k / 2) * 2f64.powi(k - k / 2))
            .collect()
    };
    type Solver<'s> = Box<dyn Fn(&[f64]) -> (Vec<f64>, f64, f64) + 's>;
    let solvers: [(&str, &[f64], Solver<'_>); 3] = [
        (
            "P1",
            &b6,
            Box::new(|b: &[f64]| {
                let (x, i) = solve_p1(av, 2, b, &p).unwrap();
                (x, i.relative_residual, i.residual_norm)
            }),
        ),
        (
            "P2",
            &b200,
            Box::new(|b: &[f64]| {
                let (x, i) = solve_p2(av, 1, b, &p).unwrap();
                (x, i.relative_residual, i.residual_norm)
            }),
        ),
        (
            "P3",
            &b300,
            Box::new(|b: &[f64]| {
                let (x, i) = solve_p3(a3v, b, &p).unwrap();
                (x, i.relative_residual, i.residual_norm)
            }),
        ),
    ];
    for (name, b0, solve) in &solvers {
        for k in [-1068, -1040, 1000] {
            let b = pow2(b0, k);
            // 2^k·b₀ rounds when it is subnormal; scaling it back up is exact.
            let (x0, rel0, res0) = solve(&pow2(&b, -k));
            let (x, rel, res) = solve(&b);
            assert!(
                (rel - rel0).abs() <= 1e-10,
                "{name}, k = {k}: relative residual {rel:e} against {rel0:e} at k = 0"
            );
            // The residual norm is reported in the caller's units (checked where 2^k·res₀ is
            // normal).
            if k > 0 {
                let back = pow2(&[res], -k)[0];
                assert!(
                    (back - res0).abs() <= 1e-8 * res0,
                    "{name}, k = {k}: residual norm 2^-k·{res:e} = {back:e} against {res0:e}"
                );
            }
            let want = pow2(&x0, k);
            for (t, w) in x.iter().zip(&want) {
                assert!(
                    w.is_finite() && (t - w).abs() <= 1e-8 * w.abs() + 2.0 * 4.9e-324,
                    "{name}, k = {k}: {t:e} against {w:e}"
                );
            }
        }
    }
}

/// `b = 0`: every problem's answer is `x = 0` with nothing solved, so the history is empty (P3
/// used to record 0/0 = NaN). A tiny but nonzero `b` (entries near 10⁻³⁰⁰, where `tol·‖b‖`
/// underflows) is solved as well as a scaled-up one: the tests compare ratios.
#[test]
fn zero_and_tiny_right_hand_sides() {
    let a = test_matrix(200, 6, 9);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let p = KernelParams::default();
    let (x, info) = solve_p1(av, 2, &[0.0; 6], &p).unwrap();
    assert!(x.iter().all(|&v| v == 0.0) && info.residual_history.is_empty());
    let (x, info) = solve_p2(av, 1, &[0.0; 200], &p).unwrap();
    assert!(x.iter().all(|&v| v == 0.0) && info.residual_history.is_empty());
    // (Those close rows make G numerically singular: x = 0 is returned without factoring it.)
    let (x, info) = solve_p3(av, &[0.0; 200], &p).unwrap();
    assert!(x.iter().all(|&v| v == 0.0), "{info:?}");
    assert!(info.residual_history.is_empty(), "{info:?}");
    let b = vec_of(&gaussian_matrix(6, 1, Seed::new(10)).unwrap());
    let tiny: Vec<f64> = b.iter().map(|v| v * 1e-300).collect();
    let (x, info) = solve_p1(av, 1, &tiny, &p).unwrap();
    let (x1, _) = solve_p1(av, 1, &b, &p).unwrap();
    assert!(info.relative_residual <= 1e-10, "{info:?}");
    for (t, o) in x.iter().zip(&x1) {
        assert!(
            (t * 1e300 - o).abs() <= 1e-8 * o.abs().max(1.0),
            "{t:e} vs {o:e}"
        );
    }
}

/// P1 and P2 are covariant under a scaling of `A`: with `A → cA`, `x → c^{−2j}x` (P1) and
/// `x → c^{−(2j+1)}x` (P2), and the residuals are unchanged. For `c = 2^{±40}` (far from 1, but
/// with every intermediate quantity far from over- and underflow) each solve must meet its own
/// guarantee recomputed densely on `cA` (P1: `‖(c²AᵀA)ʲx − b‖ ≤ tol·‖b‖`; P2:
/// `‖cA(c²AᵀA)ʲx − b‖ ≤ (1 + 10⁻⁸)·OPT`, as `p2_is_within_one_plus_eps_of_opt`), and its
/// answer scaled back must be the unscaled solve's bit for bit: a power of two scales every
/// product, sketch, factor and CG quantity exactly, and every stopping test is a ratio. A P2
/// that refined on `‖y − (AᵀA)ʲx‖` instead of `‖A(y − (AᵀA)ʲx)‖` would stop at `x = 0` once
/// `‖y‖ ≈ ‖b‖/c` drops below `tol·‖b‖`.
#[test]
fn p1_and_p2_are_covariant_under_a_scaling_of_a() {
    let (n, d) = (2000, 15);
    let a = test_matrix(n, d, 3);
    let b1 = vec_of(&gaussian_matrix(d, 1, Seed::new(21)).unwrap());
    let b2 = vec_of(&gaussian_matrix(n, 1, Seed::new(4)).unwrap());
    let p = KernelParams::default();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    for j in 1..=2usize {
        let (x1, _) = solve_p1(av, j, &b1, &p).unwrap();
        let (x2, _) = solve_p2(av, j, &b2, &p).unwrap();
        for e in [-40i32, 40] {
            let c = 2f64.powi(e);
            let ca = Mat::from_fn(n, d, |i, k| c * a[(i, k)]);
            let cav = MatrixRef::dense(ca.as_ref()).unwrap();
            let g = gram_power(&ca, j);
            let k2 = &ca * &g;
            let (y1, _) = solve_p1(cav, j, &b1, &p).unwrap();
            let (y2, _) = solve_p2(cav, j, &b2, &p).unwrap();
            let res1 = dense_residual(&g, &y1, &b1);
            assert!(res1 <= p.tol * norm(&b1), "P1 j={j} c=2^{e}: {res1:e}");
            let (_, opt) = dense_lstsq(&k2, &b2);
            let res2 = dense_residual(&k2, &y2, &b2);
            assert!(
                res2 <= (1.0 + 1e-8) * opt,
                "P2 j={j} c=2^{e}: {res2} vs {opt}"
            );
            for (name, y, x, power) in [
                ("P1", &y1, &x1, 2 * j as i32),
                ("P2", &y2, &x2, 2 * j as i32 + 1),
            ] {
                let back: Vec<f64> = y.iter().map(|v| v * 2f64.powi(e * power)).collect();
                assert!(
                    back.iter().zip(x).all(|(p, q)| p.to_bits() == q.to_bits()),
                    "{name} j={j} c=2^{e}: x(cA)·c^{power} = {back:?}, x(A) = {x:?}"
                );
            }
        }
    }
}

/// P1's inner solves stop at `η = 10⁻³·tol` relative to their right-hand side so that one outer
/// step suffices while the `j`-fold product does not amplify their errors past `tol` (module
/// docs). With inner residuals `eₖ`, `‖eₖ‖ ≤ η·‖rhsₖ‖`, the residual after the first step is
/// `e₁ + G·e₂ + … + G^{j−1}·eⱼ` (`G = AᵀA`), of norm at most
/// `η·(1 + κ(G) + … + κ(G)^{j−1})·(1 + η)^{j−1}·‖b‖`. At `j = 3` and `κ(A) ≤ 5.4` (`κ(G) ≤ 29`)
/// that is below `0.9·tol·‖b‖`, so every solve must end after exactly one refinement step (the
/// rounding of the products, `≈ u·κ(A)⁶`, is below `10⁻¹¹`). Five right-hand sides; a ten times
/// looser inner target needs a second step on most of them.
#[test]
fn p1_needs_one_refinement_step_when_the_power_is_well_conditioned() {
    let (n, d) = (2000, 15);
    let g = gaussian_matrix(n, d, Seed::new(31)).unwrap();
    let a = Mat::from_fn(n, d, |i, k| {
        g[(i, k)] * 5f64.powf(-(k as f64) / (d - 1) as f64) / (n as f64).sqrt()
    });
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let kappa = randnla::diagnostics::condition_number(a.as_ref()).unwrap();
    assert!(kappa <= 5.4, "κ(A) = {kappa}");
    // The inner CG target is what is tested (the default would factor AᵀA here).
    let p = KernelParams {
        inner_solve: InnerSolve::Cg,
        ..KernelParams::default()
    };
    let g3 = gram_power(&a, 3);
    for seed in 0..5u64 {
        let b = vec_of(&gaussian_matrix(d, 1, Seed::new(100 + seed)).unwrap());
        let (x, info) = solve_p1(av, 3, &b, &p).unwrap();
        assert_eq!(info.refinements, 1, "seed {seed}: {info:?}");
        let res = dense_residual(&g3, &x, &b);
        assert!(res <= p.tol * norm(&b), "seed {seed}: residual {res:e}");
    }
}
