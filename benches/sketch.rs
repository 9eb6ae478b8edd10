//! Sketch core benchmarks (ALGORITHMS.md §1–2 benchmark protocol).
//!
//! * `sparse_csr/*`, `sparse_csc/*`: time of `S·A` for CountSketch (`s = 1`) and sparse sign
//!   (`s ∈ {2, 4, 8}`), `m = 400`, on a random `n × 200` matrix with 25 nonzeros per row, nnz from
//!   1e5 to 5e7. Each group also times `spmv`, one sparse matrix–vector product `A·x` over the same
//!   matrix — the practical floor. Read the log-log slope of time against nnz (ideal 1.0) and the
//!   ratio sketch/spmv at each size: `python3 scripts/bench_report.py sparse_csr sparse_csc`.
//!   `spmv` runs on one thread, so that ratio compares like with like for the `_t1` rows only
//!   (the script prints it for every row): read a `_t2` row against its `_t1` row.
//!   `stream_t1`/`stream_t2` sum the matrix's index and value arrays in 1 or 2 chunks on the
//!   rayon pool: the memory-bandwidth control for the `_t1`/`_t2` (1 vs 2 threads) sketch pairs.
//! * `count_small/*`: CountSketch (`m = 400`) on CSR inputs with 25 nonzeros per row and 0.3 to
//!   3.75 stored entries per output entry (nnz 2.5e4 … 3e5 into the 400 × 200 output), beside
//!   `spmv`: around the size below which CountSketch adds straight into the output's columns
//!   (2 per output entry) instead of filling a row-major work copy.
//! * `dense/*`: Gaussian and SRHT (`m = 128`) on dense `n × 64` matrices beside `gemm`, a faer GEMM
//!   with the materialized Gaussian sketch (the cost if `S` were stored), and the sparse
//!   families (`count`, `sparse_sign_s8`) on the same dense input: where the dense baselines lose.
//! * `families_csr/*`: every family on the same CSR input (`n × 200`, 25 nonzeros a row,
//!   nnz 1e5 and 1e6, `m = 400`, one thread) beside `spmv`: the price of a dense sketch
//!   (Gaussian `O(m·nnz)`, SRHT `O(n·d·log n)` on the densified rows) against the sparse ones.
//!
//! `cargo bench --bench sketch` runs the full sweep (several minutes; the 5e7 matrix needs
//! ~1.6 GB); `RANDNLA_BENCH_MAX_NNZ=10000000 cargo bench --bench sketch` stops the sweep at 1e7;
//! `cargo bench --bench sketch -- --test` (or `cargo test --benches`, as CI does) runs the
//! smallest size once.

mod common;

use common::{skip, skip_in, test_mode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par};
use randnla::sketch::{CountSketch, Gaussian, SketchExt, SketchOperator, SparseSign, Srht};
use randnla::{problems, Layout, MatrixRef, Seed, SparseRef};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::Duration;

fn quick() -> bool {
    test_mode()
}

/// One `y = A·x` pass (CSR: row dot products; CSC: column axpys).
fn spmv(a: &SparseRef<'_, f64>, x: &[f64], y: &mut [f64]) {
    match a.layout() {
        Layout::Csr => {
            for (i, yi) in y.iter_mut().enumerate() {
                let (idx, val) = a.outer(i);
                *yi = idx.iter().zip(val).map(|(&c, &v)| v * x[c]).sum();
            }
        }
        Layout::Csc => {
            y.iter_mut().for_each(|v| *v = 0.0);
            for (c, &xc) in x.iter().enumerate() {
                let (idx, val) = a.outer(c);
                for (&r, &v) in idx.iter().zip(val) {
                    y[r] += v * xc;
                }
            }
        }
    }
}

/// Times [`spmv`] with `x = 1` as `spmv/{nnz}` in `group`: the baseline each sketch is divided by.
fn bench_spmv(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    view: &SparseRef<'_, f64>,
    nnz: usize,
) {
    let x = vec![1.0; view.ncols()];
    let mut y = vec![0.0; view.nrows()];
    group.bench_with_input(BenchmarkId::new("spmv", nnz), &nnz, |b, _| {
        b.iter(|| {
            spmv(view, &x, &mut y);
            black_box(&y);
        })
    });
}

/// A plain streaming pass over the matrix's index and value arrays (their sums), cut into
/// `chunks` contiguous pieces on the rayon pool: the memory-bandwidth control for the 1- vs
/// 2-thread comparison. If `stream_t2` is not much faster than `stream_t1`, bandwidth caps any
/// kernel that reads the matrix once.
///
/// The values are summed in 8 independent lanes: a plain `sum::<f64>()` is one chain of
/// dependent additions (≈ 0.9 ns an entry, 14–18 GB/s from L2 to DRAM on the 2026-12 VM, against
/// 26–66 GB/s with 8 lanes), so it timed the adder's latency rather than the memory, ran slower
/// than the SpMV reading the same arrays, and gained ≈ 2× on two threads for that reason.
fn stream(indices: &[usize], data: &[f64], chunks: usize) -> (usize, f64) {
    let len = data.len().div_ceil(chunks).max(1);
    let idx: usize = indices
        .par_chunks(len)
        .map(|c| c.iter().fold(0usize, |a, &b| a.wrapping_add(b)))
        .reduce(|| 0, usize::wrapping_add);
    let val: f64 = data.par_chunks(len).map(sum_lanes).sum();
    (idx, val)
}

/// `Σ x` in 8 independent lanes (not bitwise a sequential sum: a control, not a result).
fn sum_lanes(x: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let blocks = x.chunks_exact(8);
    let tail: f64 = blocks.remainder().iter().sum();
    for b in blocks {
        for (a, &v) in acc.iter_mut().zip(b) {
            *a += v;
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// The function name of the sparse sign sketch with `s` nonzeros a column on `threads` threads.
fn sign_name(s: usize, threads: usize) -> String {
    if s == 1 {
        format!("count_t{threads}")
    } else {
        format!("sparse_sign_s{s}_t{threads}")
    }
}

/// The ids of `sparse_csr/…` and `sparse_csc/…` at `nnz`, in the order they are registered.
fn sparse_ids(nnz: usize) -> Vec<String> {
    let sketches = [1, 2, 4, 8]
        .into_iter()
        .flat_map(|s| [sign_name(s, 1), sign_name(s, 2)]);
    ["spmv", "stream_t1", "stream_t2"]
        .map(String::from)
        .into_iter()
        .chain(sketches)
        .map(|f| format!("{f}/{nnz}"))
        .collect()
}

fn sparse_sketches(c: &mut Criterion) {
    let d = 200;
    let m = 400;
    let max_nnz: usize = std::env::var("RANDNLA_BENCH_MAX_NNZ")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let sizes: &[usize] = if quick() {
        &[100_000]
    } else {
        &[100_000, 1_000_000, 10_000_000, 50_000_000]
    };
    for &nnz in sizes.iter().filter(|&&z| z <= max_nnz) {
        let labels: Vec<&str> = ["sparse_csr", "sparse_csc"]
            .into_iter()
            .filter(|label| !skip(c, label, &sparse_ids(nnz)))
            .collect();
        if labels.is_empty() {
            continue;
        }
        let n = nnz / 25;
        let csr = problems::random_sparse(n, d, 25, Seed::new(1)).expect("generator");
        // Two copies of the matrix (CSR and CSC), ~1.6 GB at 5e7: no third one from a clone.
        let csc = csr.to_csc();
        for (label, mat) in [("sparse_csr", &csr), ("sparse_csc", &csc)] {
            if !labels.contains(&label) {
                continue;
            }
            let a = MatrixRef::sparse(mat).expect("valid");
            let MatrixRef::Sparse(view) = a else {
                unreachable!()
            };
            let mut group = c.benchmark_group(label);
            group.throughput(Throughput::Elements(nnz as u64));
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(300));
            group.measurement_time(Duration::from_secs(if nnz >= 10_000_000 { 8 } else { 2 }));
            bench_spmv(&mut group, &view, nnz);
            for chunks in [1, 2] {
                group.bench_with_input(
                    BenchmarkId::new(format!("stream_t{chunks}"), nnz),
                    &nnz,
                    |b, _| b.iter(|| black_box(stream(mat.indices(), mat.data(), chunks))),
                );
            }
            for s in [1, 2, 4, 8] {
                let op = SparseSign::new(m, n, s, Seed::new(2)).expect("sketch");
                for (threads, par) in [(1, Par::Seq), (2, Par::rayon(2))] {
                    group.bench_with_input(
                        BenchmarkId::new(sign_name(s, threads), nnz),
                        &nnz,
                        |b, _| b.iter(|| op.apply(a, par).expect("apply")),
                    );
                }
            }
            group.finish();
        }
    }
}

fn count_small(c: &mut Criterion) {
    let (d, m) = (200, 400);
    let sizes: &[usize] = if quick() {
        &[25_000]
    } else {
        &[25_000, 100_000, 150_000, 200_000, 300_000]
    };
    let mut group = c.benchmark_group("count_small");
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(2));
    for &nnz in sizes {
        let ids = ["spmv", "count_t1"].map(|f| format!("{f}/{nnz}"));
        if skip_in(&mut group, "count_small", &ids) {
            continue;
        }
        let n = nnz / 25;
        let csr = problems::random_sparse(n, d, 25, Seed::new(1)).expect("generator");
        let a = MatrixRef::sparse(&csr).expect("valid");
        let MatrixRef::Sparse(view) = a else {
            unreachable!()
        };
        group.throughput(Throughput::Elements(nnz as u64));
        bench_spmv(&mut group, &view, nnz);
        let op = SparseSign::new(m, n, 1, Seed::new(2)).expect("sketch");
        group.bench_with_input(BenchmarkId::new("count_t1", nnz), &nnz, |b, _| {
            b.iter(|| op.apply(a, Par::Seq).expect("apply"))
        });
    }
    group.finish();
}

fn dense_baselines(c: &mut Criterion) {
    let (d, m) = (64, 128);
    let sizes: &[usize] = if quick() {
        &[4096]
    } else {
        &[4096, 16_384, 65_536]
    };
    let mut group = c.benchmark_group("dense");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    for &n in sizes {
        let ids =
            ["gaussian", "srht", "gemm", "count", "sparse_sign_s8"].map(|f| format!("{f}/{n}"));
        if skip_in(&mut group, "dense", &ids) {
            continue;
        }
        let a = problems::gaussian_matrix(n, d, Seed::new(3)).expect("generator");
        let view = MatrixRef::dense(a.as_ref()).expect("finite");
        group.throughput(Throughput::Elements((n * d) as u64));
        let gauss = Gaussian::new(m, n, Seed::new(4)).expect("sketch");
        let srht = Srht::new(m, n, Seed::new(4)).expect("sketch");
        let s_dense: Mat<f64> = SketchOperator::<f64>::to_dense(&gauss).expect("small");
        group.bench_with_input(BenchmarkId::new("gaussian", n), &n, |b, _| {
            b.iter(|| gauss.apply(view, Par::Seq).expect("apply"))
        });
        group.bench_with_input(BenchmarkId::new("srht", n), &n, |b, _| {
            b.iter(|| srht.apply(view, Par::Seq).expect("apply"))
        });
        group.bench_with_input(BenchmarkId::new("gemm", n), &n, |b, _| {
            let mut out = Mat::<f64>::zeros(m, d);
            b.iter(|| {
                matmul(
                    out.as_mut(),
                    Accum::Replace,
                    s_dense.as_ref(),
                    a.as_ref(),
                    1.0,
                    Par::Seq,
                );
                black_box(&mut out);
            })
        });
        let count = CountSketch::new(m, n, Seed::new(4)).expect("sketch");
        let sign = SparseSign::new(m, n, 8, Seed::new(4)).expect("sketch");
        group.bench_with_input(BenchmarkId::new("count", n), &n, |b, _| {
            b.iter(|| count.apply(view, Par::Seq).expect("apply"))
        });
        group.bench_with_input(BenchmarkId::new("sparse_sign_s8", n), &n, |b, _| {
            b.iter(|| sign.apply(view, Par::Seq).expect("apply"))
        });
    }
    group.finish();
}

/// Every family on one CSR matrix, one thread, beside `spmv`.
fn families_csr(c: &mut Criterion) {
    let (d, m) = (200, 400);
    let sizes: &[usize] = if quick() {
        &[100_000]
    } else {
        &[100_000, 1_000_000]
    };
    let mut group = c.benchmark_group("families_csr");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    for &nnz in sizes {
        let ids =
            ["spmv", "count", "sparse_sign_s8", "gaussian", "srht"].map(|f| format!("{f}/{nnz}"));
        if skip_in(&mut group, "families_csr", &ids) {
            continue;
        }
        let n = nnz / 25;
        let csr = problems::random_sparse(n, d, 25, Seed::new(1)).expect("generator");
        let a = MatrixRef::sparse(&csr).expect("valid");
        let MatrixRef::Sparse(view) = a else {
            unreachable!()
        };
        group.throughput(Throughput::Elements(nnz as u64));
        bench_spmv(&mut group, &view, nnz);
        let ops: [(&str, Box<dyn SketchOperator<f64>>); 4] = [
            (
                "count",
                Box::new(CountSketch::new(m, n, Seed::new(2)).expect("sketch")),
            ),
            (
                "sparse_sign_s8",
                Box::new(SparseSign::new(m, n, 8, Seed::new(2)).expect("sketch")),
            ),
            (
                "gaussian",
                Box::new(Gaussian::new(m, n, Seed::new(2)).expect("sketch")),
            ),
            (
                "srht",
                Box::new(Srht::new(m, n, Seed::new(2)).expect("sketch")),
            ),
        ];
        for (name, op) in &ops {
            group.bench_with_input(BenchmarkId::new(*name, nnz), &nnz, |b, _| {
                b.iter(|| op.apply(a, Par::Seq).expect("apply"))
            });
        }
    }
    group.finish();
}

// `families_csr` runs before `dense_baselines`: the latter's GEMM (faer, AVX-512) can leave its
// thread's upper vector state dirty, and `families_csr`'s SpMV divisor is the bench's own scalar
// code, which would then run slowed while the sketch kernels clear that state themselves
// (`src/cpu.rs`); the figures quoted from `families_csr` were run with that group alone.
criterion_group!(
    benches,
    sparse_sketches,
    count_small,
    families_csr,
    dense_baselines
);
criterion_main!(benches);
