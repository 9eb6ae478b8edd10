//! The exact leverage scores when faer's column pivoting takes a pivot out of order.
//!
//! faer's column-pivoted QR downdates the column norms and recomputes them only when the
//! largest has fallen far, so a column whose true residual is rounding (the duplicate of a
//! column already taken) can carry a stale norm and be pivoted before a column whose residual is
//! above the rank threshold. The rank (pivots above `max(n, d)·ε·|R₀₀|`) then counted that later
//! pivot, but the basis was the first `rank` columns of `Q`, one of them rounding noise: on the
//! `8 × 6` matrix below (found by the `solvers` fuzz target, 2026-12-07) the pivots were
//! `2.8, 2.1, 1.7, 3.5·10⁻¹⁶, 2.2·10⁻¹³`, and row 1, of leverage exactly 1, got 0.027 (the scores
//! summed to 3.03 for rank 4). The library now reorders the columns after the first small pivot
//! by an exactly pivoted QR when one of them still has a residual above the threshold.

use crate::common;

use common::rank::{self, faer_misorders};
use common::{csr_of, sorted_relative_errors, with_threads};
use faer::{Mat, Par};
use randnla::leverage::{
    approx_leverage_scores, approx_ridge_leverage_scores, exact_leverage_scores,
    exact_ridge_leverage_scores, ApproxParams, ExactMethod, ExactParams,
};
use randnla::{problems, MatrixRef, Seed};

/// The fuzz target's matrix, by column. Its range is `span{e₁, e₃, e₄, (e₆ + e₇)/√2}` (column 4
/// lies in `span{e₃, e₄}`, which columns 0 and 1 span; column 2 duplicates column 1), so the
/// exact scores are 1 on rows 1, 3 and 4, ½ on rows 6 and 7 and 0 elsewhere, and the rank is 4.
/// Column 3 reaches row 1 with `8` against `4·10¹³` on row 3: after equilibration, a residual
/// of `2.3·10⁻¹³`, above the threshold `1.8·10⁻¹⁵·|R₀₀|`.
fn columns() -> [[f64; 8]; 6] {
    let mut c = [[0.0; 8]; 6];
    c[0][3] = -1.268364592710738e-30;
    c[1][4] = 3.5625;
    c[2][4] = 3.5625;
    c[3][1] = -8.0;
    c[3][3] = -4.0545691207045516e13;
    c[3][4] = 3.689053051559106e-289;
    c[4][3] = 7.9375;
    c[4][4] = -2.4375;
    c[5][6] = 7.9375;
    c[5][7] = 7.9375;
    c
}

const EXACT: [f64; 8] = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.5, 0.5];

/// `A` with its columns in the order `perm` and its rows reversed when `flip`.
fn matrix(perm: &[usize], flip: bool) -> Mat<f64> {
    let c = columns();
    Mat::from_fn(8, 6, |i, j| c[perm[j]][if flip { 7 - i } else { i }])
}

/// Every permutation of `0..n`, in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for first in 0..n {
        for rest in permutations(n - 1) {
            let mut p = vec![first];
            p.extend(rest.into_iter().map(|x| if x >= first { x + 1 } else { x }));
            out.push(p);
        }
    }
    out
}

/// Pass rule: for every order of the columns (720) and both orders of the rows, rank 4 and
/// every score within `ε·κ` of the exact one, `κ ≈ 1.4·10¹³` that of the equilibrated `A`
/// (the documented rounding of the scores, constant 1; measured: at most `3·10⁻⁸`). The
/// premise is checked too: faer's pivoting misorders at least one of these inputs (before the
/// fix, those gave errors up to 0.97).
#[test]
fn scores_are_right_whatever_the_column_order_when_pivots_come_out_of_order() {
    let tol = f64::EPSILON * 1.42e13;
    let (mut misordered, mut worst) = (0, 0.0f64);
    for flip in [false, true] {
        for perm in permutations(6) {
            let a = matrix(&perm, flip);
            misordered += usize::from(faer_misorders(&a));
            let view = MatrixRef::dense(a.as_ref()).unwrap();
            let params = ExactParams {
                method: ExactMethod::Householder,
                ..ExactParams::default()
            };
            let (scores, info) = exact_leverage_scores(view, &params, Par::Seq).unwrap();
            assert_eq!(
                info.rank, 4,
                "columns {perm:?}, rows flipped {flip}: {info:?}"
            );
            for (i, &s) in scores.iter().enumerate() {
                let want = EXACT[if flip { 7 - i } else { i }];
                worst = worst.max((s - want).abs());
                assert!(
                    (s - want).abs() <= tol,
                    "columns {perm:?}, rows flipped {flip}: row {i} score {s}, exact {want}"
                );
            }
        }
    }
    eprintln!("faer misordered {misordered} of 1440 inputs; largest score error {worst:e}");
    assert!(misordered >= 1, "no input exercises the repair");
}

/// The repaired factorization keeps the contracts: dense, CSR and CSC storage and 1, 2 and 3
/// threads give the same bits (the repair factors on one thread).
#[test]
fn the_repair_gives_the_same_bits_for_every_storage_and_thread_count() {
    let a = matrix(&[0, 1, 2, 3, 4, 5], false);
    assert!(
        faer_misorders(&a),
        "the fuzz target's own order is misordered by faer"
    );
    let csr = csr_of(&a);
    let csc = csr.to_csc();
    let params = ExactParams {
        method: ExactMethod::Householder,
        ..ExactParams::default()
    };
    let run = |view: MatrixRef<'_, f64>, par: Par| {
        let (s, _) = exact_leverage_scores(view, &params, par).unwrap();
        s.iter().map(|x| x.to_bits()).collect::<Vec<u64>>()
    };
    let reference = run(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq);
    assert!((f64::from_bits(reference[1]) - 1.0).abs() < 1e-6);
    assert_eq!(
        run(MatrixRef::sparse(&csr).unwrap(), Par::Seq),
        reference,
        "CSR"
    );
    assert_eq!(
        run(MatrixRef::sparse(&csc).unwrap(), Par::Seq),
        reference,
        "CSC"
    );
    for t in [2, 3] {
        let bits = with_threads(t, |par| run(MatrixRef::dense(a.as_ref()).unwrap(), par));
        assert_eq!(bits, reference, "{t} threads");
    }
}

/// The `600 × 60` [`rank::hidden_rank`] input of `seed`: 40 Gaussian columns, 10 duplicates,
/// 10 columns `2¹⁰·g_j + 2⁻³⁰·f_t` (rank 50). Returns `A` and the exact scores: the squared row
/// norms of an orthonormal basis of the well-conditioned `600 × 50` matrix `B` that spans its
/// range.
fn hidden_rank(seed: u64) -> (Mat<f64>, Vec<f64>) {
    let (a, b) = rank::hidden_rank(600, 40, 10, 10, seed);
    let q = b.qr().compute_thin_Q();
    let exact = (0..b.nrows())
        .map(|i| (0..b.ncols()).map(|c| q[(i, c)] * q[(i, c)]).sum())
        .collect();
    (a, exact)
}

/// Pass rule, seeds 0–3: faer's pivoting misorders each input (premise); both exact routes
/// report rank 50 and every score within `2ε·κ = 1.3·10⁻³` of the exact one, `κ ≈ 3·10¹²` that of
/// the equilibrated `A` on its rank-50 part (`σ₅₀ ≈ 8·10⁻¹²` against `‖A‖ ≈ 22`); the
/// approximate scores' rank is 50 too. Before the repair the Householder route reported rank 41
/// with errors up to 0.87.
#[test]
fn a_rank_hidden_below_duplicate_columns_is_found() {
    let tol = 2.0 * f64::EPSILON * 3e12;
    for seed in 0..4 {
        let (a, exact) = hidden_rank(seed);
        assert!(
            faer_misorders(&a),
            "seed {seed}: faer pivots this input correctly"
        );
        let view = MatrixRef::dense(a.as_ref()).unwrap();
        for method in [ExactMethod::Householder, ExactMethod::SketchCholesky] {
            let params = ExactParams {
                method,
                ..ExactParams::default()
            };
            let (scores, info) = exact_leverage_scores(view, &params, Par::Seq).unwrap();
            assert_eq!(info.rank, 50, "seed {seed}, {method:?}: {info:?}");
            let worst = scores
                .iter()
                .zip(&exact)
                .map(|(s, e)| (s - e).abs())
                .fold(0.0, f64::max);
            eprintln!("seed {seed}, {method:?}: largest score error {worst:e}");
            assert!(
                worst <= tol,
                "seed {seed}, {method:?}: score error {worst:e}"
            );
        }
        let sketched = ApproxParams {
            sketch_rows: Some(240),
            ..ApproxParams::default()
        };
        let (approx, info) =
            approx_leverage_scores(view, &sketched, Seed::new(9), Par::Seq).unwrap();
        assert_eq!(info.rank, 50, "seed {seed}, approximate: {info:?}");
        let rel = sorted_relative_errors(&approx, &exact);
        let (median, p90) = (rel[rel.len() / 2], rel[rel.len() * 9 / 10]);
        eprintln!("seed {seed}, approximate: relative error median {median:.3}, p90 {p90:.3}");
        assert!(median <= 0.25 && p90 <= 0.5, "seed {seed}: {median}, {p90}");
    }
}

/// The approximate scores after a repair of the sketch's QR (their JL stage reads the repaired
/// basis) give the same bits on 1, 2 and 3 threads.
#[test]
fn approximate_scores_after_a_repair_do_not_depend_on_the_thread_count() {
    let (a, _) = hidden_rank(0);
    let run = |par: Par| {
        let view = MatrixRef::dense(a.as_ref()).unwrap();
        let (s, _) =
            approx_leverage_scores(view, &ApproxParams::default(), Seed::new(9), par).unwrap();
        s.iter().map(|x| x.to_bits()).collect::<Vec<u64>>()
    };
    let reference = run(Par::Seq);
    for t in [2, 3] {
        assert_eq!(with_threads(t, run), reference, "{t} threads");
    }
}

/// Approximate ridge scores tend to the plain approximate scores as `λ → 0` with the same seed
/// (the ridge factor of the sketch's `R` at a small `λ` is that `R`, and both read the same JL
/// coordinates). After a repair, the trailing rows of the ridge factor had the opposite signs
/// to the sketch's (reflected twice), which turned the JL matrix into another draw: single
/// scores moved by up to 93 % (a review's probe, 2026-12-07); every `R` now has a non-negative
/// diagonal. Then, on hidden-rank input 1, faer pivoted the ridge factor differently from the
/// sketch's (repaired after 40 pivots, the sketch's after 41), another column order and another
/// draw (single scores up to 52 % apart); the ridge factor is now formed in the sketch's column
/// order. Pass rule: at `λ = 10⁻³⁰⁰, 10⁻²⁰⁰, 10⁻¹⁰⁰, 10⁻⁴⁰` every score within `10⁻¹⁰`
/// relative of the plain one on a Gaussian `600 × 60` (no repair; measured `2·10⁻¹⁵`) and
/// within `2ε·κ = 1.3·10⁻³` on hidden-rank inputs 0–3 (repaired; `κ ≈ 3·10¹²`, and the plain
/// scores are scaled by the debiasing factor `ρ` after the solve where the ridge factor is
/// divided by `√ρ` before it, a rounding that `κ` amplifies: measured `1.7·10⁻⁴` at most).
#[test]
fn approximate_ridge_scores_tend_to_the_plain_ones_after_a_repair() {
    let sketched = ApproxParams {
        sketch_rows: Some(240),
        ..ApproxParams::default()
    };
    let gaussian = problems::gaussian_matrix(600, 60, Seed::new(3)).unwrap();
    let hidden = 2.0 * f64::EPSILON * 3e12;
    let inputs = [
        ("gaussian", gaussian, 1e-10),
        ("hidden rank 0", hidden_rank(0).0, hidden),
        ("hidden rank 1", hidden_rank(1).0, hidden),
        ("hidden rank 2", hidden_rank(2).0, hidden),
        ("hidden rank 3", hidden_rank(3).0, hidden),
    ];
    for (label, a, tol) in &inputs {
        let view = MatrixRef::dense(a.as_ref()).unwrap();
        let (plain, pi) = approx_leverage_scores(view, &sketched, Seed::new(9), Par::Seq).unwrap();
        for lambda in [1e-300, 1e-200, 1e-100, 1e-40] {
            let (ridge, ri) =
                approx_ridge_leverage_scores(view, lambda, &sketched, Seed::new(9), Par::Seq)
                    .unwrap();
            let rel = sorted_relative_errors(&ridge, &plain);
            let (median, worst) = (rel[rel.len() / 2], rel[rel.len() - 1]);
            eprintln!(
                "{label}, λ = {lambda:e}: relative differences median {median:e}, max {worst:e}"
            );
            assert!(worst <= *tol, "{label}, λ = {lambda:e}: {worst:e}");
            assert_eq!(ri.rank, pi.rank, "{label}, λ = {lambda:e}");
        }
    }
}

/// Between the limits, the ridge factor's trailing block is where the ridge entries decide the
/// rank: on the hidden-rank inputs (rank 50 of 60, ten duplicate columns) `√λ` above the rank
/// threshold makes `[A; √λI]` full rank, and the sketch's trailing columns, below the
/// threshold in its `R`, must be pivoted by their ridge entries. Pass rule, seeds 0–3 and
/// `λ = 10⁻²⁰, 10⁻¹⁰, 10⁻², 10²`: ridge rank 60 (exact and approximate), and the approximate
/// scores within JL noise of the exact ridge scores (Householder on `[√λI; A]`): relative
/// errors median ≤ 0.25, 90th percentile ≤ 0.5, the rule of the plain scores above.
#[test]
fn approximate_ridge_scores_where_the_ridge_decides_the_rank() {
    let sketched = ApproxParams {
        sketch_rows: Some(240),
        ..ApproxParams::default()
    };
    let exact_params = ExactParams {
        method: ExactMethod::Householder,
        ..ExactParams::default()
    };
    for seed in 0..4 {
        let (a, _) = hidden_rank(seed);
        let view = MatrixRef::dense(a.as_ref()).unwrap();
        for lambda in [1e-20, 1e-10, 1e-2, 1e2] {
            let (exact, ei) =
                exact_ridge_leverage_scores(view, lambda, &exact_params, Par::Seq).unwrap();
            let (approx, ai) =
                approx_ridge_leverage_scores(view, lambda, &sketched, Seed::new(9), Par::Seq)
                    .unwrap();
            assert_eq!(ei.rank, 60, "seed {seed}, λ = {lambda:e}: {ei:?}");
            assert_eq!(ai.rank, 60, "seed {seed}, λ = {lambda:e}: {ai:?}");
            let rel = sorted_relative_errors(&approx, &exact);
            let (median, p90) = (rel[rel.len() / 2], rel[rel.len() * 9 / 10]);
            eprintln!(
                "seed {seed}, λ = {lambda:e}: relative error median {median:.3}, p90 {p90:.3}"
            );
            assert!(
                median <= 0.25 && p90 <= 0.5,
                "seed {seed}, λ = {lambda:e}: {median}, {p90}"
            );
        }
    }
}

/// The ridge factor's update is split by columns over the threads from `d = 256`
/// (`RIDGE_PAR_COLUMNS` in `src/leverage.rs`); each column is computed alike, so the
/// approximate ridge scores of a `2700 × 260` Gaussian `A` (sketched: `n > m₁ = 10d`) keep
/// their bits on 1, 2 and 3 threads, at a `λ` where the ridge matters (`λ = ‖A‖²_F/d`) and at
/// one where it does not (`λ = 10⁻²⁰`).
#[test]
fn the_split_ridge_factor_gives_the_same_bits_on_any_thread_count() {
    let a = problems::gaussian_matrix(2700, 260, Seed::new(4)).unwrap();
    let view = MatrixRef::dense(a.as_ref()).unwrap();
    for lambda in [a.squared_norm_l2() / 260.0, 1e-20] {
        let run = |par: Par| {
            let (s, _) = approx_ridge_leverage_scores(
                view,
                lambda,
                &ApproxParams::default(),
                Seed::new(8),
                par,
            )
            .unwrap();
            s.iter().map(|x| x.to_bits()).collect::<Vec<u64>>()
        };
        let reference = run(Par::Seq);
        for t in [2, 3] {
            assert_eq!(
                with_threads(t, run),
                reference,
                "λ = {lambda:e}, {t} threads"
            );
        }
    }
}
