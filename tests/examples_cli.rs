//! The examples' command-line contract (DESIGN.md, issue #2 item 7): bad input gives exactly one
//! line on stderr and exit code 2, never a panic; `--json` prints one JSON object as the last line
//! of stdout; and each option does what it says in a good run (`--seed`, `--out`,
//! `--max-elements`, lstsq's `--ridge` and `--tol`, poly_features' `--gamma` and `--coef0`),
//! checked against the library called directly and against exact computation.
//!
//! `cargo test` (and `cargo nextest run`) build the examples next to the test binaries, under
//! `target/<profile>/examples/`; the test runs them from there. `cargo test --test suite_examples
//! examples_cli` alone does not rebuild the examples, so it runs whatever example binaries the
//! last full build left.

use crate::common;

use common::{
    assert_bitwise, assert_example_rejected as assert_rejected, example, run_example as run,
    TempFiles,
};
use faer::{Mat, Par};
use randnla::io::{read_dense_path, read_matrix_market_path, ReadOptions};
use randnla::sketch::{SketchExt, SketchKind};
use randnla::{MatrixRef, Seed};
use std::path::Path;
use std::process::Command;

/// Exit code 0 and a last stdout line that is one JSON object carrying `fields`. Returns the line.
fn assert_json(name: &str, args: &[&str], fields: &[&str]) -> String {
    let out = run(name, args);
    let what = format!("{name} {args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{what}: stderr {stderr:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(one_object(last), "{what}: last line {last:?}");
    for f in fields {
        assert!(
            last.contains(&format!("\"{f}\":")),
            "{what}: no {f} in {last}"
        );
    }
    last.to_string()
}

/// Whether `line` is one `{…}` object: the brace opened first closes at its last character (a
/// field may hold a nested object, as active's `ratio` does; braces inside strings are skipped).
fn one_object(line: &str) -> bool {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, c) in line.char_indices() {
        match (in_str, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') | (false, '"') => in_str = !in_str,
            (false, '{') => depth += 1,
            (false, '}') => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
                if depth == 0 {
                    return i + 1 == line.len();
                }
            }
            _ if depth == 0 => return false,
            _ => {}
        }
    }
    false
}

/// The number in field `key` of a one-line JSON object; `None` for `null`. The examples print
/// numbers with Rust's `{}` or `{:e}` (below 10⁻⁴, from 10¹⁵ on): the shortest form that parses
/// back to the same `f64`.
fn json_num(line: &str, key: &str) -> Option<f64> {
    let pat = format!("\"{key}\":");
    let start = line
        .find(&pat)
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + pat.len();
    let rest = &line[start..];
    let value = &rest[..rest.find([',', '}']).expect("a JSON object")];
    (value != "null").then(|| {
        value
            .parse()
            .unwrap_or_else(|e| panic!("{key}: {value}: {e}"))
    })
}

/// Files in a directory of their own (`tag` keeps the tests, which run in parallel, apart).
fn files(tag: &str) -> TempFiles {
    let f = TempFiles::new("randnla-examples-cli", tag);
    let dir = &f.dir;
    // A 60 × 4 sparse matrix with three entries a row (full column rank), a right-hand side,
    // a label vector for active learning, and inputs that must be rejected.
    let (a, b) = common::small_ls_problem_mtx();
    let files = [
        ("A.mtx", a),
        ("b.mtx", b),
        // The entry in row 7 of a 5-row matrix: sprs's own reader panics on it.
        (
            "out_of_shape.mtx",
            "%%MatrixMarket matrix coordinate real general\n5 3 2\n1 1 1.0\n7 2 2.0\n".into(),
        ),
        (
            "truncated.mtx",
            "%%MatrixMarket matrix coordinate real general\n5 3 4\n1 1 1.0\n".into(),
        ),
        (
            "nan.mtx",
            "%%MatrixMarket matrix coordinate real general\n5 3 1\n2 2 nan\n".into(),
        ),
        ("no_header.mtx", "5 3 1\n1 1 1.0\n".into()),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    f
}

/// Each file-reading example with the arguments it needs besides its input files.
fn file_examples(f: &TempFiles) -> Vec<(&'static str, Vec<String>)> {
    let a = f.path("A.mtx");
    let b = f.path("b.mtx");
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        ("sketch", s(&["--sketch", "sparse-sign", "--rows", "12"])),
        ("lstsq", s(&[&b])),
        ("leverage", s(&[])),
        ("poly_features", s(&["--degree", "2", "--rows", "16"])),
        ("active", s(&[&b, "--budget", "8"])),
        ("attention", s(&[&a, &a])),
    ]
}

#[test]
fn bad_input_gives_one_line_and_exit_code_2() {
    let f = files("bad");
    for (name, rest) in file_examples(&f) {
        assert_rejected(name, &[]);
        assert_rejected(name, &["--no-such-option"]);
        for bad in [
            "missing.mtx",
            "out_of_shape.mtx",
            "truncated.mtx",
            "nan.mtx",
            "no_header.mtx",
        ] {
            let path = f.path(bad);
            let mut args: Vec<&str> = vec![&path];
            args.extend(rest.iter().map(String::as_str));
            assert_rejected(name, &args);
        }
        let a = f.path("A.mtx");
        let mut args: Vec<&str> = vec![&a];
        args.extend(rest.iter().map(String::as_str));
        args.extend(["--threads", "zero"]);
        assert_rejected(name, &args);
    }
    // Option values the library rejects.
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    assert_rejected("lstsq", &[&a, &b, "--sketch-rows", "2"]);
    assert_rejected("lstsq", &[&a, &b, "--nnz-per-col", "0"]);
    assert_rejected("lstsq", &[&a, &b, "--method", "qr", "--nnz-per-col", "2"]);
    // Options that do not apply to a method are refused, not ignored: --seed and --tol by the
    // methods that draw nothing at random or have no stopping test.
    for method in ["qr", "normal", "lsqr"] {
        let msg = assert_rejected("lstsq", &[&a, &b, "--method", method, "--seed", "3"]);
        assert!(msg.contains("--seed applies to"), "{method}: {msg}");
    }
    for method in ["qr", "normal", "sketch-solve"] {
        let msg = assert_rejected("lstsq", &[&a, &b, "--method", method, "--tol", "1e-8"]);
        assert!(msg.contains("--tol applies to"), "{method}: {msg}");
    }
    // A bad --ridge is named as the option, not as the library's `lambda`.
    for (name, mut args) in [
        ("lstsq", vec![a.as_str(), b.as_str()]),
        ("leverage", vec![a.as_str()]),
        ("active", vec![a.as_str(), b.as_str(), "--budget", "8"]),
    ] {
        for bad in ["-1", "nan", "inf"] {
            args.extend(["--ridge", bad]);
            let msg = assert_rejected(name, &args);
            assert!(msg.contains("--ridge"), "{name} --ridge {bad}: {msg}");
            args.truncate(args.len() - 2);
        }
    }
    assert_rejected("lstsq", &[&a, &a]);
    // The sketch's `m` is reported as the flag that set it.
    let err = assert_rejected(
        "sketch",
        &[&a, "--sketch", "sparse-sign", "--rows", "0", "--json"],
    );
    assert!(err.contains("--rows: ") && err.contains("m ≥ 1"), "{err}");
    let err = assert_rejected(
        "sketch",
        &[
            &a,
            "--sketch",
            "sparse-sign",
            "--rows",
            "4",
            "--nnz-per-col",
            "5",
        ],
    );
    assert!(err.contains("--nnz-per-col: "), "{err}");
    assert_rejected("poly_features", &[&a, "--degree", "0", "--rows", "16"]);
    // The tensor power method reads FROSTT `.tns` files (or makes a synthetic tensor).
    let tns = f.dir.join("bad.tns");
    for text in ["1 1 1 nan\n", "1 1 1 2.0\n0 1 1 1.0\n", "1 1\n"] {
        std::fs::write(&tns, text).unwrap();
        assert_rejected("tensor_power", &["--tns", &tns.to_string_lossy()]);
    }
    // A missing file is named once (the I/O error names it; it used to be prefixed again).
    let missing = f.path("missing.tns");
    let msg = assert_rejected("tensor_power", &["--tns", &missing]);
    assert_eq!(msg.matches(missing.as_str()).count(), 1, "{msg}");
    for (name, rest) in file_examples(&f) {
        let path = f.path("missing.mtx");
        let mut args: Vec<&str> = vec![&path];
        args.extend(rest.iter().map(String::as_str));
        let msg = assert_rejected(name, &args);
        assert_eq!(msg.matches(path.as_str()).count(), 1, "{name}: {msg}");
    }
    assert_rejected("tensor_power", &["--synthetic", "1,2"]);
    assert_rejected("tensor_power", &[]);
}

/// The argument contract beyond bad files: `--help` prints the usage on stdout with exit code 0;
/// a switch given a value (`--json=false`), an extra positional argument, an absurd thread count
/// and a V shorter than K (attention used to panic in its warm-up) are one-line errors with exit
/// code 2; an all-zero A gets no distortion figure (the exact route used to measure some other
/// subspace and print 2.31).
#[test]
fn help_switches_positionals_threads_and_shapes() {
    let f = files("args");
    let all = [
        "sketch",
        "lstsq",
        "leverage",
        "poly_features",
        "active",
        "attention",
        "tensor_power",
        "tour",
        "sketch_cpu",
    ];
    for name in all {
        let out = run(name, &["--help"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name} --help: {out:?}");
        assert!(stdout.starts_with("usage: "), "{name} --help: {stdout:?}");
        assert_rejected(name, &["--json=false"]);
        assert_rejected(name, &["--threads", "100000"]);
        // Rayon reads 0 threads as all cores: refused rather than silently widened.
        assert_rejected(name, &["--threads", "0"]);
        // An argument that is not UTF-8 (a Latin-1 file name) is an error, not a panic in
        // `std::env::args`.
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let latin1 = std::ffi::OsStr::from_bytes(b"\xe9.mtx");
            let out = Command::new(example(name))
                .arg(latin1)
                .output()
                .expect("the example starts");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} non-UTF-8: {stderr:?}");
            assert_eq!(stderr.lines().count(), 1, "{name} non-UTF-8: {stderr:?}");
            assert!(stderr.contains("not valid UTF-8"), "{name}: {stderr:?}");
        }
    }
    for (name, rest) in file_examples(&f) {
        let a = f.path("A.mtx");
        let mut args: Vec<&str> = vec![&a];
        args.extend(rest.iter().map(String::as_str));
        args.push("extra.mtx");
        assert_rejected(name, &args);
    }
    assert_rejected("tensor_power", &["--synthetic", "6,2,0.01,3", "extra"]);
    assert_rejected("tour", &["extra"]);
    assert_rejected("sketch_cpu", &["extra"]);
    assert_rejected("sketch_cpu", &["--reps", "1000001"]);
    // 2³¹ stored entries need about 70 GB: refused up front (sprs's `to_csc` aborts on a failed
    // allocation), unless the machine really has that much available.
    let available_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m
                .lines()
                .find(|l| l.starts_with("MemAvailable:"))?
                .to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map(|kb| kb * 1024.0 / 1e9);
    if available_gb.is_some_and(|gb| gb < 60.0) {
        let msg = assert_rejected("sketch_cpu", &["--nnz", "2147483648"]);
        assert!(msg.contains("GB of memory"), "{msg}");
    }
    let mut v = String::from("%%MatrixMarket matrix array real general\n59 4\n");
    for i in 0..59 * 4 {
        v.push_str(&format!("{}\n", (i % 7) as f64 - 3.0));
    }
    let v59 = f.dir.join("V59.mtx");
    std::fs::write(&v59, v).unwrap();
    let a = f.path("A.mtx");
    for kind in ["poly-sketch", "poly-exact", "softmax"] {
        assert_rejected(
            "attention",
            &[&a, &a, &v59.to_string_lossy(), "--kind", kind],
        );
    }
    // Options that do not apply to the kind are refused, not ignored.
    for (kind, opt) in [
        ("softmax", ["--degree", "2"]),
        ("softmax", ["--sketch-dim", "16"]),
        ("poly-exact", ["--map", "identity"]),
        ("poly-exact", ["--scale", "0.5"]),
        ("poly-sketch", ["--scale", "0.5"]),
    ] {
        let msg = assert_rejected("attention", &[&a, &a, &a, "--kind", kind, opt[0], opt[1]]);
        assert!(msg.contains("does not apply"), "{kind} {opt:?}: {msg}");
    }
    let msg = assert_rejected("attention", &[&a, &a, &a, "--kind", "softmax", "--check"]);
    assert!(msg.contains("does not apply"), "{msg}");
    // A value beyond f32's range under --f32 is named, not reported as a non-finite input.
    let mut v = String::from("%%MatrixMarket matrix array real general\n60 4\n");
    for i in 0..60 * 4 {
        v.push_str(if i == 7 { "1e300\n" } else { "1\n" });
    }
    let vbig = f.dir.join("Vbig.mtx");
    std::fs::write(&vbig, v).unwrap();
    let msg = assert_rejected("attention", &[&a, &a, &vbig.to_string_lossy(), "--f32"]);
    assert!(
        msg.contains("V[8, 1] = 1e300 is beyond the range of f32"),
        "{msg}"
    );
    // A folded search size below the smallest sketch size (it used to return wrong weights
    // as if converged).
    let msg = assert_rejected(
        "tensor_power",
        &[
            "--synthetic",
            "20,2,0.01,3",
            "--method",
            "sketch",
            "--search-sketch-dim",
            "2",
        ],
    );
    assert!(msg.contains("--search-sketch-dim"), "{msg}");
    let zero = f.dir.join("zero.mtx");
    std::fs::write(
        &zero,
        "%%MatrixMarket matrix coordinate real general\n50 3 0\n",
    )
    .unwrap();
    let line = assert_json(
        "sketch",
        &[
            &zero.to_string_lossy(),
            "--sketch",
            "sparse-sign",
            "--rows",
            "10",
            "--json",
        ],
        &["distortion", "distortion_note"],
    );
    assert!(line.contains("\"distortion\":null"), "{line}");
    assert!(
        line.contains("\"distortion_note\":\"not measured: "),
        "{line}"
    );
    // The default s = 8 of sparse sign is capped at --rows (3 rows used to be an error about
    // an `nnz_per_col` the user never gave); an explicit s above m stays an error.
    assert_json(
        "sketch",
        &[&a, "--sketch", "sparse-sign", "--rows", "3", "--json"],
        &["distortion"],
    );
    assert_rejected(
        "sketch",
        &[
            &a,
            "--sketch",
            "sparse-sign",
            "--rows",
            "3",
            "--nnz-per-col",
            "8",
        ],
    );
    // Fewer sketch rows than columns: κ is infinite, which JSON cannot hold; the note says so.
    let line = assert_json(
        "sketch",
        &[&a, "--sketch", "gaussian", "--rows", "2", "--json"],
        &["distortion", "distortion_note"],
    );
    assert!(line.contains("\"distortion\":null"), "{line}");
    assert!(line.contains("\"distortion_note\":\"infinite: "), "{line}");
    // A full disk on stdout is a one-line error with exit code 2, not a panic in `println!`.
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(example("sketch"))
            .args([a.as_str(), "--sketch", "count", "--rows", "12", "--json"])
            .stdout(full)
            .output()
            .expect("the example starts");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "stdout /dev/full: {stderr:?}");
        assert_eq!(stderr.lines().count(), 1, "stdout /dev/full: {stderr:?}");
        assert!(stderr.contains("cannot write to stdout"), "{stderr:?}");
    }
    // lstsq: a right-hand side of size 1e-200 has a residual of size 1e-200 (its unscaled sum
    // of squares printed 0), and --out that cannot be written (no convergence) says so.
    let b = f.path("b.mtx");
    let tiny = f.dir.join("b_tiny.mtx");
    let text = std::fs::read_to_string(&b).unwrap();
    let mut scaled = String::new();
    for (i, l) in text.lines().enumerate() {
        if i < 2 {
            scaled.push_str(l);
        } else {
            scaled.push_str(&format!("{:e}", l.parse::<f64>().unwrap() * 1e-200));
        }
        scaled.push('\n');
    }
    std::fs::write(&tiny, scaled).unwrap();
    let r = |path: &str| {
        let line = assert_json(
            "lstsq",
            &[&a, path, "--method", "qr", "--json"],
            &["residual_norm"],
        );
        json_num(&line, "residual_norm").unwrap()
    };
    let (r1, r_tiny) = (r(&b), r(&tiny.to_string_lossy()));
    // b·1e-200 is b with each entry rounded once, and the residual here is not small against b:
    // the two agree to a few ulps (they printed the same 16 digits), so 1e-12 relative.
    assert!(
        r1 > 0.0 && (r_tiny / 1e-200 - r1).abs() <= 1e-12 * r1,
        "residual {r_tiny:e} for b·1e-200 against {r1:e}"
    );
    let x_out = f.dir.join("x_not_written.mtx");
    let out = run(
        "lstsq",
        &[
            &a,
            &b,
            "--method",
            "lsqr",
            "--max-iters",
            "1",
            "--out",
            &x_out.to_string_lossy(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !x_out.exists() && stderr.contains("not written"),
        "{stderr}"
    );
    let empty = f.dir.join("empty_rows.mtx");
    std::fs::write(
        &empty,
        "%%MatrixMarket matrix coordinate real general\n0 3 0\n",
    )
    .unwrap();
    let msg = assert_rejected(
        "sketch",
        &[
            &empty.to_string_lossy(),
            "--sketch",
            "count",
            "--rows",
            "10",
        ],
    );
    assert!(msg.contains("empty"), "{msg}");
}

#[test]
fn json_is_the_last_line_of_a_good_run() {
    let f = files("good");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    let line = assert_json(
        "sketch",
        &[&a, "--sketch", "sparse-sign", "--rows", "12", "--json"],
        &[
            "sketch",
            "n",
            "d",
            "nnz",
            "m",
            "seconds",
            "distortion",
            "distortion_note",
        ],
    );
    assert!(
        json_num(&line, "distortion").is_some_and(|k| k >= 1.0),
        "{line}"
    );
    assert!(line.contains("\"distortion_note\":null"), "{line}");
    for method in [
        "qr",
        "normal",
        "lsqr",
        "sketch-solve",
        "sketch-precondition",
    ] {
        assert_json(
            "lstsq",
            &[&a, &b, "--method", method, "--json"],
            &[
                "method",
                "n",
                "d",
                "nnz",
                "seconds",
                "iterations",
                "residual_norm",
                "normal_eq_residual",
                "converged",
            ],
        );
    }
    assert_json(
        "lstsq",
        &[&a, &b, "--sketch-rows", "8", "--nnz-per-col", "2", "--json"],
        &["converged"],
    );
    // One iteration at tol 1e-14: the iterative methods run out of iterations, which is a
    // result (`converged: false`, exit 0), not bad input.
    for method in ["lsqr", "sketch-precondition"] {
        let args = [&a, &b, "--method", method, "--max-iters", "1", "--json"];
        assert_json("lstsq", &args, &["normal_eq_residual"]);
        let out = run("lstsq", &args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or_default();
        assert!(last.contains("\"converged\":false"), "{method}: {last}");
        // The human lines come first with `--json` too, as in the other examples.
        assert!(
            stdout.starts_with(&format!("method {method}:"))
                && stdout.contains("not converged: last value of the stopping test"),
            "{method}: {stdout}"
        );
    }
    assert_json(
        "tensor_power",
        &["--synthetic", "10,2,0.1,3", "--json"],
        &["n", "order", "rank", "seconds", "max_factor_error"],
    );
    assert_json(
        "poly_features",
        &[&a, "--degree", "2", "--rows", "16", "--json"],
        &[
            "n",
            "d",
            "nnz",
            "degree",
            "m",
            "seconds",
            "kernel_rel_error",
        ],
    );
}

/// `A.mtx` of [`files`], read by the library, as a dense matrix.
fn dense_a(f: &TempFiles) -> Mat<f64> {
    let a = read_matrix_market_path(f.path("A.mtx"), &ReadOptions::default()).unwrap();
    a.view().unwrap().to_dense().unwrap()
}

/// `--max-elements N` bounds what a file may make the reader allocate, in every example that reads
/// Matrix Market files. `A.mtx` (60 × 4 coordinate, 180 entries) needs `2·60 + 1 + 180 = 301`
/// elements read sparse and `60·4 = 240` read dense (attention; `b.mtx` needs 60): at 239 every
/// example refuses it and names the flag, at 301 every one runs. A header declaring `2²⁸ + 1` rows
/// is beyond the default limit: refused before anything is allocated, naming the flag.
#[test]
fn max_elements_bounds_every_reader_and_is_named_when_exceeded() {
    let f = files("max-elements");
    let huge = f.path("huge.mtx");
    std::fs::write(
        &huge,
        "%%MatrixMarket matrix coordinate real general\n268435457 1 0\n",
    )
    .unwrap();
    let a = f.path("A.mtx");
    for (name, rest) in file_examples(&f) {
        let with = |first: &str, extra: &[&'static str]| {
            let mut args: Vec<String> = vec![first.to_string()];
            args.extend(rest.iter().cloned());
            args.extend(extra.iter().map(|s| s.to_string()));
            args
        };
        let args = with(&a, &["--max-elements", "239", "--json"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = assert_rejected(name, &args);
        assert!(err.contains("--max-elements N, N ≥ "), "{name}: {err}");
        let args = with(&a, &["--max-elements", "301", "--json"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_json(name, &args, &[]);
        let args = with(&huge, &[]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = assert_rejected(name, &args);
        assert!(
            err.contains("limit of 268435456") && err.contains("--max-elements"),
            "{name}: {err}"
        );
    }
    assert_rejected(
        "sketch",
        &[
            &a,
            "--sketch",
            "count",
            "--rows",
            "3",
            "--max-elements",
            "-1",
        ],
    );
}

/// `sketch --seed N --out SA.mtx`: the file holds the library's `m × d` sketch of the same input
/// bit for bit (it is written in shortest round-trip decimals), computed here on one thread
/// against the example's two; the same seed writes the same bytes, another seed different ones;
/// the JSON's distortion is the library's `distortion_on_range`, bit for bit.
#[test]
fn sketch_out_is_the_librarys_sketch_and_follows_the_seed() {
    let f = files("sketch-out");
    let a = f.path("A.mtx");
    let run = |seed: &str, file: &str| {
        let path = f.path(file);
        let line = assert_json(
            "sketch",
            &[
                &a,
                "--sketch",
                "sparse-sign",
                "--rows",
                "12",
                "--seed",
                seed,
                "--out",
                &path,
                "--json",
            ],
            &["distortion"],
        );
        (path, line)
    };
    let (p5, line) = run("5", "SA5.mtx");
    let (p5_again, _) = run("5", "SA5-again.mtx");
    let (p6, _) = run("6", "SA6.mtx");
    let bytes = |p: &str| std::fs::read(p).unwrap();
    assert_eq!(bytes(&p5), bytes(&p5_again), "same seed, same file");
    assert_ne!(bytes(&p5), bytes(&p6), "another seed, another sketch");

    let file = read_matrix_market_path(&a, &ReadOptions::default()).unwrap();
    let view = file.view().unwrap();
    let kind: SketchKind = "sparse-sign".parse().unwrap();
    for (seed, path) in [(5, &p5), (6, &p6)] {
        let op = kind.build::<f64>(12, 60, Seed::new(seed)).unwrap();
        let want = op.apply(view, Par::Seq).unwrap();
        let got = read_dense_path(path, &ReadOptions::default()).unwrap();
        assert_bitwise(&got, &want, &format!("SA.mtx, seed {seed}"));
        if seed == 5 {
            let k = randnla::diagnostics::distortion_on_range(&*op, view, Par::Seq).unwrap();
            assert_eq!(
                json_num(&line, "distortion").unwrap().to_bits(),
                k.to_bits()
            );
        }
    }
}

/// `‖b − Ax‖` and `(AᵀA + λI)⁻¹Aᵀb` computed here: a dense product and Gaussian elimination with
/// partial pivoting on the `d × d` normal equations (well conditioned for the test matrix).
fn residual(a: &Mat<f64>, x: &[f64], b: &[f64]) -> f64 {
    (0..a.nrows())
        .map(|i| b[i] - (0..a.ncols()).map(|j| a[(i, j)] * x[j]).sum::<f64>())
        .map(|r| r * r)
        .sum::<f64>()
        .sqrt()
}

fn ridge_by_normal_equations(a: &Mat<f64>, b: &[f64], lambda: f64) -> Vec<f64> {
    let (n, d) = (a.nrows(), a.ncols());
    let mut m: Vec<Vec<f64>> = (0..d)
        .map(|j| {
            let mut row: Vec<f64> = (0..d)
                .map(|k| (0..n).map(|i| a[(i, j)] * a[(i, k)]).sum::<f64>())
                .collect();
            row[j] += lambda;
            row.push((0..n).map(|i| a[(i, j)] * b[i]).sum());
            row
        })
        .collect();
    for c in 0..d {
        let p = (c..d)
            .max_by(|&r, &s| m[r][c].abs().total_cmp(&m[s][c].abs()))
            .unwrap();
        m.swap(c, p);
        let (top, rest) = m.split_at_mut(c + 1);
        let pivot = &top[c];
        for row in rest {
            let f = row[c] / pivot[c];
            for (v, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                *v -= f * p;
            }
        }
    }
    let mut x = vec![0.0; d];
    for c in (0..d).rev() {
        x[c] = (m[c][d] - (c + 1..d).map(|k| m[c][k] * x[k]).sum::<f64>()) / m[c][c];
    }
    x
}

fn rel_err(x: &[f64], want: &[f64]) -> f64 {
    let num: f64 = x.iter().zip(want).map(|(u, v)| (u - v).powi(2)).sum();
    let den: f64 = want.iter().map(|v| v * v).sum();
    (num / den).sqrt()
}

/// lstsq `--out`, `--ridge`, `--tol`, `--seed`.
/// * `--method qr --out x.mtx`: `x` is the library's `qr_solve` bit for bit, the least-squares
///   solution to 1e-10 relative, and `‖b − Ax‖` recomputed here is the JSON's `residual_norm` to
///   1e-12 relative.
/// * `--ridge 2.5` (QR and the default sketch-and-precondition): `x` solves
///   `(AᵀA + λI)x = Aᵀb` to 1e-10 relative (QR: equals the library's `qr_solve` with λ bit for
///   bit) and is shorter than the least-squares `x`.
/// * `--tol 0.1` stops sketch-and-precondition's LSQR earlier than the default `1e-14`: fewer
///   iterations, and a residual above the least-squares optimum (which is the smallest one).
/// * `--seed`: the same seed gives the same `x` bytes.
#[test]
fn lstsq_out_ridge_and_tol_take_effect() {
    let f = files("lstsq-options");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    let ad = dense_a(&f);
    let bv: Vec<f64> = {
        let m = read_dense_path(&b, &ReadOptions::default()).unwrap();
        (0..m.nrows()).map(|i| m[(i, 0)]).collect()
    };
    let read_x = |p: &str| -> Vec<f64> {
        let m = read_dense_path(p, &ReadOptions::default()).unwrap();
        assert_eq!((m.nrows(), m.ncols()), (4, 1), "{p}");
        (0..4).map(|i| m[(i, 0)]).collect()
    };
    let fields = ["residual_norm", "iterations", "converged"];
    let view_file = read_matrix_market_path(&a, &ReadOptions::default()).unwrap();
    let view = view_file.view().unwrap();
    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();

    // Plain least squares by QR.
    let x_path = f.path("x.mtx");
    let line = assert_json(
        "lstsq",
        &[&a, &b, "--method", "qr", "--out", &x_path, "--json"],
        &fields,
    );
    let x = read_x(&x_path);
    let lib = randnla::lstsq::qr_solve(view, &bv, 0.0, Par::Seq).unwrap();
    assert_eq!(bits(&x), bits(&lib), "qr: x.mtx vs qr_solve");
    let exact = ridge_by_normal_equations(&ad, &bv, 0.0);
    assert!(rel_err(&x, &exact) < 1e-10, "qr: {x:?} vs {exact:?}");
    let optimum = residual(&ad, &x, &bv);
    let reported = json_num(&line, "residual_norm").unwrap();
    assert!(
        (reported - optimum).abs() <= 1e-12 * optimum,
        "{reported} vs {optimum}"
    );

    // Ridge, by QR and by the default method.
    let lambda = 2.5;
    let exact_ridge = ridge_by_normal_equations(&ad, &bv, lambda);
    let norm = |v: &[f64]| v.iter().map(|u| u * u).sum::<f64>().sqrt();
    assert!(norm(&exact_ridge) < norm(&exact));
    for method in ["qr", "sketch-precondition"] {
        let p = f.path(&format!("x-ridge-{method}.mtx"));
        assert_json(
            "lstsq",
            &[
                &a, &b, "--method", method, "--ridge", "2.5", "--out", &p, "--json",
            ],
            &fields,
        );
        let xr = read_x(&p);
        assert!(
            rel_err(&xr, &exact_ridge) < 1e-10,
            "{method} --ridge: {xr:?} vs {exact_ridge:?}"
        );
        if method == "qr" {
            let lib = randnla::lstsq::qr_solve(view, &bv, lambda, Par::Seq).unwrap();
            assert_eq!(bits(&xr), bits(&lib), "qr --ridge: x.mtx vs qr_solve");
        }
    }

    // A loose tolerance stops early; the seed fixes the answer.
    let run = |extra: &[&str], out: &str| {
        let p = f.path(out);
        let mut args = vec![a.as_str(), b.as_str(), "--out", p.as_str(), "--json"];
        args.extend_from_slice(extra);
        (assert_json("lstsq", &args, &fields), read_x(&p))
    };
    let (tight, x_tight) = run(&["--seed", "3"], "x-tight.mtx");
    let (loose, x_loose) = run(&["--seed", "3", "--tol", "0.1"], "x-loose.mtx");
    let (_, x_again) = run(&["--seed", "3"], "x-again.mtx");
    assert_eq!(bits(&x_tight), bits(&x_again), "same seed, same x");
    let it = |line: &str| json_num(line, "iterations").unwrap();
    assert!(it(&loose) < it(&tight), "--tol 0.1: {loose} vs {tight}");
    let (r_loose, r_tight) = (residual(&ad, &x_loose, &bv), residual(&ad, &x_tight, &bv));
    assert!(
        r_loose > optimum * (1.0 + 1e-6) && (r_tight - optimum).abs() <= 1e-12 * optimum,
        "residuals: --tol 0.1 {r_loose}, default {r_tight}, optimum {optimum}"
    );
}

/// poly_features `--gamma`, `--coef0`, `--seed`, `--out`: `F.mtx` is the library's `n × m`
/// feature matrix for the same parameters and seed, bit for bit, and the JSON's
/// `kernel_rel_error` is `‖FFᵀ − K‖_F/‖K‖_F` with `K_ij = (γ⟨x_i, x_j⟩ + c)^p` computed here from
/// the input, to 1e-10 relative. One run per flag, then both with a seed.
#[test]
fn poly_features_gamma_coef0_and_out_take_effect() {
    use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams, TensorMethod};
    let f = files("poly-options");
    let a = f.path("A.mtx");
    let x = dense_a(&f);
    let (n, d, p, m) = (60, 4, 2, 16);
    for (gamma, coef0, seed) in [(0.5, 0.0, 0), (1.0, 1.5, 0), (0.5, 1.5, 3)] {
        let out = f.path(&format!("F-{gamma}-{coef0}-{seed}.mtx"));
        let (g, c, s) = (gamma.to_string(), coef0.to_string(), seed.to_string());
        let mut args = vec![
            a.as_str(),
            "--degree",
            "2",
            "--rows",
            "16",
            "--out",
            &out,
            "--json",
        ];
        if gamma != 1.0 {
            args.extend(["--gamma", g.as_str()]);
        }
        if coef0 != 0.0 {
            args.extend(["--coef0", c.as_str()]);
        }
        if seed != 0 {
            args.extend(["--seed", s.as_str()]);
        }
        let line = assert_json("poly_features", &args, &["kernel_rel_error"]);
        let phi = read_dense_path(&out, &ReadOptions::default()).unwrap();
        let params = PolyKernelParams {
            degree: p,
            sketch_dim: m,
            gamma,
            coef0,
            method: TensorMethod::Fft,
        };
        let want = PolyKernelFeatures::new(d, params, Seed::new(seed))
            .unwrap()
            .transform(MatrixRef::dense(x.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        assert_bitwise(&phi, &want, &format!("{args:?}"));
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for i in 0..n {
            for j in 0..n {
                let dot: f64 = (0..d).map(|k| x[(i, k)] * x[(j, k)]).sum();
                let kij = (gamma * dot + coef0).powi(p as i32);
                let fij: f64 = (0..m).map(|k| phi[(i, k)] * phi[(j, k)]).sum();
                num += (fij - kij).powi(2);
                den += kij * kij;
            }
        }
        let err = (num / den).sqrt();
        let reported = json_num(&line, "kernel_rel_error").unwrap();
        assert!(
            (reported - err).abs() <= 1e-10 * err,
            "{args:?}: reported {reported}, computed {err}"
        );
    }
}

/// `X.mtx`, `y.mtx`: a 400 × 2 pool where only row 0 has the first feature, labels `i mod 7`.
fn write_coherent_pool(f: &TempFiles) {
    let n = 400;
    let mut x = format!("%%MatrixMarket matrix coordinate real general\n{n} 2 {n}\n1 1 1.0\n");
    let mut y = format!("%%MatrixMarket matrix array real general\n{n} 1\n1.0\n");
    for i in 1..n {
        x.push_str(&format!("{} 2 1.0\n", i + 1));
        y.push_str(&format!("{}\n", (i % 7) as f64));
    }
    std::fs::write(f.path("X.mtx"), x).unwrap();
    std::fs::write(f.path("y.mtx"), y).unwrap();
}

/// Active learning on a coherent pool (only row 0 has the first feature): a uniform selection of
/// 2 rows misses it in most trials. The failed trials are counted (`failed_trials`; the mean
/// ratio is then null), and `--out` with no trial that determined β̃ is an error with no file
/// written (it used to leave the file unwritten, or stale, and exit 0).
#[test]
fn active_counts_failed_trials_and_out_needs_a_fitted_trial() {
    let f = files("active-failed");
    write_coherent_pool(&f);
    let (xp, yp, out) = (f.path("X.mtx"), f.path("y.mtx"), f.path("beta.mtx"));
    let common = [&xp[..], &yp, "--budget", "2", "--strategy", "uniform"];
    let args = [&common[..], &["--trials", "6", "--json"]].concat();
    let line = assert_json("active", &args, &["failed_trials", "ratio_mean"]);
    let failed = json_num(&line, "failed_trials").unwrap();
    assert!((1.0..=6.0).contains(&failed), "{line}");
    assert_eq!(json_num(&line, "ratio_mean"), None, "{line}");
    let args = [&common[..], &["--trials", "3", "--out", &out]].concat();
    let msg = assert_rejected("active", &args);
    assert!(msg.contains("not written"), "{msg}");
    assert!(!Path::new(&out).exists());
}

/// A single trial whose labels do not determine β̃ (the coherent pool above: a uniform selection
/// of 2 rows misses row 0, the only one with the first feature) is an error that says so and what
/// to do about it; it used to print the library's bare "matrix is numerically rank deficient:
/// rank 1, 2 required", which reads as if the user's `X` were rank deficient (it has full rank).
#[test]
fn active_single_trial_that_does_not_determine_beta_says_why() {
    let f = files("active-single-failed");
    write_coherent_pool(&f);
    let (xp, yp) = (f.path("X.mtx"), f.path("y.mtx"));
    let args = [&xp[..], &yp, "--budget", "2", "--strategy", "uniform"];
    let msg = assert_rejected("active", &args);
    for piece in ["labels", "determine", "--budget", "--ridge"] {
        assert!(msg.contains(piece), "{piece:?} missing: {msg}");
    }
}

/// Labels that `X` fits exactly (`y = X`, one column, so `OPT = 0`): every selection recovers
/// `β = 1` exactly, `‖Xβ̃ − y‖² = 0 = OPT`, and the ratio is 1. It was reported as ∞ (`inf` in
/// the table, `null` in the JSON, where `null` is documented to mean failed trials, of which
/// there were none).
#[test]
fn active_ratio_is_one_when_the_fit_is_exact_and_opt_is_zero() {
    let f = files("active-opt-zero");
    let n = 50;
    let mut col = format!("%%MatrixMarket matrix array real general\n{n} 1\n");
    for i in 0..n {
        col.push_str(&format!("{}\n", 1.0 + (i % 5) as f64 * 0.5));
    }
    std::fs::write(f.path("X.mtx"), &col).unwrap();
    let xp = f.path("X.mtx");
    for strategy in ["uniform", "leverage", "bss"] {
        let args = [
            &xp[..],
            &xp,
            "--budget",
            "5",
            "--strategy",
            strategy,
            "--trials",
            "3",
            "--json",
        ];
        let line = assert_json("active", &args, &["ratio_median", "ratio_mean"]);
        assert_eq!(json_num(&line, "failed_trials"), Some(0.0), "{line}");
        assert_eq!(json_num(&line, "ratio_median"), Some(1.0), "{line}");
        assert_eq!(json_num(&line, "ratio_mean"), Some(1.0), "{line}");
    }
}

/// `active` reads its labels as an `n × 1` or `1 × n` matrix in either Matrix Market format: the
/// same labels as an array column, an array row, and a coordinate column that leaves its zeros out
/// give the same selection and the same ratio (to the last printed digit), and a 2-column file is
/// refused naming its shape.
#[test]
fn active_reads_labels_as_array_or_coordinate_column_or_row() {
    let f = files("active-label-formats");
    let (n, d) = (40, 3);
    let mut x = format!("%%MatrixMarket matrix array real general\n{n} {d}\n");
    for j in 0..d {
        for i in 0..n {
            x.push_str(&format!("{}\n", ((i * (j + 2) + 3 * j) % 7) as f64 - 3.0));
        }
    }
    std::fs::write(f.path("X.mtx"), &x).unwrap();
    let y: Vec<f64> = (0..n).map(|i| [0.0, 1.5, -2.0, 0.0, 4.0][i % 5]).collect();
    let mut col = format!("%%MatrixMarket matrix array real general\n{n} 1\n");
    let mut row = format!("%%MatrixMarket matrix array real general\n1 {n}\n");
    for v in &y {
        col.push_str(&format!("{v}\n"));
        row.push_str(&format!("{v}\n"));
    }
    let nonzeros: Vec<(usize, f64)> = y
        .iter()
        .copied()
        .enumerate()
        .filter(|p| p.1 != 0.0)
        .collect();
    let mut coo = format!(
        "%%MatrixMarket matrix coordinate real general\n{n} 1 {}\n",
        nonzeros.len()
    );
    for (i, v) in &nonzeros {
        coo.push_str(&format!("{} 1 {v}\n", i + 1));
    }
    let mut lines = Vec::new();
    for (name, text) in [("col.mtx", &col), ("row.mtx", &row), ("coo.mtx", &coo)] {
        std::fs::write(f.path(name), text).unwrap();
        let (xp, yp) = (f.path("X.mtx"), f.path(name));
        let args = [&xp[..], &yp, "--budget", "10", "--trials", "3", "--json"];
        let line = assert_json("active", &args, &["ratio_median", "labels_used"]);
        let ratio = json_num(&line, "ratio_median").unwrap();
        assert!(ratio.is_finite() && ratio >= 1.0, "{name}: {line}");
        lines.push((
            json_num(&line, "labels_used"),
            ratio,
            json_num(&line, "ratio_mean"),
        ));
    }
    assert_eq!(lines[0], lines[1], "array column vs array row");
    assert_eq!(lines[0], lines[2], "array column vs coordinate column");
    let mut two = format!("%%MatrixMarket matrix array real general\n{n} 2\n");
    for v in y.iter().chain(&y) {
        two.push_str(&format!("{v}\n"));
    }
    std::fs::write(f.path("two.mtx"), &two).unwrap();
    let (xp, yp) = (f.path("X.mtx"), f.path("two.mtx"));
    let msg = assert_rejected("active", &[&xp[..], &yp, "--budget", "10"]);
    assert!(msg.contains(&format!("{n}×2")), "{msg}");
}

/// `lstsq` on a rank-deficient `A` (column 1 = 2 × column 0): `qr` and `sketch-solve` refuse it,
/// saying the rank, that the solution is not unique, and which method returns the minimum-norm
/// one; `sketch-precondition` then solves it (through an SVD) to a normal-equation residual at
/// rounding level. The two refusals used to print only "rank 2, 3 required".
#[test]
fn lstsq_rank_deficient_a_points_to_the_minimum_norm_method() {
    let f = files("lstsq-rank-deficient");
    let mut a = String::from("%%MatrixMarket matrix array real general\n6 3\n");
    for j in 0..3 {
        for i in 0..6 {
            let v = match j {
                0 => (i + 1) as f64,
                1 => 2.0 * (i + 1) as f64,
                _ => (i % 2) as f64,
            };
            a.push_str(&format!("{v}\n"));
        }
    }
    std::fs::write(f.path("A.mtx"), &a).unwrap();
    std::fs::write(
        f.path("b.mtx"),
        "%%MatrixMarket matrix array real general\n6 1\n1\n2\n3\n4\n5\n7\n",
    )
    .unwrap();
    let (ap, bp) = (f.path("A.mtx"), f.path("b.mtx"));
    for method in ["qr", "sketch-solve"] {
        let msg = assert_rejected("lstsq", &[&ap[..], &bp, "--method", method]);
        for piece in [
            "rank 2, 3 required",
            "full column rank",
            "minimum-norm",
            "sketch-precondition",
        ] {
            assert!(msg.contains(piece), "{method}: {piece:?} missing: {msg}");
        }
    }
    let args = [&ap[..], &bp, "--method", "sketch-precondition", "--json"];
    let line = assert_json("lstsq", &args, &["normal_eq_residual", "converged"]);
    assert!(line.contains("\"converged\":true"), "{line}");
    assert!(
        json_num(&line, "normal_eq_residual").unwrap() < 1e-12,
        "{line}"
    );
}

/// `sketch`'s output `S·A` is a dense `m × d` matrix, bounded by `--max-elements` as a dense file
/// is: a review found a 60-byte file declaring 10⁸ columns (one entry) read under the default
/// limit, after which `--rows 10` allocated 8 GB (21 GB peak RSS) to sketch it. Here at small
/// scale: a 1 × 1000 file (the reader needs 1000 elements) sketched to 10 rows (10 000 elements)
/// under a limit of 5000 is refused naming the flag and the count; at 10 000 it runs.
#[test]
fn sketch_output_is_bounded_by_max_elements() {
    let f = files("sketch-output-limit");
    let wide = f.path("wide.mtx");
    std::fs::write(
        &wide,
        "%%MatrixMarket matrix coordinate real general\n1 1000 1\n1 1 1.0\n",
    )
    .unwrap();
    let run_with = |input: &[&str], limit: &str| {
        let mut args = input.to_vec();
        args.extend([
            "--sketch",
            "count",
            "--rows",
            "10",
            "--max-elements",
            limit,
            "--json",
        ]);
        if limit == "5000" {
            let err = assert_rejected("sketch", &args);
            assert!(
                err.contains("--max-elements N, N ≥ 10000") && err.contains("10×1000"),
                "{input:?}: {err}"
            );
        } else {
            let line = assert_json("sketch", &args, &["m", "d"]);
            assert!(line.contains("\"d\":1000"), "{line}");
        }
    };
    for input in [&[wide.as_str()][..], &["--generate", "2,1000,1"]] {
        run_with(input, "5000");
        run_with(input, "10000");
    }
}

/// `distortion_note` gives the right reason for an infinite κ(SQ). `A` is `[I₂₀; 0]` (300 × 20,
/// rank 20) and CountSketch with `m = 21 ≥ 20` rows: twenty nonzero rows hashed into 21 buckets
/// collide (for seed 0, as for nearly every seed), so `S·Q` is singular. The note used to blame
/// "m < rank", which is false here; with `m = 10 < 20` it is the reason.
#[test]
fn sketch_names_why_the_distortion_is_infinite() {
    let f = files("sketch-infinite");
    let eye = f.path("eye.mtx");
    let mut text = String::from("%%MatrixMarket matrix coordinate real general\n300 20 20\n");
    for i in 1..=20 {
        text.push_str(&format!("{i} {i} 1.0\n"));
    }
    std::fs::write(&eye, text).unwrap();
    let note = |rows: &str| {
        let line = assert_json(
            "sketch",
            &[&eye, "--sketch", "count", "--rows", rows, "--json"],
            &["distortion", "distortion_note"],
        );
        assert!(line.contains("\"distortion\":null"), "{line}");
        line
    };
    let line = note("21");
    assert!(
        !line.contains("m < rank") && line.contains("m = 21 ≥ rank(A) = 20"),
        "{line}"
    );
    let line = note("10");
    assert!(line.contains("m = 10 < rank(A) = 20"), "{line}");
}

/// `tensor_power --export FILE` wrote FILE (overwriting one that was there) before it looked at
/// `--rank`, `--method`, `--hashing` and the power-method options, so a typo in any of them
/// exited with code 2 *and* had replaced the user's file. Now every option is checked first: a
/// rejected command line exits with code 2, one line on stderr, and leaves FILE as it was.
#[test]
fn tensor_power_rejects_a_bad_option_before_it_exports() {
    let dir = std::env::temp_dir().join(format!("randnla-cli-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.tns");
    std::fs::write(&input, "1 1 1 2\n2 2 2 1\n").unwrap();
    let export = dir.join("kept.tns");
    let before = "# the user's own file\n1 1 1 5\n";
    let input = input.to_string_lossy().into_owned();
    let export_s = export.to_string_lossy().into_owned();
    for bad in [
        &["--method", "exakt"][..],
        &["--rank", "two"],
        &["--hashing", "both"],
        &["--starts", "x"],
        &["--iters", "-1"],
        &["--sketches", "1.5"],
        &["--polish-iters", "many"],
    ] {
        std::fs::write(&export, before).unwrap();
        let mut args = vec!["--tns", input.as_str(), "--export", export_s.as_str()];
        args.extend_from_slice(bad);
        let out = run("tensor_power", &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad:?}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&export).unwrap(),
            before,
            "{bad:?} overwrote the export file; stderr {stderr}"
        );
    }
    // A good command line exports (one line per unordered multi-index, after the header).
    let out = run(
        "tensor_power",
        &["--tns", &input, "--export", &export_s, "--method", "exact"],
    );
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(&export).unwrap();
    assert_eq!(written.lines().count(), 3, "{written}");
    std::fs::remove_dir_all(&dir).ok();
}

/// poly_features' summary line printed a tiny `--gamma` in full: `γ = 0.000…0001` with 320
/// digits for `1e-320`. It now reads `γ = 1e-320`, as the JSON numbers do.
#[test]
fn poly_features_prints_extreme_gamma_compactly() {
    let f = files("poly-gamma-compact");
    let a = f.path("A.mtx");
    dense_a(&f);
    let out = run(
        "poly_features",
        &[
            &a, "--degree", "2", "--rows", "16", "--gamma", "1e-320", "--coef0", "1",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.contains("γ = ")).unwrap();
    assert!(
        line.contains("γ = 1e-320,") && line.len() < 200,
        "summary line: {line}"
    );
}

/// An option given twice kept the last value silently (`--budget 4 --budget 6` bought 6); now
/// every example refuses it, naming both values, before reading any file.
#[test]
fn an_option_given_twice_is_refused() {
    let f = files("twice");
    let a = f.path("A.mtx");
    for (name, rest) in file_examples(&f) {
        let mut args: Vec<&str> = vec![&a];
        args.extend(rest.iter().map(String::as_str));
        args.extend(["--seed", "1", "--seed", "2"]);
        let msg = assert_rejected(name, &args);
        assert!(msg.contains("--seed is given twice"), "{name}: {msg}");
    }
    let msg = assert_rejected(
        "tensor_power",
        &["--synthetic", "20,2", "--synthetic", "30,2"],
    );
    assert!(msg.contains("--synthetic is given twice"), "{msg}");
}

/// An `--out` path that cannot be created is named once in the one-line error (`sketch` and
/// `poly_features` printed it twice: the I/O error already names the file and they prefixed it
/// again).
#[test]
fn an_unwritable_out_path_is_named_once() {
    let f = files("out-once");
    let a = f.path("A.mtx");
    let out = f.path("no-such-dir/x.mtx");
    for (name, extra) in file_examples(&f) {
        if name == "active" {
            continue; // writes only after a fitted trial; covered by its own test
        }
        let mut args: Vec<&str> = vec![&a];
        args.extend(extra.iter().map(String::as_str));
        args.extend(["--out", &out]);
        let line = assert_rejected(name, &args);
        assert_eq!(line.matches(out.as_str()).count(), 1, "{name}: {line}");
    }
}

/// The README's first command, `cargo run --release --example tour`, runs the main job on
/// built-in data: here (test profile, about 17 s on 2 threads) it must exit 0 and print every
/// capability's section — the sketch core, leverage scores, least squares, TensorSketch,
/// polynomial attention, the tensor power method and active learning — each with a table
/// (at least three lines before the next section), no NaN or infinity anywhere, and its
/// closing line. (Its "under a minute in release" is a speed claim, measured, not tested.)
/// The one run also takes `--json`, whose last line must hold exactly the seven sections'
/// timings, in order, and `total_seconds`, at least their sum (one run of the tour instead of two).
#[test]
fn tour_prints_every_capability() {
    let out = run("tour", &["--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tour failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sections = [
        "== sketch core ==",
        "== leverage scores ==",
        "== least squares ==",
        "== tensor sketch ==",
        "== polynomial attention ==",
        "== tensor power method ==",
        "== active learning ==",
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    let starts: Vec<usize> = sections
        .iter()
        .map(|s| {
            lines
                .iter()
                .position(|l| l == s)
                .unwrap_or_else(|| panic!("missing section {s}:\n{stdout}"))
        })
        .collect();
    for (w, s) in starts.windows(2).zip(&sections) {
        assert!(w[1] >= w[0] + 4, "section {s} has no table:\n{stdout}");
    }
    let non_finite = stdout
        .split(|c: char| c.is_whitespace() || c == '/' || c == ',' || c == '(' || c == ')')
        .any(|w| {
            let w = w.trim_start_matches(['-', '+']).to_lowercase();
            w == "nan" || w == "inf" || w == "infinity" || w == "∞"
        });
    assert!(!non_finite, "a non-finite figure:\n{stdout}");
    let (json, closing) = match lines.as_slice() {
        [.., closing, json] => (*json, *closing),
        _ => panic!("too few lines:\n{stdout}"),
    };
    assert!(
        closing.starts_with("tour finished in"),
        "no closing line:\n{stdout}"
    );
    let keys: Vec<&str> = json.split('"').skip(1).step_by(2).collect();
    let names: Vec<&str> = sections
        .iter()
        .map(|s| s.trim_matches(['=', ' ']))
        .chain(["total_seconds"])
        .collect();
    assert_eq!(keys, names, "tour --json keys: {json}");
    let timings: Vec<f64> = names
        .iter()
        .map(|k| json_num(json, k).unwrap_or_else(|| panic!("{k} is null: {json}")))
        .collect();
    let (total, each) = timings.split_last().expect("eight timings");
    assert!(each.iter().all(|t| *t >= 0.0), "{json}");
    assert!(
        *total >= each.iter().sum::<f64>() * (1.0 - 1e-12),
        "total below the sections' sum: {json}"
    );
}

/// The option flags parse with the library's `FromStr` (`--map`, `--method`, `--strategy`,
/// `--basis`, `--hashing`, `--storage`): every name the library's `name()` gives is accepted
/// (exit code 0), and a misspelt value is refused with one line that names the flag, quotes the
/// value and lists every accepted name, so the usage text, the library and the error agree.
#[test]
fn option_flags_take_the_library_names() {
    use randnla::active::{Basis, Strategy};
    use randnla::attention::FeatureMap;
    use randnla::sketch::tensor::TensorMethod;
    use randnla::tensor::{ModeHashing, PowerMethod, TnsStorage};
    let f = files("names");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    let tns = f.path("t.tns");
    std::fs::write(&tns, "1 1 1 2\n2 2 2 1\n3 3 3 0.5\n").unwrap();
    let cases: [(&str, Vec<&str>, &str, Vec<&str>); 7] = [
        (
            "attention",
            vec![&a, &a, &a],
            "map",
            [
                FeatureMap::Gaussian,
                FeatureMap::TensorSketch,
                FeatureMap::Identity,
            ]
            .map(FeatureMap::name)
            .to_vec(),
        ),
        (
            "poly_features",
            vec![&a, "--degree", "2", "--rows", "16"],
            "method",
            [TensorMethod::Fft, TensorMethod::Tree]
                .map(TensorMethod::name)
                .to_vec(),
        ),
        (
            "active",
            vec![&a, &b, "--budget", "8"],
            "strategy",
            [Strategy::Uniform, Strategy::leverage(), Strategy::bss()]
                .iter()
                .map(Strategy::name)
                .collect(),
        ),
        (
            "active",
            vec![&a, &b, "--budget", "8"],
            "basis",
            [
                Basis::Exact,
                Basis::Sketched { sketch_rows: None },
                Basis::AsGiven,
            ]
            .map(Basis::name)
            .to_vec(),
        ),
        (
            "tensor_power",
            vec!["--synthetic", "6,2,0.01,3"],
            "hashing",
            [ModeHashing::Auto, ModeHashing::PerMode, ModeHashing::Shared]
                .map(ModeHashing::name)
                .to_vec(),
        ),
        (
            "tensor_power",
            vec!["--tns", &tns, "--rank", "1"],
            "storage",
            [TnsStorage::Auto, TnsStorage::Dense, TnsStorage::Coordinate]
                .map(TnsStorage::name)
                .to_vec(),
        ),
        (
            "tensor_power",
            vec!["--synthetic", "6,2,0.01,3"],
            "method",
            [PowerMethod::Exact, PowerMethod::Sketched]
                .map(PowerMethod::name)
                .to_vec(),
        ),
    ];
    for (example, base, flag, names) in cases {
        let option = format!("--{flag}");
        for name in &names {
            let mut args = base.clone();
            args.extend([option.as_str(), name]);
            let out = run(example, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{example} {args:?}: {stderr}");
        }
        let mut args = base.clone();
        args.extend([option.as_str(), "Bogus"]);
        let msg = assert_rejected(example, &args);
        assert!(msg.contains(&format!("{option} Bogus")), "{msg}");
        for name in &names {
            assert!(msg.contains(name), "{example} {option}: {msg} lacks {name}");
        }
    }
    // Options that do not apply to a value are refused however the value is spelt: `--map
    // Identity` (any case parses) with `--sketch-dim` was accepted and the dimension ignored.
    for spelling in ["identity", "Identity", "IDENTITY"] {
        let msg = assert_rejected(
            "attention",
            &[&a, &a, &a, "--map", spelling, "--sketch-dim", "8"],
        );
        assert!(msg.contains("does not apply to --map identity"), "{msg}");
    }
    let msg = assert_rejected(
        "tensor_power",
        &[
            "--synthetic",
            "6,2,0.01,3",
            "--method",
            "Exact",
            "--sketches",
            "4",
        ],
    );
    assert!(msg.contains("--sketches"), "{msg}");
}
