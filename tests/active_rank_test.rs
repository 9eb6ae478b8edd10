//! The pool's rank test is `|R_jj| ≤ 10⁻¹²·max|R_jj|` on the sketch's `R` (columns equilibrated
//! by powers of two), as `Pool::new` documents. faer's unpivoted QR passes over a column whose
//! residual is at most `16·(m₁ − k)·ε` of its norm and zeroes the next diagonal entry (a
//! staircase), which exceeds `10⁻¹²` from about 280 sketch rows on: until 2026-12-07 a column
//! `4·10⁻¹²` from another was refused as a rank deficiency at `d = 200` (`m₁ = 10d = 2000`, a
//! floor of `7·10⁻¹²`). The pool now factors such a sketch again with every column reflected
//! before it refuses.

use faer::{Mat, Par};
use randnla::active::{Basis, Pool};
use randnla::leverage::{exact_leverage_scores, ExactMethod, ExactParams};
use randnla::{problems, Error, MatrixRef, Seed};

/// A `3000 × 200` Gaussian `X` whose column 1 is column 0 plus `delta` times a fresh Gaussian
/// vector: its part orthogonal to column 0 is about `delta` of its norm. (Not the last column:
/// faer's staircase zeroes the diagonal entry after the one it passes over.)
fn nearly_dependent(delta: f64) -> Mat<f64> {
    let (n, d) = (3000, 200);
    let g = problems::gaussian_matrix(n, d + 1, Seed::new(21)).unwrap();
    Mat::from_fn(n, d, |i, j| {
        if j == 1 {
            g[(i, 0)] + delta * g[(i, d)]
        } else {
            g[(i, j)]
        }
    })
}

fn sketched_pool(x: &Mat<f64>) -> randnla::Result<Vec<f64>> {
    let view = MatrixRef::dense(x.as_ref())?;
    let pool = Pool::new(
        view,
        Basis::Sketched { sketch_rows: None },
        Seed::new(1),
        Par::Seq,
    )?;
    Ok(pool.scores().to_vec())
}

/// Pass rule: at `delta = 4·10⁻¹²` (four times the tolerance; the sketch moves the residual by
/// its distortion, well within that factor) the sketched pool is built, and every score lies
/// within the documented `[(1 + ε)⁻², (1 − ε)⁻²]` of the exact leverage score for `ε = ½`,
/// i.e. `[0.44, 4]` times it; at `delta = 3·10⁻¹³` the pool is refused as rank 199 of 200.
#[test]
fn a_column_above_the_rank_tolerance_is_not_refused() {
    let x = nearly_dependent(4e-12);
    let scores = sketched_pool(&x).expect("a column 4e-12 from another is above 1e-12");
    let exact_params = ExactParams {
        method: ExactMethod::Householder,
        ..ExactParams::default()
    };
    let view = MatrixRef::dense(x.as_ref()).unwrap();
    let (exact, info) = exact_leverage_scores(view, &exact_params, Par::Seq).unwrap();
    assert_eq!(info.rank, 200);
    let (lo, hi) = scores
        .iter()
        .zip(&exact)
        .map(|(s, e)| s / e)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), r| {
            (lo.min(r), hi.max(r))
        });
    eprintln!("sketched pool scores / exact: {lo:.3} … {hi:.3}");
    assert!(lo >= 0.44 && hi <= 4.0, "{lo}, {hi}");

    let refused = sketched_pool(&nearly_dependent(3e-13));
    assert!(
        matches!(
            refused,
            Err(Error::RankDeficient {
                rank: 199,
                required: 200
            })
        ),
        "{:?}",
        refused.map(|s| s.len())
    );
}
