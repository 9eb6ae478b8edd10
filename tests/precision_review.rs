//! f32-vs-f64 review (2026-12-05): every public entry point that is generic over
//! [`randnla::Scalar`] run on `f64` data and on the same data rounded to `f32` (same seeds, same
//! parameters). The `f64` run takes the `f32` data *widened* (exactly), so both runs see the same
//! numbers and every difference is rounding in the computation.
//!
//! Notation: `u = 2⁻²⁴` (f32 unit roundoff), `u₆₄ = 2⁻⁵³`, `γ_k(u) = k·u/(1 − k·u)`. For a sum
//! of `k` products evaluated in floating point in *any* order (recursive, blocked, FMA or not),
//! `|ŷ − y| ≤ γ_k·Σ|terms|` (Higham, *Accuracy and Stability*, §3.1); subnormal products add
//! at most half a subnormal ulp (`2⁻¹⁵⁰` in f32) each.
//!
//! | entry point | law | tolerance |
//! |---|---|---|
//! | `SketchOperator::to_dense` (CountSketch, SparseSign s=2,8, Gaussian, Srht, RowSampling ×2) | A | bitwise: the f32 sketch is the f64 sketch rounded (scalar.rs) |
//! | `SketchKind::build::<f32>` | A | as the sketches it builds |
//! | `SketchExt::apply`, `apply_right`, `apply_vec` (all of the above) | A | `(γ_{k+1}(u) + γ_k(u₆₄))·Σ_l|s_il a_lj| + 2k·2⁻¹⁵⁰`, `k` = nonzero products of the entry (the `+1`: the f32 entry of `S` is rounded) |
//! | same, Srht | A | `(γ_{L+2}(u) + γ_{L+1}(u₆₄))·Σ_l|s_il a_lj|`, `L = log₂ n'` butterflies + scale rounding + product |
//! | `SketchOperator::apply_block_into` (row blocks, ascending) | 5 | bitwise the whole-matrix f32 apply (CountSketch, SparseSign, Gaussian, RowSampling) |
//! | `apply` on f32: Par::Seq vs 4 threads; CSR vs CSC vs dense col/row-major | 5 | bitwise (module docs do not restrict the promise to f64) |
//! | CountSketch / SparseSign at the sizes where f32 picks other kernels (m = 512, 1024; 4.9 MB output) | A, 5 | Law A bound from `SparseSign::column`; bitwise across CSR/CSC/dense, 1/4 threads |
//! | Srht entry-by-entry path (hypersparse columns) | A, 5 | Law A with `L = 10`; bitwise across layouts and threads |
//! | `apply` near `f32::MAX`, 1e30·√n, subnormals | C | `Σ|s a|·(1+γ) < f32::MAX` ⇒ `Ok` and Law A; f64 result beyond `f32::MAX·(1+γ)` ⇒ `Err(NonFinite)`; `Ok` ⇒ finite |
//! | `TensorSketch::apply_power`, `apply_kron`, `apply_rows` | A | bitwise the f64 result rounded ("every degree computes in f64") |
//! | `TreeSketch::apply_power`, `apply_kron`, `apply_rows` | A | bitwise the f64 result rounded (same `power_vec`/`kron_vec`/`power_rows` path) |
//! | `TensorSketch::mode_sketch`, `mode_spectrum` | A | bitwise equal (f64 output of the widened input) |
//! | `PolyKernelFeatures::transform`, `transform_vec` | A | bitwise the f64 result rounded |
//! | `PolyKernelFeatures::kernel` | A | bitwise equal (f64 output) |
//! | `PolyKernelFeatures::kernel_error` | B | `|e₃₂ − e₆₄| ≤ (2u + u²)·‖Φ‖²_F/‖K‖_F + 1e-12` |
//! | tensor sketches / poly features: thread count, CSR/CSC/dense | 5 | bitwise (docs) |
//! | tensor sketches / poly features with `x = 1e20` (`x²` > f32::MAX) | C | `Err(NonFinite)` for f32, `Ok` for f64 |
//! | `PolySketch::features` (Identity p=2, p=4; TensorSketch map) | A | bitwise the f64 result rounded |
//! | `PolySketch::features` (Gaussian p=2) | A | `(γ_{h+2}(u) + γ_{h+1}(u₆₄))·Σ_l|x_l|·|G_lj|/√r`, `G` recovered from `φ(e_l)` |
//! | `PolySketch::tensored_features` (Identity p=2) | A | `(γ_3(u) + γ_2(u₆₄))·|x_a x_b|√2` |
//! | `PolySketch::weights` (Identity p=2, positive data) | B (κ = 1) | relative `γ_{2h+1}(u) + γ_{2h+1}(u₆₄)` |
//! | `exact_attention` polynomial p=4, non-causal and causal, positive data | B (κ = 1) | relative per entry, path-length bound (see the test) |
//! | `exact_attention` polynomial, scores `≈ 2⁴¹` (weights beyond f32, per-row power-of-two scale) | B (κ = 1) | as above |
//! | `exact_attention`, `|v|` at 2⁴⁰ (must be Ok), 2⁷⁰, `f32::MAX` | C | `Ok` within Law B, or (beyond the documented `2^{E/2}/n`) `Err(NonFinite)` |
//! | `exact_attention` polynomial / softmax (clustered data) | B | module docs: "about 1e-5 relative" |
//! | `causal_product`, `causal_squared_product`, `weights`, `poly_sketch_attention` on `(2⁷⁰A, 2⁻⁷⁰B)` | A | bitwise the unscaled f32 result (balancing shift with f32's half range) |
//! | `exact_attention` softmax, positive data | B | relative `2δ_w + γ_{m+4}`, `δ_w` from the score error (see the test) |
//! | `causal_product`, `causal_squared_product`, positive data | B (κ = 1) | relative `γ_K(u) + γ_K(u₆₄)`, `K` the longest rounding path |
//! | `poly_sketch_attention`, `PolySketch::attention` (Identity map, positive data) | B (κ = 1) | relative path-length bound |
//! | `poly_sketch_attention` (Gaussian map, clustered data) | B | module docs: "about 1e-5 relative" |
//! | `relative_error` | A | bitwise equal (f64 output of widened inputs) |
//! | attention entry points with `Q, K ≈ 1e20` (scores ±1e40) | C | `Err(NonFinite)` for f32, `Ok` for f64 |
//! | attention f32: Par::Seq vs 4 threads | 5 | bitwise (module docs) |
//! | `MatrixRef::dense`, `MatrixRef::sparse`, `SparseRef::try_csr/try_csc/try_new/from_sprs`, `MatrixRef::to_dense`, `check_finite_dense`, `check_finite_slice` | C | f32 NaN/±∞ rejected; `f32::MAX`, subnormals, `−0` accepted and kept bitwise |
//!
//! Not covered: the solvers, leverage scores, tensor power method, active learning and
//! diagnostics take `f64` only (lib.rs, "Precision"), so they have no f32 entry point.
use crate::common;
use common::Rng;

use common::with_threads;
use faer::{Mat, Par};
use randnla::attention::{
    causal_product, causal_squared_product, clustered_qkv, exact_attention, poly_sketch_attention,
    relative_error, ExactParams, FeatureMap, Kernel, PolySketch, PolySketchParams,
};
use randnla::input::{check_finite_dense, check_finite_slice};
use randnla::sketch::sampling::RowSampling;
use randnla::sketch::tensor::{
    PolyKernelFeatures, PolyKernelParams, TensorMethod, TensorSketch, TreeSketch,
};
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
use randnla::{Error, Layout, MatrixRef, Seed, SparseRef};

// ------------------------------------------------------------------------------------------------
// Rounding constants and data.

/// f32 unit roundoff.
const U32: f64 = 1.0 / (1u64 << 24) as f64;
/// f64 unit roundoff.
const U64: f64 = f64::EPSILON / 2.0;
/// Half the smallest f32 subnormal: the largest error of one f32 product that underflows.
const ETA32: f64 = 1.0 / (1u128 << 100) as f64 / (1u64 << 50) as f64;

fn gamma(k: usize, u: f64) -> f64 {
    let ku = k as f64 * u;
    assert!(ku < 0.5, "γ_{k} undefined");
    ku / (1.0 - ku)
}

/// `n × d` values in `[-1, 1)`, already rounded to f32 (so the f64 copy is the widened f32),
/// about a third of them zero when `sparse`.
fn data(n: usize, d: usize, seed: u64, sparse: bool) -> Mat<f64> {
    let mut r = Rng(seed);
    Mat::from_fn(n, d, |_, _| {
        let v = r.next();
        if sparse && r.next_u64().is_multiple_of(3) {
            0.0
        } else {
            v as f32 as f64
        }
    })
}

/// Positive data in `[lo, lo + 1)`, rounded to f32.
fn positive(n: usize, d: usize, seed: u64, lo: f64) -> Mat<f64> {
    let mut r = Rng(seed);
    Mat::from_fn(n, d, |_, _| ((r.next() + 1.0) / 2.0 + lo) as f32 as f64)
}

fn to32(a: &Mat<f64>) -> Mat<f32> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] as f32)
}

fn widen(a: &Mat<f32>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)] as f64)
}

/// CSR copy of a dense matrix (zeros dropped).
fn csr<T: Copy + PartialEq + Default>(a: &Mat<T>) -> sprs::CsMat<T> {
    let (mut indptr, mut indices, mut vals) = (vec![0], vec![], vec![]);
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            if a[(i, j)] != T::default() {
                indices.push(j);
                vals.push(a[(i, j)]);
            }
        }
        indptr.push(indices.len());
    }
    sprs::CsMat::new((a.nrows(), a.ncols()), indptr, indices, vals)
}

fn assert_bitwise32(a: &Mat<f32>, b: &Mat<f32>, what: &str) {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()), "{what}");
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            assert_eq!(
                a[(i, j)].to_bits(),
                b[(i, j)].to_bits(),
                "{what}: ({i}, {j}): {:e} vs {:e}",
                a[(i, j)],
                b[(i, j)]
            );
        }
    }
}

/// `y32` is bitwise `y64` rounded to f32.
fn assert_rounded(y32: &Mat<f32>, y64: &Mat<f64>, what: &str) {
    let r = to32(y64);
    assert_bitwise32(y32, &r, what);
}

fn assert_rounded_vec(y32: &[f32], y64: &[f64], what: &str) {
    assert_eq!(y32.len(), y64.len(), "{what}");
    for (i, (a, b)) in y32.iter().zip(y64).enumerate() {
        assert_eq!(
            a.to_bits(),
            (*b as f32).to_bits(),
            "{what}: entry {i}: {a:e} vs {b:e} rounded"
        );
    }
}

fn is_nonfinite<T>(r: &randnla::Result<T>) -> bool {
    matches!(r, Err(Error::NonFinite { .. }))
}

// ------------------------------------------------------------------------------------------------
// Sketches: Law A.

type Pair = (
    &'static str,
    Box<dyn SketchOperator<f32>>,
    Box<dyn SketchOperator<f64>>,
    Option<usize>,
);

/// Every sketch family at `m × n`, as f32 and f64 operators of the same seed; the last field is
/// the SRHT's butterfly depth `log₂ n'`.
fn families(m: usize, n: usize, seed: u64) -> Vec<Pair> {
    let s = Seed::new(seed);
    let kinds = [
        ("count", SketchKind::CountSketch),
        (
            "sparse-sign s=2",
            SketchKind::SparseSign {
                nnz_per_col: 2.min(m),
            },
        ),
        (
            "sparse-sign s=8",
            SketchKind::SparseSign {
                nnz_per_col: 8.min(m),
            },
        ),
        ("gaussian", SketchKind::Gaussian),
        ("srht", SketchKind::Srht),
    ];
    let mut out: Vec<Pair> = kinds
        .into_iter()
        .map(|(name, k)| {
            let depth = (k == SketchKind::Srht).then(|| n.next_power_of_two().trailing_zeros());
            (
                name,
                k.build::<f32>(m, n, s).unwrap(),
                k.build::<f64>(m, n, s).unwrap(),
                depth.map(|l| l as usize),
            )
        })
        .collect();
    let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
    out.push((
        "row-sampling",
        Box::new(RowSampling::with_replacement(&w, m, s).unwrap()),
        Box::new(RowSampling::with_replacement(&w, m, s).unwrap()),
        None,
    ));
    out.push((
        "bernoulli-sampling",
        Box::new(RowSampling::bernoulli(&w, m, s).unwrap()),
        Box::new(RowSampling::bernoulli(&w, m, s).unwrap()),
        None,
    ));
    out
}

/// Law A for `y = S·A`: `s64` the f64 sketch (dense), `a` the (widened f32) data.
/// Returns the largest `|Δ|/bound` seen.
fn check_law_a(
    what: &str,
    s64: &Mat<f64>,
    a: &Mat<f64>,
    y32: &Mat<f32>,
    y64: &Mat<f64>,
    depth: Option<usize>,
) -> f64 {
    assert_eq!(
        (y32.nrows(), y32.ncols()),
        (s64.nrows(), a.ncols()),
        "{what}"
    );
    assert_eq!(
        (y64.nrows(), y64.ncols()),
        (s64.nrows(), a.ncols()),
        "{what}"
    );
    let mut worst: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..s64.nrows() {
            let (mut k, mut big) = (0usize, 0.0f64);
            for l in 0..a.nrows() {
                let t = s64[(i, l)] * a[(l, j)];
                if t != 0.0 {
                    k += 1;
                    big += t.abs();
                }
            }
            // Generous upper bound on Σ|terms| (the sum above is itself rounded).
            let big = big * (1.0 + gamma(a.nrows() + 1, U64));
            let (r32, r64) = match depth {
                Some(l) => (l + 2, l + 1),
                None => (k + 1, k),
            };
            let bound = if k == 0 {
                0.0
            } else {
                (gamma(r32, U32) + gamma(r64, U64)) * big + 2.0 * k as f64 * ETA32
            };
            let diff = (y32[(i, j)] as f64 - y64[(i, j)]).abs();
            assert!(
                diff <= bound,
                "{what}: entry ({i}, {j}): f32 {:e}, f64 {:e}, |Δ| = {diff:e} > bound {bound:e} \
                 (k = {k}, Σ|s a| = {big:e})",
                y32[(i, j)],
                y64[(i, j)]
            );
            if bound > 0.0 {
                worst = worst.max(diff / bound);
            }
        }
    }
    worst
}

/// The f32 sketch is the f64 sketch rounded, entry by entry (scalar.rs, lib.rs "Precision").
#[test]
fn f32_sketch_is_the_f64_sketch_rounded() {
    for (m, n) in [(16, 300), (7, 33)] {
        for (name, s32, s64, _) in families(m, n, 5) {
            let d32 = s32.to_dense().unwrap();
            let d64 = s64.to_dense().unwrap();
            assert_rounded(&d32, &d64, &format!("{name} {m}×{n} to_dense"));
            assert_eq!(s32.nrows(), s64.nrows(), "{name}");
            assert_eq!(s32.name(), s64.name(), "{name}");
        }
    }
}

/// Law A for `apply`, `apply_right` and `apply_vec` of every sketch, dense and CSR input.
#[test]
fn law_a_apply_apply_right_apply_vec() {
    let (m, n, d) = (16, 300, 5);
    let a64 = data(n, d, 11, true);
    let a32 = to32(&a64);
    let (c64, c32) = (csr(&a64), csr(&a32));
    let at64 = a64.transpose().to_owned();
    let at32 = a32.transpose().to_owned();
    for (name, s32, s64, depth) in families(m, n, 21) {
        let sd = s64.to_dense().unwrap();
        let mut worst: f64 = 0.0;
        // S·A, dense and CSR.
        let y64 = s64
            .apply(MatrixRef::dense(a64.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        for (layout, y32) in [
            (
                "dense",
                s32.apply(MatrixRef::dense(a32.as_ref()).unwrap(), Par::Seq)
                    .unwrap(),
            ),
            (
                "csr",
                s32.apply(MatrixRef::sparse(&c32).unwrap(), Par::Seq)
                    .unwrap(),
            ),
        ] {
            let w = check_law_a(
                &format!("{name} apply {layout}"),
                &sd,
                &a64,
                &y32,
                &y64,
                depth,
            );
            worst = worst.max(w);
        }
        let y64c = s64
            .apply(MatrixRef::sparse(&c64).unwrap(), Par::Seq)
            .unwrap();
        check_law_a(
            &format!("{name} apply csr f64"),
            &sd,
            &a64,
            &to32(&y64c),
            &y64c,
            depth,
        );
        // A·Sᵀ = (S·Aᵀ)ᵀ.
        let r32 = s32
            .apply_right(MatrixRef::dense(at32.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        let r64 = s64
            .apply_right(MatrixRef::dense(at64.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        worst = worst.max(check_law_a(
            &format!("{name} apply_right"),
            &sd,
            &a64,
            &r32.transpose().to_owned(),
            &r64.transpose().to_owned(),
            depth,
        ));
        // S·x.
        let x64: Vec<f64> = (0..n).map(|i| a64[(i, 2)]).collect();
        let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
        let v32 = s32.apply_vec(&x32).unwrap();
        let v64 = s64.apply_vec(&x64).unwrap();
        let col = |v: &[f64]| Mat::from_fn(v.len(), 1, |i, _| v[i]);
        let xm = col(&x64);
        let v32m = Mat::from_fn(v32.len(), 1, |i, _| v32[i]);
        worst = worst.max(check_law_a(
            &format!("{name} apply_vec"),
            &sd,
            &xm,
            &v32m,
            &col(&v64),
            depth,
        ));
        eprintln!("{name}: largest |Δ|/bound = {worst:.3}");
        assert!(
            worst > 0.0 || name.contains("sampling"),
            "{name}: no rounding at all?"
        );
    }
}

/// Law A on a well-spread input of magnitude 1e30 (f32 holds it; `1e30·√n` too) and on
/// subnormal f32 inputs (the bound gains `2k·2⁻¹⁵⁰` for underflowing products).
#[test]
fn law_a_large_and_subnormal_inputs() {
    let (m, n, d) = (16, 300, 3);
    let base = data(n, d, 31, true);
    for (scale, label) in [(1e30, "1e30"), (1e-40, "subnormal 1e-40"), (1e-44, "1e-44")] {
        let a64 = Mat::from_fn(n, d, |i, j| (base[(i, j)] * scale) as f32 as f64);
        let a32 = to32(&a64);
        if scale < 1e-38 {
            assert!(a32[(0, 0)] == 0.0 || a32[(0, 0)].is_subnormal() || a32[(1, 0)].is_subnormal());
        }
        for (name, s32, s64, depth) in families(m, n, 41) {
            let sd = s64.to_dense().unwrap();
            let y32 = s32
                .apply(MatrixRef::dense(a32.as_ref()).unwrap(), Par::Seq)
                .unwrap_or_else(|e| panic!("{name} {label}: {e}"));
            let y64 = s64
                .apply(MatrixRef::dense(a64.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            check_law_a(&format!("{name} {label}"), &sd, &a64, &y32, &y64, depth);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Sketches: Law C (range).

/// Column-by-column: if every partial sum is safely inside f32 (`Σ|s a|·(1+γ) < f32::MAX`,
/// before the SRHT's `1/√m`: `Σ|a|`) the f32 apply is `Ok` and within Law A; if the f64 result
/// lies beyond `f32::MAX·(1+γ)` it is `Err(NonFinite)`; in between either, but an `Ok` is finite.
#[test]
fn law_c_sketches_near_f32_max() {
    let (m, n) = (8, 64);
    let big = f32::MAX as f64;
    let mut r = Rng(77);
    let columns: Vec<(&str, Vec<f64>)> = vec![
        ("1e30 everywhere", vec![1e30f32 as f64; n]),
        (
            "1e37 random signs",
            (0..n)
                .map(|_| {
                    if r.next() < 0.0 {
                        -1e37f32 as f64
                    } else {
                        1e37f32 as f64
                    }
                })
                .collect(),
        ),
        ("f32::MAX/4 everywhere", vec![(f32::MAX / 4.0) as f64; n]),
        (
            "f32::MAX random signs",
            (0..n)
                .map(|_| if r.next() < 0.0 { -big } else { big })
                .collect(),
        ),
        (
            "one f32::MAX",
            (0..n).map(|i| if i == 5 { big } else { 0.0 }).collect(),
        ),
        (
            "f32::MAX/2 twice",
            (0..n)
                .map(|i| if i == 3 || i == 40 { big / 2.0 } else { 0.0 })
                .collect(),
        ),
    ];
    let (mut oks, mut errs) = (0, 0);
    for (label, col) in &columns {
        let a64 = Mat::from_fn(n, 1, |i, _| col[i]);
        let a32 = to32(&a64);
        for (name, s32, s64, depth) in families(m, n, 3) {
            let sd = s64.to_dense().unwrap();
            let what = format!("{name}, {label}");
            // The Bernoulli sketch keeps a random number of rows.
            let m = s32.nrows();
            let y32 = s32.apply(MatrixRef::dense(a32.as_ref()).unwrap(), Par::Seq);
            let y64 = s64
                .apply(MatrixRef::dense(a64.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            let g = match depth {
                Some(l) => gamma(l + 2, U32),
                None => gamma(n + 1, U32),
            };
            let safe = (0..m).all(|i| {
                let partial: f64 = match depth {
                    // Butterfly sums reach Σ|a| before the 1/√m.
                    Some(_) => col.iter().map(|v| v.abs()).sum(),
                    None => (0..n).map(|l| (sd[(i, l)] * col[l]).abs()).sum(),
                };
                partial * (1.0 + g) < big
            });
            let beyond = (0..m).any(|i| y64[(i, 0)].abs() > big * (1.0 + 2.0 * g));
            match &y32 {
                Ok(y) => {
                    assert!(
                        !beyond,
                        "{what}: Ok although S·A = {:e} is beyond f32",
                        y64[(0, 0)]
                    );
                    assert!(
                        y.col_as_slice(0).iter().all(|v| v.is_finite()),
                        "{what}: Ok(±∞)"
                    );
                    check_law_a(&what, &sd, &a64, y, &y64, depth);
                    oks += 1;
                }
                Err(Error::NonFinite { .. }) => {
                    assert!(!safe, "{what}: Err although every partial sum fits f32");
                    errs += 1;
                }
                Err(e) => panic!("{what}: unexpected error {e}"),
            }
            // apply_vec and apply_right say the same.
            let x32: Vec<f32> = col.iter().map(|&v| v as f32).collect();
            let v = s32.apply_vec(&x32);
            assert_eq!(v.is_ok(), y32.is_ok(), "{what}: apply_vec vs apply");
            let row = a32.transpose().to_owned();
            let rr = s32.apply_right(MatrixRef::dense(row.as_ref()).unwrap(), Par::Seq);
            assert_eq!(rr.is_ok(), y32.is_ok(), "{what}: apply_right vs apply");
            assert!(rr.is_ok() || is_nonfinite(&rr), "{what}");
        }
    }
    eprintln!("near f32::MAX: {oks} Ok, {errs} Err(NonFinite)");
    assert!(oks > 0 && errs > 0);
}

// ------------------------------------------------------------------------------------------------
// Sketches: reproducibility in f32.

/// f32 `S·A`: bitwise the same for 1 and 4 threads, for CSR, CSC, dense column-major and dense
/// row-major storage, and for `A` split into ascending row blocks (`apply_block_into`), for
/// the sketches whose module docs promise it (the SRHT: threads and layouts only).
#[test]
fn reproducibility_f32_threads_layouts_blocks() {
    let (m, n, d) = (24, 700, 6);
    let a64 = data(n, d, 51, true);
    let a32 = to32(&a64);
    let c32 = csr(&a32);
    let csc32 = c32.to_csc();
    let rm = a32.transpose().to_owned();
    for (name, s32, _, depth) in families(m, n, 61) {
        let base = s32
            .apply(MatrixRef::dense(a32.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        let views = [
            ("csr", MatrixRef::sparse(&c32).unwrap()),
            ("csc", MatrixRef::sparse(&csc32).unwrap()),
            ("dense", MatrixRef::dense(a32.as_ref()).unwrap()),
            ("dense row-major", MatrixRef::dense(rm.transpose()).unwrap()),
        ];
        for (layout, v) in views {
            for threads in [1, 4] {
                let y = with_threads(threads, |par| s32.apply(v, par).unwrap());
                assert_bitwise32(&y, &base, &format!("{name}, {layout}, {threads} threads"));
            }
            if depth.is_none() {
                // Ascending row blocks accumulated into one output.
                let mut out = Mat::<f32>::zeros(s32.nrows(), d);
                for (lo, hi) in [(0, 97), (97, 98), (98, 512), (512, n)] {
                    let owned;
                    let blk = if layout == "csc" {
                        // CSC has no row blocks without copying: a CSC copy of the rows.
                        owned = csr(&a32.as_ref().subrows(lo, hi - lo).to_owned()).to_csc();
                        MatrixRef::sparse(&owned).unwrap()
                    } else {
                        v.row_block(lo, hi).unwrap()
                    };
                    s32.apply_block_into(lo, blk, out.as_mut(), Par::Seq)
                        .unwrap();
                }
                assert_bitwise32(&out, &base, &format!("{name}, {layout}, row blocks"));
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Tensor sketches and polynomial features: Law A (bitwise rounding of the f64 result).

#[test]
fn law_a_tensor_and_tree_sketch_are_the_f64_result_rounded() {
    let (d, m) = (9, 64);
    let a64 = data(40, d, 71, true);
    let a32 = to32(&a64);
    let c32 = csr(&a32);
    let c64 = csr(&a64);
    for p in [1, 2, 3, 5] {
        let ts = TensorSketch::new(p, d, m, Seed::new(p as u64)).unwrap();
        let tree = TreeSketch::new(p, d, m, Seed::new(p as u64)).unwrap();
        for i in 0..a64.nrows() {
            let x64: Vec<f64> = (0..d).map(|j| a64[(i, j)]).collect();
            let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
            assert_rounded_vec(
                &ts.apply_power(&x32).unwrap(),
                &ts.apply_power(&x64).unwrap(),
                &format!("TensorSketch p={p} apply_power row {i}"),
            );
            assert_rounded_vec(
                &tree.apply_power(&x32).unwrap(),
                &tree.apply_power(&x64).unwrap(),
                &format!("TreeSketch p={p} apply_power row {i}"),
            );
        }
        // Kronecker products of different rows.
        let rows64: Vec<Vec<f64>> = (0..p)
            .map(|k| (0..d).map(|j| a64[(k + 3, j)]).collect())
            .collect();
        let rows32: Vec<Vec<f32>> = rows64
            .iter()
            .map(|r| r.iter().map(|&v| v as f32).collect())
            .collect();
        let f64s: Vec<&[f64]> = rows64.iter().map(|r| r.as_slice()).collect();
        let f32s: Vec<&[f32]> = rows32.iter().map(|r| r.as_slice()).collect();
        assert_rounded_vec(
            &ts.apply_kron(&f32s).unwrap(),
            &ts.apply_kron(&f64s).unwrap(),
            &format!("TensorSketch p={p} apply_kron"),
        );
        assert_rounded_vec(
            &tree.apply_kron(&f32s).unwrap(),
            &tree.apply_kron(&f64s).unwrap(),
            &format!("TreeSketch p={p} apply_kron"),
        );
        // Rows: dense, CSR, CSC; 1 and 4 threads.
        let r64 = ts
            .apply_rows(MatrixRef::dense(a64.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        let t64 = tree
            .apply_rows(MatrixRef::sparse(&c64).unwrap(), Par::Seq)
            .unwrap();
        let csc32 = c32.to_csc();
        for (layout, v) in [
            ("dense", MatrixRef::dense(a32.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&c32).unwrap()),
            ("csc", MatrixRef::sparse(&csc32).unwrap()),
        ] {
            for threads in [1, 4] {
                let what = format!("p={p} apply_rows {layout} {threads} threads");
                let r32 = with_threads(threads, |par| ts.apply_rows(v, par).unwrap());
                assert_rounded(&r32, &r64, &format!("TensorSketch {what}"));
                let t32 = with_threads(threads, |par| tree.apply_rows(v, par).unwrap());
                assert_rounded(&t32, &t64, &format!("TreeSketch {what}"));
            }
        }
        // Mode sketches and spectra take T but answer in f64: identical for widened input.
        for k in 0..p {
            let x64: Vec<f64> = (0..d).map(|j| a64[(k, j)]).collect();
            let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
            let (m32, m64) = (
                ts.mode_sketch(k, &x32).unwrap(),
                ts.mode_sketch(k, &x64).unwrap(),
            );
            assert!(
                m32.iter()
                    .zip(&m64)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "mode_sketch p={p} k={k}"
            );
            let (s32, s64) = (
                ts.mode_spectrum(k, &x32).unwrap(),
                ts.mode_spectrum(k, &x64).unwrap(),
            );
            assert!(
                s32.iter()
                    .zip(&s64)
                    .all(|(a, b)| a.re.to_bits() == b.re.to_bits()
                        && a.im.to_bits() == b.im.to_bits()),
                "mode_spectrum p={p} k={k}"
            );
        }
    }
}

#[test]
fn law_a_poly_kernel_features_are_the_f64_result_rounded() {
    let d = 6;
    let x64 = data(30, d, 81, false);
    let x32 = to32(&x64);
    let c32 = csr(&x32);
    for method in [TensorMethod::Fft, TensorMethod::Tree] {
        for (p, gamma_, coef0) in [(2, 1.0, 0.0), (3, 0.5, 1.0), (4, 0.3, 2.0)] {
            let params = PolyKernelParams {
                degree: p,
                gamma: gamma_,
                coef0,
                sketch_dim: 128,
                method,
            };
            let phi = PolyKernelFeatures::new(d, params, Seed::new(9)).unwrap();
            let what = format!("{method:?} p={p}");
            let f64_ = phi
                .transform(MatrixRef::dense(x64.as_ref()).unwrap(), Par::Seq)
                .unwrap();
            for (layout, v) in [
                ("dense", MatrixRef::dense(x32.as_ref()).unwrap()),
                ("csr", MatrixRef::sparse(&c32).unwrap()),
            ] {
                for threads in [1, 4] {
                    let f32_ = with_threads(threads, |par| phi.transform(v, par).unwrap());
                    assert_rounded(
                        &f32_,
                        &f64_,
                        &format!("{what} transform {layout} {threads}"),
                    );
                }
            }
            for i in [0, 7, 29] {
                let r64: Vec<f64> = (0..d).map(|j| x64[(i, j)]).collect();
                let r32: Vec<f32> = r64.iter().map(|&v| v as f32).collect();
                assert_rounded_vec(
                    &phi.transform_vec(&r32).unwrap(),
                    &phi.transform_vec(&r64).unwrap(),
                    &format!("{what} transform_vec row {i}"),
                );
                // kernel: f64 answer of the widened input, bitwise.
                let s64: Vec<f64> = (0..d).map(|j| x64[(i / 2, j)]).collect();
                let s32: Vec<f32> = s64.iter().map(|&v| v as f32).collect();
                assert_eq!(
                    phi.kernel(&r32, &s32).unwrap().to_bits(),
                    phi.kernel(&r64, &s64).unwrap().to_bits(),
                    "{what} kernel"
                );
            }
        }
    }
}

/// Law B for `kernel_error`: with `Φ₃₂ = Φ₆₄ + E`, `|E| ≤ u|Φ₆₄|` (Law A above, bitwise rounding)
/// and the same exact `K`, `|e₃₂ − e₆₄| ≤ ‖Φ₃₂Φ₃₂ᵀ − Φ₆₄Φ₆₄ᵀ‖_F/‖K‖_F ≤ (2u + u²)‖Φ₆₄‖²_F/‖K‖_F`,
/// plus the f64 rounding of the two evaluations (≤ 1e-12 here: r = 30 rows, m = 256).
#[test]
fn law_b_poly_kernel_error() {
    let (d, r) = (6, 30);
    let x64 = data(r, d, 91, false);
    let x32 = to32(&x64);
    let params = PolyKernelParams {
        degree: 2,
        coef0: 1.0,
        sketch_dim: 256,
        ..Default::default()
    };
    let phi = PolyKernelFeatures::new(d, params, Seed::new(4)).unwrap();
    let v64 = MatrixRef::dense(x64.as_ref()).unwrap();
    let v32 = MatrixRef::dense(x32.as_ref()).unwrap();
    let f64_ = phi.transform(v64, Par::Seq).unwrap();
    let f32_ = phi.transform(v32, Par::Seq).unwrap();
    let e64 = phi.kernel_error(v64, f64_.as_ref(), r, Par::Seq).unwrap();
    let e32 = phi.kernel_error(v32, f32_.as_ref(), r, Par::Seq).unwrap();
    let phi_f2: f64 = (0..f64_.ncols())
        .flat_map(|j| (0..r).map(move |i| (i, j)))
        .map(|(i, j)| f64_[(i, j)].powi(2))
        .sum();
    let mut k_f2 = 0.0;
    for i in 0..r {
        for j in 0..r {
            let xi: Vec<f64> = (0..d).map(|c| x64[(i, c)]).collect();
            let xj: Vec<f64> = (0..d).map(|c| x64[(j, c)]).collect();
            k_f2 += phi.kernel(&xi, &xj).unwrap().powi(2);
        }
    }
    let bound = (2.0 * U32 + U32 * U32) * phi_f2 / k_f2.sqrt() * 1.01 + 1e-12;
    eprintln!(
        "kernel_error: f64 {e64:e}, f32 {e32:e}, |Δ| {:e}, bound {bound:e}",
        (e32 - e64).abs()
    );
    assert!(
        (e32 - e64).abs() <= bound,
        "{e32} vs {e64}, bound {bound:e}"
    );
}

/// Law C for the tensor maps: `x = 1e20` is an f32, but `x² = 1e40` is not. The docs promise
/// `Err(NonFinite)` for an output beyond `f32::MAX` (and the f64 run of the same data is `Ok`).
/// Below the limit (`x = 1e18`, `x² = 1e36`) f32 is `Ok` and bitwise the rounded f64 result.
#[test]
fn law_c_tensor_maps_reject_f32_overflow() {
    let d = 3;
    let ts = TensorSketch::new(2, d, 16, Seed::new(1)).unwrap();
    let tree = TreeSketch::new(2, d, 16, Seed::new(1)).unwrap();
    let params = PolyKernelParams {
        degree: 2,
        sketch_dim: 16,
        ..Default::default()
    };
    let phi = PolyKernelFeatures::new(d, params, Seed::new(1)).unwrap();
    // Also subnormal f32 entries (their squares round to 0 in f32 as the f64 result rounded
    // does) and the smallest subnormal.
    for (v, over) in [
        (1e20f32, true),
        (1e18f32, false),
        (f32::MAX, true),
        (1e-40f32, false),
        (f32::from_bits(1), false),
    ] {
        let x32 = [v, 0.0, -0.5];
        let x64 = x32.map(|a| a as f64);
        let m32 = Mat::from_fn(2, d, |_, j| x32[j]);
        let m64 = widen(&m32);
        let what = format!("x = {v:e}");
        let r = [
            (
                "TensorSketch apply_power",
                ts.apply_power(&x32),
                ts.apply_power(&x64),
            ),
            (
                "TreeSketch apply_power",
                tree.apply_power(&x32),
                tree.apply_power(&x64),
            ),
            (
                "TensorSketch apply_kron",
                ts.apply_kron(&[&x32, &x32]),
                ts.apply_kron(&[&x64, &x64]),
            ),
            (
                "TreeSketch apply_kron",
                tree.apply_kron(&[&x32, &x32]),
                tree.apply_kron(&[&x64, &x64]),
            ),
            (
                "transform_vec",
                phi.transform_vec(&x32),
                phi.transform_vec(&x64),
            ),
        ];
        for (name, y32, y64) in r {
            let y64 = y64.unwrap_or_else(|e| panic!("{name} {what}: f64 {e}"));
            if over {
                assert!(is_nonfinite(&y32), "{name} {what}: f32 gave {y32:?}");
            } else {
                assert_rounded_vec(&y32.unwrap(), &y64, &format!("{name} {what}"));
            }
        }
        let rows = [
            (
                "TensorSketch apply_rows",
                ts.apply_rows(MatrixRef::dense(m32.as_ref()).unwrap(), Par::Seq),
                ts.apply_rows(MatrixRef::dense(m64.as_ref()).unwrap(), Par::Seq),
            ),
            (
                "TreeSketch apply_rows",
                tree.apply_rows(MatrixRef::dense(m32.as_ref()).unwrap(), Par::Seq),
                tree.apply_rows(MatrixRef::dense(m64.as_ref()).unwrap(), Par::Seq),
            ),
            (
                "transform",
                phi.transform(MatrixRef::dense(m32.as_ref()).unwrap(), Par::Seq),
                phi.transform(MatrixRef::dense(m64.as_ref()).unwrap(), Par::Seq),
            ),
        ];
        for (name, y32, y64) in rows {
            let y64 = y64.unwrap_or_else(|e| panic!("{name} {what}: f64 {e}"));
            if over {
                assert!(is_nonfinite(&y32), "{name} {what}: f32 gave {y32:?}");
            } else {
                assert_rounded(&y32.unwrap(), &y64, &format!("{name} {what}"));
            }
        }
        // The kernel is an f64 answer: (1e20·1e20)² = 1e80 fits, so it is Ok for f32 input.
        assert_eq!(
            phi.kernel(&x32, &x32).unwrap().to_bits(),
            phi.kernel(&x64, &x64).unwrap().to_bits(),
            "kernel {what}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Attention: features.

#[test]
fn law_a_polysketch_features() {
    let (n, h) = (40, 5);
    let x64 = data(n, h, 101, false);
    let x32 = to32(&x64);
    // Identity p=2: φ(x) = x; p=4: x_a·x_b, exact in f64, one rounding in f32. TensorSketch map:
    // computed in f64 and rounded once. All three: bitwise the rounded f64 result.
    for (map, p) in [
        (FeatureMap::Identity, 2),
        (FeatureMap::Identity, 4),
        (FeatureMap::TensorSketch, 4),
        (FeatureMap::TensorSketch, 6),
    ] {
        let ps = PolySketch::new(h, p, 16, map, Seed::new(3)).unwrap();
        let f64_ = ps.features(x64.as_ref(), Par::Seq).unwrap();
        for threads in [1, 4] {
            let f32_ = with_threads(threads, |par| ps.features(x32.as_ref(), par).unwrap());
            assert_rounded(
                &f32_,
                &f64_,
                &format!("{map:?} p={p} features, {threads} threads"),
            );
        }
    }
    // Gaussian p=2: φ = (x·G)/√r. Rows of G/√r are φ(e_l) (computed in f64: one rounding each,
    // |G_lj|/√r ≤ |φ(e_l)_j|(1 + 2u₆₄)). Per entry, f32 rounds G (1), the h products and sums
    // (h), and the scale and its product (2, in place of f64's 1): γ_{h+3}(u) + γ_{h+1}(u₆₄).
    let r = 16;
    let ps = PolySketch::new(h, 2, r, FeatureMap::Gaussian, Seed::new(5)).unwrap();
    let eye = Mat::<f64>::from_fn(h, h, |i, j| if i == j { 1.0 } else { 0.0 });
    let g = ps.features(eye.as_ref(), Par::Seq).unwrap();
    let f64_ = ps.features(x64.as_ref(), Par::Seq).unwrap();
    let f32_ = ps.features(x32.as_ref(), Par::Seq).unwrap();
    let mut worst: f64 = 0.0;
    for i in 0..n {
        for j in 0..r {
            let big: f64 =
                (0..h).map(|l| (x64[(i, l)] * g[(l, j)]).abs()).sum::<f64>() * (1.0 + 1e-14);
            let bound = (gamma(h + 3, U32) + gamma(h + 1, U64)) * big;
            let diff = (f32_[(i, j)] as f64 - f64_[(i, j)]).abs();
            assert!(
                diff <= bound,
                "Gaussian φ ({i}, {j}): |Δ| {diff:e} > {bound:e}"
            );
            worst = worst.max(diff / bound);
        }
    }
    eprintln!("Gaussian features: largest |Δ|/bound {worst:.3}");
}

/// `tensored_features` (Identity p=2): `x_a²` is exact in f64 and rounded once in f32 (bitwise);
/// `√2·x_a·x_b` rounds `√2`, the product and the second product in f32 (3) and twice in f64.
/// `weights` (Identity p=2, positive data, so `⟨q,k⟩` has no cancellation: κ = 1):
/// `w = fl(s)²` with `s` a sum of `h` positive products: relative `γ_{2h+1}` in each type.
#[test]
fn law_a_b_tensored_features_and_weights() {
    let (n, h) = (30, 4);
    let ps = PolySketch::new(h, 2, 1, FeatureMap::Identity, Seed::new(0)).unwrap();
    let x64 = data(n, h, 111, false);
    let x32 = to32(&x64);
    let t64 = ps.tensored_features(x64.as_ref(), Par::Seq).unwrap();
    let t32 = ps.tensored_features(x32.as_ref(), Par::Seq).unwrap();
    let mut c = 0;
    for a in 0..h {
        for b in a..h {
            for i in 0..n {
                let (y32, y64) = (t32[(i, c)], t64[(i, c)]);
                if a == b {
                    assert_eq!(y32.to_bits(), (y64 as f32).to_bits(), "x_a² ({i}, {a})");
                } else {
                    let exact = (x64[(i, a)] * x64[(i, b)]).abs() * std::f64::consts::SQRT_2;
                    let bound = (gamma(3, U32) + gamma(2, U64)) * exact;
                    let diff = (y32 as f64 - y64).abs();
                    assert!(
                        diff <= bound,
                        "√2 x_a x_b ({i}, {a}, {b}): {diff:e} > {bound:e}"
                    );
                }
            }
            c += 1;
        }
    }
    let q64 = positive(20, h, 112, 0.1);
    let k64 = positive(25, h, 113, 0.1);
    let (q32, k32) = (to32(&q64), to32(&k64));
    let w64 = ps.weights(q64.as_ref(), k64.as_ref(), Par::Seq).unwrap();
    let w32 = ps.weights(q32.as_ref(), k32.as_ref(), Par::Seq).unwrap();
    let rel = gamma(2 * h + 1, U32) + gamma(2 * h + 1, U64);
    for i in 0..20 {
        for j in 0..25 {
            let diff = (w32[(i, j)] as f64 - w64[(i, j)]).abs();
            assert!(
                diff <= rel * w64[(i, j)] * (1.0 + 1e-12),
                "weights ({i}, {j}): {diff:e} > {:e}",
                rel * w64[(i, j)]
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Attention: outputs (Law B with κ = 1: all data positive, so every sum is of positive terms and
// each computed quantity is its exact value times (1 + θ_K), |θ_K| ≤ γ_K, K = roundings on the
// longest path of any term; a ratio of two such quantities has relative error ≤ γ_{K₁+K₂+1}).

/// `|y32 − y64| ≤ (γ_K(u) + γ_K(u₆₄))·y_exact`, `y_exact ≤ y64/(1 − γ_K(u₆₄))`.
fn assert_relative(y32: &Mat<f32>, y64: &Mat<f64>, k: usize, what: &str) -> f64 {
    let rel = (gamma(k, U32) + gamma(k, U64)) / (1.0 - gamma(k, U64));
    let mut worst: f64 = 0.0;
    for j in 0..y64.ncols() {
        for i in 0..y64.nrows() {
            let (a, b) = (y32[(i, j)] as f64, y64[(i, j)]);
            assert!(b > 0.0, "{what}: reference ({i}, {j}) not positive");
            let diff = (a - b).abs();
            assert!(
                diff <= rel * b,
                "{what}: ({i}, {j}) f32 {a:e} f64 {b:e}: rel {:e} > γ_{k} bound {rel:e}",
                diff / b
            );
            worst = worst.max(diff / (rel * b));
        }
    }
    worst
}

#[test]
fn law_b_exact_attention_polynomial_and_softmax() {
    let (n, h, d) = (96, 8, 4);
    let q64 = positive(n, h, 121, 0.0);
    let k64 = positive(n, h, 122, 0.0);
    let v64 = positive(n, d, 123, 0.5);
    let (q32, k32, v32) = (to32(&q64), to32(&k64), to32(&v64));
    let p = 4;
    for causal in [false, true] {
        let params = ExactParams { causal, block: 32 };
        // Polynomial: score h roundings; power ≤ p−1 products more on a value that carries
        // (1+θ_h)^p, so w = w_exact(1+θ_{ph+p}); numerator Σ w v over ≤ n keys: +1 (×v) + n
        // (sums, incl. the blocks' GEMM accumulation); normalizer (f64 sum of f32 weights, then
        // 1 + ·, rounded to f32): ph + p + 2 f32 roundings plus f64 ones (negligible, folded in
        // one more); division 1. K = (ph + p + n + 1) + (ph + p + 3) + 1.
        let kernel = Kernel::Polynomial { degree: p };
        let y64 = exact_attention(
            q64.as_ref(),
            k64.as_ref(),
            v64.as_ref(),
            kernel,
            &params,
            Par::Seq,
        )
        .unwrap();
        let y32 = exact_attention(
            q32.as_ref(),
            k32.as_ref(),
            v32.as_ref(),
            kernel,
            &params,
            Par::Seq,
        )
        .unwrap();
        let kk = (p * h + p + n + 1) + (p * h + p + 3) + 1;
        let w = assert_relative(&y32, &y64, kk, &format!("exact poly causal={causal}"));
        eprintln!("exact poly causal={causal}: |Δ|/bound ≤ {w:.3}");
        let y4 = with_threads(4, |par| {
            exact_attention(
                q32.as_ref(),
                k32.as_ref(),
                v32.as_ref(),
                kernel,
                &params,
                par,
            )
            .unwrap()
        });
        assert_bitwise32(&y4, &y32, "exact poly f32, 4 threads");

        // Softmax, scale s = 1/√h: the score x = ⟨q,k⟩ ∈ (0, h] has |x̂ − x| ≤ γ_h·x; the
        // exponent s(x − x_max) then errs by at most ε = s·(γ_h + 2u)(x + x_max) ≤ 2s·h·γ_{h+2}
        // absolutely, so each weight is w(1 + δ) with |δ| ≤ e^ε − 1 + 2u (exp and its rounding)
        // + 2u per key block (running-max rescalings). out = Σwv/Σw: relative ≤ 2δ_w + γ_{n+4}.
        let s = 1.0 / (h as f64).sqrt();
        let kernel = Kernel::Softmax { scale: s };
        let y64 = exact_attention(
            q64.as_ref(),
            k64.as_ref(),
            v64.as_ref(),
            kernel,
            &params,
            Par::Seq,
        )
        .unwrap();
        let y32 = exact_attention(
            q32.as_ref(),
            k32.as_ref(),
            v32.as_ref(),
            kernel,
            &params,
            Par::Seq,
        )
        .unwrap();
        let eps = 2.0 * s * h as f64 * gamma(h + 2, U32);
        let blocks = n.div_ceil(32) as f64;
        let dw = eps.exp_m1() + 2.0 * U32 + 2.0 * U32 * blocks;
        let rel = 2.0 * dw + gamma(n + 4, U32) + 1e-12;
        let mut worst: f64 = 0.0;
        for j in 0..d {
            for i in 0..n {
                let diff = (y32[(i, j)] as f64 - y64[(i, j)]).abs() / y64[(i, j)];
                assert!(
                    diff <= rel,
                    "softmax causal={causal} ({i}, {j}): rel {diff:e} > {rel:e}"
                );
                worst = worst.max(diff / rel);
            }
        }
        eprintln!("exact softmax causal={causal}: |Δ|/bound ≤ {worst:.3}");
        let y4 = with_threads(4, |par| {
            exact_attention(
                q32.as_ref(),
                k32.as_ref(),
                v32.as_ref(),
                kernel,
                &params,
                par,
            )
            .unwrap()
        });
        assert_bitwise32(&y4, &y32, "exact softmax f32, 4 threads");
    }
}

/// `causal_product`: a term of row `i` is `a·b` (1), summed over `r` (r−1), times `c` (1), summed
/// over ≤ n keys in the block GEMM or through the state `P = Σ BᵀC` (≤ n), plus the add of the
/// in-block and state parts (1), plus GEMM's product with the state (1): K = r + n + 3.
/// `causal_squared_product`: `(A ⊗ A)` and `(B ⊗ B)` entries carry 3 roundings each (two products
/// and `√2`, whose rounding appears twice), their dot has r(r+1)/2 terms, the in-block path
/// squares a dot of r terms (2r+1); then ×c (1), ≤ n sums, 2 adds: K = n + r(r+1)/2 + 2r + 12.
#[test]
fn law_b_causal_products() {
    let (n, r, e) = (100, 6, 3);
    let a64 = positive(n, r, 131, 0.0);
    let b64 = positive(n, r, 132, 0.0);
    let c64 = positive(n, e, 133, 0.5);
    let (a32, b32, c32) = (to32(&a64), to32(&b64), to32(&c64));
    for block in [1, 16, 128] {
        let y64 =
            causal_product(a64.as_ref(), b64.as_ref(), c64.as_ref(), block, Par::Seq).unwrap();
        let y32 =
            causal_product(a32.as_ref(), b32.as_ref(), c32.as_ref(), block, Par::Seq).unwrap();
        let w = assert_relative(&y32, &y64, r + n + 3, &format!("causal_product b={block}"));
        eprintln!("causal_product b={block}: {w:.3}");
        let y4 = with_threads(4, |par| {
            causal_product(a32.as_ref(), b32.as_ref(), c32.as_ref(), block, par).unwrap()
        });
        assert_bitwise32(&y4, &y32, "causal_product f32 4 threads");

        let y64 = causal_squared_product(a64.as_ref(), b64.as_ref(), c64.as_ref(), block, Par::Seq)
            .unwrap();
        let y32 = causal_squared_product(a32.as_ref(), b32.as_ref(), c32.as_ref(), block, Par::Seq)
            .unwrap();
        let kk = n + r * (r + 1) / 2 + 2 * r + 12;
        let w = assert_relative(&y32, &y64, kk, &format!("causal_squared_product b={block}"));
        eprintln!("causal_squared_product b={block}: {w:.3}");
        let y4 = with_threads(4, |par| {
            causal_squared_product(a32.as_ref(), b32.as_ref(), c32.as_ref(), block, par).unwrap()
        });
        assert_bitwise32(&y4, &y32, "causal_squared_product f32 4 threads");
    }
}

/// Sketched attention with the Identity map (p = 2, φ(x) = x exactly in both types, positive
/// data): numerator path φ' (3) ×v (1) Σ over m keys (m) then φ'(q)·P (3 + 1 + R − 1, R =
/// h(h+1)/2 terms): K₁ = m + R + 8; normalizer the same + 1 (the `1 +`); division 1.
/// Causal: `causal_squared_product`'s K (above, with r = h) for each of numerator and
/// normalizer, + 1.
#[test]
fn law_b_sketched_attention_identity_map() {
    let (n, h, d) = (80, 4, 3);
    let q64 = positive(n, h, 141, 0.0);
    let k64 = positive(n, h, 142, 0.0);
    let v64 = positive(n, d, 143, 0.5);
    let (q32, k32, v32) = (to32(&q64), to32(&k64), to32(&v64));
    let rr = h * (h + 1) / 2;
    for causal in [false, true] {
        let params = PolySketchParams {
            degree: 2,
            map: FeatureMap::Identity,
            causal,
            block: 32,
            ..Default::default()
        };
        let (y64, _) =
            poly_sketch_attention(q64.as_ref(), k64.as_ref(), v64.as_ref(), &params, Par::Seq)
                .unwrap();
        let (y32, info32) =
            poly_sketch_attention(q32.as_ref(), k32.as_ref(), v32.as_ref(), &params, Par::Seq)
                .unwrap();
        assert!(info32.min_normalizer >= 1.0);
        let kk = if causal {
            let kc = n + rr + 2 * h + 12;
            2 * kc + 2
        } else {
            (n + rr + 8) + (n + rr + 9) + 1
        };
        let w = assert_relative(
            &y32,
            &y64,
            kk,
            &format!("poly_sketch_attention identity causal={causal}"),
        );
        eprintln!("sketched identity causal={causal}: {w:.3}");
        // PolySketch::attention is the same computation.
        let ps = PolySketch::new(h, 2, 1, FeatureMap::Identity, Seed::new(0)).unwrap();
        let (y32b, _) = ps
            .attention(
                q32.as_ref(),
                k32.as_ref(),
                v32.as_ref(),
                causal,
                32,
                false,
                Par::Seq,
            )
            .unwrap();
        assert_bitwise32(
            &y32b,
            &y32,
            "PolySketch::attention vs poly_sketch_attention f32",
        );
        let (y4, _) = with_threads(4, |par| {
            poly_sketch_attention(q32.as_ref(), k32.as_ref(), v32.as_ref(), &params, par).unwrap()
        });
        assert_bitwise32(&y4, &y32, "poly_sketch_attention f32, 4 threads");
    }
}

/// The module docs: "`f32` outputs agree with the `f64` computation to about `1e-5` relative on
/// well-scaled inputs" — checked on the docs' own clustered inputs with the Gaussian and
/// TensorSketch maps (relative Frobenius error, `relative_error`), and that `relative_error`
/// itself (computed in f64 from widened inputs) answers bitwise the same for f32.
#[test]
fn law_b_sketched_attention_matches_doc_promise() {
    let (q, k, v) = clustered_qkv(256, 16, 8, 0.3, 1.5, Seed::new(1)).unwrap();
    let (q32, k32, v32) = (to32(&q), to32(&k), to32(&v));
    let (q, k, v) = (widen(&q32), widen(&k32), widen(&v32));
    // The exact path, the same promise.
    for causal in [false, true] {
        for kernel in [
            Kernel::Polynomial { degree: 4 },
            Kernel::Softmax { scale: 0.25 },
        ] {
            let params = ExactParams { causal, block: 64 };
            let y64 = exact_attention(
                q.as_ref(),
                k.as_ref(),
                v.as_ref(),
                kernel,
                &params,
                Par::Seq,
            )
            .unwrap();
            let y32 = exact_attention(
                q32.as_ref(),
                k32.as_ref(),
                v32.as_ref(),
                kernel,
                &params,
                Par::Seq,
            )
            .unwrap();
            let err = relative_error(widen(&y32).as_ref(), y64.as_ref()).unwrap();
            eprintln!("exact {kernel:?} causal={causal}: f32 vs f64 relative error {err:e}");
            assert!(
                err <= 1e-5,
                "exact {kernel:?} causal={causal}: {err:e} > 1e-5"
            );
        }
    }
    for map in [FeatureMap::Gaussian, FeatureMap::TensorSketch] {
        for causal in [false, true] {
            let params = PolySketchParams {
                sketch_dim: 32,
                map,
                causal,
                block: 64,
                ..Default::default()
            };
            let (y64, _) =
                poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), &params, Par::Seq)
                    .unwrap();
            let (y32, _) =
                poly_sketch_attention(q32.as_ref(), k32.as_ref(), v32.as_ref(), &params, Par::Seq)
                    .unwrap();
            let err = relative_error(widen(&y32).as_ref(), y64.as_ref()).unwrap();
            eprintln!("{map:?} causal={causal}: f32 vs f64 relative error {err:e}");
            assert!(err <= 1e-5, "{map:?} causal={causal}: {err:e} > 1e-5");
            // relative_error<f32> is the f64 computation on the widened inputs, bitwise.
            let y64r = to32(&y64);
            assert_eq!(
                relative_error(y32.as_ref(), y64r.as_ref())
                    .unwrap()
                    .to_bits(),
                relative_error(widen(&y32).as_ref(), widen(&y64r).as_ref())
                    .unwrap()
                    .to_bits(),
                "relative_error f32 vs widened f64"
            );
        }
    }
}

/// Law C for attention: `Q, K` with entries `1e20` (f32-representable) give scores `≈ 1e40`,
/// beyond f32: every entry point must answer `Err(NonFinite)` (docs: "a score ⟨q_i,k_j⟩ or an
/// output that overflowed T"; features "a feature that overflows the scalar type"), never an
/// `Ok` with ±∞/NaN and never a panic; the same data in f64 is `Ok`.
#[test]
fn law_c_attention_rejects_f32_overflow() {
    let (n, h, d) = (8, 4, 2);
    let big = 1e20;
    let q64 = Mat::from_fn(n, h, |i, j| {
        big * (1.0 + ((i + j) % 3) as f64) as f32 as f64
    });
    let q64 = Mat::from_fn(n, h, |i, j| q64[(i, j)] as f32 as f64);
    let v64 = positive(n, d, 151, 0.0);
    let (q32, v32) = (to32(&q64), to32(&v64));
    let mut checked = Vec::new();
    let mut check = |name: &str, r32: bool, r64: bool| {
        assert!(r32, "{name}: f32 did not return Err(NonFinite)");
        assert!(r64, "{name}: f64 did not return Ok");
        checked.push(name.to_string());
    };
    for causal in [false, true] {
        let params = ExactParams { causal, block: 4 };
        for kernel in [
            Kernel::Polynomial { degree: 2 },
            Kernel::Softmax { scale: 1e-40 },
            Kernel::Softmax { scale: -1e-40 },
        ] {
            let r32 = exact_attention(
                q32.as_ref(),
                q32.as_ref(),
                v32.as_ref(),
                kernel,
                &params,
                Par::Seq,
            );
            let r64 = exact_attention(
                q64.as_ref(),
                q64.as_ref(),
                v64.as_ref(),
                kernel,
                &params,
                Par::Seq,
            );
            check(
                &format!("exact_attention {kernel:?} causal={causal}"),
                is_nonfinite(&r32),
                r64.is_ok(),
            );
        }
        for map in [
            FeatureMap::Identity,
            FeatureMap::Gaussian,
            FeatureMap::TensorSketch,
        ] {
            // Degree 2 in f64: weights ⟨q,k⟩² ≈ 1e81, normalizers fine in f64.
            let params = PolySketchParams {
                degree: 2,
                sketch_dim: 4,
                map,
                causal,
                block: 4,
                ..Default::default()
            };
            let r32 =
                poly_sketch_attention(q32.as_ref(), q32.as_ref(), v32.as_ref(), &params, Par::Seq);
            let r64 =
                poly_sketch_attention(q64.as_ref(), q64.as_ref(), v64.as_ref(), &params, Par::Seq);
            check(
                &format!("poly_sketch_attention {map:?} causal={causal}"),
                is_nonfinite(&r32),
                r64.is_ok(),
            );
        }
    }
    // Scores of −4e40 (K = −Q): −∞ in f32 would give the key a weight e^{−∞} = 0 and silently
    // leave it out; the docs (Kernel::Softmax) promise an error for a score beyond T's range.
    let neg32 = Mat::from_fn(n, h, |i, j| -q32[(i, j)]);
    let neg64 = widen(&neg32);
    for causal in [false, true] {
        let params = ExactParams { causal, block: 4 };
        for kernel in [
            Kernel::Softmax { scale: 1e-40 },
            Kernel::Polynomial { degree: 2 },
        ] {
            let r32 = exact_attention(
                q32.as_ref(),
                neg32.as_ref(),
                v32.as_ref(),
                kernel,
                &params,
                Par::Seq,
            );
            let r64 = exact_attention(
                q64.as_ref(),
                neg64.as_ref(),
                v64.as_ref(),
                kernel,
                &params,
                Par::Seq,
            );
            check(
                &format!("exact_attention {kernel:?} causal={causal}, negative scores"),
                is_nonfinite(&r32),
                r64.is_ok(),
            );
        }
    }
    for block in [1, 4, 8] {
        let r32 = causal_product(q32.as_ref(), q32.as_ref(), v32.as_ref(), block, Par::Seq);
        let r64 = causal_product(q64.as_ref(), q64.as_ref(), v64.as_ref(), block, Par::Seq);
        check(
            &format!("causal_product b={block}"),
            is_nonfinite(&r32),
            r64.is_ok(),
        );
        let r32 = causal_squared_product(q32.as_ref(), q32.as_ref(), v32.as_ref(), block, Par::Seq);
        let r64 = causal_squared_product(q64.as_ref(), q64.as_ref(), v64.as_ref(), block, Par::Seq);
        check(
            &format!("causal_squared_product b={block}"),
            is_nonfinite(&r32),
            r64.is_ok(),
        );
    }
    // Features: Identity p=4 squares entries (1e40); tensored features of p=2 too; weights
    // square ⟨q,k⟩ ≈ 1e40.
    let id4 = PolySketch::new(h, 4, 1, FeatureMap::Identity, Seed::new(0)).unwrap();
    check(
        "features Identity p=4",
        is_nonfinite(&id4.features(q32.as_ref(), Par::Seq)),
        id4.features(q64.as_ref(), Par::Seq).is_ok(),
    );
    let id2 = PolySketch::new(h, 2, 1, FeatureMap::Identity, Seed::new(0)).unwrap();
    check(
        "tensored_features Identity p=2",
        is_nonfinite(&id2.tensored_features(q32.as_ref(), Par::Seq)),
        id2.tensored_features(q64.as_ref(), Par::Seq).is_ok(),
    );
    check(
        "weights Identity p=2",
        is_nonfinite(&id2.weights(q32.as_ref(), q32.as_ref(), Par::Seq)),
        id2.weights(q64.as_ref(), q64.as_ref(), Par::Seq).is_ok(),
    );
    // Gaussian features p=2 of entries near f32::MAX: where the f64 features lie beyond
    // f32::MAX the f32 call must be Err(NonFinite); it may also be an Err where a product
    // x_l·G_lj overflowed first, but never an Ok holding ±∞.
    let (hg, rg) = (16, 4);
    let g2 = PolySketch::new(hg, 2, rg, FeatureMap::Gaussian, Seed::new(2)).unwrap();
    let top32 = Mat::<f32>::from_fn(2, hg, |i, j| {
        if i == 1 && j % 2 == 1 {
            -f32::MAX
        } else {
            f32::MAX
        }
    });
    let f64_ = g2.features(widen(&top32).as_ref(), Par::Seq).unwrap();
    let beyond = (0..2).any(|i| (0..rg).any(|j| f64_[(i, j)].abs() > f32::MAX as f64 * 1.01));
    assert!(beyond, "test setup: no f64 feature beyond f32::MAX");
    check(
        "features Gaussian p=2 at f32::MAX",
        is_nonfinite(&g2.features(top32.as_ref(), Par::Seq)),
        true,
    );
    let ts4 = PolySketch::new(h, 4, 8, FeatureMap::TensorSketch, Seed::new(2)).unwrap();
    check(
        "features TensorSketch p=4",
        is_nonfinite(&ts4.features(q32.as_ref(), Par::Seq)),
        ts4.features(q64.as_ref(), Par::Seq).is_ok(),
    );
    eprintln!("{} overflow checks", checked.len());
}

// ------------------------------------------------------------------------------------------------
// Inputs.

/// Law C for the validated views: NaN and ±∞ in f32 rejected with `NonFinite` at the right
/// entry; `f32::MAX`, `−f32::MAX`, the smallest subnormal and `−0` accepted and kept bitwise
/// (`to_dense` of a sparse view).
#[test]
fn law_c_input_validation_f32() {
    let specials = [
        f32::MAX,
        -f32::MAX,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        -f32::from_bits(1),
        -0.0,
        1e-40,
    ];
    let a = Mat::<f32>::from_fn(
        specials.len(),
        2,
        |i, j| if j == 0 { specials[i] } else { 1.0 },
    );
    let v = MatrixRef::dense(a.as_ref()).unwrap();
    assert_bitwise32(&v.to_dense().unwrap(), &a, "dense to_dense");
    check_finite_dense(a.as_ref(), "a").unwrap();
    check_finite_slice(&specials, "x").unwrap();
    // Sparse: the specials as stored entries (−0 included), CSR and CSC.
    let indptr: Vec<usize> = (0..=specials.len()).collect();
    let indices = vec![0usize; specials.len()];
    let sp = SparseRef::try_csr(specials.len(), 1, &indptr, &indices, &specials).unwrap();
    let dense = MatrixRef::Sparse(sp).to_dense().unwrap();
    for (i, s) in specials.iter().enumerate() {
        assert_eq!(dense[(i, 0)].to_bits(), s.to_bits(), "csr entry {i}");
    }
    let spc = SparseRef::try_csc(1, specials.len(), &indptr, &indices, &specials).unwrap();
    let dense = MatrixRef::Sparse(spc).to_dense().unwrap();
    for (i, s) in specials.iter().enumerate() {
        assert_eq!(dense[(0, i)].to_bits(), s.to_bits(), "csc entry {i}");
    }
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut b = a.clone();
        b[(3, 1)] = bad;
        match MatrixRef::dense(b.as_ref()) {
            Err(Error::NonFinite { row: 3, col: 1, .. }) => {}
            other => panic!("dense {bad}: {:?}", other.map(|_| ())),
        }
        assert!(matches!(
            check_finite_dense(b.as_ref(), "b"),
            Err(Error::NonFinite { row: 3, col: 1, .. })
        ));
        let mut s = specials.to_vec();
        s[4] = bad;
        assert!(matches!(
            check_finite_slice(&s, "s"),
            Err(Error::NonFinite { row: 4, .. })
        ));
        assert!(is_nonfinite(&SparseRef::try_csr(
            s.len(),
            1,
            &indptr,
            &indices,
            &s
        )));
        assert!(is_nonfinite(&SparseRef::try_new(
            Layout::Csc,
            1,
            s.len(),
            &indptr,
            &indices,
            &s
        )));
        let m = sprs::CsMat::new((s.len(), 1), indptr.clone(), indices.clone(), s.clone());
        assert!(is_nonfinite(&MatrixRef::sparse(&m)));
        assert!(is_nonfinite(&SparseRef::from_sprs(m.view())));
        // And every sketch's apply_vec rejects it as an input, not as an overflow.
        let x: Vec<f32> = (0..10).map(|i| if i == 6 { bad } else { 1.0 }).collect();
        for (name, s32, _, _) in families(4, 10, 1) {
            match s32.apply_vec(&x) {
                Err(Error::NonFinite { row: 6, .. }) => {}
                other => panic!("{name} apply_vec({bad}): {other:?}"),
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Sketches at the sizes where the kernel choice depends on the scalar's size.

/// `n × d` CSR with `per` distinct random columns per row, values f32-representable.
fn sparse_rows(n: usize, d: usize, per: usize, seed: u64) -> sprs::CsMat<f64> {
    let mut r = Rng(seed);
    let (mut indptr, mut indices, mut vals) = (vec![0], vec![], vec![]);
    for _ in 0..n {
        let mut cols: Vec<usize> = Vec::new();
        while cols.len() < per {
            let c = (r.next_u64() % d as u64) as usize;
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
        cols.sort_unstable();
        for c in cols {
            indices.push(c);
            vals.push(r.next() as f32 as f64);
        }
        indptr.push(indices.len());
    }
    sprs::CsMat::new((n, d), indptr, indices, vals)
}

/// CountSketch's direct-to-columns path and the row kernel's partitions are chosen from the
/// output's size *in bytes* (`sparse_sign.rs`, `count_goes_direct`, `PARTITION_ABOVE`), so f32
/// takes other kernels than f64 at the same `m × d`: column strides of 2048 bytes at `m = 512`
/// (4096 for f64), 4096 at `m = 1024`, and a 4.9 MB output at `2048 × 600` (partitioned in
/// both). At each: f32 bitwise across CSR, CSC, dense and 1/4 threads, and Law A against f64
/// (the bound accumulated from `SparseSign::column`, entry by entry).
#[test]
fn law_a_and_reproducibility_at_kernel_switching_sizes() {
    use randnla::sketch::{CountSketch, SparseSign};
    for (m, n, d, per) in [
        (512, 3000, 200, 2),
        (1024, 3000, 200, 2),
        (2048, 5000, 600, 3),
    ] {
        let c64 = sparse_rows(n, d, per, m as u64);
        let c32 = c64.map(|&v| v as f32);
        let csc32 = c32.to_csc();
        let dense32 = MatrixRef::sparse(&c32).unwrap().to_dense().unwrap();
        for s in [1, 8] {
            let ss = SparseSign::new(m, n, s, Seed::new(7)).unwrap();
            let cs = CountSketch::new(m, n, Seed::new(7)).unwrap();
            let op32: &dyn SketchOperator<f32> = if s == 1 { &cs } else { &ss };
            let op64: &dyn SketchOperator<f64> = if s == 1 { &cs } else { &ss };
            let what = format!("s={s} m={m} d={d}");
            let base = op32
                .apply(MatrixRef::sparse(&c32).unwrap(), Par::Seq)
                .unwrap();
            for (layout, v) in [
                ("csc", MatrixRef::sparse(&csc32).unwrap()),
                ("dense", MatrixRef::dense(dense32.as_ref()).unwrap()),
                ("csr", MatrixRef::sparse(&c32).unwrap()),
            ] {
                for threads in [1, 4] {
                    if layout == "csr" && threads == 1 {
                        continue;
                    }
                    let y = with_threads(threads, |par| op32.apply(v, par).unwrap());
                    assert_bitwise32(&y, &base, &format!("{what} {layout} {threads} threads"));
                }
            }
            // Law A: Σ|s a| and the number of products per output entry.
            let y64 = op64
                .apply(MatrixRef::sparse(&c64).unwrap(), Par::Seq)
                .unwrap();
            let mut big = Mat::<f64>::zeros(m, d);
            let mut k = Mat::<f64>::zeros(m, d);
            for (l, row) in c64.outer_iterator().enumerate() {
                let col = ss.column(l).unwrap();
                let col = if s == 1 {
                    let (b, sign) = cs.bucket(l).unwrap();
                    vec![(b, sign)]
                } else {
                    col
                };
                for (j, &a) in row.iter() {
                    for &(i, sv) in &col {
                        big[(i, j)] += (sv * a).abs();
                        k[(i, j)] += 1.0;
                    }
                }
            }
            let mut worst: f64 = 0.0;
            for j in 0..d {
                for i in 0..m {
                    let kk = k[(i, j)] as usize;
                    let bound = if kk == 0 {
                        0.0
                    } else {
                        (gamma(kk + 1, U32) + gamma(kk, U64)) * big[(i, j)] * (1.0 + 1e-12)
                    };
                    let diff = (base[(i, j)] as f64 - y64[(i, j)]).abs();
                    assert!(diff <= bound, "{what} ({i}, {j}): |Δ| {diff:e} > {bound:e}");
                    if bound > 0.0 {
                        worst = worst.max(diff / bound);
                    }
                }
            }
            eprintln!("{what}: largest |Δ|/bound {worst:.3}");
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Attention: the f32-specific range handling.

/// Exact polynomial attention keeps each row's weights in a power-of-two scale once they would
/// sum past `2^{E/2}` (`E = 128` for f32): scores `≈ 2⁴¹` give weights `≈ 2¹⁶⁴`, beyond f32, and
/// the keys grow by powers of two along the rows so that later key blocks raise the scale of
/// earlier ones. The promise (module docs): no overflow, and the output is the weighted mean.
/// Law B as in `law_b_exact_attention_polynomial_and_softmax` (positive data, κ = 1: the scale
/// factors are exact powers of two; a factor that underflows f32 drops earlier terms below
/// `2⁻¹⁰⁰` relative, far under the bound).
#[test]
fn law_b_exact_polynomial_attention_large_scores_f32() {
    let (n, h, d, p) = (96, 8, 3, 4);
    let q64 = positive(n, h, 161, 0.0);
    let q64 = Mat::from_fn(n, h, |i, j| q64[(i, j)] * 2f64.powi(40));
    let k64 = positive(n, h, 162, 0.0);
    let k64 = Mat::from_fn(n, h, |i, j| k64[(i, j)] * 2f64.powi((i / 4) as i32));
    let v64 = positive(n, d, 163, 0.5);
    let (q32, k32, v32) = (to32(&q64), to32(&k64), to32(&v64));
    for causal in [false, true] {
        for block in [16, 96] {
            let params = ExactParams { causal, block };
            let kernel = Kernel::Polynomial { degree: p };
            let y64 = exact_attention(
                q64.as_ref(),
                k64.as_ref(),
                v64.as_ref(),
                kernel,
                &params,
                Par::Seq,
            )
            .unwrap();
            let y32 = exact_attention(
                q32.as_ref(),
                k32.as_ref(),
                v32.as_ref(),
                kernel,
                &params,
                Par::Seq,
            )
            .unwrap_or_else(|e| panic!("causal={causal} b={block}: {e}"));
            let kk = (p * h + p + n + 1) + (p * h + p + 3) + 1;
            let w = assert_relative(
                &y32,
                &y64,
                kk,
                &format!("large scores causal={causal} b={block}"),
            );
            eprintln!("large scores causal={causal} b={block}: {w:.3}");
        }
    }
}

/// The power-of-two balancing of the two factors (`attention/mod.rs`, `balancing_shift`, with
/// half of f32's exponent range): `(2⁷⁰·A, 2⁻⁷⁰·B)` has the same `⟨a_i, b_j⟩` as `(A, B)`, but
/// `A ⊗ A` would be `2¹⁴⁰`, beyond f32. The shift brings the copies back to exactly `A` and `B`,
/// so each result is bitwise the unscaled one.
#[test]
fn f32_balancing_shift_is_exact() {
    let (n, r, e) = (40, 4, 2);
    let a = to32(&positive(n, r, 171, 0.0));
    let b = to32(&positive(n, r, 172, 0.0));
    let c = to32(&positive(n, e, 173, 0.5));
    let up = Mat::from_fn(n, r, |i, j| a[(i, j)] * 2f32.powi(70));
    let down = Mat::from_fn(n, r, |i, j| b[(i, j)] * 2f32.powi(-70));
    let y = causal_product(a.as_ref(), b.as_ref(), c.as_ref(), 8, Par::Seq).unwrap();
    let ys = causal_product(up.as_ref(), down.as_ref(), c.as_ref(), 8, Par::Seq).unwrap();
    assert_bitwise32(&ys, &y, "causal_product balanced");
    let y = causal_squared_product(a.as_ref(), b.as_ref(), c.as_ref(), 8, Par::Seq).unwrap();
    let ys = causal_squared_product(up.as_ref(), down.as_ref(), c.as_ref(), 8, Par::Seq).unwrap();
    assert_bitwise32(&ys, &y, "causal_squared_product balanced");
    let ps = PolySketch::new(r, 2, 1, FeatureMap::Identity, Seed::new(0)).unwrap();
    let w = ps.weights(a.as_ref(), b.as_ref(), Par::Seq).unwrap();
    let ws = ps.weights(up.as_ref(), down.as_ref(), Par::Seq).unwrap();
    assert_bitwise32(&ws, &w, "weights balanced");
    for causal in [false, true] {
        let params = PolySketchParams {
            degree: 2,
            map: FeatureMap::Identity,
            causal,
            block: 8,
            ..Default::default()
        };
        let (y, _) =
            poly_sketch_attention(a.as_ref(), b.as_ref(), c.as_ref(), &params, Par::Seq).unwrap();
        let (ys, _) =
            poly_sketch_attention(up.as_ref(), down.as_ref(), c.as_ref(), &params, Par::Seq)
                .unwrap();
        assert_bitwise32(
            &ys,
            &y,
            &format!("poly_sketch_attention balanced causal={causal}"),
        );
    }
}

/// Law C for large values `v` in exact polynomial attention (module docs: an output that is not
/// finite — the running sum `Σw·v` past the type's range, "for |v| near its largest value, or on
/// unscaled rows (weights up to 2^{E/2}) for |v| beyond about 2^{E/2}/n" — is `Err(NonFinite)`):
/// with `|v|` at `2⁷⁰` (weights up to `2⁶⁰`, `E/2 = 64` in f32) and at `f32::MAX`, the f32 call is
/// either `Ok` and within Law B of the f64 output, or `Err(NonFinite)`; never `Ok(±∞)`, never a
/// panic. Each case must also be `Ok` in f64.
#[test]
fn law_c_exact_attention_large_values_f32() {
    let (n, h, d, p) = (64, 4, 2, 4);
    let q64 = positive(n, h, 181, 0.0);
    let q64 = Mat::from_fn(n, h, |i, j| q64[(i, j)] * 2f64.powi(14));
    let k64 = positive(n, h, 182, 0.0);
    let (q32, k32) = (to32(&q64), to32(&k64));
    let (mut oks, mut errs) = (0, 0);
    // 2⁴⁰ lies below the documented limit 2^{E/2}/n = 2⁵⁸ (n = 64): it must be Ok.
    for top in [
        2f64.powi(40),
        2f64.powi(70),
        f32::MAX as f64,
        f32::MAX as f64 / 2.0,
    ] {
        let v64 = positive(n, d, 183, 0.0);
        let v64 = Mat::from_fn(n, d, |i, j| ((v64[(i, j)] / 1.5) * top) as f32 as f64);
        let v32 = to32(&v64);
        for causal in [false, true] {
            let params = ExactParams { causal, block: 16 };
            let kernel = Kernel::Polynomial { degree: p };
            let what = format!("|v| ≤ {top:e} causal={causal}");
            let y64 = exact_attention(
                q64.as_ref(),
                k64.as_ref(),
                v64.as_ref(),
                kernel,
                &params,
                Par::Seq,
            )
            .unwrap_or_else(|e| panic!("{what}: f64 {e}"));
            match exact_attention(
                q32.as_ref(),
                k32.as_ref(),
                v32.as_ref(),
                kernel,
                &params,
                Par::Seq,
            ) {
                Ok(y32) => {
                    let kk = (p * h + p + n + 1) + (p * h + p + 3) + 1;
                    assert_relative(&y32, &y64, kk, &what);
                    oks += 1;
                }
                Err(Error::NonFinite { .. }) if top > 2f64.powi(58) => errs += 1,
                Err(e) => panic!("{what}: {e}"),
            }
        }
    }
    eprintln!("large v: {oks} Ok, {errs} Err(NonFinite)");
}

/// The SRHT transforms a sparse column entry by entry (`fwht_entry`) when `c·m ≤ n'/32` and by
/// the whole FWHT otherwise, with "the same bits" (srht.rs). In f32: hypersparse columns (one or
/// two entries) next to dense ones, CSC vs CSR vs dense and 1/4 threads bitwise, and Law A with
/// the FWHT depth.
#[test]
fn srht_entry_path_f32() {
    let (m, n, d) = (4, 600, 4);
    // n' = 1024: c·m ≤ 32 for c ≤ 8 entries.
    let mut r = Rng(191);
    let a64 = Mat::from_fn(n, d, |i, j| match j {
        0 if i == 17 => r.next() as f32 as f64,
        1 if i == 3 || i == 599 => r.next() as f32 as f64,
        2 if i % 100 == 7 => r.next() as f32 as f64,
        3 => r.next() as f32 as f64,
        _ => 0.0,
    });
    let a32 = to32(&a64);
    let (c32, c64) = (csr(&a32), csr(&a64));
    let csc32 = c32.to_csc();
    let s = randnla::sketch::Srht::new(m, n, Seed::new(8)).unwrap();
    let base =
        SketchExt::<f32>::apply(&s, MatrixRef::dense(a32.as_ref()).unwrap(), Par::Seq).unwrap();
    for (layout, v) in [
        ("csc", MatrixRef::sparse(&csc32).unwrap()),
        ("csr", MatrixRef::sparse(&c32).unwrap()),
        ("dense", MatrixRef::dense(a32.as_ref()).unwrap()),
    ] {
        for threads in [1, 4] {
            let y = with_threads(threads, |par| SketchExt::<f32>::apply(&s, v, par).unwrap());
            assert_bitwise32(&y, &base, &format!("srht {layout} {threads} threads"));
        }
    }
    let y64 = SketchExt::<f64>::apply(&s, MatrixRef::sparse(&c64).unwrap(), Par::Seq).unwrap();
    let sd = SketchOperator::<f64>::to_dense(&s).unwrap();
    check_law_a("srht entry path", &sd, &a64, &base, &y64, Some(10));
}
