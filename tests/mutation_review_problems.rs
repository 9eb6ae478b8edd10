//! Mutation review of `src/problems.rs`: the seeded test-problem generators checked against the
//! properties their docs state, measured independently (moments, counts, SVD-free identities),
//! for the behaviours the rest of the suite did not pin down (entry distributions, the 4096-row
//! stream boundary, boundary parameters that must be accepted, the noise level of `b`).

use randnla::problems::*;
use randnla::{Error, Seed};

/// Mean and (population) variance of a sample.
fn moments(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|t| (t - mean) * (t - mean)).sum::<f64>() / n;
    (mean, var)
}

/// `gaussian_matrix` promises iid standard normal entries: over 10 000 entries the sample mean
/// lies within 5 sd (`5/100`) of 0 and the sample variance within 5 sd (`5·√(2/10⁴) ≈ 0.071`) of
/// 1. A generator with a skipped or doubled scale, or a shift, fails.
#[test]
fn gaussian_matrix_entries_are_standard_normal() {
    let a = gaussian_matrix(200, 50, Seed::new(21)).unwrap();
    let v: Vec<f64> = (0..50)
        .flat_map(|j| (0..200).map(move |i| (i, j)))
        .map(|(i, j)| a[(i, j)])
        .collect();
    let (mean, var) = moments(&v);
    assert!(mean.abs() < 0.05, "mean {mean}");
    assert!((var - 1.0).abs() < 0.071, "variance {var}");
}

/// `coherent_matrix` accepts `n = d` (the doc requires only `n ≥ d`): the result is `I_d`.
#[test]
fn coherent_matrix_square_is_the_identity() {
    let a = coherent_matrix(4, 4, 0.5, Seed::new(2)).unwrap();
    for i in 0..4 {
        for j in 0..4 {
            assert_eq!(a[(i, j)], f64::from(u8::from(i == j)), "({i}, {j})");
        }
    }
}

/// `random_sparse` accepts `nnz_per_row = d` (the doc allows `1 ≤ nnz_per_row ≤ d`) and then
/// fills every row completely, on both sampling paths (rejection for short rows, Floyd's
/// algorithm for rows over 64 entries).
#[test]
fn random_sparse_full_rows_are_accepted_and_full() {
    for d in [5usize, 100] {
        let a = random_sparse(7, d, d, Seed::new(3)).unwrap();
        for row in a.outer_iterator() {
            let want: Vec<usize> = (0..d).collect();
            assert_eq!(row.indices(), &want[..], "d = {d}");
        }
    }
}

/// Checks the documented row structure of `random_sparse` (exactly `k` distinct sorted columns,
/// column `i mod d` among them) and that the `k − 1` other columns are uniform over the other
/// `d − 1`: each column's count of non-forced appearances is `Binomial`-like with mean
/// `n·(k − 1)/(d − 1)·(d − 1)/d` (a column is excluded from the draw on the `n/d` rows that force
/// it); pass rule: every count within 6 sd of that mean. Run on the rejection path (`k ≤ 64`) and
/// on Floyd's path (`k > 64`, `4k > 3d`).
#[test]
fn random_sparse_other_columns_are_uniform() {
    for (n, d, k) in [(6000usize, 10usize, 3usize), (3000, 100, 90)] {
        let a = random_sparse(n, d, k, Seed::new(17)).unwrap();
        let mut counts = vec![0usize; d];
        for (i, row) in a.outer_iterator().enumerate() {
            let c = row.indices();
            assert_eq!(c.len(), k, "row {i}");
            assert!(c.windows(2).all(|w| w[0] < w[1]), "row {i}: {c:?}");
            assert!(c.contains(&(i % d)) && c[k - 1] < d, "row {i}: {c:?}");
            for &j in c.iter().filter(|&&j| j != i % d) {
                counts[j] += 1;
            }
        }
        let rows_free = n as f64 * (d - 1) as f64 / d as f64;
        let p = (k - 1) as f64 / (d - 1) as f64;
        let (mean, sd) = (rows_free * p, (rows_free * p * (1.0 - p)).sqrt());
        for (j, &c) in counts.iter().enumerate() {
            assert!(
                (c as f64 - mean).abs() < 6.0 * sd.max(1.0),
                "{n}×{d}, k = {k}: column {j} drawn {c} times, expected {mean:.1} ± {sd:.1}"
            );
        }
    }
}

/// `random_sparse`'s values are standard normal: symmetric (fraction of negative values within
/// 5 sd of ½) with unit variance (within 5 sd).
#[test]
fn random_sparse_values_are_standard_normal() {
    let a = random_sparse(5000, 20, 2, Seed::new(8)).unwrap();
    let v = a.data();
    let neg = v.iter().filter(|t| **t < 0.0).count() as f64 / v.len() as f64;
    assert!(
        (neg - 0.5).abs() < 5.0 * (0.25 / v.len() as f64).sqrt(),
        "negative {neg}"
    );
    let var = v.iter().map(|t| t * t).sum::<f64>() / v.len() as f64;
    assert!(
        (var - 1.0).abs() < 5.0 * (2.0 / v.len() as f64).sqrt(),
        "E v² = {var}"
    );
}

/// Rows past the 4096-row stream boundary are fresh draws, not a replay of the first block: rows
/// `i` and `i + 4096` of `random_sparse` and of `sparse_ls_illmix` (its `A` and its noise) must
/// not coincide. A stream index stuck at 0 repeats every row bit for bit.
#[test]
fn rows_past_the_stream_boundary_are_fresh() {
    // d = 32 divides 4096, so rows i and i + 4096 force the same column.
    let a = random_sparse(4200, 32, 4, Seed::new(6)).unwrap();
    let same = (0..100)
        .filter(|&i| {
            let (r, s) = (a.outer_view(i).unwrap(), a.outer_view(i + 4096).unwrap());
            r.indices() == s.indices() && r.data() == s.data()
        })
        .count();
    assert_eq!(same, 0, "random_sparse rows repeat across the boundary");

    let noise = 0.5;
    let (m, b, x) = sparse_ls_illmix(4200, 6, 0.5, 1e-3, noise, Seed::new(6)).unwrap();
    let same = (0..100)
        .filter(|&i| {
            let (r, s) = (m.outer_view(i).unwrap(), m.outer_view(i + 4096).unwrap());
            !r.data().is_empty() && r.indices() == s.indices() && r.data() == s.data()
        })
        .count();
    assert_eq!(same, 0, "illmix rows repeat across the boundary");
    let resid = |i: usize| b[i] - m.outer_view(i).map(|r| r.dot(&x[..])).unwrap_or(0.0);
    let same = (0..100)
        .filter(|&i| (resid(i) - resid(i + 4096)).abs() < 1e-12)
        .count();
    assert_eq!(same, 0, "illmix noise repeats across the boundary");
}

/// `cauchy_rows`: row `i` is `c_i·g_i` with `c_i` standard Cauchy. With `d = 400`,
/// `‖row_i‖/√d = |c_i|·‖g_i‖/√d` estimates `|c_i|` within a few percent, so the fraction of rows
/// with estimate above 1 is `P(|C| > 1) = ½` and above 10 is `1 − (2/π)·atan 10 ≈ 0.0635`; pass
/// rule: both within 5 binomial sd (2000 rows). A scale shared by all rows, a bounded `c`
/// (`tan` over half the period) or no scaling fails.
#[test]
fn cauchy_rows_scales_are_standard_cauchy() {
    let (n, d) = (2000usize, 400usize);
    let a = cauchy_rows(n, d, Seed::new(31)).unwrap();
    let est: Vec<f64> = (0..n)
        .map(|i| ((0..d).map(|j| a[(i, j)] * a[(i, j)]).sum::<f64>() / d as f64).sqrt())
        .collect();
    let frac = |t: f64| est.iter().filter(|e| **e > t).count() as f64 / n as f64;
    for (t, p) in [
        (1.0, 0.5),
        (10.0, 1.0 - 2.0 / std::f64::consts::PI * 10f64.atan()),
    ] {
        let sd = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (frac(t) - p).abs() < 5.0 * sd,
            "fraction above {t}: {} vs {p}",
            frac(t)
        );
    }
}

/// `ls_problem` with `d = 1`: `A` is a single unit column whatever `cond` (the doc says `cond` has
/// no effect), `r` of the requested norm orthogonal to it, `b = A·x + r`, `|x| = 1`.
#[test]
fn ls_problem_single_column_ignores_cond() {
    let (n, rho) = (20, 0.25);
    for cond in [1.0, 1e6] {
        let (a, b, x, r) = ls_problem(n, 1, cond, rho, Seed::new(4)).unwrap();
        let norm = (0..n).map(|i| a[(i, 0)] * a[(i, 0)]).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-14, "cond {cond:e}: ‖a‖ = {norm}");
        assert!((x[0].abs() - 1.0).abs() < 1e-15);
        let rn = r.iter().map(|t| t * t).sum::<f64>().sqrt();
        assert!((rn - rho).abs() < 1e-14, "‖r‖ = {rn}");
        let atr: f64 = (0..n).map(|i| a[(i, 0)] * r[i]).sum();
        assert!(atr.abs() < 1e-15, "aᵀr = {atr:e}");
        for i in 0..n {
            assert!((b[i] - a[(i, 0)] * x[0] - r[i]).abs() < 1e-15, "row {i}");
        }
    }
}

/// `ls_problem` refuses an infinite `residual_norm` (the doc: "a negative/non-finite
/// `residual_norm`") by naming it, instead of returning an `r` of ±∞/NaN.
#[test]
fn ls_problem_refuses_an_infinite_residual() {
    let r = ls_problem(10, 3, 10.0, f64::INFINITY, Seed::new(1));
    assert!(
        matches!(&r, Err(Error::InvalidParameter { name, .. }) if *name == "residual_norm"),
        "{:?}",
        r.map(drop)
    );
}

/// `sparse_ls_illmix` accepts the closed ends of its ranges, `delta_min = 1` and `density = 1`
/// (the doc: `(0, 1]`); at `delta_min = 1` every `δ_k = 1`, so column `2k+1 − 2k` is the
/// independent column exactly (here checked at density 1 for a dense `B`: no entry missing).
#[test]
fn illmix_accepts_delta_min_one() {
    let (n, d) = (50, 4);
    let (a, b, x) = sparse_ls_illmix(n, d, 1.0, 1.0, 0.0, Seed::new(9)).unwrap();
    assert_eq!(a.nnz(), n * d);
    assert_eq!((b.len(), x.len()), (n, d));
}

/// `sparse_ls_illmix` with odd `d`: the last column is a plain Bernoulli(`density`) column of
/// standard normals, stored on about `density·n` rows (pass rule: within 5 binomial sd), and each
/// even column `2k` (a column of `B`) likewise — so the geometric skips give every column the
/// stated density, the first included.
#[test]
fn illmix_columns_of_b_have_the_stated_density() {
    let (n, d, density) = (4000usize, 5usize, 0.3);
    let (a, _, _) = sparse_ls_illmix(n, d, density, 1e-3, 0.0, Seed::new(12)).unwrap();
    let mut counts = vec![0usize; d];
    for row in a.outer_iterator() {
        for &j in row.indices() {
            counts[j] += 1;
        }
    }
    let sd = (n as f64 * density * (1.0 - density)).sqrt();
    for j in [0, 2, 4] {
        assert!(
            (counts[j] as f64 - n as f64 * density).abs() < 5.0 * sd,
            "column {j}: {} entries, expected {}",
            counts[j],
            n as f64 * density
        );
    }
}

/// `b = A·x_star + noise·N(0, I)`: the sample standard deviation of `b − A·x_star` over 5000 rows
/// is `noise` within 5 sd (`5·noise/√(2·5000) = 5 %`), for `noise` below and above 1.
#[test]
fn illmix_noise_has_the_requested_level() {
    let n = 5000;
    for noise in [0.1, 3.0] {
        let (a, b, x) = sparse_ls_illmix(n, 6, 0.4, 1e-3, noise, Seed::new(14)).unwrap();
        let e: Vec<f64> = (0..n)
            .map(|i| b[i] - a.outer_view(i).map(|r| r.dot(&x[..])).unwrap_or(0.0))
            .collect();
        let (mean, var) = moments(&e);
        assert!(mean.abs() < 5.0 * noise / (n as f64).sqrt(), "mean {mean}");
        assert!(
            (var.sqrt() / noise - 1.0).abs() < 0.05,
            "noise {noise}: sd {}",
            var.sqrt()
        );
    }
}
