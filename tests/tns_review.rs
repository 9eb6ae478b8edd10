//! `.tns` reader: inputs a downstream review found read silently wrong, or refused with a
//! message that does not point at the file (DESIGN.md: a malformed file is an `Err` naming the
//! line).

use randnla::tensor::{read_tns_as, TnsStorage};
use randnla::Error;

const STORAGES: [TnsStorage; 3] = [TnsStorage::Coordinate, TnsStorage::Dense, TnsStorage::Auto];

/// `(line, reason)` of the parse error every storage gives for `text`; panics otherwise.
fn parse_error(text: &str) -> (usize, String) {
    let mut first: Option<(usize, String)> = None;
    for storage in STORAGES {
        match read_tns_as(text.as_bytes(), storage) {
            Err(Error::Parse { line, reason }) => {
                if let Some(f) = &first {
                    assert_eq!(f, &(line, reason.clone()), "{storage:?} on {text:?}");
                }
                first = Some((line, reason));
            }
            other => panic!(
                "{text:?} ({storage:?}): expected a parse error, got {:?}",
                other.map(|t| (t.order(), t.dim(), t.nnz()))
            ),
        }
    }
    first.expect("three storages")
}

/// A file saved with classic-Mac (CR-only) line endings is one line to a reader that splits on
/// `\n`, and `split_whitespace` took the CRs for field separators: `1 1 1 1\r2 2 2 2\r` (two
/// diagonal entries of an order-3 tensor) was read as ONE entry of an order-7 tensor, `Ok`, and
/// the power method ran on it. A CR (or another line-break character) between fields is now a
/// parse error on that line; a CR at the end of a line (CRLF files) is still fine.
#[test]
fn line_breaks_other_than_lf_inside_a_line_are_errors_not_extra_fields() {
    for text in [
        "1 1 1 1\r2 2 2 2\r",
        "1 1 1 1\r2 2 2 2",
        "1 1 1 1\r2 2 2 2\r3 3 3 3\r",
        "# c\n1 1 1 1\u{2028}2 2 2 2\n",
        "# c\n1 1 1 1\u{85}2 2 2 2\n",
        "# c\n1 1 1 1\u{0b}2 2 2 2\n",
        "# c\n1 1 1 1\u{0c}2 2 2 2\n",
        "1 1 1 1\n2 2 2 2\r\r\n3 3 3 3\r 4\n",
        // A comment first: the whole CR-only file was one comment, "no entries".
        "# a comment\r1 1 1 1\r2 2 2 2\r",
    ] {
        let (line, reason) = parse_error(text);
        let want = if text.starts_with("# c\n") {
            2
        } else if text.starts_with("1 1 1 1\n") {
            3
        } else {
            1
        };
        assert_eq!(line, want, "{text:?}: {reason}");
        assert!(reason.contains("line break"), "{text:?}: {reason}");
    }
    // CRLF files, and a stray CR at the end of a line, are read as before.
    for storage in STORAGES {
        let t = read_tns_as("1 1 1 1\r\n2 2 2 2\r\r\n".as_bytes(), storage).unwrap();
        assert_eq!((t.order(), t.dim()), (3, 2));
        assert_eq!(t.get(&[1, 1, 1]).unwrap(), 2.0);
    }
}
