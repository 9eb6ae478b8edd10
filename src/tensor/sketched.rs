//! Count sketches of a symmetric tensor and contractions through FFTs
//! (Wang–Tung–Smola–Anandkumar 2015).

use super::pairing::PairingCorrection;
use super::symmetric::{check_overflow, dot, SymmetricTensor, MAX_ORDER};
use crate::error::{Error, Result};
use crate::scalar::mul_pow2;
use crate::seed::Seed;
use crate::sketch::tensor::spectrum_product;
pub(crate) use crate::sketch::tensor::Fft;
use faer::Par;
use rayon::prelude::*;
use realfft::num_complex::Complex;

type C = Complex<f64>;

/// Stream of the per-sketch, per-mode hashes: `seed.derive(HASH_STREAM).word(m·p + k, i)`
/// (`word(m, i)` when all modes share one hash).
pub(crate) const HASH_STREAM: u64 = 0x71;
/// Smallest sketch size `b`.
pub const MIN_SKETCH_DIM: usize = 1 << 4;
/// Largest sketch size `b`.
pub const MAX_SKETCH_DIM: usize = 1 << 24;
/// Largest number of sketches `B`.
pub const MAX_SKETCHES: usize = 256;
/// Largest `B·b` (half spectra, `b/2 + 1` complex numbers of 16 bytes per sketch: 1 GiB).
pub const MAX_SKETCH_TOTAL: usize = 1 << 27;

/// How the count sketches of a symmetric tensor hash its `p` modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModeHashing {
    /// [`Shared`](Self::Shared) at order 3, where its estimates are made unbiased, when the
    /// sketches are large enough for that to be cheap, and [`PerMode`](Self::PerMode)
    /// otherwise (order 4 and above, where the shared hash is biased, or small sketches). The
    /// default; [`ModeHashing::resolve`] gives the rule.
    #[default]
    Auto,
    /// An independent hash `h_k` and sign `σ_k` for every mode `k` (Pagh's tensor sketch, as in
    /// Wang et al. 2015): `s_T` sums every stored entry, `O(nnz(T))` per sketch, a sketch of
    /// `u^{⊗q}` takes `q` real FFTs, and every per-sketch contraction is unbiased.
    PerMode,
    /// One hash `h` and sign `σ` for all modes. For a symmetric tensor every permutation of an
    /// index then lands in the same bucket with the same sign, so `s_T` sums each distinct entry
    /// (index multiset `M`, taken once: `s_T[t] = Σ_{M : H(M) ≡ t} σ(M)·T_M`) — `p!` times fewer
    /// scatters than [`PerMode`](Self::PerMode) on dense storage — and a sketch of `u^{⊗q}` is
    /// `IFFT(FFT(s(u))^q)`: one real FFT.
    ///
    /// The signs no longer cancel every foreign pair: two different multisets whose union has
    /// only even multiplicities have equal signs and collide with probability `≈ 2/b` (or `4/b`,
    /// `8/b` for higher multiplicities). There are `O(n^p)` such pairs, so left alone they bias
    /// the estimates by about `(2/b)·Σ` of partial traces of `T`, which the median over `B` does
    /// not reduce.
    ///
    /// **Order 3: unbiased.** The only such pairs are `{x,x,y}` and `{y,z,z}` (`x ≠ z`); they
    /// collide exactly when `h(x) ≡ h(z) mod b/2`, which the sketch knows, so their terms are
    /// computed from the slices `T_xx·` (kept with the sketches and deflated with them) and
    /// subtracted (derivation in `src/tensor/pairing.rs`): per sketch and evaluation, one walk
    /// of `T_xx·` for each index `x` of the `≈ 2n²/b` colliding pairs; `n²` values (dense
    /// storage) or the stored `(x, x, y)` entries are kept, and the pairs of the full and the
    /// kept folded size are cached. The estimates are then unbiased; their variance differs from
    /// the per-mode one by tensor (independent review, 2026-12-01, `n = 12–16`, `b = 16–256`,
    /// ratios of variances shared/per-mode for the value `T(u,u,u)` and summed over the
    /// coordinates of `T(I,u,u)`): 3.3–3.7 and 1.6 on a diagonal tensor, 2.2–5.4 and 1.0–2.3 on
    /// `sym(Σ_a e_a⊗e_a⊗v)` (the largest at the smallest `b`), 0.8–0.9 and 0.4 on a random
    /// dense tensor. On orthogonal low-rank tensors plus noise it recovers the factors more
    /// accurately than per-mode hashing at the same `(B, b)` (BENCHMARKS.md, tensor power method
    /// section).
    ///
    /// **Order 4 and above: biased on tensors with large partial traces**, where more patterns
    /// pair up and no correction is applied. Measured (independent review, 2026-12-01): on
    /// `T = sym(I⊗I)`, `p = 4`, with `T(u,u,u,u) = 1`, the mean per-sketch estimate was 2.30 at
    /// `n = 16, b = 256` and 5.33 at `n = 64, b = 1024` (per-mode: 1.00). On orthogonal low-rank
    /// tensors plus small noise (partial traces `Σ_a T_aac… = Σ_j λ_j a_jc…`, bounded) it still
    /// recovers the factors as well as per-mode hashing; use it at order ≥ 4 only for such
    /// tensors.
    Shared,
}

option_names!(ModeHashing, "hashing", [Auto => "auto", PerMode => "per-mode", Shared => "shared"]);

impl ModeHashing {
    /// The hashing used for a tensor of order `p` and dimension `n` whose sketches are evaluated
    /// at sizes down to `b` (the folded size of the power method's search, or the sketch size):
    /// [`ModeHashing::Auto`] becomes [`ModeHashing::Shared`] when `p = 3` and `b ≥ 16n`, else
    /// [`ModeHashing::PerMode`]; the others are kept. At `b ≥ 16n` a sketch has `≈ 2n²/b ≤ n/8`
    /// colliding pairs to correct, `O(n²/8)` work on a dense tensor, against the `O(b log b)` of
    /// its FFTs (the power method's automatic shapes fold to `b/4 ≈ 64n` or more up to `n = 1024`;
    /// their `b` is capped at `2¹⁸`, so the folded size stays at `2¹⁶`: `32n` at `n = 2048`, below
    /// `16n`, and so per-mode, from `n = 4097`).
    pub fn resolve(self, p: usize, n: usize, b: usize) -> ModeHashing {
        match self {
            ModeHashing::Auto if p == 3 && n.saturating_mul(16) <= b => ModeHashing::Shared,
            ModeHashing::Auto => ModeHashing::PerMode,
            other => other,
        }
    }
}

/// `B` independent count sketches of size `b` of a symmetric tensor of order `p`. With
/// [`ModeHashing::PerMode`] each sketch has an independent hash `h_k: [n] → [b]` and sign
/// `σ_k: [n] → {±1}` for every mode `k`:
///
/// `s_T[t] = Σ_{i : Σ_k h_k(i_k) ≡ t (mod b)} σ_1(i_1)⋯σ_p(i_p) T_i`.
///
/// The sketch of a rank-one power `u^{⊗p}` is the circular convolution of the mode sketches
/// `s_k(u)[t] = Σ_{h_k(i)=t} σ_k(i) u_i`, computed by FFT. Contractions:
///
/// * `T(u,…,u) ≈ ⟨s_T, s_{u^{⊗p}}⟩`, unbiased for each sketch;
/// * `T(I,u,…,u)_i ≈ σ_1(i)·r[h_1(i)]` with `r = IFFT(FFT(s_T)∘conj(∏_{k≥2} FFT(s_k(u))))`,
///   unbiased for each sketch; the value estimate is `⟨u, T(I,u,…,u)⟩` of the same sketch, which
///   equals `⟨s_T, s_{u^{⊗p}}⟩` exactly.
///
/// With [`ModeHashing::Shared`] all modes use one `(h, σ)` and `s_T` sums each distinct entry
/// once: `s_T[t] = Σ_{M : H(M) ≡ t} σ(M)·T_M` over index multisets `M` (`H(M) = Σ_{i∈M} h(i)`,
/// `σ(M) = ∏_{i∈M} σ(i)`), while `s_{u^{⊗q}} = IFFT(FFT(s(u))^q)` sums every ordered tuple.
/// An entry whose index multiset has `c(M)` orderings is therefore matched `c(M)` times, which
/// is exactly its weight in `T(u,…,u) = Σ_M c(M)·T_M·u_M`: the same formulas estimate the same
/// contractions, but the signs no longer cancel every foreign pair: at order 3 the sign-even
/// collisions are subtracted exactly (unbiased estimates), at order 4 and above the estimates
/// carry the bias described at [`ModeHashing::Shared`]. Deflation subtracts the sketch of `λu^{⊗p}`
/// as built (each multiset once: [`TensorSketches::rank_one_sketch`]), the complete homogeneous
/// polynomial `h_p` of the power sums `P_j = FFT(Σ_i σ(i)^j u_i^j e_{j·h(i)})` (Newton's
/// identity `h_k = (1/k) Σ_{j≤k} P_j h_{k−j}`).
///
/// The estimates of the `B` sketches are combined by medians (coordinate-wise for vectors).
/// Only the spectra `FFT(s_T)` are stored, as the `b/2 + 1` frequencies of a real signal (real
/// FFTs throughout); deflation `s_T ← s_T − λ·(sketch of u^{⊗p})` happens on them.
///
/// # Reproducibility
/// Every hash is a pure function of `(seed, sketch, mode, index)`; sketches are processed
/// independently and combined in sketch order, so results are bitwise identical for any thread
/// count.
///
/// # Scaling
/// A tensor whose largest `|entry|` is outside `[2⁻²⁵⁶, 2²⁵⁶]` is sketched as `T·2⁻ᵉ` (see
/// [`SymmetricTensor`]'s scaling note); the estimates, [`TensorSketches::tensor_sketch`] and the
/// weights of [`TensorSketches::deflate`] are in `T`'s units all the same.
///
/// # References
/// Y. Wang, H.-Y. Tung, A. Smola, A. Anandkumar, "Fast and guaranteed tensor decomposition via
/// sketching", NeurIPS 2015, arXiv 1506.04448.
#[derive(Clone, Debug)]
pub struct TensorSketches {
    order: usize,
    dim: usize,
    b: usize,
    count: usize,
    hashing: ModeHashing,
    /// `hash[(m·p' + k)·n + i]` with `p' = p` tables per sketch ([`ModeHashing::PerMode`]) or
    /// `p' = 1` (`k = 0`, [`ModeHashing::Shared`]).
    hash: Vec<u32>,
    sign: Vec<f64>,
    spectra: Vec<Vec<C>>,
    /// Contiguous copies of the spectra folded to `folded_dim` (0: none), see
    /// [`TensorSketches::keep_folded`].
    folded: Vec<Vec<C>>,
    folded_dim: usize,
    fft: Fft,
    /// Removal of the shared hash's sign-even collisions at order 3 (`None` otherwise).
    pairing: Option<PairingCorrection>,
    /// The sketched tensor is `T·2⁻ᵉ` ([`SymmetricTensor`]'s scaling note).
    scale_exp: i32,
}

/// Reusable evaluation buffers, one per task (see [`TensorSketches::estimates_with`]).
#[derive(Default)]
pub(crate) struct Buffers(Vec<Work>);

/// Buffers of one sketch evaluation at one (possibly folded) size `b'`.
struct Work {
    /// A real signal of length `b'`.
    real: Vec<f64>,
    /// Half spectra (`b'/2 + 1`): one mode's, the product over modes, and the correlation.
    spec: Vec<C>,
    prod: Vec<C>,
    corr: Vec<C>,
    scratch: Vec<C>,
    /// `p` half spectra for deflation with [`ModeHashing::Shared`] (allocated when first used).
    powers: Vec<C>,
}

impl TensorSketches {
    /// Builds `B = sketches` count sketches of size `b = sketch_dim` of `t` with an independent
    /// hash per mode ([`ModeHashing::PerMode`]).
    ///
    /// # Errors
    /// `sketches ∉ 1..=256`, `sketch_dim` not a power of two in `2⁴..=2²⁴`, or `B·b > 2²⁷` or
    /// `B·p·n > 2²⁷` hashes ([`Error::TooLarge`]; [`with_hashing`](Self::with_hashing) with
    /// shared hashing counts `B·n`).
    ///
    /// # Performance
    /// `O(B·(p·nnz(T) + b log b))` time; memory `B·(b/2 + 1)` complex numbers plus `B·p·n`
    /// hashes.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> randnla::Result<()> {
    /// use randnla::faer::Par;
    /// use randnla::tensor::{SymmetricTensor, TensorSketches};
    /// use randnla::Seed;
    /// // T = 2·a⊗a⊗a + b⊗b⊗b with orthonormal a, b in dimension 8: T(a,a,a) = 2.
    /// let a = [0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0];
    /// let b = [0.0, 0.0, 0.0, 0.0, 0.5, -0.5, 0.5, -0.5];
    /// let t = SymmetricTensor::from_components(3, 8, &[2.0, 1.0], &[a, b])?;
    /// let exact = t.contract_all(&a, Par::Seq)?;
    /// assert!((exact - 2.0).abs() < 1e-15);
    /// // B = 15 sketches of size b = 2¹⁰.
    /// let s = TensorSketches::new(&t, 15, 1 << 10, Seed::new(3), Par::Seq)?;
    /// assert_eq!((s.sketches(), s.sketch_dim(), s.order(), s.dim()), (15, 1 << 10, 3, 8));
    /// // Each sketch's estimate is unbiased, its variance about ‖T‖_F²/b, several times more at
    /// // a component such as a (module docs): with ‖T‖_F² = 5, a standard deviation of a few
    /// // times √(5/1024) ≈ 0.07 (0.18 measured here, pooled over 400 seeds). For Gaussian errors
    /// // the median over B = 15 sketches would divide it by about √(2B/π) ≈ 3.1; here it divides
    /// // it 7.35-fold (0.025 rms over 400 seeds, 0.08 at most): at a component of this small
    /// // tensor most sketches see no collision that matters and the errors are heavy-tailed. The
    /// // bound 0.25, 1/8 of the value, is 10 rms errors of the median, yet an estimate of 0, or
    /// // of twice the value, is far outside it.
    /// let estimate = s.contract_all(&a, Par::Seq)?;
    /// assert!((estimate - exact).abs() < 0.25, "{estimate} vs {exact}");
    /// # Ok(()) }
    /// ```
    pub fn new(
        t: &SymmetricTensor,
        sketches: usize,
        sketch_dim: usize,
        seed: Seed,
        par: Par,
    ) -> Result<Self> {
        Self::with_hashing(t, sketches, sketch_dim, ModeHashing::PerMode, seed, par)
    }

    /// [`TensorSketches::new`] with the given [`ModeHashing`]; [`ModeHashing::Auto`] is resolved
    /// against the full size `b` ([`ModeHashing::resolve`]; the power method resolves it against
    /// its folded search size before building, see `SketchParams::resolve_hashing`). Pairs of
    /// order-3 shared sketches are cached at `b` and at the size given to the power method's
    /// search (up to `2²⁷` each, 1 GiB); at other sizes they are found at every evaluation.
    ///
    /// # Errors
    /// As [`TensorSketches::new`]; with [`ModeHashing::Shared`] (or `Auto` resolved to it) also
    /// `p·b > 2²⁷` (the deflation buffers) and, at order 3, more than `2²⁷` colliding index pairs
    /// in all (`≈ 2n²/b` per sketch; checked before anything is built), both
    /// [`Error::TooLarge`]. Evaluations at a folded size whose pairs are not cached (the power
    /// method caches its search size) return the same error when one sketch has more than `2²⁷`
    /// there.
    ///
    /// # Performance
    /// [`ModeHashing::Shared`]: `O(B·(nnz(T)/p! + b log b))` on dense storage (the entries with
    /// non-decreasing indices are copied once into a contiguous array of `C(n+p−1, p) ≈ n^p/p!`
    /// values, held during the build, and streamed by every sketch), `O(B·(nnz(T) + b log b))`
    /// on coordinate storage (every stored entry is visited, one in `≈ p!` scattered); `B·n`
    /// hashes; at order 3 also the slices `T_xx·` (`n²` values or the stored `(x, x, y)`
    /// entries) and the `≈ 2n²/b` colliding index pairs of each sketch.
    pub fn with_hashing(
        t: &SymmetricTensor,
        sketches: usize,
        sketch_dim: usize,
        hashing: ModeHashing,
        seed: Seed,
        par: Par,
    ) -> Result<Self> {
        if !(1..=MAX_SKETCHES).contains(&sketches) {
            return Err(Error::param(
                "sketches",
                format!("{sketches} sketches: expected 1..={MAX_SKETCHES}"),
            ));
        }
        if !sketch_dim.is_power_of_two() || !(MIN_SKETCH_DIM..=MAX_SKETCH_DIM).contains(&sketch_dim)
        {
            return Err(Error::param(
                "sketch_dim",
                format!(
                    "{sketch_dim}: expected a power of two in {MIN_SKETCH_DIM}..={MAX_SKETCH_DIM}"
                ),
            ));
        }
        let (p, n, b) = (t.order(), t.dim(), sketch_dim);
        let hashing = hashing.resolve(p, n, b);
        let per = match hashing {
            ModeHashing::Shared => 1,
            _ => p,
        };
        let total = sketches as u128 * b as u128;
        let hashes = sketches as u128 * per as u128 * n as u128;
        if total > MAX_SKETCH_TOTAL as u128 || hashes > MAX_SKETCH_TOTAL as u128 {
            return Err(Error::TooLarge {
                what: format!(
                    "{sketches} sketches of size {b} (B·b = {total} entries) and their hash \
                     tables (B·{per}·n = {hashes} hashes; each count at most 2²⁷: choose fewer \
                     sketches (SketchParams::sketches), a smaller sketch_dim, or, for the \
                     hashes, shared hashing)"
                ),
                requested: total.max(hashes),
                limit: MAX_SKETCH_TOTAL as u128,
            });
        }
        // Shared-hash deflation holds p half spectra per task (`p·(b/2 + 1)` complex numbers).
        let powers = p as u128 * b as u128;
        if hashing == ModeHashing::Shared && powers > MAX_SKETCH_TOTAL as u128 {
            return Err(Error::TooLarge {
                what: format!("the deflation buffers of order {p} at sketch size {b}"),
                requested: powers,
                limit: MAX_SKETCH_TOTAL as u128,
            });
        }
        let hs = seed.derive(HASH_STREAM);
        let shift = 64 - b.trailing_zeros();
        let mut hash = Vec::with_capacity(hashes as usize);
        let mut sign = Vec::with_capacity(hashes as usize);
        for mk in 0..(sketches * per) as u64 {
            for i in 0..n as u64 {
                let w = hs.word(mk, i);
                hash.push((w >> shift) as u32);
                sign.push(if w & 1 == 0 { 1.0 } else { -1.0 });
            }
        }
        let mut sk = TensorSketches {
            order: p,
            dim: n,
            b,
            count: sketches,
            hashing,
            hash,
            sign,
            spectra: Vec::new(),
            folded: Vec::new(),
            folded_dim: 0,
            fft: Fft::new(b),
            pairing: None,
            scale_exp: t.scale_exp(),
        };
        // 1 within the range (`x·1 = x`, so nothing changes there), else `2⁻ᵉ`, applied to every
        // entry as it is read: bitwise the sketches of the scaled tensor.
        let s = t.scale_factor();
        if hashing == ModeHashing::Shared && p == 3 {
            // Before the build: too many colliding pairs is an error that should cost nothing.
            let hashes = (0..sketches).map(|m| sk.table(m, 0).0);
            sk.pairing = Some(PairingCorrection::new(t, s, hashes, b)?);
        }
        // One sketch at a time, streaming the tensor: the sketch (8·b bytes) stays in L2. (All
        // sketches per slab of the tensor, reading it once, was 1.9× slower at n = 400,
        // b = 2¹⁷: the sketches then thrash L2.)
        let mask = b - 1;
        // Shared hashing on dense storage reads only the entries with non-decreasing indices:
        // they are copied once into one contiguous array (`C(n+p−1, p)` values, `≈ 1/p!` of the
        // tensor), which every sketch then streams (n = 400, B = 14, one thread: the build took
        // 0.29 s scattering from the row tails of the dense tensor, 0.21 s with the copy).
        let packed = match (hashing, t.dense_data()) {
            (ModeHashing::Shared, Some(d)) => {
                let mut out = Vec::new();
                pack_canonical(d, n, p, 0, &mut out);
                Some(out)
            }
            _ => None,
        };
        let build = |m: usize| -> Result<Vec<C>> {
            let mut w = sk.work(&sk.fft);
            // With a shared hash every table is the same one; `packed` is `Some` exactly for a
            // shared hash on dense storage.
            let tables: Vec<(&[u32], &[f64])> = (0..p).map(|k| sk.table(m, k)).collect();
            let shared = hashing == ModeHashing::Shared;
            match (&packed, t.dense_data()) {
                (Some(d), _) => {
                    packed_scatter(d, p, tables[0], 0, 0, s, &mut w.real, mask);
                }
                (None, Some(d)) => dense_scatter(d, &tables, 0, 0, s, &mut w.real, mask),
                (None, None) => t.for_each_entry(|idx, v| {
                    // A shared hash takes each index multiset once: its non-decreasing form.
                    if shared && idx.windows(2).any(|w| w[0] > w[1]) {
                        return;
                    }
                    let mut pos = 0usize;
                    let mut sg = v * s;
                    for (&(h, sigma), &i) in tables.iter().zip(idx) {
                        pos += h[i as usize] as usize;
                        sg *= sigma[i as usize];
                    }
                    w.real[pos & mask] += sg;
                }),
            };
            sk.fft.forward(&mut w.real, &mut w.spec, &mut w.scratch)?;
            Ok(w.spec)
        };
        let spectra: Vec<Vec<C>> = if super::tasks(par) > 1 {
            (0..sketches)
                .into_par_iter()
                .map(build)
                .collect::<Result<_>>()?
        } else {
            (0..sketches).map(build).collect::<Result<_>>()?
        };
        sk.spectra = spectra;
        Ok(sk)
    }

    /// The hash tables `(h_k, σ_k)` of sketch `m`, mode `k` (unchecked).
    fn table(&self, m: usize, k: usize) -> (&[u32], &[f64]) {
        let n = self.dim;
        debug_assert_ne!(self.hashing, ModeHashing::Auto, "resolved when built");
        let o = match self.hashing {
            ModeHashing::Shared => m * n,
            _ => (m * self.order + k) * n,
        };
        (&self.hash[o..o + n], &self.sign[o..o + n])
    }

    /// How the modes are hashed ([`ModeHashing::PerMode`] or [`ModeHashing::Shared`]: `Auto`
    /// is resolved for the tensor's order when the sketches are built).
    pub fn hashing(&self) -> ModeHashing {
        self.hashing
    }

    /// Number of sketches `B`.
    pub fn sketches(&self) -> usize {
        self.count
    }

    /// Sketch size `b`.
    pub fn sketch_dim(&self) -> usize {
        self.b
    }

    /// Order `p` of the sketched tensor.
    pub fn order(&self) -> usize {
        self.order
    }

    /// Dimension `n` of the sketched tensor.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The `e` of the scaling note: the sketches hold `T·2⁻ᵉ`.
    pub(crate) fn scale_exp(&self) -> i32 {
        self.scale_exp
    }

    /// `x·2ᵉ`: a value of the scaled sketches in `T`'s units (`x` itself within the range).
    fn unscale(&self, x: f64) -> f64 {
        mul_pow2(x, self.scale_exp)
    }

    /// `(h_k(i), σ_k(i))` of sketch `m`, mode `k`.
    ///
    /// # Errors
    /// `m ≥ B`, `k ≥ p` or `i ≥ n`.
    pub fn bucket(&self, m: usize, k: usize, i: usize) -> Result<(usize, f64)> {
        if m >= self.count || k >= self.order || i >= self.dim {
            // Named as the first argument out of range.
            let name = if m >= self.count {
                "m"
            } else if k >= self.order {
                "k"
            } else {
                "i"
            };
            return Err(Error::param(
                name,
                format!(
                    "(sketch {m}, mode {k}, index {i}) outside ({}, {}, {})",
                    self.count, self.order, self.dim
                ),
            ));
        }
        let (h, sg) = self.table(m, k);
        Ok((h[i] as usize, sg[i]))
    }

    /// The current (deflated) sketch `s_T` of sketch `m`, recovered from its spectrum.
    ///
    /// # Errors
    /// `m ≥ B`; [`Error::NonFinite`] when a bucket is beyond the `f64` range in the tensor's
    /// units (entries near the largest `f64` summed into one bucket; the sketches hold them
    /// scaled, see the scaling note).
    pub fn tensor_sketch(&self, m: usize) -> Result<Vec<f64>> {
        let spec = self
            .spectra
            .get(m)
            .ok_or_else(|| Error::param("m", format!("sketch {m} of {}", self.count)))?;
        let mut w = self.work(&self.fft);
        w.spec.copy_from_slice(spec);
        self.fft.inverse(&mut w.spec, &mut w.real, &mut w.scratch)?;
        if self.scale_exp != 0 {
            w.real.iter_mut().for_each(|x| *x = self.unscale(*x));
        }
        check_overflow(&w.real, "the tensor sketch in the tensor's units")?;
        Ok(w.real)
    }

    /// The count sketch of `u^{⊗p}` under sketch `m`, through FFTs of the mode sketches: the sum
    /// over all ordered index tuples `τ` of `σ(τ)·u_τ` at bucket `H(τ)`, the vector the
    /// contractions correlate `s_T` with. (For [`ModeHashing::Shared`] this is not the sketch
    /// [`TensorSketches::with_hashing`] builds of the tensor `u^{⊗p}`, which takes each index
    /// multiset once: see [`TensorSketches::rank_one_sketch`].)
    ///
    /// # Errors
    /// `m ≥ B`, `u.len() ≠ n` or a non-finite entry; [`Error::NonFinite`] when the sketch is
    /// beyond the `f64` range (a finite `u` far from unit scale).
    pub fn power_sketch(&self, m: usize, u: &[f64]) -> Result<Vec<f64>> {
        self.check_u(u)?;
        if m >= self.count {
            return Err(Error::param("m", format!("sketch {m} of {}", self.count)));
        }
        let mut w = self.work(&self.fft);
        self.mode_product(m, 0, u, &self.fft, &mut w)?;
        self.fft.inverse(&mut w.prod, &mut w.real, &mut w.scratch)?;
        check_overflow(&w.real, "the count sketch of u^{⊗p}")?;
        Ok(w.real)
    }

    /// The sketch of the tensor `u^{⊗p}` as [`TensorSketches::with_hashing`] builds it under sketch
    /// `m` (what deflation subtracts): [`TensorSketches::power_sketch`] for
    /// [`ModeHashing::PerMode`], the multiset sum `Σ_M σ(M)·u_M e_{H(M)}` for
    /// [`ModeHashing::Shared`].
    ///
    /// # Errors
    /// As [`TensorSketches::power_sketch`].
    pub fn rank_one_sketch(&self, m: usize, u: &[f64]) -> Result<Vec<f64>> {
        self.check_u(u)?;
        if m >= self.count {
            return Err(Error::param("m", format!("sketch {m} of {}", self.count)));
        }
        let mut w = self.work(&self.fft);
        self.rank_one_spectrum(m, u, &mut w)?;
        self.fft.inverse(&mut w.prod, &mut w.real, &mut w.scratch)?;
        check_overflow(&w.real, "the sketch of the tensor u^{⊗p}")?;
        Ok(w.real)
    }

    /// `w.prod` = the half spectrum of [`TensorSketches::rank_one_sketch`] at full size.
    fn rank_one_spectrum(&self, m: usize, u: &[f64], w: &mut Work) -> Result<()> {
        if self.hashing == ModeHashing::PerMode {
            return self.mode_product(m, 0, u, &self.fft, w);
        }
        // Newton's identity for the complete homogeneous polynomial, frequency by frequency:
        // h_0 = 1, h_k = (1/k)·Σ_{j=1..k} P_j·h_{k−j}, with P_j the spectrum of
        // Σ_i σ(i)^j u_i^j e_{j·h(i)}.
        let p = self.order;
        let mask = self.b - 1;
        let len = w.spec.len();
        let (hash, sign) = self.table(m, 0);
        w.powers.resize(p * len, C::new(0.0, 0.0));
        for j in 1..=p {
            w.real.iter_mut().for_each(|x| *x = 0.0);
            for ((&h, &sg), &ui) in hash.iter().zip(sign).zip(u) {
                let sgj = if j % 2 == 1 { sg } else { 1.0 };
                w.real[(j * h as usize) & mask] += sgj * ui.powi(j as i32);
            }
            let dst = &mut w.powers[(j - 1) * len..j * len];
            self.fft.forward(&mut w.real, dst, &mut w.scratch)?;
        }
        if p == 3 {
            // h_3 = (P_1³ + 3·P_1·P_2 + 2·P_3)/6, the common case without the recurrence.
            let (p1, rest) = w.powers.split_at(len);
            let (p2, p3) = rest.split_at(len);
            for (((out, &a), &b), &c) in w.prod.iter_mut().zip(p1).zip(p2).zip(p3) {
                *out = (a * (a * a + b * 3.0) + c * 2.0) * (1.0 / 6.0);
            }
            return Ok(());
        }
        let mut inv = [0.0; MAX_ORDER + 1];
        for (k, v) in inv.iter_mut().enumerate().skip(1) {
            *v = 1.0 / k as f64;
        }
        let mut h = [C::new(0.0, 0.0); MAX_ORDER + 1];
        let mut pf = [C::new(0.0, 0.0); MAX_ORDER + 1];
        h[0] = C::new(1.0, 0.0);
        for (f, out) in w.prod.iter_mut().enumerate() {
            for (j, v) in pf[1..=p].iter_mut().enumerate() {
                *v = w.powers[j * len + f];
            }
            for k in 1..=p {
                let mut acc = C::new(0.0, 0.0);
                for j in 1..=k {
                    acc += pf[j] * h[k - j];
                }
                h[k] = acc * inv[k];
            }
            *out = h[p];
        }
        Ok(())
    }

    fn check_u(&self, u: &[f64]) -> Result<()> {
        if u.len() != self.dim {
            return Err(Error::dim("u", self.dim, u.len()));
        }
        crate::input::check_finite_slice(u, "u")
    }

    fn work(&self, fft: &Fft) -> Work {
        let zero = C::new(0.0, 0.0);
        Work {
            real: vec![0.0; fft.len()],
            spec: vec![zero; fft.spec_len()],
            prod: vec![zero; fft.spec_len()],
            corr: vec![zero; fft.spec_len()],
            scratch: vec![zero; fft.scratch_len()],
            powers: Vec::new(),
        }
    }

    /// `w.prod = ∏_{k ≥ first} FFT(s_k(u))` for sketch `m` folded to size `b' = fft.len()`
    /// (hashes taken modulo `b'`), as a half spectrum.
    fn mode_product(
        &self,
        m: usize,
        first: usize,
        u: &[f64],
        fft: &Fft,
        w: &mut Work,
    ) -> Result<()> {
        self.mode_base(m, first, u, fft, w)?;
        let e = self.pending_power(first);
        if e > 1 {
            w.prod.iter_mut().for_each(|z| *z = power(*z, e));
        }
        Ok(())
    }

    /// The exponent [`TensorSketches::mode_base`] leaves to apply: `p − first` when all modes
    /// share one hash (the product of equal spectra is a power), else 1.
    fn pending_power(&self, first: usize) -> usize {
        match self.hashing {
            ModeHashing::Shared => self.order - first,
            _ => 1,
        }
    }

    /// `w.prod = ∏_{k ≥ first} FFT(s_k(u))` with per-mode hashes; with a shared hash, the one
    /// spectrum `FFT(s(u))`, still to be raised to [`TensorSketches::pending_power`].
    fn mode_base(&self, m: usize, first: usize, u: &[f64], fft: &Fft, w: &mut Work) -> Result<()> {
        let mask = fft.len() - 1;
        let Work {
            real,
            spec,
            prod,
            scratch,
            ..
        } = w;
        let count = match self.hashing {
            ModeHashing::Shared => 1,
            _ => self.order - first,
        };
        spectrum_product(fft, count, real, prod, spec, scratch, |j, real| {
            real.iter_mut().for_each(|x| *x = 0.0);
            let (hash, sign) = self.table(m, first + j);
            for ((&h, &sg), &ui) in hash.iter().zip(sign).zip(u) {
                real[h as usize & mask] += sg * ui;
            }
        })
    }

    /// The estimate of `T(I,u,…,u)` from sketch `m` folded to size `b' = fft.len()`.
    ///
    /// Folding a count sketch of size `b` to `b' | b` (`s'[t] = Σ_{t'' ≡ t mod b'} s[t'']`) gives
    /// the count sketch with hashes `h_k mod b'`; its DFT is the DFT of `s` sampled at every
    /// `(b/b')`-th frequency, so a folded sketch needs no building or deflation of its own.
    /// `proj`: [`PairingCorrection::projections`] of `u` when the sketches carry a correction.
    fn sketch_estimate(
        &self,
        m: usize,
        u: &[f64],
        proj: &[f64],
        fft: &Fft,
        w: &mut Work,
    ) -> Result<Vec<f64>> {
        self.mode_base(m, 1, u, fft, w)?;
        let e = self.pending_power(1);
        let corr = w.corr.iter_mut().zip(&w.prod);
        if self.folded_dim == fft.len() {
            // The kept copy of every (b/b')-th frequency: a contiguous read.
            for ((c, q), &sf) in corr.zip(&self.folded[m]) {
                *c = sf * power(*q, e).conj();
            }
        } else {
            let stride = self.b / fft.len();
            for ((c, q), &sf) in corr.zip(self.spectra[m].iter().step_by(stride)) {
                *c = sf * power(*q, e).conj();
            }
        }
        fft.inverse(&mut w.corr, &mut w.real, &mut w.scratch)?;
        let mask = fft.len() - 1;
        let (hash, sign) = self.table(m, 0);
        let mut est: Vec<f64> = hash
            .iter()
            .zip(sign)
            .map(|(&h, &sg)| sg * w.real[h as usize & mask])
            .collect();
        if let Some(pc) = &self.pairing {
            pc.apply(m, hash, fft.len(), u, proj, &mut est)?;
        }
        Ok(est)
    }

    /// Keeps a contiguous copy of the spectra folded to size `dim` (every `(b/dim)`-th
    /// frequency; a power of two `< b`, else nothing is kept), maintained through deflation:
    /// the folded evaluations then read `dim/2 + 1` contiguous values per sketch instead of one
    /// per cache line of the full spectrum.
    pub(crate) fn keep_folded(&mut self, dim: usize) {
        self.folded.clear();
        self.folded_dim = 0;
        if dim.is_power_of_two() && dim >= 2 && dim < self.b {
            self.folded_dim = dim;
            self.refold();
            if let Some(pc) = &mut self.pairing {
                pc.cache(self.hash.chunks_exact(self.dim.max(1)), dim);
            }
        }
    }

    fn refold(&mut self) {
        if self.folded_dim == 0 {
            return;
        }
        let stride = self.b / self.folded_dim;
        let len = self.folded_dim / 2 + 1;
        self.folded = self
            .spectra
            .iter()
            .map(|s| s.iter().step_by(stride).take(len).copied().collect())
            .collect();
    }

    pub(crate) fn estimates_unchecked(&self, u: &[f64], par: Par) -> Result<Vec<Vec<f64>>> {
        self.estimates_first(self.count, u, &self.fft, par)
    }

    /// A plan for the sketches folded to size `dim`, rounded down to a power of two in `2..=b`.
    pub(crate) fn folded_fft(&self, dim: usize) -> Fft {
        let dim = dim.clamp(2, self.b);
        let dim = 1usize << (usize::BITS - 1 - dim.leading_zeros());
        if dim == self.b {
            self.fft.clone()
        } else {
            Fft::new(dim)
        }
    }

    /// Estimates of the first `count` sketches only (`count ≤ B`), folded to size `fft.len()`
    /// (from [`TensorSketches::folded_fft`]).
    pub(crate) fn estimates_first(
        &self,
        count: usize,
        u: &[f64],
        fft: &Fft,
        par: Par,
    ) -> Result<Vec<Vec<f64>>> {
        self.estimates_with(count, u, fft, par, &mut Buffers::default())
    }

    /// [`TensorSketches::estimates_first`] reusing the buffers in `bufs` (made or remade when
    /// missing or of another size): the power method evaluates hundreds of times, and fresh
    /// buffers of `b` complex numbers cost page faults each time. Task `τ` of `T` takes the
    /// sketches `τ·⌈count/T⌉..`; every sketch's arithmetic is the same whichever buffer and
    /// task it gets.
    pub(crate) fn estimates_with(
        &self,
        count: usize,
        u: &[f64],
        fft: &Fft,
        par: Par,
        bufs: &mut Buffers,
    ) -> Result<Vec<Vec<f64>>> {
        let count = count.clamp(1, self.count);
        let tasks = super::tasks(par).min(count);
        if bufs.0.len() < tasks || bufs.0.iter().any(|w| w.real.len() != fft.len()) {
            bufs.0 = (0..tasks).map(|_| self.work(fft)).collect();
        }
        let per = count.div_ceil(tasks);
        let proj = self
            .pairing
            .as_ref()
            .map_or_else(Vec::new, |pc| pc.projections(u));
        let run = |(t, w): (usize, &mut Work)| -> Result<Vec<Vec<f64>>> {
            (t * per..((t + 1) * per).min(count))
                .map(|m| self.sketch_estimate(m, u, &proj, fft, w))
                .collect()
        };
        let parts: Vec<Result<Vec<Vec<f64>>>> = if tasks > 1 {
            bufs.0[..tasks]
                .par_iter_mut()
                .enumerate()
                .map(run)
                .collect()
        } else {
            bufs.0[..1].iter_mut().enumerate().map(run).collect()
        };
        let mut out = Vec::with_capacity(count);
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// The `B` per-sketch estimates of `T(I,u,…,u)` (each unbiased with per-mode hashing and
    /// with the shared hash at order 3; see [`ModeHashing::Shared`] for its bias at order ≥ 4).
    ///
    /// # Errors
    /// `u.len() ≠ n` or a non-finite entry; [`Error::NonFinite`] when an estimate is beyond
    /// the `f64` range (a finite `u` far from unit scale, whose products overflow), rather than
    /// `Ok` with an infinite or `NaN` value.
    ///
    /// # Performance
    /// Per sketch: `p − 1` count sketches of `u` (`O(n)` each), `p − 1` real FFTs and one
    /// inverse real FFT of length `b` (one count sketch and one forward FFT with a shared hash).
    pub fn estimates_but_one(&self, u: &[f64], par: Par) -> Result<Vec<Vec<f64>>> {
        self.check_u(u)?;
        let mut est = self.estimates_unchecked(u, par)?;
        if self.scale_exp != 0 {
            est.iter_mut().flatten().for_each(|x| *x = self.unscale(*x));
        }
        for z in &est {
            check_overflow(z, "a sketched estimate of T(I,u,…,u)")?;
        }
        Ok(est)
    }

    /// The `B` per-sketch estimates of `T(u,…,u)` (unbiased as for
    /// [`TensorSketches::estimates_but_one`]).
    ///
    /// # Errors
    /// As [`TensorSketches::estimates_but_one`].
    pub fn estimates_all(&self, u: &[f64], par: Par) -> Result<Vec<f64>> {
        self.check_u(u)?;
        let est: Vec<f64> = self
            .estimates_unchecked(u, par)?
            .iter()
            .map(|z| self.unscale(dot(z, u)))
            .collect();
        check_overflow(&est, "a sketched estimate of T(u,…,u)")?;
        Ok(est)
    }

    /// Median over the sketches of the estimates of `T(I,u,…,u)`, coordinate-wise.
    ///
    /// # Errors
    /// As [`TensorSketches::estimates_but_one`].
    pub fn contract_but_one(&self, u: &[f64], par: Par) -> Result<Vec<f64>> {
        self.check_u(u)?;
        let est = self.estimates_unchecked(u, par)?;
        for z in &est {
            check_overflow(z, "a sketched estimate of T(I,u,…,u)")?;
        }
        let mut z = median_vectors(&est);
        if self.scale_exp != 0 {
            z.iter_mut().for_each(|x| *x = self.unscale(*x));
        }
        check_overflow(&z, "the median estimate of T(I,u,…,u)")?;
        Ok(z)
    }

    /// Median over the sketches of the estimates of `T(u,…,u)`.
    ///
    /// # Errors
    /// As [`TensorSketches::estimates_but_one`].
    pub fn contract_all(&self, u: &[f64], par: Par) -> Result<f64> {
        self.check_u(u)?;
        let mut e: Vec<f64> = self
            .estimates_unchecked(u, par)?
            .iter()
            .map(|z| dot(z, u))
            .collect();
        check_overflow(&e, "a sketched estimate of T(u,…,u)")?;
        let v = self.unscale(median(&mut e));
        check_overflow(&[v], "the median estimate of T(u,…,u)")?;
        Ok(v)
    }

    /// Deflation in sketch space: `s_T ← s_T − w·(sketch of u^{⊗p})` for every sketch (see
    /// [`TensorSketches::rank_one_sketch`]).
    ///
    /// # Errors
    /// `u.len() ≠ n`, a non-finite entry, or a non-finite `w`; [`Error::NonFinite`] when the
    /// subtracted sketch could leave the `f64` range (`|w|·‖u‖₁^p`, which bounds every
    /// frequency of the sketch of `w·u^{⊗p}`, times 16 for the rounding and the intermediate
    /// sums, added to the largest stored frequency, is beyond it: a finite `u` or `w` far from
    /// unit scale; also when `16·‖u‖₁^p` alone overflows, whatever `w`, since the sketch of
    /// `u^{⊗p}` is formed before it is multiplied by `w`), instead of sketches poisoned with
    /// infinities and `NaN`. All are checked first: nothing changes. An FFT failure partway (not
    /// expected: only a length mismatch makes one fail) would leave some sketches deflated and
    /// others not; the object should then be dropped.
    pub fn deflate(&mut self, w: f64, u: &[f64], par: Par) -> Result<()> {
        self.check_u(u)?;
        if !w.is_finite() {
            return Err(Error::param("w", format!("{w} is not finite")));
        }
        self.deflate_scaled(mul_pow2(w, -self.scale_exp), u, par)
    }

    /// Refuses a deflation whose sketch could overflow (see [`TensorSketches::deflate`]): every
    /// frequency of the count sketch of `u^{⊗p}` (per-mode: a product of `p` mode spectra, each
    /// at most `‖u‖₁`; shared: the complete homogeneous polynomial of the power sums, each
    /// `|P_j| ≤ ‖u‖₁^j`, so `|h_p| ≤ ‖u‖₁^p`) is at most `‖u‖₁^p`; the margin 16 covers the
    /// intermediate sums (`6‖u‖₁³` at order 3, `k·‖u‖₁^k` in the recurrence) and rounding.
    fn check_deflation_range(&self, w: f64, u: &[f64]) -> Result<()> {
        let l1: f64 = u.iter().map(|x| x.abs()).sum();
        let l1p = (0..self.order).fold(16.0, |acc, _| acc * l1);
        let top = self
            .spectra
            .iter()
            .flatten()
            .fold(0.0f64, |m, z| m.max(z.re.abs()).max(z.im.abs()));
        if !(l1p.is_finite() && (top + w.abs() * l1p).is_finite()) {
            return Err(Error::NonFinite {
                what: format!(
                    "the deflation by w = {w} (in the sketches' units) along u with ‖u‖₁ = {l1} \
                     (its sketch, w·u^{{⊗{}}}, would overflow the f64 range; nothing was changed)",
                    self.order
                ),
                row: 0,
                col: 0,
            });
        }
        Ok(())
    }

    /// [`TensorSketches::deflate`] by a weight in the units of the scaled sketches (`w·2⁻ᵉ`),
    /// as the power method finds it.
    pub(crate) fn deflate_scaled(&mut self, w: f64, u: &[f64], par: Par) -> Result<()> {
        self.check_u(u)?;
        if !w.is_finite() {
            return Err(Error::param(
                "w",
                format!("{w} (the weight in the sketches' units) is not finite"),
            ));
        }
        self.check_deflation_range(w, u)?;
        // The spectra are moved out while the sketches' hashes are read, and put back before
        // any error is returned. Task `τ` of `T` takes sketches `τ·⌈B/T⌉..` with one buffer.
        let mut spectra = std::mem::take(&mut self.spectra);
        let this = &*self;
        let tasks = super::tasks(par).min(this.count).max(1);
        let per = this.count.div_ceil(tasks);
        let run = |(t, chunk): (usize, &mut [Vec<C>])| -> Result<()> {
            let mut wk = this.work(&this.fft);
            for (k, spec) in chunk.iter_mut().enumerate() {
                this.rank_one_spectrum(t * per + k, u, &mut wk)?;
                for (s, x) in spec.iter_mut().zip(&wk.prod) {
                    *s -= x * w;
                }
            }
            Ok(())
        };
        let done: Result<()> = if tasks > 1 {
            spectra.par_chunks_mut(per).enumerate().try_for_each(run)
        } else {
            spectra.chunks_mut(per).enumerate().try_for_each(run)
        };
        self.spectra = spectra;
        done?;
        if let Some(pc) = &mut self.pairing {
            pc.deflate(w, u);
        }
        self.refold();
        Ok(())
    }
}

/// Scatters a dense row-major block into a count sketch: modes before the last fix a partial
/// hash `pos` and sign `sg`; the last mode runs contiguously.
fn dense_scatter(
    d: &[f64],
    tables: &[(&[u32], &[f64])],
    k: usize,
    pos: usize,
    sg: f64,
    s: &mut [f64],
    mask: usize,
) {
    let (h, sigma) = tables[k];
    if k + 1 == tables.len() {
        for ((&x, &hi), &si) in d.iter().zip(h).zip(sigma) {
            s[(pos + hi as usize) & mask] += sg * si * x;
        }
        return;
    }
    let step = d.len() / h.len();
    for ((sub, &hi), &si) in d.chunks_exact(step).zip(h).zip(sigma) {
        dense_scatter(sub, tables, k + 1, pos + hi as usize, sg * si, s, mask);
    }
}

/// Appends the entries of a dense row-major block of `modes` modes (`n^modes` values) whose
/// indices are non-decreasing and at least `start`, in lexicographic order.
fn pack_canonical(d: &[f64], n: usize, modes: usize, start: usize, out: &mut Vec<f64>) {
    if modes <= 1 {
        out.extend_from_slice(&d[start..]);
        return;
    }
    let step = d.len() / n;
    for i in start..n {
        pack_canonical(&d[i * step..(i + 1) * step], n, modes - 1, i, out);
    }
}

/// Scatters entries packed by [`pack_canonical`] (each index multiset once) into a count sketch
/// with one hash `(h, σ)` for every mode, in the same order; `start` is the previous mode's
/// index, `pos` and `sg` the partial hash and sign of the modes before. Returns the number of
/// values consumed from `d`.
#[allow(clippy::too_many_arguments)]
fn packed_scatter(
    d: &[f64],
    modes: usize,
    (h, sigma): (&[u32], &[f64]),
    start: usize,
    pos: usize,
    sg: f64,
    s: &mut [f64],
    mask: usize,
) -> usize {
    let n = h.len();
    if modes <= 1 {
        // `s` has exactly `mask + 1` entries, so the masked index needs no bounds check.
        let s = &mut s[..=mask];
        let len = n - start;
        for ((&x, &hi), &si) in d[..len].iter().zip(&h[start..]).zip(&sigma[start..]) {
            s[(pos + hi as usize) & mask] += sg * si * x;
        }
        return len;
    }
    let mut used = 0;
    for i in start..n {
        let (p, g) = (pos + h[i] as usize, sg * sigma[i]);
        used += packed_scatter(&d[used..], modes - 1, (h, sigma), i, p, g, s, mask);
    }
    used
}

/// `z^e` for a small exponent `e ≥ 1` (`e = 0` gives 1).
#[inline]
fn power(z: C, e: usize) -> C {
    match e {
        0 => C::new(1.0, 0.0),
        1 => z,
        2 => z * z,
        3 => z * z * z,
        _ => {
            let mut r = z;
            for _ in 1..e {
                r *= z;
            }
            r
        }
    }
}

/// Median of a slice (mean of the two middle values for even length); reorders `v`.
pub(crate) fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    v.sort_unstable_by(f64::total_cmp);
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Coordinate-wise median of equally long vectors.
pub(crate) fn median_vectors(est: &[Vec<f64>]) -> Vec<f64> {
    let n = est.first().map_or(0, Vec::len);
    let mut col = vec![0.0; est.len()];
    (0..n)
        .map(|i| {
            for (c, z) in col.iter_mut().zip(est) {
                *c = z[i];
            }
            median(&mut col)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Folding: the estimates from sketches folded to `b_s` equal, to rounding, the count-sketch
    /// estimate `σ₁(i)·Σ_{j,k} s'_T[(h₁(i)+h₂(j)+h₃(k)) mod b_s]·σ₂(j)σ₃(k)·u_j·u_k` computed
    /// directly from the folded tensor sketch `s'_T[t] = Σ_{t' ≡ t mod b_s} s_T[t']`; with the
    /// shared hash, minus the sign-even collision terms, enumerated here from their definition
    /// (multisets `M ≠ N = {i,j,k}` whose union has only even multiplicities and
    /// `H(M) ≡ H(N) mod b_s`) on the current tensor — before and after a deflation.
    #[test]
    fn folded_estimates_equal_the_count_sketch_with_folded_hashes() {
        for hashing in [ModeHashing::PerMode, ModeHashing::Shared] {
            folded_estimates_for(hashing);
        }
    }

    fn folded_estimates_for(hashing: ModeHashing) {
        let (t, _, a) = SymmetricTensor::synthetic_orthogonal(3, 7, 2, 0.1, Seed::new(3)).unwrap();
        // Dims 16 (cached by `keep_folded`), 32 (pairs computed on the fly) and 64 (full).
        check_against_definition(&t, hashing, 64, 16, &[16, 32, 64], &a[0]);
    }

    /// The same with a sparse tensor (rows 0, 4 and 7 of `T_xx·` empty, the others partly
    /// filled), in coordinate storage and densified (whose zero entries are skipped too): the
    /// correction's sparse-row walk and lookup, deflated by a vector that is no factor.
    #[test]
    fn folded_estimates_with_sparse_slices() {
        let entries: [[usize; 3]; 12] = [
            [1, 1, 2],
            [1, 1, 5],
            [2, 2, 2],
            [3, 3, 8],
            [5, 5, 1],
            [5, 6, 7],
            [6, 6, 3],
            [8, 8, 0],
            [0, 2, 4],
            [2, 3, 3],
            [1, 4, 6],
            [8, 8, 8],
        ];
        let idx: Vec<usize> = entries.iter().flatten().copied().collect();
        let val: Vec<f64> = (0..entries.len()).map(|k| 0.5 + k as f64 * 0.37).collect();
        let coo = SymmetricTensor::coordinate(3, 9, &idx, &val).unwrap();
        let v: Vec<f64> = (0..9).map(|i| (i as f64 * 1.3).cos()).collect();
        for t in [coo.clone(), coo.to_dense().unwrap()] {
            check_against_definition(&t, ModeHashing::Shared, 16, 4, &[4, 8, 16], &v);
        }
    }

    /// Checks the estimates of 3 (or `B`) sketches of size `b` (`keep_folded(kept)`) at each of
    /// `dims` against the definition, before and after deflating `0.7·w^{⊗3}`.
    fn check_against_definition(
        t: &SymmetricTensor,
        hashing: ModeHashing,
        b: usize,
        kept: usize,
        dims: &[usize],
        w: &[f64],
    ) {
        let n = t.dim();
        let mut sk =
            TensorSketches::with_hashing(t, 3, b, hashing, Seed::new(5), Par::Seq).unwrap();
        sk.keep_folded(kept);
        let mut dense = t.to_dense().unwrap().dense_data().unwrap().to_vec();
        let u: Vec<f64> = (0..n).map(|i| 0.3 + (i as f64 * 0.7).sin()).collect();
        let mut collisions = 0;
        for step in 0..2 {
            for &dim in dims {
                let est = sk
                    .estimates_first(3, &u, &sk.folded_fft(dim), Par::Seq)
                    .unwrap();
                for (m, z) in est.iter().enumerate() {
                    let full = sk.tensor_sketch(m).unwrap();
                    let mut folded = vec![0.0; dim];
                    for (t, v) in full.iter().enumerate() {
                        folded[t % dim] += v;
                    }
                    let hs = |k: usize, i: usize| sk.bucket(m, k, i).unwrap();
                    for (i, zi) in z.iter().enumerate() {
                        let (h1, s1) = hs(0, i);
                        let mut want = 0.0;
                        for j in 0..n {
                            for k in 0..n {
                                let ((h2, s2), (h3, s3)) = (hs(1, j), hs(2, k));
                                want += folded[(h1 + h2 + h3) % dim] * s2 * s3 * u[j] * u[k];
                            }
                        }
                        want *= s1;
                        if hashing == ModeHashing::Shared {
                            let junk = sign_even_collisions(&dense, n, dim, i, &u, |x| hs(0, x).0);
                            collisions += usize::from(junk != 0.0);
                            want -= junk;
                        }
                        assert!(
                            (zi - want).abs() <= 1e-12 * (1.0 + want.abs()),
                            "{hashing:?} dense {} step {step} b_s={dim} sketch {m} i={i}: \
                             {zi} vs {want}",
                            t.is_dense()
                        );
                    }
                }
            }
            sk.deflate(0.7, w, Par::Seq).unwrap();
            for x in 0..n {
                for y in 0..n {
                    for z in 0..n {
                        dense[(x * n + y) * n + z] -= 0.7 * w[x] * w[y] * w[z];
                    }
                }
            }
        }
        // The correction must have had work to do.
        if hashing == ModeHashing::Shared {
            assert!(
                collisions > 10,
                "only {collisions} estimates had collision terms"
            );
        }
    }

    /// `Σ_{(j,k)} u_j u_k Σ_M T_M` over the multisets `M ≠ N = {i,j,k}` whose union with `N`
    /// has only even multiplicities and `H(M) ≡ H(N) (mod dim)` (all of them have
    /// `σ(M)σ(N) = 1`), straight from the definition.
    fn sign_even_collisions(
        d: &[f64],
        n: usize,
        dim: usize,
        i: usize,
        u: &[f64],
        h: impl Fn(usize) -> usize,
    ) -> f64 {
        let mut junk = 0.0;
        for j in 0..n {
            for k in 0..n {
                let nn = [i, j, k];
                for x in 0..n {
                    for y in x..n {
                        for z in y..n {
                            let mm = [x, y, z];
                            let mut s_m = mm;
                            let mut s_n = nn;
                            s_m.sort_unstable();
                            s_n.sort_unstable();
                            if s_m == s_n {
                                continue;
                            }
                            let mut count = vec![0usize; n];
                            for &v in mm.iter().chain(&nn) {
                                count[v] += 1;
                            }
                            if count.iter().any(|c| c % 2 == 1) {
                                continue;
                            }
                            let hm: usize = mm.iter().map(|&v| h(v)).sum();
                            let hn: usize = nn.iter().map(|&v| h(v)).sum();
                            if hm % dim == hn % dim {
                                junk += d[(x * n + y) * n + z] * u[j] * u[k];
                            }
                        }
                    }
                }
            }
        }
        junk
    }

    /// The kept contiguous folded spectra give bitwise the estimates of the strided reads of
    /// the full spectra, before and after a deflation (which must update the copy).
    #[test]
    fn kept_folded_spectra_match_strided_reads() {
        let (t, _, a) = SymmetricTensor::synthetic_orthogonal(3, 9, 2, 0.1, Seed::new(4)).unwrap();
        for hashing in [ModeHashing::PerMode, ModeHashing::Shared] {
            let plain =
                TensorSketches::with_hashing(&t, 4, 256, hashing, Seed::new(6), Par::Seq).unwrap();
            let mut kept = plain.clone();
            let mut plain = plain;
            let fft = plain.folded_fft(64);
            kept.keep_folded(64);
            let u: Vec<f64> = (0..9).map(|i| 0.2 + (i as f64 * 0.9).cos()).collect();
            for step in 0..2 {
                let x = plain.estimates_first(4, &u, &fft, Par::Seq).unwrap();
                let y = kept.estimates_first(4, &u, &fft, Par::Seq).unwrap();
                let bits = |e: &Vec<Vec<f64>>| -> Vec<u64> {
                    e.iter().flatten().map(|v| v.to_bits()).collect()
                };
                assert_eq!(bits(&x), bits(&y), "{hashing:?} step {step}");
                plain.deflate(0.7, &a[0], Par::Seq).unwrap();
                kept.deflate(0.7, &a[0], Par::Seq).unwrap();
            }
        }
    }
}
