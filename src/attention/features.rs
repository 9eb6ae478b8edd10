//! The degree-`p/2` feature maps `φ` and their self-tensored features `φ' = φ ⊗ φ`.

use super::check_even_degree;
use crate::error::{Error, Result};
use crate::input::MatrixRef;
use crate::scalar::Scalar;
use crate::seed::Seed;
use crate::sketch::tensor::TensorSketch;
use faer::linalg::matmul::matmul;
use faer::reborrow::ReborrowMut;
use faer::{Accum, Mat, MatRef, Par};
use rand_distr::{Distribution, StandardNormal};

/// Stream of the Gaussian matrices of the tree: matrix `t` is drawn from
/// `seed.block_rng(GAUSS_STREAM, t)`.
const GAUSS_STREAM: u64 = 0x60;
/// Stream of the TensorSketch map's seed.
const TS_STREAM: u64 = 0x61;

/// Largest sketch dimension `r` accepted (`φ'` has `r(r+1)/2` columns).
pub const MAX_SKETCH_DIM: usize = 2048;

/// Which random map `φ` of degree `p/2` feeds the self-tensored features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum FeatureMap {
    /// Products of independent Gaussian projections in a binary tree (PolySketchFormer's random
    /// sketch): `φ(x) = (φ_a(x)G_a)∘(φ_b(x)G_b)/√r`, leaves `x` itself; `p = 2` is `xG/√r`.
    #[default]
    Gaussian,
    /// TensorSketch of `x^{⊗p/2}` (CountSketches combined by FFT,
    /// [`TensorSketch`]): `O(p/2·(h + r log r))` per row instead of `O(p/2·h·r)`.
    TensorSketch,
    /// The exact map `φ(x) = x^{⊗p/2}` (`r = h^{p/2}`, the requested `sketch_dim` is ignored):
    /// the linear-time path then computes exact polynomial attention. For tests and small `h`.
    Identity,
}

option_names!(FeatureMap, "map", [Gaussian => "gaussian", TensorSketch => "tensorsketch" | "tensor-sketch", Identity => "identity"]);

/// One node of the Gaussian tree: the identity (a leaf) or the scaled Hadamard product of two
/// projected children.
#[derive(Clone, Debug)]
enum Node {
    Leaf,
    Project {
        g: Mat<f64>,
    },
    Product {
        left: Box<Node>,
        right: Box<Node>,
        ga: Mat<f64>,
        gb: Mat<f64>,
    },
}

impl Node {
    fn build(q: usize, h: usize, r: usize, seed: Seed, next: &mut u64) -> Result<Node> {
        if q == 1 {
            return Ok(Node::Leaf);
        }
        let (q1, q2) = (q.div_ceil(2), q / 2);
        let left = Box::new(Node::build(q1, h, r, seed, next)?);
        let right = Box::new(Node::build(q2, h, r, seed, next)?);
        let da = if q1 == 1 { h } else { r };
        let db = if q2 == 1 { h } else { r };
        let ga = gaussian(da, r, seed, next)?;
        let gb = gaussian(db, r, seed, next)?;
        Ok(Node::Product {
            left,
            right,
            ga,
            gb,
        })
    }

    fn eval<T: Scalar>(&self, x: MatRef<'_, T>, r: usize) -> Mat<T> {
        let one = T::from_f64(1.0);
        let project = |y: MatRef<'_, T>, g: &Mat<f64>| {
            let gt = Mat::<T>::from_fn(g.nrows(), g.ncols(), |i, j| T::from_f64(g[(i, j)]));
            let mut out = Mat::<T>::zeros(y.nrows(), g.ncols());
            matmul(out.as_mut(), Accum::Replace, y, gt.as_ref(), one, Par::Seq);
            out
        };
        let scale = T::from_f64(1.0 / (r as f64).sqrt());
        match self {
            Node::Leaf => x.to_owned(),
            Node::Project { g } => {
                let mut out = project(x, g);
                for j in 0..out.ncols() {
                    for v in out.col_as_slice_mut(j) {
                        *v *= scale;
                    }
                }
                out
            }
            Node::Product {
                left,
                right,
                ga,
                gb,
            } => {
                let a = match **left {
                    Node::Leaf => project(x, ga),
                    _ => project(left.eval(x, r).as_ref(), ga),
                };
                let b = match **right {
                    Node::Leaf => project(x, gb),
                    _ => project(right.eval(x, r).as_ref(), gb),
                };
                let mut out = a;
                for j in 0..out.ncols() {
                    for (o, &bv) in out.col_as_slice_mut(j).iter_mut().zip(b.col_as_slice(j)) {
                        *o = *o * bv * scale;
                    }
                }
                out
            }
        }
    }

    /// Scalars allocated by one evaluation on `rows` rows (for the workspace estimate).
    fn workspace(&self, rows: usize, h: usize, r: usize) -> usize {
        match self {
            Node::Leaf => rows * h,
            Node::Project { g } => g.nrows() * g.ncols() + rows * r,
            Node::Product { left, right, .. } => {
                let child = |c: &Node| match c {
                    Node::Leaf => 0,
                    _ => c.workspace(rows, h, r),
                };
                child(left).max(child(right)) + 2 * rows * r + 2 * h.max(r) * r
            }
        }
    }
}

/// An `rows × cols` matrix of iid `N(0, 1)` entries, column by column from stream `GAUSS_STREAM`,
/// block `*next` (then incremented); [`Error::TooLarge`] when it cannot be allocated (`rows` is
/// the caller's head dimension, which nothing else bounds).
fn gaussian(rows: usize, cols: usize, seed: Seed, next: &mut u64) -> Result<Mat<f64>> {
    let mut rng = seed.block_rng(GAUSS_STREAM, *next);
    *next += 1;
    let mut g = crate::input::zeros_or_too_large::<f64>(rows, cols, "Gaussian projection")?;
    for j in 0..cols {
        for i in 0..rows {
            g[(i, j)] = StandardNormal.sample(&mut rng);
        }
    }
    Ok(g)
}

#[derive(Clone, Debug)]
enum Map {
    Gaussian(Node),
    TensorSketch(TensorSketch),
    Identity,
}

/// A random feature map `φ: ℝ^h → ℝ^r` of degree `p/2` with `E⟨φ(x), φ(y)⟩ = ⟨x, y⟩^{p/2}`, and
/// its self-tensored features `φ'(x) = φ(x) ⊗ φ(x)` (symmetric half, `r(r+1)/2` columns) with
/// `⟨φ'(x), φ'(y)⟩ = ⟨φ(x), φ(y)⟩² ≥ 0`, an estimate of `⟨x, y⟩^p`.
///
/// The estimate of `⟨x,y⟩^p` is the square of an unbiased estimate of `⟨x,y⟩^{p/2}`, so it is
/// biased upwards by that estimate's variance (`O(‖x‖^p‖y‖^p/r)`): the price of weights that are
/// never negative.
///
/// # Examples
///
/// ```
/// use randnla::attention::{FeatureMap, PolySketch};
/// use randnla::Seed;
/// // p = 4 on h = 8: φ(x) = (xG₁)∘(xG₂)/√r with r = 16.
/// let s = PolySketch::new(8, 4, 16, FeatureMap::Gaussian, Seed::new(1))?;
/// assert_eq!((s.sketch_dim(), s.feature_dim()), (16, 136));
/// // The identity map is exact: φ(x) = x ⊗ x.
/// let e = PolySketch::new(3, 4, 0, FeatureMap::Identity, Seed::new(1))?;
/// let x = randnla::faer::mat![[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]];
/// let w = e.weights(x.as_ref(), x.as_ref(), randnla::faer::Par::Seq)?;
/// let dot: f64 = 1.0 * 0.0 + 2.0 * -1.0 + 0.5 * 3.0;
/// assert!((w[(0, 1)] - dot.powi(4)).abs() < 1e-12);
/// # Ok::<(), randnla::Error>(())
/// ```
///
/// # Performance
/// `φ` costs `O(h·r)` (`p = 2, 4`) to `O((p/2)·max(h,r)·r)` flops per row with the Gaussian map,
/// `O((p/2)(h + r log r))` with TensorSketch; `φ'` adds `r(r+1)/2`. The Gaussian map stores its
/// matrices: `h·r` values at `p = 2`, `(p/2)·h·r + (p/2 − 2)·r²` for `p ≥ 4` (one `h × r` matrix
/// per leaf of the `p/2`-leaf tree, one `r × r` per inner child).
///
/// # References
/// P. Kacham, V. Mirrokni, P. Zhong, "PolySketchFormer: Fast transformers via sketching
/// polynomial kernels", ICML 2024, arXiv 2310.01655 (the self-tensored features `φ' = φ ⊗ φ`);
/// T. D. Ahle et al., "Oblivious sketching of high-degree polynomial kernels", SODA 2020,
/// arXiv 1909.01410 (the tree of sketches).
#[derive(Clone, Debug)]
pub struct PolySketch {
    h: usize,
    degree: usize,
    r: usize,
    kind: FeatureMap,
    map: Map,
    seed: Seed,
}

impl PolySketch {
    /// The map for head dimension `h`, even degree `p` and sketch dimension `r`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `h = 0`, an odd, zero or too large `p` (`p ≤ 64`), `r = 0`
    /// or `r > 2048` (Gaussian, TensorSketch); [`Error::TooLarge`] for the identity map when
    /// `h^{p/2} > 2048`, and for the Gaussian map when its `h × r` projections cannot be
    /// allocated.
    pub fn new(
        h: usize,
        degree: usize,
        sketch_dim: usize,
        map: FeatureMap,
        seed: Seed,
    ) -> Result<Self> {
        check_even_degree(degree)?;
        if h == 0 {
            return Err(Error::param("h", "the head dimension must be at least 1"));
        }
        let q = degree / 2;
        let (r, inner) = match map {
            FeatureMap::Identity => {
                let r = (h as u128).checked_pow(q as u32).unwrap_or(u128::MAX);
                if r > MAX_SKETCH_DIM as u128 {
                    return Err(Error::TooLarge {
                        what: format!("the identity map x^⊗{q} of x ∈ ℝ^{h}"),
                        requested: r,
                        limit: MAX_SKETCH_DIM as u128,
                    });
                }
                (r as usize, Map::Identity)
            }
            FeatureMap::Gaussian | FeatureMap::TensorSketch => {
                if sketch_dim == 0 || sketch_dim > MAX_SKETCH_DIM {
                    return Err(Error::param(
                        "sketch_dim",
                        format!("sketch dimension {sketch_dim} must be in 1..={MAX_SKETCH_DIM}"),
                    ));
                }
                let r = sketch_dim;
                let inner = if map == FeatureMap::Gaussian {
                    let mut next = 0;
                    let node = if q == 1 {
                        Node::Project {
                            g: gaussian(h, r, seed, &mut next)?,
                        }
                    } else {
                        Node::build(q, h, r, seed, &mut next)?
                    };
                    Map::Gaussian(node)
                } else {
                    Map::TensorSketch(TensorSketch::new(q, h, r, seed.derive(TS_STREAM))?)
                };
                (r, inner)
            }
        };
        Ok(PolySketch {
            h,
            degree,
            r,
            kind: map,
            map: inner,
            seed,
        })
    }

    /// The head dimension `h`.
    pub fn input_dim(&self) -> usize {
        self.h
    }
    /// The degree `p` of the attention kernel (`φ` has degree `p/2`).
    pub fn degree(&self) -> usize {
        self.degree
    }
    /// The dimension `r` of `φ`.
    pub fn sketch_dim(&self) -> usize {
        self.r
    }
    /// The dimension `r(r+1)/2` of `φ'`.
    pub fn feature_dim(&self) -> usize {
        self.r * (self.r + 1) / 2
    }
    /// Which map this is.
    pub fn map(&self) -> FeatureMap {
        self.kind
    }
    /// The seed.
    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// `φ(X)`: the `n × r` matrix whose row `i` is `φ(x_i)`.
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty `X`, [`Error::DimensionMismatch`] when `X` does not have `h`
    /// columns, [`Error::NonFinite`] for NaN/∞ in `X` or a feature that overflows the scalar type
    /// (naming its row of `X`), [`Error::TooLarge`] when `n·r > 2²⁸` (the output
    /// can be up to 2048 times the size of `X`) or the output cannot be allocated.
    ///
    /// # Performance
    /// Rows are mapped in blocks of 256, spread over `par`'s threads; each row's result does
    /// not depend on the block or the thread count (bitwise).
    pub fn features<T: Scalar>(&self, x: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
        let n = x.nrows();
        let req = n as u128 * self.r as u128;
        Error::within(req, 1 << 28, || format!("{n}×{} features", self.r))?;
        self.check_x(x, "X")?;
        let mut out = crate::input::zeros_or_too_large::<T>(n, self.r, "feature matrix")?;
        // Waves of `tasks` blocks of 256 rows, mapped in parallel and copied in order: the
        // extra memory is one wave's blocks, not a second copy of the output.
        const BLOCK: usize = 256;
        let tasks = crate::dense::tasks(par);
        let mut lo = 0;
        while lo < n {
            let wave = (n - lo).min(tasks * BLOCK);
            // A map's own overflow error names the row within its block: made absolute here.
            let phi_at = |b0: usize, rows: usize| {
                self.phi(x.subrows(b0, rows)).map_err(|e| match e {
                    Error::NonFinite { what, row, col } => Error::NonFinite {
                        what,
                        row: row + b0,
                        col,
                    },
                    e => e,
                })
            };
            let blocks: Vec<Mat<T>> = if tasks == 1 {
                vec![phi_at(lo, wave)?]
            } else {
                use rayon::prelude::*;
                // The first failing block in row order, as on one thread.
                let blocks: Vec<Result<Mat<T>>> = (0..wave.div_ceil(BLOCK))
                    .into_par_iter()
                    .map(|i| {
                        let b0 = lo + i * BLOCK;
                        phi_at(b0, BLOCK.min(lo + wave - b0))
                    })
                    .collect();
                crate::error::first_error_in_order(blocks)?
            };
            let mut at = lo;
            for f in blocks {
                out.as_mut().subrows_mut(at, f.nrows()).copy_from(&f);
                at += f.nrows();
            }
            lo += wave;
        }
        // The Gaussian and identity maps multiply without checking: φ of rows near the top of
        // the range came back as Ok(±∞).
        super::check_overflow(
            out.as_ref(),
            "the features φ(X)",
            "a product of entries of X",
            "X",
        )?;
        Ok(out)
    }

    /// `φ'(X) = φ(X) ⊗ φ(X)` row by row, in its symmetric half (`n × r(r+1)/2`): column
    /// `(a, b)`, `a ≤ b`, holds `φ_a φ_b`, times `√2` when `a < b`.
    ///
    /// # Errors
    /// As [`features`](Self::features) (also for a product `φ_a·φ_b` that overflows), plus
    /// [`Error::TooLarge`] when `n·r(r+1)/2 > 2²⁸` or that matrix cannot be allocated.
    pub fn tensored_features<T: Scalar>(&self, x: MatRef<'_, T>, par: Par) -> Result<Mat<T>> {
        let dim = self.feature_dim();
        let req = x.nrows() as u128 * dim as u128;
        Error::within(req, 1 << 28, || {
            format!("{}×{dim} self-tensored features", x.nrows())
        })?;
        let f = self.features(x, par)?;
        let pairs = pairs(self.r);
        // Up to 2²⁸ scalars: asked of the allocator (faer's `Mat::zeros` aborts instead).
        let mut t = crate::input::zeros_or_too_large::<T>(
            x.nrows(),
            dim,
            "matrix of self-tensored features",
        )?;
        self_tensor_into(f.as_ref(), &pairs, t.as_mut());
        super::check_overflow(t.as_ref(), "the self-tensored features", "φ_a·φ_b", "X")?;
        Ok(t)
    }

    /// The sketched weights `w_ij = ⟨φ'(q_i), φ'(k_j)⟩ = ⟨φ(q_i), φ(k_j)⟩²` (`n × m`, for tests
    /// and inspection: every entry is ≥ 0).
    ///
    /// # Errors
    /// As [`features`](Self::features) for `Q` and `K`, and [`Error::NonFinite`] for a weight that
    /// overflows; [`Error::TooLarge`] when `n·m > 2²⁶` or the `n × m` matrix cannot be
    /// allocated.
    pub fn weights<T: Scalar>(
        &self,
        q: MatRef<'_, T>,
        k: MatRef<'_, T>,
        par: Par,
    ) -> Result<Mat<T>> {
        let req = q.nrows() as u128 * k.nrows() as u128;
        Error::within(req, 1 << 26, || {
            format!("a {}×{} weight matrix", q.nrows(), k.nrows())
        })?;
        // Balanced by a power of two as in `attention` (the same weights, exactly).
        let shift = super::balancing_shift(q, k, self.degree());
        let (fq, fk) = if shift == 0 {
            (self.features(q, par)?, self.features(k, par)?)
        } else {
            let qs = super::scaled_rows(q, 0, q.nrows(), -shift, "scaled copy of Q")?;
            let ks = super::scaled_rows(k, 0, k.nrows(), shift, "scaled copy of K")?;
            (
                self.features(qs.as_ref(), par)?,
                self.features(ks.as_ref(), par)?,
            )
        };
        let mut w = crate::input::zeros_or_too_large::<T>(q.nrows(), k.nrows(), "weight matrix")?;
        matmul(
            w.as_mut(),
            Accum::Replace,
            fq.as_ref(),
            fk.as_ref().transpose(),
            T::from_f64(1.0),
            Par::Seq,
        );
        for j in 0..w.ncols() {
            for v in w.col_as_slice_mut(j) {
                *v = *v * *v;
            }
        }
        super::check_overflow(w.as_ref(), "the weights", "(φ(q)ᵀφ(k))²", "Q and K")?;
        Ok(w)
    }

    pub(crate) fn check_x<T: Scalar>(&self, x: MatRef<'_, T>, what: &str) -> Result<()> {
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err(Error::empty(format!(
                "{what} ({}×{})",
                x.nrows(),
                x.ncols()
            )));
        }
        if x.ncols() != self.h {
            return Err(Error::dim(
                format!("columns of {what} vs the sketch's input dimension h"),
                self.h,
                x.ncols(),
            ));
        }
        crate::input::check_finite_dense(x, what)
    }

    /// `φ` of a block of rows (no validation beyond what the maps do themselves).
    pub(crate) fn phi<T: Scalar>(&self, x: MatRef<'_, T>) -> Result<Mat<T>> {
        match &self.map {
            Map::Gaussian(node) => Ok(node.eval(x, self.r)),
            Map::TensorSketch(ts) => ts.apply_rows(MatrixRef::Dense(x), Par::Seq),
            Map::Identity => {
                let q = self.degree / 2;
                let mut cur = x.to_owned();
                for _ in 1..q {
                    let w = cur.ncols();
                    let next = Mat::<T>::from_fn(x.nrows(), w * self.h, |i, c| {
                        cur[(i, c / self.h)] * x[(i, c % self.h)]
                    });
                    cur = next;
                }
                Ok(cur)
            }
        }
    }

    /// `φ` of rows `lo .. lo + rows` of `x·2^shift` (`x` the matrix called `name`; see
    /// [`super::balancing_shift`]): an overflow error of the map itself (TensorSketch checks its
    /// own output) names the row of `x`, not of the block, and says which matrix it is in.
    pub(crate) fn phi_at<T: Scalar>(
        &self,
        x: MatRef<'_, T>,
        lo: usize,
        rows: usize,
        name: &str,
        shift: i32,
    ) -> Result<Mat<T>> {
        let phi = if shift == 0 {
            self.phi(x.subrows(lo, rows))
        } else {
            let what = format!("block of {name} scaled by 2^{shift} (use a smaller block)");
            super::scaled_rows(x, lo, rows, shift, &what).and_then(|copy| self.phi(copy.as_ref()))
        };
        phi.map_err(|e| match e {
            Error::NonFinite { what, row, col } => Error::NonFinite {
                what: format!("{what}, computing the features φ of the rows of {name},"),
                row: row + lo,
                col,
            },
            e => e,
        })
    }

    /// Scalars allocated by `phi` on `rows` rows.
    pub(crate) fn phi_workspace(&self, rows: usize) -> usize {
        match &self.map {
            Map::Gaussian(node) => node.workspace(rows, self.h, self.r) + rows * self.r,
            Map::TensorSketch(_) => 3 * rows * self.r + 4 * self.r,
            Map::Identity => 2 * rows * self.r,
        }
    }
}

/// The index pairs `(a, b)`, `a ≤ b < r`, of the symmetric half of `φ ⊗ φ`, in column order.
pub(crate) fn pairs(r: usize) -> Vec<(u32, u32)> {
    let mut p = Vec::with_capacity(r * (r + 1) / 2);
    for a in 0..r {
        for b in a..r {
            p.push((a as u32, b as u32));
        }
    }
    p
}

/// Columns `pairs` of the symmetric self-tensor of the rows of `f`.
pub(crate) fn self_tensor<T: Scalar>(f: MatRef<'_, T>, pairs: &[(u32, u32)]) -> Mat<T> {
    let mut out = Mat::<T>::zeros(f.nrows(), pairs.len());
    self_tensor_into(f, pairs, out.as_mut());
    out
}

/// [`self_tensor`] written into `out` (`rows(f) × pairs.len()`).
fn self_tensor_into<T: Scalar>(
    f: MatRef<'_, T>,
    pairs: &[(u32, u32)],
    mut out: faer::MatMut<'_, T>,
) {
    let n = f.nrows();
    let sqrt2 = T::from_f64(std::f64::consts::SQRT_2);
    for (c, &(a, b)) in pairs.iter().enumerate() {
        let (a, b) = (a as usize, b as usize);
        let col = out.rb_mut().col_mut(c).try_as_col_major_mut();
        let col = col.expect("contiguous column").as_slice_mut();
        let fa = f.col(a);
        let fb = f.col(b);
        if a == b {
            for i in 0..n {
                col[i] = fa[i] * fa[i];
            }
        } else {
            for i in 0..n {
                col[i] = fa[i] * fb[i] * sqrt2;
            }
        }
    }
}
