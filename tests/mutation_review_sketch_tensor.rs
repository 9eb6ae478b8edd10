//! Hand mutation testing, round 3 (code changed since 20ee568 in `leverage`, `sketch::tensor`
//! and the tensor power method): each test kills a mutant that the rest of the suite let
//! survive, by a reference computation or a documented property. Its doc comment names the
//! mutant (one slip in the library) and how the test fails on it.

use crate::common;

use common::dense;
use faer::{Mat, Par};
use randnla::leverage::{
    approx_leverage_scores, approx_ridge_leverage_scores, exact_leverage_scores,
    exact_ridge_leverage_scores, ApproxParams, ExactMethod, ExactParams, LeverageMethod,
};
use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams};
use randnla::tensor::{power_method_exact, PowerParams, SymmetricTensor, TensorSketches};
use randnla::{problems, Error, Seed};

/// `max_i |x_i − y_i| / |y_i|`.
fn max_rel(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs() / b.abs())
        .fold(0.0, f64::max)
}

/// The sketch routes rescale an `A` beyond `2^±900` by powers of two and solve the copy at
/// `λ·2⁻²ˢ` (`Rescaled` in `leverage.rs`); `LeverageInfo::lambda` is documented as "the ridge
/// parameter", the caller's `λ`, and the scores are those of `(A, λ)`.
///
/// Input: `A = G·diag(2⁹⁵⁰, 1, 1)` (`G` a `4000 × 3` Gaussian, seed 81) at `λ = 1000`, which
/// matters against the two unit columns (`‖g_j‖² ≈ 4000`); reference `B = A·2⁻⁵²` at
/// `λ·2⁻¹⁰⁴` (`τ_i(cA, c²λ) = τ_i(A, λ)`, `c` a power of two), whose largest entry is near
/// `2⁹⁰⁰`. Pass rules, for the approximate ridge scores (default parameters, seed 4) and the
/// exact sketch-Cholesky route: `info.lambda == λ` bit for bit, and every score of `A` within
/// `10⁻¹⁰` relative of `B`'s (both are power-of-two rescalings of one problem; measured: equal).
///
/// Kills the mutant "`Rescaled::restore` does not put back the caller's `λ`" (`info.lambda =
/// lambda` dropped): `info.lambda` then reports the rescaled copy's `λ·2⁻²ˢ` (`2·10⁻²⁸`
/// here) and the first assertion fails.
#[test]
fn ridge_info_reports_the_callers_lambda_for_a_rescaled_input() {
    let (n, d) = (4000, 3);
    let g = problems::gaussian_matrix(n, d, Seed::new(81)).unwrap();
    let big = 2f64.powi(950);
    let a = Mat::from_fn(
        n,
        d,
        |i, j| if j == 0 { g[(i, j)] * big } else { g[(i, j)] },
    );
    let c = 2f64.powi(-52);
    let b = Mat::from_fn(n, d, |i, j| a[(i, j)] * c);
    let lambda = 1000.0;
    let lambda_b = lambda * c * c;
    let p = ApproxParams::default();
    let (got, info) =
        approx_ridge_leverage_scores(dense(&a), lambda, &p, Seed::new(4), Par::Seq).unwrap();
    let (want, _) =
        approx_ridge_leverage_scores(dense(&b), lambda_b, &p, Seed::new(4), Par::Seq).unwrap();
    assert_eq!(
        info.lambda.to_bits(),
        lambda.to_bits(),
        "approx: {}",
        info.lambda
    );
    assert_eq!(info.rank, d);
    let err = max_rel(&got, &want);
    assert!(err < 1e-10, "approx: scores of A vs B differ by {err:e}");
    let ep = ExactParams {
        method: ExactMethod::SketchCholesky,
        ..ExactParams::default()
    };
    let (got, info) = exact_ridge_leverage_scores(dense(&a), lambda, &ep, Par::Seq).unwrap();
    let (want, _) = exact_ridge_leverage_scores(dense(&b), lambda_b, &ep, Par::Seq).unwrap();
    assert_eq!(
        info.lambda.to_bits(),
        lambda.to_bits(),
        "exact: {}",
        info.lambda
    );
    let err = max_rel(&got, &want);
    assert!(err < 1e-10, "exact: scores of A vs B differ by {err:e}");
}

/// `normalize` in the power method returns a unit vector for iterates of any size: below
/// `Σuᵢ² = 2⁻⁹⁶⁰` it first scales `u` by the power of two `2^k`, `k = −⌊log₂ max|uᵢ|⌋`, that
/// brings its largest entry into `[1, 2)` (`power.rs`, `normalize`).
///
/// Input: the dense order-3 tensor `T = e₁^{⊗3} + 10⁻¹⁶¹·e₂^{⊗3}` in dimension 3 (entries 1
/// and `10⁻¹⁶¹`: within the range the tensor is used as given). After the first component
/// (`e₁`, weight 1, found exactly) the implicit deflation leaves exactly `10⁻¹⁶¹·e₂^{⊗3}`, so
/// every iterate of the second component is `T(I,u,u) ≈ 10⁻¹⁶¹·u₂²·e₂`, whose `Σ` of squares
/// (`≈ 10⁻³²²`) is subnormal. Pass rules (rank 2, default parameters, seed 5): weights
/// `1` and `10⁻¹⁶¹` to `10⁻¹²` relative, factors `±e₁`, `±e₂` to `10⁻¹²`, and both factors of
/// unit norm to `10⁻¹⁵` (measured: exact).
///
/// Kills two mutants of `normalize`:
/// * "the shift has the wrong sign" (`k = +⌊log₂ max|uᵢ|⌋`): the iterate is scaled down to
///   zero, its norm reads 0 and the power map stops, so an unconverged vector is reported as
///   the second factor (measured `(−0.016, 0.918, −0.397)`: the factor assertion fails);
/// * "the rescaling branch is skipped for a positive subnormal `Σuᵢ²`": the norm is the square
///   root of a subnormal with a few significant bits, and the "unit" factor has a norm off by
///   about 0.6 % (the unit-norm assertion fails), as the doc comment of `normalize` recounts
///   (this one is also killed by `tensor_power_review::factors_are_unit_vectors_when_the_
///   iterates_are_tiny`).
#[test]
fn power_method_normalizes_iterates_whose_sum_of_squares_is_subnormal() {
    let small = 1e-161;
    let mut data = vec![0.0; 27];
    data[0] = 1.0; // (0, 0, 0)
    data[13] = small; // (1, 1, 1)
    let t = SymmetricTensor::dense(3, 3, data).unwrap();
    let cp = power_method_exact(&t, 2, &PowerParams::default(), Seed::new(5), Par::Seq).unwrap();
    let want = [(1.0, [1.0, 0.0, 0.0]), (small, [0.0, 1.0, 0.0])];
    for (j, (w, e)) in want.iter().enumerate() {
        let f = &cp.factors[j];
        let norm = f.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-15,
            "component {j}: |factor| = {norm}"
        );
        let err = f
            .iter()
            .zip(e)
            .map(|(x, y)| (x.abs() - y).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-12, "component {j}: factor {f:?}, expected ±{e:?}");
        let got = cp.weights[j];
        assert!(
            ((got - w) / w).abs() < 1e-12,
            "component {j}: weight {got:e}, expected {w:e}"
        );
    }
}

/// The cap on the number of contractions of one call is
/// `rank·(starts·(iters + 1) + refine_iters + 1) ≤ 2²⁴` (`power.rs`, `MAX_CONTRACTIONS`): each
/// start costs `iters + 1` contractions (the first evaluation and one per iteration).
///
/// Input: the zero tensor (order 3, `n = 2`), on which every start stops after its first
/// evaluation, so an accepted call returns at once. Pass rules: `starts = 256,
/// iters = 65535, refine_iters = 0` (`256·65536 + 1 = 2²⁴ + 1`) is an
/// [`Error::InvalidParameter`] naming the product; `starts = 256, iters = 65534,
/// refine_iters = 255` (exactly `2²⁴`) is accepted.
///
/// Kills the mutant "each start is counted as `iters` contractions, not `iters + 1`": it
/// computes `256·65535 + 1 < 2²⁴` for the first call, accepts it and returns `Ok` (the first
/// assertion fails).
#[test]
fn contraction_cap_counts_iters_plus_one_evaluations_per_start() {
    let t = SymmetricTensor::dense(3, 2, vec![0.0; 8]).unwrap();
    let run = |starts, iters, refine_iters| {
        let p = PowerParams {
            starts,
            iters,
            refine_iters,
        };
        power_method_exact(&t, 1, &p, Seed::new(1), Par::Seq)
    };
    match run(256, 65535, 0) {
        Err(Error::InvalidParameter { name, .. }) => assert!(name.contains("starts"), "{name}"),
        other => panic!(
            "2^24 + 1 contractions accepted: {:?}",
            other.map(|c| c.contractions)
        ),
    }
    let cp = run(256, 65534, 255).expect("exactly 2^24 contractions are allowed");
    assert_eq!(cp.weights, vec![0.0]);
}

/// `T = 2·a^{⊗3} + b^{⊗3}` with orthonormal `a, b` in dimension 8 (the example of
/// [`TensorSketches::new`]), times `scale`.
fn two_components(scale: f64) -> (SymmetricTensor, Vec<f64>) {
    let a = vec![0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0];
    let b = vec![0.0, 0.0, 0.0, 0.0, 0.5, -0.5, 0.5, -0.5];
    let t = SymmetricTensor::from_components(3, 8, &[2.0 * scale, scale], &[a.clone(), b]).unwrap();
    (t, a)
}

/// [`TensorSketches::deflate`] refuses a deflation whose sketch could leave the `f64` range,
/// judged by `16·|w|·‖u‖₁^p` (every frequency of the sketch of `w·u^{⊗p}` is at most
/// `|w|·‖u‖₁^p`), and then changes nothing (its doc comment).
///
/// Input: the sketches (`B = 4`, `b = 64`, seed 3) of `T = 2·a^{⊗3} + b^{⊗3}`, deflated by
/// `w = 2²⁰⁰` along `u = 2²⁹⁷·(1, …, 1)` (`‖u‖₁ = 2³⁰⁰`): `|w|·‖u‖₁³ = 2¹¹⁰⁰`, beyond `f64`.
/// Pass rules: [`Error::NonFinite`], and `contract_all(a)` afterwards bit for bit what it was.
///
/// Kills the mutant "the bound takes `‖u‖₁^{p−1}`" (the power loop of
/// `check_deflation_range` started at 1): `16·2²⁰⁰·2⁶⁰⁰` is finite, the deflation goes ahead,
/// returns `Ok` and leaves the spectra infinite or `NaN` (the `unwrap_err` fails).
#[test]
fn deflation_beyond_the_f64_range_is_refused_and_changes_nothing() {
    let (t, a) = two_components(1.0);
    let mut s = TensorSketches::new(&t, 4, 64, Seed::new(3), Par::Seq).unwrap();
    let before = s.contract_all(&a, Par::Seq).unwrap();
    let u = vec![2f64.powi(297); 8];
    let err = s.deflate(2f64.powi(200), &u, Par::Seq).unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err:?}");
    let after = s.contract_all(&a, Par::Seq).unwrap();
    assert_eq!(after.to_bits(), before.to_bits(), "{after} vs {before}");
}

/// [`TensorSketches::contract_all`] is an [`Error::NonFinite`] when the estimate of
/// `T(u,…,u)`, in the tensor's units, is beyond the `f64` range (the doc comment of
/// `estimates_but_one`, to which it refers), even though the sketches hold `T` scaled by
/// `2⁻ᵉ` and the scaled estimates are finite.
///
/// Input: `T = 10³⁰⁰·(2·a^{⊗3} + b^{⊗3})` (entries beyond `2²⁵⁶`, so the sketches are scaled),
/// `B = 5`, `b = 64`, seed 3. Pass rules: `contract_all(a)` within 50 % of the exact `2·10³⁰⁰`
/// (the sketches work at that scale; measured `1.86·10³⁰⁰`), and `contract_all(10⁴·a)`
/// (`T(u,u,u) ≈ 2·10³¹²`) is [`Error::NonFinite`].
///
/// Kills the mutant "the final check of the unscaled median is skipped" (`check_overflow(&[v])`
/// in `contract_all` dropped): it returns `Ok(∞)`.
#[test]
fn contract_all_beyond_the_f64_range_is_an_error_for_scaled_sketches() {
    let (t, a) = two_components(1e300);
    let s = TensorSketches::new(&t, 5, 64, Seed::new(3), Par::Seq).unwrap();
    let v = s.contract_all(&a, Par::Seq).unwrap();
    assert!((v / 2e300 - 1.0).abs() < 0.5, "T(a,a,a) estimated as {v:e}");
    let u: Vec<f64> = a.iter().map(|x| x * 1e4).collect();
    match s.contract_all(&u, Par::Seq) {
        Err(Error::NonFinite { .. }) => {}
        other => panic!("T(u,u,u) ≈ 2e312 gave {other:?}"),
    }
}

/// [`approx_leverage_scores`] on a wide `A` (`n ≤ m₁`) returns the exact scores
/// ([`LeverageInfo::method`](randnla::leverage::LeverageInfo::method) says so), computed with
/// the caller's [`ApproxParams::rank_tol`], "as in [`ExactParams::rank_tol`]".
///
/// Input: a `20 × 3` matrix whose third column is the first plus `10⁻³` times a Gaussian
/// column (its third pivot ratio is `≈ 10⁻³`), `rank_tol = 10⁻²`, default `m₁ = 30 ≥ 20`.
/// Pass rules: the method is Householder, the rank 2 (the tolerance counts; the default
/// `20·ε` would give 3), and the scores are bit for bit those of [`exact_leverage_scores`]
/// with `rank_tol = 10⁻²` (the same computation).
///
/// Kills the mutant "the exact fallback drops `params.rank_tol`" (`rank_tol: None` in the
/// `ExactParams` of the `n ≤ m₁` branch): rank 3 and scores summing to 3.
#[test]
fn wide_approx_request_keeps_its_rank_tolerance_on_the_exact_route() {
    let (n, d) = (20, 3);
    let g = problems::gaussian_matrix(n, d, Seed::new(91)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| {
        if j == 2 {
            g[(i, 0)] + 1e-3 * g[(i, 2)]
        } else {
            g[(i, j)]
        }
    });
    let tol = Some(1e-2);
    let p = ApproxParams {
        rank_tol: tol,
        ..ApproxParams::default()
    };
    let (got, info) = approx_leverage_scores(dense(&a), &p, Seed::new(1), Par::Seq).unwrap();
    assert_eq!(info.method, LeverageMethod::Householder);
    assert_eq!(info.rank, 2, "rank_tol = 1e-2 must drop the third pivot");
    let ep = ExactParams {
        rank_tol: tol,
        ..ExactParams::default()
    };
    let (want, _) = exact_leverage_scores(dense(&a), &ep, Par::Seq).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&want));
}

/// [`PolyKernelFeatures::kernel_error`] sums the errors at the scale `2^s` of the larger of
/// `K` and `ΦΦᵀ` (`s = max(2u, p·t)`, `poly.rs`), so that neither is scaled up: features far
/// smaller than the kernel give the relative error `‖ΦΦᵀ − K‖_F/‖K‖_F ≈ 1`, not an overflow.
///
/// Input: 12 rows of a `40 × 5` Gaussian `X` (seed 93), degree 3, `γ = 0.5`, `c = 1`,
/// `m = 256` (seed 94); the features `Φ` of `X` times `2⁻¹⁰⁰⁰`, so `ΦΦᵀ ≈ 2⁻²⁰⁰⁰·K` (normal
/// numbers: the features are `≈ 2⁻¹⁰⁰⁰`). Pass rules: the ratio for `Φ` itself is below 1
/// (a sanity check of the sketch), and for `2⁻¹⁰⁰⁰·Φ` it is 1 to `10⁻¹²` (the exact value is
/// `1 − O(2⁻²⁰⁰⁰)`; measured: exactly 1, and 0.106 for `Φ`).
///
/// Kills the mutant "`s = min(2u, p·t)`": `K` is then scaled up by `2^{p·t − 2u} ≈ 2²⁰⁰⁰`,
/// which overflows, and the ratio comes back `NaN` (measured) instead of 1.
#[test]
fn kernel_error_of_features_far_below_the_kernel_is_one() {
    let x = problems::gaussian_matrix(40, 5, Seed::new(93)).unwrap();
    let params = PolyKernelParams {
        degree: 3,
        gamma: 0.5,
        coef0: 1.0,
        sketch_dim: 256,
        ..PolyKernelParams::default()
    };
    let phi = PolyKernelFeatures::new(5, params, Seed::new(94)).unwrap();
    let f = phi.transform(dense(&x), Par::Seq).unwrap();
    let r = phi
        .kernel_error(dense(&x), f.as_ref(), 12, Par::Seq)
        .unwrap();
    assert!(r < 1.0, "ratio for the features themselves: {r}");
    let tiny = 2f64.powi(-1000);
    let ft = Mat::from_fn(f.nrows(), f.ncols(), |i, j| f[(i, j)] * tiny);
    let r = phi.kernel_error(dense(&x), ft.as_ref(), 12, Par::Seq);
    match r {
        Ok(r) => assert!((r - 1.0).abs() < 1e-12, "ratio for 2^-1000·Φ: {r}"),
        Err(e) => panic!("ratio for 2^-1000·Φ: {e}"),
    }
}

/// At `λ = 0` the sketch routes rescale `A` when any one column's largest entry lies beyond
/// `2^±900` (`Rescaled::of` in `leverage.rs`: "every column is brought into `[1, 2)`"): a
/// subnormal column otherwise makes `P₁R₁₁⁻¹ ≈ 1/‖a_j‖` overflow (`NaN` scores returned as `Ok`
/// by the approximate route, a failed Cholesky factorization on the sketch-Cholesky route).
/// Leverage scores do not depend on the columns' units.
///
/// Input: `A = G·diag(1, 1, 2⁻¹⁰⁶⁰)` (`G` a `3000 × 3` Gaussian, seed 95: the third column
/// subnormal, the others ordinary) and `B = A·diag(1, 1, 2¹⁰⁶⁰)`, computed exactly (the same
/// subspace, all columns ordinary). Pass rules: the approximate scores (default parameters,
/// seed 2) and the exact sketch-Cholesky scores of `A` are finite, rank 3, and within `10⁻⁹`
/// relative of `B`'s.
///
/// Kills the mutant "`A` is rescaled only when *every* column is out of range" (`any` → `all`
/// in the `λ = 0` test of `Rescaled::of`): `A` is then factored as given and the routes fail
/// as described above.
#[test]
fn one_subnormal_column_is_rescaled_at_lambda_zero() {
    let (n, d) = (3000, 3);
    let g = problems::gaussian_matrix(n, d, Seed::new(95)).unwrap();
    // 2^±1060 in two exact steps of 2^±530 (2^1060 itself is beyond f64).
    let half = 2f64.powi(530);
    let a = Mat::from_fn(n, d, |i, j| {
        if j == 2 {
            g[(i, j)] / half / half
        } else {
            g[(i, j)]
        }
    });
    let b = Mat::from_fn(n, d, |i, j| {
        if j == 2 {
            a[(i, j)] * half * half
        } else {
            a[(i, j)]
        }
    });
    let p = ApproxParams::default();
    let got = approx_leverage_scores(dense(&a), &p, Seed::new(2), Par::Seq);
    let (want, _) = approx_leverage_scores(dense(&b), &p, Seed::new(2), Par::Seq).unwrap();
    let ep = ExactParams {
        method: ExactMethod::SketchCholesky,
        ..ExactParams::default()
    };
    let got_exact = exact_leverage_scores(dense(&a), &ep, Par::Seq);
    let (want_exact, _) = exact_leverage_scores(dense(&b), &ep, Par::Seq).unwrap();
    for (what, got, want) in [
        ("approx", got, want),
        ("sketch-Cholesky", got_exact, want_exact),
    ] {
        let (got, info) = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(info.rank, d, "{what}");
        assert!(
            got.iter().all(|x| x.is_finite()),
            "{what}: non-finite scores"
        );
        let err = max_rel(&got, &want);
        assert!(err < 1e-9, "{what}: scores of A vs B differ by {err:e}");
    }
}

/// For `λ > 0` the sketch routes scale a tiny `A` up by `2⁻ˢ` and `λ` by `2⁻²ˢ`, with `s`
/// clamped so that `λ·2⁻²ˢ` stays finite (`Rescaled::of` in `leverage.rs`: "a huge `λ`
/// against a tiny `A` gives scores that underflow anyway").
///
/// Input: `A = 2⁻¹⁰⁰⁰·G` (`G` a `4000 × 3` Gaussian, seed 97) at `λ = 10³⁰⁰`: every
/// `τ_i ≈ ‖a_i‖²/λ ≈ 10⁻⁹⁰⁰`, which is 0 in `f64`. Pass rules, for the approximate ridge
/// scores (default parameters, seed 6) and the exact sketch-Cholesky route: `Ok`, every score
/// finite and at most `f64::MIN_POSITIVE`, and `info.lambda == λ`.
///
/// Kills the mutant "the clamp of the shift is dropped" (`s = s.max(…)` removed): `A` is moved
/// up to `2^−900`, `λ` by `2¹⁹⁶` to `∞`, and the call fails instead of returning the zero
/// scores.
#[test]
fn huge_lambda_against_a_tiny_matrix_gives_zero_scores() {
    let (n, d) = (4000, 3);
    let g = problems::gaussian_matrix(n, d, Seed::new(97)).unwrap();
    let scale = 2f64.powi(-1000);
    let a = Mat::from_fn(n, d, |i, j| g[(i, j)] * scale);
    let lambda = 1e300;
    let p = ApproxParams::default();
    let approx = approx_ridge_leverage_scores(dense(&a), lambda, &p, Seed::new(6), Par::Seq);
    let ep = ExactParams {
        method: ExactMethod::SketchCholesky,
        ..ExactParams::default()
    };
    let exact = exact_ridge_leverage_scores(dense(&a), lambda, &ep, Par::Seq);
    for (what, run) in [("approx", approx), ("sketch-Cholesky", exact)] {
        let (scores, info) = run.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(info.lambda.to_bits(), lambda.to_bits(), "{what}");
        let top = scores.iter().copied().fold(0.0, f64::max);
        assert!(
            scores.iter().all(|x| x.is_finite() && *x >= 0.0) && top <= f64::MIN_POSITIVE,
            "{what}: largest score {top:e}"
        );
    }
}
