//! A second adversarial review of the sketch core (`src/sketch/{mod, count, sparse_sign,
//! gaussian, srht, kernels}.rs`, `src/input.rs`), as a downstream user and numerical analyst
//! would run it: each test names the promise it holds the crate to and what a user saw before
//! the fix it pins.

use crate::common;

use common::*;
use faer::{Mat, Par};
use randnla::sketch::*;
use randnla::{Error, MatrixRef, Seed, SparseRef};

fn is_too_large<R: std::fmt::Debug>(r: &randnla::Result<R>) -> bool {
    matches!(r, Err(Error::TooLarge { .. }))
}

/// The trait promises `TooLarge` "when a CSR block's CSC copy (for the kernels that walk
/// columns) cannot be allocated". Only the copy's column pointers were asked for; its `nnz`
/// indices and values were `vec!`s, so a CSR input that fits in memory once but not twice
/// killed the process ("memory allocation of … bytes failed", SIGABRT) in the Gaussian sketch
/// and the SRHT, `S·A` and `A·Sᵀ` alike. Here the input takes 55% of the address space left.
#[test]
fn a_csr_input_whose_column_copy_does_not_fit_is_a_too_large_error() {
    if !under_address_limit(
        module_path!(),
        "a_csr_input_whose_column_copy_does_not_fit_is_a_too_large_error",
        LIMIT_KIB,
    ) {
        return;
    }
    // Every row stores all d = 4 columns: 18 bytes per entry with the row pointers.
    let d = 4;
    let n = usize::try_from(address_space_left() * 55 / 100 / (18 * d as u64)).unwrap();
    assert!(
        n > 1_000_000,
        "only {n} rows fit: the limit leaves too little"
    );
    let indptr: Vec<usize> = (0..=n).map(|i| i * d).collect();
    let indices: Vec<usize> = (0..n * d).map(|p| p % d).collect();
    let data: Vec<f64> = (0..n * d).map(|p| 1.0 + (p % 7) as f64).collect();
    let a = SparseRef::try_csr(n, d, &indptr, &indices, &data).unwrap();
    let ops: Vec<Box<dyn SketchOperator<f64>>> = vec![
        Box::new(Gaussian::new(4, n, Seed::new(1)).unwrap()),
        Box::new(Srht::new(4, n, Seed::new(1)).unwrap()),
    ];
    for op in &ops {
        let r = op.apply(MatrixRef::Sparse(a), Par::Seq);
        assert!(is_too_large(&r), "{}, S·A: {:?}", op.name(), r.err());
        let mut out = Mat::<f64>::zeros(4, d);
        let r = op.apply_block_into(0, MatrixRef::Sparse(a), out.as_mut(), Par::Seq);
        assert!(is_too_large(&r), "{}, block: {:?}", op.name(), r.err());
        // Unchanged, as documented for TooLarge.
        assert!((0..d).all(|j| (0..4).all(|i| out[(i, j)].to_bits() == 0)));
        // A·Sᵀ of the d × n CSC matrix Aᵀ: its transpose is this CSR matrix.
        let r = op.apply_right(MatrixRef::Sparse(a.transpose()), Par::Seq);
        assert!(is_too_large(&r), "{}, A·Sᵀ: {:?}", op.name(), r.err());
    }
    // The sparse sign sketch walks CSR rows and makes no copy: it still answers.
    let op = SparseSign::new(4, n, 2, Seed::new(1)).unwrap();
    assert!(op.apply(MatrixRef::Sparse(a), Par::Seq).is_ok());
}

/// `to_dense` promises `TooLarge` beyond `2^28` entries; within that limit it called
/// `Mat::zeros` (or `Mat::from_fn`), which abort when the allocator refuses, and the Gaussian
/// sketch held a second copy of `S` while it filled the matrix. A `2^14 × 2^14` sketch (2 GiB of
/// `f64`) under a 512 MiB limit killed the process; now it is `TooLarge`, and a Gaussian sketch
/// of 60% of the space left, which needed 120%, is generated in place. Row sampling's
/// `to_dense` had the same abort (fixed after this review).
#[test]
fn to_dense_that_does_not_fit_is_a_too_large_error_not_an_abort() {
    if !under_address_limit(
        module_path!(),
        "to_dense_that_does_not_fit_is_a_too_large_error_not_an_abort",
        LIMIT_KIB,
    ) {
        return;
    }
    let k = 1 << 14;
    let seed = Seed::new(3);
    let ops: Vec<Box<dyn SketchOperator<f64>>> = vec![
        Box::new(CountSketch::new(k, k, seed).unwrap()),
        Box::new(SparseSign::new(k, k, 8, seed).unwrap()),
        Box::new(Gaussian::new(k, k, seed).unwrap()),
        Box::new(Srht::new(k, k, seed).unwrap()),
        Box::new(sampling::RowSampling::uniform(k, k, seed).unwrap()),
    ];
    for op in &ops {
        let r = op.to_dense();
        assert!(
            is_too_large(&r),
            "{}: {:?}",
            op.name(),
            r.err().map(|e| e.to_string())
        );
    }
    let m = 64;
    let n = usize::try_from(address_space_left() * 60 / 100 / (8 * m as u64)).unwrap();
    let op = Gaussian::new(m, n, seed).unwrap();
    let s: Mat<f64> = op.to_dense().unwrap();
    // Columns at the edges of the generation blocks equal S·e_j, bit for bit.
    for j in [0, 63, 64, 65, n / 2, n - 1] {
        let mut e = vec![0.0f64; n];
        e[j] = 1.0;
        let col: Vec<f64> = op.apply_vec(&e).unwrap();
        for (i, v) in col.iter().enumerate() {
            assert_eq!(s[(i, j)].to_bits(), v.to_bits(), "column {j}, row {i}");
        }
    }
    drop(s);
    // The Gaussian sketch's buffer of 64 generated columns (128 MiB at m = 2¹⁸) is asked for
    // too: with 200 MB left, the 2¹⁸ × 64 matrix fits and the buffer does not.
    let ballast: Vec<u8> =
        Vec::with_capacity(usize::try_from(address_space_left() - (200 << 20)).unwrap());
    let op = Gaussian::new(1 << 18, 64, seed).unwrap();
    let r = SketchOperator::<f64>::to_dense(&op);
    assert!(is_too_large(&r), "Gaussian 2^18 × 64: {:?}", r.err());
    drop(ballast);
}

/// Every family at `m × n` from `seed` (sparse sign at `s = 3` and at `s = 66`, the hash-set
/// path), for either scalar.
fn families<T: randnla::Scalar>(m: usize, n: usize, seed: Seed) -> Vec<Box<dyn SketchOperator<T>>> {
    let mut v: Vec<Box<dyn SketchOperator<T>>> = vec![
        Box::new(CountSketch::new(m, n, seed).unwrap()),
        Box::new(Gaussian::new(m, n, seed).unwrap()),
    ];
    for s in [3, 66] {
        if s <= m {
            v.push(Box::new(SparseSign::new(m, n, s, seed).unwrap()));
        }
    }
    if m <= n.next_power_of_two() {
        v.push(Box::new(Srht::new(m, n, seed).unwrap()));
    }
    v
}

/// The trait documents a block with no rows (or no columns) as a no-op once the shapes are
/// checked; its `# Errors` said `NonFinite` "when, after the block is added, `out` holds a NaN",
/// which an empty block into a NaN output never returned. The doc now says which: an empty
/// block is `Ok` and leaves `out` as it was, a non-empty one reports the NaN, and a misplaced
/// empty block (offset past `n`, or `out` of the wrong shape) is still a `DimensionMismatch`.
#[test]
fn an_empty_block_is_a_no_op_after_the_shape_checks() {
    let (m, n) = (5, 40);
    for op in families::<f64>(m, n, Seed::new(8)) {
        let name = op.name();
        let start =
            Mat::<f64>::from_fn(m, 3, |i, j| if (i, j) == (2, 1) { f64::NAN } else { -0.0 });
        let same = |out: &Mat<f64>| {
            (0..3).all(|j| (0..m).all(|i| out[(i, j)].to_bits() == start[(i, j)].to_bits()))
        };
        for (offset, rows, cols) in [(0, 0, 3), (n, 0, 3), (7, 2, 0)] {
            let block = Mat::<f64>::zeros(rows, cols);
            let mut out = Mat::<f64>::from_fn(m, cols, |i, j| start[(i, j)]);
            let r = op.apply_block_into(
                offset,
                MatrixRef::Dense(block.as_ref()),
                out.as_mut(),
                Par::Seq,
            );
            assert!(r.is_ok(), "{name}: {rows} × {cols} at {offset}: {r:?}");
            if cols == 3 {
                assert!(
                    same(&out),
                    "{name}: {rows} × {cols} at {offset} changed out"
                );
            }
        }
        // The same output with a block of one row: the NaN is reported.
        let one = Mat::<f64>::from_fn(1, 3, |_, j| j as f64);
        let mut out = start.clone();
        let r = op.apply_block_into(3, MatrixRef::Dense(one.as_ref()), out.as_mut(), Par::Seq);
        assert!(
            matches!(r, Err(Error::NonFinite { row: 2, col: 1, .. })),
            "{name}: {r:?}"
        );
        // Empty blocks that do not fit, or an output of the wrong shape: still errors.
        let empty = Mat::<f64>::zeros(0, 3);
        for (offset, rows, cols) in [(n + 1, m, 3), (usize::MAX, m, 3), (0, m + 1, 3), (0, m, 2)] {
            let mut out = Mat::<f64>::zeros(rows, cols);
            let r = op.apply_block_into(
                offset,
                MatrixRef::Dense(empty.as_ref()),
                out.as_mut(),
                Par::Seq,
            );
            assert!(
                matches!(r, Err(Error::DimensionMismatch { .. })),
                "{name}: empty block at {offset} into {rows} × {cols}: {r:?}"
            );
        }
    }
}

/// `to_dense` is `S` itself: `S·I` through every layout of the identity (CSR, CSC, dense
/// column- and row-major) gives its entries bit for bit, in `f64` and `f32`, at shapes with
/// `m = 1`, `m > n`, `n` not a power of two (the SRHT pads) and a partial Gaussian block.
#[test]
fn to_dense_is_the_sketch_of_the_identity_bit_for_bit() {
    fn check<T: randnla::Scalar>(m: usize, n: usize) {
        let id = Mat::<T>::from_fn(n, n, |i, j| if i == j { T::from_f64(1.0) } else { T::ZERO });
        let id_rm = id.transpose().to_owned();
        let tri = {
            let mut t = sprs::TriMat::new((n, n));
            for i in 0..n {
                t.add_triplet(i, i, T::from_f64(1.0));
            }
            t
        };
        let (csr, csc): (sprs::CsMat<T>, sprs::CsMat<T>) = (tri.to_csr(), tri.to_csc());
        for op in families::<T>(m, n, Seed::new(41)) {
            let s = op.to_dense().unwrap();
            assert_eq!((s.nrows(), s.ncols()), (m, n));
            for (layout, a) in [
                ("csr", MatrixRef::sparse(&csr).unwrap()),
                ("csc", MatrixRef::sparse(&csc).unwrap()),
                ("dense", MatrixRef::dense(id.as_ref()).unwrap()),
                ("row-major", MatrixRef::dense(id_rm.transpose()).unwrap()),
            ] {
                let si = op.apply(a, Par::rayon(2)).unwrap();
                for j in 0..n {
                    for i in 0..m {
                        assert_eq!(
                            si[(i, j)].to_f64().to_bits(),
                            s[(i, j)].to_f64().to_bits(),
                            "{} {} {m}×{n} {layout}: ({i}, {j})",
                            op.name(),
                            T::NAME
                        );
                    }
                }
            }
        }
    }
    for (m, n) in [(1, 1), (1, 5), (7, 3), (5, 100), (70, 130), (66, 200)] {
        check::<f64>(m, n);
        check::<f32>(m, n);
    }
}

/// The second moment of `‖Sx‖²`, which the unbiasedness tests do not reach: it is where
/// dependence between the columns of `S` shows (a hash or sign correlated across columns
/// changes `E⟨Sₑᵢ, Sₑⱼ⟩²`). For a sparse sign sketch with `s` nonzeros per column (rows without
/// replacement, independent fair signs) `‖Sx‖² = ‖x‖² + Σ_{i≠j} xᵢxⱼ⟨Sₑᵢ, Sₑⱼ⟩` and
/// `E⟨Sₑᵢ, Sₑⱼ⟩² = E|Rᵢ ∩ Rⱼ|/s² = 1/m`, so `Var‖Sx‖² = (2/m)(‖x‖⁴ − Σxᵢ⁴)` for every `s`
/// (CountSketch included); for the Gaussian sketch `Var‖Sx‖² = 2‖x‖⁴/m`. (The SRHT's depends
/// on the Hadamard structure and the padding; it is left out.)
/// Pass rule: over 4000 seeds (a range of its own per family), the sample variance lies within 5
/// estimated standard errors (`√((μ̂₄ − V²)/N)`, `μ̂₄` the sample fourth central moment) of the
/// formula.
#[test]
fn the_variance_of_the_squared_norm_is_the_formula_of_independent_columns() {
    let (m, n, seeds) = (16usize, 300usize, 4000u64);
    // Two spikes make Σxᵢ⁴ 40% of ‖x‖⁴: the two formulas are 15 or more standard errors apart.
    let x: Vec<f64> = (0..n)
        .map(|i| match i {
            0 | 1 => 100.0,
            _ => ((i * 37 % 101) as f64 - 50.0) / 10.0,
        })
        .collect();
    let norm2: f64 = x.iter().map(|v| v * v).sum();
    let sum4: f64 = x.iter().map(|v| v.powi(4)).sum();
    let sparse = 2.0 / m as f64 * (norm2 * norm2 - sum4);
    let gaussian = 2.0 / m as f64 * norm2 * norm2;
    for (family, (kind, want)) in [
        (SketchKind::CountSketch, sparse),
        (SketchKind::SparseSign { nnz_per_col: 2 }, sparse),
        (SketchKind::SparseSign { nnz_per_col: 8 }, sparse),
        (SketchKind::SparseSign { nnz_per_col: 16 }, sparse),
        (SketchKind::Gaussian, gaussian),
    ]
    .into_iter()
    .enumerate()
    {
        let y: Vec<f64> = (0..seeds)
            .map(|s| {
                let op = kind
                    .build::<f64>(m, n, Seed::new(77_000 + 10_000 * family as u64 + s))
                    .unwrap();
                op.apply_vec(&x).unwrap().iter().map(|v| v * v).sum()
            })
            .collect();
        let k = y.len() as f64;
        let mean = y.iter().sum::<f64>() / k;
        let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0);
        let mu4 = y.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / k;
        let se = ((mu4 - var * var) / k).sqrt();
        let z = (var - want) / se;
        assert!(
            z.abs() < 5.0,
            "{kind:?}: Var ‖Sx‖² = {var:.1}, formula {want:.1}, z = {z:.2}"
        );
    }
}

/// SRHT rows are orthogonal, `S·Sᵀ = (n/m)·I`, when no padding is needed (`n = n'`: `S` is `m`
/// rows of the orthogonal `H·D/√n`, scaled by `√(n/m)`). With padding the rows are orthogonal
/// only over all `n'` columns (checked on the padded `H`): `S·Sᵀ ≠ (n/m)·I` in general, so the
/// sketch of a padded input is not a scaled partial isometry, only one in expectation.
#[test]
fn srht_rows_are_orthogonal_up_to_scaling() {
    for (m, n) in [(1, 1), (3, 8), (16, 64), (100, 1024), (1024, 1024)] {
        for seed in 0..3 {
            let op = Srht::new(m, n, Seed::new(seed)).unwrap();
            let s: Mat<f64> = op.to_dense().unwrap();
            let g = &s * s.transpose();
            for i in 0..m {
                for j in 0..m {
                    let want = if i == j { n as f64 / m as f64 } else { 0.0 };
                    assert!(
                        (g[(i, j)] - want).abs() <= 1e-12 * n as f64 / m as f64,
                        "m = {m}, n = {n}, seed {seed}: (S·Sᵀ)({i}, {j}) = {}",
                        g[(i, j)]
                    );
                }
            }
        }
    }
    // Padded: n = 5 in n' = 8, all 8 rows kept. The rows of S are orthogonal only with the
    // padded columns; SᵀS = I still holds (the columns of H are orthogonal).
    let op = Srht::new(8, 5, Seed::new(1)).unwrap();
    let s: Mat<f64> = op.to_dense().unwrap();
    let gram = s.transpose() * &s;
    for i in 0..5 {
        for j in 0..5 {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!((gram[(i, j)] - want).abs() < 1e-14, "SᵀS({i}, {j})");
        }
    }
    let rows = &s * s.transpose();
    let off: f64 = (0..8)
        .flat_map(|i| (0..8).filter(move |&j| j != i).map(move |j| (i, j)))
        .map(|(i, j)| rows[(i, j)].abs())
        .fold(0.0, f64::max);
    assert!(off > 0.1, "padded rows came out orthogonal: {off}");
}

/// `apply_block_into`'s `# Errors` named the CSC copy and the SRHT's column buffer as the
/// allocations that may be `TooLarge`, not the `m × d` work copy of `out` every family's kernel
/// accumulates into (the caller's `out` fitting once does not make room for the copy). The doc
/// now names it; here `out` takes 60% of the space left under a 512 MiB limit, and every family,
/// fed a dense and a CSR block, answers `TooLarge` and leaves `out` as it was.
#[test]
fn a_work_copy_of_out_that_does_not_fit_is_a_too_large_error() {
    if !under_address_limit(
        module_path!(),
        "a_work_copy_of_out_that_does_not_fit_is_a_too_large_error",
        LIMIT_KIB,
    ) {
        return;
    }
    let (m, n) = (4096, 4096);
    let d = usize::try_from(address_space_left() * 60 / 100 / (8 * m as u64)).unwrap();
    let start = |i: usize, j: usize| ((i + j) % 3) as f64;
    let mut out = Mat::<f64>::from_fn(m, d, start);
    let dense = Mat::<f64>::from_fn(2, d, |i, j| (i + j) as f64 + 1.0);
    let mut tri = sprs::TriMat::new((2, d));
    for j in 0..d {
        tri.add_triplet(j % 2, j, 1.0 + j as f64);
    }
    let csr: sprs::CsMat<f64> = tri.to_csr();
    let seed = Seed::new(4);
    let ops: Vec<Box<dyn SketchOperator<f64>>> = vec![
        Box::new(CountSketch::new(m, n, seed).unwrap()),
        Box::new(SparseSign::new(m, n, 8, seed).unwrap()),
        Box::new(Gaussian::new(m, n, seed).unwrap()),
        Box::new(Srht::new(m, n, seed).unwrap()),
    ];
    for op in &ops {
        for (layout, block) in [
            ("dense", MatrixRef::dense(dense.as_ref()).unwrap()),
            ("csr", MatrixRef::sparse(&csr).unwrap()),
        ] {
            let r = op.apply_block_into(100, block, out.as_mut(), Par::Seq);
            assert!(is_too_large(&r), "{} {layout}: {:?}", op.name(), r.err());
        }
    }
    assert!((0..d).all(|j| (0..m).all(|i| out[(i, j)] == start(i, j))));
}

/// The Gaussian sketch generates `S` a block at a time, `m × 64` entries at least (128 MiB of
/// `f64` at the largest `m = 2¹⁸`), in buffers that were `vec!`s: with less memory left than
/// that, `S·x` killed the process ("memory allocation of 134217728 bytes failed"). Both
/// kernels now ask the allocator and answer `TooLarge`: the super-block kernel (dense input)
/// and the per-entry kernel (a hypersparse CSC input, one entry in 2⁴⁰ rows). Here all but
/// 60 MB of the address space is held before the call; the output and its work copy (2 MB
/// each) still fit.
#[test]
fn a_gaussian_block_of_s_that_does_not_fit_is_a_too_large_error() {
    if !under_address_limit(
        module_path!(),
        "a_gaussian_block_of_s_that_does_not_fit_is_a_too_large_error",
        LIMIT_KIB,
    ) {
        return;
    }
    let m = 1 << 18;
    let x = vec![1.0f64; 100];
    let tall: sprs::CsMat<f64> = {
        let mut tri = sprs::TriMat::new((1usize << 40, 1));
        tri.add_triplet(12_345, 0, 2.0);
        tri.to_csc()
    };
    let ballast: Vec<u8> =
        Vec::with_capacity(usize::try_from(address_space_left() - (60 << 20)).unwrap());
    let op = Gaussian::new(m, 100, Seed::new(5)).unwrap();
    let r = op.apply_vec(&x);
    assert!(is_too_large(&r), "dense: {:?}", r.err());
    let op = Gaussian::new(m, 1 << 40, Seed::new(5)).unwrap();
    let r = op.apply(MatrixRef::sparse(&tall).unwrap(), Par::Seq);
    assert!(is_too_large(&r), "hypersparse CSC: {:?}", r.err());
    drop(ballast);
    // With the memory back, both answer.
    let sx = Gaussian::new(m, 100, Seed::new(5))
        .unwrap()
        .apply_vec(&x)
        .unwrap();
    assert_eq!(sx.len(), m);
    let sa = op
        .apply(MatrixRef::sparse(&tall).unwrap(), Par::Seq)
        .unwrap();
    assert_eq!((sa.nrows(), sa.ncols()), (m, 1));
}

/// `Srht::new` documents `TooLarge` "when the `m` selected rows (or the set used to draw them)
/// cannot be allocated", which no test reached. Under a 512 MiB limit: 2²⁷ rows (1 GiB of
/// indices, the bitmap path), and, with all but 200 MB of the space held, 2²⁴ rows of
/// `n' = 2³⁰` (128 MiB of indices, then a hash set of 2²⁴ entries, about 290 MiB: the hash-set
/// path, `m ≤ n'/64`) are `TooLarge` from the constructor and from [`SketchKind::build`]; the
/// same hash-set selection is drawn once the space is back.
#[test]
fn srht_row_selections_that_do_not_fit_are_too_large_errors() {
    if !under_address_limit(
        module_path!(),
        "srht_row_selections_that_do_not_fit_are_too_large_errors",
        LIMIT_KIB,
    ) {
        return;
    }
    let too_large = |m: usize, n: usize| {
        let r = Srht::new(m, n, Seed::new(2));
        assert!(is_too_large(&r), "m = {m}, n = {n}: {:?}", r.err());
        let r = SketchKind::Srht
            .build::<f64>(m, n, Seed::new(2))
            .map(|_| ());
        assert!(is_too_large(&r), "build, m = {m}, n = {n}: {:?}", r.err());
    };
    too_large(1 << 27, 1 << 27);
    let ballast: Vec<u8> =
        Vec::with_capacity(usize::try_from(address_space_left() - (200 << 20)).unwrap());
    too_large(1 << 24, 1 << 30);
    drop(ballast);
    let op = Srht::new(1 << 24, 1 << 30, Seed::new(2)).unwrap();
    assert_eq!(op.selected_rows().len(), 1 << 24);
}

/// The kernels that walk a block's columns in row blocks keep one cursor per column, a
/// `vec![0; d]`: with `m = 1` as large as the output and its work copy, and where those two had
/// just fit, the cursors aborted the process. Here a dense `1 × d` block (column-major, so
/// walked by columns) and a `1 × d` output, both over slices, and the work copy take about 85%
/// of the space left under a 512 MiB limit; every family with `m = 1` answers `TooLarge` and
/// leaves `out` as it was.
#[test]
fn column_cursors_that_do_not_fit_are_a_too_large_error() {
    if !under_address_limit(
        module_path!(),
        "column_cursors_that_do_not_fit_are_a_too_large_error",
        LIMIT_KIB,
    ) {
        return;
    }
    let d = usize::try_from(address_space_left() * 85 / 100 / 24).unwrap();
    let a: Vec<f64> = (0..d).map(|j| 1.0 + (j % 5) as f64).collect();
    let mut out = vec![0.5f64; d];
    let block = faer::MatRef::from_column_major_slice(&a, 1, d);
    let seed = Seed::new(6);
    let ops: Vec<Box<dyn SketchOperator<f64>>> = vec![
        Box::new(CountSketch::new(1, 10, seed).unwrap()),
        Box::new(Gaussian::new(1, 10, seed).unwrap()),
        Box::new(Srht::new(1, 10, seed).unwrap()),
    ];
    for op in &ops {
        let view = faer::MatMut::from_column_major_slice_mut(&mut out, 1, d);
        let r = op.apply_block_into(3, MatrixRef::Dense(block), view, Par::Seq);
        assert!(is_too_large(&r), "{}: {:?}", op.name(), r.err());
    }
    assert!(out.iter().all(|&v| v == 0.5));
}
