//! Five robustness items left open by earlier reviews: `qr_solve` on a numerically
//! rank-deficient `A`, `random_sparse` with `nnz_per_row` near `d`, the fallible reservation of
//! `Pow2Scaled`'s sparse copy, the total work of the tensor power method, and TensorSketch's
//! FFT intermediates at the ends of the range.

mod common;

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
