//! Review of the Cholesky routes of the kernel regression solvers (`InnerSolve::{Auto,
//! Cholesky}`), against dense reference computation.

mod common;

use faer::linalg::solvers::SolveLstsq;
use faer::Mat;
use randnla::lstsq::kernel_regression::{solve_p2, InnerSolve, KernelParams};
use randnla::{MatrixRef, Seed};

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn with(inner_solve: InnerSolve) -> KernelParams {
    KernelParams {
        inner_solve,
        ..KernelParams::default()
    }
}

/// `‖A·x − b‖`, densely.
fn residual(a: &Mat<f64>, x: &[f64], b: &[f64]) -> f64 {
    let ax = a * Mat::from_fn(x.len(), 1, |i, _| x[i]);
    norm(&(0..b.len()).map(|i| ax[(i, 0)] - b[i]).collect::<Vec<_>>())
}

/// `min ‖A·x − b‖` by faer's column-pivoted QR.
fn optimum(a: &Mat<f64>, b: &[f64]) -> f64 {
    let mut rhs = Mat::from_fn(b.len(), 1, |i, _| b[i]);
    a.col_piv_qr().solve_lstsq_in_place(rhs.as_mut());
    let x: Vec<f64> = (0..a.ncols()).map(|i| rhs[(i, 0)]).collect();
    residual(a, &x, b)
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
