//! Review of the input layer (`SparseRef`, `MatrixRef`), the `Scalar` trait and the test-problem
//! generators (`problems`): structural validation, row blocks at the edges, and whether each
//! generator produces what its doc promises (measured against dense SVDs).

use faer::Mat;
use randnla::input::{MatrixRef, SparseRef};
use randnla::problems::*;
use randnla::{Error, Seed};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The singular values of a small dense matrix, largest first.
fn singular_values(a: &Mat<f64>) -> Vec<f64> {
    let mut s = a.singular_values().expect("SVD");
    s.sort_by(|x, y| y.partial_cmp(x).unwrap());
    s
}

fn kappa(a: &Mat<f64>) -> f64 {
    let s = singular_values(a);
    s[0] / s[s.len() - 1]
}

/// `sparse_ls_illmix` promises `κ(A)` of the order of `1/delta_min` (about `2.3/delta_min`),
/// but with a single column pair (`d = 2, 3`) its `δ = logspace(0, log₁₀ delta_min, 1)` was
/// `[1]`: `κ ≈ 2.6` whatever `delta_min` (400 × 2, density 0.5, `delta_min = 1e-6`).
#[test]
fn illmix_with_one_column_pair_is_as_ill_conditioned_as_asked() {
    for d in [2usize, 3, 4, 5] {
        for delta_min in [1e-2, 1e-6] {
            let (a, _, _) = sparse_ls_illmix(400, d, 0.5, delta_min, 0.0, Seed::new(1)).unwrap();
            let k = kappa(&MatrixRef::sparse(&a).unwrap().to_dense().unwrap());
            assert!(
                k * delta_min > 0.5 && k * delta_min < 10.0,
                "{d} columns, delta_min {delta_min:e}: κ = {k:.3e}"
            );
        }
    }
}

/// `random_sparse` with `n = 0` passed every size check (it stores nothing) and then reserved
/// room for `nnz_per_row` column indices: a capacity-overflow panic at `nnz_per_row = 2^62`, an
/// allocation abort at `2^40`. An empty matrix is the answer.
#[test]
fn random_sparse_with_no_rows_never_reserves_a_row_of_declared_length() {
    for k in [1usize << 62, 1 << 40, usize::MAX] {
        let r = catch_unwind(AssertUnwindSafe(|| random_sparse(0, k, k, Seed::new(1))))
            .unwrap_or_else(|_| panic!("random_sparse(0, {k}, {k}) panicked"));
        let a = r.unwrap();
        assert_eq!((a.rows(), a.cols(), a.nnz()), (0, k, 0));
    }
}

/// A `usize::MAX`-row (or column) declaration was refused with "indptr has 1 entries, expected
/// 18446744073709551615": a count one short of the `usize::MAX + 1` pointers such a matrix
/// needs, and one an indptr slice could in principle have.
#[test]
fn a_usize_max_outer_dimension_is_refused_for_what_it_is() {
    let csr = SparseRef::<f64>::try_csr(usize::MAX, 3, &[0], &[], &[]);
    let csc = SparseRef::<f64>::try_csc(3, usize::MAX, &[0], &[], &[]);
    for (r, outer) in [(csr, "rows"), (csc, "columns")] {
        let Err(Error::InvalidStructure { reason }) = r else {
            panic!("{outer}: {r:?}");
        };
        assert!(
            reason.contains(&format!("usize::MAX {outer}"))
                && reason.contains("usize::MAX + 1")
                && !reason.contains(&usize::MAX.to_string()),
            "{reason}"
        );
    }
}

/// Dense copy of a CSR test matrix.
fn dense(a: &sprs::CsMat<f64>) -> Mat<f64> {
    MatrixRef::sparse(a).unwrap().to_dense().unwrap()
}

/// Epperly's generator against an SVD of its output: `‖A‖₂ = 1`, `κ(A) = cond` (while
/// `cond ≪ 1/u`), `‖x‖ = 1`, `‖r‖ = residual_norm`, `Aᵀr ≈ 0`, `b = Ax + r`. (Beyond `1/u` the stored `A`'s `κ`
/// stalls instead of reaching `cond`: numpy gives `5.8e16` at `cond = 1e20`, faer's SVD a zero
/// smallest singular value; the doc now says so.)
#[test]
fn ls_problem_has_the_condition_and_residual_it_promises() {
    let (n, d) = (60, 8);
    for cond in [1.0, 10.0, 1e4, 1e8, 1e12] {
        for rho in [0.0, 1e-12, 1e-3, 1e3] {
            let (a, b, x, r) = ls_problem(n, d, cond, rho, Seed::new(7)).unwrap();
            let s = singular_values(&a);
            let k = s[0] / s[d - 1];
            assert!((s[0] - 1.0).abs() < 1e-14, "‖A‖ = {}", s[0]);
            assert!((k / cond - 1.0).abs() < 1e-3, "cond {cond:e}: κ = {k:e}");
            let norm = |v: &[f64]| v.iter().map(|t| t * t).sum::<f64>().sqrt();
            assert!((norm(&x) - 1.0).abs() < 1e-15);
            assert!(
                (norm(&r) - rho).abs() <= 1e-15 * rho,
                "‖r‖ {} vs {rho}",
                norm(&r)
            );
            let atr = (0..d)
                .map(|j| (0..n).map(|i| a[(i, j)] * r[i]).sum::<f64>().abs())
                .fold(0.0, f64::max);
            assert!(atr <= 1e-15 * rho.max(f64::MIN_POSITIVE), "Aᵀr = {atr:e}");
            for i in 0..n {
                let ax: f64 = (0..d).map(|j| a[(i, j)] * x[j]).sum();
                assert!((b[i] - ax - r[i]).abs() <= 1e-15 * (1.0 + rho), "row {i}");
            }
        }
    }
}

/// `sparse_ls_illmix`: the collinear-pair structure (column `2k+1` is column `2k` plus `δ_k` times
/// an independent column, the last `δ` is `delta_min`), the stored count against
/// `(1.5·density − density²/2)·n·d` (the doc said `1.5·n·d·density`, 2× too many at density 1),
/// and `b = A·x_star` without noise.
#[test]
fn illmix_has_its_pairs_its_count_and_its_right_hand_side() {
    let (n, d, delta_min) = (3000, 6, 1e-4);
    for density in [0.05, 0.5, 1.0] {
        let (a, b, x) = sparse_ls_illmix(n, d, density, delta_min, 0.0, Seed::new(3)).unwrap();
        let m = dense(&a);
        // δ = logspace(0, −4, 3) = 1, 1e-2, 1e-4: column 2k+1 − column 2k is δ_k·(a column of
        // B), whose entries are 0 wherever B's is.
        for (k, delta) in [1.0, 1e-2, 1e-4].into_iter().enumerate() {
            let diff: Vec<f64> = (0..n).map(|i| m[(i, 2 * k + 1)] - m[(i, 2 * k)]).collect();
            let top = diff.iter().fold(0.0f64, |t, v| t.max(v.abs()));
            // max |N(0,1)| over ~3000·density draws lies in (1, 6).
            assert!(
                top > delta && top < 6.0 * delta,
                "pair {k}: max |Δ| = {top:e}, δ = {delta:e}"
            );
        }
        let expected = (1.5 * density - density * density / 2.0) * (n * d) as f64;
        let sd = (n as f64 * d as f64).sqrt(); // a loose bound on the count's spread
        assert!(
            (a.nnz() as f64 - expected).abs() < 5.0 * sd,
            "density {density}: nnz {} against {expected}",
            a.nnz()
        );
        for i in 0..n {
            let ax: f64 = (0..d).map(|j| m[(i, j)] * x[j]).sum();
            assert!((b[i] - ax).abs() <= 1e-14 * (1.0 + ax.abs()), "row {i}");
        }
    }
}
