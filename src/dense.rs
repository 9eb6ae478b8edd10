//! Dense factorizations on one thread, for results that must not depend on the machine.
//!
//! faer's conveniences (`Mat::thin_svd`, `singular_values`, `qr`, the `*` product) run on faer's
//! global parallelism, whose default is the size of the calling rayon pool, and their bits depend
//! on it: with faer 0.24 the singular values of a 300 × 30 matrix, the Householder QR of a
//! 3000 × 300 one and matrix–vector products differ between `Par::Seq` and `Par::rayon(2)`. The
//! crate promises answers that do not depend on the thread count, so every dense factorization
//! or product whose result reaches an answer goes through here, or passes `Par::Seq` itself.
//! (faer's Cholesky factorization and column-pivoted QR gave the same bits on 1, 2 and 4 threads
//! in the same check; its one-column triangular solves split their sums from `d = 512` on.)

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::householder;
use faer::linalg::qr::no_pivoting::factor as qr;
use faer::linalg::svd::{self, ComputeSvdVectors, SvdError};
use faer::{Mat, MatRef, Par};

/// The most threads an entry point hands to faer or splits its work into. faer's cost and
/// scratch grow with the thread count it is given, whatever the pool's real size: a review
/// measured 3.5 s of overhead at `Par::rayon(2^28)` and a 24 GB scratch request at `2^20` in a
/// QR solve. Results do not depend on the bound (the crate's kernels give the same bits for any
/// task count; faer's own parallel paths are documented where their bits can vary).
pub(crate) const MAX_THREADS: usize = 1024;

/// Number of tasks to split work into for `par`: 1 for `Par::Seq`, at most [`MAX_THREADS`].
/// The crate's kernels give the same bits for any task count.
pub(crate) fn tasks(par: Par) -> usize {
    match par {
        Par::Seq => 1,
        #[allow(unreachable_patterns)]
        _ => par.degree().clamp(1, MAX_THREADS),
    }
}

/// `par` with at most [`MAX_THREADS`] threads.
pub(crate) fn bounded(par: Par) -> Par {
    match par {
        Par::Rayon(n) if n.get() > MAX_THREADS => Par::rayon(MAX_THREADS),
        _ => par,
    }
}

/// `par` for a faer product or triangular solve whose result is `rows × cols`: `Par::Seq` when
/// the result is one row or one column. faer computes such a product as a matrix–vector or dot
/// product (and a one-column triangular solve through them), and from about 2¹⁶ terms on it
/// splits those sums by thread, so their bits would depend on the thread count; a wider result
/// is split into blocks of itself, each entry summed whole, which keeps the bits (checked on 1,
/// 3, 5, 7, 8 and 16 threads by `tests/thread_counts_review.rs`).
pub(crate) fn par_for_result(par: Par, rows: usize, cols: usize) -> Par {
    if rows <= 1 || cols <= 1 {
        Par::Seq
    } else {
        par
    }
}

/// `A·B`, on one thread (faer's `*` runs on the global parallelism, and a matrix–vector product's
/// bits depend on it).
pub(crate) fn product(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    let mut c = Mat::<f64>::zeros(a.nrows(), b.ncols());
    faer::linalg::matmul::matmul(c.as_mut(), faer::Accum::Replace, a, b, 1.0, Par::Seq);
    c
}

/// The thin SVD `A = U·diag(s)·Vᵀ`, singular values in non-increasing order.
pub(crate) struct ThinSvd {
    pub(crate) u: Mat<f64>,
    pub(crate) s: Vec<f64>,
    pub(crate) v: Mat<f64>,
}

/// The largest `|aᵢⱼ|` (0 for an empty matrix), the scale the power-of-two prescales key on.
pub(crate) fn max_abs(a: MatRef<'_, f64>) -> f64 {
    (0..a.ncols()).fold(0.0f64, |m, j| {
        let col = a.col(j);
        match col.try_as_col_major() {
            Some(c) => m.max(crate::scalar::max_abs_slice(c.as_slice())),
            None => col.iter().fold(m, |m, v| m.max(v.abs())),
        }
    })
}

/// Scales each column `j` of `a` by `2^{s_j}` so that its largest `|aᵢⱼ|` lies in `[1, 2)`, and
/// returns the shifts `s_j` (0 for a zero column): the column equilibration by powers of two
/// (exact while nothing underflows) that makes a rank test independent of the columns' units.
pub(crate) fn equilibrate_columns(mut a: faer::MatMut<'_, f64>) -> Vec<i32> {
    let shifts: Vec<i32> = (0..a.ncols())
        .map(|j| -crate::scalar::exponent(max_abs(a.as_ref().subcols(j, 1))))
        .collect();
    for (j, &s) in shifts.iter().enumerate() {
        if s != 0 {
            a.as_mut()
                .col_mut(j)
                .iter_mut()
                .for_each(|x| *x = crate::scalar::mul_pow2(*x, s));
        }
    }
    shifts
}

/// Scales `m` by `2⁻ᵉ` when its largest `|mᵢⱼ|` is beyond `2^±1000`, bringing it to `2^±990`
/// ([`shift_toward_range`](crate::scalar::shift_toward_range)), and returns `e` (0, with `m`
/// untouched, otherwise and for `m = 0`), for the matrices faer's Householder QR factors
/// (sketch-and-solve's `S·A` and `S·b`, `qr_solve`'s `[A; √λI]`). faer's QR handles matrices
/// with entries up to 10³⁰¹ and columns spread over 10^±300 but overflowed on ones with entries
/// near 10³⁰⁸ (their column norms); moving the data no further than that keeps such columns
/// (scaling the top entry to [1, 2) turned a 10⁻²⁰⁰ column into zeros).
pub(crate) fn into_qr_range(m: &mut Mat<f64>) -> i32 {
    let Some(e) = crate::scalar::shift_toward_range(max_abs(m.as_ref()), 1000, 990) else {
        return 0;
    };
    for j in 0..m.ncols() {
        m.col_mut(j)
            .iter_mut()
            .for_each(|v| *v = crate::scalar::mul_pow2(*v, -e));
    }
    e
}

/// `a` scaled by `2⁻ᵉ` when its largest `|aᵢⱼ|` is beyond `2^±128` (to `[1, 2)`), with `e`;
/// `None` otherwise. faer's SVD did not converge on a triangle with entries near 10³⁰⁰ (the
/// sketch-and-precondition SVD path on `1e300·A`); the singular values scale with the matrix and
/// the singular vectors do not, so the SVD is taken of the scaled copy and `s` scaled back.
fn scaled_for_svd(a: MatRef<'_, f64>) -> Option<(Mat<f64>, i32)> {
    let e = crate::scalar::shift_toward_range(max_abs(a), 128, 0)?;
    let scaled = Mat::from_fn(a.nrows(), a.ncols(), |i, j| {
        crate::scalar::mul_pow2(a[(i, j)], -e)
    });
    Some((scaled, e))
}

/// The thin SVD of `a`, on one thread (of a copy scaled by a power of two when its entries are
/// beyond `2^±128`: see [`scaled_for_svd`]).
pub(crate) fn thin_svd(a: MatRef<'_, f64>) -> Result<ThinSvd, SvdError> {
    if let Some((scaled, e)) = scaled_for_svd(a) {
        let mut svd = thin_svd_as_given(scaled.as_ref())?;
        svd.s
            .iter_mut()
            .for_each(|s| *s = crate::scalar::mul_pow2(*s, e));
        return Ok(svd);
    }
    thin_svd_as_given(a)
}

fn thin_svd_as_given(a: MatRef<'_, f64>) -> Result<ThinSvd, SvdError> {
    let (m, n) = a.shape();
    let size = m.min(n);
    let (mut u, mut v) = (Mat::zeros(m, size), Mat::zeros(n, size));
    let mut s = Diag::<f64>::zeros(size);
    let thin = ComputeSvdVectors::Thin;
    let req = svd::svd_scratch::<f64>(m, n, thin, thin, Par::Seq, Default::default());
    svd::svd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        Some(v.as_mut()),
        Par::Seq,
        MemStack::new(&mut MemBuffer::new(req)),
        Default::default(),
    )?;
    let s = s.column_vector().iter().copied().collect();
    Ok(ThinSvd { u, s, v })
}

/// The singular values of `a` in non-increasing order, on one thread (see [`thin_svd`] for the
/// scaling of entries beyond `2^±128`).
pub(crate) fn singular_values(a: MatRef<'_, f64>) -> Result<Vec<f64>, SvdError> {
    if let Some((scaled, e)) = scaled_for_svd(a) {
        let mut s = singular_values_as_given(scaled.as_ref())?;
        s.iter_mut()
            .for_each(|v| *v = crate::scalar::mul_pow2(*v, e));
        return Ok(s);
    }
    singular_values_as_given(a)
}

fn singular_values_as_given(a: MatRef<'_, f64>) -> Result<Vec<f64>, SvdError> {
    let (m, n) = a.shape();
    let mut s = Diag::<f64>::zeros(m.min(n));
    let none = ComputeSvdVectors::No;
    let req = svd::svd_scratch::<f64>(m, n, none, none, Par::Seq, Default::default());
    svd::svd(
        a,
        s.as_mut(),
        None,
        None,
        Par::Seq,
        MemStack::new(&mut MemBuffer::new(req)),
        Default::default(),
    )?;
    Ok(s.column_vector().iter().copied().collect())
}

/// The Householder QR of `a` in place on `par` (pass `Par::Seq` for reproducible bits): `R` in the
/// upper triangle and the Householder vectors below, with their block coefficients (as many rows
/// as the block size).
pub(crate) fn householder_qr(mut a: Mat<f64>, par: Par) -> (Mat<f64>, Mat<f64>) {
    let (m, n) = a.shape();
    let bs = qr::recommended_block_size::<f64>(m, n);
    let mut coeff = Mat::<f64>::zeros(bs, m.min(n));
    let req = qr::qr_in_place_scratch::<f64>(m, n, bs, par, Default::default());
    qr::qr_in_place(
        a.as_mut(),
        coeff.as_mut(),
        par,
        MemStack::new(&mut MemBuffer::new(req)),
        Default::default(),
    );
    (a, coeff)
}

/// The `R` (`min(m, n) × n`) held in the upper triangle of [`householder_qr`]'s factors.
pub(crate) fn upper_triangle(factors: MatRef<'_, f64>) -> Mat<f64> {
    let size = factors.nrows().min(factors.ncols());
    Mat::from_fn(size, factors.ncols(), |i, j| {
        if i <= j {
            factors[(i, j)]
        } else {
            0.0
        }
    })
}

/// The `R` (`min(m, n) × n`, upper triangular) of the Householder QR of `a`, on one thread.
/// Where faer passes over a column of tiny residual, its upper triangle is a staircase (see
/// [`exact_r`]).
pub(crate) fn thin_r(a: MatRef<'_, f64>) -> Mat<f64> {
    upper_triangle(householder_qr(a.to_owned(), Par::Seq).0.as_ref())
}

/// A column-pivoted Householder QR of `t` (`r × c`) that recomputes every remaining column's
/// norm at each step instead of downdating it, so each pivot is the column of largest residual
/// (the first of equal ones): `t·Π = Q₂·R`. `t` is overwritten with `R` (upper trapezoidal);
/// returns `Π` as the order of the columns and, when `want_q`, the explicit `r × r` orthogonal
/// `Q₂` (`O(r³)` more). Columns
/// left when every residual is zero keep their order. `O(r·c·min(r, c) + r³)`, for the
/// trailing block of a leverage-score QR whose pivots faer took out of order
/// (`leverage::TriangularFactor::repivot_trailing`).
pub(crate) fn exact_pivoted_qr(t: &mut Mat<f64>, want_q: bool) -> (Vec<usize>, Option<Mat<f64>>) {
    // `Q₂ᵀ`, the reflections applied to the identity in turn.
    let mut qt = want_q.then(|| Mat::<f64>::identity(t.nrows(), t.nrows()));
    let order = householder_by_hand(t, true, qt.as_mut());
    (order, qt.map(|qt| qt.transpose().to_owned()))
}

/// The `R` (`min(m, n) × n`, upper triangular) of an unpivoted Householder QR of `a` that
/// reflects every column however small its residual, on one thread. faer's unpivoted QR (and
/// [`thin_r`]) passes over a column whose residual is at most `16·(m − k)·ε` of its norm (`k`
/// the row reached) without reflecting it or moving to the next row, so each later column's
/// reflection lands one row up and every later diagonal entry is zero: a staircase, not a
/// triangle, which a rank test on the diagonal reads as a rank deficiency (rank 2 on the
/// active-learning pool's `3000 × 200` test input). `O(m·n·min(m, n))` scalar work: for inputs
/// faer's `R` fails such a test on.
pub(crate) fn exact_r(a: MatRef<'_, f64>) -> Mat<f64> {
    let mut t = a.to_owned();
    householder_by_hand(&mut t, false, None);
    upper_triangle(t.as_ref())
}

/// Householder QR of `t` in place, by hand: `R` in the upper triangle, zeros below. With
/// `pivot`, each step takes the column of largest residual norm (recomputed, not downdated) and
/// stops when every residual is zero; without, it keeps the columns' order and passes over a
/// zero residual. Every nonzero residual is reflected. The reflections are applied to the rows
/// of `qt` (`Qᵀ` when it starts as the identity). Returns the order of the columns.
fn householder_by_hand(t: &mut Mat<f64>, pivot: bool, mut qt: Option<&mut Mat<f64>>) -> Vec<usize> {
    let (m, n) = t.shape();
    let mut order: Vec<usize> = (0..n).collect();
    for k in 0..m.min(n) {
        let (mut best, mut best_norm) = (k, 0.0);
        for j in k..if pivot { n } else { k + 1 } {
            let norm = t.col(j).subrows(k, m - k).norm_l2();
            if norm > best_norm {
                (best, best_norm) = (j, norm);
            }
        }
        if best_norm == 0.0 {
            if pivot {
                break;
            }
            continue;
        }
        if best != k {
            order.swap(k, best);
            for i in 0..m {
                let x = t[(i, k)];
                t[(i, k)] = t[(i, best)];
                t[(i, best)] = x;
            }
        }
        // Reflect `x = t[k.., k]` onto `−s·‖x‖·e₀` (`s` the sign of `x₀`) with `v = x/‖x‖ + s·e₀`
        // (scaled by the norm, so that no square under- or overflows):
        // `H = I − 2vvᵀ/(vᵀv)`, `vᵀv = 2(1 + |x₀|/‖x‖)`.
        let sign = if t[(k, k)] < 0.0 { -1.0 } else { 1.0 };
        let mut v: Vec<f64> = (k..m).map(|i| t[(i, k)] / best_norm).collect();
        v[0] += sign;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let reflect = |a: &mut Mat<f64>, j: usize| {
            let dot: f64 = v.iter().zip(k..m).map(|(vi, i)| vi * a[(i, j)]).sum();
            let f = 2.0 * dot / vv;
            for (vi, i) in v.iter().zip(k..m) {
                a[(i, j)] -= f * vi;
            }
        };
        for j in k + 1..n {
            reflect(t, j);
        }
        if let Some(qt) = qt.as_deref_mut() {
            for j in 0..m {
                reflect(qt, j);
            }
        }
        t[(k, k)] = -sign * best_norm;
        for i in k + 1..m {
            t[(i, k)] = 0.0;
        }
    }
    order
}

/// `x = G⁻¹·rhs` for a symmetric positive definite `G` (lower triangle read) by Cholesky, on one
/// thread (faer's `Llt::solve` splits a one-column triangular solve's sums across its global
/// parallelism from `d = 512` on).
pub(crate) fn cholesky_solve(
    g: Mat<f64>,
    rhs: &[f64],
) -> Result<Vec<f64>, faer::linalg::cholesky::llt::factor::LltError> {
    let l = cholesky_factor(g)?;
    let mut x = rhs.to_vec();
    cholesky_solve_in_place(l.as_ref(), &mut x);
    Ok(x)
}

/// The Cholesky factor `L` (`G = LLᵀ`) of a symmetric positive definite `G` (lower triangle
/// read), on one thread; the result is `L` with its strict upper triangle set to zero, so that
/// it can be used as a matrix (a norm or condition estimate) without a masked copy.
pub(crate) fn cholesky_factor(
    g: Mat<f64>,
) -> Result<Mat<f64>, faer::linalg::cholesky::llt::factor::LltError> {
    cholesky_factor_par(g, Par::Seq)
}

/// [`cholesky_factor`] on the threads of `par`.
pub(crate) fn cholesky_factor_par(
    mut g: Mat<f64>,
    par: Par,
) -> Result<Mat<f64>, faer::linalg::cholesky::llt::factor::LltError> {
    use faer::linalg::cholesky::llt::factor as llt;
    let d = g.nrows();
    let req = llt::cholesky_in_place_scratch::<f64>(d, par, Default::default());
    llt::cholesky_in_place(
        g.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut MemBuffer::new(req)),
        Default::default(),
    )?;
    // The factorization leaves `G`'s strict upper triangle as it was; clear it (`O(d²)`
    // against the factorization's `d³/3`) so the result is `L` entry for entry.
    for k in 1..d {
        g.col_mut(k).subrows_mut(0, k).fill(0.0);
    }
    Ok(g)
}

/// `x ← (LLᵀ)⁻¹x` for the factor of [`cholesky_factor`], on one thread.
pub(crate) fn cholesky_solve_in_place(l: MatRef<'_, f64>, x: &mut [f64]) {
    use faer::linalg::triangular_solve as tri;
    let d = x.len();
    let mut col = faer::MatMut::from_column_major_slice_mut(x, d, 1);
    tri::solve_lower_triangular_in_place(l, col.as_mut(), Par::Seq);
    tri::solve_upper_triangular_in_place(l.transpose(), col, Par::Seq);
}

/// The thin `Q` (`m × min(m, n)`) of the Householder QR of `a`, on one thread.
pub(crate) fn thin_q(a: MatRef<'_, f64>) -> Mat<f64> {
    thin_q_and_r_diagonal(a).0
}

/// [`thin_q`] and the diagonal of the triangular factor `R` (`A = QR`), for rank checks.
pub(crate) fn thin_q_and_r_diagonal(a: MatRef<'_, f64>) -> (Mat<f64>, Vec<f64>) {
    let (m, n) = a.shape();
    let size = m.min(n);
    let (factors, coeff) = householder_qr(a.to_owned(), Par::Seq);
    let r_diagonal: Vec<f64> = (0..size).map(|j| factors[(j, j)]).collect();
    let bs = coeff.nrows();
    let mut q = Mat::<f64>::identity(m, size);
    let req = householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<f64>(
        m, bs, size,
    );
    householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        factors.as_ref().subcols(0, size),
        coeff.as_ref(),
        faer::Conj::No,
        q.as_mut(),
        Par::Seq,
        MemStack::new(&mut MemBuffer::new(req)),
    );
    (q, r_diagonal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::gaussian_matrix;
    use crate::Seed;

    /// The Cholesky factor is lower triangular entry for entry (its strict upper triangle is
    /// zero, not `G`'s leftover, on one thread and on two) and `LLᵀ` reconstructs `G` to 1e-13
    /// relative.
    #[test]
    fn cholesky_factor_is_exactly_lower_triangular() {
        let a = gaussian_matrix(200, 40, Seed::new(3)).unwrap();
        let g = a.transpose() * &a;
        for par in [Par::Seq, Par::rayon(2)] {
            let l = cholesky_factor_par(g.clone(), par).unwrap();
            for k in 0..40 {
                for i in 0..k {
                    assert_eq!(l[(i, k)].to_bits(), 0, "L[{i}, {k}] = {}", l[(i, k)]);
                }
                assert!(l[(k, k)] > 0.0);
            }
            let err = (&l * l.transpose() - &g).norm_l2() / g.norm_l2();
            assert!(err <= 1e-13, "‖LLᵀ − G‖/‖G‖ = {err:e}");
        }
    }

    /// [`max_abs`] is the largest `|aᵢⱼ|` over every column, whichever column holds it and
    /// whatever its sign, on a column-major matrix (the eight-lane slice path) and on a
    /// transposed view (the strided path). Kills the fold that keeps only the last column's
    /// maximum (the `m.max` dropped), which the solvers' tests let through: they use the value
    /// only to choose an exact power-of-two prescale.
    #[test]
    fn max_abs_reads_every_column() {
        for (i, j) in [(3, 0), (0, 2), (6, 4), (2, 5)] {
            for top in [-7.5, 7.5] {
                let mut a = Mat::from_fn(7, 6, |r, c| (r as f64 - 3.0) * 0.25 + c as f64 * 0.125);
                a[(i, j)] = top;
                assert_eq!(max_abs(a.as_ref()), 7.5, "column-major, top at ({i}, {j})");
                assert_eq!(max_abs(a.transpose()), 7.5, "transposed, top at ({i}, {j})");
            }
        }
        assert_eq!(max_abs(Mat::<f64>::zeros(4, 0).as_ref()), 0.0);
    }

    /// The factorizations reconstruct their input (to 1e-12 relative), `Q` is orthonormal, and
    /// the singular values match the SVD's.
    #[test]
    fn factorizations_reconstruct_their_input() {
        for (m, n) in [(300, 30), (40, 40), (25, 60)] {
            let a = gaussian_matrix(m, n, Seed::new(m as u64 + n as u64)).unwrap();
            let f = thin_svd(a.as_ref()).unwrap();
            let us = Mat::from_fn(m, f.s.len(), |i, j| f.u[(i, j)] * f.s[j]);
            let err = (&us * f.v.transpose() - &a).norm_l2() / a.norm_l2();
            assert!(err <= 1e-12, "{m}×{n}: ‖UΣVᵀ − A‖/‖A‖ = {err:e}");
            assert!(f.s.windows(2).all(|w| w[0] >= w[1]));
            let sv = singular_values(a.as_ref()).unwrap();
            for (x, y) in sv.iter().zip(&f.s) {
                assert!((x - y).abs() <= 1e-12 * f.s[0]);
            }
            if m >= n {
                let q = thin_q(a.as_ref());
                let qtq = q.transpose() * &q;
                let err = (&qtq - Mat::<f64>::identity(n, n)).norm_l2();
                assert!(err <= 1e-12, "{m}×{n}: ‖QᵀQ − I‖ = {err:e}");
                // A lies in the range of Q: ‖A − QQᵀA‖ ≈ 0.
                let err = (&a - &q * (q.transpose() * &a)).norm_l2() / a.norm_l2();
                assert!(err <= 1e-12, "{m}×{n}: ‖A − QQᵀA‖/‖A‖ = {err:e}");
            }
        }
    }
}

#[cfg(test)]
mod exact_r_tests {
    use super::*;

    /// [`exact_pivoted_qr`] takes, among columns of equal residual norm, the first: `t` (`2 × 3`)
    /// has columns `e₀, e₁, e₀`, all of norm 1, so the first pivot is column 0 (not column 2),
    /// after which column 2's residual is exactly 0 and column 1 is next: the order is
    /// `[0, 1, 2]`, `R = [[−1, 0, −1], [0, −1, 0]]` (each reflection maps its column to
    /// `−sign(x₀)·‖x‖·e₀`), and `Q₂·R = t·Π`. Kills the pivot test `norm >= best_norm`, which
    /// takes the last of equal columns (order `[2, 1, 0]`).
    #[test]
    fn exact_pivoting_takes_the_first_of_equal_columns() {
        let mut t = Mat::from_fn(2, 3, |i, j| f64::from(u8::from(i == j % 2)));
        let original = t.clone();
        let (order, q2) = exact_pivoted_qr(&mut t, true);
        assert_eq!(order, vec![0, 1, 2]);
        let want = [[-1.0, 0.0, -1.0], [0.0, -1.0, 0.0]];
        for (i, row) in want.iter().enumerate() {
            for (j, &w) in row.iter().enumerate() {
                assert_eq!(t[(i, j)], w, "R({i}, {j})");
            }
        }
        let qr = q2.unwrap() * &t;
        for (p, &c) in order.iter().enumerate() {
            for i in 0..2 {
                assert!(
                    (qr[(i, p)] - original[(i, c)]).abs() < 1e-15,
                    "(Q₂R − tΠ)({i}, {p})"
                );
            }
        }
    }

    /// `A = [g₀, g₀ + 10⁻¹²·f, g₂]` (`2000 × 3`, Gaussian `g₀, g₂, f`): faer's QR passes over the
    /// second column (its residual, `10⁻¹²` of its norm, is below `16·1999·ε = 7·10⁻¹²`) and
    /// leaves `R₂₂ = 0` (the premise, which documents faer 0.24's behaviour); [`exact_r`] keeps
    /// `|R₁₁|/|R₀₀| ≈ 10⁻¹²` and `|R₂₂|/|R₀₀| ≈ 1`, and `RᵀR = AᵀA` to `10⁻¹⁴` relative.
    #[test]
    fn exact_r_keeps_the_triangle_where_faer_leaves_a_staircase() {
        let m = 2000;
        let g = crate::problems::gaussian_matrix(m, 4, crate::Seed::new(3)).unwrap();
        let a = Mat::from_fn(m, 3, |i, j| match j {
            1 => g[(i, 0)] + 1e-12 * g[(i, 3)],
            _ => g[(i, j)],
        });
        let faer_r = thin_r(a.as_ref());
        assert_eq!(
            faer_r[(2, 2)],
            0.0,
            "faer no longer leaves a staircase here"
        );
        let r = exact_r(a.as_ref());
        let r00 = r[(0, 0)].abs();
        assert!(
            (r[(1, 1)].abs() / r00 / 1e-12 - 1.0).abs() < 0.1,
            "{}",
            r[(1, 1)] / r00
        );
        assert!(r[(2, 2)].abs() / r00 > 0.5, "{}", r[(2, 2)] / r00);
        let (rtr, ata) = (r.transpose() * &r, a.transpose() * &a);
        let scale = ata.norm_l2();
        for i in 0..3 {
            for j in 0..3 {
                assert!(
                    (rtr[(i, j)] - ata[(i, j)]).abs() <= 1e-14 * scale,
                    "({i}, {j})"
                );
            }
        }
    }
}
