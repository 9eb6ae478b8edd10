//! Manual mutation review of `diagnostics`, `tensor::symmetric`, `tensor::tns` and
//! `tensor::pairing`: each test here pins behaviour that the rest of the suite let a plausible
//! one-token change of those files break unnoticed (a bound moved by one, a scale factor
//! dropped, a term's sign or weight changed). The references are computed independently: by
//! brute force over index multisets, from closed forms, or from the documented rule.

use faer::{Mat, Par};
use randnla::diagnostics::{condition_number, distortion, orthonormal_basis, RangeBasis};
use randnla::sketch::sampling::RowSampling;
use randnla::sketch::Srht;
use randnla::tensor::{
    read_tns, read_tns_as, ModeHashing, SymmetricTensor, TensorSketches, TnsStorage,
};
use randnla::{Error, MatrixRef, Seed};

/// A deterministic pseudo-random value in `[-1, 1)` (a hash of `k`, no library code).
fn pr(k: u64) -> f64 {
    let mut x = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// The index multisets `a ≤ b ≤ c` of `0..n`.
fn multisets(n: usize) -> Vec<[usize; 3]> {
    let mut out = Vec::new();
    for a in 0..n {
        for b in a..n {
            for c in b..n {
                out.push([a, b, c]);
            }
        }
    }
    out
}

/// Whether the union of two 3-multisets has every index an even number of times.
fn union_is_even(m: &[usize; 3], q: &[usize; 3]) -> bool {
    let mut all: Vec<usize> = m.iter().chain(q).copied().collect();
    all.sort_unstable();
    all.chunk_by(|a, b| a == b).all(|r| r.len() % 2 == 0)
}

/// The corrected estimate of `T(I,u,u)` from shared-hash sketch `m` of an order-3 tensor with
/// entries `entry(M)`, by brute force over the definition of `src/tensor/pairing.rs`:
/// `e_i = Σ_{(j,l)} Σ_M [H(M) ≡ H(N) mod b]·σ(M)σ(N)·T_M·u_j u_l` over ordered pairs `(j, l)` and
/// multisets `M`, `N = {i, j, l}`, leaving out the pairs `M ≠ N` whose union has only even
/// multiplicities (the sign-even collisions the correction removes). Returns the estimate and,
/// per coordinate, the sum of the magnitudes of its terms (the scale of its rounding).
fn brute_force_estimate(
    s: &TensorSketches,
    m: usize,
    entry: &dyn Fn(&[usize; 3]) -> f64,
    u: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let (n, b) = (s.dim(), s.sketch_dim());
    let hs: Vec<(usize, f64)> = (0..n).map(|i| s.bucket(m, 0, i).unwrap()).collect();
    let h = |ms: &[usize; 3]| ms.iter().map(|&i| hs[i].0).sum::<usize>() % b;
    let sg = |ms: &[usize; 3]| ms.iter().map(|&i| hs[i].1).product::<f64>();
    let all = multisets(n);
    let (mut est, mut mag) = (vec![0.0; n], vec![0.0; n]);
    for i in 0..n {
        for j in 0..n {
            for l in 0..n {
                let mut nn = [i, j, l];
                nn.sort_unstable();
                for mm in &all {
                    if h(mm) != h(&nn) || (mm != &nn && union_is_even(mm, &nn)) {
                        continue;
                    }
                    let term = sg(mm) * sg(&nn) * entry(mm) * u[j] * u[l];
                    est[i] += term;
                    mag[i] += term.abs();
                }
            }
        }
    }
    (est, mag)
}

/// Compares every per-sketch estimate of `s` (vector and value) with the brute force on the
/// tensor of entries `entry`; the tolerance is `1e-11` times the sum of the terms' magnitudes
/// (FFT rounding is near `1e-15` of it; the removed collision terms are of order 1).
fn check_estimates(label: &str, s: &TensorSketches, entry: &dyn Fn(&[usize; 3]) -> f64, u: &[f64]) {
    let vecs = s.estimates_but_one(u, Par::Seq).unwrap();
    let vals = s.estimates_all(u, Par::Seq).unwrap();
    for m in 0..s.sketches() {
        let (want, mag) = brute_force_estimate(s, m, entry, u);
        let mut val = 0.0;
        let mut val_mag = 0.0;
        for i in 0..s.dim() {
            let tol = 1e-11 * (mag[i] + 1e-300);
            assert!(
                (vecs[m][i] - want[i]).abs() <= tol,
                "{label} sketch {m} i={i}: {} vs brute force {} (tolerance {tol:e})",
                vecs[m][i],
                want[i]
            );
            val += u[i] * want[i];
            val_mag += u[i].abs() * mag[i];
        }
        let tol = 1e-11 * (val_mag + 1e-300);
        assert!(
            (vals[m] - val).abs() <= tol,
            "{label} sketch {m}: value {} vs brute force {val}",
            vals[m]
        );
    }
}

/// An order-3 tensor with large partial traces `T_xxy` (so the sign-even collisions matter) and
/// a random symmetric part, as dense row-major data of dimension `n`.
fn partial_trace_tensor(n: usize) -> SymmetricTensor {
    let mut data = vec![0.0; n * n * n];
    for (l, x) in data.iter_mut().enumerate() {
        *x = 0.3 * pr(l as u64);
    }
    for a in 0..n {
        for c in 0..n {
            data[(a * n + a) * n + c] += 1.0 + 0.5 * pr(1000 + c as u64);
        }
    }
    SymmetricTensor::dense_symmetrized(3, n, data).unwrap()
}

/// `ModeHashing::Shared` at order 3 subtracts the sign-even collision terms exactly (the
/// correction of `src/tensor/pairing.rs`): every per-sketch estimate of `T(I,u,u)` and
/// `T(u,u,u)` equals the brute-force sum over index multisets with exactly those terms left
/// out, for dense storage (full rows of `D = T_xx·`), for sparse coordinate storage (rows with
/// gaps, found by binary search), after two deflations (the low-rank part of `D`), and for a
/// tensor at `2³⁰⁰` (the sketches hold it scaled by a power of two). Sizes `b = 16, 32` (the
/// smallest allowed) give about `2n²/b = 8` and 4 colliding pairs per sketch at `n = 8`. The
/// statistical unbiasedness tests elsewhere let a factor 2 dropped from the `i = z` term, a
/// weight `u_z` for `u_z²`, or pairs taken modulo `b` instead of `b/2` pass.
#[test]
fn shared_hash_estimates_equal_the_brute_force_with_sign_even_collisions_removed() {
    let n = 8;
    let u: Vec<f64> = (0..n).map(|i| 0.2 + pr(50 + i as u64)).collect();
    let dense = partial_trace_tensor(n);
    // Sparse coordinate tensor: a few entries, rows of D with gaps.
    let coo = SymmetricTensor::coordinate(
        3,
        n,
        &[
            0, 0, 3, 1, 1, 1, 2, 2, 0, 4, 4, 2, 0, 1, 2, 3, 3, 3, 1, 4, 4,
        ],
        &[1.5, -0.7, 2.0, 0.9, -1.1, 0.6, 1.3],
    )
    .unwrap();
    let scale = 2f64.powi(300);
    let big = SymmetricTensor::dense(
        3,
        n,
        (0..n * n * n)
            .map(|l| {
                let (i, j, k) = (l / (n * n), (l / n) % n, l % n);
                let mut s = [i, j, k];
                s.sort_unstable();
                dense.get(&s).unwrap() * scale
            })
            .collect(),
    )
    .unwrap();
    let defl: [(f64, Vec<f64>); 2] = [
        (0.8, (0..n).map(|i| pr(70 + i as u64)).collect()),
        (-0.5, (0..n).map(|i| pr(80 + i as u64)).collect()),
    ];
    for b in [16usize, 32] {
        for (name, t, factor) in [("dense", &dense, 1.0), ("coordinate", &coo, 1.0)]
            .into_iter()
            .chain([("dense at 2^300", &big, scale)])
        {
            let mut s =
                TensorSketches::with_hashing(t, 8, b, ModeHashing::Shared, Seed::new(9), Par::Seq)
                    .unwrap();
            assert_eq!(s.hashing(), ModeHashing::Shared);
            let entry = |mm: &[usize; 3]| t.get(mm).unwrap();
            check_estimates(&format!("{name} b={b}"), &s, &entry, &u);
            for (k, (w, v)) in defl.iter().enumerate() {
                s.deflate(w * factor, v, Par::Seq).unwrap();
                let deflated = |mm: &[usize; 3]| {
                    let mut x = t.get(mm).unwrap();
                    for (w, v) in &defl[..=k] {
                        x -= w * factor * v[mm[0]] * v[mm[1]] * v[mm[2]];
                    }
                    x
                };
                check_estimates(
                    &format!("{name} b={b} after {} deflations", k + 1),
                    &s,
                    &deflated,
                    &u,
                );
            }
        }
    }
}

/// `RangeBasis`'s Cholesky route (more than `2·10⁷` entries: here `7·10⁶ × 3`, sparse, 9
/// nonzeros, full rank) returns `∞` for a sketch with fewer rows than columns, as
/// [`distortion`] does (`S·A·R⁻¹` has rank at most `m < d`); its singular values alone (two of
/// them) would give a finite number. Two rows sampled among the nonzero rows: `m = 2 < d = 3`.
#[test]
fn cholesky_route_distortion_of_a_short_sketch_is_infinite() {
    let n = 7_000_000;
    let rows = [11usize, 2_000_003, 6_999_999];
    let mut tri = sprs::TriMat::new((n, 3));
    for (k, &i) in rows.iter().enumerate() {
        for j in 0..3 {
            tri.add_triplet(i, j, if j == k { 2.0 } else { 0.25 * (j + 1) as f64 });
        }
    }
    let a: sprs::CsMat<f64> = tri.to_csr();
    let view = MatrixRef::sparse(&a).unwrap();
    let basis = RangeBasis::new(view, Par::Seq).unwrap();
    let mut w = vec![0.0; n];
    rows.iter().for_each(|&i| w[i] = 1.0);
    let short = RowSampling::with_replacement(&w, 2, Seed::new(3)).unwrap();
    assert_eq!(
        basis.distortion(&short, view, Par::Seq).unwrap(),
        f64::INFINITY
    );
    // Enough rows: measured (finite).
    let long = RowSampling::with_replacement(&w, 40, Seed::new(3)).unwrap();
    let k = basis.distortion(&long, view, Par::Seq).unwrap();
    assert!(k.is_finite() && k >= 1.0, "κ = {k}");
}

/// `orthonormal_basis` refuses only `n < d`: a square full-rank `A` gets an orthogonal `Q`
/// (`QᵀQ = I` to `1e-14`) spanning everything, and `A = Q·(QᵀA)` to `1e-14·‖A‖`.
#[test]
fn orthonormal_basis_of_a_square_matrix() {
    let a = Mat::from_fn(4, 4, |i, j| {
        if i == j {
            3.0
        } else {
            1.0 / (1 + i + 2 * j) as f64
        }
    });
    let q = orthonormal_basis(a.as_ref()).unwrap();
    assert_eq!((q.nrows(), q.ncols()), (4, 4));
    let qtq = q.transpose() * &q;
    let back = &q * (q.transpose() * &a);
    for i in 0..4 {
        for j in 0..4 {
            let id = if i == j { 1.0 } else { 0.0 };
            assert!(
                (qtq[(i, j)] - id).abs() < 1e-14,
                "QᵀQ[{i},{j}] = {}",
                qtq[(i, j)]
            );
            assert!((back[(i, j)] - a[(i, j)]).abs() < 1e-14 * 4.0, "A[{i},{j}]");
        }
    }
}

/// `distortion`'s rank rule is `σ_min ≤ max(m, d)·u·σ_max` (so every finite value is below
/// `1/(max(m, d)·u)`). `Q` with orthogonal columns of norms 1 and `10⁻¹⁴` has `κ(SQ) = 10¹⁴` under
/// an orthogonal sketch (an SRHT keeping every row): with `m = 8` that is below
/// `1/(8u) = 2.25·10¹⁵` and measured (to 5 %: `σ_min` carries an absolute error near
/// `u·σ_max`, 1 % of it); with `m = 1024` it is above `1/(1024u) = 8.8·10¹²`, so `∞`, although
/// it is below `1/(d·u)` for `d = 2`. `κ = 10¹²` is measured at `m = 1024`.
#[test]
fn distortion_rank_rule_uses_the_larger_dimension() {
    let q_of = |n: usize, small: f64| {
        // Columns: the first unit vector, and `small` times the second (orthogonal).
        Mat::from_fn(n, 2, |i, j| match (i, j) {
            (0, 0) => 1.0,
            (1, 1) => small,
            _ => 0.0,
        })
    };
    let s8 = Srht::new(8, 8, Seed::new(5)).unwrap();
    let k = distortion(&s8, q_of(8, 1e-14).as_ref(), Par::Seq).unwrap();
    assert!((k / 1e14 - 1.0).abs() < 0.05, "m = 8: κ = {k:e}");
    let s1024 = Srht::new(1024, 1024, Seed::new(5)).unwrap();
    let k = distortion(&s1024, q_of(1024, 1e-14).as_ref(), Par::Seq).unwrap();
    assert_eq!(k, f64::INFINITY, "m = 1024, κ = 1e14");
    let k = distortion(&s1024, q_of(1024, 1e-12).as_ref(), Par::Seq).unwrap();
    assert!((k / 1e12 - 1.0).abs() < 0.05, "m = 1024: κ = {k:e}");
    // condition_number itself has no rank rule.
    let k = condition_number(q_of(1024, 1e-14).as_ref()).unwrap();
    assert!((k / 1e14 - 1.0).abs() < 1e-6, "κ(Q) = {k:e}");
}

/// A header's bounds are inclusive: order 12 and dimension `2²⁶` are accepted (a header alone
/// gives the zero tensor of that shape), order 13 and dimension `2²⁶ + 1` are parse errors on the
/// header's line.
#[test]
fn header_order_and_dimension_bounds_are_inclusive() {
    let t = read_tns("# order 3 dimension 67108864\n".as_bytes()).unwrap();
    assert_eq!((t.order(), t.dim(), t.nnz()), (3, 1 << 26, 1));
    assert_eq!(t.get(&[5, 6, 7]).unwrap(), 0.0);
    let twelve = format!("# order 12 dimension 2\n{}0.5\n", "1 ".repeat(11) + "2 ");
    let t = read_tns(twelve.as_bytes()).unwrap();
    assert_eq!((t.order(), t.dim(), t.nnz()), (12, 2, 12));
    for bad in ["# order 3 dimension 67108865\n", "# order 13 dimension 2\n"] {
        assert!(
            matches!(read_tns(bad.as_bytes()), Err(Error::Parse { line: 1, .. })),
            "{bad:?}"
        );
    }
}

/// When several lines break the symmetric-tensor rule, the error names the earliest of them
/// (documented: "the earliest such line is named"), whichever multi-index group is checked
/// first: here the group of `{1,1,1}` (sorted first) is broken on line 4 (a repeat) and that of
/// `{1,1,2}` (sorted after it, but starting on line 1) on line 5 (an unequal value).
#[test]
fn the_earliest_asymmetric_line_is_named() {
    let text = "1 1 2 1.0\n1 2 1 1.0\n1 1 1 1.0\n1 1 1 1.0\n2 1 1 1.5\n";
    for storage in [TnsStorage::Coordinate, TnsStorage::Dense] {
        match read_tns_as(text.as_bytes(), storage) {
            Err(Error::Parse { line, reason }) => assert_eq!(line, 4, "{reason}"),
            other => panic!("{:?}", other.map(drop)),
        }
    }
}

/// Coordinate storage of a multi-index listed twice among its permutations is refused even
/// when the count of lines equals the number of distinct permutations (`(0,0,1)` twice and
/// `(0,1,0)`: 3 lines, 3 permutations, `(1,0,0)` missing).
#[test]
fn a_permutation_listed_twice_is_refused_even_with_the_right_count() {
    let r = SymmetricTensor::coordinate(3, 2, &[0, 0, 1, 0, 0, 1, 0, 1, 0], &[1.0, 1.0, 1.0]);
    assert!(
        matches!(r, Err(Error::InvalidStructure { .. })),
        "{:?}",
        r.map(drop)
    );
}

/// `read_tns_path` names the file on every I/O error, not only when it cannot be opened: a
/// directory opens on Linux and fails on its first read, which the reader reported as
/// "reading line 1: Is a directory" without the path (found by the CLI's mutation review:
/// `tensor_power --tns DIR` printed no file name). Rule: the `Io` message starts with
/// "reading DIR: " and still carries the line.
#[test]
fn read_tns_path_names_a_directory_given_as_the_file() {
    let dir = std::env::temp_dir().join(format!("randnla-tns-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let r = randnla::tensor::read_tns_path(&dir);
    std::fs::remove_dir(&dir).unwrap();
    match r {
        Err(randnla::Error::Io { message, .. }) => {
            let want = format!("reading {}: reading line 1", dir.display());
            assert!(message.starts_with(&want), "{message}");
        }
        r => panic!("{r:?}"),
    }
}
