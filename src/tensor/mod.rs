//! Symmetric tensors and the (sketched) robust tensor power method for symmetric CP
//! decomposition `T ≈ Σ_j λ_j a_j^{⊗p}` of any order `p ≥ 3`.
//!
//! | item | what it does | cost |
//! |---|---|---|
//! | [`SymmetricTensor`] | dense (`n^p` array) or coordinate storage, validated once; exact `T(u,…,u)`, `T(I,u,…,u)` | `n^p` or `p·nnz` per contraction |
//! | [`read_tns`], [`read_tns_as`], [`write_tns`] | FROSTT `.tns` text (1-based), line-numbered errors; straight into dense storage with [`TnsStorage::Dense`] | one pass |
//! | [`power_method_exact`] | robust tensor power method (L starts, N iterations, best start refined, deflation), for orthogonal components (non-orthogonal ones come out wrong: see its docs) | `k·L·N` exact contractions |
//! | [`TensorSketches`] | `B` count sketches of size `b` of `T`, with one hash per mode or one for all modes ([`ModeHashing::Shared`]: built from the distinct entries; unbiased at order 3, where its sign-even collisions are subtracted exactly, biased at order ≥ 4 on tensors with large partial traces; [`ModeHashing::Auto`], the default of [`SketchParams`] and so of [`power_method_sketched`], picks it at order 3 when the folded search size is at least `16n`, as with the automatic shapes up to `n = 4096` (their `b` is capped at `2¹⁸`, so the folded size stays at `2¹⁶`: below `16n`, per-mode, from `n = 4097`); [`TensorSketches::new`] hashes per mode); contractions by FFT, medians over `B` | build `O(B·nnz)` (shared, dense: `O(B·nnz/p!)`); `O(B·p(n + b log b))` per contraction (shared: `O(B(n + b log b))` plus the order-3 correction) |
//! | [`power_method_sketched`] | the same method on the sketches, deflating in sketch space; search and early refinement on sketches folded to `b/4` | as above, mostly at `b/4` |
//! | [`refine_exact`] | exact sweeps on a (sketched) decomposition, every component against `T` deflated by the others: the sketched method's factor error (≈ 0.03) falls to the exact method's in one or two | one pass over a dense `T` per sweep, and one for the final weights, for up to 16 components |
//! | [`residual_rel`], [`match_factors`] | `‖T − T̂‖_F/‖T‖_F`; factor and weight errors against known components | `k` contractions |
//!
//! # Accuracy of the sketched method
//! Each per-sketch estimate is unbiased (per-mode hashing, and the shared hash at order 3; at
//! order ≥ 4 see [`ModeHashing::Shared`]); its variance is about `‖T‖_F²/b` per coordinate of
//! `T(I,u,…,u)` for a diffuse tensor (several times more at a component of a low-rank tensor,
//! where the iterates end, and growing with the order: see [`SketchParams::resolve`]), and the
//! median over `B` sketches reduces it about `2B/π`-fold (for Gaussian-like errors, as on a
//! diffuse tensor; at a component of a small low-rank tensor, where many sketches see no
//! collision that matters, the errors are heavy-tailed and the median does better: 54-fold at
//! `B = 15` in the example of [`TensorSketches::new`]). The error of a recovered factor
//! therefore behaves like `√(π n/(2B·b))·‖T_j‖_F/λ_j`, where `T_j` is what remains of the
//! tensor when component `j` is sought. For a fixed error `B·b` must grow linearly in `n`;
//! the exact method costs `n^p` per contraction, the sketched one `B·b log b`, so the sketched
//! method pays off only for large `n` (or high order). See `benches/tensor_power.rs` for where the
//! crossover lies on this machine.
//!
//! Measured (`examples/tensor_power.rs --synthetic 400,10,0.01,3 --starts 5 --iters 8
//! --threads 1`, quiet 2-core machine, 2026-12-01, medians of 5 alternating runs): exact 9.21 s,
//! factor error 4.3·10⁻⁴, residual 0.0100; sketched with the default hashing (shared at order 3;
//! `B = 14`, `b = 2¹⁷`, 3 search sketches, folded to `b/4` but for the last 2 refinement
//! iterations) 0.870 s (build 0.22 s; factor error 0.031, residual 0.051): **10.6×** (13.0× on 2
//! threads). Per-mode hashing (`--hashing per-mode`) takes 1.80 s (build 0.99 s; factor error
//! 0.040). On the same kind of tensor TensorLy's `parafac_power_iteration` took 73 s
//! (BENCHMARKS.md, tensor power method).
//!
//! The ratio depends on the VM: on 2026-12-07's AMD VM the same command gave exact 9.86 s against
//! sketched 1.21 s (8.2×, medians of 3; the FFT-bound sketched method ran as slowly with the
//! code of 12-01), and on two threads 5.03 s against 0.956 s (5.3×, criterion medians,
//! `cargo bench --bench tensor_power -- 'method_p3/.*/400'`).
//!
//! The sketches' noise floor is what separates the two methods' residuals (0.051 against 0.0100
//! above). Where `T` can be read a few more times, [`refine_exact`] removes it: two exact sweeps
//! after the sketched method give the exact method's factor errors and residual (to 4 or more
//! digits at `n = 50, 100`, every printed digit at `n = 200, 400`) for three more passes over
//! `T`: 0.27 s on two threads, 0.54 s on one, at `n = 400` on that VM.
//!
//! # Examples
//!
//! ```
//! # fn main() -> randnla::Result<()> {
//! use randnla::faer::Par;
//! use randnla::tensor::{match_factors, power_method_exact, residual_rel};
//! use randnla::tensor::{PowerParams, SymmetricTensor};
//! use randnla::Seed;
//! // Σ_j λ_j a_j^{⊗3} with 3 orthonormal a_j and λ = 1, 0.8, 0.64 in dimension 10, plus noise
//! // of 1 % of its norm.
//! let (t, weights, factors) =
//!     SymmetricTensor::synthetic_orthogonal(3, 10, 3, 0.01, Seed::new(1))?;
//! let cp = power_method_exact(&t, 3, &PowerParams::default(), Seed::new(2), Par::Seq)?;
//! // Recovered up to the noise: each factor and weight within 2 % (0.4 % at most over 40
//! // seeds).
//! let m = match_factors(3, &weights, &factors, &cp.weights, &cp.factors)?;
//! assert!(m.iter().all(|m| m.factor_error < 0.02 && m.weight_rel_error < 0.02), "{m:?}");
//! // What is left is about the noise: ‖T − T̂‖_F/‖T‖_F near 0.01 (0.009 to 0.0097 over 40
//! // seeds).
//! let r = residual_rel(&t, &cp.weights, &cp.factors, Par::Seq)?;
//! assert!(r > 0.005 && r < 0.02, "{r}");
//! # Ok(()) }
//! ```
//!
//! # Reproducibility
//! Starts, hashes and the synthetic data are pure functions of the seed; the exact and
//! sketched methods use the same starts for the same seed. Results are bitwise identical for any
//! thread count.
//!
//! # References
//! - A. Anandkumar, R. Ge, D. Hsu, S. Kakade, M. Telgarsky, "Tensor decompositions for learning
//!   latent variable models", JMLR 2014, arXiv 1210.7559.
//! - Y. Wang, H.-Y. Tung, A. Smola, A. Anandkumar, "Fast and guaranteed tensor decomposition via
//!   sketching", NeurIPS 2015, arXiv 1506.04448.
//! - Y. Deng, Z. Song, J. Yin, arXiv 2306.00406 (sketched power method for arbitrary order).

mod pairing;
mod power;
mod sketched;
mod symmetric;
mod tns;

pub use power::{
    match_factors, power_method_exact, power_method_on_sketches, power_method_sketched,
    refine_exact, residual_rel, ComponentInfo, CpDecomposition, FactorMatch, PowerMethod,
    PowerParams, SketchParams,
};
pub use sketched::{ModeHashing, TensorSketches};
pub use symmetric::{
    SymmetricTensor, MAX_COORDINATE_BYTES, MAX_DIM, MAX_ENTRIES, MAX_ORDER, MIN_ORDER,
};
pub use tns::{
    read_tns, read_tns_as, read_tns_path, read_tns_path_as, write_tns, write_tns_path, TnsEntries,
    TnsStorage,
};

pub(crate) use crate::dense::tasks;
