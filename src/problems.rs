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
    let mut rng = seed.block_rng(0x9003, 0);
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
