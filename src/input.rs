//! Validated views over the matrices the crate consumes.
//!
//! A [`MatrixRef`] is either a dense `faer` [`MatRef`] or a compressed sparse [`SparseRef`]
//! (CSR or CSC). A [`SparseRef`] can only be built through constructors that check the data —
//! shapes, compressed structure, finiteness — and [`MatrixRef::dense`] checks a dense matrix's
//! finiteness, so a `MatrixRef` built by them is a proof that the data is sound, and the solvers
//! that receive one never re-check it. The one way around the check is writing the variant
//! `MatrixRef::Dense(view)` directly (to skip a pass over data known to be finite): its
//! non-finite entries then flow into the arithmetic as given — never a panic, and a NaN answer
//! wherever no later check catches it (the sketches check their output, so `S·A` reports
//! [`Error::NonFinite`] as an overflow).
//!
//! ```
//! use randnla::input::{MatrixRef, SparseRef};
//! // The 2×3 matrix [[1, 0, 2], [0, 3, 0]] in CSR form.
//! let indptr = [0, 2, 3];
//! let indices = [0, 2, 1];
//! let data = [1.0, 2.0, 3.0];
//! let a = SparseRef::try_csr(2, 3, &indptr, &indices, &data).unwrap();
//! assert_eq!(a.nnz(), 3);
//! // Malformed structure is an error, not a panic:
//! assert!(SparseRef::try_csr(2, 3, &[0, 2, 1], &indices, &data).is_err());
//! let view = MatrixRef::from(a);
//! assert_eq!((view.nrows(), view.ncols()), (2, 3));
//! ```

use crate::error::{Error, Result};
use crate::scalar::Scalar;
use faer::MatRef;

/// Storage order of a compressed sparse matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Compressed sparse rows: `indptr` has `nrows + 1` entries, `indices` are column indices.
    Csr,
    /// Compressed sparse columns: `indptr` has `ncols + 1` entries, `indices` are row indices.
    Csc,
}

/// A validated borrowed CSR or CSC matrix.
///
/// Invariants (checked by every constructor): `indptr` has `outer + 1` non-decreasing entries;
/// `indptr[outer] - indptr[0] == indices.len() == data.len()`; within each outer slice the inner
/// indices are strictly increasing (sorted, no duplicates) and below the inner dimension; every
/// value is finite. Raw arrays ([`try_new`](Self::try_new), [`try_csr`](Self::try_csr),
/// [`try_csc`](Self::try_csc)) must start with `indptr[0] = 0`, as SciPy requires (1-based
/// arrays would otherwise be read as shifted columns whenever the last one is empty); only
/// [`from_sprs`](Self::from_sprs) takes a non-zero `indptr[0]`, which `sprs` views of a slice
/// of a larger matrix carry.
#[derive(Clone, Copy, Debug)]
pub struct SparseRef<'a, T> {
    nrows: usize,
    ncols: usize,
    layout: Layout,
    indptr: &'a [usize],
    indices: &'a [usize],
    data: &'a [T],
}

impl<'a, T: Scalar> SparseRef<'a, T> {
    /// Validates raw compressed arrays (0-based, `indptr[0] = 0`).
    ///
    /// # Errors
    /// [`Error::InvalidStructure`] when the arrays do not satisfy the invariants above (the message
    /// names the first position that breaks one; a non-zero `indptr[0]` is named as such),
    /// [`Error::NonFinite`] for a NaN or infinite value, naming the first such entry in
    /// column-major order for CSR and CSC alike (as for a dense matrix).
    pub fn try_new(
        layout: Layout,
        nrows: usize,
        ncols: usize,
        indptr: &'a [usize],
        indices: &'a [usize],
        data: &'a [T],
    ) -> Result<Self> {
        Self::validate(layout, (nrows, ncols), (indptr, indices, data), false)
    }

    /// The checks of [`try_new`](Self::try_new); `offset_allowed` accepts a non-zero
    /// `indptr[0]` (a `sprs` view of a slice of a larger matrix).
    fn validate(
        layout: Layout,
        (nrows, ncols): (usize, usize),
        (indptr, indices, data): (&'a [usize], &'a [usize], &'a [T]),
        offset_allowed: bool,
    ) -> Result<Self> {
        let (outer, inner) = match layout {
            Layout::Csr => (nrows, ncols),
            Layout::Csc => (ncols, nrows),
        };
        let outer_name = if layout == Layout::Csr {
            "row"
        } else {
            "column"
        };
        if outer == usize::MAX {
            // `outer + 1` pointers do not fit in a slice (the message said "expected
            // 18446744073709551615", one short of the count it meant and a length a slice can
            // have).
            return Err(Error::structure(format!(
                "a matrix with usize::MAX {outer_name}s needs usize::MAX + 1 entries in indptr \
                 (one per {outer_name} plus one), more than a slice can hold; indptr has {}",
                indptr.len()
            )));
        }
        if indptr.len() != outer + 1 {
            return Err(Error::structure(format!(
                "indptr has {} entries, expected {} (one per {outer_name} plus one)",
                indptr.len(),
                outer + 1
            )));
        }
        if indices.len() != data.len() {
            return Err(Error::structure(format!(
                "indices has {} entries but data has {}",
                indices.len(),
                data.len()
            )));
        }
        let base = indptr[0];
        if base != 0 && !offset_allowed {
            return Err(Error::structure(format!(
                "indptr[0] is {base}, expected 0: raw arrays are 0-based, with indptr counting \
                 entries from the start of indices and data (for 1-based arrays subtract 1 from \
                 indptr and indices)"
            )));
        }
        for k in 0..outer {
            if indptr[k + 1] < indptr[k] {
                return Err(Error::structure(format!(
                    "indptr decreases at position {} ({} > {})",
                    k + 1,
                    indptr[k],
                    indptr[k + 1]
                )));
            }
        }
        if indptr[outer] - base != indices.len() {
            return Err(Error::structure(format!(
                "indptr spans {} entries but indices has {}",
                indptr[outer] - base,
                indices.len()
            )));
        }
        for k in 0..outer {
            let range = (indptr[k] - base)..(indptr[k + 1] - base);
            let mut prev: Option<usize> = None;
            for (&idx, &v) in indices[range.clone()].iter().zip(&data[range]) {
                if idx >= inner {
                    return Err(Error::structure(format!(
                        "{outer_name} {k} has inner index {idx}, outside 0..{inner}"
                    )));
                }
                if let Some(p) = prev {
                    if idx <= p {
                        return Err(Error::structure(format!(
                            "{outer_name} {k} has inner indices out of order or repeated ({p} then {idx}); \
                             indices must be strictly increasing within each {outer_name}"
                        )));
                    }
                }
                prev = Some(idx);
                if !v.finite() {
                    let (row, col) = match layout {
                        Layout::Csr => first_non_finite_by_column(k, indptr, indices, data),
                        Layout::Csc => (idx, k),
                    };
                    return Err(Error::NonFinite {
                        what: "sparse matrix".into(),
                        row,
                        col,
                    });
                }
            }
        }
        Ok(SparseRef {
            nrows,
            ncols,
            layout,
            indptr,
            indices,
            data,
        })
    }

    /// Wraps arrays the crate built itself and knows to satisfy the invariants (skips the O(nnz)
    /// check). Never used on user data.
    pub(crate) fn from_valid_parts(
        layout: Layout,
        nrows: usize,
        ncols: usize,
        indptr: &'a [usize],
        indices: &'a [usize],
        data: &'a [T],
    ) -> Self {
        debug_assert!(
            Self::validate(layout, (nrows, ncols), (indptr, indices, data), true).is_ok()
        );
        SparseRef {
            nrows,
            ncols,
            layout,
            indptr,
            indices,
            data,
        }
    }

    /// The raw compressed arrays `(indptr, indices, data)`, as validated (`indptr[0]` may be
    /// non-zero: entry `k` of `indices` and `data` sits at position `indptr[0] + k`).
    pub(crate) fn raw_parts(&self) -> (&'a [usize], &'a [usize], &'a [T]) {
        (self.indptr, self.indices, self.data)
    }

    /// [`try_new`](Self::try_new) with [`Layout::Csr`].
    ///
    /// # Errors
    /// As [`try_new`](Self::try_new).
    pub fn try_csr(
        nrows: usize,
        ncols: usize,
        indptr: &'a [usize],
        indices: &'a [usize],
        data: &'a [T],
    ) -> Result<Self> {
        Self::try_new(Layout::Csr, nrows, ncols, indptr, indices, data)
    }

    /// [`try_new`](Self::try_new) with [`Layout::Csc`].
    ///
    /// # Errors
    /// As [`try_new`](Self::try_new).
    pub fn try_csc(
        nrows: usize,
        ncols: usize,
        indptr: &'a [usize],
        indices: &'a [usize],
        data: &'a [T],
    ) -> Result<Self> {
        Self::try_new(Layout::Csc, nrows, ncols, indptr, indices, data)
    }

    /// Validates a `sprs` matrix view (CSR or CSC, `usize` indices).
    ///
    /// # Errors
    /// As [`try_new`](Self::try_new); `sprs` itself guarantees most of the structure, but values
    /// are checked for finiteness here.
    pub fn from_sprs(m: sprs::CsMatView<'a, T>) -> Result<Self> {
        let layout = if m.is_csr() { Layout::Csr } else { Layout::Csc };
        let (nrows, ncols) = (m.rows(), m.cols());
        let (indptr, indices, data) = m.into_raw_storage();
        Self::validate(layout, (nrows, ncols), (indptr, indices, data), true)
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }
    /// Storage order.
    pub fn layout(&self) -> Layout {
        self.layout
    }
    /// Number of outer slices (rows for CSR, columns for CSC).
    pub fn outer_dim(&self) -> usize {
        self.indptr.len() - 1
    }

    /// The inner indices and values of outer slice `k` (a row for CSR, a column for CSC).
    /// `k` must be below [`outer_dim`](Self::outer_dim); out-of-range `k` gives empty slices.
    #[inline]
    pub fn outer(&self, k: usize) -> (&'a [usize], &'a [T]) {
        if k >= self.outer_dim() {
            return (&[], &[]);
        }
        let base = self.indptr[0];
        let r = (self.indptr[k] - base)..(self.indptr[k + 1] - base);
        (&self.indices[r.clone()], &self.data[r])
    }

    /// The transpose, free of cost: the CSR form of `A` is the CSC form of `Aᵀ`.
    pub fn transpose(self) -> Self {
        SparseRef {
            nrows: self.ncols,
            ncols: self.nrows,
            layout: match self.layout {
                Layout::Csr => Layout::Csc,
                Layout::Csc => Layout::Csr,
            },
            ..self
        }
    }

    /// Rows `start..end` of a CSR matrix, without copying.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a CSC matrix (its row blocks are not contiguous; convert
    /// it or build the block yourself) or a range outside `0..=nrows`.
    pub fn csr_row_block(&self, start: usize, end: usize) -> Result<Self> {
        if self.layout != Layout::Csr {
            return Err(Error::param(
                "layout",
                "row blocks without copying need CSR storage",
            ));
        }
        check_row_range(start, end, self.nrows)?;
        let base = self.indptr[0];
        let lo = self.indptr[start] - base;
        let hi = self.indptr[end] - base;
        Ok(SparseRef {
            nrows: end - start,
            ncols: self.ncols,
            layout: Layout::Csr,
            indptr: &self.indptr[start..=end],
            indices: &self.indices[lo..hi],
            data: &self.data[lo..hi],
        })
    }
}

/// A validated view of a dense or sparse input matrix.
#[derive(Clone, Copy, Debug)]
pub enum MatrixRef<'a, T> {
    /// A dense matrix with any strides. Build it with [`MatrixRef::dense`], which checks that
    /// every entry is finite; writing `MatrixRef::Dense(view)` directly skips that check (to save
    /// the pass over data known to be finite), and non-finite entries then flow into the
    /// arithmetic as given.
    Dense(MatRef<'a, T>),
    /// A CSR or CSC matrix.
    Sparse(SparseRef<'a, T>),
}

impl<'a, T: Scalar> MatrixRef<'a, T> {
    /// Validates a dense matrix: every entry must be finite.
    ///
    /// # Errors
    /// [`Error::NonFinite`] naming the first (column-major) offending entry.
    ///
    /// # Performance
    /// One pass over the entries.
    pub fn dense(a: MatRef<'a, T>) -> Result<Self> {
        check_finite_dense(a, "dense matrix")?;
        Ok(MatrixRef::Dense(a))
    }

    /// Validates a `sprs` matrix (see [`SparseRef::from_sprs`]).
    ///
    /// # Errors
    /// As [`SparseRef::try_new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use randnla::MatrixRef;
    /// let mut t = randnla::sprs::TriMat::new((4, 3));
    /// t.add_triplet(0, 0, 1.0);
    /// t.add_triplet(2, 1, -2.0);
    /// t.add_triplet(3, 2, 5.0);
    /// let csr: randnla::sprs::CsMat<f64> = t.to_csr();
    /// let a = MatrixRef::sparse(&csr)?;
    /// assert_eq!((a.nrows(), a.ncols(), a.nnz()), (4, 3, 3));
    /// // Rows 2..4 without a copy; the dense copy holds zeros where nothing is stored.
    /// let lower = a.row_block(2, 4)?.to_dense()?;
    /// assert_eq!(lower, randnla::faer::mat![[0.0, -2.0, 0.0], [0.0, 0.0, 5.0]]);
    /// // The transpose is a CSC view of the same arrays.
    /// assert_eq!(a.transpose().to_dense()?[(2, 3)], 5.0);
    /// // A NaN is refused where the view is built.
    /// let mut bad = randnla::sprs::TriMat::new((2, 2));
    /// bad.add_triplet(1, 0, f64::NAN);
    /// let bad: randnla::sprs::CsMat<f64> = bad.to_csr();
    /// let err = MatrixRef::sparse(&bad);
    /// assert!(matches!(err, Err(randnla::Error::NonFinite { row: 1, col: 0, .. })));
    /// # Ok::<(), randnla::Error>(())
    /// ```
    pub fn sparse(m: &'a sprs::CsMat<T>) -> Result<Self> {
        SparseRef::from_sprs(m.view()).map(MatrixRef::Sparse)
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        match self {
            MatrixRef::Dense(a) => a.nrows(),
            MatrixRef::Sparse(s) => s.nrows(),
        }
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        match self {
            MatrixRef::Dense(a) => a.ncols(),
            MatrixRef::Sparse(s) => s.ncols(),
        }
    }
    /// Stored entries: `nrows·ncols` for dense (saturating at `usize::MAX`), `nnz` for sparse.
    pub fn nnz(&self) -> usize {
        match self {
            MatrixRef::Dense(a) => a.nrows().saturating_mul(a.ncols()),
            MatrixRef::Sparse(s) => s.nnz(),
        }
    }
    /// The transpose, free of cost for every representation.
    pub fn transpose(self) -> Self {
        match self {
            MatrixRef::Dense(a) => MatrixRef::Dense(a.transpose()),
            MatrixRef::Sparse(s) => MatrixRef::Sparse(s.transpose()),
        }
    }

    /// Rows `start..end`, without copying (dense or CSR).
    ///
    /// # Errors
    /// As [`SparseRef::csr_row_block`].
    pub fn row_block(&self, start: usize, end: usize) -> Result<Self> {
        match self {
            MatrixRef::Dense(a) => {
                check_row_range(start, end, a.nrows())?;
                Ok(MatrixRef::Dense(a.subrows(start, end - start)))
            }
            MatrixRef::Sparse(s) => s.csr_row_block(start, end).map(MatrixRef::Sparse),
        }
    }

    /// `Err(Error::Empty)` when the matrix has no rows or no columns.
    ///
    /// # Errors
    /// [`Error::Empty`].
    pub fn require_nonempty(&self, what: &str) -> Result<()> {
        if self.nrows() == 0 || self.ncols() == 0 {
            return Err(Error::empty(format!(
                "{what} ({}×{})",
                self.nrows(),
                self.ncols()
            )));
        }
        Ok(())
    }

    /// Copies the matrix into a dense `faer` matrix (for tests and small problems).
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the dense copy cannot be allocated: a sparse matrix may declare
    /// far more rows and columns than it stores.
    pub fn to_dense(&self) -> Result<faer::Mat<T>> {
        let mut out = zeros_or_too_large(self.nrows(), self.ncols(), "dense copy")?;
        self.write_dense(out.as_mut());
        Ok(out)
    }

    /// Writes the matrix into `out`, which must have its shape and hold zeros where a sparse
    /// matrix stores nothing.
    pub(crate) fn write_dense(&self, mut out: faer::MatMut<'_, T>) {
        match self {
            MatrixRef::Dense(a) => out.copy_from(a),
            MatrixRef::Sparse(s) => {
                for k in 0..s.outer_dim() {
                    let (idx, val) = s.outer(k);
                    for (&i, &v) in idx.iter().zip(val) {
                        match s.layout() {
                            Layout::Csr => out[(k, i)] = v,
                            Layout::Csc => out[(i, k)] = v,
                        }
                    }
                }
            }
        }
    }
}

/// The largest magnitude among `A`'s entries (its stored entries, for sparse storage).
pub(crate) fn max_abs_entry(a: MatrixRef<'_, f64>) -> f64 {
    match a {
        MatrixRef::Dense(m) => crate::dense::max_abs(m),
        MatrixRef::Sparse(s) => crate::scalar::max_abs_slice(s.raw_parts().2),
    }
}

/// A copy of `A`'s values times `2^-shift` (exact but where an entry becomes subnormal), for
/// the routines whose arithmetic (a Gram matrix, Householder norms) would over- or underflow
/// on `A` near the ends of the `f64` range; a sparse copy keeps `A`'s structure.
pub(crate) struct Pow2Scaled {
    dense: Option<faer::Mat<f64>>,
    data: Vec<f64>,
}

impl Pow2Scaled {
    /// # Errors
    /// [`Error::TooLarge`] when the dense copy, or the copy of a sparse `A`'s stored values,
    /// cannot be allocated (the sparse copy was collected into a `Vec`, which aborts the process
    /// when the allocator refuses).
    pub(crate) fn new(a: MatrixRef<'_, f64>, shift: i32) -> Result<Self> {
        let scale = |v: f64| crate::scalar::mul_pow2(v, -shift);
        Ok(match a {
            MatrixRef::Dense(m) => {
                let mut c = zeros_or_too_large::<f64>(m.nrows(), m.ncols(), "scaled copy of A")?;
                for j in 0..m.ncols() {
                    for i in 0..m.nrows() {
                        c[(i, j)] = scale(m[(i, j)]);
                    }
                }
                Pow2Scaled {
                    dense: Some(c),
                    data: Vec::new(),
                }
            }
            MatrixRef::Sparse(s) => {
                let values = s.raw_parts().2;
                let mut data = Vec::new();
                data.try_reserve_exact(values.len()).map_err(|_| {
                    refused::<f64>(
                        format!(
                            "the {} stored values of the scaled copy of the {}×{} A",
                            values.len(),
                            s.nrows(),
                            s.ncols()
                        ),
                        values.len() as u128,
                    )
                })?;
                data.extend(values.iter().map(|&v| scale(v)));
                Pow2Scaled { dense: None, data }
            }
        })
    }

    /// The scaled matrix; `a` must be the matrix the copy was made from.
    pub(crate) fn view<'s>(&'s self, a: MatrixRef<'s, f64>) -> MatrixRef<'s, f64> {
        match (&self.dense, a) {
            (Some(c), _) => MatrixRef::Dense(c.as_ref()),
            (None, MatrixRef::Sparse(s)) => {
                let (indptr, indices, _) = s.raw_parts();
                MatrixRef::Sparse(SparseRef::from_valid_parts(
                    s.layout(),
                    s.nrows(),
                    s.ncols(),
                    indptr,
                    indices,
                    &self.data,
                ))
            }
            (None, dense) => dense, // not reached: a dense `A` has a dense copy
        }
    }
}

/// `Ok` when `start..end` is a range of rows within `0..nrows`; the error names which bound
/// fails (a reversed range such as `1..0` lies within `0..nrows`, and the message said it did
/// not).
/// The `(row, col)` of the non-finite entry of a CSR matrix that comes first in column-major
/// order (the order a dense or CSC `A` is checked in, so that every storage names the same
/// entry), given that rows before `first_row` hold none. `indptr` is already checked; inner
/// indices past the first non-finite row are not (a structure error there is not reported,
/// as before: the non-finite value comes first in storage order).
fn first_non_finite_by_column<T: Scalar>(
    first_row: usize,
    indptr: &[usize],
    indices: &[usize],
    data: &[T],
) -> (usize, usize) {
    let base = indptr[0];
    let mut best = (usize::MAX, usize::MAX);
    for k in first_row..indptr.len() - 1 {
        let range = (indptr[k] - base)..(indptr[k + 1] - base);
        for (&idx, &v) in indices[range.clone()].iter().zip(&data[range]) {
            if !v.finite() && (idx, k) < best {
                best = (idx, k);
            }
        }
    }
    (best.1, best.0)
}

fn check_row_range(start: usize, end: usize, nrows: usize) -> Result<()> {
    if start > end {
        return Err(Error::param(
            "range",
            format!("rows {start}..{end}: the start is after the end"),
        ));
    }
    if end > nrows {
        return Err(Error::param(
            "range",
            format!("rows {start}..{end}: the end is past the matrix's {nrows} rows"),
        ));
    }
    Ok(())
}

impl<'a, T> From<SparseRef<'a, T>> for MatrixRef<'a, T> {
    fn from(s: SparseRef<'a, T>) -> Self {
        MatrixRef::Sparse(s)
    }
}

/// `len` copies of `value`, or [`Error::TooLarge`] naming `what` when they cannot be allocated
/// (`vec![value; len]` aborts instead). For lengths set by a declared dimension, which a sparse
/// matrix does not bound by what it stores.
pub(crate) fn filled_or_too_large<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| refused::<T>(format!("the {what}"), len as u128))?;
    v.resize(len, value);
    Ok(v)
}

/// [`Error::TooLarge`] for `requested` elements of `T` that the allocator refused (or that no
/// allocation can hold); its limit is the largest allocation Rust allows.
fn refused<T>(what: String, requested: u128) -> Error {
    Error::TooLarge {
        what,
        requested,
        limit: (isize::MAX as usize / std::mem::size_of::<T>().max(1)) as u128,
    }
}

/// Asks the allocator whether `len` elements of `T` (`None`: more than a `usize` counts) could be
/// allocated now, without touching them; faer's constructors and `vec!` abort instead of failing.
///
/// # Errors
/// [`Error::TooLarge`] with `what()` and `requested` when they could not.
pub(crate) fn ensure_allocatable<T>(
    len: Option<usize>,
    what: impl FnOnce() -> String,
    requested: u128,
) -> Result<()> {
    match len {
        Some(len) if Vec::<T>::new().try_reserve_exact(len).is_ok() => Ok(()),
        _ => Err(refused::<T>(what(), requested)),
    }
}

/// An `m × d` zero matrix, or [`Error::TooLarge`] naming `what` when it cannot be allocated
/// (faer's constructors abort on allocation failure, so the allocator is asked first).
pub(crate) fn zeros_or_too_large<T: Scalar>(
    m: usize,
    d: usize,
    what: &str,
) -> Result<faer::Mat<T>> {
    // faer pads each column to its SIMD alignment; probing with `m` rounded up to 16 covers that
    // padding for f32 and f64 alike.
    // faer also checks a column's bytes when there are no columns, and walks every column even
    // when they are empty: an empty column is counted as 16 entries, so a 0 × 2^40 matrix is
    // refused rather than walked.
    let len = m
        .max(1)
        .checked_next_multiple_of(16)
        .filter(|padded| {
            padded
                .checked_mul(std::mem::size_of::<T>())
                .is_some_and(|bytes| bytes <= isize::MAX as usize)
        })
        .and_then(|padded| padded.checked_mul(d));
    // What a refusal reports. A shape without entries is refused for what was probed, and an
    // error saying it "needs 0 elements, which could not be allocated" explained nothing.
    let (requested, why) = if m == 0 {
        (
            16 * d as u128,
            " (without rows, each column still costs a step, counted as 16 elements)",
        )
    } else if d == 0 {
        (
            m as u128,
            " (without columns, one column of its rows is still sized)",
        )
    } else {
        (m as u128 * d as u128, "")
    };
    ensure_allocatable::<T>(len, || format!("the {m}×{d} {what}{why}"), requested)?;
    Ok(faer::Mat::zeros(m, d))
}

/// Checks that every entry of a dense matrix is finite.
///
/// # Errors
/// [`Error::NonFinite`] naming `what` and the first offending entry in column-major order.
///
/// # Performance
/// One pass over the entries; O(1) for a matrix without entries, whatever its shape.
pub fn check_finite_dense<T: Scalar>(a: MatRef<'_, T>, what: &str) -> Result<()> {
    if a.nrows() == 0 {
        // Nothing to check; walking the columns of a `0 × 2^62` view (a safe
        // `MatRef::from_column_major_slice(&[], 0, 1 << 62)`) took centuries.
        return Ok(());
    }
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            if !a[(i, j)].finite() {
                return Err(Error::NonFinite {
                    what: what.into(),
                    row: i,
                    col: j,
                });
            }
        }
    }
    Ok(())
}

/// Checks that every entry of a slice is finite.
///
/// # Errors
/// [`Error::NonFinite`] with the offending index as `row` (and `col` 0).
pub fn check_finite_slice<T: Scalar>(x: &[T], what: &str) -> Result<()> {
    match x.iter().position(|v| !v.finite()) {
        Some(i) => Err(Error::NonFinite {
            what: what.into(),
            row: i,
            col: 0,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_slices_past_the_end_are_empty() {
        let a = SparseRef::try_csr(2, 3, &[0, 2, 3], &[0, 2, 1], &[1.0, 2.0, 3.0]).unwrap();
        for k in [2, 3, usize::MAX - 1, usize::MAX] {
            assert_eq!(a.outer(k), (&[][..], &[][..]), "k = {k}");
        }
        assert_eq!(a.outer(1), (&[1usize][..], &[3.0][..]));
    }

    #[test]
    fn dense_copies_of_empty_but_huge_shapes() {
        let start = std::time::Instant::now();
        for n in [1usize << 61, 1 << 62, usize::MAX - 20] {
            let tall = SparseRef::<f64>::try_csc(n, 0, &[0], &[], &[]).unwrap();
            let r = MatrixRef::Sparse(tall).to_dense();
            assert!(matches!(r, Err(Error::TooLarge { .. })), "{n} × 0: {r:?}");
            let wide = SparseRef::<f64>::try_csr(0, n, &[0], &[], &[]).unwrap();
            let r = MatrixRef::Sparse(wide.transpose()).to_dense();
            assert!(
                matches!(r, Err(Error::TooLarge { .. })),
                "{n} × 0 by transpose: {r:?}"
            );
        }
        let wide = SparseRef::<f64>::try_csr(0, 1 << 40, &[0], &[], &[]).unwrap();
        let r = MatrixRef::Sparse(wide).to_dense();
        assert!(matches!(r, Err(Error::TooLarge { .. })), "0 × 2^40: {r:?}");
        let wide = SparseRef::<f64>::try_csr(0, 1 << 16, &[0], &[], &[]).unwrap();
        assert_eq!(MatrixRef::Sparse(wide).to_dense().unwrap().ncols(), 1 << 16);
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    }

    #[test]
    fn rejects_every_kind_of_malformed_structure() {
        let data = [1.0, 2.0, 3.0];
        // wrong indptr length
        assert!(SparseRef::try_csr(3, 3, &[0, 2, 3], &[0, 2, 1], &data).is_err());
        // decreasing indptr
        assert!(SparseRef::try_csr(2, 3, &[0, 3, 2], &[0, 2, 1], &data).is_err());
        // indptr total != nnz
        assert!(SparseRef::try_csr(2, 3, &[0, 2, 2], &[0, 2, 1], &data).is_err());
        // index out of range
        assert!(SparseRef::try_csr(2, 3, &[0, 2, 3], &[0, 3, 1], &data).is_err());
        // unsorted / duplicate inner indices
        assert!(SparseRef::try_csr(2, 3, &[0, 2, 3], &[2, 0, 1], &data).is_err());
        assert!(SparseRef::try_csr(2, 3, &[0, 2, 3], &[1, 1, 1], &data).is_err());
        // lengths disagree
        assert!(SparseRef::try_csr(2, 3, &[0, 2, 3], &[0, 2], &data).is_err());
        // non-finite value
        let e =
            SparseRef::try_csc(3, 2, &[0, 2, 3], &[0, 2, 1], &[1.0, f64::NAN, 3.0]).unwrap_err();
        assert_eq!(
            e,
            Error::NonFinite {
                what: "sparse matrix".into(),
                row: 2,
                col: 0
            }
        );
        // usize::MAX outer dimension must not overflow
        assert!(SparseRef::<f64>::try_csr(usize::MAX, 1, &[0], &[], &[]).is_err());
        // a valid one
        assert!(SparseRef::try_csr(2, 3, &[0, 2, 3], &[0, 2, 1], &data).is_ok());
    }

    #[test]
    fn offset_indptr_from_a_sprs_slice_is_accepted() {
        let m = sprs::CsMat::new((3, 3), vec![0, 1, 2, 3], vec![0, 1, 2], vec![1.0, 2.0, 3.0]);
        let sub = m.slice_outer(1..3);
        let s = SparseRef::from_sprs(sub).unwrap();
        assert_eq!(s.nrows(), 2);
        assert_eq!(s.outer(0), (&[1usize][..], &[2.0][..]));
        assert_eq!(s.outer(1), (&[2usize][..], &[3.0][..]));
    }

    #[test]
    fn dense_nan_is_found() {
        let mut a = faer::Mat::<f64>::zeros(3, 2);
        a[(1, 1)] = f64::INFINITY;
        assert!(matches!(
            MatrixRef::dense(a.as_ref()),
            Err(Error::NonFinite { row: 1, col: 1, .. })
        ));
    }

    #[test]
    fn transpose_and_blocks_agree_with_dense() {
        let m = sprs::CsMat::new((3, 2), vec![0, 1, 1, 3], vec![1, 0, 1], vec![1.0, 2.0, 3.0]);
        let a = MatrixRef::sparse(&m).unwrap();
        let d = a.to_dense().unwrap();
        let t = a.transpose().to_dense().unwrap();
        for i in 0..3 {
            for j in 0..2 {
                assert_eq!(d[(i, j)], t[(j, i)]);
            }
        }
        let b = a.row_block(1, 3).unwrap().to_dense().unwrap();
        assert_eq!(b[(1, 0)], 2.0);
        // A shape that stores one entry but declares 2^62 columns has no dense copy.
        let huge = SparseRef::try_csr(1, 1usize << 62, &[0, 1], &[3], &[1.0]).unwrap();
        for a in [MatrixRef::Sparse(huge), MatrixRef::Sparse(huge.transpose())] {
            assert!(matches!(a.to_dense(), Err(Error::TooLarge { .. })));
        }
        assert!(a.row_block(2, 4).is_err());
        assert!(a.transpose().row_block(0, 1).is_err());
    }
}
