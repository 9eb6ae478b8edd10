//! The examples as a user runs them: arguments, exit codes, `--json` fields and figures, output
//! files.
//!
//! One test binary for several files of `tests/`, each a module named after its file: every test
//! binary links the library and compiles the faer code its tests call, so a few binaries build in
//! half the time of one per file. `Cargo.toml` lists the binaries (`autotests = false`);
//! `suite_contracts`' `every_test_file_is_in_a_test_binary` checks that no file is left out.

mod common;

/// The examples' shared command-line code, which `mutation_review_errcli_cli` tests directly.
#[path = "../examples/cli/mod.rs"]
#[allow(unused)]
mod cli;

mod cli_figures_review;
mod examples_cli;
mod examples_issue_fields;
mod examples_json_review;
mod mutation_review_errcli_cli;
mod mutation_review_examples_a;
mod mutation_review_examples_b;
mod mutation_review_tour;
