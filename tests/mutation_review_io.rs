//! Gaps found by a manual mutation review of `src/io.rs` (Matrix Market reader and writer) and
//! `src/input.rs` (validation of dense, CSR and CSC views): each test here fails under a
//! plausible change to those files that the rest of the suite let through (a limit check made
//! stricter, the first non-finite entry of a CSR matrix named in storage order, ...). The
//! expected values come from the documented rules, not from the code's output.

use randnla::input::{check_finite_slice, MatrixRef, SparseRef};
use randnla::io::{read_matrix_market, read_sparse, ReadOptions};
use randnla::Error;

fn limit(max_elements: u64) -> ReadOptions {
    ReadOptions { max_elements }
}

/// A symmetric coordinate file is refused by its *stored* entries (after mirroring), not by the
/// bound with every listed entry mirrored: `ReadOptions::max_elements` documents the need as
/// `2·nrows + 1` plus the stored entries. A 3 × 3 file listing its 3 diagonal entries stores 3
/// (a diagonal entry has no mirror), so it needs 7 + 3 = 10 elements and reads at a limit of
/// exactly 10. At 9 it is refused, and the error asks for the mirrored bound `7 + 2·3 = 13`
/// (documented: one raise of the limit to the requested count is enough). Guards against a
/// refusal by the mirrored bound up front (valid symmetric files with many diagonal entries
/// refused at a limit they fit in) and against `<` for `<=` in the limit check.
#[test]
fn symmetric_file_is_limited_by_what_it_stores_not_by_its_mirrored_bound() {
    let diagonal = "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 1\n2 2 2\n3 3 3\n";
    let m = read_matrix_market(diagonal.as_bytes(), &limit(10))
        .unwrap_or_else(|e| panic!("diagonal-only file at its exact need of 10: {e}"));
    assert_eq!((m.nrows(), m.ncols(), m.nnz()), (3, 3, 3));
    match read_matrix_market(diagonal.as_bytes(), &limit(9)) {
        Err(Error::TooLarge {
            requested, limit, ..
        }) => {
            assert_eq!((requested, limit), (13, 9));
        }
        other => panic!("limit 9 < need 10: {other:?}"),
    }
    // One off-diagonal entry is stored twice: (1,1) + (2,1) + (1,2) = 3 stored, need 10.
    let one_pair = "%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n1 1 1\n2 1 5\n";
    let m = read_matrix_market(one_pair.as_bytes(), &limit(10))
        .unwrap_or_else(|e| panic!("file storing 3 entries at its exact need of 10: {e}"));
    assert_eq!(m.nnz(), 3);
    assert!(matches!(
        read_matrix_market(one_pair.as_bytes(), &limit(9)),
        Err(Error::TooLarge { .. })
    ));
}

/// The same boundary for a general file in both storage orders: `2·outer + 1 + nnz` where
/// `outer` is the row count for CSR and the column count for CSC (documented on `read_sparse`).
/// A 2 × 5 file with 4 entries needs 9 as CSR and 15 as CSC; each reads at exactly its need and
/// is refused one below it.
#[test]
fn general_file_reads_at_exactly_its_need_in_both_layouts() {
    use randnla::input::Layout;
    let text = "%%MatrixMarket matrix coordinate real general\n2 5 4\n1 1 1\n1 5 2\n2 3 3\n2 4 4\n";
    for (layout, need) in [(Layout::Csr, 9u64), (Layout::Csc, 15)] {
        let a = read_sparse(text.as_bytes(), layout, &limit(need))
            .unwrap_or_else(|e| panic!("{layout:?} at its need {need}: {e}"));
        assert_eq!(a.nnz(), 4);
        assert!(
            matches!(
                read_sparse(text.as_bytes(), layout, &limit(need - 1)),
                Err(Error::TooLarge { .. })
            ),
            "{layout:?} at {}",
            need - 1
        );
    }
}

/// `SparseRef::try_new` names the first non-finite value in column-major order "for CSR and
/// CSC alike" (documented), so that a dense, CSR or CSC copy of one matrix reports the same
/// entry. In CSR storage order the first bad value of the 2 × 3 matrix below is at (0, 2), but
/// column-major order reaches (1, 0) first. A second case has the column-major first entry in
/// the first row that holds a bad value, (0, 1) before (1, 2) — a scan that skipped that row
/// would miss it.
#[test]
fn csr_non_finite_value_is_named_in_column_major_order() {
    type Case<'a> = (&'a [usize], &'a [usize], [f64; 3], (usize, usize));
    let cases: [Case; 2] = [
        // Row 0: (0,0)=1, (0,2)=inf; row 1: (1,0)=NaN.
        (
            &[0, 2, 3],
            &[0, 2, 0],
            [1.0, f64::INFINITY, f64::NAN],
            (1, 0),
        ),
        // Row 0: (0,1)=NaN; row 1: (1,0)=1, (1,2)=-inf.
        (
            &[0, 1, 3],
            &[1, 0, 2],
            [f64::NAN, 1.0, f64::NEG_INFINITY],
            (0, 1),
        ),
    ];
    for (indptr, indices, data, (row, col)) in cases {
        let csr = SparseRef::try_csr(2, 3, indptr, indices, &data).unwrap_err();
        assert_eq!(
            csr,
            Error::NonFinite {
                what: "sparse matrix".into(),
                row,
                col
            },
            "{indptr:?} {indices:?}"
        );
        // The dense copy of the same matrix names the same entry.
        let mut d = faer::Mat::<f64>::zeros(2, 3);
        for r in 0..2 {
            for k in indptr[r]..indptr[r + 1] {
                d[(r, indices[k])] = data[k];
            }
        }
        match MatrixRef::dense(d.as_ref()) {
            Err(Error::NonFinite { row: r, col: c, .. }) => assert_eq!((r, c), (row, col)),
            other => panic!("dense: {other:?}"),
        }
    }
}

/// `check_finite_slice` names the offending index as `row` (documented), the first one when
/// there are several; a finite slice passes.
#[test]
fn check_finite_slice_names_the_first_offending_index() {
    assert_eq!(check_finite_slice(&[1.0, -2.0, 0.0], "b"), Ok(()));
    assert_eq!(
        check_finite_slice(&[1.0, 2.0, f64::NAN, f64::INFINITY], "b"),
        Err(Error::NonFinite {
            what: "b".into(),
            row: 2,
            col: 0
        })
    );
    assert_eq!(
        check_finite_slice(&[f32::NEG_INFINITY], "x"),
        Err(Error::NonFinite {
            what: "x".into(),
            row: 0,
            col: 0
        })
    );
}

/// An offending token of up to 40 characters (`MAX_QUOTE_CHARS`, "longest excerpt of an
/// offending token quoted") is quoted whole in the error; a longer one is cut to its first 40
/// characters and an ellipsis.
#[test]
fn offending_tokens_are_quoted_whole_up_to_40_characters() {
    let read_value = |tok: &str| {
        let text = format!("%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 {tok}\n");
        match read_matrix_market(text.as_bytes(), &ReadOptions::default()) {
            Err(Error::Parse { line: 3, reason }) => reason,
            other => panic!("{tok}: {other:?}"),
        }
    };
    let forty = "x".repeat(40);
    let reason = read_value(&forty);
    assert!(reason.contains(&format!("`{forty}`")), "{reason}");
    let forty_one = format!("{}y", "x".repeat(40));
    let reason = read_value(&forty_one);
    assert!(reason.contains(&format!("`{forty}…`")), "{reason}");
    assert!(!reason.contains('y'), "{reason}");
}

/// Within each outer slice the inner indices must be strictly increasing (documented invariant
/// of `SparseRef`): every consecutive pair is compared, not only each index with the slice's
/// first. `[0, 2, 1]` in one row is out of order although every index exceeds the first; the
/// same holds in CSC storage and through `from_sprs`'s checks (a `sprs` matrix built without
/// its own checks is not available, so raw arrays are used for both layouts).
#[test]
fn inner_indices_are_checked_pair_by_pair() {
    let data = [1.0, 2.0, 3.0];
    for layout in [randnla::input::Layout::Csr, randnla::input::Layout::Csc] {
        let e = SparseRef::try_new(layout, 3, 3, &[0, 3, 3, 3], &[0, 2, 1], &data).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidStructure { reason } if reason.contains("(2 then 1)")),
            "{layout:?}: {e:?}"
        );
        // The sorted row is fine, and so is a later row restarting at a smaller index.
        SparseRef::try_new(layout, 3, 3, &[0, 3, 3, 3], &[0, 1, 2], &data).unwrap();
        SparseRef::try_new(layout, 3, 3, &[0, 2, 2, 3], &[1, 2, 0], &data).unwrap();
    }
}

/// `MatrixRef::nnz` of a dense view is `nrows · ncols` saturating at `usize::MAX`
/// (documented). A `2^40 × 2^40` view of one repeated value (faer's zero-stride view, no
/// allocation) has `2^80` entries: the count must saturate, not wrap to 0. The variant is built
/// directly, as the docs allow, since checking `2^80` entries is out of the question.
#[test]
fn dense_entry_count_saturates_instead_of_wrapping() {
    let one = 1.0f64;
    let huge = faer::MatRef::from_repeated_ref(&one, 1usize << 40, 1usize << 40);
    assert_eq!(MatrixRef::Dense(huge).nnz(), usize::MAX);
    let small = faer::MatRef::from_repeated_ref(&one, 3, 1usize << 20);
    assert_eq!(MatrixRef::Dense(small).nnz(), 3 << 20);
}

/// An `integer` array file holds 64-bit integers like an `integer` coordinate file (module
/// docs: "`integer` values must be 64-bit integers"): `1.5` or `2e0` in one is an error on its
/// line, not a real value read as given.
#[test]
fn integer_array_values_must_be_integers() {
    for (bad, line) in [("1.5", 4), ("2e0", 5)] {
        let mut values = ["1", "2", "3", "4"];
        values[line - 3] = bad;
        let text = format!(
            "%%MatrixMarket matrix array integer general\n2 2\n{}\n",
            values.join("\n")
        );
        match read_matrix_market(text.as_bytes(), &ReadOptions::default()) {
            Err(Error::Parse { line: l, reason }) => {
                assert_eq!(l, line, "{reason}");
                assert!(reason.contains(bad), "{reason}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let ok = "%%MatrixMarket matrix array integer general\n2 1\n-7\n9007199254740993\n";
    let m = read_matrix_market(ok.as_bytes(), &ReadOptions::default()).unwrap();
    // 2^53 + 1 rounds to the nearest f64, 2^53 (ties to even).
    assert_eq!(m.to_vector().unwrap(), [-7.0, 9007199254740992.0]);
}

/// A sum of duplicates that overflows names its position as (row, column), 1-based, whatever
/// the storage order requested: the message must not swap them when the matrix is built as
/// CSC (the builder's outer index is then the column).
#[test]
fn overflowing_duplicates_are_named_by_row_then_column_in_both_layouts() {
    use randnla::input::Layout;
    let text = "%%MatrixMarket matrix coordinate real general\n2 3 3\n\
                1 3 1.5e308\n2 1 1\n1 3 1.5e308\n";
    for layout in [Layout::Csr, Layout::Csc] {
        match read_sparse(text.as_bytes(), layout, &ReadOptions::default()) {
            Err(Error::Parse { line: 0, reason }) => {
                assert!(reason.contains("row 1, column 3"), "{layout:?}: {reason}")
            }
            other => panic!("{layout:?}: {other:?}"),
        }
    }
}

/// A symmetric file that lists entries on both sides of the diagonal is refused on the first
/// entry on the other side, and the message names the line of the *first* off-diagonal entry
/// (the one that fixed the triangle), not the latest one on the same side.
#[test]
fn mixed_triangles_name_the_first_off_diagonal_line() {
    let text = "%%MatrixMarket matrix coordinate real symmetric\n3 3 4\n\
                2 1 1\n1 1 5\n3 2 2\n1 3 4\n";
    match read_matrix_market(text.as_bytes(), &ReadOptions::default()) {
        Err(Error::Parse { line: 6, reason }) => {
            assert!(reason.contains("line 3 listed one below"), "{reason}");
            assert!(reason.contains("(1, 3) lies above"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

/// With `\r`-only line endings inside comments, the rest of the file reads as part of a
/// comment; the end-of-file error names the *first* such comment line (documented on the
/// reader's line state), the one that swallowed the size line.
#[test]
fn truncation_hint_names_the_first_comment_with_a_carriage_return() {
    let text = "%%MatrixMarket matrix coordinate real general\n% plain\n\
                % one\r2 2 1\r1 1 1\n% two\rmore\n";
    match read_matrix_market(text.as_bytes(), &ReadOptions::default()) {
        Err(Error::Parse { line: 4, reason }) => {
            assert!(reason.contains("size line"), "{reason}");
            assert!(reason.contains("line 3 is a comment"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

/// `MatrixMarket::view` checks a hand-built matrix (documented: "gives `Error::NonFinite` for
/// a NaN or infinite value"), dense and sparse alike, naming the entry.
#[test]
fn hand_built_matrix_market_values_are_checked_by_view() {
    use randnla::io::MatrixMarket;
    let mut d = faer::Mat::<f64>::zeros(2, 2);
    d[(1, 0)] = f64::NAN;
    match MatrixMarket::Dense(d).view() {
        Err(Error::NonFinite { row: 1, col: 0, .. }) => {}
        other => panic!("dense: {other:?}"),
    }
    let s = sprs::CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![1.0, f64::INFINITY]);
    match MatrixMarket::Sparse(s).view() {
        Err(Error::NonFinite { row: 1, col: 0, .. }) => {}
        other => panic!("sparse: {other:?}"),
    }
}

/// `MatrixMarket`'s equality needs the same representation (documented: "same representation,
/// same shape, same stored entries"): a sparse and a dense reading of the same 1 × 1 matrix
/// differ, so a test comparing a reader's output against the wrong variant cannot pass.
#[test]
fn sparse_and_dense_readings_are_not_equal() {
    use randnla::io::{read_dense, MatrixMarket};
    let text = "%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 2.5\n";
    let sparse = read_matrix_market(text.as_bytes(), &ReadOptions::default()).unwrap();
    let dense = MatrixMarket::Dense(read_dense(text.as_bytes(), &ReadOptions::default()).unwrap());
    assert!(matches!(sparse, MatrixMarket::Sparse(_)));
    assert_eq!(sparse.to_vector().unwrap(), dense.to_vector().unwrap());
    assert_ne!(sparse, dense);
    assert_ne!(dense, sparse);
    assert!(sparse == sparse.clone() && dense == dense.clone());
}
