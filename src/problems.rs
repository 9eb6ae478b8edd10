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
/// [`Error::TooLarge`] when `n·d > 2^31`, a dimension exceeds `2^31`, or the matrix cannot be
/// allocated.
pub fn gaussian_matrix(n: usize, d: usize, seed: Seed) -> Result<Mat<f64>> {
    check_size(n, d)?;
    let mut rng = seed.block_rng(0x9001, 0);
    let mut a = crate::input::zeros_or_too_large::<f64>(n, d, "dense test matrix")?;
    for j in 0..d {
        for i in 0..n {
            a[(i, j)] = normal(&mut rng);
        }
    }
    Ok(a)
}

/// The coherent matrix `[I_d; scale·G]` (`n × d`, `n ≥ d`, `G` iid standard normal). Since
/// `AᵀA = I + scale²·GᵀG ≈ (1 + scale²·(n − d))·I`, the leverage scores of its first `d` rows
/// are about `1/(1 + scale²·(n − d))`: when `scale²·(n − d) ≪ 1` those rows carry almost all of
/// every direction, their leverage scores are ≈ 1 (0.95 at `50 000 × 100`, `scale = 10⁻³`)
/// and a sketch that can miss a row (CountSketch with small `m`, uniform sampling) fails on
/// it. A larger `scale` gives no coherence at all (`2000 × 10` at `scale = 1`: about `5·10⁻⁴`,
/// under the mean `d/n`).
///
/// # Errors
/// [`Error::InvalidParameter`] when `n < d` or `scale` is NaN or ±∞ (or so large that
/// `scale·G` overflows, which names `scale` too); [`Error::TooLarge`] when `n·d > 2^31`.
pub fn coherent_matrix(n: usize, d: usize, scale: f64, seed: Seed) -> Result<Mat<f64>> {
    if n < d {
        return Err(Error::param(
            "n",
            format!("need n ≥ d, got n = {n} < d = {d}"),
        ));
    }
    let bad_scale = || Error::param("scale", format!("need scale·G finite, got scale = {scale}"));
    if !scale.is_finite() {
        return Err(bad_scale());
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
                let v = scale * a[(i, j)];
                if !v.is_finite() {
                    return Err(bad_scale());
                }
                v
            };
        }
    }
    Ok(a)
}

/// A random `n × d` CSR matrix with exactly `nnz_per_row` standard-normal entries per row at
/// distinct columns: one in column `i mod d` (so that, for `n ≥ d`, no column is empty and the
/// matrix has full column rank with overwhelming probability) and the others uniformly among the
/// remaining `d − 1` columns.
///
/// # Errors
/// [`Error::InvalidParameter`] for `d = 0`, `nnz_per_row = 0` or `nnz_per_row > d`;
/// [`Error::TooLarge`] when
/// `n·nnz_per_row > 2^31` or `n > 2^31`.
pub fn random_sparse(
    n: usize,
    d: usize,
    nnz_per_row: usize,
    seed: Seed,
) -> Result<sprs::CsMat<f64>> {
    if d == 0 {
        return Err(Error::param("d", "need d ≥ 1 columns"));
    }
    if nnz_per_row == 0 || nnz_per_row > d {
        return Err(Error::param(
            "nnz_per_row",
            format!("need 1 ≤ nnz_per_row ≤ d, got {nnz_per_row} with d = {d}"),
        ));
    }
    let stored = n as u128 * nnz_per_row as u128;
    if stored > 1 << 31 || n > 1 << 31 {
        return Err(Error::TooLarge {
            what: format!("a random sparse {n}×{d} test matrix"),
            requested: stored.max(n as u128),
            limit: 1 << 31,
        });
    }
    let refused = || Error::TooLarge {
        what: format!("a random sparse {n}×{d} test matrix"),
        requested: stored.max(n as u128),
        limit: 1 << 31,
    };
    let (mut indptr, mut indices, mut data) = (Vec::new(), Vec::new(), Vec::<f64>::new());
    let entries = n * nnz_per_row;
    if indptr.try_reserve_exact(n + 1).is_err()
        || indices.try_reserve_exact(entries).is_err()
        || data.try_reserve_exact(entries).is_err()
    {
        return Err(refused());
    }
    indptr.push(0);
    // Grown as rows fill it: with `n = 0` nothing bounds `nnz_per_row`, and reserving it up front
    // overflowed the capacity (`2^62`) or aborted the allocation (`2^40`).
    let mut cols = Vec::new();
    let mut seen = std::collections::HashSet::new();
    const ROWS_PER_STREAM: usize = 4096;
    let mut rng = seed.block_rng(0x9002, 0);
    for i in 0..n {
        if i % ROWS_PER_STREAM == 0 {
            rng = seed.block_rng(0x9002, (i / ROWS_PER_STREAM) as u64);
        }
        draw_row_columns(&mut rng, i % d, d, nnz_per_row, &mut cols, &mut seen);
        for &c in &cols {
            indices.push(c);
            data.push(normal(&mut rng));
        }
        indptr.push(indices.len());
    }
    sprs::CsMat::try_new((n, d), indptr, indices, data)
        .map_err(|(_, _, _, e)| Error::structure(e.to_string()))
}

/// Whether [`draw_row_columns`] samples by Floyd's algorithm: rows longer than 64 entries that
/// fill more than 3/4 of the columns. There rejection sampling needed about `d·ln(d/(d − k))`
/// draws for `k` columns (`d·ln d` at `k = d`: 15 200 draws a row for `d = k = 2000`), while
/// Floyd's algorithm makes exactly `k − 1`. Below the switch the rejection draws are kept, so
/// that every matrix the tests, benches and examples generate (at most `200` of `300` columns
/// for rows over 64 entries) keeps its bits.
fn dense_rows(d: usize, nnz_per_row: usize) -> bool {
    nnz_per_row > 64 && nnz_per_row as u128 * 4 > d as u128 * 3
}

/// The sorted columns of one row of [`random_sparse`] into `cols`: `first` and `k − 1` others
/// drawn uniformly without replacement among the remaining `d − 1`, by rejection or (see
/// [`dense_rows`]) by Floyd's algorithm. Returns the number of `u64` draws taken from `rng`.
fn draw_row_columns(
    rng: &mut impl Rng,
    first: usize,
    d: usize,
    k: usize,
    cols: &mut Vec<usize>,
    seen: &mut std::collections::HashSet<usize>,
) -> usize {
    cols.clear();
    cols.push(first);
    // Membership of the drawn columns: a scan of `cols` for short rows, a set for long ones
    // (a scan is quadratic in the row length); both accept the same draws.
    let use_set = k > 64;
    if use_set {
        seen.clear();
        seen.insert(first);
    }
    let mut draws = 0;
    if dense_rows(d, k) {
        // Floyd: a uniform (k − 1)-subset of the d − 1 other columns, numbered 0..d − 1 and
        // mapped past `first`; each t ∈ 0..=j is fresh or replaced by j, which is.
        let others = (d - 1) as u64;
        let skip = |t: u64| t as usize + usize::from(t as usize >= first);
        for j in others - (k as u64 - 1)..others {
            let t = rng.next_u64() % (j + 1);
            draws += 1;
            let c = if seen.insert(skip(t)) {
                skip(t)
            } else {
                seen.insert(skip(j));
                skip(j)
            };
            cols.push(c);
        }
    } else {
        while cols.len() < k {
            let c = (rng.next_u64() % d as u64) as usize;
            draws += 1;
            let fresh = if use_set {
                seen.insert(c)
            } else {
                !cols.contains(&c)
            };
            if fresh {
                cols.push(c);
            }
        }
    }
    cols.sort_unstable();
    draws
}

/// Dense test matrices: at most `2^31` entries, and no dimension above `2^31` (an `n × 0`
/// matrix with a huge `n` would still overflow faer's column stride).
fn check_size(n: usize, d: usize) -> Result<()> {
    let req = n as u128 * d as u128;
    if req > 1 << 31 || n.max(d) > 1 << 31 {
        return Err(Error::TooLarge {
            what: format!("the {n}×{d} dense test matrix"),
            requested: req.max(n.max(d) as u128),
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

/// Epperly's least-squares test problem: `A = U·diag(σ)·Vᵀ` (`n × d`; `U`, `V` random
/// orthonormal, the `Q` factors of Householder QRs of Gaussian matrices — without the column sign
/// correction by `sign(R_ii)` that would make them exactly Haar-distributed (F. Mezzadri, "How to
/// generate random matrices from the classical compact groups", Notices AMS 2007); nothing here
/// depends on that distribution — `σ = logspace(0, −log₁₀ cond, d)`, so `‖A‖₂ = 1` and
/// `κ(A) = cond`), a unit-norm
/// solution `x` (random direction), and `b = A·x + r` with a residual `r` of norm
/// `residual_norm` orthogonal to `range(A)`. Returns `(A, b, x, r)`; `x` is the exact
/// least-squares solution of `(A, Ax + r)` before `b` is rounded: the rounding moves the
/// solution by up to about `κ²·u·residual_norm` (relative), which is ≥ 1 at `cond = 1e12` with
/// `residual_norm ≥ 1e-6`, where no digit of the solution is determined. `κ(A) = cond` holds for
/// the exact product; the stored `A` is rounded (errors of about `u·‖A‖`, `u = 2⁻⁵³`), which
/// moves its smallest singular value by about `10⁻¹⁶`, so its measured `κ` follows `cond` only
/// while `cond ≪ 1/u ≈ 10¹⁶` and stalls near `10¹⁶–10¹⁷` beyond (a 60 × 8 instance: `κ` within
/// `10⁻⁴` of `cond = 10¹²`, `5.8·10¹⁶` at `cond = 10²⁰`). For `d = 1`, `A` is a single unit
/// column and `cond` has no effect.
///
/// # Errors
/// [`Error::InvalidParameter`] for `n < d`, `d = 0`, `cond < 1`, a negative/non-finite
/// `residual_norm`, or `n = d` with `residual_norm > 0` (a square `A` leaves no direction for
/// the residual); [`Error::TooLarge`] when `n·(d+1) > 2^31`.
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
    if d == 0 {
        return Err(Error::param("d", format!("need n ≥ d ≥ 1, got {n}×{d}")));
    }
    if n < d {
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
    if n == d && residual_norm > 0.0 {
        return Err(Error::param(
            "residual_norm",
            format!("a square {n}×{d} A leaves no direction for a residual of {residual_norm}"),
        ));
    }
    check_size(n, d.saturating_add(1))?;
    // U's column d (when n > d) spans the residual's direction.
    let u_cols = if n > d { d + 1 } else { d };
    let u = crate::dense::thin_q(gaussian_matrix(n, u_cols, seed.derive(1))?.as_ref());
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
    let r: Vec<f64> = if n > d {
        (0..n).map(|i| u[(i, d)] * residual_norm).collect()
    } else {
        vec![0.0; n]
    };
    let xm = Mat::from_fn(d, 1, |i, _| x[i]);
    let ax = crate::dense::product(a.as_ref(), xm.as_ref());
    let b: Vec<f64> = (0..n).map(|i| ax[(i, 0)] + r[i]).collect();
    Ok((a, b, x, r))
}

/// A sparse least-squares problem whose ill-conditioning survives column scaling (after the
/// `sparse_ls_illmix` problem of the project's SciPy comparisons): `A = B·M` with `B` an `n × d`
/// Bernoulli(`density`) pattern of standard normals and `M` block diagonal with blocks
/// `[[1, 1], [0, δ_k]]`, `δ = logspace(0, log₁₀ delta_min, d/2)` (`δ = [delta_min]` for the single
/// pair of `d = 2, 3`) — column `2k+1` is column `2k` plus `δ_k` times an
/// independent column, so pairs are nearly collinear while all column norms are about equal, and
/// `κ(A)` is of the order of `1/delta_min` (about `2.3/delta_min`; a review's rebuild at
/// 6000 × 100 gave 1.3·10⁸ at `delta_min = 2·10⁻⁸`) whatever the column scaling, since scaling
/// a pair's columns does not change the angle `≈ δ_k` between them. Returns `(A (CSR), b, x_star)`
/// with `b = A·x_star + noise·N(0, I)`. A pair stores `e + max(e, o)` entries per row for `B`'s
/// Bernoulli entries `e, o`, so `nnz(A) ≈ (1.5·density − density²/2)·n·d` for even `d`: about
/// `1.5·n·d·density` at small densities, but `n·d` (not `1.5·n·d`) at `density = 1`.
///
/// # Errors
/// [`Error::InvalidParameter`] for `n = 0`, `d < 2`, `density ∉ (0, 1]`, `delta_min ∉ (0, 1]`,
/// a negative or non-finite `noise`, or a `noise` so large that `b` overflows (which names
/// `noise`); [`Error::TooLarge`] when `n` or `d` exceeds `2^28` (it holds vectors of
/// both lengths), when `n·d > 2^34` (it takes `O(n·d)` time) or when `1.5·n·d·density`, a
/// bound on the expected number of stored entries, exceeds `2^31`.
pub fn sparse_ls_illmix(
    n: usize,
    d: usize,
    density: f64,
    delta_min: f64,
    noise: f64,
    seed: Seed,
) -> Result<(sprs::CsMat<f64>, Vec<f64>, Vec<f64>)> {
    if d < 2 || n == 0 {
        // Name the dimension that fails (`n = 0` with a valid `d` was reported as `d`).
        return Err(Error::param(
            if n == 0 { "n" } else { "d" },
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
    // It holds vectors of length n (b, the row pointers) and d (x_star, one dense row, δ).
    Error::within(n.max(d) as u128, 1 << 28, || {
        format!("the {n}×{d} illmix generator's vectors of length n and d")
    })?;
    // The generator walks every (row, column) pair, and stores at most about 1.5·n·d·density
    // entries (the expectation is (1.5·density − density²/2)·n·d for even d).
    let work = n as u128 * d as u128;
    Error::within(work, 1 << 34, || {
        format!("the {n}×{d} illmix generator's row-by-column walk")
    })?;
    let expected = 1.5 * work as f64 * density;
    if expected > (1u64 << 31) as f64 {
        return Err(Error::TooLarge {
            what: format!("the illmix matrix's expected (up to) {expected:.3e} stored entries"),
            requested: expected as u128,
            limit: 1 << 31,
        });
    }
    let pairs = d / 2;
    let delta: Vec<f64> = (0..pairs)
        .map(|k| {
            // A single pair takes `delta_min` (numpy's `logspace(0, x, 1)` is `[1]`, which left
            // `d = 2, 3` with `κ ≈ 2.6` whatever `delta_min`).
            let t = if pairs == 1 {
                1.0
            } else {
                k as f64 / (pairs - 1) as f64
            };
            10f64.powf(delta_min.log10() * t)
        })
        .collect();
    let mut indptr = Vec::new();
    indptr
        .try_reserve_exact(n + 1)
        .map_err(|_| Error::TooLarge {
            what: format!("the {n} + 1 row pointers of the illmix generator"),
            requested: n as u128 + 1,
            limit: (1 << 28) + 1,
        })?;
    let mut indices = Vec::new();
    let mut data = Vec::new();
    indptr.push(0);
    const ROWS_PER_STREAM: usize = 4096;
    let mut rng = seed.block_rng(0x9003, 0);
    // ln(1 − density) by ln_1p: below density ≈ 5.6e-17, 1 − density rounds to 1, ln gives 0 and
    // every skip became 0 (a dense matrix, far above the size checks' expectation).
    let log_q = (-density).ln_1p();
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
        if !bi.is_finite() {
            return Err(Error::param(
                "noise",
                format!("b = A·x_star + noise·N(0, I) overflows with noise = {noise}"),
            ));
        }
    }
    Ok((a, b, x_star))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored count follows `1.5·n·d·density` down to densities where `1 − density` rounds
    /// to 1 (`ln(1 − density)` was 0 there and every entry was stored).
    #[test]
    fn illmix_density_is_honoured_down_to_tiny_values() {
        let (a, _, _) = sparse_ls_illmix(1000, 10, 1e-17, 1e-3, 0.0, Seed::new(5)).unwrap();
        assert_eq!(a.nnz(), 0, "expected 1.5e-13 entries");
        let (a, _, _) = sparse_ls_illmix(4000, 50, 0.05, 1e-3, 0.0, Seed::new(5)).unwrap();
        // Per column pair with B entries e, o ~ Bernoulli(0.05): A stores e + max(e, o) entries,
        // mean 0.1475, variance 0.2257; over 4000 × 25 pairs mean 14 750, sd 150. Allow 5 sd.
        let expected = 4000.0 * 25.0 * 0.1475;
        assert!(
            (a.nnz() as f64 - expected).abs() < 5.0 * 150.0,
            "nnz {} against {expected}",
            a.nnz()
        );
    }

    /// `scale` NaN/±∞ gave an `Ok` matrix full of NaN/±∞; so did a finite scale whose product
    /// with `G` overflows.
    #[test]
    fn coherent_matrix_refuses_a_scale_it_cannot_apply() {
        for scale in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX] {
            let r = coherent_matrix(20, 3, scale, Seed::new(1));
            assert!(
                matches!(&r, Err(Error::InvalidParameter { name, .. }) if *name == "scale"),
                "scale {scale}: {r:?}"
            );
        }
        let a = coherent_matrix(20, 3, -1e300, Seed::new(1)).unwrap();
        assert!(a.col_iter().all(|c| c.iter().all(|v| v.is_finite())));
    }

    /// A finite `noise` whose product with a normal draw overflows gave `Ok` with `b = ±∞`.
    #[test]
    fn illmix_refuses_a_noise_that_overflows_b() {
        let r = sparse_ls_illmix(50, 4, 0.5, 1e-3, f64::MAX, Seed::new(4));
        assert!(
            matches!(&r, Err(Error::InvalidParameter { name, .. }) if *name == "noise"),
            "{r:?}"
        );
        let (_, b, _) = sparse_ls_illmix(50, 4, 0.5, 1e-3, 1e300, Seed::new(4)).unwrap();
        assert!(b.iter().all(|v| v.is_finite()) && b.iter().any(|v| v.abs() > 1e299));
    }

    #[test]
    fn declared_sizes_beyond_the_limits_are_errors() {
        let too_large = |r: Result<()>| matches!(r, Err(Error::TooLarge { .. }));
        for (n, d) in [
            (1usize << 62, 0usize),
            (usize::MAX, 0),
            (0, 1 << 40),
            (1 << 16, 1 << 16),
        ] {
            assert!(
                too_large(gaussian_matrix(n, d, Seed::new(1)).map(drop)),
                "{n}×{d}"
            );
        }
        assert!(too_large(
            coherent_matrix(1 << 62, 0, 1.0, Seed::new(1)).map(drop)
        ));
        assert!(too_large(cauchy_rows(1 << 62, 0, Seed::new(1)).map(drop)));
        assert!(too_large(
            random_sparse(1 << 40, 1, 1, Seed::new(1)).map(drop)
        ));
        assert!(too_large(
            random_sparse(usize::MAX, 1, 1, Seed::new(1)).map(drop)
        ));
        assert!(too_large(
            ls_problem(usize::MAX, usize::MAX, 1.0, 0.0, Seed::new(1)).map(drop)
        ));
        for (n, d) in [(1usize << 40, 2usize), (1, 1 << 40)] {
            let r = sparse_ls_illmix(n, d, 0.5, 1e-3, 0.0, Seed::new(1));
            assert!(too_large(r.map(drop)), "illmix {n}×{d}");
        }
    }

    #[test]
    fn square_ls_problems_have_no_residual() {
        let (a, b, x, r) = ls_problem(3, 3, 10.0, 0.0, Seed::new(2)).unwrap();
        assert_eq!((a.nrows(), a.ncols(), b.len(), x.len()), (3, 3, 3, 3));
        assert!(r.iter().all(|&v| v == 0.0));
        let ax: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|j| a[(i, j)] * x[j]).sum())
            .collect();
        assert!(ax.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-14));
        assert!(matches!(
            ls_problem(2, 2, 10.0, 0.5, Seed::new(2)),
            Err(Error::InvalidParameter { .. })
        ));
    }

    /// Rows that fill (nearly) all columns take exactly `k − 1` draws each (Floyd), not the
    /// `d·ln d ≈ 15 200` of rejection sampling at `d = k = 2000`; just below the switch
    /// (3/4 of the columns) rejection is kept, with its expected `d·ln(d/(d − k + 1))` draws.
    #[test]
    fn dense_rows_take_one_draw_per_column() {
        let mut rng = Seed::new(4).block_rng(0x9002, 0);
        let (mut cols, mut seen) = (Vec::new(), std::collections::HashSet::new());
        for (d, k) in [(2000, 2000), (2000, 1999), (2000, 1501), (100, 76)] {
            for first in [0, d / 2, d - 1] {
                let draws = draw_row_columns(&mut rng, first, d, k, &mut cols, &mut seen);
                assert_eq!(draws, k - 1, "d = {d}, k = {k}");
                assert_eq!(cols.len(), k);
                assert!(cols.windows(2).all(|w| w[0] < w[1]) && cols.contains(&first));
                assert!(cols[k - 1] < d);
            }
        }
        assert!(!dense_rows(2000, 1500) && !dense_rows(300, 200) && !dense_rows(64, 64));
    }

    #[test]
    fn long_sparse_rows_hold_distinct_sorted_columns() {
        let a = random_sparse(5, 300, 200, Seed::new(3)).unwrap();
        for (i, row) in a.outer_iterator().enumerate() {
            let cols = row.indices();
            assert_eq!(cols.len(), 200);
            assert!(cols.windows(2).all(|w| w[0] < w[1]) && cols.contains(&(i % 300)));
        }
    }
}
