//! Leverage scores of a Matrix Market matrix.
//!
//! ```text
//! cargo run --release --example leverage -- A.mtx [--method exact|approx] [--ridge λ]
//!     [--out scores.mtx] [--check] [--max-elements N] [--seed N] [--threads N] [--json]
//! ```
//!
//! * `--method approx` (default): Drineas–Magdon-Ismail–Mahoney–Woodruff with the crate's
//!   defaults (`m₁ = 10d`, `r₂ = 100`, `s = 8`, debiased); `--method exact`: exact scores
//!   (Householder QR for small inputs, sketch-preconditioned Cholesky QR for large ones).
//! * `--ridge λ`: ridge leverage scores `τ_i(λ)`; their sum is the statistical dimension `d_λ`.
//! * `--seed N`: the sketch of `--method approx`, and the preconditioning sketch of the exact
//!   method's sketch-preconditioned Cholesky QR (whose scores depend on it only in rounding).
//!   Accepted with `--method exact` whichever route the input's size picks; the Householder
//!   route of small inputs does not use it.
//! * `--out FILE`: the `n` scores as an `n × 1` Matrix Market array.
//! * `--check` (only when `d ≤ 2000`): relative errors `|s_i − ℓ_i|/ℓ_i` against exact scores from
//!   a Householder QR (a sketch-preconditioned Cholesky QR when `n·d > 2²⁷`), over the rows with
//!   `ℓ_i > 0` (the median of an even count is the mean of the two middle errors); `null` in
//!   the JSON otherwise. Every route uses the same default rank tolerance,
//!   `max(n, d)·ε`, so both count the same numerical rank (unless a pivot lies within the
//!   sketch's distortion of that threshold).
//! * `--max-elements N`: the reader's size limit (default 2²⁸, counting `2·nrows + 1 + nnz` for a
//!   coordinate file and `nrows·ncols` for an array); raise it for larger files.
//! * `--json`: one line with `n, d, nnz, method, seconds, sum_of_scores, max_score,
//!   max_rel_error, median_rel_error` (plus `algorithm` — `householder`, `sketch-cholesky` or
//!   `approx`; an approximate request on a matrix with `n ≤ 10d` runs exactly — `rank`, `lambda`).
//!
//! Bad input (missing file, malformed Matrix Market, empty matrix, λ < 0) → one line on stderr,
//! exit code 2.

#[path = "cli/mod.rs"]
mod cli;

use randnla::io::write_dense_path;
use randnla::leverage::{
    approx_ridge_leverage_scores, exact_ridge_leverage_scores, ApproxParams, ExactMethod,
    ExactParams,
};
use std::time::Instant;

/// Largest `d` for which `--check` computes exact scores.
const CHECK_MAX_D: usize = 2000;

fn main() {
    cli::run(|| {
        let args = cli::Args::parse_with_usage(
            "usage: leverage A.mtx [--method exact|approx] [--ridge λ] [--out scores.mtx] \
             [--check] [--max-elements N] [--seed N] [--threads N] [--json]",
            &["method", "ridge", "out", cli::MAX_ELEMENTS],
            &["check"],
        )?;
        let [path] = args.positionals(1, 1)? else {
            return Err(args.usage());
        };
        let method: String = args.get_or("method", "approx".to_string())?;
        if method != "exact" && method != "approx" {
            return Err(format!("--method {method}: expected exact or approx"));
        }
        let lambda = args.ridge()?;
        let seed = args.seed()?;
        let (pool, par) = args.threads()?;
        let m = args.read_matrix(path)?;
        let a = m.view().map_err(|e| e.to_string())?;
        pool.install(|| {
            let t = Instant::now();
            let (scores, info) = if method == "exact" {
                exact_ridge_leverage_scores(
                    a,
                    lambda,
                    &ExactParams {
                        seed,
                        ..Default::default()
                    },
                    par,
                )
            } else {
                approx_ridge_leverage_scores(a, lambda, &ApproxParams::default(), seed, par)
            }
            .map_err(|e| e.to_string())?;
            let seconds = t.elapsed().as_secs_f64();
            let (max_rel, median_rel) = if args.flag("check") && a.ncols() <= CHECK_MAX_D {
                let reference = ExactParams {
                    method: if (a.nrows() as u128) * (a.ncols() as u128) <= 1 << 27 {
                        ExactMethod::Householder
                    } else {
                        ExactMethod::SketchCholesky
                    },
                    ..Default::default()
                };
                let (ex, _) = exact_ridge_leverage_scores(a, lambda, &reference, par)
                    .map_err(|e| e.to_string())?;
                let mut errs: Vec<f64> = scores
                    .iter()
                    .zip(&ex)
                    .filter(|(_, &e)| e > 0.0)
                    .map(|(s, e)| (s - e).abs() / e)
                    .collect();
                errs.sort_by(f64::total_cmp);
                (errs.last().copied(), cli::median(&errs))
            } else {
                (None, None)
            };
            if let Some(out) = args.get::<String>("out")? {
                let col = faer::MatRef::from_column_major_slice(&scores, scores.len(), 1);
                write_dense_path(&out, col).map_err(|e| cli::file_error(&out, e))?;
            }
            if args.json() {
                cli::Json::new()
                    .int("n", info.n as u64)
                    .int("d", info.d as u64)
                    .int("nnz", info.nnz as u64)
                    .str("method", &method)
                    .str("algorithm", info.method.name())
                    .num("seconds", seconds)
                    .num("sum_of_scores", info.sum)
                    .num("max_score", info.max)
                    .opt("max_rel_error", max_rel)
                    .opt("median_rel_error", median_rel)
                    .int("rank", info.rank as u64)
                    .num("lambda", lambda)
                    .print();
            } else {
                let fmt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3e}"));
                cli::table(
                    &[
                        "n",
                        "d",
                        "nnz",
                        "method",
                        "rank",
                        "seconds",
                        "Σ scores",
                        "max",
                        "max rel err",
                        "median rel err",
                    ],
                    &[vec![
                        info.n.to_string(),
                        info.d.to_string(),
                        info.nnz.to_string(),
                        info.method.name().to_string(),
                        info.rank.to_string(),
                        format!("{seconds:.3}"),
                        format!("{:.4}", info.sum),
                        format!("{:.4}", info.max),
                        fmt(max_rel),
                        fmt(median_rel),
                    ]],
                );
            }
            Ok(())
        })
    })
}
