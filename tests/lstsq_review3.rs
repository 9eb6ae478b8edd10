//! Third review of sketch-and-precondition: the probe, multiple right-hand sides, ridge, the
//! callback and the honesty of `Info`.

use crate::common;

use faer::{Mat, Par};
use randnla::lstsq::{
    qr_solve, ridge, sketch_and_precondition, sketch_and_precondition_multi, LstsqParams,
};

use common::{dense, gauss, rel, rhs};

fn pinv_solve(a: &Mat<f64>, b: &[f64]) -> Vec<f64> {
    let svd = a.thin_svd().unwrap();
    let (u, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
    let smax = s[0];
    let mut x = vec![0.0; a.ncols()];
    for k in 0..s.nrows() {
        if s[k] > 1e-10 * smax {
            let c: f64 = (0..a.nrows()).map(|i| u[(i, k)] * b[i]).sum::<f64>() / s[k];
            for j in 0..a.ncols() {
                x[j] += c * v[(j, k)];
            }
        }
    }
    x
}

/// A 2000 × 12 `A` whose last two columns repeat two of the first ten at 10⁻² of their size,
/// the first ten scaled over three decades (so the probe equilibrates).
fn rank_deficient_scaled() -> Mat<f64> {
    let (n, r) = (2000, 10);
    let g = gauss(n, r, 3);
    let scale = |j: usize| 10f64.powf(-3.0 * j as f64 / (r - 1) as f64);
    Mat::from_fn(n, r + 2, |i, j| {
        if j < r {
            g[(i, j)] * scale(j)
        } else {
            1e-2 * g[(i, j - r)] * scale(j - r)
        }
    })
}

/// A ridge too small to make `[A; √λI]` numerically full rank (`√λ` far below
/// `rcond·‖A‖`) on a rank-deficient `A`: the ridge solution is the minimum-norm one to within
/// `O(λ)`, and so is the sketched solve's. The equilibrated probe kept its answer without the
/// certificate "because the ridge makes it unique", which was the solution of minimum `‖Dx‖`:
/// 7.5·10⁻² from the ridge solution for every `λ ≤ 10⁻²⁴`, with `converged = true` (and a
/// different answer from `probe = false`). Pass rule: within 1e-10 of the minimum-norm solution
/// (pseudo-inverse), single and multi.
#[test]
fn a_negligible_ridge_does_not_excuse_the_equilibrated_probe_from_the_certificate() {
    let a = rank_deficient_scaled();
    let b = rhs(a.nrows(), 4);
    let xmn = pinv_solve(&a, &b);
    for lambda in [1e-300, 1e-40, 1e-30, 1e-24] {
        let (x, info) = ridge(dense(&a), &b, lambda, &LstsqParams::default()).unwrap();
        let e = rel(&x, &xmn);
        assert!(
            e <= 1e-10,
            "λ = {lambda:e}: {e:e} from the ridge solution ({info:?})"
        );
        let p = LstsqParams {
            ridge: lambda,
            ..Default::default()
        };
        let bm = Mat::from_fn(a.nrows(), 1, |i, _| b[i]);
        let (xm, _) = sketch_and_precondition_multi(dense(&a), bm.as_ref(), &p).unwrap();
        let e = rel(
            &(0..a.ncols()).map(|i| xm[(i, 0)]).collect::<Vec<_>>(),
            &xmn,
        );
        assert!(e <= 1e-10, "multi, λ = {lambda:e}: {e:e}");
    }
    // A ridge that makes the problem well posed: the dense ridge solution.
    let lambda = 0.1;
    let (x, _) = ridge(dense(&a), &b, lambda, &LstsqParams::default()).unwrap();
    let xq = qr_solve(dense(&a), &b, lambda, Par::Seq).unwrap();
    assert!(rel(&x, &xq) <= 1e-12, "{:e}", rel(&x, &xq));
}

/// A right-hand side in the subnormal range (`b = 2⁻¹⁰⁷⁰·g`, entries ≈ 10⁻³²², a few
/// significant bits each) is as well posed as `g`: `x(2ᵏb) = 2ᵏx(b)`. On a rank-deficient `A`
/// (a column repeated at 64× after the others were scaled over three decades) the solver
/// iterated in the subnormal range, where the answer carries a few bits, and its rank check
/// read that rounding as a sketch that missed a direction: `Err(Factorization { "… use more
/// sketch rows" })` (single and multi, probe on or off). Pass rule: `Ok`, and `x` is the
/// answer for the exactly representable `2¹⁰⁷⁰·b` scaled back (`2⁻¹⁰⁷⁰·x`, one rounding per
/// entry, so equal to the bit wherever the result is normal, within a unit in the last place
/// of a subnormal's spacing otherwise); the same for the multi solver's column.
#[test]
fn a_subnormal_right_hand_side_is_solved_as_its_scaled_copy() {
    let (n, d) = (3000, 12);
    let g = gauss(n, d, 21);
    let sc = |j: usize| 10f64.powf(-3.0 * j as f64 / (d - 1) as f64);
    let a = Mat::from_fn(n, d, |i, j| {
        if j == d - 1 {
            64.0 * g[(i, 0)]
        } else {
            g[(i, j)] * sc(j)
        }
    });
    let b = rhs(n, 22);
    // ·2⁻¹⁰⁷⁰ in two steps (the first exact, the second rounds once), and back exactly.
    let down = |v: f64| v * 2f64.powi(-535) * 2f64.powi(-535);
    let tiny: Vec<f64> = b.iter().map(|&v| down(v)).collect();
    // The tiny b is b·2⁻¹⁰⁷⁰ rounded: its exact scaled copy is what the solver must answer.
    let exact: Vec<f64> = tiny
        .iter()
        .map(|v| v * 2f64.powi(535) * 2f64.powi(535))
        .collect();
    for probe in [true, false] {
        let p = LstsqParams {
            probe,
            ..Default::default()
        };
        let (want, _) = sketch_and_precondition(dense(&a), &exact, &p).unwrap();
        let (x, info) = sketch_and_precondition(dense(&a), &tiny, &p)
            .unwrap_or_else(|e| panic!("probe {probe}: {e}"));
        assert!(info.converged);
        let bm = Mat::from_fn(n, 2, |i, j| if j == 0 { b[i] } else { tiny[i] });
        let (xm, _) = sketch_and_precondition_multi(dense(&a), bm.as_ref(), &p)
            .unwrap_or_else(|e| panic!("multi, probe {probe}: {e}"));
        for (i, w) in want.iter().enumerate() {
            let scaled = down(*w);
            for got in [x[i], xm[(i, 1)]] {
                assert!(
                    (got - scaled).abs() <= 2f64.powi(-1074),
                    "probe {probe}, x_{i}: {got:e} vs {scaled:e}"
                );
            }
        }
    }
}

/// A solution that overflows is `Error::NonFinite` on every route, never `Ok(∞)` nor a
/// LSQR failure: a `1 × 1` `A = [10⁻³⁰⁰]` with `b = [10¹⁰]` (`x = 10³¹⁰`) came back as
/// `Ok(x = [∞])` with the default probe and no refinement (found by the `solvers` fuzz
/// target), single and multi-RHS; the sketched route (an overflowed warm start) and every
/// route with a refinement run (a run from the overflowed iterate) ended as `NotConverged`
/// with a NaN test value. The multi-RHS solver names the column (here column 1; column 0,
/// `b = 10⁻³⁰⁰`, is solved by `x = 1`).
#[test]
fn an_overflowing_solution_is_an_error_on_every_route() {
    use randnla::lstsq::Factorization;
    use randnla::Error;
    let a = Mat::<f64>::from_fn(1, 1, |_, _| 1e-300);
    let b = [1e10];
    let bm = Mat::<f64>::from_fn(1, 2, |_, j| [1e-300, 1e10][j]);
    for probe in [true, false] {
        for refinement_steps in [0, 1] {
            for factorization in [Factorization::Auto, Factorization::Diagonal] {
                let params = LstsqParams {
                    probe,
                    refinement_steps,
                    factorization,
                    max_iters: 63,
                    ..LstsqParams::default()
                };
                let what =
                    format!("probe {probe}, refinement {refinement_steps}, {factorization:?}");
                let single = sketch_and_precondition(dense(&a), &b, &params);
                let multi = sketch_and_precondition_multi(dense(&a), bm.as_ref(), &params);
                assert!(
                    matches!(single, Err(Error::NonFinite { .. })),
                    "{what}: {single:?}"
                );
                assert!(
                    matches!(&multi, Err(Error::NonFinite { col: 1, what, .. })
                        if what.contains("column 1 of B")),
                    "{what}, multi: {multi:?}"
                );
            }
        }
    }
}
