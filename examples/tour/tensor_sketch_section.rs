//! Tour section: TensorSketch features of the polynomial kernel ⟨x, y⟩^p.
//!
//! Kernel-matrix error ‖ΦΦᵀ − K‖_F/‖K‖_F against the number of features m for p = 2, 3, 4 on
//! 300 clustered rows in ℝ⁴⁰ (8 unit centres, noise 0.3: `clustered_rows`), with the FFT
//! TensorSketch and the tree sketch, and — for contrast — on 300 iid Gaussian rows, whose kernel
//! matrix is nearly diagonal so that the *relative* error stays large.
use crate::Ctx;
use randnla::sketch::tensor::{clustered_rows, PolyKernelFeatures, PolyKernelParams, TensorMethod};
use randnla::{problems, MatrixRef};

pub fn run(ctx: &Ctx) -> Result<(), String> {
    let (n, d) = (300, 40);
    let clustered = clustered_rows(n, d, 8, 0.3, ctx.seed).map_err(|e| e.to_string())?;
    let iid = problems::gaussian_matrix(n, d, ctx.seed).map_err(|e| e.to_string())?;
    let error = |x: &faer::Mat<f64>, degree, sketch_dim, method| -> Result<f64, String> {
        let params = PolyKernelParams {
            degree,
            sketch_dim,
            method,
            ..Default::default()
        };
        let view = MatrixRef::dense(x.as_ref()).map_err(|e| e.to_string())?;
        let phi =
            PolyKernelFeatures::new(d, params, ctx.seed.derive(0x5e)).map_err(|e| e.to_string())?;
        let f = phi.transform(view, ctx.par).map_err(|e| e.to_string())?;
        phi.kernel_error(view, f.as_ref(), n, ctx.par)
            .map_err(|e| e.to_string())
    };
    let mut rows = Vec::new();
    for p in [2usize, 3, 4] {
        for m in [256usize, 1024, 4096] {
            rows.push(vec![
                p.to_string(),
                m.to_string(),
                format!("{:.3}", error(&clustered, p, m, TensorMethod::Fft)?),
                format!("{:.3}", error(&clustered, p, m, TensorMethod::Tree)?),
                format!("{:.3}", error(&iid, p, m, TensorMethod::Fft)?),
            ]);
        }
    }
    crate::cli::outln!(
        "‖ΦΦᵀ − K‖_F/‖K‖_F, K = ⟨x,y⟩^p, n = {n}, d = {d} (error ∝ m^-1/2: 4× m halves it)"
    );
    crate::cli::table(
        &["p", "m", "clustered TS", "clustered tree", "iid TS"],
        &rows,
    );
    Ok(())
}
