//! Arbitrary shape, compressed structure and values → validation → every sketch family.
//! Invalid structure must be rejected with an error; for valid input, CSR/CSC-as-given and the
//! dense copy must give bitwise identical sketches (every family, the SRHT included), and the
//! result must match the explicit dense sketch times A. Row sampling (with replacement and
//! Bernoulli) takes part too, with weights that mix zeros, subnormals, huge and raw values.
#![no_main]

use faer::{Mat, Par};
use libfuzzer_sys::fuzz_target;
use randnla::sketch::sampling::RowSampling;
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
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
    // Where the rows are split into two blocks for the merge check.
    let split = b.u8() as usize % (nrows + 1);
    // Row-sampling weights: zeros, subnormals and values near both ends of the range among
    // ordinary ones (a negative or non-finite raw value is refused by the constructor).
    let weights: Vec<f64> = (0..nrows)
        .map(|_| match b.u8() % 8 {
            0 => 0.0,
            1 => 5e-324,
            2 => 1e-300,
            3 => 1e300,
            4 => b.raw_f64(),
            _ => (b.u8() % 16) as f64,
        })
        .collect();

    let Ok(sparse) = SparseRef::try_new(layout, nrows, ncols, &indptr, &indices, &values) else {
        return;
    };
    let a = MatrixRef::Sparse(sparse);
    let dense: Mat<f64> = a.to_dense().expect("a shape up to 40 × 512 fits in memory");
    let dense_view = MatrixRef::dense(dense.as_ref()).expect("validated values are finite");
    for kind in [
        Family::Kind(SketchKind::CountSketch),
        Family::Kind(SketchKind::SparseSign { nnz_per_col: s }),
        Family::Kind(SketchKind::Gaussian),
        Family::Kind(SketchKind::Srht),
        Family::WithReplacement,
        Family::Bernoulli,
    ] {
        let built = match kind {
            Family::Kind(k) => k.build::<f64>(m, nrows, seed),
            Family::WithReplacement => RowSampling::with_replacement(&weights, m, seed)
                .map(|r| Box::new(r) as Box<dyn SketchOperator<f64>>),
            Family::Bernoulli => RowSampling::bernoulli(&weights, m, seed)
                .map(|r| Box::new(r) as Box<dyn SketchOperator<f64>>),
        };
        let op = match (built, kind) {
            (Ok(op), _) => op,
            (Err(_), Family::Kind(k)) => {
                let srht_too_tall = k == SketchKind::Srht && m > nrows.next_power_of_two();
                assert!(
                    nrows == 0 || srht_too_tall,
                    "building an {m}×{nrows} {kind:?} failed"
                );
                continue;
            }
            // Refused weights (negative, non-finite, all zero, no rows): an error, not a panic.
            (Err(_), _) => continue,
        };
        // Every scale of a sampling sketch is finite and positive (f64).
        if let Ok(dense_s) = op.to_dense() {
            for i in 0..dense_s.nrows() {
                for j in 0..dense_s.ncols() {
                    let v = dense_s[(i, j)];
                    assert!(v.is_finite(), "{kind:?}: S[{i}, {j}] = {v}");
                }
            }
        }
        let m = op.nrows();
        let from_sparse = op.apply(a, Par::Seq);
        let from_dense = op.apply(dense_view, Par::Seq);
        // "S·A is bitwise identical for any thread count" (every family, the SRHT included).
        match (&from_sparse, op.apply(a, Par::rayon(2))) {
            (Ok(x), Ok(y)) => assert!(same_bits(x, &y), "{kind:?}: 1 vs 2 threads"),
            (Err(_), Err(_)) => {}
            (x, y) => panic!("{kind:?}: 1 and 2 threads disagree on validity: {x:?} vs {y:?}"),
        }
        match (from_sparse, from_dense) {
            (Ok(x), Ok(y)) => {
                let exact_merge = kind != Family::Kind(SketchKind::Srht);
                // Mergeable: two row blocks accumulated at their global offsets, in ascending
                // offset order, give S·A, "bitwise" for CountSketch, sparse sign and Gaussian,
                // "to rounding" for the SRHT (the README's ≈ 1e-13 relative; compared below with
                // the tolerance of the explicit product). Blocks dense, and CSR when A is.
                let mut blocks = vec![merged(&*op, dense_view_blocks(&dense, split))];
                if let Some(csr) = csr_blocks(sparse, split) {
                    blocks.push(merged(
                        &*op,
                        [
                            (0, MatrixRef::Sparse(csr.0.view(split))),
                            (split, MatrixRef::Sparse(csr.1.view(nrows - split))),
                        ],
                    ));
                }
                // Column j of S·A is S times column j: each output entry is a sum over the
                // rows of A's column alone, in ascending order (not the SRHT: its transform
                // runs over the whole padded column; compared to rounding).
                let cols: Vec<Option<Vec<f64>>> = (0..ncols.min(12))
                    .map(|j| {
                        let col: Vec<f64> = (0..nrows).map(|i| dense[(i, j)]).collect();
                        match op.apply_vec(&col) {
                            Ok(c) => Some(c),
                            Err(_) if !exact_merge => None,
                            Err(e) => panic!("{kind:?}: column {j} failed where A did not: {e:?}"),
                        }
                    })
                    .collect();
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
                        for (k, merged) in blocks.iter().enumerate() {
                            // Exact families add in the whole sketch's order, so their partial
                            // sums are the whole sketch's: finite when it is. The SRHT's blocks
                            // may overflow where the whole did not.
                            let z = match merged {
                                Ok(z) => z,
                                Err(_) if !exact_merge => continue,
                                Err(e) => panic!("{kind:?}: blocks failed where A did not: {e:?}"),
                            };
                            if exact_merge {
                                assert_eq!(
                                    x[(i, j)].to_bits(),
                                    z[(i, j)].to_bits(),
                                    "{kind:?}: merged ({k}, split {split}) {} vs whole {}",
                                    z[(i, j)],
                                    x[(i, j)]
                                );
                            } else if scale.is_finite() {
                                assert!(
                                    (x[(i, j)] - z[(i, j)]).abs() <= 1e-12 * scale,
                                    "{kind:?}: merged ({k}, split {split}) {} vs whole {}",
                                    z[(i, j)],
                                    x[(i, j)]
                                );
                            }
                        }
                        if let Some(Some(c)) = cols.get(j) {
                            if exact_merge {
                                assert_eq!(
                                    x[(i, j)].to_bits(),
                                    c[i].to_bits(),
                                    "{kind:?}: column {j} alone {} vs {}",
                                    c[i],
                                    x[(i, j)]
                                );
                            } else if scale.is_finite() {
                                assert!((x[(i, j)] - c[i]).abs() <= 1e-12 * scale);
                            }
                        }
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

/// The sketch families the target runs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Family {
    Kind(SketchKind),
    WithReplacement,
    Bernoulli,
}

fn same_bits(x: &Mat<f64>, y: &Mat<f64>) -> bool {
    (x.nrows(), x.ncols()) == (y.nrows(), y.ncols())
        && (0..x.ncols())
            .all(|j| (0..x.nrows()).all(|i| x[(i, j)].to_bits() == y[(i, j)].to_bits()))
}

/// The dense row blocks `0..split` and `split..` with their offsets.
fn dense_view_blocks(dense: &Mat<f64>, split: usize) -> [(usize, MatrixRef<'_, f64>); 2] {
    let n = dense.nrows();
    let top = MatrixRef::dense(dense.as_ref().subrows(0, split)).expect("finite");
    let bottom = MatrixRef::dense(dense.as_ref().subrows(split, n - split)).expect("finite");
    [(0, top), (split, bottom)]
}

/// Owned CSR arrays of a row block.
struct Csr {
    indptr: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f64>,
    ncols: usize,
}

impl Csr {
    fn view(&self, nrows: usize) -> SparseRef<'_, f64> {
        SparseRef::try_csr(nrows, self.ncols, &self.indptr, &self.indices, &self.values)
            .expect("a row block of a valid CSR matrix is valid")
    }
}

/// For a CSR `A`: its rows `0..split` and `split..` as CSR matrices of their own (row pointers
/// rebased to 0, entries as stored, explicit zeros included).
fn csr_blocks(a: SparseRef<'_, f64>, split: usize) -> Option<(Csr, Csr)> {
    if a.layout() != Layout::Csr {
        return None;
    }
    let block = |rows: std::ops::Range<usize>| {
        let mut c = Csr {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            ncols: a.ncols(),
        };
        for r in rows {
            let (idx, val) = a.outer(r);
            c.indices.extend_from_slice(idx);
            c.values.extend_from_slice(val);
            c.indptr.push(c.indices.len());
        }
        c
    };
    Some((block(0..split), block(split..a.nrows())))
}

/// `S·A` accumulated block by block, in ascending offset order, into one zero output.
fn merged(
    op: &dyn SketchOperator<f64>,
    blocks: [(usize, MatrixRef<'_, f64>); 2],
) -> randnla::Result<Mat<f64>> {
    let mut out = Mat::<f64>::zeros(op.nrows(), blocks[0].1.ncols());
    for (offset, block) in blocks {
        op.apply_block_into(offset, block, out.as_mut(), Par::Seq)?;
    }
    Ok(out)
}
