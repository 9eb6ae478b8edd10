//! Attention kernel regression (Song–Yin–Zhang P1, P2, P3), each beside the exact computation
//! on the same data in the same run.
//!
//! ```text
//! cargo bench --bench kernel_regression            # full sweep (a few minutes on 2 cores)
//! cargo bench --bench kernel_regression -- --test  # smallest sizes only (CI)
//! ```
//! What it measures, and how to read it:
//! 1. `kernel/p1` and `kernel/p2`, `j = 2`, on sparse `n × 100` matrices with 10 nonzeros a row
//!    (nnz = 10n, n = 10⁴ … 10⁶) whose columns are scaled over one decade (κ(A) ≈ 10, so
//!    `κ((AᵀA)²) ≈ 10⁴` and the exact route keeps its accuracy). `sketched` is
//!    [`solve_p1`]/[`solve_p2`] with default parameters (tol 10⁻¹⁰), which here take the
//!    Cholesky route of [`InnerSolve::Auto`] (no sketch: the formed `AᵀA`'s factor, P2's `y` by
//!    corrected semi-normal equations, refinement on the matrix-free residual); `sketched_cg`
//!    forces the sketched CG route ([`InnerSolve::Cg`]); `exact` forms the Gram matrix `AᵀA`
//!    (a pass over the rows, its upper triangle only: `Σ k(k+1)/2` multiply-adds for rows of `k`
//!    nonzeros, on the same threads), factors it by Cholesky and applies `(AᵀA)⁻¹` `j` times
//!    (P2: `j + 1` times to `Aᵀb`, formed on the same threads: the normal equations of P2), with
//!    no refinement and no check. Time should grow linearly in nnz for all three.
//! 2. `kernel/p3_scale0.4`, `kernel/p3_scale0.8`: P3 on dense `n × 16` matrices `c·G` (Gaussian
//!    `G`, n = 500 … 4000) for two scales: `c = 0.4` (the tests' matrix) and `c = 0.8`.
//!    `sketched` is [`solve_p3`] by default (the `D·G·D` split, then up to n = 8192 a Cholesky
//!    of `G` with refinement on the true residual), `sketched_cg` (Nyström-preconditioned CG,
//!    `O(n²(d + ℓ))` plus `O(n²)` per iteration), and `exact`: forming `exp(AAᵀ)` (faer's GEMM,
//!    then the exponentials of the lower triangle, which is all the Cholesky reads, in parallel
//!    column blocks with the vector state cleared as in the crate's own loop) and factoring it by
//!    Cholesky (`O(n³/3)`). The scale sets the spectrum of the Gaussian kernel matrix
//!    `G_ij = e^{−‖aᵢ − aⱼ‖²/2}` that CG sees: at `c = 0.8` (n = 2000, numpy) κ(G) ≈ 13 and CG
//!    needs few iterations at any n; at `c = 0.4`, κ(G) ≈ 2·10⁴ and grows like n², and the tail
//!    below the Nyström rank ℓ = 200 is flat (`λ_ℓ/λ_min` = 11, 30, 88, 318 at n = 500 … 4000),
//!    so CG's iterations grow like n and the CG route costs `O(n³)` like Cholesky, with worse
//!    constants.
//! 3. `kernel/p1_route`: P1 with `j = 1` by [`InnerSolve::Auto`] (`auto`) beside the sketched CG
//!    route (`cg`) on the shapes where `Auto`'s cost rule has to choose (dense `50 000 × d`,
//!    d = 200, 800, 1600, columns scaled over one decade; sparse, 100–400 nonzeros a row), so
//!    each choice can be checked against the other route's time. No exact baseline here: the
//!    line on stderr gives the route taken and the solvers' own relative residuals.
//!
//! In 1 and 2 each size prints, once, to stderr, the relative residual of every answer,
//! recomputed from `A` for the solvers' answers too (P3 also prints the solvers' own figure),
//! and for P1 and P2 the distance to the exact answer: P2 is a least-squares problem, whose
//! residual `‖A(AᵀA)ʲx − b‖` stays near `‖b‖` at this `b`'s solution, so there the distance is
//! the accuracy. Medians from criterion; the machine is noisy, so read ratios of medians of one
//! run.
//!
//! # Measured 2026-12-06, 17:01–17:27 UTC (Intel VM, 2 threads, quiet)
//! `cargo bench --bench kernel_regression -- kernel/p`, default / CG route / exact medians,
//! with the fair exact routes above and before `AᵀA·v` was fused into one pass:
//! - P1, nnz 10⁵ / 10⁶ / 10⁷: 1.65 / 7.51 / 95.2 ms; 20.2 / 59.9 / 673 ms; 0.651 / 3.06 /
//!   27.3 ms (default 2.5×, 2.5×, 3.5× exact). Relative residuals 7·10⁻¹⁵–1.3·10⁻¹⁴, answers
//!   within 10⁻¹⁴ of exact.
//! - P2: 3.16 / 16.9 / 204 ms; 26.7 / 111 / 1257 ms; 0.682 / 3.78 / 40.7 ms (4.6×, 4.5×, 5.0×).
//! - P3 at c = 0.4, n = 500 / 1000 / 2000 / 4000: 3.19 / 13.3 / 102 / 495 ms; 26.3 / 82.3 / 392 /
//!   4331 ms; 2.99 / 10.9 / 88.4 / 427 ms (1.07–1.22×). At c = 0.8: 3.41 / 13.9 / 107 / 492 ms;
//!   22.8 / 50.8 / 139 / 885 ms; 2.85 / 10.8 / 89.2 / 427 ms (1.15–1.28×).
//!
//! After the fused pass, `-- 'kernel/p[12]/'` with a helper's build alongside (17:26–17:33):
//! P1 2.09 / 1.96 / 2.58× exact, P2 5.7 / 2.8 / 4.1×; quiet, after P2's residual reuse too
//! (17:56–18:02): P1 1.34 / 7.16 / 88.8 ms against 0.553 / 2.79 / 27.1 ms (2.42 / 2.57 / 3.28×),
//! P2 2.60 / 13.6 / 176 ms against 0.507 / 3.18 / 34.8 ms (5.1 / 4.3 / 5.1×). The exact routes
//! check nothing; the default pays for its check (the true residual's passes over `A`), the
//! prescale's scan of `A` and the compact index copy its products use.
//!
//! The runs of 2026-12-05 (AMD VM) used weaker exact routes (a full `AᵀA`, a serial `Aᵀb`, P3's
//! exponentials in one loop slowed by faer's AVX-512 state) and put P1 at 0.71–1.5× and P2 at
//! 2.1–3.2× (BENCHMARKS.md keeps those tables). Not measured here: the range where the Cholesky
//! routes break (`κ(A)² ≳ 1/u`; there `Auto` keeps CG, `tests/kernel_inner_solve.rs`) and n
//! beyond 4000 on well-conditioned kernels (n = 6000 on 2026-12-05: exact 1.54–1.62 s, the CG
//! route 11.8 s on the flat spectrum, so `Auto` factors up to 8192).

mod common;

use common::{par, skip_in, test_mode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faer::linalg::solvers::Solve;
use faer::{Mat, Par, Side};
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, solve_p3, InnerSolve, KernelParams};
use randnla::{problems, MatrixRef, Seed};
use rayon::prelude::*;
use sprs::CsMat;
use std::time::Duration;

const D: usize = 100;
const NNZ_PER_ROW: usize = 10;
const J: usize = 2;
const P3_D: usize = 16;

/// `AᵀA` of a CSR matrix, dense, summed over row chunks on the rayon pool (one chunk per
/// thread, so the sum does not depend on the pool's scheduling). Each row adds only its
/// products `a_ip·a_iq` with `q ≥ p` (the upper triangle: `k(k+1)/2` multiply-adds for a row of
/// `k` nonzeros, not `k²`), mirrored once at the end.
fn gram(a: &CsMat<f64>, threads: usize) -> Mat<f64> {
    let d = a.cols();
    let partial: Vec<Vec<f64>> = row_chunks(a.rows(), threads)
        .into_par_iter()
        .map(|(lo, hi)| {
            let mut g = vec![0.0; d * d];
            for i in lo..hi {
                let row = a.outer_view(i).unwrap();
                let (idx, val) = (row.indices(), row.data());
                for (s, (&p, &vp)) in idx.iter().zip(val).enumerate() {
                    let gp = &mut g[p * d..(p + 1) * d];
                    for (&q, &vq) in idx[s..].iter().zip(&val[s..]) {
                        gp[q] += vp * vq;
                    }
                }
            }
            g
        })
        .collect();
    let upper = |p: usize, q: usize| partial.iter().map(|g| g[p * d + q]).sum::<f64>();
    Mat::from_fn(d, d, |p, q| if p <= q { upper(p, q) } else { upper(q, p) })
}

/// `0..n` cut into one contiguous range per thread.
fn row_chunks(n: usize, threads: usize) -> Vec<(usize, usize)> {
    let chunk = n.div_ceil(threads.max(1)).max(1);
    (0..n)
        .step_by(chunk)
        .map(|lo| (lo, (lo + chunk).min(n)))
        .collect()
}

/// `(AᵀA)⁻ᵏ·c` by one Cholesky factorization of the Gram matrix and `k` solves.
fn gram_power_solve(a: &CsMat<f64>, c: &[f64], k: usize, threads: usize) -> Vec<f64> {
    let llt = gram(a, threads).llt(Side::Lower).unwrap();
    let mut x = Mat::from_fn(c.len(), 1, |i, _| c[i]);
    for _ in 0..k {
        x = llt.solve(&x);
    }
    (0..c.len()).map(|i| x[(i, 0)]).collect()
}

/// `Aᵀb` of a CSR matrix, summed over one row chunk per thread like [`gram`].
fn at_b(a: &CsMat<f64>, b: &[f64], threads: usize) -> Vec<f64> {
    let partial: Vec<Vec<f64>> = row_chunks(a.rows(), threads)
        .into_par_iter()
        .map(|(lo, hi)| {
            let mut out = vec![0.0; a.cols()];
            for (i, &bi) in (lo..hi).zip(&b[lo..hi]) {
                for (j, &v) in a.outer_view(i).unwrap().iter() {
                    out[j] += v * bi;
                }
            }
            out
        })
        .collect();
    (0..a.cols())
        .map(|j| partial.iter().map(|p| p[j]).sum())
        .collect()
}

fn a_times(a: &CsMat<f64>, x: &[f64]) -> Vec<f64> {
    a.outer_iterator()
        .map(|row| row.iter().map(|(j, &v)| v * x[j]).sum())
        .collect()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn diff_norm(u: &[f64], v: &[f64]) -> f64 {
    norm(&u.iter().zip(v).map(|(p, q)| p - q).collect::<Vec<_>>())
}

/// `(AᵀA)ʲx` (P1's operator) and `A(AᵀA)ʲx` (P2's), for the printed residuals.
fn p1_apply(a: &CsMat<f64>, x: &[f64]) -> Vec<f64> {
    (0..J).fold(x.to_vec(), |v, _| at_b(a, &a_times(a, &v), 1))
}

/// The test matrix of the P1/P2 sweep: `random_sparse`'s entries with column `j` scaled by
/// `10^{−j/(d−1)}`.
fn sparse_matrix(n: usize) -> CsMat<f64> {
    let mut a = problems::random_sparse(n, D, NNZ_PER_ROW, Seed::new(n as u64)).unwrap();
    let scale: Vec<f64> = (0..D)
        .map(|j| 10f64.powf(-(j as f64) / (D - 1) as f64))
        .collect();
    for mut row in a.outer_iterator_mut() {
        for (j, v) in row.iter_mut() {
            *v *= scale[j];
        }
    }
    a
}

/// The solvers' default parameters, on the threads `par`.
fn params_on(par: Par) -> KernelParams {
    KernelParams {
        lstsq: randnla::lstsq::LstsqParams {
            par,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn bench_p1_p2(c: &mut Criterion) {
    let sizes: &[usize] = if test_mode() {
        &[10_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    let par = par();
    let threads = rayon::current_num_threads();
    let params = params_on(par);
    for problem in ["p1", "p2"] {
        let group_name = format!("kernel/{problem}");
        let mut group = c.benchmark_group(&group_name);
        group.sample_size(10);
        for &n in sizes {
            let nnz = n * NNZ_PER_ROW;
            let ids = ["sketched", "sketched_cg", "exact"].map(|f| format!("{f}/{nnz}"));
            if skip_in(&mut group, &group_name, &ids) {
                continue;
            }
            let a = sparse_matrix(n);
            let view = MatrixRef::sparse(&a).unwrap();
            let rows = if problem == "p1" { D } else { n };
            let b: Vec<f64> = (0..rows).map(|i| ((i * 7 + 3) as f64).sin()).collect();
            let cg_params = KernelParams {
                inner_solve: InnerSolve::Cg,
                ..params.clone()
            };
            let solve_with = |b: &[f64], params: &KernelParams| {
                if problem == "p1" {
                    solve_p1(view, J, b, params).unwrap()
                } else {
                    solve_p2(view, J, b, params).unwrap()
                }
            };
            let solve = |b: &[f64]| solve_with(b, &params);
            let solve_cg = |b: &[f64]| solve_with(b, &cg_params);
            let exact = |b: &[f64]| {
                if problem == "p1" {
                    gram_power_solve(&a, b, J, threads)
                } else {
                    gram_power_solve(&a, &at_b(&a, b, threads), J + 1, threads)
                }
            };
            let (xs, info) = solve(&b);
            let (xc, info_cg) = solve_cg(&b);
            let xe = exact(&b);
            let residual = |x: &[f64]| {
                let k = p1_apply(&a, x);
                let r = if problem == "p1" { k } else { a_times(&a, &k) };
                diff_norm(&r, &b) / norm(&b)
            };
            eprintln!(
                "{problem} n = {n}, d = {D}, nnz = {nnz}, j = {J}: default {:.3} s \
                 (Cholesky route: {}, {} refinements), relative residual {:.2e}; CG route {:.3} s \
                 ({} CG iterations, {} refinements), {:.2e}; exact {:.2e}; \
                 ‖x − x_exact‖/‖x_exact‖ = {:.2e} (default), {:.2e} (CG)",
                info.seconds,
                info.cholesky,
                info.refinements,
                residual(&xs),
                info_cg.seconds,
                info_cg.cg_iterations,
                info_cg.refinements,
                residual(&xc),
                residual(&xe),
                diff_norm(&xs, &xe) / norm(&xe),
                diff_norm(&xc, &xe) / norm(&xe)
            );
            group.throughput(Throughput::Elements(nnz as u64));
            group.measurement_time(Duration::from_secs(if n >= 1_000_000 { 20 } else { 5 }));
            group.bench_with_input(BenchmarkId::new("sketched", nnz), &b, |bch, b| {
                bch.iter(|| solve(b))
            });
            group.bench_with_input(BenchmarkId::new("sketched_cg", nnz), &b, |bch, b| {
                bch.iter(|| solve_cg(b))
            });
            group.bench_with_input(BenchmarkId::new("exact", nnz), &b, |bch, b| {
                bch.iter(|| exact(b))
            });
        }
        group.finish();
    }
}

/// `exp(AAᵀ)` formed densely (faer's GEMM, then the exponentials), all of it or, for the
/// Cholesky, which reads only the lower triangle, just that (the upper keeps `AAᵀ`).
fn p3_kernel(a: &Mat<f64>, par: Par, lower_only: bool) -> Mat<f64> {
    let n = a.nrows();
    let mut k = Mat::<f64>::zeros(n, n);
    faer::linalg::matmul::matmul(
        k.as_mut(),
        faer::Accum::Replace,
        a.as_ref(),
        a.transpose(),
        1.0,
        par,
    );
    // The exponentials in parallel column blocks, each on a thread whose vector registers'
    // upper halves the GEMM may have left dirty: cleared first, as the crate's own loop does
    // (`src/cpu.rs`), so this baseline's scalar `exp` runs at full speed.
    let exp_block = |(j0, mut block): (usize, faer::MatMut<'_, f64>)| {
        randnla::__clear_upper_vector_state();
        for j in 0..block.ncols() {
            let first = if lower_only { j0 + j } else { 0 };
            for i in first..block.nrows() {
                block[(i, j)] = block[(i, j)].exp();
            }
        }
    };
    let width = n.div_ceil(8 * par.degree().max(1)).max(32);
    let mut blocks = Vec::new();
    let (mut rest, mut j0) = (k.as_mut(), 0);
    while rest.ncols() > width {
        let (left, right) = rest.split_at_col_mut(width);
        blocks.push((j0, left));
        (rest, j0) = (right, j0 + width);
    }
    blocks.push((j0, rest));
    blocks.into_par_iter().for_each(exp_block);
    k
}

/// `exp(AAᵀ)`'s lower triangle formed densely, then Cholesky and one solve.
fn p3_exact(a: &Mat<f64>, b: &[f64], par: Par) -> Vec<f64> {
    let n = a.nrows();
    let x = p3_kernel(a, par, true)
        .llt(Side::Lower)
        .unwrap()
        .solve(Mat::from_fn(n, 1, |i, _| b[i]));
    (0..n).map(|i| x[(i, 0)]).collect()
}

fn bench_p3(c: &mut Criterion) {
    let sizes: &[usize] = if test_mode() {
        &[500]
    } else {
        &[500, 1000, 2000, 4000]
    };
    for scale in [0.4, 0.8] {
        bench_p3_at(c, sizes, scale);
    }
}

fn bench_p3_at(c: &mut Criterion, sizes: &[usize], scale: f64) {
    let par = par();
    let params = params_on(par);
    let group_name = format!("kernel/p3_scale{scale}");
    let mut group = c.benchmark_group(&group_name);
    group.sample_size(10);
    for &n in sizes {
        let ids = ["sketched", "sketched_cg", "exact"].map(|f| format!("{f}/{n}"));
        if skip_in(&mut group, &group_name, &ids) {
            continue;
        }
        let cg_params = KernelParams {
            inner_solve: InnerSolve::Cg,
            ..params.clone()
        };
        let g = problems::gaussian_matrix(n, P3_D, Seed::new(5)).unwrap();
        let a = Mat::from_fn(n, P3_D, |i, j| scale * g[(i, j)]);
        let view = MatrixRef::dense(a.as_ref()).unwrap();
        let b: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) as f64).sin()).collect();
        let (xs, info) = solve_p3(view, &b, &params).unwrap();
        let (xc, info_cg) = solve_p3(view, &b, &cg_params).unwrap();
        let xe = p3_exact(&a, &b, par);
        let k = p3_kernel(&a, par, false);
        let residual = |x: &[f64]| {
            let r = &k * Mat::from_fn(n, 1, |i, _| x[i]);
            diff_norm(&(0..n).map(|i| r[(i, 0)]).collect::<Vec<_>>(), &b) / norm(&b)
        };
        eprintln!(
            "p3 scale {scale}, n = {n}, d = {P3_D}: default {:.3} s (Cholesky route: {}, {} \
             steps), relative residual {:.2e} (solver's own {:.2e}); CG route {:.3} s ({} CG \
             iterations, {} runs), {:.2e} ({:.2e}); exact (Cholesky of exp(AAᵀ)) {:.2e}",
            info.seconds,
            info.cholesky,
            info.refinements,
            residual(&xs),
            info.relative_residual,
            info_cg.seconds,
            info_cg.cg_iterations,
            info_cg.refinements,
            residual(&xc),
            info_cg.relative_residual,
            residual(&xe)
        );
        drop(k);
        group.throughput(Throughput::Elements(n as u64));
        group.measurement_time(Duration::from_secs(if n >= 2000 { 20 } else { 5 }));
        group.bench_with_input(BenchmarkId::new("sketched", n), &b, |bch, b| {
            bch.iter(|| solve_p3(view, b, &params).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("sketched_cg", n), &b, |bch, b| {
            bch.iter(|| solve_p3(view, b, &cg_params).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("exact", n), &b, |bch, b| {
            bch.iter(|| p3_exact(&a, b, par))
        });
    }
    group.finish();
}

/// The problems of `kernel/p1_route`: `(n, d, k)`, a dense `n × d` Gaussian `A` with columns
/// scaled over one decade for `k = 0`, else `random_sparse` with `k` nonzeros a row.
fn route_problems() -> &'static [(usize, usize, usize)] {
    if test_mode() {
        &[(2000, 200, 0), (2000, 400, 300)]
    } else {
        &[
            (50_000, 200, 0),
            (50_000, 800, 0),
            (50_000, 1600, 0),
            (200_000, 1000, 100),
            (100_000, 2000, 200),
            (50_000, 1000, 400),
        ]
    }
}

/// `kernel/p1_route`: P1 with `j = 1` by `InnerSolve::Auto` (`auto`) and by the sketched CG
/// route (`cg`) on the shapes where `Auto`'s cost rule has to choose (dense `d` up to 1600,
/// sparse rows of 100–400 nonzeros), so each rule's choice can be checked against the time of
/// the other route.
fn bench_p1_route(c: &mut Criterion) {
    let par = par();
    let params = params_on(par);
    let cg_params = KernelParams {
        inner_solve: InnerSolve::Cg,
        ..params.clone()
    };
    let group_name = "kernel/p1_route";
    let mut group = c.benchmark_group(group_name);
    group.sample_size(10);
    for &(n, d, k) in route_problems() {
        let name = match k {
            0 => format!("dense_{n}x{d}"),
            k => format!("sparse_{n}x{d}_k{k}"),
        };
        let ids = ["auto", "cg"].map(|f| format!("{f}/{name}"));
        if skip_in(&mut group, group_name, &ids) {
            continue;
        }
        let (dense, sparse) = if k == 0 {
            let g = problems::gaussian_matrix(n, d, Seed::new(5)).unwrap();
            let scaled = Mat::from_fn(n, d, |i, c| g[(i, c)] * 10f64.powf(c as f64 / d as f64));
            (scaled, None)
        } else {
            let a = problems::random_sparse(n, d, k, Seed::new(5)).unwrap();
            (Mat::new(), Some(a))
        };
        let view = match &sparse {
            Some(a) => MatrixRef::sparse(a).unwrap(),
            None => MatrixRef::dense(dense.as_ref()).unwrap(),
        };
        let b: Vec<f64> = (0..view.ncols())
            .map(|i| ((i * 7 + 3) as f64).sin())
            .collect();
        let (_, info) = solve_p1(view, 1, &b, &params).unwrap();
        let (_, info_cg) = solve_p1(view, 1, &b, &cg_params).unwrap();
        eprintln!(
            "p1 route, {name}, j = 1: Auto {:.3} s (Cholesky route: {}), relative residual \
             {:.2e}; CG route {:.3} s ({} CG iterations), {:.2e}",
            info.seconds,
            info.cholesky,
            info.relative_residual,
            info_cg.seconds,
            info_cg.cg_iterations,
            info_cg.relative_residual
        );
        group.measurement_time(Duration::from_secs(10));
        group.bench_with_input(BenchmarkId::new("auto", &name), &b, |bch, b| {
            bch.iter(|| solve_p1(view, 1, b, &params).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("cg", &name), &b, |bch, b| {
            bch.iter(|| solve_p1(view, 1, b, &cg_params).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_p1_p2, bench_p1_route, bench_p3);
criterion_main!(benches);
