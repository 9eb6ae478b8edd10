//! The clustered attention inputs on which the accuracy figures are stated.

use crate::error::{Error, Result};
use crate::input::zeros_or_too_large;
use crate::seed::Seed;
use faer::Mat;
use rand_distr::{Distribution, StandardNormal};

/// Streams of the generator (centres; query noise; key noise; values).
const CENTRES: u64 = 0x62;
const Q_NOISE: u64 = 0x63;
const K_NOISE: u64 = 0x64;
const VALUES: u64 = 0x65;

/// Largest number of values drawn (`Q`, `K`, `V` and the centres in use): 8 GiB of `f64`.
const MAX_VALUES: u128 = 1 << 30;

/// Clustered queries and keys with iid values (the inputs of the attention benches and tests):
/// `clusters` centres `c_j`, uniformly random unit vectors in `ℝ^h`;
/// `q_i = scale·(c_{i mod clusters} + noise·g_i/√h)` and
/// `k_i = scale·(c_{(7i+3) mod clusters} + noise·g'_i/√h)` with independent standard normal
/// `g_i, g'_i`; `V` iid standard normal (`n × h`). Keys visit every cluster only when `clusters` is
/// not a multiple of 7. Kernel values between a query and the keys of its own cluster are large (≈
/// `scale²`), so attention is concentrated — the regime where a sketched polynomial kernel is
/// accurate. (The paper's figures use 16 centres, noise 0.3, scale 1.5.)
///
/// Only the centres some row uses are drawn — the first `c = min(clusters, 7n − 3)`, since
/// rows index centres below `n` and keys below `7n − 3` — so a huge `clusters` costs nothing
/// extra (the centres are drawn in order from their own stream: the first `c` are the same
/// whatever `clusters` is).
///
/// # Errors
/// [`Error::InvalidParameter`] for `n`, `h` or `clusters` zero, or a negative or non-finite
/// `noise` or `scale`; [`Error::TooLarge`] when the matrices drawn, `(3n + c)·h` values
/// (`Q`, `K`, `V` and the centres in use), exceed 2³⁰ (8 GiB), or cannot be allocated.
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
    // Centres used: i mod clusters < n for queries and (7i + 3) mod clusters ≤ 7n − 4 for keys
    // (i < n). `n` is not bounded yet, hence the saturating product.
    let used = clusters.min(n.saturating_mul(7) - 3);
    let req = (3 * n as u128 + used as u128) * h as u128;
    Error::within(req, MAX_VALUES, || {
        format!("three {n}×{h} matrices and {used} centres")
    })?;
    let mut rng = seed.block_rng(CENTRES, 0);
    let mut centres = zeros_or_too_large::<f64>(used, h, "matrix of cluster centres")?;
    let mut q = zeros_or_too_large::<f64>(n, h, "query matrix")?;
    let mut k = zeros_or_too_large::<f64>(n, h, "key matrix")?;
    let mut v = zeros_or_too_large::<f64>(n, h, "value matrix")?;
    for j in 0..used {
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
    let rows = |a: &mut Mat<f64>, stream: u64, assign: &dyn Fn(usize) -> usize| {
        let mut rng = seed.block_rng(stream, 0);
        for i in 0..n {
            let cl = assign(i);
            for c in 0..h {
                let g: f64 = StandardNormal.sample(&mut rng);
                a[(i, c)] = scale * (centres[(cl, c)] + sd * g);
            }
        }
    };
    rows(&mut q, Q_NOISE, &|i| i % clusters);
    rows(&mut k, K_NOISE, &|i| (7 * i + 3) % clusters);
    let mut rng = seed.block_rng(VALUES, 0);
    for i in 0..n {
        for c in 0..h {
            v[(i, c)] = StandardNormal.sample(&mut rng);
        }
    }
    Ok((q, k, v))
}
