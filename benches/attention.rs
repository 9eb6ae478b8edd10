//! Polynomial attention against sequence length n: sketched (PolySketch, linear in n) beside
//! exact blocked degree-4 attention (quadratic in n), h = d = 64, p = 4, f64, block b = 256.
//!
//! What is measured (criterion medians, group `attention`):
//! * `sketch_r32/n`, `sketch_r64/n` — non-causal sketched attention, Gaussian φ, r = 32 / 64
//!   (528 / 2080 self-tensored features), n = 1024 … 65536;
//! * `sketch_causal_r32/n` (block b = 256), `sketch_causal_r32_b512/n`,
//!   `sketch_causal_r32_b1024/n`, `sketch_causal_r64/n` — causal sketched attention (block
//!   products + streamed prefix state) for the block sizes of ALGORITHMS.md §6;
//! * `sketch_ts_r64/n` — non-causal with the TensorSketch φ;
//! * `sketch_r32_f32/n` — the r = 32 sketch on the same inputs rounded to f32;
//! * `exact/n`, `exact_causal/n` — exact blocked attention, under criterion for n ≤ 4096 only.
//!   At n = 16384 and 65536 exact attention costs 7·10¹⁰ and 1.1·10¹² flops, so it is timed by a
//!   **single run** (wall clock, printed to stderr as `exact single run`), not by criterion;
//!   exact causal likewise at n = 16384 (`exact causal single run`), beside one run of the
//!   causal sketch at each block size.
//!
//! Beside the times, stderr gets the relative Frobenius error of each sketched variant's output
//! against the exact one on clustered inputs (`clustered_qkv`: 16 centres, noise 0.3, scale 1.5)
//! — the inputs that are timed; the causal variants against exact causal attention at
//! n ≤ 16384, the f32 one against the f64 exact output — and on iid Gaussian Q, K (where the
//! error is ≈ 1 or more: the kernel values are tiny next to the norms; see the module docs), and
//! the exact/sketched ratio of single runs. The bench stops if a non-causal f64 variant's
//! clustered error reaches 0.8 (measured 0.3–0.55; the zero output has error 1).
//!
//! How to read it: the log-log slope of `sketch_*` between n = 1024 and 65536 should be ≈ 1,
//! that of exact ≈ 2; `python3 scripts/bench_report.py attention` prints medians and slopes.
//!
//! ```text
//! cargo bench --bench attention            # full sweep (≈ 13 min on a quiet 2-core machine)
//! cargo bench --bench attention -- --test  # smoke test: n = 1024 only
//! ```
//!
//! Measured on a quiet machine (2-core AMD EPYC VM, load average ≈ 2 from the bench itself,
//! 2026-11-30, 2 threads; medians from `scripts/bench_report.py attention`; exact at n ≥ 16384
//! is one run):
//!
//! | n | exact | sketch r=32 | sketch r=64 | causal r=32 b=256 / 512 / 1024 | causal r=64 | TS r=64 | r=32 f32 |
//! |---|---|---|---|---|---|---|---|
//! | 1024 | 10.2 ms | 5.8 ms | 16 ms | 6.0 / 6.6 / 5.2 ms | 15.5 ms | 18 ms | 3.0 ms |
//! | 4096 | 135 ms | 22 ms | 71 ms | 29 / 36 / 39 ms | 76 ms | 70 ms | 13.8 ms |
//! | 16384 | 2.91 s | 97 ms | 264 ms | 116 / 133 / 151 ms | 281 ms | 298 ms | 58 ms |
//! | 65536 | 40.1 s | 417 ms | 1.14 s | 502 / 594 / 681 ms | 1.34 s | 1.37 s | 242 ms |
//! | slope | 2.01 (1.86 from 1024 to 4096) | 1.03 | 1.02 | 1.06 / 1.07 / 1.15 | 1.06 | 1.04 | 1.05 |
//!
//! Relative error on clustered inputs (same for every block size: b changes only the order of
//! the sums): r = 32 0.45–0.52, r = 64 0.32–0.35, TS r = 64 0.28–0.36, causal r = 32 0.48–0.54;
//! on iid Gaussian Q, K 1.02–1.07 at every n ≤ 16384.
//!
//! Ratios: exact/sketch = 30× (r = 32) and 11× (r = 64) at n = 16384, **96× and 35× at
//! n = 65536** (goal ≥ 20×); exact causal (1.26 s at n = 16384) / causal sketch = 10.8×, 9.4×,
//! 8.3× for b = 256, 512, 1024 (the in-block work, n·b·(r + h), grows with b). Crossover: below
//! n = 1024 for r = 32, ≈ 1800 for r = 64 (log-log interpolation between 1024 and 4096). The
//! exact slope is 1.86 between 1024 and 4096 and 1.89 between the single runs at 16384 and 65536.

mod common;

use common::{par, skip_in, test_mode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faer::{Mat, Par};
use randnla::attention::{
    clustered_qkv, exact_attention, poly_sketch_attention, relative_error, ExactParams, FeatureMap,
    Kernel, PolySketchParams,
};
use randnla::{problems, Seed};
use std::time::{Duration, Instant};

const H: usize = 64;
const P: usize = 4;
const BLOCK: usize = 256;
/// Largest n at which exact attention runs under criterion.
const CRITERION_EXACT_MAX: usize = 4096;

fn sketch(r: usize, map: FeatureMap, causal: bool) -> PolySketchParams {
    sketch_b(r, map, causal, BLOCK)
}

fn sketch_b(r: usize, map: FeatureMap, causal: bool, block: usize) -> PolySketchParams {
    PolySketchParams {
        degree: P,
        sketch_dim: r,
        map,
        causal,
        block,
        seed: Seed::new(0x6A),
        check: false,
    }
}

fn to_f32(a: &Mat<f64>) -> Mat<f32> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] as f32)
}

fn exact(q: &Mat<f64>, k: &Mat<f64>, v: &Mat<f64>, causal: bool, par: Par) -> Mat<f64> {
    exact_attention(
        q.as_ref(),
        k.as_ref(),
        v.as_ref(),
        Kernel::Polynomial { degree: P },
        &ExactParams {
            causal,
            block: BLOCK,
        },
        par,
    )
    .unwrap()
}

fn sketched(
    q: &Mat<f64>,
    k: &Mat<f64>,
    v: &Mat<f64>,
    s: &PolySketchParams,
    par: Par,
) -> (Mat<f64>, f64) {
    // Wall clock around the whole call, as for the exact side (`info.seconds` starts after the
    // feature map is built and the inputs are checked).
    let t = Instant::now();
    let (out, _) = poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), s, par).unwrap();
    (out, t.elapsed().as_secs_f64())
}

/// The sketched variants under criterion: name, r, φ, causal, block.
const SKETCHES: [(&str, usize, FeatureMap, bool, usize); 7] = [
    ("sketch_r32", 32, FeatureMap::Gaussian, false, BLOCK),
    ("sketch_r64", 64, FeatureMap::Gaussian, false, BLOCK),
    ("sketch_causal_r32", 32, FeatureMap::Gaussian, true, BLOCK),
    (
        "sketch_causal_r32_b512",
        32,
        FeatureMap::Gaussian,
        true,
        512,
    ),
    (
        "sketch_causal_r32_b1024",
        32,
        FeatureMap::Gaussian,
        true,
        1024,
    ),
    ("sketch_causal_r64", 64, FeatureMap::Gaussian, true, BLOCK),
    ("sketch_ts_r64", 64, FeatureMap::TensorSketch, false, BLOCK),
];

fn bench_attention(c: &mut Criterion) {
    let quick = test_mode();
    let sizes: &[usize] = if quick {
        &[1024]
    } else {
        &[1024, 4096, 16384, 65536]
    };
    let par = par();
    let mut group = c.benchmark_group("attention");
    group.sample_size(10);
    for &n in sizes {
        let exact_ids: &[&str] = if n <= CRITERION_EXACT_MAX {
            &["exact", "exact_causal"]
        } else {
            &[]
        };
        let ids: Vec<String> = (SKETCHES.iter().map(|s| s.0))
            .chain(["sketch_r32_f32"])
            .chain(exact_ids.iter().copied())
            .map(|f| format!("{f}/{n}"))
            .collect();
        if skip_in(&mut group, "attention", &ids) {
            continue;
        }
        let (q, k, v) = clustered_qkv(n, H, 16, 0.3, 1.5, Seed::new(n as u64)).unwrap();
        group.throughput(Throughput::Elements(n as u64));
        group.measurement_time(Duration::from_secs(if n >= 16384 { 20 } else { 5 }));
        // f32 inputs (attention data usually is), for the r = 32 sketch timed below.
        let (q32, k32, v32) = (to_f32(&q), to_f32(&k), to_f32(&v));

        // Errors beside the times (and, from n = 16384, the single-run exact timing).
        if !quick || n <= 1024 {
            let t = Instant::now();
            let ex = exact(&q, &k, &v, false, par);
            let exact_secs = t.elapsed().as_secs_f64();
            let mut line = format!("n = {n}: exact single run {exact_secs:.3} s;");
            for (name, s) in [
                ("r=32", sketch(32, FeatureMap::Gaussian, false)),
                ("r=64", sketch(64, FeatureMap::Gaussian, false)),
                ("ts r=64", sketch(64, FeatureMap::TensorSketch, false)),
            ] {
                let (out, secs) = sketched(&q, &k, &v, &s, par);
                let err = relative_error(out.as_ref(), ex.as_ref()).unwrap();
                line += &format!(
                    " {name}: {secs:.3} s (×{:.1} faster), clustered error {err:.3};",
                    exact_secs / secs
                );
                // The speed-up means something only for an output closer to the exact one than
                // the zero matrix (error 1): measured 0.3–0.55 on these clustered inputs.
                assert!(
                    err < 0.8,
                    "n = {n}, {name}: clustered error {err:.3}; {line}"
                );
            }
            // The f32 variant's error against the f64 exact output (its own rounding included).
            let s32 = sketch(32, FeatureMap::Gaussian, false);
            let (out32, _) =
                poly_sketch_attention(q32.as_ref(), k32.as_ref(), v32.as_ref(), &s32, par).unwrap();
            let out32 = Mat::from_fn(out32.nrows(), out32.ncols(), |i, j| out32[(i, j)] as f64);
            let err = relative_error(out32.as_ref(), ex.as_ref()).unwrap();
            line += &format!(" r=32 f32: clustered error {err:.3};");
            if n <= 16384 {
                let qi = problems::gaussian_matrix(n, H, Seed::new(1)).unwrap();
                let ki = problems::gaussian_matrix(n, H, Seed::new(2)).unwrap();
                let exi = exact(&qi, &ki, &v, false, par);
                for r in [32, 64] {
                    let (out, _) =
                        sketched(&qi, &ki, &v, &sketch(r, FeatureMap::Gaussian, false), par);
                    let err = relative_error(out.as_ref(), exi.as_ref()).unwrap();
                    line += &format!(" iid error r={r}: {err:.3};");
                }
                // Causal: exact causal attention (one run at n = 16384) against the block sizes.
                let t = Instant::now();
                let exc = exact(&q, &k, &v, true, par);
                let exc_secs = t.elapsed().as_secs_f64();
                line += &format!(" exact causal single run {exc_secs:.3} s;");
                for b in [256, 512, 1024] {
                    let s = sketch_b(32, FeatureMap::Gaussian, true, b);
                    let (out, secs) = sketched(&q, &k, &v, &s, par);
                    let err = relative_error(out.as_ref(), exc.as_ref()).unwrap();
                    line += &format!(
                        " causal r=32 b={b}: {secs:.3} s (×{:.1}), error {err:.3};",
                        exc_secs / secs
                    );
                }
                let (out, secs) =
                    sketched(&q, &k, &v, &sketch(64, FeatureMap::Gaussian, true), par);
                let err = relative_error(out.as_ref(), exc.as_ref()).unwrap();
                line += &format!(
                    " causal r=64: {secs:.3} s (×{:.1}), error {err:.3};",
                    exc_secs / secs
                );
            }
            eprintln!("{line}");
        }

        for (name, r, map, causal, block) in SKETCHES {
            let s = sketch_b(r, map, causal, block);
            group.bench_with_input(BenchmarkId::new(name, n), &s, |b, s| {
                b.iter(|| {
                    poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), s, par).unwrap()
                })
            });
        }
        // f32 inputs: the same r = 32 sketch.
        let s = sketch(32, FeatureMap::Gaussian, false);
        group.bench_with_input(BenchmarkId::new("sketch_r32_f32", n), &s, |b, s| {
            b.iter(|| {
                poly_sketch_attention(q32.as_ref(), k32.as_ref(), v32.as_ref(), s, par).unwrap()
            })
        });
        if n <= CRITERION_EXACT_MAX {
            group.bench_with_input(BenchmarkId::new("exact", n), &n, |b, _| {
                b.iter(|| exact(&q, &k, &v, false, par))
            });
            group.bench_with_input(BenchmarkId::new("exact_causal", n), &n, |b, _| {
                b.iter(|| exact(&q, &k, &v, true, par))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_attention);
criterion_main!(benches);
