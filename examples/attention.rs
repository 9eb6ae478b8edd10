//! Attention over Matrix Market queries, keys and values: exact softmax, exact polynomial or
//! sketched polynomial (PolySketch) attention.
//!
//! ```text
//! cargo run --release --example attention -- Q.mtx K.mtx V.mtx
//!     [--kind softmax|poly-exact|poly-sketch] [--degree P] [--sketch-dim R]
//!     [--map gaussian|tensorsketch|identity] [--causal] [--block B] [--scale S] [--f32]
//!     [--out O.mtx] [--check] [--max-elements N] [--seed N] [--threads N] [--json]
//! ```
//!
//! * `Q` is `n × h`, `K` is `m × h`, `V` is `m × d` (dense Matrix Market arrays; coordinate files
//!   are densified); causal attention needs `m = n`.
//! * `--kind poly-sketch` (default): degree-`P` attention (default 4, even) through self-tensored
//!   random features of dimension `R` (default 32), in time linear in `n`; `poly-exact`: the
//!   exact degree-`P` attention in row blocks; `softmax`: exact softmax attention with scores
//!   scaled by `S` (default `1/√h`).
//! * `--block B`: block size (default 256). `--f32`: compute in single precision.
//! * `--check` (poly-sketch, `n ≤ 16384`): relative Frobenius error against exact degree-`P`
//!   attention.
//! * `--out`: the `n × d` output as a Matrix Market array.
//! * An option that does not apply to the kind (`--sketch-dim`, `--map`, `--check`, `--seed`
//!   outside poly-sketch, `--degree` with softmax, `--scale` with the polynomial kinds) is an
//!   error, as are `--sketch-dim` and `--seed` with `--map identity` (exact, `r = h^{P/2}`).
//! * `--max-elements N`: the reader's size limit for each input (default 2²⁸, counting
//!   `nrows·ncols`, as every input is read dense); raise it for larger files.
//! * `--json`: one line with `kind, n, h, degree, r, causal, seconds, peak_bytes, rel_error`
//!   (plus `map`, `block`, `precision`, `workspace_bytes`). `peak_bytes` is the peak heap, counted
//!   by this program's allocator, allocated during the attention call beyond what was live before
//!   it (the output included, the inputs not, nor the exact reference `--check` computes after
//!   it; faer's per-thread GEMM buffers, allocated once on
//!   first use, are taken out by a warm-up call on the first `2b` rows; with more than one thread
//!   a worker that ran no GEMM in the warm-up allocates its buffers in the measured call, so
//!   `peak_bytes` can vary between runs there — use `--threads 1` for a reproducible figure);
//!   `r` and `workspace_bytes` are `null` and `map` is `none` for kinds other than
//!   poly-sketch, and `degree` is `null` for softmax.
//!
//! Bad input (missing file, malformed Matrix Market, shapes that do not match, NaN, odd degree)
//! → one line on stderr, exit code 2.

#[path = "cli/mod.rs"]
mod cli;

use faer::{Mat, MatRef, Par};
use randnla::attention::{
    exact_attention, poly_sketch_attention, relative_error, ExactParams, FeatureMap, Kernel,
    PolySketchParams, CHECK_MAX_N,
};
use randnla::io::write_dense_path;
use randnla::Scalar;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The library's names of the parameters these options set, for error messages.
const FLAGS: &[(&str, &str)] = &[
    ("degree", "--degree"),
    ("sketch_dim", "--sketch-dim"),
    ("block", "--block"),
    ("scale", "--scale"),
];

/// Counts live heap bytes and their peak, to report `peak_bytes`.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

struct Run {
    out: Mat<f64>,
    seconds: f64,
    rel_error: Option<f64>,
    r: Option<usize>,
    workspace: Option<usize>,
}

/// `m` in `T`; an entry beyond `T`'s range (a finite `f64` that rounds to ±∞ in `f32`) is an
/// error naming it, rather than an infinity reported later as non-finite input.
fn cast<T: Scalar>(m: &Mat<f64>, name: &str) -> Result<Mat<T>, String> {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            let x = m[(i, j)];
            if !T::from_f64(x).to_f64().is_finite() {
                return Err(format!(
                    "{name}[{}, {}] = {x:e} is beyond the range of {}; drop --f32",
                    i + 1,
                    j + 1,
                    std::any::type_name::<T>()
                ));
            }
        }
    }
    Ok(Mat::from_fn(m.nrows(), m.ncols(), |i, j| {
        T::from_f64(m[(i, j)])
    }))
}

#[allow(clippy::too_many_arguments)]
fn run<T: Scalar>(
    q: &Mat<f64>,
    k: &Mat<f64>,
    v: &Mat<f64>,
    kind: &str,
    kernel: Kernel,
    sketch: &PolySketchParams,
    par: Par,
) -> Result<(Run, usize), String> {
    let (q, k, v) = (cast::<T>(q, "Q")?, cast::<T>(k, "K")?, cast::<T>(v, "V")?);
    let (q, k, v): (MatRef<'_, T>, MatRef<'_, T>, MatRef<'_, T>) =
        (q.as_ref(), k.as_ref(), v.as_ref());
    // Warm-up on a few rows: faer's GEMM allocates per-thread packing buffers (tens of MiB) on
    // first use; they are not the algorithm's memory and are kept out of `peak_bytes`.
    // Saturating: `--block` is the user's number (2⁶³ overflowed `2·b` and panicked in debug
    // builds before the library could refuse it).
    let two_blocks = sketch.block.max(1).saturating_mul(2);
    let w = q.nrows().min(two_blocks);
    let wk = k.nrows().min(if sketch.causal { w } else { two_blocks });
    let warm = PolySketchParams {
        check: false,
        ..*sketch
    };
    // Shapes are checked by the calls themselves: a V shorter than K gets its error there, and
    // the warm-up (whose errors are ignored) must not index past V's rows first.
    let wk = wk.min(v.nrows());
    let (qw, kw, vw) = (q.subrows(0, w), k.subrows(0, wk), v.subrows(0, wk));
    // Only the kind measured: an exact warm-up for a poly-sketch run cost (2b)² kernel entries
    // (16384² with `--block 8192`) for nothing.
    if kind == "poly-sketch" {
        let _ = poly_sketch_attention(qw, kw, vw, &warm, par);
    } else {
        let _ = exact_attention(
            qw,
            kw,
            vw,
            kernel,
            &ExactParams {
                causal: sketch.causal,
                block: sketch.block,
            },
            par,
        );
    }
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    // Read as soon as the call returns: the f64 copy of the output made for printing is this
    // program's, not the algorithm's (it doubled the figure).
    let peak_now = || PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let (result, peak) = if kind == "poly-sketch" {
        // The check runs after the peak is read: its exact reference (another n × d output and
        // its blocks) is not the sketched algorithm's memory, and raised `peak_bytes` by a fifth
        // at n = 8192, d = 64. It is the library's own check (`PolySketchParams::check`):
        // exact attention with block 256, then `relative_error`.
        let unchecked = PolySketchParams {
            check: false,
            ..*sketch
        };
        let (out, info) = poly_sketch_attention(q, k, v, &unchecked, par)
            .map_err(|e| cli::option_error(e, FLAGS))?;
        let peak = peak_now();
        let rel_error = if sketch.check {
            let exact = exact_attention(
                q,
                k,
                v,
                Kernel::Polynomial {
                    degree: sketch.degree,
                },
                &ExactParams {
                    causal: sketch.causal,
                    block: 256,
                },
                par,
            )
            .map_err(|e| e.to_string())?;
            Some(relative_error(out.as_ref(), exact.as_ref()).map_err(|e| e.to_string())?)
        } else {
            None
        };
        let run = Run {
            out: cast_back(out.as_ref()),
            seconds: info.seconds,
            rel_error,
            r: Some(info.sketch_dim),
            workspace: Some(info.workspace_bytes),
        };
        (run, peak)
    } else {
        let params = ExactParams {
            causal: sketch.causal,
            block: sketch.block,
        };
        let out = exact_attention(q, k, v, kernel, &params, par)
            .map_err(|e| cli::option_error(e, FLAGS))?;
        let seconds = t.elapsed().as_secs_f64();
        let peak = peak_now();
        let run = Run {
            out: cast_back(out.as_ref()),
            seconds,
            rel_error: None,
            r: None,
            workspace: None,
        };
        (run, peak)
    };
    Ok((result, peak))
}

fn cast_back<T: Scalar>(m: MatRef<'_, T>) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].to_f64())
}

const USAGE: &str = "usage: attention Q.mtx K.mtx V.mtx [--kind softmax|poly-exact|poly-sketch] \
     [--degree P] [--sketch-dim R] [--map gaussian|tensorsketch|identity] [--causal] \
     [--block B] [--scale S] [--f32] [--out O.mtx] [--check] [--max-elements N] \
     [--seed N] [--threads N] [--json]";

fn main() {
    cli::run(|| {
        let args = cli::Args::parse_with_usage(
            USAGE,
            &[
                "kind",
                "degree",
                "sketch-dim",
                "map",
                "block",
                "scale",
                "out",
                cli::MAX_ELEMENTS,
            ],
            &["causal", "check", "f32"],
        )?;
        let [qp, kp, vp] = args.positionals(3, 3)? else {
            return Err(args.usage());
        };
        let kind: String = args.get_or("kind", "poly-sketch".to_string())?;
        if !["softmax", "poly-exact", "poly-sketch"].contains(&kind.as_str()) {
            return Err(format!(
                "--kind {kind}: expected softmax, poly-exact or poly-sketch"
            ));
        }
        // An option that does not apply to the kind is an error, not silently ignored.
        let applies = |name: &str| match name {
            "sketch-dim" | "map" | "check" => kind == "poly-sketch",
            "degree" => kind != "softmax",
            _ => kind == "softmax", // scale
        };
        for name in ["sketch-dim", "map", "degree", "scale"] {
            if args.get::<String>(name)?.is_some() && !applies(name) {
                return Err(format!("--{name} does not apply to --kind {kind}"));
            }
        }
        if args.flag("check") && !applies("check") {
            return Err(format!("--check does not apply to --kind {kind}"));
        }
        // Nothing is random outside poly-sketch, and the identity map is neither random nor
        // of a chosen dimension (h^{P/2}).
        if args.get::<String>("seed")?.is_some() && kind != "poly-sketch" {
            return Err(format!("--seed does not apply to --kind {kind}"));
        }
        let map: FeatureMap = args.get_or("map", FeatureMap::Gaussian)?;
        if map == FeatureMap::Identity {
            for name in ["sketch-dim", "seed"] {
                if args.get::<String>(name)?.is_some() {
                    return Err(format!("--{name} does not apply to --map identity"));
                }
            }
        }
        let degree: usize = args.get_or("degree", 4)?;
        let causal = args.flag("causal");
        let check = args.flag("check");
        let seed = args.seed()?;
        let (pool, par) = args.threads()?;
        let (q, k, v) = (
            args.read_dense(qp)?,
            args.read_dense(kp)?,
            args.read_dense(vp)?,
        );
        let (n, h) = (q.nrows(), q.ncols());
        let scale: f64 = args.get_or("scale", 1.0 / (h.max(1) as f64).sqrt())?;
        let kernel = if kind == "softmax" {
            Kernel::Softmax { scale }
        } else {
            Kernel::Polynomial { degree }
        };
        let sketch = PolySketchParams {
            degree,
            sketch_dim: args.get_or("sketch-dim", 32)?,
            map,
            causal,
            block: args.get_or("block", 256)?,
            seed,
            check: check && kind == "poly-sketch" && n <= CHECK_MAX_N,
        };
        if check && kind == "poly-sketch" && n > CHECK_MAX_N {
            eprintln!("note: --check is skipped for n = {n} > {CHECK_MAX_N}");
        }
        let f32 = args.flag("f32");
        let (res, peak) = pool.install(|| {
            if f32 {
                run::<f32>(&q, &k, &v, &kind, kernel, &sketch, par)
            } else {
                run::<f64>(&q, &k, &v, &kind, kernel, &sketch, par)
            }
        })?;
        if let Some(out) = args.get::<String>("out")? {
            write_dense_path(&out, res.out.as_ref()).map_err(|e| cli::file_error(&out, e))?;
        }
        let precision = if f32 { "f32" } else { "f64" };
        let map_name = map.name();
        if args.json() {
            let mut j = cli::Json::new()
                .str("kind", &kind)
                .int("n", n as u64)
                .int("h", h as u64);
            j = if kind == "softmax" {
                j.null("degree")
            } else {
                j.int("degree", degree as u64)
            };
            j.opt("r", res.r.map(|r| r as f64))
                .bool("causal", causal)
                .num("seconds", res.seconds)
                .int("peak_bytes", peak as u64)
                .opt("rel_error", res.rel_error)
                .str(
                    "map",
                    if kind == "poly-sketch" {
                        map_name
                    } else {
                        "none"
                    },
                )
                .int("block", sketch.block as u64)
                .str("precision", precision)
                .opt("workspace_bytes", res.workspace.map(|w| w as f64))
                .print();
        } else {
            let fmt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3e}"));
            cli::table(
                &[
                    "kind", "n", "h", "d", "degree", "r", "causal", "seconds", "peak MB", "rel err",
                ],
                &[vec![
                    kind.clone(),
                    n.to_string(),
                    h.to_string(),
                    v.ncols().to_string(),
                    if kind == "softmax" {
                        "-".into()
                    } else {
                        degree.to_string()
                    },
                    res.r.map_or("-".into(), |r| r.to_string()),
                    causal.to_string(),
                    format!("{:.3}", res.seconds),
                    format!("{:.1}", peak as f64 / 1e6),
                    fmt(res.rel_error),
                ]],
            );
        }
        Ok(())
    })
}
