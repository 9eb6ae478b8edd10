//! Second review of `diagnostics` (bases, condition numbers, distortion) and `problems` (the
//! seeded test-problem generators): rank decisions on inputs whose dependent column is long or
//! whose Gram matrix hides the dependence, and the generators' promises measured against dense
//! references. The first review's tests (`sampling_diagnostics_review.rs`,
//! `input_problems_review.rs`) are not repeated.

use faer::prelude::Solve;
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

/// The Cholesky route of `RangeBasis` (more than `2·10⁷` entries) refused a dependent column
/// only when the pivot of `AᵀA` came out `≤ 0`; rounding makes it a tiny positive number about
/// half of the time (`≈ 2·10⁻⁸·‖a_j‖`), and then a `7·10⁶ × 3` sparse `A` with column 2
/// `= 3·a₀ + 0.1·a₁` (rank 2) measured `κ(SQ) = 3.5·10⁷`, a number of no meaning, as `Ok`.
#[test]
fn the_cholesky_route_refuses_a_dependent_column_whose_pivot_stays_positive() {
    let n = 7_000_000usize;
    let build = |dependent: bool| {
        let mut tri = sprs::TriMat::new((n, 3));
        for k in 0..400usize {
            let i = (k * 7919 * 1237) % n;
            let v = ((k * 31) % 17) as f64 * 0.37 + 0.1;
            let w = ((k * 13) % 11) as f64 * 0.71 - 3.0;
            let z = if dependent {
                0.0
            } else {
                ((k * 7) % 5) as f64 - 2.0
            };
            tri.add_triplet(i, 0, v);
            tri.add_triplet(i, 1, w);
            tri.add_triplet(i, 2, 3.0 * v + 0.1 * w + z);
        }
        tri.to_csr()
    };
    let a = build(true);
    let r = RangeBasis::new(MatrixRef::sparse(&a).unwrap(), Par::Seq);
    assert!(
        matches!(
            r,
            Err(Error::RankDeficient {
                rank: 2,
                required: 3
            })
        ),
        "{r:?}"
    );
    // Independent third column: measured, and as the exact route measures it.
    let b = build(false);
    let s = SparseSign::new(40, n, 8, Seed::new(2)).unwrap();
    let view = MatrixRef::sparse(&b).unwrap();
    let kappa = distortion_on_range(&s, view, Par::Seq).unwrap();
    let sb = randnla::sketch::SketchExt::apply(&s, view, Par::Seq).unwrap();
    let rows: Vec<usize> = (0..n)
        .filter(|&i| b.outer_view(i).unwrap().nnz() > 0)
        .collect();
    let compact = Mat::from_fn(rows.len(), 3, |r, j| {
        b.get(rows[r], j).copied().unwrap_or(0.0)
    });
    // κ((SA)·R⁻¹) with R from the QR of the stored rows (the zero rows add nothing to AᵀA).
    let rr = compact.qr().R().to_owned();
    let x = Mat::from_fn(sb.nrows(), 3, |i, j| sb[(i, j)]);
    let xr = rr
        .transpose()
        .partial_piv_lu()
        .solve(x.transpose().to_owned())
        .transpose()
        .to_owned();
    let sv = xr.singular_values().unwrap();
    let exact =
        sv.iter().cloned().fold(0.0, f64::max) / sv.iter().cloned().fold(f64::MAX, f64::min);
    assert!((kappa - exact).abs() < 1e-8 * exact, "{kappa} vs {exact}");
}

/// `2ᵏ` exactly, for `-1074 ≤ k ≤ 1023`.
fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// `RangeBasis` documents that its result "does not depend on the scale of `A`", and the large
/// route scaled `A` by a power of two before forming `AᵀA` — but sketched the unscaled `A` and
/// scaled `S·A` afterwards: a `7·10⁶ × 3` sparse `A` of small integers times `2¹⁰¹⁷` was
/// refused ("the sketch S·A ... overflowed", where the exact route of a small `A` measures it),
/// and times `2⁻¹⁰⁶⁰` (entries exact, subnormal) measured with a relative error of about
/// `10⁻⁶` (its sums were rounded on the subnormal grid). Both now give the unscaled value to
/// `10⁻¹²`.
#[test]
fn the_cholesky_route_sketches_a_scaled_copy() {
    let n = 7_000_000usize;
    let build = |scale: f64| {
        let mut tri = sprs::TriMat::new((n, 3));
        for k in 0..400usize {
            let i = (k * 7919 * 1237) % n;
            let v = ((k * 31) % 17) as f64 + 1.0;
            let w = ((k * 13) % 11) as f64 - 5.0;
            let z = ((k * 7) % 5) as f64 - 2.0;
            tri.add_triplet(i, 0, scale * v);
            tri.add_triplet(i, 1, scale * w);
            tri.add_triplet(i, 2, scale * (3.0 * v + w + z));
        }
        tri.to_csr()
    };
    let s = SparseSign::new(40, n, 8, Seed::new(2)).unwrap();
    let a = build(1.0);
    let kappa = distortion_on_range(&s, MatrixRef::sparse(&a).unwrap(), Par::Seq).unwrap();
    assert!(kappa.is_finite() && kappa > 1.0);
    for k in [1012, 1017, -1060] {
        let a = build(pow2(k));
        let got = distortion_on_range(&s, MatrixRef::sparse(&a).unwrap(), Par::Seq);
        assert!(
            matches!(got, Ok(g) if (g - kappa).abs() <= 1e-12 * kappa),
            "2^{k}: {got:?} vs {kappa}"
        );
    }
}

/// `sparse_ls_illmix(0, 4, ..)` was refused as an invalid `d` ("need n ≥ 1 and d ≥ 2, got
/// 0×4"): the parameter named was the valid one. The name is now the one that fails.
#[test]
fn illmix_names_the_dimension_it_refuses() {
    let name = |n, d| match sparse_ls_illmix(n, d, 0.5, 1e-3, 0.0, Seed::new(1)) {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("{n}×{d}: {:?}", other.map(drop)),
    };
    assert_eq!(name(0, 4), "n");
    assert_eq!(name(10, 1), "d");
    assert_eq!(name(10, 0), "d");
}

/// `coherent_matrix` promised leverage scores ≈ 1 on its first `d` rows for every `scale`; they
/// are `e_iᵀ(I + scale²·GᵀG)⁻¹e_i ≈ 1/(1 + scale²·(n − d))`, which is ≈ 1 only when
/// `scale²·(n − d) ≪ 1` (at `scale = 1`, `2000 × 10`, about `5·10⁻⁴`). The doc now states the
/// formula; this checks it in both regimes (within 10 % — `GᵀG/(n − d)` is `I` only on average).
#[test]
fn coherent_matrix_leverage_follows_the_documented_formula() {
    for (n, d, scale) in [
        (2000usize, 10usize, 1e-3),
        (2000, 10, 1.0),
        (5000, 20, 1e-2),
    ] {
        let a = coherent_matrix(n, d, scale, Seed::new(8)).unwrap();
        let q = orthonormal_basis(a.as_ref()).unwrap();
        let predicted = 1.0 / (1.0 + scale * scale * (n - d) as f64);
        for i in 0..d {
            let lev: f64 = (0..d).map(|j| q[(i, j)] * q[(i, j)]).sum();
            assert!(
                (lev - predicted).abs() < 0.1 * predicted,
                "{n}×{d}, scale {scale}: row {i} leverage {lev} vs {predicted}"
            );
        }
    }
}
