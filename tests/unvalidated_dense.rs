//! `MatrixRef::Dense(view)` skips the finiteness check of [`MatrixRef::dense`] (documented: the
//! entries "flow into the arithmetic as given"). The contract that no public function panics
//! holds for such input too: every entry point that takes a `MatrixRef` is called here with a
//! NaN, a +∞ and a −∞ in an otherwise ordinary matrix (dense 40 × 4, well conditioned), and
//! must return (an `Ok` or an `Err`) without panicking. The sketches, which promise a finite
//! output or [`Error::NonFinite`], must return that error.

use faer::{Mat, Par};
use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams};
use randnla::sketch::{SketchExt, SketchKind};
use randnla::{active, diagnostics, leverage, lstsq, Error, MatrixRef, Seed};
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
    }
}
