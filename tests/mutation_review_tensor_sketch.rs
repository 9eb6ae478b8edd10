//! Hand mutation review of the TensorSketch core (`src/sketch/tensor/mod.rs`, `poly.rs`,
//! `tree.rs`): tests that kill mutants the rest of the suite let through. Each test's doc names
//! the mutant (the one-token slip) and how it fails under it.
//!
//! 36 mutants (2026-12-07), each run against `cargo test --lib sketch::tensor` and the
//! `suite_tensor` tests matching `tensor_sketch`, `polysketch_review`, `tree_review` and
//! `mutation_review_sketch_tensor` (which includes `claims_review2`'s TensorSketch tests).
//!
//! Killed by the suite (32). Hashes: `Hash::bucket` signs inverted; signs dropped in
//! `sketch_sparse`; signs inverted in `sketch_dense`; `tensor_bucket` hashing with mode 0;
//! every mode from stream `0x50·2³²`; mode `k` from stream `k + 1`; `mode_sketch` with mode 0;
//! `apply_kron`'s factors in reverse mode order. FFT: the inverse without `1/m`. Scaling: a
//! spectrum lift not recorded; a signal lift recorded with the wrong sign; a drop recorded with
//! the wrong sign; `convolve` returning `+shift`; the overflow check ignoring the `ℓ₁` bound;
//! the leaves' shifts not taken out, or taken out with the wrong sign. Rows: a chunk's rows
//! indexed `t·15 + r`; the error naming the row within its chunk; the last row of a chunk not
//! copied; the finiteness check of `fits` skipping the tail past eight lanes; the row scale
//! `√γ` dropped. Poly: `c` appended for `√c`; the appended entry at index `d − 1`
//! (`transform_vec`); the kernel with `√c` for `c`; the kernel without `γ`'s power of two;
//! `kernel_error`'s offset not scaled by `2^−t`. Tree: padding leaf `e₁`; every level using the
//! first level's node `j`; both sides of a node with side 0's hash; a node adding its left
//! child's exponent twice; every leaf from leaf 0's stream; node streams `j + s`.
//!
//! Killed by the tests below (2): the `f32` range check of `fits` skipping the tail past eight
//! lanes; `Fft::inverse` not clearing the imaginary part of bin `m/2`.
//!
//! Equivalent or near-equivalent (2, not tested):
//! - `convolve`'s margin `log₂ m` for `log₂ m + 2` (the check starts 2 bits later): the
//!   products stay below `2^1011` (see `DROP_EXP`), 13 bits below overflow, so starting the
//!   scan 2 bits later changes no result;
//! - `leaf_shift`'s bound `log₂ 1` for `log₂(2·nnz)` on a scaled leaf: it understates the bound
//!   by `log₂(2·nnz) ≤ 23` bits per scaled leaf; to reach an overflow the other factors must
//!   leave the product in range without being lifted (which forces the scan), which needs tens
//!   of leaves with millions of nonzeros each — beyond any test that runs in seconds.

use randnla::sketch::tensor::TensorSketch;
use randnla::{Error, Seed};

/// Deterministic, well-spread test values in `[−1, 1]` (none zero).
fn vals(n: usize, salt: u64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = ((i as u64 + 1) * 2654435761 + salt * 40503) % 1000;
            (t as f64 + 0.5) / 500.0 - 1.0
        })
        .collect()
}

/// A sketch whose only out-of-range entry falls in the last bucket of an `m` that is not a
/// multiple of 8 (the tail after `fits`' eight lanes): `m = 9`, `p = 2`, `x = c·e_i` with `i`
/// chosen so that `tensor_bucket((i, i)) = 8`; the sketch is `±c²` in bucket 8 (rounding
/// elsewhere). Pass rules: `c = 10²⁰` in `f32` (`c² = 10⁴⁰ > f32::MAX`) and `c = 10¹⁶⁰` in
/// `f64` (`c² = ∞`) are `Err(NonFinite)`, as documented for a sketch that overflows the output
/// type; the same `x` at `c = 1` gives `±1` in bucket 8 (the index is right).
///
/// Kills: the tail left out of the `f32` range check in `fits` (`Ok` with `10⁴⁰` rounded to
/// `∞` in bucket 8); the suite let it through. Also the tail left out of the finiteness check
/// (`Ok` with `∞`), which `tree_review` kills as well.
#[test]
fn overflow_in_the_last_bucket_past_the_eight_lanes_is_an_error() {
    let (d, m) = (40usize, 9usize);
    let ts = TensorSketch::new(2, d, m, Seed::new(1)).unwrap();
    let i = (0..d)
        .find(|&i| ts.tensor_bucket(&[i, i]).unwrap().0 == m - 1)
        .expect("an index hashed to the last bucket");
    let unit = |c: f64| {
        (0..d)
            .map(|j| if j == i { c } else { 0.0 })
            .collect::<Vec<f64>>()
    };
    let one = ts.apply_power(&unit(1.0)).unwrap();
    assert!((one[m - 1].abs() - 1.0).abs() < 1e-15, "{one:?}");
    let x32: Vec<f32> = unit(1e20).iter().map(|&v| v as f32).collect();
    match ts.apply_power(&x32) {
        Err(Error::NonFinite { .. }) => {}
        other => panic!("f32, c = 1e20: {other:?}"),
    }
    match ts.apply_power(&unit(1e160)) {
        Err(Error::NonFinite { .. }) => {}
        other => panic!("f64, c = 1e160: {other:?}"),
    }
}

/// `TensorSketch::inverse` is documented as `v[t] = (1/m)·Σ_f X[f]·e^{2πi·f·t/m}` over the
/// conjugate-symmetric extension of the half spectrum, the imaginary parts of bin 0 and (for
/// even `m`) bin `m/2` ignored. Reference: that sum by plain loops with those parts left out,
/// for `m = 8` and a half spectrum whose bins 0 and 4 have imaginary parts `0.75` and `−0.5`.
/// Pass rule: `Ok`, within `10⁻¹⁴` of the reference entry by entry (measured ≈ `10⁻¹⁶`).
///
/// Kills: the imaginary part of bin `m/2` not cleared before the inverse transform (`realfft`
/// then refuses the spectrum, and `inverse` returns an error).
#[test]
fn inverse_ignores_the_imaginary_part_of_the_nyquist_bin() {
    let m = 8usize;
    let ts = TensorSketch::new(2, 3, m, Seed::new(1)).unwrap();
    let re = vals(m / 2 + 1, 31);
    let im = vals(m / 2 + 1, 32);
    let mut spec: Vec<_> = re
        .iter()
        .zip(&im)
        .map(|(&a, &b)| randnla::sketch::tensor::Complex::new(a, b))
        .collect();
    spec[0].im = 0.75;
    spec[m / 2].im = -0.5;
    let want: Vec<f64> = (0..m)
        .map(|t| {
            let mut s = spec[0].re + spec[m / 2].re * if t % 2 == 0 { 1.0 } else { -1.0 };
            for (f, c) in spec.iter().enumerate().take(m / 2).skip(1) {
                let w = 2.0 * std::f64::consts::PI * (f * t) as f64 / m as f64;
                s += 2.0 * (c.re * w.cos() - c.im * w.sin());
            }
            s / m as f64
        })
        .collect();
    let got = ts.inverse(&spec).unwrap();
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-14, "{got:?} vs {want:?}");
    }
}
