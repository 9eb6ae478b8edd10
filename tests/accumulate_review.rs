//! `SketchOperator::apply_block_into` into outputs that are *not* zero, in `f32` and `f64`, for
//! every family that implements `SketchOperator<f32>`: CountSketch, sparse sign (`s = 2, 8`),
//! Gaussian, SRHT, and row sampling (with replacement and Bernoulli).
//!
//! The laws, from the docs (`src/sketch/mod.rs`, module docs and `apply_block_into`):
//!
//! * `apply_block_into` is `out += S[:, r0 .. r0 + k] · block`. CountSketch, sparse sign,
//!   Gaussian and row sampling "accumulate each output entry over the input rows in ascending
//!   order", adding to what `out` held, and the zeros of a dense block are skipped (a sparse block
//!   here stores no zeros). So entry `(i, j)` after the calls for blocks in ascending offset order
//!   is, in `T` arithmetic, `acc = P_ij; for each input row k ascending with S_ik ≠ 0 and
//!   A_kj ≠ 0: acc = acc + S_ik·A_kj` — bitwise, with `S = to_dense::<T>()`. (Product order
//!   does not matter: IEEE multiplication commutes, and `(−c)·v = −(c·v)`.) The one documented
//!   exception, an explicitly stored zero of a sparse block meeting a `−0` in `out`, cannot
//!   arise: the sparse copies here store no zeros, so a `−0` of `P` that receives no product
//!   stays `−0` in every layout (group 1 checks that sign; elsewhere `P` holds no `−0`).
//! * The SRHT agrees only to rounding. It adds `fl(h·(1/√m))` to `out`, `h` an unnormalized
//!   Hadamard sum computed by a butterfly tree of depth `L = log₂ n'` ("the unnormalized Hadamard
//!   sums come before the 1/√m"), so after `c` calls every term of entry `(i, j)` has been
//!   rounded at most `L + 1 + c` times and `P_ij` at most `c` times:
//!   `|out − (P + S·A)| ≤ γ_{L+1+c}·(|P| + Σ_k |S_ik·A_kj|)` with `γ_q = q·u/(1 − q·u)`.
//!
//! Groups: 1 one block into `P`; 2 blocks merged into `P` against the whole `A` (layouts,
//! threads); 2b `out` a window of a larger matrix or row-major; 3 `f32` against `f64`;
//! 4 errors (shapes, a non-finite `out`, overflow of `T`).
//!
//! References are computed with plain loops from `to_dense()` (never through the crate's
//! kernels). Data are random with exact zeros, every value exactly representable in `f32`, so
//! the same numbers feed the `f32` and `f64` runs. Sizes: `n = 200`, `d = 5`, `m = 20`.

use crate::common::{self, log::Log};
use faer::{Mat, MatRef};
use randnla::sketch::sampling::RowSampling;
use randnla::sketch::{CountSketch, Gaussian, SketchExt, SketchOperator, SparseSign, Srht};
use randnla::{Error, MatrixRef, Scalar, Seed};

const N: usize = 200;
const D: usize = 5;
const M: usize = 20;

/// The two scalar types with what the tests need of them.
trait F: Scalar + std::ops::AddAssign + std::ops::Mul<Output = Self> + PartialEq + PartialOrd {
    /// The unit roundoff (2⁻²⁴ for `f32`, 2⁻⁵³ for `f64`).
    const U: f64;
    const MAX: Self;
    const NAN: Self;
    const INF: Self;
}
macro_rules! impl_f {
    ($t:ty) => {
        impl F for $t {
            const U: f64 = <$t>::EPSILON as f64 / 2.0;
            const MAX: Self = <$t>::MAX;
            const NAN: Self = <$t>::NAN;
            const INF: Self = <$t>::INFINITY;
        }
    };
}
impl_f!(f32);
impl_f!(f64);

/// `γ_q = q·u/(1 − q·u)` (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1).
fn gamma(q: usize, u: f64) -> f64 {
    let qu = q as f64 * u;
    qu / (1.0 - qu)
}

/// `rows × cols` values exactly representable in `f32`: about `zeros` of them exactly `+0`, the
/// others `±[0.5, 1)·2^e` rounded to `f32`, `e ∈ −4..4`. Never `−0`.
fn data(rows: usize, cols: usize, seed: u64, zeros: f64) -> Mat<f64> {
    let mut r = common::Rng(seed);
    Mat::from_fn(rows, cols, |_, _| {
        let keep = (r.next() + 1.0) / 2.0 >= zeros;
        let e = (r.next_u64() % 9) as i32 - 4;
        let v = (r.next() * 2f64.powi(e)) as f32 as f64;
        if keep && v != 0.0 {
            v
        } else {
            0.0
        }
    })
}

fn cast<T: F>(a: &Mat<f64>) -> Mat<T> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| T::from_f64(a[(i, j)]))
}

/// The entries widened to `f64` (exact), column-major.
fn wide<T: F>(a: MatRef<'_, T>) -> Vec<f64> {
    let mut v = Vec::with_capacity(a.nrows() * a.ncols());
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            v.push(a[(i, j)].to_f64());
        }
    }
    v
}

/// A family, and whether the docs promise the fixed-order (bitwise) law for it.
struct Fam<T> {
    name: &'static str,
    op: Box<dyn SketchOperator<T>>,
    bitwise: bool,
}

/// The sampling weights `1 + (i mod 7)`: not uniform, every row possible.
fn weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| 1.0 + (i % 7) as f64).collect()
}

fn families<T: F>(m: usize, n: usize, seed: u64) -> Vec<Fam<T>> {
    let s = Seed::new(seed);
    let w = weights(n);
    let bern = RowSampling::bernoulli(&w, m, s).unwrap();
    assert!(
        SketchOperator::<T>::nrows(&bern) > 0,
        "Bernoulli kept no row"
    );
    let fam = |name, op: Box<dyn SketchOperator<T>>, bitwise| Fam { name, op, bitwise };
    vec![
        fam("count", Box::new(CountSketch::new(m, n, s).unwrap()), true),
        fam(
            "sparse-sign-2",
            Box::new(SparseSign::new(m, n, 2, s).unwrap()),
            true,
        ),
        fam(
            "sparse-sign-8",
            Box::new(SparseSign::new(m, n, 8, s).unwrap()),
            true,
        ),
        fam("gaussian", Box::new(Gaussian::new(m, n, s).unwrap()), true),
        fam("srht", Box::new(Srht::new(m, n, s).unwrap()), false),
        fam(
            "row-sampling",
            Box::new(RowSampling::with_replacement(&w, m, s).unwrap()),
            true,
        ),
        fam("bernoulli", Box::new(bern), true),
    ]
}

/// The storage layouts a block is handed over in.
const LAYOUTS: [&str; 4] = ["dense", "dense-row-major", "csr", "csc"];

/// One block in every layout (sparse copies store only the nonzeros).
struct Stored<T> {
    dense: Mat<T>,
    dense_t: Mat<T>,
    csr: sprs::CsMat<T>,
    csc: sprs::CsMat<T>,
}

fn compressed<T: F>(a: &Mat<T>, by_rows: bool) -> sprs::CsMat<T> {
    let (outer, inner) = if by_rows {
        (a.nrows(), a.ncols())
    } else {
        (a.ncols(), a.nrows())
    };
    let (mut ptr, mut idx, mut val) = (vec![0usize], Vec::new(), Vec::new());
    for o in 0..outer {
        for q in 0..inner {
            let v = if by_rows { a[(o, q)] } else { a[(q, o)] };
            if v != T::ZERO {
                idx.push(q);
                val.push(v);
            }
        }
        ptr.push(idx.len());
    }
    let shape = (a.nrows(), a.ncols());
    if by_rows {
        sprs::CsMat::new(shape, ptr, idx, val)
    } else {
        sprs::CsMat::new_csc(shape, ptr, idx, val)
    }
}

impl<T: F> Stored<T> {
    fn new(a: MatRef<'_, T>) -> Self {
        let dense = a.to_owned();
        Stored {
            dense_t: dense.transpose().to_owned(),
            csr: compressed(&dense, true),
            csc: compressed(&dense, false),
            dense,
        }
    }
    fn view(&self, layout: &str) -> MatrixRef<'_, T> {
        match layout {
            "dense" => MatrixRef::dense(self.dense.as_ref()).unwrap(),
            "dense-row-major" => MatrixRef::dense(self.dense_t.transpose()).unwrap(),
            "csr" => MatrixRef::sparse(&self.csr).unwrap(),
            _ => MatrixRef::sparse(&self.csc).unwrap(),
        }
    }
}

/// The fixed-order law in `T`: `P`, then for the blocks `(r0, A[r0..r1])` in the order given,
/// each entry adds `S_ik·A_kj` over the block's rows `k` ascending, skipping zero products.
fn fixed_order<T: F>(s: &Mat<T>, p: &Mat<T>, a: &Mat<T>, blocks: &[(usize, usize)]) -> Mat<T> {
    let mut out = p.clone();
    for &(r0, r1) in blocks {
        for j in 0..out.ncols() {
            for i in 0..out.nrows() {
                let mut acc = out[(i, j)];
                for k in r0..r1 {
                    let (sv, v) = (s[(i, k)], a[(k, j)]);
                    if sv != T::ZERO && v != T::ZERO {
                        acc += sv * v;
                    }
                }
                out[(i, j)] = acc;
            }
        }
    }
    out
}

/// `P + Σ_blocks S·A_block` in `f64` from the widened `T` values, with per entry (column-major)
/// `|P| + Σ|S_ik·A_kj|` and the number of nonzero products.
fn wide_ref<T: F>(
    s: &Mat<T>,
    p: &Mat<T>,
    a: &Mat<T>,
    blocks: &[(usize, usize)],
) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
    let (mut val, mut mag, mut cnt) = (Vec::new(), Vec::new(), Vec::new());
    for j in 0..p.ncols() {
        for i in 0..p.nrows() {
            let (mut v, mut g, mut c) = (p[(i, j)].to_f64(), p[(i, j)].to_f64().abs(), 0);
            for &(r0, r1) in blocks {
                for k in r0..r1 {
                    let t = s[(i, k)].to_f64() * a[(k, j)].to_f64();
                    if t != 0.0 {
                        v += t;
                        g += t.abs();
                        c += 1;
                    }
                }
            }
            val.push(v);
            mag.push(g);
            cnt.push(c);
        }
    }
    (val, mag, cnt)
}

/// Checks `out` after the calls for `blocks` (ascending offsets) against the law of `fam`: the
/// fixed-order result bitwise, or for the SRHT `|out − ref| ≤ (γ^T_{L+1+c} + γ^{f64}_{q+1})·mag`
/// (`c` calls, `q` nonzero products; the second term is the `f64` reference's own rounding).
#[allow(clippy::too_many_arguments)]
fn check_law<T: F>(
    log: &mut Log,
    ctx: &str,
    fam: &Fam<T>,
    s: &Mat<T>,
    p: &Mat<T>,
    a: &Mat<T>,
    blocks: &[(usize, usize)],
    got: MatRef<'_, T>,
) {
    if fam.bitwise {
        log.bits(
            ctx,
            &wide(got),
            &wide(fixed_order(s, p, a, blocks).as_ref()),
        );
    } else {
        let (want, mag, cnt) = wide_ref(s, p, a, blocks);
        let depth = s.ncols().next_power_of_two().trailing_zeros() as usize;
        let bound: Vec<f64> = (0..mag.len())
            .map(|e| (gamma(depth + 1 + blocks.len(), T::U) + gamma(cnt[e] + 1, f64::U)) * mag[e])
            .collect();
        log.entries(ctx, &wide(got), &want, &bound);
    }
}

/// Runs the calls for `blocks` into a copy of `p`; `None` (logged) on an error.
#[allow(clippy::too_many_arguments)]
fn accumulate<T: F>(
    log: &mut Log,
    ctx: &str,
    op: &dyn SketchOperator<T>,
    stored: &[Stored<T>],
    blocks: &[(usize, usize)],
    p: &Mat<T>,
    layout: &str,
    par: faer::Par,
) -> Option<Mat<T>> {
    let mut out = p.clone();
    for (b, &(r0, _)) in stored.iter().zip(blocks) {
        log.ok(
            ctx,
            op.apply_block_into(r0, b.view(layout), out.as_mut(), par),
        )?;
    }
    Some(out)
}

/// `a` with its zeros turned into `−0`.
fn negative_zeros(a: Mat<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| {
        if a[(i, j)] == 0.0 {
            -0.0
        } else {
            a[(i, j)]
        }
    })
}

/// Group 1. One block `A[r0..r1]` (interior, at the start, at the end; the last row alone,
/// where most entries receive no product) added into `P`, a third of whose entries are `−0`,
/// every layout, one thread. Pass rule: the module law (bitwise fixed order, the sign of a `−0`
/// that receives nothing included; SRHT within its bound).
fn prefilled_single_block<T: F>(what: &'static str) {
    let mut log = Log::new(what);
    let a = cast::<T>(&data(N, D, 11, 0.3));
    for fam in families::<T>(M, N, 21) {
        let s = fam.op.to_dense().unwrap();
        // A third of `P` is `−0`: kept where nothing is added (module docs).
        let p = cast::<T>(&negative_zeros(data(s.nrows(), D, 12, 0.3)));
        for &(r0, r1) in &[(37usize, 151usize), (0, 64), (150, N), (199, N)] {
            let stored = [Stored::new(a.subrows(r0, r1 - r0))];
            for layout in LAYOUTS {
                let ctx = format!("{} {layout} rows {r0}..{r1}", fam.name);
                let blocks = [(r0, r1)];
                let par = faer::Par::Seq;
                if let Some(out) =
                    accumulate(&mut log, &ctx, &*fam.op, &stored, &blocks, &p, layout, par)
                {
                    check_law(&mut log, &ctx, &fam, &s, &p, &a, &blocks, out.as_ref());
                }
            }
        }
    }
    log.finish();
}

#[test]
fn prefilled_single_block_f32() {
    prefilled_single_block::<f32>("P + S·A_block, f32");
}

#[test]
fn prefilled_single_block_f64() {
    prefilled_single_block::<f64>("P + S·A_block, f64");
}

/// Group 2. `out = P`, then `A` whole, or split in 2 or 3 row blocks applied at their offsets in
/// ascending order, in every layout, on 1 and 2 threads. Pass rule: for the bitwise families
/// every split, layout and thread count gives the same bits as the whole `A` and as the
/// fixed-order law (README: whole vs row blocks, CSR/CSC/dense, thread counts); for the SRHT
/// each result lies within the module bound for its number of calls.
fn merge_into_prefilled<T: F>(what: &'static str) {
    let mut log = Log::new(what);
    let a = cast::<T>(&data(N, D, 31, 0.4));
    let splits: [&[(usize, usize)]; 4] = [
        &[(0, N)],
        &[(0, 1), (1, N)],
        &[(0, 97), (97, N)],
        &[(0, 64), (64, 130), (130, N)],
    ];
    for threads in [1usize, 2] {
        common::with_threads(threads, |par| {
            for fam in families::<T>(M, N, 41) {
                let s = fam.op.to_dense().unwrap();
                let p = cast::<T>(&data(s.nrows(), D, 32, 0.0));
                for layout in LAYOUTS {
                    let mut whole: Option<Vec<f64>> = None;
                    for blocks in splits {
                        let stored: Vec<Stored<T>> = blocks
                            .iter()
                            .map(|&(r0, r1)| Stored::new(a.subrows(r0, r1 - r0)))
                            .collect();
                        let ctx = format!("{} {layout} {threads} thr {blocks:?}", fam.name);
                        let Some(out) =
                            accumulate(&mut log, &ctx, &*fam.op, &stored, blocks, &p, layout, par)
                        else {
                            continue;
                        };
                        check_law(&mut log, &ctx, &fam, &s, &p, &a, blocks, out.as_ref());
                        match (&whole, fam.bitwise) {
                            (None, _) => whole = Some(wide(out.as_ref())),
                            (Some(w), true) => log.bits(&ctx, &wide(out.as_ref()), w),
                            (Some(_), false) => {}
                        }
                    }
                }
            }
        });
    }
    log.finish();
}

#[test]
fn merged_blocks_into_prefilled_f32() {
    merge_into_prefilled::<f32>("P + blocks = P + whole, f32");
}

#[test]
fn merged_blocks_into_prefilled_f64() {
    merge_into_prefilled::<f64>("P + blocks = P + whole, f64");
}

/// Group 2b. `out` a strided view: a window of a larger pre-filled matrix (column stride
/// `m + 5`), or row-major (the transpose of a `d × m` matrix). Pass rule: the window follows the
/// module law against `P` (its entries before the calls) exactly as a contiguous `out` does, and
/// every entry of the larger matrix outside the window keeps its bits. Every family, layout,
/// 1 and 2 threads, `A` in two blocks.
fn strided_out<T: F>(what: &'static str) {
    let mut log = Log::new(what);
    let a = cast::<T>(&data(N, D, 131, 0.4));
    let blocks = [(0usize, 83usize), (83, N)];
    let stored: Vec<Stored<T>> = blocks
        .iter()
        .map(|&(r0, r1)| Stored::new(a.subrows(r0, r1 - r0)))
        .collect();
    for threads in [1usize, 2] {
        common::with_threads(threads, |par| {
            for fam in families::<T>(M, N, 141) {
                let s = fam.op.to_dense().unwrap();
                let m = s.nrows();
                for layout in LAYOUTS {
                    for shape in ["window", "row-major"] {
                        let ctx = format!("{} {layout} {shape} {threads} thr", fam.name);
                        let (mut big, at) = if shape == "window" {
                            (cast::<T>(&data(m + 5, D + 3, 132, 0.0)), (2, 1))
                        } else {
                            (cast::<T>(&data(D, m, 133, 0.0)), (0, 0))
                        };
                        let before = big.clone();
                        let view = |b: &Mat<T>| -> Mat<T> {
                            match shape {
                                "window" => b.as_ref().submatrix(at.0, at.1, m, D).to_owned(),
                                _ => b.as_ref().transpose().to_owned(),
                            }
                        };
                        let p = view(&big);
                        let mut ok = true;
                        for (b, &(r0, _)) in stored.iter().zip(&blocks) {
                            let out = match shape {
                                "window" => big.as_mut().submatrix_mut(at.0, at.1, m, D),
                                _ => big.as_mut().transpose_mut(),
                            };
                            let r = fam.op.apply_block_into(r0, b.view(layout), out, par);
                            ok &= log.ok(&ctx, r).is_some();
                        }
                        if !ok {
                            continue;
                        }
                        let got = view(&big);
                        check_law(&mut log, &ctx, &fam, &s, &p, &a, &blocks, got.as_ref());
                        // Outside the window: the bits of before (the window zeroed in both).
                        if shape == "window" {
                            let mut masked = [big, before];
                            for x in &mut masked {
                                x.as_mut().submatrix_mut(at.0, at.1, m, D).fill(T::ZERO);
                            }
                            let [after, before] = masked.map(|x| wide(x.as_ref()));
                            log.bits(&format!("{ctx} outside"), &after, &before);
                        }
                    }
                }
            }
        });
    }
    log.finish();
}

#[test]
fn strided_out_f32() {
    strided_out::<f32>("strided out, f32");
}

#[test]
fn strided_out_f64() {
    strided_out::<f64>("strided out, f64");
}

/// Group 3. The `f32` accumulation `P + S·A` of `f32` data against the `f64` accumulation of
/// the same (exactly representable) data. `S` in `f32` is `S` in `f64` rounded once (one more
/// rounding per term). With `q` the nonzero products of entry `(i, j)`, each term of the `f32`
/// result is rounded at most `q + 2` times (entry of `S`, product, `q` additions) and each of
/// the `f64` one `q + 1` times; for the SRHT `L + 3` and `L + 2` (`L = log₂ n'`: butterfly
/// depth, scale, addition to `out`, and the `f32` scale's rounding). Pass rule, every entry:
/// `|out32 − out64| ≤ (γ^{f32}_{q+2} + γ^{f64}_{q+1})·(|P| + Σ_k |S64_ik·A_kj|)` (SRHT:
/// `γ^{f32}_{L+3} + γ^{f64}_{L+2}`), in every layout, 2 threads.
#[test]
fn f32_accumulation_matches_f64_within_gamma() {
    let mut log = Log::new("f32 vs f64 accumulation");
    let a64 = data(N, D, 51, 0.3);
    let a32 = cast::<f32>(&a64);
    let depth = N.next_power_of_two().trailing_zeros() as usize;
    common::with_threads(2, |par| {
        let f64s = families::<f64>(M, N, 61);
        for (f32f, f64f) in families::<f32>(M, N, 61).into_iter().zip(f64s) {
            let s = f64f.op.to_dense().unwrap();
            let p64 = data(s.nrows(), D, 52, 0.0);
            let p32 = cast::<f32>(&p64);
            let (st32, st64) = (Stored::new(a32.as_ref()), Stored::new(a64.as_ref()));
            let (_, mag, cnt) = wide_ref(&s, &p64, &a64, &[(0, N)]);
            let bound: Vec<f64> = (0..mag.len())
                .map(|e| {
                    let (q32, q64) = if f32f.bitwise {
                        (cnt[e] + 2, cnt[e] + 1)
                    } else {
                        (depth + 3, depth + 2)
                    };
                    (gamma(q32, f32::U) + gamma(q64, f64::U)) * mag[e]
                })
                .collect();
            for layout in LAYOUTS {
                let ctx = format!("{} {layout}", f32f.name);
                let (mut o32, mut o64) = (p32.clone(), p64.clone());
                let r32 = f32f
                    .op
                    .apply_block_into(0, st32.view(layout), o32.as_mut(), par);
                let r64 = f64f
                    .op
                    .apply_block_into(0, st64.view(layout), o64.as_mut(), par);
                if log.ok(&ctx, r32).is_some() && log.ok(&ctx, r64).is_some() {
                    log.entries(&ctx, &wide(o32.as_ref()), &wide(o64.as_ref()), &bound);
                }
            }
        }
    });
    log.finish();
}

fn is_dim(r: &randnla::Result<()>) -> bool {
    matches!(r, Err(Error::DimensionMismatch { .. }))
}

fn is_nonfinite(r: &randnla::Result<()>) -> bool {
    matches!(r, Err(Error::NonFinite { .. }))
}

/// `r` is `NonFinite` naming `(row, col)`, and (docs: the block has been added, the entry named
/// is the first NaN or ±∞ in column-major order) `out` holds a NaN or ±∞ there and none before
/// it in column-major order. Returns the entry named.
fn names_first_nonfinite<T: F>(
    log: &mut Log,
    ctx: &str,
    r: &randnla::Result<()>,
    out: MatRef<'_, T>,
) -> Option<(usize, usize)> {
    log.checks += 1;
    let Err(Error::NonFinite { row, col, .. }) = r else {
        log.fail(ctx, format!("expected NonFinite, got {r:?}"));
        return None;
    };
    let (row, col) = (*row, *col);
    let first = (0..out.ncols())
        .flat_map(|j| (0..out.nrows()).map(move |i| (i, j)))
        .find(|&(i, j)| !out[(i, j)].finite());
    if first != Some((row, col)) {
        log.fail(
            ctx,
            format!("NonFinite names ({row}, {col}); first non-finite entry of out: {first:?}"),
        );
    }
    Some((row, col))
}

/// Group 4a. Shapes: an `out` of the wrong shape (a row more or fewer, a column more) and a block
/// that does not fit at its offset (one row past `n`, offset `n`, offset `usize::MAX`) are
/// `DimensionMismatch`, and `out` (pre-filled) keeps its bits. (The docs state "unchanged" only
/// for `TooLarge`; every implementation checks the shapes before writing, and
/// `errors_review::apply_block_into_shapes` holds `f64` to it: here `f32`, and every family.)
fn shape_errors<T: F>(what: &'static str) {
    let mut log = Log::new(what);
    let a = cast::<T>(&data(N, D, 71, 0.3));
    let whole = Stored::new(a.as_ref());
    let tail = Stored::new(a.subrows(N - 10, 10));
    let one = Stored::new(a.subrows(0, 1));
    for fam in families::<T>(M, N, 81) {
        let m = fam.op.nrows();
        for layout in LAYOUTS {
            let mut cases: Vec<(String, usize, &Stored<T>, usize, usize)> = vec![
                ("rows + 1".into(), 0, &whole, m + 1, D),
                ("cols + 1".into(), 0, &whole, m, D + 1),
                ("10 rows at n − 9".into(), N - 9, &tail, m, D),
                ("1 row at n".into(), N, &one, m, D),
                ("1 row at usize::MAX".into(), usize::MAX, &one, m, D),
            ];
            if m > 1 {
                cases.push(("rows − 1".into(), 0, &whole, m - 1, D));
            }
            for (case, r0, block, rows, cols) in cases {
                let ctx = format!("{} {layout} {case}", fam.name);
                let p = cast::<T>(&data(rows, cols, 72, 0.0));
                let mut out = p.clone();
                let r = fam
                    .op
                    .apply_block_into(r0, block.view(layout), out.as_mut(), SEQ);
                log.checks += 1;
                if !is_dim(&r) {
                    log.fail(&ctx, format!("expected DimensionMismatch, got {r:?}"));
                }
                log.bits(&ctx, &wide(out.as_ref()), &wide(p.as_ref()));
            }
        }
    }
    log.finish();
}

const SEQ: faer::Par = faer::Par::Seq;

#[test]
fn shape_errors_leave_out_unchanged_f32() {
    shape_errors::<f32>("shape errors, f32");
}

#[test]
fn shape_errors_leave_out_unchanged_f64() {
    shape_errors::<f64>("shape errors, f64");
}

/// Group 4b. An `out` already holding NaN, `+∞` or `−∞` (at its first, a middle and its last
/// entry) before a non-empty block (the whole `A`, so that every output row is written, as the
/// row-sampling check requires) is `NonFinite` naming that entry (the block adds finite values,
/// so it stays the first non-finite one in column-major order). A block with no rows is `Ok`
/// without reading `out`, which keeps its bits, NaN included (docs of `apply_block_into`).
/// Every family and layout.
fn nonfinite_out<T: F>(what: &'static str) {
    let mut log = Log::new(what);
    let a = cast::<T>(&data(N, D, 91, 0.3));
    let whole = Stored::new(a.as_ref());
    let empty = Stored::new(a.subrows(0, 0));
    for fam in families::<T>(M, N, 101) {
        let m = fam.op.nrows();
        let p = cast::<T>(&data(m, D, 92, 0.0));
        for layout in LAYOUTS {
            for (v, vname) in [
                (T::NAN, "NaN"),
                (T::INF, "+inf"),
                (T::ZERO - T::INF, "-inf"),
            ] {
                for (i, j) in [(0, 0), (m / 2, D / 2), (m - 1, D - 1)] {
                    let ctx = format!("{} {layout} {vname} at ({i}, {j})", fam.name);
                    let mut bad = p.clone();
                    bad[(i, j)] = v;
                    let mut out = bad.clone();
                    let r = fam
                        .op
                        .apply_block_into(0, whole.view(layout), out.as_mut(), SEQ);
                    let named = names_first_nonfinite(&mut log, &ctx, &r, out.as_ref());
                    if named.is_some_and(|e| e != (i, j)) {
                        log.fail(&ctx, format!("NonFinite names {named:?}, not ({i}, {j})"));
                    }
                    for r0 in [0, N] {
                        let mut out = bad.clone();
                        let r = fam
                            .op
                            .apply_block_into(r0, empty.view(layout), out.as_mut(), SEQ);
                        let c = format!("{ctx}, empty block at {r0}");
                        if log.ok(&c, r).is_some() {
                            log.bits(&c, &wide(out.as_ref()), &wide(bad.as_ref()));
                        }
                    }
                }
            }
        }
    }
    log.finish();
}

#[test]
fn nonfinite_out_is_reported_f32() {
    nonfinite_out::<f32>("non-finite out, f32");
}

#[test]
fn nonfinite_out_is_reported_f64() {
    nonfinite_out::<f64>("non-finite out, f64");
}

/// Group 4c. Overflow of `T` is `NonFinite`, never `Ok` holding ±∞, every family and layout:
/// (i) `out = ±MAX` (the sign of `S[:, r0]`) and the one-row block `A[r0] = MAX·2⁻⁸`: every
///     entry where `S_i,r0 ≠ 0` adds a term of its own sign of at least `MAX·2⁻⁸·min|S_i,r0|`,
///     far above half an ulp of `MAX` (2¹⁰³ in `f32`), so it rounds to ±∞;
/// (ii) zero `out` (and `SketchExt::apply`) with `A[k, 0] = ±0.75·MAX` of the sign of
///     `S[i0, k]`, `i0` the row of largest `Σ_k |S_i0,k| ≥ 2` (asserted): entry `(i0, 0)` sums
///     terms of one sign to at least `1.5·MAX`, which no rounding (γ_q ≪ 1/3) brings back below
///     `MAX`, so it overflows (the SRHT's butterflies may overflow earlier: still non-finite).
/// Each error must name the first NaN or ±∞ of `out` in column-major order, `out` holding the
/// block added (docs); `apply` (from zeros, as (ii)'s `out`) names the same entry.
fn overflow<T: F>(what: &'static str) {
    let mut log = Log::new(what);
    for fam in families::<T>(M, N, 111) {
        let s = fam.op.to_dense().unwrap();
        let m = s.nrows();
        // (i)
        let r0 = (0..N)
            .find(|&k| (0..m).any(|i| s[(i, k)] != T::ZERO))
            .unwrap();
        let row = Mat::<T>::from_fn(1, D, |_, _| T::MAX * T::from_f64(2f64.powi(-8)));
        let stored = Stored::new(row.as_ref());
        for layout in LAYOUTS {
            let ctx = format!("{} {layout} (i) row {r0}", fam.name);
            // `±MAX` of the sign of `S[i, r0]` where it is nonzero, `MAX/2` elsewhere.
            let mut out = Mat::<T>::from_fn(m, D, |i, _| match s[(i, r0)] {
                v if v > T::ZERO => T::MAX,
                v if v < T::ZERO => T::ZERO - T::MAX,
                _ => T::MAX * T::from_f64(0.5),
            });
            let r = fam
                .op
                .apply_block_into(r0, stored.view(layout), out.as_mut(), SEQ);
            names_first_nonfinite(&mut log, &ctx, &r, out.as_ref());
        }
        // (ii)
        let sums: Vec<f64> = (0..m)
            .map(|i| (0..N).map(|k| s[(i, k)].to_f64().abs()).sum())
            .collect();
        let i0 = (0..m).max_by(|&x, &y| sums[x].total_cmp(&sums[y])).unwrap();
        assert!(sums[i0] >= 2.0, "{}: Σ|S_i0,k| = {}", fam.name, sums[i0]);
        let big = T::MAX * T::from_f64(0.75);
        let small = cast::<T>(&data(N, D, 112, 0.3));
        let a = Mat::<T>::from_fn(N, D, |k, j| match j {
            0 if s[(i0, k)] < T::ZERO => T::ZERO - big,
            0 => big,
            _ => small[(k, j)],
        });
        let stored = Stored::new(a.as_ref());
        for layout in LAYOUTS {
            let ctx = format!("{} {layout} (ii)", fam.name);
            let mut out = Mat::<T>::zeros(m, D);
            let r = fam
                .op
                .apply_block_into(0, stored.view(layout), out.as_mut(), SEQ);
            let named = names_first_nonfinite(&mut log, &ctx, &r, out.as_ref());
            let r = fam.op.apply(stored.view(layout), SEQ).map(|_| ());
            log.checks += 1;
            match (&r, named) {
                (Err(Error::NonFinite { row, col, .. }), Some(e)) if (*row, *col) != e => {
                    log.fail(&ctx, format!("apply names ({row}, {col}), the block {e:?}"))
                }
                _ if !is_nonfinite(&r) => {
                    log.fail(&ctx, format!("apply: expected NonFinite, got {r:?}"))
                }
                _ => {}
            }
        }
    }
    log.finish();
}

#[test]
fn overflow_is_nonfinite_f32() {
    overflow::<f32>("overflow, f32");
}

#[test]
fn overflow_is_nonfinite_f64() {
    overflow::<f64>("overflow, f64");
}
