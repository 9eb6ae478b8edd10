//! A second adversarial review of the sketch core (`src/sketch/{mod, count, sparse_sign,
//! gaussian, srht, kernels}.rs`, `src/input.rs`), as a downstream user and numerical analyst
//! would run it: each test names the promise it holds the crate to and what a user saw before
//! the fix it pins.

mod common;

use common::*;
use faer::{Mat, Par};
use randnla::sketch::*;
use randnla::{Error, MatrixRef, Seed, SparseRef};

/// The address-space limit of the child processes of [`under_address_limit`], in KiB (512 MiB;
/// the test binary maps about 90 MB).
const LIMIT_KIB: u64 = 1 << 19;

/// Bytes of address space this process has left under [`LIMIT_KIB`] (from `VmSize`, which is
/// what `ulimit -v` limits).
fn address_space_left() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let used_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap();
    LIMIT_KIB.saturating_sub(used_kib) * 1024
}

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
/// of 60% of the space left, which needed 120%, is generated in place.
#[test]
fn to_dense_that_does_not_fit_is_a_too_large_error_not_an_abort() {
    if !under_address_limit(
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
}
