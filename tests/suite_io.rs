//! Matrix Market and `.tns` input and output, and the validation of what comes from a file or a
//! user.
//!
//! One test binary for several files of `tests/`, each a module named after its file: every test
//! binary links the library and compiles the faer code its tests call, so a few binaries build in
//! half the time of one per file. `Cargo.toml` lists the binaries (`autotests = false`);
//! `suite_contracts`' `every_test_file_is_in_a_test_binary` checks that no file is left out.

mod common;

/// The examples' shared reading code, which `io_review2` tests.
#[path = "../examples/cli/mod.rs"]
#[allow(unused)]
mod cli;

mod input_io_review3;
mod input_problems_review;
mod io;
mod io_limit_hint;
mod io_review2;
mod io_review4;
mod mutation_review_io;
mod tns_review;
