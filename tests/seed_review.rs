//! Seed-robustness audit of the statistical tests (2026-12-06): each rule below holds for the
//! seeds its test commits but fails on many other seeds, so it pins the committed seeds rather
//! than the claim. Each was first replayed unchanged on a block of other seeds on which it
//! failed; the doc comments keep the numbers of those replays. Seven rules were found;
//! all seven were re-derived the same day (notes in place of their replays below, or the replay
//! itself, now of the new rule and run on seeds the rule was not set on).

use crate::common;

use common::dense;
use faer::{Mat, Par};
use randnla::leverage::{exact_leverage_scores, ExactParams};
use randnla::sketch::tensor::{clustered_rows, PolyKernelFeatures, PolyKernelParams, TreeSketch};
use randnla::{problems, MatrixRef, Seed};

/// `leverage::approx_error_table_is_reproduced`, re-derived the same day, replayed on sketch
/// seeds 5000–5004 instead of 1000–1004. The old rule: each quantile (median, 90 %, 99 % of
/// `|ℓ̃_i − ℓ_i|/ℓ_i` over the 60 000 rows of three sketches, seeds 0–2, of the `20000 × 50`
/// Gaussian matrix) within `0.01 + 3 %` of the table printed from those same seeds. A sketch's
/// error is mostly shared by all its rows, so the quantiles moved with the seeds: over 8 seed
/// triples only 0–2 passed every row (sd over triples up to 1.7 tolerances); on 5000–5002,
/// `m₁ = 10d, r₂ = 200`, debias gave [0.0858, 0.2205, 0.3764] against [0.08, 0.19, 0.31]. The
/// new rule (`common::approx_error_rule`): the table pools 240 sketches, and the median over 5
/// other sketches of each sketch's quantiles is compared within a relative tolerance from the
/// spread of that median over 4000 random 5-seed subsets (0.06–0.37 by row and quantile). On
/// 5000–5004 the largest deviations are −0.136 (`m₁ = 2d`, debias, 99 %; its tolerance 0.37)
/// and +0.088 (`m₁ = 10d, r₂ = 100`, no debias, median; 0.25); `m₁ = 10d, r₂ = 200`: +0.081 on
/// the 99 % (0.13), the closest to its tolerance.
#[test]
fn approx_error_rule_holds_on_other_sketch_seeds() {
    let (n, d) = (20_000, 50);
    let gaussian = problems::gaussian_matrix(n, d, Seed::new(1)).unwrap();
    let (ex, _) =
        exact_leverage_scores(dense(&gaussian), &ExactParams::default(), Par::Seq).unwrap();
    let failures = common::approx_error_rule(&gaussian, &ex, 5000..5005);
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

/// `tensor_sketch::full_size_kernel_error_figures`'s clustered rule, re-derived the same day,
/// replayed on sketch seeds 3100–3102 instead of 100–102 (`n = 1500, d = 40`, clustered rows,
/// data seed 1). The old rule, "within ±20 % of this crate's own measurement 0.150 / 0.059 /
/// 0.033", was set around one seed (100); over sketch seeds 100, 1100, …, 5100 the whole test
/// passed on 3 of 6 (relative deviation at m = 4096 from +0.3 % to +44.3 %, sd 0.16; at seed
/// 3100: 0.0851 against 0.059). The new rule (`common::clustered_kernel_error_rule`): the median
/// over three sketch seeds at each m within a factor 1.5 of the median over 24 other seeds
/// (`common::CLUSTERED_KERNEL_ERROR`, 0.143 / 0.0745 / 0.0348), the geometric mean of the three
/// ratios within 1.25 (≈ 4 sd each, from the spread over 30 seeds). On 3100–3102 the medians
/// are 0.1369 / 0.0851 / 0.0359 (ratios 0.957 / 1.142 / 1.032, geometric mean 1.041).
#[test]
fn clustered_kernel_error_rule_holds_on_other_sketch_seeds() {
    let clustered = clustered_rows(1500, 40, 8, 0.3, Seed::new(1)).unwrap();
    let medians = common::CLUSTERED_KERNEL_ERROR
        .map(|(m, _)| common::median_kernel_error(&clustered, m, 3100..3103));
    common::clustered_kernel_error_rule(medians).unwrap();
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
