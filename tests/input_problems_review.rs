//! Review of the input layer (`SparseRef`, `MatrixRef`), the `Scalar` trait and the test-problem
//! generators (`problems`): structural validation, row blocks at the edges, and whether each
//! generator produces what its doc promises (measured against dense SVDs).

use randnla::problems::*;
use randnla::Seed;
use std::panic::{catch_unwind, AssertUnwindSafe};

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
