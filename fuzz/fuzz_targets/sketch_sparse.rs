//! Arbitrary shape, compressed structure and values → validation → every sketch family.
//! Invalid structure must be rejected with an error; for valid input, CSR/CSC-as-given and the
//! dense copy must give bitwise identical sketches (every family, the SRHT included), and the
//! result must match the explicit dense sketch times A.
#![no_main]

use faer::{Mat, Par};
use libfuzzer_sys::fuzz_target;
use randnla::sketch::{SketchExt, SketchKind};
use randnla::{Layout, MatrixRef, Seed, SparseRef};

#[path = "bytes.rs"]
mod bytes;
use bytes::Bytes;

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let nrows = (b.u8() % 40) as usize;
    // Mostly narrow; a byte ≥ 248 gives 256 or 512 columns, whose rows the row kernel pads in
    // its work copy (rows of 2048 or 4096 bytes).
    let ncols = match b.u8() {
        c @ 248.. => [256, 512][c as usize % 2],
        c => (c % 12) as usize,
    };
    let layout = if b.u8() % 2 == 0 {
        Layout::Csr
    } else {
        Layout::Csc
    };
    let outer = if layout == Layout::Csr { nrows } else { ncols };
    // Raw, possibly malformed, arrays.
    let mut indptr = Vec::new();
    let indptr_len = (outer + 1).saturating_sub((b.u8() % 8 == 0) as usize);
    let mut acc = 0usize;
    for k in 0..indptr_len {
        let step = b.u8();
        // Raw arrays start at 0; one in sixteen starts at 1 (a 1-based array, refused).
        acc = if k == 0 {
            (step % 16 == 0) as usize
        } else if step == 255 {
            acc.saturating_sub(1)
        } else {
            acc + (step % 4) as usize
        };
        indptr.push(acc);
    }
    let nnz = indptr.last().copied().unwrap_or(0);
    let inner = if layout == Layout::Csr { ncols } else { nrows };
    let mut indices = Vec::with_capacity(nnz);
    let mut values = Vec::with_capacity(nnz);
    for _ in 0..nnz {
        indices.push(b.u8() as usize % (inner + 2).max(1));
        let v = b.raw_f64();
        // Mostly moderate finite values, sometimes raw bits (NaN, ∞, huge).
        values.push(if b.u8() % 16 == 0 {
            v
        } else {
            (b.u8() as f64 - 128.0) / 8.0
        });
    }
    // Mostly tiny sketches; one in eight up to 256 rows, so that s > 64 (Floyd's draw with a
    // hash set for the rows already taken) is reached too.
    let m = if b.u8() % 8 == 0 {
        1 + b.u8() as usize
    } else {
        1 + (b.u8() % 9) as usize
    };
    let s = 1 + (b.u8() as usize % m);
    let seed = Seed::new(b.u8() as u64);

    let Ok(sparse) = SparseRef::try_new(layout, nrows, ncols, &indptr, &indices, &values) else {
        return;
    };
    let a = MatrixRef::Sparse(sparse);
    let dense: Mat<f64> = a.to_dense().expect("a shape up to 40 × 512 fits in memory");
    let dense_view = MatrixRef::dense(dense.as_ref()).expect("validated values are finite");
    for kind in [
        SketchKind::CountSketch,
        SketchKind::SparseSign { nnz_per_col: s },
        SketchKind::Gaussian,
        SketchKind::Srht,
    ] {
        let Ok(op) = kind.build::<f64>(m, nrows, seed) else {
            let srht_too_tall = kind == SketchKind::Srht && m > nrows.next_power_of_two();
            assert!(
                nrows == 0 || srht_too_tall,
                "building an {m}×{nrows} {kind:?} failed"
            );
            continue;
        };
        let from_sparse = op.apply(a, Par::Seq);
        let from_dense = op.apply(dense_view, Par::Seq);
        match (from_sparse, from_dense) {
            (Ok(x), Ok(y)) => {
                let explicit = op.to_dense().expect("small sketch") * &dense;
                let scale = dense.norm_max().max(1e-300) * (nrows as f64);
                for j in 0..ncols {
                    for i in 0..m {
                        assert_eq!(
                            x[(i, j)].to_bits(),
                            y[(i, j)].to_bits(),
                            "{kind:?}: {} vs {}",
                            x[(i, j)],
                            y[(i, j)]
                        );
                        // Near f64::MAX a sum overflows to ±∞ in one order and not in
                        // another (IEEE semantics, documented on `apply`): compare
                        // magnitudes only where everything is finite.
                        if scale.is_finite()
                            && x[(i, j)].is_finite()
                            && explicit[(i, j)].is_finite()
                        {
                            assert!(
                                (x[(i, j)] - explicit[(i, j)]).abs() <= 1e-12 * scale,
                                "{kind:?}: {} vs explicit {}",
                                x[(i, j)],
                                explicit[(i, j)]
                            );
                        }
                    }
                }
            }
            (Err(_), Err(_)) => {}
            (x, y) => panic!("sparse and dense disagree on validity: {x:?} vs {y:?}"),
        }
    }
});
