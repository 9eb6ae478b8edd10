//! Sparse matrices may declare far more rows or columns than they store. Every entry point must
//! then answer quickly with a result or an error: no abort on an allocation sized by a declared
//! dimension, no overflow panic, no walk over every empty row. (An audit found all three; each
//! case below was an abort, a panic or an hours-long loop before it was fixed.)

use crate::common;

use common::{address_space_left, quick, under_address_limit, LIMIT_KIB};
use faer::{Mat, Par};
use randnla::active::weighted_least_squares;
use randnla::leverage::{approx_leverage_scores, exact_leverage_scores, ApproxParams, ExactParams};
use randnla::lstsq::{
    lsqr, normal_equations, qr_solve, sketch_and_precondition, sketch_and_solve, LsqrParams,
    LstsqParams, SketchSolveParams,
};
use randnla::sketch::sampling::{row_norm_weights, RowSampling};
use randnla::sketch::{SketchExt, SketchKind};
use randnla::{Error, MatrixRef, Seed, SparseRef};

/// Declared sizes whose allocations fail on any x86-64 or AArch64 machine whatever its overcommit
/// policy: 2^45 elements of 8 bytes (2^48 bytes) exceed x86-64's 47-bit user address space and
/// fill all of AArch64's 48 bits.
const HUGE: [usize; 3] = [1 << 45, 1 << 62, usize::MAX];

/// Stored rows of the tall CSC matrix: column 0 holds rows 5 and n − 1, column 1 row n / 2.
fn tall_rows(n: usize) -> [usize; 3] {
    [5, n - 1, n / 2]
}

const VALUES: [f64; 3] = [1.5, -2.0, 0.75];

fn is_too_large<T: std::fmt::Debug>(r: &randnla::Result<T>) -> bool {
    matches!(r, Err(Error::TooLarge { .. }))
}

#[test]
fn column_kernels_skip_the_rows_a_tall_csc_input_does_not_store() {
    for n in HUGE {
        let rows = tall_rows(n);
        let indices = [rows[0], rows[1], rows[2]];
        let a = SparseRef::try_csc(n, 2, &[0, 2, 3], &indices, &VALUES).unwrap();
        for kind in [
            SketchKind::CountSketch,
            SketchKind::SparseSign { nnz_per_col: 3 },
            SketchKind::Gaussian,
        ] {
            let op = kind.build::<f64>(6, n, Seed::new(3)).unwrap();
            let got = quick(&format!("{kind:?} n = {n}"), || {
                op.apply(MatrixRef::Sparse(a), Par::Seq)
            })
            .unwrap();
            // The same product, one stored row at a time.
            let mut want = Mat::<f64>::zeros(6, 2);
            for (k, (&row, &v)) in indices.iter().zip(&VALUES).enumerate() {
                let col = usize::from(k == 2);
                let mut block = Mat::<f64>::zeros(1, 2);
                block[(0, col)] = v;
                let view = MatrixRef::dense(block.as_ref()).unwrap();
                op.apply_block_into(row, view, want.as_mut(), Par::Seq)
                    .unwrap();
            }
            // Each output entry receives the same additions in the same (ascending row) order.
            for i in 0..6 {
                for j in 0..2 {
                    let (g, w) = (got[(i, j)], want[(i, j)]);
                    assert_eq!(g.to_bits(), w.to_bits(), "{kind:?} n = {n} ({i}, {j})");
                }
            }
            assert!(
                (0..2).any(|j| (0..6).any(|i| got[(i, j)] != 0.0)),
                "{kind:?}: the stored entries reached the sketch"
            );
        }
    }
}

/// A hypersparse CSC matrix: `d` columns of one entry each, in rows 2^20 apart (`n = 2^40`). The
/// column kernels used to walk every column for every visited block of rows, `O(nnz·d)`: 1.98 s
/// at `d = 16 000` in release, so about 5 minutes at `d = 2·10⁵` by that quadratic trend (here the
/// watchdog stops it at 20 s). They now hash or generate `S` per stored entry there, `O(nnz)`.
#[test]
fn wide_hypersparse_csc_inputs_are_sketched_in_input_sparsity_time() {
    let (n, m) = (1usize << 40, 16);
    for (kind, d) in [
        (SketchKind::CountSketch, 200_000),
        (SketchKind::SparseSign { nnz_per_col: 8 }, 200_000),
        (SketchKind::Gaussian, 50_000),
    ] {
        let indptr: Vec<usize> = (0..=d).collect();
        // Rows in a scrambled order across the columns, each column's single row 2^20-aligned.
        let rows: Vec<usize> = (0..d).map(|j| (j * 7919 % d) << 20).collect();
        let vals: Vec<f64> = (0..d).map(|j| 1.0 + (j % 97) as f64 / 8.0).collect();
        let a = SparseRef::try_csc(n, d, &indptr, &rows, &vals).unwrap();
        let op = kind.build::<f64>(m, n, Seed::new(4)).unwrap();
        let got = quick(&format!("{kind:?} on a hypersparse 2^40 × {d}"), || {
            op.apply(MatrixRef::Sparse(a), Par::rayon(2))
        })
        .unwrap();
        // Every 97th column against the same entry sketched on its own (a 1 × 1 block at its
        // row): one addition to zero per output entry, so the bits must agree.
        for j in (0..d).step_by(97) {
            let one = Mat::<f64>::from_fn(1, 1, |_, _| vals[j]);
            let mut want = Mat::<f64>::zeros(m, 1);
            let view = MatrixRef::dense(one.as_ref()).unwrap();
            op.apply_block_into(rows[j], view, want.as_mut(), Par::Seq)
                .unwrap();
            for i in 0..m {
                let (g, w) = (got[(i, j)], want[(i, 0)]);
                assert_eq!(g.to_bits(), w.to_bits(), "{kind:?} ({i}, {j})");
            }
            assert!((0..m).any(|i| got[(i, j)] != 0.0), "{kind:?}: column {j}");
        }
    }
}

/// The SRHT at its largest padded length (`n' = 2^30`) on columns of one or two entries: each
/// column is transformed entry by entry, `O(m·log n')` per entry, instead of by a whole
/// length-`2^30` transform (about 3 s of butterflies and an 8 GB buffer per column before). Every
/// entry of `S·e_i` is `±1/√m`, and a two-entry column is the sum of its two one-entry parts.
#[test]
fn hypersparse_columns_skip_the_srht_whole_transform() {
    use randnla::sketch::{SketchOperator, Srht};
    let (n, m, d) = (1usize << 30, 16usize, 4000usize);
    let srht = Srht::new(m, n, Seed::new(6)).unwrap();
    let op: &dyn SketchOperator<f64> = &srht;
    // Columns j < d/2 hold one entry, the others two (rows 2^19 + 3j and 5j).
    let (mut indptr, mut rows, mut vals) = (vec![0usize], Vec::new(), Vec::new());
    for j in 0..d {
        if j >= d / 2 {
            rows.push(5 * j);
            vals.push(0.25 + j as f64);
        }
        rows.push((1 << 19) + 3 * j);
        vals.push(1.0);
        indptr.push(rows.len());
    }
    let a = SparseRef::try_csc(n, d, &indptr, &rows, &vals).unwrap();
    let got = quick("SRHT on a hypersparse 2^30 × 4000", || {
        op.apply(MatrixRef::Sparse(a), Par::rayon(2))
    })
    .unwrap();
    let unit = 1.0 / (m as f64).sqrt();
    for j in 0..d {
        let (lo, hi) = (indptr[j], indptr[j + 1]);
        if hi - lo == 1 {
            let col: Vec<f64> = (0..m).map(|i| got[(i, j)]).collect();
            assert!(col.iter().all(|v| v.abs() == unit), "column {j}: {col:?}");
            continue;
        }
        // The two-entry column against its parts, each sketched as a one-row block.
        let mut parts = Mat::<f64>::zeros(m, 1);
        for p in lo..hi {
            let one = Mat::<f64>::from_fn(1, 1, |_, _| vals[p]);
            let mut part = Mat::<f64>::zeros(m, 1);
            op.apply_block_into(
                rows[p],
                MatrixRef::dense(one.as_ref()).unwrap(),
                part.as_mut(),
                Par::Seq,
            )
            .unwrap();
            assert!((0..m).all(|i| part[(i, 0)].abs() == vals[p] * unit));
            parts += &part;
        }
        for i in 0..m {
            let (g, w) = (got[(i, j)], parts[(i, 0)]);
            assert!(
                (g - w).abs() <= 1e-15 * w.abs().max(1.0),
                "({i}, {j}): {g} vs {w}"
            );
        }
    }
}

#[test]
fn tall_csc_inputs_get_errors_not_aborts() {
    for n in HUGE {
        let rows = tall_rows(n);
        let a = SparseRef::try_csc(n, 2, &[0, 2, 3], &rows, &VALUES).unwrap();
        let a = MatrixRef::Sparse(a);
        // Outputs of length n are refused; so are the n + 1 row pointers of a CSR copy.
        assert!(is_too_large(&quick("row_norm_weights", || {
            row_norm_weights(a)
        })));
        let r = quick("approx leverage", || {
            approx_leverage_scores(a, &ApproxParams::default(), Seed::new(1), Par::Seq)
        });
        assert!(is_too_large(&r), "{r:?}");
        let r = quick("exact leverage", || {
            exact_leverage_scores(a, &ExactParams::default(), Par::Seq)
        });
        assert!(is_too_large(&r), "{r:?}");
        let r = quick("uniform sampling", || {
            RowSampling::uniform(n, 4, Seed::new(1))
        });
        assert!(is_too_large(&r), "{r:?}");
        let r = quick("to_dense", || a.to_dense());
        assert!(is_too_large(&r), "{r:?}");
        // Nothing stored at all: the sketch skips every row, the rank is 0, and the n zero
        // scores are refused.
        let empty = SparseRef::try_csc(n, 2, &[0, 0, 0], &[], &[]).unwrap();
        let empty = MatrixRef::Sparse(empty);
        let r = quick("exact leverage of an empty tall matrix", || {
            exact_leverage_scores(empty, &ExactParams::default(), Par::Seq)
        });
        assert!(is_too_large(&r), "{r:?}");
        let r = quick("approx leverage of an empty tall matrix", || {
            approx_leverage_scores(empty, &ApproxParams::default(), Seed::new(1), Par::Seq)
        });
        assert!(is_too_large(&r), "{r:?}");
    }
}

/// Skipping inside a matrix of ordinary size: long empty runs of rows, blocks that start at row
/// offsets that are not multiples of the kernels' block sizes. Dense input never skips, so the
/// sparse results must equal the dense ones bit for bit.
#[test]
fn skipping_empty_rows_leaves_every_bit_unchanged() {
    let (n, d) = (100_003usize, 3usize);
    // Stored rows: a few clusters separated by empty runs of 10⁴ rows and more.
    let stored: Vec<usize> = [
        0usize, 7, 8191, 8192, 20_000, 20_001, 61_440, 99_999, 100_002,
    ]
    .into_iter()
    .collect();
    let mut dense = Mat::<f64>::zeros(n, d);
    for (t, &i) in stored.iter().enumerate() {
        for j in 0..d {
            if (t + j) % 2 == 0 {
                dense[(i, j)] = 1.0 + (t * d + j) as f64 / 7.0;
            }
        }
    }
    let mut trip = sprs::TriMat::new((n, d));
    for &i in &stored {
        for j in 0..d {
            if dense[(i, j)] != 0.0 {
                trip.add_triplet(i, j, dense[(i, j)]);
            }
        }
    }
    let csr: sprs::CsMat<f64> = trip.to_csr();
    let csc = csr.to_csc();
    let dense_view = MatrixRef::dense(dense.as_ref()).unwrap();
    let bits = |m: &Mat<f64>| -> Vec<u64> {
        (0..m.ncols())
            .flat_map(|j| (0..m.nrows()).map(move |i| (i, j)))
            .map(|(i, j)| m[(i, j)].to_bits())
            .collect()
    };
    for kind in [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: 4 },
        SketchKind::Gaussian,
    ] {
        let op = kind.build::<f64>(16, n, Seed::new(9)).unwrap();
        let want = op.apply(dense_view, Par::Seq).unwrap();
        // Several threads split the 3 columns unevenly (a partial last chunk with 2), and each
        // task finds its own columns' next stored row.
        for par in [Par::Seq, Par::rayon(2), Par::rayon(4)] {
            let from_csc = op.apply(MatrixRef::sparse(&csc).unwrap(), par).unwrap();
            assert_eq!(
                bits(&from_csc),
                bits(&want),
                "{kind:?} {par:?}: CSC vs dense"
            );
        }
        // Row blocks of CSR input at offsets that are not block multiples (the Gaussian sketch
        // walks a CSR block through its CSC copy, with local rows and a global generation block).
        let cuts = [0usize, 5, 8190, 20_000, 61_441, n];
        let csr_view = MatrixRef::sparse(&csr).unwrap();
        for w in cuts.windows(2) {
            let mut from_block = Mat::<f64>::zeros(16, d);
            let mut from_dense_block = Mat::<f64>::zeros(16, d);
            let block = csr_view.row_block(w[0], w[1]).unwrap();
            let dense_block = dense_view.row_block(w[0], w[1]).unwrap();
            op.apply_block_into(w[0], block, from_block.as_mut(), Par::Seq)
                .unwrap();
            op.apply_block_into(w[0], dense_block, from_dense_block.as_mut(), Par::Seq)
                .unwrap();
            assert_eq!(
                bits(&from_block),
                bits(&from_dense_block),
                "{kind:?}: rows {}..{}",
                w[0],
                w[1]
            );
        }
    }
}

#[test]
fn wide_csr_inputs_get_errors_not_panics() {
    let b = [1.0, 2.0, 3.0, 4.0];
    for d in HUGE {
        let indices = [0, d / 2, d - 1];
        let a = SparseRef::try_csr(4, d, &[0, 1, 2, 3, 3], &indices, &VALUES).unwrap();
        let a = MatrixRef::Sparse(a);
        let results = [
            quick("sketch_and_solve", || {
                sketch_and_solve(a, &b, &SketchSolveParams::default()).map(|_| ())
            }),
            quick("sketch_and_precondition", || {
                sketch_and_precondition(a, &b, &LstsqParams::default()).map(|_| ())
            }),
            quick("qr_solve", || qr_solve(a, &b, 0.0, Par::Seq).map(|_| ())),
            quick("ridge qr_solve", || {
                qr_solve(a, &b, 1.0, Par::Seq).map(|_| ())
            }),
            quick("normal_equations", || {
                normal_equations(a, &b, 0.0, Par::Seq).map(|_| ())
            }),
            quick("lsqr", || lsqr(a, &b, &LsqrParams::default()).map(|_| ())),
            quick("weighted_least_squares", || {
                weighted_least_squares(a, &[0, 1], &[1.0, 1.0], &[1.0, 2.0], 1.0).map(|_| ())
            }),
            quick("exact leverage", || {
                exact_leverage_scores(a, &ExactParams::default(), Par::Seq).map(|_| ())
            }),
        ];
        for (k, r) in results.iter().enumerate() {
            assert!(r.is_err(), "entry point {k} at d = {d}: {r:?}");
        }
    }
}

#[test]
fn a_huge_head_dimension_is_an_error_for_the_gaussian_feature_map() {
    use randnla::attention::{FeatureMap, PolySketch};
    for h in HUGE {
        for degree in [2, 4] {
            let r = quick("PolySketch::new", || {
                PolySketch::new(h, degree, 16, FeatureMap::Gaussian, Seed::new(1))
            });
            assert!(is_too_large(&r), "h = {h}, p = {degree}: {:?}", r.err());
        }
    }
}

/// Sketch constructors refuse sizes whose working buffers no machine holds: the Gaussian's
/// `m × 1024` generation super-block (128 GB at `m = 2^24` aborted), a sparse sign column of
/// `s > 2^21` codes (8 GB at `s = 2^31 − 1` aborted).
#[test]
fn sketch_constructors_refuse_unallocatable_parameters() {
    use randnla::sketch::{Gaussian, SparseSign};
    let invalid = |r: randnla::Result<()>| matches!(r, Err(Error::InvalidParameter { .. }));
    assert!(invalid(
        Gaussian::new((1 << 18) + 1, 10, Seed::new(1)).map(drop)
    ));
    assert!(invalid(
        Gaussian::new(1 << 24, 1024, Seed::new(1)).map(drop)
    ));
    assert!(Gaussian::new(1 << 18, 10, Seed::new(1)).is_ok());
    let s = (1usize << 31) - 1;
    assert!(invalid(SparseSign::new(s, 1, s, Seed::new(1)).map(drop)));
    assert!(invalid(
        SparseSign::new(1 << 22, 1, (1 << 21) + 1, Seed::new(1)).map(drop)
    ));
    let op = SparseSign::new(1 << 22, 1, 1 << 21, Seed::new(1)).unwrap();
    assert_eq!(op.column(0).unwrap().len(), 1 << 21);
}

/// A sketch `SA` that can be allocated once but not twice. The sparse sign kernels accumulate
/// into a work copy of their output, and that copy was a `vec!` that aborted: `lstsq A.mtx b.mtx
/// --sketch-rows 10000000` on a 2000 × 50 `A` (two 4 GB buffers) died with "memory allocation
/// of 4000000000 bytes failed" (exit 134) where `sketch` of the same size, refused at the
/// output, gave a clean error. Here `m` is chosen so that the `m × 50` sketch takes 3/4 of the
/// address space left (about 300 MB, `m` ≈ 800 000): every layout, and every solver that
/// sketches with `sketch_rows = m` (`m ≫ n` is allowed), must answer `TooLarge`.
#[test]
fn a_sketch_that_fits_once_but_not_twice_is_a_too_large_error_under_an_address_limit() {
    if !under_address_limit(
        module_path!(),
        "a_sketch_that_fits_once_but_not_twice_is_a_too_large_error_under_an_address_limit",
        LIMIT_KIB,
    ) {
        return;
    }
    use randnla::lstsq::sketch_and_precondition_multi;
    use randnla::sketch::SparseSign;
    let (n, d) = (300, 50);
    let csr = randnla::problems::random_sparse(n, d, 4, Seed::new(5)).unwrap();
    let csc = csr.to_csc();
    let dense = MatrixRef::sparse(&csr).unwrap().to_dense().unwrap();
    let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
    let bm = Mat::<f64>::from_fn(n, 2, |i, j| (i + j) as f64);
    let m = usize::try_from(address_space_left() * 3 / 4 / (8 * d as u64)).unwrap();
    assert!(
        m > 100_000,
        "only {m} rows fit: the limit leaves too little to test"
    );
    for (layout, a) in [
        ("csr", MatrixRef::sparse(&csr).unwrap()),
        ("csc", MatrixRef::sparse(&csc).unwrap()),
        ("dense", MatrixRef::dense(dense.as_ref()).unwrap()),
    ] {
        for s in [1, 8] {
            let op = SparseSign::new(m, n, s, Seed::new(1)).unwrap();
            let r = op.apply(a, Par::Seq);
            assert!(is_too_large(&r), "{layout}, s = {s}: {:?}", r.err());
        }

        // Without the probe, which solves this well-conditioned problem before any sketch.
        let p = LstsqParams {
            sketch_rows: Some(m),
            probe: false,
            ..Default::default()
        };
        let r = sketch_and_precondition(a, &b, &p);
        assert!(is_too_large(&r), "{layout}: {:?}", r.err());
        let r = sketch_and_precondition_multi(a, bm.as_ref(), &p);
        assert!(
            is_too_large(&r),
            "{layout}, two right-hand sides: {:?}",
            r.err()
        );
        let ridge = LstsqParams { ridge: 1.0, ..p };
        let r = sketch_and_precondition(a, &b, &ridge);
        assert!(is_too_large(&r), "{layout}, ridge: {:?}", r.err());
        let sp = SketchSolveParams {
            sketch_rows: Some(m),
            ..Default::default()
        };
        let r = sketch_and_solve(a, &b, &sp);
        assert!(
            is_too_large(&r),
            "{layout}, sketch-and-solve: {:?}",
            r.err()
        );
    }
    // The dense baselines' work copies were `vec!`s as well. Their own limits (Gaussian
    // m ≤ 2¹⁸, SRHT m ≤ n') need other shapes: a wide A for the Gaussian sketch, a tall sparse
    // one for the SRHT, each with an m × d output of 3/4 of the space left.
    use randnla::sketch::{Gaussian, Srht};
    let left = address_space_left();
    let mg = 1usize << 18;
    let dg = usize::try_from(left * 3 / 4 / (8 * mg as u64)).unwrap();
    let wide = randnla::problems::random_sparse(300, dg, 4, Seed::new(6)).unwrap();
    let op = Gaussian::new(mg, 300, Seed::new(1)).unwrap();
    for (layout, a) in [
        ("csr", MatrixRef::sparse(&wide).unwrap()),
        ("csc", MatrixRef::sparse(&wide.to_csc()).unwrap()),
    ] {
        let r = op.apply(a, Par::Seq);
        assert!(is_too_large(&r), "Gaussian, {layout}: {:?}", r.err());
    }
    let tall = randnla::problems::random_sparse(1 << 20, d, 1, Seed::new(7)).unwrap();
    let ms = usize::try_from(address_space_left() * 3 / 4 / (8 * d as u64)).unwrap();
    let op = Srht::new(ms.min(1 << 20), 1 << 20, Seed::new(1)).unwrap();
    let r = op.apply(MatrixRef::sparse(&tall).unwrap(), Par::Seq);
    assert!(is_too_large(&r), "SRHT: {:?}", r.err());
}
