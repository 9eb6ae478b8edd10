//! Scale covariance review: every public numerical entry point against its exact transformation
//! law under scaling by `c = 2^k`, `k ∈ {−900, −500, −200, −60, 60, 200, 500, 900}`.
//!
//! Multiplying by a power of two is exact in `f64` as long as the result stays normal, so a law
//! such as `S·(cA) = c·S·A` or `x(cA, b) = x(A, b)/c` can be checked against the `k = 0` answer:
//! bitwise where the scaled computation is the unscaled one with every intermediate multiplied by
//! a power of two (linear maps: sketches, products), otherwise to a relative (normwise) tolerance
//! stated where it is used. A `k` is skipped where the law's own answer, or an input the law
//! needs (a ridge `c²λ`, a right-hand side `c'b`), leaves the normal `f64` range; the skip is
//! said where it happens. Besides the law, each check refuses an `Err`, a NaN/±∞, and a zero
//! where the expected entry is a normal number.
//!
//! Inputs are small and well-conditioned (`κ(A) ≤ 3` for the dense and sparse test matrices),
//! dense and CSR.
//!
//! Three laws failed when this file was written (session 38) and are fixed:
//! `poly_kernel_error_invariant` (`kernel_error` returned `Ok(0)` for `X·2⁻⁵⁰⁰`, 1a58856),
//! `causal_squared_product_balanced_scaling` and `poly_sketch_attention_balanced_scaling`
//! (`(2^±900·A, 2^∓900·B)` refused as overflowing though every `⟨a_i, b_j⟩` is unchanged; the
//! factors are now balanced by a power of two, `attention::balancing_shift`).

use crate::common;
use common::log::Log;
use common::{dense_mat, exact_methods, factors_flat, flat, Rng};

use faer::{Mat, Par};
use randnla::active::{
    weighted_least_squares, Basis, Budgeted, Learner, Pool, SliceOracle, Strategy,
};
use randnla::attention::{
    causal_product, causal_squared_product, exact_attention, poly_sketch_attention, relative_error,
    ExactParams as AttnParams, FeatureMap, Kernel, PolySketch, PolySketchParams,
};
use randnla::diagnostics::{
    condition_number, distortion_on_range, gram, orthonormal_basis, RangeBasis,
};
use randnla::leverage::{
    approx_leverage_scores, approx_ridge_leverage_scores, exact_leverage_scores,
    exact_ridge_leverage_scores, statistical_dimension, ApproxParams, ExactMethod, ExactParams,
};
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, solve_p3, InnerSolve, KernelParams};
use randnla::lstsq::{
    lsqr, normal_equation_residual, normal_equations, qr_solve, ridge,
    ridge_normal_equation_residual, sketch_and_precondition, sketch_and_precondition_multi,
    sketch_and_solve, sketch_and_solve_with, Factorization, LsqrParams, LstsqParams,
    SketchSolveParams,
};
use randnla::sketch::sampling::{row_norm_weights, RowSampling};
use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams, TensorSketch, TreeSketch};
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
use randnla::tensor::{
    power_method_exact, power_method_sketched, residual_rel, PowerParams, SketchParams,
    SymmetricTensor, TensorSketches,
};
use randnla::{MatrixRef, Seed};

const KS: [i32; 8] = [-900, -500, -200, -60, 60, 200, 500, 900];

/// Two runs of the same backward-stable computation on data that differ by a power of two, where
/// the code does not follow exactly the same path (a power-of-two rescaling chosen from the
/// data, a norm routine with scaling thresholds): their answers differ by rounding alone, bounded
/// by about `n·d·κ·u ≈ 60·5·3·1.1·10⁻¹⁶ ≈ 10⁻¹³` (normwise) for the inputs here; `10⁻¹²` leaves a
/// factor of ten for the constants. Iterative solvers run at `tol = 10⁻¹⁴` have forward errors
/// `≲ (κ + κ²·‖r‖/(‖A‖‖x‖))·tol ≈ 6·10⁻¹⁴` each, also within it.
const ROUNDING: f64 = 1e-12;

/// `2^e` exactly (normal range only).
fn p2(e: i32) -> f64 {
    assert!((-1022..=1023).contains(&e), "2^{e} is not a normal f64");
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// Whether `2^e` is a normal `f64` with some headroom (the answers scaled by it have entries up to
/// about 2⁶ and down to about 2⁻²⁰ here).
fn fits(e: i32) -> bool {
    (-1000..=1000).contains(&e)
}

/// `n × d` CSR with the `d × d` block `1.5·I + small` spread over the rows and two more entries per
/// row: full rank, `κ ≤ 3`.
fn sparse_mat(n: usize, d: usize, seed: u64) -> sprs::CsMat<f64> {
    let mut r = Rng(seed);
    let mut tri = sprs::TriMat::new((n, d));
    for i in 0..n {
        let c0 = i % d;
        tri.add_triplet(i, c0, 1.0 + 0.5 * r.next());
        let c1 = (c0 + 1 + (i / d) % (d - 1)) % d;
        tri.add_triplet(i, c1, 0.5 * r.next());
    }
    tri.to_csr()
}

/// A dense matrix, or a sparse one (CSR or CSC: `Csr` holds either storage).
#[derive(Clone)]
enum Input {
    Dense(Mat<f64>),
    Csr(sprs::CsMat<f64>),
}

impl Input {
    fn view(&self) -> MatrixRef<'_, f64> {
        match self {
            Input::Dense(m) => MatrixRef::dense(m.as_ref()).unwrap(),
            Input::Csr(m) => MatrixRef::sparse(m).unwrap(),
        }
    }
    fn scaled(&self, e: i32) -> Input {
        let c = p2(e);
        match self {
            Input::Dense(m) => {
                Input::Dense(Mat::from_fn(m.nrows(), m.ncols(), |i, j| c * m[(i, j)]))
            }
            Input::Csr(m) => Input::Csr(m.map(|v| c * v)),
        }
    }
    fn nrows(&self) -> usize {
        self.view().nrows()
    }
    fn ncols(&self) -> usize {
        self.view().ncols()
    }
    fn to_dense(&self) -> Mat<f64> {
        self.view().to_dense().unwrap()
    }
}

/// The least-squares test matrices: dense 60 × 5 uniform (κ ≈ 1.6), CSR 80 × 6 (κ ≈ 2), and
/// CSC storage of the sparse one too (other kernels: the CSC sketch, the CSR copy of the
/// leverage and kernel routes).
fn inputs() -> Vec<(&'static str, Input)> {
    vec![
        ("dense 60x5", Input::Dense(dense_mat(60, 5, 11))),
        ("csr 80x6", Input::Csr(sparse_mat(80, 6, 12))),
        ("csc 80x6", Input::Csr(sparse_mat(80, 6, 12).to_csc())),
    ]
}

fn scale(v: &[f64], e: i32) -> Vec<f64> {
    let c = p2(e);
    v.iter().map(|x| c * x).collect()
}

fn scale_mat(m: &Mat<f64>, e: i32) -> Mat<f64> {
    let c = p2(e);
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| c * m[(i, j)])
}

// ---------------------------------------------------------------------------------------------
// Sketches: S·(cA) = c·(S·A), (cA)·Sᵀ = c·(A·Sᵀ), bitwise (a linear map whose every product and
// sum is scaled by the same power of two). All k: |S·A| ≲ 2⁵ and ≳ 2⁻³⁰ here, so c·(S·A) is normal
// for every k in KS.
// ---------------------------------------------------------------------------------------------

fn sketch_list(m: usize, n: usize, a: &Input) -> Vec<Box<dyn SketchOperator<f64>>> {
    let mut v = common::all_sketches(m, n, Seed::new(3));
    v.push(Box::new(RowSampling::uniform(n, m, Seed::new(4)).unwrap()));
    let w = row_norm_weights(a.view()).unwrap();
    v.push(Box::new(
        RowSampling::with_replacement(&w, m, Seed::new(5)).unwrap(),
    ));
    v.push(Box::new(
        RowSampling::bernoulli(&w, m, Seed::new(6)).unwrap(),
    ));
    v
}

#[test]
fn sketch_apply_is_linear_in_scale() {
    let mut log = Log::new("SketchExt::apply / apply_right / apply_vec");
    for (name, a) in inputs() {
        let n = a.nrows();
        for s in sketch_list(20, n, &a) {
            let base = s.apply(a.view(), Par::Seq).unwrap();
            let at = a.to_dense().transpose().to_owned();
            let base_r = s
                .apply_right(MatrixRef::dense(at.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            let col0: Vec<f64> = (0..n).map(|i| a.to_dense()[(i, 0)]).collect();
            let base_v = s.apply_vec(&col0).unwrap();
            for k in KS {
                let ctx = format!("{name} {} k={k}", s.name());
                let ak = a.scaled(k);
                if let Some(got) = log.ok(&ctx, s.apply(ak.view(), Par::Seq)) {
                    log.bits(&ctx, &flat(got.as_ref()), &scale(&flat(base.as_ref()), k));
                }
                let akt = ak.to_dense().transpose().to_owned();
                let r = s.apply_right(MatrixRef::dense(akt.as_ref()).unwrap(), Par::Seq);
                if let Some(got) = log.ok(&format!("{ctx} right"), r) {
                    log.bits(
                        &format!("{ctx} right"),
                        &flat(got.as_ref()),
                        &scale(&flat(base_r.as_ref()), k),
                    );
                }
                if let Some(got) = log.ok(&ctx, s.apply_vec(&scale(&col0, k))) {
                    log.bits(&format!("{ctx} vec"), &got, &scale(&base_v, k));
                }
            }
        }
    }
    log.finish();
}

/// `row_norm_weights(cA) = c²·w` bitwise; only |k| ≤ 500: at ±900 the weights `2^±1800·w` leave
/// the `f64` range (the refusal there is documented).
#[test]
fn row_norm_weights_scale_by_c_squared() {
    let mut log = Log::new("row_norm_weights");
    for (name, a) in inputs() {
        let base = row_norm_weights(a.view()).unwrap();
        for k in KS.into_iter().filter(|k| fits(2 * k)) {
            let ctx = format!("{name} k={k}");
            if let Some(w) = log.ok(&ctx, row_norm_weights(a.scaled(k).view())) {
                log.bits(&ctx, &w, &scale(&base, 2 * k));
            }
        }
    }
    log.finish();
}

/// Row sampling with weights `c·w`: the same rows and scales, bitwise (`p_i = w_i/Σw`). All k.
#[test]
fn row_sampling_invariant_under_weight_scale() {
    let mut log = Log::new("RowSampling::{with_replacement, bernoulli}");
    let w: Vec<f64> = Rng(7).vec(100).iter().map(|v| v.abs() + 0.1).collect();
    let b1 = RowSampling::with_replacement(&w, 30, Seed::new(1)).unwrap();
    let b2 = RowSampling::bernoulli(&w, 30, Seed::new(1)).unwrap();
    for k in KS {
        let wk = scale(&w, k);
        for (label, base, got) in [
            (
                "with_replacement",
                &b1,
                RowSampling::with_replacement(&wk, 30, Seed::new(1)),
            ),
            (
                "bernoulli",
                &b2,
                RowSampling::bernoulli(&wk, 30, Seed::new(1)),
            ),
        ] {
            let ctx = format!("{label} k={k}");
            if let Some(s) = log.ok(&ctx, got) {
                if s.rows() != base.rows() {
                    log.fail(&ctx, "rows differ".into());
                }
                log.bits(&ctx, s.scales(), base.scales());
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Leverage scores: τ(cA) = τ(A); ridge τ(cA, c²λ) = τ(A, λ) (|k| ≤ 500: c²λ must be a normal
// number, λ = 0.75); statistical dimension likewise. Tolerance ROUNDING.
// ---------------------------------------------------------------------------------------------

#[test]
fn exact_leverage_scores_invariant() {
    let mut log = Log::new("exact_leverage_scores");
    for (name, a) in inputs() {
        for (mname, p) in exact_methods() {
            let (base, info0) = exact_leverage_scores(a.view(), &p, Par::Seq).unwrap();
            for k in KS {
                let ctx = format!("{name} {mname} k={k}");
                if let Some((s, info)) = log.ok(
                    &ctx,
                    exact_leverage_scores(a.scaled(k).view(), &p, Par::Seq),
                ) {
                    log.close(&ctx, &s, &base, ROUNDING);
                    if info.rank != info0.rank {
                        log.fail(&ctx, format!("rank {} vs {}", info.rank, info0.rank));
                    }
                }
            }
        }
    }
    log.finish();
}

#[test]
fn exact_ridge_leverage_scores_invariant() {
    let mut log = Log::new("exact_ridge_leverage_scores / statistical_dimension");
    let lambda = 0.75;
    for (name, a) in inputs() {
        let sd0 = statistical_dimension(a.view(), lambda, Par::Seq).unwrap();
        for (mname, p) in exact_methods() {
            let (base, _) = exact_ridge_leverage_scores(a.view(), lambda, &p, Par::Seq).unwrap();
            for k in KS.into_iter().filter(|k| fits(2 * k)) {
                let ctx = format!("{name} {mname} k={k}");
                let lk = lambda * p2(2 * k);
                let r = exact_ridge_leverage_scores(a.scaled(k).view(), lk, &p, Par::Seq);
                if let Some((s, _)) = log.ok(&ctx, r) {
                    log.close(&ctx, &s, &base, ROUNDING);
                }
            }
        }
        for k in KS.into_iter().filter(|k| fits(2 * k)) {
            let ctx = format!("{name} statistical_dimension k={k}");
            let lk = lambda * p2(2 * k);
            if let Some(sd) = log.ok(
                &ctx,
                statistical_dimension(a.scaled(k).view(), lk, Par::Seq),
            ) {
                log.close1(&ctx, sd, sd0, ROUNDING);
            }
        }
    }
    log.finish();
}

#[test]
fn approx_leverage_scores_invariant() {
    let mut log = Log::new("approx_leverage_scores / approx_ridge_leverage_scores");
    let p = ApproxParams::default();
    let lambda = 0.75;
    for (name, a) in inputs() {
        let (base, _) = approx_leverage_scores(a.view(), &p, Seed::new(9), Par::Seq).unwrap();
        let (rbase, _) =
            approx_ridge_leverage_scores(a.view(), lambda, &p, Seed::new(9), Par::Seq).unwrap();
        for k in KS {
            let ctx = format!("{name} k={k}");
            let ak = a.scaled(k);
            let r = approx_leverage_scores(ak.view(), &p, Seed::new(9), Par::Seq);
            if let Some((s, _)) = log.ok(&ctx, r) {
                log.close(&ctx, &s, &base, ROUNDING);
            }
            if fits(2 * k) {
                let ctx = format!("{ctx} ridge");
                let lk = lambda * p2(2 * k);
                let r = approx_ridge_leverage_scores(ak.view(), lk, &p, Seed::new(9), Par::Seq);
                if let Some((s, _)) = log.ok(&ctx, r) {
                    log.close(&ctx, &s, &rbase, ROUNDING);
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Least squares: x(cA, b) = x(A, b)/c and x(A, cb) = c·x(A, b) for every k (x has entries
// 2^−4..2^4 here); ridge x(cA, b, c²λ) = x(A, b, λ)/c for |k| ≤ 500 (c²λ normal). Tolerance
// ROUNDING (κ ≤ 3; see its comment).
// ---------------------------------------------------------------------------------------------

/// The learners' importance weights and fit.
type Selection = (Vec<(usize, f64)>, Vec<f64>);

type Solve = fn(MatrixRef<'_, f64>, &[f64], f64) -> randnla::Result<Vec<f64>>;

fn rhs(a: &Input) -> Vec<f64> {
    let ad = a.to_dense();
    let z = Rng(21).vec(a.ncols());
    let noise = Rng(22).vec(a.nrows());
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| ad[(i, j)] * z[j]).sum::<f64>() + 0.1 * noise[i])
        .collect()
}

fn check_solver(what: &'static str, f: Solve, with_ridge: bool) {
    let mut log = Log::new(what);
    let lambda = 0.75;
    for (name, a) in inputs() {
        let b = rhs(&a);
        let x0 = f(a.view(), &b, 0.0).unwrap();
        let xr0 = if with_ridge {
            Some(f(a.view(), &b, lambda).unwrap())
        } else {
            None
        };
        for k in KS {
            let ak = a.scaled(k);
            let ctx = format!("{name} A→2^{k}A");
            if let Some(x) = log.ok(&ctx, f(ak.view(), &b, 0.0)) {
                log.close(&ctx, &x, &scale(&x0, -k), ROUNDING);
            }
            let ctx = format!("{name} b→2^{k}b");
            if let Some(x) = log.ok(&ctx, f(a.view(), &scale(&b, k), 0.0)) {
                log.close(&ctx, &x, &scale(&x0, k), ROUNDING);
            }
            // Both large (or both small): x unchanged, while Aᵀb and the residual are c² and c
            // times the unscaled ones.
            let bk = scale(&b, k);
            let ctx = format!("{name} (2^{k}A, 2^{k}b)");
            if let Some(x) = log.ok(&ctx, f(ak.view(), &bk, 0.0)) {
                log.close(&ctx, &x, &x0, ROUNDING);
            }
            if fits(2 * k) {
                let ctx = format!("{name} (2^{k}A, 2^{}b)", -k);
                if let Some(x) = log.ok(&ctx, f(ak.view(), &scale(&b, -k), 0.0)) {
                    log.close(&ctx, &x, &scale(&x0, -2 * k), ROUNDING);
                }
            }
            if let Some(xr0) = &xr0 {
                // λ fixed, b → cb: x → c·x (all k).
                let ctx = format!("{name} ridge b→2^{k}b");
                if let Some(x) = log.ok(&ctx, f(a.view(), &bk, lambda)) {
                    log.close(&ctx, &x, &scale(xr0, k), ROUNDING);
                }
                if fits(2 * k) {
                    let ctx = format!("{name} ridge A→2^{k}A, λ→2^{}λ", 2 * k);
                    if let Some(x) = log.ok(&ctx, f(ak.view(), &b, lambda * p2(2 * k))) {
                        log.close(&ctx, &x, &scale(xr0, -k), ROUNDING);
                    }
                    let ctx = format!("{name} ridge (2^{k}A, 2^{k}b, 2^{}λ)", 2 * k);
                    if let Some(x) = log.ok(&ctx, f(ak.view(), &bk, lambda * p2(2 * k))) {
                        log.close(&ctx, &x, xr0, ROUNDING);
                    }
                }
            }
        }
    }
    log.finish();
}

fn qr_solve_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    qr_solve(a, b, l, Par::Seq)
}
fn normal_equations_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    normal_equations(a, b, l, Par::Seq)
}
fn lsqr_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    let p = LsqrParams {
        tol: 1e-14,
        max_iters: 2000,
        ridge: l,
        ..LsqrParams::default()
    };
    let (x, info) = lsqr(a, b, &p)?;
    assert!(info.converged, "lsqr did not converge");
    Ok(x)
}
fn sketch_and_solve_f(a: MatrixRef<'_, f64>, b: &[f64], _l: f64) -> randnla::Result<Vec<f64>> {
    Ok(sketch_and_solve(a, b, &SketchSolveParams::default())?.0)
}
fn sketch_and_solve_with_f(a: MatrixRef<'_, f64>, b: &[f64], _l: f64) -> randnla::Result<Vec<f64>> {
    let s = SketchKind::Gaussian.build::<f64>(30, a.nrows(), Seed::new(8))?;
    Ok(sketch_and_solve_with(a, b, &*s, Par::Seq)?.0)
}
fn sap(a: MatrixRef<'_, f64>, b: &[f64], p: LstsqParams) -> randnla::Result<Vec<f64>> {
    let (x, info) = sketch_and_precondition(a, b, &p)?;
    assert!(info.converged, "not converged");
    Ok(x)
}
fn sap_default_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    sap(
        a,
        b,
        LstsqParams {
            ridge: l,
            ..LstsqParams::default()
        },
    )
}
fn sap_noprobe_qr_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    sap(
        a,
        b,
        LstsqParams {
            ridge: l,
            probe: false,
            factorization: Factorization::Qr,
            ..LstsqParams::default()
        },
    )
}
fn sap_noprobe_svd_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    sap(
        a,
        b,
        LstsqParams {
            ridge: l,
            probe: false,
            factorization: Factorization::Svd,
            ..LstsqParams::default()
        },
    )
}
fn ridge_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    let (x, info) = ridge(a, b, l, &LstsqParams::default())?;
    assert!(info.converged, "not converged");
    Ok(x)
}
/// Two right-hand sides `[b, b/2]`: both columns must follow the law; the first is returned
/// after checking that the second is half of it to rounding.
fn multi_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    let bm = Mat::from_fn(b.len(), 2, |i, j| if j == 0 { b[i] } else { b[i] * 0.5 });
    let p = LstsqParams {
        ridge: l,
        ..LstsqParams::default()
    };
    let (x, infos) = sketch_and_precondition_multi(a, bm.as_ref(), &p)?;
    assert!(infos.iter().all(|i| i.converged), "not converged");
    let mut v: Vec<f64> = (0..x.nrows()).map(|i| x[(i, 0)]).collect();
    v.extend((0..x.nrows()).map(|i| 2.0 * x[(i, 1)]));
    Ok(v)
}

#[test]
fn qr_solve_scale_laws() {
    check_solver("qr_solve", qr_solve_f, true);
}
#[test]
fn normal_equations_scale_laws() {
    check_solver("normal_equations", normal_equations_f, true);
}
#[test]
fn lsqr_scale_laws() {
    check_solver("lsqr", lsqr_f, true);
}
#[test]
fn sketch_and_solve_scale_laws() {
    check_solver("sketch_and_solve", sketch_and_solve_f, false);
}
#[test]
fn sketch_and_solve_with_scale_laws() {
    check_solver("sketch_and_solve_with", sketch_and_solve_with_f, false);
}
#[test]
fn sketch_and_precondition_default_scale_laws() {
    check_solver("sketch_and_precondition (probe)", sap_default_f, true);
}
#[test]
fn sketch_and_precondition_qr_scale_laws() {
    check_solver(
        "sketch_and_precondition (no probe, QR)",
        sap_noprobe_qr_f,
        true,
    );
}
#[test]
fn sketch_and_precondition_svd_scale_laws() {
    check_solver(
        "sketch_and_precondition (no probe, SVD)",
        sap_noprobe_svd_f,
        true,
    );
}
#[test]
fn ridge_scale_laws() {
    check_solver("ridge", ridge_f, true);
}
#[test]
fn sketch_and_precondition_multi_scale_laws() {
    check_solver("sketch_and_precondition_multi", multi_f, true);
}

/// The normal-equation residual figure is invariant under `(A, x, b) → (cA, x/c, b)` and
/// `(A, x, b) → (A, cx, cb)` (documented for the latter); ridge with `λ → c²λ` under the first
/// (|k| ≤ 500). `x` is the least-squares solution perturbed by 10⁻³ so the figure is not
/// rounding noise. Tolerance ROUNDING (30 Golub–Kahan steps, the same start, κ ≤ 3).
#[test]
fn normal_equation_residual_invariant() {
    let mut log = Log::new("normal_equation_residual / ridge_normal_equation_residual");
    let lambda = 0.75;
    for (name, a) in inputs() {
        let b = rhs(&a);
        let mut x = qr_solve(a.view(), &b, 0.0, Par::Seq).unwrap();
        x[0] += 1e-3;
        let r0 = normal_equation_residual(a.view(), &x, &b, Par::Seq).unwrap();
        let rr0 = ridge_normal_equation_residual(a.view(), &x, &b, lambda, Par::Seq).unwrap();
        for k in KS {
            let ak = a.scaled(k);
            let ctx = format!("{name} (2^{k}A, x/2^{k}, b)");
            let xk = scale(&x, -k);
            if let Some(r) = log.ok(&ctx, normal_equation_residual(ak.view(), &xk, &b, Par::Seq)) {
                log.close1(&ctx, r, r0, ROUNDING);
            }
            let ctx = format!("{name} (A, 2^{k}x, 2^{k}b)");
            let r = normal_equation_residual(a.view(), &scale(&x, k), &scale(&b, k), Par::Seq);
            if let Some(r) = log.ok(&ctx, r) {
                log.close1(&ctx, r, r0, ROUNDING);
            }
            if fits(2 * k) {
                let ctx = format!("{name} ridge (2^{k}A, x/2^{k}, b, 2^{}λ)", 2 * k);
                let lk = lambda * p2(2 * k);
                let r = ridge_normal_equation_residual(ak.view(), &xk, &b, lk, Par::Seq);
                if let Some(r) = log.ok(&ctx, r) {
                    log.close1(&ctx, r, rr0, ROUNDING);
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Kernel regression.
// P1: (AᵀA)ʲx = b, so x(cA, c'b) = c'·c^{−2j}·x(A, b).
// P2: A(AᵀA)ʲx ≈ b, so x(cA, c'b) = c'·c^{−(2j+1)}·x(A, b).
// For each k the right-hand side is scaled by the c' = 2^{e'} that keeps the answer's exponent
// within ±900; a k where that needs |e'| > 1000 (b itself out of range) is skipped.
// P3: exp(AAᵀ)x = b: only b scales, x(A, c'b) = c'·x(A, b), all k.
// Tolerance: both runs meet `‖residual‖ ≤ tol·‖b‖` (P1, P3) or `≤ OPT + tol·‖b‖` (P2, b nearly
// in range(A)), so each is within `κ(op)·tol` (P2: plus the least-squares stage's error, amplified
// by κ^{2j}) of the exact answer: the pass rule is 4·κ(A)^{2j+2}·max(tol, lstsq.tol) + ROUNDING,
// with κ(A) measured; for P3, 4·κ(exp(AAᵀ))·tol + ROUNDING.
// ---------------------------------------------------------------------------------------------

/// (exponent of b's scale, or None to skip) for an answer exponent `needed` without it.
fn rhs_exponent(needed: i32) -> Option<i32> {
    let t = needed.clamp(-900, 900);
    let e = t - needed;
    (e.abs() <= 1000).then_some(e)
}

fn kernel_params(inner: InnerSolve) -> KernelParams {
    KernelParams {
        tol: 1e-12,
        inner_solve: inner,
        ..KernelParams::default()
    }
}

fn check_p12(what: &'static str, p2_problem: bool, inner: InnerSolve) {
    let mut log = Log::new(what);
    let params = kernel_params(inner);
    for (name, a) in inputs() {
        let kappa = condition_number(a.to_dense().as_ref()).unwrap();
        let js: &[usize] = if p2_problem { &[1, 2] } else { &[1, 2, 3] };
        for &j in js {
            let deg = if p2_problem {
                2 * j as i32 + 1
            } else {
                2 * j as i32
            };
            let bound =
                4.0 * kappa.powi(2 * j as i32 + 2) * params.tol.max(params.lstsq.tol) + ROUNDING;
            let b = if p2_problem {
                rhs(&a)
            } else {
                Rng(31).vec(a.ncols()).iter().map(|v| v + 2.0).collect()
            };
            let solve = |m: MatrixRef<'_, f64>, b: &[f64]| {
                if p2_problem {
                    solve_p2(m, j, b, &params)
                } else {
                    solve_p1(m, j, b, &params)
                }
            };
            let (x0, _) = solve(a.view(), &b).unwrap();
            for k in KS {
                // b alone: x → c·x (all k).
                let ctx = format!("{name} j={j} b→2^{k}b");
                if let Some((x, _)) = log.ok(&ctx, solve(a.view(), &scale(&b, k))) {
                    log.close(&ctx, &x, &scale(&x0, k), bound);
                }
                let needed = -deg * k;
                let Some(e) = rhs_exponent(needed) else {
                    // x(2^k A, ·) = 2^{needed}·x: no representable b brings it into range.
                    continue;
                };
                let ctx = format!("{name} j={j} A→2^{k}A, b→2^{e}b");
                let r = solve(a.scaled(k).view(), &scale(&b, e));
                if let Some((x, info)) = log.ok(&ctx, r) {
                    log.close(&ctx, &x, &scale(&x0, needed + e), bound);
                    if !info.relative_residual.is_finite() || info.relative_residual > 1.0 {
                        log.fail(
                            &ctx,
                            format!("relative_residual {}", info.relative_residual),
                        );
                    }
                }
            }
        }
    }
    log.finish();
}

#[test]
fn kernel_p1_auto_scale_laws() {
    check_p12("solve_p1 (Auto)", false, InnerSolve::Auto);
}
#[test]
fn kernel_p1_cg_scale_laws() {
    check_p12("solve_p1 (Cg)", false, InnerSolve::Cg);
}
#[test]
fn kernel_p2_auto_scale_laws() {
    check_p12("solve_p2 (Auto)", true, InnerSolve::Auto);
}
#[test]
fn kernel_p2_cg_scale_laws() {
    check_p12("solve_p2 (Cg)", true, InnerSolve::Cg);
}

fn check_p3(what: &'static str, inner: InnerSolve) {
    let mut log = Log::new(what);
    // The default tol = 10⁻¹⁰: P3 certifies its residual together with the rounding of the
    // formed exp(AAᵀ), which 10⁻¹² does not leave room for (NotConverged at k = 0).
    let params = KernelParams {
        inner_solve: inner,
        ..KernelParams::default()
    };
    // 8 × 3 rows with entries in [−1.5, 1.5]: rows far enough apart that exp(AAᵀ) is well
    // enough conditioned for the bound to mean something (κ asserted below).
    let ad = dense_mat(8, 3, 41);
    let ad = Mat::from_fn(8, 3, |i, j| 1.5 * ad[(i, j)]);
    let e = Mat::from_fn(8, 8, |i, l| {
        (0..3).map(|t| ad[(i, t)] * ad[(l, t)]).sum::<f64>().exp()
    });
    let kappa = condition_number(e.as_ref()).unwrap();
    let bound = 4.0 * kappa * params.tol + ROUNDING;
    eprintln!("κ(exp(AAᵀ)) = {kappa:e}");
    assert!(kappa < 1e4, "κ(exp(AAᵀ)) = {kappa:e}");
    let sp = {
        let mut tri = sprs::TriMat::new((8, 3));
        for i in 0..8 {
            for j in 0..3 {
                tri.add_triplet(i, j, ad[(i, j)]);
            }
        }
        tri.to_csr()
    };
    let b: Vec<f64> = Rng(42).vec(8).iter().map(|v| v + 1.5).collect();
    for (name, a) in [
        ("dense 8x3", Input::Dense(ad.clone())),
        ("csr 8x3", Input::Csr(sp)),
    ] {
        let (x0, _) = solve_p3(a.view(), &b, &params).unwrap();
        for k in KS {
            let ctx = format!("{name} b→2^{k}b");
            if let Some((x, _)) = log.ok(&ctx, solve_p3(a.view(), &scale(&b, k), &params)) {
                log.close(&ctx, &x, &scale(&x0, k), bound);
            }
        }
    }
    log.finish();
}

#[test]
fn kernel_p3_auto_scale_laws() {
    check_p3("solve_p3 (Auto)", InnerSolve::Auto);
}
#[test]
fn kernel_p3_cg_scale_laws() {
    check_p3("solve_p3 (Cg)", InnerSolve::Cg);
}

// ---------------------------------------------------------------------------------------------
// Attention. Exact and sketched: V → cV scales the output by c; (Q, K) → (cQ, K/c) leaves every
// score ⟨q, k⟩ unchanged (each product (c·q_t)(k_t/c) = q_t·k_t exactly), so the output is the
// same; softmax also (cQ, scale/c). All k (the inputs stay in 2^{±900}·[2⁻⁴⁰, 1]).
// ---------------------------------------------------------------------------------------------

fn qkv() -> (Mat<f64>, Mat<f64>, Mat<f64>) {
    (
        dense_mat(24, 6, 51),
        dense_mat(24, 6, 52),
        dense_mat(24, 3, 53),
    )
}

#[test]
fn exact_attention_scale_laws() {
    let mut log = Log::new("exact_attention");
    let (q, kk, v) = qkv();
    let kernels = [
        ("softmax", Kernel::Softmax { scale: 0.5 }),
        ("poly2", Kernel::Polynomial { degree: 2 }),
        ("poly4", Kernel::Polynomial { degree: 4 }),
    ];
    for causal in [false, true] {
        let p = AttnParams { causal, block: 8 };
        for (kname, kernel) in kernels {
            let base =
                exact_attention(q.as_ref(), kk.as_ref(), v.as_ref(), kernel, &p, Par::Seq).unwrap();
            let basef = flat(base.as_ref());
            for k in KS {
                let ctx = format!("{kname} causal={causal} V→2^{k}V");
                let vk = scale_mat(&v, k);
                let r = exact_attention(q.as_ref(), kk.as_ref(), vk.as_ref(), kernel, &p, Par::Seq);
                if let Some(o) = log.ok(&ctx, r) {
                    log.bits(&ctx, &flat(o.as_ref()), &scale(&basef, k));
                }
                let ctx = format!("{kname} causal={causal} (2^{k}Q, 2^{}K)", -k);
                let (qk, kk2) = (scale_mat(&q, k), scale_mat(&kk, -k));
                let r =
                    exact_attention(qk.as_ref(), kk2.as_ref(), v.as_ref(), kernel, &p, Par::Seq);
                if let Some(o) = log.ok(&ctx, r) {
                    log.bits(&ctx, &flat(o.as_ref()), &basef);
                }
                if let Kernel::Softmax { scale: s } = kernel {
                    // The kernel e^{(s/c)·⟨cq, k⟩}: the same arguments up to where the scale
                    // is applied; ROUNDING.
                    let ctx = format!("softmax causal={causal} (2^{k}Q, scale/2^{k})");
                    let kern = Kernel::Softmax { scale: s * p2(-k) };
                    let r =
                        exact_attention(qk.as_ref(), kk.as_ref(), v.as_ref(), kern, &p, Par::Seq);
                    if let Some(o) = log.ok(&ctx, r) {
                        log.close(&ctx, &flat(o.as_ref()), &basef, ROUNDING);
                    }
                }
            }
        }
    }
    log.finish();
}

/// Sketched attention: V → cV bitwise (the output is linear in V, the weights do not see V);
/// (cQ, K/c): φ(cQ) = c^{p/2}φ(Q) and φ(K/c) = c^{−p/2}φ(K) (products of linear maps), so the
/// weights are the same to rounding (ROUNDING).
#[test]
fn poly_sketch_attention_scale_laws() {
    let mut log = Log::new("poly_sketch_attention");
    let (q, kk, v) = qkv();
    for map in [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ] {
        for (degree, causal) in [(2, false), (4, false), (4, true)] {
            let p = PolySketchParams {
                degree,
                sketch_dim: 16,
                map,
                causal,
                block: 8,
                ..PolySketchParams::default()
            };
            let (base, _) =
                poly_sketch_attention(q.as_ref(), kk.as_ref(), v.as_ref(), &p, Par::Seq).unwrap();
            let basef = flat(base.as_ref());
            for k in KS {
                let ctx = format!("{map:?} p={degree} causal={causal} V→2^{k}V");
                let vk = scale_mat(&v, k);
                let r = poly_sketch_attention(q.as_ref(), kk.as_ref(), vk.as_ref(), &p, Par::Seq);
                if let Some((o, _)) = log.ok(&ctx, r) {
                    log.bits(&ctx, &flat(o.as_ref()), &scale(&basef, k));
                }
            }
        }
    }
    log.finish();
}

fn poly_sketch_balanced(ks: &[i32], log: &mut Log) {
    let (q, kk, v) = qkv();
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        for (degree, causal) in [(2, false), (4, false), (4, true)] {
            let p = PolySketchParams {
                degree,
                sketch_dim: 16,
                map,
                causal,
                block: 8,
                ..PolySketchParams::default()
            };
            let (base, _) =
                poly_sketch_attention(q.as_ref(), kk.as_ref(), v.as_ref(), &p, Par::Seq).unwrap();
            let basef = flat(base.as_ref());
            for &k in ks {
                let ctx = format!("{map:?} p={degree} causal={causal} (2^{k}Q, 2^{}K)", -k);
                let (qk, kk2) = (scale_mat(&q, k), scale_mat(&kk, -k));
                let r = poly_sketch_attention(qk.as_ref(), kk2.as_ref(), v.as_ref(), &p, Par::Seq);
                if let Some((o, _)) = log.ok(&ctx, r) {
                    log.close(&ctx, &flat(o.as_ref()), &basef, ROUNDING);
                }
            }
        }
    }
}

/// Sketched attention under (cQ, K/c) where the self-tensored features φ'(cQ) = c^p·φ'(Q) and
/// φ'(K/c) stay in range (|p·k| ≤ 1000 for p = 2 and 4: k = ±60, ±200): the same output.
#[test]
fn poly_sketch_attention_balanced_scaling_in_feature_range() {
    let mut log = Log::new("poly_sketch_attention (cQ, K/c), features in range");
    poly_sketch_balanced(&[-200, -60, 60, 200], &mut log);
    log.finish();
}

/// The same law at k = ±500 (p = 4) and ±900 (p = 2, 4): the output is unchanged (every
/// ⟨q_i, k_j⟩ is), and exact_attention returns it, but the sketched route forms φ'(cQ) and
/// φ'(K/c) unbalanced.
#[test]
fn poly_sketch_attention_balanced_scaling() {
    let mut log = Log::new("poly_sketch_attention (cQ, K/c)");
    poly_sketch_balanced(&KS, &mut log);
    log.finish();
}

/// φ(cX) = c^{p/2}·φ(X), φ'(cX) = c^p·φ'(X), weights(cQ, K) = c^p·weights(Q, K): k with the
/// scaled answer's exponent within ±1000 only. Gaussian and identity maps: bitwise (products of
/// exactly scaled numbers); TensorSketch map: ROUNDING (its FFTs may rescale by powers of two
/// chosen from the data).
#[test]
fn poly_sketch_features_homogeneous() {
    let mut log = Log::new("PolySketch::{features, tensored_features, weights}");
    let (q, kk, _) = qkv();
    for map in [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ] {
        for degree in [2usize, 4] {
            let ps = PolySketch::new(6, degree, 16, map, Seed::new(2)).unwrap();
            let half = degree as i32 / 2;
            let f0 = flat(ps.features(q.as_ref(), Par::Seq).unwrap().as_ref());
            let t0 = flat(ps.tensored_features(q.as_ref(), Par::Seq).unwrap().as_ref());
            let w0 = flat(
                ps.weights(q.as_ref(), kk.as_ref(), Par::Seq)
                    .unwrap()
                    .as_ref(),
            );
            for k in KS {
                let qk = scale_mat(&q, k);
                let cmp = |log: &mut Log, ctx: &str, got: &[f64], want: &[f64]| {
                    if map != FeatureMap::TensorSketch {
                        log.bits(ctx, got, want)
                    } else {
                        log.close(ctx, got, want, ROUNDING)
                    }
                };
                for (what, e, base) in [
                    ("features", half * k, &f0),
                    ("tensored", degree as i32 * k, &t0),
                ] {
                    if !fits(e) {
                        continue;
                    }
                    let ctx = format!("{map:?} p={degree} {what} k={k}");
                    let r = if what == "features" {
                        ps.features(qk.as_ref(), Par::Seq)
                    } else {
                        ps.tensored_features(qk.as_ref(), Par::Seq)
                    };
                    if let Some(f) = log.ok(&ctx, r) {
                        cmp(&mut log, &ctx, &flat(f.as_ref()), &scale(base, e));
                    }
                }
                if fits(degree as i32 * k) {
                    let ctx = format!("{map:?} p={degree} weights k={k}");
                    if let Some(w) = log.ok(&ctx, ps.weights(qk.as_ref(), kk.as_ref(), Par::Seq)) {
                        cmp(
                            &mut log,
                            &ctx,
                            &flat(w.as_ref()),
                            &scale(&w0, degree as i32 * k),
                        );
                    }
                }
            }
        }
    }
    log.finish();
}

/// tril(ABᵀ)C is trilinear, tril((ABᵀ)^{∘2})C is quadratic in A and B: bitwise laws for the
/// scalings (c, 1, 1), (1, 1, c), (c, 1/c, 1) (all k) and (c, 1, 1) → c² for the squared product
/// (|k| ≤ 500).
#[test]
fn causal_products_scale_laws() {
    let mut log = Log::new("causal_product / causal_squared_product");
    let (a, b, c) = qkv();
    for block in [5usize, 64] {
        let p0 = flat(
            causal_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq)
                .unwrap()
                .as_ref(),
        );
        let s0 = flat(
            causal_squared_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq)
                .unwrap()
                .as_ref(),
        );
        for k in KS {
            let cases: [(&str, i32, i32, i32); 4] = [
                ("(cA,B,C)", k, 0, 0),
                ("(A,B,cC)", 0, 0, k),
                ("(cA,B/c,C)", k, -k, 0),
                ("(cA,cB,C)/sq", k, k, 0),
            ];
            for (label, ea, eb, ec) in cases {
                let (ak, bk, ck) = (scale_mat(&a, ea), scale_mat(&b, eb), scale_mat(&c, ec));
                if label != "(cA,cB,C)/sq" {
                    let ctx = format!("causal_product {label} k={k} block={block}");
                    let r = causal_product(ak.as_ref(), bk.as_ref(), ck.as_ref(), block, Par::Seq);
                    if let Some(o) = log.ok(&ctx, r) {
                        log.bits(&ctx, &flat(o.as_ref()), &scale(&p0, ea + eb + ec));
                    }
                }
                let e = 2 * ea + 2 * eb + ec;
                // (cA, B/c, C) for the squared product: causal_squared_product_balanced_scaling.
                if fits(e) && label != "(cA,B/c,C)" {
                    let ctx = format!("causal_squared_product {label} k={k} block={block}");
                    let r = causal_squared_product(
                        ak.as_ref(),
                        bk.as_ref(),
                        ck.as_ref(),
                        block,
                        Par::Seq,
                    );
                    if let Some(o) = log.ok(&ctx, r) {
                        log.bits(&ctx, &flat(o.as_ref()), &scale(&s0, e));
                    }
                }
            }
        }
    }
    log.finish();
}

/// tril((ABᵀ)^{∘2})C with (A, B) → (cA, B/c): every ⟨a_i, b_j⟩ is unchanged (exactly), so is
/// the output (bitwise), at every k.
#[test]
fn causal_squared_product_balanced_scaling() {
    let mut log = Log::new("causal_squared_product (cA, B/c, C)");
    let (a, b, c) = qkv();
    for block in [5usize, 64] {
        let s0 = flat(
            causal_squared_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq)
                .unwrap()
                .as_ref(),
        );
        for k in KS {
            let ctx = format!("(2^{k}A, 2^{}B, C) block={block}", -k);
            let (ak, bk) = (scale_mat(&a, k), scale_mat(&b, -k));
            let r = causal_squared_product(ak.as_ref(), bk.as_ref(), c.as_ref(), block, Par::Seq);
            if let Some(o) = log.ok(&ctx, r) {
                log.bits(&ctx, &flat(o.as_ref()), &s0);
            }
        }
    }
    log.finish();
}

/// relative_error(c·approx, c·exact) = relative_error(approx, exact); ROUNDING.
#[test]
fn relative_error_invariant() {
    let mut log = Log::new("relative_error");
    let (x, y, _) = qkv();
    let yp = Mat::from_fn(24, 6, |i, j| x[(i, j)] + 1e-3 * y[(i, j)]);
    let r0 = relative_error(yp.as_ref(), x.as_ref()).unwrap();
    for k in KS {
        let ctx = format!("k={k}");
        let (a, b) = (scale_mat(&yp, k), scale_mat(&x, k));
        if let Some(r) = log.ok(&ctx, relative_error(a.as_ref(), b.as_ref())) {
            log.close1(&ctx, r, r0, ROUNDING);
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// TensorSketch / TreeSketch / polynomial-kernel features: TS(cx) = c^p·TS(x),
// TS(c₁x₁ ⊗ … ⊗ c_p x_p) = (Πc_i)·TS(⊗x_i). k with p·k within ±1000 only. ROUNDING: the FFTs
// rescale by powers of two chosen from the data, and the round trip through the FFT is exact up
// to rounding only (normwise ≈ log₂m·u).
// ---------------------------------------------------------------------------------------------

#[test]
fn tensor_sketch_homogeneous() {
    let mut log = Log::new("TensorSketch / TreeSketch apply_power / apply_kron / apply_rows");
    let d = 8;
    let x = Rng(61).vec(d);
    let y = Rng(62).vec(d);
    let z = Rng(63).vec(d);
    let a = Input::Dense(dense_mat(10, d, 64));
    let asp = Input::Csr(sparse_mat(10, d, 65));
    for p in [1usize, 2, 3] {
        let ts = TensorSketch::new(p, d, 64, Seed::new(3)).unwrap();
        let tr = TreeSketch::new(p, d, 64, Seed::new(3)).unwrap();
        type Pw<'s> = Box<dyn Fn(&[f64]) -> randnla::Result<Vec<f64>> + 's>;
        type Kr<'s> = Box<dyn Fn(&[&[f64]]) -> randnla::Result<Vec<f64>> + 's>;
        type Rw<'s> = Box<dyn Fn(MatrixRef<'_, f64>) -> randnla::Result<Mat<f64>> + 's>;
        let ops: Vec<(&str, Pw, Kr, Rw)> = vec![
            (
                "TensorSketch",
                Box::new(|v| ts.apply_power(v)),
                Box::new(|v| ts.apply_kron(v)),
                Box::new(|m| ts.apply_rows(m, Par::Seq)),
            ),
            (
                "TreeSketch",
                Box::new(|v| tr.apply_power(v)),
                Box::new(|v| tr.apply_kron(v)),
                Box::new(|m| tr.apply_rows(m, Par::Seq)),
            ),
        ];
        let kron_in: Vec<&[f64]> = [&x[..], &y[..], &z[..]][..p].to_vec();
        for (name, pw, kr, rw) in &ops {
            let pw0 = pw(&x).unwrap();
            let kr0 = kr(&kron_in).unwrap();
            let rows0: Vec<Vec<f64>> = [&a, &asp]
                .iter()
                .map(|m| flat(rw(m.view()).unwrap().as_ref()))
                .collect();
            for k in KS {
                let e = p as i32 * k;
                if fits(e) {
                    let ctx = format!("{name} p={p} apply_power k={k}");
                    if let Some(s) = log.ok(&ctx, pw(&scale(&x, k))) {
                        log.close(&ctx, &s, &scale(&pw0, e), ROUNDING);
                    }
                    for (m, base) in [&a, &asp].iter().zip(&rows0) {
                        let ctx = format!("{name} p={p} apply_rows k={k}");
                        if let Some(s) = log.ok(&ctx, rw(m.scaled(k).view())) {
                            log.close(&ctx, &flat(s.as_ref()), &scale(base, e), ROUNDING);
                        }
                    }
                }
                if p >= 2 {
                    // (c x, y/c, z): the product tensor is unchanged.
                    let (xs, ys) = (scale(&x, k), scale(&y, -k));
                    let inp: Vec<&[f64]> = [&xs[..], &ys[..], &z[..]][..p].to_vec();
                    let ctx = format!("{name} p={p} apply_kron (c x, y/c) k={k}");
                    if let Some(s) = log.ok(&ctx, kr(&inp)) {
                        log.close(&ctx, &s, &kr0, ROUNDING);
                    }
                }
                let mut inp = kron_in.clone();
                let xs = scale(&x, k);
                inp[0] = &xs;
                let ctx = format!("{name} p={p} apply_kron (c x, ..) k={k}");
                if let Some(s) = log.ok(&ctx, kr(&inp)) {
                    log.close(&ctx, &s, &scale(&kr0, k), ROUNDING);
                }
            }
        }
        // mode_sketch is a CountSketch: bitwise.
        let m0 = ts.mode_sketch(0, &x).unwrap();
        for k in KS {
            let ctx = format!("mode_sketch p={p} k={k}");
            if let Some(s) = log.ok(&ctx, ts.mode_sketch(0, &scale(&x, k))) {
                log.bits(&ctx, &s, &scale(&m0, k));
            }
        }
    }
    log.finish();
}

/// Polynomial-kernel features, `(γ⟨x,y⟩ + c₀)^p`: with c₀ = 0, φ(cX) = c^p·φ(X) (|p·k| ≤ 1000)
/// and kernel(cx, cy) = c^{2p}·kernel(x, y) (|2p·k| ≤ 1000); with c₀ = 1, (cX, γ/c²) gives the
/// same features (|k| ≤ 500: γ/c² normal); kernel_error is invariant in both. ROUNDING.
#[test]
fn poly_kernel_features_scale_laws() {
    let mut log = Log::new("PolyKernelFeatures");
    let d = 6;
    let x = dense_mat(8, d, 71);
    for method in [
        randnla::sketch::tensor::TensorMethod::Fft,
        randnla::sketch::tensor::TensorMethod::Tree,
    ] {
        for p in [2usize, 3] {
            for coef0 in [0.0, 1.0] {
                let params = PolyKernelParams {
                    degree: p,
                    gamma: 1.0,
                    coef0,
                    sketch_dim: 64,
                    method,
                };
                let f = PolyKernelFeatures::new(d, params, Seed::new(5)).unwrap();
                let xv = MatrixRef::dense(x.as_ref()).unwrap();
                let phi0 = f.transform(xv, Par::Seq).unwrap();
                let e0 = f.kernel_error(xv, phi0.as_ref(), 8, Par::Seq).unwrap();
                let r0: Vec<f64> = (0..d).map(|j| x[(0, j)]).collect();
                let r1: Vec<f64> = (0..d).map(|j| x[(1, j)]).collect();
                let k0 = f.kernel(&r0, &r1).unwrap();
                let phi0 = flat(phi0.as_ref());
                for k in KS {
                    let xk = scale_mat(&x, k);
                    let xkv = MatrixRef::dense(xk.as_ref()).unwrap();
                    let tag = format!("{method:?} p={p} c0={coef0} k={k}");
                    let (fk, e) = if coef0 == 0.0 {
                        (Some(f.clone()), p as i32 * k)
                    } else if fits(2 * k) {
                        let pk = PolyKernelParams {
                            gamma: p2(-2 * k),
                            ..params
                        };
                        (
                            Some(PolyKernelFeatures::new(d, pk, Seed::new(5)).unwrap()),
                            0,
                        )
                    } else {
                        (None, 0)
                    };
                    let Some(fk) = fk else { continue };
                    if !fits(e) {
                        continue;
                    }
                    let ctx = format!("{tag} transform");
                    if let Some(phi) = log.ok(&ctx, fk.transform(xkv, Par::Seq)) {
                        log.close(&ctx, &flat(phi.as_ref()), &scale(&phi0, e), ROUNDING);
                        // kernel_error only where the kernel matrix c^{2p}·K fits (documented
                        // refusal otherwise); beyond: poly_kernel_error_invariant.
                        if fits(2 * e) {
                            let ctx = format!("{tag} kernel_error");
                            let r = fk.kernel_error(xkv, phi.as_ref(), 8, Par::Seq);
                            if let Some(err) = log.ok(&ctx, r) {
                                log.close1(&ctx, err, e0, ROUNDING);
                            }
                        }
                    }
                    if fits(2 * e) {
                        let ctx = format!("{tag} kernel");
                        if let Some(kv) = log.ok(&ctx, fk.kernel(&scale(&r0, k), &scale(&r1, k))) {
                            log.close1(&ctx, kv, k0 * p2(2 * e), ROUNDING);
                        }
                    }
                }
            }
        }
    }
    log.finish();
}

/// kernel_error = ‖ΦΦᵀ − K‖_F/‖K‖_F is invariant under X → cX (c₀ = 0, Φ → c^p·Φ) at every k
/// where Φ fits (|p·k| ≤ 1000), also where K = c^{2p}·K₀ itself does not.
#[test]
fn poly_kernel_error_invariant() {
    let mut log = Log::new("PolyKernelFeatures::kernel_error");
    let d = 6;
    let x = dense_mat(8, d, 71);
    for method in [
        randnla::sketch::tensor::TensorMethod::Fft,
        randnla::sketch::tensor::TensorMethod::Tree,
    ] {
        for p in [2usize, 3] {
            let params = PolyKernelParams {
                degree: p,
                gamma: 1.0,
                coef0: 0.0,
                sketch_dim: 64,
                method,
            };
            let f = PolyKernelFeatures::new(d, params, Seed::new(5)).unwrap();
            let xv = MatrixRef::dense(x.as_ref()).unwrap();
            let phi0 = f.transform(xv, Par::Seq).unwrap();
            let e0 = f.kernel_error(xv, phi0.as_ref(), 8, Par::Seq).unwrap();
            for k in KS.into_iter().filter(|k| fits(p as i32 * k)) {
                let ctx = format!("{method:?} p={p} X→2^{k}X");
                let xk = scale_mat(&x, k);
                let xkv = MatrixRef::dense(xk.as_ref()).unwrap();
                let phi = f.transform(xkv, Par::Seq).unwrap();
                if let Some(err) = log.ok(&ctx, f.kernel_error(xkv, phi.as_ref(), 8, Par::Seq)) {
                    log.close1(&ctx, err, e0, ROUNDING);
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Tensor power method: T → cT scales the weights by c, factors unchanged; contractions scale by
// c; residual_rel(cT, c·w, f) = residual_rel(T, w, f). All k (|T| ≤ 4).
// ---------------------------------------------------------------------------------------------

fn tensor_pair(k: i32, dense: bool) -> (SymmetricTensor, SymmetricTensor) {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 8, 2, 0.0, Seed::new(7)).unwrap();
    let (idx, vals) = common::unique_entries(&t);
    let t0 = SymmetricTensor::coordinate(3, 8, &idx, &vals).unwrap();
    let tk = SymmetricTensor::coordinate(3, 8, &idx, &scale(&vals, k)).unwrap();
    if dense {
        (t0.to_dense().unwrap(), tk.to_dense().unwrap())
    } else {
        (t0, tk)
    }
}

#[test]
fn tensor_contractions_scale() {
    let mut log = Log::new("SymmetricTensor::{contract_all, contract_but_one, norm}");
    let u: Vec<f64> = Rng(81).vec(8);
    for dense in [false, true] {
        let (t0, _) = tensor_pair(0, dense);
        let a0 = t0.contract_all(&u, Par::Seq).unwrap();
        let b0 = t0.contract_but_one(&u, Par::Seq).unwrap();
        let n0 = t0.norm();
        for k in KS {
            let (_, tk) = tensor_pair(k, dense);
            let ctx = format!("dense={dense} k={k}");
            if let Some(a) = log.ok(&ctx, tk.contract_all(&u, Par::Seq)) {
                log.bits(&format!("{ctx} contract_all"), &[a], &[a0 * p2(k)]);
            }
            if let Some(b) = log.ok(&ctx, tk.contract_but_one(&u, Par::Seq)) {
                log.bits(&format!("{ctx} contract_but_one"), &b, &scale(&b0, k));
            }
            log.close1(&format!("{ctx} norm"), tk.norm(), n0 * p2(k), ROUNDING);
        }
    }
    log.finish();
}

/// The sketched contractions: TensorSketches of cT contract to c times those of T. ROUNDING (FFT).
#[test]
fn tensor_sketches_contractions_scale() {
    let mut log = Log::new("TensorSketches::{contract_all, contract_but_one}");
    let u: Vec<f64> = Rng(82).vec(8);
    let (t0, _) = tensor_pair(0, true);
    let s0 = TensorSketches::new(&t0, 3, 64, Seed::new(2), Par::Seq).unwrap();
    let a0 = s0.contract_all(&u, Par::Seq).unwrap();
    let b0 = s0.contract_but_one(&u, Par::Seq).unwrap();
    for k in KS {
        let (_, tk) = tensor_pair(k, true);
        let ctx = format!("k={k}");
        if let Some(s) = log.ok(
            &ctx,
            TensorSketches::new(&tk, 3, 64, Seed::new(2), Par::Seq),
        ) {
            if let Some(a) = log.ok(&ctx, s.contract_all(&u, Par::Seq)) {
                log.close1(&format!("{ctx} contract_all"), a, a0 * p2(k), ROUNDING);
            }
            if let Some(b) = log.ok(&ctx, s.contract_but_one(&u, Par::Seq)) {
                log.close(
                    &format!("{ctx} contract_but_one"),
                    &b,
                    &scale(&b0, k),
                    ROUNDING,
                );
            }
        }
    }
    log.finish();
}

/// power_method_exact: the iteration u ← T(u,u,·)/‖·‖ does not see c; with noise 0 both runs
/// converge to the exact components, so weights c·w and equal factors to ROUNDING.
#[test]
fn power_method_exact_scale() {
    let mut log = Log::new("power_method_exact");
    for dense in [false, true] {
        let (t0, _) = tensor_pair(0, dense);
        let d0 =
            power_method_exact(&t0, 2, &PowerParams::default(), Seed::new(1), Par::Seq).unwrap();
        for k in KS {
            let (_, tk) = tensor_pair(k, dense);
            let ctx = format!("dense={dense} k={k}");
            let r = power_method_exact(&tk, 2, &PowerParams::default(), Seed::new(1), Par::Seq);
            if let Some(d) = log.ok(&ctx, r) {
                log.close(
                    &format!("{ctx} weights"),
                    &d.weights,
                    &scale(&d0.weights, k),
                    ROUNDING,
                );
                log.close(
                    &format!("{ctx} factors"),
                    &factors_flat(&d.factors),
                    &factors_flat(&d0.factors),
                    ROUNDING,
                );
            }
        }
    }
    log.finish();
}

/// power_method_sketched: the same sketches (same seed) of c·T are c times those of T, so the
/// whole run is the k = 0 run up to rounding: weights c·w, factors equal, to ROUNDING·10 (the
/// iteration's fixed point is reached through ≈ 30 rounding-perturbed steps; the sketched
/// problem has a spectral gap ≥ 1/2, so perturbations do not grow).
#[test]
fn power_method_sketched_scale() {
    let mut log = Log::new("power_method_sketched");
    let (t0, _) = tensor_pair(0, true);
    let sp = SketchParams {
        sketches: 3,
        sketch_dim: 128,
        ..SketchParams::default()
    };
    let d0 = power_method_sketched(&t0, 2, &sp, Seed::new(1), Par::Seq).unwrap();
    for k in KS {
        let (_, tk) = tensor_pair(k, true);
        let ctx = format!("k={k}");
        if let Some(d) = log.ok(
            &ctx,
            power_method_sketched(&tk, 2, &sp, Seed::new(1), Par::Seq),
        ) {
            log.close(
                &format!("{ctx} weights"),
                &d.weights,
                &scale(&d0.weights, k),
                10.0 * ROUNDING,
            );
            log.close(
                &format!("{ctx} factors"),
                &factors_flat(&d.factors),
                &factors_flat(&d0.factors),
                10.0 * ROUNDING,
            );
        }
    }
    log.finish();
}

/// residual_rel(cT, c·w, f) = residual_rel(T, w, f); w is 1% off so the figure is ≈ 10⁻², not
/// rounding noise. ROUNDING.
#[test]
fn residual_rel_invariant() {
    let mut log = Log::new("residual_rel");
    let (_, w, f) = SymmetricTensor::synthetic_orthogonal(3, 8, 2, 0.0, Seed::new(7)).unwrap();
    let w: Vec<f64> = w.iter().map(|v| v * 1.01).collect();
    for dense in [false, true] {
        let (t0, _) = tensor_pair(0, dense);
        let r0 = residual_rel(&t0, &w, &f, Par::Seq).unwrap();
        for k in KS {
            let (_, tk) = tensor_pair(k, dense);
            let ctx = format!("dense={dense} k={k}");
            if let Some(r) = log.ok(&ctx, residual_rel(&tk, &scale(&w, k), &f, Par::Seq)) {
                log.close1(&ctx, r, r0, ROUNDING);
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Active learning. Pool scores (leverage scores of X) invariant under X → cX (AsGiven: as
// proportions); the selection (rows and importance weights) the same; the fit
// β(cX, c'y, c²λ) = (c'/c)·β(X, y, λ); Pool::least_squares (β, OPT) → ((c'/c)β, c'²·OPT).
// ---------------------------------------------------------------------------------------------

fn pool_inputs() -> Vec<(&'static str, Input, Vec<f64>)> {
    let xd = dense_mat(200, 4, 91);
    let xs = sparse_mat(200, 4, 92);
    let mk = |x: &Input| {
        let xd = x.to_dense();
        let noise = Rng(93).vec(200);
        (0..200)
            .map(|i| xd[(i, 0)] * 3.0 - xd[(i, 1)] + 2.0 * xd[(i, 3)] + 0.1 * noise[i])
            .collect::<Vec<f64>>()
    };
    let (d, s) = (Input::Dense(xd), Input::Csr(xs));
    let (yd, ys) = (mk(&d), mk(&s));
    vec![("dense 200x4", d, yd), ("csr 200x4", s, ys)]
}

fn normalized(s: &[f64]) -> Vec<f64> {
    let m = s.iter().fold(0.0f64, |a, b| a.max(*b));
    s.iter().map(|v| v / m).collect()
}

#[test]
fn pool_scores_invariant() {
    let mut log = Log::new("Pool::new scores");
    for (name, x, _) in pool_inputs() {
        for basis in [
            Basis::Exact,
            Basis::Sketched { sketch_rows: None },
            Basis::AsGiven,
        ] {
            let p0 = Pool::new(x.view(), basis, Seed::new(1), Par::Seq).unwrap();
            let s0 = normalized(p0.scores());
            for k in KS {
                let ctx = format!("{name} {} k={k}", basis.name());
                let xk = x.scaled(k);
                if let Some(p) = log.ok(&ctx, Pool::new(xk.view(), basis, Seed::new(1), Par::Seq)) {
                    log.close(&ctx, &normalized(p.scores()), &s0, ROUNDING);
                    if basis != Basis::AsGiven {
                        log.close(&format!("{ctx} raw"), p.scores(), p0.scores(), ROUNDING);
                    }
                }
            }
        }
    }
    log.finish();
}

/// The learners: the same rows at every k, weights to ROUNDING, and the fit's law. λ = 0 at all
/// k (x → cX: β/c; y → cy: cβ), λ = 0.3 → c²λ for |k| ≤ 500.
#[test]
fn learner_selection_and_fit_scale_laws() {
    let mut log = Log::new("Learner::{select, weights, fit}");
    let lambda = 0.3;
    for (name, x, y) in pool_inputs() {
        for strategy in [Strategy::Uniform, Strategy::leverage(), Strategy::bss()] {
            let run = |xm: &Input, ys: &[f64], lam: f64| -> randnla::Result<Selection> {
                let pool = Pool::new(xm.view(), Basis::Exact, Seed::new(1), Par::Seq)?;
                let mut o = Budgeted::new(SliceOracle::new(ys), 40);
                let mut l = Learner::new(&pool, strategy.clone(), Seed::new(2))?;
                l.select(40, &mut o)?;
                let (beta, _) = l.fit(lam)?;
                Ok((l.weights(), beta))
            };
            let (w0, b0) = run(&x, &y, 0.0).unwrap();
            let (_, br0) = run(&x, &y, lambda).unwrap();
            let wflat = |w: &[(usize, f64)]| w.iter().map(|e| e.1).collect::<Vec<_>>();
            for k in KS {
                let xk = x.scaled(k);
                let tag = format!("{name} {} k={k}", strategy.name());
                let ctx = format!("{tag} X→cX");
                if let Some((w, b)) = log.ok(&ctx, run(&xk, &y, 0.0)) {
                    if w.iter().map(|e| e.0).ne(w0.iter().map(|e| e.0)) {
                        log.fail(&ctx, "selected rows differ".into());
                    } else {
                        log.close(&format!("{ctx} weights"), &wflat(&w), &wflat(&w0), ROUNDING);
                    }
                    log.close(&format!("{ctx} fit"), &b, &scale(&b0, -k), ROUNDING);
                }
                let ctx = format!("{tag} y→cy");
                if let Some((_, b)) = log.ok(&ctx, run(&x, &scale(&y, k), 0.0)) {
                    log.close(&ctx, &b, &scale(&b0, k), ROUNDING);
                }
                let ctx = format!("{tag} y→cy ridge λ fixed");
                if let Some((_, b)) = log.ok(&ctx, run(&x, &scale(&y, k), lambda)) {
                    log.close(&ctx, &b, &scale(&br0, k), ROUNDING);
                }
                let ctx = format!("{tag} (cX, cy)");
                if let Some((_, b)) = log.ok(&ctx, run(&xk, &scale(&y, k), 0.0)) {
                    log.close(&ctx, &b, &b0, ROUNDING);
                }
                if fits(2 * k) {
                    let ctx = format!("{tag} X→cX ridge λ→c²λ");
                    if let Some((_, b)) = log.ok(&ctx, run(&xk, &y, lambda * p2(2 * k))) {
                        log.close(&ctx, &b, &scale(&br0, -k), ROUNDING);
                    }
                }
            }
        }
    }
    log.finish();
}

#[test]
fn pool_least_squares_scale_laws() {
    let mut log = Log::new("Pool::{least_squares, residual_norm_sq}");
    for (name, x, y) in pool_inputs() {
        let p0 = Pool::new(x.view(), Basis::Exact, Seed::new(1), Par::Seq).unwrap();
        let (b0, opt0) = p0.least_squares(&y).unwrap();
        let mut bp = b0.clone();
        bp[0] += 0.05;
        let r0 = p0.residual_norm_sq(&bp, &y).unwrap();
        for k in KS {
            let tag = format!("{name} k={k}");
            // y → cy only for |k| ≤ 500: at k = 900 the returned OPT = c²·OPT overflows, which
            // is documented as an error (the whole call is refused although β fits); at k = −900
            // OPT underflows to 0 (its rounding).
            let ctx = format!("{tag} y→cy");
            if fits(2 * k) {
                if let Some((b, opt)) = log.ok(&ctx, p0.least_squares(&scale(&y, k))) {
                    log.close(&ctx, &b, &scale(&b0, k), ROUNDING);
                    log.close1(&format!("{ctx} OPT"), opt, opt0 * p2(2 * k), ROUNDING);
                }
            }
            if fits(2 * k) {
                let ctx = format!("{tag} residual_norm_sq(cβ, cy)");
                if let Some(r) = log.ok(&ctx, p0.residual_norm_sq(&scale(&bp, k), &scale(&y, k))) {
                    log.close1(&ctx, r, r0 * p2(2 * k), ROUNDING);
                }
            }
            let xk = x.scaled(k);
            let ctx = format!("{tag} X→cX");
            if let Some(p) = log.ok(
                &ctx,
                Pool::new(xk.view(), Basis::Exact, Seed::new(1), Par::Seq),
            ) {
                if let Some((b, opt)) = log.ok(&ctx, p.least_squares(&y)) {
                    log.close(&ctx, &b, &scale(&b0, -k), ROUNDING);
                    log.close1(&format!("{ctx} OPT"), opt, opt0, ROUNDING);
                }
                let ctx = format!("{tag} residual_norm_sq(β/c, y) on cX");
                if let Some(r) = log.ok(&ctx, p.residual_norm_sq(&scale(&bp, -k), &y)) {
                    log.close1(&ctx, r, r0, ROUNDING);
                }
            }
        }
    }
    log.finish();
}

#[test]
fn weighted_least_squares_scale_laws() {
    let mut log = Log::new("weighted_least_squares");
    let rows: Vec<usize> = (0..30).map(|i| (i * 7) % 200).collect();
    let weights: Vec<f64> = (0..30).map(|i| 1.0 + (i % 5) as f64 * 0.25).collect();
    let lambda = 0.3;
    for (name, x, y) in pool_inputs() {
        let labels: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
        let b0 = weighted_least_squares(x.view(), &rows, &weights, &labels, 0.0).unwrap();
        let br0 = weighted_least_squares(x.view(), &rows, &weights, &labels, lambda).unwrap();
        for k in KS {
            let xk = x.scaled(k);
            let ctx = format!("{name} k={k} X→cX");
            if let Some(b) = log.ok(
                &ctx,
                weighted_least_squares(xk.view(), &rows, &weights, &labels, 0.0),
            ) {
                log.close(&ctx, &b, &scale(&b0, -k), ROUNDING);
            }
            let ctx = format!("{name} k={k} y→cy");
            let r = weighted_least_squares(x.view(), &rows, &weights, &scale(&labels, k), 0.0);
            if let Some(b) = log.ok(&ctx, r) {
                log.close(&ctx, &b, &scale(&b0, k), ROUNDING);
            }
            let ctx = format!("{name} k={k} (cX, cy)");
            let r = weighted_least_squares(xk.view(), &rows, &weights, &scale(&labels, k), 0.0);
            if let Some(b) = log.ok(&ctx, r) {
                log.close(&ctx, &b, &b0, ROUNDING);
            }
            let ctx = format!("{name} k={k} y→cy ridge λ fixed");
            let r = weighted_least_squares(x.view(), &rows, &weights, &scale(&labels, k), lambda);
            if let Some(b) = log.ok(&ctx, r) {
                log.close(&ctx, &b, &scale(&br0, k), ROUNDING);
            }
            let ctx = format!("{name} k={k} weights→c·w");
            let r = weighted_least_squares(x.view(), &rows, &scale(&weights, k), &labels, 0.0);
            if let Some(b) = log.ok(&ctx, r) {
                log.close(&ctx, &b, &b0, ROUNDING);
            }
            if fits(2 * k) {
                let ctx = format!("{name} k={k} X→cX ridge λ→c²λ");
                let r =
                    weighted_least_squares(xk.view(), &rows, &weights, &labels, lambda * p2(2 * k));
                if let Some(b) = log.ok(&ctx, r) {
                    log.close(&ctx, &b, &scale(&br0, -k), ROUNDING);
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Diagnostics: κ(cA) = κ(A), orthonormal_basis(cA) = orthonormal_basis(A), the distortion of a
// sketch on range(cA) = on range(A) (ROUNDING); gram(cA) = c²·gram(A) bitwise (|k| ≤ 500).
// `distortion(sketch, Q)` takes an orthonormal Q: no scale law.
// ---------------------------------------------------------------------------------------------

#[test]
fn diagnostics_scale_laws() {
    let mut log = Log::new("diagnostics");
    for (name, a) in inputs() {
        let ad = a.to_dense();
        let n = a.nrows();
        let s = SketchKind::Gaussian
            .build::<f64>(20, n, Seed::new(3))
            .unwrap();
        let k0 = condition_number(ad.as_ref()).unwrap();
        let q0 = flat(orthonormal_basis(ad.as_ref()).unwrap().as_ref());
        let d0 = distortion_on_range(&*s, a.view(), Par::Seq).unwrap();
        let rb0 = RangeBasis::new(a.view(), Par::Seq).unwrap();
        let e0 = rb0.distortion(&*s, a.view(), Par::Seq).unwrap();
        let g0 = flat(gram(a.view(), Par::Seq).unwrap().as_ref());
        // distortion(S, Q) = κ(SQ) is scale invariant in Q too (documented for orthonormal Q,
        // defined for any): distortion(S, cQ) = distortion(S, Q).
        let qm = orthonormal_basis(ad.as_ref()).unwrap();
        let dq0 = randnla::diagnostics::distortion(&*s, qm.as_ref(), Par::Seq).unwrap();
        for k in KS {
            let ak = a.scaled(k);
            let akd = ak.to_dense();
            let tag = format!("{name} k={k}");
            if let Some(v) = log.ok(&tag, condition_number(akd.as_ref())) {
                log.close1(&format!("{tag} condition_number"), v, k0, ROUNDING);
            }
            if let Some(q) = log.ok(&tag, orthonormal_basis(akd.as_ref())) {
                log.close(
                    &format!("{tag} orthonormal_basis"),
                    &flat(q.as_ref()),
                    &q0,
                    ROUNDING,
                );
            }
            if let Some(v) = log.ok(&tag, distortion_on_range(&*s, ak.view(), Par::Seq)) {
                log.close1(&format!("{tag} distortion_on_range"), v, d0, ROUNDING);
            }
            let ctx = format!("{tag} RangeBasis");
            if let Some(rb) = log.ok(&ctx, RangeBasis::new(ak.view(), Par::Seq)) {
                if let Some(v) = log.ok(&ctx, rb.distortion(&*s, ak.view(), Par::Seq)) {
                    log.close1(&ctx, v, e0, ROUNDING);
                }
            }
            let qk = scale_mat(&qm, k);
            let r = randnla::diagnostics::distortion(&*s, qk.as_ref(), Par::Seq);
            if let Some(v) = log.ok(&format!("{tag} distortion(S, cQ)"), r) {
                log.close1(&format!("{tag} distortion(S, cQ)"), v, dq0, ROUNDING);
            }
            if fits(2 * k) {
                let ctx = format!("{tag} gram");
                if let Some(g) = log.ok(&ctx, gram(ak.view(), Par::Seq)) {
                    log.bits(&ctx, &flat(g.as_ref()), &scale(&g0, 2 * k));
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// Reported figures (info structs) that the laws fix: ranks and thresholds relative to A's scale,
// the preconditioner N of cA (N/c), the κ estimate, pool coherence, component start values.
// ---------------------------------------------------------------------------------------------

#[test]
fn info_fields_scale_laws() {
    use randnla::lstsq::Preconditioner;
    let mut log = Log::new("info fields");
    for (name, a) in inputs() {
        let b = rhs(&a);
        // LeverageInfo: rank and rank_threshold (relative to equilibrated columns) unchanged.
        let (_, li0) = exact_leverage_scores(a.view(), &ExactParams::default(), Par::Seq).unwrap();
        let (_, la0) =
            approx_leverage_scores(a.view(), &ApproxParams::default(), Seed::new(9), Par::Seq)
                .unwrap();
        // lstsq Info: rank and κ estimate unchanged.
        let p = LstsqParams {
            probe: false,
            ..LstsqParams::default()
        };
        let (_, i0) = sketch_and_precondition(a.view(), &b, &p).unwrap();
        let n0 = flat(
            Preconditioner::new(a.view(), &p)
                .unwrap()
                .to_dense()
                .as_ref(),
        );
        for k in KS {
            let ak = a.scaled(k);
            let tag = format!("{name} k={k}");
            let r = exact_leverage_scores(ak.view(), &ExactParams::default(), Par::Seq);
            if let Some((_, li)) = log.ok(&tag, r) {
                if li.rank != li0.rank {
                    log.fail(&tag, format!("exact rank {} vs {}", li.rank, li0.rank));
                }
                log.close1(
                    &format!("{tag} exact rank_threshold"),
                    li.rank_threshold,
                    li0.rank_threshold,
                    ROUNDING,
                );
                log.close1(&format!("{tag} exact score_sum"), li.sum, li0.sum, ROUNDING);
            }
            let r =
                approx_leverage_scores(ak.view(), &ApproxParams::default(), Seed::new(9), Par::Seq);
            if let Some((_, la)) = log.ok(&tag, r) {
                if la.rank != la0.rank {
                    log.fail(&tag, format!("approx rank {} vs {}", la.rank, la0.rank));
                }
                log.close1(
                    &format!("{tag} approx score_sum"),
                    la.sum,
                    la0.sum,
                    ROUNDING,
                );
            }
            if let Some((_, i)) = log.ok(&tag, sketch_and_precondition(ak.view(), &b, &p)) {
                if i.rank != i0.rank || i.converged != i0.converged {
                    log.fail(
                        &tag,
                        format!(
                            "lstsq rank/converged {}/{} vs {}/{}",
                            i.rank, i.converged, i0.rank, i0.converged
                        ),
                    );
                }
                log.close1(
                    &format!("{tag} kappa_estimate"),
                    i.kappa_estimate,
                    i0.kappa_estimate,
                    ROUNDING,
                );
                log.close1(
                    &format!("{tag} stopping_value"),
                    i.stopping_value,
                    i0.stopping_value,
                    ROUNDING,
                );
            }
            let ctx = format!("{tag} Preconditioner::to_dense");
            if let Some(pc) = log.ok(&ctx, Preconditioner::new(ak.view(), &p)) {
                log.close(
                    &ctx,
                    &flat(pc.to_dense().as_ref()),
                    &scale(&n0, -k),
                    ROUNDING,
                );
            }
        }
    }
    log.finish();
}

#[test]
fn pool_info_and_learner_bases_scale_laws() {
    use randnla::active::ScoreSource;
    let mut log = Log::new("PoolInfo / Learner on other bases and score sources");
    for (name, x, y) in pool_inputs() {
        for basis in [Basis::Sketched { sketch_rows: None }, Basis::AsGiven] {
            let pool0 = Pool::new(x.view(), basis, Seed::new(1), Par::Seq).unwrap();
            let info0 = pool0.info().clone();
            let scores0 = pool0.scores().to_vec();
            let strategies = [
                Strategy::leverage(),
                Strategy::bss(),
                Strategy::Leverage(ScoreSource::Approx(ApproxParams::default())),
                Strategy::Leverage(ScoreSource::Given(scores0.clone())),
            ];
            for (si, strategy) in strategies.iter().enumerate() {
                let run =
                    |pool: &Pool<'_>, st: Strategy, ys: &[f64]| -> randnla::Result<Selection> {
                        let mut o = Budgeted::new(SliceOracle::new(ys), 40);
                        let mut l = Learner::new(pool, st, Seed::new(2))?;
                        l.select(40, &mut o)?;
                        let (beta, _) = l.fit(0.0)?;
                        Ok((l.weights(), beta))
                    };
                let (w0, b0) = run(&pool0, strategy.clone(), &y).unwrap();
                for k in KS {
                    let xk = x.scaled(k);
                    let tag = format!("{name} {} strategy#{si} k={k}", basis.name());
                    let Some(pool) =
                        log.ok(&tag, Pool::new(xk.view(), basis, Seed::new(1), Par::Seq))
                    else {
                        continue;
                    };
                    if si == 0 {
                        log.close1(
                            &format!("{tag} coherence"),
                            pool.info().coherence,
                            info0.coherence,
                            ROUNDING,
                        );
                        if basis != Basis::AsGiven {
                            log.close1(
                                &format!("{tag} score_sum"),
                                pool.info().score_sum,
                                info0.score_sum,
                                ROUNDING,
                            );
                        }
                    }
                    // Given scores scaled by c as well (proportions unchanged).
                    let st = match strategy {
                        Strategy::Leverage(ScoreSource::Given(s)) => {
                            Strategy::Leverage(ScoreSource::Given(scale(s, k)))
                        }
                        s => s.clone(),
                    };
                    if let Some((w, b)) = log.ok(&tag, run(&pool, st, &y)) {
                        if w.iter().map(|e| e.0).ne(w0.iter().map(|e| e.0)) {
                            log.fail(&tag, "selected rows differ".into());
                        } else {
                            let f = |w: &[(usize, f64)]| w.iter().map(|e| e.1).collect::<Vec<_>>();
                            log.close(&format!("{tag} weights"), &f(&w), &f(&w0), ROUNDING);
                        }
                        log.close(&format!("{tag} fit"), &b, &scale(&b0, -k), ROUNDING);
                    }
                }
            }
        }
    }
    log.finish();
}

/// ComponentInfo: start values T(u,…,u) scale by c; weight_spread (a standard error of the
/// weight) by c.
#[test]
fn power_method_component_info_scale() {
    let mut log = Log::new("ComponentInfo");
    let (t0, _) = tensor_pair(0, true);
    let sp = SketchParams {
        sketches: 3,
        sketch_dim: 128,
        ..SketchParams::default()
    };
    let d0 = power_method_sketched(&t0, 2, &sp, Seed::new(1), Par::Seq).unwrap();
    let e0 = power_method_exact(&t0, 2, &PowerParams::default(), Seed::new(1), Par::Seq).unwrap();
    for k in KS {
        let (_, tk) = tensor_pair(k, true);
        for (label, base, r) in [
            (
                "sketched",
                &d0,
                power_method_sketched(&tk, 2, &sp, Seed::new(1), Par::Seq),
            ),
            (
                "exact",
                &e0,
                power_method_exact(&tk, 2, &PowerParams::default(), Seed::new(1), Par::Seq),
            ),
        ] {
            let ctx = format!("{label} k={k}");
            let Some(d) = log.ok(&ctx, r) else { continue };
            for (c, c0) in d.components.iter().zip(&base.components) {
                log.close(
                    &format!("{ctx} start_values"),
                    &c.start_values,
                    &scale(&c0.start_values, k),
                    ROUNDING,
                );
                match (c.weight_spread, c0.weight_spread) {
                    (Some(s), Some(s0)) if s0.is_finite() => {
                        log.close1(&format!("{ctx} weight_spread"), s, s0 * p2(k), ROUNDING)
                    }
                    (a, b) if a.is_some() != b.is_some() => {
                        log.fail(&ctx, format!("weight_spread {a:?} vs {b:?}"))
                    }
                    _ => {}
                }
            }
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// f32: the generic entry points at k = ±60 only (f32 normal range is 2^±126: 2^±200 and beyond
// are not representable, and the laws' answers with |p·k| > 120 leave it).
// ---------------------------------------------------------------------------------------------

fn to_f32(m: &Mat<f64>) -> Mat<f32> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] as f32)
}
fn scale32(m: &Mat<f32>, e: i32) -> Mat<f32> {
    let c = p2(e) as f32;
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| c * m[(i, j)])
}
fn flat32(m: &Mat<f32>) -> Vec<f64> {
    let mut v = Vec::new();
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            v.push(m[(i, j)] as f64);
        }
    }
    v
}

#[test]
fn f32_entry_points_scale_laws() {
    let mut log = Log::new("f32 entry points");
    let (q, kk, v) = qkv();
    let (q, kk, v) = (to_f32(&q), to_f32(&kk), to_f32(&v));
    let ap = AttnParams {
        causal: false,
        block: 8,
    };
    for kernel in [
        Kernel::Softmax { scale: 0.5 },
        Kernel::Polynomial { degree: 2 },
    ] {
        let base = flat32(
            &exact_attention(q.as_ref(), kk.as_ref(), v.as_ref(), kernel, &ap, Par::Seq).unwrap(),
        );
        for k in [-60, 60] {
            let ctx = format!("exact {kernel:?} V→2^{k}V");
            let vk = scale32(&v, k);
            if let Some(o) = log.ok(
                &ctx,
                exact_attention(q.as_ref(), kk.as_ref(), vk.as_ref(), kernel, &ap, Par::Seq),
            ) {
                log.bits(&ctx, &flat32(&o), &scale(&base, k));
            }
            let ctx = format!("exact {kernel:?} (2^{k}Q, 2^{}K)", -k);
            let (qk, kk2) = (scale32(&q, k), scale32(&kk, -k));
            if let Some(o) = log.ok(
                &ctx,
                exact_attention(qk.as_ref(), kk2.as_ref(), v.as_ref(), kernel, &ap, Par::Seq),
            ) {
                log.bits(&ctx, &flat32(&o), &base);
            }
        }
    }
    // Sketched attention, degree 2: V law bitwise; (cQ, K/c) with |2k| ≤ 120 to rounding of f32
    // (ROUNDING is for f64: 1e-5 ≈ 100·u_f32 here).
    let sp = PolySketchParams {
        degree: 2,
        sketch_dim: 16,
        block: 8,
        ..PolySketchParams::default()
    };
    let (base, _) =
        poly_sketch_attention(q.as_ref(), kk.as_ref(), v.as_ref(), &sp, Par::Seq).unwrap();
    let base = flat32(&base);
    for k in [-60, 60] {
        let ctx = format!("poly_sketch V→2^{k}V");
        let vk = scale32(&v, k);
        if let Some((o, _)) = log.ok(
            &ctx,
            poly_sketch_attention(q.as_ref(), kk.as_ref(), vk.as_ref(), &sp, Par::Seq),
        ) {
            log.bits(&ctx, &flat32(&o), &scale(&base, k));
        }
        let ctx = format!("poly_sketch (2^{k}Q, 2^{}K)", -k);
        let (qk, kk2) = (scale32(&q, k), scale32(&kk, -k));
        if let Some((o, _)) = log.ok(
            &ctx,
            poly_sketch_attention(qk.as_ref(), kk2.as_ref(), v.as_ref(), &sp, Par::Seq),
        ) {
            log.close(&ctx, &flat32(&o), &base, 1e-5);
        }
    }
    // TensorSketch p = 2 on f32 rows: c² (|2k| = 120 ≤ 126).
    let ts = TensorSketch::new(2, 6, 64, Seed::new(3)).unwrap();
    let b0 = flat32(
        &ts.apply_rows(MatrixRef::dense(q.as_ref()).unwrap(), Par::Seq)
            .unwrap(),
    );
    for k in [-60, 60] {
        let ctx = format!("TensorSketch f32 apply_rows k={k}");
        let qk = scale32(&q, k);
        if let Some(o) = log.ok(
            &ctx,
            ts.apply_rows(MatrixRef::dense(qk.as_ref()).unwrap(), Par::Seq),
        ) {
            log.close(&ctx, &flat32(&o), &scale(&b0, 2 * k), 1e-5);
        }
    }
    log.finish();
}

// ---------------------------------------------------------------------------------------------
// The same laws on 2 threads and inputs large enough for the parallel paths (row chunks of the
// sketches, the leverage passes and the features; 12 000 × 8 dense, 20 000 × 8 CSR), where a
// power-of-two rescaling chosen per chunk could differ from the whole. Laws and tolerances as
// above, k ∈ {−900, 900} only (runtime).
// ---------------------------------------------------------------------------------------------

#[test]
fn parallel_medium_inputs_scale_laws() {
    let mut log = Log::new("2 threads, medium inputs");
    common::with_threads(2, |par| {
        let mats = [
            ("dense 12000x8", Input::Dense(dense_mat(12000, 8, 101))),
            ("csr 20000x8", Input::Csr(sparse_mat(20000, 8, 102))),
        ];
        for (name, a) in &mats {
            let n = a.nrows();
            let b = rhs(a);
            let s = SketchKind::SparseSign { nnz_per_col: 8 }
                .build::<f64>(64, n, Seed::new(3))
                .unwrap();
            let sa0 = flat(s.apply(a.view(), par).unwrap().as_ref());
            let ex = ExactParams {
                method: ExactMethod::SketchCholesky,
                ..ExactParams::default()
            };
            let (l0, _) = exact_leverage_scores(a.view(), &ex, par).unwrap();
            let (la0, _) =
                approx_leverage_scores(a.view(), &ApproxParams::default(), Seed::new(9), par)
                    .unwrap();
            let lp = LstsqParams {
                par,
                ..LstsqParams::default()
            };
            let (x0, _) = sketch_and_precondition(a.view(), &b, &lp).unwrap();
            let pool0 = Pool::new(a.view(), Basis::Exact, Seed::new(1), par).unwrap();
            let (beta0, _) = pool0.least_squares(&b).unwrap();
            let ts = TensorSketch::new(2, 8, 64, Seed::new(3)).unwrap();
            let t0 = flat(ts.apply_rows(a.view(), par).unwrap().as_ref());
            for k in [-900, 900] {
                let ak = a.scaled(k);
                let tag = format!("{name} k={k}");
                if let Some(m) = log.ok(&tag, s.apply(ak.view(), par)) {
                    log.bits(&format!("{tag} sketch"), &flat(m.as_ref()), &scale(&sa0, k));
                }
                if let Some((l, _)) = log.ok(&tag, exact_leverage_scores(ak.view(), &ex, par)) {
                    log.close(&format!("{tag} exact leverage"), &l, &l0, ROUNDING);
                }
                let r =
                    approx_leverage_scores(ak.view(), &ApproxParams::default(), Seed::new(9), par);
                if let Some((l, _)) = log.ok(&tag, r) {
                    log.close(&format!("{tag} approx leverage"), &l, &la0, ROUNDING);
                }
                if let Some((x, _)) = log.ok(&tag, sketch_and_precondition(ak.view(), &b, &lp)) {
                    log.close(&format!("{tag} lstsq"), &x, &scale(&x0, -k), ROUNDING);
                }
                let r = sketch_and_precondition(ak.view(), &scale(&b, k), &lp);
                if let Some((x, _)) = log.ok(&tag, r) {
                    log.close(&format!("{tag} lstsq (cA, cb)"), &x, &x0, ROUNDING);
                }
                if let Some(pool) =
                    log.ok(&tag, Pool::new(ak.view(), Basis::Exact, Seed::new(1), par))
                {
                    log.close(
                        &format!("{tag} pool scores"),
                        pool.scores(),
                        pool0.scores(),
                        ROUNDING,
                    );
                    if let Some((beta, _)) = log.ok(&tag, pool.least_squares(&b)) {
                        log.close(
                            &format!("{tag} pool lstsq"),
                            &beta,
                            &scale(&beta0, -k),
                            ROUNDING,
                        );
                    }
                }
                // TensorSketch p = 2: c² only where it fits; use k/2.
                let h = k / 2;
                if let Some(m) = log.ok(&tag, ts.apply_rows(a.scaled(h).view(), par)) {
                    log.close(
                        &format!("{tag} TensorSketch rows (k/2)"),
                        &flat(m.as_ref()),
                        &scale(&t0, 2 * h),
                        ROUNDING,
                    );
                }
            }
        }
        // Attention on 600 rows, 2 threads: V law and (cQ, K/c) law.
        let (q, kk, v) = (
            dense_mat(600, 8, 111),
            dense_mat(600, 8, 112),
            dense_mat(600, 4, 113),
        );
        let ap = AttnParams {
            causal: true,
            block: 64,
        };
        let kern = Kernel::Softmax { scale: 0.3 };
        let base = flat(
            exact_attention(q.as_ref(), kk.as_ref(), v.as_ref(), kern, &ap, par)
                .unwrap()
                .as_ref(),
        );
        let sp = PolySketchParams {
            degree: 2,
            sketch_dim: 16,
            causal: true,
            block: 64,
            ..PolySketchParams::default()
        };
        let (sb, _) = poly_sketch_attention(q.as_ref(), kk.as_ref(), v.as_ref(), &sp, par).unwrap();
        let sb = flat(sb.as_ref());
        for k in [-900, 900] {
            let vk = scale_mat(&v, k);
            let ctx = format!("attention 600 k={k}");
            if let Some(o) = log.ok(
                &ctx,
                exact_attention(q.as_ref(), kk.as_ref(), vk.as_ref(), kern, &ap, par),
            ) {
                log.bits(
                    &format!("{ctx} exact V"),
                    &flat(o.as_ref()),
                    &scale(&base, k),
                );
            }
            let (qk, kk2) = (scale_mat(&q, k), scale_mat(&kk, -k));
            if let Some(o) = log.ok(
                &ctx,
                exact_attention(qk.as_ref(), kk2.as_ref(), v.as_ref(), kern, &ap, par),
            ) {
                log.bits(&format!("{ctx} exact (cQ, K/c)"), &flat(o.as_ref()), &base);
            }
            if let Some((o, _)) = log.ok(
                &ctx,
                poly_sketch_attention(q.as_ref(), kk.as_ref(), vk.as_ref(), &sp, par),
            ) {
                log.bits(
                    &format!("{ctx} sketched V"),
                    &flat(o.as_ref()),
                    &scale(&sb, k),
                );
            }
        }
    });
    log.finish();
}

/// sketch_and_solve with every sketch family: x(cA, b) = x/c, x(cA, cb) = x, all k. ROUNDING.
#[test]
fn sketch_and_solve_every_family_scale_laws() {
    let mut log = Log::new("sketch_and_solve (every family)");
    for (name, a) in inputs() {
        let b = rhs(&a);
        for kind in [
            SketchKind::CountSketch,
            SketchKind::SparseSign { nnz_per_col: 4 },
            SketchKind::Gaussian,
            SketchKind::Srht,
        ] {
            let p = SketchSolveParams {
                sketch: kind,
                sketch_rows: Some(40),
                ..SketchSolveParams::default()
            };
            let (x0, _) = sketch_and_solve(a.view(), &b, &p).unwrap();
            for k in KS {
                let ak = a.scaled(k);
                let ctx = format!("{name} {} (2^{k}A, b)", kind.name());
                if let Some((x, _)) = log.ok(&ctx, sketch_and_solve(ak.view(), &b, &p)) {
                    log.close(&ctx, &x, &scale(&x0, -k), ROUNDING);
                }
                let ctx = format!("{name} {} (2^{k}A, 2^{k}b)", kind.name());
                if let Some((x, _)) = log.ok(&ctx, sketch_and_solve(ak.view(), &scale(&b, k), &p)) {
                    log.close(&ctx, &x, &x0, ROUNDING);
                }
            }
        }
    }
    log.finish();
}

/// Order-4 tensor (per-mode hashing, the default at order ≥ 4): power_method_sketched and
/// power_method_exact weights scale by c, factors unchanged (as at order 3).
#[test]
fn power_method_order4_scale() {
    let mut log = Log::new("power method, order 4");
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(4, 6, 2, 0.0, Seed::new(17)).unwrap();
    let mut idx = Vec::new();
    let mut vals = Vec::new();
    t.for_each_entry(|i, v| {
        if i.windows(2).all(|w| w[0] <= w[1]) {
            idx.extend(i.iter().map(|&u| u as usize));
            vals.push(v);
        }
    });
    let mk = |k: i32| {
        SymmetricTensor::coordinate(4, 6, &idx, &scale(&vals, k))
            .unwrap()
            .to_dense()
            .unwrap()
    };
    let t0 = mk(0);
    let sp = SketchParams {
        sketches: 3,
        sketch_dim: 128,
        ..SketchParams::default()
    };
    let d0 = power_method_sketched(&t0, 2, &sp, Seed::new(1), Par::Seq).unwrap();
    let e0 = power_method_exact(&t0, 2, &PowerParams::default(), Seed::new(1), Par::Seq).unwrap();
    for k in KS {
        let tk = mk(k);
        for (label, base, r) in [
            (
                "sketched",
                &d0,
                power_method_sketched(&tk, 2, &sp, Seed::new(1), Par::Seq),
            ),
            (
                "exact",
                &e0,
                power_method_exact(&tk, 2, &PowerParams::default(), Seed::new(1), Par::Seq),
            ),
        ] {
            let ctx = format!("{label} k={k}");
            if let Some(d) = log.ok(&ctx, r) {
                log.close(
                    &format!("{ctx} weights"),
                    &d.weights,
                    &scale(&base.weights, k),
                    10.0 * ROUNDING,
                );
                log.close(
                    &format!("{ctx} factors"),
                    &factors_flat(&d.factors),
                    &factors_flat(&base.factors),
                    10.0 * ROUNDING,
                );
            }
        }
    }
    log.finish();
}

fn sap_diagonal_f(a: MatrixRef<'_, f64>, b: &[f64], l: f64) -> randnla::Result<Vec<f64>> {
    sap(
        a,
        b,
        LstsqParams {
            ridge: l,
            probe: false,
            factorization: Factorization::Diagonal,
            ..LstsqParams::default()
        },
    )
}

#[test]
fn sketch_and_precondition_diagonal_scale_laws() {
    check_solver(
        "sketch_and_precondition (no probe, Diagonal)",
        sap_diagonal_f,
        true,
    );
}

/// Ridge with λ far from ‖A‖² (λ/‖A‖² from 10⁻³⁰ to 10²⁰, where the solvers switch between
/// regimes by thresholds on that ratio): x(cA, b, c²λ) = x(A, b, λ)/c at every k where c²λ is a
/// normal number (λ·2^{2k} within 2^±1000). ROUNDING.
#[test]
fn ridge_extreme_ratios_scale_laws() {
    let mut log = Log::new("ridge, extreme λ/‖A‖²");
    let solvers: [(&str, Solve); 5] = [
        ("qr_solve", qr_solve_f),
        ("normal_equations", normal_equations_f),
        ("lsqr", lsqr_f),
        ("sketch_and_precondition", sap_default_f),
        ("ridge", ridge_f),
    ];
    for (name, a) in inputs() {
        let b = rhs(&a);
        for lambda in [1e-30f64, 1e-8, 1e6, 1e20] {
            let le = lambda.log2().round() as i32;
            for (sname, f) in solvers {
                let Some(x0) = log.ok(
                    &format!("{name} {sname} λ={lambda:e} k=0"),
                    f(a.view(), &b, lambda),
                ) else {
                    continue;
                };
                for k in KS.into_iter().filter(|k| fits(le + 2 * k)) {
                    let ctx = format!("{name} {sname} λ={lambda:e} k={k}");
                    let r = f(a.scaled(k).view(), &b, lambda * p2(2 * k));
                    if let Some(x) = log.ok(&ctx, r) {
                        log.close(&ctx, &x, &scale(&x0, -k), ROUNDING);
                    }
                }
            }
        }
    }
    log.finish();
}

/// A rank-deficient A (its last column a copy of the first; consistent b): the outcome does not
/// depend on k — the same error kind, or (SVD route, leverage scores) the same answer scaled by
/// the law (minimum-norm x → x/c; scores and rank unchanged). ROUNDING.
#[test]
fn rank_deficient_outcome_invariant() {
    let mut log = Log::new("rank-deficient A");
    let base = dense_mat(60, 4, 121);
    let a = Input::Dense(Mat::from_fn(60, 5, |i, j| {
        base[(i, if j == 4 { 0 } else { j })]
    }));
    let z = [1.0, -2.0, 0.5, 1.5, 0.0];
    let ad = a.to_dense();
    let b: Vec<f64> = (0..60)
        .map(|i| (0..5).map(|j| ad[(i, j)] * z[j]).sum())
        .collect();
    let kind = |r: &randnla::Result<Vec<f64>>| match r {
        Ok(_) => "Ok".to_string(),
        Err(e) => format!("{:?}", std::mem::discriminant(e)),
    };
    let solvers: [(&str, Solve); 5] = [
        ("qr_solve", qr_solve_f),
        ("normal_equations", normal_equations_f),
        ("sketch_and_precondition", sap_default_f),
        ("sketch_and_precondition svd", sap_noprobe_svd_f),
        ("sketch_and_solve", sketch_and_solve_f),
    ];
    for (sname, f) in solvers {
        let r0 = f(a.view(), &b, 0.0);
        for k in KS {
            let ctx = format!("{sname} k={k}");
            let r = f(a.scaled(k).view(), &b, 0.0);
            if kind(&r) != kind(&r0) {
                log.fail(
                    &ctx,
                    format!(
                        "outcome {} vs {} at k = 0 ({r:?} / {r0:?})",
                        kind(&r),
                        kind(&r0)
                    ),
                );
                continue;
            }
            if let (Ok(x), Ok(x0)) = (&r, &r0) {
                log.close(&ctx, x, &scale(x0, -k), ROUNDING);
            }
        }
    }
    let (s0, i0) = exact_leverage_scores(a.view(), &ExactParams::default(), Par::Seq).unwrap();
    let (sa0, ia0) =
        approx_leverage_scores(a.view(), &ApproxParams::default(), Seed::new(9), Par::Seq).unwrap();
    for k in KS {
        let ak = a.scaled(k);
        let ctx = format!("exact leverage k={k}");
        if let Some((s, i)) = log.ok(
            &ctx,
            exact_leverage_scores(ak.view(), &ExactParams::default(), Par::Seq),
        ) {
            if i.rank != i0.rank {
                log.fail(&ctx, format!("rank {} vs {}", i.rank, i0.rank));
            }
            log.close(&ctx, &s, &s0, ROUNDING);
        }
        let ctx = format!("approx leverage k={k}");
        let r = approx_leverage_scores(ak.view(), &ApproxParams::default(), Seed::new(9), Par::Seq);
        if let Some((s, i)) = log.ok(&ctx, r) {
            if i.rank != ia0.rank {
                log.fail(&ctx, format!("rank {} vs {}", i.rank, ia0.rank));
            }
            log.close(&ctx, &s, &sa0, ROUNDING);
        }
    }
    log.finish();
}

/// I/O: values scaled by 2^k (and subnormal ones) survive a write/read round trip bit for bit,
/// dense and sparse Matrix Market and `.tns` (the law is the identity on the scaled data).
#[test]
fn io_round_trips_scaled_values() {
    use randnla::io::{read_dense, read_sparse, write_dense, write_sparse, ReadOptions};
    use randnla::tensor::{read_tns, write_tns, TnsEntries};
    use randnla::SparseRef;
    let mut log = Log::new("io round trips");
    let a = dense_mat(7, 3, 131);
    let sp = sparse_mat(9, 3, 132);
    let opts = ReadOptions::default();
    let mut ks: Vec<i32> = KS.to_vec();
    ks.push(-1060); // subnormal entries (2^-1060·[2^-40, 1]): exact in f64 only as printed
    for k in ks {
        let c = if k < -1022 {
            p2(-1000) * p2(k + 1000)
        } else {
            p2(k)
        };
        let ak = Mat::from_fn(7, 3, |i, j| a[(i, j)] * c);
        let mut buf = Vec::new();
        let ctx = format!("dense k={k}");
        if log.ok(&ctx, write_dense(&mut buf, ak.as_ref())).is_some() {
            if let Some(back) = log.ok(&ctx, read_dense(&buf[..], &opts)) {
                log.bits(&ctx, &flat(back.as_ref()), &flat(ak.as_ref()));
            }
        }
        let spk = sp.map(|v| v * c);
        let mut buf = Vec::new();
        let ctx = format!("sparse k={k}");
        let sr = SparseRef::from_sprs(spk.view()).unwrap();
        if log.ok(&ctx, write_sparse(&mut buf, &sr)).is_some() {
            if let Some(back) = log.ok(&ctx, read_sparse(&buf[..], randnla::Layout::Csr, &opts)) {
                let d1 = MatrixRef::sparse(&back).unwrap().to_dense().unwrap();
                let d0 = MatrixRef::sparse(&spk).unwrap().to_dense().unwrap();
                log.bits(&ctx, &flat(d1.as_ref()), &flat(d0.as_ref()));
            }
        }
        if k >= -1022 {
            let (_, tk) = tensor_pair(k, false);
            let mut buf = Vec::new();
            let ctx = format!("tns k={k}");
            if log
                .ok(&ctx, write_tns(&mut buf, &tk, TnsEntries::Unique))
                .is_some()
            {
                if let Some(back) = log.ok(&ctx, read_tns(&buf[..])) {
                    let u: Vec<f64> = Rng(133).vec(8);
                    let x = back.contract_but_one(&u, Par::Seq).unwrap();
                    let y = tk.contract_but_one(&u, Par::Seq).unwrap();
                    log.bits(&ctx, &x, &y);
                }
            }
        }
    }
    log.finish();
}

/// More tensor entry points: from_components(c·w) = c·T; TensorSketches::{estimates_all,
/// estimates_but_one} of cT = c·; after deflate(c·w, u) the sketched contraction is c times that
/// of the deflated T. ROUNDING (FFT); from_components bitwise.
#[test]
fn tensor_more_entry_points_scale() {
    let mut log = Log::new("from_components / estimates / deflate");
    let (_, w, f) = SymmetricTensor::synthetic_orthogonal(3, 8, 2, 0.0, Seed::new(7)).unwrap();
    let u: Vec<f64> = Rng(141).vec(8);
    let t0 = SymmetricTensor::from_components(3, 8, &w, &f).unwrap();
    let c0 = t0.contract_but_one(&u, Par::Seq).unwrap();
    let (tp0, _) = tensor_pair(0, true);
    let s0 = TensorSketches::new(&tp0, 3, 64, Seed::new(2), Par::Seq).unwrap();
    let ea0 = s0.estimates_all(&u, Par::Seq).unwrap();
    let eb0: Vec<f64> = s0
        .estimates_but_one(&u, Par::Seq)
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    let mut d0 = s0.clone();
    d0.deflate(w[0], &f[0], Par::Seq).unwrap();
    let dc0 = d0.contract_but_one(&u, Par::Seq).unwrap();
    for k in KS {
        let ctx = format!("from_components k={k}");
        if let Some(t) = log.ok(
            &ctx,
            SymmetricTensor::from_components(3, 8, &scale(&w, k), &f),
        ) {
            if let Some(c) = log.ok(&ctx, t.contract_but_one(&u, Par::Seq)) {
                log.bits(&ctx, &c, &scale(&c0, k));
            }
        }
        let (_, tk) = tensor_pair(k, true);
        let ctx = format!("TensorSketches k={k}");
        let Some(s) = log.ok(
            &ctx,
            TensorSketches::new(&tk, 3, 64, Seed::new(2), Par::Seq),
        ) else {
            continue;
        };
        if let Some(e) = log.ok(&ctx, s.estimates_all(&u, Par::Seq)) {
            log.close(
                &format!("{ctx} estimates_all"),
                &e,
                &scale(&ea0, k),
                ROUNDING,
            );
        }
        if let Some(e) = log.ok(&ctx, s.estimates_but_one(&u, Par::Seq)) {
            let e: Vec<f64> = e.into_iter().flatten().collect();
            log.close(
                &format!("{ctx} estimates_but_one"),
                &e,
                &scale(&eb0, k),
                ROUNDING,
            );
        }
        let mut d = s.clone();
        if log
            .ok(&ctx, d.deflate(w[0] * p2(k), &f[0], Par::Seq))
            .is_some()
        {
            if let Some(c) = log.ok(&ctx, d.contract_but_one(&u, Par::Seq)) {
                log.close(&format!("{ctx} deflate"), &c, &scale(&dc0, k), ROUNDING);
            }
        }
    }
    log.finish();
}

/// PolyKernelFeatures::transform_vec agrees with the law of transform (c₀ = 0: c^p); and
/// Learner::select_labels selects the same rows with the same weights for cX.
#[test]
fn transform_vec_and_select_labels_scale() {
    let mut log = Log::new("transform_vec / select_labels");
    let x: Vec<f64> = Rng(151).vec(6);
    let f = PolyKernelFeatures::new(
        6,
        PolyKernelParams {
            degree: 2,
            gamma: 1.0,
            coef0: 0.0,
            sketch_dim: 64,
            method: randnla::sketch::tensor::TensorMethod::Fft,
        },
        Seed::new(5),
    )
    .unwrap();
    let v0 = f.transform_vec(&x).unwrap();
    for k in KS.into_iter().filter(|k| fits(2 * k)) {
        let ctx = format!("transform_vec k={k}");
        if let Some(v) = log.ok(&ctx, f.transform_vec(&scale(&x, k))) {
            log.close(&ctx, &v, &scale(&v0, 2 * k), ROUNDING);
        }
    }
    for (name, xm, y) in pool_inputs() {
        let run = |xm: &Input| -> randnla::Result<Selection> {
            let pool = Pool::new(xm.view(), Basis::Exact, Seed::new(1), Par::Seq)?;
            let mut o = Budgeted::new(SliceOracle::new(&y), 60);
            let mut l = Learner::new(&pool, Strategy::bss(), Seed::new(2))?;
            l.select_labels(30, &mut o)?;
            let (beta, _) = l.fit(0.0)?;
            Ok((l.weights(), beta))
        };
        let (w0, b0) = run(&xm).unwrap();
        for k in KS {
            let ctx = format!("{name} select_labels k={k}");
            if let Some((w, b)) = log.ok(&ctx, run(&xm.scaled(k))) {
                if w.iter().map(|e| e.0).ne(w0.iter().map(|e| e.0)) {
                    log.fail(&ctx, "selected rows differ".into());
                } else {
                    let g = |w: &[(usize, f64)]| w.iter().map(|e| e.1).collect::<Vec<_>>();
                    log.close(&ctx, &g(&w), &g(&w0), ROUNDING);
                }
                log.close(&format!("{ctx} fit"), &b, &scale(&b0, -k), ROUNDING);
            }
        }
    }
    log.finish();
}

/// SketchInfo of sketched attention with `check: true`: the reported relative error against
/// exact attention and the smallest normalizer do not change under V → cV (all k) or
/// (cQ, K/c) within the features' range (k = ±60, ±200 at p = 2). ROUNDING.
#[test]
fn poly_sketch_attention_info_invariant() {
    let mut log = Log::new("SketchInfo (rel_error, min_normalizer)");
    let (q, kk, v) = qkv();
    let p = PolySketchParams {
        degree: 2,
        sketch_dim: 16,
        block: 8,
        check: true,
        ..PolySketchParams::default()
    };
    let (_, i0) = poly_sketch_attention(q.as_ref(), kk.as_ref(), v.as_ref(), &p, Par::Seq).unwrap();
    let e0 = i0.rel_error.unwrap();
    for k in KS {
        let vk = scale_mat(&v, k);
        let ctx = format!("V→2^{k}V");
        let r = poly_sketch_attention(q.as_ref(), kk.as_ref(), vk.as_ref(), &p, Par::Seq);
        if let Some((_, i)) = log.ok(&ctx, r) {
            log.close1(
                &format!("{ctx} rel_error"),
                i.rel_error.unwrap_or(f64::NAN),
                e0,
                ROUNDING,
            );
            log.close1(
                &format!("{ctx} min_normalizer"),
                i.min_normalizer,
                i0.min_normalizer,
                ROUNDING,
            );
        }
        if fits(2 * k) {
            let ctx = format!("(2^{k}Q, 2^{}K)", -k);
            let (qk, kk2) = (scale_mat(&q, k), scale_mat(&kk, -k));
            let r = poly_sketch_attention(qk.as_ref(), kk2.as_ref(), v.as_ref(), &p, Par::Seq);
            if let Some((_, i)) = log.ok(&ctx, r) {
                log.close1(
                    &format!("{ctx} rel_error"),
                    i.rel_error.unwrap_or(f64::NAN),
                    e0,
                    ROUNDING,
                );
                log.close1(
                    &format!("{ctx} min_normalizer"),
                    i.min_normalizer,
                    i0.min_normalizer,
                    ROUNDING,
                );
            }
        }
    }
    log.finish();
}

/// `PolySketch::weights(2^k·Q, 2^−k·K)` equals `weights(Q, K)` bitwise (the factors are balanced
/// by a power of two before their features are formed; at p = 4 the features of `2^900·Q`
/// overflowed before session 38).
#[test]
fn poly_sketch_weights_balanced_scaling() {
    let mut log = Log::new("PolySketch::weights (cQ, K/c)");
    let (q, kk, _) = qkv();
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        for degree in [2, 4] {
            let ps = PolySketch::new(q.ncols(), degree, 16, map, Seed::new(2)).unwrap();
            let base = ps.weights(q.as_ref(), kk.as_ref(), Par::Seq).unwrap();
            let basef = flat(base.as_ref());
            for k in KS {
                let ctx = format!("{map:?} p={degree} (2^{k}Q, 2^{}K)", -k);
                let (qk, kk2) = (scale_mat(&q, k), scale_mat(&kk, -k));
                if let Some(w) = log.ok(&ctx, ps.weights(qk.as_ref(), kk2.as_ref(), Par::Seq)) {
                    log.close(&ctx, &flat(w.as_ref()), &basef, 0.0);
                }
            }
        }
    }
    log.finish();
}
