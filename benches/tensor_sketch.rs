//! TensorSketch benchmarks: what the time of the polynomial-kernel feature map depends on.
//!
//! - `ts_nnz/<nnz>`: `TensorSketch::apply_rows` (p = 3, m = 256) on sparse CSR `X` with 50
//!   nonzeros per row, n = 2000 … 32000 rows (nnz = 1e5 … 1.6e6). Read the log-log slope of
//!   time against nnz: it should be ≈ 1 (the cost is `p·(nnz + n·m log m)`, both ∝ n here).
//! - `ts_m/<m>`: 500 dense rows (d = 100, p = 3), m = 256 … 16384: time/(m·log₂ m) should be
//!   roughly flat.
//! - `explicit_vs_ts/<d>`: 16 dense rows, p = 3, m = 4096, d = 10 … 100: the explicit feature map
//!   (all `d³` products of each row, written out) against TensorSketch on the same rows. The
//!   crossover is the `d` where the two times meet; at d = 100 read the ratio explicit/TS
//!   (`python3 scripts/bench_report.py explicit_vs_ts --baseline tensorsketch`).
//!   `explicit` reuses one output buffer across iterations: the like-for-like baseline, since
//!   TensorSketch's own per-call output (16 × 4096, 512 KiB) is recycled warm by the allocator
//!   (≈ 3 page faults a call). `explicit_alloc` allocates its 128 MB output per call: the
//!   allocator returns it to the kernel each time, so every call takes ≈ 31 000 fresh page faults,
//!   about 90% of its time (80–90 ms against 7.7 ms for `explicit`, 2026-12-04): a cost of the
//!   allocation pattern, not of the feature map.
//! - `tree_vs_fft/<p>`: the tree sketch against the FFT TensorSketch at the same m = 1024 on 500
//!   dense rows (d = 100), p = 2, 4, 8 (`bench_report.py tree_vs_fft --baseline fft`: tree/FFT).
//!
//! `cargo bench --bench tensor_sketch` (full); `-- --test` runs the smallest size of each group.
mod common;

use common::test_mode;
use criterion::{BenchmarkId, Criterion, Throughput};
use faer::{Mat, Par};
use randnla::sketch::tensor::{clustered_rows, TensorSketch, TreeSketch};
use randnla::{problems, MatrixRef, Seed};
use std::hint::black_box;
use std::time::Duration;

/// The explicit degree-3 feature map: row i of the output is `x_i ⊗ x_i ⊗ x_i` (d³ entries).
fn explicit_cubed(x: &Mat<f64>, out: &mut [f64]) {
    let d = x.ncols();
    let row_len = d * d * d;
    for (i, dst) in out.chunks_mut(row_len).enumerate().take(x.nrows()) {
        let row: Vec<f64> = (0..d).map(|j| x[(i, j)]).collect();
        for (a, block) in dst.chunks_mut(d * d).enumerate() {
            for (b, line) in block.chunks_mut(d).enumerate() {
                let ab = row[a] * row[b];
                for (o, &c) in line.iter_mut().zip(&row) {
                    *o = ab * c;
                }
            }
        }
    }
}

fn main() {
    let quick = test_mode();
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    let par = Par::Seq;

    let mut g = c.benchmark_group("ts_nnz");
    let ns: &[usize] = if quick { &[2000] } else { &[2000, 8000, 32000] };
    for &n in ns {
        let x = problems::random_sparse(n, 10_000, 50, Seed::new(1)).expect("data");
        let view = MatrixRef::sparse(&x).expect("view");
        let ts = TensorSketch::new(3, 10_000, 256, Seed::new(2)).expect("sketch");
        g.throughput(Throughput::Elements(x.nnz() as u64));
        g.bench_function(BenchmarkId::from_parameter(x.nnz()), |b| {
            b.iter(|| black_box(ts.apply_rows(view, par).expect("apply")))
        });
    }
    g.finish();

    let x = clustered_rows(500, 100, 8, 0.3, Seed::new(3)).expect("data");
    let view = MatrixRef::dense(x.as_ref()).expect("view");
    let mut g = c.benchmark_group("ts_m");
    let ms: &[usize] = if quick {
        &[256]
    } else {
        &[256, 1024, 4096, 16384]
    };
    for &m in ms {
        let ts = TensorSketch::new(3, 100, m, Seed::new(4)).expect("sketch");
        g.bench_function(BenchmarkId::from_parameter(m), |b| {
            b.iter(|| black_box(ts.apply_rows(view, par).expect("apply")))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("explicit_vs_ts");
    let ds: &[usize] = if quick { &[10] } else { &[10, 20, 40, 100] };
    for &d in ds {
        let x = clustered_rows(16, d, 8, 0.3, Seed::new(5)).expect("data");
        let view = MatrixRef::dense(x.as_ref()).expect("view");
        let ts = TensorSketch::new(3, d, 4096, Seed::new(6)).expect("sketch");
        g.bench_function(BenchmarkId::new("tensorsketch", d), |b| {
            b.iter(|| black_box(ts.apply_rows(view, par).expect("apply")))
        });
        // Two explicit variants: `explicit` writes into one buffer reused across iterations (the
        // pages are mapped and warm, as `apply_rows`'s recycled 512 KiB output is),
        // `explicit_alloc` allocates its output on every call (a fresh 128 MB at d = 100, above
        // glibc's largest mmap threshold: ≈ 31 000 page faults and zeroing per call).
        let mut out = vec![0.0f64; 16 * d * d * d];
        g.bench_function(BenchmarkId::new("explicit", d), |b| {
            b.iter(|| {
                explicit_cubed(&x, &mut out);
                black_box(&out);
            })
        });
        g.bench_function(BenchmarkId::new("explicit_alloc", d), |b| {
            b.iter(|| {
                let mut out = vec![0.0f64; 16 * d * d * d];
                explicit_cubed(&x, &mut out);
                black_box(out)
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("tree_vs_fft");
    let ps: &[usize] = if quick { &[2] } else { &[2, 4, 8] };
    for &p in ps {
        let ts = TensorSketch::new(p, 100, 1024, Seed::new(7)).expect("sketch");
        let tree = TreeSketch::new(p, 100, 1024, Seed::new(7)).expect("sketch");
        g.bench_function(BenchmarkId::new("fft", p), |b| {
            b.iter(|| black_box(ts.apply_rows(view, par).expect("apply")))
        });
        g.bench_function(BenchmarkId::new("tree", p), |b| {
            b.iter(|| black_box(tree.apply_rows(view, par).expect("apply")))
        });
    }
    g.finish();
    c.final_summary();
}
