//! Second-pass review of the tensor power methods (`src/tensor/{power,sketched,symmetric,
//! pairing}.rs`, `examples/tensor_power.rs`; ALGORITHMS.md §7): the sketched method against the
//! exact one on small tensors, degenerate inputs (zero tensor, rank above the dimension, order 2,
//! `n = 1`), extreme scales, the smallest sketches, parameters and documented errors, thread
//! invariance on coordinate storage, and the command line's option checks.

use crate::common;

use common::{example, with_threads};
use faer::Par;
use randnla::tensor::{
    match_factors, power_method_exact, power_method_on_sketches, power_method_sketched,
    residual_rel, CpDecomposition, ModeHashing, PowerParams, SketchParams, SymmetricTensor,
    TensorSketches,
};
use randnla::{Error, Seed};
use std::process::{Command, Output};

fn params(starts: usize, iters: usize, refine_iters: usize) -> PowerParams {
    PowerParams {
        starts,
        iters,
        refine_iters,
    }
}

/// `2^k` for `−1074 ≤ k ≤ 1023`, exactly.
fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        f64::from_bits(((1023 + k) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// The entries `(indices, value)` with non-decreasing indices (each multi-index once), times `c`.
fn unique_entries(t: &SymmetricTensor, c: f64) -> (Vec<usize>, Vec<f64>) {
    let (mut idx, mut val) = (Vec::new(), Vec::new());
    t.for_each_entry(|i, v| {
        if i.windows(2).all(|w| w[0] <= w[1]) {
            idx.extend(i.iter().map(|&k| k as usize));
            val.push(v * c);
        }
    });
    (idx, val)
}

/// Every value of a decomposition (weights, factors, start values, spreads, changes) as bits.
fn all_bits(d: &CpDecomposition) -> Vec<u64> {
    let mut v: Vec<u64> = d
        .weights
        .iter()
        .chain(d.factors.iter().flatten())
        .map(|x| x.to_bits())
        .collect();
    for c in &d.components {
        v.extend(c.start_values.iter().map(|x| x.to_bits()));
        v.push(c.final_change.to_bits());
        v.push(c.weight_spread.map_or(0, f64::to_bits));
        v.push(c.best_start as u64);
    }
    v
}

fn sketch_params(hashing: ModeHashing) -> SketchParams {
    SketchParams {
        hashing,
        ..Default::default()
    }
}

/// ALGORITHMS.md §7's acceptance rule (factor within 0.05 up to sign, weight within 5 %) on the
/// small tensors the acceptance test does not reach: orders 3–5, `n ∈ {2, 3, 6}`, rank 2, noise
/// 0.01, three seeds each, default parameters (automatic shape, `Auto` hashing, and per-mode
/// hashing explicitly; the shared hash at order 3, where it is unbiased). Also against the exact
/// method from the same starts: factors within 0.05 of the exact ones and weights within 5 %.
/// (Measured worst over 8 seeds: factor 0.031, weight 0.028 at order 4, `n = 8`; 0.054 / 0.040
/// at order 5, `n = 8`, which is why `n = 6` is the largest size here; the largest error of
/// this test is 0.032.)
#[test]
fn sketched_matches_exact_on_small_tensors_orders_3_to_5() {
    for order in [3usize, 4, 5] {
        for n in [2usize, 3, 6] {
            for seed in 0..3u64 {
                let (t, w, a) =
                    SymmetricTensor::synthetic_orthogonal(order, n, 2, 0.01, Seed::new(seed))
                        .unwrap();
                let ex =
                    power_method_exact(&t, 2, &PowerParams::default(), Seed::new(seed), Par::Seq)
                        .unwrap();
                let hashings: &[ModeHashing] = if order == 3 {
                    &[ModeHashing::Auto, ModeHashing::PerMode, ModeHashing::Shared]
                } else {
                    &[ModeHashing::Auto, ModeHashing::PerMode]
                };
                for &h in hashings {
                    let sk =
                        power_method_sketched(&t, 2, &sketch_params(h), Seed::new(seed), Par::Seq)
                            .unwrap();
                    let what = format!("p={order} n={n} seed={seed} {h:?} {:?}", sk.sketch_shape);
                    for m in match_factors(order, &w, &a, &sk.weights, &sk.factors).unwrap() {
                        assert!(
                            m.factor_error <= 0.05 && m.weight_rel_error <= 0.05,
                            "{what}: against the truth {m:?}"
                        );
                    }
                    let vs_exact =
                        match_factors(order, &ex.weights, &ex.factors, &sk.weights, &sk.factors)
                            .unwrap();
                    for m in vs_exact {
                        assert!(
                            m.factor_error <= 0.05 && m.weight_rel_error <= 0.05,
                            "{what}: against the exact method {m:?}"
                        );
                    }
                }
            }
        }
    }
}

/// Above order 5 the automatic shape is documented to fall short of 0.05 (`SketchParams::resolve`:
/// worst 0.076 / 0.091 at order 8, 0.096 / 0.119 at order 9 over 8 seeds) but to stay in range.
/// Pass rule, orders 6 and 8 at `n = 4` and order 12 at `n = 2`, two seeds: every factor within
/// 0.15 and every weight within 15 % (the largest errors here: 0.054, 0.109 and 0.032).
#[test]
fn high_orders_stay_within_the_documented_range() {
    for (order, n) in [(6usize, 4usize), (8, 4), (12, 2)] {
        for seed in 0..2u64 {
            let (t, w, a) =
                SymmetricTensor::synthetic_orthogonal(order, n, 2, 0.01, Seed::new(seed)).unwrap();
            let sk =
                power_method_sketched(&t, 2, &SketchParams::default(), Seed::new(seed), Par::Seq)
                    .unwrap();
            for m in match_factors(order, &w, &a, &sk.weights, &sk.factors).unwrap() {
                assert!(
                    m.factor_error <= 0.15 && m.weight_rel_error <= 0.15,
                    "p={order} n={n} seed={seed} {:?}: {m:?}",
                    sk.sketch_shape
                );
            }
        }
    }
}

/// The zero tensor (every entry 0, dense or coordinate, orders 3 and 4): both methods return
/// `Ok` with weights exactly 0, unit factors (the first random start: the power map has no
/// step) and `final_change = NaN`, as `power_method_exact` documents; `residual_rel` refuses it
/// as `Empty` with a message that says the entries are zero (it said "at least one entry is
/// required" of a tensor that has entries).
#[test]
fn zero_tensor_gives_zero_weights_and_a_residual_error_that_says_why() {
    for order in [3usize, 4] {
        let n = 4;
        let dense = SymmetricTensor::dense(order, n, vec![0.0; n.pow(order as u32)]).unwrap();
        let coo = SymmetricTensor::coordinate(order, n, &vec![1; order], &[0.0]).unwrap();
        for t in [dense, coo] {
            let ex = power_method_exact(&t, 2, &params(3, 4, 4), Seed::new(1), Par::Seq).unwrap();
            let mut runs = vec![ex];
            for h in [ModeHashing::PerMode, ModeHashing::Shared] {
                let sp = SketchParams {
                    power: params(3, 4, 4),
                    ..sketch_params(h)
                };
                runs.push(power_method_sketched(&t, 2, &sp, Seed::new(1), Par::Seq).unwrap());
            }
            for d in &runs {
                let what = format!("p={order} dense={} {:?}", t.is_dense(), d.method);
                assert_eq!(d.weights, vec![0.0, 0.0], "{what}");
                for (f, c) in d.factors.iter().zip(&d.components) {
                    let norm: f64 = f.iter().map(|x| x * x).sum::<f64>().sqrt();
                    assert!((norm - 1.0).abs() < 1e-15, "{what}: |factor| = {norm}");
                    assert!(c.final_change.is_nan(), "{what}: {c:?}");
                    assert_eq!(c.best_start, 0, "{what}");
                    assert!(c.start_values.iter().all(|&v| v == 0.0), "{what}");
                }
            }
            // The exact and sketched methods start from the same points.
            assert_eq!(runs[0].factors, runs[1].factors);
            let err = residual_rel(&t, &[0.0], &[vec![0.5; n]], Par::Seq).unwrap_err();
            assert!(matches!(err, Error::Empty { .. }), "{err:?}");
            assert!(err.to_string().contains("every entry is zero"), "{err}");
        }
    }
}

/// Order 2 (a symmetric matrix), and orders 0, 1 and 13, are `InvalidParameter { name: "order" }`;
/// order 2's message points to an eigensolver.
#[test]
fn orders_outside_3_to_12_are_refused_by_name() {
    for order in [0usize, 1, 2, 13] {
        let len = 2usize.pow(order as u32);
        for r in [
            SymmetricTensor::dense(order, 2, vec![1.0; len]).map(|_| ()),
            SymmetricTensor::coordinate(order, 2, &vec![0; order], &[1.0]).map(|_| ()),
            SymmetricTensor::synthetic_orthogonal(order, 2, 1, 0.0, Seed::new(0)).map(|_| ()),
        ] {
            match r {
                Err(Error::InvalidParameter {
                    name: "order",
                    reason,
                }) => {
                    assert!(reason.contains("3..=12"), "{reason}");
                    if order == 2 {
                        assert!(reason.contains("eigensolver"), "{reason}");
                    }
                }
                other => panic!("order {order}: {other:?}"),
            }
        }
    }
}

/// Rank above the dimension (`n = 3`, an exactly rank-2 tensor, 6 components asked for), orders
/// 3 and 4, exact and both hashings: the first two components are the true ones (factor and
/// weight to 1e-10), the other four have weights below 1e-12 (rounding; measured ≤ 2e-15).
/// The same at `n = 1` (`T = [−2.5]`), where every component after the first is rounding too.
#[test]
fn rank_above_the_dimension_gives_rounding_weights() {
    let a = vec![vec![0.6, 0.8, 0.0], vec![-0.8, 0.6, 0.0]];
    for order in [3usize, 4] {
        let t = SymmetricTensor::from_components(order, 3, &[1.0, 0.5], &a).unwrap();
        let mut runs =
            vec![
                power_method_exact(&t, 6, &PowerParams::default(), Seed::new(1), Par::Seq).unwrap(),
            ];
        for h in [ModeHashing::PerMode, ModeHashing::Shared] {
            runs.push(
                power_method_sketched(&t, 6, &sketch_params(h), Seed::new(1), Par::Seq).unwrap(),
            );
        }
        for d in &runs {
            let what = format!("p={order} {:?} {:?}", d.method, d.weights);
            for m in
                match_factors(order, &[1.0, 0.5], &a, &d.weights[..2], &d.factors[..2]).unwrap()
            {
                assert!(
                    m.factor_error < 1e-10 && m.weight_rel_error < 1e-10,
                    "{what}: {m:?}"
                );
            }
            assert!(d.weights[2..].iter().all(|w| w.abs() < 1e-12), "{what}");
        }
        let one = SymmetricTensor::dense(order, 1, vec![-2.5]).unwrap();
        let d = power_method_sketched(&one, 3, &SketchParams::default(), Seed::new(1), Par::Seq)
            .unwrap();
        // Odd order: the factor is flipped to make the weight positive.
        let want = if order % 2 == 1 { 2.5 } else { -2.5 };
        assert!((d.weights[0] - want).abs() < 1e-12, "{:?}", d.weights);
        assert!((d.factors[0][0] * d.factors[0][0] - 1.0).abs() < 1e-15);
        assert!(
            d.weights[1..].iter().all(|w| w.abs() < 1e-12),
            "{:?}",
            d.weights
        );
    }
}

/// Scales `2^±500` and subnormal entries. The tensor is built with its largest entry in `[½, 1)`,
/// so that the internal power-of-two scaling of `2^k·T` (`k = ±500`) restores it exactly: the
/// factors are bitwise those of `T` and the weights, start values and spreads exactly `2^k`
/// times (exact, both hashings, dense order 3 and coordinate order 4, 1 and 2 threads). At
/// `k = −1040` the entries are subnormal (about 33 significant bits): factors within 1e-8, weights
/// within a relative 1e-8 of `2^k` times those of `T`, and `residual_rel` equal to 1e-8.
#[test]
fn scales_2_pm_500_are_exact_and_subnormal_entries_work() {
    let (t3, _, _) = SymmetricTensor::synthetic_orthogonal(3, 6, 2, 0.05, Seed::new(11)).unwrap();
    let (t4, _, _) = SymmetricTensor::synthetic_orthogonal(4, 4, 2, 0.05, Seed::new(12)).unwrap();
    for (t, coordinate) in [(t3, false), (t4, true)] {
        let order = t.order();
        let n = t.dim();
        // Largest entry into [½, 1): a power of two, so the tensor is otherwise unchanged.
        let max = unique_entries(&t, 1.0)
            .1
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let e = max.log2().floor() as i32 + 1;
        let build = |k: i32| {
            let (idx, val) = unique_entries(&t, pow2(k - e));
            if coordinate {
                SymmetricTensor::coordinate(order, n, &idx, &val).unwrap()
            } else {
                SymmetricTensor::dense_from_entries(order, n, &idx, &val).unwrap()
            }
        };
        let power = params(3, 5, 5);
        let small = |h| SketchParams {
            power: power.clone(),
            sketches: 4,
            sketch_dim: 64,
            hashing: h,
            ..Default::default()
        };
        let run = |x: &SymmetricTensor, par: Par| -> Vec<CpDecomposition> {
            vec![
                power_method_exact(x, 2, &power, Seed::new(3), par).unwrap(),
                power_method_sketched(x, 2, &small(ModeHashing::PerMode), Seed::new(3), par)
                    .unwrap(),
                power_method_sketched(x, 2, &small(ModeHashing::Shared), Seed::new(3), par)
                    .unwrap(),
            ]
        };
        let base_t = build(0);
        let base = run(&base_t, Par::Seq);
        for k in [-500, 500] {
            let x = build(k);
            let c = pow2(k);
            for threads in [1, 2] {
                let got = with_threads(threads, |par| run(&x, par));
                for (g, b) in got.iter().zip(&base) {
                    let what = format!("p={order} k={k} threads={threads} {:?}", b.method);
                    // `CpDecomposition` is `non_exhaustive`: changed from a clone.
                    let mut scaled = b.clone();
                    scaled.weights = b.weights.iter().map(|w| w * c).collect();
                    for ci in &mut scaled.components {
                        ci.start_values.iter_mut().for_each(|v| *v *= c);
                        ci.weight_spread = ci.weight_spread.map(|s| s * c);
                    }
                    assert_eq!(all_bits(g), all_bits(&scaled), "{what}");
                }
            }
        }
        // Subnormal entries.
        let k = -1040;
        let x = build(k);
        let mut largest = 0.0f64;
        x.for_each_entry(|_, v| largest = largest.max(v.abs()));
        assert!(
            largest < f64::MIN_POSITIVE,
            "entries {largest:e} are not subnormal"
        );
        let got = run(&x, Par::Seq);
        for (g, b) in got.iter().zip(&base) {
            let what = format!("p={order} subnormal {:?}", b.method);
            for (fg, fb) in g.factors.iter().zip(&b.factors) {
                let d = fg
                    .iter()
                    .zip(fb)
                    .map(|(p, q)| (p - q).abs())
                    .fold(0.0, f64::max);
                assert!(d < 1e-8, "{what}: factor differs by {d:e}");
            }
            for (wg, wb) in g.weights.iter().zip(&b.weights) {
                let want = wb * pow2(k);
                assert!(
                    (wg - want).abs() <= 1e-8 * want.abs(),
                    "{what}: weight {wg:e} vs {want:e}"
                );
            }
            let rg = residual_rel(&x, &g.weights, &g.factors, Par::Seq).unwrap();
            let rb = residual_rel(&base_t, &b.weights, &b.factors, Par::Seq).unwrap();
            assert!((rg - rb).abs() < 1e-8, "{what}: residual {rg} vs {rb}");
        }
    }
}

/// The smallest sketches (`B ∈ {1, 2}`, `b = 16`, and `b = 16` folded to itself), both hashings,
/// orders 3 and 4, a tensor with `n = 20 > b`: `Ok` with finite weights and unit factors (the
/// estimates are poor at this size, which is the caller's choice). With one sketch the weight's
/// spread is `NaN` — no spread can be measured from one value; it was reported as 0, an exact
/// weight — and with two it is a positive number.
#[test]
fn smallest_sketches_run_and_one_sketch_reports_no_spread() {
    for order in [3usize, 4] {
        let (t, _, _) =
            SymmetricTensor::synthetic_orthogonal(order, 20, 3, 0.1, Seed::new(5)).unwrap();
        for h in [ModeHashing::PerMode, ModeHashing::Shared] {
            for bb in [1usize, 2] {
                let sp = SketchParams {
                    power: params(3, 4, 4),
                    sketches: bb,
                    sketch_dim: 16,
                    search_sketch_dim: 16,
                    hashing: h,
                    ..Default::default()
                };
                let d = power_method_sketched(&t, 3, &sp, Seed::new(2), Par::Seq).unwrap();
                let what = format!("p={order} {h:?} B={bb}");
                assert_eq!(d.sketch_shape, Some((bb, 16)), "{what}");
                assert!(
                    d.weights.iter().all(|w| w.is_finite()),
                    "{what}: {:?}",
                    d.weights
                );
                for f in &d.factors {
                    let norm: f64 = f.iter().map(|x| x * x).sum::<f64>().sqrt();
                    assert!((norm - 1.0).abs() < 1e-14, "{what}: |factor| = {norm}");
                }
                for c in &d.components {
                    let s = c.weight_spread.expect("sketched");
                    if bb == 1 {
                        assert!(s.is_nan(), "{what}: spread {s} from one sketch");
                    } else {
                        assert!(s > 0.0 && s.is_finite(), "{what}: spread {s}");
                    }
                }
            }
        }
    }
}

/// `iters = 0` and `refine_iters = 0` are allowed: the result is the best random start, its
/// weight `T(u₀,…,u₀)` (exact, to rounding), `final_change = NaN`, and
/// `rank·(L + 1)` contractions. `iters = 0` with refinement converges from the best start.
#[test]
fn zero_iterations_return_the_best_start() {
    let (t, w, a) = SymmetricTensor::synthetic_orthogonal(3, 8, 2, 0.0, Seed::new(6)).unwrap();
    let d = power_method_exact(&t, 1, &params(4, 0, 0), Seed::new(6), Par::Seq).unwrap();
    assert_eq!(d.contractions, 4 + 1);
    let c = &d.components[0];
    assert!(c.final_change.is_nan());
    let best = c.start_values[c.best_start].abs();
    assert!(c.start_values.iter().all(|v| v.abs() <= best));
    let v = t.contract_all(&d.factors[0], Par::Seq).unwrap();
    assert!((v - d.weights[0]).abs() <= 1e-14, "{v} vs {:?}", d.weights);
    let d = power_method_exact(&t, 2, &params(4, 0, 30), Seed::new(6), Par::Seq).unwrap();
    for m in match_factors(3, &w, &a, &d.weights, &d.factors).unwrap() {
        assert!(m.factor_error < 1e-8 && m.weight_rel_error < 1e-8, "{m:?}");
    }
}

/// Every parameter error names its parameter, and the sketched method checks them all before
/// it builds the sketches: a `search_sketch_dim` below 16 together with an invalid sketch count
/// names `search_sketch_dim` (it was found only after the build, so the build's error came
/// first — and a valid build cost `O(B·nnz)` before the refusal). The documented `TooLarge`
/// cases are returned: `rank·n > 2²⁸`, `B·b > 2²⁷`, `B·p·n > 2²⁷` hashes.
#[test]
fn parameter_errors_name_the_parameter_before_any_build() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 5, 2, 0.0, Seed::new(0)).unwrap();
    let name_of = |r: randnla::Result<CpDecomposition>| match r {
        Err(Error::InvalidParameter { name, reason }) => {
            assert!(!reason.is_empty());
            name
        }
        other => panic!("expected InvalidParameter, got {other:?}"),
    };
    let big = 1usize << 17;
    for (p, rank, want) in [
        (params(0, 5, 5), 1, "starts"),
        (params(1, big, 5), 1, "iters"),
        (params(1, 5, big), 1, "refine_iters"),
        (params(1, 5, 5), 0, "rank"),
        (params(1, 5, 5), big, "rank"),
    ] {
        assert_eq!(
            name_of(power_method_exact(&t, rank, &p, Seed::new(0), Par::Seq)),
            want
        );
        // With an invalid sketch count too: the power parameters are named first.
        let sp = SketchParams {
            power: p.clone(),
            sketches: 300,
            ..Default::default()
        };
        assert_eq!(
            name_of(power_method_sketched(&t, rank, &sp, Seed::new(0), Par::Seq)),
            want
        );
        let s = TensorSketches::new(&t, 2, 16, Seed::new(0), Par::Seq).unwrap();
        let sp = SketchParams {
            power: p,
            ..Default::default()
        };
        assert_eq!(
            name_of(power_method_on_sketches(
                s,
                rank,
                &sp,
                Seed::new(0),
                Par::Seq
            )),
            want
        );
    }
    let sp = SketchParams {
        sketches: 300,
        search_sketch_dim: 8,
        ..Default::default()
    };
    assert_eq!(
        name_of(power_method_sketched(&t, 1, &sp, Seed::new(0), Par::Seq)),
        "search_sketch_dim"
    );
    // (0 is "automatic" for both.)
    for (sketches, sketch_dim, want) in [
        (257, 16, "sketches"),
        (1, 100, "sketch_dim"),
        (1, 8, "sketch_dim"),
        (1, 1 << 25, "sketch_dim"),
    ] {
        let sp = SketchParams {
            sketches,
            sketch_dim,
            ..Default::default()
        };
        assert_eq!(
            name_of(power_method_sketched(&t, 1, &sp, Seed::new(0), Par::Seq)),
            want
        );
    }
    // TooLarge: the factor matrix, the sketches, the hash tables.
    let wide = SymmetricTensor::coordinate(3, 1 << 13, &[0, 1, 2], &[1.0]).unwrap();
    let r = power_method_exact(
        &wide,
        1 << 16,
        &PowerParams::default(),
        Seed::new(0),
        Par::Seq,
    );
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
    let r = TensorSketches::new(&t, 256, 1 << 20, Seed::new(0), Par::Seq);
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{:?}", r.err());
    let huge = SymmetricTensor::coordinate(3, 1 << 26, &[0, 1, 2], &[1.0]).unwrap();
    let r = TensorSketches::new(&huge, 3, 16, Seed::new(0), Par::Seq);
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{:?}", r.err());
}

/// A weight beyond the `f64` range (`T` with every entry `f64::MAX`: `T(u,u,u) = 2^{3/2}·MAX` at
/// `n = 2`) is `NonFinite`, as documented, for the exact method and both hashings.
#[test]
fn a_weight_beyond_the_f64_range_is_non_finite() {
    let t = SymmetricTensor::dense(3, 2, vec![f64::MAX; 8]).unwrap();
    let r = power_method_exact(&t, 1, &PowerParams::default(), Seed::new(0), Par::Seq);
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    for h in [ModeHashing::PerMode, ModeHashing::Shared] {
        let r = power_method_sketched(&t, 1, &sketch_params(h), Seed::new(0), Par::Seq);
        assert!(matches!(r, Err(Error::NonFinite { .. })), "{h:?}: {r:?}");
    }
    // Half of that fits: the weight is 2^{3/2}·MAX/4 ≈ 0.71·MAX.
    let t = SymmetricTensor::dense(3, 2, vec![f64::MAX / 4.0; 8]).unwrap();
    let d = power_method_exact(&t, 1, &PowerParams::default(), Seed::new(0), Par::Seq).unwrap();
    let want = 8f64.sqrt() * (f64::MAX / 4.0);
    assert!(
        (d.weights[0] - want).abs() <= 1e-14 * want,
        "{:?}",
        d.weights
    );
}

/// Thread invariance where the existing test does not look: coordinate storage with more
/// entries than one contraction task holds (91 125 > 2¹⁵), scaled by `2^-600` (the internal
/// scaling), order 3, rank 4 (deflation), the exact method and both hashings, and `residual_rel`:
/// bitwise equal on 1, 2 and 3 threads, including start values, spreads and changes.
#[test]
fn coordinate_storage_is_thread_invariant_across_tasks() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 45, 3, 0.05, Seed::new(5)).unwrap();
    let mut idx = Vec::new();
    let mut val = Vec::new();
    t.for_each_entry(|i, v| {
        idx.extend(i.iter().map(|&k| k as usize));
        val.push(v * pow2(-600));
    });
    let coo = SymmetricTensor::coordinate(3, 45, &idx, &val).unwrap();
    assert!(coo.nnz() > 1 << 15);
    let sp = SketchParams {
        power: params(3, 4, 4),
        ..Default::default()
    };
    let run = |threads| {
        with_threads(threads, |par| {
            let e = power_method_exact(&coo, 4, &sp.power, Seed::new(2), par).unwrap();
            let r = residual_rel(&coo, &e.weights, &e.factors, par).unwrap();
            let mut bits = all_bits(&e);
            bits.push(r.to_bits());
            for h in [ModeHashing::PerMode, ModeHashing::Shared] {
                let s = SketchParams {
                    hashing: h,
                    ..sp.clone()
                };
                bits.extend(all_bits(
                    &power_method_sketched(&coo, 4, &s, Seed::new(2), par).unwrap(),
                ));
            }
            bits
        })
    };
    let one = run(1);
    assert_eq!(one, run(2), "2 threads");
    assert_eq!(one, run(3), "3 threads");
}

// ---- The command line -------------------------------------------------------------------------

fn run_cli(args: &[&str]) -> Output {
    Command::new(example("tensor_power"))
        .args(args)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("the example starts")
}

fn rejected(args: &[&str]) -> String {
    let out = run_cli(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(
        stderr.starts_with("error: ") && !stderr.contains("panicked"),
        "{stderr}"
    );
    stderr
}

/// The options that only the sketched method reads were accepted and ignored with
/// `--method exact` (`--sketches 4 --hashing shared` ran the exact method and said nothing), and
/// `--storage coordinate` with `--synthetic` reported `"storage":"dense"`: each is now an error
/// naming the option. `--method` is checked before the tensor is built: with a bad method and
/// a bad synthetic spec, the method is what the message names.
#[test]
fn cli_refuses_options_that_do_not_apply() {
    let synth = ["--synthetic", "6,2,0.01,3"];
    for (name, value) in [
        ("sketches", "4"),
        ("sketch-dim", "64"),
        ("search-sketches", "1"),
        ("search-sketch-dim", "16"),
        ("polish-iters", "1"),
        ("hashing", "shared"),
        ("exact-sweeps", "1"),
    ] {
        let opt = format!("--{name}");
        let mut args = synth.to_vec();
        args.extend(["--method", "exact", &opt, value]);
        let msg = rejected(&args);
        assert!(msg.contains(&opt) && msg.contains("exact"), "{msg}");
        // The same option with the sketched method runs.
        let mut args = synth.to_vec();
        args.extend([opt.as_str(), value, "--json"]);
        let out = run_cli(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
    }
    let msg = rejected(&["--synthetic", "6,2,0.01,3", "--storage", "coordinate"]);
    assert!(msg.contains("--storage"), "{msg}");
    let msg = rejected(&["--synthetic", "0,1,0,3", "--method", "exakt"]);
    assert!(msg.contains("--method exakt"), "{msg}");
}

/// A `.tns` tensor whose entries are all 0 ran the decomposition and then exited with code 2
/// and "tensor (zero norm) is empty; at least one entry is required" (from the residual). Now:
/// exit code 0, weights 0, and `residual_rel` null in the JSON (the ratio is 0/0), for both
/// methods.
#[test]
fn cli_zero_tensor_reports_zero_weights_and_no_residual() {
    let dir = std::env::temp_dir().join(format!("randnla-tpr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zero.tns");
    std::fs::write(&path, "1 1 1 0\n2 2 2 0\n1 2 2 0\n").unwrap();
    let p = path.to_string_lossy().into_owned();
    for method in ["exact", "sketch"] {
        let out = run_cli(&["--tns", &p, "--method", method, "--json"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{method}: {out:?}");
        let last = stdout.lines().last().unwrap_or_default();
        assert!(last.contains("\"residual_rel\":null"), "{method}: {last}");
        let out = run_cli(&["--tns", &p, "--method", method, "--rank", "2"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{method}: {out:?}");
        assert!(
            stdout.contains(r#"weights: ["0.0000", "0.0000"]"#),
            "{method}: {stdout}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Factors are unit vectors, also for a component fitted to what deflation leaves: on the
/// `2 × 2 × 2` tensor below (largest entry `1.2·10¹⁶¹`, the others near 1) the third component
/// has weight `1.2·10¹⁴⁵`, and after the tensor is brought to unit scale its power iterates
/// are of size `10⁻¹⁶¹`, whose plain `Σu²` is subnormal: the factor came back with
/// `‖a‖² = 0.9965` (found by the `tensor_power` fuzz target). The second tensor is
/// `dense_symmetrized` (`‖a₂‖²` was `1 + 2.9·10⁻⁶`). Pass rule: `|‖a‖² − 1| ≤ 10⁻¹⁴` for every
/// factor (a normalized vector of 2 entries is unit to a few `u`).
#[test]
fn factors_are_unit_vectors_when_the_iterates_are_tiny() {
    let cases = [
        (
            SymmetricTensor::dense(
                3,
                2,
                vec![
                    1.1950771851551055e161,
                    0.0,
                    0.0,
                    2.6458333333333335,
                    0.0,
                    2.6458333333333335,
                    2.6458333333333335,
                    7.9375,
                ],
            )
            .unwrap(),
            3,
            PowerParams {
                starts: 2,
                iters: 1,
                refine_iters: 3,
            },
        ),
        (
            SymmetricTensor::dense_symmetrized(
                3,
                2,
                vec![1.768626635440475e159, 0.0, 0.0, 0.0, 0.0, 0.0, -1.9375, 0.0],
            )
            .unwrap(),
            2,
            PowerParams {
                starts: 2,
                iters: 3,
                refine_iters: 1,
            },
        ),
    ];
    for (k, (t, rank, params)) in cases.iter().enumerate() {
        let cp = power_method_exact(t, *rank, params, Seed::new(1), Par::Seq).unwrap();
        for (j, a) in cp.factors.iter().enumerate() {
            let sq: f64 = a.iter().map(|v| v * v).sum();
            assert!(
                (sq - 1.0).abs() <= 1e-14,
                "case {k}, factor {j}: ‖a‖² = {sq} (weights {:?})",
                cp.weights
            );
        }
    }
}
