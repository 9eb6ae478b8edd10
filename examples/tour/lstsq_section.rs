//! Tour section: one ill-conditioned sparse least-squares problem (pairs of nearly collinear
//! columns, κ ≈ 1e8, so column scaling cannot fix it) solved by every method, with time and
//! accuracy against a dense Householder QR solve.
use crate::Ctx;
use randnla::lstsq::{
    lsqr, normal_equation_residual, normal_equations, qr_solve, sketch_and_precondition,
    sketch_and_solve, LsqrParams, LstsqParams, SketchSolveParams,
};
use randnla::{Error, MatrixRef};
use std::time::Instant;

fn rel_err(x: &[f64], r: &[f64]) -> f64 {
    let num: f64 = x.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = r.iter().map(|b| b * b).sum();
    (num / den).sqrt()
}

pub fn run(ctx: &Ctx) -> Result<(), String> {
    let (n, d) = (30_000, 200);
    let (a, b, _) = randnla::problems::sparse_ls_illmix(n, d, 0.03, 2e-8, 1e-3, ctx.seed)
        .map_err(|e| e.to_string())?;
    let av = MatrixRef::sparse(&a).map_err(|e| e.to_string())?;
    crate::cli::outln!(
        "A: {n} × {d}, nnz {}, collinear column pairs (κ ≈ 1e8); reference: dense Householder QR",
        a.nnz()
    );
    let par = ctx.par;
    let t = Instant::now();
    let xq = qr_solve(av, &b, 0.0, par).map_err(|e| e.to_string())?;
    let t_qr = t.elapsed().as_secs_f64();
    let mut rows = Vec::new();
    let mut push = |name: &str, secs: f64, iters: String, x: Option<&[f64]>, note: &str| {
        let (err, ner) = match x {
            Some(x) => (
                format!("{:.1e}", rel_err(x, &xq)),
                normal_equation_residual(av, x, &b, par)
                    .map(|v| format!("{v:.1e}"))
                    .unwrap_or_else(|e| e.to_string()),
            ),
            None => ("-".into(), "-".into()),
        };
        rows.push(vec![
            name.to_string(),
            format!("{secs:.3}"),
            iters,
            err,
            ner,
            note.to_string(),
        ]);
    };
    push("qr (dense)", t_qr, "-".into(), Some(&xq), "reference");

    let t = Instant::now();
    let ne = normal_equations(av, &b, 0.0, par);
    let secs = t.elapsed().as_secs_f64();
    match &ne {
        Ok(x) => push("normal equations", secs, "-".into(), Some(x), "squares κ"),
        Err(Error::Factorization { .. }) => push(
            "normal equations",
            secs,
            "-".into(),
            None,
            "Cholesky failed: AᵀA not numerically SPD",
        ),
        Err(e) => return Err(e.to_string()),
    }

    let t = Instant::now();
    let lp = LsqrParams {
        par,
        ..Default::default()
    };
    match lsqr(av, &b, &lp) {
        Ok((x, info)) => push(
            "lsqr",
            t.elapsed().as_secs_f64(),
            info.iterations.to_string(),
            Some(&x),
            "",
        ),
        Err(Error::NotConverged { iterations, .. }) => push(
            "lsqr",
            t.elapsed().as_secs_f64(),
            iterations.to_string(),
            None,
            "did not converge",
        ),
        Err(e) => return Err(e.to_string()),
    }

    let t = Instant::now();
    let sp = SketchSolveParams {
        seed: ctx.seed,
        par,
        ..Default::default()
    };
    let (xs, info) = sketch_and_solve(av, &b, &sp).map_err(|e| e.to_string())?;
    let secs = t.elapsed().as_secs_f64();
    // The measured ratio ‖Ax̃ − b‖ / ‖Ax_qr − b‖ beside the predicted √(1 + d/(m − d − 1)).
    let residual = |x: &[f64]| -> f64 {
        let mut r = b.clone();
        for (i, row) in a.outer_iterator().enumerate() {
            for (j, v) in row.iter() {
                r[i] -= v * x[j];
            }
        }
        r.iter().map(|v| v * v).sum::<f64>().sqrt()
    };
    push(
        "sketch-and-solve (m = 10d)",
        secs,
        "-".into(),
        Some(&xs),
        &format!(
            "residual ratio {:.3} (expected ≈ {:.3})",
            info.residual_norm / residual(&xq),
            info.expected_ratio
        ),
    );

    let t = Instant::now();
    let p = LstsqParams {
        seed: ctx.seed,
        par,
        ..Default::default()
    };
    let (x, info) = sketch_and_precondition(av, &b, &p).map_err(|e| e.to_string())?;
    push(
        "sketch-and-precondition",
        t.elapsed().as_secs_f64(),
        info.iterations.to_string(),
        Some(&x),
        &format!("κ(AR⁻¹) ≈ {:.2}", info.kappa_estimate),
    );
    crate::cli::table(
        &[
            "method",
            "seconds",
            "iterations",
            "‖x − x_qr‖/‖x_qr‖",
            "‖Aᵀr‖/(‖A‖‖r‖)",
            "note",
        ],
        &rows,
    );
    Ok(())
}
