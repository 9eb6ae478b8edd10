//! TensorSketch, the tree sketch, polynomial-kernel features, the sketched tensor power method and
//! polynomial attention (except the tests that count allocations, in `tests/attention.rs`, whose
//! global allocator needs a binary of its own), `claims_review2`, the review of the documented
//! figures of these areas and of attention-kernel regression, and `claims_review4`, that of the
//! tensor module's and the test-problem generators' figures.
//!
//! One test binary for several files of `tests/`, each a module named after its file: every test
//! binary links the library and compiles the faer code its tests call, so a few binaries build in
//! half the time of one per file. `Cargo.toml` lists the binaries (`autotests = false`);
//! `suite_contracts`' `every_test_file_is_in_a_test_binary` checks that no file is left out.

mod common;

mod attention_fuzz_findings;
mod attention_review2;
mod attention_review3;
mod claims_review2;
mod claims_review4;
mod mutation_review_attention;
mod mutation_review_diag_tensor;
mod mutation_review_late;
mod mutation_review_sketch_tensor;
mod mutation_review_tensor_power;
mod mutation_review_tensor_sketch;
mod polysketch_review;
mod review48_tensor;
mod tensor_equality;
mod tensor_power;
mod tensor_power_review;
mod tensor_power_review2;
mod tensor_refine;
mod tensor_sketch;
mod tensor_sketch_review;
mod tensor_sketch_review2;
mod tree_review;
