//! Property tests for the sketch core, with bounded finite strategies (sizes ≤ 60 × 8, values in
//! [-100, 100]).

use crate::common;

use common::{assert_bitwise, rel_diff};
use faer::{Mat, Par};
use proptest::prelude::*;
use randnla::sketch::{SketchExt, SketchKind, SketchOperator};
use randnla::{MatrixRef, Seed};

/// A random CSR matrix: `n × d` with `n ∈ 1..=60`, `d ∈ 1..=8`, each entry present with
/// probability ≈ 0.3 and valued in [-100, 100].
fn sparse_matrix() -> impl Strategy<Value = sprs::CsMat<f64>> {
    (1usize..=60, 1usize..=8).prop_flat_map(|(n, d)| {
        proptest::collection::vec(
            prop_oneof![7 => Just(None), 3 => (-100.0f64..100.0).prop_map(Some)],
            n * d,
        )
        .prop_map(move |cells| {
            let mut tri = sprs::TriMat::new((n, d));
            for (k, v) in cells.into_iter().enumerate() {
                if let Some(v) = v {
                    tri.add_triplet(k / d, k % d, v);
                }
            }
            tri.to_csr()
        })
    })
}

/// A sketch family with `m ∈ 1..=12` rows.
fn sketch_kind() -> impl Strategy<Value = (SketchKind, usize)> {
    (1usize..=12).prop_flat_map(|m| {
        prop_oneof![
            Just(SketchKind::CountSketch),
            (1..=m).prop_map(|s| SketchKind::SparseSign { nnz_per_col: s }),
            Just(SketchKind::Gaussian),
            Just(SketchKind::Srht),
        ]
        .prop_map(move |k| (k, m))
    })
}

fn build(kind: SketchKind, m: usize, n: usize, seed: u64) -> Option<Box<dyn SketchOperator<f64>>> {
    // The SRHT cannot have more rows than the padded dimension: skip exactly those draws (and
    // check that they are refused). Every other draw must build.
    let built = kind.build::<f64>(m, n, Seed::new(seed));
    if kind == SketchKind::Srht && m > n.next_power_of_two() {
        assert!(built.is_err(), "SRHT with m = {m} > n' accepted");
        return None;
    }
    Some(built.unwrap_or_else(|e| panic!("{kind:?} m = {m}, n = {n}: {e}")))
}

proptest! {
    #![proptest_config(common::proptest_config(200))]

    /// CSR, CSC and dense inputs give the same bits, for every family (the SRHT included: it
    /// transforms each column the same way whatever the storage); all match the explicit `S·A`
    /// to rounding.
    #[test]
    fn layouts_agree(a in sparse_matrix(), (kind, m) in sketch_kind(), seed in 0u64..1000) {
        let Some(op) = build(kind, m, a.rows(), seed) else { return Ok(()); };
        let csc = a.to_csc();
        let dense = MatrixRef::sparse(&a).unwrap().to_dense().unwrap();
        let x = op.apply(MatrixRef::sparse(&a).unwrap(), Par::Seq).unwrap();
        let y = op.apply(MatrixRef::sparse(&csc).unwrap(), Par::Seq).unwrap();
        let z = op.apply(MatrixRef::dense(dense.as_ref()).unwrap(), Par::Seq).unwrap();
        assert_bitwise(&y, &x, "csc vs csr");
        assert_bitwise(&z, &x, "dense vs csr");
        let explicit = op.to_dense().unwrap() * &dense;
        if explicit.norm_max() > 0.0 {
            prop_assert!(rel_diff(&x, &explicit) < 1e-12);
        }
    }

    /// Splitting the rows at any point and accumulating the blocks gives the whole sketch: the
    /// same bits, except for the SRHT, whose transform of the sum of the blocks is rounded
    /// differently from the sum of their transforms (equal in exact arithmetic).
    #[test]
    fn blocks_merge(a in sparse_matrix(), (kind, m) in sketch_kind(), cut in 0.0f64..1.0, seed in 0u64..1000) {
        let Some(op) = build(kind, m, a.rows(), seed) else { return Ok(()); };
        let n = a.rows();
        let c = ((n as f64) * cut) as usize;
        let view = MatrixRef::sparse(&a).unwrap();
        let whole = op.apply(view, Par::Seq).unwrap();
        let mut merged = Mat::<f64>::zeros(m, a.cols());
        op.apply_block_into(0, view.row_block(0, c).unwrap(), merged.as_mut(), Par::Seq).unwrap();
        op.apply_block_into(c, view.row_block(c, n).unwrap(), merged.as_mut(), Par::Seq).unwrap();
        if kind == SketchKind::Srht {
            prop_assert!(rel_diff(&merged, &whole) < 1e-13 || whole.norm_max() == 0.0);
        } else {
            assert_bitwise(&merged, &whole, "blocks vs whole");
        }
    }

    /// Sketching is linear: S(A + B) = SA + SB to rounding.
    #[test]
    fn linear(a in sparse_matrix(), (kind, m) in sketch_kind(), seed in 0u64..1000) {
        let Some(op) = build(kind, m, a.rows(), seed) else { return Ok(()); };
        let da = MatrixRef::sparse(&a).unwrap().to_dense().unwrap();
        let db = Mat::<f64>::from_fn(da.nrows(), da.ncols(), |i, j| ((i * 7 + j * 3) % 5) as f64 - 2.0);
        let sum = &da + &db;
        let lhs = op.apply(MatrixRef::dense(sum.as_ref()).unwrap(), Par::Seq).unwrap();
        let rhs = op.apply(MatrixRef::dense(da.as_ref()).unwrap(), Par::Seq).unwrap()
            + op.apply(MatrixRef::dense(db.as_ref()).unwrap(), Par::Seq).unwrap();
        if rhs.norm_max() > 0.0 {
            prop_assert!(rel_diff(&lhs, &rhs) < 1e-12);
        }
    }

    /// An SRHT that keeps every row of the padded transform is orthogonal: ‖Sx‖ = ‖x‖.
    #[test]
    fn full_srht_is_an_isometry(x in proptest::collection::vec(-100.0f64..100.0, 1..=70), seed in 0u64..1000) {
        let n = x.len();
        let op = SketchKind::Srht.build::<f64>(n.next_power_of_two(), n, Seed::new(seed)).unwrap();
        let sx = op.apply_vec(&x).unwrap();
        let nx: f64 = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        let ns: f64 = sx.iter().map(|v| v * v).sum::<f64>().sqrt();
        prop_assert!((nx - ns).abs() <= 1e-12 * nx.max(1e-300));
    }
}
