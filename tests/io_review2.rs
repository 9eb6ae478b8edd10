//! Second review of the Matrix Market reader and writer (`randnla::io`) and the examples' shared
//! reading code (`examples/cli`). Each test here failed before the fix it names.

use crate::common;
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

// The examples' shared code, a module of the binary's root (its macros name `$crate::cli`).
use crate::cli;

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

/// Duplicates whose file-order partial sums overflow although their sum is finite: the matrix is
/// representable, and it was refused ("duplicate entries at row 1, column 1 (1-based) sum to a
/// non-finite value"). SciPy's `mmread` returns `inf` for the first file.
#[test]
fn duplicates_whose_partial_sums_overflow_still_read() {
    use randnla::input::Layout;
    use randnla::io::{read_dense, read_sparse};
    let max = f64::MAX;
    let big = 1.5 * 2f64.powi(1023);
    let cases: [(&str, Vec<f64>, f64); 3] = [
        ("general", vec![1e308, 1e308, -1e308], 1e308),
        // Partial sums up to 4.5·2^1023, all exact: the result is exactly v.
        ("general", vec![big, big, big, -big, -big], big),
        // Mirrored: (2, 1) and (1, 2) both get the sum.
        ("symmetric", vec![-max, -max, 0.5, max], -max + 0.5),
    ];
    for (symmetry, values, want) in cases {
        let mut text = format!(
            "%%MatrixMarket matrix coordinate real {symmetry}\n2 2 {}\n",
            values.len()
        );
        for v in &values {
            text.push_str(&format!("2 1 {v:e}\n"));
        }
        let opts = ReadOptions::default();
        for layout in [Layout::Csr, Layout::Csc] {
            let a = read_sparse(text.as_bytes(), layout, &opts)
                .unwrap_or_else(|e| panic!("{values:?}: {e}"));
            assert_eq!(
                a.get(1, 0).map(|v| v.to_bits()),
                Some(want.to_bits()),
                "{values:?}"
            );
            let mirror = (symmetry == "symmetric").then_some(want.to_bits());
            assert_eq!(a.get(0, 1).map(|v| v.to_bits()), mirror, "{values:?}");
        }
        let d = read_dense(text.as_bytes(), &opts).unwrap();
        assert_eq!(d[(1, 0)].to_bits(), want.to_bits(), "{values:?}");
    }
    // A sum that is itself beyond ±f64::MAX is still refused (MAX + 1e300 is 5·10^7 ulps past it).
    for values in [vec![max, max], vec![-max, -1e300, -max, max]] {
        let mut text = format!(
            "%%MatrixMarket matrix coordinate real general\n1 1 {}\n",
            values.len()
        );
        for v in &values {
            text.push_str(&format!("1 1 {v:e}\n"));
        }
        let (_, reason) = parse_error(text.as_bytes());
        assert!(reason.contains("sum to a non-finite value"), "{reason}");
    }
    // A lone -0.0 keeps its sign (a round trip is bitwise).
    let a = read_sparse(
        &b"%%MatrixMarket matrix coordinate real general\n1 2 2\n1 1 -0e0\n1 2 -0e0\n"[..],
        Layout::Csr,
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(a.data().iter().all(|v| v.to_bits() == (-0.0f64).to_bits()));
}

/// An allocation the reader cannot make is an `Io` error of kind `OutOfMemory`; unlike the
/// reader's other I/O errors it did not name the file ("I/O error: could not allocate
/// 2305843009213693952 elements for a dense 1×2305843009213693952 matrix"), and the examples
/// print `Io` errors as they are, so a run reading several files did not say which one.
#[test]
fn allocation_failure_names_the_file() {
    let path = std::env::temp_dir().join(format!("io_review2_oom_{}.mtx", std::process::id()));
    // 2^61 columns and nothing stored: within a limit of 2^62 elements, but 2^64 bytes dense,
    // which `try_reserve` refuses at once (more than isize::MAX), without touching memory.
    std::fs::write(
        &path,
        "%%MatrixMarket matrix coordinate real general\n1 2305843009213693952 0\n",
    )
    .unwrap();
    let opts = ReadOptions {
        max_elements: 1 << 62,
    };
    let result = randnla::io::read_dense_path(&path, &opts);
    std::fs::remove_file(&path).unwrap();
    match result {
        Err(Error::Io { kind, message }) => {
            assert_eq!(kind, std::io::ErrorKind::OutOfMemory, "{message}");
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("could not allocate"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// A field of /proc/self/status in bytes: `VmPeak` (peak virtual memory) or `VmSize` (current).
fn vm(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn vm_peak() -> Option<u64> {
    vm("VmPeak:")
}

/// How far a call raises the peak above the memory in use when it starts.
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = vm("VmSize:").unwrap();
    let out = f();
    (out, vm_peak().unwrap().saturating_sub(before))
}

const CHILD_ENV: &str = "IO_REVIEW2_PEAK_CHILD";

/// Run by [`storage_grows_to_the_declared_count_not_past_it`] in a fresh process, so that the
/// peak it measures is this read's alone.
#[test]
#[ignore = "run in a child process by storage_grows_to_the_declared_count_not_past_it"]
fn peak_child() {
    let Ok(which) = std::env::var(CHILD_ENV) else {
        return;
    };
    const MIB: f64 = (1u64 << 20) as f64;
    // 2^23 + 1 values: one past a power of two, where doubling growth overshoots the most.
    let n = (1usize << 23) + 1;
    let mut text = Vec::with_capacity(64 + 2 * n + 2 * n / 3);
    if which == "array" {
        text.extend_from_slice(
            format!("%%MatrixMarket matrix array real general\n{n} 1\n").as_bytes(),
        );
        for _ in 0..n {
            text.extend_from_slice(b"1\n");
        }
        let (a, grew) =
            peak_growth(|| randnla::io::read_dense(&text[..], &ReadOptions::default()).unwrap());
        assert_eq!(a.nrows(), n);
        // The values as read (n·8 bytes) plus the matrix (n·8): "about twice the dense matrix".
        let dense = (n * 8) as f64;
        println!(
            "PEAK array {:.1} MiB for a {:.1} MiB matrix",
            grew as f64 / MIB,
            dense / MIB
        );
        assert!(
            (grew as f64) < 2.4 * dense,
            "grew {:.1} MiB",
            grew as f64 / MIB
        );
    } else {
        let mut t =
            format!("%%MatrixMarket matrix coordinate real general\n1 1 {n}\n").into_bytes();
        t.reserve(6 * n);
        for _ in 0..n {
            t.extend_from_slice(b"1 1 1\n");
        }
        let (a, grew) = peak_growth(|| {
            randnla::io::read_sparse(&t[..], randnla::input::Layout::Csr, &ReadOptions::default())
                .unwrap()
        });
        assert_eq!(a.nnz(), 1);
        // "About 40 bytes per stored entry at peak" (24 per listed entry, 16 while compressing).
        let per_entry = grew as f64 / n as f64;
        println!("PEAK coordinate {per_entry:.1} bytes per entry");
        assert!(per_entry < 44.0, "{per_entry:.1} bytes per entry");
    }
}

/// The reader reserves room for entries as they arrive, doubling, from at most 2^20 declared up
/// front. The doubling went past the count the size line declares (which is all a valid file
/// can hold): for 2^23 + 1 values, room for 2^24, so an array file peaked at about three times
/// its dense matrix instead of the documented two, and a coordinate file at about 64 bytes per
/// entry instead of 40; `max_elements`, sized to memory, let twice that be reserved.
#[test]
fn storage_grows_to_the_declared_count_not_past_it() {
    if vm_peak().is_none() {
        eprintln!("no /proc/self/status VmPeak; skipped");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for which in ["array", "coordinate"] {
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                &common::test_name(module_path!(), "peak_child"),
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, which)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stdout.contains("PEAK"),
            "{which}: the child did not run: {stdout}{stderr}"
        );
        assert!(out.status.success(), "{which}: {stdout}{stderr}");
    }
}
