//! Hand mutation testing of `src/attention/` (mod.rs, causal.rs, data.rs, exact.rs,
//! features.rs, sketched.rs), round 1. Each mutant is one plausible slip, run against
//! `tests/attention.rs` and the attention modules of `suite_tensor` (`attention_review2`,
//! `attention_review3`, `attention_fuzz_findings`, `polysketch_review`); the attention module
//! has no unit tests. The attention tests of other binaries (`suite_laws`, `suite_contracts`:
//! scale covariance, permutation, precision) were run only for C04, which
//! they kill; the other survivors below were not run against them.
//!
//! Killed by the existing suite (ID: slip — first killing test):
//! * E01 `exact`: causal `visible` bound `lo + ii` (diagonal key dropped) — 14 tests;
//! * E02 softmax normalizer gets the polynomial `+1` — `exact_attention_matches_naive_reference`;
//! * E03 the polynomial `+1` not rescaled with its row (`1` for `2^{−p·e}`) —
//!   `polynomial_weights_beyond_f64_are_scaled_per_row`;
//! * E04 rescale factor `2^{−(e−e₀)}` without `p` —
//!   `attention_review2::exact_poly_wide_range_rows`;
//! * E05 softmax rescale `weight(best, old)` (arguments swapped) — naive reference;
//! * E06 negative-scale `better` compares `x > best` —
//!   `softmax_with_a_huge_scale_picks_the_best_key`;
//! * E08 `den` not restored before the slow path's second pass — the per-row scale test;
//! * C01 in-block mask `j >= r0 + i` (diagonal dropped) — the explicit block-product test;
//! * C02 causal workspace counts `b·e` once, not twice —
//!   `attention_review3::workspace_bytes_matches_the_heap_with_a_wide_v`;
//! * C03 state chunk offset `t·chunk.len()` for `t·cols` — `wide_features_are_tensored_in_chunks`;
//! * F01 Gaussian tree scale `1/r` for `1/√r` — `feature_inner_products_are_unbiased`;
//! * F02 self-tensor off-diagonal `√2` dropped — 10 tests;
//! * S02 a zero output written as `o` (the sign of zero from the future) —
//!   `attention_review3::a_future_value_does_not_flip_the_sign_of_a_zero_output`;
//! * S03 non-causal wave counted at 16 blocks — the wide-V workspace test;
//! * S04 causal workspace at the requested block past `n` —
//!   `attention_review3::causal_workspace_does_not_count_a_block_past_n`;
//! * S06 `relative_error` does not double back halved differences —
//!   `attention_fuzz_findings::relative_error_of_an_approximation_far_above_the_exact_output`;
//! * S07 the check compares with non-causal exact attention —
//!   `attention_review2::identity_sketch_matches_loops`;
//! * M01 block `8192` refused (`>=`) — `attention_review3` block tests;
//! * M02 odd degrees accepted — `bad_input_is_an_error`;
//! * M04 causal `m ≠ n` not refused — `bad_input_is_an_error`;
//! * C04 `causal_dense` scales `A` by `2ˢ` like `B` (not `2⁻ˢ`) — not by the attention suites
//!   above, but by `suite_laws`' `scale_covariance_review::causal_products_scale_laws` and
//!   `suite_contracts`' `precision_review::f32_balancing_shift_is_exact`;
//! * F04 `p = 2` projection not scaled by `1/√r` — `feature_inner_products_are_unbiased`;
//! * F05 identity map `x^{⊗(q−1)}` (loop from 2) —
//!   `identity_sketch_equals_exact_polynomial_attention`;
//! * S09 `SketchInfo::blocks` is `n / b` — `attention_review2::identity_sketch_matches_loops`;
//! * D01 `clustered_qkv` centres divided by `‖c‖²`, D02 its noise not divided by `√h` — the
//!   accuracy-figure tests (`errors_match_the_spec_figures_on_clustered_and_iid_inputs`).
//!
//! Survivors, each with a test below that passes on the library and fails on the mutant
//! (verified by applying each mutant): E07, E09 (`exact.rs`), C05, C06 (`causal.rs`), F03
//! (`features.rs`), S01, S05 (`sketched.rs`). 34 mutants in all: 26 killed by the existing
//! tests, 7 survivors with a test, 1 equivalent. No mutant revealed a bug in the library.
//!
//! Equivalent or near-equivalent (no test):
//! * M03 `balancing_shift` returns `⌊(e_a − e_b)/2⌋ + 1`: the factors are still scaled by
//!   opposite powers of two, so every `⟨a_i, b_j⟩` is unchanged (exactly, unless an entry turns
//!   subnormal or overflows, one binade later than with the balanced shift); the balance is
//!   only a safety margin, which the existing `2⁹⁰⁰` tests exercise far from this edge.
//!
//! Each test below kills a mutant that the rest of the attention suite let survive, by a
//! reference computation or a documented property; its doc comment names the mutant (one slip
//! in the library) and how the test fails on it.

use faer::{Mat, Par};
use randnla::attention::{
    exact_attention, poly_sketch_attention, ExactParams, FeatureMap, Kernel, PolySketch,
    PolySketchParams, CHECK_MAX_N,
};
use randnla::Seed;

/// The module's Precision section: a row's weights are rescaled by powers of two only when
/// that row's weights in a key block would sum past `2^{E/2}`, and "rows that never need it are
/// computed exactly as without it". A row that does not need it must not be rescaled because
/// another row of its query block does.
///
/// Input (`p = 64`, one query block): row A `q = 300` (weight `300⁶⁴ ≈ 3·10¹⁵⁸ > 2⁵¹²`, so it
/// is rescaled) and row B `q = 2`; keys `k₀ = 1`, `k₁ = 6·10⁻⁶`, values `v₀ = 0`,
/// `v₁ = 10³⁰⁰`. Row B's weights are `2⁶⁴` and `(1.2·10⁻⁵)⁶⁴ ≈ 1.2·10⁻³¹⁵`, a subnormal that
/// carries the whole numerator: `out_B ≈ 1.2·10⁻¹⁵/(1 + 2⁶⁴) ≈ 6·10⁻³⁵`. Pass rules: row B of
/// the two-row call is bitwise equal to the call with row B alone (no row rescaled there), and
/// within `10⁻⁶` relative of the test's `w₁v₁/(1 + w₀ + w₁)` (the subnormal weight holds ~27
/// bits).
///
/// Kills the mutant "the slow path rescales every row of the block" (`largest[ii]` set to 0
/// instead of NaN for rows that did not pass the limit): row B then gets `e = 1`, its small
/// weight `(6·10⁻⁶)⁶⁴ ≈ 6·10⁻³³⁵` underflows to 0, and `out_B` comes back 0.
#[test]
fn rows_below_the_weight_limit_are_not_rescaled_with_their_neighbours() {
    let p = 64;
    let k = Mat::<f64>::from_fn(2, 1, |i, _| [1.0, 6e-6][i]);
    let v = Mat::<f64>::from_fn(2, 1, |i, _| [0.0, 1e300][i]);
    let params = ExactParams::default();
    let kernel = Kernel::Polynomial { degree: p };
    let both = Mat::<f64>::from_fn(2, 1, |i, _| [300.0, 2.0][i]);
    let alone = Mat::<f64>::from_fn(1, 1, |_, _| 2.0);
    let run = |q: &Mat<f64>| {
        exact_attention(
            q.as_ref(),
            k.as_ref(),
            v.as_ref(),
            kernel,
            &params,
            Par::Seq,
        )
        .unwrap()
    };
    let (got, single) = (run(&both)[(1, 0)], run(&alone)[(0, 0)]);
    let w: Vec<f64> = (0..2).map(|j| (2.0 * k[(j, 0)]).powi(p as i32)).collect();
    let want = w[1] * v[(1, 0)] / (1.0 + w[0] + w[1]);
    assert!(want > 1e-36 && want.is_finite(), "reference {want}");
    assert_eq!(
        got.to_bits(),
        single.to_bits(),
        "row B beside row A: {got:e}, alone: {single:e}"
    );
    assert!(
        (got - want).abs() <= 1e-6 * want,
        "row B: {got:e} vs reference {want:e}"
    );
}

/// The weight limit `2^{E/2}` (`2⁵¹²` for `f64`) leaves room for many key blocks to be summed
/// into a row's normalizer: a block whose weights pass it sends the row to the power-of-two
/// scale, after which no weight exceeds 1.
///
/// Input (`p = 2`, `f64`, blocks of one key): one query `q = 2²⁵⁵`, 16 keys `k_j = 2²⁵⁵`
/// (every weight `(2⁵¹⁰)² = 2¹⁰²⁰`), values `v_j = j + 1`. Reference: with equal weights
/// `w`, `out = Σ_j v_j / (16 + 1/w)`, i.e. `136/16 = 8.5` to within `2⁻¹⁰²⁰`. Pass rule: `Ok`,
/// within `1e-14` relative.
///
/// Kills the mutant "the limit is `2^{E−2}`" (`max_exp − 2` for `max_exp / 2`): no single
/// block then passes it (`2¹⁰²⁰ < 2¹⁰²²`), the row stays unscaled, its normalizer reaches
/// `16·2¹⁰²⁰ = 2¹⁰²⁴ = ∞` and the numerators overflow, so the call returns
/// `Error::NonFinite`.
#[test]
fn weight_limit_leaves_room_for_many_key_blocks() {
    let x = 2f64.powi(255);
    let q = Mat::<f64>::from_fn(1, 1, |_, _| x);
    let k = Mat::<f64>::from_fn(16, 1, |_, _| x);
    let v = Mat::<f64>::from_fn(16, 1, |i, _| (i + 1) as f64);
    let params = ExactParams {
        causal: false,
        block: 1,
    };
    let kernel = Kernel::Polynomial { degree: 2 };
    let out = exact_attention(
        q.as_ref(),
        k.as_ref(),
        v.as_ref(),
        kernel,
        &params,
        Par::Seq,
    );
    let got = out.unwrap_or_else(|e| panic!("{e}"))[(0, 0)];
    let want = 8.5;
    assert!((got - want).abs() <= 1e-14 * want, "{got} vs {want}");
}

/// `PolySketchParams::check` is "allowed for `n ≤ 16384`" ([`CHECK_MAX_N`]): the boundary itself
/// must be accepted and report a relative error.
///
/// Input: `n = 16384` queries, keys and values, `h = d = 1` (`q_i = k_i = (i mod 7)/7`, `v_i =
/// (i mod 5) − 2`), the identity map at `p = 2`, which computes exact attention (`φ(x) = x`),
/// so the reported error is rounding only. Pass rules: `Ok`, `rel_error` is `Some(e)` with
/// `e ≤ 1e-10`.
///
/// Kills the mutant "the check refuses `n ≥ CHECK_MAX_N`" (`>=` for `>`): the call then
/// returns `Error::TooLarge` at the documented limit (only `n = 16385` was tested).
#[test]
fn the_exact_check_is_allowed_at_its_documented_limit() {
    let n = CHECK_MAX_N;
    let q = Mat::<f64>::from_fn(n, 1, |i, _| (i % 7) as f64 / 7.0);
    let v = Mat::<f64>::from_fn(n, 1, |i, _| (i % 5) as f64 - 2.0);
    let params = PolySketchParams {
        degree: 2,
        map: FeatureMap::Identity,
        check: true,
        ..Default::default()
    };
    let r = poly_sketch_attention(q.as_ref(), q.as_ref(), v.as_ref(), &params, Par::Seq);
    let (_, info) = r.unwrap_or_else(|e| panic!("n = {n}: {e}"));
    let e = info.rel_error.expect("check was asked for");
    assert!(e <= 1e-10, "relative error {e} of the identity map");
}

/// The identity map is refused "when `h^{p/2} > 2048`" (`MAX_SKETCH_DIM`), so `h^{p/2} =
/// 2048` itself is accepted, with `r = 2048` (`MAX_SKETCH_DIM`, not exported).
///
/// Input: `h = 2048`, `p = 2` (`φ(x) = x`). Pass rules: `Ok`, `sketch_dim() == 2048`, and the
/// weights of two rows equal `⟨x, y⟩²` computed in the test (1e-12 relative).
///
/// Kills the mutant "the identity map is refused at `r ≥ 2048`" (`>=` for `>`): `new` then
/// returns `Error::TooLarge` for the largest documented size.
#[test]
fn the_identity_map_accepts_its_documented_largest_dimension() {
    let h = 2048;
    let s = PolySketch::new(h, 2, 0, FeatureMap::Identity, Seed::new(1));
    let s = s.unwrap_or_else(|e| panic!("h = {h}, p = 2: {e}"));
    assert_eq!(s.sketch_dim(), h);
    let x = Mat::<f64>::from_fn(2, h, |i, j| ((i + 2 * j) % 9) as f64 / 9.0 - 0.4);
    let w = s.weights(x.as_ref(), x.as_ref(), Par::Seq).unwrap();
    let dot: f64 = (0..h).map(|j| x[(0, j)] * x[(1, j)]).sum();
    let want = dot * dot;
    assert!(
        (w[(0, 1)] - want).abs() <= 1e-12 * want,
        "{} vs {want}",
        w[(0, 1)]
    );
}

/// `SketchInfo::min_normalizer` is documented "≥ 1: the sum, computed through the features, is
/// clamped at zero where rounding would make it negative". Through the symmetric-half features
/// a sum of zero weights can come out negative: with the identity map at `p = 2`,
/// `φ'(x) = (x₁², √2·x₁x₂, x₂²)`, and `q = (1, 1)`, `k = (1, −1)` give
/// `⟨φ'(q), φ'(k)⟩ = 1 − √2·√2 + 1`, a few ulps below zero in floating point (exactly
/// `⟨q, k⟩² = 0`).
///
/// Input: `n = 8` rows, every query `(1, 1)`, every key `(1, −1)`, `V` ones; non-causal, and
/// causal with blocks of 2 (the prefix state carries the same products). Pass rules: `Ok`,
/// `min_normalizer ≥ 1`, and every output within `1e-12` of the exact 0.
///
/// Kills the mutant "the normalizer is not clamped" (`1 + Σw` without `.max(0.0)`): the
/// reported minimum is then `1 − c·2⁻⁵²` for a small `c`, below 1.
#[test]
fn normalizer_of_weights_that_round_below_zero_is_clamped() {
    let n = 8;
    let q = Mat::<f64>::from_fn(n, 2, |_, _| 1.0);
    let k = Mat::<f64>::from_fn(n, 2, |_, j| if j == 0 { 1.0 } else { -1.0 });
    let v = Mat::<f64>::from_fn(n, 1, |_, _| 1.0);
    for causal in [false, true] {
        let params = PolySketchParams {
            degree: 2,
            map: FeatureMap::Identity,
            causal,
            block: 2,
            ..Default::default()
        };
        let r = poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, Par::Seq);
        let (out, info) = r.unwrap_or_else(|e| panic!("causal {causal}: {e}"));
        assert!(
            info.min_normalizer >= 1.0,
            "causal {causal}: min_normalizer {:e} − 1 = {:e}",
            info.min_normalizer,
            info.min_normalizer - 1.0
        );
        for i in 0..n {
            assert!(
                out[(i, 0)].abs() <= 1e-12,
                "causal {causal}, row {i}: {}",
                out[(i, 0)]
            );
        }
    }
}

/// Sketched attention's memory is documented as `O(r²·e + b·(r + e + b))` scalars (module
/// table), and `SketchInfo::workspace_bytes` counts the self-tensor chunks at "at most
/// `max(2¹⁸, 256·b)` scalars at a time" — never more than the block's whole self-tensor,
/// `b·r(r+1)/2` scalars, which is all there is to chunk.
///
/// Input: `n = b = 256`, `h = d = 1`, `r = 1` (the whole self-tensor of a block is 256
/// scalars), causal and not, `Par::Seq`. Pass rule: `workspace_bytes ≤ 2·8·(r(r+1)/2·e +
/// b·(r + e + b))` with `e = d + 1` (twice the documented order with constant 1: about 1 MiB).
///
/// Kills the mutant "the chunk bound is not capped at `rows·dim`" (`.min(rows * dim)` dropped
/// from `tensor_chunk_bound`): a 2¹⁸-scalar (2 MiB) chunk is then counted that no block can
/// hold, and the report exceeds the bound in both modes.
#[test]
fn workspace_does_not_count_a_tensor_chunk_larger_than_the_self_tensor() {
    let (n, r, d) = (256, 1, 1);
    let q = Mat::<f64>::from_fn(n, 1, |i, _| (i % 11) as f64 / 11.0);
    let v = Mat::<f64>::from_fn(n, d, |i, _| (i % 3) as f64);
    let e = d + 1;
    let bound = 2 * 8 * (r * (r + 1) / 2 * e + n * (r + e + n));
    for causal in [false, true] {
        let params = PolySketchParams {
            degree: 2,
            sketch_dim: r,
            causal,
            block: n,
            ..Default::default()
        };
        let r = poly_sketch_attention(q.as_ref(), q.as_ref(), v.as_ref(), &params, Par::Seq);
        let (_, info) = r.unwrap_or_else(|e| panic!("causal {causal}: {e}"));
        assert!(
            info.workspace_bytes <= bound,
            "causal {causal}: {} B reported, bound {bound} B",
            info.workspace_bytes
        );
    }
}

/// Causal sketched attention holds one `64 × b` triangle of weights per row task — a chunk of
/// `min(64, b)` rows of the block — so for a block smaller than 64 rows the reported workspace
/// stays within a small multiple of the documented order `O(r²·e + b·(r + e + b))` scalars.
///
/// Input: `n = 256`, `h = d = 1`, `r = 1`, causal with blocks of `b = 4`, `Par::Seq` (reported:
/// 54 scalars counted by `causal_workspace` plus 18 for the features, 576 bytes). Pass rule:
/// `workspace_bytes ≤ 4·8·(r(r+1)/2·e + b·(r + e + b))`, `e = d + 1` (960 bytes).
///
/// Kills the mutant "the row chunk is counted at 64 rows whatever the block"
/// (`chunk = ROW_CHUNK` for `ROW_CHUNK.min(block)`): a `64 × 4` triangle and 64-row chunks of
/// results and self-tensor are then counted, about 3.9 KB.
#[test]
fn causal_workspace_counts_a_row_chunk_of_at_most_the_block() {
    let (n, r, d, b) = (256, 1, 1, 4);
    let q = Mat::<f64>::from_fn(n, 1, |i, _| (i % 11) as f64 / 11.0);
    let v = Mat::<f64>::from_fn(n, d, |i, _| (i % 3) as f64);
    let e = d + 1;
    let bound = 4 * 8 * (r * (r + 1) / 2 * e + b * (r + e + b));
    let params = PolySketchParams {
        degree: 2,
        sketch_dim: r,
        causal: true,
        block: b,
        ..Default::default()
    };
    let out = poly_sketch_attention(q.as_ref(), q.as_ref(), v.as_ref(), &params, Par::Seq);
    let (_, info) = out.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        info.workspace_bytes <= bound,
        "{} B reported, bound {bound} B",
        info.workspace_bytes
    );
}
