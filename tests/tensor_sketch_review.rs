//! Review tests of TensorSketch, the tree sketch and the polynomial-kernel features
//! (ALGORITHMS.md §3): exact Kronecker-product references for small `d`, tiny and huge scales,
//! degenerate shapes, layouts and thread counts. Every test has fixed seeds.

use faer::{Mat, Par};
use randnla::sketch::tensor::{
    PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
};
use randnla::{MatrixRef, Seed, SparseRef};

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
