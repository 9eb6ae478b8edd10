//! Hand mutation review of `src/lstsq/lsqr.rs` (the LSQR iteration) and `src/lstsq/baselines.rs`
//! (`qr_solve`, `normal_equations`, unpreconditioned `lsqr`): tests that kill mutants the rest of
//! the suite let through. Each test's doc names the mutant (the one-line slip) and how it fails
//! under it.
//!
//! 60 mutants (2026-12-07); the suite killed 40 (`suite_solvers` and the library's unit tests;
//! one more only in `suite_contracts`), these tests 13 more, 12 since the fix of the first bug
//! below (the first `anorm` without the damping is now repaired by it: see the first test). The
//! 7 other survivors, argued:
//! - `ensure_workspace` without its margin of an eighth: the margin covers the allocator's own
//!   mappings, which no deterministic limit in a test separates from the vectors themselves;
//! - the in-loop `!(alpha.is_finite() && beta.is_finite())` break dropped: reached only when a
//!   product overflows inside a run (as in the first bug below, before its fix), where the run
//!   still ends `NotConverged` with a NaN test, after `max_iters` NaN iterations instead of at
//!   once;
//! - the consistency test with `ne_tol` for `tol`: equal but for a ridge `λ ≥ ‖A‖²`, where the
//!   augmented residual is at least `‖b‖/√2` and the test never passes with either;
//! - `test <= ne_tol` → `<`: differs only when the test equals the tolerance exactly;
//! - `bidiagonal_condition` without its power-of-two scaling: faer 0.24's SVD gave the same ratio
//!   for `lsqr` on `2^±530·A` and `2^±1000·A` (tried; the scaling is defensive);
//! - `numerically_full_rank`'s `rank.min(d − 1)` dropped: the estimate is a lower bound of
//!   `κ(RD)`, so a refusal means `σ_min < rcond·σ_max` and the count is below `d` already;
//! - its early `Ok` for a non-finite `R` dropped: not reached by the inputs tried (an `A` near
//!   `f64::MAX` gave a zero pivot first, the second bug below; since its fix `qr_solve` scales
//!   such an `A` into range, so `R` is finite).
//!
//! Two bugs, fixed in the same change as this file landed (their tests failed before): `lsqr`
//! gave up (`NotConverged`, NaN) on an `A` near `2⁵²⁰` with `b` nearly orthogonal to its range,
//! although the problem scaled down is solved in one iteration; `qr_solve` reported rank 1 for a
//! full-rank `A` whose column norms overflow.

use crate::common;
use faer::{Mat, Par};
use randnla::lstsq::{lsqr, LsqrParams};
use randnla::{Error, MatrixRef};

/// `2ᵏ`.
fn p2(k: i32) -> f64 {
    2f64.powi(k)
}

/// The problem of the two tests below: `A = 2⁵²⁰·[I₄; 0]` (`40 × 4`) and
/// `b = [2⁻¹³⁰·c; 2⁴⁰⁰·1₃₆]` with `c = (1, −2, 3, 0.5)`; returns `(A, b, c)`.
fn top_of_range_problem() -> (Mat<f64>, Vec<f64>, [f64; 4]) {
    let (n, d) = (40, 4);
    let s = p2(520);
    let c = [1.0, -2.0, 3.0, 0.5];
    let a = Mat::from_fn(n, d, |i, j| if i == j { s } else { 0.0 });
    let b: Vec<f64> = (0..n)
        .map(|i| if i < d { p2(-130) * c[i] } else { p2(400) })
        .collect();
    (a, b, c)
}

/// Unpreconditioned ridge LSQR on `A = s·[I₄; 0]` (`40 × 4`, `s = 2⁵²⁰`), `λ = 2¹⁰⁰⁰`, and
/// `b = [t·c; g·1₃₆]` with `t = 2⁻¹³⁰`, `g = 2⁴⁰⁰`, `c = (1, −2, 3, 0.5)`: `AᵀA + λI = (s² + λ)I`,
/// so `x = s·t·c/(s² + λ) = 2⁻⁶⁵⁰·c/(1 + 2⁻⁴⁰)` (every factor an exact power of two but the last
/// division). `b` is nearly orthogonal to the range (`‖Aᵀb‖/(‖A‖‖b‖) ≈ 2⁻⁵³⁰`), so LSQR's first
/// `α = ‖Aᵀb‖/‖b‖ ≈ 2⁻¹⁰` is far below `‖[A; √λI]‖ ≥ √λ = 2⁵⁰⁰`. The data and `x` are finite,
/// and the run is documented to be scale-safe ("for any k, j that keep the data and the
/// solution finite"). Pass rule: converged, relative error `≤ 10⁻¹²` (`κ([A; √λI]) = 1`, one
/// iteration at `tol = 10⁻¹⁴`).
///
/// Killed, in `lsqr_run_from`, `anorm = hint.max(norm_of(&[alpha, cfg.damp]))` →
/// `hint.max(alpha)` (the damping left out of the first estimate of `‖M‖`): the first fused
/// product is then scaled for `‖M‖ ≈ 2⁻¹⁰` (by 1) instead of `2⁵⁰⁰`, `Aᵀ(Av) ≈ 2¹⁰⁴⁰`
/// overflows, and the run gave up (`NotConverged` with a NaN test value). Since the fix of
/// the bug below (an overflowing `Mᵀu` is formed again from the normalized `u`) that mutant
/// survives: the overflow is repaired at the cost of one more product with `Aᵀ`, so it is
/// near-equivalent; the test stays as the ridge case of that fix.
#[test]
fn ridge_lsqr_at_the_top_of_the_range_with_b_nearly_orthogonal_to_the_range() {
    let (a, b, c) = top_of_range_problem();
    let p = LsqrParams {
        ridge: p2(1000),
        ..Default::default()
    };
    let want: Vec<f64> = c.iter().map(|ci| ci * p2(-650) / (1.0 + p2(-40))).collect();
    let (x, info) = lsqr(common::dense(&a), &b, &p).unwrap();
    let err = common::rel(&x, &want);
    assert!(
        info.converged && err <= 1e-12,
        "error {err:e}, {x:?}, {info:?}"
    );
}

/// The LSQR workspace is asked for whole before any vector is made (`ensure_workspace`: `u`,
/// `z`, `v`, `w`, `Mᵀu` and the products' scratch, all live at once, plus an eighth). Here a
/// `1 × d` CSR `A` with one entry, under the suite's address limit, with `d` chosen so that
/// `4.75·8·d` bytes are left: the workspace is `n + 4d` plus one partial `Aᵀy` of length `d`
/// (one row chunk) `+ 256`, so `≈ 5d` entries live at once (`5.625d` with the eighth). Pass
/// rule: `lsqr` answers `Error::TooLarge` naming the LSQR workspace (no abort of the child).
///
/// Kills:
/// - `n + 4 * d + scratch` → `n + 3 * d + scratch` (one `d`-vector left out): the probe of
///   `4.5d` passes, the `5d` entries do not fit, and the child aborts in `vec!`;
/// - the call `ensure_workspace(&op)?` removed from `lsqr`: the same abort.
#[test]
fn an_lsqr_workspace_one_vector_too_large_is_refused_under_an_address_limit() {
    if !common::under_address_limit(
        module_path!(),
        "an_lsqr_workspace_one_vector_too_large_is_refused_under_an_address_limit",
        common::LIMIT_KIB,
    ) {
        return;
    }
    let d = (common::address_space_left() as f64 / (8.0 * 4.75)) as usize;
    assert!(
        d > 1 << 20,
        "only d = {d}: the limit leaves too little to test"
    );
    let csr = sprs::CsMat::new((1, d), vec![0, 1], vec![0], vec![1.0]);
    let r = lsqr(
        MatrixRef::sparse(&csr).unwrap(),
        &[1.0],
        &LsqrParams::default(),
    );
    assert!(
        matches!(&r, Err(Error::TooLarge { what, .. }) if what.contains("LSQR workspace")),
        "{:?}",
        r.err()
    );
}

/// `A·x₀` for the seeded `200 × 6` Gaussian `A` (seed 11) and `x₀ = 10⁶·(1, −2, …, ±6)`: a
/// consistent system with `‖b‖ ≈ 10⁸`.
fn consistent_problem() -> (Mat<f64>, Vec<f64>) {
    let a = common::gauss(200, 6, 11);
    let x0: Vec<f64> = (0..6)
        .map(|j| 1e6 * (j + 1) as f64 * if j % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let b = common::matvec(&a, &x0);
    (a, b)
}

/// Unpreconditioned LSQR on a consistent system (`consistent_problem`, `‖b‖ ≈ 10⁸`) stops on the
/// consistency test `‖r‖ ≤ tol·‖b‖`, and `Info::stopping_value` is then that test's value
/// (`lsqr.rs`: "or of the consistency test when that stopped the run, expressed as `‖r‖/‖b‖`").
/// Pass rules: converged; `0 < stopping_value ≤ tol`; `stopping_value` is LSQR's last residual
/// estimate over `‖b‖` (to `10⁻¹⁴`, the division's rounding); and the last normal-equation
/// estimate is above `tol` (the run did stop on consistency, so the rules above test that path).
///
/// Kills, in `lsqr_run_from` (the first also killed by `lstsq.rs`):
/// - the replacement `test = rnorm/bnorm` on a consistency stop skipped: `stopping_value` is the
///   normal-equation test, above `tol`;
/// - `rnorm / cfg.bnorm` → `rnorm`: `stopping_value ≈ 10⁻⁷`, above `tol`.
#[test]
fn lsqr_stopping_on_consistency_reports_the_residual_over_the_norm_of_b() {
    let (a, b) = consistent_problem();
    let p = LsqrParams::default();
    let (_, info) = lsqr(common::dense(&a), &b, &p).unwrap();
    let last_r = *info.residual_history.last().unwrap();
    let last_ne = *info.normal_eq_history.last().unwrap();
    let want = last_r / common::norm_scaled(&b);
    let v = info.stopping_value;
    assert!(info.converged && v > 0.0 && v <= p.tol, "{info:?}");
    assert!((v - want).abs() <= 1e-14 * want, "{v:e} vs {want:e}");
    assert!(last_ne > p.tol, "stopped on the normal equations: {info:?}");
}

/// Unpreconditioned LSQR with a ridge on a `b` orthogonal to the range of `A` (`A = [I₃; 0]`,
/// `10 × 3`, `b = [0; 1₇]`): `Aᵀb = 0`, so `x = (AᵀA + I)⁻¹·0 = 0`, an exact solution at the
/// start (`lsqr.rs`: "Exact solution at the start: c = 0, or Mᵀc = 0"). Pass rules: converged,
/// `x = 0` exactly, `stopping_value = 0`.
///
/// Kills, in `lsqr_run_from`, `alpha == 0.0` dropped from the start's exact-solution check: with
/// a ridge the run goes on and normalizes `v = 0` by `α = 0` (NaN), and `lsqr` fails.
#[test]
fn ridge_lsqr_with_b_orthogonal_to_the_range_returns_zero() {
    let a = Mat::from_fn(10, 3, |i, j| if i == j { 1.0 } else { 0.0 });
    let b: Vec<f64> = (0..10).map(|i| if i < 3 { 0.0 } else { 1.0 }).collect();
    let p = LsqrParams {
        ridge: 1.0,
        ..Default::default()
    };
    let r = lsqr(common::dense(&a), &b, &p);
    let Ok((x, info)) = r else {
        panic!("{:?}", r.err());
    };
    assert!(info.converged && info.stopping_value == 0.0, "{info:?}");
    assert_eq!(x, vec![0.0; 3]);
}

/// `lsqr` on `b = 0` answers `x = 0` without an iteration, and `Info::kappa_estimate` is `NaN`
/// ("`NaN` when no iteration was needed"; `bidiagonal_condition`: "`NaN` when no iteration was
/// done"). Pass rules: `x = 0`, 0 iterations, `kappa_estimate` NaN.
///
/// Kills, in `bidiagonal_condition`, the `k == 0 → NaN` early return dropped: the empty `1 × 0`
/// bidiagonal has no singular value and the estimate is `∞`.
#[test]
fn lsqr_on_a_zero_rhs_has_no_condition_estimate() {
    let a = common::gauss(30, 4, 2);
    let (x, info) = lsqr(common::dense(&a), &[0.0; 30], &LsqrParams::default()).unwrap();
    assert_eq!(x, vec![0.0; 4]);
    assert!(
        info.iterations == 0 && info.kappa_estimate.is_nan(),
        "{info:?}"
    );
}

/// `LsqrParams::default()`: `max_iters` 1000 (its doc: "Maximum iterations (default 1000)"), and
/// `tol` that of `LstsqParams` ("as in `LstsqParams::tol`", whose default is `10⁻¹⁴`), no ridge.
///
/// Kills `tol: 1e-14` → `1e-12` in `LsqrParams::default` (and `max_iters: 1000` → `100`, which
/// `lstsq.rs` kills too).
#[test]
fn lsqr_params_defaults_are_the_documented_ones() {
    let p = LsqrParams::default();
    assert_eq!(p.max_iters, 1000);
    assert_eq!(p.tol, randnla::lstsq::LstsqParams::default().tol);
    assert_eq!(p.tol, 1e-14);
    assert_eq!(p.ridge, 0.0);
}

/// `qr_solve` checks the size `(n + d)·d` of the copy it factors with ridge rows for every `λ`,
/// also `λ = 0` (its doc). An empty `32768 × 65536` CSR `A` has `n·d = 2³¹` (within the limit)
/// but `(n + d)·d = 3·2³¹`: the answer is `TooLarge` with `requested = 3·2³¹`, before the wide-`A`
/// check (`InvalidParameter`) would answer.
///
/// Kills `check_dense_size(n.saturating_add(d), d, …)` → `check_dense_size(n, d, …)`: the size
/// passes and the answer is `InvalidParameter` (wide `A` without ridge).
#[test]
fn qr_solve_counts_the_ridge_rows_in_its_size_check_also_without_ridge() {
    use randnla::lstsq::qr_solve;
    let (n, d) = (1usize << 15, 1usize << 16);
    let csr = sprs::CsMat::new((n, d), vec![0; n + 1], vec![], vec![]);
    let r = qr_solve(
        MatrixRef::sparse(&csr).unwrap(),
        &vec![1.0; n],
        0.0,
        Par::Seq,
    );
    assert!(
        matches!(&r, Err(Error::TooLarge { requested, .. }) if *requested == 3 << 31),
        "{:?}",
        r.err()
    );
}

/// A square, invertible `A` is not wide: `qr_solve` and `normal_equations` solve it without a
/// ridge (their errors refuse only `n < d`). `A = [[2, 1, 0], [1, 3, 1], [0, 1, 4]]`,
/// `b = A·(1, −1, 2) = (1, 0, 7)`. Pass rule: `x = (1, −1, 2)` to `10⁻¹⁴` (`κ(A) ≈ 3.6`).
///
/// Kills `n < d` → `n <= d` in the wide check of `normal_equations` (and of `qr_solve`, which
/// `lstsq.rs` kills too): the square `A` is refused with `InvalidParameter`.
#[test]
fn square_systems_are_solved_by_both_dense_baselines() {
    use randnla::lstsq::{normal_equations, qr_solve};
    let a = faer::mat![[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]];
    let b = [1.0, 0.0, 7.0];
    let want = [1.0, -1.0, 2.0];
    for (name, r) in [
        ("qr", qr_solve(common::dense(&a), &b, 0.0, Par::Seq)),
        (
            "normal",
            normal_equations(common::dense(&a), &b, 0.0, Par::Seq),
        ),
    ] {
        let x = r.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(common::rel(&x, &want) <= 1e-14, "{name}: {x:?}");
    }
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(p, q)| p * q).sum()
}

fn at_times(a: &Mat<f64>, y: &[f64]) -> Vec<f64> {
    (0..a.ncols())
        .map(|j| (0..a.nrows()).map(|i| a[(i, j)] * y[i]).sum())
        .collect()
}

/// `y − c·x`.
fn minus(y: &[f64], c: f64, x: &[f64]) -> Vec<f64> {
    y.iter().zip(x).map(|(yi, xi)| yi - c * xi).collect()
}

fn unit(x: &[f64]) -> (Vec<f64>, f64) {
    let nx = dot(x, x).sqrt();
    (x.iter().map(|v| v / nx).collect(), nx)
}

/// The documented value of LSQR's stopping test after `k ∈ {1, 2}` iterations on
/// `min ‖Ax − b‖² + λ‖x‖²`, computed independently: Golub–Kahan from `b` gives `α₁, β₂, α₂, β₃`
/// and `V_k`; the iterate is `x_k = V_k·y` with `(V_kᵀAᵀAV_k + λI)·y = V_kᵀAᵀb` (LSQR's iterate
/// minimizes the damped objective over the Krylov space); the test is
/// `‖Aᵀr − λx_k‖ / (anorm·√(‖r‖² + λ‖x_k‖²))` with `r = b − Ax_k` and `anorm` the largest
/// column norm of the damped bidiagonal so far, `max_{i ≤ k} ‖(αᵢ, βᵢ₊₁, √λ)‖` (`lsqr.rs`,
/// "Stopping rule"). Also returns those column norms.
fn first_tests_by_hand(a: &Mat<f64>, b: &[f64], lambda: f64, k: usize) -> (f64, Vec<f64>) {
    let (u1, _) = unit(b);
    let (v1, alpha1) = unit(&at_times(a, &u1));
    let (u2, beta2) = unit(&minus(&common::matvec(a, &v1), alpha1, &u1));
    let (v2, alpha2) = unit(&minus(&at_times(a, &u2), beta2, &v1));
    let beta3 = minus(&common::matvec(a, &v2), alpha2, &u2);
    let beta3 = dot(&beta3, &beta3).sqrt();
    let cols = vec![
        (alpha1 * alpha1 + beta2 * beta2 + lambda).sqrt(),
        (alpha2 * alpha2 + beta3 * beta3 + lambda).sqrt(),
    ];
    let vs = [v1, v2];
    let av: Vec<Vec<f64>> = vs[..k].iter().map(|v| common::matvec(a, v)).collect();
    let rhs: Vec<f64> = av.iter().map(|w| dot(w, b)).collect();
    let g = |i: usize, j: usize| dot(&av[i], &av[j]) + if i == j { lambda } else { 0.0 };
    let y = if k == 1 {
        vec![rhs[0] / g(0, 0)]
    } else {
        let det = g(0, 0) * g(1, 1) - g(0, 1) * g(1, 0);
        vec![
            (rhs[0] * g(1, 1) - g(0, 1) * rhs[1]) / det,
            (g(0, 0) * rhs[1] - g(1, 0) * rhs[0]) / det,
        ]
    };
    let x: Vec<f64> = (0..a.ncols())
        .map(|j| (0..k).map(|i| y[i] * vs[i][j]).sum())
        .collect();
    let r = minus(b, 1.0, &common::matvec(a, &x));
    let grad = minus(&at_times(a, &r), lambda, &x);
    let rbar = (dot(&r, &r) + lambda * dot(&x, &x)).sqrt();
    let anorm = cols[..k].iter().copied().fold(0.0, f64::max);
    (dot(&grad, &grad).sqrt() / (anorm * rbar), cols)
}

/// Unpreconditioned ridge LSQR stopped after one and after two iterations (`max_iters = k`,
/// `tol = 10⁻¹⁴`): `Error::NotConverged::residual` is the stopping test's value then, which must
/// be `first_tests_by_hand` (the normal-equation test of the damped problem with `‖M‖`
/// estimated by the largest column norm of the damped bidiagonal). Problem: seeded Gaussian
/// `20 × 3` `A` (seed 21), `b` (seed 22), `λ = 20` (`√λ` comparable to `α, β`). Pass rules:
/// relative difference `≤ 10⁻⁹` for `k = 1, 2` (both computed in `f64` on a problem of
/// condition about 3); the second column norm of the bidiagonal is below the first (so that
/// "largest so far" is exercised at `k = 2`).
///
/// Kills, in `lsqr_run_from`'s update of `anorm` after the fused product:
/// - `β` left out (`norm_of(&[alpha, damp])`): the estimate misses `β₂`;
/// - the damping left out (`norm_of(&[alpha, beta])`): it misses `√λ` (the start's
///   `‖(α₁, √λ)‖` is then the maximum);
/// - the running maximum dropped (`anorm = norm_of(…)`): at `k = 2` the estimate is the smaller
///   second column norm.
#[test]
fn ridge_lsqr_stopping_test_uses_the_largest_damped_column_norm() {
    let a = common::gauss(20, 3, 21);
    let b = common::rhs(20, 22);
    let lambda = 20.0;
    for k in [1, 2] {
        let p = LsqrParams {
            ridge: lambda,
            max_iters: k,
            ..Default::default()
        };
        let (want, cols) = first_tests_by_hand(&a, &b, lambda, k);
        assert!(cols[1] < cols[0], "{cols:?}");
        match lsqr(common::dense(&a), &b, &p) {
            Err(Error::NotConverged {
                iterations,
                residual,
                ..
            }) => {
                assert_eq!(iterations, k);
                assert!(
                    (residual - want).abs() <= 1e-9 * want,
                    "k = {k}: {residual:e} vs {want:e} (columns {cols:?})"
                );
            }
            r => panic!("k = {k}: {r:?}"),
        }
    }
}

/// Found by this review (fixed): unpreconditioned `lsqr` gave up on `A = 2⁵²⁰·[I₄; 0]`
/// (`40 × 4`) with `b = [2⁻¹³⁰·c; 2⁴⁰⁰·1₃₆]`, `c = (1, −2, 3, 0.5)`, no ridge: `x = 2⁻⁶⁵⁰·c`
/// (the top rows of `b` over `2⁵²⁰`) is finite, and the same problem scaled by `2⁻⁵²⁰` (`A`)
/// and `2⁻⁴⁰⁰` (`b`) is solved in one iteration, but here `lsqr` answered `NotConverged` with a
/// NaN test value after 0 iterations. `lsqr.rs` promises that "a run on (2ᵏ·M, 2ʲ·c) does
/// what the run on (M, c) does … for any k, j that keep the data and the solution finite". The
/// cause: `b` is nearly orthogonal to the range, so the first `α = ‖Aᵀb‖/‖b‖ ≈ 2⁻¹³` is the
/// only estimate of `‖A‖` (`anorm_hint = scale_hint = 0` for `lsqr`); the first fused product
/// is scaled for `‖A‖ ≈ 2⁻¹³` (by 1), and `Aᵀ(Av) ≈ 2¹⁰⁴⁰` overflowed; the fix forms
/// `Aᵀ(u/‖u‖)` again when that happens. Pass rule: converged, relative error `≤ 10⁻¹²`.
#[test]
fn lsqr_at_the_top_of_the_range_with_b_nearly_orthogonal_to_the_range() {
    let (a, b, c) = top_of_range_problem();
    let want: Vec<f64> = c.iter().map(|ci| ci * p2(-650)).collect();
    let r = lsqr(common::dense(&a), &b, &LsqrParams::default());
    let Ok((x, info)) = r else {
        panic!("{:?}", r.err());
    };
    let err = common::rel(&x, &want);
    assert!(info.converged && err <= 1e-12, "error {err:e}, {x:?}");
}

/// `normal_equations` keeps the unscaled route when the scaled ridge `λ·4⁻ˢ` is beyond `f64`
/// (its comment: "A λ·4⁻ˢ beyond f64 (λ ≳ 2¹⁰⁰⁰‖A‖²) keeps the unscaled route, where λ
/// dominates"). `A = 2⁻²⁰⁰·[I₃; 0]` (`10 × 3`, largest entry beyond `2⁻¹²⁸`, so a shift
/// `s = −200` is asked for), `b = (1, −2, 3, 1, …, 1)`, `λ = 2⁷⁰⁰` (`λ·2⁴⁰⁰` overflows): `AᵀA + λI
/// = (2⁻⁴⁰⁰ + 2⁷⁰⁰)·I`, which rounds to `2⁷⁰⁰·I`, and `Aᵀb = 2⁻²⁰⁰·(1, −2, 3)`, so
/// `x = 2⁻⁹⁰⁰·(1, −2, 3)`, every step a product by a power of two (exact). Pass rule: `x` equal
/// to it to `10⁻¹⁵` relative.
///
/// Kills the check `scaled_lambda.is_finite()` dropped: the scaled copy is solved with `λ = ∞`,
/// which `normal_equations` refuses (`InvalidParameter`), or which would give `x = 0`.
#[test]
fn normal_equations_keep_the_unscaled_route_when_the_scaled_ridge_overflows() {
    let a = Mat::from_fn(10, 3, |i, j| if i == j { p2(-200) } else { 0.0 });
    let b: Vec<f64> = (0..10)
        .map(|i| [1.0, -2.0, 3.0].get(i).copied().unwrap_or(1.0))
        .collect();
    let want = [p2(-900), -2.0 * p2(-900), 3.0 * p2(-900)];
    let r = randnla::lstsq::normal_equations(common::dense(&a), &b, p2(700), Par::Seq);
    let x = r.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(common::rel(&x, &want) <= 1e-15, "{x:?} vs {want:?}");
}

/// A problem whose right-hand side sits at the bottom of the range that is not rescaled
/// (largest entry `2⁻⁹⁵⁹`; `RhsScale` acts below `2⁻⁹⁶⁰`) and is nearly orthogonal to the range
/// of `A = 2⁻¹⁰⁰·A₀` (`A₀` the seeded Gaussian `400 × 8`, seed 51): `b₀ = g − A₀A₀⁺g + 2⁻⁴⁰·A₀·1`
/// (`g` seed 52), `b = 2⁻⁹⁵⁹⁻ᵉ·b₀` with `2ᵉ` the top of `b₀` (all exact). Then `‖Mᵀb‖` is far
/// below `2⁻⁹⁶⁰` and the caller's `Mᵀb`, formed from products `aᵢⱼ·bᵢ` below `2⁻¹⁰²²`, has lost
/// most of its bits to subnormal rounding; `lsqr_run_from` must then recompute it from the
/// normalized `u` ("then it is recomputed from the normalized u"). Reference: `qr_solve` on
/// `(A₀, b₀)` scaled by `2¹⁰⁰⁻⁹⁵⁹⁻ᵉ` (exact). Pass rule, both routes (`probe` on and off): the
/// relative error is within the forward-error bound of a backward error `tol`,
/// `10·tol·κ·(1 + κ·‖r‖/(σ_max‖x‖))` (`κ, σ_max` of `A₀` by SVD; about `6·10⁻²` here, with
/// `‖r‖/(σ_max‖x‖) ≈ 3·10¹¹`). Measured (2026-12-07): `1.2·10⁻³` (probe), `2.4·10⁻⁵` (sketched).
///
/// Kills, in `lsqr_run_from`'s test of the caller's `Mᵀc`, `exponent(nw) > -960` dropped (a
/// nonzero, finite `Mᵀc` is always used): the runs start from the rounded `Mᵀc` and the
/// answers are off by a factor of about `10⁶`.
#[test]
fn a_right_hand_side_whose_products_with_a_are_subnormal_is_solved() {
    use randnla::lstsq::{qr_solve, sketch_and_precondition, LstsqParams};
    let (n, d) = (400, 8);
    let a0 = common::gauss(n, d, 51);
    let g = common::rhs(n, 52);
    let xg = qr_solve(common::dense(&a0), &g, 0.0, Par::Seq).unwrap();
    let ag = common::matvec(&a0, &xg);
    let ones = common::matvec(&a0, &vec![1.0; d]);
    let b0: Vec<f64> = (0..n).map(|i| g[i] - ag[i] + p2(-40) * ones[i]).collect();
    let e = b0.iter().fold(0.0f64, |m, v| m.max(v.abs())).log2().floor() as i32;
    let b: Vec<f64> = b0.iter().map(|v| v * p2(-959 - e)).collect();
    let a = Mat::from_fn(n, d, |i, j| a0[(i, j)] * p2(-100));
    let x0 = qr_solve(common::dense(&a0), &b0, 0.0, Par::Seq).unwrap();
    let want: Vec<f64> = x0.iter().map(|v| v * p2(100 - 959 - e)).collect();
    let sv = a0.singular_values().unwrap();
    let (smax, kappa) = (sv[0], sv[0] / sv[d - 1]);
    let r0 = minus(&b0, 1.0, &common::matvec(&a0, &x0));
    let eta = common::norm_scaled(&r0) / (smax * common::norm_scaled(&x0));
    let tol = LstsqParams::default().tol;
    let bound = 10.0 * tol * kappa * (1.0 + kappa * eta);
    for probe in [true, false] {
        let p = LstsqParams {
            probe,
            ..Default::default()
        };
        let (x, info) = sketch_and_precondition(common::dense(&a), &b, &p).unwrap();
        let err = common::rel(&x, &want);
        assert!(
            err <= bound,
            "probe {probe}: error {err:e} > {bound:e}, runs {:?}",
            info.run_iterations
        );
    }
}

/// Found by this review (fixed): `qr_solve` called a full-rank `A` near the top of the range
/// of rank one. `A = 0.1·f64::MAX·S` with `S` the signs of the seeded Gaussian `200 × 5` (seed 71;
/// `qr_solve` solves `S` itself, and `0.03·f64::MAX·S`), `b` seed 72: the solution
/// `x = x_S/(0.1·f64::MAX)` (`x_S` that of `S`) is representable (largest entry `≈ 7·10⁻³⁰⁹`,
/// subnormal), but `qr_solve` answered `RankDeficient { rank: 1, required: 5 }`, which its doc
/// keeps for "an exactly singular `R` (carrying `A`'s numerical rank)": the column norms
/// (`√200·0.1·MAX`) overflowed in the QR. Like `normal_equations` and `sketch_and_solve`, it
/// now scales such an `A` by a power of two first. Pass rule: `Ok`, within `10⁻¹²` (relative,
/// norm-wise) of `x_S/(0.1·MAX)`.
#[test]
fn qr_solve_solves_a_full_rank_a_near_the_top_of_the_range() {
    use randnla::lstsq::qr_solve;
    let g = common::gauss(200, 5, 71);
    let b = common::rhs(200, 72);
    let s = Mat::from_fn(200, 5, |i, j| g[(i, j)].signum());
    let f = 0.1 * f64::MAX;
    let a = Mat::from_fn(200, 5, |i, j| s[(i, j)] * f);
    let want: Vec<f64> = qr_solve(common::dense(&s), &b, 0.0, Par::Seq)
        .unwrap()
        .iter()
        .map(|v| v / f)
        .collect();
    let r = qr_solve(common::dense(&a), &b, 0.0, Par::Seq);
    let x = r.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(common::rel(&x, &want) <= 1e-12, "{x:?} vs {want:?}");
}
