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
