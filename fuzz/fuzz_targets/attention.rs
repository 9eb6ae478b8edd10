//! Arbitrary small Q, K, V and attention parameters → exact softmax / polynomial attention,
//! sketched attention (every map, causal or not, f64 and f32) and the block products. Nothing may
//! panic: odd degrees, zero or huge block sizes and sketch dimensions, mismatched shapes, NaN/∞
//! and values whose powers overflow must come back as `Err`; an `Ok` output must be finite.
#![no_main]

use faer::{Mat, Par};
use libfuzzer_sys::fuzz_target;
use randnla::attention::{
    causal_product, causal_squared_product, exact_attention, poly_sketch_attention, ExactParams,
    FeatureMap, Kernel, PolySketch, PolySketchParams,
};
use randnla::Seed;

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

/// Mostly small values; sometimes zero, sometimes raw bits (NaN, ∞, huge, subnormal).
fn value(b: &mut Bytes<'_>) -> f64 {
    match b.u8() % 10 {
        0 => 0.0,
        1 => b.raw_f64(),
        2 => (b.u8() as f64 - 128.0) * 1e3,
        _ => (b.u8() as f64 - 128.0) / 64.0,
    }
}

fn finite(m: &Mat<f64>) -> bool {
    (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].is_finite()))
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n = (b.u8() % 40) as usize;
    let m = if b.u8() % 4 == 0 {
        (b.u8() % 40) as usize
    } else {
        n
    };
    let h = (b.u8() % 6) as usize;
    let hk = if b.u8() % 8 == 0 { h + 1 } else { h };
    let d = (b.u8() % 5) as usize;
    let q = Mat::<f64>::from_fn(n, h, |_, _| value(&mut b));
    let k = Mat::<f64>::from_fn(m, hk, |_, _| value(&mut b));
    let v = Mat::<f64>::from_fn(m, d, |_, _| value(&mut b));
    let degree = (b.u8() % 12) as usize;
    let block = [1usize, 2, 7, 16, 64, 0, 9000][(b.u8() % 7) as usize];
    let causal = b.u8() % 2 == 0;
    let sketch_dim = [1usize, 3, 8, 16, 0, 5000][(b.u8() % 6) as usize];
    let map = [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ][(b.u8() % 3) as usize];
    let scale = value(&mut b);

    let params = ExactParams { causal, block };
    for kernel in [Kernel::Polynomial { degree }, Kernel::Softmax { scale }] {
        if let Ok(out) = exact_attention(
            q.as_ref(),
            k.as_ref(),
            v.as_ref(),
            kernel,
            &params,
            Par::Seq,
        ) {
            assert!(
                finite(&out),
                "exact {kernel:?} returned a non-finite output"
            );
            assert_eq!((out.nrows(), out.ncols()), (n, d));
        }
    }
    let sp = PolySketchParams {
        degree,
        sketch_dim,
        map,
        causal,
        block,
        seed: Seed::new(b.u8() as u64),
        check: b.u8() % 2 == 0,
    };
    if let Ok((out, info)) =
        poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &sp, Par::Seq)
    {
        assert!(finite(&out), "sketch returned a non-finite output");
        assert!(info.min_normalizer >= 1.0 - 1e-9 || n == 0);
    }
    let to32 = |x: &Mat<f64>| Mat::<f32>::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] as f32);
    let (q32, k32, v32) = (to32(&q), to32(&k), to32(&v));
    if let Ok((out, _)) =
        poly_sketch_attention(q32.as_ref(), k32.as_ref(), v32.as_ref(), &sp, Par::Seq)
    {
        assert!((0..out.ncols()).all(|j| (0..out.nrows()).all(|i| out[(i, j)].is_finite())));
    }
    if let Ok(s) = PolySketch::new(h, degree, sketch_dim, map, Seed::new(1)) {
        if let Ok(w) = s.weights(q.as_ref(), k.as_ref(), Par::Seq) {
            assert!((0..w.ncols()).all(|j| (0..w.nrows()).all(|i| !(w[(i, j)] < 0.0))));
        }
    }
    let _ = causal_product(q.as_ref(), k.as_ref(), v.as_ref(), block, Par::Seq);
    let _ = causal_squared_product(q.as_ref(), k.as_ref(), v.as_ref(), block, Par::Seq);
});
