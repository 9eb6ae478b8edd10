//! Symmetric CP decomposition of a tensor by the exact or the sketched robust tensor power method.
//!
//! ```text
//! cargo run --release --example tensor_power -- (--tns T.tns | --synthetic n,k,noise,p)
//!     [--rank K] [--method exact|sketched] [--starts L] [--iters N] [--sketches B]
//!     [--sketch-dim b] [--search-sketches S] [--search-sketch-dim b_s]
//!     [--polish-iters P] [--hashing auto|shared|per-mode] [--exact-sweeps E]
//!     [--storage auto|dense|coordinate] [--export T.tns]
//!     [--factors-out F.mtx] [--seed N] [--threads N] [--json]
//! ```
//!
//! * `--tns FILE`: a symmetric tensor in FROSTT `.tns` (1-based; each multi-index once or in all
//!   its permutations). `--synthetic n,k,noise,p`: `Σ_{j<k} 0.8^j a_j^{⊗p}` with orthonormal
//!   `a_j` plus symmetric Gaussian noise of relative Frobenius norm `noise` (dense).
//! * `--rank K` (default: `k` for synthetic input, else 1); `--method sketched` (default; also
//!   `sketch`) or `exact`; `--starts`, `--iters` (also used for the refinement) override the
//!   defaults (10, 15); `--sketches B`, `--sketch-dim b` override the automatic sketch shape;
//!   `--search-sketches S` (default 3, 0 = all) sketches drive the L starts before the best is
//!   refined with all B; `--search-sketch-dim b_s` (default 0: b/4) is the size the sketches are
//!   folded to for the search and the refinement but its last `--polish-iters` (default 2)
//!   iterations. `--hashing per-mode` gives each mode of a sketch its own hash; `shared` gives
//!   every mode the same hash (built from the distinct entries only: much faster; unbiased at order
//!   3, biased at order ≥ 4 on tensors with large partial traces, see `ModeHashing::Shared`);
//!   `auto` (default) is `shared` at order 3 when the folded search size is at least `16n`, else
//!   `per-mode` (`SketchParams::resolve_hashing`). `--exact-sweeps E` (default 0: none)
//!   refines the sketched decomposition with `E ≥ 1` sweeps of exact contractions
//!   (`refine_exact`: `E + 1` passes over `T`), which bring its residual to the exact
//!   method's. These seven options apply to `--method sketched` only: with `--method exact`
//!   each is an error, not silently ignored.
//! * `--storage auto|dense|coordinate`: how a `.tns` tensor is held (`TnsStorage`, read straight
//!   into it); `auto` (default) takes dense storage when `n^p ≤ 2²⁸` and at least a quarter of
//!   the entries are stored
//!   (dense contractions stream memory; coordinate ones gather, ≈ 7× slower at n = 400).
//!   With `--synthetic` (always dense) it is an error.
//! * `--export FILE`: writes the input tensor as `.tns` (one line per unordered multi-index),
//!   once the decomposition has run: a rejected command line leaves FILE alone.
//! * `--factors-out FILE`: writes the unit factors found, as an `n × rank` Matrix Market array
//!   (one column per component, in the order found).
//! * `--json`: one line with `n, order, nnz` (the nonzero entries of `T`, every permutation of a
//!   multi-index counted, whichever `storage` holds it), `storage, rank, method, seconds`
//!   (build + power iterations + exact sweeps), `build_seconds`, `refine_seconds` (the exact
//!   sweeps; 0 without them), `cpu_seconds` (process CPU time of all three, Linux),
//!   `exact_sweeps`, `contractions` (the exact sweeps' included), `hashing` (as resolved;
//!   `none` with `--method exact`), `sketches`, `sketch_dim` (null with `--method exact`),
//!   `max_factor_error` and
//!   `max_weight_rel_error` (synthetic input only; null, and `inf` in the table, when `--rank`
//!   is below `k`: a true component left without a found one has an infinite error),
//!   `residual_rel` (`‖T − T̂‖_F/‖T‖_F`, when `n^p ≤ 10⁸`; summed entry by entry for a dense
//!   tensor, accurate to rounding; for a tensor in coordinate storage computed from
//!   `‖T‖² − 2⟨T, T̂⟩ + ‖T̂‖²`, so accurate to about `1e-8` only: an exactly decomposable one
//!   reports about `1e-8`, not 0; null for a tensor whose every entry is 0, where the ratio is
//!   0/0 — its weights come back 0).
//!
//! Bad input (missing or malformed file, rank 0, unknown method, an option that does not apply)
//! → one line on stderr, exit 2.

#[path = "cli/mod.rs"]
mod cli;

use randnla::tensor::{
    match_factors, power_method_exact, power_method_on_sketches, read_tns_path_as, refine_exact,
    residual_rel, write_tns_path, ModeHashing, PowerMethod, PowerParams, SketchParams,
    SymmetricTensor, TensorSketches, TnsEntries, TnsStorage,
};
use std::time::Instant;

/// Process CPU time (user + system) from `/proc/self/stat` (Linux, 100 ticks/s); `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

type Truth = Option<(Vec<f64>, Vec<Vec<f64>>)>;

/// The library's names of the parameters the options set, for error messages.
const FLAGS: &[(&str, &str)] = &[
    ("rank", "--rank"),
    ("starts", "--starts"),
    ("iters", "--iters"),
    ("refine_iters", "--iters"),
    ("sketches", "--sketches"),
    ("sketch_dim", "--sketch-dim"),
    ("search_sketches", "--search-sketches"),
    ("search_sketch_dim", "--search-sketch-dim"),
    ("polish_iters", "--polish-iters"),
    ("sweeps", "--exact-sweeps"),
];

/// The synthetic tensor's parameters, all set by `--synthetic n,k,noise,p`.
const SYNTHETIC: &[(&str, &str)] = &[
    ("n", "--synthetic n"),
    ("dim", "--synthetic n"),
    ("k", "--synthetic k"),
    ("rank", "--synthetic k"),
    ("noise", "--synthetic noise"),
    ("order", "--synthetic p"),
];

/// The options only `--method sketch` reads; with `--method exact` they are errors.
const SKETCH_ONLY: [&str; 7] = [
    "sketches",
    "sketch-dim",
    "search-sketches",
    "search-sketch-dim",
    "polish-iters",
    "hashing",
    "exact-sweeps",
];

fn main() {
    cli::run(|| {
        let args = cli::Args::parse_with_usage(
            "usage: tensor_power (--tns T.tns | --synthetic n,k,noise,p) [--rank K] \
             [--method exact|sketched] [--starts L] [--iters N] [--sketches B] [--sketch-dim b] \
             [--search-sketches S] [--search-sketch-dim b_s] [--polish-iters P] \
             [--hashing auto|shared|per-mode] [--exact-sweeps E] \
             [--storage auto|dense|coordinate] \
             [--export T.tns] [--factors-out F.mtx] [--seed N] [--threads N] [--json]",
            &[
                &[
                    "tns",
                    "synthetic",
                    "rank",
                    "method",
                    "starts",
                    "iters",
                    "export",
                    "storage",
                    "factors-out",
                ][..],
                &SKETCH_ONLY[..],
            ]
            .concat(),
            &[],
        )?;
        args.positionals(0, 0)?;
        // The method first, and the options that only the sketched method reads: a typo or an
        // option that does nothing is an error before any tensor is read or built.
        let method: PowerMethod = args.get_or("method", PowerMethod::Sketched)?;
        if method == PowerMethod::Exact {
            for name in SKETCH_ONLY {
                if args.get::<String>(name)?.is_some() {
                    return Err(format!(
                        "--{name} applies to --method sketched, not exact (the exact method \
                         contracts the tensor itself)"
                    ));
                }
            }
        }
        let seed = args.seed()?;
        let (pool, par) = args.threads()?;
        let tns_storage: TnsStorage = args.get_or("storage", TnsStorage::Auto)?;
        if args.get::<String>("storage")?.is_some() && args.get::<String>("synthetic")?.is_some() {
            return Err("--storage applies to --tns FILE; a --synthetic tensor is dense".into());
        }
        let (t, truth): (SymmetricTensor, Truth) =
            match (args.get::<String>("tns")?, args.get::<String>("synthetic")?) {
                (Some(path), None) => (
                    read_tns_path_as(&path, tns_storage).map_err(|e| cli::file_error(&path, e))?,
                    None,
                ),
                (None, Some(spec)) => {
                    let f: Vec<&str> = spec.split(',').collect();
                    let [n, k, noise, p] = f[..] else {
                        return Err(format!("--synthetic {spec}: expected n,k,noise,p"));
                    };
                    let parse = |s: &str| {
                        s.trim()
                            .parse::<usize>()
                            .map_err(|_| format!("--synthetic: `{s}` is not a count"))
                    };
                    let noise: f64 = noise
                        .trim()
                        .parse()
                        .map_err(|_| format!("--synthetic: `{noise}` is not a number"))?;
                    let (t, w, a) = SymmetricTensor::synthetic_orthogonal(
                        parse(p)?,
                        parse(n)?,
                        parse(k)?,
                        noise,
                        seed,
                    )
                    .map_err(|e| cli::option_error(e, SYNTHETIC))?;
                    (t, Some((w, a)))
                }
                _ => {
                    return Err("give exactly one of --tns FILE and --synthetic n,k,noise,p".into())
                }
            };
        let rank: usize = args.get_or("rank", truth.as_ref().map_or(1, |(w, _)| w.len()))?;
        let d = PowerParams::default();
        let iters = args.get_or("iters", d.iters)?;
        let power = PowerParams {
            starts: args.get_or("starts", d.starts)?,
            iters,
            refine_iters: iters,
        };
        let sp = SketchParams {
            power: power.clone(),
            sketches: args.get_or("sketches", 0)?,
            sketch_dim: args.get_or("sketch-dim", 0)?,
            search_sketches: args.get_or("search-sketches", 3)?,
            search_sketch_dim: args.get_or("search-sketch-dim", 0)?,
            polish_iters: args.get_or("polish-iters", 2)?,
            hashing: args.get_or("hashing", ModeHashing::Auto)?,
        };
        let exact_sweeps: usize = args.get_or("exact-sweeps", 0)?;
        pool.install(|| {
            let start = Instant::now();
            let cpu0 = cpu_seconds();
            let (mut dec, build) = match method {
                PowerMethod::Exact => (
                    power_method_exact(&t, rank, &power, seed, par)
                        .map_err(|e| cli::option_error(e, FLAGS))?,
                    0.0,
                ),
                _ => {
                    let (bb, b) = sp.resolve(t.dim(), t.order());
                    let hashing = sp.resolve_hashing(t.dim(), t.order());
                    let s = TensorSketches::with_hashing(&t, bb, b, hashing, seed, par)
                        .map_err(|e| cli::option_error(e, FLAGS))?;
                    let build = start.elapsed().as_secs_f64();
                    (
                        power_method_on_sketches(s, rank, &sp, seed, par)
                            .map_err(|e| cli::option_error(e, FLAGS))?,
                        build,
                    )
                }
            };
            let mut refine_seconds = 0.0;
            if exact_sweeps > 0 {
                let refine_start = Instant::now();
                dec = refine_exact(&t, &dec, exact_sweeps, par)
                    .map_err(|e| cli::option_error(e, FLAGS))?;
                refine_seconds = refine_start.elapsed().as_secs_f64();
            }
            let seconds = start.elapsed().as_secs_f64();
            // Only now, when every option has been accepted: a rejected command line must not
            // replace the user's file.
            if let Some(out) = args.get::<String>("export")? {
                write_tns_path(&out, &t, TnsEntries::Unique)
                    .map_err(|e| cli::file_error(&out, e))?;
            }
            if let Some(out) = args.get::<String>("factors-out")? {
                let n = t.dim();
                let f = faer::Mat::from_fn(n, dec.factors.len(), |i, j| dec.factors[j][i]);
                randnla::io::write_dense_path(&out, f.as_ref())
                    .map_err(|e| cli::file_error(&out, e))?;
            }
            let cpu = cpu_seconds().zip(cpu0).map(|(a, b)| a - b);
            let (max_fe, max_we) = match &truth {
                Some((w, a)) => {
                    let m = match_factors(t.order(), w, a, &dec.weights, &dec.factors)
                        .map_err(|e| e.to_string())?;
                    (
                        Some(m.iter().map(|x| x.factor_error).fold(0.0, f64::max)),
                        Some(m.iter().map(|x| x.weight_rel_error).fold(0.0, f64::max)),
                    )
                }
                None => (None, None),
            };
            let small = (t.dim() as f64).powi(t.order() as i32) <= 1e8;
            // A zero tensor has no relative residual (0/0): null, as where it is not computed.
            let resid = if small && t.norm() > 0.0 {
                Some(residual_rel(&t, &dec.weights, &dec.factors, par).map_err(|e| e.to_string())?)
            } else {
                None
            };
            let (bb, b) = dec.sketch_shape.unwrap_or((0, 0));
            // The tensor's nonzero entries (every permutation counted), whatever its storage:
            // `t.nnz()` counts stored entries, all `n^p` of them for dense storage, so the same
            // file reported 27 or 8 for its 8 nonzeros as `--storage` chose dense or coordinate.
            let mut nnz = 0u64;
            t.for_each_entry(|_, v| nnz += u64::from(v != 0.0));
            if args.json() {
                let j = cli::Json::new()
                    .int("n", t.dim() as u64)
                    .int("order", t.order() as u64)
                    .int("nnz", nnz)
                    .str("storage", if t.is_dense() { "dense" } else { "coordinate" })
                    .int("rank", rank as u64)
                    .str("method", method.name())
                    .str(
                        "hashing",
                        match (method, sp.resolve_hashing(t.dim(), t.order())) {
                            (PowerMethod::Exact, _) => "none",
                            (_, ModeHashing::Shared) => "shared",
                            _ => "per-mode",
                        },
                    )
                    .num("seconds", seconds)
                    .num("build_seconds", build)
                    .num("refine_seconds", refine_seconds)
                    .opt("cpu_seconds", cpu)
                    .int("exact_sweeps", dec.exact_sweeps as u64)
                    .int("contractions", dec.contractions as u64)
                    .opt("sketches", dec.sketch_shape.map(|s| s.0 as f64))
                    .opt("sketch_dim", dec.sketch_shape.map(|s| s.1 as f64))
                    .opt("max_factor_error", max_fe)
                    .opt("max_weight_rel_error", max_we)
                    .opt("residual_rel", resid);
                j.print();
            } else {
                let fmt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3e}"));
                cli::table(
                    &[
                        "n",
                        "p",
                        "nnz",
                        "rank",
                        "method",
                        "B×b",
                        "seconds",
                        "max factor err",
                        "max λ err",
                        "residual",
                    ],
                    &[vec![
                        t.dim().to_string(),
                        t.order().to_string(),
                        nnz.to_string(),
                        rank.to_string(),
                        method.name().to_string(),
                        if bb > 0 {
                            format!("{bb}×{b}")
                        } else {
                            "-".into()
                        },
                        format!("{seconds:.3}"),
                        fmt(max_fe),
                        fmt(max_we),
                        fmt(resid),
                    ]],
                );
                // Fixed notation for ordinary magnitudes, scientific beyond them (a weight of
                // 1e-200 is not 0.0000, nor 1e160 a 161-digit number).
                let weight = |w: f64| {
                    if w == 0.0 || (1e-3..1e6).contains(&w.abs()) {
                        format!("{w:.4}")
                    } else {
                        format!("{w:.4e}")
                    }
                };
                cli::outln!(
                    "weights: {:?}",
                    dec.weights.iter().map(|&w| weight(w)).collect::<Vec<_>>()
                );
            }
            Ok(())
        })
    })
}
