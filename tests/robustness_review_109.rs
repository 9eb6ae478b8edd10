//! Five robustness items left open by earlier reviews: `qr_solve` on a numerically
//! rank-deficient `A`, `random_sparse` with `nnz_per_row` near `d`, the fallible reservation of
//! `Pow2Scaled`'s sparse copy, the total work of the tensor power method, and TensorSketch's
//! FFT intermediates at the ends of the range.

use crate::common;

use common::{
    address_space_left, assert_example_rejected, under_address_limit, TempFiles, LIMIT_KIB,
};
use faer::{Mat, Par};
use randnla::lstsq::qr_solve;
use randnla::{Error, MatrixRef, Seed};

/// A `200 × 3` `A` whose third column is the floating-point sum of the first two.
fn dependent_columns() -> (Mat<f64>, Vec<f64>) {
    let g = randnla::problems::gaussian_matrix(200, 2, Seed::new(5)).unwrap();
    let a = Mat::from_fn(200, 3, |i, j| match j {
        2 => g[(i, 0)] + g[(i, 1)],
        _ => g[(i, j)],
    });
    let b: Vec<f64> = (0..200).map(|i| (0.3 * i as f64).cos()).collect();
    (a, b)
}

/// `qr_solve` (Householder QR without pivoting) on a numerically rank-deficient `A` returned
/// `Ok` with an answer dominated by rounding (`R₃₃ ≈ 10⁻¹⁶·‖A‖`, entries of `x` near 10¹⁵);
/// it is now `Error::RankDeficient { rank: 2, required: 3 }`. A ridge makes the problem full
/// rank, and is still solved.
#[test]
fn qr_solve_refuses_a_numerically_rank_deficient_a() {
    let (a, b) = dependent_columns();
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let r = qr_solve(av, &b, 0.0, Par::Seq);
    assert_eq!(
        r,
        Err(Error::RankDeficient {
            rank: 2,
            required: 3
        }),
        "{r:?}"
    );
    let x = qr_solve(av, &b, 1e-3, Par::Seq).unwrap();
    assert!(x.iter().all(|v| v.is_finite() && v.abs() < 10.0), "{x:?}");
}

/// The lstsq example's `--method qr` on that `A`: one line on stderr naming the rank
/// deficiency, exit code 2 (it printed an `x` near 10¹⁴ and exited 0).
#[test]
fn lstsq_example_qr_on_a_rank_deficient_a_is_a_one_line_error() {
    let (a, b) = dependent_columns();
    let f = TempFiles::new("randnla-review109", "qr-rank");
    let (ap, bp) = (f.path("A.mtx"), f.path("b.mtx"));
    randnla::io::write_dense_path(&ap, a.as_ref()).unwrap();
    let bm = Mat::from_fn(b.len(), 1, |i, _| b[i]);
    randnla::io::write_dense_path(&bp, bm.as_ref()).unwrap();
    let line = assert_example_rejected("lstsq", &[&ap, &bp, "--method", "qr"]);
    assert!(line.contains("rank"), "{line}");
}

/// `random_sparse` with rows that fill (nearly) every column: exactly `k` sorted distinct
/// columns in range per row, column `i mod d` among them, and `k = d` gives every column in
/// every row. (Rejection sampling needed about `d·ln d` draws a row there, 15 200 for
/// `d = k = 2000`; Floyd's algorithm takes `k − 1`, counted by the unit test
/// `problems::tests::dense_rows_take_one_draw_per_column`.) At `n = 3000, d = k = 2000` the old
/// code made about 4.6·10⁷ hashed draws; this size stays modest for a debug test run.
#[test]
fn random_sparse_fills_dense_rows_exactly() {
    use randnla::problems::random_sparse;
    for (n, d, k) in [
        (3000, 2000, 2000),
        (50, 2000, 1999),
        (50, 400, 301),
        (9, 65, 65),
    ] {
        let a = random_sparse(n, d, k, Seed::new(11)).unwrap();
        assert_eq!((a.rows(), a.cols(), a.nnz()), (n, d, n * k));
        for (i, row) in a.outer_iterator().enumerate() {
            let cols = row.indices();
            assert_eq!(cols.len(), k, "row {i}");
            assert!(cols.windows(2).all(|w| w[0] < w[1]), "row {i}");
            assert!(
                cols[k - 1] < d && cols.binary_search(&(i % d)).is_ok(),
                "row {i}"
            );
            assert!(row.data().iter().all(|v| v.is_finite()));
            if k == d {
                assert!(cols.iter().enumerate().all(|(j, &c)| c == j), "row {i}");
            }
        }
    }
    // Each of the 1999 other columns is left out of a 1999-of-2000 row with probability
    // 1/1999: over 50 rows the left-out columns are spread, not one fixed column.
    let a = random_sparse(50, 2000, 1999, Seed::new(12)).unwrap();
    let missing: std::collections::HashSet<usize> = a
        .outer_iterator()
        .map(|row| {
            (0..2000)
                .find(|c| row.indices().binary_search(c).is_err())
                .unwrap()
        })
        .collect();
    assert!(
        missing.len() > 40,
        "{} distinct left-out columns",
        missing.len()
    );
}

/// `normal_equations` scales an `A` whose largest entry is beyond `2^128` into range on a copy;
/// for a sparse `A` the copy of its stored values was collected into a `Vec`, which aborts the
/// process (SIGABRT) when the allocator refuses. Under a 512 MiB address limit, a CSR `A` with
/// `L = left/20` stored values (`16·L` bytes: 4/5 of the address space left) leaves no room for
/// the `8·L`-byte copy: the answer is now `Error::TooLarge`, not an abort.
#[test]
fn a_sparse_scaled_copy_that_does_not_fit_is_a_too_large_error_under_an_address_limit() {
    if !under_address_limit(
        module_path!(),
        "a_sparse_scaled_copy_that_does_not_fit_is_a_too_large_error_under_an_address_limit",
        LIMIT_KIB,
    ) {
        return;
    }
    let d = 1000;
    let n = usize::try_from(address_space_left() / 20).unwrap() / d;
    assert!(
        n >= 10 * d,
        "only {n} rows fit: the limit leaves too little to test"
    );
    let indptr: Vec<usize> = (0..=n).map(|i| i * d).collect();
    let indices: Vec<usize> = (0..n * d).map(|k| k % d).collect();
    let data: Vec<f64> = (0..n * d).map(|k| 1e60 * (1.0 + (k % 7) as f64)).collect();
    let csr = sprs::CsMat::new((n, d), indptr, indices, data);
    let b = vec![1.0; n];
    let r = randnla::lstsq::normal_equations(MatrixRef::sparse(&csr).unwrap(), &b, 0.0, Par::Seq);
    assert!(
        matches!(&r, Err(Error::TooLarge { what, .. }) if what.contains("scaled copy")),
        "{:?}",
        r.err()
    );
}

/// Each of `rank`, `starts`, `iters` is capped at `2¹⁶`, but their product was not: one call
/// could ask for `2⁴⁸` contractions. Now `rank·(starts·(iters + 1) + refine_iters + 1)` above
/// `2²⁴` is `InvalidParameter` naming that product, for both methods (checked before the
/// sketches are built). Here `1·(2¹⁶·257 + 1) = 16 842 753 > 2²⁴`: on a `1 × 1 × 1` tensor the
/// old code made all those contractions and returned `Ok`. The §7 protocol's size runs.
#[test]
fn the_tensor_power_methods_cap_the_total_number_of_contractions() {
    use randnla::tensor::{
        power_method_exact, power_method_sketched, PowerParams, SketchParams, SymmetricTensor,
    };
    let t = SymmetricTensor::dense(3, 1, vec![2.0]).unwrap();
    let too_many = PowerParams {
        starts: 1 << 16,
        iters: 256,
        refine_iters: 0,
    };
    let named = |r: &Result<randnla::tensor::CpDecomposition, Error>| {
        matches!(r, Err(Error::InvalidParameter { name, reason })
            if name.contains("rank") && name.contains("starts") && reason.contains("16842753"))
    };
    let r = power_method_exact(&t, 1, &too_many, Seed::new(1), Par::Seq);
    assert!(named(&r), "{:?}", r.err());
    let sp = SketchParams {
        power: too_many,
        ..SketchParams::default()
    };
    let r = power_method_sketched(&t, 1, &sp, Seed::new(1), Par::Seq);
    assert!(named(&r), "{:?}", r.err());
    let huge = PowerParams {
        starts: 1 << 16,
        iters: 1 << 16,
        refine_iters: 1 << 16,
    };
    let r = power_method_exact(&t, 1 << 16, &huge, Seed::new(1), Par::Seq);
    assert!(
        matches!(r, Err(Error::InvalidParameter { .. })),
        "{:?}",
        r.err()
    );
    // ALGORITHMS.md §7's protocol: L = 50 starts, N = 30 iterations, rank 10.
    let protocol = PowerParams {
        starts: 50,
        iters: 30,
        refine_iters: 30,
    };
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 10, 10, 0.0, Seed::new(2)).unwrap();
    let d = power_method_exact(&t, 10, &protocol, Seed::new(3), Par::Seq).unwrap();
    assert_eq!(d.contractions, 10 * (50 * 31 + 30 + 1));
}

/// `TS(x₁ ⊗ … ⊗ x_p)` by direct circular convolution of the mode CountSketches, the running
/// product brought back to `[1, 2)` by a power of two after each step: `(v, e)` with the sketch
/// `v·2^e` (`O(p·m²)`, no FFT, nothing over- or underflows).
fn direct_sketch(ts: &randnla::sketch::tensor::TensorSketch, xs: &[&[f64]]) -> (Vec<f64>, i32) {
    let m = ts.sketch_dim();
    let (mut acc, mut e) = (vec![0.0; m], 0);
    acc[0] = 1.0;
    for (k, x) in xs.iter().enumerate() {
        let c = ts.mode_sketch(k, x).unwrap();
        let mut next = vec![0.0; m];
        for (i, a) in acc.iter().enumerate() {
            for (j, b) in c.iter().enumerate() {
                next[(i + j) % m] += a * b;
            }
        }
        let top = next.iter().fold(0.0f64, |t, v| t.max(v.abs()));
        if top == 0.0 {
            return (next, 0);
        }
        let s = top.log2().floor() as i32;
        acc = next.iter().map(|v| v * 2f64.powi(-s)).collect();
        e += s;
    }
    (acc, e)
}

/// TensorSketch's FFT intermediates (the spectra's running product and the unnormalized inverse
/// FFT, up to `m·‖x‖₁^p`) overflowed before the sketch did, so inputs whose sketch fits in `f64`
/// were refused with `NonFinite`. Smallest case: `p = 2`, `d = 1`, `m = 2`, `x = [1e154]`
/// (sketch `±1e308` in one bucket; the inverse FFT summed `2·1e308`). Also `p = 3` with entries
/// `1e102`, and unit-scale data at `p` in the hundreds (`d = 8`, `m = 1024`, `p = 680`: sketch
/// `≈ 2¹⁰¹⁶`). Each is now sketched: the first two to 1e-10 of the largest entry of a direct
/// convolution, the last bit for bit as `2^p` times the sketch of `x/2`; a factor with two entries
/// of `1e308` in one bucket times `1e-300` too (its CountSketch overflowed); a sketch that does not
/// fit is still `NonFinite`. The tree sketch was checked as well: `[1e154]` at `p = 2`.
#[test]
fn tensor_sketch_intermediates_do_not_overflow_before_the_sketch() {
    use randnla::sketch::tensor::{
        PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
    };
    let check = |ts: &TensorSketch, xs: &[&[f64]], what: &str| {
        let got = ts.apply_kron(xs).unwrap_or_else(|e| panic!("{what}: {e}"));
        let (v, e) = direct_sketch(ts, xs);
        let want: Vec<f64> = v.iter().map(|x| x * 2f64.powi(e)).collect();
        let top = want.iter().fold(0.0f64, |t, x| t.max(x.abs()));
        assert!(top.is_finite() && top > 0.0, "{what}: {top:e}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-10 * top, "{what}: {g:e} vs {w:e}");
        }
    };
    for m in [2, 16, 1024] {
        let x = [1e154];
        let ts = TensorSketch::new(2, 1, m, Seed::new(1)).unwrap();
        check(&ts, &[&x, &x], &format!("[1e154]², m = {m}"));
        let tree = TreeSketch::new(2, 1, m, Seed::new(1)).unwrap();
        let v = tree.apply_power(&x).unwrap();
        let big = v.iter().fold(0.0f64, |t, x| t.max(x.abs()));
        assert!(
            (big - 1e308).abs() <= 1e-12 * 1e308,
            "tree, m = {m}: {big:e}"
        );
        let x = [1e102, -3e101, 0.0, 2e101];
        let ts = TensorSketch::new(3, 4, m, Seed::new(2)).unwrap();
        check(&ts, &[&x, &x, &x], &format!("p = 3, 1e102, m = {m}"));
        // A true overflow is still an error.
        let ts = TensorSketch::new(2, 1, m, Seed::new(1)).unwrap();
        assert!(matches!(
            ts.apply_power(&[1e155]),
            Err(Error::NonFinite { .. })
        ));
    }
    // The polynomial-kernel features of a row (1e102) at m = 1024, p = 3, γ = 1, c = 0 (about
    // 1e306), refused before, for both methods.
    for method in [TensorMethod::Fft, TensorMethod::Tree] {
        let params = PolyKernelParams {
            degree: 3,
            gamma: 1.0,
            coef0: 0.0,
            sketch_dim: 1024,
            method,
        };
        let f = PolyKernelFeatures::new(1, params, Seed::new(4)).unwrap();
        let v: Vec<f64> = f.transform_vec(&[1e102]).unwrap();
        let big = v.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        assert!(big > 1e305 && big.is_finite(), "{method:?}: {big:e}");
    }
    // x = c·e₁ across f64::MAX^{1/p}: the sketch is ±c^p in one bucket, and each result is an
    // error or that value (c^p finite) to 1e-12; within 2^-20 of f64::MAX it is an error, so
    // FFT rounding cannot bring a true value beyond the range back as a finite one (2^128 to
    // the 8th power, 2^1024, read 1.7976931348623147e308 in the tree sketch at m = 3). Most of
    // the sweep below the top is Ok.
    let mut ok = 0;
    for p in [2usize, 3, 5, 8] {
        for m in [1usize, 2, 3, 16, 17] {
            let ts = TensorSketch::new(p, 3, m, Seed::new(p as u64 * 31 + m as u64)).unwrap();
            let r = f64::MAX.powf(1.0 / p as f64);
            for k in 0..40 {
                let c = r * (0.3 + 0.025 * k as f64);
                let want = c.powi(p as i32);
                match ts.apply_power(&[0.0, c, 0.0]) {
                    Ok(v) => {
                        let big = v.iter().fold(0.0f64, |a, b: &f64| a.max(b.abs()));
                        assert!(want.is_finite(), "p={p} m={m} c={c:e}: Ok({big:e}) for ∞");
                        assert!((big - want).abs() <= 1e-12 * want, "p={p} m={m} c={c:e}");
                        ok += 1;
                    }
                    Err(Error::NonFinite { .. }) => {
                        assert!(want >= 0.99 * f64::MAX, "p={p} m={m} c={c:e}: refused")
                    }
                    Err(e) => panic!("p={p} m={m} c={c:e}: {e}"),
                }
            }
        }
    }
    assert!(ok > 400, "{ok} of 800 sketched");
    // Unit-scale data (entries in [1, 1.5)), p in the hundreds, where the sketch comes within
    // 2^24 of the top of the range (m = 1024: the old code refused p = 680, whose sketch is
    // about 2^1016). The sketch is homogeneous, TS(x^{⊗p}) = 2^p·TS((x/2)^{⊗p}), and halving x
    // is exact, as is every power-of-two step: the sketch of x must be that of x/2 (computed
    // far from the top, as before this change) times 2^p, bit for bit.
    let x: Vec<f64> = (0..8).map(|i| 1.0 + i as f64 / 16.0).collect();
    let half: Vec<f64> = x.iter().map(|v| v / 2.0).collect();
    let mut near_the_top = 0;
    for p in (600..=760).step_by(5) {
        let ts = TensorSketch::new(p, 8, 1024, Seed::new(3)).unwrap();
        let low: Vec<f64> = ts.apply_power(&half).unwrap();
        let top = low.iter().fold(0.0f64, |t, x| t.max(x.abs())).log2() + p as f64;
        if top > 1000.0 && top < 1020.0 {
            near_the_top += 1;
            let got: Vec<f64> = ts
                .apply_power(&x)
                .unwrap_or_else(|e| panic!("p = {p}, sketch 2^{top:.1}: {e}"));
            let want: Vec<f64> = low
                .iter()
                .map(|v| v * 2f64.powi(p as i32 / 2) * 2f64.powi(p as i32 - p as i32 / 2))
                .collect();
            assert_eq!(got, want, "p = {p}");
        }
    }
    assert!(near_the_top > 0, "no p came within 2^24 of the top");
    // Two entries of 1e308 in one bucket of mode 0 (same sign: their sum overflows), times 1e-300.
    let ts = (0..)
        .map(|s| TensorSketch::with_dims(&[2, 1], 2, Seed::new(s)).unwrap())
        .find(|t| t.mode_bucket(0, 0).unwrap() == t.mode_bucket(0, 1).unwrap())
        .unwrap();
    let (x1, x2) = ([1e308, 1e308], [1e-300]);
    let got = ts.apply_kron(&[&x1[..], &x2[..]]).unwrap();
    let want = common::explicit_kron(&ts, &[&x1, &x2]);
    assert!(want.iter().any(|v| v.abs() == 2e8), "{want:?}");
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-12 * 2e8, "{got:?} vs {want:?}");
    }
}
