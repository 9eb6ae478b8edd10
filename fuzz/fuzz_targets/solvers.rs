//! Arbitrary small matrices, right-hand sides and solver parameters → least squares, ridge,
//! sketch-and-solve, attention-kernel regression (P1, P2, P3) and leverage scores, on the dense
//! matrix and on its CSR and CSC copies.
//! Nothing may panic: every bad input (NaN/∞ in `b`, negative or NaN λ, tolerances out of range,
//! rank deficiency, tiny iteration budgets) must come back as an `Err` or a result with
//! diagnostics. One input byte also spreads the entries over a declared shape 2^45 times larger
//! (rows of a CSC copy, columns of a CSR copy): those calls must answer as fast as the small ones
//! (libFuzzer's `-timeout`), with a result or an error, never an abort. 2^45 elements of 8 bytes
//! exceed any address space, so their allocations fail whatever the overcommit policy. Run with
//! `--sanitizer none` (as `.ci/run` does): AddressSanitizer aborts on such a request instead of
//! letting the allocator refuse it.
#![no_main]

use faer::{Mat, Par};
use libfuzzer_sys::fuzz_target;
use randnla::leverage::{self, ApproxParams, ExactParams};
use randnla::lstsq::kernel_regression::{self, KernelParams};
use randnla::lstsq::{self, Factorization, LstsqParams, Preconditioner, SketchSolveParams};
use randnla::sketch::{SketchExt, SketchKind};
use randnla::{Layout, MatrixRef, Seed, SparseRef};

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

/// Compressed arrays of the nonzeros of `a` (CSR: by row; CSC: by column), the inner indices
/// multiplied by `stride`.
fn compress(a: &Mat<f64>, layout: Layout, stride: usize) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let (outer, inner) = match layout {
        Layout::Csr => (a.nrows(), a.ncols()),
        Layout::Csc => (a.ncols(), a.nrows()),
    };
    let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
    for o in 0..outer {
        for i in 0..inner {
            let v = match layout {
                Layout::Csr => a[(o, i)],
                Layout::Csc => a[(i, o)],
            };
            if v != 0.0 {
                indices.push(i * stride);
                values.push(v);
            }
        }
        indptr.push(indices.len());
    }
    (indptr, indices, values)
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
        factorization: [
            Factorization::Auto,
            Factorization::Qr,
            Factorization::Svd,
            Factorization::Diagonal,
        ][(b.u8() % 4) as usize],
        probe: b.u8() % 2 == 0,
        rcond: [1e-13, 0.0, 0.5, f64::NAN][(b.u8() % 4) as usize],
        ridge: 0.0,
        par: Par::Seq,
    };
    let kernel = KernelParams {
        lstsq: LstsqParams {
            ridge: [0.0, lambda][(b.u8() % 2) as usize],
            ..params.clone()
        },
        tol: [1e-10, 1e-3, 0.0, f64::NAN][(b.u8() % 4) as usize],
        max_iters: (b.u8() % 48) as usize,
        max_refinements: (b.u8() % 4) as usize,
        nystrom_rank: [None, Some(0), Some(1), Some(1 << 40)][(b.u8() % 4) as usize],
    };
    let power = (b.u8() % 4) as usize;
    // P1's right-hand side has d entries: the head of `rhs` when it is long enough.
    let rhs_d = &rhs[..d.min(rhs.len())];
    // Two right-hand sides for the multi-column solver: `rhs` and `rhs` reversed.
    let rhs2 = Mat::<f64>::from_fn(rhs.len(), 2, |i, j| {
        rhs[if j == 0 { i } else { rhs.len() - 1 - i }]
    });
    // Invalid matrices (NaN, ∞) are rejected at the door; valid ones go to every solver.
    let Ok(view) = MatrixRef::dense(a.as_ref()) else {
        return;
    };
    let solve_all = |m: MatrixRef<'_, f64>| {
        let _ = lstsq::sketch_and_precondition(m, &rhs, &params);
        let _ = lstsq::ridge(m, &rhs, lambda, &params);
        let _ = lstsq::sketch_and_precondition_multi(m, rhs2.as_ref(), &params);
        let _ = lstsq::sketch_and_solve(m, &rhs, &SketchSolveParams::default());
        let _ = lstsq::qr_solve(m, &rhs, lambda, Par::Seq);
        let _ = lstsq::normal_equations(m, &rhs, lambda, Par::Seq);
        let _ = kernel_regression::solve_p1(m, power, rhs_d, &kernel);
        let _ = kernel_regression::solve_p2(m, power, &rhs, &kernel);
        let _ = kernel_regression::solve_p3(m, &rhs, &kernel);
    };
    solve_all(view);
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

    let spread = b.u8() % 16 == 0;
    let stride = if spread { 1usize << 45 } else { 1 };
    for layout in [Layout::Csr, Layout::Csc] {
        let (indptr, indices, values) = compress(&a, layout, stride);
        let sparse = match layout {
            Layout::Csr => SparseRef::try_csr(n, d * stride, &indptr, &indices, &values),
            Layout::Csc => SparseRef::try_csc(n * stride, d, &indptr, &indices, &values),
        };
        let sparse = MatrixRef::Sparse(sparse.expect("the compressed copy of a valid matrix"));
        // Entry points without a right-hand side (which a spread CSC copy could not have).
        let _ = leverage::exact_leverage_scores(sparse, &ExactParams::default(), Par::Seq);
        let _ = leverage::approx_leverage_scores(sparse, &approx, Seed::new(3), Par::Seq);
        let _ = leverage::statistical_dimension(sparse, lambda, Par::Seq);
        let _ = Preconditioner::new(sparse, &params);
        for kind in [
            SketchKind::CountSketch,
            SketchKind::SparseSign { nnz_per_col: 2 },
            SketchKind::Gaussian,
        ] {
            if let Ok(op) = kind.build::<f64>(4, sparse.nrows(), Seed::new(5)) {
                let _ = op.apply(sparse, Par::Seq);
            }
        }
        if !(spread && layout == Layout::Csc) {
            solve_all(sparse);
        }
    }
});
