//! Review of the fused `AᵀA·v` pass (`DataOp::gram_apply`) and of P2's reused residual
//! (`Refined::gram_power_x`) through the public API: the reported `residual_norm` and
//! `relative_residual` must describe the returned `x`, also where `b` or `A` is rescaled
//! (tiny or huge `b`, the `A`-prescale path, the "lost" path of `unscale_x`), `j = 0` and
//! `b = 0`; and the answers must be bitwise the same on 1, 2 and 4 threads.

use crate::common;

use common::with_threads;
use randnla::lstsq::kernel_regression::{solve_p1, solve_p2, InnerSolve, KernelParams};
use randnla::problems::random_sparse;
use randnla::{Error, MatrixRef, Seed};

/// `A` times `2^s` entrywise (exact).
fn scaled(a: &sprs::CsMat<f64>, s: i32) -> sprs::CsMat<f64> {
    a.map(|v| v * 2f64.powi(s))
}

fn top_exp(v: impl IntoIterator<Item = f64>) -> i32 {
    let m = v.into_iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if m == 0.0 {
        0
    } else {
        m.log2().floor() as i32
    }
}

/// `v·2^e` in two exact-as-possible steps (2^e alone may overflow).
fn mul2(v: f64, e: i32) -> f64 {
    let h = e / 2;
    v * 2f64.powi(h) * 2f64.powi(e - h)
}

fn csr_apply(a: &sprs::CsMat<f64>, x: &[f64]) -> Vec<f64> {
    a.outer_iterator()
        .map(|row| row.iter().map(|(j, v)| v * x[j]).sum())
        .collect()
}

fn csr_apply_t(a: &sprs::CsMat<f64>, y: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.cols()];
    for (i, row) in a.outer_iterator().enumerate() {
        for (j, v) in row.iter() {
            out[j] += v * y[i];
        }
    }
    out
}

/// `‖b − A(AᵀA)ʲx‖` (`p2`) or `‖b − (AᵀA)ʲx‖`, computed naively at unit scale: `A` and `x`
/// brought near 1 by powers of two (exact), the product and `b` compared at that scale and
/// the norm scaled back. Any rescaling inside the solver cannot hide in it.
fn naive_residual(a: &sprs::CsMat<f64>, j: usize, x: &[f64], b: &[f64], p2: bool) -> f64 {
    let ea = top_exp(a.data().iter().copied());
    let ex = top_exp(x.iter().copied());
    let a1 = scaled(a, -ea);
    let mut v: Vec<f64> = x.iter().map(|&t| mul2(t, -ex)).collect();
    for _ in 0..j {
        v = csr_apply_t(&a1, &csr_apply(&a1, &v));
    }
    if p2 {
        v = csr_apply(&a1, &v);
    }
    // (A(AᵀA)ʲx) = 2^m·v with m = (2j + p2)·ea + ex.
    let m = (2 * j as i32 + p2 as i32) * ea + ex;
    let r: Vec<f64> = b
        .iter()
        .zip(&v)
        .map(|(&bi, &vi)| mul2(bi, -m) - vi)
        .collect();
    let rn = r.iter().map(|x| x * x).sum::<f64>().sqrt();
    mul2(rn, m)
}

fn norm_at_unit_scale(b: &[f64]) -> f64 {
    let e = top_exp(b.iter().copied());
    mul2(
        b.iter().map(|&x| mul2(x, -e).powi(2)).sum::<f64>().sqrt(),
        e,
    )
}

/// The cases: (name, A, j, b).
fn cases() -> Vec<(String, sprs::CsMat<f64>, usize, Vec<f64>)> {
    let (n, d) = (500, 7);
    let a = random_sparse(n, d, 3, Seed::new(48)).unwrap();
    // Nearly in range(A) (= range(A(AᵀA)ʲ)), so that P2's residual is small and moves to
    // first order with x: b = A·c + 10⁻⁶·noise.
    let c: Vec<f64> = (0..d).map(|k| 1.0 + k as f64 / 3.0).collect();
    let b: Vec<f64> = csr_apply(&a, &c)
        .iter()
        .enumerate()
        .map(|(i, v)| v + 1e-6 * ((i * 7 + 3) as f64).sin())
        .collect();
    let bs = |s: i32| b.iter().map(|&v| mul2(v, s)).collect::<Vec<_>>();
    let mut out = Vec::new();
    for j in [0, 1, 2] {
        out.push((format!("plain j={j}"), a.clone(), j, b.clone()));
    }
    out.push(("b = 0".into(), a.clone(), 2, vec![0.0; n]));
    out.push(("tiny b 2^-1000".into(), a.clone(), 2, bs(-1000)));
    out.push(("huge b 2^1000".into(), a.clone(), 2, bs(1000)));
    // The A-prescale path (`a_shift`, `a_scaled_answer`), x kept in range by b.
    out.push(("A 2^150, b 2^300".into(), scaled(&a, 150), 2, bs(300)));
    out.push(("A 2^-150, b 2^-300".into(), scaled(&a, -150), 2, bs(-300)));
    out.push(("A 2^200, b 2^600".into(), scaled(&a, 200), 1, bs(600)));
    // x ≈ b/‖A‖^{2j+1} ≈ 2^-1000·2^-(5·40): its entries underflow (the "lost" path).
    out.push((
        "lost: A 2^40, b 2^-1000".into(),
        scaled(&a, 40),
        2,
        bs(-1000),
    ));
    out.push(("lost: A 2^60, b 2^-900".into(), scaled(&a, 60), 2, bs(-900)));
    // x ≈ 2^-1040 and 2^-1030: subnormal with 34 and 44 bits left.
    out.push(("lost: A 2^30, b 2^-890".into(), scaled(&a, 30), 2, bs(-890)));
    out.push(("lost: A 2^30, b 2^-880".into(), scaled(&a, 30), 2, bs(-880)));
    out.push(("lost: A 2^30, b 2^-870".into(), scaled(&a, 30), 2, bs(-870)));
    out.push(("lost: A 2^30, b 2^-866".into(), scaled(&a, 30), 2, bs(-866)));
    out
}

/// P1 (with the first `d` entries of `b`) and P2 on every case, on the `Auto` (Cholesky) and `Cg`
/// routes: when the solve returns an answer, `residual_norm` equals the naive `‖b − A(AᵀA)ʲx‖` (P2;
/// P1 `‖b − (AᵀA)ʲx‖`) of the returned `x` to `1e-9·‖b‖` (plus 1e-300 absolute for `b = 0`) and
/// `relative_residual` equals it over `‖b‖` to 1e-9. `NotConverged` is accepted (the lost path may
/// refuse).
#[test]
fn reported_residuals_describe_the_returned_x() {
    let mut checked = 0;
    for (name, a, j, b) in cases() {
        for route in [InnerSolve::Auto, InnerSolve::Cg] {
            let params = KernelParams {
                inner_solve: route,
                ..KernelParams::default()
            };
            for p2 in [false, true] {
                let view = MatrixRef::sparse(&a).unwrap();
                // P1's b has length d: the first d entries of P2's.
                let b = if p2 { &b[..] } else { &b[..a.cols()] };
                let got = if p2 {
                    solve_p2(view, j, b, &params)
                } else {
                    solve_p1(view, j, b, &params)
                };
                let (x, info) = match got {
                    Ok(v) => v,
                    Err(Error::NotConverged { .. }) => {
                        eprintln!("{name} {route:?} p2={p2}: NotConverged");
                        continue;
                    }
                    Err(e) => panic!("{name} {route:?} p2={p2}: {e:?}"),
                };
                let bn = norm_at_unit_scale(b);
                let want = naive_residual(&a, j, &x, b, p2);
                let what = format!(
                    "{name} {route:?} p2={p2}: reported {:e} (rel {:e}), naive {want:e}, ‖b‖ {bn:e}",
                    info.residual_norm, info.relative_residual
                );
                assert!(
                    (info.residual_norm - want).abs() <= 1e-9 * bn + 1e-300,
                    "{what}"
                );
                if bn > 0.0 {
                    assert!((info.relative_residual - want / bn).abs() <= 1e-9, "{what}");
                }
                let subnormal = x.iter().filter(|v| v.is_subnormal()).count();
                eprintln!("{what}, {subnormal} subnormal entries of x");
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "only {checked} answers checked");
}

/// P1 and P2 (CSR, both routes, `j = 2`) give bitwise the same `x`, `residual_norm` and
/// history on 1, 2 and 4 threads (the fused pass sums its row chunks in a fixed order); `A`
/// has 20 000 rows, several row chunks.
#[test]
fn fused_gram_pass_is_thread_count_invariant() {
    let n = 20_000;
    let a = random_sparse(n, 9, 4, Seed::new(480)).unwrap();
    let b: Vec<f64> = (0..n).map(|i| ((i * 13 + 1) as f64).cos()).collect();
    for route in [InnerSolve::Auto, InnerSolve::Cg] {
        for p2 in [false, true] {
            let run = |th: usize| {
                with_threads(th, |par| {
                    let mut params = KernelParams {
                        inner_solve: route,
                        ..KernelParams::default()
                    };
                    params.lstsq.par = par;
                    let view = MatrixRef::sparse(&a).unwrap();
                    if p2 {
                        solve_p2(view, 2, &b, &params).unwrap()
                    } else {
                        solve_p1(view, 2, &b[..9], &params).unwrap()
                    }
                })
            };
            let (x1, i1) = run(1);
            for th in [2, 4] {
                let (x, i) = run(th);
                let bits = |v: &[f64]| v.iter().map(|t| t.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&x), bits(&x1), "{route:?} p2={p2} {th} threads");
                assert_eq!(i.residual_norm.to_bits(), i1.residual_norm.to_bits());
                assert_eq!(bits(&i.residual_history), bits(&i1.residual_history));
                assert_eq!(i.cg_iterations, i1.cg_iterations);
            }
        }
    }
}
