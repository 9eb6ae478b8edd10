//! Second review of polynomial attention: exact, sketched (identity map) and block products
//! against direct loops, with block sizes that do not divide n, n = 1, d = 1, h ≠ d, f32,
//! extreme magnitudes, thread invariance and the example's bad-input contract.

use crate::common;

use faer::{Mat, MatRef, Par};
use randnla::attention::{
    causal_product, causal_squared_product, exact_attention, poly_sketch_attention, ExactParams,
    FeatureMap, Kernel, PolySketchParams,
};
use randnla::Seed;

fn mat(n: usize, c: usize, salt: u64) -> Mat<f64> {
    Mat::from_fn(n, c, |i, j| {
        let x = ((i as u64 * 131 + j as u64 * 71 + salt * 977) % 97) as f64;
        (x / 97.0 - 0.5) * 1.7
    })
}

fn dot(q: MatRef<'_, f64>, i: usize, k: MatRef<'_, f64>, j: usize) -> f64 {
    (0..q.ncols()).map(|c| q[(i, c)] * k[(j, c)]).sum()
}

/// Direct loops: polynomial (degree p) or softmax (scale s) attention.
fn naive(
    q: MatRef<'_, f64>,
    k: MatRef<'_, f64>,
    v: MatRef<'_, f64>,
    kernel: Kernel,
    causal: bool,
) -> Mat<f64> {
    let (n, m, d) = (q.nrows(), k.nrows(), v.ncols());
    let mut out = Mat::zeros(n, d);
    for i in 0..n {
        let jmax = if causal { i + 1 } else { m };
        let scores: Vec<f64> = (0..jmax).map(|j| dot(q, i, k, j)).collect();
        let (w, den): (Vec<f64>, f64) = match kernel {
            Kernel::Polynomial { degree } => {
                let w: Vec<f64> = scores.iter().map(|x| x.powi(degree as i32)).collect();
                let s = 1.0 + w.iter().sum::<f64>();
                (w, s)
            }
            Kernel::Softmax { scale } => {
                let mx = scores.iter().map(|x| scale * x).fold(f64::MIN, f64::max);
                let w: Vec<f64> = scores.iter().map(|x| (scale * x - mx).exp()).collect();
                let s = w.iter().sum::<f64>();
                (w, s)
            }
            other => panic!("no reference for {other:?}"),
        };
        for c in 0..d {
            out[(i, c)] = (0..jmax).map(|j| w[j] * v[(j, c)]).sum::<f64>() / den;
        }
    }
    out
}

fn max_rel(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    let mut worst = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            let e = (a[(i, j)] - b[(i, j)]).abs() / b[(i, j)].abs().max(1e-300);
            let e = if b[(i, j)].abs() < 1e-12 {
                (a[(i, j)] - b[(i, j)]).abs()
            } else {
                e
            };
            worst = worst.max(e);
        }
    }
    worst
}

const SHAPES: &[(usize, usize, usize, usize)] = &[
    // (n, m, h, d)
    (1, 1, 1, 1),
    (7, 5, 3, 2),
    (7, 7, 1, 4),
    (10, 10, 4, 1),
    (5, 9, 2, 3),
];

#[test]
fn exact_matches_loops_all_blocks() {
    for &(n, m, h, d) in SHAPES {
        let (q, k, v) = (mat(n, h, 1), mat(m, h, 2), mat(m, d, 3));
        for causal in [false, true] {
            if causal && n != m {
                continue;
            }
            for kernel in [
                Kernel::Polynomial { degree: 2 },
                Kernel::Polynomial { degree: 4 },
                Kernel::Polynomial { degree: 6 },
                Kernel::Softmax { scale: 0.7 },
                Kernel::Softmax { scale: -1.3 },
                Kernel::Softmax { scale: 0.0 },
            ] {
                let want = naive(q.as_ref(), k.as_ref(), v.as_ref(), kernel, causal);
                for block in [1, 2, 3, 4, 7, 64] {
                    let p = ExactParams { causal, block };
                    let got =
                        exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), kernel, &p, Par::Seq)
                            .unwrap();
                    let e = max_rel(got.as_ref(), want.as_ref());
                    assert!(
                        e < 1e-12,
                        "n={n} m={m} h={h} d={d} causal={causal} {kernel:?} b={block}: {e}"
                    );
                    let got2 = exact_attention(
                        q.as_ref(),
                        k.as_ref(),
                        v.as_ref(),
                        kernel,
                        &p,
                        Par::rayon(2),
                    )
                    .unwrap();
                    assert!(got.col_iter().zip(got2.col_iter()).all(|(a, b)| a
                        .iter()
                        .zip(b.iter())
                        .all(|(x, y)| x.to_bits() == y.to_bits())));
                }
            }
        }
    }
}

#[test]
fn identity_sketch_matches_loops() {
    for &(n, m, h, d) in SHAPES {
        let (q, k, v) = (mat(n, h, 4), mat(m, h, 5), mat(m, d, 6));
        for causal in [false, true] {
            if causal && n != m {
                continue;
            }
            for degree in [2, 4] {
                let want = naive(
                    q.as_ref(),
                    k.as_ref(),
                    v.as_ref(),
                    Kernel::Polynomial { degree },
                    causal,
                );
                for block in [1, 2, 3, 4, 64] {
                    let p = PolySketchParams {
                        degree,
                        map: FeatureMap::Identity,
                        causal,
                        block,
                        check: true,
                        ..Default::default()
                    };
                    let (got, info) =
                        poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &p, Par::Seq)
                            .unwrap();
                    let e = max_rel(got.as_ref(), want.as_ref());
                    assert!(
                        e < 1e-10,
                        "n={n} m={m} h={h} d={d} {causal} p={degree} b={block}: {e}"
                    );
                    assert_eq!(info.blocks, n.div_ceil(block));
                    assert!(info.rel_error.unwrap() < 1e-10);
                    let (got2, _) = poly_sketch_attention(
                        q.as_ref(),
                        k.as_ref(),
                        v.as_ref(),
                        &p,
                        Par::rayon(2),
                    )
                    .unwrap();
                    for j in 0..d {
                        for i in 0..n {
                            assert_eq!(got[(i, j)].to_bits(), got2[(i, j)].to_bits());
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn block_products_match_loops() {
    for n in [1usize, 2, 5, 7, 130] {
        for (r, e) in [(1usize, 1usize), (3, 2), (2, 5)] {
            let (a, b, c) = (mat(n, r, 7), mat(n, r, 8), mat(n, e, 9));
            let mut w1 = Mat::<f64>::zeros(n, e);
            let mut w2 = Mat::<f64>::zeros(n, e);
            for i in 0..n {
                for j in 0..=i {
                    let s = dot(a.as_ref(), i, b.as_ref(), j);
                    for cc in 0..e {
                        w1[(i, cc)] += s * c[(j, cc)];
                        w2[(i, cc)] += s * s * c[(j, cc)];
                    }
                }
            }
            for block in [1, 2, 3, 64, 65, 200] {
                let g1 =
                    causal_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq).unwrap();
                let g2 =
                    causal_squared_product(a.as_ref(), b.as_ref(), c.as_ref(), block, Par::Seq)
                        .unwrap();
                for i in 0..n {
                    for cc in 0..e {
                        assert!((g1[(i, cc)] - w1[(i, cc)]).abs() < 1e-10, "n={n} b={block}");
                        assert!((g2[(i, cc)] - w2[(i, cc)]).abs() < 1e-10, "n={n} b={block}");
                    }
                }
            }
        }
    }
}

#[test]
fn f32_matches_f64() {
    let (n, h, d) = (9, 3, 2);
    let (q, k, v) = (mat(n, h, 11), mat(n, h, 12), mat(n, d, 13));
    let c = |m: &Mat<f64>| Mat::<f32>::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] as f32);
    let (qf, kf, vf) = (c(&q), c(&k), c(&v));
    for kernel in [
        Kernel::Polynomial { degree: 4 },
        Kernel::Softmax { scale: 0.5 },
    ] {
        let want = naive(q.as_ref(), k.as_ref(), v.as_ref(), kernel, true);
        let p = ExactParams {
            causal: true,
            block: 4,
        };
        let got =
            exact_attention(qf.as_ref(), kf.as_ref(), vf.as_ref(), kernel, &p, Par::Seq).unwrap();
        let got = Mat::<f64>::from_fn(n, d, |i, j| got[(i, j)] as f64);
        assert!(max_rel(got.as_ref(), want.as_ref()) < 1e-4, "{kernel:?}");
    }
}

/// Huge and tiny magnitudes: Ok must mean finite and right.
#[test]
fn extreme_magnitudes_exact() {
    for scale in [1e150, 1e100, 1e-100, 1e-160, 1e-200, 1e-155] {
        let (n, h, d) = (6, 2, 2);
        let q = Mat::from_fn(n, h, |i, j| mat(n, h, 21)[(i, j)] * scale);
        let k = Mat::from_fn(n, h, |i, j| mat(n, h, 22)[(i, j)] * scale);
        let v = mat(n, d, 23);
        for kernel in [
            Kernel::Polynomial { degree: 2 },
            Kernel::Polynomial { degree: 4 },
            Kernel::Softmax { scale: 1.0 },
        ] {
            for causal in [false, true] {
                let p = ExactParams { causal, block: 4 };
                let r = exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), kernel, &p, Par::Seq);
                let Ok(got) = r else { continue };
                // Reference in scaled arithmetic: scores x·scale², computed exactly via logs.
                for i in 0..n {
                    for c in 0..d {
                        assert!(got[(i, c)].is_finite(), "{scale} {kernel:?}");
                    }
                }
                if let Kernel::Polynomial { degree } = kernel {
                    // ⟨q,k⟩^p = ⟨q̂,k̂⟩^p · scale^{2p}; the normalizer's 1 matters only when
                    // the weights are near 1.
                    let qh = mat(n, h, 21);
                    let kh = mat(n, h, 22);
                    for i in 0..n {
                        let jmax = if causal { i + 1 } else { n };
                        let l2 = 2.0 * degree as f64 * scale.log2();
                        let w: Vec<f64> = (0..jmax)
                            .map(|j| dot(qh.as_ref(), i, kh.as_ref(), j).powi(degree as i32))
                            .collect();
                        let s: f64 = w.iter().sum();
                        // out = Σ w v / (2^{-l2} + Σ w)
                        let one = (-l2).exp2();
                        for c in 0..d {
                            let num: f64 = (0..jmax).map(|j| w[j] * v[(j, c)]).sum();
                            let want = if one.is_finite() {
                                num / (one + s)
                            } else {
                                0.0
                            };
                            let err = (got[(i, c)] - want).abs();
                            assert!(
                                err <= 1e-9 * want.abs().max(1e-300) || err < 1e-300,
                                "scale {scale} p={degree} causal={causal} ({i},{c}): {} vs {want}",
                                got[(i, c)]
                            );
                        }
                    }
                } else {
                    let want = naive(q.as_ref(), k.as_ref(), v.as_ref(), kernel, causal);
                    assert!(
                        max_rel(got.as_ref(), want.as_ref()) < 1e-9,
                        "{scale} softmax"
                    );
                }
            }
        }
    }
}

#[test]
fn sketch_seed_reproducible_gaussian() {
    let (q, k, v) = (mat(9, 3, 31), mat(9, 3, 32), mat(9, 2, 33));
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        for causal in [false, true] {
            let p = PolySketchParams {
                map,
                causal,
                block: 4,
                sketch_dim: 8,
                seed: Seed::new(3),
                ..Default::default()
            };
            let (a, _) =
                poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &p, Par::Seq).unwrap();
            let (b, _) =
                poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &p, Par::rayon(2))
                    .unwrap();
            for j in 0..2 {
                for i in 0..9 {
                    assert_eq!(a[(i, j)].to_bits(), b[(i, j)].to_bits());
                    assert!(a[(i, j)].is_finite());
                }
            }
        }
    }
}

/// The example built next to this test (`cargo test` builds the examples).
fn example() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let path = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/")
        .join("examples")
        .join(format!("attention{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test`",
        path.display()
    );
    path
}

/// Options the chosen kind or map never reads are errors (one stderr line, exit 2), as the
/// example promises for `--sketch-dim`/`--map`/`--check`/`--degree`/`--scale`: `--sketch-dim`
/// with `--map identity` (whose dimension is h^{p/2}) and `--seed` where nothing is random
/// (exact kinds, the identity map) were accepted and ignored.
#[test]
fn cli_rejects_options_that_are_ignored() {
    let a = common::small_array_file("attention_review2");
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(example())
            .args([&a, &a, &a])
            .args(extra)
            .env("RAYON_NUM_THREADS", "2")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    for extra in [
        &["--map", "identity", "--sketch-dim", "8"][..],
        &["--map", "identity", "--seed", "3"],
        &["--kind", "softmax", "--seed", "3"],
        &["--kind", "poly-exact", "--seed", "3"],
    ] {
        let (code, err) = run(extra);
        assert_eq!(code, Some(2), "{extra:?} was accepted");
        assert_eq!(err.lines().count(), 1, "{extra:?}: {err}");
        assert!(err.contains("does not apply"), "{extra:?}: {err}");
    }
    // Still accepted where they are read.
    for extra in [
        &["--sketch-dim", "8", "--seed", "3"][..],
        &["--map", "identity"],
        &["--map", "tensorsketch", "--seed", "3", "--sketch-dim", "4"],
        &["--kind", "softmax"],
    ] {
        let (code, err) = run(extra);
        assert_eq!(code, Some(0), "{extra:?}: {err}");
    }
    std::fs::remove_dir_all(std::path::Path::new(&a).parent().unwrap()).ok();
}

/// Polynomial attention in the log domain: exact for any magnitudes.
fn poly_log_ref(
    q: MatRef<'_, f64>,
    k: MatRef<'_, f64>,
    v: MatRef<'_, f64>,
    p: i32,
    causal: bool,
) -> Mat<f64> {
    let (n, m, d) = (q.nrows(), k.nrows(), v.ncols());
    Mat::from_fn(n, d, |i, c| {
        let jmax = if causal { i + 1 } else { m };
        // log|⟨q,k⟩| through a scaled dot product.
        let lw: Vec<f64> = (0..jmax)
            .map(|j| {
                let sq = (0..q.ncols()).map(|t| q[(i, t)].abs()).fold(0.0, f64::max);
                let sk = (0..k.ncols()).map(|t| k[(j, t)].abs()).fold(0.0, f64::max);
                if sq == 0.0 || sk == 0.0 {
                    return f64::NEG_INFINITY;
                }
                let x: f64 = (0..q.ncols())
                    .map(|t| (q[(i, t)] / sq) * (k[(j, t)] / sk))
                    .sum();
                p as f64 * (x.abs().ln() + sq.ln() + sk.ln())
            })
            .collect();
        let mx = lw.iter().copied().fold(0.0f64, f64::max); // includes the 1 (log 0)
        let num: f64 = (0..jmax).map(|j| (lw[j] - mx).exp() * v[(j, c)]).sum();
        let den: f64 = (-mx).exp() + (0..jmax).map(|j| (lw[j] - mx).exp()).sum::<f64>();
        num / den
    })
}

#[test]
fn exact_poly_wide_range_rows() {
    // h = 1: k_j = 2^{40 j}: later key blocks are ever larger (the row scale must keep rising);
    // q rows from 2^-500 to 2^300.
    let n = 9;
    let k = Mat::from_fn(n, 1, |j, _| {
        2f64.powi(40 * j as i32 - 150) * if j % 2 == 0 { 1.0 } else { -1.5 }
    });
    let q = Mat::from_fn(n, 1, |i, _| 2f64.powi(100 * i as i32 - 500));
    let v = Mat::from_fn(n, 2, |j, c| {
        (j as f64 + 1.0) * if c == 0 { 1.0 } else { -0.5 }
    });
    for p in [2, 4, 8, 64] {
        for causal in [false, true] {
            let want = poly_log_ref(q.as_ref(), k.as_ref(), v.as_ref(), p, causal);
            for block in [1, 2, 4, 16] {
                let r = exact_attention(
                    q.as_ref(),
                    k.as_ref(),
                    v.as_ref(),
                    Kernel::Polynomial { degree: p as usize },
                    &ExactParams { causal, block },
                    Par::Seq,
                );
                let Ok(got) = r else {
                    // Only acceptable when a score itself overflows.
                    continue;
                };
                for i in 0..n {
                    for c in 0..2 {
                        let (g, w) = (got[(i, c)], want[(i, c)]);
                        assert!(
                            (g - w).abs() <= 1e-12 * w.abs().max(1e-290),
                            "p={p} causal={causal} b={block} ({i},{c}): {g} vs {w}"
                        );
                    }
                }
            }
        }
    }
}

/// E⟨φ(x), φ(y)⟩ = ⟨x, y⟩^{p/2} (no stray factor), for every map and degree, including the
/// uneven trees (p/2 = 3, 5).
#[test]
fn feature_maps_unbiased() {
    use randnla::attention::PolySketch;
    let x = Mat::from_fn(1, 3, |_, j| [0.9, -0.4, 0.3][j]);
    let y = Mat::from_fn(1, 3, |_, j| [0.7, 0.2, -0.5][j]);
    let ip: f64 = (0..3).map(|j| x[(0, j)] * y[(0, j)]).sum();
    let nx: f64 = (0..3).map(|j| x[(0, j)] * x[(0, j)]).sum();
    let ny: f64 = (0..3).map(|j| y[(0, j)] * y[(0, j)]).sum();
    for map in [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ] {
        for p in [2usize, 4, 6, 10] {
            let trials = if map == FeatureMap::Identity { 1 } else { 4000 };
            let mut sum = 0.0;
            for s in 0..trials {
                let ps = PolySketch::new(3, p, 16, map, Seed::new(s)).unwrap();
                let fx = ps.features(x.as_ref(), Par::Seq).unwrap();
                let fy = ps.features(y.as_ref(), Par::Seq).unwrap();
                sum += (0..fx.ncols())
                    .map(|c| fx[(0, c)] * fy[(0, c)])
                    .sum::<f64>();
            }
            let mean = sum / trials as f64;
            let want = ip.powi(p as i32 / 2);
            let tol = 6.0 * (nx * ny).powf(p as f64 / 4.0) / (trials as f64).sqrt()
                * 2f64.powi(p as i32 / 2);
            assert!(
                (mean - want).abs() < tol.max(1e-12),
                "{map:?} p={p}: {mean} vs {want} (tol {tol})"
            );
        }
    }
}

/// The scores ⟨q,k⟩ are formed in `T` by GEMM: entries near 1e155 (f64) overflow the score
/// itself, with |v| ≤ 1, for softmax and polynomial alike. The result is `NonFinite`, never
/// Ok with NaN; the docs listed only a huge |v| as the cause.
#[test]
fn overflowing_scores_are_nonfinite() {
    let q = Mat::from_fn(3, 2, |i, j| 1e155 * (1.0 + (i + j) as f64));
    let v = mat(3, 1, 51);
    for kernel in [
        Kernel::Softmax { scale: 1.0 },
        Kernel::Softmax { scale: 1e-300 },
        Kernel::Polynomial { degree: 2 },
    ] {
        let r = exact_attention(
            q.as_ref(),
            q.as_ref(),
            v.as_ref(),
            kernel,
            &ExactParams::default(),
            Par::Seq,
        );
        assert!(
            matches!(r, Err(randnla::Error::NonFinite { .. })),
            "{kernel:?}: {r:?}"
        );
    }
}

/// Causality, bitwise: out_i does not see v_j (or k_j, q_j) for j > i, with blocks that do
/// not divide n; and f32 against f64 for the sketch with the same seed.
#[test]
fn causal_bitwise_and_sketch_f32() {
    let (n, h, d) = (11, 3, 2);
    let (q, k, v) = (mat(n, h, 61), mat(n, h, 62), mat(n, d, 63));
    for cut in [0, 3, 4, 10] {
        let mut k2 = k.clone();
        let mut v2 = v.clone();
        for j in cut + 1..n {
            for c in 0..h {
                k2[(j, c)] = 7.0 + j as f64;
            }
            for c in 0..d {
                v2[(j, c)] = -9.0;
            }
        }
        for block in [1, 3, 4, 5, 16] {
            let ep = ExactParams {
                causal: true,
                block,
            };
            let sp = PolySketchParams {
                causal: true,
                block,
                sketch_dim: 6,
                ..Default::default()
            };
            for kernel in [
                Kernel::Softmax { scale: 0.9 },
                Kernel::Polynomial { degree: 4 },
            ] {
                let a = exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), kernel, &ep, Par::Seq)
                    .unwrap();
                let b =
                    exact_attention(q.as_ref(), k2.as_ref(), v2.as_ref(), kernel, &ep, Par::Seq)
                        .unwrap();
                for i in 0..=cut {
                    for c in 0..d {
                        assert_eq!(a[(i, c)].to_bits(), b[(i, c)].to_bits(), "{kernel:?}");
                    }
                }
            }
            let (a, _) =
                poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &sp, Par::Seq).unwrap();
            let (b, _) =
                poly_sketch_attention(q.as_ref(), k2.as_ref(), v2.as_ref(), &sp, Par::Seq).unwrap();
            for i in 0..=cut {
                for c in 0..d {
                    assert_eq!(a[(i, c)].to_bits(), b[(i, c)].to_bits(), "sketch b={block}");
                }
            }
        }
    }
    let f = |m: &Mat<f64>| Mat::<f32>::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] as f32);
    for causal in [false, true] {
        let sp = PolySketchParams {
            causal,
            block: 4,
            sketch_dim: 8,
            ..Default::default()
        };
        let (a, _) =
            poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &sp, Par::Seq).unwrap();
        let (b, _) = poly_sketch_attention(
            f(&q).as_ref(),
            f(&k).as_ref(),
            f(&v).as_ref(),
            &sp,
            Par::Seq,
        )
        .unwrap();
        for i in 0..n {
            for c in 0..d {
                assert!((a[(i, c)] - b[(i, c)] as f64).abs() < 1e-5, "{causal}");
            }
        }
    }
}
