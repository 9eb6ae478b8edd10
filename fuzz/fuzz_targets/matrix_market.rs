//! Arbitrary bytes → Matrix Market reader → every sketch. Nothing may panic; whatever the reader
//! accepts must be a valid input for the sketches.
#![no_main]

use libfuzzer_sys::fuzz_target;
use randnla::io::{read_matrix_market, ReadOptions};
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
