//! Acceptance tests for active-learning query selection (the experiment of the project's
//! specification, its §8, kept outside this repository).
//!
//! The §8 experiment: Cauchy rows, n = 2·10⁴, d = 50, y = Xβ + 5·g, ratio = ‖Xβ̃ − y‖²/OPT.
//! One pool (seed 1) is paired with many noise draws and selection seeds; the spec's 200 trials
//! run in the bench and the example, here fewer (stated per test) to stay within the CI budget.

use crate::common;

use common::*;
use faer::{Mat, Par};
use randnla::active::*;
use randnla::leverage::{exact_leverage_scores, ExactParams};
use randnla::{Error, MatrixRef, Seed};
use std::cell::Cell;
use std::sync::OnceLock;

const N: usize = 20_000;
const D: usize = 50;

struct Experiment {
    x: Mat<f64>,
    beta: Vec<f64>,
}

fn experiment() -> &'static Experiment {
    static E: OnceLock<Experiment> = OnceLock::new();
    E.get_or_init(|| {
        let (x, beta, _) = cauchy_problem(N, D, 5.0, Seed::new(1), Seed::new(0)).unwrap();
        Experiment { x, beta }
    })
}

fn pool(e: &Experiment) -> Pool<'_> {
    Pool::new(
        MatrixRef::dense(e.x.as_ref()).unwrap(),
        Basis::Exact,
        Seed::new(2),
        Par::Seq,
    )
    .unwrap()
}

/// A pool `X` of Cauchy rows (`n × d`, noise 1, from `seed`) and its noisy labels (from
/// `seed + 1`).
fn labeled_problem(n: usize, d: usize, seed: u64) -> (Mat<f64>, Vec<f64>) {
    let (x, beta, _) = cauchy_problem(n, d, 1.0, Seed::new(seed), Seed::new(0)).unwrap();
    let y = noisy_labels(
        MatrixRef::dense(x.as_ref()).unwrap(),
        &beta,
        1.0,
        Seed::new(seed + 1),
    )
    .unwrap();
    (x, y)
}

/// The pool of `x` on the exact leverage basis (seed 1, one thread).
pub(crate) fn exact_pool(x: &Mat<f64>) -> Pool<'_> {
    Pool::new(
        MatrixRef::dense(x.as_ref()).unwrap(),
        Basis::Exact,
        Seed::new(1),
        Par::Seq,
    )
    .unwrap()
}

/// Ratios ‖Xβ̃ − y‖²/OPT over `trials` (noise seed 1000 + t, selection seed t); a failed fit
/// (rank-deficient selection) counts as ratio ∞.
fn ratios(
    pool: &Pool<'_>,
    e: &Experiment,
    strategy: &Strategy,
    k: usize,
    trials: u64,
    adversarial: bool,
) -> Vec<f64> {
    let mut out = Vec::new();
    for t in 0..trials {
        let xv = MatrixRef::dense(e.x.as_ref()).unwrap();
        let mut y = noisy_labels(xv, &e.beta, 5.0, Seed::new(1000 + t)).unwrap();
        if adversarial {
            corrupt_high_leverage(pool, &mut y, t);
        }
        let (_, opt) = pool.least_squares(&y).unwrap();
        let mut oracle = Budgeted::new(SliceOracle::new(&y), k);
        let mut learner = Learner::new(pool, strategy.clone(), Seed::new(t)).unwrap();
        learner.select(k, &mut oracle).unwrap();
        assert!(oracle.labels_used() <= k);
        out.push(match learner.fit(0.0) {
            Ok((b, _)) => pool.residual_norm_sq(&b, &y).unwrap() / opt,
            Err(_) => f64::INFINITY,
        });
    }
    out.sort_by(f64::total_cmp);
    out
}

/// Adds ±500 (100 times the label noise's standard deviation, 5) to the labels of the 20 rows
/// of largest leverage (ℓ from 0.73 to 1.0; signs from the trial): the rows every
/// leverage-based strategy samples most and every fit nearly interpolates, so the corruption
/// moves the answer while OPT only grows 1.6–1.9× (measured, trials 0–5): the corrupted rows
/// are part of the problem, not all of it. (Until 2026-12-05 it added 10⁴ times the labels'
/// RMS, which multiplied OPT by 3.5·10⁹ and made the problem easier: uniform sampling's ratios
/// fell from ≥ 163 to 10–15.)
fn corrupt_high_leverage(pool: &Pool<'_>, y: &mut [f64], t: u64) {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    let s = pool.scores();
    idx.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    for (r, &i) in idx.iter().take(20).enumerate() {
        let sign = if (t + r as u64).is_multiple_of(3) {
            -1.0
        } else {
            1.0
        };
        y[i] += sign * 100.0 * 5.0;
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}
fn median(v: &[f64]) -> f64 {
    v[v.len() / 2]
}

/// BSS: mean ratio ≤ 2 at k = 5d and ≤ 1.1 at k = 20d (the §8 targets).
/// Pass rule: over the spec's 200 trials at 5d, the mean meets the target and no trial exceeds
/// 100; over 16 trials at 20d, the mean meets the target. The point of BSS is a good *mean*
/// despite rare bad draws (leverage sampling's mean at 5d is 15.5 over 200 trials, its worst
/// 2835): a 1-in-200 catastrophic selection, which 24 trials would miss 89% of the time, shows
/// in 200 with probability 63%. The bar of 100 sits an order of magnitude above BSS's worst
/// trial in 400 (4.5 on trials 0–199, 10.84 on 200–399, the seed audit of
/// `tests/seed_review.rs`) and an order below leverage sampling's catastrophe; the bar of 10 of
/// earlier versions was tuned to trials 0–199.
#[test]
fn bss_meets_the_section_8_targets() {
    let e = experiment();
    let pool = pool(e);
    let r5 = ratios(&pool, e, &Strategy::bss(), 5 * D, 200, false);
    eprintln!("bss 5d: mean {}, worst {}", mean(&r5), r5[r5.len() - 1]);
    assert!(mean(&r5) <= 2.0, "bss 5d: mean {} ({r5:?})", mean(&r5));
    assert!(
        r5[r5.len() - 1] <= 100.0,
        "bss 5d: worst {} ({r5:?})",
        r5[r5.len() - 1]
    );
    let r20 = ratios(&pool, e, &Strategy::bss(), 20 * D, 16, false);
    assert!(mean(&r20) <= 1.1, "bss 20d: mean {} ({r20:?})", mean(&r20));
}

/// Leverage and uniform reproduce the reference behaviour (uniform at 20d: median ≈ 500;
/// leverage at 5d: median ≈ 1.18). Pass rule: uniform 20d median ≥ 20 (16 trials); leverage 5d
/// median in (1, 1.25] (24 trials); leverage 20d median ≤ 1.1 (8 trials). The 5d band: over 10
/// blocks of 24 trials (0–239, the seed audit of `tests/seed_review.rs`) the median was
/// 1.041–1.175, mean 1.082, sd 0.041; 1.25 is 4 sd above that mean, and a median of 1 would
/// mean 250 labels gave the exact least-squares answer. (The band [1.05, 1.4] of earlier
/// versions failed on 2 of those 10 blocks.)
#[test]
fn leverage_and_uniform_reproduce_the_reference_behaviour() {
    let e = experiment();
    let pool = pool(e);
    let u = ratios(&pool, e, &Strategy::Uniform, 20 * D, 16, false);
    assert!(median(&u) >= 20.0, "uniform 20d: median {}", median(&u));
    let l5 = ratios(&pool, e, &Strategy::leverage(), 5 * D, 24, false);
    assert!(
        median(&l5) > 1.0 && median(&l5) <= 1.25,
        "leverage 5d: median {}",
        median(&l5)
    );
    let l20 = ratios(&pool, e, &Strategy::leverage(), 20 * D, 8, false);
    assert!(median(&l20) <= 1.1, "leverage 20d: median {}", median(&l20));
}

/// Adversarial noise on the 20 highest-leverage rows (`corrupt_high_leverage`): BSS and
/// leverage sampling keep a bounded ratio because the selection never looks at labels and
/// samples the rows that carry the corruption. Pass rule (10 trials, k = 10d): BSS mean ≤ 1.5;
/// leverage median ≤ 1.5; and, the control that the corrupted problem is not an easy one,
/// uniform sampling's median ≥ 20 (measured over trials 0–5: BSS 1.07–1.12, leverage
/// 1.04–1.37, uniform 95–15 000).
#[test]
fn adversarial_noise_on_high_leverage_rows() {
    let e = experiment();
    let pool = pool(e);
    let u = ratios(&pool, e, &Strategy::Uniform, 10 * D, 10, true);
    assert!(
        median(&u) >= 20.0,
        "uniform adversarial: median {}",
        median(&u)
    );
    let b = ratios(&pool, e, &Strategy::bss(), 10 * D, 10, true);
    assert!(
        mean(&b) <= 1.5,
        "bss adversarial: mean {} ({b:?})",
        mean(&b)
    );
    let l = ratios(&pool, e, &Strategy::leverage(), 10 * D, 10, true);
    assert!(
        median(&l) <= 1.5,
        "leverage adversarial: median {}",
        median(&l)
    );
}

/// An oracle that counts how often it is asked.
struct Counting<'a> {
    y: &'a [f64],
    calls: &'a Cell<usize>,
}
impl LabelOracle for Counting<'_> {
    fn pool_size(&self) -> usize {
        self.y.len()
    }
    fn label(&mut self, row: usize) -> randnla::Result<f64> {
        self.calls.set(self.calls.get() + 1);
        Ok(self.y[row])
    }
}

#[test]
fn the_budget_is_never_exceeded() {
    let (x, y) = labeled_problem(3000, 12, 5);
    let pool = exact_pool(&x);
    for strategy in [Strategy::Uniform, Strategy::leverage(), Strategy::bss()] {
        for budget in [12usize, 20, 60, 150] {
            let calls = Cell::new(0);
            let mut oracle = Budgeted::new(
                Counting {
                    y: &y,
                    calls: &calls,
                },
                budget,
            );
            let mut learner =
                Learner::new(&pool, strategy.clone(), Seed::new(budget as u64)).unwrap();
            // Sequential rounds that together spend the budget exactly.
            let mut left = budget;
            let mut round = 1;
            while left > 0 {
                let k = (budget / 3).max(1).min(left);
                let info = learner.select_labels(k, &mut oracle).unwrap();
                assert!(info.new_labels <= k, "{}: {info:?}", strategy.name());
                left -= info.new_labels;
                round += 1;
                assert!(round < 100);
                if info.new_labels < k {
                    break;
                }
            }
            assert!(
                calls.get() <= budget,
                "{}: {} calls",
                strategy.name(),
                calls.get()
            );
            assert_eq!(calls.get(), oracle.labels_used());
            assert_eq!(learner.labels().len(), oracle.labels_used());
            assert_eq!(oracle.labels_used(), budget, "{}", strategy.name());
            // Asking for more than remains is refused without calling the oracle.
            let before = calls.get();
            assert!(learner.select(oracle.remaining() + 1, &mut oracle).is_err());
            assert!(learner
                .select_labels(oracle.remaining() + 1, &mut oracle)
                .is_err());
            assert_eq!(calls.get(), before);
            // The fit works with what was bought.
            let (b, info) = learner.fit(0.0).unwrap();
            assert_eq!(b.len(), 12);
            assert_eq!(info.labels, oracle.labels_used());
        }
    }
}

#[test]
fn sequential_rounds_equal_one_batch_for_iid_strategies() {
    let (x, y) = labeled_problem(2000, 8, 7);
    let pool = exact_pool(&x);
    for strategy in [Strategy::Uniform, Strategy::leverage()] {
        let mut o1 = Budgeted::new(SliceOracle::new(&y), 80);
        let mut batch = Learner::new(&pool, strategy.clone(), Seed::new(3)).unwrap();
        batch.select(80, &mut o1).unwrap();
        let mut o2 = Budgeted::new(SliceOracle::new(&y), 80);
        let mut rounds = Learner::new(&pool, strategy.clone(), Seed::new(3)).unwrap();
        for k in [10, 30, 40] {
            rounds.select(k, &mut o2).unwrap();
        }
        assert_eq!(batch.weights(), rounds.weights(), "{}", strategy.name());
    }
    // BSS rounds continue the barrier process and stay accurate.
    let mut o = Budgeted::new(SliceOracle::new(&y), 160);
    let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(3)).unwrap();
    let mut prev_gap_rounds = 0;
    for k in [40, 40, 80] {
        let info = l.select_labels(k, &mut o).unwrap();
        assert_eq!(info.new_labels, k);
        assert!(info.gamma.unwrap() > 0.0 && info.gamma.unwrap() < 1.0);
        prev_gap_rounds += 1;
    }
    assert_eq!(l.rounds().len(), prev_gap_rounds);
    let (b, _) = l.fit(0.0).unwrap();
    let (_, opt) = pool.least_squares(&y).unwrap();
    let ratio = pool.residual_norm_sq(&b, &y).unwrap() / opt;
    assert!(ratio < 1.5, "bss after 3 rounds: ratio {ratio}");
}

#[test]
fn pool_scores_are_exact_leverage_scores_and_sketched_ones_are_sandwiched() {
    let (x, _, _) = cauchy_problem(3000, 20, 1.0, Seed::new(9), Seed::new(0)).unwrap();
    let a = MatrixRef::dense(x.as_ref()).unwrap();
    let (exact, _) = exact_leverage_scores(a, &ExactParams::default(), Par::Seq).unwrap();
    let pool = Pool::new(a, Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    for (i, (p, e)) in pool.scores().iter().zip(&exact).enumerate() {
        assert!((p - e).abs() <= 1e-9 * e.max(1e-3), "row {i}: {p} vs {e}");
    }
    assert!((pool.info().score_sum - 20.0).abs() < 1e-9);
    let sk = Pool::new(
        a,
        Basis::Sketched { sketch_rows: None },
        Seed::new(1),
        Par::Seq,
    )
    .unwrap();
    let ratios: Vec<f64> = sk.scores().iter().zip(&exact).map(|(s, e)| s / e).collect();
    let (lo, hi) = ratios
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
    // A 10d-row sparse sign sketch distorts by at most a small constant (every row).
    assert!(lo > 0.3 && hi < 3.0, "sandwich [{lo}, {hi}]");
}

/// BSS on a sketched basis and on a nearly orthogonal basis given as is. Pass rule: k = 10d,
/// 4 trials, mean ratio ≤ 1.3 — between the targets at 5d (2) and 20d (1.1) of the exact basis,
/// since a sketched basis (distortion a few units) should cost little; measured 1.01–1.18
/// (mean 1.09) on these fixed seeds, so the bar sits about three trial spreads above. The
/// as-given basis: one run, ratio < 1.5 (the adversarial test's bar).
#[test]
fn sketched_and_given_bases_also_work_for_selection() {
    let e = experiment();
    let a = MatrixRef::dense(e.x.as_ref()).unwrap();
    let sk = Pool::new(
        a,
        Basis::Sketched { sketch_rows: None },
        Seed::new(2),
        Par::Seq,
    )
    .unwrap();
    let r = ratios(&sk, e, &Strategy::bss(), 10 * D, 4, false);
    assert!(mean(&r) <= 1.3, "bss on a nearly orthogonal basis: {r:?}");
    // A nearly orthogonal basis given as is: Gaussian columns (VᵀV/n ≈ I).
    let g = randnla::problems::gaussian_matrix(4000, 10, Seed::new(3)).unwrap();
    let beta = vec![1.0; 10];
    let y = noisy_labels(
        MatrixRef::dense(g.as_ref()).unwrap(),
        &beta,
        1.0,
        Seed::new(4),
    )
    .unwrap();
    let p = Pool::new(
        MatrixRef::dense(g.as_ref()).unwrap(),
        Basis::AsGiven,
        Seed::new(0),
        Par::Seq,
    )
    .unwrap();
    let mut o = Budgeted::new(SliceOracle::new(&y), 100);
    let mut l = Learner::new(&p, Strategy::bss(), Seed::new(5)).unwrap();
    l.select(100, &mut o).unwrap();
    let (b, _) = l.fit(0.0).unwrap();
    let ratio = p.residual_norm_sq(&b, &y).unwrap() / p.least_squares(&y).unwrap().1;
    assert!(ratio < 1.5, "as-given basis: {ratio}");
}

#[test]
fn weighted_fit_matches_a_dense_qr_solve_and_ridge_shrinks() {
    let (x, y) = labeled_problem(400, 6, 11);
    let a = MatrixRef::dense(x.as_ref()).unwrap();
    let rows: Vec<usize> = (0..400).collect();
    let ones = vec![1.0; 400];
    for lambda in [0.0, 10.0] {
        let b = weighted_least_squares(a, &rows, &ones, &y, lambda).unwrap();
        let r = randnla::lstsq::qr_solve(a, &y, lambda, Par::Seq).unwrap();
        for j in 0..6 {
            assert!(
                (b[j] - r[j]).abs() <= 1e-9 * (1.0 + r[j].abs()),
                "λ={lambda}"
            );
        }
    }
    // Weight 2 on a row = the row twice; CSR and CSC agree with dense.
    let sel = [3usize, 7, 7, 11, 20, 21, 40, 41];
    let w1 = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let lab: Vec<f64> = sel.iter().map(|&i| y[i]).collect();
    let b1 = weighted_least_squares(a, &sel, &w1, &lab, 0.0).unwrap();
    let sel2 = [3usize, 7, 11, 20, 21, 40, 41];
    let w2 = [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let lab2: Vec<f64> = sel2.iter().map(|&i| y[i]).collect();
    let b2 = weighted_least_squares(a, &sel2, &w2, &lab2, 0.0).unwrap();
    for j in 0..6 {
        assert!((b1[j] - b2[j]).abs() <= 1e-9 * (1.0 + b1[j].abs()));
    }
    let csr = to_csr(&x);
    let csc = csr.to_csc();
    let xs = MatrixRef::sparse(&csr).unwrap().to_dense().unwrap();
    let b1 = weighted_least_squares(MatrixRef::dense(xs.as_ref()).unwrap(), &sel, &w1, &lab, 0.0)
        .unwrap();
    for s in [&csr, &csc] {
        let bs =
            weighted_least_squares(MatrixRef::sparse(s).unwrap(), &sel, &w1, &lab, 0.0).unwrap();
        // The same rows copied into the same system: the same bits.
        for j in 0..6 {
            assert_eq!(bs[j].to_bits(), b1[j].to_bits());
        }
    }
    // Ridge through the learner: λ > 0 shrinks ‖β‖.
    let pool = Pool::new(a, Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    let mut o = Budgeted::new(SliceOracle::new(&y), 60);
    let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(2)).unwrap();
    l.select(60, &mut o).unwrap();
    let norm = |b: &[f64]| b.iter().map(|v| v * v).sum::<f64>();
    let (b0, _) = l.fit(0.0).unwrap();
    let (bl, _) = l.fit(1e6).unwrap();
    assert!(norm(&bl) < norm(&b0));
}

#[test]
fn the_weighted_fit_works_at_the_ends_of_the_range() {
    // X scaled by 1e±300 (and by 2^±900) scales β by the inverse, labels near f64::MAX scale it
    // with them. The fit's QR used naive sums of squares: at 1e300 they overflowed, at 1e-300
    // underflowed, both read as "rank 0"; labels near f64::MAX overflowed the reflections.
    let (x, y) = labeled_problem(300, 5, 17);
    let sel: Vec<usize> = (0..40).map(|i| (i * 7) % 300).collect();
    let w: Vec<f64> = (0..40).map(|i| 1.0 + (i % 3) as f64).collect();
    let lab: Vec<f64> = sel.iter().map(|&i| y[i]).collect();
    let fit = |c: f64| {
        let xc = Mat::from_fn(300, 5, |i, j| x[(i, j)] * c);
        weighted_least_squares(MatrixRef::dense(xc.as_ref()).unwrap(), &sel, &w, &lab, 0.0)
    };
    let base = fit(1.0).unwrap();
    // Labels near the top of the range (the largest 1.5e308): β scales with them.
    let top = lab.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let e = 1.5e308 / top;
    let big: Vec<f64> = lab.iter().map(|v| v * e).collect();
    let b = weighted_least_squares(MatrixRef::dense(x.as_ref()).unwrap(), &sel, &w, &big, 0.0)
        .unwrap_or_else(|err| panic!("labels·{e:e}: {err}"));
    for j in 0..5 {
        let back = b[j] / e;
        assert!(
            (back - base[j]).abs() <= 1e-12 * base[j].abs().max(1e-3),
            "labels·{e:e}, β_{j}: {back} vs {}",
            base[j]
        );
    }
    for c in [1e300, 1e-300, 2f64.powi(900), 2f64.powi(-900)] {
        let b = fit(c).unwrap_or_else(|e| panic!("X·{c:e}: {e}"));
        for j in 0..5 {
            let back = b[j] * c;
            assert!(
                (back - base[j]).abs() <= 1e-12 * base[j].abs().max(1e-3),
                "X·{c:e}, β_{j}: {back} vs {}",
                base[j]
            );
        }
    }
}

fn to_csr(x: &Mat<f64>) -> sprs::CsMat<f64> {
    let mut tri = sprs::TriMat::new((x.nrows(), x.ncols()));
    for i in 0..x.nrows() {
        for j in 0..x.ncols() {
            if !(i + j).is_multiple_of(3) {
                tri.add_triplet(i, j, x[(i, j)]);
            }
        }
    }
    tri.to_csr()
}

#[test]
fn layouts_and_thread_counts_give_bitwise_identical_selections() {
    let (x, _, _) = cauchy_problem(6000, 10, 1.0, Seed::new(13), Seed::new(0)).unwrap();
    let csr = to_csr(&x);
    let layouts = Layouts::new(csr);
    let y: Vec<f64> = (0..6000).map(|i| (i % 17) as f64).collect();
    let run = |a: MatrixRef<'_, f64>, par: Par, basis: Basis| {
        let pool = Pool::new(a, basis, Seed::new(4), par).unwrap();
        let mut o = Budgeted::new(SliceOracle::new(&y), 50);
        let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(5)).unwrap();
        l.select(50, &mut o).unwrap();
        let w: Vec<(usize, u64)> = l.weights().iter().map(|&(i, w)| (i, w.to_bits())).collect();
        let s: Vec<u64> = pool.scores().iter().map(|v| v.to_bits()).collect();
        (s, w)
    };
    for basis in [Basis::Exact, Basis::Sketched { sketch_rows: None }] {
        let reference = run(layouts.views()[0].1, Par::Seq, basis);
        for (name, view) in layouts.views() {
            for threads in [1, 2, 4] {
                let got = with_threads(threads, |par| run(view, par, basis));
                assert!(got == reference, "{name}, {threads} threads, {basis:?}");
            }
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    let (x, beta, _) = cauchy_problem(500, 10, 1.0, Seed::new(1), Seed::new(0)).unwrap();
    let xv = MatrixRef::dense(x.as_ref()).unwrap();
    let y = noisy_labels(xv, &beta, 1.0, Seed::new(2)).unwrap();
    // β of the wrong length (it used to be truncated silently), bad noise, non-finite data.
    assert!(matches!(
        noisy_labels(xv, &beta[..9], 1.0, Seed::new(2)),
        Err(Error::DimensionMismatch { .. })
    ));
    for noise in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            noisy_labels(xv, &beta, noise, Seed::new(2)),
            Err(Error::InvalidParameter { .. })
        ));
    }
    let mut nan_beta = beta.clone();
    nan_beta[3] = f64::NAN;
    assert!(matches!(
        noisy_labels(xv, &nan_beta, 1.0, Seed::new(2)),
        Err(Error::NonFinite { .. })
    ));
    let huge: Vec<f64> = beta.iter().map(|_| f64::MAX).collect();
    assert!(matches!(
        noisy_labels(xv, &huge, 1.0, Seed::new(2)),
        Err(Error::NonFinite { .. })
    ));
    // A dense X built without `MatrixRef::dense`'s check, holding an infinity.
    let mut bad_x = x.clone();
    bad_x[(7, 2)] = f64::INFINITY;
    assert!(matches!(
        noisy_labels(MatrixRef::Dense(bad_x.as_ref()), &beta, 1.0, Seed::new(2)),
        Err(Error::NonFinite { row: 7, col: 2, .. })
    ));
    // A sparse X declaring 2⁶⁰ rows: the labels cannot be allocated.
    let tall = sprs::CsMat::new_csc((1 << 60, 1), vec![0, 1], vec![3], vec![1.0]);
    assert!(matches!(
        noisy_labels(MatrixRef::sparse(&tall).unwrap(), &[1.0], 0.0, Seed::new(2)),
        Err(Error::TooLarge { .. })
    ));
    let a = MatrixRef::dense(x.as_ref()).unwrap();
    let pool = Pool::new(a, Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    // Budget below d.
    let mut o = Budgeted::new(SliceOracle::new(&y), 9);
    let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(1)).unwrap();
    assert!(matches!(
        l.select(9, &mut o),
        Err(Error::InvalidParameter { .. })
    ));
    // k = 0, k above the remaining budget.
    let mut o = Budgeted::new(SliceOracle::new(&y), 20);
    assert!(l.select(0, &mut o).is_err());
    assert!(l.select(21, &mut o).is_err());
    // Mismatched oracle size.
    let mut o = Budgeted::new(SliceOracle::new(&y[..499]), 20);
    assert!(matches!(
        l.select(20, &mut o),
        Err(Error::DimensionMismatch { .. })
    ));
    // NaN label.
    let mut bad = y.clone();
    for v in bad.iter_mut() {
        *v = f64::NAN;
    }
    let mut o = Budgeted::new(SliceOracle::new(&bad), 20);
    let mut l = Learner::new(&pool, Strategy::leverage(), Seed::new(1)).unwrap();
    assert!(matches!(l.select(20, &mut o), Err(Error::NonFinite { .. })));
    // Fit before any label.
    let l = Learner::new(&pool, Strategy::Uniform, Seed::new(1)).unwrap();
    let r = l.fit(0.0);
    assert!(
        matches!(&r, Err(e @ Error::Empty { .. }) if e.to_string().contains("call `select` before `fit`")),
        "{r:?}"
    );
    // NaN in X (dense built without validation), n < d, empty, rank deficient.
    let mut xn = x.clone();
    xn[(3, 4)] = f64::NAN;
    assert!(matches!(
        Pool::new(
            MatrixRef::Dense(xn.as_ref()),
            Basis::Exact,
            Seed::new(1),
            Par::Seq
        ),
        Err(Error::NonFinite { .. })
    ));
    let wide = Mat::<f64>::zeros(5, 10);
    assert!(Pool::new(
        MatrixRef::dense(wide.as_ref()).unwrap(),
        Basis::Exact,
        Seed::new(1),
        Par::Seq
    )
    .is_err());
    let empty = Mat::<f64>::zeros(0, 3);
    assert!(Pool::new(
        MatrixRef::dense(empty.as_ref()).unwrap(),
        Basis::Exact,
        Seed::new(1),
        Par::Seq
    )
    .is_err());
    let mut dup = x.clone();
    for i in 0..500 {
        dup[(i, 9)] = dup[(i, 0)];
    }
    for basis in [Basis::Exact, Basis::Sketched { sketch_rows: None }] {
        assert!(matches!(
            Pool::new(
                MatrixRef::dense(dup.as_ref()).unwrap(),
                basis,
                Seed::new(1),
                Par::Seq
            ),
            Err(Error::RankDeficient { .. })
        ));
    }
    assert!(Pool::new(
        a,
        Basis::Sketched {
            sketch_rows: Some(5)
        },
        Seed::new(1),
        Par::Seq
    )
    .is_err());
    // Bad strategy parameters and scores.
    for p in [
        BssParams {
            gamma: Some(1.0),
            ..Default::default()
        },
        BssParams {
            growth: 1.0,
            ..Default::default()
        },
        BssParams {
            max_steps_per_label: 0,
            ..Default::default()
        },
    ] {
        assert!(Learner::new(&pool, Strategy::Bss(p), Seed::new(1)).is_err());
    }
    assert!(Learner::new(
        &pool,
        Strategy::Leverage(ScoreSource::Given(vec![1.0; 3])),
        Seed::new(1)
    )
    .is_err());
    assert!(Learner::new(
        &pool,
        Strategy::Leverage(ScoreSource::Given(vec![0.0; 500])),
        Seed::new(1)
    )
    .is_err());
    let mut neg = vec![1.0; 500];
    neg[2] = -1.0;
    assert!(Learner::new(
        &pool,
        Strategy::Leverage(ScoreSource::Given(neg)),
        Seed::new(1)
    )
    .is_err());
    // Evaluation helpers and the fit reject mismatched or bad vectors.
    assert!(pool.residual_norm_sq(&[1.0; 9], &y).is_err());
    assert!(pool.residual_norm_sq(&[1.0; 10], &y[..10]).is_err());
    assert!(pool.least_squares(&bad).is_err());
    assert!(weighted_least_squares(a, &[0, 1], &[1.0], &[1.0, 2.0], 0.0).is_err());
    assert!(weighted_least_squares(a, &[0, 600], &[1.0; 2], &[1.0, 2.0], 0.0).is_err());
    // The first row past the end (X is 500 × 10), among enough rows for a ridge fit that
    // would otherwise go ahead: an error, not an index panic.
    let past_end: Vec<usize> = (0..10).chain([500]).collect();
    assert!(weighted_least_squares(a, &past_end, &[1.0; 11], &[1.0; 11], 1.0).is_err());
    assert!(weighted_least_squares(a, &[0, 1], &[1.0, -1.0], &[1.0, 2.0], 0.0).is_err());
    assert!(weighted_least_squares(a, &[0, 1], &[1.0; 2], &[1.0, f64::NAN], 0.0).is_err());
    assert!(weighted_least_squares(a, &[0, 1], &[1.0; 2], &[1.0, 2.0], -1.0).is_err());
    assert!(matches!(
        weighted_least_squares(a, &[0, 1], &[1.0; 2], &[1.0, 2.0], 0.0),
        Err(Error::RankDeficient { .. })
    ));
    assert!(weighted_least_squares(a, &[], &[], &[], 0.0).is_err());
    // A budgeted oracle refuses rows outside the pool.
    let mut o = Budgeted::new(SliceOracle::new(&y), 5);
    assert!(o.query(500).is_err());
    assert_eq!(o.labels_used(), 0);
}

/// A pool whose row scores overflow (`X` as given, entries 1e200) is an `Error::NonFinite`
/// naming a row, not "rank 0" as an audit found; entries 1e150 still make a pool.
/// An as-given pool far from 1 in scale: `W = 2⁻ᵉ·I` keeps the scores in range. At 1e200 the
/// scores overflowed (an error), at 1e-170 they underflowed to zero (reported as rank 0). Pass
/// rule: the normalized scores `ℓ_i/Σℓ` match the unscaled pool's to 1e-14 (bitwise at powers
/// of two), and a BSS selection at `2^±700` is the unscaled one, rows and weights bitwise.
#[test]
fn an_as_given_pool_far_from_unit_scale_keeps_its_scores_and_selection() {
    let g = randnla::problems::gaussian_matrix(400, 4, Seed::new(3)).unwrap();
    let as_given = |x: &Mat<f64>| {
        let p = Pool::new(
            MatrixRef::dense(x.as_ref()).unwrap(),
            Basis::AsGiven,
            Seed::new(0),
            Par::Seq,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let sum = p.info().score_sum;
        let normalized: Vec<f64> = p.scores().iter().map(|s| s / sum).collect();
        let mut o = Budgeted::new(SliceOracle::new(&[0.0; 400]), 30);
        let mut l = Learner::new(&p, Strategy::bss(), Seed::new(5)).unwrap();
        l.select(30, &mut o).unwrap();
        (normalized, l.weights())
    };
    let (base, base_sel) = as_given(&g);
    for (scale, bitwise) in [
        (1e200, false),
        (1e-170, false),
        (2f64.powi(700), true),
        (2f64.powi(-700), true),
    ] {
        let x = Mat::from_fn(400, 4, |i, j| g[(i, j)] * scale);
        let (sc, sel) = as_given(&x);
        for (i, (a, b)) in sc.iter().zip(&base).enumerate() {
            assert!(
                (a - b).abs() <= 1e-14 * b,
                "{scale:e}, row {i}: {a:e} vs {b:e}"
            );
            if bitwise {
                assert_eq!(a.to_bits(), b.to_bits(), "{scale:e}, row {i}");
            }
        }
        if bitwise {
            assert_eq!(sel, base_sel, "{scale:e}");
        }
    }
}

/// Features in different units: columns scaled by `[1e7, 1, 1e-7]` (`κ ≈ 10¹⁴`, full rank).
/// The unpivoted rank tests (`|R_jj| ≤ 1e-12·max|R_jj|`) called such a pool and fit rank 2;
/// with the columns equilibrated by powers of two they are scale-invariant. Pass rules: the
/// exact pool's scores are the unscaled matrix's leverage scores to 1e-9 (as in the test
/// above), the sketched pool builds, and the fit and `β*` are the unscaled ones divided by
/// the column scales, to 1e-9 relative.
#[test]
fn columns_in_different_units_are_not_rank_deficient() {
    let (n, d) = (4000, 3);
    let g = randnla::problems::gaussian_matrix(n, d, Seed::new(11)).unwrap();
    let units = [1e7, 1.0, 1e-7];
    let x = Mat::from_fn(n, d, |i, j| g[(i, j)] * units[j]);
    let (ga, xa) = (
        MatrixRef::dense(g.as_ref()).unwrap(),
        MatrixRef::dense(x.as_ref()).unwrap(),
    );
    let (exact, _) = exact_leverage_scores(ga, &ExactParams::default(), Par::Seq).unwrap();
    let pool = Pool::new(xa, Basis::Exact, Seed::new(1), Par::Seq).unwrap();
    for (i, (p, e)) in pool.scores().iter().zip(&exact).enumerate() {
        assert!((p - e).abs() <= 1e-9 * e.max(1e-3), "row {i}: {p} vs {e}");
    }
    Pool::new(
        xa,
        Basis::Sketched { sketch_rows: None },
        Seed::new(1),
        Par::Seq,
    )
    .unwrap();
    let y: Vec<f64> = (0..n)
        .map(|i| g[(i, 0)] - 2.0 * g[(i, 1)] + 0.5 * g[(i, 2)] + (i as f64 * 0.37).sin())
        .collect();
    let rows: Vec<usize> = (0..40).map(|t| (t * 97) % n).collect();
    let w: Vec<f64> = (0..40).map(|t| 1.0 + (t % 3) as f64).collect();
    let lab: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
    let base = weighted_least_squares(ga, &rows, &w, &lab, 0.0).unwrap();
    let scaled = weighted_least_squares(xa, &rows, &w, &lab, 0.0).unwrap();
    let (full, _) = exact_pool(&g).least_squares(&y).unwrap();
    let (full_scaled, _) = pool.least_squares(&y).unwrap();
    for j in 0..d {
        for (what, b, s) in [("fit", base[j], scaled[j]), ("β*", full[j], full_scaled[j])] {
            let back = s * units[j];
            assert!(
                (back - b).abs() <= 1e-9 * b.abs(),
                "{what} β_{j}: {back} vs {b}"
            );
        }
    }
}

/// `‖Xβ − y‖²` and `OPT` beyond `f64::MAX` are errors naming the row where the sum overflows,
/// not `Ok(∞)`; just below, they are finite.
#[test]
fn residual_norms_that_overflow_are_errors() {
    let g = randnla::problems::gaussian_matrix(50, 2, Seed::new(4)).unwrap();
    let pool = exact_pool(&g);
    let mut y = vec![1.0; 50];
    y[7] = 1e154;
    y[9] = 1e154;
    match pool.residual_norm_sq(&[0.0, 0.0], &y) {
        Err(Error::NonFinite { row: 9, .. }) => {}
        r => panic!("{r:?}"),
    }
    match pool.least_squares(&y) {
        Err(Error::NonFinite { what, .. }) => assert!(what.contains("OPT"), "{what}"),
        r => panic!("{r:?}"),
    }
    y[9] = 1.0;
    assert!(pool.residual_norm_sq(&[0.0, 0.0], &y).unwrap().is_finite());
    assert!(pool.least_squares(&y).unwrap().1.is_finite());
}

/// Leverage sampling from the approximate (DMMW) scores, whose median relative error is ≈ 0.1.
/// Pass rule: k = 10d, 4 trials, median ratio ≤ 1.3, as for the sketched basis above; measured
/// 1.01–1.17 (median 1.07) on these fixed seeds.
#[test]
fn approximate_dmmw_scores_drive_leverage_sampling() {
    let e = experiment();
    let pool = pool(e);
    let s = Strategy::Leverage(ScoreSource::Approx(Default::default()));
    let r = ratios(&pool, e, &s, 10 * D, 4, false);
    assert!(median(&r) <= 1.3, "{r:?}");
}

#[test]
fn a_pool_too_wide_for_its_whitening_is_too_large_not_an_abort() {
    // n = d = 2²³ declared, nothing stored: W alone would be 2⁴⁶ entries (2⁴⁹ bytes), beyond any
    // x86-64 or AArch64 address space. Was an abort in `identity(d)`.
    let d = 1usize << 23;
    let indptr = vec![0usize; d + 1];
    for layout in ["csr", "csc"] {
        let a = match layout {
            "csr" => randnla::SparseRef::try_csr(d, d, &indptr, &[], &[]),
            _ => randnla::SparseRef::try_csc(d, d, &indptr, &[], &[]),
        }
        .unwrap();
        for basis in [
            Basis::Exact,
            Basis::Sketched { sketch_rows: None },
            Basis::AsGiven,
        ] {
            let r = Pool::new(MatrixRef::Sparse(a), basis, Seed::new(1), Par::Seq);
            assert!(
                matches!(r, Err(Error::TooLarge { .. })),
                "{layout} {basis:?}: {r:?}"
            );
        }
    }
}

#[test]
fn buffers_sized_by_a_declared_dimension_are_too_large_errors_under_an_address_limit() {
    // Under a 1 GiB address limit, so that the multi-gigabyte allocations fail on any machine.
    if !under_address_limit(
        module_path!(),
        "buffers_sized_by_a_declared_dimension_are_too_large_errors_under_an_address_limit",
        1 << 20,
    ) {
        return;
    }
    // The reported cases. A 60000 × 60000 CSR pool with one entry per row (1.4 MB): W is
    // 28.8 GB (was an abort in `identity`).
    let n = 60_000;
    let indptr: Vec<usize> = (0..=n).collect();
    let indices: Vec<usize> = (0..n).collect();
    let data = vec![1.0; n];
    let a = randnla::SparseRef::try_csr(n, n, &indptr, &indices, &data).unwrap();
    for basis in [
        Basis::Exact,
        Basis::Sketched { sketch_rows: None },
        Basis::AsGiven,
    ] {
        let r = Pool::new(MatrixRef::Sparse(a), basis, Seed::new(1), Par::Seq);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{basis:?}: {r:?}");
    }
    // An empty 46000 × 46000 matrix, every row selected: the system has 2.1·10⁹ < 2³¹ entries,
    // so it passes the size check, and 16.9 GB (was an abort gathering the rows).
    let n = 46_000;
    let indptr = vec![0usize; n + 1];
    let rows: Vec<usize> = (0..n).collect();
    let ones = vec![1.0; n];
    for layout in ["csr", "csc"] {
        let a = match layout {
            "csr" => randnla::SparseRef::try_csr(n, n, &indptr, &[], &[]),
            _ => randnla::SparseRef::try_csc(n, n, &indptr, &[], &[]),
        }
        .unwrap();
        let r = weighted_least_squares(MatrixRef::Sparse(a), &rows, &ones, &ones, 0.0);
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{layout}: {r:?}");
    }
}

/// `n` rows `(1 + i mod 3)·(cos θ_i, sin θ_i)`, `θ_i = πi/n`: every row has a positive score and
/// none dominates.
pub(crate) fn circle(n: usize) -> Mat<f64> {
    Mat::from_fn(n, 2, |i, j| {
        let t = std::f64::consts::PI * i as f64 / n as f64;
        (1.0 + (i % 3) as f64) * if j == 0 { t.cos() } else { t.sin() }
    })
}

#[test]
fn select_labels_beyond_the_pool_buys_the_rest_and_stops() {
    let x = circle(50);
    let y: Vec<f64> = (0..50).map(|i| i as f64).collect();
    let pool = Pool::new(
        MatrixRef::dense(x.as_ref()).unwrap(),
        Basis::Exact,
        Seed::new(1),
        Par::Seq,
    )
    .unwrap();
    // Some rows cannot be drawn (score 0): they are not waited for.
    let mut given = vec![1.0; 50];
    for i in (0..50).step_by(5) {
        given[i] = 0.0;
    }
    let strategies = [
        (Strategy::Uniform, 50),
        (Strategy::leverage(), 50),
        (Strategy::bss(), 50),
        (Strategy::Leverage(ScoreSource::Given(given)), 40),
    ];
    // A budget of 10⁹ (was a hang: 100k + 10⁴ draws, 50k + 100 BSS steps), or usize::MAX (was
    // an overflow panic in debug builds, and a wrapped cap of 50 BSS steps in release).
    for budget in [1_000_000_000usize, usize::MAX] {
        for (strategy, drawable) in &strategies {
            let name = format!("{} budget {budget}", strategy.name());
            let mut o = Budgeted::new(SliceOracle::new(&y), budget);
            let mut l = Learner::new(&pool, strategy.clone(), Seed::new(2)).unwrap();
            let info = quick(&name, || l.select_labels(budget, &mut o)).unwrap();
            assert_eq!(info.requested, budget, "{name}");
            assert_eq!(info.new_labels, *drawable, "{name}: {info:?}");
            assert_eq!(o.labels_used(), *drawable, "{name}");
            assert!(info.steps <= 10_000, "{name}: {info:?}");
            // Nothing left to buy: a round of no steps, and the learner still fits.
            let again = quick(&name, || l.select_labels(5, &mut o)).unwrap();
            assert_eq!((again.new_labels, again.steps), (0, 0), "{name}");
            assert!(l.fit(0.0).is_ok(), "{name}");
        }
    }
}

#[test]
fn bss_step_caps_saturate_instead_of_overflowing() {
    // max_steps_per_label = usize::MAX: the cap max_steps_per_label·k + 100 overflowed (a panic
    // in debug builds; in release it wrapped to 100 − k steps, here 40 < k = 60 labels).
    let x = circle(200);
    let y = vec![1.0; 200];
    let pool = Pool::new(
        MatrixRef::dense(x.as_ref()).unwrap(),
        Basis::Exact,
        Seed::new(1),
        Par::Seq,
    )
    .unwrap();
    let p = BssParams {
        max_steps_per_label: usize::MAX,
        ..Default::default()
    };
    for k in [1, 60] {
        let mut o = Budgeted::new(SliceOracle::new(&y), 200);
        let mut l = Learner::new(&pool, Strategy::Bss(p), Seed::new(3)).unwrap();
        let info = quick("bss", || l.select_labels(k, &mut o)).unwrap();
        assert_eq!(info.new_labels, k, "{info:?}");
    }
}

#[test]
fn a_panicking_oracle_does_not_turn_bss_into_iid_sampling() {
    let (x, y) = labeled_problem(500, 5, 3);
    let pool = exact_pool(&x);
    let fail = Cell::new(true);
    let calls = Cell::new(0);
    let inner = (500, |row: usize| {
        calls.set(calls.get() + 1);
        if fail.get() && calls.get() == 4 {
            panic!("the oracle's lab is on fire");
        }
        Ok(y[row])
    });
    let mut o = Budgeted::new(inner, 100);
    let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(5)).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l.select(20, &mut o)));
    assert!(r.is_err());
    fail.set(false);
    // The learner keeps its BSS state (it lost it, and the next round drew iid rows).
    let info = l.select(20, &mut o).unwrap();
    assert!(info.gamma.is_some(), "{info:?}");
    assert!(l.fit(0.0).is_ok());
}

/// The weights are normalized as documented, so that `Σ_i w_i x_i x_iᵀ ≈ XᵀX` (what lets `λ` in
/// [`Learner::fit`] mean the same as in the full problem). In the pool's basis this is an exact
/// identity, not a statistic: with `q_i` the proposal scores, the iid weights `c_i·Σq/(m·q_i)`
/// give `Σ_i w_i q_i = Σ_j q_j` for any draw counts `c_i` summing to `m` (uniform: `q = 1`, so
/// `Σ w_i = n`), and the BSS weights `(Σ s)/(tr B/Σ_jℓ_j)` give `Σ_i w_iℓ_i = Σ_jℓ_j = d`
/// because `tr B = Σ sℓ`, `ℓ` the scores of the orthonormal basis BSS runs on (on every pool
/// basis): the leverage scores. Pass rule: each iid identity to `1e-12` relative (a sum of at
/// most a few hundred positive terms); the BSS one to `1e-10` relative against leverage scores
/// computed independently (`exact_leverage_scores`, another orthonormalization: the two agree
/// to rounding, about `10⁻¹⁴` here, not bit for bit). Also
/// `PoolInfo::coherence = n·max_i ‖v_i‖²/Σ_j ‖v_j‖²`, to `1e-12` relative. An unnormalized weight
/// (a dropped `1/m`, a dropped `tr B` factor) leaves every unregularized fit unchanged, so only
/// this identity sees it.
#[test]
fn weights_are_normalized_so_that_the_weighted_scores_sum_to_the_pool_total() {
    let (x, y) = labeled_problem(2000, 8, 31);
    let (leverage, _) = randnla::leverage::exact_leverage_scores(
        MatrixRef::dense(x.as_ref()).unwrap(),
        &Default::default(),
        Par::Seq,
    )
    .unwrap();
    for basis in [Basis::Exact, Basis::Sketched { sketch_rows: None }] {
        let pool = Pool::new(
            MatrixRef::dense(x.as_ref()).unwrap(),
            basis,
            Seed::new(1),
            Par::Seq,
        )
        .unwrap();
        let scores = pool.scores();
        let total: f64 = scores.iter().sum();
        let max = scores.iter().copied().fold(0.0, f64::max);
        let coherence = pool.info().coherence;
        let want = 2000.0 * max / total;
        assert!(
            (coherence - want).abs() <= 1e-12 * want,
            "{basis:?}: coherence {coherence} vs {want}"
        );
        for strategy in [Strategy::Uniform, Strategy::leverage(), Strategy::bss()] {
            let name = format!("{} {basis:?}", strategy.name());
            let mut o = Budgeted::new(SliceOracle::new(&y), 120);
            let mut l = Learner::new(&pool, strategy.clone(), Seed::new(33)).unwrap();
            // Two rounds: the normalization must hold across rounds too.
            l.select(50, &mut o).unwrap();
            l.select(70, &mut o).unwrap();
            let w = l.weights();
            assert!(w.len() >= 8, "{name}: {} labels", w.len());
            let (got, want, tol) = match strategy {
                Strategy::Uniform => (w.iter().map(|&(_, wi)| wi).sum::<f64>(), 2000.0, 1e-12),
                Strategy::Bss(_) => (
                    w.iter().map(|&(i, wi)| wi * leverage[i]).sum::<f64>(),
                    8.0,
                    1e-10,
                ),
                _ => (
                    w.iter().map(|&(i, wi)| wi * scores[i]).sum::<f64>(),
                    total,
                    1e-12,
                ),
            };
            assert!(
                (got - want).abs() <= tol * want,
                "{name}: Σ w·q = {got} vs Σ q = {want}"
            );
        }
    }
}

/// The BSS step size of a first round follows the documented rule
/// `γ²/(1 − γ²) = 2d·ln(growth)/k` (so that the barrier gap grows by `growth` over `k` steps),
/// and a fixed `γ` is used as given. The rule is a closed form of the inputs, so the pass rule is
/// agreement to `1e-12` relative (rounding of a square root and a logarithm); the cases are
/// chosen so that `γ` stays inside the clamp `[10⁻³, 0.9]`.
#[test]
fn first_round_bss_step_size_follows_the_documented_rule() {
    let (x, y) = labeled_problem(2000, 8, 34);
    let pool = exact_pool(&x);
    let d = 8.0;
    for (growth, k) in [(4.0, 50usize), (8.0, 100), (2.0, 16)] {
        let p = BssParams {
            growth,
            ..Default::default()
        };
        let mut o = Budgeted::new(SliceOracle::new(&y), k);
        let mut l = Learner::new(&pool, Strategy::Bss(p), Seed::new(36)).unwrap();
        let g = l.select(k, &mut o).unwrap().gamma.unwrap();
        let want = 2.0 * d * f64::ln(growth) / k as f64;
        let got = g * g / (1.0 - g * g);
        assert!(
            (got - want).abs() <= 1e-12 * want,
            "growth {growth}, k = {k}: γ = {g}, γ²/(1 − γ²) = {got} vs {want}"
        );
    }
    let p = BssParams {
        gamma: Some(0.3),
        ..Default::default()
    };
    let mut o = Budgeted::new(SliceOracle::new(&y), 20);
    let mut l = Learner::new(&pool, Strategy::Bss(p), Seed::new(36)).unwrap();
    assert_eq!(l.select(20, &mut o).unwrap().gamma, Some(0.3));
}

/// A large ridge: `β = (λI + G)⁻¹c` with `G = XᵀWX`, `c = XᵀWy`; for `λ ≥ 1e20 ≫ ‖G‖` the
/// two-term series `c/λ − Gc/λ²` is exact to `(‖G‖/λ)² < 1e-30` relative. The fit matches it
/// to 1e-12 (the ridge rows used to sit below the data: 3e-4 off at 1e25, a wrong vector at 1e300).
#[test]
fn a_large_ridge_is_solved_accurately() {
    let (n, d) = (30usize, 4usize);
    let x = Mat::<f64>::from_fn(n, d, |i, j| {
        ((i * 7 + j * 3) % 11) as f64 - 5.0 + 0.1 * j as f64
    });
    let rows: Vec<usize> = vec![0, 1, 2, 3, 5, 8, 13, 21, 21, 29];
    let w: Vec<f64> = (0..rows.len()).map(|t| 1.0 + t as f64 / 4.0).collect();
    let y: Vec<f64> = (0..rows.len()).map(|t| (t as f64 * 0.7).sin()).collect();
    let mut g = [[0.0f64; 4]; 4];
    let mut c = [0.0f64; 4];
    for (t, &r) in rows.iter().enumerate() {
        for a in 0..d {
            c[a] += w[t] * x[(r, a)] * y[t];
            for b in 0..d {
                g[a][b] += w[t] * x[(r, a)] * x[(r, b)];
            }
        }
    }
    for lambda in [1e20, 1e25, 1e300] {
        let beta =
            weighted_least_squares(MatrixRef::dense(x.as_ref()).unwrap(), &rows, &w, &y, lambda)
                .unwrap();
        for a in 0..d {
            let gc: f64 = (0..d).map(|b| g[a][b] * c[b]).sum();
            let want = c[a] / lambda - gc / lambda / lambda;
            assert!(
                (beta[a] - want).abs() <= 1e-12 * want.abs(),
                "λ = {lambda:e}, β[{a}] = {:e}, want {want:e}",
                beta[a]
            );
        }
    }
}

/// Weights that push `√w·x` or `√w·y` past `f64::MAX` while `β` itself is moderate: `X` with
/// entries up to 5e307, or labels up to 1.5e308, fitted with weights 16 (`√w = 4`). The fit is
/// the same problem as with unit weights (a common weight does not change `β`), so `β` must be
/// the unit-weight one (scaled back by the data's scale) to 1e-12. The weighted system was
/// formed before the power-of-two prescale its docs promise: `X·5e307` came back as
/// "rank deficient" and the labels as "the solve produced a non-finite value". Also with a
/// ridge for the labels, where the ridge rows scale with the weights' common factor (`λ·16`
/// with weights 16 is `λ` with unit weights).
#[test]
fn weights_that_overflow_the_weighted_rows_do_not_break_the_fit() {
    let (x, y) = labeled_problem(300, 5, 23);
    let sel: Vec<usize> = (0..40).map(|i| (i * 7) % 300).collect();
    let lab: Vec<f64> = sel.iter().map(|&i| y[i]).collect();
    let ones = vec![1.0; sel.len()];
    let sixteen = vec![16.0; sel.len()];
    let xtop = sel
        .iter()
        .flat_map(|&i| (0..5).map(move |j| (i, j)))
        .fold(0.0f64, |m, (i, j)| m.max(x[(i, j)].abs()));
    let ytop = lab.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let close = |got: &[f64], want: &[f64], scale: f64, what: &str| {
        for j in 0..5 {
            let back = got[j] * scale;
            assert!(
                (back - want[j]).abs() <= 1e-12 * want[j].abs().max(1e-3),
                "{what}, β_{j}: {back} vs {}",
                want[j]
            );
        }
    };
    for lambda in [0.0, 0.5] {
        let base = weighted_least_squares(
            MatrixRef::dense(x.as_ref()).unwrap(),
            &sel,
            &ones,
            &lab,
            lambda,
        )
        .unwrap();
        if lambda == 0.0 {
            // X scaled so that the largest entry of the selected rows is 5e307 (without a ridge:
            // the equivalent λ·16·c² would overflow).
            let c = 5e307 / xtop;
            // (The rows not selected, which the fit never reads, are zeroed: some would overflow.)
            let xc = Mat::from_fn(
                300,
                5,
                |i, j| {
                    if sel.contains(&i) {
                        x[(i, j)] * c
                    } else {
                        0.0
                    }
                },
            );
            let b = weighted_least_squares(
                MatrixRef::dense(xc.as_ref()).unwrap(),
                &sel,
                &sixteen,
                &lab,
                0.0,
            )
            .unwrap_or_else(|e| panic!("X·{c:e}, weights 16, λ = {lambda}: {e}"));
            close(&b, &base, c, &format!("X·{c:e}, λ = {lambda}"));
        }
        // Labels scaled to a largest entry of 1.5e308.
        let e = 1.5e308 / ytop;
        let big: Vec<f64> = lab.iter().map(|v| v * e).collect();
        let b = weighted_least_squares(
            MatrixRef::dense(x.as_ref()).unwrap(),
            &sel,
            &sixteen,
            &big,
            16.0 * lambda,
        )
        .unwrap_or_else(|err| panic!("labels·{e:e}, weights 16, λ = {lambda}: {err}"));
        close(&b, &base, 1.0 / e, &format!("labels·{e:e}, λ = {lambda}"));
    }
}

/// A column of `X` so far below the others (subnormal, ≈ 1e-310) that the whitening's scale
/// overflows is an `Error::NonFinite` whose message reads as one sentence: a broken string
/// continuation had put a run of 28 spaces in the middle of it.
#[test]
fn the_whitening_overflow_message_is_one_clean_sentence() {
    let x = Mat::<f64>::from_fn(20, 3, |i, j| {
        let v = ((i * 7 + j * 5) % 11) as f64 - 5.0 + 0.25 * j as f64;
        if j == 2 {
            v * 1e-310
        } else {
            v
        }
    });
    let err = Pool::new(
        MatrixRef::dense(x.as_ref()).unwrap(),
        Basis::Exact,
        Seed::new(1),
        Par::Seq,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::NonFinite { .. }), "{msg}");
    assert!(msg.contains("whitening"), "{msg}");
    assert!(!msg.contains("  "), "{msg:?}");
}

/// `Basis::AsGiven` takes `X`'s columns as they are and does not test their rank (the other
/// bases do, from their sketch's `R`). A rank-deficient `X` (a repeated column) builds a pool.
/// BSS, which runs on an orthonormalized basis, refuses it when the learner is made:
/// `RankDeficient` with rank 2 of 3 (the Cholesky factor of `VᵀV` fails at the repeated
/// column). Until 2026-12-06 the learner was made and BSS's lower barrier crept up to `B`'s
/// zero eigenvalue until a round failed with a barrier breakdown (labels spent). The iid
/// strategies still select, and the fit reports `RankDeficient`.
#[test]
fn an_as_given_rank_deficient_pool_is_named_as_such() {
    let n = 40;
    let x = Mat::<f64>::from_fn(n, 3, |i, j| {
        let c = if j == 2 { 0 } else { j };
        ((i * 7 + c * 5) % 11) as f64 - 5.0 + 0.25 * c as f64 + (i % 3) as f64 * c as f64
    });
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).sin()).collect();
    let pool = Pool::new(
        MatrixRef::dense(x.as_ref()).unwrap(),
        Basis::AsGiven,
        Seed::new(1),
        Par::Seq,
    )
    .unwrap();
    let err = Learner::new(&pool, Strategy::bss(), Seed::new(3)).unwrap_err();
    assert_eq!(
        err,
        Error::RankDeficient {
            rank: 2,
            required: 3
        }
    );
    let mut o = Budgeted::new(SliceOracle::new(&y), n);
    let mut l = Learner::new(&pool, Strategy::leverage(), Seed::new(3)).unwrap();
    l.select(20, &mut o).unwrap();
    assert!(matches!(l.fit(0.0), Err(Error::RankDeficient { .. })));
}

/// An as-given `X` whose third column is `0.1·c₀ + 0.3·c₁`, dependent up to the rounding of
/// that sum: the Cholesky pivot of `VᵀV` is then about `√u` of its column (`l²/Σ ≈ 2·10⁻¹⁶`),
/// which the pivot test `l_jj ≤ 10⁻¹²·√Σ_jj` let through until 2026-12-07, so BSS ran on a
/// "basis" whose third direction was rounding noise scaled up 10⁸-fold. Rule: BSS refuses it as
/// `RankDeficient { rank: 2, required: 3 }`, whatever the columns' scale (×2⁻³⁰⁰, ×2³⁰⁰); the
/// same column moved `10⁻⁴` of its norm out of the span is accepted, and BSS's 12 labels of a
/// noise-free `y = X·β₀` fit `β₀` to `10⁻⁶`.
#[test]
fn an_as_given_numerically_dependent_column_is_refused_by_bss() {
    let n = 60;
    let c = |i: usize, j: usize| match j {
        0 => ((i * 7) % 11) as f64 - 5.0,
        _ => ((i * 5 + 3) % 13) as f64 - 6.0 + 0.5 * (i % 4) as f64,
    };
    let noise = |i: usize| if i.is_multiple_of(2) { 1.0 } else { -1.0 } * (1.0 + (i % 5) as f64);
    for scale in [1.0, 2f64.powi(-300), 2f64.powi(300)] {
        for (offset, refused) in [(0.0, true), (1e-4, false)] {
            let x = Mat::<f64>::from_fn(n, 3, |i, j| {
                scale
                    * if j == 2 {
                        0.1 * c(i, 0) + 0.3 * c(i, 1) + offset * noise(i)
                    } else {
                        c(i, j)
                    }
            });
            let pool = Pool::new(
                MatrixRef::dense(x.as_ref()).unwrap(),
                Basis::AsGiven,
                Seed::new(1),
                Par::Seq,
            )
            .unwrap();
            let got = Learner::new(&pool, Strategy::bss(), Seed::new(3));
            if refused {
                assert_eq!(
                    got.err(),
                    Some(Error::RankDeficient {
                        rank: 2,
                        required: 3
                    }),
                    "scale {scale:e}"
                );
                continue;
            }
            let mut l = got.unwrap_or_else(|e| panic!("scale {scale:e}, offset {offset:e}: {e}"));
            // Noise-free labels y = X·β₀: the weighted fit on BSS's labels returns β₀.
            let beta0 = [1.0, -2.0, 0.5];
            let y: Vec<f64> = (0..n)
                .map(|i| (0..3).map(|j| x[(i, j)] * beta0[j]).sum())
                .collect();
            let mut o = Budgeted::new(SliceOracle::new(&y), n);
            l.select(12, &mut o).unwrap();
            let (beta, _) = l.fit(0.0).unwrap();
            for (got, want) in beta.iter().zip(beta0) {
                assert!(
                    (got - want).abs() <= 1e-6,
                    "scale {scale:e}: β = {beta:?}, want {beta0:?}"
                );
            }
        }
    }
}

/// Given scores are any finite non-negative weights (only their proportions matter). Scores of
/// `2¹⁰²⁰` each are valid, but their sum overflows: `Learner::new` refused them ("the scores
/// sum to inf"), a case its `# Errors` does not list. Scaled by a power of two they are the
/// scores `1`: the selection (rows and weights) must be bitwise the one of unit scores.
#[test]
fn given_scores_whose_sum_overflows_are_accepted_as_their_proportions() {
    let (x, y) = labeled_problem(200, 4, 31);
    let pool = exact_pool(&x);
    let select = |scores: Vec<f64>| {
        let s = Strategy::Leverage(ScoreSource::Given(scores));
        let mut l = Learner::new(&pool, s, Seed::new(9)).unwrap_or_else(|e| panic!("{e}"));
        let mut o = Budgeted::new(SliceOracle::new(&y), 40);
        l.select(40, &mut o).unwrap();
        (l.weights(), l.fit(0.0).unwrap().0)
    };
    let unit = select(vec![1.0; 200]);
    let huge = select(vec![2f64.powi(1020); 200]);
    assert_eq!(unit, huge);
    // Unequal scores near the top: proportions kept (powers of two, so exactly).
    let p: Vec<f64> = (0..200).map(|i| 2f64.powi(1000 + (i % 5))).collect();
    let q: Vec<f64> = (0..200).map(|i| 2f64.powi(i % 5)).collect();
    assert_eq!(select(p), select(q));
}

/// An as-given `X` of full rank far from orthonormal (one row 1000× the others): BSS's barrier
/// moves assume an orthonormal basis, and on this pool its lower barrier overtook `λ_min(B)`
/// (a `Factorization` error, after spending labels). BSS now runs on an orthonormalized basis
/// on every pool, so it selects here as on the exact basis. Pass rule: `select_labels(60)`
/// succeeds on both bases, buys 60 labels, and the weights sum (against the leverage scores
/// `ℓ`, the scores of that basis) to `Σ w_iℓ_i = d` within `1e-10` — the same process on both.
#[test]
fn an_as_given_pool_far_from_orthonormal_runs_bss_as_the_exact_basis_does() {
    let n = 200;
    let x = Mat::<f64>::from_fn(n, 3, |i, j| {
        let v = ((i * 7 + j * 5) % 11) as f64 - 5.0 + 0.37 * ((i * j) % 5) as f64;
        if i == 17 {
            v * 1e3
        } else {
            v
        }
    });
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).sin()).collect();
    let (leverage, _) = randnla::leverage::exact_leverage_scores(
        MatrixRef::dense(x.as_ref()).unwrap(),
        &Default::default(),
        Par::Seq,
    )
    .unwrap();
    for basis in [Basis::Exact, Basis::AsGiven] {
        let pool = Pool::new(
            MatrixRef::dense(x.as_ref()).unwrap(),
            basis,
            Seed::new(1),
            Par::Seq,
        )
        .unwrap();
        let mut o = Budgeted::new(SliceOracle::new(&y), n);
        let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(3)).unwrap();
        let info = l
            .select_labels(60, &mut o)
            .unwrap_or_else(|e| panic!("{basis:?}: {e}"));
        assert_eq!(info.new_labels, 60, "{basis:?}");
        let total: f64 = l.weights().iter().map(|&(i, w)| w * leverage[i]).sum();
        assert!((total - 3.0).abs() <= 3e-10, "{basis:?}: Σ wℓ = {total}");
    }
}

/// `noisy_labels` gives the same bits from dense, CSR and CSC storage of one `X` (a 300 × 7
/// sparse matrix, 30% of entries stored, with a few explicit zeros), with and without noise,
/// and without noise equals `Xβ` summed by hand in ascending column order.
#[test]
fn noisy_labels_are_the_same_from_every_layout() {
    let x = Mat::<f64>::from_fn(300, 7, |i, j| {
        let h = (i * 31 + j * 17) % 10;
        if h < 3 {
            (i as f64 * 0.37 + j as f64).sin() * 10f64.powi(h as i32 - 1)
        } else {
            0.0
        }
    });
    let beta = [0.5, -1.25, 3.0, 1e-3, -7.0, 2.5, 0.125];
    let mut tri = sprs::TriMat::new((300, 7));
    for i in 0..300 {
        for j in 0..7 {
            if x[(i, j)] != 0.0 || (i + j) % 50 == 0 {
                tri.add_triplet(i, j, x[(i, j)]);
            }
        }
    }
    let (csr, csc): (sprs::CsMat<f64>, sprs::CsMat<f64>) = (tri.to_csr(), tri.to_csc());
    assert!(csr.nnz() > 300 && csr.nnz() < 1200, "{}", csr.nnz());
    let views = [
        MatrixRef::dense(x.as_ref()).unwrap(),
        MatrixRef::sparse(&csr).unwrap(),
        MatrixRef::sparse(&csc).unwrap(),
    ];
    for noise in [0.0, 2.0] {
        let ys: Vec<Vec<u64>> = views
            .iter()
            .map(|&v| {
                let y = noisy_labels(v, &beta, noise, Seed::new(5)).unwrap();
                y.iter().map(|v| v.to_bits()).collect()
            })
            .collect();
        assert_eq!(ys[0], ys[1], "noise {noise}: CSR");
        assert_eq!(ys[0], ys[2], "noise {noise}: CSC");
    }
    let y = noisy_labels(views[1], &beta, 0.0, Seed::new(5)).unwrap();
    for (i, yi) in y.iter().enumerate() {
        let mut s = 0.0;
        for (j, b) in beta.iter().enumerate() {
            s += x[(i, j)] * b;
        }
        assert_eq!(yi.to_bits(), s.to_bits(), "row {i}");
    }
}

/// A round whose first query fails leaves the learner as it was (documented on
/// `Learner::select`): no label, no draw, no `rounds()` entry; retried, the round is the one
/// that would have run, bit for bit. Each strategy, on `select_labels` rounds of 10 from a
/// 400 × 5 Cauchy pool: a learner whose oracle fails once, on the first query of its second
/// round, ends with the labels, order, weights and round records (but their times) of one
/// whose oracle never failed. For BSS this needed the failed step undone (its proposals were
/// left consumed, so the retry drew another row).
#[test]
fn a_round_retried_after_its_first_query_failed_is_the_round_that_would_have_run() {
    let x = randnla::problems::cauchy_rows(400, 5, Seed::new(8)).unwrap();
    let y: Vec<f64> = (0..400).map(|i| (i as f64 * 0.7).cos()).collect();
    let pool = exact_pool(&x);
    let strip = |r: &[RoundInfo]| -> Vec<_> {
        r.iter()
            .map(|r| {
                let bits = r.gamma.map(f64::to_bits);
                (
                    r.round,
                    r.requested,
                    r.new_labels,
                    r.labels_total,
                    r.steps,
                    r.proposals,
                    bits,
                )
            })
            .collect()
    };
    let bits = |w: Vec<(usize, f64)>| -> Vec<(usize, u64)> {
        w.into_iter().map(|(i, v)| (i, v.to_bits())).collect()
    };
    for strategy in [Strategy::Uniform, Strategy::leverage(), Strategy::bss()] {
        let name = strategy.name();
        let mut good = Budgeted::new(SliceOracle::new(&y), 100);
        let mut reference = Learner::new(&pool, strategy.clone(), Seed::new(9)).unwrap();
        for _ in 0..2 {
            reference.select_labels(10, &mut good).unwrap();
        }

        let calls = Cell::new(0);
        let flaky = |i: usize| {
            calls.set(calls.get() + 1);
            if calls.get() == 11 {
                Err(Error::NonFinite {
                    what: "the instrument's reading".into(),
                    row: i,
                    col: 0,
                })
            } else {
                Ok(y[i])
            }
        };
        let mut oracle = Budgeted::new((400, flaky), 100);
        let mut learner = Learner::new(&pool, strategy.clone(), Seed::new(9)).unwrap();
        learner.select_labels(10, &mut oracle).unwrap();
        let before = (learner.labels().clone(), bits(learner.weights()));
        assert!(learner.select_labels(10, &mut oracle).is_err(), "{name}");
        assert_eq!(learner.rounds().len(), 1, "{name}");
        assert_eq!(
            (learner.labels().clone(), bits(learner.weights())),
            before,
            "{name}"
        );
        learner.select_labels(10, &mut oracle).unwrap();

        assert_eq!(learner.labels(), reference.labels(), "{name}");
        assert_eq!(learner.order(), reference.order(), "{name}");
        assert_eq!(bits(learner.weights()), bits(reference.weights()), "{name}");
        assert_eq!(strip(learner.rounds()), strip(reference.rounds()), "{name}");
    }
}
