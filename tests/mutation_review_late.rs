//! Hand mutation review of the code added on 2026-12-07 after the earlier rounds had covered its
//! files: `diagnostics::embedding_error` (with its `NonFinite` on an overflowing `σ_max(SQ)²`)
//! and `condition_number`'s power-of-two prescale; the relative pivot test of BSS's
//! orthonormalized basis (`active::Pool::make_orthonormal`, `l_jj² ≤ 10⁻¹²·Σ_jj`);
//! `PartialEq for SymmetricTensor`; `read_tns_path` naming the file on read errors and the
//! `write_tns(writer, t, entries)` / `write_tns_path(path, t, entries)` order.
//!
//! 38 mutants (2026-12-07, one build, each switched on by an environment variable), each run
//! against the library's unit tests of its module and the suite tests of that area:
//! diagnostics against `suite_sketch` (diagnostics, embedding, distortion, condition),
//! `suite_contracts`' `errors_review` diagnostics and misc cases and `thread_counts_review`'s
//! diagnostics, `suite_laws`' condition-number laws; active against `suite_solvers`' active
//! tests; tensor against `suite_tensor` (its example-running tests left out) and
//! `errors_review::misc_entry_points`. The examples' suite was not run (the tour calls
//! `embedding_error`; the CLI reads the "opening PATH" form).
//!
//! Killed by the suite (21). `embedding_error`: `σ_max` not squared; `σ_min` not squared;
//! `σ_max`/`σ_min` read from the wrong ends; `max` of the two terms as `min`; `1 − σ_min²` with
//! its sign flipped; the `m ≥ d` guard with `m`, `d` swapped; the finite check dropped or made
//! on `σ_max` instead of `ε`. `condition_number`: prescale only for small entries (`e < −128`),
//! scaled by `2^e` for `2^−e`. BSS pivot test: norms read after the factorization (`l_jj` for
//! `Σ_jj`); `l_jj ≤ 10⁻¹²·Σ_jj` (not squared); `rank + 1`; every column against the first
//! one's norm. `PartialEq`: `||` as `&&` and the order not compared (shape check); `all` as
//! `any`; the count check `≥`; the linear index in radix `p`; negative entries dropped as
//! zeros. `read_tns_path`: the read error without the reader's message.
//!
//! Killed by the tests below (13): the `m ≥ d` guard as `m > d` and dropped; the prescale only
//! for large entries, or only beyond `2^±1000`; the pivot threshold `10⁻¹⁰` and `10⁻¹⁴`; the
//! first failing pivot by `rposition`; dense tensors compared bit for bit; `read_tns_path` into
//! dense storage; the read error's kind replaced by `Other`; the open error prefixed "reading";
//! `write_tns_path` ignoring `entries` (always `All`, always `Unique`).
//!
//! Equivalent (4, not tested):
//! - `embedding_error`'s `σ_max` of an empty singular-value list `0` → `1`: unreachable, an
//!   empty `Q` or sketch is refused before (`Error::Empty`, and no sketch has `m = 0`);
//! - the pivot test `l² ≤ 10⁻¹²·Σ` → `<`: differs only at exact equality of two rounded
//!   products;
//! - `PartialEq`'s count check `==` → `≤`: once every coordinate entry is found nonzero in the
//!   dense array (distinct indices), its nonzero count is at least theirs, so `≤` is `==`;
//! - the dense linear index with the multi-index reversed: a permutation of the multi-index,
//!   whose entry is the same in a symmetric tensor.
//!
//! One bug found (the last test): the rank BSS's orthonormalization reported when two columns
//! are dependent, 3 for 2, not a lower bound; `Pool::least_squares` had the same slip. Fixed.

use crate::common::TempFiles;
use faer::{Mat, Par};
use randnla::active::{Basis, Learner, Pool, Strategy};
use randnla::diagnostics::{condition_number, embedding_error, orthonormal_basis};
use randnla::sketch::{Gaussian, SketchOperator, Srht};
use randnla::tensor::{read_tns_path, write_tns, write_tns_path, SymmetricTensor, TnsEntries};
use randnla::{Error, MatrixRef, Seed};

/// `ε = max(σ_max² − 1, 1 − σ_min²)` of the explicit product `S·Q` (`S` from
/// [`SketchOperator::to_dense`], the product and the SVD by faer: no code of `embedding_error`),
/// `σ_min = 0` when `S·Q` has fewer rows than columns (the definition in its docs).
fn reference_eps(s: &dyn SketchOperator<f64>, q: &Mat<f64>) -> f64 {
    let sq = s.to_dense().unwrap() * q;
    let sv = sq.singular_values().unwrap();
    let max = sv.iter().copied().fold(0.0, f64::max);
    let min = if sq.nrows() >= sq.ncols() {
        sv.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        0.0
    };
    (max * max - 1.0).max(1.0 - min * min)
}

/// `embedding_error` against [`reference_eps`] to `10⁻¹²·max(1, ε)` (both are backward-stable
/// SVDs of an `m × d` matrix with `σ ≤ 3`: their `σ²` agree to a few `10⁻¹⁵`), with a sketch of
/// exactly `m = d` rows among them. An SRHT keeping all 8 rows of the 8-point transform is
/// orthogonal, so on a square orthonormal `Q` (`d = 8`) `ε` is rounding, below `10⁻¹²`; a
/// Gaussian `d × n` sketch (`m = d = 6`) and a `4d × n` one check the general case.
///
/// Kills: the `m ≥ d` guard of `σ_min` as `m > d` (`S·Q` square then counts as rank deficient:
/// `ε = 1` for the orthogonal SRHT).
#[test]
fn embedding_error_is_that_of_the_svd_of_s_q_also_when_m_equals_d() {
    let square = orthonormal_basis(gauss(8, 8, 11).as_ref()).unwrap();
    let full = Srht::new(8, 8, Seed::new(1)).unwrap();
    let eps = embedding_error(&full, square.as_ref(), Par::Seq).unwrap();
    assert!(eps.abs() < 1e-12, "orthogonal S, square Q: ε = {eps}");
    let q = orthonormal_basis(gauss(64, 6, 12).as_ref()).unwrap();
    for m in [6, 24] {
        let s = Gaussian::new(m, 64, Seed::new(m as u64)).unwrap();
        let eps = embedding_error(&s, q.as_ref(), Par::Seq).unwrap();
        let want = reference_eps(&s, &q);
        assert!(
            (eps - want).abs() <= 1e-12 * want.max(1.0),
            "m = {m}: {eps} vs {want}"
        );
    }
    let eps = embedding_error(&full, square.as_ref(), Par::Seq).unwrap();
    let want = reference_eps(&full, &square);
    assert!((eps - want).abs() <= 1e-12, "{eps} vs {want}");
}

/// A sketch given as an explicit dense `m × n` matrix (dense blocks only), for an `S·Q` of
/// chosen singular values.
struct Explicit(Mat<f64>);

impl SketchOperator<f64> for Explicit {
    fn nrows(&self) -> usize {
        self.0.nrows()
    }
    fn ncols(&self) -> usize {
        self.0.ncols()
    }
    fn seed(&self) -> Seed {
        Seed::new(0)
    }
    fn name(&self) -> &'static str {
        "explicit"
    }
    fn apply_block_into(
        &self,
        row_offset: usize,
        block: MatrixRef<'_, f64>,
        mut out: faer::MatMut<'_, f64>,
        _par: Par,
    ) -> randnla::Result<()> {
        let MatrixRef::Dense(b) = block else {
            return Err(Error::Empty {
                what: "a dense block (Explicit takes no other)".into(),
            });
        };
        if out.nrows() != self.0.nrows()
            || out.ncols() != b.ncols()
            || row_offset + b.nrows() > self.0.ncols()
        {
            return Err(Error::DimensionMismatch {
                what: "Explicit's block".into(),
                expected: self.0.ncols(),
                found: row_offset + b.nrows(),
            });
        }
        let part = self.0.as_ref().subcols(row_offset, b.nrows()) * b;
        out += &part;
        Ok(())
    }
    fn to_dense(&self) -> randnla::Result<Mat<f64>> {
        Ok(self.0.clone())
    }
}

/// With fewer rows than columns (`m < d`) some `y` has `S·Q·y = 0`, so `ε = 1` exactly when
/// `σ_max(S·Q) < 1` ("`σ_min = 0` when `m < d`"): `S = [0.6·e₀ᵀ; 0.8·e₁ᵀ]` (2 × 4) on
/// `Q = [I₃; 0]` gives `S·Q = [0.6 0 0; 0 0.8 0]`, `σ = 0.8, 0.6`, so
/// `ε = max(0.64 − 1, 1 − 0) = 1`; also against [`reference_eps`] (the same value).
///
/// Kills: the `m ≥ d` guard dropped (`σ_min` read from the `m` singular values of a wide `S·Q`:
/// `ε = 1 − 0.36 = 0.64`). The unit test's wide sketch did not see it: its `σ_max² ≥ 2`, where
/// both versions give `ε ≥ 1`.
#[test]
fn embedding_error_is_one_for_a_wide_sketch_with_small_singular_values() {
    let q = Mat::from_fn(4, 3, |i, j| if i == j { 1.0 } else { 0.0 });
    let s = Explicit(Mat::from_fn(2, 4, |i, j| match (i, j) {
        (0, 0) => 0.6,
        (1, 1) => 0.8,
        _ => 0.0,
    }));
    let eps = embedding_error(&s, q.as_ref(), Par::Seq).unwrap();
    assert_eq!(eps, 1.0);
    assert_eq!(reference_eps(&s, &q), 1.0);
}

/// The seeded `n × d` Gaussian matrix of `randnla::problems`.
fn gauss(n: usize, d: usize, seed: u64) -> Mat<f64> {
    randnla::problems::gaussian_matrix(n, d, Seed::new(seed)).unwrap()
}

/// `κ` of a matrix whose singular values are subnormal at the input's scale: `A = 2⁻¹⁰⁰⁰·[1 1;
/// −t t]`, `t = 3·2⁻⁶²` (every entry exact; `3·2⁻¹⁰⁶²` is subnormal). The rows are orthogonal, so
/// `σ = √2·2⁻¹⁰⁰⁰` and `√2·t·2⁻¹⁰⁰⁰` and `κ = 1/t = 2⁶²/3` exactly; pass rule: relative error
/// `≤ 10⁻¹³` (an SVD of the prescaled `[1 1; −t t]` is accurate to a few ulps in each `σ`).
///
/// Kills: the prescale only for large entries (`e > 128` for `|e| > 128`) or only beyond
/// `2^±1000`: `singular_values` then returns `σ_min ≈ 4.2·2⁻¹⁰⁶²` at the input's scale,
/// rounded to the subnormal grid `2⁻¹⁰⁷⁴` (about 12 significant bits), and `κ` is off by
/// about `10⁻⁴`.
#[test]
fn condition_number_keeps_subnormal_singular_values_scaled() {
    let c = 2f64.powi(-1000);
    let t = 3.0 * 2f64.powi(-62);
    let a = Mat::from_fn(2, 2, |i, j| match (i, j) {
        (0, _) => c,
        (1, 0) => -t * c,
        _ => t * c,
    });
    assert!(a[(1, 1)] < f64::MIN_POSITIVE && a[(1, 1)] == 3.0 * 2f64.powi(-1062));
    let want = 2f64.powi(62) / 3.0;
    let got = condition_number(a.as_ref()).unwrap();
    assert!((got - want).abs() <= 1e-13 * want, "{got} vs {want}");
}

/// The `n × d` columns for BSS's pivot test: `c₀, c₁` as in `tests/active.rs`, then each further
/// column `j` the sum `u_j = Σ_{k<j} a_jk·c_k` plus `δ_j·r_j`, `r_j` a unit vector orthogonal to
/// the columns before it (two Gram–Schmidt passes in the test) and `δ_j` chosen so that the
/// column's angle to the span of the ones before it has sine `ρ_j`: `δ = ρ‖u‖/√(1 − ρ²)`. The
/// Cholesky pivot of `XᵀX` is then `l_jj = ρ_j·‖c_j‖ = ρ_j·√Σ_jj` in exact arithmetic.
fn columns_at_angles(n: usize, rho: &[f64]) -> Mat<f64> {
    let d = 2 + rho.len();
    let mut x = Mat::<f64>::zeros(n, d);
    for i in 0..n {
        x[(i, 0)] = ((i * 7) % 11) as f64 - 5.0;
        x[(i, 1)] = ((i * 5 + 3) % 13) as f64 - 6.0 + 0.5 * (i % 4) as f64;
    }
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for (k, &rho) in rho.iter().enumerate() {
        let j = 2 + k;
        let cols: Vec<Vec<f64>> = (0..j)
            .map(|c| (0..n).map(|i| x[(i, c)]).collect())
            .collect();
        // u: a fixed combination of the columns before j.
        let coef = [0.1, 0.3, -0.2, 0.25];
        let u: Vec<f64> = (0..n)
            .map(|i| (0..j).map(|c| coef[c] * cols[c][i]).sum())
            .collect();
        // r: a fixed vector made orthogonal to every column before j, then of unit norm.
        let mut r: Vec<f64> = (0..n)
            .map(|i| ((i * i * 3 + j) % 17) as f64 - 8.0)
            .collect();
        for _ in 0..2 {
            // Modified Gram–Schmidt against an orthonormal basis of the columns before j.
            let mut basis: Vec<Vec<f64>> = Vec::new();
            for c in &cols {
                let mut b = c.clone();
                for e in &basis {
                    let p = dot(&b, e);
                    b.iter_mut().zip(e).for_each(|(b, e)| *b -= p * e);
                }
                let nb = dot(&b, &b).sqrt();
                b.iter_mut().for_each(|b| *b /= nb);
                basis.push(b);
            }
            for e in &basis {
                let p = dot(&r, e);
                r.iter_mut().zip(e).for_each(|(r, e)| *r -= p * e);
            }
        }
        let nr = dot(&r, &r).sqrt();
        let delta = rho * dot(&u, &u).sqrt() / (1.0 - rho * rho).sqrt() / nr;
        for i in 0..n {
            x[(i, j)] = u[i] + delta * r[i];
        }
    }
    x
}

/// The pool of `x` with `Basis::AsGiven`.
fn as_given(x: &Mat<f64>) -> Pool<'_> {
    Pool::new(
        MatrixRef::dense(x.as_ref()).unwrap(),
        Basis::AsGiven,
        Seed::new(1),
        Par::Seq,
    )
    .unwrap()
}

/// What `Learner::new` with BSS answers on an as-given pool of `x`.
fn bss_on(x: &Mat<f64>) -> Result<(), Error> {
    Learner::new(&as_given(x), Strategy::bss(), Seed::new(3)).map(drop)
}

/// The documented threshold of BSS's orthonormalization: a column whose relative Cholesky pivot
/// `l_jj/√Σ_jj` (the sine of its angle to the span of the columns before it) is at most `10⁻⁶`
/// is refused, a larger one accepted. Pivots at a factor 3 either side: `ρ = 3·10⁻⁷` is
/// `RankDeficient { rank: 2, required: 3 }`, `ρ = 3·10⁻⁶` builds the learner. The pivot computed
/// from `XᵀX` carries an error of about `u·Σ_jj` in `l²`, i.e. `10⁻¹⁶` against `ρ² ≥ 9·10⁻¹⁴`.
///
/// Kills: the threshold `l² ≤ 10⁻¹⁰·Σ` (`ρ ≤ 10⁻⁵`: the `3·10⁻⁶` column refused) and
/// `l² ≤ 10⁻¹⁴·Σ` (`ρ ≤ 10⁻⁷`: the `3·10⁻⁷` column accepted), which the existing test's
/// `0` and `10⁻⁴` offsets do not tell apart from `10⁻¹²`.
#[test]
fn bss_refuses_a_column_within_1e_6_of_the_span_and_accepts_one_beyond() {
    let refused = columns_at_angles(60, &[3e-7]);
    assert_eq!(
        bss_on(&refused),
        Err(Error::RankDeficient {
            rank: 2,
            required: 3
        })
    );
    let accepted = columns_at_angles(60, &[3e-6]);
    assert_eq!(bss_on(&accepted), Ok(()));
}

/// Two columns that each fail the pivot test: the rank reported is the number of columns
/// before the first (`rank` of `RankDeficient`, the numerical rank found). `X = [c₀ c₁ c₂ c₃]`
/// with `c₂` and `c₃` each at angle sine `10⁻⁷` to the span of the columns before it (well
/// above the `√u` noise of a pivot from `XᵀX`, so the factorization itself goes through).
///
/// Kills: the first failing pivot found by `rposition` instead of `position` (`rank: 3`).
#[test]
fn bss_reports_the_first_dependent_column() {
    let x = columns_at_angles(60, &[1e-7, 1e-7]);
    assert_eq!(
        bss_on(&x),
        Err(Error::RankDeficient {
            rank: 2,
            required: 4
        })
    );
}

/// The pivot test is relative to each column's own norm ("so columns of any scale pass"):
/// independent columns of norms `1`, `2²⁰` and `2⁻⁴⁰` times those of `c₀, c₁, c₂` (`c₂` at angle
/// sine `0.5` to the span of the others) build the BSS learner.
///
/// Kills: every pivot compared with the first column's norm (`norms[0]` for `norms[j]`):
/// `l₂₂² ≈ 2⁻⁸⁰·0.25·Σ(c₂) ≈ 10⁻²²` is then below `10⁻¹²·Σ₀₀ ≈ 10⁻⁹`, and the pool is refused
/// (`active_review2`'s lopsided pool kills it too, through a failed BSS run).
#[test]
fn bss_accepts_independent_columns_of_very_different_scales() {
    let mut x = columns_at_angles(60, &[0.5]);
    for i in 0..60 {
        x[(i, 1)] *= 2f64.powi(20);
        x[(i, 2)] *= 2f64.powi(-40);
    }
    assert_eq!(bss_on(&x), Ok(()));
}

/// `(a == b, b == a)`.
fn both_ways(a: &SymmetricTensor, b: &SymmetricTensor) -> (bool, bool) {
    (a == b, b == a)
}

/// Dense storage compares entries with `==` on `f64` too: a dense tensor holding `−0.0` equals
/// the all-`+0.0` one (and the coordinate zero tensor), both ways round, while a change of one
/// entry's sign (nonzero) does not.
///
/// Kills: two dense tensors compared bit for bit (`to_bits`), under which `−0.0 ≠ +0.0`.
#[test]
fn dense_tensors_with_signed_zeros_are_equal() {
    let neg = SymmetricTensor::dense(3, 2, vec![-0.0; 8]).unwrap();
    let pos = SymmetricTensor::dense(3, 2, vec![0.0; 8]).unwrap();
    let coo = SymmetricTensor::coordinate(3, 2, &[0, 0, 0], &[0.0]).unwrap();
    for (a, b) in [(&neg, &pos), (&neg, &coo)] {
        assert_eq!(both_ways(a, b), (true, true));
    }
    let mut one = vec![-0.0; 8];
    one[7] = 1.0;
    let mut minus_one = vec![0.0; 8];
    minus_one[7] = -1.0;
    let one = SymmetricTensor::dense(3, 2, one).unwrap();
    let minus_one = SymmetricTensor::dense(3, 2, minus_one).unwrap();
    assert_eq!(both_ways(&one, &minus_one), (false, false));
}

/// `T` of order 3, `n = 3`: `T_001 = 0.5`, `T_012 = −1.25`, `T_222 = 2`, stored with their
/// permutations: `3 + 6 + 1 = 10` entries, 3 of them with sorted indices.
fn small_tensor() -> SymmetricTensor {
    SymmetricTensor::coordinate(3, 3, &[0, 0, 1, 0, 1, 2, 2, 2, 2], &[0.5, -1.25, 2.0]).unwrap()
}

/// `write_tns_path(path, t, entries)` writes what `write_tns(writer, t, entries)` writes, for
/// each `entries` (the two differ on this tensor: the header and 3 lines with `Unique`, the
/// header and 10 with `All`), and `read_tns_path` reads it back in coordinate storage (its
/// documented default), equal to `t`.
///
/// Kills: `write_tns_path` passing `TnsEntries::All` or `Unique` whatever it is given, and
/// `read_tns_path` reading into dense storage.
#[test]
fn write_tns_path_honours_entries_and_read_tns_path_is_coordinate() {
    let t = small_tensor();
    let tmp = TempFiles::new("randnla-late-tns", "entries");
    for (entries, lines) in [(TnsEntries::Unique, 4), (TnsEntries::All, 11)] {
        let path = tmp.path("t.tns");
        write_tns_path(&path, &t, entries).unwrap();
        let mut want = Vec::new();
        write_tns(&mut want, &t, entries).unwrap();
        let got = std::fs::read(&path).unwrap();
        assert_eq!(got, want, "{entries:?}");
        assert_eq!(String::from_utf8(got).unwrap().lines().count(), lines);
        let back = read_tns_path(&path).unwrap();
        assert!(
            !back.is_dense(),
            "{entries:?}: read_tns_path gave dense storage"
        );
        assert!(back == t, "{entries:?}");
    }
}

/// An `Error::Io` from `read_tns_path` names the path in the documented forms and keeps the
/// kind the operating system reported: a missing file is "opening PATH: …" with kind
/// `NotFound`; a directory (it opens, then fails on its first read) is "reading PATH: reading
/// line 1: …" with the kind `std::fs::read` reports for the same directory.
///
/// Kills: the open error prefixed "reading" (the CLI's `file_error` looks for the library's
/// "opening PATH" form), and the read error's kind replaced by `Other`.
#[test]
fn read_tns_path_errors_keep_their_form_and_kind() {
    let tmp = TempFiles::new("randnla-late-tns", "errors");
    let missing = tmp.path("missing.tns");
    match read_tns_path(&missing) {
        Err(Error::Io { kind, message }) => {
            assert_eq!(kind, std::io::ErrorKind::NotFound, "{message}");
            assert!(
                message.starts_with(&format!("opening {missing}: ")),
                "{message}"
            );
        }
        r => panic!("{r:?}"),
    }
    let dir = tmp.path("dir.tns");
    std::fs::create_dir(&dir).unwrap();
    let os_kind = std::fs::read(&dir).unwrap_err().kind();
    match read_tns_path(&dir) {
        Err(Error::Io { kind, message }) => {
            assert_eq!(kind, os_kind, "{message}");
            let want = format!("reading {dir}: reading line 1: ");
            assert!(message.starts_with(&want), "{message}");
        }
        r => panic!("{r:?}"),
    }
}

/// Where two columns of an as-given `X` lie in the span of the ones before them, BSS's
/// orthonormalization and `Pool::least_squares` report `rank: 2`. `X = [c₀ c₁ c₂ c₃]` with
/// `c₂ = 0.1c₀ + 0.3c₁` and `c₃ = 0.1c₀ + 0.3c₁ − 0.2c₂` (rank 2 up to the rounding of those
/// sums). The Cholesky factor of `VᵀV` takes `c₂`'s rounding-noise pivot, then fails at `c₃`
/// (whose pivot is noise divided by noise). Found by this review as a bug: that failure was
/// reported as `RankDeficient { rank: 3, required: 4 }` before the relative pivot test, which
/// names column 2, had run, and `Error::RankDeficient`'s `rank` is "a lower bound on the rank"
/// (also with both columns `10⁻⁸` or `10⁻⁹` out of the span; at `10⁻⁷` the answer was already
/// 2, see [`bss_reports_the_first_dependent_column`]). Fixed: the relative test now runs on
/// the columns factored before a failed pivot, in both places.
#[test]
fn bss_reports_rank_two_for_two_exactly_dependent_columns() {
    let want = Err(Error::RankDeficient {
        rank: 2,
        required: 4,
    });
    for offset in [0.0, 1e-9, 1e-8] {
        let x = columns_at_angles(60, &[offset, offset]);
        assert_eq!(bss_on(&x), want, "BSS, columns {offset:e} out of the span");
        let y: Vec<f64> = (0..60).map(|i| (i % 7) as f64 - 3.0).collect();
        assert_eq!(
            as_given(&x).least_squares(&y).map(drop),
            want,
            "least_squares, columns {offset:e} out of the span"
        );
    }
}
