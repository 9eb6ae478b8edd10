//! A third review of the quantitative claims in the docs, for the sketch core:
//! `src/sketch/{mod,count,sparse_sign,gaussian,srht,sampling,kernels}.rs`, `src/input.rs`,
//! `src/dense.rs`, `src/scalar.rs`, the crate guide's "which sketch for which job"
//! (`src/lib.rs`) and README.md's table of which sketch to use and its distortion table. Line
//! numbers are those of the review (2026-12-06). Claims that an earlier test already checks
//! (distributions, `E‖Sx‖²`, `Var‖Sx‖²`, `E[SᵀS] = I`, the bitwise contracts across threads,
//! layouts and row blocks, `f32` = `f64` rounded, every limit and refusal, the overflow
//! contract) are listed in the review's report and not repeated; the tests below check the
//! ones no test did, against exact computation (the materialized sketch, exact SVDs, closed
//! forms) on adversarial but legal inputs.
//!
//! Result: every distortion figure of README.md's table and of the crate guide reproduces to
//! the printed digits (as the 11th smallest of the 20 seeds, the convention of
//! `tests/sketch_core.rs`), and the mechanisms the README gives for the failures hold exactly:
//! CountSketch at `m = 20d` fails on the coherent matrix exactly when two of its first `d` rows
//! share a bucket, and the SRHT's sketch of a range on the first 64 coordinates has exactly as
//! many distinct rows as its selected rows have residues mod 64 (50.9 on average, "about 51").
//! Sparse sign `s = 8` at `m = 2d` holds its "≈ 5–6 on any matrix" on the fully coherent
//! `[I_d; 0]` (median 5.19 at `d = 50`, 5.64 at `d = 200`), the Gaussian sketch's documented
//! stream and the doc example's "κ around 3" hold, and so does the overflow remedy's
//! `S·(2⁻ᵏA) = 2⁻ᵏ·S·A` "exactly", bit for bit, for every family. Four statements did not hold
//! (first committed ignored as `BUG (doc)`; the code is right in each; the docs were corrected the
//! same day and the tests run): in `src/sketch/mod.rs`, the SRHT's column `j`
//! depends on `n' = 2^⌈log₂ n⌉`, not only on `(seed, j)`; the `−0` exception runs the other way
//! round for the SRHT (a dense `A` turns an output's `−0` into `+0`; an explicitly stored zero
//! can keep it); "entries within a factor of about `√n`" of the largest value is the overflow
//! threshold of typical data only (data whose signs follow the sketch's overflow a factor
//! `≈ n/m` below it: 8192 at `n = 65536`, `m = 4`); in README.md, the SRHT row-block merge's
//! "≈ 1e-13 relative" is relative to `A`, not to `S·A` (`1.1·10⁻⁸` relative to `S·A` on an `A`
//! whose sketch is small next to it).
//!
//! Two code bugs of row sampling, both on rows drawn at odds of `2⁻⁵³` per draw (reached here
//! with the seed whose first uniform is exactly 0, found by inverting SplitMix64), first
//! committed ignored as `BUG` and fixed the same day (the tests run):
//! `RowSampling::with_replacement` computed a drawn row's scale `1/√(m·w_i/Σw)` with `m·w_i/Σw`
//! underflowing to 0 for a subnormal weight and returned `Ok` with a scale of `+∞` (weights
//! `[5e-324, 2]`); and in `f32` a finite scale above `f32::MAX` (weights `[1e-90, 1]`: `1e45`) was
//! rounded to `+∞`, so `S·A` of an `A` of entries `1e-30` was reported as an overflow that scaling
//! `A` down would cure.

use faer::{Mat, Par};
use rand_distr::{Distribution, StandardNormal};
use randnla::diagnostics::{distortion, orthonormal_basis};
use randnla::problems;
use randnla::sketch::{
    CountSketch, Gaussian, SketchExt, SketchKind, SketchOperator, SparseSign, Srht,
};
use randnla::{MatrixRef, Seed};
use std::sync::OnceLock;

/// The README table's two `20000 × 50` matrices as orthonormal bases of their ranges (the
/// inputs of `tests/sketch_core.rs`'s `table_bases`): a Gaussian one (seed 1) and the coherent
/// `[I; 10⁻³G]` (seed 2). Computed once for the tests of this file.
fn table_bases() -> &'static [Mat<f64>; 2] {
    static BASES: OnceLock<[Mat<f64>; 2]> = OnceLock::new();
    BASES.get_or_init(|| {
        let (n, d) = (20_000, 50);
        let g = problems::gaussian_matrix(n, d, Seed::new(1)).unwrap();
        let c = problems::coherent_matrix(n, d, 1e-3, Seed::new(2)).unwrap();
        [
            orthonormal_basis(g.as_ref()).unwrap(),
            orthonormal_basis(c.as_ref()).unwrap(),
        ]
    })
}

/// `κ(SQ)` for the sketch of `kind` with `m` rows drawn from each seed.
fn kappas(kind: SketchKind, m: usize, q: &Mat<f64>, seeds: std::ops::Range<u64>) -> Vec<f64> {
    seeds
        .map(|s| {
            let op = kind.build::<f64>(m, q.nrows(), Seed::new(s)).unwrap();
            distortion(&*op, q.as_ref(), Par::Seq).unwrap()
        })
        .collect()
}

/// The element at index `len/2` of the sorted values: for 20 seeds the 11th smallest, the
/// "median" of `tests/sketch_core.rs` (and of the README's table).
fn upper_median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// `Q = [I_d; 0]` (`n × d`): every direction of the range on a single row, the limit `ε → 0` of
/// the coherent `[I; εG]` and the worst case for a sparse sketch.
fn fully_coherent(n: usize, d: usize) -> Mat<f64> {
    Mat::from_fn(n, d, |i, j| if i == j { 1.0 } else { 0.0 })
}

/// `(mean, standard error)` of the values.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let k = v.len() as f64;
    let mean = v.iter().sum::<f64>() / k;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
    (mean, (var / k).sqrt())
}

/// Claims, `README.md:135-142` (the distortion table: "median over 20 seeds, n = 20000,
/// d = 50"), `src/lib.rs:38-41` ("sparse sign `s = 8` at `m = 2d` has median κ(SQ) ≈ 5.3;
/// CountSketch ≈ 24 at `m = 2d` and still ≈ 10 at `m = 20d`; the SRHT ≈ 21 at `m = 2d` (≈ 2.2 at
/// `m = 8d`). On a Gaussian matrix all four give ≈ 5.3–5.6 at `m = 2d`"), `README.md:149`
/// ("at `m = 8d` it recovers (median 2.23)") and `src/sketch/count.rs:19` ("24.3 for
/// CountSketch"). `tests/sketch_core.rs` checks these in bands (4.5–6.5, above 15, …); this
/// recomputes each printed figure.
///
/// Inputs: the table's two bases, seeds 0..20 for every entry, each family built through
/// `SketchKind` as the table's test builds it. Pass rule: the 11th smallest `κ` of the 20 (the
/// test's median) equals the printed figure to its printed digits (`|κ − figure| ≤ 0.005` for
/// two decimals, `≤ 0.05` for one); the sketches are bitwise reproducible and the SVD is a
/// deterministic computation, so there is no false-alarm rate to allow for. Measured: 5.548,
/// 5.312, 1.545, 5.369, 5.435; 5.251, 24.31, 10.14, 5.460, 20.76; 2.230 at `8d`. (With the
/// conventional median of 20 values, the mean of the 10th and 11th, the first entry would read
/// 5.49 and CountSketch at `20d` on the coherent matrix 10.0.)
#[test]
fn readme_distortion_table_figures_reproduce_to_their_printed_digits() {
    let d = 50;
    let ss = SketchKind::SparseSign { nnz_per_col: 8 };
    let [qg, qc] = table_bases();
    let table = [
        ("gaussian, sparse sign m=2d", qg, ss, 2 * d, 5.55, 0.005),
        (
            "gaussian, CountSketch m=2d",
            qg,
            SketchKind::CountSketch,
            2 * d,
            5.31,
            0.005,
        ),
        (
            "gaussian, CountSketch m=20d",
            qg,
            SketchKind::CountSketch,
            20 * d,
            1.54,
            0.005,
        ),
        (
            "gaussian, Gaussian m=2d",
            qg,
            SketchKind::Gaussian,
            2 * d,
            5.37,
            0.005,
        ),
        (
            "gaussian, SRHT m=2d",
            qg,
            SketchKind::Srht,
            2 * d,
            5.43,
            0.005,
        ),
        ("coherent, sparse sign m=2d", qc, ss, 2 * d, 5.25, 0.005),
        (
            "coherent, CountSketch m=2d",
            qc,
            SketchKind::CountSketch,
            2 * d,
            24.3,
            0.05,
        ),
        (
            "coherent, CountSketch m=20d",
            qc,
            SketchKind::CountSketch,
            20 * d,
            10.1,
            0.05,
        ),
        (
            "coherent, Gaussian m=2d",
            qc,
            SketchKind::Gaussian,
            2 * d,
            5.46,
            0.005,
        ),
        (
            "coherent, SRHT m=2d",
            qc,
            SketchKind::Srht,
            2 * d,
            20.8,
            0.05,
        ),
        (
            "coherent, SRHT m=8d",
            qc,
            SketchKind::Srht,
            8 * d,
            2.23,
            0.005,
        ),
    ];
    let mut bad = Vec::new();
    let mut at_2d_on_gaussian = Vec::new();
    for (what, q, kind, m, printed, tol) in table {
        let got = upper_median(kappas(kind, m, q, 0..20));
        if (got - printed).abs() > tol {
            bad.push(format!("{what}: κ = {got:.4}, printed {printed}"));
        }
        if std::ptr::eq(q, qg) && m == 2 * d {
            at_2d_on_gaussian.push(got);
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    // The crate guide's summary of the Gaussian row: "all four give ≈ 5.3–5.6 at m = 2d".
    assert!(
        at_2d_on_gaussian.iter().all(|k| (5.295..5.605).contains(k)),
        "{at_2d_on_gaussian:?}"
    );
}

/// Claim, `README.md:144-147`: "CountSketch fails when two of those rows share a bucket; at
/// `m = 20d` that happened in 11 of the 20 seeds (κ ≈ 10; the birthday bound `1 − e^{−d²/2m}`
/// gives about 70%), and the other 9 give κ ≈ 1.1."
///
/// Inputs: the coherent basis, `m = 20d = 1000`, seeds 0..40; whether two of the first `d` rows
/// share a bucket is read from [`CountSketch::bucket`]. Pass rule (deterministic, the seeds are
/// fixed): for every seed, a shared bucket ⇔ `κ > 5`; the seeds with a shared bucket have
/// `κ ∈ [8, 13]` ("≈ 10"; measured 9.90–11.03), the others `κ < 1.2` ("≈ 1.1"; measured
/// 1.082–1.093); exactly 11 of seeds 0..20 share a bucket; the exact collision probability
/// `1 − ∏_{k<d}(1 − k/m) = 0.712` and the quoted bound `1 − e^{−d²/2m} = 0.713` both round to
/// "about 70%" (within 0.05 of 0.70).
#[test]
fn countsketch_at_20d_fails_exactly_when_two_identity_rows_share_a_bucket() {
    let (n, d) = (20_000, 50);
    let m = 20 * d;
    let [_, qc] = table_bases();
    let mut shared_in_first_20 = 0;
    for seed in 0..40u64 {
        let op = CountSketch::new(m, n, Seed::new(seed)).unwrap();
        let kappa = distortion(&op, qc.as_ref(), Par::Seq).unwrap();
        let mut buckets: Vec<usize> = (0..d).map(|j| op.bucket(j).unwrap().0).collect();
        buckets.sort_unstable();
        let shared = buckets.windows(2).any(|w| w[0] == w[1]);
        if shared && seed < 20 {
            shared_in_first_20 += 1;
        }
        assert_eq!(
            shared,
            kappa > 5.0,
            "seed {seed}: shared bucket {shared}, κ = {kappa}"
        );
        if shared {
            assert!((8.0..=13.0).contains(&kappa), "seed {seed}: κ = {kappa}");
        } else {
            assert!(kappa < 1.2, "seed {seed}: κ = {kappa}");
        }
    }
    assert_eq!(shared_in_first_20, 11);
    let exact = 1.0 - (0..d).map(|k| 1.0 - k as f64 / m as f64).product::<f64>();
    let bound = 1.0 - (-((d * d) as f64) / (2.0 * m as f64)).exp();
    for p in [exact, bound] {
        assert!((p - 0.70).abs() <= 0.05, "collision probability {p}");
    }
}

/// Claim, `README.md:147-149`: "the Walsh–Hadamard transform of a vector supported on the first
/// 64 coordinates repeats with period 64, so `m = 100` sampled rows see only about 51 distinct
/// patterns for `d = 50`".
///
/// Inputs: `Q = [I_50; 0]` (`n = 20000`, `n' = 32768`), the SRHT with `m = 100`, seeds 0..20 (the
/// table's). Pass rule (exact, deterministic): for every seed the number of distinct rows of
/// `S·Q` (compared bit for bit) equals the number of distinct residues mod 64 among
/// [`Srht::selected_rows`], and `κ(SQ) = ∞` whenever that number is below `d = 50` (rank
/// deficient). "About 51": the exact expectation for 100 rows drawn without replacement from
/// 32768, 512 per residue, `64·(1 − ∏_{k<100}(1 − 512/(32768 − k))) = 50.78`, lies in
/// [50.5, 51.5], and
/// so does the mean over the 20 seeds (measured 50.9; its standard deviation over seeds is
/// about 2, so a stated band of ±0.5 around 51 is a check of these seeds, not a statistical
/// rule: the seeds are the README's).
#[test]
fn srht_rows_repeat_with_period_64_on_the_first_64_coordinates() {
    let (n, d, m) = (20_000, 50, 100);
    let q = fully_coherent(n, d);
    let mut total = 0usize;
    for seed in 0..20u64 {
        let op = Srht::new(m, n, Seed::new(seed)).unwrap();
        assert_eq!(op.padded_dim(), 32_768);
        let mut residues: Vec<usize> = op.selected_rows().iter().map(|r| r % 64).collect();
        residues.sort_unstable();
        residues.dedup();
        let sq = op
            .apply(MatrixRef::dense(q.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        let mut rows: Vec<Vec<u64>> = (0..m)
            .map(|k| (0..d).map(|j| sq[(k, j)].to_bits()).collect())
            .collect();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), residues.len(), "seed {seed}");
        if residues.len() < d {
            let kappa = distortion(&op, q.as_ref(), Par::Seq).unwrap();
            assert_eq!(
                kappa,
                f64::INFINITY,
                "seed {seed}: {} patterns",
                residues.len()
            );
        }
        total += residues.len();
    }
    let mean = total as f64 / 20.0;
    let keep_none: f64 = (0..m)
        .map(|k| 1.0 - 512.0 / (32_768.0 - k as f64))
        .product();
    let expected = 64.0 * (1.0 - keep_none);
    for v in [mean, expected] {
        assert!(
            (50.5..=51.5).contains(&v),
            "distinct patterns {v} (mean {mean}, E {expected})"
        );
    }
}

/// Claims, `src/lib.rs:32` and `README.md:123`: sparse sign with `s = 8` gives "distortion κ(SQ)
/// ≈ 5–6 at `m = 2d` on *any* matrix, coherent ones included"; `src/sketch/sparse_sign.rs:203-205`
/// "on coherent matrices too". The tests so far used `[I; 10⁻³G]`, whose first rows carry 98%
/// of the range; this takes the limit: `Q = [I_d; 0]`, every direction on one row, so `S·Q` is
/// the first `d` columns of `S` and nothing outside them can help.
///
/// Inputs: `n = 20000`; `d = 50` (`m = 100`, 100 seeds) and `d = 200` (`m = 400`, 20 seeds).
/// Pass rule, the one `tests/sketch_core.rs` applies to the coherent matrix: `κ ≤ 7` for at
/// least 99 of the 100 seeds at `d = 50`, and the median in [4.5, 6.5] at both `d` (measured:
/// median 5.19, max 6.26 at `d = 50`; median 5.64, max 6.01 at `d = 200`).
#[test]
fn sparse_sign_s8_at_2d_holds_on_the_fully_coherent_basis() {
    let n = 20_000;
    let ss = SketchKind::SparseSign { nnz_per_col: 8 };
    for (d, seeds) in [(50usize, 0..100u64), (200, 0..20)] {
        let q = fully_coherent(n, d);
        let ks = kappas(ss, 2 * d, &q, seeds);
        if d == 50 {
            let within = ks.iter().filter(|&&k| k <= 7.0).count();
            assert!(
                within >= 99,
                "d = {d}: {within}/100 seeds with κ ≤ 7: {ks:?}"
            );
        }
        let med = upper_median(ks);
        assert!((4.5..=6.5).contains(&med), "d = {d}: median κ = {med}");
    }
}

/// Claim, `src/sketch/gaussian.rs:67-68` (the doc example): "A Gaussian sketch of 4d rows embeds
/// the range of any n × d matrix with distortion κ(SQ) around (1 + √(1/4)) / (1 − √(1/4)) = 3,
/// coherent or not". The example asserts only `1 < κ < 6` on one seed.
///
/// For orthonormal `Q`, `S·Q` is an `m × d` matrix of iid `N(0, 1/m)` entries whatever `Q`, and
/// Gordon's theorem bounds its extreme singular values in expectation: `E σ_max ≤ 1 + √(d/m)`,
/// `E σ_min ≥ 1 − √(d/m)` (here 1.5 and 0.5), the edges whose ratio is the 3.
///
/// Inputs: the example's shape (`n = 2000`, `d = 10`, `m = 40`), its Gaussian `A` (seed 1) and
/// the coherent `[I; 10⁻³G]`, 200 seeds each. Pass rules: the mean of `σ_max` at most
/// `1.5 + 4·SE` and the mean of `σ_min` at least `0.5 − 4·SE` (one-sided 4σ: false alarm
/// ≈ 3·10⁻⁵ each); the median `κ` within 25% of 3 ("around"), i.e. in [2.25, 3.75]. Measured:
/// mean `σ_max` 1.40 and 1.41, mean `σ_min` 0.57 and 0.56, median `κ` 2.47 and 2.50 (at finite
/// `d` the edges fall inside Marchenko–Pastur's, so 3 is approached from below).
#[test]
fn gaussian_doc_example_distortion_is_around_three() {
    let (n, d, m) = (2000, 10, 40);
    let inputs = [
        problems::gaussian_matrix(n, d, Seed::new(1)).unwrap(),
        problems::coherent_matrix(n, d, 1e-3, Seed::new(2)).unwrap(),
    ];
    for (which, a) in inputs.iter().enumerate() {
        let q = orthonormal_basis(a.as_ref()).unwrap();
        let (mut smax, mut smin, mut ks) = (Vec::new(), Vec::new(), Vec::new());
        for seed in 0..200u64 {
            let op = Gaussian::new(m, n, Seed::new(1000 + seed)).unwrap();
            let sq = op
                .apply(MatrixRef::dense(q.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            let sv = sq.singular_values().unwrap();
            smax.push(sv[0]);
            smin.push(sv[d - 1]);
            ks.push(sv[0] / sv[d - 1]);
        }
        let (mx, mx_se) = mean_se(&smax);
        let (mn, mn_se) = mean_se(&smin);
        assert!(
            mx <= 1.5 + 4.0 * mx_se,
            "input {which}: E σ_max ≈ {mx} ± {mx_se}"
        );
        assert!(
            mn >= 0.5 - 4.0 * mn_se,
            "input {which}: E σ_min ≈ {mn} ± {mn_se}"
        );
        let med = upper_median(ks);
        assert!(
            (2.25..=3.75).contains(&med),
            "input {which}: median κ = {med}"
        );
    }
}

/// Claims, `src/sketch/gaussian.rs:27-30`: "the `m × n` matrix `S` has iid `N(0, 1/m)` entries.
/// Columns `64g .. 64g + 63` of `S` are drawn, column by column, from a `Xoshiro256PlusPlus`
/// stream seeded by `(seed, g)`"; `src/scalar.rs:7-8`: "Sketches are generated in `f64` and
/// rounded once to `T`". Other tests check the values' distribution and pin golden values;
/// none regenerates `S` from the documented stream.
///
/// Inputs: `m = 5`, `n = 130` (three generation blocks, the last with 2 columns), seeds 0 and
/// 0xDEAD_BEEF. The reference draws `StandardNormal` samples from [`Seed::block_rng`] for the
/// Gaussian stream (`3`, the stream number of `src/seed.rs`), `m` per column in column order,
/// each times `1/√m` in `f64`. Pass rule: `to_dense` equals it bit for bit in `f64`, and the
/// `f32` sketch equals it rounded to `f32`, bit for bit.
#[test]
fn gaussian_columns_are_the_documented_stream() {
    const GAUSSIAN_BLOCKS: u64 = 3;
    let (m, n) = (5usize, 130usize);
    for seed in [0u64, 0xDEAD_BEEF] {
        let seed = Seed::new(seed);
        let op = Gaussian::new(m, n, seed).unwrap();
        let s64 = SketchOperator::<f64>::to_dense(&op).unwrap();
        let s32 = SketchOperator::<f32>::to_dense(&op).unwrap();
        let scale = 1.0 / (m as f64).sqrt();
        for g in 0..n.div_ceil(64) {
            let mut rng = seed.block_rng(GAUSSIAN_BLOCKS, g as u64);
            for j in 64 * g..(64 * g + 64).min(n) {
                for i in 0..m {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    let want = z * scale;
                    assert_eq!(s64[(i, j)].to_bits(), want.to_bits(), "({i}, {j})");
                    assert_eq!(
                        s32[(i, j)].to_bits(),
                        (want as f32).to_bits(),
                        "f32 ({i}, {j})"
                    );
                }
            }
        }
    }
}

/// Claim, `src/sketch/mod.rs:19`: "Column `j` of every sketch is a pure function of
/// `(seed, j)`" (given the family's `m` and `s`; for the row-sampling sketch the docs name the
/// weights too). `tests/sketch_core.rs` checks it, as "columns do not depend on the number of
/// columns", for CountSketch, sparse sign and Gaussian only. For the SRHT it does not hold:
/// `R` selects `m` of the `n' = 2^⌈log₂ n⌉` rows of `H`, so column `j` depends on `n` through
/// `n'`.
///
/// Inputs: `m = 8`, seed 3, `n ∈ {1000, 1024, 1025}` (`n' = 1024, 1024, 2048`). The true
/// behaviour, pinned: the first 1000 columns of `S` are bitwise equal for `n = 1000` and `1024`
/// (same `n'`), and differ for `n = 1025` (the selected rows differ; measured). Passes once the
/// doc says the SRHT's columns depend on `n'` as well.
#[test]
fn srht_columns_depend_on_the_padded_dimension() {
    let dense = |n: usize| {
        let op = Srht::new(8, n, Seed::new(3)).unwrap();
        (
            SketchOperator::<f64>::to_dense(&op).unwrap(),
            op.selected_rows().to_vec(),
        )
    };
    let (s1000, r1000) = dense(1000);
    let (s1024, r1024) = dense(1024);
    let (s1025, r1025) = dense(1025);
    let head_equal = |a: &Mat<f64>, b: &Mat<f64>| {
        (0..8).all(|i| (0..1000).all(|j| a[(i, j)].to_bits() == b[(i, j)].to_bits()))
    };
    assert_eq!(r1000, r1024);
    assert!(head_equal(&s1000, &s1024));
    assert_ne!(r1000, r1025);
    assert!(!head_equal(&s1000, &s1025));
    // The other families' columns do not depend on n across the same sizes.
    for (name, a, b) in [
        (
            "sparse sign",
            SketchOperator::<f64>::to_dense(&SparseSign::new(8, 1000, 4, Seed::new(3)).unwrap())
                .unwrap(),
            SketchOperator::<f64>::to_dense(&SparseSign::new(8, 1025, 4, Seed::new(3)).unwrap())
                .unwrap(),
        ),
        (
            "gaussian",
            SketchOperator::<f64>::to_dense(&Gaussian::new(8, 1000, Seed::new(3)).unwrap())
                .unwrap(),
            SketchOperator::<f64>::to_dense(&Gaussian::new(8, 1025, Seed::new(3)).unwrap())
                .unwrap(),
        ),
    ] {
        assert!(head_equal(&a, &b), "{name}");
    }
}

/// Claim, `src/sketch/mod.rs:30-34`: "One exception to "bitwise" across layouts, and only for
/// an output that holds `−0` before a call to `apply_block_into`: a zero stored explicitly in a
/// CSR or CSC `A` is added (a `±0`, which turns `−0` into `+0`), while the zeros of a dense `A`
/// are skipped. The values are equal; only the sign of such a zero differs."
///
/// The exception is real and the values are equal (`tests/sketch_contract_review.rs`), but for
/// the SRHT it runs the other way round: the transform of a column is added to every output row
/// whatever the column holds, so a dense (or unstored) zero column adds `+0` and turns `−0` into
/// `+0`; an explicitly stored `+0` at a row whose sign in `D` is negative enters the transform as
/// `−0`, and the butterflies carry that `−0` to entry `n' − 1` (`−0 − (+0) = −0` at every level),
/// so the output keeps `−0` there.
///
/// Inputs: `n = m = 8` (every row of `H` kept, so `n' − 1 = 7` is selected), the first seed
/// whose `D₀ = −1` (read from `S[0, 0] < 0`: `H₀₀ = 1`); `A` is `8 × 1`, all zero, dense or CSR
/// with an explicit `0.0` at `(0, 0)`; `out` starts as `−0`. The true behaviour, pinned: from the
/// dense `A` every entry of `out` is `+0`; from the CSR `A` the entry of the row that selects
/// `H`'s row 7 is `−0` and the others `+0`; CountSketch, for contrast, leaves the dense case's
/// `−0` as the doc says. Passes once the doc gives the SRHT's case.
#[test]
fn srht_negative_zero_exception_runs_the_other_way() {
    let n = 8;
    let seed = (0..64u64)
        .map(Seed::new)
        .find(|&s| {
            SketchOperator::<f64>::to_dense(&Srht::new(n, n, s).unwrap()).unwrap()[(0, 0)] < 0.0
        })
        .unwrap();
    let op = Srht::new(n, n, seed).unwrap();
    let row7 = op.selected_rows().iter().position(|&r| r == 7).unwrap();
    let mut tri = sprs::TriMat::new((n, 1));
    tri.add_triplet(0, 0, 0.0);
    let csr: sprs::CsMat<f64> = tri.to_csr();
    let zeros = Mat::<f64>::zeros(n, 1);
    let run = |a: MatrixRef<'_, f64>, op: &dyn SketchOperator<f64>| {
        let mut out = Mat::<f64>::from_fn(n, 1, |_, _| -0.0);
        op.apply_block_into(0, a, out.as_mut(), Par::Seq).unwrap();
        (0..n)
            .map(|k| out[(k, 0)].is_sign_negative())
            .collect::<Vec<bool>>()
    };
    let from_dense = run(MatrixRef::dense(zeros.as_ref()).unwrap(), &op);
    let from_csr = run(MatrixRef::sparse(&csr).unwrap(), &op);
    assert_eq!(
        from_dense,
        vec![false; n],
        "SRHT, dense zeros: every −0 became +0"
    );
    let want: Vec<bool> = (0..n).map(|k| k == row7).collect();
    assert_eq!(
        from_csr, want,
        "SRHT, stored zero: −0 kept at the row of H's row 7"
    );
    let count = CountSketch::new(n, n, seed).unwrap();
    let from_dense = run(MatrixRef::dense(zeros.as_ref()).unwrap(), &count);
    assert_eq!(
        from_dense,
        vec![true; n],
        "CountSketch, dense zeros: skipped, −0 kept"
    );
}

/// Claim, `README.md:17-18`: "Two things agree only to rounding: the SRHT of `A` split into row
/// blocks against the whole (≈ 1e-13 relative; the transform of a sum is rounded differently,
/// `tests/sketch_core.rs`)". `tests/sketch_core.rs` measures `max|merged − whole| / max|whole|`
/// below `1e-13` on a random sparse `A`. The figure is not a property of the SRHT: the rounding
/// errors scale with the entries of `A` (the butterflies add them up to `‖a_j‖₁`), not with
/// those of `S·A`, so where `S·a_j` is small next to `a_j` the relative difference is far larger.
///
/// Input: `n = n' = 4096`, `m = 64`, seed 5, one column `x = D·H·c + 10⁻⁶·cos(i)` with
/// `c_r = sin(r)` on the rows `R` does not select and 0 on those it does (so `R·H·D·(D·H·c) =
/// n'·R·c = 0`: `S·x` is the small second term, entries ≈ 10⁻⁵, while `|x_i| ≈ 45`); `D` is read
/// from `S`; row blocks cut at 1000, 2048 and 3000. Forward error of the transform (`L = log₂ n'
/// = 12` levels, `|H| = 1`): each entry of `fl(H·z)` is within `γ_L·‖z‖₁` of `H·z`, and the
/// merge adds one rounding per block, so the pass rule is `|merged − whole| ≤ (2L + B + 2)·u·
/// ‖x‖₁/√m` entrywise (`B = 4` blocks, `u = 2⁻⁵³`): the true behaviour, which holds (measured
/// `1.4·10⁻¹³` against a bound of `2.4·10⁻¹¹`). And `max|merged − whole| / max|whole| > 10⁻¹⁰`:
/// the README's "≈ 1e-13 relative" does not hold on this input (measured `1.1·10⁻⁸`). Passes
/// once the README states the agreement relative to `A` (to `‖a_j‖₁/√m`) rather than as a
/// relative figure of `S·A`.
#[test]
fn srht_block_merge_agrees_relative_to_a_not_to_sa() {
    let (n, m) = (4096usize, 64usize);
    let op = Srht::new(m, n, Seed::new(5)).unwrap();
    let s = SketchOperator::<f64>::to_dense(&op).unwrap();
    let rows = op.selected_rows();
    let hadamard = |r: usize, i: usize| {
        if (r & i).count_ones() % 2 == 1 {
            -1.0
        } else {
            1.0
        }
    };
    // D_i from S[0, i] = D_i·H[r_0, i]/√m.
    let d_sign: Vec<f64> = (0..n)
        .map(|i| s[(0, i)].signum() * hadamard(rows[0], i))
        .collect();
    // x = D·H·c with c_r = sin(r) on the rows R does not select and 0 on those it does:
    // H·D·x = n'·c vanishes on every selected row (up to the rounding of x itself).
    let mut hc: Vec<f64> = (0..n)
        .map(|r| {
            if rows.binary_search(&r).is_ok() {
                0.0
            } else {
                (r as f64).sin()
            }
        })
        .collect();
    let mut h = 1;
    while h < n {
        for chunk in hc.chunks_exact_mut(2 * h) {
            let (lo, hi) = chunk.split_at_mut(h);
            for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
                (*a, *b) = (*a + *b, *a - *b);
            }
        }
        h *= 2;
    }
    let x = Mat::<f64>::from_fn(n, 1, |i, _| d_sign[i] * hc[i] + 1e-6 * (i as f64).cos());
    let view = MatrixRef::dense(x.as_ref()).unwrap();
    let whole = op.apply(view, Par::Seq).unwrap();
    let cuts = [0, 1000, 2048, 3000, n];
    let mut merged = Mat::<f64>::zeros(m, 1);
    for w in cuts.windows(2) {
        let block = view.row_block(w[0], w[1]).unwrap();
        op.apply_block_into(w[0], block, merged.as_mut(), Par::Seq)
            .unwrap();
    }
    let u = f64::EPSILON / 2.0;
    let l1: f64 = (0..n).map(|i| x[(i, 0)].abs()).sum();
    let bound = (2.0 * 12.0 + 4.0 + 2.0) * u * l1 / (m as f64).sqrt();
    let (mut diff, mut top) = (0.0f64, 0.0f64);
    for k in 0..m {
        let e = (merged[(k, 0)] - whole[(k, 0)]).abs();
        assert!(
            e <= bound,
            "row {k}: |merged − whole| = {e:e} above {bound:e}"
        );
        diff = diff.max(e);
        top = top.max(whole[(k, 0)].abs());
    }
    let rel = diff / top;
    assert!(rel > 1e-10, "relative difference {rel:e}");
}

/// Claims, `src/sketch/mod.rs:124-127` ("finite sums that exceed the largest `T` (entries of `A`
/// within a factor of about `√n` of it; for the SRHT, …, within a factor of about `n'`) are
/// [`Error::NonFinite`]"), repeated at `src/sketch/mod.rs:169-170`,
/// `src/sketch/sparse_sign.rs:215-216` and `src/sketch/gaussian.rs:50-51`. The error contract
/// holds (`tests/sketch_range.rs`); the factor does not bound when an overflow can happen. An
/// output entry of CountSketch sums the `≈ n/m` entries of `A` hashed to its bucket, each times
/// its sign: with signs unrelated to `S`'s the sum grows like `√(n/m)·max|a|` (the `√n` of the
/// docs), but an `A` whose signs agree with `S`'s (legal: any data may) sums to `(n/m)·max|a|`,
/// the SRHT's worst case.
///
/// Input: CountSketch `m = 4`, `n = 65536`, seed 9; `c` the largest bucket count (≈ 2¹⁴);
/// `M = 2·f64::MAX/c`. The true behaviour, pinned: `a_j = σ_j·M` (`σ_j` the sign of column `j`,
/// from [`CountSketch::bucket`]) overflows (`Error::NonFinite`) although its entries are a
/// factor `c/2 ≈ 8192` below `f64::MAX`, more than 10 times the documented `√n = 256`; the same
/// magnitudes with alternating signs sketch to a finite `S·a` (a sum of `≈ √(n/m)·M`, about
/// `MAX/64`). Passes once the docs give the factor as up to `≈ n/m` (`n·√s/m` for sparse sign)
/// for data aligned with the sketch, `√(n/m)` for typical data.
#[test]
fn overflow_factor_is_n_over_m_for_data_aligned_with_the_sketch() {
    let (m, n) = (4usize, 65_536usize);
    let op = CountSketch::new(m, n, Seed::new(9)).unwrap();
    let hashed: Vec<(usize, f64)> = (0..n).map(|j| op.bucket(j).unwrap()).collect();
    let mut counts = vec![0usize; m];
    for &(h, _) in &hashed {
        counts[h] += 1;
    }
    let c = *counts.iter().max().unwrap() as f64;
    let big = 2.0 * (f64::MAX / c);
    let factor = f64::MAX / big;
    assert!(factor > 10.0 * (n as f64).sqrt(), "factor {factor}");
    let aligned = Mat::<f64>::from_fn(n, 1, |j, _| hashed[j].1 * big);
    let r = op.apply(MatrixRef::dense(aligned.as_ref()).unwrap(), Par::Seq);
    assert!(
        matches!(r, Err(randnla::Error::NonFinite { .. })),
        "aligned: {r:?}"
    );
    let alternating = Mat::<f64>::from_fn(n, 1, |j, _| if j % 2 == 0 { big } else { -big });
    let sa = op
        .apply(MatrixRef::dense(alternating.as_ref()).unwrap(), Par::Seq)
        .unwrap();
    assert!((0..m).all(|i| sa[(i, 0)].is_finite()));
}

/// The five families for the scaling law, over `T`: CountSketch, sparse sign `s = 4`, Gaussian,
/// SRHT (`n = 300`, `n' = 512`) and row sampling with replacement.
fn scaling_families<T: randnla::Scalar>(m: usize, n: usize) -> Vec<Box<dyn SketchOperator<T>>> {
    let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
    vec![
        Box::new(CountSketch::new(m, n, Seed::new(21)).unwrap()),
        Box::new(SparseSign::new(m, n, 4, Seed::new(22)).unwrap()),
        Box::new(Gaussian::new(m, n, Seed::new(23)).unwrap()),
        Box::new(Srht::new(m, n, Seed::new(24)).unwrap()),
        Box::new(
            randnla::sketch::sampling::RowSampling::with_replacement(&w, m, Seed::new(25)).unwrap(),
        ),
    ]
}

/// `S·(2ᵏA)` against `2ᵏ·(S·A)`, bit for bit, for every family, dense (column-major) and CSR.
fn check_power_of_two_scaling<T: randnla::Scalar>(ks: &[i32]) {
    let (n, d, m) = (300usize, 3usize, 16usize);
    let base = Mat::<f64>::from_fn(n, d, |i, j| {
        if (i + 2 * j) % 5 == 0 {
            0.0
        } else {
            ((i * 7 + j * 13) as f64).sin() * (1.0 + (i % 3) as f64)
        }
    });
    for op in scaling_families::<T>(m, n) {
        for &k in ks {
            let pow = 2f64.powi(k);
            let a = Mat::<T>::from_fn(n, d, |i, j| T::from_f64(base[(i, j)]));
            let scaled = Mat::<T>::from_fn(n, d, |i, j| T::from_f64(base[(i, j)] * pow));
            let csr = |x: &Mat<T>| {
                let mut tri = sprs::TriMat::new((n, d));
                for i in 0..n {
                    for j in 0..d {
                        if x[(i, j)] != T::ZERO {
                            tri.add_triplet(i, j, x[(i, j)]);
                        }
                    }
                }
                tri.to_csr::<usize>()
            };
            let (a_csr, scaled_csr) = (csr(&a), csr(&scaled));
            let pairs = [
                (
                    "dense",
                    MatrixRef::dense(a.as_ref()).unwrap(),
                    MatrixRef::dense(scaled.as_ref()).unwrap(),
                ),
                (
                    "csr",
                    MatrixRef::sparse(&a_csr).unwrap(),
                    MatrixRef::sparse(&scaled_csr).unwrap(),
                ),
            ];
            for (layout, plain, big) in pairs {
                let sa = op.apply(plain, Par::Seq).unwrap();
                let s_big = op.apply(big, Par::Seq).unwrap();
                let in_range =
                    |v: f64| v == 0.0 || (2f64.powi(-30)..=2f64.powi(30)).contains(&v.abs());
                assert!(
                    (0..op.nrows()).all(|i| (0..d).all(|j| in_range(sa[(i, j)].to_f64()))),
                    "{} {layout}: an entry of S·A outside [2⁻³⁰, 2³⁰]",
                    op.name()
                );
                for i in 0..op.nrows() {
                    for j in 0..d {
                        let want = T::from_f64(sa[(i, j)].to_f64() * pow);
                        assert_eq!(
                            s_big[(i, j)].to_f64().to_bits(),
                            want.to_f64().to_bits(),
                            "{} {} {layout}, k = {k}, ({i}, {j})",
                            op.name(),
                            T::NAME
                        );
                    }
                }
            }
        }
    }
}

/// Claim, `src/sketch/mod.rs:140-142` (and the overflow message, `src/sketch/mod.rs:389-392`):
/// "scale `A` down by a power of two (a sketch is linear, so `S·(2⁻ᵏA) = 2⁻ᵏ·S·A`, exactly while
/// nothing underflows)". `tests/sketch_range.rs` checks that the scaled-down input sketches to
/// finite values; `tests/algebraic_laws_review.rs` checks linearity to a rounding bound. The
/// claim is exactness: every product and sum of the kernels scales by `2ᵏ` without rounding
/// differently while no intermediate leaves the normal range.
///
/// Inputs: `n = 300`, `d = 3`, `m = 16`, a fixed `A` with entries of magnitude `≤ 3` (every fifth
/// zero), `2ᵏA` for `k ∈ {−1, −40, −900, 500}` in `f64` and `k ∈ {−1, −40, −90, 60}` in `f32`,
/// the five families, dense and CSR. "Nothing underflows" is checked on the result: every
/// nonzero entry of `S·A` has magnitude in `[2⁻³⁰, 2³⁰]`, so `2ᵏ·S·A` stays normal in both
/// types. Pass rule: `S·(2ᵏA)` equals `2ᵏ·(S·A)` bit for bit, every entry.
#[test]
fn sketches_scale_exactly_by_powers_of_two() {
    check_power_of_two_scaling::<f64>(&[-1, -40, -900, 500]);
    check_power_of_two_scaling::<f32>(&[-1, -40, -90, 60]);
}

/// The inverse of [`randnla::seed::splitmix64`] (a bijection of 64-bit words): undo the final
/// xor-shift, the two multiplications (by their inverses mod 2⁶⁴) and the other xor-shifts, then
/// the increment.
fn inverse_splitmix64(z: u64) -> u64 {
    fn undo_xorshift(y: u64, s: u32) -> u64 {
        // x ^ (x >> s) = y: iterate x = y ^ (x >> s) to the fixed point (64 rounds suffice).
        (0..64).fold(y, |x, _| y ^ (x >> s))
    }
    fn inverse_mod_2_64(c: u64) -> u64 {
        // Newton's iteration for an odd c: each step doubles the correct low bits.
        (0..6).fold(c, |x, _| {
            x.wrapping_mul(2u64.wrapping_sub(c.wrapping_mul(x)))
        })
    }
    let mut z = undo_xorshift(z, 31);
    z = z.wrapping_mul(inverse_mod_2_64(0x94d0_49bb_1331_11eb));
    z = undo_xorshift(z, 27);
    z = z.wrapping_mul(inverse_mod_2_64(0xbf58_476d_1ce4_e5b9));
    z = undo_xorshift(z, 30);
    z.wrapping_sub(0x9e37_79b9_7f4a_7c15)
}

/// Claims, `src/sketch/sampling.rs:10-11` ("row `t` of `S` is `e_{i_t}ᵀ / √(m·p_{i_t})`"),
/// `:277` (`scales`: "`1/√(m·p_i)`"), `:18-22` (a row whose `p_i` is below about `2⁻⁵³` "is
/// drawn with a probability off by up to `2⁻⁵³` per draw, or never") and `README.md:38-39` ("an
/// answer that `f64` cannot hold is an `Error::NonFinite`, never an `Ok` holding ∞ or NaN").
///
/// `with_replacement` computes the scale as `1/√(m·w_i/Σw)`, and `m·w_i/Σw` underflows to 0 for a
/// subnormal `w_i` next to a sum of 2 or more, although `p_i > 0`. Such a row has a CDF interval
/// `[0, w_i)`, which the draw hits when its uniform is exactly 0 (odds `2⁻⁵³` per draw, as the
/// docs say): then `scales()` holds `+∞`, `to_dense` returns `Ok` with `+∞` in it, and `S·A` is
/// reported as an overflow that scaling `A` down would cure (it cannot), or, where the row of `A`
/// is zero, `Ok` from a dense `A` and `∞·0 = NaN` (an error) from a CSR one storing the zero.
///
/// Input: weights `[5e-324, 2]` (`p₀ = 2⁻¹⁰⁷⁵`, legal: finite, non-negative, positive sum),
/// `m = 1`, and the seed whose first draw word (stream `0x30`, `src/sketch/sampling.rs:44`) is
/// 0, found by inverting SplitMix64 (`Seed::word(s, i) = mix3(s, stream, i)`, a cascade of
/// bijections): `0xd7c1796245422fbc`. Measured: `rows() = [0]`, `scales() = [inf]`. Expected
/// (the documented `1/√(m·p₀)`): a finite scale, `√Σw/√(m·w₀) = √2/√(5e-324) ≈ 6.36·10¹⁶¹`
/// (within `10⁻¹²` relative), a finite `to_dense`, and `S·A = 6.36·10¹⁶¹` for `A = [1; 1]`.
/// Unreachable in practice with other seeds (`2⁻⁵³` per draw), but any `u64` is a valid seed.
#[test]
fn with_replacement_scale_of_a_subnormal_weight_is_finite() {
    // mix3(a, 0x30, 0) = sm(sm(sm(a) ^ 0x30) ^ 0) = 0, solved for a from the outside in.
    let t2 = inverse_splitmix64(0);
    let t1 = inverse_splitmix64(t2) ^ 0x30;
    let seed = Seed::new(inverse_splitmix64(t1));
    assert_eq!(seed.value(), 0xd7c1_7962_4542_2fbc);
    assert_eq!(seed.word(0x30, 0), 0);
    let w = [5e-324, 2.0];
    let s = randnla::sketch::sampling::RowSampling::with_replacement(&w, 1, seed).unwrap();
    assert_eq!(s.rows(), &[0]);
    let want = 2f64.sqrt() / 5e-324f64.sqrt();
    let got = s.scales()[0];
    assert!(
        got.is_finite() && (got - want).abs() <= 1e-12 * want,
        "scale {got:e}, documented 1/√(m·p₀) = {want:e}"
    );
    let dense = SketchOperator::<f64>::to_dense(&s).unwrap();
    assert!(
        dense[(0, 0)].is_finite(),
        "to_dense holds {}",
        dense[(0, 0)]
    );
    let ones = Mat::<f64>::from_fn(2, 1, |_, _| 1.0);
    let sa = s
        .apply(MatrixRef::dense(ones.as_ref()).unwrap(), Par::Seq)
        .unwrap();
    assert!(
        (sa[(0, 0)] - want).abs() <= 1e-12 * want,
        "S·A = {}",
        sa[(0, 0)]
    );
}

/// Claims, `src/sketch/sampling.rs:65-69` ("`Error::NonFinite` … when a scaled row overflows the
/// scalar type: a scale `1/√(m·p_i)` above 1 (a row drawn rarely) times an entry near the
/// largest value. Scale `A` down by a power of two") and `src/lib.rs:94` ("an `f32` sketch is the
/// `f64` sketch rounded"). The `f32` kernels multiply by the scale rounded to `f32`, so a finite
/// `f64` scale above `f32::MAX` becomes `+∞`: `to_dense::<f32>` is `Ok` holding `+∞`, and `S·A`
/// of an `A` whose scaled row fits `f32` by far is reported as an overflow that scaling `A` down
/// would cure (it cannot: the scale stays `+∞`).
///
/// Input: weights `[1e-90, 1]`, `m = 1`, the seed of the test above (its first uniform is 0, so
/// row 0 is drawn; `2⁻⁵³` per draw for other seeds, `≈ 10⁻⁹⁰` by its weight): scale `1e45`
/// (finite in `f64`, above `f32::MAX ≈ 3.4·10³⁸`). `A = [1e-30; 1e-30]` in `f32`. Measured:
/// `to_dense::<f32>()[(0, 0)] = inf`, `apply` → `Err(NonFinite)` "overflowed f32". Expected (the
/// documented behaviour: no entry of `A` is near the largest value): `S·A = 1e15` (the `f64`
/// product `1e45·1e-30` rounded to `f32`, within `10⁻⁶` relative).
#[test]
fn f32_row_sampling_with_a_scale_above_f32_max_sketches_small_entries() {
    let seed = Seed::new(0xd7c1_7962_4542_2fbc);
    let s =
        randnla::sketch::sampling::RowSampling::with_replacement(&[1e-90, 1.0], 1, seed).unwrap();
    assert_eq!(s.rows(), &[0]);
    assert!(
        (s.scales()[0] - 1e45).abs() <= 1e-12 * 1e45,
        "{:?}",
        s.scales()
    );
    let a = Mat::<f32>::from_fn(2, 1, |_, _| 1e-30);
    let sa = s
        .apply(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq)
        .unwrap_or_else(|e| panic!("S·A = 1e15 fits f32, got {e}"));
    let got = sa[(0, 0)] as f64;
    assert!((got - 1e15).abs() <= 1e-6 * 1e15, "S·A = {got:e}");
}

/// Follow-up of the two fixes above (not part of the review): the other paths of a sampling
/// scale beyond the range of its arithmetic.
///
/// 1. `RowSampling::bernoulli` with weights `[5e-324, 2]`, `m = 1` and the seed whose first
///    Bernoulli uniform (stream `0x31`, row 0) is exactly 0: `p₀ = w₀/Σw` underflows (to 0 in
///    the old code, so row 0 was never kept), yet `q₀ = m·p₀ > 0` and a uniform of 0 is below
///    it. Expected: row 0 kept with the scale `1/√q₀ = √(Σw/w₀)` to within `10⁻¹²` relative,
///    finite.
/// 2. `to_dense::<f32>()` of the `[1e-90, 1]` sketch above (scale `1e45`, above `f32::MAX`):
///    `Err(NonFinite)`, since `f32` cannot hold that entry of `S` (the old code returned `Ok`
///    with `+∞` in it), while `to_dense::<f64>()` holds `1e45`.
#[test]
fn sampling_scales_beyond_the_arithmetic_range_bernoulli_and_to_dense() {
    use randnla::sketch::sampling::RowSampling;
    let t2 = inverse_splitmix64(0);
    let t1 = inverse_splitmix64(t2) ^ 0x31;
    let seed = Seed::new(inverse_splitmix64(t1));
    assert_eq!(seed.word(0x31, 0), 0);
    let w = [5e-324, 2.0];
    let s = RowSampling::bernoulli(&w, 1, seed).unwrap();
    assert_eq!(s.rows().first(), Some(&0), "rows {:?}", s.rows());
    let want = 2f64.sqrt() / 5e-324f64.sqrt();
    let got = s.scales()[0];
    assert!(
        got.is_finite() && (got - want).abs() <= 1e-12 * want,
        "scale {got:e}, want {want:e}"
    );

    let seed = Seed::new(0xd7c1_7962_4542_2fbc);
    let s = RowSampling::with_replacement(&[1e-90, 1.0], 1, seed).unwrap();
    let d32 = SketchOperator::<f32>::to_dense(&s);
    assert!(
        matches!(d32, Err(randnla::Error::NonFinite { row: 0, col: 0, .. })),
        "{d32:?}"
    );
    let d64 = SketchOperator::<f64>::to_dense(&s).unwrap();
    assert!((d64[(0, 0)] - 1e45).abs() <= 1e-12 * 1e45);
}
