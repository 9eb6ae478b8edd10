//! Symmetric tensors, `.tns` I/O and the exact and sketched tensor power methods (issue 7,
//! ALGORITHMS.md §7).

use crate::common;

use common::{to_coordinate, with_threads};
use faer::Par;
use randnla::tensor::{
    match_factors, power_method_exact, power_method_sketched, read_tns, read_tns_as, residual_rel,
    write_tns, ModeHashing, PowerParams, SketchParams, SymmetricTensor, TensorSketches, TnsEntries,
    TnsStorage,
};

const HASHINGS: [ModeHashing; 2] = [ModeHashing::PerMode, ModeHashing::Shared];
use randnla::{Error, Seed};

/// A random symmetric dense tensor (symmetrized Gaussian) and a random unit vector.
fn random_tensor(order: usize, n: usize, seed: u64) -> (SymmetricTensor, Vec<f64>) {
    let s = Seed::new(seed);
    let len = n.pow(order as u32);
    let g: Vec<f64> = (0..len as u64).map(|i| gauss(s, 0, i)).collect();
    let t = SymmetricTensor::dense_symmetrized(order, n, g).unwrap();
    let mut u: Vec<f64> = (0..n as u64).map(|i| gauss(s, 1, i)).collect();
    let nrm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
    u.iter_mut().for_each(|x| *x /= nrm);
    (t, u)
}

fn gauss(s: Seed, stream: u64, i: u64) -> f64 {
    let u1 = ((s.word(2 * stream, i) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = (s.word(2 * stream + 1, i) >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Explicit CountSketch of `u^{⊗p}` under sketch `m`: enumerates all `n^p` entries.
fn explicit_power_sketch(s: &TensorSketches, m: usize, u: &[f64]) -> Vec<f64> {
    let (n, p, b) = (s.dim(), s.order(), s.sketch_dim());
    let mut out = vec![0.0; b];
    let mut idx = vec![0usize; p];
    loop {
        let mut pos = 0;
        let mut v = 1.0;
        for (k, &i) in idx.iter().enumerate() {
            let (h, sg) = s.bucket(m, k, i).unwrap();
            pos += h;
            v *= sg * u[i];
        }
        out[pos % b] += v;
        let mut k = p;
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < n {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// Explicit sketch of a tensor as `TensorSketches` builds it: every stored entry with per-mode
/// hashes; with one shared hash, only the entries with non-decreasing indices (each index
/// multiset once).
fn explicit_tensor_sketch(s: &TensorSketches, m: usize, t: &SymmetricTensor) -> Vec<f64> {
    let (n, p, b) = (s.dim(), s.order(), s.sketch_dim());
    let mut out = vec![0.0; b];
    for l in 0..n.pow(p as u32) {
        let idx: Vec<usize> = (0..p)
            .map(|k| (l / n.pow((p - 1 - k) as u32)) % n)
            .collect();
        if s.hashing() == ModeHashing::Shared && idx.windows(2).any(|w| w[0] > w[1]) {
            continue;
        }
        let mut pos = 0;
        let mut v = t.get(&idx).unwrap();
        for (k, &i) in idx.iter().enumerate() {
            let (h, sg) = s.bucket(m, k, i).unwrap();
            pos += h;
            v *= sg;
        }
        out[pos % b] += v;
    }
    out
}

/// Pass rule: to 1e-12 (sums of a few hundred O(1) terms), for both hashings, orders 3–5, the
/// FFT sketch of `u^{⊗p}` equals the explicit sum over ordered tuples; the built sketches of
/// `u^{⊗p}` (dense and coordinate storage) and of a random tensor equal the explicit sketch of
/// their entries; and `rank_one_sketch` (what deflation subtracts) equals the built sketch of
/// `u^{⊗p}`.
#[test]
fn fft_sketch_of_power_equals_explicit_count_sketch() {
    for hashing in HASHINGS {
        for p in [3, 4, 5] {
            let n = 6;
            let (r, u) = random_tensor(p, n, 11 + p as u64);
            // The tensor u^{⊗p} itself: its sketch (built from its entries) must match too.
            let t =
                SymmetricTensor::from_components(p, n, &[1.0], std::slice::from_ref(&u)).unwrap();
            let coo = to_coordinate(&t);
            let build = |t: &SymmetricTensor| {
                TensorSketches::with_hashing(t, 3, 64, hashing, Seed::new(5), Par::Seq).unwrap()
            };
            let (s, sc, sr) = (build(&t), build(&coo), build(&r));
            assert_eq!(s.hashing(), hashing);
            for m in 0..3 {
                let explicit = explicit_power_sketch(&s, m, &u);
                let fft = s.power_sketch(m, &u).unwrap();
                let explicit_built = explicit_tensor_sketch(&s, m, &t);
                let built = s.tensor_sketch(m).unwrap();
                let built_coo = sc.tensor_sketch(m).unwrap();
                let rank_one = s.rank_one_sketch(m, &u).unwrap();
                let explicit_r = explicit_tensor_sketch(&sr, m, &r);
                let built_r = sr.tensor_sketch(m).unwrap();
                let case = format!("{hashing:?} p={p} m={m}");
                for t in 0..64 {
                    assert!((explicit[t] - fft[t]).abs() < 1e-12, "{case} t={t}");
                    assert!((explicit_built[t] - built[t]).abs() < 1e-12, "{case} t={t}");
                    assert!(
                        (explicit_built[t] - built_coo[t]).abs() < 1e-12,
                        "{case} t={t}"
                    );
                    assert!((rank_one[t] - built[t]).abs() < 1e-12, "{case} t={t}");
                    assert!((explicit_r[t] - built_r[t]).abs() < 1e-12, "{case} t={t}");
                }
                if hashing == ModeHashing::PerMode {
                    for t in 0..64 {
                        assert!((explicit[t] - built[t]).abs() < 1e-12, "{case} t={t}");
                    }
                }
            }
        }
    }
}

/// Per-sketch estimates from 4 seeds × 100 sketches = 400 independent samples.
fn samples(
    t: &SymmetricTensor,
    u: &[f64],
    b: usize,
    hashing: ModeHashing,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut vals = Vec::new();
    let mut vecs = Vec::new();
    for seed in 0..4 {
        let s =
            TensorSketches::with_hashing(t, 100, b, hashing, Seed::new(0x7000 + seed), Par::Seq)
                .unwrap();
        vals.extend(s.estimates_all(u, Par::Seq).unwrap());
        vecs.extend(s.estimates_but_one(u, Par::Seq).unwrap());
    }
    (vals, vecs)
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let v = x.iter().map(|y| (y - m) * (y - m)).sum::<f64>() / (x.len() - 1) as f64;
    (m, v)
}

/// Asserts that the mean of the value estimates and of every coordinate of the vector estimates
/// lies within 4.5 standard errors of the exact contraction; returns the sample variance of the
/// values and the sum of the coordinates' sample variances.
fn assert_means(
    label: &str,
    vals: &[f64],
    vecs: &[Vec<f64>],
    exact: f64,
    exact_vec: &[f64],
) -> (f64, f64) {
    let (m, v) = mean_var(vals);
    let z = (m - exact) / (v / vals.len() as f64).sqrt();
    assert!(
        z.abs() < 4.5,
        "{label}: T(u,…,u) mean {m} vs {exact}, z={z}"
    );
    let mut total = 0.0;
    for (i, &want) in exact_vec.iter().enumerate() {
        let col: Vec<f64> = vecs.iter().map(|z| z[i]).collect();
        let (m, vi) = mean_var(&col);
        let z = (m - want) / (vi / col.len() as f64).sqrt();
        assert!(z.abs() < 4.5, "{label} i={i}: mean {m} vs {want}, z={z}");
        total += vi;
    }
    (v, total)
}

/// Pass rule: with 400 independent sketches, every mean (the scalar and each coordinate of the
/// vector) is within 4.5 standard errors of the exact contraction, and quadrupling `b` divides
/// the variance (scalar, and summed over coordinates) by a factor in [2.5, 6.4] (4 expected).
/// For the shared hash this holds at order 3 because its sign-even collisions are removed
/// (`shared_hash_is_unbiased_at_order_3_even_on_large_partial_traces` tests a harder tensor), and
/// at order 4 on these random tensors because their partial traces are small next to the noise;
/// the order-4 bias on large partial traces is pinned by
/// `shared_hash_is_biased_on_large_partial_traces_per_mode_is_not`.
#[test]
fn contractions_are_unbiased_with_variance_inverse_in_b() {
    for hashing in HASHINGS {
        unbiased_with_variance_inverse_in_b(hashing);
    }
}

fn unbiased_with_variance_inverse_in_b(hashing: ModeHashing) {
    for p in [3, 4] {
        let n = 8;
        let (t, u) = random_tensor(p, n, 40 + p as u64);
        let exact_all = t.contract_all(&u, Par::Seq).unwrap();
        let exact_vec = t.contract_but_one(&u, Par::Seq).unwrap();
        let mut var_all = Vec::new();
        let mut var_vec = Vec::new();
        for b in [64, 256] {
            let (vals, vecs) = samples(&t, &u, b, hashing);
            let label = format!("{hashing:?} p={p} b={b}");
            let (v, total) = assert_means(&label, &vals, &vecs, exact_all, &exact_vec);
            var_all.push(v);
            var_vec.push(total);
        }
        for (what, v) in [("scalar", &var_all), ("vector", &var_vec)] {
            let ratio = v[0] / v[1];
            assert!(
                (2.5..=6.4).contains(&ratio),
                "{hashing:?} p={p} {what}: variance ratio b=64/b=256 is {ratio}"
            );
        }
    }
}

/// The shared hash's known limitation, `ModeHashing::Shared`'s docs: on `T = sym(I⊗I)`
/// (order 4, large partial traces `Σ_{a,b} T_aabb`), with `T(u,u,u,u) = ‖u‖⁴ = 1`, the shared
/// estimates are biased upward by `≈ n²/b` while the per-mode ones are not. Pass rule, 400
/// per-sketch estimates each (4 seeds × 100 sketches, n = 16, b = 256): per-mode mean within 4.5
/// standard errors of 1; shared mean above 1.5 (the review measured 2.30 at this size).
#[test]
fn shared_hash_is_biased_on_large_partial_traces_per_mode_is_not() {
    let (n, p) = (16usize, 4usize);
    let mut data = vec![0.0; n.pow(4)];
    for a in 0..n {
        for b in 0..n {
            data[((a * n + a) * n + b) * n + b] = 1.0;
        }
    }
    let t = SymmetricTensor::dense_symmetrized(p, n, data).unwrap();
    let u: Vec<f64> = (0..n).map(|i| (0.3 + i as f64).sin()).collect();
    let nrm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
    let u: Vec<f64> = u.iter().map(|x| x / nrm).collect();
    let exact = t.contract_all(&u, Par::Seq).unwrap();
    assert!((exact - 1.0).abs() < 1e-12, "T(u,u,u,u) = {exact}");
    let (per_mode, _) = samples(&t, &u, 256, ModeHashing::PerMode);
    let (m, v) = mean_var(&per_mode);
    let z = (m - exact) / (v / per_mode.len() as f64).sqrt();
    assert!(z.abs() < 4.5, "per-mode mean {m}, z = {z}");
    let (shared, _) = samples(&t, &u, 256, ModeHashing::Shared);
    let (m, _) = mean_var(&shared);
    assert!(
        m > 1.5,
        "shared mean {m}: the documented bias is gone; update the docs"
    );
}

/// `ModeHashing::Auto`: the shared hash at order 3 when the smallest evaluated size is at least
/// `16n`, per-mode hashes otherwise; the power method resolves it against its folded search size.
#[test]
fn auto_hashing_resolution() {
    let auto = ModeHashing::Auto;
    assert_eq!(auto.resolve(3, 100, 1600), ModeHashing::Shared);
    assert_eq!(auto.resolve(3, 100, 1599), ModeHashing::PerMode);
    assert_eq!(auto.resolve(4, 100, 1 << 20), ModeHashing::PerMode);
    assert_eq!(auto.resolve(3, usize::MAX, 1 << 20), ModeHashing::PerMode);
    for h in HASHINGS {
        assert_eq!(h.resolve(3, 1 << 20, 16), h);
        assert_eq!(h.resolve(5, 2, 1 << 20), h);
    }
    let sp = SketchParams::default();
    assert_eq!(sp.resolve_hashing(400, 3), ModeHashing::Shared);
    assert_eq!(sp.resolve_hashing(30, 4), ModeHashing::PerMode);
    // No overflow for any n or order (the shape arithmetic is in u128, saturating where
    // 4096·n·(p − 2) passes 2¹²⁸).
    assert_eq!(sp.resolve_hashing(usize::MAX, 3), ModeHashing::PerMode);
    assert_eq!(sp.resolve(usize::MAX, 3), (30, 1 << 18));
    assert_eq!(sp.resolve(usize::MAX, usize::MAX), (30, 1 << 18));
    assert_eq!(
        sp.resolve_hashing(usize::MAX, usize::MAX),
        ModeHashing::PerMode
    );
    // A search folded to 4096 < 16 · 400 is too small for the correction to be cheap.
    let small = SketchParams {
        search_sketch_dim: 4096,
        ..SketchParams::default()
    };
    assert_eq!(small.resolve_hashing(400, 3), ModeHashing::PerMode);
    // TensorSketches resolve `Auto` against their own size and report the result.
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 10, 2, 0.0, Seed::new(1)).unwrap();
    let s = |b| TensorSketches::with_hashing(&t, 2, b, auto, Seed::new(0), Par::Seq).unwrap();
    assert_eq!(s(256).hashing(), ModeHashing::Shared);
    assert_eq!(s(128).hashing(), ModeHashing::PerMode);
}

/// At order 3 the shared hash's sign-even collisions (`{x,x,y}` with `{y,z,z}`, see
/// `ModeHashing::Shared`) are removed exactly, so its estimates are unbiased even on a tensor
/// made of partial traces: `T = sym(Σ_a e_a⊗e_a⊗v)` with `v = u`, `‖u‖ = 1`, so
/// `T(u,u,u) = ‖u‖²⟨v,u⟩ = 1` while `Σ_a T_aac` is `≈ n/3` times larger than any entry. Pass
/// rule, 400 per-sketch estimates per hashing (4 seeds × 100 sketches, n = 16, b = 64): the
/// mean of the value and of every coordinate of `T(I,u,u)` within 4.5 standard errors of the
/// exact contraction, for both hashings. (Without the correction the shared value's mean was
/// 1.45, 6.8 standard errors above 1, at this size.)
#[test]
fn shared_hash_is_unbiased_at_order_3_even_on_large_partial_traces() {
    let n = 16usize;
    let u: Vec<f64> = (0..n).map(|i| (0.3 + i as f64).sin()).collect();
    let nrm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
    let u: Vec<f64> = u.iter().map(|x| x / nrm).collect();
    let mut data = vec![0.0; n.pow(3)];
    for a in 0..n {
        for (c, &uc) in u.iter().enumerate() {
            data[(a * n + a) * n + c] = uc;
        }
    }
    let t = SymmetricTensor::dense_symmetrized(3, n, data).unwrap();
    let exact = t.contract_all(&u, Par::Seq).unwrap();
    assert!((exact - 1.0).abs() < 1e-12, "T(u,u,u) = {exact}");
    let exact_vec = t.contract_but_one(&u, Par::Seq).unwrap();
    for hashing in HASHINGS {
        let (vals, vecs) = samples(&t, &u, 64, hashing);
        assert_means(&format!("{hashing:?}"), &vals, &vecs, exact, &exact_vec);
    }
}

fn recover(n: usize, noise: f64, order: usize, k: usize, seed: u64, sp: &SketchParams) {
    let (t, w, a) =
        SymmetricTensor::synthetic_orthogonal(order, n, k, noise, Seed::new(seed)).unwrap();
    let par = Par::rayon(2);
    let ex = power_method_exact(&t, k, &sp.power, Seed::new(seed), par).unwrap();
    let sk = power_method_sketched(&t, k, sp, Seed::new(seed), par).unwrap();
    let r_ex = residual_rel(&t, &ex.weights, &ex.factors, par).unwrap();
    let r_sk = residual_rel(&t, &sk.weights, &sk.factors, par).unwrap();
    for (name, dec) in [("exact", &ex), ("sketched", &sk)] {
        let m = match_factors(order, &w, &a, &dec.weights, &dec.factors).unwrap();
        for x in &m {
            assert!(
                x.factor_error <= 0.05 && x.weight_rel_error <= 0.05,
                "{name} n={n} p={order} noise={noise}: component {} factor error {:.4}, weight error {:.4} \
                 (shape {:?})",
                x.truth,
                x.factor_error,
                x.weight_rel_error,
                dec.sketch_shape
            );
        }
    }
    assert!(
        r_sk <= r_ex + 0.10,
        "n={n} noise={noise}: sketched residual {r_sk:.4} vs exact {r_ex:.4}"
    );
    eprintln!(
        "n={n} p={order} noise={noise} {:?}: residual exact {r_ex:.4} sketched {r_sk:.4} shape {:?}",
        sp.hashing,
        sk.sketch_shape
    );
}

fn test_params() -> SketchParams {
    common::section7_sketch_params(ModeHashing::default())
}

/// ALGORITHMS.md §7: n ∈ {50, 100, 200}, k = 10, noise ∈ {0, 0.01}; every component within 0.05
/// (up to sign), every weight within 5 %, and the sketched residual ‖T − T̂‖_F/‖T‖_F within 0.10
/// (absolute) of the exact method's from the same starts. The spec's "within 10%" cannot be
/// relative: at noise 0 the exact residual is 0, and the factor errors of up to 0.05 that the
/// same rule allows give a sketched residual of that size (measured 0.040–0.050 with the default
/// hashing, 0.059–0.067 per mode, against 0 and 0.010 for the exact method). The 0.10 is that
/// rule's own bound: for orthonormal factors, a term `w·a⊗a⊗a` rebuilt with a factor off by `δ`
/// and a weight off by `ε` (relative) is off by about `w·√(3δ² + ε²)`, and the terms are
/// orthogonal, so `δ, ε ≤ 0.05` allow a relative residual of `√(3 + 1)·0.05 = 0.10`.
#[test]
fn sketched_recovers_orthogonal_order3_n50_n100() {
    for hashing in [ModeHashing::Auto, ModeHashing::PerMode] {
        for n in [50, 100] {
            for noise in [0.0, 0.01] {
                let sp = SketchParams {
                    hashing,
                    ..test_params()
                };
                recover(n, noise, 3, 10, 0x70 + n as u64, &sp);
            }
        }
    }
}

#[test]
fn sketched_recovers_orthogonal_order3_n200() {
    for hashing in [ModeHashing::Auto, ModeHashing::PerMode] {
        for noise in [0.0, 0.01] {
            let sp = SketchParams {
                hashing,
                ..test_params()
            };
            recover(200, noise, 3, 10, 0x71, &sp);
        }
    }
}

#[test]
fn sketched_recovers_orthogonal_order4() {
    recover(30, 0.01, 4, 5, 0x74, &test_params());
}

/// The bits of the weights and factors, for bitwise comparisons.
fn bits(d: &randnla::tensor::CpDecomposition) -> Vec<u64> {
    d.weights
        .iter()
        .chain(d.factors.iter().flatten())
        .map(|v| v.to_bits())
        .collect()
}

#[test]
fn thread_count_does_not_change_results() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 40, 3, 0.01, Seed::new(9)).unwrap();
    let sp = SketchParams {
        power: PowerParams {
            starts: 3,
            iters: 4,
            refine_iters: 4,
        },
        sketches: 6,
        sketch_dim: 1 << 12,
        search_sketches: 2,
        search_sketch_dim: 1 << 10,
        polish_iters: 1,
        hashing: ModeHashing::PerMode,
    };
    let shared = SketchParams {
        hashing: ModeHashing::Shared,
        ..sp.clone()
    };
    let run = |threads| {
        with_threads(threads, |par| {
            (
                power_method_exact(&t, 3, &sp.power, Seed::new(1), par).unwrap(),
                power_method_sketched(&t, 3, &sp, Seed::new(1), par).unwrap(),
                power_method_sketched(&t, 3, &shared, Seed::new(1), par).unwrap(),
            )
        })
    };
    let base = run(1);
    for threads in [2, 4] {
        let other = run(threads);
        for (x, y) in [
            (&base.0, &other.0),
            (&base.1, &other.1),
            (&base.2, &other.2),
        ] {
            assert_eq!(bits(x), bits(y), "{threads} threads");
        }
    }
    // Coordinate storage contracts identically across thread counts too.
    let coo = to_coordinate(&t);
    let u: Vec<f64> = (0..40).map(|i| (i as f64).sin()).collect();
    let z1 = with_threads(1, |par| coo.contract_but_one(&u, par).unwrap());
    let z2 = with_threads(2, |par| coo.contract_but_one(&u, par).unwrap());
    assert_eq!(
        z1.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        z2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

/// `T(I,u,…,u)` and `T(u,…,u)` of `T = Σ_k w_k v_k^{⊗p}` against their closed forms
/// `Σ_k w_k (v_k·u)^{p−1} v_k` and `Σ_k w_k (v_k·u)^p`, for both storages, orders 3–5 and
/// dimensions 1–3 (dimension 1 once lost `p − 2` factors of `u` in the dense contraction:
/// `T = [−2]`, `u = [½]` gave `T(u,u,u) = −½` instead of `−¼`). Entries are `O(1)` sums of a few
/// products, so the two sides agree to a few ulps of the largest term: tolerance `1e-13`
/// relative to `Σ_k |w_k| |v_k·u|^{p−1} ‖v_k‖_∞`.
#[test]
fn contractions_match_the_closed_form_of_a_sum_of_powers() {
    for order in 3..=5 {
        for n in 1..=3usize {
            let s = Seed::new(40 + (order * 10 + n) as u64);
            let k = 2;
            let weights: Vec<f64> = (0..k as u64).map(|j| gauss(s, 0, j)).collect();
            let factors: Vec<Vec<f64>> = (0..k as u64)
                .map(|j| (0..n as u64).map(|i| gauss(s, 1 + j, i)).collect())
                .collect();
            let u: Vec<f64> = (0..n as u64).map(|i| gauss(s, 9, i)).collect();
            let t = SymmetricTensor::from_components(order, n, &weights, &factors).unwrap();
            let dot = |v: &[f64]| v.iter().zip(&u).map(|(a, b)| a * b).sum::<f64>();
            let mut but_one = vec![0.0; n];
            let (mut all, mut scale) = (0.0, 0.0);
            for (w, v) in weights.iter().zip(&factors) {
                let c = dot(v);
                all += w * c.powi(order as i32);
                let vmax = v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
                scale += w.abs() * c.abs().powi(order as i32 - 1) * vmax.max(1.0);
                for (z, x) in but_one.iter_mut().zip(v) {
                    *z += w * c.powi(order as i32 - 1) * x;
                }
            }
            for (what, t) in [("dense", t.clone()), ("coordinate", to_coordinate(&t))] {
                let z = t.contract_but_one(&u, Par::Seq).unwrap();
                for (i, (a, b)) in z.iter().zip(&but_one).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-13 * scale,
                        "{what}, order {order}, n {n}: T(I,u,…,u)[{i}] = {a}, closed form {b}"
                    );
                }
                let a = t.contract_all(&u, Par::Seq).unwrap();
                assert!(
                    (a - all).abs() <= 1e-13 * scale * u.iter().map(|x| x.abs()).sum::<f64>(),
                    "{what}, order {order}, n {n}: T(u,…,u) = {a}, closed form {all}"
                );
            }
        }
    }
    // The reported case: T = [−2] of order 3, u = [−1] and [½].
    let t = SymmetricTensor::dense(3, 1, vec![-2.0]).unwrap();
    assert_eq!(t.contract_but_one(&[-1.0], Par::Seq).unwrap(), vec![-2.0]);
    assert_eq!(t.contract_all(&[0.5], Par::Seq).unwrap(), -0.25);
    // Its rank-1 decomposition is exact: `λ a^{⊗3}` with `λ a³ = −2` (weight and sign of `a`
    // trade places at odd order), which the power method finds with zero residual.
    let p = PowerParams {
        starts: 2,
        iters: 3,
        refine_iters: 3,
    };
    let d = power_method_exact(&t, 1, &p, Seed::new(1), Par::Seq).unwrap();
    assert_eq!(d.weights[0] * d.factors[0][0].powi(3), -2.0, "{d:?}");
    assert_eq!(
        residual_rel(&t, &d.weights, &d.factors, Par::Seq).unwrap(),
        0.0
    );
}

#[test]
fn coordinate_and_dense_storage_agree() {
    let (t, u) = random_tensor(3, 9, 3);
    let coo = to_coordinate(&t);
    assert_eq!(coo.nnz(), 9 * 9 * 9);
    let zd = t.contract_but_one(&u, Par::Seq).unwrap();
    let zc = coo.contract_but_one(&u, Par::Seq).unwrap();
    for (a, b) in zd.iter().zip(&zc) {
        assert!((a - b).abs() < 1e-12);
    }
    assert!((t.norm() - coo.norm()).abs() < 1e-12);
    assert_eq!(coo.get(&[1, 4, 2]).unwrap(), t.get(&[2, 1, 4]).unwrap());
    // Sketches of both storages are the same (same entries, same hashes) up to rounding.
    let sd = TensorSketches::new(&t, 2, 64, Seed::new(2), Par::Seq).unwrap();
    let sc = TensorSketches::new(&coo, 2, 64, Seed::new(2), Par::Seq).unwrap();
    let (a, b) = (sd.tensor_sketch(1).unwrap(), sc.tensor_sketch(1).unwrap());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-10);
    }
    // So are the shared hash's corrected order-3 estimates (the slices T_xx· come from either
    // storage), before and after a deflation; b = 64 leaves ≈ 5 colliding pairs per sketch.
    let shared = |t: &SymmetricTensor| {
        TensorSketches::with_hashing(t, 3, 64, ModeHashing::Shared, Seed::new(2), Par::Seq).unwrap()
    };
    let (mut sd, mut sc) = (shared(&t), shared(&coo));
    for step in 0..2 {
        let (a, b) = (
            sd.estimates_but_one(&u, Par::Seq).unwrap(),
            sc.estimates_but_one(&u, Par::Seq).unwrap(),
        );
        for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
            assert!((x - y).abs() < 1e-10, "step {step}: {x} vs {y}");
        }
        sd.deflate(0.5, &u, Par::Seq).unwrap();
        sc.deflate(0.5, &u, Par::Seq).unwrap();
    }
    // All permutations listed explicitly give the same tensor.
    let mut idx = Vec::new();
    let mut val = Vec::new();
    t.for_each_entry(|i, v| {
        idx.extend(i.iter().map(|&x| x as usize));
        val.push(v);
    });
    let full = SymmetricTensor::coordinate(3, 9, &idx, &val).unwrap();
    assert_eq!(full.nnz(), coo.nnz());
    assert_eq!(
        full.to_dense().unwrap().get(&[3, 3, 5]).unwrap(),
        t.get(&[5, 3, 3]).unwrap()
    );
}

#[test]
fn tns_round_trip() {
    let (t, _) = random_tensor(3, 5, 8);
    for entries in [TnsEntries::All, TnsEntries::Unique] {
        let mut buf = Vec::new();
        write_tns(&mut buf, &t, entries).unwrap();
        let back = read_tns(&buf[..]).unwrap();
        assert_eq!(back.dim(), 5);
        assert_eq!(back.order(), 3);
        for i in 0..5 {
            for j in 0..5 {
                for k in 0..5 {
                    assert_eq!(back.get(&[i, j, k]).unwrap(), t.get(&[i, j, k]).unwrap());
                }
            }
        }
    }
    // Comments and blank lines are skipped; a sparse file stays sparse.
    let text = "# a comment\n\n1 1 2 0.5\n3 3 3 -1e-3\n";
    let s = read_tns(text.as_bytes()).unwrap();
    assert_eq!((s.order(), s.dim(), s.nnz()), (3, 3, 4));
    assert_eq!(s.get(&[1, 0, 0]).unwrap(), 0.5);
    // The header keeps the shape when the entries do not show it: a component supported on the
    // first two of four coordinates (the entries alone imply dimension 2), and the zero tensor
    // (no entries at all), each in both storages and both entry modes.
    let a = SymmetricTensor::from_components(3, 4, &[1.0], &[vec![0.6, 0.8, 0.0, 0.0]]).unwrap();
    let zero = SymmetricTensor::dense(4, 3, vec![0.0; 81]).unwrap();
    for t in [
        a.clone(),
        to_coordinate(&a),
        zero.clone(),
        to_coordinate(&zero),
    ] {
        for entries in [TnsEntries::All, TnsEntries::Unique] {
            let mut buf = Vec::new();
            write_tns(&mut buf, &t, entries).unwrap();
            let back = read_tns(&buf[..]).unwrap();
            assert_eq!((back.order(), back.dim()), (t.order(), t.dim()));
            let (d, e) = (back.to_dense().unwrap(), t.to_dense().unwrap());
            let (mut x, mut y) = (Vec::new(), Vec::new());
            d.for_each_entry(|_, v| x.push(v.to_bits()));
            e.for_each_entry(|_, v| y.push(v.to_bits()));
            assert_eq!(x, y);
        }
    }
    // `dense` stores entries that are symmetric up to rounding as exactly symmetric ones (the
    // sorted multi-index's value), so writing unique entries loses nothing.
    let mut data = vec![1.0; 8];
    data[2] = 1.0 + f64::EPSILON; // (0, 1, 0); its sorted form (0, 0, 1) holds 1
    let t = SymmetricTensor::dense(3, 2, data).unwrap();
    assert_eq!(t.get(&[0, 1, 0]).unwrap(), 1.0);
    // A declared dimension above the largest index is kept; other comments are ignored.
    let s =
        read_tns("# order 3 dimension 5\n# order 4 dimension 9\n1 1 2 0.5\n".as_bytes()).unwrap();
    assert_eq!((s.order(), s.dim(), s.nnz()), (3, 5, 3));
}

/// `dense_from_entries` and `read_tns_as(Dense)` build, bit for bit, the densified coordinate
/// tensor, from entries given once, in all permutations, or mixed; they reject what
/// `coordinate` rejects; `Auto` picks dense storage for a quarter-full tensor, coordinates for a
/// sparser one.
#[test]
fn dense_reading_matches_coordinate_then_densify() {
    let dense_bits = |t: &SymmetricTensor| -> Vec<u64> {
        let mut v = Vec::new();
        t.to_dense()
            .unwrap()
            .for_each_entry(|_, x| v.push(x.to_bits()));
        v
    };
    for (order, dim, seed) in [(3, 6, 1u64), (4, 4, 2), (3, 1, 3), (5, 3, 4)] {
        let (t, _) = random_tensor(order, dim, seed);
        // Every third multiset with all its permutations, the others once (a rotated one).
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        let mut count = 0;
        t.for_each_entry(|i, v| {
            let canonical = i.windows(2).all(|w| w[0] <= w[1]);
            let key: usize = i.iter().map(|&x| x as usize).sum();
            let all = key.is_multiple_of(3);
            if all || canonical {
                let mut e: Vec<usize> = i.iter().map(|&x| x as usize).collect();
                if !all {
                    e.rotate_left(count % order);
                    count += 1;
                }
                idx.extend(e);
                val.push(v);
            }
        });
        let coo = SymmetricTensor::coordinate(order, dim, &idx, &val).unwrap();
        let dense = SymmetricTensor::dense_from_entries(order, dim, &idx, &val).unwrap();
        assert!(dense.is_dense() && !coo.is_dense());
        assert_eq!(
            dense_bits(&dense),
            dense_bits(&coo),
            "order {order}, n = {dim}"
        );
        assert_eq!(
            dense_bits(&dense),
            dense_bits(&t),
            "order {order}, n = {dim}"
        );
        let mut text = Vec::new();
        write_tns(&mut text, &t, TnsEntries::Unique).unwrap();
        for storage in [TnsStorage::Dense, TnsStorage::Auto, TnsStorage::Coordinate] {
            let r = read_tns_as(&text[..], storage).unwrap();
            assert_eq!(
                r.is_dense(),
                storage != TnsStorage::Coordinate,
                "{storage:?}"
            );
            assert_eq!(dense_bits(&r), dense_bits(&t), "{storage:?}");
        }
    }
    // Invalid entries are rejected alike.
    let bad: [(&[usize], &[f64]); 4] = [
        (&[0, 0, 1, 0, 1, 0], &[1.0, 2.0]), // permutations with unequal values
        (&[0, 0, 1, 0, 1, 0], &[1.0, 1.0]), // two of the three permutations
        (&[0, 0, 3], &[1.0]),               // index out of range
        (&[0, 0, 1], &[f64::NAN]),          // not finite
    ];
    for (i, v) in bad {
        assert!(SymmetricTensor::coordinate(3, 3, i, v).is_err());
        assert!(
            SymmetricTensor::dense_from_entries(3, 3, i, v).is_err(),
            "{i:?}"
        );
    }
    // Too large for dense storage: an error, not an allocation.
    let r = SymmetricTensor::dense_from_entries(3, 1 << 12, &[0, 0, 0], &[1.0]);
    assert!(matches!(r, Err(Error::TooLarge { .. })));
    let text = "1 1 1 1.0\n4096 4096 4096 2.0\n";
    assert!(matches!(
        read_tns_as(text.as_bytes(), TnsStorage::Dense),
        Err(Error::TooLarge { .. })
    ));
    // Auto: 2 of 4096³ entries stay coordinates; a full 3 × 3 × 3 goes dense.
    assert!(!read_tns_as(text.as_bytes(), TnsStorage::Auto)
        .unwrap()
        .is_dense());
    let mut full = Vec::new();
    write_tns(&mut full, &random_tensor(3, 3, 5).0, TnsEntries::Unique).unwrap();
    assert!(read_tns_as(&full[..], TnsStorage::Auto).unwrap().is_dense());
}

fn parse_line(text: &str) -> (usize, String) {
    match read_tns(text.as_bytes()) {
        Err(Error::Parse { line, reason }) => (line, reason),
        other => panic!("expected a parse error for {text:?}, got {other:?}"),
    }
}

#[test]
fn malformed_tns_files_are_errors_with_line_numbers() {
    assert_eq!(parse_line("1 1 1 1.0\n1 2 x 3\n").0, 2);
    assert_eq!(parse_line("1 1 1 1.0\n\n1 2 3\n").0, 3);
    assert_eq!(parse_line("1 1 1.0\n").0, 1);
    assert_eq!(parse_line("0 1 1 1.0\n").0, 1);
    assert_eq!(parse_line("1 1 -1 1.0\n").0, 1);
    assert_eq!(parse_line("1 1 1 NaN\n").0, 1);
    assert_eq!(parse_line("1 1 1 inf\n").0, 1);
    assert_eq!(parse_line("1 1 1 abc\n").0, 1);
    // A header-less file declaring a huge index is refused without allocating for it.
    let (line, reason) = parse_line("1 1 1 1\n1 1 99999999999999 2.0\n");
    assert_eq!(line, 2, "{reason}");
    let (line, reason) = parse_line("1 1 1 1\n1 1 18446744073709551616 2.0\n");
    assert_eq!(line, 2, "{reason}");
    // Beyond u64 the index is too large, not "not a positive integer".
    assert!(reason.contains("largest supported dimension"), "{reason}");
    assert!(parse_line("1 1 1 1\n1 1 -3 2.0\n")
        .1
        .contains("positive integer"));
    assert!(matches!(read_tns("".as_bytes()), Err(Error::Empty { .. })));
    assert!(matches!(
        read_tns("# only\n".as_bytes()),
        Err(Error::Empty { .. })
    ));
    // Partial permutations, repeats and asymmetric values.
    assert!(read_tns("1 2 3 1\n2 1 3 1\n".as_bytes()).is_err());
    assert!(read_tns("1 2 2 1\n1 2 2 1\n".as_bytes()).is_err());
    assert!(read_tns("1 1 2 1\n1 2 1 1\n2 1 1 1.5\n".as_bytes()).is_err());
    assert!(read_tns("1 1 2 1\n1 2 1 1\n2 1 1 1\n".as_bytes()).is_ok());
    // A dense tensor of a huge declared dimension is refused, not allocated.
    let big = read_tns("1 1 1 1\n60000000 1 1 2\n".as_bytes()).unwrap();
    assert!(matches!(big.to_dense(), Err(Error::TooLarge { .. })));
    // Invalid UTF-8 is an error, not a panic.
    assert!(read_tns(&b"1 1 1 \xff\n"[..]).is_err());
    // Header comments: an order or dimension out of range or not a number, an entry of another
    // order than declared, an index above the declared dimension.
    assert_eq!(parse_line("# order 3 dimension 0\n1 1 1 1\n").0, 1);
    assert_eq!(parse_line("# order 2 dimension 4\n").0, 1);
    assert_eq!(parse_line("#order x dimension 4\n").0, 1);
    assert_eq!(parse_line("\n# order 3 dimension 99999999999\n").0, 2);
    assert_eq!(parse_line("# order 3 dimension 4\n1 1 1 1 1\n").0, 2);
    assert_eq!(parse_line("# order 3 dimension 4\n1 1 1 1\n1 5 1 1\n").0, 3);
    // A header after the first entry is an ordinary comment.
    assert!(read_tns("1 1 1 1\n# order 3 dimension 0\n".as_bytes()).is_ok());
}

#[test]
fn bad_input_is_an_error() {
    // Constructors.
    assert!(SymmetricTensor::dense(2, 3, vec![0.0; 9]).is_err());
    assert!(SymmetricTensor::dense(13, 2, vec![0.0; 1 << 13]).is_err());
    assert!(SymmetricTensor::dense(3, 0, vec![]).is_err());
    assert!(SymmetricTensor::dense(3, 3, vec![0.0; 26]).is_err());
    assert!(SymmetricTensor::dense(3, 100_000, vec![]).is_err());
    let mut asym = vec![0.0; 8];
    asym[1] = 1.0; // (0,0,1) without (0,1,0), (1,0,0)
    assert!(matches!(
        SymmetricTensor::dense(3, 2, asym.clone()),
        Err(Error::InvalidStructure { .. })
    ));
    assert!(SymmetricTensor::dense_symmetrized(3, 2, asym).is_ok());
    let mut nan = vec![0.0; 8];
    nan[3] = f64::NAN;
    assert!(matches!(
        SymmetricTensor::dense(3, 2, nan),
        Err(Error::NonFinite { .. })
    ));
    assert!(SymmetricTensor::coordinate(3, 2, &[0, 0, 2], &[1.0]).is_err());
    assert!(SymmetricTensor::coordinate(3, 2, &[0, 0], &[1.0]).is_err());
    assert!(SymmetricTensor::coordinate(3, 2, &[], &[]).is_err());
    assert!(SymmetricTensor::coordinate(3, 2, &[0, 0, 1], &[f64::INFINITY]).is_err());
    assert!(SymmetricTensor::from_components(3, 2, &[1.0], &[vec![1.0]]).is_err());
    assert!(SymmetricTensor::from_components(3, 2, &[1.0, 2.0], &[vec![1.0, 0.0]]).is_err());
    assert!(SymmetricTensor::from_components::<Vec<f64>>(3, 2, &[], &[]).is_err());
    assert!(SymmetricTensor::synthetic_orthogonal(3, 5, 6, 0.0, Seed::new(0)).is_err());
    assert!(SymmetricTensor::synthetic_orthogonal(3, 5, 0, 0.0, Seed::new(0)).is_err());
    assert!(SymmetricTensor::synthetic_orthogonal(3, 5, 2, -1.0, Seed::new(0)).is_err());
    assert!(SymmetricTensor::synthetic_orthogonal(3, 5, 2, f64::NAN, Seed::new(0)).is_err());
    assert!(SymmetricTensor::synthetic_orthogonal(3, 1000, 2, 0.0, Seed::new(0)).is_err());

    let (t, u) = random_tensor(3, 4, 1);
    assert!(t.contract_but_one(&u[..3], Par::Seq).is_err());
    assert!(t
        .contract_all(&[f64::NAN, 0.0, 0.0, 0.0], Par::Seq)
        .is_err());
    assert!(t.get(&[0, 0]).is_err());
    assert!(t.get(&[0, 0, 4]).is_err());

    // Power methods.
    let p = PowerParams::default();
    assert!(power_method_exact(&t, 0, &p, Seed::new(0), Par::Seq).is_err());
    let zero_starts = PowerParams {
        starts: 0,
        ..p.clone()
    };
    assert!(power_method_exact(&t, 1, &zero_starts, Seed::new(0), Par::Seq).is_err());
    let many = PowerParams {
        iters: usize::MAX,
        ..p.clone()
    };
    assert!(power_method_exact(&t, 1, &many, Seed::new(0), Par::Seq).is_err());
    for (sketches, sketch_dim) in [(1, 100), (1, 8), (300, 64), (1, 1 << 25), (200, 1 << 24)] {
        let sp = SketchParams {
            power: p.clone(),
            sketches,
            sketch_dim,
            search_sketches: 0,
            search_sketch_dim: 0,
            polish_iters: 2,
            hashing: ModeHashing::Shared,
        };
        assert!(
            power_method_sketched(&t, 1, &sp, Seed::new(0), Par::Seq).is_err(),
            "B={sketches} b={sketch_dim}"
        );
    }
    let sp = SketchParams {
        power: zero_starts,
        ..Default::default()
    };
    assert!(power_method_sketched(&t, 1, &sp, Seed::new(0), Par::Seq).is_err());
    // Shared-hash deflation buffers: order 9 at b = 2²⁴ needs 9·2²⁴ > 2²⁷ complex numbers.
    let t9 = SymmetricTensor::dense(9, 1, vec![1.0]).unwrap();
    let shared =
        |b| TensorSketches::with_hashing(&t9, 1, b, ModeHashing::Shared, Seed::new(0), Par::Seq);
    assert!(matches!(shared(1 << 24), Err(Error::TooLarge { .. })));
    assert!(shared(1 << 20).is_ok());
    // Order-3 shared-hash collision pairs: a diagonal n = 30 000 tensor at b = 16 has
    // ≈ 4 · 2n²/b ≈ 4.5·10⁸ > 2²⁷ of them; refused (before building) rather than held.
    let n = 30_000usize;
    let idx: Vec<usize> = (0..n).flat_map(|i| [i, i, i]).collect();
    let diag = SymmetricTensor::coordinate(3, n, &idx, &vec![1.0; n]).unwrap();
    let r = TensorSketches::with_hashing(&diag, 4, 16, ModeHashing::Shared, Seed::new(0), Par::Seq);
    assert!(matches!(r, Err(Error::TooLarge { .. })));
    // At a folded size of 16, n = 40 000 gives ≈ 2n²/16 = 2·10⁸ > 2²⁷ colliding pairs per
    // sketch (against ≈ 5·10⁴ at the full 2¹⁶): not cached, and the first evaluation there is
    // an error, not a 3 GiB allocation.
    let n = 40_000usize;
    let idx: Vec<usize> = (0..n).flat_map(|i| [i, i, i]).collect();
    let diag = SymmetricTensor::coordinate(3, n, &idx, &vec![1.0; n]).unwrap();
    let sp = SketchParams {
        sketches: 2,
        sketch_dim: 1 << 16,
        search_sketch_dim: 16,
        hashing: ModeHashing::Shared,
        ..Default::default()
    };
    let r = power_method_sketched(&diag, 1, &sp, Seed::new(0), Par::Seq);
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
    // A folded size below the smallest sketch size is refused like `sketch_dim` (a size of 2
    // made every estimate vanish and returned wrong weights as if converged).
    for d in [1usize, 2, 8, 15] {
        let sp = SketchParams {
            search_sketch_dim: d,
            ..Default::default()
        };
        let r = power_method_sketched(&t, 1, &sp, Seed::new(0), Par::Seq);
        let name = match r {
            Err(Error::InvalidParameter { name, .. }) => name,
            other => panic!("search_sketch_dim {d}: {other:?}"),
        };
        assert_eq!(name, "search_sketch_dim");
    }

    // Sketch object.
    let mut s = TensorSketches::new(&t, 2, 16, Seed::new(0), Par::Seq).unwrap();
    assert!(s.bucket(2, 0, 0).is_err());
    assert!(s.bucket(0, 3, 0).is_err());
    assert!(s.bucket(0, 0, 4).is_err());
    assert!(s.tensor_sketch(2).is_err());
    assert!(s.power_sketch(0, &u[..2]).is_err());
    assert!(s.power_sketch(5, &u).is_err());
    assert!(s.rank_one_sketch(0, &u[..2]).is_err());
    assert!(s.rank_one_sketch(2, &u).is_err());
    assert!(s.rank_one_sketch(0, &[f64::NAN; 4]).is_err());
    let sh = TensorSketches::with_hashing(&t, 2, 16, ModeHashing::Shared, Seed::new(0), Par::Seq)
        .unwrap();
    assert!(sh.rank_one_sketch(2, &u).is_err());
    assert!(sh.bucket(0, 3, 0).is_err());
    assert!(sh.contract_all(&[f64::INFINITY; 4], Par::Seq).is_err());
    assert!(s.contract_but_one(&[1.0], Par::Seq).is_err());
    assert!(s.contract_all(&[f64::NAN; 4], Par::Seq).is_err());
    assert!(s.deflate(f64::INFINITY, &u, Par::Seq).is_err());
    assert!(s.deflate(1.0, &u[..1], Par::Seq).is_err());

    // Quality measures.
    assert!(residual_rel(&t, &[1.0], &[vec![1.0; 3]], Par::Seq).is_err());
    assert!(residual_rel(&t, &[1.0, 2.0], std::slice::from_ref(&u), Par::Seq).is_err());
    assert!(residual_rel(&t, &[f64::NAN], std::slice::from_ref(&u), Par::Seq).is_err());
    assert!(match_factors(3, &[1.0], std::slice::from_ref(&u), &[1.0], &[vec![0.0; 2]]).is_err());
    assert!(match_factors(
        3,
        &[1.0],
        std::slice::from_ref(&u),
        &[1.0, 1.0],
        std::slice::from_ref(&u)
    )
    .is_err());
    // Order 0 (a tensor of order 0 is a scalar: no factors to match); order 1 and 2 are
    // vectors and symmetric matrices, whose decompositions match as at any order.
    assert!(matches!(
        match_factors(
            0,
            &[1.0],
            std::slice::from_ref(&u),
            &[1.0],
            std::slice::from_ref(&u)
        ),
        Err(randnla::Error::InvalidParameter { name: "order", .. })
    ));
    // Found as −u: at order 1, (−1)·(−u) = u, so the weight −1 is compared as 1; at order 2,
    // 1·(−u)(−u)ᵀ = uuᵀ and the weight is compared as it is.
    let neg_u: Vec<f64> = u.iter().map(|v| -v).collect();
    let truth = std::slice::from_ref(&u);
    let found = std::slice::from_ref(&neg_u);
    for (order, weight, want) in [(1, -1.0, 0.0), (1, 1.0, 2.0), (2, 1.0, 0.0), (2, -1.0, 2.0)] {
        let m = &match_factors(order, &[1.0], truth, &[weight], found).unwrap()[0];
        assert_eq!(
            (m.factor_error, m.weight_rel_error),
            (0.0, want),
            "order {order}"
        );
    }
    // Factors of length 0, and more candidate pairs than the stated bound (10⁴ × 10⁴ factors of
    // length 1 would have asked for 2.4 GB of pairs): errors before any allocation.
    let empty = vec![Vec::<f64>::new(); 3];
    assert!(matches!(
        match_factors(3, &[1.0; 3], &empty, &[1.0; 3], &empty),
        Err(randnla::Error::Empty { .. })
    ));
    let many = vec![vec![1.0]; 10_000];
    let ones = vec![1.0; 10_000];
    assert!(matches!(
        match_factors(3, &ones, &many, &ones, &many),
        Err(randnla::Error::TooLarge { .. })
    ));
    // No true components: nothing to match, whatever was found.
    assert_eq!(
        match_factors::<Vec<f64>, _>(3, &[], &[], &[1.0], std::slice::from_ref(&u)).unwrap(),
        vec![]
    );
}

/// `from_components`, `residual_rel` and `match_factors` take factors as `Vec<f64>`s, as slices
/// (columns of a faer matrix here, no copies) or as arrays, with bitwise the same results.
#[test]
fn component_functions_take_vecs_slices_and_arrays_alike() {
    let (t, w, a) = SymmetricTensor::synthetic_orthogonal(3, 4, 2, 0.01, Seed::new(8)).unwrap();
    let cols = faer::Mat::<f64>::from_fn(4, 2, |i, j| a[j][i]);
    let slices: Vec<&[f64]> = (0..2).map(|j| cols.col_as_slice(j)).collect();
    let arrays: Vec<[f64; 4]> = a.iter().map(|v| [v[0], v[1], v[2], v[3]]).collect();
    let bits = |v: f64| v.to_bits();
    let r_vec = residual_rel(&t, &w, &a, Par::Seq).unwrap();
    assert!(r_vec > 0.0 && r_vec < 0.1, "{r_vec}");
    assert_eq!(
        bits(residual_rel(&t, &w, &slices, Par::Seq).unwrap()),
        bits(r_vec)
    );
    assert_eq!(
        bits(residual_rel(&t, &w, &arrays, Par::Seq).unwrap()),
        bits(r_vec)
    );
    let m_vec = match_factors(3, &w, &a, &w, &a).unwrap();
    assert_eq!(match_factors(3, &w, &slices, &w, &arrays).unwrap(), m_vec);
    assert_eq!(m_vec.iter().map(|m| m.found).collect::<Vec<_>>(), [0, 1]);
    let from_vec = SymmetricTensor::from_components(3, 4, &w, &a).unwrap();
    let from_slices = SymmetricTensor::from_components(3, 4, &w, &slices).unwrap();
    for i in 0..4 {
        for j in 0..4 {
            for k in 0..4 {
                let (x, y) = (from_vec.get(&[i, j, k]), from_slices.get(&[i, j, k]));
                assert_eq!(bits(x.unwrap()), bits(y.unwrap()), "{i} {j} {k}");
            }
        }
    }
    // A slice of the wrong length is refused as a Vec is.
    let short: Vec<&[f64]> = vec![&a[0][..3], &a[1]];
    assert!(matches!(
        residual_rel(&t, &w, &short, Par::Seq),
        Err(randnla::Error::DimensionMismatch { .. })
    ));
}

#[test]
fn exact_method_is_reproducible_and_reports_diagnostics() {
    let (t, w, a) = SymmetricTensor::synthetic_orthogonal(3, 20, 3, 0.0, Seed::new(4)).unwrap();
    let p = PowerParams {
        starts: 4,
        iters: 10,
        refine_iters: 10,
    };
    let d1 = power_method_exact(&t, 3, &p, Seed::new(4), Par::Seq).unwrap();
    let d2 = power_method_exact(&t, 3, &p, Seed::new(4), Par::Seq).unwrap();
    assert_eq!(d1, d2);
    assert_eq!(d1.components.len(), 3);
    assert_eq!(d1.components[0].start_values.len(), 4);
    assert_eq!(d1.contractions, 3 * (4 * 11 + 11));
    assert!(d1.components.iter().all(|c| c.final_change < 1e-6));
    let m = match_factors(3, &w, &a, &d1.weights, &d1.factors).unwrap();
    assert!(
        m.iter()
            .all(|x| x.factor_error < 1e-8 && x.weight_rel_error < 1e-8),
        "{m:?}"
    );
    assert!(residual_rel(&t, &d1.weights, &d1.factors, Par::Seq).unwrap() < 1e-6);
    // A coordinate copy gives the same decomposition up to rounding.
    let d3 = power_method_exact(&to_coordinate(&t), 3, &p, Seed::new(4), Par::Seq).unwrap();
    for (x, y) in d1.weights.iter().zip(&d3.weights) {
        assert!((x - y).abs() < 1e-10);
    }
}

/// Folding and the polish phase: refining at full size throughout (`polish_iters ≥
/// refine_iters`) is bitwise the same as `polish_iters = usize::MAX`; folding to `b` itself is
/// bitwise the same as not folding, whatever `polish_iters`. With the default `polish_iters = 2`
/// every component is within 0.05; with `polish_iters = 0` the factors are the folded sketches'
/// (size b/4: noise √4 = 2× the full size's), so the bound is 2 × 0.05 = 0.10, while the weight,
/// still estimated at full size, stays within 0.05.
#[test]
fn folding_and_polish_phases() {
    let (t, w, a) = SymmetricTensor::synthetic_orthogonal(3, 50, 4, 0.01, Seed::new(21)).unwrap();
    let base = SketchParams {
        power: PowerParams {
            starts: 4,
            iters: 6,
            refine_iters: 5,
        },
        ..Default::default()
    };
    let (_, b) = base.resolve(50, 3);
    let run = |search_sketch_dim, polish_iters| {
        let sp = SketchParams {
            search_sketch_dim,
            polish_iters,
            ..base.clone()
        };
        power_method_sketched(&t, 4, &sp, Seed::new(3), Par::Seq).unwrap()
    };
    let full = run(0, usize::MAX);
    assert_eq!(bits(&run(0, 5)), bits(&full), "polish = refine_iters");
    assert_eq!(bits(&run(0, 9)), bits(&full), "polish > refine_iters");
    let unfolded = run(b, usize::MAX);
    assert_eq!(
        bits(&run(b, 0)),
        bits(&unfolded),
        "folding to b is the identity"
    );
    assert_eq!(
        bits(&run(2 * b, 2)),
        bits(&unfolded),
        "sizes above b are capped"
    );
    for (polish, bound) in [(2, 0.05), (0, 0.10)] {
        let d = run(0, polish);
        for x in match_factors(3, &w, &a, &d.weights, &d.factors).unwrap() {
            assert!(
                x.factor_error <= bound && x.weight_rel_error <= 0.05,
                "polish {polish}: component {} factor error {:.4}, weight error {:.4}",
                x.truth,
                x.factor_error,
                x.weight_rel_error
            );
        }
    }
    let p = SketchParams::default();
    assert_eq!(p.resolve_search(1 << 17), 1 << 15);
    assert_eq!(p.resolve_search(1 << 10), 1 << 10);
    let given = |d| SketchParams {
        search_sketch_dim: d,
        ..SketchParams::default()
    };
    assert_eq!(given(3000).resolve_search(1 << 12), 2048);
    assert_eq!(given(1).resolve_search(1 << 12), 2);
    assert_eq!(given(usize::MAX).resolve_search(1 << 12), 1 << 12);
}

/// Coordinate storage expands every distinct permutation in lexicographic order, by the packed
/// linear index when `n^p` fits in 64 bits and by index vectors otherwise (here `50¹²`): both
/// paths answer `get` for every permutation.
#[test]
fn coordinate_expansion_with_and_without_packed_indices() {
    for (order, dim) in [(4usize, 7usize), (12, 50)] {
        let mut first = vec![0usize; order];
        first[order - 1] = 3;
        let mut second = vec![1usize; order];
        second[0] = 2;
        second[1] = 5;
        let indices: Vec<usize> = first.iter().chain(&second).copied().collect();
        let t = SymmetricTensor::coordinate(order, dim, &indices, &[2.0, -1.5]).unwrap();
        // {0,…,0,3}: `order` distinct permutations; {2,5,1,…,1}: order·(order−1).
        assert_eq!(t.nnz(), order + order * (order - 1), "order {order}");
        let mut p = first.clone();
        p.rotate_right(2);
        assert_eq!(t.get(&p).unwrap(), 2.0);
        let mut q = second.clone();
        q.reverse();
        assert_eq!(t.get(&q).unwrap(), -1.5);
        assert_eq!(t.get(&vec![1; order]).unwrap(), 0.0);
    }
}

/// Even order with a dominant negative weight: `T = −e₁^{⊗4} + 0.3·e₂^{⊗4}` in ℝ¹⁰. Both
/// components attract the power map alike (|⟨aᵢ,u⟩| evolves the same way whatever the sign of
/// λᵢ); about a third of random starts reach e₂. The starts must be ranked by |T(u,…,u)|, so the
/// first component found is (−1, ±e₁) and the second (0.3, ±e₂), to 1e-8. Ranking by the signed
/// value picked e₂ first whenever one of the 10 starts reached it (≈ 99 % of seeds).
#[test]
fn even_order_ranks_starts_by_magnitude_so_negative_weights_come_first() {
    let n = 10;
    let unit = |i: usize| {
        (0..n)
            .map(|k| if k == i { 1.0 } else { 0.0 })
            .collect::<Vec<f64>>()
    };
    let (a1, a2) = (unit(0), unit(1));
    let t =
        SymmetricTensor::from_components(4, n, &[-1.0, 0.3], &[a1.clone(), a2.clone()]).unwrap();
    let p = PowerParams {
        starts: 10,
        iters: 30,
        refine_iters: 30,
    };
    for seed in 0..5 {
        let d = power_method_exact(&t, 2, &p, Seed::new(seed), Par::Seq).unwrap();
        let m = match_factors(
            4,
            &[-1.0, 0.3],
            &[a1.clone(), a2.clone()],
            &d.weights,
            &d.factors,
        )
        .unwrap();
        assert!(
            (d.weights[0] + 1.0).abs() < 1e-8 && (d.weights[1] - 0.3).abs() < 1e-8,
            "seed {seed}: weights {:?}",
            d.weights
        );
        assert!(
            m.iter().all(|x| x.factor_error < 1e-8),
            "seed {seed}: {m:?}"
        );
    }
}

/// Odd order: the weights are made non-negative by flipping the factor (`λa^{⊗3} = (−λ)(−a)^{⊗3}`).
/// On a random (non-orthogonal) order-3 tensor with no or one power iteration, the value
/// `T(u,u,u)` of the start is negative for about half the seeds; rank 1, so the weight is
/// `T(a,a,a)` of the returned factor itself (no deflation). Pass rule, for 16 seeds × (0 or 1
/// iterations), exact and sketched: the weight is `≥ 0`; for the exact method it equals
/// `T(a,a,a)` recomputed by `contract_all` to `1e-12` relative (the same contraction, up to the
/// summation order); and among the exact runs both signs of `T(u₀,u₀,u₀)` occur (as `T(a,a,a)`
/// with `a` either the start or its negation), so the test does exercise the flip.
#[test]
fn odd_order_weights_are_non_negative_with_the_factor_flipped() {
    let (t, _) = random_tensor(3, 8, 41);
    let mut flipped = 0;
    let mut runs = 0;
    for seed in 0..16 {
        for iters in [0, 1] {
            let p = PowerParams {
                starts: 1,
                iters,
                refine_iters: 0,
            };
            let d = power_method_exact(&t, 1, &p, Seed::new(seed), Par::Seq).unwrap();
            let (w, a) = (d.weights[0], &d.factors[0]);
            assert!(
                w >= 0.0,
                "exact, seed {seed}, {iters} iterations: weight {w}"
            );
            let value = t.contract_all(a, Par::Seq).unwrap();
            assert!(
                (w - value).abs() <= 1e-12 * value.abs(),
                "exact, seed {seed}: weight {w} vs T(a,a,a) = {value}"
            );
            // The start value is recorded before the flip: a negative one was flipped.
            runs += 1;
            if d.components[0].start_values[0] < 0.0 {
                flipped += 1;
            }
            let sp = SketchParams {
                power: p,
                ..Default::default()
            };
            let d = power_method_sketched(&t, 1, &sp, Seed::new(seed), Par::Seq).unwrap();
            assert!(
                d.weights[0] >= 0.0,
                "sketched, seed {seed}, {iters} iterations: weight {}",
                d.weights[0]
            );
        }
    }
    assert!(
        flipped > 0 && flipped < runs,
        "{flipped} of {runs} runs started from a negative value"
    );
}

/// `residual_rel` against the definition `‖T − Σ_j λ_j a_j^{⊗p}‖_F/‖T‖_F`, the difference formed
/// entry by entry over all `n^p` entries, for factors that are *not* orthogonal (the expanded
/// formula's cross terms `λ_jλ_l⟨a_j,a_l⟩^p` only matter then: orthonormal factors make them
/// `δ_jl` whatever the power). A random order-3 and order-4 tensor with three random unit factors
/// and weights of both signs; the residual is of order 1, so the expansion loses no digits beyond
/// its sums: agreement to `1e-10` absolute (the documented accuracy is about `1e-8` when the
/// residual is tiny and the terms cancel).
#[test]
fn residual_rel_matches_the_definition_for_non_orthogonal_factors() {
    for (order, n) in [(3usize, 6usize), (4, 5)] {
        let (t, _) = random_tensor(order, n, 50 + order as u64);
        let factors: Vec<Vec<f64>> = (0..3)
            .map(|j| {
                let v: Vec<f64> = (0..n as u64)
                    .map(|i| gauss(Seed::new(60 + j), 0, i))
                    .collect();
                let nrm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                v.iter().map(|x| x / nrm).collect()
            })
            .collect();
        let weights = [1.5, -0.7, 0.4];
        let got = residual_rel(&t, &weights, &factors, Par::Seq).unwrap();
        let (mut diff2, mut norm2) = (0.0, 0.0);
        let mut idx = vec![0usize; order];
        for lin in 0..n.pow(order as u32) {
            let mut r = lin;
            for k in idx.iter_mut() {
                *k = r % n;
                r /= n;
            }
            let tv = t.get(&idx).unwrap();
            let approx: f64 = weights
                .iter()
                .zip(&factors)
                .map(|(w, a)| w * idx.iter().map(|&k| a[k]).product::<f64>())
                .sum();
            diff2 += (tv - approx) * (tv - approx);
            norm2 += tv * tv;
        }
        let want = (diff2 / norm2).sqrt();
        assert!(
            (got - want).abs() <= 1e-10,
            "order {order}: residual_rel {got} vs definition {want}"
        );
    }
}

/// `2^k` (exact for `−1022 ≤ k ≤ 1023`).
fn pow2(k: i32) -> f64 {
    f64::from_bits(((1023 + k) as u64) << 52)
}

/// The decompositions of one tensor: exact, and sketched with both hashings (small sketches).
fn decompositions(
    t: &SymmetricTensor,
    rank: usize,
) -> Vec<(String, randnla::tensor::CpDecomposition)> {
    let p = PowerParams {
        starts: 4,
        iters: 10,
        refine_iters: 10,
    };
    let mut out = vec![(
        "exact".to_string(),
        power_method_exact(t, rank, &p, Seed::new(11), Par::Seq).unwrap(),
    )];
    for hashing in HASHINGS {
        let sp = SketchParams {
            power: p.clone(),
            sketches: 6,
            sketch_dim: 512,
            hashing,
            ..Default::default()
        };
        let d = power_method_sketched(t, rank, &sp, Seed::new(11), Par::Seq).unwrap();
        out.push((format!("sketched {hashing:?}"), d));
    }
    out
}

/// Asserts that `d` (of `c·T`) has the factors of `d0` (of `T`) to 1e-12, its weights, start
/// values and weight spreads times `c` to a relative 1e-12, and that the residuals agree to 1e-12.
#[allow(clippy::too_many_arguments)]
fn assert_scaled(
    what: &str,
    c: f64,
    t0: &SymmetricTensor,
    d0: &randnla::tensor::CpDecomposition,
    t: &SymmetricTensor,
    d: &randnla::tensor::CpDecomposition,
) {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * y.abs();
    for (j, (a, a0)) in d.factors.iter().zip(&d0.factors).enumerate() {
        let err = a
            .iter()
            .zip(a0)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(err <= 1e-12, "{what}: factor {j} differs by {err:e}");
    }
    for (j, (w, w0)) in d.weights.iter().zip(&d0.weights).enumerate() {
        assert!(
            close(*w, c * w0),
            "{what}: weight {j} {w:e} vs {:e}",
            c * w0
        );
    }
    for (ci, ci0) in d.components.iter().zip(&d0.components) {
        for (v, v0) in ci.start_values.iter().zip(&ci0.start_values) {
            assert!(
                close(*v, c * v0),
                "{what}: start value {v:e} vs {:e}",
                c * v0
            );
        }
        if let (Some(s), Some(s0)) = (ci.weight_spread, ci0.weight_spread) {
            assert!(close(s, c * s0), "{what}: spread {s:e} vs {:e}", c * s0);
        }
    }
    let r0 = residual_rel(t0, &d0.weights, &d0.factors, Par::Seq).unwrap();
    let r = residual_rel(t, &d.weights, &d.factors, Par::Seq).unwrap();
    assert!((r - r0).abs() <= 1e-12, "{what}: residual {r} vs {r0}");
}

/// The power method is homogeneous: `2^k·T` has the factors of `T` and the weights times `2^k`.
/// Its norms square the entries, which at `k = −700` underflow to 0 and at `k = 520` overflow
/// (the factors came back as the random starts, the residual as 0 or an error). Pass rule, for a
/// dense order-3 and a coordinate order-4 tensor at `k ∈ {−700, 0, 520}`, exact and sketched
/// (both hashings): factors equal to those at `k = 0` to 1e-12; weights, start values and
/// spreads `2^k` times, to a relative 1e-12; `residual_rel` equal to 1e-12; `norm`,
/// `contract_but_one` and `contract_all` of the tensor and of its sketches `2^k` times.
#[test]
fn power_of_two_scales_give_the_same_factors_and_scaled_weights() {
    let (t3, _, _) = SymmetricTensor::synthetic_orthogonal(3, 8, 2, 0.05, Seed::new(5)).unwrap();
    let (t4, _, _) = SymmetricTensor::synthetic_orthogonal(4, 6, 2, 0.05, Seed::new(6)).unwrap();
    let t4 = to_coordinate(&t4);
    for t0 in [t3, t4] {
        let (order, n) = (t0.order(), t0.dim());
        let u: Vec<f64> = (0..n).map(|i| 0.2 + (i as f64 * 0.9).cos()).collect();
        let d0 = decompositions(&t0, 2);
        for k in [-700, 0, 520] {
            let c = pow2(k);
            let (mut idx, mut val) = (Vec::new(), Vec::new());
            t0.for_each_entry(|i, v| {
                idx.extend(i.iter().map(|&x| x as usize));
                val.push(v * c);
            });
            let t = if t0.is_dense() {
                SymmetricTensor::dense(order, n, val).unwrap()
            } else {
                SymmetricTensor::coordinate(order, n, &idx, &val).unwrap()
            };
            let what = format!("order {order} dense={} k={k}", t.is_dense());
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * y.abs();
            assert!(
                close(t.norm(), c * t0.norm()),
                "{what}: norm {:e}",
                t.norm()
            );
            let z = t.contract_but_one(&u, Par::Seq).unwrap();
            let z0 = t0.contract_but_one(&u, Par::Seq).unwrap();
            assert!(z.iter().zip(&z0).all(|(x, y)| close(*x, c * y)), "{what}");
            let v = t.contract_all(&u, Par::Seq).unwrap();
            assert!(
                close(v, c * t0.contract_all(&u, Par::Seq).unwrap()),
                "{what}"
            );
            for hashing in HASHINGS {
                let sk = |t: &SymmetricTensor| {
                    TensorSketches::with_hashing(t, 3, 64, hashing, Seed::new(2), Par::Seq).unwrap()
                };
                let (mut s, mut s0) = (sk(&t), sk(&t0));
                s.deflate(0.5 * c, &u, Par::Seq).unwrap();
                s0.deflate(0.5, &u, Par::Seq).unwrap();
                let z = s.contract_but_one(&u, Par::Seq).unwrap();
                let z0 = s0.contract_but_one(&u, Par::Seq).unwrap();
                assert!(
                    z.iter().zip(&z0).all(|(x, y)| close(*x, c * y)),
                    "{what} {hashing:?}"
                );
                let v = s.contract_all(&u, Par::Seq).unwrap();
                assert!(
                    close(v, c * s0.contract_all(&u, Par::Seq).unwrap()),
                    "{what}"
                );
                let ts = s.tensor_sketch(1).unwrap();
                let ts0 = s0.tensor_sketch(1).unwrap();
                assert!(ts.iter().zip(&ts0).all(|(x, y)| close(*x, c * y)), "{what}");
            }
            for ((name, d), (_, d0)) in decompositions(&t, 2).iter().zip(&d0) {
                assert_scaled(&format!("{what} {name}"), c, &t0, d0, &t, d);
            }
        }
    }
}

/// The review's `.tns` files: `1 1 1 c` and `2 2 2 c` (`T = c·(e₁^{⊗3} + e₂^{⊗3})`). At
/// `c = 1e160` the squares overflowed and the sketched method reported residual 0 with the
/// factor `[0.979, −0.206]`, neither component; at `c = 1e-200` they underflowed and the
/// residual called the tensor empty. `c` is no power of two, so the reference is the same file
/// with `m = c·2⁻ᵉ ∈ [½, 1)` (the two weights are equal, and which component a start reaches
/// can turn on a rounding). Pass rule, coordinate and dense storage, exact and sketched (both
/// hashings): the factors of the reference to 1e-12, the weights, start values and spreads `2ᵉ`
/// times to a relative 1e-12, and the residuals equal to 1e-12; the factor is ±e₁ or ±e₂ and the
/// weight `c` to 1e-12, the residual `1/√2`, the norm `√2·c`.
#[test]
fn two_component_tns_at_1e160_and_1e_minus_200() {
    let read = |c: f64, storage| {
        read_tns_as(format!("1 1 1 {c:e}\n2 2 2 {c:e}\n").as_bytes(), storage).unwrap()
    };
    for storage in [TnsStorage::Coordinate, TnsStorage::Dense] {
        for c in [1e160f64, 1e-200] {
            let e = c.log2().floor() as i32 + 1;
            let m = c * pow2(-e);
            assert!((0.5..1.0).contains(&m), "{m}");
            let (t, t_ref) = (read(c, storage), read(m, storage));
            let norm = t.norm();
            assert!(
                (norm - std::f64::consts::SQRT_2 * c).abs() <= 1e-12 * norm,
                "{norm:e}"
            );
            let d_ref = decompositions(&t_ref, 1);
            for ((name, d), (_, d0)) in decompositions(&t, 1).iter().zip(&d_ref) {
                let what = format!("c={c:e} {storage:?} {name}");
                assert_scaled(&what, pow2(e), &t_ref, d0, &t, d);
                let a = &d.factors[0];
                let unit = |i: usize| (a[i].abs() - 1.0).abs() < 1e-12 && a[1 - i].abs() < 1e-12;
                assert!(unit(0) || unit(1), "{what}: factor {a:?}");
                assert!(
                    (d.weights[0] / c - 1.0).abs() < 1e-12,
                    "{what}: {:e}",
                    d.weights[0]
                );
                let r = residual_rel(&t, &d.weights, &d.factors, Par::Seq).unwrap();
                assert!(
                    (r - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12,
                    "{what}: {r}"
                );
            }
        }
    }
}

/// The review's one-line order-12 file `1 2 3 4 5 6 7 8 9 10 1 1 1.0` expands to
/// 12!/3! = 79 833 600 permutations: fewer than the old 2²⁸-entry limit, but 72 bytes each while
/// they are built (48 of indices, 8 of value, 16 of sort buffer), 5.7 GB: it took 54 s and
/// aborted under a 4 GB address-space limit. Pass rule: `read_tns` and `coordinate` return
/// `TooLarge` counting those bytes against `MAX_COORDINATE_BYTES`, before allocating (the test
/// would take gigabytes and seconds otherwise); dense storage (`10¹²` entries) is refused too.
#[test]
fn order12_one_line_file_is_too_large_not_an_abort() {
    let text = "1 2 3 4 5 6 7 8 9 10 1 1 1.0\n";
    let want = 79_833_600u128 * (4 * 12 + 8 + 16);
    let check = |r: Result<SymmetricTensor, Error>| match r {
        Err(Error::TooLarge {
            requested, limit, ..
        }) => {
            assert_eq!(requested, want);
            assert_eq!(limit, randnla::tensor::MAX_COORDINATE_BYTES as u128);
        }
        other => panic!("{:?}", other.map(|t| t.nnz())),
    };
    check(read_tns(text.as_bytes()));
    check(read_tns_as(text.as_bytes(), TnsStorage::Auto));
    let idx: Vec<usize> = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0];
    check(SymmetricTensor::coordinate(12, 10, &idx, &[1.0]));
    assert!(matches!(
        read_tns_as(text.as_bytes(), TnsStorage::Dense),
        Err(Error::TooLarge { .. })
    ));
    // 0.72 GB is within the limit: 12!/(3!·2!·2!·2!) = 9 979 200 permutations of a one-line
    // file at 72 bytes each: built, every permutation stored.
    let t = read_tns("1 1 1 2 2 3 3 4 4 5 6 7 1.0\n".as_bytes()).unwrap();
    assert_eq!(t.nnz(), 9_979_200);
    assert_eq!(t.get(&[6, 5, 4, 3, 3, 2, 2, 1, 1, 0, 0, 0]).unwrap(), 1.0);
}

/// Entries near the largest `f64`: symmetrizing sums up to `p!` of them (the sum overflowed to
/// an infinite entry), a sum of components can overflow (it was stored as infinite), synthetic
/// noise of `f64::MAX` overflowed to infinite entries, and a residual whose terms overflow was
/// reported as 0. Pass rule: the symmetrized tensor is finite with the exact average; the others
/// are errors.
#[test]
fn overflowing_entries_are_averaged_exactly_or_errors() {
    let big = 1.5e308;
    let mut data = vec![0.0; 8];
    data[1] = big; // (0,0,1)
    data[2] = big; // (0,1,0)
    data[4] = big * 0.5; // (1,0,0)
    let t = SymmetricTensor::dense_symmetrized(3, 2, data).unwrap();
    let want = (big / 3.0) * 2.5;
    for idx in [[0, 0, 1], [0, 1, 0], [1, 0, 0]] {
        let v = t.get(&idx).unwrap();
        assert!((v - want).abs() <= 1e-15 * want, "{v:e} vs {want:e}");
    }
    // √3·1.25e308: the norm itself is beyond the f64 range.
    assert_eq!(t.norm(), f64::INFINITY);
    assert!(matches!(
        SymmetricTensor::from_components(3, 2, &[1e308], &[vec![2.0, 0.0]]),
        Err(Error::NonFinite { .. })
    ));
    assert!(SymmetricTensor::synthetic_orthogonal(3, 5, 2, f64::MAX, Seed::new(0)).is_err());
    // Components far beyond the tensor's scale: an error. Two that cancel exactly (their sum
    // is the zero tensor, so the residual is exactly 1) are summed entry by entry for dense
    // storage and give that 1; the expanded formula of coordinate storage overflows in its
    // terms and says so.
    let (t, _) = random_tensor(3, 4, 3);
    assert!(t.is_dense());
    let a = vec![0.5; 4];
    let r = residual_rel(&t, &[1e300], std::slice::from_ref(&a), Par::Seq);
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    let pair = [a.clone(), a];
    let r = residual_rel(&t, &[1e300, -1e300], &pair, Par::Seq).unwrap();
    assert!((r - 1.0).abs() <= 1e-15, "{r}");
    let (mut idx, mut val) = (Vec::new(), Vec::new());
    t.for_each_entry(|i, v| {
        if i.windows(2).all(|w| w[0] <= w[1]) {
            idx.extend(i.iter().map(|&k| k as usize));
            val.push(v);
        }
    });
    let coo = SymmetricTensor::coordinate(3, 4, &idx, &val).unwrap();
    let r = residual_rel(&coo, &[1e300, -1e300], &pair, Par::Seq);
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
}

/// The reported `weight_spread` is a standard-error proxy: over 30 sketch seeds on one tensor,
/// the median reported spread of the largest weight and the empirical standard deviation of
/// that weight agree within a factor of 2 (pass rule; the proxy's `1/√B` is a factor √B ≈ 3.7
/// here, so a spread that forgot it fails).
#[test]
fn weight_spread_matches_the_spread_of_the_weight_over_sketch_seeds() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 50, 2, 0.05, Seed::new(7)).unwrap();
    let mut weights = Vec::new();
    let mut spreads = Vec::new();
    for s in 0..30 {
        let d = power_method_sketched(
            &t,
            2,
            &SketchParams::default(),
            Seed::new(100 + s),
            Par::Seq,
        )
        .unwrap();
        let j = if d.weights[0] >= d.weights[1] { 0 } else { 1 };
        weights.push(d.weights[j]);
        spreads.push(d.components[j].weight_spread.unwrap());
    }
    let mean = weights.iter().sum::<f64>() / 30.0;
    let std = (weights.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / 29.0).sqrt();
    spreads.sort_by(f64::total_cmp);
    let reported = 0.5 * (spreads[14] + spreads[15]);
    let ratio = reported / std;
    eprintln!("mean {mean:.4}, std {std:.5}, median spread {reported:.5}, ratio {ratio:.3}");
    assert!((0.5..=2.0).contains(&ratio), "ratio {ratio}");
}

/// An exact decomposition has residual 0 up to rounding: for dense storage `residual_rel` sums
/// the differences entry by entry (pass rule ≤ 1e-14 for `T = Σ_j λ_j a_j^{⊗p}` built by
/// `from_components`, whose entries carry one rounding each), where the expanded formula
/// cancelled to ≈ 1e-8 (1.3e-8 on an exactly rank-2 tensor); the coordinate storage of the same
/// tensor keeps that formula and its documented ≈ 1e-8 accuracy (pass rule ≤ 1e-6). The dense
/// figure is bitwise the same on 1 and 2 threads.
#[test]
fn residual_rel_of_an_exact_decomposition_is_rounding_for_dense_storage() {
    for (order, n) in [(3usize, 40usize), (4, 9)] {
        let factors: Vec<Vec<f64>> = (0..2)
            .map(|j| {
                (0..n as u64)
                    .map(|i| gauss(Seed::new(70 + j), 0, i))
                    .collect()
            })
            .collect();
        let weights = [2.0, -0.5];
        let t = SymmetricTensor::from_components(order, n, &weights, &factors).unwrap();
        assert!(t.is_dense());
        let dense = residual_rel(&t, &weights, &factors, Par::Seq).unwrap();
        assert!(dense <= 1e-14, "order {order}: dense residual {dense:e}");
        assert_eq!(
            dense.to_bits(),
            residual_rel(&t, &weights, &factors, Par::rayon(2))
                .unwrap()
                .to_bits()
        );
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        t.for_each_entry(|i, v| {
            if i.windows(2).all(|w| w[0] <= w[1]) {
                idx.extend(i.iter().map(|&k| k as usize));
                val.push(v);
            }
        });
        let coo = SymmetricTensor::coordinate(order, n, &idx, &val).unwrap();
        let expanded = residual_rel(&coo, &weights, &factors, Par::Seq).unwrap();
        assert!(
            expanded <= 1e-6,
            "order {order}: coordinate residual {expanded:e}"
        );
    }
}

/// `match_factors` away from exact matches (the recovery tests rest on it; its doc example checks
/// only exact ones). True components `2·a^{⊗p} + b^{⊗p}` with `a = e₀`, `b = e₁`; found, in the
/// other order: `b̂ = −b` with weight −1.2 and `â = (a + 0.1·e₂)/‖·‖` with weight 2.1, plus an
/// unrelated third component. Expected, by hand: `â`'s error `‖a − â‖ = √(2 − 2/√1.01)`, weight
/// error 0.05; `b̂`'s factor error 0 up to sign; its weight error at odd order (the sign moves
/// into the weight: 1.2 against 1) 0.2, at even order (`(−b)^{⊗4} = b^{⊗4}`, no flip: −1.2
/// against 1) 2.2; the third component matched to nothing. With one found component for two
/// true ones, the unmatched truth gets `found = usize::MAX` and infinite errors.
#[test]
fn match_factors_reports_errors_of_inexact_matches_by_hand() {
    let e = |i: usize| {
        (0..3)
            .map(|j| f64::from(u8::from(i == j)))
            .collect::<Vec<f64>>()
    };
    let (a, b) = (e(0), e(1));
    let norm = 1.01f64.sqrt();
    let a_hat = vec![1.0 / norm, 0.0, 0.1 / norm];
    let b_hat: Vec<f64> = b.iter().map(|x| -x).collect();
    let other = vec![0.0, 0.0, 1.0];
    let want_a = (2.0 - 2.0 / norm).sqrt();
    for (order, b_weight_error) in [(3, 0.2), (4, 2.2)] {
        let m = match_factors(
            order,
            &[2.0, 1.0],
            &[&a, &b],
            &[-1.2, 2.1, 0.5],
            &[&b_hat, &a_hat, &other],
        )
        .unwrap();
        assert_eq!((m[0].found, m[1].found), (1, 0), "order {order}: {m:?}");
        // 1 − 1/√1.01 ≈ 0.005 cancels about 8 bits, in the function's sum as in `want_a`.
        assert!((m[0].factor_error - want_a).abs() < 1e-13, "{m:?}");
        assert!((m[0].weight_rel_error - 0.05).abs() < 1e-15, "{m:?}");
        assert_eq!(m[1].factor_error, 0.0, "{m:?}");
        assert!(
            (m[1].weight_rel_error - b_weight_error).abs() < 1e-15,
            "order {order}: {m:?}"
        );
    }
    let m = match_factors(3, &[2.0, 1.0], &[&a, &b], &[2.1], &[&a_hat]).unwrap();
    assert_eq!((m[0].found, m[1].found), (0, usize::MAX));
    assert!(m[1].factor_error.is_infinite() && m[1].weight_rel_error.is_infinite());
}

/// The default sketch shape of a very large `n` (`2²⁶`, one stored entry) needs `30·3·2²⁶`
/// hashes, beyond the `2²⁷` limit: the refusal must say which count is over and what to change
/// (a user's review found only "30 sketches of size 262144 (and their hash tables)").
#[test]
fn an_oversized_default_sketch_names_the_parameters_to_change() {
    let t = read_tns(std::io::Cursor::new(b"67108864 1 1 1.0\n".to_vec())).unwrap();
    let err =
        power_method_sketched(&t, 1, &SketchParams::default(), Seed::new(1), Par::Seq).unwrap_err();
    let Error::TooLarge { what, .. } = &err else {
        panic!("{err:?}")
    };
    for piece in [
        "SketchParams::sketches",
        "sketch_dim",
        "shared hashing",
        "hashes",
    ] {
        assert!(what.contains(piece), "{piece:?} missing: {what}");
    }
}
