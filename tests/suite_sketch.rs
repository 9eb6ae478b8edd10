//! The sketch core, leverage scores, row sampling and the diagnostics: reference values,
//! statistics, reproducibility, validation and resource limits.
//!
//! One test binary for several files of `tests/`, each a module named after its file: every test
//! binary links the library and compiles the faer code its tests call, so a few binaries build in
//! half the time of one per file. `Cargo.toml` lists the binaries (`autotests = false`);
//! `suite_contracts`' `every_test_file_is_in_a_test_binary` checks that no file is left out.

mod common;

mod accumulate_review;
mod claims_review3;
mod diagnostics_problems_review2;
mod huge_shapes;
mod leverage;
mod leverage_pivoting;
mod leverage_review;
mod leverage_review2;
mod mutation_review_leverage_qr;
mod mutation_review_sketch_core;
mod sampling_diagnostics_review;
mod sketch_contract_review;
mod sketch_core;
mod sketch_props;
mod sketch_range;
mod sketch_review2;
mod spec_review1;
mod unvalidated_dense;
