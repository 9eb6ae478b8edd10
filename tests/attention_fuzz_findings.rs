//! Findings of the attention fuzz target (`fuzz/fuzz_targets/attention.rs`), one test each.

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
