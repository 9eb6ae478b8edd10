//! Random features of the polynomial kernel `(γ⟨x, y⟩ + c)^p`.

use super::{map_rows, vec_f64, RowMap, RowPrep, Rows, TensorSketch, TreeSketch, Workspace};
use crate::error::{Error, Result};
use crate::input::{zeros_or_too_large, Layout, MatrixRef};
use crate::scalar::Scalar;
use crate::seed::Seed;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

/// Which tensor sketch produces the features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TensorMethod {
    /// [`TensorSketch`] (FFT of `p` CountSketches): the fastest; variance exponential in `p` (bound
    /// `∝ 3^p`, `≈ 2^p` on spread-out `x`).
    #[default]
    Fft,
    /// [`TreeSketch`] (Ahle et al. 2020): variance growing slowly with `p`; any `p`, and worth
    /// its cost from `p ≥ 4` on or for inputs with a few dominant coordinates.
    Tree,
}

option_names!(TensorMethod, "method", [Fft => "fft", Tree => "tree"]);

/// Parameters of [`PolyKernelFeatures`] (scikit-learn's `PolynomialCountSketch` names in
/// brackets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolyKernelParams {
    /// Degree `p ≥ 1` (`degree`). Default 2.
    pub degree: usize,
    /// Scale `γ > 0` of the inner product (`gamma`). Default 1.
    pub gamma: f64,
    /// Offset `c ≥ 0` (`coef0`). Default 0.
    pub coef0: f64,
    /// Number of features `m ≥ 1` (`n_components`). Default 1024.
    pub sketch_dim: usize,
    /// The sketch. Default [`TensorMethod::Fft`].
    pub method: TensorMethod,
}

impl Default for PolyKernelParams {
    fn default() -> Self {
        PolyKernelParams {
            degree: 2,
            gamma: 1.0,
            coef0: 0.0,
            sketch_dim: 1024,
            method: TensorMethod::Fft,
        }
    }
}

#[derive(Clone, Debug)]
enum Sketch {
    Fft(TensorSketch),
    Tree(TreeSketch),
}

/// Random features `φ: ℝ^d → ℝ^m` of the polynomial kernel `k(x, y) = (γ⟨x, y⟩ + c)^p`.
///
/// The input is lifted to `x̃ = (√γ·x, √c) ∈ ℝ^{d+1}`, so that `⟨x̃, ỹ⟩ = γ⟨x, y⟩ + c`, and
/// `φ(x) = S(x̃^{⊗p})` with `S` the chosen tensor sketch of degree `p` on `ℝ^{d+1}`
/// ([`TensorSketch::new(p, d + 1, m, seed)`](TensorSketch::new) or the [`TreeSketch`] alike),
/// without any further scaling. Then
///
/// `E⟨φ(x), φ(y)⟩ = ⟨x̃, ỹ⟩^p = (γ⟨x, y⟩ + c)^p` — an unbiased estimate of the kernel —
///
/// with variance at most `(2 + 3^p)/m·‖x̃‖^{2p}‖ỹ‖^{2p}`-type for `TensorSketch`
/// (Avron–Nguyễn–Woodruff 2014). This is the scaling of scikit-learn's `PolynomialCountSketch`
/// (which also appends `√coef0`), so features agree with it in distribution.
///
/// The relative error of the kernel matrix depends on the data: small on clustered rows, large
/// on iid rows whose kernel matrix is nearly diagonal (see the [module docs](super)).
///
/// # Examples
///
/// ```
/// use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams};
/// use randnla::{MatrixRef, Seed};
/// let x =
///     randnla::faer::Mat::<f64>::from_fn(50, 6, |i, j| ((i % 3) as f64 + 0.1 * j as f64).cos());
/// let params = PolyKernelParams { degree: 3, coef0: 1.0, sketch_dim: 2048, ..Default::default() };
/// let phi = PolyKernelFeatures::new(6, params, Seed::new(3)).unwrap();
/// let view = MatrixRef::dense(x.as_ref()).unwrap();
/// let f = phi.transform(view, randnla::faer::Par::Seq).unwrap();
/// assert_eq!((f.nrows(), f.ncols()), (50, 2048));
/// let err = phi.kernel_error(view, f.as_ref(), 50, randnla::faer::Par::Seq).unwrap();
/// assert!(err < 0.2, "{err}");
/// ```
///
/// # Performance
/// As the sketch: `O(p·(nnz(X) + n·m log m))` for `TensorSketch`.
///
/// # References
/// N. Pham, R. Pagh, KDD 2013; H. Avron, H. L. Nguyễn, D. P. Woodruff, NeurIPS 2014;
/// T. D. Ahle et al., SODA 2020, arXiv 1909.01410.
#[derive(Clone, Debug)]
pub struct PolyKernelFeatures {
    d: usize,
    params: PolyKernelParams,
    sketch: Sketch,
}

impl PolyKernelFeatures {
    /// Features for inputs in `ℝ^d`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `d = 0`, `degree = 0` (or `> 2¹⁶`), `sketch_dim = 0` (or
    /// `> 2²²`), `γ ≤ 0`, `c < 0` or a non-finite `γ` or `c`; with [`TensorMethod::Tree`],
    /// [`Error::TooLarge`] as [`TreeSketch::new`] (its levels of length `sketch_dim` beyond 2²⁶
    /// values, e.g. `degree = 32` with `sketch_dim = 2²²`).
    pub fn new(d: usize, params: PolyKernelParams, seed: Seed) -> Result<Self> {
        if !(params.gamma.is_finite() && params.gamma > 0.0) {
            return Err(Error::param(
                "gamma",
                format!("γ = {} must be finite and > 0", params.gamma),
            ));
        }
        if !(params.coef0.is_finite() && params.coef0 >= 0.0) {
            return Err(Error::param(
                "coef0",
                format!(
                    "c = {} must be finite and ≥ 0 (its square root is appended to x)",
                    params.coef0
                ),
            ));
        }
        if d == 0 {
            return Err(Error::param("d", "the input dimension must be at least 1"));
        }
        let (p, m) = (params.degree, params.sketch_dim);
        let dd = d
            .checked_add(1)
            .ok_or_else(|| Error::param("d", "d is too large"))?;
        // The inner sketch names its sketch dimension `m`; here it is `sketch_dim`.
        let rename = |e: Error| match e {
            Error::InvalidParameter { name: "m", reason } => Error::InvalidParameter {
                name: "sketch_dim",
                reason,
            },
            other => other,
        };
        let sketch = match params.method {
            TensorMethod::Fft => Sketch::Fft(TensorSketch::new(p, dd, m, seed).map_err(rename)?),
            TensorMethod::Tree => Sketch::Tree(TreeSketch::new(p, dd, m, seed).map_err(rename)?),
        };
        Ok(PolyKernelFeatures { d, params, sketch })
    }

    /// The input dimension `d`.
    pub fn input_dim(&self) -> usize {
        self.d
    }
    /// The number of features `m`.
    pub fn feature_dim(&self) -> usize {
        self.params.sketch_dim
    }
    /// The parameters.
    pub fn params(&self) -> &PolyKernelParams {
        &self.params
    }

    fn map(&self) -> &dyn RowMap {
        match &self.sketch {
            Sketch::Fft(s) => s,
            Sketch::Tree(s) => s,
        }
    }

    fn prep(&self) -> RowPrep {
        RowPrep {
            scale: self.params.gamma.sqrt(),
            extra: Some((self.d, self.params.coef0.sqrt())),
        }
    }

    /// The `n × m` feature matrix `Φ` with rows `φ(x_i)`, so `ΦΦᵀ ≈ K`.
    ///
    /// # Errors
    /// [`Error::Empty`] for an `X` without rows or columns, [`Error::DimensionMismatch`] when
    /// `X` does not have `d` columns, [`Error::TooLarge`] when `n·m > 2²⁸` or the allocator
    /// refuses the output or the sketch's buffers (see [`TensorSketch::apply_rows`],
    /// [`TreeSketch::apply_power`]),
    /// [`Error::NonFinite`] when a row's features overflow the output type (`(γ‖x‖²)^{p/2}`
    /// beyond `f64::MAX`, or `f32::MAX` for `f32`), naming the row. The FFT's intermediates,
    /// which reach up to `m·‖x̃‖₁^p` for `x̃ = (√γ·x, √c)`, are kept in range by powers of two
    /// (see [`TensorSketch::apply_power`]; at `m = 1024`, `p = 3`, `γ = 1`, `c = 0` a row
    /// `(1e102)`, whose features are about `1e306`, was refused and is now sketched).
    ///
    /// # Performance
    /// Rows are independent and split over `par` in fixed chunks: bitwise identical for any
    /// thread count and for CSR, CSC and dense storage of `X`.
    pub fn transform<T: Scalar>(&self, x: MatrixRef<'_, T>, par: Par) -> Result<Mat<T>> {
        self.check_cols(&x)?;
        map_rows(self.map(), x, self.prep(), par)
    }

    /// `φ(x)` for one vector.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `x.len() ≠ d`, [`Error::NonFinite`] for NaN/±∞ in `x`
    /// or features that overflow the output type (see [`transform`](Self::transform));
    /// [`Error::TooLarge`] when the allocator refuses the sketch's buffers.
    pub fn transform_vec<T: Scalar>(&self, x: &[T]) -> Result<Vec<T>> {
        let x = vec_f64(x, self.d, "x")?;
        let prep = self.prep();
        let (mut idx, mut val): (Vec<usize>, Vec<f64>) = x
            .iter()
            .enumerate()
            .filter(|(_, &v)| v != 0.0)
            .map(|(i, &v)| (i, v * prep.scale))
            .unzip();
        if let Some((c, v)) = prep.extra.filter(|e| e.1 != 0.0) {
            idx.push(c);
            val.push(v);
        }
        let map = self.map();
        let mut out = vec![0.0; map.out_len()];
        let mut ws: Workspace = map.workspace()?;
        map.map_row(&idx, &val, &mut out, &mut ws)?;
        super::fits::<T>(&out, 0)?;
        Ok(out.into_iter().map(T::from_f64).collect())
    }

    /// The exact kernel `(γ⟨x, y⟩ + c)^p`. `γ⟨x, y⟩` is formed from `x`, `y` and `γ` scaled by
    /// exact powers of two, so it is right wherever it is representable, even when `⟨x, y⟩`
    /// alone is not (`x, y ≈ 2^−540` with `γ = 2^1020`, or `x, y ≈ 2^520` with `γ = 2^−1040`).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when a length is not `d`, [`Error::NonFinite`] for NaN/±∞ in
    /// `x` or `y`, or a kernel value beyond the largest `f64`.
    pub fn kernel<T: Scalar>(&self, x: &[T], y: &[T]) -> Result<f64> {
        let x = vec_f64(x, self.d, "x")?;
        let y = vec_f64(y, self.d, "y")?;
        // ⟨x, y⟩·2^−e with 2^e the largest term's power of two, each term formed from its
        // factors' mantissas (exact powers of two), so that it neither overflows nor underflows
        // where γ⟨x, y⟩ does not: x, y ≈ 2^±520 with γ = 2^∓700 gave an error or 0. Terms are
        // scaled by their own exponents, not by max|x| and max|y|, which would lose
        // x = (2^600, 2^−600), y = (0, 2^600) (⟨x, y⟩ = 1).
        let (dot, e) = scaled_dot(&x, &y);
        let k = self.kernel_of_dot(dot, e);
        if !k.is_finite() {
            return Err(Error::NonFinite {
                what: format!("the kernel value (γ⟨x, y⟩ + c)^p (it overflowed f64: {k})"),
                row: 0,
                col: 0,
            });
        }
        Ok(k)
    }

    /// `(γ·dot·2^e + c)^p`, with `γ·dot·2^e` formed without intermediate overflow or underflow
    /// (`γ = g·2^f` with `g ∈ [1, 2)`; `dot·g` is rounded as `γ·dot` is, up to a power of two,
    /// so for `e = 0` and ordinary values this is `(γ·dot + c)^p` bit for bit).
    fn kernel_of_dot(&self, dot: f64, e: i64) -> f64 {
        let f = max_exponent(&[self.params.gamma]);
        let g = ldexp(self.params.gamma, -f);
        let base = ldexp(dot * g, e + f) + self.params.coef0;
        let p = i32::try_from(self.params.degree).unwrap_or(i32::MAX);
        base.powi(p)
    }

    /// `‖ΦΦᵀ − K‖_F / ‖K‖_F` on the first `min(rows, n)` rows of `X`, with `K` the exact kernel
    /// matrix and `Φ` the features of those rows (the first rows of `features`).
    ///
    /// # Errors
    /// [`Error::Empty`] for `rows = 0` or an empty `X`; [`Error::DimensionMismatch`] when `X`
    /// does not have `d` columns or `features` does not have `m` columns and at least as many
    /// rows as are compared; [`Error::NonFinite`] for non-finite features, when the ratio
    /// overflows, or when `(γ⟨x,y⟩ + c)^p` overflows even scaled by a power of two that brings
    /// its largest base below 2 (degrees in the hundreds); `K` and `ΦΦᵀ` themselves may lie
    /// outside `f64`'s range, as the sums are scaled; [`Error::TooLarge`]
    /// for more than 2¹⁵ rows, when the `r × m` copy of the compared features exceeds 2²⁸ values
    /// (as [`transform`](Self::transform) never produces more; `features` may be a view that
    /// stores far less than it declares), or when the matrices cannot be allocated. The sizes are
    /// checked before any data is read.
    ///
    /// # Performance
    /// `O(r²·(m + d))` for `r` rows (`O(r²·nnz per row)` for sparse rows); `O(r² + r·m)` memory.
    /// A CSC `X` is read in place (its columns are searched for rows `< r`, `O(d·log n + nnz)`),
    /// so memory does not grow with the number of rows `X` declares.
    pub fn kernel_error<T: Scalar>(
        &self,
        x: MatrixRef<'_, T>,
        features: MatRef<'_, T>,
        rows: usize,
        par: Par,
    ) -> Result<f64> {
        let par = crate::dense::bounded(par);
        self.check_cols(&x)?;
        x.require_nonempty("X")?;
        let r = rows.min(x.nrows());
        if r == 0 {
            return Err(Error::empty("rows to compare (rows = 0)"));
        }
        if r > 1 << 15 {
            return Err(Error::TooLarge {
                what: format!("a {r}×{r} kernel matrix"),
                requested: r as u128 * r as u128,
                limit: 1 << 30,
            });
        }
        if features.ncols() != self.feature_dim() {
            return Err(Error::dim(
                "columns of the features",
                self.feature_dim(),
                features.ncols(),
            ));
        }
        if features.nrows() < r {
            return Err(Error::dim("rows of the features", r, features.nrows()));
        }
        let m = self.feature_dim();
        let copied = r as u128 * m as u128;
        Error::within(copied, 1 << 28, || format!("a copy of {r}×{m} features"))?;
        crate::input::check_finite_dense(features.subrows(0, r), "features")?;
        // Φ·2^−u (largest entry in [1, 2)), so that ΦΦᵀ = 2^{2u}·Φ'Φ'ᵀ neither overflows nor
        // underflows; for ordinary features Φ'Φ'ᵀ has the bits of ΦΦᵀ, times 2^{−2u}.
        let big = (0..m)
            .flat_map(|j| (0..r).map(move |i| features[(i, j)].to_f64().abs()))
            .fold(0.0f64, f64::max);
        let u = max_exponent(&[big]);
        let mut phi = zeros_or_too_large::<f64>(r, m, "copy of the features")?;
        for j in 0..m {
            for i in 0..r {
                phi[(i, j)] = ldexp(features[(i, j)].to_f64(), -u);
            }
        }
        let mut approx = zeros_or_too_large::<f64>(r, r, "sketched kernel matrix")?;
        matmul(
            approx.as_mut(),
            Accum::Replace,
            phi.as_ref(),
            phi.transpose(),
            1.0,
            crate::dense::par_for_result(par, r, r),
        );
        // The Gram matrix of the rows times 2^−2a (one exact power of two, largest entry in
        // [1, 2)), so that it does not overflow or underflow where γ⟨x, y⟩ does not.
        let (mut gram, a) = gram_leading(x, r, par)?;
        // K = 2^{p·t}·K' with K'ᵢⱼ = (2^{−t}·(γ⟨xᵢ, xⱼ⟩ + c))^p and t the exponent of the largest
        // base, so that K' neither overflows nor underflows where K would (X = 2^−500·G at
        // p = 2 made every entry of K and ΦΦᵀ 0, and the ratio a perfect 0). The errors are
        // summed at the scale 2^s of the larger of K and ΦΦᵀ. Every step is an exact power-of-two
        // rescaling for ordinary values, so the ratio keeps the bits of the unscaled sums.
        let f = max_exponent(&[self.params.gamma]);
        let g = ldexp(self.params.gamma, -f);
        let c = self.params.coef0;
        let lin = (0..r)
            .flat_map(|j| (0..r).map(move |i| (i, j)))
            .fold(0.0f64, |mx, (i, j)| mx.max((gram[(i, j)] * g).abs()));
        let base_at = |v: f64, t: i64| ldexp(v * g, 2 * a + f - t) + ldexp(c, -t);
        let t0 = if c == 0.0 {
            max_exponent(&[lin]) + 2 * a + f
        } else if lin == 0.0 {
            max_exponent(&[c])
        } else {
            (max_exponent(&[lin]) + 2 * a + f).max(max_exponent(&[c]))
        };
        // The sum of the two scaled terms can reach 4: one more power of two brings it below 2.
        let t = t0
            + (0..r)
                .flat_map(|j| (0..r).map(move |i| (i, j)))
                .fold(0, |mx, (i, j)| {
                    mx.max(max_exponent(&[base_at(gram[(i, j)], t0)]))
                });
        let p = i32::try_from(self.params.degree).unwrap_or(i32::MAX);
        let kt = i64::from(p) * t;
        let s = (2 * u).max(kt);
        let mut diff = zeros_or_too_large::<f64>(r, r, "kernel error matrix")?;
        let (mut k_max, mut d_max) = (0.0f64, 0.0f64);
        for j in 0..r {
            for i in 0..r {
                let k = base_at(gram[(i, j)], t).powi(p);
                if !k.is_finite() {
                    return Err(Error::NonFinite {
                        what: format!(
                            "the exact kernel matrix (γ⟨x,y⟩ + c)^p scaled by 2^{} (the degree \
                             p = {p} is too high for the ratio's scaled sums)",
                            -kt
                        ),
                        row: i,
                        col: j,
                    });
                }
                let e = ldexp(approx[(i, j)], 2 * u - s) - ldexp(k, kt - s);
                gram[(i, j)] = k;
                diff[(i, j)] = e;
                k_max = k_max.max(k.abs());
                d_max = d_max.max(e.abs());
            }
        }
        let scaled_norm = |m: &Mat<f64>, big: f64| -> f64 {
            if big == 0.0 {
                return 0.0;
            }
            let mut s = 0.0;
            for j in 0..r {
                for i in 0..r {
                    s += (m[(i, j)] / big).powi(2);
                }
            }
            s.sqrt()
        };
        let (num, den) = (scaled_norm(&diff, d_max), scaled_norm(&gram, k_max));
        let ratio = if den > 0.0 {
            // (d_max·num)/(k_max·den)·2^{s − kt}, in an order that neither overflows nor
            // underflows early.
            ldexp((d_max / k_max) * (num / den), s - kt)
        } else if num == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
        if den > 0.0 && ratio.is_infinite() {
            return Err(Error::NonFinite {
                what: "the relative error ‖ΦΦᵀ − K‖_F/‖K‖_F (it overflows f64: the features are \
                       far larger than the kernel)"
                    .into(),
                row: 0,
                col: 0,
            });
        }
        Ok(ratio)
    }

    fn check_cols<T: Scalar>(&self, x: &MatrixRef<'_, T>) -> Result<()> {
        if x.ncols() != self.d {
            return Err(Error::dim(
                "columns of X vs the input dimension",
                self.d,
                x.ncols(),
            ));
        }
        Ok(())
    }
}

/// The nonzeros of the first `r` rows of `X` as sparse rows (increasing columns), read in
/// place: a CSC `X` is scanned column by column for its entries in rows `< r` instead of being
/// converted to CSR whole, which cost `O(n)` memory for a declared `n` however few rows are
/// compared (2.1 GB and 3.9 s for 2 rows of a CSC `X` declaring 2²⁸ rows).
fn leading_rows<T: Scalar>(x: MatrixRef<'_, T>, r: usize) -> Vec<(Vec<usize>, Vec<f64>)> {
    let mut out = vec![(Vec::new(), Vec::new()); r];
    let rows = match x {
        MatrixRef::Sparse(s) if s.layout() == Layout::Csc => {
            for c in 0..s.ncols() {
                let (ix, vx) = s.outer(c);
                // Row indices are strictly increasing within a column.
                let end = ix.partition_point(|&i| i < r);
                for (&i, &v) in ix[..end].iter().zip(&vx[..end]) {
                    if v != T::ZERO {
                        out[i].0.push(c);
                        out[i].1.push(v.to_f64());
                    }
                }
            }
            return out;
        }
        MatrixRef::Sparse(s) => Rows::Csr(s),
        MatrixRef::Dense(d) => Rows::Dense(d),
    };
    for (i, (idx, val)) in out.iter_mut().enumerate() {
        rows.gather(i, RowPrep::PLAIN, idx, val);
    }
    out
}

/// `(G, a)` with `G = 2^−2a·X_r X_rᵀ` for the first `r` rows `X_r` of `X`, where `2^a` is the
/// power of two at most the largest `|X_ij|` there (the rows are scaled exactly by `2^−a`): a
/// dense product when `r·d` is moderate, sparse dot products otherwise.
fn gram_leading<T: Scalar>(x: MatrixRef<'_, T>, r: usize, par: Par) -> Result<(Mat<f64>, i64)> {
    let d = x.ncols();
    let mut sparse = leading_rows(x, r);
    let big = sparse
        .iter()
        .flat_map(|(_, v)| v.iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let a = max_exponent(&[big]);
    for (_, val) in sparse.iter_mut() {
        val.iter_mut().for_each(|v| *v = ldexp(*v, -a));
    }
    let mut g = zeros_or_too_large::<f64>(r, r, "kernel matrix")?;
    if (r as u128) * (d as u128) <= 1 << 24 {
        let mut xr = Mat::<f64>::zeros(r, d);
        for (i, (idx, val)) in sparse.iter().enumerate() {
            for (&c, &v) in idx.iter().zip(val) {
                xr[(i, c)] = v;
            }
        }
        matmul(
            g.as_mut(),
            Accum::Replace,
            xr.as_ref(),
            xr.transpose(),
            1.0,
            crate::dense::par_for_result(par, r, r),
        );
    } else {
        for i in 0..r {
            for j in 0..=i {
                let v = sparse_dot(&sparse[i], &sparse[j]);
                g[(i, j)] = v;
                g[(j, i)] = v;
            }
        }
    }
    Ok((g, a))
}

/// `e` with `2^e ≤ max_i |v_i| < 2^(e+1)` (possibly one less, as `log2` rounds), or 0 when every
/// entry is zero.
fn max_exponent(v: &[f64]) -> i64 {
    let big = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if big > 0.0 && big.is_finite() {
        big.log2().floor() as i64
    } else {
        0
    }
}

/// `(s, e)` with `⟨x, y⟩ = s·2^e`: term `i` is `(m_i·n_i)·2^(a_i + b_i − e)` for
/// `x_i = m_i·2^(a_i)`, `y_i = n_i·2^(b_i)` and `e = max_i (a_i + b_i)`, so the largest term is
/// ≈ 1 and only terms below `2^−1022` of it round further. For ordinary values every step is an
/// exact power-of-two rescaling of `Σ x_i·y_i`: the same bits, times `2^−e`.
fn scaled_dot(x: &[f64], y: &[f64]) -> (f64, i64) {
    let terms = || {
        x.iter()
            .zip(y)
            .filter(|(u, v)| **u != 0.0 && **v != 0.0)
            .map(|(u, v)| (*u, *v, max_exponent(&[*u]), max_exponent(&[*v])))
    };
    let Some(e) = terms().map(|(_, _, a, b)| a + b).max() else {
        return (0.0, 0);
    };
    let s = terms()
        .map(|(u, v, a, b)| ldexp(ldexp(u, -a) * ldexp(v, -b), a + b - e))
        .sum();
    (s, e)
}

/// `v·2^e`, exact unless the result is subnormal or overflows (in steps of at most `2^±1000`).
fn ldexp(mut v: f64, mut e: i64) -> f64 {
    while e != 0 && v != 0.0 && v.is_finite() {
        let k = e.clamp(-1000, 1000);
        v *= f64::from_bits(((1023 + k) as u64) << 52);
        e -= k;
    }
    v
}

fn sparse_dot(a: &(Vec<usize>, Vec<f64>), b: &(Vec<usize>, Vec<f64>)) -> f64 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.0.len() && j < b.0.len() {
        match a.0[i].cmp(&b.0[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a.1[i] * b.1[j];
                i += 1;
                j += 1;
            }
        }
    }
    s
}
