//! The clustered test data on which the kernel-approximation figures are stated.

use crate::error::{Error, Result};
use crate::input::zeros_or_too_large;
use crate::seed::Seed;
use faer::Mat;
use rand_distr::{Distribution, StandardNormal};

/// `n` clustered rows in `ℝ^d`: `clusters` centres `c_j`, each a uniformly random unit vector;
/// row `i` is `c_{i mod clusters} + noise·g_i/√d` with `g_i` standard normal (so the noise has
/// norm ≈ `noise`). The data of the clustered TensorSketch figures (8 clusters, noise 0.3):
/// kernel values between rows of one cluster are large, so a sketched polynomial kernel is
/// accurate in relative Frobenius norm, unlike on iid rows
/// ([`problems::gaussian_matrix`](crate::problems::gaussian_matrix)), whose kernel matrix is
/// nearly diagonal.
///
/// All `clusters` centres are drawn (the rows' noise follows them in the same stream), but only
/// those some row uses, the first `min(clusters, n)`, are kept.
///
/// # Errors
/// [`Error::InvalidParameter`] for `n`, `d` or `clusters` zero, or a negative or non-finite
/// `noise`; [`Error::TooLarge`] when `n·d > 2³¹` or `clusters·d > 2³¹` (values drawn), or when
/// the matrices cannot be allocated; [`Error::NonFinite`] when a finite but huge `noise`
/// (`1e308`) makes an entry overflow, naming the first such entry.
pub fn clustered_rows(
    n: usize,
    d: usize,
    clusters: usize,
    noise: f64,
    seed: Seed,
) -> Result<Mat<f64>> {
    if n == 0 || d == 0 || clusters == 0 {
        return Err(Error::param(
            "shape",
            format!("need n, d, clusters ≥ 1, got {n}, {d}, {clusters}"),
        ));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::param(
            "noise",
            format!("noise {noise} must be finite and ≥ 0"),
        ));
    }
    for (what, rows) in [("matrix", n), ("set of centres", clusters)] {
        let req = rows as u128 * d as u128;
        Error::within(req, 1 << 31, || format!("a {rows}×{d} {what}"))?;
    }
    let kept = clusters.min(n);
    let mut centres = zeros_or_too_large::<f64>(kept, d, "set of cluster centres")?;
    let mut a = zeros_or_too_large::<f64>(n, d, "matrix of clustered rows")?;
    let mut rng = seed.block_rng(0x53 << 32, 0);
    for j in 0..clusters {
        let mut norm2: f64 = 0.0;
        while norm2 == 0.0 {
            for c in 0..d {
                let g: f64 = StandardNormal.sample(&mut rng);
                if j < kept {
                    centres[(j, c)] = g;
                }
                norm2 += g * g;
            }
        }
        if j < kept {
            let inv = 1.0 / norm2.sqrt();
            for c in 0..d {
                centres[(j, c)] *= inv;
            }
        }
    }
    let scale = noise / (d as f64).sqrt();
    for i in 0..n {
        for c in 0..d {
            let g: f64 = StandardNormal.sample(&mut rng);
            let v = centres[(i % clusters, c)] + scale * g;
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    what: format!(
                        "the clustered rows (noise {noise:e} is so large that a centre plus \
                         noise·g/√d overflows f64)"
                    ),
                    row: i,
                    col: c,
                });
            }
            a[(i, c)] = v;
        }
    }
    Ok(a)
}
