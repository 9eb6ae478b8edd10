//! Second review of `diagnostics` (bases, condition numbers, distortion) and `problems` (the
//! seeded test-problem generators): rank decisions on inputs whose dependent column is long or
//! whose Gram matrix hides the dependence, and the generators' promises measured against dense
//! references. The first review's tests (`sampling_diagnostics_review.rs`,
//! `input_problems_review.rs`) are not repeated.

use faer::{Mat, Par};
use randnla::diagnostics::*;
use randnla::problems::*;
use randnla::sketch::SparseSign;
use randnla::{Error, MatrixRef, Seed};

/// `orthonormal_basis` compared `R_jj` with `max(n, d)·u·max_k |R_kk|`; a dependent column
/// leaves noise of about `u·‖a_j‖` in its own `R_jj`, so a *long* dependent column beside short
/// independent ones passed: `[g₀, g₁, g₂, m·(g₀ + g₁)]` (256 × 4, rank 3) gave a `Q` for
/// `m = 10³, 10⁶, 10¹⁰`, and `distortion_on_range` measured `κ = 1.3747` on that 4-dimensional
/// basis of a 3-dimensional range. NumPy: `matrix_rank` 3, `σ_min/σ_max ≈ 10⁻¹⁷`.
#[test]
fn a_long_dependent_column_is_rank_deficient() {
    let g = gaussian_matrix(256, 4, Seed::new(1)).unwrap();
    let s = SparseSign::new(40, 256, 8, Seed::new(2)).unwrap();
    for m in [2.0, 1e3, 1e6, 1e10] {
        let a = Mat::from_fn(256, 4, |i, j| {
            if j < 3 {
                g[(i, j)]
            } else {
                m * (g[(i, 0)] + g[(i, 1)])
            }
        });
        let r = orthonormal_basis(a.as_ref());
        assert!(
            matches!(
                r,
                Err(Error::RankDeficient {
                    rank: 3,
                    required: 4
                })
            ),
            "m = {m:e}: {:?}",
            r.map(drop)
        );
        let r = distortion_on_range(&s, MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq);
        assert!(
            matches!(r, Err(Error::RankDeficient { .. })),
            "m = {m:e}: {r:?}"
        );
        // The same long column made independent (κ ≈ 3·m) keeps its basis.
        let b = Mat::from_fn(256, 4, |i, j| {
            if j < 3 {
                g[(i, j)]
            } else {
                m * (g[(i, 0)] + g[(i, 1)]) + g[(i, 3)]
            }
        });
        let q = orthonormal_basis(b.as_ref()).unwrap();
        let qtq = q.transpose() * &q;
        assert!((qtq - Mat::<f64>::identity(4, 4)).norm_l2() < 1e-13);
    }
}
