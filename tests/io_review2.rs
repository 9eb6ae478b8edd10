//! Second review of the Matrix Market reader and writer (`randnla::io`) and the examples' shared
//! reading code (`examples/cli`). Each test here failed before the fix it names.

use randnla::io::{read_matrix_market, ReadOptions};
use randnla::Error;

fn read(bytes: &[u8]) -> randnla::Result<randnla::io::MatrixMarket> {
    read_matrix_market(bytes, &ReadOptions::default())
}

/// The error's line and message, or a panic naming what came back instead.
fn parse_error(bytes: &[u8]) -> (usize, String) {
    match read(bytes) {
        Err(Error::Parse { line, reason }) => (line, reason),
        other => panic!(
            "{:?}: expected a parse error, got {other:?}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

/// Invalid UTF-8 on an indented line: the byte position is counted from the start of the line.
/// It was counted from the first non-blank byte, so `"   \t 1 1 \xFF"` (the bad byte is the 10th)
/// was reported at byte 5, which is the `1`.
#[test]
fn invalid_utf8_position_counts_the_indentation() {
    let (line, reason) =
        parse_error(b"%%MatrixMarket matrix coordinate real general\n1 1 1\n   \t 1 1 \xFF\n");
    assert_eq!(line, 3);
    assert!(reason.contains("at byte 10 of the line"), "{reason}");
    // Without indentation the count was already right and stays so.
    let (_, reason) =
        parse_error(b"%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 \xFF\n");
    assert!(reason.contains("at byte 5 of the line"), "{reason}");
}

/// An index with more digits than `usize` holds is an integer out of range, as `4` is in a 3-row
/// matrix; it was reported as "not a positive integer".
#[test]
fn overlong_index_is_out_of_range_not_a_non_integer() {
    let h = "%%MatrixMarket matrix coordinate real general\n2 3 1\n";
    for (entry, needle) in [
        (
            "99999999999999999999999 1 1",
            "row index `99999999999999999999999` is out of range",
        ),
        (
            "1 +18446744073709551616 1",
            "column index `+18446744073709551616` is out of range",
        ),
    ] {
        let (line, reason) = parse_error(format!("{h}{entry}\n").as_bytes());
        assert_eq!(line, 3);
        assert!(reason.contains(needle), "{reason}");
        assert!(!reason.contains("not a positive integer"), "{reason}");
    }
    // Tokens that are not integers keep their message.
    for entry in ["-1 1 1", "1.0 1 1", "+ 1 1", "x 1 1"] {
        let (_, reason) = parse_error(format!("{h}{entry}\n").as_bytes());
        assert!(
            reason.contains("is not a positive integer"),
            "{entry}: {reason}"
        );
    }
}

#[path = "../examples/cli/mod.rs"]
#[allow(unused)]
mod cli;

/// The examples' hint for a file over the limit asks for `--max-elements N, N ≥ requested`. A
/// coordinate file declaring 2^64 − 1 rows needs 2·(2^64 − 1) + 1 index pointers and cursors,
/// more than any `u64`, so the hint asked for a value `--max-elements` cannot take (it answered
/// "number too large to fit in target type"). Such a file now says no limit is enough.
#[test]
fn cli_hint_never_asks_for_a_limit_beyond_u64() {
    let text = "%%MatrixMarket matrix coordinate real general\n18446744073709551615 1 0\n";
    let e = read(text.as_bytes()).unwrap_err();
    let Error::TooLarge { requested, .. } = e else {
        panic!("{e:?}")
    };
    assert!(requested > u128::from(u64::MAX), "{requested}");
    let msg = cli::read_error("big.mtx", e);
    assert!(msg.starts_with("big.mtx: "), "{msg}");
    assert!(msg.contains("no --max-elements can allow that"), "{msg}");
    assert!(!msg.contains("raise the limit"), "{msg}");

    // A file within reach keeps the hint, and the count it names is accepted by the option.
    let text = "%%MatrixMarket matrix coordinate real general\n1000 1 0\n";
    let e = randnla::io::read_matrix_market(text.as_bytes(), &ReadOptions { max_elements: 10 })
        .unwrap_err();
    let msg = cli::read_error("small.mtx", e);
    let n = msg.rsplit("N ≥ ").next().unwrap();
    assert!(n.parse::<u64>().is_ok(), "{msg}");
}
