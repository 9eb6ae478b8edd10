//! TensorSketch, tree sketch and polynomial-kernel features: ALGORITHMS.md §3 acceptance tests.
//!
//! Data used for the accuracy figures: clustered rows (`clustered_rows`: 8 unit centres, noise
//! 0.3) and iid standard Gaussian rows (`problems::gaussian_matrix`). Every test has fixed seeds.

use crate::common;

use common::{assert_bitwise, explicit_kron, with_threads, Layouts};
use faer::{Mat, Par};
use proptest::prelude::*;
use randnla::sketch::tensor::{
    clustered_rows, PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
};
use randnla::sketch::{CountSketch, SketchExt};
use randnla::{problems, Error, MatrixRef, Seed};

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm2(a: &[f64]) -> f64 {
    dot(a, a)
}

use crate::common::signed_unit_vector as vector;

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let num = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    let den = b.iter().map(|y| y.abs()).fold(0.0, f64::max);
    num / den.max(f64::MIN_POSITIVE)
}

#[test]
fn fft_path_equals_the_explicit_tensor_countsketch() {
    // ALGORITHMS.md §3: d = 5, p = 3, m = 16, to 1e-12 (relative to the largest entry).
    let ts = TensorSketch::new(3, 5, 16, Seed::new(11)).unwrap();
    let x = vector(5, 1);
    let fast = ts.apply_power(&x).unwrap();
    let slow = explicit_kron(&ts, &[&x, &x, &x]);
    assert!(max_rel(&fast, &slow) < 1e-12, "{fast:?} vs {slow:?}");

    // Kronecker product of different vectors of different lengths, odd m.
    let ts = TensorSketch::with_dims(&[5, 3, 4], 15, Seed::new(12)).unwrap();
    let (a, b, c) = (vector(5, 2), vector(3, 3), vector(4, 4));
    let fast = ts.apply_kron(&[&a, &b, &c]).unwrap();
    let slow = explicit_kron(&ts, &[&a, &b, &c]);
    assert!(max_rel(&fast, &slow) < 1e-12);

    // The same through the coordinate-format tensor sketch and through the public spectra.
    let mut idx = Vec::new();
    let mut val = Vec::new();
    for (i, ai) in a.iter().enumerate() {
        for (j, bj) in b.iter().enumerate() {
            for (k, ck) in c.iter().enumerate() {
                idx.extend([i, j, k]);
                val.push(ai * bj * ck);
            }
        }
    }
    let coo = ts.sketch_entries(&idx, &val).unwrap();
    assert!(max_rel(&coo, &slow) < 1e-12);
    let mut spec = ts.mode_spectrum(0, &a).unwrap();
    for (k, x) in [(1, &b), (2, &c)] {
        for (s, t) in spec.iter_mut().zip(ts.mode_spectrum(k, x).unwrap()) {
            *s *= t;
        }
    }
    assert!(max_rel(&ts.inverse(&spec).unwrap(), &slow) < 1e-12);
    // forward/inverse are exact inverses of each other.
    let v = vector(15, 9);
    assert!(max_rel(&ts.inverse(&ts.forward(&v).unwrap()).unwrap(), &v) < 1e-14);
}

#[test]
fn degree_one_is_the_countsketch_of_each_mode() {
    // Mode k of TensorSketch is CountSketch::new(m, d, seed.derive(0x50·2³² + k)); the tree's
    // leaf k uses seed.derive(0x51·2³² + k). Degree 1 returns the CountSketch itself (no FFT).
    let seed = Seed::new(5);
    let x = vector(30, 6);
    let cs = CountSketch::new(8, 30, seed.derive(0x50 << 32)).unwrap();
    let ts = TensorSketch::new(1, 30, 8, seed).unwrap();
    assert_eq!(ts.apply_power(&x).unwrap(), cs.apply_vec(&x).unwrap());
    let cs = CountSketch::new(8, 30, seed.derive(0x51 << 32)).unwrap();
    let tree = TreeSketch::new(1, 30, 8, seed).unwrap();
    assert_eq!(tree.apply_power(&x).unwrap(), cs.apply_vec(&x).unwrap());
    let ts3 = TensorSketch::new(3, 30, 8, seed).unwrap();
    for k in 0..3 {
        let cs = CountSketch::new(8, 30, seed.derive((0x50 << 32) + k as u64)).unwrap();
        for i in 0..30 {
            assert_eq!(ts3.mode_bucket(k, i).unwrap(), cs.bucket(i).unwrap());
        }
    }
}

fn small_inputs() -> impl Strategy<Value = (usize, usize, usize, Vec<f64>, u64)> {
    (1usize..5, 1usize..4, 1usize..24, 0u64..1000).prop_flat_map(|(d, p, m, seed)| {
        (
            Just(d),
            Just(p),
            Just(m),
            proptest::collection::vec(-3.0f64..3.0, d),
            Just(seed),
        )
    })
}

proptest! {
    #![proptest_config(common::proptest_config(64))]
    #[test]
    fn fft_equals_explicit_for_any_small_shape((d, p, m, x, seed) in small_inputs()) {
        let ts = TensorSketch::new(p, d, m, Seed::new(seed)).unwrap();
        let fast = ts.apply_power(&x).unwrap();
        let xs: Vec<&[f64]> = vec![&x; p];
        let slow = explicit_kron(&ts, &xs);
        // Rounding is relative to Σ|x_{i1}⋯x_{ip}| = ‖x‖₁^p, not to the (possibly cancelled)
        // output.
        let scale = x.iter().map(|v| v.abs()).sum::<f64>().powi(p as i32).max(1e-300);
        for (a, b) in fast.iter().zip(&slow) {
            prop_assert!((a - b).abs() <= 1e-12 * scale, "{a} vs {b}");
        }
    }
}

/// Mean and standard error of `f(seed)` over `seeds`.
fn mean_se(seeds: std::ops::Range<u64>, mut f: impl FnMut(Seed) -> f64) -> (f64, f64) {
    let n = (seeds.end - seeds.start) as f64;
    let (mut s1, mut s2) = (0.0, 0.0);
    for s in seeds {
        let v = f(Seed::new(s));
        s1 += v;
        s2 += v * v;
    }
    let mean = s1 / n;
    let var = (s2 / n - mean * mean) * n / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[test]
fn inner_products_are_unbiased_over_ten_thousand_seeds() {
    // Pass rule: |mean − ⟨x, y⟩^p| ≤ 4 standard errors over 10⁴ seeds (a false alarm has
    // probability ≈ 6e-5 per check under the normal approximation).
    let (x, y) = (vector(6, 21), vector(6, 22));
    let y: Vec<f64> = y.iter().zip(&x).map(|(a, b)| a + 0.7 * b).collect(); // correlated
    for p in [2usize, 3] {
        let exact = dot(&x, &y).powi(p as i32);
        let (mean, se) = mean_se(0..10_000, |s| {
            let ts = TensorSketch::new(p, 6, 32, s).unwrap();
            dot(&ts.apply_power(&x).unwrap(), &ts.apply_power(&y).unwrap())
        });
        assert!(
            (mean - exact).abs() <= 4.0 * se,
            "TS p={p}: {mean} ± {se} vs {exact}"
        );
        let (mean, se) = mean_se(0..10_000, |s| {
            let t = TreeSketch::new(p, 6, 32, s).unwrap();
            dot(&t.apply_power(&x).unwrap(), &t.apply_power(&y).unwrap())
        });
        assert!(
            (mean - exact).abs() <= 4.0 * se,
            "tree p={p}: {mean} ± {se} vs {exact}"
        );
    }
    // Polynomial kernel features: E⟨φ(x), φ(y)⟩ = (γ⟨x,y⟩ + c)^p.
    let params = |seed_method| PolyKernelParams {
        degree: 3,
        gamma: 0.5,
        coef0: 0.8,
        sketch_dim: 32,
        method: seed_method,
    };
    for method in [TensorMethod::Fft, TensorMethod::Tree] {
        let exact = (0.5 * dot(&x, &y) + 0.8f64).powi(3);
        let (mean, se) = mean_se(0..10_000, |s| {
            let f = PolyKernelFeatures::new(6, params(method), s).unwrap();
            dot(&f.transform_vec(&x).unwrap(), &f.transform_vec(&y).unwrap())
        });
        assert!(
            (mean - exact).abs() <= 4.0 * se,
            "{method:?}: {mean} ± {se} vs {exact}"
        );
        let f = PolyKernelFeatures::new(6, params(method), Seed::new(0)).unwrap();
        assert!((f.kernel(&x, &y).unwrap() - exact).abs() < 1e-12 * exact.abs());
    }
}

/// `(m·Var̂, its standard error)` of `‖S x^{⊗p}‖²/‖x‖^{2p}` over `seeds`.
fn scaled_variance(m: usize, seeds: u64, mut sq: impl FnMut(Seed) -> f64) -> (f64, f64) {
    let vals: Vec<f64> = (0..seeds).map(|s| sq(Seed::new(s))).collect();
    common::scaled_sample_variance(&vals, m)
}

#[test]
fn variance_respects_the_avron_nguyen_woodruff_bound() {
    // m·Var(‖TS x^{⊗p}‖²) ≤ (2 + 3^p)·‖x‖^{4p}, m = 64, 10⁴ seeds. Pass rule: the estimate plus
    // 4 of its standard errors is ≤ the bound — the bound holds for the estimate itself and for
    // the upper end of its sampling uncertainty; no slack is given in the bound's favour.
    // Measured m·Var (± se) against the bound 11 / 29 / 83 at p = 2 / 3 / 4: e1+e2 2.41 (0.11) /
    // 4.71 (0.16) / 8.21 (0.21); mixed 4.18 (0.12) / 8.86 (0.24) / 17.3 (0.57); ones 4.65
    // (0.09) / 10.4 (0.23) / 21.0 (0.76) — at most 0.42 of the bound.
    let m = 64;
    let vectors = [
        ("e1+e2", vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
        ("mixed", vector(6, 31)),
        ("ones", vec![1.0; 6]),
    ];
    for (name, x) in &vectors {
        let n2 = norm2(x);
        for p in [2usize, 3, 4] {
            let (v, se) = scaled_variance(m, 10_000, |s| {
                let ts = TensorSketch::new(p, 6, m, s).unwrap();
                norm2(&ts.apply_power(x).unwrap()) / n2.powi(p as i32)
            });
            let bound = 2.0 + 3f64.powi(p as i32);
            assert!(
                v + 4.0 * se <= bound,
                "{name} p={p}: m·Var = {v} ± {se} > {bound}"
            );
        }
    }
}

#[test]
fn tree_variance_does_not_grow_geometrically_with_p() {
    // On a dense x (d = 64 ≥ m/4) the DFT bins of each mode's CountSketch are nearly complex
    // Gaussian, so plain TensorSketch has m·Var(‖TS x^{⊗p}‖²)/‖x‖^{4p} ≈ 2(2^p − 1) — geometric
    // in p (the worst case of the bound is 2 + 3^p) — while the tree's compounds over log₂ p
    // levels: ≈ 2p + 6(P − 1). Pass rule at p = 8 (m = 256, 3000 seeds): the tree's estimate
    // plus 4 standard errors is below TensorSketch's exact m·Var (the closed form,
    // `common::ts_scaled_variance`, ≈ 500 here), and below 100 (= 2p + 6(P−1) ≈ 58, with slack
    // for the approximation). TensorSketch's *sample* variance is printed but not compared: at
    // p = 8 it is heavy-tailed (the seed audit, `tests/seed_review.rs`: 311–706 ± 37–387 over
    // five blocks of 3000 seeds), and the rule of earlier versions, tree + 4 se below that
    // estimate − 4 se, held on 2 of those 5 blocks.
    let (m, d) = (256, 64);
    let x = vector(d, 41);
    let n2 = norm2(&x);
    let mut at8 = ((0.0, 0.0), (0.0, 0.0));
    for p in [2usize, 4, 8] {
        let ts = scaled_variance(m, 3000, |s| {
            let t = TensorSketch::new(p, d, m, s).unwrap();
            norm2(&t.apply_power(&x).unwrap()) / n2.powi(p as i32)
        });
        let tree = scaled_variance(m, 3000, |s| {
            let t = TreeSketch::new(p, d, m, s).unwrap();
            norm2(&t.apply_power(&x).unwrap()) / n2.powi(p as i32)
        });
        eprintln!(
            "p = {p}: m·Var TensorSketch {:.1} ± {:.1}, tree {:.1} ± {:.1}",
            ts.0, ts.1, tree.0, tree.1
        );
        at8 = (ts, tree);
    }
    let (ts, tree) = at8;
    let exact = common::ts_scaled_variance(&x, 8, m);
    eprintln!("p = 8: TensorSketch's exact m·Var {exact:.1}");
    assert!(
        tree.0 + 4.0 * tree.1 < exact,
        "tree {tree:?} vs TensorSketch's exact {exact} (sample {ts:?})"
    );
    assert!(tree.0 < 100.0, "tree m·Var {tree:?} at p = 8");
}

/// Kernel-matrix relative error of `params` on `x`, averaged over `seeds`.
fn kernel_error(x: &Mat<f64>, params: PolyKernelParams, seeds: u64) -> f64 {
    let view = MatrixRef::dense(x.as_ref()).unwrap();
    (0..seeds)
        .map(|s| {
            let f = PolyKernelFeatures::new(x.ncols(), params, Seed::new(100 + s)).unwrap();
            let phi = f.transform(view, Par::Seq).unwrap();
            f.kernel_error(view, phi.as_ref(), x.nrows(), Par::Seq)
                .unwrap()
        })
        .sum::<f64>()
        / seeds as f64
}

/// Least-squares slope of `log y` against `log x`.
fn loglog_slope(xs: &[f64], ys: &[f64]) -> f64 {
    let lx: Vec<f64> = xs.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = ys.iter().map(|v| v.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let cov: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let var: f64 = lx.iter().map(|a| (a - mx).powi(2)).sum();
    cov / var
}

#[test]
fn kernel_error_falls_like_one_over_sqrt_m_on_clustered_rows() {
    // Clustered rows (n = 240, d = 20, 8 clusters, noise 0.3), p = 3, c = 0; m = 256 … 4096,
    // error averaged over 3 seeds. Accepted slope: −0.5 ± 0.15.
    let x = clustered_rows(240, 20, 8, 0.3, Seed::new(7)).unwrap();
    let ms = [256usize, 512, 1024, 2048, 4096];
    let errs: Vec<f64> = ms
        .iter()
        .map(|&m| {
            let params = PolyKernelParams {
                degree: 3,
                sketch_dim: m,
                ..Default::default()
            };
            kernel_error(&x, params, 3)
        })
        .collect();
    let mf: Vec<f64> = ms.iter().map(|&m| m as f64).collect();
    let slope = loglog_slope(&mf, &errs);
    eprintln!("errors {errs:?}, slope {slope:.3}");
    assert!(
        (-0.65..=-0.35).contains(&slope),
        "slope {slope}, errors {errs:?}"
    );
}

#[test]
fn accuracy_depends_on_the_data_iid_versus_clustered() {
    // A smaller version of ALGORITHMS.md §3's figure (there: n = 1500, d = 40, p = 3; the full
    // size runs in the tour and the bench). Here n = 400, d = 40, p = 3, m = 1024, one seed:
    // clustered rows have error ≈ 0.1, iid Gaussian rows (nearly orthogonal; the kernel matrix
    // is almost diagonal) ≈ 0.5. Over 20 sketch seeds (the seed audit, `tests/seed_review.rs`)
    // the ratio iid/clustered was 3.4 ± 0.43, down to 2.78. Pass rule: clustered < 0.2, iid >
    // 2 × clustered (below the mean by 3 sd; the rule of 3× of earlier versions failed on 2 of
    // those 20 seeds).
    let params = PolyKernelParams {
        degree: 3,
        sketch_dim: 1024,
        ..Default::default()
    };
    let clustered = kernel_error(
        &clustered_rows(400, 40, 8, 0.3, Seed::new(1)).unwrap(),
        params,
        1,
    );
    let iid = kernel_error(
        &problems::gaussian_matrix(400, 40, Seed::new(1)).unwrap(),
        params,
        1,
    );
    eprintln!("clustered {clustered:.3}, iid {iid:.3}");
    assert!(clustered < 0.2, "clustered {clustered}");
    assert!(iid > 2.0 * clustered, "iid {iid} vs clustered {clustered}");
}

/// `‖ΦΦᵀ − K‖_F/‖K‖_F` over the first `r` rows by plain loops: `(ΦΦᵀ)_ij = Σ_t φ_it φ_jt` and
/// `K_ij = (γ⟨x_i, x_j⟩ + c)^p`, with row `i` of `X` given as its `(column, value)` list and the
/// inner products taken over every pair of listed entries (no sorting or merging assumed).
fn kernel_error_by_loops(
    rows: &[Vec<(usize, f64)>],
    phi: &Mat<f64>,
    r: usize,
    params: PolyKernelParams,
) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..r {
        for j in 0..r {
            let mut xx = 0.0;
            for &(a, va) in &rows[i] {
                for &(b, vb) in &rows[j] {
                    if a == b {
                        xx += va * vb;
                    }
                }
            }
            let k = (params.gamma * xx + params.coef0).powi(params.degree as i32);
            let mut ff = 0.0;
            for t in 0..phi.ncols() {
                ff += phi[(i, t)] * phi[(j, t)];
            }
            num += (ff - k) * (ff - k);
            den += k * k;
        }
    }
    (num / den).sqrt()
}

/// The `(column, value)` lists of the rows of a dense matrix (zeros included).
fn dense_rows(x: &Mat<f64>) -> Vec<Vec<(usize, f64)>> {
    (0..x.nrows())
        .map(|i| (0..x.ncols()).map(|j| (j, x[(i, j)])).collect())
        .collect()
}

/// `|kernel_error − kernel_error_by_loops| ≤ 1e-10 × the latter` on `rows` rows of each view.
fn check_kernel_error(
    what: &str,
    views: &[(&str, MatrixRef<'_, f64>)],
    rows_of_x: &[Vec<(usize, f64)>],
    params: PolyKernelParams,
    rows: &[usize],
) {
    let d = views[0].1.ncols();
    let f = PolyKernelFeatures::new(d, params, Seed::new(17)).unwrap();
    let phi = f.transform(views[0].1, Par::Seq).unwrap();
    for &asked in rows {
        let r = asked.min(rows_of_x.len());
        let want = kernel_error_by_loops(rows_of_x, &phi, r, params);
        for (layout, view) in views {
            let got = f
                .kernel_error(*view, phi.as_ref(), asked, Par::Seq)
                .unwrap();
            eprintln!(
                "{what} ({layout}), rows = {asked}: {got:.6} vs loops {want:.6}, rel. diff {:.1e}",
                (got - want).abs() / want
            );
            assert!(
                (got - want).abs() <= 1e-10 * want,
                "{what} ({layout}), rows = {asked}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn kernel_error_equals_a_direct_computation() {
    // kernel_error is the oracle of the poly_features example's kernel_rel_error and of the
    // slope and iid-vs-clustered tests; here it is checked against ‖ΦΦᵀ − K‖_F/‖K‖_F computed by
    // plain loops from the same features Φ = transform(X) and from X's entries. γ ≠ 1, c ≠ 0.
    // Rows compared: all, more than n (clamped to n) and a prefix (the example passes
    // rows = 2000, so a larger X is compared on its first 2000 rows). Pass rule: relative
    // difference ≤ 1e-10 (the two differ only in summation order). All of these take the dense
    // Gram path of kernel_error (r·d ≤ 2²⁴).
    let x = clustered_rows(30, 7, 3, 0.3, Seed::new(5)).unwrap();
    let params = PolyKernelParams {
        degree: 3,
        gamma: 0.7,
        coef0: 1.3,
        sketch_dim: 64,
        method: TensorMethod::Fft,
    };
    let view = MatrixRef::dense(x.as_ref()).unwrap();
    check_kernel_error(
        "dense",
        &[("dense", view)],
        &dense_rows(&x),
        params,
        &[30, 1000, 11],
    );

    // Sparse rows (4 of 25 columns), CSR and CSC, the tree sketch.
    let layouts = Layouts::new(problems::random_sparse(40, 25, 4, Seed::new(6)).unwrap());
    let sparse_rows: Vec<Vec<(usize, f64)>> = layouts
        .csr
        .outer_iterator()
        .map(|row| row.iter().map(|(j, &v)| (j, v)).collect())
        .collect();
    let params = PolyKernelParams {
        degree: 2,
        gamma: 2.5,
        coef0: 0.4,
        sketch_dim: 32,
        method: TensorMethod::Tree,
    };
    let views = layouts.views();
    check_kernel_error("sparse", &views, &sparse_rows, params, &[40, 17]);
}

#[test]
fn kernel_error_equals_a_direct_computation_on_its_sparse_gram_path() {
    // kernel_error forms X_r X_rᵀ by a dense product when r·d ≤ 2²⁴ for the r compared rows,
    // and by sparse dot products otherwise. Smallest case with r = 16 compared rows:
    // d = 2²⁰ + 1 (r·d = 2²⁴ + 16). X has n = 20 rows, each with 4 nonzeros among 12 columns
    // spread over 0..d (first and last included), so rows overlap and the kernel has
    // off-diagonal values of both signs; compared on its first 16 rows and on all 20
    // (r·d > 2²⁴ both times), as CSR and CSC. Pass rule as above: ≤ 1e-10 relative.
    let (n, d) = (20usize, (1usize << 20) + 1);
    let cols: Vec<usize> = (0..12).map(|k| k * (d - 1) / 11).collect();
    let vals = vector(4 * n, 71);
    let mut triplets = sprs::TriMat::new((n, d));
    let mut rows_of_x = Vec::with_capacity(n);
    for i in 0..n {
        let row: Vec<(usize, f64)> = (0..4)
            .map(|t| (cols[(i + 3 * t) % 12], vals[4 * i + t]))
            .collect();
        for &(j, v) in &row {
            triplets.add_triplet(i, j, v);
        }
        rows_of_x.push(row);
    }
    // Built directly (Layouts would also store two dense 20 × 2²⁰ copies).
    let (csr, csc): (sprs::CsMat<f64>, sprs::CsMat<f64>) = (triplets.to_csr(), triplets.to_csc());
    let views = [
        ("csr", MatrixRef::sparse(&csr).unwrap()),
        ("csc", MatrixRef::sparse(&csc).unwrap()),
    ];
    let params = PolyKernelParams {
        degree: 2,
        gamma: 0.6,
        coef0: 0.5,
        sketch_dim: 128,
        method: TensorMethod::Fft,
    };
    check_kernel_error(
        "sparse, d = 2^20 + 1",
        &views,
        &rows_of_x,
        params,
        &[16, 20],
    );
}

#[test]
fn every_layout_gives_the_same_bits() {
    // CSR, CSC, dense column-major and dense row-major inputs: bitwise identical features.
    let layouts = Layouts::new(problems::random_sparse(120, 50, 6, Seed::new(3)).unwrap());
    let ts = TensorSketch::new(3, 50, 64, Seed::new(1)).unwrap();
    let tree = TreeSketch::new(3, 50, 64, Seed::new(1)).unwrap();
    let poly = PolyKernelFeatures::new(
        50,
        PolyKernelParams {
            degree: 3,
            gamma: 0.3,
            coef0: 2.0,
            sketch_dim: 64,
            method: TensorMethod::Fft,
        },
        Seed::new(1),
    )
    .unwrap();
    let views = layouts.views();
    let run = |view| {
        [
            ts.apply_rows(view, Par::Seq).unwrap(),
            tree.apply_rows(view, Par::Seq).unwrap(),
            poly.transform(view, Par::Seq).unwrap(),
        ]
    };
    let reference = run(views[0].1);
    for (name, view) in &views[1..] {
        for (k, (a, b)) in run(*view).iter().zip(&reference).enumerate() {
            assert_bitwise(a, b, &format!("map {k} on {name} vs csr"));
        }
    }
    // Rows agree with the one-vector forms to rounding (the vector forms see the same nonzeros).
    for i in [0, 57, 119] {
        let row: Vec<f64> = (0..50).map(|j| layouts.dense[(i, j)]).collect();
        let v = ts.apply_power(&row).unwrap();
        let r: Vec<f64> = (0..64).map(|j| reference[0][(i, j)]).collect();
        assert_eq!(v, r);
        let v = poly.transform_vec(&row).unwrap();
        let r: Vec<f64> = (0..64).map(|j| reference[2][(i, j)]).collect();
        assert_eq!(v, r);
    }
}

#[test]
fn thread_count_does_not_change_a_bit() {
    let layouts = Layouts::new(problems::random_sparse(300, 40, 5, Seed::new(4)).unwrap());
    let ts = TensorSketch::new(3, 40, 128, Seed::new(2)).unwrap();
    let tree = TreeSketch::new(5, 40, 128, Seed::new(2)).unwrap();
    for (name, view) in layouts.views() {
        let one = with_threads(1, |p| {
            (
                ts.apply_rows(view, p).unwrap(),
                tree.apply_rows(view, p).unwrap(),
            )
        });
        for t in [2, 4] {
            let many = with_threads(t, |p| {
                (
                    ts.apply_rows(view, p).unwrap(),
                    tree.apply_rows(view, p).unwrap(),
                )
            });
            assert_bitwise(&many.0, &one.0, &format!("TS on {name}, {t} threads"));
            assert_bitwise(&many.1, &one.1, &format!("tree on {name}, {t} threads"));
        }
    }
}

#[test]
fn f32_features_are_the_f64_features_rounded() {
    let x = clustered_rows(20, 8, 2, 0.3, Seed::new(2)).unwrap();
    let x32 = Mat::<f32>::from_fn(20, 8, |i, j| x[(i, j)] as f32);
    let x64 = Mat::<f64>::from_fn(20, 8, |i, j| x32[(i, j)] as f64);
    let ts = TensorSketch::new(2, 8, 32, Seed::new(3)).unwrap();
    let a = ts
        .apply_rows(MatrixRef::dense(x32.as_ref()).unwrap(), Par::Seq)
        .unwrap();
    let b = ts
        .apply_rows(MatrixRef::dense(x64.as_ref()).unwrap(), Par::Seq)
        .unwrap();
    let b32 = Mat::<f64>::from_fn(20, 32, |i, j| b[(i, j)] as f32 as f64);
    let a64 = Mat::<f64>::from_fn(20, 32, |i, j| a[(i, j)] as f64);
    assert_bitwise(&a64, &b32, "f32 vs rounded f64");
}

#[test]
fn golden_values() {
    // A change to these values is a breaking change (seeded outputs are part of the contract):
    // compared bit for bit. The literals are the shortest round-trip (`{:?}`) forms of the
    // outputs. In exact arithmetic the tree's output is [2.25, 0, −4.5, 0, 0, 0, 1.125, 0]; the
    // tiny entries (±6.9e-18, −4.5e-16) are the FFT's rounding and are pinned with the rest.
    // rustfft picks its kernels at run time (scalar, SSE, AVX; NEON on aarch64); measured with
    // rustfft 6.4.1 on x86-64, their outputs differ in the last bits from complex length 8 (AVX)
    // and 16 (SSE) on. The real FFT of length m = 8 runs a complex FFT of length 4, which is
    // additions and sign swaps only and gave the same bits under all three x86 kernels, so these
    // values do not depend on the CPU's SIMD level (NEON was not measured).
    let ts = TensorSketch::new(2, 3, 8, Seed::new(42)).unwrap();
    let got = ts.apply_power(&[1.0, -2.0, 0.5]).unwrap();
    assert_bits(&got, &GOLDEN_TS, "TensorSketch");
    let tree = TreeSketch::new(3, 3, 8, Seed::new(42)).unwrap();
    let got = tree.apply_power(&[1.0, -2.0, 0.5]).unwrap();
    assert_bits(&got, &GOLDEN_TREE, "TreeSketch");
}

fn assert_bits(got: &[f64], want: &[f64], what: &str) {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(got), bits(want), "{what}: {got:?} vs {want:?}");
}

const GOLDEN_TS: [f64; 8] = [0.0, 3.0, 0.0, 0.0, -0.75, 0.0, -0.5, 4.5];
const GOLDEN_TREE: [f64; 8] = [
    2.25,
    6.938893903907228e-18,
    -4.5,
    -4.510281037539698e-16,
    0.0,
    6.938893903907228e-18,
    1.125,
    -4.510281037539698e-16,
];

/// `C x` for a CountSketch, by its buckets (no use of the operator's apply path).
fn countsketch_by_buckets(c: &CountSketch, m: usize, x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; m];
    for (i, &v) in x.iter().enumerate() {
        let (h, s) = c.bucket(i).unwrap();
        out[h] += s * v;
    }
    out
}

/// A degree-2 TensorSketch node `ℝ^m ⊗ ℝ^m → ℝ^m` with sides `c0`, `c1`, by its definition: the
/// CountSketch of `u ⊗ v` with hash `(h₀(a) + h₁(b)) mod m` and sign `σ₀(a)σ₁(b)` — `O(m²)`, no
/// FFT.
fn node_by_definition(c0: &CountSketch, c1: &CountSketch, u: &[f64], v: &[f64]) -> Vec<f64> {
    let m = u.len();
    let mut out = vec![0.0; m];
    for (a, &ua) in u.iter().enumerate() {
        let (ha, sa) = c0.bucket(a).unwrap();
        for (b, &vb) in v.iter().enumerate() {
            let (hb, sb) = c1.bucket(b).unwrap();
            out[(ha + hb) % m] += sa * sb * ua * vb;
        }
    }
    out
}

/// The tree sketch `Π(x₁ ⊗ … ⊗ x_p)` assembled from public pieces as `TreeSketch`'s docs define
/// it: leaf `k` is `CountSketch::new(m, d_k, leaf_seed(k))`, the `P − p` padding leaves output
/// `e₀`, and internal node `j` (numbered level by level from the leaves, left to right) combines
/// its two children with sides `CountSketch::new(m, m, node_seed(j, s))`, `s ∈ {0, 1}`.
fn tree_by_composition(
    m: usize,
    xs: &[&[f64]],
    leaf_seed: impl Fn(usize) -> Seed,
    node_seed: impl Fn(usize, usize) -> Seed,
) -> Vec<f64> {
    let padded = xs.len().next_power_of_two();
    let mut level: Vec<Vec<f64>> = (0..padded)
        .map(|k| match xs.get(k) {
            Some(x) => {
                countsketch_by_buckets(&CountSketch::new(m, x.len(), leaf_seed(k)).unwrap(), m, x)
            }
            None => {
                let mut e0 = vec![0.0; m];
                e0[0] = 1.0;
                e0
            }
        })
        .collect();
    let mut node = 0;
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| {
                let side = |s| CountSketch::new(m, m, node_seed(node, s)).unwrap();
                let out = node_by_definition(&side(0), &side(1), &pair[0], &pair[1]);
                node += 1;
                out
            })
            .collect();
    }
    level.pop().unwrap()
}

#[test]
fn tree_equals_its_composition_from_public_countsketches() {
    // Π(x ⊗ y) = TS₂(L₀x ⊗ L₁y) at p = 2, and the whole tree at p = 3 (one padding leaf) and
    // p = 4 (three nodes on two levels), built independently of `TreeSketch`: leaves and node
    // sides are public `CountSketch`es with the documented seeds (leaf k: seed.derive(0x51·2³² +
    // k); node j, side s: seed.derive(0x52·2³² + 2j + s)), applied through their buckets; nodes are
    // the explicit tensor CountSketch (no FFT). Pass rule: max |Π − composition| ≤ 1e-12 × the
    // largest entry (the FFT's rounding is ~1e-16 of it). The same comparison with a wrong leaf
    // seed, swapped node sides or a wrong node order must fail (relative error > 0.1), so the
    // check sees the seeds and the node map, not only the bilinearity of Π.
    let seed = Seed::new(8);
    let leaf = |k: usize| seed.derive((0x51 << 32) + k as u64);
    let node = |j: usize, s: usize| seed.derive((0x52 << 32) + 2 * j as u64 + s as u64);
    let cases: [(&[usize], usize); 3] = [(&[4, 3], 16), (&[5, 3, 4], 8), (&[3, 4, 2, 5], 15)];
    for (dims, m) in cases {
        let factors: Vec<Vec<f64>> = dims
            .iter()
            .enumerate()
            .map(|(k, &d)| vector(d, 60 + k as u64))
            .collect();
        let xs: Vec<&[f64]> = factors.iter().map(|f| &f[..]).collect();
        let tree = TreeSketch::with_dims(dims, m, seed).unwrap();
        let got = tree.apply_kron(&xs).unwrap();
        let want = tree_by_composition(m, &xs, leaf, node);
        let err = max_rel(&got, &want);
        eprintln!("p = {}, m = {m}: max rel diff {err:.2e}", dims.len());
        assert!(err <= 1e-12, "p = {}: {got:?} vs {want:?}", dims.len());

        // Perturbations the comparison must detect.
        let wrong_leaf = tree_by_composition(m, &xs, |k| leaf(k + 1), node);
        let swapped_sides = tree_by_composition(m, &xs, leaf, |j, s| node(j, 1 - s));
        let last = tree.degree().next_power_of_two() - 2; // the root's index
        let reversed_nodes = tree_by_composition(m, &xs, leaf, |j, s| node(last - j, s));
        let mut perturbed = vec![
            ("leaf seed k + 1", wrong_leaf),
            ("swapped sides", swapped_sides),
        ];
        if last > 0 {
            perturbed.push(("nodes numbered root first", reversed_nodes));
        }
        for (what, other) in perturbed {
            let e = max_rel(&got, &other);
            assert!(e > 0.1, "p = {}: {what} not detected ({e})", dims.len());
        }
    }
}

/// Finite input whose tensor power leaves the output type's range is an error naming where,
/// not a vector of NaN (the FFT turns an infinite bucket into NaN everywhere): `(10¹⁰³)³`
/// overflows f64; `(10¹³)³ = 10³⁹` fits f64 but not f32, so the f32 output overflows too. Every
/// entry point: vectors, Kronecker factors, rows (the overflowing row is named), the tree
/// sketch and the polynomial-kernel features. The largest inputs that fit give finite output.
#[test]
fn overflowing_tensor_products_are_errors() {
    let s = Seed::new(3);
    let overflow = |r: Result<(), Error>| matches!(r, Err(Error::NonFinite { .. }));
    let ts = TensorSketch::new(3, 2, 16, s).unwrap();
    let tree = TreeSketch::new(3, 2, 16, s).unwrap();
    assert!(overflow(ts.apply_power(&[1e103, 0.0]).map(|_| ())));
    assert!(overflow(tree.apply_power(&[1e103, 0.0]).map(|_| ())));
    assert!(overflow(ts.apply_power(&[1e13f32, 0.0]).map(|_| ())));
    assert!(ts
        .apply_power(&[1e12f32, 0.0])
        .unwrap()
        .iter()
        .all(|v: &f32| v.is_finite()));
    assert!(ts
        .apply_power(&[1e100, 0.0])
        .unwrap()
        .iter()
        .all(|v: &f64| v.is_finite()));
    let (big, one): (&[f64], &[f64]) = (&[1e200, 0.0], &[1.0, 1.0]);
    assert!(overflow(ts.apply_kron(&[big, big, one]).map(|_| ())));
    assert!(overflow(tree.apply_kron(&[big, big, one]).map(|_| ())));
    // Rows: 40 rows (three tasks of 16), row 37 overflows; it is the one named.
    let mut a = Mat::from_fn(40, 2, |i, j| (i + j) as f64 * 0.1);
    a[(37, 1)] = 1e110;
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    for par in [Par::Seq, Par::rayon(2)] {
        for got in [ts.apply_rows(av, par), tree.apply_rows(av, par)] {
            assert!(
                matches!(got, Err(Error::NonFinite { row: 37, .. })),
                "{:?}",
                got.map(|_| ())
            );
        }
    }
    a[(37, 1)] = 1e100;
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    assert!(ts.apply_rows(av, Par::Seq).is_ok());
    // Polynomial-kernel features of rows of size 10¹²⁰ (γ = 1, p = 3).
    let params = PolyKernelParams {
        degree: 3,
        gamma: 1.0,
        coef0: 1.0,
        sketch_dim: 16,
        method: TensorMethod::Fft,
    };
    let f = PolyKernelFeatures::new(2, params, s).unwrap();
    let x = Mat::from_fn(3, 2, |i, _| if i == 2 { 1e120 } else { 1.0 });
    let got = f.transform(MatrixRef::dense(x.as_ref()).unwrap(), Par::Seq);
    assert!(
        matches!(got, Err(Error::NonFinite { row: 2, .. })),
        "{:?}",
        got.map(|_| ())
    );
    assert!(overflow(f.transform_vec(&[1e120, 1.0]).map(|_| ())));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let s = Seed::new(1);
    // p = 0, m = 0, d = 0, m too large
    assert!(matches!(
        TensorSketch::new(0, 4, 8, s),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        TensorSketch::new(2, 4, 0, s),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        TensorSketch::new(2, 0, 8, s),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(TensorSketch::new(2, 4, 1 << 31, s).is_err());
    assert!(TensorSketch::new(usize::MAX, 4, 8, s).is_err());
    assert!(TreeSketch::new(usize::MAX, 4, 8, s).is_err());
    // The message names the degree asked for, not a clamped one (a review saw "degree 65537").
    for r in [
        TensorSketch::new(1_000_000_000, 4, 8, s).map(|_| ()),
        TreeSketch::new(1_000_000_000, 4, 8, s).map(|_| ()),
    ] {
        let msg = r.unwrap_err().to_string();
        assert!(msg.contains("degree 1000000000 "), "{msg}");
    }
    assert!(TensorSketch::with_dims(&[], 8, s).is_err());
    assert!(TensorSketch::with_dims(&[3, 0], 8, s).is_err());
    assert!(matches!(
        TreeSketch::new(0, 4, 8, s),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(TreeSketch::new(2, 4, 0, s).is_err());
    assert!(TreeSketch::new(1 << 17, 4, 8, s).is_err());
    assert!(TreeSketch::new(1 << 12, 4, 1 << 20, s).is_err()); // levels too large
    assert!(TreeSketch::with_dims(&[2, 0], 8, s).is_err());

    let ts = TensorSketch::new(2, 4, 8, s).unwrap();
    let tree = TreeSketch::new(2, 4, 8, s).unwrap();
    let nan = [1.0, f64::NAN, 0.0, 0.0];
    // NaN, wrong length
    assert!(matches!(
        ts.apply_power(&nan),
        Err(Error::NonFinite { row: 1, .. })
    ));
    assert!(matches!(
        tree.apply_power(&nan),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        ts.apply_power(&[1.0; 3]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(tree.apply_power(&[1.0; 5]).is_err());
    // kron: wrong number / length of factors, NaN
    let one = [1.0; 4];
    assert!(ts.apply_kron(&[&one[..]]).is_err());
    assert!(ts.apply_kron(&[&one[..], &one[..3]]).is_err());
    assert!(ts.apply_kron(&[&one[..], &nan[..]]).is_err());
    assert!(tree.apply_kron(&[&one[..], &one[..2]]).is_err());
    // powers need equal dims
    let mixed = TensorSketch::with_dims(&[4, 3], 8, s).unwrap();
    assert!(mixed.apply_power(&one).is_err());
    let mixed_tree = TreeSketch::with_dims(&[4, 3], 8, s).unwrap();
    assert!(mixed_tree.apply_power(&one).is_err());
    // rows: shape mismatch, empty
    let a = Mat::<f64>::zeros(3, 5);
    let view = MatrixRef::dense(a.as_ref()).unwrap();
    assert!(matches!(
        ts.apply_rows(view, Par::Seq),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(tree.apply_rows(view, Par::Seq).is_err());
    assert!(mixed.apply_rows(view, Par::Seq).is_err());
    let e = Mat::<f64>::zeros(0, 4);
    assert!(matches!(
        ts.apply_rows(MatrixRef::dense(e.as_ref()).unwrap(), Par::Seq),
        Err(Error::Empty { .. })
    ));
    // too large an output
    let big = TensorSketch::new(1, 1, 1 << 20, s).unwrap();
    let tall = Mat::<f64>::zeros(1 << 9, 1);
    assert!(matches!(
        big.apply_rows(MatrixRef::dense(tall.as_ref()).unwrap(), Par::Seq),
        Err(Error::TooLarge { .. })
    ));
    // buckets, entries, spectra
    assert!(ts.mode_bucket(2, 0).is_err());
    assert!(ts.mode_bucket(0, 4).is_err());
    assert!(ts.tensor_bucket(&[0]).is_err());
    assert!(ts.tensor_bucket(&[0, 9]).is_err());
    assert!(ts.sketch_entries(&[0, 1, 2], &[1.0]).is_err());
    assert!(ts.sketch_entries(&[0, 4], &[1.0]).is_err());
    assert!(ts.sketch_entries(&[0, 1], &[f64::INFINITY]).is_err());
    assert!(ts.mode_sketch(3, &one).is_err());
    assert!(ts.mode_sketch(0, &nan).is_err());
    assert!(ts.mode_spectrum(0, &one[..2]).is_err());
    assert!(ts.forward(&[1.0; 7]).is_err());
    assert!(ts.forward(&[f64::NAN; 8]).is_err());
    let spec = ts.forward(&[1.0; 8]).unwrap();
    assert!(ts.inverse(&spec[..4]).is_err());
    let mut bad = spec.clone();
    bad[1].re = f64::NAN;
    assert!(ts.inverse(&bad).is_err());

    // polynomial features
    let ok = PolyKernelParams::default();
    for bad in [
        PolyKernelParams { degree: 0, ..ok },
        PolyKernelParams {
            sketch_dim: 0,
            ..ok
        },
        PolyKernelParams { gamma: 0.0, ..ok },
        PolyKernelParams {
            gamma: f64::NAN,
            ..ok
        },
        PolyKernelParams { coef0: -1.0, ..ok },
        PolyKernelParams {
            coef0: f64::INFINITY,
            ..ok
        },
        PolyKernelParams {
            degree: 0,
            method: TensorMethod::Tree,
            ..ok
        },
    ] {
        assert!(PolyKernelFeatures::new(4, bad, s).is_err(), "{bad:?}");
    }
    assert!(PolyKernelFeatures::new(0, ok, s).is_err());
    let f = PolyKernelFeatures::new(
        4,
        PolyKernelParams {
            sketch_dim: 8,
            ..ok
        },
        s,
    )
    .unwrap();
    assert!(f.transform(view, Par::Seq).is_err());
    assert!(f.transform_vec(&nan).is_err());
    assert!(f.transform_vec(&[1.0; 2]).is_err());
    assert!(f.kernel(&one, &nan).is_err());
    assert!(f.kernel(&one, &one[..3]).is_err());
    // A kernel value beyond f64 is an error, not Ok(∞) (an audit found (γ·4e200 + c)^p = ∞).
    let huge = [1e100; 4];
    assert!(matches!(
        f.kernel(&huge, &huge),
        Err(Error::NonFinite { .. })
    ));
    assert!(f.kernel(&[1e20; 4], &[1e20; 4]).unwrap().is_finite());
    let x = Mat::<f64>::from_fn(5, 4, |i, j| (i + j) as f64);
    let xv = MatrixRef::dense(x.as_ref()).unwrap();
    let phi = f.transform(xv, Par::Seq).unwrap();
    assert!(f.kernel_error(xv, phi.as_ref(), 0, Par::Seq).is_err());
    assert!(f.kernel_error(view, phi.as_ref(), 5, Par::Seq).is_err());
    assert!(f.kernel_error(xv, phi.subcols(0, 4), 5, Par::Seq).is_err());
    assert!(f.kernel_error(xv, phi.subrows(0, 2), 5, Par::Seq).is_err());
    let mut phin = phi.clone();
    phin[(0, 0)] = f64::NAN;
    assert!(f.kernel_error(xv, phin.as_ref(), 5, Par::Seq).is_err());
    assert!(f.kernel_error(xv, phi.as_ref(), 5, Par::Seq).is_ok());
    // generator
    assert!(clustered_rows(0, 4, 2, 0.1, s).is_err());
    assert!(clustered_rows(4, 4, 0, 0.1, s).is_err());
    assert!(clustered_rows(4, 4, 2, -0.1, s).is_err());
    assert!(clustered_rows(4, 4, 2, f64::NAN, s).is_err());
    assert!(clustered_rows(1 << 20, 1 << 12, 2, 0.1, s).is_err());
}

/// The full-size kernel-error figures (n = 1500, m up to 16384; about 20 s in the test profile,
/// one thread).
#[test]
fn full_size_kernel_error_figures() {
    // The project's specification of TensorSketch (kept outside this repository) states, for
    // d = 40, p = 3, n = 1500, K = ⟨x, y⟩³ (here data seed 1): iid standard Gaussian rows
    // 0.92 / 0.46 / 0.23 and clustered rows (8 clusters, noise 0.3) 0.13 / 0.10 / 0.03 at
    // m = 1024 / 4096 / 16384, both falling like m^{-1/2}. iid: one sketch seed (100);
    // clustered: the median over sketch seeds 100–102 at each m.
    // Pass rules:
    // - iid: within ±10% of the stated figures (its spread over sketch seeds is 0.6–1 % sd);
    // - the m^{-1/2} law: the log-log slope of the error against m over the three m is
    //   −0.5 ± 0.15 for each kind of data (the rule of the small slope test);
    // - the data dependence: clustered at most 1/4 of iid at every m (the stated figures have
    //   iid/clustered = 7.1 / 4.6 / 7.7);
    // - clustered: `common::clustered_kernel_error_rule` against the median over 24 other
    //   sketch seeds (`common::CLUSTERED_KERNEL_ERROR`, 0.143 / 0.0745 / 0.0348): each m within
    //   a factor 1.5, the geometric mean of the three ratios within 1.25 (≈ 4 sd each; the
    //   derivation is at the rule). The rules above let the clustered error drift to 0.055 at
    //   m = 16384 (iid/4) with a slope still in range, so without this an accuracy regression on
    //   clustered data would pass; this one catches a 30 % loss at every m with probability 0.86
    //   over seed triples, and on these seeds (ratios 0.994 / 1.107 / 1.034, geometric mean
    //   1.044) any loss by more than 20 % (errors × 1.3 give a geometric mean 1.36).
    //   It replaced "within ±20 % of 0.150 / 0.059 / 0.033", the errors at the single sketch
    //   seed 100, which held on 3 of 6 other seeds (the seed audit, `tests/seed_review.rs`).
    // Discrepancy, not asserted: the stated clustered figures are not what this data model
    // (`clustered_rows`: 8 unit centres, noise 0.3/√d per coordinate) gives, and they do not
    // follow the law they are said to follow — 0.13 → 0.10 is a factor 1.3 for 4× the rows
    // where m^{-1/2} gives 2, and 0.10 → 0.03 a factor 3.3. Measured (24 sketch seeds, medians):
    // clustered 0.143 / 0.0745 / 0.0348, slope −0.51; iid (seed 100) 0.911 / 0.452 / 0.226,
    // slope −0.50 — the clustered figures follow the law, 0.10 at m = 4096 is not reproduced
    // (the 24 seeds range over 0.058–0.095 there).
    let iid = problems::gaussian_matrix(1500, 40, Seed::new(1)).unwrap();
    let clustered = clustered_rows(1500, 40, 8, 0.3, Seed::new(1)).unwrap();
    let iid_stated = [0.92, 0.46, 0.23];
    let (mut e_iid, mut e_cl) = (Vec::new(), Vec::new());
    for ((m, _), &stated) in common::CLUSTERED_KERNEL_ERROR.iter().zip(&iid_stated) {
        let params = PolyKernelParams {
            degree: 3,
            sketch_dim: *m,
            ..Default::default()
        };
        let i = kernel_error(&iid, params, 1);
        let c = common::median_kernel_error(&clustered, *m, 100..103);
        eprintln!("m = {m}: iid {i:.4} (stated {stated}), clustered {c:.4} (median of 3)");
        assert!((i / stated - 1.0).abs() < 0.1, "iid m={m}: {i} vs {stated}");
        assert!(c <= i / 4.0, "m={m}: clustered {c} vs iid {i}");
        e_iid.push(i);
        e_cl.push(c);
    }
    common::clustered_kernel_error_rule([e_cl[0], e_cl[1], e_cl[2]]).unwrap();
    let mf: Vec<f64> = common::CLUSTERED_KERNEL_ERROR
        .iter()
        .map(|&(m, _)| m as f64)
        .collect();
    for (what, errs) in [("iid", &e_iid), ("clustered", &e_cl)] {
        let slope = loglog_slope(&mf, errs);
        eprintln!("{what}: slope {slope:.3}");
        assert!(
            (-0.65..=-0.35).contains(&slope),
            "{what}: slope {slope}, errors {errs:?}"
        );
    }
}

#[test]
fn mode_spectra_give_unbiased_tensor_contractions() {
    // The building block of the sketched tensor power method (ALGORITHMS.md §7) from the public
    // API: for T = a ⊗ b ⊗ c, the estimate
    //   T(I, v, w)_i ≈ σ₀(i)·IFFT(FFT(s_T) ∘ conj(FFT(C₁v)) ∘ conj(FFT(C₂w)))[h₀(i)]
    // is unbiased for a_i⟨b, v⟩⟨c, w⟩, and ⟨s_T, TS(u ⊗ v ⊗ w)⟩ for T(u, v, w). Pass rule: within
    // 4 standard errors over 10⁴ seeds (d = 4, m = 16).
    let (a, b, c) = (vector(4, 51), vector(4, 52), vector(4, 53));
    let (u, v, w) = (vector(4, 54), vector(4, 55), vector(4, 56));
    let i = 2;
    let exact_vec = a[i] * dot(&b, &v) * dot(&c, &w);
    let exact_full = dot(&a, &u) * dot(&b, &v) * dot(&c, &w);
    let (mut s1, mut s2, mut f1, mut f2) = (0.0, 0.0, 0.0, 0.0);
    let seeds = 10_000;
    for s in 0..seeds {
        let ts = TensorSketch::new(3, 4, 16, Seed::new(s)).unwrap();
        let s_t = ts.apply_kron(&[&a[..], &b[..], &c[..]]).unwrap();
        let mut spec = ts.forward(&s_t).unwrap();
        for (k, x) in [(1, &v), (2, &w)] {
            for (z, t) in spec.iter_mut().zip(ts.mode_spectrum(k, x).unwrap()) {
                *z *= t.conj();
            }
        }
        let corr = ts.inverse(&spec).unwrap();
        let (h, sigma) = ts.mode_bucket(0, i).unwrap();
        let est = sigma * corr[h];
        s1 += est;
        s2 += est * est;
        let full = dot(&s_t, &ts.apply_kron(&[&u[..], &v[..], &w[..]]).unwrap());
        f1 += full;
        f2 += full * full;
    }
    let n = seeds as f64;
    for (what, m1, m2, exact) in [
        ("T(I,v,w)_i", s1, s2, exact_vec),
        ("T(u,v,w)", f1, f2, exact_full),
    ] {
        let mean = m1 / n;
        let se = ((m2 / n - mean * mean) / n).sqrt();
        assert!(
            (mean - exact).abs() <= 4.0 * se,
            "{what}: {mean} ± {se} vs {exact}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Oversized requests: refused up front, or (hash tables) bounded by a budget.

/// `clustered_rows` bounds `clusters·d` as it bounds `n·d` (the centres are drawn whole), and
/// keeps only the centres its rows use: the bits are those of the generator that stored them all.
#[test]
fn clustered_rows_bounds_the_centres() {
    let s = Seed::new(4);
    for (n, d, clusters) in [(1, 1, 1usize << 40), (1, 1, usize::MAX), (1, 1024, 1 << 22)] {
        let r = clustered_rows(n, d, clusters, 0.1, s);
        assert!(
            matches!(r, Err(Error::TooLarge { .. })),
            "{clusters}: {r:?}"
        );
    }
    // The documented model, every centre stored (as the generator did before it kept only
    // the first min(clusters, n)).
    let reference = |n: usize, d: usize, clusters: usize, noise: f64| {
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = s.block_rng(0x53 << 32, 0);
        let mut centres = Mat::<f64>::zeros(clusters, d);
        for j in 0..clusters {
            let mut norm2: f64 = 0.0;
            while norm2 == 0.0 {
                for c in 0..d {
                    let g: f64 = StandardNormal.sample(&mut rng);
                    centres[(j, c)] = g;
                    norm2 += g * g;
                }
            }
            let inv = 1.0 / norm2.sqrt();
            for c in 0..d {
                centres[(j, c)] *= inv;
            }
        }
        let scale = noise / (d as f64).sqrt();
        let mut a = Mat::<f64>::zeros(n, d);
        for i in 0..n {
            for c in 0..d {
                let g: f64 = StandardNormal.sample(&mut rng);
                a[(i, c)] = centres[(i % clusters, c)] + scale * g;
            }
        }
        a
    };
    for (n, d, clusters) in [(5, 3, 2), (5, 3, 5), (5, 3, 6), (5, 3, 100), (1, 7, 40)] {
        let a = clustered_rows(n, d, clusters, 0.3, s).unwrap();
        assert_bitwise(
            &a,
            &reference(n, d, clusters, 0.3),
            &format!("{clusters} clusters"),
        );
    }
}

/// `kernel_error` copies the compared features: their size `r·m` is bounded (2²⁸) before a
/// value is read, so a zero-stride view declaring 4096 × 2²¹ features is refused at once
/// instead of copied into 64 GiB; and `rows = usize::MAX` reports `r²` without overflow.
#[test]
fn kernel_error_bounds_the_features_it_copies() {
    let m = 1 << 21;
    let params = PolyKernelParams {
        sketch_dim: m,
        ..Default::default()
    };
    let f = PolyKernelFeatures::new(1, params, Seed::new(1)).unwrap();
    let x = faer::MatRef::from_repeated_ref(&1.0f64, 4096, 1);
    let xv = MatrixRef::dense(x).unwrap();
    let features = faer::MatRef::from_repeated_ref(&0.0f64, 4096, m);
    let r = f.kernel_error(xv, features, 4096, Par::Seq);
    assert!(
        matches!(r, Err(Error::TooLarge { requested, .. }) if requested == 1 << 33),
        "{r:?}"
    );
    // A CSC matrix can declare usize::MAX rows (its indptr has one entry per column).
    let tall = randnla::input::SparseRef::<f64>::try_csc(usize::MAX, 1, &[0, 0], &[], &[]).unwrap();
    let r = f.kernel_error(MatrixRef::Sparse(tall), features, usize::MAX, Par::Seq);
    let r2 = (usize::MAX as u128) * (usize::MAX as u128);
    assert!(
        matches!(r, Err(Error::TooLarge { requested, .. }) if requested == r2),
        "{r:?}"
    );
}

/// The sketch dimension is capped at 2²²: the FFT of length `m` is planned at construction, and
/// rustfft's plan for `m = 2³¹ − 1` needed a 10.3 GB allocation (an abort when refused), for the
/// prime `2²⁶ − 5` 15.9 GB and 50 s.
#[test]
fn sketch_dimension_is_capped_where_the_fft_plan_stays_small() {
    let s = Seed::new(1);
    for m in [(1 << 22) + 1, (1 << 26) - 5, (1 << 31) - 1] {
        assert!(matches!(
            TensorSketch::new(1, 1, m, s),
            Err(Error::InvalidParameter { name: "m", .. })
        ));
        assert!(TreeSketch::new(1, 1, m, s).is_err());
        for method in [TensorMethod::Fft, TensorMethod::Tree] {
            let params = PolyKernelParams {
                sketch_dim: m,
                method,
                ..Default::default()
            };
            assert!(PolyKernelFeatures::new(1, params, s).is_err(), "{m}");
        }
    }
}

/// Hash tables are built within one budget per sketch (2²⁵ entries): 65536 modes of dimension
/// 2²² (1 TiB of tables and 2³⁸ hashes before) construct at once, and the modes beyond the
/// budget, which regenerate their codes, give the same buckets as the CountSketch they are.
#[test]
fn hash_tables_stay_within_a_budget() {
    let s = Seed::new(6);
    let (p, d) = (1usize << 16, 1usize << 22);
    let ts = TensorSketch::new(p, d, 16, s).unwrap();
    let tree = TreeSketch::new(p, d, 1, s).unwrap();
    // Modes 0..8 fill the budget (8 · 2²²); mode 8 on regenerate their codes.
    for k in [0, 7, 8, 9, p - 1] {
        let cs = CountSketch::new(16, d, s.derive((0x50 << 32) + k as u64)).unwrap();
        for i in [0, 1, 12345, d - 1] {
            assert_eq!(
                ts.mode_bucket(k, i).unwrap(),
                cs.bucket(i).unwrap(),
                "{k} {i}"
            );
        }
    }
    // Both sketch a unit vector's power: TS(e_i^{⊗p}) = Σ(i,…,i)·e_{H(i,…,i)}, and every
    // entry of the tree's m = 1 sketch is ±1.
    let i = 12345;
    let mut x = vec![0.0f64; d];
    x[i] = 1.0;
    let (h, sign) = ts.tensor_bucket(&vec![i; p]).unwrap();
    let y = ts.apply_power(&x).unwrap();
    // The product of p = 2¹⁶ unit-modulus spectra, each rounded to ε, drifts by at most about
    // p·ε ≈ 1.5e-11 (then one inverse FFT of length 16): 1e-9 leaves a margin of ~100.
    for (t, &v) in y.iter().enumerate() {
        let want = if t == h { sign } else { 0.0 };
        assert!((v - want).abs() < 1e-9, "entry {t}: {v} vs {want}");
    }
    let y = tree.apply_power(&x).unwrap();
    assert!((y[0].abs() - 1.0).abs() < 1e-9, "{y:?}");
}

/// `kernel_error` at large γ: with `γ = 2³³²` and `c = 0` the features and the kernel are those
/// of `γ = 1` times exact powers of two (`√γ = 2¹⁶⁶`), so the relative error must be the same;
/// the kernel's entries (≈ 2⁶⁶⁴) are finite but their squares are not, which made the old
/// unscaled sums inf/inf = NaN. At `γ = 2¹⁰⁰⁰` the kernel itself overflows: an error, not NaN.
#[test]
fn kernel_error_is_scale_safe_even_where_the_kernel_overflows() {
    let x = clustered_rows(60, 8, 4, 0.3, Seed::new(3)).unwrap();
    let xv = MatrixRef::dense(x.as_ref()).unwrap();
    let error_at = |gamma: f64| {
        let params = PolyKernelParams {
            degree: 2,
            gamma,
            coef0: 0.0,
            sketch_dim: 64,
            ..Default::default()
        };
        let f = PolyKernelFeatures::new(8, params, Seed::new(5)).unwrap();
        let phi = f.transform(xv, Par::Seq).unwrap();
        f.kernel_error(xv, phi.as_ref(), 60, Par::Seq)
    };
    let base = error_at(1.0).unwrap();
    let big = error_at(2f64.powi(332)).unwrap();
    assert!(base.is_finite() && base > 0.0, "{base}");
    assert!((big - base).abs() <= 1e-12 * base, "{big} against {base}");
    // At γ = 2¹⁰⁰⁰, K ≈ 2²⁰⁰⁰ leaves f64's range while the features (≈ γ) and the ratio do not:
    // the ratio is computed at scale (it was refused as NonFinite before session 38).
    let huge = error_at(2f64.powi(1000)).unwrap();
    assert!((huge - base).abs() <= 1e-12 * base, "{huge} against {base}");
    // Refused: a degree so high that the largest base, scaled into [1, 2), still overflows
    // when raised to it (1.9^1200 ≈ 2^1111).
    let one = Mat::from_fn(1, 1, |_, _| 1.9f64.sqrt());
    let params = PolyKernelParams {
        degree: 1200,
        gamma: 1.0,
        coef0: 0.0,
        sketch_dim: 16,
        ..Default::default()
    };
    let f = PolyKernelFeatures::new(1, params, Seed::new(5)).unwrap();
    let ov = MatrixRef::dense(one.as_ref()).unwrap();
    let phi = f.transform(ov, Par::Seq).unwrap();
    assert!(matches!(
        f.kernel_error(ov, phi.as_ref(), 1, Par::Seq),
        Err(Error::NonFinite { .. })
    ));
}

/// Every row of `apply_rows` is the one-vector sketch of that row, for sketch sizes that are and
/// are not whole cache lines (the row buffer is padded and copied out in tiles of 8 columns) and a
/// row count that leaves a partial task of rows.
#[test]
fn every_row_of_apply_rows_is_the_vector_sketch() {
    let x = clustered_rows(37, 12, 3, 0.3, Seed::new(8)).unwrap();
    let view = MatrixRef::dense(x.as_ref()).unwrap();
    for m in [5, 61, 64, 67] {
        let ts = TensorSketch::new(3, 12, m, Seed::new(9)).unwrap();
        let rows = ts.apply_rows(view, Par::Seq).unwrap();
        assert_eq!((rows.nrows(), rows.ncols()), (37, m));
        for i in 0..37 {
            let row: Vec<f64> = (0..12).map(|j| x[(i, j)]).collect();
            let v = ts.apply_power(&row).unwrap();
            let r: Vec<f64> = (0..m).map(|j| rows[(i, j)]).collect();
            assert_eq!(v, r, "row {i}, m = {m}");
        }
    }
}
