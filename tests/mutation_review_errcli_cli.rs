//! Hand mutation review of `examples/cli/mod.rs`, the examples' shared command line (option and
//! switch parsing, `--seed`, `--threads`, `--ridge`, `--max-elements`, the error messages, the
//! one-line JSON and the exit code 2): tests that kill mutants the rest of the suite let through.
//! Each test's doc names the mutant (the one-line slip) and how it fails under it. Most call the
//! module directly (`suite_examples` compiles it as `cli`); the usage in an error is checked on
//! an example binary. `src/error.rs`'s side of the review is `mutation_review_errcli` in
//! `suite_contracts`.
//!
//! 44 mutants (2026-12-07, one build of the examples and tests, each switched on by an
//! environment variable the example processes inherit): the suite killed 29 (one, the
//! `MAX_THREADS` check dropped, by hanging: `--threads 100000` then starts the threads), these
//! tests 13. Two survivors, argued equivalent: `threads` giving `Par::rayon(1)` instead of
//! `Par::Seq` for one thread (both run on one thread), and `table` measuring widths in bytes
//! instead of characters (a column with a non-ASCII cell gets wider, all its cells alike: the
//! columns stay aligned, which is all its doc promises). One bug found, in `file_error` (the
//! test at the end; fixed in the same change as this file landed).

use crate::cli::{self, Args, Json};
use crate::common::assert_example_rejected;
use randnla::{Error, Seed};

fn args(line: &[&str], options: &[&str]) -> Result<Args, String> {
    Args::parse_from(line.iter().map(|s| s.to_string()), options, &["check"])
}

/// `--name=value` and `--name value` are the same option, `--seed`, `--threads` and `--json`
/// are accepted by every example without being listed, an option at the end without its value
/// is an error naming it, and a bad or missing value is an error naming the option. Kills: the
/// inline `=value` ignored (`--seed=5` then took `--threads` as its value); `seed` or `threads`
/// dropped from the options every example takes ("unknown option"); a missing value read as ""
/// (no error: `--out` at the end would write to a file named ""); the parse error and the
/// "is required" error without `--name`.
#[test]
fn options_switches_and_their_errors() {
    let a = args(
        &["--seed=5", "--threads", "2", "--json", "p", "--rows=7"],
        &["rows"],
    )
    .unwrap();
    assert_eq!(a.seed().unwrap(), Seed::new(5));
    assert_eq!(a.get::<usize>("threads").unwrap(), Some(2));
    assert_eq!(a.get::<usize>("rows").unwrap(), Some(7));
    assert!(a.json() && !a.flag("check"));
    assert_eq!(a.positional(), ["p".to_string()]);

    let e = args(&["p", "--out"], &["out"]).err().unwrap();
    assert_eq!(e, "--out needs a value");
    let e = args(&["--bogus", "1"], &["out"]).err().unwrap();
    assert_eq!(e, "unknown option --bogus");

    let a = args(&["--rows", "abc"], &["rows", "tol"]).unwrap();
    let e = a.get::<usize>("rows").err().unwrap();
    assert!(e.starts_with("--rows abc: "), "{e}");
    let e = a.require::<f64>("tol").err().unwrap();
    assert_eq!(e, "--tol is required");
}

/// Between `min` and `max` positionals are accepted, `max` included; beyond, the error quotes
/// the first extra one (the `max + 1`-th), the one to remove. Kills: the range `min..max`
/// (exactly `max` refused) and the error quoting the last argument instead of the first extra.
#[test]
fn positional_bounds_and_the_first_extra_argument() {
    let a = args(&["a", "b"], &[]).unwrap();
    assert_eq!(a.positionals(1, 2).unwrap().len(), 2);
    let a = args(&["a", "b", "c", "d"], &[]).unwrap();
    let e = a.positionals(1, 2).err().unwrap();
    assert!(
        e.starts_with("unexpected argument \"c\";") && !e.contains("\"d\""),
        "{e}"
    );
}

/// An extra positional argument is the one-line error naming it, followed by the usage (so the
/// user sees what the example takes). Kills: the usage dropped from that message.
#[test]
fn an_extra_argument_error_carries_the_usage() {
    let msg = assert_example_rejected("tour", &["extra"]);
    assert!(
        msg.starts_with("error: unexpected argument \"extra\"; usage: tour"),
        "{msg}"
    );
}

/// `--threads`: 0 is refused (rayon would read it as all cores), 1 024 (`MAX_THREADS`) is
/// accepted and gives that many threads, 1 025 is refused naming the limit; without it the pool
/// has rayon's default size (`RAYON_NUM_THREADS`, else all cores). Kills: the limit test
/// `t >= MAX_THREADS` (1 024 refused), and the default of 1 thread instead of rayon's (on a
/// machine with one core the default is 1 and that mutant is not seen).
#[test]
fn threads_bounds_and_default() {
    let threads = |line: &[&str]| args(line, &[]).unwrap().threads();
    assert!(threads(&["--threads", "0"]).is_err());
    let (pool, _) = threads(&["--threads", "1024"]).unwrap();
    assert_eq!(pool.current_num_threads(), cli::MAX_THREADS);
    drop(pool);
    let e = threads(&["--threads", "1025"]).err().unwrap();
    assert!(e.contains("at most 1024"), "{e}");
    let (pool, _) = threads(&[]).unwrap();
    let rayon_default = rayon::ThreadPoolBuilder::new().build().unwrap();
    assert_eq!(
        pool.current_num_threads(),
        rayon_default.current_num_threads()
    );
}

/// The hint for a file over the limit: `N ≥ requested` (the least limit that reads it), also
/// for `requested = u64::MAX`, which `--max-elements` takes; no hint when `requested ≤ limit`
/// (the allocator refused a size within the limit: raising it does not help). Kills: the hint
/// naming the limit instead of `requested`, "no limit can allow that" already at `u64::MAX`, and
/// a hint at `requested == limit`.
#[test]
fn read_error_hint_asks_for_the_requested_count() {
    let big = |requested: u128, limit: u128| Error::TooLarge {
        what: "the file".into(),
        requested,
        limit,
    };
    let msg = cli::read_error("a.mtx", big(300, 10));
    assert!(
        msg.ends_with("raise the limit with --max-elements N, N ≥ 300"),
        "{msg}"
    );
    let max = u128::from(u64::MAX);
    let msg = cli::read_error("a.mtx", big(max, 10));
    let n = msg.rsplit("N ≥ ").next().unwrap();
    assert_eq!(n.parse::<u64>(), Ok(u64::MAX), "{msg}");
    let msg = cli::read_error("a.mtx", big(5, 5));
    assert_eq!(
        msg,
        "a.mtx: the file needs 5 elements, which could not be allocated"
    );
}

/// A library parameter error reads with the option's name (`--tol: reason`), its reason kept;
/// others read as the library wrote them. Kills: no renaming at all, and the reason dropped.
#[test]
fn option_error_names_the_option_and_keeps_the_reason() {
    let flags = [("tol", "--tol")];
    let e = Error::InvalidParameter {
        name: "tol",
        reason: "must be in (0, 1), got 2".into(),
    };
    assert_eq!(
        cli::option_error(e, &flags),
        "--tol: must be in (0, 1), got 2"
    );
    let e = Error::InvalidParameter {
        name: "rcond",
        reason: "must be in (0, 1)".into(),
    };
    assert_eq!(
        cli::option_error(e.clone(), &flags),
        e.to_string(),
        "unlisted"
    );
}

/// The JSON line: strings escaped (`"` → `\"`, `\` → `\\`, control characters → `\u00XX`, a
/// space kept), non-finite numbers and `None` as `null`. Kills: each escape dropped, the space
/// escaped, `inf` printed as a number, and `opt_str(None)` written as `""`.
#[test]
fn json_line_escapes_strings_and_writes_null() {
    let line = Json::new()
        .str("s", "a\"b\\c\nd e")
        .num("x", f64::INFINITY)
        .num("y", 0.5)
        .opt_str("o", None)
        .line();
    assert_eq!(
        line,
        r#"{"s":"a\"b\\c\u000ad e","x":null,"y":0.5,"o":null}"#
    );
}

/// `file_error` is to prefix an error with its path unless the (I/O) error names the file
/// already; it tested that with a substring search, so a short path found elsewhere in the
/// message counted as named. `tensor_power --tns a`, with `a` a directory in the working
/// directory, printed "error: I/O error: reading line 1: Is a directory (os error 21)": the `a`
/// of "Is a directory" was taken for the path, and the file was not named (`--tns x` printed
/// "x: I/O error: …"). Found in this review; not a mutant. Fixed: the message must start with
/// the library's "opening PATH", "reading PATH", "creating PATH" or "writing PATH", then `:` or
/// nothing; such a message is kept as it is.
#[test]
fn file_error_names_a_short_path_found_elsewhere_in_the_message() {
    let io = Error::Io {
        kind: std::io::ErrorKind::IsADirectory,
        message: "reading line 1: Is a directory (os error 21)".into(),
    };
    let msg = cli::file_error("a", io);
    assert!(msg.starts_with("a: "), "{msg}");
    for (path, message) in [
        ("a", "opening a: No such file or directory (os error 2)"),
        (
            "x.tns",
            "reading x.tns: reading line 1: Is a directory (os error 21)",
        ),
        ("out.mtx", "creating out.mtx"),
    ] {
        let io = Error::Io {
            kind: std::io::ErrorKind::Other,
            message: message.into(),
        };
        assert_eq!(cli::file_error(path, io), format!("I/O error: {message}"));
    }
    // A longer path that merely starts with the given one does not name it.
    let io = Error::Io {
        kind: std::io::ErrorKind::NotFound,
        message: "opening ab: No such file or directory (os error 2)".into(),
    };
    assert!(cli::file_error("a", io).starts_with("a: "));
}
