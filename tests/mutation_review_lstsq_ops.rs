//! Hand mutation review of the least-squares code changed since 2026-12-06 that no earlier round
//! covered: `src/lstsq/ops.rs` (the row-chunk Gram `AᵀA` in waves of one `d × d` buffer a
//! thread, the sparse `AᵀA` built in the result's own columns and mirrored in tiles,
//! `abs_power_norm`), `src/lstsq/sketch_solve.rs` (`S·A` factored in place, the sketched
//! residual read from `QᵀSb`, `HouseholderQr::qt`), and the changes to `kernel_regression.rs` and
//! `dense.rs` since 8bebf7e (the Cholesky factor cleared above its diagonal, the estimators
//! reading `L` and `Lᵀ` directly, `report_floor`). Each test's doc names the mutant (the
//! one-line slip) and how it fails under it.
//!
//! 40 mutants (2026-12-07), each switched on by an environment variable in one build: 17 in
//! the sparse Gram `AᵀA` (row chunks, waves, buffers, mirror tiles, column blocks), 8 in
//! `abs_power_norm`, 8 in the Cholesky factor and its users since 8bebf7e (`report_floor`,
//! `factor_norm`, `factor_condition`, the cleared triangle), 7 in sketch-and-solve and
//! `HouseholderQr::qt_head`. The suite killed 33: the library's unit tests 21, `suite_laws` 2,
//! `suite_solvers` 9, and the counting-allocator test of `tests/attention.rs` one (the wave
//! size `.min(8)` → `.max(8)`, 8 buffers at once). The test below kills two more (the sketched
//! residual scaled back by `shift_a`, or not at all), the unit test
//! `gram_from_rows_at_the_row_chunk_limit_sums_eight_chunks_in_order` in `src/lstsq/ops.rs` one
//! (the schemes' threshold `d ≤ 512` read as `d < 512`). The 4 others, argued:
//! - the last wave of row chunks given all `T` buffers (`bufs[..wave]` for
//!   `bufs[..wave.min(8 − c0)]`): the extra chunks `c ≥ 8` have no rows, so their buffers add
//!   `+0.0`, and the result, zero on entry, never holds the `−0.0` that this would change:
//!   equivalent;
//! - a wave run in parallel only from 3 buffers (`live.len() > 2`): a wave of 2 then runs on one
//!   thread into the same buffers, added in the same order: the same bits, only slower;
//! - `abs_power_norm` forming `|A|ᵀ·w` on every pass (`step <= j`): the extra product, on the
//!   last pass of `p = 1`, replaces `v`, which is not read after it (`w` is): equivalent but
//!   for its cost;
//! - `factor_norm` estimating `‖Lᵀ‖₂` for `‖L‖₂`: the same norm, approached by power steps on
//!   `LLᵀ` instead of `LᵀL` (both lower bounds within a few percent; `review49` holds the floor
//!   built on it to `[0.5, 1.5]`): near-equivalent.
//!
//! No real bug was found.

use crate::common;
use faer::Mat;
use randnla::lstsq::{sketch_and_solve, SketchSolveParams};

/// `2ᵏ`.
fn p2(k: i32) -> f64 {
    2f64.powi(k)
}

/// `|x − y| ≤ tol·|y|`, with the quantities named in the message.
fn close(x: f64, y: f64, tol: f64, what: &str) {
    assert!((x - y).abs() <= tol * y.abs(), "{what}: {x:e} vs {y:e}");
}

/// Sketch-and-solve with `S·b` (or `S·A`) below `2⁻¹⁰⁰⁰`, where the QR's input is moved into
/// range by a power of two on one side only: `(A, c·b)` with `c = 2⁻¹⁰¹⁵` and `(c·A, b)` with
/// `c = 2⁻¹⁰¹⁰` against `(A, b)` (Gaussian `200 × 5`, default parameters). By linearity
/// `x(A, cb) = c·x(A, b)`, `x(cA, b) = x(A, b)/c`, and every reported norm scales like the
/// residual (`c` or 1); the few entries pushed into the subnormal range move them by about
/// `2⁻⁶⁰` relative, so `10⁻¹⁰` separates the mutants: the sketched residual scaled back by
/// `shift_a` instead of `shift_b` (off by `2²³` here), or not scaled back at all, and `x`
/// scaled by `2^{shift_b + shift_a}` (off by `2^{2·shift_a}`; also killed by the suite). The
/// existing scale-invariance test scales `A` and `b` together, where the two shifts agree.
#[test]
fn sketch_and_solve_scales_back_a_shift_of_one_side_only() {
    let (n, d) = (200, 5);
    let a = common::gauss(n, d, 3);
    let b = common::rhs(n, 4);
    let ss = SketchSolveParams::default();
    let (x0, i0) = sketch_and_solve(common::dense(&a), &b, &ss).unwrap();
    // (A, c·b): residuals scale by c, x by c.
    let c = p2(-1015);
    let bc: Vec<f64> = b.iter().map(|v| v * c).collect();
    let (x, i) = sketch_and_solve(common::dense(&a), &bc, &ss).unwrap();
    for k in 0..d {
        close(x[k] / c, x0[k], 1e-10, &format!("(A, cb): x[{k}]/c"));
    }
    close(
        i.residual_norm / c,
        i0.residual_norm,
        1e-10,
        "(A, cb): ‖r‖/c",
    );
    close(
        i.sketched_residual_norm / c,
        i0.sketched_residual_norm,
        1e-10,
        "(A, cb): ‖S(Ax − b)‖/c",
    );
    // (c·A, b): x scales by 1/c, the residuals not at all.
    let c = p2(-1010);
    let ac = Mat::from_fn(n, d, |i, j| a[(i, j)] * c);
    let (x, i) = sketch_and_solve(common::dense(&ac), &b, &ss).unwrap();
    for k in 0..d {
        close(x[k] * c, x0[k], 1e-10, &format!("(cA, b): x[{k}]·c"));
    }
    close(i.residual_norm, i0.residual_norm, 1e-10, "(cA, b): ‖r‖");
    close(
        i.sketched_residual_norm,
        i0.sketched_residual_norm,
        1e-10,
        "(cA, b): ‖S(Ax − b)‖",
    );
}
