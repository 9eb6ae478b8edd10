//! Hand mutation review of the examples' own code (argument handling, the figures they print,
//! output files) in `examples/active.rs`, `examples/attention.rs`, `examples/tensor_power.rs`
//! and `examples/sketch_cpu.rs`: tests that kill mutants the rest of the suite let through.
//! Each test's doc names the mutant (the one-line slip) and how it fails under it. The tests run
//! the example binaries as child processes, as `examples_cli` does.
//!
//! 49 mutants (2026-12-07; one build of the four examples, each mutant switched on by an
//! environment variable the example processes read): the suite (`suite_examples`, and
//! `suite_tensor`'s `attention_review3` and `tensor_power_review`) killed 32, these tests the
//! other 17; no survivors. Not mutated: the caps on `--threads` and on sizes (a mutant that drops
//! one can start thousands of threads or allocate without bound), and figures only a timing
//! could tell apart (active's per-trial `seconds` as a mean, sketch_cpu's ns per nonzero).

use crate::common::json::J;
use crate::common::{self, assert_example_rejected as rejected, run_example as run, TempFiles};

/// Exit code 0 and the last stdout line parsed as one JSON object.
fn json(name: &str, args: &[&str]) -> J {
    common::example_json(name, args).0
}

/// Field `key` of `j` as a number (panics when missing or null).
fn num(j: &J, key: &str) -> f64 {
    j.get(key)
        .unwrap_or_else(|| panic!("no {key} in {j:?}"))
        .num()
        .unwrap_or_else(|| panic!("{key} is null in {j:?}"))
}

/// Exit code 0 and stdout as text.
fn stdout_of(name: &str, args: &[&str]) -> String {
    let out = run(name, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{name} {args:?}: stderr {stderr:?}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The cells of a `cli::table` (header line, dashes, then rows) as header → value, for its
/// first row (no cell of these tables has a space).
fn table_row(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with('-') || l.trim_start().starts_with("--"))
        .expect("a dashed line under the header");
    let header: Vec<&str> = split_cols(lines[i - 1], lines[i]);
    let row: Vec<&str> = split_cols(lines[i + 1], lines[i]);
    header
        .into_iter()
        .map(String::from)
        .zip(row.into_iter().map(String::from))
        .collect()
}

/// `line` cut at the columns the dashed `rule` marks (runs of `-`), each cell trimmed.
fn split_cols<'a>(line: &'a str, rule: &str) -> Vec<&'a str> {
    let mut cols = Vec::new();
    let mut start = None;
    let bytes: Vec<char> = rule.chars().collect();
    for (k, &c) in bytes.iter().enumerate() {
        match (c == '-', start) {
            (true, None) => start = Some(k),
            (false, Some(s)) => {
                cols.push((s, k));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        cols.push((s, bytes.len()));
    }
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let at = |k: usize| chars.get(k).map_or(line.len(), |&(b, _)| b);
    cols.iter()
        .map(|&(s, e)| line[at(s)..at(e)].trim())
        .collect()
}

/// The cell under `header` in `row`.
fn cell<'a>(row: &'a [(String, String)], header: &str) -> &'a str {
    &row.iter()
        .find(|(h, _)| h == header)
        .unwrap_or_else(|| panic!("no column {header} in {row:?}"))
        .1
}

// ---------------------------------------------------------------------------------------------
// active

/// The 60 × 4 pool and its labels (`common::small_ls_problem_mtx`) in a directory of their own.
fn pool(tag: &str) -> (TempFiles, String, String) {
    let f = TempFiles::new("randnla-mutation-review-examples-b", tag);
    let (a, b) = common::small_ls_problem_mtx();
    std::fs::write(f.path("X.mtx"), a).unwrap();
    std::fs::write(f.path("y.mtx"), b).unwrap();
    let (x, y) = (f.path("X.mtx"), f.path("y.mtx"));
    (f, x, y)
}

/// `--trials` is in `1..=100 000` (its doc): 0 is refused naming the option, and a budget of
/// exactly `n` is allowed (the doc refuses `budget > n` only); with `--spend-budget` and
/// uniform sampling it buys all 60 labels (the coupon collector needs about
/// `60·H₆₀ ≈ 281` draws, far below the `100K + 10⁴` cap). Kills: `trials == 0` dropped from the
/// range check (`--trials 0` ran no trial and printed `seconds` = 0/0, exit 0); `budget ≥ n`
/// refused (`--budget 60` on 60 rows rejected).
#[test]
fn active_trials_zero_refused_and_a_budget_of_n_accepted() {
    let (_f, x, y) = pool("active-range");
    let msg = rejected("active", &[&x, &y, "--budget", "8", "--trials", "0"]);
    assert!(msg.contains("--trials 0"), "{msg}");
    let j = json(
        "active",
        &[
            &x,
            &y,
            "--budget",
            "60",
            "--strategy",
            "uniform",
            "--spend-budget",
            "--seed",
            "4",
            "--json",
        ],
    );
    assert_eq!(num(&j, "budget"), 60.0);
    assert_eq!(num(&j, "labels_used"), 60.0, "{j:?}");
    let msg = rejected("active", &[&x, &y, "--budget", "61"]);
    assert!(msg.contains("--budget 61"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// attention

/// Writes a Matrix Market array file `name` with the column-major `vals` (`rows × cols`) and,
/// when `comment` is set, a comment line of that many bytes after the banner; its path.
fn array_file(
    f: &TempFiles,
    name: &str,
    rows: usize,
    cols: usize,
    vals: &[f64],
    comment: usize,
) -> String {
    let mut s = String::from("%%MatrixMarket matrix array real general\n");
    if comment > 0 {
        s.push('%');
        s.push_str(&"x".repeat(comment - 1));
        s.push('\n');
    }
    s.push_str(&format!("{rows} {cols}\n"));
    for v in vals {
        s.push_str(&format!("{v}\n"));
    }
    std::fs::write(f.path(name), s).unwrap();
    f.path(name)
}

/// Q (4 × 2), K = Q and V (4 × 1): a small attention problem.
fn qkv(f: &TempFiles) -> (String, String) {
    let q = array_file(
        f,
        "Q.mtx",
        4,
        2,
        &[1.0, 2.0, 3.0, 4.0, 0.5, 0.25, 0.0, -1.0],
        0,
    );
    let v = array_file(f, "V.mtx", 4, 1, &[1.0, 2.0, 3.0, 4.0], 0);
    (q, v)
}

/// `--seed` applies to `--kind poly-sketch` with a random map only (the doc: "`--seed` outside
/// poly-sketch … is an error, as are `--sketch-dim` and `--seed` with `--map identity`"), and an
/// unknown `--kind` is an error naming it. Kills: the `--seed` check for the exact kinds
/// dropped (accepted and ignored); the identity-map loop checking `--sketch-dim` only; the
/// `--kind` check dropped (`--kind bogus` ran exact polynomial attention).
#[test]
fn attention_refuses_seed_where_nothing_is_random_and_an_unknown_kind() {
    let f = TempFiles::new("randnla-mutation-review-examples-b", "att-seed");
    let (q, v) = qkv(&f);
    for kind in ["softmax", "poly-exact"] {
        let msg = rejected("attention", &[&q, &q, &v, "--kind", kind, "--seed", "3"]);
        assert!(msg.contains("--seed") && msg.contains(kind), "{msg}");
    }
    let msg = rejected(
        "attention",
        &[&q, &q, &v, "--map", "identity", "--seed", "3"],
    );
    assert!(
        msg.contains("--seed") && msg.contains("--map identity"),
        "{msg}"
    );
    let msg = rejected("attention", &[&q, &q, &v, "--kind", "bogus"]);
    assert!(msg.contains("--kind bogus"), "{msg}");
    // The same command lines without the option run.
    json("attention", &[&q, &q, &v, "--kind", "softmax", "--json"]);
    json("attention", &[&q, &q, &v, "--map", "identity", "--json"]);
}

/// `peak_bytes` is the heap the attention call allocates beyond what was live before it, so it
/// does not depend on how the inputs were read: the same Q with a 1 MB comment line (which the
/// reader holds while it reads that line) gives the same figure, on one thread (the doc's
/// reproducible setting). Kills: the peak counter not reset at the start of the call
/// (`PEAK.store(base)` dropped): the peak then counts the reading of the files, 8 149 bytes
/// instead of 848 here and 1.5 MB with the comment line.
#[test]
fn attention_peak_bytes_does_not_count_reading_the_inputs() {
    let f = TempFiles::new("randnla-mutation-review-examples-b", "att-peak");
    let (q, v) = qkv(&f);
    let vals = [1.0, 2.0, 3.0, 4.0, 0.5, 0.25, 0.0, -1.0];
    let qc = array_file(&f, "Qc.mtx", 4, 2, &vals, 1_000_000);
    for kind in ["softmax", "poly-exact"] {
        let args = |q: &str| {
            json(
                "attention",
                &[q, q, &v, "--kind", kind, "--threads", "1", "--json"],
            )
        };
        let (plain, commented) = (args(&q), args(&qc));
        let (p, c) = (num(&plain, "peak_bytes"), num(&commented, "peak_bytes"));
        assert_eq!(
            p, c,
            "{kind}: peak_bytes {p} plain, {c} with a comment line"
        );
        // The call's own arrays: a 4 × 4 score block and a 4 × 1 output (a few hundred bytes),
        // far below the megabyte the reading held.
        assert!(c < 100_000.0, "{kind}: peak_bytes {c}");
    }
}

/// The table's `d` column is V's column count (the output is `n × d`), not Q's `h`. Q is
/// 4 × 2, V is 4 × 3. Kills: the `d` cell given `h`.
#[test]
fn attention_table_d_is_the_value_dimension() {
    let f = TempFiles::new("randnla-mutation-review-examples-b", "att-table");
    let (q, _) = qkv(&f);
    let v = array_file(&f, "V3.mtx", 4, 3, &[1.0; 12], 0);
    let text = stdout_of("attention", &[&q, &q, &v, "--kind", "softmax"]);
    let row = table_row(&text);
    assert_eq!(cell(&row, "h"), "2", "{text}");
    assert_eq!(cell(&row, "d"), "3", "{text}");
}

// ---------------------------------------------------------------------------------------------
// tensor_power

/// A synthetic tensor (`--synthetic 5,2,0,3`) written with `--export` to `name`; its path.
fn exported_tensor(f: &TempFiles, name: &str) -> String {
    let path = f.path(name);
    let spec = ["--synthetic", "5,2,0,3", "--method", "exact", "--export"];
    let mut args = spec.to_vec();
    args.push(&path);
    stdout_of("tensor_power", &args);
    path
}

/// `--export` writes once the decomposition has run (its doc: "a rejected command line leaves
/// FILE alone"), also for an option only the library refuses (`--rank 0`); and exactly one of
/// `--tns` and `--synthetic` is taken. Kills: the export written before the decomposition (the
/// file was replaced by the tensor, then `--rank 0` refused); `--tns` taken whatever
/// `--synthetic` says (both given: the file decomposed, exit 0).
#[test]
fn tensor_power_export_waits_for_the_decomposition_and_one_input_only() {
    let f = TempFiles::new("randnla-mutation-review-examples-b", "tp-export");
    let keep = f.path("keep.tns");
    std::fs::write(&keep, "keep\n").unwrap();
    let msg = rejected(
        "tensor_power",
        &["--synthetic", "5,2,0,3", "--rank", "0", "--export", &keep],
    );
    assert!(msg.contains("--rank"), "{msg}");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "keep\n");

    let tns = exported_tensor(&f, "t.tns");
    // The file alone is a valid input ...
    json("tensor_power", &["--tns", &tns, "--json"]);
    // ... and with --synthetic as well, or with neither, the command line is refused.
    for args in [
        &["--tns", &tns, "--synthetic", "5,2,0,3"][..],
        &["--synthetic", "5,2,0,3", "--tns", &tns][..],
        &[][..],
    ] {
        let msg = rejected("tensor_power", args);
        assert!(msg.contains("exactly one"), "{args:?}: {msg}");
    }
}

/// `build_seconds` is the time taken to build the sketches, part of `seconds` (build + power
/// iterations): positive for `--method sketched` (a measured interval of real work), at most
/// `seconds`, and 0 for `--method exact`, which builds nothing. Kills: `build_seconds` reported
/// as 0 for the sketched method.
#[test]
fn tensor_power_build_seconds_is_the_sketch_build() {
    let j = json(
        "tensor_power",
        &["--synthetic", "30,3,0.1,3", "--threads", "1", "--json"],
    );
    let (build, seconds) = (num(&j, "build_seconds"), num(&j, "seconds"));
    assert!(build > 0.0 && build <= seconds, "{j:?}");
    let j = json(
        "tensor_power",
        &[
            "--synthetic",
            "30,3,0.1,3",
            "--method",
            "exact",
            "--threads",
            "1",
            "--json",
        ],
    );
    assert_eq!(num(&j, "build_seconds"), 0.0, "{j:?}");
}

/// `--exact-sweeps E` runs `refine_exact` after the sketched method: its figures are the
/// library's on the same decomposition (`exact_sweeps`, `contractions` up by `rank·(E + 1)`, the
/// residual and factor error those of the refined factors, here within `10⁻⁴` (relative) of
/// the exact method's, where the sketched method's are over twice them; measured: residual
/// 0.009940 against 0.035 sketched, factor error `8.34985·10⁻⁴` against the exact
/// `8.35009·10⁻⁴`), and `refine_seconds` is a measured part of `seconds` (0 without sweeps).
/// One run of each: `--synthetic 40,4,0.01,3 --threads 1`.
#[test]
fn tensor_power_exact_sweeps_refine_the_sketched_factors() {
    let base = ["--synthetic", "40,4,0.01,3", "--threads", "1", "--json"];
    let sk = json("tensor_power", &base);
    let refined = json(
        "tensor_power",
        &[&base[..], &["--exact-sweeps", "2"]].concat(),
    );
    let exact = json(
        "tensor_power",
        &[&base[..], &["--method", "exact"]].concat(),
    );
    assert_eq!(num(&sk, "exact_sweeps"), 0.0, "{sk:?}");
    assert_eq!(num(&sk, "refine_seconds"), 0.0, "{sk:?}");
    assert_eq!(num(&refined, "exact_sweeps"), 2.0, "{refined:?}");
    assert_eq!(
        num(&refined, "contractions"),
        num(&sk, "contractions") + 4.0 * 3.0,
        "{refined:?}"
    );
    let (rs, s) = (num(&refined, "refine_seconds"), num(&refined, "seconds"));
    assert!(rs > 0.0 && rs <= s, "{refined:?}");
    for key in ["residual_rel", "max_factor_error"] {
        let (a, b, c) = (num(&sk, key), num(&refined, key), num(&exact, key));
        assert!(a > 2.0 * c, "{key}: sketched {a} against exact {c}");
        assert!(
            (b - c).abs() <= 1e-4 * c,
            "{key}: refined {b} against exact {c}"
        );
    }
}

/// `cpu_seconds` is this process's CPU time (user + system, fields 14 and 15 of
/// `/proc/self/stat`) over build + iterations. The exact method on `--synthetic 100,3,0.1,3`
/// makes `3·(10·16 + 16) = 528` contractions of a 10⁶-entry tensor, ≈ 0.15 s of CPU on one
/// thread in an optimised build (more in an unoptimised one): many 10 ms ticks, so the figure
/// is positive, and on one thread at most the wall `seconds` plus three ticks of rounding.
/// Kills: the children's CPU fields (16 and 17, 0 for a process that starts none) read
/// instead.
#[test]
fn tensor_power_cpu_seconds_is_this_processs_cpu_time() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return;
    }
    let j = json(
        "tensor_power",
        &[
            "--synthetic",
            "100,3,0.1,3",
            "--method",
            "exact",
            "--threads",
            "1",
            "--json",
        ],
    );
    let (cpu, seconds) = (num(&j, "cpu_seconds"), num(&j, "seconds"));
    assert!(cpu > 0.0, "{j:?}");
    assert!(cpu <= seconds + 0.03, "{j:?}");
}

// ---------------------------------------------------------------------------------------------
// sketch_cpu

/// Small sizes are refused by the example's own check, whose message names the options
/// (`--nnz ≥ 25`, `--cols ≥ 25`: the matrix has 25 nonzeros a row; `--reps ≥ 1`). Kills: each
/// of the three parts of the check dropped: `--reps 0` then ran no repetition and reported
/// null figures with exit 0; `--nnz 24` (no rows) and `--cols 24` were refused by the
/// library with messages naming its parameters (`n`, `nnz_per_row`), not the options.
#[test]
fn sketch_cpu_refuses_small_sizes_naming_the_options() {
    for (args, option) in [
        (&["--nnz", "24"][..], "--nnz ≥ 25"),
        (&["--nnz", "1000", "--cols", "24"][..], "--cols ≥ 25"),
        (&["--nnz", "1000", "--reps", "0"][..], "--reps ≥ 1"),
    ] {
        let msg = rejected("sketch_cpu", args);
        assert!(msg.contains(option), "{args:?}: {msg}");
    }
}

/// `nnz` is that of the matrix built (`n = ⌊nnz/25⌋` rows of 25 nonzeros: `--nnz 5010` gives
/// 200 rows, 5 000 entries, as the library's `random_sparse` reports), not the number asked
/// for, and the JSON line is printed with `--json` only. Kills: the requested `--nnz` reported
/// (5010); the JSON line printed without `--json`.
#[test]
fn sketch_cpu_reports_the_built_nnz_and_json_only_when_asked() {
    let args = [
        "--nnz", "5010", "--rows", "30", "--cols", "40", "--reps", "1", "--seed", "61",
    ];
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let j = json("sketch_cpu", &with_json);
    let a = randnla::problems::random_sparse(200, 40, 25, randnla::Seed::new(61)).unwrap();
    assert_eq!(a.nnz(), 5000);
    assert_eq!(num(&j, "nnz"), 5000.0, "{j:?}");
    let text = stdout_of("sketch_cpu", &args);
    assert!(text.contains("nnz = 5000"), "{text}");
    assert!(
        text.lines().all(|l| !l.starts_with('{')),
        "a JSON line without --json: {text}"
    );
}

/// `MemAvailable` of `/proc/meminfo` in GB, where there is one.
fn mem_available_gb() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e9)
}

/// `--nnz 2³¹` needs about `32·2³¹ + 24·⌊2³¹/25⌋ + …` ≈ 70.8 GB: refused up front, saying how
/// much is available, the machine's `MemAvailable` (kB in `/proc/meminfo`, so × 1024 bytes),
/// within a factor 2 of what this test reads (it moves between the two reads). Run under an
/// address-space limit, so that on a machine with that much memory the example's reservation
/// fails (the other message) instead of building the matrix. Kills: `MemAvailable` taken as
/// bytes instead of kB (1024 times too little: "the 0.0 GB available").
#[test]
fn sketch_cpu_memory_refusal_names_the_available_memory() {
    if !common::under_address_limit(
        module_path!(),
        "sketch_cpu_memory_refusal_names_the_available_memory",
        common::LIMIT_KIB,
    ) {
        return;
    }
    let Some(avail) = mem_available_gb() else {
        return;
    };
    let msg = rejected("sketch_cpu", &["--nnz", "2147483648"]);
    assert!(
        msg.contains("--nnz 2147483648 needs about 70.8 GB"),
        "{msg}"
    );
    if avail < 70.0 {
        let reported: f64 = msg
            .split("the ")
            .nth(1)
            .and_then(|s| s.split(" GB available").next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no available figure in {msg}"));
        assert!(
            reported >= avail / 2.0 && reported <= avail * 2.0,
            "reported {reported} GB available, /proc/meminfo says {avail:.1} GB: {msg}"
        );
    } else {
        assert!(msg.contains("this process may allocate"), "{msg}");
    }
}
