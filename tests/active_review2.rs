//! A second review of the active-learning module: each test pins one finding. The tests of
//! behaviour fixes failed before the fix named in their doc comments; the tests of
//! documentation fixes pin the behaviour the corrected docs describe (they say so: they pass on
//! the old code, whose docs were wrong, not its behaviour).
use crate::common;

use common::*;
use faer::{Mat, Par};
use randnla::active::*;
use randnla::{Error, Seed};

/// An integer pool (entries in `-4..=4`, full rank) and labels `y = Xβ` for `β = (3, −1, 2)`,
/// computed exactly, so that the full least-squares problem is consistent (`OPT = 0`).
fn integer_pool(n: usize) -> (Mat<f64>, Vec<f64>) {
    let x = Mat::from_fn(n, 3, |i, j| {
        ((i * 7 + j * 5 + i * j * 3 + i / 5) % 9) as f64 - 4.0
    });
    let beta = [3.0, -1.0, 2.0];
    let y = (0..n)
        .map(|i| (0..3).map(|j| x[(i, j)] * beta[j]).sum())
        .collect();
    (x, y)
}

/// `Pool::least_squares` on labels near the top of the range: `y = 2¹⁰¹⁷·Xβ` (entries up to
/// `≈ 2¹⁰²¹`) has `β* = 2¹⁰¹⁷·(3, −1, 2)` and `OPT = 0`, both in `f64`, yet the intermediate
/// `Vᵀy ≈ Rβ*` (`‖X e_j‖ ≈ 50`) overflowed and the call said "β* does not fit in f64" — the
/// example's evaluation then failed on such a labels file. Labels are now solved at `2⁻ᵉ·y`
/// and scaled back. Pass rule: bitwise the unscaled answer times `2¹⁰¹⁷` (a power of two
/// changes no bit of the arithmetic in range), and `OPT = 0` as unscaled.
#[test]
fn least_squares_of_labels_near_the_top_of_the_range_is_solved() {
    let (x, y) = integer_pool(400);
    let pool = Pool::new(dense(&x), Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    let (base, base_opt) = pool.least_squares(&y).unwrap();
    assert_eq!(base_opt, 0.0);
    let p = 2f64.powi(1017);
    let ys: Vec<f64> = y.iter().map(|v| v * p).collect();
    let (beta, opt) = pool
        .least_squares(&ys)
        .unwrap_or_else(|e| panic!("β* = 2¹⁰¹⁷·(3, −1, 2) fits in f64: {e}"));
    for (j, (b, b0)) in beta.iter().zip(&base).enumerate() {
        assert_eq!(
            b.to_bits(),
            (b0 * p).to_bits(),
            "β*_{j}: {b:e} vs {:e}",
            b0 * p
        );
    }
    assert_eq!(opt, 0.0);
}

/// A [`Basis::AsGiven`] pool in the subnormal range: `X·2⁻¹⁰⁶⁰` (entries `k·2⁻¹⁰⁶⁰`,
/// `|k| ≤ 4`, exact subnormals). Its docs promise `W = 2⁻ᵉ·I` so that the scores neither
/// overflow nor underflow, but `2¹⁰⁵⁸` is beyond `f64`: `W` was `∞·I` and the pool was refused
/// with "a pool row's score overflowed f64: scale X down" — the opposite of the remedy. `W`'s
/// power is now capped at `2¹⁰²³`. Pass rule: the scores are the unscaled pool's times `2⁻⁷⁴`
/// bitwise (`v_i = 2⁻³⁷·x_i` exactly), the BSS selection (rows and weights) is the unscaled
/// one bitwise (it is invariant under a scalar `W`), and the fit on labels `2⁻¹⁰⁶⁰·y` recovers
/// `β = (3, −1, 2)` to 1e-12 relative (as the unscaled fit does; the system is consistent).
#[test]
fn an_as_given_pool_in_the_subnormal_range_is_whitened_into_range() {
    let (x, y) = integer_pool(400);
    let tiny = 2f64.powi(-1060);
    let xs = Mat::from_fn(400, 3, |i, j| x[(i, j)] * tiny);
    let ys: Vec<f64> = y.iter().map(|v| v * tiny).collect();
    let select = |x: &Mat<f64>, y: &[f64]| {
        let pool = Pool::new(dense(x), Basis::AsGiven, Seed::new(1), Par::Seq)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut o = Budgeted::new(SliceOracle::new(y), 30);
        let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(2)).unwrap();
        l.select(30, &mut o).unwrap();
        let (beta, _) = l.fit(0.0).unwrap();
        (pool.scores().to_vec(), l.weights(), beta)
    };
    let (base_scores, base_sel, base_beta) = select(&x, &y);
    let (scores, sel, beta) = select(&xs, &ys);
    for (i, (s, b)) in scores.iter().zip(&base_scores).enumerate() {
        assert_eq!(s.to_bits(), (b * 2f64.powi(-74)).to_bits(), "score {i}");
    }
    assert_eq!(sel, base_sel);
    let want = [3.0, -1.0, 2.0];
    assert!(rel(&base_beta, &want) <= 1e-12, "{base_beta:?}");
    assert!(rel(&beta, &want) <= 1e-12, "{beta:?}");
}

/// Leverage sampling with given scores draws row `i` with probability `∝` its score; only the
/// scores' proportions matter. Scores `(1, 3)·2⁻¹⁰⁷⁴` (subnormal) were used as given: the draw
/// target `u·Σq` rounds to a multiple of `2⁻¹⁰⁷⁴`, so row 0 came up with probability `1/8`
/// instead of `1/4`. Scores whose largest lies beyond `2^±200` are now scaled by a power of
/// two first (as an overflowing sum already was). Pass rules: 4000 draws (fixed seeds) select
/// the rows and weights of scores `(1, 3)` bitwise, and row 0's share of the draws is within
/// 0.03 of 1/4 (4.4 standard deviations of a share over 4000 draws; 1/8 is 18 away).
#[test]
fn subnormal_given_scores_are_sampled_in_proportion() {
    let x = Mat::from_fn(2, 2, |i, j| if i == j { 1.0 } else { 0.0 });
    let pool = Pool::new(dense(&x), Basis::AsGiven, Seed::new(1), Par::Seq).unwrap();
    let y = [0.0; 2];
    let m = 4000;
    let draws = |scores: Vec<f64>| {
        let mut o = Budgeted::new(SliceOracle::new(&y), m);
        let strategy = Strategy::Leverage(ScoreSource::Given(scores));
        let mut l = Learner::new(&pool, strategy, Seed::new(7)).unwrap();
        l.select(m, &mut o).unwrap();
        l.weights()
    };
    let base = draws(vec![1.0, 3.0]);
    let tiny = f64::from_bits(1);
    let sub = draws(vec![tiny, 3.0 * tiny]);
    // w_0 = c_0·Σq/(m·q_0) = 4·c_0/m for scores (1, 3).
    let share = base.iter().find(|e| e.0 == 0).map_or(0.0, |e| e.1 / 4.0);
    assert!(
        (share - 0.25).abs() <= 0.03,
        "scores (1, 3): row 0's share {share}"
    );
    let share = sub.iter().find(|e| e.0 == 0).map_or(0.0, |e| e.1 / 4.0);
    assert!(
        (share - 0.25).abs() <= 0.03,
        "scores (1, 3)·2⁻¹⁰⁷⁴: row 0's share {share}"
    );
    assert_eq!(sub, base);
}

/// A [`Basis::AsGiven`] pool far from orthonormal: column 1 is `10⁻¹⁰⁰` times column 0, so
/// the lower BSS barrier dominates and acceptance in the rejection sampler collapses.
fn lopsided_pool_x() -> Mat<f64> {
    let g = gauss(1000, 2, 5);
    Mat::from_fn(1000, 2, |i, j| {
        g[(i, j)] * if j == 1 { 1e-100 } else { 1.0 }
    })
}

/// The lopsided as-given pool above made BSS fail two ways while BSS ran on the pool's own
/// basis: with `γ = 0.5` its rejection sampler stalled (`2²²` proposals rejected in a row after
/// 131 labels: `NotConverged`), with `γ = 0.9` the upper barrier broke down (`Factorization`).
/// BSS now runs on an orthonormalized basis (the Cholesky factor of `VᵀV`, which a column
/// `10⁻¹⁰⁰` times the other does not trouble: the rank test is relative to each column), where
/// a proposal is accepted with probability at least about `1/d`. Pass rule, 1000 steps with
/// each `γ` on the as-given and the exact basis: the round succeeds, takes fewer than
/// `4·steps` proposals (measured 1315 for γ = 0.5), and the fit is finite.
#[test]
fn bss_on_a_lopsided_as_given_pool_neither_stalls_nor_breaks_down() {
    let x = lopsided_pool_x();
    let y: Vec<f64> = (0..1000).map(|i| (i % 7) as f64 - 3.0).collect();
    for basis in [Basis::AsGiven, Basis::Exact] {
        let pool = Pool::new(dense(&x), basis, Seed::new(1), Par::Seq).unwrap();
        for gamma in [0.5, 0.9] {
            let mut o = Budgeted::new(SliceOracle::new(&y), 1000);
            let p = BssParams {
                gamma: Some(gamma),
                ..Default::default()
            };
            let mut l = Learner::new(&pool, Strategy::Bss(p), Seed::new(2)).unwrap();
            let info = l
                .select(1000, &mut o)
                .unwrap_or_else(|e| panic!("{basis:?} γ = {gamma}: {e}"));
            assert_eq!(info.steps, 1000, "{basis:?} γ = {gamma}");
            assert!(info.proposals < 4000, "{basis:?} γ = {gamma}: {info:?}");
            let (beta, _) = l.fit(0.0).unwrap();
            assert!(beta.iter().all(|b| b.is_finite()), "{beta:?}");
        }
    }
}

/// `RoundInfo::new_labels` was documented as "fewer [than requested] only when the safety stop
/// triggered or, in `select_labels`, when fewer rows with a positive score were left
/// unlabeled"; but `select` makes `k` draws and buys fewer labels whenever draws repeat rows,
/// which on a coherent pool is the common case (no safety stop is involved). A documentation
/// fix: this test pins the behaviour the corrected doc describes (it passes on the old code,
/// whose doc was wrong, not its behaviour): on a 2-row pool, 10 draws buy at most 2 labels,
/// while `select_labels` on a fresh learner buys all that are left.
#[test]
fn select_buys_fewer_labels_than_draws_when_rows_repeat() {
    let x = Mat::from_fn(2, 2, |i, j| if i == j { 1.0 } else { 0.0 });
    let pool = Pool::new(dense(&x), Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    let y = [1.0, 2.0];
    let mut o = Budgeted::new(SliceOracle::new(&y), 10);
    let mut l = Learner::new(&pool, Strategy::leverage(), Seed::new(3)).unwrap();
    let r = l.select(10, &mut o).unwrap();
    assert_eq!((r.requested, r.steps), (10, 10));
    assert!(r.new_labels <= 2, "{r:?}");
    let mut o = Budgeted::new(SliceOracle::new(&y), 10);
    let mut l = Learner::new(&pool, Strategy::leverage(), Seed::new(3)).unwrap();
    let r = l.select_labels(10, &mut o).unwrap();
    assert_eq!((r.requested, r.new_labels), (10, 2), "{r:?}");
}

/// `Pool::new`'s `# Errors` did not list the error of a pool near the top of the range: with
/// the exact and sketched bases, `X·2¹⁰²¹` (Gaussian entries, the largest `≈ 2¹⁰²³`) makes
/// the `20 × n` sparse sign sketch `S·X` (`4d` rows for the exact basis) overflow —
/// [`Error::NonFinite`] naming the sketch — while `X·2¹⁰⁰⁰` gives the unscaled scores
/// bitwise. A documentation fix (the behaviour was right, its doc incomplete): this test pins
/// both (it passes on the old code).
#[test]
fn a_pool_whose_sketch_overflows_is_a_documented_non_finite_error() {
    let g = gauss(400, 5, 2);
    let base = Pool::new(dense(&g), Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    let x = Mat::from_fn(400, 5, |i, j| g[(i, j)] * 2f64.powi(1000));
    let pool = Pool::new(dense(&x), Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    assert_eq!(pool.scores(), base.scores());
    let x = Mat::from_fn(400, 5, |i, j| g[(i, j)] * 2f64.powi(1021));
    let sketched = Basis::Sketched {
        sketch_rows: Some(20),
    };
    for basis in [Basis::Exact, sketched] {
        match Pool::new(dense(&x), basis, Seed::new(1), Par::Seq) {
            Err(Error::NonFinite { what, .. }) => assert!(what.contains("sketch"), "{what}"),
            r => panic!("{basis:?}: {:?}", r.map(|p| p.info().clone())),
        }
    }
}

/// `BssParams` documented the first round's step size as `γ²/(1 − γ²) = 2d·ln(growth)/k`
/// without the clamp `γ ∈ [10⁻³, 0.9]` the code applies: at `d = 8`, growth 4, a first round of
/// `k = 4` steps gets `γ = 0.9`, not the rule's `0.958`. A documentation fix (the clamp is
/// deliberate); this test pins the documented threshold `k < 2d·ln(growth)/4.26 ≈ 5.2`: `k = 4`
/// is clamped, `k = 6` follows the rule to 1e-12 (it passes on the old code).
#[test]
fn a_short_first_bss_round_has_its_step_size_clamped() {
    let g = gauss(400, 8, 9);
    let y = vec![0.0; 400];
    let pool = Pool::new(dense(&g), Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    let gamma = |k: usize| {
        let mut o = Budgeted::new(SliceOracle::new(&y), 8);
        let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(2)).unwrap();
        l.select(k, &mut o).unwrap().gamma.unwrap()
    };
    assert_eq!(gamma(4), 0.9);
    let g6 = gamma(6);
    let want = 2.0 * 8.0 * 4f64.ln() / 6.0;
    assert!(
        (g6 * g6 / (1.0 - g6 * g6) - want).abs() <= 1e-12 * want,
        "γ = {g6}"
    );
}

/// `weighted_least_squares` (and `Learner::fit`) documented `RankDeficient` for rows that do
/// not determine `β` only "and λ = 0"; a positive `λ` too small for the rank test of the
/// stacked system `[√λ·I; √w·X]` is rank deficient too. One row `(1, 1)`, label 1: `λ = 10⁻²⁶`
/// (`√λ/‖x‖ ≈ 7·10⁻¹⁴ < 10⁻¹²`) is `RankDeficient`; `λ = 10⁻²⁰` is solved, `β ≈ (½, ½)` (the
/// ridge solution `x/(‖x‖² + λ)`) to 1e-5 — the bound `ε·κ²·‖r‖/(‖A‖‖β‖) ≈ 10⁻⁶` for
/// `κ = ‖x‖/√λ ≈ 1.4·10¹⁰`, `‖r‖ ≈ 7·10⁻¹¹`. A documentation fix; this test pins both sides
/// (it passes on the old code).
#[test]
fn a_ridge_too_small_for_the_rank_test_is_rank_deficient_as_documented() {
    let x = Mat::from_fn(3, 2, |i, _| (i + 1) as f64);
    match weighted_least_squares(dense(&x), &[0], &[1.0], &[1.0], 1e-26) {
        Err(Error::RankDeficient {
            rank: 1,
            required: 2,
        }) => {}
        r => panic!("{r:?}"),
    }
    let beta = weighted_least_squares(dense(&x), &[0], &[1.0], &[1.0], 1e-20).unwrap();
    assert!(rel(&beta, &[0.5, 0.5]) <= 1e-5, "{beta:?}");
}

/// `Pool::least_squares` on an as-given pool whose columns are in units `10¹⁰⁰, 1, 10⁻¹⁰⁰`
/// (Gaussian, full rank): `W = 2⁻³³²·I` keeps the scores in range, but then `VᵀV`'s last
/// diagonal entry (`≈ 10⁻⁴⁰⁰·n`) underflowed to 0 and `OPT` came back "rank deficient",
/// though the fit and the exact basis solve the same problem (columns 10⁶⁰ apart still worked).
/// The solve now runs in `V·C`, `C` powers of two that bring out-of-range columns of `V`
/// into `[1, 2)`. Pass rule: `OPT` and `β*_j·unit_j` match the unit-scale pool's to 1e-12
/// relative (the equilibrated problem is the unit-scale one, `κ ≈ 1.1`; three refinement
/// steps leave rounding errors near 1e-15).
#[test]
fn least_squares_of_an_as_given_pool_with_columns_in_far_apart_units_is_solved() {
    let (n, d) = (2000, 3);
    let g = gauss(n, d, 11);
    let y: Vec<f64> = (0..n)
        .map(|i| g[(i, 0)] - g[(i, 1)] + (i as f64).sin())
        .collect();
    let units = [1e100, 1.0, 1e-100];
    let x = Mat::from_fn(n, d, |i, j| g[(i, j)] * units[j]);
    let base = Pool::new(dense(&g), Basis::AsGiven, Seed::new(1), Par::Seq).unwrap();
    let (base_beta, base_opt) = base.least_squares(&y).unwrap();
    let pool = Pool::new(dense(&x), Basis::AsGiven, Seed::new(1), Par::Seq).unwrap();
    let (beta, opt) = pool
        .least_squares(&y)
        .unwrap_or_else(|e| panic!("a full-rank X: {e}"));
    assert!(
        (opt - base_opt).abs() <= 1e-12 * base_opt,
        "{opt} vs {base_opt}"
    );
    for j in 0..d {
        let back = beta[j] * units[j];
        assert!(
            (back - base_beta[j]).abs() <= 1e-12 * base_beta[j].abs(),
            "β*_{j}: {back} vs {}",
            base_beta[j]
        );
    }
}
