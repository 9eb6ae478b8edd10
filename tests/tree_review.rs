//! `TreeSketch` near the top of the `f64` range: an error or the right value, never a wrong
//! finite one; the intermediates no longer overflow before the sketch does.

use randnla::sketch::tensor::TreeSketch;
use randnla::{Error, Seed};

/// For `x = c·e_i` the tree's output is `±c^p` in one bucket (each node convolves two 1-sparse
/// vectors) and rounding elsewhere. Sweep `c` across `f64::MAX^{1/p}`: each result is
/// `Err(NonFinite)` or has largest entry `c^p` to 1e-12 relative (rounding of p − 1 products
/// and the FFTs' ≈ ε·log m per level; 1e-12 leaves a wide margin and still rules out any
/// overflow artefact). The formerly documented early error: p = 2, m = 16, `c = 1e154`
/// (`c² = 1e308`, within range) was an error because a node's unnormalized inverse FFT held
/// `m·c²`; the node's spectra are now kept in range by powers of two, and it is `±1e308`.
#[test]
fn near_overflow_is_an_error_or_the_right_value() {
    for p in [2usize, 3, 5, 8] {
        for m in [1usize, 2, 3, 16, 17] {
            let t = TreeSketch::new(p, 3, m, Seed::new(p as u64 * 31 + m as u64)).unwrap();
            let r = f64::MAX.powf(1.0 / p as f64);
            for k in 0..40 {
                let c = r * (0.3 + 0.025 * k as f64);
                match t.apply_power(&[0.0, c, 0.0]) {
                    Ok(v) => {
                        let big = v.iter().fold(0.0f64, |a, b| a.max(b.abs()));
                        let want = c.powi(p as i32);
                        assert!(want.is_finite(), "p={p} m={m} c={c:e}: Ok({big:e}) for ∞");
                        assert!(
                            (big - want).abs() <= 1e-12 * want,
                            "p={p} m={m} c={c:e}: {big:e} vs {want:e}"
                        );
                    }
                    Err(Error::NonFinite { .. }) => {}
                    Err(e) => panic!("p={p} m={m} c={c:e}: {e}"),
                }
            }
        }
    }
    let t = TreeSketch::new(2, 3, 16, Seed::new(1)).unwrap();
    assert!(1e154f64.powi(2).is_finite());
    let v: Vec<f64> = t.apply_power(&[1e154, 0.0, 0.0]).unwrap();
    let big = v.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    assert!((big - 1e308).abs() <= 1e-12 * 1e308, "{big:e}");
}

/// `apply_kron` of `(1e200, 1e200, 1e-300, 1)`: a finite product (1e100), but the first node
/// holds 1e400. That was an error (the formerly documented order dependence); the node's value is
/// now carried as a power of two, and both pairings give the product.
#[test]
fn kron_intermediates_do_not_overflow_before_the_product() {
    let t = TreeSketch::new(4, 1, 8, Seed::new(2)).unwrap();
    let f = |v: f64| [v];
    let (a, b, c, d) = (f(1e200), f(1e200), f(1e-300), f(1.0));
    for order in [[&a, &b, &c, &d], [&a, &c, &b, &d]] {
        let v = t.apply_kron(&order.map(|x| &x[..])).unwrap();
        let big = v.iter().fold(0.0f64, |x, y| x.max(y.abs()));
        assert!((big - 1e100).abs() <= 1e-12 * 1e100, "{big:e}");
    }
}
