//! Answers do not depend on faer's global parallelism: the dense factorizations and products
//! behind them run on one thread. faer's own `thin_svd` and
//! `qr` give different bits under `Par::Seq` and `Par::rayon(2)`, so before the crate routed them
//! through its single-thread helpers, the SVD preconditioner, the Nyström preconditioner of P3,
//! the condition number, the orthonormal basis, the test-problem generator, the normal equations
//! (from d = 512) and active learning's sketched basis all depended on it. The default of that
//! setting is the size of the rayon pool a function is called from. Its own binary: it sets the
//! process-wide setting.

use faer::{Mat, Par};
use randnla::active::{Basis, Pool};
use randnla::diagnostics::{condition_number, orthonormal_basis};
use randnla::lstsq::kernel_regression::{solve_p3, KernelParams};
use randnla::lstsq::{normal_equations, sketch_and_precondition, Factorization, LstsqParams};
use randnla::problems::{gaussian_matrix, ls_problem};
use randnla::{MatrixRef, Seed};

fn bits(x: &Mat<f64>) -> Vec<u64> {
    (0..x.ncols())
        .flat_map(|j| (0..x.nrows()).map(move |i| x[(i, j)].to_bits()))
        .collect()
}

fn vbits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Everything the crate computes with a dense factorization, as bits.
fn answers() -> Vec<Vec<u64>> {
    let (a, b, _, _) = ls_problem(3000, 300, 1e6, 1e-3, Seed::new(1)).unwrap();
    let mut out = vec![bits(&a), vbits(&b)];
    // A rank-deficient problem: the SVD preconditioner (minimum-norm solution).
    let g = gaussian_matrix(2000, 40, Seed::new(2)).unwrap();
    let r = Mat::from_fn(2000, 60, |i, j| g[(i, j % 40)] * (1.0 + j as f64));
    let rv = MatrixRef::dense(r.as_ref()).unwrap();
    let p = LstsqParams {
        factorization: Factorization::Svd,
        par: Par::Seq,
        ..Default::default()
    };
    out.push(vbits(
        &sketch_and_precondition(rv, &b[..2000], &p).unwrap().0,
    ));
    out.push(vec![condition_number(a.as_ref()).unwrap().to_bits()]);
    out.push(bits(&orthonormal_basis(a.as_ref()).unwrap()));
    let k = gaussian_matrix(600, 8, Seed::new(3)).unwrap();
    let k = Mat::from_fn(600, 8, |i, j| 0.4 * k[(i, j)]);
    let kv = MatrixRef::dense(k.as_ref()).unwrap();
    out.push(vbits(
        &solve_p3(kv, &b[..600], &KernelParams::default()).unwrap().0,
    ));
    // d ≥ 512: faer's one-column triangular solves split their sums from there on.
    let w = gaussian_matrix(3000, 600, Seed::new(4)).unwrap();
    let wv = MatrixRef::dense(w.as_ref()).unwrap();
    out.push(vbits(&normal_equations(wv, &b, 0.0, Par::Seq).unwrap()));
    // The default factorization: the condition estimate of R decides between QR and SVD.
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let p = LstsqParams {
        par: Par::Seq,
        ..Default::default()
    };
    out.push(vbits(&sketch_and_precondition(av, &b, &p).unwrap().0));
    // Active learning's basis: R of the QR of X itself (3000 × 300).
    let basis = Basis::Sketched { sketch_rows: None };
    let pool = Pool::new(av, basis, Seed::new(5), Par::Seq).unwrap();
    out.push(vbits(pool.scores()));
    out
}

#[test]
fn answers_do_not_depend_on_faers_global_parallelism() {
    faer::set_global_parallelism(Par::Seq);
    let reference = answers();
    for t in [2, 4] {
        faer::set_global_parallelism(Par::rayon(t));
        let got = answers();
        let names = [
            "generated A",
            "generated b",
            "SVD-preconditioned x",
            "κ(A)",
            "Q",
            "P3 x",
            "normal-equations x (d = 600)",
            "x with the default factorization",
            "active learning's scores",
        ];
        // Every answer is named, so none is computed and left uncompared.
        assert_eq!(got.len(), names.len());
        assert_eq!(reference.len(), names.len());
        for ((g, r), name) in got.iter().zip(&reference).zip(names) {
            assert!(g == r, "{name} changed with faer's global parallelism {t}");
        }
    }
}
