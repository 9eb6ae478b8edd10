//! Hand mutation review of `src/lstsq/precondition.rs` (sketch-and-precondition, its probe, the
//! full-rank certificate, the cost model, the QR/SVD factor and its rank, warm start, refinement
//! and the backward check, `Info`, the callback, multi-RHS): tests that kill mutants the rest of
//! the suite let through. Each test's doc names the mutant (the one-line slip) and how it fails
//! under it. None repeats a mutant of `mutation_review_lstsq.rs`, `_lsqr.rs` or `_lstsq_ops.rs`.
//!
//! 52 mutants (2026-12-07), each switched on by an environment variable in one build (the patch:
//! `/tmp/mut-mprec.patch` at review time). The library's unit tests and `suite_solvers` (filtered
//! to the least-squares modules) killed 35. The tests below kill 13 more: `rcond = 1` accepted,
//! `sketch_rows = 2³¹` passed to the sketch, the cap `c·d ≥ n/2`, the probe budget without its
//! `2d` floor, the `1/rcond` limit of equilibration dropped, the multi-RHS sketch skipped when
//! any column is probed, the equilibration threshold read as `≥ 10`, the ridge's uniqueness test
//! on `λ` for `√λ`, the `rank` of `Qr`'s `RankDeficient` always `d − 1`, a callback's stop in
//! the equilibrated probe not honoured, and three `Info.timings` slips (probe time unset,
//! iterate time kept on the probe's answer, total unset after the sketched solve). Some tests
//! also kill mutants the suite kills (written before the suite's verdict on them was in). The 4
//! survivors:
//! - the SVD path's `rank == 0` refusal dropped: `A = 0` without the probe then gets `x = 0`, the
//!   minimum-norm answer; the docs promise `RankDeficient` only for `Factorization::Qr`, so a test
//!   would pin an undocumented choice;
//! - `certificate_bound_holds` answering `true` for fewer than `d` rows: a wide 3 × 6 `A` with
//!   columns 100× apart did not reach the row sample's verdict (the probe gave up or the sample
//!   did not come back). Killed since by the unit test
//!   `the_certificate_refuses_a_sketch_with_fewer_rows_than_columns` in
//!   `src/lstsq/precondition.rs` (without the guard the estimate panics);
//! - the CountSketch certificate's `‖S‖² = max load` → `min load`: it loosens the bound by
//!   `√(max/min)`; killing it through the public API needs an `A` whose row sample fails and
//!   whose bound lies within that factor of `1/rcond`. Killed since by the unit test
//!   `the_count_sketch_certificate_takes_the_heaviest_bucket` (`rcond` 1% either side of the
//!   bound, on a sketch with loads 4–10);
//! - `check_sketched_rank`'s consistency exemption dropped: near-equivalent, since the rounding
//!   floor `100·u·(σ‖x‖ + ‖b‖)/‖r‖` already passes a residual made of rounding (ratio `≈ 0.6`
//!   against a floor of about 200 on a consistent system); the exemption only matters for an
//!   answer stopped by the consistency test with a residual well above rounding, which the exact
//!   warm start of a consistent system does not leave.
//!
//! No real bug was found.

use faer::{Mat, Par};
use randnla::lstsq::{
    qr_solve, sketch_and_precondition, sketch_and_precondition_multi,
    sketch_and_precondition_with_callback, Factorization, IterState, LstsqParams,
    PROBE_MIN_ITERATIONS,
};
use randnla::problems::{gaussian_matrix, ls_problem};
use randnla::{Error, MatrixRef, Seed};
use std::ops::ControlFlow;

fn dense(a: &Mat<f64>) -> MatrixRef<'_, f64> {
    MatrixRef::dense(a.as_ref()).unwrap()
}

/// The sketched path (no probe) with factorization `f`.
fn sketched(f: Factorization) -> LstsqParams {
    LstsqParams {
        probe: false,
        factorization: f,
        ..Default::default()
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `‖x − y‖/‖y‖`.
fn rel(x: &[f64], y: &[f64]) -> f64 {
    let d: Vec<f64> = x.iter().zip(y).map(|(p, q)| p - q).collect();
    norm(&d) / norm(y)
}

fn times(a: &Mat<f64>, x: &[f64]) -> Vec<f64> {
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| a[(i, j)] * x[j]).sum())
        .collect()
}

/// Minimum-norm least-squares solution by faer's dense SVD (pseudo-inverse), singular values
/// at or below `cut·σ_max` dropped.
fn pinv_solve(a: &Mat<f64>, b: &[f64], cut: f64) -> Vec<f64> {
    let svd = a.thin_svd().unwrap();
    let s = svd.S().column_vector();
    let bm = Mat::from_fn(b.len(), 1, |i, _| b[i]);
    let utb = svd.U().transpose() * &bm;
    let c = Mat::from_fn(s.nrows(), 1, |i, _| {
        if s[i] > cut * s[0] {
            utb[(i, 0)] / s[i]
        } else {
            0.0
        }
    });
    let x = svd.V() * c;
    (0..a.ncols()).map(|i| x[(i, 0)]).collect()
}

/// An `n × d` Gaussian matrix (seed `seed`) whose last `dups` columns repeat its first ones:
/// rank `d − dups`.
fn with_repeated_columns(n: usize, d: usize, dups: usize, seed: u64) -> Mat<f64> {
    let g = gaussian_matrix(n, d - dups, Seed::new(seed)).unwrap();
    Mat::from_fn(n, d, |i, j| {
        g[(i, if j < d - dups { j } else { j - (d - dups) })]
    })
}

fn gaussian_vec(n: usize, seed: u64) -> Vec<f64> {
    let g = gaussian_matrix(n, 1, Seed::new(seed)).unwrap();
    (0..n).map(|i| g[(i, 0)]).collect()
}

/// The SVD preconditioner's rank threshold is relative, `σ > rcond·σ_max` ([`Factorization::Svd`]:
/// "the `r` singular values above `rcond·σ_max`"). Problem: a 400 × 6 Gaussian `A` whose last
/// column repeats the first (rank 5), scaled by `2⁶⁰` (exact), `b` Gaussian,
/// `Factorization::Svd` without the probe. The sketch's rounding leaves a sixth singular value
/// of order `u·σ_max ≈ 10³–10⁴`, far above the absolute `10⁻¹³` but far below `10⁻¹³·σ_max`. Pass:
/// `info.rank = 5` and `x` within `10⁻¹⁰` (relative) of the dense SVD's minimum-norm solution
/// (singular values below `10⁻¹⁰·σ_max` dropped; the problem's `κ` on its range is about 3, so
/// both agree to a few `u`).
///
/// Kills `s > rcond·smax` → `s > rcond` (rank 6: `x` gets a component of size `‖b‖/10³` along
/// the null direction) and `smax = σ_last` (the threshold `rcond·σ_min`, rank 6 as well).
#[test]
fn svd_rank_threshold_is_relative_to_the_largest_singular_value() {
    let base = with_repeated_columns(400, 6, 1, 11);
    let a = Mat::from_fn(400, 6, |i, j| base[(i, j)] * 2f64.powi(60));
    let b = gaussian_vec(400, 12);
    let (x, info) = sketch_and_precondition(dense(&a), &b, &sketched(Factorization::Svd)).unwrap();
    assert_eq!(info.rank, 5, "{info:?}");
    let want = pinv_solve(&a, &b, 1e-10);
    assert!(rel(&x, &want) <= 1e-10, "{:e}", rel(&x, &want));
}

/// [`Factorization::Qr`] on a rank-deficient `A` is [`Error::RankDeficient`] with the numerical
/// rank found (`rank`: "the numerical rank found"). Problem: a 300 × 6 Gaussian `A` whose last
/// three columns repeat the first three (rank 3), without the probe. The sketch keeps the rank
/// (`rank(SA) ≤ rank(A)`, and a sparse sign sketch of `4d` rows is injective on a generic
/// 3-dimensional range), so `R` has three diagonal entries at rounding level. Pass:
/// `RankDeficient { rank: 3, required: 6 }`.
///
/// Kills `rank: rank.min(d − 1)` → `rank: d − 1` (reports 5).
#[test]
fn qr_on_a_rank_deficient_a_reports_the_rank_found() {
    let a = with_repeated_columns(300, 6, 3, 21);
    let b = gaussian_vec(300, 22);
    match sketch_and_precondition(dense(&a), &b, &sketched(Factorization::Qr)) {
        Err(Error::RankDeficient { rank, required }) => assert_eq!((rank, required), (3, 6)),
        other => panic!("{other:?}"),
    }
}

/// The probe equilibrates columns whose norms differ by more than 10× ([`LstsqParams::probe`]:
/// "when the column norms of `[A; √λI]` differ by more than 10×"), and not at exactly 10×.
/// Problems (default parameters):
/// - a 500 × 3 Gaussian `A` with its first column times 30 (norms about 30× apart; a Gaussian
///   `A` has full rank, which the certificate confirms): `info.factorization =
///   Some(Diagonal)`, `x` within
///   `10⁻¹⁰` of `qr_solve`;
/// - a 100 × 2 `A` whose first column is `±1` in every row (norm exactly 10) and second `e₇`
///   (norm 1): spread exactly 10, so LSQR on `A` itself: `info.factorization = None`, `x`
///   within `10⁻¹⁰` of `qr_solve`.
///
/// Kills `EQUILIBRATE_ABOVE` 10 → 100 (the first problem is solved on `A`, `None`) and
/// `spread > EQUILIBRATE_ABOVE` → `>=` (the second is equilibrated).
#[test]
fn the_probe_equilibrates_above_ten_times_not_at_ten() {
    let g = gaussian_matrix(500, 3, Seed::new(31)).unwrap();
    let a = Mat::from_fn(
        500,
        3,
        |i, j| if j == 0 { 30.0 * g[(i, j)] } else { g[(i, j)] },
    );
    let b = gaussian_vec(500, 32);
    let (x, info) = sketch_and_precondition(dense(&a), &b, &LstsqParams::default()).unwrap();
    assert_eq!(
        info.factorization,
        Some(Factorization::Diagonal),
        "{info:?}"
    );
    let want = qr_solve(dense(&a), &b, 0.0, Par::Seq).unwrap();
    assert!(rel(&x, &want) <= 1e-10, "{:e}", rel(&x, &want));

    let a = Mat::from_fn(100, 2, |i, j| match j {
        0 if (i * 7 + 3) % 5 < 2 => -1.0,
        0 => 1.0,
        _ => f64::from(u8::from(i == 7)),
    });
    let b = gaussian_vec(100, 33);
    let (x, info) = sketch_and_precondition(dense(&a), &b, &LstsqParams::default()).unwrap();
    assert_eq!(info.factorization, None, "{info:?}");
    let want = qr_solve(dense(&a), &b, 0.0, Par::Seq).unwrap();
    assert!(rel(&x, &want) <= 1e-10, "{:e}", rel(&x, &want));
}

/// A ridge with `√λ ≥ rcond·‖[A; √λI]‖_F` makes the equilibrated probe's answer the ridge
/// solution whatever the rank of `A`, so it is kept without the certificate
/// ([`Factorization::Diagonal`]: "or with a ridge `λ` that alone makes `[A; √λI]` of full
/// numerical rank, `√λ ≥ rcond·‖[A; √λI]‖_F`"). Problem: `10⁻⁹` times a 500 × 4 Gaussian `A`
/// with its second column times 100 and its fourth repeating its first (rank 3, norms 100×
/// apart), `b` Gaussian, `λ = 10⁻¹⁹`: `√λ ≈ 3.2·10⁻¹⁰` against `rcond·‖[A; √λI]‖_F ≈
/// 10⁻¹³·2.2·10⁻⁶`. Pass: `info.factorization = Some(Diagonal)` and `x` within `10⁻⁸` of
/// `qr_solve` with the same `λ` (the ridge problem's condition is about `‖A‖₂/√λ ≈ 7·10³`).
///
/// Kills `ridge_is_full_rank` comparing with `λ` instead of `√λ` (`2.2·10⁻¹⁹ ≤ 10⁻¹⁹` fails:
/// the certificate refuses the rank-deficient `A` and the sketched solve answers, `Some(Qr)` or
/// `Some(Svd)`).
#[test]
fn a_ridge_that_alone_gives_full_rank_keeps_the_equilibrated_answer() {
    let base = with_repeated_columns(500, 4, 1, 41);
    let a = Mat::from_fn(500, 4, |i, j| {
        1e-9 * if j == 1 { 100.0 } else { 1.0 } * base[(i, j)]
    });
    let b = gaussian_vec(500, 42);
    let lambda = 1e-19;
    let p = LstsqParams {
        ridge: lambda,
        ..Default::default()
    };
    let (x, info) = sketch_and_precondition(dense(&a), &b, &p).unwrap();
    assert_eq!(
        info.factorization,
        Some(Factorization::Diagonal),
        "{info:?}"
    );
    let want = qr_solve(dense(&a), &b, lambda, Par::Seq).unwrap();
    assert!(rel(&x, &want) <= 1e-8, "{:e}", rel(&x, &want));
}

/// The full-rank certificate bounds `κ(A)`, not only `κ(AD⁻¹)`: its bound carries the column
/// norms' spread `κ(D)` ([`LstsqParams::probe`]: kept "only if ... certify that `A` has full
/// numerical column rank (`κ(A)` bounded by `1/rcond`)"). Problem: `A = [g₁, 10⁻¹²(g₁ +
/// 10⁻²g₂)]` (500 rows, `g` Gaussian): norms `10¹²` apart (below `1/rcond = 10¹³`, so the probe
/// equilibrates), `κ(AD⁻¹) ≈ 200`, `κ(A) ≈ 10¹⁴ > 1/rcond` (checked here with faer's SVD).
/// Pass: `info.factorization ≠ Some(Diagonal)` (the sketched solve answers).
///
/// Kills the spread dropped from `certificate_bound_holds` (the bound without `κ(D) = 10¹²`,
/// about `√d·κ(AD⁻¹)` over the sampled rows' scale, times `rcond`, is far below 1: certified,
/// and the equilibrated answer is kept).
#[test]
fn the_certificate_counts_the_spread_of_the_column_norms() {
    let g = gaussian_matrix(500, 2, Seed::new(51)).unwrap();
    let a = Mat::from_fn(500, 2, |i, j| match j {
        0 => g[(i, 0)],
        _ => 1e-12 * (g[(i, 0)] + 1e-2 * g[(i, 1)]),
    });
    let s = a.thin_svd().unwrap();
    let s = s.S().column_vector();
    assert!(s[0] / s[1] > 1e13, "κ(A) = {:e}", s[0] / s[1]);
    let b = gaussian_vec(500, 52);
    let (_, info) = sketch_and_precondition(dense(&a), &b, &LstsqParams::default()).unwrap();
    assert_ne!(
        info.factorization,
        Some(Factorization::Diagonal),
        "{info:?}"
    );
}

/// On an ill-conditioned `A` the probe gives up at its `PROBE_MIN_ITERATIONS`th iteration, when
/// its observed rate first predicts more passes than the budget ([`LstsqParams::probe`]: "judged
/// from its `PROBE_MIN_ITERATIONS`th iteration on"; "usually `PROBE_MIN_ITERATIONS`"), and the
/// callback sees those iterations with `probe = true`. Problem: `ls_problem(2000, 50, 10¹⁰,
/// 10⁻³)`, default parameters. Pass: `info.probe_iterations = PROBE_MIN_ITERATIONS` (= 3), as many
/// callback calls with `probe = true`, all before those with `probe = false`, and
/// `info.factorization = Some(Qr)` (`κ = 10¹⁰ < 1/rcond`). The budget is half the cost model's
/// passes for this shape, about 20 (`c = 8`: `≈ 38` passes of iterations plus the sketch and
/// QR, over 2); LSQR on `A` at `κ = 10¹⁰` predicts far more at its third iteration.
///
/// Kills the prediction's sign flipped (`predicted_iterations` negative: the probe runs to its
/// budget), `iteration ≥ PROBE_MIN_ITERATIONS` → `>` (gives up at 4), `info.probe_iterations`
/// not set after the sketched solve (0), and the callback's `probe` flag not set in the probe.
#[test]
fn the_probe_gives_up_at_its_minimum_iterations_on_an_ill_conditioned_a() {
    let (a, b, _, _) = ls_problem(2000, 50, 1e10, 1e-3, Seed::new(61)).unwrap();
    let mut flags = Vec::new();
    let mut cb = |s: &IterState| {
        flags.push(s.probe);
        ControlFlow::Continue(())
    };
    let (_, info) =
        sketch_and_precondition_with_callback(dense(&a), &b, &LstsqParams::default(), &mut cb)
            .unwrap();
    assert_eq!(info.probe_iterations, PROBE_MIN_ITERATIONS, "{info:?}");
    assert_eq!(info.factorization, Some(Factorization::Qr), "{info:?}");
    let probing = flags.iter().take_while(|&&p| p).count();
    assert_eq!(probing, PROBE_MIN_ITERATIONS, "{flags:?}");
    assert!(flags[probing..].iter().all(|&p| !p), "{flags:?}");
}

/// A callback's stop during the equilibrated probe ends the solve, also when `A` is not
/// certified ([`sketch_and_precondition_with_callback`]: "Returning `Break` stops the solve:
/// the current iterate is returned"). Problem: a 500 × 4 Gaussian `A`, second column times 100,
/// fourth repeating the first (rank 3, norms 100× apart: the probe equilibrates and the
/// certificate must refuse), a callback that returns `Break` at once. Pass: called exactly once,
/// `info.stopped_by_callback`, not converged, one iteration.
///
/// Kills `info.stopped_by_callback` dropped from `probe_one`'s keep condition (the
/// certificate refuses the stopped iterate, the sketched solve runs and calls the callback
/// again).
#[test]
fn a_callback_stop_in_the_equilibrated_probe_ends_the_solve() {
    let base = with_repeated_columns(500, 4, 1, 71);
    let a = Mat::from_fn(500, 4, |i, j| {
        if j == 1 {
            100.0 * base[(i, j)]
        } else {
            base[(i, j)]
        }
    });
    let b = gaussian_vec(500, 72);
    let mut calls = 0;
    let mut cb = |_: &IterState| {
        calls += 1;
        ControlFlow::Break(())
    };
    let (_, info) =
        sketch_and_precondition_with_callback(dense(&a), &b, &LstsqParams::default(), &mut cb)
            .unwrap();
    assert_eq!(calls, 1);
    assert!(info.stopped_by_callback && !info.converged, "{info:?}");
    assert_eq!(info.iterations, 1, "{info:?}");
}

/// `Info.timings` of the two routes ([`randnla::lstsq::Timings`]): a probe's answer spends its
/// iterations in `probe` (`iterate = 0`, `probe > 0`, `total ≥ probe`); a sketched solve after a
/// probe that gave up has `sketch`, `factor`, `iterate` and `probe` all positive and
/// `total ≥` their sum. Problems: a 2000 × 10 Gaussian `A` (the probe solves it), and
/// `ls_problem(2000, 50, 10¹⁰, 10⁻³)` (it gives up); default parameters.
///
/// Kills `timings.iterate = 0` dropped for the probe's answer, `timings.probe` not set on it,
/// and `timings.total` not set after the sketched solve (0).
#[test]
fn timings_of_the_probe_and_of_the_sketched_solve() {
    let a = gaussian_matrix(2000, 10, Seed::new(81)).unwrap();
    let b = gaussian_vec(2000, 82);
    let (_, info) = sketch_and_precondition(dense(&a), &b, &LstsqParams::default()).unwrap();
    assert_eq!(info.factorization, None, "{info:?}");
    let t = info.timings;
    assert!(
        t.iterate == 0.0 && t.probe > 0.0 && t.total >= t.probe,
        "{t:?}"
    );

    let (a, b, _, _) = ls_problem(2000, 50, 1e10, 1e-3, Seed::new(61)).unwrap();
    let (_, info) = sketch_and_precondition(dense(&a), &b, &LstsqParams::default()).unwrap();
    assert_eq!(info.factorization, Some(Factorization::Qr), "{info:?}");
    let t = info.timings;
    let parts = [t.sketch, t.factor, t.iterate, t.probe];
    assert!(parts.iter().all(|&s| s > 0.0), "{t:?}");
    assert!(t.total >= parts.iter().sum::<f64>(), "{t:?}");
}

/// `refinement_steps = 0` is one LSQR run, no backward-stability check ([`LstsqParams`]: "0
/// gives plain sketch-and-precondition"; the check comes "with at least one"), and
/// `kappa_estimate` is the first run's whatever the runs after it ([`randnla::lstsq::Info`]:
/// "of the first LSQR run"). Problem: `ls_problem(2000, 50, 10¹², 10⁻³)`, sketched (no probe),
/// `refinement_steps` 0 and 1. Pass: with 0, `runs = 1`; with 1, `runs ≥ 2` and the refinement
/// run iterates (so its own `κ` estimate would differ), and `kappa_estimate` bitwise equal in both
/// (the first run is the same computation).
///
/// Kills the check made with `refinement_steps = 0` too (it fails plain sketch-and-precondition's
/// answer at `κ = 10¹²` and adds runs) and `kappa_estimate` taken from every run (the last).
#[test]
fn no_refinement_is_one_run_and_kappa_is_the_first_runs() {
    let (a, b, _, _) = ls_problem(2000, 50, 1e12, 1e-3, Seed::new(91)).unwrap();
    let p0 = LstsqParams {
        refinement_steps: 0,
        ..sketched(Factorization::Auto)
    };
    let (_, i0) = sketch_and_precondition(dense(&a), &b, &p0).unwrap();
    assert_eq!(i0.runs, 1, "{i0:?}");
    let (_, i1) = sketch_and_precondition(dense(&a), &b, &sketched(Factorization::Auto)).unwrap();
    assert!(i1.runs >= 2 && i1.run_iterations[1] > 0, "{i1:?}");
    assert_eq!(i0.kappa_estimate.to_bits(), i1.kappa_estimate.to_bits());
}

/// A consistent system whose warm start is already exact still gets its refinement run
/// ([`randnla::lstsq::Info::runs`]: "1 + refinement runs"; the runs stop early only "once a
/// refinement run leaves `x` unchanged"). Problem: a 1000 × 10 Gaussian `A`, `b = A·x⋆` with
/// `x⋆ = (1, …, 10)`, sketched (no probe): the warm start solves it to rounding, so the first
/// run makes no iteration (`‖r‖ ≤ tol·‖b‖`). Pass: `runs = 2` and `x` within `10⁻¹²` of `x⋆`.
///
/// Kills `run ≥ 1 && !moved` → `!moved` alone (the first run, which left `x` unchanged, ends
/// the solve: `runs = 1`).
#[test]
fn a_first_run_without_iterations_still_gets_its_refinement_run() {
    let a = gaussian_matrix(1000, 10, Seed::new(101)).unwrap();
    let xs: Vec<f64> = (1..=10).map(f64::from).collect();
    let b = times(&a, &xs);
    let (x, info) = sketch_and_precondition(dense(&a), &b, &sketched(Factorization::Auto)).unwrap();
    assert_eq!(info.runs, 2, "{info:?}");
    assert!(rel(&x, &xs) <= 1e-12, "{:e}", rel(&x, &xs));
}

/// The sketched rank check lets a consistent rank-deficient system through (its residual is
/// rounding, whose `Aᵀr` points anywhere: "an answer with `‖r‖ ≤ 100·max(tol, rcond)·‖b‖`
/// passes the rank check"), and a nearly consistent one whose normal-equation ratio sits at its
/// rounding floor `100·u·(σ_max‖x‖ + ‖b‖)/‖r‖` ("such problems were refused" before the floor).
/// Problems: a 1000 × 6 Gaussian `A` whose last two columns repeat the first two (rank 4),
/// sketched (no probe, so the truncated SVD), `b = A·x⋆` (`x⋆ = (1, …, 6)`), then `b = A·x⋆ + r`
/// with `r ⊥ range(A)`, `‖r‖ = 10⁻⁸·‖A·x⋆‖`. Pass: both solve, with `info.rank = 4`, within
/// `10⁻¹⁰` of the dense SVD's minimum-norm solution (`κ` on the range about 3).
///
/// Kills the consistency exemption dropped from `check_sketched_rank` (the first problem is
/// refused as `Error::Factorization`: its ratio is about 0.6) and the rounding floor dropped
/// (the second is refused: ratio `≈ u/10⁻⁸ ≫ 100·10⁻¹³`).
#[test]
fn the_rank_check_passes_consistent_and_nearly_consistent_rank_deficient_systems() {
    let a = with_repeated_columns(1000, 6, 2, 111);
    let xs: Vec<f64> = (1..=6).map(f64::from).collect();
    let ax = times(&a, &xs);
    let g = gaussian_vec(1000, 112);
    let pg = times(&a, &pinv_solve(&a, &g, 1e-10));
    let perp: Vec<f64> = g.iter().zip(&pg).map(|(p, q)| p - q).collect();
    let scale = 1e-8 * norm(&ax) / norm(&perp);
    let near: Vec<f64> = ax.iter().zip(&perp).map(|(p, q)| p + scale * q).collect();
    for (what, b) in [("consistent", ax), ("nearly consistent", near)] {
        let (x, info) = sketch_and_precondition(dense(&a), &b, &sketched(Factorization::Auto))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(info.rank, 4, "{what}: {info:?}");
        let want = pinv_solve(&a, &b, 1e-10);
        assert!(rel(&x, &want) <= 1e-10, "{what}: {:e}", rel(&x, &want));
    }
}

/// `rcond` must lie in the open interval `(0, 1)` ([`randnla::lstsq::Preconditioner::new`]:
/// "`rcond` outside `(0, 1)`" is [`Error::InvalidParameter`]), at the end point 1 too, on every
/// route. Pass: `rcond = 1` is `InvalidParameter { name: "rcond" }` with and without the probe.
///
/// Kills `rcond < 1` → `rcond ≤ 1` in `Preconditioner::plan` (1 accepted: the probe solves the
/// problem, or the sketched solve's SVD keeps no singular value).
#[test]
fn rcond_one_is_an_invalid_parameter() {
    let a = gaussian_matrix(200, 4, Seed::new(121)).unwrap();
    let b = gaussian_vec(200, 122);
    for probe in [true, false] {
        let p = LstsqParams {
            rcond: 1.0,
            probe,
            ..Default::default()
        };
        match sketch_and_precondition(dense(&a), &b, &p) {
            Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, "rcond"),
            other => panic!("probe {probe}: {other:?}"),
        }
    }
}

/// `sketch_rows = 2³¹` is refused by name before any work ([`randnla::lstsq::Preconditioner::new`]:
/// "`sketch_rows ≥ 2³¹`" is [`Error::InvalidParameter`]). Problem: a 200 × 4 `A` with
/// `sketch_rows = 2³¹`, no probe. Pass: `InvalidParameter { name: "sketch_rows" }`.
///
/// Kills `m ≥ 2³¹` → `m > 2³¹` (the sketch constructor gets `2³¹` rows and refuses them under its
/// own parameter name, or the `2³¹ × 4` sketch is allocated).
#[test]
fn two_to_the_31_sketch_rows_are_refused_as_sketch_rows() {
    let a = gaussian_matrix(200, 4, Seed::new(131)).unwrap();
    let b = gaussian_vec(200, 132);
    let p = LstsqParams {
        sketch_rows: Some(1 << 31),
        ..sketched(Factorization::Auto)
    };
    match sketch_and_precondition(dense(&a), &b, &p) {
        Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, "sketch_rows"),
        other => panic!("{other:?}"),
    }
}

/// The probe's budget counts a sketch of fewer than `2d` rows as `2d` (the cost model's rate
/// `√(d/m)` says nothing below that), so `sketch_rows = d` gives the probe the budget of `2d`.
/// Problem: `ls_problem(2000, 50, 10⁴, 10⁻³)`, default parameters but `sketch_rows` `d` and `2d`,
/// with a callback that counts the probe's iterations and stops the solve at the first iteration
/// after the probe. Pass: the probe gives up (an iteration with `probe = false` is seen) after
/// the same number of iterations for both.
///
/// Kills the `.max(2.0)` dropped from `precondition_passes` (at `m = d` the model's
/// `ln(1/tol)/ln(√(m/d))` iterations are infinite, so is the budget, and the probe runs on to
/// convergence).
#[test]
fn a_sketch_of_d_rows_gives_the_probe_the_budget_of_2d() {
    let (a, b, _, _) = ls_problem(2000, 50, 1e4, 1e-3, Seed::new(141)).unwrap();
    let probe_count = |m: usize| {
        let (mut probing, mut after) = (0, false);
        let mut cb = |s: &IterState| {
            if s.probe {
                probing += 1;
                ControlFlow::Continue(())
            } else {
                after = true;
                ControlFlow::Break(())
            }
        };
        let p = LstsqParams {
            sketch_rows: Some(m),
            ..Default::default()
        };
        let r = sketch_and_precondition_with_callback(dense(&a), &b, &p, &mut cb);
        assert!(r.is_ok(), "m = {m}: {r:?}");
        (probing, after)
    };
    let two_d = probe_count(100);
    assert!(two_d.1, "the probe solved it at m = 2d: {two_d:?}");
    assert_eq!(probe_count(50), two_d);
}

/// The default sketch size may reach `n/2` ([`LstsqParams::sketch_rows`]: "`m ≤ n/2`"; the
/// cost model's cap "`m` is capped at `n/2`"). Problem: a dense 1600 × 50 Gaussian `A`, no
/// probe, `tol = 10⁻¹⁴`. The model (`2md²` QR flops at 0.06 ns, 8 ns per entry for the sketch,
/// `ln(10¹⁴)/ln(√c) + 7` passes at 2 ns per entry; `nnz = 80 000`) costs `c = 4, 6, 8, 12, 16`
/// at about `4.7, 4.0, 3.5, 3.2, 3.0` million units: decreasing, so the argmin is the largest
/// `c` allowed, `c = 16`, `m = 800 = n/2`. Pass: `info.sketch_rows = 800`.
///
/// Kills the cap `c·d > n/2` → `c·d ≥ n/2` in `default_sketch_rows` (`c = 16` excluded:
/// `m = 600`).
#[test]
fn the_default_sketch_may_have_n_over_2_rows() {
    let a = gaussian_matrix(1600, 50, Seed::new(151)).unwrap();
    let b = gaussian_vec(1600, 152);
    let (_, info) = sketch_and_precondition(dense(&a), &b, &sketched(Factorization::Auto)).unwrap();
    assert_eq!(info.sketch_rows, 800, "{info:?}");
}

/// Column norms `1/rcond` or more apart are not equilibrated by the probe
/// ([`LstsqParams::probe`]: equilibrated only when they differ "by less than `1/rcond`, beyond
/// which the certificate below could never accept"): the probe runs LSQR on `A` itself, which
/// solves a two-column `A` in a few iterations whatever its scaling. Problem: `A = [g₁,
/// 10⁻¹⁴·g₂]` (500 × 2, `g` Gaussian: norms `10¹⁴` apart), `b` Gaussian, default parameters.
/// Pass: `info.factorization = None` (the probe's answer on `A`).
///
/// Kills the `certifiable` condition dropped from `Preconditioner::for_probe` (the probe
/// equilibrates, the certificate refuses, and the sketched solve answers: `Some(Svd)`).
#[test]
fn norms_beyond_one_over_rcond_apart_are_probed_on_a_itself() {
    let g = gaussian_matrix(500, 2, Seed::new(161)).unwrap();
    let a = Mat::from_fn(
        500,
        2,
        |i, j| if j == 0 { g[(i, 0)] } else { 1e-14 * g[(i, 1)] },
    );
    let b = gaussian_vec(500, 162);
    let (_, info) = sketch_and_precondition(dense(&a), &b, &LstsqParams::default()).unwrap();
    assert_eq!(info.factorization, None, "{info:?}");
}

/// The multi-right-hand-side solver sketches when any column is left by the probe, and that
/// column gets the bits of the single-column solve ([`sketch_and_precondition_multi`]: "the
/// sketch and factorization are made only if some column is left, which then gets the same bits
/// as with `probe = false`"). Problem: `ls_problem(2000, 50, 10¹⁰, 10⁻³)`; column 0 of `B` is
/// `A`'s top left singular vector (faer's SVD: LSQR on `A` solves it in one iteration, so the
/// probe keeps it), column 1 the generator's `b` (the probe gives up). Pass: column 1 and its
/// `Info` (`factorization`, `iterations`) bitwise as `sketch_and_precondition` alone, and
/// column 0 answered by the probe (`factorization = None`).
///
/// Kills `probed.iter().all(is_ok)` → `any` (column 0's probe answer skips the sketch, and
/// column 1 is solved by LSQR on `A` itself: other bits, or `NotConverged` at `κ = 10¹⁰`).
#[test]
fn multi_sketches_when_any_column_is_left_by_the_probe() {
    let (a, b, _, _) = ls_problem(2000, 50, 1e10, 1e-3, Seed::new(181)).unwrap();
    let svd = a.thin_svd().unwrap();
    let bm = Mat::from_fn(2000, 2, |i, j| if j == 0 { svd.U()[(i, 0)] } else { b[i] });
    let p = LstsqParams::default();
    let (x, infos) = sketch_and_precondition_multi(dense(&a), bm.as_ref(), &p).unwrap();
    assert_eq!(infos[0].factorization, None, "{:?}", infos[0]);
    let (x1, i1) = sketch_and_precondition(dense(&a), &b, &p).unwrap();
    assert_eq!(infos[1].factorization, i1.factorization);
    assert_eq!(infos[1].iterations, i1.iterations);
    for (i, v) in x1.iter().enumerate() {
        assert_eq!(x[(i, 1)].to_bits(), v.to_bits(), "row {i}");
    }
}
