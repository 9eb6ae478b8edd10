//! Sketch a user's Matrix Market file.
//!
//! ```text
//! cargo run --release --example sketch -- A.mtx --sketch sparse-sign --rows 400 \
//!     [--nnz-per-col 8] [--out SA.mtx] [--max-elements N] [--seed N] [--threads N] [--json]
//! ```
//! `A.mtx` may be coordinate (sparse) or array (dense). Instead of a file, `--generate n,d,k` uses a
//! built-in random `n × d` CSR matrix with `k` nonzeros per row (for timing and memory probes). Prints the sketch's shape, the time and,
//! when `d ≤ 2000`, the distortion κ(SQ) of the sketch on `range(A)` (exact to rounding for
//! `n·d ≤ 2·10⁷`, with `Q` from a dense QR; beyond, from the Cholesky factor of `AᵀA`, accurate
//! while `κ(A) ≲ 10⁶`: see `diagnostics::RangeBasis`); `--out` writes `S·A`
//! (dense, array format). `--max-elements N` raises the reader's size limit (default 2²⁸, counting
//! `2·nrows + 1 + nnz` for a coordinate file and `nrows·ncols` for an array) for larger files,
//! and bounds the dense `m × d` output `S·A` the same way (`m·d ≤ N`).
//! `--json` prints one JSON object as the last line with the fields
//! sketch, n, d, nnz, m, seconds, distortion, distortion_note: `distortion` is κ(SQ), or null
//! with the reason in `distortion_note` (d > 2000, n < d, a rank-deficient `A`, or infinite:
//! `m` is below the rank, or `S` maps some nonzero vector of `range(A)` to zero; otherwise the
//! note is null). Bad input: one line on stderr, exit code 2.

#[path = "cli/mod.rs"]
mod cli;

use randnla::io;
use randnla::sketch::{SketchExt, SketchKind};
use std::time::Instant;

fn main() {
    cli::run(|| {
        let args = cli::Args::parse_with_usage(
            "usage: sketch (A.mtx | --generate n,d,k) --sketch count|sparse-sign|gaussian|srht \
             --rows M [--nnz-per-col S] [--out SA.mtx] [--max-elements N] [--seed N] \
             [--threads N] [--json]",
            &[
                "sketch",
                "rows",
                "nnz-per-col",
                "out",
                "generate",
                cli::MAX_ELEMENTS,
            ],
            &[],
        )?;
        let generate: Option<String> = args.get("generate")?;
        let path = match (args.positionals(0, 1)?, &generate) {
            ([p], None) => p.clone(),
            ([], Some(spec)) => format!("--generate {spec}"),
            _ => return Err(args.usage()),
        };
        let mut kind: SketchKind = args
            .require::<String>("sketch")?
            .parse()
            .map_err(|e: randnla::Error| e.to_string())?;
        if let Some(s) = args.get::<usize>("nnz-per-col")? {
            match kind {
                SketchKind::SparseSign { .. } => kind = SketchKind::SparseSign { nnz_per_col: s },
                _ => return Err("--nnz-per-col applies to --sketch sparse-sign only".into()),
            }
        }
        let m: usize = args.require("rows")?;
        // The default s = 8 is capped at m, as the library's own callers do; an explicit
        // --nnz-per-col above m is the user's error and reported as such.
        if let (SketchKind::SparseSign { nnz_per_col }, None) =
            (kind, args.get::<usize>("nnz-per-col")?)
        {
            kind = SketchKind::SparseSign {
                nnz_per_col: nnz_per_col.min(m.max(1)),
            };
        }
        let (pool, par) = args.threads()?;
        let e = |e: randnla::Error| format!("{path}: {e}");
        let file = match &generate {
            None => args.read_matrix(&path)?,
            Some(spec) => generated(spec)?,
        };
        let a = file.view().map_err(e)?;
        let (n, d, nnz) = (a.nrows(), a.ncols(), a.nnz());
        if n == 0 || d == 0 {
            return Err(format!("{path}: A ({n}×{d}) is empty"));
        }
        // The library names its own parameters (`m`, `nnz_per_col`); name the flags instead.
        let op = kind.build::<f64>(m, n, args.seed()?).map_err(|e| match e {
            randnla::Error::InvalidParameter { name: "m", reason } => format!("--rows: {reason}"),
            randnla::Error::InvalidParameter {
                name: "nnz_per_col",
                reason,
            } => format!("--nnz-per-col: {reason}"),
            e => e.to_string(),
        })?;
        // S·A is a dense m × d matrix: bound it as the reader bounds a dense file, or a 60-byte
        // file declaring 10⁸ columns (one entry) makes `--rows 10` allocate 8 GB (21 GB at peak).
        let limit = args.read_options()?.max_elements;
        let output = m as u128 * d as u128;
        if output > u128::from(limit) {
            return Err(format!(
                "--rows {m}: S·A would be a dense {m}×{d} matrix, {output} elements, more than \
                 the limit of {limit}; to compute it, raise the limit with --{} N, N ≥ {output}",
                cli::MAX_ELEMENTS
            ));
        }
        let (sa, secs, distortion) = pool.install(|| -> Result<_, String> {
            let t = Instant::now();
            let sa = op.apply(a, par).map_err(|e| e.to_string())?;
            let secs = t.elapsed().as_secs_f64();
            // κ(SQ), or why there is none: `--json` prints `distortion` null then, with the
            // reason in `distortion_note` (JSON has no infinity).
            let distortion = if d > 2000 {
                Err("not measured: d > 2000".to_string())
            } else if n < d {
                Err("not measured: n < d".to_string())
            } else {
                // `distortion_on_range` succeeds only for a full-column-rank A: rank(A) = d.
                match randnla::diagnostics::distortion_on_range(&*op, a, par) {
                    Ok(k) if k.is_finite() => Ok(k),
                    Ok(_) if m < d => Err(format!(
                        "infinite: m = {m} < rank(A) = {d}, so S is not one-to-one on range(A)"
                    )),
                    // E.g. CountSketch hashing two rows that carry range(A) to one bucket.
                    Ok(_) => Err(format!(
                        "infinite: S maps a nonzero vector of range(A) to zero (S·Q is singular, \
                         although m = {m} ≥ rank(A) = {d})"
                    )),
                    Err(err) => Err(format!("not measured: {err}")),
                }
            };
            Ok((sa, secs, distortion))
        })?;
        if let Some(out) = args.get::<String>("out")? {
            io::write_dense_path(&out, sa.as_ref()).map_err(|e| cli::file_error(&out, e))?;
        }
        cli::outln!(
            "{} sketch: {n}×{d} ({nnz} stored entries) → {m}×{d} in {secs:.4} s ({:.2} ns per stored entry)",
            op.name(),
            secs * 1e9 / nnz.max(1) as f64
        );
        match &distortion {
            Ok(k) => cli::outln!("distortion κ(SQ) on range(A): {k:.4}"),
            Err(why) => cli::outln!("distortion κ(SQ) on range(A): {why}"),
        }
        if args.json() {
            cli::Json::new()
                .str("sketch", op.name())
                .int("n", n as u64)
                .int("d", d as u64)
                .int("nnz", nnz as u64)
                .int("m", m as u64)
                .num("seconds", secs)
                .opt("distortion", distortion.as_ref().ok().copied())
                .opt_str(
                    "distortion_note",
                    distortion.as_ref().err().map(String::as_str),
                )
                .print();
        }
        Ok(())
    })
}

/// The built-in matrix of `--generate n,d,k`.
fn generated(spec: &str) -> Result<io::MatrixMarket, String> {
    let parts: Vec<usize> = spec
        .split(',')
        .map(|p| p.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|err| format!("--generate {spec}: {err}; expected n,d,k"))?;
    let [n, d, k] = parts[..] else {
        return Err(format!("--generate {spec}: expected three numbers n,d,k"));
    };
    randnla::problems::random_sparse(n, d, k, randnla::Seed::new(7))
        .map(io::MatrixMarket::Sparse)
        .map_err(|err| format!("--generate {spec}: {err}"))
}
