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
use randnla::lstsq::kernel_regression::{self, InnerSolve, KernelParams};
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
        inner_solve: [InnerSolve::Auto, InnerSolve::Cg, InnerSolve::Cholesky]
            [(b.u8() % 3) as usize],
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
        // `a` is the matrix `m` stores unless `m` is a spread copy (more columns than `a`).
        let same = m.ncols() == d;
        let sp = lstsq::sketch_and_precondition(m, &rhs, &params);
        check_lstsq(&a, &rhs, 0.0, &params, &sp, same);
        let sp_ridge = lstsq::ridge(m, &rhs, lambda, &params);
        check_lstsq(&a, &rhs, lambda, &params, &sp_ridge, same);
        // "Deterministic given the seed: bitwise identical for every thread count."
        let two = LstsqParams {
            par: Par::rayon(2),
            ..params.clone()
        };
        same_solve(
            &sp,
            &lstsq::sketch_and_precondition(m, &rhs, &two),
            "1 vs 2 threads",
        );
        same_solve(
            &sp_ridge,
            &lstsq::ridge(m, &rhs, lambda, &two),
            "ridge, 1 vs 2 threads",
        );
        if let Ok((x, infos)) = lstsq::sketch_and_precondition_multi(m, rhs2.as_ref(), &params) {
            assert_eq!((x.nrows(), x.ncols(), infos.len()), (m.ncols(), 2, 2));
            for (j, info) in infos.iter().enumerate() {
                let xj: Vec<f64> = x.col(j).iter().copied().collect();
                assert!(all_finite(&xj), "multi: Ok with a non-finite x");
                assert!(
                    info.converged && !info.stopped_by_callback,
                    "multi: Ok not converged"
                );
                // "Every column of X is bitwise what sketch_and_precondition returns for that
                // column alone" (probed or sketched).
                let bj: Vec<f64> = rhs2.col(j).iter().copied().collect();
                let (single, _) = lstsq::sketch_and_precondition(m, &bj, &params)
                    .expect("the single-column solver solves a column the multi solver solved");
                assert!(
                    same_bits(&xj, &single),
                    "multi column {j} vs single: {xj:?} vs {single:?}"
                );
            }
        }
        let ss = lstsq::sketch_and_solve(m, &rhs, &SketchSolveParams::default());
        if let Ok((x, info)) = &ss {
            assert_eq!(x.len(), m.ncols());
            assert!(all_finite(x), "sketch_and_solve: Ok with a non-finite x");
            // `m = 10d` by default; expected ratio √(1 + d/(m − d − 1)), ∞ when m ≤ d + 1.
            let (sm, dd) = (info.sketch_rows, m.ncols());
            assert_eq!(sm, 10 * dd);
            let want = if sm <= dd + 1 {
                f64::INFINITY
            } else {
                (1.0 + dd as f64 / (sm - dd - 1) as f64).sqrt()
            };
            assert!(
                (info.expected_ratio - want).abs() <= 1e-12 * want,
                "expected_ratio {} vs {want}",
                info.expected_ratio
            );
            if same {
                check_residual(&a, &rhs, 0.0, x, info.residual_norm, "sketch_and_solve");
            }
        }
        // "the answer is bitwise the same for every thread count".
        let ss2 = lstsq::sketch_and_solve(
            m,
            &rhs,
            &SketchSolveParams {
                par: Par::rayon(2),
                ..SketchSolveParams::default()
            },
        );
        match (&ss, &ss2) {
            (Ok((x, _)), Ok((y, _))) => {
                assert!(same_bits(x, y), "sketch_and_solve: 1 vs 2 threads")
            }
            (Err(_), Err(_)) => {}
            (x, y) => panic!("sketch_and_solve: 1 vs 2 threads disagree: {x:?} vs {y:?}"),
        }
        // The baselines: "NonFinite when the solution overflows", so Ok is finite.
        if let Ok(x) = lstsq::qr_solve(m, &rhs, lambda, Par::Seq) {
            assert!(x.len() == m.ncols() && all_finite(&x), "qr_solve: {x:?}");
        }
        if let Ok(x) = lstsq::normal_equations(m, &rhs, lambda, Par::Seq) {
            assert!(
                x.len() == m.ncols() && all_finite(&x),
                "normal_equations: {x:?}"
            );
        }
        let p1 = kernel_regression::solve_p1(m, power, rhs_d, &kernel);
        if let Ok((x, info)) = &p1 {
            check_kernel(x, info, m.ncols(), kernel.tol, "P1");
            // "j = 0 returns x = b for any A": no iterations, a residual of exactly zero.
            if power == 0 {
                assert!(same_bits(x, rhs_d), "P1, j = 0: {x:?} vs b = {rhs_d:?}");
                assert_eq!(info.residual_norm, 0.0, "P1, j = 0: {info:?}");
            }
        }
        if let Ok((x, info)) = kernel_regression::solve_p2(m, power, &rhs, &kernel) {
            check_kernel(&x, &info, m.ncols(), kernel.tol, "P2");
        }
        if let Ok((x, info)) = kernel_regression::solve_p3(m, &rhs, &kernel) {
            check_kernel(&x, &info, m.nrows(), kernel.tol, "P3");
        }
    };
    solve_all(view);
    check_exact_leverage(
        view,
        leverage::exact_leverage_scores(view, &ExactParams::default(), Par::Seq),
    );
    let approx = ApproxParams {
        sketch_rows: params.sketch_rows,
        jl_dim: (b.u8() % 20) as usize,
        nnz_per_col: params.nnz_per_col,
        debias: b.u8() % 2 == 0,
        rank_tol: None,
    };
    // "The output is bitwise identical for any thread count, and for CSR and CSC storage."
    let approx_dense = leverage::approx_leverage_scores(view, &approx, Seed::new(3), Par::Seq);
    let approx_two = leverage::approx_leverage_scores(view, &approx, Seed::new(3), Par::rayon(2));
    same_scores(
        &approx_dense,
        &approx_two,
        "approx leverage, 1 vs 2 threads",
    );
    let ridge_one =
        leverage::approx_ridge_leverage_scores(view, lambda, &approx, Seed::new(3), Par::Seq);
    let ridge_two =
        leverage::approx_ridge_leverage_scores(view, lambda, &approx, Seed::new(3), Par::rayon(2));
    same_scores(
        &ridge_one,
        &ridge_two,
        "approx ridge leverage, 1 vs 2 threads",
    );
    check_stat_dim(d, leverage::statistical_dimension(view, lambda, Par::Seq));
    let mut approx_sparse = Vec::new();

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
        let exact = leverage::exact_leverage_scores(sparse, &ExactParams::default(), Par::Seq);
        if !spread {
            check_exact_leverage(sparse, exact);
        }
        approx_sparse.push(leverage::approx_leverage_scores(
            sparse,
            &approx,
            Seed::new(3),
            Par::Seq,
        ));
        let sd = leverage::statistical_dimension(sparse, lambda, Par::Seq);
        if !spread {
            check_stat_dim(d, sd);
        }
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
    same_scores(
        &approx_sparse[0],
        &approx_sparse[1],
        "approx leverage, CSR vs CSC",
    );
});

fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

fn same_bits(x: &[f64], y: &[f64]) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| a.to_bits() == b.to_bits())
}

/// Two runs that must agree bitwise: both `Ok` with the same `x` and residual norm, or both `Err`.
fn same_solve(
    x: &randnla::Result<(Vec<f64>, lstsq::Info)>,
    y: &randnla::Result<(Vec<f64>, lstsq::Info)>,
    what: &str,
) {
    match (x, y) {
        (Ok((x, i)), Ok((y, j))) => {
            assert!(same_bits(x, y), "{what}: {x:?} vs {y:?}");
            assert_eq!(
                i.residual_norm.to_bits(),
                j.residual_norm.to_bits(),
                "{what}"
            );
        }
        (Err(_), Err(_)) => {}
        (x, y) => panic!("{what}: {x:?} vs {y:?}"),
    }
}

fn same_scores(
    x: &randnla::Result<(Vec<f64>, leverage::LeverageInfo)>,
    y: &randnla::Result<(Vec<f64>, leverage::LeverageInfo)>,
    what: &str,
) {
    match (x, y) {
        (Ok((x, _)), Ok((y, _))) => assert!(same_bits(x, y), "{what}: {x:?} vs {y:?}"),
        (Err(_), Err(_)) => {}
        (x, y) => panic!("{what}: {x:?} vs {y:?}"),
    }
}

/// `residual` against `‖[b − Ax; −√λx]‖` recomputed here. Each entry of `b − Ax` is off by at
/// most `γ_{d+1}·(|b| + |A||x|)` in either computation, so the two norms differ by a few ulps of
/// `‖ |b| + |A||x| ‖ + √λ‖x‖` (slack 1e-12 relative for `d ≤ 6`, plus the subnormal range,
/// where a scaled-back `x` rounds once). Norms are taken with scaling, so that squares neither
/// under- nor overflow.
fn check_residual(a: &Mat<f64>, b: &[f64], lambda: f64, x: &[f64], residual: f64, what: &str) {
    let (mut r, mut abs) = (Vec::new(), Vec::new());
    for i in 0..a.nrows() {
        let (mut ax, mut s) = (0.0, b[i].abs());
        for j in 0..a.ncols() {
            ax += a[(i, j)] * x[j];
            s += (a[(i, j)] * x[j]).abs();
        }
        r.push(b[i] - ax);
        abs.push(s);
    }
    let sl = lambda.sqrt();
    r.extend(x.iter().map(|v| sl * v));
    let scale = norm(&abs) + sl * norm(x);
    if !scale.is_finite() || !r.iter().all(|v| v.is_finite()) {
        // Out of range: nothing cheap to compare with.
        return;
    }
    let want = norm(&r);
    // A `b` scaled into range is solved as `2⁻ᵉ·b`, "the solution and residual norms are scaled
    // back, rounding once": each entry of `x` may move by up to 2⁻¹⁰⁷⁴ (the subnormal ulp) after
    // the residual was taken, which moves `‖b − Ax‖` by up to `Σ|a_ij|·2⁻¹⁰⁷⁴` (a 1 × 6 `A`
    // with an entry 9.6e281 and `b = 5.05e-292`: `x` rounds to 0, the residual 0 is reported
    // for the unrounded `x`).
    let rounding: f64 = a
        .col_iter()
        .flat_map(|c| c.iter().map(|v| v.abs() * 5e-324).collect::<Vec<_>>())
        .sum();
    assert!(
        (residual - want).abs() <= 1e-12 * scale + 2.0 * rounding + 1e-300,
        "{what}: residual_norm {residual:e} vs recomputed {want:e} (scale {scale:e})"
    );
}

/// `‖v‖₂` without under- or overflow in the squares.
fn norm(v: &[f64]) -> f64 {
    let m = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    m * v.iter().map(|x| (x / m) * (x / m)).sum::<f64>().sqrt()
}

/// What an `Ok` from the sketch-and-precondition solvers promises: `x` of length `d`, finite
/// ("a solution that does not fit in f64" is `NonFinite`), converged (a run over `max_iters` is
/// `NotConverged`; only a callback stops early, and none is given), `run_iterations.len() == runs`
/// summing to `iterations`, the rank at most `d`, and `residual_norm` "the true residual norm
/// ‖b − Ax‖ (for ridge: ‖[b − Ax; −√λx]‖), recomputed at the end".
fn check_lstsq(
    a: &Mat<f64>,
    b: &[f64],
    lambda: f64,
    params: &LstsqParams,
    r: &randnla::Result<(Vec<f64>, lstsq::Info)>,
    same: bool,
) {
    let Ok((x, info)) = r else {
        return;
    };
    assert!(all_finite(x), "Ok with a non-finite x: {x:?}");
    assert!(
        info.converged && !info.stopped_by_callback,
        "Ok without convergence: {info:?}"
    );
    assert_eq!(info.run_iterations.len(), info.runs, "{info:?}");
    // Up to two more runs after the ones asked for while the answer fails the backward check,
    // which a sketched solve (ridge or not) makes when at least one refinement run was asked for.
    let extra = if params.refinement_steps >= 1 { 2 } else { 0 };
    assert!(
        info.runs >= 1 && info.runs <= params.refinement_steps + 1 + extra,
        "{info:?}"
    );
    assert_eq!(info.tol.to_bits(), params.tol.to_bits());
    if !same {
        return;
    }
    assert_eq!(x.len(), a.ncols());
    assert!(info.rank <= a.ncols(), "{info:?}");
    check_residual(
        a,
        b,
        lambda,
        x,
        info.residual_norm,
        "sketch_and_precondition",
    );
}

/// `κ` of `A` with each column scaled by the power of two that brings its largest entry into
/// `[1, 2)` (as the rank decision of the exact leverage scores sees it), over its `rank`
/// largest singular values; ∞ where that is not defined.
fn equilibrated_condition(m: MatrixRef<'_, f64>, rank: usize) -> f64 {
    let Ok(mut a) = m.to_dense() else {
        return f64::INFINITY;
    };
    for j in 0..a.ncols() {
        let top = (0..a.nrows()).fold(0.0f64, |t, i| t.max(a[(i, j)].abs()));
        if top > 0.0 && top.is_finite() {
            let e = top.log2().floor() as i32;
            for i in 0..a.nrows() {
                a[(i, j)] *= 2f64.powi(-e);
            }
        }
    }
    match a.singular_values() {
        Ok(s) if rank >= 1 && rank <= s.len() => s[0] / s[rank - 1],
        _ => f64::INFINITY,
    }
}

/// Exact leverage scores: `n` of them, each in `[0, 1]` (squared row norms of an orthonormal
/// basis), summing to the rank ("the scores of a rank-r matrix sum to r"; `info.sum` is that sum)
/// up to the scores' documented rounding, `O(ε·κ)` with `κ` that of the column-equilibrated `A`:
/// the Householder `Q` gives a zero row a mass of that order, which the library drops (a 5 × 4
/// matrix with `κ ≈ 5·10¹³` lost `10⁻⁶`; seed `leverage-zero-row-mass`).
fn check_exact_leverage(
    m: MatrixRef<'_, f64>,
    r: randnla::Result<(Vec<f64>, leverage::LeverageInfo)>,
) {
    let Ok((scores, info)) = r else {
        return;
    };
    assert_eq!(scores.len(), m.nrows());
    assert!(info.rank <= m.ncols().min(m.nrows()), "{info:?}");
    for &s in &scores {
        assert!((0.0..=1.0 + 1e-10).contains(&s), "score {s}: {scores:?}");
    }
    let sum: f64 = scores.iter().sum();
    let off = (sum - info.rank as f64).abs();
    if off > 1e-10 * (1.0 + sum) {
        let kappa = equilibrated_condition(m, info.rank);
        assert!(
            off <= 1e-10 * (1.0 + sum) + 4.0 * f64::EPSILON * kappa * info.rank as f64,
            "sum {sum} vs {info:?} (κ of the equilibrated A {kappa:e})"
        );
    }
    assert!(
        (sum - info.sum).abs() <= 1e-12 * (1.0 + sum),
        "sum {sum} vs {info:?}"
    );
}

/// An `Ok` from kernel regression: `x` of its length and finite ("a solution that does not fit
/// in f64" is `NonFinite`); the history has `refinements + 1` entries, the last `≤ tol`, or is
/// empty when nothing was solved.
fn check_kernel(x: &[f64], info: &kernel_regression::KernelInfo, len: usize, tol: f64, what: &str) {
    assert_eq!(x.len(), len, "{what}");
    assert!(all_finite(x), "{what}: Ok with a non-finite x: {x:?}");
    let h = &info.residual_history;
    if let Some(&last) = h.last() {
        assert_eq!(h.len(), info.refinements + 1, "{what}: {info:?}");
        assert!(
            last <= tol,
            "{what}: last refinement residual {last} above tol {tol}: {info:?}"
        );
    }
}

/// `d_λ = tr(AᵀA(AᵀA + λI)⁻¹)`: between 0 and `d`.
fn check_stat_dim(d: usize, r: randnla::Result<f64>) {
    if let Ok(s) = r {
        assert!(
            (0.0..=d as f64 * (1.0 + 1e-10)).contains(&s),
            "d_λ = {s}, d = {d}"
        );
    }
}
