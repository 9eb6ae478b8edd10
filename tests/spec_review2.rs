//! Spec-conformance audit of ALGORITHMS.md §5–§8 (review `spec2`, 2026-12-06): every
//! "Acceptance:" item and reference figure of those sections, the test that implements it, and
//! its verdict. Tests named here without a path are in this file.
//!
//! # §5 Least squares
//! | item | test | verdict |
//! |---|---|---|
//! | sketch-and-solve ratio ≈ 1 + d/(m − d − 1) (1.16 / 1.05 / 1.01 at 4d / 10d / 40d) | `lstsq::sketch_and_solve_residual_ratio_matches_theory_over_many_seeds` (200 seeds, Gaussian and sparse sign, mean excess within 15 % ≈ 5 sd) and `lstsq::sketch_and_solve_bound_holds_with_the_exact_distortion` | conforms (note: 1 + d/(m − d − 1) is the expected *squared* ratio, 1.34 at 4d; the spec's 1.16 / 1.05 / 1.01 are its square roots, the norm ratio; the test checks the squared ratio and `expected_ratio` = the root, consistent with both) |
//! | sketch-and-precondition with sparse sign, m ≈ 2d–4d: κ(AR⁻¹) ≤ (1 + ε)/(1 − ε), iterations free of κ(A) | `lstsq::preconditioned_conditioning_and_iterations_do_not_depend_on_kappa` (κ(AR⁻¹) ≤ 7 at 2d, ≤ 3.5 at 4d, equal across κ(A) ∈ {1, 1e4, 1e8, 1e12} to 1e-3) | conforms |
//! | rank-deficient A: SVD (LSRN) preconditioner, minimum-norm solution | `lstsq::rank_deficient_gives_the_minimum_norm_solution`, `lstsq_review4::rank_deficient_with_an_ill_conditioned_range_gives_the_minimum_norm_solution`, `lstsq_review4::rank_deficient_with_a_small_residual_gives_the_minimum_norm_solution` | conforms |
//! | plain S&P not backward stable, "pick a variant and measure it" (refined S&P chosen) | `lstsq::refinement_restores_backward_stability_at_kappa_1e12`, `lstsq_review4::backward_check_refines_the_answers_a_single_refinement_run_leaves_far_from_qr` | conforms |
//! | Epperly sweep κ ∈ {1, 1e4, 1e8, 1e12} × ρ ∈ {1e-12, 1e-6, 1e-3}: forward error ≤ 10u(κ + κ²ρ/(‖A‖‖x‖)); iterations ≤ log(tol)/log((κ_p − 1)/(κ_p + 1)) + 5 | `lstsq::epperly_sweep_is_forward_stable_and_iterations_do_not_grow_with_kappa` (2000 × 50, κ_p by dense SVD, every run), `lstsq_review4::sparse_sweep_is_forward_stable_for_every_seed_and_storage` | conforms |
//! | ridge | `lstsq::ridge_matches_dense_solves` (λ ∈ {1e-3, 1, 1e3}, to 1e-10 against QR of [A; √λI], normal equations and damped LSQR), `lstsq_ridge_scale`, `lstsq_review6` | conforms |
//! | attention-kernel regression P1/P2/P3 against dense solves at n ≤ 2000, residual ≤ (1 + ε)·OPT | `lstsq_kernel::p1_matches_dense_solve` (1500 × 20, j = 1–3), `lstsq_kernel::p2_is_within_one_plus_eps_of_opt` (2000 × 15, ≤ (1 + 1e-8)·OPT), `lstsq_kernel::p2_meets_its_bound_on_a_nearly_consistent_problem`, `lstsq_kernel::p3_matches_dense_solve` (n = 1000, ≤ 1.01·dense), `lstsq_review4::p3_matches_dense_solves_at_larger_scales_on_every_route` | conforms |
//! | benchmark (time to accuracy vs nnz, QR, normal equations, LSQR) | not an acceptance item; not run (no long benchmarks in this review) | not checked |
//!
//! # §6 Polynomial attention
//! | item | test | verdict |
//! |---|---|---|
//! | block products equal tril(ABᵀ)C and tril((ABᵀ)^{∘2})C to 1e-12 | `attention::block_products_match_explicit_lower_triangular_products`, `attention_review2::block_products_match_loops` | conforms |
//! | identity sketch: linear-time path equals exact degree-4 attention | `attention::identity_sketch_equals_exact_polynomial_attention` (causal and not, to 1e-12) | conforms |
//! | causality: changing v_j, j > i, leaves out_i bitwise unchanged | `attention::causal_outputs_ignore_the_future_bitwise`, `attention_review2::causal_bitwise_and_sketch_f32`, `attention_review3::a_future_value_does_not_flip_the_sign_of_a_zero_output` | conforms |
//! | all weights ≥ 0 | `attention::sketched_weights_are_nonnegative_and_define_the_output` (every map, p = 2, 4, 8, dots of both signs) | conforms |
//! | error against exact falls as r grows | `attention::error_falls_as_the_sketch_grows_on_clustered_inputs` | conforms |
//! | scaling: ⟨φ(q), φ(k)⟩ estimates ⟨q, k⟩^{p/2} without a stray 1/r | `attention::feature_inner_products_are_unbiased`, `attention_review2::feature_maps_unbiased`, `polysketch_review` | conforms |
//! | reference figures (n = 4096, h = 64): clustered ≈ 0.5 / 0.35 / 0.2 at r = 32 / 64 / 128; iid ≈ 1 for every r ≤ 128 | `attention::errors_match_the_spec_figures_on_clustered_and_iid_inputs` (medians within ±30 %, measured 0.555 / 0.342 / 0.242; iid ≥ 0.8 at r = 32, 64, 128) and, for iid at r = 8 and 16, [`attention_error_on_iid_inputs_is_near_one_at_small_r`] (measured 1.14–1.16 and 1.09–1.11) | conforms (clustered); iid was checked only at r ≥ 32, now covered |
//! | cost/crossover benchmark | not an acceptance item; not run | not checked |
//!
//! # §7 Sketched tensor power method
//! | item | test | verdict |
//! |---|---|---|
//! | FFT sketch of u^{⊗p} equals the explicit CountSketch of u^{⊗p} | `tensor_power::fft_sketch_of_power_equals_explicit_count_sketch` (orders 3–5, both hashings, to 1e-12) | conforms |
//! | contraction estimates unbiased, variance ∝ 1/b (p = 3 and 4) | `tensor_power::contractions_are_unbiased_with_variance_inverse_in_b` (400 sketches, 4.5 SE; variance ratio b = 64 → 256 in [2.5, 6.4]), `tensor_power::shared_hash_is_unbiased_at_order_3_even_on_large_partial_traces`, `tensor_power::shared_hash_is_biased_on_large_partial_traces_per_mode_is_not` | conforms |
//! | orthogonal tensors n ∈ {50, 100, 200}, k = 10, noise ∈ {0, 0.01}: factor error ≤ 0.05, weight error ≤ 5 % | `tensor_power::sketched_recovers_orthogonal_order3_n50_n100`, `tensor_power::sketched_recovers_orthogonal_order3_n200` (reduced starts/iterations: 4 starts, 6 + 6 iterations, not L = 50, N = 30) | conforms |
//! | "residual within 10 % of the exact method from the same starts" | the tests above read it as *absolute* (r_sk ≤ r_ex + 0.10); the relative reading is [`tensor_power_residual_within_ten_percent_of_the_exact_method`] | the sketched method alone fails the spec's literal (relative) rule at noise 0.01, `#[ignore]`d with the numbers (the sketch noise sets the floor); followed by two sweeps of `tensor::refine_exact` it meets it: [`residual_within_ten_percent_of_the_exact_method_after_exact_refinement`] (equal to 4 digits); the absolute reading conforms |
//! | reference headline (800³, rank 100: 69 s + 12.7 s) | a benchmark of minutes; not run | not checked |
//!
//! # §8 Active learning
//! | item | test | verdict |
//! |---|---|---|
//! | uniform at 20d: median ≈ 500 | `active::leverage_and_uniform_reproduce_the_reference_behaviour` asserted only median ≥ 20; now [`uniform_at_20d_is_near_the_spec_figure`] | was weaker, now covered |
//! | leverage at 5d: median ≈ 1.18 but mean ≈ 1000 (rare bad draws) | median: `active::leverage_and_uniform_reproduce_the_reference_behaviour` ([1.05, 1.4], 24 trials); the mean / rare bad draws had no test: [`leverage_at_5d_has_rare_catastrophic_draws`] | was missing, now covered (the crate's pool gives a mean of ≈ 15, not ≈ 1000: see that test) |
//! | leverage at 20d: mean ≈ 1.05 | `active::leverage_and_uniform_reproduce_the_reference_behaviour` asserted the median (8 trials), not the mean; now [`leverage_at_20d_has_the_spec_mean`] | was weaker, now covered |
//! | Chen–Price mean ratio ≤ 2 at k = 5d | `active::bss_meets_the_section_8_targets` (the spec's 200 trials, worst ≤ 10) | conforms |
//! | Chen–Price ≤ 1.1 at ε = 0.1 | `active::bss_meets_the_section_8_targets` (k = 20d, 16 trials; the crate has no ε parameter, k = 20d stands for O(d/ε) with ε = 0.1; module docs: mean ≤ 1.1 needs k = 14d) | conforms |
//! | budget never exceeded | `active::the_budget_is_never_exceeded`, `user_review_active_tensor::the_budget_holds_against_a_failing_oracle` | conforms |
//! | adversarial noise on high-leverage rows | `active::adversarial_noise_on_high_leverage_rows` (with a uniform-sampling control) | conforms |

use faer::{Mat, Par};
use randnla::active::{
    cauchy_problem, noisy_labels, Basis, Budgeted, Learner, Pool, SliceOracle, Strategy,
};
use randnla::attention::{
    exact_attention, poly_sketch_attention, relative_error, ExactParams, FeatureMap, Kernel,
    PolySketchParams,
};
use randnla::problems::gaussian_matrix;
use randnla::tensor::{
    power_method_exact, power_method_sketched, refine_exact, residual_rel, CpDecomposition,
    ModeHashing, SymmetricTensor,
};
use randnla::{MatrixRef, Seed};
use std::sync::OnceLock;

/// The §8 experiment's pool: Cauchy rows, n = 2·10⁴, d = 50 (pool seed 1, as `active.rs`).
const N: usize = 20_000;
const D: usize = 50;

fn experiment() -> &'static (Mat<f64>, Vec<f64>) {
    static E: OnceLock<(Mat<f64>, Vec<f64>)> = OnceLock::new();
    E.get_or_init(|| {
        let (x, beta, _) = cauchy_problem(N, D, 5.0, Seed::new(1), Seed::new(0)).unwrap();
        (x, beta)
    })
}

/// Ratios ‖Xβ̃ − y‖²/OPT of `strategy` with `k` labels over the given trials (trial `t`: labels
/// `y = Xβ + 5g` from noise seed `1000 + t`, selection seed `t`, the draws of `active.rs`), in
/// trial order; a failed (rank-deficient) fit counts as ∞.
fn ratios_of(strategy: &Strategy, k: usize, trials: impl IntoIterator<Item = u64>) -> Vec<f64> {
    let (x, beta) = experiment();
    let xv = MatrixRef::dense(x.as_ref()).unwrap();
    let pool = Pool::new(xv, Basis::Exact, Seed::new(2), Par::Seq).unwrap();
    let mut out = Vec::new();
    for t in trials {
        let y = noisy_labels(xv, beta, 5.0, Seed::new(1000 + t)).unwrap();
        let (_, opt) = pool.least_squares(&y).unwrap();
        let mut oracle = Budgeted::new(SliceOracle::new(&y), k);
        let mut learner = Learner::new(&pool, strategy.clone(), Seed::new(t)).unwrap();
        learner.select(k, &mut oracle).unwrap();
        assert!(oracle.labels_used() <= k);
        out.push(match learner.fit(0.0) {
            Ok((b, _)) => pool.residual_norm_sq(&b, &y).unwrap() / opt,
            Err(_) => f64::INFINITY,
        });
    }
    out
}

/// [`ratios_of`] over trials `0..trials`, sorted.
fn ratios(strategy: &Strategy, k: usize, trials: u64) -> Vec<f64> {
    let mut out = ratios_of(strategy, k, 0..trials);
    out.sort_by(f64::total_cmp);
    out
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// §8: "uniform at 20d ≈ 500 (median)". The existing check (`active.rs`) only asks for a median
/// ≥ 20, which a uniform sampler 25 times better than the spec's would pass. Pass rule here, 16
/// trials at k = 20d: the median lies within a factor 5 of the spec's 500, i.e. in [100, 2500].
#[test]
fn uniform_at_20d_is_near_the_spec_figure() {
    let r = ratios(&Strategy::Uniform, 20 * D, 16);
    let med = r[r.len() / 2];
    eprintln!("uniform 20d: median {med:.1}, ratios {r:.1?}");
    assert!(
        (100.0..=2500.0).contains(&med),
        "uniform 20d: median {med} (spec ≈ 500)"
    );
}

/// §8: "leverage at 20d: mean ≈ 1.05". `active.rs` checks the median over 8 trials; the mean is
/// what the spec quotes and what rare bad draws would spoil. Pass rule, 32 trials at k = 20d:
/// the mean lies in [1.02, 1.10] (first-order theory for i.i.d. leverage sampling with weights
/// 1/(k·p_i): E ratio ≈ 1 + d/k = 1.05), and no trial exceeds 1.5.
#[test]
fn leverage_at_20d_has_the_spec_mean() {
    let r = ratios(&Strategy::leverage(), 20 * D, 32);
    let (m, worst) = (mean(&r), r[r.len() - 1]);
    eprintln!("leverage 20d: mean {m:.4}, worst {worst:.4}");
    assert!((1.02..=1.10).contains(&m), "leverage 20d: mean {m} ({r:?})");
    assert!(worst <= 1.5, "leverage 20d: worst {worst} ({r:?})");
}

/// §8: "leverage at 5d: median ≈ 1.18 but mean ≈ 1000 (rare bad draws)" — the reason for
/// Chen–Price. No test checked the rare bad draws. Measured over the spec's 200 trials (this
/// file's `ratios_of(&Strategy::leverage(), 250, 0..200)`, 29 s in a dev build, too slow for CI):
/// median 1.064, mean 15.53, worst 2835 (trial 150), then 31.5 (trial 151), 4.8, 3.8, 2.6; BSS
/// on trials 150 and 151 gives 2.32 and 1.06. So the heavy tail is there, but the spec's mean
/// "≈ 1000" is not reproduced on this pool: one draw in 200 makes 14.2 of the mean's 15.5, so the
/// mean of 200 trials is set by which rare draws they contain (the spec's pool is not given).
/// Pass rule (trials 0–31 and the two worst draws of the scan, 150 and 151):
/// - the median of trials 0–31 is in [1.0, 1.4] (spec ≈ 1.18);
/// - leverage sampling's ratio is ≥ 100 on trial 150 and ≥ 10 on trial 151 (a draw that misses
///   a high-leverage direction), while Chen–Price (BSS) on the same labels and seeds stays ≤ 10
///   on both — the property the spec asks BSS for.
#[test]
fn leverage_at_5d_has_rare_catastrophic_draws() {
    let mut r = ratios(&Strategy::leverage(), 5 * D, 32);
    r.sort_by(f64::total_cmp);
    let med = r[r.len() / 2];
    assert!(
        (1.0..=1.4).contains(&med),
        "leverage 5d: median {med} ({r:?})"
    );
    let bad = ratios_of(&Strategy::leverage(), 5 * D, [150, 151]);
    let bss = ratios_of(&Strategy::bss(), 5 * D, [150, 151]);
    eprintln!("leverage 5d: median {med:.4}; trials 150, 151: leverage {bad:.2?}, BSS {bss:.3?}");
    assert!(
        bad[0] >= 100.0 && bad[1] >= 10.0,
        "leverage 5d, trials 150 and 151: {bad:?}"
    );
    assert!(
        bss.iter().all(|&x| x <= 10.0),
        "BSS 5d, trials 150 and 151: {bss:?}"
    );
}

/// §7: "residual within 10 % of the exact method from the same starts", read relatively:
/// ‖T − T̂_sk‖_F/‖T‖_F ≤ 1.1·‖T − T̂_ex‖_F/‖T‖_F. At noise 0 this reading is impossible (the
/// exact residual is ≈ 0), so it is checked at noise 0.01 only, on the spec's n = 50 and 100,
/// k = 10, order 3, with the same starts, iterations and seeds as
/// `tensor_power::sketched_recovers_orthogonal_order3_n50_n100` (4 starts, 6 + 6 iterations,
/// default (automatic) sketch shape, both hashings). That test reads the rule as absolute
/// (r_sk ≤ r_ex + 0.10) and passes; this one is the literal reading.
///
/// Fails. Measured (r_ex / r_sk): Auto n = 50: 0.0099 / 0.0409 (shape B = 14, b = 2¹⁴);
/// Auto n = 100: 0.0100 / 0.0488 (B = 14, b = 2¹⁵); PerMode n = 50: 0.0099 / 0.0598;
/// PerMode n = 100: 0.0100 / 0.0667 — 4–7× the exact method's residual, not within 10 %. The
/// floor is the sketches' noise, not the iterations: the default `PowerParams` (L = 50, N = 30)
/// give the same 0.0409 / 0.0482, and the spec's reference shape B = 30, b = 2¹⁶ at n = 50 gives
/// 0.0145 (1.46× the exact 0.0099), also with every refinement iteration at full size
/// (`polish_iters = usize::MAX`). The factor/weight rule (≤ 0.05) of the same item is met, and
/// allows a residual of up to ≈ 0.10, so the spec's two rules disagree; either the spec's
/// "within 10 %" is meant absolutely (then `tensor_power` conforms) or the sketched method needs
/// a final exact (unsketched) polish to meet it. That polish is `tensor::refine_exact`
/// (2026-12-07): [`residual_within_ten_percent_of_the_exact_method_after_exact_refinement`]
/// meets the relative reading with two sweeps; this test stays as the record of the sketched
/// method alone.
#[test]
#[ignore = "SPEC NOT MET by the sketched method alone (README Status #7; met after tensor::refine_exact, next test): the relative reading of §7's residual rule; sketched residual 4-7x the exact method's at noise 0.01"]
fn tensor_power_residual_within_ten_percent_of_the_exact_method() {
    let mut failures = Vec::new();
    for (case, r_ex, r_sk, _) in section7_residuals() {
        if r_sk > 1.1 * r_ex {
            failures.push(format!("{case}: {r_sk:.4} > 1.1·{r_ex:.4}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

/// `(case, r_exact, r_sketched, r_refined)` on §7's order-3 tensors, `n = 50, 100`, rank 10,
/// noise 0.01, both hashings (4 starts, 6 + 6 iterations, 2 search sketches, the seeds of
/// `tensor_power::sketched_recovers_orthogonal_order3_n50_n100`); `r_refined` after two sweeps
/// of [`refine_exact`] on the sketched result.
fn section7_residuals() -> Vec<(String, f64, f64, f64)> {
    let par = Par::rayon(2);
    let mut out = Vec::new();
    for hashing in [ModeHashing::Auto, ModeHashing::PerMode] {
        for n in [50usize, 100] {
            let seed = Seed::new(0x70 + n as u64);
            let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, n, 10, 0.01, seed).unwrap();
            let sp = crate::common::section7_sketch_params(hashing);
            let ex = power_method_exact(&t, 10, &sp.power, seed, par).unwrap();
            let sk = power_method_sketched(&t, 10, &sp, seed, par).unwrap();
            let re = refine_exact(&t, &sk, 2, par).unwrap();
            let res =
                |cp: &CpDecomposition| residual_rel(&t, &cp.weights, &cp.factors, par).unwrap();
            let (r_ex, r_sk, r_re) = (res(&ex), res(&sk), res(&re));
            let case = format!("{hashing:?} n={n}");
            eprintln!("{case}: residual exact {r_ex:.6}, sketched {r_sk:.6}, refined {r_re:.6}");
            out.push((case, r_ex, r_sk, r_re));
        }
    }
    out
}

/// §7's residual rule read relatively, for the sketched method followed by two sweeps of
/// [`refine_exact`] (exact contractions, three passes over `T`): the same tensors, starts,
/// iterations, seeds and both hashings as
/// [`tensor_power_residual_within_ten_percent_of_the_exact_method`], where the sketched method
/// alone is 4–7× the exact residual. Pass rule: `r_refined ≤ 1.1·r_exact` in every case, and
/// the refinement is what makes it pass (`r_sketched > 1.1·r_exact` before it, in every case).
#[test]
fn residual_within_ten_percent_of_the_exact_method_after_exact_refinement() {
    for (case, r_ex, r_sk, r_re) in section7_residuals() {
        assert!(r_sk > 1.1 * r_ex, "{case}: {r_sk} ≤ 1.1·{r_ex}");
        assert!(r_re <= 1.1 * r_ex, "{case}: {r_re} > 1.1·{r_ex}");
    }
}

/// §6: "on iid Gaussian Q, K the relative output error is ≈ 1 for every r up to 128". The spec
/// figure test (`attention::errors_match_the_spec_figures_on_clustered_and_iid_inputs`) checks
/// r = 32, 64, 128; this adds the small sketches r = 8 and 16 at the spec's size (n = 4096,
/// h = 64, p = 4, non-causal, Gaussian φ; Q, K, V Gaussian from seeds 1, 2, 3). Pass rule:
/// every error over sketch seeds 0–2 is ≥ 0.8 (as in that test) and ≤ 2.
#[test]
fn attention_error_on_iid_inputs_is_near_one_at_small_r() {
    let (n, h) = (4096, 64);
    let q = gaussian_matrix(n, h, Seed::new(1)).unwrap();
    let k = gaussian_matrix(n, h, Seed::new(2)).unwrap();
    let v = gaussian_matrix(n, h, Seed::new(3)).unwrap();
    let exact = exact_attention(
        q.as_ref(),
        k.as_ref(),
        v.as_ref(),
        Kernel::Polynomial { degree: 4 },
        &ExactParams {
            causal: false,
            block: 256,
        },
        Par::rayon(2),
    )
    .unwrap();
    for r in [8usize, 16] {
        let errors: Vec<f64> = (0..3)
            .map(|s| {
                let p = PolySketchParams {
                    degree: 4,
                    sketch_dim: r,
                    map: FeatureMap::Gaussian,
                    causal: false,
                    block: 256,
                    seed: Seed::new(s),
                    check: false,
                };
                let (out, _) =
                    poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &p, Par::rayon(2))
                        .unwrap();
                relative_error(out.as_ref(), exact.as_ref()).unwrap()
            })
            .collect();
        eprintln!("iid r = {r}: errors {errors:.3?}");
        assert!(
            errors.iter().all(|e| (0.8..=2.0).contains(e)),
            "iid r = {r}: errors {errors:?}"
        );
    }
}
