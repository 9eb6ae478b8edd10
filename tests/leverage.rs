//! Acceptance tests for leverage scores and row sampling (ALGORITHMS.md §4).

use crate::common;

use common::*;
use faer::{Mat, Par};
use randnla::leverage::*;
use randnla::sketch::sampling::{row_norm_weights, RowSampling};
use randnla::sketch::{SketchExt, SketchOperator};
use randnla::{diagnostics, problems, Error, MatrixRef, Seed};

fn exact(a: MatrixRef<'_, f64>) -> (Vec<f64>, LeverageInfo) {
    exact_leverage_scores(a, &ExactParams::default(), Par::Seq).unwrap()
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The table of per-row relative errors in the docs of `ApproxParams`, reproduced row by row on
/// sketches it was not measured on: `20000 × 50` Gaussian matrix (seed 1); the table
/// (`common::APPROX_ERROR_TABLE`) pools the median, 90 % and 99 % quantiles of
/// `|ℓ̃_i − ℓ_i|/ℓ_i` over sketch seeds 0–239; this test takes the median over sketch seeds
/// 1000–1004 of each sketch's quantiles. Pass rule (`common::approx_error_rule`): each within its
/// relative tolerance of the table, 0.06–0.37 by row and quantile, the spread of that median of
/// 5 over 4000 random 5-seed subsets of the 240 seeds (`|bias| + 4 sd` or the largest deviation
/// seen, whichever is larger). It replaced "seeds 0–2 pooled, within `0.01 + 3 %` of the table
/// printed from seeds 0–2", which held on 0–2 only (the seed audit, `tests/seed_review.rs`).
/// What it catches: scaling the errors by `f` scales every median by `f`; on these seeds (every
/// deviation within −0.13 … +0.02) a 30 % loss of accuracy fails 22 of the 27 entries, in every
/// row, and a 10 % loss fails the medians of `m₁ = 10d, r₂ = 0` (+0.11 against 0.06) and
/// `m₁ = 20d, r₂ = 400` (+0.12 against 0.06).
/// The docs' claim that the coherent and Cauchy-row matrices agree within ±0.01 in the median is
/// checked for the defaults (seeds 0–2 pooled; the Gaussian's triple-pooled median has sd 0.0014
/// over seed triples, so ±0.01 is 7 sd).
#[test]
fn approx_error_table_is_reproduced() {
    let (n, d) = (20_000, 50);
    let quantiles = |a: &Mat<f64>, m1: usize, r2: usize, debias: bool| {
        let (ex, _) = exact(dense(a));
        common::approx_error_quantiles(a, &ex, (m1, r2, debias), 0..3)
    };
    let gaussian = problems::gaussian_matrix(n, d, Seed::new(1)).unwrap();
    let (ex, _) = exact(dense(&gaussian));
    let failures = common::approx_error_rule(&gaussian, &ex, 1000..1005);
    assert!(failures.is_empty(), "{failures:#?}");
    let default_median = quantiles(&gaussian, 10, 100, true)[0];
    for (name, a) in [
        (
            "coherent",
            problems::coherent_matrix(n, d, 1e-3, Seed::new(2)).unwrap(),
        ),
        ("cauchy", problems::cauchy_rows(n, d, Seed::new(3)).unwrap()),
    ] {
        let median = quantiles(&a, 10, 100, true)[0];
        assert!(
            (median - default_median).abs() <= 0.01,
            "{name}: median {median} against {default_median} (Gaussian)"
        );
    }
}

/// `n × d` Gaussian with columns `r..d` replaced by combinations of the first `r` (rank `r`).
fn rank_deficient(n: usize, d: usize, r: usize, seed: u64) -> Mat<f64> {
    let g = problems::gaussian_matrix(n, d, Seed::new(seed)).unwrap();
    Mat::from_fn(n, d, |i, j| {
        if j < r {
            g[(i, j)]
        } else {
            (0..r).map(|k| g[(i, k)] * ((j * 7 + k) % 5) as f64).sum()
        }
    })
}

fn exact_with(a: MatrixRef<'_, f64>, method: ExactMethod, lambda: f64) -> (Vec<f64>, LeverageInfo) {
    let p = ExactParams {
        method,
        ..Default::default()
    };
    exact_ridge_leverage_scores(a, lambda, &p, Par::Seq).unwrap()
}

fn assert_close_rows(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * y.abs().max(1e-300),
            "{what}: row {i}: {x} vs {y}"
        );
    }
}

const METHODS: [ExactMethod; 2] = [ExactMethod::Householder, ExactMethod::SketchCholesky];

#[test]
fn exact_scores_sum_to_the_rank_and_lie_in_the_unit_interval() {
    let full = problems::gaussian_matrix(600, 20, Seed::new(1)).unwrap();
    let deficient = rank_deficient(600, 20, 13, 2);
    let mut zero_col = problems::gaussian_matrix(600, 20, Seed::new(3)).unwrap();
    for i in 0..600 {
        zero_col[(i, 4)] = 0.0;
    }
    for (name, a, rank) in [
        ("full", &full, 20),
        ("rank 13", &deficient, 13),
        ("zero column", &zero_col, 19),
    ] {
        for method in METHODS {
            let (s, info) = exact_with(dense(a), method, 0.0);
            assert_eq!(info.rank, rank, "{name} {method:?}");
            let sum: f64 = s.iter().sum();
            assert!(
                (sum - rank as f64).abs() < 1e-9,
                "{name} {method:?}: Σℓ = {sum}"
            );
            assert!((info.sum - sum).abs() < 1e-12);
            assert!(
                s.iter().all(|&x| (0.0..=1.0 + 1e-12).contains(&x)),
                "{name}"
            );
        }
    }
    // `rank_tol: Some(0.0)` drops exactly zero pivots only: Householder QR leaves the zero
    // column's pivot exactly 0 (reflections map a zero vector to zero).
    let zero_tol = ExactParams {
        method: ExactMethod::Householder,
        rank_tol: Some(0.0),
        ..Default::default()
    };
    let (s, info) = exact_leverage_scores(dense(&zero_col), &zero_tol, Par::Seq).unwrap();
    assert_eq!(info.rank, 19);
    let sum: f64 = s.iter().sum();
    assert!((sum - 19.0).abs() < 1e-9, "Σℓ = {sum}");
    // A wide matrix has rank n: every score is 1.
    let wide = problems::gaussian_matrix(5, 9, Seed::new(4)).unwrap();
    let (s, info) = exact(dense(&wide));
    assert_eq!(info.rank, 5);
    assert_close_rows(&s, &[1.0; 5], 1e-12, "wide");
    // The approximate method takes the exact route for it (n ≤ 10d) before sizing the
    // 10d × d sketch it will not build: 50 × 15 000 used to be TooLarge.
    let very_wide = problems::gaussian_matrix(50, 15_000, Seed::new(4)).unwrap();
    let (s, info) = approx_leverage_scores(
        dense(&very_wide),
        &ApproxParams::default(),
        Seed::new(1),
        Par::Seq,
    )
    .unwrap();
    assert_eq!(info.rank, 50);
    assert_close_rows(&s, &[1.0; 50], 1e-12, "very wide, approx");
    // The zero matrix has rank 0 and zero scores.
    let (s, info) = exact(dense(&Mat::zeros(7, 3)));
    assert_eq!((info.rank, s.iter().sum::<f64>()), (0, 0.0));
}

#[test]
fn exact_scores_match_the_definition_and_both_factorizations_agree() {
    // ℓ_i = ‖U_i‖² from a thin SVD, computed independently of the crate.
    for (name, a) in [
        (
            "coherent",
            problems::coherent_matrix(3000, 25, 1e-3, Seed::new(5)).unwrap(),
        ),
        (
            "cauchy",
            problems::cauchy_rows(3000, 25, Seed::new(6)).unwrap(),
        ),
    ] {
        let svd = a.thin_svd().unwrap();
        let u = svd.U();
        let reference: Vec<f64> = (0..a.nrows())
            .map(|i| (0..a.ncols()).map(|j| u[(i, j)] * u[(i, j)]).sum())
            .collect();
        for method in METHODS {
            let (s, info) = exact_with(dense(&a), method, 0.0);
            assert_eq!(info.rank, 25);
            // Relative agreement per row; rows of leverage < 1e-12 are compared absolutely.
            for (i, (x, y)) in s.iter().zip(&reference).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-9 * y + 1e-15,
                    "{name} {method:?} row {i}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn sparse_layouts_give_the_same_exact_and_approximate_scores() {
    let layouts = Layouts::new(problems::random_sparse(12_000, 30, 4, Seed::new(7)).unwrap());
    let views = layouts.views();
    let (reference, _) = exact_with(views[0].1, ExactMethod::Householder, 0.0);
    let approx_ref =
        approx_leverage_scores(views[0].1, &ApproxParams::default(), Seed::new(1), Par::Seq)
            .unwrap()
            .0;
    for (name, view) in &views {
        for method in METHODS {
            let (s, _) = exact_with(*view, method, 0.0);
            assert_close_rows(&s, &reference, 1e-9, &format!("{name} {method:?}"));
        }
        let (ap, _) =
            approx_leverage_scores(*view, &ApproxParams::default(), Seed::new(1), Par::Seq)
                .unwrap();
        if name.starts_with("cs") {
            // CSR and CSC run the same row kernel: bitwise equal.
            assert!(
                ap.iter()
                    .zip(&approx_ref)
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{name}"
            );
        } else {
            assert_close_rows(&ap, &approx_ref, 1e-10, name);
        }
    }
}

/// d_λ = Σ μ_j/(μ_j + λ) over the eigenvalues μ_j of AᵀA, computed independently.
fn stat_dim_reference(a: &Mat<f64>, lambda: f64) -> f64 {
    let ata = a.transpose() * a;
    let eig = ata.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    eig.iter()
        .map(|&mu| mu.max(0.0) / (mu.max(0.0) + lambda))
        .sum()
}

#[test]
fn ridge_scores_sum_to_the_statistical_dimension() {
    let a = problems::cauchy_rows(2000, 15, Seed::new(8)).unwrap();
    let deficient = rank_deficient(2000, 15, 9, 9);
    for (name, a) in [("cauchy", &a), ("rank 9", &deficient)] {
        let ata = a.transpose() * a;
        for lambda in [0.0, 1e-3, 1.0, 100.0, 1e4] {
            let d_lambda = if lambda == 0.0 {
                if name == "cauchy" {
                    15.0
                } else {
                    9.0
                }
            } else {
                stat_dim_reference(a, lambda)
            };
            for method in METHODS {
                let (s, info) = exact_with(dense(a), method, lambda);
                assert!(
                    (info.sum - d_lambda).abs() < 1e-8 * d_lambda.max(1.0),
                    "{name} λ={lambda} {method:?}: Σ τ = {} vs d_λ = {d_lambda}",
                    info.sum
                );
                assert!(s.iter().all(|&x| (0.0..=1.0 + 1e-12).contains(&x)));
                if lambda > 0.0 {
                    // τ_i = a_iᵀ(AᵀA + λI)⁻¹a_i directly, for a few rows.
                    let mut m = ata.clone();
                    for j in 0..15 {
                        m[(j, j)] += lambda;
                    }
                    let llt = m.llt(faer::Side::Lower).unwrap();
                    for i in [0, 17, 1999] {
                        let ai = a.row(i).transpose().to_owned();
                        let x = faer::linalg::solvers::Solve::solve(&llt, &ai);
                        let tau: f64 = (0..15).map(|j| ai[j] * x[j]).sum();
                        assert!((s[i] - tau).abs() <= 1e-8 * tau + 1e-14, "{name} row {i}");
                    }
                }
            }
            if lambda > 0.0 {
                let sd = statistical_dimension(dense(a), lambda, Par::Seq).unwrap();
                assert!((sd - d_lambda).abs() < 1e-8 * d_lambda);
                // Approximate ridge scores, 10 seeds. Σ: measured over 40 seeds on the rank-9
                // matrix, mean 9.08 for d_λ ≈ 9 and a per-seed standard deviation ≈ 0.45 (5 %), so
                // the mean over 10 seeds must be within 5 % (≈ 3 standard deviations; one seed
                // alone missed by 16 %). Rows: the median of the per-seed median row errors is
                // below 0.15 (over seeds 0–11 on the Cauchy matrix: 0.10–0.16, mean 0.13; one seed
                // alone sits at the bar).
                let (ex, _) = exact_with(dense(a), ExactMethod::Householder, lambda);
                let (mut medians, mut sum) = (Vec::new(), 0.0);
                for seed in 0..10 {
                    let (ap, info) = approx_ridge_leverage_scores(
                        dense(a),
                        lambda,
                        &ApproxParams::default(),
                        Seed::new(seed),
                        Par::Seq,
                    )
                    .unwrap();
                    sum += info.sum / 10.0;
                    medians.push(quantile(&sorted_relative_errors(&ap, &ex), 0.5));
                }
                assert!(
                    (sum - d_lambda).abs() < 0.05 * d_lambda,
                    "{name} λ={lambda}: mean Σ = {sum} vs d_λ = {d_lambda}"
                );
                medians.sort_by(f64::total_cmp);
                assert!(medians[5] < 0.15, "{name} λ={lambda}: {medians:?}");
            }
        }
    }
}

#[test]
fn sandwich_identity_holds_for_every_row_and_every_seed() {
    // With the exact Q of A and R from the QR of S₁A, ℓ_i(AR⁻¹)/ℓ_i lies in
    // [σ_max(S₁Q)⁻², σ_min(S₁Q)⁻²] for every row: an identity, checked with 1e-10 relative slack.
    let (n, d) = (4000, 20);
    let mats = [
        (
            "gaussian",
            problems::gaussian_matrix(n, d, Seed::new(10)).unwrap(),
        ),
        (
            "coherent",
            problems::coherent_matrix(n, d, 1e-3, Seed::new(11)).unwrap(),
        ),
        (
            "cauchy",
            problems::cauchy_rows(n, d, Seed::new(12)).unwrap(),
        ),
    ];
    for (name, a) in &mats {
        let q = diagnostics::orthonormal_basis(a.as_ref()).unwrap();
        let (ell, _) = exact(dense(a));
        for m1 in [d, 2 * d, 4 * d] {
            for seed in 0..5 {
                let p = ApproxParams {
                    sketch_rows: Some(m1),
                    jl_dim: 0,
                    debias: false,
                    ..Default::default()
                };
                let s1 = p.sketch(n, d, Seed::new(seed)).unwrap();
                let sq = s1.apply(dense(&q), Par::Seq).unwrap();
                let sv = sq.singular_values().unwrap();
                let (smax, smin) = (sv[0], sv[d - 1]);
                let (y, _) =
                    approx_leverage_scores(dense(a), &p, Seed::new(seed), Par::Seq).unwrap();
                let (lo, hi) = (smax.powi(-2), smin.powi(-2));
                for i in 0..n {
                    let ratio = y[i] / ell[i];
                    assert!(
                        ratio >= lo * (1.0 - 1e-10) && ratio <= hi * (1.0 + 1e-10),
                        "{name} m1={m1} seed={seed} row {i}: {ratio} not in [{lo}, {hi}]"
                    );
                }
            }
        }
    }
}

#[test]
fn approximate_scores_meet_the_promised_accuracy() {
    // Promise of the defaults (m₁ = 10d, r₂ = 100, s = 8, debiased), from
    // `approx_error_table_is_reproduced`: ≥ 50 % of rows within relative error 0.15, ≥ 90 % within
    // 0.35, ≥ 99 % within 0.6. Checked on each family for seeds 1 and 2.
    let (n, d) = (20_000, 50);
    let mats = [
        (
            "gaussian",
            problems::gaussian_matrix(n, d, Seed::new(13)).unwrap(),
        ),
        (
            "coherent",
            problems::coherent_matrix(n, d, 1e-3, Seed::new(14)).unwrap(),
        ),
        (
            "cauchy",
            problems::cauchy_rows(n, d, Seed::new(15)).unwrap(),
        ),
    ];
    for (name, a) in &mats {
        let (ex, _) = exact(dense(a));
        for seed in [1, 2] {
            let (ap, info) = approx_leverage_scores(
                dense(a),
                &ApproxParams::default(),
                Seed::new(seed),
                Par::Seq,
            )
            .unwrap();
            assert_eq!(info.method, LeverageMethod::Approximate);
            assert_eq!((info.sketch_rows, info.jl_dim, info.rank), (10 * d, 100, d));
            let e = sorted_relative_errors(&ap, &ex);
            let (q50, q90, q99) = (quantile(&e, 0.5), quantile(&e, 0.9), quantile(&e, 0.99));
            assert!(
                q50 <= 0.15 && q90 <= 0.35 && q99 <= 0.6,
                "{name} seed {seed}: median {q50:.3}, p90 {q90:.3}, p99 {q99:.3}"
            );
            assert!(
                (info.sum - d as f64).abs() < 0.05 * d as f64,
                "{name}: Σ = {}",
                info.sum
            );
        }
    }
}

/// Every score function gives the same bits on 1, 2, 3 and 4 threads: approximate (plain and
/// ridge) and exact by both factorizations. Three threads matter: faer's blocked Householder
/// routines split their work by the thread count, and the exact Householder scores once differed
/// by 1–3 ulp on 3 threads (a reproducibility stress test: 200 × 5 and 8193 × 64 matrices) while
/// agreeing on 2 and 4. The 200 × 5 sparse input is of that size.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let small = problems::random_sparse(200, 5, 3, Seed::new(15)).unwrap();
    let sparse = problems::random_sparse(30_000, 24, 4, Seed::new(16)).unwrap();
    let dense_a = problems::cauchy_rows(20_000, 24, Seed::new(17)).unwrap();
    // Ranks 2 and 3: fewer columns of Q than threads' worth of Householder blocks.
    let narrow2 = problems::cauchy_rows(20_000, 2, Seed::new(18)).unwrap();
    let narrow3 = problems::cauchy_rows(20_000, 3, Seed::new(19)).unwrap();
    let inputs = [
        ("csr, 200 × 5", MatrixRef::sparse(&small).unwrap()),
        ("csr", MatrixRef::sparse(&sparse).unwrap()),
        ("dense", dense(&dense_a)),
        ("dense, d = 2", dense(&narrow2)),
        ("dense, d = 3", dense(&narrow3)),
    ];
    for (name, a) in inputs {
        let run = |par| {
            let ap = approx_leverage_scores(a, &ApproxParams::default(), Seed::new(4), par)
                .unwrap()
                .0;
            let ridge =
                approx_ridge_leverage_scores(a, 0.5, &ApproxParams::default(), Seed::new(4), par)
                    .unwrap()
                    .0;
            let ex = exact_with_par(a, par);
            let householder = ExactParams {
                method: ExactMethod::Householder,
                ..Default::default()
            };
            let hh = exact_leverage_scores(a, &householder, par).unwrap().0;
            let ridge_hh = exact_ridge_leverage_scores(a, 0.5, &householder, par)
                .unwrap()
                .0;
            [ap, ridge, ex, hh, ridge_hh]
        };
        let one = with_threads(1, run);
        for t in [2, 3, 4] {
            let many = with_threads(t, run);
            for (k, (x, y)) in one.iter().zip(&many).enumerate() {
                assert!(
                    x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()),
                    "{name}: output {k} differs with {t} threads"
                );
            }
        }
    }
}

fn exact_with_par(a: MatrixRef<'_, f64>, par: Par) -> Vec<f64> {
    let p = ExactParams {
        method: ExactMethod::SketchCholesky,
        ..Default::default()
    };
    exact_leverage_scores(a, &p, par).unwrap().0
}

/// κ(S·Q) and the extreme singular values of S·Q.
fn distortion_of(s: &dyn SketchOperator<f64>, q: &Mat<f64>) -> (f64, f64, f64) {
    let sq = s.apply(dense(q), Par::Seq).unwrap();
    let sv = sq.singular_values().unwrap();
    let (max, min) = (sv[0], *sv.last().unwrap());
    (max / min, min, max)
}

#[test]
fn leverage_sampling_embeds_the_coherent_matrix_where_uniform_sampling_fails() {
    // [I; 1e-3·G], 20000 × 50, m = ⌈4·d·ln d⌉ = 783 rows. Pass rule: leverage sampling (exact or
    // approximate scores, with replacement or Bernoulli) has κ(SQ) ≤ 7 for all 5 seeds; uniform
    // sampling with the same m fails as an embedding on every one of 40 seeds, where failing
    // means σ_min(SQ) < 1/2, σ_max(SQ) > 2 or κ(SQ) > 7 (an unbiased sketch has E[QᵀSᵀSQ] = I, so
    // a working one keeps every σ near 1). Measured (seeds 0–4): leverage sampling with
    // replacement κ ∈ [1.49, 2.64], Bernoulli κ ∈ [1.06, 1.08] (it keeps the 50 identity rows
    // and ~22 others), uniform κ ∈ [46.4, 66.6] — it draws ~2 of the 50 identity rows
    // (σ_max ≈ 5–7) and the directions it misses keep σ_min ≈ 0.11. A uniform draw misses every
    // identity row with probability (1 − 50/20000)^783 ≈ 0.14; then SQ is a scaled Gaussian
    // block with κ ≈ 1.6 but σ ∈ [0.107, 0.174] (seeds 5, 6 and 9). The rule of earlier versions,
    // κ > 7 on at least 4 of 5 seeds, missed those draws and failed on 4 of the 40 blocks of
    // five seeds in 0..200 (the seed audit, `tests/seed_review.rs`).
    let (n, d) = (20_000, 50);
    let m = (4.0 * d as f64 * (d as f64).ln()).ceil() as usize;
    let a = problems::coherent_matrix(n, d, 1e-3, Seed::new(18)).unwrap();
    let q = diagnostics::orthonormal_basis(a.as_ref()).unwrap();
    let (ex, _) = exact(dense(&a));
    let (ap, _) =
        approx_leverage_scores(dense(&a), &ApproxParams::default(), Seed::new(5), Par::Seq)
            .unwrap();
    for seed in 0..5 {
        let seed = Seed::new(seed);
        for (what, w) in [("exact", &ex), ("approx", &ap)] {
            for s in [
                RowSampling::with_replacement(w, m, seed).unwrap(),
                RowSampling::bernoulli(w, m, seed).unwrap(),
            ] {
                let (kappa, lo, hi) = distortion_of(&s, &q);
                eprintln!(
                    "{what} {} {seed:?}: κ = {kappa:.2} (σ ∈ [{lo:.3}, {hi:.3}])",
                    SketchOperator::<f64>::name(&s)
                );
                assert!(
                    kappa <= 7.0,
                    "{what} {} {seed:?}: κ = {kappa}",
                    SketchOperator::<f64>::name(&s)
                );
            }
        }
    }
    for seed in 0..40 {
        let (kappa_u, lo, hi) =
            distortion_of(&RowSampling::uniform(n, m, Seed::new(seed)).unwrap(), &q);
        eprintln!("uniform seed {seed}: κ = {kappa_u:.2} (σ ∈ [{lo:.3}, {hi:.3}])");
        assert!(
            lo < 0.5 || hi > 2.0 || kappa_u > 7.0,
            "uniform sampling embedded the coherent matrix on seed {seed}: κ = {kappa_u}, σ ∈ [{lo}, {hi}]"
        );
    }
}

#[test]
fn sampling_sketches_are_unbiased() {
    // E‖Sx‖² = ‖x‖². Pass rule: over 4000 seeds, |mean − ‖x‖²| < 4 standard errors.
    let n = 500;
    let weights: Vec<f64> = (0..n)
        .map(|i| 1.0 + (i % 7) as f64 + if i < 5 { 50.0 } else { 0.0 })
        .collect();
    let x: Vec<f64> = (0..n).map(|i| ((i * 37 % 11) as f64 - 5.0) / 3.0).collect();
    let norm2: f64 = x.iter().map(|v| v * v).sum();
    for scheme in 0..2 {
        let vals: Vec<f64> = (0..4000)
            .map(|s| {
                let op = if scheme == 0 {
                    RowSampling::with_replacement(&weights, 40, Seed::new(s)).unwrap()
                } else {
                    RowSampling::bernoulli(&weights, 40, Seed::new(s)).unwrap()
                };
                op.apply_vec(&x).unwrap().iter().map(|v| v * v).sum()
            })
            .collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (vals.len() - 1) as f64;
        let se = (var / vals.len() as f64).sqrt();
        assert!(
            (mean - norm2).abs() < 4.0 * se,
            "scheme {scheme}: mean {mean} vs {norm2} (se {se})"
        );
    }
}

#[test]
fn draws_follow_the_probabilities() {
    // Weights 1:2:3:4, 40 000 draws: each count within 5 binomial sd of its mean.
    let w = [1.0, 2.0, 3.0, 4.0];
    let m = 40_000;
    let s = RowSampling::with_replacement(&w, m, Seed::new(19)).unwrap();
    let mut counts = [0f64; 4];
    for &r in s.rows() {
        counts[r] += 1.0;
    }
    for i in 0..4 {
        let p = w[i] / 10.0;
        let sd = (m as f64 * p * (1.0 - p)).sqrt();
        assert!((counts[i] - m as f64 * p).abs() < 5.0 * sd, "{counts:?}");
        // Scale 1/√(m p_i).
        let t = s.rows().iter().position(|&r| r == i).unwrap();
        assert!((s.scales()[t] - 1.0 / (m as f64 * p).sqrt()).abs() < 1e-15);
    }
    // Zero-weight rows are never drawn; Bernoulli keeps rows with q_i = 1 always.
    let w = [0.0, 5.0, 0.0, 1e-9, 0.0];
    let s = RowSampling::with_replacement(&w, 1000, Seed::new(20)).unwrap();
    assert!(s.rows().iter().all(|&r| r == 1 || r == 3));
    let b = RowSampling::bernoulli(&w, 3, Seed::new(20)).unwrap();
    assert!(b.rows().contains(&1) && !b.rows().contains(&0));
    let kept = SketchOperator::<f64>::nrows(&b);
    assert_eq!(kept, b.rows().len());
}

/// Bernoulli sampling saturates: a row with `m·p_i ≥ 1` has `q_i = min(1, m·p_i) = 1`, so it is
/// kept by every seed with scale exactly `1/√1 = 1`, and `‖Sx‖² = ‖x‖²` holds exactly (not only in
/// expectation) for every `x` supported on such rows. Five rows of weight 100 among 195 of
/// weight 1 (`m = 40`: `m·p = 5.76` for the heavy rows, `0.058` for the others). Pass rule, for
/// each of 50 seeds: every heavy row kept once with scale `1.0`; every kept light row scaled by
/// `1/√(m·p_i)` to `1e-15` relative (one division and one square root); `‖Sx‖² = ‖x‖²` to
/// `1e-14` relative for `x` on the heavy rows (five products of exact scales).
#[test]
fn bernoulli_keeps_saturated_rows_unscaled() {
    let n = 200;
    let m = 40;
    let weights: Vec<f64> = (0..n).map(|i| if i < 5 { 100.0 } else { 1.0 }).collect();
    let total: f64 = weights.iter().sum();
    let x: Vec<f64> = (0..n)
        .map(|i| if i < 5 { 1.0 + i as f64 } else { 0.0 })
        .collect();
    let norm2: f64 = x.iter().map(|v| v * v).sum();
    for seed in 0..50 {
        let s = RowSampling::bernoulli(&weights, m, Seed::new(seed)).unwrap();
        for heavy in 0..5 {
            let kept: Vec<usize> = (0..s.rows().len())
                .filter(|&t| s.rows()[t] == heavy)
                .collect();
            assert_eq!(
                kept.len(),
                1,
                "seed {seed}: row {heavy} kept {} times",
                kept.len()
            );
            assert_eq!(s.scales()[kept[0]], 1.0, "seed {seed}: row {heavy}");
        }
        for (&i, &c) in s.rows().iter().zip(s.scales()) {
            if i >= 5 {
                let want = 1.0 / (m as f64 * weights[i] / total).sqrt();
                assert!(
                    (c - want).abs() <= 1e-15 * want,
                    "seed {seed}: row {i}: {c} vs {want}"
                );
            }
        }
        let sx2: f64 = s.apply_vec(&x).unwrap().iter().map(|v| v * v).sum();
        assert!(
            (sx2 - norm2).abs() <= 1e-14 * norm2,
            "seed {seed}: ‖Sx‖² = {sx2} vs ‖x‖² = {norm2}"
        );
    }
}

/// `row_norm_weights` are the squared Euclidean row norms `Σ_j a_ij²`, computed here directly from
/// the dense copy, for dense, CSR and CSC storage of the same matrix (CSC scatters by row index,
/// which a matrix with `n ≠ d` tells apart from the column index). Each weight is a sum of at
/// most 25 squares, so the pass rule is `1e-14` relative agreement per row.
#[test]
fn row_norm_weights_are_squared_row_norms_in_every_layout() {
    let layouts = Layouts::new(problems::random_sparse(3000, 25, 4, Seed::new(24)).unwrap());
    let d = &layouts.dense;
    let want: Vec<f64> = (0..d.nrows())
        .map(|i| (0..d.ncols()).map(|j| d[(i, j)] * d[(i, j)]).sum())
        .collect();
    assert!(want.iter().any(|&w| w > 0.0) && want.iter().any(|&w| w != 1.0));
    for (name, view) in layouts.views() {
        let w = row_norm_weights(view).unwrap();
        assert_eq!(w.len(), want.len(), "{name}");
        for (i, (g, e)) in w.iter().zip(&want).enumerate() {
            assert!((g - e).abs() <= 1e-14 * e, "{name}: row {i}: {g} vs {e}");
        }
    }
}

/// Weights far from 1 sample as their proportions say: `w·2ᵏ` draws the same rows with the
/// same scales, bitwise, as `w` for k = ±900 (their sum overflowed at `[1e308, 1e308]`, which
/// was refused); `row_norm_weights` of a row beyond ≈ 1e154 is an `Error::NonFinite` naming
/// the row, not an infinite weight.
#[test]
fn sampling_weights_are_scale_invariant_and_overflowing_row_norms_are_errors() {
    let w: Vec<f64> = (0..50).map(|i| ((i * 7) % 11) as f64 + 0.5).collect();
    for k in [-900, 900] {
        let scaled: Vec<f64> = w.iter().map(|v| v * 2f64.powi(k)).collect();
        for bernoulli in [false, true] {
            let draw = |w: &[f64]| {
                let s = if bernoulli {
                    RowSampling::bernoulli(w, 20, Seed::new(3))
                } else {
                    RowSampling::with_replacement(w, 20, Seed::new(3))
                }
                .unwrap();
                let bits: Vec<u64> = s.scales().iter().map(|v| v.to_bits()).collect();
                (s.rows().to_vec(), bits)
            };
            assert_eq!(draw(&scaled), draw(&w), "2^{k}, bernoulli {bernoulli}");
        }
    }
    for max in [[1e308, 1e308], [f64::MAX, f64::MAX]] {
        assert!(RowSampling::with_replacement(&max, 4, Seed::new(1)).is_ok());
        assert!(RowSampling::bernoulli(&max, 4, Seed::new(1)).is_ok());
    }
    let mut a = problems::gaussian_matrix(30, 4, Seed::new(2)).unwrap();
    a[(17, 1)] = 1e160;
    match row_norm_weights(MatrixRef::dense(a.as_ref()).unwrap()) {
        Err(Error::NonFinite { row, .. }) => assert_eq!(row, 17),
        r => panic!("{r:?}"),
    }
}

/// Row blocks whose boundaries fall on sampled rows: 2000 draws over 60 rows sample every row
/// (the chance that one of the 60 is missed is below `60·e⁻³³`), and the blocks are cut at every
/// row and at uneven sizes 1–7, so every boundary row is a sampled row. Accumulating
/// `apply_block_into` over the blocks must give the whole product bit for bit, for dense and CSR
/// blocks (each entry of `S·A` receives exactly one contribution: a draw assigned to the wrong
/// block is counted twice or read outside its block).
#[test]
fn sampling_blocks_cut_at_sampled_rows_add_up_bitwise() {
    let n = 60;
    let layouts = Layouts::new(problems::random_sparse(n, 6, 3, Seed::new(25)).unwrap());
    let op = RowSampling::uniform(n, 2000, Seed::new(26)).unwrap();
    let mut seen = vec![false; n];
    op.rows().iter().for_each(|&r| seen[r] = true);
    assert!(seen.iter().all(|&s| s), "not every row was sampled");
    for (name, view) in layouts.views() {
        if name == "csc" {
            continue;
        }
        let whole = op.apply(view, Par::Seq).unwrap();
        for sizes in [&[1usize][..], &[3, 1, 7, 2, 5]] {
            let mut acc = Mat::<f64>::zeros(2000, 6);
            let (mut lo, mut t) = (0, 0);
            while lo < n {
                let hi = (lo + sizes[t % sizes.len()]).min(n);
                let block = view.row_block(lo, hi).unwrap();
                op.apply_block_into(lo, block, acc.as_mut(), Par::Seq)
                    .unwrap();
                lo = hi;
                t += 1;
            }
            assert_bitwise(&acc, &whole, &format!("{name}, block sizes {sizes:?}"));
        }
    }
}

#[test]
fn sampling_sketch_is_layout_block_and_thread_invariant() {
    let n = 20_000;
    let layouts = Layouts::new(problems::random_sparse(n, 25, 4, Seed::new(21)).unwrap());
    let w = row_norm_weights(MatrixRef::sparse(&layouts.csr).unwrap()).unwrap();
    let ops = [
        RowSampling::with_replacement(&w, 300, Seed::new(22)).unwrap(),
        RowSampling::bernoulli(&w, 300, Seed::new(22)).unwrap(),
    ];
    for op in &ops {
        let views = layouts.views();
        let reference = op.apply(views[0].1, Par::Seq).unwrap();
        let explicit = SketchOperator::<f64>::to_dense(op).unwrap() * &layouts.dense;
        assert!(
            rel_diff(&reference, &explicit) < 1e-15,
            "{}",
            SketchOperator::<f64>::name(op)
        );
        for (name, view) in &views {
            for t in [1, 2, 4] {
                let out = with_threads(t, |p| op.apply(*view, p).unwrap());
                assert_bitwise(
                    &out,
                    &reference,
                    &format!("{} {name} {t} threads", SketchOperator::<f64>::name(op)),
                );
            }
            if *name == "csc" {
                continue;
            }
            // Row blocks accumulated at their offsets: only the sampled rows inside each block.
            let mut acc = Mat::<f64>::zeros(SketchOperator::<f64>::nrows(op), 25);
            let cuts = [0, 1, 777, 8200, 15_000, n];
            for c in cuts.windows(2) {
                let block = view.row_block(c[0], c[1]).unwrap();
                op.apply_block_into(c[0], block, acc.as_mut(), Par::Seq)
                    .unwrap();
            }
            assert_bitwise(
                &acc,
                &reference,
                &format!("{} {name} blocks", SketchOperator::<f64>::name(op)),
            );
        }
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let a = problems::gaussian_matrix(100, 5, Seed::new(23)).unwrap();
    let ok = dense(&a);
    let ep = ExactParams::default();
    let ap = ApproxParams::default();
    let s = Seed::new(0);
    // Empty: no rows, no columns.
    let empty_rows = Mat::<f64>::zeros(0, 3);
    let empty_cols = Mat::<f64>::zeros(4, 0);
    let no_cols = sprs::CsMat::<f64>::zero((10, 0));
    for e in [
        dense(&empty_rows),
        dense(&empty_cols),
        MatrixRef::sparse(&no_cols).unwrap(),
    ] {
        assert!(matches!(
            exact_leverage_scores(e, &ep, Par::Seq),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(
            approx_leverage_scores(e, &ap, s, Par::Seq),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(
            statistical_dimension(e, 1.0, Par::Seq),
            Err(Error::Empty { .. })
        ));
        assert!(row_norm_weights(e).is_err());
    }
    // NaN in a dense matrix built without validation.
    let mut nan = a.clone();
    nan[(3, 2)] = f64::NAN;
    let nan_view = MatrixRef::Dense(nan.as_ref());
    assert!(matches!(
        exact_leverage_scores(nan_view, &ep, Par::Seq),
        Err(Error::NonFinite { row: 3, col: 2, .. })
    ));
    assert!(matches!(
        approx_leverage_scores(nan_view, &ap, s, Par::Seq),
        Err(Error::NonFinite { .. })
    ));
    assert!(row_norm_weights(nan_view).is_err());
    // λ < 0, NaN, ∞.
    for lambda in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            exact_ridge_leverage_scores(ok, lambda, &ep, Par::Seq),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            approx_ridge_leverage_scores(ok, lambda, &ap, s, Par::Seq),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(statistical_dimension(ok, lambda, Par::Seq).is_err());
    }
    // Parameters out of range.
    let bad_tol = ExactParams {
        rank_tol: Some(1.5),
        ..Default::default()
    };
    assert!(exact_leverage_scores(ok, &bad_tol, Par::Seq).is_err());
    let big = problems::gaussian_matrix(2000, 5, Seed::new(24)).unwrap();
    for p in [
        ApproxParams {
            sketch_rows: Some(4),
            ..Default::default()
        },
        ApproxParams {
            nnz_per_col: 0,
            ..Default::default()
        },
        ApproxParams {
            sketch_rows: Some(10),
            nnz_per_col: 11,
            ..Default::default()
        },
        ApproxParams {
            rank_tol: Some(f64::NAN),
            ..Default::default()
        },
    ] {
        assert!(
            matches!(
                approx_leverage_scores(dense(&big), &p, s, Par::Seq),
                Err(Error::InvalidParameter { .. })
            ),
            "{p:?}"
        );
    }
    // Work arrays beyond 2³¹ entries are refused before anything is allocated.
    let huge_jl = ApproxParams {
        jl_dim: usize::MAX,
        ..Default::default()
    };
    assert!(matches!(
        approx_leverage_scores(dense(&big), &huge_jl, s, Par::Seq),
        Err(Error::TooLarge { .. })
    ));
    // A sketch of more rows than A has is not built: m₁ = 2³⁰ ≥ n takes the exact route.
    let huge_m1 = ApproxParams {
        sketch_rows: Some(1 << 30),
        ..Default::default()
    };
    let (got, _) = approx_leverage_scores(dense(&big), &huge_m1, s, Par::Seq).unwrap();
    let (want, _) = exact_with(dense(&big), ExactMethod::Householder, 0.0);
    assert_close_rows(&got, &want, 1e-12, "m₁ ≥ n");
    // A ridge parameter far below the rounding level of ‖A‖² on a rank-deficient matrix is not
    // an error: the scores are those of the numerical rank.
    let deficient = rank_deficient(3000, 6, 4, 25);
    for lambda in [1e-300, 1e-30] {
        let (ex, info) =
            exact_ridge_leverage_scores(dense(&deficient), lambda, &ep, Par::Seq).unwrap();
        assert!(
            (info.sum - 4.0).abs() < 1e-6 && ex.iter().all(|x| x.is_finite()),
            "{}",
            info.sum
        );
        // The approximate ridge scores at such λ agree with the plain approximate scores (same
        // sketch, same JL matrix, same debiasing factor).
        let (ridge, info) =
            approx_ridge_leverage_scores(dense(&deficient), lambda, &ap, s, Par::Seq).unwrap();
        let (plain, plain_info) =
            approx_leverage_scores(dense(&deficient), &ap, s, Par::Seq).unwrap();
        assert_eq!(info.rank, 4);
        assert!((info.debias_factor - plain_info.debias_factor).abs() < 1e-12);
        assert_close_rows(&ridge, &plain, 1e-8, "tiny λ vs λ = 0");
        assert!(ridge.iter().all(|x| x.is_finite()));
    }
    // Bad probabilities.
    for w in [
        vec![],
        vec![1.0, -1.0],
        vec![1.0, f64::NAN],
        vec![0.0, 0.0],
        vec![f64::INFINITY],
    ] {
        assert!(RowSampling::with_replacement(&w, 5, s).is_err(), "{w:?}");
        assert!(RowSampling::bernoulli(&w, 5, s).is_err(), "{w:?}");
    }
    assert!(RowSampling::with_replacement(&[1.0], 0, s).is_err());
    assert!(RowSampling::bernoulli(&[1.0], 0, s).is_err());
    assert!(matches!(
        RowSampling::with_replacement(&[1.0], usize::MAX, s),
        Err(Error::TooLarge { .. })
    ));
    assert!(RowSampling::uniform(0, 3, s).is_err());
    // Shapes that do not match.
    let op = RowSampling::uniform(50, 5, s).unwrap();
    assert!(matches!(
        op.apply(ok, Par::Seq),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut out = Mat::<f64>::zeros(5, 5);
    assert!(op
        .apply_block_into(
            40,
            dense(&a.subrows(0, 20).to_owned()),
            out.as_mut(),
            Par::Seq
        )
        .is_err());
    let mut wrong = Mat::<f64>::zeros(4, 5);
    assert!(op
        .apply_block_into(
            0,
            dense(&a.subrows(0, 20).to_owned()),
            wrong.as_mut(),
            Par::Seq
        )
        .is_err());
}

/// The debiasing factor `ρ = (m₁ − r − 1)/m₁` (the inverse-Wishart mean) exists only for
/// `m₁ > r + 1`; a smaller first sketch with `debias` on used to skip the factor silently and
/// return scores summing to ≈ 1300 for `d = 10`, `m₁ = 10`. It is an error naming `sketch_rows`
/// now, at `λ = 0` (against the rank `r` of `S₁A`) and `λ > 0` (against `d̂_λ`), while
/// `debias = false`, `m₁ = r + 2`, a rank-deficient `A`, a large `λ` and the exact route for
/// `n ≤ m₁` still run.
#[test]
fn debiasing_with_too_few_sketch_rows_is_an_error() {
    let (n, d) = (4000, 10);
    let a = problems::gaussian_matrix(n, d, Seed::new(30)).unwrap();
    let s = Seed::new(1);
    let with_m1 = |m1: usize| ApproxParams {
        sketch_rows: Some(m1),
        ..Default::default()
    };
    let refused = |r: randnla::Result<(Vec<f64>, LeverageInfo)>, what: &str| match r {
        Err(Error::InvalidParameter {
            name: "sketch_rows",
            reason,
        }) => assert!(
            reason.contains("debias") && reason.contains("sketch_rows"),
            "{what}: {reason}"
        ),
        Err(e) => panic!("{what}: wrong error {e}"),
        Ok((_, info)) => panic!("{what}: not refused, Σ = {}", info.sum),
    };
    for m1 in [d, d + 1] {
        refused(
            approx_leverage_scores(dense(&a), &with_m1(m1), s, Par::Seq),
            &format!("m₁ = {m1}"),
        );
        // λ far below σ²(A) ≈ n: d̂_λ ≈ d − 3·10⁻⁶. At m₁ = d + 1 the bound m₁ > d̂_λ + 1 would
        // hold, with ρ ≈ 2·10⁻⁷ shrinking every score towards 0, where λ = 0 is refused.
        refused(
            approx_ridge_leverage_scores(dense(&a), 1e-3, &with_m1(m1), s, Par::Seq),
            &format!("m₁ = {m1}, λ = 1e-3"),
        );
        // Without debiasing the raw sandwich-bounded scores are returned.
        let raw = ApproxParams {
            debias: false,
            ..with_m1(m1)
        };
        let (_, info) = approx_leverage_scores(dense(&a), &raw, s, Par::Seq).unwrap();
        assert_eq!((info.rank, info.debias_factor), (d, 1.0));
    }
    // m₁ = r + 2 is the smallest first sketch that debiasing accepts: ρ = 1/m₁.
    let (scores, info) = approx_leverage_scores(dense(&a), &with_m1(d + 2), s, Par::Seq).unwrap();
    assert_eq!(info.debias_factor, 1.0 / (d + 2) as f64);
    assert!(scores.iter().all(|x| x.is_finite()));
    // The rank, not d, is what counts: rank 8 of 10 columns, m₁ = d = r + 2 gives ρ = 1/m₁.
    let deficient = rank_deficient(3000, d, 8, 31);
    let (_, info) = approx_leverage_scores(dense(&deficient), &with_m1(d), s, Par::Seq).unwrap();
    assert_eq!((info.rank, info.debias_factor), (8, 1.0 / d as f64));
    // A large λ has a small statistical dimension (d_λ ≈ 0.04 here), so m₁ = d is enough.
    let (_, info) = approx_ridge_leverage_scores(dense(&a), 1e6, &with_m1(d), s, Par::Seq).unwrap();
    assert!(info.debias_factor > 0.85, "{}", info.debias_factor);
    // n ≤ m₁ takes the exact route, which needs no debiasing.
    let square = problems::gaussian_matrix(d, d, Seed::new(32)).unwrap();
    let (scores, info) = approx_leverage_scores(dense(&square), &with_m1(d), s, Par::Seq).unwrap();
    assert_eq!(info.method, LeverageMethod::Householder);
    assert_close_rows(&scores, &[1.0; 10], 1e-12, "square, exact route");
}

/// The default rank tolerance is `max(n, d)·ε` on every route, so that the approximate and the
/// exact scores (as `--check` compares them) describe the same subspace: on a `4000 × 3` matrix
/// whose third column is the first plus `3·10⁻¹⁴` relative noise (pivot ratio ≈ 3e-14),
/// Householder reports rank 2 (tolerance `4000ε ≈ 9e-13`); the approximate method, with a
/// tolerance from the sketch's `m₁ = 30` rows (`30ε ≈ 7e-15`), reported rank 3.
#[test]
fn default_rank_tolerance_is_the_same_on_every_route() {
    let g = problems::gaussian_matrix(4000, 3, Seed::new(33)).unwrap();
    let a = Mat::from_fn(4000, 3, |i, j| {
        if j == 2 {
            g[(i, 0)] + 3e-14 * g[(i, 2)]
        } else {
            g[(i, j)]
        }
    });
    let (_, hh) = exact_with(dense(&a), ExactMethod::Householder, 0.0);
    let (_, sc) = exact_with(dense(&a), ExactMethod::SketchCholesky, 0.0);
    let (_, auto) = exact(dense(&a));
    let (_, ap) =
        approx_leverage_scores(dense(&a), &ApproxParams::default(), Seed::new(1), Par::Seq)
            .unwrap();
    assert_eq!(ap.method, LeverageMethod::Approximate);
    assert_eq!(hh.rank, 2, "the third pivot is below 4000ε");
    assert_eq!(
        [auto.rank, sc.rank, ap.rank],
        [hh.rank; 3],
        "auto, sketch-Cholesky, approx vs Householder"
    );
    // The same holds for the ridge scores at a λ too small to lift the third pivot.
    let (_, hh) = exact_with(dense(&a), ExactMethod::Householder, 1e-30);
    let (_, sc) = exact_with(dense(&a), ExactMethod::SketchCholesky, 1e-30);
    let (_, ap) = approx_ridge_leverage_scores(
        dense(&a),
        1e-30,
        &ApproxParams::default(),
        Seed::new(1),
        Par::Seq,
    )
    .unwrap();
    assert_eq!([sc.rank, ap.rank], [hh.rank; 2], "λ = 1e-30");
}

/// Leverage scores do not depend on the columns' units: `A·diag(1e7, 1, 1e-7)` (full rank,
/// `κ ≈ 10¹⁴`) has the scores of `A`. Without the power-of-two equilibration of the pivoted
/// QR its third pivot ratio (≈ 1e-14) fell below `4000ε` and every route reported rank 2 and
/// the scores of a 2-dimensional subspace. Pass rules: rank 3 on every route; exact scores
/// equal `A`'s to 1e-9 relative (Householder, SketchCholesky; ridge scores at `λ = 1e-3` too,
/// whose `[A·D; √λ·I]` is equilibrated as a whole); the approximate scores, with the same seed,
/// equal the approximate scores of `A` to 1e-9 (the sketch is the same; only rounding differs).
#[test]
fn scores_do_not_depend_on_the_columns_units() {
    use faer::linalg::solvers::DenseSolveCore;
    let (n, d) = (4000, 3);
    let g = problems::gaussian_matrix(n, d, Seed::new(34)).unwrap();
    let units = [1e7, 1.0, 1e-7];
    let a = Mat::from_fn(n, d, |i, j| g[(i, j)] * units[j]);
    for method in [ExactMethod::Householder, ExactMethod::SketchCholesky] {
        let (want, _) = exact_with(dense(&g), method, 0.0);
        let (got, info) = exact_with(dense(&a), method, 0.0);
        assert_eq!(info.rank, 3, "{method:?}");
        assert_close_rows(&got, &want, 1e-9, &format!("{method:?}"));
    }
    // Ridge scores of A·D at λ are those of A with the ridge λ·D⁻² (per column): the reference
    // solves that well-conditioned problem directly, ℓ_t = g_tᵀ(GᵀG + λD⁻²)⁻¹g_t.
    let lambda = 1e-3;
    let (ridge, _) = exact_with(dense(&a), ExactMethod::Householder, lambda);
    let (ridge_sc, _) = exact_with(dense(&a), ExactMethod::SketchCholesky, lambda);
    let mut gram = Mat::<f64>::from_fn(d, d, |i, j| {
        (0..n).map(|t| g[(t, i)] * g[(t, j)]).sum::<f64>()
    });
    for j in 0..d {
        gram[(j, j)] += lambda / (units[j] * units[j]);
    }
    let inv = gram.as_ref().partial_piv_lu().inverse();
    let want: Vec<f64> = (0..n)
        .map(|t| {
            (0..d)
                .map(|i| {
                    (0..d)
                        .map(|j| g[(t, i)] * inv[(i, j)] * g[(t, j)])
                        .sum::<f64>()
                })
                .sum()
        })
        .collect();
    assert_close_rows(&ridge, &want, 1e-9, "ridge, Householder");
    assert_close_rows(&ridge_sc, &want, 1e-9, "ridge, SketchCholesky");
    // The approximate ridge scores (R from [S₁AD·D⁻¹…; √λI], re-equilibrated): exact row norms
    // of the sketched basis (r₂ = 0), within the sketch's distortion of the exact ones.
    let p = ApproxParams {
        jl_dim: 0,
        ..ApproxParams::default()
    };
    let (ridge_ap, _) =
        approx_ridge_leverage_scores(dense(&a), lambda, &p, Seed::new(1), Par::Seq).unwrap();
    for (t, (x, w)) in ridge_ap.iter().zip(&want).enumerate() {
        assert!(
            (0.5..2.0).contains(&(x / w)),
            "approx ridge, row {t}: {x} vs {w}"
        );
    }
    let p = ApproxParams::default();
    let (want, _) = approx_leverage_scores(dense(&g), &p, Seed::new(1), Par::Seq).unwrap();
    let (got, info) = approx_leverage_scores(dense(&a), &p, Seed::new(1), Par::Seq).unwrap();
    assert_eq!(info.rank, 3);
    assert_close_rows(&got, &want, 1e-9, "approx");
}

/// The scores of an all-zero `A` are `+0.0`, and so are their sum and maximum (a `-0.0` sum
/// printed as `"-0"` in the example's JSON).
#[test]
fn scores_of_the_zero_matrix_are_positive_zeros() {
    let small = Mat::<f64>::zeros(7, 3);
    let tall = Mat::<f64>::zeros(5000, 3);
    let sparse = sprs::CsMat::<f64>::zero((5000, 3));
    for (name, a) in [
        ("7 × 3", dense(&small)),
        ("5000 × 3", dense(&tall)),
        ("5000 × 3 csr", MatrixRef::sparse(&sparse).unwrap()),
    ] {
        for lambda in [0.0, 1.0] {
            let mut runs = vec![
                (
                    "householder",
                    exact_with(a, ExactMethod::Householder, lambda),
                ),
                (
                    "sketch-cholesky",
                    exact_with(a, ExactMethod::SketchCholesky, lambda),
                ),
                (
                    "approx",
                    approx_ridge_leverage_scores(
                        a,
                        lambda,
                        &ApproxParams::default(),
                        Seed::new(1),
                        Par::Seq,
                    )
                    .unwrap(),
                ),
            ];
            for (method, (scores, info)) in runs.drain(..) {
                let what = format!("{name}, {method}, λ = {lambda}");
                assert!(scores.iter().all(|x| x.to_bits() == 0), "{what}: scores");
                assert_eq!(info.sum.to_bits(), 0, "{what}: sum {}", info.sum);
                assert_eq!(info.max.to_bits(), 0, "{what}: max {}", info.max);
            }
        }
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Small dense matrices with bounded finite entries, some columns possibly repeated.
    fn small_matrix() -> impl Strategy<Value = Mat<f64>> {
        (2usize..30, 1usize..6).prop_flat_map(|(n, d)| {
            (proptest::collection::vec(-10.0f64..10.0, n * d), 0usize..3).prop_map(
                move |(v, dup)| {
                    Mat::from_fn(n, d, |i, j| {
                        if j > 0 && j <= dup {
                            v[i]
                        } else {
                            v[i + n * j]
                        }
                    })
                },
            )
        })
    }

    fn weights() -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(prop_oneof![Just(0.0), 0.0f64..100.0], 1..200)
            .prop_filter("positive sum", |w| w.iter().sum::<f64>() > 0.0)
    }

    proptest! {
        #![proptest_config(common::proptest_config(64))]

        #[test]
        fn exact_scores_are_in_unit_interval_and_sum_to_rank(a in small_matrix(), lambda in prop_oneof![Just(0.0), 0.0f64..10.0]) {
            let (s, info) = exact_ridge_leverage_scores(dense(&a), lambda, &ExactParams::default(), Par::Seq).unwrap();
            prop_assert!(s.iter().all(|&x| (0.0..=1.0 + 1e-10).contains(&x)));
            if lambda == 0.0 {
                prop_assert!((info.sum - info.rank as f64).abs() < 1e-8, "{} vs rank {}", info.sum, info.rank);
            } else if lambda >= 1e-2 {
                // Σ τ_i = d_λ = Σ μ/(μ + λ) over the eigenvalues μ of AᵀA. A zero eigenvalue (the
                // duplicated columns) comes out of the eigensolver as about n·ε·‖A‖²_F, which adds
                // up to that over λ to each term: hence the second part of the tolerance.
                let d_lambda = stat_dim_reference(&a, lambda);
                let frob2: f64 = (0..a.ncols()).flat_map(|j| (0..a.nrows()).map(move |i| (i, j))).map(|(i, j)| a[(i, j)] * a[(i, j)]).sum();
                let tol = 1e-8 * d_lambda.max(1.0) + (a.ncols() * a.nrows()) as f64 * f64::EPSILON * frob2 / lambda;
                prop_assert!((info.sum - d_lambda).abs() <= tol, "Σ τ = {} vs d_λ = {d_lambda} (tol {tol})", info.sum);
            } else {
                // λ below 1e-2: the eigenvalue reference is too coarse (see above); d_λ ≤ rank.
                prop_assert!(info.sum <= a.ncols().min(a.nrows()) as f64 + 1e-8);
            }
        }

        #[test]
        fn sampling_draws_only_rows_with_positive_weight(w in weights(), m in 1usize..300, seed in 0u64..1000) {
            for op in [RowSampling::with_replacement(&w, m, Seed::new(seed)).unwrap(), RowSampling::bernoulli(&w, m, Seed::new(seed)).unwrap()] {
                prop_assert!(op.rows().iter().all(|&r| r < w.len() && w[r] > 0.0));
                prop_assert!(op.scales().iter().all(|c| c.is_finite() && *c > 0.0));
            }
        }
    }
}

/// A row of zeros has leverage exactly 0 (`e_iᵀA = 0`, plain and ridge), on both exact routes
/// and every storage. The Householder route read it off its computed `Q`, whose zero rows hold
/// rounding (`10⁻³⁴`–`10⁻³¹` on the matrices below), so a caller testing `ℓ_i > 0` (the leverage
/// example's `--check`) took it for a row of positive leverage; sketch-Cholesky's `‖e_iᵀA·T‖²`
/// was already exactly 0. Inputs: a `100 × 2` integer matrix with row 0 zero (the review's
/// case, `tests/cli_figures_review.rs`) and a `300 × 6` Gaussian with rows 0, 1, 150 and 299
/// zeroed (an explicitly stored zero among them in the sparse copies). Pass rule: those scores
/// are `+0.0` bitwise, the others positive.
#[test]
fn zero_rows_have_exactly_zero_exact_scores() {
    let small = Mat::from_fn(100, 2, |i, j| {
        if i == 0 {
            0.0
        } else if j == 0 {
            (1 + i % 7) as f64
        } else {
            ((i * i) % 11) as f64 - 5.0
        }
    });
    let zeroed = [0usize, 1, 150, 299];
    let g = problems::gaussian_matrix(300, 6, Seed::new(8)).unwrap();
    let big = Mat::from_fn(
        300,
        6,
        |i, j| if zeroed.contains(&i) { 0.0 } else { g[(i, j)] },
    );
    for (a, zero) in [(&small, &[0usize][..]), (&big, &zeroed[..])] {
        let mut tri = sprs::TriMat::new((a.nrows(), a.ncols()));
        for i in 0..a.nrows() {
            for j in 0..a.ncols() {
                // Row 1's first entry is stored as an explicit zero.
                if a[(i, j)] != 0.0 || (i == 1 && j == 0) {
                    tri.add_triplet(i, j, a[(i, j)]);
                }
            }
        }
        let layouts = Layouts::new(tri.to_csr());
        for (name, view) in layouts.views() {
            for method in METHODS {
                for lambda in [0.0, 0.5] {
                    let (s, _) = exact_with(view, method, lambda);
                    for (i, &x) in s.iter().enumerate() {
                        if zero.contains(&i) {
                            assert_eq!(
                                x.to_bits(),
                                0f64.to_bits(),
                                "{name} {method:?} λ = {lambda}, row {i}: {x:e}"
                            );
                        } else {
                            assert!(x > 0.0, "{name} {method:?} λ = {lambda}, row {i}: {x:e}");
                        }
                    }
                }
            }
        }
    }
}

/// The `solvers` fuzz target's oracle ("the scores of a rank-r matrix sum to r" within 10⁻¹⁰)
/// failed on this `5 × 4` matrix: its four nonzero rows form a nonsingular `4 × 4` block (row 0
/// alone holds column 2; rows 2, 3, 4 on columns 0, 1, 3 have determinant
/// `−4.125·(7.9375² + 8·7.9375) ≠ 0`), so its exact scores are `[1, 0, 1, 1, 1]` and its rank
/// is 4, but with its columns equilibrated (as the rank decision sees them) `κ ≈ 4.8·10¹³`.
/// Householder's `Q` gave the zero row a mass of `1.04·10⁻⁶`, which the library drops (a zero
/// row's score is exactly 0), so the scores summed to `4 − 1.04·10⁻⁶`: within the documented
/// `O(ε·κ)`, not within 10⁻¹⁰. Pass rule: rank 4, the zero row exactly 0, every score and the
/// sum within `8·u·κ` per unit of rank of the exact values (`κ` recomputed here by faer's SVD of
/// the equilibrated matrix).
#[test]
fn exact_scores_of_an_ill_conditioned_matrix_are_within_their_documented_rounding() {
    let big = -4.1255400998277516e13;
    let rows = [
        [-7.5625, 0.0, big, 0.0],
        [0.0; 4],
        [7.9375, big, 0.0, -8.0],
        [7.9375, big, 0.0, 7.9375],
        [0.0, 4.125, 0.0, 0.0],
    ];
    let a = Mat::from_fn(5, 4, |i, j| rows[i][j]);
    let (scores, info) = exact(MatrixRef::dense(a.as_ref()).unwrap());
    assert_eq!(info.rank, 4, "{info:?}");
    assert_eq!(scores[1], 0.0, "{scores:?}");
    // κ of the equilibrated matrix: each column scaled by the power of two that brings its
    // largest entry into [1, 2).
    let eq = Mat::from_fn(5, 4, |i, j| {
        let top = (0..5).fold(0.0f64, |t, k| t.max(rows[k][j].abs()));
        rows[i][j] * 2f64.powi(-(top.log2().floor() as i32))
    });
    let s = eq.singular_values().unwrap();
    let kappa = s[0] / s[3];
    assert!((1e13..1e14).contains(&kappa), "κ {kappa:e}");
    let u = f64::EPSILON / 2.0;
    let exact_scores = [1.0, 0.0, 1.0, 1.0, 1.0];
    for (got, want) in scores.iter().zip(exact_scores) {
        assert!((got - want).abs() <= 8.0 * u * kappa, "{scores:?}");
    }
    let sum: f64 = scores.iter().sum();
    assert!((sum - 4.0).abs() <= 4.0 * 8.0 * u * kappa, "sum {sum}");
    assert_eq!(sum.to_bits(), info.sum.to_bits(), "{info:?}");
}
