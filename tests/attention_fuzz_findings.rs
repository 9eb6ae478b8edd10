//! Findings of the attention fuzz target (`fuzz/fuzz_targets/attention.rs`), one test each.

use crate::common;

use common::with_threads;
use faer::Mat;
use randnla::attention::relative_error;

fn column(values: &[f64]) -> Mat<f64> {
    Mat::from_fn(values.len(), 1, |i, _| values[i])
}

/// `relative_error` promises the ratio "for outputs of any finite magnitude", but summed both
/// norms at one power-of-two scale near the largest entry of either matrix: an exact output far
/// below the approximation had its squares underflow there, so `approx = 1e200` against
/// `exact = 1` gave `∞` (the fuzz target's find: a ratio of `2.05e279` reported as `∞`), as did
/// every ratio past about `1e154`. Each norm now has its own scale.
#[test]
fn relative_error_of_an_approximation_far_above_the_exact_output() {
    for (approx, exact, want) in [
        (&[1e200][..], &[1.0][..], 1e200),
        // Old: ∞, the ratio of the squares (8e318) overflowed before its square root.
        (&[1e160], &[1.1], 1e160 / 1.1),
        (&[1.0], &[1e-200], 1e200),
        (&[3e250, 4e250], &[0.0, 1e-30], 5e280),
        // Differences that overflow: 1.5e308 − (−1.5e308) is beyond f64, the ratio is 2.
        (&[1.5e308, 1.0], &[-1.5e308, 1.0], 2.0),
        // A ratio just below f64::MAX whose largest difference (2¹⁰²³) over the largest exact
        // entry (1.5) does not fit: the fuzz target's reference overflowed there (its find:
        // 4.61e307 taken for ∞); the function was right.
        (
            &[-(2f64.powi(1023)), 1.0],
            &[1.5, 1.5],
            2f64.powi(1023) / (1.5 * 2f64.sqrt()),
        ),
    ] {
        let got = relative_error(column(approx).as_ref(), column(exact).as_ref()).unwrap();
        assert!(
            (got - want).abs() <= 1e-15 * want,
            "relative_error({approx:?}, {exact:?}) = {got:e}, want {want:e}"
        );
    }
    // Still ∞ where the ratio is beyond f64, or only `exact` is zero; 0 where both are.
    let inf = relative_error(column(&[1e300]).as_ref(), column(&[1e-300]).as_ref()).unwrap();
    assert_eq!(inf, f64::INFINITY);
    let inf = relative_error(column(&[1e-300]).as_ref(), column(&[0.0]).as_ref()).unwrap();
    assert_eq!(inf, f64::INFINITY);
    let zero = relative_error(column(&[0.0]).as_ref(), column(&[0.0]).as_ref()).unwrap();
    assert_eq!(zero, 0.0);
}

/// Kernel::Softmax promises that "the raw score `x = ⟨q,k⟩` is formed in `T`: one beyond `T`'s
/// range is [`Error::NonFinite`]", but a score that overflowed to −∞ (f32: 1e20·(−1e19)) got
/// the weight `e^{−∞} = 0` and the call returned `Ok`, silently leaving that key out (found by
/// the fuzz target: a causal f32 row whose mean missed its last key, −25444.7 for −22900.2).
#[test]
fn softmax_score_beyond_f32_is_an_error() {
    use faer::Par;
    use randnla::attention::{exact_attention, ExactParams, Kernel};
    let q = Mat::<f32>::from_fn(1, 1, |_, _| 1e20);
    let k = Mat::<f32>::from_fn(2, 1, |i, _| if i == 0 { 1.0 } else { -1e19 });
    let v = Mat::<f32>::from_fn(2, 1, |i, _| i as f32);
    let r = exact_attention(
        q.as_ref(),
        k.as_ref(),
        v.as_ref(),
        Kernel::Softmax { scale: 1.0 },
        &ExactParams::default(),
        Par::Seq,
    );
    assert!(
        matches!(r, Err(randnla::Error::NonFinite { row: 0, col: 1, .. })),
        "{r:?}"
    );
}

/// An error names the same row on any thread count. The query blocks ran under rayon's
/// `try_for_each`, which returns whichever failure comes first in time: with bad rows 31 and
/// 32–63 (blocks of 4), one thread named row 31 and two threads could name row 32, where the
/// second thread starts. Now the failure of the first block in row order is returned.
#[test]
fn exact_attention_names_the_first_bad_row_on_any_thread_count() {
    use randnla::attention::{exact_attention, ExactParams, Kernel};
    use randnla::Error;
    let n = 64;
    // Row i's score against key 0 is q_i·k_0 = 1e20·(−1e19) (beyond f32) for the bad rows.
    let bad = |i: usize| i == 31 || i >= 32;
    let q = Mat::<f32>::from_fn(n, 1, |i, _| if bad(i) { 1e20 } else { 1.0 });
    let k = Mat::<f32>::from_fn(n, 1, |i, _| if i == 0 { -1e19 } else { 1.0 });
    let v = Mat::<f32>::from_fn(n, 1, |i, _| i as f32);
    let params = ExactParams {
        causal: false,
        block: 4,
    };
    for threads in [1, 2, 4] {
        for run in 0..3 {
            let r = with_threads(threads, |par| {
                exact_attention(
                    q.as_ref(),
                    k.as_ref(),
                    v.as_ref(),
                    Kernel::Softmax { scale: 1.0 },
                    &params,
                    par,
                )
            });
            assert!(
                matches!(&r, Err(Error::NonFinite { row: 31, .. })),
                "{threads} threads, run {run}: {:?}",
                r.err()
            );
        }
    }
}

/// The same for `PolySketch::features`, whose blocks of 256 rows ran in parallel waves and were
/// collected by rayon into a `Result` (first failure in time): bad rows 255 and 256–511 could be
/// reported as row 256 on two threads.
#[test]
fn features_name_the_first_bad_row_on_any_thread_count() {
    use randnla::attention::{FeatureMap, PolySketch};
    use randnla::{Error, Seed};
    let n = 512;
    // The TensorSketch map (which checks its rows as it goes; the Gaussian and identity maps
    // are checked after, in row order) of degree 4: φ(x) ≈ ±x², beyond f64 for x = 1e200;
    // r = 2048 makes block 0 take long enough for another thread to fail first.
    let x = Mat::<f64>::from_fn(n, 1, |i, _| if i >= 255 { 1e200 } else { 1.0 });
    let map = PolySketch::new(1, 4, 2048, FeatureMap::TensorSketch, Seed::new(1)).unwrap();
    for threads in [1, 2, 4] {
        for run in 0..3 {
            let r = with_threads(threads, |par| map.features(x.as_ref(), par));
            assert!(
                matches!(&r, Err(Error::NonFinite { row: 255, .. })),
                "{threads} threads, run {run}: {:?}",
                r.err()
            );
        }
    }
}

/// Scores of both signs near `f64::MAX` under a scale near `10⁻³⁰⁸`: their difference is beyond
/// f64 but the scaled one is `−0.7`, so both keys carry weight. The fuzz target's reference took
/// `scale·(x − x_max)` and gave the far key weight 0 (its find: an output of 2.49e297 taken for
/// wrong); the function, which takes `scale·x − scale·x_max`, was right.
#[test]
fn softmax_weight_of_scores_whose_difference_overflows() {
    use faer::Par;
    use randnla::attention::{exact_attention, ExactParams, Kernel};
    let scale = 3.5e-309;
    let q = Mat::<f64>::from_fn(1, 1, |_, _| 1e308);
    let k = Mat::<f64>::from_fn(2, 1, |i, _| if i == 0 { 1.0 } else { -1.0 });
    let v = Mat::<f64>::from_fn(2, 1, |i, _| i as f64);
    let out = exact_attention(
        q.as_ref(),
        k.as_ref(),
        v.as_ref(),
        Kernel::Softmax { scale },
        &ExactParams::default(),
        Par::Seq,
    )
    .unwrap();
    // Weights 1 and e^{scale·(−1e308 − 1e308)}; out = w₁/(1 + w₁).
    let w1 = (-(scale * 1e308) - scale * 1e308).exp();
    let want = w1 / (1.0 + w1);
    assert!(want > 0.3);
    let got = out[(0, 0)];
    assert!((got - want).abs() <= 1e-14, "out = {got:e}, want {want:e}");
}
