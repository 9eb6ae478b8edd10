//! Differential review of the Matrix Market reader and writer against SciPy 1.17.1
//! (`scipy.io.mmread`/`mmwrite`, which use fast_matrix_market), with the NIST format as the judge.
//!
//! About 15 000 generated files were compared (random shapes from `0 × n` to `1500 × 1500`, every
//! supported header, duplicates, explicit zeros, awkward value spellings, CRLF, tabs, blank and
//! comment lines), plus files written by each library and read by the other. On every valid file
//! randnla's matrix was bitwise equal to an independent model of the format; every difference from
//! SciPy was a SciPy defect or a deliberate, documented choice of randnla. The tests below pin the
//! agreements that matter, with the inputs inline, so that a change that breaks one fails here.
//! The one real difference found, `integer` duplicates rounded to `f64` before they were summed,
//! is fixed; `integer_duplicates_are_summed_exactly_then_rounded` failed before the fix.

use randnla::input::SparseRef;
use randnla::io::{read_dense, read_matrix_market, write_sparse, ReadOptions};
use randnla::Error;

fn opts() -> ReadOptions {
    ReadOptions::default()
}

/// The matrix a file holds, whatever its format, as row-major bit patterns.
fn bits(text: &[u8]) -> Vec<Vec<u64>> {
    let a = read_dense(text, &opts()).unwrap_or_else(|e| {
        panic!("{:?}: {e}", String::from_utf8_lossy(text));
    });
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| a[(i, j)].to_bits()).collect())
        .collect()
}

fn rows_bits(rows: &[&[f64]]) -> Vec<Vec<u64>> {
    rows.iter()
        .map(|r| r.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// Value spellings, each read as the correctly rounded `f64` of the decimal it writes (bitwise):
/// the value SciPy's coordinate reader gives and Python's `float()` gives, in coordinate and in
/// array files. The sign of a zero is kept in both formats, as the module documentation promises
/// (SciPy's array reader drops it: `-0` reads as `+0.0` there, its bug). Pass rule: exact bits.
#[test]
fn value_spellings_read_as_correctly_rounded_decimals() {
    let long_int = format!("1{}e-300", "0".repeat(400)); // 1e100
    let long_frac = format!("0.{}1e500", "0".repeat(400)); // 1e99
    let cases: Vec<(&str, f64)> = vec![
        ("1E+5", 1e5),
        ("1e0005", 1e5),
        (".5", 0.5),
        ("5.", 5.0),
        ("-.5", -0.5),
        ("-0", -0.0),
        ("-.0", -0.0),
        ("0e0", 0.0),
        ("1e-320", 1e-320),
        ("4.9e-324", 5e-324),
        // Just above half the smallest subnormal rounds up to it, just below rounds to zero.
        ("2.4703282292062328e-324", 5e-324),
        ("2.4703282292062327e-324", 0.0),
        ("-1e-400", -0.0),
        ("2.2250738585072011e-308", 2.225_073_858_507_201e-308),
        ("1.7976931348623158e308", f64::MAX),
        ("0.1e309", 1e308),
        ("1e-99999999999999999999", 0.0),
        // 2^53 + 1 is a tie and goes to the even 2^53; a hair above it goes up to 2^53 + 2.
        ("9007199254740993", 9_007_199_254_740_992.0),
        (
            "9007199254740993.0000000000000000001",
            9_007_199_254_740_994.0,
        ),
        (
            "0.1000000000000000055511151231257827021181583404541015625",
            0.1,
        ),
        (&long_int, 1e100),
        (&long_frac, 1e99),
    ];
    for (tok, want) in cases {
        let coord = format!("%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 {tok}\n");
        let array = format!("%%MatrixMarket matrix array real general\n1 1\n{tok}\n");
        for text in [coord, array] {
            assert_eq!(
                bits(text.as_bytes()),
                vec![vec![want.to_bits()]],
                "{tok:.40}: want {want:e}"
            );
        }
    }
}

/// SciPy reads `inf`, `nan` and overflowing decimals as non-finite values; randnla refuses them,
/// as documented ("NaN, infinity and values that overflow `f64` are rejected"), with a parse
/// error on the value's line that quotes it and says why.
#[test]
fn non_finite_spellings_are_refused_naming_line_and_token() {
    for tok in [
        "inf",
        "-inf",
        "Inf",
        "INF",
        "infinity",
        "-Infinity",
        "nan",
        "NaN",
        "-nan",
        "1e309",
        "1.7976931348623159e308",
    ] {
        let coord = format!("%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 {tok}\n");
        let array = format!("%%MatrixMarket matrix array real general\n1 1\n{tok}\n");
        for text in [coord, array] {
            match read_matrix_market(text.as_bytes(), &opts()) {
                Err(Error::Parse { line: 3, reason }) => assert!(
                    reason.contains(&format!("`{tok}`")) && reason.contains("not finite"),
                    "{tok}: {reason}"
                ),
                other => panic!("{tok}: {other:?}"),
            }
        }
    }
}

/// `integer` files at the ends of the 64-bit range, and skew-symmetric mirrors of them. The
/// mirror of `-2^63` is `+2^63` (an `f64`); SciPy negates in `int64`, which wraps, and gives
/// `-2^63` on both sides. A value beyond `i64` is refused by both (SciPy: "Integer out of range").
#[test]
fn integer_extremes_and_their_skew_mirrors() {
    let p63 = 9_223_372_036_854_775_808.0; // 2^63, the nearest f64 to i64::MAX as well
    let coord = b"%%MatrixMarket matrix coordinate integer skew-symmetric\n3 3 3\n\
                  2 1 -9223372036854775808\n3 1 9223372036854775807\n3 2 5\n";
    assert_eq!(
        bits(coord),
        rows_bits(&[&[0.0, p63, -p63], &[-p63, 0.0, -5.0], &[p63, 5.0, 0.0]])
    );
    let array = b"%%MatrixMarket matrix array integer skew-symmetric\n2 2\n-9223372036854775808\n";
    assert_eq!(bits(array), rows_bits(&[&[0.0, p63], &[-p63, 0.0]]));
    let beyond =
        b"%%MatrixMarket matrix coordinate integer general\n1 1 1\n1 1 9223372036854775808\n";
    match read_matrix_market(&beyond[..], &opts()) {
        Err(Error::Parse { line: 3, reason }) => {
            assert!(reason.contains("64-bit integer"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

/// Files exactly as SciPy 1.17.1's `mmwrite` writes them (an empty `%` comment line, upper-case
/// shortest-round-trip exponents, symmetry detected and only the lower triangle written) read
/// back bitwise as the matrices SciPy was given. In the differential run all 1800 SciPy-written
/// files read back bitwise.
#[test]
fn files_written_by_scipy_read_back_bitwise() {
    let third = 1.0 / 3.0;
    let cases: [(&[u8], Vec<Vec<u64>>); 7] = [
        (
            b"%%MatrixMarket matrix coordinate real symmetric\n%\n2 2 2\n1 1 4\n2 1 1E-320\n",
            rows_bits(&[&[4.0, 1e-320], &[1e-320, 0.0]]),
        ),
        (
            b"%%MatrixMarket matrix coordinate real general\n%\n3 2 5\n1 1 4\n1 2 1E-1\n2 1 1E-1\n\
              2 2 2\n3 2 1.7976931348623157E308\n",
            rows_bits(&[&[4.0, 0.1], &[0.1, 2.0], &[0.0, f64::MAX]]),
        ),
        (
            b"%%MatrixMarket matrix array real skew-symmetric\n%\n3 3\n2.5\n-3.333333333333333E-1\n\
              5E-324\n",
            rows_bits(&[
                &[0.0, -2.5, third],
                &[2.5, 0.0, -5e-324],
                &[-third, 5e-324, 0.0],
            ]),
        ),
        (
            b"%%MatrixMarket matrix array integer general\n%\n2 2\n9223372036854775807\n\
              9007199254740993\n-9223372036854775808\n0\n",
            rows_bits(&[
                &[9_223_372_036_854_775_808.0, -9_223_372_036_854_775_808.0],
                &[9_007_199_254_740_992.0, 0.0],
            ]),
        ),
        (
            b"%%MatrixMarket matrix coordinate pattern general\n%\n2 3 3\n1 1\n1 3\n2 3\n",
            rows_bits(&[&[1.0, 0.0, 1.0], &[0.0, 0.0, 1.0]]),
        ),
        (
            b"%%MatrixMarket matrix coordinate integer general\n%\n2 2 3\n1 1 7\n2 1 -3\n2 2 2\n",
            rows_bits(&[&[7.0, 0.0], &[-3.0, 2.0]]),
        ),
        (
            b"%%MatrixMarket matrix array real general\n%\n2 2\n-0\n2.2250738585072014E-308\n\
              1.5E300\n-1E-5\n",
            rows_bits(&[&[-0.0, 1.5e300], &[f64::MIN_POSITIVE, -1e-5]]),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(bits(text), want, "{}", String::from_utf8_lossy(text));
    }
}

/// Layout variants the format allows (NIST: blank lines anywhere after the first line, leading
/// and trailing blanks ignored, case-insensitive character data) and the ones randnla documents
/// beyond it (`\r\n` endings, comment lines between entries, no final newline) read the same
/// matrix as the plain file, in both formats. SciPy agrees on all of them except comments between
/// entries and a lower-case banner, which it refuses. Pass rule: bitwise equal to the plain file.
#[test]
fn layout_variants_read_the_same_matrix() {
    let plain_coord =
        "%%MatrixMarket matrix coordinate real general\n% c\n3 2 3\n1 1 1.5\n3 2 -2e-3\n2 1 7\n";
    let plain_array = "%%MatrixMarket matrix array real general\n% c\n2 2\n1.5\n-2e-3\n7\n0\n";
    type Variant = fn(&str) -> String;
    let variants: [(&str, Variant); 10] = [
        ("crlf", |s| s.replace('\n', "\r\n")),
        ("tabs", |s| s.replace(' ', "\t")),
        ("runs of blanks", |s| s.replace(' ', " \t  ")),
        ("trailing blanks", |s| s.replace('\n', " \t\n")),
        ("leading blanks", |s| s.replace("\n", "\n  ")),
        ("upper-case words", |s| {
            s.replacen(
                "matrix coordinate real general",
                "MATRIX Coordinate REAL General",
                1,
            )
            .replacen("matrix array real general", "Matrix ARRAY Real GENERAL", 1)
        }),
        ("lower-case banner", |s| {
            s.replacen("%%MatrixMarket", "%%matrixmarket", 1)
        }),
        ("blank lines", |s| {
            let mut lines = s.lines();
            let first = lines.next().unwrap();
            let rest: Vec<&str> = lines.collect();
            format!("{first}\n\n{}\n\n", rest.join("\n \n\t\n"))
        }),
        ("no final newline", |s| s.trim_end().to_string()),
        ("comments between entries", |s| {
            let mut lines: Vec<&str> = s.lines().collect();
            let n = lines.len();
            lines.insert(n - 1, "% between");
            lines.push("%% after");
            lines.join("\n")
        }),
    ];
    for plain in [plain_coord, plain_array] {
        let want = bits(plain.as_bytes());
        for (name, variant) in &variants {
            let text = variant(plain);
            assert_eq!(bits(text.as_bytes()), want, "{name}: {text:?}");
        }
    }
}

/// The writer's value tokens are Rust's shortest round-trip form: no more digits than needed,
/// and read back bitwise (by randnla here; in the differential run every one of the 3.9 million
/// values randnla wrote had the digit count of the shortest round-trip form, and SciPy read them
/// all back bitwise, except that its array reader drops the sign of `-0`, a SciPy bug).
#[test]
fn writer_tokens_are_shortest_round_trip() {
    let vals = [
        5e-324,
        -0.0,
        f64::MAX,
        0.1,
        1e-320,
        9_007_199_254_740_994.0,
        -1.0 / 3.0,
    ];
    let n = vals.len();
    let a = sprs::CsMat::new((1, n), vec![0, n], (0..n).collect(), vals.to_vec());
    let mut out = Vec::new();
    write_sparse(&mut out, &SparseRef::from_sprs(a.view()).unwrap()).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    let tokens: Vec<&str> = text
        .lines()
        .skip(3)
        .map(|l| l.split(' ').nth(2).unwrap())
        .collect();
    assert_eq!(
        tokens,
        [
            "5e-324",
            "-0e0",
            "1.7976931348623157e308",
            "1e-1",
            "1e-320",
            "9.007199254740994e15",
            "-3.333333333333333e-1"
        ]
    );
    let back = bits(&out);
    assert_eq!(
        back,
        vec![vals.iter().map(|v| v.to_bits()).collect::<Vec<_>>()]
    );
}

/// In an `integer` file, duplicates are summed exactly and the sum rounded to `f64` once. They
/// were rounded to `f64` one by one and then summed, so an entry whose exact sum is an `f64`
/// could read as a different one, while the module documentation said duplicates were "summed
/// in file order, as SciPy does" (SciPy sums `integer` files in `int64`, exactly).
///
/// Input: `(1, 1)` listed three times, `9007199254740992` (2^53), `1`, `1`. The entry is
/// `2^53 + 2 = 9007199254740994`, an `f64` (SciPy reads exactly that). randnla read
/// `9007199254740992`: `2^53 + 1` rounds to `2^53` (ties to even), twice. Values beyond 2^53 with
/// duplicates are common in generated files: in the differential run 2001 of 7499 duplicated
/// integer positions read differently from the nearest `f64` of their exact sum. The second
/// file cancels: `2^53 + 1` and `−2^53` are `1` (it read as `0`), in both mirror images of a
/// symmetric file, through the dense and the sparse (CSC) readers. Pass rule: exact bits.
#[test]
fn integer_duplicates_are_summed_exactly_then_rounded() {
    let text = b"%%MatrixMarket matrix coordinate integer general\n1 1 3\n\
                 1 1 9007199254740992\n1 1 1\n1 1 1\n";
    assert_eq!(bits(text), rows_bits(&[&[9_007_199_254_740_994.0]]));
    let text = b"%%MatrixMarket matrix coordinate integer symmetric\n2 2 2\n\
                 2 1 9007199254740993\n2 1 -9007199254740992\n";
    assert_eq!(bits(text), rows_bits(&[&[0.0, 1.0], &[1.0, 0.0]]));
    let sparse = randnla::io::read_sparse(&text[..], randnla::input::Layout::Csc, &opts()).unwrap();
    assert_eq!(sparse.data(), &[1.0, 1.0]);
}
