//! Hand mutation review of what `src/lstsq/kernel_regression.rs` (and the helpers it calls in
//! `src/lstsq/ops.rs`, `src/dense.rs`, `src/scalar.rs`, `src/error.rs`) gained between b4cf909
//! and 8bebf7e: P2's Cholesky route counting a halving of `‖r‖` as progress; the fused
//! `AᵀA·v` over a CSR `A` (`gram_apply`) and `max_abs_slice`'s eight lanes; P2's reported
//! residual reusing the refinement's `(AᵀA)ʲx`; the rounding estimate
//! `u·‖A‖^{2j+p}·‖x‖/‖b‖` and `rounding_floor`; P1/P2 accepting only what the residual check
//! resolves, `√(rel² + e²) ≤ tol − spent`; the stalled least-squares stage's certified excess
//! (`stage_excess`, `Target::spent`); the componentwise estimate; `NotConverged`'s Display.
//! Not repeated: `tests/mutation_review_kernel.rs` (Cholesky routes, Auto, semi-normal
//! equations) and `tests/mutation_review_lstsq_ops.rs` (`abs_power_norm`, `report_floor`,
//! `factor_norm`, `factor_condition`). Each test's doc names the mutants (`M<k>`, the numbers
//! of the round's patch) it kills and how they fail.
//!
//! 43 mutants (2026-12-07), each switched on by an environment variable in one build, run
//! against `cargo test --lib` filtered to `lstsq`, `scalar`, `dense`, `error` and the
//! `suite_solvers` tests matching `kernel`, `review49`, `review50`. The suite killed 29 (the
//! library's unit tests 8, among them `p2_residual_is_recomputed_bit_for_bit_from_x`,
//! `gram_apply_is_apply_then_apply_t_bit_for_bit`, `max_abs_slice_is_max_abs` and the
//! Display test in `src/error.rs`; `review49`/`review50`/`kernel_inner_solve` most of the
//! rounding-estimate mutants). The tests below kill 12 more: the stage-share bookkeeping
//! (`tol − spent` ignored in `p1_core` or in the lost-bits check, `spent` not set or not
//! returned), `stage_excess` (either term's rounding part, the floor in the test-value bound,
//! `max` for `min`, the `tol/2` rule read as `tol`), the acceptance test `rel + e` for
//! `√(rel² + e²)`, P2's CG refinement estimating with `p = 0`, and the lost-bits residual read
//! from `A·x`. Two survive, argued:
//! - `gram_apply` on a CSR `A` with `α = 1` for `α = 0`: `scratch` is zeroed first, so
//!   `A·v − 1·0` is `A·v` bit for bit (`−0 − +0 = −0`): equivalent;
//! - `dense::max_abs` returning the last column's maximum only (the fold's `m.max` dropped):
//!   P1/P2 key a power-of-two prescale of `A` on it, which is exact; the smaller value changes
//!   only whether a shift is made when the top exponent lies within the column spread above
//!   the limit, and a spread an answerable `A` can have (`κ(A)` well below `2²⁶`) keeps the
//!   unshifted operator far from overflow: near-equivalent here (the whole `suite_solvers` and
//!   library tests pass on it; `lstsq::baselines` also reads it, outside this review). The
//!   unit test `max_abs_reads_every_column` in `src/dense.rs`, added after the round, kills it.
//!
//! No real bug was found.

use faer::Mat;
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, InnerSolve, KernelInfo};
use randnla::problems::ls_problem;
use randnla::{Error, MatrixRef, Seed};

use crate::common::exact::*;
use crate::review49::scaled_sparse;

/// `v·c`.
fn scaled(v: &[f64], c: f64) -> Vec<f64> {
    v.iter().map(|x| x * c).collect()
}

/// The `rounding_floor` of a `NotConverged`, or a panic naming `what`.
fn floor_of(r: Result<(Vec<f64>, KernelInfo), Error>, what: &str) -> f64 {
    match r {
        Err(Error::NotConverged {
            rounding_floor: Some(f),
            ..
        }) => f,
        other => panic!("{what}: expected NotConverged with a floor, got {other:?}"),
    }
}

/// Kills: the normwise rounding estimate `u·‖A‖₂^{2j+p}·‖x‖/‖b‖` (`residual_resolution`) with
/// the power `2j` for `2j + p` (M12) or `j + p` (M13), without the division by `‖b‖` (M15) or
/// dividing twice (M16), P1's target given `p = 1` (M19), P2's Cholesky
/// refinement `p = 0` (M26) and P2's CG refinement `p = 0` (M31, which nothing else kills).
///
/// The estimate is invariant under `A → 2ᵃA`, `b → 2ᵝb` (`x` scales by `2^{β − (2j+p)α}`), so
/// the test scales `A` by `2⁶` and `b` by `2^{±40}` (both inside the ranges that are left
/// unscaled, `2^{±128}` and `2^{±256}`): every mutant above moves the floor by a power of
/// `2⁶` or of `2⁴⁰` there, while `ls_problem`'s `‖A‖₂ = 1` and `‖b‖ ≈ 1` hide most
/// of them from the older tests. Reference: `common::kernel_resolution`, the same quantity at
/// the exact solution from a dense SVD. Inputs: `ls_problem(2000, 10, 10³, 1, Seed::new(13))`,
/// P1 with `b[..10]` and P2 with `b`, `j = 1, 2`, `tol = 10⁻⁶` of the reference (refused).
/// Pass rule: forced Cholesky (`‖L‖₂ = ‖A‖₂` up to the power estimate's few percent, to the
/// power `2j + p ≤ 5`) within `[0.5, 1.5]` of the reference, as
/// `review49::rounding_floor_tracks_u_kappa_to_the_2j`; P2 on the CG route (`‖R‖₂ = ‖SA‖₂`,
/// within the embedding's distortion, taken as a factor 2) within `2^{±(2j+1)}`.
#[test]
fn rounding_floor_is_the_documented_estimate_at_any_scale_of_a_and_b() {
    let (a0, b0, _, _) = ls_problem(2000, 10, 1e3, 1.0, Seed::new(13)).unwrap();
    let a = Mat::from_fn(a0.nrows(), a0.ncols(), |i, k| 64.0 * a0[(i, k)]);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    for j in [1usize, 2] {
        for c in [2f64.powi(40), 2f64.powi(-40)] {
            for (p2, route) in [
                (false, InnerSolve::Cholesky),
                (true, InnerSolve::Cholesky),
                (true, InnerSolve::Cg),
            ] {
                let b = if p2 {
                    scaled(&b0, c)
                } else {
                    scaled(&b0[..10], c)
                };
                let f = crate::common::kernel_resolution(&a, j, p2, &b);
                let p = params(route, 1e-6 * f);
                let what = format!("j {j} b·{c:e} {} {route:?}", if p2 { "P2" } else { "P1" });
                let g = if p2 {
                    floor_of(solve_p2(av, j, &b, &p), &what)
                } else {
                    floor_of(solve_p1(av, j, &b, &p), &what)
                };
                let ratio = g / f;
                let (lo, hi) = if route == InnerSolve::Cg {
                    let k = 2f64.powi(2 * j as i32 + 1);
                    (1.0 / k, k)
                } else {
                    (0.5, 1.5)
                };
                assert!(
                    (lo..=hi).contains(&ratio),
                    "{what}: floor/reference = {ratio:.3e}"
                );
            }
        }
    }
}

/// `‖|A|ᵖ(|A|ᵀ|A|)ʲ|x|‖`, plainly.
fn abs_power(a: &Mat<f64>, j: usize, p: usize, x: &[f64]) -> f64 {
    let (n, d) = (a.nrows(), a.ncols());
    let av = |v: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| (0..d).map(|k| a[(i, k)].abs() * v[k]).sum())
            .collect()
    };
    let mut v: Vec<f64> = x.iter().map(|t| t.abs()).collect();
    for _ in 0..j {
        let w = av(&v);
        v = (0..d)
            .map(|k| (0..n).map(|i| a[(i, k)].abs() * w[i]).sum())
            .collect();
    }
    if p == 1 {
        v = av(&v);
    }
    norm(&v)
}

/// `x* = V·Σ^{−(2j+p)}·(Vᵀb or Uᵀb)` (P1: `(AᵀA)ʲx* = b`; P2: `(AᵀA)ʲx* = A⁺b`).
fn exact_solution(a: &Mat<f64>, j: usize, p2: bool, b: &[f64]) -> Vec<f64> {
    let svd = a.thin_svd().unwrap();
    let (u, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
    let basis = if p2 { u } else { v };
    let power = (2 * j + usize::from(p2)) as i32;
    let d = a.ncols();
    let coef: Vec<f64> = (0..d)
        .map(|k| (0..b.len()).map(|i| basis[(i, k)] * b[i]).sum::<f64>() / s[k].powi(power))
        .collect();
    (0..d)
        .map(|i| (0..d).map(|k| v[(i, k)] * coef[k]).sum())
        .collect()
}

/// Kills: the componentwise estimate `u·‖|A|ᵖ(|A|ᵀ|A|)ʲ|x|‖/‖b‖`
/// (`componentwise_resolution`) without the division by `‖b‖` (M18) or with `p = 0` for P2
/// (M17).
///
/// On a column-scaled `A` the componentwise estimate is the smaller one and is what
/// `rounding_floor` reports (`review50`). It is invariant under `b → 2ᵝb`; the test takes
/// `b·2^{±40}`, where M18 moves it by `2^{±40}` (and is then, or is not, the minimum).
/// Reference: the same quantity at the exact solution `x*` (dense SVD), computed plainly.
/// Inputs: `random_sparse(4000, 40, 5, Seed::new(21))` with column `k` scaled by
/// `10^{−3k/39}`; P1 `b = v_d`, `j = 2`, `tol = 10⁻¹²` (the floor is about `2·10⁻⁸`); P2 `b =
/// u_d`, `j = 1`, `tol = 10⁻¹²`; forced Cholesky. Pass rule: within `[0.5, 2]` of the
/// reference (the iterate where refinement stalled is within `u·κ^{2j+p}` of `x*` in norm).
#[test]
fn componentwise_floor_is_the_documented_estimate_at_any_scale_of_b() {
    let (m, a) = scaled_sparse(4000, 40, 5, 1e3, 21);
    let av = MatrixRef::sparse(&m).unwrap();
    for (p2, j) in [(false, 2usize), (true, 1)] {
        let b0 = if p2 {
            smallest_left_singular(&a)
        } else {
            smallest_right_singular(&a)
        };
        let xs = exact_solution(&a, j, p2, &b0);
        let reference = U * abs_power(&a, j, usize::from(p2), &xs) / norm(&b0);
        for c in [1.0, 2f64.powi(40), 2f64.powi(-40)] {
            let b = scaled(&b0, c);
            let p = params(InnerSolve::Cholesky, 1e-12);
            let what = format!("P{} j {j} b·{c:e}", if p2 { 2 } else { 1 });
            let g = if p2 {
                floor_of(solve_p2(av, j, &b, &p), &what)
            } else {
                floor_of(solve_p1(av, j, &b, &p), &what)
            };
            let ratio = g / reference;
            assert!(
                (0.5..=2.0).contains(&ratio),
                "{what}: floor/reference = {ratio:.3e}"
            );
        }
    }
}

/// `‖A‖_F`.
fn frobenius(a: &Mat<f64>) -> f64 {
    (0..a.ncols())
        .map(|k| (0..a.nrows()).map(|i| a[(i, k)].powi(2)).sum::<f64>())
        .sum::<f64>()
        .sqrt()
}

/// `(σ_max, σ_min)` of `A`.
fn extreme_singular_values(a: &Mat<f64>) -> (f64, f64) {
    let s = a.singular_values().unwrap();
    let hi = s.iter().copied().fold(0.0, f64::max);
    let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
    (hi, lo)
}

/// Kills: P2's stalled least-squares stage accepted when its certified excess is at most `tol`
/// (M22, the docs: half of `tol`); `stage_excess` without the rounding term of `r = b − Ay`
/// (M27) or with it but without `‖L‖_F·‖y‖` (M28); its test-value bound without the floor,
/// `τ·‖r‖` (M29); and the larger of its two bounds taken for the smaller (M30).
///
/// The documented case of a stalled stage (`p2_by_cholesky`'s docs): consistent `b = u_d`,
/// `ls_problem(2000, 10, 10³, 0, Seed::new(11))`, forced Cholesky, `j = 0` (so `x = y` and the
/// stage is the whole answer). `stage_excess` is the smaller of
/// `(‖r‖ + (d + 1)·u·(‖b‖ + ‖A‖_F·‖y‖))/‖b‖` and `(τ + floor)·‖r‖/‖b‖` with
/// `floor·‖r‖ = √d·u·κ(L)·(‖b‖ + ‖L‖_F·‖y‖)`; with `‖y‖ ≈ ‖y*‖ = 1/σ_d` both are at least
/// `E = (d + 1)·u·‖A‖_F/σ_d` (the second because `√d·κ ≥ d + 1` here), about `2·10⁻¹²`, and
/// the first is about `E` plus `‖r‖/‖b‖ ≈ 10⁻¹³` while the second is about `√d·κ/(d + 1)`
/// times `E`, some 300 of it. So at `tol = 1.5·E` the excess exceeds `tol/2`: `NotConverged`
/// (M22, M27, M28 and M29 bring the excess to within `tol/2` or `tol`: `Ok`); at
/// `tol = 10⁻¹⁰`, between the two bounds times 2, `Ok` with an exact excess
/// `‖A(y* − x)‖ ≤ tol·‖b‖` (double-double), where M30 (excess ≈ `5·10⁻¹⁰`) refuses.
#[test]
fn stalled_stage_is_accepted_on_half_of_tol_and_the_smaller_bound() {
    let (a, _, _, _) = ls_problem(2000, 10, 1e3, 0.0, Seed::new(11)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = smallest_left_singular(&a);
    let (_, smin) = extreme_singular_values(&a);
    let e = 11.0 * U * frobenius(&a) / smin / norm(&b);
    assert!((1e-12..1e-11).contains(&e), "E = {e:e}");
    let r = solve_p2(av, 0, &b, &params(InnerSolve::Cholesky, 1.5 * e));
    assert!(
        matches!(r, Err(Error::NotConverged { .. })),
        "tol = 1.5·E = {:e}: {r:?}",
        1.5 * e
    );
    let tol = 1e-10;
    let (x, _) = solve_p2(av, 0, &b, &params(InnerSolve::Cholesky, tol))
        .unwrap_or_else(|e| panic!("tol {tol:e}: {e:?}"));
    let ys = lstsq_dd(&a, &b);
    let excess = p2_excess(&a, 0, &x, &ys);
    assert!(excess <= tol * norm(&b), "excess {excess:e}");
}

/// Kills: P2's refinement held to `tol` instead of `tol − spent` after a stalled
/// least-squares stage was accepted on its certified excess `spent` (M2), or that excess not
/// passed on (M23).
///
/// `p1_core` accepts when `√(rel² + e²) ≤ tol − spent` (`e` the rounding estimate); `spent` is
/// at least `E = (d + 1)·u·‖A‖_F·‖y‖/‖b‖` (see the test above). Input: consistent
/// `b = u_d`, `ls_problem(2000, 10, 10, 0, Seed::new(11))`, `j = 1`, forced Cholesky with
/// `lstsq.tol = 10⁻¹⁶` (the stage cannot pass its own tests and is accepted on its excess) and
/// `max_refinements = 0` (one step, `x₁`; the route has no CG, so its iterates do not depend
/// on `tol`). Run 1 at `tol = 10⁻²` returns `x₁` and its residual `rel` (the history's last
/// entry); `e ≤ u·σ_max³·‖x₁‖/‖b‖` (the estimate takes `‖A‖₂` from `L`, a lower bound) and is
/// measured at about `10⁻¹³` here, `rel ≈ 5·10⁻¹⁴`, `E ≈ 2·10⁻¹⁴`. Run 2 at
/// `tol = √(rel² + e_max²) + 0.3·E`: the stage's excess (about `E`) is within `tol/2`, and
/// `tol − spent < √(rel² + e²)` as long as the estimate is within 11% of `e_max`, so the one
/// step is refused: `NotConverged` with `tolerance = tol` and `residual = rel`. The mutants
/// accept it (`Ok`).
#[test]
fn refinement_after_a_stalled_stage_meets_tol_less_the_stage_share() {
    let (a, _, _, _) = ls_problem(2000, 10, 10.0, 0.0, Seed::new(11)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = smallest_left_singular(&a);
    let (smax, smin) = extreme_singular_values(&a);
    let run = |tol: f64| {
        let mut p = params(InnerSolve::Cholesky, tol);
        p.lstsq.tol = 1e-16;
        p.max_refinements = 0;
        solve_p2(av, 1, &b, &p)
    };
    let (x1, info) = run(1e-2).unwrap();
    let rel = *info.residual_history.last().unwrap();
    let e_max = U * smax.powi(3) * norm(&x1) / norm(&b);
    let e = 11.0 * U * frobenius(&a) / smin / norm(&b);
    let hyp = rel.hypot(e_max);
    // The premises: E a sizeable share, and the stage's excess (≈ E) within tol/2.
    assert!(
        e >= 0.12 * hyp && 2.2 * e <= 0.5 * (hyp + 0.3 * e),
        "rel {rel:e} e {e_max:e} E {e:e}"
    );
    let tol = hyp + 0.3 * e;
    match run(tol) {
        Err(Error::NotConverged {
            tolerance,
            residual,
            ..
        }) => {
            assert_eq!(tolerance, tol);
            assert_eq!(residual.to_bits(), rel.to_bits(), "{residual:e} vs {rel:e}");
        }
        other => panic!("tol {tol:e} (rel {rel:e}, e {e_max:e}, E {e:e}): {other:?}"),
    }
}

/// Kills: the acceptance test `rel + e ≤ tol` for `√(rel² + e²) ≤ tol` (M4); also
/// `Error::NotConverged`'s Display choosing "≤ tolerance" by `residual < tolerance` when a
/// `rounding_floor` is given (M41, which `src/error.rs`'s unit test kills too), end to end.
///
/// P1, `ls_problem(2000, 10, 10, 1, Seed::new(13))`, `b = v_d`, `j = 1`, forced Cholesky,
/// `max_refinements = 0`: one step, whose iterate `x₁` does not depend on `tol` (no CG). Run 1
/// at `tol = 10⁻²⁰⁰` is refused and reports that step's residual `rel` and the rounding
/// estimate `e` at `x₁` (`rounding_floor`, the smaller of the normwise and componentwise
/// estimates; the step is accepted when either meets the test). Run 2 at
/// `tol = (√(rel² + e²) + rel + e)/2` must accept (`Ok`, the documented combined test); M4
/// refuses, the two being comparable here. Run 3 at `tol = rel` exactly is refused on the
/// rounding check: its Display must say `rel ≤ tolerance` and name the floor (M41 says `>`).
#[test]
fn acceptance_combines_residual_and_rounding_in_quadrature() {
    let (a, _, _, _) = ls_problem(2000, 10, 10.0, 1.0, Seed::new(13)).unwrap();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = smallest_right_singular(&a);
    let run = |tol: f64| {
        let mut p = params(InnerSolve::Cholesky, tol);
        p.max_refinements = 0;
        solve_p1(av, 1, &b, &p)
    };
    let (rel, e) = match run(1e-200) {
        Err(Error::NotConverged {
            residual,
            rounding_floor: Some(e),
            ..
        }) => (residual, e),
        other => panic!("{other:?}"),
    };
    assert!(rel > 0.2 * e && e > 0.2 * rel, "rel {rel:e}, e {e:e}");
    let tol = (rel.hypot(e) + rel + e) / 2.0;
    let (_, info) = run(tol).unwrap_or_else(|err| panic!("tol {tol:e}: {err:?}"));
    assert_eq!(
        info.residual_history.last().unwrap().to_bits(),
        rel.to_bits()
    );
    let err = run(rel).expect_err("refused on the rounding check");
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("{rel:e} ≤ tolerance {rel:e}"))
            && shown.contains(&format!("rounding floor of about {e:.1e}"))
            && !shown.contains('>'),
        "{shown}"
    );
}

/// Kills: P2's reported residual, where scaling the answer back lost bits, taken from
/// `b − A·x` instead of `b − A(AᵀA)ʲx` (M33: the recomputed `(AᵀA)ʲx` replaced by `x`).
///
/// `A = 2²⁰·A₀` with `A₀, b₀` from `ls_problem(2000, 10, 10, 1, Seed::new(13))`, `b = 2⁻¹⁰⁰⁰·b₀`
/// (largest entry normal, so the solver checks what it returns; below `2⁻²⁵⁶`, so it solves
/// for `2ᵉ·b`), `j = 1`: `x ≈ (AᵀA)⁻¹A⁺b` is of about `2⁻¹⁰⁶⁰…2⁻¹⁰⁵⁰` and comes back subnormal,
/// rounded by up to `2⁻¹⁰⁷⁵` an entry, which moves `A(AᵀA)x` by about `σ_max³·2⁻¹⁰⁷⁴`, some
/// `2⁻¹²` of `‖b‖`; `tol = 10⁻²` admits that. Reference: `‖b − A(AᵀA)x‖/‖b‖` of the returned
/// `x`, in double-double on `2¹⁰⁵⁰·x` and `2¹⁰⁵⁰·b` (exact scalings). Pass rule: the reported
/// `relative_residual` within 1% of it (its own rounding is about `u·κ³`, far below), and
/// `residual_norm` within 1% of it times `‖b‖`.
#[test]
fn p2_residual_of_an_answer_scaled_back_with_lost_bits() {
    let (a0, b0, _, _) = ls_problem(2000, 10, 10.0, 1.0, Seed::new(13)).unwrap();
    let a = Mat::from_fn(a0.nrows(), a0.ncols(), |i, k| 2f64.powi(20) * a0[(i, k)]);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let c = 2f64.powi(-1000);
    let b = scaled(&b0, c);
    let (x, info) = solve_p2(av, 1, &b, &params(InnerSolve::Auto, 1e-2)).unwrap();
    assert!(x.iter().any(|v| v.is_subnormal()), "x not subnormal: {x:?}");
    // 2¹⁰⁵⁰ itself overflows: two exact steps of 2⁵²⁵.
    let up = |v: &[f64]| scaled(&scaled(v, 2f64.powi(525)), 2f64.powi(525));
    let (xu, bu) = (up(&x), up(&b));
    let kx = mv(&a, &gram_power(&a, 1, &xu));
    let r: Vec<Dd> = bu
        .iter()
        .zip(&kx)
        .map(|(p, q)| dd_add(Dd(*p, 0.0), Dd(-q.0, -q.1)))
        .collect();
    let want = dd_norm(&r) / norm(&bu);
    let got = info.relative_residual;
    assert!(
        (got - want).abs() <= 0.01 * want,
        "relative residual {got:e} vs {want:e}"
    );
    // ‖b‖ from ‖2¹⁰⁵⁰·b‖ (squaring b's entries underflows).
    let bn = norm(&bu) * 2f64.powi(-525) * 2f64.powi(-525);
    let rn = info.residual_norm / (want * bn);
    assert!(
        (rn - 1.0).abs() <= 0.01,
        "residual_norm / (want·‖b‖) = {rn}"
    );
}

/// Kills: P2's check of an answer scaled back with lost bits held to `tol` instead of
/// `tol − spent` (M32), or the refinement's `spent` not handed to that check (M7: `Refined`
/// reports 0).
///
/// P2 recomputes `rel = ‖A(y − (AᵀA)ʲx)‖/‖b‖` on the `x` it returns when scaling it back lost
/// bits, and holds it to what the refinement was held to, `tol` less the stalled stage's
/// certified excess `spent ≥ (d + 1)·u·‖A‖_F·‖y‖/‖b‖ > 0`. Input: the stalled stage of
/// `refinement_after_a_stalled_stage_meets_tol_less_the_stage_share` (`ls_problem(2000, 10,
/// 10, 0, Seed::new(11))`, `b = u_d`, `j = 1`, forced Cholesky, `lstsq.tol = 10⁻¹⁶`,
/// `max_refinements = 0`) with `A·2²⁰` and `b·2⁻¹⁰⁰⁰`, so that `x`, of about `2⁻¹⁰⁵⁰`, comes
/// back subnormal and `rel` grows to about `10⁻⁵`–`10⁻⁴` (the rounding of `x` by `2⁻¹⁰⁷⁵`,
/// times `σ_max³ = 2⁶⁰`, against `‖b‖ ≈ 2⁻¹⁰⁰⁰`; measured `1.8·10⁻⁵`). Run 1 at
/// `tol = 10⁻⁶` (the refinement's own residual, about `10⁻¹³`, passes; the recomputed one does
/// not) reports `rel` as the `NotConverged` residual. Run 2 at `tol = rel` exactly (every
/// earlier decision is the same: the route has no CG and the stage's share, about `10⁻¹³`, is
/// within `tol/2`): `rel > tol − spent`, so again `NotConverged`; the mutants compare
/// `rel > tol`, false, and return `Ok`.
#[test]
fn answer_scaled_back_with_lost_bits_is_held_to_tol_less_the_stage_share() {
    let (a0, _, _, _) = ls_problem(2000, 10, 10.0, 0.0, Seed::new(11)).unwrap();
    let a = Mat::from_fn(a0.nrows(), a0.ncols(), |i, k| 2f64.powi(20) * a0[(i, k)]);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = scaled(&smallest_left_singular(&a0), 2f64.powi(-1000));
    let run = |tol: f64| {
        let mut p = params(InnerSolve::Cholesky, tol);
        p.lstsq.tol = 1e-16;
        p.max_refinements = 0;
        solve_p2(av, 1, &b, &p)
    };
    let rel = match run(1e-6) {
        Err(Error::NotConverged { residual, .. }) => residual,
        other => panic!("{other:?}"),
    };
    assert!((1e-6..1e-2).contains(&rel), "recomputed residual {rel:e}");
    match run(rel) {
        Err(Error::NotConverged {
            residual,
            tolerance,
            ..
        }) => assert_eq!((residual, tolerance), (rel, rel)),
        other => panic!("tol = rel = {rel:e}: {other:?}"),
    }
}
