//! The examples against what their issues ask of them: the `--json` fields the issues name, with
//! the stated meaning (a median is a median; a figure that cannot be computed is null, not
//! another quantity under its name), options that do nothing refused, and errors that name the
//! option the user typed. Each test here failed before the fix it pins down, except
//! `every_issue_field_is_there_with_its_type`, a guard over all the fields the issues name.
//!
//! Like `tests/examples_cli.rs`, this runs the example binaries that `cargo test` builds under
//! `target/<profile>/examples/` (`cargo test --test suite_examples examples_issue_fields` alone
//! does not rebuild them: run `cargo build --examples` first).

use crate::common;
use common::json::J;

use common::{assert_example_rejected as rejected, run_example as run, TempFiles};
use std::collections::BTreeMap;

/// Exit code 0, and the last stdout line parsed as one JSON object. Returns its fields.
fn json(name: &str, args: &[&str]) -> BTreeMap<String, J> {
    match common::example_json(name, args).0 {
        J::Obj(m) => m.into_iter().collect(),
        _ => unreachable!("example_json returns an object"),
    }
}

/// `fields[key]`, which must be present.
fn field<'a>(fields: &'a BTreeMap<String, J>, key: &str) -> &'a J {
    fields
        .get(key)
        .unwrap_or_else(|| panic!("no field {key} in {fields:?}"))
}

/// The median as the examples must report it: the middle value, or the mean of the two middle
/// values for an even count.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        (v[k / 2 - 1] + v[k / 2]) / 2.0
    }
}

/// Test files in a directory of their own.
fn files(tag: &str) -> TempFiles {
    let f = TempFiles::new("randnla-examples-issue-fields", tag);
    let dir = &f.dir;
    // The 60 × 4 sparse matrix and right-hand side the examples_cli tests use.
    let (a, b) = common::small_ls_problem_mtx();
    std::fs::write(dir.join("A.mtx"), a).unwrap();
    std::fs::write(dir.join("b.mtx"), b).unwrap();
    f
}

/// The `n × 1` array file read back as a vector.
fn read_column(path: &str) -> Vec<f64> {
    let m = randnla::io::read_dense_path(path, &randnla::io::ReadOptions::default()).unwrap();
    (0..m.nrows()).map(|i| m[(i, 0)]).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-14 * a.abs().max(b.abs())
}

/// Issue #8: "`--json` fields: …, ratio (‖Xβ̃ − y‖²/OPT; median and mean over trials)". The field
/// `ratio` is there, holding both; and the median of two trials is their mean (it was the larger
/// of the two).
#[test]
fn active_reports_the_issues_ratio_field_and_a_true_median() {
    let f = files("active");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    for strategy in ["uniform", "leverage", "bss"] {
        let j = json(
            "active",
            &[
                &a,
                &b,
                "--budget",
                "8",
                "--strategy",
                strategy,
                "--trials",
                "2",
                "--json",
            ],
        );
        let ratio = field(&j, "ratio");
        let J::Obj(_) = ratio else {
            panic!("{strategy}: ratio is not an object: {j:?}");
        };
        let (med, mean) = (
            ratio.get("median").and_then(J::num).expect("a median"),
            ratio.get("mean").and_then(J::num).expect("a mean"),
        );
        assert!(med >= 1.0 - 1e-12, "{strategy}: {j:?}");
        assert!(
            close(med, mean),
            "{strategy}: median {med} of 2 trials ≠ mean {mean}"
        );
        assert_eq!(field(&j, "ratio_median").num(), Some(med), "{strategy}");
        assert_eq!(field(&j, "ratio_mean").num(), Some(mean), "{strategy}");
    }
    // Without evaluation there is no ratio: null inside the object.
    let j = json("active", &[&a, &b, "--budget", "8", "--no-eval", "--json"]);
    assert_eq!(
        field(&j, "ratio"),
        &J::Obj(vec![
            ("median".to_string(), J::Null),
            ("mean".to_string(), J::Null),
        ])
    );
}

/// Issue #3: "`--check` … max and median relative error against exact scores". Over the 60 rows
/// (an even count) the median is the mean of the two middle errors.
#[test]
fn leverage_median_rel_error_is_the_median() {
    let f = files("leverage");
    let a = f.path("A.mtx");
    let (approx, exact) = (f.path("approx.mtx"), f.path("exact.mtx"));
    let j = json(
        "leverage",
        &[&a, "--check", "--seed", "3", "--out", &approx, "--json"],
    );
    json(
        "leverage",
        &[&a, "--method", "exact", "--out", &exact, "--json"],
    );
    let (s, e) = (read_column(&approx), read_column(&exact));
    assert_eq!(s.len(), 60);
    let errs: Vec<f64> = s
        .iter()
        .zip(&e)
        .filter(|(_, &e)| e > 0.0)
        .map(|(s, e)| (s - e).abs() / e)
        .collect();
    let want_max = errs.iter().copied().fold(0.0, f64::max);
    let got_median = field(&j, "median_rel_error").num().unwrap();
    let got_max = field(&j, "max_rel_error").num().unwrap();
    // The exact scores of `--check` (Householder) and of `--method exact` (Householder at this
    // size) are the same computation.
    assert!(close(got_max, want_max), "max {got_max} vs {want_max}");
    assert!(
        close(got_median, median(errs.clone())),
        "median {got_median} vs {} (upper middle {})",
        median(errs.clone()),
        {
            let mut v = errs.clone();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        }
    );
}

/// Issue #4: `normal_eq_residual` is `‖Aᵀr‖/(‖A‖‖r‖)`. A run that ran out of iterations has no
/// iterate (the library returns none), so the figure is null; the stopping test's last value —
/// for sketch-precondition a test on `A R⁻¹`, not on `A` — is reported as `stopping_test`. It
/// used to be printed as `normal_eq_residual`.
#[test]
fn lstsq_without_an_iterate_reports_no_normal_eq_residual() {
    let f = files("lstsq-nc");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    for method in ["lsqr", "sketch-precondition"] {
        let mut args = vec![
            a.as_str(),
            b.as_str(),
            "--method",
            method,
            "--max-iters",
            "1",
            "--json",
        ];
        if method == "sketch-precondition" {
            args.push("--no-probe");
        }
        let j = json("lstsq", &args);
        assert_eq!(field(&j, "converged"), &J::Bool(false), "{method}: {j:?}");
        assert_eq!(field(&j, "normal_eq_residual"), &J::Null, "{method}: {j:?}");
        assert_eq!(field(&j, "residual_norm"), &J::Null, "{method}: {j:?}");
        let test = field(&j, "stopping_test")
            .num()
            .expect("the last test value");
        assert!(test.is_finite() && test > 0.0, "{method}: {j:?}");
    }
    // A converged run has its figures, and no stopping value to report.
    for method in [
        "qr",
        "normal",
        "lsqr",
        "sketch-solve",
        "sketch-precondition",
    ] {
        let j = json("lstsq", &[&a, &b, "--method", method, "--json"]);
        assert_eq!(field(&j, "converged"), &J::Bool(true), "{method}: {j:?}");
        assert!(field(&j, "normal_eq_residual").num().is_some(), "{method}");
        assert!(field(&j, "residual_norm").num().is_some(), "{method}");
        assert_eq!(field(&j, "stopping_test"), &J::Null, "{method}: {j:?}");
    }
}

/// `--tol` sets the stopping test of the iterative methods; with a direct one it did nothing and
/// was accepted silently (the example refuses every other option that does not apply).
#[test]
fn lstsq_tol_applies_to_the_iterative_methods_only() {
    let f = files("lstsq-tol");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    for method in ["qr", "normal", "sketch-solve"] {
        let msg = rejected("lstsq", &[&a, &b, "--method", method, "--tol", "1e-3"]);
        assert!(msg.contains("--tol"), "{method}: {msg}");
    }
    for method in ["lsqr", "sketch-precondition"] {
        json(
            "lstsq",
            &[&a, &b, "--method", method, "--tol", "1e-3", "--json"],
        );
    }
}

/// A value the library refuses is reported under the option that set it (`--tol`), not under
/// the library's parameter name (`invalid parameter \`tol\``), as `--ridge` and sketch's
/// `--rows` already were.
#[test]
fn lstsq_errors_name_the_option() {
    let f = files("lstsq-names");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    for (args, flag) in [
        (vec!["--tol", "0"], "--tol"),
        (vec!["--tol", "2"], "--tol"),
        (vec!["--max-iters", "0"], "--max-iters"),
        (vec!["--sketch-rows", "2"], "--sketch-rows"),
        (
            vec!["--method", "sketch-solve", "--sketch-rows", "2"],
            "--sketch-rows",
        ),
        (vec!["--nnz-per-col", "0"], "--nnz-per-col"),
        (vec!["--method", "bogus"], "--method"),
    ] {
        let mut all = vec![a.as_str(), b.as_str()];
        all.extend(&args);
        let msg = rejected("lstsq", &all);
        assert!(
            msg.starts_with(&format!("error: {flag}")),
            "{args:?}: {msg}"
        );
    }
}

/// Writes an `r × c` Matrix Market array of seeded Gaussian entries (scaled by `scale`) to `path`.
fn write_gaussian_array(path: &str, r: usize, c: usize, seed: u64, scale: f64) -> faer::Mat<f64> {
    let g = common::gauss(r, c, seed);
    let m = faer::Mat::from_fn(r, c, |i, j| scale * g[(i, j)]);
    randnla::io::write_dense_path(path, m.as_ref()).unwrap();
    // Read back: the file holds the entries as written, which the example reads.
    randnla::io::read_dense_path(path, &randnla::io::ReadOptions::default()).unwrap()
}

/// Issue #6: `peak_bytes` is the attention's memory and `rel_error` the error against exact
/// attention "when `--check` is given". The check's exact reference (another `n × d` output and
/// its blocks) was allocated inside the measured call and counted: at `n = 8192, d = 64`
/// `peak_bytes` rose from 7.76 MB to 9.06 MB with `--check`. Now `--check` leaves `peak_bytes` as
/// it is, and `rel_error` is still the library's own check.
#[test]
fn attention_check_does_not_change_peak_bytes() {
    let f = files("attention-peak");
    let (qp, kp, vp) = (f.path("Q.mtx"), f.path("K.mtx"), f.path("V.mtx"));
    let (n, h, d) = (8192, 8, 64);
    let q = write_gaussian_array(&qp, n, h, 61, 0.5);
    let k = write_gaussian_array(&kp, n, h, 62, 0.5);
    let v = write_gaussian_array(&vp, n, d, 63, 1.0);
    let base = [qp.as_str(), &kp, &vp, "--threads", "1", "--json"];
    let plain = json("attention", &base);
    let mut args = base.to_vec();
    args.push("--check");
    let checked = json("attention", &args);
    assert_eq!(field(&plain, "rel_error"), &J::Null);
    assert_eq!(
        field(&checked, "peak_bytes"),
        field(&plain, "peak_bytes"),
        "--check changed peak_bytes"
    );
    let (_, info) = randnla::attention::poly_sketch_attention(
        q.as_ref(),
        k.as_ref(),
        v.as_ref(),
        &randnla::attention::PolySketchParams {
            degree: 4,
            sketch_dim: 32,
            map: randnla::attention::FeatureMap::Gaussian,
            causal: false,
            block: 256,
            seed: randnla::Seed::new(0),
            check: true,
        },
        faer::Par::Seq,
    )
    .unwrap();
    let want = info.rel_error.unwrap();
    let got = field(&checked, "rel_error").num().unwrap();
    assert!(close(got, want), "rel_error {got} vs the library's {want}");
}

/// `κ(S·Q)` by the library for an `A` of full column rank, with `sketch`'s operator as the
/// example builds it (`--seed` 0).
fn library_distortion(kind: randnla::sketch::SketchKind, m: usize, a: &faer::Mat<f64>) -> f64 {
    let op = kind
        .build::<f64>(m, a.nrows(), randnla::Seed::new(0))
        .unwrap();
    randnla::diagnostics::distortion_on_range(&*op, common::dense(a), faer::Par::Seq).unwrap()
}

/// Issue #2: sketch's `--json` `distortion` is "κ(SQ) when d ≤ 2000, else null", `Q` a basis of
/// `range(A)`. For an `A` of rank below `d` (dependent columns, or `n < d`) it was null ("not
/// measured: matrix is numerically rank deficient", "n < d"); `range(A)` has a basis all the
/// same. Checked against the library on a full-rank `A'` with the same range: `[a, b, a + b]`
/// has the range of `[a, b]`, and a `3 × 5` `A` of rank 3 has range `ℝ³` (`Q = I`).
#[test]
fn sketch_distortion_is_measured_for_any_rank() {
    use randnla::sketch::SketchKind;
    let f = files("sketch-rank");
    let n = 200;
    let g = common::gauss(n, 2, 71);
    let a = faer::Mat::from_fn(n, 3, |i, j| match j {
        2 => g[(i, 0)] + g[(i, 1)],
        j => g[(i, j)],
    });
    let path = f.path("rank2.mtx");
    randnla::io::write_dense_path(&path, a.as_ref()).unwrap();
    let wide = faer::Mat::from_fn(3, 5, |i, j| if i == j { 1.0 + i as f64 } else { 0.5 });
    let wide_path = f.path("wide.mtx");
    randnla::io::write_dense_path(&wide_path, wide.as_ref()).unwrap();
    let cases = [
        (&path, g.clone(), SketchKind::Gaussian, "gaussian", "12"),
        (
            &path,
            g.clone(),
            SketchKind::SparseSign { nnz_per_col: 4 },
            "sparse-sign",
            "12",
        ),
        (
            &wide_path,
            faer::Mat::<f64>::identity(3, 3),
            SketchKind::Gaussian,
            "gaussian",
            "6",
        ),
    ];
    for (p, range, kind, name, m) in cases {
        let mut args = vec![p.as_str(), "--sketch", name, "--rows", m, "--json"];
        if name == "sparse-sign" {
            args.extend(["--nnz-per-col", "4"]);
        }
        let j = json("sketch", &args);
        let got = field(&j, "distortion")
            .num()
            .unwrap_or_else(|| panic!("{name} on {p}: no distortion: {j:?}"));
        let want = library_distortion(kind, m.parse().unwrap(), &range);
        assert!(
            (got - want).abs() <= 1e-10 * want,
            "{name} on {p}: κ {got} vs {want}"
        );
        assert_eq!(field(&j, "distortion_note"), &J::Null);
    }
    // Fewer sketch rows than the rank (2): infinite, said in the note.
    let j = json(
        "sketch",
        &[&path, "--sketch", "gaussian", "--rows", "1", "--json"],
    );
    assert_eq!(field(&j, "distortion"), &J::Null);
    let J::Str(note) = field(&j, "distortion_note") else {
        panic!("{j:?}")
    };
    assert!(note.contains("rank(A) = 2"), "{note}");
}

/// A value the library refuses is named as the option the user typed (`--rows`, not the
/// library's `m`; `--sketch-dim`, not `sketch_dim`; the part of `--synthetic n,k,noise,p`), in
/// every example that passes the value on.
#[test]
fn library_errors_name_the_option() {
    let f = files("names");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    let (q, k, v) = (f.path("Q.mtx"), f.path("K.mtx"), f.path("V.mtx"));
    write_gaussian_array(&q, 20, 4, 81, 0.5);
    write_gaussian_array(&k, 20, 4, 82, 0.5);
    write_gaussian_array(&v, 20, 3, 83, 1.0);
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "poly_features",
            vec![&a, "--degree", "0", "--rows", "8"],
            "--degree",
        ),
        (
            "poly_features",
            vec![&a, "--degree", "2", "--rows", "0"],
            "--rows",
        ),
        (
            "poly_features",
            vec![&a, "--degree", "2", "--rows", "8", "--gamma", "-1"],
            "--gamma",
        ),
        (
            "poly_features",
            vec![&a, "--degree", "2", "--rows", "8", "--coef0", "-1"],
            "--coef0",
        ),
        ("attention", vec![&q, &k, &v, "--degree", "3"], "--degree"),
        (
            "attention",
            vec![&q, &k, &v, "--sketch-dim", "0"],
            "--sketch-dim",
        ),
        ("attention", vec![&q, &k, &v, "--block", "0"], "--block"),
        (
            "attention",
            vec![&q, &k, &v, "--kind", "poly-exact", "--block", "0"],
            "--block",
        ),
        (
            "attention",
            vec![&q, &k, &v, "--kind", "softmax", "--scale", "nan"],
            "--scale",
        ),
        ("active", vec![&a, &b, "--budget", "3"], "--budget"),
        ("sketch_cpu", vec!["--nnz", "100", "--rows", "0"], "--rows"),
        (
            "tensor_power",
            vec!["--synthetic", "8,2,0,3", "--rank", "0"],
            "--rank",
        ),
        (
            "tensor_power",
            vec![
                "--synthetic",
                "8,2,0,3",
                "--method",
                "exact",
                "--starts",
                "0",
            ],
            "--starts",
        ),
        (
            "tensor_power",
            vec!["--synthetic", "8,2,0,3", "--sketch-dim", "3"],
            "--sketch-dim",
        ),
        (
            "tensor_power",
            vec!["--synthetic", "8,2,0,3", "--search-sketch-dim", "2"],
            "--search-sketch-dim",
        ),
        (
            "tensor_power",
            vec!["--synthetic", "8,9,0,3"],
            "--synthetic k",
        ),
        (
            "tensor_power",
            vec!["--synthetic", "8,2,-1,3"],
            "--synthetic noise",
        ),
        (
            "tensor_power",
            vec!["--synthetic", "8,2,0,2"],
            "--synthetic p",
        ),
    ];
    for (name, args, flag) in cases {
        let msg = rejected(name, &args);
        assert!(
            msg.starts_with(&format!("error: {flag}: ")),
            "{name} {args:?}: {msg}"
        );
    }
}

/// Bad input is one line on stderr, and no report on stdout: sketch_cpu built its sparse sign
/// sketch (`s = 8`) only after printing the SpMV line, so `--rows 4` left half a table behind.
#[test]
fn sketch_cpu_refuses_its_rows_before_printing() {
    for rows in ["0", "4"] {
        let args = ["--nnz", "100", "--reps", "1", "--rows", rows, "--json"];
        let msg = rejected("sketch_cpu", &args);
        assert!(msg.contains("--rows"), "{msg}");
        let out = run("sketch_cpu", &args);
        assert!(
            out.stdout.is_empty(),
            "--rows {rows}: stdout {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Issue #7: tensor_power's `nnz` is the tensor's number of nonzeros. It was the number of
/// stored entries, all `n^p` of them in dense storage, so one file reported 27 (dense) or 8
/// (coordinate) for the same 8 nonzero entries, as `--storage` (or `auto`) chose.
#[test]
fn tensor_power_nnz_does_not_depend_on_the_storage() {
    let f = files("tns-nnz");
    let path = f.path("t.tns");
    // T₁₁₁ = 2, T₂₂₂ = 1, and the 6 permutations of (1, 2, 3) = 0.5: 8 nonzeros of 27.
    std::fs::write(&path, "1 1 1 2.0\n2 2 2 1.0\n1 2 3 0.5\n").unwrap();
    for storage in ["dense", "coordinate", "auto"] {
        let j = json(
            "tensor_power",
            &[
                "--tns",
                &path,
                "--storage",
                storage,
                "--method",
                "exact",
                "--rank",
                "1",
                "--json",
            ],
        );
        assert_eq!(
            field(&j, "nnz").num(),
            Some(8.0),
            "--storage {storage}: {j:?}"
        );
        assert_eq!(field(&j, "n").num(), Some(3.0));
        assert_eq!(field(&j, "order").num(), Some(3.0));
    }
}

/// An unreadable input is named: a directory given as the `.tns` file failed with "I/O error:
/// reading line 1: Is a directory", which names no file (the I/O errors on opening a file name
/// it, and were therefore never prefixed).
#[test]
fn an_unreadable_input_is_named() {
    let f = files("unreadable");
    let dir = f.dir.join("a_directory");
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.to_string_lossy().into_owned();
    let msg = rejected("tensor_power", &["--tns", &dir]);
    assert_eq!(msg.matches(dir.as_str()).count(), 1, "{msg}");
    let msg = rejected("sketch", &[&dir, "--sketch", "count", "--rows", "2"]);
    assert_eq!(msg.matches(dir.as_str()).count(), 1, "{msg}");
}

/// Kinds of JSON value a field may hold.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A number.
    Num,
    /// A number or null.
    NumOrNull,
    /// A string.
    Str,
    /// A string or null.
    StrOrNull,
    /// A boolean.
    Bool,
    /// Null.
    Null,
}

/// The fields an issue names, each with its kind.
type Fields = [(&'static str, Kind)];

fn has_kind(v: &J, kind: Kind) -> bool {
    matches!(
        (kind, v),
        (Kind::Num | Kind::NumOrNull, J::Num(..))
            | (Kind::NumOrNull | Kind::StrOrNull | Kind::Null, J::Null)
            | (Kind::Str | Kind::StrOrNull, J::Str(_))
            | (Kind::Bool, J::Bool(_))
    )
}

/// Every field each issue names for each example's `--json`, with its JSON type, on a good run
/// (the output parsed by a strict JSON parser: no `NaN`, no `inf`).
#[test]
fn every_issue_field_is_there_with_its_type() {
    use Kind::*;
    let f = files("fields");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    let (q, k, v) = (f.path("Q.mtx"), f.path("K.mtx"), f.path("V.mtx"));
    write_gaussian_array(&q, 30, 4, 91, 0.5);
    write_gaussian_array(&k, 30, 4, 92, 0.5);
    write_gaussian_array(&v, 30, 3, 93, 1.0);
    let sketch = [
        ("sketch", Str),
        ("n", Num),
        ("d", Num),
        ("nnz", Num),
        ("m", Num),
        ("seconds", Num),
        ("distortion", Num),
    ];
    let leverage = [
        ("n", Num),
        ("d", Num),
        ("nnz", Num),
        ("method", Str),
        ("seconds", Num),
        ("sum_of_scores", Num),
        ("max_score", Num),
        ("max_rel_error", Num),
        ("median_rel_error", Num),
    ];
    let lstsq = [
        ("method", Str),
        ("n", Num),
        ("d", Num),
        ("nnz", Num),
        ("seconds", Num),
        ("iterations", NumOrNull),
        ("residual_norm", Num),
        ("normal_eq_residual", Num),
        ("converged", Bool),
    ];
    let poly = [
        ("n", Num),
        ("d", Num),
        ("nnz", Num),
        ("degree", Num),
        ("m", Num),
        ("seconds", Num),
        ("kernel_rel_error", Num),
    ];
    let attention = [
        ("kind", Str),
        ("n", Num),
        ("h", Num),
        ("degree", NumOrNull),
        ("r", NumOrNull),
        ("causal", Bool),
        ("seconds", Num),
        ("peak_bytes", NumOrNull),
        ("rel_error", NumOrNull),
    ];
    let tensor = [
        ("n", Num),
        ("order", Num),
        ("nnz", Num),
        ("rank", Num),
        ("method", Str),
        ("seconds", Num),
        ("max_factor_error", Num),
        ("residual_rel", Num),
    ];
    let active = [
        ("n", Num),
        ("d", Num),
        ("budget", Num),
        ("strategy", Str),
        ("labels_used", Num),
        ("seconds", Num),
    ];
    let runs: Vec<(&str, Vec<&str>, &Fields)> = vec![
        (
            "sketch",
            vec![&a, "--sketch", "count", "--rows", "12"],
            &sketch,
        ),
        (
            "sketch",
            vec![&a, "--sketch", "srht", "--rows", "12"],
            &sketch,
        ),
        ("leverage", vec![&a, "--check"], &leverage),
        ("leverage", vec![&a, "--check", "--ridge", "0.5"], &leverage),
        ("lstsq", vec![&a, &b, "--method", "qr"], &lstsq),
        ("lstsq", vec![&a, &b, "--method", "lsqr"], &lstsq),
        ("lstsq", vec![&a, &b, "--ridge", "0.1"], &lstsq),
        (
            "poly_features",
            vec![&a, "--degree", "3", "--rows", "32"],
            &poly,
        ),
        ("attention", vec![&q, &k, &v, "--check"], &attention),
        (
            "attention",
            vec![&q, &k, &v, "--causal", "--check"],
            &attention,
        ),
        (
            "attention",
            vec![&q, &k, &v, "--kind", "softmax"],
            &attention,
        ),
        (
            "attention",
            vec![&q, &k, &v, "--kind", "poly-exact"],
            &attention,
        ),
        ("tensor_power", vec!["--synthetic", "8,2,0.05,3"], &tensor),
        (
            "tensor_power",
            vec!["--synthetic", "8,2,0.05,4", "--method", "exact"],
            &tensor,
        ),
        (
            "active",
            vec![&a, &b, "--budget", "8", "--trials", "3"],
            &active,
        ),
    ];
    for (name, mut args, fields) in runs {
        args.push("--json");
        let j = json(name, &args);
        for &(key, kind) in fields {
            let v = field(&j, key);
            assert!(
                has_kind(v, kind),
                "{name} {args:?}: {key} = {v:?}, not {kind:?}"
            );
        }
    }
    // The nulls the issues ask for: rel_error without --check; r, and degree of softmax, for
    // the exact kinds; max_factor_error without known factors; distortion for d > 2000.
    let j = json("attention", &[&q, &k, &v, "--json"]);
    assert!(has_kind(field(&j, "rel_error"), Null));
    let j = json("attention", &[&q, &k, &v, "--kind", "softmax", "--json"]);
    assert!(has_kind(field(&j, "r"), Null) && has_kind(field(&j, "degree"), Null));
    let tns = f.path("t.tns");
    std::fs::write(&tns, "1 1 1 2.0\n2 2 2 1.0\n").unwrap();
    let j = json("tensor_power", &["--tns", &tns, "--json"]);
    assert!(has_kind(field(&j, "max_factor_error"), Null));
    let wide = f.path("wide.mtx");
    std::fs::write(
        &wide,
        "%%MatrixMarket matrix coordinate real general\n3 2001 1\n1 1 1\n",
    )
    .unwrap();
    let j = json(
        "sketch",
        &[&wide, "--sketch", "gaussian", "--rows", "4", "--json"],
    );
    assert!(has_kind(field(&j, "distortion"), Null));
    assert!(has_kind(field(&j, "distortion_note"), StrOrNull));
    let j = json("leverage", &[&a, "--json"]);
    assert!(has_kind(field(&j, "max_rel_error"), Null));
}

/// An `X` with no columns is named as empty; poly_features said "invalid parameter `d`: the
/// input dimension must be at least 1", a parameter the user never gave.
#[test]
fn poly_features_names_an_empty_x() {
    let f = files("poly-empty");
    let x = f.path("x.mtx");
    std::fs::write(&x, "%%MatrixMarket matrix array real general\n3 0\n").unwrap();
    let msg = rejected("poly_features", &[&x, "--degree", "2", "--rows", "4"]);
    assert!(msg.contains("(3×0) is empty"), "{msg}");
}
