//! # randnla — sketching and randomized numerical linear algebra
//!
//! A core of random sketches — sparse embeddings ([`SparseSign`](sketch::SparseSign) / OSNAP,
//! [`CountSketch`](sketch::CountSketch)), and the dense baselines [`Gaussian`](sketch::Gaussian)
//! and [`Srht`](sketch::Srht) — applied in input-sparsity time to dense (`faer`) and sparse
//! (`sprs`, CSR or CSC) matrices, feeding solvers built on them.
//!
//! Data flows one way: **input** ([`MatrixRef`], validated once) → **sketch** (`S·A`, a small
//! dense matrix) → **small dense problem** (faer factorizations) → **answer + diagnostics**.
//!
//! ```
//! use randnla::sketch::{SketchExt, SparseSign};
//! use randnla::{diagnostics, problems, MatrixRef, Seed};
//!
//! // A 20000 × 50 sparse matrix, 5 nonzeros per row.
//! let a = problems::random_sparse(20_000, 50, 5, Seed::new(1))?;
//! let a = MatrixRef::sparse(&a)?;
//! // A sparse sign sketch with m = 4d rows and s = 8 nonzeros per column.
//! let s = SparseSign::new(200, 20_000, 8, Seed::new(2))?;
//! let sa = s.apply(a, randnla::faer::Par::Seq)?; // 200 × 50, in O(s·nnz(A)) time
//! assert_eq!((sa.nrows(), sa.ncols()), (200, 50));
//! // How well does S preserve the geometry of range(A)? κ(SQ) = 1 is perfect.
//! let kappa = diagnostics::distortion_on_range(&s, a, randnla::faer::Par::Seq)?;
//! assert!(kappa < 4.0);
//! # Ok::<(), randnla::Error>(())
//! ```
//!
//! ## Which sketch for which job
//!
//! | job | sketch | why |
//! |---|---|---|
//! | preconditioner for least squares (`m ≥ 2d`; [`lstsq`] takes `4d–16d` from a cost model, more rows for fewer iterations) | [`SparseSign`](sketch::SparseSign), `s = 8` | distortion κ(SQ) ≈ 5–6 at `m = 2d` on *any* matrix, coherent ones included, in `O(s·nnz)` |
//! | sketch-and-solve on sparse data (`m ≈ 10d–40d`) | `SparseSign` (`s = 2–8`) or [`CountSketch`](sketch::CountSketch) | CountSketch is the cheapest (`O(nnz)`) but needs `m = O(d²)` on coherent data |
//! | a quick norm or frequency estimate, TensorSketch's building block | `CountSketch` | one hash and one sign per coordinate |
//! | small dense problems; the accuracy reference | [`Gaussian`](sketch::Gaussian) | the textbook embedding, independent of coherence, but `O(m·nnz)` |
//! | dense `A` where `m·n·d` flops are too many | [`Srht`](sketch::Srht) | `O(n·d·log n)`; needs `m` a few times larger than `2d` on coherent data |
//!
//! Measured on the coherent matrix `[I_d; 10⁻³·G]` (n = 20000, d = 50, 20 seeds,
//! `tests/sketch_core.rs`): sparse sign `s = 8` at `m = 2d` has median κ(SQ) ≈ 5.3; CountSketch ≈
//! 24 at `m = 2d` and still ≈ 10 at `m = 20d`; the SRHT ≈ 21 at `m = 2d` (≈ 2.2 at `m = 8d`). On a
//! Gaussian matrix all four give ≈ 5.3–5.6 at `m = 2d`.
//!
//! ## Which tool for which job, beyond the sketches
//!
//! | job | use | cost |
//! |---|---|---|
//! | tall least squares to full accuracy, any conditioning | [`lstsq::sketch_and_precondition`] (a few LSQR iterations without a sketch first, on `A` or on its equilibrated columns, kept when they converge fast; else sparse sign, `m = 4d–16d` from a cost model, QR of `SA`, LSQR on `AR⁻¹`, one refinement run) | `O(s·nnz + m·d² + iterations·nnz)`; iterations independent of κ(A); a well-conditioned or merely badly scaled `A` costs only its LSQR passes |
//! | a quick approximate solution | [`lstsq::sketch_and_solve`] | residual ratio ≈ `√(1 + d/(m−d−1))` (for a Gaussian sketch the squared ratio has expectation exactly `1 + d/(m−d−1)`); [`ratio_bound`](lstsq::SketchSolveInfo::ratio_bound) bounds it from the sketch's distortion |
//! | ridge regression, several right-hand sides | [`lstsq::ridge`], [`lstsq::sketch_and_precondition_multi`] | one sketch and factorization shared |
//! | the honest baselines | [`lstsq::qr_solve`], [`lstsq::normal_equations`], [`lstsq::lsqr`] | dense QR; squares κ; stalls on ill-conditioned `A` |
//! | attention-kernel regression | [`solve_p1`](lstsq::kernel_regression::solve_p1), [`solve_p2`](lstsq::kernel_regression::solve_p2), [`solve_p3`](lstsq::kernel_regression::solve_p3) in [`lstsq::kernel_regression`] | P1, P2: a Cholesky of the formed `AᵀA` where it is cheap and `κ(A)²·u` small, else sketch-preconditioned CG; P3: a Cholesky of the kernel matrix up to `n = 8192`, else Nyström-preconditioned CG; all refined on the true residual ([`InnerSolve`](lstsq::kernel_regression::InnerSolve)); P1/P2 certify `tol` down to their residual's rounding, up to `u·κ(A)^{2j}` (module docs) |
//! | leverage scores | [`leverage::approx_leverage_scores`] (DMMW, `m₁ = 10d`, `r₂ = 100`: median relative error ≈ 0.1) or [`leverage::exact_leverage_scores`] | `O(s·nnz + m₁d² + nnz·r₂)` vs a QR |
//! | row sampling by leverage, norms or uniformly | [`sketch::sampling::RowSampling`] (a [`SketchOperator`](sketch::SketchOperator)) | `O(n + m·log n + m·log m)` to draw with replacement (`O(n)` Bernoulli), `O(m·d)` to apply |
//! | polynomial attention in linear time (non-causal or causal) | [`attention::poly_sketch_attention`] (Gaussian or TensorSketch φ, self-tensored; `r = 32–64`) | `O(n·r²·d)`, memory independent of `n`; relative error on clustered inputs ≈ 0.45–0.55 at `r = 32`, ≈ 0.3–0.4 at `r = 64` (the tour's shape, `tests/front_door_review.rs`), ≈ 1 on iid ones |
//! | exact softmax / polynomial attention, the baseline | [`attention::exact_attention`] | `O(n²·(h + d))` in row blocks, `O(b² + b·d)` extra memory per thread |
//! | block lower-triangular products `tril(ABᵀ)C`, `tril((ABᵀ)^{∘2})C` | [`attention::causal_product`], [`attention::causal_squared_product`] | streamed prefix state |
//! | symmetric CP decomposition of a tensor (order 3 to [`tensor::MAX_ORDER`] = 12) | [`tensor::power_method_exact`], [`tensor::power_method_sketched`] on a [`tensor::SymmetricTensor`], then [`tensor::refine_exact`] for the exact method's accuracy | exact `O(n^p)`, sketched `O(B·p(n + b log b))` per iteration after an `O(B·nnz)` build; sketched pays only for large `n` (at `n = 400`, order 3: 8–13× end to end on one thread with the default hashing, shared at order 3, depending on the VM; see the README) |
//! | FROSTT `.tns` tensors | [`tensor::read_tns`], [`tensor::write_tns`] | one pass |
//! | active learning: which labels to buy for a regression | [`active::Learner`] with [`active::Strategy::bss()`](active::Strategy::bss) (Chen–Price; [`active::Strategy::Bss`] to set its parameters) over an [`active::Pool`]; [`active::Budgeted`] enforces the label budget | pool `O(nnz·d + n·d²)` once; selection `O(k·d³)`; labels ≤ budget |
//! | polynomial-kernel features, sketches of `x^{⊗p}` | [`sketch::tensor::PolyKernelFeatures`], [`sketch::tensor::TensorSketch`], [`sketch::tensor::TreeSketch`] (high degree) | `O(p(nnz + m log m))` per row |
//!
//! ## Contracts
//!
//! * **Reproducibility.** Every random choice is a pure function of a [`Seed`] and an index
//!   ([`seed`] is the only place randomness is created). `S·A` with CountSketch, sparse sign,
//!   Gaussian or row sampling is *bitwise* identical for any number of threads, for CSR, CSC and
//!   dense storage of `A`, and for `A` whole or split into row blocks (see
//!   [`sketch::SketchOperator::apply_block_into`]).
//!   A change to the values a seed produces is a breaking change (golden-value tests guard it).
//!   These sketches use plain IEEE arithmetic (no FMA, no run-time dispatch), so their bits are
//!   also the same across CPUs, with one caveat for the Gaussian: `rand_distr`'s ziggurat
//!   sampler calls the platform's `exp` and `ln` (glibc picks an FMA variant by CPU) on its rare
//!   wedge and tail draws, and a last-bit difference there changes a sample only when the
//!   uniform draw falls within that bit of the acceptance boundary (odds of order 10⁻¹⁶ per
//!   such draw); what passes through rustfft (TensorSketch, `p ≥ 2`) or faer's
//!   dense kernels (the solvers) is reproducible on one machine but may differ in the last bits
//!   between CPUs with different SIMD support, as both libraries pick their kernels at run time.
//! * **Errors, not panics.** Every public function that can fail returns [`Result`] (the others
//!   are accessors and pure arithmetic on seeds); bad shapes, NaN/∞, empty
//!   matrices, malformed sparse structure or files and out-of-range parameters are [`Error`]s that
//!   say what was wrong. Fuzz targets (`fuzz/`) hold the crate to it.
//! * **Input sparsity.** Sparse sketches cost `O(s·nnz(A) + m·d)` and never form an `m × n` matrix.
//! * **Parallelism.** Functions take a `faer::Par`: `Par::Seq` or `Par::rayon(n)` (the work runs on
//!   the current rayon pool; install a `rayon::ThreadPool` to bound it). Results never depend on it
//!   (one exception: the baseline [`lstsq::qr_solve`] runs faer's blocked QR on the `par` it is
//!   given, as a user of faer would, so its bits change with the thread count — on the tour's
//!   least-squares problem every entry of `x` differs between `Par::Seq` and `Par::rayon(2)`),
//!   nor on faer's global parallelism (`faer::set_global_parallelism`; by default the size of the
//!   calling rayon pool):
//!   the dense factorizations and products behind an answer run on one thread where faer's
//!   parallel ones give different bits (`tests/global_parallelism.rs`).
//! * **Precision.** `f64` throughout the solvers, leverage scores, tensor power method and active
//!   learning. The sketches, TensorSketch and polynomial features, and attention are generic over
//!   [`Scalar`] and also run in `f32` (an `f32` sketch is the `f64` sketch rounded; attention
//!   computes in its input type).
//! * **Stability of the types.** Results (`Info`, `KernelInfo`, `LeverageInfo`, `CpDecomposition`,
//!   …), [`Error`] and the option enums a later version may extend (`SketchKind`, `InnerSolve`,
//!   `ExactMethod`, `Strategy`, `PowerMethod`, …) are `#[non_exhaustive]`: read their fields and
//!   match them with a `_` arm, so that a field or variant added later breaks nothing.
//!   The option enums one picks by name (`SketchKind`, `Factorization`, `InnerSolve`,
//!   `ExactMethod`, `FeatureMap`, `TensorMethod`, `SamplingScheme`, `PowerMethod`, `ModeHashing`,
//!   `TnsStorage`, `TnsEntries`, `Strategy`, `Basis`) have a `name()` and parse it back with
//!   `FromStr` (`"svd".parse::<lstsq::Factorization>()`; any case, `_` for `-`), so a
//!   configuration file can name options as the library does, and the examples' `--sketch`,
//!   `--map`, `--method` of poly_features and tensor_power, `--strategy`, `--basis`, `--hashing`
//!   and `--storage` take these spellings. A name carries no parameters: `"sparse-sign"` parses
//!   to `s = 8` and `"sketched"` to `sketch_rows: None` whatever the value that gave the name
//!   held, so keep those in their own fields. `Kernel` and `ScoreSource`, whose variants are
//!   defined by their data (a softmax scale, a degree, a score vector), have no names.
//!   Parameter structs (`LstsqParams`, `KernelParams`, `ApproxParams`, `PowerParams`, …) keep
//!   public fields so that they can be written as literals: always end one with
//!   `..Default::default()`, and a field added later takes its default. The API takes and
//!   returns faer's and sprs's types; `randnla::faer` and `randnla::sprs` re-export the versions
//!   it was built with.
//! * **Argument order.** The data first (`A`, `b`, a tensor), then what to compute (a rank, `λ`,
//!   a parameter struct), then the [`Seed`], then the `Par` last; writers take the destination
//!   first (`io::write_sparse(w, a)`, `tensor::write_tns(w, t, entries)`). The least-squares
//!   solvers keep their seed and thread budget in their parameter structs (`LstsqParams`,
//!   `SketchSolveParams`, `KernelParams`; the deterministic `LsqrParams` its thread budget), and
//!   `PolySketchParams` and leverage's `ExactParams` hold the seed of their sketch, so those
//!   calls end with the struct (or with `par`). The [`diagnostics`] that measure a sketch take
//!   the operator first, as its own `s.apply(a, par)` does (`diagnostics::distortion(s, q,
//!   par)`), and generators that draw two things take one seed each, the main one first
//!   (`active::cauchy_problem(n, d, noise, seed, noise_seed)`).
//!
//! ## Modules
//!
//! * [`input`] — validated views of dense and sparse inputs; [`io`] — Matrix Market read/write.
//! * [`sketch`] — the operators and the [`SketchOperator`](sketch::SketchOperator) trait;
//!   [`sketch::sampling`] (row sampling) and [`sketch::tensor`] (TensorSketch) build on it.
//! * [`diagnostics`] — exact distortion κ(SQ) and embedding error `‖(SQ)ᵀSQ − I‖₂`, condition
//!   numbers, Gram matrices.
//! * [`problems`] — seeded generators of the standard test matrices.
//! * [`leverage`] — exact, approximate and ridge leverage scores.
//! * [`lstsq`] — least squares, ridge and kernel regression in input-sparsity time.
//! * [`attention`] — exact and sketched polynomial attention, causal block products.
//! * [`active`] — active-learning query selection for regression: label oracles with budgets,
//!   uniform / leverage / Chen–Price BSS selection, weighted fits.
//! * [`tensor`] — symmetric tensors, `.tns` I/O, exact and sketched tensor power method.
//! * [`seed`] — the seeds and stateless per-index randomness; [`scalar`] — `f64`/`f32`;
//!   [`error`] — the crate's [`Error`].
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
// Two `unsafe` blocks in the crate, each measured to pay (see there): the cache-prefetch hint in
// `sketch::prefetch` and the `vzeroupper` of `cpu`; everything else is safe code.
#![deny(unsafe_code)]

#[macro_use]
mod names;

pub mod active;
pub mod attention;
mod cpu;
mod dense;
pub mod diagnostics;
pub mod error;
pub mod input;
pub mod io;
pub mod leverage;
pub mod lstsq;
pub mod problems;
pub mod scalar;
pub mod seed;
pub mod sketch;
pub mod tensor;

/// The dense linear-algebra crate whose types (`MatRef`, `Mat`, `Par`) the API takes and returns.
pub use faer;
/// The sparse-matrix crate whose `CsMat` the sparse views wrap and the readers return.
pub use sprs;

/// Not part of the API: `cpu::clear_upper_vector_state`, for the benches' exact baselines,
/// whose scalar loops after a faer GEMM must run as fast as the crate's own (see `src/cpu.rs`).
#[doc(hidden)]
pub use cpu::clear_upper_vector_state as __clear_upper_vector_state;

pub use error::{Error, Result};
pub use input::{Layout, MatrixRef, SparseRef};
pub use scalar::Scalar;
pub use seed::Seed;

/// The README's code blocks, compiled as doc tests so that its example keeps up with the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
