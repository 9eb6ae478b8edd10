//! Second review of polynomial attention: exact, sketched (identity map) and block products
//! against direct loops, with block sizes that do not divide n, n = 1, d = 1, h ≠ d, f32,
//! extreme magnitudes, thread invariance and the example's bad-input contract.

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
    let dir = std::env::temp_dir().join(format!("attention_review2_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.mtx");
    std::fs::write(
        &a,
        "%%MatrixMarket matrix array real general\n3 2\n1\n2\n3\n4\n5\n6\n",
    )
    .unwrap();
    let a = a.to_string_lossy().to_string();
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
    std::fs::remove_dir_all(&dir).ok();
}
