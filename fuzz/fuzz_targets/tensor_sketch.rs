//! Arbitrary degrees, dimensions, sketch sizes and values → TensorSketch, TreeSketch and the
//! polynomial-kernel features: rows of dense and CSR matrices, single vectors, Kronecker
//! products, the building blocks (buckets, mode sketches, FFTs) and the exact kernel. Nothing may
//! panic; an `Ok` holds only finite values; a row map gives the same bits for a dense matrix, its
//! CSR and CSC copies, each row on its own and on one or two threads; the building blocks agree
//! with their definitions (entry and mode sketches with the buckets, the FFT with its inverse).
#![no_main]

use faer::{Mat, MatRef, Par};
use libfuzzer_sys::fuzz_target;
use randnla::sketch::tensor::{
    Complex, PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
};
use randnla::{MatrixRef, Seed, SparseRef};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

/// Mostly small values and zeros; sometimes raw bits (NaN, ∞, subnormal) or a power-of-two
/// scale near either end of the exponent range (the under- and overflow paths).
fn value(b: &mut Bytes<'_>) -> f64 {
    match b.u8() % 10 {
        0 | 1 => 0.0,
        2 => b.raw_f64(),
        3 => (b.u8() as f64 - 128.0) * 2f64.powi(b.u8() as i32 * 8 - 1024),
        _ => (b.u8() as f64 - 128.0) / 16.0,
    }
}

fn vector(b: &mut Bytes<'_>, len: usize) -> Vec<f64> {
    // One in eight vectors has the wrong length.
    let len = len + (b.u8() % 8 == 0) as usize;
    (0..len).map(|_| value(b)).collect()
}

fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

fn mat_finite(m: MatRef<'_, f64>) -> bool {
    (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].is_finite()))
}

fn same_bits(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> bool {
    (a.nrows(), a.ncols()) == (b.nrows(), b.ncols())
        && (0..a.ncols())
            .all(|j| (0..a.nrows()).all(|i| a[(i, j)].to_bits() == b[(i, j)].to_bits()))
}

/// The CSR arrays of a dense matrix (its nonzero entries).
fn csr_of(x: &Mat<f64>) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let (mut indptr, mut indices, mut data) = (vec![0], Vec::new(), Vec::new());
    for i in 0..x.nrows() {
        for j in 0..x.ncols() {
            if x[(i, j)] != 0.0 {
                indices.push(j);
                data.push(x[(i, j)]);
            }
        }
        indptr.push(indices.len());
    }
    (indptr, indices, data)
}

/// A row map applied to `X` dense, as CSR, on two threads and row by row: when the dense map
/// succeeds, the others give the same bits.
fn check_rows(
    x: &Mat<f64>,
    rows: impl Fn(MatrixRef<'_, f64>, Par) -> randnla::Result<Mat<f64>>,
    one: impl Fn(&[f64]) -> randnla::Result<Vec<f64>>,
) {
    let Ok(dense) = MatrixRef::dense(x.as_ref()) else {
        return;
    };
    let Ok(want) = rows(dense, Par::Seq) else {
        return;
    };
    assert!(mat_finite(want.as_ref()), "Ok with a non-finite entry");
    let two = rows(dense, Par::rayon(2)).expect("two threads succeed where one did");
    assert!(same_bits(want.as_ref(), two.as_ref()), "1 vs 2 threads");
    let (indptr, indices, data) = csr_of(x);
    let csr = SparseRef::try_csr(x.nrows(), x.ncols(), &indptr, &indices, &data)
        .expect("the CSR copy of a valid dense matrix is valid");
    let sparse = rows(MatrixRef::Sparse(csr), Par::Seq).expect("CSR succeeds where dense did");
    assert!(same_bits(want.as_ref(), sparse.as_ref()), "dense vs CSR");
    // "CSR, CSC and dense inputs give bitwise identical features": the CSC copy too.
    let xt = x.transpose().to_owned();
    let (cptr, cidx, cdata) = csr_of(&xt);
    let csc = SparseRef::try_csc(x.nrows(), x.ncols(), &cptr, &cidx, &cdata)
        .expect("the CSC copy of a valid dense matrix is valid");
    let sparse = rows(MatrixRef::Sparse(csc), Par::Seq).expect("CSC succeeds where dense did");
    assert!(same_bits(want.as_ref(), sparse.as_ref()), "dense vs CSC");
    for i in 0..x.nrows() {
        let row: Vec<f64> = (0..x.ncols()).map(|j| x[(i, j)]).collect();
        let v = one(&row).expect("a row on its own succeeds where the matrix did");
        let got = Mat::from_fn(1, v.len(), |_, j| v[j]);
        assert!(
            same_bits(want.as_ref().subrows(i, 1), got.as_ref()),
            "row {i} alone"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let degree = (b.u8() % 6) as usize;
    let d = (b.u8() % 9) as usize;
    let m = match b.u8() % 4 {
        0 => (b.u8() % 3) as usize,
        1 => 1 + (b.u8() % 16) as usize,
        2 => 64,
        _ => 1usize << (b.u8() % 11),
    };
    let n = (b.u8() % 5) as usize;
    let seed = Seed::new(b.u8() as u64);
    let x = Mat::from_fn(n, d, |_, _| 0.0);
    let mut x = x;
    for j in 0..d {
        for i in 0..n {
            x[(i, j)] = value(&mut b);
        }
    }
    let u = vector(&mut b, d);

    if let Ok(ts) = TensorSketch::new(degree, d, m, seed) {
        if let Ok(s) = ts.apply_power(&u) {
            assert!(all_finite(&s), "apply_power: Ok with a non-finite entry");
        }
        let factors: Vec<Vec<f64>> = (0..degree).map(|_| vector(&mut b, d)).collect();
        let refs: Vec<&[f64]> = factors.iter().map(Vec::as_slice).collect();
        if let Ok(s) = ts.apply_kron(&refs) {
            assert!(all_finite(&s), "apply_kron: Ok with a non-finite entry");
        }
        check_rows(&x, |a, par| ts.apply_rows(a, par), |r| ts.apply_power(r));
        // Building blocks, with indices that may be out of range.
        let index: Vec<usize> = (0..degree + (b.u8() % 4 == 0) as usize)
            .map(|_| (b.u8() as usize) % (d + 2))
            .collect();
        let _ = ts.tensor_bucket(&index);
        let _ = ts.mode_bucket(b.u8() as usize % (degree + 2), b.u8() as usize % (d + 2));
        let values = vector(&mut b, 2);
        let entries: Vec<usize> = (0..degree * 2 + (b.u8() % 4 == 0) as usize)
            .map(|_| (b.u8() as usize) % (d + 2))
            .collect();
        if let Ok(s) = ts.sketch_entries(&entries, &values) {
            assert!(all_finite(&s), "sketch_entries: Ok with a non-finite entry");
            // `s_T[t] = Σ_{H(i) = t} Σ(i)·T_i` with `(H(i), Σ(i))` = `tensor_bucket(i)`: the
            // entries' signed values added into their buckets (each sign ±1, so every term is
            // exact; the sum is compared to rounding).
            let mut want = vec![0.0; m];
            let mut mass = vec![0.0; m];
            for (e, &v) in values.iter().enumerate() {
                let (h, sign) = ts
                    .tensor_bucket(&entries[e * degree..(e + 1) * degree])
                    .expect("the multi-index of an entry sketch_entries accepted");
                want[h] += sign * v;
                mass[h] += v.abs();
            }
            for t in 0..m {
                // (Summed in another order, a bucket near f64::MAX may overflow here only.)
                assert!(
                    !mass[t].is_finite() || (s[t] - want[t]).abs() <= 1e-15 * mass[t],
                    "sketch_entries bucket {t}: {} vs {}",
                    s[t],
                    want[t]
                );
            }
        }
        let k = b.u8() as usize % (degree + 2);
        if let Ok(s) = ts.mode_sketch(k, &u) {
            assert!(all_finite(&s), "mode_sketch: Ok with a non-finite entry");
            // `C_k x`: `x_i` times the sign `σ_k(i)` added into bucket `h_k(i)`.
            let mut want = vec![0.0; m];
            let mut mass = vec![0.0; m];
            for (i, &v) in u.iter().enumerate() {
                let (h, sign) = ts.mode_bucket(k, i).expect("an index mode_sketch accepted");
                want[h] += sign * v;
                mass[h] += v.abs();
            }
            for t in 0..m {
                // (Summed in another order, a bucket near f64::MAX may overflow here only.)
                assert!(
                    !mass[t].is_finite() || (s[t] - want[t]).abs() <= 1e-15 * mass[t],
                    "mode_sketch bucket {t}: {} vs {}",
                    s[t],
                    want[t]
                );
            }
        }
        let _ = ts.mode_spectrum(k, &u);
        let signal = vector(&mut b, m);
        if let Ok(spec) = ts.forward(&signal) {
            assert!(
                spec.iter().all(|c| c.re.is_finite() && c.im.is_finite()),
                "forward: Ok with a non-finite entry"
            );
            if let Ok(back) = ts.inverse(&spec) {
                assert!(all_finite(&back), "inverse: Ok with a non-finite entry");
                // "the exact inverse of forward": the signal back, to the FFT's rounding
                // (each bin sums at most ‖v‖₁; a round trip of length m ≤ 1024 loses a few
                // hundred ulps of it at most; 1e-300 for subnormal signals).
                let l1: f64 = signal.iter().map(|v| v.abs()).sum();
                if l1.is_finite() {
                    for (t, (&x, &y)) in signal.iter().zip(&back).enumerate() {
                        assert!(
                            (x - y).abs() <= 1e-12 * l1 + 1e-300,
                            "inverse(forward(v))[{t}] = {y}, v[{t}] = {x}"
                        );
                    }
                }
            }
        }
        let spec: Vec<Complex<f64>> = (0..ts.spectrum_len() + (b.u8() % 8 == 0) as usize)
            .map(|_| Complex::new(value(&mut b), value(&mut b)))
            .collect();
        if let Ok(back) = ts.inverse(&spec) {
            assert!(all_finite(&back), "inverse: Ok with a non-finite entry");
        }
    }

    let dims: Vec<usize> = (0..degree).map(|_| (b.u8() % 6) as usize).collect();
    if let Ok(ts) = TensorSketch::with_dims(&dims, m, seed) {
        let factors: Vec<Vec<f64>> = dims.iter().map(|&k| vector(&mut b, k)).collect();
        let refs: Vec<&[f64]> = factors.iter().map(Vec::as_slice).collect();
        if let Ok(s) = ts.apply_kron(&refs) {
            assert!(
                all_finite(&s),
                "with_dims apply_kron: Ok with a non-finite entry"
            );
        }
    }

    if let Ok(tree) = TreeSketch::new(degree, d, m, seed) {
        if let Ok(s) = tree.apply_power(&u) {
            assert!(
                all_finite(&s),
                "tree apply_power: Ok with a non-finite entry"
            );
        }
        check_rows(
            &x,
            |a, par| tree.apply_rows(a, par),
            |r| tree.apply_power(r),
        );
    }

    let params = PolyKernelParams {
        degree,
        gamma: value(&mut b),
        coef0: value(&mut b),
        sketch_dim: m,
        method: if b.u8() % 2 == 0 {
            TensorMethod::Fft
        } else {
            TensorMethod::Tree
        },
    };
    if let Ok(features) = PolyKernelFeatures::new(d, params, seed) {
        check_rows(
            &x,
            |a, par| features.transform(a, par),
            |r| features.transform_vec(r),
        );
        let w = vector(&mut b, d);
        if let Ok(k) = features.kernel(&u, &w) {
            assert!(k.is_finite(), "kernel: Ok({k})");
        }
        if let (Ok(view), Ok(phi)) = (
            MatrixRef::dense(x.as_ref()),
            MatrixRef::dense(x.as_ref()).and_then(|v| features.transform(v, Par::Seq)),
        ) {
            if let Ok(e) = features.kernel_error(view, phi.as_ref(), b.u8() as usize % 6, Par::Seq)
            {
                assert!(!e.is_nan(), "kernel_error: Ok(NaN)");
            }
        }
    }
});
