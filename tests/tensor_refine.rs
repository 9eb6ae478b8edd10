//! `tensor::refine_exact`: exact sweeps after the sketched tensor power method (ALGORITHMS.md
//! §7's residual rule, read relatively, is in `spec_review2`).

use crate::common::{section7_sketch_params, to_coordinate, with_threads};
use faer::Par;
use randnla::tensor::{
    match_factors, power_method_exact, power_method_sketched, refine_exact, residual_rel,
    CpDecomposition, ModeHashing, PowerParams, SymmetricTensor,
};
use randnla::{Error, Seed};

/// The sketched method at a small budget (the starts and iterations of `spec_review2`).
fn sketched(t: &SymmetricTensor, rank: usize, hashing: ModeHashing, seed: u64) -> CpDecomposition {
    let sp = section7_sketch_params(hashing);
    power_method_sketched(t, rank, &sp, Seed::new(seed), Par::Seq).unwrap()
}

fn worst_factor_error(t: &SymmetricTensor, w: &[f64], a: &[Vec<f64>], cp: &CpDecomposition) -> f64 {
    match_factors(t.order(), w, a, &cp.weights, &cp.factors)
        .unwrap()
        .iter()
        .map(|m| m.factor_error)
        .fold(0.0, f64::max)
}

/// Near an orthogonal component the power map converges quadratically, and so do the sweeps:
/// on noiseless orthogonal tensors (order 3: n = 50 and 100, rank 10, both hashings; order 4:
/// n = 16, rank 5) the largest factor error after sweep `s + 1` is at most `2·e_s²` while
/// `e_s ≥ 10⁻⁶` (measured: at most `0.7·e_s²`, from `e_0` = 0.028–0.041), and three sweeps
/// more bring it and the relative residual below `10⁻¹²` (the exact method's rounding level).
#[test]
fn sweeps_converge_quadratically_to_the_components() {
    let cases = [
        (3, 50, 10, ModeHashing::Auto),
        (3, 100, 10, ModeHashing::Auto),
        (3, 50, 10, ModeHashing::PerMode),
        (4, 16, 5, ModeHashing::Auto),
    ];
    for (p, n, rank, hashing) in cases {
        let (t, w, a) =
            SymmetricTensor::synthetic_orthogonal(p, n, rank, 0.0, Seed::new(0x70 + n as u64))
                .unwrap();
        let cp = sketched(&t, rank, hashing, 0x70 + n as u64);
        let mut errors = vec![worst_factor_error(&t, &w, &a, &cp)];
        for sweeps in 1..=5 {
            let r = refine_exact(&t, &cp, sweeps, Par::Seq).unwrap();
            errors.push(worst_factor_error(&t, &w, &a, &r));
        }
        eprintln!("p = {p}, n = {n}, {hashing:?}: factor errors by sweeps {errors:?}");
        assert!(
            errors[0] > 0.01,
            "the sketched start is already exact: {errors:?}"
        );
        for s in 0..2 {
            if errors[s] >= 1e-6 {
                assert!(
                    errors[s + 1] <= 2.0 * errors[s] * errors[s],
                    "p = {p}, n = {n}: sweep {}: {errors:?}",
                    s + 1
                );
            }
        }
        let r = refine_exact(&t, &cp, 5, Par::Seq).unwrap();
        let res = residual_rel(&t, &r.weights, &r.factors, Par::Seq).unwrap();
        assert!(
            errors[5] < 1e-12 && res < 1e-12,
            "p = {p}, n = {n}: {errors:?}, residual {res}"
        );
    }
}

/// With noise 0.01 the refined factors are the exact method's, to a small fraction of the
/// noise: against the true components, their largest factor error is within `2·10⁻⁴`
/// (relative) of the exact method's (measured: 1.3·10⁻⁵ and 2.1·10⁻⁵ after two sweeps) and
/// the residual within `10⁻⁷` (measured: equal to 9 digits), where the sketched method alone
/// had 10–25 times the exact factor error.
#[test]
fn refined_factors_match_the_exact_method_under_noise() {
    for (n, hashing) in [(50, ModeHashing::Auto), (100, ModeHashing::PerMode)] {
        let seed = 0x70 + n as u64;
        let (t, w, a) =
            SymmetricTensor::synthetic_orthogonal(3, n, 10, 0.01, Seed::new(seed)).unwrap();
        let power = PowerParams {
            starts: 4,
            iters: 6,
            refine_iters: 6,
        };
        let ex = power_method_exact(&t, 10, &power, Seed::new(seed), Par::Seq).unwrap();
        let sk = sketched(&t, 10, hashing, seed);
        let re = refine_exact(&t, &sk, 2, Par::Seq).unwrap();
        let (e_ex, e_sk, e_re) = (
            worst_factor_error(&t, &w, &a, &ex),
            worst_factor_error(&t, &w, &a, &sk),
            worst_factor_error(&t, &w, &a, &re),
        );
        let res =
            |cp: &CpDecomposition| residual_rel(&t, &cp.weights, &cp.factors, Par::Seq).unwrap();
        let (r_ex, r_re) = (res(&ex), res(&re));
        eprintln!(
            "n = {n}: factor error exact {e_ex:.6e}, sketched {e_sk:.6e}, refined {e_re:.6e}; \
             residual exact {r_ex:.8e}, refined {r_re:.8e}"
        );
        assert!(
            e_sk > 5.0 * e_ex,
            "n = {n}: sketched {e_sk} against exact {e_ex}"
        );
        assert!(
            (e_re - e_ex).abs() <= 2e-4 * e_ex,
            "n = {n}: {e_re} against {e_ex}"
        );
        assert!(
            (r_re - r_ex).abs() <= 1e-7 * r_ex,
            "n = {n}: residual {r_re} against {r_ex}"
        );
    }
}

/// What the result carries: `method`, `sketch_shape`, `best_start`, `start_values` kept;
/// `weight_spread` gone (the weight is exact); `contractions` up by `rank·(sweeps + 1)`;
/// `exact_sweeps` summed over calls; `final_change` the last sweep's step (small near a
/// component), kept when `sweeps = 0`.
#[test]
fn the_result_records_the_refinement() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 30, 4, 0.0, Seed::new(3)).unwrap();
    let cp = sketched(&t, 4, ModeHashing::Auto, 3);
    assert!(cp.components.iter().all(|c| c.weight_spread.is_some()));
    let once = refine_exact(&t, &cp, 2, Par::Seq).unwrap();
    assert_eq!(once.method, cp.method);
    assert_eq!(once.sketch_shape, cp.sketch_shape);
    assert_eq!(once.contractions, cp.contractions + 4 * 3);
    assert_eq!(once.exact_sweeps, 2);
    for (c, c0) in once.components.iter().zip(&cp.components) {
        assert_eq!(
            (c.best_start, &c.start_values),
            (c0.best_start, &c0.start_values)
        );
        assert_eq!(c.weight_spread, None);
        assert!(c.final_change < 1e-3, "{c:?}");
        assert_ne!(c.final_change.to_bits(), c0.final_change.to_bits());
    }
    let twice = refine_exact(&t, &once, 0, Par::Seq).unwrap();
    assert_eq!(twice.exact_sweeps, 2);
    assert_eq!(twice.contractions, once.contractions + 4);
    for (c, c0) in twice.components.iter().zip(&once.components) {
        assert_eq!(c.final_change.to_bits(), c0.final_change.to_bits());
    }
    let thrice = refine_exact(&t, &twice, 1, Par::Seq).unwrap();
    assert_eq!(thrice.exact_sweeps, 3);
}

/// `sweeps = 0` leaves the factors and makes each weight the exact
/// `T(u_j,…,u_j) − Σ_{l≠j} λ_l⟨u_l,u_j⟩^p`, checked against `contract_all` and the input
/// weights (to `10⁻¹³` relative), orders 3 and 4.
#[test]
fn zero_sweeps_give_the_exact_deflated_weights() {
    for (p, n, rank) in [(3, 30, 4), (4, 12, 3)] {
        let (t, _, _) =
            SymmetricTensor::synthetic_orthogonal(p, n, rank, 0.01, Seed::new(11)).unwrap();
        let cp = sketched(&t, rank, ModeHashing::PerMode, 11);
        let r = refine_exact(&t, &cp, 0, Par::Seq).unwrap();
        for j in 0..rank {
            let u = &cp.factors[j];
            let nrm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
            for (x, y) in r.factors[j].iter().zip(u) {
                assert!((x - y / nrm).abs() <= 1e-15, "p = {p}, factor {j}");
            }
            let mut want = t.contract_all(u, Par::Seq).unwrap();
            for l in (0..rank).filter(|&l| l != j) {
                let c: f64 = cp.factors[l].iter().zip(u).map(|(a, b)| a * b).sum();
                want -= cp.weights[l] * c.powi(p as i32);
            }
            let got = r.weights[j];
            assert!(
                (got - want).abs() <= 1e-13 * want.abs(),
                "p = {p}, weight {j}: {got} against {want}"
            );
        }
    }
}

/// Bitwise the same on 1 and 2 threads, with more than 16 components (two groups of
/// contractions); dense and coordinate storage agree to `10⁻¹²`.
#[test]
fn refinement_is_reproducible_across_threads_and_storage() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 40, 20, 0.01, Seed::new(5)).unwrap();
    let cp = sketched(&t, 20, ModeHashing::Auto, 5);
    let run = |threads| with_threads(threads, |par| refine_exact(&t, &cp, 2, par).unwrap());
    let (one, two) = (run(1), run(2));
    let bits = |cp: &CpDecomposition| -> Vec<u64> {
        cp.weights
            .iter()
            .chain(cp.factors.iter().flatten())
            .map(|x| x.to_bits())
            .collect()
    };
    assert_eq!(bits(&one), bits(&two));
    let coo = refine_exact(&to_coordinate(&t), &cp, 2, Par::Seq).unwrap();
    for (x, y) in one.weights.iter().zip(&coo.weights) {
        assert!((x - y).abs() <= 1e-12 * x.abs(), "{x} against {y}");
    }
    for (x, y) in one
        .factors
        .iter()
        .flatten()
        .zip(coo.factors.iter().flatten())
    {
        assert!((x - y).abs() <= 1e-12, "{x} against {y}");
    }
}

/// The tensor's scale does not matter: `2⁷⁰⁰·T` (kept scaled internally) with the weights
/// times `2⁷⁰⁰` gives the factors of `T` and the weights times `2⁷⁰⁰`, to `10⁻¹³` (`T` a
/// noiseless rank-3 tensor, the start its sketched decomposition).
#[test]
fn refinement_works_at_any_scale() {
    let (_, w, a) = SymmetricTensor::synthetic_orthogonal(3, 20, 3, 0.0, Seed::new(9)).unwrap();
    let big = 2f64.powi(700);
    let t = SymmetricTensor::from_components(3, 20, &w, &a).unwrap();
    let wb: Vec<f64> = w.iter().map(|x| x * big).collect();
    let tb = SymmetricTensor::from_components(3, 20, &wb, &a).unwrap();
    let cp = sketched(&t, 3, ModeHashing::Auto, 9);
    let mut cpb = cp.clone();
    cpb.weights.iter_mut().for_each(|w| *w *= big);
    let (r, rb) = (
        refine_exact(&t, &cp, 2, Par::Seq).unwrap(),
        refine_exact(&tb, &cpb, 2, Par::Seq).unwrap(),
    );
    for (x, y) in r.weights.iter().zip(&rb.weights) {
        assert!(
            (x * big - y).abs() <= 1e-13 * y.abs(),
            "{x}·2^700 against {y}"
        );
    }
    for (x, y) in r.factors.iter().flatten().zip(rb.factors.iter().flatten()) {
        assert!((x - y).abs() <= 1e-13, "{x} against {y}");
    }
}

/// At odd order a negative weight comes back positive with its factor flipped, the same
/// decomposition (`λ·u^{⊗3} = (−λ)·(−u)^{⊗3}`): bitwise what the unflipped input gives, after
/// two sweeps and after none.
/// Factors that are not unit are normalized first and their weights scaled to match: `(λ/27,
/// 3u)` gives what `(λ, u)` gives, to `10⁻¹⁴`, with no sweep and with two.
#[test]
fn signs_and_lengths_of_the_input_do_not_matter() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 25, 3, 0.01, Seed::new(13)).unwrap();
    let cp = sketched(&t, 3, ModeHashing::Auto, 13);
    let want = refine_exact(&t, &cp, 2, Par::Seq).unwrap();
    let mut flipped = cp.clone();
    flipped.weights[1] = -flipped.weights[1];
    flipped.factors[1].iter_mut().for_each(|x| *x = -*x);
    let got = refine_exact(&t, &flipped, 2, Par::Seq).unwrap();
    assert_eq!(got.weights, want.weights);
    assert_eq!(got.factors, want.factors);
    // Without sweeps only the final flip turns it back.
    let (got0, want0) = (
        refine_exact(&t, &flipped, 0, Par::Seq).unwrap(),
        refine_exact(&t, &cp, 0, Par::Seq).unwrap(),
    );
    assert!(got0.weights[1] > 0.0, "{:?}", got0.weights);
    assert_eq!(got0.weights, want0.weights);
    assert_eq!(got0.factors, want0.factors);
    // (λ/27, 3u) is the term (λ, u): the same refinement, weights included, to rounding.
    let mut longer = cp.clone();
    longer.factors[2].iter_mut().for_each(|x| *x *= 3.0);
    longer.weights[2] /= 27.0;
    for sweeps in [0, 2] {
        let (got, want) = (
            refine_exact(&t, &longer, sweeps, Par::Seq).unwrap(),
            refine_exact(&t, &cp, sweeps, Par::Seq).unwrap(),
        );
        for (x, y) in got
            .factors
            .iter()
            .flatten()
            .zip(want.factors.iter().flatten())
        {
            assert!((x - y).abs() <= 1e-14, "{sweeps} sweeps: {x} against {y}");
        }
        for (x, y) in got.weights.iter().zip(&want.weights) {
            assert!(
                (x - y).abs() <= 1e-14 * y.abs(),
                "{sweeps} sweeps: {x} against {y}"
            );
        }
    }
}

/// Every bad input is an `Err` naming it, never a panic.
#[test]
fn bad_inputs_are_errors() {
    let (t, _, _) = SymmetricTensor::synthetic_orthogonal(3, 6, 2, 0.0, Seed::new(1)).unwrap();
    let cp = power_method_exact(&t, 3, &PowerParams::default(), Seed::new(1), Par::Seq).unwrap();
    let refine = |cp: &CpDecomposition, sweeps| refine_exact(&t, cp, sweeps, Par::Seq);
    let mut c = cp.clone();
    c.weights.pop();
    assert!(matches!(
        refine(&c, 1),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut c = cp.clone();
    c.components.pop();
    assert!(matches!(
        refine(&c, 1),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut c = cp.clone();
    c.factors[0].push(0.0);
    assert!(matches!(
        refine(&c, 1),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut c = cp.clone();
    c.weights[1] = f64::NAN;
    assert!(matches!(refine(&c, 1), Err(Error::NonFinite { .. })));
    let mut c = cp.clone();
    c.factors[1][2] = f64::INFINITY;
    assert!(matches!(refine(&c, 1), Err(Error::NonFinite { .. })));
    let mut c = cp.clone();
    c.factors[1].iter_mut().for_each(|x| *x = 0.0);
    assert!(
        matches!(refine(&c, 1), Err(Error::InvalidParameter { name, .. }) if name == "factors")
    );
    assert!(matches!(
        refine(&cp, (1 << 16) + 1),
        Err(Error::InvalidParameter { name, .. }) if name == "sweeps"
    ));
    assert!(refine(&cp, 1 << 16).is_ok());
    // 300 components: 300·(60 000 + 1) contractions exceed 2²⁴.
    let (t2, _, _) = SymmetricTensor::synthetic_orthogonal(3, 2, 1, 0.0, Seed::new(2)).unwrap();
    let many = PowerParams {
        starts: 1,
        iters: 0,
        refine_iters: 0,
    };
    let cp2 = power_method_exact(&t2, 300, &many, Seed::new(2), Par::Seq).unwrap();
    assert!(matches!(
        refine_exact(&t2, &cp2, 60_000, Par::Seq),
        Err(Error::InvalidParameter { name, .. }) if name == "rank·(sweeps + 1)"
    ));
    // Weights far beyond the tensor's scale on three equal factors: the deflation overflows.
    let mut c = cp.clone();
    c.weights = vec![1.7e308; 3];
    c.factors = vec![c.factors[0].clone(); 3];
    assert!(
        matches!(refine(&c, 1), Err(Error::NonFinite { .. })),
        "{:?}",
        refine(&c, 1)
    );
    // A weight that overflows once its factor is made unit: 10³⁰⁰·(10¹⁰)³.
    let mut c = cp.clone();
    c.weights[0] = 1e300;
    c.factors[0].iter_mut().for_each(|x| *x *= 1e10);
    assert!(matches!(refine(&c, 1), Err(Error::NonFinite { .. })));
    // No components: nothing to refine.
    let mut c = cp.clone();
    c.weights.clear();
    c.factors.clear();
    c.components.clear();
    let r = refine(&c, 3).unwrap();
    assert!(r.weights.is_empty() && r.factors.is_empty());
    assert_eq!((r.contractions, r.exact_sweeps), (c.contractions, 3));
}
