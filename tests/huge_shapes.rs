//! Sparse matrices may declare far more rows or columns than they store. Every entry point must
//! then answer quickly with a result or an error: no abort on an allocation sized by a declared
//! dimension, no overflow panic, no walk over every empty row. (An audit found all three; each
//! case below was an abort, a panic or an hours-long loop before it was fixed.)

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
use std::time::{Duration, Instant};

const HUGE: [usize; 3] = [1 << 40, 1 << 62, usize::MAX];

/// Stored rows of the tall CSC matrix: column 0 holds rows 5 and n − 1, column 1 row n / 2.
fn tall_rows(n: usize) -> [usize; 3] {
    [5, n - 1, n / 2]
}

const VALUES: [f64; 3] = [1.5, -2.0, 0.75];

/// `f` must answer within a few seconds (the walks fixed here took hours), with `Ok` or an error
/// that is not a panic; the caller checks which.
fn quick<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let t = Instant::now();
    let r = f();
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "{what}: {:?}",
        t.elapsed()
    );
    r
}

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
            for i in 0..6 {
                for j in 0..2 {
                    let (g, w) = (got[(i, j)], want[(i, j)]);
                    assert!(
                        (g - w).abs() <= 1e-14 * w.abs().max(1.0),
                        "{kind:?} n = {n} ({i}, {j}): {g} vs {w}"
                    );
                }
            }
            assert!(
                (0..2).any(|j| (0..6).any(|i| got[(i, j)] != 0.0)),
                "{kind:?}: the stored entries reached the sketch"
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
