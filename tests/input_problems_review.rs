//! Review of the input layer (`SparseRef`, `MatrixRef`), the `Scalar` trait and the test-problem
//! generators (`problems`): structural validation, row blocks at the edges, and whether each
//! generator produces what its doc promises (measured against dense SVDs).

use faer::Mat;
use randnla::input::{MatrixRef, SparseRef};
use randnla::problems::*;
use randnla::{Error, Seed};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The singular values of a small dense matrix, largest first.
fn singular_values(a: &Mat<f64>) -> Vec<f64> {
    let mut s = a.singular_values().expect("SVD");
    s.sort_by(|x, y| y.partial_cmp(x).unwrap());
    s
}

fn kappa(a: &Mat<f64>) -> f64 {
    let s = singular_values(a);
    s[0] / s[s.len() - 1]
}

/// `sparse_ls_illmix` promises `κ(A)` of the order of `1/delta_min` (about `2.3/delta_min`),
/// but with a single column pair (`d = 2, 3`) its `δ = logspace(0, log₁₀ delta_min, 1)` was
/// `[1]`: `κ ≈ 2.6` whatever `delta_min` (400 × 2, density 0.5, `delta_min = 1e-6`).
#[test]
fn illmix_with_one_column_pair_is_as_ill_conditioned_as_asked() {
    for d in [2usize, 3, 4, 5] {
        for delta_min in [1e-2, 1e-6] {
            let (a, _, _) = sparse_ls_illmix(400, d, 0.5, delta_min, 0.0, Seed::new(1)).unwrap();
            let k = kappa(&MatrixRef::sparse(&a).unwrap().to_dense().unwrap());
            assert!(
                k * delta_min > 0.5 && k * delta_min < 10.0,
                "{d} columns, delta_min {delta_min:e}: κ = {k:.3e}"
            );
        }
    }
}

/// `random_sparse` with `n = 0` passed every size check (it stores nothing) and then reserved
/// room for `nnz_per_row` column indices: a capacity-overflow panic at `nnz_per_row = 2^62`, an
/// allocation abort at `2^40`. An empty matrix is the answer.
#[test]
fn random_sparse_with_no_rows_never_reserves_a_row_of_declared_length() {
    for k in [1usize << 62, 1 << 40, usize::MAX] {
        let r = catch_unwind(AssertUnwindSafe(|| random_sparse(0, k, k, Seed::new(1))))
            .unwrap_or_else(|_| panic!("random_sparse(0, {k}, {k}) panicked"));
        let a = r.unwrap();
        assert_eq!((a.rows(), a.cols(), a.nnz()), (0, k, 0));
    }
}

/// A `usize::MAX`-row (or column) declaration was refused with "indptr has 1 entries, expected
/// 18446744073709551615": a count one short of the `usize::MAX + 1` pointers such a matrix
/// needs, and one an indptr slice could in principle have.
#[test]
fn a_usize_max_outer_dimension_is_refused_for_what_it_is() {
    let csr = SparseRef::<f64>::try_csr(usize::MAX, 3, &[0], &[], &[]);
    let csc = SparseRef::<f64>::try_csc(3, usize::MAX, &[0], &[], &[]);
    for (r, outer) in [(csr, "rows"), (csc, "columns")] {
        let Err(Error::InvalidStructure { reason }) = r else {
            panic!("{outer}: {r:?}");
        };
        assert!(
            reason.contains(&format!("usize::MAX {outer}"))
                && reason.contains("usize::MAX + 1")
                && !reason.contains(&usize::MAX.to_string()),
            "{reason}"
        );
    }
}

/// Dense copy of a CSR test matrix.
fn dense(a: &sprs::CsMat<f64>) -> Mat<f64> {
    MatrixRef::sparse(a).unwrap().to_dense().unwrap()
}

/// Epperly's generator against an SVD of its output: `‖A‖₂ = 1`, `κ(A) = cond` (while
/// `cond ≪ 1/u`), `‖x‖ = 1`, `‖r‖ = residual_norm`, `Aᵀr ≈ 0`, `b = Ax + r`. (Beyond `1/u` the
/// stored `A`'s `κ` stalls instead of reaching `cond`: numpy gives `5.8e16` at `cond = 1e20`,
/// faer's SVD a zero smallest singular value; the doc now says so.)
#[test]
fn ls_problem_has_the_condition_and_residual_it_promises() {
    let (n, d) = (60, 8);
    for cond in [1.0, 10.0, 1e4, 1e8, 1e12] {
        for rho in [0.0, 1e-12, 1e-3, 1e3] {
            let (a, b, x, r) = ls_problem(n, d, cond, rho, Seed::new(7)).unwrap();
            let s = singular_values(&a);
            let k = s[0] / s[d - 1];
            assert!((s[0] - 1.0).abs() < 1e-14, "‖A‖ = {}", s[0]);
            assert!((k / cond - 1.0).abs() < 1e-3, "cond {cond:e}: κ = {k:e}");
            let norm = |v: &[f64]| v.iter().map(|t| t * t).sum::<f64>().sqrt();
            assert!((norm(&x) - 1.0).abs() < 1e-15);
            assert!(
                (norm(&r) - rho).abs() <= 1e-15 * rho,
                "‖r‖ {} vs {rho}",
                norm(&r)
            );
            let atr = (0..d)
                .map(|j| (0..n).map(|i| a[(i, j)] * r[i]).sum::<f64>().abs())
                .fold(0.0, f64::max);
            assert!(atr <= 1e-15 * rho.max(f64::MIN_POSITIVE), "Aᵀr = {atr:e}");
            for i in 0..n {
                let ax: f64 = (0..d).map(|j| a[(i, j)] * x[j]).sum();
                assert!((b[i] - ax - r[i]).abs() <= 1e-15 * (1.0 + rho), "row {i}");
            }
        }
    }
}

/// `sparse_ls_illmix`: the collinear-pair structure (column `2k+1` is column `2k` plus `δ_k` times
/// an independent column, the last `δ` is `delta_min`), the stored count against
/// `(1.5·density − density²/2)·n·d` (the doc said `1.5·n·d·density`, 2× too many at density 1),
/// and `b = A·x_star` without noise.
#[test]
fn illmix_has_its_pairs_its_count_and_its_right_hand_side() {
    let (n, d, delta_min) = (3000, 6, 1e-4);
    for density in [0.05, 0.5, 1.0] {
        let (a, b, x) = sparse_ls_illmix(n, d, density, delta_min, 0.0, Seed::new(3)).unwrap();
        let m = dense(&a);
        // δ = logspace(0, −4, 3) = 1, 1e-2, 1e-4: column 2k+1 − column 2k is δ_k·(a column of
        // B), whose entries are 0 wherever B's is.
        for (k, delta) in [1.0, 1e-2, 1e-4].into_iter().enumerate() {
            let diff: Vec<f64> = (0..n).map(|i| m[(i, 2 * k + 1)] - m[(i, 2 * k)]).collect();
            let top = diff.iter().fold(0.0f64, |t, v| t.max(v.abs()));
            // max |N(0,1)| over ~3000·density draws lies in (1, 6).
            assert!(
                top > delta && top < 6.0 * delta,
                "pair {k}: max |Δ| = {top:e}, δ = {delta:e}"
            );
        }
        let expected = (1.5 * density - density * density / 2.0) * (n * d) as f64;
        let sd = (n as f64 * d as f64).sqrt(); // a loose bound on the count's spread
        assert!(
            (a.nnz() as f64 - expected).abs() < 5.0 * sd,
            "density {density}: nnz {} against {expected}",
            a.nnz()
        );
        for i in 0..n {
            let ax: f64 = (0..d).map(|j| m[(i, j)] * x[j]).sum();
            assert!((b[i] - ax).abs() <= 1e-14 * (1.0 + ax.abs()), "row {i}");
        }
    }
}

/// Every structural defect of CSR/CSC parts is an `InvalidStructure` naming it (CSR and CSC, f64
/// and f32), and what the docs accept is accepted: explicit zeros, empty rows, an offset
/// `indptr[0]` from a `sprs` slice (raw arrays must start at 0), an empty matrix, huge declared
/// inner dimensions.
#[test]
fn sparse_parts_are_refused_with_the_defect_named() {
    let d = [1.0, 2.0, 3.0];
    type Case<'a> = (&'a str, &'a [usize], &'a [usize], &'a [f64], &'a str);
    let cases: [Case; 8] = [
        (
            "unsorted",
            &[0, 2, 3],
            &[2, 0, 1],
            &d,
            "out of order or repeated (2 then 0)",
        ),
        (
            "duplicate",
            &[0, 2, 3],
            &[1, 1, 0],
            &d,
            "out of order or repeated (1 then 1)",
        ),
        (
            "decreasing",
            &[0, 3, 2],
            &[0, 1, 2],
            &d,
            "indptr decreases at position 2",
        ),
        (
            "last ≠ nnz",
            &[0, 2, 2],
            &[0, 1, 2],
            &d,
            "indptr spans 2 entries but indices has 3",
        ),
        (
            "offset (1-based)",
            &[1, 2, 3],
            &[0, 1, 2],
            &d,
            "indptr[0] is 1, expected 0",
        ),
        (
            "index ≥ inner",
            &[0, 2, 3],
            &[0, 3, 2],
            &d,
            "inner index 3, outside 0..3",
        ),
        (
            "data short",
            &[0, 2, 3],
            &[0, 1, 2],
            &d[..2],
            "indices has 3 entries but data has 2",
        ),
        (
            "indptr short",
            &[0, 3],
            &[0, 1, 2],
            &d,
            "indptr has 2 entries, expected 3",
        ),
    ];
    for (what, indptr, indices, data, says) in cases {
        for layout in [randnla::Layout::Csr, randnla::Layout::Csc] {
            let (r, c) = if layout == randnla::Layout::Csr {
                (2, 3)
            } else {
                (3, 2)
            };
            let got = SparseRef::try_new(layout, r, c, indptr, indices, data);
            assert!(
                matches!(&got, Err(Error::InvalidStructure { reason }) if reason.contains(says)),
                "{what} {layout:?}: {got:?}"
            );
            let d32: Vec<f32> = data.iter().map(|&v| v as f32).collect();
            let got = SparseRef::try_new(layout, r, c, indptr, indices, &d32);
            assert!(
                matches!(&got, Err(Error::InvalidStructure { reason }) if reason.contains(says)),
                "{what} {layout:?} f32: {got:?}"
            );
        }
    }
    // f64 values beyond f32's range are finite in f64; an f32 infinity is refused.
    assert!(SparseRef::try_csr(1, 1, &[0, 1], &[0], &[f32::INFINITY]).is_err());
    assert!(SparseRef::try_csr(1, 1, &[0, 1], &[0], &[1e300f64]).is_ok());
    // Accepted: explicit zeros and empty rows, an offset indptr, empty and huge declared shapes.
    let z = SparseRef::try_csr(3, 3, &[0, 0, 2, 2], &[0, 2], &[0.0, -0.0]).unwrap();
    assert_eq!(z.nnz(), 2);
    // An offset indptr comes from a sprs view of a slice of rows; raw arrays must start at 0
    // (1-based arrays `[1, 3, 4]`, `[1, 2, 2]` were read as shifted columns).
    let whole = sprs::CsMat::new((3, 3), vec![0, 1, 2, 3], vec![1, 2, 0], vec![5.0, 1.0, 2.0]);
    let rows = whole.slice_outer(1..3);
    assert_ne!(
        rows.indptr().raw_storage()[0],
        0,
        "the view keeps its offset"
    );
    let off = SparseRef::from_sprs(rows).unwrap();
    let m = MatrixRef::Sparse(off).to_dense().unwrap();
    assert_eq!((m.nrows(), m[(0, 2)], m[(1, 0)]), (2, 1.0, 2.0));
    for indptr in [&[7, 8, 9][..], &[1, 3, 4][..]] {
        let err = SparseRef::try_csr(2, 4, indptr, &[1, 2], &[1.0, 2.0]).unwrap_err();
        assert!(err.to_string().contains("indptr[0]"), "{err}");
    }
    assert!(SparseRef::<f64>::try_csr(0, 0, &[0], &[], &[]).is_ok());
    let wide = SparseRef::try_csr(1, usize::MAX, &[0, 1], &[usize::MAX - 1], &[1.0]).unwrap();
    assert!(matches!(
        MatrixRef::Sparse(wide).to_dense(),
        Err(Error::TooLarge { .. })
    ));
    // sprs views agree with the raw constructor.
    let s = sprs::CsMat::new_csc((3, 2), vec![0, 2, 3], vec![0, 2, 1], vec![1.0, 2.0, 3.0]);
    let v = SparseRef::from_sprs(s.view()).unwrap();
    assert_eq!(
        (v.layout(), v.nrows(), v.ncols(), v.nnz()),
        (randnla::Layout::Csc, 3, 2, 3)
    );
}

/// Row blocks at the edges: empty blocks at both ends, the whole matrix, `start > end` and
/// `end > nrows` refused; on CSR, on CSC transposed to CSR, and dense; a block of a block.
#[test]
fn row_blocks_at_the_edges() {
    let csr = SparseRef::try_csr(3, 2, &[0, 1, 1, 3], &[1, 0, 1], &[1.0, 2.0, 3.0]).unwrap();
    let full = MatrixRef::Sparse(csr).to_dense().unwrap();
    let csc_t = SparseRef::try_csc(2, 3, &[0, 1, 1, 3], &[1, 0, 1], &[1.0, 2.0, 3.0])
        .unwrap()
        .transpose();
    for a in [
        MatrixRef::Sparse(csr),
        MatrixRef::Sparse(csc_t),
        MatrixRef::Dense(full.as_ref()),
    ] {
        for (s, e) in [(0, 0), (3, 3), (0, 3), (1, 3), (2, 3), (1, 1)] {
            let b = a.row_block(s, e).unwrap();
            assert_eq!((b.nrows(), b.ncols()), (e - s, 2));
            let bd = b.to_dense().unwrap();
            for i in 0..e - s {
                for j in 0..2 {
                    assert_eq!(bd[(i, j)], full[(s + i, j)]);
                }
            }
            // a block of the block
            if e > s {
                let bb = b
                    .row_block(1.min(e - s), e - s)
                    .unwrap()
                    .to_dense()
                    .unwrap();
                assert_eq!(bb.nrows(), e - s - 1.min(e - s));
            }
        }
        for (s, e) in [
            (1, 0),
            (3, 4),
            (4, 4),
            (usize::MAX, usize::MAX),
            (0, usize::MAX),
        ] {
            assert!(
                matches!(a.row_block(s, e), Err(Error::InvalidParameter { .. })),
                "{s}..{e}"
            );
        }
    }
    // a CSC matrix has no row blocks without copying
    assert!(MatrixRef::Sparse(csc_t.transpose())
        .row_block(0, 1)
        .is_err());
}

/// Same seed, same output (bitwise); another seed, another output; for every generator.
#[test]
fn generators_are_reproducible_and_seeds_matter() {
    let bits = |m: &Mat<f64>| -> Vec<u64> {
        (0..m.ncols())
            .flat_map(|j| (0..m.nrows()).map(move |i| (i, j)))
            .map(|(i, j)| m[(i, j)].to_bits())
            .collect()
    };
    type Gen = Box<dyn Fn(Seed) -> Vec<u64>>;
    let gens: Vec<(&str, Gen)> = vec![
        (
            "gaussian",
            Box::new(move |s| bits(&gaussian_matrix(30, 4, s).unwrap())),
        ),
        (
            "coherent",
            Box::new(move |s| bits(&coherent_matrix(30, 4, 1e-3, s).unwrap())),
        ),
        (
            "cauchy",
            Box::new(move |s| bits(&cauchy_rows(30, 4, s).unwrap())),
        ),
        (
            "sparse",
            Box::new(move |s| bits(&dense(&random_sparse(9000, 20, 3, s).unwrap()))),
        ),
        (
            "ls",
            Box::new(move |s| bits(&ls_problem(30, 4, 1e6, 1e-3, s).unwrap().0)),
        ),
        (
            "illmix",
            Box::new(move |s| {
                bits(&dense(
                    &sparse_ls_illmix(5000, 6, 0.3, 1e-6, 0.1, s).unwrap().0,
                ))
            }),
        ),
    ];
    for (what, g) in &gens {
        assert_eq!(g(Seed::new(11)), g(Seed::new(11)), "{what}");
        assert_ne!(g(Seed::new(11)), g(Seed::new(12)), "{what}");
    }
}

/// `random_sparse`: exactly `nnz_per_row` distinct sorted columns per row, column `i mod d`
/// among them, across the 4096-row stream boundary; `coherent_matrix`: `[I; scale·G]` with `G`
/// the rows `d..` of `gaussian_matrix` of the same seed, and leverage ≈ 1 on the identity rows.
#[test]
fn random_sparse_and_coherent_have_their_structure() {
    let (n, d, k) = (9000, 40, 7);
    let a = random_sparse(n, d, k, Seed::new(5)).unwrap();
    for (i, row) in a.outer_iterator().enumerate() {
        let c = row.indices();
        assert_eq!(c.len(), k, "row {i}");
        assert!(
            c.windows(2).all(|w| w[0] < w[1]) && c.contains(&(i % d)),
            "row {i}"
        );
        assert!(row.data().iter().all(|v| v.is_finite() && *v != 0.0));
    }
    let (n, d, scale) = (200, 5, 1e-3);
    let c = coherent_matrix(n, d, scale, Seed::new(9)).unwrap();
    let g = gaussian_matrix(n, d, Seed::new(9)).unwrap();
    for j in 0..d {
        for i in 0..n {
            let want = if i < d {
                f64::from(u8::from(i == j))
            } else {
                scale * g[(i, j)]
            };
            assert_eq!(c[(i, j)].to_bits(), want.to_bits(), "({i}, {j})");
        }
    }
    // leverage of the identity rows: ℓ_i = ‖e_iᵀ(CᵀC)^{-1/2}‖² = [(I + s²GᵀG)^{-1}]_ii ≥ 1 −
    // s²‖G‖².
    let top = singular_values(&g)[0];
    assert!(scale * scale * top * top < 1e-3, "s‖G‖ = {}", scale * top);
}

/// `Scalar::from_f64` for `f32` rounds once to nearest (ties to even), to ±∞ only at or beyond
/// `f32::MAX + ½ulp`, keeps subnormals and signed zeros; `to_f64` is exact; `finite` agrees.
#[test]
fn f32_conversions_round_once_at_the_ends_of_the_range() {
    use randnla::Scalar;
    let max = f32::MAX as f64;
    let half_ulp = 2f64.powi(127 - 24);
    assert_eq!(<f32 as Scalar>::from_f64(max + half_ulp * 0.999), f32::MAX);
    assert_eq!(<f32 as Scalar>::from_f64(max + half_ulp), f32::INFINITY);
    assert_eq!(<f32 as Scalar>::from_f64(-1e300), f32::NEG_INFINITY);
    assert!(!<f32 as Scalar>::from_f64(1e39).finite());
    let tiny = f32::from_bits(3); // 3·2⁻¹⁴⁹
    assert_eq!(
        <f32 as Scalar>::from_f64(tiny as f64 * 1.4),
        f32::from_bits(4)
    );
    assert_eq!(<f32 as Scalar>::from_f64(2f64.powi(-150)), 0.0); // tie to even: 0
    assert_eq!(
        <f32 as Scalar>::from_f64(2f64.powi(-150) * 1.5),
        f32::from_bits(1)
    );
    assert!(<f32 as Scalar>::from_f64(-1e-300).is_sign_negative());
    assert!(<f32 as Scalar>::from_f64(f64::NAN).is_nan());
    for v in [f32::MAX, f32::MIN_POSITIVE, f32::from_bits(1), -0.0] {
        assert_eq!(<f32 as Scalar>::from_f64(v.to_f64()).to_bits(), v.to_bits());
    }
}

/// A reversed row range was refused as "rows 1..0 are not within 0..3" — but it is within; the
/// message now names the reversal, and an end past the matrix names the row count.
#[test]
fn row_block_messages_name_the_bound_that_fails() {
    let csr = SparseRef::try_csr(3, 2, &[0, 1, 1, 3], &[1, 0, 1], &[1.0, 2.0, 3.0]).unwrap();
    let full = MatrixRef::Sparse(csr).to_dense().unwrap();
    for a in [MatrixRef::Sparse(csr), MatrixRef::Dense(full.as_ref())] {
        let reason = |s, e| match a.row_block(s, e) {
            Err(Error::InvalidParameter { reason, .. }) => reason,
            r => panic!("{s}..{e}: {r:?}"),
        };
        let r = reason(1, 0);
        assert!(
            r.contains("start is after the end") && !r.contains("not within"),
            "{r}"
        );
        let r = reason(2, 4);
        assert!(r.contains("end is past") && r.contains("3 rows"), "{r}");
    }
}
