//! Random sketching operators.
//!
//! A sketch is a random linear map `S: ℝⁿ → ℝᵐ` (`m ≪ n`) that approximately preserves the
//! geometry of a subspace. Each family here is a *distribution* (shape, sparsity) plus a [`Seed`];
//! together they define an operator that is cheap to create and stores only what it must.
//!
//! | family | entries of `S` | cost of `S·A` | use it for |
//! |---|---|---|---|
//! | [`SparseSign`] (OSNAP) | `s` nonzeros `±1/√s` per column | `O(s·nnz(A) + m·d)` | preconditioners (`m ≥ 2d`, `s = 8`; [`crate::lstsq`] takes `4d–16d` from a cost model), sketch-and-solve on sparse data |
//! | [`CountSketch`] | one `±1` per column | `O(nnz(A) + m·d)` | the cheapest sketch; needs `m = O(d²)` and fails on coherent `A` |
//! | [`Gaussian`] | iid `N(0, 1/m)` | `O(m·nnz(A))` | small dense problems; the accuracy reference |
//! | [`Srht`] | `(1/√m)·R·H·D`: random signs `D`, the `±1` Walsh–Hadamard `H` of size `n' = 2^⌈log₂ n⌉`, `m` of its rows `R` | `O(n'·d·log n')` | dense `A` where `m·n·d` is too much |
//!
//! Every operator implements the object-safe [`SketchOperator`] trait (apply to a row block at a
//! global offset, accumulating into an output) and gets the conveniences of [`SketchExt`] (apply to
//! a whole matrix, from the right, to a vector).
//!
//! # Reproducibility
//! Column `j` of every sketch is a pure function of `(seed, j)` (for the [`Srht`], of
//! `(seed, j)` and the padded size `n' = 2^⌈log₂ n⌉`, from which its `m` rows of the Hadamard
//! matrix are drawn: `n = 1000` and `1024` give the same columns, `n = 1025` others; for
//! [`RowSampling`](sampling::RowSampling), of the seed and all the weights: its draws are made
//! once, at construction). Sparse sign, CountSketch, Gaussian and row-sampling sketches accumulate
//! each output entry over the input rows in ascending order, so `S·A` is bitwise identical for any
//! thread count, for CSR, CSC and dense storage of `A`, and for `A` whole or split into row blocks
//! accumulated with their global offsets into one output in ascending offset order (blocks applied
//! in another order, or sketched separately and summed afterwards, agree to rounding: the additions
//! are grouped differently). The SRHT is bitwise identical across thread counts and storage
//! layouts; its row-block merge is exact in exact arithmetic and agrees with the whole-matrix
//! result to rounding (the Hadamard transform of a sum is not computed in the same order as the sum
//! of transforms).
//!
//! One exception to "bitwise" across layouts, and only for an output that holds `−0` before a
//! call to [`SketchOperator::apply_block_into`]: a zero stored explicitly in a CSR or CSC `A` is
//! added (a `±0`, which turns `−0` into `+0`), while the zeros of a dense `A` are skipped. The
//! values are equal; only the sign of such a zero differs. For the SRHT it runs the other way
//! round: its transform adds to every output row whatever the column holds, so a dense (or
//! unstored) zero adds `+0` and turns `−0` into `+0`, while an explicitly stored `+0` on a row
//! whose sign in `D` is negative enters the transform as `−0` and can leave `−0` in an output
//! entry. Outputs that start as zeros (as in [`SketchExt::apply`]) or as the partial sketch of
//! earlier blocks hold no `−0`.
//!
//! # Range
//! A sketch that the scalar type cannot hold (`S·A` for entries of `A` near `f64::MAX`, say) is
//! an [`Error::NonFinite`] from every way of applying it — `S·A`, `A·Sᵀ`, `S·x` and row blocks
//! accumulated into an output — never an `Ok` holding ±∞ or NaN. A sketch is linear, so the
//! remedy is to scale `A` down by a power of two (see [`SketchOperator::apply_block_into`]).

use crate::error::{Error, Result};
use crate::input::MatrixRef;
use crate::scalar::Scalar;
use crate::seed::Seed;
use faer::{Mat, MatMut, Par};

mod count;
mod gaussian;
mod kernels;
mod prefetch;
pub(crate) use kernels::transpose_compressed;
pub mod sampling;
mod sparse_sign;
mod srht;
pub mod tensor;

pub use count::CountSketch;
pub use gaussian::Gaussian;
pub use sparse_sign::SparseSign;
pub use srht::Srht;

/// Inherent `nrows`, `ncols`, `seed` and `name` for the sketch types: every sketch implements
/// [`SketchOperator`] for both `f32` and `f64`, so `s.nrows()` through the trait alone would need
/// the scalar named (`SketchOperator::<f64>::nrows(&s)`). These answer without it.
macro_rules! sketch_shape_methods {
    ($($ty:ty),*) => {$(
        impl $ty {
            /// `m`, the sketch dimension (rows of `S`); as [`SketchOperator::nrows`].
            pub fn nrows(&self) -> usize {
                SketchOperator::<f64>::nrows(self)
            }
            /// `n`, the input dimension (columns of `S`); as [`SketchOperator::ncols`].
            pub fn ncols(&self) -> usize {
                SketchOperator::<f64>::ncols(self)
            }
            /// The seed the operator was drawn from; as [`SketchOperator::seed`].
            pub fn seed(&self) -> Seed {
                SketchOperator::<f64>::seed(self)
            }
            /// The family's name; as [`SketchOperator::name`].
            pub fn name(&self) -> &'static str {
                SketchOperator::<f64>::name(self)
            }
        }
    )*};
}
sketch_shape_methods!(
    CountSketch,
    SparseSign,
    Gaussian,
    Srht,
    sampling::RowSampling
);

/// A random linear map `S` (`m × n`) that can be applied to dense and sparse matrices.
///
/// The trait is object-safe: solvers hold a `Box<dyn SketchOperator<f64>>` chosen at run time
/// through [`SketchKind::build`].
pub trait SketchOperator<T: Scalar>: Send + Sync {
    /// `m`, the sketch dimension (rows of `S`).
    fn nrows(&self) -> usize;
    /// `n`, the input dimension (columns of `S`, rows of the `A` it applies to).
    fn ncols(&self) -> usize;
    /// The seed the operator was drawn from.
    fn seed(&self) -> Seed;
    /// The family's name: `"count"` ([`CountSketch`], and a [`SparseSign`] with `s = 1`, which
    /// is the same operator), `"sparse-sign"`, `"gaussian"`, `"srht"`, and for the row-sampling
    /// sketch [`sampling::RowSampling`] `"row-sampling"` (drawn with replacement) or
    /// `"bernoulli-sampling"`. Only the first four parse as a [`SketchKind`].
    fn name(&self) -> &'static str;

    /// `out += S[:, row_offset .. row_offset + k] · block` for a `k × d` row block of a larger
    /// `A` whose first row is row `row_offset` of `A`.
    ///
    /// Summing the calls for the blocks of a partition of `A`'s rows gives `S·A` (mergeable
    /// sketches); see the module docs for when the result is bitwise identical to one call.
    /// A block with no rows (or no columns) is a no-op once the shapes are checked: `Ok`,
    /// without reading `out` (a NaN or ±∞ already there is not reported). Each other call reads
    /// the whole `m × d` output once more to check it (below), so when streaming, blocks of
    /// fewer stored entries than `out` has entries pay mostly for that pass: prefer blocks of
    /// at least `m·d` stored entries.
    ///
    /// Every operator of the crate leaves `out` finite or returns an error: finite sums that
    /// exceed the largest `T` are [`Error::NonFinite`], never an `Ok` with ±∞ or NaN in `out`.
    /// How close to the largest `T` the entries of `A` must be for that depends on their signs:
    /// within a factor of about `√(n/m)` for data whose signs are unrelated to the sketch's,
    /// and up to the largest sum of `|S|` along a row for data whose signs follow the sketch's
    /// (legal data may): about `n/m` for CountSketch, `n·√s/m` for sparse sign, `0.8·n/√m` for
    /// the Gaussian, `n'` for the SRHT, whose unnormalized Hadamard sums come before the `1/√m`
    /// (CountSketch with `m = 4`, `n = 65536` overflows on entries 8192× below `f64::MAX`). An
    /// implementation outside the crate should keep the same rule, since [`SketchExt`] relies on
    /// it.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `out` is not `m × d` or the block does not fit in
    /// `0..n` at `row_offset` (checked before anything is written: `out` is unchanged);
    /// [`Error::TooLarge`] when the `m × d` work copy of `out` that
    /// the kernels of [`CountSketch`], [`SparseSign`], [`Gaussian`] and [`Srht`] accumulate
    /// into (CountSketch skips it for CSR or row-major blocks small next to an output of at
    /// most 4 MiB), a CSR block's CSC copy (for the kernels that walk columns), the Gaussian
    /// sketch's block of `S` (see [`Gaussian`]) or the SRHT's length-`n'` column buffer cannot
    /// be allocated (`out` is then unchanged); [`Error::NonFinite`] when, after a non-empty
    /// block is added, `out` holds a NaN or ±∞ (the first in column-major order, among the rows
    /// the call wrote for the row-sampling sketch): the sketch overflowed `T`, and the message
    /// says to scale `A` down by a power of two (a sketch is linear, so `S·(2⁻ᵏA) = 2⁻ᵏ·S·A`,
    /// exactly while nothing underflows). On that error the block *has* been added: `out` holds
    /// the overflowed entries and is no longer a usable partial sketch, so start the
    /// accumulation over with every block scaled by the same power of two. A NaN or ±∞ that
    /// `out` already held, or that a dense block built as `MatrixRef::Dense(view)` without
    /// validation brought in, is reported the same way (the message names a non-finite `out`
    /// before the call as the other possible cause; [`SketchExt::apply`], which starts from
    /// zeros, names only the overflow).
    fn apply_block_into(
        &self,
        row_offset: usize,
        block: MatrixRef<'_, T>,
        out: MatMut<'_, T>,
        par: Par,
    ) -> Result<()>;

    /// The sketch as an explicit dense `m × n` matrix (for tests and small problems).
    ///
    /// # Errors
    /// [`Error::TooLarge`] when `m·n` exceeds `2^28` entries, or when the allocator refuses the
    /// `m × n` matrix (no implementation needs other memory of that size).
    fn to_dense(&self) -> Result<Mat<T>>;
}

/// Conveniences available on every [`SketchOperator`] (including `dyn SketchOperator`).
pub trait SketchExt<T: Scalar>: SketchOperator<T> {
    /// `S·A` for an `n × d` matrix `A`; the result is dense `m × d`.
    ///
    /// The result is always finite: where the sums exceed the largest `T` (entries of `A` within
    /// a factor of about `√(n/m)` of it for typical data, up to `n/m`–`n'` for data whose signs
    /// follow the sketch's; see [`SketchOperator::apply_block_into`]) it is an error, not ±∞ or
    /// NaN.
    ///
    /// # Errors
    /// [`Error::Empty`] for an `A` without rows or columns, [`Error::DimensionMismatch`] when
    /// `A` does not have `n` rows, [`Error::TooLarge`] when the `m × d` output cannot be
    /// allocated (a sparse `A` may declare far more columns than it stores), or one of the
    /// buffers [`apply_block_into`](SketchOperator::apply_block_into) names (its work copy of
    /// the output, say: an output that fits once need not fit twice),
    /// [`Error::NonFinite`] when `S·A` overflowed `T` (naming its first non-finite entry in
    /// column-major order; scale `A` down by a power of two, see
    /// [`apply_block_into`](SketchOperator::apply_block_into)).
    fn apply(&self, a: MatrixRef<'_, T>, par: Par) -> Result<Mat<T>> {
        a.require_nonempty("A")?;
        if a.nrows() != self.ncols() {
            return Err(Error::dim(
                "rows of A vs columns of the sketch",
                self.ncols(),
                a.nrows(),
            ));
        }
        let mut out = zeros_checked::<T>(self.nrows(), a.ncols())?;
        match self.apply_block_into(0, a, out.as_mut(), par) {
            Ok(()) => Ok(out),
            // `out` started as zeros, so a NaN or ±∞ in it is the sketch's overflow alone.
            Err(Error::NonFinite { row, col, .. }) => {
                Err(overflow_error::<T>("S·A", "A", row, col))
            }
            Err(e) => Err(e),
        }
    }

    /// `A·Sᵀ` for a `k × n` matrix `A` (right sketching: compresses the columns); the result is
    /// dense `k × m`. Computed as `(S·Aᵀ)ᵀ`, which is free to set up for every storage layout.
    ///
    /// # Errors
    /// As [`apply`](Self::apply), with `A`'s columns in place of its rows; the
    /// [`Error::NonFinite`] of an overflow names its entry of `A·Sᵀ` (the first in row-major
    /// order).
    fn apply_right(&self, a: MatrixRef<'_, T>, par: Par) -> Result<Mat<T>> {
        a.require_nonempty("A")?;
        if a.ncols() != self.ncols() {
            return Err(Error::dim(
                "columns of A vs columns of the sketch",
                self.ncols(),
                a.ncols(),
            ));
        }
        match self.apply(a.transpose(), par) {
            Ok(t) => Ok(t.transpose().to_owned()),
            // Entry (i, j) of S·Aᵀ is entry (j, i) of A·Sᵀ.
            Err(Error::NonFinite { row, col, .. }) => {
                Err(overflow_error::<T>("A·Sᵀ", "A", col, row))
            }
            Err(e) => Err(e),
        }
    }

    /// `S·x` for a vector of length `n`; always finite, as for [`apply`](Self::apply).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for a wrong length, [`Error::NonFinite`] for NaN or ±∞ in
    /// `x` (`row` is its index) or for an `S·x` that overflowed `T` (`row` is the entry of
    /// `S·x`; the message says so, and to scale `x` down by a power of two).
    fn apply_vec(&self, x: &[T]) -> Result<Vec<T>> {
        crate::input::check_finite_slice(x, "x")?;
        if x.len() != self.ncols() {
            return Err(Error::dim(
                "length of x vs columns of the sketch",
                self.ncols(),
                x.len(),
            ));
        }
        let view = faer::MatRef::from_column_major_slice(x, x.len(), 1);
        match self.apply(MatrixRef::Dense(view), Par::Seq) {
            Ok(out) => Ok((0..out.nrows()).map(|i| out[(i, 0)]).collect()),
            Err(Error::NonFinite { row, col, .. }) => {
                Err(overflow_error::<T>("S·x", "x", row, col))
            }
            Err(e) => Err(e),
        }
    }
}

impl<T: Scalar, S: SketchOperator<T> + ?Sized> SketchExt<T> for S {}

/// The sketch families, as a value: pick one at run time and [`build`](SketchKind::build) it.
///
/// # Examples
///
/// ```
/// use randnla::sketch::{SketchKind, SketchExt};
/// use randnla::{MatrixRef, Seed};
/// let a = randnla::faer::Mat::<f64>::from_fn(1000, 5, |i, j| ((i * 7 + j) % 11) as f64);
/// let kind: SketchKind = "sparse-sign".parse().unwrap();
/// let s = kind.build::<f64>(40, 1000, Seed::new(1)).unwrap();
/// let sa = s.apply(MatrixRef::dense(a.as_ref()).unwrap(), randnla::faer::Par::Seq).unwrap();
/// assert_eq!((sa.nrows(), sa.ncols()), (40, 5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SketchKind {
    /// [`CountSketch`]: one `±1` per column.
    CountSketch,
    /// [`SparseSign`] with `nnz_per_col` nonzeros per column.
    SparseSign {
        /// Nonzeros per column (`s`); 8 is a robust default.
        nnz_per_col: usize,
    },
    /// [`Gaussian`]: dense iid `N(0, 1/m)`.
    Gaussian,
    /// [`Srht`]: subsampled randomized Hadamard transform.
    Srht,
}

impl SketchKind {
    /// Draws the `m × n` operator of this family from `seed`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] named `m` for `m = 0` or an `m` too large for the family, `n`
    /// for `n = 0` (or too large for the SRHT), `nnz_per_col` for an invalid `nnz_per_col`;
    /// a caller that derives `m` from a parameter of its own should name that one instead.
    /// [`Error::TooLarge`] when the SRHT's row selection cannot be
    /// allocated (see [`Srht::new`]).
    pub fn build<T: Scalar>(
        self,
        m: usize,
        n: usize,
        seed: Seed,
    ) -> Result<Box<dyn SketchOperator<T>>> {
        Ok(match self {
            SketchKind::CountSketch => Box::new(CountSketch::new(m, n, seed)?),
            SketchKind::SparseSign { nnz_per_col } => {
                Box::new(SparseSign::new(m, n, nnz_per_col, seed)?)
            }
            SketchKind::Gaussian => Box::new(Gaussian::new(m, n, seed)?),
            SketchKind::Srht => Box::new(Srht::new(m, n, seed)?),
        })
    }

    /// The family's name as accepted by `parse`.
    pub fn name(self) -> &'static str {
        match self {
            SketchKind::CountSketch => "count",
            SketchKind::SparseSign { .. } => "sparse-sign",
            SketchKind::Gaussian => "gaussian",
            SketchKind::Srht => "srht",
        }
    }
}

impl std::str::FromStr for SketchKind {
    type Err = Error;
    /// Parses `count` (also `countsketch`, `count-sketch`), `sparse-sign` (also `osnap`; with the
    /// default `s = 8`, which [`build`](SketchKind::build) refuses for `m < 8`: set
    /// `nnz_per_col` then), `gaussian` or `srht`, in any case and with `_` for `-`.
    fn from_str(s: &str) -> Result<Self> {
        match crate::names::option_key(s).as_str() {
            "count" | "countsketch" | "count-sketch" => Ok(SketchKind::CountSketch),
            "sparse-sign" | "osnap" => Ok(SketchKind::SparseSign {
                nnz_per_col: SparseSign::DEFAULT_NNZ_PER_COL,
            }),
            "gaussian" => Ok(SketchKind::Gaussian),
            "srht" => Ok(SketchKind::Srht),
            _ => Err(crate::names::unknown_option(
                "sketch",
                s,
                &["count", "sparse-sign", "gaussian", "srht"],
            )),
        }
    }
}

/// The rows of a CSC matrix as compressed arrays (`indptr`, column `indices`, `data`).
///
/// # Errors
/// [`Error::TooLarge`] when its `nrows + 1` row pointers, or its `nnz` indices and values,
/// cannot be allocated.
pub(crate) fn csr_rows_of_csc<T: Scalar>(
    a: &crate::input::SparseRef<'_, T>,
    par: Par,
) -> Result<kernels::OwnedCsc<T>> {
    kernels::csr_to_csc(&a.transpose(), par)
}

/// Checks the shapes of an `apply_block_into` call.
pub(crate) fn check_block<T: Scalar>(
    m: usize,
    n: usize,
    row_offset: usize,
    block: &MatrixRef<'_, T>,
    out: &MatMut<'_, T>,
) -> Result<()> {
    if out.nrows() != m {
        return Err(Error::dim(
            "rows of out vs rows of the sketch",
            m,
            out.nrows(),
        ));
    }
    if out.ncols() != block.ncols() {
        return Err(Error::dim(
            "columns of out vs columns of the block",
            block.ncols(),
            out.ncols(),
        ));
    }
    match row_offset.checked_add(block.nrows()) {
        Some(end) if end <= n => Ok(()),
        _ => Err(Error::dim(
            format!(
                "end of the row block (offset {row_offset} + {} rows) vs columns of the sketch",
                block.nrows()
            ),
            n,
            row_offset.saturating_add(block.nrows()),
        )),
    }
}

/// The [`Error::NonFinite`] of a sketch `product` (`"S·A"`, `"A·Sᵀ"`, `"S·x"`) that holds a NaN
/// or ±∞ at `(row, col)`: its sums overflowed `T`, and scaling the `input` down by a power of two
/// is the remedy (a sketch is linear, so it scales by the same power, exactly while nothing
/// underflows).
pub(crate) fn overflow_error<T: Scalar>(
    product: &str,
    input: &str,
    row: usize,
    col: usize,
) -> Error {
    Error::NonFinite {
        what: format!(
            "the sketch {product}, which overflowed {} (sketching is linear: scale {input} down by \
             a power of two and the sketch scales by the same power),",
            T::NAME
        ),
        row,
        col,
    }
}

/// The check every [`SketchOperator::apply_block_into`] of the crate ends with:
/// [`Error::NonFinite`] for the first NaN or ±∞ of `out` in column-major order, naming both
/// causes (an overflow, or a non-finite `out` before the call). One pass over the
/// `m × d` output (contiguous columns are read as slices, a chunk at a time), which every kernel
/// already makes at least once.
pub(crate) fn check_output_finite<T: Scalar>(out: faer::MatRef<'_, T>) -> Result<()> {
    for c in 0..out.ncols() {
        let bad = match out.col(c).try_as_col_major() {
            Some(col) => {
                let col = col.as_slice();
                // Branch-free `all` over chunks; the position only once one fails.
                col.chunks(64)
                    .enumerate()
                    .find(|(_, chunk)| !chunk.iter().fold(true, |ok, v| ok & v.finite()))
                    .and_then(|(k, chunk)| {
                        chunk.iter().position(|v| !v.finite()).map(|p| 64 * k + p)
                    })
            }
            None => (0..out.nrows()).find(|&r| !out[(r, c)].finite()),
        };
        if let Some(row) = bad {
            // The output is the caller's: its entry may have been NaN or ±∞ before the call, and
            // then scaling A down cannot help. `SketchExt::apply`, which starts from zeros,
            // replaces this with the plain overflow message.
            return Err(Error::NonFinite {
                what: format!(
                    "the sketch S·A accumulated into `out`, which either overflowed {} \
                     (sketching is linear: scale A down by a power of two and the sketch scales \
                     by the same power) or held a NaN or ±∞ in `out` before the call (start \
                     from a finite output, e.g. zeros),",
                    T::NAME
                ),
                row,
                col: c,
            });
        }
    }
    Ok(())
}

/// An `m × d` zero matrix, or [`Error::TooLarge`] when it cannot be allocated (a sparse input may
/// declare far more columns than it stores, so `d` is not bounded by the input's memory).
pub(crate) fn zeros_checked<T: Scalar>(m: usize, d: usize) -> Result<Mat<T>> {
    crate::input::zeros_or_too_large(m, d, "sketch output")
}

/// Checks that a dense `m × n` materialization stays within `2^28` entries.
pub(crate) fn check_dense_size(m: usize, n: usize) -> Result<()> {
    const LIMIT: u128 = 1 << 28;
    let req = m as u128 * n as u128;
    Error::within(req, LIMIT, || format!("a dense {m}×{n} sketch"))?;
    Ok(())
}

/// The zero `m × n` matrix a [`SketchOperator::to_dense`] fills: [`Error::TooLarge`] beyond
/// `2^28` entries ([`check_dense_size`]), or when the allocator refuses it (2 GiB of `f64` at
/// that limit, which `Mat::zeros` would abort on rather than report).
pub(crate) fn dense_zeros<T: Scalar>(m: usize, n: usize) -> Result<Mat<T>> {
    check_dense_size(m, n)?;
    crate::input::zeros_or_too_large(m, n, "dense sketch")
}

/// Checks the common constructor parameters.
///
/// Constructor errors name the constructor's own parameters (`m`, `n`) and say what they are
/// (the sketch dimension, the input dimension), so that a caller which derived `m` from a
/// parameter of its own (a solver's `sketch_rows`, say) is not told about a parameter that no
/// signature has; such callers may re-label the error with their parameter's name.
pub(crate) fn check_dims(m: usize, n: usize) -> Result<()> {
    if m == 0 {
        return Err(Error::param(
            "m",
            "the sketch dimension m (rows of S) is 0; the sketch needs at least one row (m ≥ 1)",
        ));
    }
    if n == 0 {
        return Err(Error::param(
            "n",
            "the input dimension n (columns of S, rows of the A it applies to) is 0; the sketch \
             needs at least one column (n ≥ 1)",
        ));
    }
    Ok(())
}
