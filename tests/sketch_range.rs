//! Sketches at the ends of the floating-point range: a sketch whose output `f64` (or `f32`)
//! cannot hold is an `Error::NonFinite` from every entry point, never an `Ok` holding ±∞ or NaN
//! (README: "an answer that f64 cannot hold is an Error::NonFinite"); squared row norms that all
//! underflow are an error rather than all-zero weights, and one that overflows names its column;
//! constructor errors name the constructor's own parameters.

use crate::common;

use common::Layouts;
use faer::{Mat, Par};
use randnla::sketch::sampling::{row_norm_weights, RowSampling};
use randnla::sketch::*;
use randnla::{problems, Error, MatrixRef, Seed};

/// 0.9·f64::MAX: a single entry fits, a sum of two with the same sign does not.
const BIG: f64 = 0.9 * f64::MAX;

/// An `n × 2` matrix whose column 0 is zero and whose column 1 holds `±big` with the signs of
/// row 0 of `S` (0 where `S[0, i] = 0`), so that `(S·A)[0, 1] = big·Σᵢ|S[0, i]|` overflows
/// whenever row 0 of `S` has two or more nonzeros (or one above 1/0.9), whatever the signs.
fn aligned_with_row_zero(op: &dyn SketchOperator<f64>, big: f64) -> Layouts {
    let s = op.to_dense().unwrap();
    let n = op.ncols();
    let mut tri = sprs::TriMat::new((n, 2));
    for i in 0..n {
        if s[(0, i)] != 0.0 {
            tri.add_triplet(i, 1, s[(0, i)].signum() * big);
        }
    }
    Layouts::new(tri.to_csr())
}

/// `r` is the overflow error: `Error::NonFinite` whose message names the overflow of `f64` and
/// the remedy (scale A down by a power of two); returns its position.
#[track_caller]
fn overflow_at<R: std::fmt::Debug>(r: Result<R, Error>, what: &str) -> (usize, usize) {
    match r {
        Err(e @ Error::NonFinite { row, col, .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("overflowed f64") && msg.contains("power of two"),
                "{what}: {msg}"
            );
            (row, col)
        }
        r => panic!("{what}: expected Error::NonFinite, got {r:?}"),
    }
}

/// Every entry point of an operator on data whose sketch overflows: `apply` (CSR, CSC, dense
/// column- and row-major: the different kernels), `apply_right` (the position transposed),
/// `apply_vec`, and `apply_block_into` both into zeros and accumulated block by block into an
/// output that already holds a partial sketch. Scaled down by a power of two the same data
/// sketches without error.
fn overflow_is_an_error_at_every_entry_point(op: &dyn SketchOperator<f64>) {
    let name = op.name();
    let (m, n) = (op.nrows(), op.ncols());
    let layouts = aligned_with_row_zero(op, BIG);
    for (layout, a) in layouts.views() {
        let what = format!("{name}, {layout}");
        let (row, col) = overflow_at(op.apply(a, Par::Seq), &format!("{what}: apply"));
        assert!(row < m && col == 1, "{what}: apply at ({row}, {col})");
        let (r, c) = overflow_at(
            op.apply(a, Par::rayon(2)),
            &format!("{what}: apply, 2 threads"),
        );
        assert_eq!((r, c), (row, col), "{what}: 2 threads");
        let mut out = Mat::<f64>::zeros(m, 2);
        let r = op.apply_block_into(0, a, out.as_mut(), Par::Seq);
        assert_eq!(
            overflow_at(r, &what),
            (row, col),
            "{what}: apply_block_into"
        );
        // A·Sᵀ for the 2 × n matrix Aᵀ: the same sums, the position transposed.
        let at = layouts.dense.transpose().to_owned();
        let r = op.apply_right(MatrixRef::dense(at.as_ref()).unwrap(), Par::Seq);
        assert_eq!(overflow_at(r, &what), (col, row), "{what}: apply_right");
        // Row blocks accumulated into an output holding finite values: a call may succeed only
        // while the output it leaves is finite, and one of them must fail.
        let mut out = Mat::<f64>::from_fn(m, 2, |i, j| (i + j) as f64);
        let mut failed = false;
        for (lo, hi) in [(0, n / 2), (n / 2, n)] {
            let block = layouts.dense.subrows(lo, hi - lo);
            let block = MatrixRef::dense(block).unwrap();
            match op.apply_block_into(lo, block, out.as_mut(), Par::Seq) {
                Ok(()) => assert!(
                    (0..2).all(|j| (0..m).all(|i| out[(i, j)].is_finite())),
                    "{what}: Ok from the block at {lo} with a non-finite output"
                ),
                r => {
                    overflow_at(r, &format!("{what}: block at {lo}"));
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed, "{what}: no row block reported the overflow");
    }
    // S·x for x = column 1 of A.
    let x: Vec<f64> = (0..n).map(|i| layouts.dense[(i, 1)]).collect();
    let (row, col) = overflow_at(op.apply_vec(&x), &format!("{name}: apply_vec"));
    assert!(row < m && col == 0, "{name}: apply_vec at ({row}, {col})");
    // The remedy the message names: 2⁻ᵏ·A (here 2⁻⁴⁰) sketches to finite values.
    let small = aligned_with_row_zero(op, BIG * 2f64.powi(-40));
    for (layout, a) in small.views() {
        let sa = op
            .apply(a, Par::Seq)
            .unwrap_or_else(|e| panic!("{name}, {layout}, scaled down: {e}"));
        assert!(sa.col(1).iter().all(|v| v.is_finite()));
    }
}

#[test]
fn count_sketch_overflow_is_an_error() {
    overflow_is_an_error_at_every_entry_point(&CountSketch::new(8, 400, Seed::new(1)).unwrap());
    // m = 64: a few stored entries per output entry, so the CSR input takes the kernel that
    // adds straight into the output's columns (and tests the sums it writes).
    overflow_is_an_error_at_every_entry_point(&CountSketch::new(64, 400, Seed::new(1)).unwrap());
}

#[test]
fn sparse_sign_overflow_is_an_error() {
    overflow_is_an_error_at_every_entry_point(&SparseSign::new(8, 400, 4, Seed::new(2)).unwrap());
}

#[test]
fn gaussian_overflow_is_an_error() {
    overflow_is_an_error_at_every_entry_point(&Gaussian::new(8, 400, Seed::new(3)).unwrap());
}

#[test]
fn srht_overflow_is_an_error() {
    let op = Srht::new(8, 400, Seed::new(4)).unwrap();
    overflow_is_an_error_at_every_entry_point(&op);
    // The reviewer's case: every entry ≈ 1e308. The butterflies computed ∞ − ∞ and `apply`
    // returned Ok holding NaN.
    let a = Mat::<f64>::from_fn(400, 3, |_, _| 1e308);
    let r = op.apply(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq);
    overflow_at(r, "srht, all entries 1e308");
}

#[test]
fn row_sampling_overflow_is_an_error() {
    // Uniform weights: every row is scaled by √(n/m) = 2, so one entry of 0.9·f64::MAX overflows.
    let op = RowSampling::uniform(40, 10, Seed::new(5)).unwrap();
    overflow_is_an_error_at_every_entry_point(&op);
    let op = RowSampling::bernoulli(&[1.0; 40], 10, Seed::new(5)).unwrap();
    assert!(op.nrows() > 0);
    overflow_is_an_error_at_every_entry_point(&op);
}

/// `f32` sketches overflow `f32` (entries near `f32::MAX`) and say so.
#[test]
fn f32_sketch_overflow_is_an_error() {
    let kinds = [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: 4 },
        SketchKind::Gaussian,
        SketchKind::Srht,
    ];
    for kind in kinds {
        let op = kind.build::<f32>(8, 400, Seed::new(6)).unwrap();
        let s = op.to_dense().unwrap();
        let x: Vec<f32> = (0..400)
            .map(|i| s[(0, i)].signum() * 0.9 * f32::MAX)
            .collect();
        match op.apply_vec(&x) {
            Err(e @ Error::NonFinite { .. }) => {
                assert!(e.to_string().contains("overflowed f32"), "{e}")
            }
            r => panic!("{}: {r:?}", kind.name()),
        }
    }
}
/// Squared row norms that all underflow (entries ≈ 1e-200, squares ≈ 1e-400) were returned as
/// all-zero weights, which sampling then refused as "the weights sum to 0". Weights whose largest
/// is subnormal have lost their relative precision too (entries ≈ 1e-160: squares ≈ 1e-320):
/// both are errors naming the underflow and the remedy. An all-zero A still has zero weights, and
/// rows that underflow next to a normal one are fine (their share is below 2⁻⁵² anyway).
#[test]
fn row_norm_weights_that_all_underflow_are_an_error() {
    let g = problems::gaussian_matrix(30, 4, Seed::new(7)).unwrap();
    for scale in [1e-200, 1e-160] {
        let a = Mat::from_fn(30, 4, |i, j| g[(i, j)] * scale);
        let mut tri = sprs::TriMat::new((30, 4));
        for i in 0..30 {
            for j in 0..4 {
                tri.add_triplet(i, j, a[(i, j)]);
            }
        }
        for (layout, view) in Layouts::new(tri.to_csr()).views() {
            match row_norm_weights(view) {
                Err(e @ Error::InvalidParameter { name: "A", .. }) => {
                    let msg = e.to_string();
                    assert!(
                        msg.contains("underflow") && msg.contains("power of two"),
                        "{scale:e}, {layout}: {msg}"
                    );
                }
                r => panic!("{scale:e}, {layout}: {r:?}"),
            }
        }
    }
    // All zero: zero weights, as documented.
    let zero = Mat::<f64>::zeros(5, 3);
    assert_eq!(
        row_norm_weights(MatrixRef::dense(zero.as_ref()).unwrap()).unwrap(),
        vec![0.0; 5]
    );
    // One normal row among underflowing ones.
    let mut a = Mat::from_fn(30, 4, |i, j| g[(i, j)] * 1e-200);
    a[(3, 2)] = 1e-100;
    let w = row_norm_weights(MatrixRef::dense(a.as_ref()).unwrap()).unwrap();
    assert_eq!(w[3], 1e-100 * 1e-100);
    assert!(w.iter().enumerate().all(|(i, &v)| i == 3 || v == 0.0));
}

/// The overflow error of `row_norm_weights` names the row and the column at which that row's
/// running sum of squares (ascending columns, in every layout) passed `f64::MAX`, not column 0.
#[test]
fn row_norm_weights_overflow_names_the_column_where_it_overflowed() {
    let mut tri = sprs::TriMat::new((6, 4));
    for i in 0..6 {
        for j in 0..4 {
            // Row 4: (0.8e154)² = 6.4e307 per entry; the running sum passes f64::MAX at column 2.
            let v = if i == 4 { 0.8e154 } else { (i + j) as f64 };
            tri.add_triplet(i, j, v);
        }
    }
    for (layout, view) in Layouts::new(tri.to_csr()).views() {
        match row_norm_weights(view) {
            Err(e @ Error::NonFinite { .. }) => {
                let Error::NonFinite { row, col, .. } = &e else {
                    unreachable!()
                };
                assert_eq!((*row, *col), (4, 2), "{layout}: {e}");
                assert!(e.to_string().contains("column 2"), "{layout}: {e}");
            }
            r => panic!("{layout}: {r:?}"),
        }
    }
}
/// Constructor errors name the constructor's own parameters (`m`, `n`; `nnz_per_col` for the
/// `s` of `SparseSign::new`, as `SketchKind::SparseSign` names it), not a `rows` that no
/// signature has: a caller that derived `m` from its own parameter (`sketch_rows`, say) was told
/// about a parameter `rows`.
#[test]
fn constructor_errors_name_the_sketch_dimensions() {
    let name = |r: Result<Box<dyn SketchOperator<f64>>, Error>| match r {
        Err(Error::InvalidParameter { name, reason }) => (name, reason),
        r => panic!("{:?}", r.map(|_| ())),
    };
    for kind in [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: 1 },
        SketchKind::Gaussian,
        SketchKind::Srht,
    ] {
        let (n0, reason) = name(kind.build::<f64>(0, 10, Seed::new(1)));
        assert_eq!(n0, "m", "{}: {reason}", kind.name());
        assert!(reason.contains("sketch dimension"), "{reason}");
        let (n1, reason) = name(kind.build::<f64>(4, 0, Seed::new(1)));
        assert_eq!(n1, "n", "{}: {reason}", kind.name());
    }
    for (kind, m, n) in [
        (SketchKind::SparseSign { nnz_per_col: 1 }, 1usize << 31, 10),
        (SketchKind::Gaussian, 1 << 19, 10),
        (SketchKind::Srht, 20, 10),
    ] {
        let (name_m, reason) = name(kind.build::<f64>(m, n, Seed::new(1)));
        assert_eq!(name_m, "m", "{}: {reason}", kind.name());
        assert!(reason.contains("sketch dimension"), "{reason}");
    }
    let (srht_n, _) = name(SketchKind::Srht.build::<f64>(1, (1 << 30) + 1, Seed::new(1)));
    assert_eq!(srht_n, "n");
}
