//! Review of the exact tensor power method's starts in lockstep (`iterate_starts`,
//! `eval_many`, `but_one_scaled_many`, `contract_slice_many`) through the public API: the
//! documented contraction count, the `ComponentInfo` fields, bitwise thread-count invariance
//! on 1, 2 and 4 threads for dense and coordinate storage, scaled tensors, `starts = 1`,
//! `iters = 0`, and a rank above the true rank (the deflated tensor vanishes).

use crate::common;

use common::{to_coordinate, with_threads};
use randnla::tensor::{power_method_exact, CpDecomposition, PowerParams, SymmetricTensor};
use randnla::Seed;

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Every field of two decompositions, bit for bit (`NaN`s compared by their bits).
fn assert_same_bits(a: &CpDecomposition, b: &CpDecomposition, what: &str) {
    assert_eq!(bits(&a.weights), bits(&b.weights), "{what}: weights");
    assert_eq!(a.factors.len(), b.factors.len(), "{what}");
    for (x, y) in a.factors.iter().zip(&b.factors) {
        assert_eq!(bits(x), bits(y), "{what}: factor");
    }
    assert_eq!(a.contractions, b.contractions, "{what}: contractions");
    for (x, y) in a.components.iter().zip(&b.components) {
        assert_eq!(x.best_start, y.best_start, "{what}");
        assert_eq!(bits(&x.start_values), bits(&y.start_values), "{what}");
        assert_eq!(x.final_change.to_bits(), y.final_change.to_bits(), "{what}");
        assert_eq!(
            x.weight_spread.map(f64::to_bits),
            y.weight_spread.map(f64::to_bits)
        );
    }
}

/// All `n^p` entries of `t` in row-major order, times `f`.
fn dense_data(t: &SymmetricTensor, f: f64) -> Vec<f64> {
    let (p, n) = (t.order(), t.dim());
    let len = n.pow(p as u32);
    (0..len)
        .map(|mut lin| {
            let mut idx = vec![0usize; p];
            for k in (0..p).rev() {
                idx[k] = lin % n;
                lin /= n;
            }
            t.get(&idx).unwrap() * f
        })
        .collect()
}

fn tensors() -> Vec<SymmetricTensor> {
    let mut spike = vec![0.0; 5usize.pow(3)];
    spike[0] = 2.0;
    vec![
        SymmetricTensor::synthetic_orthogonal(6, 3, 2, 0.05, Seed::new(11))
            .unwrap()
            .0,
        SymmetricTensor::synthetic_orthogonal(3, 9, 3, 0.05, Seed::new(12))
            .unwrap()
            .0,
        SymmetricTensor::synthetic_orthogonal(4, 5, 2, 0.05, Seed::new(13))
            .unwrap()
            .0,
        SymmetricTensor::synthetic_orthogonal(5, 3, 2, 0.05, Seed::new(14))
            .unwrap()
            .0,
        // n = 1 (every level of the recursion has one entry).
        SymmetricTensor::dense(3, 1, vec![-1.5]).unwrap(),
        SymmetricTensor::dense(3, 5, spike).unwrap(),
    ]
}

/// Bitwise the same decomposition on 1, 2 and 4 threads, for dense and coordinate storage,
/// orders 3–6, `n = 1`, a rank-1 spike asked for 3 components (the deflated tensor vanishes),
/// with `starts` 1 and 4 and `iters` 0 and 5. Pass rule: every field equal bit for bit.
#[test]
fn exact_power_is_thread_count_invariant_in_lockstep() {
    for t in tensors() {
        let coord = to_coordinate(&t);
        for (starts, iters) in [(1, 5), (4, 0), (4, 5)] {
            let params = PowerParams {
                starts,
                iters,
                refine_iters: 3,
            };
            let rank = 3.min(t.dim()).max(1);
            for tt in [&t, &coord] {
                let run = |th: usize| {
                    with_threads(th, |par| {
                        power_method_exact(tt, rank, &params, Seed::new(5), par).unwrap()
                    })
                };
                let one = run(1);
                for th in [2, 4] {
                    let what = format!(
                        "order {} n {} dense {} starts {starts} iters {iters} threads {th}",
                        tt.order(),
                        tt.dim(),
                        tt.is_dense()
                    );
                    assert_same_bits(&one, &run(th), &what);
                }
            }
        }
    }
}

/// The documented count `rank·(L·(N+1) + N_refine + 1)` when no iterate vanishes (synthetic
/// orthogonal tensors with noise, so the deflated tensor never vanishes), for `L` 1 and 5 and
/// `N` 0 and 4. And for the spike `2·e₀^{⊗3}` asked for 3 components: the first takes the
/// full count, each later one `L + 1` (every start and the refinement stop at their first
/// evaluation, `T(I,u,u) = 0` exactly), with all start values 0 and `final_change` NaN.
#[test]
fn exact_power_contraction_count_and_vanishing_components() {
    for t in tensors().into_iter().take(4) {
        for (starts, iters) in [(1, 0), (1, 4), (5, 0), (5, 4)] {
            let params = PowerParams {
                starts,
                iters,
                refine_iters: 2,
            };
            for tt in [t.clone(), to_coordinate(&t)] {
                let rank = 2;
                let r =
                    power_method_exact(&tt, rank, &params, Seed::new(8), faer::Par::Seq).unwrap();
                assert_eq!(
                    r.contractions,
                    rank * (starts * (iters + 1) + 2 + 1),
                    "order {} starts {starts} iters {iters}",
                    tt.order()
                );
                for c in &r.components {
                    assert_eq!(c.start_values.len(), starts);
                    assert!(c.best_start < starts);
                    let best = c.start_values[c.best_start].abs();
                    assert!(c.start_values.iter().all(|v| v.abs() <= best));
                }
            }
        }
    }
    let spike = tensors().pop().unwrap();
    let params = PowerParams {
        starts: 4,
        iters: 5,
        refine_iters: 3,
    };
    for tt in [spike.clone(), to_coordinate(&spike)] {
        let r = power_method_exact(&tt, 3, &params, Seed::new(9), faer::Par::Seq).unwrap();
        assert_eq!(r.weights[0], 2.0, "{r:?}");
        assert_eq!(r.contractions, (4 * 6 + 3 + 1) + 2 * (4 + 1), "{r:?}");
        for c in &r.components[1..] {
            assert!(c.start_values.iter().all(|&v| v == 0.0), "{r:?}");
            assert!(c.final_change.is_nan(), "{r:?}");
        }
    }
}

/// Scaled tensors (`scale_factor ≠ 1`): `T·2⁹⁰⁰` (entries near 1e270) and `T·2⁻⁹⁰⁰` (near
/// 1e-271), both outside `[2⁻²⁵⁶, 2²⁵⁶]`, give the same factors bit for bit and weights and
/// start values exactly `2¹⁸⁰⁰` apart (the documented scale invariance), dense and
/// coordinate, 1 and 2 threads, several starts.
#[test]
fn exact_power_scaled_tensors_agree_bit_for_bit() {
    let base = SymmetricTensor::synthetic_orthogonal(3, 8, 3, 0.05, Seed::new(21))
        .unwrap()
        .0;
    let up = SymmetricTensor::dense(3, 8, dense_data(&base, 2f64.powi(900))).unwrap();
    let down = SymmetricTensor::dense(3, 8, dense_data(&base, 2f64.powi(-900))).unwrap();
    let params = PowerParams {
        starts: 5,
        iters: 6,
        refine_iters: 4,
    };
    for (u, d) in [
        (up.clone(), down.clone()),
        (to_coordinate(&up), to_coordinate(&down)),
    ] {
        for th in [1, 2] {
            let (ru, rd) = with_threads(th, |par| {
                (
                    power_method_exact(&u, 3, &params, Seed::new(4), par).unwrap(),
                    power_method_exact(&d, 3, &params, Seed::new(4), par).unwrap(),
                )
            });
            for (x, y) in ru.factors.iter().zip(&rd.factors) {
                assert_eq!(bits(x), bits(y), "dense {} threads {th}", u.is_dense());
            }
            for (x, y) in ru.weights.iter().zip(&rd.weights) {
                assert_eq!(*x, y * 2f64.powi(900) * 2f64.powi(900), "{x} {y}");
            }
            for (cx, cy) in ru.components.iter().zip(&rd.components) {
                assert_eq!(cx.best_start, cy.best_start);
                for (x, y) in cx.start_values.iter().zip(&cy.start_values) {
                    assert_eq!(*x, y * 2f64.powi(900) * 2f64.powi(900));
                }
            }
            assert_eq!(ru.contractions, rd.contractions);
        }
    }
}

/// Dense and coordinate storage of the same well-separated tensor agree to rounding
/// (weights relative 1e-9, factors 1e-7 in each entry up to sign): the lockstep path of the
/// dense storage against the one-by-one contractions of the coordinate storage.
#[test]
fn exact_power_dense_and_coordinate_agree() {
    for (p, n) in [(3, 10), (4, 6)] {
        let t = SymmetricTensor::synthetic_orthogonal(p, n, 3, 0.01, Seed::new(31))
            .unwrap()
            .0;
        let c = to_coordinate(&t);
        let params = PowerParams::default();
        let rd = power_method_exact(&t, 3, &params, Seed::new(2), faer::Par::Seq).unwrap();
        let rc = power_method_exact(&c, 3, &params, Seed::new(2), faer::Par::Seq).unwrap();
        for (x, y) in rd.weights.iter().zip(&rc.weights) {
            assert!((x - y).abs() <= 1e-9 * x.abs(), "order {p}: {x} vs {y}");
        }
        for (a, b) in rd.factors.iter().zip(&rc.factors) {
            let s = if a[0] * b[0] < 0.0 { -1.0 } else { 1.0 };
            for (x, y) in a.iter().zip(b) {
                assert!((x - s * y).abs() <= 1e-7, "order {p}: {a:?} vs {b:?}");
            }
        }
    }
}
