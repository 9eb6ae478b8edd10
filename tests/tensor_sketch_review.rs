//! Review tests of TensorSketch, the tree sketch and the polynomial-kernel features
//! (ALGORITHMS.md §3): exact Kronecker-product references for small `d`, tiny and huge scales,
//! degenerate shapes, layouts and thread counts. Every test has fixed seeds.

use faer::{Mat, Par};
use randnla::sketch::tensor::{
    Complex, PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
};
use randnla::{Error, MatrixRef, Seed, SparseRef};

/// The explicit tensor CountSketch of `x₁ ⊗ … ⊗ x_p` (every multi-index hashed with
/// `tensor_bucket`), in exact products of the given factors: `O(∏ d_k)`.
fn explicit_kron(ts: &TensorSketch, xs: &[&[f64]]) -> Vec<f64> {
    let dims = ts.dims().to_vec();
    let total: usize = dims.iter().product();
    let mut out = vec![0.0; ts.sketch_dim()];
    let mut index = vec![0usize; dims.len()];
    for mut flat in 0..total {
        let mut v = 1.0;
        for k in (0..dims.len()).rev() {
            index[k] = flat % dims[k];
            flat /= dims[k];
            v *= xs[k][index[k]];
        }
        let (h, s) = ts.tensor_bucket(&index).unwrap();
        out[h] += s * v;
    }
    out
}

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
