//! Ridge regression with `λ` far above `‖A‖²`, on every route of sketch-and-precondition.
//!
//! The ridge solution is then `x ≈ Aᵀb/λ`, a well-conditioned problem, but LSQR's stopping rule
//! on the augmented matrix `[A; √λI]` lets the forward error grow like `tol·√λ/‖A‖`, and the
//! sketched route factored `[SA; √λI]` with the large rows last. Both were reported as
//! converged: a 2000 × 10 Gaussian `A` came back `2.4·10⁻³` off at `λ = 10⁶⁰` (sketched) and
//! `1.1·10⁻⁸` off at `10¹⁰` (the probe), a 3000 × 40 one 10¹⁶ times too large at `10¹⁰⁰`.

use crate::common;

use faer::{Mat, Par};
use randnla::lstsq::{
    qr_solve, sketch_and_precondition, sketch_and_precondition_multi, Factorization, LstsqParams,
};
use randnla::MatrixRef;

use common::{dense, gauss, matvec, norm_scaled, rel, rhs};

/// The first-order forward-error bound of the ridge problem's own backward error `tol` (the
/// stopping rule's promise, relaxed by its factor `√2`): `‖δx‖/‖x‖ ≤ √2·tol·(‖A‖_F‖r‖/(λ‖x‖) +
/// (‖A‖_F² + λ)/λ)`, from `‖g‖ ≤ √2·tol·(‖A‖_F‖r‖ + (‖A‖_F² + λ)‖x‖)` and
/// `‖(AᵀA + λI)⁻¹‖ ≤ 1/λ`. Pass rule: twice that (LSQR stops on its recurrences' estimate of
/// the test, within a factor `κ(AN) < 2` of the true one) plus `100u` of rounding.
fn bound(a: &Mat<f64>, b: &[f64], x: &[f64], lambda: f64, tol: f64) -> f64 {
    let afro = (0..a.ncols())
        .map(|j| norm_scaled(&(0..a.nrows()).map(|i| a[(i, j)]).collect::<Vec<_>>()))
        .collect::<Vec<_>>();
    let afro = norm_scaled(&afro);
    let ax = matvec(a, x);
    let r: Vec<f64> = b.iter().zip(&ax).map(|(bi, v)| bi - v).collect();
    // λ‖x‖ computed as (‖x‖·√λ)·√λ: λ = 10³⁰⁰ with ‖x‖ ≈ 10⁻²⁹⁸ stays in range.
    let lx = norm_scaled(x) * lambda.sqrt() * lambda.sqrt();
    let first = afro * norm_scaled(&r) / lx;
    let second = (afro / lambda.sqrt()) * (afro / lambda.sqrt()) + 1.0;
    2.0 * std::f64::consts::SQRT_2 * tol * (first + second) + 100.0 * f64::EPSILON
}

/// The routes: the default (probe first), the sketched route with QR (probe off), and the SVD
/// and QR factorizations asked for explicitly.
fn routes(lambda: f64) -> Vec<(&'static str, LstsqParams)> {
    let base = LstsqParams {
        ridge: lambda,
        tol: TOL,
        ..LstsqParams::default()
    };
    vec![
        ("default (probe)", base.clone()),
        (
            "sketched, QR",
            LstsqParams {
                probe: false,
                ..base.clone()
            },
        ),
        (
            "SVD",
            LstsqParams {
                factorization: Factorization::Svd,
                ..base.clone()
            },
        ),
        (
            "QR",
            LstsqParams {
                factorization: Factorization::Qr,
                ..base
            },
        ),
    ]
}

const LAMBDAS: [f64; 8] = [1e6, 1e10, 1e20, 1e40, 1e60, 1e100, 1e200, 1e300];

/// A tolerance above the default `10⁻¹⁴`, where the old stopping rule's laxness shows at
/// moderate `λ` too.
const TOL: f64 = 1e-12;

/// Dense Gaussian `A` (2000 × 10 and 3000 × 40, `‖A‖_F² ≈ n·d ≤ 1.2·10⁵`), Gaussian `b`,
/// `tol = 10⁻¹²`: each route within [`bound`] of a dense QR solve with the same `λ`
/// (which `tests/lstsq_review.rs` holds to `10⁻¹³` of the exact ridge solution), reported
/// converged after at least one iteration. Measured (2026-12-04): at most `1.3·10⁻¹⁴` for
/// `λ ≥ 10¹⁰` (bounds ≈ `1.5·10⁻¹⁰`); at `10⁶` up to `3.9·10⁻¹¹` (the probe on 3000 × 40,
/// `λ ≈ 8‖A‖_F²`, where the test is barely tightened) against a bound of `1.5·10⁻¹⁰`. Before
/// the fix: `1.1·10⁻⁸` at `10¹⁰` (probe), `2.4·10⁻³` at `10⁶⁰`, `10¹⁶` at `10¹⁰⁰`; with the
/// structured test alone (`[SA; √λI]` kept) `4·10¹⁰⁰` at `10³⁰⁰`; with `[√λI; SA]` alone
/// `2.7·10⁻¹⁰` at `10⁶` (bound `2.2·10⁻¹⁰`) and `1.1·10⁻⁸` at `10¹⁰` (probe).
#[test]
fn ridge_far_above_the_norm_of_a_is_solved_on_every_route() {
    for (n, d, seed) in [(2000, 10, 5), (3000, 40, 6)] {
        let a = gauss(n, d, seed);
        let b = rhs(n, seed + 100);
        for lambda in LAMBDAS {
            let want = qr_solve(dense(&a), &b, lambda, Par::Seq).unwrap();
            let limit = bound(&a, &b, &want, lambda, TOL);
            for (route, params) in routes(lambda) {
                let (x, info) = sketch_and_precondition(dense(&a), &b, &params).unwrap();
                let err = rel(&x, &want);
                assert!(
                    err <= limit && info.converged && info.iterations + info.probe_iterations >= 1,
                    "{n} × {d}, λ = {lambda:e}, {route}: relative error {err:e} > {limit:e} \
                     or {info:?}"
                );
            }
        }
    }
}

/// The same on a sparse CSR `A` (3000 × 40, 4 nonzeros per row, `‖A‖_F² ≈ 3000`) with two
/// right-hand sides through [`sketch_and_precondition_multi`] on the sketched route, which
/// warm-starts both columns from one factored sketch.
#[test]
fn ridge_far_above_the_norm_of_a_sparse_multi_rhs() {
    let csr = randnla::problems::random_sparse(3000, 40, 4, randnla::Seed::new(8)).unwrap();
    let a = MatrixRef::sparse(&csr).unwrap();
    let ad = Mat::<f64>::from_fn(3000, 40, |i, j| *csr.get(i, j).unwrap_or(&0.0));
    let (b0, b1) = (rhs(3000, 11), rhs(3000, 12));
    let bm = Mat::<f64>::from_fn(3000, 2, |i, j| if j == 0 { b0[i] } else { b1[i] });
    for lambda in LAMBDAS {
        let params = LstsqParams {
            ridge: lambda,
            tol: TOL,
            probe: false,
            ..LstsqParams::default()
        };
        let (x, infos) = sketch_and_precondition_multi(a, bm.as_ref(), &params).unwrap();
        for (j, b) in [&b0, &b1].into_iter().enumerate() {
            let want = qr_solve(a, b, lambda, Par::Seq).unwrap();
            let got: Vec<f64> = (0..40).map(|i| x[(i, j)]).collect();
            let err = rel(&got, &want);
            let limit = bound(&ad, b, &want, lambda, params.tol);
            assert!(
                err <= limit && infos[j].converged,
                "λ = {lambda:e}, column {j}: relative error {err:e} > {limit:e} or {:?}",
                infos[j]
            );
        }
    }
}
