//! Hand mutation review of the newest leverage-score factorizations (`src/leverage.rs`:
//! `TriangularFactor`, `PivotedQr::{new, ridge_factor}`, `triangular_over_diagonal_qr`,
//! `jl_factor`/`jl_in_basis`, `debias_factor`, the ridge path of `approx_impl`; `src/dense.rs`:
//! `householder_by_hand`, `exact_pivoted_qr`, `exact_r`; `src/active/mod.rs`: `Pool::new`'s
//! fallback to `exact_r`): tests that kill mutants the rest of the suite let through. Each
//! test's doc names the mutant (the one-line slip) and how it fails under it.
//!
//! 40 mutants (2026-12-07), each switched on by an environment variable in one build and run
//! against `cargo test --lib` (`leverage`, `dense`, `active`), `suite_sketch` (`leverage`),
//! `suite_contracts` (`leverage`) and `suite_solvers` (`leverage`, `active`).
//!
//! Killed by the suite (32). `PivotedQr`: threshold `rel_tol` without `|R₀₀|`; the repair's
//! `Q₂` not kept (`want_q = false`). `TriangularFactor`: no repair at all; the rank counted
//! before the repair; signs applied to `R` but not recorded for `Q̂`; `leading_pivots_above`
//! with `≥`, or counting every pivot above the threshold instead of the leading ones;
//! `misplaced_pivots` starting at `k + 2`, or reading `‖R[k..j, j]‖` without `R_jj`;
//! `repivot_trailing` copying the Householder vectors below the diagonal into `R₂₂`, not
//! permuting `R₁₂`, not writing back the diagonal, not updating `perm`; `solve_scatter`
//! without the scatter. `ridge_factor`: `1/ρ` for `1/√ρ`; the shift lowering with its sign
//! flipped; ridge entries at the unlowered shifts; no repair of the trailing block; no sign
//! fix. `triangular_over_diagonal_qr`: `L[0..j, j]` for `L[0..=j, j]`; the diagonal entry
//! `+sign·‖x‖`; the threaded update summing the dot product in another order (bits on 2
//! threads); `f = vᵀc/vᵀv` without the 2; `v` one entry short. `jl_in_basis`: `Q₂` for
//! `Q₂ᵀ`. `debias_factor`: `> 1` for `≥ 1`. `approx_impl`: `d̂_λ` from the sketch's rank for
//! the ridge rank; `ρ` computed but the unscaled ridge factor used; the scores of `λ > 0`
//! multiplied by `ρ` too. `householder_by_hand`: `v₀ − sign` for `v₀ + sign`; `exact_pivoted_qr`
//! returning `Q₂ᵀ` for `Q₂`. `Pool::new`: no fallback to `exact_r`.
//!
//! Killed by the tests below and the two unit tests added with them (8): the ridge cap
//! `−exponent(√λ) + 1` and the largest column norm without the ridge entries
//! (`the_ridge_rank_threshold_is_tol_times_the_largest_lowered_column_norm`);
//! `householder_by_hand` stopping at a zero residual without pivoting
//! (`the_pool_reports_the_rank_of_a_sketch_with_a_zero_column`); the pool's fallback only when
//! two pivots are missing (`the_pool_refactors_a_sketch_that_misses_a_single_pivot`); the
//! by-hand QR reflecting only the first `min(rows, cols)` columns
//! (`the_repair_of_a_wide_matrix_gives_the_exact_scores`); its column swap skipping the rows
//! above `k` (`approximate_scores_without_jl_are_the_scores_in_the_sketch_metric`); in
//! `src/dense.rs`, the pivot test `≥` (`exact_pivoting_takes_the_first_of_equal_columns`); in
//! `src/leverage.rs`, `misplaced_pivots` reading `|R_jj|` alone
//! (`a_residual_above_a_small_diagonal_entry_counts_as_misplaced`: no input of the suite, nor
//! the 600 × 60 and 40 × 60 hidden-rank inputs, has a later residual that sits above its own
//! diagonal entry, so it is built by hand on a `TriangularFactor`).
//!
//! Survivors: none. No mutant exposed a bug in the original code.
use crate::common;

use common::rank::{faer_misorders, hidden_rank};
use common::{dense, gauss};
use faer::{Mat, Par};
use randnla::active::{Basis, Pool};
use randnla::leverage::{
    approx_leverage_scores, approx_ridge_leverage_scores, exact_leverage_scores, ApproxParams,
    ExactMethod, ExactParams,
};
use randnla::sketch::SketchExt;
use randnla::{Error, Seed};

/// `e` with `2^e ≤ |x| < 2^{e+1}` for a normal `x > 0` (read off the bits).
fn exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

/// The shift `s` that brings a positive `x` into `[1, 2)`: `x·2^s ∈ [1, 2)`.
fn shift_into_unit(x: f64) -> i32 {
    -exponent(x)
}

/// [`randnla::leverage::LeverageInfo::rank_threshold`] of the approximate ridge scores is, as
/// documented, `tol` times the largest column norm of the factored matrix `[S₁A·D/√ρ; √λ·D]`,
/// its columns equilibrated by powers of two: `D_jj = 2^{min(s_j, c)}` with `s_j` bringing
/// column `j` of `S₁A` into `[1, 2)` and `c` bringing the ridge entry `√λ·2^c` into `[1, 2)`
/// ([`PivotedQr::ridge_factor`]'s lowered shifts). Input: a `2000 × 5` Gaussian `A` at
/// `λ = 10⁶` (every column small against `√λ = 1000`, so every shift is lowered and the ridge
/// entries, in `[1, 2)`, are the largest), with and without debiasing (`ρ` read from the info).
/// `S₁A` is recomputed from [`ApproxParams::sketch`] with the same seed. Pass rule: relative
/// difference `≤ 10⁻¹²`. Kills the cap `−exponent(√λ) + 1` (ridge entries in `[2, 4)`, the
/// threshold doubled; every score is the same bits, the columns scale by powers of two) and
/// the largest column norm taken without the ridge entries.
#[test]
fn the_ridge_rank_threshold_is_tol_times_the_largest_lowered_column_norm() {
    let (n, d, lambda) = (2000, 5, 1e6);
    let a = gauss(n, d, 31);
    let seed = Seed::new(4);
    for debias in [false, true] {
        let params = ApproxParams {
            debias,
            ..ApproxParams::default()
        };
        let (_, info) =
            approx_ridge_leverage_scores(dense(&a), lambda, &params, seed, Par::Seq).unwrap();
        let sa = params
            .sketch(n, d, seed)
            .unwrap()
            .apply(dense(&a), Par::Seq)
            .unwrap();
        let cap = shift_into_unit(lambda.sqrt());
        let rho = info.debias_factor;
        let largest = (0..d)
            .map(|j| {
                let col = sa.col(j);
                let top = col.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                let s = shift_into_unit(top).min(cap);
                let scale = 2f64.powi(s);
                (col.norm_l2() * scale / rho.sqrt()).hypot(lambda.sqrt() * scale)
            })
            .fold(0.0, f64::max);
        let tol = n as f64 * f64::EPSILON;
        let want = tol * largest;
        let rel = (info.rank_threshold - want).abs() / want;
        assert!(
            rel <= 1e-12,
            "debias {debias}: threshold {:e}, want {want:e}",
            info.rank_threshold
        );
        assert_eq!(info.rank, d);
    }
}

/// [`Pool::new`] reports the numerical rank of a refused sketch: `X` (`8 × 4`, `m₁ = n`, so
/// `R` is that of `X` itself) has `e₀` as column 0, a zero column 1, and columns 2 and 3 with a
/// zero in rows 2 and 3 respectively (otherwise nonzero): rank 3 of 4. faer's staircase after
/// the zero column sends the pool to the by-hand QR, whose every nonzero residual is reflected,
/// so `R₂₂` and `R₃₃` are the norms of the residuals below row 1, nonzero. Pass rule:
/// `RankDeficient { rank: 3, required: 4 }`. Kills the by-hand QR stopping at the zero residual
/// (`continue` → `break` in `householder_by_hand` without pivoting): columns 2 and 3 are then
/// never reflected, their diagonal entries are `X₂₂ = X₃₃ = 0`, and the rank comes out 1.
#[test]
fn the_pool_reports_the_rank_of_a_sketch_with_a_zero_column() {
    let x = Mat::from_fn(8, 4, |i, j| match j {
        0 => f64::from(u8::from(i == 0)),
        1 => 0.0,
        _ if i == j => 0.0,
        _ => 1.0 + (i * j) as f64 / 8.0 + if i % 2 == 0 { 0.5 } else { -0.25 },
    });
    let built = Pool::new(
        dense(&x),
        Basis::Sketched {
            sketch_rows: Some(8),
        },
        Seed::new(1),
        Par::Seq,
    );
    assert!(
        matches!(
            built,
            Err(Error::RankDeficient {
                rank: 3,
                required: 4
            })
        ),
        "{:?}",
        built.map(|p| p.scores().to_vec())
    );
}

/// The pool's fallback to the by-hand QR when faer's `R` misses a single pivot: `X`
/// (`2000 × 3`, `m₁ = n`, so `R` is that of `X` itself) has Gaussian columns 0 and 2 and
/// column 1 = column 0 plus `4·10⁻¹²` times a fresh Gaussian vector, so its residual (about
/// `4·10⁻¹²` of its norm, four times the rank tolerance `10⁻¹²`) is below faer's
/// `16·(m − k)·ε ≈ 7·10⁻¹²` floor: faer's `R` has rank 2 = d − 1 (observed with the fallback
/// switched off: refused as rank 2). Pass rule: the pool is built, and its scores, the exact
/// leverage scores here, sum to 3 and match the Householder scores within `10⁻³` (`ε·κ` with
/// `κ ≈ 10¹²`; measured: the sum is off by `1.3·10⁻⁶`). Kills the fallback taken only when two
/// or more pivots are missing (`rank + 1 < d` for `rank < d`): refused as rank 2.
#[test]
fn the_pool_refactors_a_sketch_that_misses_a_single_pivot() {
    let n = 2000;
    let g = gauss(n, 4, 41);
    let x = Mat::from_fn(n, 3, |i, j| match j {
        1 => g[(i, 0)] + 4e-12 * g[(i, 3)],
        _ => g[(i, j)],
    });
    let pool = Pool::new(
        dense(&x),
        Basis::Sketched {
            sketch_rows: Some(n),
        },
        Seed::new(1),
        Par::Seq,
    )
    .expect("a column 4e-12 from another is above the tolerance 1e-12");
    let householder = ExactParams {
        method: ExactMethod::Householder,
        ..ExactParams::default()
    };
    let (exact, info) = exact_leverage_scores(dense(&x), &householder, Par::Seq).unwrap();
    assert_eq!(info.rank, 3);
    let sum: f64 = pool.scores().iter().sum();
    assert!((sum - 3.0).abs() <= 1e-3, "Σ = {sum}");
    let worst = pool
        .scores()
        .iter()
        .zip(&exact)
        .map(|(s, e)| (s - e).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-3, "largest score error {worst:e}");
}

/// `diag(B·(BᵀMB)⁻¹·Bᵀ)` for a full-column-rank `B` and `M = CᵀC` given as `C·B`: the squared
/// row norms of `B·R⁻¹` for the `R` of `C·B`, the scores any basis of `range(B)` gives.
fn scores_in_metric(b: &Mat<f64>, cb: &Mat<f64>) -> Vec<f64> {
    let r = cb.qr().R().to_owned();
    let k = b.ncols();
    let r = r.as_ref().submatrix(0, 0, k, k);
    (0..b.nrows())
        .map(|i| {
            // Row i of B·R⁻¹ by forward substitution on Rᵀ.
            let mut y = vec![0.0; k];
            for j in 0..k {
                let s = (0..j).fold(b[(i, j)], |acc, l| acc - y[l] * r[(l, j)]);
                y[j] = s / r[(j, j)];
            }
            y.iter().map(|v| v * v).sum()
        })
        .collect()
}

/// The repair on a wide matrix: [`hidden_rank`] with `n = 40` rows and `d = 60` columns (20
/// Gaussian, 30 duplicates, 10 nearly dependent: rank 30), which faer misorders (premise), so
/// that the trailing block factored again is wide (`t × (d − k)`, `t = n − k < d − k`). Pass
/// rule: the Householder route reports rank 30 and every score lies within `10⁻³` of the exact
/// `diag(B(BᵀB)⁻¹Bᵀ)` (`ε·κ` for `κ ≈ 3·10¹²`; measured `2·10⁻⁴`). Kills `exact_pivoted_qr`
/// reflecting only the first `min(t, d − k)` columns of the trailing block, a bound slip
/// invisible on the square blocks of tall inputs: a column never reflected keeps a stale norm
/// and is pivoted, rank 32 and a score error of 0.35.
#[test]
fn the_repair_of_a_wide_matrix_gives_the_exact_scores() {
    let (a, b) = hidden_rank(40, 20, 30, 10, 0);
    assert!(faer_misorders(&a), "faer pivots this input correctly");
    let params = ExactParams {
        method: ExactMethod::Householder,
        ..ExactParams::default()
    };
    let (scores, info) = exact_leverage_scores(dense(&a), &params, Par::Seq).unwrap();
    assert_eq!(info.rank, 30);
    let exact = scores_in_metric(&b, &b);
    let worst = scores
        .iter()
        .zip(&exact)
        .map(|(s, e)| (s - e).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-3, "largest score error {worst:e}");
}

/// The approximate scores without a JL stage (`jl_dim = 0`) and without debiasing are, as
/// documented, `‖e_iᵀA·P₁R₁₁⁻¹‖²` for the `R` of `S₁A`: the leverage scores of `A` in the
/// metric of the sketch, `diag(B·(BᵀS₁ᵀS₁B)⁻¹·Bᵀ)` for any basis `B` of `range(A)`. Input:
/// [`hidden_rank`] with `600 × 60` (rank 50; the sketch, `240 × 60`, has its pivots
/// misordered and repaired over many steps); `S₁` is recomputed from [`ApproxParams::sketch`]
/// and `B` is the exact basis of the construction. Pass rule: rank 50, every score within
/// `10⁻³` relative of the reference (`ε·κ`, `κ ≈ 3·10¹²`). Kills `householder_by_hand`
/// swapping the pivot column only from row `k` on (the rows above, `R`'s entries of the two
/// columns, stay behind): `R₁₁` of the repaired factor is then wrong above its diagonal,
/// which the Householder route, reading only `Q`, cannot see.
#[test]
fn approximate_scores_without_jl_are_the_scores_in_the_sketch_metric() {
    let (a, b) = hidden_rank(600, 40, 10, 10, 0);
    let (n, d) = a.shape();
    let params = ApproxParams {
        sketch_rows: Some(240),
        jl_dim: 0,
        debias: false,
        ..ApproxParams::default()
    };
    let seed = Seed::new(9);
    let (scores, info) = approx_leverage_scores(dense(&a), &params, seed, Par::Seq).unwrap();
    assert_eq!(info.rank, 50);
    let sb = params
        .sketch(n, d, seed)
        .unwrap()
        .apply(dense(&b), Par::Seq)
        .unwrap();
    let want = scores_in_metric(&b, &sb);
    let worst = scores
        .iter()
        .zip(&want)
        .map(|(s, w)| (s / w - 1.0).abs())
        .fold(0.0, f64::max);
    eprintln!("largest relative error {worst:e}");
    assert!(worst <= 1e-3, "largest relative error {worst:e}");
}
