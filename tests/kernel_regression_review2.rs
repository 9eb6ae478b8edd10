//! Second review of the attention-kernel regression solvers (P1, P2, P3 of Song–Yin–Zhang) and
//! their operator plumbing: regressions for the defects it found.

use crate::common;

use common::{assert_p1_p2_scale_covariant, under_address_limit, LIMIT_KIB};
use faer::Mat;
use randnla::lstsq::kernel_regression::{solve_p3, InnerSolve, KernelParams};
use randnla::problems::gaussian_matrix;
use randnla::{MatrixRef, Seed, SparseRef};

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `n` rows of 4 entries each: two among the first 40 columns (so that rows overlap and `AAᵀ`
/// is not diagonal) and two hashed over all `d` columns, as a bag of hashed features is stored.
/// `(column, value)` pairs per row, columns strictly increasing.
fn hashed_rows(n: usize, d: usize) -> Vec<Vec<(usize, f64)>> {
    (0..n)
        .map(|i| {
            let mut row: Vec<(usize, f64)> = (0..4usize)
                .map(|k| {
                    let col = if k < 2 {
                        (i * 7 + 13 * k) % 40
                    } else {
                        (i.wrapping_mul(2_654_435_761) ^ (k << 40)) % d
                    };
                    (col, 0.6 * ((i * 4 + k) as f64 + 0.5).sin())
                })
                .collect();
            row.sort_by_key(|&(c, _)| c);
            row.dedup_by_key(|&mut (c, _)| c);
            row
        })
        .collect()
}

fn csr_arrays(rows: &[Vec<(usize, f64)>]) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let mut indptr = vec![0];
    let (mut indices, mut data) = (Vec::new(), Vec::new());
    for r in rows {
        indices.extend(r.iter().map(|&(c, _)| c));
        data.extend(r.iter().map(|&(_, v)| v));
        indptr.push(indices.len());
    }
    (indptr, indices, data)
}

/// The same rows with their used columns relabelled `0..m` (dense `n × m`): `AAᵀ`, and so
/// `exp(AAᵀ)`, is unchanged.
fn compacted(rows: &[Vec<(usize, f64)>]) -> Mat<f64> {
    let mut cols: Vec<usize> = rows.iter().flatten().map(|&(c, _)| c).collect();
    cols.sort_unstable();
    cols.dedup();
    let mut a = Mat::<f64>::zeros(rows.len(), cols.len());
    for (i, r) in rows.iter().enumerate() {
        for &(c, v) in r {
            a[(i, cols.binary_search(&c).unwrap())] = v;
        }
    }
    a
}

/// `‖exp(AAᵀ)x − b‖` with `exp(AAᵀ)` formed densely (entries of `A` below 1 and 4 per row:
/// `AAᵀ` is exact to a few units of rounding).
fn p3_residual(a: &Mat<f64>, x: &[f64], b: &[f64]) -> f64 {
    let n = a.nrows();
    let aat = a * a.transpose();
    let r: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| aat[(i, j)].exp() * x[j]).sum::<f64>() - b[i])
        .collect();
    norm(&r)
}

/// P3 needs only `AAᵀ` (`n × n`), and its docs promised memory `n²`, but it built `A`'s
/// least-squares operator (iteration vectors of length `d`) and a dense `n × d` copy of a sparse
/// `A`: a CSR `A` of 200 rows and 800 entries with `d = 2³¹` hashed feature columns was refused
/// as `TooLarge` ("the iteration vectors for a 200×2147483648 operator needs 8589935392
/// elements"), and `d = 10⁶` took a 1.6 GB copy and an `n²·d` GEMM. Now a sparse `A` is read by
/// rows and `AAᵀ` summed over its columns' entries: the wide problem is solved under a 512 MiB
/// address limit, its answer meets `tol` for `exp(AAᵀ)` formed densely from the compacted
/// columns, and agrees with the dense solve of that compacted matrix; a CSC copy (at a `d` whose
/// column pointers fit) gives the CSR answer bit for bit.
#[test]
fn p3_solves_a_sparse_a_with_huge_d_in_memory_of_order_n_squared() {
    if !under_address_limit(
        module_path!(),
        "p3_solves_a_sparse_a_with_huge_d_in_memory_of_order_n_squared",
        LIMIT_KIB,
    ) {
        return;
    }
    let (n, d) = (200, 1usize << 31);
    let rows = hashed_rows(n, d);
    let (indptr, indices, data) = csr_arrays(&rows);
    let s = SparseRef::try_csr(n, d, &indptr, &indices, &data).unwrap();
    let b: Vec<f64> = (0..n).map(|i| ((i * 3 + 1) as f64).cos()).collect();
    let params = KernelParams::default();
    let (x, info) = solve_p3(MatrixRef::Sparse(s), &b, &params).unwrap();
    let dense = compacted(&rows);
    let res = p3_residual(&dense, &x, &b);
    assert!(
        res <= 2.0 * params.tol * norm(&b),
        "‖exp(AAᵀ)x − b‖/‖b‖ = {:e}",
        res / norm(&b)
    );
    assert!(info.relative_residual <= params.tol, "{info:?}");
    let (xd, _) = solve_p3(MatrixRef::dense(dense.as_ref()).unwrap(), &b, &params).unwrap();
    let diff: Vec<f64> = x.iter().zip(&xd).map(|(p, q)| p - q).collect();
    assert!(
        norm(&diff) <= 1e-6 * norm(&xd),
        "{:e}",
        norm(&diff) / norm(&xd)
    );

    // CSC input (d = 10⁵, so that its column pointers are small) is transposed to the same rows.
    let d = 100_000;
    let rows = hashed_rows(n, d);
    let (indptr, indices, data) = csr_arrays(&rows);
    let csr = sprs::CsMat::new((n, d), indptr, indices, data);
    let csc = csr.to_csc();
    let from_csr = solve_p3(MatrixRef::sparse(&csr).unwrap(), &b, &params).unwrap();
    let from_csc = solve_p3(MatrixRef::sparse(&csc).unwrap(), &b, &params).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&from_csr.0), bits(&from_csc.0));
    let res = p3_residual(&compacted(&rows), &from_csc.0, &b);
    assert!(res <= 2.0 * params.tol * norm(&b), "{:e}", res / norm(&b));
}

/// P1 and P2 are covariant under `A → 2^{eA}A`, `b → 2^{eb}b` (`x → 2^{eb − p·eA}x`, `p = 2j`
/// for P1, `2j + 1` for P2), and an `A` far from unit scale is solved as `2ˢA′`. That shift
/// was taken only for an `A` beyond `2^±128`, whatever `j`: from `j = 3` the power `2^{p·eA}`
/// of an `A` inside that limit, on top of a `b` scaled into `2^±256`, put the solver's own
/// answer out of range although the caller's is representable. `A·2¹⁰⁰`, `b·2³⁰⁰`, `j = 6`
/// (P1 `x ≈ 2⁻⁹⁰⁰x₀`, P2 `≈ 2⁻¹⁰⁰⁰x₀`) was `NotConverged` at residual 1 (P2: 0.1);
/// `A·2⁻¹⁰⁰`, `b·2⁻⁴⁰⁰`, `j = 6` (`x ≈ 2⁸⁰⁰x₀`) a CG breakdown ("not numerically positive
/// definite") for P1 and `NotConverged` for P2; `A·2¹²⁰`, `b·2⁴⁰⁰`, `j = 5` both
/// `NotConverged`. Now the shift is taken when `|p·eA|` exceeds 512 too, and the answers are the
/// unit-scale ones scaled, bit for bit.
#[test]
fn p1_p2_scale_a_when_its_power_leaves_the_range() {
    let (a, _, _, _) = randnla::problems::ls_problem(500, 8, 1.5, 0.0, Seed::new(3)).unwrap();
    assert_p1_p2_scale_covariant(
        &a,
        &[(100i32, 300i32, 6usize), (-100, -400, 6), (120, 400, 5)],
    );
}

/// The Nyström preconditioner of P3 builds about `7nℓ + 5ℓ²` numbers with faer's
/// constructors, which panic when an allocation fails: `n = 3000`, `nystrom_rank = 3000`
/// (0.9 GB) under a 512 MiB address limit panicked inside `solve_p3` ("Errors, not panics").
/// Now it is `TooLarge`, naming the preconditioner; the default rank (200) solves the same
/// problem under the same limit.
#[test]
fn p3_refuses_a_nystrom_rank_whose_work_arrays_do_not_fit() {
    if !under_address_limit(
        module_path!(),
        "p3_refuses_a_nystrom_rank_whose_work_arrays_do_not_fit",
        LIMIT_KIB,
    ) {
        return;
    }
    let n = 3000;
    let g = gaussian_matrix(n, 16, Seed::new(1)).unwrap();
    let a = Mat::from_fn(n, 16, |i, j| 0.7 * g[(i, j)]);
    let av = MatrixRef::dense(a.as_ref()).unwrap();
    let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
    // The Nyström arrays are the CG route's (the default factors G at this n instead).
    let params = KernelParams {
        nystrom_rank: Some(n),
        inner_solve: InnerSolve::Cg,
        ..KernelParams::default()
    };
    match solve_p3(av, &b, &params) {
        Err(randnla::Error::TooLarge { what, .. }) => {
            assert!(what.contains("Nyström"), "{what}")
        }
        r => panic!("{:?}", r.map(|(_, info)| info)),
    }
    let (_, info) = solve_p3(av, &b, &KernelParams::default()).unwrap();
    assert!(info.relative_residual <= 1e-10, "{info:?}");
}

/// A sparse `A` whose dense copy is no larger than `G` and whose columns are full (a dense
/// matrix stored sparse) is copied densely and multiplied by GEMM, as before the sparse Gram
/// (which made a 4000 × 64 solve 4× slower there): the answer is that of the dense input, bit
/// for bit.
#[test]
fn p3_copies_a_full_sparse_a_densely() {
    let (n, d) = (400, 8);
    let g = gaussian_matrix(n, d, Seed::new(2)).unwrap();
    let a = Mat::from_fn(n, d, |i, j| 0.5 * g[(i, j)]);
    let mut t = sprs::TriMat::new((n, d));
    for i in 0..n {
        for j in 0..d {
            t.add_triplet(i, j, a[(i, j)]);
        }
    }
    let s: sprs::CsMat<f64> = t.to_csr();
    let b: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
    let p = KernelParams::default();
    let (xd, _) = solve_p3(MatrixRef::dense(a.as_ref()).unwrap(), &b, &p).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for m in [&s, &s.to_csc()] {
        let (xs, _) = solve_p3(MatrixRef::sparse(m).unwrap(), &b, &p).unwrap();
        assert_eq!(bits(&xs), bits(&xd));
    }
}
