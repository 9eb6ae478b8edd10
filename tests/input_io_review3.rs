//! Third review of `src/input.rs` and the writing side of `src/io.rs`.

use crate::common;

use randnla::input::{Layout, MatrixRef, SparseRef};
use randnla::io::{read_dense, read_matrix_market, read_sparse, write_dense, ReadOptions};
use randnla::Error;

fn parse_error(text: &[u8]) -> (usize, String) {
    let shown = String::from_utf8_lossy(text);
    let opts = ReadOptions::default();
    let mut seen = None;
    for r in [
        read_matrix_market(text, &opts).map(|_| ()),
        read_dense(text, &opts).map(|_| ()),
        read_sparse(text, Layout::Csc, &opts).map(|_| ()),
    ] {
        match r {
            Err(Error::Parse { line, reason }) => {
                if let Some((l, ref why)) = seen {
                    assert_eq!((l, why), (line, &reason), "readers disagree on {shown:?}");
                }
                seen = Some((line, reason));
            }
            other => panic!("{shown:?}: {other:?}"),
        }
    }
    seen.unwrap()
}

/// A file with classic Mac `\r`-only line endings reads as one long line. The errors said
/// "header has more than 5 words" of a header with five, "expected 3 fields, found 6" of a size
/// line with three, or "the file ends before the size line" of a file that has one, without a
/// word about the line endings; each now names the carriage return.
#[test]
fn carriage_return_line_endings_are_named_in_the_error() {
    let cases: [(&[u8], usize, &str); 5] = [
        (
            b"%%MatrixMarket matrix coordinate real general\r2 2 1\r1 1 1.5\r",
            1,
            "header has more than 5 words",
        ),
        (
            b"%%MatrixMarket matrix coordinate real general\n2 2 1\r1 1 1.5\r",
            2,
            "expected 3 fields",
        ),
        (
            b"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.5\r2 2 2.5\r",
            3,
            "expected 3 fields",
        ),
        (
            b"%%MatrixMarket matrix coordinate real general\n% from a Mac\r2 2 1\r1 1 1.5\r",
            2,
            "ends before the size line",
        ),
        (
            b"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.5\n% note\r2 2 2.5\r",
            4,
            "ends early",
        ),
    ];
    for (text, line, plain) in cases {
        let (l, reason) = parse_error(text);
        let text = String::from_utf8_lossy(text);
        assert_eq!(l, line, "{text:?}: {reason}");
        assert!(reason.contains(plain), "{text:?}: {reason}");
        assert!(reason.contains("carriage return"), "{text:?}: {reason}");
    }
    // A CR-only file over the line limit: "line is longer than 1048576 bytes" alone.
    let mut big = b"%%MatrixMarket matrix array real general\r2000000 1\r".to_vec();
    big.extend(b"1.5\r".repeat(300_000));
    let (l, reason) = parse_error(&big);
    assert_eq!(l, 1, "{reason}");
    assert!(
        reason.contains("longer than") && reason.contains("carriage return"),
        "{reason}"
    );
    // No hint where there is no carriage return, and `\r\n` (or `\r\r\n`) endings still read.
    let (_, reason) = parse_error(b"%%MatrixMarket matrix coordinate real general\n2 2\n");
    assert!(!reason.contains("carriage"), "{reason}");
    let (_, reason) =
        parse_error(b"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n% c\n");
    assert!(!reason.contains("carriage"), "{reason}");
    let ok = b"%%MatrixMarket matrix coordinate real general\r\n% c\r\r\n2 2 1\r\n1 1 1.5\r\r\n";
    let m = read_matrix_market(&ok[..], &ReadOptions::default()).unwrap();
    assert_eq!(m.nnz(), 1);
}

/// A dense view with no rows but `2^62` columns is a safe `MatRef` with no entries.
/// `MatrixRef::dense`, the front door of every dense input, walked its columns one by one to
/// check their (absent) entries for finiteness: about 1.3 s per `2^30` columns here, so 23
/// minutes for `0 × 2^40` and centuries for `0 × 2^62`. An empty view is now checked in O(1).
#[test]
fn validating_an_empty_but_wide_dense_view_is_immediate() {
    let empty: [f64; 0] = [];
    for n in [1usize << 40, 1 << 62, usize::MAX] {
        let wide = faer::MatRef::from_column_major_slice(&empty[..], 0, n);
        let a = common::quick("MatrixRef::dense of a 0 × n view", || {
            MatrixRef::dense(wide).unwrap()
        });
        assert_eq!((a.nrows(), a.ncols()), (0, n));
        assert!(matches!(a.require_nonempty("A"), Err(Error::Empty { .. })));
        // The transposed view was already immediate; both agree.
        let tall = MatrixRef::dense(wide.transpose()).unwrap();
        assert_eq!((tall.nrows(), tall.ncols()), (n, 0));
    }
    // A NaN is still found, in the first and in the last column.
    let mut m = faer::Mat::<f64>::zeros(2, 3);
    m[(1, 2)] = f64::NAN;
    assert!(matches!(
        MatrixRef::dense(m.as_ref()),
        Err(Error::NonFinite { row: 1, col: 2, .. })
    ));
}

/// `write_dense` of a view with no rows writes its size line and no values, but walked every
/// column to do so (1.9 s per `2^30` columns here: centuries for `0 × 2^62`).
#[test]
fn writing_an_empty_but_wide_dense_view_is_immediate() {
    let empty: [f64; 0] = [];
    for n in [1usize << 40, usize::MAX] {
        let wide = faer::MatRef::from_column_major_slice(&empty[..], 0, n);
        let mut out = Vec::new();
        common::quick("write_dense of a 0 × n view", || {
            write_dense(&mut out, wide).unwrap()
        });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("%%MatrixMarket matrix array real general\n% written by randnla\n0 {n}\n")
        );
    }
    // What is written reads back (under a limit that admits the width).
    let wide = faer::MatRef::from_column_major_slice(&empty[..], 0, 1000);
    let mut out = Vec::new();
    write_dense(&mut out, wide).unwrap();
    let back = read_dense(&out[..], &ReadOptions::default()).unwrap();
    assert_eq!((back.nrows(), back.ncols()), (0, 1000));
}

/// A dense copy of a matrix without entries but with `2^40` columns (or `2^62` rows) is refused,
/// since faer still walks or sizes what is not there; the error said the copy "needs 0 elements,
/// which could not be allocated". It now reports the count that was refused, and why.
#[test]
fn refusing_a_dense_copy_of_an_empty_shape_names_a_real_count() {
    let empty: [f64; 0] = [];
    let wide = faer::MatRef::from_column_major_slice(&empty[..], 0, 1 << 40);
    let tall = SparseRef::<f64>::try_csc(1 << 62, 0, &[0], &[], &[]).unwrap();
    for (a, least) in [
        (MatrixRef::Dense(wide), 1u128 << 40),
        (MatrixRef::Sparse(tall), 1 << 62),
    ] {
        match a.to_dense() {
            Err(e @ Error::TooLarge { requested, .. }) => {
                assert!(requested >= least, "{e}");
                let text = e.to_string();
                assert!(!text.contains("needs 0 elements"), "{text}");
                assert!(text.contains("without"), "{text}");
            }
            other => panic!("{other:?}"),
        }
    }
}
