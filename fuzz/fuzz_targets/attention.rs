//! Arbitrary small Q, K, V and attention parameters → exact softmax / polynomial attention,
//! sketched attention (every map, causal or not, f64 and f32), the feature maps and the block
//! products. Nothing may panic: odd degrees, zero or huge block sizes and sketch dimensions,
//! mismatched shapes, NaN/∞ and values whose powers overflow must come back as `Err`.
//!
//! Oracles, each resting on the documentation of `randnla::attention`:
//! * errors are the documented variants for the documented bad inputs, and valid inputs fail
//!   only by overflow (`NonFinite`) — never when every entry is modest (see [`tame`]);
//! * an `Ok` output is finite, `n × d`, and equals its definition — `Σ w v / (1 + Σ w)` with
//!   `w = ⟨q,k⟩^p` (exact, and the identity map) or `⟨φ(q),φ(k)⟩²` (the sketch, through its own
//!   features), the softmax mean, `tril(ABᵀ)C` — within a bound on rounding that grows with the
//!   operations on the path (see [`Reference::check`]); every polynomial or softmax output lies
//!   in the hull of `0` (polynomial) and the visible values; softmax with one decisive score
//!   gives that key's value;
//! * bitwise: 1 vs 2 threads everywhere, `PolySketch::attention` vs `poly_sketch_attention`,
//!   causal rows `≤ i` unchanged by values and keys after `i`, feature rows independent of the
//!   rows around them;
//! * `SketchInfo` as documented (dimensions, blocks, `min_normalizer ≥ 1` and its value, the
//!   workspace constant in `n` where the docs say it stops growing); `relative_error` against
//!   a reference at its own scales.
#![no_main]

use faer::{Mat, MatRef, Par};
use libfuzzer_sys::fuzz_target;
use randnla::attention::{
    causal_product, causal_squared_product, exact_attention, poly_sketch_attention, relative_error,
    ExactParams, FeatureMap, Kernel, PolySketch, PolySketchParams, SketchInfo, MAX_BLOCK,
    MAX_DEGREE,
};
use randnla::{Error, Scalar, Seed};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

/// Mostly small values; sometimes zero, sometimes raw bits (NaN, ∞, huge, subnormal).
fn value(b: &mut Bytes<'_>) -> f64 {
    match b.u8() % 10 {
        0 => 0.0,
        1 => b.raw_f64(),
        2 => (b.u8() as f64 - 128.0) * 1e3,
        _ => (b.u8() as f64 - 128.0) / 64.0,
    }
}

fn finite<T: Scalar>(m: MatRef<'_, T>) -> bool {
    (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].finite()))
}

fn bits<T: Scalar>(m: MatRef<'_, T>) -> Vec<u64> {
    (0..m.ncols())
        .flat_map(|j| (0..m.nrows()).map(move |i| m[(i, j)].to_f64().to_bits()))
        .collect()
}

fn cast<T: Scalar>(m: &Mat<f64>) -> Mat<T> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| T::from_f64(m[(i, j)]))
}

fn widen<T: Scalar>(m: MatRef<'_, T>) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)].to_f64())
}

fn max_abs(m: &Mat<f64>) -> f64 {
    (0..m.ncols())
        .flat_map(|j| (0..m.nrows()).map(move |i| m[(i, j)].abs()))
        .fold(0.0, f64::max)
}

/// Every entry zero or between 2⁻²⁰ and 2²⁰: no score, weight, feature or sum formed from such
/// inputs (h ≤ 5, p ≤ 10, n ≤ 40) comes near the range of `f64` — nor of `f32` for exact
/// attention, which rescales its weights — so the documented overflow errors cannot happen.
fn tame(m: &Mat<f64>) -> bool {
    let (lo, hi) = (2f64.powi(-20), 2f64.powi(20));
    (0..m.ncols())
        .all(|j| (0..m.nrows()).all(|i| m[(i, j)] == 0.0 || (lo..=hi).contains(&m[(i, j)].abs())))
}

/// Unit roundoff and smallest subnormal of `T`.
fn unit<T: Scalar>() -> (f64, f64) {
    if T::NAME == "f64" {
        (f64::EPSILON / 2.0, f64::from_bits(1))
    } else {
        (f32::EPSILON as f64 / 2.0, f32::from_bits(1) as f64)
    }
}

/// The documented error variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Empty,
    Dim,
    NonFinite,
    Param,
    TooLarge,
}

fn kind(e: &Error) -> Kind {
    match e {
        Error::Empty { .. } => Kind::Empty,
        Error::DimensionMismatch { .. } => Kind::Dim,
        Error::NonFinite { .. } => Kind::NonFinite,
        Error::InvalidParameter { .. } => Kind::Param,
        Error::TooLarge { .. } => Kind::TooLarge,
        other => panic!("an error variant no attention function documents: {other:?}"),
    }
}

/// `expected`: the documented errors whose conditions hold. With none, the call may fail only by
/// overflow (`NonFinite`: "a score or an output that overflowed"), and not at all when `must_ok`.
fn expect<R>(what: &str, r: &Result<R, Error>, expected: &[Kind], must_ok: bool) {
    match r {
        Ok(_) => assert!(
            expected.is_empty(),
            "{what}: Ok although {expected:?} is documented"
        ),
        Err(e) if expected.is_empty() => assert!(
            kind(e) == Kind::NonFinite && !must_ok,
            "{what}: {e:?} for valid input{}",
            if must_ok {
                " far inside the type's range"
            } else {
                ""
            }
        ),
        Err(e) => assert!(
            expected.contains(&kind(e)),
            "{what}: {e:?}, where the docs name {expected:?}"
        ),
    }
}

fn degree_ok(p: usize) -> bool {
    p != 0 && p.is_multiple_of(2) && p <= MAX_DEGREE
}

fn block_ok(b: usize) -> bool {
    (1..=MAX_BLOCK).contains(&b)
}

/// The inputs of one run (`Q`: n × h, `K`: m × hk, `V`: m × d).
struct Inputs {
    q: Mat<f64>,
    k: Mat<f64>,
    v: Mat<f64>,
    causal: bool,
    block: usize,
    /// Rows after `cut` are changed for the causality oracles.
    cut: usize,
}

impl Inputs {
    fn n(&self) -> usize {
        self.q.nrows()
    }
    fn m(&self) -> usize {
        self.k.nrows()
    }
    fn h(&self) -> usize {
        self.q.ncols()
    }
    fn tame(&self) -> bool {
        tame(&self.q) && tame(&self.k) && tame(&self.v)
    }

    /// `check_qkv`'s documented errors ("Empty for an empty Q, K or V; DimensionMismatch when K
    /// does not have h columns, V does not have m rows, or (causal) m ≠ n; NonFinite for NaN/∞
    /// in the inputs"), for the inputs as rounded to `T`.
    fn qkv_errors<T: Scalar>(&self, causal: bool) -> Vec<Kind> {
        let (q, k, v) = (&self.q, &self.k, &self.v);
        let mut e = Vec::new();
        if [q, k, v].iter().any(|a| a.nrows() == 0 || a.ncols() == 0) {
            e.push(Kind::Empty);
        }
        if k.ncols() != q.ncols() || v.nrows() != k.nrows() || (causal && k.nrows() != q.nrows()) {
            e.push(Kind::Dim);
        }
        if ![q, k, v].iter().all(|a| finite(cast::<T>(a).as_ref())) {
            e.push(Kind::NonFinite);
        }
        e
    }
}

/// The naive `O(n·m·r)` reference for rows `i` over `J(i)` (all `j`, or `j ≤ i` when causal):
/// weights `w = ⟨f_i, g_j⟩^power` and their rounding scale `a = ⟨|f_i|, |g_j|⟩^power`.
struct Reference {
    /// Per row: `Σ w`, `Σ a`.
    sw: Vec<f64>,
    sa: Vec<f64>,
    /// Per (row, column): `Σ w v`, `Σ a |v|`, `max |v|`, `min v`, `max v`.
    num: Mat<f64>,
    abs: Mat<f64>,
    big: Mat<f64>,
    lo: Mat<f64>,
    hi: Mat<f64>,
}

impl Reference {
    fn new(f: &Mat<f64>, g: &Mat<f64>, v: &Mat<f64>, power: i32, causal: bool) -> Reference {
        let (n, d) = (f.nrows(), v.ncols());
        let mut r = Reference {
            sw: vec![0.0; n],
            sa: vec![0.0; n],
            num: Mat::zeros(n, d),
            abs: Mat::zeros(n, d),
            big: Mat::zeros(n, d),
            lo: Mat::from_fn(n, d, |_, _| f64::INFINITY),
            hi: Mat::from_fn(n, d, |_, _| f64::NEG_INFINITY),
        };
        for i in 0..n {
            let jmax = if causal { i + 1 } else { g.nrows() };
            for j in 0..jmax {
                let (mut x, mut s) = (0.0, 0.0);
                for a in 0..f.ncols() {
                    x += f[(i, a)] * g[(j, a)];
                    s += (f[(i, a)] * g[(j, a)]).abs();
                }
                let (w, a) = (x.powi(power), s.powi(power));
                r.sw[i] += w;
                r.sa[i] += a;
                for c in 0..d {
                    let vj = v[(j, c)];
                    r.num[(i, c)] += w * vj;
                    r.abs[(i, c)] += a * vj.abs();
                    r.big[(i, c)] = r.big[(i, c)].max(vj.abs());
                    r.lo[(i, c)] = r.lo[(i, c)].min(vj);
                    r.hi[(i, c)] = r.hi[(i, c)].max(vj);
                }
            }
        }
        r
    }

    /// `out` against the normalized reference `Σ w v / (1 + Σ w)`, in `T` with unit roundoff
    /// `u`: every product and sum on the way — scores or features (`ops` counts the longest
    /// chain: powers, feature products, the sums over `h`, the features, the keys, rescalings) —
    /// errs by at most `u·ops` relative to the sum of absolute values, i.e. the numerator by
    /// `γ·Σ a |v|` and the normalizer by `γ·Σ a`; a normalizer is ≥ 1, so the output errs by
    /// `γ·(Σ a |v| + max|v|·Σ a) / max(1, 1 + Σ w − γ·Σ a)`, plus the final division.
    /// Products that underflow err absolutely instead: `spread·η·(1 + max|v|)` bounds them
    /// (`spread` counts such products times the largest factors they meet). Bounds are doubled
    /// (two computations, the reference's in f64) and doubled again for slack: a real error is
    /// of the order of the output, not of a few thousand ulps.
    ///
    /// `hull`: the output is `λ·(a weighted mean of the visible v_j)` with `λ ∈ [0, 1)`
    /// ("every weight is non-negative and every normalizer 1 + Σ_j w_ij is at least 1"), so it
    /// lies within `[min(0, min v), max(0, max v)]`, up to `hull` (or the bound above).
    fn check<T: Scalar>(
        &self,
        what: &str,
        out: MatRef<'_, T>,
        ops: usize,
        spread: f64,
        hull_ops: Option<usize>,
    ) {
        let (u, eta) = unit::<T>();
        let g = 4.0 * ops as f64 * u;
        for i in 0..out.nrows() {
            let d_lo = (1.0 + self.sw[i] - g * self.sa[i]).max(1.0);
            for c in 0..out.ncols() {
                let o = out[(i, c)].to_f64();
                let big = self.big[(i, c)];
                let slack = spread * eta * (1.0 + big);
                let tol = g * (self.abs[(i, c)] + big * self.sa[i]) / d_lo + 4.0 * u * big + slack;
                let want = self.num[(i, c)] / (1.0 + self.sw[i]);
                if tol.is_finite() && want.is_finite() {
                    assert!(
                        (o - want).abs() <= tol,
                        "{what}: out[({i}, {c})] = {o:e}, definition {want:e}, bound {tol:e}"
                    );
                }
                // (A NaN bound — ∞·0 in a reference whose powers overflowed — bounds nothing.)
                let hull_tol = match hull_ops {
                    Some(k) => 4.0 * k as f64 * u * big + slack,
                    None if tol.is_nan() => f64::INFINITY,
                    None => tol,
                };
                let (lo, hi) = (self.lo[(i, c)].min(0.0), self.hi[(i, c)].max(0.0));
                assert!(
                    o >= lo - hull_tol && o <= hi + hull_tol,
                    "{what}: out[({i}, {c})] = {o:e} outside [{lo:e}, {hi:e}] ± {hull_tol:e}"
                );
            }
        }
    }

    /// `out` against the unnormalized `Σ w v` (the block products), with the bound of
    /// [`check`](Self::check) without the normalizer.
    fn check_plain(&self, what: &str, out: MatRef<'_, f64>, ops: usize, spread: f64) {
        let (u, eta) = unit::<f64>();
        let g = 4.0 * ops as f64 * u;
        for i in 0..out.nrows() {
            for c in 0..out.ncols() {
                let o = out[(i, c)];
                let tol = g * self.abs[(i, c)] + spread * eta * (1.0 + self.big[(i, c)]);
                let want = self.num[(i, c)];
                if tol.is_finite() && want.is_finite() {
                    assert!(
                        (o - want).abs() <= tol,
                        "{what}: out[({i}, {c})] = {o:e}, definition {want:e}, bound {tol:e}"
                    );
                }
            }
        }
    }
}

/// `scale·(x − best)`, also where `x − best` overflows (scores of both signs near f64::MAX with
/// a scale near 10⁻³⁰⁸, whose product is modest: the fuzz target's find, a weight taken for 0
/// that is e^{−0.7}). Halving is exact but for subnormal scores, whose lost half-ulp is far below
/// a difference past f64::MAX.
fn scaled_gap(scale: f64, x: f64, best: f64) -> f64 {
    let d = x - best;
    if d.is_finite() {
        scale * d
    } else {
        2.0 * (scale * (x / 2.0 - best / 2.0))
    }
}

/// Exact softmax attention by definition, `Σ e^{s(x_j − x_max)} v_j / Σ e^{s(x_j − x_max)}`, and
/// its bound: a score errs by at most `γ_h·⟨|q|,|k|⟩` (`γ_h = 2(h+2)u`), which moves a weight by
/// a factor within `e^{±2|s|γ_h S}` (`S` the row's largest `⟨|q|,|k|⟩`), hence the output by
/// `expm1(4|s|γ_h S)·max|v|`; the sums, the casts and the rescalings by the running maximum
/// (`blocks` of them) add `O((m + blocks)·u)·max|v|`. Doubled for the two computations. The
/// output is a convex combination ("normalized to sum to one over J(i)"): within the visible
/// values' range up to the rounding of the sums.
#[allow(clippy::too_many_arguments)]
fn check_softmax<T: Scalar>(
    what: &str,
    out: MatRef<'_, T>,
    q: &Mat<f64>,
    k: &Mat<f64>,
    v: &Mat<f64>,
    scale: f64,
    causal: bool,
    blocks: usize,
) {
    let (u, eta) = unit::<T>();
    let (h, d) = (q.ncols(), v.ncols());
    for i in 0..q.nrows() {
        let jmax = if causal { i + 1 } else { k.nrows() };
        let (mut x, mut s) = (vec![0.0; jmax], 0.0f64);
        for (j, xj) in x.iter_mut().enumerate() {
            let mut sj = 0.0;
            for a in 0..h {
                *xj += q[(i, a)] * k[(j, a)];
                sj += (q[(i, a)] * k[(j, a)]).abs();
            }
            s = s.max(sj);
        }
        let best = x.iter().copied().fold(x[0], |b, xj| {
            if (scale > 0.0 && xj > b) || (scale < 0.0 && xj < b) {
                xj
            } else {
                b
            }
        });
        let w: Vec<f64> = x
            .iter()
            .map(|&xj| {
                if scale == 0.0 {
                    1.0
                } else {
                    scaled_gap(scale, xj, best).exp()
                }
            })
            .collect();
        let sw: f64 = w.iter().sum();
        let gh = 2.0 * (h + 2) as f64 * u;
        let kappa = (4.0 * scale.abs() * gh * s + 8.0 * u).exp_m1();
        let sums = 2.0 * (3 * jmax + 2 * blocks + 16) as f64 * u;
        // "The weights still concentrate on the largest scores": when every other score trails
        // the best by more than 1500/|s| beyond both computations' score errors, every other
        // weight underflows to zero and the output is the best key's value.
        let jb = x
            .iter()
            .position(|&xj| xj == best)
            .expect("the best is a score");
        let alone = scale != 0.0
            && x.iter().enumerate().all(|(j, &xj)| {
                j == jb || scaled_gap(scale, xj, best).abs() - scale.abs() * 4.0 * gh * s > 1500.0
            });
        for c in 0..d {
            if alone {
                let (o, vb) = (out[(i, c)].to_f64(), v[(jb, c)]);
                assert!(
                    (o - vb).abs() <= 4.0 * u * vb.abs() + eta,
                    "{what}: out[({i}, {c})] = {o:e}, not the value {vb:e} of the only key with \
                     a weight (key {jb})"
                );
            }
            let col = (0..jmax).map(|j| v[(j, c)]);
            let (lo, hi) = col
                .clone()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, hh), x| {
                    (l.min(x), hh.max(x))
                });
            let big = lo.abs().max(hi.abs());
            let want = col.zip(&w).map(|(vj, wj)| wj * vj).sum::<f64>() / sw;
            let o = out[(i, c)].to_f64();
            let slack = 8.0 * (jmax + 8) as f64 * eta * (1.0 + big);
            let tol = 2.0 * big * (kappa + sums) + slack;
            if tol.is_finite() && want.is_finite() {
                assert!(
                    (o - want).abs() <= tol,
                    "{what}: out[({i}, {c})] = {o:e}, definition {want:e}, bound {tol:e}"
                );
            }
            let hull_tol = 2.0 * big * sums + slack;
            assert!(
                o >= lo - hull_tol && o <= hi + hull_tol,
                "{what}: out[({i}, {c})] = {o:e} outside [{lo:e}, {hi:e}] ± {hull_tol:e}"
            );
        }
    }
}

/// `relative_error(a, e)`: "‖approx − exact‖_F / ‖exact‖_F, accumulated in f64 at a power-of-two
/// scale near the largest entry, so that outputs of any finite magnitude give the ratio (0 when
/// both are zero, ∞ when only exact is)"; DimensionMismatch for other shapes, NonFinite for
/// NaN/∞. The reference takes the difference at the common power-of-two scale (exact, or lost
/// below 2⁻¹⁰⁷⁴ of the largest entry), then each norm at its own scale.
fn relative_error_checks(a: &Mat<f64>, e: &Mat<f64>) {
    let mut expected = Vec::new();
    if (a.nrows(), a.ncols()) != (e.nrows(), e.ncols()) {
        expected.push(Kind::Dim);
    }
    if !(finite(a.as_ref()) && finite(e.as_ref())) {
        expected.push(Kind::NonFinite);
    }
    let res = relative_error(a.as_ref(), e.as_ref());
    expect("relative_error", &res, &expected, true);
    let Ok(got) = res else { return };
    let big = max_abs(a).max(max_abs(e));
    // `(ratio, whether it is exact)`.
    let (want, exact) = if big == 0.0 {
        (0.0, true)
    } else {
        let k = big.log2().floor() as i32;
        let (s1, s2) = (2f64.powi(-(k / 2)), 2f64.powi(-(k - k / 2)));
        let es = Mat::from_fn(e.nrows(), e.ncols(), |i, j| e[(i, j)] * s1 * s2);
        let ds = Mat::from_fn(e.nrows(), e.ncols(), |i, j| {
            a[(i, j)] * s1 * s2 - es[(i, j)]
        });
        let (dm, em) = (max_abs(&ds), max_abs(&es));
        let sq = |m: &Mat<f64>, by: f64| -> f64 {
            (0..m.ncols())
                .flat_map(|j| (0..m.nrows()).map(move |i| (m[(i, j)] / by).powi(2)))
                .sum()
        };
        if dm == 0.0 {
            // Differences below 2⁻¹⁰⁷⁴ of the largest entry are lost at the common scale: the
            // ratio is then tiny but not 0.
            let same = (0..e.ncols()).all(|j| (0..e.nrows()).all(|i| a[(i, j)] == e[(i, j)]));
            (0.0, same)
        } else if em == 0.0 {
            // Exact entries below 2⁻¹⁰⁷⁴ of the largest (a difference's): the ratio exceeds
            // 2¹⁰⁷⁴/√N, past f64::MAX.
            (f64::INFINITY, true)
        } else {
            // dm < 4 and the root lies in [1/√N, √N]: their product neither overflows nor
            // (unless dm is subnormal) loses bits, and only the last quotient can leave the
            // range. `dm / em` first overflowed where the ratio does not (an entry −2¹⁰²³
            // against exact entries near 0.3: em ≈ 0.5·2⁻¹⁰²³, ratio ≈ 4.6e307).
            (dm * (sq(&ds, dm) / sq(&es, em)).sqrt() / em, false)
        }
    };
    // 0 for equal outputs and ∞ for lost exact entries are exact. Elsewhere the reference is exact to a
    // few ulps inside [2⁻¹⁰⁰⁰, 2¹⁰⁰⁰]; outside it, scaled exact entries may be subnormal (bits
    // lost) and the last quotient may round past f64::MAX, so there the two must agree
    // within a factor 2 after clamping both into [2⁻¹⁰⁰⁰, f64::MAX].
    let ok = if exact {
        got == want
    } else if (2f64.powi(-1000)..2f64.powi(1000)).contains(&want) {
        (got - want).abs() <= 1e-12 * want
    } else {
        let clamp = |x: f64| x.clamp(2f64.powi(-1000), f64::MAX);
        clamp(got) <= 2.0 * clamp(want) && clamp(want) <= 2.0 * clamp(got)
    };
    assert!(ok, "relative_error = {got:e}, the ratio is {want:e}");
}

/// Rows after `cut` of `m` replaced by `f` of themselves.
fn perturbed(m: &Mat<f64>, cut: usize, f: impl Fn(f64) -> f64) -> Mat<f64> {
    Mat::from_fn(m.nrows(), m.ncols(), |i, j| {
        if i > cut {
            f(m[(i, j)])
        } else {
            m[(i, j)]
        }
    })
}

/// Causality: rows `0..=x.cut` of `out` are bitwise those of `run` on `K` and `V` whose rows
/// after `x.cut` are changed ("changing v_j for j > i leaves out_i bitwise unchanged";
/// J(i) = {j ≤ i} leaves out k_j too). A perturbed run that fails is not compared.
fn later_rows_leave_out<T: Scalar>(
    what: &str,
    x: &Inputs,
    (k, v): (&Mat<T>, &Mat<T>),
    out: MatRef<'_, T>,
    run: impl Fn(&Mat<T>, &Mat<T>) -> Option<Mat<T>>,
) {
    let cut = x.cut;
    let v2 = cast::<T>(&perturbed(&x.v, cut, |t| 1.5 - 3.0 * t));
    let k2 = cast::<T>(&perturbed(&x.k, cut, |t| 0.25 - 2.0 * t));
    for (later, k, v) in [("V", k, &v2), ("K", &k2, v)] {
        if let Some(o2) = run(k, v) {
            assert_eq!(
                bits(out.subrows(0, cut + 1)),
                bits(o2.as_ref().subrows(0, cut + 1)),
                "{what}, later {later}: rows ≤ {cut} changed with the rows after them"
            );
        }
    }
}

/// Exact attention in `T` (`more`: also threads and causality, f64 only).
fn exact_checks<T: Scalar>(x: &Inputs, kernel: Kernel, more: bool) {
    let (q, k, v) = (cast::<T>(&x.q), cast::<T>(&x.k), cast::<T>(&x.v));
    let mut expected = x.qkv_errors::<T>(x.causal);
    let bad_kernel = match kernel {
        Kernel::Polynomial { degree } => !degree_ok(degree),
        Kernel::Softmax { scale } => !scale.is_finite(),
        other => unreachable!("the target builds no {other:?}"),
    };
    if !block_ok(x.block) || bad_kernel {
        expected.push(Kind::Param);
    }
    let params = ExactParams {
        causal: x.causal,
        block: x.block,
    };
    let run = |k: &Mat<T>, v: &Mat<T>, par: Par| {
        exact_attention(q.as_ref(), k.as_ref(), v.as_ref(), kernel, &params, par)
    };
    let what = format!("exact {kernel:?} {} causal={}", T::NAME, x.causal);
    let res = run(&k, &v, Par::Seq);
    // The module's Precision section lists when an output is not finite: Σw·v past the range
    // (|v| near its largest value, or beyond about 2^{E/2}/n), or a score beyond it.
    expect(&what, &res, &expected, x.tame());
    let Ok(out) = res else { return };
    assert!(finite(out.as_ref()), "{what}: a non-finite output");
    assert_eq!(
        (out.nrows(), out.ncols()),
        (x.n(), x.v.ncols()),
        "{what}: shape"
    );
    // The reference sees the inputs as rounded to T.
    let (q64, k64, v64) = (widen(q.as_ref()), widen(k.as_ref()), widen(v.as_ref()));
    let (m, h, b) = (x.m(), x.h(), x.block);
    let blocks = m.div_ceil(b);
    match kernel {
        Kernel::Polynomial { degree } => {
            let p = degree as i32;
            let r = Reference::new(&q64, &k64, &v64, p, x.causal);
            let ops = degree * (h + 2) + m + 2 * blocks + 16;
            // Underflows: a weight or a product w·v (or, rescaling, a numerator) below η,
            // against a normalizer ≥ 2^{−p} once a row is rescaled.
            let spread = 8.0 * (m + 8) as f64 * 2f64.powi(p);
            r.check(&what, out.as_ref(), ops, spread, Some(m + 2 * blocks + 8));
        }
        Kernel::Softmax { scale } => {
            check_softmax(
                &what,
                out.as_ref(),
                &q64,
                &k64,
                &v64,
                scale,
                x.causal,
                blocks,
            );
        }
        other => unreachable!("the target builds no {other:?}"),
    }
    if !more {
        return;
    }
    // "The output is bitwise identical for any thread count."
    match run(&k, &v, Par::rayon(2)) {
        Ok(two) => assert_eq!(
            bits(out.as_ref()),
            bits(two.as_ref()),
            "{what}: 1 vs 2 threads"
        ),
        Err(e) => panic!("{what}: Ok on one thread, {e:?} on two"),
    }
    if x.causal && x.cut + 1 < x.n() {
        later_rows_leave_out(&what, x, (&k, &v), out.as_ref(), |k, v| {
            run(k, v, Par::Seq).ok()
        });
    }
}

/// `r` of the map `PolySketch::new` documents: `h^{p/2}` for the identity (an error beyond
/// 2048), `sketch_dim` otherwise (an error outside 1..=2048).
fn map_errors(h: usize, degree: usize, sketch_dim: usize, map: FeatureMap) -> (Vec<Kind>, usize) {
    let mut e = Vec::new();
    if !degree_ok(degree) || h == 0 {
        e.push(Kind::Param);
    }
    let r = match map {
        FeatureMap::Identity => {
            let r = (h as u128)
                .checked_pow(degree as u32 / 2)
                .unwrap_or(u128::MAX);
            if degree_ok(degree) && h > 0 && r > 2048 {
                e.push(Kind::TooLarge);
            }
            r.min(usize::MAX as u128) as usize
        }
        _ => {
            if !(1..=2048).contains(&sketch_dim) {
                e.push(Kind::Param);
            }
            sketch_dim
        }
    };
    (e, r)
}

/// The reference for attention with the map `s`: the identity map computes exact polynomial
/// attention ("the linear-time path then computes exact polynomial attention"), so it is checked
/// against `⟨q,k⟩^p` on `Q` and `K` themselves; the random maps against `⟨φ(q),φ(k)⟩²` on their
/// own features. Returns the reference, the operation count and the underflow spread.
fn sketch_reference<T: Scalar>(
    s: &PolySketch,
    q: &Mat<T>,
    k: &Mat<T>,
    v: &Mat<f64>,
    causal: bool,
) -> Option<(Reference, usize, f64)> {
    let (h, p, r, f) = (s.input_dim(), s.degree(), s.sketch_dim(), s.feature_dim());
    let m = k.nrows();
    let (fq, fk, power, ops) = if s.map() == FeatureMap::Identity {
        (
            widen(q.as_ref()),
            widen(k.as_ref()),
            p as i32,
            p * (h + 2) + f + m + 16,
        )
    } else {
        let fq = s.features(q.as_ref(), Par::Seq).ok()?;
        let fk = s.features(k.as_ref(), Par::Seq).ok()?;
        (
            widen(fq.as_ref()),
            widen(fk.as_ref()),
            2,
            2 * (r + 2) + f + m + 16,
        )
    };
    let reference = Reference::new(&fq, &fk, v, power, causal);
    // Underflows anywhere on the path meet at most the largest feature products.
    let hq = 2.0 * max_abs(&fq).powi(power);
    let hk = 2.0 * max_abs(&fk).powi(power);
    let spread = 8.0 * (f + 8) as f64 * (m + 8) as f64 * (1.0 + hq) * (1.0 + hk);
    Some((reference, ops, spread))
}

/// Sketched attention in `T` (`more`: also threads, `PolySketch::attention` and causality).
fn sketch_checks<T: Scalar>(x: &Inputs, sp: &PolySketchParams, more: bool) {
    let (q, k, v) = (cast::<T>(&x.q), cast::<T>(&x.k), cast::<T>(&x.v));
    let (mut expected, r) = map_errors(x.h(), sp.degree, sp.sketch_dim, sp.map);
    expected.extend(x.qkv_errors::<T>(sp.causal));
    if !block_ok(sp.block) {
        expected.push(Kind::Param);
    }
    let what = format!(
        "sketch {:?} p={} {} causal={}",
        sp.map,
        sp.degree,
        T::NAME,
        sp.causal
    );
    let res = poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), sp, Par::Seq);
    // The identity map's features are bounded by |x|^{p/2}: on modest f64 inputs nothing
    // overflows. (The Gaussian map's matrices are random, so no such bound is certain.)
    let must_ok = sp.map == FeatureMap::Identity && T::NAME == "f64" && x.tame();
    expect(&what, &res, &expected, must_ok);
    let Ok((out, info)) = res else { return };
    let (n, m) = (x.n(), x.m());
    assert!(finite(out.as_ref()), "{what}: a non-finite output");
    assert_eq!(
        (out.nrows(), out.ncols()),
        (n, x.v.ncols()),
        "{what}: shape"
    );
    // SketchInfo's fields as documented.
    assert_eq!(info.sketch_dim, r, "{what}: sketch_dim");
    assert_eq!(info.feature_dim, r * (r + 1) / 2, "{what}: feature_dim");
    if n == m {
        assert_eq!(info.blocks, n.div_ceil(sp.block), "{what}: blocks");
    }
    assert!(
        info.min_normalizer >= 1.0,
        "{what}: min_normalizer {}",
        info.min_normalizer
    );
    assert_eq!(
        info.rel_error.is_some(),
        sp.check,
        "{what}: rel_error iff check"
    );
    if let Some(e) = info.rel_error {
        assert!(e >= 0.0, "{what}: rel_error {e}");
    }
    let s = PolySketch::new(x.h(), sp.degree, sp.sketch_dim, sp.map, sp.seed)
        .expect("the map poly_sketch_attention built");
    let v64 = widen(v.as_ref());
    if let Some((reference, ops, spread)) = sketch_reference(&s, &q, &k, &v64, sp.causal) {
        reference.check(&what, out.as_ref(), ops, spread, None);
        // min_normalizer: the smallest 1 + Σ_j w_ij, each within the normalizer's bound.
        let (u, eta) = unit::<T>();
        let (mut want, mut tol) = (f64::INFINITY, 0.0f64);
        for i in 0..n {
            want = want.min(1.0 + reference.sw[i]);
            tol = tol.max(4.0 * ops as f64 * u * reference.sa[i] + spread * eta);
        }
        if want.is_finite() && tol.is_finite() {
            assert!(
                (info.min_normalizer - want).abs() <= tol + 4.0 * u * want,
                "{what}: min_normalizer {} against {want} ± {tol:e}",
                info.min_normalizer
            );
        }
    }
    // The second, third and fourth runs below are skipped for the widest identity maps (r = 625
    // or 1024: 2·10⁵ to 5·10⁵ features, a second or more per input); narrower maps take the
    // same paths.
    if !more || info.feature_dim > 40_000 {
        return;
    }
    // "Builds the map from params and calls PolySketch::attention"; "Bitwise identical for any
    // par" — so the map's own call on two threads gives the same bits and the same report.
    let two = s.attention(
        q.as_ref(),
        k.as_ref(),
        v.as_ref(),
        sp.causal,
        sp.block,
        sp.check,
        Par::rayon(2),
    );
    match two {
        Ok((o2, i2)) => {
            assert_eq!(
                bits(out.as_ref()),
                bits(o2.as_ref()),
                "{what}: 1 vs 2 threads"
            );
            // Everything but the timing and the per-thread workspace.
            let key = |i: &SketchInfo| {
                (
                    i.sketch_dim,
                    i.feature_dim,
                    i.blocks,
                    i.min_normalizer.to_bits(),
                    i.rel_error.map(f64::to_bits),
                )
            };
            assert_eq!(key(&info), key(&i2), "{what}: report, 1 vs 2 threads");
        }
        Err(e) => panic!("{what}: Ok on one thread, {e:?} on two"),
    }
    // workspace_bytes "is bounded independently of n and stops growing once every block is
    // full (n ≥ b) when causal, once there are 16 query blocks (n ≥ 16·b) when not; below that
    // it is smaller": with every block full, twice the rows report at least as much, and the
    // same from there on. (Not for the widest identity maps: a fourth run of those would slow
    // the target down for little.)
    if n >= sp.block && m >= sp.block && info.feature_dim <= 4096 {
        let twice =
            |a: &Mat<T>| Mat::<T>::from_fn(2 * a.nrows(), a.ncols(), |i, j| a[(i % a.nrows(), j)]);
        let (q2, k2, v2) = (twice(&q), twice(&k), twice(&v));
        let sp2 = PolySketchParams {
            check: false,
            ..*sp
        };
        if let Ok((_, i2)) =
            poly_sketch_attention(q2.as_ref(), k2.as_ref(), v2.as_ref(), &sp2, Par::Seq)
        {
            let (w1, w2) = (info.workspace_bytes, i2.workspace_bytes);
            let at = format!("{what}: workspace_bytes {w1} at n = {n}, m = {m}, {w2} at twice");
            if sp.causal || n >= 16 * sp.block {
                assert_eq!(w1, w2, "{at}");
            } else {
                assert!(w1 <= w2, "{at}");
            }
        }
    }
    if sp.causal && x.cut + 1 < n {
        later_rows_leave_out(&what, x, (&k, &v), out.as_ref(), |k, v| {
            poly_sketch_attention(q.as_ref(), k.as_ref(), v.as_ref(), sp, Par::Seq)
                .ok()
                .map(|(o, _)| o)
        });
    }
}

/// The map on its own: construction, its accessors, features (bitwise per row, any thread
/// count), weights `⟨φ(q),φ(k)⟩² ≥ 0`, and `⟨φ'(x), φ'(y)⟩ = ⟨φ(x), φ(y)⟩²`.
fn map_checks(x: &Inputs, degree: usize, sketch_dim: usize, map: FeatureMap) {
    let h = x.h();
    let seed = Seed::new(1);
    let (expected, r) = map_errors(h, degree, sketch_dim, map);
    let what = format!("PolySketch::new({h}, {degree}, {sketch_dim}, {map:?})");
    let res = PolySketch::new(h, degree, sketch_dim, map, seed);
    expect(&what, &res, &expected, true);
    let Ok(s) = res else { return };
    assert_eq!(
        (s.input_dim(), s.degree(), s.sketch_dim(), s.map(), s.seed()),
        (h, degree, r, map, seed),
        "{what}: accessors"
    );
    assert_eq!(s.feature_dim(), r * (r + 1) / 2, "{what}: feature_dim");
    let (n, m) = (x.n(), x.m());
    // As `features` for Q and K: Empty, DimensionMismatch (h columns), NonFinite.
    let mut expected = Vec::new();
    if n == 0 || m == 0 {
        expected.push(Kind::Empty);
    }
    if x.k.ncols() != h {
        expected.push(Kind::Dim);
    }
    if !(finite(x.q.as_ref()) && finite(x.k.as_ref())) {
        expected.push(Kind::NonFinite);
    }
    let w = s.weights(x.q.as_ref(), x.k.as_ref(), Par::Seq);
    // Q's features are formed before K is looked at: their overflow ("a feature that overflows
    // the scalar type") is as documented an error as a bad K.
    if !expected.is_empty() && w.is_err() {
        expected.push(Kind::NonFinite);
    }
    expect(&format!("{what}.weights"), &w, &expected, false);
    if let Ok(w) = &w {
        assert_eq!((w.nrows(), w.ncols()), (n, m), "{what}.weights: shape");
        assert!(
            (0..m).all(|j| (0..n).all(|i| w[(i, j)] >= 0.0)),
            "{what}.weights: a negative weight"
        );
    }
    let Ok(fq) = s.features(x.q.as_ref(), Par::Seq) else {
        return;
    };
    assert_eq!((fq.nrows(), fq.ncols()), (n, r), "{what}.features: shape");
    // "Each row's result does not depend on the block or the thread count (bitwise)."
    match s.features(x.q.as_ref(), Par::rayon(2)) {
        Ok(f2) => assert_eq!(
            bits(fq.as_ref()),
            bits(f2.as_ref()),
            "{what}.features: threads"
        ),
        Err(e) => panic!("{what}.features: Ok on one thread, {e:?} on two"),
    }
    let lo = x.cut % n;
    if let Ok(part) = s.features(x.q.subrows(lo, n - lo), Par::Seq) {
        assert_eq!(
            bits(fq.as_ref().subrows(lo, n - lo)),
            bits(part.as_ref()),
            "{what}.features: rows {lo}.. alone differ"
        );
    }
    let Ok(w) = w else { return };
    let Ok(fk) = s.features(x.k.as_ref(), Par::Seq) else {
        return;
    };
    // Weights against the features (ones for V: `num` is then Σ w; only entry (i, j) is read
    // from a reference over a single key).
    let (u, eta) = unit::<f64>();
    let (fq64, fk64) = (widen(fq.as_ref()), widen(fk.as_ref()));
    let hq = 2.0 * max_abs(&fq64).powi(2);
    let hk = 2.0 * max_abs(&fk64).powi(2);
    let f = s.feature_dim();
    let spread = 8.0 * (f + 8) as f64 * (1.0 + hq) * (1.0 + hk);
    let tq = if f <= 4096 {
        s.tensored_features(x.q.as_ref(), Par::Seq).ok()
    } else {
        None
    };
    let tk = if f <= 4096 {
        s.tensored_features(x.k.as_ref(), Par::Seq).ok()
    } else {
        None
    };
    for i in 0..n {
        for j in 0..m {
            let (mut dot, mut a) = (0.0, 0.0);
            for c in 0..r {
                dot += fq64[(i, c)] * fk64[(j, c)];
                a += (fq64[(i, c)] * fk64[(j, c)]).abs();
            }
            let (want, a) = (dot * dot, a * a);
            let tol = 4.0 * (2 * r + 8) as f64 * u * a + spread * eta;
            if tol.is_finite() {
                assert!(
                    (w[(i, j)] - want).abs() <= tol,
                    "{what}.weights[({i}, {j})] = {:e}, ⟨φ(q),φ(k)⟩² = {want:e} ± {tol:e}",
                    w[(i, j)]
                );
            }
            if let (Some(tq), Some(tk)) = (&tq, &tk) {
                let t: f64 = (0..f).map(|c| tq[(i, c)] * tk[(j, c)]).sum();
                let tol = 4.0 * (f + 2 * r + 8) as f64 * u * a + spread * eta;
                if tol.is_finite() {
                    assert!(
                        (t - want).abs() <= tol,
                        "{what}: ⟨φ'(q_{i}), φ'(k_{j})⟩ = {t:e}, ⟨φ(q),φ(k)⟩² = {want:e} ± {tol:e}"
                    );
                }
            }
        }
    }
}

/// `tril(ABᵀ)C` and `tril((ABᵀ)^{∘2})C` with `A = Q`, `B = K`, `C = V`.
fn block_checks(x: &Inputs) {
    let (n, m, h) = (x.n(), x.m(), x.h());
    for squared in [false, true] {
        let mut expected = Vec::new();
        if [&x.q, &x.k, &x.v]
            .iter()
            .any(|a| a.nrows() == 0 || a.ncols() == 0)
        {
            expected.push(Kind::Empty);
        }
        if m != n || x.k.ncols() != h {
            expected.push(Kind::Dim);
        }
        if !block_ok(x.block) {
            expected.push(Kind::Param);
        }
        if ![&x.q, &x.k, &x.v].iter().all(|a| finite(a.as_ref())) {
            expected.push(Kind::NonFinite);
        }
        let run = |par| {
            let f = if squared {
                causal_squared_product::<f64>
            } else {
                causal_product::<f64>
            };
            f(x.q.as_ref(), x.k.as_ref(), x.v.as_ref(), x.block, par)
        };
        let what = format!("block product squared={squared}");
        let res = run(Par::Seq);
        expect(&what, &res, &expected, x.tame());
        let Ok(out) = res else { continue };
        assert!(finite(out.as_ref()), "{what}: a non-finite output");
        assert_eq!(
            (out.nrows(), out.ncols()),
            (n, x.v.ncols()),
            "{what}: shape"
        );
        let power = if squared { 2 } else { 1 };
        let reference = Reference::new(&x.q, &x.k, &x.v, power, true);
        let f = if squared { h * (h + 1) / 2 } else { h };
        let ops = 2 * (h + 2) + f + m + 16;
        let hq = 2.0 * max_abs(&x.q).powi(power);
        let hk = 2.0 * max_abs(&x.k).powi(power);
        let spread = 8.0 * (f + 8) as f64 * (m + 8) as f64 * (1.0 + hq) * (1.0 + hk);
        reference.check_plain(&what, out.as_ref(), ops, spread);
        // "Bitwise identical for any par."
        match run(Par::rayon(2)) {
            Ok(two) => assert_eq!(bits(out.as_ref()), bits(two.as_ref()), "{what}: threads"),
            Err(e) => panic!("{what}: Ok on one thread, {e:?} on two"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let n = (b.u8() % 40) as usize;
    let m = if b.u8() % 4 == 0 {
        (b.u8() % 40) as usize
    } else {
        n
    };
    let h = (b.u8() % 6) as usize;
    let hk = if b.u8() % 8 == 0 { h + 1 } else { h };
    let d = (b.u8() % 5) as usize;
    let q = Mat::<f64>::from_fn(n, h, |_, _| value(&mut b));
    let k = Mat::<f64>::from_fn(m, hk, |_, _| value(&mut b));
    let v = Mat::<f64>::from_fn(m, d, |_, _| value(&mut b));
    let degree = (b.u8() % 12) as usize;
    let block = [1usize, 2, 7, 16, 64, 0, 9000][(b.u8() % 7) as usize];
    let causal = b.u8() % 2 == 0;
    let sketch_dim = [1usize, 3, 8, 16, 0, 5000][(b.u8() % 6) as usize];
    let map = [
        FeatureMap::Gaussian,
        FeatureMap::TensorSketch,
        FeatureMap::Identity,
    ][(b.u8() % 3) as usize];
    let scale = value(&mut b);
    let seed = Seed::new(b.u8() as u64);
    let check = b.u8() % 2 == 0;
    let cut = b.u8() as usize % n.max(1);
    let x = Inputs {
        q,
        k,
        v,
        causal,
        block,
        cut,
    };

    for kernel in [Kernel::Polynomial { degree }, Kernel::Softmax { scale }] {
        exact_checks::<f64>(&x, kernel, true);
        exact_checks::<f32>(&x, kernel, false);
    }
    let sp = PolySketchParams {
        degree,
        sketch_dim,
        map,
        causal,
        block,
        seed,
        check,
    };
    sketch_checks::<f64>(&x, &sp, true);
    sketch_checks::<f32>(&x, &sp, false);
    map_checks(&x, degree, sketch_dim, map);
    block_checks(&x);
    relative_error_checks(&x.q, &x.k);
});
