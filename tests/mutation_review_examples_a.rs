//! Hand mutation review of the examples' own code (mains and argument handling) of
//! `examples/lstsq.rs`, `examples/sketch.rs`, `examples/poly_features.rs` and
//! `examples/leverage.rs`: tests that kill mutants the rest of the suite let through. Each test's
//! doc names the mutant (the one-line slip) and how it fails under it.
//!
//! 47 mutants (2026-12-07): lstsq 20, sketch 12, poly_features 7, leverage 8. The suite killed
//! 38; the nine tests here kill the other nine, so none survives:
//! - lstsq: `--max-iters`, `--no-probe` and `--ridge` accepted where they do not apply
//!   (sketch-solve; every method but sketch-precondition; sketch-solve), lsqr's default budget
//!   taken from sketch-precondition's (500, not 1000), `seconds` in milliseconds;
//! - sketch: `--nnz-per-col` accepted (and ignored) with another sketch than sparse-sign, the
//!   human line's "ns per stored entry" divided by `n·d` instead of the stored entries;
//! - leverage: an unknown `--method` run as approx, `--check` counting rows whose exact score is
//!   0 (a zero row), which shifts the median.
//!
//! Like `tests/examples_cli.rs`, this runs the example binaries that `cargo test` builds under
//! `target/<profile>/examples/` (run `cargo build --examples` first when filtering to this file).

use crate::common;
use common::json::J;
use common::{assert_example_rejected as rejected, TempFiles};
use randnla::io::{read_dense_path, read_matrix_market_path, write_dense_path, ReadOptions};

/// The number in field `key` of `j` (present and not null).
fn num(j: &J, key: &str) -> f64 {
    j.get(key)
        .unwrap_or_else(|| panic!("no field {key} in {j:?}"))
        .num()
        .unwrap_or_else(|| panic!("{key} is null in {j:?}"))
}

/// Test files in a directory of their own, with the examples' small least-squares problem
/// (`A.mtx`: 60 × 4 sparse, `b.mtx`).
fn files(tag: &str) -> TempFiles {
    let f = TempFiles::new("randnla-mutation-review-examples-a", tag);
    let (a, b) = common::small_ls_problem_mtx();
    std::fs::write(f.dir.join("A.mtx"), a).unwrap();
    std::fs::write(f.dir.join("b.mtx"), b).unwrap();
    f
}

/// Writes the least-squares problem on which unpreconditioned LSQR needs between 500 and 1000
/// iterations: `A = [D; 0]`, `300 × 150` coordinate, `D` diagonal with `σᵢ = 10^(−2i/149)`
/// (`κ = 100`, 150 distinct singular values), and `b` (`common::rhs(300, 7)`) as an array.
/// Returns the paths of `A` and `b`.
fn write_slow_lsqr_problem(f: &TempFiles) -> (String, String) {
    let (n, d) = (300, 150);
    let mut a = format!("%%MatrixMarket matrix coordinate real general\n{n} {d} {d}\n");
    for i in 0..d {
        let s = 10f64.powf(-2.0 * i as f64 / (d - 1) as f64);
        a.push_str(&format!("{} {} {s:?}\n", i + 1, i + 1));
    }
    let (ap, bp) = (f.path("A_slow.mtx"), f.path("b_slow.mtx"));
    std::fs::write(&ap, a).unwrap();
    let b = common::rhs(n, 7);
    write_dense_path(&bp, faer::MatRef::from_column_major_slice(&b, n, 1)).unwrap();
    (ap, bp)
}

/// Mutant: `--max-iters` accepted with `--method sketch-solve` (and ignored: it has no
/// iterations). The doc: "`--max-iters` caps LSQR's iterations"; the example refuses the options
/// that do not apply. Under the mutant the sketch-solve run exits 0.
#[test]
fn lstsq_max_iters_is_refused_by_the_direct_and_one_shot_methods() {
    let f = files("maxit");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    for method in ["qr", "normal", "sketch-solve"] {
        let msg = rejected("lstsq", &[&a, &b, "--method", method, "--max-iters", "5"]);
        assert!(msg.contains("--max-iters"), "{method}: {msg}");
    }
}

/// Mutant: `--no-probe` accepted with every method (and ignored but by sketch-precondition). The
/// doc: sketch-precondition "first tries LSQR without a sketch …; `--no-probe` sketches at once";
/// no other method probes. Under the mutant each of these runs exits 0.
#[test]
fn lstsq_no_probe_is_refused_by_the_methods_that_do_not_probe() {
    let f = files("noprobe");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    for method in ["qr", "normal", "lsqr", "sketch-solve"] {
        let msg = rejected("lstsq", &[&a, &b, "--method", method, "--no-probe"]);
        assert!(msg.contains("--no-probe"), "{method}: {msg}");
    }
}

/// Mutant: sketch-solve's refusal of `--ridge` dropped, so `--ridge 0.5` is silently ignored
/// (the library's `sketch_and_solve` has no ridge) and the unregularized `x` is returned as if
/// it were the ridge solution. Under the mutant the run exits 0; the error must name `--ridge`.
#[test]
fn lstsq_sketch_solve_refuses_a_ridge_it_cannot_apply() {
    let f = files("ssridge");
    let (a, b) = (f.path("A.mtx"), f.path("b.mtx"));
    let msg = rejected(
        "lstsq",
        &[&a, &b, "--method", "sketch-solve", "--ridge", "0.5"],
    );
    assert!(msg.starts_with("error: --ridge"), "{msg}");
}

/// Mutant: lsqr's default iteration budget taken from `LstsqParams` (500, sketch-precondition's)
/// instead of `LsqrParams` (1000). The doc: "`--max-iters` caps LSQR's iterations (…; defaults
/// 1000 and 500)". On [`write_slow_lsqr_problem`] the library's `lsqr` with its default
/// parameters converges after more than 500 (and at most 1000) iterations (checked here); the
/// example without `--max-iters` must report the same: converged, the same iteration count.
/// Under the mutant it stops at 500 with `converged: false`.
#[test]
fn lstsq_lsqr_default_budget_is_1000_iterations() {
    let f = files("budget");
    let (ap, bp) = write_slow_lsqr_problem(&f);
    let file = read_matrix_market_path(&ap, &ReadOptions::default()).unwrap();
    // Read back: the files hold the entries as written, which the example reads.
    let bm = read_dense_path(&bp, &ReadOptions::default()).unwrap();
    let b: Vec<f64> = (0..bm.nrows()).map(|i| bm[(i, 0)]).collect();
    let p = randnla::lstsq::LsqrParams::default();
    assert_eq!(p.max_iters, 1000, "the documented default");
    let (_, info) = randnla::lstsq::lsqr(file.view().unwrap(), &b, &p).unwrap();
    assert!(
        info.converged && (501..=1000).contains(&info.iterations),
        "the problem no longer needs 501–1000 LSQR iterations: {info:?}"
    );
    let (j, _) = common::example_json("lstsq", &[&ap, &bp, "--method", "lsqr", "--json"]);
    assert_eq!(j.get("converged"), Some(&J::Bool(true)), "{j:?}");
    assert_eq!(num(&j, "iterations"), info.iterations as f64, "{j:?}");
}

/// Mutant: lstsq's `seconds` reported in milliseconds (`× 10³`). The doc names the field
/// `seconds`; the solve it times is part of the child process, so the figure is at most the
/// wall-clock time of the whole run measured here. The lsqr solve of
/// [`write_slow_lsqr_problem`] (over 500 iterations) takes milliseconds (2–14 ms on the 2-core
/// test machine, 2026-12-07), so the mutant reports seconds (2–14) against a run of some 10–20 ms.
#[test]
fn lstsq_seconds_is_at_most_the_runs_wall_clock_time() {
    let f = files("seconds");
    let (ap, bp) = write_slow_lsqr_problem(&f);
    let t = std::time::Instant::now();
    let (j, _) = common::example_json("lstsq", &[&ap, &bp, "--method", "lsqr", "--json"]);
    let wall = t.elapsed().as_secs_f64();
    let s = num(&j, "seconds");
    assert!(s > 0.0 && s <= wall, "seconds {s} vs the run's {wall} s");
}

/// Mutant: `sketch --nnz-per-col S` accepted (and ignored) with `--sketch` count, gaussian or
/// srht. The usage and doc give `--nnz-per-col` for sparse-sign (its nonzeros per column); the
/// other sketches have no such parameter. Under the mutant each of these runs exits 0.
#[test]
fn sketch_nnz_per_col_is_refused_by_the_other_sketches() {
    let f = files("nnzkind");
    let a = f.path("A.mtx");
    for kind in ["count", "gaussian", "srht"] {
        let msg = rejected(
            "sketch",
            &[&a, "--sketch", kind, "--rows", "8", "--nnz-per-col", "2"],
        );
        assert!(msg.contains("--nnz-per-col"), "{kind}: {msg}");
    }
}

/// Mutant: the human line's "ns per stored entry" divided by `n·d` instead of the stored entries
/// (`nnz`). On `--generate 2000,50,3` (`nnz` ≈ 6000 stored entries against `n·d` = 100 000)
/// the figure must be `seconds·10⁹/nnz` with `seconds` and `nnz` the JSON's (`seconds` printed
/// to round trip), formatted as the line does (two decimals); the mutant's is some 17× smaller.
#[test]
fn sketch_ns_per_stored_entry_divides_by_the_stored_entries() {
    let (j, stdout) = common::example_json(
        "sketch",
        &[
            "--generate",
            "2000,50,3",
            "--sketch",
            "sparse-sign",
            "--rows",
            "200",
            "--json",
        ],
    );
    let (secs, nnz) = (num(&j, "seconds"), num(&j, "nnz"));
    assert!(nnz > 0.0 && nnz < 2000.0 * 50.0, "{j:?}");
    let want = format!("({:.2} ns per stored entry)", secs * 1e9 / nnz);
    assert!(
        stdout.lines().any(|l| l.contains(&want)),
        "no {want:?} in {stdout:?}"
    );
}

/// Mutant: leverage's `--method` check dropped, so `--method bogus` runs the approximate
/// method and exits 0. The usage: `--method exact|approx`; bad input is one line on stderr,
/// exit code 2, and the message names the option.
#[test]
fn leverage_refuses_an_unknown_method() {
    let f = files("levmethod");
    let msg = rejected("leverage", &[&f.path("A.mtx"), "--method", "bogus"]);
    assert!(msg.contains("--method"), "{msg}");
}

/// Mutant: `--check` keeps the rows with exact score `ℓ_i ≥ 0` instead of `ℓ_i > 0`. The doc: the
/// errors are "over the rows with `ℓ_i > 0`". A zero row has `ℓ_i = 0` (the Householder route
/// gives it exactly 0, checked here) and approximate score 0, so the mutant adds `0/0 = NaN`
/// (negative on x86-64, sorted first by `total_cmp`), which shifts the median by one place.
/// Input: `101 × 3`, row 0 zero, the others `common::gauss(101, 3, 5)`'s (distinct errors);
/// `n > 10d`, so the approximate algorithm runs. Pass rule: `median_rel_error` and
/// `max_rel_error` are those of `|s_i − ℓ_i|/ℓ_i` over the 100 rows with `ℓ_i > 0`, `s` from
/// `--out`, `ℓ` the library's exact Householder scores, to 10⁻¹² relative (the median of an even
/// count is the mean of the two middle errors).
#[test]
fn leverage_check_leaves_out_rows_of_zero_exact_score() {
    use randnla::leverage::{exact_ridge_leverage_scores, ExactMethod, ExactParams};
    let f = files("levzero");
    let g = common::gauss(101, 3, 5);
    let a = faer::Mat::from_fn(101, 3, |i, j| if i == 0 { 0.0 } else { g[(i, j)] });
    let (ap, out) = (f.path("Z.mtx"), f.path("s.mtx"));
    write_dense_path(&ap, a.as_ref()).unwrap();
    // Read back: the file holds the entries as written, which the example reads.
    let a = read_dense_path(&ap, &ReadOptions::default()).unwrap();
    let (j, _) = common::example_json(
        "leverage",
        &[
            &ap, "--method", "approx", "--check", "--out", &out, "--json",
        ],
    );
    assert_eq!(j.get("algorithm"), Some(&J::Str("approx".into())), "{j:?}");
    let s = read_dense_path(&out, &ReadOptions::default()).unwrap();
    let reference = ExactParams {
        method: ExactMethod::Householder,
        ..Default::default()
    };
    let (ex, _) =
        exact_ridge_leverage_scores(common::dense(&a), 0.0, &reference, faer::Par::Seq).unwrap();
    assert_eq!(ex[0], 0.0, "the zero row's exact score");
    let mut errs: Vec<f64> = (0..101)
        .filter(|&i| ex[i] > 0.0)
        .map(|i| (s[(i, 0)] - ex[i]).abs() / ex[i])
        .collect();
    assert_eq!(errs.len(), 100);
    errs.sort_by(f64::total_cmp);
    let median = (errs[49] + errs[50]) / 2.0;
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * y.abs();
    let (got_med, got_max) = (num(&j, "median_rel_error"), num(&j, "max_rel_error"));
    assert!(close(got_med, median), "median {got_med} vs {median}");
    assert!(close(got_max, errs[99]), "max {got_max} vs {}", errs[99]);
}
