//! Acceptance tests for leverage scores and row sampling (ALGORITHMS.md §4).

mod common;

use common::*;
use faer::{Mat, Par};
use randnla::leverage::*;
use randnla::sketch::sampling::{row_norm_weights, RowSampling};
use randnla::sketch::{SketchExt, SketchOperator};
use randnla::{diagnostics, problems, Error, MatrixRef, Seed};

fn dense(a: &Mat<f64>) -> MatrixRef<'_, f64> {
    MatrixRef::dense(a.as_ref()).unwrap()
}

fn exact(a: MatrixRef<'_, f64>) -> (Vec<f64>, LeverageInfo) {
    exact_leverage_scores(a, &ExactParams::default(), Par::Seq).unwrap()
}

/// Sorted relative errors `|x̃_i − x_i|/x_i`.
fn rel_errors(approx: &[f64], exact: &[f64]) -> Vec<f64> {
    let mut e: Vec<f64> = approx
        .iter()
        .zip(exact)
        .map(|(a, e)| (a - e).abs() / e)
        .collect();
    e.sort_by(|a, b| a.partial_cmp(b).unwrap());
    e
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Measures the per-row relative error of the approximate scores over a grid of (m₁, r₂, debias)
/// on the three test families; the source of the defaults and of the table in `ApproxParams`.
/// `cargo test --release --test leverage -- --ignored --nocapture measure_error_grid`
#[test]
#[ignore]
fn measure_error_grid() {
    let (n, d) = (20_000, 50);
    let mats = [
        ("gaussian", problems::gaussian_matrix(n, d, Seed::new(1)).unwrap()),
        ("coherent", problems::coherent_matrix(n, d, 1e-3, Seed::new(2)).unwrap()),
        ("cauchy", problems::cauchy_rows(n, d, Seed::new(3)).unwrap()),
    ];
    println!("matrix    m1/d  r2  debias  median  p90  p99  max");
    for (name, a) in &mats {
        let (ex, _) = exact(dense(a));
        for f in [2usize, 4, 10, 20] {
            for r2 in [0usize, 50, 100, 200, 400] {
                for debias in [false, true] {
                    let p = ApproxParams {
                        sketch_rows: Some(f * d),
                        jl_dim: r2,
                        debias,
                        ..Default::default()
                    };
                    let mut all = Vec::new();
                    for seed in 0..3 {
                        let (ap, _) =
                            approx_leverage_scores(dense(a), &p, Seed::new(seed), Par::Seq).unwrap();
                        all.extend(rel_errors(&ap, &ex));
                    }
                    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
                    println!(
                        "{name:9} {f:4} {r2:4} {debias:6} {:.3} {:.3} {:.3} {:.3}",
                        quantile(&all, 0.5),
                        quantile(&all, 0.9),
                        quantile(&all, 0.99),
                        quantile(&all, 1.0)
                    );
                }
            }
        }
    }
}
