//! Exact (double-double) references for the kernel regression reviews (`tests/review49.rs`,
//! `tests/review50.rs`): residuals `(AᵀA)ʲx − b` and P2's excess over its optimum computed
//! with an error of about `u²` of the data, so a check built on them has no rounding floor of
//! its own, plus the small SVD helpers those reviews share.

use faer::Mat;
use randnla::lstsq::kernel_regression::{InnerSolve, KernelParams};

pub const U: f64 = f64::EPSILON / 2.0;

/// A double-double number `hi + lo`.
#[derive(Clone, Copy)]
pub struct Dd(pub f64, pub f64);

pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

pub fn dd_add(a: Dd, b: Dd) -> Dd {
    let (s, e) = two_sum(a.0, b.0);
    let (s, e) = two_sum(s, e + a.1 + b.1);
    Dd(s, e)
}

/// `acc + a·x` in double-double.
pub fn dd_fma(acc: Dd, a: f64, x: Dd) -> Dd {
    let p = a * x.0;
    let e = a.mul_add(x.0, -p) + a * x.1;
    let (s, t) = two_sum(acc.0, p);
    let (s, t) = two_sum(s, t + acc.1 + e);
    Dd(s, t)
}

pub fn mv(a: &Mat<f64>, v: &[Dd]) -> Vec<Dd> {
    (0..a.nrows())
        .map(|i| (0..a.ncols()).fold(Dd(0.0, 0.0), |acc, k| dd_fma(acc, a[(i, k)], v[k])))
        .collect()
}

pub fn mtv(a: &Mat<f64>, v: &[Dd]) -> Vec<Dd> {
    (0..a.ncols())
        .map(|k| (0..a.nrows()).fold(Dd(0.0, 0.0), |acc, i| dd_fma(acc, a[(i, k)], v[i])))
        .collect()
}

pub fn dd_vec(x: &[f64]) -> Vec<Dd> {
    x.iter().map(|&t| Dd(t, 0.0)).collect()
}

/// `(AᵀA)ʲx` in double-double.
pub fn gram_power(a: &Mat<f64>, j: usize, x: &[f64]) -> Vec<Dd> {
    let mut v = dd_vec(x);
    for _ in 0..j {
        v = mtv(a, &mv(a, &v));
    }
    v
}

pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

pub fn dd_norm(v: &[Dd]) -> f64 {
    v.iter().map(|p| (p.0 + p.1).powi(2)).sum::<f64>().sqrt()
}

/// `‖(AᵀA)ʲx − b‖`, exact to about `u²`.
pub fn p1_residual(a: &Mat<f64>, j: usize, x: &[f64], b: &[f64]) -> f64 {
    let kx = gram_power(a, j, x);
    let d: Vec<Dd> = kx
        .iter()
        .zip(b)
        .map(|(p, &q)| dd_add(*p, Dd(-q, 0.0)))
        .collect();
    dd_norm(&d)
}

/// P2's `y* = argmin ‖Ay − b‖` in double-double: refinement of the normal equations with
/// double-double residuals `Aᵀ(b − Ay)` and an `f64` Cholesky of `AᵀA` (each step gains
/// `u·κ(A)²`; 40 steps here, against an earlier 12, so that `u²` is reached up to `κ(A) ≈ 10⁷`).
pub fn lstsq_dd(a: &Mat<f64>, b: &[f64]) -> Vec<Dd> {
    let g = a.transpose() * a;
    let llt = g.llt(faer::Side::Lower).unwrap();
    let d = a.ncols();
    let mut y = vec![Dd(0.0, 0.0); d];
    for _ in 0..40 {
        let ay = mv(a, &y);
        let r: Vec<Dd> = ay
            .iter()
            .zip(b)
            .map(|(p, &q)| dd_add(Dd(q, 0.0), Dd(-p.0, -p.1)))
            .collect();
        let s = mtv(a, &r);
        let rhs = Mat::from_fn(d, 1, |i, _| s[i].0 + s[i].1);
        let step = faer::linalg::solvers::Solve::solve(&llt, &rhs);
        for (k, yk) in y.iter_mut().enumerate() {
            *yk = dd_add(*yk, Dd(step[(k, 0)], 0.0));
        }
    }
    y
}

/// P2's excess `‖A(y* − (AᵀA)ʲx)‖` over the optimum.
pub fn p2_excess(a: &Mat<f64>, j: usize, x: &[f64], ystar: &[Dd]) -> f64 {
    let kx = gram_power(a, j, x);
    let d: Vec<Dd> = ystar
        .iter()
        .zip(&kx)
        .map(|(p, q)| dd_add(*p, Dd(-q.0, -q.1)))
        .collect();
    dd_norm(&mv(a, &d))
}

pub fn kappa(a: &Mat<f64>) -> f64 {
    let s = a.singular_values().unwrap();
    let hi = s.iter().copied().fold(0.0, f64::max);
    let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
    hi / lo
}

pub fn params(route: InnerSolve, tol: f64) -> KernelParams {
    KernelParams {
        inner_solve: route,
        tol,
        ..KernelParams::default()
    }
}

/// The left singular vector of `A`'s smallest singular value (unit norm).
pub fn smallest_left_singular(a: &Mat<f64>) -> Vec<f64> {
    let svd = a.thin_svd().unwrap();
    let d = a.ncols();
    (0..a.nrows()).map(|i| svd.U()[(i, d - 1)]).collect()
}

/// The right singular vector of `A`'s smallest singular value (unit norm).
pub fn smallest_right_singular(a: &Mat<f64>) -> Vec<f64> {
    let svd = a.thin_svd().unwrap();
    let d = a.ncols();
    (0..d).map(|i| svd.V()[(i, d - 1)]).collect()
}
