//! Mutation review of the sketch core (`src/sketch/{mod, sparse_sign, count, kernels, gaussian,
//! srht}.rs`, `src/seed.rs`): tests for behaviour that mutants of those files changed while the
//! rest of the suite still passed. Each test states the documented rule it checks; references are
//! computed independently (plain loops over `to_dense()`, or exact rules from the docs).

use faer::{Mat, Par};
use randnla::sketch::*;
use randnla::{Error, MatrixRef, Seed};

/// The four families at `m × n` (sparse sign with `s = 3`, a path of its own), for `T`.
fn families<T: randnla::Scalar>(m: usize, n: usize, seed: Seed) -> Vec<Box<dyn SketchOperator<T>>> {
    vec![
        Box::new(CountSketch::new(m, n, seed).unwrap()),
        Box::new(SparseSign::new(m, n, 3, seed).unwrap()),
        Box::new(Gaussian::new(m, n, seed).unwrap()),
        Box::new(Srht::new(m, n, seed).unwrap()),
    ]
}

/// A deterministic dense `n × d` matrix with values exactly representable in `f32`, some zeros.
fn data(n: usize, d: usize) -> Mat<f64> {
    Mat::from_fn(n, d, |i, j| {
        let t = (i * 31 + j * 17) % 23;
        if t == 0 {
            0.0
        } else {
            t as f64 / 8.0 - 1.25
        }
    })
}

/// `apply_block_into` names "the first [NaN or ±∞] in column-major order" of `out`. The check
/// scans columns in chunks of 64 entries, so a bad entry past the first chunk must still be named
/// at its own row — not at its offset inside its chunk (row 130 is offset 2 of the third chunk).
/// Pass rule: `Error::NonFinite { row: 130, col: 1 }` exactly, for every family.
#[test]
fn a_non_finite_out_entry_past_the_first_64_rows_is_named_at_its_row() {
    let (m, n, d) = (150, 256, 3);
    let a = data(n, d);
    for op in families::<f64>(m, n, Seed::new(4)) {
        for bad in [f64::NAN, f64::NEG_INFINITY] {
            let mut out = Mat::<f64>::zeros(m, d);
            out[(130, 1)] = bad;
            out[(140, 2)] = f64::NAN; // later in column-major order: not the one named
            let e = op
                .apply_block_into(
                    0,
                    MatrixRef::dense(a.as_ref()).unwrap(),
                    out.as_mut(),
                    Par::Seq,
                )
                .unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::NonFinite {
                        row: 130,
                        col: 1,
                        ..
                    }
                ),
                "{}: {e:?}",
                op.name()
            );
        }
    }
}

/// An output that is not column-major (a transposed view: row stride > 1, column stride 1) is
/// checked like any other: a NaN or ±∞ it held before the call is an `Error::NonFinite` naming its
/// entry, never an `Ok` (`apply_block_into`: "every operator of the crate leaves `out` finite or
/// returns an error"). Pass rule: `NonFinite { row: 5, col: 2 }` for every family, f64 and f32.
#[test]
fn a_strided_output_holding_a_nan_is_an_error() {
    let (m, n, d) = (12, 64, 4);
    let a = data(n, d);
    let a32 = Mat::<f32>::from_fn(n, d, |i, j| a[(i, j)] as f32);
    for op in families::<f64>(m, n, Seed::new(6)) {
        let mut backing = Mat::<f64>::zeros(d, m);
        backing[(2, 5)] = f64::NAN;
        let out = backing.as_mut().transpose_mut();
        assert_eq!((out.nrows(), out.ncols()), (m, d));
        assert!(out.row_stride() > 1 && out.col_stride() == 1);
        let r = op.apply_block_into(0, MatrixRef::dense(a.as_ref()).unwrap(), out, Par::Seq);
        assert!(
            matches!(r, Err(Error::NonFinite { row: 5, col: 2, .. })),
            "{}: {r:?}",
            op.name()
        );
    }
    for op in families::<f32>(m, n, Seed::new(6)) {
        let mut backing = Mat::<f32>::zeros(d, m);
        backing[(2, 5)] = f32::INFINITY;
        let out = backing.as_mut().transpose_mut();
        let r = op.apply_block_into(0, MatrixRef::dense(a32.as_ref()).unwrap(), out, Par::Seq);
        assert!(
            matches!(r, Err(Error::NonFinite { row: 5, col: 2, .. })),
            "f32 {}: {r:?}",
            op.name()
        );
    }
}

/// A dense `A` whose columns are not contiguous (a row-reversed view: row stride −1) is read by
/// the column kernels' strided branch. `S·A` must still be `to_dense(S)·A` for every family,
/// including the first and last rows of the block, which an off-by-one in that branch drops.
/// Pass rule: relative error ≤ 1e-13 against a plain-loop reference (sums of ≤ 64 terms of size
/// ~1 in f64: rounding is ~1e-15), at offset 0 of the whole `A` and as a row block at offset 9.
#[test]
fn a_dense_input_with_non_contiguous_columns_is_sketched_exactly() {
    let (m, n, d) = (10, 64, 3);
    let a = data(n, d);
    let rev = a.as_ref().reverse_rows();
    assert!(rev.col(0).try_as_col_major().is_none());
    for op in families::<f64>(m, n, Seed::new(8)) {
        let s = op.to_dense().unwrap();
        for (offset, rows) in [(0, n), (9, 40)] {
            let block = rev.subrows(0, rows);
            let want = Mat::<f64>::from_fn(m, d, |i, j| {
                (0..rows).map(|t| s[(i, offset + t)] * block[(t, j)]).sum()
            });
            let mut got = Mat::<f64>::zeros(m, d);
            let view = MatrixRef::dense(block).unwrap();
            op.apply_block_into(offset, view, got.as_mut(), Par::Seq)
                .unwrap();
            let err = (&got - &want).norm_max() / want.norm_max();
            assert!(err <= 1e-13, "{} at offset {offset}: {err:e}", op.name());
        }
    }
}

/// `Srht::selected_rows` are "its `m` rows of the Hadamard matrix": `m` distinct rows of
/// `0..n'`, ascending. Both selection paths (a hash set for `m ≤ n'/64`, a bitmap above) resolve
/// a repeated draw Floyd's way; a selection that kept a repeat would leave fewer than `m` rows.
/// Pass rule: exactly `m` strictly increasing rows below `n'` for 40 seeds per shape (the
/// shapes draw repeats often: `m = 64` of `n' = 4096` repeats in ~40% of seeds).
#[test]
fn srht_selects_m_distinct_rows_on_both_selection_paths() {
    for (m, n) in [
        (64, 4096),
        (60, 3000),
        (512, 1024),
        (1000, 1000),
        (17, 1024),
    ] {
        for seed in 0..40 {
            let op = Srht::new(m, n, Seed::new(seed)).unwrap();
            let rows = op.selected_rows();
            assert_eq!(rows.len(), m, "m = {m}, n = {n}, seed {seed}");
            assert!(
                rows.windows(2).all(|w| w[0] < w[1]),
                "m = {m}, n = {n}, seed {seed}: not strictly increasing"
            );
            assert!(rows.iter().all(|&r| r < op.padded_dim()));
        }
    }
}

/// `SparseSign::column(j)` and `CountSketch::bucket(j)` are "`InvalidParameter` when `j ≥ n`":
/// the first index past the end (`j = n`) is refused, the last one (`j = n − 1`) answered with
/// the column `to_dense` holds. Pass rule: exact errors and equal entries.
#[test]
fn column_and_bucket_refuse_the_first_index_past_n() {
    let n = 37;
    let op = SparseSign::new(9, n, 4, Seed::new(3)).unwrap();
    let cs = CountSketch::new(9, n, Seed::new(3)).unwrap();
    assert!(matches!(op.column(n), Err(Error::InvalidParameter { .. })));
    assert!(matches!(cs.bucket(n), Err(Error::InvalidParameter { .. })));
    let dense: Mat<f64> = op.to_dense().unwrap();
    let mut col = op.column(n - 1).unwrap();
    col.sort_by_key(|&(r, _)| r);
    let want: Vec<(usize, f64)> = (0..9)
        .filter(|&r| dense[(r, n - 1)] != 0.0)
        .map(|r| (r, dense[(r, n - 1)]))
        .collect();
    assert_eq!(col, want);
    let (r, v) = cs.bucket(n - 1).unwrap();
    let cd: Mat<f64> = SketchOperator::<f64>::to_dense(&cs).unwrap();
    assert_eq!(cd[(r, n - 1)], v);
}

/// Constructor limits, exactly at each documented bound and one past it: sparse sign takes
/// `1 ≤ s ≤ m` and `m < 2³¹`; the Gaussian `m ≤ 2¹⁸`; the SRHT `m ≤ n' = 2^⌈log₂ n⌉` and
/// `n ≤ 2³⁰`. A bound off by one either way refuses a legal sketch or builds an illegal one.
/// Pass rule: `Ok` at the bound, `InvalidParameter` naming the documented parameter past it.
#[test]
fn constructors_accept_each_limit_and_refuse_one_past_it() {
    fn refused<R: std::fmt::Debug>(r: randnla::Result<R>, param: &str, what: &str) {
        match r {
            Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, param, "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    let seed = Seed::new(1);
    assert!(SparseSign::new((1 << 31) - 1, 10, 8, seed).is_ok());
    refused(
        SparseSign::new(1 << 31, 10, 8, seed),
        "m",
        "sparse sign m = 2^31",
    );
    assert!(SparseSign::new(5, 10, 5, seed).is_ok());
    refused(SparseSign::new(5, 10, 6, seed), "nnz_per_col", "s = m + 1");
    refused(SparseSign::new(5, 10, 0, seed), "nnz_per_col", "s = 0");
    assert!(CountSketch::new(1, 10, seed).is_ok());
    assert!(Gaussian::new(1 << 18, 10, seed).is_ok());
    refused(
        Gaussian::new((1 << 18) + 1, 10, seed),
        "m",
        "gaussian m = 2^18 + 1",
    );
    assert!(Srht::new(1024, 1000, seed).is_ok());
    refused(Srht::new(1025, 1000, seed), "m", "srht m = n' + 1");
    assert!(Srht::new(1, 1, seed).is_ok());
    refused(Srht::new(2, 1, seed), "m", "srht m = 2 > n' = 1");
    assert!(Srht::new(1, 1 << 30, seed).is_ok());
    refused(Srht::new(1, (1 << 30) + 1, seed), "n", "srht n = 2^30 + 1");
}
