//! Polynomial attention against sequence length n: sketched (PolySketch, linear in n) beside
//! exact blocked degree-4 attention (quadratic in n), h = d = 64, p = 4, f64, block b = 256.
//!
//! What is measured (criterion medians, group `attention`):
//! * `sketch_r32/n`, `sketch_r64/n` — non-causal sketched attention, Gaussian φ, r = 32 / 64
//!   (528 / 2080 self-tensored features), n = 1024 … 65536;
//! * `sketch_causal_r32/n` — causal sketched attention (block products + streamed prefix state);
//! * `sketch_ts_r64/n` — non-causal with the TensorSketch φ;
//! * `exact/n`, `exact_causal/n` — exact blocked attention, under criterion for n ≤ 4096 only.
//!   At n = 16384 and 65536 exact attention costs 7·10¹⁰ and 1.1·10¹² flops, so it is timed by a
//!   **single run** (wall clock, printed to stderr as `exact single run`), not by criterion.
//!
//! Beside the times, stderr gets the relative Frobenius error of the sketched output against the
//! exact one on clustered inputs (`clustered_qkv`: 16 centres, noise 0.3, scale 1.5) — the inputs
//! that are timed — and on iid Gaussian Q, K (where the error is ≈ 1 or more: the kernel values
//! are tiny next to the norms; see the module docs), and the exact/sketched ratio with the
//! crossover length.
//!
//! How to read it: the log-log slope of `sketch_*` between n = 1024 and 65536 should be ≈ 1,
//! that of exact ≈ 2; `python3 scripts/bench_report.py attention` prints medians and slopes.
//!
//! ```text
//! cargo bench --bench attention            # full sweep (≈ 15 min on 2 loaded cores)
//! cargo bench --bench attention -- --test  # smoke test: n = 1024 only
//! ```
//!
//! Measured (2 cores shared with other jobs, load average 11–18; medians from
//! `scripts/bench_report.py attention`; exact at n ≥ 16384 is one run):
//!
//! | n | exact | sketch r=32 | sketch r=64 | causal r=32 | TS r=64 | clustered error r=32 / r=64 / TS r=64 | iid error r=32 / r=64 |
//! |---|---|---|---|---|---|---|---|
//! | 1024 | 40 ms | 13 ms | 116 ms | 23 ms | 80 ms | 0.45 / 0.32 / 0.34 | 1.06 / 1.02 |
//! | 4096 | 2.5 s | 0.38 s | 1.6 s | 0.62 s | 1.15 s | 0.47 / 0.32 / 0.36 | 1.07 / 1.03 |
//! | 16384 | 29 s | 1.13 s | 2.6 s | 1.25 s | 5.8 s | 0.52 / 0.35 / 0.29 | 1.07 / 1.03 |
//! | 65536 | 583 s | 5.6 s | 15.2 s | 2.5 s | 13.7 s | 0.49 / 0.34 / 0.28 | — |
//!
//! Crossover below n = 1024 (r = 32), ≈ 2300 (r = 64); exact/sketch = 26× / 11× at 16384 and
//! 103× / 38× at 65536 (r = 32 / 64). Slopes: sketched 1.07–1.39, exact 2.16 (16384 → 65536).

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

fn par() -> Par {
    let t = rayon::current_num_threads();
    if t <= 1 {
        Par::Seq
    } else {
        Par::rayon(t)
    }
}

fn sketch(r: usize, map: FeatureMap, causal: bool) -> PolySketchParams {
    PolySketchParams {
        degree: P,
        sketch_dim: r,
        map,
        causal,
        block: BLOCK,
        seed: Seed::new(0x6A),
        check: false,
    }
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
    let (out, info) = poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), s, par).unwrap();
    (out, info.seconds)
}

fn bench_attention(c: &mut Criterion) {
    let quick = std::env::args().any(|a| a == "--test");
    let sizes: &[usize] = if quick {
        &[1024]
    } else {
        &[1024, 4096, 16384, 65536]
    };
    let par = par();
    let mut group = c.benchmark_group("attention");
    group.sample_size(10);
    for &n in sizes {
        let (q, k, v) = clustered_qkv(n, H, 16, 0.3, 1.5, Seed::new(n as u64)).unwrap();
        group.throughput(Throughput::Elements(n as u64));
        group.measurement_time(Duration::from_secs(if n >= 16384 { 20 } else { 5 }));

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
            }
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
            }
            eprintln!("{line}");
        }

        for (name, r, map, causal) in [
            ("sketch_r32", 32, FeatureMap::Gaussian, false),
            ("sketch_r64", 64, FeatureMap::Gaussian, false),
            ("sketch_causal_r32", 32, FeatureMap::Gaussian, true),
            ("sketch_ts_r64", 64, FeatureMap::TensorSketch, false),
        ] {
            let s = sketch(r, map, causal);
            group.bench_with_input(BenchmarkId::new(name, n), &s, |b, s| {
                b.iter(|| {
                    poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), s, par).unwrap()
                })
            });
        }
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
