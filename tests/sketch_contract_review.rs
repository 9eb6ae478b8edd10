//! A downstream user's review of the sketch core's public contract (`SketchOperator`,
//! `SketchExt`, CountSketch, SparseSign, Gaussian, Srht): each test states the promise it holds
//! the crate to.

use crate::common;

use common::*;
use faer::{Mat, Par};
use randnla::sketch::*;
use randnla::{Error, MatrixRef, Seed, SparseRef};

/// Families at `m × n`, sparse sign with `s` in {2, m} too (s = m is the densest allowed).
fn families(m: usize, n: usize, seed: Seed) -> Vec<Box<dyn SketchOperator<f64>>> {
    let mut v: Vec<Box<dyn SketchOperator<f64>>> = vec![
        Box::new(CountSketch::new(m, n, seed).unwrap()),
        Box::new(Gaussian::new(m, n, seed).unwrap()),
    ];
    for s in [2, 70, m] {
        if s <= m {
            v.push(Box::new(SparseSign::new(m, n, s, seed).unwrap()));
        }
    }
    if m <= n.next_power_of_two() {
        v.push(Box::new(Srht::new(m, n, seed).unwrap()));
    }
    v
}

/// `S·A` from `to_dense()` by a plain triple loop (ascending input row), in f64.
fn reference(s: &Mat<f64>, a: &Mat<f64>) -> Mat<f64> {
    Mat::from_fn(s.nrows(), a.ncols(), |i, j| {
        let mut acc = 0.0;
        for k in 0..s.ncols() {
            acc += s[(i, k)] * a[(k, j)];
        }
        acc
    })
}

fn value(i: usize, j: usize) -> f64 {
    let h = (i.wrapping_mul(2654435761) ^ j.wrapping_mul(40503)) % 1000;
    h as f64 / 37.0 - 13.0
}

/// An `n × d` CSR matrix with about `per_row` entries per row (some rows empty), explicit zeros
/// stored in some places.
fn csr(n: usize, d: usize, per_row: usize, zeros: bool) -> sprs::CsMat<f64> {
    let mut tri = sprs::TriMat::new((n, d));
    for i in 0..n {
        if i % 5 == 3 {
            continue;
        }
        let mut cols: Vec<usize> = (0..per_row.min(d)).map(|t| (i * 7 + t * 3) % d).collect();
        cols.sort_unstable();
        cols.dedup();
        for c in cols {
            let v = if zeros && (i + c) % 4 == 0 {
                0.0
            } else {
                value(i, c)
            };
            tri.add_triplet(i, c, v);
        }
    }
    tri.to_csr()
}

fn close(got: &Mat<f64>, want: &Mat<f64>, tol: f64, what: &str) {
    assert_eq!(
        (got.nrows(), got.ncols()),
        (want.nrows(), want.ncols()),
        "{what}: shape"
    );
    let mut scale: f64 = 1.0;
    for j in 0..want.ncols() {
        for i in 0..want.nrows() {
            scale = scale.max(want[(i, j)].abs());
        }
    }
    for j in 0..want.ncols() {
        for i in 0..want.nrows() {
            let (g, w) = (got[(i, j)], want[(i, j)]);
            assert!(
                (g - w).abs() <= tol * scale,
                "{what}: ({i}, {j}) got {g}, want {w}"
            );
        }
    }
}

/// Every family, every storage layout (including strided and reversed dense views, CSR with
/// explicit zeros, CSR/CSC views whose `indptr` does not start at 0), small and degenerate
/// shapes (m = 1, n = 1, m > n, s = m): `S·A` agrees with `to_dense()·A` to rounding, and the
/// layouts agree bit for bit (the module's reproducibility promise).
#[test]
fn apply_matches_to_dense_times_a_for_every_layout_and_shape() {
    for &(m, n, d) in &[
        (1, 1, 1),
        (1, 9, 3),
        (4, 1, 2),
        (9, 4, 3),
        (8, 5, 2),
        (7, 7, 1),
        (3, 130, 5),
        (16, 300, 7),
        (100, 700, 6),
    ] {
        let a_csr = csr(n, d, 3, true);
        let a = MatrixRef::sparse(&a_csr).unwrap().to_dense().unwrap();
        let a_csc = a_csr.to_csc();
        let a_rm = a.transpose().to_owned();
        // Reversed rows and columns: negative strides.
        let a_rev = Mat::<f64>::from_fn(n, d, |i, j| a[(n - 1 - i, d - 1 - j)]);
        // CSR and CSC views with a leading offset (indptr[0] > 0), as sprs gives for a slice of
        // a larger matrix: A below an extra row of ones, and right of an extra column of ones.
        let mut below = sprs::TriMat::new((n + 1, d));
        let mut right = sprs::TriMat::new((n, d + 1));
        for j in 0..d {
            below.add_triplet(0, j, 1.0);
        }
        for i in 0..n {
            right.add_triplet(i, 0, 1.0);
            for j in 0..d {
                if a[(i, j)] != 0.0 {
                    below.add_triplet(i + 1, j, a[(i, j)]);
                    right.add_triplet(i, j + 1, a[(i, j)]);
                }
            }
        }
        let (below, right): (sprs::CsMat<f64>, sprs::CsMat<f64>) = (below.to_csr(), right.to_csc());
        let csr_offset = below.slice_outer(1..n + 1);
        let csc_offset = right.slice_outer(1..d + 1);
        assert!(
            csr_offset.indptr().raw_storage()[0] > 0 && csc_offset.indptr().raw_storage()[0] > 0
        );
        let views: Vec<(&str, MatrixRef<'_, f64>)> = vec![
            ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
            (
                "dense-row-major",
                MatrixRef::dense(a_rm.transpose()).unwrap(),
            ),
            (
                "dense-reversed",
                MatrixRef::dense(a_rev.as_ref().reverse_rows_and_cols()).unwrap(),
            ),
            ("csr", MatrixRef::sparse(&a_csr).unwrap()),
            ("csc", MatrixRef::sparse(&a_csc).unwrap()),
            (
                "csr-offset",
                SparseRef::from_sprs(csr_offset).unwrap().into(),
            ),
            (
                "csc-offset",
                SparseRef::from_sprs(csc_offset).unwrap().into(),
            ),
        ];
        for op in families(m, n, Seed::new(77)) {
            let s = op.to_dense().unwrap();
            assert_eq!((s.nrows(), s.ncols()), (m, n));
            let want = reference(&s, &a);
            let first = op.apply(views[0].1, Par::Seq).unwrap();
            for (name, view) in &views {
                let what = format!("{} m={m} n={n} d={d} on {name}", op.name());
                let got = op.apply(*view, Par::Seq).unwrap();
                close(&got, &want, 1e-13, &what);
                assert_bitwise(&got, &first, &what);
                let got2 = op.apply(*view, Par::rayon(3)).unwrap();
                assert_bitwise(&got2, &first, &format!("{what}, 3 tasks"));
            }
        }
    }
}

/// `A·Sᵀ` is `(S·Aᵀ)ᵀ`; `S·x` is the column of `S·A` (bit for bit: same operator, same data).
#[test]
fn right_sketch_and_vector_agree_with_apply() {
    let (m, n, d) = (11, 200, 4);
    let a_csr = csr(n, d, 2, false);
    let a = MatrixRef::sparse(&a_csr).unwrap().to_dense().unwrap();
    let at = a.transpose().to_owned();
    let at_csr = a_csr.transpose_view().to_csr();
    for op in families(m, n, Seed::new(5)) {
        let sa = op
            .apply(MatrixRef::dense(a.as_ref()).unwrap(), Par::Seq)
            .unwrap();
        for (name, v) in [
            ("dense", MatrixRef::dense(at.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&at_csr).unwrap()),
        ] {
            let r = op.apply_right(v, Par::Seq).unwrap();
            assert_eq!((r.nrows(), r.ncols()), (d, m));
            assert_bitwise(
                &r.transpose().to_owned(),
                &sa,
                &format!("{} right {name}", op.name()),
            );
        }
        for c in 0..d {
            let x: Vec<f64> = (0..n).map(|i| a[(i, c)]).collect();
            let sx = op.apply_vec(&x).unwrap();
            for i in 0..m {
                assert_eq!(
                    sx[i].to_bits(),
                    sa[(i, c)].to_bits(),
                    "{} vec col {c}",
                    op.name()
                );
            }
        }
    }
}

/// Row blocks of uneven sizes, empty blocks (also at offset n), accumulated in ascending order
/// into a nonzero starting output, give the bits of one call onto that output (SRHT: to
/// rounding, as documented).
#[test]
fn uneven_and_empty_row_blocks_merge_bitwise() {
    let (m, n, d) = (13, 1000, 5);
    let a_csr = csr(n, d, 3, true);
    let a = MatrixRef::sparse(&a_csr).unwrap().to_dense().unwrap();
    let start = |i: usize, j: usize| value(i + 1000, j) / 3.0;
    let cuts = [0, 0, 1, 1, 64, 65, 400, 999, 1000, 1000];
    for op in families(m, n, Seed::new(9)) {
        let mut whole = Mat::<f64>::from_fn(m, d, start);
        op.apply_block_into(
            0,
            MatrixRef::dense(a.as_ref()).unwrap(),
            whole.as_mut(),
            Par::Seq,
        )
        .unwrap();
        for (name, full) in [
            ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&a_csr).unwrap()),
        ] {
            let mut acc = Mat::<f64>::from_fn(m, d, start);
            for w in cuts.windows(2) {
                let block = full.row_block(w[0], w[1]).unwrap();
                op.apply_block_into(w[0], block, acc.as_mut(), Par::rayon(2))
                    .unwrap();
            }
            // An empty block at offset n is a no-op.
            let empty = full.row_block(n, n).unwrap();
            op.apply_block_into(n, empty, acc.as_mut(), Par::Seq)
                .unwrap();
            let what = format!("{} blocks of {name}", op.name());
            if op.name() == "srht" {
                close(&acc, &whole, 1e-13, &what);
            } else {
                assert_bitwise(&acc, &whole, &what);
            }
        }
        // Beyond n, even empty: an error naming the fit, out untouched.
        let empty = MatrixRef::dense(a.as_ref())
            .unwrap()
            .row_block(0, 0)
            .unwrap();
        let mut out = Mat::<f64>::zeros(m, d);
        let r = op.apply_block_into(n + 1, empty, out.as_mut(), Par::Seq);
        assert!(matches!(r, Err(Error::DimensionMismatch { .. })), "{r:?}");
        let block = MatrixRef::dense(a.as_ref())
            .unwrap()
            .row_block(990, 1000)
            .unwrap();
        let r = op.apply_block_into(991, block, out.as_mut(), Par::Seq);
        assert!(matches!(r, Err(Error::DimensionMismatch { .. })), "{r:?}");
        let r = op.apply_block_into(usize::MAX, block, out.as_mut(), Par::Seq);
        assert!(matches!(r, Err(Error::DimensionMismatch { .. })), "{r:?}");
        // Wrong output shapes.
        for (rows, cols) in [(m + 1, d), (m, d + 1), (m - 1, d), (0, 0)] {
            let mut bad = Mat::<f64>::zeros(rows, cols);
            let r = op.apply_block_into(0, block, bad.as_mut(), Par::Seq);
            assert!(matches!(r, Err(Error::DimensionMismatch { .. })), "{r:?}");
        }
        // An output already holding NaN is reported.
        let mut nan = Mat::<f64>::zeros(m, d);
        nan[(2, 3)] = f64::NAN;
        let r = op.apply_block_into(990, block, nan.as_mut(), Par::Seq);
        assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    }
}

/// Bitwise the same for 1, 2 and 4 rayon threads (pools of that size, `Par::rayon(t)`).
#[test]
fn thread_count_invariance() {
    let (m, n, d) = (40, 20_000, 12);
    let a_csr = csr(n, d, 4, false);
    let a_csc = a_csr.to_csc();
    let a = MatrixRef::sparse(&a_csr).unwrap().to_dense().unwrap();
    for op in families(m, n, Seed::new(3)) {
        for (name, v) in [
            ("dense", MatrixRef::dense(a.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&a_csr).unwrap()),
            ("csc", MatrixRef::sparse(&a_csc).unwrap()),
        ] {
            let one = with_threads(1, |p| op.apply(v, p).unwrap());
            for t in [2, 4] {
                let other = with_threads(t, |p| op.apply(v, p).unwrap());
                assert_bitwise(&other, &one, &format!("{} {name} {t} threads", op.name()));
            }
        }
    }
}

/// "An f32 sketch is the f64 sketch rounded": entries of `to_dense` and, for an input exactly
/// representable in both, `S·A` in f32 is close to the f64 `S·A` (f32 rounding).
#[test]
fn f32_sketch_is_the_f64_sketch_rounded() {
    for &(m, n) in &[(1, 1), (5, 3), (17, 1000), (64, 70)] {
        let seed = Seed::new(12);
        let kinds: Vec<SketchKind> = vec![
            SketchKind::CountSketch,
            SketchKind::SparseSign {
                nnz_per_col: m.min(3),
            },
            SketchKind::SparseSign { nnz_per_col: m },
            SketchKind::Gaussian,
            SketchKind::Srht,
        ];
        for kind in kinds {
            let Ok(o64) = kind.build::<f64>(m, n, seed) else {
                continue;
            };
            let o32 = kind.build::<f32>(m, n, seed).unwrap();
            let s64 = o64.to_dense().unwrap();
            let s32 = o32.to_dense().unwrap();
            for j in 0..n {
                for i in 0..m {
                    assert_eq!(
                        s32[(i, j)].to_bits(),
                        (s64[(i, j)] as f32).to_bits(),
                        "{kind:?} ({i}, {j})"
                    );
                }
            }
            let x32: Vec<f32> = (0..n).map(|i| value(i, 0) as f32).collect();
            let sx32 = o32.apply_vec(&x32).unwrap();
            // The f32 sketch applied in f64 arithmetic.
            for (i, &got) in sx32.iter().enumerate() {
                let want: f64 = (0..n).map(|j| s32[(i, j)] as f64 * x32[j] as f64).sum();
                let mag: f64 = (0..n)
                    .map(|j| (s32[(i, j)] as f64 * x32[j] as f64).abs())
                    .sum();
                assert!(
                    (got as f64 - want).abs() <= 1e-6 * mag.max(1e-30) * (n as f64).sqrt() + 1e-30,
                    "{kind:?} m={m} n={n} row {i}: {got} vs {want}"
                );
            }
        }
    }
}

/// `E[SᵀS] = I` for every family (each family's docs state `E‖Sx‖² = ‖x‖²` and, for the
/// polarized form, independence of columns). Pass rule: over 3000 seeds at m = 6, n = 10 (SRHT
/// padded to 16), every entry of the mean of `SᵀS` within 5 standard errors of `I` (entries with
/// zero sample variance must equal `I` to 1e-15).
#[test]
fn expected_gram_of_s_is_the_identity() {
    let (m, n, seeds) = (6usize, 10usize, 3000u64);
    for kind in [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: 2 },
        SketchKind::SparseSign { nnz_per_col: 6 },
        SketchKind::Gaussian,
        SketchKind::Srht,
    ] {
        let mut sum = vec![0.0f64; n * n];
        let mut sum2 = vec![0.0f64; n * n];
        for seed in 0..seeds {
            let s = kind
                .build::<f64>(m, n, Seed::new(seed))
                .unwrap()
                .to_dense()
                .unwrap();
            for a in 0..n {
                for b in 0..n {
                    let g: f64 = (0..m).map(|r| s[(r, a)] * s[(r, b)]).sum();
                    sum[a * n + b] += g;
                    sum2[a * n + b] += g * g;
                }
            }
        }
        let k = seeds as f64;
        for a in 0..n {
            for b in 0..n {
                let mean = sum[a * n + b] / k;
                let var = (sum2[a * n + b] / k - mean * mean).max(0.0) * k / (k - 1.0);
                let want = if a == b { 1.0 } else { 0.0 };
                let se = (var / k).sqrt();
                if se < 1e-12 {
                    assert!((mean - want).abs() < 1e-15, "{kind:?} ({a},{b}): {mean}");
                } else {
                    let z = (mean - want) / se;
                    assert!(z.abs() < 5.0, "{kind:?} ({a},{b}): mean {mean}, z {z}");
                }
            }
        }
    }
}

/// Sparse sign columns: the row set is a uniform `s`-subset of `0..m` (chi-square over all
/// subsets) and each sign is fair and independent of the rows, for the fixed-length (s = 2),
/// linear-search (s = 3) and hash-set (s = 66) paths. Pass rule: chi-square statistic below
/// its mean + 6 standard deviations; sign frequency within 5 standard errors of 1/2 per row.
#[test]
fn sparse_sign_rows_are_uniform_subsets_and_signs_fair() {
    fn binom(n: usize, k: usize) -> usize {
        let k = k.min(n - k);
        (0..k).fold(1u128, |acc, i| acc * (n - i) as u128 / (i + 1) as u128) as usize
    }
    for &(m, s, n) in &[
        (6usize, 2usize, 60_000usize),
        (7, 3, 70_000),
        (68, 66, 20_000),
    ] {
        let op = SparseSign::new(m, n, s, Seed::new(2024)).unwrap();
        let mut counts = std::collections::HashMap::<Vec<usize>, usize>::new();
        let mut neg = vec![0usize; m];
        let mut hits = vec![0usize; m];
        for j in 0..n {
            let col = op.column(j).unwrap();
            let mut rows: Vec<usize> = col.iter().map(|&(r, _)| r).collect();
            rows.sort_unstable();
            rows.dedup();
            assert_eq!(rows.len(), s, "distinct rows");
            for &(r, v) in &col {
                hits[r] += 1;
                if v < 0.0 {
                    neg[r] += 1;
                }
                assert_eq!(v.abs(), 1.0 / (s as f64).sqrt());
            }
            if binom(m, s) <= 100 {
                *counts.entry(rows).or_default() += 1;
            }
        }
        let cells = binom(m, s);
        if cells <= 100 {
            let e = n as f64 / cells as f64;
            let chi: f64 = counts
                .values()
                .map(|&c| (c as f64 - e).powi(2) / e)
                .sum::<f64>()
                + (cells - counts.len()) as f64 * e;
            let df = (cells - 1) as f64;
            assert!(
                chi < df + 6.0 * (2.0 * df).sqrt(),
                "m={m} s={s}: chi² {chi}, df {df}"
            );
        }
        for r in 0..m {
            let p = neg[r] as f64 / hits[r] as f64;
            let se = (0.25 / hits[r] as f64).sqrt();
            assert!((p - 0.5).abs() < 5.0 * se, "m={m} s={s} row {r}: {p}");
        }
    }
}

/// Gaussian entries: mean 0, variance 1/m, fourth moment 3/m², no correlation between
/// neighbouring columns across a generation block boundary (63/64) nor between seeds. Pass
/// rule: each within 5 standard errors.
#[test]
fn gaussian_entries_are_iid_normal_with_variance_one_over_m() {
    let (m, n) = (16usize, 4096usize);
    let op = Gaussian::new(m, n, Seed::new(31)).unwrap();
    let s: Mat<f64> = op.to_dense().unwrap();
    let other: Mat<f64> = Gaussian::new(m, n, Seed::new(32))
        .unwrap()
        .to_dense()
        .unwrap();
    let z: Vec<f64> = (0..n)
        .flat_map(|j| (0..m).map(move |i| (i, j)))
        .map(|(i, j)| s[(i, j)] * (m as f64).sqrt())
        .collect();
    let k = z.len() as f64;
    let mean = z.iter().sum::<f64>() / k;
    let var = z.iter().map(|v| v * v).sum::<f64>() / k;
    let m4 = z.iter().map(|v| v.powi(4)).sum::<f64>() / k;
    assert!(mean.abs() < 5.0 / k.sqrt(), "mean {mean}");
    assert!((var - 1.0).abs() < 5.0 * (2.0 / k).sqrt(), "var {var}");
    assert!((m4 - 3.0).abs() < 5.0 * (96.0 / k).sqrt(), "m4 {m4}");
    // Correlation of column j with j+1 over all j, with the same column of another seed, and
    // specifically at every block boundary (j = 64g − 1, 64g).
    let corr = |pairs: &[(f64, f64)]| {
        let c = pairs.len() as f64;
        pairs.iter().map(|(a, b)| a * b).sum::<f64>() / c * m as f64
    };
    let next: Vec<(f64, f64)> = (0..n - 1)
        .flat_map(|j| (0..m).map(move |i| (i, j)))
        .map(|(i, j)| (s[(i, j)], s[(i, j + 1)]))
        .collect();
    let bound: Vec<(f64, f64)> = (1..n / 64)
        .flat_map(|g| (0..m).map(move |i| (i, 64 * g)))
        .map(|(i, j)| (s[(i, j - 1)], s[(i, j)]))
        .collect();
    let seeds: Vec<(f64, f64)> = (0..n)
        .flat_map(|j| (0..m).map(move |i| (i, j)))
        .map(|(i, j)| (s[(i, j)], other[(i, j)]))
        .collect();
    for (name, p) in [("next", next), ("boundary", bound), ("seeds", seeds)] {
        let r = corr(&p);
        assert!(r.abs() < 5.0 / (p.len() as f64).sqrt(), "{name}: {r}");
    }
}

/// An output that already holds a NaN or ±∞ before `apply_block_into` is reported as
/// `Error::NonFinite` (documented), but the message said only that the sketch overflowed and
/// that scaling `A` down is the remedy — which cannot help: the user's `out` was not finite to
/// begin with (an uninitialized buffer, or one left over from an earlier overflow). The message
/// must name that cause too. `apply`, which accumulates into fresh zeros, keeps the plain
/// overflow message.
#[test]
fn a_non_finite_starting_output_is_named_as_a_possible_cause() {
    let (m, n, d) = (6, 40, 3);
    let a = Mat::<f64>::from_fn(n, d, value);
    for op in families(m, n, Seed::new(2)) {
        for bad in [f64::NAN, f64::INFINITY] {
            let mut out = Mat::<f64>::zeros(m, d);
            out[(1, 2)] = bad;
            let e = op
                .apply_block_into(
                    0,
                    MatrixRef::dense(a.as_ref()).unwrap(),
                    out.as_mut(),
                    Par::Seq,
                )
                .unwrap_err();
            let msg = e.to_string();
            assert!(
                matches!(e, Error::NonFinite { row: 1, col: 2, .. }),
                "{msg}"
            );
            assert!(
                msg.contains("overflowed") && msg.contains("`out`"),
                "{}: {msg}",
                op.name()
            );
        }
        let huge = Mat::<f64>::from_fn(n, d, |_, _| f64::MAX);
        let e = op
            .apply(MatrixRef::dense(huge.as_ref()).unwrap(), Par::Seq)
            .unwrap_err()
            .to_string();
        assert!(e.contains("overflowed f64") && !e.contains("`out`"), "{e}");
    }
}

/// Explicitly stored zeros of a CSR or CSC `A` are added (a `±0` each) where a dense `A`'s zeros
/// are skipped. From any starting output without `−0` — zeros, or the partial sketch of earlier
/// blocks — the bits are the same for every layout. From an output holding `−0`, a stored zero
/// can turn that entry into `+0` while the dense layout leaves `−0`: the values are equal, the
/// sign of the zero is not (the module docs say so).
#[test]
fn explicit_zeros_change_only_the_sign_of_a_negative_zero_start() {
    let (n, d, m) = (50, 3, 6);
    let mut tri = sprs::TriMat::new((n, d));
    for i in 0..n {
        tri.add_triplet(i, 0, 0.0);
        tri.add_triplet(i, 1, i as f64 - 20.0);
    }
    let csr: sprs::CsMat<f64> = tri.to_csr();
    let csc = csr.to_csc();
    let dense = MatrixRef::sparse(&csr).unwrap().to_dense().unwrap();
    for op in families(m, n, Seed::new(1)) {
        for start in [0.0, 1.5, -0.0] {
            let mut outs = Vec::new();
            for v in [
                MatrixRef::sparse(&csr).unwrap(),
                MatrixRef::sparse(&csc).unwrap(),
                MatrixRef::dense(dense.as_ref()).unwrap(),
            ] {
                let mut out = Mat::<f64>::from_fn(m, d, |_, _| start);
                op.apply_block_into(0, v, out.as_mut(), Par::Seq).unwrap();
                outs.push(out);
            }
            for o in &outs[1..] {
                if start.is_sign_negative() {
                    assert!(o == &outs[0], "{} from −0: values differ", op.name());
                } else {
                    assert_bitwise(o, &outs[0], &format!("{} from {start}", op.name()));
                }
            }
        }
    }
}
