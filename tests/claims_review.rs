//! A review of the quantitative claims in the docs of `lstsq`, `leverage` and `diagnostics`
//! against exact dense computation (faer SVD/QR of `n × d` problems, `n ≤ 4000` where a
//! product `A·N` or a solve is formed, up to `20000 × 100` for orthonormal bases and leverage
//! scores), for the claims no earlier test checked. Each test quotes its claim with `file:line`,
//! states its inputs (adversarial but legal ones included: coherent `[I; εG]`, Epperly's
//! `U·diag(logspace)·Vᵀ`, rank-deficient, sketches just above the documented minimum) and
//! derives its pass rule from the claim (line numbers as of the review, 2026-12-06).
//!
//! Five documented figures did not hold and were corrected in the docs; their tests now pin
//! the corrected statements: sketch-and-solve's "sparse sketches match" the Gaussian expected
//! residual (not CountSketch on coherent input), the iterations at `m = 2d` (1.4–1.5× those at
//! `4d`, not 2×), the worst distortion of `s = 2` (heavy-tailed, up to 11.6, not 4.6), the
//! leverage error formula with a short first sketch (0.30, not 0.25) and `weight_spread` called
//! conservative (not at orders 7 and 9).

use crate::common;

use common::{dense, gauss, rhs};
use faer::{Mat, Par};
use randnla::diagnostics::orthonormal_basis;
use randnla::leverage::{exact_leverage_scores, ExactMethod, ExactParams};
use randnla::lstsq::{
    lsqr, qr_solve, sketch_and_precondition, sketch_and_solve, Factorization, LsqrParams,
    LstsqParams, Preconditioner, SketchSolveParams, SKETCH_STREAM,
};
use randnla::problems::{coherent_matrix, gaussian_matrix, ls_problem};
use randnla::sketch::{SketchExt, SketchKind, SparseSign};
use randnla::{MatrixRef, Seed};

const U: f64 = f64::EPSILON / 2.0;

fn col(v: &[f64]) -> Mat<f64> {
    Mat::from_fn(v.len(), 1, |i, _| v[i])
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Singular values, largest first.
fn svals(m: &Mat<f64>) -> Vec<f64> {
    m.singular_values().unwrap()
}

fn kappa(m: &Mat<f64>) -> f64 {
    let s = svals(m);
    s[0] / s[s.len() - 1]
}

/// `b − A·x`.
fn residual(a: &Mat<f64>, x: &[f64], b: &[f64]) -> Vec<f64> {
    let ax = a * col(x);
    (0..b.len()).map(|i| b[i] - ax[(i, 0)]).collect()
}

/// Extreme singular values `(σ₊, σ₋)` of `S·Q` for the sketch of `kind` with `m` rows drawn from
/// `seed`, `Q` an orthonormal basis.
fn sq_extremes(kind: SketchKind, m: usize, seed: Seed, q: &Mat<f64>) -> (f64, f64) {
    let s = kind.build::<f64>(m, q.nrows(), seed).unwrap();
    let sq = s.as_ref().apply(dense(q), Par::Seq).unwrap();
    let sv = svals(&sq);
    (sv[0], sv[q.ncols() - 1])
}

fn median(mut v: Vec<f64>) -> f64 {
    common::median(&mut v)
}

/// Claim, `src/lstsq/sketch_solve.rs:165`: "With an ε-subspace embedding,
/// `‖Ax̃ − b‖ ≤ (1+ε)/(1−ε)·min‖Ax − b‖`". The classical proof needs `S` to embed
/// `range([A, b])` (an embedding of `range(A)` alone says nothing about `‖S r⋆‖`), so `ε` is
/// measured exactly on an orthonormal basis of `[A, b]`: `ε = max(σ₊ − 1, 1 − σ₋)` of `S·Q`.
/// The bound is deterministic, so the pass rule is: for every `(input, sketch, m, seed)` with
/// `ε < 1`, ratio ≤ `(1+ε)/(1−ε)·(1 + 1e-8)` (`1e-8` covers the rounding of `OPT` from a QR
/// solve and of `x̃` from the QR of `SA`, `u·κ(A)` relative at most `1e-6` here, squared in the
/// excess). Inputs, `n = 2000`, `d = 20`: Gaussian `A`, the coherent `[I; 10⁻³G]`, Epperly's
/// `κ = 10¹⁰`, `ρ = 10⁻³` problem; every sketch family, `m ∈ {d + 2, 2d, 4d, 10d}` (`m ≥ d` is
/// the documented minimum), 6 seeds each. It also counts the cases that meet the bound with
/// `ε < 1`, so that a vacuous run (every `ε ≥ 1`) fails.
#[test]
fn sketch_and_solve_meets_the_subspace_embedding_bound() {
    let (n, d) = (2000, 20);
    let (epperly, b_epperly, _, _) = ls_problem(n, d, 1e10, 1e-3, Seed::new(2)).unwrap();
    let inputs = [
        (
            "gaussian",
            gaussian_matrix(n, d, Seed::new(1)).unwrap(),
            rhs(n, 11),
        ),
        (
            "coherent",
            coherent_matrix(n, d, 1e-3, Seed::new(3)).unwrap(),
            rhs(n, 13),
        ),
        ("epperly κ=1e10", epperly, b_epperly),
    ];
    let mut informative = 0;
    let mut worst_use = 0.0f64;
    for (name, a, b) in &inputs {
        let ab = Mat::from_fn(n, d + 1, |i, j| if j < d { a[(i, j)] } else { b[i] });
        let q = orthonormal_basis(ab.as_ref()).unwrap();
        let xopt = qr_solve(dense(a), b, 0.0, Par::Seq).unwrap();
        let opt = norm(&residual(a, &xopt, b));
        for kind in [
            SketchKind::Gaussian,
            SketchKind::SparseSign { nnz_per_col: 8 },
            SketchKind::SparseSign { nnz_per_col: 2 },
            SketchKind::CountSketch,
            SketchKind::Srht,
        ] {
            for m in [d + 2, 2 * d, 4 * d, 10 * d] {
                for s in 0..6 {
                    let seed = Seed::new(500 + s);
                    let p = SketchSolveParams {
                        sketch: kind,
                        sketch_rows: Some(m),
                        seed,
                        par: Par::Seq,
                    };
                    let (x, info) = match sketch_and_solve(dense(a), b, &p) {
                        Ok(v) => v,
                        // A sketch that is not an embedding may leave SA singular.
                        Err(randnla::Error::RankDeficient { .. }) => continue,
                        Err(e) => panic!("{name} {kind:?} m={m}: {e}"),
                    };
                    let ratio = norm(&residual(a, &x, b)) / opt;
                    assert!(
                        (info.residual_norm / opt / ratio - 1.0).abs() < 1e-10,
                        "{name} {kind:?} m={m} seed {s}: reported residual {} vs {}",
                        info.residual_norm,
                        ratio * opt
                    );
                    let (hi, lo) = sq_extremes(kind, m, seed, &q);
                    let eps = (hi - 1.0).max(1.0 - lo);
                    if eps < 1.0 {
                        let bound = (1.0 + eps) / (1.0 - eps);
                        informative += 1;
                        worst_use = worst_use.max((ratio - 1.0) / (bound - 1.0));
                        assert!(
                            ratio <= bound * (1.0 + 1e-8),
                            "{name} {kind:?} m={m} seed {s}: ratio {ratio} > (1+ε)/(1−ε) = {bound} (ε = {eps})"
                        );
                    }
                }
            }
        }
    }
    println!(
        "bound met in {informative} cases with ε < 1; largest (ratio−1)/(bound−1) = {worst_use:.3}"
    );
    assert!(informative >= 150, "only {informative} informative cases");
}

/// The mean excess `E[(‖Ax̃ − b‖/OPT)²] − 1` of sketch-and-solve over `seeds` sketch seeds.
fn mean_excess(a: &Mat<f64>, b: &[f64], kind: SketchKind, m: usize, seeds: u64) -> f64 {
    let xopt = qr_solve(dense(a), b, 0.0, Par::Seq).unwrap();
    let opt = norm(&residual(a, &xopt, b));
    let mut sum = 0.0;
    for s in 0..seeds {
        let p = SketchSolveParams {
            sketch: kind,
            sketch_rows: Some(m),
            seed: Seed::new(7000 + s),
            par: Par::Seq,
        };
        let (_, info) = sketch_and_solve(dense(a), b, &p).unwrap();
        sum += (info.residual_norm / opt).powi(2) - 1.0;
    }
    sum / seeds as f64
}

/// Claim, `src/lstsq/sketch_solve.rs:165-166`: "for a Gaussian sketch
/// `E‖Ax̃ − b‖² = (1 + d/(m−d−1))·OPT²`, which sparse sketches match closely" (and
/// `SketchSolveParams::sketch_rows`, `:20`: at the default `m = 10d`, "expected residual ratio
/// ≈ 1.05, its square ≈ 1.11"). `tests/lstsq.rs` checks it on a Gaussian `A`; here on the
/// coherent `[I_d; 10⁻³·G]` (`n = 2000`, `d = 20`, `m = 10d`: expected excess
/// `d/(m − d − 1) = 0.1117`), the input on which sketches differ. Pass rule as in
/// `tests/lstsq.rs`: the mean over 200 seeds within 15% of the expectation (the sample mean's
/// standard deviation is ≈ 3% of it for a Gaussian sketch). Sparse sign `s = 8` (the default
/// of `SketchSolveParams`) and `s = 4`; the Gaussian as the control.
#[test]
fn sketch_and_solve_sparse_sign_matches_the_gaussian_expectation_on_coherent_input() {
    let (n, d) = (2000, 20);
    let a = coherent_matrix(n, d, 1e-3, Seed::new(3)).unwrap();
    let b = rhs(n, 13);
    let m = 10 * d;
    let expected = d as f64 / (m - d - 1) as f64;
    for kind in [
        SketchKind::Gaussian,
        SketchKind::SparseSign { nnz_per_col: 8 },
        SketchKind::SparseSign { nnz_per_col: 4 },
    ] {
        let mean = mean_excess(&a, &b, kind, m, 200);
        println!("{kind:?}: mean excess {mean:.4} vs {expected:.4}");
        assert!(
            (mean / expected - 1.0).abs() <= 0.15,
            "{kind:?}: mean excess {mean:.4} vs expected {expected:.4}"
        );
    }
}

/// The same claim (`src/lstsq/sketch_solve.rs:165-166`, "sparse sketches match closely" the
/// Gaussian expectation `1 + d/(m−d−1)`), for the sparse sketch `SketchSolveParams` also takes,
/// CountSketch, at `m = 10d` (the default rows; the README's table offers it for
/// sketch-and-solve at `m ≈ 10d–40d`). Same input and pass rule as the test above.
///
/// It did not hold: the mean excess over 200 seeds is 2.91 against the expected 0.112 (26×;
/// Gaussian 0.1117, sparse sign `s = 8` 0.1116 on the same input). Two of the `d` heavy rows of
/// `[I; εG]` share a CountSketch bucket with probability `1 − e^{−d²/2m} ≈ 63%` here, and the
/// sketch then sees the difference of their directions only through the `10⁻³G` part. The doc
/// now says so (the README's table already warned that CountSketch "needs `m = O(d²)` on
/// coherent data"). Pass rule for the corrected doc: the mean excess is above 10× the Gaussian
/// figure (it fails if CountSketch comes to behave like the others here).
#[test]
fn sketch_and_solve_count_sketch_misses_the_gaussian_expectation_on_coherent_input() {
    let (n, d) = (2000, 20);
    let a = coherent_matrix(n, d, 1e-3, Seed::new(3)).unwrap();
    let b = rhs(n, 13);
    let m = 10 * d;
    let expected = d as f64 / (m - d - 1) as f64;
    let mean = mean_excess(&a, &b, SketchKind::CountSketch, m, 200);
    println!("CountSketch: mean excess {mean:.4} vs {expected:.4}");
    assert!(
        mean > 10.0 * expected,
        "CountSketch: mean excess {mean:.4} vs Gaussian expectation {expected:.4}"
    );
}

/// Claim, `src/lstsq/mod.rs:265-267` (`Info::kappa_estimate`): "Estimated `κ(AN)` of the
/// preconditioned operator: `σ_max/σ_min` of the Golub–Kahan bidiagonal of the first LSQR run
/// (Ritz values, a lower bound …)"; "For `lsqr()` it estimates `κ(A)`". `tests/lstsq.rs` checks
/// the sketched QR route without the probe; here every other route, with the operator each one
/// runs LSQR on formed densely: the probe on `A` (`factorization == None`: `N = I`), the
/// equilibrated probe (`Some(Diagonal)`: `N = D⁻¹`, `D` the column norms), the SVD
/// preconditioner of a rank-deficient `A` (`N = V_rΣ_r⁻¹`, `d × r`), a sketched ridge solve
/// (`[A; √λI]·N`), and `lsqr()` with and without ridge (`κ(A)` as the doc says, also with a
/// ridge). Pass rule: estimate
/// `≤ κ_exact·(1 + 1e-8 + 10u·κ(A))` (the slack of `tests/lstsq.rs`: the applied operator differs
/// from the exact one by `≈ u·κ(A)`), and, so that the test can fail, `≥ κ_exact/10`.
#[test]
fn kappa_estimate_is_a_lower_bound_on_every_route() {
    let (n, d) = (2000, 20);
    let check = |what: &str, est: f64, exact: f64, ka: f64| {
        println!("{what}: estimate {est:.6} vs exact {exact:.6}");
        let slack = 1e-8 + 10.0 * U * ka;
        assert!(
            est <= exact * (1.0 + slack) && est >= exact / 10.0,
            "{what}: κ estimate {est} vs exact κ(AN) {exact}"
        );
    };
    // The probe on A itself.
    let a = gaussian_matrix(n, d, Seed::new(31)).unwrap();
    let b = rhs(n, 32);
    let (_, info) = sketch_and_precondition(dense(&a), &b, &LstsqParams::default()).unwrap();
    assert_eq!(info.factorization, None);
    check("probe on A", info.kappa_estimate, kappa(&a), kappa(&a));
    // The equilibrated probe: columns scaled over three decades.
    let scales: Vec<f64> = (0..d)
        .map(|j| 10f64.powf(3.0 * j as f64 / (d - 1) as f64))
        .collect();
    let a_s = Mat::from_fn(n, d, |i, j| a[(i, j)] * scales[j]);
    let (_, info) = sketch_and_precondition(dense(&a_s), &b, &LstsqParams::default()).unwrap();
    assert_eq!(info.factorization, Some(Factorization::Diagonal));
    let cn: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| a_s[(i, j)].powi(2)).sum::<f64>().sqrt())
        .collect();
    let ad = Mat::from_fn(n, d, |i, j| a_s[(i, j)] / cn[j]);
    check(
        "equilibrated probe",
        info.kappa_estimate,
        kappa(&ad),
        kappa(&a_s),
    );
    // The sketched QR route on an ill-conditioned A (the case tests/lstsq.rs covers), with
    // m = d + 1 rows: the smallest sketch, far from an embedding.
    let (ae, be, _, _) = ls_problem(n, d, 1e8, 1e-3, Seed::new(33)).unwrap();
    for m in [d + 1, 2 * d] {
        let p = LstsqParams {
            probe: false,
            sketch_rows: Some(m),
            max_iters: 5000,
            ..Default::default()
        };
        let (_, info) = sketch_and_precondition(dense(&ae), &be, &p).unwrap();
        let pre = Preconditioner::new(dense(&ae), &p).unwrap();
        check(
            &format!("sketched QR, m = {m}"),
            info.kappa_estimate,
            kappa(&(&ae * pre.to_dense())),
            1e8,
        );
    }
    // The SVD route: a rank-deficient A (three columns repeated, scaled).
    let mut ar = ls_problem(n, d, 1e4, 1e-3, Seed::new(34)).unwrap().0;
    for j in 0..3 {
        for i in 0..n {
            ar[(i, d - 1 - j)] = 2.0 * ar[(i, j)];
        }
    }
    let br = rhs(n, 35);
    let p = LstsqParams {
        probe: false,
        ..Default::default()
    };
    let (_, info) = sketch_and_precondition(dense(&ar), &br, &p).unwrap();
    let pre = Preconditioner::new(dense(&ar), &p).unwrap();
    assert_eq!((info.rank, pre.rank()), (d - 3, d - 3));
    check(
        "SVD route, rank d − 3",
        info.kappa_estimate,
        kappa(&(&ar * pre.to_dense())),
        1e4,
    );
    // A sketched ridge solve: LSQR on [A; √λI]·N.
    let lambda = 1e-6;
    let p = LstsqParams {
        probe: false,
        ridge: lambda,
        ..Default::default()
    };
    let (_, info) = sketch_and_precondition(dense(&ae), &be, &p).unwrap();
    let pre = Preconditioner::new(dense(&ae), &p).unwrap();
    let aug = Mat::from_fn(n + d, d, |i, j| {
        if i < n {
            ae[(i, j)]
        } else if i - n == j {
            lambda.sqrt()
        } else {
            0.0
        }
    });
    check(
        "sketched ridge",
        info.kappa_estimate,
        kappa(&(&aug * pre.to_dense())),
        1e8,
    );
    // Unpreconditioned lsqr(), which "estimates κ(A)" — with a ridge too: its bidiagonalization
    // is that of A (the damping enters only LSQR's rotations), so the Ritz values are A's and
    // not those of [A; √λI] (κ = 30 against κ([A; √λI]) = 21.8 at λ = 10⁻³ here).
    let (a2, b2, _, _) = ls_problem(n, d, 30.0, 1e-2, Seed::new(36)).unwrap();
    for lambda in [0.0, 1e-3] {
        let (_, info) = lsqr(
            dense(&a2),
            &b2,
            &LsqrParams {
                ridge: lambda,
                ..Default::default()
            },
        )
        .unwrap();
        check(
            &format!("lsqr, λ = {lambda}"),
            info.kappa_estimate,
            kappa(&a2),
            30.0,
        );
    }
}

/// Claims: `src/lstsq/mod.rs:8` (the module table: `sketch_and_precondition` reaches "backward
/// error ≤ `tol`"), `src/lstsq/mod.rs:126-127` (`LstsqParams::tol`: the stopping rule is "the
/// normal-equation residual estimate `‖(AN)ᵀr‖/(‖AN‖·‖r‖)` or the consistency test
/// `‖r‖ ≤ tol·‖b‖`"), `src/lstsq/mod.rs:280` (`Info::converged`: "Whether the stopping rule
/// was met") and `src/lstsq/lsqr.rs:14-17` (`‖M‖₂` "estimated from below …, so the test is
/// conservative"). For every converged answer, measured densely:
/// - the backward error: `min(‖Aᵀr‖/(‖A‖₂‖r‖), ‖r‖/‖b‖) ≤ tol·(1 + 10⁻³)` (`‖Aᵀr‖/(‖A‖₂‖r‖)`
///   bounds the normwise backward error in `A`, `δA = −r(Aᵀr)ᵀ/‖r‖²`; the consistency test is one
///   in `b`; both are computed to `≈ √n·u` relative, far below `10⁻³·tol`);
/// - the rule on the operator LSQR ran on: `min(‖(AN)ᵀr‖/(‖AN‖₂‖r‖), ‖r‖/‖b‖)` at most
///   `tol·(1 + 10⁻³) + 10·√n·u·κ(A)`, `N` the preconditioner of the route taken (`I`, `D⁻¹` or the
///   sketch's `R⁻¹`). The last term is the resolution at which `(AN)ᵀr = Nᵀ(Aᵀr)` can be evaluated
///   in `f64` at all (the rounding of `Aᵀr`, `≈ √n·u·‖A‖‖r‖` in arbitrary directions, amplified by
///   `‖N‖ ≈ κ(A)/‖A‖`): at `κ(A) = 10¹²` the evaluated figure sits at `10⁻⁷–3·10⁻⁶` whatever `tol`,
///   so there only the backward error is informative.
///
/// Inputs (`2000 × 20`): Gaussian `A` (solved by the probe on `A`), column-scaled Gaussian
/// (equilibrated probe), Epperly `κ = 10⁴, 10⁸, 10¹⁰, 10¹²` at `ρ = 10⁻³` and `κ = 10¹²` at
/// `ρ = 10⁻⁶` (sketched; default rows, `m = 2d`, `4d`), `tol ∈ {10⁻⁶, 10⁻⁹}`, 3 sketch seeds.
/// Measured: the largest `‖Aᵀr‖/(‖A‖‖r‖)/tol` is 0.87.
#[test]
fn converged_answers_meet_the_stopping_rule_exactly() {
    let (n, d) = (2000, 20);
    let mut cases: Vec<(String, Mat<f64>, Vec<f64>, f64)> = Vec::new();
    let g = gaussian_matrix(n, d, Seed::new(41)).unwrap();
    cases.push(("gaussian".into(), g.clone(), rhs(n, 42), kappa(&g)));
    let scales: Vec<f64> = (0..d)
        .map(|j| 10f64.powf(4.0 * j as f64 / (d - 1) as f64))
        .collect();
    let gs = Mat::from_fn(n, d, |i, j| g[(i, j)] * scales[j]);
    let kgs = kappa(&gs);
    cases.push(("column-scaled".into(), gs, rhs(n, 43), kgs));
    for (k, (kappa_a, rho)) in [
        (1e4, 1e-3),
        (1e8, 1e-3),
        (1e10, 1e-3),
        (1e12, 1e-3),
        (1e12, 1e-6),
    ]
    .into_iter()
    .enumerate()
    {
        let (a, b, _, _) = ls_problem(n, d, kappa_a, rho, Seed::new(44 + k as u64)).unwrap();
        cases.push((format!("epperly κ={kappa_a:e} ρ={rho:e}"), a, b, kappa_a));
    }
    let mut worst = 0.0f64;
    for (name, a, b, ka) in &cases {
        let a_norm = svals(a)[0];
        for tol in [1e-6, 1e-9] {
            for rows in [None, Some(2 * d), Some(4 * d)] {
                for s in 0..3 {
                    let p = LstsqParams {
                        tol,
                        sketch_rows: rows,
                        seed: Seed::new(900 + s),
                        ..Default::default()
                    };
                    let (x, info) = sketch_and_precondition(dense(a), b, &p).unwrap();
                    let what = format!(
                        "{name}, tol {tol:e}, rows {rows:?}, seed {s}, route {:?}",
                        info.factorization
                    );
                    assert!(info.converged, "{what}");
                    let r = residual(a, &x, b);
                    let rn = norm(&r);
                    let cons = rn / norm(b);
                    let atr = a.transpose() * col(&r);
                    let plain = atr.norm_l2() / (a_norm * rn);
                    assert!(
                        plain.min(cons) <= tol * (1.0 + 1e-3),
                        "{what}: backward error ‖Aᵀr‖/(‖A‖‖r‖) = {plain:e}, ‖r‖/‖b‖ = {cons:e} > tol"
                    );
                    if cons > tol {
                        worst = worst.max(plain / tol);
                    }
                    let nm = match info.factorization {
                        None => Mat::<f64>::identity(d, d),
                        Some(Factorization::Diagonal) => Mat::from_fn(d, d, |i, j| {
                            if i == j {
                                1.0 / (0..n).map(|t| a[(t, j)].powi(2)).sum::<f64>().sqrt()
                            } else {
                                0.0
                            }
                        }),
                        Some(_) => Preconditioner::new(dense(a), &p).unwrap().to_dense(),
                    };
                    let an_norm = svals(&(a * &nm))[0];
                    let pre = (nm.transpose() * &atr).norm_l2() / (an_norm * rn);
                    let floor = 10.0 * (n as f64).sqrt() * U * ka;
                    assert!(
                        pre.min(cons) <= tol * (1.0 + 1e-3) + floor,
                        "{what}: ‖(AN)ᵀr‖/(‖AN‖‖r‖) = {pre:e} > tol + {floor:e}; reported {:e}",
                        info.stopping_value
                    );
                }
            }
        }
    }
    println!("largest ‖Aᵀr‖/(‖A‖‖r‖)/tol among answers not consistent to tol: {worst:.3}");
}

/// Claims: `src/lstsq/precondition.rs:239` ("`κ(AN) ≤ (1+ε)/(1−ε)` when `S` is an ε-subspace
/// embedding for `range(A)`") and `:1654` ("`κ(AN) ≤ (1+ε)/(1−ε)` (≈ 3 at `m = 4d`, ≈ 2 at
/// `8d`)"). For `N = R⁻¹` the singular values of `AN` are the reciprocals of those of `SU`, so
/// `κ(AN) = κ(SU) ≤ (1+ε)/(1−ε)` for `ε = max(σ₊ − 1, 1 − σ₋)`: checked exactly (to
/// `10⁻⁸ + 10u·κ(A)` relative) on the sketch the solver draws (`seed.derive(SKETCH_STREAM)`,
/// `s = 8`), for a Gaussian `A`, the coherent `[I; 10⁻³G]` and Epperly's `κ = 10¹⁰`,
/// `n = 4000`, `d = 50`, `m ∈ {4d, 8d}`, 10 seeds. The typical values: the median of `κ(AN)`
/// over the 10 seeds must lie within 25% of 3 at `4d` and of 2 at `8d` (the Gaussian sketch's
/// Marchenko–Pastur values are `3` and `2.09`).
#[test]
fn preconditioned_condition_number_is_the_sketch_distortion() {
    let (n, d) = (4000, 50);
    let (ep, _, _, _) = ls_problem(n, d, 1e10, 1e-3, Seed::new(51)).unwrap();
    let inputs = [
        (
            "gaussian",
            gaussian_matrix(n, d, Seed::new(52)).unwrap(),
            1.0,
        ),
        (
            "coherent",
            coherent_matrix(n, d, 1e-3, Seed::new(53)).unwrap(),
            1.0,
        ),
        ("epperly κ=1e10", ep, 1e10),
    ];
    for (name, a, ka) in &inputs {
        let q = orthonormal_basis(a.as_ref()).unwrap();
        for (m, typical) in [(4 * d, 3.0), (8 * d, 2.0)] {
            let mut kappas = Vec::new();
            for s in 0..10 {
                let p = LstsqParams {
                    probe: false,
                    factorization: Factorization::Qr,
                    sketch_rows: Some(m),
                    seed: Seed::new(60 + s),
                    ..Default::default()
                };
                let pre = Preconditioner::new(dense(a), &p).unwrap();
                let k_an = kappa(&(a * pre.to_dense()));
                let s8 = SketchKind::SparseSign { nnz_per_col: 8 };
                let (hi, lo) = sq_extremes(s8, m, p.seed.derive(SKETCH_STREAM), &q);
                let eps = (hi - 1.0).max(1.0 - lo);
                let slack = 1e-8 + 10.0 * U * ka;
                assert!(
                    (k_an / (hi / lo) - 1.0).abs() <= slack,
                    "{name} m={m} seed {s}: κ(AN) = {k_an} vs κ(SU) = {}",
                    hi / lo
                );
                if eps < 1.0 {
                    assert!(k_an <= (1.0 + eps) / (1.0 - eps) * (1.0 + slack));
                }
                kappas.push(k_an);
            }
            let med = median(kappas.clone());
            println!("{name}, m = {m}: median κ(AN) {med:.3}, all {kappas:.3?}");
            assert!(
                (med / typical - 1.0).abs() <= 0.25,
                "{name}, m = {m}: median κ(AN) {med:.3}, documented ≈ {typical}"
            );
        }
    }
}

/// Claim, `src/lstsq/mod.rs` (`LstsqParams::sketch_rows`), as it stood: "LSQR contracts about
/// like `√(d/m)` per step: 2d needs about twice the iterations of 4d, 8d about 0.7× those of
/// 4d".
/// Measured on the first LSQR run (the one the rate governs; the refinement runs are short) of
/// the sketched solve (`probe: false`, default `tol = 10⁻¹⁴`), `n = 4000`, `d = 50`, on a
/// Gaussian `A`, the coherent `[I; 10⁻³G]` and Epperly's `κ = 10⁸`, `ρ = 10⁻³`; the median over
/// 7 sketch seeds. Pass rule for "about": each ratio of medians within 25% of the stated 2 and
/// 0.7, on every input.
///
/// Failed as written, for 2d: the first run takes 1.42–1.49× the iterations of 4d, not 2× (medians
/// of the first run at 2d, 4d, 8d: Gaussian 48, 33, 25; coherent 47, 33, 26; Epperly `κ = 10⁸` 52,
/// 35, 25; 2d/4d = 1.455, 1.424, 1.486; the whole solve's 74/49 = 1.51 on Epperly). The `√(d/m)`
/// rate is the worst-case rate `(κ−1)/(κ+1)` of the Marchenko–Pastur edges; LSQR converges faster
/// than it (the spectrum of `AN` fills the interval), more so at 2d, where that rate is most
/// pessimistic. The 8d figure holds (0.71). The doc now states `√(d/m)` as the worst rate and gives
/// these measurements (2d: 1.42–1.49×, 8d: 0.71–0.79× the iterations of 4d); pass rule for it: each
/// ratio of medians within 0.1 of that range, on every input.
#[test]
fn iterations_scale_with_sketch_rows_as_documented() {
    let (n, d) = (4000, 50);
    let (ep, be, _, _) = ls_problem(n, d, 1e8, 1e-3, Seed::new(71)).unwrap();
    let inputs = [
        (
            "gaussian",
            gaussian_matrix(n, d, Seed::new(72)).unwrap(),
            rhs(n, 73),
        ),
        (
            "coherent",
            coherent_matrix(n, d, 1e-3, Seed::new(74)).unwrap(),
            rhs(n, 75),
        ),
        ("epperly κ=1e8", ep, be),
    ];
    let mut bad = Vec::new();
    for (name, a, b) in &inputs {
        let mut med = Vec::new();
        for c in [2, 4, 8] {
            let (first, total): (Vec<f64>, Vec<f64>) = (0..7)
                .map(|s| {
                    let p = LstsqParams {
                        probe: false,
                        sketch_rows: Some(c * d),
                        seed: Seed::new(80 + s),
                        ..Default::default()
                    };
                    let (_, info) = sketch_and_precondition(dense(a), b, &p).unwrap();
                    (info.run_iterations[0] as f64, info.iterations as f64)
                })
                .unzip();
            println!("{name}, m = {c}d: first-run iterations {first:?}, all runs {total:?}");
            med.push(median(first));
        }
        let (r2, r8) = (med[0] / med[1], med[2] / med[1]);
        println!("{name}: 2d/4d = {r2:.3}, 8d/4d = {r8:.3}");
        if !(1.32..=1.59).contains(&r2) {
            bad.push(format!("{name}: 2d/4d = {r2:.3}, documented 1.42–1.49"));
        }
        if !(0.61..=0.89).contains(&r8) {
            bad.push(format!("{name}: 8d/4d = {r8:.3}, documented 0.71–0.79"));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Claim, `src/lstsq/baselines.rs:164-165` (`qr_solve`'s rank check): "The estimate … is a lower
/// bound of `κ(RD)`, so a full-rank `A` with `κ(AD) < 10¹³` is never refused" (`D` the
/// power-of-two equilibration of the columns). Inputs: Epperly's `U·diag(logspace)·Vᵀ`
/// (`2000 × 20`, rotated, so that equilibration leaves `κ(AD) ≈ κ(A)`) with `κ(A)` from
/// `2·10¹²` to `8·10¹²`, 4 seeds each, and that times column scales `2^{±20}`; each input's
/// `κ(AD)` is measured by a dense SVD and must be below `10¹³` (else the input is not in the
/// claim). Pass rule: every such input is solved (`Ok`).
#[test]
fn qr_solve_never_refuses_a_full_rank_a_below_its_threshold() {
    let (n, d) = (2000, 20);
    let mut tested = 0;
    for (k, kappa_a) in [2e12, 5e12, 8e12].into_iter().enumerate() {
        for s in 0..4u64 {
            let (a, b, _, _) =
                ls_problem(n, d, kappa_a, 1e-3, Seed::new(100 + 10 * k as u64 + s)).unwrap();
            for scaled in [false, true] {
                let a = if scaled {
                    Mat::from_fn(n, d, |i, j| {
                        a[(i, j)] * 2f64.powi(if j % 2 == 0 { 20 } else { -20 })
                    })
                } else {
                    a.clone()
                };
                // κ(AD) with D the power-of-two equilibration (largest entry of each column into
                // [1, 2)).
                let ad = Mat::from_fn(n, d, |i, j| {
                    let top = (0..n).map(|t| a[(t, j)].abs()).fold(0.0, f64::max);
                    a[(i, j)] * 2f64.powi(-(top.log2().floor() as i32))
                });
                let k_ad = kappa(&ad);
                if k_ad >= 1e13 {
                    continue;
                }
                tested += 1;
                let got = qr_solve(dense(&a), &b, 0.0, Par::Seq);
                assert!(
                    got.is_ok(),
                    "κ(A) = {kappa_a:e}, seed {s}, scaled {scaled}: κ(AD) = {k_ad:e} < 1e13 refused: {:?}",
                    got.err()
                );
            }
        }
    }
    assert!(tested >= 16, "only {tested} inputs below the threshold");
}

/// Claim, `src/diagnostics.rs:21-22` (`orthonormal_basis`): "every `A` with
/// `κ(A) < 1/(max(n, d)·u)` passes". At `n = 2000` the threshold is `4.5·10¹²`. Inputs at
/// `0.3×` and `0.9×` the threshold (κ measured by a dense SVD, which must confirm the input is
/// below it): Epperly's rotated `U·diag(logspace)·Vᵀ` and a matrix with orthogonal columns whose
/// norms span `κ` (the smallest `R_jj` is then exactly `σ_min`), 3 seeds each. Pass rule: `Ok`,
/// and `‖QᵀQ − I‖_max ≤ 10⁻¹³` (an orthonormal basis to rounding).
#[test]
fn orthonormal_basis_accepts_every_a_below_its_threshold() {
    let (n, d) = (2000, 20);
    let threshold = 1.0 / (n as f64 * U);
    for frac in [0.3, 0.9] {
        let kappa_a = frac * threshold;
        for s in 0..3u64 {
            let rotated = ls_problem(n, d, kappa_a, 0.0, Seed::new(200 + s))
                .unwrap()
                .0;
            let q0 = gauss(n, d, 300 + s).qr().compute_thin_Q();
            let orth = Mat::from_fn(n, d, |i, j| {
                q0[(i, j)] * 10f64.powf(-kappa_a.log10() * j as f64 / (d - 1) as f64)
            });
            for (name, a) in [("rotated", rotated), ("orthogonal columns", orth)] {
                let k = kappa(&a);
                assert!(k < threshold, "{name}: κ = {k:e} not below {threshold:e}");
                let q = orthonormal_basis(a.as_ref()).unwrap_or_else(|e| {
                    panic!("{name}, κ = {k:e} ({frac} of the threshold), seed {s}: {e}")
                });
                let qtq = q.transpose() * &q;
                let dev = (0..d)
                    .flat_map(|i| (0..d).map(move |j| (i, j)))
                    .map(|(i, j)| (qtq[(i, j)] - f64::from(u8::from(i == j))).abs())
                    .fold(0.0, f64::max);
                assert!(dev <= 1e-13, "{name}, κ = {k:e}: ‖QᵀQ − I‖ = {dev:e}");
            }
        }
    }
}

/// Claim, `src/leverage.rs:120-121` (`ExactMethod::SketchCholesky`): "The result is exact up to
/// rounding (`O(ε·κ(A))`, like Householder QR)". Input: `A = U·diag(logspace(0, −log κ))·Vᵀ`
/// (`3000 × 20`) built here, so that the exact leverage scores are the squared row norms of the
/// orthonormal `U` (to rounding); `κ ∈ {10⁴, 10⁸, 10¹²}`. The rounding of the stored `A` moves
/// its range by `≈ u·κ`, so the reference itself is good to `O(u·κ)`: pass rule, the largest
/// absolute score error of SketchCholesky is at most `max(20·(Householder's error),
/// 100·u·κ·max ℓ)` (a constant of 100 for the `O(·)`, and "like Householder" as within 20× of it).
#[test]
fn sketch_cholesky_scores_are_exact_to_order_eps_kappa() {
    let (n, d) = (3000, 20);
    let u_mat = gauss(n, d, 401).qr().compute_thin_Q();
    let v_mat = gauss(d, d, 402).qr().compute_thin_Q();
    let truth: Vec<f64> = (0..n)
        .map(|i| (0..d).map(|j| u_mat[(i, j)].powi(2)).sum())
        .collect();
    let lmax = truth.iter().cloned().fold(0.0, f64::max);
    for kappa_a in [1e4f64, 1e8, 1e12] {
        let sig: Vec<f64> = (0..d)
            .map(|j| 10f64.powf(-kappa_a.log10() * j as f64 / (d - 1) as f64))
            .collect();
        let us = Mat::from_fn(n, d, |i, j| u_mat[(i, j)] * sig[j]);
        let a = &us * v_mat.transpose();
        let err = |method| {
            let (scores, info) = exact_leverage_scores(
                dense(&a),
                &ExactParams {
                    method,
                    ..Default::default()
                },
                Par::Seq,
            )
            .unwrap();
            assert_eq!(info.rank, d, "{method:?} κ = {kappa_a:e}");
            scores
                .iter()
                .zip(&truth)
                .map(|(s, t)| (s - t).abs())
                .fold(0.0, f64::max)
        };
        let (e_h, e_c) = (
            err(ExactMethod::Householder),
            err(ExactMethod::SketchCholesky),
        );
        let allowed = (20.0 * e_h).max(100.0 * U * kappa_a * lmax);
        println!("κ = {kappa_a:e}: max error Householder {e_h:.3e}, sketch-Cholesky {e_c:.3e}, allowed {allowed:.3e}");
        assert!(
            e_c <= allowed,
            "κ = {kappa_a:e}: sketch-Cholesky error {e_c:e} > {allowed:e} (Householder {e_h:e})"
        );
    }
}

/// Sanity of the sketch the tests above rebuild: the solver's preconditioner is made from the
/// sparse sign sketch of `m` rows, `s = 8`, drawn from `seed.derive(SKETCH_STREAM)` (the
/// module docs, `src/lstsq/mod.rs:47`): `R` of `SA` equals, up to column signs, the `R` of that
/// sketch applied here (checked through `RᵀR = (SA)ᵀ(SA)` to `10⁻¹²` relative).
#[test]
fn the_rebuilt_sketch_is_the_solvers() {
    let (n, d, m) = (1000, 10, 40);
    let a = gaussian_matrix(n, d, Seed::new(91)).unwrap();
    let p = LstsqParams {
        probe: false,
        factorization: Factorization::Qr,
        sketch_rows: Some(m),
        seed: Seed::new(92),
        ..Default::default()
    };
    let pre = Preconditioner::new(dense(&a), &p).unwrap();
    let s = SparseSign::new(m, n, 8, p.seed.derive(SKETCH_STREAM)).unwrap();
    let sa = s
        .apply(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq)
        .unwrap();
    // (SA)·N has orthonormal columns when N = R⁻¹ of SA.
    let san = &sa * pre.to_dense();
    let g = san.transpose() * &san;
    let dev = (0..d)
        .flat_map(|i| (0..d).map(move |j| (i, j)))
        .map(|(i, j)| (g[(i, j)] - f64::from(u8::from(i == j))).abs())
        .fold(0.0, f64::max);
    assert!(dev <= 1e-12, "(SA·N)ᵀ(SA·N) deviates from I by {dev:e}");
}

/// The median of `|ℓ̃_i − ℓ_i|/ℓ_i` over the rows of `a` and `seeds` seeds, and the
/// documented formula `0.67·√(2/r₂ + 2/(m₁ − d))`, for `m₁ = c·d`.
fn leverage_median_and_formula(a: &Mat<f64>, c: usize, r2: usize, seeds: u64) -> (f64, f64) {
    use randnla::leverage::{approx_leverage_scores, ApproxParams};
    let d = a.ncols();
    let (exact, _) = exact_leverage_scores(dense(a), &ExactParams::default(), Par::Seq).unwrap();
    let mut errs = Vec::new();
    for s in 0..seeds {
        let p = ApproxParams {
            sketch_rows: Some(c * d),
            jl_dim: r2,
            ..Default::default()
        };
        let (approx, _) =
            approx_leverage_scores(dense(a), &p, Seed::new(600 + s), Par::Seq).unwrap();
        errs.extend(approx.iter().zip(&exact).map(|(x, y)| (x - y).abs() / y));
    }
    let formula = 0.67 * (2.0 / r2 as f64 + 2.0 / (c * d - d) as f64).sqrt();
    (median(errs), formula)
}

/// Claim, `src/leverage.rs:168-171` (`ApproxParams`): "the JL stage contributes a relative
/// standard deviation `√(2/r₂)` and the sketch stage, once debiased, about `√(2/(m₁ − d))`, so
/// the median relative error is `≈ 0.67·√(2/r₂ + 2/(m₁ − d))`". The table beside it (checked by
/// `tests/leverage.rs` at `d = 50`) agrees with the formula; here the formula is checked away
/// from `d = 50`: `d = 5` and `d = 100` (`n = 20000` Gaussian), and `d = 20` on the coherent
/// `[I; 10⁻³G]` and Cauchy-row matrices, at the defaults (`m₁ = 10d`, `r₂ = 100`) and at
/// `m₁ = 4d`, `r₂ = 400` (the small-`d`, short-sketch case is the test below); 2 seeds
/// pooled. Pass rule for "≈": the measured median within 20% of the formula. Measured: 0.156
/// (formula 0.170), 0.098 (0.100), 0.072 (0.072), 0.114 (0.118), 0.117 (0.131), 0.114 (0.118),
/// 0.115 (0.131).
#[test]
fn approx_leverage_median_error_follows_the_documented_formula() {
    use randnla::problems::cauchy_rows;
    let n = 20000;
    let g5 = gaussian_matrix(n, 5, Seed::new(501)).unwrap();
    let g100 = gaussian_matrix(n, 100, Seed::new(502)).unwrap();
    let coh = coherent_matrix(n, 20, 1e-3, Seed::new(503)).unwrap();
    let cau = cauchy_rows(n, 20, Seed::new(504)).unwrap();
    let cases = [
        ("gaussian d=5", &g5, 10, 100),
        ("gaussian d=100", &g100, 10, 100),
        ("gaussian d=100", &g100, 4, 400),
        ("coherent d=20", &coh, 10, 100),
        ("coherent d=20", &coh, 4, 400),
        ("cauchy d=20", &cau, 10, 100),
        ("cauchy d=20", &cau, 4, 400),
    ];
    let mut bad = Vec::new();
    for (name, a, c, r2) in cases {
        let (med, formula) = leverage_median_and_formula(a, c, r2, 2);
        println!("{name}, m₁ = {c}d, r₂ = {r2}: median {med:.4}, formula {formula:.4}");
        if (med / formula - 1.0).abs() > 0.2 {
            bad.push(format!(
                "{name}, m₁ = {c}d, r₂ = {r2}: median {med:.4} vs formula {formula:.4}"
            ));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

/// The same claim (`src/leverage.rs`, median relative error `≈ 0.67·√(2/r₂ + 2/(m₁ − d))`)
/// with a short first sketch at small `d`: `20000 × 5` Gaussian, `m₁ = 4d = 20`, `r₂ = 400`, 2
/// seeds pooled. Measured: median 0.3045 against the formula's 0.2492 (22% above), outside the
/// 20% of the test above; the doc now states the formula's range and this case (0.30 against
/// 0.25). Pass rule for it: the median within 0.01 of 0.30 and at least 10% above the formula. The
/// sketch term is off when `m₁ − d` is small: the relative variance of an inverse-Wishart diagonal
/// is `2/(m₁ − d − 3)`, not `2/(m₁ − d)` (`2/12` against `2/15` here), and the error distribution
/// is skewed, so `0.67σ` is not its median; the doc's form holds for `m₁ − d` in the hundreds (the
/// table, `d = 50`).
#[test]
fn approx_leverage_median_error_formula_with_a_short_sketch() {
    let g5 = gaussian_matrix(20000, 5, Seed::new(501)).unwrap();
    let (med, formula) = leverage_median_and_formula(&g5, 4, 400, 2);
    assert!(
        (med - 0.30).abs() <= 0.01 && med >= 1.1 * formula,
        "median {med:.4} vs formula {formula:.4}, documented 0.30"
    );
}

/// Claim, `src/active/mod.rs:22-24` ([`Basis::Sketched`]): "`V` is a nearly orthogonal basis —
/// `VᵀV = Σ` with `κ(Σ) = κ(S₁Q)² ≈ 1–4`". The identity is exact (`W = D·R⁻¹` from `S₁XD =
/// Q̂R`): checked to `10⁻⁸` relative against `κ(S₁Q)²` for the pool's own sketch (sparse sign,
/// `m₁ = 10d`, `s = 8`, `seed.derive(0x80)`, the module's Reproducibility section), `Q` an
/// orthonormal basis of `range(X)`, `V = X·W` from [`Pool::whitening`] (to
/// `10⁻⁸ + 10⁴·u·κ(X)`: `V` is formed in floating point). The range "≈ 1–4":
/// every seed's `κ(Σ)` at most 5 (4 and a 25% margin for "≈"). Inputs `4000 × 20`: Gaussian,
/// Cauchy rows, coherent `[I; 10⁻³G]`, columns scaled over six decades; 8 seeds each.
#[test]
fn sketched_pool_basis_has_the_documented_conditioning() {
    use randnla::active::{Basis, Pool};
    use randnla::problems::cauchy_rows;
    let (n, d) = (4000, 20);
    let g = gaussian_matrix(n, d, Seed::new(701)).unwrap();
    let inputs = [
        ("gaussian", g.clone()),
        ("cauchy", cauchy_rows(n, d, Seed::new(702)).unwrap()),
        (
            "coherent",
            coherent_matrix(n, d, 1e-3, Seed::new(703)).unwrap(),
        ),
        (
            "column-scaled",
            Mat::from_fn(n, d, |i, j| {
                g[(i, j)] * 10f64.powf(6.0 * j as f64 / (d - 1) as f64 - 3.0)
            }),
        ),
    ];
    for (name, x) in &inputs {
        let q = orthonormal_basis(x.as_ref()).unwrap();
        let kx = kappa(x);
        let mut all = Vec::new();
        for s in 0..8 {
            let seed = Seed::new(800 + s);
            let pool = Pool::new(
                dense(x),
                Basis::Sketched { sketch_rows: None },
                seed,
                Par::Seq,
            )
            .unwrap();
            let w = pool.whitening();
            let wm = Mat::from_fn(d, d, |i, j| w[i * d + j]);
            let v = x * &wm;
            let k_sigma = kappa(&(v.transpose() * &v));
            let s1 = SparseSign::new(10 * d, n, 8, seed.derive(0x80)).unwrap();
            let sq = s1.apply(dense(&q), Par::Seq).unwrap();
            let k_sq = kappa(&sq);
            // V = X·W is formed in floating point: rounding of relative size u·κ(X).
            let slack = 1e-8 + 1e4 * U * kx;
            assert!(
                (k_sigma / (k_sq * k_sq) - 1.0).abs() <= slack,
                "{name}, seed {s}: κ(VᵀV) = {k_sigma} vs κ(S₁Q)² = {}",
                k_sq * k_sq
            );
            all.push(k_sigma);
        }
        println!("{name}: κ(Σ) over 8 seeds {all:.3?}");
        assert!(
            all.iter().all(|&k| k <= 5.0),
            "{name}: κ(Σ) {all:.3?}, documented ≈ 1–4"
        );
    }
}

/// The worst `κ(SQ)` in each of `blocks` blocks of 20 seeds, for the sparse sign sketch with
/// `s` nonzeros per column and `m = 8d` rows that the solver would draw
/// (`seed.derive(SKETCH_STREAM)`), on the coherent `[I; 10⁻³G]` at `20000 × 50`.
fn worst_distortions_per_block(q: &Mat<f64>, s: usize, blocks: u64) -> Vec<f64> {
    (0..blocks)
        .map(|blk| {
            (0..20)
                .map(|t| {
                    let seed = Seed::new(20 * blk + t).derive(SKETCH_STREAM);
                    let kind = SketchKind::SparseSign { nnz_per_col: s };
                    let (hi, lo) = sq_extremes(kind, 8 * q.ncols(), seed, q);
                    hi / lo
                })
                .fold(0.0, f64::max)
        })
        .collect()
}

/// Claim, `src/lstsq/mod.rs` (`LstsqParams::nnz_per_col`), as it stood: "on a coherent matrix
/// (`[I; 10⁻³G]`, 20 seeds, `m = 8d`) the worst distortion `κ(SQ)` was 4.6 for `s = 2` and 2.7
/// for `s = 4` against 2.3 for `s = 8`". The shape was not given; `n = 20000`, `d = 50` is the
/// README's distortion table's (the doc now names it). A worst over 20 seeds is itself random,
/// so it is drawn for 10 disjoint blocks of 20 seeds. Pass rule here, for `s = 4` and `s = 8`:
/// every block's worst within 25% above the figure stated then (a maximum over 20 draws,
/// stated to two digits), and `s = 4`'s above `s = 8`'s in the pooled worst; the doc now gives
/// the ranges over the blocks, 2.4–2.8 and 2.1–2.4. `s = 2`: the test below.
#[test]
fn sparse_sign_worst_distortion_for_s4_and_s8_on_coherent_input() {
    let a = coherent_matrix(20000, 50, 1e-3, Seed::new(1)).unwrap();
    let q = orthonormal_basis(a.as_ref()).unwrap();
    let mut pooled = Vec::new();
    for (s, stated) in [(4, 2.7), (8, 2.3)] {
        let w = worst_distortions_per_block(&q, s, 10);
        println!("s = {s}: worst κ(SQ) per block of 20 seeds {w:.3?} (documented {stated})");
        assert!(
            w.iter().all(|&k| k <= 1.25 * stated),
            "s = {s}: worst κ(SQ) per block {w:.3?}, documented {stated}"
        );
        pooled.push(w.iter().cloned().fold(0.0, f64::max));
    }
    assert!(pooled[0] > pooled[1], "{pooled:?}");
}

/// The same claim (`src/lstsq/mod.rs:118-121`) for `s = 2`: "the worst distortion `κ(SQ)` was
/// 4.6 for `s = 2`" over 20 seeds at `m = 8d` on `[I; 10⁻³G]`, and from it "by LSQR's rate
/// `(κ−1)/(κ+1)` that roughly doubles the iterations at `s = 2`". Same input and pass rule as
/// above (every block's worst within 25% above 4.6, i.e. ≤ 5.75). Measured at `20000 × 50`:
/// the worst per block of 20 seeds was `[10.32, 4.19, 4.80, 11.25, 4.03, 4.73, 11.58, 3.52,
/// 3.66, 4.52]` (3 of 10 blocks above 10; seeds 0–19 used directly, not derived, gave 3.2), at
/// `20000 × 100` and `50000 × 100` the first block gave 11.2 and 7.3, while `s = 4` and `s = 8`
/// stayed at 2.4–2.8 and 2.1–2.4 in every block. The
/// distortion of `s = 2` on coherent rows is heavy-tailed (two heavy rows sharing both their
/// buckets), so one block's 4.6 understated the risk: at `κ = 10.3` LSQR's rate is 0.82 against
/// 0.39 at `s = 8`, about 5× the iterations, not 2×. The doc now gives the range over the
/// blocks, 3.5–11.6, and the 5×. Pass rule for it (the sketches and the seeds are fixed, so the
/// figures are reproduced, not resampled): the smallest and the largest block worst within 0.05
/// of 3.52 and 11.58, and at least three blocks above 10.
#[test]
fn sparse_sign_worst_distortion_for_s2_on_coherent_input() {
    let a = coherent_matrix(20000, 50, 1e-3, Seed::new(1)).unwrap();
    let q = orthonormal_basis(a.as_ref()).unwrap();
    let w = worst_distortions_per_block(&q, 2, 10);
    println!("s = 2: worst κ(SQ) per block of 20 seeds {w:.3?} (documented 3.5–11.6)");
    let lo = w.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = w.iter().cloned().fold(0.0, f64::max);
    assert!(
        (lo - 3.52).abs() <= 0.05 && (hi - 11.58).abs() <= 0.05,
        "s = 2: worst κ(SQ) per block {w:.3?}, documented 3.5–11.6"
    );
    assert!(w.iter().filter(|&&k| k > 10.0).count() >= 3, "{w:.3?}");
}

/// Claim, `src/lstsq/sketch_solve.rs:116-118` (the example of `sketch_and_solve`): at `m = 10d`
/// "ε = 0.5 is generous, and the bound it gives is finite (1.77 here, for an actual 1.13)". The
/// doc test asserts only that the bound is finite and holds; here the two figures, on the
/// example's own data, to the two digits printed (±0.005), and the premise that `ε = 0.5` is
/// generous: the sketch's exact stretch `σ₊(SU) − 1` is below 0.5.
#[test]
fn sketch_and_solve_example_figures_are_as_printed() {
    let a = gaussian_matrix(2000, 10, Seed::new(3)).unwrap();
    let b: Vec<f64> = (0..2000).map(|i| (i as f64 * 0.1).cos()).collect();
    let p = SketchSolveParams::default();
    let (_, info) = sketch_and_solve(dense(&a), &b, &p).unwrap();
    let xq = qr_solve(dense(&a), &b, 0.0, Par::Seq).unwrap();
    let opt = norm(&residual(&a, &xq, &b));
    let (ratio, bound) = (info.residual_norm / opt, info.ratio_bound(0.5));
    println!("ratio {ratio:.4}, bound {bound:.4}");
    assert!((bound - 1.77).abs() <= 0.005, "bound {bound}");
    assert!((ratio - 1.13).abs() <= 0.005, "ratio {ratio}");
    let q = orthonormal_basis(a.as_ref()).unwrap();
    let (hi, _) = sq_extremes(p.sketch, 100, p.seed, &q);
    assert!(hi - 1.0 < 0.5, "stretch {}", hi - 1.0);
}

/// Claim, `src/leverage.rs:481-483` (`approx_ridge_leverage_scores`): "the method of
/// `approx_leverage_scores` with `R` from the QR of `[S₁A; √λ I]`, so that `‖e_iᵀ A R⁻¹‖² ≈
/// τ_i(λ)` within the same sandwich factors". With `Ã = [A; √λI] = Q̃T` (`Q̃` orthonormal) and
/// `S̃ = diag(S₁, I_d)`, `[S₁A; √λI] = S̃Q̃T`, so `A·R⁻¹ = Q̃_top·M⁻¹` with `σ(M) = σ(S̃Q̃)`:
/// for every row, `τ_i·σ_max(S̃Q̃)⁻² ≤ ‖e_iᵀAR⁻¹‖² ≤ τ_i·σ_min(S̃Q̃)⁻²` (an identity, as at
/// `λ = 0`, which `tests/leverage.rs` checks). Checked with `jl_dim = 0`, `debias = false` (the
/// scores are then exactly `‖e_iᵀAR⁻¹‖²`), `S₁` from `ApproxParams::sketch`, on Gaussian,
/// coherent `[I; 10⁻³G]` and Cauchy-row `4000 × 20` matrices, `λ ∈ {10⁻⁴, 1, 10²}·‖A‖₂²/d`,
/// `m₁ ∈ {d, 2d, 4d}` (`d` the documented minimum), 3 seeds. Pass rule: every row's ratio
/// `score/τ_i` within the factors, to `10⁻⁹` relative (rounding of QRs of well-conditioned
/// matrices).
#[test]
fn approx_ridge_scores_obey_the_sandwich_identity() {
    use randnla::leverage::{approx_ridge_leverage_scores, ApproxParams};
    use randnla::problems::cauchy_rows;
    let (n, d) = (4000, 20);
    let mats = [
        ("gaussian", gaussian_matrix(n, d, Seed::new(10)).unwrap()),
        (
            "coherent",
            coherent_matrix(n, d, 1e-3, Seed::new(11)).unwrap(),
        ),
        ("cauchy", cauchy_rows(n, d, Seed::new(12)).unwrap()),
    ];
    for (name, a) in &mats {
        let a2 = svals(a)[0].powi(2);
        for lam_rel in [1e-4, 1.0, 1e2] {
            let lambda = lam_rel * a2 / d as f64;
            let aug = Mat::from_fn(n + d, d, |i, j| {
                if i < n {
                    a[(i, j)]
                } else if i - n == j {
                    lambda.sqrt()
                } else {
                    0.0
                }
            });
            let q = orthonormal_basis(aug.as_ref()).unwrap();
            let q_top = Mat::from_fn(n, d, |i, j| q[(i, j)]);
            let tau: Vec<f64> = (0..n)
                .map(|i| (0..d).map(|j| q[(i, j)].powi(2)).sum())
                .collect();
            for m1 in [d, 2 * d, 4 * d] {
                for seed in 0..3 {
                    let p = ApproxParams {
                        sketch_rows: Some(m1),
                        jl_dim: 0,
                        debias: false,
                        ..Default::default()
                    };
                    let s1 = p.sketch(n, d, Seed::new(seed)).unwrap();
                    let sq = s1.apply(dense(&q_top), Par::Seq).unwrap();
                    let stq = Mat::from_fn(m1 + d, d, |i, j| {
                        if i < m1 {
                            sq[(i, j)]
                        } else {
                            q[(n + i - m1, j)]
                        }
                    });
                    let sv = svals(&stq);
                    let (lo, hi) = (sv[0].powi(-2), sv[d - 1].powi(-2));
                    let (y, _) = approx_ridge_leverage_scores(
                        dense(a),
                        lambda,
                        &p,
                        Seed::new(seed),
                        Par::Seq,
                    )
                    .unwrap();
                    let (mut rmin, mut rmax) = (f64::INFINITY, 0.0f64);
                    for i in 0..n {
                        let ratio = y[i] / tau[i];
                        rmin = rmin.min(ratio);
                        rmax = rmax.max(ratio);
                        assert!(
                            ratio >= lo * (1.0 - 1e-9) && ratio <= hi * (1.0 + 1e-9),
                            "{name} λ = {lam_rel}·‖A‖²/d, m₁ = {m1}, seed {seed}, row {i}: ratio {ratio} not in [{lo}, {hi}]"
                        );
                    }
                    if seed == 0 {
                        println!("{name} λ = {lam_rel}·‖A‖²/d m₁ = {m1}: ratios [{rmin:.4}, {rmax:.4}] within [{lo:.4}, {hi:.4}]");
                    }
                }
            }
        }
    }
}

/// Claim, `src/tensor/power.rs` (`ComponentInfo::weight_spread`), as it stood: "a conservative
/// standard-error proxy for the weight, `√(π/2)·1.4826·MAD/√B`". Conservative: it should not
/// fall below the weight's actual error. `tests/tensor_power.rs` checks it against the spread
/// of the weight within a factor 2 either way; here against the error of the largest weight
/// with respect to the exact power method's on the same tensor (same starts; bias included),
/// over 40 sketch seeds, on orthogonal tensors with noise: order 3 (`n = 50`, rank 2, noise
/// 0.05 and 0.01), order 4 (`n = 20`, rank 2, noise 0.05: per-mode hashing), and orders 7 and 9
/// (`n = 5`, where `SketchParams::resolve` documents a median biased low by 1% and 4–5%). Pass
/// rule: median reported spread ≥ 0.75 × the RMS error (the RMS over 40 seeds has a relative
/// standard deviation of about `1/√80 ≈ 11%`: 0.75 is over two of them below 1). Measured
/// ratios spread/RMS: 1.17, 1.15, 1.01, 0.86, 0.79 — at orders 7 and 9 the proxy falls below
/// the actual error (the bias it does not see), within the pass rule but no longer conservative;
/// the doc no longer says "conservative" and gives these figures.
#[test]
fn weight_spread_is_not_below_the_weights_error() {
    use randnla::tensor::{
        power_method_exact, power_method_sketched, PowerParams, SketchParams, SymmetricTensor,
    };
    for (order, n, noise) in [
        (3, 50, 0.05),
        (3, 50, 0.01),
        (4, 20, 0.05),
        (7, 5, 0.01),
        (9, 5, 0.01),
    ] {
        let (t, _, _) =
            SymmetricTensor::synthetic_orthogonal(order, n, 2, noise, Seed::new(7)).unwrap();
        let exact =
            power_method_exact(&t, 2, &PowerParams::default(), Seed::new(99), Par::Seq).unwrap();
        let w_ref = exact
            .weights
            .iter()
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max);
        let (mut sq, mut spreads) = (0.0, Vec::new());
        let seeds = 40;
        for s in 0..seeds {
            let dcmp = power_method_sketched(
                &t,
                2,
                &SketchParams::default(),
                Seed::new(100 + s),
                Par::Seq,
            )
            .unwrap();
            let j = if dcmp.weights[0] >= dcmp.weights[1] {
                0
            } else {
                1
            };
            sq += (dcmp.weights[j] - w_ref).powi(2);
            spreads.push(dcmp.components[j].weight_spread.unwrap());
        }
        let rmse = (sq / seeds as f64).sqrt();
        let med = median(spreads);
        println!("order {order}, n = {n}, noise {noise}: weight {w_ref:.4}, RMS error {rmse:.5}, median spread {med:.5}, ratio {:.3}", med / rmse);
        assert!(
            med >= 0.75 * rmse,
            "order {order}, n = {n}, noise {noise}: median spread {med:.5} < 0.75 × RMS error {rmse:.5}"
        );
    }
}

/// Claims, `src/lstsq/sketch_solve.rs:50-55` (`SketchSolveInfo::excess_estimate`:
/// "`(1 − ε₋)·‖g‖ ≤ ‖A(x̃ − x⋆)‖ ≤ (1 + ε₊)·‖g‖`, where `1 − ε₋` and `1 + ε₊` are the extreme
/// singular values of `SU`") and `:67-69` (`ratio_bound`: "an a-posteriori upper bound on the
/// residual ratio …, valid whenever the sketch stretches no vector of `range(A)` by more than
/// `1 + epsilon`"). `tests/lstsq.rs` checks both for Gaussian and sparse sign `s = 8` sketches
/// at `m ≥ 2d` on a Gaussian and a `κ = 10⁶` problem; here for the sketches that are not
/// embeddings on coherent input (CountSketch, sparse sign `s = 2`, SRHT), at `m = d + 2` just
/// above the documented minimum `m ≥ d` as well as `2d` and `10d`, on the coherent
/// `[I; 10⁻³G]` and Epperly's `κ = 10¹⁰`, `ρ = 10⁻³` (`2000 × 20`), 6 seeds each, `ε₊ = σ₊ − 1`
/// measured exactly on `U` (orthonormal basis of `range(A)`). Both are identities, so the pass
/// rule is rounding: `10⁻⁸` relative on the coherent input, `10⁻⁶` on `κ = 10¹⁰` (`x⋆` from a
/// QR solve is off by `≈ u·κ` in the directions of the small singular values).
#[test]
fn excess_estimate_and_ratio_bound_hold_for_non_embeddings() {
    let (n, d) = (2000, 20);
    let (ep, be, _, _) = ls_problem(n, d, 1e10, 1e-3, Seed::new(2)).unwrap();
    let inputs = [
        (
            "coherent",
            coherent_matrix(n, d, 1e-3, Seed::new(3)).unwrap(),
            rhs(n, 13),
            1e-8,
        ),
        ("epperly κ=1e10", ep, be, 1e-6),
    ];
    let mut checked = 0;
    for (name, a, b, slack) in &inputs {
        let q = orthonormal_basis(a.as_ref()).unwrap();
        let xopt = qr_solve(dense(a), b, 0.0, Par::Seq).unwrap();
        let opt = norm(&residual(a, &xopt, b));
        for kind in [
            SketchKind::CountSketch,
            SketchKind::SparseSign { nnz_per_col: 2 },
            SketchKind::Srht,
        ] {
            for m in [d + 2, 2 * d, 10 * d] {
                for s in 0..6 {
                    let seed = Seed::new(1500 + s);
                    let p = SketchSolveParams {
                        sketch: kind,
                        sketch_rows: Some(m),
                        seed,
                        par: Par::Seq,
                    };
                    let (x, info) = match sketch_and_solve(dense(a), b, &p) {
                        Ok(v) => v,
                        Err(randnla::Error::RankDeficient { .. }) => continue,
                        Err(e) => panic!("{name} {kind:?} m={m}: {e}"),
                    };
                    let (hi, lo) = sq_extremes(kind, m, seed, &q);
                    let diff: Vec<f64> = x.iter().zip(&xopt).map(|(p, q)| p - q).collect();
                    let excess = (a * col(&diff)).norm_l2();
                    let g = info.excess_estimate;
                    let what = format!("{name} {kind:?} m={m} seed {s}");
                    assert!(
                        lo * g <= excess * (1.0 + slack) + slack * opt
                            && excess <= hi * g * (1.0 + slack) + slack * opt,
                        "{what}: ‖A(x̃ − x⋆)‖ = {excess:e}, ‖g‖ = {g:e}, σ(SU) ∈ [{lo}, {hi}]"
                    );
                    let ratio = info.residual_norm / opt;
                    let bound = info.ratio_bound(hi - 1.0);
                    assert!(
                        ratio <= bound * (1.0 + slack),
                        "{what}: ratio {ratio} > ratio_bound(σ₊ − 1) = {bound}"
                    );
                    checked += usize::from(bound.is_finite());
                }
            }
        }
    }
    println!("{checked} cases with a finite bound");
    assert!(checked >= 30, "only {checked} informative cases");
}
