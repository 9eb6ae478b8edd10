//! Polynomial-kernel features of a Matrix Market matrix with TensorSketch.
//!
//! ```text
//! cargo run --release --example poly_features -- X.mtx --degree P --rows M \
//!     [--gamma G] [--coef0 C] [--method fft|tree] [--out F.mtx] [--max-elements N] [--seed N]
//!     [--threads N] [--json]
//! ```
//! Each row `x` of the `n × d` matrix `X` becomes `m = M` features `φ(x)` with
//! `E⟨φ(x), φ(y)⟩ = (γ⟨x, y⟩ + c)^p` (γ = `--gamma`, default 1; c = `--coef0`, default 0; the
//! scaling of scikit-learn's `PolynomialCountSketch`). `--out` writes the dense `n × M` feature
//! matrix. The report gives the time of the feature map and the relative kernel error
//! `‖ΦΦᵀ − K‖_F/‖K‖_F` on the first ≤ 2000 rows. `--json` prints one object as the last line with
//! the fields n, d, nnz, degree, m, seconds, kernel_rel_error. `--max-elements N` raises the
//! reader's size limit (default 2²⁸, counting `2·nrows + 1 + nnz` for a coordinate file and
//! `nrows·ncols` for an array) for larger files. Bad input: one line on stderr,
//! exit code 2.

#[path = "cli/mod.rs"]
mod cli;

use randnla::io::write_dense_path;
use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams, TensorMethod};
use std::time::Instant;

/// The library's names of the parameters these options set, for error messages.
const FLAGS: &[(&str, &str)] = &[
    ("m", "--rows"),
    ("sketch_dim", "--rows"),
    ("degree", "--degree"),
    ("gamma", "--gamma"),
    ("coef0", "--coef0"),
];

/// Rows compared against the exact kernel.
const ERROR_ROWS: usize = 2000;

fn main() {
    cli::run(|| {
        let args = cli::Args::parse_with_usage(
            "usage: poly_features X.mtx --degree P --rows M [--gamma G] [--coef0 C] \
             [--method fft|tree] [--out F.mtx] [--max-elements N] [--seed N] [--threads N] \
             [--json]",
            &[
                "degree",
                "rows",
                "gamma",
                "coef0",
                "out",
                "method",
                cli::MAX_ELEMENTS,
            ],
            &[],
        )?;
        let [path] = args.positionals(1, 1)? else {
            return Err(args.usage());
        };
        let method: TensorMethod = args.get_or("method", TensorMethod::Fft)?;
        let params = PolyKernelParams {
            degree: args.require("degree")?,
            sketch_dim: args.require("rows")?,
            gamma: args.get_or("gamma", 1.0)?,
            coef0: args.get_or("coef0", 0.0)?,
            method,
        };
        let seed = args.seed()?;
        let (pool, par) = args.threads()?;
        let mm = args.read_matrix(path)?;
        let x = mm.view().map_err(|e| format!("{path}: {e}"))?;
        let (n, d) = (x.nrows(), x.ncols());
        if n == 0 || d == 0 {
            // Named as the file's shape: the library would refuse an input dimension `d` = 0,
            // a parameter the user never gave.
            return Err(format!("{path}: X ({n}×{d}) is empty"));
        }
        let features =
            PolyKernelFeatures::new(d, params, seed).map_err(|e| cli::option_error(e, FLAGS))?;
        let (phi, seconds, err) = pool.install(|| -> Result<_, String> {
            let t = Instant::now();
            let phi = features.transform(x, par).map_err(|e| e.to_string())?;
            let seconds = t.elapsed().as_secs_f64();
            let err = features
                .kernel_error(x, phi.as_ref(), ERROR_ROWS, par)
                .map_err(|e| e.to_string())?;
            Ok((phi, seconds, err))
        })?;
        if let Some(out) = args.get::<String>("out")? {
            write_dense_path(&out, phi.as_ref()).map_err(|e| cli::file_error(&out, e))?;
        }
        cli::outln!(
            "{n}×{d} (nnz {}) → {n}×{} features of (γ⟨x,y⟩ + c)^p, p = {}, γ = {}, c = {}, {:?}",
            mm.nnz(),
            params.sketch_dim,
            params.degree,
            cli::compact(params.gamma),
            cli::compact(params.coef0),
            params.method
        );
        cli::outln!(
            "feature map {seconds:.3} s; ‖ΦΦᵀ − K‖_F/‖K‖_F on the first {} rows = {err:.4}",
            n.min(ERROR_ROWS)
        );
        if args.json() {
            cli::Json::new()
                .int("n", n as u64)
                .int("d", d as u64)
                .int("nnz", mm.nnz() as u64)
                .int("degree", params.degree as u64)
                .int("m", params.sketch_dim as u64)
                .num("seconds", seconds)
                .num("kernel_rel_error", err)
                .print();
        }
        Ok(())
    })
}
