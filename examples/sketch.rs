//! Sketch a user's Matrix Market file.
//!
//! ```text
//! cargo run --release --example sketch -- A.mtx --sketch sparse-sign --rows 400 \
//!     [--nnz-per-col 8] [--out SA.mtx] [--max-elements N] [--seed N] [--threads N] [--json]
//! ```
//! `A.mtx` may be coordinate (sparse) or array (dense). Instead of a file, `--generate n,d,k` uses
//! a built-in random `n × d` CSR matrix with `k` nonzeros per row (for timing and memory probes).
//! Prints the sketch's shape, the time and, when `d ≤ 2000`, the distortion κ(SQ) of the sketch on
//! `range(A)` (exact to rounding for `n·d ≤ 2·10⁷`, with `Q` from a dense QR; beyond, from the
//! Cholesky factor of `AᵀA`, accurate while `κ(A) ≲ 10⁶`: see `diagnostics::RangeBasis`); `--out`
//! writes `S·A` (dense, array format). `--max-elements N` raises the reader's size limit (default
//! 2²⁸, counting `2·nrows + 1 + nnz` for a coordinate file and `nrows·ncols` for an array) for
//! larger files, and bounds the dense `m × d` output `S·A` the same way (`m·d ≤ N`).
//! `Q` is an orthonormal basis of `range(A)`, whatever the rank of `A`: when `A` has rank
//! `r < d` (or `n < d`), `Q` is made of the `r` leading left singular vectors of a dense SVD of
//! `A` (`σᵢ > max(n, d)·u·σ_max`), for `n·d ≤ 2·10⁷` (`O(n·d²)` on one thread: about 4 s of CPU
//! at `5000 × 1000`, and up to a minute or so at the limit).
//! `--json` prints one JSON object as the last line with the fields
//! sketch, n, d, nnz, m, seconds, distortion, distortion_note: `distortion` is κ(SQ), or null
//! with the reason in `distortion_note` (d > 2000; an `A` that is zero, or of rank below `d`
//! with `n·d > 2·10⁷`; or infinite: `m` is below the rank, or `S` maps some nonzero vector of
//! `range(A)` to zero; otherwise the note is null). Bad input: one line on stderr, exit code 2.

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
            } else {
                // `distortion_on_range` takes a full-column-rank A (rank(A) = d, so n ≥ d);
                // any other A gets Q from its SVD, below.
                let measured = if n < d {
                    rank_deficient_distortion(&*op, a, par)
                } else {
                    match randnla::diagnostics::distortion_on_range(&*op, a, par) {
                        Ok(k) => Ok((k, d)),
                        // Refused as rank deficient: found so (small A), or its Gram matrix
                        // not positive definite (large A, which may merely be ill-conditioned:
                        // the library's message says which, and stays the note there).
                        Err(err @ randnla::Error::RankDeficient { .. }) => {
                            if n as u128 * d as u128 > SVD_MAX_ENTRIES {
                                Err(format!(
                                    "not measured: {err}; its range is found by a dense SVD \
                                     only up to n·d = 2·10⁷ entries"
                                ))
                            } else {
                                rank_deficient_distortion(&*op, a, par)
                            }
                        }
                        Err(err) => Err(format!("not measured: {err}")),
                    }
                };
                match measured {
                    Ok((k, _)) if k.is_finite() => Ok(k),
                    Ok((_, r)) if m < r => Err(format!(
                        "infinite: m = {m} < rank(A) = {r}, so S is not one-to-one on range(A)"
                    )),
                    // E.g. CountSketch hashing two rows that carry range(A) to one bucket.
                    Ok((_, r)) => Err(format!(
                        "infinite: S maps a nonzero vector of range(A) to zero (S·Q is singular, \
                         although m = {m} ≥ rank(A) = {r})"
                    )),
                    Err(why) => Err(why),
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

/// Most entries `n·d` of an `A` whose range is found by a dense SVD (the limit up to which the
/// library's `RangeBasis` densifies `A` for its exact QR).
const SVD_MAX_ENTRIES: u128 = 20_000_000;

/// `(κ(S·Q), r)` for `A` of rank `r < d` (or `n < d`), `Q` the `r` leading left singular vectors
/// of `A` (`σᵢ > max(n, d)·u·σ_max`, the rank rule of `diagnostics::orthonormal_basis`, `u`
/// the unit roundoff), from a dense SVD on one thread (faer's, as the library takes its own
/// thread-invariant ones); or, as `Err`, why it is not measured (`A` is zero). The caller keeps
/// `A` to at most `2·10⁷` entries ([`SVD_MAX_ENTRIES`]).
fn rank_deficient_distortion(
    op: &dyn randnla::sketch::SketchOperator<f64>,
    a: randnla::MatrixRef<'_, f64>,
    par: faer::Par,
) -> Result<(f64, usize), String> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::svd::{self, ComputeSvdVectors};
    let (n, d) = (a.nrows(), a.ncols());
    let mut dense = a.to_dense().map_err(|e| format!("not measured: {e}"))?;
    // κ(SQ) does not depend on A's scale: scale by a power of two so that the SVD neither over-
    // nor underflows (faer's did not converge near 10³⁰⁰).
    let top = (0..d)
        .flat_map(|j| (0..n).map(move |i| (i, j)))
        .fold(0.0f64, |t, (i, j)| t.max(dense[(i, j)].abs()));
    if top == 0.0 {
        return Err("not measured: A is zero, so range(A) = {0}".into());
    }
    let e = top.log2().floor() as i32;
    for j in 0..d {
        for i in 0..n {
            // Two steps: 2^-e alone is not representable for e beyond ±1022.
            dense[(i, j)] = dense[(i, j)] * 2f64.powi(-e / 2) * 2f64.powi(-(e - e / 2));
        }
    }
    let size = n.min(d);
    let (mut u, mut v) = (
        faer::Mat::<f64>::zeros(n, size),
        faer::Mat::<f64>::zeros(d, size),
    );
    let mut sv = faer::diag::Diag::<f64>::zeros(size);
    let thin = ComputeSvdVectors::Thin;
    let req = svd::svd_scratch::<f64>(n, d, thin, thin, faer::Par::Seq, Default::default());
    svd::svd(
        dense.as_ref(),
        sv.as_mut(),
        Some(u.as_mut()),
        Some(v.as_mut()),
        faer::Par::Seq,
        MemStack::new(&mut MemBuffer::new(req)),
        Default::default(),
    )
    .map_err(|e| format!("not measured: the SVD of A did not converge ({e:?})"))?;
    let s: Vec<f64> = sv.column_vector().iter().copied().collect();
    let smax = s.iter().copied().fold(0.0, f64::max);
    let tol = n.max(d) as f64 * (f64::EPSILON / 2.0) * smax;
    let r = s.iter().filter(|&&x| x > tol).count();
    if r == 0 {
        return Err("not measured: A is zero to working precision, so range(A) = {0}".into());
    }
    // faer orders the singular values non-increasingly: the first r columns span range(A).
    let q = u.subcols(0, r);
    randnla::diagnostics::distortion(op, q, par)
        .map(|k| (k, r))
        .map_err(|e| format!("not measured: {e}"))
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
