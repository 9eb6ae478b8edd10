//! Leverage scores — exact, fast approximate (input-sparsity time) and ridge — for sampling rows.
//!
//! The *leverage score* of row `i` of an `n × d` matrix `A` of rank `r` is
//! `ℓ_i = ‖e_iᵀQ‖²`, where the `r` columns of `Q` are an orthonormal basis of `range(A)`;
//! equivalently `ℓ_i = a_iᵀ(AᵀA)⁺a_i`. Every `ℓ_i ∈ [0, 1]` and `Σ ℓ_i = r` (the exact scores;
//! an approximate score is an estimate and may exceed 1 on a row of high leverage). The *ridge
//! leverage score* at `λ ≥ 0` is `τ_i(λ) = a_iᵀ(AᵀA + λI)⁻¹a_i` — the leverage score of row `i`
//! of the augmented matrix `[A; √λ·I]` — and `Σ τ_i(λ) = d_λ = tr(AᵀA(AᵀA + λI)⁻¹)
//! = Σ_j σ_j²/(σ_j² + λ)`, the *statistical dimension*.
//!
//! Sampling rows with probabilities `p_i ∝ ℓ_i` (see [`crate::sketch::sampling`]) gives a subspace
//! embedding with `m = O(d log d)` rows on every matrix, where uniform sampling can need `m ≈ n`.
//!
//! | function | what | cost |
//! |---|---|---|
//! | [`exact_leverage_scores`] | column-pivoted Householder QR of `A` (small inputs), or a sketch-preconditioned Cholesky QR (large inputs) | `O(nd²)` / `O(nnz·d + nd²)` |
//! | [`approx_leverage_scores`] | Drineas–Magdon-Ismail–Mahoney–Woodruff | `O(s·nnz + m₁d² + nnz·r₂)` |
//! | [`exact_ridge_leverage_scores`], [`approx_ridge_leverage_scores`] | the same on `[A; √λ I]` | the same |
//! | [`statistical_dimension`] | `d_λ = Σ τ_i(λ)` | as exact ridge scores |
//!
//! # The approximate method and its sandwich identity
//! Let `S₁` be an `m₁ × n` sparse sign sketch and `S₁A·P = Q̂R` a column-pivoted QR (`P` a
//! permutation, `R₁₁` the leading `r × r` block, `r` the numerical rank). Then `Y = A·P₁R₁₁⁻¹`
//! (`P₁` = first `r` columns of `P`) spans `range(A)`, and with `A = Q·T` (`Q` exact orthonormal)
//! one has `Y = Q·M⁻¹` where `S₁Q = Q̂·M`, so for **every row**
//!
//! ```text
//!   ℓ_i · σ_max(S₁Q)⁻²  ≤  ‖e_iᵀ Y‖²  ≤  ℓ_i · σ_min(S₁Q)⁻²        (an identity, not a statistic)
//! ```
//!
//! The `r₂` columns of a Gaussian `G/√r₂` (a JL transform) then estimate `‖e_iᵀY‖²` by
//! `‖e_iᵀ Y G‖²/r₂`, unbiased with relative standard deviation `√(2/r₂)`. Forming `Y·G` as
//! `A·(P₁R₁₁⁻¹G)` — the `d × r₂` factor first, then one sparse-times-dense product — costs
//! `O(nnz·r₂)` instead of `O(nnz·d)`. `G` is drawn as `Q̂₁ᵀΠ` for an `m₁ × r₂` Gaussian `Π`
//! (the same distribution, as `Q̂₁` has orthonormal columns), so that `P₁R₁₁⁻¹G = (S₁A)⁺Π` for
//! a full-rank `A`: for a fixed seed the scores depend on `range(A)` only, not on the units or
//! basis of its columns nor on the pivot order they lead to. Finally, `(S₁Q)ᵀ(S₁Q)` is a
//! sample covariance whose inverse is biased upward by `≈ m₁/(m₁ − r − 1)` (the inverse-Wishart
//! mean; the same holds to first order for sparse sketches, Dereziński et al., arXiv
//! 2011.10695), so by default the estimate is multiplied by `(m₁ − r − 1)/m₁`
//! (`ApproxParams::debias`).
//!
//! # Measured accuracy and cost
//! See [`ApproxParams`] for the defaults and the per-row error measurements behind them. Time on
//! sparse `n × 200` matrices with 10 nonzeros per row (`cargo bench --bench leverage`, 2 threads
//! on a quiet 2-core machine, criterion medians, one run, 2026-11-30):
//!
//! | nnz | approx (defaults) | exact (method) | exact/approx | median / p90 rel. error |
//! |---|---|---|---|---|
//! | 10⁵ | 24 ms | 166 ms (Householder) | 6.9× | 0.098 / 0.236 |
//! | 10⁶ | 57 ms | 205 ms (sketch-Cholesky) | 3.6× | 0.098 / 0.239 |
//! | 10⁷ (n = 10⁶) | 419 ms | 2.19 s (sketch-Cholesky) | 5.2× | 0.097 / 0.237 |
//! | 2·10⁷ | 884 ms | 4.0 s | 4.5× | 0.097 / 0.236 |
//!
//! The approximate method's time grows at most linearly in nnz (log-log slope 0.69 from 10⁵ to
//! 2·10⁷). Runs on a machine at load 7–8 had inflated every time and shown ratios of 4–14×.
//!
//! # References
//! P. Drineas, M. Magdon-Ismail, M. W. Mahoney, D. P. Woodruff, "Fast approximation of matrix
//! coherence and statistical leverage", JMLR 2012, arXiv 1109.3843.
//! M. B. Cohen, C. Musco, C. Musco, "Input sparsity time low-rank approximation via ridge leverage
//! score sampling", SODA 2017, arXiv 1511.07263 (ridge leverage scores).
//! O. Balabanov, "Randomized Cholesky QR factorizations", arXiv 2210.09953 (the
//! sketch-preconditioned Cholesky QR of the exact path).

use crate::error::{Error, Result};
use crate::input::{check_finite_dense, Layout, MatrixRef, SparseRef};
use crate::scalar::{exponent, mul_pow2};
use crate::seed::Seed;
use crate::sketch::sampling::OwnedCsr;
use crate::sketch::{SketchExt, SparseSign};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use std::time::Instant;

/// Stream of the sparse sign sketch `S₁` of the approximate method.
const STREAM_SKETCH: u64 = 0x32;
/// Stream of the Gaussian JL matrix `G` of the approximate method.
const STREAM_JL: u64 = 0x33;
/// Stream of the JL rows beyond the sketch's `m₁` (a ridge rank above `m₁`).
const STREAM_JL_EXTRA: u64 = 0x35;
/// Stream of the preconditioning sketch of the exact sketch-Cholesky path.
const STREAM_PRECOND: u64 = 0x34;
/// Rows of `A` processed together (a constant, never a function of the thread count).
const BLOCK_ROWS: usize = 8192;
/// Rows per parallel task inside a block of the sparse product.
const ROW_CHUNK: usize = 128;
/// Rows of the preconditioning sketch per column of `A` in the exact sketch-Cholesky path.
const PRECOND_FACTOR: usize = 4;

/// The sketch routes take `A` as given while the largest magnitude of each column (at `λ = 0`)
/// or of `A` (for `λ > 0`) lies within `2^±SCALE_LIMIT`; beyond it they work on a copy rescaled
/// by powers of two (see [`Rescaled`]).
const SCALE_LIMIT: i32 = 900;

/// Inputs with `n·d` at most this many entries are factored by Householder QR under
/// [`ExactMethod::Auto`] (a dense copy of at most 32 MiB).
pub const HOUSEHOLDER_LIMIT: usize = 1 << 22;

/// How [`exact_leverage_scores`] factors `A`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ExactMethod {
    /// [`Householder`](Self::Householder) when `n·d ≤` [`HOUSEHOLDER_LIMIT`] or when sketching
    /// would not compress (`n ≤ 4d`), [`SketchCholesky`](Self::SketchCholesky) otherwise.
    #[default]
    Auto,
    /// Column-pivoted Householder QR of a dense copy of `A` (of `[A; √λI]` for ridge scores):
    /// `O(nd²)` time, `O(nd)` memory. Sparse inputs are densified, so dense, CSR and CSC storage
    /// of the same `A` give the same bits. The thin `Q` is formed on one thread, so that the
    /// scores' bits do not depend on the thread count.
    Householder,
    /// Sketch-preconditioned Cholesky QR, in two streaming passes over `A`:
    /// `R` from a column-pivoted QR of `S·A` (`S` a `4d × n` sparse sign sketch), so that
    /// `Y = A·P₁R₁₁⁻¹` has condition number `≈ κ(SQ) ≲ 3`; then the exact Gram `YᵀY = LLᵀ`
    /// (pass 1) and `ℓ_i = ‖e_iᵀ A·P₁R₁₁⁻¹L⁻ᵀ‖²` (pass 2). The result is exact up to rounding
    /// (`O(ε·κ(A))`, like Householder QR) and does not depend on the sketch's seed beyond rounding.
    /// `O(nnz·d + nd²)` time, `O(d² + 8192·d)` memory: it never densifies a sparse `A` (a CSC
    /// `A` is read through a CSR copy, `O(nnz + n)` more memory).
    ///
    /// The scores' bits do not depend on the thread count, and CSR and CSC storage give the
    /// same bits (one row kernel for both). A dense `A` has its products `A·M` computed by faer's
    /// dense kernel instead: the same scores to rounding, not bit for bit (on a `12000 × 30`
    /// matrix about 40 % of the scores differ from the CSR ones, by at most `≈ 10⁻¹⁵` relative).
    SketchCholesky,
}

option_names!(ExactMethod, "method", [Auto => "auto", Householder => "householder", SketchCholesky => "sketch-cholesky"]);

/// Parameters of the exact computations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExactParams {
    /// The factorization (default [`ExactMethod::Auto`]).
    pub method: ExactMethod,
    /// Relative rank tolerance: the numerical rank counts the leading pivots `|R_kk| > tol·|R_00|`
    /// of the column-pivoted QR (of `A`, of `[A; √λI]` for ridge scores, or of the
    /// preconditioning sketch `S·A` for [`ExactMethod::SketchCholesky`]; where faer's pivoting
    /// puts a pivot above the tolerance after one below it, the columns from there on are
    /// pivoted again with exact norms, so the leading pivots are all those above it), its
    /// columns first equilibrated by powers of two (largest entry of each in `[1, 2)`, exact), so
    /// that the rank does not depend on the columns' units: a full-rank `4000 × 3` matrix with
    /// column scales `1e7, 1, 1e-7` has rank 3, as its leverage scores are those of the unscaled
    /// matrix (unequilibrated, its last pivot ratio `≈ 10⁻¹⁴` fell below the tolerance and gave
    /// rank 2, as numpy's `matrix_rank` would). `None` (default) uses `max(n, d)·ε` for an
    /// `n × d` matrix `A` — the shape of `A`, not of the matrix factored — on every route,
    /// [`approx_leverage_scores`] included, so that they report the same rank for the same `A`
    /// (unless a pivot ratio lies within the sketch's distortion, a factor `≈ κ(SQ)`, of the
    /// tolerance).
    pub rank_tol: Option<f64>,
    /// Seed of the preconditioning sketch of [`ExactMethod::SketchCholesky`] (the scores do not
    /// depend on it beyond rounding).
    pub seed: Seed,
}

impl Default for ExactParams {
    fn default() -> Self {
        ExactParams {
            method: ExactMethod::Auto,
            rank_tol: None,
            seed: Seed::new(0x1e7e_4a6e),
        }
    }
}

/// Parameters of the fast approximate method (Drineas–Magdon-Ismail–Mahoney–Woodruff).
///
/// Defaults (`m₁ = 10d`, `r₂ = 100`, `s = 8`, debiasing on) were chosen from measurements of the
/// per-row relative error `|ℓ̃_i − ℓ_i|/ℓ_i`: the JL stage contributes a relative standard
/// deviation `√(2/r₂)` and the sketch stage, once debiased, about `√(2/(m₁ − d))`, so the median
/// relative error is `≈ 0.67·√(2/r₂ + 2/(m₁ − d))` (within 20% for `m₁ − d` from 45 up, at `d`
/// from 5 to 100, `tests/claims_review.rs`). With a shorter first sketch it is larger: the
/// relative variance of an inverse-Wishart diagonal is `2/(m₁ − d − 3)`, and the error's
/// distribution is skewed, so at `d = 5`, `m₁ = 4d` (`m₁ − d = 15`), `r₂ = 400` the median was
/// 0.30 against the formula's 0.25.
///
/// Measured on a `20000 × 50` Gaussian matrix (the coherent `[I; 1e-3·G]` and Cauchy-row
/// matrices agree within ±0.01 in the median), `s = 8`, with the JL matrix drawn in the
/// sketch's basis (session 39; the rows with `r₂` were 0.01–0.04 higher in one quantile or
/// another with the earlier draw, a different realization of the same estimator). The
/// quantiles pool 240 sketches (seeds 0–239, 4.8 million rows). One sketch's quantiles spread
/// around them, with a right tail — a sketch's distortion is shared by all its rows; the last
/// column gives the 5–95 % range over the 240 sketches of one sketch's 99 % quantile (that of
/// its median lies within −5 … +5.5 % of the pooled median for the debiased rows with
/// `m₁ ≥ 4d`, −6 … +8 % at `2d`, −15 … +23 % without debiasing). The test
/// `approx_error_table_is_reproduced` in `tests/leverage.rs` checks every row on 5 other
/// sketches, within tolerances derived from this spread:
///
/// | `m₁` | `r₂` | debias | median | 90 % | 99 % | 99 %, one sketch |
/// |---|---|---|---|---|---|---|
/// | `2d` | — (exact `‖e_iᵀAR⁻¹‖²`) | no | 0.99 | 1.59 | 2.28 | 1.93–2.60 |
/// | `2d` | — | yes | 0.13 | 0.32 | 0.61 | 0.45–0.76 |
/// | `4d` | 100 | yes | 0.12 | 0.30 | 0.50 | 0.43–0.58 |
/// | `10d` | — | yes | 0.045 | 0.11 | 0.18 | 0.16–0.19 |
/// | `10d` | 100 | no | 0.13 | 0.34 | 0.57 | 0.48–0.64 |
/// | **`10d`** | **100** | **yes** | **0.11** | **0.26** | **0.41** | **0.37–0.47** |
/// | `10d` | 200 | yes | 0.081 | 0.20 | 0.32 | 0.29–0.35 |
/// | `10d` | 400 | yes | 0.066 | 0.16 | 0.26 | 0.24–0.28 |
/// | `20d` | 400 | yes | 0.057 | 0.14 | 0.22 | 0.21–0.24 |
///
/// Too small a first sketch is the known trap: at `m₁ = 2d` without debiasing the median error is ≈
/// 1 — almost all of it the inversion bias `m₁/(m₁ − d − 1) ≈ 2`, which the debiasing factor
/// removes. Cost: the sketch stage is `O(s·nnz + m₁d²)`, the JL stage `O(nnz·r₂)`; with `d ≪ n`
/// the JL stage dominates, so `m₁ = 10d` is nearly free while each doubling of `r₂` doubles the
/// time and cuts the error by `√2`. The promise tested in `tests/leverage.rs` for the defaults:
/// at least 50 % of rows within 0.15, 90 % within 0.35 and 99 % within 0.6 (Gaussian, coherent
/// and Cauchy-row matrices, fixed seeds). For sampling, constant-factor accuracy is enough:
/// `r₂ = 20–50` halves the cost; for per-row accuracy use `r₂ = 200–400`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ApproxParams {
    /// `m₁`, rows of the sparse sign sketch `S₁`. `None` (default) uses
    /// [`DEFAULT_SKETCH_FACTOR`](Self::DEFAULT_SKETCH_FACTOR)`·d`. Must be at least `d`,
    /// below `2³¹` and at least [`nnz_per_col`](Self::nnz_per_col), for every `A`: these bounds
    /// (of [`SparseSign::new`]) are checked before the shape decides the route. With
    /// [`debias`](Self::debias) on, also at least `r + 2` (`r ≤ d` the rank of `S₁A`; `d̂_λ + 2`
    /// for ridge scores), so `d + 2` always suffices; that bound does not apply when `n ≤ m₁`,
    /// where no sketch is drawn and the exact scores are returned.
    pub sketch_rows: Option<usize>,
    /// `r₂`, columns of the Gaussian JL matrix. `0` skips the JL stage: the scores are then the
    /// exact squared row norms `‖e_iᵀA·P₁R₁₁⁻¹‖²`, multiplied by the debiasing factor `ρ` when
    /// [`debias`](Self::debias) is on (at `λ = 0`; for ridge scores `ρ` is inside `R`) — cost
    /// `O(nnz·d)`, error only from the sketch `S₁`.
    pub jl_dim: usize,
    /// `s`, nonzeros per column of `S₁` (default 8, at most `m₁` and at most `2²¹`).
    pub nnz_per_col: usize,
    /// Remove the inversion bias of the sketched `R` (default `true`): at `λ = 0` the scores are
    /// multiplied by `ρ = (m₁ − r − 1)/m₁`; for ridge scores the sketched Gram is divided by
    /// `ρ = (m₁ − d̂_λ − 1)/m₁` inside the inverse, `R` from `[S₁A/√ρ; √λ I]`, with `d̂_λ` the
    /// statistical dimension of the sketch.
    ///
    /// The factor needs `m₁ ≥ r + 2` (`m₁ ≥ d̂_λ + 2`, i.e. `ρ ≥ 1/m₁`): the inverse-Wishart mean
    /// `m₁/(m₁ − r − 1)` it undoes is infinite for `m₁ ≤ r + 1`. A smaller sketch is an
    /// [`Error::InvalidParameter`] naming `sketch_rows`, not scores left biased without notice
    /// (at `d = 10`, `m₁ = 10` they summed to 10²–10³ instead of 10). Close to the bound `ρ` is
    /// small and the scores vary widely from seed to seed (the inverse-Wishart variance is finite
    /// only for `m₁ > r + 3`); use `m₁ ≥ 2d`. `false` returns the raw, upward-biased estimates of
    /// `‖e_iᵀ A·P₁R₁₁⁻¹‖²`, which the sandwich identity bounds for any `m₁ ≥ d`.
    pub debias: bool,
    /// Relative rank tolerance, as in [`ExactParams::rank_tol`], applied to the QR of `S₁A`; the
    /// default `max(n, d)·ε` is that of the exact routes on the same `A` (`n` the rows of `A`,
    /// not the `m₁` of the sketch), so that both report the same rank.
    pub rank_tol: Option<f64>,
}

impl ApproxParams {
    /// Default `m₁/d`.
    pub const DEFAULT_SKETCH_FACTOR: usize = 10;
    /// Default `r₂`.
    pub const DEFAULT_JL_DIM: usize = 100;

    /// `m₁` for a matrix with `d` columns.
    pub fn sketch_rows_for(&self, d: usize) -> usize {
        self.sketch_rows
            .unwrap_or(Self::DEFAULT_SKETCH_FACTOR.saturating_mul(d))
    }

    /// The sketch `S₁` that [`approx_leverage_scores`] draws for an `n × d` matrix from `seed`
    /// (exposed so that its distortion can be inspected).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] as for [`SparseSign::new`], or when `m₁ < d`.
    pub fn sketch(&self, n: usize, d: usize, seed: Seed) -> Result<SparseSign> {
        let m1 = self.sketch_rows_for(d);
        if m1 < d {
            return Err(Error::param(
                "sketch_rows",
                format!(
                    "m₁ = {m1} rows cannot capture d = {d} columns; need m₁ ≥ d (10d recommended)"
                ),
            ));
        }
        SparseSign::new(m1, n, self.nnz_per_col, seed.derive(STREAM_SKETCH))
            .map_err(|e| e.renamed("m", "sketch_rows"))
    }
}

impl Default for ApproxParams {
    fn default() -> Self {
        ApproxParams {
            sketch_rows: None,
            jl_dim: Self::DEFAULT_JL_DIM,
            nnz_per_col: SparseSign::DEFAULT_NNZ_PER_COL,
            debias: true,
            rank_tol: None,
        }
    }
}

/// Which computation produced the scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LeverageMethod {
    /// Column-pivoted Householder QR of a dense copy ([`ExactMethod::Householder`]).
    Householder,
    /// Sketch-preconditioned Cholesky QR ([`ExactMethod::SketchCholesky`]).
    SketchCholesky,
    /// The approximate method ([`approx_leverage_scores`]).
    Approximate,
}

impl LeverageMethod {
    /// A short name for reports (`"householder"`, `"sketch-cholesky"`, `"approx"`).
    pub fn name(self) -> &'static str {
        match self {
            LeverageMethod::Householder => "householder",
            LeverageMethod::SketchCholesky => "sketch-cholesky",
            LeverageMethod::Approximate => "approx",
        }
    }
}

/// Diagnostics returned with the scores.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LeverageInfo {
    /// The computation that ran (an approximate request falls back to the exact method when
    /// `n ≤ m₁`, where sketching would not compress).
    pub method: LeverageMethod,
    /// Rows of `A`.
    pub n: usize,
    /// Columns of `A`.
    pub d: usize,
    /// Stored entries of `A`.
    pub nnz: usize,
    /// Numerical rank `r` of `A` (of `[A; √λI]` for ridge scores with `λ > 0`: `d` unless `√λ` is
    /// below the rank tolerance against `A`'s columns — a rank-4 `200 × 5` `A` reports 4 at
    /// `λ = 10⁻³⁰`, where the scores are the plain ones);
    /// for the approximate method, of `S₁A` (of `[S₁A; √λI]`), which equals that of `A` (of
    /// `[A; √λI]`) when `S₁` embeds `range(A)`.
    pub rank: usize,
    /// The pivot threshold that decided the rank (`tol` times the largest column norm of the
    /// factored matrix, its columns equilibrated by powers of two: `tol·|R_00|` of its pivoted
    /// QR; see [`ExactParams::rank_tol`]).
    pub rank_threshold: f64,
    /// The ridge parameter (0 for plain leverage scores).
    pub lambda: f64,
    /// `Σ_i` of the scores: `r` for exact leverage scores, `d_λ` for exact ridge scores, their
    /// estimates for approximate ones.
    pub sum: f64,
    /// The largest score.
    pub max: f64,
    /// Rows of the sketch used (`m₁`, or the preconditioning sketch; 0 for Householder).
    pub sketch_rows: usize,
    /// `r₂` (0 when no JL stage ran).
    pub jl_dim: usize,
    /// The factor applied to remove the inversion bias (1 when not applied).
    pub debias_factor: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Exact leverage scores `ℓ_i = ‖e_iᵀQ‖²` of an `n × d` matrix of any rank (and any shape).
///
/// The numerical rank `r` is read from a column-pivoted QR and reported in
/// [`LeverageInfo::rank`]; the scores of a rank-`r` matrix sum to `r`, up to their rounding
/// (`O(ε·κ)`, `κ` the condition number of `A` with its columns equilibrated, as the rank
/// decision sees it: scores do not depend on the columns' scales). A row of zeros has score
/// exactly 0 (on either route; the Householder `Q` gives it values of that order, which are
/// not kept, so they are missing from the sum: `10⁻⁶` on a `5 × 4` matrix with `κ ≈ 5·10¹³`,
/// found by the `solvers` fuzz target). See [`ExactMethod`] for the two factorizations and
/// when each is used.
///
/// # Errors
/// [`Error::Empty`] for `A` without rows or columns; [`Error::NonFinite`] for NaN/∞ in a dense `A`
/// built without validation; [`Error::InvalidParameter`] for a `rank_tol` outside `[0, 1)`;
/// [`Error::TooLarge`] when Householder would densify more than `2³¹` entries (or the
/// sketch-Cholesky work arrays, `5d × d`, would exceed them), or when the `n` scores or the
/// `n + 1` row pointers of a CSC input's CSR copy cannot be allocated (a sparse `A` may declare
/// far more rows than it stores);
/// [`Error::Factorization`] when the sketch-Cholesky Gram matrix is not positive definite
/// (rank deficiency the sketch did not detect — use [`ExactMethod::Householder`]).
///
/// # Performance
/// Householder: `O(nd·min(n,d))` time, `O(nd)` memory. Sketch-Cholesky: `O(s·nnz + d³ +
/// 2·nnz·d + nd²)` time (two passes), `O(d² + 8192·d)` memory; an `A` with entries near the
/// ends of the `f64` range (a column's largest beyond `2^±900`, or for ridge scores `A`'s largest)
/// is first copied, rescaled by powers of two (`O(nnz)` more memory), and a CSC `A` is read
/// through a CSR copy (`O(nnz + n)` more memory). Householder gives the same bits for dense,
/// CSR and CSC storage, sketch-Cholesky for CSR and CSC (see [`ExactMethod`]); both, for any
/// thread count.
///
/// # References
/// G. H. Golub, C. F. Van Loan, *Matrix Computations*, §5.4 (QR with column pivoting);
/// O. Balabanov, arXiv 2210.09953 (sketch-preconditioned Cholesky QR).
///
/// # Examples
///
/// ```
/// use randnla::leverage::{exact_leverage_scores, ExactParams};
/// use randnla::MatrixRef;
/// // Column 2 = column 0 + column 1: rank 2.
/// let a = randnla::faer::Mat::<f64>::from_fn(6, 3, |i, j| match j {
///     0 => i as f64,
///     1 => (i * i) as f64,
///     _ => (i + i * i) as f64,
/// });
/// let par = randnla::faer::Par::Seq;
/// let (scores, info) =
///     exact_leverage_scores(MatrixRef::dense(a.as_ref()).unwrap(), &ExactParams::default(), par)
///         .unwrap();
/// assert_eq!(info.rank, 2);
/// assert!((scores.iter().sum::<f64>() - 2.0).abs() < 1e-12);
/// ```
pub fn exact_leverage_scores(
    a: MatrixRef<'_, f64>,
    params: &ExactParams,
    par: Par,
) -> Result<(Vec<f64>, LeverageInfo)> {
    exact_impl(a, 0.0, params, par)
}

/// Exact ridge leverage scores `τ_i(λ) = a_iᵀ(AᵀA + λI)⁻¹a_i`, the first `n` leverage scores of
/// `[A; √λ I]`; [`LeverageInfo::sum`] is the statistical dimension `d_λ`. `λ = 0` gives the plain
/// leverage scores.
///
/// # Errors
/// As [`exact_leverage_scores`], and [`Error::InvalidParameter`] for `λ` negative, NaN or ∞.
///
/// # Performance
/// As [`exact_leverage_scores`] with `d` more rows.
///
/// # References
/// M. B. Cohen, C. Musco, C. Musco, arXiv 1511.07263; A. Alaoui, M. W. Mahoney, "Fast randomized
/// kernel methods with statistical guarantees", arXiv 1411.0306.
pub fn exact_ridge_leverage_scores(
    a: MatrixRef<'_, f64>,
    lambda: f64,
    params: &ExactParams,
    par: Par,
) -> Result<(Vec<f64>, LeverageInfo)> {
    exact_impl(a, lambda, params, par)
}

/// The statistical dimension `d_λ = tr(AᵀA(AᵀA + λI)⁻¹) = Σ_i τ_i(λ)`, computed exactly (the sum
/// of [`exact_ridge_leverage_scores`] with default parameters).
///
/// # Errors
/// As [`exact_ridge_leverage_scores`].
///
/// # Performance
/// As [`exact_ridge_leverage_scores`].
pub fn statistical_dimension(a: MatrixRef<'_, f64>, lambda: f64, par: Par) -> Result<f64> {
    Ok(exact_impl(a, lambda, &ExactParams::default(), par)?.1.sum)
}

/// Fast approximate leverage scores in input-sparsity time (Drineas–Magdon-Ismail–Mahoney–
/// Woodruff): `ℓ̃_i = c·‖e_iᵀ A·P₁R₁₁⁻¹G‖²` with `R` from a column-pivoted QR of `S₁A`
/// (`S₁` an `m₁ × n` sparse sign sketch with `s` nonzeros per column, drawn from
/// `seed.derive(0x32)`), `G` an `r × r₂` Gaussian scaled by `1/√r₂` and `c` the debiasing factor
/// `(m₁ − r − 1)/m₁` (or 1). See the [module docs](self) for the sandwich identity.
///
/// When `n ≤ m₁` sketching would not compress, and the exact scores are returned instead
/// (`info.method` says so).
///
/// # Errors
/// As [`exact_leverage_scores`]; [`Error::InvalidParameter`] for `m₁ < d`, `m₁ ≥ 2³¹`, `s = 0`,
/// `s > m₁` or `s > 2²¹` (the bounds of [`SparseSign::new`], checked for every `A`, also when
/// `n ≤ m₁` and the exact scores are returned), and (naming `sketch_rows`) for `m₁ < r + 2`
/// when [`ApproxParams::debias`] is on and `n > m₁` — `r` the rank of `S₁A`, `d̂_λ` in place
/// of `r` for ridge scores — where the debiasing factor does not exist (raise `sketch_rows`,
/// or set `debias = false`);
/// [`Error::TooLarge`] when `(m₁ + d)·d` or `r₂·max(d, 8192)` exceeds `2³¹` entries.
///
/// # Performance
/// `O(s·nnz + m₁d² + d²r₂ + nnz·r₂)` time; `O(m₁d + d·r₂ + 8192·r₂)` memory besides the `n`
/// scores (and an `O(nnz)` rescaled copy of an `A` near the ends of the `f64` range, as for
/// [`ExactMethod::SketchCholesky`]; an `O(nnz + n)` CSR copy of a CSC `A`). The output is
/// bitwise identical for any thread count, and for CSR and CSC storage; a dense `A` gives the
/// same scores to rounding but not the same bits (its products `A·M` run through faer's dense
/// kernel, a sparse `A`'s through the crate's row kernel; see [`ExactMethod::SketchCholesky`]).
///
/// # References
/// P. Drineas, M. Magdon-Ismail, M. W. Mahoney, D. P. Woodruff, arXiv 1109.3843;
/// M. Dereziński, Z. Liao, E. Dobriban, M. W. Mahoney, "Sparse sketches with small inversion bias",
/// arXiv 2011.10695 (the debiasing factor).
///
/// # Examples
///
/// ```
/// use randnla::leverage::{approx_leverage_scores, ApproxParams};
/// use randnla::{problems, MatrixRef, Seed};
/// let a = problems::random_sparse(20_000, 20, 4, Seed::new(1)).unwrap();
/// let (scores, info) = approx_leverage_scores(
///     MatrixRef::sparse(&a).unwrap(),
///     &ApproxParams::default(),
///     Seed::new(2),
///     randnla::faer::Par::Seq,
/// )
/// .unwrap();
/// assert_eq!(scores.len(), 20_000);
/// assert!((info.sum - 20.0).abs() < 2.0); // Σ ℓ̃ ≈ rank = 20
/// ```
pub fn approx_leverage_scores(
    a: MatrixRef<'_, f64>,
    params: &ApproxParams,
    seed: Seed,
    par: Par,
) -> Result<(Vec<f64>, LeverageInfo)> {
    approx_impl(a, 0.0, params, seed, par)
}

/// Approximate ridge leverage scores: the method of [`approx_leverage_scores`] with `R` from the
/// QR of `[S₁A; √λ I]`, so that `‖e_iᵀ A R⁻¹‖² ≈ τ_i(λ)` within the same sandwich factors
/// (debiased with `ρ = (m₁ − d̂_λ − 1)/m₁` inside the inverse, see [`ApproxParams::debias`]).
///
/// # Errors
/// As [`approx_leverage_scores`], and [`Error::InvalidParameter`] for `λ` negative, NaN or ∞.
///
/// # Performance
/// As [`approx_leverage_scores`].
///
/// # References
/// M. B. Cohen, C. Musco, C. Musco, arXiv 1511.07263.
pub fn approx_ridge_leverage_scores(
    a: MatrixRef<'_, f64>,
    lambda: f64,
    params: &ApproxParams,
    seed: Seed,
    par: Par,
) -> Result<(Vec<f64>, LeverageInfo)> {
    approx_impl(a, lambda, params, seed, par)
}

// ---------------------------------------------------------------------------------------------
// Validation

fn check_input(a: &MatrixRef<'_, f64>, lambda: f64) -> Result<()> {
    a.require_nonempty("A")?;
    if let MatrixRef::Dense(d) = a {
        check_finite_dense(*d, "A")?;
    }
    if !lambda.is_finite() || lambda < 0.0 {
        return Err(Error::param(
            "lambda",
            format!("λ = {lambda}; the ridge parameter must be finite and ≥ 0"),
        ));
    }
    Ok(())
}

/// Dense work arrays are limited to `2³¹` entries.
fn check_work(what: impl FnOnce() -> String, rows: usize, cols: usize) -> Result<()> {
    let requested = rows as u128 * cols as u128;
    const LIMIT: u128 = 1 << 31;
    if requested > LIMIT {
        return Err(Error::TooLarge {
            what: what(),
            requested,
            limit: LIMIT,
        });
    }
    Ok(())
}

/// The relative rank tolerance for an `n × d` matrix `A`: the default `max(n, d)·ε` depends on
/// the shape of `A` only, never on the rows of the matrix actually factored (`[A; √λI]`, or a
/// sketch `S·A` of `A`), so that every route draws the line between rank and noise in the same
/// place.
fn rank_tol(tol: Option<f64>, n: usize, d: usize) -> Result<f64> {
    match tol {
        None => Ok(n.max(d) as f64 * f64::EPSILON),
        Some(t) if t.is_finite() && (0.0..1.0).contains(&t) => Ok(t),
        Some(t) => Err(Error::param(
            "rank_tol",
            format!("{t}; the relative rank tolerance must be in [0, 1)"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Small dense factorizations

/// A column-pivoted QR of `B` with its columns first equilibrated by powers of two,
/// `B·D·P = Q·R` with `D_jj = 2^{s_j}` bringing column `j`'s largest entry into `[1, 2)`
/// (exact), factored in place. The rank decision then does not depend on the columns' units:
/// `A·diag(10⁷, 1, 10⁻⁷)` is full rank like `A` (unequilibrated, its last pivot fell below
/// `max(n, d)·ε·|R_00|` and the rank came out 2), as R's `lm` and LINPACK's `dqrdc2` judge it.
/// `Q` is that of `B`; [`TriangularFactor::solve_scatter`] undoes `D`.
///
/// The rank is the number of leading pivots above the threshold, and the first `rank` columns
/// of `Q` are the basis. That needs the pivots above the threshold to come first, which faer's
/// pivoting does not always deliver: it downdates the column norms and recomputes them only when
/// the largest has fallen far, so a column whose true residual is rounding (a duplicate of one
/// already taken) can carry a stale norm and be taken before one whose residual is above the
/// threshold. On an `8 × 6` matrix (`solvers` fuzz target) the pivots came out
/// `2.8, 2.1, 1.7, 3.5·10⁻¹⁶, 2.2·10⁻¹³` against a threshold of `5·10⁻¹⁵`, the fourth column of
/// `Q` was rounding noise, and a row of leverage 1 got 0.027. When the exact residual norms of
/// the columns after the first pivot below the threshold show one above it,
/// [`TriangularFactor::repivot_trailing`] factors the trailing block of `R` again with exact
/// pivoting (by hand: faer's unpivoted QR would not do, as it skips a column whose residual is
/// below `16·(n − k)·ε` of its norm, which the rank tolerance `max(n, d)·ε·|R_00|` can count;
/// on a `600 × 60` matrix with ten such columns it left nine of them out).
struct PivotedQr {
    /// `R`, its column order and rank decision; the Householder vectors below the diagonal.
    tri: TriangularFactor,
    coeff: Mat<f64>,
    /// After a repair ([`TriangularFactor::repivot_trailing`]): `(k, Q₂)`, the orthogonal
    /// factor of the trailing block's QR, so that the basis is `Q̂ = Q·diag(I_k, Q₂)` (`Q` that
    /// of the stored Householder vectors); `None` when faer's pivoting stands.
    trailing_q: Option<(usize, Mat<f64>)>,
    /// `±1` per row of `R`: the stored `R` has row `i` multiplied by `signs[i]` so that
    /// `R_ii ≥ 0`, and the basis `Q̂` (`thin_q`, `jl_in_basis`) column `i` likewise, so `Q̂·R`
    /// is unchanged. Two factorizations of nearby matrices then have nearby factors, not ones
    /// that differ in the signs of some rows: [`ridge_factor`](Self::ridge_factor) at a small
    /// `λ` is this `R`, which its JL coordinates rely on. Sign changes are exact, so the scores'
    /// bits do not depend on them.
    signs: Vec<f64>,
}

/// The upper-triangular factor of a column-pivoted QR of `B·D` (`B·D·P = Q·R`, `D_jj =
/// 2^{shifts[j]}`) with its rank decision: what solves with `R₁₁` need, and all that a ridge
/// factor ([`PivotedQr::ridge_factor`]) has.
struct TriangularFactor {
    /// `R` on and above the diagonal; below it a [`PivotedQr`]'s Householder vectors, or zeros.
    r: Mat<f64>,
    /// `(B·P)[:, p] = B[:, perm[p]]`.
    perm: Vec<usize>,
    rank: usize,
    threshold: f64,
    /// `s_j`: column `j` of `B` was scaled by `2^{s_j}`.
    shifts: Vec<i32>,
}

impl PivotedQr {
    fn new(mut b: Mat<f64>, rel_tol: f64, par: Par) -> Self {
        let shifts = crate::dense::equilibrate_columns(b.as_mut());
        Self::prescaled(b, shifts, rel_tol, par)
    }

    /// The QR of `B·D` given already scaled, with `D_jj = 2^{shifts[j]}`.
    fn prescaled(mut b: Mat<f64>, shifts: Vec<i32>, rel_tol: f64, par: Par) -> Self {
        use faer::linalg::qr::col_pivoting::factor as cp;
        let (m, n) = b.shape();
        let size = m.min(n);
        let bs = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(m, n);
        let mut coeff = Mat::<f64>::zeros(bs, size);
        let mut fwd = vec![0usize; n];
        let mut bwd = vec![0usize; n];
        let mut mem = MemBuffer::new(cp::qr_in_place_scratch::<usize, f64>(
            m,
            n,
            bs,
            par,
            Default::default(),
        ));
        cp::qr_in_place(
            b.as_mut(),
            coeff.as_mut(),
            &mut fwd,
            &mut bwd,
            par,
            MemStack::new(&mut mem),
            Default::default(),
        );
        let r00 = if size > 0 { b[(0, 0)].abs() } else { 0.0 };
        let mut tri = TriangularFactor {
            r: b,
            perm: fwd,
            rank: 0,
            threshold: rel_tol * r00,
            shifts,
        };
        let trailing_q = if r00 > 0.0 {
            tri.decide_rank(true)
        } else {
            None
        };
        let signs = tri.make_diagonal_nonnegative();
        PivotedQr {
            tri,
            coeff,
            trailing_q,
            signs,
        }
    }

    /// The first `rank` columns of `Q` (`m × rank`), formed on one thread: faer's blocked
    /// application of the Householder sequence splits its work by the thread count, and on
    /// 3 threads the scores of a 200 × 5 matrix came out 1–3 ulp apart from 1 thread's
    /// (`tests/leverage.rs`, `results_do_not_depend_on_the_thread_count`).
    fn thin_q(&self) -> Mat<f64> {
        let m = self.tri.r.nrows();
        let basis = self.householder_basis();
        // `[I; 0]`, or `diag(I_k, Q₂)`'s first columns after a repair: `Q̂ = Q·diag(I_k, Q₂)`.
        let mut q = Mat::<f64>::zeros(m, self.tri.rank);
        let k = self
            .trailing_q
            .as_ref()
            .map_or(self.tri.rank, |&(k, _)| k.min(self.tri.rank));
        for j in 0..k {
            q[(j, j)] = 1.0;
        }
        if let Some((k, q2)) = &self.trailing_q {
            for j in *k..self.tri.rank {
                for i in 0..q2.nrows() {
                    q[(k + i, j)] = q2[(i, j - k)];
                }
            }
        }
        for (j, &s) in self.signs.iter().enumerate().take(self.tri.rank) {
            if s < 0.0 {
                for i in 0..m {
                    q[(i, j)] = -q[(i, j)];
                }
            }
        }
        use faer::linalg::householder as hh;
        let mut mem = MemBuffer::new(
            hh::apply_block_householder_sequence_on_the_left_in_place_scratch::<f64>(
                m,
                self.coeff.nrows(),
                self.tri.rank,
            ),
        );
        hh::apply_block_householder_sequence_on_the_left_in_place_with_conj(
            basis.as_ref(),
            self.coeff.as_ref(),
            faer::Conj::No,
            q.as_mut(),
            Par::Seq,
            MemStack::new(&mut mem),
        );
        q
    }

    /// The Householder vectors (`m × min(m, d)`, unit diagonal) for faer's block routines.
    fn householder_basis(&self) -> Mat<f64> {
        let (m, n) = self.tri.r.shape();
        let size = m.min(n);
        let mut basis = Mat::<f64>::zeros(m, size);
        for j in 0..size {
            basis[(j, j)] = 1.0;
            for i in j + 1..m {
                basis[(i, j)] = self.tri.r[(i, j)];
            }
        }
        basis
    }

    /// The first `min(m, d)` rows of `Q̂ᵀ·Π` (`Q̂` the full orthogonal factor), for the `m × k`
    /// Gaussian `Π` that [`gaussian`] draws from `seed`: the coordinates of `Π` in the thin
    /// `Q̂`. Columns are drawn and transformed in fixed chunks of [`JL_CHUNK`], each on one
    /// thread (faer's blocked application splits its work by the thread count, see
    /// [`PivotedQr::thin_q`]), so the bits do not depend on `par`.
    fn jl_in_basis(&self, k: usize, seed: Seed, par: Par) -> Mat<f64> {
        let (m, d) = self.tri.r.shape();
        let rows = m.min(d);
        let basis = self.householder_basis();
        use faer::linalg::householder as hh;
        let chunk = |c0: usize| -> Mat<f64> {
            let c1 = (c0 + JL_CHUNK).min(k);
            let mut x = gaussian_columns(m, k, c0..c1, seed);
            let mut mem =
                MemBuffer::new(
                    hh::apply_block_householder_sequence_transpose_on_the_left_in_place_scratch::<
                        f64,
                    >(m, self.coeff.nrows(), c1 - c0),
                );
            hh::apply_block_householder_sequence_transpose_on_the_left_in_place_with_conj(
                basis.as_ref(),
                self.coeff.as_ref(),
                faer::Conj::No,
                x.as_mut(),
                Par::Seq,
                MemStack::new(&mut mem),
            );
            x
        };
        let starts: Vec<usize> = (0..k).step_by(JL_CHUNK).collect();
        let parts: Vec<Mat<f64>> = if crate::dense::tasks(par) > 1 {
            starts.par_iter().map(|&c0| chunk(c0)).collect()
        } else {
            starts.iter().map(|&c0| chunk(c0)).collect()
        };
        let mut out = Mat::<f64>::zeros(rows, k);
        for (&c0, part) in starts.iter().zip(&parts) {
            out.as_mut()
                .submatrix_mut(0, c0, rows, part.ncols())
                .copy_from(part.as_ref().submatrix(0, 0, rows, part.ncols()));
        }
        // After a repair `Q̂ᵀ = diag(I, Q₂ᵀ)·Qᵀ`: rows `k..` are mixed by `Q₂ᵀ`, column by
        // column in a fixed order.
        if let Some((k0, q2)) = &self.trailing_q {
            let t = q2.nrows();
            let mut y = vec![0.0; t];
            for c in 0..k {
                for (i, yi) in y.iter_mut().enumerate() {
                    *yi = (0..t).fold(0.0, |acc, l| acc + q2[(l, i)] * out[(k0 + l, c)]);
                }
                for (i, &yi) in y.iter().enumerate() {
                    out[(k0 + i, c)] = yi;
                }
            }
        }
        for (i, &s) in self.signs.iter().enumerate() {
            if s < 0.0 {
                for c in 0..k {
                    out[(i, c)] = -out[(i, c)];
                }
            }
        }
        out
    }

    /// The R factor of `[R·Pᵀ/√ρ; √λ·I]` (`2d × d` when `R` is `d × d`), which is that of
    /// `[B/√ρ; √λ·I]` for the factored `B`. It is factored in this QR's scaled coordinates and
    /// column order, `[R_D/√ρ; √λ·D·P]` (`R_D` the factor of `B·D`, upper triangular in the
    /// pivot order), by [`triangular_over_diagonal_qr`]: without pivoting of its own, so that at
    /// a small `λ` the factor is this `R` (bit for bit at `λ = 10⁻³⁰⁰`) and the approximate
    /// ridge scores tend to the plain ones as `λ → 0` with the same JL matrix. Only where the
    /// first pivot at or below the threshold has a column with a residual above it after it
    /// (the ridge entries of the sketch's rank-deficient trailing columns, at a larger `λ`) is
    /// the trailing block pivoted, by [`TriangularFactor::decide_rank`]; each reflection only
    /// grows the diagonal entries it touches, so a pivot is never below its entry in `R_D·E/√ρ`
    /// (`E` the lowered shifts below) nor below its ridge entry. Its threshold is `rel_tol` times
    /// the largest column norm of the stacked matrix, the first pivot a pivoted QR of it would
    /// take. (Factored from scratch by faer's pivoted QR, as until 2026-12-07, the ridge factor
    /// of a rank-deficient sketch came in another column order than the sketch's wherever faer
    /// misordered the two differently near a hidden rank, and the JL coordinates made another
    /// draw: single scores 52 % apart at `λ = 10⁻³⁰⁰` on one of `tests/leverage_pivoting.rs`'s
    /// inputs; re-equilibrated from scratch, a rank-deficient `A` had its pivots reordered and
    /// single rows moved by 20 %.)
    ///
    /// A column whose ridge entry `√λ·D_jj` would reach 2 — a column of `B` small against
    /// `√λ` — has its shift lowered until that entry lies in `[1, 2)` (its `R_D` part shrinks
    /// with it), so that every column's largest entry is still of order 1, as in the
    /// equilibration of `[B; √λI]` from scratch. Kept at `D_jj`, a column `10⁻¹⁴` times the
    /// others (against `λ = 1`) had a ridge entry `≈ 10¹⁴` times every other pivot, the rank
    /// test `|R_kk| > tol·|R_00|` dropped the other columns, and the approximate ridge scores
    /// of a `4000 × 3` matrix summed to `10⁻²⁸` where `d_λ ≈ 2`.
    ///
    /// Sequential on small `d`; its `O(d³)` update is split by columns over `par`'s threads
    /// from `d =` [`RIDGE_PAR_COLUMNS`], each column computed alike, so the bits do not depend
    /// on the thread count.
    fn ridge_factor(&self, rho: f64, lambda: f64, rel_tol: f64, par: Par) -> TriangularFactor {
        let d = self.tri.r.ncols();
        let k = self.tri.r.nrows().min(d);
        let (scale, sl) = (1.0 / rho.sqrt(), lambda.sqrt());
        // √λ·2^cap ∈ [1, 2).
        let cap = -exponent(sl);
        let shifts: Vec<i32> = self.tri.shifts.iter().map(|&s| s.min(cap)).collect();
        let mut top = Mat::<f64>::zeros(d, d);
        let mut ridge = vec![0.0; d];
        for (p, &col) in self.tri.perm.iter().enumerate() {
            let lower = shifts[col] - self.tri.shifts[col];
            for i in 0..k.min(p + 1) {
                top[(i, p)] = mul_pow2(scale * self.tri.r[(i, p)], lower);
            }
            ridge[p] = mul_pow2(sl, shifts[col]);
        }
        let largest = (0..d)
            .map(|p| {
                top.col(p)
                    .subrows(0, k.min(p + 1))
                    .norm_l2()
                    .hypot(ridge[p])
            })
            .fold(0.0, f64::max);
        let mut tri = TriangularFactor {
            r: triangular_over_diagonal_qr(top, &ridge, par),
            perm: self.tri.perm.clone(),
            rank: 0,
            threshold: rel_tol * largest,
            shifts,
        };
        if largest > 0.0 {
            // The trailing block's orthogonal factor is not needed: the scores use `R` only.
            tri.decide_rank(false);
        }
        tri.make_diagonal_nonnegative();
        tri
    }
}

impl TriangularFactor {
    /// Sets [`rank`](Self::rank) to the number of leading pivots above the threshold, after
    /// repairing the pivot order where [`misplaced_pivots`](Self::misplaced_pivots) finds a
    /// column out of place ([`repivot_trailing`](Self::repivot_trailing)); returns the
    /// repair's `(k, Q₂)` when `want_q` (a ridge factor, used through `R` alone, does not).
    fn decide_rank(&mut self, want_q: bool) -> Option<(usize, Mat<f64>)> {
        let repair = self
            .misplaced_pivots()
            .and_then(|k| self.repivot_trailing(k, want_q).map(|q2| (k, q2)));
        self.rank = self.leading_pivots_above(self.threshold);
        repair
    }

    /// Multiplies each row `i` of `R` with `R_ii < 0` by `−1`; returns the signs applied.
    fn make_diagonal_nonnegative(&mut self) -> Vec<f64> {
        let (m, n) = self.r.shape();
        let mut signs = vec![1.0; m.min(n)];
        for (i, sign) in signs.iter_mut().enumerate() {
            if self.r[(i, i)] < 0.0 {
                *sign = -1.0;
                for j in i..n {
                    self.r[(i, j)] = -self.r[(i, j)];
                }
            }
        }
        signs
    }

    /// The number of leading diagonal entries of `R` above `threshold` in magnitude.
    fn leading_pivots_above(&self, threshold: f64) -> usize {
        let size = self.r.nrows().min(self.r.ncols());
        (0..size)
            .take_while(|&k| self.r[(k, k)].abs() > threshold)
            .count()
    }

    /// `Some(k)` when `k` is the first pivot at or below the threshold and a column after it
    /// still has a residual above the threshold: its exact residual norm after the first `k`
    /// reflections, `‖R[k..=j, j]‖` for column `j` of `B·P`, read off `R`. `O(d·min(n, d))`.
    fn misplaced_pivots(&self) -> Option<usize> {
        let (m, n) = self.r.shape();
        let size = m.min(n);
        let k = self.leading_pivots_above(self.threshold);
        if k >= size {
            return None;
        }
        let misplaced = (k + 1..n).any(|j| {
            let rows = (j + 1).min(size) - k;
            self.r.col(j).subrows(k, rows).norm_l2() > self.threshold
        });
        misplaced.then_some(k)
    }

    /// Factors the trailing block again with exact pivoting: `R₂₂·Π₂ = Q₂·R₂₂'`
    /// ([`crate::dense::exact_pivoted_qr`], norms recomputed at every step), for
    /// `R = [R₁₁ R₁₂; 0 R₂₂]` split after the first `k` pivots, so that
    /// `B·P·diag(I, Π₂) = Q·diag(I, Q₂)·[R₁₁ R₁₂Π₂; 0 R₂₂']`. `R` and the permutation are
    /// updated in place (what lies below the diagonal stays: a [`PivotedQr`]'s Householder
    /// vectors, which are `Q`'s) and, when `want_q`, `Q₂` is returned, for
    /// [`PivotedQr::thin_q`] and [`PivotedQr::jl_in_basis`]. Sequential: the bits do not
    /// depend on the thread count. `O(t²·(d − k))` for the `t = min(n, d) − k` trailing rows
    /// (`O(t³)` more for `Q₂`); only when [`misplaced_pivots`](Self::misplaced_pivots) finds a
    /// misplaced pivot.
    fn repivot_trailing(&mut self, k: usize, want_q: bool) -> Option<Mat<f64>> {
        let (m, n) = self.r.shape();
        let size = m.min(n);
        let t = size - k;
        let mut r22 = Mat::from_fn(
            t,
            n - k,
            |i, j| {
                if i <= j {
                    self.r[(k + i, k + j)]
                } else {
                    0.0
                }
            },
        );
        let (order, q2) = crate::dense::exact_pivoted_qr(&mut r22, want_q);
        let r12 = Mat::from_fn(k, n - k, |i, j| self.r[(i, k + order[j])]);
        for j in 0..n - k {
            for i in 0..k {
                self.r[(i, k + j)] = r12[(i, j)];
            }
            for i in 0..=j.min(t - 1) {
                self.r[(k + i, k + j)] = r22[(i, j)];
            }
        }
        let tail: Vec<usize> = order.iter().map(|&o| self.perm[k + o]).collect();
        self.perm[k..].copy_from_slice(&tail);
        q2
    }

    /// `R₁₁⁻¹·rhs` for an `r × k` right-hand side, scattered to the `d × k` matrix
    /// `P₁·R₁₁⁻¹·rhs` (row `perm[p]` receives row `p`).
    fn solve_scatter(&self, mut rhs: Mat<f64>, par: Par) -> Mat<f64> {
        let r = self.rank;
        let r11 = self.r.as_ref().submatrix(0, 0, r, r);
        let par = crate::dense::par_for_result(par, r, rhs.ncols());
        faer::linalg::triangular_solve::solve_upper_triangular_in_place(r11, rhs.as_mut(), par);
        let mut out = Mat::<f64>::zeros(self.r.ncols(), rhs.ncols());
        for p in 0..r {
            for c in 0..rhs.ncols() {
                out[(self.perm[p], c)] = mul_pow2(rhs[(p, c)], self.shifts[self.perm[p]]);
            }
        }
        out
    }
}

/// The order of `d` from which [`triangular_over_diagonal_qr`] splits each reflection's update
/// by columns over the threads `par` allows.
const RIDGE_PAR_COLUMNS: usize = 256;

/// The R factor (`d × d`, upper triangular) of `[T; diag(ridge)]` for an upper-triangular
/// `d × d` `T`, in `T`'s column order. Reflection `j` combines `T_jj` with the first `j + 1`
/// rows of the lower block, the rows that the earlier reflections filled in (the lower block
/// stays upper triangular, as in LAPACK's triangular-pentagonal QR `dtpqrt`): it maps
/// `x = (T_jj, L[0..=j, j])` to `−sign(T_jj)·‖x‖·e₀` with `v = x/‖x‖ + sign(T_jj)·e₀`, so no
/// square of an entry under- or overflows. About `(2/3)·d³` flops, against `(10/3)·d³` for a
/// dense QR of the `2d × d` stack. The update of the columns after `j` is split by columns when
/// `d ≥` [`RIDGE_PAR_COLUMNS`] and `par` has threads; each column's arithmetic is the same
/// either way, so the bits do not depend on the thread count.
fn triangular_over_diagonal_qr(t: Mat<f64>, ridge: &[f64], par: Par) -> Mat<f64> {
    let d = t.ncols();
    let len = 2 * d;
    // Column `c` of the stack: `T[.., c]`, then `L[.., c]`.
    let mut stack = vec![0.0; len * d];
    for (c, col) in stack.chunks_exact_mut(len).enumerate() {
        for (i, x) in col.iter_mut().enumerate().take(c + 1) {
            *x = t[(i, c)];
        }
        col[d + c] = ridge[c];
    }
    let threads = d >= RIDGE_PAR_COLUMNS && crate::dense::tasks(par) > 1;
    let mut buf = vec![0.0; d + 1];
    for j in 0..d {
        let (head, rest) = stack.split_at_mut((j + 1) * len);
        let col = &mut head[j * len..];
        let tj = col[j];
        let lj = &col[d..=d + j];
        let norm = faer::ColRef::from_slice(lj).norm_l2().hypot(tj);
        if norm == 0.0 {
            continue;
        }
        let sign = if tj < 0.0 { -1.0 } else { 1.0 };
        buf[0] = tj / norm + sign;
        for (vi, &x) in buf[1..].iter_mut().zip(lj) {
            *vi = x / norm;
        }
        let v = &buf[..j + 2];
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let reflect = |c: &mut [f64]| {
            let (tc, lc) = c.split_at_mut(d);
            let dot = v[1..]
                .iter()
                .zip(&lc[..=j])
                .fold(v[0] * tc[j], |acc, (a, b)| acc + a * b);
            let f = 2.0 * dot / vv;
            tc[j] -= f * v[0];
            for (x, &vi) in lc[..=j].iter_mut().zip(&v[1..]) {
                *x -= f * vi;
            }
        };
        if threads {
            rest.par_chunks_mut(len).for_each(reflect);
        } else {
            rest.chunks_mut(len).for_each(reflect);
        }
        col[j] = -sign * norm;
    }
    Mat::from_fn(d, d, |i, c| if i <= c { stack[c * len + i] } else { 0.0 })
}

/// `[√λ·I; B]` (or `B` itself when `λ = 0`): the heavy rows first. Householder QR is row-wise
/// accurate only when rows of large norm come before small ones (Cox & Higham, "Stability of
/// Householder QR factorization for weighted least squares problems", 1998); stacked as
/// `[B; √λ·I]`, the scores `τ_i` of the first `d` rows of a `300 × 5` Gaussian `B` lost
/// relative accuracy like `ε·√λ/‖B‖` (5e-9 at `λ = 10¹⁶`, 73 % at `10³⁴`), and a `B ≈ 10⁻³⁰⁰`
/// against `λ = 1` gave one row the score `ε²` where every `τ_i ≈ 10⁻⁶⁰⁰` is 0.
fn augment(b: Mat<f64>, lambda: f64) -> Mat<f64> {
    if lambda == 0.0 {
        return b;
    }
    let (m, d) = b.shape();
    let sl = lambda.sqrt();
    Mat::from_fn(m + d, d, |i, j| {
        if i >= d {
            b[(i - d, j)]
        } else if i == j {
            sl
        } else {
            0.0
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Streaming products A·M by row blocks

/// Row access to `A`: dense, or CSR (a CSC input is converted once).
#[derive(Clone, Copy)]
enum Rows<'a> {
    Dense(MatRef<'a, f64>),
    Csr(SparseRef<'a, f64>),
}

/// Calls `f` with row access to `a`, converting CSC to an owned CSR copy for the duration.
fn with_rows<R>(
    a: MatrixRef<'_, f64>,
    par: Par,
    f: impl FnOnce(Rows<'_>) -> Result<R>,
) -> Result<R> {
    match a {
        MatrixRef::Dense(d) => f(Rows::Dense(d)),
        MatrixRef::Sparse(s) if s.layout() == Layout::Csr => f(Rows::Csr(s)),
        MatrixRef::Sparse(s) => {
            let csr = OwnedCsr::from_csc(&s, par)?;
            let view =
                SparseRef::try_csr(s.nrows(), s.ncols(), &csr.indptr, &csr.indices, &csr.data)?;
            f(Rows::Csr(view))
        }
    }
}

impl Rows<'_> {
    fn nrows(&self) -> usize {
        match self {
            Rows::Dense(a) => a.nrows(),
            Rows::Csr(s) => s.nrows(),
        }
    }

    /// `out = A[lo..hi, :]·M` into a row-major `(hi − lo) × k` buffer; `m_rows` is `M` (`d × k`)
    /// in row-major order. Each output row is computed independently of the partition.
    fn product(
        &self,
        lo: usize,
        hi: usize,
        m: MatRef<'_, f64>,
        m_rows: &[f64],
        out: &mut [f64],
        par: Par,
    ) {
        let k = m.ncols();
        match self {
            Rows::Dense(a) => {
                let dst = MatMut::from_row_major_slice_mut(out, hi - lo, k);
                let par = crate::dense::par_for_result(par, hi - lo, k);
                matmul(dst, Accum::Replace, a.subrows(lo, hi - lo), m, 1.0, par);
            }
            Rows::Csr(s) => {
                let m_row = |j: usize| &m_rows[j * k..(j + 1) * k];
                let run = |(t, chunk): (usize, &mut [f64])| {
                    for (r, row) in chunk.chunks_mut(k).enumerate() {
                        row.fill(0.0);
                        let (idx, val) = s.outer(lo + t * ROW_CHUNK + r);
                        // Four nonzeros per sweep over the output row: a quarter of the loads
                        // and stores of `row` (the pass is bound by them, not by the multiplies).
                        let mut quads = idx.chunks_exact(4).zip(val.chunks_exact(4));
                        for (j, v) in quads.by_ref() {
                            let (a, b, c, d) = (m_row(j[0]), m_row(j[1]), m_row(j[2]), m_row(j[3]));
                            for ((((o, &xa), &xb), &xc), &xd) in
                                row.iter_mut().zip(a).zip(b).zip(c).zip(d)
                            {
                                *o += v[0] * xa + v[1] * xb + v[2] * xc + v[3] * xd;
                            }
                        }
                        let tail = idx.len() - idx.len() % 4;
                        for (&j, &v) in idx[tail..].iter().zip(&val[tail..]) {
                            for (o, &x) in row.iter_mut().zip(m_row(j)) {
                                *o += v * x;
                            }
                        }
                    }
                };
                if matches!(par, Par::Seq) {
                    out.chunks_mut(ROW_CHUNK * k).enumerate().for_each(run);
                } else {
                    out.par_chunks_mut(ROW_CHUNK * k).enumerate().for_each(run);
                }
            }
        }
    }

    /// Calls `f(lo, block)` for consecutive row blocks of `A·M`, `block` row-major `(hi−lo) × k`.
    fn for_each_block(&self, m: MatRef<'_, f64>, par: Par, mut f: impl FnMut(usize, &[f64])) {
        let (n, k) = (self.nrows(), m.ncols());
        if k == 0 {
            return;
        }
        let m_rows: Vec<f64> = (0..m.nrows())
            .flat_map(|i| (0..k).map(move |c| m[(i, c)]))
            .collect();
        let mut buf = vec![0.0; BLOCK_ROWS.min(n) * k];
        let mut lo = 0;
        while lo < n {
            let hi = (lo + BLOCK_ROWS).min(n);
            let out = &mut buf[..(hi - lo) * k];
            self.product(lo, hi, m, &m_rows, out, par);
            f(lo, out);
            lo = hi;
        }
    }

    /// `scores[i] = scale·‖e_iᵀ A·M‖²`.
    fn row_norms(&self, m: MatRef<'_, f64>, scale: f64, par: Par) -> Vec<f64> {
        let n = self.nrows();
        let k = m.ncols();
        let mut scores = vec![0.0; n];
        self.for_each_block(m, par, |lo, block| {
            let dst = &mut scores[lo..lo + block.len() / k];
            let run = |(s, row): (&mut f64, &[f64])| {
                *s = scale * row.iter().map(|x| x * x).sum::<f64>();
            };
            if matches!(par, Par::Seq) {
                dst.iter_mut().zip(block.chunks(k)).for_each(run);
            } else {
                dst.par_iter_mut().zip(block.par_chunks(k)).for_each(run);
            }
        });
        scores
    }
}

// ---------------------------------------------------------------------------------------------
// Drivers

fn info(
    method: LeverageMethod,
    a: &MatrixRef<'_, f64>,
    scores: &[f64],
    lambda: f64,
    start: Instant,
) -> LeverageInfo {
    LeverageInfo {
        method,
        n: a.nrows(),
        d: a.ncols(),
        nnz: a.nnz(),
        rank: 0,
        rank_threshold: 0.0,
        lambda,
        // From `+0.0`: `Sum` starts from `-0.0` (bitwise the same for any other total).
        sum: scores.iter().fold(0.0, |s, x| s + x),
        max: scores.iter().copied().fold(0.0, f64::max),
        sketch_rows: 0,
        jl_dim: 0,
        debias_factor: 1.0,
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn exact_impl(
    a: MatrixRef<'_, f64>,
    lambda: f64,
    params: &ExactParams,
    par: Par,
) -> Result<(Vec<f64>, LeverageInfo)> {
    let par = crate::dense::bounded(par);
    let start = Instant::now();
    check_input(&a, lambda)?;
    let (n, d) = (a.nrows(), a.ncols());
    let use_householder = match params.method {
        ExactMethod::Householder => true,
        ExactMethod::SketchCholesky => false,
        ExactMethod::Auto => {
            n.saturating_mul(d) <= HOUSEHOLDER_LIMIT || n <= PRECOND_FACTOR.saturating_mul(d)
        }
    };
    if use_householder {
        householder(a, lambda, params, par, start)
    } else {
        sketch_cholesky(a, lambda, params, par, start)
    }
}

fn householder(
    a: MatrixRef<'_, f64>,
    lambda: f64,
    params: &ExactParams,
    par: Par,
    start: Instant,
) -> Result<(Vec<f64>, LeverageInfo)> {
    let (n, d) = (a.nrows(), a.ncols());
    let entries = (n as u128 + if lambda > 0.0 { d as u128 } else { 0 }).saturating_mul(d as u128);
    Error::within(entries, 1 << 31, || {
        format!("a dense copy of the {n}×{d} matrix for Householder QR")
    })?;
    let tol = rank_tol(params.rank_tol, n, d)?;
    let dense = a.to_dense()?;
    // A zero row's score is exactly 0 (`e_iᵀA = 0`), but its row of the computed `Q` holds
    // rounding (≈ 10⁻³³ on a 100 × 2 matrix), which made it a row of positive leverage for a
    // caller that tests `ℓ_i > 0` (the leverage example's `--check` reported a relative error
    // of 1 there); the sketch-Cholesky route's `‖e_iᵀA·T‖²` is already exactly 0.
    let mut nonzero_row = vec![false; n];
    for j in 0..d {
        for (i, seen) in nonzero_row.iter_mut().enumerate() {
            *seen |= dense[(i, j)] != 0.0;
        }
    }
    let b = augment(dense, lambda);
    let qr = PivotedQr::new(b, tol, par);
    let q = qr.thin_q();
    // `fold` from `+0.0`, not `sum`: `f64`'s `Sum` starts from `-0.0`, which a rank-0 `A`
    // (no columns of `Q`) would return as its scores, printed as `-0`.
    // The rows of `A` follow the `d` rows of `√λI` in the stacked matrix (see [`augment`]).
    let top = if lambda > 0.0 { d } else { 0 };
    let scores: Vec<f64> = (top..top + n)
        .zip(&nonzero_row)
        .map(|(i, &nonzero)| {
            if nonzero {
                (0..qr.tri.rank).fold(0.0, |s, c| s + q[(i, c)] * q[(i, c)])
            } else {
                0.0
            }
        })
        .collect();
    let mut inf = info(LeverageMethod::Householder, &a, &scores, lambda, start);
    inf.rank = qr.tri.rank;
    inf.rank_threshold = qr.tri.threshold;
    Ok((scores, inf))
}

fn sketch_cholesky(
    a: MatrixRef<'_, f64>,
    lambda: f64,
    params: &ExactParams,
    par: Par,
    start: Instant,
) -> Result<(Vec<f64>, LeverageInfo)> {
    let (n, d) = (a.nrows(), a.ncols());
    let m1 = PRECOND_FACTOR.saturating_mul(d);
    check_work(
        || format!("the {m1}×{d} preconditioning sketch"),
        m1.saturating_add(d),
        d,
    )?;
    if let Some(copy) = Rescaled::of(&a, lambda)? {
        let (scores, inf) = sketch_cholesky(copy.view(&a), copy.lambda, params, par, start)?;
        return Ok((scores, copy.restore(inf, lambda, start)));
    }
    let s = SparseSign::new(
        m1,
        n,
        SparseSign::DEFAULT_NNZ_PER_COL.min(m1),
        params.seed.derive(STREAM_PRECOND),
    )?;
    let tol = rank_tol(params.rank_tol, n, d)?;
    let b = augment(s.apply(a, par)?, lambda);
    let qr = PivotedQr::new(b, tol, par);
    let r = qr.tri.rank;
    let scores = if r == 0 {
        crate::input::filled_or_too_large(n, 0.0, "leverage scores")?
    } else {
        // W = P₁R₁₁⁻¹ (d × r).
        let w = qr.tri.solve_scatter(Mat::identity(r, r), par);
        with_rows(a, par, |rows| {
            // Pass 1: G = WᵀAᵀAW (+ λWᵀW), accumulated block by block in row order.
            let mut g = Mat::<f64>::zeros(r, r);
            rows.for_each_block(w.as_ref(), par, |_, block| {
                let y = MatRef::from_row_major_slice(block, block.len() / r, r);
                // Lower triangle only (all that Cholesky reads): half the flops of a full product.
                faer::linalg::matmul::triangular::matmul(
                    g.as_mut(),
                    BlockStructure::TriangularLower,
                    Accum::Add,
                    y.transpose(),
                    BlockStructure::Rectangular,
                    y,
                    BlockStructure::Rectangular,
                    1.0,
                    crate::dense::par_for_result(par, r, r),
                );
            });
            if lambda > 0.0 {
                // (√λW)ᵀ(√λW), not λ·(WᵀW): where λ dominates AᵀA, WᵀW ≈ 1/λ, which overflows
                // for λ < 1/f64::MAX (a tiny λ against a tiny A) while √λW ≈ 1.
                let sw = Mat::from_fn(w.nrows(), w.ncols(), |i, j| lambda.sqrt() * w[(i, j)]);
                matmul(
                    g.as_mut(),
                    Accum::Add,
                    sw.transpose(),
                    sw.as_ref(),
                    1.0,
                    crate::dense::par_for_result(par, r, r),
                );
            }
            let l = cholesky_lower(g)?;
            // T = W·L⁻ᵀ: solve L·Tᵀ = Wᵀ.
            let mut tt = w.transpose().to_owned();
            let tri_par = crate::dense::par_for_result(par, tt.nrows(), tt.ncols());
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(
                l.as_ref(),
                tt.as_mut(),
                tri_par,
            );
            // Pass 2: ℓ_i = ‖e_iᵀ A·T‖².
            Ok(rows.row_norms(tt.transpose(), 1.0, par))
        })?
    };
    let mut inf = info(LeverageMethod::SketchCholesky, &a, &scores, lambda, start);
    inf.rank = r;
    inf.rank_threshold = qr.tri.threshold;
    inf.sketch_rows = m1;
    Ok((scores, inf))
}

/// The lower Cholesky factor of a symmetric positive definite matrix (lower triangle read).
fn cholesky_lower(mut g: Mat<f64>) -> Result<Mat<f64>> {
    use faer::linalg::cholesky::llt::factor as llt;
    let n = g.nrows();
    let mut mem = MemBuffer::new(llt::cholesky_in_place_scratch::<f64>(
        n,
        Par::Seq,
        Default::default(),
    ));
    llt::cholesky_in_place(
        g.as_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .map_err(|e| Error::Factorization {
        reason: format!(
            "Cholesky of the preconditioned Gram matrix failed ({e:?}): A is numerically rank \
             deficient beyond what the sketch detected; use ExactMethod::Householder"
        ),
    })?;
    for j in 0..n {
        for i in 0..j {
            g[(i, j)] = 0.0;
        }
    }
    Ok(g)
}

fn approx_impl(
    a: MatrixRef<'_, f64>,
    lambda: f64,
    params: &ApproxParams,
    seed: Seed,
    par: Par,
) -> Result<(Vec<f64>, LeverageInfo)> {
    let par = crate::dense::bounded(par);
    let start = Instant::now();
    check_input(&a, lambda)?;
    let (n, d) = (a.nrows(), a.ncols());
    let s1 = params.sketch(n, d, seed)?;
    let m1 = params.sketch_rows_for(d);
    // Before the size checks of the sketched path: a wide `A` (n ≤ m₁ = 10d by default) takes
    // the exact route, whose work does not involve the m₁ × d sketch.
    if n <= m1 {
        let exact = ExactParams {
            rank_tol: params.rank_tol,
            ..ExactParams::default()
        };
        return exact_impl(a, lambda, &exact, par);
    }
    check_work(
        || format!("the {m1}×{d} sketch S₁A"),
        m1.saturating_add(d),
        d,
    )?;
    check_work(
        || format!("the JL factor with r₂ = {} columns", params.jl_dim),
        params.jl_dim,
        d.max(BLOCK_ROWS),
    )?;
    if let Some(copy) = Rescaled::of(&a, lambda)? {
        let (scores, inf) = approx_impl(copy.view(&a), copy.lambda, params, seed, par)?;
        return Ok((scores, copy.restore(inf, lambda, start)));
    }
    // The tolerance of A itself, not of the m₁-row sketch: the sketch's pivots approximate those
    // of A (within the sandwich factors), so the rank agrees with the exact routes'.
    let tol = rank_tol(params.rank_tol, n, d)?;
    let sketch_qr = PivotedQr::new(s1.apply(a, par)?, tol, par);
    let jl = jl_factor(&sketch_qr, params.jl_dim, seed, par)?;
    // ρ = (m₁ − d̂_λ − 1)/m₁ with d̂_λ the statistical dimension of the sketch (its rank at λ = 0).
    let (qr, debias) = if lambda == 0.0 {
        let r = sketch_qr.tri.rank;
        let rho = if params.debias {
            debias_factor(m1, d, r as f64, "r", || format!("{r}, the rank of S₁A"))?
        } else {
            1.0
        };
        (sketch_qr.tri, rho)
    } else {
        // [S₁A; √λI] and [R_s·Pᵀ; √λI] have the same R factor (up to signs and the column
        // order); the sketched Gram is divided by ρ (inside the inverse) to remove the
        // inversion bias.
        let unscaled = sketch_qr.ridge_factor(1.0, lambda, tol, par);
        let ru = unscaled.rank;
        let inv = unscaled.solve_scatter(Mat::identity(ru, ru), par);
        // d̂_λ = r − λ·tr((RᵀR)⁻¹) = r − λ·‖P₁R⁻¹‖²_F. A column far below √λ has a row of P₁R⁻¹
        // near 1/√λ, whose square overflows for λ below ≈ 1/f64::MAX (a column of 10⁻¹⁷⁰ at
        // λ = 10⁻³²⁰: ‖·‖² ≈ 10³²⁰ = ∞, d̂_λ read as 0 and ρ = (m₁ − 1)/m₁ instead of
        // (m₁ − 3)/m₁); ‖√λ·P₁R⁻¹‖² is of order 1 there. The plain product is kept where it is
        // finite, so that the bits of every other input stay as they were.
        let sq = inv.squared_norm_l2();
        let penalty = if sq.is_finite() {
            lambda * sq
        } else {
            let sl = lambda.sqrt();
            Mat::from_fn(inv.nrows(), inv.ncols(), |i, j| sl * inv[(i, j)]).squared_norm_l2()
        };
        let d_hat = (ru as f64 - penalty).max(0.0);
        let rho = if params.debias {
            debias_factor(m1, d, d_hat, "d̂_λ", || {
                format!("{d_hat:.6}, the statistical dimension of S₁A at λ = {lambda:e}")
            })?
        } else {
            1.0
        };
        if rho == 1.0 {
            (unscaled, 1.0)
        } else {
            (sketch_qr.ridge_factor(rho, lambda, tol, par), rho)
        }
    };
    let r = qr.rank;
    let k = if params.jl_dim == 0 { r } else { params.jl_dim };
    // At λ = 0 the bias is removed by scaling the scores by ρ; for λ > 0 it is inside R.
    let score_scale = if lambda == 0.0 { debias } else { 1.0 };
    let scores = if r == 0 {
        crate::input::filled_or_too_large(n, 0.0, "leverage scores")?
    } else {
        let rhs = match &jl {
            None => Mat::identity(r, r),
            Some(g) => jl_rows(g, r, k, seed),
        };
        let m = qr.solve_scatter(rhs, par);
        with_rows(a, par, |rows| {
            Ok(rows.row_norms(m.as_ref(), score_scale, par))
        })?
    };
    let mut inf = info(LeverageMethod::Approximate, &a, &scores, lambda, start);
    inf.rank = r;
    inf.rank_threshold = qr.threshold;
    inf.sketch_rows = m1;
    inf.jl_dim = params.jl_dim;
    inf.debias_factor = debias;
    Ok((scores, inf))
}

/// A copy of `A` rescaled by powers of two for the sketch routes, made only when `A` lies near
/// the ends of the `f64` range (beyond `2^±`[`SCALE_LIMIT`]): there `S·A` overflowed (entries
/// near `10³⁰⁷`, an error the caller could only avoid by rescaling), and for subnormal columns
/// the factor `P₁R₁₁⁻¹ ≈ 1/‖a_j‖` overflowed, which returned NaN scores as `Ok` (approximate)
/// or failed the Cholesky factorization as "rank deficient" (sketch-Cholesky).
///
/// At `λ = 0` every column is brought into `[1, 2)` (leverage scores do not depend on the
/// columns' units, [`ExactParams::rank_tol`]); for `λ > 0` only a common scale `2⁻ˢ` is
/// allowed, with `λ·2⁻²ˢ` in place of `λ` (`τ_i(cA, c²λ) = τ_i(A, λ)`), and `A`'s largest
/// entry is moved to `2^±SCALE_LIMIT` and no further (smaller columns keep their bits). The
/// shifts are exact except for entries that become subnormal, far below their column's (or
/// `A`'s) largest; the copy costs `O(nnz)` time and memory.
struct Rescaled {
    /// The scaled values: a dense copy, or the data of a sparse `A` (same structure).
    dense: Option<Mat<f64>>,
    data: Vec<f64>,
    /// The ridge parameter for the rescaled copy.
    lambda: f64,
}

impl Rescaled {
    /// The copy, or `None` when `A` is within range (or zero).
    fn of(a: &MatrixRef<'_, f64>, lambda: f64) -> Result<Option<Self>> {
        let d = a.ncols();
        let mut col_max = vec![0.0f64; d];
        match a {
            MatrixRef::Dense(m) => {
                for (j, c) in col_max.iter_mut().enumerate() {
                    *c = crate::scalar::max_abs((0..m.nrows()).map(|i| m[(i, j)]));
                }
            }
            MatrixRef::Sparse(sp) => {
                for k in 0..sp.outer_dim() {
                    let (idx, val) = sp.outer(k);
                    for (&i, &v) in idx.iter().zip(val) {
                        let j = if sp.layout() == Layout::Csr { i } else { k };
                        col_max[j] = col_max[j].max(v.abs());
                    }
                }
            }
        }
        let out_of_range = |x: f64| x != 0.0 && exponent(x).abs() > SCALE_LIMIT;
        // `shifts[j]`: column j is multiplied by 2^-shifts[j].
        let (shifts, new_lambda) = if lambda == 0.0 {
            if !col_max.iter().any(|&x| out_of_range(x)) {
                return Ok(None);
            }
            (
                col_max.iter().map(|&x| exponent(x)).collect::<Vec<_>>(),
                0.0,
            )
        } else {
            let top = col_max.iter().copied().fold(0.0, f64::max);
            let Some(mut s) = crate::scalar::shift_toward_range(top, SCALE_LIMIT, SCALE_LIMIT)
            else {
                return Ok(None);
            };
            // Scaling up (s < 0) multiplies λ by 2^{-2s}: keep it finite (a huge λ against a
            // tiny A gives scores that underflow anyway).
            s = s.max((exponent(lambda) - 1020).div_euclid(2) + 1);
            if s == 0 {
                return Ok(None);
            }
            // Scaling down may take λ below the smallest subnormal; it stays positive (a ridge,
            // negligible against A but not zero).
            let l = mul_pow2(lambda, -2 * s).max(f64::from_bits(1));
            (vec![s; d], l)
        };
        let (dense, data) = match a {
            MatrixRef::Dense(m) => {
                let mut c =
                    crate::input::zeros_or_too_large::<f64>(m.nrows(), d, "rescaled copy of A")?;
                for j in 0..d {
                    for i in 0..m.nrows() {
                        c[(i, j)] = mul_pow2(m[(i, j)], -shifts[j]);
                    }
                }
                (Some(c), Vec::new())
            }
            MatrixRef::Sparse(sp) => {
                let (_, _, vals) = sp.raw_parts();
                let mut data = crate::input::filled_or_too_large(
                    vals.len(),
                    0.0,
                    "values of the rescaled copy of A",
                )?;
                let mut pos = 0;
                for k in 0..sp.outer_dim() {
                    let (idx, val) = sp.outer(k);
                    for (&i, &v) in idx.iter().zip(val) {
                        let j = if sp.layout() == Layout::Csr { i } else { k };
                        data[pos] = mul_pow2(v, -shifts[j]);
                        pos += 1;
                    }
                }
                (None, data)
            }
        };
        Ok(Some(Rescaled {
            dense,
            data,
            lambda: new_lambda,
        }))
    }

    /// The copy, with the structure of `a` (the matrix it was made from).
    fn view<'s>(&'s self, a: &MatrixRef<'s, f64>) -> MatrixRef<'s, f64> {
        match (a, &self.dense) {
            (_, Some(m)) => MatrixRef::Dense(m.as_ref()),
            (MatrixRef::Sparse(sp), None) => {
                let (indptr, indices, _) = sp.raw_parts();
                MatrixRef::Sparse(SparseRef::from_valid_parts(
                    sp.layout(),
                    sp.nrows(),
                    sp.ncols(),
                    indptr,
                    indices,
                    &self.data,
                ))
            }
            (MatrixRef::Dense(m), None) => MatrixRef::Dense(*m),
        }
    }

    /// The diagnostics of the copy's scores, stated for `A` and `λ`.
    fn restore(&self, mut info: LeverageInfo, lambda: f64, start: Instant) -> LeverageInfo {
        info.lambda = lambda;
        info.seconds = start.elapsed().as_secs_f64();
        info
    }
}

/// The debiasing factor `ρ = (m₁ − d̂ − 1)/m₁` for a sketch of `m₁` rows of an `A` with `d`
/// columns at the dimension `d̂` (named `symbol` in messages, `value` saying what it is): the rank
/// `r` of `S₁A` at `λ = 0`, its statistical dimension `d̂_λ` for `λ > 0`. An error when
/// `m₁ < d̂ + 2`, i.e. `ρ < 1/m₁`.
///
/// The inverse-Wishart mean `m₁/(m₁ − r − 1)` behind `ρ` exists only for `m₁ > r + 1`; below it
/// there is no factor to apply, and returning the raw scores (a sketch of `m₁ = d` rows gave
/// `Σ ℓ̃ ≈ 10²–10³` for `d = 10`) under `debias = true` would hide that. For ridge scores the
/// bound is `m₁ ≥ d̂_λ + 2` rather than `m₁ > d̂_λ + 1`: `d̂_λ → r` from below as `λ → 0`, and
/// with `m₁ = r + 1` the weaker bound would accept a vanishing `ρ` (scores shrunk towards 0)
/// exactly where `λ = 0` is refused.
fn debias_factor(
    m1: usize,
    d: usize,
    d_hat: f64,
    symbol: &str,
    value: impl FnOnce() -> String,
) -> Result<f64> {
    let m1f = m1 as f64;
    if m1f - d_hat - 1.0 >= 1.0 {
        return Ok((m1f - d_hat - 1.0) / m1f);
    }
    Err(Error::param(
        "sketch_rows",
        format!(
            "m₁ = {m1} rows are too few to remove the inversion bias (debias = true): \
             ρ = (m₁ − {symbol} − 1)/m₁ needs m₁ ≥ {symbol} + 2, where {symbol} = {}; raise \
             sketch_rows (d + 2 = {} always suffices, 10d = {} is the default), or set \
             debias = false for the raw, upward-biased scores",
            value(),
            d.saturating_add(2),
            d.saturating_mul(ApproxParams::DEFAULT_SKETCH_FACTOR),
        ),
    ))
}

/// The JL matrix in the coordinates of the sketch's orthogonal factor: `Q̂ᵀ·Π` for an `m₁ × r₂`
/// Gaussian `Π` of `N(0, 1/r₂)` entries (`None` when `r₂ = 0`). Its rows are again iid
/// `N(0, 1/r₂)` (`Q̂` is orthogonal and independent of `Π`), so the estimator is DMMW's; but the
/// factor `P₁R₁₁⁻¹·(Q̂₁ᵀΠ)` is `(S₁A)⁺·Π` for a full-rank `A` whatever the pivot order and the
/// basis of `A`'s columns: the approximate scores of `A·G` (`G` invertible: other units, a
/// change of basis, a scale that moves the columns' power-of-two equilibration and with it the
/// pivot order) are those of `A`, up to rounding, for the same seed. (A JL matrix drawn in the
/// pivoted coordinates of `R` moved single scores by their JL noise, up to 0.7 relative on
/// 3000 rows, for `A → 3A`.) Cost `O(m₁·d·r₂)`, a few percent of the `O(nnz·r₂)` product.
fn jl_factor(qr: &PivotedQr, jl_dim: usize, seed: Seed, par: Par) -> Result<Option<Mat<f64>>> {
    if jl_dim == 0 {
        return Ok(None);
    }
    let m1 = qr.tri.r.nrows();
    check_work(|| format!("the {m1}×{jl_dim} JL matrix"), m1, jl_dim)?;
    Ok(Some(qr.jl_in_basis(jl_dim, seed.derive(STREAM_JL), par)))
}

/// Columns of the JL matrix drawn and transformed together by [`PivotedQr::jl_in_basis`].
const JL_CHUNK: usize = 16;

/// The first `r` rows of the JL factor `Q̂ᵀΠ` (`m₁ × k`); rows beyond `m₁` (a ridge rank
/// above a short sketch's row count) are fresh `N(0, 1/k)` rows of their own stream.
fn jl_rows(g: &Mat<f64>, r: usize, k: usize, seed: Seed) -> Mat<f64> {
    let m1 = g.nrows();
    let extra = (r > m1).then(|| gaussian(r, k, seed.derive(STREAM_JL_EXTRA)));
    Mat::from_fn(r, k, |i, j| match &extra {
        Some(e) if i >= m1 => e[(i, j)],
        _ => g[(i, j)],
    })
}

/// An `r × k` matrix of iid `N(0, 1/k)` entries; column `j` comes from `block_rng(0, j)`.
fn gaussian(r: usize, k: usize, seed: Seed) -> Mat<f64> {
    gaussian_columns(r, k, 0..k, seed)
}

/// Columns `cols` of [`gaussian`]`(r, k, seed)`.
fn gaussian_columns(r: usize, k: usize, cols: std::ops::Range<usize>, seed: Seed) -> Mat<f64> {
    let scale = 1.0 / (k as f64).sqrt();
    let mut g = Mat::<f64>::zeros(r, cols.len());
    for (c, j) in cols.enumerate() {
        let mut rng = seed.block_rng(0, j as u64);
        for i in 0..r {
            let v: f64 = StandardNormal.sample(&mut rng);
            g[(i, c)] = scale * v;
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `8 × 6` matrix of `tests/leverage_pivoting.rs` (the `solvers` fuzz target's), whose
    /// pivots faer takes out of order, so that [`PivotedQr::new`] repairs the factorization.
    fn misordered() -> Mat<f64> {
        let mut a = Mat::<f64>::zeros(8, 6);
        a[(3, 0)] = -1.268364592710738e-30;
        a[(4, 1)] = 3.5625;
        a[(4, 2)] = 3.5625;
        a[(1, 3)] = -8.0;
        a[(3, 3)] = -4.0545691207045516e13;
        a[(4, 3)] = 3.689053051559106e-289;
        a[(3, 4)] = 7.9375;
        a[(4, 4)] = -2.4375;
        a[(6, 5)] = 7.9375;
        a[(7, 5)] = 7.9375;
        a
    }

    /// After a repair the pieces still fit together: `Q̂` (the first `rank` columns from
    /// `thin_q`, the full `Q̂` from the JL coordinates of the identity) is orthonormal,
    /// `Q̂·R = B·D·P` to rounding (`B·D` the equilibrated input), the leading pivots are the
    /// ones above the threshold, and `jl_in_basis` is `Q̂ᵀ·Π` for the Gaussian `Π` it draws.
    #[test]
    fn the_repaired_factorization_is_a_qr_of_the_pivoted_input() {
        let a = misordered();
        let mut b = a.clone();
        crate::dense::equilibrate_columns(b.as_mut());
        let qr = PivotedQr::new(a.clone(), 8.0 * f64::EPSILON, Par::Seq);
        assert!(
            qr.trailing_q.is_some(),
            "faer pivots this input correctly now"
        );
        assert_eq!(qr.tri.rank, 4);
        let (m, n) = b.shape();
        let size = m.min(n);
        // The full Q̂ (m × size): its first `size` columns, as thin_q would give them.
        let full = PivotedQr {
            tri: TriangularFactor {
                r: qr.tri.r.clone(),
                perm: qr.tri.perm.clone(),
                rank: size,
                threshold: qr.tri.threshold,
                shifts: qr.tri.shifts.clone(),
            },
            coeff: qr.coeff.clone(),
            trailing_q: qr.trailing_q.clone(),
            signs: qr.signs.clone(),
        };
        let q = full.thin_q();
        let gram = q.transpose() * &q;
        for i in 0..size {
            for j in 0..size {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (gram[(i, j)] - want).abs() < 1e-14,
                    "QᵀQ ({i}, {j}) = {}",
                    gram[(i, j)]
                );
            }
        }
        let r = Mat::from_fn(size, n, |i, j| if i <= j { qr.tri.r[(i, j)] } else { 0.0 });
        let qr_product = &q * &r;
        let scale = b.norm_l2();
        for p in 0..n {
            for i in 0..m {
                let diff = (qr_product[(i, p)] - b[(i, qr.tri.perm[p])]).abs();
                assert!(diff <= 1e-14 * scale, "(Q̂R − BP)({i}, {p}) = {diff:e}");
            }
        }
        for k in 0..size {
            assert_eq!(
                k < qr.tri.rank,
                r[(k, k)].abs() > qr.tri.threshold,
                "pivot {k}: {}",
                r[(k, k)]
            );
        }
        let seed = Seed::new(5);
        let jl = qr.jl_in_basis(3, seed, Par::Seq);
        let want = q.transpose() * gaussian(m, 3, seed);
        for i in 0..size {
            for c in 0..3 {
                assert!((jl[(i, c)] - want[(i, c)]).abs() < 1e-14, "JL ({i}, {c})");
            }
        }
    }

    /// [`TriangularFactor::misplaced_pivots`] reads a column's residual as its whole norm on and
    /// below row `k`, not its diagonal entry alone: in `R = [[2, 0, 0], [0, 10⁻²⁰, 1],
    /// [0, 0, 10⁻²⁰]]` (threshold `10⁻¹⁰`: pivot 1 is the first at or below it) column 2 has
    /// the residual `‖R[1..=2, 2]‖ = 1` in row 1, above its own tiny pivot, as when faer takes a
    /// column of rounding-sized residual first. Pass rule: `Some(1)`, and
    /// [`TriangularFactor::decide_rank`] then re-pivots column 2 before column 1 and reports
    /// rank 2 with `|R₁₁| = 1`. Kills the residual measured by `|R_jj|` alone (`None`, rank 1).
    #[test]
    fn a_residual_above_a_small_diagonal_entry_counts_as_misplaced() {
        let mut r = Mat::<f64>::zeros(3, 3);
        (r[(0, 0)], r[(1, 1)], r[(1, 2)], r[(2, 2)]) = (2.0, 1e-20, 1.0, 1e-20);
        let mut tri = TriangularFactor {
            r,
            perm: vec![0, 1, 2],
            rank: 0,
            threshold: 1e-10,
            shifts: vec![0; 3],
        };
        assert_eq!(tri.misplaced_pivots(), Some(1));
        let repair = tri.decide_rank(true);
        assert_eq!(repair.map(|(k, _)| k), Some(1));
        assert_eq!(tri.rank, 2);
        assert_eq!(tri.perm, vec![0, 2, 1]);
        assert_eq!(tri.r[(1, 1)].abs(), 1.0);
    }

    /// The ridge factor where the ridge entries reorder the sketch's trailing columns: `A`
    /// (`40 × 6`) has four Gaussian columns, a duplicate of column 0 scaled by `2⁻²⁰` (its
    /// equilibration shift, hence its ridge entry `√λ·D_jj`, `2²⁰` times the others') and
    /// column 1 plus `10⁻¹²` of a fifth Gaussian column (a residual above the scaled
    /// duplicate's rounding, so the sketch pivots it first, but below the rank threshold
    /// `10⁻¹⁰·|R₀₀|`), in both orders. At `λ = 10⁻²²` the scaled duplicate's ridge entry
    /// (`≈ 10⁻⁵`) is above the threshold and the other's (`≈ 10⁻¹¹`) below: rank 5; at
    /// `λ = 1` the ridge entries are of the order of `R`'s (the scaled column's shift lowered
    /// from 19 to 0): rank 6; at `λ = 10⁻³⁰⁰` (with `ρ = 1`) the factor is the sketch's `R`,
    /// bit for bit, and the rank 4. Pass rule, for both orders, those cases and `λ = 10⁻²²`
    /// with `ρ = 0.8`: that rank; the leading pivots are the ones above the threshold and
    /// `R_ii ≥ 0`; `RᵀR = MᵀM` to `10⁻¹⁴` relative for `M = [R_s·E/√ρ; √λ·D']` in the
    /// factor's column order (`R_s` the sketch's factor, `E` and `D'` from the lowered shifts);
    /// and at least one case needs the trailing block re-pivoted (the factor's column order
    /// differs from the sketch's).
    #[test]
    fn the_ridge_factor_is_an_r_factor_of_the_stacked_matrix() {
        let g = crate::problems::gaussian_matrix(40, 5, Seed::new(11)).unwrap();
        let mut reordered = 0;
        for scaled_first in [true, false] {
            let (scaled, plain) = if scaled_first { (4, 5) } else { (5, 4) };
            let a = Mat::from_fn(40, 6, |i, j| match j {
                j if j < 4 => g[(i, j)],
                j if j == scaled => g[(i, 0)] * 2f64.powi(-20),
                j if j == plain => g[(i, 1)] + 1e-12 * g[(i, 4)],
                _ => unreachable!(),
            });
            let sketch = PivotedQr::new(a, 1e-10, Par::Seq);
            assert_eq!(sketch.tri.rank, 4);
            let cases = [
                (1e-300, 1.0, 4),
                (1e-22, 1.0, 5),
                (1e-22, 0.8, 5),
                (1.0, 0.8, 6),
            ];
            for (lambda, rho, rank) in cases {
                let ridge = sketch.ridge_factor(rho, lambda, 1e-10, Par::Seq);
                let case = format!("scaled first {scaled_first}, λ = {lambda:e}, ρ = {rho}");
                assert_eq!(ridge.rank, rank, "{case}");
                reordered += usize::from(ridge.perm != sketch.tri.perm);
                if lambda == 1e-300 {
                    for j in 0..6 {
                        for i in 0..=j {
                            let (got, want) = (ridge.r[(i, j)], sketch.tri.r[(i, j)]);
                            assert_eq!(got.to_bits(), want.to_bits(), "{case}: R({i}, {j})");
                        }
                    }
                }
                for k in 0..6 {
                    assert!(ridge.r[(k, k)] >= 0.0);
                    assert_eq!(
                        k < ridge.rank,
                        ridge.r[(k, k)] > ridge.threshold,
                        "pivot {k}"
                    );
                }
                // M in the ridge factor's column order: column p is column `ridge.perm[p]`.
                let m = Mat::from_fn(12, 6, |i, p| {
                    let col = ridge.perm[p];
                    let q = sketch.tri.perm.iter().position(|&c| c == col).unwrap();
                    if i < 6 {
                        if i <= q {
                            let lower = ridge.shifts[col] - sketch.tri.shifts[col];
                            sketch.tri.r[(i, q)] * 2f64.powi(lower) / rho.sqrt()
                        } else {
                            0.0
                        }
                    } else if i - 6 == p {
                        lambda.sqrt() * 2f64.powi(ridge.shifts[col])
                    } else {
                        0.0
                    }
                });
                let r = Mat::from_fn(6, 6, |i, j| if i <= j { ridge.r[(i, j)] } else { 0.0 });
                let (rtr, mtm) = (r.transpose() * &r, m.transpose() * &m);
                let scale = mtm.norm_l2();
                for i in 0..6 {
                    for j in 0..6 {
                        let diff = (rtr[(i, j)] - mtm[(i, j)]).abs();
                        assert!(
                            diff <= 1e-14 * scale,
                            "{case}: (RᵀR − MᵀM)({i}, {j}) = {diff:e}"
                        );
                    }
                }
            }
        }
        assert!(
            reordered >= 1,
            "no order needed the trailing block re-pivoted"
        );
    }
}
