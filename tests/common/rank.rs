//! Inputs whose numerical rank only exact pivoting finds, shared by the leverage-score tests
//! (`tests/leverage_pivoting.rs`, `tests/mutation_review_leverage_qr.rs`).

use faer::Mat;
use randnla::{problems, Seed};

/// A matrix with a rank hidden below duplicate columns: `g` Gaussian columns `g_j`, `dup`
/// duplicates of them, and `f` columns `2¹⁰·g_j + 2⁻³⁰·f_t` with `f` fresh Gaussian vectors
/// `f_t` (relative size `2⁻⁴⁰ ≈ 9·10⁻¹³`, above the rank tolerance `max(n, d)·ε` for
/// `max(n, d) ≤ 4000`), in a shuffled column order fixed by `seed` (Fisher–Yates driven by a
/// multiplicative hash). Entries are multiples of `2⁻⁴` within `±4` before scaling, so every
/// column is exact in `f64` and the range is exactly that of `B = [g₁…g_g, f₁…f_f]`. Returns
/// `A` (`n × (g + dup + f)`) and `B` (`n × (g + f)`).
pub fn hidden_rank(n: usize, g: usize, dup: usize, f: usize, seed: u64) -> (Mat<f64>, Mat<f64>) {
    let q16 = |x: f64| ((16.0 * x).round() / 16.0).clamp(-4.0, 4.0);
    let gm = problems::gaussian_matrix(n, g + f, Seed::new(seed)).unwrap();
    let b = Mat::from_fn(n, g + f, |i, j| q16(gm[(i, j)]));
    let d = g + dup + f;
    let column = |i: usize, c: usize| -> f64 {
        if c < g {
            b[(i, c)]
        } else if c < g + dup {
            b[(i, (7 * (c - g) + seed as usize) % g)]
        } else {
            let t = c - g - dup;
            1024.0 * b[(i, (3 * t + 1) % g)] + 2f64.powi(-30) * b[(i, g + t)]
        }
    };
    let mut order: Vec<usize> = (0..d).collect();
    for k in (1..d).rev() {
        let j = ((seed as usize + 1)
            .wrapping_mul(2_654_435_761)
            .wrapping_mul(k))
            % (k + 1);
        order.swap(k, j);
    }
    (Mat::from_fn(n, d, |i, j| column(i, order[j])), b)
}

/// Whether faer's own pivoted QR of `A`, columns equilibrated by powers of two as the library
/// does, puts a pivot above the default threshold (`max(n, d)·ε·|R₀₀|`) after one at or below
/// it: the misordering the library repairs.
pub fn faer_misorders(a: &Mat<f64>) -> bool {
    let mut b = a.clone();
    for j in 0..b.ncols() {
        let top = (0..b.nrows()).fold(0.0f64, |t, i| t.max(b[(i, j)].abs()));
        let e = top.log2().floor() as i32;
        for i in 0..b.nrows() {
            b[(i, j)] *= 2f64.powi(-e);
        }
    }
    let qr = b.col_piv_qr();
    let r = qr.R();
    let (n, d) = a.shape();
    let threshold = n.max(d) as f64 * f64::EPSILON * r[(0, 0)].abs();
    let big: Vec<bool> = (0..n.min(d)).map(|k| r[(k, k)].abs() > threshold).collect();
    (0..big.len()).any(|k| !big[k] && big[k + 1..].iter().any(|&x| x))
}
