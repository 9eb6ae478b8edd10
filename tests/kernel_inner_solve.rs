//! The kernel solvers' two inner routes (`InnerSolve`): P1/P2's CG on `AᵀA` preconditioned by
//! the sketch and the Cholesky factor of the formed `AᵀA`; P3's Nyström-preconditioned CG on the
//! Gaussian kernel matrix `G` and the Cholesky factor of `G`. Both are refined on the true
//! residual, so both must meet the same guarantee, checked here against dense computation; `Auto`
//! must pick the Cholesky route where it pays and is accurate, and CG otherwise; both routes must
//! keep the crate's reproducibility contract (1 vs 2 threads bitwise; CSR, CSC and dense within
//! rounding).

use crate::common;

use common::{vec_of, Layouts};
use faer::linalg::solvers::SolveLstsq;
use faer::Mat;
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, solve_p3, InnerSolve, KernelParams};
use randnla::problems::{gaussian_matrix, random_sparse};
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

/// `(AᵀA)ʲ` densely.
fn gram_power(a: &Mat<f64>, j: usize) -> Mat<f64> {
    let g = a.transpose() * a;
    let mut k = Mat::<f64>::identity(a.ncols(), a.ncols());
    for _ in 0..j {
        k = &k * &g;
    }
    k
}

/// `‖K·x − b‖`, densely.
fn residual(k: &Mat<f64>, x: &[f64], b: &[f64]) -> f64 {
    let kx = k * Mat::from_fn(x.len(), 1, |i, _| x[i]);
    norm(&(0..b.len()).map(|i| kx[(i, 0)] - b[i]).collect::<Vec<_>>())
}

/// `min ‖K·x − b‖` by faer's column-pivoted QR.
fn optimum(k: &Mat<f64>, b: &[f64]) -> f64 {
    let mut rhs = Mat::from_fn(b.len(), 1, |i, _| b[i]);
    k.col_piv_qr().solve_lstsq_in_place(rhs.as_mut());
    let x: Vec<f64> = (0..k.ncols()).map(|i| rhs[(i, 0)]).collect();
    residual(k, &x, b)
}

fn rel_diff(x: &[f64], y: &[f64]) -> f64 {
    let d: Vec<f64> = x.iter().zip(y).map(|(p, q)| p - q).collect();
    norm(&d) / norm(y)
}

/// A sparse `3000 × 40` `A` with 6 nonzeros per row (κ(A) ≈ 2): forming `AᵀA` costs about
/// 3.5 multiply-adds per stored entry, far below the CG iterations it replaces, so `Auto` takes
/// the Cholesky route on every layout. P1 (`j = 1, 2`) and P2 (`j = 0, 1, 2`) then make no CG
/// iteration, meet `tol` on the residual recomputed densely (P2: within `1.01·OPT` and `tol`,
/// in quadrature), and agree with the CG route's answer to `2·κ(A)^{2j}·tol` (both answers are
/// within `κ((AᵀA)ʲ)·tol` of the exact one) and, across layouts, to the same bound.
#[test]
fn auto_takes_the_cholesky_route_on_a_sparse_a_and_meets_the_guarantee() {
    let (n, d) = (3000, 40);
    let layouts = Layouts::new(random_sparse(n, d, 6, Seed::new(7)).unwrap());
    let a = layouts.dense.clone();
    let kappa = randnla::diagnostics::condition_number(a.as_ref()).unwrap();
    assert!(kappa < 4.0, "κ(A) = {kappa}");
    let b1 = vec_of(&gaussian_matrix(d, 1, Seed::new(1)).unwrap());
    let b2 = vec_of(&gaussian_matrix(n, 1, Seed::new(2)).unwrap());
    let tol = KernelParams::default().tol;
    for j in 0..=2usize {
        let k = gram_power(&a, j);
        let ak = &a * &k;
        let bound = 2.0 * kappa.powi(2 * j as i32) * tol;
        let opt = optimum(&ak, &b2);
        let mut first: Option<(Vec<f64>, Vec<f64>)> = None;
        for (name, view) in layouts.views() {
            if j > 0 {
                let (x, info) = solve_p1(view, j, &b1, &with(InnerSolve::Auto)).unwrap();
                assert!(
                    info.cholesky && info.cg_iterations == 0,
                    "{name} P1 j={j}: {info:?}"
                );
                let res = residual(&k, &x, &b1);
                assert!(res <= tol * norm(&b1), "{name} P1 j={j}: {res:e}");
                let (xc, ic) = solve_p1(view, j, &b1, &with(InnerSolve::Cg)).unwrap();
                assert!(!ic.cholesky && ic.cg_iterations > 0, "{name}: {ic:?}");
                let diff = rel_diff(&x, &xc);
                assert!(diff <= bound, "{name} P1 j={j}: Cholesky vs CG {diff:e}");
                if let Some((x0, _)) = &first {
                    let diff = rel_diff(&x, x0);
                    assert!(diff <= bound, "{name} P1 j={j}: vs CSR {diff:e}");
                }
                first.get_or_insert((x, Vec::new()));
            }
            let (x, info) = solve_p2(view, j, &b2, &with(InnerSolve::Auto)).unwrap();
            if j > 0 {
                assert!(
                    info.cholesky && info.cg_iterations == 0,
                    "{name} P2 j={j}: {info:?}"
                );
            }
            let res = residual(&ak, &x, &b2);
            let allowed = (1.01 * opt).hypot(tol * norm(&b2));
            assert!(res <= allowed, "{name} P2 j={j}: {res:e} vs {allowed:e}");
            let (xc, _) = solve_p2(view, j, &b2, &with(InnerSolve::Cg)).unwrap();
            let diff = rel_diff(&x, &xc);
            assert!(diff <= bound, "{name} P2 j={j}: Cholesky vs CG {diff:e}");
            match &mut first {
                Some((_, x2)) if !x2.is_empty() => {
                    let diff = rel_diff(&x, x2);
                    assert!(diff <= bound, "{name} P2 j={j}: vs first layout {diff:e}");
                }
                Some((_, x2)) => *x2 = x,
                None => first = Some((Vec::new(), x)),
            }
        }
    }
}

/// Both routes give the same bits on 1 and 2 threads (the thread budget in `lstsq.par`), on
/// CSR, CSC and dense storage: the sparse Gram matrix is summed in fixed row chunks reduced in
/// order, the dense one by faer's matmul, whose output blocks do not split the sums.
#[test]
fn both_routes_do_not_depend_on_the_thread_count() {
    let (n, d) = (20_000, 60);
    let layouts = Layouts::new(random_sparse(n, d, 8, Seed::new(11)).unwrap());
    let b1 = vec_of(&gaussian_matrix(d, 1, Seed::new(3)).unwrap());
    let b2 = vec_of(&gaussian_matrix(n, 1, Seed::new(4)).unwrap());
    let run = |threads: usize| {
        common::with_threads(threads, |par| {
            let mut out = Vec::new();
            for (name, view) in layouts.views() {
                for route in [InnerSolve::Auto, InnerSolve::Cg] {
                    let mut p = with(route);
                    p.lstsq.par = par;
                    let (x1, i1) = solve_p1(view, 2, &b1, &p).unwrap();
                    let (x2, i2) = solve_p2(view, 1, &b2, &p).unwrap();
                    assert_eq!(i1.cholesky, route == InnerSolve::Auto, "{name}: {i1:?}");
                    assert_eq!(i2.cholesky, route == InnerSolve::Auto, "{name}: {i2:?}");
                    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    out.push((name, route, bits(&x1), bits(&x2)));
                }
            }
            out
        })
    };
    let (one, two) = (run(1), run(2));
    for (p, q) in one.iter().zip(&two) {
        assert!(p == q, "{} {:?} differs between 1 and 2 threads", p.0, p.1);
    }
}

/// `Auto`'s cost rule (`solve_p1`'s `# Performance`): forming `AᵀA` is weighed against 25 CG
/// iterations of a pass per inner solve plus the QR of the CG route's sketch (`0.4·d³`), with
/// BLAS-3 multiply-adds weighted 0.1.
/// - Dense `2000 × 200`: `n·d²/20 + d³/60 ≈ 4.1·10⁶` against `5·10⁷·j·0.4 + 3.2·10⁶`: the
///   Cholesky route at `j = 1`. (The rule before 2026-12-05 weighed every multiply-add alike,
///   `n·d²/2 ≈ 4·10⁷ > 2·10⁷`, and took CG, while on `50 000 × 200` CG took 3.7× as long.)
/// - Sparse `2000 × 400`, 300 nonzeros a row: `Σ nnz(row)²/2 ≈ 9.1·10⁷` against
///   `3·10⁷·j + 2.6·10⁷`: CG at `j = 1`, Cholesky at `j = 3`.
///
/// Either way the residual meets `tol` (κ(A) ≤ 3, so κ((AᵀA)³) ≤ 10³).
#[test]
fn auto_weighs_forming_the_gram_matrix_against_the_cg_route() {
    let b_of = |d: usize| vec_of(&gaussian_matrix(d, 1, Seed::new(22)).unwrap());
    let (n, d) = (2000, 200);
    let g = gaussian_matrix(n, d, Seed::new(21)).unwrap();
    let dense = Mat::from_fn(n, d, |i, k| g[(i, k)] / (n as f64).sqrt());
    let av = MatrixRef::dense(dense.as_ref()).unwrap();
    let (x, info) = solve_p1(av, 1, &b_of(d), &KernelParams::default()).unwrap();
    assert!(info.cholesky, "dense d = 200, j = 1: {info:?}");
    let res = residual(&gram_power(&dense, 1), &x, &b_of(d));
    assert!(res <= 1e-10 * norm(&b_of(d)), "dense: {res:e}");

    let d = 400;
    let sparse = random_sparse(n, d, 300, Seed::new(23)).unwrap();
    let sv = MatrixRef::sparse(&sparse).unwrap();
    let a = sparse.to_dense();
    let a = Mat::from_fn(n, d, |i, k| a[[i, k]]);
    for (j, cholesky) in [(1, false), (3, true)] {
        let (x, info) = solve_p1(sv, j, &b_of(d), &KernelParams::default()).unwrap();
        assert_eq!(info.cholesky, cholesky, "sparse, j = {j}: {info:?}");
        let res = residual(&gram_power(&a, j), &x, &b_of(d));
        assert!(res <= 1e-10 * norm(&b_of(d)), "sparse, j = {j}: {res:e}");
    }
}

/// `Auto`'s accuracy rule, on Epperly's problems (`A = U·diag(σ)·Vᵀ` with random rotations, so
/// no column scaling helps): with `κ(A) = 3·10⁵`, `j·κ(A)²·u/2 ≈ 10⁻⁵` is ten times the
/// `10⁻⁶` the rule allows, so `Auto` keeps CG although forming `AᵀA` would be cheap; forced,
/// the Cholesky route still meets the loose `tol = 10⁻⁴` here (each refinement step contracts by
/// about `d·κ²·u ≈ 6·10⁻⁴`). At `κ(A) = 10⁹` the formed `AᵀA` (`κ ≈ 10¹⁸`) has no Cholesky
/// factor that helps: forced, the Cholesky route is an error, never `Ok`.
#[test]
fn auto_keeps_cg_when_the_gram_matrix_is_too_ill_conditioned() {
    let (n, d) = (3000, 30);
    let problem = |cond: f64| {
        randnla::problems::ls_problem(n, d, cond, 0.0, Seed::new(31))
            .unwrap()
            .0
    };
    let a = problem(3e5);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_of(&gaussian_matrix(d, 1, Seed::new(32)).unwrap());
    let k = gram_power(&a, 1);
    for route in [InnerSolve::Auto, InnerSolve::Cholesky] {
        let p = KernelParams {
            tol: 1e-4,
            inner_solve: route,
            ..KernelParams::default()
        };
        let (x, info) = solve_p1(av, 1, &b, &p).unwrap();
        assert_eq!(
            info.cholesky,
            route == InnerSolve::Cholesky,
            "{route:?}: {info:?}"
        );
        // The dense check's own rounding, about u·κ(A)²·‖b‖ = 2·10⁻⁵·‖b‖, is below tol.
        let res = residual(&k, &x, &b);
        assert!(res <= 1e-4 * norm(&b), "{route:?}: {res:e}");
    }
    let worse = problem(1e9);
    let wv = MatrixRef::dense(worse.as_ref()).unwrap();
    let p = KernelParams {
        tol: 1e-4,
        inner_solve: InnerSolve::Cholesky,
        ..KernelParams::default()
    };
    let r = solve_p1(wv, 1, &b, &p);
    assert!(
        matches!(
            r,
            Err(Error::Factorization { .. } | Error::NotConverged { .. })
        ),
        "{r:?}"
    );
}

/// `Auto` falls back to CG when the Cholesky route fails. With `κ(A) = 10⁴` (Epperly's problem),
/// `j·κ(A)²·u ≈ 10⁻⁸` passes the accuracy rule, but one Cholesky step leaves a residual of
/// `1.5·10⁻⁹·‖b‖` (the Cholesky of `AᵀA` is accurate to about `κ(A)²·u`) and, with no
/// refinement allowed (`max_refinements = 0`) at `tol = 10⁻⁹`, the forced Cholesky route is
/// `NotConverged` after that one solve (its `iterations` count the solves with the factor,
/// since session 50; they were its CG iterations, always 0). `Auto` then runs CG, whose step ends
/// at `3.2·10⁻¹⁰·‖b‖`; but the residual is computed with an error of about `1.8·10⁻⁹·‖b‖`
/// (`u·‖A‖²·‖x‖`, the error's `rounding_floor`), so that answer cannot be certified at `10⁻⁹`
/// either: `NotConverged`, from the CG route (iterations > 0), naming a floor above `tol`.
/// (Before the residual's rounding counted, `Auto` returned it as `Ok`; the two routes'
/// residuals, 1.5 and 0.32·10⁻⁹, both lie within that rounding.) At `tol = 10⁻⁸`, above it,
/// both routes return `Ok` and `Auto` keeps the Cholesky answer.
#[test]
fn auto_falls_back_to_cg_when_the_cholesky_route_does_not_converge() {
    let (n, d) = (3000, 30);
    let a = randnla::problems::ls_problem(n, d, 1e4, 0.0, Seed::new(31))
        .unwrap()
        .0;
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_of(&gaussian_matrix(d, 1, Seed::new(32)).unwrap());
    let params = |inner_solve, tol| KernelParams {
        tol,
        max_refinements: 0,
        inner_solve,
        ..KernelParams::default()
    };
    match solve_p1(av, 1, &b, &params(InnerSolve::Cholesky, 1e-9)) {
        Err(Error::NotConverged { iterations, .. }) => assert_eq!(iterations, 1),
        other => panic!("{other:?}"),
    }
    match solve_p1(av, 1, &b, &params(InnerSolve::Auto, 1e-9)) {
        Err(Error::NotConverged {
            iterations,
            residual,
            rounding_floor: Some(floor),
            ..
        }) => assert!(
            iterations > 0 && residual <= 1e-9 && floor > 1e-9,
            "{iterations} {residual:e} {floor:e}"
        ),
        other => panic!("{other:?}"),
    }
    let (x, info) = solve_p1(av, 1, &b, &params(InnerSolve::Auto, 1e-8)).unwrap();
    assert!(info.cholesky && info.relative_residual <= 1e-8, "{info:?}");
    // The dense check's own rounding, about u·κ(A)²·‖b‖ = 10⁻⁸·‖b‖ in the worst case.
    let res = residual(&gram_power(&a, 1), &x, &b);
    assert!(res <= 2e-8 * norm(&b), "{res:e}");
}

/// A numerically rank-deficient `A` (third column the sum of the first two) is
/// `RankDeficient` on every route: `Auto` does not take the Cholesky route without a sketch
/// (the formed `AᵀA` is singular to rounding, so its factor, if any, has `κ ≈ 1/√u`), and the
/// forced Cholesky route makes the sketch for its rank check.
#[test]
fn every_route_refuses_a_rank_deficient_a() {
    let (n, d) = (500, 6);
    let g = gaussian_matrix(n, d, Seed::new(41)).unwrap();
    let a = Mat::from_fn(n, d, |i, k| {
        if k == 2 {
            g[(i, 0)] + g[(i, 1)]
        } else {
            g[(i, k)]
        }
    });
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b1 = vec_of(&gaussian_matrix(d, 1, Seed::new(42)).unwrap());
    let b2 = vec_of(&gaussian_matrix(n, 1, Seed::new(43)).unwrap());
    for route in [InnerSolve::Auto, InnerSolve::Cg, InnerSolve::Cholesky] {
        for (name, r) in [
            ("P1", solve_p1(av, 1, &b1, &with(route)).map(drop)),
            ("P2", solve_p2(av, 1, &b2, &with(route)).map(drop)),
        ] {
            assert!(
                matches!(
                    r,
                    Err(Error::RankDeficient {
                        rank: 5,
                        required: 6
                    })
                ),
                "{name} {route:?}: {r:?}"
            );
        }
    }
}

/// `exp(AAᵀ)` densely.
fn exp_kernel(a: &Mat<f64>) -> Mat<f64> {
    let aat = a * a.transpose();
    Mat::from_fn(a.nrows(), a.nrows(), |i, j| aat[(i, j)].exp())
}

/// `c·G`, `n × 16`, `G` Gaussian.
fn p3_matrix(n: usize, c: f64, seed: u64) -> Mat<f64> {
    let g = gaussian_matrix(n, 16, Seed::new(seed)).unwrap();
    Mat::from_fn(n, 16, |i, j| c * g[(i, j)])
}

/// P3 at `n = 600` (`0.4·G`, κ(G) ≈ 10⁴): `Auto` factors `G` (`n ≤ 8192`) and makes no CG
/// iteration; dense and CSR storage and both routes meet `tol` on the residual of the dense
/// `exp(AAᵀ)` (up to that matrix's own rounding, `10⁻¹³·‖b‖`), and the routes' answers agree
/// to `κ(exp(AAᵀ))·tol`, measured here from the dense matrix's singular values.
#[test]
fn p3_factors_g_by_default_and_meets_the_guarantee_on_both_routes() {
    let n = 600;
    let a = p3_matrix(n, 0.4, 51);
    let csr = {
        let mut t = sprs::TriMat::new((n, 16));
        for i in 0..n {
            for j in 0..16 {
                t.add_triplet(i, j, a[(i, j)]);
            }
        }
        t.to_csr::<usize>()
    };
    let b = vec_of(&gaussian_matrix(n, 1, Seed::new(52)).unwrap());
    let k = exp_kernel(&a);
    let kappa = randnla::diagnostics::condition_number(k.as_ref()).unwrap();
    let tol = KernelParams::default().tol;
    let views = [
        ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
        ("csr", MatrixRef::sparse(&csr).unwrap()),
    ];
    for (name, view) in views {
        let (x, info) = solve_p3(view, &b, &with(InnerSolve::Auto)).unwrap();
        assert!(info.cholesky && info.cg_iterations == 0, "{name}: {info:?}");
        assert!(info.relative_residual <= tol, "{name}: {info:?}");
        let res = residual(&k, &x, &b);
        assert!(res <= (tol + 1e-13) * norm(&b), "{name}: {res:e}");
        let (xc, ic) = solve_p3(view, &b, &with(InnerSolve::Cg)).unwrap();
        assert!(!ic.cholesky && ic.cg_iterations > 0, "{name}: {ic:?}");
        let diff = rel_diff(&x, &xc);
        assert!(
            diff <= 2.0 * kappa * tol,
            "{name}: {diff:e} (κ = {kappa:e})"
        );
    }
}

/// P3's Cholesky route gives the same bits on 1 and 2 threads at `n = 1500`, where faer's
/// blocked Cholesky splits its updates across threads.
#[test]
fn p3_cholesky_route_does_not_depend_on_the_thread_count() {
    let n = 1500;
    let a = p3_matrix(n, 0.6, 53);
    let b = vec_of(&gaussian_matrix(n, 1, Seed::new(54)).unwrap());
    let run = |threads: usize| {
        common::with_threads(threads, |par| {
            let mut p = with(InnerSolve::Auto);
            p.lstsq.par = par;
            let (x, info) = solve_p3(MatrixRef::dense(a.as_ref()).unwrap(), &b, &p).unwrap();
            assert!(info.cholesky, "{info:?}");
            x.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        })
    };
    assert!(run(1) == run(2), "P3 differs between 1 and 2 threads");
}

/// `Auto` factors P3's `G` beyond the `n = 4096` of its first rule, up to 8192 (at `n = 6000`
/// the Cholesky took 1.54–1.62 s against 1.8–11.8 s for Nyström-CG; the switch itself is
/// unit-tested in the crate, a kernel matrix of 8193² entries being too large for a test); the
/// answer meets `tol` as recomputed by the solver. A repeated row makes `G` singular: forced,
/// the Cholesky route is `Factorization`, and `Auto`, falling back to CG, breaks down the same
/// way (never `Ok`), with the Cholesky's message, which names `G`.
#[test]
fn p3_auto_factors_g_beyond_4096_rows_and_refuses_a_singular_g() {
    let n = 4097;
    let a = p3_matrix(n, 0.8, 55);
    let b = vec_of(&gaussian_matrix(n, 1, Seed::new(56)).unwrap());
    let (_, info) = solve_p3(
        MatrixRef::dense(a.as_ref()).unwrap(),
        &b,
        &with(InnerSolve::Auto),
    )
    .unwrap();
    assert!(info.cholesky && info.cg_iterations == 0, "{info:?}");
    assert!(info.relative_residual <= 1e-10, "{info:?}");
    let mut twin = p3_matrix(200, 0.4, 57);
    for j in 0..16 {
        twin[(7, j)] = twin[(3, j)];
    }
    let tv = MatrixRef::dense(twin.as_ref()).unwrap();
    let b = vec_of(&gaussian_matrix(200, 1, Seed::new(58)).unwrap());
    for route in [InnerSolve::Cholesky, InnerSolve::Auto] {
        match solve_p3(tv, &b, &with(route)) {
            // The message names G (CG's own breakdown blamed its Nyström preconditioner).
            Err(Error::Factorization { reason }) => {
                assert!(reason.contains("kernel matrix G"), "{route:?}: {reason}")
            }
            r => panic!("{route:?}: {r:?}"),
        }
    }
}

/// P2's Cholesky route finds `y = argmin ‖Ay − b‖` by the corrected semi-normal equations. On
/// Epperly's problem with `κ(A) = 10³` and a residual of norm 1 (the case where uncorrected
/// semi-normal equations lose `κ(A)²·u·‖r‖/‖y‖`), `Auto` takes that route and the answer's
/// residual stays within `1.01·OPT` and `tol·‖b‖` (in quadrature) of the dense optimum, for
/// `j = 0, 1`; the steps it took (`lstsq_iterations`) are few, as each cuts the error by about
/// `κ(A)²·u ≈ 10⁻¹⁰`.
#[test]
fn p2_semi_normal_equations_reach_the_least_squares_optimum() {
    let (n, d) = (4000, 40);
    let (a, b, _, _) = randnla::problems::ls_problem(n, d, 1e3, 1.0, Seed::new(61)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let tol = KernelParams::default().tol;
    for j in 0..=1usize {
        let ak = &a * gram_power(&a, j);
        let opt = optimum(&ak, &b);
        let (x, info) = solve_p2(av, j, &b, &with(InnerSolve::Auto)).unwrap();
        assert!(info.cholesky, "j = {j}: {info:?}");
        assert!(
            (1..=4).contains(&info.lstsq_iterations),
            "j = {j}: {info:?}"
        );
        let res = residual(&ak, &x, &b);
        let allowed = (1.01 * opt).hypot(tol * norm(&b));
        assert!(
            res <= allowed,
            "j = {j}: {res:e} vs {allowed:e} (OPT {opt:e})"
        );
    }
}

/// The semi-normal equations are corrected, not plain: on a consistent problem (`b = A·x₀`,
/// Epperly's generator, `κ(A) = 10⁴`), P2 with `j = 0` is `min ‖Ax − b‖` itself, and its
/// Cholesky route must return `x₀` to `10⁻¹²` (measured 3·10⁻¹⁴ after two steps; the sketched
/// LSQR route 1.6·10⁻¹³). Plain semi-normal equations (one step) err by about `κ(A)²·u ≈ 10⁻⁸`;
/// and the stopping rule must accept a residual consistent to `tol` (LSQR's second test), which
/// the normal-equation ratio alone, evaluated on a residual of rounding noise, never meets.
#[test]
fn p2_semi_normal_equations_are_corrected_and_stop_on_a_consistent_system() {
    let (n, d) = (4000, 40);
    let (a, b, x0, _) = randnla::problems::ls_problem(n, d, 1e4, 0.0, Seed::new(61)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let (x, info) = solve_p2(av, 0, &b, &with(InnerSolve::Auto)).unwrap();
    assert!(info.cholesky && info.lstsq_iterations >= 2, "{info:?}");
    let err = rel_diff(&x, &x0);
    assert!(err <= 1e-12, "forward error {err:e}");
}

/// P3 on a sparse `A` (`1200 × 50`, 3 nonzeros a row, read as sparse) gives the same bits on 1
/// and 2 threads: the sparse `AAᵀ` is built in column blocks on both threads, every entry still
/// summing its terms in ascending column order of `A`; the solve then takes the Cholesky route.
#[test]
fn p3_on_a_sparse_a_does_not_depend_on_the_thread_count() {
    let n = 1200;
    let a = random_sparse(n, 50, 3, Seed::new(71)).unwrap();
    let a = a.map(|v| 1.5 * v);
    let b = vec_of(&gaussian_matrix(n, 1, Seed::new(72)).unwrap());
    let run = |threads: usize| {
        common::with_threads(threads, |par| {
            let mut p = with(InnerSolve::Auto);
            p.lstsq.par = par;
            let (x, info) = solve_p3(MatrixRef::sparse(&a).unwrap(), &b, &p).unwrap();
            assert!(info.cholesky && info.relative_residual <= 1e-10, "{info:?}");
            x.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        })
    };
    assert!(
        run(1) == run(2),
        "sparse P3 differs between 1 and 2 threads"
    );
}

/// P2's semi-normal equations recompute their test value `‖L⁻¹Aᵀr‖/‖r‖`, which cannot fall
/// below its rounding, about `u·κ(A)`: at `κ(A) = 10⁴` and `3·10⁴` (inside `Auto`'s accuracy
/// rule, `(j+1)·κ²·u ≤ 10⁻⁶`) it stalled at `2·10⁻¹⁴` and `3·10⁻¹⁴`, above the default
/// `lstsq.tol = 10⁻¹⁴`, so the forced Cholesky route was `NotConverged` on a well-posed
/// least-squares problem (and `Auto` formed and factored `AᵀA` for nothing, then fell back to
/// the sketch). It now accepts a stalled test value within its rounding floor: both routes
/// take the Cholesky route and the residual is the dense optimum's to a relative `10⁻¹²`.
#[test]
fn p2_semi_normal_equations_accept_their_rounding_floor() {
    let (n, d) = (3000, 30);
    for cond in [1e4, 3e4] {
        let (a, b, _, _) = randnla::problems::ls_problem(n, d, cond, 1.0, Seed::new(31)).unwrap();
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let opt = optimum(&a, &b);
        for route in [InnerSolve::Cholesky, InnerSolve::Auto] {
            let (x, info) = solve_p2(av, 0, &b, &with(route))
                .unwrap_or_else(|e| panic!("κ = {cond:e} {route:?}: {e:?}"));
            assert!(info.cholesky, "κ = {cond:e} {route:?}: {info:?}");
            let res = residual(&a, &x, &b);
            assert!(
                res <= opt * (1.0 + 1e-12),
                "κ = {cond:e} {route:?}: {res:e} against OPT {opt:e}"
            );
        }
    }
}

/// The same floor on a nearly consistent system (`‖r‖ = 10⁻¹³·‖b‖` and `10⁻¹¹·‖b‖`, above
/// `lstsq.tol = 10⁻¹⁴`, so the consistency test does not apply): `r = b − Ay` is computed with an
/// error of about `u·‖b‖`, a relative `10⁻³` of `r`, so the test value stalled at `10⁻⁴`–`10⁻⁶`
/// and the forced Cholesky route was `NotConverged` even at `κ(A) = 10`. The stalled value
/// still bounds the least-squares error, `‖A(y − y*)‖ ≤ test·‖r‖ ≤ lstsq.tol·‖b‖`, the bound
/// the consistency test gives: now `Ok`, on the Cholesky route, meeting P2's guarantee
/// `‖res‖² ≤ OPT² + (tol·‖b‖)²` against the dense optimum (OPT with 1 % slack for the dense
/// check's own rounding, `u·‖b‖`, a relative `10⁻³` of OPT here).
#[test]
fn p2_semi_normal_equations_accept_a_nearly_consistent_system() {
    let (n, d) = (3000, 30);
    for cond in [10.0, 1e3] {
        for rnorm in [1e-13, 1e-11] {
            let (a, b, _, _) =
                randnla::problems::ls_problem(n, d, cond, rnorm, Seed::new(31)).unwrap();
            let av = MatrixRef::dense(a.as_ref()).unwrap();
            let opt = optimum(&a, &b);
            let p = with(InnerSolve::Cholesky);
            let (x, info) = solve_p2(av, 0, &b, &p)
                .unwrap_or_else(|e| panic!("κ = {cond:e}, ‖r‖ = {rnorm:e}: {e:?}"));
            assert!(info.cholesky, "{info:?}");
            let res = residual(&a, &x, &b);
            let allowed = (1.01 * opt).hypot(p.tol * norm(&b));
            assert!(
                res <= allowed,
                "κ = {cond:e}, ‖r‖ = {rnorm:e}: {res:e} > {allowed:e}"
            );
        }
    }
}

/// P1 and P2 with `j ≥ 1` reach a relative residual down to about `u·κ(A)^{2j}` (`u = 2⁻⁵³`),
/// the rounding of the residual they refine on (`(AᵀA)ʲx` for an `x` of size up to
/// `κ(A)^{2j}·‖b‖/‖A‖^{2j}`), as the module docs state: on Epperly's `3000 × 30` problems
/// (`‖A‖ = 1`, residual norm 1, seed 7), `κ(A) = 10²` and `10³`, `j = 1, 2`, both inner
/// routes, a `tol` equal to that floor must return `Ok` with a residual that a dense
/// recomputation confirms, and a `tol` of `10⁻⁴` times the floor must return
/// [`Error::NotConverged`] (the answer cannot be certified there; never an `Ok` whose residual
/// was not met). Measured on seeds 0–2 (session 49): the smallest decade of `tol` that returned
/// `Ok` was `10⁻²`–`10⁻¹` of the floor in every case, so both sides have a margin of 100×.
///
/// The error must also carry the floor it estimates (`NotConverged::rounding_floor`,
/// `u·‖A‖₂^{2j+p}·‖x‖/‖b‖` with `‖A‖₂` from the route's factor), within a factor 4 of that
/// quantity at the exact solution ([`common::kernel_resolution`]): the Cholesky factor gives
/// `‖A‖₂` to rounding, the sketch's `‖R‖₂ = ‖SA‖₂` within its distortion (raised to the power
/// `2j + p`), and the stalled `x` is the solution to a relative `u·κ^{2j}` at most.
///
/// The dense check allows the recomputation's own rounding, about the floor itself times `‖b‖`
/// and additive: P1 `‖(AᵀA)ʲx − b‖ ≤ (tol + floor)·‖b‖`; P2
/// `‖A(AᵀA)ʲx − b‖ ≤ √(OPT² + (tol·‖b‖)²) + floor·‖b‖` with `OPT = min ‖Ay − b‖` by dense QR
/// of `A` (`range(A(AᵀA)ʲ) = range(A)`).
#[test]
fn p1_and_p2_reach_their_rounding_floor_and_refuse_below_it() {
    let u = f64::EPSILON / 2.0;
    let (n, d) = (3000, 30);
    for cond in [1e2, 1e3] {
        let (a, b, _, _) = randnla::problems::ls_problem(n, d, cond, 1.0, Seed::new(7)).unwrap();
        let av = MatrixRef::dense(a.as_ref()).unwrap();
        let b1 = b[..d].to_vec();
        let opt = optimum(&a, &b);
        for j in [1usize, 2] {
            let floor = u * cond.powi(2 * j as i32);
            let g = gram_power(&a, j);
            let k2 = &a * &g;
            for route in [InnerSolve::Cholesky, InnerSolve::Cg] {
                let case = format!("κ = {cond:e}, j = {j}, {route:?}, floor {floor:.1e}");
                let mut p = with(route);
                p.tol = floor;
                let (x, _) = solve_p1(av, j, &b1, &p).unwrap_or_else(|e| panic!("P1 {case}: {e}"));
                let res = residual(&g, &x, &b1);
                assert!(
                    res <= (p.tol + floor) * norm(&b1),
                    "P1 {case}: residual {res:e}, ‖b‖ {:e}",
                    norm(&b1)
                );
                let (x, _) = solve_p2(av, j, &b, &p).unwrap_or_else(|e| panic!("P2 {case}: {e}"));
                let res = residual(&k2, &x, &b);
                let allowed = opt.hypot(p.tol * norm(&b)) + floor * norm(&b);
                assert!(res <= allowed, "P2 {case}: {res:e} > {allowed:e}");

                p.tol = 1e-4 * floor;
                for (name, got, expected) in [
                    (
                        "P1",
                        solve_p1(av, j, &b1, &p).map(|_| ()),
                        common::kernel_resolution(&a, j, false, &b1),
                    ),
                    (
                        "P2",
                        solve_p2(av, j, &b, &p).map(|_| ()),
                        common::kernel_resolution(&a, j, true, &b),
                    ),
                ] {
                    match got {
                        Err(Error::NotConverged {
                            residual,
                            tolerance,
                            rounding_floor,
                            ..
                        }) => {
                            assert!(
                                residual > tolerance && tolerance == p.tol,
                                "{name} {case}: {residual:e} vs {tolerance:e}"
                            );
                            let est = rounding_floor.unwrap_or(f64::NAN) / expected;
                            assert!(
                                (0.25..=4.0).contains(&est),
                                "{name} {case}: rounding floor {rounding_floor:?}"
                            );
                        }
                        other => panic!("{name} {case} at tol {:e}: {other:?}", p.tol),
                    }
                }
            }
        }
    }
}
