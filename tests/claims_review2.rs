//! A second review of the quantitative claims in the docs, for the areas the first one
//! (`tests/claims_review.rs`) left out: TensorSketch and the tree sketch
//! (`src/sketch/tensor/`), polynomial attention (`src/attention/`) and attention-kernel
//! regression (`src/lstsq/kernel_regression.rs`). Each test quotes its claim with `file:line`
//! (line numbers as of the review, 2026-12-06), checks it against an exact computation (a
//! closed-form variance, exact attention, dense SVDs) and states its pass rule; claims already
//! pinned by another test are listed in the review's report, not repeated here.
//!
//! The closed form used for TensorSketch: with independent, uniformly random mode hashes and
//! signs, `TS(x^{⊗p}) = IFFT(∏_k FFT(C_k x))`, so by Parseval `‖TS x^{⊗p}‖² = (1/m)·Σ_f ∏_k
//! |F_k(f)|²` with `F_k = FFT(C_k x)`. For one mode (`‖x‖ = 1`, `S₄ = Σ x_i⁴`),
//! `E|F(f)|² = 1` and `E|F(f)|²|F(g)|² = 1 + c·([f + g ≡ 0] + [f ≡ g])`, `c = 1 − S₄`
//! (the pairings of the four sign factors), and the modes are independent, so
//!
//! `m·Var(‖TS x^{⊗p}‖²) = (1/m)·[N₂·((1 + 2c)^p − 1) + 2(m − N₂)·((1 + c)^p − 1)]`,
//!
//! `N₂ = #{f : 2f ≡ 0 mod m}` (2 for even `m`, 1 for odd). It is at most `3^p − 1` (reached
//! at `m ≤ 2` as `c → 1`), so the Avron–Nguyễn–Woodruff bound `2 + 3^p` holds, and for large
//! `m` it is `≈ 2((2 − S₄)^p − 1)`: `2(2^p − 1)` for spread-out `x`.
//!
//! Three documented figures did not hold, and the docs were corrected (the tests below now pin
//! the corrected statements): TensorSketch's
//! `m·Var` at `p = 8` on the tree docs' vector is 498 (exact), not "398" / "≈ 400"; its
//! worst-case size for `x^{⊗p}` is `≈ 2(2^p − 1)/ε²`, not `(2 + 3^p)/ε²`; and the `h = 16`
//! attention figures' Gaussian `r = 64` median 0.33 is a 3-seed figure (30 seeds: 0.24), while
//! TensorSketch's errors do not vary less at `r = 8`.

use faer::{Mat, Par};
use randnla::attention::{
    clustered_qkv, exact_attention, poly_sketch_attention, relative_error, ExactParams, FeatureMap,
    Kernel, PolySketchParams,
};
use randnla::lstsq::kernel_regression::{solve_p1, InnerSolve, KernelParams};
use randnla::lstsq::{LstsqParams, Preconditioner};
use randnla::problems::{gaussian_matrix, ls_problem};
use randnla::sketch::tensor::{TensorSketch, TreeSketch};
use randnla::{MatrixRef, Seed};

const U: f64 = f64::EPSILON / 2.0;

fn norm2(a: &[f64]) -> f64 {
    a.iter().map(|v| v * v).sum()
}

/// The deterministic vector of `tests/tensor_sketch.rs`, on which
/// `src/sketch/tensor/tree.rs`'s figures were measured.
use crate::common::signed_unit_vector as vector;

use crate::common::ts_scaled_variance;

use crate::common::scaled_sample_variance;

/// `‖S x^{⊗p}‖²/‖x‖^{2p}` for TensorSketch (`tree = false`) or the tree sketch, seeds `seeds`.
fn norm_ratios(x: &[f64], p: usize, m: usize, tree: bool, seeds: std::ops::Range<u64>) -> Vec<f64> {
    let n2 = norm2(x).powi(p as i32);
    seeds
        .map(|s| {
            let seed = Seed::new(s);
            let sx = if tree {
                TreeSketch::new(p, x.len(), m, seed).unwrap().apply_power(x)
            } else {
                TensorSketch::new(p, x.len(), m, seed)
                    .unwrap()
                    .apply_power(x)
            };
            norm2(&sx.unwrap()) / n2
        })
        .collect()
}

/// Claim, `src/sketch/tensor/mod.rs:1102`: "`E(‖TS(x^{⊗p})‖² − ‖x‖^{2p})² ≤ (2 + 3^p)/m ·
/// ‖x‖^{4p}`" (and `E‖TS x^{⊗p}‖² = ‖x‖^{2p}`, `mod.rs:1101`). The existing tests bound the
/// estimate (`variance_respects_the_avron_nguyen_woodruff_bound`); this one checks the
/// variance itself against the closed form of the module docs, which is at most `3^p − 1`.
/// Inputs: `e₁ + e₂`, the all-ones vector and `vector(6, 31)` in `ℝ⁶`, `vector(64, 41)`;
/// `p ∈ {2, 3, 4}`; `m ∈ {16, 17}` (even and odd: `N₂` differs). Pass rule, over 2·10⁴ seeds
/// per case: the sample mean within 4 standard errors of 1 and `m·Var̂` within 4 of its
/// standard errors of the closed form, and the closed form `≤ 2 + 3^p`. The rule has power: on
/// the ones vector (`S₄ = 1/6`) the formula without `S₄` (`c = 1`) is 28–50 % larger, 9–18
/// standard errors away. Measured: every case within 1.8 standard errors (e.g. ones, `p = 4`,
/// `m = 16`: 23.8 ± 1.4 against 24.2). Cost: 480 000 sketches of a 6- or 64-vector, about 3 s
/// in the dev profile.
#[test]
fn tensor_sketch_norm_variance_is_the_closed_form() {
    let inputs = [
        ("e1+e2", vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
        ("ones", vec![1.0; 6]),
        ("vector(6, 31)", vector(6, 31)),
        ("vector(64, 41)", vector(64, 41)),
    ];
    let seeds = 20_000u64;
    for (name, x) in &inputs {
        for p in [2usize, 3, 4] {
            for m in [16usize, 17] {
                let v = norm_ratios(x, p, m, false, 0..seeds);
                let n = v.len() as f64;
                let mean = v.iter().sum::<f64>() / n;
                let (var, se) = scaled_sample_variance(&v, m);
                let mean_se = (var / m as f64 / n).sqrt();
                let want = ts_scaled_variance(x, p, m);
                let bound = 2.0 + 3f64.powi(p as i32);
                eprintln!(
                    "{name} p={p} m={m}: mean {mean:.4} ± {mean_se:.4}, m·Var {var:.3} ± {se:.3}, \
                     closed form {want:.3}, bound {bound}"
                );
                assert!(
                    (mean - 1.0).abs() <= 4.0 * mean_se,
                    "{name} p={p} m={m}: mean {mean}"
                );
                assert!(
                    (var - want).abs() <= 4.0 * se,
                    "{name} p={p} m={m}: m·Var {var} ± {se} vs closed form {want}"
                );
                assert!(want <= bound, "{name} p={p} m={m}: {want} > {bound}");
            }
        }
    }
}

/// Claims, `src/sketch/tensor/tree.rs:38-39`: "Measured `m·Var(‖Π x^{⊗p}‖²)/‖x‖^{4p}` on a dense
/// `x ∈ ℝ⁶⁴` (m = 256, 3000 seeds …): p = 2 / 4 / 8 → tree 9.9 / 26.6 / 57.7", and
/// `src/sketch/tensor/mod.rs:7` "measured `m·Var ≈ 58` at `p = 8`". `tests/tensor_sketch.rs`
/// asserts only that the tree beats TensorSketch at `p = 8` and stays below 100. Input: the
/// figures' `vector(64, 41)`, `m = 256`; the tree's variance is estimated again on 8000 fresh
/// seeds (`10⁶ ..`, disjoint from the doc's 0–2999). Pass rule: each stated figure within 4
/// standard errors of the fresh estimate, the standard error of the difference combining the
/// fresh estimate's with that of a 3000-seed one (scaled from the fresh sample's fourth
/// moment). Measured: 10.1 ± 0.2 / 27.4 ± 0.6 / 62.4 ± 1.7. (TensorSketch's figures, known
/// in closed form, are `tensor_sketch_variance_figures_match_the_exact_values`.) Cost: 24 000
/// tree sketches, about 2 s in the dev profile.
#[test]
fn tree_variance_figures() {
    let (m, x) = (256usize, vector(64, 41));
    let n = 8000u64;
    let scale = (n as f64 / 3000.0).sqrt();
    for (p, doc) in [(2usize, 9.9), (4, 26.6), (8, 57.7)] {
        let tree =
            scaled_sample_variance(&norm_ratios(&x, p, m, true, 1_000_000..1_000_000 + n), m);
        let se = ((tree.1 * scale).powi(2) + tree.1.powi(2)).sqrt();
        eprintln!(
            "p = {p}: tree fresh {:.1} ± {:.1} (doc {doc})",
            tree.0, tree.1
        );
        assert!(
            (doc - tree.0).abs() <= 4.0 * se,
            "p = {p}: the tree's stated {doc} vs fresh {:.1} (se {se:.1})",
            tree.0
        );
    }
}

/// Sorted relative errors of `poly_sketch_attention` (degree 4, non-causal, block 128) against
/// `exact` over `seeds`.
fn attention_errors(
    (q, k, v): (&Mat<f64>, &Mat<f64>, &Mat<f64>),
    exact: &Mat<f64>,
    r: usize,
    map: FeatureMap,
    seeds: std::ops::Range<u64>,
) -> Vec<f64> {
    let mut e: Vec<f64> = seeds
        .map(|s| {
            let params = PolySketchParams {
                degree: 4,
                sketch_dim: r,
                map,
                causal: false,
                block: 128,
                seed: Seed::new(s),
                check: false,
            };
            let (out, _) =
                poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, Par::Seq)
                    .unwrap();
            relative_error(out.as_ref(), exact.as_ref()).unwrap()
        })
        .collect();
    e.sort_by(f64::total_cmp);
    e
}

fn median(v: &[f64]) -> f64 {
    crate::common::median(&mut v.to_vec())
}

fn exact_poly4(q: &Mat<f64>, k: &Mat<f64>, v: &Mat<f64>) -> Mat<f64> {
    let params = ExactParams {
        causal: false,
        block: 256,
    };
    let kernel = Kernel::Polynomial { degree: 4 };
    exact_attention(
        q.as_ref(),
        k.as_ref(),
        v.as_ref(),
        kernel,
        &params,
        Par::Seq,
    )
    .unwrap()
}

/// Queries, keys and values.
type Qkv = (Mat<f64>, Mat<f64>, Mat<f64>);

/// The inputs of `tests/attention.rs`' `error_falls_as_the_sketch_grows_on_clustered_inputs`:
/// `clustered_qkv(1024, 16, 8, 0.3, 1.5, seed 3)` and its exact degree-4 attention.
fn small_clustered() -> (Qkv, Mat<f64>) {
    let (q, k, v) = clustered_qkv(1024, 16, 8, 0.3, 1.5, Seed::new(3)).unwrap();
    let exact = exact_poly4(&q, &k, &v);
    ((q, k, v), exact)
}

/// Claim, `src/attention/mod.rs:51-53`: "On smaller clustered problems (`tests/attention.rs`:
/// `n = 1024`, `h = 16`, 8 centres, 3 seeds) the median error is 0.82 / 0.62 / 0.41 / 0.33 at
/// `r = 8 / 16 / 32 / 64` with the Gaussian map and 0.70 / 0.54 / 0.35 / 0.20 with
/// TensorSketch". `tests/attention.rs` prints these medians but asserts none of them. Input:
/// that test's (degree 4, non-causal, block 128, sketch seeds 0–2). Pass rule: each median
/// rounds to the stated figure (`±0.005`: the computation is deterministic). Measured: 0.821 /
/// 0.624 / 0.406 / 0.332 and 0.695 / 0.543 / 0.346 / 0.199. (How well 3 seeds represent the
/// maps is the next test's subject.) Cost: 24 sketched attentions of 1024 rows at `r ≤ 64`
/// and one exact one, 0.3 s in the dev profile.
#[test]
fn small_clustered_attention_figures_reproduce_on_their_seeds() {
    let ((q, k, v), exact) = small_clustered();
    let stated = [
        (FeatureMap::Gaussian, [0.82, 0.62, 0.41, 0.33]),
        (FeatureMap::TensorSketch, [0.70, 0.54, 0.35, 0.20]),
    ];
    for (map, figures) in stated {
        for (r, want) in [8usize, 16, 32, 64].into_iter().zip(figures) {
            let e = attention_errors((&q, &k, &v), &exact, r, map, 0..3);
            eprintln!("{map:?} r = {r}: seeds 0–2 {e:.3?} (stated median {want})");
            assert!(
                (median(&e) - want).abs() <= 0.005,
                "{map:?} r = {r}: median {:.4} vs stated {want}",
                median(&e)
            );
        }
    }
}

/// `(median, standard deviation)` of the errors over sketch seeds 100–129 on
/// [`small_clustered`], per `r ∈ {8, 16, 32, 64}`, for the Gaussian map and TensorSketch.
fn small_clustered_fresh_stats() -> Vec<[(f64, f64); 2]> {
    let ((q, k, v), exact) = small_clustered();
    let stats = |map, r| {
        let e = attention_errors((&q, &k, &v), &exact, r, map, 100..130);
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        let sd = (e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (e.len() - 1) as f64).sqrt();
        eprintln!(
            "{map:?} r = {r}: median {:.3}, sd {sd:.3}, range {:.3}–{:.3}",
            median(&e),
            e[0],
            e[e.len() - 1]
        );
        (median(&e), sd)
    };
    [8usize, 16, 32, 64]
        .into_iter()
        .map(|r| {
            [
                stats(FeatureMap::Gaussian, r),
                stats(FeatureMap::TensorSketch, r),
            ]
        })
        .collect()
}

/// Claim, `src/attention/mod.rs:54`: "[`FeatureMap::TensorSketch`] is the more accurate map at
/// equal `r` in these measurements" (the figures above, `n = 1024`, `h = 16`). Three seeds
/// cannot show it; this measures it on the same input with 30 fresh sketch seeds (100–129).
/// Pass rule: TensorSketch's median error below the Gaussian map's at each `r` of the
/// figures. Measured: 0.732 / 0.520 / 0.328 / 0.212 against 0.779 / 0.580 / 0.407 / 0.242 at
/// `r = 8 / 16 / 32 / 64` — it holds, by 6–20 %. Cost: 240 sketched attentions of 1024 rows,
/// about 3 s in the dev profile.
#[test]
fn tensorsketch_median_error_is_below_the_gaussian_maps_at_h_16() {
    let stats = small_clustered_fresh_stats();
    for (r, [g, t]) in [8, 16, 32, 64].into_iter().zip(stats) {
        assert!(
            t.0 < g.0,
            "r = {r}: TensorSketch median {:.3} ≥ Gaussian {:.3}",
            t.0,
            g.0
        );
    }
}

/// Claims, `src/attention/mod.rs:51-54`: "the median error is 0.82 / 0.62 / 0.41 / 0.33 at
/// `r = 8 / 16 / 32 / 64` with the Gaussian map and 0.70 / 0.54 / 0.35 / 0.20 with
/// TensorSketch, whose errors also vary less between seeds". The figures are medians of 3
/// sketch seeds (reproduced exactly by
/// `small_clustered_attention_figures_reproduce_on_their_seeds`); as statements about the maps
/// they are checked here on the same input with 30 fresh seeds (100–129). Pass rule: each
/// 30-seed median within ±15 % of the stated figure, and TensorSketch's standard deviation
/// over the seeds below the Gaussian map's at every `r`.
///
/// Failed as written. Measured 30-seed medians: Gaussian 0.779 / 0.580 / 0.407 / **0.242** (stated
/// 0.33 at `r = 64`: −27 %; its 3 seeds gave 0.185, 0.332, 0.399), TensorSketch 0.732 / 0.520 /
/// 0.328 / 0.212 (all within 7 %). Standard deviations, Gaussian against TensorSketch: 0.063 /
/// **0.074** at `r = 8`, 0.073 / 0.059, 0.059 / 0.040, 0.044 / 0.035. Diagnosis: the Gaussian
/// `r = 64` figure is the median of a noisy 3-seed sample, and it exaggerates TensorSketch's
/// advantage there (0.20 against 0.33 stated, 0.21 against 0.24 over 30 seeds); the spreads are
/// alike at `r = 8` (ratio 1.17, within the noise of 30 seeds), so "vary less" holds from `r = 16`
/// on. The docs now give the 30-seed medians and "from `r = 16`"; pass rule for them: each median
/// within ±5 % of the stated figure (the seeds are fixed, so this reproduces them), and
/// TensorSketch's standard deviation below the Gaussian map's at `r = 16, 32, 64`. Cost: as
/// the previous test.
#[test]
fn small_clustered_figures_hold_over_30_seeds() {
    let stats = small_clustered_fresh_stats();
    let stated = [[0.78, 0.73], [0.58, 0.52], [0.41, 0.33], [0.24, 0.21]];
    let mut failures = Vec::new();
    for ((r, [g, t]), want) in [8, 16, 32, 64].into_iter().zip(stats).zip(stated) {
        for (name, got, want) in [("Gaussian", g.0, want[0]), ("TensorSketch", t.0, want[1])] {
            if (got / want - 1.0).abs() > 0.05 {
                failures.push(format!("{name} r = {r}: median {got:.3} vs stated {want}"));
            }
        }
        if r >= 16 && t.1 >= g.1 {
            failures.push(format!(
                "r = {r}: TensorSketch sd {:.3} ≥ Gaussian {:.3}",
                t.1, g.1
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Claim, `src/attention/mod.rs:45` (the table's row "iid Gaussian `Q, K`, Gaussian `r = 64`":
/// 1.02 at `n = 1024`, `h = d = 64`, degree 4, non-causal). `tests/front_door_review.rs`
/// checks the iid row at `r = 32` only. Input: `Q`, `K` standard normal
/// (`gaussian_matrix(1024, 64, seeds 1, 2)`), `V` of `clustered_qkv(1024, 64, 16, 0.3, 1.5,
/// seed 0)`. Pass rule: the median over sketch seeds 0–4 lies within ±5 % of 1.02 (the iid
/// errors of the module docs range over 0.99–1.08 at every `r`, so a smaller error — the
/// sketch resolving the pattern — or a much larger one would be a different regime). Measured:
/// 1.036–1.045, median 1.041. Cost: one exact and 5 sketched attentions at `n = 1024`,
/// `h = 64`, `r = 64`, 0.3 s in the dev profile.
#[test]
fn iid_attention_error_at_r_64() {
    let (n, h) = (1024, 64);
    let (_, _, v) = clustered_qkv(n, h, 16, 0.3, 1.5, Seed::new(0)).unwrap();
    let q = gaussian_matrix(n, h, Seed::new(1)).unwrap();
    let k = gaussian_matrix(n, h, Seed::new(2)).unwrap();
    let exact = exact_poly4(&q, &k, &v);
    let e = attention_errors((&q, &k, &v), &exact, 64, FeatureMap::Gaussian, 0..5);
    eprintln!("iid r = 64: errors {e:.3?}");
    assert!(
        (median(&e) / 1.02 - 1.0).abs() <= 0.05,
        "median {:.3} vs the table's 1.02",
        median(&e)
    );
}

/// Singular values of a dense matrix, largest first.
fn svals(m: &Mat<f64>) -> Vec<f64> {
    m.singular_values().unwrap()
}

/// Claim, `src/lstsq/kernel_regression.rs:9-11`: "`AᵀA ≈ RᵀR` up to the embedding distortion,
/// so conjugate gradients on `AᵀA` preconditioned by `(RᵀR)⁻¹` converge at a rate set by
/// `κ(AR⁻¹)² ≈ 9` (at `m = 4d`) whatever `κ(A)` is." `tests/lstsq_kernel.rs` uses 9 inside an
/// iteration bound; this measures it. `9 = ((1 + ½)/(1 − ½))²` is the Marchenko–Pastur limit
/// of a Gaussian embedding with `d/m = ¼`; the default sparse sign sketch (8 nonzeros a
/// column) should match it on incoherent input. Inputs, `n = 4000`, `d = 50`, `m = 200`: a
/// Gaussian `A` (`κ ≈ 1.3`) and Epperly's `κ(A) = 10¹⁰` problem (`ls_problem`). Pass rule, over
/// 10 seeds each: the median of `κ(AR⁻¹)²` within ±30 % of 9 and every seed below 18; the
/// medians of the two inputs within 10 % of each other ("whatever `κ(A)` is": `R⁻¹` undoes the
/// conditioning up to rounding, `u·κ(A) = 10⁻⁶` relative). Measured: medians 7.7 (Gaussian)
/// and 8.0 (`κ = 10¹⁰`), every seed within 6.8–9.1. Cost: 20 sketches and SVDs of a
/// `4000 × 50` matrix, 0.5 s in the dev profile.
#[test]
fn p1_preconditioned_gram_condition_is_near_nine_at_m_4d() {
    let (n, d) = (4000, 50);
    let (epperly, _, _, _) = ls_problem(n, d, 1e10, 1e-3, Seed::new(2)).unwrap();
    let inputs = [
        ("gaussian", gaussian_matrix(n, d, Seed::new(1)).unwrap()),
        ("epperly κ=1e10", epperly),
    ];
    let mut medians = Vec::new();
    for (name, a) in &inputs {
        let mut k2: Vec<f64> = (0..10u64)
            .map(|s| {
                let p = LstsqParams {
                    sketch_rows: Some(4 * d),
                    seed: Seed::new(700 + s),
                    ..LstsqParams::default()
                };
                let pre = Preconditioner::new(MatrixRef::dense(a.as_ref()).unwrap(), &p).unwrap();
                let sv = svals(&(a * pre.to_dense()));
                (sv[0] / sv[d - 1]).powi(2)
            })
            .collect();
        k2.sort_by(f64::total_cmp);
        eprintln!("{name}: κ(AR⁻¹)² over 10 seeds {k2:.2?}");
        let med = median(&k2);
        assert!(
            (med / 9.0 - 1.0).abs() <= 0.3,
            "{name}: median κ(AR⁻¹)² = {med:.2}"
        );
        assert!(k2[9] < 18.0, "{name}: worst κ(AR⁻¹)² = {:.2}", k2[9]);
        medians.push(med);
    }
    assert!(
        (medians[0] / medians[1] - 1.0).abs() <= 0.1,
        "medians {medians:.3?}"
    );
}

/// Claims, `src/lstsq/kernel_regression.rs:25` ("Its error per step, about `κ(A)²·u`, is what
/// the sketched CG avoids") and `:107-109` ([`InnerSolve::Cholesky`]: "Each refinement step
/// cuts the error by about `κ·u` …, `κ(A)²` for P1/P2"). Input: Epperly's `2000 × 20`
/// problems with `κ(A) ∈ {10², 10³, 10⁴}` (`κ(A)²·u` from `10⁻¹²` to `10⁻⁸`), P1 with
/// `j = 1`, a Gaussian `b` (which excites the smallest singular directions: `‖x‖ ≈
/// ‖b‖/(√d·σ_min²)`, so the computed residual's own floor is about `κ(A)²·u/√d`, and
/// `tol = 10⁻⁸` is above it), the Cholesky route forced. `residual_history` holds the
/// relative residual at `x = 0` (1) and after each step. The residual obeys
/// `r_{k+1} = E·M⁻¹·r_k` (`M` the factored `fl(AᵀA)`, `‖E‖ ≈ u·‖A‖²`), so each step cuts it by
/// at most about `κ(A)²·u`. Pass rule: every step from a residual above the rounding floor
/// (`100·u`) cuts it by at least the factor `10·κ(A)²·u` ("about": an order of magnitude
/// allowed); and, so that the rate is not so much better that the claim would say nothing,
/// the first step from `x = 0` ends at least at `κ(A)²·u/1000` where that is above the
/// floor (`κ(A) ≥ 10³`). Measured: one step each, to `0.28 / 0.17 / 0.16·κ(A)²·u` at
/// `κ(A) = 10² / 10³ / 10⁴`. Cost: 3 small solves, well under a second.
#[test]
fn cholesky_route_error_per_step_is_about_kappa_squared_u() {
    let (n, d) = (2000, 20);
    let b: Vec<f64> = {
        let g = gaussian_matrix(d, 1, Seed::new(5)).unwrap();
        (0..d).map(|i| g[(i, 0)]).collect()
    };
    for kappa in [1e2, 1e3, 1e4] {
        let (a, _, _, _) = ls_problem(n, d, kappa, 1e-3, Seed::new(3)).unwrap();
        let params = KernelParams {
            inner_solve: InnerSolve::Cholesky,
            tol: 1e-8,
            ..KernelParams::default()
        };
        let r = solve_p1(MatrixRef::dense(a.as_ref()).unwrap(), 1, &b, &params);
        let k2u = kappa * kappa * U;
        match r {
            Ok((_, info)) => {
                let h = &info.residual_history;
                eprintln!("κ = {kappa:e} (κ²u = {k2u:.1e}): history {h:?}");
                assert!(info.cholesky, "κ = {kappa:e}: {info:?}");
                for w in h.windows(2) {
                    if w[0] > 100.0 * U {
                        assert!(
                            w[1] <= 10.0 * k2u * w[0],
                            "κ = {kappa:e}: step from {:e} to {:e}, more than 10·κ²u",
                            w[0],
                            w[1]
                        );
                    }
                }
                assert!(
                    k2u / 1000.0 <= 100.0 * U || h[1] >= k2u / 1000.0,
                    "κ = {kappa:e}: first step reached {:e}, far below κ²u",
                    h[1]
                );
            }
            Err(e) => panic!("κ = {kappa:e}: {e:?}"),
        }
    }
}

/// Claim, `src/sketch/tensor/mod.rs:1108-1113`: for `p ≥ 2` the entries of `apply_power`
/// "differ from the explicit tensor CountSketch … by rounding of about `ε_f64·‖x‖₂^p`
/// (measured at most `1.6·10⁻¹⁶·‖x‖₂^p` for `p = 2, 3, 4`, `m` up to 4096)". No test pins
/// the size (the existing ones allow `10⁻¹²`). Inputs with an exact reference: entries on the
/// grid `k/8` in `[−1, 1]`, so that every product of `p ≤ 4` entries and every bucket's sum of
/// the `d^p = 4096` terms is exact in `f64` (`explicit_kron` of `tests/common`); `p = 2, 3, 4`
/// with `d = 64, 16, 8`; `m ∈ {16, 256, 4096}`; the all-ones vector and 10 random grid vectors
/// per case (random sketch seeds too). Pass rule: every entry's difference is at most
/// `ε_f64·‖x‖₂^p` (the claim's "about", with the measured maximum below it). Measured: at most
/// `1.67·10⁻¹⁶·‖x‖₂^p` — within `ε`, a hair above the stated measured maximum `1.6·10⁻¹⁶`.
/// Cost: 297 explicit sketches of 4096 terms, under a second.
#[test]
fn tensor_sketch_rounding_is_within_epsilon_times_the_norm_power() {
    let mut worst = 0.0f64;
    for (p, d) in [(2usize, 64usize), (3, 16), (4, 8)] {
        for m in [16usize, 256, 4096] {
            for t in 0..11u64 {
                let x: Vec<f64> = if t == 0 {
                    vec![1.0; d]
                } else {
                    (0..d)
                        .map(|i| {
                            let w = Seed::new(9000 + t).word(p as u64, i as u64);
                            (w % 17) as f64 / 8.0 - 1.0
                        })
                        .collect()
                };
                let ts = TensorSketch::new(p, d, m, Seed::new(31 * t + m as u64)).unwrap();
                let fast = ts.apply_power(&x).unwrap();
                let exact = crate::common::explicit_kron(&ts, &vec![&x[..]; p]);
                let scale = norm2(&x).sqrt().powi(p as i32);
                let diff = fast
                    .iter()
                    .zip(&exact)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
                    / scale;
                worst = worst.max(diff);
                assert!(
                    diff <= f64::EPSILON,
                    "p = {p}, d = {d}, m = {m}, input {t}: max difference {diff:e}·‖x‖^p"
                );
            }
        }
    }
    eprintln!("largest difference {worst:e}·‖x‖₂^p (stated: at most 1.6e-16)");
}

/// Claims, `src/sketch/tensor/mod.rs:7` ("measured `m·Var ≈ 58` at `p = 8`, against ≈ 400 for
/// TensorSketch"), `src/sketch/tensor/tree.rs:38-40` ("TensorSketch 5.7 / 28.2 / 398
/// (≈ 2(2^p − 1) there …)" at `p = 2 / 4 / 8`) and `tree.rs:66-67` ("at p = 8 TensorSketch
/// needs ≈ 7× the `m` for the same variance on dense inputs"). Input: the figures'
/// `vector(64, 41)`, `m = 256`. TensorSketch's `m·Var` is known exactly (the module docs' closed
/// form, checked against 2·10⁴ seeds per case by `tensor_sketch_norm_variance_is_the_closed_form`):
/// 5.8 / 28.7 / 497.9. Pass rule: each stated figure within 10 % of the exact value ("≈"; the
/// `p = 2, 4` figures are within 3 %).
///
/// Failed as written, at `p = 8`: the stated 398 (and "≈ 400") is 20 % below the exact 497.9, and
/// the ratio to the tree's ≈ 58–62 is ≈ 8×, not 7×. Diagnosis: `‖TS x^{⊗8}‖²` is a product of 8
/// nearly exponential factors per frequency, so its distribution is heavy-tailed and a sample
/// variance over 3000 seeds usually falls short (8000 fresh seeds gave 298 ± 29); the doc's own
/// approximation `2(2^p − 1) = 510` is the better figure. The docs now give the exact
/// 5.8 / 28.7 / 498 and "≈ 8×"; the pass rule above holds them (and the tree's 57.7 against 498
/// is the 8×, within 10 %). Cost: none (closed form).
#[test]
fn tensor_sketch_variance_figures_match_the_exact_values() {
    let (m, x) = (256usize, vector(64, 41));
    let mut failures = Vec::new();
    let ratio = ts_scaled_variance(&x, 8, m) / 57.7;
    if (ratio / 8.0 - 1.0).abs() > 0.1 {
        failures.push(format!(
            "p = 8: TensorSketch / tree = {ratio:.2}, stated ≈ 8"
        ));
    }
    for (p, stated) in [(2usize, 5.8), (4, 28.7), (8, 498.0)] {
        let exact = ts_scaled_variance(&x, p, m);
        eprintln!("p = {p}: exact {exact:.1}, stated {stated}");
        if (stated / exact - 1.0).abs() > 0.1 {
            failures.push(format!("p = {p}: stated {stated} vs exact {exact:.1}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

/// Claim, `src/active/mod.rs:85`: "(At k = d every leverage/BSS selection repeats rows and has
/// fewer than d distinct labels.)", on the table's setting (`benches/active.rs`: Cauchy rows,
/// `n = 2·10⁴`, `d = 50`, `cauchy_problem(…, Seed 1, Seed 0)`, exact basis with `Seed 2`,
/// learners seeded by the trial `t = 0 .. 199`, [`Learner::select`] with `k = d`). No test
/// checked it. Pass rule: in all 200 trials of each strategy the round buys fewer than `d` new
/// labels (the selection never looks at label values, so the labels are zeros here).
/// Measured: at most 47 (leverage) and 48 (BSS) distinct labels from 50 draws. Cost: the
/// pool (two passes over a `20000 × 50` matrix) and 400 rounds of 50 draws or BSS steps, about
/// 3 s in the dev profile.
#[test]
fn selections_of_d_draws_repeat_rows() {
    use randnla::active::{Basis, Budgeted, Learner, Pool, SliceOracle, Strategy};
    let (n, d) = (20_000, 50);
    let (x, _, _) = randnla::active::cauchy_problem(n, d, 5.0, Seed::new(1), Seed::new(0)).unwrap();
    let view = MatrixRef::dense(x.as_ref()).unwrap();
    let pool = Pool::new(view, Basis::Exact, Seed::new(2), Par::Seq).unwrap();
    let y = vec![0.0; n];
    for (name, strategy) in [("leverage", Strategy::leverage()), ("bss", Strategy::bss())] {
        let mut most = 0;
        for t in 0..200u64 {
            let mut oracle = Budgeted::new(SliceOracle::new(&y), d);
            let mut learner = Learner::new(&pool, strategy.clone(), Seed::new(t)).unwrap();
            let info = learner.select(d, &mut oracle).unwrap();
            most = most.max(info.new_labels);
            assert!(
                info.new_labels < d,
                "{name}, trial {t}: {} distinct labels from {d} draws",
                info.new_labels
            );
        }
        eprintln!("{name}: at most {most} distinct labels from {d} draws in 200 trials");
    }
}

/// Claim, `src/sketch/tensor/mod.rs:6` (the table's "size needed for relative variance ε²" of
/// TensorSketch): "`m ≈ (2 + 3^p)/ε²` in the worst case". The closed form of the module docs
/// (checked against 2·10⁴ seeds per case by `tensor_sketch_norm_variance_is_the_closed_form`,
/// and here again near its worst case) is increasing in `c = 1 − S₄/‖x‖⁴`, so the worst case
/// over `x` is `c → 1` (spread-out `x`): `sup m·Var = (1/m)[N₂(3^p − 1) + 2(m − N₂)(2^p − 1)]`,
/// which for `m ≫ (3/2)^p` is `≈ 2(2^p − 1)`, not `2 + 3^p`. Input: the all-ones vector in
/// `ℝ⁵¹²` (`c = 1 − 1/512`), `p = 4`, `m = 256`, 2·10⁴ seeds. Pass rule: the sample `m·Var`
/// within 4 standard errors of the closed form (the worst case is real), and the worst-case
/// size `m*(ε)` — the least `m` with `sup m·Var/m ≤ ε²` by the closed form at `c = 1` — within a
/// factor 2 of `(2 + 3^p)/ε²` at `ε = 0.1`, `p = 4, 6, 8` ("≈").
///
/// Failed as written: the sample gives 30.3 ± 0.9 against the closed form's 30.3 (the bound's 83),
/// and `m*(0.1)` is 3 003 / 12 605 / 51 013 against the stated 8 300 / 73 100 / 656 300 — 2.8×,
/// 5.8× and 12.9× less. Diagnosis: `2 + 3^p` is the Avron–Nguyễn–Woodruff bound (mod.rs:1102,
/// which holds: `tensor_sketch_norm_variance_is_the_closed_form`), valid for weaker hash
/// families; with the crate's independent per-mode hashes a rank-one `x^{⊗p}` (or
/// `x₁ ⊗ … ⊗ x_p`) needs at most `≈ 2(2^p − 1)/ε²` rows, so the table overstates the worst
/// case by a factor growing like `(3/2)^p/2`. The table now gives `(2 + 3^p)/ε²` as the bound
/// and `≈ 2(2^p − 1)/ε²` as the worst case for `x^{⊗p}`; pass rule for it: `m*(0.1)` within
/// 10 % of `2(2^p − 1)/ε²` and below the bound. Cost: 2·10⁴ sketches of a 512-vector, about
/// 2 s in the dev profile.
#[test]
fn tensor_sketch_worst_case_size() {
    let (m, x) = (256usize, vec![1.0; 512]);
    let v = norm_ratios(&x, 4, m, false, 2_000_000..2_020_000);
    let (var, se) = scaled_sample_variance(&v, m);
    let want = ts_scaled_variance(&x, 4, m);
    eprintln!("ones(512), p = 4, m = {m}: m·Var {var:.2} ± {se:.2}, closed form {want:.2}");
    assert!((var - want).abs() <= 4.0 * se, "{var} ± {se} vs {want}");
    let sup = |p: i32, m: usize| {
        let n2 = if m.is_multiple_of(2) { 2.0 } else { 1.0 };
        let mf = m as f64;
        (n2 * (3f64.powi(p) - 1.0) + 2.0 * (mf - n2) * (2f64.powi(p) - 1.0)) / mf
    };
    let eps2 = 0.01;
    let mut failures = Vec::new();
    for p in [4i32, 6, 8] {
        let bound = (2.0 + 3f64.powi(p)) / eps2;
        let stated = 2.0 * (2f64.powi(p) - 1.0) / eps2;
        let needed = (1..10_000_000usize)
            .find(|&m| sup(p, m) / m as f64 <= eps2)
            .unwrap();
        eprintln!(
            "p = {p}: worst-case m for ε = 0.1: {needed} (stated ≈ {stated:.0}, bound {bound:.0})"
        );
        if (needed as f64 / stated - 1.0).abs() > 0.1 || needed as f64 > bound {
            failures.push(format!(
                "p = {p}: {needed} vs stated ≈ {stated:.0}, bound {bound:.0}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
