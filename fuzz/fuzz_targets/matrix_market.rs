//! Arbitrary bytes → Matrix Market reader → every sketch. Nothing may panic; whatever the reader
//! accepts must be a valid input for the sketches, and must survive a write and a read back
//! bitwise ("a write followed by a read gives back bitwise identical values (including -0.0)";
//! explicit zeros are kept, so the sparsity pattern survives too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use randnla::io::{read_matrix_market, write_dense, write_sparse, MatrixMarket, ReadOptions};
use randnla::sketch::{SketchExt, SketchKind};
use randnla::Seed;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        max_elements: 1 << 16,
    };
    let Ok(file) = read_matrix_market(data, &opts) else {
        return;
    };
    let a = file
        .view()
        .expect("a matrix the reader returned must validate");
    let n = a.nrows();
    // The reader bounds each declared dimension by `max_elements`, even for a matrix that stores
    // nothing, so the sketches below (dense 3 × d and n × 3 outputs) stay small.
    assert!(
        a.ncols().max(n) as u64 <= opts.max_elements,
        "a {n}×{} matrix passed a limit of {}",
        a.ncols(),
        opts.max_elements
    );
    // Round trip: write, read back with the same limits (the file needs no more than the
    // original did), and compare shape, structure and value bits.
    let mut out = Vec::new();
    match &file {
        MatrixMarket::Sparse(s) => {
            let view = randnla::SparseRef::from_sprs(s.view()).expect("a CSR the reader returned");
            write_sparse(&mut out, &view).expect("write to a Vec");
        }
        MatrixMarket::Dense(d) => write_dense(&mut out, d.as_ref()).expect("write to a Vec"),
    }
    let back = read_matrix_market(&out[..], &opts).expect("read back what the writer wrote");
    match (&file, &back) {
        (MatrixMarket::Sparse(x), MatrixMarket::Sparse(y)) => {
            assert_eq!((x.rows(), x.cols()), (y.rows(), y.cols()));
            assert_eq!(x.indptr().raw_storage(), y.indptr().raw_storage());
            assert_eq!(x.indices(), y.indices());
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(x.data()),
                bits(y.data()),
                "values changed in a round trip"
            );
        }
        (MatrixMarket::Dense(x), MatrixMarket::Dense(y)) => {
            assert_eq!((x.nrows(), x.ncols()), (y.nrows(), y.ncols()));
            for j in 0..x.ncols() {
                for i in 0..x.nrows() {
                    assert_eq!(x[(i, j)].to_bits(), y[(i, j)].to_bits(), "entry ({i}, {j})");
                }
            }
        }
        _ => panic!("a round trip changed the format"),
    }
    // As a vector: Ok exactly for a non-empty n × 1 or 1 × n matrix, holding its entries.
    let (rows, cols) = (file.nrows(), file.ncols());
    match file.to_vector() {
        Ok(v) => {
            assert!(
                (rows == 1 || cols == 1) && rows > 0 && cols > 0,
                "{rows}×{cols}"
            );
            assert_eq!(v.len(), rows.max(cols));
            let stored: f64 = match &file {
                MatrixMarket::Sparse(s) => s.data().iter().map(|x| x.abs()).sum(),
                MatrixMarket::Dense(d) => (0..cols)
                    .flat_map(|j| (0..rows).map(move |i| d[(i, j)].abs()))
                    .sum(),
            };
            let got: f64 = v.iter().map(|x| x.abs()).sum();
            // Same order of summation; compared as values (an empty sum is −0, which the
            // vector's zeros turn into +0).
            assert_eq!(got, stored, "entries lost in to_vector");
        }
        Err(_) => assert!(!((rows == 1 || cols == 1) && rows > 0 && cols > 0)),
    }
    for kind in [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: 2 },
        SketchKind::Gaussian,
        SketchKind::Srht,
    ] {
        let Ok(op) = kind.build::<f64>(3, n, Seed::new(1)) else {
            continue;
        };
        let _ = op.apply(a, faer::Par::Seq);
        let _ = op.apply_right(a, faer::Par::Seq);
    }
});
