//! Arbitrary small pools, labels, budgets, strategies and parameters → pool construction, query
//! selection in rounds, the weighted fit and the evaluation helpers. Nothing may panic, and the
//! budget may never be exceeded: the oracle counts its calls and the target asserts it. The
//! rounds, labels, weights and fits also keep their documented bookkeeping (labels are distinct
//! pool rows with the oracle's values, weights listed for exactly the labeled rows, ascending).
#![no_main]

use faer::{Mat, Par};
use libfuzzer_sys::fuzz_target;
use randnla::active::{
    weighted_least_squares, Basis, BssParams, Budgeted, LabelOracle, Learner, Pool, ScoreSource,
    Strategy,
};
use randnla::{MatrixRef, Seed};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

/// Mostly small values (zero often, to make rank-deficient pools); sometimes raw bits.
fn value(b: &mut Bytes<'_>) -> f64 {
    match b.u8() % 8 {
        0 | 1 => 0.0,
        2 => b.raw_f64(),
        3 => (b.u8() as f64 - 128.0) * 1e6,
        _ => (b.u8() as f64 - 128.0) / 16.0,
    }
}

struct Counting {
    y: Vec<f64>,
    calls: usize,
}

impl LabelOracle for Counting {
    fn pool_size(&self) -> usize {
        self.y.len()
    }
    fn label(&mut self, row: usize) -> randnla::Result<f64> {
        self.calls += 1;
        Ok(self.y[row])
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n = 1 + (b.u8() % 40) as usize;
    let d = 1 + (b.u8() % 5) as usize;
    let a = Mat::<f64>::from_fn(n, d, |_, _| value(&mut b));
    let y: Vec<f64> = (0..n + (b.u8() % 6 == 0) as usize)
        .map(|_| value(&mut b))
        .collect();
    let basis = match b.u8() % 4 {
        0 => Basis::Exact,
        1 => Basis::AsGiven,
        2 => Basis::Sketched { sketch_rows: None },
        _ => Basis::Sketched {
            sketch_rows: Some((b.u8() % 12) as usize),
        },
    };
    let strategy = match b.u8() % 5 {
        0 => Strategy::Uniform,
        1 => Strategy::leverage(),
        2 => Strategy::Leverage(ScoreSource::Given((0..n).map(|_| value(&mut b)).collect())),
        3 => Strategy::Leverage(ScoreSource::Approx(Default::default())),
        _ => Strategy::Bss(BssParams {
            gamma: [None, Some(0.5), Some(0.0), Some(1.5), Some(f64::NAN)][(b.u8() % 5) as usize],
            growth: [2.0, 1.0, 8.0, f64::INFINITY][(b.u8() % 4) as usize],
            max_steps_per_label: (b.u8() % 4) as usize,
        }),
    };
    let budget = (b.u8() % 50) as usize;
    let lambda = value(&mut b);
    // Unvalidated dense views (NaN/∞ included) must be rejected by the pool, not panic.
    let view = MatrixRef::Dense(a.as_ref());
    let rows: Vec<usize> = (0..(b.u8() % 8) as usize)
        .map(|_| (b.u8() % 48) as usize)
        .collect();
    let w: Vec<f64> = rows.iter().map(|_| value(&mut b)).collect();
    let labels: Vec<f64> = rows.iter().map(|_| value(&mut b)).collect();
    let _ = weighted_least_squares(view, &rows, &w, &labels, lambda);
    let Ok(pool) = Pool::new(view, basis, Seed::new(b.u8() as u64), Par::Seq) else {
        return;
    };
    // `β*` and `OPT = ‖Xβ* − y‖²`: an error "also when β* or OPT does not fit in f64".
    if let Ok((beta, opt)) = pool.least_squares(&y) {
        assert_eq!(beta.len(), d);
        assert!(
            beta.iter().all(|v| v.is_finite()),
            "least_squares: β* = {beta:?}"
        );
        assert!(opt.is_finite() && opt >= 0.0, "least_squares: OPT = {opt}");
    }
    if let Ok(r) = pool.residual_norm_sq(&vec![1.0; d], &y) {
        assert!(r.is_finite() && r >= 0.0, "residual_norm_sq = {r}");
    }
    let bss = matches!(strategy, Strategy::Bss(_));
    let Ok(mut learner) = Learner::new(&pool, strategy, Seed::new(b.u8() as u64)) else {
        return;
    };
    let mut oracle = Budgeted::new(
        Counting {
            y: y.clone(),
            calls: 0,
        },
        budget,
    );
    for _ in 0..3 {
        let k = (b.u8() % 20) as usize;
        let before = learner.labels().len();
        if let Ok(round) = learner.select(k, &mut oracle) {
            // "New labels bought (≤ requested)"; "Distinct labeled rows after the round";
            // proposals "equals steps for iid strategies"; the step size only for BSS.
            assert_eq!(round.requested, k);
            assert!(round.new_labels <= k, "{round:?}");
            assert_eq!(round.labels_total, learner.labels().len(), "{round:?}");
            assert_eq!(round.labels_total, before + round.new_labels, "{round:?}");
            assert_eq!(round.gamma.is_some(), bss, "{round:?}");
            if !bss {
                assert_eq!(round.proposals, round.steps, "{round:?}");
            }
        }
        // The learner's labels are rows of the pool, each bought from the oracle once: the
        // oracle's answer for that row, in `order` once each, within the budget.
        let labels = learner.labels();
        assert!(labels.len() <= budget);
        assert_eq!(learner.order().len(), labels.len());
        for &r in learner.order() {
            assert!(labels.contains_key(&r), "row {r} in order, not in labels");
        }
        for (&r, &v) in labels {
            assert!(r < n, "row {r} outside the pool of {n}");
            assert_eq!(v.to_bits(), y[r].to_bits(), "label of row {r}");
            assert_eq!(
                oracle.labels().get(&r).map(|x| x.to_bits()),
                Some(v.to_bits())
            );
        }
        // "The labeled rows (ascending) with their weights".
        let rows: Vec<usize> = learner.weights().iter().map(|&(i, _)| i).collect();
        assert_eq!(rows, labels.keys().copied().collect::<Vec<_>>());
        if let Ok((beta, info)) = learner.fit(lambda) {
            assert_eq!(beta.len(), d);
            assert_eq!(info.labels, labels.len(), "{info:?}");
            assert_eq!(info.lambda.to_bits(), lambda.to_bits());
        }
    }
    let used = oracle.labels_used();
    let calls = oracle.into_inner().calls;
    assert!(
        calls <= budget && calls == used,
        "{calls} calls, {used} used, budget {budget}"
    );
});
