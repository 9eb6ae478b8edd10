//! Count sketches of a symmetric tensor and contractions through FFTs
//! (Wang–Tung–Smola–Anandkumar 2015).

use super::symmetric::{dot, SymmetricTensor};
use crate::error::{Error, Result};
use crate::seed::Seed;
use faer::Par;
use rayon::prelude::*;
use realfft::num_complex::Complex;

type C = Complex<f64>;

/// Stream of the per-sketch, per-mode hashes: `seed.derive(HASH_STREAM).word(m·p + k, i)`.
pub(crate) const HASH_STREAM: u64 = 0x71;
/// Smallest sketch size `b`.
pub const MIN_SKETCH_DIM: usize = 1 << 4;
/// Largest sketch size `b`.
pub const MAX_SKETCH_DIM: usize = 1 << 24;
/// Largest number of sketches `B`.
pub const MAX_SKETCHES: usize = 256;
/// Largest `B·b` (complex spectra of 16 bytes each: 2 GiB).
pub const MAX_SKETCH_TOTAL: usize = 1 << 27;

/// Radix-2 complex FFT of a fixed power-of-two length (unnormalized in both directions).
#[derive(Clone, Debug)]
pub(crate) struct Fft {
    n: usize,
    rev: Vec<u32>,
    /// Twiddles of every stage, contiguous: stage `len` holds `e^{−2πi j/len}`, `j < len/2`,
    /// at offset `len/2 − 1`.
    tw: Vec<C>,
}

impl Fft {
    pub(crate) fn new(n: usize) -> Fft {
        debug_assert!(n.is_power_of_two() && n >= 2);
        let bits = n.trailing_zeros();
        let rev = (0..n as u32)
            .map(|i| i.reverse_bits() >> (32 - bits))
            .collect();
        let mut tw = Vec::with_capacity(n);
        let mut len = 2;
        while len <= n {
            for j in 0..len / 2 {
                let a = -std::f64::consts::TAU * j as f64 / len as f64;
                tw.push(C::new(a.cos(), a.sin()));
            }
            len <<= 1;
        }
        Fft { n, rev, tw }
    }

    /// `X[f] = Σ_t x[t] e^{−2πi f t / n}` in place.
    pub(crate) fn forward(&self, x: &mut [C]) {
        let n = self.n;
        for i in 0..n {
            let j = self.rev[i] as usize;
            if i < j {
                x.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= n {
            let half = len / 2;
            let tw = &self.tw[half - 1..len - 1];
            for block in x.chunks_exact_mut(len) {
                let (lo, hi) = block.split_at_mut(half);
                for ((a, b), w) in lo.iter_mut().zip(hi.iter_mut()).zip(tw) {
                    let t = *b * *w;
                    *b = *a - t;
                    *a += t;
                }
            }
            len <<= 1;
        }
    }

    /// `x[t] = Σ_f X[f] e^{+2πi f t / n}` in place (no `1/n`).
    pub(crate) fn inverse(&self, x: &mut [C]) {
        x.iter_mut().for_each(|v| *v = v.conj());
        self.forward(x);
        x.iter_mut().for_each(|v| *v = v.conj());
    }
}

/// `B` independent count sketches of size `b` of a symmetric tensor of order `p`, each with
/// its own independent hash `h_k: [n] → [b]` and sign `σ_k: [n] → {±1}` for every mode `k`:
///
/// `s_T[t] = Σ_{i : Σ_k h_k(i_k) ≡ t (mod b)} σ_1(i_1)⋯σ_p(i_p) T_i`.
///
/// The sketch of a rank-one power `u^{⊗p}` is the circular convolution of the mode sketches
/// `s_k(u)[t] = Σ_{h_k(i)=t} σ_k(i) u_i`, computed by FFT. Contractions:
///
/// * `T(u,…,u) ≈ ⟨s_T, s_{u^{⊗p}}⟩`, unbiased for each sketch;
/// * `T(I,u,…,u)_i ≈ σ_1(i)·r[h_1(i)]` with `r = IFFT(FFT(s_T)∘conj(∏_{k≥2} FFT(s_k(u))))/b`,
///   unbiased for each sketch; the value estimate is `⟨u, T(I,u,…,u)⟩` of the same sketch, which
///   equals `⟨s_T, s_{u^{⊗p}}⟩` exactly.
///
/// The estimates of the `B` sketches are combined by medians (coordinate-wise for vectors).
/// Only the spectra `FFT(s_T)` are stored; deflation `s_T ← s_T − λ s_{u^{⊗p}}` happens on them.
///
/// # Reproducibility
/// Every hash is a pure function of `(seed, sketch, mode, index)`; sketches are processed in
/// fixed pairs and combined in sketch order, so results are bitwise identical for any thread
/// count.
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
    /// `hash[(m·p + k)·n + i]`.
    hash: Vec<u32>,
    sign: Vec<f64>,
    spectra: Vec<Vec<C>>,
    fft: Fft,
}

struct Work {
    real: Vec<f64>,
    buf: Vec<C>,
    prod: [Vec<C>; 2],
}

impl TensorSketches {
    /// Builds `B = sketches` count sketches of size `b = sketch_dim` of `t`.
    ///
    /// # Errors
    /// `sketches ∉ 1..=256`, `sketch_dim` not a power of two in `2⁴..=2²⁴`, or `B·b > 2²⁷`
    /// ([`Error::TooLarge`]).
    ///
    /// # Performance
    /// `O(B·(p·nnz(T) + b log b))` time, `B·b` complex numbers plus `B·p·n` hashes of memory.
    pub fn new(
        t: &SymmetricTensor,
        sketches: usize,
        sketch_dim: usize,
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
        let total = sketches as u128 * b as u128;
        let hashes = sketches as u128 * p as u128 * n as u128;
        if total > MAX_SKETCH_TOTAL as u128 || hashes > MAX_SKETCH_TOTAL as u128 {
            return Err(Error::TooLarge {
                what: format!("{sketches} sketches of size {b} (and their hash tables)"),
                requested: total.max(hashes),
                limit: MAX_SKETCH_TOTAL as u128,
            });
        }
        let hs = seed.derive(HASH_STREAM);
        let shift = 64 - b.trailing_zeros();
        let mut hash = Vec::with_capacity(hashes as usize);
        let mut sign = Vec::with_capacity(hashes as usize);
        for mk in 0..(sketches * p) as u64 {
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
            hash,
            sign,
            spectra: Vec::new(),
            fft: Fft::new(b),
        };
        let build = |m: usize| -> Vec<C> {
            let mut s = vec![0.0; b];
            let mask = b - 1;
            let base = m * p * n;
            if let Some(d) = t.dense_data() {
                let tables: Vec<(&[u32], &[f64])> = (0..p)
                    .map(|k| {
                        let o = base + k * n;
                        (&sk.hash[o..o + n], &sk.sign[o..o + n])
                    })
                    .collect();
                dense_scatter(d, &tables, 0, 0, 1.0, &mut s, mask);
            } else {
                t.for_each_entry(|idx, v| {
                    let mut pos = 0usize;
                    let mut sg = v;
                    for (k, &i) in idx.iter().enumerate() {
                        let o = base + k * n + i as usize;
                        pos += sk.hash[o] as usize;
                        sg *= sk.sign[o];
                    }
                    s[pos & mask] += sg;
                });
            }
            let mut spec: Vec<C> = s.iter().map(|&x| C::new(x, 0.0)).collect();
            sk.fft.forward(&mut spec);
            spec
        };
        let spectra: Vec<Vec<C>> = if super::tasks(par) > 1 {
            (0..sketches).into_par_iter().map(build).collect()
        } else {
            (0..sketches).map(build).collect()
        };
        sk.spectra = spectra;
        Ok(sk)
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

    /// `(h_k(i), σ_k(i))` of sketch `m`, mode `k`.
    ///
    /// # Errors
    /// `m ≥ B`, `k ≥ p` or `i ≥ n`.
    pub fn bucket(&self, m: usize, k: usize, i: usize) -> Result<(usize, f64)> {
        if m >= self.count || k >= self.order || i >= self.dim {
            return Err(Error::param(
                "bucket",
                format!(
                    "(sketch {m}, mode {k}, index {i}) outside ({}, {}, {})",
                    self.count, self.order, self.dim
                ),
            ));
        }
        let o = (m * self.order + k) * self.dim + i;
        Ok((self.hash[o] as usize, self.sign[o]))
    }

    /// The current (deflated) sketch `s_T` of sketch `m`, recovered from its spectrum.
    ///
    /// # Errors
    /// `m ≥ B`.
    pub fn tensor_sketch(&self, m: usize) -> Result<Vec<f64>> {
        let spec = self
            .spectra
            .get(m)
            .ok_or_else(|| Error::param("m", format!("sketch {m} of {}", self.count)))?;
        let mut x = spec.clone();
        self.fft.inverse(&mut x);
        Ok(x.iter().map(|c| c.re / self.b as f64).collect())
    }

    /// The count sketch of `u^{⊗p}` under sketch `m`, through FFTs of the mode sketches.
    ///
    /// # Errors
    /// `m ≥ B`, `u.len() ≠ n` or a non-finite entry.
    pub fn power_sketch(&self, m: usize, u: &[f64]) -> Result<Vec<f64>> {
        self.check_u(u)?;
        if m >= self.count {
            return Err(Error::param("m", format!("sketch {m} of {}", self.count)));
        }
        let mut w = self.work();
        let mut q = self.power_spectrum(m, 0, u, &mut w);
        self.fft.inverse(&mut q);
        Ok(q.iter().map(|c| c.re / self.b as f64).collect())
    }

    fn check_u(&self, u: &[f64]) -> Result<()> {
        if u.len() != self.dim {
            return Err(Error::dim("u", self.dim, u.len()));
        }
        crate::input::check_finite_slice(u, "u")
    }

    fn work(&self) -> Work {
        Work {
            real: vec![0.0; self.b],
            buf: vec![C::new(0.0, 0.0); self.b],
            prod: [
                vec![C::new(0.0, 0.0); self.b],
                vec![C::new(0.0, 0.0); self.b],
            ],
        }
    }

    /// `∏_{k ≥ first} FFT(s_k(u))` for sketch `m`, two modes per complex FFT.
    #[allow(clippy::needless_range_loop)] // indices address several arrays at once
    fn power_spectrum(&self, m: usize, first: usize, u: &[f64], w: &mut Work) -> Vec<C> {
        let (b, n, p) = (self.b, self.dim, self.order);
        let mut prod = vec![C::new(1.0, 0.0); b];
        let mut k = first;
        while k < p {
            let pair = k + 1 < p;
            w.buf.iter_mut().for_each(|c| *c = C::new(0.0, 0.0));
            let o = (m * p + k) * n;
            for i in 0..n {
                w.buf[self.hash[o + i] as usize].re += self.sign[o + i] * u[i];
            }
            if pair {
                let o = (m * p + k + 1) * n;
                for i in 0..n {
                    w.buf[self.hash[o + i] as usize].im += self.sign[o + i] * u[i];
                }
            }
            self.fft.forward(&mut w.buf);
            if pair {
                for f in 0..b {
                    let z = w.buf[f];
                    let zc = w.buf[(b - f) & (b - 1)].conj();
                    let x = (z + zc) * 0.5;
                    let d = z - zc;
                    let y = C::new(d.im * 0.5, -d.re * 0.5);
                    prod[f] = prod[f] * x * y;
                }
            } else {
                for f in 0..b {
                    prod[f] *= w.buf[f];
                }
            }
            k += if pair { 2 } else { 1 };
        }
        prod
    }

    /// Per-sketch estimates of `T(I,u,…,u)` for the sketches of pair `pair` (one or two).
    #[allow(clippy::needless_range_loop)] // indices address several arrays at once
    fn pair_estimates(&self, pair: usize, count: usize, u: &[f64], w: &mut Work) -> Vec<Vec<f64>> {
        let (b, n, p) = (self.b, self.dim, self.order);
        let ms: Vec<usize> = (2 * pair..(2 * pair + 2).min(count)).collect();
        for (slot, &m) in ms.iter().enumerate() {
            let q = self.power_spectrum(m, 1, u, w);
            let spec = &self.spectra[m];
            for f in 0..b {
                w.prod[slot][f] = spec[f] * q[f].conj();
            }
        }
        if ms.len() == 2 {
            for f in 0..b {
                let (g1, g2) = (w.prod[0][f], w.prod[1][f]);
                w.buf[f] = C::new(g1.re - g2.im, g1.im + g2.re);
            }
        } else {
            w.buf.copy_from_slice(&w.prod[0]);
        }
        self.fft.inverse(&mut w.buf);
        let scale = 1.0 / b as f64;
        ms.iter()
            .enumerate()
            .map(|(slot, &m)| {
                for (r, c) in w.real.iter_mut().zip(&w.buf) {
                    *r = if slot == 0 { c.re } else { c.im } * scale;
                }
                let o = m * p * n;
                (0..n)
                    .map(|i| self.sign[o + i] * w.real[self.hash[o + i] as usize])
                    .collect()
            })
            .collect()
    }

    pub(crate) fn estimates_unchecked(&self, u: &[f64], par: Par) -> Vec<Vec<f64>> {
        self.estimates_first(self.count, u, par)
    }

    /// Estimates of the first `count` sketches only (`count ≤ B`).
    pub(crate) fn estimates_first(&self, count: usize, u: &[f64], par: Par) -> Vec<Vec<f64>> {
        let count = count.clamp(1, self.count);
        let pairs = count.div_ceil(2);
        let per_pair: Vec<Vec<Vec<f64>>> = if super::tasks(par) > 1 && pairs > 1 {
            (0..pairs)
                .into_par_iter()
                .map_init(|| self.work(), |w, pr| self.pair_estimates(pr, count, u, w))
                .collect()
        } else {
            let mut w = self.work();
            (0..pairs)
                .map(|pr| self.pair_estimates(pr, count, u, &mut w))
                .collect()
        };
        per_pair.into_iter().flatten().collect()
    }

    /// The `B` per-sketch estimates of `T(I,u,…,u)` (each unbiased).
    ///
    /// # Errors
    /// `u.len() ≠ n` or a non-finite entry.
    ///
    /// # Performance
    /// Per sketch: `p − 1` count sketches of `u` (`O(n)` each), `⌈(p−1)/2⌉ + ½` complex FFTs of
    /// length `b`.
    pub fn estimates_but_one(&self, u: &[f64], par: Par) -> Result<Vec<Vec<f64>>> {
        self.check_u(u)?;
        Ok(self.estimates_unchecked(u, par))
    }

    /// The `B` per-sketch estimates of `T(u,…,u)` (each unbiased).
    ///
    /// # Errors
    /// As [`TensorSketches::estimates_but_one`].
    pub fn estimates_all(&self, u: &[f64], par: Par) -> Result<Vec<f64>> {
        Ok(self
            .estimates_but_one(u, par)?
            .iter()
            .map(|z| dot(z, u))
            .collect())
    }

    /// Median over the sketches of the estimates of `T(I,u,…,u)`, coordinate-wise.
    ///
    /// # Errors
    /// As [`TensorSketches::estimates_but_one`].
    pub fn contract_but_one(&self, u: &[f64], par: Par) -> Result<Vec<f64>> {
        let est = self.estimates_but_one(u, par)?;
        Ok(median_vectors(&est))
    }

    /// Median over the sketches of the estimates of `T(u,…,u)`.
    ///
    /// # Errors
    /// As [`TensorSketches::estimates_but_one`].
    pub fn contract_all(&self, u: &[f64], par: Par) -> Result<f64> {
        let mut e = self.estimates_all(u, par)?;
        Ok(median(&mut e))
    }

    /// Deflation in sketch space: `s_T ← s_T − w·s_{u^{⊗p}}` for every sketch.
    ///
    /// # Errors
    /// `u.len() ≠ n`, a non-finite entry, or a non-finite `w`.
    pub fn deflate(&mut self, w: f64, u: &[f64], par: Par) -> Result<()> {
        self.check_u(u)?;
        if !w.is_finite() {
            return Err(Error::param("w", format!("{w} is not finite")));
        }
        let this = &*self;
        let delta = |m: usize| {
            let mut wk = this.work();
            this.power_spectrum(m, 0, u, &mut wk)
        };
        let qs: Vec<Vec<C>> = if super::tasks(par) > 1 {
            (0..self.count).into_par_iter().map(delta).collect()
        } else {
            (0..self.count).map(delta).collect()
        };
        for (spec, q) in self.spectra.iter_mut().zip(qs) {
            for (s, x) in spec.iter_mut().zip(q) {
                *s -= x * w;
            }
        }
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

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn fft_matches_dft() {
        let n = 16;
        let f = Fft::new(n);
        let x: Vec<C> = (0..n)
            .map(|i| C::new((i * i % 7) as f64, (i % 3) as f64))
            .collect();
        let mut y = x.clone();
        f.forward(&mut y);
        for k in 0..n {
            let mut s = C::new(0.0, 0.0);
            for (t, v) in x.iter().enumerate() {
                let a = -std::f64::consts::TAU * (k * t) as f64 / n as f64;
                s += v * C::new(a.cos(), a.sin());
            }
            assert!((s - y[k]).norm() < 1e-9);
        }
        f.inverse(&mut y);
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b / n as f64).norm() < 1e-12);
        }
    }
}
