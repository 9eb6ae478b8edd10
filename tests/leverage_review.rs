//! Leverage scores at the ends of the ridge and magnitude ranges.

use faer::{Mat, Par};
use randnla::leverage::*;
use randnla::{problems, MatrixRef, Seed};

fn dense(a: &Mat<f64>) -> MatrixRef<'_, f64> {
    MatrixRef::dense(a.as_ref()).unwrap()
}

fn exact_with(a: MatrixRef<'_, f64>, method: ExactMethod, lambda: f64) -> (Vec<f64>, LeverageInfo) {
    let p = ExactParams {
        method,
        ..Default::default()
    };
    exact_ridge_leverage_scores(a, lambda, &p, Par::Seq).unwrap()
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
