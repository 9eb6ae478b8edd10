//! Tour section: symmetric CP decomposition of a synthetic order-3 tensor (n = 100, rank 10,
//! orthonormal factors, weights 0.8^j, 1 % noise) by the exact and the sketched robust tensor
//! power method from the same starts, and the sketched one followed by two exact sweeps
//! (`refine_exact`): time, largest factor error, largest weight error, residual.
use crate::Ctx;
use randnla::tensor::{
    match_factors, power_method_exact, power_method_sketched, refine_exact, residual_rel,
    CpDecomposition, PowerParams, SketchParams, SymmetricTensor,
};
use std::time::Instant;

pub fn run(ctx: &Ctx) -> Result<(), String> {
    let (p, n, k) = (3, 100, 10);
    let (t, w, a) = SymmetricTensor::synthetic_orthogonal(p, n, k, 0.01, ctx.seed)
        .map_err(|e| e.to_string())?;
    let power = PowerParams {
        starts: 5,
        iters: 8,
        refine_iters: 8,
    };
    let sp = SketchParams {
        power: power.clone(),
        ..Default::default()
    };
    let row = |name: &str, run: &dyn Fn() -> randnla::Result<CpDecomposition>| {
        let start = Instant::now();
        let d = run().map_err(|e| e.to_string())?;
        let secs = start.elapsed().as_secs_f64();
        let m = match_factors(p, &w, &a, &d.weights, &d.factors).map_err(|e| e.to_string())?;
        let fe = m.iter().map(|x| x.factor_error).fold(0.0, f64::max);
        let we = m.iter().map(|x| x.weight_rel_error).fold(0.0, f64::max);
        let r = residual_rel(&t, &d.weights, &d.factors, ctx.par).map_err(|e| e.to_string())?;
        Ok::<_, String>(vec![
            name.to_string(),
            d.sketch_shape
                .map_or("-".into(), |(bb, b)| format!("{bb}×{b}")),
            d.contractions.to_string(),
            format!("{secs:.3}"),
            format!("{fe:.4}"),
            format!("{we:.4}"),
            format!("{r:.4}"),
        ])
    };
    let rows = vec![
        row("exact", &|| {
            power_method_exact(&t, k, &power, ctx.seed, ctx.par)
        })?,
        row("sketched", &|| {
            power_method_sketched(&t, k, &sp, ctx.seed, ctx.par)
        })?,
        row("sketched + 2 exact sweeps", &|| {
            let d = power_method_sketched(&t, k, &sp, ctx.seed, ctx.par)?;
            refine_exact(&t, &d, 2, ctx.par)
        })?,
    ];
    crate::cli::outln!(
        "T = Σ 0.8^j a_j^⊗3 + 1% noise, n = {n}, rank {k}; L = 5 starts, N = 8 iterations (+8 refine)"
    );
    crate::cli::table(
        &[
            "method",
            "B×b",
            "contractions",
            "seconds",
            "max factor err",
            "max λ err",
            "‖T−T̂‖/‖T‖",
        ],
        &rows,
    );
    crate::cli::outln!(
        "(sketched: default hashing, {:?} at this shape. A full-size sketched contraction \
         overtakes the exact one only near n ≈ 250 (benches/tensor_power.rs); at n = 100 the \
         sketched method gains from its search on 3 sketches folded to b/4. At n = 400: \
         `cargo run --release --example tensor_power -- --synthetic 400,10,0.01,3 --starts 5 \
         --iters 8`, 5.3–13× faster than the exact method on one or two threads, as the VM's \
         memory bandwidth and FFT speed go. The sketches' \
         noise sets the sketched residual; two exact sweeps, three passes over T, bring it to \
         the exact method's.)",
        sp.resolve_hashing(n, p)
    );
    Ok(())
}
