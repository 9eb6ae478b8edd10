//! Tour section: leverage scores of the coherent matrix `[I; 1e-3·G]` (20000 × 50), approximate
//! vs exact, and how well leverage-score sampling and uniform sampling embed range(A) at the same
//! `m = ⌈4·d·ln d⌉` (Bernoulli sampling keeps row `i` with probability `min(1, m·ℓ̃ᵢ/Σℓ̃)`, so
//! it keeps fewer rows where scores near 1 are capped): the distortion κ(SQ), blind to a common
//! scale of `S`, and the embedding error `ε = ‖(SQ)ᵀSQ − I‖₂`, which is not
//! (`diagnostics::embedding_error`). Uniform sampling that misses every one of the 50 coherent
//! rows (it does at some seeds) leaves `SQ` a tiny, well-conditioned matrix: κ(SQ) then looks as
//! good as leverage sampling's, `ε ≈ 1` does not.
use crate::Ctx;
use randnla::leverage::{approx_leverage_scores, exact_leverage_scores, ApproxParams, ExactParams};
use randnla::sketch::sampling::RowSampling;
use randnla::sketch::SketchOperator;
use randnla::{diagnostics, problems, MatrixRef};

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

pub fn run(ctx: &Ctx) -> Result<(), String> {
    let (n, d) = (20_000, 50);
    let a = problems::coherent_matrix(n, d, 1e-3, ctx.seed.derive(0x30)).map_err(s)?;
    let view = MatrixRef::dense(a.as_ref()).map_err(s)?;
    let (ex, exi) = exact_leverage_scores(view, &ExactParams::default(), ctx.par).map_err(s)?;
    let (ap, api) =
        approx_leverage_scores(view, &ApproxParams::default(), ctx.seed, ctx.par).map_err(s)?;
    let mut errs: Vec<f64> = ap.iter().zip(&ex).map(|(x, e)| (x - e).abs() / e).collect();
    errs.sort_by(f64::total_cmp);
    let dash = || "-".to_string();
    let mut rows = vec![
        vec![
            format!("exact ({})", exi.method.name()),
            format!("{:.3}", exi.seconds),
            format!("{:.3}", exi.sum),
            dash(),
            dash(),
            dash(),
            dash(),
        ],
        vec![
            format!("approx (m₁={}, r₂={})", api.sketch_rows, api.jl_dim),
            format!("{:.3}", api.seconds),
            format!("{:.3}", api.sum),
            format!("{:.3}", crate::cli::median(&errs).unwrap_or(f64::NAN)),
            format!("{:.3}", errs[errs.len() - 1]),
            dash(),
            dash(),
        ],
    ];
    // Distortion of row sampling with m = ⌈4 d ln d⌉ rows.
    let m = (4.0 * d as f64 * (d as f64).ln()).ceil() as usize;
    let q = diagnostics::orthonormal_basis(a.as_ref()).map_err(s)?;
    let samplers: [(&str, RowSampling); 3] = [
        (
            "leverage sampling (ℓ̃)",
            RowSampling::with_replacement(&ap, m, ctx.seed).map_err(s)?,
        ),
        (
            "Bernoulli sampling (ℓ̃)",
            RowSampling::bernoulli(&ap, m, ctx.seed).map_err(s)?,
        ),
        (
            "uniform sampling",
            RowSampling::uniform(n, m, ctx.seed).map_err(s)?,
        ),
    ];
    for (name, op) in &samplers {
        let kappa = diagnostics::distortion(op, q.as_ref(), ctx.par).map_err(s)?;
        rows.push(vec![
            format!("{name}, m={}", SketchOperator::<f64>::nrows(op)),
            dash(),
            dash(),
            dash(),
            dash(),
            format!("{kappa:.2}"),
            format!(
                "{:.2}",
                diagnostics::embedding_error(op, q.as_ref(), ctx.par).map_err(s)?
            ),
        ]);
    }
    crate::cli::outln!("coherent [I; 1e-3·G], n = {n}, d = {d}: leverage scores and row sampling");
    crate::cli::table(
        &[
            "what",
            "seconds",
            "Σ scores",
            "median rel err",
            "max rel err",
            "κ(SQ)",
            "‖(SQ)ᵀSQ − I‖₂",
        ],
        &rows,
    );
    Ok(())
}
