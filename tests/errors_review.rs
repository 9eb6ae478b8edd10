//! Error review (2026-12-05): every public fallible entry point below is fed the bad-input
//! classes its `# Errors` section lists, plus those the crate contract ("Errors, not panics",
//! `src/lib.rs`) makes errors everywhere (empty, NaN/∞, mismatched shapes, out-of-range
//! parameters). For each case the test asserts
//!
//! * the variant is one the docs name for that input (expectations encoded by hand per case),
//! * no panic (`catch_unwind` is only a detector; a panic is a bug),
//! * `InvalidParameter::name` is the Rust parameter or struct field the caller set,
//! * `NonFinite::{row, col}` point at the bad entry (a vector's index is `row`, `col = 0`),
//! * `DimensionMismatch` has `expected`/`found` the right way round,
//! * `Display` is one non-empty line that mentions the offending name (parameter name,
//!   `row r`/`column c`, or both dimensions).
//!
//! Failures of one group are collected in a [`Log`] and reported together, so that one bad
//! case does not hide the others.
//!
//! | function | bad-input classes tried |
//! |---|---|
//! | `SparseSign::new` | `m = 0`, `m = 2³¹`, `m = usize::MAX`, `n = 0`, `s = 0`, `s > m`, `s > 2²¹` |
//! | `SparseSign::column`, `CountSketch::bucket` | `j = n`, `j = usize::MAX` |
//! | `CountSketch::new` | `m = 0`, `m = 2³¹`, `n = 0` |
//! | `Gaussian::new` | `m = 0`, `m = 2¹⁸ + 1`, `m = usize::MAX`, `n = 0` |
//! | `Srht::new` | `m = 0`, `m > n'`, `n = 0`, `n = 2³⁰ + 1` |
//! | `SketchKind::build` | `nnz_per_col = 0`, `m = 0` |
//! | `RowSampling::{with_replacement, bernoulli}` | no weights, negative / NaN / ∞ weight, zero sum, `m = 0`, `m > 2²⁸` |
//! | `RowSampling::uniform` | `n = 0`, `m = 0` |
//! | `MatrixRef::dense`, `MatrixRef::sparse` (CSR, CSC), `SparseRef::try_csr` | NaN / ∞ entries (row, col), bad `indptr`, index out of range, wrong lengths |
//! | `check_finite_slice` | NaN at index i |
//! | `SketchExt::apply`, `apply_right` | wrong rows / columns, empty `A` |
//! | `qr_solve`, `normal_equations` | empty `A`, `b` length, NaN in `b`, `λ` negative / NaN / ∞, `n < d` |
//! | `lsqr` | `tol` 0 / −1 / 1 / NaN / ∞, `max_iters = 0`, `ridge` < 0 / NaN, `b` length / NaN, budget exceeded |
//! | `sketch_and_precondition` (+ `_with_callback`, `ridge`, `_multi`) | `tol`, `max_iters`, `ridge`, `rcond` 0 / 1 / NaN, `sketch_rows < d`, `≥ 2³¹`, `nnz_per_col` 0 / `> 2²¹`, `b` length / NaN, `B` without columns / wrong rows / NaN, budget exceeded, callback break |
//! | `Preconditioner::new` | `sketch_rows < d`, `rcond`, `ridge`, `nnz_per_col = 0` |
//! | `sketch_and_solve`, `sketch_and_solve_with` | `sketch_rows` 0 / `< d` / `> n'` (SRHT) / `> 2¹⁸` (Gaussian), `nnz_per_col = 0`, sketch with wrong `n` |
//! | `exact_leverage_scores`, `exact_ridge_leverage_scores`, `statistical_dimension` | empty `A`, unvalidated NaN, `rank_tol` −0.1 / 1 / NaN, `λ` < 0 / NaN / ∞ |
//! | `approx_leverage_scores`, `ApproxParams::sketch` | `sketch_rows < d`, `≥ 2³¹`, `< r + 2` with debias, `nnz_per_col` 0 / `> m₁` (also on the exact route `n ≤ m₁`), `rank_tol` |
//! | `condition_number`, `gram`, `orthonormal_basis` | empty, NaN (row, col), `n < d` |
//! | `read_matrix_market`, `read_dense`, `write_dense` | bad header, bad entry line, NaN in file, size over `max_elements`; NaN written |
//! | `SymmetricTensor::dense`, `::coordinate` | order 2 / 13, `dim = 0`, wrong `data` length, NaN, asymmetric entries, index ≥ dim, no entries |
//! | `power_method_exact` | `rank = 0`, `starts = 0` |
//! | `read_tns` | bad index, NaN value, field count, empty |
//! | `TensorSketch::new`, `TreeSketch::new` | `degree = 0`, `d = 0`, `m = 0`, `m > 2²²` |
//! | `exact_attention`, `poly_sketch_attention` | empty `Q`, `K` columns, `V` rows, causal `m ≠ n`, NaN in `K` (row, col), degree 0 / odd, softmax scale NaN, `block = 0` |
//! | `active::Pool::new` | empty, `n < d`, unvalidated NaN, all-zero `X`, `Sketched { sketch_rows < d }` |
//! | `active::Learner::new`, `Learner::fit` | BSS `gamma` 1 / NaN, `growth = 1`, `max_steps_per_label = 0`, given scores of wrong length / NaN / all zero, approx `nnz_per_col = 0`; fit before any label |
//! | `kernel_regression::{solve_p1, solve_p2, solve_p3}` | `b` length, NaN, empty `A`, `tol` 0 / NaN, `max_iters = 0`, `j = 65` / `usize::MAX`, `nystrom_rank = Some(0)`, `lstsq.{tol, max_iters, ridge, sketch_rows, nnz_per_col, rcond}`, a row with `‖aᵢ‖²/2 > 700`, budget exceeded (NotConverged) |
//! | `TensorSketch::{apply_power, apply_kron, apply_rows, mode_bucket, tensor_bucket, sketch_entries, mode_sketch, forward, inverse}` | wrong lengths / factor counts / columns, NaN / ∞ (index), out-of-range `k`, `i`, mixed dims, empty `A` |
//! | `PolyKernelFeatures::{new, transform_vec, kernel, transform}` | `d = 0`, `degree` 0 / `2¹⁶ + 1`, `sketch_dim` 0 / `2²² + 1` (Fft and Tree), `gamma` 0 / NaN, `coef0` −1 / ∞; lengths, NaN |
//! | `SymmetricTensor::{get, contract_but_one, contract_all}` (dense and coordinate) | index length, index ≥ dim, `u` length, NaN in `u` |
//! | `causal_product`, `causal_squared_product`, `relative_error` | row counts, `B` columns, NaN in `C` (row, col), `block` 0 / 8193, empty; shapes, NaN |
//! | `read_matrix_market_path`, `read_dense_path`, `write_dense_path` | missing file / directory (Io kind and path), ∞ written (no file created) |
//! | `MatrixRef::to_dense`, `SketchExt::apply`, `gram`, `qr_solve` on sparse `A` declaring `2⁴⁰` rows / columns | `TooLarge` (no abort) |
//! | `Budgeted::query`, `Learner::select`, `Learner::fit`, `Pool::{residual_norm_sq, least_squares}` | row ≥ n / `usize::MAX`, exhausted budget, NaN answer (row), `k` 0 / above budget, budget < d, oracle size; `λ` −1 / NaN / ∞; lengths, ∞ in `y` |
//! | `weighted_least_squares` | lengths, row ≥ n, weight −1 / NaN, NaN label (index), no rows, `λ` −1 / NaN, one row (rank) |
//! | `power_method_sketched` | `rank = 0`, `starts = 0`, `sketch_dim = 8`, `search_sketch_dim = 8` |
//! | `SketchOperator::apply_block_into` | block past `n`, offset `usize::MAX`, `out` of the wrong shape (and `out` unchanged) |
//! | `row_norm_weights` | unvalidated NaN (row, col), all row norms² underflow (`A`), a row norm² overflow |
//! | `problems::{coherent_matrix, random_sparse, ls_problem, sparse_ls_illmix}` | `n < d`, `d = 0`, `scale` NaN / ∞ / overflowing, `nnz_per_row` 0 / `> d`, `n = 2³²`, `cond` 0.5 / NaN, `residual_norm` −1 / NaN / square, `density`, `delta_min`, `noise` out of range |
//! | `normal_equation_residual`, `ridge_normal_equation_residual` | `x` / `b` lengths, NaN (index), empty `A`, `λ` −1 / NaN / ∞ |
//! | `SketchKind::from_str`, `SparseRef::csr_row_block`, `MatrixRef::row_block` | unknown name; CSC, range past `nrows`, reversed, `usize::MAX` |
//! | `SymmetricTensor::dense_symmetrized`, `write_tns_path`, `read_tns_path`, `read_sparse` | order 2, NaN; missing directory / file (Io names the path); array file |
//! | `PolySketch::{new, features}`, `distortion`, `embedding_error`, `distortion_on_range` | `h = 0`, degree 3 / 66, `sketch_dim` 0 / 2049; `X` columns, NaN (row, col); `Q` / `A` rows |
//! | `TensorSketches::{new, bucket, tensor_sketch, power_sketch, rank_one_sketch, contract_all, contract_but_one, estimates_all, estimates_but_one, deflate}` | `sketches` 0 / 257, `sketch_dim` 8 / 24 / `2²⁵`; `m ≥ B`, `k ≥ p`, `i ≥ n`; `u` length, NaN / ∞ (index); `w` NaN / ∞ |
//! | `write_dense`, `write_sparse`, `write_tns`, `read_matrix_market`, `read_tns` | a writer / reader that fails (`Io` with the OS kind) |
//! | `SketchOperator::to_dense` (Gaussian, sparse sign), `RangeBasis::{new, distortion}` | `2¹⁰ × 2⁴⁰`, `2²⁰ × 2⁴⁰`; empty, `n < d`, unvalidated NaN, zero `A`, `a` of another shape |
//! | `TreeSketch::{apply_power, apply_kron, apply_rows}` | length, NaN (index), factor count, columns |
//! | `SketchExt::apply` in `f32` (CountSketch, sparse sign, Gaussian) | `S·A` overflowing `f32`: NonFinite in the huge column, first in column-major order, same for dense and CSR |
//! | `sketch_and_precondition_multi`, `ridge`, `lsqr` with ridge | budget exceeded: `NotConverged.tolerance` is the `tol` asked for |
//! | `read_matrix_market` duplicates, `MatrixMarket::view`, `solve_p1` / `solve_p3` precedence | duplicates summing to ∞ (Parse naming row and column); hand-built dense with NaN (row, col); NaN `b` + `tol = 0`, `b` length + `nystrom_rank = 0` on 1 / 4 threads, dense / CSR / CSC |
//!
//! Precedence and determinism: two faults at once (NaN in `b` and a bad parameter; two NaNs in
//! `A` at different positions; bad parameter and NaN in attention inputs) give the same error on
//! 1 and 4 threads and for dense / CSR / CSC storage of the same `A`.
//!
//! Iteration budgets: `lsqr` and `sketch_and_precondition` must return `Err(NotConverged)` (their
//! docs) — not `Ok` with `converged = false` — with `iterations`, `residual > tolerance`,
//! `tolerance = tol` and one `history` entry per iteration; a callback break is `Ok` with
//! `converged = false`, `stopped_by_callback = true`.
use crate::common;

use common::with_threads;
use faer::{Mat, Par};
use randnla::active::{Basis, Pool};
use randnla::attention::{
    exact_attention, poly_sketch_attention, ExactParams as AttnParams, Kernel, PolySketchParams,
};
use randnla::diagnostics::{condition_number, gram, orthonormal_basis};
use randnla::input::{check_finite_slice, SparseRef};
use randnla::io::{read_dense, read_matrix_market, write_dense, ReadOptions};
use randnla::leverage::{
    approx_leverage_scores, exact_leverage_scores, exact_ridge_leverage_scores,
    statistical_dimension, ApproxParams, ExactParams,
};
use randnla::lstsq::{
    lsqr, normal_equations, qr_solve, ridge, sketch_and_precondition,
    sketch_and_precondition_multi, sketch_and_precondition_with_callback, sketch_and_solve,
    sketch_and_solve_with, LsqrParams, LstsqParams, Preconditioner, SketchSolveParams,
};
use randnla::sketch::sampling::RowSampling;
use randnla::sketch::tensor::{TensorSketch, TreeSketch};
use randnla::sketch::{CountSketch, Gaussian, SketchExt, SketchKind, SparseSign, Srht};
use randnla::tensor::{power_method_exact, read_tns, PowerParams, SymmetricTensor};
use randnla::{Error, MatrixRef, Seed};
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// What a case must return.
#[derive(Clone, Debug)]
enum Want {
    /// `InvalidParameter` named exactly this.
    Param(&'static str),
    /// `NonFinite` at `(row, col)`.
    NonFinite(usize, usize),
    /// `DimensionMismatch { expected, found }`.
    Dim(usize, usize),
    Empty,
    TooLarge,
    Structure,
    /// `Parse` on this line.
    Parse(usize),
    RankDeficient,
    /// Any of these.
    AnyOf(Vec<Want>),
}

fn variant(e: &Error) -> &'static str {
    match e {
        Error::DimensionMismatch { .. } => "DimensionMismatch",
        Error::Empty { .. } => "Empty",
        Error::NonFinite { .. } => "NonFinite",
        Error::InvalidStructure { .. } => "InvalidStructure",
        Error::InvalidParameter { .. } => "InvalidParameter",
        Error::TooLarge { .. } => "TooLarge",
        Error::Parse { .. } => "Parse",
        Error::Io { .. } => "Io",
        Error::RankDeficient { .. } => "RankDeficient",
        Error::NotConverged { .. } => "NotConverged",
        Error::Factorization { .. } => "Factorization",
        _ => "unknown",
    }
}

/// `None` when `e` is what `w` asks for, else why not.
fn mismatch(e: &Error, w: &Want) -> Option<String> {
    let ok = match (w, e) {
        (Want::Param(n), Error::InvalidParameter { name, .. }) => {
            if name == n {
                true
            } else {
                return Some(format!("InvalidParameter named `{name}`, expected `{n}`"));
            }
        }
        (Want::NonFinite(r, c), Error::NonFinite { row, col, .. }) => {
            if (row, col) == (r, c) {
                true
            } else {
                return Some(format!("NonFinite at ({row}, {col}), expected ({r}, {c})"));
            }
        }
        (
            Want::Dim(x, f),
            Error::DimensionMismatch {
                expected, found, ..
            },
        ) => {
            if (expected, found) == (x, f) {
                true
            } else {
                return Some(format!(
                    "DimensionMismatch expected {expected} found {found}, wanted expected {x} found {f}"
                ));
            }
        }
        (Want::Parse(l), Error::Parse { line, .. }) => {
            if line == l {
                true
            } else {
                return Some(format!("Parse on line {line}, expected line {l}"));
            }
        }
        (Want::Empty, Error::Empty { .. }) => true,
        (Want::TooLarge, Error::TooLarge { .. }) => true,
        (Want::Structure, Error::InvalidStructure { .. }) => true,
        (Want::RankDeficient, Error::RankDeficient { .. }) => true,
        (Want::AnyOf(ws), _) => {
            let why: Vec<String> = ws.iter().filter_map(|w| mismatch(e, w)).collect();
            if why.len() < ws.len() {
                true
            } else {
                return Some(format!("none of {ws:?}: {}", why.join("; ")));
            }
        }
        _ => false,
    };
    if ok {
        None
    } else {
        Some(format!("{} ({e}), expected {w:?}", variant(e)))
    }
}

/// One line, non-empty, and mentions what it is about.
fn display_problem(e: &Error) -> Option<String> {
    let s = e.to_string();
    if s.trim().is_empty() {
        return Some("empty Display".into());
    }
    if s.contains('\n') {
        return Some(format!("multi-line Display: {s:?}"));
    }
    let need: Vec<String> = match e {
        Error::InvalidParameter { name, .. } => vec![format!("`{name}`")],
        Error::NonFinite { row, col, .. } => vec![format!("row {row}"), format!("column {col}")],
        Error::DimensionMismatch {
            expected, found, ..
        } => vec![format!("expected {expected}"), format!("found {found}")],
        Error::Parse { line, .. } if *line > 0 => vec![format!("line {line}")],
        _ => vec![],
    };
    need.iter()
        .find(|n| !s.contains(n.as_str()))
        .map(|n| format!("Display {s:?} does not mention {n:?}"))
}

/// Collects the failures of one group and reports them all at the end.
struct Log {
    what: &'static str,
    fails: Vec<String>,
    checks: usize,
}

impl Log {
    fn new(what: &'static str) -> Self {
        Log {
            what,
            fails: Vec::new(),
            checks: 0,
        }
    }

    fn fail(&mut self, ctx: &str, msg: String) {
        self.fails.push(format!("{ctx}: {msg}"));
    }

    /// Runs `f` under `catch_unwind` and returns its error, logging a panic or an `Ok`.
    fn err<T>(&mut self, ctx: &str, f: impl FnOnce() -> randnla::Result<T>) -> Option<Error> {
        self.checks += 1;
        match catch_unwind(AssertUnwindSafe(f)) {
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                self.fail(ctx, format!("PANIC: {msg}"));
                None
            }
            Ok(Ok(_)) => {
                self.fail(ctx, "returned Ok, expected an error".into());
                None
            }
            Ok(Err(e)) => Some(e),
        }
    }

    /// `f` must fail as `want` says, with a one-line Display naming the culprit.
    fn case<T>(&mut self, ctx: &str, want: Want, f: impl FnOnce() -> randnla::Result<T>) {
        if let Some(e) = self.err(ctx, f) {
            if let Some(m) = mismatch(&e, &want) {
                self.fail(ctx, m);
            }
            if let Some(m) = display_problem(&e) {
                self.fail(ctx, m);
            }
        }
    }

    /// `f` must not panic (its result is the caller's business).
    fn no_panic<T>(&mut self, ctx: &str, f: impl FnOnce() -> T) -> Option<T> {
        self.checks += 1;
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => Some(v),
            Err(_) => {
                self.fail(ctx, "PANIC".into());
                None
            }
        }
    }

    fn finish(self) {
        assert!(self.checks > 0, "{}: no checks ran", self.what);
        if !self.fails.is_empty() {
            panic!(
                "{}: {} of {} checks failed:\n  {}",
                self.what,
                self.fails.len(),
                self.checks,
                self.fails.join("\n  ")
            );
        }
        eprintln!("{}: {} checks passed", self.what, self.checks);
    }
}

/// A small deterministic full-rank `n × d` matrix.
fn mat(n: usize, d: usize) -> Mat<f64> {
    Mat::from_fn(n, d, |i, j| {
        let x = (i * 31 + j * 17 + 7) as f64;
        (x * 0.37).sin() + if i == j { 2.0 } else { 0.0 }
    })
}

fn vec_b(n: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * 7 % 13) as f64).cos()).collect()
}

/// CSR of a dense matrix, every entry stored (NaN included).
fn csr_all(a: &Mat<f64>) -> sprs::CsMat<f64> {
    let mut indptr = vec![0];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            indices.push(j);
            data.push(a[(i, j)]);
        }
        indptr.push(indices.len());
    }
    sprs::CsMat::new((a.nrows(), a.ncols()), indptr, indices, data)
}

/// CSC of a dense matrix, every entry stored.
fn csc_all(a: &Mat<f64>) -> sprs::CsMat<f64> {
    let mut indptr = vec![0];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            indices.push(i);
            data.push(a[(i, j)]);
        }
        indptr.push(indices.len());
    }
    sprs::CsMat::new_csc((a.nrows(), a.ncols()), indptr, indices, data)
}

fn seed() -> Seed {
    Seed::new(7)
}

// ---------------------------------------------------------------------------------------------
// Sketch constructors
// ---------------------------------------------------------------------------------------------

/// Constructors of the four sketch families and `SketchKind::build`: every documented bound,
/// named as the docs say (`m`, `n`, `nnz_per_col`).
#[test]
fn sketch_constructors() {
    let mut log = Log::new("sketch constructors");
    let s = seed();
    log.case("SparseSign m=0", Want::Param("m"), || {
        SparseSign::new(0, 10, 1, s)
    });
    log.case("SparseSign m=2^31", Want::Param("m"), || {
        SparseSign::new(1 << 31, 10, 1, s)
    });
    log.case("SparseSign m=MAX", Want::Param("m"), || {
        SparseSign::new(usize::MAX, 10, 1, s)
    });
    log.case("SparseSign n=0", Want::Param("n"), || {
        SparseSign::new(5, 0, 1, s)
    });
    log.case("SparseSign s=0", Want::Param("nnz_per_col"), || {
        SparseSign::new(5, 10, 0, s)
    });
    log.case("SparseSign s>m", Want::Param("nnz_per_col"), || {
        SparseSign::new(5, 10, 6, s)
    });
    log.case("SparseSign s=MAX", Want::Param("nnz_per_col"), || {
        SparseSign::new(5, 10, usize::MAX, s)
    });
    log.case("SparseSign s>2^21", Want::Param("nnz_per_col"), || {
        SparseSign::new(1 << 22, 10, (1 << 21) + 1, s)
    });
    log.case("CountSketch m=0", Want::Param("m"), || {
        CountSketch::new(0, 10, s)
    });
    log.case("CountSketch m=2^31", Want::Param("m"), || {
        CountSketch::new(1 << 31, 10, s)
    });
    log.case("CountSketch n=0", Want::Param("n"), || {
        CountSketch::new(4, 0, s)
    });
    log.case("Gaussian m=0", Want::Param("m"), || Gaussian::new(0, 10, s));
    log.case("Gaussian m=2^18+1", Want::Param("m"), || {
        Gaussian::new((1 << 18) + 1, 10, s)
    });
    log.case("Gaussian m=MAX", Want::Param("m"), || {
        Gaussian::new(usize::MAX, 10, s)
    });
    log.case("Gaussian n=0", Want::Param("n"), || Gaussian::new(4, 0, s));
    log.case("Srht m=0", Want::Param("m"), || Srht::new(0, 8, s));
    log.case("Srht m>n' (n=5, n'=8, m=9)", Want::Param("m"), || {
        Srht::new(9, 5, s)
    });
    log.case("Srht n=0", Want::Param("n"), || Srht::new(3, 0, s));
    log.case("Srht n=2^30+1", Want::Param("n"), || {
        Srht::new(1, (1 << 30) + 1, s)
    });
    log.case(
        "SketchKind::SparseSign{0}.build",
        Want::Param("nnz_per_col"),
        || {
            SketchKind::SparseSign { nnz_per_col: 0 }
                .build::<f64>(5, 10, s)
                .map(|_| ())
        },
    );
    for kind in [
        SketchKind::CountSketch,
        SketchKind::Gaussian,
        SketchKind::Srht,
        SketchKind::SparseSign { nnz_per_col: 1 },
    ] {
        log.case(&format!("{kind:?}.build m=0"), Want::Param("m"), || {
            kind.build::<f64>(0, 10, s).map(|_| ())
        });
        log.case(&format!("{kind:?}.build n=0"), Want::Param("n"), || {
            kind.build::<f64>(1, 0, s).map(|_| ())
        });
    }
    log.finish();
}

/// `column(j)` / `bucket(j)` past the end: documented `InvalidParameter`; its name should be
/// the argument `j`.
#[test]
fn sketch_index_accessors() {
    let mut log = Log::new("SparseSign::column / CountSketch::bucket");
    let ss = SparseSign::new(4, 10, 2, seed()).unwrap();
    let cs = CountSketch::new(4, 10, seed()).unwrap();
    for j in [10, usize::MAX] {
        log.case(
            &format!("SparseSign::column({j})"),
            Want::Param("j"),
            || ss.column(j),
        );
        log.case(
            &format!("CountSketch::bucket({j})"),
            Want::Param("j"),
            || cs.bucket(j),
        );
    }
    log.finish();
}

/// Row sampling: `Empty` for no weights or `n = 0`, `InvalidParameter` named `weights` for a
/// bad weight or zero sum, `m` for `m = 0`, `TooLarge` for `m > 2²⁸`.
#[test]
fn row_sampling_constructors() {
    let mut log = Log::new("RowSampling constructors");
    let s = seed();
    type Ctor = fn(&[f64], usize, Seed) -> randnla::Result<RowSampling>;
    let ctors: [(&str, Ctor); 2] = [
        ("with_replacement", RowSampling::with_replacement),
        ("bernoulli", RowSampling::bernoulli),
    ];
    for (name, f) in ctors {
        log.case(&format!("{name} no weights"), Want::Empty, || f(&[], 3, s));
        for (what, w) in [
            ("negative", vec![1.0, -1.0, 2.0]),
            ("NaN", vec![1.0, f64::NAN, 2.0]),
            ("+inf", vec![1.0, f64::INFINITY]),
            ("-0 sum zero", vec![0.0, 0.0]),
            ("sum overflows", vec![f64::MAX, f64::MAX]),
        ] {
            // An overflowing sum is rescaled by the implementation (powers of two): accept Ok.
            if what == "sum overflows" {
                log.no_panic(&format!("{name} {what}"), || f(&w, 3, s));
                continue;
            }
            log.case(
                &format!("{name} {what} weight"),
                Want::Param("weights"),
                || f(&w, 3, s),
            );
        }
        log.case(&format!("{name} m=0"), Want::Param("m"), || {
            f(&[1.0, 2.0], 0, s)
        });
        log.case(&format!("{name} m=2^28+1"), Want::TooLarge, || {
            f(&[1.0, 2.0], (1 << 28) + 1, s)
        });
        log.case(&format!("{name} m=MAX"), Want::TooLarge, || {
            f(&[1.0, 2.0], usize::MAX, s)
        });
    }
    log.case("uniform n=0", Want::Empty, || RowSampling::uniform(0, 3, s));
    log.case("uniform m=0", Want::Param("m"), || {
        RowSampling::uniform(4, 0, s)
    });
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Input validation and sketch application
// ---------------------------------------------------------------------------------------------

/// `MatrixRef::dense` names the first column-major NaN/∞; `MatrixRef::sparse` (CSR and CSC) and
/// `SparseRef::try_csr` name the bad entry's row and column (not its position in `data`);
/// `check_finite_slice` puts the index in `row`. Structure errors are `InvalidStructure`.
#[test]
fn input_validation_names_the_entry() {
    let mut log = Log::new("input validation");
    for (bad, what) in [
        (f64::NAN, "NaN"),
        (f64::INFINITY, "+inf"),
        (-f64::INFINITY, "-inf"),
    ] {
        let mut a = mat(4, 3);
        a[(2, 1)] = bad;
        log.case(
            &format!("dense {what} at (2,1)"),
            Want::NonFinite(2, 1),
            || MatrixRef::dense(a.as_ref()).map(|_| ()),
        );
        let csr = csr_all(&a);
        let csc = csc_all(&a);
        log.case(
            &format!("CSR {what} at (2,1)"),
            Want::NonFinite(2, 1),
            || MatrixRef::sparse(&csr).map(|_| ()),
        );
        log.case(
            &format!("CSC {what} at (2,1)"),
            Want::NonFinite(2, 1),
            || MatrixRef::sparse(&csc).map(|_| ()),
        );
        let (ip, ix, dt) = (
            csr.indptr().raw_storage().to_vec(),
            csr.indices(),
            csr.data(),
        );
        log.case(
            &format!("SparseRef::try_csr {what} at (2,1)"),
            Want::NonFinite(2, 1),
            || SparseRef::try_csr(4, 3, &ip, ix, dt).map(|_| ()),
        );
        let (ip, ix, dt) = (
            csc.indptr().raw_storage().to_vec(),
            csc.indices(),
            csc.data(),
        );
        log.case(
            &format!("SparseRef::try_csc {what} at (2,1)"),
            Want::NonFinite(2, 1),
            || SparseRef::try_csc(4, 3, &ip, ix, dt).map(|_| ()),
        );
        let v = [1.0, 2.0, 3.0, bad, 5.0];
        log.case(
            &format!("check_finite_slice {what} at 3"),
            Want::NonFinite(3, 0),
            || check_finite_slice(&v, "v"),
        );
    }
    // Malformed structure.
    let d = [1.0, 2.0, 3.0];
    log.case("try_csr indptr too short", Want::Structure, || {
        SparseRef::try_csr(3, 3, &[0, 1, 3], &[0, 1, 2], &d).map(|_| ())
    });
    log.case("try_csr indptr decreasing", Want::Structure, || {
        SparseRef::try_csr(3, 3, &[0, 2, 1, 3], &[0, 1, 2], &d).map(|_| ())
    });
    log.case("try_csr indptr[0] != 0", Want::Structure, || {
        SparseRef::try_csr(3, 3, &[1, 1, 2, 3], &[0, 1, 2], &d).map(|_| ())
    });
    log.case("try_csr column index >= ncols", Want::Structure, || {
        SparseRef::try_csr(3, 3, &[0, 1, 2, 3], &[0, 3, 2], &d).map(|_| ())
    });
    log.case(
        "try_csr indices/data lengths differ",
        Want::Structure,
        || SparseRef::try_csr(3, 3, &[0, 1, 2, 3], &[0, 1, 2], &d[..2]).map(|_| ()),
    );
    log.case("try_csr indptr end != nnz", Want::Structure, || {
        SparseRef::try_csr(3, 3, &[0, 1, 2, 2], &[0, 1, 2], &d).map(|_| ())
    });
    log.case("try_csr usize::MAX in indptr", Want::Structure, || {
        SparseRef::try_csr(3, 3, &[0, usize::MAX, 2, 3], &[0, 1, 2], &d).map(|_| ())
    });
    log.case("try_csc row index >= nrows", Want::Structure, || {
        SparseRef::try_csc(2, 3, &[0, 1, 2, 3], &[0, 2, 1], &d).map(|_| ())
    });
    // Row blocks out of range.
    let a = mat(4, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    log.no_panic("row_block(3, 9)", || av.row_block(3, 9).is_err());
    log.no_panic("row_block(3, 1)", || av.row_block(3, 1).is_err());
    log.finish();
}

/// `apply` / `apply_right`: `A` with the wrong number of rows (columns) is a
/// `DimensionMismatch` with `expected = n`, `found` = A's; an empty `A` is `Empty`.
#[test]
fn sketch_apply_shapes() {
    let mut log = Log::new("SketchExt::apply / apply_right");
    let s = seed();
    let a = mat(9, 3);
    let at = a.transpose().to_owned();
    let e = Mat::<f64>::zeros(0, 3);
    let csr = csr_all(&a);
    let sketches: Vec<(&str, Box<dyn randnla::sketch::SketchOperator<f64>>)> = vec![
        (
            "sparse sign",
            Box::new(SparseSign::new(5, 10, 2, s).unwrap()),
        ),
        ("count", Box::new(CountSketch::new(5, 10, s).unwrap())),
        ("gaussian", Box::new(Gaussian::new(5, 10, s).unwrap())),
        ("srht", Box::new(Srht::new(5, 10, s).unwrap())),
        (
            "row sampling",
            Box::new(RowSampling::uniform(10, 5, s).unwrap()),
        ),
    ];
    for (name, sk) in &sketches {
        log.case(
            &format!("{name} apply 9-row dense"),
            Want::Dim(10, 9),
            || sk.apply(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq),
        );
        log.case(&format!("{name} apply 9-row CSR"), Want::Dim(10, 9), || {
            sk.apply(MatrixRef::sparse(&csr).unwrap(), Par::Seq)
        });
        log.case(
            &format!("{name} apply_right 9-col"),
            Want::Dim(10, 9),
            || sk.apply_right(MatrixRef::dense(at.as_ref()).unwrap(), Par::Seq),
        );
        log.case(&format!("{name} apply 0×3"), Want::Empty, || {
            sk.apply(MatrixRef::dense(e.as_ref()).unwrap(), Par::Seq)
        });
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Least squares
// ---------------------------------------------------------------------------------------------

/// The dense baselines: shape, NaN and `n < d` errors as documented. (The names of `λ` are in
/// [`lambda_argument_is_named_as_the_argument`].)
#[test]
fn baselines_errors() {
    let mut log = Log::new("qr_solve / normal_equations");
    let a = mat(8, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_b(8);
    let wide = mat(2, 3);
    let wv = MatrixRef::dense(wide.as_ref()).unwrap();
    let e = Mat::<f64>::zeros(0, 3);
    let ev = MatrixRef::dense(e.as_ref()).unwrap();
    type Solver = fn(MatrixRef<'_, f64>, &[f64], f64, Par) -> randnla::Result<Vec<f64>>;
    let solvers: [(&str, Solver); 2] = [
        ("qr_solve", qr_solve),
        ("normal_equations", normal_equations),
    ];
    for (name, f) in solvers {
        log.case(&format!("{name} empty A"), Want::Empty, || {
            f(ev, &[], 0.0, Par::Seq)
        });
        log.case(&format!("{name} b of length 7"), Want::Dim(8, 7), || {
            f(av, &b[..7], 0.0, Par::Seq)
        });
        let mut bn = b.clone();
        bn[5] = f64::NAN;
        log.case(
            &format!("{name} NaN in b[5]"),
            Want::NonFinite(5, 0),
            || f(av, &bn, 0.0, Par::Seq),
        );
        bn[5] = f64::NEG_INFINITY;
        log.case(
            &format!("{name} -inf in b[5]"),
            Want::NonFinite(5, 0),
            || f(av, &bn, 0.0, Par::Seq),
        );
        // n < d without ridge: the docs say InvalidParameter; the offending input is `a`.
        log.case(
            &format!("{name} 2×3 A without ridge"),
            Want::AnyOf(vec![Want::Param("a"), Want::Param("A")]),
            || f(wv, &[1.0, 2.0], 0.0, Par::Seq),
        );
        // Rank deficient: a repeated column.
        let rd = Mat::from_fn(8, 3, |i, j| a[(i, j.min(1))]);
        let rdv = MatrixRef::dense(rd.as_ref()).unwrap();
        if name == "qr_solve" {
            log.case(
                &format!("{name} repeated column"),
                Want::RankDeficient,
                || f(rdv, &b, 0.0, Par::Seq),
            );
        } else if let Some(Err(e)) = log.no_panic(&format!("{name} repeated column"), || {
            f(rdv, &b, 0.0, Par::Seq)
        }) {
            // normal_equations: Factorization is documented (not PD); Ok is allowed (rounding
            // can leave AᵀA numerically PD).
            if !matches!(e, Error::Factorization { .. }) {
                log.fail(
                    &format!("{name} repeated column"),
                    format!("{} ({e}), expected Factorization (or Ok)", variant(&e)),
                );
            }
        }
    }
    log.finish();
}

/// `qr_solve`, `normal_equations`, `ridge`, `ridge_normal_equation_residual`,
/// `exact_ridge_leverage_scores` and
/// `statistical_dimension` take `λ` as an argument named `lambda`; a negative / NaN / ∞ `λ` is
/// documented as `InvalidParameter`, whose `name` should then be `lambda` (there is no `ridge`
/// in those signatures; `LsqrParams::ridge` / `LstsqParams::ridge` are separate).
#[test]
fn lambda_argument_is_named_as_the_argument() {
    let mut log = Log::new("name of the λ argument");
    let a = mat(8, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_b(8);
    for lam in [-1.0, f64::NAN, f64::INFINITY, -f64::MIN_POSITIVE] {
        log.case(
            &format!("qr_solve λ={lam:e}"),
            Want::Param("lambda"),
            || qr_solve(av, &b, lam, Par::Seq),
        );
        log.case(
            &format!("normal_equations λ={lam:e}"),
            Want::Param("lambda"),
            || normal_equations(av, &b, lam, Par::Seq),
        );
        log.case(&format!("ridge λ={lam:e}"), Want::Param("lambda"), || {
            ridge(av, &b, lam, &LstsqParams::default())
        });
        log.case(
            &format!("exact_ridge_leverage_scores λ={lam:e}"),
            Want::Param("lambda"),
            || exact_ridge_leverage_scores(av, lam, &ExactParams::default(), Par::Seq),
        );
        log.case(
            &format!("ridge_normal_equation_residual λ={lam:e}"),
            Want::Param("lambda"),
            || randnla::lstsq::ridge_normal_equation_residual(av, &[0.0; 3], &b, lam, Par::Seq),
        );
        log.case(
            &format!("statistical_dimension λ={lam:e}"),
            Want::Param("lambda"),
            || statistical_dimension(av, lam, Par::Seq),
        );
    }
    log.finish();
}

/// `lsqr`: `tol ∉ (0, 1)`, `max_iters = 0`, `λ < 0` named after the fields of `LsqrParams`;
/// shape and NaN errors.
#[test]
fn lsqr_params() {
    let mut log = Log::new("lsqr");
    let a = mat(8, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_b(8);
    for tol in [0.0, -1.0, 1.0, f64::NAN, f64::INFINITY, -0.0] {
        let p = LsqrParams {
            tol,
            ..Default::default()
        };
        log.case(&format!("tol={tol}"), Want::Param("tol"), || {
            lsqr(av, &b, &p)
        });
    }
    let p = LsqrParams {
        max_iters: 0,
        ..Default::default()
    };
    log.case("max_iters=0", Want::Param("max_iters"), || lsqr(av, &b, &p));
    for r in [-1.0, f64::NAN, f64::INFINITY] {
        let p = LsqrParams {
            ridge: r,
            ..Default::default()
        };
        log.case(&format!("ridge={r}"), Want::Param("ridge"), || {
            lsqr(av, &b, &p)
        });
    }
    let p = LsqrParams::default();
    log.case("b of length 9", Want::Dim(8, 9), || lsqr(av, &vec_b(9), &p));
    let mut bn = b.clone();
    bn[7] = f64::NAN;
    log.case("NaN in b[7]", Want::NonFinite(7, 0), || lsqr(av, &bn, &p));
    log.finish();
}

/// `sketch_and_precondition` and the entry points documented "as `sketch_and_precondition`":
/// every parameter of `LstsqParams` named after its field.
#[test]
fn sketch_and_precondition_params() {
    let mut log = Log::new("sketch_and_precondition params");
    let a = mat(40, 4);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_b(40);
    let d = LstsqParams::default;
    let mut cases: Vec<(String, LstsqParams, &'static str)> = Vec::new();
    for tol in [0.0, -1.0, 1.0, f64::NAN, f64::INFINITY] {
        cases.push((format!("tol={tol}"), LstsqParams { tol, ..d() }, "tol"));
    }
    cases.push((
        "max_iters=0".into(),
        LstsqParams {
            max_iters: 0,
            ..d()
        },
        "max_iters",
    ));
    for r in [-1.0, f64::NAN, f64::INFINITY] {
        cases.push((
            format!("ridge={r}"),
            LstsqParams { ridge: r, ..d() },
            "ridge",
        ));
    }
    for rc in [0.0, 1.0, -1.0, f64::NAN, f64::INFINITY] {
        cases.push((
            format!("rcond={rc}"),
            LstsqParams { rcond: rc, ..d() },
            "rcond",
        ));
    }
    for m in [0, 3, 1 << 31, usize::MAX] {
        for probe in [true, false] {
            cases.push((
                format!("sketch_rows={m} probe={probe}"),
                LstsqParams {
                    sketch_rows: Some(m),
                    probe,
                    ..d()
                },
                "sketch_rows",
            ));
        }
    }
    for probe in [true, false] {
        cases.push((
            format!("nnz_per_col=0 probe={probe}"),
            LstsqParams {
                nnz_per_col: 0,
                probe,
                ..d()
            },
            "nnz_per_col",
        ));
    }
    // s > 2²¹ needs m > 2²¹ (s is capped at m); checked before the sketch is applied.
    cases.push((
        "nnz_per_col=2^21+1, sketch_rows=2^22".into(),
        LstsqParams {
            nnz_per_col: (1 << 21) + 1,
            sketch_rows: Some(1 << 22),
            ..d()
        },
        "nnz_per_col",
    ));
    for (ctx, p, name) in &cases {
        log.case(
            &format!("sketch_and_precondition {ctx}"),
            Want::Param(name),
            || sketch_and_precondition(av, &b, p),
        );
        log.case(&format!("_with_callback {ctx}"), Want::Param(name), || {
            sketch_and_precondition_with_callback(av, &b, p, &mut |_| ControlFlow::Continue(()))
        });
        let bm = Mat::from_fn(40, 2, |i, j| b[(i + j) % 40]);
        log.case(&format!("_multi {ctx}"), Want::Param(name), || {
            sketch_and_precondition_multi(av, bm.as_ref(), p)
        });
        // Preconditioner::new does not check tol / max_iters (not among its documented
        // parameters): only the ones it documents.
        if !matches!(*name, "tol" | "max_iters") {
            log.case(
                &format!("Preconditioner::new {ctx}"),
                Want::Param(name),
                || Preconditioner::new(av, p),
            );
        }
    }
    log.finish();
}

/// Shapes and NaN in `b` / `B` for the sketched solvers.
#[test]
fn sketch_and_precondition_shapes() {
    let mut log = Log::new("sketch_and_precondition shapes");
    let a = mat(40, 4);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let csr = csr_all(&a);
    let b = vec_b(40);
    let p = LstsqParams::default();
    log.case("b of length 39", Want::Dim(40, 39), || {
        sketch_and_precondition(av, &b[..39], &p)
    });
    let mut bn = b.clone();
    bn[17] = f64::INFINITY;
    for (name, v) in [("dense", av), ("csr", MatrixRef::sparse(&csr).unwrap())] {
        log.case(
            &format!("{name} inf in b[17]"),
            Want::NonFinite(17, 0),
            || sketch_and_precondition(v, &bn, &p),
        );
    }
    let e = Mat::<f64>::zeros(0, 4);
    log.case("empty A", Want::Empty, || {
        sketch_and_precondition(MatrixRef::dense(e.as_ref()).unwrap(), &[], &p)
    });
    let e2 = Mat::<f64>::zeros(40, 0);
    log.case("A with no columns", Want::Empty, || {
        sketch_and_precondition(MatrixRef::dense(e2.as_ref()).unwrap(), &b, &p)
    });
    let b0 = Mat::<f64>::zeros(40, 0);
    log.case("multi B without columns", Want::Empty, || {
        sketch_and_precondition_multi(av, b0.as_ref(), &p)
    });
    let b39 = Mat::<f64>::zeros(39, 2);
    log.case("multi B of 39 rows", Want::Dim(40, 39), || {
        sketch_and_precondition_multi(av, b39.as_ref(), &p)
    });
    let mut bm = Mat::from_fn(40, 3, |i, j| b[(i + 3 * j) % 40]);
    bm[(11, 2)] = f64::NAN;
    log.case("multi NaN in B(11,2)", Want::NonFinite(11, 2), || {
        sketch_and_precondition_multi(av, bm.as_ref(), &p)
    });
    log.finish();
}

/// `sketch_and_solve`: `m < d` (and `m = 0`) named `sketch_rows`; the sketch constructor's
/// `m` renamed to `sketch_rows` (SRHT `m > n'`, Gaussian `m > 2¹⁸`); `nnz_per_col = 0`.
/// `sketch_and_solve_with`: a sketch of the wrong width is `DimensionMismatch(n, sketch.ncols)`.
#[test]
fn sketch_and_solve_errors() {
    let mut log = Log::new("sketch_and_solve");
    let a = mat(40, 4);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_b(40);
    let d = SketchSolveParams::default;
    let cases: Vec<(&str, SketchSolveParams, &'static str)> = vec![
        (
            "sketch_rows=0",
            SketchSolveParams {
                sketch_rows: Some(0),
                ..d()
            },
            "sketch_rows",
        ),
        (
            "sketch_rows=3 < d",
            SketchSolveParams {
                sketch_rows: Some(3),
                ..d()
            },
            "sketch_rows",
        ),
        (
            "srht sketch_rows=65 > n'=64",
            SketchSolveParams {
                sketch: SketchKind::Srht,
                sketch_rows: Some(65),
                ..d()
            },
            "sketch_rows",
        ),
        (
            "gaussian sketch_rows=2^18+1",
            SketchSolveParams {
                sketch: SketchKind::Gaussian,
                sketch_rows: Some((1 << 18) + 1),
                ..d()
            },
            "sketch_rows",
        ),
        (
            "sparse sign sketch_rows=2^31",
            SketchSolveParams {
                sketch_rows: Some(1 << 31),
                ..d()
            },
            "sketch_rows",
        ),
        (
            "nnz_per_col=0",
            SketchSolveParams {
                sketch: SketchKind::SparseSign { nnz_per_col: 0 },
                ..d()
            },
            "nnz_per_col",
        ),
    ];
    for (ctx, p, name) in &cases {
        log.case(ctx, Want::Param(name), || sketch_and_solve(av, &b, p));
    }
    log.case("b of length 41", Want::Dim(40, 41), || {
        sketch_and_solve(av, &vec_b(41), &d())
    });
    let s = SparseSign::new(20, 39, 2, seed()).unwrap();
    log.case("_with sketch n=39 for 40 rows", Want::Dim(40, 39), || {
        sketch_and_solve_with(av, &b, &s, Par::Seq)
    });
    let s = SparseSign::new(20, 40, 2, seed()).unwrap();
    let mut bn = b.clone();
    bn[0] = f64::NAN;
    log.case("_with NaN in b[0]", Want::NonFinite(0, 0), || {
        sketch_and_solve_with(av, &bn, &s, Par::Seq)
    });
    log.finish();
}

/// Iteration budgets: `lsqr` and `sketch_and_precondition` document `Err(NotConverged)` when
/// `max_iters` is exceeded, carrying the iterations, the final test value (> tolerance), the
/// tolerance asked for and the per-iteration history. A callback break is `Ok` with
/// `converged = false` and `stopped_by_callback = true`.
#[test]
fn budget_exceeded_is_not_converged() {
    let mut log = Log::new("NotConverged diagnostics");
    // An ill-conditioned A: LSQR cannot converge in 2 iterations.
    let n = 60;
    let g = randnla::problems::gaussian_matrix(n, 6, Seed::new(4)).unwrap();
    let a = Mat::from_fn(n, 6, |i, j| g[(i, j)] * 10f64.powi(-(j as i32) * 2));
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_b(n);
    let check = |log: &mut Log, ctx: &str, e: Option<Error>, tol: f64, max_iters: usize| {
        let Some(e) = e else { return };
        if let Some(m) = display_problem(&e) {
            log.fail(ctx, m);
        }
        match e {
            Error::NotConverged {
                iterations,
                residual,
                tolerance,
                history,
                ..
            } => {
                if iterations == 0 || iterations > max_iters.max(1) * 4 {
                    log.fail(
                        ctx,
                        format!("iterations = {iterations} (max_iters {max_iters})"),
                    );
                }
                if tolerance != tol {
                    log.fail(ctx, format!("tolerance = {tolerance:e}, asked {tol:e}"));
                }
                if residual.partial_cmp(&tolerance) != Some(std::cmp::Ordering::Greater) {
                    log.fail(
                        ctx,
                        format!("residual {residual:e} not > tolerance {tolerance:e}"),
                    );
                }
                if history.is_empty() {
                    log.fail(ctx, "empty history".into());
                } else if history.last().copied() != Some(residual) {
                    log.fail(
                        ctx,
                        format!(
                            "history ends at {:e}, residual {residual:e}",
                            history.last().unwrap()
                        ),
                    );
                }
            }
            e => log.fail(ctx, format!("{} ({e}), expected NotConverged", variant(&e))),
        }
    };
    let p = LsqrParams {
        tol: 1e-14,
        max_iters: 2,
        ..Default::default()
    };
    let e = log.err("lsqr max_iters=2", || lsqr(av, &b, &p));
    check(&mut log, "lsqr max_iters=2", e, 1e-14, 2);
    for probe in [false, true] {
        let p = LstsqParams {
            sketch_rows: Some(6),
            max_iters: 1,
            refinement_steps: 0,
            probe,
            ..Default::default()
        };
        let ctx = format!("sketch_and_precondition sketch_rows=d max_iters=1 probe={probe}");
        let e = log.err(&ctx, || sketch_and_precondition(av, &b, &p));
        check(&mut log, &ctx, e, p.tol, 1);
    }
    // The callback stop is Ok, not an error.
    let ctx = "callback Break";
    if let Some(r) = log.no_panic(ctx, || {
        sketch_and_precondition_with_callback(av, &b, &LstsqParams::default(), &mut |_| {
            ControlFlow::Break(())
        })
    }) {
        match r {
            Ok((_, info)) => {
                if info.converged || !info.stopped_by_callback {
                    log.fail(
                        ctx,
                        format!(
                            "converged = {}, stopped_by_callback = {}",
                            info.converged, info.stopped_by_callback
                        ),
                    );
                }
            }
            Err(e) => log.fail(ctx, format!("Err({e}), expected Ok with converged = false")),
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Leverage scores and diagnostics
// ---------------------------------------------------------------------------------------------

#[test]
fn leverage_errors() {
    let mut log = Log::new("leverage scores");
    let a = mat(60, 5);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let e = Mat::<f64>::zeros(0, 5);
    let ev = MatrixRef::dense(e.as_ref()).unwrap();
    let ep = ExactParams::default();
    log.case("exact empty", Want::Empty, || {
        exact_leverage_scores(ev, &ep, Par::Seq)
    });
    let mut an = a.clone();
    an[(4, 3)] = f64::NAN;
    log.case(
        "exact unvalidated NaN at (4,3)",
        Want::NonFinite(4, 3),
        || exact_leverage_scores(MatrixRef::Dense(an.as_ref()), &ep, Par::Seq),
    );
    for rt in [-0.1, 1.0, f64::NAN, f64::INFINITY] {
        let p = ExactParams {
            rank_tol: Some(rt),
            ..ep
        };
        log.case(
            &format!("exact rank_tol={rt}"),
            Want::Param("rank_tol"),
            || exact_leverage_scores(av, &p, Par::Seq),
        );
        let ap = ApproxParams {
            rank_tol: Some(rt),
            ..Default::default()
        };
        log.case(
            &format!("approx rank_tol={rt}"),
            Want::Param("rank_tol"),
            || approx_leverage_scores(av, &ap, seed(), Par::Seq),
        );
    }
    let dflt = ApproxParams::default;
    // n = 60 > m₁ (sketched route) and n = 60 ≤ m₁ (exact route): bounds are checked for both.
    let mut cases: Vec<(String, ApproxParams, &'static str)> = vec![
        (
            "sketch_rows=4 < d".into(),
            ApproxParams {
                sketch_rows: Some(4),
                ..dflt()
            },
            "sketch_rows",
        ),
        (
            "sketch_rows=0".into(),
            ApproxParams {
                sketch_rows: Some(0),
                ..dflt()
            },
            "sketch_rows",
        ),
        (
            "sketch_rows=2^31".into(),
            ApproxParams {
                sketch_rows: Some(1 << 31),
                ..dflt()
            },
            "sketch_rows",
        ),
        (
            "debias sketch_rows=6 < r+2".into(),
            ApproxParams {
                sketch_rows: Some(6),
                nnz_per_col: 2,
                ..dflt()
            },
            "sketch_rows",
        ),
    ];
    for m1 in [20usize, 80] {
        cases.push((
            format!("nnz_per_col=0 m1={m1}"),
            ApproxParams {
                sketch_rows: Some(m1),
                nnz_per_col: 0,
                ..dflt()
            },
            "nnz_per_col",
        ));
        cases.push((
            format!("nnz_per_col>m1 m1={m1}"),
            ApproxParams {
                sketch_rows: Some(m1),
                nnz_per_col: m1 + 1,
                ..dflt()
            },
            "nnz_per_col",
        ));
    }
    for (ctx, p, name) in &cases {
        log.case(&format!("approx {ctx}"), Want::Param(name), || {
            approx_leverage_scores(av, p, seed(), Par::Seq)
        });
    }
    log.case(
        "ApproxParams::sketch m1<d",
        Want::Param("sketch_rows"),
        || {
            ApproxParams {
                sketch_rows: Some(4),
                ..dflt()
            }
            .sketch(60, 5, seed())
        },
    );
    log.case(
        "ApproxParams::sketch m1=2^31",
        Want::Param("sketch_rows"),
        || {
            ApproxParams {
                sketch_rows: Some(1 << 31),
                ..dflt()
            }
            .sketch(60, 5, seed())
        },
    );
    log.case("approx empty", Want::Empty, || {
        approx_leverage_scores(ev, &dflt(), seed(), Par::Seq)
    });
    log.finish();
}

#[test]
fn diagnostics_errors() {
    let mut log = Log::new("diagnostics");
    let e = Mat::<f64>::zeros(0, 3);
    log.case("condition_number empty", Want::Empty, || {
        condition_number(e.as_ref())
    });
    let mut a = mat(6, 3);
    a[(4, 2)] = f64::NAN;
    log.case("condition_number NaN (4,2)", Want::NonFinite(4, 2), || {
        condition_number(a.as_ref())
    });
    log.case("orthonormal_basis NaN (4,2)", Want::NonFinite(4, 2), || {
        orthonormal_basis(a.as_ref())
    });
    log.case("gram unvalidated NaN (4,2)", Want::NonFinite(4, 2), || {
        gram(MatrixRef::Dense(a.as_ref()), Par::Seq)
    });
    log.case("gram empty", Want::Empty, || {
        gram(MatrixRef::Dense(e.as_ref()), Par::Seq)
    });
    let wide = mat(2, 3);
    log.case(
        "orthonormal_basis 2×3",
        Want::AnyOf(vec![Want::Param("a"), Want::Param("A")]),
        || orthonormal_basis(wide.as_ref()),
    );
    let z = Mat::<f64>::zeros(6, 3);
    log.case("orthonormal_basis zero", Want::RankDeficient, || {
        orthonormal_basis(z.as_ref())
    });
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// I/O
// ---------------------------------------------------------------------------------------------

#[test]
fn matrix_market_errors() {
    let mut log = Log::new("Matrix Market I/O");
    let rd = |s: &'static str| read_matrix_market(s.as_bytes(), &ReadOptions::default());
    log.case(
        "empty file",
        Want::AnyOf(vec![Want::Parse(0), Want::Parse(1)]),
        || rd(""),
    );
    log.case("bad banner", Want::Parse(1), || {
        rd("%%MatrixMarket matrix foo real general\n2 2 1\n1 1 1.0\n")
    });
    log.case("bad size line", Want::Parse(2), || {
        rd("%%MatrixMarket matrix coordinate real general\n2 x 1\n1 1 1.0\n")
    });
    log.case("index out of range on line 4", Want::Parse(4), || {
        rd("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n3 1 1.0\n")
    });
    log.case("index 0 on line 3", Want::Parse(3), || {
        rd("%%MatrixMarket matrix coordinate real general\n2 2 1\n0 1 1.0\n")
    });
    log.case("NaN value on line 3", Want::Parse(3), || {
        rd("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n")
    });
    log.case("inf in array on line 4", Want::Parse(4), || {
        rd("%%MatrixMarket matrix array real general\n2 1\n1.0\ninf\n")
    });
    log.case("1e400 on line 3", Want::Parse(3), || {
        rd("%%MatrixMarket matrix array real general\n2 1\n1e400\n1.0\n")
    });
    log.case(
        "missing entries",
        Want::AnyOf(vec![Want::Parse(0), Want::Parse(3), Want::Parse(4)]),
        || rd("%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n"),
    );
    let small = ReadOptions { max_elements: 3 };
    log.case("array 2×2 over max_elements=3", Want::TooLarge, || {
        read_matrix_market(
            "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n".as_bytes(),
            &small,
        )
    });
    log.case(
        "read_dense coordinate 10×10 over max_elements=3",
        Want::TooLarge,
        || {
            read_dense(
                "%%MatrixMarket matrix coordinate real general\n10 10 1\n1 1 1.0\n".as_bytes(),
                &small,
            )
        },
    );
    let mut a = mat(3, 2);
    a[(1, 1)] = f64::NAN;
    let mut out = Vec::new();
    log.case("write_dense NaN (1,1)", Want::NonFinite(1, 1), || {
        write_dense(&mut out, a.as_ref())
    });
    if !out.is_empty() {
        log.fail(
            "write_dense NaN",
            format!("wrote {} bytes before failing", out.len()),
        );
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------------------------

#[test]
fn tensor_errors() {
    let mut log = Log::new("tensors");
    let ok = |n: usize| vec![1.0; n * n * n];
    log.case("dense order 2", Want::Param("order"), || {
        SymmetricTensor::dense(2, 3, vec![1.0; 9])
    });
    log.case("dense order 13", Want::Param("order"), || {
        SymmetricTensor::dense(13, 1, vec![1.0])
    });
    log.case(
        "dense dim 0",
        Want::AnyOf(vec![Want::Empty, Want::Param("dim")]),
        || SymmetricTensor::dense(3, 0, vec![]),
    );
    log.case(
        "dense data.len 26",
        Want::AnyOf(vec![Want::Dim(27, 26), Want::Structure]),
        || SymmetricTensor::dense(3, 3, vec![1.0; 26]),
    );
    let mut nan = ok(3);
    nan[5] = f64::NAN;
    log.case(
        "dense NaN at flat 5",
        Want::AnyOf(vec![Want::NonFinite(5, 0), Want::NonFinite(0, 5)]),
        || SymmetricTensor::dense(3, 3, nan),
    );
    let mut asym = ok(3);
    asym[1] = 2.0; // (0,0,1) differs from (0,1,0) and (1,0,0)
    log.case("dense asymmetric", Want::Structure, || {
        SymmetricTensor::dense(3, 3, asym)
    });
    log.case(
        "coordinate index ≥ dim",
        Want::AnyOf(vec![Want::Structure, Want::Param("indices")]),
        || SymmetricTensor::coordinate(3, 2, &[0, 1, 2], &[1.0]),
    );
    log.case(
        "coordinate indices.len ≠ p·values.len",
        Want::AnyOf(vec![Want::Dim(6, 5), Want::Dim(3, 2), Want::Structure]),
        || SymmetricTensor::coordinate(3, 2, &[0, 1, 1, 0, 1], &[1.0, 2.0]),
    );
    log.case("coordinate no entries", Want::Empty, || {
        SymmetricTensor::coordinate(3, 2, &[], &[])
    });
    log.case(
        "coordinate NaN value 1",
        Want::AnyOf(vec![Want::NonFinite(1, 0), Want::NonFinite(0, 1)]),
        || SymmetricTensor::coordinate(3, 2, &[0, 0, 0, 1, 1, 1], &[1.0, f64::NAN]),
    );
    log.case("coordinate repeated", Want::Structure, || {
        SymmetricTensor::coordinate(3, 2, &[0, 0, 1, 0, 0, 1], &[1.0, 1.0])
    });
    let t = SymmetricTensor::dense(3, 3, ok(3)).unwrap();
    let pp = PowerParams::default();
    log.case("power rank=0", Want::Param("rank"), || {
        power_method_exact(&t, 0, &pp, seed(), Par::Seq)
    });
    log.case("power rank=2^16+1", Want::Param("rank"), || {
        power_method_exact(&t, (1 << 16) + 1, &pp, seed(), Par::Seq)
    });
    let p0 = PowerParams { starts: 0, ..pp };
    log.case("power starts=0", Want::Param("starts"), || {
        power_method_exact(&t, 1, &p0, seed(), Par::Seq)
    });
    let pi = PowerParams {
        iters: (1 << 16) + 1,
        ..pp
    };
    log.case("power iters=2^16+1", Want::Param("iters"), || {
        power_method_exact(&t, 1, &pi, seed(), Par::Seq)
    });
    // .tns
    let tns = |s: &'static str| read_tns(s.as_bytes());
    log.case("tns index 0 on line 2", Want::Parse(2), || {
        tns("1 1 1 1.0\n0 1 1 2.0\n")
    });
    log.case("tns NaN on line 1", Want::Parse(1), || tns("1 1 1 nan\n"));
    log.case("tns field count on line 2", Want::Parse(2), || {
        tns("1 1 1 1.0\n1 1 2\n")
    });
    log.case("tns order 2 on line 1", Want::Parse(1), || tns("1 1 1.0\n"));
    log.case("tns empty", Want::Empty, || tns(""));
    log.finish();
}

/// `TensorSketch::new(degree, d, m)` and `TreeSketch::new`: documented InvalidParameter for
/// `degree = 0`, `d = 0`, `m = 0`, `m > 2²²`, each named after the argument.
#[test]
fn tensor_sketch_constructor_names() {
    let mut log = Log::new("TensorSketch / TreeSketch constructors");
    let s = seed();
    log.case("TensorSketch degree=0", Want::Param("degree"), || {
        TensorSketch::new(0, 3, 16, s)
    });
    log.case("TensorSketch m=0", Want::Param("m"), || {
        TensorSketch::new(2, 3, 0, s)
    });
    log.case("TensorSketch m=2^22+1", Want::Param("m"), || {
        TensorSketch::new(2, 3, (1 << 22) + 1, s)
    });
    log.case("TensorSketch::with_dims [3,0]", Want::Param("dims"), || {
        TensorSketch::with_dims(&[3, 0], 16, s)
    });
    log.case("TreeSketch degree=0", Want::Param("degree"), || {
        TreeSketch::new(0, 3, 16, s)
    });
    log.case("TreeSketch m=0", Want::Param("m"), || {
        TreeSketch::new(2, 3, 0, s)
    });
    log.finish();
}

/// `TensorSketch::new(degree, d = 0, m)`: the argument is `d`, the error names `dims` (the
/// parameter of `with_dims`, which `new` calls).
#[test]
fn tensor_sketch_d_zero_is_named_d() {
    let mut log = Log::new("TensorSketch::new d = 0");
    let s = seed();
    log.case("TensorSketch d=0", Want::Param("d"), || {
        TensorSketch::new(2, 0, 16, s)
    });
    log.case("TreeSketch d=0", Want::Param("d"), || {
        TreeSketch::new(2, 0, 16, s)
    });
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Attention and active learning
// ---------------------------------------------------------------------------------------------

#[test]
fn attention_errors() {
    let mut log = Log::new("attention");
    let q = mat(6, 4);
    let k = mat(6, 4);
    let v = mat(6, 2);
    let ap = AttnParams::default();
    let poly = Kernel::Polynomial { degree: 2 };
    let e = Mat::<f64>::zeros(0, 4);
    log.case("Q empty", Want::Empty, || {
        exact_attention(e.as_ref(), k.as_ref(), v.as_ref(), poly, &ap, Par::Seq)
    });
    let k3 = mat(6, 3);
    log.case("K with 3 columns", Want::Dim(4, 3), || {
        exact_attention(q.as_ref(), k3.as_ref(), v.as_ref(), poly, &ap, Par::Seq)
    });
    let v5 = mat(5, 2);
    log.case("V with 5 rows", Want::Dim(6, 5), || {
        exact_attention(q.as_ref(), k.as_ref(), v5.as_ref(), poly, &ap, Par::Seq)
    });
    let k5 = mat(5, 4);
    let causal = AttnParams { causal: true, ..ap };
    log.case("causal K with 5 rows", Want::Dim(6, 5), || {
        exact_attention(
            q.as_ref(),
            k5.as_ref(),
            v5.as_ref(),
            poly,
            &causal,
            Par::Seq,
        )
    });
    let mut kn = k.clone();
    kn[(3, 1)] = f64::NAN;
    log.case("NaN in K (3,1)", Want::NonFinite(3, 1), || {
        exact_attention(q.as_ref(), kn.as_ref(), v.as_ref(), poly, &ap, Par::Seq)
    });
    for deg in [0usize, 3] {
        log.case(&format!("degree {deg}"), Want::Param("degree"), || {
            exact_attention(
                q.as_ref(),
                k.as_ref(),
                v.as_ref(),
                Kernel::Polynomial { degree: deg },
                &ap,
                Par::Seq,
            )
        });
    }
    for sc in [f64::NAN, f64::INFINITY] {
        log.case(&format!("softmax scale {sc}"), Want::Param("scale"), || {
            exact_attention(
                q.as_ref(),
                k.as_ref(),
                v.as_ref(),
                Kernel::Softmax { scale: sc },
                &ap,
                Par::Seq,
            )
        });
    }
    for b in [0usize, 8193] {
        let p = AttnParams { block: b, ..ap };
        log.case(&format!("block {b}"), Want::Param("block"), || {
            exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), poly, &p, Par::Seq)
        });
    }
    // poly_sketch_attention: the same input checks, and its own parameters.
    let pp = PolySketchParams::default();
    log.case("poly_sketch NaN in K (3,1)", Want::NonFinite(3, 1), || {
        poly_sketch_attention(q.as_ref(), kn.as_ref(), v.as_ref(), &pp, Par::Seq)
    });
    log.case("poly_sketch V with 5 rows", Want::Dim(6, 5), || {
        poly_sketch_attention(q.as_ref(), k.as_ref(), v5.as_ref(), &pp, Par::Seq)
    });
    for (ctx, p, name) in [
        ("degree 0", PolySketchParams { degree: 0, ..pp }, "degree"),
        ("degree 3", PolySketchParams { degree: 3, ..pp }, "degree"),
        (
            "sketch_dim 0",
            PolySketchParams {
                sketch_dim: 0,
                ..pp
            },
            "sketch_dim",
        ),
        ("block 0", PolySketchParams { block: 0, ..pp }, "block"),
    ] {
        log.case(&format!("poly_sketch {ctx}"), Want::Param(name), || {
            poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &p, Par::Seq)
        });
    }
    log.finish();
}

#[test]
fn active_pool_errors() {
    let mut log = Log::new("active::Pool::new");
    let s = seed();
    let e = Mat::<f64>::zeros(0, 3);
    log.case("empty X", Want::Empty, || {
        Pool::new(
            MatrixRef::dense(e.as_ref()).unwrap(),
            Basis::Exact,
            s,
            Par::Seq,
        )
        .map(|_| ())
    });
    let wide = mat(2, 3);
    for basis in [Basis::Exact, Basis::AsGiven] {
        log.case(
            &format!("2×3 X {basis:?}"),
            Want::AnyOf(vec![Want::Param("x"), Want::Param("X")]),
            || Pool::new(MatrixRef::dense(wide.as_ref()).unwrap(), basis, s, Par::Seq).map(|_| ()),
        );
    }
    let mut xn = mat(20, 3);
    xn[(13, 2)] = f64::NAN;
    log.case("unvalidated NaN at (13,2)", Want::NonFinite(13, 2), || {
        Pool::new(MatrixRef::Dense(xn.as_ref()), Basis::Exact, s, Par::Seq).map(|_| ())
    });
    let z = Mat::<f64>::zeros(20, 3);
    for basis in [Basis::Exact, Basis::AsGiven] {
        log.case(
            &format!("all-zero X {basis:?}"),
            Want::RankDeficient,
            || Pool::new(MatrixRef::dense(z.as_ref()).unwrap(), basis, s, Par::Seq).map(|_| ()),
        );
    }
    let x = mat(20, 3);
    log.case(
        "Sketched{sketch_rows: 2} < d",
        Want::Param("sketch_rows"),
        || {
            Pool::new(
                MatrixRef::dense(x.as_ref()).unwrap(),
                Basis::Sketched {
                    sketch_rows: Some(2),
                },
                s,
                Par::Seq,
            )
            .map(|_| ())
        },
    );
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Precedence and determinism
// ---------------------------------------------------------------------------------------------

/// Two faults at once give the same error for 1 and 4 threads and for dense / CSR / CSC storage
/// of the same `A`.
#[test]
fn precedence_is_storage_and_thread_independent() {
    let mut log = Log::new("error precedence");
    let a = mat(30, 4);
    let csr = csr_all(&a);
    let csc = csc_all(&a);
    let views = || {
        vec![
            ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&csr).unwrap()),
            ("csc", MatrixRef::sparse(&csc).unwrap()),
        ]
    };
    let mut bn = vec_b(30);
    bn[9] = f64::NAN;
    bn[21] = f64::INFINITY;
    // (name, runner) pairs; each runs for every storage and thread count.
    type Run<'a> = Box<dyn Fn(MatrixRef<'_, f64>, Par) -> randnla::Result<()> + Sync + 'a>;
    let runs: Vec<(&str, Run)> = vec![
        (
            "sketch_and_precondition NaN b + tol=0 + sketch_rows<d",
            Box::new(|av, par| {
                let p = LstsqParams {
                    tol: 0.0,
                    sketch_rows: Some(2),
                    par,
                    ..Default::default()
                };
                sketch_and_precondition(av, &bn, &p).map(|_| ())
            }),
        ),
        (
            "sketch_and_precondition rcond=0 + nnz_per_col=0",
            Box::new(|av, par| {
                let p = LstsqParams {
                    rcond: 0.0,
                    nnz_per_col: 0,
                    par,
                    ..Default::default()
                };
                sketch_and_precondition(av, &vec_b(30), &p).map(|_| ())
            }),
        ),
        (
            "lsqr NaN b + max_iters=0",
            Box::new(|av, par| {
                let p = LsqrParams {
                    max_iters: 0,
                    par,
                    ..Default::default()
                };
                lsqr(av, &bn, &p).map(|_| ())
            }),
        ),
        (
            "lsqr budget 1",
            Box::new(|av, par| {
                let p = LsqrParams {
                    max_iters: 1,
                    par,
                    ..Default::default()
                };
                lsqr(av, &vec_b(30), &p).map(|_| ())
            }),
        ),
        (
            "approx_leverage rank_tol=-1 + nnz_per_col=0",
            Box::new(|av, par| {
                let p = ApproxParams {
                    rank_tol: Some(-1.0),
                    nnz_per_col: 0,
                    ..Default::default()
                };
                approx_leverage_scores(av, &p, seed(), par).map(|_| ())
            }),
        ),
        (
            "sketch_and_solve b length + sketch_rows<d",
            Box::new(|av, par| {
                let p = SketchSolveParams {
                    sketch_rows: Some(1),
                    par,
                    ..Default::default()
                };
                sketch_and_solve(av, &vec_b(29), &p).map(|_| ())
            }),
        ),
    ];
    for (name, run) in &runs {
        let mut first: Option<(String, Error)> = None;
        for (storage, av) in views() {
            for threads in [1usize, 4] {
                let ctx = format!("{name} [{storage}, {threads} threads]");
                let e = log.err(&ctx, || with_threads(threads, |par| run(av, par)));
                let Some(e) = e else { continue };
                match &first {
                    None => first = Some((ctx, e)),
                    Some((c0, e0)) => {
                        // NotConverged's figures may differ between storages by rounding; compare
                        // the variant and the iteration count there.
                        let same = match (e0, &e) {
                            (
                                Error::NotConverged { iterations: i0, .. },
                                Error::NotConverged { iterations: i1, .. },
                            ) => i0 == i1,
                            _ => e0 == &e,
                        };
                        if !same {
                            log.fail(&ctx, format!("{e:?} differs from {c0}: {e0:?}"));
                        }
                    }
                }
            }
        }
    }
    // Two NaNs in A at (0,3) and (2,0): the dense check names the first column-major entry
    // (2,0). CSR / CSC are checked in their own storage order; the docs name no order for them,
    // so only that each names one of the two is asserted here, and the difference is logged.
    let mut an = mat(5, 4);
    an[(0, 3)] = f64::NAN;
    an[(2, 0)] = f64::NAN;
    let both = || Want::AnyOf(vec![Want::NonFinite(2, 0), Want::NonFinite(0, 3)]);
    log.case("dense two NaNs", Want::NonFinite(2, 0), || {
        MatrixRef::dense(an.as_ref()).map(|_| ())
    });
    let (c1, c2) = (csr_all(&an), csc_all(&an));
    let mut named = Vec::new();
    for (s, m) in [("csr", &c1), ("csc", &c2)] {
        log.case(&format!("{s} two NaNs"), both(), || {
            MatrixRef::sparse(m).map(|_| ())
        });
        if let Err(Error::NonFinite { row, col, .. }) = MatrixRef::sparse(m) {
            named.push((s, row, col));
        }
    }
    eprintln!("two NaNs in A: dense names (2, 0); sparse name {named:?}");
    // Attention: NaN in Q and a bad block; NaN in Q and in K.
    let q = {
        let mut q = mat(40, 4);
        q[(33, 1)] = f64::NAN;
        q
    };
    let mut k = mat(40, 4);
    k[(2, 2)] = f64::NAN;
    let v = mat(40, 2);
    let mut first: Option<Error> = None;
    for threads in [1usize, 4] {
        let p = AttnParams {
            block: 0,
            ..AttnParams::default()
        };
        let ctx = format!("attention NaN Q + NaN K + block 0 [{threads} threads]");
        let e = log.err(&ctx, || {
            with_threads(threads, |par| {
                exact_attention(
                    q.as_ref(),
                    k.as_ref(),
                    v.as_ref(),
                    Kernel::Polynomial { degree: 2 },
                    &p,
                    par,
                )
            })
        });
        if let Some(e) = e {
            match &first {
                None => first = Some(e),
                Some(e0) if e0 != &e => log.fail(&ctx, format!("{e:?} vs {e0:?}")),
                _ => {}
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Batch 2: kernel regression, TensorSketch methods, polynomial features, tensor accessors,
// active learning, I/O paths, causal products, allocation limits
// ---------------------------------------------------------------------------------------------

/// Kernel regression P1/P2/P3: shapes, NaN, the parameters of `KernelParams` named after the
/// field set, `j > 64`, `nystrom_rank = Some(0)`.
#[test]
fn kernel_regression_errors() {
    use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, solve_p3, KernelParams};
    let mut log = Log::new("kernel regression");
    let a = Mat::from_fn(12, 3, |i, j| 0.3 * mat(12, 3)[(i, j)]);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let bd = vec_b(3);
    let bn = vec_b(12);
    let dflt = KernelParams::default;
    log.case("P1 b of length 4", Want::Dim(3, 4), || {
        solve_p1(av, 1, &vec_b(4), &dflt())
    });
    log.case("P2 b of length 4", Want::Dim(12, 4), || {
        solve_p2(av, 1, &vec_b(4), &dflt())
    });
    log.case("P3 b of length 4", Want::Dim(12, 4), || {
        solve_p3(av, &vec_b(4), &dflt())
    });
    let mut bnan = bd.clone();
    bnan[2] = f64::NAN;
    log.case("P1 NaN in b[2]", Want::NonFinite(2, 0), || {
        solve_p1(av, 1, &bnan, &dflt())
    });
    let e = Mat::<f64>::zeros(0, 3);
    log.case("P1 empty A", Want::Empty, || {
        solve_p1(MatrixRef::dense(e.as_ref()).unwrap(), 1, &bd, &dflt())
    });
    let cases: Vec<(&str, KernelParams, &'static str)> = vec![
        ("tol=0", KernelParams { tol: 0.0, ..dflt() }, "tol"),
        (
            "tol=NaN",
            KernelParams {
                tol: f64::NAN,
                ..dflt()
            },
            "tol",
        ),
        (
            "max_iters=0",
            KernelParams {
                max_iters: 0,
                ..dflt()
            },
            "max_iters",
        ),
    ];
    for (ctx, p, name) in &cases {
        log.case(&format!("P1 {ctx}"), Want::Param(name), || {
            solve_p1(av, 1, &bd, p)
        });
        log.case(&format!("P2 {ctx}"), Want::Param(name), || {
            solve_p2(av, 1, &bn, p)
        });
        log.case(&format!("P3 {ctx}"), Want::Param(name), || {
            solve_p3(av, &bn, p)
        });
    }
    log.case("P1 j=65", Want::Param("j"), || {
        solve_p1(av, 65, &bd, &dflt())
    });
    log.case("P2 j=65", Want::Param("j"), || {
        solve_p2(av, 65, &bn, &dflt())
    });
    log.case("P1 j=usize::MAX", Want::Param("j"), || {
        solve_p1(av, usize::MAX, &bd, &dflt())
    });
    let p = KernelParams {
        nystrom_rank: Some(0),
        ..dflt()
    };
    log.case(
        "P3 nystrom_rank=Some(0)",
        Want::Param("nystrom_rank"),
        || solve_p3(av, &bn, &p),
    );
    let mut lp = KernelParams {
        inner_solve: randnla::lstsq::kernel_regression::InnerSolve::Cg,
        ..dflt()
    };
    lp.lstsq.sketch_rows = Some(2);
    log.case(
        "P1 Cg lstsq.sketch_rows < d",
        Want::Param("sketch_rows"),
        || solve_p1(av, 1, &bd, &lp),
    );
    lp.lstsq.sketch_rows = None;
    lp.lstsq.nnz_per_col = 0;
    log.case(
        "P1 Cg lstsq.nnz_per_col = 0",
        Want::Param("nnz_per_col"),
        || solve_p1(av, 1, &bd, &lp),
    );
    // P3: a row with ‖aᵢ‖²/2 > 700 is InvalidParameter (docs); name not stated.
    let big = Mat::from_fn(4, 2, |i, j| {
        if i == 1 && j == 0 {
            40.0
        } else {
            0.1 * (i + j) as f64
        }
    });
    if let Some(e) = log.err("P3 ‖a_1‖² = 1600", || {
        solve_p3(MatrixRef::dense(big.as_ref()).unwrap(), &vec_b(4), &dflt())
    }) {
        if !matches!(e, Error::InvalidParameter { .. }) {
            log.fail("P3 ‖a_1‖² = 1600", format!("{} ({e})", variant(&e)));
        } else {
            eprintln!("P3 big row: {e}");
        }
        if let Some(m) = display_problem(&e) {
            log.fail("P3 big row", m);
        }
    }
    log.finish();
}

/// The nested `KernelParams::lstsq` fields share their names with `KernelParams::tol` and
/// `max_iters`: a bad `lstsq.tol` is reported as `tol`, indistinguishable from a bad
/// `KernelParams::tol`; likewise `lstsq.max_iters`, and `lstsq.ridge ≠ 0` as `ridge`.
#[test]
fn kernel_regression_nested_param_names() {
    use randnla::lstsq::kernel_regression::{solve_p1, KernelParams};
    let mut log = Log::new("kernel regression nested names");
    let a = mat(12, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let bd = vec_b(3);
    let mut p = KernelParams::default();
    p.lstsq.tol = 0.0;
    log.case("lstsq.tol=0", Want::Param("lstsq.tol"), || {
        solve_p1(av, 1, &bd, &p)
    });
    let mut p = KernelParams::default();
    p.lstsq.max_iters = 0;
    log.case("lstsq.max_iters=0", Want::Param("lstsq.max_iters"), || {
        solve_p1(av, 1, &bd, &p)
    });
    let mut p = KernelParams::default();
    p.lstsq.ridge = 1.0;
    log.case("lstsq.ridge=1", Want::Param("lstsq.ridge"), || {
        solve_p1(av, 1, &bd, &p)
    });
    log.finish();
}

/// Kernel regression with the budget cut to one CG iteration and no refinement: the docs
/// promise `Err(NotConverged)` whose `history` is "the relative residual after each refinement
/// step" (the same figures as `KernelInfo::residual_history`) and whose `tolerance` is `tol`.
#[test]
fn kernel_regression_not_converged() {
    use randnla::lstsq::kernel_regression::{solve_p1, solve_p3, InnerSolve, KernelParams};
    let mut log = Log::new("kernel regression NotConverged");
    let n = 40;
    let g = randnla::problems::gaussian_matrix(n, 5, Seed::new(5)).unwrap();
    let a = Mat::from_fn(n, 5, |i, j| 0.3 * g[(i, j)] * 3f64.powi(-(j as i32)));
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let p = KernelParams {
        tol: 1e-14,
        max_iters: 1,
        max_refinements: 0,
        inner_solve: InnerSolve::Cg,
        ..KernelParams::default()
    };
    for (ctx, r) in [
        ("P1 j=2", log.err("P1", || solve_p1(av, 2, &vec_b(5), &p))),
        ("P3", log.err("P3", || solve_p3(av, &vec_b(n), &p))),
    ] {
        let Some(e) = r else { continue };
        match &e {
            Error::NotConverged {
                iterations,
                residual,
                tolerance,
                history,
                ..
            } => {
                if *tolerance != 1e-14 {
                    log.fail(ctx, format!("tolerance {tolerance:e}"));
                }
                if residual.partial_cmp(tolerance) != Some(std::cmp::Ordering::Greater) {
                    log.fail(ctx, format!("residual {residual:e} ≤ tolerance"));
                }
                if history.is_empty() {
                    log.fail(ctx, "empty history".into());
                } else if history.last() != Some(residual) {
                    log.fail(
                        ctx,
                        format!("history {history:?} does not end at {residual:e}"),
                    );
                }
                eprintln!("{ctx}: iterations {iterations}, history {history:?}");
            }
            _ => log.fail(ctx, format!("{} ({e}), expected NotConverged", variant(&e))),
        }
        if let Some(m) = display_problem(&e) {
            log.fail(ctx, m);
        }
    }
    log.finish();
}

/// TensorSketch's vector methods: length, NaN, index-range errors as documented.
#[test]
fn tensor_sketch_methods() {
    let mut log = Log::new("TensorSketch methods");
    let ts = TensorSketch::new(2, 4, 16, seed()).unwrap();
    let tk = TensorSketch::with_dims(&[3, 4], 16, seed()).unwrap();
    log.case("apply_power len 5", Want::Dim(4, 5), || {
        ts.apply_power(&[1.0f64; 5])
    });
    log.case("apply_power NaN at 2", Want::NonFinite(2, 0), || {
        ts.apply_power(&[1.0, 1.0, f64::NAN, 1.0])
    });
    log.case(
        "apply_power on mixed dims",
        Want::AnyOf(vec![Want::Param("dims"), Want::Param("x")]),
        || tk.apply_power(&[1.0f64; 3]),
    );
    log.case("apply_kron 1 factor of 2", Want::Dim(2, 1), || {
        tk.apply_kron(&[&[1.0f64; 3][..]])
    });
    log.case("apply_kron factor 1 of length 3", Want::Dim(4, 3), || {
        tk.apply_kron(&[&[1.0f64; 3][..], &[1.0f64; 3][..]])
    });
    let bad = [1.0, f64::INFINITY, 1.0, 1.0];
    log.case(
        "apply_kron inf in factor 1 entry 1",
        Want::AnyOf(vec![Want::NonFinite(1, 0), Want::NonFinite(1, 1)]),
        || tk.apply_kron(&[&[1.0f64; 3][..], &bad[..]]),
    );
    let a = mat(5, 3);
    log.case("apply_rows 3 columns for d=4", Want::Dim(4, 3), || {
        ts.apply_rows(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq)
    });
    let e = Mat::<f64>::zeros(0, 4);
    log.case("apply_rows empty", Want::Empty, || {
        ts.apply_rows(MatrixRef::dense(e.as_ref()).unwrap(), Par::Seq)
    });
    // Documented InvalidParameter; the names are checked in
    // `tensor_sketch_index_arguments_are_named_as_the_arguments`.
    for (ctx, r) in [
        ("mode_bucket k=2", ts.mode_bucket(2, 0)),
        ("mode_bucket i=4", ts.mode_bucket(0, 4)),
    ] {
        log.checks += 1;
        if !matches!(r, Err(Error::InvalidParameter { .. })) {
            log.fail(ctx, format!("{r:?}, expected InvalidParameter"));
        }
    }
    log.case("tensor_bucket 3 entries", Want::Dim(2, 3), || {
        ts.tensor_bucket(&[0, 0, 0])
    });
    log.case(
        "tensor_bucket out of range",
        Want::AnyOf(vec![Want::Param("index"), Want::Param("i")]),
        || ts.tensor_bucket(&[0, 4]),
    );
    log.case("sketch_entries 3 indices, 1 value", Want::Dim(2, 3), || {
        ts.sketch_entries(&[0, 1, 2], &[1.0])
    });
    log.case(
        "sketch_entries NaN value 1",
        Want::AnyOf(vec![Want::NonFinite(1, 0), Want::NonFinite(0, 1)]),
        || ts.sketch_entries(&[0, 1, 2, 3], &[1.0, f64::NAN]),
    );
    log.checks += 1;
    if !matches!(
        ts.mode_sketch(2, &[1.0f64; 4]),
        Err(Error::InvalidParameter { .. })
    ) {
        log.fail("mode_sketch k=2", "expected InvalidParameter".into());
    }
    log.case("mode_sketch len 3", Want::Dim(4, 3), || {
        ts.mode_sketch(0, &[1.0f64; 3])
    });
    log.case("forward len 15", Want::Dim(16, 15), || {
        ts.forward(&[1.0; 15])
    });
    log.case("forward NaN at 7", Want::NonFinite(7, 0), || {
        let mut v = [1.0; 16];
        v[7] = f64::NAN;
        ts.forward(&v)
    });
    log.case("inverse len 8 (needs 9)", Want::Dim(9, 8), || {
        ts.inverse(&[Default::default(); 8])
    });
    log.finish();
}

/// `PolyKernelFeatures::new`: each documented bound named after its `PolyKernelParams` field
/// (or the argument `d`); `transform_vec` / `kernel` shapes and NaN.
#[test]
fn poly_kernel_features_errors() {
    use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams};
    let mut log = Log::new("PolyKernelFeatures");
    let dp = PolyKernelParams::default;
    let s = seed();
    let cases: Vec<(&str, usize, PolyKernelParams, &'static str)> = vec![
        ("d=0", 0, dp(), "d"),
        (
            "degree=0",
            3,
            PolyKernelParams { degree: 0, ..dp() },
            "degree",
        ),
        (
            "degree=2^16+1",
            3,
            PolyKernelParams {
                degree: (1 << 16) + 1,
                ..dp()
            },
            "degree",
        ),
        (
            "gamma=0",
            3,
            PolyKernelParams { gamma: 0.0, ..dp() },
            "gamma",
        ),
        (
            "gamma=NaN",
            3,
            PolyKernelParams {
                gamma: f64::NAN,
                ..dp()
            },
            "gamma",
        ),
        (
            "coef0=-1",
            3,
            PolyKernelParams {
                coef0: -1.0,
                ..dp()
            },
            "coef0",
        ),
        (
            "coef0=inf",
            3,
            PolyKernelParams {
                coef0: f64::INFINITY,
                ..dp()
            },
            "coef0",
        ),
    ];
    for (ctx, d, p, name) in cases {
        log.case(ctx, Want::Param(name), || PolyKernelFeatures::new(d, p, s));
    }
    let f = PolyKernelFeatures::new(3, dp(), s).unwrap();
    log.case("transform_vec len 4", Want::Dim(3, 4), || {
        f.transform_vec(&[1.0f64; 4])
    });
    log.case("transform_vec NaN at 1", Want::NonFinite(1, 0), || {
        f.transform_vec(&[1.0, f64::NAN, 1.0])
    });
    log.case("kernel y len 2", Want::Dim(3, 2), || {
        f.kernel(&[1.0f64; 3], &[1.0f64; 2])
    });
    let a = mat(4, 2);
    log.case("transform 2 columns for d=3", Want::Dim(3, 2), || {
        f.transform(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq)
    });
    log.finish();
}

/// `SymmetricTensor::get` / `contract_but_one` / `contract_all`.
#[test]
fn symmetric_tensor_methods() {
    let mut log = Log::new("SymmetricTensor methods");
    let t = SymmetricTensor::dense(3, 3, vec![1.0; 27]).unwrap();
    let c = SymmetricTensor::coordinate(3, 3, &[0, 1, 2], &[1.0]).unwrap();
    for (name, t) in [("dense", &t), ("coordinate", &c)] {
        log.case(&format!("{name} get 2 indices"), Want::Dim(3, 2), || {
            t.get(&[0, 1])
        });
        log.case(
            &format!("{name} get index 3"),
            Want::AnyOf(vec![Want::Param("index"), Want::Structure]),
            || t.get(&[0, 3, 1]),
        );
        log.case(
            &format!("{name} contract_but_one len 2"),
            Want::Dim(3, 2),
            || t.contract_but_one(&[1.0, 1.0], Par::Seq),
        );
        log.case(
            &format!("{name} contract_all NaN at 2"),
            Want::NonFinite(2, 0),
            || t.contract_all(&[1.0, 1.0, f64::NAN], Par::Seq),
        );
    }
    log.finish();
}

/// `Learner::new` (BSS parameters, given scores) and `Learner::fit(lambda)`.
#[test]
fn active_learner_errors() {
    use randnla::active::{BssParams, Learner, ScoreSource, Strategy};
    let mut log = Log::new("active::Learner");
    let x = mat(30, 3);
    let pool = Pool::new(
        MatrixRef::dense(x.as_ref()).unwrap(),
        Basis::Exact,
        seed(),
        Par::Seq,
    )
    .unwrap();
    let bss = BssParams::default;
    let cases: Vec<(&str, Strategy, Want)> = vec![
        (
            "bss gamma=1",
            Strategy::Bss(BssParams {
                gamma: Some(1.0),
                ..bss()
            }),
            Want::Param("gamma"),
        ),
        (
            "bss gamma=NaN",
            Strategy::Bss(BssParams {
                gamma: Some(f64::NAN),
                ..bss()
            }),
            Want::Param("gamma"),
        ),
        (
            "bss growth=1",
            Strategy::Bss(BssParams {
                growth: 1.0,
                ..bss()
            }),
            Want::Param("growth"),
        ),
        (
            "bss max_steps_per_label=0",
            Strategy::Bss(BssParams {
                max_steps_per_label: 0,
                ..bss()
            }),
            Want::Param("max_steps_per_label"),
        ),
        (
            "given scores of length 29",
            Strategy::Leverage(ScoreSource::Given(vec![1.0; 29])),
            Want::Dim(30, 29),
        ),
        (
            "given score NaN",
            Strategy::Leverage(ScoreSource::Given({
                let mut v = vec![1.0; 30];
                v[4] = f64::NAN;
                v
            })),
            Want::AnyOf(vec![Want::Param("scores"), Want::Param("Given")]),
        ),
        (
            "given scores all zero",
            Strategy::Leverage(ScoreSource::Given(vec![0.0; 30])),
            Want::AnyOf(vec![Want::Param("scores"), Want::Param("Given")]),
        ),
        (
            "approx scores nnz_per_col=0",
            Strategy::Leverage(ScoreSource::Approx(ApproxParams {
                nnz_per_col: 0,
                ..Default::default()
            })),
            Want::Param("nnz_per_col"),
        ),
    ];
    for (ctx, st, want) in cases {
        log.case(ctx, want, || Learner::new(&pool, st, seed()).map(|_| ()));
    }
    let l = Learner::new(&pool, Strategy::Uniform, seed()).unwrap();
    log.case("fit before any label", Want::Empty, || l.fit(0.0));
    log.finish();
}

/// I/O errors name the path; a refused write creates no file.
#[test]
fn io_path_errors() {
    use randnla::io::{read_dense_path, read_matrix_market_path, write_dense_path};
    let mut log = Log::new("I/O paths");
    let dir = std::env::temp_dir().join(format!("randnla-errors-review-{}", std::process::id()));
    let missing = dir.join("no-such-dir").join("a.mtx");
    let o = ReadOptions::default();
    for (ctx, r) in [
        (
            "read_matrix_market_path missing",
            log.err("read_matrix_market_path", || {
                read_matrix_market_path(&missing, &o)
            }),
        ),
        (
            "read_dense_path missing",
            log.err("read_dense_path", || read_dense_path(&missing, &o)),
        ),
        (
            "write_dense_path into a missing directory",
            log.err("write_dense_path", || {
                write_dense_path(&missing, mat(2, 2).as_ref())
            }),
        ),
    ] {
        match r {
            Some(Error::Io { kind, message }) => {
                if kind != std::io::ErrorKind::NotFound {
                    log.fail(ctx, format!("kind {kind:?}"));
                }
                if !message.contains("a.mtx") {
                    log.fail(ctx, format!("message {message:?} does not name the path"));
                }
            }
            Some(e) => log.fail(ctx, format!("{} ({e}), expected Io", variant(&e))),
            None => {}
        }
    }
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("nan.mtx");
    let mut a = mat(3, 2);
    a[(2, 0)] = f64::INFINITY;
    log.case(
        "write_dense_path inf at (2,0)",
        Want::NonFinite(2, 0),
        || write_dense_path(&target, a.as_ref()),
    );
    if target.exists() {
        log.fail("write_dense_path inf", "the file was created".into());
    }
    let _ = std::fs::remove_dir_all(&dir);
    log.finish();
}

/// Causal block products and `relative_error`: shapes, NaN, block size.
#[test]
fn causal_and_relative_error() {
    use randnla::attention::{causal_product, causal_squared_product, relative_error};
    let mut log = Log::new("causal products / relative_error");
    let a = mat(6, 3);
    let b = mat(6, 3);
    let c = mat(6, 2);
    type Prod = fn(
        faer::MatRef<'_, f64>,
        faer::MatRef<'_, f64>,
        faer::MatRef<'_, f64>,
        usize,
        Par,
    ) -> randnla::Result<Mat<f64>>;
    let prods: [(&str, Prod); 2] = [
        ("causal_product", causal_product),
        ("causal_squared_product", causal_squared_product),
    ];
    for (name, f) in prods {
        let b5 = mat(5, 3);
        log.case(&format!("{name} B with 5 rows"), Want::Dim(6, 5), || {
            f(a.as_ref(), b5.as_ref(), c.as_ref(), 4, Par::Seq)
        });
        let b2 = mat(6, 2);
        log.case(&format!("{name} B with 2 columns"), Want::Dim(3, 2), || {
            f(a.as_ref(), b2.as_ref(), c.as_ref(), 4, Par::Seq)
        });
        let mut cn = c.clone();
        cn[(4, 1)] = f64::NAN;
        log.case(
            &format!("{name} NaN in C (4,1)"),
            Want::NonFinite(4, 1),
            || f(a.as_ref(), b.as_ref(), cn.as_ref(), 4, Par::Seq),
        );
        for blk in [0usize, 8193] {
            log.case(&format!("{name} block {blk}"), Want::Param("block"), || {
                f(a.as_ref(), b.as_ref(), c.as_ref(), blk, Par::Seq)
            });
        }
        let e = Mat::<f64>::zeros(0, 3);
        log.case(&format!("{name} empty A"), Want::Empty, || {
            f(e.as_ref(), b.as_ref(), c.as_ref(), 4, Par::Seq)
        });
    }
    let x = mat(4, 2);
    let y = mat(4, 3);
    log.case(
        "relative_error 4×2 vs 4×3",
        Want::AnyOf(vec![Want::Dim(3, 2), Want::Dim(2, 3)]),
        || relative_error(x.as_ref(), y.as_ref()),
    );
    let mut xn = x.clone();
    xn[(3, 1)] = f64::NAN;
    log.case("relative_error NaN (3,1)", Want::NonFinite(3, 1), || {
        relative_error(xn.as_ref(), x.as_ref())
    });
    log.finish();
}

/// Sparse matrices may declare far more rows or columns than they store: densifying or
/// sketching them is `TooLarge`, not an abort.
#[test]
fn huge_declared_shapes_are_too_large() {
    let mut log = Log::new("huge declared shapes");
    let ip_c = [0usize, 0];
    let tall = SparseRef::<f64>::try_csc(1 << 40, 1, &ip_c, &[], &[]).unwrap();
    log.case("to_dense 2^40 × 1", Want::TooLarge, || {
        MatrixRef::Sparse(tall).to_dense()
    });
    let ip_r = [0usize; 11];
    let wide = SparseRef::<f64>::try_csr(10, 1 << 40, &ip_r, &[], &[]).unwrap();
    let s = SparseSign::new(5, 10, 2, seed()).unwrap();
    log.case("SparseSign apply 10 × 2^40", Want::TooLarge, || {
        s.apply(MatrixRef::Sparse(wide), Par::Seq)
    });
    log.case("gram 10 × 2^40", Want::TooLarge, || {
        gram(MatrixRef::Sparse(wide), Par::Seq)
    });
    let b = vec_b(10);
    log.case(
        "qr_solve 10 × 2^40",
        Want::AnyOf(vec![Want::TooLarge, Want::Param("a"), Want::Param("A")]),
        || qr_solve(MatrixRef::Sparse(wide), &b, 0.0, Par::Seq),
    );
    log.finish();
}

/// `TensorSketch::mode_bucket(k, i)` and `mode_sketch(k, x)`: the out-of-range `k` is reported
/// as `mode`, the out-of-range `i` as `index`; the arguments are `k` and `i`.
#[test]
fn tensor_sketch_index_arguments_are_named_as_the_arguments() {
    let mut log = Log::new("TensorSketch index argument names");
    let ts = TensorSketch::new(2, 4, 16, seed()).unwrap();
    log.case("mode_bucket k=2", Want::Param("k"), || ts.mode_bucket(2, 0));
    log.case("mode_bucket i=4", Want::Param("i"), || ts.mode_bucket(0, 4));
    log.case("mode_sketch k=2", Want::Param("k"), || {
        ts.mode_sketch(2, &[1.0f64; 4])
    });
    log.finish();
}

/// `PolyKernelFeatures::new` with `PolyKernelParams::sketch_dim` 0 or above 2²²: documented as
/// `InvalidParameter` for `sketch_dim`, reported as `m` (the name inside `TensorSketch::new`).
#[test]
fn poly_kernel_sketch_dim_is_named_sketch_dim() {
    use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams, TensorMethod};
    let mut log = Log::new("PolyKernelFeatures sketch_dim name");
    for method in [TensorMethod::Fft, TensorMethod::Tree] {
        for m in [0usize, (1 << 22) + 1] {
            let p = PolyKernelParams {
                sketch_dim: m,
                method,
                ..PolyKernelParams::default()
            };
            log.case(
                &format!("{method:?} sketch_dim={m}"),
                Want::Param("sketch_dim"),
                || PolyKernelFeatures::new(3, p, seed()),
            );
        }
    }
    log.finish();
}

/// Kernel regression P1/P2 with `InnerSolve::Auto` (default): the docs list the errors of
/// `Preconditioner::new` for `j ≥ 1` (`sketch_rows < d`, `nnz_per_col = 0`, …), but when Auto
/// takes the Cholesky route no sketch is planned and those parameters are never checked: the
/// same call errors or succeeds depending on a route the caller did not choose (unlike
/// `sketch_and_precondition`, which checks them before its probe, and `approx_leverage_scores`,
/// which checks them "for every `A`").
#[test]
fn kernel_regression_auto_validates_sketch_params() {
    use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, KernelParams};
    let mut log = Log::new("kernel regression Auto validates lstsq params");
    let a = Mat::from_fn(12, 3, |i, j| 0.3 * mat(12, 3)[(i, j)]);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let mut p = KernelParams::default();
    p.lstsq.sketch_rows = Some(2);
    log.case("P1 sketch_rows=2 < d", Want::Param("sketch_rows"), || {
        solve_p1(av, 1, &vec_b(3), &p)
    });
    log.case("P2 sketch_rows=2 < d", Want::Param("sketch_rows"), || {
        solve_p2(av, 1, &vec_b(12), &p)
    });
    let mut p = KernelParams::default();
    p.lstsq.nnz_per_col = 0;
    log.case("P1 nnz_per_col=0", Want::Param("nnz_per_col"), || {
        solve_p1(av, 1, &vec_b(3), &p)
    });
    let mut p = KernelParams::default();
    p.lstsq.rcond = 0.0;
    log.case("P1 rcond=0", Want::Param("rcond"), || {
        solve_p1(av, 1, &vec_b(3), &p)
    });
    log.finish();
}

/// The same `A` with NaN at `(0, 3)` and `(2, 0)`: `MatrixRef::dense` names `(2, 0)` (first in
/// column-major order, documented); `MatrixRef::sparse` of the CSC copy names `(2, 0)` too, but
/// of the CSR copy `(0, 3)` (its storage order). The docs state no order for sparse input, but
/// the crate's storage-independence contract and this review's precedence rule ask for one
/// answer per matrix: every solver validating through `MatrixRef::sparse` reports a different
/// entry for CSR than for dense / CSC storage of the same matrix.
#[test]
fn two_nans_named_the_same_for_every_storage() {
    let mut log = Log::new("two NaNs, every storage");
    let mut an = mat(5, 4);
    an[(0, 3)] = f64::NAN;
    an[(2, 0)] = f64::NAN;
    let (c1, c2) = (csr_all(&an), csc_all(&an));
    log.case("dense", Want::NonFinite(2, 0), || {
        MatrixRef::dense(an.as_ref()).map(|_| ())
    });
    log.case("csc", Want::NonFinite(2, 0), || {
        MatrixRef::sparse(&c2).map(|_| ())
    });
    log.case("csr", Want::NonFinite(2, 0), || {
        MatrixRef::sparse(&c1).map(|_| ())
    });
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Batch 3: label oracles, selection rounds, weighted fits, pool evaluation, sketched tensor
// power method, apply_block_into, row_norm_weights, more precedence
// ---------------------------------------------------------------------------------------------

/// `Budgeted::query`: `row ≥ pool_size` named `row`, an exhausted budget named `budget`, a NaN
/// answer `NonFinite` at the queried row. `Learner::select`: `k = 0`, `k` above the budget,
/// a budget below `d`, an oracle of the wrong size. `Learner::fit(lambda)` with `λ < 0`.
#[test]
fn active_oracle_select_fit() {
    use randnla::active::{Budgeted, Learner, SliceOracle, Strategy};
    let mut log = Log::new("active oracle / select / fit");
    let y: Vec<f64> = vec_b(30);
    let mut o = Budgeted::new(SliceOracle::new(&y), 2);
    log.case("query row 30", Want::Param("row"), || o.query(30));
    log.case("query row usize::MAX", Want::Param("row"), || {
        o.query(usize::MAX)
    });
    let _ = o.query(0);
    let _ = o.query(1);
    log.case("query beyond budget", Want::Param("budget"), || o.query(2));
    let mut bad = y.clone();
    bad[7] = f64::NAN;
    let mut ob = Budgeted::new(SliceOracle::new(&bad), 5);
    log.case(
        "oracle answers NaN for row 7",
        Want::NonFinite(7, 0),
        || ob.query(7),
    );
    let x = mat(30, 3);
    let pool = Pool::new(
        MatrixRef::dense(x.as_ref()).unwrap(),
        Basis::Exact,
        seed(),
        Par::Seq,
    )
    .unwrap();
    let mut l = Learner::new(&pool, Strategy::Uniform, seed()).unwrap();
    let mut o = Budgeted::new(SliceOracle::new(&y), 10);
    log.case("select k=0", Want::Param("k"), || l.select(0, &mut o));
    log.case("select k=11 > budget 10", Want::Param("k"), || {
        l.select(11, &mut o)
    });
    let mut small = Budgeted::new(SliceOracle::new(&y), 2);
    log.case(
        "select with budget 2 < d = 3",
        Want::AnyOf(vec![Want::Param("budget"), Want::Param("k")]),
        || l.select(2, &mut small),
    );
    let y29 = vec_b(29);
    let mut wrong = Budgeted::new(SliceOracle::new(&y29), 10);
    log.case("select oracle of 29 rows", Want::Dim(30, 29), || {
        l.select(5, &mut wrong)
    });
    if l.select(6, &mut o).is_ok() {
        for lam in [-1.0, f64::NAN, f64::INFINITY] {
            log.case(&format!("fit λ={lam}"), Want::Param("lambda"), || {
                l.fit(lam)
            });
        }
    } else {
        log.fail("select 6", "could not label rows for the fit cases".into());
    }
    // Pool evaluation.
    log.case("residual_norm_sq y of 29", Want::Dim(30, 29), || {
        pool.residual_norm_sq(&[0.0; 3], &y29)
    });
    log.case("residual_norm_sq β of 2", Want::Dim(3, 2), || {
        pool.residual_norm_sq(&[0.0; 2], &y)
    });
    let mut yn = y.clone();
    yn[12] = f64::INFINITY;
    log.case(
        "residual_norm_sq inf in y[12]",
        Want::NonFinite(12, 0),
        || pool.residual_norm_sq(&[0.0; 3], &yn),
    );
    log.case("least_squares NaN-free y of 31", Want::Dim(30, 31), || {
        pool.least_squares(&vec_b(31))
    });
    log.finish();
}

/// `weighted_least_squares(x, rows, weights, labels, lambda)`: lengths, a row index `≥ n`, a
/// bad weight, NaN label (its index), `λ < 0` named `lambda` (the argument).
#[test]
fn weighted_least_squares_errors() {
    use randnla::active::weighted_least_squares;
    let mut log = Log::new("weighted_least_squares");
    let x = mat(10, 2);
    let xv = MatrixRef::dense(x.as_ref()).unwrap();
    let rows = [0usize, 3, 5];
    let w = [1.0, 1.0, 1.0];
    let lab = [1.0, 2.0, 3.0];
    log.case(
        "weights of length 2",
        Want::AnyOf(vec![Want::Dim(3, 2), Want::Dim(2, 3)]),
        || weighted_least_squares(xv, &rows, &w[..2], &lab, 0.0),
    );
    log.case("row 10 ≥ n", Want::Param("rows"), || {
        weighted_least_squares(xv, &[0, 10, 5], &w, &lab, 0.0)
    });
    log.case("weight -1", Want::Param("weights"), || {
        weighted_least_squares(xv, &rows, &[1.0, -1.0, 1.0], &lab, 0.0)
    });
    log.case("weight NaN", Want::Param("weights"), || {
        weighted_least_squares(xv, &rows, &[1.0, f64::NAN, 1.0], &lab, 0.0)
    });
    log.case("label NaN at 2", Want::NonFinite(2, 0), || {
        weighted_least_squares(xv, &rows, &w, &[1.0, 2.0, f64::NAN], 0.0)
    });
    log.case("no rows", Want::Empty, || {
        weighted_least_squares(xv, &[], &[], &[], 0.0)
    });
    for lam in [-1.0, f64::NAN] {
        log.case(&format!("λ={lam}"), Want::Param("lambda"), || {
            weighted_least_squares(xv, &rows, &w, &lab, lam)
        });
    }
    log.case("one row, λ=0: rank deficient", Want::RankDeficient, || {
        weighted_least_squares(xv, &[0], &[1.0], &[1.0], 0.0)
    });
    log.finish();
}

/// `power_method_sketched`: the parameters of `SketchParams` named after their fields,
/// checked before the sketches are built.
#[test]
fn power_method_sketched_params() {
    use randnla::tensor::{power_method_sketched, SketchParams};
    let mut log = Log::new("power_method_sketched");
    let t = SymmetricTensor::dense(3, 4, vec![1.0; 64]).unwrap();
    let d = SketchParams::default;
    let cases: Vec<(&str, usize, SketchParams, &'static str)> = vec![
        ("rank 0", 0, d(), "rank"),
        (
            "starts 0",
            1,
            SketchParams {
                power: PowerParams {
                    starts: 0,
                    ..PowerParams::default()
                },
                ..d()
            },
            "starts",
        ),
        (
            "sketch_dim 8",
            1,
            SketchParams {
                sketch_dim: 8,
                ..d()
            },
            "sketch_dim",
        ),
        (
            "search_sketch_dim 8",
            1,
            SketchParams {
                search_sketch_dim: 8,
                ..d()
            },
            "search_sketch_dim",
        ),
    ];
    for (ctx, rank, p, name) in &cases {
        log.case(ctx, Want::Param(name), || {
            power_method_sketched(&t, *rank, p, seed(), Par::Seq)
        });
    }
    log.finish();
}

/// `apply_block_into`: a block past `n` or an `out` of the wrong shape is a
/// `DimensionMismatch`, and `out` is left unchanged.
#[test]
fn apply_block_into_shapes() {
    use randnla::sketch::SketchOperator;
    let mut log = Log::new("apply_block_into");
    let s = SparseSign::new(5, 10, 2, seed()).unwrap();
    let a = mat(4, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let mut out = Mat::<f64>::zeros(5, 3);
    log.case(
        "block of 4 rows at offset 8 (n = 10)",
        Want::AnyOf(vec![Want::Dim(10, 12), Want::Dim(10, 8), Want::Dim(2, 4)]),
        || s.apply_block_into(8, av, out.as_mut(), Par::Seq),
    );
    log.case(
        "offset usize::MAX",
        Want::AnyOf(vec![
            Want::Dim(10, usize::MAX),
            Want::Dim(10, usize::MAX - 1),
            Want::Dim(0, 4),
        ]),
        || s.apply_block_into(usize::MAX, av, out.as_mut(), Par::Seq),
    );
    let mut out2 = Mat::<f64>::zeros(5, 2);
    log.case(
        "out 5×2 for d = 3",
        Want::AnyOf(vec![Want::Dim(3, 2)]),
        || s.apply_block_into(0, av, out2.as_mut(), Par::Seq),
    );
    let mut out3 = Mat::<f64>::zeros(4, 3);
    log.case(
        "out 4×3 for m = 5",
        Want::AnyOf(vec![Want::Dim(5, 4)]),
        || s.apply_block_into(0, av, out3.as_mut(), Par::Seq),
    );
    if (0..3).any(|j| (0..5).any(|i| out[(i, j)] != 0.0)) {
        log.fail("apply_block_into", "out changed by a refused call".into());
    }
    log.finish();
}

/// `row_norm_weights`: NaN in an unvalidated dense `A` names its entry; an `A` whose every
/// squared row norm underflows is `InvalidParameter` named `A` (documented).
#[test]
fn row_norm_weights_errors() {
    use randnla::sketch::sampling::row_norm_weights;
    let mut log = Log::new("row_norm_weights");
    let mut a = mat(5, 3);
    a[(3, 2)] = f64::NAN;
    log.case("unvalidated NaN (3,2)", Want::NonFinite(3, 2), || {
        row_norm_weights(MatrixRef::Dense(a.as_ref()))
    });
    let tiny = Mat::from_fn(4, 2, |i, _| 1e-160 * (i + 1) as f64);
    log.case("every row norm² underflows", Want::Param("A"), || {
        row_norm_weights(MatrixRef::dense(tiny.as_ref()).unwrap())
    });
    let big = Mat::from_fn(4, 2, |i, j| if i == 2 { 1e200 } else { (i + j) as f64 });
    log.case(
        "row 2 norm² overflows at column 0 or 1",
        Want::AnyOf(vec![Want::NonFinite(2, 0), Want::NonFinite(2, 1)]),
        || row_norm_weights(MatrixRef::dense(big.as_ref()).unwrap()),
    );
    log.finish();
}

/// More two-fault cases: each gives the same error on 1 and 4 threads and for dense / CSR /
/// CSC storage.
#[test]
fn precedence_more() {
    let mut log = Log::new("precedence (more)");
    let a = mat(40, 4);
    let csr = csr_all(&a);
    let csc = csc_all(&a);
    type Run<'a> = Box<dyn Fn(MatrixRef<'_, f64>, Par) -> randnla::Result<()> + Sync + 'a>;
    let mut bn = vec_b(40);
    bn[3] = f64::NAN;
    let runs: Vec<(&str, Run)> = vec![
        (
            "exact_ridge_leverage λ<0 + rank_tol bad",
            Box::new(|av, par| {
                let p = ExactParams {
                    rank_tol: Some(2.0),
                    ..ExactParams::default()
                };
                exact_ridge_leverage_scores(av, -1.0, &p, par).map(|_| ())
            }),
        ),
        (
            "qr_solve NaN b + λ<0",
            Box::new(|av, par| qr_solve(av, &bn, -1.0, par).map(|_| ())),
        ),
        (
            "normal_equations b length + λ NaN",
            Box::new(|av, par| normal_equations(av, &bn[..39], f64::NAN, par).map(|_| ())),
        ),
        (
            "multi NaN B + max_iters 0",
            Box::new(|av, par| {
                let mut b = Mat::from_fn(40, 2, |i, j| ((i + j) as f64).sin());
                b[(30, 1)] = f64::NAN;
                b[(5, 0)] = f64::NAN;
                let p = LstsqParams {
                    max_iters: 0,
                    par,
                    ..Default::default()
                };
                sketch_and_precondition_multi(av, b.as_ref(), &p).map(|_| ())
            }),
        ),
        (
            "Pool::new Sketched sketch_rows<d (wide-ish)",
            Box::new(|av, par| {
                Pool::new(
                    av,
                    Basis::Sketched {
                        sketch_rows: Some(1),
                    },
                    seed(),
                    par,
                )
                .map(|_| ())
            }),
        ),
    ];
    for (name, run) in &runs {
        let mut first: Option<(String, Error)> = None;
        for (storage, av) in [
            ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&csr).unwrap()),
            ("csc", MatrixRef::sparse(&csc).unwrap()),
        ] {
            for threads in [1usize, 4] {
                let ctx = format!("{name} [{storage}, {threads} threads]");
                let Some(e) = log.err(&ctx, || with_threads(threads, |par| run(av, par))) else {
                    continue;
                };
                if let Some(m) = display_problem(&e) {
                    log.fail(&ctx, m);
                }
                match &first {
                    None => first = Some((ctx, e)),
                    Some((c0, e0)) if e0 != &e => {
                        log.fail(&ctx, format!("{e:?} differs from {c0}: {e0:?}"))
                    }
                    _ => {}
                }
            }
        }
        if let Some((_, e)) = first {
            eprintln!("{name}: {e}");
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Batch 4: generators, residual figures, parsing, row blocks, tensors from/to text, PolySketch,
// distortion
// ---------------------------------------------------------------------------------------------

/// The seeded generators of `problems`: each documented `InvalidParameter` named after the
/// argument at fault.
#[test]
fn problem_generators() {
    use randnla::problems::{coherent_matrix, ls_problem, random_sparse, sparse_ls_illmix};
    let mut log = Log::new("problems");
    let s = seed();
    log.case("coherent_matrix n<d", Want::Param("n"), || {
        coherent_matrix(2, 3, 1e-3, s)
    });
    for sc in [f64::NAN, f64::INFINITY] {
        log.case(
            &format!("coherent_matrix scale={sc}"),
            Want::Param("scale"),
            || coherent_matrix(10, 3, sc, s),
        );
    }
    // scale·G overflowing is an error naming `scale`; an Ok (no draw large enough) must be
    // finite.
    for sc in [1e308, f64::MAX] {
        let ctx = format!("coherent_matrix scale={sc:e}");
        match log.no_panic(&ctx, || coherent_matrix(10, 3, sc, s)) {
            Some(Ok(m)) if (0..3).any(|j| (0..10).any(|i| !m[(i, j)].is_finite())) => {
                log.fail(&ctx, "Ok with a non-finite entry".into());
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                if let Some(m) = mismatch(&e, &Want::Param("scale")) {
                    log.fail(&ctx, m);
                }
            }
            None => {}
        }
    }
    log.case("coherent_matrix 2^31 × 2", Want::TooLarge, || {
        coherent_matrix(1 << 31, 2, 1.0, s)
    });
    log.case(
        "random_sparse nnz_per_row=0",
        Want::Param("nnz_per_row"),
        || random_sparse(5, 3, 0, s),
    );
    log.case(
        "random_sparse nnz_per_row=4 > d",
        Want::Param("nnz_per_row"),
        || random_sparse(5, 3, 4, s),
    );
    log.case("random_sparse n=2^32", Want::TooLarge, || {
        random_sparse(1 << 32, 3, 1, s)
    });
    log.case("ls_problem n<d", Want::Param("n"), || {
        ls_problem(2, 3, 10.0, 0.0, s)
    });
    log.case("ls_problem cond=0.5", Want::Param("cond"), || {
        ls_problem(10, 3, 0.5, 0.0, s)
    });
    log.case("ls_problem cond=NaN", Want::Param("cond"), || {
        ls_problem(10, 3, f64::NAN, 0.0, s)
    });
    for r in [-1.0, f64::NAN] {
        log.case(
            &format!("ls_problem residual_norm={r}"),
            Want::Param("residual_norm"),
            || ls_problem(10, 3, 10.0, r, s),
        );
    }
    log.case(
        "ls_problem square with residual",
        Want::Param("residual_norm"),
        || ls_problem(3, 3, 10.0, 1.0, s),
    );
    log.case("sparse_ls_illmix n=0", Want::Param("n"), || {
        sparse_ls_illmix(0, 4, 0.5, 1e-3, 0.0, s)
    });
    log.case("sparse_ls_illmix d=1", Want::Param("d"), || {
        sparse_ls_illmix(10, 1, 0.5, 1e-3, 0.0, s)
    });
    for dn in [0.0, 1.5, f64::NAN] {
        log.case(
            &format!("sparse_ls_illmix density={dn}"),
            Want::Param("density"),
            || sparse_ls_illmix(10, 4, dn, 1e-3, 0.0, s),
        );
    }
    for dm in [0.0, 2.0, f64::NAN] {
        log.case(
            &format!("sparse_ls_illmix delta_min={dm}"),
            Want::Param("delta_min"),
            || sparse_ls_illmix(10, 4, 0.5, dm, 0.0, s),
        );
    }
    for nz in [-1.0, f64::INFINITY, 1e308] {
        log.case(
            &format!("sparse_ls_illmix noise={nz}"),
            Want::Param("noise"),
            || sparse_ls_illmix(10, 4, 0.5, 1e-3, nz, s),
        );
    }
    log.finish();
}

/// Generators whose `d = 0` (or `n < d`) is reported under another argument's name.
#[test]
fn problem_generators_d_zero_named_d() {
    use randnla::problems::{ls_problem, random_sparse};
    let mut log = Log::new("problems d = 0");
    log.case("random_sparse d=0", Want::Param("d"), || {
        random_sparse(5, 0, 1, seed())
    });
    log.case("ls_problem d=0", Want::Param("d"), || {
        ls_problem(5, 0, 10.0, 0.0, seed())
    });
    log.finish();
}

/// `normal_equation_residual` / `ridge_normal_equation_residual`: lengths (`x` of `d`, `b` of
/// `n`), NaN in `x` or `b` (index), empty `A`, `λ` named `lambda`.
#[test]
fn residual_figures_errors() {
    use randnla::lstsq::{normal_equation_residual, ridge_normal_equation_residual};
    let mut log = Log::new("normal-equation residuals");
    let a = mat(8, 3);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_b(8);
    let x = [0.5, -0.5, 1.0];
    log.case("x of length 2", Want::Dim(3, 2), || {
        normal_equation_residual(av, &x[..2], &b, Par::Seq)
    });
    log.case("b of length 7", Want::Dim(8, 7), || {
        normal_equation_residual(av, &x, &b[..7], Par::Seq)
    });
    log.case("NaN in x[1]", Want::NonFinite(1, 0), || {
        normal_equation_residual(av, &[0.5, f64::NAN, 1.0], &b, Par::Seq)
    });
    let mut bn = b.clone();
    bn[6] = f64::NAN;
    log.case("NaN in b[6]", Want::NonFinite(6, 0), || {
        normal_equation_residual(av, &x, &bn, Par::Seq)
    });
    let e = Mat::<f64>::zeros(0, 3);
    log.case("empty A", Want::Empty, || {
        normal_equation_residual(MatrixRef::dense(e.as_ref()).unwrap(), &x, &[], Par::Seq)
    });
    // λ < 0: documented InvalidParameter; its name is checked in
    // `lambda_argument_is_named_as_the_argument`.
    for lam in [-1.0, f64::NAN, f64::INFINITY] {
        log.checks += 1;
        if !matches!(
            ridge_normal_equation_residual(av, &x, &b, lam, Par::Seq),
            Err(Error::InvalidParameter { .. })
        ) {
            log.fail(
                &format!("ridge λ={lam}"),
                "expected InvalidParameter".into(),
            );
        }
    }
    log.finish();
}

/// `SketchKind::from_str` (named `sketch`), `csr_row_block` / `row_block` (a CSC matrix, a range
/// outside `0..=nrows` or reversed), `SymmetricTensor::dense_symmetrized`, `.tns` write/read by
/// path, `read_sparse` of an array file, `PolySketch::new` / `features`, `distortion`.
#[test]
fn misc_entry_points() {
    use randnla::attention::{FeatureMap, PolySketch};
    use randnla::diagnostics::{distortion, distortion_on_range, embedding_error};
    use randnla::io::read_sparse;
    use randnla::tensor::{read_tns_path, write_tns_path, TnsEntries};
    use randnla::Layout;
    let mut log = Log::new("misc entry points");
    log.case(
        "SketchKind::from_str(\"fft\")",
        Want::Param("sketch"),
        || "fft".parse::<SketchKind>(),
    );
    let a = mat(6, 3);
    let csr = csr_all(&a);
    let csc = csc_all(&a);
    let sr = SparseRef::from_sprs(csr.view()).unwrap();
    let sc = SparseRef::from_sprs(csc.view()).unwrap();
    log.case("csr_row_block on CSC", Want::Param("layout"), || {
        sc.csr_row_block(0, 2)
    });
    let range = || {
        Want::AnyOf(vec![
            Want::Param("range"),
            Want::Param("start"),
            Want::Param("end"),
        ])
    };
    log.case("csr_row_block 4..7 (n = 6)", range(), || {
        sr.csr_row_block(4, 7)
    });
    log.case("csr_row_block 4..2", range(), || sr.csr_row_block(4, 2));
    let dv = MatrixRef::dense(a.as_ref()).unwrap();
    log.case("dense row_block 0..usize::MAX", range(), || {
        dv.row_block(0, usize::MAX)
    });
    log.case("dense_symmetrized order 2", Want::Param("order"), || {
        SymmetricTensor::dense_symmetrized(2, 3, vec![1.0; 9])
    });
    let mut nan = vec![1.0; 27];
    nan[26] = f64::NAN;
    log.case(
        "dense_symmetrized NaN at flat 26",
        Want::AnyOf(vec![Want::NonFinite(26, 0), Want::NonFinite(0, 26)]),
        || SymmetricTensor::dense_symmetrized(3, 3, nan),
    );
    let dir =
        std::env::temp_dir().join(format!("randnla-errors-review-tns-{}", std::process::id()));
    let missing = dir.join("no-such-dir").join("t.tns");
    let t = SymmetricTensor::dense(3, 2, vec![1.0; 8]).unwrap();
    for (ctx, r) in [
        (
            "write_tns_path into a missing directory",
            log.err("write_tns_path", || {
                write_tns_path(&missing, &t, TnsEntries::All)
            }),
        ),
        (
            "read_tns_path missing",
            log.err("read_tns_path", || read_tns_path(&missing)),
        ),
    ] {
        match r {
            Some(Error::Io { message, .. }) if message.contains("t.tns") => {}
            Some(e) => log.fail(
                ctx,
                format!("{} ({e}), expected Io naming the path", variant(&e)),
            ),
            None => {}
        }
    }
    log.case("read_sparse of an array file", Want::Parse(1), || {
        read_sparse(
            "%%MatrixMarket matrix array real general\n1 1\n1.0\n".as_bytes(),
            Layout::Csr,
            &ReadOptions::default(),
        )
    });
    let ps = |h, deg, r| PolySketch::new(h, deg, r, FeatureMap::Gaussian, seed());
    log.case("PolySketch h=0", Want::Param("h"), || ps(0, 2, 8));
    log.case("PolySketch degree=3", Want::Param("degree"), || ps(4, 3, 8));
    log.case("PolySketch degree=66", Want::Param("degree"), || {
        ps(4, 66, 8)
    });
    log.case("PolySketch sketch_dim=0", Want::Param("sketch_dim"), || {
        ps(4, 2, 0)
    });
    log.case(
        "PolySketch sketch_dim=2049",
        Want::Param("sketch_dim"),
        || ps(4, 2, 2049),
    );
    let p = ps(4, 2, 8).unwrap();
    let x3 = mat(5, 3);
    log.case("features X with 3 columns (h = 4)", Want::Dim(4, 3), || {
        p.features(x3.as_ref(), Par::Seq)
    });
    let mut x4 = mat(5, 4);
    x4[(2, 3)] = f64::NAN;
    log.case("features NaN (2,3)", Want::NonFinite(2, 3), || {
        p.features(x4.as_ref(), Par::Seq)
    });
    let s = SparseSign::new(8, 6, 2, seed()).unwrap();
    let q5 = mat(5, 2);
    log.case("distortion Q of 5 rows (n = 6)", Want::Dim(6, 5), || {
        distortion(&s, q5.as_ref(), Par::Seq)
    });
    log.case(
        "embedding_error Q of 5 rows (n = 6)",
        Want::Dim(6, 5),
        || embedding_error(&s, q5.as_ref(), Par::Seq),
    );
    let a5 = mat(5, 2);
    log.case("distortion_on_range A of 5 rows", Want::Dim(6, 5), || {
        distortion_on_range(&s, MatrixRef::dense(a5.as_ref()).unwrap(), Par::Seq)
    });
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Batch 5: sketched tensors, failing readers and writers, explicit sketches, RangeBasis,
// TreeSketch vector methods
// ---------------------------------------------------------------------------------------------

/// `TensorSketches`: `sketches ∉ 1..=256`, `sketch_dim` not a power of two in `2⁴..=2²⁴`
/// (named after the arguments); `tensor_sketch` / `power_sketch` / `rank_one_sketch` with
/// `m ≥ B` (named `m`), `u` of the wrong length or NaN; `contract_*` / `estimates_*` shapes;
/// `deflate` with a non-finite weight (named `w`).
#[test]
fn tensor_sketches_errors() {
    use randnla::tensor::TensorSketches;
    let mut log = Log::new("TensorSketches");
    let t = SymmetricTensor::dense(3, 4, vec![1.0; 64]).unwrap();
    let s = seed();
    for (ctx, b, dim, name) in [
        ("sketches=0", 0usize, 16usize, "sketches"),
        ("sketches=257", 257, 16, "sketches"),
        ("sketch_dim=8", 2, 8, "sketch_dim"),
        ("sketch_dim=24", 2, 24, "sketch_dim"),
        ("sketch_dim=2^25", 2, 1 << 25, "sketch_dim"),
    ] {
        log.case(ctx, Want::Param(name), || {
            TensorSketches::new(&t, b, dim, s, Par::Seq)
        });
    }
    let mut ts = TensorSketches::new(&t, 2, 16, s, Par::Seq).unwrap();
    log.case("tensor_sketch m=2", Want::Param("m"), || {
        ts.tensor_sketch(2)
    });
    log.case("power_sketch m=2", Want::Param("m"), || {
        ts.power_sketch(2, &[1.0; 4])
    });
    log.case("rank_one_sketch m=5", Want::Param("m"), || {
        ts.rank_one_sketch(5, &[1.0; 4])
    });
    log.case(
        "power_sketch u of 3",
        Want::AnyOf(vec![Want::Dim(4, 3)]),
        || ts.power_sketch(0, &[1.0; 3]),
    );
    log.case("power_sketch NaN in u[1]", Want::NonFinite(1, 0), || {
        ts.power_sketch(0, &[1.0, f64::NAN, 1.0, 1.0])
    });
    log.case("contract_all u of 5", Want::Dim(4, 5), || {
        ts.contract_all(&[1.0; 5], Par::Seq)
    });
    log.case("contract_but_one NaN at 3", Want::NonFinite(3, 0), || {
        ts.contract_but_one(&[1.0, 1.0, 1.0, f64::INFINITY], Par::Seq)
    });
    log.case("estimates_all u of 2", Want::Dim(4, 2), || {
        ts.estimates_all(&[1.0; 2], Par::Seq)
    });
    log.case("estimates_but_one u of 2", Want::Dim(4, 2), || {
        ts.estimates_but_one(&[1.0; 2], Par::Seq)
    });
    for w in [f64::NAN, f64::INFINITY] {
        log.case(&format!("deflate w={w}"), Want::Param("w"), || {
            ts.deflate(w, &[0.5; 4], Par::Seq)
        });
    }
    log.case("deflate u of 3", Want::Dim(4, 3), || {
        ts.deflate(1.0, &[0.5; 3], Par::Seq)
    });
    log.case(
        "bucket m=2 (documented InvalidParameter)",
        Want::AnyOf(vec![
            Want::Param("m"),
            Want::Param("k"),
            Want::Param("i"),
            Want::Param("bucket"),
        ]),
        || ts.bucket(2, 0, 0),
    );
    log.finish();
}

/// `TensorSketches::bucket(m, k, i)`: whichever argument is out of range, the error is named
/// `bucket` (the method), not `m`, `k` or `i` (the sibling methods name `m`).
#[test]
fn tensor_sketches_bucket_names_the_argument() {
    use randnla::tensor::TensorSketches;
    let mut log = Log::new("TensorSketches::bucket names");
    let t = SymmetricTensor::dense(3, 4, vec![1.0; 64]).unwrap();
    let ts = TensorSketches::new(&t, 2, 16, seed(), Par::Seq).unwrap();
    log.case("m=2", Want::Param("m"), || ts.bucket(2, 0, 0));
    log.case("k=3", Want::Param("k"), || ts.bucket(0, 3, 0));
    log.case("i=4", Want::Param("i"), || ts.bucket(0, 0, 4));
    log.finish();
}

/// A writer or reader that fails: `Error::Io` with the OS kind, from every writer and reader
/// (docs: "`Error::Io` when the writer fails" / "when the reader fails").
#[test]
fn failing_readers_and_writers() {
    use randnla::io::write_sparse;
    use randnla::tensor::{write_tns, TnsEntries};
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "broken",
            ))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "broken",
            ))
        }
    }
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset",
            ))
        }
    }
    let mut log = Log::new("failing readers / writers");
    let kind_is = |log: &mut Log, ctx: &str, e: Option<Error>, k: std::io::ErrorKind| match e {
        Some(Error::Io { kind, .. }) if kind == k => {}
        Some(e) => log.fail(ctx, format!("{} ({e}), expected Io {k:?}", variant(&e))),
        None => {}
    };
    let a = mat(3, 2);
    let e = log.err("write_dense", || write_dense(Broken, a.as_ref()));
    kind_is(&mut log, "write_dense", e, std::io::ErrorKind::BrokenPipe);
    let csr = csr_all(&a);
    let sr = SparseRef::from_sprs(csr.view()).unwrap();
    let e = log.err("write_sparse", || write_sparse(Broken, &sr));
    kind_is(&mut log, "write_sparse", e, std::io::ErrorKind::BrokenPipe);
    let t = SymmetricTensor::dense(3, 2, vec![1.0; 8]).unwrap();
    let e = log.err("write_tns", || write_tns(Broken, &t, TnsEntries::All));
    kind_is(&mut log, "write_tns", e, std::io::ErrorKind::BrokenPipe);
    let e = log.err("read_matrix_market", || {
        read_matrix_market(std::io::BufReader::new(Broken), &ReadOptions::default())
    });
    kind_is(
        &mut log,
        "read_matrix_market",
        e,
        std::io::ErrorKind::ConnectionReset,
    );
    let e = log.err("read_tns", || read_tns(std::io::BufReader::new(Broken)));
    kind_is(&mut log, "read_tns", e, std::io::ErrorKind::ConnectionReset);
    log.finish();
}

/// `SketchOperator::to_dense` of a sketch too large to hold (`m × n` beyond memory) is
/// `TooLarge`; `RangeBasis::new` / `distortion` as documented.
#[test]
fn explicit_sketches_and_range_basis() {
    use randnla::diagnostics::RangeBasis;
    use randnla::sketch::SketchOperator;
    let mut log = Log::new("to_dense / RangeBasis");
    let g = Gaussian::new(1 << 10, 1 << 40, seed()).unwrap();
    log.case("Gaussian 2^10 × 2^40 to_dense", Want::TooLarge, || {
        SketchOperator::<f64>::to_dense(&g)
    });
    let s = SparseSign::new(1 << 20, 1 << 40, 1, seed()).unwrap();
    log.case("SparseSign 2^20 × 2^40 to_dense", Want::TooLarge, || {
        SketchOperator::<f64>::to_dense(&s)
    });
    let e = Mat::<f64>::zeros(0, 3);
    log.case("RangeBasis empty", Want::Empty, || {
        RangeBasis::new(MatrixRef::dense(e.as_ref()).unwrap(), Par::Seq).map(|_| ())
    });
    let wide = mat(2, 3);
    log.case(
        "RangeBasis 2×3",
        Want::AnyOf(vec![Want::Param("a"), Want::Param("A")]),
        || RangeBasis::new(MatrixRef::dense(wide.as_ref()).unwrap(), Par::Seq).map(|_| ()),
    );
    let mut an = mat(6, 3);
    an[(5, 1)] = f64::NAN;
    log.case(
        "RangeBasis unvalidated NaN (5,1)",
        Want::NonFinite(5, 1),
        || RangeBasis::new(MatrixRef::Dense(an.as_ref()), Par::Seq).map(|_| ()),
    );
    let z = Mat::<f64>::zeros(6, 3);
    log.case("RangeBasis zero", Want::RankDeficient, || {
        RangeBasis::new(MatrixRef::dense(z.as_ref()).unwrap(), Par::Seq).map(|_| ())
    });
    let a = mat(6, 3);
    let rb = RangeBasis::new(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq).unwrap();
    let other = mat(7, 3);
    let sk = SparseSign::new(4, 7, 2, seed()).unwrap();
    log.case(
        "RangeBasis::distortion with a 7×3 a (basis of 6×3)",
        Want::AnyOf(vec![Want::Dim(6, 7)]),
        || rb.distortion(&sk, MatrixRef::dense(other.as_ref()).unwrap(), Par::Seq),
    );
    log.finish();
}

/// TreeSketch vector methods: lengths and NaN, as TensorSketch's.
#[test]
fn tree_sketch_methods() {
    let mut log = Log::new("TreeSketch methods");
    let ts = TreeSketch::new(2, 4, 16, seed()).unwrap();
    log.case("apply_power len 5", Want::Dim(4, 5), || {
        ts.apply_power(&[1.0f64; 5])
    });
    log.case("apply_power NaN at 3", Want::NonFinite(3, 0), || {
        ts.apply_power(&[1.0, 1.0, 1.0, f64::NAN])
    });
    log.case("apply_kron 3 factors for p = 2", Want::Dim(2, 3), || {
        ts.apply_kron(&[&[1.0f64; 4][..], &[1.0; 4][..], &[1.0; 4][..]])
    });
    let a = mat(3, 5);
    log.case("apply_rows 5 columns for d = 4", Want::Dim(4, 5), || {
        ts.apply_rows(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq)
    });
    log.finish();
}

/// `NotConverged` of the multi-right-hand-side solver and of ridge solves. `Error::NotConverged`
/// documents `tolerance` as "the tolerance that was asked for" and `sketch_and_precondition`'s
/// docs list "(iterations done, final test value, tolerance)"; with `λ > ‖A‖_F²` the solver
/// holds its normal-equation test to a smaller internal tolerance (`LstsqParams::tol` docs), so
/// the error must still report the `tol` the caller set, or say which it reports.
#[test]
fn not_converged_multi_and_ridge() {
    let mut log = Log::new("NotConverged multi / ridge");
    let n = 60;
    let g = randnla::problems::gaussian_matrix(n, 6, Seed::new(4)).unwrap();
    let a = Mat::from_fn(n, 6, |i, j| g[(i, j)] * 10f64.powi(-(j as i32) * 2));
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b = vec_b(n);
    let bm = Mat::from_fn(n, 2, |i, j| b[(i + 5 * j) % n]);
    let tol = 1e-12;
    let check = |log: &mut Log, ctx: &str, e: Option<Error>| {
        let Some(e) = e else { return };
        match &e {
            Error::NotConverged {
                tolerance,
                residual,
                history,
                ..
            } => {
                if *tolerance != tol {
                    log.fail(ctx, format!("tolerance {tolerance:e}, asked {tol:e}"));
                }
                if residual.partial_cmp(tolerance) != Some(std::cmp::Ordering::Greater) {
                    log.fail(
                        ctx,
                        format!("residual {residual:e} ≤ tolerance {tolerance:e}"),
                    );
                }
                if history.is_empty() {
                    log.fail(ctx, "empty history".into());
                }
            }
            _ => log.fail(ctx, format!("{} ({e}), expected NotConverged", variant(&e))),
        }
    };
    for probe in [false, true] {
        let p = LstsqParams {
            sketch_rows: Some(6),
            max_iters: 1,
            refinement_steps: 0,
            tol,
            probe,
            ..Default::default()
        };
        let ctx = format!("multi probe={probe}");
        let e = log.err(&ctx, || sketch_and_precondition_multi(av, bm.as_ref(), &p));
        check(&mut log, &ctx, e);
    }
    // ‖A‖_F² ≈ 60 here; λ = 10⁴ is far above it.
    for probe in [false, true] {
        let p = LstsqParams {
            sketch_rows: Some(6),
            max_iters: 1,
            refinement_steps: 0,
            tol,
            probe,
            ..Default::default()
        };
        let ctx = format!("ridge λ=1e4 probe={probe}");
        let e = log.err(&ctx, || ridge(av, &b, 1e4, &p));
        check(&mut log, &ctx, e);
    }
    let p = LsqrParams {
        tol,
        max_iters: 1,
        ridge: 1e4,
        ..Default::default()
    };
    let e = log.err("lsqr ridge 1e4", || lsqr(av, &b, &p));
    check(&mut log, "lsqr ridge 1e4", e);
    log.finish();
}

/// `apply` in `f32` where `S·A` overflows: `NonFinite` naming the first non-finite output entry
/// in column-major order (docs). Only column 1 of `A` is huge, so the entry must lie in column
/// 1, no earlier entry of that column may overflow in the `f64` sketch (an `f32` sketch is the
/// `f64` one rounded), and dense and CSR storage must name the same entry.
#[test]
fn f32_sketch_overflow_names_the_entry() {
    type SketchPair = (
        &'static str,
        Box<dyn randnla::sketch::SketchOperator<f32>>,
        Box<dyn randnla::sketch::SketchOperator<f64>>,
    );
    let mut log = Log::new("f32 sketch overflow");
    let (n, d, m) = (6usize, 3usize, 3usize);
    let big = 0.9 * f32::MAX;
    let a32 = Mat::<f32>::from_fn(n, d, |i, j| if j == 1 { big } else { (i + j) as f32 });
    let a64 = Mat::<f64>::from_fn(n, d, |i, j| a32[(i, j)] as f64);
    let csr32 = {
        let mut tri = sprs::TriMat::new((n, d));
        for i in 0..n {
            for j in 0..d {
                tri.add_triplet(i, j, a32[(i, j)]);
            }
        }
        tri.to_csr::<usize>()
    };
    let mut hits = 0usize;
    for sd in 0..6u64 {
        let s = Seed::new(100 + sd);
        let ops: Vec<SketchPair> = vec![
            (
                "count",
                Box::new(CountSketch::new(m, n, s).unwrap()),
                Box::new(CountSketch::new(m, n, s).unwrap()),
            ),
            (
                "sparse sign s=2",
                Box::new(SparseSign::new(m, n, 2, s).unwrap()),
                Box::new(SparseSign::new(m, n, 2, s).unwrap()),
            ),
            (
                "gaussian",
                Box::new(Gaussian::new(m, n, s).unwrap()),
                Box::new(Gaussian::new(m, n, s).unwrap()),
            ),
        ];
        for (name, s32, s64) in &ops {
            let want = s64
                .apply(MatrixRef::dense(a64.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            let over: Vec<usize> = (0..m)
                .filter(|&i| want[(i, 1)].abs() > f32::MAX as f64 * 1.0001)
                .collect();
            let ctx = format!("{name} seed {sd}");
            let dense = log.no_panic(&ctx, || {
                s32.apply(MatrixRef::dense(a32.as_ref()).unwrap(), Par::Seq)
            });
            let sparse = log.no_panic(&ctx, || {
                s32.apply(MatrixRef::sparse(&csr32).unwrap(), Par::Seq)
            });
            let (Some(dense), Some(sparse)) = (dense, sparse) else {
                continue;
            };
            match &dense {
                Err(Error::NonFinite { row, col, .. }) => {
                    hits += 1;
                    if *col != 1 || *row >= m {
                        log.fail(
                            &ctx,
                            format!("NonFinite at ({row}, {col}), column 1 expected"),
                        );
                    } else if let Some(&first) = over.first() {
                        if first < *row {
                            log.fail(
                                &ctx,
                                format!("names row {row}, but row {first} overflows first"),
                            );
                        }
                    }
                }
                Err(e) => log.fail(&ctx, format!("{} ({e}), expected NonFinite", variant(e))),
                Ok(out) => {
                    if !over.is_empty() {
                        log.fail(&ctx, format!("Ok although rows {over:?} overflow"));
                    } else if (0..d).any(|j| (0..m).any(|i| !out[(i, j)].is_finite())) {
                        log.fail(&ctx, "Ok with a non-finite entry".into());
                    }
                }
            }
            let same = match (&dense, &sparse) {
                (Err(e1), Err(e2)) => e1 == e2,
                (Ok(_), Ok(_)) => true,
                _ => false,
            };
            if !same {
                log.fail(
                    &ctx,
                    format!(
                        "dense {:?} vs CSR {:?}",
                        dense.as_ref().err(),
                        sparse.as_ref().err()
                    ),
                );
            }
        }
    }
    if hits == 0 {
        log.fail(
            "all seeds",
            "no case overflowed: the test checks nothing".into(),
        );
    }
    eprintln!("f32 overflow: {hits} NonFinite cases");
    log.finish();
}

/// Matrix Market odds: duplicate coordinate entries summing to ±∞ (a `Parse` naming the entry),
/// `MatrixMarket::view` of a hand-built dense matrix with NaN (`NonFinite` at its entry), and
/// kernel regression's two-fault precedence across thread counts and storage.
#[test]
fn matrix_market_view_and_kernel_precedence() {
    use randnla::io::MatrixMarket;
    use randnla::lstsq::kernel_regression::{solve_p1, solve_p3, KernelParams};
    let mut log = Log::new("MatrixMarket view / kernel precedence");
    let text = "%%MatrixMarket matrix coordinate real general\n2 2 2\n2 1 1e308\n2 1 1e308\n";
    if let Some(e) = log.err("duplicates summing to inf", || {
        read_matrix_market(text.as_bytes(), &ReadOptions::default())
    }) {
        match &e {
            Error::Parse { .. } => {
                let s = e.to_string();
                if !(s.contains("row 2") && s.contains("column 1")) {
                    log.fail("duplicates", format!("{s:?} does not name row 2, column 1"));
                }
            }
            _ => log.fail(
                "duplicates",
                format!("{} ({e}), expected Parse", variant(&e)),
            ),
        }
        if let Some(m) = display_problem(&e) {
            log.fail("duplicates", m);
        }
    }
    let mut a = mat(3, 2);
    a[(2, 1)] = f64::NAN;
    let mm = MatrixMarket::Dense(a);
    log.case(
        "MatrixMarket::Dense view NaN (2,1)",
        Want::NonFinite(2, 1),
        || mm.view().map(|_| ()),
    );
    // Kernel regression: NaN in b and a bad tol; b of the wrong length and nystrom_rank 0.
    let k = mat(16, 3);
    let (csr, csc) = (csr_all(&k), csc_all(&k));
    let mut bn = vec_b(3);
    bn[1] = f64::NAN;
    let b16 = vec_b(15);
    for (name, run) in [
        (
            "P1 NaN b + tol=0",
            Box::new(|av: MatrixRef<'_, f64>, par: Par| {
                let mut p = KernelParams {
                    tol: 0.0,
                    ..KernelParams::default()
                };
                p.lstsq.par = par;
                solve_p1(av, 1, &bn, &p).map(|_| ())
            }) as Box<dyn Fn(MatrixRef<'_, f64>, Par) -> randnla::Result<()> + Sync>,
        ),
        (
            "P3 b length + nystrom_rank 0",
            Box::new(|av: MatrixRef<'_, f64>, par: Par| {
                let mut p = KernelParams {
                    nystrom_rank: Some(0),
                    ..KernelParams::default()
                };
                p.lstsq.par = par;
                solve_p3(av, &b16, &p).map(|_| ())
            }),
        ),
    ] {
        let mut first: Option<Error> = None;
        for (storage, av) in [
            ("dense", MatrixRef::dense(k.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&csr).unwrap()),
            ("csc", MatrixRef::sparse(&csc).unwrap()),
        ] {
            for threads in [1usize, 4] {
                let ctx = format!("{name} [{storage}, {threads} threads]");
                if let Some(e) = log.err(&ctx, || with_threads(threads, |par| run(av, par))) {
                    match &first {
                        None => first = Some(e),
                        Some(e0) if e0 != &e => log.fail(&ctx, format!("{e:?} vs {e0:?}")),
                        _ => {}
                    }
                }
            }
        }
        if let Some(e) = first {
            eprintln!("{name}: {e}");
        }
    }
    log.finish();
}
