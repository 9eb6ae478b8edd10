//! Findings of a downstream review of the least-squares module: each test states the contract
//! it holds the solvers to, checked against an independent dense computation.

use crate::common;

use faer::Mat;
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, solve_p3, KernelParams};
use randnla::MatrixRef;

use common::{matvec, norm_scaled as norm};

fn sub(p: &[f64], q: &[f64]) -> Vec<f64> {
    p.iter().zip(q).map(|(a, b)| a - b).collect()
}

/// `2^k·[[1, 0], [0, 2], [1, 1]]`: `AᵀA = 4^k·[[2, 1], [1, 5]]`, every product exact.
fn scaled_a(k: i32) -> Mat<f64> {
    let base = [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]];
    Mat::from_fn(3, 2, |i, j| base[i][j] * 2f64.powi(k))
}

/// `exp(AAᵀ)·x − b` evaluated entry by entry as `Σⱼ sign(xⱼ)·e^{⟨aᵢ,aⱼ⟩ + ln|xⱼ|}`, so that
/// an `e^{⟨aᵢ,aⱼ⟩}` beyond `f64::MAX` times a tiny `xⱼ` is the ordinary number it is.
fn p3_residual(a: &Mat<f64>, x: &[f64], b: &[f64]) -> Vec<f64> {
    let n = a.nrows();
    (0..n)
        .map(|i| {
            let s: f64 = (0..n)
                .filter(|&j| x[j] != 0.0)
                .map(|j| {
                    let dot: f64 = (0..a.ncols()).map(|k| a[(i, k)] * a[(j, k)]).sum();
                    x[j].signum() * (dot + x[j].abs().ln()).exp()
                })
                .sum();
            s - b[i]
        })
        .collect()
}

/// The kernel solvers promise (module docs) `‖residual‖ ≤ tol·‖b‖` for P1 and P3 and
/// `‖residual‖² ≤ OPT² + (tol·‖b‖)²` for P2 on the answer they return, "never a wrong Ok". A
/// right-hand side given to full precision (normal entries) whose exact solution lies below the
/// smallest subnormal (`x ≈ 2⁻¹¹³²`, `2⁻¹¹⁹⁸`, `2⁻¹⁹⁷⁵`, and `x₁ ≈ e^{−1369}` beside an
/// ordinary `x₂` for the two-row P3) has no answer in `f64` that meets the promise: the solvers
/// used to return `x = 0` (or `x₁ = 0`) as `Ok` with a reported relative residual of 10⁻¹⁶, while
/// the returned `x` has relative residual 1 (P3's two-row case: ≈ 0.007). Pass rule: an `Ok`
/// must meet the promise on the returned `x`, recomputed densely here (entries of `AᵀA` are exact;
/// `OPT` from the exact projection onto `range(A)`; P3's residual in the log domain), with the
/// tolerance `tol = 10⁻¹⁰` of the defaults and a factor 1 + 10⁻⁶ for the rounding of this
/// recomputation; an `Err` passes. The reported `relative_residual` must be that of the
/// returned `x` (to 10⁻⁶ relative, plus 10⁻¹⁴ absolute for results near zero).
#[test]
fn kernel_answers_that_underflow_meet_their_guarantee_or_are_errors() {
    let p = KernelParams::default();
    let tol = p.tol;
    let a = scaled_a(266);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let ata = Mat::from_fn(2, 2, |i, j| [[2.0, 1.0], [1.0, 5.0]][i][j] * 2f64.powi(532));
    // P1, j = 1: x = 2^-532·M⁻¹·2^-600·[1, 2] ≈ 2^-1132.
    let b1 = [2f64.powi(-600), 2f64.powi(-599)];
    if let Ok((x, info)) = solve_p1(av, 1, &b1, &p) {
        let rel = norm(&sub(&matvec(&ata, &x), &b1)) / norm(&b1);
        assert!(
            rel <= tol * (1.0 + 1e-6),
            "P1: x = {x:?}, true relative residual {rel:e}"
        );
        assert!(
            (info.relative_residual - rel).abs() <= 1e-6 * rel + 1e-14,
            "P1: reported {:e}, true {rel:e}",
            info.relative_residual
        );
    }
    // P2, j = 1: y = A⁺b, x = (AᵀA)⁻¹y ≈ 2^-1198. OPT = ‖b − P b‖ with P the projector onto
    // range(A) = range([[1, 0], [0, 2], [1, 1]]).
    let b2 = [2f64.powi(-400), 2f64.powi(-399), 2f64.powi(-401)];
    let a0 = scaled_a(0);
    let m0 = Mat::from_fn(2, 2, |i, j| [[2.0, 1.0], [1.0, 5.0]][i][j]);
    let det = 9.0;
    let atb: Vec<f64> = (0..2)
        .map(|j| (0..3).map(|i| a0[(i, j)] * b2[i]).sum())
        .collect();
    let y0 = [
        (m0[(1, 1)] * atb[0] - m0[(0, 1)] * atb[1]) / det,
        (-m0[(1, 0)] * atb[0] + m0[(0, 0)] * atb[1]) / det,
    ];
    let opt = norm(&sub(&b2, &matvec(&a0, &y0)));
    assert!(
        opt > 0.1 * norm(&b2),
        "b must not lie in range(A): OPT = {opt:e}"
    );
    if let Ok((x, info)) = solve_p2(av, 1, &b2, &p) {
        let res = norm(&sub(&matvec(&a, &matvec(&ata, &x)), &b2));
        let bound = (opt * opt + (tol * norm(&b2)).powi(2)).sqrt();
        assert!(
            res <= bound * (1.0 + 1e-6),
            "P2: x = {x:?}, residual {res:e} > bound {bound:e}"
        );
        assert!(
            (info.relative_residual - res / norm(&b2)).abs() <= 1e-6 * res / norm(&b2),
            "P2: reported {:e}, true {:e}",
            info.relative_residual,
            res / norm(&b2)
        );
    }
    // P3, one row: e^676·x = 2^-1000, x ≈ 2^-1975.
    let a3 = Mat::from_fn(1, 1, |_, _| 26.0);
    let b3 = [2f64.powi(-1000)];
    if let Ok((x, info)) = solve_p3(MatrixRef::dense(a3.as_ref()).unwrap(), &b3, &p) {
        let rel = norm(&p3_residual(&a3, &x, &b3)) / norm(&b3);
        assert!(
            rel <= tol * (1.0 + 1e-6),
            "P3: x = {x:?}, true relative residual {rel:e}"
        );
        assert!(
            (info.relative_residual - rel).abs() <= 1e-6 * rel + 1e-14,
            "P3: reported {:e}, true {rel:e}",
            info.relative_residual
        );
    }
    // P3, two orthogonal rows: exp(AAᵀ) = [[e^1369, 1], [1, e^0.01]], b = [1, 1]:
    // x₂ ≈ e^-0.01 is ordinary, x₁ = (1 − x₂)·e^-1369 underflows.
    let a4 = Mat::from_fn(2, 2, |i, j| [[37.0, 0.0], [0.0, 0.1]][i][j]);
    let b4 = [1.0, 1.0];
    if let Ok((x, info)) = solve_p3(MatrixRef::dense(a4.as_ref()).unwrap(), &b4, &p) {
        let rel = norm(&p3_residual(&a4, &x, &b4)) / norm(&b4);
        assert!(
            rel <= tol * (1.0 + 1e-6),
            "P3 (2 rows): x = {x:?}, true relative residual {rel:e}"
        );
        assert!(
            (info.relative_residual - rel).abs() <= 1e-6 * rel + 1e-14,
            "P3 (2 rows): reported {:e}, true {rel:e}",
            info.relative_residual
        );
    }
}

/// The other side of the rule above: an entry of `x` that underflows while the answer still
/// meets its guarantee is not an error. `A = 2^266·[I₂; 0]` (`AᵀA = 2^532·I`), `b = [2⁻³⁰⁰,
/// 2⁻⁶³⁰]` (scaled into range by the solver): `x = [2⁻⁸³², 2⁻¹¹⁶²]`, whose second entry is below
/// the smallest subnormal; rounding it to 0 leaves a residual of `2⁻⁶³⁰ ≈ 2⁻³³⁰·‖b‖`, far below
/// `tol·‖b‖`. Pass rule: `Ok`, and the returned `x` meets `‖AᵀAx − b‖ ≤ tol·‖b‖` recomputed
/// densely (`AᵀA = 2^532·I` exactly; factor 1 + 10⁻⁶ for the recomputation's rounding).
#[test]
fn kernel_answers_with_a_negligible_underflowed_entry_are_ok() {
    let p = KernelParams::default();
    let a = Mat::from_fn(3, 2, |i, j| if i == j { 2f64.powi(266) } else { 0.0 });
    let b = [2f64.powi(-300), 2f64.powi(-630)];
    let (x, info) = solve_p1(MatrixRef::dense(a.as_ref()).unwrap(), 1, &b, &p).unwrap();
    let kx: Vec<f64> = x.iter().map(|v| v * 2f64.powi(532)).collect();
    let rel = norm(&sub(&kx, &b)) / norm(&b);
    assert!(rel <= p.tol * (1.0 + 1e-6), "x = {x:?}: {rel:e}, {info:?}");
}

/// `qr_solve`, "the accuracy reference for the other solvers", on ridge problems with `√λ`
/// far above the entries of `A`: `A` Gaussian `200 × 5` (`‖A‖² ≈ 300`), λ from 10¹⁴ to 10¹⁰⁰.
/// `[A; √λI]` then has condition number `≈ 1 + ‖A‖²/λ ≈ 1`, so a backward-stable solve has a
/// forward error of a few hundred units of rounding. The reference is the Neumann series
/// `x = Aᵀb/λ − AᵀA·Aᵀb/λ²`, whose truncation error is `(‖A‖²/λ)²·‖x‖ ≤ 10⁻²³·‖x‖` here
/// (products of `A` and `b` carry `n·u`-sized errors). Pass rule: relative error ≤ 10⁻¹³
/// (≈ 450u). With `[A; √λI]` the reflector of column j lost `A`'s entry in `a_jj ± √λ` and the
/// first entry of `Qᵀ[b; 0]` came from a cancellation `b_j − b_j(1 + δ)`: the errors were
/// 5·10⁻⁸ at λ = 10²⁰, 0.8 % at 10³⁰ and 10¹³ (the answer 10¹³ times too large) at 10⁶⁰, while
/// the normal equations and `ridge` met 10⁻¹⁵.
#[test]
fn qr_ridge_with_a_large_lambda_is_accurate() {
    use randnla::lstsq::qr_solve;
    let (n, d) = (200, 5);
    let a = randnla::problems::gaussian_matrix(n, d, randnla::Seed::new(3)).unwrap();
    let b: Vec<f64> = (0..n).map(|i| ((i * 7) as f64).sin()).collect();
    let atb: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| a[(i, j)] * b[i]).sum())
        .collect();
    let g = a.transpose() * &a;
    let gatb = matvec(&g, &atb);
    for lambda in [1e14, 1e20, 1e30, 1e60, 1e100] {
        let want: Vec<f64> = (0..d)
            .map(|i| atb[i] / lambda - gatb[i] / lambda / lambda)
            .collect();
        let x = qr_solve(
            MatrixRef::dense(a.as_ref()).unwrap(),
            &b,
            lambda,
            faer::Par::Seq,
        )
        .unwrap();
        let err = norm(&sub(&x, &want)) / norm(&want);
        assert!(err <= 1e-13, "λ = {lambda:e}: relative error {err:e}");
    }
}

/// `LstsqParams::rcond` documents that the numerical rank is that of `A` as given (NumPy's
/// `lstsq` convention), not of its equilibrated columns: a full-rank `A` whose columns are in
/// units `1e7, 1, 1e-7` (`κ(A) ≈ 10¹⁴ > 1/rcond`) is solved by the sketched path as
/// rank-deficient, with `info.rank < d` and the SVD preconditioner; the same matrix with its
/// columns brought to comparable norms by powers of two (what the docs tell the user to do) is
/// full rank, and its answer mapped back is that of a dense QR solve of the original (relative
/// difference ≤ 1e-10: `κ ≈ 3` after scaling, where QR's own error is ≈ 1e-15).
#[test]
fn rank_is_that_of_a_as_given_and_scaling_the_columns_restores_it() {
    use randnla::lstsq::{qr_solve, sketch_and_precondition, Factorization, LstsqParams};
    let (n, d) = (300, 3);
    let g = randnla::problems::gaussian_matrix(n, d, randnla::Seed::new(4)).unwrap();
    let units = [1e7, 1.0, 1e-7];
    let a = Mat::from_fn(n, d, |i, j| g[(i, j)] * units[j]);
    let b: Vec<f64> = (0..n).map(|i| (0.37 * i as f64).sin()).collect();
    let sketched = LstsqParams {
        probe: false,
        ..LstsqParams::default()
    };
    let (_, info) =
        sketch_and_precondition(MatrixRef::dense(a.as_ref()).unwrap(), &b, &sketched).unwrap();
    assert!(info.rank < d, "rank {} for κ(A) ≈ 1e14", info.rank);
    assert_eq!(info.factorization, Some(Factorization::Svd));

    // Columns scaled by powers of two to norms within 2× of each other: full rank, and x of the
    // scaled problem maps back to the dense QR answer of the original one.
    let pow2 = [2f64.powi(-23), 1.0, 2f64.powi(23)];
    let scaled = Mat::from_fn(n, d, |i, j| a[(i, j)] * pow2[j]);
    let xq = qr_solve(
        MatrixRef::dense(a.as_ref()).unwrap(),
        &b,
        0.0,
        faer::Par::Seq,
    )
    .unwrap();
    for params in [sketched, LstsqParams::default()] {
        let (y, info) =
            sketch_and_precondition(MatrixRef::dense(scaled.as_ref()).unwrap(), &b, &params)
                .unwrap();
        assert_eq!(info.rank, d);
        let x: Vec<f64> = y.iter().zip(&pow2).map(|(v, p)| v * p).collect();
        let err = norm(&sub(&x, &xq)) / norm(&xq);
        assert!(
            err <= 1e-10,
            "relative difference {err:e} from the dense QR answer"
        );
    }
}

/// `normal_equation_residual` of finite `(A, x, b)` whose `A·x` overflows returned `Ok(NaN)`.
/// The figure is invariant under scaling `x` and `b` together, so it has a value, here known in
/// closed form: with `A = [a; a]` (`a = 10³⁰⁰`), `x = 10¹⁰`, `b = [M, −M]` (`M = f64::MAX`),
/// `r ∝ [u − 1, −u − 1]` for `u = M/(a·x)` and the figure is `|r₁ + r₂|/(√2‖r‖) = 1/√(1 + u²)`;
/// with `x = 10³⁰⁰`, `b = [0, 1]`, `r` is parallel to `A`'s column and it is 1. Pass rule:
/// within 1e-12 of those values (the computation has a few roundings of size ε). Entries of `A`
/// so large that even `x, b` below 1 overflow `A·x` are an error naming the residual.
#[test]
fn normal_equation_residual_survives_an_overflowing_product() {
    use randnla::lstsq::normal_equation_residual;
    let a = Mat::from_fn(2, 1, |_, _| 1e300);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let got = normal_equation_residual(av, &[1e300], &[0.0, 1.0], faer::Par::Seq).unwrap();
    assert!((got - 1.0).abs() <= 1e-12, "{got}");
    let u = f64::MAX / 1e300 / 1e10;
    let want = 1.0 / (1.0 + u * u).sqrt();
    let got =
        normal_equation_residual(av, &[1e10], &[f64::MAX, -f64::MAX], faer::Par::Seq).unwrap();
    assert!((got - want).abs() <= 1e-12, "{got} against {want}");
    // x scaled to [½, ½, ½]: A·x is still 1.5·f64::MAX.
    let huge = Mat::from_fn(3, 3, |_, _| f64::MAX);
    let r = normal_equation_residual(
        MatrixRef::dense(huge.as_ref()).unwrap(),
        &[1.0; 3],
        &[0.0; 3],
        faer::Par::Seq,
    );
    assert!(
        matches!(r, Err(randnla::Error::NonFinite { row: 0, .. })),
        "{r:?}"
    );
}

/// Entries of `A` so large that its sketch overflows: the sketched solvers report the sketch's
/// `NonFinite` (with its advice to scale `A` down), not the rank deficiency or SVD failure a
/// factorization of ±∞ would show — with and without ridge.
#[test]
fn an_overflowing_sketch_is_reported_as_such() {
    use randnla::lstsq::{sketch_and_precondition, LstsqParams};
    let (n, d) = (400, 3);
    let a = Mat::from_fn(n, d, |i, j| if (i + j) % 3 == 0 { 1e308 } else { 9e307 });
    let b: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
    for ridge in [0.0, 1.0] {
        let params = LstsqParams {
            probe: false,
            ridge,
            ..LstsqParams::default()
        };
        let r = sketch_and_precondition(MatrixRef::dense(a.as_ref()).unwrap(), &b, &params);
        match r {
            Err(randnla::Error::NonFinite { what, .. }) => {
                assert!(what.contains("scale A down"), "{what}")
            }
            other => panic!("ridge {ridge}: {:?}", other.map(drop)),
        }
    }
}

/// Unpreconditioned LSQR with a ridge so large that `x = 0` passes the stopping test at the
/// start (`λ = 10⁵⁰` on a Gaussian 200 × 5 `A`) returned `x = 0` after no iteration, as
/// "converged"; the solution is `(AᵀA + λI)⁻¹Aᵀb = Aᵀb/λ·(1 + O(‖A‖²/λ))`. Pass rule: within
/// 1e-12 relative of `Aᵀb/λ` (SciPy's `lsqr` with `damp = 10²⁵` agrees to print precision after
/// one iteration), for `λ` from 10⁴⁰ to 10¹⁰⁰, after at least one iteration.
#[test]
fn lsqr_with_a_huge_ridge_returns_the_tiny_solution_not_zero() {
    use randnla::lstsq::{lsqr, LsqrParams};
    let a = randnla::problems::gaussian_matrix(200, 5, randnla::Seed::new(3)).unwrap();
    let b: Vec<f64> = (0..200).map(|i| (7.0 * i as f64).sin()).collect();
    let atb: Vec<f64> = (0..5)
        .map(|j| (0..200).map(|i| a[(i, j)] * b[i]).sum())
        .collect();
    for lambda in [1e40, 1e50, 1e60, 1e100] {
        let params = LsqrParams {
            ridge: lambda,
            ..LsqrParams::default()
        };
        let (x, info) = lsqr(MatrixRef::dense(a.as_ref()).unwrap(), &b, &params).unwrap();
        assert!(info.iterations >= 1, "λ = {lambda:e}: {info:?}");
        let want: Vec<f64> = atb.iter().map(|v| v / lambda).collect();
        let err = norm(&sub(&x, &want)) / norm(&want);
        assert!(err <= 1e-12, "λ = {lambda:e}: relative error {err:e}");
    }
}
