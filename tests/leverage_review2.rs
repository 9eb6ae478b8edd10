//! A second, adversarial review of `leverage` (exact, approximate and ridge leverage scores)
//! and `sketch::sampling` (row sampling) from a downstream user's side: columns in very
//! different units, the documented parameter bounds and errors, what the docs promise bit for
//! bit across layouts, and the sampling's scaling. Each test names its input and its pass rule;
//! the first ones failed before the fix they pin.

mod common;

use common::*;
use faer::{Mat, Par};
use randnla::leverage::*;
use randnla::{problems, Seed};

/// Approximate ridge scores of an `A` with one column far smaller than `√λ` (units `1, 1, c`).
/// The sketch's QR brings each column of `S₁A` to `[1, 2)`, so the ridge entry `√λ·D_jj` of the
/// small column became `≈ √λ/c`: at `c = 10⁻¹⁴, λ = 1` it was `10¹⁴` times every other pivot,
/// the rank test dropped the other two columns (rank 1 where the exact routes report 3) and the
/// scores summed to `≈ 10⁻²⁸` where `d_λ ≈ 2`.
///
/// Such a column adds `≈ c²‖a_j‖²/λ` to the scores: `A` has the ridge scores of the same matrix
/// with that column zeroed, `A₀`, to far below rounding. The approximate method, with the same
/// seed, draws the same sketch for both and factors `[S₁A; √λI]` and `[S₁A₀; √λI]`, whose R
/// factors differ by `≈ c/√λ` relative. Pass rules (seeds 0–2, `λ ∈ {1, 10⁴}`,
/// `c ∈ {10⁻¹⁴, 10⁻¹⁰⁰}`): rank 3, the exact routes' rank; without the JL stage (`r₂ = 0`: the
/// row norms of `A·P₁R₁₁⁻¹`, which do not depend on the basis the QR picks) every score equal to
/// `A₀`'s to `10⁻⁹` relative, and within the factor 2.5 of the exact scores that a 30-row sketch
/// of a 3-column matrix keeps (measured: ratios in `[0.51, 1.65]`); with the JL stage (whose
/// estimates depend on that basis), `Σ` within a factor 2 of `d_λ` (measured: 0.89–1.31).
#[test]
fn approx_ridge_scores_keep_a_column_far_below_sqrt_lambda() {
    let (n, d) = (4000, 3);
    let g = problems::gaussian_matrix(n, d, Seed::new(41)).unwrap();
    let a0 = Mat::from_fn(n, d, |i, j| if j == 2 { 0.0 } else { g[(i, j)] });
    for c in [1e-14, 1e-100] {
        let a = Mat::from_fn(n, d, |i, j| if j == 2 { g[(i, j)] * c } else { g[(i, j)] });
        for lambda in [1.0, 1e4] {
            let (ex, ei) =
                exact_ridge_leverage_scores(dense(&a), lambda, &ExactParams::default(), Par::Seq)
                    .unwrap();
            assert_eq!(ei.rank, 3);
            for seed in 0..3 {
                let what = format!("c = {c:e}, λ = {lambda:e}, seed {seed}");
                let run = |m: &Mat<f64>, p: &ApproxParams| {
                    approx_ridge_leverage_scores(dense(m), lambda, p, Seed::new(seed), Par::Seq)
                        .unwrap()
                };
                let (_, info) = run(&a, &ApproxParams::default());
                assert_eq!(info.rank, ei.rank, "{what}: rank");
                assert!(
                    (0.5..2.0).contains(&(info.sum / ei.sum)),
                    "{what}: Σ = {} vs d_λ = {}",
                    info.sum,
                    ei.sum
                );
                let raw = ApproxParams {
                    jl_dim: 0,
                    ..Default::default()
                };
                let (got, info) = run(&a, &raw);
                assert_eq!(info.rank, ei.rank, "{what}, r₂ = 0: rank");
                let (want, _) = run(&a0, &raw);
                assert_close(&got, &want, 1e-9, &format!("{what}, r₂ = 0"));
                for (i, (x, y)) in got.iter().zip(&ex).enumerate() {
                    assert!(
                        (0.4..2.5).contains(&(x / y)),
                        "{what}, r₂ = 0: row {i}: {x} vs exact {y}"
                    );
                }
            }
        }
    }
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (x, y)) in got.iter().zip(want).enumerate() {
        assert!(
            (x - y).abs() <= tol * y.abs(),
            "{what}: row {i}: {x} vs {y}"
        );
    }
}
