//! A second, adversarial review of `leverage` (exact, approximate and ridge leverage scores)
//! and `sketch::sampling` (row sampling) from a downstream user's side: columns in very
//! different units, the documented parameter bounds and errors, what the docs promise bit for
//! bit across layouts, and the sampling's scaling. Each test names its input and its pass rule;
//! the first ones failed before the fix they pin.

use crate::common;

use common::*;
use faer::{Mat, Par};
use randnla::leverage::*;
use randnla::{problems, Error, MatrixRef, Seed};

/// Approximate ridge scores of an `A` with one column far smaller than `√λ` (units `1, 1, c`).
/// The sketch's QR brings each column of `S₁A` to `[1, 2)`, so the ridge entry `√λ·D_jj` of the
/// small column became `≈ √λ/c`: at `c = 10⁻¹⁴, λ = 1` it was `10¹⁴` times every other pivot,
/// the rank test dropped the other two columns (rank 1 where the exact routes report 3) and the
/// scores summed to `≈ 10⁻²⁸` where `d_λ ≈ 2`.
///
/// Such a column adds `≈ c²‖a_j‖²/λ` to the scores: `A` has the ridge scores of the same matrix
/// with that column zeroed, `A₀`, to far below rounding. The approximate method, with the same
/// seed, draws the same sketch for both and factors `[S₁A; √λI]` and `[S₁A₀; √λI]`, whose R
/// factors differ by `≈ c/√λ` relative. Pass rules (seeds 0–2, `λ ∈ {1, 10⁴}`,
/// `c ∈ {10⁻¹⁴, 10⁻¹⁰⁰, 10⁻³¹⁰}`, the last subnormal): rank 3, the exact routes' rank; without
/// the JL stage (`r₂ = 0`: the squared row norms of `A·P₁R₁₁⁻¹`, which do not depend on the
/// basis the QR picks) every score equal to `A₀`'s to `10⁻⁹` relative, and within the factor
/// 2.5 of the exact scores that a 30-row sketch of a 3-column matrix keeps (measured: ratios in
/// `[0.51, 1.65]`); with the JL stage (whose estimates depend on that basis), `Σ` within a
/// factor 2 of `d_λ` (measured: 0.89–1.31).
#[test]
fn approx_ridge_scores_keep_a_column_far_below_sqrt_lambda() {
    let (n, d) = (4000, 3);
    let g = problems::gaussian_matrix(n, d, Seed::new(41)).unwrap();
    let a0 = Mat::from_fn(n, d, |i, j| if j == 2 { 0.0 } else { g[(i, j)] });
    for c in [1e-14, 1e-100, 1e-310] {
        let a = Mat::from_fn(n, d, |i, j| if j == 2 { g[(i, j)] * c } else { g[(i, j)] });
        for lambda in [1.0, 1e4] {
            let (ex, ei) =
                exact_ridge_leverage_scores(dense(&a), lambda, &ExactParams::default(), Par::Seq)
                    .unwrap();
            assert_eq!(ei.rank, 3);
            for seed in 0..3 {
                let what = format!("c = {c:e}, λ = {lambda:e}, seed {seed}");
                let run = |m: &Mat<f64>, p: &ApproxParams| {
                    approx_ridge_leverage_scores(dense(m), lambda, p, Seed::new(seed), Par::Seq)
                        .unwrap()
                };
                let (_, info) = run(&a, &ApproxParams::default());
                assert_eq!(info.rank, ei.rank, "{what}: rank");
                assert!(
                    (0.5..2.0).contains(&(info.sum / ei.sum)),
                    "{what}: Σ = {} vs d_λ = {}",
                    info.sum,
                    ei.sum
                );
                let raw = ApproxParams {
                    jl_dim: 0,
                    ..Default::default()
                };
                let (got, info) = run(&a, &raw);
                assert_eq!(info.rank, ei.rank, "{what}, r₂ = 0: rank");
                let (want, _) = run(&a0, &raw);
                assert_close(&got, &want, 1e-9, &format!("{what}, r₂ = 0"));
                for (i, (x, y)) in got.iter().zip(&ex).enumerate() {
                    assert!(
                        (0.4..2.5).contains(&(x / y)),
                        "{what}, r₂ = 0: row {i}: {x} vs exact {y}"
                    );
                }
            }
        }
    }
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (x, y)) in got.iter().zip(want).enumerate() {
        assert!(
            (x - y).abs() <= tol * y.abs(),
            "{what}: row {i}: {x} vs {y}"
        );
    }
}

/// What the docs promise bit for bit across storage, checked on a `12000 × 30` sparse matrix
/// (4 nonzeros per row) in CSR, CSC and dense column- and row-major storage, at `λ = 0` and
/// `λ = 0.5`:
/// * Householder densifies every input: the same bits for all four;
/// * sketch-Cholesky and the approximate method read a CSC `A` through a CSR copy with the
///   same row kernel: CSR and CSC give the same bits;
/// * a dense `A` runs the products `A·M` through faer's dense kernel: the same scores to
///   rounding only (measured here: 30–40 % of the scores differ in their last bits, by at most
///   `≈ 10⁻¹⁵` relative). Pass rule for that non-promise: `10⁻¹²` relative per row.
#[test]
fn storage_gives_the_bits_the_docs_promise() {
    let layouts = Layouts::new(problems::random_sparse(12_000, 30, 4, Seed::new(7)).unwrap());
    let views = layouts.views();
    assert_eq!((views[0].0, views[1].0), ("csr", "csc"));
    for lambda in [0.0, 0.5] {
        for route in ["householder", "sketch-cholesky", "approx"] {
            let run = |a| route_scores(route, a, lambda);
            let csr = run(views[0].1);
            for (name, view) in &views[1..] {
                let got = run(*view);
                let what = format!("λ = {lambda}, {route}, {name} vs csr");
                if route == "householder" || *name == "csc" {
                    assert_eq!(bits(&got), bits(&csr), "{what}");
                } else {
                    assert_close(&got, &csr, 1e-12, &what);
                }
            }
        }
    }
}

/// The scores of `A` at `λ` by a route: `"householder"`, `"sketch-cholesky"` or `"approx"`
/// (defaults, seed 1).
fn route_scores(route: &str, a: MatrixRef<'_, f64>, lambda: f64) -> Vec<f64> {
    match route {
        "householder" => exact_with(a, ExactMethod::Householder, lambda),
        "sketch-cholesky" => exact_with(a, ExactMethod::SketchCholesky, lambda),
        _ => {
            approx_ridge_leverage_scores(
                a,
                lambda,
                &ApproxParams::default(),
                Seed::new(1),
                Par::Seq,
            )
            .unwrap()
            .0
        }
    }
}

fn exact_with(a: MatrixRef<'_, f64>, method: ExactMethod, lambda: f64) -> Vec<f64> {
    let p = ExactParams {
        method,
        ..Default::default()
    };
    exact_ridge_leverage_scores(a, lambda, &p, Par::Seq)
        .unwrap()
        .0
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// `ApproxParams::sketch_rows` said that neither of its bounds (`m₁ ≥ d`; `m₁ ≥ r + 2` with
/// debiasing) applies when `n ≤ m₁`, where the exact scores are returned; the code checks
/// `m₁ ≥ d` and `SparseSign::new`'s bounds (`m₁ < 2³¹`, `1 ≤ s ≤ min(m₁, 2²¹)`, which the
/// `# Errors` of `approx_leverage_scores` did not list) for every `A` — the sketch is built
/// before the shape picks the route — and only the debiasing bound depends on the route. The
/// docs now say so. Pinned: a `5 × 10` `A` with `m₁ = 7` is an `InvalidParameter` naming
/// `sketch_rows`, a `5 × 3` one with `m₁ = 7, s = 9`, or `m₁ = 2²², s = 2²¹ + 1`, one naming
/// `nnz_per_col`, and with `m₁ = 2³¹` or `usize::MAX` one naming `sketch_rows`; an `8 × 10` `A`
/// with `m₁ = d = 10 < d + 2` and debiasing on gets its exact scores (all 1: rank 8 of 8 rows).
#[test]
fn sketch_rows_bounds_are_checked_for_every_shape_but_debiasing_only_when_sketching() {
    let wide = problems::gaussian_matrix(5, 10, Seed::new(1)).unwrap();
    let p = ApproxParams {
        sketch_rows: Some(7),
        ..Default::default()
    };
    match approx_leverage_scores(dense(&wide), &p, Seed::new(1), Par::Seq) {
        Err(Error::InvalidParameter {
            name: "sketch_rows",
            ..
        }) => {}
        r => panic!("m₁ = 7 < d = 10: {r:?}"),
    }
    let small = problems::gaussian_matrix(5, 3, Seed::new(2)).unwrap();
    let p = ApproxParams {
        sketch_rows: Some(7),
        nnz_per_col: 9,
        ..Default::default()
    };
    match approx_leverage_scores(dense(&small), &p, Seed::new(1), Par::Seq) {
        Err(Error::InvalidParameter {
            name: "nnz_per_col",
            ..
        }) => {}
        r => panic!("s = 9 > m₁ = 7: {r:?}"),
    }
    // SparseSign's bounds, m₁ < 2³¹ and s ≤ 2²¹, also when n ≤ m₁ (the exact route).
    for (m1, s, name) in [
        (1usize << 31, 8usize, "sketch_rows"),
        (usize::MAX, 8, "sketch_rows"),
        (1 << 22, (1 << 21) + 1, "nnz_per_col"),
    ] {
        let p = ApproxParams {
            sketch_rows: Some(m1),
            nnz_per_col: s,
            ..Default::default()
        };
        match approx_leverage_scores(dense(&small), &p, Seed::new(1), Par::Seq) {
            Err(Error::InvalidParameter { name: got, .. }) if got == name => {}
            r => panic!("m₁ = {m1}, s = {s}: {r:?}"),
        }
    }
    let wide = problems::gaussian_matrix(8, 10, Seed::new(3)).unwrap();
    let p = ApproxParams {
        sketch_rows: Some(10),
        ..Default::default()
    };
    assert!(p.debias);
    let (scores, info) = approx_leverage_scores(dense(&wide), &p, Seed::new(1), Par::Seq).unwrap();
    assert_eq!((info.method, info.rank), (LeverageMethod::Householder, 8));
    assert_close(&scores, &[1.0; 8], 1e-12, "8 × 10, exact route");
}

/// `ApproxParams::jl_dim = 0` was documented as returning "the exact row norms of `A·P₁R₁₁⁻¹`";
/// with debiasing on (the default) they are the squared row norms times `ρ`. Pinned bit for bit
/// on a `3000 × 8` Gaussian matrix: the default (debiased) scores at `r₂ = 0` are
/// `info.debias_factor` times the scores with `debias = false` (same sketch, same `R`; one
/// product per row), and `ρ = (m₁ − r − 1)/m₁ = 71/80`.
#[test]
fn scores_without_the_jl_stage_are_the_debiased_squared_row_norms() {
    let a = problems::gaussian_matrix(3000, 8, Seed::new(8)).unwrap();
    let run = |debias| {
        let p = ApproxParams {
            jl_dim: 0,
            debias,
            ..Default::default()
        };
        approx_leverage_scores(dense(&a), &p, Seed::new(3), Par::Seq).unwrap()
    };
    let (raw, raw_info) = run(false);
    let (debiased, info) = run(true);
    assert_eq!((raw_info.debias_factor, info.jl_dim), (1.0, 0));
    assert_eq!(info.debias_factor, 71.0 / 80.0);
    let want: Vec<f64> = raw.iter().map(|x| info.debias_factor * x).collect();
    assert_eq!(bits(&debiased), bits(&want));
}

/// The module docs' two statistical claims about the approximate scores, per row over seeds
/// (a `3000 × 10` Cauchy-row matrix, defaults `m₁ = 100`, `s = 8`; rows 0, 1, 2, 500, 2999;
/// seeds 0–399, each drawing its own `S₁` and `G`):
/// * the JL stage estimates `‖e_iᵀY‖²` (`Y = A·P₁R₁₁⁻¹`) by `‖e_iᵀYG‖²/r₂`, "unbiased with
///   relative standard deviation `√(2/r₂)`": the ratio of the `r₂ = 100` score to the `r₂ = 0`
///   score of the same seed is `χ²₁₀₀/100` exactly (`G` is Gaussian and independent of `S₁`).
///   Pass rule: its mean within 4 standard errors (`√(2/r₂)/√400`) of 1, its standard
///   deviation within 15 % of `√0.02 = 0.141` (4 standard errors of a sample deviation of 400
///   such ratios). Measured: means 0.989–1.012, deviations 0.134–0.140.
/// * the sketch stage is biased upward by `≈ m₁/(m₁ − r − 1) = 1.124` and debiasing removes it
///   "to first order for sparse sketches": the mean of `‖e_iᵀY‖²/ℓ_i` over seeds is within 0.05
///   of 1.124 without debiasing, and within 0.05 of 1 with it. Measured: 1.10–1.12 and
///   0.980–0.999.
#[test]
fn jl_and_sketch_stages_have_the_documented_bias_and_spread() {
    let (n, d, r2) = (3000, 10, 100);
    let a = problems::cauchy_rows(n, d, Seed::new(12)).unwrap();
    let exact = exact_with(dense(&a), ExactMethod::Householder, 0.0);
    let rows = [0usize, 1, 2, 500, 2999];
    let seeds = 400;
    let (mut jl, mut debiased, mut raw) = (vec![vec![]; 5], vec![vec![]; 5], vec![vec![]; 5]);
    for seed in 0..seeds {
        let run = |jl_dim, debias| {
            let p = ApproxParams {
                jl_dim,
                debias,
                ..Default::default()
            };
            approx_leverage_scores(dense(&a), &p, Seed::new(seed), Par::Seq)
                .unwrap()
                .0
        };
        let (y, z, w) = (run(0, true), run(r2, true), run(0, false));
        for (t, &i) in rows.iter().enumerate() {
            jl[t].push(z[i] / y[i]);
            debiased[t].push(y[i] / exact[i]);
            raw[t].push(w[i] / exact[i]);
        }
    }
    let mean_sd = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
        (m, var.sqrt())
    };
    let rel_sd = (2.0 / r2 as f64).sqrt();
    let inflation = 100.0 / (100.0 - d as f64 - 1.0);
    for (t, &i) in rows.iter().enumerate() {
        let (m, sd) = mean_sd(&jl[t]);
        assert!(
            (m - 1.0).abs() <= 4.0 * rel_sd / (seeds as f64).sqrt(),
            "row {i}: JL mean {m}"
        );
        assert!(
            (sd / rel_sd - 1.0).abs() <= 0.15,
            "row {i}: JL deviation {sd} vs {rel_sd}"
        );
        let (m, _) = mean_sd(&raw[t]);
        assert!((m - inflation).abs() <= 0.05, "row {i}: raw mean {m}");
        let (m, _) = mean_sd(&debiased[t]);
        assert!((m - 1.0).abs() <= 0.05, "row {i}: debiased mean {m}");
    }
}

/// The debiasing factor of the approximate ridge scores, `ρ = (m₁ − d̂_λ − 1)/m₁`, took
/// `d̂_λ = r − λ·‖P₁R⁻¹‖²_F`; a column far below `√λ` gives `P₁R⁻¹` a row near `1/√λ`, whose
/// square overflows for `λ` below `≈ 1/f64::MAX`. On `A = G·diag(1, 1, 10⁻¹⁷⁰)` at
/// `λ = 10⁻³²⁰` the norm was `∞`, `d̂_λ` was read as 0 and `ρ = 29/30` instead of
/// `27/30` (`d_λ ≈ 2`): every score 7 % too large, with no sign of it. Pass rules, as for the
/// same matrix with the small column zeroed (`A₀`, whose ridge scores are those of `A` to
/// far below rounding, and whose `ρ` never overflowed): `ρ` equal to `A₀`'s to `10⁻¹²`, and,
/// without the JL stage, every score equal to `A₀`'s to `10⁻⁹` relative.
#[test]
fn approx_ridge_debiasing_survives_a_lambda_near_the_smallest_f64() {
    let (n, d) = (4000, 3);
    let g = problems::gaussian_matrix(n, d, Seed::new(41)).unwrap();
    let a0 = Mat::from_fn(n, d, |i, j| if j == 2 { 0.0 } else { g[(i, j)] });
    let a = Mat::from_fn(n, d, |i, j| {
        if j == 2 {
            g[(i, j)] * 1e-170
        } else {
            g[(i, j)]
        }
    });
    let lambda = 1e-320;
    let p = ApproxParams {
        jl_dim: 0,
        ..Default::default()
    };
    let run = |m: &Mat<f64>| {
        approx_ridge_leverage_scores(dense(m), lambda, &p, Seed::new(1), Par::Seq).unwrap()
    };
    let (got, info) = run(&a);
    let (want, want_info) = run(&a0);
    assert!(
        (want_info.debias_factor - 0.9).abs() < 1e-12,
        "{}",
        want_info.debias_factor
    );
    assert!(
        (info.debias_factor - want_info.debias_factor).abs() < 1e-12,
        "ρ = {} vs {}",
        info.debias_factor,
        want_info.debias_factor
    );
    assert_close(
        &got,
        &want,
        1e-9,
        "10⁻¹⁷⁰ column vs zero column, λ = 10⁻³²⁰",
    );
}

/// `ExactMethod::Auto` as documented: Householder when `n·d ≤ HOUSEHOLDER_LIMIT = 2²²` or
/// `n ≤ 4d` (sketching would not compress), sketch-Cholesky otherwise. At `d = 64`: `n = 2¹⁶`
/// (`n·d = 2²²`) is Householder and `n = 2¹⁶ + 1` sketch-Cholesky; at `d = 1025`, `n = 4d = 4100`
/// (`n·d ≈ 1.002·2²²`) is Householder. Sparse inputs with 2 nonzeros per row (the choice
/// depends on the shape only; Householder densifies them). The scores of the two routes on the
/// `65537 × 64` input agree to `10⁻⁹` relative (both exact up to rounding).
#[test]
fn auto_picks_the_documented_factorization_at_its_boundaries() {
    assert_eq!(HOUSEHOLDER_LIMIT, 1 << 22);
    let auto = |n: usize, d: usize| {
        let a = problems::random_sparse(n, d, 2, Seed::new(n as u64)).unwrap();
        let (s, info) = exact_leverage_scores(
            MatrixRef::sparse(&a).unwrap(),
            &ExactParams::default(),
            Par::Seq,
        )
        .unwrap();
        (a, s, info)
    };
    let (_, _, info) = auto(1 << 16, 64);
    assert_eq!(info.method, LeverageMethod::Householder, "n·d = 2²²");
    let (a, s, info) = auto((1 << 16) + 1, 64);
    assert_eq!(
        info.method,
        LeverageMethod::SketchCholesky,
        "n·d = 2²² + 64"
    );
    let hh = exact_with(
        MatrixRef::sparse(&a).unwrap(),
        ExactMethod::Householder,
        0.0,
    );
    assert_close(&s, &hh, 1e-9, "sketch-Cholesky vs Householder, 65537 × 64");
    // About 5 s: a Householder QR of a dense 4100 × 1025 copy.
    let (_, _, info) = auto(4100, 1025);
    assert_eq!(info.method, LeverageMethod::Householder, "n = 4d");
}

/// A CSC input on several threads: the sketch routes read it through a CSR copy made by a
/// parallel counting sort (tasks own ranges of rows once `nnz ≥ 2¹⁶`), a path the thread-count
/// test of `tests/leverage.rs` (CSR and dense inputs) does not take. Pass rule: on a
/// `30000 × 24` CSC matrix (120 000 nonzeros), the approximate scores (plain and ridge) and the
/// sketch-Cholesky scores on 2, 3 and 4 threads equal those on one thread, and those of the
/// CSR copy, bit for bit.
#[test]
fn csc_inputs_give_the_same_bits_on_any_thread_count() {
    let csr = problems::random_sparse(30_000, 24, 4, Seed::new(16)).unwrap();
    let csc = csr.to_csc();
    let run = |m: &sprs::CsMat<f64>, par: Par| {
        let a = MatrixRef::sparse(m).unwrap();
        let approx = |lambda| {
            approx_ridge_leverage_scores(a, lambda, &ApproxParams::default(), Seed::new(4), par)
                .unwrap()
                .0
        };
        let p = ExactParams {
            method: ExactMethod::SketchCholesky,
            ..Default::default()
        };
        [
            approx(0.0),
            approx(0.5),
            exact_leverage_scores(a, &p, par).unwrap().0,
        ]
        .map(|s| bits(&s))
    };
    let want = with_threads(1, |par| run(&csr, par));
    for t in [1, 2, 3, 4] {
        assert_eq!(with_threads(t, |par| run(&csc, par)), want, "{t} threads");
    }
}

/// `LeverageInfo::rank` of the approximate ridge scores is the rank of `[S₁A; √λI]`, like the
/// exact routes' rank of `[A; √λI]` (the docs said "of `S₁A`" for the approximate method):
/// a `3000 × 6` `A` of rank 4 reports 4 at `λ = 0` and 6 at `λ = 1` on every route.
#[test]
fn ridge_rank_is_that_of_the_stacked_matrix_on_every_route() {
    let g = problems::gaussian_matrix(3000, 4, Seed::new(25)).unwrap();
    let a = Mat::from_fn(3000, 6, |i, j| match j {
        4 => g[(i, 0)] - 2.0 * g[(i, 3)],
        5 => g[(i, 1)] + g[(i, 2)],
        _ => g[(i, j)],
    });
    for (lambda, want) in [(0.0, 4), (1.0, 6)] {
        let (_, ap) = approx_ridge_leverage_scores(
            dense(&a),
            lambda,
            &ApproxParams::default(),
            Seed::new(2),
            Par::Seq,
        )
        .unwrap();
        assert_eq!(ap.method, LeverageMethod::Approximate);
        let p = |method| ExactParams {
            method,
            ..Default::default()
        };
        let (_, hh) =
            exact_ridge_leverage_scores(dense(&a), lambda, &p(ExactMethod::Householder), Par::Seq)
                .unwrap();
        let (_, sc) = exact_ridge_leverage_scores(
            dense(&a),
            lambda,
            &p(ExactMethod::SketchCholesky),
            Par::Seq,
        )
        .unwrap();
        assert_eq!([ap.rank, hh.rank, sc.rank], [want; 3], "λ = {lambda}");
    }
}
