//! TensorSketch: sketches of tensor products `x₁ ⊗ … ⊗ x_p` and of powers `x^{⊗p}` without
//! forming them, and the polynomial-kernel features built on them.
//!
//! | type | what it computes | size needed for relative variance ε² | cost per vector |
//! |---|---|---|---|
//! | [`TensorSketch`] | CountSketch of `x^{⊗p}` through FFTs (Pham–Pagh) | `m ≤ (2 + 3^p)/ε²` by the Avron–Nguyễn–Woodruff bound; for `x^{⊗p}` with these independent hashes at worst `≈ 2(2^p − 1)/ε²` (spread-out `x`) | `O(p(nnz(x) + m log m))` |
//! | [`TreeSketch`] | binary tree of degree-2 TensorSketches (Ahle et al.) | grows ≈ linearly in `p` (measured `m·Var ≈ 58` at `p = 8`, against 498 for TensorSketch) | `O(p·nnz(x) + p·m log m)` |
//! | [`PolyKernelFeatures`] | features `φ` with `E⟨φ(x), φ(y)⟩ = (γ⟨x,y⟩ + c)^p` | as the sketch it uses | as the sketch it uses |
//!
//! The building blocks are public so that other algorithms can reuse them: the per-mode hashes
//! ([`TensorSketch::mode_bucket`]), the combined hash of a multi-index
//! ([`TensorSketch::tensor_bucket`]), the CountSketch of a tensor given by its entries
//! ([`TensorSketch::sketch_entries`]), per-mode spectra ([`TensorSketch::mode_spectrum`]) and the
//! forward / inverse real FFT of length `m` with its normalization ([`TensorSketch::forward`],
//! [`TensorSketch::inverse`]) — what polynomial attention and the sketched tensor power method
//! need.
//!
//! # Accuracy depends on the data
//! `E⟨TS x, TS y⟩ = ⟨x, y⟩^p` always, but the *relative* error of a kernel matrix
//! `‖ΦΦᵀ − K‖_F/‖K‖_F` is small only when the kernel values are not tiny next to the norms.
//! Measured with `K = ⟨x, y⟩³`, `d = 40`, `n = 1500`: iid rows over data seeds 0–2 (their spread
//! over sketch seeds is ≈ 1 %); clustered rows at data seed 1, the median over 24 sketch seeds
//! with their range in parentheses (one sketch of the 24 gave 0.088 at `m = 16384`, 2.5× the
//! median: a single sketch's error has a right tail; one sketch seed and data seeds 0–2 gave
//! 0.15–0.16 / 0.06–0.08 / 0.03). `full_size_kernel_error_figures` in tests/tensor_sketch.rs
//! checks the median of 3 other sketch seeds against these medians (factor 1.5 each, 1.25 for
//! their geometric mean):
//!
//! | rows | m = 1024 | m = 4096 | m = 16384 |
//! |---|---|---|---|
//! | clustered ([`clustered_rows`]: 8 unit centres, noise 0.3) | 0.14 (0.12–0.18) | 0.075 (0.058–0.095) | 0.035 (0.030–0.088) |
//! | iid standard Gaussian (nearly orthogonal, `K` almost diagonal) | 0.91 | 0.45 | 0.23 |
//!
//! Both fall like `m^{-1/2}`; on iid rows the off-diagonal kernel values are so small that
//! the error stays large in relative terms. Use the features where rows are similar to each
//! other (clusters, low intrinsic dimension); do not expect a small relative error on unstructured
//! high-dimensional data.
//!
//! # Reproducibility
//! Every hash is a pure function of `(seed, mode, index)`; each row is sketched on its own, in a
//! fixed order, so the output is bitwise identical for any thread count. CSR, CSC and dense
//! inputs give bitwise identical features (zeros are skipped in every layout and nonzeros are
//! visited in increasing column order).
//!
//! Across machines the hashes are the same, but the last bits of an FFT may not be: rustfft
//! picks scalar, SSE, AVX or NEON kernels at run time, and on x86-64 (rustfft 6.4.1) they round
//! differently from complex length 8 on (a real FFT of even length `m` runs a complex one of
//! length `m/2`, of odd length `m` one of length `m`). Outputs of sketches with `p ≥ 2` can
//! therefore differ by rounding between CPUs except at the smallest `m`; the golden-value tests
//! use `m = 8`, whose FFT gave the same bits with every x86 kernel.
//!
//! # References
//! - N. Pham, R. Pagh, "Fast and scalable polynomial kernels via explicit feature maps", KDD 2013.
//! - H. Avron, H. L. Nguyễn, D. P. Woodruff, "Subspace embeddings for the polynomial kernel",
//!   NeurIPS 2014.
//! - T. D. Ahle, M. Kapralov, J. B. T. Knudsen, R. Pagh, A. Velingker, D. P. Woodruff, A. Zandieh,
//!   "Oblivious sketching of high-degree polynomial kernels", SODA 2020, arXiv 1909.01410.

use super::SparseSign;
use crate::error::{Error, Result};
use crate::input::{check_finite_slice, zeros_or_too_large, Layout, MatrixRef, SparseRef};
use crate::scalar::Scalar;
use crate::seed::Seed;
use faer::{Mat, MatMut, Par};
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

mod data;
mod poly;
mod tree;

pub use data::clustered_rows;
pub use poly::{PolyKernelFeatures, PolyKernelParams, TensorMethod};
/// Complex numbers as used by the spectra (re-exported from `num-complex` through `realfft`).
pub use realfft::num_complex::Complex;
pub use tree::TreeSketch;

/// Stream of the per-mode seeds of [`TensorSketch`]: mode `k` is drawn from
/// `seed.derive(MODE_STREAM + k)`.
const MODE_STREAM: u64 = 0x50 << 32;

/// Hash tables are precomputed for input dimensions up to this size (16 MiB of `u32` per mode);
/// larger dimensions regenerate codes from `(seed, index)` on the fly.
const TABLE_LIMIT: usize = 1 << 22;

/// Total entries of the precomputed hash tables of one sketch, over all its modes (and a tree's
/// internal nodes): 2²⁵ codes, 128 MiB and a fraction of a second to compute. Hashes beyond the
/// budget regenerate their codes on the fly (the same codes), so construction time and memory do
/// not grow with `Σ_k d_k`: `TensorSketch::new(65536, 2²², m)` would otherwise build 1 TiB of
/// tables from 2³⁸ hashes.
pub(crate) const TABLE_BUDGET: usize = 1 << 25;

/// Rows sketched by one task (a constant, so the result never depends on the thread count).
const ROWS_PER_TASK: usize = 16;

/// Largest degree accepted.
pub(crate) const MAX_DEGREE: usize = 1 << 16;

/// Largest sketch dimension accepted, 2²². The CountSketch codes would allow `m < 2³¹`, but
/// the real FFT of length `m` is planned at construction, and rustfft's plan for a prime `m`
/// (Rader's algorithm, recursively) costs about 240 bytes and 0.4 µs per unit of `m`: measured
/// peak RSS 1.0 GB and 1.6 s for the prime `m = 2²² − 3`, 4.0 GB / 6.8 s for `2²⁴ − 3`, 15.9 GB /
/// 50 s for `2²⁶ − 5`, and a refused 10.3 GB allocation — an abort inside the planner — for
/// `m = 2³¹ − 1`. Powers of two cost a tenth of that (0.1 GB for `m = 2²²`). A feature matrix
/// holds at most 2²⁸ values (`n·m`), and a [`TreeSketch`] at most 2²⁶ (`P·m`) in its levels.
const MAX_M: usize = 1 << 22;

// ------------------------------------------------------------------------------------------------
// Building blocks: one CountSketch hash, the FFT pair, a workspace.

/// One CountSketch hash `(h, σ)` from `0..n` to `0..m`, identical to
/// `CountSketch::new(m, n, seed)`, with an optional precomputed table of codes.
#[derive(Clone, Debug)]
pub(crate) struct Hash {
    sketch: SparseSign,
    table: Option<Vec<u32>>,
}

impl Hash {
    /// The hash, with a table of its `n` codes when `n ≤ TABLE_LIMIT` and `n` is still within
    /// `budget` (entries left for the sketch's tables, decreased by `n` when one is built).
    pub(crate) fn new(m: usize, n: usize, seed: Seed, budget: &mut usize) -> Result<Self> {
        let sketch = SparseSign::new(m, n, 1, seed)?;
        let table = if n <= TABLE_LIMIT && n <= *budget {
            *budget -= n;
            let mut c = [0u32];
            Some(
                (0..n)
                    .map(|j| {
                        sketch.encode_column(j, &mut c);
                        c[0]
                    })
                    .collect(),
            )
        } else {
            None
        };
        Ok(Hash { sketch, table })
    }

    /// The code `(row << 1) | negative` of index `j < n`.
    #[inline(always)]
    fn code(&self, j: usize) -> u32 {
        match &self.table {
            Some(t) => t[j],
            None => {
                let mut c = [0u32];
                self.sketch.encode_column(j, &mut c);
                c[0]
            }
        }
    }

    /// `(h(j), σ(j))`.
    #[inline]
    pub(crate) fn bucket(&self, j: usize) -> (usize, f64) {
        let c = self.code(j);
        ((c >> 1) as usize, if c & 1 == 1 { -1.0 } else { 1.0 })
    }

    /// `out = C·x` for the sparse vector `(idx, val)` (indices `< n`), in the given order.
    #[inline]
    fn sketch_sparse(&self, idx: &[usize], val: &[f64], out: &mut [f64]) {
        self.sketch_sparse_mapped(idx, val, out, |v| v);
    }

    /// `out = C·f(x)` for the sparse vector `(idx, val)`, `f` applied to each value.
    #[inline(always)]
    fn sketch_sparse_mapped(
        &self,
        idx: &[usize],
        val: &[f64],
        out: &mut [f64],
        f: impl Fn(f64) -> f64,
    ) {
        out.fill(0.0);
        for (&i, &v) in idx.iter().zip(val) {
            let v = f(v);
            let c = self.code(i);
            let r = (c >> 1) as usize;
            if c & 1 == 1 {
                out[r] -= v;
            } else {
                out[r] += v;
            }
        }
    }

    /// [`sketch_sparse`](Self::sketch_sparse) of `2^-shift·x` (the values scaled exactly,
    /// unless they become subnormal), for a factor whose bucket sums could overflow: see
    /// [`leaf_shift`]. `shift = 0` is `sketch_sparse` itself, bit for bit.
    pub(crate) fn sketch_sparse_shifted(
        &self,
        idx: &[usize],
        val: &[f64],
        shift: i32,
        out: &mut [f64],
    ) {
        if shift == 0 {
            return self.sketch_sparse(idx, val, out);
        }
        self.sketch_sparse_mapped(idx, val, out, |v| crate::scalar::mul_pow2(v, -shift));
    }

    /// `out = C·x` for a dense vector `x` of length `n` (zeros skipped).
    #[inline]
    fn sketch_dense(&self, x: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for (i, &v) in x.iter().enumerate() {
            if v != 0.0 {
                let c = self.code(i);
                let r = (c >> 1) as usize;
                if c & 1 == 1 {
                    out[r] -= v;
                } else {
                    out[r] += v;
                }
            }
        }
    }
}

/// A forward / inverse real FFT pair of length `m` (plans shared by clones and threads).
#[derive(Clone)]
pub(crate) struct Fft {
    m: usize,
    fwd: Arc<dyn RealToComplex<f64>>,
    inv: Arc<dyn ComplexToReal<f64>>,
}

impl std::fmt::Debug for Fft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fft({})", self.m)
    }
}

fn fft_error(e: realfft::FftError) -> Error {
    Error::Factorization {
        reason: format!("real FFT failed: {e}"),
    }
}

impl Fft {
    pub(crate) fn new(m: usize) -> Self {
        let mut planner = RealFftPlanner::<f64>::new();
        Fft {
            m,
            fwd: planner.plan_fft_forward(m),
            inv: planner.plan_fft_inverse(m),
        }
    }

    /// Transform length `m`.
    pub(crate) fn len(&self) -> usize {
        self.m
    }

    /// Length of a spectrum, `⌊m/2⌋ + 1`.
    pub(crate) fn spec_len(&self) -> usize {
        self.m / 2 + 1
    }

    pub(crate) fn scratch_len(&self) -> usize {
        self.fwd.get_scratch_len().max(self.inv.get_scratch_len())
    }

    /// `spec = DFT(real)` (unnormalized); `real` is destroyed.
    pub(crate) fn forward(
        &self,
        real: &mut [f64],
        spec: &mut [Complex<f64>],
        scratch: &mut [Complex<f64>],
    ) -> Result<()> {
        self.fwd
            .process_with_scratch(real, spec, scratch)
            .map_err(fft_error)
    }

    /// `out = (1/m)·IDFT(spec)`, the exact inverse of [`forward`](Self::forward); `spec` is
    /// destroyed. The imaginary parts that must vanish for a real signal (bin 0, and bin `m/2`
    /// for even `m`) are set to zero first, as the inverse of a real signal's spectrum ignores
    /// them.
    pub(crate) fn inverse(
        &self,
        spec: &mut [Complex<f64>],
        out: &mut [f64],
        scratch: &mut [Complex<f64>],
    ) -> Result<()> {
        spec[0].im = 0.0;
        if self.m.is_multiple_of(2) {
            spec[self.m / 2].im = 0.0;
        }
        self.inv
            .process_with_scratch(spec, out, scratch)
            .map_err(fft_error)?;
        let scale = 1.0 / self.m as f64;
        for v in out.iter_mut() {
            *v *= scale;
        }
        Ok(())
    }
}

/// The buffers of one FFT convolution.
pub(crate) struct FftBufs {
    real: Vec<f64>,
    acc: Vec<Complex<f64>>,
    spec: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

/// Reusable buffers for sketching one vector.
pub(crate) struct Workspace {
    bufs: FftBufs,
    /// Tree levels (`TreeSketch` only).
    levels: Vec<f64>,
    next: Vec<f64>,
    /// Per slot of `levels` / `next`, the exponent `e` of `slot·2^e` (`TreeSketch` only).
    exps: Vec<i64>,
    next_exps: Vec<i64>,
    /// Per slot, `log₂` of a bound on its `ℓ₁` norm, `∞` if unknown (`TreeSketch` only).
    bounds: Vec<f64>,
    next_bounds: Vec<f64>,
    idx: Vec<usize>,
    val: Vec<f64>,
    /// Row-major features of one task's rows.
    rows_out: Vec<f64>,
}

impl Workspace {
    /// The buffers for an FFT of length `fft.len()` and `levels` tree values (`P·m`, up to 2²⁶:
    /// two buffers of 512 MiB).
    ///
    /// # Errors
    /// [`Error::TooLarge`] when a buffer cannot be allocated (`vec!` aborted the process).
    pub(crate) fn new(fft: &Fft, levels: usize) -> Result<Self> {
        let zero = Complex::new(0.0, 0.0);
        Ok(Workspace {
            bufs: FftBufs {
                real: filled(fft.m, 0.0, "an FFT buffer")?,
                acc: filled(fft.spec_len(), zero, "a spectrum buffer")?,
                spec: filled(fft.spec_len(), zero, "a spectrum buffer")?,
                scratch: filled(fft.scratch_len(), zero, "the FFT's scratch space")?,
            },
            levels: filled(levels, 0.0, "the tree sketch's levels")?,
            next: filled(levels, 0.0, "the tree sketch's levels")?,
            exps: Vec::new(),
            next_exps: Vec::new(),
            bounds: Vec::new(),
            next_bounds: Vec::new(),
            idx: Vec::new(),
            val: Vec::new(),
            rows_out: Vec::new(),
        })
    }
}

/// `len` copies of `v`, or [`Error::TooLarge`] naming `what` when the allocator refuses them
/// (`vec!` aborts the process instead).
pub(crate) fn filled<V: Clone>(len: usize, v: V, what: &str) -> Result<Vec<V>> {
    let mut out = Vec::new();
    grow(&mut out, len, v, what)?;
    Ok(out)
}

/// Resizes `buf` to `len` entries (new ones `v`), or [`Error::TooLarge`] naming `what` when the
/// allocator refuses the growth.
fn grow<V: Clone>(buf: &mut Vec<V>, len: usize, v: V, what: &str) -> Result<()> {
    if buf
        .try_reserve_exact(len.saturating_sub(buf.len()))
        .is_err()
    {
        return Err(Error::TooLarge {
            what: format!("{what} ({len} values)"),
            requested: len as u128,
            limit: (isize::MAX as usize / std::mem::size_of::<V>().max(1)) as u128,
        });
    }
    buf.resize(len, v);
    Ok(())
}

/// `acc = ∏_{k < count} FFT(signal_k)` as a half spectrum (`count ≥ 1`), where `fill(k, real)`
/// writes the `k`-th real signal (length `m`, every entry) into `real`; `spec` and `scratch` are
/// work space. Used by the tensor power method's sketches of `u^{⊗p}` (no lifting of tiny values,
/// unlike [`convolve`]).
pub(crate) fn spectrum_product(
    fft: &Fft,
    count: usize,
    real: &mut [f64],
    acc: &mut [Complex<f64>],
    spec: &mut [Complex<f64>],
    scratch: &mut [Complex<f64>],
    mut fill: impl FnMut(usize, &mut [f64]),
) -> Result<()> {
    for k in 0..count {
        fill(k, real);
        if k == 0 {
            fft.forward(real, acc, scratch)?;
        } else {
            fft.forward(real, spec, scratch)?;
            for (a, b) in acc.iter_mut().zip(spec.iter()) {
                *a *= *b;
            }
        }
    }
    Ok(())
}

/// Exponent below which a signal or spectrum of [`convolve`] is lifted: a quantity whose largest
/// magnitude is under `2^LIFT_EXP` is multiplied by a power of two that brings it to
/// `[2^LIFT_EXP, 2^(LIFT_EXP+1))`, and the factor is recorded. Without it the running product of
/// the spectra underflowed: `apply_kron` of `(1e-300, 1e-300, 1e300)` (product `1e-300`) gave an
/// all-zero `Ok`. Quantities above the threshold are never touched, so ordinary data keep their
/// bits, and as nothing is scaled *down* no overflow is introduced.
const LIFT_EXP: i32 = -400;

/// `2^k` for `−1022 ≤ k ≤ 1023`, exactly.
fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((1023 + k) as u64) << 52)
}

/// The shift `s ≥ 0` that [`LIFT_EXP`] asks for a quantity of largest magnitude `big`
/// (`0` unless `0 < big < 2^LIFT_EXP`; at most `−1074 − LIFT_EXP + 1`).
fn lift_shift(big: f64) -> i32 {
    if big > 0.0 && big < pow2(LIFT_EXP) {
        (LIFT_EXP - big.log2().floor() as i32).max(0)
    } else {
        0
    }
}

/// Lifts a real signal (see [`LIFT_EXP`]); returns the shift `s` (the signal was multiplied by
/// `2^s`, exactly: a power of two, and the result is normal).
fn lift_real(v: &mut [f64]) -> i64 {
    // Ordinary data: the first entry not tiny ends the check (usually within a few entries).
    let floor = pow2(LIFT_EXP);
    if v.iter().any(|x| x.abs() >= floor) {
        return 0;
    }
    let s = lift_shift(v.iter().fold(0.0f64, |a, x| a.max(x.abs())));
    if s > 0 {
        let f = pow2(s);
        v.iter_mut().for_each(|x| *x *= f);
    }
    i64::from(s)
}

/// [`lift_real`] for a spectrum.
fn lift_complex(v: &mut [Complex<f64>]) -> i64 {
    let floor = pow2(LIFT_EXP);
    if v.iter().any(|c| c.re.abs() >= floor || c.im.abs() >= floor) {
        return 0;
    }
    let s = lift_shift(
        v.iter()
            .fold(0.0f64, |a, c| a.max(c.re.abs()).max(c.im.abs())),
    );
    if s > 0 {
        let f = pow2(s);
        v.iter_mut().for_each(|c| *c *= f);
    }
    i64::from(s)
}

/// Exponent above which the running spectrum product of [`convolve`] is dropped: a product
/// whose largest real or imaginary part exceeds `2^DROP_EXP` is multiplied by the power of two
/// that brings it into `[1, 2)`, and the factor is recorded, as [`LIFT_EXP`] does for tiny
/// ones. Without it the intermediates overflowed while the sketch itself fitted: the
/// unnormalized inverse FFT sums `m` bins, so `x = [10¹⁵⁴]` at `p = 2` (`x² = 10³⁰⁸`) was refused
/// for every `m ≥ 2`, and the spectra's product grows like `∏‖C_k x_k‖₁`.
///
/// The check is skipped where nothing can overflow: every FFT bin is at most the `ℓ₁` norm of
/// its signal, so the running product and the inverse sums stay below `4m·∏_k max(1, ‖c_k‖₁)`,
/// which `fill` bounds from the input (`ℓ₁` norms of the factors, `O(nnz)`); only when that
/// bound reaches `2^DROP_EXP`, or a lift made it void, is every product scanned (ordinary data
/// pay no scan, and keep their bits). A signal itself needs no check: a TensorSketch factor's
/// CountSketch has `ℓ₁ ≤ 2^DROP_EXP` ([`leaf_shift`] scales it otherwise), and a tree node's
/// inputs are a leaf's CountSketch or a node's output (`≤ 2^(DROP_EXP+1)`) sketched again into
/// `m ≤ 2²²` buckets: every signal is at most `2^(DROP_EXP+23)`, its bins `2^(DROP_EXP+45)`, so
/// no product of a step (`≤ 2^(2·460+91) = 2^1011`) and no inverse sum overflows.
const DROP_EXP: i32 = 460;

/// `Σ|v_i|` in eight independent lanes (a single running sum is a serial chain), for the
/// bounds of [`DROP_EXP`]; `∞` when it overflows.
fn l1_norm(v: &[f64]) -> f64 {
    let chunks = v.chunks_exact(8);
    let tail = chunks.remainder();
    let mut sum = [0.0f64; 8];
    for c in chunks {
        for k in 0..8 {
            sum[k] += c[k].abs();
        }
    }
    sum.iter().sum::<f64>() + tail.iter().map(|x| x.abs()).sum::<f64>()
}

/// `log₂ max(1, b)` for a nonnegative bound `b` (`∞` for `b = ∞` or NaN).
pub(crate) fn log2_bound(b: f64) -> f64 {
    if b.is_nan() {
        f64::INFINITY
    } else if b > 1.0 {
        b.log2()
    } else {
        0.0
    }
}

/// `acc ← acc ∘ spec` (the same products, bit for bit, as the plain loop), and whether a real or
/// imaginary part of the result exceeds `2^DROP_EXP`, checked in the same pass.
fn multiply_spectra(acc: &mut [Complex<f64>], spec: &[Complex<f64>]) -> bool {
    let t = pow2(DROP_EXP);
    let mut huge = false;
    for (a, b) in acc.iter_mut().zip(spec.iter()) {
        *a *= *b;
        huge |= a.re.abs() > t || a.im.abs() > t;
    }
    huge
}

/// Drops the spectrum product (see [`DROP_EXP`]) when `huge` says a part exceeds the threshold;
/// returns the shift `s` (it was multiplied by `2^-s`, exactly unless a part became subnormal).
fn drop_complex(v: &mut [Complex<f64>], huge: bool) -> i64 {
    if !huge {
        return 0;
    }
    let big = v
        .iter()
        .fold(0.0f64, |a, c| a.max(c.re.abs()).max(c.im.abs()));
    if !big.is_finite() {
        return 0;
    }
    let s = crate::scalar::exponent(big);
    for c in v.iter_mut() {
        c.re = crate::scalar::mul_pow2(c.re, -s);
        c.im = crate::scalar::mul_pow2(c.im, -s);
    }
    i64::from(s)
}

/// The shift for the CountSketch of a sparse factor with values `val`, and `log₂` of a bound on
/// the `ℓ₁` norm of what is then sketched (see [`DROP_EXP`]): shift `0` (sketched as given)
/// while `‖val‖₁ ≤ 2^DROP_EXP`, else the shift that brings `max|v|` into `[1, 2)` (bound
/// `2·nnz`), so that two entries near `f64::MAX` in one bucket do not overflow the signal when
/// the product with the other factors fits.
pub(crate) fn leaf_shift(val: &[f64]) -> (i32, f64) {
    let n1 = l1_norm(val);
    if n1 <= pow2(DROP_EXP) {
        return (0, log2_bound(n1));
    }
    let big = val.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    (
        crate::scalar::exponent(big),
        log2_bound(2.0 * val.len() as f64),
    )
}

/// `v ← v·2^e` for any `e` ([`scale_in_steps`]): for `e > 0` in steps of at most
/// `2^1000`, exact until an entry overflows (to `±∞`, which the output check then refuses: the
/// sketch itself is beyond `f64`). An entry that comes within `2⁻²⁰` (relative) of `f64::MAX`
/// is made `±∞` as well: the FFT's rounding could have brought a true value just beyond the
/// range below it (`2¹²⁸` to the 8th power, `2¹⁰²⁴`, read `1.7976931348623147e308` in the tree
/// sketch at `m = 3`), and that must be an error, not a finite `Ok`. Only the scaled-up path
/// (`e > 0`: a product or a factor's `ℓ₁` norm above `2⁴⁶⁰`) can get there; ordinary data
/// never do.
pub(crate) fn scale_pow2(v: &mut [f64], e: i64) {
    scale_in_steps(v, e);
    if e <= 0 {
        return;
    }
    let top = f64::MAX * (1.0 - 1.0 / (1u64 << 20) as f64);
    for x in v.iter_mut() {
        if x.abs() > top {
            *x = f64::INFINITY.copysign(*x);
        }
    }
}

/// `v ← v·2^e` in steps of at most `2^±1000`, stopping once every entry is zero or non-finite
/// (so a huge `|e|` costs a few passes). Only values that end subnormal are rounded (possibly
/// twice, by less than two units of `2^−1074`).
fn scale_in_steps(v: &mut [f64], mut e: i64) {
    while e != 0 {
        let k = e.clamp(-1000, 1000);
        let f = pow2(k as i32);
        let mut live = false;
        for x in v.iter_mut() {
            *x *= f;
            live |= *x != 0.0 && x.is_finite();
        }
        if !live {
            break;
        }
        e -= k;
    }
}

/// The `p`-fold circular convolution of CountSketches: `out·2^e = IFFT(∏_k FFT(sketch_k))`
/// with the returned `(e, b)`, where `fill(k, buf)` writes the `k`-th CountSketch into `buf`
/// (length `m`) and returns `log₂` of a bound on its `ℓ₁` norm (`≥ 0`; `∞` if unknown), and `b`
/// is such a bound for `out` (`∞` once anything was scaled). The signals and the running
/// product of the spectra are lifted when tiny (see [`LIFT_EXP`]), the product dropped when
/// huge (see [`DROP_EXP`]), and `e` records it, so tiny factors do not underflow and large ones
/// do not overflow the intermediates; `e = 0` unless something was below `2^LIFT_EXP` or above
/// `2^DROP_EXP`. For `p = 1` the CountSketch itself is returned (no FFT, `e = 0`).
pub(crate) fn convolve(
    fft: &Fft,
    p: usize,
    bufs: &mut FftBufs,
    out: &mut [f64],
    mut fill: impl FnMut(usize, &mut [f64]) -> f64,
) -> Result<(i64, f64)> {
    if p == 1 {
        let b = fill(0, out);
        return Ok((0, b));
    }
    let FftBufs {
        real,
        acc,
        spec,
        scratch,
    } = bufs;
    // log₂ of 4m: the inverse FFT sums m bins of two parts each.
    let margin = (fft.m as f64).log2() + 2.0;
    let (mut shift, mut bound, mut check) = (0i64, 0.0f64, false);
    for k in 0..p {
        bound += fill(k, real);
        let lifted = lift_real(real);
        shift += lifted;
        // `bound` is never NaN: each term is ≥ 0 or ∞ (`log2_bound`).
        check |= lifted != 0 || bound + margin >= f64::from(DROP_EXP);
        if k == 0 {
            fft.forward(real, acc, scratch)?;
        } else {
            fft.forward(real, spec, scratch)?;
            let huge = if check {
                multiply_spectra(acc, spec)
            } else {
                for (a, b) in acc.iter_mut().zip(spec.iter()) {
                    *a *= *b;
                }
                false
            };
            let lifted = lift_complex(acc);
            shift += lifted;
            check |= lifted != 0;
            shift -= drop_complex(acc, huge);
        }
    }
    fft.inverse(acc, out, scratch)?;
    let bound = if shift == 0 { bound } else { f64::INFINITY };
    Ok((-shift, bound))
}

// ------------------------------------------------------------------------------------------------
// Row drivers shared by TensorSketch, TreeSketch and PolyKernelFeatures.

/// A sketch of tensor products `x₁ ⊗ … ⊗ x_p` of sparse vectors, applied row by row.
pub(crate) trait RowMap: Sync {
    fn out_len(&self) -> usize;
    /// The buffers for sketching one vector ([`Error::TooLarge`] when they cannot be allocated).
    fn workspace(&self) -> Result<Workspace>;
    /// The per-mode input dimensions.
    fn mode_dims(&self) -> &[usize];
    /// Sketches `x₁ ⊗ … ⊗ x_p` where factor `k` is the sparse vector `factors[k]` (increasing
    /// indices, already checked against the dimensions).
    fn map_kron(
        &self,
        factors: &[(&[usize], &[f64])],
        out: &mut [f64],
        ws: &mut Workspace,
    ) -> Result<()>;
    /// Sketches the power `x^{⊗p}` of one sparse vector.
    fn map_row(
        &self,
        idx: &[usize],
        val: &[f64],
        out: &mut [f64],
        ws: &mut Workspace,
    ) -> Result<()> {
        let factors = vec![(idx, val); self.mode_dims().len()];
        self.map_kron(&factors, out, ws)
    }
}

/// The common dimension of a sketch's modes, or an error when they differ (powers need it).
pub(crate) fn power_dim(dims: &[usize]) -> Result<usize> {
    let d = dims[0];
    if dims.iter().any(|&e| e != d) {
        return Err(Error::param(
            "dims",
            format!(
                "a power x^{{⊗p}} needs equal mode dimensions, this sketch has {dims:?}; use apply_kron"
            ),
        ));
    }
    Ok(d)
}

/// `map(x^{⊗p})` for a dense vector.
pub(crate) fn power_vec<T: Scalar>(map: &dyn RowMap, x: &[T]) -> Result<Vec<T>> {
    let d = power_dim(map.mode_dims())?;
    let x = vec_f64(x, d, "x")?;
    let (idx, val) = nonzeros(&x);
    let mut out = vec![0.0; map.out_len()];
    let mut ws = map.workspace()?;
    map.map_row(&idx, &val, &mut out, &mut ws)?;
    fits::<T>(&out, 0)?;
    Ok(to_scalar(out))
}

/// `map(x₁ ⊗ … ⊗ x_p)` for dense factors.
pub(crate) fn kron_vec<T: Scalar>(map: &dyn RowMap, xs: &[&[T]]) -> Result<Vec<T>> {
    let dims = map.mode_dims();
    if xs.len() != dims.len() {
        return Err(Error::dim("number of factors", dims.len(), xs.len()));
    }
    let sparse = xs
        .iter()
        .zip(dims)
        .enumerate()
        .map(|(k, (x, &d))| vec_f64(x, d, &format!("factor {k}")).map(|v| nonzeros(&v)))
        .collect::<Result<Vec<_>>>()?;
    let factors: Vec<(&[usize], &[f64])> = sparse
        .iter()
        .map(|(i, v)| (i.as_slice(), v.as_slice()))
        .collect();
    let mut out = vec![0.0; map.out_len()];
    let mut ws = map.workspace()?;
    map.map_kron(&factors, &mut out, &mut ws)?;
    fits::<T>(&out, 0)?;
    Ok(to_scalar(out))
}

/// What an overflowing sketch reports: finite input whose sketch has entries beyond the output
/// type's range (an entry `|x_i|^p` past `f64::MAX`, or past `f32::MAX` for `f32` output, or a
/// bucket's sum of such products). The FFT's intermediates (the spectra's running product, the
/// unnormalized inverse transform, which reach up to `m·‖x‖₁^p`) are kept in range by powers of
/// two ([`DROP_EXP`]), so they no longer overflow before the sketch does.
const OVERFLOW: &str = "the sketch of the tensor product (finite input, but the sketch's \
                        entries, sums of the product's entries, exceed the output type's range)";

/// `Ok` when every entry of a sketched row (row `i` of the output; 0 for a vector) is finite once
/// converted to `T`, else [`Error::NonFinite`] naming the first that is not. The common case is
/// one branch-free pass over the row while it is in L1 (`v·0` is `0` for finite `v` and NaN
/// otherwise), and for `f32` a second for the largest `|v|`, against the row's four length-`m`
/// FFTs.
pub(crate) fn fits<T: Scalar>(row: &[f64], i: usize) -> Result<()> {
    // Eight lanes, so that the compiler may keep them in vector registers (a single running sum
    // or maximum is a serial chain it may not reorder).
    let (chunks, tail) = (row.chunks_exact(8), row.chunks_exact(8).remainder());
    let mut zero = [0.0f64; 8];
    for c in chunks.clone() {
        for k in 0..8 {
            zero[k] += c[k] * 0.0;
        }
    }
    let mut all_finite = zero.iter().chain(tail).all(|v| v * 0.0 == 0.0);
    // A narrower `T` (f32) also needs the largest magnitude to stay finite once converted.
    if all_finite && !T::from_f64(f64::MAX).finite() {
        let mut big = [0.0f64; 8];
        for c in chunks {
            for k in 0..8 {
                let a = c[k].abs();
                big[k] = if a > big[k] { a } else { big[k] };
            }
        }
        all_finite = big
            .iter()
            .chain(tail)
            .all(|&v| T::from_f64(v.abs()).finite());
    }
    if all_finite {
        return Ok(());
    }
    let col = row
        .iter()
        .position(|&v| !T::from_f64(v).finite())
        .unwrap_or(0);
    Err(Error::NonFinite {
        what: OVERFLOW.into(),
        row: i,
        col,
    })
}

/// `Ok(v)` when every entry of an output of a building block ([`TensorSketch::sketch_entries`],
/// [`TensorSketch::mode_sketch`], [`TensorSketch::forward`], [`TensorSketch::inverse`]) is
/// finite, else [`Error::NonFinite`] naming the first that is not: finite input whose sums
/// overflow `f64` (two entries of `1e308` in one bucket) must not come back as `Ok(∞)` or NaN.
fn finite_output<V>(v: Vec<V>, what: &str, finite: impl Fn(&V) -> bool) -> Result<Vec<V>> {
    match v.iter().position(|x| !finite(x)) {
        None => Ok(v),
        Some(i) => Err(Error::NonFinite {
            what: format!("{what} (finite input, but its sums overflow f64)"),
            row: i,
            col: 0,
        }),
    }
}

fn finite_complex(c: &Complex<f64>) -> bool {
    c.re.is_finite() && c.im.is_finite()
}

/// `map(a_i^{⊗p})` for every row of `A`, after checking `A`'s width.
pub(crate) fn power_rows<T: Scalar>(
    map: &dyn RowMap,
    a: MatrixRef<'_, T>,
    par: Par,
) -> Result<Mat<T>> {
    let d = power_dim(map.mode_dims())?;
    if a.ncols() != d {
        return Err(Error::dim(
            "columns of A vs the sketch's input dimension",
            d,
            a.ncols(),
        ));
    }
    map_rows(map, a, RowPrep::PLAIN, par)
}

/// How each input row is turned into the sparse vector that is sketched: values multiplied by
/// `scale`, and an optional extra entry `(index, value)` appended after the row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowPrep {
    pub(crate) scale: f64,
    pub(crate) extra: Option<(usize, f64)>,
}

impl RowPrep {
    pub(crate) const PLAIN: RowPrep = RowPrep {
        scale: 1.0,
        extra: None,
    };
}

/// Row access for the driver: dense rows, or CSR rows (a CSC input is converted once).
pub(crate) enum Rows<'a, T> {
    Dense(faer::MatRef<'a, T>),
    Csr(SparseRef<'a, T>),
}

impl<T: Scalar> Rows<'_, T> {
    /// Writes the nonzeros of row `i`, prepared by `prep`, into `(idx, val)`.
    pub(crate) fn gather(&self, i: usize, prep: RowPrep, idx: &mut Vec<usize>, val: &mut Vec<f64>) {
        idx.clear();
        val.clear();
        let mut push = |c: usize, v: T| {
            if v != T::ZERO {
                idx.push(c);
                val.push(v.to_f64() * prep.scale);
            }
        };
        match self {
            Rows::Dense(a) => {
                for c in 0..a.ncols() {
                    push(c, a[(i, c)]);
                }
            }
            Rows::Csr(s) => {
                let (ix, vx) = s.outer(i);
                for (&c, &v) in ix.iter().zip(vx) {
                    push(c, v);
                }
            }
        }
        if let Some((c, v)) = prep.extra {
            if v != 0.0 {
                idx.push(c);
                val.push(v);
            }
        }
    }
}

/// Runs `f` with row access to `a` (a CSC matrix is copied to CSR for the call).
pub(crate) fn with_rows<T: Scalar, R>(
    a: MatrixRef<'_, T>,
    par: Par,
    f: impl FnOnce(&Rows<'_, T>) -> Result<R>,
) -> Result<R> {
    match a {
        MatrixRef::Dense(d) => f(&Rows::Dense(d)),
        MatrixRef::Sparse(s) if s.layout() == Layout::Csr => f(&Rows::Csr(s)),
        MatrixRef::Sparse(s) => {
            // The CSC form of A is the CSR form of Aᵀ; its CSC copy is the CSR form of A.
            let owned = super::kernels::csr_to_csc(&s.transpose(), par)?;
            let csr = SparseRef::try_csr(
                s.nrows(),
                s.ncols(),
                &owned.indptr,
                &owned.indices,
                &owned.data,
            )?;
            f(&Rows::Csr(csr))
        }
    }
}

/// Applies `map` to every row of `a` (already checked to have the expected number of columns);
/// returns the `n × out_len` feature matrix.
pub(crate) fn map_rows<T: Scalar>(
    map: &dyn RowMap,
    a: MatrixRef<'_, T>,
    prep: RowPrep,
    par: Par,
) -> Result<Mat<T>> {
    a.require_nonempty("A")?;
    let n = a.nrows();
    let m = map.out_len();
    let requested = n as u128 * m as u128;
    if requested > 1 << 28 {
        return Err(Error::TooLarge {
            what: format!("a dense {n}×{m} feature matrix"),
            requested,
            limit: 1 << 28,
        });
    }
    // Within the cap, the allocator may still refuse (`Mat::zeros` aborted the process).
    let mut out = zeros_or_too_large::<T>(n, m, "feature matrix")?;
    with_rows(a, par, |rows| {
        // Each task sketches its rows into a small row-major buffer, then writes them into its
        // own row range of the column-major output: no staging copy of the whole output.
        let run = |ws: &mut Workspace, (t, mut block): (usize, MatMut<'_, T>)| -> Result<()> {
            let k = block.nrows();
            let stride = local_row_stride(m);
            let mut local = std::mem::take(&mut ws.rows_out);
            // Up to 16·2²² values (512 MiB) at the largest m.
            grow(&mut local, k * stride, 0.0, "a task's row buffer")?;
            let mut idx = std::mem::take(&mut ws.idx);
            let mut val = std::mem::take(&mut ws.val);
            let mut res = Ok(());
            for (r, dst) in local.chunks_mut(stride).enumerate() {
                let i = t * ROWS_PER_TASK + r;
                rows.gather(i, prep, &mut idx, &mut val);
                res = map
                    .map_row(&idx, &val, &mut dst[..m], ws)
                    .and_then(|()| fits::<T>(&dst[..m], i));
                if res.is_err() {
                    // Not "finite input" after all: an unvalidated `MatrixRef::Dense` (which
                    // skips the finiteness check) or a finite entry times √γ beyond f64.
                    if let Some(k) = val.iter().position(|v| !v.is_finite()) {
                        res = Err(Error::NonFinite {
                            what: "a row of the input, as sketched (a NaN or ±∞ entry of an \
                                   unvalidated MatrixRef::Dense, or a finite entry times the \
                                   row scale √γ beyond f64)"
                                .into(),
                            row: i,
                            col: idx[k],
                        });
                    }
                    break;
                }
            }
            // Column by column: the `k` source lines of 8 consecutive columns stay in L1 (the
            // padded stride puts them in different sets) while those columns are written.
            for j in 0..m {
                let mut col = block.as_mut().col_mut(j);
                for r in 0..k {
                    col[r] = T::from_f64(local[r * stride + j]);
                }
            }
            ws.idx = idx;
            ws.val = val;
            ws.rows_out = local;
            res
        };
        if super::kernels::tasks(par) > 1 && n > ROWS_PER_TASK {
            // The error of the first failing task, whatever the thread count (a task stops at
            // its first failing row): rayon's `try_for_each` returned whichever failure came
            // first in time, so with bad rows 1023 and 2048–4095 two threads named row 2048
            // where one named 1023. Tasks after a known failure are skipped, those before it
            // still run.
            let first_bad = AtomicUsize::new(usize::MAX);
            let failure: Mutex<Option<(usize, Error)>> = Mutex::new(None);
            out.as_mut()
                .par_row_chunks_mut(ROWS_PER_TASK)
                .enumerate()
                .for_each_init(
                    || map.workspace(),
                    |ws, (t, block)| {
                        if t > first_bad.load(Ordering::Relaxed) {
                            return;
                        }
                        let r = match ws {
                            Ok(ws) => run(ws, (t, block)),
                            Err(e) => Err(e.clone()),
                        };
                        if let Err(e) = r {
                            first_bad.fetch_min(t, Ordering::Relaxed);
                            let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
                            if f.as_ref().is_none_or(|(u, _)| t < *u) {
                                *f = Some((t, e));
                            }
                        }
                    },
                );
            match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some((_, e)) => Err(e),
                None => Ok(()),
            }
        } else {
            let mut ws = map.workspace()?;
            (0..n.div_ceil(ROWS_PER_TASK)).try_for_each(|t| {
                let i0 = t * ROWS_PER_TASK;
                let len = ROWS_PER_TASK.min(n - i0);
                run(&mut ws, (t, out.as_mut().subrows_mut(i0, len)))
            })
        }
    })?;
    Ok(out)
}

/// Row stride of a task's row-major feature buffer for `m` features: `m` rounded up to an odd
/// number of 64-byte lines, so that any 64 consecutive rows fall in different L1 sets (an even
/// stride such as `m = 4096`, 32 KiB, put all the rows of a task in one set). With stride 4096
/// the column-by-column copy into the column-major output missed L1 on every read: 15% of
/// `apply_rows` at d = 100, p = 3, m = 4096 (perf, `cargo bench --bench tensor_sketch --
/// explicit_vs_ts/tensorsketch/100`).
fn local_row_stride(m: usize) -> usize {
    (m.div_ceil(8) | 1) * 8
}

/// Checks a sketch dimension.
pub(crate) fn check_m(m: usize) -> Result<()> {
    if m == 0 || m > MAX_M {
        return Err(Error::param(
            "m",
            format!(
                "sketch dimension m = {m} must satisfy 1 ≤ m ≤ 2^22 (the FFT of length m is \
                 planned up front, and its plan grows with m)"
            ),
        ));
    }
    Ok(())
}

/// Checks the per-mode input dimensions (`p ≥ 1` of them, each ≥ 1).
pub(crate) fn check_dims(dims: &[usize]) -> Result<()> {
    check_degree(dims.len())?;
    if let Some(k) = dims.iter().position(|&d| d == 0) {
        return Err(Error::param(
            "dims",
            format!("factor {k} has dimension 0; every input dimension must be at least 1"),
        ));
    }
    Ok(())
}

/// Checks a degree (number of tensor factors): `1 ..= MAX_DEGREE`.
pub(crate) fn check_degree(degree: usize) -> Result<()> {
    if degree == 0 {
        return Err(Error::param(
            "degree",
            "the degree p (number of tensor factors) must be at least 1",
        ));
    }
    if degree > MAX_DEGREE {
        return Err(Error::param(
            "degree",
            format!("degree {degree} is above the supported maximum {MAX_DEGREE}"),
        ));
    }
    Ok(())
}

/// Converts a vector to `f64` after checking it is finite and has length `d`.
pub(crate) fn vec_f64<T: Scalar>(x: &[T], d: usize, what: &str) -> Result<Vec<f64>> {
    check_finite_slice(x, what)?;
    if x.len() != d {
        return Err(Error::dim(format!("length of {what}"), d, x.len()));
    }
    Ok(x.iter().map(|v| v.to_f64()).collect())
}

/// The nonzeros of a dense vector as a sparse vector.
pub(crate) fn nonzeros(x: &[f64]) -> (Vec<usize>, Vec<f64>) {
    x.iter()
        .enumerate()
        .filter(|(_, &v)| v != 0.0)
        .map(|(i, &v)| (i, v))
        .unzip()
}

pub(crate) fn to_scalar<T: Scalar>(v: Vec<f64>) -> Vec<T> {
    v.into_iter().map(T::from_f64).collect()
}

// ------------------------------------------------------------------------------------------------
// TensorSketch.

/// TensorSketch of degree `p` and sketch dimension `m` (Pham–Pagh 2013).
///
/// Mode `k ∈ 0..p` is a CountSketch `C_k: ℝ^{d_k} → ℝ^m` with hash `h_k` and sign `σ_k`,
/// identical to [`CountSketch::new(m, d_k, seed.derive(0x50·2³² + k))`](super::CountSketch).
/// The sketch of a tensor product is
///
/// `TS(x₁ ⊗ … ⊗ x_p) = IFFT(∏_k FFT(C_k x_k))` (circular convolution of the `C_k x_k`),
///
/// which equals — exactly, in exact arithmetic — the CountSketch of the `d₁⋯d_p`-dimensional
/// vector `x₁ ⊗ … ⊗ x_p` with hash `H(i₁,…,i_p) = (Σ_k h_k(i_k)) mod m` and sign
/// `Σ(i₁,…,i_p) = ∏_k σ_k(i_k)` ([`tensor_bucket`](Self::tensor_bucket)). No `1/√m` scaling:
///
/// - `E⟨TS(x^{⊗p}), TS(y^{⊗p})⟩ = ⟨x, y⟩^p` (unbiased polynomial kernel);
/// - `E(‖TS(x^{⊗p})‖² − ‖x‖^{2p})² ≤ (2 + 3^p)/m · ‖x‖^{4p}` (Avron–Nguyễn–Woodruff 2014). With
///   the independent hashes used here the variance of `‖TS(x^{⊗p})‖²` has a closed form
///   (`tests/claims_review2.rs`): for `m ≫ (3/2)^p` it is `≈ 2((2 − S₄)^p − 1)/m·‖x‖^{4p}`,
///   `S₄ = Σx_i⁴/‖x‖⁴`, so at worst (spread-out `x`) `≈ 2(2^p − 1)/m` — below the bound, but
///   still exponential in `p`: for large `p` use [`TreeSketch`].
///
/// With `p = 1` it is the CountSketch `C₀` itself.
///
/// # Rounding
/// Every degree computes in `f64`; an `f32` output is that result rounded once. For `p ≥ 2`
/// (FFTs; `p = 1` adds the entries directly) the entries differ from the explicit tensor
/// CountSketch ([`sketch_entries`](Self::sketch_entries) of the `d^p` entries) by rounding of
/// about `ε_f64·‖x‖₂^p` (measured at most
/// `1.7·10⁻¹⁶·‖x‖₂^p` for `p = 2, 3, 4`, `m` up to 4096), so a bucket that no index hashes to,
/// exactly zero in the explicit sketch, holds a value of that size instead of `0`.
///
/// # Examples
///
/// ```
/// use randnla::sketch::tensor::TensorSketch;
/// use randnla::Seed;
/// let ts = TensorSketch::new(3, 4, 256, Seed::new(1)).unwrap();
/// let x = [0.5, -1.0, 0.25, 2.0];
/// let y = [1.0, 0.5, -0.5, 1.5];
/// let (sx, sy) = (ts.apply_power(&x).unwrap(), ts.apply_power(&y).unwrap());
/// let estimate: f64 = sx.iter().zip(&sy).map(|(a, b)| a * b).sum();
/// let exact = (0.5f64 - 0.5 - 0.125 + 3.0).powi(3);
/// assert!((estimate - exact).abs() < 0.5 * exact);
/// ```
///
/// # Performance
/// `O(p·(nnz(x) + m log m))` time per vector (`p` CountSketches, `p` real FFTs and one inverse);
/// memory `O(m)` per thread. Construction plans the FFT and precomputes the hash tables,
/// 4 bytes per index, mode by mode while their total stays within 2²⁵ entries (128 MiB); a mode
/// with `d_k > 2²²` or beyond that budget regenerates its codes from the seed instead (the same
/// codes, a little slower to apply), so construction costs `O(p + min(Σ_k d_k, 2²⁵))`.
///
/// # References
/// N. Pham, R. Pagh, "Fast and scalable polynomial kernels via explicit feature maps", KDD 2013;
/// H. Avron, H. L. Nguyễn, D. P. Woodruff, "Subspace embeddings for the polynomial kernel",
/// NeurIPS 2014.
#[derive(Clone, Debug)]
pub struct TensorSketch {
    m: usize,
    dims: Vec<usize>,
    seed: Seed,
    modes: Vec<Hash>,
    fft: Fft,
}

impl TensorSketch {
    /// TensorSketch of `x^{⊗p}` for `x ∈ ℝ^d` (every mode has dimension `d`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `degree = 0`, `degree > 2¹⁶`, `d = 0`, `m = 0` or
    /// `m > 2²²`.
    pub fn new(degree: usize, d: usize, m: usize, seed: Seed) -> Result<Self> {
        // The degree first: `vec![d; degree]` for a huge degree is the allocation refused.
        check_degree(degree)?;
        if d == 0 {
            // Named as this function's argument (`with_dims` would name its `dims`).
            return Err(Error::param("d", "the input dimension must be at least 1"));
        }
        Self::with_dims(&vec![d; degree], m, seed)
    }

    /// TensorSketch of products `x₁ ⊗ … ⊗ x_p` with `x_k ∈ ℝ^{dims[k]}` (`p = dims.len()`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no dims, more than 2¹⁶ dims, a zero dimension, `m = 0`
    /// or `m > 2²²`.
    pub fn with_dims(dims: &[usize], m: usize, seed: Seed) -> Result<Self> {
        check_dims(dims)?;
        check_m(m)?;
        let mut budget = TABLE_BUDGET;
        let modes = dims
            .iter()
            .enumerate()
            .map(|(k, &d)| Hash::new(m, d, seed.derive(MODE_STREAM + k as u64), &mut budget))
            .collect::<Result<Vec<_>>>()?;
        Ok(TensorSketch {
            m,
            dims: dims.to_vec(),
            seed,
            modes,
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
    /// Length of the spectra, `⌊m/2⌋ + 1` (real FFT of a length-`m` signal).
    pub fn spectrum_len(&self) -> usize {
        self.fft.spec_len()
    }

    /// `TS(x^{⊗p})`, length `m`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `x.len() ≠ d`, [`Error::NonFinite`] for NaN/±∞ in `x`
    /// or a finite `x` whose sketch overflows the output type (`|x_i|^p > f64::MAX`, or
    /// `f32::MAX` for `f32`, or a bucket's sum of such products). The FFT's intermediates, which
    /// reach up to `m·‖x‖₁^p`, are scaled by powers of two where they would overflow (only above
    /// `2⁴⁶⁰`, so ordinary data keep their bits): at `m = 1024`, `p = 3` an `x = [1e102]`
    /// (`x³ = 1e306`) was an error and is now sketched;
    /// [`Error::InvalidParameter`] when the modes have different dimensions;
    /// [`Error::TooLarge`] when the allocator refuses the `O(m)` FFT buffers.
    pub fn apply_power<T: Scalar>(&self, x: &[T]) -> Result<Vec<T>> {
        power_vec(self, x)
    }

    /// `TS(x₁ ⊗ … ⊗ x_p)`, length `m`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when there are not `p` factors or factor `k` does not have
    /// length `dims[k]`; [`Error::NonFinite`] for NaN/±∞, or finite factors whose sketch
    /// overflows the output type. The FFT's intermediates do not overflow first: a running
    /// product of the spectra above `2⁴⁶⁰` is brought back to `[1, 2)` by an exact
    /// power of two, taken out of the result (so `(1e200, 1e200, 1e-300)` gives `±1e100` in its
    /// bucket, in any factor order; it was an error), and a factor whose bucket sums could
    /// overflow is sketched as `2⁻ˢ·x_k` (two entries of `1e308` in one bucket, times `1e-300`).
    /// Tiny factors do not underflow: a CountSketch or running product below `2^−400` is lifted by
    /// an exact power of two that is taken out of the result, so `(1e-300, 1e-300, 1e300)` gives
    /// `±1e-300` in its bucket (it gave all zeros); only entries that are themselves below
    /// `f64::MIN_POSITIVE` round. [`Error::TooLarge`] when the allocator refuses the `O(m)` FFT
    /// buffers.
    pub fn apply_kron<T: Scalar>(&self, xs: &[&[T]]) -> Result<Vec<T>> {
        kron_vec(self, xs)
    }

    /// The `n × m` matrix whose row `i` is `TS(a_i^{⊗p})` for the rows `a_i` of `A`: features of
    /// the homogeneous polynomial kernel, `⟨φ(a_i), φ(a_j)⟩ ≈ ⟨a_i, a_j⟩^p`.
    ///
    /// # Errors
    /// [`Error::Empty`] for an `A` without rows or columns, [`Error::DimensionMismatch`] when
    /// `A` does not have `d` columns, [`Error::InvalidParameter`] when the modes have different
    /// dimensions, [`Error::TooLarge`] when `n·m > 2²⁸` or the allocator refuses the output or
    /// a task's buffers (a `16 × m` row buffer, 512 MiB at `m = 2²²`), [`Error::NonFinite`] when
    /// a row's sketch overflows the output type (naming the row; see
    /// [`apply_power`](Self::apply_power)).
    ///
    /// # Performance
    /// `O(p·(nnz(A) + n·m log m))` time; rows are independent and split over `par` in fixed
    /// chunks of 16, so the result is bitwise identical for any thread count. Memory: the output
    /// (each chunk writes its own rows of it; there is no staging copy) plus, per task, a
    /// `16 × m` row buffer and `O(p·m)` FFT buffers; a CSC input is copied to CSR first
    /// (`O(nnz)`).
    pub fn apply_rows<T: Scalar>(&self, a: MatrixRef<'_, T>, par: Par) -> Result<Mat<T>> {
        power_rows(self, a, par)
    }

    /// The bucket `h_k(i)` and sign `σ_k(i)` of index `i` in mode `k`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `k ≥ p` or `i ≥ dims[k]`.
    pub fn mode_bucket(&self, k: usize, i: usize) -> Result<(usize, f64)> {
        self.check_index(k, i)?;
        Ok(self.modes[k].bucket(i))
    }

    fn check_index(&self, k: usize, i: usize) -> Result<()> {
        if k >= self.degree() {
            return Err(Error::param(
                "k",
                format!("mode {k} is outside 0..{}", self.degree()),
            ));
        }
        if i >= self.dims[k] {
            return Err(Error::param(
                "i",
                format!("index {i} is outside 0..{} in mode {k}", self.dims[k]),
            ));
        }
        Ok(())
    }

    /// The combined bucket `(Σ_k h_k(i_k)) mod m` and sign `∏_k σ_k(i_k)` of a multi-index: the
    /// explicit CountSketch of the tensor-product space that the FFT path computes.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `index` does not have `p` entries,
    /// [`Error::InvalidParameter`] when an entry is out of range.
    pub fn tensor_bucket(&self, index: &[usize]) -> Result<(usize, f64)> {
        if index.len() != self.degree() {
            return Err(Error::dim(
                "entries of the multi-index",
                self.degree(),
                index.len(),
            ));
        }
        let (mut h, mut s) = (0usize, 1.0);
        for (k, &i) in index.iter().enumerate() {
            let (hk, sk) = self.mode_bucket(k, i)?;
            h = (h + hk) % self.m;
            s *= sk;
        }
        Ok((h, s))
    }

    /// The CountSketch `s_T` of a tensor given by its nonzero entries (coordinate format):
    /// `s_T[t] = Σ_{H(i) = t} Σ(i)·T_i`, where entry `e` has multi-index
    /// `indices[e·p .. (e+1)·p]` and value `values[e]`. For the rank-one tensor
    /// `x₁ ⊗ … ⊗ x_p` this is `TS(x₁ ⊗ … ⊗ x_p)`; contractions follow from the spectra
    /// (e.g. `T(u, …, u) ≈ ⟨s_T, TS(u^{⊗p})⟩`, unbiased).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `indices.len() ≠ p·values.len()`,
    /// [`Error::InvalidParameter`] for an index out of range, [`Error::NonFinite`] for NaN/±∞,
    /// or for finite values whose sum in a bucket overflows `f64`.
    ///
    /// # Performance
    /// `O(p·nnz(T))` time, `O(m)` memory.
    pub fn sketch_entries(&self, indices: &[usize], values: &[f64]) -> Result<Vec<f64>> {
        check_finite_slice(values, "values")?;
        let p = self.degree();
        if indices.len() != p * values.len() {
            return Err(Error::dim(
                "length of indices (p per entry)",
                p * values.len(),
                indices.len(),
            ));
        }
        let mut out = vec![0.0; self.m];
        for (e, &v) in values.iter().enumerate() {
            let (h, s) = self.tensor_bucket(&indices[e * p..(e + 1) * p])?;
            out[h] += s * v;
        }
        finite_output(out, "the sketch of the entries", |v| v.is_finite())
    }

    /// `C_k x`, the CountSketch of `x ∈ ℝ^{dims[k]}` in mode `k` (length `m`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `k ≥ p`; [`Error::DimensionMismatch`] or
    /// [`Error::NonFinite`] for a bad `x`, or [`Error::NonFinite`] when a bucket's sum of finite
    /// entries overflows `f64`.
    pub fn mode_sketch<T: Scalar>(&self, k: usize, x: &[T]) -> Result<Vec<f64>> {
        if k >= self.degree() {
            return Err(Error::param(
                "k",
                format!("mode {k} is outside 0..{}", self.degree()),
            ));
        }
        let x = vec_f64(x, self.dims[k], "x")?;
        let mut out = vec![0.0; self.m];
        self.modes[k].sketch_dense(&x, &mut out);
        finite_output(out, "the mode sketch C_k x", |v| v.is_finite())
    }

    /// `FFT(C_k x)`: the unnormalized DFT of the mode-`k` CountSketch of `x`, bins
    /// `0..=⌊m/2⌋` (the rest are complex conjugates). `TS(x₁⊗…⊗x_p)` is
    /// [`inverse`](Self::inverse) of the product of the `p` mode spectra.
    ///
    /// # Errors
    /// As [`mode_sketch`](Self::mode_sketch).
    pub fn mode_spectrum<T: Scalar>(&self, k: usize, x: &[T]) -> Result<Vec<Complex<f64>>> {
        let v = self.mode_sketch(k, x)?;
        self.forward(&v)
    }

    /// The unnormalized DFT `X[f] = Σ_t v[t]·e^{−2πi·f·t/m}` of a real length-`m` signal, bins
    /// `0..=⌊m/2⌋`. With [`inverse`](Self::inverse), circular convolution is a product of
    /// spectra and circular correlation a product with the conjugate.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `v.len() ≠ m`, [`Error::NonFinite`] for NaN/±∞ or
    /// when the transform of finite values overflows `f64` (its bins reach `‖v‖₁`).
    ///
    /// # Performance
    /// `O(m log m)` (one real FFT with a cached plan; a prime `m` goes through rustfft's Rader or
    /// Bluestein algorithm and is several times slower — prefer powers of two).
    pub fn forward(&self, v: &[f64]) -> Result<Vec<Complex<f64>>> {
        let mut real = vec_f64(v, self.m, "signal")?;
        let mut spec = vec![Complex::new(0.0, 0.0); self.fft.spec_len()];
        let mut scratch = vec![Complex::new(0.0, 0.0); self.fft.scratch_len()];
        self.fft.forward(&mut real, &mut spec, &mut scratch)?;
        finite_output(spec, "the spectrum", finite_complex)
    }

    /// The real signal `v[t] = (1/m)·Σ_f X[f]·e^{2πi·f·t/m}` whose spectrum is `spec` (bins
    /// `0..=⌊m/2⌋`, the rest implied by conjugate symmetry): the exact inverse of
    /// [`forward`](Self::forward). The imaginary parts of bin 0 (and of bin `m/2` for even `m`)
    /// are ignored, as they must vanish for a real signal.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `spec.len() ≠ ⌊m/2⌋ + 1`, [`Error::NonFinite`] for NaN/±∞
    /// or when the transform of finite bins overflows `f64`.
    pub fn inverse(&self, spec: &[Complex<f64>]) -> Result<Vec<f64>> {
        if spec.len() != self.fft.spec_len() {
            return Err(Error::dim(
                "length of the spectrum",
                self.fft.spec_len(),
                spec.len(),
            ));
        }
        if let Some(i) = spec
            .iter()
            .position(|c| !c.re.is_finite() || !c.im.is_finite())
        {
            return Err(Error::NonFinite {
                what: "spectrum".into(),
                row: i,
                col: 0,
            });
        }
        let mut s = spec.to_vec();
        let mut out = vec![0.0; self.m];
        let mut scratch = vec![Complex::new(0.0, 0.0); self.fft.scratch_len()];
        self.fft.inverse(&mut s, &mut out, &mut scratch)?;
        finite_output(out, "the inverse transform", |v| v.is_finite())
    }
}

impl RowMap for TensorSketch {
    fn out_len(&self) -> usize {
        self.m
    }
    fn workspace(&self) -> Result<Workspace> {
        Workspace::new(&self.fft, 0)
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
        let mut leaves = 0i64;
        let (e, _) = convolve(&self.fft, self.degree(), &mut ws.bufs, out, |k, buf| {
            let (idx, val) = factors[k];
            let (s, bound) = leaf_shift(val);
            leaves += i64::from(s);
            self.modes[k].sketch_sparse_shifted(idx, val, s, buf);
            bound
        })?;
        scale_pow2(out, e + leaves);
        Ok(())
    }
}
