//! Seeded generators of the standard test problems used by the tests, benches and `tour`.
//!
//! Every generator is a pure function of its arguments and a [`Seed`]; its randomness comes from
//! [`Seed::block_rng`], so the same call gives the same matrix on every machine.

use crate::error::{Error, Result};
use crate::seed::Seed;
use faer::Mat;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

fn normal(rng: &mut impl Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// An `n × d` matrix with iid standard normal entries.
///
/// # Errors
/// [`Error::TooLarge`] when `n·d > 2^31`.
pub fn gaussian_matrix(n: usize, d: usize, seed: Seed) -> Result<Mat<f64>> {
    check_size(n, d)?;
    let mut rng = seed.block_rng(0x9001, 0);
    let mut a = Mat::<f64>::zeros(n, d);
    for j in 0..d {
        for i in 0..n {
            a[(i, j)] = normal(&mut rng);
        }
    }
    Ok(a)
}

/// The coherent matrix `[I_d; scale·G]` (`n × d`, `n ≥ d`, `G` iid standard normal): its first
/// `d` rows carry almost all of every direction, so their leverage scores are ≈ 1 and a sketch
/// that can miss a row (CountSketch with small `m`, uniform sampling) fails on it.
///
/// # Errors
/// [`Error::InvalidParameter`] when `n < d`; [`Error::TooLarge`] when `n·d > 2^31`.
pub fn coherent_matrix(n: usize, d: usize, scale: f64, seed: Seed) -> Result<Mat<f64>> {
    if n < d {
        return Err(Error::param(
            "n",
            format!("need n ≥ d, got n = {n} < d = {d}"),
        ));
    }
    let mut a = gaussian_matrix(n, d, seed)?;
    for j in 0..d {
        for i in 0..n {
            a[(i, j)] = if i < d {
                if i == j {
                    1.0
                } else {
                    0.0
                }
            } else {
                scale * a[(i, j)]
            };
        }
    }
    Ok(a)
}

/// A random `n × d` CSR matrix with about `nnz_per_row` standard-normal entries per row at
/// uniformly random distinct columns, plus one entry per row in column `i mod d` so that no
/// column is empty and the matrix has full column rank with overwhelming probability.
///
/// # Errors
/// [`Error::InvalidParameter`] for `d = 0` or `nnz_per_row > d`.
pub fn random_sparse(
    n: usize,
    d: usize,
    nnz_per_row: usize,
    seed: Seed,
) -> Result<sprs::CsMat<f64>> {
    if d == 0 || nnz_per_row == 0 || nnz_per_row > d {
        return Err(Error::param(
            "nnz_per_row",
            format!("need 1 ≤ nnz_per_row ≤ d, got {nnz_per_row} with d = {d}"),
        ));
    }
    let mut indptr = Vec::with_capacity(n + 1);
    let mut indices = Vec::with_capacity(n * nnz_per_row);
    let mut data = Vec::with_capacity(n * nnz_per_row);
    indptr.push(0);
    let mut cols = Vec::with_capacity(nnz_per_row);
    const ROWS_PER_STREAM: usize = 4096;
    let mut rng = seed.block_rng(0x9002, 0);
    for i in 0..n {
        if i % ROWS_PER_STREAM == 0 {
            rng = seed.block_rng(0x9002, (i / ROWS_PER_STREAM) as u64);
        }
        cols.clear();
        cols.push(i % d);
        while cols.len() < nnz_per_row {
            let c = (rng.next_u64() % d as u64) as usize;
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        cols.sort_unstable();
        for &c in &cols {
            indices.push(c);
            data.push(normal(&mut rng));
        }
        indptr.push(indices.len());
    }
    sprs::CsMat::try_new((n, d), indptr, indices, data)
        .map_err(|(_, _, _, e)| Error::structure(e.to_string()))
}

fn check_size(n: usize, d: usize) -> Result<()> {
    let req = n as u128 * d as u128;
    if req > 1 << 31 {
        return Err(Error::TooLarge {
            what: format!("an {n}×{d} dense test matrix"),
            requested: req,
            limit: 1 << 31,
        });
    }
    Ok(())
}

/// An `n × d` matrix with heavy-tailed rows: row `i` is `c_i·g_i` with `c_i` standard Cauchy
/// and `g_i` iid standard normal. Row norms (and leverage scores) spread over many orders of
/// magnitude, with a few rows of leverage close to 1 — the regime where norm-squared or uniform
/// sampling misjudge rows and approximate leverage scores must be accurate *relatively*.
///
/// # Errors
/// [`Error::TooLarge`] when `n·d > 2^31`.
pub fn cauchy_rows(n: usize, d: usize, seed: Seed) -> Result<Mat<f64>> {
    let mut a = gaussian_matrix(n, d, seed)?;
    let mut rng = seed.block_rng(0x9006, 0);
    for i in 0..n {
        let u = rand_distr::Uniform::new(0.0f64, 1.0)
            .map_err(|e| Error::param("cauchy", e.to_string()))?
            .sample(&mut rng);
        let c = (std::f64::consts::PI * (u - 0.5)).tan();
        for j in 0..d {
            a[(i, j)] *= c;
        }
    }
    Ok(a)
}

/// Epperly's least-squares test problem: `A = U·diag(σ)·Vᵀ` (`n × d`, `U`, `V` Haar-random
/// orthonormal, `σ = logspace(0, −log₁₀ cond, d)`, so `‖A‖₂ = 1` and `κ(A) = cond`), a unit-norm
/// solution `x` (random direction), and `b = A·x + r` with a residual `r` of norm
/// `residual_norm` orthogonal to `range(A)`. Returns `(A, b, x, r)`; `x` is the exact
/// least-squares solution.
///
/// # Errors
/// [`Error::InvalidParameter`] for `n < d`, `d = 0`, `cond < 1` or a negative/non-finite
/// `residual_norm`; [`Error::TooLarge`] when `n·d > 2^31`.
///
/// # References
/// E. Epperly, "Fast and forward stable randomized algorithms for linear least-squares problems",
/// arXiv 2311.04362 (§ numerical experiments).
#[allow(clippy::type_complexity)]
pub fn ls_problem(
    n: usize,
    d: usize,
    cond: f64,
    residual_norm: f64,
    seed: Seed,
) -> Result<(Mat<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    if d == 0 || n < d {
        return Err(Error::param("n", format!("need n ≥ d ≥ 1, got {n}×{d}")));
    }
    if !(cond.is_finite() && cond >= 1.0) {
        return Err(Error::param("cond", format!("need cond ≥ 1, got {cond}")));
    }
    if !(residual_norm.is_finite() && residual_norm >= 0.0) {
        return Err(Error::param(
            "residual_norm",
            format!("need a finite value ≥ 0, got {residual_norm}"),
        ));
    }
    check_size(n, d + 1)?;
    let u = crate::dense::thin_q(gaussian_matrix(n, d + 1, seed.derive(1))?.as_ref());
    let v = crate::dense::thin_q(gaussian_matrix(d, d, seed.derive(2))?.as_ref());
    let logk = cond.log10();
    let sigma: Vec<f64> = (0..d)
        .map(|i| {
            let t = if d == 1 {
                0.0
            } else {
                i as f64 / (d - 1) as f64
            };
            10f64.powf(-logk * t)
        })
        .collect();
    let us = Mat::from_fn(n, d, |i, j| u[(i, j)] * sigma[j]);
    let a = crate::dense::product(us.as_ref(), v.transpose());
    let g = gaussian_matrix(d, 1, seed.derive(3))?;
    let gn = g.norm_l2();
    let x: Vec<f64> = (0..d).map(|i| g[(i, 0)] / gn).collect();
    // Column d of U is orthogonal to range(A) = span(U[:, ..d]).
    let r: Vec<f64> = (0..n).map(|i| u[(i, d)] * residual_norm).collect();
    let xm = Mat::from_fn(d, 1, |i, _| x[i]);
    let ax = crate::dense::product(a.as_ref(), xm.as_ref());
    let b: Vec<f64> = (0..n).map(|i| ax[(i, 0)] + r[i]).collect();
    Ok((a, b, x, r))
}

/// A sparse least-squares problem whose ill-conditioning survives column scaling (after
/// `../shared/peers/gen.py`'s `sparse_ls_illmix`): `A = B·M` with `B` an `n × d` Bernoulli(`density`)
/// pattern of standard normals and `M` block diagonal with blocks `[[1, 1], [0, δ_k]]`,
/// `δ = logspace(0, log₁₀ delta_min, d/2)` — column `2k+1` is column `2k` plus `δ_k` times an
/// independent column, so pairs are nearly collinear while all column norms are about equal, and
/// `κ(A) ≈ 1/delta_min` (≈ 10⁸ for `delta_min = 2·10⁻⁸`). Returns `(A (CSR), b, x_star)` with
/// `b = A·x_star + noise·N(0, I)`. `nnz(A) ≈ 1.5·n·d·density`.
///
/// # Errors
/// [`Error::InvalidParameter`] for `d < 2`, `density ∉ (0, 1]`, `delta_min ∉ (0, 1]`, or a
/// negative `noise`.
pub fn sparse_ls_illmix(
    n: usize,
    d: usize,
    density: f64,
    delta_min: f64,
    noise: f64,
    seed: Seed,
) -> Result<(sprs::CsMat<f64>, Vec<f64>, Vec<f64>)> {
    if d < 2 || n == 0 {
        return Err(Error::param(
            "d",
            format!("need n ≥ 1 and d ≥ 2, got {n}×{d}"),
        ));
    }
    if !(density > 0.0 && density <= 1.0) {
        return Err(Error::param(
            "density",
            format!("must be in (0, 1], got {density}"),
        ));
    }
    if !(delta_min > 0.0 && delta_min <= 1.0) {
        return Err(Error::param(
            "delta_min",
            format!("must be in (0, 1], got {delta_min}"),
        ));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::param(
            "noise",
            format!("must be finite and ≥ 0, got {noise}"),
        ));
    }
    let pairs = d / 2;
    let delta: Vec<f64> = (0..pairs)
        .map(|k| {
            let t = if pairs == 1 {
                0.0
            } else {
                k as f64 / (pairs - 1) as f64
            };
            10f64.powf(delta_min.log10() * t)
        })
        .collect();
    let mut indptr = Vec::with_capacity(n + 1);
    let mut indices = Vec::new();
    let mut data = Vec::new();
    indptr.push(0);
    const ROWS_PER_STREAM: usize = 4096;
    let mut rng = seed.block_rng(0x9003, 0);
    let log_q = (1.0 - density).ln();
    let mut brow = vec![0.0; d];
    let mut touched = Vec::new();
    for i in 0..n {
        if i % ROWS_PER_STREAM == 0 {
            rng = seed.block_rng(0x9003, (i / ROWS_PER_STREAM) as u64);
        }
        // Bernoulli(density) columns by geometric skips.
        touched.clear();
        let mut j = 0usize;
        loop {
            let skip = if density >= 1.0 {
                0
            } else {
                let u = 1.0 - crate::seed::unit_f64(rng.next_u64());
                (u.ln() / log_q).floor() as usize
            };
            j = j.saturating_add(skip);
            if j >= d {
                break;
            }
            brow[j] = normal(&mut rng);
            touched.push(j);
            j += 1;
        }
        for jj in 0..d {
            let v = if jj < 2 * pairs {
                let k = jj / 2;
                if jj % 2 == 0 {
                    brow[jj]
                } else {
                    brow[jj - 1] + delta[k] * brow[jj]
                }
            } else {
                brow[jj]
            };
            let present = brow[jj] != 0.0 || (jj % 2 == 1 && jj < 2 * pairs && brow[jj - 1] != 0.0);
            if present && v != 0.0 {
                indices.push(jj);
                data.push(v);
            }
        }
        for &t in &touched {
            brow[t] = 0.0;
        }
        indptr.push(indices.len());
    }
    let a = sprs::CsMat::try_new((n, d), indptr, indices, data)
        .map_err(|(_, _, _, e)| Error::structure(e.to_string()))?;
    let mut rng = seed.block_rng(0x9004, 0);
    let x_star: Vec<f64> = (0..d).map(|_| normal(&mut rng)).collect();
    let mut b = vec![0.0; n];
    for (i, bi) in b.iter_mut().enumerate() {
        if i % ROWS_PER_STREAM == 0 {
            rng = seed.block_rng(0x9005, (i / ROWS_PER_STREAM) as u64);
        }
        let row = a.outer_view(i).map(|r| r.dot(&x_star[..])).unwrap_or(0.0);
        *bi = row + noise * normal(&mut rng);
    }
    Ok((a, b, x_star))
}
