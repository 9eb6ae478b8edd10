//! Small dense kernels on row-major `d × d` (or `k × d`) buffers, written out so that the
//! per-step work of the selection loop stays in this crate (and is fast in every profile).

use crate::scalar::{exponent, mul_pow2, shift_toward_range};

/// In-place lower Cholesky factor of a symmetric positive definite row-major `d × d` matrix
/// (the lower triangle is read; the strict upper triangle is zeroed). `Err(j)` when pivot `j` is
/// not positive (the matrix is not numerically positive definite; its leading `j × j` block is).
pub(crate) fn cholesky(a: &mut [f64], d: usize) -> Result<(), usize> {
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= a[j * d + k] * a[j * d + k];
        }
        if !(s > 0.0 && s.is_finite()) {
            return Err(j);
        }
        let ljj = s.sqrt();
        a[j * d + j] = ljj;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            let (ri, rj) = (i * d, j * d);
            for k in 0..j {
                s -= a[ri + k] * a[rj + k];
            }
            a[ri + j] = s / ljj;
        }
        for k in j + 1..d {
            a[j * d + k] = 0.0;
        }
    }
    Ok(())
}

/// The first of the leading `factored` columns whose Cholesky pivot in `l` (from
/// [`cholesky`] of a Gram matrix with diagonal `norms_sq`) is at most `10⁻⁶` of its column's
/// norm, `l_jj² ≤ 10⁻¹²·Σ_jj`: a column within that angle of the span of the ones before it.
/// A pivot computed from a Gram matrix carries an error of about `√u` of its column, so a
/// column dependent in exact arithmetic leaves a pivot of rounding noise that [`cholesky`]
/// accepts (and a later pivot, noise over noise, may then fail): this names the first such
/// column, which a failed pivot's index alone would overstate.
pub(crate) fn first_dependent_column(
    l: &[f64],
    norms_sq: &[f64],
    factored: usize,
) -> Option<usize> {
    let d = norms_sq.len();
    (0..factored).position(|j| l[j * d + j] * l[j * d + j] <= 1e-12 * norms_sq[j])
}

/// [`cholesky`] of a Gram matrix, whose refusal names a rank: `Err(rank)` with `rank` the
/// [`first_dependent_column`] among the columns factored before the failed pivot, else that
/// pivot's index (a lower bound on the rank either way).
pub(crate) fn gram_cholesky(g: &mut [f64], d: usize) -> Result<(), usize> {
    let norms: Vec<f64> = (0..d).map(|j| g[j * d + j]).collect();
    cholesky(g, d).map_err(|j| first_dependent_column(g, &norms, j).unwrap_or(j))
}

/// The inverse of a lower-triangular row-major `d × d` matrix with a positive diagonal
/// ([`Error::TooLarge`](crate::Error::TooLarge) when it cannot be allocated).
pub(crate) fn lower_inverse(l: &[f64], d: usize) -> crate::Result<Vec<f64>> {
    let mut inv = super::square_zeros(d, "triangular inverse")?;
    // Column j of L⁻¹ by forward substitution on e_j.
    for j in 0..d {
        inv[j * d + j] = 1.0 / l[j * d + j];
        for i in j + 1..d {
            let mut s = 0.0;
            for k in j..i {
                s += l[i * d + k] * inv[k * d + j];
            }
            inv[i * d + j] = -s / l[i * d + i];
        }
    }
    Ok(inv)
}

/// `Lᵀ·L` for a lower-triangular row-major `L` (full symmetric result), and its trace.
pub(crate) fn lower_gram(linv: &[f64], d: usize, out: &mut [f64]) -> f64 {
    out.iter_mut().for_each(|x| *x = 0.0);
    for k in 0..d {
        let row = &linv[k * d..k * d + k + 1];
        for i in 0..=k {
            let ri = row[i];
            if ri == 0.0 {
                continue;
            }
            let dst = &mut out[i * d..i * d + i + 1];
            for (o, &rj) in dst.iter_mut().zip(&row[..=i]) {
                *o += ri * rj;
            }
        }
    }
    let mut tr = 0.0;
    for i in 0..d {
        tr += out[i * d + i];
        for j in 0..i {
            out[j * d + i] = out[i * d + j];
        }
    }
    tr
}

/// `xᵀ·M·x` for a symmetric row-major `M`.
#[inline]
pub(crate) fn quad_form(m: &[f64], x: &[f64]) -> f64 {
    let d = x.len();
    let mut s = 0.0;
    for i in 0..d {
        let row = &m[i * d..(i + 1) * d];
        let mut t = 0.0;
        for (a, b) in row.iter().zip(x) {
            t += a * b;
        }
        s += x[i] * t;
    }
    s
}

/// Householder QR least squares on a row-major `k × d` matrix `a` (overwritten) and right-hand
/// side `b` (overwritten), with a workspace `v` of length `k`: returns the solution, or
/// `Err(rank)` when a diagonal entry of `R` is below `rtol·max|R_jj|` (numerical rank
/// `rank < d`). Requires `k ≥ d`.
///
/// The columns of `a` are first equilibrated by powers of two, `a·D` with `D_jj = 2^{s_j}`
/// bringing column `j`'s largest entry into `[1, 2)` (exact, and undone on the solution:
/// `x = D·x'`), and `b` is moved to a largest entry of `2^±480` when its own is beyond that.
/// So the rank test does not depend on the units of the columns — features scaled by
/// `[10⁷, 1, 10⁻⁷]` are full rank, where the unscaled `|R_33|/max|R_jj| ≈ 10⁻¹⁴` called them
/// rank 2 — and the naive sums of squares neither overflow (`X` near `10³⁰⁰`) nor underflow
/// (near `10⁻³⁰⁰`). A zero column stays zero (and makes the rank deficient).
pub(crate) fn householder_lstsq(
    a: &mut [f64],
    b: &mut [f64],
    v: &mut [f64],
    k: usize,
    d: usize,
    rtol: f64,
) -> std::result::Result<Vec<f64>, usize> {
    let shifts = equilibrate_columns(&mut a[..k * d], d);
    let shift_b = into_safe_range(&mut b[..k]);
    let mut x = householder_lstsq_in_range(a, b, v, k, d, rtol)?;
    // 2^-sb·b = (a·D)·x'  ⇒  x = 2^sb·D·x' (may overflow: the caller checks finiteness).
    for (xj, &sj) in x.iter_mut().zip(&shifts) {
        *xj = mul_pow2(*xj, sj + shift_b);
    }
    Ok(x)
}

/// Scales each column `j` of the row-major `· × d` matrix `a` by `2^{s_j}` so that its largest
/// `|a_ij|` lies in `[1, 2)`, and returns the shifts `s_j` (0 for a zero column). Exact, except
/// that entries more than `2¹⁰²²` below their column's largest round as subnormals.
pub(crate) fn equilibrate_columns(a: &mut [f64], d: usize) -> Vec<i32> {
    let mut top = vec![0.0f64; d];
    for row in a.chunks_exact(d) {
        for (t, x) in top.iter_mut().zip(row) {
            *t = t.max(x.abs());
        }
    }
    let shifts: Vec<i32> = top.iter().map(|&t| -exponent(t)).collect();
    if shifts.iter().any(|&s| s != 0) {
        for row in a.chunks_exact_mut(d) {
            for (x, &s) in row.iter_mut().zip(&shifts) {
                *x = mul_pow2(*x, s);
            }
        }
    }
    shifts
}

/// Scales `x` by `2⁻ᵉ` when its largest `|xᵢ|` is beyond `2^±480`, bringing it to `2^±480`
/// ([`shift_toward_range`]: `k·(2⁴⁸¹)²` sums of squares stay finite for `k < 2³¹` rows), and
/// returns `e`; 0 and `x` unchanged otherwise (and for a zero `x`).
fn into_safe_range(x: &mut [f64]) -> i32 {
    let top = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let Some(e) = shift_toward_range(top, 480, 480) else {
        return 0;
    };
    x.iter_mut().for_each(|v| *v = mul_pow2(*v, -e));
    e
}

fn householder_lstsq_in_range(
    a: &mut [f64],
    b: &mut [f64],
    v: &mut [f64],
    k: usize,
    d: usize,
    rtol: f64,
) -> std::result::Result<Vec<f64>, usize> {
    let mut diag = vec![0.0; d];
    for j in 0..d {
        let mut norm = 0.0;
        for i in j..k {
            norm += a[i * d + j] * a[i * d + j];
        }
        let norm = norm.sqrt();
        if norm == 0.0 {
            diag[j] = 0.0;
            continue;
        }
        let alpha = if a[j * d + j] > 0.0 { -norm } else { norm };
        // v = x − αe₁, normalized so that H = I − 2vvᵀ/(vᵀv).
        for i in j..k {
            v[i] = a[i * d + j];
        }
        v[j] -= alpha;
        let vv: f64 = v[j..k].iter().map(|x| x * x).sum();
        if vv == 0.0 {
            diag[j] = alpha;
            continue;
        }
        for c in j..d {
            let mut s = 0.0;
            for i in j..k {
                s += v[i] * a[i * d + c];
            }
            let f = 2.0 * s / vv;
            for i in j..k {
                a[i * d + c] -= f * v[i];
            }
        }
        let mut s = 0.0;
        for i in j..k {
            s += v[i] * b[i];
        }
        let f = 2.0 * s / vv;
        for i in j..k {
            b[i] -= f * v[i];
        }
        diag[j] = a[j * d + j];
    }
    let rmax = diag.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let rank = diag.iter().filter(|x| x.abs() > rtol * rmax).count();
    if rank < d || rmax == 0.0 || !rmax.is_finite() {
        return Err(rank);
    }
    let mut x = vec![0.0; d];
    for j in (0..d).rev() {
        let mut s = b[j];
        for c in j + 1..d {
            s -= a[j * d + c] * x[c];
        }
        x[j] = s / a[j * d + j];
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_inverse_and_gram_agree_with_the_definition() {
        let d = 4;
        // A = GᵀG + I for a fixed G.
        let g: Vec<f64> = (0..16).map(|i| ((i * 7 + 3) % 11) as f64 - 5.0).collect();
        let mut a = vec![0.0; 16];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..d).map(|k| g[k * d + i] * g[k * d + j]).sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let a0 = a.clone();
        assert_eq!(cholesky(&mut a, d), Ok(()));
        let linv = lower_inverse(&a, d).unwrap();
        let mut m = vec![0.0; 16];
        let tr = lower_gram(&linv, d, &mut m);
        // m = A⁻¹: A·m = I.
        for i in 0..d {
            for j in 0..d {
                let s: f64 = (0..d).map(|k| a0[i * d + k] * m[k * d + j]).sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-10);
            }
        }
        assert!((tr - (0..d).map(|i| m[i * d + i]).sum::<f64>()).abs() < 1e-12);
        let x = [1.0, -2.0, 0.5, 3.0];
        let q = quad_form(&m, &x);
        let direct: f64 = (0..d)
            .map(|i| x[i] * (0..d).map(|j| m[i * d + j] * x[j]).sum::<f64>())
            .sum();
        assert!((q - direct).abs() < 1e-12);
    }

    /// A failed pivot is reported by its index: the Gram matrix of columns `[a, b, a]` factors
    /// its leading 2 × 2 block and fails at pivot 2 (what `RankDeficient.rank` then reports).
    #[test]
    fn cholesky_reports_the_failed_pivot() {
        let cols = [[1.0, 2.0, 0.5], [0.0, 1.0, -1.0], [1.0, 2.0, 0.5]];
        let mut g = [0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                g[i * 3 + j] = (0..3).map(|t| cols[i][t] * cols[j][t]).sum();
            }
        }
        assert_eq!(cholesky(&mut g, 3), Err(2));
        g[0] = -1.0;
        assert_eq!(cholesky(&mut g, 3), Err(0));
    }

    #[test]
    fn householder_solves_a_consistent_system_and_reports_rank() {
        let (k, d) = (6, 3);
        let a: Vec<f64> = (0..18).map(|i| ((i * 5 + 1) % 7) as f64 - 3.0).collect();
        let x = [1.0, 2.0, -1.0];
        let b: Vec<f64> = (0..k)
            .map(|i| (0..d).map(|j| a[i * d + j] * x[j]).sum())
            .collect();
        let sol =
            householder_lstsq(&mut a.clone(), &mut b.clone(), &mut [0.0; 6], k, d, 1e-12).unwrap();
        for j in 0..d {
            assert!((sol[j] - x[j]).abs() < 1e-10);
        }
        let mut dup = a.clone();
        for i in 0..k {
            dup[i * d + 2] = dup[i * d];
        }
        assert_eq!(
            householder_lstsq(&mut dup, &mut b.clone(), &mut [0.0; 6], k, d, 1e-12),
            Err(2)
        );
    }

    #[test]
    fn householder_is_scale_invariant_at_the_ends_of_the_range() {
        // A least-squares problem with a nonzero residual; scaling A by c and b by e scales the
        // solution by e/c. Before the power-of-two prescale, c = 1e300 overflowed ‖a_j‖² and
        // c = 1e-300 underflowed it: both came back as Err(0).
        let (k, d) = (6, 3);
        let a: Vec<f64> = (0..18).map(|i| ((i * 5 + 1) % 7) as f64 - 3.0).collect();
        let b: Vec<f64> = (0..k).map(|i| (i as f64 * 0.7).sin()).collect();
        let base =
            householder_lstsq(&mut a.clone(), &mut b.clone(), &mut [0.0; 6], k, d, 1e-12).unwrap();
        for (c, e) in [
            (1e300, 1.0),
            (1e-300, 1.0),
            (1.0, 1e300),
            (1e-300, 1e-300),
            (1e150, 1e-150),
        ] {
            let mut ac: Vec<f64> = a.iter().map(|x| x * c).collect();
            let mut bc: Vec<f64> = b.iter().map(|x| x * e).collect();
            let x = householder_lstsq(&mut ac, &mut bc, &mut [0.0; 6], k, d, 1e-12)
                .unwrap_or_else(|r| panic!("c = {c:e}, e = {e:e}: rank {r}"));
            for j in 0..d {
                // x_j = base_j·e/c, compared in the scaled units (e/c itself may overflow).
                let back = x[j] / e * c;
                assert!(
                    (back - base[j]).abs() <= 1e-12 * base[j].abs().max(1.0),
                    "c = {c:e}, e = {e:e}, j = {j}: {back} vs {}",
                    base[j]
                );
            }
        }
        // Powers of two move the data exactly: the same bits, scaled.
        let p = 2f64.powi(900);
        let mut ap: Vec<f64> = a.iter().map(|x| x * p).collect();
        let x = householder_lstsq(&mut ap, &mut b.clone(), &mut [0.0; 6], k, d, 1e-12).unwrap();
        for j in 0..d {
            assert_eq!(x[j] * p, base[j]);
        }
    }
}
