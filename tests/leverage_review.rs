//! Leverage scores at the ends of the ridge and magnitude ranges: a large `λ`, inputs near the
//! largest and smallest `f64`, and a tiny `λ` against a tiny `A`.

use faer::{Mat, Par};
use randnla::leverage::*;
use randnla::{problems, MatrixRef, Seed};

fn dense(a: &Mat<f64>) -> MatrixRef<'_, f64> {
    MatrixRef::dense(a.as_ref()).unwrap()
}

fn exact_with(a: MatrixRef<'_, f64>, method: ExactMethod, lambda: f64) -> (Vec<f64>, LeverageInfo) {
    try_exact_with(a, method, lambda).unwrap()
}

fn try_exact_with(
    a: MatrixRef<'_, f64>,
    method: ExactMethod,
    lambda: f64,
) -> randnla::Result<(Vec<f64>, LeverageInfo)> {
    let p = ExactParams {
        method,
        ..Default::default()
    };
    exact_ridge_leverage_scores(a, lambda, &p, Par::Seq)
}

fn assert_close_rows(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (x, y)) in got.iter().zip(want).enumerate() {
        assert!(
            (x - y).abs() <= tol * y.abs() || (x.abs() <= 1e-300 && y.abs() <= 1e-300),
            "{what}: row {i}: {x:e} vs {y:e}"
        );
    }
}

/// `τ_i = b_iᵀ(BᵀB + I)⁻¹b_i` with `b_i = a_i/√λ`: for `λ ≫ ‖A‖²` a well-conditioned `d × d`
/// solve, accurate to a few ulps in every row however small `τ_i` is.
fn ridge_reference(a: &Mat<f64>, lambda: f64) -> Vec<f64> {
    use faer::linalg::solvers::DenseSolveCore;
    let (n, d) = (a.nrows(), a.ncols());
    let s = 1.0 / lambda.sqrt();
    let b = Mat::from_fn(n, d, |i, j| a[(i, j)] * s);
    let mut gram = Mat::<f64>::from_fn(d, d, |i, j| {
        (0..n).map(|t| b[(t, i)] * b[(t, j)]).sum::<f64>()
    });
    for j in 0..d {
        gram[(j, j)] += 1.0;
    }
    let inv = gram.as_ref().partial_piv_lu().inverse();
    (0..n)
        .map(|t| {
            (0..d)
                .map(|i| {
                    (0..d)
                        .map(|j| b[(t, i)] * inv[(i, j)] * b[(t, j)])
                        .sum::<f64>()
                })
                .sum()
        })
        .collect()
}

/// Householder QR of `[A; √λI]` lost the relative accuracy of the first `d` rows' scores as `λ`
/// grew: `≈ ε·√λ/‖A‖` (1e-13 at λ = 1e6, 5e-9 at 1e16, 73 % at 1e34 on a 300 × 5 Gaussian),
/// because the heavy rows `√λI` came last (Householder QR is row-wise stable only with the
/// heavy rows first; Cox & Higham 1998). Scores that are then used as sampling probabilities
/// must be right in every row, not only in sum.
#[test]
fn ridge_scores_keep_their_relative_accuracy_in_every_row_for_a_large_lambda() {
    let a = problems::gaussian_matrix(300, 5, Seed::new(3)).unwrap();
    for lambda in [1e6, 1e16, 1e34, 1e300] {
        let want = ridge_reference(&a, lambda);
        let (got, _) = exact_with(dense(&a), ExactMethod::Householder, lambda);
        assert_close_rows(&got, &want, 1e-12, &format!("Householder, λ = {lambda:e}"));
        // The approximate route falls back to the exact one for n ≤ m₁.
        let wide = ApproxParams {
            sketch_rows: Some(400),
            ..Default::default()
        };
        let (got, info) =
            approx_ridge_leverage_scores(dense(&a), lambda, &wide, Seed::new(1), Par::Seq).unwrap();
        assert_eq!(info.method, LeverageMethod::Householder);
        assert_close_rows(
            &got,
            &want,
            1e-12,
            &format!("approx fallback, λ = {lambda:e}"),
        );
    }
    // A ≈ 1e-300 against λ = 1: every τ_i ≈ ‖a_i‖² ≈ 1e-600 is 0 in f64; one row came out
    // 4.9e-32 (= ε²), and would be the only row a sampler ever drew.
    let tiny = Mat::from_fn(300, 5, |i, j| a[(i, j)] * 1e-300);
    let (got, _) = exact_with(dense(&tiny), ExactMethod::Householder, 1.0);
    assert!(
        got.iter().all(|&x| x < 1e-300),
        "max {:e}",
        got.iter().copied().fold(0.0, f64::max)
    );
}

/// `A` scaled by `2ᵏ` (rounded to what `f64` can hold) has the leverage scores of the rounded
/// matrix scaled back: every route must return them, or say why not. At `k = −1046` (subnormal
/// entries) the approximate route returned NaN scores as `Ok` and sketch-Cholesky failed with
/// "numerically rank deficient"; at `k = 1020` both failed with an overflow of `S·A` that the
/// user cannot avoid other than by rescaling, while Householder answered.
#[test]
fn sketch_routes_answer_for_inputs_near_the_ends_of_the_f64_range() {
    let (n, d) = (20_000, 5);
    let g = problems::gaussian_matrix(n, d, Seed::new(7)).unwrap();
    for k in [-1046, -1000, 1000, 1020] {
        let scale = |x: f64, k: i32| x * 2f64.powi(k / 2) * 2f64.powi(k - k / 2);
        let a = Mat::from_fn(n, d, |i, j| scale(g[(i, j)], k));
        // The rounded matrix at unit scale (exact: powers of two).
        let r = Mat::from_fn(n, d, |i, j| scale(a[(i, j)], -k));
        let (want, _) = exact_with(dense(&r), ExactMethod::Householder, 0.0);
        for method in [ExactMethod::Householder, ExactMethod::SketchCholesky] {
            let (got, info) = exact_ridge_leverage_scores(
                dense(&a),
                0.0,
                &ExactParams {
                    method,
                    ..Default::default()
                },
                Par::Seq,
            )
            .unwrap_or_else(|e| panic!("k = {k}, {method:?}: {e}"));
            assert_eq!(info.rank, d, "k = {k}, {method:?}");
            assert_close_rows(&got, &want, 1e-9, &format!("k = {k}, {method:?}"));
        }
        let p = ApproxParams::default();
        let (want_ap, _) = approx_leverage_scores(dense(&r), &p, Seed::new(2), Par::Seq).unwrap();
        let (got, info) = approx_leverage_scores(dense(&a), &p, Seed::new(2), Par::Seq)
            .unwrap_or_else(|e| panic!("k = {k}, approx: {e}"));
        assert_eq!(info.rank, d, "k = {k}, approx");
        assert_close_rows(&got, &want_ap, 1e-9, &format!("k = {k}, approx"));
        // Ridge: τ_i(2ᵏA, λ) = τ_i(A, λ·2⁻²ᵏ); λ = 2²ᵏ·(1/4) when representable, else the
        // smallest or a huge λ, compared through the identity on the unit-scale matrix.
        for lambda in [1.0, f64::from_bits(1), 1e300] {
            let unit_lambda = lambda * 2f64.powi(-k) * 2f64.powi(-k);
            if !unit_lambda.is_finite() || unit_lambda == 0.0 {
                continue;
            }
            let (want, _) = exact_with(dense(&r), ExactMethod::Householder, unit_lambda);
            for method in [ExactMethod::Householder, ExactMethod::SketchCholesky] {
                let (got, _) = try_exact_with(dense(&a), method, lambda)
                    .unwrap_or_else(|e| panic!("k = {k}, λ = {lambda:e}, {method:?}: {e}"));
                assert_close_rows(
                    &got,
                    &want,
                    1e-9,
                    &format!("k = {k}, λ = {lambda:e}, {method:?}"),
                );
            }
            let (got, _) =
                approx_ridge_leverage_scores(dense(&a), lambda, &p, Seed::new(2), Par::Seq)
                    .unwrap_or_else(|e| panic!("k = {k}, λ = {lambda:e}, approx: {e}"));
            assert!(
                got.iter().all(|x| x.is_finite()),
                "k = {k}, λ = {lambda:e}, approx"
            );
            let sum: f64 = got.iter().sum();
            let want_sum: f64 = want.iter().sum();
            assert!(
                (sum - want_sum).abs() <= 0.2 * want_sum,
                "k = {k}, λ = {lambda:e}, approx: Σ = {sum:e} vs {want_sum:e}"
            );
        }
    }
}

/// The same through CSR and CSC storage (the rescaled copy keeps the sparse structure).
#[test]
fn sparse_inputs_near_the_ends_of_the_f64_range_match_dense_ones() {
    let (n, d) = (20_000, 5);
    let g = problems::random_sparse(n, d, 3, Seed::new(4)).unwrap();
    for k in [-1046, 1020] {
        let scale = |x: f64| x * 2f64.powi(k / 2) * 2f64.powi(k - k / 2);
        let csr = g.map(|&x| scale(x));
        let csc = csr.to_csc();
        let dense_a = Mat::from_fn(n, d, |i, j| csr.get(i, j).copied().unwrap_or(0.0));
        for lambda in [0.0, 1.0] {
            let p = ApproxParams::default();
            let (want, _) =
                approx_ridge_leverage_scores(dense(&dense_a), lambda, &p, Seed::new(5), Par::Seq)
                    .unwrap();
            let (want_exact, _) = exact_with(dense(&dense_a), ExactMethod::SketchCholesky, lambda);
            for (name, m) in [("csr", &csr), ("csc", &csc)] {
                let a = MatrixRef::sparse(m).unwrap();
                let what = format!("k = {k}, λ = {lambda}, {name}");
                let (got, _) =
                    approx_ridge_leverage_scores(a, lambda, &p, Seed::new(5), Par::Seq).unwrap();
                assert!(lambda > 0.0 || got.iter().any(|&x| x > 0.0), "{what}");
                assert_close_rows(&got, &want, 1e-9, &format!("{what}, approx"));
                let (got, _) = exact_with(a, ExactMethod::SketchCholesky, lambda);
                assert_close_rows(&got, &want_exact, 1e-9, &format!("{what}, exact"));
            }
        }
    }
}

/// A tiny `λ` against a tiny `A` (`λ` dominating `AᵀA`): sketch-Cholesky formed `λ·WᵀW` with
/// `WᵀW ≈ 1/λ`, which overflows for `λ < 1/f64::MAX`, and failed ("Cholesky ... not positive
/// definite").
#[test]
fn sketch_cholesky_takes_a_tiny_lambda_against_a_tiny_matrix() {
    let (n, d) = (20_000, 4);
    let g = problems::gaussian_matrix(n, d, Seed::new(9)).unwrap();
    let c = 2f64.powi(-600);
    let a = Mat::from_fn(n, d, |i, j| g[(i, j)] * c);
    let lambda = 2f64.powi(-1060);
    // τ(cA, λ) = τ(A, λ/c²), λ/c² = 2¹⁴⁰.
    let (want, _) = exact_with(dense(&g), ExactMethod::Householder, 2f64.powi(140));
    for method in [ExactMethod::Householder, ExactMethod::SketchCholesky] {
        let (got, _) =
            try_exact_with(dense(&a), method, lambda).unwrap_or_else(|e| panic!("{method:?}: {e}"));
        assert_close_rows(&got, &want, 1e-9, &format!("{method:?}"));
    }
}
