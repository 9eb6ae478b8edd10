//! `.tns` reader: inputs a downstream review found read silently wrong, or refused with a
//! message that does not point at the file (DESIGN.md: a malformed file is an `Err` naming the
//! line).

use randnla::tensor::{read_tns, read_tns_as, TnsStorage};
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

/// A file that breaks the symmetric-tensor rule (each multi-index once, or in all its distinct
/// permutations with equal values) was refused with `InvalidStructure` naming the 0-based entry
/// number and the 0-based indices: `entry 2 (indices [1, 0, 0]) = 1.5 differs …` for the line
/// `2 1 1 1.5`, which is line 5 of the file — the user searched the file for `1 0 0`. Now it is
/// a parse error naming the line of the offending entry, its indices as written, and the line it
/// conflicts with; the earliest offending line is named. Every storage reports the same.
#[test]
fn asymmetric_repeated_or_partial_entries_name_their_lines() {
    // Asymmetric values: line 5 conflicts with line 3.
    let (line, reason) = parse_error("# c\n\n1 1 2 1\n1 2 1 1\n2 1 1 1.5\n");
    assert_eq!(line, 5, "{reason}");
    assert!(
        reason.contains("`2 1 1`") && reason.contains("`1 1 2`") && reason.contains("line 3"),
        "{reason}"
    );
    assert!(reason.contains("not symmetric"), "{reason}");
    // A repeated entry (same indices, same value): line 4 repeats line 1.
    let (line, reason) = parse_error("1 1 1 2\n2 2 2 1\n\n1 1 1 2\n");
    assert_eq!(line, 4, "{reason}");
    assert!(
        reason.contains("`1 1 1`") && reason.contains("line 1"),
        "{reason}"
    );
    // Some but not all permutations: the second listing (line 3) is named, with the first.
    let (line, reason) = parse_error("1 2 3 1\n# x\n2 1 3 1\n3 3 3 1\n");
    assert_eq!(line, 3, "{reason}");
    assert!(
        reason.contains("`2 1 3`") && reason.contains("line 1") && reason.contains('6'),
        "{reason}"
    );
    // The earliest offending line of the file, not the first multi-index in sorted order.
    let (line, reason) = parse_error("3 3 3 1\n1 1 1 1\n3 3 3 1\n1 1 1 1\n");
    assert_eq!(line, 3, "{reason}");
    // Long runs of comments and blank lines between entries are counted.
    let mut text = String::new();
    for k in 1..=50 {
        text.push_str(&format!("{k} {k} {k} 1\n"));
        for _ in 0..k % 4 {
            text.push_str("# filler\n\n");
        }
    }
    let lines_before = text.lines().count();
    text.push_str("7 7 7 1\n");
    let (line, reason) = parse_error(&text);
    assert_eq!(line, lines_before + 1, "{reason}");
    let first_7 = text.lines().position(|l| l == "7 7 7 1").unwrap() + 1;
    assert!(reason.contains(&format!("line {first_7}")), "{reason}");
    // Valid forms still read: once, or all permutations with equal values.
    assert!(read_tns("1 1 2 1\n# x\n1 2 1 1\n\n2 1 1 1\n".as_bytes()).is_ok());
}

/// Small random files (order 3, dimension 2, entries drawn with repeats, permutations and
/// occasional unequal values, comment lines between): `read_tns` refuses exactly the entries
/// `SymmetricTensor::coordinate` refuses, and then with a parse error on an entry line.
#[test]
fn every_refused_file_names_an_entry_line() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |k: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % k
    };
    let mut refused = 0;
    for _ in 0..3000 {
        let (mut text, mut idx, mut val, mut entry_lines) = (String::new(), vec![], vec![], vec![]);
        for _ in 0..1 + next(6) {
            if next(3) == 0 {
                text.push_str("# c\n");
            }
            let e: Vec<usize> = (0..3).map(|_| next(2) as usize).collect();
            let v = if next(8) == 0 { 2.0 } else { 1.0 };
            text.push_str(&format!("{} {} {} {v}\n", e[0] + 1, e[1] + 1, e[2] + 1));
            entry_lines.push(text.lines().count());
            idx.extend(e);
            val.push(v);
        }
        let dim = idx.iter().max().unwrap() + 1;
        let want_ok = randnla::tensor::SymmetricTensor::coordinate(3, dim, &idx, &val).is_ok();
        match read_tns(text.as_bytes()) {
            Ok(_) => assert!(want_ok, "{text:?}"),
            Err(Error::Parse { line, reason }) => {
                assert!(!want_ok, "{text:?}: {reason}");
                assert!(
                    entry_lines.contains(&line),
                    "{text:?}: line {line}: {reason}"
                );
                refused += 1;
            }
            Err(e) => panic!("{text:?}: {e}"),
        }
    }
    assert!(refused > 300, "{refused}");
}

/// A file saved as "UTF-8 with BOM" (Windows editors) starts with U+FEFF, which `trim` keeps:
/// `\u{feff}1 1 1 1` was refused with "index 1 `1` is not a positive integer" (the BOM is
/// invisible in the message), and a header comment after a BOM was read as an entry. The BOM
/// is now skipped at the start of the file, and only there.
#[test]
fn a_byte_order_mark_at_the_start_is_skipped() {
    for storage in STORAGES {
        let t = read_tns_as("\u{feff}1 1 1 1\n2 2 2 2\n".as_bytes(), storage).unwrap();
        assert_eq!((t.order(), t.dim()), (3, 2));
        assert_eq!(t.get(&[1, 1, 1]).unwrap(), 2.0);
        let t = read_tns_as(
            "\u{feff}# order 3 dimension 4\n1 1 1 1\n".as_bytes(),
            storage,
        )
        .unwrap();
        assert_eq!((t.order(), t.dim()), (3, 4));
    }
    // Elsewhere it is not a blank: an error naming the line.
    let (line, reason) = parse_error("1 1 1 1\n\u{feff}2 2 2 2\n");
    assert_eq!(line, 2, "{reason}");
}

/// `write_tns` then `read_tns`: values bitwise (subnormals, `±f64::MAX`, `-0.0` in coordinate
/// storage); dense storage writes nonzero entries only, so its `-0.0` comes back as `+0.0`
/// (documented).
#[test]
fn round_trip_is_bitwise_except_dense_negative_zero() {
    use randnla::tensor::{write_tns, SymmetricTensor, TnsEntries};
    for v in [
        f64::MAX,
        -f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        0.1,
        -0.0,
        1e300,
    ] {
        let t = SymmetricTensor::coordinate(3, 2, &[0, 0, 1, 1, 1, 1], &[v, 1.0]).unwrap();
        for (t, dense) in [(t.clone(), false), (t.to_dense().unwrap(), true)] {
            for entries in [TnsEntries::All, TnsEntries::Unique] {
                let mut buf = Vec::new();
                write_tns(&mut buf, &t, entries).unwrap();
                for storage in STORAGES {
                    let back = read_tns_as(&buf[..], storage).unwrap();
                    let got = back.get(&[0, 1, 0]).unwrap();
                    let want = if dense && v == 0.0 { 0.0 } else { v };
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "{v:e} {entries:?} {storage:?}"
                    );
                }
            }
        }
    }
}

/// A line is read at most 1 MiB at a time: a stream without line breaks (here 3 MiB of digits)
/// is a parse error naming line 1 after that much, not one unbounded `String` (the reader used
/// `BufRead::lines`, which grows its line until the newline or the allocator gives up); a line
/// that is not UTF-8 is a parse error naming its line (it was an I/O error without one).
#[test]
fn long_lines_and_bad_bytes_are_parse_errors_naming_the_line() {
    let endless = std::io::Read::take(std::io::repeat(b'1'), 3 << 20);
    match read_tns(std::io::BufReader::new(endless)) {
        Err(Error::Parse {
            line: 1,
            reason: message,
        }) => {
            assert!(message.contains("longer than"), "{message}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    let bytes: &[u8] = b"1 1 1 1\n1 1 \xff 2 1\n";
    match read_tns(bytes) {
        Err(Error::Parse {
            line: 2,
            reason: message,
        }) => assert!(message.contains("UTF-8"), "{message}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}
