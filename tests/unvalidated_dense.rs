//! `MatrixRef::Dense(view)` skips the finiteness check of [`MatrixRef::dense`] (documented: the
//! entries "flow into the arithmetic as given"). The contract that no public function panics
//! holds for such input too: every entry point that takes a `MatrixRef` is called here with a
//! NaN, a +∞ and a −∞ in an otherwise ordinary matrix (dense 40 × 4, well conditioned), and
//! must return (an `Ok` or an `Err`) without panicking. The sketches, which promise a finite
//! output or [`Error::NonFinite`], must return that error (`apply`, `apply_right`,
//! `apply_block_into`, f32, the tensor sketches' `apply_rows`; a row sample that skips the bad
//! row may return a finite `Ok`), and so must `active::noisy_labels`, whose doc says so.
//! `RangeBasis::distortion` is reached with the basis of the finite matrix (on its small route
//! it reads only the basis, so `Ok` there is expected).

use faer::{Mat, Par};
use randnla::sketch::sampling::RowSampling;
use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams, TensorSketch, TreeSketch};
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
use randnla::{active, diagnostics, leverage, lstsq, Error, MatrixRef, Seed};
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};

const N: usize = 40;
const D: usize = 4;

fn base() -> Mat<f64> {
    Mat::from_fn(N, D, |i, j| {
        let t = (i * D + j) as f64;
        (0.7 * t).sin() + if i % D == j { 2.0 } else { 0.0 }
    })
}

/// Runs `f` and fails the test, naming `what` and the bad value, if it panics.
fn no_panic<R>(what: &str, bad: f64, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| panic!("{what} panicked on an unvalidated dense input holding {bad}"))
}

/// [`no_panic`] for an entry point whose answer is not checked here (`Ok` or `Err`).
fn returns(what: &str, bad: f64, f: impl FnOnce() -> randnla::Result<()>) {
    if let Ok(()) = no_panic(what, bad, f) {
        eprintln!("{what}: Ok on {bad}");
    }
}

/// The promise of every sketch: a finite output or [`Error::NonFinite`] (a row sample that
/// does not pick the bad row may return `Ok`).
fn finite_or_non_finite(what: &str, bad: f64, r: randnla::Result<Mat<f64>>) {
    match &r {
        Ok(m) => assert!(
            (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].is_finite())),
            "{what} on {bad}: Ok with a non-finite entry"
        ),
        Err(Error::NonFinite { .. }) => {}
        Err(e) => panic!("{what} on {bad}: {e:?}, expected a finite output or NonFinite"),
    }
}

/// The four sketch families and the three row samplings (weights of the finite matrix), all
/// `16 × N`.
fn all_sketches() -> Vec<(String, Box<dyn SketchOperator<f64>>)> {
    let mut v: Vec<(String, Box<dyn SketchOperator<f64>>)> =
        ["count", "sparse-sign", "gaussian", "srht"]
            .into_iter()
            .map(|k| {
                let s = k
                    .parse::<SketchKind>()
                    .unwrap()
                    .build::<f64>(16, N, Seed::new(1))
                    .unwrap();
                (k.to_string(), s)
            })
            .collect();
    let base = base();
    let w = randnla::sketch::sampling::row_norm_weights(MatrixRef::dense(base.as_ref()).unwrap())
        .unwrap();
    v.push((
        "row-sampling".into(),
        Box::new(RowSampling::with_replacement(&w, 16, Seed::new(5)).unwrap()),
    ));
    v.push((
        "bernoulli-sampling".into(),
        Box::new(RowSampling::bernoulli(&w, 16, Seed::new(6)).unwrap()),
    ));
    v.push((
        "uniform-sampling".into(),
        Box::new(RowSampling::uniform(N, 16, Seed::new(7)).unwrap()),
    ));
    v
}

/// Sketch entry points other than `apply` on `f64`: `apply_right`, `apply_block_into` on a row
/// block holding the bad entry (row 7) and on one without it, the row samplings' `apply`, the
/// four families' `apply` on `f32`, and the tensor sketches' `apply_rows` on both types.
#[test]
fn unvalidated_non_finite_dense_input_in_every_sketch_entry_point() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut m = base();
        m[(7, 2)] = bad;
        let a = MatrixRef::Dense(m.as_ref());
        let m32 = Mat::from_fn(N, D, |i, j| m[(i, j)] as f32);
        let a32 = MatrixRef::Dense(m32.as_ref());
        for (name, s) in all_sketches() {
            let sampling = name.ends_with("sampling");
            let r = no_panic(&name, bad, || s.apply(a, Par::Seq));
            finite_or_non_finite(&format!("{name} apply"), bad, r);
            let r = no_panic(&name, bad, || s.apply_right(a.transpose(), Par::Seq));
            if sampling {
                finite_or_non_finite(&format!("{name} apply_right"), bad, r);
            } else {
                assert!(
                    matches!(r, Err(Error::NonFinite { .. })),
                    "{name} apply_right on {bad}: {r:?}"
                );
            }
            for (lo, hi) in [(0, 20), (20, N)] {
                let what = format!("{name} apply_block_into rows {lo}..{hi}");
                let mut out = Mat::<f64>::zeros(s.nrows(), D);
                let r = no_panic(&what, bad, || {
                    s.apply_block_into(lo, a.row_block(lo, hi).unwrap(), out.as_mut(), Par::Seq)
                });
                match r {
                    Err(Error::NonFinite { .. }) => {}
                    // A block without the bad row, or a sample that skips it.
                    Ok(()) if hi <= 7 || lo > 7 || sampling => {
                        finite_or_non_finite(&what, bad, Ok::<_, Error>(out.clone()))
                    }
                    other => panic!("{what} on {bad}: {other:?}"),
                }
            }
        }
        for kind in ["count", "sparse-sign", "gaussian", "srht"] {
            let s = kind
                .parse::<SketchKind>()
                .unwrap()
                .build::<f32>(16, N, Seed::new(1))
                .unwrap();
            let r = no_panic(kind, bad, || s.apply(a32, Par::Seq));
            assert!(
                matches!(r, Err(Error::NonFinite { .. })),
                "{kind} f32 on {bad}: {r:?}"
            );
        }
        for degree in [2, 3] {
            let ts = TensorSketch::new(degree, D, 16, Seed::new(8)).unwrap();
            let tr = TreeSketch::new(degree, D, 16, Seed::new(9)).unwrap();
            let r = no_panic("TensorSketch::apply_rows", bad, || {
                ts.apply_rows(a, Par::Seq)
            });
            assert!(
                matches!(r, Err(Error::NonFinite { .. })),
                "TensorSketch::apply_rows degree {degree} on {bad}: {r:?}"
            );
            let r = no_panic("TreeSketch::apply_rows", bad, || tr.apply_rows(a, Par::Seq));
            assert!(
                matches!(r, Err(Error::NonFinite { .. })),
                "TreeSketch::apply_rows degree {degree} on {bad}: {r:?}"
            );
            let r = no_panic("TensorSketch::apply_rows f32", bad, || {
                ts.apply_rows(a32, Par::Seq)
            });
            assert!(
                matches!(r, Err(Error::NonFinite { .. })),
                "TensorSketch::apply_rows f32 degree {degree} on {bad}: {r:?}"
            );
            let r = no_panic("TreeSketch::apply_rows f32", bad, || {
                tr.apply_rows(a32, Par::Seq)
            });
            assert!(
                matches!(r, Err(Error::NonFinite { .. })),
                "TreeSketch::apply_rows f32 degree {degree} on {bad}: {r:?}"
            );
        }
    }
}

#[test]
fn unvalidated_non_finite_dense_input_never_panics() {
    let b: Vec<f64> = (0..N).map(|i| (0.3 * i as f64).cos()).collect();
    let bd: Vec<f64> = b[..D].to_vec();
    let rhs = Mat::from_fn(N, 2, |i, j| b[i] * (j + 1) as f64);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut m = base();
        m[(7, 2)] = bad;
        let a = MatrixRef::Dense(m.as_ref());

        // Sketches promise a finite output or NonFinite.
        for kind in ["count", "sparse-sign", "gaussian", "srht"] {
            let s = kind
                .parse::<SketchKind>()
                .unwrap()
                .build::<f64>(16, N, Seed::new(1))
                .unwrap();
            let r = no_panic(kind, bad, || s.apply(a, Par::Seq));
            assert!(
                matches!(r, Err(Error::NonFinite { .. })),
                "{kind} on {bad}: {r:?}"
            );
        }

        let lp = lstsq::LstsqParams::default();
        returns("qr_solve", bad, || {
            lstsq::qr_solve(a, &b, 0.0, Par::Seq).map(drop)
        });
        returns("normal_equations", bad, || {
            lstsq::normal_equations(a, &b, 0.0, Par::Seq).map(drop)
        });
        returns("lsqr", bad, || {
            lstsq::lsqr(a, &b, &lstsq::LsqrParams::default()).map(drop)
        });
        returns("sketch_and_precondition", bad, || {
            lstsq::sketch_and_precondition(a, &b, &lp).map(drop)
        });
        returns("sketch_and_precondition (no probe)", bad, || {
            let p = lstsq::LstsqParams {
                probe: false,
                ..lstsq::LstsqParams::default()
            };
            lstsq::sketch_and_precondition(a, &b, &p).map(drop)
        });
        returns("ridge", bad, || lstsq::ridge(a, &b, 0.5, &lp).map(drop));
        returns("sketch_and_precondition_multi", bad, || {
            lstsq::sketch_and_precondition_multi(a, rhs.as_ref(), &lp).map(drop)
        });
        returns("sketch_and_solve", bad, || {
            lstsq::sketch_and_solve(a, &b, &lstsq::SketchSolveParams::default()).map(drop)
        });
        returns("normal_equation_residual", bad, || {
            lstsq::normal_equation_residual(a, &[1.0; D], &b, Par::Seq).map(drop)
        });
        returns("Preconditioner::new", bad, || {
            lstsq::Preconditioner::new(a, &lp).map(drop)
        });
        let kp = lstsq::kernel_regression::KernelParams::default();
        returns("solve_p1", bad, || {
            lstsq::kernel_regression::solve_p1(a, 1, &bd, &kp).map(drop)
        });
        returns("solve_p2", bad, || {
            lstsq::kernel_regression::solve_p2(a, 1, &b, &kp).map(drop)
        });
        returns("solve_p3", bad, || {
            lstsq::kernel_regression::solve_p3(a, &b, &kp).map(drop)
        });

        returns("exact_leverage_scores", bad, || {
            leverage::exact_leverage_scores(a, &leverage::ExactParams::default(), Par::Seq)
                .map(drop)
        });
        returns("exact_ridge_leverage_scores", bad, || {
            leverage::exact_ridge_leverage_scores(
                a,
                0.5,
                &leverage::ExactParams::default(),
                Par::Seq,
            )
            .map(drop)
        });
        returns("statistical_dimension", bad, || {
            leverage::statistical_dimension(a, 0.5, Par::Seq).map(drop)
        });
        returns("approx_leverage_scores", bad, || {
            leverage::approx_leverage_scores(
                a,
                &leverage::ApproxParams::default(),
                Seed::new(2),
                Par::Seq,
            )
            .map(drop)
        });
        returns("approx_ridge_leverage_scores", bad, || {
            leverage::approx_ridge_leverage_scores(
                a,
                0.5,
                &leverage::ApproxParams::default(),
                Seed::new(2),
                Par::Seq,
            )
            .map(drop)
        });
        returns("row_norm_weights", bad, || {
            randnla::sketch::sampling::row_norm_weights(a).map(drop)
        });

        returns("gram", bad, || diagnostics::gram(a, Par::Seq).map(drop));
        returns("RangeBasis::new", bad, || {
            diagnostics::RangeBasis::new(a, Par::Seq).map(drop)
        });
        returns("distortion_on_range", bad, || {
            let s = SketchKind::SparseSign { nnz_per_col: 8 }
                .build::<f64>(16, N, Seed::new(1))
                .unwrap();
            diagnostics::distortion_on_range(s.as_ref(), a, Par::Seq).map(drop)
        });

        returns("PolyKernelFeatures::transform", bad, || {
            let f = PolyKernelFeatures::new(D, PolyKernelParams::default(), Seed::new(3)).unwrap();
            f.transform(a, Par::Seq).map(drop)
        });

        for basis in [
            active::Basis::Exact,
            active::Basis::Sketched { sketch_rows: None },
            active::Basis::AsGiven,
        ] {
            returns("active::Pool::new", bad, || {
                active::Pool::new(a, basis, Seed::new(4), Par::Seq).map(drop)
            });
        }
        returns("weighted_least_squares", bad, || {
            let rows: Vec<usize> = (0..N).collect();
            active::weighted_least_squares(a, &rows, &[1.0; N], &b, 0.0).map(drop)
        });
        // The doc promises NonFinite for a non-finite unvalidated dense X.
        let r = no_panic("noisy_labels", bad, || {
            active::noisy_labels(a, &[1.0, -0.5, 0.25, 2.0], 0.1, Seed::new(10))
        });
        assert!(
            matches!(r, Err(Error::NonFinite { .. })),
            "noisy_labels on {bad}: {r:?}"
        );
        let r = no_panic("noisy_labels (noise 0)", bad, || {
            active::noisy_labels(a, &[1.0, -0.5, 0.25, 2.0], 0.0, Seed::new(10))
        });
        assert!(
            matches!(r, Err(Error::NonFinite { .. })),
            "noisy_labels (noise 0) on {bad}: {r:?}"
        );

        returns("ridge_normal_equation_residual", bad, || {
            lstsq::ridge_normal_equation_residual(a, &[1.0; D], &b, 0.5, Par::Seq).map(drop)
        });
        for (name, s) in all_sketches() {
            returns(&format!("sketch_and_solve_with {name}"), bad, || {
                lstsq::sketch_and_solve_with(a, &b, s.as_ref(), Par::Seq).map(drop)
            });
        }
        returns("sketch_and_precondition_with_callback", bad, || {
            lstsq::sketch_and_precondition_with_callback(a, &b, &lp, &mut |_| {
                ControlFlow::Continue(())
            })
            .map(drop)
        });
        returns("sketch_and_precondition_with_callback (Break)", bad, || {
            lstsq::sketch_and_precondition_with_callback(
                a,
                &b,
                &lp,
                &mut |_| ControlFlow::Break(()),
            )
            .map(drop)
        });
        for method in [
            leverage::ExactMethod::Householder,
            leverage::ExactMethod::SketchCholesky,
        ] {
            returns(&format!("exact_leverage_scores {method:?}"), bad, || {
                let p = leverage::ExactParams {
                    method,
                    ..Default::default()
                };
                leverage::exact_leverage_scores(a, &p, Par::Seq).map(drop)
            });
        }
        for inner_solve in [
            lstsq::kernel_regression::InnerSolve::Cg,
            lstsq::kernel_regression::InnerSolve::Cholesky,
        ] {
            let kp = lstsq::kernel_regression::KernelParams {
                inner_solve,
                ..Default::default()
            };
            returns(&format!("solve_p1 {inner_solve:?}"), bad, || {
                lstsq::kernel_regression::solve_p1(a, 1, &bd, &kp).map(drop)
            });
            returns(&format!("solve_p2 {inner_solve:?}"), bad, || {
                lstsq::kernel_regression::solve_p2(a, 1, &b, &kp).map(drop)
            });
            returns(&format!("solve_p3 {inner_solve:?}"), bad, || {
                lstsq::kernel_regression::solve_p3(a, &b, &kp).map(drop)
            });
        }

        // RangeBasis::new refuses the bad matrix (or not): the basis of the finite matrix of the
        // same shape reaches `distortion` with the bad one.
        let good = base();
        let basis =
            diagnostics::RangeBasis::new(MatrixRef::dense(good.as_ref()).unwrap(), Par::Seq)
                .unwrap();
        for (name, s) in all_sketches() {
            returns(&format!("RangeBasis::distortion {name}"), bad, || {
                basis.distortion(s.as_ref(), a, Par::Seq).map(drop)
            });
        }

        // Features of the finite matrix, kernel of the bad one.
        returns("PolyKernelFeatures::kernel_error", bad, || {
            let f = PolyKernelFeatures::new(D, PolyKernelParams::default(), Seed::new(3)).unwrap();
            let z = f
                .transform(MatrixRef::dense(good.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            f.kernel_error(a, z.as_ref(), N, Par::Seq).map(drop)
        });

        returns("MatrixRef::to_dense", bad, || a.to_dense().map(drop));
        returns("MatrixRef::row_block", bad, || a.row_block(5, 9).map(drop));
    }
}
