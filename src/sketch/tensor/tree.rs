//! The recursive (binary tree) tensor sketch of Ahle et al. 2020, whose variance grows with the
//! degree polynomially instead of like `3^p`.

use super::{
    check_degree, check_dims, check_m, convolve, kron_vec, leaf_shift, power_rows, power_vec,
    scale_pow2, Fft, Hash, RowMap, Workspace, TABLE_BUDGET,
};
use crate::error::{Error, Result};
use crate::input::MatrixRef;
use crate::scalar::Scalar;
use crate::seed::Seed;
use faer::{Mat, Par};

/// Leaf `k` is drawn from `seed.derive(LEAF_STREAM + k)`.
const LEAF_STREAM: u64 = 0x51 << 32;
/// Side `s ∈ {0, 1}` of internal node `j` is drawn from `seed.derive(NODE_STREAM + 2j + s)`.
const NODE_STREAM: u64 = 0x52 << 32;

/// Tree TensorSketch (Ahle, Kapralov, Knudsen, Pagh, Velingker, Woodruff, Zandieh 2020): a
/// sketch of `x₁ ⊗ … ⊗ x_p` whose size need not grow like `3^p`.
///
/// Let `P = 2^⌈log₂ p⌉`. Leaf `k < p` is an independent CountSketch `L_k: ℝ^{d_k} → ℝ^m`
/// (`CountSketch::new(m, d_k, seed.derive(0x51·2³² + k))`); the `P − p` padding leaves output the
/// fixed unit vector `e₀ ∈ ℝ^m`, the CountSketch of the one-dimensional vector `(1)` (so the
/// tree sketches `x₁ ⊗ … ⊗ x_p ⊗ (1)^{⊗(P−p)}`, which is `x₁ ⊗ … ⊗ x_p` itself). Each of the
/// `P − 1` internal nodes, level by level from the leaves and left to right, is an independent
/// degree-2 [`TensorSketch`](super::TensorSketch) `ℝ^m ⊗ ℝ^m → ℝ^m` applied to the outputs of its
/// two children: node `j` has the sides
/// `C_{j,s} = CountSketch::new(m, m, seed.derive(0x52·2³² + 2j + s))`, `s ∈ {0, 1}`, and maps
/// `u ⊗ v` to `IFFT(FFT(C_{j,0} u) ∘ FFT(C_{j,1} v))`, the CountSketch of `u ⊗ v` with hash
/// `(h_{j,0}(a) + h_{j,1}(b)) mod m` and sign `σ_{j,0}(a)σ_{j,1}(b)`. The root's output is the
/// sketch. No scaling is applied:
///
/// - `E⟨Π(x₁⊗…⊗x_p), Π(y₁⊗…⊗y_p)⟩ = ∏_k ⟨x_k, y_k⟩` (every level is unbiased and independent of
///   the levels below it), so `E⟨Π x^{⊗p}, Π y^{⊗p}⟩ = ⟨x, y⟩^p`;
/// - the variance compounds over the `log₂ P` levels instead of over the `p` modes at once:
///   Ahle et al. show that `m = O(p/(ε²δ))` rows give an `(ε, δ)` approximation of the norm,
///   against the `(2 + 3^p)/(ε²δ)` that the bound of [`TensorSketch`](super::TensorSketch) needs.
///   Measured `m·Var(‖Π x^{⊗p}‖²)/‖x‖^{4p}` on a dense `x ∈ ℝ⁶⁴` (m = 256, 3000 seeds; test
///   `tree_variance_does_not_grow_geometrically_with_p`): p = 2 / 4 / 8 → tree 9.9 / 26.6 / 57.7,
///   against TensorSketch's exact 5.8 / 28.7 / 498 (its closed form, `tests/claims_review2.rs`;
///   ≈ 2(2^p − 1) for such spread-out `x`, below its bound 2 + 3^p; a sample of 3000 seeds gave
///   398 at p = 8, where the distribution is heavy-tailed and sample variances fall short).
///
/// At small degrees (`p ≤ 3`) on spread-out data the plain [`TensorSketch`](super::TensorSketch)
/// is as accurate and cheaper; the tree pays off for `p ≥ 4` or for inputs with a few dominant
/// coordinates.
///
/// What is *not* implemented from the paper: the TensorSRHT internal nodes and OSNAP leaves of
/// its high-probability (`log(1/δ)` instead of `1/δ`) variant; this type is the variant with
/// CountSketch leaves and TensorSketch internal nodes.
///
/// # Examples
///
/// ```
/// use randnla::sketch::tensor::TreeSketch;
/// use randnla::Seed;
/// let tree = TreeSketch::new(5, 3, 512, Seed::new(2)).unwrap();
/// let x = [0.6, 0.0, 0.8]; // ‖x‖ = 1, so ‖x^{⊗5}‖ = 1
/// let sx = tree.apply_power(&x).unwrap();
/// let norm2: f64 = sx.iter().map(|v| v * v).sum();
/// assert!(norm2 > 0.3 && norm2 < 3.0);
/// ```
///
/// # Performance
/// `O(p·nnz(x) + (P − 1)·m log m)` per vector (`p` leaf CountSketches; per internal node two
/// CountSketches of `m`-vectors, two real FFTs and one inverse). Measured at the same `m = 1024`
/// (500 dense rows, d = 100; `benches/tensor_sketch.rs`): 1.1× / 2.0× / 4.1× the time of
/// [`TensorSketch`](super::TensorSketch) at p = 2 / 4 / 8 — but at p = 8 TensorSketch needs
/// ≈ 8× the `m` for the same variance on dense inputs. Memory: `O(P·m)` per thread and
/// `O(min(Σ_k d_k + 2P·m, 2²⁵))` stored hash tables (internal nodes first; the hashes beyond
/// that budget regenerate their codes from the seed, as for [`TensorSketch`](super::TensorSketch)).
///
/// # References
/// T. D. Ahle, M. Kapralov, J. B. T. Knudsen, R. Pagh, A. Velingker, D. P. Woodruff, A. Zandieh,
/// "Oblivious sketching of high-degree polynomial kernels", SODA 2020, arXiv 1909.01410.
#[derive(Clone, Debug)]
pub struct TreeSketch {
    m: usize,
    dims: Vec<usize>,
    seed: Seed,
    leaves: Vec<Hash>,
    nodes: Vec<[Hash; 2]>,
    padded: usize,
    fft: Fft,
}

impl TreeSketch {
    /// Tree sketch of `x^{⊗p}` for `x ∈ ℝ^d`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `degree = 0`, `degree > 2¹⁶`, `d = 0`, `m = 0` or
    /// `m > 2²²`; [`Error::TooLarge`] when the `P` levels of length `m` exceed 2²⁶ values.
    pub fn new(degree: usize, d: usize, m: usize, seed: Seed) -> Result<Self> {
        // The degree first: `vec![d; degree]` for a huge degree is the allocation refused.
        check_degree(degree)?;
        if d == 0 {
            // Named as this function's argument (`with_dims` would name its `dims`).
            return Err(Error::param("d", "the input dimension must be at least 1"));
        }
        Self::with_dims(&vec![d; degree], m, seed)
    }

    /// Tree sketch of products `x₁ ⊗ … ⊗ x_p` with `x_k ∈ ℝ^{dims[k]}`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_dims(dims: &[usize], m: usize, seed: Seed) -> Result<Self> {
        check_dims(dims)?;
        check_m(m)?;
        let padded = dims.len().next_power_of_two();
        let requested = padded as u128 * m as u128;
        if requested > 1 << 26 {
            return Err(Error::TooLarge {
                what: format!("the {padded} tree levels of length m = {m}"),
                requested,
                limit: 1 << 26,
            });
        }
        // One table budget for the whole tree (see `TABLE_BUDGET`); the internal nodes take
        // theirs first, as every vector is sketched through all of them at full length `m`,
        // while a leaf only looks up the nonzeros of its factor.
        let mut budget = TABLE_BUDGET;
        let nodes = (0..padded - 1)
            .map(|j| {
                let mut side = |s: u64| {
                    Hash::new(
                        m,
                        m,
                        seed.derive(NODE_STREAM + 2 * j as u64 + s),
                        &mut budget,
                    )
                };
                Ok([side(0)?, side(1)?])
            })
            .collect::<Result<Vec<_>>>()?;
        let leaves = dims
            .iter()
            .enumerate()
            .map(|(k, &d)| Hash::new(m, d, seed.derive(LEAF_STREAM + k as u64), &mut budget))
            .collect::<Result<Vec<_>>>()?;
        Ok(TreeSketch {
            m,
            dims: dims.to_vec(),
            seed,
            leaves,
            nodes,
            padded,
            fft: Fft::new(m),
        })
    }

    /// The degree `p`.
    pub fn degree(&self) -> usize {
        self.dims.len()
    }
    /// The sketch dimension `m`.
    pub fn sketch_dim(&self) -> usize {
        self.m
    }
    /// The input dimension of each mode.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }
    /// The seed.
    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// `Π(x^{⊗p})`, length `m`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `x.len() ≠ d`, [`Error::NonFinite`] for NaN/±∞ in `x`
    /// or a finite `x` whose sketch overflows the output type. The intermediates do not overflow
    /// first: a node's unnormalized inverse FFT holds up to `m` times the product of its
    /// children's `ℓ₁` norms, and a product of its spectra above `2⁴⁶⁰` is brought back to
    /// `[1, 2)` by exact powers of two, carried to the root (at `m = 16`, `p = 2` an
    /// `x = [1e154]`, `x² = 1e308`, was an error and is now sketched);
    /// [`Error::InvalidParameter`] when the modes have different dimensions;
    /// [`Error::TooLarge`] when the allocator refuses the two level buffers of `P·m` values
    /// (up to 512 MiB each).
    pub fn apply_power<T: Scalar>(&self, x: &[T]) -> Result<Vec<T>> {
        power_vec(self, x)
    }

    /// `Π(x₁ ⊗ … ⊗ x_p)`, length `m`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for a wrong number or length of factors,
    /// [`Error::NonFinite`] for NaN/±∞, or finite factors whose product overflows the output
    /// type. A node's product beyond `f64` is carried as a power of two (see
    /// [`apply_power`](Self::apply_power)), so `(1e200, 1e200, 1e-300, 1)` gives `±1e100` in
    /// its bucket in any factor order (it was an error). Tiny intermediates do not underflow: a
    /// node lifts a product below `2^−400` by an exact power of two that is taken out of the root's
    /// output, so `(1e-300, 1e-300, 1e300, 1)` gives `±1e-300` in its bucket (it gave all zeros).
    /// [`Error::TooLarge`] as for [`apply_power`](Self::apply_power).
    pub fn apply_kron<T: Scalar>(&self, xs: &[&[T]]) -> Result<Vec<T>> {
        kron_vec(self, xs)
    }

    /// The `n × m` matrix whose row `i` is `Π(a_i^{⊗p})`.
    ///
    /// # Errors
    /// As [`TensorSketch::apply_rows`](super::TensorSketch::apply_rows), and
    /// [`Error::TooLarge`] when the allocator refuses a task's level buffers (see
    /// [`apply_power`](Self::apply_power)).
    ///
    /// # Performance
    /// `O(p·nnz(A) + n·P·m log m)`; bitwise identical for any thread count and for CSR, CSC and
    /// dense storage, as for [`TensorSketch`](super::TensorSketch).
    pub fn apply_rows<T: Scalar>(&self, a: MatrixRef<'_, T>, par: Par) -> Result<Mat<T>> {
        power_rows(self, a, par)
    }
}

impl RowMap for TreeSketch {
    fn out_len(&self) -> usize {
        self.m
    }
    fn workspace(&self) -> Result<Workspace> {
        Workspace::new(&self.fft, self.padded * self.m)
    }
    fn mode_dims(&self) -> &[usize] {
        &self.dims
    }
    fn map_kron(
        &self,
        factors: &[(&[usize], &[f64])],
        out: &mut [f64],
        ws: &mut Workspace,
    ) -> Result<()> {
        let m = self.m;
        if self.padded == 1 {
            self.leaves[0].sketch_sparse(factors[0].0, factors[0].1, out);
            return Ok(());
        }
        let Workspace {
            bufs,
            levels,
            next,
            exps,
            next_exps,
            bounds,
            next_bounds,
            ..
        } = ws;
        // Slot `j` holds `levels[j·m..(j+1)·m]·2^exps[j]`: a node lifts a tiny product and drops
        // a huge one (see `convolve`) instead of letting the next level under- or overflow it,
        // and a leaf whose bucket sums could overflow is sketched scaled (`leaf_shift`).
        exps.clear();
        exps.resize(self.padded, 0);
        next_exps.clear();
        next_exps.resize(self.padded, 0);
        // Per slot, log₂ of a bound on its ℓ₁ norm (see `convolve`): a padding leaf e₀ has 1.
        bounds.clear();
        bounds.resize(self.padded, 0.0);
        next_bounds.clear();
        next_bounds.resize(self.padded, 0.0);
        for (k, slot) in levels.chunks_mut(m).enumerate() {
            match factors.get(k) {
                Some((idx, val)) => {
                    let (s, bound) = leaf_shift(val);
                    exps[k] = i64::from(s);
                    bounds[k] = bound;
                    self.leaves[k].sketch_sparse_shifted(idx, val, s, slot)
                }
                None => {
                    slot.fill(0.0);
                    slot[0] = 1.0;
                }
            }
        }
        let mut width = self.padded;
        let mut node = 0;
        while width > 1 {
            let half = width / 2;
            for j in 0..half {
                let (u, v) = levels[2 * j * m..(2 * j + 2) * m].split_at(m);
                let dst = if half == 1 {
                    &mut *out
                } else {
                    &mut next[j * m..(j + 1) * m]
                };
                let sides = &self.nodes[node];
                // ‖C·slot‖₁ ≤ ‖slot‖₁: a node's inputs keep their slots' bounds.
                let (e, bound) = convolve(&self.fft, 2, bufs, dst, |s, buf| {
                    sides[s].sketch_dense(if s == 0 { u } else { v }, buf);
                    bounds[2 * j + s]
                })?;
                next_exps[j] = exps[2 * j] + exps[2 * j + 1] + e;
                next_bounds[j] = bound;
                node += 1;
            }
            std::mem::swap(levels, next);
            std::mem::swap(exps, next_exps);
            std::mem::swap(bounds, next_bounds);
            width = half;
        }
        scale_pow2(out, exps[0]);
        Ok(())
    }
}
