//! Hand mutation review of active learning (`src/active/`: `mod.rs`, `strategy.rs`, `fit.rs`,
//! `oracle.rs`, `dense.rs`) and row sampling (`src/sketch/sampling.rs`): tests that kill
//! mutants the rest of the suite let through. Each test's doc names the mutant (the one-line
//! slip) and how it fails under it.
//!
//! 55 mutants (2026-12-07), each run against the active tests of `suite_solvers` and
//! `suite_contracts` (sampling: all of `suite_sketch` and `suite_contracts`' row-sampling tests).
//!
//! Killed by the suite (41). Strategies: iid weights without `Σq`, without `1/p_i`, or with
//! `m` = distinct rows; a repeat draw not counted; BSS weights without `/Σℓ`; BSS step
//! `γ/‖v‖²` for `γ/vᵀMv`; either barrier move with `1 ± γ` swapped; the acceptance test
//! without `‖v‖²`; `2d·ln(growth)` halved; zero-score rows counted drawable; no stop at `k`
//! new labels; the `budget ≥ d`, `k ≤ remaining`, score sign and `growth > 1` checks;
//! `weight_range` min from 0. Fit: unweighted labels; ridge rows without the column shift;
//! solution scaled by `c − e`; ridge dropped; rows `= n` accepted; weights not square-rooted.
//! Oracle: budget off by one; NaN labels accepted. Pool: coherence without `/Σ`; one
//! refinement step in `least_squares`; `W·L⁻ᵀ` missing its diagonal; column scale sign in
//! `least_squares`; default sketch `4d` for `10d`. Dense: Householder `α` sign flipped; rank
//! tolerance `10⁻⁸`. Sampling: scale `1/(m·p)` for `1/√(m·p)`; scale with `m = 1`; Bernoulli
//! `q` not capped at 1; one uniform shared by all rows; Bernoulli scale `1/q`; no power-of-two
//! rescaling of extreme weights; the underflow check `== 0`; a block taking the next block's
//! first row; negative weights accepted.
//!
//! Killed by the tests below (7): trailing zero scores counted drawable; `select_labels` not
//! lowering `k` before the BSS step size; a later round's growth without its `k`; the
//! rejection bound with `‖M‖_F²` for `‖M‖_F`; the lower barrier starting at `−d/γ`; the pool's
//! rank threshold `10⁻⁶`; a failed oracle query not counted.
//!
//! Equivalent or near-equivalent (7, not tested):
//! - the inverse-CDF draw `c <= target` → `c < target` (learner and `RowSampling`): they
//!   differ only when the target `u·Σq` equals a CDF value exactly, `u` a multiple of `2⁻⁵³` —
//!   probability about `2⁻⁵³` per draw (the sampling one ran against the whole suite and
//!   survived);
//! - `RowSampling::with_replacement`'s clamp `last` = the last row for the last positive one:
//!   differs only when `u·Σw` rounds up to `Σw` (the largest `u`, probability `2⁻⁵³`), and
//!   unlike the learner's `last` it sets no count of drawable rows;
//! - the scale of a subnormal-probability row (`inverse_sqrt_probability`'s scaled branch
//!   without its `2⁶⁰⁰`; Bernoulli's scaled branch `2³⁰⁰` → `2⁶⁰⁰`; Bernoulli's normal branch
//!   taken for a subnormal `p`): such a row is drawn with probability below `2⁻¹⁰²²·m`, and a
//!   Bernoulli row only when its uniform is exactly 0 (`2⁻⁵³`), so no seed reaches the scale;
//! - `make_orthonormal`'s relative pivot test `l_jj² ≤ 10⁻²⁴·Σ_jj` → `≤ 0`: the Cholesky factor
//!   already refuses `l_jj² ≤ 0`, and a pivot computed as `Σ_jj − Σ_k l_jk²` from a Gram matrix
//!   is either 0 or of the order of its rounding, `u·Σ_jj ≫ 10⁻²⁴·Σ_jj` (a third as-given
//!   column `0.1·c₀ + 0.3·c₁` gives `l₂₂²/Σ₂₂ ≈ 2·10⁻¹⁶`, passes both versions, and builds a
//!   BSS learner): the test was practically unreachable — a weak spot, reported. Fixed after
//!   this review (2026-12-07): the test is now `l_jj² ≤ 10⁻¹²·Σ_jj`, and the mutant `≤ 0` is
//!   killed by `active::an_as_given_numerically_dependent_column_is_refused_by_bss`.
use crate::active::{circle, exact_pool};
use faer::{Mat, Par};
use randnla::active::*;
use randnla::{MatrixRef, Seed};

/// Rows with score 0 after the last positive one cannot be drawn, so
/// [`Learner::select_labels`] with a budget beyond the pool buys exactly the positive-score
/// rows and stops as soon as they are labeled ("the round stops as soon as all of them are
/// labeled"), and a further round takes no step. Pool: `circle(30)`, exact basis; given scores
/// 1 on rows 0–19 and 0 on rows 20–29; budget 1000, seed 3. Pass rule: 20 new labels, all
/// below row 20, in at most 2000 steps (the coupon collector needs about `20·H₂₀ ≈ 72`); then
/// `(0 new labels, 0 steps)`.
///
/// Kills: `last = q.iter().rposition(|&x| x > 0.0)` → `q.len() − 1` (the trailing zero rows
/// taken as drawable): the drawable count is one too many, so the round never sees every
/// drawable row labeled and runs to its cap of `100k + 10⁴` draws.
#[test]
fn trailing_zero_scores_do_not_count_as_drawable_rows() {
    let x = circle(30);
    let y: Vec<f64> = (0..30).map(|i| i as f64).collect();
    let pool = exact_pool(&x);
    let given: Vec<f64> = (0..30).map(|i| if i < 20 { 1.0 } else { 0.0 }).collect();
    let mut o = Budgeted::new(SliceOracle::new(&y), 1000);
    let strategy = Strategy::Leverage(ScoreSource::Given(given));
    let mut l = Learner::new(&pool, strategy, Seed::new(3)).unwrap();
    let info = l.select_labels(1000, &mut o).unwrap();
    assert_eq!(info.new_labels, 20, "{info:?}");
    assert!(l.labels().keys().all(|&i| i < 20), "{:?}", l.labels());
    assert!(info.steps <= 2000, "{info:?}");
    let again = l.select_labels(5, &mut o).unwrap();
    assert_eq!((again.new_labels, again.steps), (0, 0), "{again:?}");
}

/// [`Learner::select_labels`] first lowers `k` to the rows still drawable, and that lowered `k`
/// sets BSS's step size ("it sets the caps above and BSS's step size too"): a first round on a
/// pool of 50 rows (`circle(50)`, exact basis, `d = 2`) asked for 1000 labels uses
/// `γ²/(1 − γ²) = 2d·ln 4/50` (`γ ≈ 0.316`, inside the clamp), not `2d·ln 4/1000`
/// (`γ ≈ 0.074`). Pass rule: agreement to `10⁻¹²` relative (a closed form; rounding of a
/// square root and a logarithm), and all 50 rows bought.
///
/// Kills: `Until::Labels => k.min(self.drawable − before)` → `k` (the target not lowered): the
/// step size comes from `k = 1000`.
#[test]
fn select_labels_beyond_the_pool_sets_the_bss_step_from_the_rows_left() {
    let x = circle(50);
    let y: Vec<f64> = (0..50).map(|i| i as f64).collect();
    let pool = exact_pool(&x);
    let mut o = Budgeted::new(SliceOracle::new(&y), 1000);
    let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(4)).unwrap();
    let info = l.select_labels(1000, &mut o).unwrap();
    assert_eq!(info.new_labels, 50, "{info:?}");
    let g = info.gamma.unwrap();
    let got = g * g / (1.0 - g * g);
    let want = 2.0 * 2.0 * f64::ln(4.0) / 50.0;
    assert!(
        (got - want).abs() <= 1e-12 * want,
        "γ = {g}: γ²/(1 − γ²) = {got} vs {want}"
    );
}

/// A later BSS round chooses its step size so that the barrier gap grows in proportion to the
/// round's share of steps ([`BssParams`]: "Later rounds choose γ so that the gap grows in
/// proportion to the round's share of labels"). After a first round of `k` steps that grew the
/// gap by about `growth = 4` (from `g₀` to `≈ 4g₀`), a second round of `k` more steps should
/// grow it by about `3g₀` more, a factor `≈ 1 + 3/4`, so its `γ₂` solves
/// `γ₂²/(1 − γ₂²) ≈ 2d·ln(1.75)/k`. Pool: 2000 Cauchy rows, `d = 8`, exact basis; `k = 60`,
/// seed 9. Pass rule: `γ₂²/(1 − γ₂²)` within a factor 2 of that value (the first round's growth
/// is 4 only approximately: `Φ ≈ 4d/gap`), and `γ₂ < γ₁`.
///
/// Kills: the later-round growth `1 + k·per_label/gap` with the `k` dropped (growth per *one*
/// step): `γ₂²/(1 − γ₂²) ≈ 2d·ln(1 + 3/(4k))/k`, about 45 times too small.
#[test]
fn a_second_bss_round_grows_the_gap_in_proportion_to_its_steps() {
    let (x, _, y) = cauchy_problem(2000, 8, 1.0, Seed::new(31), Seed::new(32)).unwrap();
    let pool = exact_pool(&x);
    let k = 60;
    let mut o = Budgeted::new(SliceOracle::new(&y), 2 * k);
    let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(9)).unwrap();
    let g1 = l.select(k, &mut o).unwrap().gamma.unwrap();
    let g2 = l.select(k, &mut o).unwrap().gamma.unwrap();
    let got = g2 * g2 / (1.0 - g2 * g2);
    let want = 2.0 * 8.0 * f64::ln(1.75) / k as f64;
    assert!(
        got >= want / 2.0 && got <= want * 2.0 && g2 < g1,
        "γ₁ = {g1}, γ₂ = {g2}: γ₂²/(1 − γ₂²) = {got} vs about {want}"
    );
}

/// BSS's second step follows `v_iᵀMv_i` exactly, also where `M` is far from a multiple of the
/// identity: the rejection sampler's bound must be at least `λ_max(M)` ([`BssParams`]: "by
/// rejection from the score distribution ∝ ‖v_i‖², exact"). Pool: `n = 40`, `d = 2`, rows
/// 0–19 along `e₁` (`1 + 0.1i`), rows 20–39 along `e₂`; the two groups span orthogonal
/// directions `P₁ + P₂ = I` of the orthonormal basis, so after a first step from group `g`
/// (`B₁ = 2γ/tr M₀·`(its direction), whatever the row) the second step lands in the other group
/// with probability `p = m_⊥/(m_∥ + m_⊥)`, `m` the eigenvalues of
/// `M₁ = (u₁I − B₁)⁻¹ + (B₁ − l₁I)⁻¹`. Fixed `γ = 0.9`; `u₀ = −l₀ = 2d/γ`, `M₀ = (2/u₀)·I`,
/// `s = γ/(v_rᵀM₀v_r)` (so `B₁`'s eigenvalue is `γ/m₀`), `u₁ = u₀ + γ/(Φ₀(1 − γ))`,
/// `l₁ = l₀ + γ/(Φ₀(1 + γ))`: `p ≈ 0.566`, computed here from those formulas. 20000
/// learners (seeds 0–19999), two steps each; "the other group" is seen as labels from both
/// groups. Pass rule: the share within 0.016 of `p` (4.5 standard deviations over 20000
/// trials).
///
/// Kills:
/// - the bound `min(Gershgorin, ‖M‖_F, Φ)` with the Frobenius norm's square root dropped:
///   `Σλ² < λ_min(M)` here, so every proposal is accepted and the second step is drawn `∝ ℓ_i`,
///   landing in the other group with probability 1/2 (19 standard deviations from `p`);
/// - the lower barrier started at `−d/γ` instead of `−2d/γ`: `p ≈ 0.601` (10 standard
///   deviations away).
#[test]
fn the_second_bss_step_follows_the_barrier_potential_exactly() {
    let n = 40;
    let x = Mat::from_fn(n, 2, |i, j| match (i < 20, j) {
        (true, 0) => 1.0 + 0.1 * i as f64,
        (false, 1) => 2.0 + 0.05 * i as f64,
        _ => 0.0,
    });
    let pool = exact_pool(&x);
    let (d, gamma) = (2.0, 0.9);
    // The documented process, from B = 0, in the eigenbasis of B₁.
    let u0 = 2.0 * d / gamma;
    let l0 = -u0;
    let m0 = 1.0 / u0 + 1.0 / (-l0);
    let phi0 = d * m0;
    let b1 = gamma / m0;
    let u1 = u0 + gamma / (phi0 * (1.0 - gamma));
    let l1 = l0 + gamma / (phi0 * (1.0 + gamma));
    let m_par = 1.0 / (u1 - b1) + 1.0 / (b1 - l1);
    let m_perp = 1.0 / u1 + 1.0 / (-l1);
    let p = m_perp / (m_par + m_perp);
    let y = vec![0.0; n];
    let strategy = Strategy::Bss(BssParams {
        gamma: Some(gamma),
        ..Default::default()
    });
    let trials = 20000;
    let mut other = 0;
    for s in 0..trials {
        let mut o = Budgeted::new(SliceOracle::new(&y), 2);
        let mut l = Learner::new(&pool, strategy.clone(), Seed::new(s)).unwrap();
        l.select(2, &mut o).unwrap();
        let groups: Vec<bool> = l.labels().keys().map(|&i| i < 20).collect();
        other += usize::from(groups.contains(&true) && groups.contains(&false));
    }
    let share = other as f64 / trials as f64;
    assert!(
        (share - p).abs() <= 0.016,
        "second step in the other group: {share}, want {p}"
    );
}

/// [`Pool::new`]'s rank test is `|R_jj| ≤ 10⁻¹²·max|R_jj|` ("when X does not have full column
/// rank numerically"), so an ill-conditioned but full-rank pool is accepted on the exact and
/// sketched bases. Pool: `n = 500`, columns `1`, `t_i = i/n`, `t_i + 10⁻⁸·cos 7i`
/// (`κ(X) ≈ 10⁹`: `|R₃₃|/max|R_jj| ≈ 10⁻⁹`, a thousand times above the threshold). Pass rule:
/// both bases build the pool, and the exact basis's scores sum to `d = 3` within `10⁻⁶`
/// (whitening that lost accuracy to the conditioning would show here first).
///
/// Kills: the threshold `10⁻¹²` raised to `10⁻⁶` (`let tol = 1e-12 * rmax`): the pool is called
/// rank deficient.
#[test]
fn an_ill_conditioned_full_rank_pool_is_accepted() {
    let n = 500;
    let x = Mat::from_fn(n, 3, |i, j| {
        let t = i as f64 / n as f64;
        match j {
            0 => 1.0,
            1 => t,
            _ => t + 1e-8 * (7.0 * i as f64).cos(),
        }
    });
    for basis in [Basis::Exact, Basis::Sketched { sketch_rows: None }] {
        let pool = Pool::new(
            MatrixRef::dense(x.as_ref()).unwrap(),
            basis,
            Seed::new(1),
            Par::Seq,
        )
        .unwrap_or_else(|e| panic!("{basis:?}: {e}"));
        if basis == Basis::Exact {
            let sum: f64 = pool.scores().iter().sum();
            assert!((sum - 3.0).abs() <= 1e-6, "Σ ℓ = {sum}");
        }
    }
}

/// A query the inner oracle fails still counts against the budget ([`Budgeted::query`]: "the
/// inner oracle's own errors (in both cases the query still counts against the budget: the
/// oracle was asked)"; [`Budgeted::labels_used`]: "plus one for every query it failed").
/// Oracle: 3 rows, row 1 fails on every call; budget 2. Pass rule, exactly: the failed query
/// of row 1 leaves `labels_used = 1`, `remaining = 1`; row 0 is then bought
/// (`labels_used = 2`); a query of row 2 is refused without calling the oracle (2 calls in
/// all), and nothing is cached for row 1.
///
/// Kills: `spent += 1` moved after the inner oracle's `?` (a failed query costs nothing): row 2
/// is then bought as a third label on a budget of 2.
#[test]
fn a_failed_query_counts_against_the_budget() {
    let mut calls = 0;
    let inner = |i: usize| -> randnla::Result<f64> {
        calls += 1;
        if i == 1 {
            Err(randnla::Error::InvalidStructure {
                reason: "the instrument failed".into(),
            })
        } else {
            Ok(i as f64)
        }
    };
    let mut o = Budgeted::new((3, inner), 2);
    assert!(o.query(1).is_err());
    assert_eq!((o.labels_used(), o.remaining()), (1, 1));
    assert_eq!(o.query(0).unwrap(), 0.0);
    assert_eq!((o.labels_used(), o.remaining()), (2, 0));
    assert!(o.query(2).is_err());
    assert_eq!(o.labels_used(), 2);
    assert!(!o.is_labeled(1) && !o.is_labeled(2) && o.is_labeled(0));
    drop(o);
    assert_eq!(calls, 2);
}
