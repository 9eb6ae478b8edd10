//! Sketched polynomial attention: non-causal in `O(n·r²·d)`, causal by block lower-triangular
//! products with a streamed prefix state.

use super::causal::{
    add_self_tensor_times, add_tensored_products, causal_blocks, causal_workspace, check_state,
    tensor_chunk_bound, Sources, FEAT_CHUNK,
};
use super::exact::{exact_attention, ExactParams, Kernel};
use super::features::{pairs, FeatureMap, PolySketch};
use super::{check_block, check_output, check_qkv, output_matrix, tasks, CHECK_MAX_N};
use crate::error::{Error, Result};
use crate::scalar::Scalar;
use crate::seed::Seed;
use faer::{Mat, MatRef, Par};
use rayon::prelude::*;
use std::time::Instant;

/// Settings of [`poly_sketch_attention`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolySketchParams {
    /// The even degree `p` of the kernel `⟨q,k⟩^p` (default 4); `φ` has degree `p/2`.
    pub degree: usize,
    /// The dimension `r` of `φ` (default 32); the self-tensored features have `r(r+1)/2`.
    /// Ignored by [`FeatureMap::Identity`].
    pub sketch_dim: usize,
    /// Which random map `φ` (default [`FeatureMap::Gaussian`]).
    pub map: FeatureMap,
    /// Causal attention (default `false`).
    pub causal: bool,
    /// Block size `b` (default 256): causal blocks, and the row blocks in which features are
    /// formed (memory `O(b·r)`; their self-tensor is formed at most `max(2¹⁸, 256·b)` scalars
    /// at a time).
    pub block: usize,
    /// Seed of the random map (default 0).
    pub seed: Seed,
    /// Also compute exact degree-`p` attention and report the relative Frobenius error
    /// ([`SketchInfo::rel_error`]); allowed for `n ≤ 16384` (default `false`).
    pub check: bool,
}

impl Default for PolySketchParams {
    fn default() -> Self {
        PolySketchParams {
            degree: 4,
            sketch_dim: 32,
            map: FeatureMap::Gaussian,
            causal: false,
            block: 256,
            seed: Seed::new(0),
            check: false,
        }
    }
}

/// What [`poly_sketch_attention`] reports beside the output.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SketchInfo {
    /// `r`, the dimension of `φ`.
    pub sketch_dim: usize,
    /// `r(r+1)/2`, the dimension of the self-tensored features.
    pub feature_dim: usize,
    /// Number of row blocks.
    pub blocks: usize,
    /// Bytes of workspace the algorithm allocates beyond the inputs and the output (prefix state,
    /// one block of features and weights per thread and, non-causal, the results of a wave of
    /// up to 16 query blocks, finished in order). It is bounded independently of `n` and stops
    /// growing once every block is full (`n ≥ b`) when causal, once there are 16 query blocks
    /// (`n ≥ 16·b`) when not; below that it is smaller (a block is counted at `min(b, rows)`, a
    /// wave at the query blocks there are). faer's GEMM scratch is not included
    /// (`tests/attention.rs` measures the whole heap).
    pub workspace_bytes: usize,
    /// The smallest normalizer `1 + Σ_j w_ij` over the rows (≥ 1: the sum, computed through the
    /// features, is clamped at zero where rounding would make it negative).
    pub min_normalizer: f64,
    /// Seconds spent on the sketched output (not on the check).
    pub seconds: f64,
    /// `‖out − exact‖_F / ‖exact‖_F` against exact degree-`p` attention, when `check` was set.
    pub rel_error: Option<f64>,
}

/// Sketched degree-`p` polynomial attention: `out_i = Σ_j w_ij v_j / (1 + Σ_j w_ij)` with
/// `w_ij = ⟨φ'(q_i), φ'(k_j)⟩ = ⟨φ(q_i), φ(k_j)⟩² ≈ ⟨q_i, k_j⟩^p` (see [`PolySketch`]).
///
/// Builds the map from `params` (`h` from `Q`) and calls [`PolySketch::attention`].
///
/// # Examples
///
/// ```
/// use randnla::attention::{clustered_qkv, poly_sketch_attention, PolySketchParams};
/// use randnla::Seed;
/// let (q, k, v) = clustered_qkv(512, 16, 8, 0.3, 1.5, Seed::new(1))?;
/// let params = PolySketchParams {
///     sketch_dim: 32,
///     causal: true,
///     check: true,
///     ..Default::default()
/// };
/// let par = randnla::faer::Par::Seq;
/// let (out, info) = poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, par)?;
/// assert_eq!((out.nrows(), out.ncols()), (512, 16));
/// assert!(info.min_normalizer >= 1.0 - 1e-9);
/// // ≈ 0.56 here (0.75 / 0.58 / 0.56 / 0.36 at r = 8 / 16 / 32 / 64); see the module docs
/// let e = info.rel_error.unwrap();
/// assert!((0.5..0.62).contains(&e), "{e}");
/// # Ok::<(), randnla::Error>(())
/// ```
///
/// # Errors
/// As [`PolySketch::new`] (odd degree, bad sketch dimension) and [`PolySketch::attention`].
///
/// # Performance
/// As [`PolySketch::attention`] (the state and its use, `O((n + m)·r²·d)` with
/// `r = sketch_dim`, the features `φ`, and in the causal case the in-block triangles; extra
/// memory independent of `n`), plus the map's construction, `O(h·r·p)`.
///
/// # References
/// P. Kacham, V. Mirrokni, P. Zhong, "PolySketchFormer: Fast transformers via sketching
/// polynomial kernels", ICML 2024, arXiv 2310.01655.
pub fn poly_sketch_attention<T: Scalar>(
    q: MatRef<'_, T>,
    k: MatRef<'_, T>,
    v: MatRef<'_, T>,
    params: &PolySketchParams,
    par: Par,
) -> Result<(Mat<T>, SketchInfo)> {
    check_qkv(q, k, v, params.causal)?;
    let sketch = PolySketch::new(
        q.ncols(),
        params.degree,
        params.sketch_dim,
        params.map,
        params.seed,
    )?;
    sketch.attention(q, k, v, params.causal, params.block, params.check, par)
}

impl PolySketch {
    /// Attention with this map's weights `⟨φ'(q_i), φ'(k_j)⟩` over `J(i)` = all keys or (causal)
    /// `j ≤ i`, computed without any `n × m` matrix.
    ///
    /// Non-causal: the state `P = Σ_j φ'(k_j)ᵀ [v_j 1]` (`r(r+1)/2 × (d+1)`) is accumulated over
    /// key blocks of `b` rows, then each query block gets `φ'(Q_I) P` and divides by its last
    /// column plus one. Causal: [`causal_squared_product`](super::causal_squared_product) on
    /// `A = φ(Q)`, `B = φ(K)`, `C = [V 1]`, with features formed block by block.
    ///
    /// # Errors
    /// As [`exact_attention`] for the inputs and `block`; [`Error::DimensionMismatch`] when `h`
    /// is not the map's input dimension; [`Error::TooLarge`] when the state exceeds 2²⁸ scalars,
    /// the `n × d` output exceeds [`MAX_OUTPUT`](super::MAX_OUTPUT) scalars (or cannot be
    /// allocated, nor a block's `[V 1]` or result), or `check` is asked for with `n > 16384`;
    /// [`Error::NonFinite`] when a numerator `Σ_j φ(q_i)ᵀφ(k_j)·v_j`, a normalizer
    /// `1 + Σ_j φ(q_i)ᵀφ(k_j)` or the output overflowed the scalar type (naming the query row;
    /// [`exact_attention`] rescales by powers of two and holds a wider range), or — with
    /// [`FeatureMap::TensorSketch`], which checks its own output — when a feature `φ(q_i)` or
    /// `φ(k_j)` overflowed (naming that row of `Q` or `K`).
    ///
    /// # Performance
    /// `2·(n + m)·(r(r+1)/2)·(d+1)` flops for the state and its use, `O((n+m)·h·r·p/2)` for `φ`,
    /// and (causal) `n·b·(r + d)` for the in-block triangles. Extra memory
    /// [`SketchInfo::workspace_bytes`], bounded independently of `n`. Bitwise identical for any
    /// `par`.
    #[allow(clippy::too_many_arguments)]
    pub fn attention<T: Scalar>(
        &self,
        q: MatRef<'_, T>,
        k: MatRef<'_, T>,
        v: MatRef<'_, T>,
        causal: bool,
        block: usize,
        check: bool,
        par: Par,
    ) -> Result<(Mat<T>, SketchInfo)> {
        check_qkv(q, k, v, causal)?;
        check_block(block)?;
        if q.ncols() != self.input_dim() {
            return Err(Error::dim(
                "columns of Q vs the sketch's input dimension h",
                self.input_dim(),
                q.ncols(),
            ));
        }
        let (n, d) = (q.nrows(), v.ncols());
        let e = d + 1;
        let r = self.sketch_dim();
        check_state(r, e, true)?;
        // Q·2^−s and K·2^s have the same ⟨q_i, k_j⟩ and, the map being homogeneous, the same
        // φ(q_i)ᵀφ(k_j): balanced, neither the features of Q nor the state built from K leave
        // the range where the weights do not.
        let shift = super::balancing_shift(q, k, self.degree());
        // The scaled copy of a block of rows that `phi_at` makes when balancing.
        let scaled_copy = |rows: usize| if shift == 0 { 0 } else { rows * q.ncols() };
        if check && n > CHECK_MAX_N {
            return Err(Error::TooLarge {
                what: format!("an exact check of attention over {n} queries"),
                requested: n as u128,
                limit: CHECK_MAX_N as u128,
            });
        }
        // The output is allocated before any work: an n × d that cannot be held is refused now,
        // not after the features of every key have been formed.
        let mut out = output_matrix::<T>(n, d, "attention output")?;
        let start = Instant::now();
        let threads = tasks(par);
        let scalar = std::mem::size_of::<T>();
        // `[V 1]` of a block: as large as the output when n ≤ b, so asked of the allocator
        // (faer's constructors abort or panic instead).
        let ones_col = |lo: usize, rows: usize| -> Result<Mat<T>> {
            let one = T::from_f64(1.0);
            let mut m = crate::input::zeros_or_too_large::<T>(
                rows,
                e,
                "block of values [V 1] (use a smaller block)",
            )?;
            for c in 0..e {
                for i in 0..rows {
                    m[(i, c)] = if c < d { v[(lo + i, c)] } else { one };
                }
            }
            Ok(m)
        };
        let mut min_norm = f64::INFINITY;
        let mut finish = |lo: usize, y: &Mat<T>| -> Result<()> {
            for i in 0..y.nrows() {
                // The numerators and the normalizer must be finite before the division: an
                // infinite normalizer turned the row into zeros, a NaN one (±∞ features meeting)
                // into z = 1 and the raw numerator, both finite and wrong (Q = K = 1e80, p = 2
                // gave 0 for an exact 1e-20).
                if let Some(c) = (0..=d).find(|&c| !y[(i, c)].finite()) {
                    let wider = if T::NAME == "f64" { "" } else { ": use f64" };
                    return Err(Error::NonFinite {
                        what: format!(
                            "the sketched attention's {} (the feature products φ(q)ᵀφ(k) \
                             overflowed {}{wider}; exact_attention rescales by powers of two \
                             and holds this range)",
                            if c == d { "normalizer" } else { "numerator" },
                            T::NAME
                        ),
                        row: lo + i,
                        col: c,
                    });
                }
                // Σ_j w_ij is a sum of non-negative weights; a negative value can only be
                // rounding in the prefix-state product, so it is clamped to zero.
                let z = 1.0 + y[(i, d)].to_f64().max(0.0);
                min_norm = min_norm.min(z);
                let inv = T::from_f64(1.0 / z);
                for c in 0..d {
                    // A zero is written as +0: the causal in-block GEMM also multiplies the
                    // row's future values by +0 weights, and those terms (±0 with v_j's sign)
                    // decide the sign of a zero sum — the only way the future can reach the bits
                    // of out_i.
                    let o = y[(i, c)] * inv;
                    out[(lo + i, c)] = if o == T::ZERO { T::ZERO } else { o };
                }
            }
            Ok(())
        };
        let workspace;
        if causal {
            let src = Sources {
                n,
                r,
                e,
                a: |lo, rows| self.phi_at(q, lo, rows, "Q", -shift),
                b: |lo, rows| self.phi_at(k, lo, rows, "K", shift),
                c: |lo, rows| ones_col(lo, rows),
            };
            causal_blocks(&src, true, block, par, |lo, y| finish(lo, y))?;
            // No block holds more than n rows: a block past n must not inflate the estimate
            // (as in the non-causal case below).
            let bc = block.min(n);
            workspace = causal_workspace(r, e, bc, true, threads)
                + 2 * (self.phi_workspace(bc) + scaled_copy(bc));
        } else {
            let pairs = pairs(r);
            let dim = pairs.len();
            let mut state = crate::input::zeros_or_too_large::<T>(dim, e, "prefix state")?;
            let m = k.nrows();
            let mut lo = 0;
            while lo < m {
                let rows = block.min(m - lo);
                let b = self.phi_at(k, lo, rows, "K", shift)?;
                let c = ones_col(lo, rows)?;
                add_tensored_products(state.as_mut(), b.as_ref(), c.as_ref(), &pairs, threads > 1);
                lo += rows;
            }
            let query_task = |blk: usize| -> Result<Mat<T>> {
                let lo = blk * block;
                let rows = block.min(n - lo);
                let a = self.phi_at(q, lo, rows, "Q", -shift)?;
                let mut y = crate::input::zeros_or_too_large::<T>(
                    rows,
                    e,
                    "block of results (use a smaller block)",
                )?;
                add_self_tensor_times(y.as_mut(), a.as_ref(), &pairs, state.as_ref());
                Ok(y)
            };
            let nb = n.div_ceil(block);
            // Query blocks in waves of a fixed size, so that memory stays bounded.
            let wave = 16;
            let mut w0 = 0;
            while w0 < nb {
                let w1 = (w0 + wave).min(nb);
                let ys: Vec<Result<Mat<T>>> = if threads > 1 {
                    (w0..w1).into_par_iter().map(query_task).collect()
                } else {
                    (w0..w1).map(query_task).collect()
                };
                for (i, y) in ys.into_iter().enumerate() {
                    finish((w0 + i) * block, &y?)?;
                }
                w0 = w1;
            }
            let bd = block.min(n.max(m));
            // No more tasks run at once than there are feature chunks (state update) or query
            // blocks in a wave: `Par::Rayon(usize::MAX)` must not overflow the estimate.
            // A wave holds at most as many query blocks as there are (one for n ≤ b: counting
            // 16 reported 71 MB for 4.3 MB allocated at n = 256, d = 2048).
            let feat_tasks = threads.min(dim.div_ceil(FEAT_CHUNK));
            let held = wave.min(nb);
            workspace = dim * e
                + bd * r
                + bd * e
                + feat_tasks * (bd * FEAT_CHUNK.min(dim))
                + held * bd * e
                + threads.min(held)
                    * (self.phi_workspace(bd) + scaled_copy(bd) + tensor_chunk_bound(bd, dim));
        }
        let seconds = start.elapsed().as_secs_f64();
        check_output(out.as_ref())?;
        let rel_error = if check {
            let exact = exact_attention(
                q,
                k,
                v,
                Kernel::Polynomial {
                    degree: self.degree(),
                },
                &ExactParams { causal, block: 256 },
                par,
            )?;
            Some(relative_error(out.as_ref(), exact.as_ref())?)
        } else {
            None
        };
        Ok((
            out,
            SketchInfo {
                sketch_dim: r,
                feature_dim: r * (r + 1) / 2,
                blocks: n.div_ceil(block),
                workspace_bytes: workspace * scalar,
                min_normalizer: min_norm,
                seconds,
                rel_error,
            },
        ))
    }
}

/// `‖approx − exact‖_F / ‖exact‖_F`, each norm accumulated in `f64` at a power-of-two scale
/// near its largest entry, so that outputs of any finite magnitude give the ratio (`0` when both
/// are zero, `∞` when only `exact` is, or when the ratio itself is beyond `f64`).
///
/// # Errors
/// [`Error::DimensionMismatch`] when the shapes differ; [`Error::NonFinite`] for NaN/∞.
pub fn relative_error<T: Scalar>(approx: MatRef<'_, T>, exact: MatRef<'_, T>) -> Result<f64> {
    if approx.nrows() != exact.nrows() {
        return Err(Error::dim(
            "rows of the two outputs",
            exact.nrows(),
            approx.nrows(),
        ));
    }
    if approx.ncols() != exact.ncols() {
        return Err(Error::dim(
            "columns of the two outputs",
            exact.ncols(),
            approx.ncols(),
        ));
    }
    crate::input::check_finite_dense(approx, "approximate output")?;
    crate::input::check_finite_dense(exact, "exact output")?;
    // Each norm is summed at a power-of-two scale near its own largest entry: raw squares of
    // outputs near 1e±180 overflowed (∞/∞ = NaN) or underflowed (0/0, reported as 0), and at
    // one scale shared by both, an exact output far below the approximation made every ratio
    // past about 1e154 come back ∞ (its squares underflowed, or their ratio overflowed before
    // the square root: approx 1e200 against exact 1 gave ∞ instead of 1e200). Scaling by a
    // power of two is exact, so the figure is the unscaled one wherever that one neither
    // overflows nor underflows.
    let at = |m: MatRef<'_, T>, i: usize, j: usize| m[(i, j)].to_f64();
    // The differences in full, or halved (exactly, but for subnormal halves, which are then
    // negligible) when one overflows: both sides are then near f64::MAX.
    let overflows = (0..exact.ncols())
        .any(|j| (0..exact.nrows()).any(|i| !(at(approx, i, j) - at(exact, i, j)).is_finite()));
    let h = if overflows { 0.5 } else { 1.0 };
    let diff = |i: usize, j: usize| at(approx, i, j) * h - at(exact, i, j) * h;
    let num = scaled_sum_of_squares(exact.nrows(), exact.ncols(), diff);
    let den = scaled_sum_of_squares(exact.nrows(), exact.ncols(), |i, j| at(exact, i, j));
    Ok(match (num, den) {
        (None, _) => 0.0,
        (Some(_), None) => f64::INFINITY,
        (Some((sn, kn)), Some((sd, kd))) => {
            // ‖d‖/‖e‖ = √(sn/sd)·2^{kn − kd}, doubled back if the differences were halved; the
            // power is applied in two halves so that neither factor leaves f64's range early.
            let t = kn - kd + overflows as i32;
            (sn / sd).sqrt() * 2f64.powi(t / 2) * 2f64.powi(t - t / 2)
        }
    })
}

/// `Σ f(i, j)²` over an `rows × cols` array, as `(Σ (f·2^{−k})², k)` with `2^k ≤ max |f| <
/// 2^{k+1}` (`None` when every entry is zero): the scale is applied in two halves so that
/// neither factor leaves f64's range (`k` runs from −1074 to 1023).
fn scaled_sum_of_squares(
    rows: usize,
    cols: usize,
    f: impl Fn(usize, usize) -> f64,
) -> Option<(f64, i32)> {
    let big = (0..cols)
        .flat_map(|j| (0..rows).map(move |i| (i, j)))
        .fold(0.0f64, |b, (i, j)| b.max(f(i, j).abs()));
    if big == 0.0 {
        return None;
    }
    let k = big.log2().floor() as i32;
    let (s1, s2) = (2f64.powi(-(k / 2)), 2f64.powi(-(k - k / 2)));
    let mut sum = 0.0f64;
    for j in 0..cols {
        for i in 0..rows {
            sum += (f(i, j) * s1 * s2).powi(2);
        }
    }
    Some((sum, k))
}
