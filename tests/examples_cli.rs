//! The examples' command-line contract (DESIGN.md, issue #2 item 7): bad input gives exactly one
//! line on stderr and exit code 2, never a panic; `--json` prints one JSON object as the last line
//! of stdout.
//!
//! `cargo test` (and `cargo nextest run`) build the examples next to the test binaries, under
//! `target/<profile>/examples/`; the test runs them from there. `cargo test --test examples_cli`
//! alone does not rebuild the examples, so it runs whatever example binaries the last full build
//! left.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/examples_cli-<hash> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().expect("path of the test binary");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/")
        .join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test` (all targets), which builds the examples",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the example starts")
}

/// Exit code 2, one line on stderr starting with `error:`, and nothing that looks like a panic.
fn assert_rejected(name: &str, args: &[&str]) {
    let out = run(name, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let what = format!("{name} {args:?}");
    assert_eq!(out.status.code(), Some(2), "{what}: stderr {stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{what}: stderr {stderr:?}");
    assert!(stderr.starts_with("error: "), "{what}: stderr {stderr:?}");
    assert!(!stderr.contains("panicked"), "{what}: stderr {stderr:?}");
}

/// Exit code 0 and a last stdout line that is one JSON object carrying `fields`.
fn assert_json(name: &str, args: &[&str], fields: &[&str]) {
    let out = run(name, args);
    let what = format!("{name} {args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{what}: stderr {stderr:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with('{') && last.ends_with('}') && last.matches('{').count() == 1,
        "{what}: last line {last:?}"
    );
    for f in fields {
        assert!(
            last.contains(&format!("\"{f}\":")),
            "{what}: no {f} in {last}"
        );
    }
}

struct Files {
    dir: PathBuf,
}

impl Files {
    /// Files in a directory of their own (`tag` keeps the tests, which run in parallel, apart).
    fn new(tag: &str) -> Files {
        let dir =
            std::env::temp_dir().join(format!("randnla-examples-cli-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A 60 × 4 sparse matrix with three entries a row (full column rank), a right-hand side,
        // a label vector for active learning, and inputs that must be rejected.
        let mut a = String::from("%%MatrixMarket matrix coordinate real general\n60 4 180\n");
        for i in 0..60 {
            for k in 0..3 {
                let j = (i + k) % 4;
                let v = 1.0 + ((i * 7 + j * 3) % 11) as f64 / 4.0;
                a.push_str(&format!("{} {} {v}\n", i + 1, j + 1));
            }
        }
        let mut b = String::from("%%MatrixMarket matrix array real general\n60 1\n");
        for i in 0..60 {
            b.push_str(&format!("{}\n", ((i * 5) % 13) as f64 - 6.0));
        }
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
        Files { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Each file-reading example with the arguments it needs besides its input files.
fn file_examples(f: &Files) -> Vec<(&'static str, Vec<String>)> {
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
    let f = Files::new("bad");
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
    assert_rejected("lstsq", &[&a, &b, "--ridge", "-1"]);
    assert_rejected("lstsq", &[&a, &a]);
    assert_rejected(
        "sketch",
        &[&a, "--sketch", "sparse-sign", "--rows", "0", "--json"],
    );
    assert_rejected("poly_features", &[&a, "--degree", "0", "--rows", "16"]);
    // The tensor power method reads FROSTT `.tns` files (or makes a synthetic tensor).
    let tns = f.dir.join("bad.tns");
    for text in ["1 1 1 nan\n", "1 1 1 2.0\n0 1 1 1.0\n", "1 1\n"] {
        std::fs::write(&tns, text).unwrap();
        assert_rejected("tensor_power", &["--tns", &tns.to_string_lossy()]);
    }
    assert_rejected("tensor_power", &["--tns", &f.path("missing.tns")]);
    assert_rejected("tensor_power", &["--synthetic", "1,2"]);
    assert_rejected("tensor_power", &[]);
}

#[test]
fn json_is_the_last_line_of_a_good_run() {
    let f = Files::new("good");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    assert_json(
        "sketch",
        &[&a, "--sketch", "sparse-sign", "--rows", "12", "--json"],
        &["sketch", "n", "d", "nnz", "m", "seconds", "distortion"],
    );
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
