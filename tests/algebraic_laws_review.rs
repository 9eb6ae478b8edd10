//! Algebraic-law review: linearity, homogeneity and range invariance of the public entry points,
//! for fixed seeds (deterministic laws only; orthogonal invariance *in distribution* of the
//! Gaussian sketch is out of scope).
//!
//! Scaling by powers of two and permutations are covered by `scale_covariance_review.rs` and
//! `permutation_review.rs`; here the coefficients are general (`α = 3, −1, 0.1`, combinations
//! `αA + βB`) so the laws hold to rounding only, and every tolerance is an a-priori bound stated
//! where it is used:
//!
//! * **Sums** (sketches, products, attention numerators): the standard bound
//!   `|fl(Σ x_k) − Σ x_k| ≤ γ_N·Σ|x_k|` with `γ_N = N·u/(1 − N·u)`, `u = 2⁻⁵³`, applied entrywise
//!   with the absolute values of the operands (`|S|·|A|`, …). The linear law compares three
//!   computed results, so its bound is the sum of the three (plus the rounding of forming
//!   `αA + βB`, one more `u` per entry, folded into `N`).
//! * **FFT-based** maps (TensorSketch, TreeSketch, polynomial features): normwise, see
//!   [`ts_tol`].
//! * **Direct least squares** (Higham, *Accuracy and Stability*, Thm 20.3 / §20.4): a backward-
//!   stable solve has `‖x̂ − x‖ ≤ ε·(κ‖x‖ + κ²‖r‖/‖A‖₂)` with `ε = c·n·d·u`; normal equations
//!   `‖x̂ − x‖ ≤ ε·κ²·(‖x‖ + ‖b‖/‖A‖₂)`. We take `ε = n·d·u` (Higham's `γ_{c·n·d}` with
//!   `c = 1`: the constants are small, and `n·d` already over-counts the `d`-term sums).
//! * **Iterative solvers**: from their stopping rule (see [`iter_err`]).
//!
//! The Log helper collects every failing case of a law and names the first one; with
//! `--nocapture` each law prints its largest `|difference|/bound`.
//!
//! Findings when written (session of 2026-12-05): every asserted law held. Two expected laws
//! do not hold for a fixed seed and are recorded, not asserted (the docs promise neither): the
//! BSS learner's selection under `X → XG` (its rejection sampler's Gershgorin bound is
//! basis-dependent, see [`active_learning_range_invariant`]), and approximate (DMMW) leverage
//! scores under `A → αA` for α not a power of two (the power-of-two equilibration of `S₁A`
//! changes the pivot order and so the JL realization, see
//! [`approx_leverage_scores_homogeneous`]). Laws that are *not* laws and so are not tested:
//! ridge leverage scores under a general `A → AG` (only orthogonal G), approximate leverage
//! scores under `A → AG` (the Gaussian after `R⁻¹` sees the rotation: invariant only in
//! distribution), linearity of the median-based `TensorSketches` contractions in T (only
//! homogeneity), and the probe of `sketch_and_precondition` under `A → AG` (it runs LSQR on A
//! itself, whose κ changes).

use crate::common;
use common::log::Log;
use common::{csr_of, dense_mat, flat, Rng};

use faer::{Mat, MatRef, Par};
use randnla::active::{Basis, Budgeted, Learner, Pool, SliceOracle, Strategy};
use randnla::attention::{
    causal_product, causal_squared_product, exact_attention, poly_sketch_attention,
    ExactParams as AttnParams, FeatureMap, Kernel, PolySketch, PolySketchParams,
};
use randnla::diagnostics::{
    condition_number, distortion_on_range, gram, orthonormal_basis, RangeBasis,
};
use randnla::leverage::{
    exact_leverage_scores, exact_ridge_leverage_scores, statistical_dimension, ExactMethod,
    ExactParams,
};
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, solve_p3, InnerSolve, KernelParams};
use randnla::lstsq::{
    lsqr, normal_equations, qr_solve, ridge, sketch_and_precondition,
    sketch_and_precondition_multi, sketch_and_solve, sketch_and_solve_with, Factorization,
    LsqrParams, LstsqParams, SketchSolveParams,
};
use randnla::sketch::sampling::{row_norm_weights, RowSampling};
use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams, TensorSketch, TreeSketch};
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
use randnla::tensor::{
    power_method_exact, power_method_sketched, PowerParams, SketchParams, SymmetricTensor,
    TensorSketches,
};
use randnla::{MatrixRef, Seed};

/// Unit roundoff of `f64`.
const U: f64 = f64::EPSILON / 2.0;

/// `γ_N = N·u/(1 − N·u)`.
fn gamma(n: usize) -> f64 {
    let nu = n as f64 * U;
    nu / (1.0 - nu)
}

/// The general coefficients of the linear laws: `(α, β)`.
const COEFS: [(f64, f64); 4] = [(3.0, -1.0), (0.1, 2.5), (-1.0, 0.0), (0.1, -0.7)];

// ---------------------------------------------------------------------------------------------
// Data and small dense helpers.
// ---------------------------------------------------------------------------------------------

/// A dense matrix with about half its entries zero (a fixed pattern from `pattern_seed`), so that
/// two such matrices with the same pattern seed have a common sparsity pattern.
fn patterned(n: usize, d: usize, pattern_seed: u64, seed: u64) -> Mat<f64> {
    let mut p = Rng(pattern_seed);
    let mask: Vec<bool> = (0..n * d).map(|_| p.next() > 0.0).collect();
    let m = dense_mat(n, d, seed);
    Mat::from_fn(n, d, |i, j| {
        // One guaranteed entry per row (i mod d) keeps the rank full.
        if mask[i * d + j] || j == i % d {
            m[(i, j)] + if j == i % d { 2.0 } else { 0.0 }
        } else {
            0.0
        }
    })
}

fn matmul(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    assert_eq!(a.ncols(), b.nrows());
    Mat::from_fn(a.nrows(), b.ncols(), |i, j| {
        (0..a.ncols()).map(|k| a[(i, k)] * b[(k, j)]).sum()
    })
}

fn abs_mat(a: MatRef<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)].abs())
}

fn lin_mat(alpha: f64, a: &Mat<f64>, beta: f64, b: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| {
        alpha * a[(i, j)] + beta * b[(i, j)]
    })
}

fn lin_vec(alpha: f64, a: &[f64], beta: f64, b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| alpha * x + beta * y).collect()
}

fn scale_vec(v: &[f64], c: f64) -> Vec<f64> {
    v.iter().map(|x| c * x).collect()
}

fn norm2(v: &[f64]) -> f64 {
    common::norm_scaled(v)
}

fn norm1(v: &[f64]) -> f64 {
    v.iter().map(|x| x.abs()).sum()
}

fn matvec(a: MatRef<'_, f64>, x: &[f64]) -> Vec<f64> {
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| a[(i, j)] * x[j]).sum())
        .collect()
}

/// `(σ_max, σ_min)` of `a`.
fn sv_extremes(a: &Mat<f64>) -> (f64, f64) {
    let s = a.singular_values().expect("SVD");
    let mx = s.iter().cloned().fold(0.0f64, f64::max);
    let mn = s.iter().cloned().fold(f64::INFINITY, f64::min);
    (mx, mn)
}

/// A `d × d` orthogonal matrix (the orthonormal basis of a square Gaussian matrix).
fn orthogonal(d: usize, seed: u64) -> Mat<f64> {
    orthonormal_basis(dense_mat(d, d, seed).as_ref()).unwrap()
}

/// `G = Q₁·diag(1 … 10)·Q₂ᵀ`: an invertible `d × d` matrix with `κ(G) = 10`.
fn well_conditioned_g(d: usize, seed: u64) -> Mat<f64> {
    let q1 = orthogonal(d, seed);
    let q2 = orthogonal(d, seed + 1);
    let s: Vec<f64> = (0..d)
        .map(|i| 1.0 + 9.0 * i as f64 / (d.max(2) - 1) as f64)
        .collect();
    let q1s = Mat::from_fn(d, d, |i, j| q1[(i, j)] * s[j]);
    matmul(q1s.as_ref(), q2.transpose())
}

/// Inputs of the least-squares and range laws: dense 60 × 5 and CSR/CSC 80 × 6 (κ ≤ 4).
#[derive(Clone)]
enum Input {
    Dense(Mat<f64>),
    Sparse(sprs::CsMat<f64>),
}

impl Input {
    fn view(&self) -> MatrixRef<'_, f64> {
        match self {
            Input::Dense(m) => MatrixRef::dense(m.as_ref()).unwrap(),
            Input::Sparse(m) => MatrixRef::sparse(m).unwrap(),
        }
    }
    fn to_dense(&self) -> Mat<f64> {
        self.view().to_dense().unwrap()
    }
    /// `A·G` in the same storage (dense: dense; sparse: the dense product stored sparse — it is
    /// full, as the laws need range(AG) = range(A), not sparsity).
    fn times(&self, g: &Mat<f64>) -> Input {
        let p = matmul(self.to_dense().as_ref(), g.as_ref());
        match self {
            Input::Dense(_) => Input::Dense(p),
            Input::Sparse(m) => {
                let c = csr_of(&p);
                Input::Sparse(if m.is_csr() { c } else { c.to_csc() })
            }
        }
    }
}

fn ls_inputs() -> Vec<(&'static str, Input)> {
    let sp = patterned(80, 6, 12, 13);
    vec![
        ("dense 60x5", Input::Dense(dense_mat(60, 5, 11))),
        ("csr 80x6", Input::Sparse(csr_of(&sp))),
        ("csc 80x6", Input::Sparse(csr_of(&sp).to_csc())),
    ]
}

/// `b = A·z + 0.1·noise`: an inconsistent right-hand side (so `r ≠ 0`).
fn rhs_for(a: &Input, seed: u64) -> Vec<f64> {
    let ad = a.to_dense();
    let z = Rng(seed).vec(ad.ncols());
    let noise = Rng(seed + 1).vec(ad.nrows());
    matvec(ad.as_ref(), &z)
        .iter()
        .zip(&noise)
        .map(|(x, e)| x + 0.1 * e)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Sketches: S·(αA + βB) = α·SA + β·SB.
//
// Bound, entrywise: each computed (S·M)_ij is a sum of at most n products (the SRHT's Walsh–
// Hadamard transform: log₂n' ≤ n stages, then one scaling), so |fl(SM) − SM| ≤ γ_{n+2}·(|S||M|)
// with |S| the entrywise absolute value of the explicit sketch (`to_dense`). Forming
// M = αA + βB adds u·(|α||A| + |β||B|). Summing the three results' bounds:
// |S(αA+βB) − αSA − βSB| ≤ 3·γ_{n+3}·|S|·(|α||A| + |β||B|) (+ the final combination's
// rounding u·(|α||SA| + |β||SB|) ≤ the same term).
// ---------------------------------------------------------------------------------------------

/// A learner's importance weights and its fit.
type Selection = (Vec<(usize, f64)>, Vec<f64>);

/// Builds one storage of a dense matrix.
type MakeInput = Box<dyn Fn(&Mat<f64>) -> Input>;

fn sketch_list(m: usize, n: usize, w: &[f64]) -> Vec<Box<dyn SketchOperator<f64>>> {
    let mut v = common::all_sketches(m, n, Seed::new(3));
    v.push(Box::new(RowSampling::uniform(n, m, Seed::new(4)).unwrap()));
    v.push(Box::new(
        RowSampling::with_replacement(w, m, Seed::new(5)).unwrap(),
    ));
    v.push(Box::new(
        RowSampling::bernoulli(w, m, Seed::new(6)).unwrap(),
    ));
    v
}

/// The bound matrix 3·γ_{n+3}·|S|·(|α||A| + |β||B|), flattened column-major.
fn sketch_bound(sd: &Mat<f64>, alpha: f64, a: &Mat<f64>, beta: f64, b: &Mat<f64>) -> Vec<f64> {
    let n = sd.ncols();
    let mag = Mat::from_fn(a.nrows(), a.ncols(), |i, j| {
        alpha.abs() * a[(i, j)].abs() + beta.abs() * b[(i, j)].abs()
    });
    let p = matmul(abs_mat(sd.as_ref()).as_ref(), mag.as_ref());
    flat(p.as_ref())
        .into_iter()
        .map(|v| 3.0 * gamma(n + 3) * v)
        .collect()
}

#[test]
fn sketch_apply_is_linear() {
    let mut log = Log::new("SketchExt::{apply, apply_right, apply_vec} / apply_block_into");
    let (n, d, m) = (70usize, 5usize, 24usize);
    let a = patterned(n, d, 1, 2);
    let b = patterned(n, d, 1, 3);
    let w = row_norm_weights(MatrixRef::dense(a.as_ref()).unwrap()).unwrap();
    for s in sketch_list(m, n, &w) {
        // The Bernoulli sketch keeps the rows it drew (about m, not exactly m).
        let m = s.nrows();
        let sd = s.to_dense().unwrap();
        for (alpha, beta) in COEFS {
            let c = lin_mat(alpha, &a, beta, &b);
            let bound = sketch_bound(&sd, alpha, &a, beta, &b);
            let layouts: Vec<(&str, MakeInput)> = vec![
                ("dense", Box::new(|x: &Mat<f64>| Input::Dense(x.clone()))),
                ("csr", Box::new(|x: &Mat<f64>| Input::Sparse(csr_of(x)))),
                (
                    "csc",
                    Box::new(|x: &Mat<f64>| Input::Sparse(csr_of(x).to_csc())),
                ),
            ];
            for (lname, mk) in &layouts {
                let ctx = format!("{} {lname} α={alpha} β={beta}", s.name());
                let (ia, ib, ic) = (mk(&a), mk(&b), mk(&c));
                let (Some(sa), Some(sb), Some(sc)) = (
                    log.ok(&ctx, s.apply(ia.view(), Par::Seq)),
                    log.ok(&ctx, s.apply(ib.view(), Par::Seq)),
                    log.ok(&ctx, s.apply(ic.view(), Par::Seq)),
                ) else {
                    continue;
                };
                let want = flat(lin_mat(alpha, &sa, beta, &sb).as_ref());
                log.entries(&format!("{ctx} apply"), &flat(sc.as_ref()), &want, &bound);
                // apply_block_into over two row blocks [0, 31) and [31, n): the same law.
                let mut acc = Mat::<f64>::zeros(m, d);
                let cd = ic.to_dense();
                let top = cd.as_ref().subrows(0, 31);
                let bot = cd.as_ref().subrows(31, n - 31);
                let r1 =
                    s.apply_block_into(0, MatrixRef::dense(top).unwrap(), acc.as_mut(), Par::Seq);
                let r2 =
                    s.apply_block_into(31, MatrixRef::dense(bot).unwrap(), acc.as_mut(), Par::Seq);
                if log.ok(&ctx, r1).is_some() && log.ok(&ctx, r2).is_some() {
                    // One more rounding per entry for adding the two blocks' partial sums.
                    let b2: Vec<f64> = bound.iter().map(|v| v * 4.0 / 3.0).collect();
                    log.entries(
                        &format!("{ctx} apply_block_into"),
                        &flat(acc.as_ref()),
                        &want,
                        &b2,
                    );
                }
            }
            // apply_right: (αAᵀ + βBᵀ)·Sᵀ, the transpose of the same law.
            let ctx = format!("{} α={alpha} β={beta}", s.name());
            let (at, bt, ct) = (
                a.transpose().to_owned(),
                b.transpose().to_owned(),
                c.transpose().to_owned(),
            );
            let r = |x: &Mat<f64>| s.apply_right(MatrixRef::dense(x.as_ref()).unwrap(), Par::Seq);
            if let (Some(ra), Some(rb), Some(rc)) = (
                log.ok(&ctx, r(&at)),
                log.ok(&ctx, r(&bt)),
                log.ok(&ctx, r(&ct)),
            ) {
                let want = lin_mat(alpha, &ra, beta, &rb);
                let got_t = rc.transpose().to_owned();
                let want_t = want.transpose().to_owned();
                log.entries(
                    &format!("{ctx} apply_right"),
                    &flat(got_t.as_ref()),
                    &flat(want_t.as_ref()),
                    &bound,
                );
            }
            // apply_vec on the first columns.
            let col = |x: &Mat<f64>| (0..n).map(|i| x[(i, 0)]).collect::<Vec<f64>>();
            if let (Some(va), Some(vb), Some(vc)) = (
                log.ok(&ctx, s.apply_vec(&col(&a))),
                log.ok(&ctx, s.apply_vec(&col(&b))),
                log.ok(&ctx, s.apply_vec(&col(&c))),
            ) {
                log.entries(
                    &format!("{ctx} apply_vec"),
                    &vc,
                    &lin_vec(alpha, &va, beta, &vb),
                    &bound[..m],
                );
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// 1b. TensorSketch / TreeSketch / PolyKernelFeatures: multilinearity and homogeneity.
// ---------------------------------------------------------------------------------------------

/// Normwise rounding bound of one TensorSketch-type evaluation of `x₁ ⊗ … ⊗ x_p` of size `m`,
/// relative to `Π‖x_k‖₁`: the CountSketches are exact up to `γ_n` (`‖CS x‖₂ ≤ ‖x‖₁`); each
/// length-`m` FFT has normwise relative error ≤ `5·log₂m·u` (Higham §24.1 with a conservatively
/// rounded constant); the entrywise product of `p` spectra `F v_k` has
/// `‖∘F v_k‖₂ ≤ Π_{k<p}‖F v_k‖_∞·‖F v_p‖₂ ≤ m^{p/2}·Π‖v_k‖₂`, and the inverse FFT divides by `m`,
/// so every one of the `p + 1` transforms and `p` products contributes at most
/// `(5·log₂m + 1)·u·m^{(p−1)/2}·Π‖v_k‖₂`. Hence `(2p + 1)·(5·log₂m + 2)·u·m^{(p−1)/2}`; the
/// TreeSketch's `p − 1` degree-2 nodes satisfy the same bound (each node's output has norm
/// ≤ `√m` times the product of its inputs', `p − 1` nodes, `3` transforms each).
fn ts_tol(p: usize, m: usize) -> f64 {
    let lg = (m as f64).log2();
    (2 * p + 1) as f64 * 3.0 * (5.0 * lg + 2.0) * U * (m as f64).powf((p as f64 - 1.0) / 2.0)
}

#[test]
fn tensor_sketch_multilinear_and_homogeneous() {
    let mut log = Log::new("TensorSketch / TreeSketch apply_kron / apply_power / apply_rows");
    let d = 8;
    let m = 64;
    let xs: Vec<Vec<f64>> = (0..3).map(|k| Rng(60 + k).vec(d)).collect();
    let y = Rng(70).vec(d);
    let rows = dense_mat(6, d, 71);
    for p in [1usize, 2, 3] {
        let ts = TensorSketch::new(p, d, m, Seed::new(3)).unwrap();
        let tr = TreeSketch::new(p, d, m, Seed::new(3)).unwrap();
        type Kr<'s> = Box<dyn Fn(&[&[f64]]) -> randnla::Result<Vec<f64>> + 's>;
        type Pw<'s> = Box<dyn Fn(&[f64]) -> randnla::Result<Vec<f64>> + 's>;
        type Rw<'s> = Box<dyn Fn(MatrixRef<'_, f64>) -> randnla::Result<Mat<f64>> + 's>;
        let ops: Vec<(&str, Kr, Pw, Rw)> = vec![
            (
                "TensorSketch",
                Box::new(|v| ts.apply_kron(v)),
                Box::new(|v| ts.apply_power(v)),
                Box::new(|a| ts.apply_rows(a, Par::Seq)),
            ),
            (
                "TreeSketch",
                Box::new(|v| tr.apply_kron(v)),
                Box::new(|v| tr.apply_power(v)),
                Box::new(|a| tr.apply_rows(a, Par::Seq)),
            ),
        ];
        let tol = ts_tol(p, m);
        for (name, kr, pw, rw) in &ops {
            // Multilinearity in factor k: x_k → αx_k + βy.
            for k in 0..p {
                for (alpha, beta) in COEFS {
                    let comb = lin_vec(alpha, &xs[k], beta, &y);
                    let with = |v: &[f64]| -> Vec<Vec<f64>> {
                        let mut f: Vec<Vec<f64>> = xs[..p].to_vec();
                        f[k] = v.to_vec();
                        f
                    };
                    let run = |f: &Vec<Vec<f64>>| {
                        let refs: Vec<&[f64]> = f.iter().map(|v| &v[..]).collect();
                        kr(&refs)
                    };
                    let ctx = format!("{name} p={p} factor {k} α={alpha} β={beta}");
                    let (fx, fy, fc) = (with(&xs[k]), with(&y), with(&comb));
                    let others: f64 = (0..p).filter(|&j| j != k).map(|j| norm1(&xs[j])).product();
                    if let (Some(sx), Some(sy), Some(sc)) = (
                        log.ok(&ctx, run(&fx)),
                        log.ok(&ctx, run(&fy)),
                        log.ok(&ctx, run(&fc)),
                    ) {
                        let scale = others * (alpha.abs() * norm1(&xs[k]) + beta.abs() * norm1(&y));
                        // Three evaluations, each within tol of its own scale ≤ `scale`.
                        log.norm(
                            &ctx,
                            &sc,
                            &lin_vec(alpha, &sx, beta, &sy),
                            3.0 * tol * scale,
                        );
                    }
                }
            }
            // Homogeneity: S(αx)^{⊗p} = α^p·S(x^{⊗p}) for α = 3, −1, 0.1.
            let x = &xs[0];
            let base = pw(x).unwrap();
            let rbase = rw(MatrixRef::dense(rows.as_ref()).unwrap()).unwrap();
            for alpha in [3.0f64, -1.0, 0.1] {
                let ap = alpha.powi(p as i32);
                let ctx = format!("{name} p={p} apply_power α={alpha}");
                if let Some(s) = log.ok(&ctx, pw(&scale_vec(x, alpha))) {
                    let scale = (alpha.abs() * norm1(x)).powi(p as i32);
                    log.norm(&ctx, &s, &scale_vec(&base, ap), 3.0 * tol * scale);
                }
                let ctx = format!("{name} p={p} apply_rows α={alpha}");
                let ra = Mat::from_fn(rows.nrows(), d, |i, j| alpha * rows[(i, j)]);
                if let Some(s) = log.ok(&ctx, rw(MatrixRef::dense(ra.as_ref()).unwrap())) {
                    for i in 0..rows.nrows() {
                        let ri: Vec<f64> = (0..d).map(|j| rows[(i, j)]).collect();
                        let got: Vec<f64> = (0..s.ncols()).map(|j| s[(i, j)]).collect();
                        let want: Vec<f64> = (0..s.ncols()).map(|j| ap * rbase[(i, j)]).collect();
                        let scale = (alpha.abs() * norm1(&ri)).powi(p as i32);
                        log.norm(&format!("{ctx} row {i}"), &got, &want, 3.0 * tol * scale);
                    }
                }
            }
        }
    }
    log.finish();
}

/// Polynomial-kernel features of `(γ⟨x,y⟩ + c₀)^p`: with `c₀ = 0`, `φ(αX) = α^p·φ(X)`
/// (`transform`, `transform_vec`) and `kernel(αx, y) = α^p·kernel(x, y)`; with `c₀ = 1`,
/// `(αX, γ/α²)` gives the features of `(X, γ)` (α > 0: γ must be positive). Tolerance: [`ts_tol`]
/// relative to `Π‖·‖₁` of the (γ-scaled, `√c₀`-augmented) input, three times (two evaluations
/// and the scaling), doubled for the `√γ`/`√c₀` roundings (|δ| ≤ u each, ×p). The exact kernel
/// value `kernel(·,·)` is a dot product and a power: relative `(d + 2p)·u`, ×3.
#[test]
fn poly_kernel_features_homogeneous() {
    let mut log = Log::new("PolyKernelFeatures::{transform, transform_vec, kernel}");
    let d = 6;
    let x = dense_mat(5, d, 81);
    let m = 64;
    for method in [
        randnla::sketch::tensor::TensorMethod::Fft,
        randnla::sketch::tensor::TensorMethod::Tree,
    ] {
        for p in [2usize, 3] {
            for coef0 in [0.0, 1.0] {
                let gamma0 = 0.7;
                let params = PolyKernelParams {
                    degree: p,
                    gamma: gamma0,
                    coef0,
                    sketch_dim: m,
                    method,
                };
                let f = PolyKernelFeatures::new(d, params, Seed::new(5)).unwrap();
                let phi0 = f
                    .transform(MatrixRef::dense(x.as_ref()).unwrap(), Par::Seq)
                    .unwrap();
                let alphas: &[f64] = if coef0 == 0.0 {
                    &[3.0, -1.0, 0.1]
                } else {
                    &[3.0, 0.1]
                };
                let tol = 2.0 * 3.0 * ts_tol(p, m);
                for &alpha in alphas {
                    let (fk, factor) = if coef0 == 0.0 {
                        (f.clone(), alpha.powi(p as i32))
                    } else {
                        let pk = PolyKernelParams {
                            gamma: gamma0 / (alpha * alpha),
                            ..params
                        };
                        (PolyKernelFeatures::new(d, pk, Seed::new(5)).unwrap(), 1.0)
                    };
                    let xa = Mat::from_fn(x.nrows(), d, |i, j| alpha * x[(i, j)]);
                    let tag = format!("{method:?} p={p} c0={coef0} α={alpha}");
                    let r = fk.transform(MatrixRef::dense(xa.as_ref()).unwrap(), Par::Seq);
                    let Some(phi) = log.ok(&tag, r) else { continue };
                    for i in 0..x.nrows() {
                        let xi: Vec<f64> = (0..d).map(|j| x[(i, j)]).collect();
                        let l1 = gamma0.sqrt() * norm1(&xi) + coef0.sqrt();
                        let scale = (alpha.abs().max(1.0) * l1).powi(p as i32);
                        let got: Vec<f64> = (0..phi.ncols()).map(|j| phi[(i, j)]).collect();
                        let want: Vec<f64> =
                            (0..phi.ncols()).map(|j| factor * phi0[(i, j)]).collect();
                        log.norm(
                            &format!("{tag} transform row {i}"),
                            &got,
                            &want,
                            tol * scale,
                        );
                        if i == 0 {
                            let ctx = format!("{tag} transform_vec");
                            if let Some(v) = log.ok(&ctx, fk.transform_vec(&scale_vec(&xi, alpha)))
                            {
                                log.norm(&ctx, &v, &want, tol * scale);
                            }
                        }
                    }
                    if coef0 == 0.0 {
                        let x0: Vec<f64> = (0..d).map(|j| x[(0, j)]).collect();
                        let x1: Vec<f64> = (0..d).map(|j| x[(1, j)]).collect();
                        let k0 = f.kernel(&x0, &x1).unwrap();
                        let ctx = format!("{tag} kernel");
                        if let Some(kv) = log.ok(&ctx, f.kernel(&scale_vec(&x0, alpha), &x1)) {
                            let dot: f64 = x0.iter().zip(&x1).map(|(a, b)| (a * b).abs()).sum();
                            let mag = (gamma0 * alpha.abs() * dot).powi(p as i32);
                            let bound = 3.0 * gamma(d + 2 * p) * mag.max(k0.abs());
                            log.norm(&ctx, &[kv], &[factor * k0], bound);
                        }
                    }
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// 1c. Attention: linear in V; causal products linear in C.
// ---------------------------------------------------------------------------------------------

fn qkv() -> (Mat<f64>, Mat<f64>, Mat<f64>, Mat<f64>) {
    (
        dense_mat(24, 6, 51),
        dense_mat(24, 6, 52),
        dense_mat(24, 3, 53),
        dense_mat(24, 3, 54),
    )
}

/// Exact attention `out_i = Σ_j w_ij v_j / (normalizer_i)` with weights `w_ij ≥ 0` (softmax,
/// even polynomial degree) that do not depend on `V` (their bits are the same in all three
/// calls): each output entry is a sum of at most `n` terms divided once, so its error is at most
/// `γ_{n+2}·Σ_j w_ij|v_jl|/normalizer_i ≤ γ_{n+2}·max_j|v_jl|` (the normalizer is ≥ `Σ_j w_ij`).
/// Three calls plus forming `αV₁ + βV₂`: `3·γ_{n+3}·(|α|·max|V₁[:,l]| + |β|·max|V₂[:,l]|)` per
/// column `l`.
#[test]
fn exact_attention_linear_in_v() {
    let mut log = Log::new("exact_attention (linear in V)");
    let (q, k, v1, v2) = qkv();
    let n = q.nrows();
    let colmax = |v: &Mat<f64>, l: usize| (0..n).fold(0.0f64, |a, i| a.max(v[(i, l)].abs()));
    for causal in [false, true] {
        let p = AttnParams { causal, block: 7 };
        for kernel in [
            Kernel::Softmax { scale: 0.5 },
            Kernel::Polynomial { degree: 2 },
            Kernel::Polynomial { degree: 4 },
        ] {
            let run = |v: &Mat<f64>| {
                exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), kernel, &p, Par::Seq)
            };
            let o1 = run(&v1).unwrap();
            let o2 = run(&v2).unwrap();
            for (alpha, beta) in COEFS {
                let ctx = format!("{kernel:?} causal={causal} α={alpha} β={beta}");
                let v3 = lin_mat(alpha, &v1, beta, &v2);
                if let Some(o3) = log.ok(&ctx, run(&v3)) {
                    let bound: Vec<f64> = (0..3)
                        .flat_map(|l| {
                            let b = 3.0
                                * gamma(n + 3)
                                * (alpha.abs() * colmax(&v1, l) + beta.abs() * colmax(&v2, l));
                            std::iter::repeat_n(b, n)
                        })
                        .collect();
                    let want = flat(lin_mat(alpha, &o1, beta, &o2).as_ref());
                    log.entries(&ctx, &flat(o3.as_ref()), &want, &bound);
                }
            }
        }
    }
    log.finish();
}

/// Sketched attention `out_i = Σ_j w_ij v_j/(1 + Σ_j w_ij)` with `w_ij = ⟨φ'(q_i), φ'(k_j)⟩`
/// computed as `φ'(Q)·(φ'(K)ᵀV)`: the products cancel, so the bound is in terms of the
/// absolute values, `|err_il| ≤ γ_{n+F+2}·(|φ'(q_i)|·(|φ'(K)|ᵀ|V[:,l]|))/(1 + Σ_j w_ij)` per call
/// (F the feature dimension; the normalizer's bits do not depend on V), three calls, with
/// `|V| = |α||V₁| + |β||V₂|` (the causal prefix sums are sub-sums of the same terms, bounded by
/// the non-causal sum). The features are those of `PolySketch::new(h, p, r, map, seed)` with the
/// parameters' seed (the map `poly_sketch_attention` builds, per its docs); `1 + Σ_j w_ij ≥ 1`
/// is used for the normalizer.
#[test]
fn poly_sketch_attention_linear_in_v() {
    let mut log = Log::new("poly_sketch_attention / PolySketch::attention (linear in V)");
    let (q, k, v1, v2) = qkv();
    let n = q.nrows();
    for map in [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ] {
        for (degree, causal) in [(2usize, false), (4, false), (4, true)] {
            let params = PolySketchParams {
                degree,
                sketch_dim: 16,
                map,
                causal,
                block: 7,
                ..PolySketchParams::default()
            };
            let ps = PolySketch::new(6, degree, 16, map, params.seed).unwrap();
            let fq = abs_mat(ps.tensored_features(q.as_ref(), Par::Seq).unwrap().as_ref());
            let fk = abs_mat(ps.tensored_features(k.as_ref(), Par::Seq).unwrap().as_ref());
            let fdim = fq.ncols();
            let run = |v: &Mat<f64>| {
                poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, Par::Seq)
                    .map(|r| r.0)
            };
            let run2 = |v: &Mat<f64>| {
                ps.attention(
                    q.as_ref(),
                    k.as_ref(),
                    v.as_ref(),
                    causal,
                    7,
                    false,
                    Par::Seq,
                )
                .map(|r| r.0)
            };
            for (label, f) in [
                ("poly_sketch_attention", &run as &dyn Fn(&Mat<f64>) -> _),
                ("PolySketch::attention", &run2),
            ] {
                let o1 = f(&v1).unwrap();
                let o2 = f(&v2).unwrap();
                for (alpha, beta) in COEFS {
                    let ctx =
                        format!("{label} {map:?} p={degree} causal={causal} α={alpha} β={beta}");
                    let v3 = lin_mat(alpha, &v1, beta, &v2);
                    let Some(o3) = log.ok(&ctx, f(&v3)) else {
                        continue;
                    };
                    let vabs = Mat::from_fn(n, 3, |i, l| {
                        alpha.abs() * v1[(i, l)].abs() + beta.abs() * v2[(i, l)].abs()
                    });
                    let state = matmul(fk.transpose(), vabs.as_ref());
                    let mag = matmul(fq.as_ref(), state.as_ref());
                    let bound: Vec<f64> = flat(mag.as_ref())
                        .iter()
                        .map(|x| 3.0 * gamma(n + fdim + 3) * x)
                        .collect();
                    let want = flat(lin_mat(alpha, &o1, beta, &o2).as_ref());
                    log.entries(&ctx, &flat(o3.as_ref()), &want, &bound);
                }
            }
        }
    }
    log.finish();
}

/// `tril(ABᵀ)C` and `tril((ABᵀ)^{∘2})C` are linear in `C`. Bound per entry:
/// `3·γ_{d+n+3}·(tril(|A||B|ᵀ)^{∘e}·(|α||C₁| + |β||C₂|))` (e = 1, 2): each output entry is
/// a sum of products of computed scores (each a d-term sum, squared for e = 2: relative
/// `(2d+1)·u`) with entries of C, whatever the association (the streamed prefix state
/// reassociates the same terms).
#[test]
fn causal_products_linear_in_c() {
    let mut log = Log::new("causal_product / causal_squared_product (linear in C)");
    let (a, b, c1, c2) = qkv();
    let (n, d) = (a.nrows(), a.ncols());
    let ab = matmul(
        abs_mat(a.as_ref()).as_ref(),
        abs_mat(b.as_ref()).transpose(),
    );
    for sq in [false, true] {
        let tri = Mat::from_fn(n, n, |i, j| {
            if j <= i {
                if sq {
                    ab[(i, j)] * ab[(i, j)]
                } else {
                    ab[(i, j)]
                }
            } else {
                0.0
            }
        });
        for block in [5usize, 64] {
            let run = |c: &Mat<f64>| {
                if sq {
                    causal_squared_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq)
                } else {
                    causal_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq)
                }
            };
            let o1 = run(&c1).unwrap();
            let o2 = run(&c2).unwrap();
            for (alpha, beta) in COEFS {
                let ctx = format!("squared={sq} block={block} α={alpha} β={beta}");
                let c3 = lin_mat(alpha, &c1, beta, &c2);
                if let Some(o3) = log.ok(&ctx, run(&c3)) {
                    let cabs = Mat::from_fn(n, c1.ncols(), |i, l| {
                        alpha.abs() * c1[(i, l)].abs() + beta.abs() * c2[(i, l)].abs()
                    });
                    let bound: Vec<f64> = flat(matmul(tri.as_ref(), cabs.as_ref()).as_ref())
                        .iter()
                        .map(|x| 3.0 * gamma(2 * d + n + 3) * x)
                        .collect();
                    let want = flat(lin_mat(alpha, &o1, beta, &o2).as_ref());
                    log.entries(&ctx, &flat(o3.as_ref()), &want, &bound);
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// 1d. Symmetric tensors: contractions linear in T and homogeneous in u; power method under
// T → αT.
// ---------------------------------------------------------------------------------------------

fn tensor_parts(order: usize, dim: usize, seed: u64) -> (Vec<usize>, Vec<f64>) {
    let (t, _, _) =
        SymmetricTensor::synthetic_orthogonal(order, dim, 2, 0.0, Seed::new(seed)).unwrap();
    common::unique_entries(&t)
}

/// The symmetric tensor with the given unique entries (coordinate storage), or its dense copy.
fn tensor_from(
    order: usize,
    dim: usize,
    idx: &[usize],
    vals: &[f64],
    dense: bool,
) -> SymmetricTensor {
    let t = SymmetricTensor::coordinate(order, dim, idx, vals).unwrap();
    if dense {
        t.to_dense().unwrap()
    } else {
        t
    }
}

/// Dense symmetric `αT₁ + βT₂` from the two tensors' full dense entries.
fn tensor_comb(
    order: usize,
    dim: usize,
    alpha: f64,
    t1: &SymmetricTensor,
    beta: f64,
    t2: &SymmetricTensor,
) -> SymmetricTensor {
    let len = dim.pow(order as u32);
    let mut data = vec![0.0; len];
    let mut idx = vec![0usize; order];
    for (lin, slot) in data.iter_mut().enumerate() {
        let mut r = lin;
        for v in idx.iter_mut() {
            *v = r % dim;
            r /= dim;
        }
        *slot = alpha * t1.get(&idx).unwrap() + beta * t2.get(&idx).unwrap();
    }
    SymmetricTensor::dense(order, dim, data).unwrap()
}

/// `|T|(|u|, …, |u|)` and `|T|(I, |u|, …)`: the magnitudes the contraction sums run over.
fn abs_tensor(order: usize, dim: usize, t: &SymmetricTensor) -> SymmetricTensor {
    let (idx, vals) = common::unique_entries(t);
    let av: Vec<f64> = vals.iter().map(|v| v.abs()).collect();
    SymmetricTensor::coordinate(order, dim, &idx, &av).unwrap()
}

/// Contractions: `(αT₁ + βT₂)(u, …)` = `α·T₁(u, …) + β·T₂(u, …)`, and `T(αu, …, αu) =
/// α^p·T(u, …, u)`, `T(I, αu, …) = α^{p−1}·T(I, u, …)`. Bound: each contraction is a sum of at
/// most `n^p` products of `p` factors, error ≤ `γ_{n^p + p}·|T|(|u|, …)`; three evaluations and
/// the combination, so `3·γ_{n^p+p+1}·(|α||T₁| + |β||T₂|)(|u|, …)` (homogeneity: `|α|^p` times
/// `|T|(|u|, …)`, twice, plus `p` roundings of `α^p·`).
#[test]
fn symmetric_tensor_contractions_linear() {
    let mut log = Log::new("SymmetricTensor::{contract_all, contract_but_one}");
    let (order, dim) = (3usize, 7usize);
    let (i1, v1) = tensor_parts(order, dim, 7);
    let (i2, v2) = tensor_parts(order, dim, 8);
    let u = Rng(91).vec(dim);
    let uabs: Vec<f64> = u.iter().map(|x| x.abs()).collect();
    let g = gamma(dim.pow(order as u32) + order + 1);
    for dense in [false, true] {
        let t1 = tensor_from(order, dim, &i1, &v1, dense);
        let t2 = tensor_from(order, dim, &i2, &v2, dense);
        let a1 = abs_tensor(order, dim, &t1);
        let a2 = abs_tensor(order, dim, &t2);
        let (s1, s2) = (
            t1.contract_all(&u, Par::Seq).unwrap(),
            t2.contract_all(&u, Par::Seq).unwrap(),
        );
        let (b1, b2) = (
            t1.contract_but_one(&u, Par::Seq).unwrap(),
            t2.contract_but_one(&u, Par::Seq).unwrap(),
        );
        let (m1, m2) = (
            a1.contract_all(&uabs, Par::Seq).unwrap(),
            a2.contract_all(&uabs, Par::Seq).unwrap(),
        );
        let (mb1, mb2) = (
            a1.contract_but_one(&uabs, Par::Seq).unwrap(),
            a2.contract_but_one(&uabs, Par::Seq).unwrap(),
        );
        for (alpha, beta) in COEFS {
            let ctx = format!("dense={dense} α={alpha} β={beta}");
            let mut t3 = tensor_comb(order, dim, alpha, &t1, beta, &t2);
            if !dense {
                let (idx, vals) = common::unique_entries(&t3);
                t3 = SymmetricTensor::coordinate(order, dim, &idx, &vals).unwrap();
            }
            if let Some(s3) = log.ok(&ctx, t3.contract_all(&u, Par::Seq)) {
                let bound = 3.0 * g * (alpha.abs() * m1 + beta.abs() * m2);
                log.norm(
                    &format!("{ctx} contract_all"),
                    &[s3],
                    &[alpha * s1 + beta * s2],
                    bound,
                );
            }
            if let Some(c3) = log.ok(&ctx, t3.contract_but_one(&u, Par::Seq)) {
                let bound: Vec<f64> = mb1
                    .iter()
                    .zip(&mb2)
                    .map(|(x, y)| 3.0 * g * (alpha.abs() * x + beta.abs() * y))
                    .collect();
                log.entries(
                    &format!("{ctx} contract_but_one"),
                    &c3,
                    &lin_vec(alpha, &b1, beta, &b2),
                    &bound,
                );
            }
        }
        for alpha in [3.0f64, -1.0, 0.1] {
            let ctx = format!("dense={dense} u→{alpha}u");
            let ua = scale_vec(&u, alpha);
            let p = order as i32;
            if let Some(s) = log.ok(&ctx, t1.contract_all(&ua, Par::Seq)) {
                let bound =
                    3.0 * gamma(dim.pow(order as u32) + 2 * order) * alpha.abs().powi(p) * m1;
                log.norm(
                    &format!("{ctx} contract_all"),
                    &[s],
                    &[alpha.powi(p) * s1],
                    bound,
                );
            }
            if let Some(c) = log.ok(&ctx, t1.contract_but_one(&ua, Par::Seq)) {
                let bound: Vec<f64> = mb1
                    .iter()
                    .map(|x| {
                        3.0 * gamma(dim.pow(order as u32) + 2 * order) * alpha.abs().powi(p - 1) * x
                    })
                    .collect();
                log.entries(
                    &format!("{ctx} contract_but_one"),
                    &c,
                    &scale_vec(&b1, alpha.powi(p - 1)),
                    &bound,
                );
            }
        }
    }
    log.finish();
}

/// Sketched contractions (`TensorSketches`): a median over `B` sketches is not linear, but it is
/// homogeneous, `med(α·x) = α·med(x)` for any α (odd `B`; for α < 0 the order reverses and the
/// middle element is the same one), and a median moves by at most the largest perturbation of
/// its arguments. So `TensorSketches(αT)` contracts to `α` times, and `contract_all(αu) =
/// α^p·contract_all(u)`, `contract_but_one(αu) = α^{p−1}·…`.
///
/// Bound: each sketched contraction is `⟨sk(T), TS(u^{⊗p})⟩` formed through FFTs of length b.
/// A bucket of the count sketch `sk(T)` holds at most `‖T‖₁` (sum over all `n^p` entries) and one
/// of `TS(u^{⊗p})` at most `‖u‖₁^p`; so the value's scale is `‖T‖₁·‖u‖₁^p` and, treating the
/// pairing as one more factor of the FFT product, its rounding is at most
/// [`ts_tol`]`(p + 1, b)` of it (the count-sketch sums add `γ_{nnz}`, far below). Three
/// evaluations (two contractions and the scaling): `3·ts_tol(p + 1, b)·|α|^e·‖T‖₁·‖u‖₁^p`;
/// `contract_but_one` entrywise with `‖u‖₁^{p−1}` in place of `‖u‖₁^p`, normwise `√n` times.
#[test]
fn tensor_sketches_homogeneous() {
    let mut log = Log::new("TensorSketches::{contract_all, contract_but_one} homogeneity");
    let (order, dim, b) = (3usize, 7usize, 64usize);
    let (i1, v1) = tensor_parts(order, dim, 7);
    let t1 = tensor_from(order, dim, &i1, &v1, true);
    let a1 = abs_tensor(order, dim, &t1);
    let u = Rng(92).vec(dim);
    let t_l1 = a1.contract_all(&vec![1.0; dim], Par::Seq).unwrap();
    let u_l1 = norm1(&u);
    let mag_all = t_l1 * u_l1.powi(order as i32);
    let mag_one = t_l1 * u_l1.powi(order as i32 - 1) * (dim as f64).sqrt();
    let s0 = TensorSketches::new(&t1, 3, b, Seed::new(2), Par::Seq).unwrap();
    let c0 = s0.contract_all(&u, Par::Seq).unwrap();
    let d0 = s0.contract_but_one(&u, Par::Seq).unwrap();
    let tol = 3.0 * ts_tol(order + 1, b);
    for alpha in [3.0f64, -1.0, 0.1] {
        let p = order as i32;
        let ctx = format!("T→{alpha}T");
        let vals: Vec<f64> = v1.iter().map(|v| alpha * v).collect();
        let ta = tensor_from(order, dim, &i1, &vals, true);
        if let Some(s) = log.ok(&ctx, TensorSketches::new(&ta, 3, b, Seed::new(2), Par::Seq)) {
            if let Some(c) = log.ok(&ctx, s.contract_all(&u, Par::Seq)) {
                log.norm(
                    &format!("{ctx} contract_all"),
                    &[c],
                    &[alpha * c0],
                    tol * alpha.abs() * mag_all,
                );
            }
            if let Some(c) = log.ok(&ctx, s.contract_but_one(&u, Par::Seq)) {
                log.norm(
                    &format!("{ctx} contract_but_one"),
                    &c,
                    &scale_vec(&d0, alpha),
                    tol * alpha.abs() * mag_one,
                );
            }
        }
        let ctx = format!("u→{alpha}u");
        let ua = scale_vec(&u, alpha);
        if let Some(c) = log.ok(&ctx, s0.contract_all(&ua, Par::Seq)) {
            let sc = alpha.abs().powi(p);
            log.norm(
                &format!("{ctx} contract_all"),
                &[c],
                &[alpha.powi(p) * c0],
                tol * sc * mag_all,
            );
        }
        if let Some(c) = log.ok(&ctx, s0.contract_but_one(&ua, Par::Seq)) {
            let sc = alpha.abs().powi(p - 1);
            log.norm(
                &format!("{ctx} contract_but_one"),
                &c,
                &scale_vec(&d0, alpha.powi(p - 1)),
                tol * sc * mag_one,
            );
        }
    }
    log.finish();
}

/// Factors with their sign fixed by their largest entry (for even order, where `±a` are the
/// same component).
fn sign_fixed(u: &[f64]) -> Vec<f64> {
    let m = u
        .iter()
        .fold(0.0f64, |a, &b| if b.abs() > a.abs() { b } else { a });
    u.iter().map(|v| v * m.signum()).collect()
}

/// Power method under `T → αT`. Docs (`CpDecomposition::weights`): "for odd p they are made
/// non-negative by flipping a_j". So at odd order, `αT` with α < 0 has weights `|α|·λ` and
/// factors `−a`; at even order the weights are `α·λ` and the factors `±a` (sign-free). For α > 0,
/// weights `α·λ`, factors `a` (same sign at odd order).
///
/// Tolerance: forming `αT` perturbs every entry by ≤ u relatively; for an orthogonally
/// decomposable tensor with noise 0 and weights gap ≥ λ_min, a perturbation `E` moves each
/// factor by `O(‖E‖/λ_min)` and each weight by `O(‖E‖)` (Anandkumar et al. 2014, Thm 5.1), and
/// the iteration itself converges to its fixed point up to the contraction's rounding
/// `γ_{n^p}·‖T‖`: relative `4·γ_{n^p}·‖T‖_F/λ_min` for factors and weights (4: both runs, and
/// the refinement's last step). Sketched: the same sketches of αT are α times those of T up to
/// [`ts_tol`], and the sketched fixed point moves by the same ratio over the sketched gap; we
/// allow `4·ts_tol(p, b)·n^{p/2}·‖T‖_F/λ_min` (scale of a sketch entry ≤ `n^{p/2}·‖T‖_F`).
#[test]
fn power_method_homogeneous() {
    let mut log = Log::new("power_method_{exact, sketched} under T → αT");
    for order in [3usize, 4] {
        let dim = 6;
        let (t, w, _) =
            SymmetricTensor::synthetic_orthogonal(order, dim, 2, 0.0, Seed::new(17)).unwrap();
        let (idx, vals) = common::unique_entries(&t);
        let lmin = w.iter().fold(f64::INFINITY, |a, b| a.min(b.abs()));
        let tf = t.norm();
        let npow = dim.pow(order as u32);
        let tol_exact = 4.0 * gamma(npow) * tf / lmin;
        let b = 128;
        let tol_sk = 4.0 * ts_tol(order, b) * (npow as f64).sqrt() * tf / lmin;
        let mk = |alpha: f64| {
            let v: Vec<f64> = vals.iter().map(|x| alpha * x).collect();
            SymmetricTensor::coordinate(order, dim, &idx, &v)
                .unwrap()
                .to_dense()
                .unwrap()
        };
        let sp = SketchParams {
            sketches: 3,
            sketch_dim: b,
            ..SketchParams::default()
        };
        let t0 = mk(1.0);
        let e0 =
            power_method_exact(&t0, 2, &PowerParams::default(), Seed::new(1), Par::Seq).unwrap();
        let s0 = power_method_sketched(&t0, 2, &sp, Seed::new(1), Par::Seq).unwrap();
        for alpha in [3.0f64, 0.1, -1.0, -3.0] {
            let ta = mk(alpha);
            for (label, base, r, tol) in [
                (
                    "exact",
                    &e0,
                    power_method_exact(&ta, 2, &PowerParams::default(), Seed::new(1), Par::Seq),
                    tol_exact,
                ),
                (
                    "sketched",
                    &s0,
                    power_method_sketched(&ta, 2, &sp, Seed::new(1), Par::Seq),
                    tol_sk,
                ),
            ] {
                let ctx = format!("{label} order={order} α={alpha}");
                let Some(dd) = log.ok(&ctx, r) else { continue };
                let odd = order % 2 == 1;
                let wfactor = if odd { alpha.abs() } else { alpha };
                let want_w = scale_vec(&base.weights, wfactor);
                let wscale: Vec<f64> = want_w
                    .iter()
                    .map(|x| tol * x.abs().max(lmin * alpha.abs()))
                    .collect();
                log.entries(&format!("{ctx} weights"), &dd.weights, &want_w, &wscale);
                for (j, (f, f0)) in dd.factors.iter().zip(&base.factors).enumerate() {
                    let (got, want) = if odd {
                        let s = if alpha < 0.0 { -1.0 } else { 1.0 };
                        (f.clone(), scale_vec(f0, s))
                    } else {
                        (sign_fixed(f), sign_fixed(f0))
                    };
                    log.norm(&format!("{ctx} factor {j}"), &got, &want, tol);
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// 2. Least squares: linearity in b.
// ---------------------------------------------------------------------------------------------

/// Quantities of one least-squares problem: `κ`, `‖A‖₂`, `σ_min`.
struct Cond {
    kappa: f64,
    norm: f64,
}

fn cond_of(a: &Mat<f64>) -> Cond {
    let (mx, mn) = sv_extremes(a);
    Cond {
        kappa: mx / mn,
        norm: mx,
    }
}

/// Backward-stable direct solve (QR): `‖x̂ − x‖ ≤ ε(κ‖x‖ + κ²‖r‖/‖A‖)`, `ε = n·d·u`.
fn qr_err(c: &Cond, n: usize, d: usize, x: &[f64], r: f64) -> f64 {
    let eps = (n * d) as f64 * U;
    eps * (c.kappa * norm2(x) + c.kappa * c.kappa * r / c.norm)
}

/// Normal equations: `‖x̂ − x‖ ≤ ε·κ²·(‖x‖ + ‖b‖/‖A‖)`, `ε = n·d·u` (forming `AᵀA` and `Aᵀb`,
/// then Cholesky).
fn ne_err(c: &Cond, n: usize, d: usize, x: &[f64], b: &[f64]) -> f64 {
    let eps = (n * d) as f64 * U;
    eps * c.kappa * c.kappa * (norm2(x) + norm2(b) / c.norm)
}

/// Iterative solve stopped by the normal-equation test `‖(AN)ᵀr‖ ≤ tol·‖AN‖·‖r‖` (or
/// `‖r‖ ≤ tol·‖b‖`): since `Aᵀr* = 0`, `x − x* = (AᵀA)⁻¹Aᵀr`, so
/// `‖x − x*‖ ≤ ‖Aᵀr‖/σ_min² ≤ ‖N⁻¹‖·tol·‖AN‖·‖r‖/σ_min²`; with `N = R⁻¹` from the QR of `SA`,
/// `‖N⁻¹‖·‖AN‖ ≤ κ_S²·‖A‖` where `κ_S` is the sketch's distortion on range(A) (`κ_S = 1` for
/// unpreconditioned LSQR). The consistency branch adds `κ·tol·‖b‖/‖A‖`. LSQR's estimate of
/// the test quantity is exact in exact arithmetic; ×4 for the estimate's rounding and the
/// refinement run. Plus the direct-solve rounding [`qr_err`].
#[allow(clippy::too_many_arguments)]
fn iter_err(
    c: &Cond,
    n: usize,
    d: usize,
    tol: f64,
    kappa_s: f64,
    x: &[f64],
    r: f64,
    b: &[f64],
) -> f64 {
    4.0 * tol * kappa_s * kappa_s * (c.kappa * c.kappa * r + c.kappa * norm2(b)) / c.norm
        + qr_err(c, n, d, x, r)
}

/// Upper bound of `κ(SQ)` for the default sparse sign sketch (`m ≥ 4d`, `s = 8`): lib.rs
/// measures a median ≈ 5.3 at `m = 2d` on any matrix, and the distortion decreases with `m`;
/// 6. On this file's least-squares inputs the solver's own estimate `κ(AN)`
/// (`Info::kappa_estimate`) is 2.3 (dense) and 1.8 (sparse), asserted below 6 in
/// [`sketch_and_precondition_iterations_range_invariant`].
const KAPPA_S: f64 = 6.0;

type Solver = Box<dyn Fn(MatrixRef<'_, f64>, &[f64]) -> randnla::Result<Vec<f64>>>;

/// Each solver with its error bound `err(cond, n, d, x, ‖r‖, b)`.
type ErrFn = Box<dyn Fn(&Cond, usize, usize, &[f64], f64, &[f64]) -> f64>;

fn solvers(lambda: f64) -> Vec<(&'static str, Solver, ErrFn)> {
    let tol = 1e-14;
    let it = move |ks: f64| -> ErrFn {
        Box::new(move |c: &Cond, n, d, x: &[f64], r, b: &[f64]| iter_err(c, n, d, tol, ks, x, r, b))
    };
    vec![
        (
            "qr_solve",
            Box::new(move |a, b| qr_solve(a, b, lambda, Par::Seq)),
            Box::new(|c: &Cond, n, d, x: &[f64], r, _b: &[f64]| qr_err(c, n, d, x, r)),
        ),
        (
            "normal_equations",
            Box::new(move |a, b| normal_equations(a, b, lambda, Par::Seq)),
            Box::new(|c: &Cond, n, d, x: &[f64], _r, b: &[f64]| ne_err(c, n, d, x, b)),
        ),
        (
            "lsqr",
            Box::new(move |a, b| {
                let p = LsqrParams {
                    tol,
                    max_iters: 2000,
                    ridge: lambda,
                    ..LsqrParams::default()
                };
                let (x, info) = lsqr(a, b, &p)?;
                assert!(info.converged);
                Ok(x)
            }),
            it(1.0),
        ),
        (
            "sketch_and_precondition (probe)",
            Box::new(move |a, b| {
                let p = LstsqParams {
                    ridge: lambda,
                    ..LstsqParams::default()
                };
                Ok(sketch_and_precondition(a, b, &p)?.0)
            }),
            it(KAPPA_S),
        ),
        (
            "sketch_and_precondition (QR)",
            Box::new(move |a, b| {
                let p = LstsqParams {
                    ridge: lambda,
                    probe: false,
                    factorization: Factorization::Qr,
                    ..LstsqParams::default()
                };
                Ok(sketch_and_precondition(a, b, &p)?.0)
            }),
            it(KAPPA_S),
        ),
        (
            "sketch_and_precondition (SVD)",
            Box::new(move |a, b| {
                let p = LstsqParams {
                    ridge: lambda,
                    probe: false,
                    factorization: Factorization::Svd,
                    ..LstsqParams::default()
                };
                Ok(sketch_and_precondition(a, b, &p)?.0)
            }),
            it(KAPPA_S),
        ),
        (
            "ridge",
            Box::new(move |a, b| Ok(ridge(a, b, lambda, &LstsqParams::default())?.0)),
            it(KAPPA_S),
        ),
        (
            "sketch_and_precondition_with_callback (no-op callback)",
            Box::new(move |a, b| {
                let p = LstsqParams {
                    ridge: lambda,
                    ..LstsqParams::default()
                };
                let mut cb = |_: &randnla::lstsq::IterState| std::ops::ControlFlow::Continue(());
                Ok(randnla::lstsq::sketch_and_precondition_with_callback(a, b, &p, &mut cb)?.0)
            }),
            it(KAPPA_S),
        ),
    ]
}

/// For a ridge λ the conditioning is that of `[A; √λI]`.
fn cond_ridge(a: &Mat<f64>, lambda: f64) -> Cond {
    let (n, d) = (a.nrows(), a.ncols());
    let aug = Mat::from_fn(n + d, d, |i, j| {
        if i < n {
            a[(i, j)]
        } else if i - n == j {
            lambda.sqrt()
        } else {
            0.0
        }
    });
    cond_of(&aug)
}

fn residual(a: &Mat<f64>, x: &[f64], b: &[f64], lambda: f64) -> f64 {
    let ax = matvec(a.as_ref(), x);
    let mut r: Vec<f64> = b.iter().zip(&ax).map(|(b, y)| b - y).collect();
    r.extend(x.iter().map(|v| lambda.sqrt() * v));
    norm2(&r)
}

/// `x(A, αb₁ + βb₂) = α·x(A, b₁) + β·x(A, b₂)`, bound `e₃ + |α|e₁ + |β|e₂ + u(|α|‖x₁‖ +
/// |β|‖x₂‖)` with `e_i` the solver's forward-error bound for problem `i` (exact x is linear in
/// b, so the computed ones differ by their errors alone). λ = 0 and λ = 0.5.
#[test]
fn least_squares_linear_in_b() {
    let mut log = Log::new("least-squares solvers (linear in b)");
    for lambda in [0.0, 0.5] {
        for (name, a) in ls_inputs() {
            let ad = a.to_dense();
            let (n, d) = (ad.nrows(), ad.ncols());
            let c = cond_ridge(&ad, lambda);
            let b1 = rhs_for(&a, 21);
            let b2 = rhs_for(&a, 23);
            for (sname, solve, err) in solvers(lambda) {
                let (Ok(x1), Ok(x2)) = (solve(a.view(), &b1), solve(a.view(), &b2)) else {
                    log.fail(
                        &format!("{name} {sname} λ={lambda}"),
                        "base solve failed".into(),
                    );
                    continue;
                };
                let e1 = err(&c, n, d, &x1, residual(&ad, &x1, &b1, lambda), &b1);
                let e2 = err(&c, n, d, &x2, residual(&ad, &x2, &b2, lambda), &b2);
                for (alpha, beta) in COEFS {
                    let ctx = format!("{name} {sname} λ={lambda} α={alpha} β={beta}");
                    let b3 = lin_vec(alpha, &b1, beta, &b2);
                    if let Some(x3) = log.ok(&ctx, solve(a.view(), &b3)) {
                        let e3 = err(&c, n, d, &x3, residual(&ad, &x3, &b3, lambda), &b3);
                        let bound = e3
                            + alpha.abs() * e1
                            + beta.abs() * e2
                            + U * (alpha.abs() * norm2(&x1) + beta.abs() * norm2(&x2));
                        log.norm(&ctx, &x3, &lin_vec(alpha, &x1, beta, &x2), bound);
                    }
                }
            }
        }
    }
    log.finish();
}

/// `sketch_and_solve_with` with a fixed sketch `S`: `x = argmin ‖S(Ax − b)‖` is linear in `b`.
/// Bound per solve: [`qr_err`] of the sketched problem (`κ(SA)`, `‖SA‖`, `m × d`) plus the
/// rounding of `Sb`, `γ_{n+2}·‖|S||b|‖` amplified by `‖(SA)⁺‖ = 1/σ_min(SA)`.
#[test]
fn sketch_and_solve_with_linear_in_b() {
    let mut log = Log::new("sketch_and_solve_with (linear in b, fixed sketch)");
    for (name, a) in ls_inputs() {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        let b1 = rhs_for(&a, 31);
        let b2 = rhs_for(&a, 33);
        for kind in [
            SketchKind::CountSketch,
            SketchKind::SparseSign { nnz_per_col: 4 },
            SketchKind::Gaussian,
            SketchKind::Srht,
        ] {
            let m = 40;
            let s = kind.build::<f64>(m, n, Seed::new(8)).unwrap();
            let sa = s.apply(a.view(), Par::Seq).unwrap();
            let sd = abs_mat(s.to_dense().unwrap().as_ref());
            let c = cond_of(&sa);
            let smin = c.norm / c.kappa;
            let err = |x: &[f64], b: &[f64]| {
                let sb = s.apply_vec(b).unwrap();
                let sax = matvec(sa.as_ref(), x);
                let rs: Vec<f64> = sb.iter().zip(&sax).map(|(p, q)| p - q).collect();
                let babs: Vec<f64> = b.iter().map(|v| v.abs()).collect();
                qr_err(&c, m, d, x, norm2(&rs))
                    + gamma(n + 2) * norm2(&matvec(sd.as_ref(), &babs)) / smin
            };
            let with = |b: &[f64]| sketch_and_solve_with(a.view(), b, &*s, Par::Seq).map(|r| r.0);
            // sketch_and_solve builds `kind.build(m, n, seed)` (src/lstsq/sketch_solve.rs), the
            // same S: the same law and bound.
            let params = SketchSolveParams {
                sketch: kind,
                sketch_rows: Some(m),
                seed: Seed::new(8),
                ..SketchSolveParams::default()
            };
            let plain = |b: &[f64]| sketch_and_solve(a.view(), b, &params).map(|r| r.0);
            for (label, solve) in [
                (
                    "sketch_and_solve_with",
                    &with as &dyn Fn(&[f64]) -> randnla::Result<Vec<f64>>,
                ),
                ("sketch_and_solve", &plain),
            ] {
                let x1 = solve(&b1).unwrap();
                let x2 = solve(&b2).unwrap();
                let (e1, e2) = (err(&x1, &b1), err(&x2, &b2));
                for (alpha, beta) in COEFS {
                    let ctx = format!("{label} {name} {} α={alpha} β={beta}", kind.name());
                    let b3 = lin_vec(alpha, &b1, beta, &b2);
                    if let Some(x3) = log.ok(&ctx, solve(&b3)) {
                        let bound = err(&x3, &b3) + alpha.abs() * e1 + beta.abs() * e2;
                        log.norm(&ctx, &x3, &lin_vec(alpha, &x1, beta, &x2), bound);
                    }
                }
            }
            // Range law with the same S: x(AG, b) = G⁻¹·x(A, b) exactly ((SAG)⁺ = G⁻¹(SA)⁺ for
            // invertible G), checked as G·x(AG, b) = x(A, b): ‖G‖·e' + e + γ_d·‖|G||x'|‖, e'
            // the bound above for the sketched problem SAG.
            let g = well_conditioned_g(d, 171);
            let ag = a.times(&g);
            let sag = s.apply(ag.view(), Par::Seq).unwrap();
            let cg = cond_of(&sag);
            let x0 = with(&b1).unwrap();
            let ctx = format!("{name} {} A→AG", kind.name());
            if let Some((xg, _)) =
                log.ok(&ctx, sketch_and_solve_with(ag.view(), &b1, &*s, Par::Seq))
            {
                let sb = s.apply_vec(&b1).unwrap();
                let rs = |m: &Mat<f64>, x: &[f64]| {
                    let y = matvec(m.as_ref(), x);
                    norm2(&sb.iter().zip(&y).map(|(p, q)| p - q).collect::<Vec<f64>>())
                };
                let babs: Vec<f64> = b1.iter().map(|v| v.abs()).collect();
                let sbe = gamma(n + 2) * norm2(&matvec(sd.as_ref(), &babs));
                let e0 = qr_err(&c, m, d, &x0, rs(&sa, &x0)) + sbe * c.kappa / c.norm;
                let e1 = qr_err(&cg, m, d, &xg, rs(&sag, &xg)) + sbe * cg.kappa / cg.norm;
                let gx = matvec(g.as_ref(), &xg);
                let xa: Vec<f64> = xg.iter().map(|v| v.abs()).collect();
                let bound = cond_of(&g).norm * e1
                    + e0
                    + gamma(d) * norm2(&matvec(abs_mat(g.as_ref()).as_ref(), &xa));
                log.norm(&ctx, &gx, &x0, bound);
            }
        }
    }
    log.finish();
}

/// Multi-RHS: the columns of `sketch_and_precondition_multi(A, [b₁, b₂, αb₁ + βb₂])` satisfy the
/// linear law to [`iter_err`] (each column is its own LSQR run on the shared preconditioner).
#[test]
fn multi_rhs_consistent() {
    let mut log = Log::new("sketch_and_precondition_multi ([b₁, b₂, αb₁+βb₂])");
    for lambda in [0.0, 0.5] {
        for (name, a) in ls_inputs() {
            let ad = a.to_dense();
            let (n, d) = (ad.nrows(), ad.ncols());
            let c = cond_ridge(&ad, lambda);
            let b1 = rhs_for(&a, 41);
            let b2 = rhs_for(&a, 43);
            for probe in [true, false] {
                for (alpha, beta) in COEFS {
                    let ctx = format!("{name} λ={lambda} probe={probe} α={alpha} β={beta}");
                    let b3 = lin_vec(alpha, &b1, beta, &b2);
                    let bm = Mat::from_fn(n, 3, |i, j| [b1[i], b2[i], b3[i]][j]);
                    let p = LstsqParams {
                        ridge: lambda,
                        probe,
                        ..LstsqParams::default()
                    };
                    let Some((x, _)) = log.ok(
                        &ctx,
                        sketch_and_precondition_multi(a.view(), bm.as_ref(), &p),
                    ) else {
                        continue;
                    };
                    let col = |j: usize| (0..d).map(|i| x[(i, j)]).collect::<Vec<f64>>();
                    let (x1, x2, x3) = (col(0), col(1), col(2));
                    let e = |x: &[f64], b: &[f64]| {
                        iter_err(&c, n, d, 1e-14, KAPPA_S, x, residual(&ad, x, b, lambda), b)
                    };
                    let bound = e(&x3, &b3)
                        + alpha.abs() * e(&x1, &b1)
                        + beta.abs() * e(&x2, &b2)
                        + U * (alpha.abs() * norm2(&x1) + beta.abs() * norm2(&x2));
                    log.norm(&ctx, &x3, &lin_vec(alpha, &x1, beta, &x2), bound);
                }
            }
        }
    }
    log.finish();
}

/// Kernel regression P1 `(AᵀA)ʲx = b`, P2 `A(AᵀA)ʲx ≈ b`, P3 `exp(AAᵀ)x = b`: linear in b.
/// Per solve, relative error ≤ `4·κ(A)^{2j+2}·max(tol, lstsq.tol) + 10⁻¹²` (P1/P2; the stopping
/// rule `‖res‖ ≤ tol·‖b‖` times the operator's condition, as in `scale_covariance_review.rs`),
/// `4·κ(exp(AAᵀ))·tol + 10⁻¹²` (P3). Law bound: `Σ |coef_i|·rel_i·‖x_i‖`.
#[test]
fn kernel_regression_linear_in_b() {
    let mut log = Log::new("solve_p1 / solve_p2 / solve_p3 (linear in b)");
    for inner in [InnerSolve::Auto, InnerSolve::Cg] {
        let params = KernelParams {
            tol: 1e-12,
            inner_solve: inner,
            ..KernelParams::default()
        };
        for (name, a) in ls_inputs() {
            let kappa = condition_number(a.to_dense().as_ref()).unwrap();
            for j in [1usize, 2] {
                for p2 in [false, true] {
                    let rel = 4.0 * kappa.powi(2 * j as i32 + 2) * params.tol.max(params.lstsq.tol)
                        + 1e-12;
                    let (b1, b2) = if p2 {
                        (rhs_for(&a, 51), rhs_for(&a, 53))
                    } else {
                        let d = a.view().ncols();
                        (Rng(51).vec(d), Rng(53).vec(d))
                    };
                    let solve = |b: &[f64]| {
                        if p2 {
                            solve_p2(a.view(), j, b, &params).map(|r| r.0)
                        } else {
                            solve_p1(a.view(), j, b, &params).map(|r| r.0)
                        }
                    };
                    let tag = format!("{name} {inner:?} {} j={j}", if p2 { "P2" } else { "P1" });
                    let (Some(x1), Some(x2)) = (log.ok(&tag, solve(&b1)), log.ok(&tag, solve(&b2)))
                    else {
                        continue;
                    };
                    for (alpha, beta) in COEFS {
                        let ctx = format!("{tag} α={alpha} β={beta}");
                        let b3 = lin_vec(alpha, &b1, beta, &b2);
                        if let Some(x3) = log.ok(&ctx, solve(&b3)) {
                            let bound = rel
                                * (norm2(&x3) + alpha.abs() * norm2(&x1) + beta.abs() * norm2(&x2));
                            log.norm(&ctx, &x3, &lin_vec(alpha, &x1, beta, &x2), bound);
                        }
                    }
                }
            }
        }
        // P3 on 8 × 3 rows in [−1.5, 1.5] (κ(exp(AAᵀ)) measured below).
        let params = KernelParams {
            inner_solve: inner,
            ..KernelParams::default()
        };
        let ad = dense_mat(8, 3, 41);
        let ad = Mat::from_fn(8, 3, |i, j| 1.5 * ad[(i, j)]);
        let e = Mat::from_fn(8, 8, |i, l| {
            (0..3).map(|t| ad[(i, t)] * ad[(l, t)]).sum::<f64>().exp()
        });
        let kappa = condition_number(e.as_ref()).unwrap();
        assert!(kappa < 1e4, "κ(exp(AAᵀ)) = {kappa:e}");
        let rel = 4.0 * kappa * params.tol + 1e-12;
        let av = MatrixRef::dense(ad.as_ref()).unwrap();
        let b1: Vec<f64> = Rng(42).vec(8).iter().map(|v| v + 1.5).collect();
        let b2: Vec<f64> = Rng(43).vec(8);
        let x1 = solve_p3(av, &b1, &params).unwrap().0;
        let x2 = solve_p3(av, &b2, &params).unwrap().0;
        for (alpha, beta) in COEFS {
            let ctx = format!("P3 {inner:?} α={alpha} β={beta}");
            let b3 = lin_vec(alpha, &b1, beta, &b2);
            if let Some((x3, _)) = log.ok(&ctx, solve_p3(av, &b3, &params)) {
                let bound = rel * (norm2(&x3) + alpha.abs() * norm2(&x1) + beta.abs() * norm2(&x2));
                log.norm(&ctx, &x3, &lin_vec(alpha, &x1, beta, &x2), bound);
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// 3. Range invariance.
// ---------------------------------------------------------------------------------------------

/// Perturbation of the orthogonal projector onto range(A) computed by a backward-stable QR:
/// `‖ΔP‖₂ ≤ 2·‖ΔA‖/σ_min ≤ 2·n·d·u·κ(A)` (Wedin; `‖ΔA‖ ≤ n·d·u·‖A‖`). A leverage score
/// `τ_i = e_iᵀPe_i` moves by at most `‖ΔP‖`. Two computations (A and AG):
/// `2·n·d·u·(κ_A + κ_AG)`; ×2 for the score's own evaluation `‖e_iᵀQ‖²` and the rounding of
/// forming AG (`γ_d·|A||G|`, at most `κ_AG·n·d·u` relative to σ_min); ×κ_S for the sketch-based
/// routes (`ExactMethod::SketchCholesky`, `Basis::Exact`/`Sketched` pools), whose whitening
/// `A·R⁻¹` (R from the QR of SA) has condition `≤ κ_S` and is formed with error `γ_d·κ_S`
/// relative, before a Cholesky pass of `(AR⁻¹)ᵀ(AR⁻¹)` (condition `κ_S²`, error `κ_S²·u`).
/// Hence `range_tol = 4·n·d·u·(κ_A + κ_AG)·κ_S`.
fn range_tol(n: usize, d: usize, ka: f64, kag: f64) -> f64 {
    4.0 * (n * d) as f64 * U * (ka + kag) * KAPPA_S
}

#[test]
fn exact_leverage_scores_range_invariant() {
    let mut log = Log::new("exact_leverage_scores (A → AG)");
    for (name, a) in ls_inputs() {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        for gs in [101u64, 103] {
            let g = well_conditioned_g(d, gs);
            let ag = a.times(&g);
            let ka = cond_of(&ad).kappa;
            let kag = cond_of(&ag.to_dense()).kappa;
            let tol = range_tol(n, d, ka, kag);
            for (mname, method) in [
                ("auto", ExactMethod::Auto),
                ("householder", ExactMethod::Householder),
                ("sketch-cholesky", ExactMethod::SketchCholesky),
            ] {
                let p = ExactParams {
                    method,
                    ..ExactParams::default()
                };
                let ctx = format!("{name} G#{gs} {mname}");
                let (Some((s0, _)), Some((s1, _))) = (
                    log.ok(&ctx, exact_leverage_scores(a.view(), &p, Par::Seq)),
                    log.ok(&ctx, exact_leverage_scores(ag.view(), &p, Par::Seq)),
                ) else {
                    continue;
                };
                log.entries(&ctx, &s1, &s0, &vec![tol; n]);
            }
        }
    }
    log.finish();
}

/// Approximate (DMMW) leverage scores depend only on `range(A)`, the sketch and the seed:
/// `A → A·G` for an invertible `G` (two well-conditioned ones, and column units
/// `10³, 1, 10⁻³, 7, 0.3, 3` that move the columns' power-of-two equilibration and with it the
/// pivot order) leaves them unchanged to [`range_tol`] (the factor is `(S₁A)⁺·Π` for a
/// full-rank `A`, `Π` the seed's JL matrix, whatever the basis). Inputs with `n > m₁ = 10d`, so
/// that the sketched route runs. Until session 39 the JL matrix was drawn in the pivoted
/// coordinates of `R`, and a change of units moved single scores by their JL noise (up to 0.7
/// relative for `A → 3A` on these inputs).
#[test]
fn approx_leverage_scores_range_invariant() {
    use randnla::leverage::{approx_leverage_scores, ApproxParams, LeverageMethod};
    let mut log = Log::new("approx_leverage_scores (A → AG)");
    let p = ApproxParams::default();
    let inputs = [
        ("dense 3000x5", Input::Dense(dense_mat(3000, 5, 311))),
        (
            "csr 3000x6",
            Input::Sparse(csr_of(&patterned(3000, 6, 312, 313))),
        ),
    ];
    for (name, a) in inputs {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        let units = [1e3, 1.0, 1e-3, 7.0, 0.3, 3.0];
        let diag = Mat::from_fn(d, d, |i, j| if i == j { units[i] } else { 0.0 });
        let (s0, i0) = approx_leverage_scores(a.view(), &p, Seed::new(9), Par::Seq).unwrap();
        assert_eq!(
            i0.method,
            LeverageMethod::Approximate,
            "{name}: sketched route"
        );
        let ka = cond_of(&ad).kappa;
        for (gname, g) in [
            ("G#101", well_conditioned_g(d, 101)),
            ("G#103", well_conditioned_g(d, 103)),
            ("units", diag),
        ] {
            let ag = a.times(&g);
            let kag = cond_of(&ag.to_dense()).kappa;
            let tol = range_tol(n, d, ka, kag);
            let ctx = format!("{name} {gname}");
            if let Some((s1, _)) = log.ok(
                &ctx,
                approx_leverage_scores(ag.view(), &p, Seed::new(9), Par::Seq),
            ) {
                log.entries(&ctx, &s1, &s0, &vec![tol; n]);
            }
        }
    }
    log.finish();
}

/// Ridge leverage scores `τ_i(λ) = a_iᵀ(AᵀA + λI)⁻¹a_i` are *not* invariant under a general
/// `A → AG` (λI does not transform), but are under `A → AQ` with Q orthogonal; so is the
/// statistical dimension `Σ σ²/(σ² + λ)`. Bound: as [`range_tol`] with κ of `[A; √λI]`
/// (≤ κ(A)), and `d` times it for the sum.
#[test]
fn ridge_scores_and_statistical_dimension_orthogonal_invariant() {
    let mut log = Log::new("exact_ridge_leverage_scores / statistical_dimension (A → AQ)");
    for (name, a) in ls_inputs() {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        let q = orthogonal(d, 111);
        let aq = a.times(&q);
        for lambda in [0.05, 0.75, 20.0] {
            let kr = cond_ridge(&ad, lambda).kappa;
            let tol = range_tol(n, d, kr, kr);
            for method in [
                ExactMethod::Householder,
                ExactMethod::SketchCholesky,
                ExactMethod::Auto,
            ] {
                let p = ExactParams {
                    method,
                    ..ExactParams::default()
                };
                let ctx = format!("{name} λ={lambda} {method:?}");
                if let (Some((s0, _)), Some((s1, _))) = (
                    log.ok(
                        &ctx,
                        exact_ridge_leverage_scores(a.view(), lambda, &p, Par::Seq),
                    ),
                    log.ok(
                        &ctx,
                        exact_ridge_leverage_scores(aq.view(), lambda, &p, Par::Seq),
                    ),
                ) {
                    log.entries(&ctx, &s1, &s0, &vec![tol; n]);
                }
            }
            let ctx = format!("{name} λ={lambda} statistical_dimension");
            if let (Some(s0), Some(s1)) = (
                log.ok(&ctx, statistical_dimension(a.view(), lambda, Par::Seq)),
                log.ok(&ctx, statistical_dimension(aq.view(), lambda, Par::Seq)),
            ) {
                log.norm(&ctx, &[s1], &[s0], d as f64 * tol);
            }
        }
    }
    log.finish();
}

/// `condition_number(AQ) = κ(A)`: singular values are perturbed by ≤ `n·d·u·‖A‖` each
/// (backward-stable SVD), so κ relatively by ≤ `2·n·d·u·κ`, two computations plus forming AQ
/// (`d·u·‖A‖`): relative `4·n·d·u·κ`. `gram(AQ) = Qᵀ·gram(A)·Q` entrywise to
/// `4·γ_{n+2d}·(|Q|ᵀ|A|ᵀ|A||Q|)` (products of sums of absolute values: forming AQ, the Gram
/// sums, and `QᵀGQ`).
#[test]
fn condition_number_and_gram_orthogonal_invariant() {
    let mut log = Log::new("condition_number / gram (A → AQ)");
    for (name, a) in ls_inputs() {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        let q = orthogonal(d, 121);
        let aq = a.times(&q);
        let aqd = aq.to_dense();
        let k0 = condition_number(ad.as_ref()).unwrap();
        let ctx = format!("{name} condition_number");
        if let Some(k1) = log.ok(&ctx, condition_number(aqd.as_ref())) {
            log.norm(&ctx, &[k1], &[k0], 4.0 * (n * d) as f64 * U * k0 * k0);
        }
        let ctx = format!("{name} gram");
        let (Some(g0), Some(g1)) = (
            log.ok(&ctx, gram(a.view(), Par::Seq)),
            log.ok(&ctx, gram(aq.view(), Par::Seq)),
        ) else {
            continue;
        };
        let want = matmul(matmul(q.transpose(), g0.as_ref()).as_ref(), q.as_ref());
        let qa = abs_mat(q.as_ref());
        let aa = abs_mat(ad.as_ref());
        let ata = matmul(aa.transpose(), aa.as_ref());
        let mag = matmul(matmul(qa.transpose(), ata.as_ref()).as_ref(), qa.as_ref());
        let bound: Vec<f64> = flat(mag.as_ref())
            .iter()
            .map(|x| 4.0 * gamma(n + 2 * d) * x)
            .collect();
        log.entries(&ctx, &flat(g1.as_ref()), &flat(want.as_ref()), &bound);
    }
    log.finish();
}

/// `orthonormal_basis(AG)` spans range(A): `‖Q₁ − Q₀(Q₀ᵀQ₁)‖_F ≤ √d·‖ΔP‖` with [`range_tol`];
/// `distortion_on_range(S, AG) = distortion_on_range(S, A)` and
/// `RangeBasis::new(AG).distortion(S, AG)` likewise: `κ(SQ)` for two orthonormal bases of the
/// same space differ by a rotation, so only the bases' rounding counts: relative
/// `2·‖S‖·‖ΔQ‖/σ_min(SQ) + 4·m·d·u·κ(SQ)` (first-order perturbation of σ_max and σ_min).
#[test]
fn range_diagnostics_depend_on_range_only() {
    let mut log = Log::new("orthonormal_basis / distortion_on_range / RangeBasis (A → AG)");
    for (name, a) in ls_inputs() {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        let g = well_conditioned_g(d, 131);
        let ag = a.times(&g);
        let agd = ag.to_dense();
        let tol = range_tol(n, d, cond_of(&ad).kappa, cond_of(&agd).kappa);
        let q0 = orthonormal_basis(ad.as_ref()).unwrap();
        let ctx = format!("{name} orthonormal_basis");
        if let Some(q1) = log.ok(&ctx, orthonormal_basis(agd.as_ref())) {
            let proj = matmul(q0.as_ref(), matmul(q0.transpose(), q1.as_ref()).as_ref());
            log.norm(
                &ctx,
                &flat(q1.as_ref()),
                &flat(proj.as_ref()),
                (d as f64).sqrt() * tol,
            );
        }
        for s in common::all_sketches(24, n, Seed::new(3)) {
            let snorm = cond_of(&s.to_dense().unwrap()).norm;
            let sq = s
                .apply(MatrixRef::dense(q0.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            let cs = cond_of(&sq);
            let smin = cs.norm / cs.kappa;
            let rel =
                2.0 * snorm * (d as f64).sqrt() * tol / smin + 4.0 * (24 * d) as f64 * U * cs.kappa;
            let ctx = format!("{name} {} distortion_on_range", s.name());
            if let (Some(d0), Some(d1)) = (
                log.ok(&ctx, distortion_on_range(&*s, a.view(), Par::Seq)),
                log.ok(&ctx, distortion_on_range(&*s, ag.view(), Par::Seq)),
            ) {
                log.norm(&ctx, &[d1], &[d0], rel * d0);
            }
            let ctx = format!("{name} {} RangeBasis", s.name());
            let r0 = RangeBasis::new(a.view(), Par::Seq)
                .and_then(|r| r.distortion(&*s, a.view(), Par::Seq));
            let r1 = RangeBasis::new(ag.view(), Par::Seq)
                .and_then(|r| r.distortion(&*s, ag.view(), Par::Seq));
            if let (Some(d0), Some(d1)) = (log.ok(&ctx, r0), log.ok(&ctx, r1)) {
                log.norm(&ctx, &[d1], &[d0], rel * d0);
            }
        }
    }
    log.finish();
}

/// Least squares under `A → AG`: `x(AG, b) = G⁻¹x(A, b)`, checked as `G·x(AG, b) = x(A, b)`,
/// and the residual `‖b − Ax‖` unchanged. Bound: `‖G‖·e' + e + γ_d·‖|G||x'|‖` with `e, e'` the
/// solver's forward-error bounds on the two problems (κ(AG) ≤ 10·κ(A)); residuals differ by at
/// most `‖A‖e + ‖AG‖e'` (first order). λ = 0 only (ridge is not invariant under G).
#[test]
fn least_squares_range_covariant() {
    let mut log = Log::new("least-squares solvers (A → AG; ridge: A → AQ)");
    for (name, a) in ls_inputs() {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        // (G, λ): a general G with κ(G) = 10 without ridge; an orthogonal Q with ridge λ = 0.5
        // (‖AQx'‖² + λ‖x'‖² is the ridge objective of x = Qx', so x(AQ, b, λ) = Qᵀx(A, b, λ)).
        for (gname, g, lambda) in [
            ("G", well_conditioned_g(d, 141), 0.0),
            ("Q", orthogonal(d, 143), 0.5),
        ] {
            let gnorm = cond_of(&g).norm;
            let gabs = abs_mat(g.as_ref());
            let ag = a.times(&g);
            let agd = ag.to_dense();
            let (c0, c1) = (cond_ridge(&ad, lambda), cond_ridge(&agd, lambda));
            let b = rhs_for(&a, 61);
            for (sname, solve, err) in solvers(lambda) {
                let ctx = format!("{name} {sname} A→A{gname} λ={lambda}");
                let (Some(x0), Some(x1)) = (
                    log.ok(&ctx, solve(a.view(), &b)),
                    log.ok(&ctx, solve(ag.view(), &b)),
                ) else {
                    continue;
                };
                let (r0, r1) = (
                    residual(&ad, &x0, &b, lambda),
                    residual(&agd, &x1, &b, lambda),
                );
                let e0 = err(&c0, n, d, &x0, r0, &b);
                let e1 = err(&c1, n, d, &x1, r1, &b);
                let gx = matvec(g.as_ref(), &x1);
                let xabs: Vec<f64> = x1.iter().map(|v| v.abs()).collect();
                let bound = gnorm * e1 + e0 + gamma(d) * norm2(&matvec(gabs.as_ref(), &xabs));
                log.norm(&format!("{ctx} G·x(AG)"), &gx, &x0, bound);
                log.norm(
                    &format!("{ctx} residual"),
                    &[r1],
                    &[r0],
                    c0.norm * e0 + c1.norm * e1 + gamma(n * d) * (norm2(&b) + r0),
                );
            }
        }
    }
    log.finish();
}

/// `sketch_and_precondition` (no probe, QR) on A and AG: the preconditioned operators
/// `A·R⁻¹` and `AG·R'⁻¹` differ by an orthogonal factor on the right (`SAG = Q_S·(RG)` and
/// `RG = Q'R'`), and LSQR from x = 0 is invariant under an orthogonal change of the unknowns,
/// so in exact arithmetic every iterate's residual and stopping value coincide. In floating
/// point they differ by rounding, which moves the crossing of `tol` by at most one iteration
/// per run (here 5–6 iterations reach 10⁻¹⁴, a contraction of ≈ 10⁻² or better per step, far
/// from 1), unless the value at the crossing is within rounding of tol: rule
/// `|Δ iterations| ≤ max(runs)` (observed: equal counts everywhere).
#[test]
fn sketch_and_precondition_iterations_range_invariant() {
    let mut log = Log::new("sketch_and_precondition iterations (A → AG)");
    for (name, a) in ls_inputs() {
        let d = a.view().ncols();
        let b = rhs_for(&a, 71);
        for gs in [151u64, 153] {
            let g = well_conditioned_g(d, gs);
            let ag = a.times(&g);
            for fac in [Factorization::Qr, Factorization::Svd] {
                let p = LstsqParams {
                    probe: false,
                    factorization: fac,
                    ..LstsqParams::default()
                };
                let ctx = format!("{name} G#{gs} {fac:?}");
                if let (Some((_, i0)), Some((_, i1))) = (
                    log.ok(&ctx, sketch_and_precondition(a.view(), &b, &p)),
                    log.ok(&ctx, sketch_and_precondition(ag.view(), &b, &p)),
                ) {
                    let runs = i0.runs.max(i1.runs);
                    let diff = i0.iterations.abs_diff(i1.iterations);
                    eprintln!(
                        "{ctx}: iterations {} vs {} (runs {} / {})",
                        i0.iterations, i1.iterations, i0.runs, i1.runs
                    );
                    if diff > runs {
                        log.fail(
                            &ctx,
                            format!(
                                "iterations {} vs {} ({:?} / {:?}), more than {runs} apart",
                                i0.iterations, i1.iterations, i0.run_iterations, i1.run_iterations
                            ),
                        );
                    }
                    if !i0.converged || !i1.converged {
                        log.fail(&ctx, "not converged".into());
                    }
                    // κ(AN) is the same operator's (up to an orthogonal factor): the Ritz
                    // estimate from the same number of Golub–Kahan steps agrees to rounding
                    // (range_tol relative); and it must respect KAPPA_S, the premise of the
                    // iterative bounds.
                    let (ad, agd) = (a.to_dense(), ag.to_dense());
                    let n = ad.nrows();
                    let tol = range_tol(n, d, cond_of(&ad).kappa, cond_of(&agd).kappa);
                    log.norm(
                        &format!("{ctx} kappa_estimate"),
                        &[i1.kappa_estimate],
                        &[i0.kappa_estimate],
                        tol * i0.kappa_estimate,
                    );
                    if !(i0.kappa_estimate < KAPPA_S && i1.kappa_estimate < KAPPA_S) {
                        log.fail(
                            &ctx,
                            format!(
                                "κ(AN) estimates {} / {} not below KAPPA_S = {KAPPA_S}",
                                i0.kappa_estimate, i1.kappa_estimate
                            ),
                        );
                    }
                }
            }
        }
    }
    log.finish();
}

fn pool_x() -> Vec<(&'static str, Input)> {
    vec![
        ("dense 200x4", Input::Dense(dense_mat(200, 4, 91))),
        (
            "csr 200x4",
            Input::Sparse(csr_of(&patterned(200, 4, 92, 93))),
        ),
    ]
}

/// Active learning under `X → XG`. `Basis::Exact` scores are the exact leverage scores (module
/// docs), so they depend on range(X) only: [`range_tol`]. `Basis::Sketched` scores are
/// `‖R⁻ᵀx_i‖²` with `R` from the QR of `S·X·D` (D: power-of-two column equilibration): for `XG`,
/// `S·XG·D' = Q_S·R·(D⁻¹GD')`, so `XG·D'·R'⁻¹ = X·D·R⁻¹·O` with O orthogonal — the same scores
/// for the same seed, also [`range_tol`]. `Pool::least_squares(y)` follows the least-squares
/// law `G·β(XG) = β(X)` ([`qr_err`]-type bound, ×κ_S). Learners: Uniform never looks at X;
/// Leverage draws from the scores (rounding of the scores changes a draw only if a uniform
/// variate falls within [`range_tol`] of a cumulative boundary, probability < 10⁻⁹ here): the
/// same rows, and weights `1/(k·p_i)` with `p_i = τ_i/Στ`, relatively within
/// `ρ_i = 4·(range_tol/τ_i + n·range_tol/Στ) + 4u` (first order, ×2 for two pools and ×2 slack
/// for the second order). Where BSS happens to select the same rows, its weights are checked
/// to `k·max_i ρ_i` (k = 40 steps, each step's `v_iᵀMv_i` and barriers perturbed at most by
/// `max ρ`, perturbations adding over the steps — an estimate, not a proven bound).
///
/// BSS is **not** asserted: its *distribution* is rotation-invariant (it runs on `V = XW`, and
/// `V' = V·O`; `v_iᵀMv_i` with M a function of `Σ s v vᵀ` is invariant), but its rejection
/// sampler accepts a proposal with probability `v_iᵀMv_i/(bound·‖v_i‖²)` where
/// `bound = min(Gershgorin(M), ‖M‖_F, tr M)` (src/active/strategy.rs:584) — the Gershgorin
/// bound is basis-dependent, so for a fixed seed the accept/reject sequence, and with it the
/// selected rows, may differ between X and XG (observed: csr 200×4, `Basis::Sketched`, 35 vs
/// 34 distinct rows, first weights 1.70/3.20 vs 3.17). The docs do not promise fixed-seed
/// invariance under a change of basis, so this is recorded, not a defect; when the rows do
/// coincide the weights are checked as above.
#[test]
fn active_learning_range_invariant() {
    let mut log = Log::new("Pool / Learner (X → XG, Basis::Exact and Sketched)");
    for (name, x) in pool_x() {
        let xd = x.to_dense();
        let (n, d) = (xd.nrows(), xd.ncols());
        let g = well_conditioned_g(d, 161);
        let xg = x.times(&g);
        let xgd = xg.to_dense();
        let (c0, c1) = (cond_of(&xd), cond_of(&xgd));
        let tol = range_tol(n, d, c0.kappa, c1.kappa);
        let y = rhs_for(&x, 95);
        for basis in [Basis::Exact, Basis::Sketched { sketch_rows: None }] {
            let ctx = format!("{name} {} Pool::new", basis.name());
            let (Some(p0), Some(p1)) = (
                log.ok(&ctx, Pool::new(x.view(), basis, Seed::new(1), Par::Seq)),
                log.ok(&ctx, Pool::new(xg.view(), basis, Seed::new(1), Par::Seq)),
            ) else {
                continue;
            };
            log.entries(
                &format!("{ctx} scores"),
                p1.scores(),
                p0.scores(),
                &vec![tol; n],
            );
            let tsum: f64 = p0.scores().iter().sum();
            let rho: Vec<f64> = p0
                .scores()
                .iter()
                .map(|t| 4.0 * (tol / t + n as f64 * tol / tsum) + 4.0 * U)
                .collect();
            let rho_max = rho.iter().cloned().fold(0.0f64, f64::max);
            let ctx = format!("{name} {} Pool::least_squares", basis.name());
            if let (Some((b0, o0)), Some((b1, o1))) = (
                log.ok(&ctx, p0.least_squares(&y)),
                log.ok(&ctx, p1.least_squares(&y)),
            ) {
                let (r0, r1) = (o0.max(0.0).sqrt(), o1.max(0.0).sqrt());
                let e0 = qr_err(&c0, n, d, &b0, r0) * KAPPA_S;
                let e1 = qr_err(&c1, n, d, &b1, r1) * KAPPA_S;
                let gb = matvec(g.as_ref(), &b1);
                log.norm(
                    &ctx,
                    &gb,
                    &b0,
                    cond_of(&g).norm * e1 + e0 + gamma(d) * 10.0 * norm2(&b1),
                );
                log.norm(
                    &format!("{ctx} OPT"),
                    &[r1],
                    &[r0],
                    c0.norm * e0 + c1.norm * e1 + gamma(n * d) * norm2(&y),
                );
            }
            for strategy in [Strategy::Uniform, Strategy::leverage(), Strategy::bss()] {
                let is_bss = matches!(strategy, Strategy::Bss(_));
                let run = |pool: &Pool<'_>| -> randnla::Result<Vec<(usize, f64)>> {
                    let mut o = Budgeted::new(SliceOracle::new(&y), 40);
                    let mut l = Learner::new(pool, strategy.clone(), Seed::new(2))?;
                    l.select(40, &mut o)?;
                    Ok(l.weights())
                };
                let ctx = format!("{name} {} {} selection", basis.name(), strategy.name());
                if let (Some(w0), Some(w1)) = (log.ok(&ctx, run(&p0)), log.ok(&ctx, run(&p1))) {
                    let same = w0.iter().map(|e| e.0).eq(w1.iter().map(|e| e.0));
                    if is_bss && !same {
                        // Not a law for a fixed seed (see the doc comment): recorded only.
                        eprintln!(
                            "{ctx}: rows differ under X → XG ({} vs {} distinct rows)",
                            w0.len(),
                            w1.len()
                        );
                    } else if !same {
                        log.fail(
                            &ctx,
                            format!(
                                "selected rows differ: {:?} vs {:?}",
                                w0.iter().map(|e| e.0).collect::<Vec<_>>(),
                                w1.iter().map(|e| e.0).collect::<Vec<_>>()
                            ),
                        );
                    } else {
                        let f = |w: &[(usize, f64)]| w.iter().map(|e| e.1).collect::<Vec<f64>>();
                        let bound: Vec<f64> = w0
                            .iter()
                            .map(|(i, v)| {
                                let r = if is_bss { 40.0 * rho_max } else { rho[*i] };
                                r * v.abs()
                            })
                            .collect();
                        log.entries(&format!("{ctx} weights"), &f(&w1), &f(&w0), &bound);
                    }
                }
            }
        }
    }
    log.finish();
}

/// `weighted_least_squares` (Householder QR of the weighted rows, per its docs) under
/// `X → XG` (λ = 0) and `X → XQ` (λ = 0.4, Q orthogonal): `G·β(XG) = β(X)`, bound as in
/// [`least_squares_range_covariant`] with [`qr_err`] of the weighted `k × d` problem
/// (`[√w_t x_{r_t}ᵀ; √λ·I]`).
#[test]
fn weighted_least_squares_range_covariant() {
    use randnla::active::weighted_least_squares;
    let mut log = Log::new("weighted_least_squares (X → XG; ridge: X → XQ)");
    let rows: Vec<usize> = (0..30).map(|i| (i * 7) % 200).collect();
    let weights: Vec<f64> = (0..30).map(|i| 1.0 + (i % 5) as f64 * 0.25).collect();
    for (name, x) in pool_x() {
        let xd = x.to_dense();
        let d = xd.ncols();
        let y = rhs_for(&x, 97);
        let labels: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
        for (gname, g, lambda) in [
            ("G", well_conditioned_g(d, 181), 0.0),
            ("Q", orthogonal(d, 183), 0.4),
        ] {
            let xg = x.times(&g);
            let xgd = xg.to_dense();
            let weighted = |m: &Mat<f64>| {
                Mat::from_fn(rows.len(), d, |t, j| weights[t].sqrt() * m[(rows[t], j)])
            };
            let (w0, w1) = (weighted(&xd), weighted(&xgd));
            let (c0, c1) = (cond_ridge(&w0, lambda), cond_ridge(&w1, lambda));
            let sl: Vec<f64> = (0..rows.len())
                .map(|t| weights[t].sqrt() * labels[t])
                .collect();
            let ctx = format!("{name} X→X{gname} λ={lambda}");
            let (Some(b0), Some(b1)) = (
                log.ok(
                    &ctx,
                    weighted_least_squares(x.view(), &rows, &weights, &labels, lambda),
                ),
                log.ok(
                    &ctx,
                    weighted_least_squares(xg.view(), &rows, &weights, &labels, lambda),
                ),
            ) else {
                continue;
            };
            let k = rows.len() + d;
            let e0 = qr_err(&c0, k, d, &b0, residual(&w0, &b0, &sl, lambda));
            let e1 = qr_err(&c1, k, d, &b1, residual(&w1, &b1, &sl, lambda));
            let gb = matvec(g.as_ref(), &b1);
            let ba: Vec<f64> = b1.iter().map(|v| v.abs()).collect();
            let bound = cond_of(&g).norm * e1
                + e0
                + gamma(d) * norm2(&matvec(abs_mat(g.as_ref()).as_ref(), &ba));
            log.norm(&ctx, &gb, &b0, bound);
        }
    }
    log.finish();
}

/// Kernel regression under an orthogonal change of the features `A → AQ`:
/// P1 `(AᵀA)ʲx = b`: `x(AQ, Qᵀb) = Qᵀx(A, b)`; P2 `A(AᵀA)ʲx ≈ b`: `x(AQ, b) = Qᵀx(A, b)`;
/// P3 `exp(AAᵀ)x = b`: `x(AQ, b) = x(A, b)` (AAᵀ unchanged). Checked as `Q·x' = x`.
/// Bound: each solve's relative error (as in [`kernel_regression_linear_in_b`]), plus the
/// perturbation from forming `AQ` and `Qᵀb` (relative `γ_{2d}` in the data, amplified by the
/// operator's condition: `2j·κ^{2j+1}·γ_{2d}` for P1/P2; for P3 the kernel entries move by
/// `e^{δ_il} − 1` with `δ ≤ γ_{3d}·((|A||Q|)(|A||Q|)ᵀ)_il`, amplified by `κ(exp(AAᵀ))`), plus
/// `γ_d` for `Q·x'`.
#[test]
fn kernel_regression_orthogonal_covariant() {
    let mut log = Log::new("solve_p1 / solve_p2 / solve_p3 (A → AQ)");
    for inner in [InnerSolve::Auto, InnerSolve::Cg] {
        let params = KernelParams {
            tol: 1e-12,
            inner_solve: inner,
            ..KernelParams::default()
        };
        for (name, a) in ls_inputs() {
            let ad = a.to_dense();
            let d = ad.ncols();
            let q = orthogonal(d, 191);
            let aq = a.times(&q);
            let kappa = condition_number(ad.as_ref()).unwrap();
            for j in [1usize, 2] {
                for p2 in [false, true] {
                    let rel = 4.0 * kappa.powi(2 * j as i32 + 2) * params.tol.max(params.lstsq.tol)
                        + 1e-12;
                    let pert = 2.0 * j as f64 * kappa.powi(2 * j as i32 + 1) * gamma(2 * d);
                    let b = if p2 { rhs_for(&a, 55) } else { Rng(55).vec(d) };
                    // P1's right-hand side transforms with Q: b' = Qᵀb.
                    let bq = if p2 {
                        b.clone()
                    } else {
                        matvec(q.transpose(), &b)
                    };
                    let solve = |m: MatrixRef<'_, f64>, b: &[f64]| {
                        if p2 {
                            solve_p2(m, j, b, &params).map(|r| r.0)
                        } else {
                            solve_p1(m, j, b, &params).map(|r| r.0)
                        }
                    };
                    let ctx = format!("{name} {inner:?} {} j={j}", if p2 { "P2" } else { "P1" });
                    if let (Some(x0), Some(x1)) = (
                        log.ok(&ctx, solve(a.view(), &b)),
                        log.ok(&ctx, solve(aq.view(), &bq)),
                    ) {
                        let qx = matvec(q.as_ref(), &x1);
                        let bound = (2.0 * rel + pert + gamma(d)) * (norm2(&x0) + norm2(&x1));
                        log.norm(&ctx, &qx, &x0, bound);
                    }
                }
            }
        }
        let params = KernelParams {
            inner_solve: inner,
            ..KernelParams::default()
        };
        let ad = dense_mat(8, 3, 41);
        let ad = Mat::from_fn(8, 3, |i, j| 1.5 * ad[(i, j)]);
        let q = orthogonal(3, 193);
        let aq = matmul(ad.as_ref(), q.as_ref());
        let e = Mat::from_fn(8, 8, |i, l| {
            (0..3).map(|t| ad[(i, t)] * ad[(l, t)]).sum::<f64>().exp()
        });
        let kappa = condition_number(e.as_ref()).unwrap();
        let aqa = matmul(abs_mat(ad.as_ref()).as_ref(), abs_mat(q.as_ref()).as_ref());
        let mag = matmul(aqa.as_ref(), aqa.transpose());
        let dmax = flat(mag.as_ref())
            .iter()
            .fold(0.0f64, |m, v| m.max(2.0 * gamma(3 * 3) * v));
        let rel = 4.0 * kappa * params.tol + 1e-12;
        let b: Vec<f64> = Rng(44).vec(8).iter().map(|v| v + 1.5).collect();
        let ctx = format!("P3 {inner:?}");
        if let (Some((x0, _)), Some((x1, _))) = (
            log.ok(
                &ctx,
                solve_p3(MatrixRef::dense(ad.as_ref()).unwrap(), &b, &params),
            ),
            log.ok(
                &ctx,
                solve_p3(MatrixRef::dense(aq.as_ref()).unwrap(), &b, &params),
            ),
        ) {
            let bound = (2.0 * rel + kappa * dmax.exp_m1()) * (norm2(&x0) + norm2(&x1));
            log.norm(&ctx, &x1, &x0, bound);
        }
    }
    log.finish();
}

/// `|fl((QO)(KO)ᵀ) − fl(QKᵀ)|` bound: `γ_{3d}·(|Q||O|)(|K||O|)ᵀ + γ_d·|Q||K|ᵀ` (forming QO and
/// KO, then the d-term scores; the unrotated scores' own rounding).
fn score_perturbation(q: &Mat<f64>, k: &Mat<f64>, o: &Mat<f64>) -> Mat<f64> {
    let d = q.ncols();
    let oa = abs_mat(o.as_ref());
    let qo = matmul(abs_mat(q.as_ref()).as_ref(), oa.as_ref());
    let ko = matmul(abs_mat(k.as_ref()).as_ref(), oa.as_ref());
    let rot = matmul(qo.as_ref(), ko.transpose());
    let plain = matmul(
        abs_mat(q.as_ref()).as_ref(),
        abs_mat(k.as_ref()).transpose(),
    );
    Mat::from_fn(q.nrows(), k.nrows(), |i, j| {
        gamma(3 * d) * rot[(i, j)] + gamma(d) * plain[(i, j)]
    })
}

/// Exact attention depends on (Q, K) only through the scores `⟨q_i, k_j⟩`, which `(Q, K) →
/// (QO, KO)` (O orthogonal) leaves unchanged. Bound per output row: with score perturbations
/// `δ_ij` ([`score_perturbation`]), softmax weights move relatively by `≤ e^{scale·δ_ij} − 1`,
/// and a relative weight perturbation `ε_j` moves a normalized average by
/// `≤ 2·max_j ε_j·max|v|`; polynomial weights `s^p` move by `Δw ≤ p(|s| + δ)^{p−1}δ`, and
/// `Σ w v/(1 + Σ w)` by `≤ 2·Σ_j Δw_ij·max|v|/(1 + Σ_j w_ij)` (sums over the causal window);
/// plus both computations' own rounding `2·γ_{n+p+3}·max|v|` (see
/// [`exact_attention_linear_in_v`]).
#[test]
fn exact_attention_rotation_invariant() {
    let mut log = Log::new("exact_attention ((Q, K) → (QO, KO))");
    let (q, k, v, _) = qkv();
    let h = q.ncols();
    let o = orthogonal(h, 201);
    let (qo, ko) = (
        matmul(q.as_ref(), o.as_ref()),
        matmul(k.as_ref(), o.as_ref()),
    );
    let delta = score_perturbation(&q, &k, &o);
    let s = matmul(q.as_ref(), k.transpose());
    for causal in [false, true] {
        let p = AttnParams { causal, block: 7 };
        for kernel in [
            Kernel::Softmax { scale: 0.5 },
            Kernel::Polynomial { degree: 2 },
            Kernel::Polynomial { degree: 4 },
        ] {
            let ctx = format!("{kernel:?} causal={causal}");
            let (Some(o0), Some(o1)) = (
                log.ok(
                    &ctx,
                    exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), kernel, &p, Par::Seq),
                ),
                log.ok(
                    &ctx,
                    exact_attention(qo.as_ref(), ko.as_ref(), v.as_ref(), kernel, &p, Par::Seq),
                ),
            ) else {
                continue;
            };
            let bound = attention_change_bound(kernel, causal, &s, &delta, &v);
            log.entries(&ctx, &flat(o1.as_ref()), &flat(o0.as_ref()), &bound);
        }
    }
    log.finish();
}

/// The bound of [`exact_attention_rotation_invariant`] on the change of exact attention when
/// every score `s_ij` moves by at most `δ_ij` (V fixed), per output entry, column-major.
fn attention_change_bound(
    kernel: Kernel,
    causal: bool,
    s: &Mat<f64>,
    delta: &Mat<f64>,
    v: &Mat<f64>,
) -> Vec<f64> {
    let n = s.nrows();
    let jmax = |i: usize| if causal { i + 1 } else { s.ncols() };
    let row_factor: Vec<f64> = (0..n)
        .map(|i| match kernel {
            Kernel::Softmax { scale } => {
                let dm = (0..jmax(i)).fold(0.0f64, |m, j| m.max(delta[(i, j)]));
                2.0 * (scale.abs() * dm).exp_m1() + 2.0 * gamma(n + 3)
            }
            Kernel::Polynomial { degree } => {
                let pp = degree as i32;
                let (mut dw, mut sw) = (0.0, 0.0);
                for j in 0..jmax(i) {
                    let (sv, dv) = (s[(i, j)].abs(), delta[(i, j)]);
                    dw += degree as f64 * (sv + dv).powi(pp - 1) * dv;
                    sw += sv.powi(pp);
                }
                2.0 * dw / (1.0 + sw) + 2.0 * gamma(n + degree + 3)
            }
            other => panic!("no bound for {other:?}"),
        })
        .collect();
    (0..v.ncols())
        .flat_map(|l| {
            let vm = (0..v.nrows()).fold(0.0f64, |a, i| a.max(v[(i, l)].abs()));
            row_factor.iter().map(move |f| f * vm).collect::<Vec<_>>()
        })
        .collect()
}

/// Exact attention under `(Q, K) → (αQ, K/α)` (α = 3, −1, 0.1; every score unchanged) and
/// softmax under `(αQ, scale/α)`: [`attention_change_bound`] with score perturbations
/// `δ = (γ_{h+3} + γ_h)·|Q||K|ᵀ` (each product of two rounded factors, the sums, the rounded
/// scale; and the unscaled scores' own rounding).
#[test]
fn exact_attention_balanced_scaling() {
    let mut log = Log::new("exact_attention ((αQ, K/α), softmax (αQ, scale/α))");
    let (q, k, v, _) = qkv();
    let (n, h) = (q.nrows(), q.ncols());
    let s = matmul(q.as_ref(), k.transpose());
    let qk = matmul(
        abs_mat(q.as_ref()).as_ref(),
        abs_mat(k.as_ref()).transpose(),
    );
    let delta = Mat::from_fn(n, n, |i, j| (gamma(h + 3) + gamma(h)) * qk[(i, j)]);
    for causal in [false, true] {
        let p = AttnParams { causal, block: 7 };
        for alpha in [3.0f64, -1.0, 0.1] {
            let qa = Mat::from_fn(n, h, |i, j| alpha * q[(i, j)]);
            let ka = Mat::from_fn(n, h, |i, j| k[(i, j)] / alpha);
            for kernel in [
                Kernel::Softmax { scale: 0.5 },
                Kernel::Polynomial { degree: 2 },
                Kernel::Polynomial { degree: 4 },
            ] {
                let run = |x: &Mat<f64>, y: &Mat<f64>, kern: Kernel| {
                    exact_attention(x.as_ref(), y.as_ref(), v.as_ref(), kern, &p, Par::Seq)
                };
                let ctx = format!("{kernel:?} causal={causal} α={alpha}");
                let Some(o0) = log.ok(&ctx, run(&q, &k, kernel)) else {
                    continue;
                };
                let bound = attention_change_bound(kernel, causal, &s, &delta, &v);
                if let Some(o1) = log.ok(&ctx, run(&qa, &ka, kernel)) {
                    log.entries(
                        &format!("{ctx} (αQ, K/α)"),
                        &flat(o1.as_ref()),
                        &flat(o0.as_ref()),
                        &bound,
                    );
                }
                if let Kernel::Softmax { scale } = kernel {
                    let kern = Kernel::Softmax {
                        scale: scale / alpha,
                    };
                    if let Some(o1) = log.ok(&ctx, run(&qa, &k, kern)) {
                        log.entries(
                            &format!("{ctx} (αQ, scale/α)"),
                            &flat(o1.as_ref()),
                            &flat(o0.as_ref()),
                            &bound,
                        );
                    }
                }
            }
        }
    }
    log.finish();
}

/// Kernel regression under `A → αA` (α = 3, 0.1): P1 `x(αA, b) = α^{−2j}·x(A, b)`, P2
/// `x(αA, b) = α^{−(2j+1)}·x(A, b)`. Bound: both solves' relative errors (as in
/// [`kernel_regression_linear_in_b`]) plus the rounding of `αA` (relative u in the data,
/// amplified by `(2j+1)·κ^{2j+1}`) and of the scaling of x.
#[test]
fn kernel_regression_homogeneous_in_a() {
    let mut log = Log::new("solve_p1 / solve_p2 (A → αA)");
    for inner in [InnerSolve::Auto, InnerSolve::Cg] {
        let params = KernelParams {
            tol: 1e-12,
            inner_solve: inner,
            ..KernelParams::default()
        };
        for (name, a) in ls_inputs() {
            let ad = a.to_dense();
            let (n, d) = (ad.nrows(), ad.ncols());
            let kappa = condition_number(ad.as_ref()).unwrap();
            for j in [1usize, 2] {
                for p2 in [false, true] {
                    let rel = 4.0 * kappa.powi(2 * j as i32 + 2) * params.tol.max(params.lstsq.tol)
                        + 1e-12;
                    let e = if p2 { 2 * j + 1 } else { 2 * j } as i32;
                    let pert = (2 * j + 1) as f64 * kappa.powi(2 * j as i32 + 1) * 2.0 * U;
                    let b = if p2 { rhs_for(&a, 57) } else { Rng(57).vec(d) };
                    let solve = |m: MatrixRef<'_, f64>| {
                        if p2 {
                            solve_p2(m, j, &b, &params).map(|r| r.0)
                        } else {
                            solve_p1(m, j, &b, &params).map(|r| r.0)
                        }
                    };
                    let tag = format!("{name} {inner:?} {} j={j}", if p2 { "P2" } else { "P1" });
                    let Some(x0) = log.ok(&tag, solve(a.view())) else {
                        continue;
                    };
                    for alpha in [3.0f64, 0.1] {
                        let aa = match &a {
                            Input::Dense(m) => {
                                Input::Dense(Mat::from_fn(n, d, |i, jj| alpha * m[(i, jj)]))
                            }
                            Input::Sparse(m) => Input::Sparse(m.map(|v| alpha * v)),
                        };
                        let ctx = format!("{tag} α={alpha}");
                        if let Some(x1) = log.ok(&ctx, solve(aa.view())) {
                            let want = scale_vec(&x0, alpha.powi(-e));
                            let bound = (2.0 * rel + pert + U) * (norm2(&x1) + norm2(&want));
                            log.norm(&ctx, &x1, &want, bound);
                        }
                    }
                }
            }
        }
    }
    log.finish();
}

/// `tril(ABᵀ)C` and `tril((ABᵀ)^{∘2})C` under `(A, B) → (AO, BO)`: the scores are unchanged;
/// bound `Σ_{j≤i} Δ_ij·|C_jl|` with `Δ = δ` (e = 1) or `(2|s| + δ)·δ` (e = 2), plus both
/// computations' rounding as in [`causal_products_linear_in_c`] (`2·γ_{2d+n+3}` times the
/// magnitudes).
#[test]
fn causal_products_rotation_invariant() {
    let mut log = Log::new("causal_product / causal_squared_product ((A, B) → (AO, BO))");
    let (a, b, c, _) = qkv();
    let (n, d) = (a.nrows(), a.ncols());
    let o = orthogonal(d, 211);
    let (ao, bo) = (
        matmul(a.as_ref(), o.as_ref()),
        matmul(b.as_ref(), o.as_ref()),
    );
    let delta = score_perturbation(&a, &b, &o);
    let s = matmul(a.as_ref(), b.transpose());
    let ab = matmul(
        abs_mat(a.as_ref()).as_ref(),
        abs_mat(b.as_ref()).transpose(),
    );
    let cabs = abs_mat(c.as_ref());
    for sq in [false, true] {
        let pert = Mat::from_fn(n, n, |i, j| {
            if j > i {
                0.0
            } else if sq {
                let m = ab[(i, j)];
                (2.0 * s[(i, j)].abs() + delta[(i, j)]) * delta[(i, j)]
                    + 2.0 * gamma(2 * d + n + 3) * m * m
            } else {
                delta[(i, j)] + 2.0 * gamma(2 * d + n + 3) * ab[(i, j)]
            }
        });
        let bound = flat(matmul(pert.as_ref(), cabs.as_ref()).as_ref());
        for block in [5usize, 64] {
            let run = |x: &Mat<f64>, y: &Mat<f64>| {
                if sq {
                    causal_squared_product(x.as_ref(), y.as_ref(), c.as_ref(), block, Par::Seq)
                } else {
                    causal_product(x.as_ref(), y.as_ref(), c.as_ref(), block, Par::Seq)
                }
            };
            let ctx = format!("squared={sq} block={block}");
            if let (Some(o0), Some(o1)) = (log.ok(&ctx, run(&a, &b)), log.ok(&ctx, run(&ao, &bo))) {
                log.entries(&ctx, &flat(o1.as_ref()), &flat(o0.as_ref()), &bound);
            }
        }
    }
    log.finish();
}

/// `normal_equation_residual(AQ, Qᵀx, b) = normal_equation_residual(A, x, b)` for Q orthogonal
/// (`‖QᵀAᵀr‖ = ‖Aᵀr‖`, `‖AQ‖₂ = ‖A‖₂`, r unchanged; the 30 Golub–Kahan steps exhaust the
/// d ≤ 6 dimensions, so the `‖A‖₂` estimate is σ_max to rounding), and the ridge figure
/// likewise. x is the least-squares solution plus 10⁻³·e₀, so the figure is ≈ 10⁻³, not
/// rounding. Relative bound: `r` moves by `Δr ≤ γ_{2d+1}·(|b| + |A||Q||Qᵀx|)` (magnitudes with
/// `|A||Q|`, `|Q|ᵀ|x|`), `Aᵀr` by `γ_{n+d}·|A|ᵀ|r| + ‖A‖·‖Δr‖`-terms; the `‖A‖₂` estimate by
/// `2·n·d·u`: rel = 2·(‖ΔAᵀr‖/‖Aᵀr‖ + ‖Δr‖/‖r‖ + 2·n·d·u).
#[test]
fn normal_equation_residual_rotation_invariant() {
    use randnla::lstsq::{normal_equation_residual, ridge_normal_equation_residual};
    let mut log = Log::new("normal_equation_residual / ridge_normal_equation_residual (A → AQ)");
    for (name, a) in ls_inputs() {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        let q = orthogonal(d, 221);
        let aq = a.times(&q);
        let b = rhs_for(&a, 81);
        let mut x = qr_solve(a.view(), &b, 0.0, Par::Seq).unwrap();
        x[0] += 1e-3;
        let xq = matvec(q.transpose(), &x);
        let aqa = matmul(abs_mat(ad.as_ref()).as_ref(), abs_mat(q.as_ref()).as_ref());
        let xqa: Vec<f64> = matvec(
            abs_mat(q.as_ref()).transpose(),
            &x.iter().map(|v| v.abs()).collect::<Vec<_>>(),
        );
        let ax = matvec(aqa.as_ref(), &xqa);
        let dr: Vec<f64> = ax
            .iter()
            .zip(&b)
            .map(|(p, bb)| gamma(2 * d + 1) * (p + bb.abs()))
            .collect();
        let r: Vec<f64> = b
            .iter()
            .zip(matvec(ad.as_ref(), &x))
            .map(|(bb, p)| bb - p)
            .collect();
        let ra: Vec<f64> = r.iter().map(|v| v.abs()).collect();
        let atr = matvec(ad.transpose(), &r);
        let anorm = cond_of(&aqa).norm;
        let datr = gamma(n + d) * norm2(&matvec(aqa.transpose(), &ra)) + anorm * norm2(&dr);
        for lambda in [0.0, 0.3] {
            let ctx = format!("{name} λ={lambda}");
            let (f0, f1) = if lambda == 0.0 {
                (
                    normal_equation_residual(a.view(), &x, &b, Par::Seq),
                    normal_equation_residual(aq.view(), &xq, &b, Par::Seq),
                )
            } else {
                (
                    ridge_normal_equation_residual(a.view(), &x, &b, lambda, Par::Seq),
                    ridge_normal_equation_residual(aq.view(), &xq, &b, lambda, Par::Seq),
                )
            };
            let (Some(f0), Some(f1)) = (log.ok(&ctx, f0), log.ok(&ctx, f1)) else {
                continue;
            };
            // For λ > 0 the numerator is ‖Aᵀr − λx‖ (its rotation by Qᵀ): the same Δ terms over
            // its norm.
            let num: Vec<f64> = atr.iter().zip(&x).map(|(g, xx)| g - lambda * xx).collect();
            let rel = 2.0
                * ((datr + lambda * gamma(d) * norm2(&x)) / norm2(&num)
                    + norm2(&dr) / norm2(&r)
                    + 2.0 * (n * d) as f64 * U);
            log.norm(&ctx, &[f1], &[f0], rel * f0);
        }
    }
    log.finish();
}

/// `residual_rel(αT, α·w, a) = residual_rel(T, w, a)` for α = 3, −1, 0.1 (the ratio
/// `‖T − Σ λ_j a_j^{⊗p}‖_F/‖T‖_F` is homogeneous of degree 0 in (T, λ)). The weights are 1% off
/// so the figure is ≈ 10⁻², not rounding. With `M = ‖T‖_F + Σ_j|λ_j|·‖a_j‖^p` and `ρ` the
/// residual norm: dense storage sums entry by entry, each entry within `γ_{k+p+2}` of the
/// magnitudes (the `+1` for forming αT and αλ), so relative `γ_{k+p+2}·M/ρ + 2γ_{n^p}`;
/// coordinate storage forms `ρ² = ‖T‖² − 2Σλ T(a,…) + Σλλ⟨a,a⟩^p` with error
/// `≤ 2γ_{p·nnz+k+2}·M²`, relative `γ·M²/ρ²` (its documented cancellation). Two evaluations: ×2.
#[test]
fn residual_rel_homogeneous() {
    use randnla::tensor::residual_rel;
    let mut log = Log::new("residual_rel (T, w) → (αT, αw)");
    let (order, dim, k) = (3usize, 7usize, 2usize);
    let (t, w, f) =
        SymmetricTensor::synthetic_orthogonal(order, dim, k, 0.0, Seed::new(27)).unwrap();
    let w: Vec<f64> = w.iter().map(|v| v * 1.01).collect();
    let (idx, vals) = common::unique_entries(&t);
    let npow = dim.pow(order as u32);
    let m = t.norm()
        + w.iter()
            .zip(&f)
            .map(|(l, a)| l.abs() * norm2(a).powi(order as i32))
            .sum::<f64>();
    for dense in [true, false] {
        let t0 = tensor_from(order, dim, &idx, &vals, dense);
        let r0 = residual_rel(&t0, &w, &f, Par::Seq).unwrap();
        let rho = r0 * t0.norm();
        let rel = if dense {
            2.0 * (gamma(k + order + 2) * m / rho + 2.0 * gamma(npow))
        } else {
            2.0 * (2.0 * gamma(order * idx.len() + k + 2) * m * m / (rho * rho))
        };
        for alpha in [3.0f64, -1.0, 0.1] {
            let ctx = format!("dense={dense} α={alpha}");
            let va: Vec<f64> = vals.iter().map(|v| alpha * v).collect();
            let ta = tensor_from(order, dim, &idx, &va, dense);
            if let Some(r) = log.ok(&ctx, residual_rel(&ta, &scale_vec(&w, alpha), &f, Par::Seq)) {
                log.norm(&ctx, &[r], &[r0], rel * r0);
            }
        }
    }
    log.finish();
}

/// `diagnostics::distortion(S, Q·O) = distortion(S, Q)` for an orthonormal Q (n × d) and O
/// orthogonal (`κ(SQO) = κ(SQ)`). Forming QO moves it by `‖ΔQ‖ ≤ γ_d·‖|Q||O|‖`; κ(SQ) moves
/// relatively by `≤ 2‖S‖·‖ΔQ‖/σ_min(SQ)` plus both computations' SVD rounding
/// `4·m·d·u·κ(SQ)`.
#[test]
fn distortion_rotation_invariant() {
    use randnla::diagnostics::distortion;
    let mut log = Log::new("diagnostics::distortion (Q → QO)");
    let (n, d, m) = (70usize, 5usize, 24usize);
    let q = orthonormal_basis(dense_mat(n, d, 231).as_ref()).unwrap();
    let o = orthogonal(d, 233);
    let qo = matmul(q.as_ref(), o.as_ref());
    let dq = gamma(d)
        * cond_of(&matmul(
            abs_mat(q.as_ref()).as_ref(),
            abs_mat(o.as_ref()).as_ref(),
        ))
        .norm;
    let w = vec![1.0; n];
    for s in sketch_list(m, n, &w) {
        let ctx = s.name().to_string();
        let snorm = cond_of(&s.to_dense().unwrap()).norm;
        let sq = s
            .apply(MatrixRef::dense(q.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        let cs = cond_of(&sq);
        let smin = cs.norm / cs.kappa;
        let rel = 2.0 * snorm * dq / smin + 4.0 * (s.nrows() * d) as f64 * U * cs.kappa;
        if let (Some(d0), Some(d1)) = (
            log.ok(&ctx, distortion(&*s, q.as_ref(), Par::Seq)),
            log.ok(&ctx, distortion(&*s, qo.as_ref(), Par::Seq)),
        ) {
            log.norm(&ctx, &[d1], &[d0], rel * d0);
        }
    }
    log.finish();
}

/// `PolySketch` features at degree p = 2, where `φ` is linear (Gaussian: `φ(x) = xG/√r`;
/// TensorSketch map: a CountSketch of x): `φ(αX + βY) = αφ(X) + βφ(Y)` entrywise to
/// `3·γ_{h+3}·(|α||X| + |β||Y|)·|Φ_I|`, with `Φ_I = φ(I_h)` the explicit map (its rows are
/// `φ(e_i)`, exact: one nonzero per sum). The self-tensored features `φ'(αx) = α²φ'(x)`,
/// normwise per row to `3·α²·2√2·γ_{h+2}·‖m(x)‖²` (`m(x) = |x|·|Φ_I|` bounds `|φ(x)|` and its
/// rounding `γ_h·m`; each `φ'` entry is `c·φ_aφ_b` with `c ≤ √2`), and the weights
/// `w(αQ, K) = α²·w(Q, K)` entrywise to `3·α²·2·γ_{h+r²+3}·⟨m(q_i), m(k_j)⟩²`. The identity map
/// (`φ(x) = x^{⊗p/2}`, products of `p/2` entries) at p = 2 and 4: `φ(αX) = α^{p/2}φ(X)`
/// entrywise to `2·γ_{p+1}·|α|^{p/2}·|φ(X)|`.
#[test]
fn poly_sketch_features_linear_and_homogeneous() {
    let mut log = Log::new("PolySketch::{features, tensored_features, weights}");
    let (q, k, _, _) = qkv();
    let y = dense_mat(24, 6, 55);
    let (n, h) = (q.nrows(), q.ncols());
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        let ps = PolySketch::new(h, 2, 16, map, Seed::new(2)).unwrap();
        let eye = Mat::from_fn(h, h, |i, j| if i == j { 1.0 } else { 0.0 });
        let phi_i = abs_mat(ps.features(eye.as_ref(), Par::Seq).unwrap().as_ref());
        let r = phi_i.ncols();
        let f = |x: &Mat<f64>| ps.features(x.as_ref(), Par::Seq);
        let (fq, fy) = (f(&q).unwrap(), f(&y).unwrap());
        let mq = matmul(abs_mat(q.as_ref()).as_ref(), phi_i.as_ref());
        let mk = matmul(abs_mat(k.as_ref()).as_ref(), phi_i.as_ref());
        for (alpha, beta) in COEFS {
            let ctx = format!("{map:?} p=2 features α={alpha} β={beta}");
            let c = lin_mat(alpha, &q, beta, &y);
            if let Some(fc) = log.ok(&ctx, f(&c)) {
                let mag = Mat::from_fn(n, h, |i, j| {
                    alpha.abs() * q[(i, j)].abs() + beta.abs() * y[(i, j)].abs()
                });
                let bound: Vec<f64> = flat(matmul(mag.as_ref(), phi_i.as_ref()).as_ref())
                    .iter()
                    .map(|v| 3.0 * gamma(h + 3) * v)
                    .collect();
                let want = flat(lin_mat(alpha, &fq, beta, &fy).as_ref());
                log.entries(&ctx, &flat(fc.as_ref()), &want, &bound);
            }
        }
        let t0 = ps.tensored_features(q.as_ref(), Par::Seq).unwrap();
        let w0 = ps.weights(q.as_ref(), k.as_ref(), Par::Seq).unwrap();
        for alpha in [3.0f64, -1.0, 0.1] {
            let qa = Mat::from_fn(n, h, |i, j| alpha * q[(i, j)]);
            let ctx = format!("{map:?} p=2 tensored_features α={alpha}");
            if let Some(t) = log.ok(&ctx, ps.tensored_features(qa.as_ref(), Par::Seq)) {
                for i in 0..n {
                    let got: Vec<f64> = (0..t.ncols()).map(|j| t[(i, j)]).collect();
                    let want: Vec<f64> =
                        (0..t.ncols()).map(|j| alpha * alpha * t0[(i, j)]).collect();
                    let mi: Vec<f64> = (0..r).map(|j| mq[(i, j)]).collect();
                    let bound =
                        3.0 * alpha * alpha * 2.0 * 2f64.sqrt() * gamma(h + 2) * norm2(&mi).powi(2);
                    log.norm(&format!("{ctx} row {i}"), &got, &want, bound);
                }
            }
            let ctx = format!("{map:?} p=2 weights α={alpha}");
            if let Some(w) = log.ok(&ctx, ps.weights(qa.as_ref(), k.as_ref(), Par::Seq)) {
                let mm = matmul(mq.as_ref(), mk.transpose());
                let bound: Vec<f64> = flat(mm.as_ref())
                    .iter()
                    .map(|v| 3.0 * alpha * alpha * 2.0 * gamma(h + r * r + 3) * v * v)
                    .collect();
                let want: Vec<f64> = flat(w0.as_ref())
                    .iter()
                    .map(|v| alpha * alpha * v)
                    .collect();
                log.entries(&ctx, &flat(w.as_ref()), &want, &bound);
            }
        }
    }
    for degree in [2usize, 4] {
        let ps = PolySketch::new(h, degree, 16, FeatureMap::Identity, Seed::new(2)).unwrap();
        let f0 = ps.features(q.as_ref(), Par::Seq).unwrap();
        let half = degree as i32 / 2;
        for alpha in [3.0f64, -1.0, 0.1] {
            let qa = Mat::from_fn(n, h, |i, j| alpha * q[(i, j)]);
            let ctx = format!("Identity p={degree} features α={alpha}");
            if let Some(fa) = log.ok(&ctx, ps.features(qa.as_ref(), Par::Seq)) {
                let ah = alpha.powi(half);
                let want: Vec<f64> = flat(f0.as_ref()).iter().map(|v| ah * v).collect();
                let bound: Vec<f64> = want
                    .iter()
                    .map(|v| 2.0 * gamma(degree + 1) * v.abs())
                    .collect();
                log.entries(&ctx, &flat(fa.as_ref()), &want, &bound);
            }
        }
    }
    log.finish();
}

/// Active learning is linear in the labels: the selection never looks at label values (module
/// docs), so for a fixed seed `Learner::select`/`select_labels` pick the same rows and weights
/// for `y₁`, `y₂` and `αy₁ + βy₂` (asserted exactly), and `Learner::fit`,
/// `weighted_least_squares` and `Pool::least_squares` are linear in y. Bound: the direct
/// least-squares law of [`least_squares_linear_in_b`] with [`qr_err`] of the weighted problem
/// `[√w_t x_tᵀ; √λI]` (Householder QR per the docs of `weighted_least_squares`), and for
/// `Pool::least_squares` of X itself, ×κ_S (it solves through the pool's sketch-based
/// whitening, condition ≤ κ_S). `Pool::residual_norm_sq(αβ, αy) = α²·residual_norm_sq(β, y)`:
/// `r = y − Xβ` within `γ_{d+2}·(|y| + |X||β|)`, so the squared norm relatively within
/// `2‖Δr‖/‖r‖ + γ_n`, twice, plus the scaling.
#[test]
fn active_learning_linear_in_labels() {
    use randnla::active::weighted_least_squares;
    let mut log = Log::new("Learner::fit / weighted_least_squares / Pool (linear in y)");
    for (name, x) in pool_x() {
        let xd = x.to_dense();
        let (n, d) = (xd.nrows(), xd.ncols());
        let y1 = rhs_for(&x, 301);
        let y2 = rhs_for(&x, 303);
        let pool = Pool::new(x.view(), Basis::Exact, Seed::new(1), Par::Seq).unwrap();
        let cx = cond_of(&xd);
        // Pool::least_squares.
        let ls = |y: &[f64]| pool.least_squares(y);
        let (b1, o1) = ls(&y1).unwrap();
        let (b2, o2) = ls(&y2).unwrap();
        let e = |b: &[f64], opt: f64| qr_err(&cx, n, d, b, opt.max(0.0).sqrt()) * KAPPA_S;
        for (alpha, beta) in COEFS {
            let ctx = format!("{name} Pool::least_squares α={alpha} β={beta}");
            let y3 = lin_vec(alpha, &y1, beta, &y2);
            if let Some((b3, o3)) = log.ok(&ctx, ls(&y3)) {
                let bound = e(&b3, o3)
                    + alpha.abs() * e(&b1, o1)
                    + beta.abs() * e(&b2, o2)
                    + U * (alpha.abs() * norm2(&b1) + beta.abs() * norm2(&b2));
                log.norm(&ctx, &b3, &lin_vec(alpha, &b1, beta, &b2), bound);
            }
        }
        // Pool::residual_norm_sq homogeneity of degree 2.
        let mut bp = b1.clone();
        bp[0] += 0.05;
        let r0 = pool.residual_norm_sq(&bp, &y1).unwrap();
        let xb: Vec<f64> = matvec(
            abs_mat(xd.as_ref()).as_ref(),
            &bp.iter().map(|v| v.abs()).collect::<Vec<_>>(),
        );
        let dr: Vec<f64> = xb
            .iter()
            .zip(&y1)
            .map(|(p, q)| gamma(d + 2) * (p + q.abs()))
            .collect();
        let rel = 2.0 * (2.0 * norm2(&dr) / r0.sqrt() + gamma(n)) + 3.0 * U;
        for alpha in [3.0f64, -1.0, 0.1] {
            let ctx = format!("{name} residual_norm_sq α={alpha}");
            let r = pool.residual_norm_sq(&scale_vec(&bp, alpha), &scale_vec(&y1, alpha));
            if let Some(r) = log.ok(&ctx, r) {
                log.norm(&ctx, &[r], &[alpha * alpha * r0], rel * alpha * alpha * r0);
            }
        }
        // The learners and weighted_least_squares.
        for strategy in [Strategy::Uniform, Strategy::leverage(), Strategy::bss()] {
            for labels_mode in [false, true] {
                for lambda in [0.0, 0.3] {
                    let run = |y: &[f64]| -> randnla::Result<Selection> {
                        let mut o = Budgeted::new(SliceOracle::new(y), 60);
                        let mut l = Learner::new(&pool, strategy.clone(), Seed::new(2))?;
                        if labels_mode {
                            l.select_labels(30, &mut o)?;
                        } else {
                            l.select(40, &mut o)?;
                        }
                        let (beta, _) = l.fit(lambda)?;
                        Ok((l.weights(), beta))
                    };
                    let tag = format!(
                        "{name} {} {} λ={lambda}",
                        strategy.name(),
                        if labels_mode {
                            "select_labels"
                        } else {
                            "select"
                        }
                    );
                    let (Some((w1, f1)), Some((w2, f2))) =
                        (log.ok(&tag, run(&y1)), log.ok(&tag, run(&y2)))
                    else {
                        continue;
                    };
                    if w1 != w2 {
                        log.fail(&tag, "selection depends on the label values".into());
                        continue;
                    }
                    let rows: Vec<usize> = w1.iter().map(|e| e.0).collect();
                    let ws: Vec<f64> = w1.iter().map(|e| e.1).collect();
                    let wm = Mat::from_fn(rows.len(), d, |t, j| ws[t].sqrt() * xd[(rows[t], j)]);
                    let cw = cond_ridge(&wm, lambda);
                    let k = rows.len() + d;
                    let err = |beta: &[f64], y: &[f64]| {
                        let sl: Vec<f64> =
                            (0..rows.len()).map(|t| ws[t].sqrt() * y[rows[t]]).collect();
                        qr_err(&cw, k, d, beta, residual(&wm, beta, &sl, lambda))
                    };
                    let labels = |y: &[f64]| rows.iter().map(|&r| y[r]).collect::<Vec<f64>>();
                    let wls = |y: &[f64]| {
                        weighted_least_squares(x.view(), &rows, &ws, &labels(y), lambda)
                    };
                    let (g1, g2) = (wls(&y1).unwrap(), wls(&y2).unwrap());
                    for (alpha, beta) in COEFS {
                        let ctx = format!("{tag} α={alpha} β={beta}");
                        let y3 = lin_vec(alpha, &y1, beta, &y2);
                        if let Some((w3, f3)) = log.ok(&ctx, run(&y3)) {
                            if w3 != w1 {
                                log.fail(&ctx, "selection depends on the label values".into());
                            }
                            let bound = err(&f3, &y3)
                                + alpha.abs() * err(&f1, &y1)
                                + beta.abs() * err(&f2, &y2)
                                + U * (alpha.abs() * norm2(&f1) + beta.abs() * norm2(&f2));
                            log.norm(
                                &format!("{ctx} fit"),
                                &f3,
                                &lin_vec(alpha, &f1, beta, &f2),
                                bound,
                            );
                        }
                        if let Some(g3) = log.ok(&ctx, wls(&y3)) {
                            let bound = err(&g3, &y3)
                                + alpha.abs() * err(&g1, &y1)
                                + beta.abs() * err(&g2, &y2)
                                + U * (alpha.abs() * norm2(&g1) + beta.abs() * norm2(&g2));
                            log.norm(
                                &format!("{ctx} weighted_least_squares"),
                                &g3,
                                &lin_vec(alpha, &g1, beta, &g2),
                                bound,
                            );
                        }
                    }
                }
            }
        }
    }
    log.finish();
}

/// Approximate (DMMW) leverage scores under `A → αA` (fixed seed), α = −1, 3, 0.1: asserted
/// to [`range_tol`] with `κ_A = κ_AG = κ(A)`, relative to `max(1, max score)`; powers of two
/// are covered by `scale_covariance_review.rs`. This review first found α = 3 and 0.1 moving
/// single scores by up to 0.69 relative (dense 3000 × 5): `PivotedQr::new` scales each column
/// of `S₁A` by the power of two that brings its largest entry into `[1, 2)`, a non-power of two
/// moved the pivot order, and the JL matrix, drawn in the pivoted coordinates of `R`, met
/// another basis. Since session 39 it is drawn in the sketch's basis (`Q̂ᵀΠ`), so the factor is
/// `(S₁A)⁺·Π` whatever the pivots. The ridge variant with `λ → α²λ` is recorded, not
/// asserted: its factor comes from the QR of `[S₁A; √λI]`, whose pivots the sketch's basis does
/// not follow exactly (measured: 3·10⁻⁵–8·10⁻⁵ relative, against 0.7 before).
#[test]
fn approx_leverage_scores_homogeneous() {
    use randnla::leverage::{approx_leverage_scores, approx_ridge_leverage_scores, ApproxParams};
    let mut log = Log::new("approx_leverage_scores / approx_ridge_leverage_scores (A → αA)");
    let p = ApproxParams::default();
    let lambda = 0.6;
    let big = [
        ("dense 3000x5", Input::Dense(dense_mat(3000, 5, 311))),
        (
            "csr 3000x6",
            Input::Sparse(csr_of(&patterned(3000, 6, 312, 313))),
        ),
    ];
    for (name, a) in big {
        let ad = a.to_dense();
        let (n, d) = (ad.nrows(), ad.ncols());
        let kr = cond_ridge(&ad, lambda).kappa;
        let tol = range_tol(n, d, kr, kr);
        let (s0, i0) = approx_leverage_scores(a.view(), &p, Seed::new(9), Par::Seq).unwrap();
        let (r0, _) =
            approx_ridge_leverage_scores(a.view(), lambda, &p, Seed::new(9), Par::Seq).unwrap();
        eprintln!("{name}: approx method {:?}", i0.method);
        let m0 = s0.iter().chain(&r0).fold(1.0f64, |m, v| m.max(*v));
        for alpha in [-1.0f64, 3.0, 0.1] {
            let asserted = alpha == -1.0;
            let aa = match &a {
                Input::Dense(m) => Input::Dense(Mat::from_fn(n, d, |i, j| alpha * m[(i, j)])),
                Input::Sparse(m) => Input::Sparse(m.map(|v| alpha * v)),
            };
            let ctx = format!("{name} α={alpha}");
            let rec = |ctx: &str, s: &[f64], s0: &[f64]| {
                let md = s
                    .iter()
                    .zip(s0)
                    .map(|(x, y)| ((x - y) / y).abs())
                    .fold(0.0f64, f64::max);
                eprintln!("{ctx}: (not asserted) max per-row relative difference {md:.3e}");
            };
            if let Some((s, _)) = log.ok(
                &ctx,
                approx_leverage_scores(aa.view(), &p, Seed::new(9), Par::Seq),
            ) {
                // Asserted for every α since session 39 (the JL matrix is drawn in the sketch's
                // basis, so the factor is (S₁A)⁺·Π whatever the pivot order).
                log.entries(&ctx, &s, &s0, &vec![tol * m0; n]);
            }
            let ctx = format!("{name} ridge α={alpha}");
            let r = approx_ridge_leverage_scores(
                aa.view(),
                lambda * alpha * alpha,
                &p,
                Seed::new(9),
                Par::Seq,
            );
            if let Some((s, _)) = log.ok(&ctx, r) {
                if asserted {
                    log.entries(&ctx, &s, &r0, &vec![tol * m0; n]);
                } else {
                    rec(&ctx, &s, &r0);
                }
            }
        }
    }
    log.finish();
}

/// The TensorSketch building blocks are linear: `mode_sketch(k, αx + βy)` (a CountSketch:
/// entrywise `3·γ_{d+1}·(|α|‖x‖₁ + |β|‖y‖₁)`), `forward` (the unnormalized real DFT: normwise
/// `3·(5·log₂m + 2)·u·√m·(|α|‖v‖ + |β|‖w‖)`, `‖Fv‖ ≤ √m‖v‖` over the half spectrum),
/// `inverse` (`(1/m)·DFT`: `3·(5·log₂m + 2)·u·√(2/m)·(|α|‖X‖ + |β|‖Y‖)`), `mode_spectrum`
/// (forward of mode_sketch: the forward bound with `‖C_k x‖ ≤ ‖x‖₁`), and `sketch_entries`
/// linear in the values (bucket sums: entrywise `3·γ_{nnz+1}·(|α|‖v‖₁ + |β|‖w‖₁)`). Complex
/// outputs are compared as interleaved (re, im).
#[test]
fn tensor_sketch_building_blocks_linear() {
    let mut log =
        Log::new("TensorSketch::{mode_sketch, forward, inverse, mode_spectrum, sketch_entries}");
    let (d, m, p) = (9usize, 64usize, 3usize);
    let ts = TensorSketch::new(p, d, m, Seed::new(4)).unwrap();
    let x = Rng(401).vec(d);
    let y = Rng(402).vec(d);
    let v = Rng(403).vec(m);
    let w = Rng(404).vec(m);
    let lg = (m as f64).log2();
    let fft_c = 3.0 * (5.0 * lg + 2.0) * U;
    let cplx = |z: &[randnla::sketch::tensor::Complex<f64>]| -> Vec<f64> {
        z.iter().flat_map(|c| [c.re, c.im]).collect()
    };
    let spec1 = ts.forward(&v).unwrap();
    let spec2 = ts.forward(&w).unwrap();
    for (alpha, beta) in COEFS {
        let tag = format!("α={alpha} β={beta}");
        for k in 0..p {
            let ctx = format!("mode_sketch k={k} {tag}");
            let (a1, a2) = (
                ts.mode_sketch(k, &x).unwrap(),
                ts.mode_sketch(k, &y).unwrap(),
            );
            if let Some(a3) = log.ok(&ctx, ts.mode_sketch(k, &lin_vec(alpha, &x, beta, &y))) {
                let b = 3.0 * gamma(d + 1) * (alpha.abs() * norm1(&x) + beta.abs() * norm1(&y));
                log.entries(&ctx, &a3, &lin_vec(alpha, &a1, beta, &a2), &vec![b; m]);
            }
            let ctx = format!("mode_spectrum k={k} {tag}");
            let (s1, s2) = (
                cplx(&ts.mode_spectrum(k, &x).unwrap()),
                cplx(&ts.mode_spectrum(k, &y).unwrap()),
            );
            if let Some(s3) = log.ok(&ctx, ts.mode_spectrum(k, &lin_vec(alpha, &x, beta, &y))) {
                let b = (fft_c * (m as f64).sqrt() + 3.0 * gamma(d + 1) * (m as f64).sqrt())
                    * (alpha.abs() * norm1(&x) + beta.abs() * norm1(&y));
                log.norm(&ctx, &cplx(&s3), &lin_vec(alpha, &s1, beta, &s2), b);
            }
        }
        let ctx = format!("forward {tag}");
        if let Some(s3) = log.ok(&ctx, ts.forward(&lin_vec(alpha, &v, beta, &w))) {
            let b = fft_c * (m as f64).sqrt() * (alpha.abs() * norm2(&v) + beta.abs() * norm2(&w));
            log.norm(
                &ctx,
                &cplx(&s3),
                &lin_vec(alpha, &cplx(&spec1), beta, &cplx(&spec2)),
                b,
            );
        }
        let ctx = format!("inverse {tag}");
        let comb: Vec<randnla::sketch::tensor::Complex<f64>> = spec1
            .iter()
            .zip(&spec2)
            .map(|(a, b)| a * alpha + b * beta)
            .collect();
        let (i1, i2) = (ts.inverse(&spec1).unwrap(), ts.inverse(&spec2).unwrap());
        if let Some(i3) = log.ok(&ctx, ts.inverse(&comb)) {
            let b = fft_c
                * (2.0 / m as f64).sqrt()
                * (alpha.abs() * norm2(&cplx(&spec1)) + beta.abs() * norm2(&cplx(&spec2)))
                + U * (alpha.abs() * norm2(&i1) + beta.abs() * norm2(&i2));
            log.norm(&ctx, &i3, &lin_vec(alpha, &i1, beta, &i2), b);
        }
        // sketch_entries: 12 entries of a d×d×d tensor.
        let idx: Vec<usize> = (0..12 * p).map(|t| (t * 5 + t / 3) % d).collect();
        let (e1, e2) = (Rng(405).vec(12), Rng(406).vec(12));
        let ctx = format!("sketch_entries {tag}");
        let (k1, k2) = (
            ts.sketch_entries(&idx, &e1).unwrap(),
            ts.sketch_entries(&idx, &e2).unwrap(),
        );
        if let Some(k3) = log.ok(
            &ctx,
            ts.sketch_entries(&idx, &lin_vec(alpha, &e1, beta, &e2)),
        ) {
            let b = 3.0 * gamma(12 + 1) * (alpha.abs() * norm1(&e1) + beta.abs() * norm1(&e2));
            log.entries(
                &ctx,
                &k3,
                &lin_vec(alpha, &k1, beta, &k2),
                &vec![b; k3.len()],
            );
        }
    }
    log.finish();
}

/// `TensorSketches` building blocks: `tensor_sketch(m)` of `αT` is α times that of T (bucket
/// sums `γ_{nnz+1}·‖T‖₁` plus the FFT round trip, [`ts_tol`]`(p + 1, b)·‖T‖₁`),
/// `power_sketch(m, αu) = α^p·power_sketch(m, u)` and `rank_one_sketch` likewise
/// (`3·ts_tol(p, b)·|α|^p·‖u‖₁^p`), `estimates_all(αu) = α^p·estimates_all(u)` and
/// `estimates_but_one(αu) = α^{p−1}·…` (bounds of [`tensor_sketches_homogeneous`]).
#[test]
fn tensor_sketches_building_blocks_homogeneous() {
    let mut log = Log::new(
        "TensorSketches::{tensor_sketch, power_sketch, rank_one_sketch, estimates_all, estimates_but_one}",
    );
    let (order, dim, b) = (3usize, 7usize, 64usize);
    let (i1, v1) = tensor_parts(order, dim, 7);
    let t1 = tensor_from(order, dim, &i1, &v1, true);
    let t_l1 = abs_tensor(order, dim, &t1)
        .contract_all(&vec![1.0; dim], Par::Seq)
        .unwrap();
    let u = Rng(411).vec(dim);
    let ul1 = norm1(&u);
    let s0 = TensorSketches::new(&t1, 3, b, Seed::new(2), Par::Seq).unwrap();
    let tol_t = 3.0 * (ts_tol(order + 1, b) + gamma(v1.len() * 6 + 1));
    let tol_u = 3.0 * ts_tol(order, b);
    let p = order as i32;
    for alpha in [3.0f64, -1.0, 0.1] {
        let vals: Vec<f64> = v1.iter().map(|v| alpha * v).collect();
        let ta = tensor_from(order, dim, &i1, &vals, true);
        let ctx = format!("T→{alpha}T");
        if let Some(sa) = log.ok(&ctx, TensorSketches::new(&ta, 3, b, Seed::new(2), Par::Seq)) {
            for mm in 0..3 {
                let c = format!("{ctx} tensor_sketch({mm})");
                if let Some(got) = log.ok(&c, sa.tensor_sketch(mm)) {
                    let want = scale_vec(&s0.tensor_sketch(mm).unwrap(), alpha);
                    log.norm(
                        &c,
                        &got,
                        &want,
                        tol_t * alpha.abs() * t_l1 * (b as f64).sqrt(),
                    );
                }
            }
        }
        let ua = scale_vec(&u, alpha);
        for mm in 0..3 {
            type SkFn = fn(&TensorSketches, usize, &[f64]) -> randnla::Result<Vec<f64>>;
            let fs: [(&str, SkFn); 2] = [
                ("power_sketch", |s, m, x| s.power_sketch(m, x)),
                ("rank_one_sketch", |s, m, x| s.rank_one_sketch(m, x)),
            ];
            for (label, f) in fs {
                let c = format!("u→{alpha}u {label}({mm})");
                if let Some(got) = log.ok(&c, f(&s0, mm, &ua)) {
                    let want = scale_vec(&f(&s0, mm, &u).unwrap(), alpha.powi(p));
                    let bound = tol_u * (alpha.abs() * ul1).powi(p) * (b as f64).sqrt();
                    log.norm(&c, &got, &want, bound);
                }
            }
        }
        let scale_all = (tol_t + tol_u) * t_l1 * (alpha.abs() * ul1).powi(p);
        let c = format!("u→{alpha}u estimates_all");
        if let Some(got) = log.ok(&c, s0.estimates_all(&ua, Par::Seq)) {
            let want = scale_vec(&s0.estimates_all(&u, Par::Seq).unwrap(), alpha.powi(p));
            log.norm(&c, &got, &want, scale_all * (got.len() as f64).sqrt());
        }
        let c = format!("u→{alpha}u estimates_but_one");
        if let Some(got) = log.ok(&c, s0.estimates_but_one(&ua, Par::Seq)) {
            let got: Vec<f64> = got.into_iter().flatten().collect();
            let want: Vec<f64> = s0
                .estimates_but_one(&u, Par::Seq)
                .unwrap()
                .into_iter()
                .flatten()
                .map(|v| v * alpha.powi(p - 1))
                .collect();
            let bound = (tol_t + tol_u)
                * t_l1
                * (alpha.abs() * ul1).powi(p - 1)
                * (got.len() as f64).sqrt();
            log.norm(&c, &got, &want, bound);
        }
    }
    log.finish();
}

/// Sketched attention at p = 2 under `(Q, K) → (αQ, K/α)` (α = 3, −1, 0.1): `φ` is linear
/// (Gaussian `xG/√r`, CountSketch), so `⟨φ(αq), φ(k/α)⟩ = ⟨φ(q), φ(k)⟩` and the weights
/// `w = ⟨φ(q), φ(k)⟩²` are unchanged in exact arithmetic (the power-of-two balancing of the
/// factors is exact). With `m(x) = |x|·|Φ_I|` (see
/// [`poly_sketch_features_linear_and_homogeneous`]), each inner product moves by
/// `δ ≤ 3·γ_{h+r+2}·⟨m(q), m(k)⟩`, each weight by `(2|s| + δ)·δ` (|s| ≤ ⟨m(q), m(k)⟩), and the
/// output by [`attention_change_bound`]'s polynomial rule (`2·Σ_j Δw_ij·max|v|/(1 + Σ_j w_ij)`),
/// plus both outputs' rounding through the features (`2·γ_{n+F+3}·(|φ'(q)|·|φ'(K)|ᵀ|V|)/1`, as in
/// [`poly_sketch_attention_linear_in_v`]).
#[test]
fn poly_sketch_attention_balanced_scaling_p2() {
    let mut log = Log::new("poly_sketch_attention p = 2 ((αQ, K/α))");
    let (q, k, v, _) = qkv();
    let (n, h) = (q.nrows(), q.ncols());
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        for causal in [false, true] {
            let params = PolySketchParams {
                degree: 2,
                sketch_dim: 16,
                map,
                causal,
                block: 7,
                ..PolySketchParams::default()
            };
            let ps = PolySketch::new(h, 2, 16, map, params.seed).unwrap();
            let eye = Mat::from_fn(h, h, |i, j| if i == j { 1.0 } else { 0.0 });
            let phi_i = abs_mat(ps.features(eye.as_ref(), Par::Seq).unwrap().as_ref());
            let r = phi_i.ncols();
            let mq = matmul(abs_mat(q.as_ref()).as_ref(), phi_i.as_ref());
            let mk = matmul(abs_mat(k.as_ref()).as_ref(), phi_i.as_ref());
            let mm = matmul(mq.as_ref(), mk.transpose());
            let fq = abs_mat(ps.tensored_features(q.as_ref(), Par::Seq).unwrap().as_ref());
            let fk = abs_mat(ps.tensored_features(k.as_ref(), Par::Seq).unwrap().as_ref());
            let fdim = fq.ncols();
            let w = ps.weights(q.as_ref(), k.as_ref(), Par::Seq).unwrap();
            let vabs = abs_mat(v.as_ref());
            let round = matmul(fq.as_ref(), matmul(fk.transpose(), vabs.as_ref()).as_ref());
            let jmax = |i: usize| if causal { i + 1 } else { n };
            let mut bound = Vec::with_capacity(n * v.ncols());
            for l in 0..v.ncols() {
                let vm = (0..n).fold(0.0f64, |a, i| a.max(v[(i, l)].abs()));
                for i in 0..n {
                    let (mut dw, mut sw) = (0.0, 0.0);
                    for j in 0..jmax(i) {
                        let dl = 3.0 * gamma(h + r + 2) * mm[(i, j)];
                        dw += (2.0 * mm[(i, j)] + dl) * dl;
                        sw += w[(i, j)];
                    }
                    bound.push(
                        2.0 * dw * vm / (1.0 + sw) + 2.0 * gamma(n + fdim + 3) * round[(i, l)],
                    );
                }
            }
            let run = |x: &Mat<f64>, y: &Mat<f64>| {
                poly_sketch_attention(x.as_ref(), y.as_ref(), v.as_ref(), &params, Par::Seq)
                    .map(|r| r.0)
            };
            let o0 = run(&q, &k).unwrap();
            for alpha in [3.0f64, -1.0, 0.1] {
                let qa = Mat::from_fn(n, h, |i, j| alpha * q[(i, j)]);
                let ka = Mat::from_fn(n, h, |i, j| k[(i, j)] / alpha);
                let ctx = format!("{map:?} causal={causal} α={alpha}");
                if let Some(o1) = log.ok(&ctx, run(&qa, &ka)) {
                    log.entries(&ctx, &flat(o1.as_ref()), &flat(o0.as_ref()), &bound);
                }
            }
        }
    }
    log.finish();
}

/// The `f32` sketches (generic over `Scalar`: "an f32 sketch is the f64 sketch rounded"):
/// `S·(αA + βB) = α·SA + β·SB` in `f32` arithmetic, to `3·γ^{(32)}_{n+4}·|S|·(|α||A| + |β||B|)`
/// with `u₃₂ = 2⁻²⁴` (one more rounding for the entries of S themselves); |S| from the `f64`
/// operator's `to_dense`.
#[test]
fn f32_sketches_linear() {
    let mut log = Log::new("f32 SketchExt::apply (linear in A)");
    let u32r = (f32::EPSILON / 2.0) as f64;
    let g32 = |n: usize| (n as f64 * u32r) / (1.0 - n as f64 * u32r);
    let (n, d, m) = (70usize, 5usize, 24usize);
    let a = patterned(n, d, 1, 2);
    let b = patterned(n, d, 1, 3);
    let to32 = |x: &Mat<f64>| Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] as f32);
    let back = |x: &Mat<f32>| Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] as f64);
    let (a32, b32) = (to32(&a), to32(&b));
    for kind in [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: 4 },
        SketchKind::Gaussian,
        SketchKind::Srht,
    ] {
        let s64 = kind.build::<f64>(m, n, Seed::new(3)).unwrap();
        let s32 = kind.build::<f32>(m, n, Seed::new(3)).unwrap();
        let sd = abs_mat(s64.to_dense().unwrap().as_ref());
        let (sa, sb) = (
            back(
                &s32.apply(MatrixRef::dense(a32.as_ref()).unwrap(), Par::Seq)
                    .unwrap(),
            ),
            back(
                &s32.apply(MatrixRef::dense(b32.as_ref()).unwrap(), Par::Seq)
                    .unwrap(),
            ),
        );
        for (alpha, beta) in COEFS {
            let (af, bf) = (alpha as f32, beta as f32);
            let c32 = Mat::from_fn(n, d, |i, j| af * a32[(i, j)] + bf * b32[(i, j)]);
            let ctx = format!("{} α={alpha} β={beta}", kind.name());
            if let Some(sc) = log.ok(
                &ctx,
                s32.apply(MatrixRef::dense(c32.as_ref()).unwrap(), Par::Seq),
            ) {
                let mag = Mat::from_fn(n, d, |i, j| {
                    alpha.abs() * (a32[(i, j)] as f64).abs()
                        + beta.abs() * (b32[(i, j)] as f64).abs()
                });
                let bound: Vec<f64> = flat(matmul(sd.as_ref(), mag.as_ref()).as_ref())
                    .iter()
                    .map(|x| 3.0 * g32(n + 4) * x)
                    .collect();
                let want = flat(lin_mat(af as f64, &sa, bf as f64, &sb).as_ref());
                log.entries(&ctx, &flat(back(&sc).as_ref()), &want, &bound);
            }
        }
    }
    log.finish();
}

/// `power_method_on_sketches` on `TensorSketches` of `αT` (α = 3, −1, 0.1) against those of T,
/// and `TensorSketches::deflate(α·w, a)` on the sketches of `αT` against α times the deflated
/// sketches of T. Power method: the weight/factor rule and tolerance of
/// [`power_method_homogeneous`] (sketched). Deflation subtracts the sketch of `w·a^{⊗p}`
/// (bucket magnitudes ≤ `|w|·‖a‖₁^p`) through the spectra: `3·ts_tol(p + 1, b)·|α|·(‖T‖₁ +
/// |w|·‖a‖₁^p)` normwise over a sketch (×√b).
#[test]
fn power_method_on_sketches_and_deflate_homogeneous() {
    use randnla::tensor::power_method_on_sketches;
    let mut log = Log::new("power_method_on_sketches / TensorSketches::deflate (T → αT)");
    let (order, dim, b) = (3usize, 6usize, 128usize);
    let (t, w, f) =
        SymmetricTensor::synthetic_orthogonal(order, dim, 2, 0.0, Seed::new(17)).unwrap();
    let (idx, vals) = common::unique_entries(&t);
    let lmin = w.iter().fold(f64::INFINITY, |a, b| a.min(b.abs()));
    let npow = dim.pow(order as u32);
    let tol = 4.0 * ts_tol(order, b) * (npow as f64).sqrt() * t.norm() / lmin;
    let mk = |alpha: f64| {
        let v: Vec<f64> = vals.iter().map(|x| alpha * x).collect();
        tensor_from(order, dim, &idx, &v, true)
    };
    let t_l1 = abs_tensor(order, dim, &mk(1.0))
        .contract_all(&vec![1.0; dim], Par::Seq)
        .unwrap();
    let sp = SketchParams {
        sketches: 3,
        sketch_dim: b,
        ..SketchParams::default()
    };
    let sk = |alpha: f64| TensorSketches::new(&mk(alpha), 3, b, Seed::new(2), Par::Seq);
    let s0 = sk(1.0).unwrap();
    let d0 = power_method_on_sketches(s0.clone(), 2, &sp, Seed::new(1), Par::Seq).unwrap();
    let mut def0 = s0.clone();
    def0.deflate(w[0], &f[0], Par::Seq).unwrap();
    let dtol = 3.0 * ts_tol(order + 1, b) * (t_l1 + w[0].abs() * norm1(&f[0]).powi(order as i32));
    for alpha in [3.0f64, -1.0, 0.1] {
        let ctx = format!("α={alpha}");
        let Some(sa) = log.ok(&ctx, sk(alpha)) else {
            continue;
        };
        if let Some(dd) = log.ok(
            &ctx,
            power_method_on_sketches(sa.clone(), 2, &sp, Seed::new(1), Par::Seq),
        ) {
            let want_w = scale_vec(&d0.weights, alpha.abs());
            let wb: Vec<f64> = want_w.iter().map(|x| tol * x.abs().max(lmin)).collect();
            log.entries(&format!("{ctx} weights"), &dd.weights, &want_w, &wb);
            for (j, (fa, f0)) in dd.factors.iter().zip(&d0.factors).enumerate() {
                let sgn = if alpha < 0.0 { -1.0 } else { 1.0 };
                log.norm(&format!("{ctx} factor {j}"), fa, &scale_vec(f0, sgn), tol);
            }
        }
        let mut da = sa.clone();
        if log
            .ok(&ctx, da.deflate(alpha * w[0], &f[0], Par::Seq))
            .is_some()
        {
            for mm in 0..3 {
                let c = format!("{ctx} deflate tensor_sketch({mm})");
                if let Some(got) = log.ok(&c, da.tensor_sketch(mm)) {
                    let want = scale_vec(&def0.tensor_sketch(mm).unwrap(), alpha);
                    log.norm(&c, &got, &want, dtol * alpha.abs() * (b as f64).sqrt());
                }
            }
        }
    }
    log.finish();
}

/// `row_norm_weights(αA) = α²·row_norm_weights(A)` (α = 3, −1, 0.1; entrywise
/// `3·γ_{d+3}·α²·w_i`: d squares summed, the rounding of αA), and row sampling with weights
/// `c·w` (c = 3, 0.1) draws the same rows with the same scales: `p_i = c·w_i/Σ c·w` is `w_i/Σw`
/// up to `γ_{n+2}` relative, which changes a draw only if a uniform variate falls within that
/// distance of a boundary (probability ≈ m·n·γ_n < 10⁻¹⁰ here); the scales `1/√(m·p_i)` (or
/// `1/√min(1, m·p_i)`) within `γ_{n+4}` relative, twice.
#[test]
fn row_norm_weights_and_sampling_homogeneous() {
    let mut log = Log::new("row_norm_weights / RowSampling (weights → c·w)");
    let (n, d) = (90usize, 5usize);
    let a = patterned(n, d, 501, 502);
    let w0 = row_norm_weights(MatrixRef::dense(a.as_ref()).unwrap()).unwrap();
    for alpha in [3.0f64, -1.0, 0.1] {
        let aa = Mat::from_fn(n, d, |i, j| alpha * a[(i, j)]);
        for (label, inp) in [
            ("dense", Input::Dense(aa.clone())),
            ("csr", Input::Sparse(csr_of(&aa))),
        ] {
            let ctx = format!("row_norm_weights {label} α={alpha}");
            if let Some(w) = log.ok(&ctx, row_norm_weights(inp.view())) {
                let want = scale_vec(&w0, alpha * alpha);
                let bound: Vec<f64> = want.iter().map(|v| 3.0 * gamma(d + 3) * v).collect();
                log.entries(&ctx, &w, &want, &bound);
            }
        }
    }
    let m = 30;
    let b1 = RowSampling::with_replacement(&w0, m, Seed::new(7)).unwrap();
    let b2 = RowSampling::bernoulli(&w0, m, Seed::new(7)).unwrap();
    for c in [3.0f64, 0.1] {
        let wc = scale_vec(&w0, c);
        for (label, base, got) in [
            (
                "with_replacement",
                &b1,
                RowSampling::with_replacement(&wc, m, Seed::new(7)),
            ),
            (
                "bernoulli",
                &b2,
                RowSampling::bernoulli(&wc, m, Seed::new(7)),
            ),
        ] {
            let ctx = format!("{label} c={c}");
            if let Some(sm) = log.ok(&ctx, got) {
                if sm.rows() != base.rows() {
                    log.fail(&ctx, "rows differ".into());
                    continue;
                }
                let bound: Vec<f64> = base
                    .scales()
                    .iter()
                    .map(|v| 2.0 * gamma(n + 4) * v.abs())
                    .collect();
                log.entries(&ctx, sm.scales(), base.scales(), &bound);
            }
        }
    }
    log.finish();
}
