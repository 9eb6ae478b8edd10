//! Second review of TensorSketch, the tree sketch and the polynomial-kernel features
//! (ALGORITHMS.md §3): thread-count invariance of errors, degenerate and extreme degrees and
//! sketch sizes, and the documented numbers. Every test has fixed seeds and a stated pass rule.

use crate::common;

use common::{mean_se, with_threads};
use faer::Mat;
use randnla::sketch::tensor::{
    PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
};
use randnla::{Error, MatrixRef, Seed};

/// A matrix with overflowing rows 1023 and 2048–4095 (`1e200` cubed): every map must name row
/// 1023, the first bad row, on 1, 2 and 4 threads. On two threads the parallel driver returned
/// the error of whichever task failed first in time — row 2048, as the thread that started at
/// row 2048 failed at once while the other was still sketching rows 0–1022 — so the error
/// depended on the thread count. Pass rule: row 1023 in every run (three runs per count).
#[test]
fn the_first_bad_row_is_named_on_any_thread_count() {
    let (n, d, m) = (4096, 4, 1024);
    let mut a = Mat::from_fn(n, d, |i, j| ((i + 3 * j) as f64 * 0.1).sin());
    a[(n / 4 - 1, 0)] = 1e200;
    for i in n / 2..n {
        a[(i, 1)] = 1e200;
    }
    let view = MatrixRef::dense(a.as_ref()).unwrap();
    let ts = TensorSketch::new(3, d, m, Seed::new(1)).unwrap();
    let tree = TreeSketch::new(3, d, m, Seed::new(2)).unwrap();
    let params = PolyKernelParams {
        degree: 3,
        sketch_dim: m,
        method: TensorMethod::Tree,
        ..Default::default()
    };
    let poly = PolyKernelFeatures::new(d, params, Seed::new(3)).unwrap();
    for threads in [1, 2, 4] {
        for run in 0..3 {
            let results = with_threads(threads, |par| {
                [
                    ts.apply_rows(view, par).map(|_| ()),
                    tree.apply_rows(view, par).map(|_| ()),
                    poly.transform(view, par).map(|_| ()),
                ]
            });
            for (map, r) in results.into_iter().enumerate() {
                match r {
                    Err(Error::NonFinite { row, .. }) => assert_eq!(
                        row, 1023,
                        "map {map}, {threads} threads, run {run}: named row {row}"
                    ),
                    other => panic!("map {map}, {threads} threads: {other:?}"),
                }
            }
        }
    }
}

fn is_too_large<V: std::fmt::Debug>(r: &randnla::Result<V>) -> bool {
    matches!(r, Err(Error::TooLarge { .. }))
}

/// Buffers within the size caps that the allocator refuses are `TooLarge` errors, not an abort
/// ("memory allocation of … bytes failed", SIGABRT), under a 512 MiB address-space limit:
/// - a `2¹⁶ × 1024` feature matrix (`n·m = 2²⁶ ≤ 2²⁸`, 512 MiB) from `apply_rows` and
///   `transform` — it was `Mat::zeros`;
/// - the levels of a degree-64 tree at `m = 2²⁰` (`P·m = 2²⁶`, the cap: two 512 MiB buffers)
///   from `apply_power`, `apply_kron` and `apply_rows` — they were `vec!`;
/// - at `m = 2²²`, 8 rows: the 256 MiB output fits, the FFT buffers and the task's 256 MiB
///   row buffer do not — it was `Vec::resize`.
///
/// Pass rule: every call returns `Error::TooLarge` and the child process exits normally.
#[test]
fn refused_allocations_are_too_large_errors_not_aborts() {
    if !common::under_address_limit(
        module_path!(),
        "refused_allocations_are_too_large_errors_not_aborts",
        1 << 19,
    ) {
        return;
    }
    let par = faer::Par::Seq;
    // 2¹⁶ rows of width 4, one nonzero each.
    let n = 1 << 16;
    let indptr: Vec<usize> = (0..=n).collect();
    let indices: Vec<usize> = (0..n).map(|i| i % 4).collect();
    let data: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
    let csr = randnla::SparseRef::try_csr(n, 4, &indptr, &indices, &data).unwrap();
    let ts = TensorSketch::new(2, 4, 1024, Seed::new(1)).unwrap();
    let r = ts.apply_rows(MatrixRef::Sparse(csr), par);
    assert!(is_too_large(&r), "apply_rows: {:?}", r.err());
    let params = PolyKernelParams {
        sketch_dim: 1024,
        ..Default::default()
    };
    let poly = PolyKernelFeatures::new(4, params, Seed::new(2)).unwrap();
    let r = poly.transform(MatrixRef::Sparse(csr), par);
    assert!(is_too_large(&r), "transform: {:?}", r.err());

    let tree = TreeSketch::new(64, 2, 1 << 20, Seed::new(3)).unwrap();
    let x = [0.5, -1.0];
    let r = tree.apply_power(&x);
    assert!(is_too_large(&r), "tree apply_power: {:?}", r.err());
    let r = tree.apply_kron(&vec![&x[..]; 64]);
    assert!(is_too_large(&r), "tree apply_kron: {:?}", r.err());
    let a = Mat::from_fn(2, 2, |i, j| (i + j) as f64 + 0.5);
    let r = tree.apply_rows(MatrixRef::dense(a.as_ref()).unwrap(), par);
    assert!(is_too_large(&r), "tree apply_rows: {:?}", r.err());
    drop(tree);

    let ts = TensorSketch::new(2, 1, 1 << 22, Seed::new(4)).unwrap();
    let a = Mat::from_fn(8, 1, |i, _| i as f64 + 1.0);
    let r = ts.apply_rows(MatrixRef::dense(a.as_ref()).unwrap(), par);
    assert!(is_too_large(&r), "m = 2^22: {:?}", r.err());
}

/// `max |got − want|`.
fn max_diff(got: &[f64], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// High degrees: TensorSketch at `p = 16, 32, 64` equals the explicit tensor CountSketch
/// (`tensor_bucket` of every multi-index) — for `d = 1` (one entry `x^p`) at `m = 1, 2, 7, 64`,
/// and for `d = 2` (`2¹⁶` multi-indices) at `p = 16`; the tree sketch of a one-dimensional `x`
/// is `±x^p` in one bucket (it is the CountSketch of the one-entry tensor). Pass rule: every
/// entry within `1e-12·‖x‖₁^p` of the reference (the FFT's rounding is ≈ `p·1e-16` of it).
#[test]
fn high_degrees_match_the_explicit_tensor_countsketch() {
    let x = [1.5f64];
    for p in [16usize, 32, 64] {
        let tol = 1e-12 * 1.5f64.powi(p as i32);
        for m in [1usize, 2, 7, 64] {
            let ts = TensorSketch::new(p, 1, m, Seed::new(p as u64 + m as u64)).unwrap();
            let got = ts.apply_power(&x).unwrap();
            let want = common::explicit_kron(&ts, &vec![&x[..]; p]);
            assert!(
                max_diff(&got, &want) <= tol,
                "TS p={p} m={m}: {got:?} vs {want:?}"
            );

            let tree = TreeSketch::new(p, 1, m, Seed::new(7)).unwrap();
            let got = tree.apply_power(&x).unwrap();
            let big = got
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .unwrap()
                .0;
            let mut want = vec![0.0; m];
            want[big] = got[big].signum() * 1.5f64.powi(p as i32);
            assert!(max_diff(&got, &want) <= tol, "tree p={p} m={m}: {got:?}");
        }
    }
    let x = [0.75, -0.5];
    let l1p = 1.25f64.powi(16);
    for m in [1usize, 7, 64] {
        let ts = TensorSketch::new(16, 2, m, Seed::new(40 + m as u64)).unwrap();
        let got = ts.apply_power(&x).unwrap();
        let want = common::explicit_kron(&ts, &vec![&x[..]; 16]);
        assert!(max_diff(&got, &want) <= 1e-12 * l1p, "d=2 p=16 m={m}");
    }
}

/// The tree sketch at degrees that are not powers of two above 4 (`p = 5, 6, 7`: three, two and
/// one padding leaves, `P = 8`) is unbiased, and so are the tree-based polynomial features with
/// `c > 0` there. Pass rule over 4000 seeds (`m = 16`): `|mean − ⟨x, y⟩^p| ≤ 4` standard errors,
/// resp. `|mean − (γ⟨x,y⟩ + c)^p|` (measured |z| ≤ 1 for the tree).
#[test]
fn tree_is_unbiased_at_degrees_that_are_not_powers_of_two() {
    let x = [0.9, -0.4, 0.3, 1.2, -0.7];
    let y = [0.5, -0.8, 0.1, 0.9, 0.3];
    let dot: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    for p in [5usize, 6, 7] {
        let vals: Vec<f64> = (0..4000)
            .map(|s| {
                let t = TreeSketch::new(p, 5, 16, Seed::new(100 * p as u64 + s)).unwrap();
                let (a, b) = (t.apply_power(&x).unwrap(), t.apply_power(&y).unwrap());
                a.iter().zip(&b).map(|(u, v)| u * v).sum()
            })
            .collect();
        let (mean, se) = mean_se(&vals);
        let exact = dot.powi(p as i32);
        assert!(
            (mean - exact).abs() <= 4.0 * se,
            "tree p={p}: {mean} ± {se} vs {exact}"
        );
    }
    let params = PolyKernelParams {
        degree: 5,
        gamma: 0.6,
        coef0: 0.3,
        sketch_dim: 16,
        method: TensorMethod::Tree,
    };
    let vals: Vec<f64> = (0..4000)
        .map(|s| {
            let f = PolyKernelFeatures::new(5, params, Seed::new(9000 + s)).unwrap();
            let (a, b) = (f.transform_vec(&x).unwrap(), f.transform_vec(&y).unwrap());
            a.iter().zip(&b).map(|(u, v)| u * v).sum()
        })
        .collect();
    let (mean, se) = mean_se(&vals);
    let exact = (0.6 * dot + 0.3f64).powi(5);
    assert!(
        (mean - exact).abs() <= 4.0 * se,
        "features: {mean} ± {se} vs {exact}"
    );
}

/// Row blocks: `apply_rows` / `transform` of `row_block(s, e)` of a dense or CSR input are
/// bitwise rows `s..e` of the whole matrix's features, on 1, 2 and 4 threads, for blocks that
/// start inside a 16-row task and end inside another; and a second call on the same sketch gives
/// the same bits (each call's buffers are fresh, each task's are reused across its rows).
/// Pass rule: bitwise equality everywhere.
#[test]
fn row_blocks_are_rows_of_the_whole_on_any_thread_count() {
    let (n, d, m) = (70, 5, 24);
    let a = Mat::from_fn(n, d, |i, j| {
        if (i + 2 * j) % 3 == 0 {
            0.0
        } else {
            ((i * d + j) as f64 * 0.61).cos()
        }
    });
    let mut tri = sprs::TriMat::new((n, d));
    for i in 0..n {
        for j in 0..d {
            if a[(i, j)] != 0.0 {
                tri.add_triplet(i, j, a[(i, j)]);
            }
        }
    }
    let csr: sprs::CsMat<f64> = tri.to_csr();
    let ts = TensorSketch::new(3, d, m, Seed::new(31)).unwrap();
    let tree = TreeSketch::new(5, d, m, Seed::new(32)).unwrap();
    let params = PolyKernelParams {
        degree: 3,
        gamma: 0.4,
        coef0: 2.0,
        sketch_dim: m,
        method: TensorMethod::Fft,
    };
    let poly = PolyKernelFeatures::new(d, params, Seed::new(33)).unwrap();
    let run = |v: MatrixRef<'_, f64>, par| {
        [
            ts.apply_rows(v, par).unwrap(),
            tree.apply_rows(v, par).unwrap(),
            poly.transform(v, par).unwrap(),
        ]
    };
    let dense = MatrixRef::dense(a.as_ref()).unwrap();
    let whole = run(dense, faer::Par::Seq);
    let again = run(dense, faer::Par::Seq);
    for (w, g) in whole.iter().zip(&again) {
        common::assert_bitwise(w, g, "second call");
    }
    for view in [dense, MatrixRef::sparse(&csr).unwrap()] {
        for (s, e) in [(0, 70), (5, 38), (17, 18), (31, 70)] {
            let block = view.row_block(s, e).unwrap();
            for threads in [1, 2, 4] {
                let got = with_threads(threads, |par| run(block, par));
                for (map, (g, w)) in got.iter().zip(&whole).enumerate() {
                    let w = w.as_ref().subrows(s, e - s).to_owned();
                    common::assert_bitwise(
                        g,
                        &w,
                        &format!("map {map}, rows {s}..{e}, {threads} threads"),
                    );
                }
            }
        }
    }
}

/// The documented `TooLarge` of the tree-based features (`PolyKernelFeatures::new`: "degree = 32
/// with sketch_dim = 2²²", the `P·m > 2²⁶` levels) is what the constructor returns, and it
/// depends on the padded degree `P = 2^⌈log₂ p⌉`: `p = 17` pads to 32 and is refused at
/// `m = 2²²` like `p = 32` (`P·m = 2²⁷`), by the size check before any allocation. Pass rule:
/// `Error::TooLarge` with `requested = P·m` and `limit = 2²⁶`; the FFT method at `p = 17` is
/// accepted (it has no levels).
#[test]
fn tree_features_refuse_levels_beyond_the_cap_by_padded_degree() {
    for degree in [17usize, 32] {
        let params = PolyKernelParams {
            degree,
            sketch_dim: 1 << 22,
            method: TensorMethod::Tree,
            ..Default::default()
        };
        match PolyKernelFeatures::new(3, params, Seed::new(1)) {
            Err(Error::TooLarge {
                requested, limit, ..
            }) => {
                assert_eq!((requested, limit), (32 << 22, 1 << 26), "degree {degree}");
            }
            other => panic!("degree {degree}: {:?}", other.map(|_| ())),
        }
        let r = TreeSketch::new(degree, 3, 1 << 22, Seed::new(1));
        assert!(is_too_large(&r.map(|_| ())), "TreeSketch degree {degree}");
    }
    // The same degree with the FFT method has no level buffers to refuse.
    let params = PolyKernelParams {
        degree: 17,
        sketch_dim: 1 << 10,
        method: TensorMethod::Fft,
        ..Default::default()
    };
    assert!(PolyKernelFeatures::new(3, params, Seed::new(1)).is_ok());
}
