//! Matrix Market reading and writing: expected matrices for every supported header, the right
//! line number for every malformed input, bitwise round trips, and no panics on arbitrary bytes.

use crate::common;

use proptest::prelude::*;
use randnla::input::{Layout, SparseRef};
use randnla::io::{
    read_dense, read_dense_path, read_matrix_market, read_matrix_market_path, read_sparse,
    read_sparse_path, write_dense, write_dense_path, write_sparse, write_sparse_path, MatrixMarket,
    ReadOptions,
};
use randnla::Error;

// ---------------------------------------------------------------------------------------------
// helpers

fn opts() -> ReadOptions {
    ReadOptions::default()
}

fn read(text: &str) -> randnla::Result<MatrixMarket> {
    read_matrix_market(text.as_bytes(), &opts())
}

/// The matrix as a row-major `Vec<Vec<f64>>`, whatever its representation.
fn dense_rows(m: &MatrixMarket) -> Vec<Vec<f64>> {
    let d = m
        .view()
        .expect("reader output is valid")
        .to_dense()
        .unwrap();
    (0..d.nrows())
        .map(|i| (0..d.ncols()).map(|j| d[(i, j)]).collect())
        .collect()
}

fn sparse(m: MatrixMarket) -> sprs::CsMat<f64> {
    match m {
        MatrixMarket::Sparse(a) => a,
        MatrixMarket::Dense(_) => panic!("expected a sparse matrix"),
    }
}

/// Asserts a parse error on exactly `line`, and that the reason mentions `needle`.
#[track_caller]
fn parse_error_at(bytes: &[u8], line: usize, needle: &str) {
    match read_matrix_market(bytes, &opts()) {
        Err(Error::Parse { line: l, reason }) => {
            assert_eq!(
                l,
                line,
                "wrong line for {:?}: {reason}",
                String::from_utf8_lossy(bytes)
            );
            assert!(
                reason.to_lowercase().contains(&needle.to_lowercase()),
                "reason {reason:?} does not mention {needle:?}"
            );
        }
        other => panic!(
            "expected a parse error on line {line} for {:?}, got {other:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

fn data_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("randnla-io-test-{}-{name}.mtx", std::process::id()))
}

fn bits(m: &faer::Mat<f64>) -> Vec<u64> {
    (0..m.ncols())
        .flat_map(|j| (0..m.nrows()).map(move |i| (i, j)))
        .map(|(i, j)| m[(i, j)].to_bits())
        .collect()
}

const GENERAL: &str = "%%MatrixMarket matrix coordinate real general\n";

// ---------------------------------------------------------------------------------------------
// every supported header, against a hand-written matrix

#[test]
fn coordinate_general() {
    let m = read(&format!(
        "{GENERAL}% comment\n3 4 4\n1 1 1.5\n3 2 -2\n2 4 1e-3\n1 3 7\n"
    ))
    .unwrap();
    assert!(matches!(m, MatrixMarket::Sparse(ref a) if a.is_csr()));
    assert_eq!((m.nrows(), m.ncols(), m.nnz()), (3, 4, 4));
    assert_eq!(
        dense_rows(&m),
        vec![
            vec![1.5, 0.0, 7.0, 0.0],
            vec![0.0, 0.0, 0.0, 1e-3],
            vec![0.0, -2.0, 0.0, 0.0],
        ]
    );
}

#[test]
fn coordinate_symmetric_mirrors_one_triangle_and_refuses_both() {
    // The upper triangle instead of the lower: read the same way.
    let m = read(
        "%%MatrixMarket matrix coordinate real symmetric\n3 3 4\n1 1 2\n1 2 -1\n1 3 5\n3 3 9\n",
    )
    .unwrap();
    assert_eq!(m.nnz(), 6);
    assert_eq!(
        dense_rows(&m),
        vec![
            vec![2.0, -1.0, 5.0],
            vec![-1.0, 0.0, 0.0],
            vec![5.0, 0.0, 9.0],
        ]
    );
    // A full matrix under a symmetric header would be doubled: an error at the first entry from
    // the other triangle, for symmetric, skew-symmetric and pattern files.
    let sym = "%%MatrixMarket matrix coordinate real symmetric\n";
    parse_error_at(
        format!("{sym}2 2 3\n1 1 1\n2 1 10\n1 2 10\n").as_bytes(),
        5,
        "one triangle",
    );
    let skew = "%%MatrixMarket matrix coordinate real skew-symmetric\n";
    parse_error_at(
        format!("{skew}3 3 2\n1 3 3\n2 1 -3\n").as_bytes(),
        4,
        "line 3",
    );
    let pattern = "%%MatrixMarket matrix coordinate pattern symmetric\n";
    parse_error_at(
        format!("{pattern}2 2 2\n2 1\n1 2\n").as_bytes(),
        4,
        "general",
    );
}

/// The format allows skew-symmetry only with values: `pattern skew-symmetric` would invent −1s.
#[test]
fn pattern_skew_symmetric_is_refused() {
    parse_error_at(
        b"%%MatrixMarket matrix coordinate pattern skew-symmetric\n2 2 1\n2 1\n",
        1,
        "skew-symmetric",
    );
}

/// A pattern lists positions: a repeated one is still 1.0, not a sum.
#[test]
fn pattern_duplicates_stay_one() {
    let m =
        read("%%MatrixMarket matrix coordinate pattern general\n2 2 3\n1 1\n1 1\n2 2\n").unwrap();
    assert_eq!(dense_rows(&m), vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
}

/// The 1 MiB line limit excludes the line ending: a maximal comment line reads with `\n` and
/// with `\r\n`, and one byte more is refused either way.
#[test]
fn line_limit_excludes_the_line_ending() {
    let max = 1 << 20;
    for ending in ["\n", "\r\n"] {
        for (extra, ok) in [(0, true), (1, false)] {
            let comment = format!("%{}{ending}", " ".repeat(max - 1 + extra));
            let text = format!("{GENERAL}{comment}1 1 1{ending}1 1 2{ending}");
            let r = read(&text);
            assert_eq!(r.is_ok(), ok, "{ending:?}, {extra} over: {r:?}");
        }
    }
}

#[test]
fn coordinate_skew_symmetric_negates_the_mirror() {
    let m = read("%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 1.5\n3 2 -4\n")
        .unwrap();
    assert_eq!(
        dense_rows(&m),
        vec![
            vec![0.0, -1.5, 0.0],
            vec![1.5, 0.0, 4.0],
            vec![0.0, -4.0, 0.0],
        ]
    );
}

#[test]
fn coordinate_pattern_values_are_one() {
    let m =
        read("%%MatrixMarket matrix coordinate pattern general\n2 3 3\n1 2\n2 1\n2 3\n").unwrap();
    assert_eq!(
        dense_rows(&m),
        vec![vec![0.0, 1.0, 0.0], vec![1.0, 0.0, 1.0]]
    );
    let m = read("%%MatrixMarket matrix coordinate pattern symmetric\n2 2 1\n2 1\n").unwrap();
    assert_eq!(dense_rows(&m), vec![vec![0.0, 1.0], vec![1.0, 0.0]]);
}

#[test]
fn coordinate_integer() {
    let m =
        read("%%MatrixMarket matrix coordinate integer general\n2 2 3\n1 1 -3\n2 2 +42\n1 2 0\n")
            .unwrap();
    assert_eq!(dense_rows(&m), vec![vec![-3.0, 0.0], vec![0.0, 42.0]]);
    assert_eq!(m.nnz(), 3, "the explicit zero is kept");
}

#[test]
fn array_general_is_column_major() {
    let m = read("%%MatrixMarket matrix array real general\n2 3\n1\n2\n3\n4\n5\n6\n").unwrap();
    assert!(matches!(m, MatrixMarket::Dense(_)));
    assert_eq!((m.nrows(), m.ncols(), m.nnz()), (2, 3, 6));
    assert_eq!(
        dense_rows(&m),
        vec![vec![1.0, 3.0, 5.0], vec![2.0, 4.0, 6.0]]
    );
}

#[test]
fn array_symmetric_and_skew_store_the_lower_triangle() {
    // Lower triangle column by column: (1,1) (2,1) (3,1) (2,2) (3,2) (3,3).
    let m = read("%%MatrixMarket matrix array real symmetric\n3 3\n1\n2\n3\n4\n5\n6\n").unwrap();
    assert_eq!(
        dense_rows(&m),
        vec![
            vec![1.0, 2.0, 3.0],
            vec![2.0, 4.0, 5.0],
            vec![3.0, 5.0, 6.0],
        ]
    );
    // Strict lower triangle: (2,1) (3,1) (3,2).
    let m = read("%%MatrixMarket matrix array integer skew-symmetric\n3 3\n1\n2\n3\n").unwrap();
    assert_eq!(
        dense_rows(&m),
        vec![
            vec![0.0, -1.0, -2.0],
            vec![1.0, 0.0, -3.0],
            vec![2.0, 3.0, 0.0],
        ]
    );
}

#[test]
fn duplicates_are_summed_and_explicit_zeros_kept() {
    let m = read(&format!(
        "{GENERAL}2 2 5\n1 1 1\n2 2 0\n1 1 0.25\n2 1 3\n1 1 2\n"
    ))
    .unwrap();
    let a = sparse(m.clone());
    assert_eq!(a.nnz(), 3, "(1,1) merged, the zero at (2,2) kept");
    assert_eq!(a.indptr().raw_storage(), &[0, 1, 3]);
    assert_eq!(a.indices(), &[0, 0, 1]);
    assert_eq!(a.data(), &[3.25, 3.0, 0.0]);
    // Duplicates in a symmetric file (one triangle) are summed, and so are their mirrors.
    let m =
        read("%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n2 1 1\n2 1 10\n").unwrap();
    assert_eq!(dense_rows(&m), vec![vec![0.0, 11.0], vec![11.0, 0.0]]);
}

#[test]
fn whitespace_crlf_blank_and_comment_lines_are_tolerated() {
    let text = "%%MatrixMarket Matrix COORDINATE Real General  \r\n\r\n% c\r\n  2 2 2 \r\n\r\n\t1   2\t-1.5\r\n%mid\r\n2 1 .5\r\n\r\n% end";
    let m = read(text).unwrap();
    assert_eq!(dense_rows(&m), vec![vec![0.0, -1.5], vec![0.5, 0.0]]);
    // Comments may hold non-UTF-8 bytes (e.g. Latin-1 names); they are skipped undecoded.
    let bytes = b"%%MatrixMarket matrix coordinate real general\n% Jos\xe9\n1 1 1\n1 1 2\n";
    assert_eq!(read_matrix_market(&bytes[..], &opts()).unwrap().nnz(), 1);
}

#[test]
fn csr_and_csc_readers_agree() {
    let text = format!("{GENERAL}3 2 4\n3 1 1\n1 2 2\n2 1 3\n3 1 4\n");
    let csr = read_sparse(text.as_bytes(), Layout::Csr, &opts()).unwrap();
    let csc = read_sparse(text.as_bytes(), Layout::Csc, &opts()).unwrap();
    assert!(csr.is_csr() && csc.is_csc());
    assert_eq!(csc.indptr().raw_storage(), &[0, 2, 3]);
    assert_eq!(csc.indices(), &[1, 2, 0]);
    assert_eq!(csc.data(), &[3.0, 5.0, 2.0]);
    assert_eq!(csc.to_csr(), csr);
    let d = read_dense(text.as_bytes(), &opts()).unwrap();
    assert_eq!((d[(2, 0)], d[(0, 1)], d[(1, 1)]), (5.0, 2.0, 0.0));
}

// ---------------------------------------------------------------------------------------------
// sample files, by path

#[test]
fn sample_files_read_by_path() {
    let m = read_matrix_market_path(data_path("small_general.mtx"), &opts()).unwrap();
    assert_eq!(
        dense_rows(&m),
        vec![
            vec![1.5, 0.0, 0.0, -2.0],
            vec![0.0; 4],
            vec![0.0, 3.25, 0.0, 1e-3],
        ]
    );
    assert_eq!(m.nnz(), 4);
    let csc = read_sparse_path(data_path("small_general.mtx"), Layout::Csc, &opts()).unwrap();
    assert!(csc.is_csc());
    assert_eq!(csc.to_csr(), sparse(m));

    let s = read_matrix_market_path(data_path("small_symmetric.mtx"), &opts()).unwrap();
    assert_eq!(
        dense_rows(&s),
        vec![
            vec![4.0, -1.0, 0.0],
            vec![-1.0, 4.0, -1.0],
            vec![0.0, -1.0, 4.0],
        ]
    );
    assert_eq!(s.nnz(), 7);

    let a = read_dense_path(data_path("small_array.mtx"), &opts()).unwrap();
    assert_eq!((a.nrows(), a.ncols()), (2, 3));
    assert_eq!((a[(0, 1)], a[(1, 2)]), (3.0, 6.5));
    let d = read_dense_path(data_path("small_symmetric.mtx"), &opts()).unwrap();
    assert_eq!((d[(0, 1)], d[(1, 0)], d[(2, 2)]), (-1.0, -1.0, 4.0));
}

#[test]
fn sparse_reader_refuses_array_files() {
    match read_sparse_path(data_path("small_array.mtx"), Layout::Csr, &opts()) {
        Err(Error::Parse { line: 1, reason }) => assert!(reason.contains("array"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nonexistent_path_is_an_io_error_naming_the_path() {
    let path = data_path("no_such_file.mtx");
    match read_matrix_market_path(&path, &opts()) {
        Err(Error::Io { kind, message }) => {
            assert_eq!(kind, std::io::ErrorKind::NotFound);
            assert!(message.contains("no_such_file.mtx"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        read_dense_path(&path, &opts()),
        Err(Error::Io { .. })
    ));
    assert!(matches!(
        read_sparse_path(&path, Layout::Csc, &opts()),
        Err(Error::Io { .. })
    ));
    let a = faer::Mat::<f64>::zeros(1, 1);
    let bad_dir = data_path("no_such_dir").join("out.mtx");
    match write_dense_path(&bad_dir, a.as_ref()) {
        Err(Error::Io { message, .. }) => assert!(message.contains("no_such_dir"), "{message}"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// malformed input: the right line number every time

#[test]
fn bad_headers_are_line_1() {
    parse_error_at(b"", 1, "empty");
    parse_error_at(b"hello world\n1 1 0\n", 1, "%%MatrixMarket");
    parse_error_at(
        b"%%MatrixMarket matrix coordinate real\n1 1 0\n",
        1,
        "5 expected",
    );
    parse_error_at(
        b"%%MatrixMarket matrix coordinate double general\n",
        1,
        "field",
    );
    parse_error_at(
        b"%%MatrixMarket matrix coordinate complex general\n1 1 0\n",
        1,
        "complex",
    );
    parse_error_at(
        b"%%MatrixMarket matrix coordinate real hermitian\n",
        1,
        "hermitian",
    );
    parse_error_at(
        b"% comment first\n%%MatrixMarket matrix coordinate real general\n",
        1,
        "%%MatrixMarket",
    );
}

#[test]
fn size_line_errors() {
    // Missing: the error names the last line of the file.
    parse_error_at(GENERAL.as_bytes(), 1, "size line");
    parse_error_at(
        format!("{GENERAL}% just a comment\n\n").as_bytes(),
        3,
        "size line",
    );
    parse_error_at(
        format!("{GENERAL}% c\n3 x 1\n").as_bytes(),
        3,
        "column count",
    );
    parse_error_at(format!("{GENERAL}3 3 -1\n").as_bytes(), 2, "entry count");
    parse_error_at(format!("{GENERAL}3 3\n").as_bytes(), 2, "found 2");
    parse_error_at(format!("{GENERAL}3 3 1 7\n").as_bytes(), 2, "found 4");
    parse_error_at(
        b"%%MatrixMarket matrix array real general\n2 2 4\n",
        2,
        "found 3",
    );
    parse_error_at(
        b"%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n",
        2,
        "square",
    );
    parse_error_at(
        b"%%MatrixMarket matrix array real skew-symmetric\n2 3\n",
        2,
        "square",
    );
}

#[test]
fn entry_errors_name_their_line() {
    let g = GENERAL;
    parse_error_at(format!("{g}2 2 1\n0 1 1.0\n").as_bytes(), 3, "1-based");
    parse_error_at(
        format!("{g}2 2 1\n1 0 1.0\n").as_bytes(),
        3,
        "column index 0",
    );
    parse_error_at(
        format!("{g}2 3 2\n1 1 1\n3 1 1.0\n").as_bytes(),
        4,
        "row index 3",
    );
    parse_error_at(
        format!("{g}2 3 2\n1 1 1\n\n1 4 1.0\n").as_bytes(),
        5,
        "1..=3",
    );
    parse_error_at(format!("{g}2 2 1\n-1 1 1.0\n").as_bytes(), 3, "row index");
    parse_error_at(format!("{g}2 2 1\n1 1 abc\n").as_bytes(), 3, "not a number");
    parse_error_at(format!("{g}2 2 1\n1 1 nan\n").as_bytes(), 3, "not finite");
    parse_error_at(format!("{g}2 2 1\n1 1 -inf\n").as_bytes(), 3, "not finite");
    parse_error_at(format!("{g}2 2 1\n1 1 1e999\n").as_bytes(), 3, "not finite");
    parse_error_at(format!("{g}2 2 2\n1 1 1\n1 2\n").as_bytes(), 4, "found 2");
    parse_error_at(format!("{g}2 2 1\n1 1 1 1\n").as_bytes(), 3, "found 4");
    parse_error_at(
        b"%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 1 1\n",
        3,
        "expected 2 fields",
    );
    parse_error_at(
        b"%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 1 1\n2 2 1.5\n",
        4,
        "integer",
    );
    parse_error_at(
        b"%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 2\n2 1 1\n2 2 1.0\n",
        4,
        "diagonal",
    );
    parse_error_at(
        b"%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 1.\xff5\n",
        3,
        "UTF-8",
    );
    parse_error_at(
        b"%%MatrixMarket matrix array real general\n1 2\n1\n2 3\n",
        4,
        "found 2",
    );
    parse_error_at(
        b"%%MatrixMarket matrix array real general\n1 2\n1\nnan\n",
        4,
        "finite",
    );
    // CRLF endings do not shift the count.
    parse_error_at(
        format!("{g}2 2 1\r\n\r\n1 9 1\r\n")
            .replace('\n', "\r\n")
            .as_bytes(),
        4,
        "column index 9",
    );
}

#[test]
fn entry_count_mismatches() {
    let g = GENERAL;
    // Too few: the last line of the file is named, with both counts.
    parse_error_at(
        format!("{g}2 2 3\n1 1 1\n2 2 2\n").as_bytes(),
        4,
        "expected 3 entries, found 2",
    );
    parse_error_at(
        format!("{g}2 2 3\n1 1 1\n2 2 2\n% trailing comment\n\n").as_bytes(),
        6,
        "expected 3 entries, found 2",
    );
    parse_error_at(
        format!("{g}2 2 1\n").as_bytes(),
        2,
        "expected 1 entries, found 0",
    );
    // Too many: the first extra line is named.
    parse_error_at(
        format!("{g}2 2 1\n1 1 1\n\n2 2 2\n1 2 3\n").as_bytes(),
        5,
        "more entries",
    );
    parse_error_at(
        b"%%MatrixMarket matrix array real general\n2 1\n1\n2\n3\n",
        5,
        "more values",
    );
    parse_error_at(
        b"%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n",
        4,
        "expected 3 entries, found 2",
    );
}

#[test]
fn declared_size_over_the_limit_is_too_large() {
    let small = ReadOptions { max_elements: 100 };
    let too_large = |text: &str| {
        matches!(
            read_matrix_market(text.as_bytes(), &small),
            Err(Error::TooLarge { .. })
        )
    };
    // 2·nrows + 1 + nnz = 101 > 100 (index pointers, a cursor per row, entries), before any
    // entry is read.
    assert!(too_large(&format!("{GENERAL}25 1 50\n")));
    assert!(!too_large(&format!("{GENERAL}25 1 49\n")));
    assert!(too_large(&format!("{GENERAL}50 1 0\n")));
    assert!(!too_large(&format!("{GENERAL}49 1 1\n")));
    assert!(too_large(&format!("{GENERAL}1 1 18446744073709551615\n")));
    assert!(too_large(&format!("{GENERAL}18446744073709551615 1 0\n")));
    assert!(too_large(
        "%%MatrixMarket matrix array real general\n11 10\n"
    ));
    assert!(too_large(
        "%%MatrixMarket matrix array real general\n18446744073709551615 18446744073709551615\n"
    ));
    // Mirrored entries count too: 21 + 2·45 > 100.
    let mut sym = String::from("%%MatrixMarket matrix coordinate real symmetric\n10 10 45\n");
    for j in 1..=10 {
        for i in (j + 1)..=10 {
            sym.push_str(&format!("{i} {j} 1\n"));
        }
    }
    assert!(too_large(&sym));
    assert!(read_matrix_market(sym.as_bytes(), &ReadOptions { max_elements: 110 }).is_err());
    assert!(read_matrix_market(sym.as_bytes(), &ReadOptions { max_elements: 111 }).is_ok());
    // Whichever check a symmetric file fails (the listed entries, or their mirror images while
    // reading), the error reports the bound 2n + 1 + 2·nnz, so one raise of the limit is enough.
    for limit in [30u64, 70, 110] {
        match read_matrix_market(
            sym.as_bytes(),
            &ReadOptions {
                max_elements: limit,
            },
        ) {
            Err(Error::TooLarge { requested, .. }) => assert_eq!(requested, 111, "limit {limit}"),
            other => panic!("limit {limit}: {other:?}"),
        }
    }
    // Densifying a coordinate file is bounded by nrows·ncols.
    let wide = format!("{GENERAL}10 11 1\n1 1 1\n");
    assert!(read_matrix_market(wide.as_bytes(), &small).is_ok());
    match read_dense(wide.as_bytes(), &small) {
        Err(Error::TooLarge {
            requested, limit, ..
        }) => assert_eq!((requested, limit), (110, 100)),
        other => panic!("{other:?}"),
    }
    // Each declared dimension is bounded as well, even when nothing is stored: an empty
    // 0 × (2^64 − 1) matrix is otherwise a loop over 2^64 − 1 columns for whoever reads it (the
    // fuzzer found the reader itself doing so on an array file).
    assert!(too_large(
        "%%MatrixMarket matrix array real general\n0 18446744073709551615\n"
    ));
    assert!(too_large(
        "%%MatrixMarket matrix array real general\n101 0\n"
    ));
    assert!(too_large(&format!("{GENERAL}1 101 0\n")));
    assert!(too_large(&format!("{GENERAL}0 18446744073709551615 0\n")));
    let empty = read_matrix_market(
        "%%MatrixMarket matrix array real general\n0 100\n".as_bytes(),
        &small,
    )
    .unwrap();
    assert_eq!((empty.nrows(), empty.ncols()), (0, 100));
    // CSC needs ncols + 1 pointers.
    let tall = format!("{GENERAL}1 99 1\n1 1 1\n");
    assert!(read_sparse(tall.as_bytes(), Layout::Csr, &small).is_ok());
    assert!(matches!(
        read_sparse(tall.as_bytes(), Layout::Csc, &small),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn overflowing_duplicate_sum_is_an_error() {
    let r = read(&format!("{GENERAL}1 1 2\n1 1 1e308\n1 1 1e308\n"));
    assert!(matches!(r, Err(Error::Parse { line: 0, .. })), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// writing and round trips

const AWKWARD: [f64; 10] = [
    1e-300,
    -0.1,
    1.0 / 3.0,
    -0.0,
    5e-324,
    f64::MAX,
    -f64::MIN_POSITIVE,
    123456789.0,
    std::f64::consts::PI,
    0.0,
];

#[test]
fn writer_output_format() {
    let a = sprs::CsMat::new((2, 3), vec![0, 1, 2], vec![2, 0], vec![0.5, -3.0]);
    let mut out = Vec::new();
    write_sparse(&mut out, &SparseRef::from_sprs(a.view()).unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "%%MatrixMarket matrix coordinate real general\n% written by randnla\n2 3 2\n1 3 5e-1\n2 1 -3e0\n"
    );
    let d = faer::mat![[1.0, 2.0], [3.0, 4.0]];
    let mut out = Vec::new();
    write_dense(&mut out, d.as_ref()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "%%MatrixMarket matrix array real general\n% written by randnla\n2 2\n1e0\n3e0\n2e0\n4e0\n"
    );
}

#[test]
fn round_trip_sparse_csr_bitwise() {
    let n = AWKWARD.len();
    let indptr: Vec<usize> = (0..=n).collect();
    let indices: Vec<usize> = (0..n).map(|i| (3 * i) % 7).collect();
    let a = sprs::CsMat::new((n, 7), indptr, indices, AWKWARD.to_vec());
    let mut out = Vec::new();
    write_sparse(&mut out, &SparseRef::from_sprs(a.view()).unwrap()).unwrap();
    let b = sparse(read_matrix_market(&out[..], &opts()).unwrap());
    assert_eq!(b.indptr().raw_storage(), a.indptr().raw_storage());
    assert_eq!(b.indices(), a.indices());
    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(b.data()), bits(a.data()));
}

#[test]
fn round_trip_sparse_csc_input_via_path() {
    // A CSC input is written column by column and read back as the same matrix in CSR.
    let a = sprs::CsMat::new_csc(
        (4, 3),
        vec![0, 2, 2, 5],
        vec![0, 3, 1, 2, 3],
        vec![1e-300, -0.1, 1.0 / 3.0, -0.0, 2.5],
    );
    let path = temp_path("csc");
    write_sparse_path(&path, &SparseRef::from_sprs(a.view()).unwrap()).unwrap();
    let csr = read_sparse_path(&path, Layout::Csr, &opts()).unwrap();
    let csc = read_sparse_path(&path, Layout::Csc, &opts()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(csc.indptr().raw_storage(), a.indptr().raw_storage());
    assert_eq!(csc.indices(), a.indices());
    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(csc.data()), bits(a.data()));
    assert_eq!(csr, a.to_csr());
}

#[test]
fn round_trip_dense_bitwise() {
    let a = faer::Mat::from_fn(3, 4, |i, j| {
        AWKWARD[(i + 3 * j) % AWKWARD.len()] * if (i + j) % 2 == 0 { 1.0 } else { -1.0 }
    });
    let mut out = Vec::new();
    write_dense(&mut out, a.as_ref()).unwrap();
    let b = read_dense(&out[..], &opts()).unwrap();
    assert_eq!(bits(&b), bits(&a));
    // Path version, and a transposed (non-contiguous) view.
    let path = temp_path("dense");
    write_dense_path(&path, a.transpose()).unwrap();
    let t = read_dense_path(&path, &opts()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(bits(&t), bits(&a.transpose().to_owned()));
}

#[test]
fn writing_non_finite_dense_is_refused_before_any_output() {
    let mut a = faer::Mat::<f64>::zeros(2, 2);
    a[(1, 0)] = f64::NAN;
    let mut out = Vec::new();
    assert!(matches!(
        write_dense(&mut out, a.as_ref()),
        Err(Error::NonFinite { row: 1, col: 0, .. })
    ));
    assert!(out.is_empty());
    let path = temp_path("nonfinite");
    assert!(write_dense_path(&path, a.as_ref()).is_err());
    assert!(!path.exists());
}

#[test]
fn writer_errors_are_io_errors() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let a = faer::Mat::<f64>::zeros(2, 2);
    match write_dense(Broken, a.as_ref()) {
        Err(Error::Io { message, .. }) => assert!(message.contains("disk on fire"), "{message}"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// properties

/// Values that must survive a round trip bit for bit: bounded finite reals plus awkward ones.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6..1e6f64,
        1 => prop::sample::select(AWKWARD.to_vec()),
    ]
}

/// A random canonical sparse matrix: shape in 1..20 × 1..20, up to 60 entries (later duplicates
/// of a coordinate replace earlier ones), in CSR or CSC.
fn sparse_matrix() -> impl Strategy<Value = sprs::CsMat<f64>> {
    (1usize..20, 1usize..20, any::<bool>()).prop_flat_map(|(m, n, csc)| {
        prop::collection::vec((0..m, 0..n, value()), 0..60).prop_map(move |entries| {
            let map: std::collections::BTreeMap<(usize, usize), f64> = entries
                .into_iter()
                .map(|(i, j, v)| if csc { ((j, i), v) } else { ((i, j), v) })
                .collect();
            let outer = if csc { n } else { m };
            let mut indptr = vec![0usize; outer + 1];
            let (mut indices, mut data) = (Vec::new(), Vec::new());
            for (&(o, i), &v) in &map {
                indptr[o + 1] += 1;
                indices.push(i);
                data.push(v);
            }
            for k in 0..outer {
                indptr[k + 1] += indptr[k];
            }
            if csc {
                sprs::CsMat::new_csc((m, n), indptr, indices, data)
            } else {
                sprs::CsMat::new((m, n), indptr, indices, data)
            }
        })
    })
}

/// A random dense matrix with shape in 1..12 × 1..12.
fn dense_matrix() -> impl Strategy<Value = faer::Mat<f64>> {
    (1usize..12, 1usize..12).prop_flat_map(|(m, n)| {
        prop::collection::vec(value(), m * n)
            .prop_map(move |v| faer::Mat::from_fn(m, n, |i, j| v[i + m * j]))
    })
}

/// A valid file to mutate: one of the samples or a freshly written matrix.
fn valid_file() -> impl Strategy<Value = Vec<u8>> {
    let samples: Vec<Vec<u8>> = [
        "small_general.mtx",
        "small_symmetric.mtx",
        "small_array.mtx",
    ]
    .iter()
    .map(|name| std::fs::read(data_path(name)).unwrap())
    .chain([
        b"%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n2 1\n3 1\n".to_vec(),
        b"%%MatrixMarket matrix coordinate integer skew-symmetric\n3 3 2\n2 1 4\n3 1 -7\n".to_vec(),
        b"%%MatrixMarket matrix array integer symmetric\n2 2\n1\n-2\n3\n".to_vec(),
    ])
    .collect();
    prop::sample::select(samples)
}

#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(
        [
            "0",
            "-1",
            " ",
            "\n",
            "\r",
            "%",
            "9",
            "99999999999999999999",
            "nan",
            "1e999",
            "\u{ff}",
            "\u{00e9}",
            "symmetric",
            "skew-symmetric",
            "array",
            "pattern",
            "1 1",
            "\n1 1 1",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect::<Vec<_>>(),
    );
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Set(p, b)),
        (any::<usize>(), interesting).prop_map(|(p, s)| Mutation::Insert(p, s)),
        (any::<usize>(), 1usize..20).prop_map(|(p, n)| Mutation::Delete(p, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Set(p, b) => {
                if !bytes.is_empty() {
                    let p = p % bytes.len();
                    bytes[p] = *b;
                }
            }
            Mutation::Insert(p, s) => {
                let p = p % (bytes.len() + 1);
                bytes.splice(p..p, s.iter().copied());
            }
            Mutation::Delete(p, n) => {
                let p = p % len;
                let end = (p + n).min(bytes.len());
                if p < end {
                    bytes.drain(p..end);
                }
            }
        }
    }
    bytes
}

/// Runs every reader; they may fail but must not panic, and a successful read must be valid.
fn read_all_ways(bytes: &[u8]) {
    let small = ReadOptions {
        max_elements: 1 << 20,
    };
    if let Ok(m) = read_matrix_market(bytes, &small) {
        let v = m.view().expect("reader output must be a valid view");
        assert_eq!(
            (v.nrows(), v.ncols(), v.nnz()),
            (m.nrows(), m.ncols(), m.nnz())
        );
    }
    let _ = read_sparse(bytes, Layout::Csc, &small);
    let _ = read_dense(bytes, &small);
}

proptest! {
    #![proptest_config(common::proptest_config(256))]

    #[test]
    fn random_sparse_matrices_round_trip_exactly(a in sparse_matrix()) {
        let mut out = Vec::new();
        write_sparse(&mut out, &SparseRef::from_sprs(a.view()).unwrap()).unwrap();
        let layout = if a.is_csr() { Layout::Csr } else { Layout::Csc };
        let b = read_sparse(&out[..], layout, &opts()).unwrap();
        prop_assert_eq!(b.indptr().raw_storage().to_vec(), a.indptr().raw_storage().to_vec());
        prop_assert_eq!(b.indices(), a.indices());
        let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(b.data()), bits(a.data()));
    }

    #[test]
    fn random_dense_matrices_round_trip_exactly(a in dense_matrix()) {
        let mut out = Vec::new();
        write_dense(&mut out, a.as_ref()).unwrap();
        let b = read_dense(&out[..], &opts()).unwrap();
        prop_assert_eq!(bits(&b), bits(&a));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        read_all_ways(&bytes);
        // Behind a valid header, so the size and entry parsers are reached too.
        for header in [GENERAL, "%%MatrixMarket matrix array real symmetric\n"] {
            let mut with_header = header.as_bytes().to_vec();
            with_header.extend_from_slice(&bytes);
            read_all_ways(&with_header);
        }
    }

    #[test]
    fn mutated_valid_files_never_panic(
        file in valid_file(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        read_all_ways(&apply(file, &mutations));
    }
}

/// The default limit refuses headers that declare huge empty shapes before allocating or walking
/// them (a 60-byte file declaring 2^28 empty rows used to allocate 4 GB).
#[test]
fn default_limit_refuses_huge_empty_shapes_quickly() {
    let start = std::time::Instant::now();
    for text in [
        format!("{GENERAL}268435456 1 0\n"),
        "%%MatrixMarket matrix array real general\n0 4294967296\n".to_string(),
        "%%MatrixMarket matrix array real general\n0 8000000000\n".to_string(),
    ] {
        let r = read_matrix_market(text.as_bytes(), &ReadOptions::default());
        assert!(matches!(r, Err(Error::TooLarge { .. })), "{text:?}: {r:?}");
        let r = read_dense(text.as_bytes(), &ReadOptions::default());
        assert!(
            matches!(r, Err(Error::TooLarge { .. })),
            "{text:?} as dense: {r:?}"
        );
    }
    assert!(start.elapsed().as_secs() < 2, "took {:?}", start.elapsed());
}

/// Fortran-style exponents (`d`, `D`) are read in coordinate and array files.
#[test]
fn fortran_exponent_is_accepted_in_either_case() {
    let m = read(&format!(
        "{GENERAL}1 3 3\n1 1 1.5d+02\n1 2 -2.5D-01\n1 3 3d0\n"
    ))
    .unwrap();
    assert_eq!(dense_rows(&m), vec![vec![150.0, -0.25, 3.0]]);
    let a = read("%%MatrixMarket matrix array real general\n1 1\n-1.25d1\n").unwrap();
    assert_eq!(dense_rows(&a), vec![vec![-12.5]]);
}

/// `integer` fields are 64-bit: values beyond i32 are read, rounded to the nearest f64.
#[test]
fn integer_values_use_the_whole_64_bit_range() {
    let m = read(
        "%%MatrixMarket matrix coordinate integer general\n1 3 3\n\
         1 1 3000000000\n1 2 -9223372036854775808\n1 3 9007199254740993\n",
    )
    .unwrap();
    // 2^53 + 1 is not an f64: it converts to the nearest, 2^53.
    assert_eq!(
        dense_rows(&m),
        vec![vec![3e9, -9223372036854775808.0, 9007199254740992.0]]
    );
    let a = read("%%MatrixMarket matrix array integer general\n1 1\n-4294967296\n").unwrap();
    assert_eq!(dense_rows(&a), vec![vec![-4294967296.0]]);
}

/// Duplicate entries of a row too long for the insertion sort are summed in file order.
#[test]
fn long_rows_sum_duplicates_in_file_order() {
    // One row of 300 entries over 13 columns, values whose sums depend on the order (1e16 + 1
    // rounds back to 1e16): each column must get the left-to-right sum of its entries in file
    // order.
    let cols = 13;
    let (mut text, mut want) = (format!("{GENERAL}1 {cols} 300\n"), vec![0.0f64; cols]);
    let mut seen = vec![false; cols];
    for t in 0..300usize {
        let j = (t * 7919 + t / 13) % cols;
        let v = match t % 4 {
            0 => 1e16,
            1 => 1.0,
            2 => -1e16,
            _ => 3.0,
        };
        want[j] = if seen[j] { want[j] + v } else { v };
        seen[j] = true;
        text.push_str(&format!("1 {} {v:e}\n", j + 1));
    }
    let m = read(&text).unwrap();
    let MatrixMarket::Sparse(a) = m else { panic!() };
    let got: Vec<u64> = a.data().iter().map(|v| v.to_bits()).collect();
    let want: Vec<u64> = want.iter().map(|v| v.to_bits()).collect();
    assert_eq!(got, want);
}

/// Equality of dense `MatrixMarket` values compares the entries, not only the shape.
#[test]
fn dense_matrices_with_different_values_are_not_equal() {
    let a = read("%%MatrixMarket matrix array real general\n1 2\n1\n2\n").unwrap();
    let b = read("%%MatrixMarket matrix array real general\n1 2\n1\n3\n").unwrap();
    assert_eq!(a, a.clone());
    assert_ne!(a, b);
}

/// `MatrixMarket::to_vector`: an `n × 1` or `1 × n` matrix, array or coordinate, as a vector
/// (unstored coordinate entries 0, duplicates summed by the reader); anything wider, or empty,
/// is an error; a hand-built `1 × n` CSR that declares far more columns than memory holds is
/// `TooLarge`, not an abort.
#[test]
fn matrix_market_to_vector() {
    use randnla::io::{read_matrix_market, MatrixMarket, ReadOptions};
    let read = |text: &str| read_matrix_market(text.as_bytes(), &ReadOptions::default()).unwrap();
    let col = read("%%MatrixMarket matrix array real general\n3 1\n1.5\n-2\n4\n");
    assert_eq!(col.to_vector().unwrap(), [1.5, -2.0, 4.0]);
    let row = read("%%MatrixMarket matrix array real general\n1 3\n1.5\n-2\n4\n");
    assert_eq!(row.to_vector().unwrap(), [1.5, -2.0, 4.0]);
    let sparse_col =
        read("%%MatrixMarket matrix coordinate real general\n5 1 3\n5 1 7\n2 1 1\n2 1 0.5\n");
    assert_eq!(sparse_col.to_vector().unwrap(), [0.0, 1.5, 0.0, 0.0, 7.0]);
    let sparse_row = read("%%MatrixMarket matrix coordinate real general\n1 4 1\n1 3 -1\n");
    assert_eq!(sparse_row.to_vector().unwrap(), [0.0, 0.0, -1.0, 0.0]);
    let one = read("%%MatrixMarket matrix coordinate real general\n1 1 0\n");
    assert_eq!(one.to_vector().unwrap(), [0.0]);
    let wide = read("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n");
    assert!(matches!(
        wide.to_vector(),
        Err(Error::DimensionMismatch {
            expected: 1,
            found: 2,
            ..
        })
    ));
    for shape in ["0 1", "1 0", "0 0", "2 0", "0 2"] {
        let text = format!("%%MatrixMarket matrix coordinate real general\n{shape} 0\n");
        let empty = read(&text);
        assert!(
            matches!(empty.to_vector(), Err(Error::Empty { .. })),
            "{shape}"
        );
        let dense = MatrixMarket::Dense(faer::Mat::zeros(empty.nrows(), empty.ncols()));
        assert!(
            matches!(dense.to_vector(), Err(Error::Empty { .. })),
            "{shape}"
        );
    }
    let huge = usize::MAX / 4;
    let a = sprs::CsMat::new((1, huge), vec![0, 1], vec![huge - 1], vec![2.0]);
    assert!(matches!(
        MatrixMarket::Sparse(a).to_vector(),
        Err(Error::TooLarge { .. })
    ));
}
