//! Tour section: active-learning query selection for regression.
//!
//! A pool with high-leverage rows (Cauchy-scaled Gaussian rows, n = 5000, d = 20), labels
//! `y = Xβ + 5·g`; for each label budget k, 20 selections per strategy, each followed by the
//! weighted least-squares fit; the table shows `‖Xβ̃ − y‖²/OPT` (median / mean). Uniform sampling
//! misses the few rows that carry whole directions; i.i.d. leverage sampling has a good median but
//! occasional bad draws inflate its mean; the Chen–Price BSS-type selection keeps both low.
use crate::Ctx;
use randnla::active::{
    cauchy_problem, noisy_labels, Basis, Budgeted, Learner, Pool, SliceOracle, Strategy,
};
use randnla::{MatrixRef, Seed};

pub fn run(ctx: &Ctx) -> Result<(), String> {
    let (n, d, trials) = (5000usize, 20usize, 20u64);
    let e = |e: randnla::Error| e.to_string();
    let (x, beta, _) = cauchy_problem(n, d, 5.0, ctx.seed, Seed::new(0)).map_err(e)?;
    let xv = MatrixRef::dense(x.as_ref()).map_err(e)?;
    let pool = Pool::new(xv, Basis::Exact, ctx.seed.derive(1), ctx.par).map_err(e)?;
    let labels: Vec<Vec<f64>> = (0..trials)
        .map(|t| noisy_labels(xv, &beta, 5.0, ctx.seed.derive(100 + t)))
        .collect::<Result<_, _>>()
        .map_err(e)?;
    let opts: Vec<f64> = labels
        .iter()
        .map(|y| pool.least_squares(y).map(|r| r.1))
        .collect::<Result<_, _>>()
        .map_err(e)?;
    let mut rows = Vec::new();
    for mult in [2usize, 5, 10, 20] {
        let k = mult * d;
        let mut row = vec![format!("{mult}d = {k}")];
        for strategy in [Strategy::Uniform, Strategy::leverage(), Strategy::bss()] {
            let mut r = Vec::new();
            for (t, y) in labels.iter().enumerate() {
                let mut oracle = Budgeted::new(SliceOracle::new(y), k);
                let mut learner =
                    Learner::new(&pool, strategy.clone(), ctx.seed.derive(200 + t as u64))
                        .map_err(e)?;
                learner.select(k, &mut oracle).map_err(e)?;
                r.push(match learner.fit(0.0) {
                    Ok((b, _)) => pool.residual_norm_sq(&b, y).map_err(e)? / opts[t],
                    Err(_) => f64::INFINITY,
                });
            }
            r.sort_by(f64::total_cmp);
            let mean = r.iter().sum::<f64>() / r.len() as f64;
            let median = crate::cli::median(&r).unwrap_or(f64::NAN);
            row.push(format!("{median:.3} / {mean:.3}"));
        }
        rows.push(row);
    }
    crate::cli::outln!(
        "‖Xβ̃ − y‖²/OPT (median / mean of {trials}) on Cauchy rows, n = {n}, d = {d}, coherence n·max ℓ/d = {:.0}",
        pool.info().coherence
    );
    crate::cli::table(&["labels k", "uniform", "leverage", "bss"], &rows);
    Ok(())
}
