//! `ReadOptions::max_elements` from a user's side: the `requested` count of an
//! [`Error::TooLarge`] is what the file needs, so raising the limit to it reads the file. The
//! examples turn it into the hint "raise the limit with --max-elements N, N ≥ requested"; a
//! review found that hint one step short: a 300 × 20 coordinate file with 1200 entries under a
//! limit of 10 reported 300 (its row count, the first check it failed), and at 300 it reported
//! 1801 (the index pointers plus entries).

use randnla::input::Layout;
use randnla::io::{read_dense, read_matrix_market, read_sparse, ReadOptions};
use randnla::Error;

/// A coordinate file with `nnz` entries (duplicates allowed: they still count).
fn coordinate(symmetry: &str, nrows: usize, ncols: usize, nnz: usize) -> String {
    let mut text =
        format!("%%MatrixMarket matrix coordinate real {symmetry}\n{nrows} {ncols} {nnz}\n");
    for k in 0..nnz {
        let (i, j) = if symmetry == "general" {
            (k % nrows + 1, k % ncols + 1)
        } else {
            // Strictly below the diagonal, so that every entry is mirrored.
            let i = k % (nrows - 1) + 2;
            (i, 1 + (7 * k) % (i - 1))
        };
        text.push_str(&format!("{i} {j} 1.5\n"));
    }
    text
}

fn array(nrows: usize, ncols: usize) -> String {
    let mut text = format!("%%MatrixMarket matrix array real general\n{nrows} {ncols}\n");
    for k in 0..nrows * ncols {
        text.push_str(&format!("{k}\n"));
    }
    text
}

/// Reads `text` under a tiny limit, then again under the `requested` count of the error: the
/// second read must succeed.
fn one_raise_is_enough<T>(what: &str, read: impl Fn(&ReadOptions) -> randnla::Result<T>) {
    let requested = match read(&ReadOptions { max_elements: 10 }) {
        Err(Error::TooLarge {
            requested, limit, ..
        }) => {
            assert_eq!(limit, 10, "{what}");
            requested
        }
        Err(e) => panic!("{what}: {e}"),
        Ok(_) => panic!("{what}: read under a limit of 10"),
    };
    let raised = ReadOptions {
        max_elements: u64::try_from(requested).unwrap(),
    };
    if let Err(e) = read(&raised) {
        panic!("{what}: the error asked for {requested} elements, but with that limit: {e}");
    }
}

#[test]
fn the_requested_count_of_a_too_large_error_is_enough_to_read_the_file() {
    let general = coordinate("general", 300, 20, 1200);
    one_raise_is_enough("coordinate, auto", |o| {
        read_matrix_market(general.as_bytes(), o)
    });
    one_raise_is_enough("coordinate, CSR", |o| {
        read_sparse(general.as_bytes(), Layout::Csr, o)
    });
    one_raise_is_enough("coordinate, CSC", |o| {
        read_sparse(general.as_bytes(), Layout::Csc, o)
    });
    one_raise_is_enough("coordinate, dense", |o| read_dense(general.as_bytes(), o));
    // Wide: the column count is the largest need when read as CSR.
    let wide = coordinate("general", 2, 500, 3);
    one_raise_is_enough("wide, CSR", |o| {
        read_sparse(wide.as_bytes(), Layout::Csr, o)
    });
    one_raise_is_enough("wide, CSC", |o| {
        read_sparse(wide.as_bytes(), Layout::Csc, o)
    });
    one_raise_is_enough("wide, dense", |o| read_dense(wide.as_bytes(), o));
    let symmetric = coordinate("symmetric", 40, 40, 60);
    one_raise_is_enough("symmetric", |o| read_matrix_market(symmetric.as_bytes(), o));
    one_raise_is_enough("symmetric, dense", |o| read_dense(symmetric.as_bytes(), o));
    let dense = array(300, 20);
    one_raise_is_enough("array", |o| read_matrix_market(dense.as_bytes(), o));
    // An empty matrix needs its largest dimension.
    one_raise_is_enough("array 0 × 500", |o| {
        read_matrix_market(array(0, 500).as_bytes(), o)
    });
}

/// What the error reports is what the file needs under each reader: the CSR pointers for a
/// tall file, the declared width for a wide one, `nrows · ncols` for a dense read.
#[test]
fn the_requested_count_is_the_largest_need() {
    let requested = |r: randnla::Result<()>| match r {
        Err(Error::TooLarge { requested, .. }) => requested,
        other => panic!("{other:?}"),
    };
    let tiny = ReadOptions { max_elements: 10 };
    let general = coordinate("general", 300, 20, 1200);
    assert_eq!(
        requested(read_matrix_market(general.as_bytes(), &tiny).map(|_| ())),
        2 * 300 + 1 + 1200
    );
    assert_eq!(
        requested(read_sparse(general.as_bytes(), Layout::Csc, &tiny).map(|_| ())),
        2 * 20 + 1 + 1200 // more than the 300 rows
    );
    assert_eq!(
        requested(read_dense(general.as_bytes(), &tiny).map(|_| ())),
        300 * 20
    );
    assert_eq!(
        requested(read_matrix_market(array(300, 20).as_bytes(), &tiny).map(|_| ())),
        300 * 20
    );
}
