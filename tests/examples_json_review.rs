//! Review of the examples' `--json` figures against the library (the examples are thin wrappers:
//! each figure they print must be what the library computes for the same input, options and
//! seed). For every example: a small input written with `randnla::io` from `randnla::problems`
//! generators, a run with `--json --seed N`, the last stdout line parsed by a strict JSON parser
//! (no `NaN`, `inf`, `+1`, `.5`; every number printed in the shortest round-trip form the
//! examples' `cli::compact` promises), and then the library call the example wraps, made here
//! with the same parameters and seed derivation:
//!
//! * deterministic figures (`n`, `d`, `nnz`, `m`, `degree`, `rank`, `iterations`,
//!   `residual_norm`, `normal_eq_residual`, `stopping_test`, `distortion`, `kernel_rel_error`,
//!   `sum_of_scores`, `max_score`, `max_rel_error`, `median_rel_error`, `rel_error`, `r`,
//!   `workspace_bytes`, `contractions`, `max_factor_error`, `residual_rel`, `labels_used`,
//!   `ratio`, …) equal the library's bit for bit;
//! * files written by `--out` (`--factors-out`, `--export`) equal the library's result bit for
//!   bit after the Matrix Market round trip (`io` writes shortest round-trip decimals), and
//!   tensor_power's weights (printed in its table, not in the JSON) are the library's;
//! * `--threads 1` and `--threads 2` print the same figures (timings, and the figures documented
//!   to depend on the thread count — attention's `peak_bytes` and `workspace_bytes` — aside);
//! * the printed fields are exactly the ones each example's documentation lists;
//! * strings stay well-formed JSON with input paths holding quotes, backslashes, spaces and
//!   non-ASCII characters, and bad input (such a path missing, a path with a newline, an unknown
//!   flag) is one line on stderr with exit code 2; `--help` exits 0 with the usage on stdout.
//!
//! `tour --json` holds timings only: its fields are checked in `tests/examples_cli.rs`, in the
//! same run of the tour as its tables.
//!
//! What `tests/examples_cli.rs` and `tests/examples_issue_fields.rs` already pin (sparse sign
//! `--out` at seed 5/6 on two threads, lstsq `--method qr --out`, poly_features `--out` and its
//! kernel error recomputed by hand, the field types) is not repeated here.
//!
//! Like those files, this runs the example binaries under `target/<profile>/examples/`: run
//! `cargo build --examples` (or a full `cargo test`) first.

use crate::common;
use common::json::{self, J};

use common::{assert_bitwise, assert_example_rejected as rejected, example, TempFiles};
use faer::{Mat, Par};
use randnla::input::SparseRef;
use randnla::io::{read_dense_path, read_matrix_market_path, write_dense_path, ReadOptions};
use randnla::sketch::{SketchExt, SketchKind};
use randnla::{MatrixRef, Seed};
use std::process::Command;

/// The examples' number format (`cli::compact`): exponent form below 10⁻⁴ and from 10¹⁵ on,
/// plain otherwise — Rust's shortest round-trip forms.
fn compact(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-4..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A parsed `--json` line: its fields in printed order.
#[derive(Debug, Clone)]
struct Report {
    what: String,
    fields: Vec<(String, J)>,
}

impl Report {
    fn parse(what: &str, line: &str) -> Report {
        let fields = match json::parse(line) {
            Ok(J::Obj(m)) => m,
            other => panic!("{what}: last line {line:?} is not one JSON object: {other:?}"),
        };
        // Every number is printed as `compact` prints it: the shortest form that reads back to
        // the same f64, so the figures compare bit for bit.
        fn check_numbers(what: &str, fields: &[(String, J)]) {
            for (k, v) in fields {
                match v {
                    J::Num(x, text) => assert_eq!(
                        text,
                        &compact(*x),
                        "{what}: {k} printed as {text}, not in the round-trip form"
                    ),
                    J::Obj(inner) => check_numbers(what, inner),
                    _ => {}
                }
            }
        }
        check_numbers(what, &fields);
        Report {
            what: what.to_string(),
            fields,
        }
    }
    fn get(&self, key: &str) -> &J {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("{}: no field {key} in {:?}", self.what, self.fields))
    }
    /// A number field; `None` for null.
    fn num(&self, key: &str) -> Option<f64> {
        match self.get(key) {
            J::Num(v, _) => Some(*v),
            J::Null => None,
            other => panic!("{}: {key} = {other:?} is not a number or null", self.what),
        }
    }
    /// A number field that must be present.
    fn f(&self, key: &str) -> f64 {
        self.num(key)
            .unwrap_or_else(|| panic!("{}: {key} is null", self.what))
    }
    /// A count field.
    fn int(&self, key: &str) -> u64 {
        let v = self.f(key);
        assert!(
            v >= 0.0 && v.fract() == 0.0,
            "{}: {key} = {v} is not a count",
            self.what
        );
        v as u64
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            J::Str(s) => Some(s),
            J::Null => None,
            other => panic!("{}: {key} = {other:?} is not a string or null", self.what),
        }
    }
    fn bool(&self, key: &str) -> bool {
        match self.get(key) {
            J::Bool(b) => *b,
            other => panic!("{}: {key} = {other:?} is not a boolean", self.what),
        }
    }
    fn keys(&self) -> Vec<&str> {
        self.fields.iter().map(|(k, _)| k.as_str()).collect()
    }
    /// `key` equals `want` bit for bit (both null when `want` is `None`).
    fn assert_bits(&self, key: &str, want: Option<f64>) {
        let got = self.num(key);
        assert_eq!(
            got.map(f64::to_bits),
            want.map(f64::to_bits),
            "{}: {key} = {got:?}, the library's {want:?}",
            self.what
        );
    }
    /// The figures other than the `skip`ped ones (timings), for comparing two runs.
    fn figures(&self, skip: &[&str]) -> Vec<(String, J)> {
        self.fields
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

/// Fields that are wall or CPU times, different on every run.
const TIMINGS: &[&str] = &[
    "seconds",
    "pool_seconds",
    "build_seconds",
    "refine_seconds",
    "cpu_seconds",
    "total_seconds",
];

// ---------------------------------------------------------------------------------------------
// Running the examples.

/// Runs `name` with `args`; exit code 0 and a JSON last line; the parsed report.
fn json(name: &str, args: &[&str]) -> Report {
    let out = Command::new(example(name))
        .args(args)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the example starts");
    let what = format!("{name} {args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{what}: stderr {stderr:?}");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    let last = lines.last().copied().unwrap_or_default();
    // Exactly one JSON object: the last line, and no other line that starts one.
    assert!(
        lines[..lines.len().saturating_sub(1)]
            .iter()
            .all(|l| !l.starts_with('{')),
        "{what}: more than one JSON line in {stdout:?}"
    );
    Report::parse(&what, last)
}

/// Runs `name` with `args` plus `--json --threads 1` and `--json --threads 2`, asserts that the
/// two print the same figures apart from timings and `also_skip`, and returns both reports. With
/// `out = Some((flag, base))` each run also writes `flag base.t1` (`.t2`); the paths are returned.
fn json_both(
    name: &str,
    args: &[&str],
    out: Option<(&str, &str)>,
    also_skip: &[&str],
) -> [(Report, String); 2] {
    let with = |t: &'static str| {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(["--json", "--threads", t].map(String::from));
        let path = out.map_or(String::new(), |(_, base)| format!("{base}.t{t}"));
        if let Some((flag, _)) = out {
            a.extend([flag.to_string(), path.clone()]);
        }
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        (json(name, &a), path)
    };
    let (one, two) = (with("1"), with("2"));
    let skip: Vec<&str> = TIMINGS.iter().chain(also_skip).copied().collect();
    assert_eq!(
        one.0.figures(&skip),
        two.0.figures(&skip),
        "{name} {args:?}: --threads 1 and --threads 2 print different figures"
    );
    [one, two]
}

/// Files in a directory of their own.
fn files(tag: &str) -> TempFiles {
    TempFiles::new("randnla-examples-json-review", tag)
}

/// Writes a CSR matrix as a Matrix Market coordinate file.
fn write_sparse(path: &str, a: &sprs::CsMat<f64>) {
    randnla::io::write_sparse_path(path, &SparseRef::from_sprs(a.view()).unwrap()).unwrap();
}

/// Writes `v` as an `n × 1` Matrix Market array.
fn write_column(path: &str, v: &[f64]) {
    let m = Mat::from_fn(v.len(), 1, |i, _| v[i]);
    write_dense_path(path, m.as_ref()).unwrap();
}

/// An `n × 1` (or `1 × n`) array file as a vector.
fn read_column(path: &str) -> Vec<f64> {
    let m = read_dense_path(path, &ReadOptions::default()).unwrap();
    assert!(m.ncols() == 1, "{path}: {}×{}", m.nrows(), m.ncols());
    (0..m.nrows()).map(|i| m[(i, 0)]).collect()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A 2-thread rayon pool running `f` with `Par::rayon(2)`, as the examples run `--threads 2`.
fn on_two_threads<R: Send>(f: impl FnOnce(Par) -> R + Send) -> R {
    common::with_threads(2, f)
}

/// The test problems: a sparse `A` (240 × 6, 3 nonzeros a row), a dense one (200 × 5), and a
/// right-hand side for each, written as `A_sparse.mtx`, `A_dense.mtx`, `b_sparse.mtx`,
/// `b_dense.mtx`.
fn write_problems(f: &TempFiles) {
    let a = randnla::problems::random_sparse(240, 6, 3, Seed::new(11)).unwrap();
    write_sparse(&f.path("A_sparse.mtx"), &a);
    let g = randnla::problems::gaussian_matrix(200, 5, Seed::new(12)).unwrap();
    write_dense_path(f.path("A_dense.mtx"), g.as_ref()).unwrap();
    write_column(&f.path("b_sparse.mtx"), &common::rhs(240, 13));
    write_column(&f.path("b_dense.mtx"), &common::rhs(200, 14));
}

/// A Matrix Market file as the examples read it.
fn read(path: &str) -> randnla::io::MatrixMarket {
    read_matrix_market_path(path, &ReadOptions::default()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// sketch

/// `sketch`, every kind, on a sparse (CSR) and a dense `A`, on one thread and on two: `--out` is
/// the library's `S·A` (`SketchKind::build(m, n, seed).apply`) and `distortion` its
/// `distortion_on_range`, bit for bit; `sketch` is the operator's name; `n, d, nnz, m` are the
/// input's and `--rows`; the default `s = 8` of sparse sign is capped at `--rows`.
#[test]
fn sketch_figures_and_out_are_the_librarys() {
    let f = files("sketch");
    write_problems(&f);
    for input in ["A_sparse.mtx", "A_dense.mtx"] {
        let path = f.path(input);
        let file = read(&path);
        let a = file.view().unwrap();
        let cases: [(&str, SketchKind, usize, &[&str]); 6] = [
            ("count", SketchKind::CountSketch, 24, &[]),
            (
                "sparse-sign",
                SketchKind::SparseSign { nnz_per_col: 8 },
                24,
                &[],
            ),
            // The default s = 8 capped at m = 7.
            (
                "sparse-sign",
                SketchKind::SparseSign { nnz_per_col: 7 },
                7,
                &[],
            ),
            (
                "sparse-sign",
                SketchKind::SparseSign { nnz_per_col: 3 },
                24,
                &["--nnz-per-col", "3"],
            ),
            ("gaussian", SketchKind::Gaussian, 24, &[]),
            ("srht", SketchKind::Srht, 24, &[]),
        ];
        for (i, (name, kind, m, extra)) in cases.into_iter().enumerate() {
            let seed = 9 + i as u64;
            let (ms, ss) = (m.to_string(), seed.to_string());
            let mut args = vec![
                path.as_str(),
                "--sketch",
                name,
                "--rows",
                &ms,
                "--seed",
                &ss,
            ];
            args.extend_from_slice(extra);
            let base = f.path(&format!("SA-{input}-{i}"));
            let runs = json_both("sketch", &args, Some(("--out", &base)), &[]);
            let op = kind.build::<f64>(m, a.nrows(), Seed::new(seed)).unwrap();
            let want = op.apply(a, Par::Seq).unwrap();
            let kappa = randnla::diagnostics::distortion_on_range(&*op, a, Par::Seq).unwrap();
            for (r, out) in &runs {
                let got = read_dense_path(out, &ReadOptions::default()).unwrap();
                assert_bitwise(&got, &want, &r.what);
                assert_eq!(r.str("sketch"), Some(op.name()), "{}", r.what);
                assert_eq!(r.int("n"), a.nrows() as u64, "{}", r.what);
                assert_eq!(r.int("d"), a.ncols() as u64, "{}", r.what);
                assert_eq!(r.int("nnz"), a.nnz() as u64, "{}", r.what);
                assert_eq!(r.int("m"), m as u64, "{}", r.what);
                assert!(kappa.is_finite(), "{}: κ {kappa}", r.what);
                r.assert_bits("distortion", Some(kappa));
                assert_eq!(r.str("distortion_note"), None, "{}", r.what);
            }
        }
    }
}

/// `sketch --generate n,d,k` sketches the library's `random_sparse(n, d, k, Seed::new(7))`, as
/// its documentation says: `nnz` and `S·A` are those of that matrix.
#[test]
fn sketch_generate_is_the_librarys_random_sparse() {
    let f = files("sketch-generate");
    let out = f.path("SA.mtx");
    let r = json(
        "sketch",
        &[
            "--generate",
            "300,5,2",
            "--sketch",
            "count",
            "--rows",
            "20",
            "--seed",
            "4",
            "--out",
            &out,
            "--json",
        ],
    );
    let a = randnla::problems::random_sparse(300, 5, 2, Seed::new(7)).unwrap();
    let a = MatrixRef::sparse(&a).unwrap();
    let op = SketchKind::CountSketch
        .build::<f64>(20, 300, Seed::new(4))
        .unwrap();
    let got = read_dense_path(&out, &ReadOptions::default()).unwrap();
    assert_bitwise(&got, &op.apply(a, Par::Seq).unwrap(), &r.what);
    assert_eq!(
        (r.int("n"), r.int("d"), r.int("nnz")),
        (300, 5, a.nnz() as u64)
    );
    let kappa = randnla::diagnostics::distortion_on_range(&*op, a, Par::Seq).unwrap();
    r.assert_bits("distortion", Some(kappa));
}

// ---------------------------------------------------------------------------------------------
// lstsq

/// `‖b − Ax‖` as `examples/lstsq.rs` computes it (its `residual_norm`: the residual accumulated
/// column by column, or entry by entry in storage order, then faer's scaled `norm_l2`).
fn example_residual_norm(a: MatrixRef<'_, f64>, x: &[f64], b: &[f64]) -> f64 {
    let mut r = b.to_vec();
    match a {
        MatrixRef::Dense(m) => {
            for j in 0..m.ncols() {
                for (i, ri) in r.iter_mut().enumerate() {
                    *ri -= m[(i, j)] * x[j];
                }
            }
        }
        MatrixRef::Sparse(s) => {
            for k in 0..s.outer_dim() {
                let (idx, val) = s.outer(k);
                for (&i, &v) in idx.iter().zip(val) {
                    match s.layout() {
                        randnla::Layout::Csr => r[k] -= v * x[i],
                        randnla::Layout::Csc => r[i] -= v * x[k],
                    }
                }
            }
        }
    }
    faer::ColRef::from_slice(&r).norm_l2()
}

/// What the library returns for one lstsq command line: `x` (or the stopping value when it
/// ran out of iterations), and the `Info` figures the example prints.
struct LstsqWant {
    x: Option<Vec<f64>>,
    iterations: Option<f64>,
    probe_iterations: Option<f64>,
    preconditioner: Option<&'static str>,
    converged: bool,
    stopping_test: Option<f64>,
}

/// The library call `examples/lstsq.rs` makes for `method` (default parameters unless given).
#[allow(clippy::too_many_arguments)]
fn lstsq_library(
    method: &str,
    a: MatrixRef<'_, f64>,
    b: &[f64],
    lambda: f64,
    seed: u64,
    probe: bool,
    max_iters: Option<usize>,
    par: Par,
) -> LstsqWant {
    use randnla::lstsq::*;
    let direct = |x: Vec<f64>| LstsqWant {
        x: Some(x),
        iterations: None,
        probe_iterations: None,
        preconditioner: None,
        converged: true,
        stopping_test: None,
    };
    let iterative = |r: randnla::Result<(Vec<f64>, Info)>, is_lsqr: bool| match r {
        Ok((x, info)) => LstsqWant {
            x: Some(x),
            iterations: Some(info.iterations as f64),
            probe_iterations: (!is_lsqr).then_some(info.probe_iterations as f64),
            preconditioner: info.factorization.map(|f| match f {
                Factorization::Diagonal => "diagonal",
                Factorization::Svd => "svd",
                Factorization::Qr | Factorization::Auto => "qr",
                other => panic!("no expected name for {other:?}"),
            }),
            converged: info.converged,
            stopping_test: None,
        },
        Err(randnla::Error::NotConverged {
            iterations,
            residual,
            ..
        }) => LstsqWant {
            x: None,
            iterations: Some(iterations as f64),
            probe_iterations: None,
            preconditioner: None,
            converged: false,
            stopping_test: Some(residual),
        },
        Err(e) => panic!("{method}: {e}"),
    };
    match method {
        "qr" => direct(qr_solve(a, b, lambda, par).unwrap()),
        "normal" => direct(normal_equations(a, b, lambda, par).unwrap()),
        "sketch-solve" => {
            let p = SketchSolveParams {
                sketch: SketchKind::SparseSign {
                    nnz_per_col: LstsqParams::default().nnz_per_col,
                },
                sketch_rows: None,
                seed: Seed::new(seed),
                par,
            };
            direct(sketch_and_solve(a, b, &p).unwrap().0)
        }
        "lsqr" => {
            let p = LsqrParams {
                tol: LstsqParams::default().tol,
                ridge: lambda,
                par,
                max_iters: max_iters.unwrap_or(LsqrParams::default().max_iters),
            };
            iterative(lsqr(a, b, &p), true)
        }
        "sketch-precondition" => {
            let p = LstsqParams {
                ridge: lambda,
                seed: Seed::new(seed),
                par,
                max_iters: max_iters.unwrap_or(LstsqParams::default().max_iters),
                probe,
                ..Default::default()
            };
            iterative(sketch_and_precondition(a, b, &p), false)
        }
        other => panic!("{other}"),
    }
}

/// Checks an lstsq report (and its `--out` file) against the library's answer.
fn check_lstsq(
    r: &Report,
    out: &str,
    want: &LstsqWant,
    a: MatrixRef<'_, f64>,
    b: &[f64],
    lambda: f64,
) {
    let what = &r.what;
    assert_eq!(r.int("n"), a.nrows() as u64, "{what}");
    assert_eq!(r.int("d"), a.ncols() as u64, "{what}");
    assert_eq!(r.int("nnz"), a.nnz() as u64, "{what}");
    r.assert_bits("iterations", want.iterations);
    r.assert_bits("probe_iterations", want.probe_iterations);
    assert_eq!(r.str("preconditioner"), want.preconditioner, "{what}");
    assert_eq!(r.bool("converged"), want.converged, "{what}");
    r.assert_bits("stopping_test", want.stopping_test);
    match &want.x {
        Some(x) => {
            assert_eq!(
                bits(&read_column(out)),
                bits(x),
                "{what}: x.mtx vs the library's x"
            );
            r.assert_bits("residual_norm", Some(example_residual_norm(a, x, b)));
            let ner =
                randnla::lstsq::ridge_normal_equation_residual(a, x, b, lambda, Par::Seq).unwrap();
            r.assert_bits("normal_eq_residual", Some(ner));
        }
        None => {
            assert!(!std::path::Path::new(out).exists(), "{what}: {out} written");
            r.assert_bits("residual_norm", None);
            r.assert_bits("normal_eq_residual", None);
        }
    }
}

/// `lstsq`, every method, on a sparse, a dense, an ill-conditioned, a rank-deficient and a
/// badly column-scaled `A` (so that every `preconditioner` value occurs), plain and with
/// `--ridge`, on one thread and on two, and with `b` as a coordinate file: `--out` is the library's
/// `x` bit for bit; `iterations`, `probe_iterations`, `preconditioner`, `converged`,
/// `stopping_test` are its `Info`'s (or its `NotConverged`'s); `residual_norm` is `‖b − Ax‖` of
/// that `x` and `normal_eq_residual` the library's `ridge_normal_equation_residual`. The baseline
/// `qr_solve` is documented to change its bits with the thread count: its `--threads 2` run is
/// compared with the library on two threads.
#[test]
fn lstsq_figures_and_out_are_the_librarys() {
    let f = files("lstsq");
    write_problems(&f);
    // An ill-conditioned dense problem: the probe gives up and sketch-precondition sketches.
    let (ill, ill_b, _, _) =
        randnla::problems::ls_problem(200, 5, 1e8, 1e-3, Seed::new(15)).unwrap();
    write_dense_path(f.path("A_ill.mtx"), ill.as_ref()).unwrap();
    write_column(&f.path("b_ill.mtx"), &ill_b);
    // A rank-deficient dense problem (the last column is the sum of the first two): the
    // sketched preconditioner is then an SVD (`preconditioner: "svd"`).
    let g = randnla::problems::gaussian_matrix(200, 3, Seed::new(16)).unwrap();
    let rd = Mat::from_fn(200, 4, |i, j| match j {
        3 => g[(i, 0)] + g[(i, 1)],
        j => g[(i, j)],
    });
    write_dense_path(f.path("A_rd.mtx"), rd.as_ref()).unwrap();
    // Column norms 1000× apart: the probe solves it with equilibrated columns (`"diagonal"`).
    let g = randnla::problems::gaussian_matrix(200, 4, Seed::new(17)).unwrap();
    let sc = Mat::from_fn(
        200,
        4,
        |i, j| if j == 2 { 1e3 * g[(i, j)] } else { g[(i, j)] },
    );
    write_dense_path(f.path("A_scaled.mtx"), sc.as_ref()).unwrap();
    let mut preconditioners = std::collections::BTreeSet::new();
    for (ap, bp) in [
        ("A_sparse.mtx", "b_sparse.mtx"),
        ("A_dense.mtx", "b_dense.mtx"),
        ("A_ill.mtx", "b_ill.mtx"),
        ("A_rd.mtx", "b_dense.mtx"),
        ("A_scaled.mtx", "b_dense.mtx"),
    ] {
        let (apath, bpath) = (f.path(ap), f.path(bp));
        let file = read(&apath);
        let a = file.view().unwrap();
        let b = read_column(&bpath);
        let mut cases: Vec<(&str, f64, Vec<&str>)> = vec![
            ("qr", 0.0, vec![]),
            ("normal", 0.0, vec![]),
            ("lsqr", 0.0, vec![]),
            ("sketch-solve", 0.0, vec![]),
            ("sketch-precondition", 0.0, vec![]),
            ("sketch-precondition", 0.0, vec!["--no-probe"]),
            ("sketch-precondition", 0.75, vec![]),
            ("lsqr", 0.75, vec![]),
            ("normal", 0.75, vec![]),
            // Out of iterations: a result with no iterate.
            ("lsqr", 0.0, vec!["--max-iters", "2"]),
            (
                "sketch-precondition",
                0.0,
                vec!["--no-probe", "--max-iters", "1"],
            ),
        ];
        if ap == "A_ill.mtx" {
            // The baselines that square κ or stall are not the point on this one.
            cases.retain(|(m, _, _)| m.starts_with("sketch"));
        }
        if ap == "A_rd.mtx" {
            // QR and the normal equations refuse a rank-deficient A (exit code 2).
            cases.retain(|(m, _, _)| !matches!(*m, "qr" | "normal"));
        }
        for (i, (method, lambda, extra)) in cases.into_iter().enumerate() {
            let ls = lambda.to_string();
            let mut args = vec![apath.as_str(), bpath.as_str(), "--method", method];
            if lambda != 0.0 {
                args.extend(["--ridge", &ls]);
            }
            let sketched = method.starts_with("sketch");
            if sketched {
                args.extend(["--seed", "21"]);
            }
            args.extend_from_slice(&extra);
            let probe = !extra.contains(&"--no-probe");
            let max_iters = extra
                .iter()
                .position(|&e| e == "--max-iters")
                .map(|k| extra[k + 1].parse().unwrap());
            let base = f.path(&format!("x-{ap}-{i}"));
            let skip: &[&str] = if method == "qr" {
                &["residual_norm", "normal_eq_residual"]
            } else {
                &[]
            };
            let [(one, out1), (two, out2)] =
                json_both("lstsq", &args, Some(("--out", &base)), skip);
            assert_eq!(one.str("method"), Some(method));
            let want = lstsq_library(method, a, &b, lambda, 21, probe, max_iters, Par::Seq);
            preconditioners.insert(want.preconditioner);
            check_lstsq(&one, &out1, &want, a, &b, lambda);
            if i == 0 {
                // The same right-hand side as a coordinate (sparse) file: the same x.
                let sparse_b = f.path(&format!("b-coo-{ap}"));
                let coo = sprs::TriMat::from_triplets(
                    (b.len(), 1),
                    (0..b.len()).collect(),
                    vec![0; b.len()],
                    b.clone(),
                )
                .to_csr::<usize>();
                write_sparse(&sparse_b, &coo);
                let mut coo_args = args.clone();
                coo_args[1] = &sparse_b;
                let out = f.path(&format!("x-coo-{ap}"));
                coo_args.extend(["--threads", "1", "--out", &out, "--json"]);
                check_lstsq(&json("lstsq", &coo_args), &out, &want, a, &b, lambda);
            }
            if method == "qr" {
                let want2 = on_two_threads(|par| {
                    lstsq_library(method, a, &b, lambda, 21, probe, max_iters, par)
                });
                check_lstsq(&two, &out2, &want2, a, &b, lambda);
            } else {
                check_lstsq(&two, &out2, &want, a, &b, lambda);
            }
        }
    }
    // Every `preconditioner` value was exercised.
    assert_eq!(
        preconditioners,
        [None, Some("diagonal"), Some("qr"), Some("svd")]
            .into_iter()
            .collect(),
        "preconditioners seen"
    );
}

// ---------------------------------------------------------------------------------------------
// leverage

/// The example's `median` (`cli::median`): the middle value, or `lo/2 + hi/2` of the two middle
/// ones.
fn example_median(sorted: &[f64]) -> Option<f64> {
    let k = sorted.len();
    match k {
        0 => None,
        _ if k % 2 == 1 => Some(sorted[k / 2]),
        _ => Some(sorted[k / 2 - 1] / 2.0 + sorted[k / 2] / 2.0),
    }
}

/// `leverage`, approximate and exact, plain and ridge, on a sparse and a dense `A`, on one
/// thread and on two, with `--check`: `--out` is the library's scores bit for bit;
/// `sum_of_scores`, `max_score`, `rank`, `algorithm`, `n`, `d`, `nnz` are its `LeverageInfo`'s;
/// `max_rel_error` and `median_rel_error` are recomputed from the library's exact Householder
/// scores, bit for bit; `lambda` is `--ridge`.
#[test]
fn leverage_figures_and_out_are_the_librarys() {
    use randnla::leverage::*;
    let f = files("leverage");
    write_problems(&f);
    for input in ["A_sparse.mtx", "A_dense.mtx"] {
        let path = f.path(input);
        let file = read(&path);
        let a = file.view().unwrap();
        for (i, (method, lambda)) in [
            ("approx", 0.0),
            ("exact", 0.0),
            ("approx", 2.5),
            ("exact", 2.5),
        ]
        .into_iter()
        .enumerate()
        {
            let ls = lambda.to_string();
            let args = [
                path.as_str(),
                "--method",
                method,
                "--ridge",
                &ls,
                "--seed",
                "17",
                "--check",
            ];
            let base = f.path(&format!("scores-{input}-{i}"));
            let runs = json_both("leverage", &args, Some(("--out", &base)), &[]);
            let seed = Seed::new(17);
            let (scores, info) = if method == "exact" {
                let p = ExactParams {
                    seed,
                    ..Default::default()
                };
                exact_ridge_leverage_scores(a, lambda, &p, Par::Seq).unwrap()
            } else {
                approx_ridge_leverage_scores(a, lambda, &ApproxParams::default(), seed, Par::Seq)
                    .unwrap()
            };
            let reference = ExactParams {
                method: ExactMethod::Householder,
                ..Default::default()
            };
            let (exact, _) = exact_ridge_leverage_scores(a, lambda, &reference, Par::Seq).unwrap();
            let mut errs: Vec<f64> = scores
                .iter()
                .zip(&exact)
                .filter(|(_, &e)| e > 0.0)
                .map(|(s, e)| (s - e).abs() / e)
                .collect();
            errs.sort_by(f64::total_cmp);
            for (r, out) in &runs {
                assert_eq!(bits(&read_column(out)), bits(&scores), "{}: scores", r.what);
                assert_eq!(r.int("n"), info.n as u64);
                assert_eq!(r.int("d"), info.d as u64);
                assert_eq!(r.int("nnz"), info.nnz as u64);
                assert_eq!(r.str("method"), Some(method));
                assert_eq!(r.str("algorithm"), Some(info.method.name()), "{}", r.what);
                r.assert_bits("sum_of_scores", Some(info.sum));
                r.assert_bits("max_score", Some(info.max));
                r.assert_bits("max_rel_error", errs.last().copied());
                r.assert_bits("median_rel_error", example_median(&errs));
                assert_eq!(r.int("rank"), info.rank as u64, "{}", r.what);
                r.assert_bits("lambda", Some(lambda));
            }
            // The approximate method really ran approximately (n > 10d here).
            if method == "approx" {
                assert_eq!(runs[0].0.str("algorithm"), Some("approx"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// poly_features

/// `poly_features`, both tensor methods, on a sparse and a dense `X`, on one thread and on two:
/// `--out` is the library's `PolyKernelFeatures::transform` and `kernel_rel_error` its
/// `kernel_error` over the first 2000 rows, bit for bit; `n, d, nnz, degree, m` are the input's
/// and the options'.
#[test]
fn poly_features_figures_are_the_librarys() {
    use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams, TensorMethod};
    let f = files("poly");
    write_problems(&f);
    for input in ["A_sparse.mtx", "A_dense.mtx"] {
        let path = f.path(input);
        let file = read(&path);
        let x = file.view().unwrap();
        for (i, (method, tm, degree, m)) in [
            ("fft", TensorMethod::Fft, 2, 16),
            ("tree", TensorMethod::Tree, 3, 32),
        ]
        .into_iter()
        .enumerate()
        {
            let (ds, ms) = (degree.to_string(), m.to_string());
            let args = [
                path.as_str(),
                "--degree",
                &ds,
                "--rows",
                &ms,
                "--method",
                method,
                "--gamma",
                "0.5",
                "--coef0",
                "1",
                "--seed",
                "23",
            ];
            let base = f.path(&format!("F-{input}-{i}"));
            let runs = json_both("poly_features", &args, Some(("--out", &base)), &[]);
            let params = PolyKernelParams {
                degree,
                sketch_dim: m,
                gamma: 0.5,
                coef0: 1.0,
                method: tm,
            };
            let features = PolyKernelFeatures::new(x.ncols(), params, Seed::new(23)).unwrap();
            let phi = features.transform(x, Par::Seq).unwrap();
            let err = features
                .kernel_error(x, phi.as_ref(), 2000, Par::Seq)
                .unwrap();
            for (r, out) in &runs {
                let got = read_dense_path(out, &ReadOptions::default()).unwrap();
                assert_bitwise(&got, &phi, &r.what);
                r.assert_bits("kernel_rel_error", Some(err));
                assert_eq!(r.int("n"), x.nrows() as u64);
                assert_eq!(r.int("d"), x.ncols() as u64);
                assert_eq!(r.int("nnz"), x.nnz() as u64);
                assert_eq!(r.int("degree"), degree as u64);
                assert_eq!(r.int("m"), m as u64);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// attention

/// `attention`, every kind and feature map, causal or not, in f64 and f32: `--out` is the
/// library's output (`poly_sketch_attention`, `exact_attention`) bit for bit, `rel_error` the
/// library's own check (`PolySketchParams::check`), `r` and `workspace_bytes` its `SketchInfo`'s
/// (the latter on the same thread count: it counts per-thread blocks), `n, h, degree, causal,
/// map, block, precision` the input's and the options'; one thread and two print the same
/// figures but `peak_bytes` and `workspace_bytes` (documented to depend on the threads).
#[test]
fn attention_figures_and_out_are_the_librarys() {
    use randnla::attention::*;
    let f = files("attention");
    let (n, h, d) = (40, 4, 3);
    let g = |r, c, s| {
        let m = common::gauss(r, c, s);
        Mat::from_fn(r, c, |i, j| 0.5 * m[(i, j)])
    };
    let (q, k, v) = (g(n, h, 31), g(n, h, 32), g(n, d, 33));
    let (qp, kp, vp) = (f.path("Q.mtx"), f.path("K.mtx"), f.path("V.mtx"));
    for (p, m) in [(&qp, &q), (&kp, &k), (&vp, &v)] {
        write_dense_path(p, m.as_ref()).unwrap();
    }
    // What the example reads back (the same values: round-trip decimals).
    let (q, k, v) = (
        read_dense_path(&qp, &ReadOptions::default()).unwrap(),
        read_dense_path(&kp, &ReadOptions::default()).unwrap(),
        read_dense_path(&vp, &ReadOptions::default()).unwrap(),
    );
    let to32 = |m: &Mat<f64>| Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] as f32);
    let (q32, k32, v32) = (to32(&q), to32(&k), to32(&v));
    let cases: [(&str, &[&str]); 9] = [
        ("poly-sketch", &["--check"]),
        ("poly-sketch", &["--check", "--causal"]),
        (
            "poly-sketch",
            &["--check", "--map", "tensorsketch", "--sketch-dim", "16"],
        ),
        (
            "poly-sketch",
            &["--check", "--map", "identity", "--degree", "2"],
        ),
        ("poly-sketch", &["--check", "--f32"]),
        ("poly-exact", &["--degree", "2"]),
        ("poly-exact", &["--causal"]),
        ("softmax", &[]),
        ("softmax", &["--scale", "0.25", "--causal", "--f32"]),
    ];
    for (i, (kind, extra)) in cases.into_iter().enumerate() {
        let mut args = vec![qp.as_str(), kp.as_str(), vp.as_str(), "--kind", kind];
        args.extend(["--block", "16"]);
        let map_identity = extra.contains(&"identity");
        if kind == "poly-sketch" && !map_identity {
            args.extend(["--seed", "29"]);
        }
        args.extend_from_slice(extra);
        let opt = |name: &str| {
            extra
                .iter()
                .position(|&e| e == name)
                .map(|p| extra[p + 1].to_string())
        };
        let causal = extra.contains(&"--causal");
        let f32 = extra.contains(&"--f32");
        let degree: usize = opt("--degree").map_or(4, |s| s.parse().unwrap());
        let map = match opt("--map").as_deref() {
            Some("tensorsketch") => FeatureMap::TensorSketch,
            Some("identity") => FeatureMap::Identity,
            _ => FeatureMap::Gaussian,
        };
        let params = PolySketchParams {
            degree,
            sketch_dim: opt("--sketch-dim").map_or(32, |s| s.parse().unwrap()),
            map,
            causal,
            block: 16,
            seed: Seed::new(if map_identity { 0 } else { 29 }),
            check: true,
        };
        let kernel = if kind == "softmax" {
            Kernel::Softmax {
                scale: opt("--scale").map_or(0.5, |s| s.parse().unwrap()),
            }
        } else {
            Kernel::Polynomial { degree }
        };
        let exact = ExactParams { causal, block: 16 };
        // The library's output (as f64) and info, on `par`.
        let library = |par: Par| -> (Mat<f64>, Option<SketchInfo>) {
            let back32 = |m: Mat<f32>| Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] as f64);
            match (kind, f32) {
                ("poly-sketch", false) => {
                    let (o, info) =
                        poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, par)
                            .unwrap();
                    (o, Some(info))
                }
                ("poly-sketch", true) => {
                    let (o, info) = poly_sketch_attention(
                        q32.as_ref(),
                        k32.as_ref(),
                        v32.as_ref(),
                        &params,
                        par,
                    )
                    .unwrap();
                    (back32(o), Some(info))
                }
                (_, false) => (
                    exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), kernel, &exact, par)
                        .unwrap(),
                    None,
                ),
                (_, true) => (
                    back32(
                        exact_attention(
                            q32.as_ref(),
                            k32.as_ref(),
                            v32.as_ref(),
                            kernel,
                            &exact,
                            par,
                        )
                        .unwrap(),
                    ),
                    None,
                ),
            }
        };
        let base = f.path(&format!("O-{i}"));
        let runs = json_both(
            "attention",
            &args,
            Some(("--out", &base)),
            &["peak_bytes", "workspace_bytes"],
        );
        let (want, info1) = library(Par::Seq);
        let (_, info2) = on_two_threads(library);
        for ((r, out), info) in runs.iter().zip([info1, info2]) {
            let got = read_dense_path(out, &ReadOptions::default()).unwrap();
            assert_bitwise(&got, &want, &r.what);
            assert_eq!(r.str("kind"), Some(kind));
            assert_eq!((r.int("n"), r.int("h")), (n as u64, h as u64));
            if kind == "softmax" {
                r.assert_bits("degree", None);
            } else {
                assert_eq!(r.int("degree"), degree as u64, "{}", r.what);
            }
            assert_eq!(r.bool("causal"), causal);
            assert_eq!(r.int("block"), 16);
            assert_eq!(r.str("precision"), Some(if f32 { "f32" } else { "f64" }));
            let map_name = match (kind, map) {
                ("poly-sketch", FeatureMap::Gaussian) => "gaussian",
                ("poly-sketch", FeatureMap::TensorSketch) => "tensorsketch",
                ("poly-sketch", FeatureMap::Identity) => "identity",
                _ => "none",
            };
            assert_eq!(r.str("map"), Some(map_name), "{}", r.what);
            r.assert_bits("r", info.as_ref().map(|i| i.sketch_dim as f64));
            r.assert_bits("rel_error", info.as_ref().and_then(|i| i.rel_error));
            r.assert_bits(
                "workspace_bytes",
                info.as_ref().map(|i| i.workspace_bytes as f64),
            );
            assert!(r.num("peak_bytes").is_some(), "{}", r.what);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// tensor_power

/// `tensor_power` on a synthetic tensor (both methods) and on a `.tns` file (both storages), on
/// one thread and on two: `--factors-out` is the library's factors bit for bit (`--export` its
/// `.tns` bytes); `contractions`, `sketches`, `sketch_dim`, `hashing`, `max_factor_error`,
/// `max_weight_rel_error` (from `match_factors`) and `residual_rel` are the library's; `n`,
/// `order`, `nnz` (nonzero entries, every permutation counted), `storage`, `rank`, `method` the
/// tensor's and the options'. `--rank` below `k` gives an infinite factor error: null.
#[test]
fn tensor_power_figures_and_out_are_the_librarys() {
    use randnla::tensor::*;
    let f = files("tensor");
    let tns = f.path("t.tns");
    // T₁₁₁ = 2, T₂₂₂ = 1, T₁₂₃ (and permutations) = 0.5, T₄₄₄ = -0.25: 9 nonzeros of 64.
    std::fs::write(&tns, "1 1 1 2.0\n2 2 2 1.0\n1 2 3 0.5\n4 4 4 -0.25\n").unwrap();
    // (args, synthetic (n, k, noise, p), rank, method, storage)
    type Case<'a> = (
        Vec<&'a str>,
        Option<(usize, usize, f64, usize)>,
        usize,
        &'a str,
        TnsStorage,
    );
    let cases: Vec<Case> = vec![
        (
            vec!["--synthetic", "6,2,0.05,3", "--method", "exact"],
            Some((6, 2, 0.05, 3)),
            2,
            "exact",
            TnsStorage::Auto,
        ),
        (
            vec![
                "--synthetic",
                "6,2,0.05,3",
                "--method",
                "sketch",
                "--sketches",
                "4",
                "--sketch-dim",
                "256",
            ],
            Some((6, 2, 0.05, 3)),
            2,
            "sketch",
            TnsStorage::Auto,
        ),
        (
            vec![
                "--synthetic",
                "5,3,0.01,4",
                "--rank",
                "2",
                "--method",
                "exact",
                "--starts",
                "4",
                "--iters",
                "6",
            ],
            Some((5, 3, 0.01, 4)),
            2,
            "exact",
            TnsStorage::Auto,
        ),
        (
            vec![
                "--tns",
                &tns,
                "--rank",
                "2",
                "--method",
                "exact",
                "--storage",
                "coordinate",
            ],
            None,
            2,
            "exact",
            TnsStorage::Coordinate,
        ),
        (
            vec![
                "--tns",
                &tns,
                "--rank",
                "2",
                "--method",
                "sketch",
                "--sketches",
                "3",
                "--sketch-dim",
                "128",
                "--storage",
                "dense",
            ],
            None,
            2,
            "sketch",
            TnsStorage::Dense,
        ),
    ];
    for (i, (mut args, synth, rank, method, storage)) in cases.into_iter().enumerate() {
        args.extend(["--seed", "41"]);
        let export = f.path(&format!("export-{i}.tns"));
        if synth.is_none() {
            args.extend(["--export", &export]);
        }
        let base = f.path(&format!("factors-{i}"));
        let runs = json_both("tensor_power", &args, Some(("--factors-out", &base)), &[]);
        let seed = Seed::new(41);
        let opt = |name: &str| {
            args.iter()
                .position(|&e| e == name)
                .map(|p| args[p + 1].parse::<usize>().unwrap())
        };
        let (t, truth) = match synth {
            Some((n, k, noise, p)) => {
                let (t, w, a) =
                    SymmetricTensor::synthetic_orthogonal(p, n, k, noise, seed).unwrap();
                (t, Some((w, a)))
            }
            None => (read_tns_path_as(&tns, storage).unwrap(), None),
        };
        let d = PowerParams::default();
        let iters = opt("--iters").unwrap_or(d.iters);
        let power = PowerParams {
            starts: opt("--starts").unwrap_or(d.starts),
            iters,
            refine_iters: iters,
        };
        let sp = SketchParams {
            power: power.clone(),
            sketches: opt("--sketches").unwrap_or(0),
            sketch_dim: opt("--sketch-dim").unwrap_or(0),
            search_sketches: 3,
            search_sketch_dim: 0,
            polish_iters: 2,
            hashing: ModeHashing::Auto,
        };
        let dec = if method == "exact" {
            power_method_exact(&t, rank, &power, seed, Par::Seq).unwrap()
        } else {
            let (bb, b) = sp.resolve(t.dim(), t.order());
            let hashing = sp.resolve_hashing(t.dim(), t.order());
            let s = TensorSketches::with_hashing(&t, bb, b, hashing, seed, Par::Seq).unwrap();
            power_method_on_sketches(s, rank, &sp, seed, Par::Seq).unwrap()
        };
        let (max_fe, max_we) = match &truth {
            Some((w, a)) => {
                let m = match_factors(t.order(), w, a, &dec.weights, &dec.factors).unwrap();
                let fe = m.iter().map(|x| x.factor_error).fold(0.0, f64::max);
                let we = m.iter().map(|x| x.weight_rel_error).fold(0.0, f64::max);
                (Some(fe), Some(we))
            }
            None => (None, None),
        };
        let resid = residual_rel(&t, &dec.weights, &dec.factors, Par::Seq).unwrap();
        let mut nnz = 0u64;
        t.for_each_entry(|_, v| nnz += u64::from(v != 0.0));
        let n = t.dim();
        let factors = Mat::from_fn(n, dec.factors.len(), |i, j| dec.factors[j][i]);
        for (r, out) in &runs {
            let got = read_dense_path(out, &ReadOptions::default()).unwrap();
            assert_bitwise(&got, &factors, &r.what);
            assert_eq!(r.int("n"), n as u64);
            assert_eq!(r.int("order"), t.order() as u64);
            assert_eq!(r.int("nnz"), nnz, "{}", r.what);
            let st = if t.is_dense() { "dense" } else { "coordinate" };
            assert_eq!(r.str("storage"), Some(st), "{}", r.what);
            assert_eq!(r.int("rank"), rank as u64);
            // The library's name of the method, whichever spelling the flag used.
            let name = method
                .parse::<randnla::tensor::PowerMethod>()
                .unwrap()
                .name();
            assert_eq!(r.str("method"), Some(name), "{}", r.what);
            let hashing = match (method, sp.resolve_hashing(n, t.order())) {
                ("exact", _) => "none",
                (_, ModeHashing::Shared) => "shared",
                _ => "per-mode",
            };
            assert_eq!(r.str("hashing"), Some(hashing), "{}", r.what);
            assert_eq!(r.int("contractions"), dec.contractions as u64, "{}", r.what);
            r.assert_bits("sketches", dec.sketch_shape.map(|s| s.0 as f64));
            r.assert_bits("sketch_dim", dec.sketch_shape.map(|s| s.1 as f64));
            // Infinite (a true component left unmatched) prints as null.
            r.assert_bits("max_factor_error", max_fe.filter(|v| v.is_finite()));
            r.assert_bits("max_weight_rel_error", max_we.filter(|v| v.is_finite()));
            r.assert_bits("residual_rel", Some(resid));
        }
        // The weights (eigenvalues) are printed in the table run only, as `{:.4}` (`{:.4e}`
        // outside [1e-3, 1e6)): the library's, so formatted.
        let weight = |w: f64| {
            if w == 0.0 || (1e-3..1e6).contains(&w.abs()) {
                format!("{w:.4}")
            } else {
                format!("{w:.4e}")
            }
        };
        let want_line = format!(
            "weights: {:?}",
            dec.weights.iter().map(|&w| weight(w)).collect::<Vec<_>>()
        );
        let mut table_args = args.clone();
        if let Some(p) = table_args.iter().position(|&a| a == "--export") {
            table_args.drain(p..=p + 1);
        }
        let out = Command::new(example("tensor_power"))
            .args(&table_args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{table_args:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            stdout.lines().last(),
            Some(want_line.as_str()),
            "{table_args:?}: the weights line"
        );
        if let Some((_, k, _, _)) = synth {
            if rank < k {
                assert_eq!(max_fe, Some(f64::INFINITY), "rank {rank} < k = {k}");
            }
        } else {
            let mut want = Vec::new();
            write_tns(&mut want, &t, TnsEntries::Unique).unwrap();
            assert_eq!(std::fs::read(&export).unwrap(), want, "--export bytes");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// active

/// `active`, every strategy and basis, on a sparse and a dense pool, three trials, on one
/// thread and on two: `--out` is the library's `β̃` of the last trial bit for bit; `ratio`
/// (median and mean, nested and flat), `labels_used`, `failed_trials`, `n`, `d`, `nnz`,
/// `budget`, `strategy`, `basis`, `trials` are what the library's `Pool` (seed `seed.derive(1)`)
/// and `Learner`s (seeds `seed + t`) give, recomputed here as the example documents.
#[test]
fn active_figures_and_out_are_the_librarys() {
    use randnla::active::*;
    let f = files("active");
    write_problems(&f);
    let cases = [
        ("A_sparse.mtx", "b_sparse.mtx", "bss", "exact", vec![]),
        (
            "A_sparse.mtx",
            "b_sparse.mtx",
            "leverage",
            "sketched",
            vec!["--ridge", "0.5"],
        ),
        ("A_dense.mtx", "b_dense.mtx", "uniform", "given", vec![]),
        (
            "A_dense.mtx",
            "b_dense.mtx",
            "bss",
            "exact",
            vec!["--spend-budget"],
        ),
    ];
    for (i, (xp, yp, strategy_name, basis_name, extra)) in cases.into_iter().enumerate() {
        let (xpath, ypath) = (f.path(xp), f.path(yp));
        let mut args = vec![
            xpath.as_str(),
            ypath.as_str(),
            "--budget",
            "20",
            "--strategy",
            strategy_name,
            "--basis",
            basis_name,
            "--trials",
            "3",
            "--seed",
            "51",
        ];
        args.extend_from_slice(&extra);
        let base = f.path(&format!("beta-{i}"));
        let runs = json_both("active", &args, Some(("--out", &base)), &[]);
        let file = read(&xpath);
        let x = file.view().unwrap();
        let y = read_column(&ypath);
        let lambda = if extra.contains(&"--ridge") { 0.5 } else { 0.0 };
        let strategy = match strategy_name {
            "uniform" => Strategy::Uniform,
            "leverage" => Strategy::leverage(),
            _ => Strategy::bss(),
        };
        let basis = match basis_name {
            "exact" => Basis::Exact,
            "sketched" => Basis::Sketched { sketch_rows: None },
            _ => Basis::AsGiven,
        };
        let seed = Seed::new(51);
        let pool = Pool::new(x, basis, seed.derive(1), Par::Seq).unwrap();
        let opt = pool.least_squares(&y).unwrap().1;
        let (mut ratios, mut labels_used, mut last_beta) = (Vec::new(), 0, Vec::new());
        for t in 0..3u64 {
            let mut oracle = Budgeted::new(SliceOracle::new(&y), 20);
            let mut learner =
                Learner::new(&pool, strategy.clone(), Seed::new(seed.value() + t)).unwrap();
            if extra.contains(&"--spend-budget") {
                learner.select_labels(20, &mut oracle).unwrap();
            } else {
                learner.select(20, &mut oracle).unwrap();
            }
            let (beta, _) = learner.fit(lambda).unwrap();
            labels_used = labels_used.max(oracle.labels_used());
            let r = pool.residual_norm_sq(&beta, &y).unwrap();
            assert!(opt > 0.0);
            ratios.push(r / opt);
            last_beta = beta;
        }
        ratios.sort_by(f64::total_cmp);
        let median = example_median(&ratios);
        let mean = ratios.iter().sum::<f64>() / 3.0;
        for (r, out) in &runs {
            assert_eq!(bits(&read_column(out)), bits(&last_beta), "{}: β̃", r.what);
            assert_eq!(r.int("n"), x.nrows() as u64);
            assert_eq!(r.int("d"), x.ncols() as u64);
            assert_eq!(r.int("nnz"), pool.info().nnz as u64);
            assert_eq!(r.int("budget"), 20);
            assert_eq!(r.str("strategy"), Some(strategy.name()));
            assert_eq!(r.str("basis"), Some(basis.name()));
            assert_eq!(r.int("labels_used"), labels_used as u64, "{}", r.what);
            assert_eq!(r.int("trials"), 3);
            assert_eq!(r.int("failed_trials"), 0);
            r.assert_bits("ratio_median", median);
            r.assert_bits("ratio_mean", Some(mean));
            let J::Obj(ratio) = r.get("ratio") else {
                panic!("{}: ratio is not an object", r.what)
            };
            let nested = Report {
                what: format!("{} ratio", r.what),
                fields: ratio.clone(),
            };
            assert_eq!(nested.keys(), ["median", "mean"]);
            nested.assert_bits("median", median);
            nested.assert_bits("mean", Some(mean));
        }
        // The labels as a `1 × n` array (documented as accepted): the same run.
        let row = f.path(&format!("y-row-{i}.mtx"));
        write_dense_path(&row, Mat::from_fn(1, y.len(), |_, j| y[j]).as_ref()).unwrap();
        let mut row_args = args.clone();
        row_args[1] = &row;
        let row_base = f.path(&format!("beta-row-{i}"));
        let [(r, out), _] = json_both("active", &row_args, Some(("--out", &row_base)), &[]);
        let skip: Vec<&str> = TIMINGS.to_vec();
        assert_eq!(
            r.figures(&skip),
            runs[0].0.figures(&skip),
            "{}: 1 × n labels",
            r.what
        );
        assert_eq!(bits(&read_column(&out)), bits(&last_beta), "{}: β̃", r.what);
    }
}

// ---------------------------------------------------------------------------------------------
// sketch_cpu

/// `sketch_cpu` (small): `nnz` is that of the library's `random_sparse(nnz/25, cols, 25, seed)`,
/// `m` and `d` are `--rows` and `--cols`, and the timings are numbers ≥ 0 (null only where
/// `/proc/self/stat` is missing) under the documented names.
#[test]
fn sketch_cpu_figures_are_the_librarys() {
    let args = [
        "--nnz", "5000", "--rows", "30", "--cols", "40", "--reps", "1", "--seed", "61",
    ];
    let [(one, _), _] = json_both(
        "sketch_cpu",
        &args,
        None,
        &[
            "spmv_cpu_ns_per_nnz",
            "count_csr_cpu_ns_per_nnz",
            "count_csc_cpu_ns_per_nnz",
            "sparse_sign_s8_csr_cpu_ns_per_nnz",
            "sparse_sign_s8_csc_cpu_ns_per_nnz",
        ],
    );
    let a = randnla::problems::random_sparse(200, 40, 25, Seed::new(61)).unwrap();
    assert_eq!(one.int("nnz"), a.nnz() as u64);
    assert_eq!(one.int("m"), 30);
    assert_eq!(one.int("d"), 40);
    for key in one
        .keys()
        .into_iter()
        .filter(|k| k.ends_with("_ns_per_nnz"))
    {
        if let Some(v) = one.num(key) {
            assert!(v >= 0.0, "{key} = {v}");
        } else {
            assert!(
                !std::path::Path::new("/proc/self/stat").exists(),
                "{key} null"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field names, usage lines, bad arguments and odd paths.

/// Each example's source (its `//!` documentation lists the `--json` fields).
fn source(name: &str) -> &'static str {
    match name {
        "sketch" => include_str!("../examples/sketch.rs"),
        "lstsq" => include_str!("../examples/lstsq.rs"),
        "leverage" => include_str!("../examples/leverage.rs"),
        "poly_features" => include_str!("../examples/poly_features.rs"),
        "attention" => include_str!("../examples/attention.rs"),
        "tensor_power" => include_str!("../examples/tensor_power.rs"),
        "active" => include_str!("../examples/active.rs"),
        "sketch_cpu" => include_str!("../examples/sketch_cpu.rs"),
        "tour" => include_str!("../examples/tour/main.rs"),
        other => panic!("{other}"),
    }
}

/// The `//!` documentation of an example, as one text.
fn doc(name: &str) -> String {
    source(name)
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `--json` fields each example's documentation lists (in its `--json` paragraph).
fn documented_fields(name: &str) -> &'static [&'static str] {
    match name {
        "sketch" => &[
            "sketch",
            "n",
            "d",
            "nnz",
            "m",
            "seconds",
            "distortion",
            "distortion_note",
        ],
        "lstsq" => &[
            "method",
            "n",
            "d",
            "nnz",
            "seconds",
            "iterations",
            "probe_iterations",
            "preconditioner",
            "residual_norm",
            "normal_eq_residual",
            "converged",
            "stopping_test",
        ],
        "leverage" => &[
            "n",
            "d",
            "nnz",
            "method",
            "seconds",
            "sum_of_scores",
            "max_score",
            "max_rel_error",
            "median_rel_error",
            "algorithm",
            "rank",
            "lambda",
        ],
        "poly_features" => &[
            "n",
            "d",
            "nnz",
            "degree",
            "m",
            "seconds",
            "kernel_rel_error",
        ],
        "attention" => &[
            "kind",
            "n",
            "h",
            "degree",
            "r",
            "causal",
            "seconds",
            "peak_bytes",
            "rel_error",
            "map",
            "block",
            "precision",
            "workspace_bytes",
        ],
        "tensor_power" => &[
            "n",
            "order",
            "nnz",
            "storage",
            "rank",
            "method",
            "seconds",
            "build_seconds",
            "refine_seconds",
            "cpu_seconds",
            "exact_sweeps",
            "contractions",
            "hashing",
            "sketches",
            "sketch_dim",
            "max_factor_error",
            "max_weight_rel_error",
            "residual_rel",
        ],
        "active" => &[
            "n",
            "d",
            "budget",
            "strategy",
            "labels_used",
            "seconds",
            "ratio",
            "ratio_median",
            "ratio_mean",
            "trials",
            "failed_trials",
            "basis",
            "pool_seconds",
            "nnz",
        ],
        "sketch_cpu" => &[
            "nnz",
            "m",
            "d",
            "spmv_cpu_ns_per_nnz",
            "count_csr_cpu_ns_per_nnz",
            "count_csc_cpu_ns_per_nnz",
            "sparse_sign_s8_csr_cpu_ns_per_nnz",
            "sparse_sign_s8_csc_cpu_ns_per_nnz",
        ],
        other => panic!("{other}"),
    }
}

/// The printed fields are exactly the documented ones, and each is named in the documentation
/// (sketch_cpu's per-run fields through its `<sketch>_<layout>_cpu_ns_per_nnz` pattern).
#[test]
fn printed_fields_are_the_documented_ones() {
    let f = files("fields");
    write_problems(&f);
    let (a, b) = (f.path("A_sparse.mtx"), f.path("b_sparse.mtx"));
    let q = f.path("Q.mtx");
    write_dense_path(&q, common::gauss(20, 3, 71).as_ref()).unwrap();
    let runs: [(&str, Vec<&str>); 8] = [
        ("sketch", vec![&a, "--sketch", "count", "--rows", "12"]),
        ("lstsq", vec![&a, &b]),
        ("leverage", vec![&a]),
        ("poly_features", vec![&a, "--degree", "2", "--rows", "8"]),
        ("attention", vec![&q, &q, &q]),
        (
            "tensor_power",
            vec!["--synthetic", "5,2,0.01,3", "--method", "exact"],
        ),
        ("active", vec![&a, &b, "--budget", "12"]),
        (
            "sketch_cpu",
            vec![
                "--nnz", "2500", "--cols", "25", "--rows", "10", "--reps", "1",
            ],
        ),
    ];
    for (name, mut args) in runs {
        args.push("--json");
        let r = json(name, &args);
        let mut got = r.keys();
        let mut want = documented_fields(name).to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{name}: printed fields vs documented ones");
        let text = doc(name);
        for key in documented_fields(name) {
            let named = text.contains(key)
                || (name == "sketch_cpu"
                    && key.ends_with("_cpu_ns_per_nnz")
                    && text.contains("<sketch>_<layout>_cpu_ns_per_nnz"));
            assert!(named, "{name}: field {key} is not in the documentation");
        }
        // Timings are finite, non-negative numbers.
        for key in TIMINGS {
            if r.keys().contains(key) {
                if let Some(v) = r.num(key) {
                    assert!(v >= 0.0, "{name}: {key} = {v}");
                }
            }
        }
    }
}

const ALL: [&str; 9] = [
    "sketch",
    "lstsq",
    "leverage",
    "poly_features",
    "attention",
    "tensor_power",
    "active",
    "sketch_cpu",
    "tour",
];

/// The `--options` in a text.
fn options_in(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(p) = text[i..].find("--") {
        let s = i + p;
        let mut e = s + 2;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'-') {
            e += 1;
        }
        if e > s + 2 {
            out.insert(text[s..e].to_string());
        }
        i = e.max(s + 2);
    }
    out
}

/// `--help` and `-h`: exit code 0, one usage line on stdout naming the example, nothing on
/// stderr; the usage lists `--seed`, `--threads`, `--json` and exactly the options of the
/// documentation's synopsis (the ```` ```text ```` block), each of which the parser accepts
/// (with it, four stray positionals are the error, not an unknown option). An unknown option
/// (`--bogus-flag`, `--bogus=1`) is one line on stderr naming it, exit code 2.
#[test]
fn help_usage_and_unknown_flags() {
    for name in ALL {
        let mut usage = String::new();
        for h in ["--help", "-h"] {
            let out = Command::new(example(name)).arg(h).output().unwrap();
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert_eq!(out.status.code(), Some(0), "{name} {h}");
            assert!(out.stderr.is_empty(), "{name} {h}: stderr");
            assert_eq!(stdout.lines().count(), 1, "{name} {h}: {stdout:?}");
            assert!(
                stdout.starts_with(&format!("usage: {name} ")),
                "{name} {h}: {stdout:?}"
            );
            usage = stdout;
        }
        let in_usage = options_in(&usage);
        for common in ["--seed", "--threads", "--json"] {
            assert!(in_usage.contains(common), "{name}: {common} not in {usage}");
        }
        let text = doc(name);
        let synopsis: String = text
            .split("```text")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .unwrap_or_else(|| panic!("{name}: no synopsis"))
            .to_string();
        let mut in_doc = options_in(&synopsis);
        in_doc.remove("--release");
        in_doc.remove("--example");
        // sketch's `--generate` is described in the prose under the synopsis.
        let mut in_usage_doc = in_usage.clone();
        if name == "sketch" {
            assert!(text.contains("`--generate n,d,k`"));
            in_usage_doc.remove("--generate");
        }
        assert_eq!(
            in_usage_doc, in_doc,
            "{name}: usage vs the documentation's synopsis"
        );
        for opt in &in_usage {
            let out = Command::new(example(name))
                .args([opt.as_str(), "1", "p1", "p2", "p3", "p4"])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {opt}: {stderr}");
            assert!(
                stderr.contains("unexpected argument") && !stderr.contains("unknown option"),
                "{name} {opt}: {stderr}"
            );
        }
        let msg = rejected(name, &["--bogus-flag"]);
        assert!(msg.contains("unknown option --bogus-flag"), "{name}: {msg}");
        let msg = rejected(name, &["--bogus=1"]);
        assert!(msg.contains("unknown option --bogus"), "{name}: {msg}");
    }
    // Without arguments, the examples that need input print their usage as the one-line error.
    for name in [
        "sketch",
        "lstsq",
        "leverage",
        "poly_features",
        "attention",
        "active",
    ] {
        let msg = rejected(name, &[]);
        assert!(msg.contains(&format!("usage: {name} ")), "{name}: {msg}");
    }
    rejected("tensor_power", &[]);
}

/// Input and output paths with a quote, a backslash, spaces and non-ASCII characters: every
/// example runs, its JSON stays one well-formed object, and its output file is written; a
/// missing file under such a name is one line on stderr that names it once, exit code 2; a name
/// with a newline in it still gives one line.
#[test]
fn odd_paths_keep_the_json_and_the_errors_well_formed() {
    let f = files("paths");
    let dir = f.dir.join("we\"ird \\ päth ✓ \u{7f}");
    std::fs::create_dir_all(&dir).unwrap();
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let a = randnla::problems::random_sparse(80, 3, 2, Seed::new(81)).unwrap();
    write_sparse(&p("A.mtx"), &a);
    write_column(&p("b.mtx"), &common::rhs(80, 82));
    let q = common::gauss(16, 3, 83);
    write_dense_path(p("Q.mtx"), q.as_ref()).unwrap();
    std::fs::write(p("t.tns"), "1 1 1 2.0\n2 2 2 1.0\n").unwrap();
    let (ap, bp, qp, tp, out) = (
        p("A.mtx"),
        p("b.mtx"),
        p("Q.mtx"),
        p("t.tns"),
        p("out \"1\".mtx"),
    );
    let runs: [(&str, Vec<&str>); 7] = [
        (
            "sketch",
            vec![&ap, "--sketch", "gaussian", "--rows", "6", "--out", &out],
        ),
        ("lstsq", vec![&ap, &bp, "--out", &out]),
        ("leverage", vec![&ap, "--out", &out]),
        (
            "poly_features",
            vec![&ap, "--degree", "2", "--rows", "8", "--out", &out],
        ),
        ("attention", vec![&qp, &qp, &qp, "--out", &out]),
        (
            "tensor_power",
            vec!["--tns", &tp, "--method", "exact", "--factors-out", &out],
        ),
        ("active", vec![&ap, &bp, "--budget", "6", "--out", &out]),
    ];
    for (name, mut args) in runs {
        let _ = std::fs::remove_file(&out);
        args.push("--json");
        json(name, &args);
        assert!(
            read_dense_path(&out, &ReadOptions::default()).is_ok(),
            "{name}: no {out}"
        );
    }
    let missing = p("missing \"x\" \\ é.mtx");
    for (name, args) in [
        (
            "sketch",
            vec![missing.as_str(), "--sketch", "count", "--rows", "4"],
        ),
        ("lstsq", vec![&missing, &bp]),
        ("leverage", vec![&missing]),
        (
            "poly_features",
            vec![&missing, "--degree", "2", "--rows", "4"],
        ),
        ("attention", vec![&missing, &qp, &qp]),
        ("tensor_power", vec!["--tns", &missing]),
        ("active", vec![&missing, &bp, "--budget", "6"]),
    ] {
        let msg = rejected(name, &args);
        assert_eq!(msg.matches(missing.as_str()).count(), 1, "{name}: {msg}");
    }
    let newline = p("two\nlines.mtx");
    rejected("leverage", &[&newline]);
    rejected("sketch", &[&newline, "--sketch", "count", "--rows", "4"]);
}

/// The inputs above are too small for the library to split its work: its row chunks are 2048
/// (active), 4096 (CountSketch), 8192 rows (sparse sign, least-squares and leverage kernels),
/// and attention's 64. Here a `20000 × 8` sparse `A` (and a `2048`-row attention) on one thread
/// and on two: the same figures and the same output bytes, and those of the library on one
/// thread (the library promises results independent of the thread count, `qr_solve` aside).
#[test]
fn thread_invariance_on_inputs_the_library_splits() {
    let f = files("large");
    let n = 20_000;
    let a = randnla::problems::random_sparse(n, 8, 3, Seed::new(91)).unwrap();
    let (ap, bp) = (f.path("A.mtx"), f.path("b.mtx"));
    write_sparse(&ap, &a);
    write_column(&bp, &common::rhs(n, 92));
    let file = read(&ap);
    let av = file.view().unwrap();
    let b = read_column(&bp);
    // sketch: every kind, against the library.
    for (i, (name, kind)) in [
        ("count", SketchKind::CountSketch),
        ("sparse-sign", SketchKind::SparseSign { nnz_per_col: 8 }),
        ("gaussian", SketchKind::Gaussian),
        ("srht", SketchKind::Srht),
    ]
    .into_iter()
    .enumerate()
    {
        let base = f.path(&format!("SA-{i}"));
        let args = [
            ap.as_str(),
            "--sketch",
            name,
            "--rows",
            "40",
            "--seed",
            "93",
        ];
        let runs = json_both("sketch", &args, Some(("--out", &base)), &[]);
        let op = kind.build::<f64>(40, n, Seed::new(93)).unwrap();
        let want = op.apply(av, Par::Seq).unwrap();
        let kappa = randnla::diagnostics::distortion_on_range(&*op, av, Par::Seq).unwrap();
        for (r, out) in &runs {
            let got = read_dense_path(out, &ReadOptions::default()).unwrap();
            assert_bitwise(&got, &want, &r.what);
            r.assert_bits("distortion", Some(kappa));
        }
    }
    // lstsq: the par-independent methods, against the library.
    for (i, (method, extra)) in [
        ("normal", &[][..]),
        ("lsqr", &[][..]),
        ("sketch-solve", &[][..]),
        ("sketch-precondition", &["--no-probe"][..]),
        ("sketch-precondition", &["--ridge", "3"][..]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut args = vec![ap.as_str(), bp.as_str(), "--method", method];
        if method.starts_with("sketch") {
            args.extend(["--seed", "21"]);
        }
        args.extend_from_slice(extra);
        let lambda = if extra.contains(&"--ridge") { 3.0 } else { 0.0 };
        let base = f.path(&format!("x-{i}"));
        let runs = json_both("lstsq", &args, Some(("--out", &base)), &[]);
        let probe = !extra.contains(&"--no-probe");
        let want = lstsq_library(method, av, &b, lambda, 21, probe, None, Par::Seq);
        for (r, out) in &runs {
            check_lstsq(r, out, &want, av, &b, lambda);
        }
    }
    // leverage, poly_features, active: one thread and two agree, figures and files.
    let same_files = |runs: &[(Report, String); 2]| {
        let (x1, x2) = (
            std::fs::read(&runs[0].1).unwrap(),
            std::fs::read(&runs[1].1).unwrap(),
        );
        assert!(
            x1 == x2,
            "{}: --out differs between 1 and 2 threads",
            runs[0].0.what
        );
    };
    for method in ["approx", "exact"] {
        let base = f.path(&format!("lev-{method}"));
        let args = [ap.as_str(), "--method", method, "--check", "--seed", "5"];
        same_files(&json_both("leverage", &args, Some(("--out", &base)), &[]));
    }
    let args = [ap.as_str(), "--degree", "2", "--rows", "16", "--seed", "5"];
    same_files(&json_both(
        "poly_features",
        &args,
        Some(("--out", &f.path("F"))),
        &[],
    ));
    for strategy in ["leverage", "bss"] {
        let base = f.path(&format!("beta-{strategy}"));
        let args = [
            ap.as_str(),
            bp.as_str(),
            "--budget",
            "40",
            "--strategy",
            strategy,
            "--basis",
            "sketched",
            "--trials",
            "2",
            "--seed",
            "5",
        ];
        same_files(&json_both("active", &args, Some(("--out", &base)), &[]));
    }
    // attention: 2048 rows in blocks of 64.
    let (qp, kp, vp) = (f.path("Q.mtx"), f.path("K.mtx"), f.path("V.mtx"));
    for (p, c, s) in [(&qp, 4, 94), (&kp, 4, 95), (&vp, 2, 96)] {
        let g = common::gauss(2048, c, s);
        let g = Mat::from_fn(2048, c, |i, j| 0.5 * g[(i, j)]);
        write_dense_path(p, g.as_ref()).unwrap();
    }
    for (i, extra) in [
        &["--kind", "poly-sketch", "--check", "--seed", "5"][..],
        &[
            "--kind",
            "poly-sketch",
            "--causal",
            "--map",
            "tensorsketch",
            "--seed",
            "5",
        ],
        &["--kind", "softmax", "--causal"],
        &["--kind", "poly-exact"],
    ]
    .into_iter()
    .enumerate()
    {
        let mut args = vec![qp.as_str(), kp.as_str(), vp.as_str(), "--block", "64"];
        args.extend_from_slice(extra);
        let base = f.path(&format!("O-{i}"));
        same_files(&json_both(
            "attention",
            &args,
            Some(("--out", &base)),
            &["peak_bytes", "workspace_bytes"],
        ));
    }
}
