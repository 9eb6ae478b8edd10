//! Hand mutation review of the sketched tensor power method (`src/tensor/sketched.rs`,
//! `src/tensor/power.rs`): tests that kill mutants the rest of the suite let through. Each
//! test's doc names the mutant (the one-token slip) and how it fails under it.
//!
//! 34 mutants (2026-12-07), 22 in `power.rs` and 12 in `sketched.rs`, each switched on by an
//! environment variable in one build and run against `cargo test --lib tensor` and
//! `suite_tensor` (the command-line and attention tests left out). None repeats round 3's
//! (`tests/mutation_review_sketch_tensor.rs`).
//!
//! Killed by the suite (29). `power.rs`: automatic `b` capped at `2¹⁷`; `B` not made even;
//! the automatic `b_s` floor `min(b, 2⁹)`; the exact oracle's deflation with `(a·u)^p`; the
//! refinement phase on the search sketches only; the spread's `NaN` only below one sketch;
//! the spread without `/√B`; the contraction cap without the final weight's `+ 1`; the switch
//! to full size one evaluation early; `start_values` or `weight_spread` not scaled back;
//! lockstep groups of 15 starts; the best start by `v` for `|v|`; one polish iteration too
//! many; `refine_exact`'s weights times `‖a‖^{p−1}`, its last sweep advancing the factors, a
//! flipped factor's weight sign not carried, its deflation with `(a·u)^p`, its contractions
//! `k·sweeps`. `sketched.rs`: `Auto` shared only for `16n < b_s`; the shared rank-one sketch's
//! even powers signed; `3c` for `2c` in the order-3 formula; Newton's sum one term short; the
//! folded spectrum one frequency short; no refold after a deflation; `w` carried into the
//! sketches' units by `2⁺ᵉ`; `B/tasks` rounded down; the median of an even count the upper
//! middle value; `estimates_all` not unscaled.
//!
//! Killed by the tests below (2): the power step `‖u − u_prev‖` without the `min` with
//! `‖u + u_prev‖`; the deflation range check with margin 1 for 16.
//!
//! Equivalent (3, not tested):
//! - `final_change` set to the refinement's step even when `refine_iters = 0`: with no
//!   iteration `iterate` leaves its change at its initial `NaN`, so the value is the same;
//! - the post-loop "stopped early" polish in `iterate` with `<` for `<=`: the block is
//!   unreachable from `robust_power` (`polish_from ≤ refine_iters`, and every pass of the loop
//!   adds one evaluation, the early stop being handled inside it, so `evals > polish_from`);
//! - `keep_folded` also keeping a "folded" copy at `b_s = b` (as the automatic `b_s` is for
//!   `b ≤ 2¹⁰`): the copy equals the spectra (refolded after every deflation) and the pairing
//!   cache ignores a second size equal to the first, so only memory changes.

use faer::Par;
use randnla::tensor::{
    power_method_exact, refine_exact, ModeHashing, PowerParams, SymmetricTensor, TensorSketches,
};
use randnla::Seed;

/// `Σ_j λ_j a_j^{⊗p}` as a dense `n^p` array, by plain loops over the multi-indices.
fn rank_sum(order: usize, n: usize, comps: &[(f64, Vec<f64>)]) -> SymmetricTensor {
    let len = n.pow(order as u32);
    let data = (0..len)
        .map(|flat| {
            comps
                .iter()
                .map(|(w, a)| {
                    let (mut r, mut prod) = (flat, *w);
                    for _ in 0..order {
                        prod *= a[r % n];
                        r /= n;
                    }
                    prod
                })
                .sum()
        })
        .collect();
    SymmetricTensor::dense(order, n, data).unwrap()
}

/// A rank-one order-4 tensor with a negative weight, `T = −a^{⊗4}`: the power map sends `u` to
/// `T(I,u,u,u) = −(a·u)³a`, so the iterate flips sign at every step while its direction stays
/// at `±a`. `final_change` is documented as `min(‖u − u_prev‖, ‖u + u_prev‖)` ("tends to 0 as
/// the iterate converges"), so it must be at rounding level (measured `0`, bound `10⁻¹²`);
/// and the weight is `−1`, the factor `±a`.
///
/// Kills "the step is `‖u − u_prev‖` only" (the `min` with `‖u + u_prev‖` dropped in
/// `advance`): the reported change is then `2` (and `refine_exact`'s likewise).
#[test]
fn sign_flipping_iterates_report_a_vanishing_change() {
    let a = [0.5, -0.5, 0.5, 0.5];
    let t = rank_sum(4, 4, &[(-1.0, a.to_vec())]);
    let params = PowerParams {
        starts: 2,
        iters: 5,
        refine_iters: 6,
    };
    let cp = power_method_exact(&t, 1, &params, Seed::new(4), Par::Seq).unwrap();
    assert!((cp.weights[0] + 1.0).abs() < 1e-12, "{:?}", cp.weights);
    let dot: f64 = cp.factors[0].iter().zip(&a).map(|(x, y)| x * y).sum();
    assert!((dot.abs() - 1.0).abs() < 1e-12, "{:?}", cp.factors);
    let c = cp.components[0].final_change;
    assert!(c < 1e-12, "power method: final_change = {c}");
    let r = refine_exact(&t, &cp, 2, Par::Seq).unwrap();
    let c = r.components[0].final_change;
    assert!(c < 1e-12, "refine_exact: final_change = {c}");
}

/// [`TensorSketches::deflate`] refuses a deflation whose subtracted sketch, bounded by
/// `|w|·‖u‖₁^p` "times 16 for the rounding and the intermediate sums", would leave the `f64`
/// range, and then changes nothing. Shared hashing at order 3 (`n = 4`, 3 sketches of size 16),
/// `w = 1`, `u = x·e_1`: at `x = 2³⁴¹` (`16·x³ = 2¹⁰²⁷`) the call must fail and leave every
/// sketch bitwise as it was; at `x = 2³³⁸` (`16·x³ = 2¹⁰¹⁸`) it must succeed with finite
/// sketches.
///
/// Kills "the margin is 1, not 16" (`fold(1.0, …)` in `check_deflation_range`): `x³ = 2¹⁰²³`
/// passes, the order-3 sketch of `u^{⊗3}` (`(a³ + 3ab + 2c)/6`, whose `2c` alone is `2¹⁰²⁴`)
/// overflows, and the call returns `Ok` with sketches full of infinities and `NaN`.
#[test]
fn deflation_keeps_its_margin_of_16_for_the_intermediate_sums() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 4, 2, 0.1, Seed::new(2)).unwrap();
    let mut s =
        TensorSketches::with_hashing(&t, 3, 16, ModeHashing::Shared, Seed::new(7), Par::Seq)
            .unwrap();
    let bits = |s: &TensorSketches| -> Vec<u64> {
        (0..3)
            .flat_map(|m| s.tensor_sketch(m).unwrap())
            .map(f64::to_bits)
            .collect()
    };
    let before = bits(&s);
    let big = [2f64.powi(341), 0.0, 0.0, 0.0];
    let r = s.deflate(1.0, &big, Par::Seq);
    assert!(r.is_err(), "16·‖u‖₁³ = 2¹⁰²⁷ accepted: {r:?}");
    assert_eq!(bits(&s), before, "a refused deflation changed the sketches");
    let fits = [2f64.powi(338), 0.0, 0.0, 0.0];
    s.deflate(1.0, &fits, Par::Seq).unwrap();
    for m in 0..3 {
        let sk = s.tensor_sketch(m).unwrap();
        assert!(sk.iter().all(|x| x.is_finite()), "sketch {m}: {sk:?}");
    }
}
