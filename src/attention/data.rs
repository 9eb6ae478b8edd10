//! The clustered attention inputs on which the accuracy figures are stated.

use crate::error::{Error, Result};
use crate::seed::Seed;
use faer::Mat;
use rand_distr::{Distribution, StandardNormal};

/// Streams of the generator (centres; query noise; key noise; values).
const CENTRES: u64 = 0x62;
const Q_NOISE: u64 = 0x63;
const K_NOISE: u64 = 0x64;
const VALUES: u64 = 0x65;

/// Clustered queries and keys with iid values, as in ALGORITHMS.md §6: `clusters` centres `c_j`,
/// uniformly random unit vectors in `ℝ^h`; `q_i = scale·(c_{i mod clusters} + noise·g_i/√h)` and
/// `k_i = scale·(c_{(7i+3) mod clusters} + noise·g'_i/√h)` with independent standard normal
/// `g_i, g'_i`; `V` iid standard normal (`n × h`). Kernel values between a query and the keys of
/// its own cluster are large (≈ `scale²`), so attention is concentrated — the regime where a
/// sketched polynomial kernel is accurate. (The paper's figures use 16 centres, noise 0.3,
/// scale 1.5.)
///
/// # Errors
/// [`Error::InvalidParameter`] for `n`, `h` or `clusters` zero, or a negative or non-finite
/// `noise` or `scale`; [`Error::TooLarge`] when `n·h > 2³¹`.
pub fn clustered_qkv(
    n: usize,
    h: usize,
    clusters: usize,
    noise: f64,
    scale: f64,
    seed: Seed,
) -> Result<(Mat<f64>, Mat<f64>, Mat<f64>)> {
    if n == 0 || h == 0 || clusters == 0 {
        return Err(Error::param(
            "shape",
            format!("need n, h, clusters ≥ 1, got {n}, {h}, {clusters}"),
        ));
    }
    for (name, x) in [("noise", noise), ("scale", scale)] {
        if !(x.is_finite() && x >= 0.0) {
            return Err(Error::param(
                name,
                format!("{name} {x} must be finite and ≥ 0"),
            ));
        }
    }
    let req = n as u128 * h as u128;
    if req > 1 << 31 {
        return Err(Error::TooLarge {
            what: format!("an {n}×{h} matrix"),
            requested: req,
            limit: 1 << 31,
        });
    }
    let mut rng = seed.block_rng(CENTRES, 0);
    let mut centres = Mat::<f64>::zeros(clusters, h);
    for j in 0..clusters {
        let mut norm2: f64 = 0.0;
        while norm2 == 0.0 {
            norm2 = 0.0;
            for c in 0..h {
                let g: f64 = StandardNormal.sample(&mut rng);
                centres[(j, c)] = g;
                norm2 += g * g;
            }
        }
        let inv = 1.0 / norm2.sqrt();
        for c in 0..h {
            centres[(j, c)] *= inv;
        }
    }
    let sd = noise / (h as f64).sqrt();
    let rows = |stream: u64, assign: &dyn Fn(usize) -> usize| {
        let mut rng = seed.block_rng(stream, 0);
        let mut a = Mat::<f64>::zeros(n, h);
        for i in 0..n {
            let cl = assign(i);
            for c in 0..h {
                let g: f64 = StandardNormal.sample(&mut rng);
                a[(i, c)] = scale * (centres[(cl, c)] + sd * g);
            }
        }
        a
    };
    let q = rows(Q_NOISE, &|i| i % clusters);
    let k = rows(K_NOISE, &|i| (7 * i + 3) % clusters);
    let mut rng = seed.block_rng(VALUES, 0);
    let mut v = Mat::<f64>::zeros(n, h);
    for i in 0..n {
        for c in 0..h {
            v[(i, c)] = StandardNormal.sample(&mut rng);
        }
    }
    Ok((q, k, v))
}
