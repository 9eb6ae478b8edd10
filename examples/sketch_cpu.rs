//! Process CPU time of the sparse sketch kernels against one SpMV: the measurement to use when the
//! machine is shared and wall-clock medians are unreliable.
//!
//! ```text
//! cargo run --release --example sketch_cpu -- [--nnz 20000000] [--rows 400] [--cols 200]
//!     [--reps 20] [--threads 1] [--seed N] [--json]
//! ```
//!
//! Builds the benches' matrix (`n × cols`, 25 nonzeros per row, `n = nnz/25`) in CSR and CSC and
//! reports, for one SpMV (CSR row dot products) and for CountSketch and sparse sign `s = 8` with
//! `m = rows` on `--threads` threads (the SpMV always on one), the best wall time and the mean
//! process CPU time (from `/proc/self/stat`, 10 ms ticks: keep nnz · reps large) over `--reps`
//! runs. CPU time counts only this process's own work, so other load on the machine inflates it far
//! less than wall time. `--json`: `nnz, m, d, spmv_cpu_ns_per_nnz`, and
//! `<sketch>_<layout>_cpu_ns_per_nnz` for each run.
//!
//! Bad input → one line on stderr, exit code 2.

#[path = "cli/mod.rs"]
mod cli;

use faer::Par;
use randnla::sketch::{SketchExt, SparseSign};
use randnla::{problems, MatrixRef, SparseRef};
use std::time::Instant;

/// Refuses a size whose matrices will not fit: the CSR and CSC copies (16 bytes a stored entry
/// each) and the row pointers, the SpMV's `y` and a sketch output with its work copy. sprs's
/// `to_csc` and the generator abort on a failed allocation, so the check comes first: the total is
/// reserved once (refused under an address-space limit) and, on Linux, compared with
/// `MemAvailable` (an overcommitting kernel would grant it and kill the process later).
fn check_memory(nnz: usize, d: usize, m: usize) -> Result<(), String> {
    let n = (nnz / 25) as u128;
    let bytes = 32 * nnz as u128 + 24 * n + 8 * d as u128 + 16 * m as u128 * d as u128;
    let gb = |b: u128| b as f64 / 1e9;
    let refused = |avail: String| {
        format!(
            "--nnz {nnz} needs about {:.1} GB of memory, more than {avail}",
            gb(bytes)
        )
    };
    if let Some(avail) = available_bytes() {
        if bytes > avail {
            return Err(refused(format!("the {:.1} GB available", gb(avail))));
        }
    }
    let mut probe: Vec<u8> = Vec::new();
    match usize::try_from(bytes) {
        Ok(b) if probe.try_reserve_exact(b).is_ok() => Ok(()),
        _ => Err(refused("this process may allocate".into())),
    }
}

/// `MemAvailable` from `/proc/meminfo` in bytes (Linux), or `None` where unavailable.
fn available_bytes() -> Option<u128> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// This process's user + system CPU time in seconds (Linux), or `None` where unavailable.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Best wall seconds and mean CPU seconds (total over the runs, so the 10 ms tick of
/// `/proc/self/stat` is divided by `reps`) of `reps` runs of `f`.
fn best_of(reps: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<(f64, f64), String> {
    let mut wall = f64::INFINITY;
    let c0 = cpu_seconds();
    for _ in 0..reps {
        let t0 = Instant::now();
        f()?;
        wall = wall.min(t0.elapsed().as_secs_f64());
    }
    let cpu = match (c0, cpu_seconds()) {
        (Some(a), Some(b)) => (b - a) / reps as f64,
        _ => f64::NAN,
    };
    Ok((wall, cpu))
}

fn spmv(a: &SparseRef<'_, f64>, x: &[f64], y: &mut [f64]) {
    for (i, yi) in y.iter_mut().enumerate() {
        let (idx, val) = a.outer(i);
        *yi = idx.iter().zip(val).map(|(&c, &v)| v * x[c]).sum();
    }
}

fn main() {
    cli::run(|| {
        let args = cli::Args::parse_with_usage(
            "usage: sketch_cpu [--nnz N] [--rows M] [--cols D] [--reps R] [--threads T] \
             [--seed N] [--json]",
            &["nnz", "rows", "cols", "reps", "threads"],
            &[],
        )?;
        args.positionals(0, 0)?;
        let nnz: usize = args.get_or("nnz", 20_000_000)?;
        let m: usize = args.get_or("rows", 400)?;
        let d: usize = args.get_or("cols", 200)?;
        let reps: usize = args.get_or("reps", 20)?;
        let threads: usize = args.get_or("threads", 1)?;
        if nnz < 25 || d < 25 || reps == 0 || threads == 0 {
            return Err("need --nnz ≥ 25, --cols ≥ 25, --reps ≥ 1 and --threads ≥ 1".into());
        }
        // A measurement tool, not a stress test: bound what it allocates up front (the vector
        // x has --cols entries, the sketch --rows × --cols).
        if nnz > 1 << 31
            || d > 1 << 24
            || m.saturating_mul(d) > 1 << 28
            || reps > 1_000_000
            || threads > cli::MAX_THREADS
        {
            return Err(format!(
                "need --nnz ≤ 2^31, --cols ≤ 2^24, --rows·--cols ≤ 2^28, --reps ≤ 10^6 and \
                 --threads ≤ {}",
                cli::MAX_THREADS
            ));
        }
        check_memory(nnz, d, m)?;
        let par = if threads == 1 {
            Par::Seq
        } else {
            Par::rayon(threads)
        };
        let seed = args.seed()?;
        let n = nnz / 25;
        // Both sketches before anything is printed: a --rows they refuse (0, or below s = 8)
        // used to fail after the SpMV line, leaving half a report on stdout.
        let ops = [("count", 1), ("sparse_sign_s8", 8)]
            .into_iter()
            .map(|(name, s)| {
                SparseSign::new(m, n, s, seed.derive(1))
                    .map(|op| (name, op))
                    .map_err(|e| {
                        cli::option_error(e, &[("m", "--rows"), ("nnz_per_col", "--rows")])
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let csr = problems::random_sparse(n, d, 25, seed).map_err(|e| e.to_string())?;
        let csc = csr.to_csc();
        let nnz = csr.nnz();
        let (x, mut y) = (vec![1.0; d], vec![0.0; n]);
        let a_csr = MatrixRef::sparse(&csr).map_err(|e| e.to_string())?;
        let a_csc = MatrixRef::sparse(&csc).map_err(|e| e.to_string())?;
        let MatrixRef::Sparse(view) = a_csr else {
            return Err("expected a sparse view".into());
        };
        let per_nnz = |s: f64| s / nnz as f64 * 1e9;
        let (sp_wall, sp_cpu) = best_of(reps, || {
            spmv(&view, &x, &mut y);
            // `y` is never read afterwards: without this the compiler may drop the arithmetic.
            std::hint::black_box(&mut y);
            Ok(())
        })?;
        cli::outln!(
            "n = {n}, d = {d}, nnz = {nnz}, m = {m}, {threads} thread(s), {reps} runs each"
        );
        cli::outln!(
            "spmv (CSR)         wall {sp_wall:.4} s   cpu {sp_cpu:.3} s   {:.2} ns/nnz",
            per_nnz(sp_cpu)
        );
        let mut json = cli::Json::new()
            .int("nnz", nnz as u64)
            .int("m", m as u64)
            .int("d", d as u64)
            .num("spmv_cpu_ns_per_nnz", per_nnz(sp_cpu));
        for (name, op) in &ops {
            for (layout, a) in [("csr", a_csr), ("csc", a_csc)] {
                let (wall, cpu) = best_of(reps, || {
                    op.apply(a, par).map(|_| ()).map_err(|e| e.to_string())
                })?;
                cli::outln!(
                    "{name:<14} {layout} wall {wall:.4} s   cpu {cpu:.3} s   {:.2} ns/nnz   {:.2}× spmv (cpu)",
                    per_nnz(cpu),
                    cpu / sp_cpu
                );
                json = json.num(&format!("{name}_{layout}_cpu_ns_per_nnz"), per_nnz(cpu));
            }
        }
        if args.json() {
            json.print();
        }
        Ok(())
    })
}
