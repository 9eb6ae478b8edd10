//! Least squares on your own Matrix Market files, by the sketched solvers or the baselines.
//!
//! ```text
//! cargo run --release --example lstsq -- A.mtx b.mtx \
//!     [--method qr|normal|lsqr|sketch-solve|sketch-precondition] [--ridge λ] [--tol T] \
//!     [--sketch-rows M] [--nnz-per-col S] [--max-iters K] [--no-probe] [--out x.mtx] \
//!     [--max-elements N] [--seed N] [--threads N] [--json]
//! ```
//! `--max-elements N` raises the reader's size limit (default 2²⁸, counting `2·nrows + 1 + nnz`
//! for a coordinate file and `nrows·ncols` for an array) for larger files.
//! `A` is `n × d` (coordinate → sparse, array → dense); `b` is `n × 1`. The default method is
//! `sketch-precondition`. `qr` (dense Householder, faer), `normal` (AᵀA + Cholesky) and `lsqr`
//! (unpreconditioned, at most 1000 iterations) are the honest baselines; `sketch-solve` is the
//! one-shot `argmin ‖S(Ax − b)‖` with `m = 10d`. The sketched methods take `--sketch-rows`
//! (default: `10d` for sketch-solve, the cost model's `4d–16d` for sketch-precondition) and
//! `--nnz-per-col` (nonzeros per column of the sparse sign sketch, default 8; 2–4 is cheaper and
//! as good on incoherent rows, see BENCHMARKS.md); the other methods reject them. `--max-iters`
//! caps LSQR's iterations (per run for sketch-precondition; defaults 1000 and 500).
//! sketch-precondition first tries LSQR without a sketch (on `A`, or with its columns equilibrated
//! when their norms differ by more than 10×) and sketches only when that would not converge fast
//! (`LstsqParams::probe`); `--no-probe` sketches at once.
//!
//! `--json` adds, after the human lines, one last line with `method, n, d, nnz, seconds,
//! iterations, probe_iterations (sketch-precondition: the probe's, on top of `iterations` when
//! it gave up), preconditioner
//! (`qr`, `svd`, `diagonal` when the probe solved it with equilibrated columns, or null when it
//! solved it on `A`), residual_norm, normal_eq_residual (‖Aᵀr‖/(‖A‖₂‖r‖), `‖A‖₂` estimated by 30
//! Golub–Kahan steps as `lstsq::normal_equation_residual` does: a lower bound, so the figure errs
//! high, by 4·10⁻⁴ relative on a 3000 × 1500 diagonal matrix; with --ridge, that of the augmented
//! problem `[A; √λI]x ≈ [b; 0]`), converged, stopping_test` (null where a figure does not
//! apply); `residual_norm` is `‖b − Ax‖`, computed with a scaled norm (faer's `norm_l2`), so it is
//! finite whenever the residual is (a plain sum of squares gave 0 for ‖b‖ ≈ 10⁻²⁰⁰ and ∞, printed
//! null, for 10¹⁶⁰). An LSQR or sketch-and-precondition run that exceeds its iteration budget
//! reports `converged: false` (exit code 0: it is a result, not an error) with `residual_norm` and
//! `normal_eq_residual` null — the library returns no iterate then, so neither can be computed —
//! and the last value of the solver's stopping test as `stopping_test` (null for a run that
//! converged). That value is not `‖Aᵀr‖/(‖A‖‖r‖)`: it is LSQR's estimate of the normal-equation
//! test on the operator it iterates on (`A R⁻¹` for sketch-precondition, whose `R` makes it orders
//! of magnitude apart on an ill-conditioned `A`), or `‖r‖/‖b‖` when the consistency test stopped
//! it. `--tol` sets that test, so it applies to lsqr and sketch-precondition only; `--seed`
//! applies to the sketched methods only (the others draw nothing at random). `--out x.mtx`
//! writes `x` (a `d × 1` array) only when the solve converged: a run that exceeds its budget has no
//! solution to write (the library returns no iterate then), so it writes nothing, leaves any file
//! already at that path as it was, and says so in one line on stderr (exit code still 0). Bad
//! input, problems whose work vectors cannot be allocated, and a direct method that finds no
//! solution (`normal` when `AᵀA + λI` is not numerically positive definite: `κ(A)² ≳ 1/u`, or `A`
//! rank deficient) — the library returns an error, not an answer: one line on stderr, exit code 2.
//! `qr` and `sketch-solve` on a rank-deficient `A` (no ridge) say so and name the method that
//! returns the minimum-norm solution (`sketch-precondition`, which switches to an SVD).

#[path = "cli/mod.rs"]
mod cli;

use randnla::io::write_dense_path;
use randnla::lstsq::{
    lsqr, normal_equations, qr_solve, ridge_normal_equation_residual, sketch_and_precondition,
    sketch_and_solve, Factorization, Info, LsqrParams, LstsqParams, SketchSolveParams,
};
use randnla::sketch::SketchKind;
use randnla::{Error, Layout, MatrixRef};
use std::time::Instant;

/// The library's names of the parameters these options set, for error messages.
const FLAGS: &[(&str, &str)] = &[
    ("tol", "--tol"),
    ("max_iters", "--max-iters"),
    ("sketch_rows", "--sketch-rows"),
    ("nnz_per_col", "--nnz-per-col"),
    ("ridge", "--ridge"),
    ("lambda", "--ridge"),
    ("method", "--method"),
];

struct Outcome {
    x: Option<Vec<f64>>,
    iterations: Option<usize>,
    probe_iterations: Option<usize>,
    preconditioner: Option<&'static str>,
    converged: bool,
    stopping_value: Option<f64>,
}

/// The outcome of an iterative solver: running out of iterations is a result to report
/// (`converged: false`, the stopping test's last value), not bad input.
fn iterative(result: Result<(Vec<f64>, Info), Error>) -> Result<Outcome, Error> {
    match result {
        Ok((x, info)) => Ok(Outcome {
            x: Some(x),
            iterations: Some(info.iterations),
            probe_iterations: Some(info.probe_iterations),
            preconditioner: info.factorization.map(|f| match f {
                Factorization::Qr | Factorization::Auto => "qr",
                other => other.name(),
            }),
            converged: info.converged,
            stopping_value: None,
        }),
        Err(Error::NotConverged {
            iterations,
            residual,
            ..
        }) => Ok(Outcome {
            x: None,
            iterations: Some(iterations),
            probe_iterations: None,
            preconditioner: None,
            converged: false,
            stopping_value: Some(residual),
        }),
        Err(e) => Err(e),
    }
}

fn read_vector(args: &cli::Args, path: &str) -> Result<Vec<f64>, String> {
    let m = args.read_matrix(path)?;
    if m.ncols() != 1 {
        return Err(format!(
            "{path}: b must be a single column (n × 1), got {} × {}",
            m.nrows(),
            m.ncols()
        ));
    }
    m.to_vector().map_err(|e| format!("{path}: {e}"))
}

/// `‖b − Ax‖` for any storage of `A`.
fn residual_norm(a: MatrixRef<'_, f64>, x: &[f64], b: &[f64]) -> f64 {
    let mut r = b.to_vec();
    match a {
        MatrixRef::Dense(m) => {
            for j in 0..m.ncols() {
                for (i, ri) in r.iter_mut().enumerate() {
                    *ri -= m[(i, j)] * x[j];
                }
            }
        }
        MatrixRef::Sparse(s) => {
            for k in 0..s.outer_dim() {
                let (idx, val) = s.outer(k);
                for (&i, &v) in idx.iter().zip(val) {
                    match s.layout() {
                        Layout::Csr => r[k] -= v * x[i],
                        Layout::Csc => r[i] -= v * x[k],
                    }
                }
            }
        }
    }
    faer::ColRef::from_slice(&r).norm_l2()
}

fn main() {
    cli::run(|| {
        let args = cli::Args::parse_with_usage(
            "usage: lstsq A.mtx b.mtx [--method qr|normal|lsqr|sketch-solve|sketch-precondition] \
             [--ridge λ] [--tol T] [--sketch-rows M] [--nnz-per-col S] [--max-iters K] \
             [--no-probe] [--out x.mtx] [--max-elements N] [--seed N] [--threads N] [--json]",
            &[
                "method",
                "ridge",
                "tol",
                "sketch-rows",
                "nnz-per-col",
                "out",
                "max-iters",
                cli::MAX_ELEMENTS,
            ],
            &["no-probe"],
        )?;
        let [a_path, b_path] = args.positionals(2, 2)? else {
            return Err(args.usage());
        };
        let method: String = args.get_or("method", "sketch-precondition".to_string())?;
        let sketch_rows: Option<usize> = args.get("sketch-rows")?;
        let nnz_per_col: usize = args.get_or("nnz-per-col", LstsqParams::default().nnz_per_col)?;
        let sketched = matches!(method.as_str(), "sketch-solve" | "sketch-precondition");
        if !sketched && (sketch_rows.is_some() || args.get::<usize>("nnz-per-col")?.is_some()) {
            return Err(format!(
                "--sketch-rows and --nnz-per-col apply to sketch-solve and sketch-precondition, not {method}"
            ));
        }
        let max_iters: Option<usize> = args.get("max-iters")?;
        if max_iters.is_some() && !matches!(method.as_str(), "lsqr" | "sketch-precondition") {
            return Err(format!(
                "--max-iters applies to lsqr and sketch-precondition, not {method}"
            ));
        }
        if args.get::<String>("tol")?.is_some()
            && !matches!(method.as_str(), "lsqr" | "sketch-precondition")
        {
            return Err(format!(
                "--tol applies to lsqr and sketch-precondition, not {method} (a direct solve has no stopping test)"
            ));
        }
        if args.get::<String>("seed")?.is_some() && !sketched {
            return Err(format!(
                "--seed applies to sketch-solve and sketch-precondition, not {method} (it draws nothing at random)"
            ));
        }
        let probe = !args.flag("no-probe");
        if !probe && method != "sketch-precondition" {
            return Err(format!(
                "--no-probe applies to sketch-precondition, not {method}"
            ));
        }
        let lambda = args.ridge()?;
        let tol: f64 = args.get_or("tol", LstsqParams::default().tol)?;
        let seed = args.seed()?;
        let (pool, par) = args.threads()?;
        let a = args.read_matrix(a_path)?;
        let b = read_vector(&args, b_path)?;
        let av = a.view().map_err(|e| e.to_string())?;
        let (n, d, nnz) = (av.nrows(), av.ncols(), av.nnz());
        if b.len() != n {
            return Err(format!("b has {} rows but A has {n}", b.len()));
        }
        let direct = |x: Vec<f64>| Outcome {
            x: Some(x),
            iterations: None,
            probe_iterations: None,
            preconditioner: None,
            converged: true,
            stopping_value: None,
        };
        let t = Instant::now();
        let result: Result<Outcome, Error> = pool.install(|| match method.as_str() {
            "qr" => qr_solve(av, &b, lambda, par).map(direct),
            "normal" => normal_equations(av, &b, lambda, par).map(direct),
            "sketch-solve" => {
                if lambda != 0.0 {
                    return Err(Error::InvalidParameter {
                        name: "ridge",
                        reason: "sketch-solve does not take --ridge".into(),
                    });
                }
                let p = SketchSolveParams {
                    sketch: SketchKind::SparseSign { nnz_per_col },
                    sketch_rows,
                    seed,
                    par,
                };
                sketch_and_solve(av, &b, &p).map(|(x, _)| direct(x))
            }
            "lsqr" => {
                let p = LsqrParams {
                    tol,
                    ridge: lambda,
                    par,
                    max_iters: max_iters.unwrap_or(LsqrParams::default().max_iters),
                };
                // No probe there: the field is sketch-precondition's.
                iterative(lsqr(av, &b, &p)).map(|o| Outcome {
                    probe_iterations: None,
                    ..o
                })
            }
            "sketch-precondition" => {
                let p = LstsqParams {
                    tol,
                    ridge: lambda,
                    sketch_rows,
                    nnz_per_col,
                    seed,
                    par,
                    max_iters: max_iters.unwrap_or(LstsqParams::default().max_iters),
                    probe,
                    ..Default::default()
                };
                iterative(sketch_and_precondition(av, &b, &p))
            }
            other => Err(Error::InvalidParameter {
                name: "method",
                reason: format!(
                    "unknown method `{other}`; expected qr, normal, lsqr, sketch-solve or sketch-precondition"
                ),
            }),
        });
        let out = result.map_err(|e| match e {
            Error::RankDeficient { .. } if lambda == 0.0 && method == "qr" => format!(
                "{e}: A does not have full column rank, so the least-squares solution is not \
                 unique; --method sketch-precondition (or lsqr) returns the minimum-norm one, \
                 --ridge λ > 0 a regularized one"
            ),
            Error::RankDeficient { .. } if method == "sketch-solve" => format!(
                "{e} (the sketch S·A): A does not have full column rank, or --sketch-rows is \
                 below d; --method sketch-precondition returns the minimum-norm solution of a \
                 rank-deficient A"
            ),
            e => cli::option_error(e, FLAGS),
        })?;
        let seconds = t.elapsed().as_secs_f64();
        let (residual_norm, ner) = match &out.x {
            Some(x) => {
                let r = residual_norm(av, x, &b);
                let ner = pool
                    .install(|| ridge_normal_equation_residual(av, x, &b, lambda, par))
                    .map_err(|e| e.to_string())?;
                (Some(r), Some(ner))
            }
            // No iterate, so no ‖Aᵀr‖/(‖A‖‖r‖): the stopping test's last value is that of
            // LSQR's operator (A R⁻¹ for sketch-precondition, with LSQR's estimate of its norm),
            // reported as `stopping_test`, not as this figure.
            None => (None, None),
        };
        if let Some(path) = args.get::<String>("out")? {
            match &out.x {
                Some(x) => {
                    let xm = faer::Mat::from_fn(d, 1, |i, _| x[i]);
                    write_dense_path(&path, xm.as_ref()).map_err(|e| cli::file_error(&path, e))?;
                }
                // Non-convergence is a result (exit 0), but a silently missing (or stale) file
                // is not what `--out` asked for.
                None => eprintln!(
                    "{path} not written: {method} reached its iteration budget without converging, so there is no solution to write"
                ),
            }
        }
        // The human lines come first either way, as in the other examples; `--json` adds the
        // one JSON object as the last line.
        {
            cli::outln!("method {method}: {n} × {d}, nnz {nnz}, {seconds:.3} s");
            if let Some(it) = out.iterations {
                cli::outln!("iterations {it}, converged {}", out.converged);
            }
            if let Some(p) = out.probe_iterations {
                let pre = out.preconditioner.unwrap_or("none");
                cli::outln!("preconditioner {pre}, probe iterations {p}");
            }
            if let Some(r) = residual_norm {
                cli::outln!("‖b − Ax‖ = {r:.6e}");
            }
            if let Some(v) = ner {
                cli::outln!("‖Aᵀr‖/(‖A‖‖r‖) = {v:.3e}");
            }
            if let Some(v) = out.stopping_value {
                cli::outln!("not converged: last value of the stopping test {v:.3e}");
            }
        }
        if args.json() {
            cli::Json::new()
                .str("method", &method)
                .int("n", n as u64)
                .int("d", d as u64)
                .int("nnz", nnz as u64)
                .num("seconds", seconds)
                .opt("iterations", out.iterations.map(|i| i as f64))
                .opt("probe_iterations", out.probe_iterations.map(|i| i as f64))
                .opt_str("preconditioner", out.preconditioner)
                .opt("residual_norm", residual_norm)
                .opt("normal_eq_residual", ner)
                .bool("converged", out.converged)
                .opt("stopping_test", out.stopping_value)
                .print();
        }
        Ok(())
    })
}
