//! Seed-robustness audit of the statistical tests (2026-12-06): each rule below holds for the
//! seeds its test commits but fails on many other seeds, so it pins the committed seeds rather
//! than the claim. Each test replays the committed rule unchanged on a block of other seeds on
//! which it fails; the numbers in the doc comments are from that replay. Seven rules were found;
//! five were re-derived the same day (notes in place of their replays below, or the replay
//! itself, now of the new rule and run), two wait.

use crate::common;

use common::dense;
use faer::{Mat, Par};
use randnla::leverage::{exact_leverage_scores, ExactParams};
use randnla::sketch::tensor::{clustered_rows, PolyKernelFeatures, PolyKernelParams, TreeSketch};
use randnla::{problems, MatrixRef, Seed};

/// `leverage::approx_error_table_is_reproduced` replayed on sketch seeds 5000–5002 instead of
/// 0–2. Its rule: each printed quantile (median, 90 %, 99 % of `|ℓ̃_i − ℓ_i|/ℓ_i` over the
/// 60 000 rows of three sketches of the `20000 × 50` Gaussian matrix) is reproduced within
/// `0.01 + 3 %`. The 60 000 errors are not independent — a sketch's error is mostly shared by
/// all its rows — so the three quantiles move with the three seeds, and the tolerance is far
/// below their spread over seeds. Audit over 8 seed triples (0–2, 1000–1002, …, 7000–7002):
/// only the committed triple 0–2 passes every row; rows pass on 4, 4, 4, 7, 4, 5, 6, 6, 8 of
/// the 8 triples. Spread over triples of (measured − printed)/tolerance, in units of the
/// tolerance: sd up to 1.7 (row m₁ = 2d, r₂ = 0, debias, 99 %: from −2.97 to +2.12); the
/// committed triple's values are all within 0.37 of the printed ones (the table was printed
/// from these seeds). On seeds 5000–5002: m₁ = 10d, r₂ = 200, debias gives
/// [0.0858, 0.2205, 0.3764] against the printed [0.08, 0.19, 0.31] (99 %: 3.4 tolerances out);
/// m₁ = 10d, r₂ = 400: [0.0699, 0.1782, 0.3016] against [0.064, 0.16, 0.25]; m₁ = 2d, r₂ = 0,
/// debias: 99 % 0.651 against 0.61; m₁ = 10d, r₂ = 100, no debias: [0.155, 0.392, 0.636]
/// against [0.14, 0.36, 0.59]. Either the documented table (docs of `ApproxParams`) should
/// give the spread over seeds, or the test should compare with a band over seeds.
#[test]
#[ignore = "BUG (seed-tuned): the ApproxParams error table is reproduced within 0.01 + 3 % only on seeds 0-2"]
fn approx_error_table_holds_on_other_sketch_seeds() {
    let (n, d) = (20_000, 50);
    let gaussian = problems::gaussian_matrix(n, d, Seed::new(1)).unwrap();
    let (ex, _) =
        exact_leverage_scores(dense(&gaussian), &ExactParams::default(), Par::Seq).unwrap();
    let mut failures = Vec::new();
    for (m1, r2, debias, printed) in common::APPROX_ERROR_TABLE {
        let got = common::approx_error_quantiles(&gaussian, &ex, (m1, r2, debias), 5000..5003);
        if got
            .iter()
            .zip(printed)
            .any(|(g, p)| (g - p).abs() > 0.01 + 0.03 * p)
        {
            failures.push(format!(
                "m₁ = {m1}d, r₂ = {r2}, debias {debias}: {got:.4?} against {printed:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// The uniform-sampling control of
// `leverage::leverage_sampling_embeds_the_coherent_matrix_where_uniform_sampling_fails` (κ > 7 on
// at least 4 of 5 seeds) failed on 4 of the 40 blocks of five seeds in 0..200: a uniform draw
// that misses all 50 identity rows (probability ≈ 0.14) gives κ ≈ 1.6 with σ ∈ [0.107, 0.174], a
// failed embedding κ cannot see. The control now tests σ_min < 1/2, σ_max > 2 or κ > 7 on every
// one of 40 seeds (fixed the same day), so its replay here was removed.

/// Kernel-matrix relative error of degree-3 features (sketch seed `seed`) on `x`.
fn kernel_error(x: &Mat<f64>, m: usize, seed: u64) -> f64 {
    let params = PolyKernelParams {
        degree: 3,
        sketch_dim: m,
        ..Default::default()
    };
    let view = MatrixRef::dense(x.as_ref()).unwrap();
    let f = PolyKernelFeatures::new(x.ncols(), params, Seed::new(seed)).unwrap();
    let phi = f.transform(view, Par::Seq).unwrap();
    f.kernel_error(view, phi.as_ref(), x.nrows(), Par::Seq)
        .unwrap()
}

/// `tensor_sketch::full_size_kernel_error_figures`, its rule "clustered within ±20 % of this
/// crate's own measurement (0.150 / 0.059 / 0.033 at m = 1024 / 4096 / 16384)", replayed at
/// sketch seed 3100 instead of 100 (`n = 1500, d = 40`, clustered rows, data seed 1). The
/// ±20 % band was set around one seed's value; the clustered error's spread over sketch seeds
/// is larger. Sketch seeds 100, 1100, …, 5100: the whole test passes on 3 of 6; relative
/// deviation from the measured figure at m = 4096: +0.3 % (committed), +9.7 %, +24.7 %,
/// +44.3 %, +10.7 %, +29.0 % (sd 0.16); at m = 16384: −9 % to +24.6 % (seed 5100: 0.0411).
/// The iid figures (±10 % of the stated ones) hold on every seed (sd 0.6–1 %). At seed 3100:
/// clustered error at m = 4096 is 0.0851 against 0.059.
#[test]
#[ignore = "BUG (seed-tuned): the clustered kernel-error figures (+-20 %) hold at sketch seed 100, not 2100/3100/5100"]
fn clustered_kernel_error_figure_holds_on_another_sketch_seed() {
    let clustered = clustered_rows(1500, 40, 8, 0.3, Seed::new(1)).unwrap();
    let c = kernel_error(&clustered, 4096, 3100);
    assert!(
        (c / 0.059 - 1.0).abs() < 0.2,
        "clustered m=4096, sketch seed 3100: {c} vs measured 0.059"
    );
}

/// `(m·Var̂, its standard error)` of `‖S x^{⊗p}‖²/‖x‖^{2p}` over seeds `base..base + 3000`, as
/// `tensor_sketch::scaled_variance`.
fn scaled_variance(m: usize, base: u64, mut sq: impl FnMut(Seed) -> f64) -> (f64, f64) {
    let vals: Vec<f64> = (base..base + 3000).map(|s| sq(Seed::new(s))).collect();
    common::scaled_sample_variance(&vals, m)
}

/// `tensor_sketch::tree_variance_does_not_grow_geometrically_with_p` at p = 8, replayed on
/// seeds 100000–102999 instead of 0–2999 (m = 256, d = 64). Its old rule — the tree's `m·Var`
/// plus 4 of its standard errors below TensorSketch's *sample* `m·Var` minus 4 of its standard
/// errors — was seed-tuned: TensorSketch's squared norm at p = 8 is heavy-tailed, so its
/// estimate and standard error are erratic (over 5 blocks of 3000 seeds, 0, 100000, …, 400000:
/// 398 ± 63, 409 ± 87, 311 ± 37, 686 ± 325, 706 ± 387; the tree 57.7–61.7 ± 2.2–3.0), and the
/// rule held on 2 of the 5 blocks (on 100000: 61.4 against 70.2). Re-derived the same day: the
/// tree's estimate plus 4 standard errors is compared with TensorSketch's *exact* `m·Var` (the
/// closed form, `common::ts_scaled_variance`); this replay runs that rule on block 100000.
#[test]
fn tree_variance_rule_holds_on_other_seeds() {
    let (m, d, p) = (256, 64, 8);
    let x = common::signed_unit_vector(d, 41);
    let n2: f64 = x.iter().map(|v| v * v).sum();
    let tree = scaled_variance(m, 100_000, |s| {
        let t = TreeSketch::new(p, d, m, s).unwrap();
        t.apply_power(&x)
            .unwrap()
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            / n2.powi(p as i32)
    });
    let exact = common::ts_scaled_variance(&x, p, m);
    assert!(
        tree.0 + 4.0 * tree.1 < exact && tree.0 < 100.0,
        "tree {tree:?} vs TensorSketch's exact {exact}"
    );
}

/// `tensor_sketch::accuracy_depends_on_the_data_iid_versus_clustered` replayed on sketch seeds
/// 100 + 1000k, k = 0..20 (committed: 100). Rule: on `n = 400, d = 40`, p = 3, m = 1024, the
/// clustered error is below 0.2 and the iid error above 3× the clustered one. Measured over the
/// 20 seeds: clustered 0.115–0.182, iid/clustered 2.78–4.35 (mean 3.55, sd 0.43; committed
/// 3.44): 18 of 20 pass, a 10 % failure rate for a rule with no stated false-alarm rate. The
/// failing seeds: 9100 (clustered 0.173, iid 0.510, ratio 2.95) and 17100 (0.182, 0.506, 2.78).
/// Re-derived the same day: the rule is now iid > 2 × clustered (3 sd below the mean ratio),
/// and this replay runs it on all 20 seeds (no longer ignored).
#[test]
fn iid_versus_clustered_rule_holds_on_other_seeds() {
    let xc = clustered_rows(400, 40, 8, 0.3, Seed::new(1)).unwrap();
    let xi = problems::gaussian_matrix(400, 40, Seed::new(1)).unwrap();
    let mut failures = Vec::new();
    for k in 0..20u64 {
        let seed = 100 + 1000 * k;
        let (c, i) = (kernel_error(&xc, 1024, seed), kernel_error(&xi, 1024, seed));
        if !(c < 0.2 && i > 2.0 * c) {
            failures.push((seed, c, i, i / c));
        }
    }
    assert!(
        failures.is_empty(),
        "(seed, clustered, iid, ratio): {failures:.3?}"
    );
}

// Two rules of `tests/active.rs` found tuned to their trials were re-derived the same day and
// their replays removed: leverage sampling's 5d median band [1.05, 1.4] (failed on trials 72–95
// and 120–143: medians 1.049, 1.041; now (1, 1.25] from the spread of 10 blocks of 24), and
// BSS's worst-trial bar of 10 at 5d (10.84 on trials 200–399; now 100, an order above BSS's worst
// in 400 trials and an order below leverage sampling's 2835).
