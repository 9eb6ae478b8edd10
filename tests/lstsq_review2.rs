//! Second downstream review of the least-squares entry points other than the single-RHS
//! `sketch_and_precondition`: each test checks a contract against a dense reference.

use crate::common;

use faer::Mat;
use randnla::lstsq::{
    lsqr, normal_equation_residual, normal_equations, qr_solve, ridge,
    ridge_normal_equation_residual, sketch_and_precondition, sketch_and_precondition_multi,
    sketch_and_solve, LsqrParams, LstsqParams, SketchSolveParams,
};
use randnla::{MatrixRef, Seed};

use common::{dense, gauss, matvec, norm_scaled as norm, rel, rhs};

/// Exact reference: faer QR least squares with ridge rows.
fn reference(a: &Mat<f64>, b: &[f64], lambda: f64) -> Vec<f64> {
    qr_solve(dense(a), b, lambda, faer::Par::Seq).unwrap()
}

fn col(m: &Mat<f64>, j: usize) -> Vec<f64> {
    (0..m.nrows()).map(|i| m[(i, j)]).collect()
}

/// `SketchSolveInfo::ratio_bound` is an upper bound on `‖Ax̃ − b‖/OPT` whenever the sketch
/// stretches `range(A)` by at most `1 + ε`. Pass rule: `2000 × 10` Gaussian `A`, default
/// `m = 10d`, ε = 0.5 (the stretch is ≈ 1.32 for these families), seeds 0..50 of sparse sign
/// (s = 8 and 1), Gaussian and CountSketch: no violation, and the mean squared ratio within
/// 10% of the documented `1 + d/(m − d − 1)` (measured 1.105–1.111 against 1.112).
#[test]
fn sketch_and_solve_ratio_bound_holds_over_seeds() {
    use randnla::sketch::SketchKind;
    let (n, d) = (2000, 10);
    let a = gauss(n, d, 21);
    let b = rhs(n, 22);
    let xr = reference(&a, &b, 0.0);
    let r: Vec<f64> = matvec(&a, &xr).iter().zip(&b).map(|(u, v)| v - u).collect();
    let opt = norm(&r);
    for kind in [
        SketchKind::SparseSign { nnz_per_col: 8 },
        SketchKind::SparseSign { nnz_per_col: 1 },
        SketchKind::Gaussian,
        SketchKind::CountSketch,
    ] {
        let mut mean_sq = 0.0;
        for s in 0..50 {
            let p = SketchSolveParams {
                sketch: kind,
                seed: Seed::new(s),
                ..Default::default()
            };
            let (_, info) = sketch_and_solve(dense(&a), &b, &p).unwrap();
            let ratio = info.residual_norm / opt;
            mean_sq += ratio * ratio / 50.0;
            assert!(
                ratio <= info.ratio_bound(0.5),
                "{kind:?} seed {s}: {info:?}"
            );
        }
        let expected = 1.0 + 10.0 / 89.0;
        assert!(
            (mean_sq / expected - 1.0).abs() <= 0.1,
            "{kind:?}: {mean_sq}"
        );
    }
}

/// Edge cases of the entry points under review: `b = 0` gives `x = 0` everywhere; a `B` with no
/// columns, rows that do not match and a NaN are the documented errors.
#[test]
fn edge_cases_of_the_other_entry_points() {
    let (n, d) = (300, 6);
    let a = gauss(n, d, 61);
    let z = vec![0.0; n];
    let p = LstsqParams::default();
    let zero = |x: &[f64]| x.iter().all(|v| *v == 0.0);
    assert!(zero(
        &sketch_and_solve(dense(&a), &z, &SketchSolveParams::default())
            .unwrap()
            .0
    ));
    assert!(zero(
        &normal_equations(dense(&a), &z, 0.0, faer::Par::Seq).unwrap()
    ));
    assert!(zero(
        &lsqr(dense(&a), &z, &LsqrParams::default()).unwrap().0
    ));
    assert!(zero(&ridge(dense(&a), &z, 1.0, &p).unwrap().0));
    assert_eq!(
        normal_equation_residual(dense(&a), &[0.0; 6], &z, faer::Par::Seq).unwrap(),
        0.0
    );
    let (xm, _) =
        sketch_and_precondition_multi(dense(&a), Mat::<f64>::zeros(n, 2).as_ref(), &p).unwrap();
    assert!(zero(&col(&xm, 0)) && zero(&col(&xm, 1)));
    use randnla::Error;
    let e = sketch_and_precondition_multi(dense(&a), Mat::<f64>::zeros(n, 0).as_ref(), &p);
    assert!(matches!(e, Err(Error::Empty { .. })), "{e:?}");
    let e = sketch_and_precondition_multi(dense(&a), Mat::<f64>::zeros(n - 1, 2).as_ref(), &p);
    assert!(matches!(e, Err(Error::DimensionMismatch { .. })), "{e:?}");
    let mut bn = Mat::<f64>::zeros(n, 2);
    bn[(3, 1)] = f64::NAN;
    let e = sketch_and_precondition_multi(dense(&a), bn.as_ref(), &p);
    assert!(matches!(e, Err(Error::NonFinite { .. })), "{e:?}");
    let mut b = rhs(n, 62);
    b[5] = f64::NAN;
    let e = sketch_and_solve(dense(&a), &b, &SketchSolveParams::default());
    assert!(matches!(e, Err(Error::NonFinite { .. })), "{e:?}");
    let e = ridge_normal_equation_residual(dense(&a), &[0.0; 6], &z, f64::NAN, faer::Par::Seq);
    assert!(matches!(e, Err(Error::InvalidParameter { .. })), "{e:?}");
    let xr = reference(&a, &rhs(n, 63), 0.0);
    let xs = sketch_and_precondition(dense(&a), &rhs(n, 63), &p)
        .unwrap()
        .0;
    assert!(rel(&xs, &xr) <= 1e-12);
}

/// The normal equations' answer does not depend on the scale of `A`: `(AᵀA + λI)x = Aᵀb` and
/// `2ᵏA` (with `4ᵏλ`) has the solution `2⁻ᵏx`. A Gaussian `200 × 5` `A` (κ ≈ 1.4) scaled by
/// `2^±530` formed an overflowed (underflowed) Gram matrix and was refused as "not numerically
/// positive definite (κ(A)² too large, or A rank deficient)", while `qr_solve`, `lsqr` and the
/// sketched solvers solve it. Pass rule: for k in {−540, −530, −300, 300, 530, 540}, dense and CSR,
/// with λ = 0 and λ = 4ᵏ·0.5 (where it is a normal f64), the answer is within 1e-13 (relative) of
/// `2⁻ᵏ·x` for the unscaled problem's QR solution `x`.
#[test]
fn normal_equations_do_not_depend_on_the_scale_of_a() {
    let (n, d) = (200, 5);
    let g = gauss(n, d, 51);
    let b = rhs(n, 52);
    for lam in [0.0, 0.5] {
        let xr = reference(&g, &b, lam);
        for k in [-540i32, -530, -300, 300, 530, 540] {
            let a = Mat::from_fn(n, d, |i, j| g[(i, j)] * 2f64.powi(k));
            let mut tri = sprs::TriMat::new((n, d));
            for i in 0..n {
                for j in 0..d {
                    tri.add_triplet(i, j, a[(i, j)]);
                }
            }
            let csr: sprs::CsMat<f64> = tri.to_csr();
            let want: Vec<f64> = xr.iter().map(|v| v * 2f64.powi(-k)).collect();
            let lk = lam * 2f64.powi(k) * 2f64.powi(k);
            if lam != 0.0 && !lk.is_normal() {
                continue; // 0.5·4^±530 is beyond f64
            }
            for av in [dense(&a), MatrixRef::sparse(&csr).unwrap()] {
                let x = normal_equations(av, &b, lk, faer::Par::Seq)
                    .unwrap_or_else(|e| panic!("k = {k}, λ = {lk:e}: {e}"));
                assert!(rel(&x, &want) <= 1e-13, "k = {k}: {x:?} vs {want:?}");
            }
        }
    }
}
