//! Exact removal of the sign-even collisions of a shared-hash count sketch of an order-3
//! symmetric tensor, which makes its contractions unbiased.
//!
//! With one hash `h` and sign `σ` for all modes (see [`ModeHashing::Shared`]), the estimate of
//! `T(I,u,u)_i` from one sketch is
//!
//! `e_i = Σ_{(j,l)} Σ_M [H(M) ≡ H(N)]·σ(M)σ(N)·T_M·u_j u_l`,   `N = {i,j,l}`,
//!
//! over ordered pairs `(j,l)` and index multisets `M` (`H`, `σ` summed and multiplied over a
//! multiset). The terms `M = N` give `T(I,u,u)_i`. Any other pair whose union has an index of
//! odd multiplicity carries a product of independent signs with mean zero. The union of two
//! different 3-multisets has only even multiplicities exactly when `M = {x,x,y}`,
//! `N = {y,z,z}` with `x ≠ z` (`y` arbitrary); then `σ(M)σ(N) = 1` and the pair collides when
//! `2h(x) ≡ 2h(z) (mod b)`, i.e. `h(x) ≡ h(z) (mod b/2)`. These terms do not average out: they
//! are the bias of the shared hash. Given the realized ordered pairs
//! `P = {(x,z) : x ≠ z, h(x) ≡ h(z) mod b/2}` (about `2n²/b` of them) and `D[x][y] = T_xxy`,
//! removing one `i` from `N` and counting the orderings of the rest gives
//!
//! `junk_i = Σ_{(x,z)∈P} D[x][i]·u_z² + [i = z]·2u_z·((Du)_x − D[x][z]·u_z)`,
//!
//! and the value estimate `⟨u, e⟩` loses `Σ_{(x,z)∈P} u_z²·(3(Du)_x − 2D[x][z]·u_z)` with it.
//! Subtracting `junk` leaves only zero-mean terms: the corrected per-sketch estimates are
//! unbiased, as with independent hashes per mode. A sketch folded to `b'` is the count sketch
//! with hashes `h mod b'`, so the same holds with `P` taken modulo `b'/2`. Deflation in sketch
//! space subtracts the multiset sketch of `λu^{⊗3}`, so the sketch is always that of the
//! deflated tensor and `D` follows it: `D ← D − λ·(u∘u)·uᵀ`, kept as the rank-one terms.
//!
//! At order 4 and above more multiset patterns pair up (`{x,x,y,y}` with `{z,z,w,w}`, …) and
//! no correction is applied: the shared hash stays biased there.
//!
//! [`ModeHashing::Shared`]: super::ModeHashing::Shared

use super::symmetric::{dot, SymmetricTensor};
use crate::error::{Error, Result};

/// Most colliding pairs held for all sketches at one size (8 bytes each: 1 GiB).
const MAX_PAIRS: usize = 1 << 27;

/// Ordered colliding pairs `(x, z)` of one sketch.
type Pairs = Vec<(u32, u32)>;

/// The slices `D[x][·] = T_xx·` of the sketched tensor, the deflations since, and the cached
/// collision pairs of every sketch.
#[derive(Clone, Debug)]
pub(crate) struct PairingCorrection {
    /// `D` of the tensor as built, compressed rows (`y` ascending, zeros left out).
    ptr: Vec<usize>,
    col: Vec<u32>,
    val: Vec<f64>,
    /// Deflated rank-one terms `(λ, u)`: `D = D₀ − Σ λ·(u∘u)·uᵀ`.
    deflated: Vec<(f64, Vec<f64>)>,
    /// Collision pairs per sketch at two sizes (`0`: none cached).
    cached: [(usize, Vec<Pairs>); 2],
}

impl PairingCorrection {
    /// Reads `D₀[x][y] = s·T_xxy` from an order-3 tensor (`s`: the sketches' scale factor, a
    /// power of two, 1 within the range) and caches the pairs of the sketches with hash tables
    /// `hashes` at size `dim`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the sketches have more than `2²⁷` colliding pairs in all.
    pub(crate) fn new<'a>(
        t: &SymmetricTensor,
        s: f64,
        hashes: impl Iterator<Item = &'a [u32]>,
        dim: usize,
    ) -> Result<Self> {
        let full = all_pairs(hashes, dim).map_err(|total| too_many_pairs(total, dim, t.dim()))?;
        let n = t.dim();
        let mut ptr = Vec::with_capacity(n + 1);
        let (mut col, mut val) = (Vec::new(), Vec::new());
        ptr.push(0);
        match t.dense_data() {
            Some(d) => {
                for x in 0..n {
                    let row = &d[(x * n + x) * n..(x * n + x + 1) * n];
                    for (y, &v) in row.iter().enumerate() {
                        if v != 0.0 {
                            col.push(y as u32);
                            val.push(v * s);
                        }
                    }
                    ptr.push(col.len());
                }
            }
            None => {
                // Coordinate storage lists every permutation, sorted lexicographically: the
                // entries `(x, x, y)` come row by row with `y` ascending.
                let mut row = 0usize;
                t.for_each_entry(|idx, v| {
                    if idx[0] == idx[1] && v != 0.0 {
                        let x = idx[0] as usize;
                        while row < x {
                            ptr.push(col.len());
                            row += 1;
                        }
                        col.push(idx[2]);
                        val.push(v * s);
                    }
                });
                while row < n {
                    ptr.push(col.len());
                    row += 1;
                }
            }
        }
        Ok(PairingCorrection {
            ptr,
            col,
            val,
            deflated: Vec::new(),
            cached: [(dim, full), (0, Vec::new())],
        })
    }

    /// Caches the pairs at a second size, replacing any earlier second size (nothing is cached
    /// beyond `2²⁷` pairs: they are then found at every evaluation).
    pub(crate) fn cache<'a>(&mut self, hashes: impl Iterator<Item = &'a [u32]>, dim: usize) {
        if dim == self.cached[0].0 {
            return;
        }
        self.cached[1] = match all_pairs(hashes, dim) {
            Ok(p) => (dim, p),
            Err(_) => (0, Vec::new()),
        };
    }

    /// Follows a deflation `T ← T − λ·u^{⊗3}` of the sketches.
    pub(crate) fn deflate(&mut self, w: f64, u: &[f64]) {
        self.deflated.push((w, u.to_vec()));
    }

    /// `⟨v_j, u⟩` for every deflated term `(λ_j, v_j)`: what [`PairingCorrection::apply`] needs
    /// of `u` for every sketch.
    pub(crate) fn projections(&self, u: &[f64]) -> Vec<f64> {
        self.deflated.iter().map(|(_, v)| dot(v, u)).collect()
    }

    /// Subtracts the sign-even collision terms from `est`, the estimate of `T(I,u,u)` of sketch
    /// `m` (hash table `hash`) folded to size `dim`; `proj` from
    /// [`PairingCorrection::projections`] of `u`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when `dim` is not cached and the sketch has more than `2²⁷`
    /// colliding pairs at that size.
    ///
    /// # Performance
    /// `O(Σ_x nnz(D₀[x]) + |P| log n + k·(n + |P|))` over the distinct `x` of the pairs `P`, for
    /// `k` deflations: `≈ min(n, 2n²/dim)` row walks (`n` entries each on dense storage); pairs
    /// of a size that is not cached are found first (`O(n log n)`).
    pub(crate) fn apply(
        &self,
        m: usize,
        hash: &[u32],
        dim: usize,
        u: &[f64],
        proj: &[f64],
        est: &mut [f64],
    ) -> Result<()> {
        let computed;
        let pairs: &[(u32, u32)] = match self.cached.iter().find(|(d, _)| *d == dim) {
            Some((_, p)) => &p[m],
            None => {
                computed = all_pairs(std::iter::once(hash), dim)
                    .map_err(|total| too_many_pairs(total, dim, hash.len()))?
                    .pop()
                    .unwrap_or_default();
                &computed
            }
        };
        if pairs.is_empty() {
            return Ok(());
        }
        // The coefficients of the deflated terms' low-rank part, and g_j = λ_j·v_j[x]² of the
        // current x (row x of the deflated terms is Σ_j g_j·v_jᵀ).
        let mut coef = vec![0.0; self.deflated.len()];
        let mut g = vec![0.0; self.deflated.len()];
        // The pairs are sorted by x: one walk of D₀[x] per distinct x.
        for group in pairs.chunk_by(|a, b| a.0 == b.0) {
            let x = group[0].0 as usize;
            let (cols, vals) = (
                &self.col[self.ptr[x]..self.ptr[x + 1]],
                &self.val[self.ptr[x]..self.ptr[x + 1]],
            );
            // A full row (dense storage) is walked without its column indices, which vectorizes.
            let full = cols.len() == u.len();
            let mut dxu = if full {
                dot(vals, u)
            } else {
                cols.iter()
                    .zip(vals)
                    .map(|(&c, &v)| v * u[c as usize])
                    .sum()
            };
            for ((gj, (w, v)), &a) in g.iter_mut().zip(&self.deflated).zip(proj) {
                *gj = w * v[x] * v[x];
                dxu -= *gj * a;
            }
            let mut weight = 0.0;
            for &(_, z) in group {
                let z = z as usize;
                let uz = u[z];
                let mut dxz = if full {
                    vals[z]
                } else {
                    match cols.binary_search(&(z as u32)) {
                        Ok(k) => vals[k],
                        Err(_) => 0.0,
                    }
                };
                for (gj, (_, v)) in g.iter().zip(&self.deflated) {
                    dxz -= gj * v[z];
                }
                // The i = z term.
                est[z] -= 2.0 * uz * (dxu - dxz * uz);
                weight += uz * uz;
            }
            // −(Σ_z u_z²)·D[x][·]: the stored row here, its low-rank part through `coef`.
            if full {
                for (e, &v) in est.iter_mut().zip(vals) {
                    *e -= weight * v;
                }
            } else {
                for (&c, &v) in cols.iter().zip(vals) {
                    est[c as usize] -= weight * v;
                }
            }
            for (c, gj) in coef.iter_mut().zip(&g) {
                *c += weight * gj;
            }
        }
        for ((_, v), &c) in self.deflated.iter().zip(&coef) {
            for (e, &vi) in est.iter_mut().zip(v) {
                *e += c * vi;
            }
        }
        Ok(())
    }
}

/// The error for more than [`MAX_PAIRS`] colliding pairs.
fn too_many_pairs(total: usize, dim: usize, n: usize) -> Error {
    Error::TooLarge {
        what: format!(
            "the colliding index pairs of order-3 shared-hash sketches at size {dim} (n = {n}; \
             use ModeHashing::PerMode or larger sketches)"
        ),
        requested: total as u128,
        limit: MAX_PAIRS as u128,
    }
}

/// The pairs of every sketch, or `Err(total count)` beyond [`MAX_PAIRS`] in all (counted
/// before any pair is stored).
fn all_pairs<'a>(
    hashes: impl Iterator<Item = &'a [u32]>,
    dim: usize,
) -> std::result::Result<Vec<Pairs>, usize> {
    let keyed: Vec<Vec<(u32, u32)>> = hashes.map(|h| keyed(h, dim)).collect();
    let total = keyed
        .iter()
        .map(|k| pair_count(k))
        .fold(0usize, usize::saturating_add);
    if total > MAX_PAIRS {
        return Err(total);
    }
    Ok(keyed.iter().map(|k| collision_pairs(k)).collect())
}

/// `(h mod dim/2, index)` sorted by key.
fn keyed(hash: &[u32], dim: usize) -> Vec<(u32, u32)> {
    let mask = (dim / 2).max(1) as u32 - 1;
    let mut keyed: Vec<(u32, u32)> = hash
        .iter()
        .enumerate()
        .map(|(i, &h)| (h & mask, i as u32))
        .collect();
    keyed.sort_unstable();
    keyed
}

/// Ordered pairs within the key groups of [`keyed`] output.
fn pair_count(keyed: &[(u32, u32)]) -> usize {
    keyed
        .chunk_by(|a, b| a.0 == b.0)
        .map(|g| g.len() * (g.len() - 1))
        .fold(0usize, usize::saturating_add)
}

/// The ordered pairs `(x, z)`, `x ≠ z`, within the key groups of [`keyed`] output (indices with
/// `h(x) ≡ h(z) (mod dim/2)`), sorted.
fn collision_pairs(keyed: &[(u32, u32)]) -> Pairs {
    let mut pairs = Vec::with_capacity(pair_count(keyed));
    for group in keyed.chunk_by(|a, b| a.0 == b.0) {
        for &(_, x) in group {
            for &(_, z) in group {
                if x != z {
                    pairs.push((x, z));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs
}
