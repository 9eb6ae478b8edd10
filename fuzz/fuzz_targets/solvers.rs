//! Arbitrary small matrices, right-hand sides and solver parameters → least squares, ridge,
//! sketch-and-solve and leverage scores. Nothing may panic: every bad input (NaN/∞ in `b`, negative
//! or NaN λ, tolerances out of range, rank deficiency, tiny iteration budgets) must come back as
//! an `Err` or a result with diagnostics.
#![no_main]

use faer::{Mat, Par};
use libfuzzer_sys::fuzz_target;
use randnla::leverage::{self, ApproxParams, ExactParams};
use randnla::lstsq::{self, Factorization, LstsqParams, SketchSolveParams};
use randnla::{MatrixRef, Seed};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

/// Mostly small values (zero often, to make rank-deficient matrices); sometimes raw bits.
fn value(b: &mut Bytes<'_>) -> f64 {
    match b.u8() % 8 {
        0 | 1 => 0.0,
        2 => b.raw_f64(),
        _ => (b.u8() as f64 - 128.0) / 16.0,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n = 1 + (b.u8() % 48) as usize;
    let d = 1 + (b.u8() % 6) as usize;
    let a = Mat::<f64>::from_fn(n, d, |_, _| value(&mut b));
    let rhs: Vec<f64> = (0..n + (b.u8() % 4 == 0) as usize)
        .map(|_| value(&mut b))
        .collect();
    let lambda = value(&mut b);
    let params = LstsqParams {
        sketch_rows: match b.u8() % 4 {
            0 => None,
            k => Some(k as usize * d + (b.u8() % 3) as usize),
        },
        nnz_per_col: 1 + (b.u8() % 9) as usize,
        seed: Seed::new(b.u8() as u64),
        tol: [1e-14, 1e-8, 0.0, -1.0, f64::NAN][(b.u8() % 5) as usize],
        max_iters: (b.u8() % 64) as usize,
        refinement_steps: (b.u8() % 3) as usize,
        factorization: [Factorization::Auto, Factorization::Qr, Factorization::Svd]
            [(b.u8() % 3) as usize],
        rcond: [1e-13, 0.0, 0.5, f64::NAN][(b.u8() % 4) as usize],
        ridge: 0.0,
        par: Par::Seq,
    };
    // Invalid matrices (NaN, ∞) are rejected at the door; valid ones go to every solver.
    let Ok(view) = MatrixRef::dense(a.as_ref()) else {
        return;
    };
    let _ = lstsq::sketch_and_precondition(view, &rhs, &params);
    let _ = lstsq::ridge(view, &rhs, lambda, &params);
    let _ = lstsq::sketch_and_solve(view, &rhs, &SketchSolveParams::default());
    let _ = lstsq::qr_solve(view, &rhs, lambda, Par::Seq);
    let _ = lstsq::normal_equations(view, &rhs, lambda, Par::Seq);
    let _ = leverage::exact_leverage_scores(view, &ExactParams::default(), Par::Seq);
    let approx = ApproxParams {
        sketch_rows: params.sketch_rows,
        jl_dim: (b.u8() % 20) as usize,
        nnz_per_col: params.nnz_per_col,
        debias: b.u8() % 2 == 0,
        rank_tol: None,
    };
    let _ = leverage::approx_leverage_scores(view, &approx, Seed::new(3), Par::Seq);
    let _ = leverage::approx_ridge_leverage_scores(view, lambda, &approx, Seed::new(3), Par::Seq);
    let _ = leverage::statistical_dimension(view, lambda, Par::Seq);
});
