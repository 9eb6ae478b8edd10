//! Promises of the crate guide (`src/lib.rs`) and the tour that no other test backed.

use faer::{Mat, Par};
use randnla::attention::{
    clustered_qkv, exact_attention, poly_sketch_attention, relative_error, ExactParams, FeatureMap,
    Kernel, PolySketchParams,
};
use randnla::{problems, Seed};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The crate guide's attention row: "error ≈ 0.45–0.55 at `r = 32`, ≈ 0.3–0.4 at `r = 64` on
/// clustered inputs, ≈ 1 on iid ones", at the tour's shape (degree 4, n = 1024, h = d = 64,
/// 16 centres, noise 0.3, scale 1.5; iid: standard normal Q, K). The guide said "0.3–0.5"
/// while the tour printed 0.536 and 0.563 at r = 32; nothing checked the iid figure.
/// Measured over seeds 0–4, both maps, causal and not: r = 32 0.45–0.56, r = 64 0.31–0.38,
/// iid 0.99–1.08. Pass rule: the median over seeds 0–4 in (0.4, 0.6) at r = 32, in
/// (0.28, 0.42) at r = 64, in (0.95, 1.15) on iid inputs, for each map and mask.
#[test]
fn poly_sketch_attention_errors_are_the_guides() {
    let (n, h) = (1024, 64);
    let mut errors = std::collections::BTreeMap::<String, Vec<f64>>::new();
    for s in 0..5u64 {
        let seed = Seed::new(s);
        let (q, k, v) = clustered_qkv(n, h, 16, 0.3, 1.5, seed).unwrap();
        let qi = problems::gaussian_matrix(n, h, seed.derive(0x6E)).unwrap();
        let ki = problems::gaussian_matrix(n, h, seed.derive(0x6D)).unwrap();
        let exact = |q: &Mat<f64>, k: &Mat<f64>, causal| {
            let params = ExactParams { causal, block: 256 };
            let kernel = Kernel::Polynomial { degree: 4 };
            exact_attention(
                q.as_ref(),
                k.as_ref(),
                v.as_ref(),
                kernel,
                &params,
                Par::Seq,
            )
            .unwrap()
        };
        let sketch = |q: &Mat<f64>, k: &Mat<f64>, r, map, causal| {
            let params = PolySketchParams {
                degree: 4,
                sketch_dim: r,
                map,
                causal,
                seed: seed.derive(0x6F),
                ..Default::default()
            };
            poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, Par::Seq)
                .unwrap()
                .0
        };
        for causal in [false, true] {
            let (ex, exi) = (exact(&q, &k, causal), exact(&qi, &ki, causal));
            for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
                for r in [32usize, 64] {
                    let out = sketch(&q, &k, r, map, causal);
                    let err = relative_error(out.as_ref(), ex.as_ref()).unwrap();
                    errors
                        .entry(format!("clustered r={r} {map:?} causal={causal}"))
                        .or_default()
                        .push(err);
                }
                let out = sketch(&qi, &ki, 32, map, causal);
                let err = relative_error(out.as_ref(), exi.as_ref()).unwrap();
                errors
                    .entry(format!("iid r=32 {map:?} causal={causal}"))
                    .or_default()
                    .push(err);
            }
        }
    }
    assert_eq!(errors.len(), 12);
    for (what, errs) in errors {
        let med = median(errs.clone());
        let band = if what.starts_with("iid") {
            0.95..1.15
        } else if what.contains("r=32") {
            0.4..0.6
        } else {
            0.28..0.42
        };
        assert!(band.contains(&med), "{what}: median {med} of {errs:?}");
    }
}
