//! CountSketch: the sparse sign embedding with one nonzero per column.

use super::{SketchOperator, SparseSign};
use crate::error::Result;
use crate::input::MatrixRef;
use crate::scalar::Scalar;
use crate::seed::Seed;
use faer::{Mat, MatMut, Par};

/// CountSketch (Charikar–Chen–Farach-Colton 2002; Clarkson–Woodruff 2013): column `j` of the
/// `m × n` matrix `S` has a single `±1` at row `h(j)`, with `h` uniform and the sign fair and
/// independent.
///
/// It is a [`SparseSign`] with `s = 1` and draws exactly the same hash as
/// `SparseSign::new(m, n, 1, seed)`. `E‖Sx‖² = ‖x‖²`, and `S·A` costs `O(nnz(A) + m·d)`, the
/// cheapest of all sketches — but it is a subspace embedding only for `m = O(d²/(ε²δ))`, and on
/// *coherent* matrices (a few rows carry most of a direction, e.g. `[I_d; 1e-3·G]`) it needs
/// that many: at `m = 2d` its distortion is ≈ 24 where [`SparseSign`] with `s = 8` gives ≈ 5
/// (medians over 20 seeds on `[I_50; 1e-3·G]`, n = 20 000: 24.3 for CountSketch, measured with
/// the tests in `tests/sketch_core.rs`, which assert CountSketch's median stays above 15 and
/// sparse sign's lies in [4.5, 6.5]). Prefer `SparseSign` to build preconditioners;
/// use CountSketch for sketch-and-solve with large `m`, for streaming frequency-style sketches,
/// and as the building block of TensorSketch.
///
/// # Performance
/// `O(nnz(A) + m·d)` time, `O(m·d)` extra memory, nothing stored.
///
/// # Errors
/// As for [`SparseSign`]: applying it returns [`crate::Error::NonFinite`], never ±∞ or NaN,
/// when `S·A` overflows the scalar type; scale `A` down by a power of two.
///
/// # References
/// K. L. Clarkson, D. P. Woodruff, "Low rank approximation and regression in input sparsity time",
/// STOC 2013, arXiv 1207.6365.
///
/// # Examples
///
/// ```
/// use randnla::sketch::{CountSketch, SketchExt};
/// use randnla::{MatrixRef, Seed};
/// // A 10 000 × 3 sparse A (one entry per row) sketched to 50 rows in O(nnz) time.
/// let mut tri = randnla::sprs::TriMat::new((10_000, 3));
/// for i in 0..10_000 {
///     tri.add_triplet(i, i % 3, 1.0);
/// }
/// let a: randnla::sprs::CsMat<f64> = tri.to_csr();
/// let s = CountSketch::new(50, 10_000, Seed::new(1))?;
/// let sa = s.apply(MatrixRef::sparse(&a)?, randnla::faer::Par::Seq)?;
/// assert_eq!((sa.nrows(), sa.ncols()), (50, 3));
/// // Each column of A lands in S·A with its signs: the column sums of |S·A| never exceed the
/// // 3334 (or 3333) ones of that column, and ‖S·a_j‖² estimates ‖a_j‖² without bias.
/// let col0: f64 = (0..50).map(|i| sa[(i, 0)].abs()).sum();
/// assert!(col0 <= 3334.0);
/// # Ok::<(), randnla::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountSketch(SparseSign);

impl CountSketch {
    /// The `m × n` CountSketch drawn from `seed`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] named `m` for `m = 0` or `m ≥ 2³¹`, `n` for `n = 0`.
    pub fn new(m: usize, n: usize, seed: Seed) -> Result<Self> {
        SparseSign::new(m, n, 1, seed).map(CountSketch)
    }

    /// The bucket `h(j)` and sign `σ(j) ∈ {−1, +1}` of input index `j`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] when `j ≥ n`.
    pub fn bucket(&self, j: usize) -> Result<(usize, f64)> {
        Ok(self.0.column(j)?[0])
    }

    /// The same operator seen as a sparse sign sketch with `s = 1`.
    pub fn as_sparse_sign(&self) -> &SparseSign {
        &self.0
    }
}

impl<T: Scalar> SketchOperator<T> for CountSketch {
    fn nrows(&self) -> usize {
        SketchOperator::<T>::nrows(&self.0)
    }
    fn ncols(&self) -> usize {
        SketchOperator::<T>::ncols(&self.0)
    }
    fn seed(&self) -> Seed {
        SketchOperator::<T>::seed(&self.0)
    }
    fn name(&self) -> &'static str {
        "count"
    }
    fn apply_block_into(
        &self,
        row_offset: usize,
        block: MatrixRef<'_, T>,
        out: MatMut<'_, T>,
        par: Par,
    ) -> Result<()> {
        self.0.apply_block_into(row_offset, block, out, par)
    }
    fn to_dense(&self) -> Result<Mat<T>> {
        self.0.to_dense()
    }
}
