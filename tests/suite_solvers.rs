//! Least squares (sketch-and-solve, sketch-and-precondition, ridge, baselines), attention-kernel
//! regression and active learning.
//!
//! One test binary for several files of `tests/`, each a module named after its file: every test
//! binary links the library and compiles the faer code its tests call, so a few binaries build in
//! half the time of one per file. `Cargo.toml` lists the binaries (`autotests = false`);
//! `suite_contracts`' `every_test_file_is_in_a_test_binary` checks that no file is left out.

mod common;

mod active;
mod active_rank_test;
mod active_review2;
mod claims_review;
mod front_door_review;
mod kernel_inner_solve;
mod kernel_regression_review;
mod kernel_regression_review2;
mod lstsq;
mod lstsq_kernel;
mod lstsq_review;
mod lstsq_review2;
mod lstsq_review3;
mod lstsq_review4;
mod lstsq_review5;
mod lstsq_review6;
mod lstsq_ridge_scale;
mod mutation_review_active;
mod mutation_review_kernel;
mod mutation_review_kernel_floor;
mod mutation_review_lsqr;
mod mutation_review_lstsq;
mod mutation_review_lstsq_ops;
mod mutation_review_precondition;
mod mutation_review_problems;
mod review48_solvers;
mod review49;
mod review50;
mod review_session36;
mod robustness_review_109;
mod spec_review2;
mod user_review_active_tensor;
