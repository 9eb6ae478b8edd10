//! Consistency between related entry points (review of 2026-12-05): each test compares two
//! public routes that the docs say agree — bitwise where the docs or the shared code path say
//! so, else to a stated tolerance — or an `Info` field against the value recomputed from the
//! answer.
use crate::common;

use common::{assert_bitwise, rel_diff};
use faer::{Mat, Par};
use randnla::attention::{
    exact_attention, poly_sketch_attention, ExactParams as AttnExact, FeatureMap, Kernel,
    PolySketch, PolySketchParams,
};
use randnla::leverage::{
    approx_leverage_scores, approx_ridge_leverage_scores, exact_leverage_scores,
    exact_ridge_leverage_scores, statistical_dimension, ApproxParams, ExactParams,
};
use randnla::lstsq::{
    sketch_and_precondition, sketch_and_precondition_multi, sketch_and_precondition_with_callback,
    sketch_and_solve, sketch_and_solve_with, LstsqParams, SketchSolveParams,
};
use randnla::problems::{gaussian_matrix, random_sparse};
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
use randnla::{MatrixRef, Seed};
use std::ops::ControlFlow;

fn col(v: &[f64]) -> Mat<f64> {
    Mat::from_fn(v.len(), 1, |i, _| v[i])
}

fn dense_of(a: MatrixRef<'_, f64>, sp: Option<&sprs::CsMat<f64>>) -> Mat<f64> {
    match (a, sp) {
        (MatrixRef::Dense(d), _) => d.to_owned(),
        (_, Some(s)) => Mat::from_fn(s.rows(), s.cols(), |i, j| {
            s.get(i, j).copied().unwrap_or(0.0)
        }),
        _ => unreachable!(),
    }
}

fn residual(dense: &Mat<f64>, x: &[f64], b: &[f64], lambda: f64) -> f64 {
    let mut s = 0.0;
    for (i, bi) in b.iter().enumerate() {
        let mut r = *bi;
        for (j, xj) in x.iter().enumerate() {
            r -= dense[(i, j)] * xj;
        }
        s += r * r;
    }
    s += lambda * x.iter().map(|v| v * v).sum::<f64>();
    s.sqrt()
}

/// `sketch_and_precondition_multi` returns for each column the bits of `sketch_and_precondition`
/// on that column alone (its docs), here on the sketched route (probe off), with the probe, and
/// on an ill-conditioned `A` where the probe gives up; dense and CSR, ridge 0 and 0.5. Before
/// session 38 the sketched route made one warm start for all columns, which faer rounded
/// differently (8·10⁻¹⁶ relative in `x`, other iteration counts at κ ≈ 10⁷).
#[test]
fn multi_vs_single_bitwise() {
    let (n, d, k) = (400, 12, 3);
    let sp = random_sparse(n, d, 4, Seed::new(1)).unwrap();
    let g = gaussian_matrix(n, d, Seed::new(2)).unwrap();
    // Nearly collinear columns so the probe gives up.
    let ill = Mat::from_fn(n, d, |i, j| {
        if j == 1 {
            g[(i, 0)] + 1e-7 * g[(i, 1)]
        } else {
            g[(i, j)]
        }
    });
    let bm = gaussian_matrix(n, k, Seed::new(3)).unwrap();
    for (name, av) in [
        ("csr", MatrixRef::sparse(&sp).unwrap()),
        ("dense", MatrixRef::dense(g.as_ref()).unwrap()),
        ("ill dense", MatrixRef::dense(ill.as_ref()).unwrap()),
    ] {
        for probe in [false, true] {
            for ridge in [0.0, 0.5] {
                let p = LstsqParams {
                    probe,
                    ridge,
                    ..Default::default()
                };
                let (x, infos) = sketch_and_precondition_multi(av, bm.as_ref(), &p).unwrap();
                for j in 0..k {
                    let bj: Vec<f64> = (0..n).map(|i| bm[(i, j)]).collect();
                    let (single, info) = sketch_and_precondition(av, &bj, &p).unwrap();
                    let xj: Vec<f64> = (0..d).map(|i| x[(i, j)]).collect();
                    let what = format!("{name} probe={probe} λ={ridge} column {j}");
                    assert_bitwise(&col(&xj), &col(&single), &what);
                    assert_eq!(infos[j].iterations, info.iterations, "{what}");
                    assert_eq!(
                        infos[j].residual_norm.to_bits(),
                        info.residual_norm.to_bits(),
                        "{what}: residual_norm"
                    );
                }
            }
        }
    }
}

/// `Info` of `sketch_and_precondition`: `runs == run_iterations.len()`, `Σ run_iterations ==
/// iterations`, one history entry per iteration, and `residual_norm` the true `‖b − Ax‖` (ridge:
/// `‖[b − Ax; −√λx]‖`) recomputed; with a callback that always continues the answer is bitwise
/// the plain one and the callback sees every iteration (probe's included).
#[test]
fn lstsq_info_fields_and_callback_variant() {
    let (n, d) = (300, 10);
    let sp = random_sparse(n, d, 4, Seed::new(11)).unwrap();
    let g = gaussian_matrix(n, d, Seed::new(12)).unwrap();
    let ill = Mat::from_fn(n, d, |i, j| {
        if j == 1 {
            g[(i, 0)] + 1e-7 * g[(i, 1)]
        } else {
            g[(i, j)]
        }
    });
    let b: Vec<f64> = (0..n).map(|i| ((i * 7 % 13) as f64).sin()).collect();
    for (name, av) in [
        ("csr", MatrixRef::sparse(&sp).unwrap()),
        ("dense", MatrixRef::dense(g.as_ref()).unwrap()),
        ("ill", MatrixRef::dense(ill.as_ref()).unwrap()),
    ] {
        for probe in [false, true] {
            for ridge in [0.0, 0.5] {
                let p = LstsqParams {
                    probe,
                    ridge,
                    ..Default::default()
                };
                let (x, info) = sketch_and_precondition(av, &b, &p).unwrap();
                let what = format!("{name} probe={probe} λ={ridge}");
                assert_eq!(info.runs, info.run_iterations.len(), "{what}");
                assert_eq!(
                    info.run_iterations.iter().sum::<usize>(),
                    info.iterations,
                    "{what}: Σ run_iterations"
                );
                assert_eq!(info.residual_history.len(), info.normal_eq_history.len());
                let r = residual(&dense_of(av, Some(&sp)), &x, &b, ridge);
                assert!(
                    (info.residual_norm - r).abs() <= 1e-10 * r,
                    "{what}: residual_norm {} vs recomputed {r}",
                    info.residual_norm
                );
                let mut seen = 0usize;
                let mut cb = |_: &randnla::lstsq::IterState| {
                    seen += 1;
                    ControlFlow::Continue(())
                };
                let (x2, info2) =
                    sketch_and_precondition_with_callback(av, &b, &p, &mut cb).unwrap();
                assert_bitwise(&col(&x), &col(&x2), &format!("{what}: callback vs plain"));
                assert_eq!(info.iterations, info2.iterations);
                let expect = if info.sketch_rows == 0 {
                    info.iterations
                } else {
                    info.iterations + info.probe_iterations
                };
                assert_eq!(seen, expect, "{what}: callback calls vs Info iterations");
            }
        }
    }
}

/// `sketch_and_solve` builds the sketch from `params` and calls `sketch_and_solve_with`: the
/// same sketch built by hand gives the same bits, and `residual_norm` is `‖Ax̃ − b‖`.
#[test]
fn sketch_and_solve_vs_with() {
    let (n, d) = (300, 8);
    let sp = random_sparse(n, d, 3, Seed::new(21)).unwrap();
    let av = MatrixRef::sparse(&sp).unwrap();
    let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).cos()).collect();
    for kind in [
        SketchKind::SparseSign { nnz_per_col: 4 },
        SketchKind::CountSketch,
        SketchKind::Gaussian,
        SketchKind::Srht,
    ] {
        let m = 80;
        let p = SketchSolveParams {
            sketch: kind,
            sketch_rows: Some(m),
            seed: Seed::new(5),
            ..Default::default()
        };
        let (x, info) = sketch_and_solve(av, &b, &p).unwrap();
        let s = kind.build::<f64>(m, n, Seed::new(5)).unwrap();
        let (x2, info2) = sketch_and_solve_with(av, &b, s.as_ref(), Par::Seq).unwrap();
        assert_bitwise(&col(&x), &col(&x2), kind.name());
        assert_eq!(info.sketch, info2.sketch);
        assert_eq!(info.sketch, s.name());
        assert_eq!(info.sketch_rows, m);
        let r = residual(&dense_of(av, Some(&sp)), &x, &b, 0.0);
        assert!(
            (info.residual_norm - r).abs() <= 1e-12 * r,
            "{}",
            kind.name()
        );
    }
}

/// Leverage scores: `info.sum` is `Σ scores` and `info.max` their max; the exact scores sum to
/// the rank; `statistical_dimension` is the exact ridge sum; approx with `n ≤ m₁` returns the
/// exact scores (docs: "the exact scores are returned instead"), for plain and ridge.
#[test]
fn leverage_info_and_exact_fallback() {
    let (n, d) = (60, 5);
    let sp = random_sparse(n, d, 3, Seed::new(31)).unwrap();
    let g = gaussian_matrix(n, d, Seed::new(32)).unwrap();
    for (name, av) in [
        ("csr", MatrixRef::sparse(&sp).unwrap()),
        ("dense", MatrixRef::dense(g.as_ref()).unwrap()),
    ] {
        for lambda in [0.0, 0.7] {
            let (ex, ei) =
                exact_ridge_leverage_scores(av, lambda, &ExactParams::default(), Par::Seq).unwrap();
            let sum: f64 = ex.iter().sum();
            let max = ex.iter().cloned().fold(0.0, f64::max);
            assert!((ei.sum - sum).abs() <= 1e-12 * sum, "{name}: sum");
            assert_eq!(ei.max, max, "{name}: max");
            if lambda == 0.0 {
                assert!((sum - ei.rank as f64).abs() < 1e-10, "{name}: Σ = rank");
                let (ex0, _) =
                    exact_leverage_scores(av, &ExactParams::default(), Par::Seq).unwrap();
                assert_bitwise(&col(&ex), &col(&ex0), "ridge λ=0 vs plain");
            }
            let sd = statistical_dimension(av, lambda, Par::Seq).unwrap();
            assert_eq!(
                sd.to_bits(),
                ei.sum.to_bits(),
                "{name}: statistical dimension"
            );
            // m₁ = 10d = 50 < n = 60 would sketch; m₁ = n gives the exact route.
            for jl in [0, 100] {
                let ap = ApproxParams {
                    sketch_rows: Some(n),
                    jl_dim: jl,
                    ..Default::default()
                };
                let (sc, ai) =
                    approx_ridge_leverage_scores(av, lambda, &ap, Seed::new(1), Par::Seq).unwrap();
                assert_bitwise(
                    &col(&sc),
                    &col(&ex),
                    &format!("{name} λ={lambda} jl={jl}: approx(n ≤ m₁) vs exact"),
                );
                assert_eq!(ai.rank, ei.rank);
                if lambda == 0.0 {
                    let (sc0, _) = approx_leverage_scores(av, &ap, Seed::new(1), Par::Seq).unwrap();
                    assert_bitwise(&col(&sc0), &col(&sc), "approx plain vs ridge λ = 0");
                }
            }
            // Sketched route: info.sum is the sum of what is returned.
            let ap = ApproxParams {
                sketch_rows: Some(3 * d),
                ..Default::default()
            };
            let (sc, ai) =
                approx_ridge_leverage_scores(av, lambda, &ap, Seed::new(1), Par::Seq).unwrap();
            let s: f64 = sc.iter().sum();
            assert!(
                (ai.sum - s).abs() <= 1e-12 * s,
                "{name}: approx sum {} vs {s}",
                ai.sum
            );
            assert_eq!(
                ai.max,
                sc.iter().cloned().fold(0.0, f64::max),
                "{name}: approx max"
            );
        }
    }
}

/// `apply` vs `to_dense()·A`, `apply_right(A)` vs `(apply(Aᵀ))ᵀ` and `A·to_dense()ᵀ`,
/// `apply_vec` vs `apply` of a one-column matrix (bitwise: the same call).
#[test]
fn sketch_apply_family() {
    let (m, n, d) = (20, 64, 5);
    let sp = random_sparse(n, d, 3, Seed::new(41)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| sp.get(i, j).copied().unwrap_or(0.0));
    let at = a.transpose().to_owned();
    for s in common::all_sketches(m, n, Seed::new(42)) {
        let sd = s.to_dense().unwrap();
        for av in [
            MatrixRef::sparse(&sp).unwrap(),
            MatrixRef::dense(a.as_ref()).unwrap(),
        ] {
            let sa = s.apply(av, Par::Seq).unwrap();
            let want = &sd * &a;
            assert!(
                rel_diff(&sa, &want) < 1e-13,
                "{}: apply vs to_dense·A",
                s.name()
            );
        }
        let right = s
            .apply_right(MatrixRef::dense(at.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        let want = &at * sd.transpose();
        assert!(rel_diff(&right, &want) < 1e-13, "{}: apply_right", s.name());
        let sa = s
            .apply(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        assert_bitwise(
            &right.transpose().to_owned(),
            &sa,
            &format!("{}: apply_right(Aᵀ)ᵀ vs apply(A)", s.name()),
        );
        for j in 0..d {
            let x: Vec<f64> = (0..n).map(|i| a[(i, j)]).collect();
            let v = s.apply_vec(&x).unwrap();
            let vj = Mat::from_fn(m, 1, |i, _| sa[(i, j)]);
            assert_bitwise(&col(&v), &vj, &format!("{}: apply_vec", s.name()));
        }
    }
}

fn clustered(n: usize, h: usize, seed: u64) -> Mat<f64> {
    let g = gaussian_matrix(n, h, Seed::new(seed)).unwrap();
    Mat::from_fn(n, h, |i, j| {
        0.4 * g[(i, j)] + if j == i % 3 { 1.0 } else { 0.0 }
    })
}

/// Attention: the free function vs the method (bitwise); `weights` vs `(φ(Q)φ(K)ᵀ)²`; the
/// output vs `Σ_j w_ij v_j / (1 + Σ_j w_ij)` from `weights`, non-causal and causal, for each
/// map; `min_normalizer` vs the recomputed minimum; the identity map vs exact polynomial
/// attention (documented exact).
#[test]
fn attention_family() {
    let (n, h, dv) = (40, 4, 3);
    let q = clustered(n, h, 51);
    let k = clustered(n, h, 52);
    let v = gaussian_matrix(n, dv, Seed::new(53)).unwrap();
    for map in [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ] {
        for causal in [false, true] {
            for block in [7, 256] {
                let p = PolySketchParams {
                    degree: 4,
                    sketch_dim: 8,
                    map,
                    causal,
                    block,
                    seed: Seed::new(9),
                    check: true,
                };
                let what = format!("{map:?} causal={causal} b={block}");
                let (out, info) =
                    poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &p, Par::Seq)
                        .unwrap();
                let ps = PolySketch::new(h, 4, 8, map, Seed::new(9)).unwrap();
                let (out2, _) = ps
                    .attention(
                        q.as_ref(),
                        k.as_ref(),
                        v.as_ref(),
                        causal,
                        block,
                        true,
                        Par::Seq,
                    )
                    .unwrap();
                assert_bitwise(&out, &out2, &format!("{what}: free fn vs method"));
                let w = ps.weights(q.as_ref(), k.as_ref(), Par::Seq).unwrap();
                let fq = ps.features(q.as_ref(), Par::Seq).unwrap();
                let fk = ps.features(k.as_ref(), Par::Seq).unwrap();
                let ip = &fq * fk.transpose();
                let w2 = Mat::from_fn(n, n, |i, j| ip[(i, j)] * ip[(i, j)]);
                assert!(rel_diff(&w, &w2) < 1e-12, "{what}: weights vs features");
                let mut want = Mat::<f64>::zeros(n, dv);
                let mut min_norm = f64::INFINITY;
                for i in 0..n {
                    let hi = if causal { i + 1 } else { n };
                    let den = 1.0 + (0..hi).map(|j| w[(i, j)]).sum::<f64>();
                    min_norm = min_norm.min(den);
                    for c in 0..dv {
                        want[(i, c)] = (0..hi).map(|j| w[(i, j)] * v[(j, c)]).sum::<f64>() / den;
                    }
                }
                assert!(
                    rel_diff(&out, &want) < 1e-10,
                    "{what}: attention vs weights: {}",
                    rel_diff(&out, &want)
                );
                assert!(
                    (info.min_normalizer - min_norm).abs() <= 1e-10 * min_norm,
                    "{what}: min_normalizer {} vs {min_norm}",
                    info.min_normalizer
                );
                assert_eq!(info.blocks, n.div_ceil(block), "{what}: blocks");
                assert_eq!(info.sketch_dim, ps.sketch_dim(), "{what}: sketch_dim");
                assert_eq!(info.feature_dim, ps.feature_dim(), "{what}: feature_dim");
                let ex = exact_attention(
                    q.as_ref(),
                    k.as_ref(),
                    v.as_ref(),
                    Kernel::Polynomial { degree: 4 },
                    // `check` compares with exact attention at the default block 256 (exact
                    // attention is bitwise only across thread counts, not across block sizes).
                    &AttnExact { causal, block: 256 },
                    Par::Seq,
                )
                .unwrap();
                let e = randnla::attention::relative_error(out.as_ref(), ex.as_ref()).unwrap();
                assert_eq!(
                    info.rel_error.map(f64::to_bits),
                    Some(e.to_bits()),
                    "{what}: rel_error"
                );
                if map == FeatureMap::Identity {
                    assert!(e < 1e-12, "{what}: identity map vs exact: {e}");
                }
            }
        }
    }
}

/// TensorSketch: mode `k` is `CountSketch::new(m, d_k, seed.derive(0x50·2³² + k))` (docs), so
/// `mode_sketch` is bitwise that sketch's `apply_vec`, and `p = 1` is `C₀` itself;
/// `apply_rows` row `i` is bitwise `apply_power(a_i)` (dense and CSR), and `apply_kron(x, …, x)`
/// agrees with `apply_power(x)` to rounding; the same row/power pair for `TreeSketch`.
#[test]
fn tensor_sketch_family() {
    use randnla::sketch::tensor::{TensorSketch, TreeSketch};
    use randnla::sketch::CountSketch;
    let (n, d, m) = (20, 7, 32);
    let sp = random_sparse(n, d, 3, Seed::new(61)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| sp.get(i, j).copied().unwrap_or(0.0));
    let seed = Seed::new(62);
    for p in [1usize, 2, 3] {
        let ts = TensorSketch::new(p, d, m, seed).unwrap();
        let tr = TreeSketch::new(p, d, m, seed).unwrap();
        for k in 0..p {
            let cs = CountSketch::new(m, d, seed.derive((0x50 << 32) + k as u64)).unwrap();
            for i in 0..n {
                let x: Vec<f64> = (0..d).map(|j| a[(i, j)]).collect();
                let want = cs.apply_vec(&x).unwrap();
                let got = ts.mode_sketch(k, &x).unwrap();
                assert_bitwise(&col(&got), &col(&want), &format!("p={p} mode {k} row {i}"));
                if p == 1 {
                    let pw = ts.apply_power(&x).unwrap();
                    assert_bitwise(&col(&pw), &col(&want), &format!("p=1 row {i}: TS vs C₀"));
                }
            }
        }
        for av in [
            MatrixRef::sparse(&sp).unwrap(),
            MatrixRef::dense(a.as_ref()).unwrap(),
        ] {
            let rows = ts.apply_rows(av, Par::Seq).unwrap();
            let trows = tr.apply_rows(av, Par::Seq).unwrap();
            for i in 0..n {
                let x: Vec<f64> = (0..d).map(|j| a[(i, j)]).collect();
                let pw = ts.apply_power(&x).unwrap();
                let ri = Mat::from_fn(m, 1, |c, _| rows[(i, c)]);
                assert_bitwise(
                    &ri,
                    &col(&pw),
                    &format!("TS p={p} row {i}: apply_rows vs apply_power"),
                );
                let tpw = tr.apply_power(&x).unwrap();
                let ti = Mat::from_fn(m, 1, |c, _| trows[(i, c)]);
                assert_bitwise(
                    &ti,
                    &col(&tpw),
                    &format!("Tree p={p} row {i}: apply_rows vs apply_power"),
                );
                let xs: Vec<&[f64]> = (0..p).map(|_| x.as_slice()).collect();
                let kr = ts.apply_kron(&xs).unwrap();
                assert!(
                    rel_diff(&col(&kr), &col(&pw)) < 1e-13,
                    "TS p={p} row {i}: kron vs power"
                );
                let tkr = tr.apply_kron(&xs).unwrap();
                assert!(
                    rel_diff(&col(&tkr), &col(&tpw)) < 1e-13,
                    "Tree p={p} row {i}: kron vs power"
                );
            }
        }
    }
}

/// Polynomial-kernel features: `φ(x) = S(x̃^{⊗p})` with `x̃ = (√γ·x, √c)` and `S =
/// TensorSketch::new(p, d + 1, m, seed)` (or the `TreeSketch`) "without any further scaling";
/// `transform` row `i` is bitwise `transform_vec(x_i)`, dense and CSR.
#[test]
fn poly_features_family() {
    use randnla::sketch::tensor::{
        PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
    };
    let (n, d, m) = (16, 6, 64);
    let sp = random_sparse(n, d, 3, Seed::new(71)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| sp.get(i, j).copied().unwrap_or(0.0));
    let seed = Seed::new(72);
    for method in [TensorMethod::Fft, TensorMethod::Tree] {
        for (gamma, coef0) in [(1.0, 0.0), (4.0, 1.0), (0.25, 2.25)] {
            for p in [1usize, 2, 3] {
                let params = PolyKernelParams {
                    degree: p,
                    gamma,
                    coef0,
                    sketch_dim: m,
                    method,
                };
                let phi = PolyKernelFeatures::new(d, params, seed).unwrap();
                let what = format!("{method:?} p={p} γ={gamma} c={coef0}");
                for av in [
                    MatrixRef::sparse(&sp).unwrap(),
                    MatrixRef::dense(a.as_ref()).unwrap(),
                ] {
                    let f = phi.transform(av, Par::Seq).unwrap();
                    for i in 0..n {
                        let x: Vec<f64> = (0..d).map(|j| a[(i, j)]).collect();
                        let v = phi.transform_vec(&x).unwrap();
                        let fi = Mat::from_fn(m, 1, |c, _| f[(i, c)]);
                        assert_bitwise(
                            &fi,
                            &col(&v),
                            &format!("{what} row {i}: transform vs _vec"),
                        );
                        let mut xt: Vec<f64> = x.iter().map(|v| v * gamma.sqrt()).collect();
                        xt.push(coef0.sqrt());
                        let want = match method {
                            TensorMethod::Fft => TensorSketch::new(p, d + 1, m, seed)
                                .unwrap()
                                .apply_power(&xt)
                                .unwrap(),
                            TensorMethod::Tree => TreeSketch::new(p, d + 1, m, seed)
                                .unwrap()
                                .apply_power(&xt)
                                .unwrap(),
                            other => panic!("no reference for {other:?}"),
                        };
                        let e = rel_diff(&col(&v), &col(&want));
                        assert!(e < 1e-13, "{what} row {i}: features vs sketch of x̃: {e:e}");
                    }
                }
            }
        }
    }
}

/// `LeverageInfo` on each route against what the docs define: `method`, `n`, `d`, `nnz`,
/// `sketch_rows` (`m₁` when sketched, 0 for Householder), `jl_dim` (0 when no JL stage ran),
/// `debias_factor` (1 when not applied), `lambda`; and the approx rank equals the exact rank.
#[test]
fn leverage_info_fields_per_route() {
    use randnla::leverage::LeverageMethod;
    let (n, d) = (200, 5);
    let sp = random_sparse(n, d, 3, Seed::new(81)).unwrap();
    let av = MatrixRef::sparse(&sp).unwrap();
    let (_, ei) = exact_leverage_scores(av, &ExactParams::default(), Par::Seq).unwrap();
    assert_eq!((ei.n, ei.d, ei.nnz), (n, d, sp.nnz()));
    if ei.method == LeverageMethod::Householder {
        assert_eq!(ei.sketch_rows, 0, "exact Householder: sketch_rows");
    }
    assert_eq!(ei.jl_dim, 0, "exact: jl_dim");
    assert_eq!(ei.debias_factor, 1.0, "exact: debias_factor");
    for lambda in [0.0, 0.3] {
        for (jl, debias) in [(0, false), (0, true), (50, false), (50, true)] {
            let what = format!("λ={lambda} jl={jl} debias={debias}");
            // Sketched route: m₁ = 40 < n.
            let ap = ApproxParams {
                sketch_rows: Some(40),
                jl_dim: jl,
                debias,
                ..Default::default()
            };
            let (_, ai) =
                approx_ridge_leverage_scores(av, lambda, &ap, Seed::new(2), Par::Seq).unwrap();
            assert_eq!(ai.method, LeverageMethod::Approximate, "{what}");
            assert_eq!((ai.n, ai.d, ai.nnz), (n, d, sp.nnz()), "{what}");
            assert_eq!(ai.sketch_rows, 40, "{what}: sketch_rows");
            assert_eq!(ai.jl_dim, jl, "{what}: jl_dim");
            assert_eq!(ai.lambda, lambda, "{what}: lambda");
            assert_eq!(ai.rank, d, "{what}: rank");
            if !debias {
                assert_eq!(ai.debias_factor, 1.0, "{what}: debias_factor");
            } else {
                assert!(
                    ai.debias_factor < 1.0,
                    "{what}: debias_factor {}",
                    ai.debias_factor
                );
            }
            // Fallback route: m₁ ≥ n returns the exact scores; no JL stage ran, no debiasing.
            let ap = ApproxParams {
                sketch_rows: Some(n),
                ..ap
            };
            let (_, fi) =
                approx_ridge_leverage_scores(av, lambda, &ap, Seed::new(2), Par::Seq).unwrap();
            assert_ne!(
                fi.method,
                LeverageMethod::Approximate,
                "{what}: fallback method"
            );
            assert_eq!(fi.jl_dim, 0, "{what}: fallback jl_dim");
            assert_eq!(fi.debias_factor, 1.0, "{what}: fallback debias_factor");
            assert_eq!(fi.lambda, lambda, "{what}: fallback lambda");
        }
    }
}

/// Row sampling: `to_dense` has `scales()[t]` at `(t, rows()[t])` and nothing else, and
/// `apply` is `to_dense()·A` (bitwise: one product per output row); for every scheme.
#[test]
fn row_sampling_accessors_vs_dense() {
    use randnla::sketch::sampling::RowSampling;
    let (n, d, m) = (50, 4, 12);
    let sp = random_sparse(n, d, 2, Seed::new(91)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| sp.get(i, j).copied().unwrap_or(0.0));
    let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 5) as f64).collect();
    for (name, s) in [
        (
            "with_replacement",
            RowSampling::with_replacement(&w, m, Seed::new(1)).unwrap(),
        ),
        ("uniform", RowSampling::uniform(n, m, Seed::new(2)).unwrap()),
        (
            "bernoulli",
            RowSampling::bernoulli(&w, m, Seed::new(3)).unwrap(),
        ),
    ] {
        let sd = SketchOperator::<f64>::to_dense(&s).unwrap();
        assert_eq!(s.rows().len(), s.scales().len(), "{name}");
        assert_eq!(
            sd.nrows(),
            SketchOperator::<f64>::nrows(&s),
            "{name}: to_dense rows"
        );
        assert_eq!(sd.nrows(), s.rows().len(), "{name}: nrows vs rows().len()");
        for t in 0..sd.nrows() {
            for i in 0..n {
                let want = if s.rows()[t] == i { s.scales()[t] } else { 0.0 };
                assert_eq!(sd[(t, i)], want, "{name}: S[{t},{i}]");
            }
        }
        for av in [
            MatrixRef::sparse(&sp).unwrap(),
            MatrixRef::dense(a.as_ref()).unwrap(),
        ] {
            let sa = s.apply(av, Par::Seq).unwrap();
            let want = Mat::from_fn(sd.nrows(), d, |t, j| s.scales()[t] * a[(s.rows()[t], j)]);
            assert_bitwise(&sa, &want, &format!("{name}: apply vs rows/scales"));
        }
    }
}

/// Attention building blocks: `weights` is `tensored_features(Q)·tensored_features(K)ᵀ`;
/// `causal_product` and `causal_squared_product` are `tril(ABᵀ)C` and `tril((ABᵀ)^{∘2})C` formed
/// densely, for block sizes dividing and not dividing `n`.
#[test]
fn attention_blocks_vs_dense() {
    use randnla::attention::{causal_product, causal_squared_product};
    let (n, h, r, e) = (30, 4, 6, 3);
    let q = clustered(n, h, 101);
    let k = clustered(n, h, 102);
    for map in [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ] {
        let ps = PolySketch::new(h, 4, r, map, Seed::new(3)).unwrap();
        let tq = ps.tensored_features(q.as_ref(), Par::Seq).unwrap();
        let tk = ps.tensored_features(k.as_ref(), Par::Seq).unwrap();
        let w = ps.weights(q.as_ref(), k.as_ref(), Par::Seq).unwrap();
        let w2 = &tq * tk.transpose();
        assert!(
            rel_diff(&w, &w2) < 1e-12,
            "{map:?}: weights vs tensored features"
        );
    }
    let a = gaussian_matrix(n, r, Seed::new(104)).unwrap();
    let b = gaussian_matrix(n, r, Seed::new(105)).unwrap();
    let c = gaussian_matrix(n, e, Seed::new(106)).unwrap();
    let ab = &a * b.transpose();
    for block in [1, 4, 7, 30, 256] {
        let p1 = causal_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq).unwrap();
        let p2 =
            causal_squared_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq).unwrap();
        let mut w1 = Mat::<f64>::zeros(n, e);
        let mut w2 = Mat::<f64>::zeros(n, e);
        for i in 0..n {
            for j in 0..=i {
                for t in 0..e {
                    w1[(i, t)] += ab[(i, j)] * c[(j, t)];
                    w2[(i, t)] += ab[(i, j)] * ab[(i, j)] * c[(j, t)];
                }
            }
        }
        assert!(rel_diff(&p1, &w1) < 1e-12, "b={block}: causal_product");
        assert!(
            rel_diff(&p2, &w2) < 1e-12,
            "b={block}: causal_squared_product"
        );
    }
}

/// Symmetric tensors and their sketches: `contract_all(u) = Σ u_i·contract_but_one(u)_i` (to
/// rounding), dense vs coordinate storage; the sketches' `contract_all`/`contract_but_one` are
/// the medians of `estimates_all`/`estimates_but_one` (bitwise, odd and even `B`);
/// `power_method_sketched` is `TensorSketches::with_hashing` + `power_method_on_sketches` with
/// an explicit hashing (bitwise); the exact method's `contractions` is the documented
/// `rank·(L·(N+1) + N_refine + 1)` and each component has `L` start values.
#[test]
fn tensor_power_family() {
    use randnla::tensor::{
        power_method_exact, power_method_on_sketches, power_method_sketched, ModeHashing,
        PowerParams, SketchParams, SymmetricTensor, TensorSketches,
    };
    let (n, rank) = (8, 2);
    let (t, _, _) =
        SymmetricTensor::synthetic_orthogonal(3, n, rank, 0.01, Seed::new(111)).unwrap();
    let mut idx = Vec::new();
    let mut val = Vec::new();
    t.for_each_entry(|i, v| {
        if v != 0.0 {
            idx.extend(i.iter().map(|&x| x as usize));
            val.push(v);
        }
    });
    let coo = SymmetricTensor::coordinate(3, n, &idx, &val).unwrap();
    let u: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.7).sin()).collect();
    for (name, tt) in [("dense", &t), ("coordinate", &coo)] {
        let z = tt.contract_but_one(&u, Par::Seq).unwrap();
        let all = tt.contract_all(&u, Par::Seq).unwrap();
        let s: f64 = z.iter().zip(&u).map(|(a, b)| a * b).sum();
        assert!(
            (all - s).abs() <= 1e-13 * s.abs().max(1e-300),
            "{name}: contract_all {all} vs Σ u·z {s}"
        );
    }
    let zd = t.contract_but_one(&u, Par::Seq).unwrap();
    let zc = coo.contract_but_one(&u, Par::Seq).unwrap();
    assert!(
        rel_diff(&col(&zd), &col(&zc)) < 1e-13,
        "dense vs coordinate"
    );
    for bb in [5usize, 6] {
        let sk = TensorSketches::new(&t, bb, 64, Seed::new(5), Par::Seq).unwrap();
        let mut est = sk.estimates_all(&u, Par::Seq).unwrap();
        let all = sk.contract_all(&u, Par::Seq).unwrap();
        assert_eq!(
            all.to_bits(),
            common::median(&mut est).to_bits(),
            "B={bb}: contract_all vs median"
        );
        let est1 = sk.estimates_but_one(&u, Par::Seq).unwrap();
        let z = sk.contract_but_one(&u, Par::Seq).unwrap();
        for i in 0..n {
            let m = common::median(&mut est1.iter().map(|e| e[i]).collect::<Vec<_>>());
            assert_eq!(
                z[i].to_bits(),
                m.to_bits(),
                "B={bb}: contract_but_one[{i}] vs median"
            );
        }
    }
    let pp = PowerParams {
        starts: 4,
        iters: 5,
        refine_iters: 6,
    };
    let ex = power_method_exact(&t, rank, &pp, Seed::new(7), Par::Seq).unwrap();
    assert_eq!(
        ex.contractions,
        rank * (pp.starts * (pp.iters + 1) + pp.refine_iters + 1),
        "exact: contractions"
    );
    for c in &ex.components {
        assert_eq!(c.start_values.len(), pp.starts);
        assert!(c.best_start < pp.starts);
    }
    for hashing in [ModeHashing::PerMode, ModeHashing::Shared] {
        let sp = SketchParams {
            power: pp.clone(),
            sketches: 4,
            sketch_dim: 256,
            search_sketches: 2,
            search_sketch_dim: 64,
            polish_iters: 2,
            hashing,
        };
        let a = power_method_sketched(&t, rank, &sp, Seed::new(8), Par::Seq).unwrap();
        let s = TensorSketches::with_hashing(&t, 4, 256, hashing, Seed::new(8), Par::Seq).unwrap();
        let b = power_method_on_sketches(s, rank, &sp, Seed::new(8), Par::Seq).unwrap();
        assert_eq!(
            a.weights, b.weights,
            "{hashing:?}: sketched vs on_sketches weights"
        );
        assert_eq!(a.factors, b.factors, "{hashing:?}: factors");
        assert_eq!(a.sketch_shape, Some((4, 256)), "{hashing:?}: sketch_shape");
        assert_eq!(a.contractions, b.contractions);
    }
}

/// More `Info` fields against their definitions: `residual_history` and `normal_eq_history` have
/// one entry per iteration counted in `iterations` (+ the probe's when the probe's answer was
/// not kept), `tol` is the tolerance asked for, `converged` means `stopping_value ≤ tol`,
/// `sketch_rows` is the one asked for; `lsqr()` reports `sketch_rows = 0`, no factorization,
/// rank `d`, the true residual norm, and agrees with the probe's answer on `A` (the same
/// stopping rule) to rounding.
#[test]
fn lstsq_info_more_fields_and_lsqr_baseline() {
    use randnla::lstsq::{lsqr, LsqrParams};
    let (n, d) = (300, 10);
    let g = gaussian_matrix(n, d, Seed::new(121)).unwrap();
    let sp = random_sparse(n, d, 4, Seed::new(122)).unwrap();
    let b: Vec<f64> = (0..n).map(|i| ((i * 5 % 11) as f64).cos()).collect();
    for (name, av, dense) in [
        ("dense", MatrixRef::dense(g.as_ref()).unwrap(), g.clone()),
        (
            "csr",
            MatrixRef::sparse(&sp).unwrap(),
            dense_of(MatrixRef::sparse(&sp).unwrap(), Some(&sp)),
        ),
    ] {
        for (probe, rows) in [(false, Some(40)), (true, None)] {
            let p = LstsqParams {
                probe,
                sketch_rows: rows,
                tol: 1e-10,
                ..Default::default()
            };
            let (_, info) = sketch_and_precondition(av, &b, &p).unwrap();
            let what = format!("{name} probe={probe}");
            let hist = info.residual_history.len();
            assert!(
                hist == info.iterations || hist == info.iterations + info.probe_iterations,
                "{what}: history {hist} vs iterations {} (+{} probe)",
                info.iterations,
                info.probe_iterations
            );
            assert_eq!(info.tol, 1e-10, "{what}: tol");
            assert_eq!(
                info.converged,
                info.stopping_value <= info.tol,
                "{what}: converged vs stopping_value {}",
                info.stopping_value
            );
            if let Some(m) = rows {
                assert_eq!(info.sketch_rows, m, "{what}: sketch_rows");
            }
            assert_eq!(info.rank, d, "{what}: rank");
        }
        for ridge in [0.0, 0.5] {
            let lp = LsqrParams {
                tol: 1e-10,
                ridge,
                ..Default::default()
            };
            let (x, info) = lsqr(av, &b, &lp).unwrap();
            let what = format!("{name} lsqr λ={ridge}");
            assert_eq!(info.sketch_rows, 0, "{what}");
            assert_eq!(info.factorization, None, "{what}");
            assert_eq!(info.rank, d, "{what}");
            assert_eq!(info.runs, info.run_iterations.len(), "{what}");
            assert_eq!(
                info.run_iterations.iter().sum::<usize>(),
                info.iterations,
                "{what}"
            );
            assert_eq!(
                info.residual_history.len(),
                info.iterations,
                "{what}: history"
            );
            let r = residual(&dense, &x, &b, ridge);
            assert!(
                (info.residual_norm - r).abs() <= 1e-10 * r,
                "{what}: residual_norm {} vs {r}",
                info.residual_norm
            );
            let p = LstsqParams {
                tol: 1e-10,
                ridge,
                ..Default::default()
            };
            let (xs, si) = sketch_and_precondition(av, &b, &p).unwrap();
            if si.sketch_rows == 0 && si.factorization.is_none() {
                let e = rel_diff(&col(&x), &col(&xs));
                assert!(e < 1e-8, "{what}: lsqr vs probe on A: {e:e}");
            }
        }
    }
}

/// Active-learning pool: `PoolInfo::score_sum` is `Σ scores`, `coherence` is
/// `max/Σ·n`, `n`/`d`/`nnz` the pool's, `sketch_rows` 0 for `AsGiven`; `Basis::Exact` scores are
/// the exact leverage scores; `least_squares`' `OPT` is `residual_norm_sq(β*, y)` and `β*` the
/// QR least-squares answer.
#[test]
fn active_pool_family() {
    use randnla::active::{Basis, Pool};
    use randnla::lstsq::qr_solve;
    let (n, d) = (150, 5);
    let sp = random_sparse(n, d, 3, Seed::new(131)).unwrap();
    let g = gaussian_matrix(n, d, Seed::new(132)).unwrap();
    let y: Vec<f64> = (0..n).map(|i| ((i * 3 % 7) as f64).sin()).collect();
    for (name, xv) in [
        ("csr", MatrixRef::sparse(&sp).unwrap()),
        ("dense", MatrixRef::dense(g.as_ref()).unwrap()),
    ] {
        let (ex, _) = exact_leverage_scores(xv, &ExactParams::default(), Par::Seq).unwrap();
        for basis in [
            Basis::Exact,
            Basis::Sketched { sketch_rows: None },
            Basis::AsGiven,
        ] {
            let what = format!("{name} {}", basis.name());
            let pool = Pool::new(xv, basis, Seed::new(3), Par::Seq).unwrap();
            let info = pool.info();
            let s = pool.scores();
            let sum: f64 = s.iter().sum();
            let max = s.iter().cloned().fold(0.0, f64::max);
            assert!(
                (info.score_sum - sum).abs() <= 1e-12 * sum,
                "{what}: score_sum {} vs {sum}",
                info.score_sum
            );
            let coh = max / sum * n as f64;
            assert!(
                (info.coherence - coh).abs() <= 1e-12 * coh,
                "{what}: coherence {} vs {coh}",
                info.coherence
            );
            assert_eq!(
                (info.n, info.d, info.nnz),
                (n, d, xv.nnz()),
                "{what}: shape"
            );
            assert_eq!(info.basis, basis, "{what}: basis");
            if basis == Basis::AsGiven {
                assert_eq!(info.sketch_rows, 0, "{what}: sketch_rows");
            }
            if basis == Basis::Exact {
                assert!((sum - d as f64).abs() < 1e-10, "{what}: Σ = d");
                let e = rel_diff(&col(s), &col(&ex));
                assert!(
                    e < 1e-10,
                    "{what}: exact basis vs exact leverage scores: {e:e}"
                );
            }
            let (beta, opt) = pool.least_squares(&y).unwrap();
            let r = pool.residual_norm_sq(&beta, &y).unwrap();
            assert!(
                (opt - r).abs() <= 1e-12 * r,
                "{what}: OPT {opt} vs ‖Xβ*−y‖² {r}"
            );
            let xq = qr_solve(xv, &y, 0.0, Par::Seq).unwrap();
            assert!(
                rel_diff(&col(&beta), &col(&xq)) < 1e-10,
                "{what}: β* vs qr_solve"
            );
        }
    }
}

/// Edge rows: all-zero rows, `−0.0` entries, explicitly stored zeros in CSR: `transform` row vs
/// `transform_vec` and TensorSketch/TreeSketch `apply_rows` row vs `apply_power`, bitwise.
#[test]
fn tensor_rows_edge_entries() {
    use randnla::sketch::tensor::{
        PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
    };
    let (n, d, m) = (4, 5, 16);
    let rows: Vec<Vec<f64>> = vec![
        vec![0.0; d],
        vec![-0.0, 1.5, -0.0, 0.0, -2.0],
        vec![3.0, 0.0, 0.0, 0.0, 0.0],
        vec![1e-310, -1.0, 2.0, 0.5, -0.25],
    ];
    let a = Mat::from_fn(n, d, |i, j| rows[i][j]);
    // CSR storing every entry, zeros included.
    let mut indptr = vec![0usize];
    let mut indices = Vec::new();
    let mut data = Vec::new();
    for r in &rows {
        for (j, v) in r.iter().enumerate() {
            indices.push(j);
            data.push(*v);
        }
        indptr.push(indices.len());
    }
    let csr = sprs::CsMat::new((n, d), indptr, indices, data);
    for p in [1usize, 2, 3] {
        let ts = TensorSketch::new(p, d, m, Seed::new(1)).unwrap();
        let tr = TreeSketch::new(p, d, m, Seed::new(1)).unwrap();
        for (lname, av) in [
            ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
            ("csr+zeros", MatrixRef::sparse(&csr).unwrap()),
        ] {
            let r1 = ts.apply_rows(av, Par::Seq).unwrap();
            let r2 = tr.apply_rows(av, Par::Seq).unwrap();
            for (i, x) in rows.iter().enumerate() {
                let w1 = ts.apply_power(x).unwrap();
                let w2 = tr.apply_power(x).unwrap();
                let g1 = Mat::from_fn(m, 1, |c, _| r1[(i, c)]);
                let g2 = Mat::from_fn(m, 1, |c, _| r2[(i, c)]);
                assert_bitwise(&g1, &col(&w1), &format!("TS p={p} {lname} row {i}"));
                assert_bitwise(&g2, &col(&w2), &format!("Tree p={p} {lname} row {i}"));
            }
        }
        for method in [TensorMethod::Fft, TensorMethod::Tree] {
            for coef0 in [0.0, 1.0] {
                let params = PolyKernelParams {
                    degree: p,
                    gamma: 2.0,
                    coef0,
                    sketch_dim: m,
                    method,
                };
                let phi = PolyKernelFeatures::new(d, params, Seed::new(2)).unwrap();
                for (lname, av) in [
                    ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
                    ("csr+zeros", MatrixRef::sparse(&csr).unwrap()),
                ] {
                    let f = phi.transform(av, Par::Seq).unwrap();
                    for (i, x) in rows.iter().enumerate() {
                        let v = phi.transform_vec(x).unwrap();
                        let fi = Mat::from_fn(m, 1, |c, _| f[(i, c)]);
                        assert_bitwise(
                            &fi,
                            &col(&v),
                            &format!("{method:?} p={p} c={coef0} {lname} row {i}"),
                        );
                    }
                }
            }
        }
    }
}

/// A right-hand side whose norm overflows (or whose entries are all below `2⁻⁹⁶⁰`) is solved as
/// `2⁻ᵉ·b`, per column in `_multi`: each such column agrees with the single-column solve, and
/// `Info::residual_norm` is the true residual scaled back.
#[test]
fn multi_vs_single_scaled_columns() {
    let (n, d) = (200, 6);
    let g = gaussian_matrix(n, d, Seed::new(141)).unwrap();
    let av = MatrixRef::dense(g.as_ref()).unwrap();
    let base = gaussian_matrix(n, 3, Seed::new(142)).unwrap();
    let scales = [1.0, 1e305, 1e-300];
    let bm = Mat::from_fn(n, 3, |i, j| base[(i, j)] * scales[j]);
    for probe in [true, false] {
        let p = LstsqParams {
            probe,
            ..Default::default()
        };
        let (x, infos) = sketch_and_precondition_multi(av, bm.as_ref(), &p).unwrap();
        for j in 0..3 {
            let bj: Vec<f64> = (0..n).map(|i| bm[(i, j)]).collect();
            let (single, si) = sketch_and_precondition(av, &bj, &p).unwrap();
            let xj: Vec<f64> = (0..d).map(|i| x[(i, j)]).collect();
            let what = format!("probe={probe} column {j} (scale {:e})", scales[j]);
            let e = rel_diff(&col(&xj), &col(&single));
            assert!(e < 1e-13, "{what}: multi vs single {e:e}");
            let rm = infos[j].residual_norm;
            assert!(
                (rm - si.residual_norm).abs() <= 1e-12 * si.residual_norm,
                "{what}: residual_norm {rm:e} vs {:e}",
                si.residual_norm
            );
            // Recompute at the column's own scale: ‖b/s − A(x/s)‖·s.
            let s = scales[j];
            let bs: Vec<f64> = bj.iter().map(|v| v / s).collect();
            let xs: Vec<f64> = xj.iter().map(|v| v / s).collect();
            let r = residual(&g, &xs, &bs, 0.0) * s;
            assert!(
                (rm - r).abs() <= 1e-10 * r,
                "{what}: residual_norm {rm:e} vs recomputed {r:e}"
            );
        }
    }
}

/// `f32` against `f64` where the docs say "rounded once": every sketch's `to_dense::<f32>` is
/// `to_dense::<f64>` rounded (`Scalar` docs), TensorSketch/TreeSketch `apply_power::<f32>` and
/// the polynomial features' `transform_vec::<f32>` are the `f64` results (of the widened input)
/// rounded ("Every degree computes in f64; an f32 output is that result rounded once").
#[test]
fn f32_is_f64_rounded() {
    use randnla::sketch::sampling::RowSampling;
    use randnla::sketch::tensor::{
        PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
    };
    let (m, n) = (12, 40);
    for kind in [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: 3 },
        SketchKind::Gaussian,
        SketchKind::Srht,
    ] {
        let s64 = kind.build::<f64>(m, n, Seed::new(151)).unwrap();
        let s32 = kind.build::<f32>(m, n, Seed::new(151)).unwrap();
        let d64 = s64.to_dense().unwrap();
        let d32 = s32.to_dense().unwrap();
        for i in 0..m {
            for j in 0..n {
                assert_eq!(
                    d32[(i, j)].to_bits(),
                    (d64[(i, j)] as f32).to_bits(),
                    "{}: S[{i},{j}]",
                    kind.name()
                );
            }
        }
    }
    let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
    let rs = RowSampling::with_replacement(&w, m, Seed::new(152)).unwrap();
    let d64 = SketchOperator::<f64>::to_dense(&rs).unwrap();
    let d32 = SketchOperator::<f32>::to_dense(&rs).unwrap();
    for i in 0..m {
        for j in 0..n {
            assert_eq!(
                d32[(i, j)].to_bits(),
                (d64[(i, j)] as f32).to_bits(),
                "row sampling S[{i},{j}]"
            );
        }
    }
    let d = 6;
    let x32: Vec<f32> = (0..d).map(|i| ((i as f32) * 0.9).sin()).collect();
    let x64: Vec<f64> = x32.iter().map(|&v| v as f64).collect();
    for p in [1usize, 2, 3] {
        let ts = TensorSketch::new(p, d, 32, Seed::new(153)).unwrap();
        let tr = TreeSketch::new(p, d, 32, Seed::new(153)).unwrap();
        let a = ts.apply_power(&x32).unwrap();
        let b = ts.apply_power(&x64).unwrap();
        let c = tr.apply_power(&x32).unwrap();
        let e = tr.apply_power(&x64).unwrap();
        for k in 0..32 {
            assert_eq!(a[k].to_bits(), (b[k] as f32).to_bits(), "TS p={p} [{k}]");
            assert_eq!(c[k].to_bits(), (e[k] as f32).to_bits(), "Tree p={p} [{k}]");
        }
        for method in [TensorMethod::Fft, TensorMethod::Tree] {
            let params = PolyKernelParams {
                degree: p,
                gamma: 0.5,
                coef0: 1.0,
                sketch_dim: 32,
                method,
            };
            let phi = PolyKernelFeatures::new(d, params, Seed::new(154)).unwrap();
            let a = phi.transform_vec(&x32).unwrap();
            let b = phi.transform_vec(&x64).unwrap();
            for k in 0..32 {
                assert_eq!(
                    a[k].to_bits(),
                    (b[k] as f32).to_bits(),
                    "{method:?} p={p} [{k}]"
                );
            }
        }
    }
}

fn matvec(a: &Mat<f64>, x: &[f64]) -> Vec<f64> {
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| a[(i, j)] * x[j]).sum())
        .collect()
}
fn matvec_t(a: &Mat<f64>, y: &[f64]) -> Vec<f64> {
    (0..a.ncols())
        .map(|j| (0..a.nrows()).map(|i| a[(i, j)] * y[i]).sum())
        .collect()
}
fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Kernel regression: `KernelInfo` against its definitions on each route (P1 `‖b − (AᵀA)ʲx‖`,
/// P2 `‖A(AᵀA)ʲx − b‖` and the documented bound `‖A(AᵀA)ʲx − b‖² ≤ ‖b − Ay‖² + (tol‖b‖)²`,
/// P3 `‖exp(AAᵀ)x − b‖`; `relative_residual = residual_norm/‖b‖`; `refinements + 1` history
/// entries, the last ≤ tol; `cholesky ⇒ cg_iterations = 0`), the CG and Cholesky routes
/// agreeing, and P2 with `j = 0` against `sketch_and_precondition`.
#[test]
fn kernel_regression_family() {
    use randnla::lstsq::kernel_regression::{
        solve_p1, solve_p2, solve_p3, InnerSolve, KernelParams,
    };
    let (n, d) = (120, 6);
    let g = gaussian_matrix(n, d, Seed::new(161)).unwrap();
    let sp = random_sparse(n, d, 3, Seed::new(162)).unwrap();
    let bd: Vec<f64> = (0..d).map(|i| (i as f64 + 1.0).ln()).collect();
    let bn: Vec<f64> = (0..n).map(|i| ((i * 7 % 5) as f64 - 2.0) * 0.3).collect();
    for (name, av, dense) in [
        ("dense", MatrixRef::dense(g.as_ref()).unwrap(), g.clone()),
        (
            "csr",
            MatrixRef::sparse(&sp).unwrap(),
            dense_of(MatrixRef::sparse(&sp).unwrap(), Some(&sp)),
        ),
    ] {
        let gram = |x: &[f64], j: usize| {
            let mut v = x.to_vec();
            for _ in 0..j {
                v = matvec_t(&dense, &matvec(&dense, &v));
            }
            v
        };
        for j in [1usize, 2] {
            let mut xs = Vec::new();
            for inner in [InnerSolve::Cg, InnerSolve::Cholesky, InnerSolve::Auto] {
                let p = KernelParams {
                    inner_solve: inner,
                    ..Default::default()
                };
                let what = format!("{name} P1 j={j} {inner:?}");
                let (x, info) = solve_p1(av, j, &bd, &p).unwrap();
                let r: Vec<f64> = gram(&x, j).iter().zip(&bd).map(|(a, b)| b - a).collect();
                let rn = norm2(&r);
                assert!(
                    (info.residual_norm - rn).abs() <= 1e-6 * norm2(&bd),
                    "{what}: residual_norm {:e} vs {rn:e}",
                    info.residual_norm
                );
                assert!(
                    (info.relative_residual - info.residual_norm / norm2(&bd)).abs() <= 1e-15,
                    "{what}: relative_residual"
                );
                assert_eq!(
                    info.residual_history.len(),
                    info.refinements + 1,
                    "{what}: history"
                );
                assert!(
                    *info.residual_history.last().unwrap() <= p.tol,
                    "{what}: last ≤ tol"
                );
                if info.cholesky {
                    assert_eq!(info.cg_iterations, 0, "{what}");
                }
                assert_eq!(
                    info.cholesky,
                    inner == InnerSolve::Cholesky
                        || (inner == InnerSolve::Auto && info.cg_iterations == 0),
                    "{what}: cholesky flag"
                );
                xs.push(x);
            }
            assert!(
                rel_diff(&col(&xs[0]), &col(&xs[1])) < 1e-8,
                "{name} P1 j={j}: CG vs Cholesky"
            );
            // P2
            let ls = sketch_and_precondition(av, &bn, &LstsqParams::default())
                .unwrap()
                .0;
            let ay: Vec<f64> = matvec(&dense, &ls);
            let opt = norm2(&bn.iter().zip(&ay).map(|(a, b)| a - b).collect::<Vec<_>>());
            for inner in [InnerSolve::Cg, InnerSolve::Cholesky] {
                let p = KernelParams {
                    inner_solve: inner,
                    ..Default::default()
                };
                let what = format!("{name} P2 j={j} {inner:?}");
                let (x, info) = solve_p2(av, j, &bn, &p).unwrap();
                let ax = matvec(&dense, &gram(&x, j));
                let full = norm2(&ax.iter().zip(&bn).map(|(a, b)| a - b).collect::<Vec<_>>());
                let bound = (opt * opt + (p.tol * norm2(&bn)).powi(2)).sqrt();
                assert!(
                    full <= bound * (1.0 + 1e-10),
                    "{what}: ‖A(AᵀA)ʲx − b‖ {full:e} vs bound {bound:e}"
                );
                // residual_norm is that of the problem solved, ‖A(AᵀA)ʲx − b‖; the history holds
                // ‖A(y − (AᵀA)ʲx)‖/‖b‖.
                assert!(
                    (info.residual_norm - full).abs() <= 1e-10 * full,
                    "{what}: residual_norm {:e} vs ‖A(AᵀA)ʲx − b‖ {full:e}",
                    info.residual_norm
                );
                assert!(
                    (info.relative_residual - full / norm2(&bn)).abs() <= 1e-10,
                    "{what}: relative_residual"
                );
                assert_eq!(
                    info.residual_history.len(),
                    info.refinements + 1,
                    "{what}: history"
                );
            }
        }
        let (x0, _) = solve_p2(av, 0, &bn, &KernelParams::default()).unwrap();
        let (xl, _) = sketch_and_precondition(av, &bn, &LstsqParams::default()).unwrap();
        assert!(
            rel_diff(&col(&x0), &col(&xl)) < 1e-9,
            "{name}: P2 j=0 vs lstsq"
        );
        // P3 on a scaled-down Gaussian A (exp(AAᵀ) well conditioned enough; the CSR matrix's
        // kernel matrix is too ill-conditioned for the forced Cholesky route, a documented
        // `NotConverged`).
        if name != "dense" {
            continue;
        }
        let small = Mat::from_fn(n, d, |i, j| dense[(i, j)] * 0.3);
        let sv = MatrixRef::dense(small.as_ref()).unwrap();
        let kmat = Mat::from_fn(n, n, |i, k| {
            (0..d)
                .map(|c| small[(i, c)] * small[(k, c)])
                .sum::<f64>()
                .exp()
        });
        let mut xs = Vec::new();
        for inner in [InnerSolve::Cg, InnerSolve::Cholesky] {
            let p = KernelParams {
                inner_solve: inner,
                ..Default::default()
            };
            let what = format!("{name} P3 {inner:?}");
            let (x, info) = solve_p3(sv, &bn, &p).unwrap();
            let r: Vec<f64> = matvec(&kmat, &x)
                .iter()
                .zip(&bn)
                .map(|(a, b)| a - b)
                .collect();
            let rn = norm2(&r);
            assert!(
                (info.residual_norm - rn).abs() <= 1e-7 * norm2(&bn),
                "{what}: residual_norm {:e} vs {rn:e}",
                info.residual_norm
            );
            assert_eq!(
                info.residual_history.len(),
                info.refinements + 1,
                "{what}: history"
            );
            assert!(*info.residual_history.last().unwrap() <= p.tol, "{what}");
            xs.push(x);
        }
        let e = rel_diff(&col(&xs[0]), &col(&xs[1]));
        assert!(e < 1e-8, "{name} P3: CG vs Cholesky {e:e}");
    }
}

/// Diagnostics: `distortion_on_range(S, A)` against `distortion(S, orthonormal_basis(A))`
/// (dense and CSR `A`, every sketch family); `SketchSolveInfo` fields against their definitions:
/// `sketched_residual_norm = ‖S(Ax̃ − b)‖` with the same sketch, `expected_ratio =
/// √(1 + d/(m − d − 1))`.
#[test]
fn diagnostics_and_sketch_solve_info() {
    use randnla::diagnostics::{distortion, distortion_on_range, orthonormal_basis};
    let (n, d, m) = (200, 6, 40);
    let sp = random_sparse(n, d, 3, Seed::new(171)).unwrap();
    let a = dense_of(MatrixRef::sparse(&sp).unwrap(), Some(&sp));
    let q = orthonormal_basis(a.as_ref()).unwrap();
    for s in common::all_sketches(m, n, Seed::new(172)) {
        let k0 = distortion(s.as_ref(), q.as_ref(), Par::Seq).unwrap();
        for av in [
            MatrixRef::sparse(&sp).unwrap(),
            MatrixRef::dense(a.as_ref()).unwrap(),
        ] {
            let k1 = distortion_on_range(s.as_ref(), av, Par::Seq).unwrap();
            assert!(
                (k1 - k0).abs() <= 1e-10 * k0,
                "{}: on_range {k1} vs distortion(Q) {k0}",
                s.name()
            );
        }
    }
    let av = MatrixRef::sparse(&sp).unwrap();
    let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.13).sin()).collect();
    for kind in [
        SketchKind::SparseSign { nnz_per_col: 4 },
        SketchKind::CountSketch,
        SketchKind::Gaussian,
        SketchKind::Srht,
    ] {
        for m in [d + 1, d + 2, 40] {
            let s = kind.build::<f64>(m, n, Seed::new(173)).unwrap();
            let Ok((x, info)) = sketch_and_solve_with(av, &b, s.as_ref(), Par::Seq) else {
                continue;
            };
            let what = format!("{} m={m}", kind.name());
            let r: Vec<f64> = matvec(&a, &x).iter().zip(&b).map(|(p, q)| p - q).collect();
            let sr = norm2(&s.apply_vec(&r).unwrap());
            assert!(
                (info.sketched_residual_norm - sr).abs() <= 1e-9 * sr.max(1e-300),
                "{what}: sketched_residual_norm {:e} vs {sr:e}",
                info.sketched_residual_norm
            );
            let want = if m <= d + 1 {
                f64::INFINITY
            } else {
                (1.0 + d as f64 / (m - d - 1) as f64).sqrt()
            };
            assert!(
                info.expected_ratio == want || (info.expected_ratio - want).abs() <= 1e-15 * want,
                "{what}: expected_ratio {} vs {want}",
                info.expected_ratio
            );
            assert_eq!(info.sketch_rows, m);
        }
    }
}

/// Approximate leverage scores with `jl_dim = 0`: the debiased scores are the raw ones times
/// `debias_factor = (m₁ − r − 1)/m₁` (docs of `ApproxParams::jl_dim` and `debias`).
#[test]
fn leverage_debias_factor_consistency() {
    let (n, d, m1) = (300, 6, 30);
    let sp = random_sparse(n, d, 3, Seed::new(181)).unwrap();
    let av = MatrixRef::sparse(&sp).unwrap();
    let raw_p = ApproxParams {
        sketch_rows: Some(m1),
        jl_dim: 0,
        debias: false,
        ..Default::default()
    };
    let deb_p = ApproxParams {
        debias: true,
        ..raw_p
    };
    let (raw, ri) = approx_leverage_scores(av, &raw_p, Seed::new(1), Par::Seq).unwrap();
    let (deb, di) = approx_leverage_scores(av, &deb_p, Seed::new(1), Par::Seq).unwrap();
    assert_eq!(ri.rank, di.rank);
    let rho = (m1 - di.rank - 1) as f64 / m1 as f64;
    assert!(
        (di.debias_factor - rho).abs() <= 1e-15,
        "debias_factor {} vs ρ {rho}",
        di.debias_factor
    );
    for i in 0..n {
        assert!(
            (deb[i] - raw[i] * rho).abs() <= 1e-15 * raw[i],
            "row {i}: {} vs ρ·{}",
            deb[i],
            raw[i]
        );
    }
    assert!((di.sum - ri.sum * rho).abs() <= 1e-12 * di.sum, "sum");
}

/// Symmetric tensors: `norm()` is `√Σ get(idx)²` over all `n^p` multi-indices, `get` agrees
/// between dense and coordinate storage and `to_dense()` of the coordinate tensor, and
/// `from_components` holds `Σ λ_j a_j^{⊗p}` entry by entry; `residual_rel` of the exact
/// decomposition of a noise-free tensor is ≈ 0.
#[test]
fn symmetric_tensor_storage_family() {
    use randnla::tensor::{residual_rel, SymmetricTensor};
    let (p, n) = (3, 5);
    let w = [2.0, -0.5];
    let f: Vec<Vec<f64>> = vec![
        (0..n).map(|i| (i as f64 + 1.0).sqrt()).collect(),
        (0..n).map(|i| ((i * 3 % 4) as f64) - 1.5).collect(),
    ];
    let t = SymmetricTensor::from_components(p, n, &w, &f).unwrap();
    let mut idx = Vec::new();
    let mut val = Vec::new();
    t.for_each_entry(|i, v| {
        idx.extend(i.iter().map(|&x| x as usize));
        val.push(v);
    });
    let coo = SymmetricTensor::coordinate(p, n, &idx, &val).unwrap();
    let cd = coo.to_dense().unwrap();
    let mut sq = 0.0;
    for a in 0..n {
        for b in 0..n {
            for c in 0..n {
                let want: f64 = (0..2).map(|k| w[k] * f[k][a] * f[k][b] * f[k][c]).sum();
                let g = t.get(&[a, b, c]).unwrap();
                assert!(
                    (g - want).abs() <= 1e-13 * want.abs().max(1.0),
                    "T[{a},{b},{c}] {g} vs {want}"
                );
                assert_eq!(
                    coo.get(&[a, b, c]).unwrap().to_bits(),
                    g.to_bits(),
                    "coordinate get"
                );
                assert_eq!(
                    cd.get(&[a, b, c]).unwrap().to_bits(),
                    g.to_bits(),
                    "to_dense get"
                );
                sq += g * g;
            }
        }
    }
    for (name, tt) in [("dense", &t), ("coordinate", &coo), ("to_dense", &cd)] {
        let nrm = tt.norm();
        assert!(
            (nrm - sq.sqrt()).abs() <= 1e-13 * nrm,
            "{name}: norm {nrm} vs {}",
            sq.sqrt()
        );
    }
    let fu: Vec<Vec<f64>> = f
        .iter()
        .map(|v| {
            let nv = norm2(v);
            v.iter().map(|x| x / nv).collect()
        })
        .collect();
    let tu = SymmetricTensor::from_components(p, n, &w, &fu).unwrap();
    let r = residual_rel(&tu, &w, &fu, Par::Seq).unwrap();
    assert!(r < 1e-13, "residual_rel of the exact decomposition {r:e}");
}

/// Exact attention: the last query of causal attention sees every key, so its row equals the
/// non-causal one; block sizes agree to rounding; the polynomial kernel matches
/// `Σ_j ⟨q_i,k_j⟩^p v_j / (1 + Σ_j ⟨q_i,k_j⟩^p)` and softmax
/// `Σ_j e^{s·⟨q,k⟩} v_j / Σ_j e^{s·⟨q,k⟩}` formed directly; and the sketched attention's causal
/// last row equals its non-causal one.
#[test]
fn exact_attention_family() {
    let (n, h, dv) = (37, 4, 3);
    let q = clustered(n, h, 191);
    let k = clustered(n, h, 192);
    let v = gaussian_matrix(n, dv, Seed::new(193)).unwrap();
    let ip = &q * k.transpose();
    for kernel in [
        Kernel::Polynomial { degree: 2 },
        Kernel::Polynomial { degree: 4 },
        Kernel::Softmax { scale: 0.7 },
    ] {
        let mut want = Mat::<f64>::zeros(n, dv);
        let mut want_c = Mat::<f64>::zeros(n, dv);
        for i in 0..n {
            let wts: Vec<f64> = (0..n)
                .map(|j| match kernel {
                    Kernel::Polynomial { degree } => ip[(i, j)].powi(degree as i32),
                    Kernel::Softmax { scale } => (scale * ip[(i, j)]).exp(),
                    other => panic!("no reference for {other:?}"),
                })
                .collect();
            for (hi, out) in [(n, &mut want), (i + 1, &mut want_c)] {
                let den: f64 = wts[..hi].iter().sum::<f64>()
                    + if matches!(kernel, Kernel::Polynomial { .. }) {
                        1.0
                    } else {
                        0.0
                    };
                for c in 0..dv {
                    out[(i, c)] = (0..hi).map(|j| wts[j] * v[(j, c)]).sum::<f64>() / den;
                }
            }
        }
        for block in [1, 5, 37, 256] {
            for (causal, w) in [(false, &want), (true, &want_c)] {
                let out = exact_attention(
                    q.as_ref(),
                    k.as_ref(),
                    v.as_ref(),
                    kernel,
                    &AttnExact { causal, block },
                    Par::Seq,
                )
                .unwrap();
                let e = rel_diff(&out, w);
                assert!(
                    e < 1e-12,
                    "{kernel:?} causal={causal} b={block}: vs direct {e:e}"
                );
            }
        }
        let nc = exact_attention(
            q.as_ref(),
            k.as_ref(),
            v.as_ref(),
            kernel,
            &AttnExact {
                causal: false,
                block: 8,
            },
            Par::Seq,
        )
        .unwrap();
        let c = exact_attention(
            q.as_ref(),
            k.as_ref(),
            v.as_ref(),
            kernel,
            &AttnExact {
                causal: true,
                block: 8,
            },
            Par::Seq,
        )
        .unwrap();
        let last_nc = Mat::from_fn(1, dv, |_, j| nc[(n - 1, j)]);
        let last_c = Mat::from_fn(1, dv, |_, j| c[(n - 1, j)]);
        assert!(
            rel_diff(&last_c, &last_nc) < 1e-13,
            "{kernel:?}: causal last row vs non-causal"
        );
    }
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        let ps = PolySketch::new(h, 4, 8, map, Seed::new(4)).unwrap();
        let (nc, _) = ps
            .attention(
                q.as_ref(),
                k.as_ref(),
                v.as_ref(),
                false,
                8,
                false,
                Par::Seq,
            )
            .unwrap();
        let (c, _) = ps
            .attention(q.as_ref(), k.as_ref(), v.as_ref(), true, 8, false, Par::Seq)
            .unwrap();
        let last_nc = Mat::from_fn(1, dv, |_, j| nc[(n - 1, j)]);
        let last_c = Mat::from_fn(1, dv, |_, j| c[(n - 1, j)]);
        assert!(
            rel_diff(&last_c, &last_nc) < 1e-12,
            "{map:?}: sketched causal last row vs non-causal"
        );
    }
}

/// Exact leverage routes: Householder gives the same bits for dense, CSR and CSC; sketch-Cholesky
/// the same bits for CSR and CSC and the Householder scores to rounding (any seed); approximate
/// scores the same bits for CSR and CSC; ridge included.
#[test]
fn leverage_routes_and_layouts() {
    use randnla::leverage::ExactMethod;
    let (n, d) = (400, 8);
    let base = random_sparse(n, d, 4, Seed::new(201)).unwrap();
    // Columns scaled 1..1e3 so that κ(A) is moderate.
    let mut t = sprs::TriMat::new((n, d));
    for (v, (i, j)) in base.iter() {
        t.add_triplet(i, j, v * 10f64.powf(3.0 * j as f64 / (d - 1) as f64));
    }
    let csr: sprs::CsMat<f64> = t.to_csr();
    let csc: sprs::CsMat<f64> = t.to_csc();
    let dense = dense_of(MatrixRef::sparse(&csr).unwrap(), Some(&csr));
    let views = [
        ("dense", MatrixRef::dense(dense.as_ref()).unwrap()),
        ("csr", MatrixRef::sparse(&csr).unwrap()),
        ("csc", MatrixRef::sparse(&csc).unwrap()),
    ];
    for lambda in [0.0, 2.0] {
        let hh = ExactParams {
            method: ExactMethod::Householder,
            ..Default::default()
        };
        let (h0, _) = exact_ridge_leverage_scores(views[0].1, lambda, &hh, Par::Seq).unwrap();
        for (name, av) in &views[1..] {
            let (h, _) = exact_ridge_leverage_scores(*av, lambda, &hh, Par::Seq).unwrap();
            assert_bitwise(
                &col(&h),
                &col(&h0),
                &format!("λ={lambda} Householder {name} vs dense"),
            );
        }
        for seed in [1u64, 2] {
            let sc = ExactParams {
                method: ExactMethod::SketchCholesky,
                seed: Seed::new(seed),
                ..Default::default()
            };
            let (s_csr, i_csr) =
                exact_ridge_leverage_scores(views[1].1, lambda, &sc, Par::Seq).unwrap();
            let (s_csc, _) =
                exact_ridge_leverage_scores(views[2].1, lambda, &sc, Par::Seq).unwrap();
            let (s_dense, _) =
                exact_ridge_leverage_scores(views[0].1, lambda, &sc, Par::Seq).unwrap();
            assert_bitwise(
                &col(&s_csc),
                &col(&s_csr),
                &format!("λ={lambda} SketchCholesky csc vs csr"),
            );
            let e = rel_diff(&col(&s_csr), &col(&h0));
            assert!(
                e < 1e-12,
                "λ={lambda} seed={seed}: SketchCholesky vs Householder {e:e}"
            );
            let e = rel_diff(&col(&s_dense), &col(&s_csr));
            assert!(e < 1e-13, "λ={lambda}: SketchCholesky dense vs csr {e:e}");
            assert_eq!(
                i_csr.method,
                randnla::leverage::LeverageMethod::SketchCholesky
            );
        }
        let ap = ApproxParams::default();
        let (a_csr, _) =
            approx_ridge_leverage_scores(views[1].1, lambda, &ap, Seed::new(3), Par::Seq).unwrap();
        let (a_csc, _) =
            approx_ridge_leverage_scores(views[2].1, lambda, &ap, Seed::new(3), Par::Seq).unwrap();
        assert_bitwise(
            &col(&a_csc),
            &col(&a_csr),
            &format!("λ={lambda} approx csc vs csr"),
        );
    }
}

/// Active learning bookkeeping: `RoundInfo` counts against the learner's and the oracle's
/// (`labels_total = labels().len() = order().len() = labels_used()`, `Σ new_labels =
/// labels_total`, `new_labels ≤ requested`, `proposals = steps` for iid strategies), `FitInfo`
/// against `weights()`, and `Learner::fit` against the free `weighted_least_squares` on the same
/// rows, weights and labels (same QR: bitwise expected, checked to rounding).
#[test]
fn active_learner_bookkeeping() {
    use randnla::active::{
        weighted_least_squares, Basis, Budgeted, Learner, Pool, SliceOracle, Strategy,
    };
    let (n, d) = (200, 4);
    let sp = random_sparse(n, d, 3, Seed::new(211)).unwrap();
    let g = gaussian_matrix(n, d, Seed::new(212)).unwrap();
    let y: Vec<f64> = (0..n).map(|i| ((i * 11 % 13) as f64 * 0.4).cos()).collect();
    for (name, xv) in [
        ("csr", MatrixRef::sparse(&sp).unwrap()),
        ("dense", MatrixRef::dense(g.as_ref()).unwrap()),
    ] {
        let pool = Pool::new(xv, Basis::Exact, Seed::new(1), Par::Seq).unwrap();
        for strategy in [Strategy::Uniform, Strategy::leverage(), Strategy::bss()] {
            let what = format!("{name} {}", strategy.name());
            let iid = !matches!(strategy, Strategy::Bss(_));
            let mut learner = Learner::new(&pool, strategy, Seed::new(2)).unwrap();
            let mut oracle = Budgeted::new(SliceOracle::new(&y), 60);
            let r1 = learner.select(20, &mut oracle).unwrap();
            let r2 = learner.select_labels(25, &mut oracle).unwrap();
            for r in [&r1, &r2] {
                assert!(r.new_labels <= r.requested, "{what}: new ≤ requested");
                if iid {
                    assert_eq!(r.proposals, r.steps, "{what}: proposals = steps");
                }
            }
            assert_eq!(r2.round, 1);
            assert_eq!(
                r1.new_labels + r2.new_labels,
                r2.labels_total,
                "{what}: Σ new_labels"
            );
            assert_eq!(r1.labels_total, r1.new_labels, "{what}: first round");
            assert_eq!(learner.labels().len(), r2.labels_total, "{what}: labels()");
            assert_eq!(learner.order().len(), r2.labels_total, "{what}: order()");
            assert_eq!(oracle.labels_used(), r2.labels_total, "{what}: labels_used");
            assert_eq!(learner.rounds().len(), 2);
            assert_eq!(learner.rounds()[1], r2);
            let wts = learner.weights();
            assert_eq!(wts.len(), r2.labels_total, "{what}: weights()");
            for lambda in [0.0, 0.1] {
                let (beta, fi) = learner.fit(lambda).unwrap();
                let rows: Vec<usize> = wts.iter().map(|w| w.0).collect();
                let w: Vec<f64> = wts.iter().map(|w| w.1).collect();
                let lab: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
                assert_eq!(fi.labels, rows.len(), "{what}: FitInfo.labels");
                let ws: f64 = w.iter().sum();
                assert!(
                    (fi.weight_sum - ws).abs() <= 1e-12 * ws,
                    "{what}: weight_sum"
                );
                let mn = w.iter().cloned().fold(f64::INFINITY, f64::min);
                let mx = w.iter().cloned().fold(0.0, f64::max);
                assert_eq!(fi.weight_range, (mn, mx), "{what}: weight_range");
                let free = weighted_least_squares(xv, &rows, &w, &lab, lambda).unwrap();
                let e = rel_diff(&col(&beta), &col(&free));
                assert!(
                    e < 1e-12,
                    "{what} λ={lambda}: fit vs weighted_least_squares {e:e}"
                );
            }
        }
    }
}
