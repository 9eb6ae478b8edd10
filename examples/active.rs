//! Active-learning query selection for regression on a Matrix Market pool.
//!
//! ```text
//! cargo run --release --example active -- X.mtx y.mtx --budget K
//!     [--strategy uniform|leverage|bss] [--trials T] [--basis exact|sketched|as-given]
//!     [--ridge λ] [--no-eval] [--spend-budget] [--out beta.mtx] [--max-elements N] [--seed N]
//!     [--threads N] [--json]
//! ```
//!
//! * `X.mtx`: the unlabeled pool (`n × d`, coordinate → sparse, array → dense).
//! * `y.mtx`: the labels (`n × 1` or `1 × n`, array or coordinate format). It plays the oracle: the
//!   learner sees a label only by querying it through a budgeted oracle, which counts distinct
//!   queries and refuses any beyond `--budget`. After the fit, unless `--no-eval`, the whole file
//!   is used once to report `ratio = ‖Xβ̃ − y‖²/OPT` (`OPT` from the full least-squares solution; 1
//!   when both are 0) — evaluation, not learning.
//! * `--strategy` (default `bss`): `uniform`, `leverage` (i.i.d. by the pool's leverage scores,
//!   importance weights) or `bss` (Chen–Price BSS-type sparsification).
//! * `--trials T` (default 1, at most 100 000): independent selections with seeds
//!   `seed, seed+1, …`; the ratio is reported as median and mean over trials.
//! * `--basis` (default `exact`): how the pool is whitened (`sketched`: a nearly orthogonal basis
//!   from a `10d × n` sparse sign sketch, one pass fewer; `as-given`, also `given`: `X`'s columns
//!   as they are).
//! * By default a trial makes `K` draws (BSS: `K` steps), so at most `K` labels are bought —
//!   fewer when rows repeat, as they do on coherent pools (`labels_used` says how many);
//!   `--spend-budget` keeps drawing until `K` distinct labels are bought — or until a safety
//!   cap (`100K + 10⁴` draws; BSS: `50K + 100` steps) stops it short on a pool whose leverage
//!   sits on a few rows (`labels_used` then says how many were bought).
//! * `--ridge λ`: ridge term of the weighted fit. `--out FILE`: `β̃` of the last trial that
//!   determined one (an error, and no file written, when none did).
//! * `--max-elements N`: the reader's size limit (default 2²⁸, counting `2·nrows + 1 + nnz` for a
//!   coordinate file and `nrows·ncols` for an array); raise it for larger files.
//! * `--json`: one line with `n, d, budget, strategy, labels_used` (largest over trials),
//!   `seconds` (mean per trial: selection + fit), `ratio` (the issue's field: an object
//!   `{"median": …, "mean": …}` over the trials; the median of an even number of trials is the
//!   mean of the two middle ones), the same two figures flat as `ratio_median, ratio_mean` (each
//!   null with `--no-eval`; a failed trial counts as ratio ∞, so the mean is null and the median
//!   too when half the trials failed), `trials`, `failed_trials` (selections with fewer than `d`
//!   independent labels, with `--trials` above 1; one trial that fails is an error saying
//!   how many labels were bought), and
//!   `basis, pool_seconds, nnz`.
//!
//! Bad input (missing file, malformed Matrix Market, mismatched sizes, budget < d or > n, NaN)
//! → one line on stderr, exit code 2.

#[path = "cli/mod.rs"]
mod cli;

use randnla::active::{Basis, Budgeted, Learner, Pool, SliceOracle, Strategy};
use randnla::io::write_dense_path;
use randnla::Seed;
use std::time::Instant;

/// The most `--trials` accepted (each is a full selection; beyond this a run takes days).
const MAX_TRIALS: u64 = 100_000;

fn main() {
    cli::run(|| {
        let args = cli::Args::parse_with_usage(
            "usage: active X.mtx y.mtx --budget K [--strategy uniform|leverage|bss] \
             [--trials T] [--basis exact|sketched|as-given] [--ridge λ] [--no-eval] \
             [--spend-budget] [--out beta.mtx] [--max-elements N] [--seed N] \
             [--threads N] [--json]",
            &[
                "budget",
                "strategy",
                "trials",
                "basis",
                "ridge",
                "out",
                cli::MAX_ELEMENTS,
            ],
            &["no-eval", "spend-budget"],
        )?;
        let [xpath, ypath] = args.positionals(2, 2)? else {
            return Err(args.usage());
        };
        let budget: usize = args.require("budget")?;
        let strategy: Strategy = args.get_or("strategy", Strategy::bss())?;
        let basis: Basis = args.get_or("basis", Basis::Exact)?;
        let trials: u64 = args.get_or("trials", 1)?;
        if trials == 0 || trials > MAX_TRIALS {
            return Err(format!("--trials {trials}: must be in 1..={MAX_TRIALS}"));
        }
        let lambda = args.ridge()?;
        let eval = !args.flag("no-eval");
        let seed = args.seed()?;
        let (threads, par) = args.threads()?;
        let m = args.read_matrix(xpath)?;
        let x = m.view().map_err(|e| e.to_string())?;
        let ym = args.read_matrix(ypath)?;
        if ym.ncols() != 1 && ym.nrows() != 1 {
            return Err(format!(
                "{ypath}: labels must be an n × 1 (or 1 × n) array, got {}×{}",
                ym.nrows(),
                ym.ncols()
            ));
        }
        let y = ym.to_vector().map_err(|e| format!("{ypath}: {e}"))?;
        if y.len() != x.nrows() {
            return Err(format!(
                "{ypath} has {} labels but {xpath} has {} rows",
                y.len(),
                x.nrows()
            ));
        }
        if budget > x.nrows() {
            return Err(format!(
                "--budget {budget} exceeds the pool's {} rows",
                x.nrows()
            ));
        }
        threads.install(|| {
            let t0 = Instant::now();
            let pool = Pool::new(x, basis, seed.derive(1), par).map_err(|e| e.to_string())?;
            let pool_seconds = t0.elapsed().as_secs_f64();
            let opt = if eval {
                Some(pool.least_squares(&y).map_err(|e| e.to_string())?.1)
            } else {
                None
            };
            let mut ratios = Vec::new();
            let mut labels_used = 0;
            let mut seconds = 0.0;
            let mut last_beta = Vec::new();
            let mut failed_trials = 0u64;
            for t in 0..trials {
                let start = Instant::now();
                let mut oracle = Budgeted::new(SliceOracle::new(&y), budget);
                let mut learner = Learner::new(
                    &pool,
                    strategy.clone(),
                    Seed::new(seed.value().wrapping_add(t)),
                )
                .map_err(|e| cli::option_error(e, &[("budget", "--budget")]))?;
                if args.flag("spend-budget") {
                    learner.select_labels(budget, &mut oracle)
                } else {
                    learner.select(budget, &mut oracle)
                }
                .map_err(|e| cli::option_error(e, &[("budget", "--budget")]))?;
                let fit = learner.fit(lambda);
                seconds += start.elapsed().as_secs_f64();
                labels_used = labels_used.max(oracle.labels_used());
                match (fit, opt) {
                    (Ok((beta, _)), Some(opt)) => {
                        let r = pool
                            .residual_norm_sq(&beta, &y)
                            .map_err(|e| e.to_string())?;
                        // OPT = 0 (labels X fits exactly): an exact fit meets it (ratio 1),
                        // any other is infinitely far off.
                        ratios.push(if opt > 0.0 {
                            r / opt
                        } else if r == 0.0 {
                            1.0
                        } else {
                            f64::INFINITY
                        });
                        last_beta = beta;
                    }
                    (Ok((beta, _)), None) => last_beta = beta,
                    // A selection that does not determine β (possible for uniform sampling on
                    // coherent pools) is an infinitely bad trial, not a failure of the run.
                    // Counted, and reported as `failed_trials`.
                    (Err(randnla::Error::RankDeficient { .. }), _) if trials > 1 => {
                        failed_trials += 1;
                        if opt.is_some() {
                            ratios.push(f64::INFINITY)
                        }
                    }
                    // One trial: the run fails, saying that the *labels* bought (not X) do not
                    // determine β̃, and what to do.
                    (Err(randnla::Error::RankDeficient { rank, required }), _) => {
                        return Err(format!(
                            "the {} labels bought do not determine β̃ (their rows have rank \
                             {rank} of d = {required}): raise --budget, pass --spend-budget, \
                             or use --ridge",
                            learner.labels().len()
                        ))
                    }
                    (Err(e), _) => return Err(e.to_string()),
                }
            }
            seconds /= trials as f64;
            ratios.sort_by(f64::total_cmp);
            let (median, mean) = if ratios.is_empty() {
                (None, None)
            } else {
                (
                    cli::median(&ratios),
                    Some(ratios.iter().sum::<f64>() / ratios.len() as f64),
                )
            };
            if let Some(out) = args.get::<String>("out")? {
                if last_beta.is_empty() {
                    return Err(format!(
                        "no trial determined β̃ (all {trials} selections were rank deficient): \
                         {out} not written; raise --budget or use --ridge"
                    ));
                }
                let col = faer::MatRef::from_column_major_slice(&last_beta, last_beta.len(), 1);
                write_dense_path(&out, col).map_err(|e| cli::file_error(&out, e))?;
            }
            let (n, d) = (pool.nrows(), pool.ncols());
            if args.json() {
                cli::Json::new()
                    .int("n", n as u64)
                    .int("d", d as u64)
                    .int("budget", budget as u64)
                    .str("strategy", strategy.name())
                    .int("labels_used", labels_used as u64)
                    .num("seconds", seconds)
                    .obj(
                        "ratio",
                        cli::Json::new()
                            .opt("median", median.filter(|v| v.is_finite()))
                            .opt("mean", mean.filter(|v| v.is_finite())),
                    )
                    .opt("ratio_median", median.filter(|v| v.is_finite()))
                    .opt("ratio_mean", mean.filter(|v| v.is_finite()))
                    .int("trials", trials)
                    .int("failed_trials", failed_trials)
                    .str("basis", basis.name())
                    .num("pool_seconds", pool_seconds)
                    .int("nnz", pool.info().nnz as u64)
                    .print();
            } else {
                let fmt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.4}"));
                cli::table(
                    &[
                        "n",
                        "d",
                        "budget",
                        "strategy",
                        "labels",
                        "trials",
                        "failed",
                        "s/trial",
                        "ratio median",
                        "ratio mean",
                    ],
                    &[vec![
                        n.to_string(),
                        d.to_string(),
                        budget.to_string(),
                        strategy.name().to_string(),
                        labels_used.to_string(),
                        trials.to_string(),
                        failed_trials.to_string(),
                        format!("{seconds:.4}"),
                        fmt(median),
                        fmt(mean),
                    ]],
                );
            }
            Ok(())
        })
    })
}
