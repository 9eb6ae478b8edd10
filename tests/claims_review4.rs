//! A fourth review of the quantitative claims in the docs (review `claims4`, 2026-12-06): the
//! tensor module (`src/tensor/{mod,power,sketched,symmetric,pairing,tns}.rs`) and the
//! test-problem generators (`src/problems.rs`). Each test quotes its claim with `file:line`
//! (line numbers as of commit 48a1803), checks it against an exact computation (dense
//! contractions, the exact tensor built from the generator's components, SVDs, a Cholesky of the
//! exact Gram matrix, closed-form expectations) or against enough fixed-seed trials for its pass
//! rule, and states the rule. Claims already pinned by another test (unbiasedness and the `1/b`
//! law of the sketched contractions, the shared hash's bias being above 1.5, `weight_spread`,
//! the non-orthogonal and dynamic-range figures of `power_method_exact`, `ls_problem`'s
//! `‖A‖₂`, `κ ≤ 10¹²`, `‖x‖`, `‖r‖` and `Aᵀr`, the coherent matrix's leverage formula, the
//! illmix counts, the `.tns` line rules) are not repeated here.
//!
//! Result: the figures hold (the measured values are in each test's doc), except three
//! statements, pinned by tests in their true form (first committed ignored, as doc bugs; the
//! docs were corrected the same day and the tests run):
//! - `src/tensor/mod.rs:9` ("`Auto` … picks [the shared hash] at order 3 when the folded search
//!   size is at least `16n`, as with the automatic shapes") and `src/tensor/sketched.rs:88`
//!   ("the power method's automatic shapes fold to `b/4 ≈ 64n` or more") hold only up to
//!   `n = 1024`: `b` is capped at `2¹⁸`, so the folded size is `2¹⁶`, `32n` at `n = 2048`, and
//!   from `n = 4097` on below `16n`, where `Auto` picks per-mode hashes at order 3
//!   (`automatic_shapes_fold_to_64n_only_up_to_n_1024`).
//! - `src/tensor/sketched.rs:212-214` (the example of `TensorSketches::new`): the median over
//!   `B = 15` sketches does not divide the per-sketch standard deviation "by about
//!   `√(2B/π) ≈ 3.1`" at the example's component but by 7.35 (0.1845 against an rms median
//!   error of 0.0251 over 400 seeds): the per-sketch errors there are heavy-tailed, many
//!   sketches exact (`the_median_does_better_than_2b_over_pi_at_the_examples_component`). The
//!   `2B/π` of `src/tensor/mod.rs:17-18` does hold for a diffuse tensor (10.1 and 11.4 measured).
//! - `src/tensor/symmetric.rs:630-631` and `src/tensor/tns.rs:461-463` refuse listed
//!   permutations "with values across permutations differing by more than `1e-10` relative";
//!   each is compared with the first listed (whose value is stored) only, so two may differ by
//!   up to `2·10⁻¹⁰` (`listed_permutations_are_compared_with_the_first_only`).
//!
//! Audited and holding: `synthetic_orthogonal`'s weights, factors and noise level (orders 3–5,
//! `n = 1`…5, noise 0…10); the module example's 40-seed figures; the `TensorSketches::new`
//! example's 0.18 / 0.025 / 0.08; the per-sketch variance `≈ ‖T‖_F²/b` (diffuse) and
//! `3, 6, 9, 14·‖T‖_F²/b` (rank one, `p = 3…6`; measured 2.8, 4.5, 6.3, 10.5); the shared
//! hash's 2.30 and 5.33; `≈ 2n²/b` colliding pairs; the automatic shapes and their 0.62 / 0.43;
//! the factor-error formula, "near 0.03" and the `polish_iters` rule; deflation in sketch
//! space (with the order-3 correction); `search_sketches` 0 or above `B`; quadratic
//! convergence and `final_change`; the same starts for both methods; `TnsStorage::Auto`'s
//! quarter rule and the reader's field and index limits; `write_tns`'s shortest round-trip
//! values; `ls_problem`'s `κ` at `10¹²` and `d = 1`; `sparse_ls_illmix`'s `κ ≈ 2.3/delta_min`
//! under column scaling and its column norms; `cauchy_rows`' structure; the coherent
//! matrix's 0.95 at `50 000 × 100`; the per-sketch median's 1 % deficit at order 7 (order 9's
//! 4–5 % measured once, 3.7 %, too slow for this file); listed permutations within `1e-10` of
//! the first storing the first listed value; `random_sparse`'s uniform columns (both sampling
//! paths) and normal values; `sparse_ls_illmix`'s noise level; the shared/per-mode variance
//! ratios at order 3 (diagonal and random dense tensors); the sketched method's start values
//! as the folded search estimates (`h mod b_s`, first `search_sketches` sketches); the `.tns`
//! reader's 1 MiB line limit at its boundary (LF, CRLF, end of file).
//! The 8-seed error figures of `SketchParams::resolve` (order 4, `n = 30`, both hashings and
//! both sizes; orders 5–7).

use faer::{Mat, Par};
use randnla::diagnostics::orthonormal_basis;
use randnla::problems::{
    cauchy_rows, coherent_matrix, gaussian_matrix, ls_problem, sparse_ls_illmix,
};
use randnla::tensor::{
    match_factors, power_method_exact, read_tns, read_tns_as, residual_rel, ModeHashing,
    PowerParams, SketchParams, SymmetricTensor, TensorSketches, TnsStorage,
};
use randnla::{Error, MatrixRef, Seed};

fn mean_var(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let v = x.iter().map(|y| (y - m) * (y - m)).sum::<f64>() / (x.len() - 1) as f64;
    (m, v)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn unit(v: Vec<f64>) -> Vec<f64> {
    let n = dot(&v, &v).sqrt();
    v.into_iter().map(|x| x / n).collect()
}

/// A symmetric dense tensor with no structure (the symmetric part of an iid Gaussian array) and
/// a random unit vector.
fn diffuse_tensor(order: usize, n: usize, seed: u64) -> (SymmetricTensor, Vec<f64>) {
    let len = n.pow(order as u32);
    let g = gaussian_matrix(len + n, 1, Seed::new(seed)).unwrap();
    let data: Vec<f64> = (0..len).map(|i| g[(i, 0)]).collect();
    let u = unit((len..len + n).map(|i| g[(i, 0)]).collect());
    (
        SymmetricTensor::dense_symmetrized(order, n, data).unwrap(),
        u,
    )
}

/// Every entry of a dense tensor in row-major order (through `get`, so any storage).
fn entries(t: &SymmetricTensor) -> Vec<f64> {
    let (n, p) = (t.dim(), t.order());
    let mut idx = vec![0usize; p];
    let mut out = Vec::with_capacity(n.pow(p as u32));
    for lin in 0..n.pow(p as u32) {
        let mut r = lin;
        for k in (0..p).rev() {
            idx[k] = r % n;
            r /= n;
        }
        out.push(t.get(&idx).unwrap());
    }
    out
}

/// Claim, `src/tensor/symmetric.rs:1252-1254` (`synthetic_orthogonal`): "`T = Σ_{j<k} λ_j
/// a_j^{⊗p} + E` with orthonormal `a_j` …, decaying weights `λ_j = 0.8^j`, and a symmetric
/// Gaussian noise tensor `E` scaled so that `‖E‖_F = noise·‖Σ λ_j a_j^{⊗p}‖_F`". The doc
/// example checks it at order 3, `n = 6`, `k = 3`, noise 0.1; here orders 3, 4, 5, `n = 1, 2, 5`
/// with `k = 1` and `k = n` (and `k = 3` at `n = 5`), noise `0, 10⁻³, 1, 10`. The signal is
/// rebuilt exactly from the returned weights and factors (`from_components`), `E = T − signal`
/// entry by entry. Pass rule: weights bitwise `0.8f64.powi(j)`; `|⟨a_j, a_l⟩ − δ_jl| ≤ 10⁻¹⁴`;
/// `|‖E‖/‖signal‖ − noise| ≤ 10⁻¹² + 10⁻¹²·noise` (the two constructions of the signal differ
/// by rounding, `≈ 10⁻¹⁶` relative; at noise 0 that is all of `E`).
#[test]
fn synthetic_noise_weights_and_factors_are_as_documented() {
    for order in 3..=5usize {
        for (n, k) in [(1usize, 1usize), (2, 1), (2, 2), (5, 1), (5, 3), (5, 5)] {
            for noise in [0.0, 1e-3, 1.0, 10.0] {
                let what = format!("order {order}, n = {n}, k = {k}, noise {noise}");
                let seed = Seed::new(40 + (order * 100 + n * 10 + k) as u64);
                let (t, w, a) =
                    SymmetricTensor::synthetic_orthogonal(order, n, k, noise, seed).unwrap();
                assert_eq!(w.len(), k, "{what}");
                for (j, wj) in w.iter().enumerate() {
                    assert_eq!(wj.to_bits(), 0.8f64.powi(j as i32).to_bits(), "{what}");
                }
                for j in 0..k {
                    for l in 0..k {
                        let want = if j == l { 1.0 } else { 0.0 };
                        let g = dot(&a[j], &a[l]);
                        assert!((g - want).abs() <= 1e-14, "{what}: ⟨a_{j}, a_{l}⟩ = {g}");
                    }
                }
                let signal = entries(&SymmetricTensor::from_components(order, n, &w, &a).unwrap());
                let got = entries(&t);
                let e2: f64 = got
                    .iter()
                    .zip(&signal)
                    .map(|(x, y)| (x - y) * (x - y))
                    .sum();
                let ratio = e2.sqrt() / dot(&signal, &signal).sqrt();
                assert!(
                    (ratio - noise).abs() <= 1e-12 + 1e-12 * noise,
                    "{what}: ‖E‖/‖signal‖ = {ratio}"
                );
            }
        }
    }
}

/// Claim, `src/tensor/mod.rs:47-52` (the module example: `synthetic_orthogonal(3, 10, 3, 0.01)`,
/// `power_method_exact` with the default parameters, rank 3): "each factor and weight within
/// 2 % (0.4 % at most over 40 seeds)" and "`‖T − T̂‖_F/‖T‖_F` near 0.01 (0.009 to 0.0097 over
/// 40 seeds)". Inputs: tensor seed `s`, method seed `s + 1` (the example's 1 and 2 at `s = 1`),
/// `s = 0..40`. Pass rule (the stated figures, allowed their last printed digit since the
/// doc's 40 seeds need not be these): the largest factor and weight error over the 40 runs at
/// most 0.0045, every residual in `[0.0085, 0.00975]`. The residual cannot exceed
/// `‖E‖/‖T‖ ≈ 0.01` by much if the fit is near the least-squares one, and the fitted rank-3
/// model absorbs about `3n/C(n+2,3) = 30/220` of the noise's energy: `0.01·√(1 − 0.14) ≈
/// 0.0093`, inside the band.
/// Measured: largest error 0.0037, residuals 0.00898–0.00967.
#[test]
fn module_example_figures_hold_over_40_seeds() {
    let (mut worst, mut lo, mut hi) = (0.0f64, f64::INFINITY, 0.0f64);
    for s in 0..40u64 {
        let (t, w, a) =
            SymmetricTensor::synthetic_orthogonal(3, 10, 3, 0.01, Seed::new(s)).unwrap();
        let cp =
            power_method_exact(&t, 3, &PowerParams::default(), Seed::new(s + 1), Par::Seq).unwrap();
        for m in match_factors(3, &w, &a, &cp.weights, &cp.factors).unwrap() {
            worst = worst.max(m.factor_error).max(m.weight_rel_error);
        }
        let r = residual_rel(&t, &cp.weights, &cp.factors, Par::Seq).unwrap();
        lo = lo.min(r);
        hi = hi.max(r);
    }
    assert!(worst <= 0.0045, "largest factor/weight error {worst}");
    assert!(lo >= 0.0085 && hi <= 0.00975, "residuals from {lo} to {hi}");
}

/// The example tensor of `TensorSketches::new` (`src/tensor/sketched.rs:201-208`):
/// `T = 2a^{⊗3} + b^{⊗3}`, `n = 8`; `B = 15` per-mode sketches of size `2¹⁰` for each of the
/// sketch seeds `0..400`. Returns the errors of the 6000 per-sketch estimates of `T(a,a,a) = 2`
/// and of the 400 medians.
fn example_errors() -> (Vec<f64>, Vec<f64>) {
    let a = [0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0];
    let bv = [0.0, 0.0, 0.0, 0.0, 0.5, -0.5, 0.5, -0.5];
    let t = SymmetricTensor::from_components(3, 8, &[2.0, 1.0], &[a, bv]).unwrap();
    let exact = t.contract_all(&a, Par::Seq).unwrap();
    let (mut single, mut median) = (Vec::new(), Vec::new());
    for s in 0..400u64 {
        let sk = TensorSketches::new(&t, 15, 1 << 10, Seed::new(s), Par::Seq).unwrap();
        single.extend(
            sk.estimates_all(&a, Par::Seq)
                .unwrap()
                .iter()
                .map(|v| v - exact),
        );
        median.push(sk.contract_all(&a, Par::Seq).unwrap() - exact);
    }
    (single, median)
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
}

/// Claims, `src/tensor/sketched.rs:210-215` (the example of `TensorSketches::new`, see
/// [`example_errors`]): the per-sketch standard deviation is "a few times `√(5/1024) ≈ 0.07`
/// (0.18 measured here)", its variance "several times more [than `‖T‖_F²/b`] at a component
/// such as a"; "over 400 seeds the error [of the median] was 0.025 rms, 0.08 at most".
/// Pass rules: the per-sketch standard deviation pooled over the 6000 sketches rounds to 0.18
/// (`[0.175, 0.185)`; one seed's 15 sketches are too few: seed 3 alone gives 0.20); its
/// variance between 2 and 10 times `5/1024`; the rms of the 400 median errors rounds to 0.025
/// (`[0.0245, 0.0255)`), the largest to 0.08 (`[0.075, 0.085)`). Measured: 0.1845, 6.97×,
/// 0.0251, 0.0781.
#[test]
fn tensor_sketches_example_figures() {
    let (single, median) = example_errors();
    let (_, var) = mean_var(&single);
    let sd = var.sqrt();
    assert!((0.175..0.185).contains(&sd), "pooled per-sketch sd {sd}");
    let times = var / (5.0 / 1024.0);
    assert!((2.0..=10.0).contains(&times), "variance = {times}·‖T‖²/b");
    let r = rms(&median);
    assert!((0.0245..0.0255).contains(&r), "rms median error {r}");
    let worst = median.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        (0.075..0.085).contains(&worst),
        "largest median error {worst}"
    );
}

/// Claim, `src/tensor/sketched.rs:212-214` (same example): the per-sketch standard deviation
/// "the median over B = 15 sketches divides by about `√(2B/π) ≈ 3.1`. The bound 0.25 … is 4 such
/// standard deviations"; and `src/tensor/mod.rs:17-18`, "the median over `B` sketches reduces
/// it about `2B/π`-fold" (stated with the variance at a component of a low-rank tensor).
/// Does not hold here: the pooled per-sketch standard deviation is 0.1845, the rms median
/// error 0.0251, a reduction of 7.35 (variance 54-fold, not 9.5); for the coordinates of
/// `T(I,a,a)` of the same sketches the variance falls 37–60-fold. At a component of this small
/// low-rank tensor most sketches see no collision that matters (518 of the 6000 estimates are
/// exact to `10⁻¹²`) and the errors are heavy-tailed (`1.4826·MAD = 0.093`, half the standard
/// deviation), so the median does far better than for Gaussian errors; the bound 0.25 is 10
/// rms errors, not 4. (For a diffuse tensor the `2B/π` holds:
/// `diffuse_tensor_variance_is_norm_squared_over_b_and_the_median_divides_it`, 10–11.4.)
/// Pins the measured behaviour, for the doc to state: the standard deviation falls at least
/// 5-fold (`√(2B/π) = 3.1` would fail it), and the bound 0.25 is at least 8 rms errors.
#[test]
fn the_median_does_better_than_2b_over_pi_at_the_examples_component() {
    let (single, median) = example_errors();
    let (_, var) = mean_var(&single);
    let reduction = var.sqrt() / rms(&median);
    assert!(reduction >= 5.0, "σ/rms = {reduction}");
    assert!(0.25 / rms(&median) >= 8.0);
}

/// Claim, `src/tensor/mod.rs:15-18`: the per-sketch variance "is about `‖T‖_F²/b` per
/// coordinate of `T(I,u,…,u)` for a diffuse tensor …, and the median over `B` sketches reduces
/// it about `2B/π`-fold". Inputs: the symmetric part of an iid Gaussian array (orders 3 and 4,
/// `n = 8`), a random unit `u`, per-mode hashes, `b = 256`, `B = 15`, 100 sketch seeds (1500
/// sketches, 100 medians per coordinate). Pass rules ("about"): the per-sketch variance averaged
/// over the coordinates within a factor 2 of `‖T‖_F²/b`; the variance of the coordinate-wise
/// median, averaged likewise, `2B/π = 9.5` times smaller within a factor 1.5 (the standard error
/// of a variance from 800 values is ≈ 5 %).
/// Measured: per-sketch variance 1.03 and 1.11 times `‖T‖_F²/b`, reduced 11.4- and 10.1-fold by the
/// median (orders 3, 4).
#[test]
fn diffuse_tensor_variance_is_norm_squared_over_b_and_the_median_divides_it() {
    let (bb, b) = (15usize, 256usize);
    for order in [3usize, 4] {
        let (t, u) = diffuse_tensor(order, 8, 90 + order as u64);
        let exact = t.contract_but_one(&u, Par::Seq).unwrap();
        let n = exact.len();
        let norm2 = t.norm().powi(2);
        let (mut single, mut median) = (vec![Vec::new(); n], vec![Vec::new(); n]);
        for s in 0..100u64 {
            let sk = TensorSketches::with_hashing(
                &t,
                bb,
                b,
                ModeHashing::PerMode,
                Seed::new(1000 + s),
                Par::Seq,
            )
            .unwrap();
            for z in sk.estimates_but_one(&u, Par::Seq).unwrap() {
                for i in 0..n {
                    single[i].push(z[i] - exact[i]);
                }
            }
            let z = sk.contract_but_one(&u, Par::Seq).unwrap();
            for i in 0..n {
                median[i].push(z[i] - exact[i]);
            }
        }
        let avg = |x: &[Vec<f64>]| x.iter().map(|c| mean_var(c).1).sum::<f64>() / n as f64;
        let (v1, vm) = (avg(&single), avg(&median));
        let ratio = v1 / (norm2 / b as f64);
        assert!(
            (0.5..=2.0).contains(&ratio),
            "order {order}: per-sketch variance {ratio}·‖T‖²/b"
        );
        let reduction = v1 / vm;
        let want = 2.0 * bb as f64 / std::f64::consts::PI;
        assert!(
            reduction >= want / 1.5 && reduction <= want * 1.5,
            "order {order}: the median reduces the variance {reduction}-fold, 2B/π = {want}"
        );
    }
}

/// Claim, `src/tensor/power.rs:116-118` (`SketchParams::resolve`): "the variance of the
/// estimates at a component grows faster than `p − 2` (per coordinate about 3, 6, 9 and 14 times
/// `‖T‖_F²/b` at `p = 3, 4, 5, 6`, rank-one tensor, `n = 5`)". Inputs: `T = a^{⊗p}` with `a`
/// the factor of `synthetic_orthogonal(p, 5, 1, 0, seed)` (`‖T‖_F = 1`), evaluated at `u = a`;
/// per-mode hashes (what `Auto` picks at `p ≥ 4`, and at `p = 3` on sketches under `16n`);
/// `b = 256`; 4 factor seeds × 128 sketches. Pass rule ("about"): the per-sketch variance of
/// `T(I,a,…,a)` averaged over the coordinates, times `b`, within a factor 1.5 of the stated
/// figure at each order, and increasing with the order. (A closed form from the count-sketch
/// moments, `E|F(f)|²|F(g)|² = 1 + c·([f+g≡0] + [f≡g])`, `c = 1 − Σa_i⁴`, gives about
/// `(1/n)·[2((1+c)^{p−1} − 1) + (n − 1)((1+c)^{p−1} + 1)]`: 3.4, 5.1, 7.7, 11.9 at `c = 0.57`,
/// so the figures depend on `a` through `c`.)
/// Measured: 2.76, 4.48, 6.33, 10.47 (25–30 % under the stated figures from `p = 4`, within
/// "about").
#[test]
fn rank_one_variance_at_the_component_is_as_documented() {
    let b = 256usize;
    let mut prev = 0.0;
    for (order, stated) in [(3usize, 3.0), (4, 6.0), (5, 9.0), (6, 14.0)] {
        let mut per_coord = vec![Vec::new(); 5];
        for fs in 0..4u64 {
            let (t, _, f) =
                SymmetricTensor::synthetic_orthogonal(order, 5, 1, 0.0, Seed::new(fs)).unwrap();
            let a = &f[0];
            let exact = t.contract_but_one(a, Par::Seq).unwrap();
            let sk = TensorSketches::with_hashing(
                &t,
                128,
                b,
                ModeHashing::PerMode,
                Seed::new(500 + fs),
                Par::Seq,
            )
            .unwrap();
            for z in sk.estimates_but_one(a, Par::Seq).unwrap() {
                for i in 0..5 {
                    per_coord[i].push(z[i] - exact[i]);
                }
            }
        }
        let v = per_coord
            .iter()
            .map(|c| c.iter().map(|x| x * x).sum::<f64>() / c.len() as f64)
            .sum::<f64>()
            / 5.0;
        let times = v * b as f64;
        assert!(
            times >= stated / 1.5 && times <= stated * 1.5,
            "p = {order}: variance {times}·‖T‖²/b, stated {stated}"
        );
        assert!(times > prev, "p = {order}: {times} not above {prev}");
        prev = times;
    }
}

/// `sym(I⊗I)` of order 4 in coordinate storage: `T_aaaa = 1`, `T_{aabb} = 1/3` (`a ≠ b`, each
/// multi-index listed once).
fn sym_identity_squared(n: usize) -> SymmetricTensor {
    let (mut idx, mut val) = (Vec::new(), Vec::new());
    for a in 0..n {
        idx.extend([a, a, a, a]);
        val.push(1.0);
        for b in a + 1..n {
            idx.extend([a, a, b, b]);
            val.push(1.0 / 3.0);
        }
    }
    SymmetricTensor::coordinate(4, n, &idx, &val).unwrap()
}

/// Claim, `src/tensor/sketched.rs:71-73` (`ModeHashing::Shared` at order ≥ 4): "on
/// `T = sym(I⊗I)`, `p = 4`, with `T(u,u,u,u) = 1`, the mean per-sketch estimate was 2.30 at
/// `n = 16, b = 256` and 5.33 at `n = 64, b = 1024` (per-mode: 1.00)". `tests/tensor_power.rs`
/// checks only that the shared mean is above 1.5 at the first size. Inputs: `u ∝ sin(0.3 + i)`,
/// unit; 4 seeds × 100 sketches per case; the tensor in coordinate storage (checked against its
/// definition through `T(u,u,u,u) = ‖u‖⁴ = 1`). Pass rule: each shared mean within
/// `4.5` standard errors plus 5 % of the stated figure; the per-mode mean at `n = 64` within 4.5
/// standard errors of 1.
/// Measured: 2.26 (standard error 0.14) and 5.10 (0.46).
#[test]
fn shared_hash_bias_figures_at_order_4() {
    for (n, b, stated) in [(16usize, 256usize, 2.30), (64, 1024, 5.33)] {
        let t = sym_identity_squared(n);
        let u = unit((0..n).map(|i| (0.3 + i as f64).sin()).collect());
        let exact = t.contract_all(&u, Par::Seq).unwrap();
        assert!((exact - 1.0).abs() < 1e-12, "T(u,u,u,u) = {exact}");
        let run = |hashing| {
            let mut v = Vec::new();
            for s in 0..4u64 {
                let sk = TensorSketches::with_hashing(
                    &t,
                    100,
                    b,
                    hashing,
                    Seed::new(0x7000 + s),
                    Par::Seq,
                )
                .unwrap();
                v.extend(sk.estimates_all(&u, Par::Seq).unwrap());
            }
            let (m, var) = mean_var(&v);
            (m, (var / v.len() as f64).sqrt())
        };
        let (m, se) = run(ModeHashing::Shared);
        assert!(
            (m - stated).abs() <= 4.5 * se + 0.05 * stated,
            "n = {n}, b = {b}: shared mean {m} (se {se}), stated {stated}"
        );
        if n == 64 {
            let (m, se) = run(ModeHashing::PerMode);
            assert!((m - 1.0).abs() <= 4.5 * se, "per-mode mean {m} (se {se})");
        }
    }
}

/// Claim, `src/tensor/pairing.rs:16` (and `sketched.rs:59`, `:86`): the ordered colliding pairs
/// `P = {(x,z) : x ≠ z, h(x) ≡ h(z) mod b/2}` of a shared-hash sketch number "about `2n²/b`".
/// With `h` uniform on `[b]`, `E|P| = n(n − 1)·2/b` exactly. Inputs: a one-entry order-3 tensor
/// of dimension `n = 64` and `n = 300`, 256 shared-hash sketches of size `b = 256` and `1024`,
/// the hashes read with `TensorSketches::bucket`. Pass rule: the mean of `|P|` over the 256
/// sketches within 4.5 standard errors of `2n(n − 1)/b`, and `2n(n−1)/b` within 2 % of `2n²/b`
/// (n ≥ 64).
/// Measured: 31.6, 8.1, 175.9 pairs against 31.5, 7.9, 175.2.
#[test]
fn colliding_pairs_number_about_2n2_over_b() {
    for (n, b) in [(64usize, 256usize), (64, 1024), (300, 1024)] {
        let t = SymmetricTensor::coordinate(3, n, &[0, 1, 2], &[1.0]).unwrap();
        let sk =
            TensorSketches::with_hashing(&t, 256, b, ModeHashing::Shared, Seed::new(77), Par::Seq)
                .unwrap();
        let counts: Vec<f64> = (0..256)
            .map(|m| {
                let mut per = vec![0usize; b / 2];
                for i in 0..n {
                    per[sk.bucket(m, 0, i).unwrap().0 % (b / 2)] += 1;
                }
                per.iter().map(|&c| (c * c.saturating_sub(1)) as f64).sum()
            })
            .collect();
        let (m, var) = mean_var(&counts);
        let want = 2.0 * (n * (n - 1)) as f64 / b as f64;
        let se = (var / 256.0).sqrt();
        assert!(
            (m - want).abs() <= 4.5 * se,
            "n = {n}, b = {b}: mean {m} pairs, expected {want} (se {se})"
        );
        let approx = 2.0 * (n * n) as f64 / b as f64;
        assert!((want / approx - 1.0).abs() <= 0.02);
    }
}

/// Claims, `src/tensor/power.rs:104-116` (`SketchParams::resolve`) and `:155-156`
/// (`resolve_search`): automatic shapes "aim at `B·b ≈ 4096·(p − 2)·n`: `b` is the smallest
/// power of two ≥ `256·n`, within `2¹⁰..=2¹⁸`, `B` is even and within `6..=30`"; "the reference
/// defaults `B = 30`, `b = 2¹⁶` are reached at `n ≈ 256` for `b` (and `B` stays smaller)";
/// "`B·b` stays below the target (0.62 of it at `p = 5`, `n = 8`; 0.43 at `p = 9`, `n = 5`)";
/// the folded size is "`b/4` but at least `min(b, 2¹⁰)`, capped at `b` and rounded down to a
/// power of two". Inputs: every `n` in `1..=5000` and `p` in `3..=12`; every power of two `b`
/// from `2⁴` to `2²⁴`. Pass rule: the rules exactly; where neither clamp binds,
/// `target ≤ B·b < target + 2b`; the two ratios (exactly `61 440/98 304 = 0.625` and
/// `61 440/143 360 = 0.4286`) round to the printed two digits (a tie either way).
#[test]
fn automatic_shapes_follow_their_documented_rules() {
    let sp = SketchParams::default();
    for p in 3..=12usize {
        for n in 1..=5000usize {
            let (bb, b) = sp.resolve(n, p);
            let want_b = (256 * n).next_power_of_two().clamp(1 << 10, 1 << 18);
            assert_eq!(b, want_b, "p = {p}, n = {n}");
            assert!(
                bb % 2 == 0 && (6..=30).contains(&bb),
                "p = {p}, n = {n}: B = {bb}"
            );
            let target = 4096 * (p - 2) * n;
            let free_b = 256 * n >= 1 << 10 && 256 * n <= 1 << 18;
            let free_bb = target.div_ceil(b) > 6 && target.div_ceil(b) < 30;
            if free_b && free_bb {
                assert!(
                    bb * b >= target && bb * b < target + 2 * b,
                    "p = {p}, n = {n}: B·b = {} against {target}",
                    bb * b
                );
            }
        }
    }
    let (bb, b) = sp.resolve(256, 3);
    assert_eq!(b, 1 << 16);
    assert!(bb < 30, "B = {bb}");
    for (p, n, stated) in [(5usize, 8usize, 0.62), (9, 5, 0.43)] {
        let (bb, b) = sp.resolve(n, p);
        let ratio = (bb * b) as f64 / (4096 * (p - 2) * n) as f64;
        assert!(
            (ratio - stated).abs() <= 0.005 + 1e-12,
            "p = {p}, n = {n}: {ratio}"
        );
    }
    for e in 4..=24u32 {
        let b = 1usize << e;
        let want = (b / 4).max(b.min(1 << 10));
        assert_eq!(sp.resolve_search(b), want, "b = {b}");
    }
}

/// Claims, `src/tensor/mod.rs:9` ("[`ModeHashing::Auto`] … picks [the shared hash] at order 3
/// when the folded search size is at least `16n`, as with the automatic shapes") and
/// `src/tensor/sketched.rs:88` ("the power method's automatic shapes fold to `b/4 ≈ 64n` or
/// more"). Both hold up to `n = 1024` (checked here: `b_s ≥ 64n` and `Auto` → shared for every
/// `n ≤ 1024`), but `b` is capped at `2¹⁸`, so `b_s = 2¹⁶`: `64n` is `65 600` at `n = 1025`,
/// `b_s = 32n` at `n = 2048`, and from `n = 4097` (`16n = 65 552`) on the automatic shape's
/// folded size is below `16n` and `Auto` resolves to per-mode hashing at order 3. This test
/// pins that true behaviour (it passes once the docs say "up to `n = 1024`" / "up to
/// `n = 4096`"): `b_s < 64n` for every `n` in `1025..=5000`, shared at `n = 4096`, per-mode at
/// `n = 4097` and `n = 10⁵`.
#[test]
fn automatic_shapes_fold_to_64n_only_up_to_n_1024() {
    let sp = SketchParams::default();
    for n in 1..=5000usize {
        let (_, b) = sp.resolve(n, 3);
        let bs = sp.resolve_search(b);
        assert_eq!(bs >= 64 * n, n <= 1024, "n = {n}: b_s = {bs}");
    }
    assert_eq!(sp.resolve_hashing(1024, 3), ModeHashing::Shared);
    assert_eq!(sp.resolve_hashing(4096, 3), ModeHashing::Shared);
    assert_eq!(sp.resolve_hashing(4097, 3), ModeHashing::PerMode);
    assert_eq!(sp.resolve_hashing(100_000, 3), ModeHashing::PerMode);
}

/// Claim, `src/problems.rs:257-259` (`ls_problem`): "a 60 × 8 instance: `κ` within `10⁻⁴` of
/// `cond = 10¹²`" and "For `d = 1`, `A` is a single unit column and `cond` has no effect".
/// `tests/input_problems_review.rs` checks `κ` to `10⁻³` at one seed. Inputs: 60 × 8,
/// `cond = 10¹²`, `ρ = 10⁻³`, seeds 0..6 (κ from faer's SVD); `d = 1`: `n = 1, 7, 200`,
/// `cond = 1, 10, 10¹²`. Pass rule: `|κ/cond − 1| ≤ 10⁻⁴` at every seed; for `d = 1`,
/// `|‖A‖ − 1| ≤ 10⁻¹⁵` and `A` bitwise the same for every `cond`.
/// Measured: `|κ/cond − 1| ≤ 9.1·10⁻⁶`.
#[test]
fn ls_problem_kappa_at_1e12_and_the_single_column_case() {
    for s in 0..6u64 {
        let (a, _, _, _) = ls_problem(60, 8, 1e12, 1e-3, Seed::new(s)).unwrap();
        let sv = a.singular_values().unwrap();
        let (hi, lo) = sv
            .iter()
            .fold((0.0f64, f64::INFINITY), |(h, l), &x| (h.max(x), l.min(x)));
        let k = hi / lo;
        assert!((k / 1e12 - 1.0).abs() <= 1e-4, "seed {s}: κ = {k:e}");
    }
    for n in [1usize, 7, 200] {
        let rho = if n > 1 { 0.5 } else { 0.0 };
        let base = ls_problem(n, 1, 1.0, rho, Seed::new(3)).unwrap().0;
        let col: Vec<f64> = (0..n).map(|i| base[(i, 0)]).collect();
        assert!((dot(&col, &col).sqrt() - 1.0).abs() <= 1e-15, "n = {n}");
        for cond in [10.0, 1e12] {
            let a = ls_problem(n, 1, cond, rho, Seed::new(3)).unwrap().0;
            for i in 0..n {
                assert_eq!(
                    a[(i, 0)].to_bits(),
                    base[(i, 0)].to_bits(),
                    "n = {n}, cond {cond}"
                );
            }
        }
    }
}

fn kappa(a: &Mat<f64>) -> f64 {
    let sv = a.singular_values().unwrap();
    let (hi, lo) = sv
        .iter()
        .fold((0.0f64, f64::INFINITY), |(h, l), &x| (h.max(x), l.min(x)));
    hi / lo
}

/// Claim, `src/problems.rs:336-340` (`sparse_ls_illmix`): "all column norms are about equal,
/// and `κ(A)` is of the order of `1/delta_min` (about `2.3/delta_min` …) whatever the column
/// scaling". `tests/input_problems_review.rs` checks `κ·delta_min ∈ (0.5, 10)` at `d ≤ 5`.
/// Inputs: `n = 2000`, `d = 4, 5, 10, 20`, density 0.2 and 1, `delta_min = 10⁻³, 10⁻⁶`, seed 5;
/// the dense copy's SVD before and after scaling the columns to unit norm and by 5 random
/// factors `10^{±3}`. Pass rules: the largest over the smallest column norm at most 2 (a pair
/// with `δ = 1` has its second column `√2` longer); `κ·delta_min` within a factor 2 of 2.3;
/// after any column scaling `κ·delta_min ≥ 0.3` (still "of the order of `1/delta_min`").
/// Measured: `κ·delta_min` 2.14–2.41; column-norm ratio ≤ 1.61; after scaling `κ·delta_min ≥ 1.91`.
#[test]
fn illmix_condition_is_about_2_3_over_delta_min_whatever_the_scaling() {
    let scales = gaussian_matrix(5, 20, Seed::new(11)).unwrap();
    for d in [4usize, 5, 10, 20] {
        for density in [0.2, 1.0] {
            for delta_min in [1e-3, 1e-6] {
                let what = format!("d = {d}, density {density}, delta_min {delta_min:e}");
                let (a, _, _) =
                    sparse_ls_illmix(2000, d, density, delta_min, 0.0, Seed::new(5)).unwrap();
                let m = MatrixRef::sparse(&a).unwrap().to_dense().unwrap();
                let norms: Vec<f64> = (0..d)
                    .map(|j| (0..2000).map(|i| m[(i, j)] * m[(i, j)]).sum::<f64>().sqrt())
                    .collect();
                let (lo, hi) = norms
                    .iter()
                    .fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
                assert!(hi / lo <= 2.0, "{what}: column norms {norms:?}");
                let k = kappa(&m) * delta_min;
                assert!(
                    (2.3 / 2.0..=2.3 * 2.0).contains(&k),
                    "{what}: κ·delta_min = {k}"
                );
                let mut factors = vec![norms.iter().map(|x| 1.0 / x).collect::<Vec<f64>>()];
                for r in 0..5 {
                    factors.push(
                        (0..d)
                            .map(|j| 10f64.powf(scales[(r, j)].clamp(-3.0, 3.0)))
                            .collect(),
                    );
                }
                for f in factors {
                    let scaled = Mat::from_fn(2000, d, |i, j| m[(i, j)] * f[j]);
                    let k = kappa(&scaled) * delta_min;
                    assert!(k >= 0.3, "{what}: scaled κ·delta_min = {k}");
                }
            }
        }
    }
}

/// Claim, `src/problems.rs:222-224` (`cauchy_rows`): "row `i` is `c_i·g_i` with `c_i` standard
/// Cauchy and `g_i` iid standard normal. Row norms (and leverage scores) spread over many orders
/// of magnitude, with a few rows of leverage close to 1". Inputs: `20 000 × 3`, seed 4
/// (`g` = `gaussian_matrix` of the same seed, which the generator scales); `2000 × 5`, seeds
/// 0..3, for the leverage. Pass rules: every row a multiple of `g_i` (`a_ij/g_ij` equal across
/// the row to `10⁻¹³` relative); the fractions of `|c_i| < 1` (1/2 for a standard Cauchy) and of
/// `|c_i| > 10` (`(2/π)·atan(1/10) = 0.0635`) within 4.5 binomial standard errors; the row norms
/// spanning at least 4 decades; on each `2000 × 5` matrix a largest leverage score above 0.9.
/// Measured: largest leverage 0.985, 0.949, 0.993.
#[test]
fn cauchy_rows_are_cauchy_multiples_of_gaussian_rows() {
    let (n, d) = (20_000usize, 3usize);
    let a = cauchy_rows(n, d, Seed::new(4)).unwrap();
    let g = gaussian_matrix(n, d, Seed::new(4)).unwrap();
    let mut c = Vec::with_capacity(n);
    for i in 0..n {
        let ci = a[(i, 0)] / g[(i, 0)];
        for j in 1..d {
            let r = a[(i, j)] / g[(i, j)];
            assert!((r - ci).abs() <= 1e-13 * ci.abs(), "row {i}: {r} vs {ci}");
        }
        c.push(ci);
    }
    let frac = |f: &dyn Fn(f64) -> bool| c.iter().filter(|&&x| f(x)).count() as f64 / n as f64;
    for (got, p) in [
        (frac(&|x| x.abs() < 1.0), 0.5),
        (
            frac(&|x| x.abs() > 10.0),
            2.0 / std::f64::consts::PI * 0.1f64.atan(),
        ),
    ] {
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!((got - p).abs() <= 4.5 * se, "fraction {got}, expected {p}");
    }
    let norms: Vec<f64> = (0..n)
        .map(|i| (0..d).map(|j| a[(i, j)] * a[(i, j)]).sum::<f64>().sqrt())
        .collect();
    let (lo, hi) = norms
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
    assert!(hi / lo >= 1e4, "row norms from {lo:e} to {hi:e}");
    for s in 0..3u64 {
        let a = cauchy_rows(2000, 5, Seed::new(s)).unwrap();
        let q = orthonormal_basis(a.as_ref()).unwrap();
        let top = (0..2000)
            .map(|i| (0..5).map(|j| q[(i, j)] * q[(i, j)]).sum::<f64>())
            .fold(0.0f64, f64::max);
        assert!(top > 0.9, "seed {s}: largest leverage {top}");
    }
}

/// `cauchy_rows`' scales are independent of the Gaussian rows they multiply (its docs: "`c_i`
/// standard Cauchy and `g_i` iid standard normal"), i.e. they come from a stream of their own.
/// Drawn from the Gaussian's stream (the mutant tried: `block_rng(0x9001, 0)` in `cauchy_rows`),
/// `c_i` comes from the very draw that made `g_i0` (both take one 64-bit word and read its
/// high bits, the normal sampler keeping the sign), so the two share their sign — until the
/// sampler's first rejection (≈ 1% of its draws) takes a second word and the streams slip out of
/// step. Input: `20 000 × 3`, seed 5; `c_i = a_i0/g_i0`. Two pass rules: (1) Pearson's χ² of the
/// 4 × 4 table of the quartile of `c_i` (cut at −1, 0, 1) against that of `g_i0` (cut at 0,
/// ±0.6745), each cell expecting `n/16` under independence of two variables with these exact
/// quartiles, is ≤ 44.0, the 1 − 10⁻⁴ quantile of χ² with 15 degrees of freedom (this checks the
/// whole matrix; it passes under the mutant, whose rows are independent once out of step);
/// (2) fewer than 16 leading rows have `a_i0 = c_i·g_i0 > 0` (odds `2⁻¹⁶` under independence).
/// Measured: χ² = 9.4 and 3 leading rows; under the mutant χ² = 6.3 and 22 leading rows.
#[test]
fn cauchy_rows_scales_are_independent_of_the_gaussian_rows() {
    let (n, d) = (20_000usize, 3usize);
    let a = cauchy_rows(n, d, Seed::new(5)).unwrap();
    let g = gaussian_matrix(n, d, Seed::new(5)).unwrap();
    let quartile = |x: f64, cut: f64| (x > -cut) as usize + (x > 0.0) as usize + (x > cut) as usize;
    let mut table = [[0usize; 4]; 4];
    for i in 0..n {
        let c = a[(i, 0)] / g[(i, 0)];
        table[quartile(c, 1.0)][quartile(g[(i, 0)], 0.674_489_750_196_081_7)] += 1;
    }
    let expected = n as f64 / 16.0;
    let chi2: f64 = table
        .iter()
        .flatten()
        .map(|&k| (k as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi2 <= 44.0, "χ² = {chi2}, table {table:?}");
    let leading_positive = (0..n).take_while(|&i| a[(i, 0)] > 0.0).count();
    assert!(
        leading_positive < 16,
        "rows 0..{leading_positive}: c_i and g_i0 share a sign"
    );
}

/// Claim, `src/problems.rs:34-36` (`coherent_matrix`): the leverage scores of the first `d`
/// rows "are ≈ 1 (0.95 at `50 000 × 100`, `scale = 10⁻³`)". The scores are exactly
/// `e_iᵀ(AᵀA)⁻¹e_i`; `AᵀA` is formed here from the generated matrix (`50 000 × 100`, seed 2) and
/// factored by a Cholesky written out below. Pass rule: every one of the 100 scores within
/// 0.005 of 0.95 (the figure's last digit; the formula `1/(1 + 10⁻⁶·49 900)` is 0.9525).
/// Measured: 0.9522–0.9528.
#[test]
fn coherent_matrix_leverage_is_0_95_at_50000_by_100() {
    let (n, d) = (50_000usize, 100usize);
    let a = coherent_matrix(n, d, 1e-3, Seed::new(2)).unwrap();
    let cols: Vec<Vec<f64>> = (0..d)
        .map(|j| (0..n).map(|i| a[(i, j)]).collect())
        .collect();
    let mut l = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..=i {
            l[i][j] = dot(&cols[i], &cols[j]);
        }
    }
    // In-place Cholesky: L Lᵀ = AᵀA.
    for j in 0..d {
        let s: f64 = (0..j).map(|k| l[j][k] * l[j][k]).sum();
        l[j][j] = (l[j][j] - s).sqrt();
        for i in j + 1..d {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            l[i][j] = (l[i][j] - s) / l[j][j];
        }
    }
    for e in 0..d {
        // ‖L⁻¹e_e‖² = e_eᵀ(AᵀA)⁻¹e_e.
        let mut y = vec![0.0; d];
        for i in e..d {
            let rhs = if i == e { 1.0 } else { 0.0 };
            let s: f64 = (e..i).map(|k| l[i][k] * y[k]).sum();
            y[i] = (rhs - s) / l[i][i];
        }
        let lev = dot(&y, &y);
        assert!((lev - 0.95).abs() <= 0.005, "row {e}: leverage {lev}");
    }
}

/// Claims, `src/tensor/tns.rs:38-40` (`TnsStorage::Auto`: "Dense when `n^p ≤ 2²⁸` and the
/// stored permutations would be at least a quarter of `n^p` … else coordinate") and
/// `:459-460` (`read_tns` refuses "fewer than 4 fields (order < 3) or more than 13 … an index
/// above 2²⁶"). Inputs: order 3 with a header `n = 4` (`n^p = 64`): entries `{0,1,2}`,
/// `{1,2,3}` (6 permutations each), `{0,0,3}` (3) and `{2,2,2}` (1) store 16 = 64/4, without
/// `{2,2,2}` 15; one line of index `2²⁶` and of `2²⁶ + 1`; one line of 13 fields (order 12) and
/// of 14 and 3 fields. Pass rule: dense exactly at 16, coordinate at 15; `2²⁶` read with that
/// dimension, `2²⁶ + 1` a parse error naming line 1; 13 fields accepted, 14 and 3 parse errors
/// naming line 1.
#[test]
fn tns_auto_storage_quarter_rule_and_field_and_index_limits() {
    let body = "# order 3 dimension 4\n1 2 3 1.0\n2 3 4 2.0\n1 1 4 3.0\n";
    let quarter = format!("{body}3 3 3 4.0\n");
    let t = read_tns_as(quarter.as_bytes(), TnsStorage::Auto).unwrap();
    assert_eq!(t.nnz(), 64, "16 stored permutations of 64 entries: dense");
    assert!(t.is_dense());
    let t = read_tns_as(body.as_bytes(), TnsStorage::Auto).unwrap();
    assert_eq!((t.nnz(), t.is_dense()), (15, false));
    let t = read_tns("1 1 67108864 0.5\n".as_bytes()).unwrap();
    assert_eq!(t.dim(), 1 << 26);
    let is_line_1 =
        |r: randnla::Result<SymmetricTensor>| matches!(r, Err(Error::Parse { line: 1, .. }));
    assert!(is_line_1(read_tns("1 1 67108865 0.5\n".as_bytes())));
    let thirteen = format!("{}2.5\n", "1 ".repeat(12));
    let t = read_tns(thirteen.as_bytes()).unwrap();
    assert_eq!((t.order(), t.dim()), (12, 1));
    assert!(is_line_1(read_tns(
        format!("{}2.5\n", "1 ".repeat(13)).as_bytes()
    )));
    assert!(is_line_1(read_tns("1 1 2.5\n".as_bytes())));
}

/// Claims on the accuracy of the sketched method: `src/tensor/mod.rs:18-20`, "The error of a
/// recovered factor therefore behaves like `√(π n/(2B·b))·‖T_j‖_F/λ_j`, where `T_j` is what
/// remains of the tensor when component `j` is sought"; `src/tensor/power.rs:105-107`, the
/// automatic shape "puts the error of each recovered factor of a well-separated orthogonal
/// tensor near 0.03"; `power.rs:74-78` (`polish_iters`), "two full iterations from the folded
/// iterate … reach the full sketches' own noise level … `0` leaves the factors with the folded
/// sketches' error (`√(b/b_s)` times larger)", `b_s = b/4` by default. Inputs:
/// `synthetic_orthogonal(3, 40, 3, 0.01, 200 + s)`, `s = 0..6`, method seed `300 + s`, the
/// automatic shape (`B = 10`, `b = 2¹⁴`), 5 starts, 8 iterations, 10 refinement iterations;
/// `ModeHashing::Auto` (shared here) and `PerMode`; `polish_iters = 2, 0, usize::MAX`. `‖T_j‖²`
/// is `Σ_{l≥j} λ_l² + ‖E‖²` (orthogonal components, `‖E‖² = ‖T‖² − Σλ²` to `10⁻⁴`). Pass rules
/// ("behaves like", "near", "about"): the rms over the 18 components of measured/predicted
/// within `[0.5, 2]` (at `polish_iters = 2`); the rms factor error within a factor 2 of 0.03;
/// the rms error at `polish_iters = 0` over that at `usize::MAX` within `[1.4, 2.8]` (2 ± 40 %),
/// and at 2 over that at `usize::MAX` at most 1.2. Measured: ratios rms 0.73 (shared), 1.29
/// (per-mode); errors 0.018, 0.031; polish 0 / full 2.57, 2.02; polish 2 / full 1.00, 1.00.
#[test]
fn factor_errors_follow_the_documented_scaling_and_polish_rule() {
    use randnla::tensor::power_method_sketched;
    let n = 40usize;
    for hashing in [ModeHashing::Auto, ModeHashing::PerMode] {
        let run = |polish: usize| {
            let (mut ratios, mut errs) = (Vec::new(), Vec::new());
            for s in 0..6u64 {
                let (t, w, a) =
                    SymmetricTensor::synthetic_orthogonal(3, n, 3, 0.01, Seed::new(200 + s))
                        .unwrap();
                let sp = SketchParams {
                    power: PowerParams {
                        starts: 5,
                        iters: 8,
                        refine_iters: 10,
                    },
                    polish_iters: polish,
                    hashing,
                    ..Default::default()
                };
                let cp = power_method_sketched(&t, 3, &sp, Seed::new(300 + s), Par::Seq).unwrap();
                let (bb, b) = cp.sketch_shape.unwrap();
                let e2 = t.norm().powi(2) - w.iter().map(|x| x * x).sum::<f64>();
                for m in match_factors(3, &w, &a, &cp.weights, &cp.factors).unwrap() {
                    let j = m.truth;
                    let rest = w[j..].iter().map(|x| x * x).sum::<f64>() + e2;
                    let scale = std::f64::consts::PI * n as f64 / (2.0 * (bb * b) as f64);
                    ratios.push(m.factor_error / (scale.sqrt() * rest.sqrt() / w[j]));
                    errs.push(m.factor_error);
                }
            }
            (rms(&ratios), rms(&errs))
        };
        let (ratio, polished) = run(2);
        let (_, folded) = run(0);
        let (_, full) = run(usize::MAX);
        let what = format!("{hashing:?}");
        assert!(
            (0.5..=2.0).contains(&ratio),
            "{what}: measured/predicted rms {ratio}"
        );
        assert!(
            (0.015..=0.06).contains(&polished),
            "{what}: rms factor error {polished}"
        );
        assert!(
            (1.4..=2.8).contains(&(folded / full)),
            "{what}: polish 0 error {folded} against full size {full}"
        );
        assert!(
            polished / full <= 1.2,
            "{what}: polish 2 {polished}, full {full}"
        );
    }
}

/// Claims, `src/tensor/sketched.rs:119-126` ("Deflation subtracts the sketch of `λu^{⊗p}` as
/// built …; deflation `s_T ← s_T − λ·(sketch of u^{⊗p})` happens on [the spectra]") and
/// `src/tensor/pairing.rs:24-26` ("the sketch is always that of the deflated tensor and `D`
/// follows it"): after `deflate(λ, u)` the sketches are those of `T − λu^{⊗p}`, so their
/// estimates (with the order-3 shared correction) equal those of sketches built, with the same
/// seed, from the deflated tensor itself. Inputs: `synthetic_orthogonal(p, 6, 2, 0.1)`, orders
/// 3 and 4, per-mode and shared hashes, `B = 6`, `b = 64`; deflated by its first component and
/// then by `0.3·v^{⊗p}` with `v` a unit vector that is no factor; `T'` formed entry by entry
/// (and symmetrized). Pass rule: every bucket of `tensor_sketch(m)` and every per-sketch
/// estimate of `T(I,x,…,x)` (a third unit vector `x`) within `10⁻¹²` of the rebuilt ones
/// (the entries are `O(1)`; rounding is `≈ 10⁻¹⁵`; a missing or doubled deflation term is
/// `O(0.3)`).
#[test]
fn deflated_sketches_are_the_sketches_of_the_deflated_tensor() {
    for order in [3usize, 4] {
        let n = 6usize;
        let (t, w, a) =
            SymmetricTensor::synthetic_orthogonal(order, n, 2, 0.1, Seed::new(61)).unwrap();
        let g = gaussian_matrix(n, 2, Seed::new(62)).unwrap();
        let v = unit((0..n).map(|i| g[(i, 0)]).collect());
        let x = unit((0..n).map(|i| g[(i, 1)]).collect());
        let steps = [(w[0], a[0].clone()), (0.3, v)];
        let mut data = entries(&t);
        for (lam, u) in &steps {
            let power =
                entries(&SymmetricTensor::from_components(order, n, &[*lam], &[u]).unwrap());
            data.iter_mut().zip(&power).for_each(|(d, p)| *d -= p);
        }
        let deflated = SymmetricTensor::dense_symmetrized(order, n, data).unwrap();
        for hashing in [ModeHashing::PerMode, ModeHashing::Shared] {
            let what = format!("order {order}, {hashing:?}");
            let build = |t: &SymmetricTensor| {
                TensorSketches::with_hashing(t, 6, 64, hashing, Seed::new(63), Par::Seq).unwrap()
            };
            let mut s = build(&t);
            for (lam, u) in &steps {
                s.deflate(*lam, u, Par::Seq).unwrap();
            }
            let r = build(&deflated);
            for m in 0..6 {
                let (got, want) = (s.tensor_sketch(m).unwrap(), r.tensor_sketch(m).unwrap());
                for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-12,
                        "{what}: sketch {m} bucket {k}: {g} vs {w}"
                    );
                }
            }
            let (got, want) = (
                s.estimates_but_one(&x, Par::Seq).unwrap(),
                r.estimates_but_one(&x, Par::Seq).unwrap(),
            );
            for (m, (g, w)) in got.iter().zip(&want).enumerate() {
                for i in 0..n {
                    assert!(
                        (g[i] - w[i]).abs() <= 1e-12,
                        "{what}: sketch {m}, coordinate {i}: {} vs {}",
                        g[i],
                        w[i]
                    );
                }
            }
        }
    }
}

/// Claim, `src/tensor/power.rs:60-63` (`SketchParams::search_sketches`): "`0` means all `B`,
/// and so does any value above `B`". Inputs: `synthetic_orthogonal(3, 10, 2, 0.01, 8)`,
/// `B = 4`, `b = 1024`, both hashings, `search_sketches = 0, 4, 5, 1000`, and 3 as a control.
/// Pass rule: the decompositions (weights, factors, start values) bitwise equal for 0, 4, 5 and
/// 1000; the control's start values differ (the option does something).
#[test]
fn search_sketches_zero_or_above_b_means_all() {
    use randnla::tensor::power_method_sketched;
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 10, 2, 0.01, Seed::new(8)).unwrap();
    for hashing in [ModeHashing::PerMode, ModeHashing::Shared] {
        let run = |search_sketches| {
            let sp = SketchParams {
                power: PowerParams {
                    starts: 3,
                    iters: 4,
                    refine_iters: 4,
                },
                sketches: 4,
                sketch_dim: 1024,
                search_sketches,
                hashing,
                ..Default::default()
            };
            let cp = power_method_sketched(&t, 2, &sp, Seed::new(9), Par::Seq).unwrap();
            let mut bits: Vec<u64> = cp.weights.iter().map(|x| x.to_bits()).collect();
            for f in &cp.factors {
                bits.extend(f.iter().map(|x| x.to_bits()));
            }
            for c in &cp.components {
                bits.extend(c.start_values.iter().map(|x| x.to_bits()));
            }
            bits
        };
        let all = run(0);
        for k in [4usize, 5, 1000] {
            assert_eq!(run(k), all, "{hashing:?}: search_sketches = {k}");
        }
        assert_ne!(
            run(3),
            all,
            "{hashing:?}: search_sketches = 3 changes nothing"
        );
    }
}

/// Claims, `src/tensor/power.rs:33-34` (`PowerParams::iters`: "iterations converge
/// quadratically near an orthogonal component") and `:193-194` (`ComponentInfo::final_change`:
/// "`min(‖u − u_prev‖, ‖u + u_prev‖)` at the last refinement iteration"). The exact method is
/// deterministic, so runs with `refine_iters = 1, 2, …, 8` (same starts, same search) return the
/// successive refinement iterates `u_k` of the first component. Inputs:
/// `synthetic_orthogonal(p, 10, 3, 0, 5)` (noise-free, weights 1, 0.8, 0.64), orders 3 and 4,
/// rank 1, 10 starts, `iters = 1` (so the refinement starts away from the component), seed 6.
/// Pass rules: `final_change` of run `k` equals `min(‖u_k − u_{k−1}‖, ‖u_k + u_{k−1}‖)` of the
/// returned factors to `10⁻¹⁵`; and wherever `c_k = final_change` of run `k` is in
/// `(10⁻⁷, 0.2)`, `c_{k+1} ≤ 2·c_k²` (near `a₁` the error `ε` maps to `(λ_j/λ₁)·ε^{p−1}`,
/// at most `0.8·ε²`; linear convergence would fail it); at least two such steps are checked.
#[test]
fn refinement_converges_quadratically_and_final_change_is_the_last_step() {
    for order in [3usize, 4] {
        let (t, _, _) =
            SymmetricTensor::synthetic_orthogonal(order, 10, 3, 0.0, Seed::new(5)).unwrap();
        let run = |refine_iters| {
            let p = PowerParams {
                starts: 10,
                iters: 1,
                refine_iters,
            };
            let cp = power_method_exact(&t, 1, &p, Seed::new(6), Par::Seq).unwrap();
            (cp.factors[0].clone(), cp.components[0].final_change)
        };
        let runs: Vec<(Vec<f64>, f64)> = (0..=8).map(run).collect();
        let mut checked = 0;
        for k in 1..=8 {
            let (u, c) = (&runs[k].0, runs[k].1);
            let prev = &runs[k - 1].0;
            let dm: f64 = u.iter().zip(prev).map(|(x, y)| (x - y) * (x - y)).sum();
            let dp: f64 = u.iter().zip(prev).map(|(x, y)| (x + y) * (x + y)).sum();
            let want = dm.min(dp).sqrt();
            assert!(
                (c - want).abs() <= 1e-15,
                "order {order}, k = {k}: {c} vs {want}"
            );
            if k < 8 && c > 1e-7 && c < 0.2 {
                let next = runs[k + 1].1;
                assert!(
                    next <= 2.0 * c * c,
                    "order {order}: change {c:e} then {next:e}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 2, "order {order}: {checked} steps in range");
    }
}

/// Claim, `src/tensor/mod.rs:59-60` (and `power.rs:12-14`): "the exact and sketched methods use
/// the same starts for the same seed". With `iters = refine_iters = 0` and one start, each
/// component's factor is its random start (up to the sign flip of odd orders). Inputs:
/// `synthetic_orthogonal(p, 7, 2, 0.01, 3)`, orders 3 and 4, rank 2, method seed 4, the
/// sketched method with both hashings (`B = 4`, `b = 1024`). Pass rule: every factor of the
/// sketched method bitwise equal to the exact method's, up to one sign per factor at order 3;
/// another method seed gives other factors.
#[test]
fn exact_and_sketched_methods_start_from_the_same_vectors() {
    use randnla::tensor::power_method_sketched;
    for order in [3usize, 4] {
        let (t, _, _) =
            SymmetricTensor::synthetic_orthogonal(order, 7, 2, 0.01, Seed::new(3)).unwrap();
        let power = PowerParams {
            starts: 1,
            iters: 0,
            refine_iters: 0,
        };
        let ex = power_method_exact(&t, 2, &power, Seed::new(4), Par::Seq).unwrap();
        let other = power_method_exact(&t, 2, &power, Seed::new(5), Par::Seq).unwrap();
        assert_ne!(ex.factors, other.factors);
        for hashing in [ModeHashing::PerMode, ModeHashing::Shared] {
            let sp = SketchParams {
                power: power.clone(),
                sketches: 4,
                sketch_dim: 1024,
                hashing,
                ..Default::default()
            };
            let sk = power_method_sketched(&t, 2, &sp, Seed::new(4), Par::Seq).unwrap();
            for (j, (f, g)) in ex.factors.iter().zip(&sk.factors).enumerate() {
                let sign = if order % 2 == 1 && f[0] != g[0] {
                    -1.0
                } else {
                    1.0
                };
                for (x, y) in f.iter().zip(g) {
                    assert_eq!(
                        x.to_bits(),
                        (sign * y).to_bits(),
                        "order {order}, {hashing:?}, factor {j}"
                    );
                }
            }
        }
    }
}

/// Claim, `src/tensor/tns.rs:551-553` (`write_tns`): "values in shortest round-trip scientific
/// notation". Inputs: a coordinate tensor (order 3, `n = 4`) whose unique entries are `0.1`,
/// `1/3`, `−2/7`, `1e-300`, the smallest subnormal, `f64::MAX`, `123 456.789` and `−0.0`, and a
/// dense `from_components` tensor with inexact entries. Pass rule: every value token is in
/// scientific notation (one digit before the point, then `e` and the exponent), parses back to
/// the stored bits, and is shortest: the same value printed with one significant digit fewer
/// (correctly rounded) reads back as a different `f64`.
#[test]
fn write_tns_values_are_shortest_round_trip_scientific() {
    use randnla::tensor::{write_tns, TnsEntries};
    let vals = [
        0.1,
        1.0 / 3.0,
        -2.0 / 7.0,
        1e-300,
        f64::from_bits(1),
        f64::MAX,
        123_456.789,
        -0.0,
    ];
    let idx = [
        0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 1, 0, 1, 2, 0, 2, 3, 1, 1, 1, 3, 3, 3,
    ];
    let coo = SymmetricTensor::coordinate(3, 4, &idx, &vals).unwrap();
    let dense = SymmetricTensor::from_components(3, 3, &[1.0 / 3.0], &[[0.6, 0.8, 0.1]]).unwrap();
    for t in [coo, dense] {
        let mut buf = Vec::new();
        write_tns(&mut buf, &t, TnsEntries::Unique).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut seen = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let tok = f[3];
            let ix: Vec<usize> = f[..3]
                .iter()
                .map(|x| x.parse::<usize>().unwrap() - 1)
                .collect();
            let v: f64 = tok.parse().unwrap();
            assert_eq!(v.to_bits(), t.get(&ix).unwrap().to_bits(), "{line}");
            let (mant, _) = tok
                .split_once('e')
                .unwrap_or_else(|| panic!("{tok}: no exponent"));
            let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
            let first = mant.trim_start_matches('-');
            assert!(
                first.len() == 1 || first.as_bytes()[1] == b'.',
                "{tok}: not one digit before the point"
            );
            if digits.len() > 1 {
                let shorter: f64 = format!("{:.*e}", digits.len() - 2, v).parse().unwrap();
                assert_ne!(shorter.to_bits(), v.to_bits(), "{tok} is not shortest");
            }
            seen += 1;
        }
        assert!(seen >= 8, "{text}");
    }
}

/// The 3 permutations of the multi-index `{0, 0, 1}` (order 3, `n = 2`), listed with `values`
/// in the order `(1,0,0)`, `(0,1,0)`, `(0,0,1)`: from `coordinate` and from the same `.tns`
/// text (1-based).
fn listed_permutations(values: [f64; 3]) -> [randnla::Result<SymmetricTensor>; 2] {
    let idx = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    let text: String = idx
        .chunks(3)
        .zip(values)
        .map(|(i, v)| format!("{} {} {} {v:e}\n", i[0] + 1, i[1] + 1, i[2] + 1))
        .collect();
    [
        SymmetricTensor::coordinate(3, 2, &idx, &values),
        read_tns(text.as_bytes()),
    ]
}

/// Claim, `src/tensor/symmetric.rs:622-626` (`SymmetricTensor::coordinate`, and `read_tns`,
/// `src/tensor/tns.rs:449-451`): a multi-index listed in all its permutations must carry
/// "equal values"; "'Equal' allows a relative difference of `1e-10` …; the value listed first is
/// the one stored for all permutations". Inputs: the permutations of `{0,0,1}` listed as
/// `(1,0,0)`, `(0,1,0)`, `(0,0,1)` with values `1 + 5·10⁻¹¹, 1, 1 + 10⁻¹⁰` (each within
/// `10⁻¹⁰` of the first), then `1, 1, 1 + 2·10⁻¹⁰` and `1 + 2·10⁻¹⁰, 1, 1`. Pass rule: the first
/// is accepted by both constructors and every permutation reads the first listed value bit for
/// bit (not the sorted multi-index's `(0,0,1)`, listed last); the other two are refused
/// (`InvalidStructure`, and a parse error naming a line from the reader).
#[test]
fn listed_permutations_within_1e_10_store_the_first_listed_value() {
    let first = 1.0 + 5e-11;
    for t in listed_permutations([first, 1.0, 1.0 + 1e-10]) {
        let t = t.unwrap();
        for ix in [[1, 0, 0], [0, 1, 0], [0, 0, 1]] {
            assert_eq!(t.get(&ix).unwrap().to_bits(), first.to_bits(), "{ix:?}");
        }
    }
    for values in [[1.0, 1.0, 1.0 + 2e-10], [1.0 + 2e-10, 1.0, 1.0]] {
        let [c, r] = listed_permutations(values);
        assert!(
            matches!(c, Err(Error::InvalidStructure { .. })),
            "{values:?}: {c:?}"
        );
        assert!(
            matches!(r, Err(Error::Parse { line, .. }) if line >= 1),
            "{values:?}: {r:?}"
        );
    }
}

/// Claim, `src/tensor/symmetric.rs:630-631` (`SymmetricTensor::coordinate`, Errors: "a
/// multi-index listed … with values across permutations differing by more than `1e-10`
/// relative") and `src/tensor/tns.rs:461-463` (`read_tns`: "with values across them that differ
/// by more than `1e-10` relative"). Each listed value is compared with the first listed only
/// (`CoordinateGroups::validate`), so two later permutations may differ from each other by up
/// to `2·10⁻¹⁰`: `(1,0,0) = 1 + 9·10⁻¹¹`, `(0,1,0) = 1`, `(0,0,1) = 1 + 1.8·10⁻¹⁰` (the last two
/// `1.8·10⁻¹⁰` apart) is accepted by both and stored as `1 + 9·10⁻¹¹`. The rule as implemented
/// (within `1e-10` of the first listed value, which is stored, as `dense` checks against the
/// stored value) is the sensible one; the doc's "across permutations" reads as pairwise. Pins
/// the implemented rule, for the doc to state ("differing from the first listed by more than
/// `1e-10` relative").
#[test]
fn listed_permutations_are_compared_with_the_first_only() {
    let first = 1.0 + 9e-11;
    for t in listed_permutations([first, 1.0, 1.0 + 1.8e-10]) {
        let t = t.unwrap();
        assert_eq!(t.get(&[0, 0, 1]).unwrap().to_bits(), first.to_bits());
    }
}

/// Claim, `src/tensor/power.rs:118-120` (`SketchParams::resolve`): "from order 7 on the
/// per-sketch estimates are skewed enough that their median sits below the weight (by about
/// 1 % at `p = 7` and 4–5 % at `p = 9`, `b = 2048`, where their mean is within 1 %)". Inputs:
/// `synthetic_orthogonal(7, 5, 2, 0.01, 7)` (rank 2, as the doc's figures), the per-sketch
/// estimates of `T(a₀,…,a₀)` (exact value 1.00018) from 4000 per-mode sketches of size 2048
/// (40 seeds × 100). Pass rule: the median of the 4000 estimates below the exact value by
/// 0.5–2 % of it (its standard error is `≈ 1.25σ/√4000 ≈ 0.3 %`, `σ ≈ 0.16`), and their mean
/// within 1 % of it. Measured: median 1.16 % low, mean 0.36 % high. Order 9 is too slow for
/// this file (`n^p ≈ 2·10⁶` entries per sketch); one run outside it, 2400 sketches of
/// `synthetic_orthogonal(9, 5, 2, 0.01, 7)`: median 3.7 % low (standard error ≈ 0.7 %), mean
/// 0.24 % high, consistent with "4–5 %".
#[test]
fn per_sketch_median_sits_about_1_percent_low_at_order_7() {
    let (t, _, a) = SymmetricTensor::synthetic_orthogonal(7, 5, 2, 0.01, Seed::new(7)).unwrap();
    let exact = t.contract_all(&a[0], Par::Seq).unwrap();
    let mut v = Vec::new();
    for s in 0..40u64 {
        let sk = TensorSketches::with_hashing(
            &t,
            100,
            2048,
            ModeHashing::PerMode,
            Seed::new(800 + s),
            Par::Seq,
        )
        .unwrap();
        v.extend(sk.estimates_all(&a[0], Par::Seq).unwrap());
    }
    let (mean, _) = mean_var(&v);
    v.sort_by(f64::total_cmp);
    let median = 0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2]);
    let low = (exact - median) / exact;
    assert!(
        (0.005..=0.02).contains(&low),
        "median {median}, {low} below {exact}"
    );
    assert!(
        (mean - exact).abs() <= 0.01 * exact,
        "mean {mean} vs {exact}"
    );
}

/// Claim, `src/problems.rs:76-79` (`random_sparse`): "exactly `nnz_per_row` standard-normal
/// entries per row at distinct columns: one in column `i mod d` … and the others uniformly
/// among the remaining `d − 1` columns". The structure is checked by
/// `tests/input_problems_review.rs`; here the distribution, on both sampling paths (rejection,
/// and Floyd's algorithm for rows over 64 entries filling more than 3/4 of the columns).
/// Inputs: `30 000 × 10` with 3 entries a row (seed 1) and `3000 × 100` with 80 (seed 2).
/// Pass rules (9 900 and 90 cells, so no per-cell rule: a `4.5σ` rule on a cell of 30 rows at
/// `p = 0.8` has a false-alarm rate of `6·10⁻⁵`, skewed, and fired once here): with `O_cj` the
/// number of rows with `i mod d = c` holding column `j ≠ c`, `m_c` those rows and
/// `p = (k − 1)/(d − 1)`, (1) the statistic `S = Σ (O_cj − m_c p)²/(m_c p(1 − p))` within 4.5
/// of its mean `d(d − 1)` in units of `√(2d(d − 1))` (a uniform `(k − 1)`-subset gives each
/// cell variance `m_c p(1 − p)`; the fixed row sum makes `S ≈ (N/(N−1))·χ²_{d(N−1)}`,
/// `N = d − 1`); (2) every column's total `Σ_{c≠j} O_cj` within 4.5 standard errors of
/// `Σ_{c≠j} m_c p`; (3) column `c` in every row with `i mod d = c`; (4) the values' mean within
/// 4.5 standard errors of 0 and their variance within 4.5 standard errors of 1 (`√(2/N)`).
/// Measured: `z = 1.50` (rejection path), `−0.27` (Floyd).
#[test]
fn random_sparse_draws_its_other_columns_uniformly_and_its_values_standard_normal() {
    use randnla::problems::random_sparse;
    for (n, d, k, seed) in [(30_000usize, 10usize, 3usize, 1u64), (3000, 100, 80, 2)] {
        let a = random_sparse(n, d, k, Seed::new(seed)).unwrap();
        let mut counts = vec![vec![0usize; d]; d];
        let mut rows = vec![0usize; d];
        let mut vals = Vec::new();
        for (i, row) in a.outer_iterator().enumerate() {
            let c = i % d;
            rows[c] += 1;
            for &j in row.indices() {
                counts[c][j] += 1;
            }
            vals.extend_from_slice(row.data());
        }
        let p = (k - 1) as f64 / (d - 1) as f64;
        let (mut stat, mut totals, mut expected, mut variance) =
            (0.0, vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        for c in 0..d {
            assert_eq!(counts[c][c], rows[c], "n = {n}, d = {d}: column {c}");
            let m = rows[c] as f64;
            for j in (0..d).filter(|&j| j != c) {
                let got = counts[c][j] as f64;
                stat += (got - m * p).powi(2) / (m * p * (1.0 - p));
                totals[j] += got;
                expected[j] += m * p;
                variance[j] += m * p * (1.0 - p);
            }
        }
        let cells = (d * (d - 1)) as f64;
        let z = (stat - cells) / (2.0 * cells).sqrt();
        assert!(
            z.abs() <= 4.5,
            "n = {n}, d = {d}, k = {k}: S = {stat} over {cells} cells"
        );
        for j in 0..d {
            assert!(
                (totals[j] - expected[j]).abs() <= 4.5 * variance[j].sqrt(),
                "n = {n}, d = {d}, k = {k}: column {j} in {} rows, expected {}",
                totals[j],
                expected[j]
            );
        }
        let (mean, var) = mean_var(&vals);
        let nv = vals.len() as f64;
        assert!(mean.abs() <= 4.5 / nv.sqrt(), "mean {mean}");
        assert!(
            (var - 1.0).abs() <= 4.5 * (2.0 / nv).sqrt(),
            "variance {var}"
        );
    }
}

/// Claim, `src/problems.rs:339-340` (`sparse_ls_illmix`): "`b = A·x_star + noise·N(0, I)`"
/// (`x_star` standard normal). Inputs: `20 000 × 6`, density 0.5, `delta_min = 10⁻³`, noise
/// 0.5 and 0, seed 9. Pass rules: `b − A·x_star` has mean within 4.5 standard errors of 0 and
/// standard deviation within 4.5 standard errors (`σ/√(2N)`) of 0.5; at noise 0 it is zero to
/// rounding (`10⁻¹³·(1 + |A·x_star|)`); `x_star`'s 6 entries are not all equal (a draw).
/// Measured: standard deviation 0.4974.
#[test]
fn illmix_noise_has_the_stated_level() {
    for noise in [0.5, 0.0] {
        let (a, b, x) = sparse_ls_illmix(20_000, 6, 0.5, 1e-3, noise, Seed::new(9)).unwrap();
        assert!(x.iter().any(|v| *v != x[0]));
        let r: Vec<f64> = a
            .outer_iterator()
            .zip(&b)
            .map(|(row, bi)| bi - row.iter().map(|(j, v)| v * x[j]).sum::<f64>())
            .collect();
        if noise == 0.0 {
            for (row, ri) in a.outer_iterator().zip(&r) {
                let ax: f64 = row.iter().map(|(j, v)| (v * x[j]).abs()).sum();
                assert!(ri.abs() <= 1e-13 * (1.0 + ax), "{ri}");
            }
            continue;
        }
        let (mean, var) = mean_var(&r);
        let nr = r.len() as f64;
        assert!(mean.abs() <= 4.5 * noise / nr.sqrt(), "mean {mean}");
        let sd = var.sqrt();
        assert!(
            (sd - noise).abs() <= 4.5 * noise / (2.0 * nr).sqrt(),
            "sd {sd}"
        );
    }
}

/// Claim, `src/tensor/sketched.rs:61-66` (`ModeHashing::Shared`, order 3): the variance of the
/// corrected shared-hash estimates "differs from the per-mode one by tensor (… `n = 12–16`,
/// `b = 16–256`, ratios of variances shared/per-mode for the value `T(u,u,u)` and summed over
/// the coordinates of `T(I,u,u)`): 3.3–3.7 and 1.6 on a diagonal tensor, … 0.8–0.9 and 0.4 on
/// a random dense tensor". Inputs: `n = 16`, `b = 64`; the diagonal tensor `T_aaa = 1` and the
/// symmetric part of an iid Gaussian array; `u` a random unit vector; 400 sketches per hashing
/// (4 seeds × 100). Pass rule: each ratio within a factor 1.5 of the stated range (below
/// `lo/1.5` or above `1.5·hi` fails; the ratio of two variances from 400 samples each has a
/// relative standard error of about 10 % for Gaussian errors, more for heavy tails).
/// Measured: diagonal 4.20 and 1.84, random dense 0.81 and 0.40.
#[test]
fn shared_over_per_mode_variance_ratios_at_order_3() {
    let n = 16usize;
    let g = gaussian_matrix(n, 1, Seed::new(71)).unwrap();
    let u = unit((0..n).map(|i| g[(i, 0)]).collect());
    let idx: Vec<usize> = (0..n).flat_map(|i| [i, i, i]).collect();
    let diag = SymmetricTensor::coordinate(3, n, &idx, &vec![1.0; n])
        .unwrap()
        .to_dense()
        .unwrap();
    let (dense, _) = diffuse_tensor(3, n, 72);
    for (name, t, value, vector) in [
        ("diagonal", diag, (3.3, 3.7), (1.6, 1.6)),
        ("random dense", dense, (0.8, 0.9), (0.4, 0.4)),
    ] {
        let var = |hashing| {
            let (mut vals, mut vecs) = (Vec::new(), Vec::new());
            for s in 0..4u64 {
                let sk = TensorSketches::with_hashing(
                    &t,
                    100,
                    64,
                    hashing,
                    Seed::new(0x7100 + s),
                    Par::Seq,
                )
                .unwrap();
                vals.extend(sk.estimates_all(&u, Par::Seq).unwrap());
                vecs.extend(sk.estimates_but_one(&u, Par::Seq).unwrap());
            }
            let summed: f64 = (0..n)
                .map(|i| mean_var(&vecs.iter().map(|z| z[i]).collect::<Vec<f64>>()).1)
                .sum();
            (mean_var(&vals).1, summed)
        };
        let (sv, sz) = var(ModeHashing::Shared);
        let (pv, pz) = var(ModeHashing::PerMode);
        for (what, r, (lo, hi)) in [("value", sv / pv, value), ("vector", sz / pz, vector)] {
            assert!(
                r >= lo / 1.5 && r <= 1.5 * hi,
                "{name}, {what}: shared/per-mode variance {r}, stated {lo}–{hi}"
            );
        }
    }
}

/// The per-mode count-sketch estimate of `T(I,u,…,u)` from sketch `m` of `sk` folded to `bs`,
/// straight from the definition: `s'[t] = Σ_{I : Σ_k h_k(i_k) ≡ t (mod bs)} σ(I)·T_I` and
/// `z_i = σ₁(i)·Σ_{j₂…j_p} s'[(h₁(i) + Σ_k h_k(j_k)) mod bs]·∏_k σ_k(j_k)u_{j_k}`.
fn folded_estimate(
    t: &SymmetricTensor,
    sk: &TensorSketches,
    m: usize,
    bs: usize,
    u: &[f64],
) -> Vec<f64> {
    let (n, p) = (t.dim(), t.order());
    let hs: Vec<Vec<(usize, f64)>> = (0..p)
        .map(|k| (0..n).map(|i| sk.bucket(m, k, i).unwrap()).collect())
        .collect();
    let tuples = |modes: usize| -> Vec<Vec<usize>> {
        (0..n.pow(modes as u32))
            .map(|mut r| {
                let mut ix = vec![0; modes];
                for slot in ix.iter_mut().rev() {
                    *slot = r % n;
                    r /= n;
                }
                ix
            })
            .collect()
    };
    let mut sprime = vec![0.0; bs];
    for ix in tuples(p) {
        let (mut h, mut sg) = (0, 1.0);
        for (k, &i) in ix.iter().enumerate() {
            h += hs[k][i].0;
            sg *= hs[k][i].1;
        }
        sprime[h % bs] += sg * t.get(&ix).unwrap();
    }
    let rest = tuples(p - 1);
    (0..n)
        .map(|i| {
            let mut z = 0.0;
            for jx in &rest {
                let (mut h, mut c) = (hs[0][i].0, hs[0][i].1);
                for (k, &j) in jx.iter().enumerate() {
                    h += hs[k + 1][j].0;
                    c *= hs[k + 1][j].1 * u[j];
                }
                z += sprime[h % bs] * c;
            }
            z
        })
        .collect()
}

/// Claims, `src/tensor/power.rs:189-191` (`ComponentInfo::start_values`: "For the sketched
/// method these are the search phase's estimates (the first `search_sketches` sketches folded
/// to `b_s`…)") and `:68-70` (`search_sketch_dim`: "The folded sketch is the count sketch with
/// hashes `h mod b_s`"), with the value `⟨u, z⟩`, `z` the coordinate-wise median
/// (`power.rs:199-201`). With one start, no iterations and no refinement the factor is the
/// start `u₀` and `start_values[0]` is the search estimate at `u₀`. Inputs:
/// `synthetic_orthogonal(p, 5, 1, 0.05, 12)`, orders 3 and 4, per-mode hashes, `B = 8`,
/// `b = 1024`, `search_sketches = 3`, `b_s = 256`, seed 13; the reference is
/// [`folded_estimate`] of the method's own sketches (same shape, hashing and seed). Pass rule:
/// `start_values[0]` within `10⁻¹²` (relative) of `⟨u₀, median of the 3 folded estimates⟩` (at
/// order 3 up to the sign of `u₀`, flipped with a negative weight); and not within `10⁻⁶` of
/// the full-size median over all 8 sketches (the weight), which it would be without folding.
#[test]
fn start_values_are_the_folded_search_estimates() {
    use randnla::tensor::power_method_sketched;
    for order in [3usize, 4] {
        let n = 5;
        let (t, _, _) =
            SymmetricTensor::synthetic_orthogonal(order, n, 1, 0.05, Seed::new(12)).unwrap();
        let seed = Seed::new(13);
        let sp = SketchParams {
            power: PowerParams {
                starts: 1,
                iters: 0,
                refine_iters: 0,
            },
            sketches: 8,
            sketch_dim: 1024,
            search_sketches: 3,
            search_sketch_dim: 256,
            hashing: ModeHashing::PerMode,
            ..Default::default()
        };
        let cp = power_method_sketched(&t, 1, &sp, seed, Par::Seq).unwrap();
        let u0 = &cp.factors[0];
        let sk = TensorSketches::with_hashing(&t, 8, 1024, ModeHashing::PerMode, seed, Par::Seq)
            .unwrap();
        let est: Vec<Vec<f64>> = (0..3)
            .map(|m| folded_estimate(&t, &sk, m, 256, u0))
            .collect();
        let z: Vec<f64> = (0..n)
            .map(|i| {
                let mut c = [est[0][i], est[1][i], est[2][i]];
                c.sort_by(f64::total_cmp);
                c[1]
            })
            .collect();
        let want = dot(u0, &z);
        let got = cp.components[0].start_values[0];
        let got = if order % 2 == 1 {
            got.abs() * want.signum()
        } else {
            got
        };
        assert!(
            (got - want).abs() <= 1e-12 * want.abs(),
            "order {order}: start value {got}, folded estimate {want}"
        );
        let w = cp.weights[0];
        assert!(
            (got.abs() - w.abs()).abs() > 1e-6 * w.abs(),
            "{got} vs weight {w}"
        );
    }
}

/// Claim, `src/tensor/tns.rs:454-455` (`read_tns` refuses "a line longer than 1 MiB"; the limit
/// excludes the line ending, `:68`, `:73`). `tests/tns_review.rs` checks a 3 MiB line; here the
/// boundary. Inputs: a comment line and an entry line (padded with spaces) of exactly `2²⁰`
/// bytes and of `2²⁰ + 1`, each ended by LF, by CRLF and by the end of the file, followed (or
/// preceded, for the last) by another entry. Pass rule: `2²⁰` bytes are read (`Ok`),
/// `2²⁰ + 1` are a parse error naming the long line.
#[test]
fn lines_of_exactly_one_mib_are_read_and_one_byte_more_is_refused() {
    const MIB: usize = 1 << 20;
    for len in [MIB, MIB + 1] {
        let comment = format!("#{}", "x".repeat(len - 1));
        let entry = format!("1 1 1 1{}", " ".repeat(len - 7));
        assert_eq!((comment.len(), entry.len()), (len, len));
        for long in [&comment, &entry] {
            let cases = [
                (format!("{long}\n1 1 2 1\n"), 1),
                (format!("{long}\r\n1 1 2 1\r\n"), 1),
                (format!("1 1 2 2\n{long}"), 2),
            ];
            for (text, line) in cases {
                let r = read_tns(text.as_bytes());
                if len == MIB {
                    assert!(r.is_ok(), "{len} bytes on line {line}: {:?}", r.map(|_| ()));
                } else {
                    assert!(
                        matches!(&r, Err(Error::Parse { line: l, .. }) if *l == line),
                        "{len} bytes on line {line}: {:?}",
                        r.map(|_| ())
                    );
                }
            }
        }
    }
}

/// Largest factor and weight errors of `power_method_sketched` over the 8 seeds `s = 0..8`
/// (tensor `synthetic_orthogonal(order, n, k, 0.01, s)`, method seed `s`) and the smallest of
/// the per-seed largest factor errors.
fn eight_seed_errors(order: usize, n: usize, k: usize, sp: &SketchParams) -> (f64, f64, f64) {
    use randnla::tensor::power_method_sketched;
    let (mut lo, mut hi, mut weight) = (f64::INFINITY, 0.0f64, 0.0f64);
    for s in 0..8u64 {
        let (t, w, a) =
            SymmetricTensor::synthetic_orthogonal(order, n, k, 0.01, Seed::new(s)).unwrap();
        let cp = power_method_sketched(&t, k, sp, Seed::new(s), Par::Seq).unwrap();
        let m = match_factors(order, &w, &a, &cp.weights, &cp.factors).unwrap();
        let f = m.iter().map(|x| x.factor_error).fold(0.0, f64::max);
        lo = lo.min(f);
        hi = hi.max(f);
        weight = m.iter().map(|x| x.weight_rel_error).fold(weight, f64::max);
    }
    (lo, hi, weight)
}

/// Claim, `src/tensor/power.rs:109-112` (`SketchParams::resolve`): "at `4096·n` an order-4,
/// `n = 30`, rank-5 tensor (noise 0.01) came out with the largest factor error 0.030–0.043
/// (shared hashing) and 0.047–0.073 (per-mode) over 8 seeds, and 0.026–0.033 at twice the
/// size" (the automatic `4096·(p − 2)·n`). Inputs: [`eight_seed_errors`] (seeds 0..8) with the
/// default parameters; "at `4096·n`" is the shape the rule gives that target, `B = 16`,
/// `b = 8192`; "twice the size" the automatic shape `(30, 8192)` with the default hashing
/// (shared at order 4 is not `Auto`'s choice, so the figure is read as the shared one; per-mode
/// there gives 0.035–0.043). Pass rule: both ends of each range within 20 % of the stated ones
/// (the ends are extremes of 8 runs). Measured: 0.0305–0.0432, 0.0470–0.0629, and
/// 0.0263–0.0325.
#[test]
fn order_4_factor_errors_over_8_seeds_are_as_documented() {
    let within = |x: f64, doc: f64| (x - doc).abs() <= 0.2 * doc;
    for (hashing, sketches, sketch_dim, (lo_doc, hi_doc)) in [
        (ModeHashing::Shared, 16usize, 8192usize, (0.030, 0.043)),
        (ModeHashing::PerMode, 16, 8192, (0.047, 0.073)),
        (ModeHashing::Shared, 0, 0, (0.026, 0.033)),
    ] {
        let sp = SketchParams {
            sketches,
            sketch_dim,
            hashing,
            ..Default::default()
        };
        let (lo, hi, _) = eight_seed_errors(4, 30, 5, &sp);
        assert!(
            within(lo, lo_doc) && within(hi, hi_doc),
            "{hashing:?} ({sketches}, {sketch_dim}): {lo}–{hi}, stated {lo_doc}–{hi_doc}"
        );
    }
}

/// Claim, `src/tensor/power.rs:120-123`: "Largest factor / weight error over 8 seeds with the
/// automatic shape (synthetic rank 2, noise 0.01 …): `p = 5, n = 8`: 0.054 / 0.040; `p = 6,
/// n = 6`: 0.038 / 0.058; `p = 7, n = 5`: 0.051 / 0.081". `tests/tensor_power_review.rs` checks
/// orders 6 and 8 against 0.15 on 2 seeds. Inputs: [`eight_seed_errors`] with the default
/// parameters. Pass rule: each figure within 15 % (the orders 8 and 9 figures are left out:
/// `n^p = 4·10⁵` and `2·10⁶` entries per sketch are too slow for this file). Measured: 0.0541 /
/// 0.0404, 0.0381 / 0.0585, 0.0513 / 0.0813.
#[test]
fn high_order_factor_and_weight_errors_over_8_seeds_are_as_documented() {
    for (order, n, f_doc, w_doc) in [
        (5usize, 8usize, 0.054, 0.040),
        (6, 6, 0.038, 0.058),
        (7, 5, 0.051, 0.081),
    ] {
        let (_, f, w) = eight_seed_errors(order, n, 2, &SketchParams::default());
        assert!(
            (f - f_doc).abs() <= 0.15 * f_doc && (w - w_doc).abs() <= 0.15 * w_doc,
            "p = {order}, n = {n}: {f} / {w}, stated {f_doc} / {w_doc}"
        );
    }
}
