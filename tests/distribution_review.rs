//! Distribution review: does every random object have the distribution its documentation and
//! the literature give it? Each test states its pass rule in its doc comment; the rules were set
//! from theory before any result was seen and none was widened afterwards. Seeds are fixed, so
//! every test is deterministic; the rules are chosen so that a *correct* implementation would
//! fail with negligible probability over the choice of seeds:
//!
//! * a z-test passes at `|z| ≤ 5` (two-sided false-alarm probability 5.7·10⁻⁷ per statistic);
//! * a chi-square statistic with `k` degrees of freedom passes below its upper `10⁻⁶` quantile,
//!   computed by the Wilson–Hilferty approximation
//!   `k·(1 − 2/(9k) + 4.7534·√(2/(9k)))³` (`4.7534 = Φ⁻¹(1 − 10⁻⁶)`; for `k ≤ 2` this is above
//!   the exact quantile — 27.5 against 23.9 at `k = 1` — so the rule is conservative there);
//!   2×2 contingency tables (1 degree of freedom) use the exact `4.892² = 23.93`;
//! * a Kolmogorov–Smirnov statistic passes at `√N·D ≤ 2.6934`, the asymptotic `10⁻⁶` quantile of
//!   the Kolmogorov distribution (`2·e^{−2t²} = 10⁻⁶`).
//!
//! What is already covered elsewhere and not repeated: `E‖Sx‖² = ‖x‖²` at `m = 16`
//! (`tests/sketch_core.rs`), `Var‖Sx‖²` for `s = 1, 2, 8, 16` at `m = 16`
//! (`tests/sketch_review2.rs`; here other code paths of the sparse sign generator are
//! exercised), sampling's diagonal `E[SᵀS]` on one weight vector
//! (`tests/sampling_diagnostics_review.rs`), TensorSketch / tree unbiasedness and the
//! Avron–Nguyễn–Woodruff bound (`tests/tensor_sketch*.rs`).

use crate::common;

use faer::{Mat, Par};
use randnla::attention::{FeatureMap, PolySketch};
use randnla::sketch::sampling::RowSampling;
use randnla::sketch::tensor::{
    PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
};
use randnla::sketch::{CountSketch, Gaussian, SketchExt, SketchOperator, SparseSign, Srht};
use randnla::Seed;

// ---------------------------------------------------------------------------------------------
// Statistics helpers.
// ---------------------------------------------------------------------------------------------

/// `Φ⁻¹(1 − 10⁻⁶)`.
const Z_1E6: f64 = 4.753_424;
/// The z-test bound.
const Z_MAX: f64 = 5.0;
/// Upper `10⁻⁶` quantile of χ²(1): `Φ⁻¹(1 − 5·10⁻⁷)²`.
const CHI2_1DF: f64 = 23.93;
/// Asymptotic upper `10⁻⁶` quantile of `√N·D` (Kolmogorov): `√(ln(2·10⁶)/2)`.
const KS_CRIT: f64 = 2.6934;

/// Upper `10⁻⁶` quantile of χ²(`df`), Wilson–Hilferty.
fn chi2_crit(df: usize) -> f64 {
    let k = df as f64;
    let a = 2.0 / (9.0 * k);
    k * (1.0 - a + Z_1E6 * a.sqrt()).powi(3)
}

/// Mean and sample variance.
fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// z of the sample mean of `v` against `want`, with the sample standard error.
fn z_mean(v: &[f64], want: f64) -> f64 {
    let (mean, se) = common::mean_se(v);
    (mean - want) / se
}

/// Sample variance, its standard error `√((μ̂₄ − V̂²)/N)` and the standard error of `ln V̂`.
fn var_se(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let (mean, var) = mean_var(v);
    let mu4 = v.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    let se = ((mu4 - var * var) / n).sqrt();
    (var, se, se / var)
}

/// z of a binomial count: `hits` successes in `trials` with probability `p`.
fn z_binom(hits: u64, trials: u64, p: f64) -> f64 {
    let (h, t) = (hits as f64, trials as f64);
    (h - t * p) / (t * p * (1.0 - p)).sqrt()
}

/// Pearson correlation times `√N`: approximately `N(0, 1)` for independent samples.
fn corr_z(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, va) = mean_var(a);
    let (mb, vb) = mean_var(b);
    let cov = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / (n - 1.0);
    cov / (va * vb).sqrt() * n.sqrt()
}

/// Pearson chi-square of `observed` counts against `expected` counts.
fn pearson(observed: &[u64], expected: &[f64]) -> f64 {
    observed
        .iter()
        .zip(expected)
        .map(|(&o, &e)| (o as f64 - e).powi(2) / e)
        .sum()
}

/// Chi-square of a 2×2 table `[[a, b], [c, d]]` (no continuity correction).
fn chi2_2x2(t: [[u64; 2]; 2]) -> f64 {
    let n = (t[0][0] + t[0][1] + t[1][0] + t[1][1]) as f64;
    let rows = [(t[0][0] + t[0][1]) as f64, (t[1][0] + t[1][1]) as f64];
    let cols = [(t[0][0] + t[1][0]) as f64, (t[0][1] + t[1][1]) as f64];
    let mut x = 0.0;
    for i in 0..2 {
        for j in 0..2 {
            let e = rows[i] * cols[j] / n;
            x += (t[i][j] as f64 - e).powi(2) / e;
        }
    }
    x
}

/// `erfc`, Numerical Recipes' Chebyshev fit (relative error below 1.2·10⁻⁷, far below the
/// KS critical distances of order 10⁻²).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The standard normal CDF.
fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// `√N · D` of the one-sample KS test of `v` against the standard normal.
fn ks_normal(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in v.iter().enumerate() {
        let f = phi(x);
        d = d.max((i as f64 + 1.0) / n - f).max(f - i as f64 / n);
    }
    d * n.sqrt()
}

/// Moments of a sample that should be `N(0, 1)`: `(z of the mean, z of the variance against 1,
/// z of the kurtosis against 3, √N·D of KS)`. The standard errors are the normal theory ones:
/// `1/√N`, `√(2/N)`, `√(24/N)`.
fn normal_checks(v: &mut [f64]) -> [f64; 4] {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let m2 = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m4 = v.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    let kurt = m4 / (m2 * m2);
    [
        mean * n.sqrt(),
        (m2 - 1.0) / (2.0 / n).sqrt(),
        (kurt - 3.0) / (24.0 / n).sqrt(),
        ks_normal(v),
    ]
}

/// A family of dense sketches by seed, with its name and `n`.
type DenseFamily = (&'static str, usize, Box<dyn Fn(u64) -> Mat<f64>>);
/// A family of sketched vectors by seed, with its name and predicted variance.
type VecFamily = (String, f64, Box<dyn Fn(u64) -> Vec<f64>>);
/// A named pair of hashes `(bucket, sign)` over the same indices.
type HashPair = (String, Vec<(usize, f64)>, Vec<(usize, f64)>);

fn dense<S: SketchOperator<f64> + ?Sized>(s: &S) -> Mat<f64> {
    s.to_dense().unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. Unbiasedness: E[SᵀS] = I entrywise, E‖Sx‖² = ‖x‖².
// ---------------------------------------------------------------------------------------------

/// The families of angle 1, as dense `S`, for seed `k`: `m = 11` (not a power of two), `n = 13`
/// (the SRHT pads to 16 and takes its bitmap path; the second SRHT, `m = 2, n = 100`, takes the
/// hash-set path of its row selection); sampling weights with one row of `m·p ≥ 1` (Bernoulli
/// keeps it always).
fn unbiasedness_families() -> Vec<DenseFamily> {
    let (m, n) = (11usize, 13usize);
    let w: Vec<f64> = (0..n)
        .map(|i| if i == 0 { 20.0 } else { (1 + (i % 4)) as f64 })
        .collect();
    let w2 = w.clone();
    vec![
        (
            "count",
            n,
            Box::new(move |k| dense(&CountSketch::new(m, n, Seed::new(k)).unwrap())),
        ),
        (
            "sparse s=1",
            n,
            Box::new(move |k| dense(&SparseSign::new(m, n, 1, Seed::new(k)).unwrap())),
        ),
        (
            "sparse s=2",
            n,
            Box::new(move |k| dense(&SparseSign::new(m, n, 2, Seed::new(k)).unwrap())),
        ),
        (
            "sparse s=8",
            n,
            Box::new(move |k| dense(&SparseSign::new(m, n, 8, Seed::new(k)).unwrap())),
        ),
        (
            "gaussian",
            n,
            Box::new(move |k| dense(&Gaussian::new(m, n, Seed::new(k)).unwrap())),
        ),
        (
            "srht (bitmap)",
            n,
            Box::new(move |k| dense(&Srht::new(m, n, Seed::new(k)).unwrap())),
        ),
        (
            "srht (hash set)",
            100,
            Box::new(move |k| dense(&Srht::new(2, 100, Seed::new(k)).unwrap())),
        ),
        (
            "uniform sampling",
            n,
            Box::new(move |k| dense(&RowSampling::uniform(n, m, Seed::new(k)).unwrap())),
        ),
        (
            "with replacement",
            n,
            Box::new(move |k| dense(&RowSampling::with_replacement(&w, m, Seed::new(k)).unwrap())),
        ),
        (
            "bernoulli",
            n,
            Box::new(move |k| dense(&RowSampling::bernoulli(&w2, m, Seed::new(k)).unwrap())),
        ),
    ]
}

/// `E[SᵀS] = I` entrywise and `E‖Sx‖² = ‖x‖²` for CountSketch, sparse sign `s = 1, 2, 8`,
/// Gaussian, SRHT (both row-selection paths) and row sampling (uniform, with replacement,
/// Bernoulli), over 3000 seeds each.
///
/// Pass rule: every entry of the sample mean of `SᵀS` is within 5 sample standard errors of
/// `δ_ij`; an entry with zero sample variance (the diagonal of the sparse sketches and the SRHT,
/// `‖Se_i‖² = 1` exactly; the off-diagonal of sampling) must equal `δ_ij` to `10⁻¹²`. The mean of
/// `‖Sx‖²` is within 5 standard errors of `‖x‖²`.
#[test]
fn gram_matrix_is_the_identity_in_expectation() {
    let seeds = 3000u64;
    for (f, (name, n, draw)) in unbiasedness_families().into_iter().enumerate() {
        let x: Vec<f64> = (0..n).map(|i| ((i * 7 % 5) as f64 - 2.0) + 0.5).collect();
        let norm2: f64 = x.iter().map(|v| v * v).sum();
        let mut s1 = vec![0.0f64; n * n];
        let mut s2 = vec![0.0f64; n * n];
        let mut sq = Vec::with_capacity(seeds as usize);
        for k in 0..seeds {
            let s = draw(10_000_000 * (f as u64 + 1) + k);
            let g = s.transpose() * &s;
            for j in 0..n {
                for i in 0..n {
                    let v = g[(i, j)];
                    s1[i + n * j] += v;
                    s2[i + n * j] += v * v;
                }
            }
            let sx: f64 = (0..s.nrows())
                .map(|r| (0..n).map(|c| s[(r, c)] * x[c]).sum::<f64>().powi(2))
                .sum();
            sq.push(sx);
        }
        let nn = seeds as f64;
        let mut worst: f64 = 0.0;
        for j in 0..n {
            for i in 0..n {
                let want = if i == j { 1.0 } else { 0.0 };
                let mean = s1[i + n * j] / nn;
                let var = ((s2[i + n * j] / nn - mean * mean) * nn / (nn - 1.0)).max(0.0);
                if var <= 1e-24 {
                    assert!(
                        (mean - want).abs() <= 1e-12,
                        "{name}: E[SᵀS]({i},{j}) = {mean} with no variance, want {want}"
                    );
                    continue;
                }
                let z = (mean - want) / (var / nn).sqrt();
                worst = worst.max(z.abs());
                assert!(
                    z.abs() <= Z_MAX,
                    "{name}: E[SᵀS]({i},{j}) = {mean}, want {want}, z = {z:.2}"
                );
            }
        }
        let zn = z_mean(&sq, norm2);
        eprintln!("{name}: max |z| over E[SᵀS] entries {worst:.2}, E‖Sx‖² z = {zn:.2}");
        assert!(zn.abs() <= Z_MAX, "{name}: E‖Sx‖² z = {zn:.2}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Second moments.
// ---------------------------------------------------------------------------------------------

/// `Var‖Sx‖²` against theory on every code path of the sparse sign generator.
///
/// Theory (OSNAP with exactly `s` distinct rows per column, fair independent signs, columns
/// independent; the computation behind the second-moment bounds of Kane–Nelson, "Sparser
/// Johnson–Lindenstrauss transforms", J. ACM 2014, and Cohen, "Nearly tight oblivious subspace
/// embeddings by trace inequalities", SODA 2016): `‖Se_i‖² = 1` exactly, so
/// `‖Sx‖² − ‖x‖² = Σ_{i≠j} xᵢxⱼZᵢⱼ` with `Zᵢⱼ = ⟨Seᵢ, Seⱼ⟩ = (1/s)Σ_{r∈Rᵢ∩Rⱼ} σᵢᵣσⱼᵣ`. The signs
/// kill every cross term except `{k,l} = {i,j}`, and `E Zᵢⱼ² = E|Rᵢ ∩ Rⱼ|/s² = (s²/m)/s² = 1/m`,
/// hence `Var‖Sx‖² = (2/m)(‖x‖⁴ − ‖x‖₄⁴)` for every `s` (CountSketch is `s = 1`). Sampling rows
/// *with* replacement would make `‖Seᵢ‖²` random and the variance larger. Gaussian:
/// `‖Sx‖² = ‖x‖²χ²_m/m`, `Var = 2‖x‖⁴/m`.
///
/// Here `m = 97` (prime) and `s ∈ {1, 2, 3, 4, 8, 16, 64, 65, 80}`: the `s = 1` shortcut, the
/// fixed-length loops (2, 4, 8), the generic linear search (3, 16, 64) and the hash set (65, 80).
/// Pass rule: over 3000 seeds per family, the sample variance is within 5 standard errors
/// (`√((μ̂₄ − V̂²)/N)`) of the formula.
#[test]
fn variance_of_the_squared_norm_matches_theory_on_every_generator_path() {
    let (m, n, seeds) = (97usize, 150usize, 3000u64);
    let x: Vec<f64> = (0..n)
        .map(|i| match i {
            0 => 12.0,
            1 => -9.0,
            _ => ((i * 53 % 29) as f64 - 14.0) / 7.0,
        })
        .collect();
    let norm2: f64 = x.iter().map(|v| v * v).sum();
    let sum4: f64 = x.iter().map(|v| v.powi(4)).sum();
    let osnap = 2.0 / m as f64 * (norm2 * norm2 - sum4);
    let gauss = 2.0 / m as f64 * norm2 * norm2;
    let mut families: Vec<VecFamily> = Vec::new();
    for s in [1usize, 2, 3, 4, 8, 16, 64, 65, 80] {
        let x = x.clone();
        families.push((
            format!("sparse s={s}"),
            osnap,
            Box::new(move |k| {
                SparseSign::new(m, n, s, Seed::new(k))
                    .unwrap()
                    .apply_vec(&x)
                    .unwrap()
            }),
        ));
    }
    let xc = x.clone();
    families.push((
        "count".into(),
        osnap,
        Box::new(move |k| {
            CountSketch::new(m, n, Seed::new(k))
                .unwrap()
                .apply_vec(&xc)
                .unwrap()
        }),
    ));
    families.push((
        "gaussian".into(),
        gauss,
        Box::new(move |k| {
            Gaussian::new(m, n, Seed::new(k))
                .unwrap()
                .apply_vec(&x)
                .unwrap()
        }),
    ));
    for (f, (name, want, apply)) in families.into_iter().enumerate() {
        let y: Vec<f64> = (0..seeds)
            .map(|k| {
                apply(20_000_000 + 100_000 * f as u64 + k)
                    .iter()
                    .map(|v| v * v)
                    .sum()
            })
            .collect();
        let (var, se, _) = var_se(&y);
        let z = (var - want) / se;
        eprintln!("{name}: Var‖Sx‖² = {var:.1}, theory {want:.1}, z = {z:.2}");
        assert!(z.abs() <= Z_MAX, "{name}: Var {var} vs {want}, z = {z:.2}");
        let zm = z_mean(&y, norm2);
        assert!(zm.abs() <= Z_MAX, "{name}: E‖Sx‖² z = {zm:.2}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Structure of the sparse sketches.
// ---------------------------------------------------------------------------------------------

/// Sparse sign columns: exactly `s` distinct rows in `0..m`, values exactly `±1/√s`; signs fair
/// (overall and at every position `t` of the column), row hits uniform over `0..m`, signs
/// independent of the row.
///
/// The row-hit counts over `n` columns are sums of independent uniform `s`-subsets: each count is
/// `Bin(n, s/m)` and their covariance is `c·(I − J/m)`, the multinomial's shape, so
/// `X = (m−1)/(m−s) · Σ(O−E)²/E` is asymptotically `χ²(m − 1)`.
/// Pass rules: the structure exactly; sign counts `|z| ≤ 5` (binomial, `p = 1/2`); `X` below the
/// `10⁻⁶` quantile of `χ²(m−1)` (`s < m`); the 2×2 table (row in the lower half of `0..m`, sign)
/// below 23.93.
#[test]
fn sparse_sign_columns_are_uniform_subsets_with_fair_signs() {
    for (m, s, n) in [
        (7usize, 1usize, 20_000usize),
        (7, 2, 20_000),
        (7, 3, 20_000),
        (7, 7, 2_000),
        (11, 4, 20_000),
        (20, 8, 20_000),
        (100, 16, 20_000),
        (97, 64, 10_000),
        (97, 65, 10_000),
        (1000, 100, 10_000),
    ] {
        let op = SparseSign::new(m, n, s, Seed::new(31 + m as u64 * 1000 + s as u64)).unwrap();
        let scale = 1.0 / (s as f64).sqrt();
        let mut hits = vec![0u64; m];
        let mut pos_at = vec![0u64; s];
        let mut table = [[0u64; 2]; 2];
        for j in 0..n {
            let col = op.column(j).unwrap();
            assert_eq!(col.len(), s);
            let mut rows: Vec<usize> = col.iter().map(|&(r, _)| r).collect();
            rows.sort_unstable();
            rows.dedup();
            assert_eq!(rows.len(), s, "m={m} s={s} column {j}: repeated rows");
            for (t, &(r, v)) in col.iter().enumerate() {
                assert!(r < m);
                assert!(v == scale || v == -scale, "value {v}");
                hits[r] += 1;
                let positive = v > 0.0;
                pos_at[t] += positive as u64;
                table[(r < m / 2) as usize][positive as usize] += 1;
            }
        }
        let total_pos: u64 = pos_at.iter().sum();
        let z = z_binom(total_pos, (n * s) as u64, 0.5);
        assert!(z.abs() <= Z_MAX, "m={m} s={s}: sign balance z = {z:.2}");
        let worst_t = pos_at
            .iter()
            .map(|&c| z_binom(c, n as u64, 0.5).abs())
            .fold(0.0, f64::max);
        assert!(
            worst_t <= Z_MAX,
            "m={m} s={s}: a sign position has |z| = {worst_t:.2}"
        );
        let x2 = chi2_2x2(table);
        assert!(x2 <= CHI2_1DF, "m={m} s={s}: sign vs row χ² = {x2:.2}");
        if s < m {
            let e = (n * s) as f64 / m as f64;
            let x = pearson(&hits, &vec![e; m]) * (m - 1) as f64 / (m - s) as f64;
            let crit = chi2_crit(m - 1);
            eprintln!(
                "m={m} s={s}: sign z {z:.2}, worst position {worst_t:.2}, sign×row χ² {x2:.2}, \
                 row hits χ² {x:.1} (df {}, crit {crit:.1})",
                m - 1
            );
            assert!(x <= crit, "m={m} s={s}: row hits χ² = {x:.1} > {crit:.1}");
        } else {
            assert!(hits.iter().all(|&h| h == n as u64));
        }
    }
}

/// Hypergeometric pmf `P(|R ∩ R'| = k)` for two uniform `s`-subsets of `0..m`.
fn hypergeometric(m: usize, s: usize) -> Vec<f64> {
    let ln_choose = |a: usize, b: usize| -> f64 {
        if b > a {
            return f64::NEG_INFINITY;
        }
        (1..=b).map(|i| ((a - b + i) as f64 / i as f64).ln()).sum()
    };
    (0..=s)
        .map(|k| {
            if s - k > m - s {
                return 0.0;
            }
            (ln_choose(s, k) + ln_choose(m - s, s - k) - ln_choose(m, s)).exp()
        })
        .collect()
}

/// The overlap `|Rⱼ ∩ Rⱼ₊δ|` of the row sets of two columns of one sparse sign sketch is
/// hypergeometric (two independent uniform `s`-subsets of `0..m`): this is what makes
/// `E Zᵢⱼ² = 1/m`, and it sees dependence between neighbouring columns (`δ = 1`) and between
/// columns whose keys differ in one high bit (`δ = 1024`), which a per-column test cannot.
/// Signs on the shared rows agree with probability 1/2.
/// Pass rule: chi-square over the overlap values, tail values pooled until every expected count
/// is at least 5, below the `10⁻⁶` quantile (df = cells − 1); the agreement count `|z| ≤ 5`.
#[test]
fn column_pairs_overlap_hypergeometrically() {
    for (m, s) in [(7usize, 3usize), (20, 8), (30, 16), (150, 80)] {
        let pairs = 20_000usize;
        for delta in [1usize, 1024] {
            let n = pairs + delta;
            let op = SparseSign::new(m, n, s, Seed::new(4242 + m as u64)).unwrap();
            let pmf = hypergeometric(m, s);
            let mut counts = vec![0u64; s + 1];
            let (mut shared, mut agree) = (0u64, 0u64);
            let cols: Vec<Vec<(usize, f64)>> = (0..n).map(|j| op.column(j).unwrap()).collect();
            for j in 0..pairs {
                let mut k = 0;
                for &(r, v) in &cols[j] {
                    if let Some(&(_, w)) = cols[j + delta].iter().find(|&&(r2, _)| r2 == r) {
                        k += 1;
                        shared += 1;
                        agree += (v == w) as u64;
                    }
                }
                counts[k] += 1;
            }
            // Pool cells from both ends until each expected count is at least 5.
            let mut obs = Vec::new();
            let mut exp = Vec::new();
            let (mut o, mut e) = (0u64, 0.0);
            for k in 0..=s {
                o += counts[k];
                e += pmf[k] * pairs as f64;
                if e >= 5.0 {
                    obs.push(o);
                    exp.push(e);
                    o = 0;
                    e = 0.0;
                }
            }
            if let (Some(lo), Some(le)) = (obs.last_mut(), exp.last_mut()) {
                *lo += o;
                *le += e;
            }
            let x = pearson(&obs, &exp);
            let crit = chi2_crit(obs.len() - 1);
            let z = z_binom(agree, shared, 0.5);
            eprintln!(
                "m={m} s={s} δ={delta}: overlap χ² {x:.1} (df {}, crit {crit:.1}), sign agreement z {z:.2}",
                obs.len() - 1
            );
            assert!(x <= crit, "m={m} s={s} δ={delta}: overlap χ² {x:.1}");
            assert!(
                z.abs() <= Z_MAX,
                "m={m} s={s} δ={delta}: sign agreement z {z:.2}"
            );
        }
    }
}

/// CountSketch's hash is uniform over `0..m` for awkward `m` (3, 7, 1000, 2²⁰ + 7 and the
/// prime 1 000 003), its sign is fair and independent of the hash.
///
/// A modulo reduction of a 32-bit word would favour low buckets by up to `m/2³²` relatively
/// (2.3·10⁻⁴ at `m = 10⁶`); the crate uses Lemire's multiply-shift on 64-bit words (bias at most
/// `m/2⁶⁴`, `seed::below`), undetectable at any feasible `n` — so beyond the full chi-square
/// the test also folds the buckets into 10 contiguous ranges (sensitive to a low/high trend) and
/// checks the parity of the bucket (sensitive to a power-of-two artefact).
/// Pass rules: the chi-square over all `m` buckets (`n = max(30m, 6·10⁴)`, `n = 5m` for the two
/// large `m`) below the `10⁻⁶` quantile of `χ²(m − 1)`; the 10-range chi-square below that of
/// `χ²(9)`; sign balance `|z| ≤ 5`; 2×2 tables (sign × lower half, sign × parity) below 23.93.
#[test]
fn count_sketch_hash_is_uniform_and_signs_are_independent_of_it() {
    for m in [3usize, 7, 1000, (1 << 20) + 7, 1_000_003] {
        let n = if m > 10_000 {
            5 * m
        } else {
            (30 * m).max(60_000)
        };
        let op = CountSketch::new(m, n, Seed::new(777 + m as u64)).unwrap();
        let mut hits = vec![0u32; m];
        let mut ranges = [0u64; 10];
        let mut half = [[0u64; 2]; 2];
        let mut parity = [[0u64; 2]; 2];
        let mut pos = 0u64;
        for j in 0..n {
            let (h, sgn) = op.bucket(j).unwrap();
            assert!(h < m && (sgn == 1.0 || sgn == -1.0));
            hits[h] += 1;
            ranges[h * 10 / m] += 1;
            let p = (sgn > 0.0) as usize;
            pos += p as u64;
            half[(h < m / 2) as usize][p] += 1;
            parity[h % 2][p] += 1;
        }
        let e = n as f64 / m as f64;
        let x: f64 = hits.iter().map(|&o| (o as f64 - e).powi(2) / e).sum();
        let crit = chi2_crit(m - 1);
        let range_exp: Vec<f64> = (0..10)
            .map(|r| {
                let size = (0..m).filter(|&h| h * 10 / m == r).count();
                n as f64 * size as f64 / m as f64
            })
            .collect();
        let (ranges, range_exp): (Vec<u64>, Vec<f64>) = ranges
            .iter()
            .zip(&range_exp)
            .filter(|(_, &e)| e > 0.0)
            .map(|(&o, &e)| (o, e))
            .unzip();
        let xr = pearson(&ranges, &range_exp);
        let cr = chi2_crit(ranges.len() - 1);
        let z = z_binom(pos, n as u64, 0.5);
        let (xh, xp) = (chi2_2x2(half), chi2_2x2(parity));
        eprintln!(
            "m={m}: bucket χ² {x:.1} (crit {crit:.1}), ranges χ² {xr:.2} (crit {cr:.1}), sign z {z:.2}, \
             sign×half χ² {xh:.2}, sign×parity χ² {xp:.2}"
        );
        assert!(x <= crit, "m={m}: bucket χ² {x:.1} > {crit:.1}");
        assert!(xr <= cr, "m={m}: range χ² {xr:.2} > {cr:.1}");
        assert!(z.abs() <= Z_MAX, "m={m}: sign z {z:.2}");
        assert!(xh <= CHI2_1DF && xp <= CHI2_1DF, "m={m}: {xh} {xp}");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Independence across seeds, streams and columns.
// ---------------------------------------------------------------------------------------------

/// Agreement of two hashes `h, h'` on `n` indices; `P(h(j) = h'(j)) = 1/m` and `P(σ = σ') = 1/2`
/// when independent. Returns the two z's.
fn agreement_z(a: &[(usize, f64)], b: &[(usize, f64)], m: usize) -> (f64, f64) {
    let n = a.len() as u64;
    let same_h = a.iter().zip(b).filter(|(x, y)| x.0 == y.0).count() as u64;
    let same_s = a.iter().zip(b).filter(|(x, y)| x.1 == y.1).count() as u64;
    (z_binom(same_h, n, 1.0 / m as f64), z_binom(same_s, n, 0.5))
}

fn count_hash(m: usize, n: usize, seed: Seed) -> Vec<(usize, f64)> {
    let op = CountSketch::new(m, n, seed).unwrap();
    (0..n).map(|j| op.bucket(j).unwrap()).collect()
}

/// Independence of CountSketch hashes across adjacent seeds (`k`, `k + 1`), across sub-seeds
/// (`derive(i)`, `derive(i + 1)`, and the root against `derive(0)`), across adjacent columns
/// (`j`, `j + 1`), and across the modes of one TensorSketch (documented as independent
/// CountSketches from `seed.derive(0x50·2³² + k)`).
///
/// Pass rule: for every pair, over `n = 50 000` indices (`m = 7`), the number of equal buckets is
/// within 5 binomial standard errors of `n/m` and the number of equal signs within 5 of `n/2`.
#[test]
fn count_sketch_hashes_are_independent_across_seeds_streams_columns_and_modes() {
    let (m, n) = (7usize, 50_000usize);
    let mut pairs: Vec<HashPair> = Vec::new();
    for k in [0u64, 1, 41, u64::MAX - 1] {
        pairs.push((
            format!("seed {k} vs {}", k.wrapping_add(1)),
            count_hash(m, n, Seed::new(k)),
            count_hash(m, n, Seed::new(k.wrapping_add(1))),
        ));
    }
    let root = Seed::new(99);
    for i in [0u64, 1, 0x50 << 32] {
        pairs.push((
            format!("derive({i}) vs derive({})", i + 1),
            count_hash(m, n, root.derive(i)),
            count_hash(m, n, root.derive(i + 1)),
        ));
    }
    pairs.push((
        "root vs derive(0)".into(),
        count_hash(m, n, root),
        count_hash(m, n, root.derive(0)),
    ));
    let h = count_hash(m, n + 1, Seed::new(5));
    pairs.push(("column j vs j+1".into(), h[..n].to_vec(), h[1..].to_vec()));
    let ts = TensorSketch::new(3, n, m, Seed::new(6)).unwrap();
    let mode =
        |k: usize| -> Vec<(usize, f64)> { (0..n).map(|i| ts.mode_bucket(k, i).unwrap()).collect() };
    pairs.push(("TensorSketch mode 0 vs 1".into(), mode(0), mode(1)));
    pairs.push(("TensorSketch mode 1 vs 2".into(), mode(1), mode(2)));
    for (what, a, b) in pairs {
        let (zh, zs) = agreement_z(&a, &b, m);
        eprintln!("{what}: bucket agreement z {zh:.2}, sign agreement z {zs:.2}");
        assert!(
            zh.abs() <= Z_MAX && zs.abs() <= Z_MAX,
            "{what}: bucket z {zh:.2}, sign z {zs:.2}"
        );
    }
}

/// Independence of Gaussian sketch entries across adjacent seeds, adjacent columns (inside a
/// generation block of 64 columns and across its boundary), and generation blocks.
///
/// Pass rule: the Pearson correlation of the paired entries times `√N` (`N(0, 1)` under
/// independence) is at most 5 in absolute value, for every pairing.
#[test]
fn gaussian_entries_are_uncorrelated_across_seeds_columns_and_blocks() {
    let (m, n) = (16usize, 4096usize);
    let a = dense(&Gaussian::new(m, n, Seed::new(12)).unwrap());
    let b = dense(&Gaussian::new(m, n, Seed::new(13)).unwrap());
    let flat = |s: &Mat<f64>, cols: &mut dyn Iterator<Item = usize>| -> Vec<f64> {
        cols.flat_map(|j| (0..m).map(move |i| (i, j)))
            .map(|(i, j)| s[(i, j)])
            .collect()
    };
    let checks: Vec<(&str, Vec<f64>, Vec<f64>)> = vec![
        (
            "seed 12 vs 13",
            flat(&a, &mut (0..n)),
            flat(&b, &mut (0..n)),
        ),
        (
            "column j vs j+1 (within blocks)",
            flat(&a, &mut (0..n - 1).filter(|j| j % 64 != 63)),
            flat(&a, &mut (1..n).filter(|j| j % 64 != 0)),
        ),
        (
            "column 64g−1 vs 64g (block boundary)",
            flat(&a, &mut (1..n / 64).map(|g| 64 * g - 1)),
            flat(&a, &mut (1..n / 64).map(|g| 64 * g)),
        ),
        (
            "block g vs g+1, same offset",
            flat(&a, &mut (0..n - 64)),
            flat(&a, &mut (64..n)),
        ),
        (
            "row i vs i+1",
            (0..n)
                .flat_map(|j| (0..m - 1).map(move |i| (i, j)))
                .map(|(i, j)| a[(i, j)])
                .collect(),
            (0..n)
                .flat_map(|j| (1..m).map(move |i| (i, j)))
                .map(|(i, j)| a[(i, j)])
                .collect(),
        ),
    ];
    for (what, x, y) in checks {
        let z = corr_z(&x, &y);
        // Squares too: a dependence in magnitude (a shared scale) is invisible to the plain
        // correlation of symmetric variables.
        let x2: Vec<f64> = x.iter().map(|v| v * v).collect();
        let y2: Vec<f64> = y.iter().map(|v| v * v).collect();
        let z2 = corr_z(&x2, &y2);
        eprintln!(
            "gaussian {what}: corr·√N {z:.2}, of squares {z2:.2} (N = {})",
            x.len()
        );
        assert!(
            z.abs() <= Z_MAX && z2.abs() <= Z_MAX,
            "{what}: {z:.2} {z2:.2}"
        );
    }
}

/// Sketches of *different* families from the same seed: what is shared, and what is not.
///
/// Documented: `CountSketch::new(m, n, seed)` is `SparseSign::new(m, n, 1, seed)` bit for bit.
/// Not documented (found reading `sparse_sign.rs`): the first candidate row of a sparse sign
/// column comes from the same word as CountSketch's bucket (`below(word, m − s + 1)` against
/// `below(word, m)`), and its sign is the same bit; so `SparseSign(s)` and `CountSketch` of one
/// seed are strongly dependent. For `s = 2`, `⌊u(m−1)⌋ = ⌊um⌋` exactly when `u ≥ k/(m−1)` in
/// bucket `k`, which has total probability `Σ_{k<m−1} ((k+1)/m − k/(m−1)) = 1/2` (against `1/m`
/// for independent hashes). This test *records* that (it asserts the dependence, so a change
/// of the generator shows) and checks that families on different streams are independent:
/// CountSketch vs SRHT signs, Gaussian vs SRHT, Gaussian vs the PolySketch Gaussian matrices.
/// Pass rules: the documented identity exactly; the first-row agreement of `s = 2` with
/// CountSketch within 5 binomial standard errors of 1/2 and its first sign always CountSketch's
/// (the overlap with `s = 8` is only reported); independent pairs `|z| ≤ 5` as in the tests
/// above.
#[test]
fn same_seed_across_families() {
    let (m, n) = (50usize, 20_000usize);
    let seed = Seed::new(2024);
    let cs = CountSketch::new(m, n, seed).unwrap();
    let ss1 = SparseSign::new(m, n, 1, seed).unwrap();
    let ss2 = SparseSign::new(m, n, 2, seed).unwrap();
    let ss8 = SparseSign::new(m, n, 8, seed).unwrap();
    let (mut same_first2, mut same_sign2, mut cs_in_ss8) = (0usize, 0usize, 0usize);
    for j in 0..n {
        let (h, s) = cs.bucket(j).unwrap();
        assert_eq!(ss1.column(j).unwrap(), vec![(h, s)], "column {j}");
        let c2 = ss2.column(j).unwrap();
        same_first2 += (c2[0].0 == h) as usize;
        same_sign2 += ((c2[0].1 > 0.0) == (s > 0.0)) as usize;
        cs_in_ss8 += ss8.column(j).unwrap().iter().any(|&(r, _)| r == h) as usize;
    }
    let f2 = same_first2 as f64 / n as f64;
    let fs = same_sign2 as f64 / n as f64;
    let f8 = cs_in_ss8 as f64 / n as f64;
    eprintln!(
        "same seed: SparseSign s=2 first row = CountSketch bucket in {f2:.3} of columns (independent: {:.3}), \
         same sign {fs:.3} (independent: 0.5); CountSketch bucket among the 8 rows of s=8: {f8:.3} \
         (independent: {:.3})",
        1.0 / m as f64,
        8.0 / m as f64
    );
    let z2 = z_binom(same_first2 as u64, n as u64, 0.5);
    assert!(
        z2.abs() <= Z_MAX && fs == 1.0,
        "the shared-word dependence changed: {f2} (z against 1/2: {z2:.2}), signs {fs}"
    );

    // SRHT signs (recovered from S) against CountSketch signs of the same seed.
    let srht = Srht::new(4, 1 << 12, seed).unwrap();
    let s = dense(&srht);
    let rows = srht.selected_rows().to_vec();
    let d = srht_signs(&s, &rows);
    let cs_sign: Vec<f64> = (0..1 << 12).map(|j| cs.bucket(j).unwrap().1).collect();
    let agree = d.iter().zip(&cs_sign).filter(|(a, b)| a == b).count() as u64;
    let z = z_binom(agree, 1 << 12, 0.5);
    eprintln!("same seed: SRHT D vs CountSketch signs agreement z {z:.2}");
    assert!(z.abs() <= Z_MAX, "SRHT vs CountSketch signs z {z:.2}");

    // Gaussian sketch entries against the PolySketch Gaussian projection of the same seed
    // (φ(e_i) = G[i, :]/√r at p = 2).
    let (h, r) = (16usize, 256usize);
    let g = dense(&Gaussian::new(h, r, seed).unwrap());
    let ps = PolySketch::new(h, 2, r, FeatureMap::Gaussian, seed).unwrap();
    let eye = Mat::<f64>::identity(h, h);
    let f = ps.features(eye.as_ref(), Par::Seq).unwrap();
    let a: Vec<f64> = (0..h)
        .flat_map(|i| (0..r).map(move |j| (i, j)))
        .map(|(i, j)| g[(i, j)])
        .collect();
    let b: Vec<f64> = (0..h)
        .flat_map(|i| (0..r).map(move |j| (i, j)))
        .map(|(i, j)| f[(i, j)])
        .collect();
    let z = corr_z(&a, &b);
    eprintln!("same seed: Gaussian sketch vs PolySketch G correlation·√N {z:.2}");
    assert!(z.abs() <= Z_MAX, "Gaussian vs PolySketch z {z:.2}");
}

/// `H[r][c] = (−1)^{popcount(r & c)}`, the natural-order Walsh–Hadamard matrix of `fwht`.
fn hadamard(r: usize, c: usize) -> f64 {
    if (r & c).count_ones().is_multiple_of(2) {
        1.0
    } else {
        -1.0
    }
}

/// The diagonal `D` of an SRHT recovered from its dense `S = (1/√m)·R·H·D`; asserts that every
/// row gives the same `D` (which also checks that row `t` of `S` is row `rows[t]` of `H`).
fn srht_signs(s: &Mat<f64>, rows: &[usize]) -> Vec<f64> {
    (0..s.ncols())
        .map(|c| {
            let d = s[(0, c)].signum() * hadamard(rows[0], c);
            for (t, &r) in rows.iter().enumerate() {
                assert_eq!(
                    s[(t, c)].signum() * hadamard(r, c),
                    d,
                    "SRHT row {t}, column {c}"
                );
            }
            d
        })
        .collect()
}

/// The SRHT: `R` keeps a uniform `m`-subset of the `n'` rows (both the bitmap path, `m > n'/64`,
/// and the hash-set path), and `D`'s signs are fair and independent across seeds.
/// Each seed's kept set is a uniform `m`-subset, so over `N` seeds the row counts have the
/// covariance shape of sparse sign's row hits: `(n'−1)/(n'−m)·Σ(O−E)²/E ~ χ²(n'−1)`.
/// Pass rules: that statistic below the `10⁻⁶` quantile; sign balance over all seeds and
/// columns, and agreement of `D` between seeds `k` and `k + 1`, `|z| ≤ 5`.
#[test]
fn srht_rows_are_uniform_and_signs_fair() {
    for (m, n) in [(20usize, 64usize), (8, 1024), (16, 1000)] {
        let seeds = 3000u64;
        let n_pad = n.next_power_of_two();
        let mut hits = vec![0u64; n_pad];
        let (mut pos, mut total, mut agree) = (0u64, 0u64, 0u64);
        let mut prev: Option<Vec<f64>> = None;
        for k in 0..seeds {
            let op = Srht::new(m, n, Seed::new(30_000_000 + k)).unwrap();
            let rows = op.selected_rows().to_vec();
            assert_eq!(rows.len(), m);
            assert!(rows.windows(2).all(|w| w[0] < w[1]));
            for &r in &rows {
                hits[r] += 1;
            }
            if k < 300 {
                let d = srht_signs(&dense(&op), &rows);
                pos += d.iter().filter(|&&v| v > 0.0).count() as u64;
                total += d.len() as u64;
                if let Some(p) = &prev {
                    agree += p.iter().zip(&d).filter(|(a, b)| a == b).count() as u64;
                }
                prev = Some(d);
            }
        }
        let e = (seeds as usize * m) as f64 / n_pad as f64;
        let x = pearson(&hits, &vec![e; n_pad]) * (n_pad - 1) as f64 / (n_pad - m) as f64;
        let crit = chi2_crit(n_pad - 1);
        let z = z_binom(pos, total, 0.5);
        let za = z_binom(agree, total - n as u64, 0.5);
        eprintln!(
            "SRHT m={m} n={n}: rows χ² {x:.1} (crit {crit:.1}), sign z {z:.2}, seed-to-seed sign agreement z {za:.2}"
        );
        assert!(x <= crit, "SRHT m={m} n={n}: rows χ² {x:.1}");
        assert!(
            z.abs() <= Z_MAX && za.abs() <= Z_MAX,
            "SRHT signs z {z:.2} {za:.2}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. TensorSketch, TreeSketch, PolyKernelFeatures, PolySketch.
// ---------------------------------------------------------------------------------------------

/// TensorSketch with `p = 1` is a CountSketch, whose inner-product estimate has the exact variance
/// `Var⟨Cx, Cy⟩ = (‖x‖²‖y‖² + ⟨x,y⟩² − 2Σxᵢ²yᵢ²)/m` (only the pairs `(k,l) = (i,j), (j,i)` of
/// `Σ_{i≠j}Σ_{k≠l} xᵢyⱼxₖyₗ E[σᵢσⱼσₖσₗ 1{hᵢ=hⱼ}1{hₖ=hₗ}]` survive, each with probability `1/m`).
/// Pass rule: over 4000 seeds at `m = 13`, the mean within 5 standard errors of `⟨x, y⟩` and the
/// sample variance within 5 of its standard errors of the formula.
#[test]
fn degree_one_tensor_sketch_has_the_count_sketch_variance() {
    let (d, m, seeds) = (30usize, 13usize, 4000u64);
    let x: Vec<f64> = (0..d).map(|i| ((i * 13 % 7) as f64 - 3.0) / 2.0).collect();
    let y: Vec<f64> = (0..d)
        .map(|i| ((i * 5 % 11) as f64 - 4.0) / 3.0 + 0.2)
        .collect();
    let dot: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    let nx: f64 = x.iter().map(|a| a * a).sum();
    let ny: f64 = y.iter().map(|a| a * a).sum();
    let s4: f64 = x.iter().zip(&y).map(|(a, b)| a * a * b * b).sum();
    let want = (nx * ny + dot * dot - 2.0 * s4) / m as f64;
    let v: Vec<f64> = (0..seeds)
        .map(|k| {
            let ts = TensorSketch::new(1, d, m, Seed::new(40_000_000 + k)).unwrap();
            let (a, b) = (ts.apply_power(&x).unwrap(), ts.apply_power(&y).unwrap());
            a.iter().zip(&b).map(|(p, q)| p * q).sum()
        })
        .collect();
    let zm = z_mean(&v, dot);
    let (var, se, _) = var_se(&v);
    let zv = (var - want) / se;
    eprintln!("TS p=1: mean z {zm:.2}, Var {var:.3} vs {want:.3}, z {zv:.2}");
    assert!(zm.abs() <= Z_MAX && zv.abs() <= Z_MAX, "{zm:.2} {zv:.2}");
}

/// Kernel estimates `⟨φ(x), φ(y)⟩` of TensorSketch (`p = 2, 3`), TreeSketch (`p = 3, 5`) and
/// PolyKernelFeatures (`(0.5⟨x,y⟩ + 1)²`, FFT and tree) are unbiased at every `m`, and their
/// variance falls like `1/m`.
///
/// Theory: each is a CountSketch of a tensor with a hash whose collision events have
/// probabilities `1/m` or `1/m²` (differences of sums of independent uniform buckets mod `m`),
/// so `Var = A/m + B/m² (+ …)`; the log-log slope over `m ∈ {64, 256, 1024}` is `−1` up to the
/// `B/(A·m)` correction, a few percent at `m = 64`.
/// Pass rules (1500 seeds per `m`): the mean within 5 standard errors of the kernel at each `m`;
/// the least-squares slope of `ln Var̂` on `ln m` within `0.1 + 5·se` of `−1`, `se` propagated
/// from the standard errors of `ln Var̂` (`√((μ̂₄/V̂² − 1)/N)`), 0.1 for the `1/m²` term.
#[test]
fn kernel_estimates_are_unbiased_with_variance_falling_like_one_over_m() {
    let d = 6usize;
    let x: Vec<f64> = (0..d).map(|i| 0.4 + 0.1 * i as f64).collect();
    let y: Vec<f64> = (0..d)
        .map(|i| 0.7 - 0.15 * i as f64 + 0.05 * (i % 2) as f64)
        .collect();
    let dot: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    let ms = [64usize, 256, 1024];
    let seeds = 1500u64;
    type Est = Box<dyn Fn(usize, Seed) -> f64>;
    let ip = |a: Vec<f64>, b: Vec<f64>| -> f64 { a.iter().zip(&b).map(|(p, q)| p * q).sum() };
    let (x1, y1, x2, y2, x3, y3, x4, y4) = (
        x.clone(),
        y.clone(),
        x.clone(),
        y.clone(),
        x.clone(),
        y.clone(),
        x.clone(),
        y.clone(),
    );
    let poly = move |method: TensorMethod, m: usize, seed: Seed| {
        PolyKernelFeatures::new(
            d,
            PolyKernelParams {
                degree: 2,
                gamma: 0.5,
                coef0: 1.0,
                sketch_dim: m,
                method,
            },
            seed,
        )
        .unwrap()
    };
    let kern = poly(TensorMethod::Fft, 8, Seed::new(0))
        .kernel(&x, &y)
        .unwrap();
    let (x5, y5, x6, y6) = (x.clone(), y.clone(), x.clone(), y.clone());
    let cases: Vec<(&str, f64, Est)> = vec![
        (
            "TensorSketch p=2",
            dot.powi(2),
            Box::new(move |m, s| {
                let t = TensorSketch::new(2, d, m, s).unwrap();
                ip(t.apply_power(&x1).unwrap(), t.apply_power(&y1).unwrap())
            }),
        ),
        (
            "TensorSketch p=3",
            dot.powi(3),
            Box::new(move |m, s| {
                let t = TensorSketch::new(3, d, m, s).unwrap();
                ip(t.apply_power(&x2).unwrap(), t.apply_power(&y2).unwrap())
            }),
        ),
        (
            "TreeSketch p=3",
            dot.powi(3),
            Box::new(move |m, s| {
                let t = TreeSketch::new(3, d, m, s).unwrap();
                ip(t.apply_power(&x3).unwrap(), t.apply_power(&y3).unwrap())
            }),
        ),
        (
            "TreeSketch p=5",
            dot.powi(5),
            Box::new(move |m, s| {
                let t = TreeSketch::new(5, d, m, s).unwrap();
                ip(t.apply_power(&x4).unwrap(), t.apply_power(&y4).unwrap())
            }),
        ),
        (
            "PolyKernelFeatures fft",
            kern,
            Box::new(move |m, s| {
                let f = poly(TensorMethod::Fft, m, s);
                ip(f.transform_vec(&x5).unwrap(), f.transform_vec(&y5).unwrap())
            }),
        ),
        (
            "PolyKernelFeatures tree",
            kern,
            Box::new(move |m, s| {
                let f = poly(TensorMethod::Tree, m, s);
                ip(f.transform_vec(&x6).unwrap(), f.transform_vec(&y6).unwrap())
            }),
        ),
    ];
    for (c, (name, want, est)) in cases.into_iter().enumerate() {
        let mut lnv = Vec::new();
        let mut lnse = Vec::new();
        for (i, &m) in ms.iter().enumerate() {
            let v: Vec<f64> = (0..seeds)
                .map(|k| {
                    est(
                        m,
                        Seed::new(50_000_000 + 1_000_000 * c as u64 + 100_000 * i as u64 + k),
                    )
                })
                .collect();
            let z = z_mean(&v, want);
            let (var, _, se_ln) = var_se(&v);
            eprintln!("{name} m={m}: mean z {z:.2}, m·Var {:.4}", m as f64 * var);
            assert!(z.abs() <= Z_MAX, "{name} m={m}: mean z {z:.2}");
            lnv.push(var.ln());
            lnse.push(se_ln);
        }
        let u: Vec<f64> = ms.iter().map(|&m| (m as f64).ln()).collect();
        let ub = u.iter().sum::<f64>() / 3.0;
        let sxx: f64 = u.iter().map(|a| (a - ub).powi(2)).sum();
        let w: Vec<f64> = u.iter().map(|a| (a - ub) / sxx).collect();
        let slope: f64 = w.iter().zip(&lnv).map(|(a, b)| a * b).sum();
        let se: f64 = w
            .iter()
            .zip(&lnse)
            .map(|(a, b)| (a * b).powi(2))
            .sum::<f64>()
            .sqrt();
        eprintln!("{name}: slope of ln Var on ln m {slope:.3} ± {se:.3}");
        assert!(
            (slope + 1.0).abs() <= 0.1 + 5.0 * se,
            "{name}: slope {slope:.3} (se {se:.3})"
        );
    }
}

/// PolySketch's `φ` (degree `p/2`) is unbiased for `⟨q, k⟩^{p/2}`, as documented ("a random
/// feature map `φ` of degree `p/2` with `E⟨φ(x), φ(y)⟩ = ⟨x, y⟩^{p/2}`"), for the Gaussian tree
/// (`p = 2, 4, 6, 8`) and the TensorSketch map (`p = 2, 4, 6`); and the self-tensored weight
/// `⟨φ(q), φ(k)⟩²` is biased upwards by exactly the variance, as documented. For the Gaussian map
/// at `p = 2`, `φ(x) = xG/√r` with `G` standard normal, so
/// `Var⟨φ(q), φ(k)⟩ = (‖q‖²‖k‖² + ⟨q,k⟩²)/r` (Isserlis) and
/// `E w = ⟨q,k⟩² + (‖q‖²‖k‖² + ⟨q,k⟩²)/r`.
/// Pass rules (3000 seeds, `h = 5`, `r = 16`): every mean within 5 standard errors of its
/// target; the weight returned by `weights` equals `⟨φ(q), φ(k)⟩²` to `10⁻¹²·(Σ|φₐ(q)φₐ(k)|)²`
/// (the rounding scale of a sum over the `r(r+1)/2` products).
#[test]
fn poly_sketch_features_are_unbiased_for_the_half_degree_kernel() {
    let (h, r, seeds) = (5usize, 16usize, 3000u64);
    let q = faer::mat![[0.9, -0.3, 0.5, 0.2, 0.4]];
    let k = faer::mat![[0.6, 0.1, 0.7, -0.4, 0.3]];
    let dot: f64 = (0..h).map(|i| q[(0, i)] * k[(0, i)]).sum();
    let nq: f64 = (0..h).map(|i| q[(0, i)].powi(2)).sum();
    let nk: f64 = (0..h).map(|i| k[(0, i)].powi(2)).sum();
    for (map, p) in [
        (FeatureMap::Gaussian, 2usize),
        (FeatureMap::Gaussian, 4),
        (FeatureMap::Gaussian, 6),
        (FeatureMap::Gaussian, 8),
        (FeatureMap::TensorSketch, 2),
        (FeatureMap::TensorSketch, 4),
        (FeatureMap::TensorSketch, 6),
    ] {
        let mut ips = Vec::new();
        let mut ws = Vec::new();
        for s in 0..seeds {
            let ps = PolySketch::new(h, p, r, map, Seed::new(60_000_000 + 10_000 * p as u64 + s))
                .unwrap();
            let fq = ps.features(q.as_ref(), Par::Seq).unwrap();
            let fk = ps.features(k.as_ref(), Par::Seq).unwrap();
            let v: f64 = (0..r).map(|j| fq[(0, j)] * fk[(0, j)]).sum();
            let abs: f64 = (0..r).map(|j| (fq[(0, j)] * fk[(0, j)]).abs()).sum();
            ips.push(v);
            if p == 2 {
                let w = ps.weights(q.as_ref(), k.as_ref(), Par::Seq).unwrap()[(0, 0)];
                assert!(
                    (w - v * v).abs() <= 1e-12 * abs * abs,
                    "weight {w} vs ⟨φ,φ⟩² {}",
                    v * v
                );
                ws.push(w);
            }
        }
        let want = dot.powi(p as i32 / 2);
        let z = z_mean(&ips, want);
        eprintln!("PolySketch {map:?} p={p}: E⟨φ(q),φ(k)⟩ z {z:.2}");
        assert!(z.abs() <= Z_MAX, "{map:?} p={p}: z {z:.2}");
        if p == 2 && map == FeatureMap::Gaussian {
            let theory = (nq * nk + dot * dot) / r as f64;
            let bias_want = dot * dot + theory;
            let zw = z_mean(&ws, bias_want);
            let (var, se, _) = var_se(&ips);
            let zv = (var - theory) / se;
            eprintln!(
                "PolySketch Gaussian p=2: E w z {zw:.2} against ⟨q,k⟩² + Var (unbiased would be z {:.1}); \
                 Var {var:.5} vs {theory:.5}, z {zv:.2}",
                z_mean(&ws, dot * dot)
            );
            assert!(zw.abs() <= Z_MAX && zv.abs() <= Z_MAX, "{zw:.2} {zv:.2}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Gaussian entries.
// ---------------------------------------------------------------------------------------------

/// The Gaussian sketch's entries are iid `N(0, 1/m)`; the PolySketch Gaussian projections are
/// iid `N(0, 1)` (read through `φ(e_i) = G[i, :]/√r` at `p = 2`).
/// Pass rules (on `√m·S`, resp. `√r·φ(e_i)`, 2·10⁵ and 131 072 entries): mean, variance and
/// kurtosis within 5 normal-theory standard errors of 0, 1, 3; KS `√N·D ≤ 2.6934` (p = 10⁻⁶);
/// the counts beyond `|z| > 3` and `|z| > 3.5` (ziggurat tail and wedge draws) within 5
/// binomial standard errors of `N·2(1 − Φ(t))`.
#[test]
fn gaussian_entries_are_normal() {
    let m = 50usize;
    let mut v: Vec<f64> = Vec::new();
    for k in 0..2 {
        let s = dense(&Gaussian::new(m, 2000, Seed::new(70 + k)).unwrap());
        for j in 0..s.ncols() {
            for i in 0..m {
                v.push(s[(i, j)] * (m as f64).sqrt());
            }
        }
    }
    let (h, r) = (64usize, 2048usize);
    let ps = PolySketch::new(h, 2, r, FeatureMap::Gaussian, Seed::new(71)).unwrap();
    let f = ps
        .features(Mat::<f64>::identity(h, h).as_ref(), Par::Seq)
        .unwrap();
    let mut w: Vec<f64> = (0..h)
        .flat_map(|i| (0..r).map(move |j| (i, j)))
        .map(|(i, j)| f[(i, j)] * (r as f64).sqrt())
        .collect();
    for (name, sample) in [("Gaussian sketch", &mut v), ("PolySketch G", &mut w)] {
        let n = sample.len() as u64;
        let tails: Vec<f64> = [3.0f64, 3.5]
            .iter()
            .map(|&t| {
                let c = sample.iter().filter(|x| x.abs() > t).count() as u64;
                z_binom(c, n, 2.0 * (1.0 - phi(t)))
            })
            .collect();
        let [zm, zv, zk, ks] = normal_checks(sample);
        eprintln!(
            "{name} (N = {n}): mean z {zm:.2}, variance z {zv:.2}, kurtosis z {zk:.2}, KS √N·D {ks:.3}, \
             tail z (>3) {:.2}, (>3.5) {:.2}",
            tails[0], tails[1]
        );
        assert!(
            zm.abs() <= Z_MAX && zv.abs() <= Z_MAX && zk.abs() <= Z_MAX,
            "{name}"
        );
        assert!(ks <= KS_CRIT, "{name}: KS {ks:.3}");
        assert!(
            tails.iter().all(|z| z.abs() <= Z_MAX),
            "{name}: tails {tails:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Row sampling by weights.
// ---------------------------------------------------------------------------------------------

/// Leverage-style weights `wᵢ = 1/(i+1)²` on 40 rows, two of them 0.
fn leverage_like_weights() -> Vec<f64> {
    (0..40)
        .map(|i| {
            if i == 5 || i == 17 {
                0.0
            } else {
                1.0 / ((i + 1) as f64).powi(2)
            }
        })
        .collect()
}

/// `RowSampling::with_replacement(w, m)` draws `i ~ p = w/Σw` i.i.d.; `uniform(n, m)` draws
/// uniformly. Pass rules: over one sketch of `m = 200 000` draws (two seeds for the weighted one),
/// the chi-square of the row counts against `m·pᵢ` (rows of positive weight; every expected
/// count ≥ 70) below the `10⁻⁶` quantile (df = rows − 1); weight-0 rows never drawn; every
/// scale `1/√(m·pᵢ)` to `10⁻¹⁴` relatively; consecutive draws equal with probability `Σpᵢ²`
/// (`|z| ≤ 5`).
#[test]
fn with_replacement_frequencies_match_the_weights() {
    let m = 200_000usize;
    let w = leverage_like_weights();
    let total: f64 = w.iter().sum();
    let p: Vec<f64> = w.iter().map(|v| v / total).collect();
    let uniform_p = vec![1.0 / 37.0; 37];
    let cases: Vec<(&str, Vec<f64>, RowSampling)> = vec![
        (
            "weights seed 1",
            p.clone(),
            RowSampling::with_replacement(&w, m, Seed::new(1)).unwrap(),
        ),
        (
            "weights seed 2",
            p.clone(),
            RowSampling::with_replacement(&w, m, Seed::new(2)).unwrap(),
        ),
        (
            "uniform",
            uniform_p,
            RowSampling::uniform(37, m, Seed::new(3)).unwrap(),
        ),
    ];
    for (name, p, s) in cases {
        let mut counts = vec![0u64; p.len()];
        for (&i, &c) in s.rows().iter().zip(s.scales()) {
            counts[i] += 1;
            let want = 1.0 / (m as f64 * p[i]).sqrt();
            assert!(
                (c - want).abs() <= 1e-14 * want,
                "{name}: scale {c} vs {want}"
            );
        }
        let (obs, exp): (Vec<u64>, Vec<f64>) = counts
            .iter()
            .zip(&p)
            .filter_map(|(&o, &pi)| {
                if pi == 0.0 {
                    assert_eq!(o, 0, "{name}: a row of weight 0 was drawn");
                    None
                } else {
                    Some((o, pi * m as f64))
                }
            })
            .unzip();
        let x = pearson(&obs, &exp);
        let crit = chi2_crit(obs.len() - 1);
        let repeats = s.rows().windows(2).filter(|r| r[0] == r[1]).count() as u64;
        let sum_p2: f64 = p.iter().map(|v| v * v).sum();
        let z = z_binom(repeats, (m - 1) as u64, sum_p2);
        eprintln!(
            "{name}: frequencies χ² {x:.1} (df {}, crit {crit:.1}); consecutive repeats z {z:.2}",
            obs.len() - 1
        );
        assert!(x <= crit, "{name}: χ² {x:.1}");
        assert!(z.abs() <= Z_MAX, "{name}: repeats z {z:.2}");
    }
}

/// `RowSampling::bernoulli(w, m)` keeps row `i` independently with probability
/// `qᵢ = min(1, m·pᵢ)`. Pass rules over 4000 seeds (`m = 10`, the weights above, so `q₀ = 1`):
/// rows with `qᵢ = 1` always kept, with `qᵢ = 0` never; every other row's inclusion count within
/// 5 binomial standard errors of `N·qᵢ`; their sum of squared z's (≈ χ²(k), independent rows)
/// below the `10⁻⁶` quantile of `χ²(k)`; the joint inclusion of rows `i` and `i + 1` (summed
/// over `i`) within 5 standard errors of `N·Σqᵢqᵢ₊₁` (variance
/// `N·[Σrᵢ(1 − rᵢ) + 2Σqᵢqᵢ₊₁qᵢ₊₂(1 − qᵢ₊₁)]`, `rᵢ = qᵢqᵢ₊₁`, the second sum the covariance of
/// overlapping pairs).
#[test]
fn bernoulli_inclusion_probabilities_are_min_one_m_p() {
    let (m, seeds) = (10usize, 4000u64);
    let w = leverage_like_weights();
    let total: f64 = w.iter().sum();
    let q: Vec<f64> = w.iter().map(|v| (m as f64 * v / total).min(1.0)).collect();
    let mut counts = vec![0u64; w.len()];
    let mut joint = 0u64;
    for k in 0..seeds {
        let s = RowSampling::bernoulli(&w, m, Seed::new(80_000_000 + k)).unwrap();
        let mut kept = vec![false; w.len()];
        for (&i, &c) in s.rows().iter().zip(s.scales()) {
            kept[i] = true;
            counts[i] += 1;
            assert!((c - 1.0 / q[i].sqrt()).abs() <= 1e-14 * c);
        }
        joint += kept.windows(2).filter(|p| p[0] && p[1]).count() as u64;
    }
    let mut x = 0.0;
    let mut df = 0usize;
    let mut worst: f64 = 0.0;
    for (i, (&c, &qi)) in counts.iter().zip(&q).enumerate() {
        if qi == 0.0 {
            assert_eq!(c, 0, "row {i} of q = 0 kept");
        } else if qi == 1.0 {
            assert_eq!(c, seeds, "row {i} of q = 1 dropped");
        } else {
            let z = z_binom(c, seeds, qi);
            worst = worst.max(z.abs());
            assert!(
                z.abs() <= Z_MAX,
                "row {i}: q = {qi}, kept {c}/{seeds}, z {z:.2}"
            );
            x += z * z;
            df += 1;
        }
    }
    let crit = chi2_crit(df);
    let pairs: Vec<f64> = q.windows(2).map(|p| p[0] * p[1]).collect();
    let e: f64 = pairs.iter().sum::<f64>() * seeds as f64;
    let overlap: f64 = q
        .windows(3)
        .map(|t| t[0] * t[1] * t[2] * (1.0 - t[1]))
        .sum();
    let sd =
        ((pairs.iter().map(|r| r * (1.0 - r)).sum::<f64>() + 2.0 * overlap) * seeds as f64).sqrt();
    let zj = (joint as f64 - e) / sd;
    eprintln!(
        "Bernoulli: worst row |z| {worst:.2}, Σz² {x:.1} (df {df}, crit {crit:.1}), joint neighbours z {zj:.2}"
    );
    assert!(x <= crit, "Σz² {x:.1}");
    assert!(zj.abs() <= Z_MAX, "joint z {zj:.2}");
}

/// The first draw of `RowSampling::with_replacement` across 20 000 seeds (the seed dimension,
/// where the draws above vary the index) follows the weights. Pass rule: chi-square of the counts
/// against `N·pᵢ` over the rows of positive weight, expected counts below 5 pooled into one
/// cell, below the `10⁻⁶` quantile; weight-0 rows never drawn.
#[test]
fn first_draw_across_seeds_follows_the_weights() {
    let w = leverage_like_weights();
    let total: f64 = w.iter().sum();
    let seeds = 20_000u64;
    let mut counts = vec![0u64; w.len()];
    for k in 0..seeds {
        let s = RowSampling::with_replacement(&w, 3, Seed::new(90_000_000 + k)).unwrap();
        counts[s.rows()[0]] += 1;
    }
    let (mut obs, mut exp) = (Vec::new(), Vec::new());
    let (mut po, mut pe) = (0u64, 0.0);
    for (&c, &wi) in counts.iter().zip(&w) {
        let e = seeds as f64 * wi / total;
        if wi == 0.0 {
            assert_eq!(c, 0, "a row of weight 0 was drawn");
        } else if e < 5.0 {
            po += c;
            pe += e;
        } else {
            obs.push(c);
            exp.push(e);
        }
    }
    if pe > 0.0 {
        obs.push(po);
        exp.push(pe);
    }
    let x = pearson(&obs, &exp);
    let crit = chi2_crit(obs.len() - 1);
    eprintln!(
        "first draw across seeds: χ² {x:.1} (df {}, crit {crit:.1})",
        obs.len() - 1
    );
    assert!(x <= crit, "χ² {x:.1}");
}

// ---------------------------------------------------------------------------------------------
// The seed module itself.
// ---------------------------------------------------------------------------------------------

/// `popcount(a ⊕ b)` histogram against `Bin(64, 1/2)` (cells `≤ 20` and `≥ 44` pooled) and the
/// flip rate of each of the 64 bits; returns `(χ², df, worst bit |z|)`.
fn avalanche(pairs: &[(u64, u64)]) -> (f64, usize, f64) {
    let n = pairs.len() as u64;
    let mut hist = [0u64; 65];
    let mut flips = [0u64; 64];
    for &(a, b) in pairs {
        let x = a ^ b;
        hist[x.count_ones() as usize] += 1;
        for (bit, f) in flips.iter_mut().enumerate() {
            *f += (x >> bit) & 1;
        }
    }
    let ln_choose =
        |k: usize| -> f64 { (1..=k).map(|i| ((64 - k + i) as f64 / i as f64).ln()).sum() };
    let pmf: Vec<f64> = (0..=64)
        .map(|k| (ln_choose(k) - 64.0 * std::f64::consts::LN_2).exp())
        .collect();
    let (mut obs, mut exp) = (vec![0u64], vec![0.0]);
    for k in 0..=64 {
        if k <= 20 {
            obs[0] += hist[k];
            exp[0] += pmf[k] * n as f64;
        } else if k < 44 {
            obs.push(hist[k]);
            exp.push(pmf[k] * n as f64);
        } else {
            if k == 44 {
                obs.push(0);
                exp.push(0.0);
            }
            *obs.last_mut().unwrap() += hist[k];
            *exp.last_mut().unwrap() += pmf[k] * n as f64;
        }
    }
    let worst = flips
        .iter()
        .map(|&f| z_binom(f, n, 0.5).abs())
        .fold(0.0, f64::max);
    (pearson(&obs, &exp), obs.len() - 1, worst)
}

/// The stateless mixers: words for adjacent indices, adjacent seeds, adjacent streams, adjacent
/// sub-seeds (`derive`), a seed and its first sub-seed, and the first outputs of adjacent
/// `block_rng` blocks differ like independent uniform words: `popcount(a ⊕ b) ~ Bin(64, 1/2)` and
/// every bit flips with probability 1/2. `unit_f64` of the words is uniform on `[0, 1)`.
/// Pass rules (50 000 pairs each): the popcount chi-square below the `10⁻⁶` quantile; every
/// bit's flip count `|z| ≤ 5`; KS of 10⁵ `unit_f64` values against U(0, 1) `√N·D ≤ 2.6934`.
#[test]
fn seed_words_avalanche_across_seeds_streams_indices_and_sub_seeds() {
    use rand::RngExt as _;
    let n = 50_000u64;
    let s = Seed::new(0xC0FFEE);
    let cases: Vec<(&str, Vec<(u64, u64)>)> = vec![
        (
            "index i vs i+1",
            (0..n).map(|i| (s.word(1, i), s.word(1, i + 1))).collect(),
        ),
        (
            "seed k vs k+1",
            (0..n)
                .map(|k| (Seed::new(k).word(1, 0), Seed::new(k + 1).word(1, 0)))
                .collect(),
        ),
        (
            "stream t vs t+1",
            (0..n).map(|t| (s.word(t, 7), s.word(t + 1, 7))).collect(),
        ),
        (
            "derive(i) vs derive(i+1)",
            (0..n)
                .map(|i| (s.derive(i).value(), s.derive(i + 1).value()))
                .collect(),
        ),
        (
            "Seed k vs Seed k .derive(0)",
            (0..n)
                .map(|k| (Seed::new(k).word(2, 3), Seed::new(k).derive(0).word(2, 3)))
                .collect(),
        ),
        (
            "block_rng g vs g+1",
            (0..n)
                .map(|g| {
                    (
                        s.block_rng(3, g).random::<u64>(),
                        s.block_rng(3, g + 1).random::<u64>(),
                    )
                })
                .collect(),
        ),
    ];
    for (what, pairs) in cases {
        let (x, df, worst) = avalanche(&pairs);
        let crit = chi2_crit(df);
        eprintln!("{what}: popcount χ² {x:.1} (df {df}, crit {crit:.1}), worst bit |z| {worst:.2}");
        assert!(
            x <= crit && worst <= Z_MAX,
            "{what}: χ² {x:.1}, worst bit {worst:.2}"
        );
    }
    let mut u: Vec<f64> = (0..100_000u64)
        .map(|i| randnla::seed::unit_f64(s.word(9, i)))
        .collect();
    u.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let nn = u.len() as f64;
    let d = u
        .iter()
        .enumerate()
        .map(|(i, &x)| ((i as f64 + 1.0) / nn - x).max(x - i as f64 / nn))
        .fold(0.0, f64::max);
    eprintln!("unit_f64: KS √N·D {:.3}", d * nn.sqrt());
    assert!(d * nn.sqrt() <= KS_CRIT);
}

/// `seed::below(w, m)` (Lemire's multiply-shift) has no modulo bias: bucket `k` is exactly the
/// words `w ∈ [⌈k·2⁶⁴/m⌉, ⌈(k+1)·2⁶⁴/m⌉)`, so every bucket holds `⌊2⁶⁴/m⌋` or `⌈2⁶⁴/m⌉` words
/// (relative bias below `m/2⁶⁴`, as documented). Pass rule: for `m ∈ {3, 7, 1000, 2²⁰+7,
/// 1 000 003}` and every `k`, `below` maps the computed first word of bucket `k` to `k` and the
/// word before it to `k − 1`, and the computed bucket sizes differ by at most one.
#[test]
fn below_has_no_modulo_bias() {
    use randnla::seed::below;
    for m in [3u64, 7, 1000, (1 << 20) + 7, 1_000_003] {
        let first = |k: u64| -> u128 { ((k as u128) << 64).div_ceil(m as u128) };
        let (mut lo, mut hi) = (u128::MAX, 0u128);
        for k in 0..m {
            let (a, b) = (first(k), first(k + 1));
            assert_eq!(below(a as u64, m), k, "m={m}: first word of bucket {k}");
            if k > 0 {
                assert_eq!(
                    below((a - 1) as u64, m),
                    k - 1,
                    "m={m}: word before bucket {k}"
                );
            }
            assert_eq!(
                below((b - 1) as u64, m),
                k,
                "m={m}: last word of bucket {k}"
            );
            lo = lo.min(b - a);
            hi = hi.max(b - a);
        }
        assert!(hi - lo <= 1, "m={m}: bucket sizes {lo}..{hi}");
    }
}

/// Recorded, not a contract: sketches of the *same family and seed* but different `m` share their
/// randomness. CountSketch's bucket is `⌊u·m⌋` of one uniform `u` per column, so
/// `h_m(j) = ⌊h_{2m}(j)/2⌋` exactly and the signs are equal; a Gaussian sketch draws column by
/// column from one stream per 64 columns, so column 0 of `Gaussian(m)` is, up to the scale
/// `√(m′/m)`, the first `m` entries of column 0 of `Gaussian(m′)`. A caller that retries with a
/// larger `m` and the same seed gets a dependent sketch (the crate's own solvers derive one seed
/// per use, `lstsq` `derive(0x40)`, leverage `derive(STREAM_SKETCH)` / `derive(STREAM_PRECOND)`).
/// Row sampling is nested too, as its documented construction implies: draw `t` is
/// `unit_f64(seed.word(·, t))`, so the draws for `m` are the first `m` draws for `m′ > m`, and
/// the Bernoulli decision `u_i < q_i` keeps for `m` a subset of what it keeps for `m′ > m`.
/// Pass rule: the identities, exactly for CountSketch (10 000 columns, `m = 50`) and sampling,
/// to `10⁻¹⁵` relatively for the Gaussian (`m = 10`, `m′ = 11`).
#[test]
fn same_seed_different_m_sketches_are_nested() {
    let (m, n) = (50usize, 10_000usize);
    let seed = Seed::new(5150);
    let a = CountSketch::new(m, n, seed).unwrap();
    let b = CountSketch::new(2 * m, n, seed).unwrap();
    for j in 0..n {
        let (ha, sa) = a.bucket(j).unwrap();
        let (hb, sb) = b.bucket(j).unwrap();
        assert_eq!((ha, sa), (hb / 2, sb), "column {j}");
    }
    let g = dense(&Gaussian::new(10, 64, seed).unwrap());
    let h = dense(&Gaussian::new(11, 64, seed).unwrap());
    for i in 0..10 {
        let (x, y) = (g[(i, 0)] * 10f64.sqrt(), h[(i, 0)] * 11f64.sqrt());
        assert!(
            (x - y).abs() <= 1e-15 * x.abs().max(1.0),
            "entry {i}: {x} vs {y}"
        );
    }
    let w = leverage_like_weights();
    let small = RowSampling::with_replacement(&w, 5, seed).unwrap();
    let large = RowSampling::with_replacement(&w, 10, seed).unwrap();
    assert_eq!(small.rows(), &large.rows()[..5]);
    let small = RowSampling::bernoulli(&w, 5, seed).unwrap();
    let large = RowSampling::bernoulli(&w, 10, seed).unwrap();
    assert!(small.rows().iter().all(|i| large.rows().contains(i)));
}

/// Sparse sign sketches (`s = 8`) of adjacent seeds have uncorrelated entries: the pairs
/// `(S_k[i,j], S_{k+1}[i,j])` over a 16 × 4096 sketch, and their squares (the positions of the
/// nonzeros). Entries of one column are dependent (exactly `s` nonzeros), but the products of
/// paired signed entries are uncorrelated (independent fair signs), so `√N·r ~ N(0, 1)`; for the
/// squares the fixed count per column inflates the variance of the sum by `1 + 1/(m − 1)`
/// (1.07 at `m = 16`), which the 5σ rule absorbs. Pass rule: `|√N·r| ≤ 5` for both, for the
/// seed pairs (0, 1), (1, 2), (1000, 1001).
#[test]
fn sparse_sign_entries_are_uncorrelated_across_adjacent_seeds() {
    let (m, n) = (16usize, 4096usize);
    for k in [0u64, 1, 1000] {
        let a = dense(&SparseSign::new(m, n, 8, Seed::new(k)).unwrap());
        let b = dense(&SparseSign::new(m, n, 8, Seed::new(k + 1)).unwrap());
        let x: Vec<f64> = (0..n)
            .flat_map(|j| (0..m).map(move |i| (i, j)))
            .map(|p| a[p])
            .collect();
        let y: Vec<f64> = (0..n)
            .flat_map(|j| (0..m).map(move |i| (i, j)))
            .map(|p| b[p])
            .collect();
        let z = corr_z(&x, &y);
        let x2: Vec<f64> = x.iter().map(|v| v * v).collect();
        let y2: Vec<f64> = y.iter().map(|v| v * v).collect();
        let z2 = corr_z(&x2, &y2);
        eprintln!(
            "sparse s=8 seed {k} vs {}: corr·√N {z:.2}, of squares {z2:.2}",
            k + 1
        );
        assert!(
            z.abs() <= Z_MAX && z2.abs() <= Z_MAX,
            "seed {k}: {z:.2} {z2:.2}"
        );
    }
}
