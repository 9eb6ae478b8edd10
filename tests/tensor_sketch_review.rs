//! Review tests of TensorSketch, the tree sketch and the polynomial-kernel features
//! (ALGORITHMS.md §3): exact Kronecker-product references for small `d`, tiny and huge scales,
//! degenerate shapes, layouts and thread counts. Every test has fixed seeds.

use crate::common;

use common::{explicit_kron, mean_se};
use faer::{Mat, Par};
use randnla::sketch::tensor::{
    Complex, PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
};
use randnla::{Error, MatrixRef, Seed, SparseRef};

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |a, b| a.max(b.abs()))
}

/// `max |got − want| / max |want|`.
fn rel_err(got: &[f64], want: &[f64]) -> f64 {
    let e = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    e / max_abs(want)
}

/// `2^e` (also where `2f64.powi(e)` is not: it forms `1/2^−e`, which is 0 below `2^−1023`).
fn pow2(e: i32) -> f64 {
    2f64.powi(e / 2) * 2f64.powi(e - e / 2)
}

fn scaled(x: &[f64], e: i32) -> Vec<f64> {
    x.iter().map(|v| v * 2f64.powi(e)).collect()
}

/// Kronecker factors of sizes `2^−990, 2^−990, 2^1000` have a product of size `2^−980`, well
/// inside f64's normal range, but the running product of their spectra passed through `2^−1980`
/// and underflowed: `apply_kron` returned `Ok` of all zeros for both sketches. Reference: the
/// explicit tensor CountSketch of the factors scaled by `2^990, 2^990, 2^−1000` (exact powers of
/// two), times `2^−980`; for the tree, its own output on those scaled factors times `2^−980`.
/// Pass rule: max error ≤ 1e-12 of the largest entry (FFT rounding is ≈ 1e-16).
#[test]
fn tiny_kron_factors_do_not_underflow() {
    let a = [0.75, -0.5, 1.0];
    let b = [1.25, 0.5, -0.25];
    let c = [1.5, -1.0, 0.125];
    let (ta, tb, tc) = (scaled(&a, -990), scaled(&b, -990), scaled(&c, 1000));
    for m in [1usize, 4, 7, 16] {
        let ts = TensorSketch::new(3, 3, m, Seed::new(11)).unwrap();
        let want = scaled(&explicit_kron(&ts, &[&a, &b, &c]), -980);
        assert!(max_abs(&want) > 1e-296, "m={m}: {want:?}");
        let got = ts.apply_kron(&[&ta[..], &tb[..], &tc[..]]).unwrap();
        assert!(rel_err(&got, &want) <= 1e-12, "m={m}: {got:?} vs {want:?}");

        let tree = TreeSketch::new(4, 3, m, Seed::new(12)).unwrap();
        let one = [1.0, 0.0, 0.0];
        let want = scaled(
            &tree
                .apply_kron(&[&a[..], &b[..], &c[..], &one[..]])
                .unwrap(),
            -980,
        );
        let got = tree
            .apply_kron(&[&ta[..], &tb[..], &tc[..], &one[..]])
            .unwrap();
        assert!(
            rel_err(&got, &want) <= 1e-12,
            "tree m={m}: {got:?} vs {want:?}"
        );
    }
}

/// `kernel_error` compares the first `r` rows only, but converted a CSC `X` to CSR whole: memory
/// and time grew with the declared row count (2.1 GB and 3.9 s for 2 rows of a CSC `X`
/// declaring 2²⁸ rows), and a declared 2⁶⁰ rows was refused as `TooLarge`. Now the CSC is read in
/// place; the result equals the one on the dense copy of those rows (same entries, same order:
/// bitwise).
#[test]
fn kernel_error_reads_few_rows_of_a_tall_csc_in_place() {
    let params = PolyKernelParams {
        degree: 2,
        gamma: 0.5,
        coef0: 1.0,
        sketch_dim: 16,
        method: TensorMethod::Fft,
    };
    let f = PolyKernelFeatures::new(3, params, Seed::new(4)).unwrap();
    // Rows 0, 1, 2 of a CSC n × 3 with entries (0,0)=1, (2,0)=-0.5, (1,1)=2, (0,2)=0.25, (5,2)=7.
    let indptr = [0usize, 2, 3, 5];
    let indices = [0usize, 2, 1, 0, 5];
    let data = [1.0, -0.5, 2.0, 0.25, 7.0];
    let dense = Mat::from_fn(3, 3, |i, j| match (i, j) {
        (0, 0) => 1.0,
        (2, 0) => -0.5,
        (1, 1) => 2.0,
        (0, 2) => 0.25,
        _ => 0.0,
    });
    let dv = MatrixRef::dense(dense.as_ref()).unwrap();
    let phi = f.transform(dv, Par::Seq).unwrap();
    let want = f.kernel_error(dv, phi.as_ref(), 3, Par::Seq).unwrap();
    assert!(want.is_finite() && want > 0.0, "{want}");
    for n in [6usize, 1 << 20, 1 << 60] {
        let x = SparseRef::try_csc(n, 3, &indptr, &indices, &data).unwrap();
        let got = f.kernel_error(MatrixRef::Sparse(x), phi.as_ref(), 3, Par::Seq);
        assert_eq!(got.map(f64::to_bits), Ok(want.to_bits()), "n = {n}");
    }
}

/// The exact kernel at compensating scales: rows scaled by `2^−540` with `γ = 2^−60·2^1080`, or
/// by `2^520` with `γ = 2^−1040`, have the same `γ⟨x, y⟩` (and the same features, bit for bit:
/// `√γ·x` is unchanged), but `⟨x, y⟩` itself underflowed (`≈ 2^−1080`) or overflowed
/// (`≈ 2^1040`): `kernel` returned `Ok(0)` for a value near `1e-115` or refused a `3e102` as
/// overflowing, and `kernel_error` returned `Ok(∞)` or refused. Both must now give the
/// unscaled results bit for bit (c = 0, p = 3 and c = 0.25, p = 2).
#[test]
fn exact_kernel_survives_compensating_scales() {
    let x = randnla::sketch::tensor::clustered_rows(40, 6, 4, 0.3, Seed::new(7)).unwrap();
    for (degree, coef0) in [(3usize, 0.0), (2, 0.25)] {
        let run = |e: i32, gamma_exp: i32| {
            let xs = Mat::from_fn(40, 6, |i, j| x[(i, j)] * pow2(e));
            let params = PolyKernelParams {
                degree,
                gamma: pow2(gamma_exp),
                coef0,
                sketch_dim: 32,
                method: TensorMethod::Fft,
            };
            let f = PolyKernelFeatures::new(6, params, Seed::new(8)).unwrap();
            let xv = MatrixRef::dense(xs.as_ref()).unwrap();
            let phi = f
                .transform(xv, Par::Seq)
                .unwrap_or_else(|err| panic!("2^{e}, γ = 2^{gamma_exp}: {err}"));
            let row = |i: usize| (0..6).map(|j| xs[(i, j)]).collect::<Vec<_>>();
            let k = f.kernel(&row(0), &row(1)).map(f64::to_bits);
            let err = f
                .kernel_error(xv, phi.as_ref(), 40, Par::Seq)
                .map(f64::to_bits);
            (phi, k, err)
        };
        // Entries of very different sizes in one vector: ⟨x, y⟩ = 1 + 2^-30, exactly.
        let params = PolyKernelParams {
            degree,
            gamma: 1.0,
            coef0,
            sketch_dim: 8,
            method: TensorMethod::Fft,
        };
        let f = PolyKernelFeatures::new(3, params, Seed::new(8)).unwrap();
        let (x, y) = ([pow2(600), pow2(-600), 1.0], [0.0, pow2(600), pow2(-30)]);
        let want = (1.0 + pow2(-30) + coef0).powi(degree as i32);
        assert_eq!(f.kernel(&x, &y).unwrap(), want, "mixed sizes, p = {degree}");
        for (g0, e, g) in [(-60, -540, 1020), (0, 520, -1040)] {
            let (phi0, k0, e0) = run(0, g0);
            let k = f64::from_bits(k0.clone().unwrap());
            assert!(k.is_finite() && k != 0.0, "{k}");
            assert!(f64::from_bits(e0.clone().unwrap()) > 0.0);
            let (phi, k, err) = run(e, g);
            assert_eq!(phi, phi0, "features at 2^{e}, γ = 2^{g}");
            assert_eq!(k, k0, "kernel at 2^{e}, γ = 2^{g}");
            assert_eq!(err, e0, "kernel_error at 2^{e}, γ = 2^{g}");
        }
    }
}

/// The public building blocks returned `Ok` holding ±∞ or NaN for finite input whose sums
/// overflow: two entries of `1e308` in one bucket (`sketch_entries`, `mode_sketch`), a signal
/// of four `1e308` (`forward`: bin 0 is their sum), a spectrum of `1e308` bins (`inverse`). Each
/// is now `Error::NonFinite`; the same calls at `1e300` still succeed.
#[test]
fn building_blocks_refuse_overflowing_sums() {
    let ts = TensorSketch::new(2, 2, 4, Seed::new(1)).unwrap();
    let one_bucket = TensorSketch::new(2, 3, 1, Seed::new(1)).unwrap();
    let nonfinite = |r: Result<usize, Error>| matches!(r, Err(Error::NonFinite { .. }));
    for big in [1e308, 1e300] {
        let overflows = big == 1e308;
        let spec = vec![
            Complex::new(big, 0.0),
            Complex::new(big, big),
            Complex::new(big, 0.0),
        ];
        let results = [
            ts.sketch_entries(&[0, 0, 0, 0], &[big, big])
                .map(|v| v.len()),
            one_bucket.mode_sketch(0, &[big, big, big]).map(|v| v.len()),
            one_bucket
                .mode_spectrum(0, &[big, big, big])
                .map(|v| v.len()),
            ts.forward(&[big; 4]).map(|v| v.len()),
            ts.inverse(&spec).map(|v| v.len()),
        ];
        for (k, r) in results.into_iter().enumerate() {
            if overflows {
                assert!(nonfinite(r.clone()), "call {k} at {big:e}: {r:?}");
            } else {
                assert!(r.is_ok(), "call {k} at {big:e}: {r:?}");
            }
        }
    }
    // What they return when they succeed is finite.
    let v = ts.forward(&[1e300; 4]).unwrap();
    assert!(v.iter().all(|c| c.re.is_finite() && c.im.is_finite()));
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Unbiasedness and the Avron–Nguyễn–Woodruff variance bound for `p = 1…4` at sketch sizes that
/// are not powers of two and at `m = 1`, over 4000 seeds each, on `x, y ∈ ℝ⁵` (mixed signs,
/// correlated). Pass rules: `|mean − ⟨x, y⟩^p| ≤ 4` standard errors (tree sketch too), and for
/// TensorSketch `m·Var̂(‖TS x^{⊗p}‖²/‖x‖^{2p}) ≤ 2 + 3^p` with the sample variance plus 4 of its
/// standard errors. Each seed's sketch is also checked against the explicit Kronecker
/// reference (`tensor_bucket` of all `5^p` multi-indices) to 1e-12 of `‖x‖₁^p`.
/// Measured m·Var (bound 5 / 11 / 29 / 83 at p = 1 / 2 / 3 / 4): 1.31–1.38 / 3.6–4.3 /
/// 7.4–12.1 / 14.4–20.7 over m = 1, 7, 12, 30 (the largest at m = 1).
#[test]
fn unbiased_and_within_the_variance_bound_for_p_1_to_4_and_odd_m() {
    let x = [0.9, -0.4, 0.3, 1.2, -0.7];
    let y = [0.5, -0.8, 0.1, 0.9, 0.3];
    let l1: f64 = x.iter().map(|v: &f64| v.abs()).sum();
    let seeds = 4000u64;
    for p in 1..=4usize {
        let exact = dot(&x, &y).powi(p as i32);
        let nx2p = dot(&x, &x).powi(p as i32);
        for m in [1usize, 7, 12, 30] {
            let (mut ips, mut tree_ips, mut sq) = (vec![], vec![], vec![]);
            for s in 0..seeds {
                let seed = Seed::new(1000 * p as u64 + s);
                let ts = TensorSketch::new(p, 5, m, seed).unwrap();
                let (sx, sy) = (ts.apply_power(&x).unwrap(), ts.apply_power(&y).unwrap());
                if s < 50 {
                    let want = explicit_kron(&ts, &vec![&x[..]; p]);
                    let e = sx
                        .iter()
                        .zip(&want)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    assert!(
                        e <= 1e-12 * l1.powi(p as i32),
                        "p={p} m={m} seed {s}: {e:e}"
                    );
                }
                ips.push(dot(&sx, &sy));
                sq.push(dot(&sx, &sx) / nx2p);
                let t = TreeSketch::new(p, 5, m, seed).unwrap();
                tree_ips.push(dot(
                    &t.apply_power(&x).unwrap(),
                    &t.apply_power(&y).unwrap(),
                ));
            }
            let (mean, se) = mean_se(&ips);
            assert!(
                (mean - exact).abs() <= 4.0 * se,
                "TS p={p} m={m}: {mean} ± {se} vs {exact}"
            );
            let (mean, se) = mean_se(&tree_ips);
            assert!(
                (mean - exact).abs() <= 4.0 * se,
                "tree p={p} m={m}: {mean} ± {se} vs {exact}"
            );
            let (mu, _) = mean_se(&sq);
            let n = sq.len() as f64;
            let c2 = sq.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n;
            let c4 = sq.iter().map(|v| (v - mu).powi(4)).sum::<f64>() / n;
            let (v, vse) = (m as f64 * c2, m as f64 * ((c4 - c2 * c2) / n).sqrt());
            let bound = 2.0 + 3f64.powi(p as i32);
            eprintln!(
                "p={p} m={m}: m·Var = {v:.3} ± {vse:.3} (bound {bound}); E‖TSx‖²/‖x‖^2p = {mu:.4}"
            );
            assert!(
                v + 4.0 * vse <= bound,
                "p={p} m={m}: m·Var = {v} ± {vse} > {bound}"
            );
        }
    }
}

/// `n × d` rows with zeros (row 3 and the last row entirely zero), as dense, CSR and CSC.
struct ThreeLayouts {
    dense: Mat<f64>,
    csr: (Vec<usize>, Vec<usize>, Vec<f64>),
    csc: (Vec<usize>, Vec<usize>, Vec<f64>),
}

fn three_layouts(n: usize, d: usize) -> ThreeLayouts {
    let dense = Mat::from_fn(n, d, |i, j| {
        let h = (i * 7 + j * 13 + i * j) % 5;
        if i == 3 || i == n - 1 || h < 2 {
            0.0
        } else {
            ((i * d + j) as f64 * 0.37).sin()
        }
    });
    let compress = |outer: usize, inner: usize, at: &dyn Fn(usize, usize) -> f64| {
        let (mut ptr, mut idx, mut val) = (vec![0usize], vec![], vec![]);
        for o in 0..outer {
            for i in 0..inner {
                let v = at(o, i);
                if v != 0.0 {
                    idx.push(i);
                    val.push(v);
                }
            }
            ptr.push(idx.len());
        }
        (ptr, idx, val)
    };
    let csr = compress(n, d, &|i, j| dense[(i, j)]);
    let csc = compress(d, n, &|j, i| dense[(i, j)]);
    ThreeLayouts { dense, csr, csc }
}

/// Rows of dense, CSR and CSC inputs give bitwise identical output, on 1 and 2 threads, and
/// each row is bitwise the one-vector result (`apply_power` / `transform_vec`), for TensorSketch,
/// the tree and both kinds of polynomial features, at `m = 1`, 13 (odd) and 64; zero rows give
/// the sketch of the zero vector (zeros, or the sketch of `(0, √c)^{⊗p}` for the features).
#[test]
fn layouts_threads_and_vectors_agree_bitwise() {
    let (n, d) = (37, 6);
    let l = three_layouts(n, d);
    let csr = SparseRef::try_csr(n, d, &l.csr.0, &l.csr.1, &l.csr.2).unwrap();
    let csc = SparseRef::try_csc(n, d, &l.csc.0, &l.csc.1, &l.csc.2).unwrap();
    let views = [
        MatrixRef::dense(l.dense.as_ref()).unwrap(),
        MatrixRef::Sparse(csr),
        MatrixRef::Sparse(csc),
    ];
    for m in [1usize, 13, 64] {
        let ts = TensorSketch::new(3, d, m, Seed::new(21)).unwrap();
        let tree = TreeSketch::new(3, d, m, Seed::new(22)).unwrap();
        let poly = |method| {
            let params = PolyKernelParams {
                degree: 3,
                gamma: 0.7,
                coef0: 1.5,
                sketch_dim: m,
                method,
            };
            PolyKernelFeatures::new(d, params, Seed::new(23)).unwrap()
        };
        let (pf, pt) = (poly(TensorMethod::Fft), poly(TensorMethod::Tree));
        let run = |v: MatrixRef<'_, f64>, par: Par| {
            [
                ts.apply_rows(v, par).unwrap(),
                tree.apply_rows(v, par).unwrap(),
                pf.transform(v, par).unwrap(),
                pt.transform(v, par).unwrap(),
            ]
        };
        let reference = run(views[0], Par::Seq);
        for (k, v) in views.iter().enumerate() {
            for par in [Par::Seq, Par::rayon(2)] {
                let got = run(*v, par);
                for (map, (a, b)) in got.iter().zip(&reference).enumerate() {
                    assert!(
                        (0..n).all(|i| (0..m).all(|j| a[(i, j)].to_bits() == b[(i, j)].to_bits())),
                        "m={m}: map {map} on layout {k} with {par:?}"
                    );
                }
            }
        }
        for i in 0..n {
            let row: Vec<f64> = (0..d).map(|j| l.dense[(i, j)]).collect();
            let vecs = [
                ts.apply_power(&row).unwrap(),
                tree.apply_power(&row).unwrap(),
                pf.transform_vec(&row).unwrap(),
                pt.transform_vec(&row).unwrap(),
            ];
            for (map, v) in vecs.iter().enumerate() {
                let r: Vec<f64> = (0..m).map(|j| reference[map][(i, j)]).collect();
                assert_eq!(
                    v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    r.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    "m={m}: map {map}, row {i}"
                );
                if i == 3 && map < 2 {
                    assert!(v.iter().all(|&x| x == 0.0), "zero row, map {map}: {v:?}");
                }
            }
        }
    }
}

/// The formerly documented early overflow: at `m = 1024`, `p = 3`, `x = [1e102]` has
/// `x³ = 1e306` within range, yet was refused because the FFT's intermediates (`≈ m·x³`)
/// overflowed. They are now kept in range by powers of two: the sketch is `±1e306` in one bucket.
/// A true overflow (`x = [1e103]`) is still refused, naming the sketch's entries.
#[test]
fn early_overflow_of_the_fft_intermediates_is_gone() {
    let ts = TensorSketch::new(3, 1, 1024, Seed::new(5)).unwrap();
    assert!(1e102f64.powi(3).is_finite());
    let v: Vec<f64> = ts.apply_power(&[1e102]).unwrap();
    let big = v.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    assert!((big - 1e306).abs() <= 1e-12 * 1e306, "{big:e}");
    match ts.apply_power(&[1e103]) {
        Err(e @ Error::NonFinite { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("sketch's entries"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    assert!(ts.apply_power(&[1e100]).is_ok());
}

/// `clustered_rows` accepts any finite `noise ≥ 0`, but `noise = 1e308` (or `f64::MAX`) made
/// `centre + noise·g/√d` overflow and returned `Ok` holding ±∞ (1 of 20 entries at d = 1, 3 of
/// 60 at d = 3). Now an `Error::NonFinite`; `1e300` still gives finite rows.
#[test]
fn clustered_rows_refuse_an_overflowing_noise() {
    use randnla::sketch::tensor::clustered_rows;
    for (d, noise) in [(1usize, 1e308), (3, f64::MAX)] {
        let r = clustered_rows(20, d, 2, noise, Seed::new(1));
        assert!(
            matches!(r, Err(Error::NonFinite { .. })),
            "d={d} noise={noise:e}: {:?}",
            r.map(|a| (0..20).filter(|&i| !a[(i, 0)].is_finite()).count())
        );
    }
    let a = clustered_rows(20, 3, 2, 1e300, Seed::new(1)).unwrap();
    assert!((0..20).all(|i| (0..3).all(|j| a[(i, j)].is_finite())));
}

/// An unvalidated `MatrixRef::Dense` (documented to skip the finiteness check) holding a NaN in
/// row 21, column 2: the error said "finite input, but the product's entries … overflow", which
/// is false. It must now name the input entry (row 21, column 2) and not claim finite input.
/// Likewise a finite entry that overflows once multiplied by √γ (1e300 with γ = 1e40).
#[test]
fn non_finite_rows_are_not_reported_as_finite_input() {
    let mut a = Mat::from_fn(40, 4, |i, j| ((i * 4 + j) as f64).cos());
    a[(21, 2)] = f64::NAN;
    let ts = TensorSketch::new(2, 4, 16, Seed::new(3)).unwrap();
    for par in [Par::Seq, Par::rayon(2)] {
        match ts.apply_rows(MatrixRef::Dense(a.as_ref()), par) {
            Err(
                e @ Error::NonFinite {
                    row: 21, col: 2, ..
                },
            ) => {
                assert!(!e.to_string().contains("finite input"), "{e}");
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
    a[(21, 2)] = 1e300;
    let params = PolyKernelParams {
        degree: 2,
        gamma: 1e40,
        coef0: 0.0,
        sketch_dim: 16,
        method: TensorMethod::Fft,
    };
    let f = PolyKernelFeatures::new(4, params, Seed::new(3)).unwrap();
    match f.transform(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq) {
        Err(
            e @ Error::NonFinite {
                row: 21, col: 2, ..
            },
        ) => {
            assert!(e.to_string().contains("√γ"), "{e}");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}
