//! Tour section: degree-4 polynomial attention, exact (blocked, quadratic in n) against
//! PolySketch (self-tensored Gaussian features, r = 32, linear in n), non-causal and causal, on
//! clustered queries and keys (16 centres, noise 0.3, scale 1.5; h = d = 64); then the same
//! sketch on iid Gaussian Q, K, where the kernel values are tiny next to the norms and the
//! relative error is ≈ 1 — said, not hidden.
use crate::Ctx;
use faer::Mat;
use randnla::attention::{
    clustered_qkv, exact_attention, poly_sketch_attention, relative_error, ExactParams, FeatureMap,
    Kernel, PolySketchParams,
};
use randnla::problems;
use std::time::Instant;

fn s(e: randnla::Error) -> String {
    e.to_string()
}

pub fn run(ctx: &Ctx) -> Result<(), String> {
    let h = 64;
    let exact =
        |q: &Mat<f64>, k: &Mat<f64>, v: &Mat<f64>, causal| -> Result<(Mat<f64>, f64), String> {
            let t = Instant::now();
            let out = exact_attention(
                q.as_ref(),
                k.as_ref(),
                v.as_ref(),
                Kernel::Polynomial { degree: 4 },
                &ExactParams { causal, block: 256 },
                ctx.par,
            )
            .map_err(s)?;
            Ok((out, t.elapsed().as_secs_f64()))
        };
    let sketch = |q: &Mat<f64>, k: &Mat<f64>, v: &Mat<f64>, r, map, causal| {
        let params = PolySketchParams {
            degree: 4,
            sketch_dim: r,
            map,
            causal,
            block: 256,
            seed: ctx.seed.derive(0x6F),
            check: false,
        };
        poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, ctx.par).map_err(s)
    };
    let mut rows = Vec::new();
    for n in [1024usize, 2048, 4096] {
        let (q, k, v) = clustered_qkv(n, h, 16, 0.3, 1.5, ctx.seed).map_err(s)?;
        for causal in [false, true] {
            let (ex, t_ex) = exact(&q, &k, &v, causal)?;
            let (out, info) = sketch(&q, &k, &v, 32, FeatureMap::Gaussian, causal)?;
            let err = relative_error(out.as_ref(), ex.as_ref()).map_err(s)?;
            rows.push(vec![
                n.to_string(),
                if causal { "causal" } else { "full" }.to_string(),
                format!("{t_ex:.3}"),
                format!("{:.3}", info.seconds),
                format!("{:.1}", t_ex / info.seconds),
                format!("{err:.3}"),
                format!("{:.0}", info.workspace_bytes as f64 / 1024.0),
            ]);
        }
    }
    crate::cli::outln!("degree-4 attention, h = d = 64, clustered Q, K; sketch: Gaussian φ, r = 32 (528 features), b = 256");
    crate::cli::table(
        &[
            "n",
            "mask",
            "exact s",
            "sketch s",
            "speed-up",
            "rel error",
            "workspace KiB",
        ],
        &rows,
    );
    // Accuracy against r and inputs at n = 1024, non-causal.
    let n = 1024;
    let (q, k, v) = clustered_qkv(n, h, 16, 0.3, 1.5, ctx.seed).map_err(s)?;
    let qi = problems::gaussian_matrix(n, h, ctx.seed.derive(0x6E)).map_err(s)?;
    let ki = problems::gaussian_matrix(n, h, ctx.seed.derive(0x6D)).map_err(s)?;
    let (ex, _) = exact(&q, &k, &v, false)?;
    let (exi, _) = exact(&qi, &ki, &v, false)?;
    let mut rows = Vec::new();
    for r in [16usize, 32, 64] {
        let mut row = vec![r.to_string()];
        for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
            let (out, _) = sketch(&q, &k, &v, r, map, false)?;
            row.push(format!(
                "{:.3}",
                relative_error(out.as_ref(), ex.as_ref()).map_err(s)?
            ));
        }
        let (out, _) = sketch(&qi, &ki, &v, r, FeatureMap::Gaussian, false)?;
        row.push(format!(
            "{:.3}",
            relative_error(out.as_ref(), exi.as_ref()).map_err(s)?
        ));
        rows.push(row);
    }
    crate::cli::outln!("\nrelative error at n = {n}: clustered inputs (Gaussian / TensorSketch φ) vs iid Gaussian Q, K");
    crate::cli::table(
        &["r", "clustered gauss", "clustered TS", "iid gauss"],
        &rows,
    );
    Ok(())
}
