//! Spec-conformance audit of ALGORITHMS.md §1–§4 (sparse embeddings, Gaussian and SRHT,
//! TensorSketch, leverage scores and row sampling): every acceptance item and reference figure
//! of those sections, the test that implements it and its verdict. Tests new in this file are
//! marked **new**; the others were read and judged to check what the spec says, at its sizes
//! (or a stated smaller one), with a pass rule at least as strict as the spec's, asserted.
//!
//! | § | item | test | verdict |
//! |---|---|---|---|
//! | 1(a) | `S·e_j` has exactly `s` distinct nonzeros of magnitude `1/√s` | `sketch_core::sparse_sign_columns_have_s_distinct_entries_of_magnitude_one_over_sqrt_s`, `distribution_review::sparse_sign_columns_are_uniform_subsets_with_fair_signs` | conforms |
//! | 1(b) | `S·A` agrees across CSR, CSC, dense and `to_dense()·A` | `sketch_core::every_layout_gives_the_same_bits_and_matches_the_dense_sketch` (bitwise across layouts, 1e-13 against `to_dense()·A`) | conforms |
//! | 1(c) | pass rule `κ(SQ) ≤ 7` for ≥ 99 of 100 seeds, `n = 20000, d = 50, s = 8, m = 2d`, Gaussian and coherent `A`, κ exact | `sketch_core::sparse_sign_is_a_subspace_embedding_on_gaussian_and_coherent_matrices` | conforms |
//! | 1(c) | reference figures: median κ ≈ 5.3, max ≈ 6.3 over 20 seeds | only a band (4.5, 6.5) on the 100-seed median was asserted | was weaker, now covered by **new** [`sparse_sign_reference_figures_over_twenty_seeds`] |
//! | 1(c) | negative control: CountSketch on the coherent `A`, κ ≈ 24 at `m = 2d`, ≈ 10 at `m = 20d` | `sketch_core::countsketch_fails_on_coherent_matrices_as_documented` (median > 15 at `2d`, ≥ 7 of 20 seeds above 5 at `20d`: fails if CountSketch were as good as sparse sign) | conforms as a control; the figures 24 and 10 were not pinned, now covered by **new** [`countsketch_negative_control_reference_figures`], which also puts sparse sign beside it at `m = 20d` |
//! | 1(d) | unbiasedness z-test of `E‖Sx‖² = ‖x‖²` over many seeds | `sketch_core::squared_norms_are_unbiased` (4000 seeds, 4 se; the se is the sample one, which does not hide a bias: the mean is compared with the true `‖x‖²`), `distribution_review::gram_matrix_is_the_identity_in_expectation`, and the variance against theory `(2/m)(‖x‖⁴ − ‖x‖₄⁴)` in `distribution_review::variance_of_the_squared_norm_matches_theory_on_every_generator_path` | conforms |
//! | 2 | (no "Acceptance:" line) Gaussian entries `N(0, 1/m)`, blocks from counter-derived seeds, any block made alone | `sketch_contract_review::gaussian_entries_are_iid_normal_with_variance_one_over_m`, `distribution_review::gaussian_entries_are_normal`, `distribution_review::gaussian_entries_are_uncorrelated_across_seeds_columns_and_blocks`, `sketch_core::sketch_columns_do_not_depend_on_the_number_of_columns`, `sketch_core::partitioned_row_blocks_at_offsets_merge_into_the_whole_sketch` | conforms |
//! | 2 | SRHT `√(n'/m)·R·(H/√n')·D`, zero padding to `n' = 2^k`, uniform `R` | signs and rows: `distribution_review::srht_rows_are_uniform_and_signs_fair` (checks only the signs of the entries); magnitudes, distinct rows and padding: **new** [`srht_is_the_scaled_subsampled_hadamard_of_the_padded_input`] | was partial, now covered |
//! | 3 | FFT path equals the explicit tensor CountSketch (`d = 5, p = 3, m = 16`) to 1e-12 | `tensor_sketch::fft_path_equals_the_explicit_tensor_countsketch` (its reference uses the crate's `tensor_bucket`); from the definition (hash `Σ h_k mod m`, sign `∏ σ_k` of the per-mode buckets) **new** [`fft_path_equals_the_tensor_countsketch_built_from_its_definition`] | conforms; now also independent of `tensor_bucket` |
//! | 3 | polynomial kernel: scale `x` by `√γ` and append `√c` | `tensor_sketch::inner_products_are_unbiased_over_ten_thousand_seeds` (in expectation only); exactly: **new** [`poly_features_are_the_tensor_sketch_of_the_lifted_input`] | was weaker, now covered |
//! | 3 | unbiasedness within 4 se over ≥ 10⁴ seeds | `tensor_sketch::inner_products_are_unbiased_over_ten_thousand_seeds` (`p = 2, 3`, 10⁴ seeds), `tensor_sketch_review::unbiased_and_within_the_variance_bound_for_p_1_to_4_and_odd_m` | conforms |
//! | 3 | `m·Var(‖TS x‖²) ≤ 2 + 3^p` | `tensor_sketch::variance_respects_the_avron_nguyen_woodruff_bound` (estimate + 4 se ≤ bound, 10⁴ seeds, `p = 2, 3, 4`) | conforms |
//! | 3 | kernel-matrix error falls like `m^{-1/2}` | `tensor_sketch::kernel_error_falls_like_one_over_sqrt_m_on_clustered_rows` (slope −0.5 ± 0.15), `tensor_sketch::full_size_kernel_error_figures` | conforms |
//! | 3 | sparse and dense inputs agree | `tensor_sketch::every_layout_gives_the_same_bits`, `tensor_sketch_review::layouts_threads_and_vectors_agree_bitwise` | conforms |
//! | 3 | figures, iid rows 0.92 / 0.46 / 0.23 at `m = 1024 / 4096 / 16384` (`n = 1500, d = 40, p = 3`) | `tensor_sketch::full_size_kernel_error_figures` (±10 %) | conforms |
//! | 3 | figures, clustered rows 0.13 / 0.10 / 0.03 | `tensor_sketch::full_size_kernel_error_figures` measures 0.150 / 0.059 / 0.033 (data seed 1, sketch seed 100) and pins those (±20 %) | the spec's figure at m = 4096 is not reproduced by that seed (0.059 against 0.10). Measured in this audit (not committed: ~95 s) over data seeds 1–2 × sketch seeds 100–102: 0.134–0.180 / 0.059–0.088 / 0.031–0.038, so 0.13 and 0.03 are typical and 0.10 lies just above the spread: seed variation in the spec's single figure, not a code bug. Reading "noise 0.3" per coordinate instead (the crate's model divides by √d) gives 0.84–0.87 / 0.42–0.44 / 0.21, far from the spec: the crate's data model is the spec's |
//! | 4 | `Σℓ = rank(A)` | `leverage::exact_scores_sum_to_the_rank_and_lie_in_the_unit_interval` | conforms |
//! | 4 | `Σ τ = d_λ` | `leverage::ridge_scores_sum_to_the_statistical_dimension` (1e-8, `d_λ` from the eigenvalues of `AᵀA`) | conforms |
//! | 4 | sandwich `ℓ_i(AR⁻¹)/ℓ_i ∈ [σ_max(S₁Q)⁻², σ_min(S₁Q)⁻²]` for every row and seed | `leverage::sandwich_identity_holds_for_every_row_and_every_seed` (3 matrices, `m₁ = d, 2d, 4d`, 5 seeds, 1e-10); ridge form `claims_review::approx_ridge_scores_obey_the_sandwich_identity` | conforms |
//! | 4 | `m₁ = 2d` gives median relative error ≈ 1; `m₁ ≥ 10d`, `r₂ = 100–400` for per-row accuracy | `leverage::approx_error_table_is_reproduced` (median 1.00 at `2d`, the table to `0.01 + 3 %`) | conforms |
//! | 4 | approximate scores within stated relative error on ≥ (1 − δ) of rows | `leverage::approximate_scores_meet_the_promised_accuracy` (50 % ≤ 0.15, 90 % ≤ 0.35, 99 % ≤ 0.6 on three 20000 × 50 families) | conforms |
//! | 4 | sampling `p_i ∝ ℓ̃_i`, rescaled `1/√(m p_i)`; Bernoulli | `sampling_diagnostics_review::sampling_is_unbiased_and_scaled_as_documented`, `leverage::draws_follow_the_probabilities`, `leverage::sampling_sketches_are_unbiased`, `leverage::bernoulli_keeps_saturated_rows_unscaled` | conforms |
//! | 4 | sampling sketch is an embedding (κ(SQ) bounded) on coherent matrices | `leverage::leverage_sampling_embeds_the_coherent_matrix_where_uniform_sampling_fails` (κ ≤ 7, all seeds; uniform sampling fails) | conforms |
//!
//! Not checked here: the benchmark lines of §1 and §3 (log-log slope of time against nnz, time
//! against `m`): timing, not correctness, and long runs are out of scope for a test.

use crate::common;

use common::dense;
use faer::{Mat, Par};
use randnla::sketch::tensor::{PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch};
use randnla::sketch::{SketchExt, SketchKind, SketchOperator, Srht};
use randnla::{diagnostics, problems, Seed};

/// The two 20000 × 50 matrices of §1(c) as orthonormal bases: Gaussian and `[I_d; 1e-3·G]`.
fn bases() -> [(&'static str, Mat<f64>); 2] {
    let (n, d) = (20_000, 50);
    let g = problems::gaussian_matrix(n, d, Seed::new(1)).unwrap();
    let c = problems::coherent_matrix(n, d, 1e-3, Seed::new(2)).unwrap();
    [
        (
            "gaussian",
            diagnostics::orthonormal_basis(g.as_ref()).unwrap(),
        ),
        (
            "coherent",
            diagnostics::orthonormal_basis(c.as_ref()).unwrap(),
        ),
    ]
}

/// Sorted κ(S·Q) over `seeds`, κ computed exactly (QR route: `n·d = 10⁶` entries).
fn kappas(kind: SketchKind, m: usize, q: &Mat<f64>, seeds: std::ops::Range<u64>) -> Vec<f64> {
    let mut v: Vec<f64> = seeds
        .map(|s| {
            let op = kind.build::<f64>(m, q.nrows(), Seed::new(s)).unwrap();
            diagnostics::distortion(&*op, q.as_ref(), Par::Seq).unwrap()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Upper median of a sorted slice (`v[len/2]`).
fn median(v: &[f64]) -> f64 {
    v[v.len() / 2]
}

/// §1(c) reference figures: `n = 20000, d = 50, s = 8, m = 2d`, 20 seeds (0–19): median κ ≈ 5.3,
/// max ≈ 6.3, on the Gaussian and on the coherent `A`.
///
/// Pass rules, set from the spec before measuring: median within ±0.35 of 5.3 (the 20-seed
/// median has a sampling sd of about 0.1 for a κ spread of ≈ 0.4, and the figure has two
/// digits); max within ±0.7 of 6.3 (the maximum of 20 is noisier). A sketch that is "as good as
/// Gaussian" in the limit, `(√2 + 1)/(√2 − 1) ≈ 5.83`, for the median would fail; so would
/// CountSketch on the coherent `A` (κ ≈ 24).
#[test]
fn sparse_sign_reference_figures_over_twenty_seeds() {
    let d = 50;
    let kind = SketchKind::SparseSign { nnz_per_col: 8 };
    for (name, q) in bases() {
        let ks = kappas(kind, 2 * d, &q, 0..20);
        let (med, max) = (median(&ks), ks[ks.len() - 1]);
        eprintln!("sparse sign s=8, m=2d, {name}: median κ {med:.3}, max {max:.3}");
        assert!(
            (med - 5.3).abs() <= 0.35,
            "{name}: median κ = {med} (spec ≈ 5.3): {ks:?}"
        );
        assert!(
            (max - 6.3).abs() <= 0.7,
            "{name}: max κ = {max} (spec ≈ 6.3): {ks:?}"
        );
    }
}

/// §1(c) negative control, figures: CountSketch on the coherent `[I_d; 1e-3·G]` (`n = 20000`,
/// `d = 50`) gives κ ≈ 24 at `m = 2d` and "still ≈ 10" at `m = 20d`, where sparse sign (`s = 8`)
/// on the same matrix is near the Gaussian value `(√20 + 1)/(√20 − 1) ≈ 1.58`.
///
/// At `m = 20d` CountSketch's κ is bimodal (see
/// `sketch_core::countsketch_fails_on_coherent_matrices_as_documented`): ≈ 10 when two of the
/// `d` identity rows share a bucket (probability ≈ 0.71), ≈ 1.1 otherwise; the spec's "≈ 10"
/// is the value of the failing seeds.
/// Pass rules (20 seeds, 0–19): CountSketch median κ at `2d` within ±25 % of 24; among the seeds
/// with κ > 5 at `20d` (at least 7 of them) the median within ±25 % of 10; sparse sign at `20d`
/// below 2 on every seed — the contrast the spec wants shown to users.
#[test]
fn countsketch_negative_control_reference_figures() {
    let d = 50;
    let [_, (_, q)] = bases();
    let at_2d = kappas(SketchKind::CountSketch, 2 * d, &q, 0..20);
    let med_2d = median(&at_2d);
    let at_20d = kappas(SketchKind::CountSketch, 20 * d, &q, 0..20);
    let failing: Vec<f64> = at_20d.iter().copied().filter(|&k| k > 5.0).collect();
    let sparse_20d = kappas(SketchKind::SparseSign { nnz_per_col: 8 }, 20 * d, &q, 0..20);
    eprintln!(
        "CountSketch coherent: median κ at 2d {med_2d:.2}; at 20d {} of 20 seeds fail, \
         their median {:.2}; sparse sign at 20d max {:.3}",
        failing.len(),
        if failing.is_empty() {
            f64::NAN
        } else {
            median(&failing)
        },
        sparse_20d[19]
    );
    assert!(
        (med_2d / 24.0 - 1.0).abs() <= 0.25,
        "CountSketch m=2d: median κ {med_2d} (spec ≈ 24): {at_2d:?}"
    );
    assert!(failing.len() >= 7, "m=20d: {at_20d:?}");
    let med_fail = median(&failing);
    assert!(
        (med_fail / 10.0 - 1.0).abs() <= 0.25,
        "CountSketch m=20d: failing seeds' median κ {med_fail} (spec ≈ 10): {at_20d:?}"
    );
    assert!(
        sparse_20d[19] < 2.0,
        "sparse sign m=20d on coherent: {sparse_20d:?}"
    );
}

/// `H[r][c] = (−1)^{popcount(r & c)}`, the natural-order (Sylvester) Walsh–Hadamard matrix.
fn hadamard(r: usize, c: usize) -> f64 {
    if (r & c).count_ones().is_multiple_of(2) {
        1.0
    } else {
        -1.0
    }
}

/// §2: the SRHT is `√(n'/m)·R·(H/√n')·D = (1/√m)·R·H·D` on the input zero-padded to
/// `n' = 2^⌈log₂ n⌉`, `R` a uniform selection of `m` distinct rows (no row twice: sampling with
/// replacement would make `‖Se_i‖²` random).
///
/// Checked exactly on `n = 1000` (`n' = 1024`, so the padding is used) and `n = 64` (no
/// padding), `m = 37` and `m = 64 = n'` (every row), seed 5: `selected_rows()` are `m` distinct
/// values in `0..n'`; every entry of `to_dense()` has magnitude exactly `1/√m` (1 ulp: one
/// rounded square root and division); `S[t, c] = (1/√m)·H[rows[t], c]·D_c` with a single sign
/// `D_c` per column; `to_dense()` equals the first `n` columns of the SRHT built for `n' `
/// columns from the same seed when `n'` is the same (`n = 1000` vs `1024`: the padded size, not
/// `n`, fixes the operator); `S·A` for a random `1000 × 3` `A` equals `to_dense()·A` to 1e-13.
#[test]
fn srht_is_the_scaled_subsampled_hadamard_of_the_padded_input() {
    for (m, n) in [(37usize, 1000usize), (64, 1000), (37, 64), (64, 64)] {
        let op = Srht::new(m, n, Seed::new(5)).unwrap();
        let n_pad = n.next_power_of_two();
        assert_eq!(op.padded_dim(), n_pad);
        let rows = op.selected_rows().to_vec();
        assert_eq!(rows.len(), m);
        let mut sorted = rows.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), m, "m={m} n={n}: repeated rows {rows:?}");
        assert!(sorted.iter().all(|&r| r < n_pad));
        let s: Mat<f64> = op.to_dense().unwrap();
        assert_eq!((s.nrows(), s.ncols()), (m, n));
        let mag = 1.0 / (m as f64).sqrt();
        for c in 0..n {
            let d_c = s[(0, c)].signum() * hadamard(rows[0], c);
            for (t, &r) in rows.iter().enumerate() {
                let want = mag * hadamard(r, c) * d_c;
                assert!(
                    (s[(t, c)] - want).abs() <= f64::EPSILON * mag,
                    "m={m} n={n}: S[{t},{c}] = {} vs {want}",
                    s[(t, c)]
                );
            }
        }
        if n != n_pad {
            let full: Mat<f64> = Srht::new(m, n_pad, Seed::new(5))
                .unwrap()
                .to_dense()
                .unwrap();
            for c in 0..n {
                for t in 0..m {
                    assert_eq!(s[(t, c)], full[(t, c)], "m={m}: n={n} vs n'={n_pad}");
                }
            }
        }
        let a = problems::gaussian_matrix(n, 3, Seed::new(6)).unwrap();
        let sa = op.apply(dense(&a), Par::Seq).unwrap();
        let explicit = &s * &a;
        let scale = explicit.norm_max();
        let err = (&sa - &explicit).norm_max() / scale;
        assert!(err < 1e-13, "m={m} n={n}: S·A vs to_dense()·A {err:e}");
    }
}

/// §3: "TS(x) equals the CountSketch of `x^{⊗p}` with hash `Σ_k h_k(i_k) mod m` and sign
/// `∏_k σ_k(i_k)`". `tensor_sketch::fft_path_equals_the_explicit_tensor_countsketch` builds its
/// reference with the crate's own `tensor_bucket`; here the reference is assembled from the
/// per-mode buckets `mode_bucket(k, i)` by the spec's formula, on the spec's `d = 5, p = 3,
/// m = 16` (and `d = 7, p = 4, m = 13`, odd `m`), for `apply_power` and for `apply_kron` of three
/// different vectors. Pass rule: max error ≤ 1e-12 of the largest entry (the spec's tolerance).
#[test]
fn fft_path_equals_the_tensor_countsketch_built_from_its_definition() {
    let vector = |d: usize, salt: u64| -> Vec<f64> {
        (0..d)
            .map(|i| (((i as u64 * 37 + salt * 11) % 23) as f64 - 11.0) / 7.0)
            .collect()
    };
    for (d, p, m, seed) in [(5usize, 3usize, 16usize, 11u64), (7, 4, 13, 12)] {
        let ts = TensorSketch::new(p, d, m, Seed::new(seed)).unwrap();
        let xs: Vec<Vec<f64>> = (0..p).map(|k| vector(d, k as u64 + 1)).collect();
        let reference = |factors: &[&[f64]]| -> Vec<f64> {
            let mut out = vec![0.0; m];
            let total = d.pow(p as u32);
            for flat in 0..total {
                let (mut f, mut h, mut sign, mut v) = (flat, 0usize, 1.0, 1.0);
                for (k, factor) in factors.iter().enumerate() {
                    let i = f % d;
                    f /= d;
                    let (hk, sk) = ts.mode_bucket(k, i).unwrap();
                    h += hk;
                    sign *= sk;
                    v *= factor[i];
                }
                out[h % m] += sign * v;
            }
            out
        };
        let max_rel = |got: &[f64], want: &[f64]| {
            let den = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            got.iter()
                .zip(want)
                .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()))
                / den
        };
        let x = &xs[0];
        let same: Vec<&[f64]> = (0..p).map(|_| x.as_slice()).collect();
        let err = max_rel(&ts.apply_power(x).unwrap(), &reference(&same));
        assert!(err <= 1e-12, "d={d} p={p} m={m}: apply_power error {err:e}");
        let different: Vec<&[f64]> = xs.iter().map(|v| v.as_slice()).collect();
        let err = max_rel(&ts.apply_kron(&different).unwrap(), &reference(&different));
        assert!(err <= 1e-12, "d={d} p={p} m={m}: apply_kron error {err:e}");
    }
}

/// §3: "Polynomial kernel `(γ⟨x,y⟩ + c)^p`: scale `x` by `√γ` and append `√c`". The features
/// of `x` are the TensorSketch (or tree sketch) of `x̃ = (√γ·x, √c)` built as
/// `TensorSketch::new(p, d + 1, m, seed)` (the construction `PolyKernelFeatures` documents).
/// `γ = 0.7`, `c = 1.3`, `p = 3`, `d = 6`, `m = 32`, seed 9, three vectors.
/// Pass rule: max error ≤ 1e-13 of the largest entry (the two differ at most by the rounding of
/// `√γ·x_i`). A feature map that scaled by `γ` instead of `√γ` or appended `c` would miss by far
/// more.
#[test]
fn poly_features_are_the_tensor_sketch_of_the_lifted_input() {
    let (d, p, m, gamma, c) = (6usize, 3usize, 32usize, 0.7f64, 1.3f64);
    let params = PolyKernelParams {
        degree: p,
        gamma,
        coef0: c,
        sketch_dim: m,
        method: TensorMethod::Fft,
    };
    let f = PolyKernelFeatures::new(d, params, Seed::new(9)).unwrap();
    let ts = TensorSketch::new(p, d + 1, m, Seed::new(9)).unwrap();
    for salt in 0..3u64 {
        let x: Vec<f64> = (0..d)
            .map(|i| (((i as u64 * 13 + salt * 5) % 11) as f64 - 5.0) / 3.0)
            .collect();
        let mut lifted: Vec<f64> = x.iter().map(|v| gamma.sqrt() * v).collect();
        lifted.push(c.sqrt());
        let got = f.transform_vec(&x).unwrap();
        let want = ts.apply_power(&lifted).unwrap();
        let den = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let err = got
            .iter()
            .zip(&want)
            .fold(0.0f64, |a, (g, w)| a.max((g - w).abs()))
            / den;
        assert!(err <= 1e-13, "x #{salt}: features vs TS(x̃) error {err:e}");
    }
}
