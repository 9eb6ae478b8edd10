//! Cross-cutting contracts: errors against each `# Errors`, f32 against f64, consistency between
//! routes, thread counts, distributions.
//!
//! One test binary for several files of `tests/`, each a module named after its file: every test
//! binary links the library and compiles the faer code its tests call, so a few binaries build in
//! half the time of one per file. `Cargo.toml` lists the binaries (`autotests = false`);
//! `suite_contracts`' `every_test_file_is_in_a_test_binary` checks that no file is left out.

mod common;

mod consistency_review;
mod distribution_review;
mod errors_review;
mod mutation_review_errcli;
mod option_names;
mod precision_review;
mod seed_review;
mod thread_counts_review;

/// Every `tests/*.rs` file is compiled: a root listed as a `[[test]]` in `Cargo.toml`, or a
/// `mod` of such a root. With `autotests = false`, Cargo builds only the listed binaries, so a
/// new test file nobody declares would silently never run; this test fails instead and names it.
#[test]
fn every_test_file_is_in_a_test_binary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let roots: Vec<String> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("path = \"tests/"))
        .filter_map(|l| l.strip_suffix(".rs\""))
        .map(str::to_string)
        .collect();
    assert!(
        roots.len() >= 2,
        "Cargo.toml lists the test binaries: {roots:?}"
    );
    let mut compiled = roots.clone();
    for r in &roots {
        let text = std::fs::read_to_string(root.join(format!("tests/{r}.rs"))).unwrap();
        compiled.extend(
            text.lines()
                .filter_map(|l| l.strip_prefix("mod "))
                .filter_map(|l| l.strip_suffix(';'))
                .map(str::to_string),
        );
    }
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("tests")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rs") {
            if !compiled.iter().any(|c| c == stem) {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tests/ files in no test binary (add `mod NAME;` to a tests/suite_*.rs, or a [[test]] \
         to Cargo.toml): {missing:?}"
    );
}

/// Every `.rs` file under `src/`.
fn src_files() -> Vec<std::path::PathBuf> {
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut files = Vec::new();
    while let Some(path) = dirs.pop() {
        if path.is_dir() {
            dirs.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// DESIGN.md contract 1: every random choice is a pure function of a `Seed` and an index. So no
/// code in `src/` may reach an entropy source (`thread_rng`, `OsRng`, `from_entropy`, …) or the
/// clock as a seed, and every generator is built in `src/seed.rs` from a `Seed`'s words (a
/// `seed_from_u64` elsewhere could take a value not derived from one). Comments are skipped;
/// the test names each offending line. (Hash sets in `src/` are used for membership only, their
/// contents sorted before use; that is checked by the reproducibility tests, not here.)
#[test]
fn randomness_comes_only_from_seeds() {
    const ENTROPY: [&str; 11] = [
        "thread_rng",
        "ThreadRng",
        "StdRng",
        "SmallRng",
        "OsRng",
        "from_entropy",
        "from_os_rng",
        "rand::rng(",
        "rand::random",
        "getrandom",
        "SystemTime",
    ];
    const GENERATORS: [&str; 3] = ["seed_from_u64", "from_seed", "Xoshiro"];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (mut bad, mut generators_in_seed) = (Vec::new(), 0);
    for path in src_files() {
        let is_seed = path == root.join("seed.rs");
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let hit = |names: &[&str]| names.iter().any(|n| code.contains(n));
            if hit(&ENTROPY) || (!is_seed && hit(&GENERATORS)) {
                bad.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
            if is_seed && hit(&GENERATORS) {
                generators_in_seed += 1;
            }
        }
    }
    assert!(
        bad.is_empty(),
        "randomness not derived from a Seed (contract 1):\n{}",
        bad.join("\n")
    );
    // The scan sees the one place generators are made: it would pass vacuously otherwise.
    assert!(generators_in_seed >= 1, "src/seed.rs builds no generator?");
}

/// Every doc example names faer and sprs through randnla's re-exports (`randnla::faer::…`), so
/// that it compiles when copied into a crate that depends on randnla alone, as the README allows.
/// Doc tests see every dependency of the crate, so a bare `faer::` would pass them and fail the
/// user; this test reads the doc comments of `src/` and names each such line.
#[test]
fn doc_examples_use_the_reexported_faer_and_sprs() {
    let mut bad = Vec::new();
    for path in src_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut in_code = false;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim_start();
            let Some(body) = t.strip_prefix("///").or_else(|| t.strip_prefix("//!")) else {
                continue;
            };
            if body.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            let bare = |name: &str| {
                body.match_indices(&format!("{name}::")).any(|(at, _)| {
                    let before = body[..at].chars().next_back();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                })
            };
            if in_code && (bare("faer") || bare("sprs")) {
                bad.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "doc examples naming faer or sprs directly (use randnla::faer / randnla::sprs):\n{}",
        bad.join("\n")
    );
}
