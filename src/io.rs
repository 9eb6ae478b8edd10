//! Matrix Market read and write, with errors that name the line.
//!
//! [Matrix Market](https://math.nist.gov/MatrixMarket/formats.html) is the NIST text format for
//! matrices. A file starts with a header line, then any number of `%` comment lines, a size line,
//! and the entries:
//!
//! ```text
//! %%MatrixMarket matrix coordinate real general
//! % a comment
//! 3 4 2          <- rows, columns, stored entries (array format: rows, columns)
//! 1 1 2.5        <- row, column (1-based), value
//! 3 4 -1e-3
//! ```
//!
//! # Supported subset
//!
//! | header token | accepted values                                                        |
//! |--------------|------------------------------------------------------------------------|
//! | object       | `matrix` (not `vector`)                                                |
//! | format       | `coordinate` → [`MatrixMarket::Sparse`] (CSR), `array` → [`MatrixMarket::Dense`] |
//! | field        | `real`, `integer`, `pattern` (coordinate only; every value is `1.0`)   |
//! | symmetry     | `general`, `symmetric`, `skew-symmetric`                               |
//!
//! `complex` and `hermitian` files are rejected with a [`Error::Parse`] saying so. The header
//! tokens are case-insensitive. Comment lines (`%` first) and blank lines are skipped anywhere
//! after the header; comment lines are skipped without being decoded, every other line must be
//! UTF-8 (in practice ASCII). Lines may carry leading or trailing whitespace and `\r\n` endings
//! (not `\r`-only ones, which make a file one long line: an error on such a line says so); a
//! leading UTF-8 byte-order mark on the header is ignored. A line may be at most 1 MiB long, its
//! `\n` or `\r\n` ending not counted.
//!
//! Reading rules:
//!
//! - **Values.** Real values use Rust's `f64` syntax (`1`, `-2.5`, `1e-300`, `.5`); a Fortran `D`
//!   exponent (`1.0D+00`) is also accepted. NaN, infinity and values that overflow `f64` are
//!   rejected. `integer` values must be 64-bit integers; each stored value is the nearest `f64`
//!   to the exact integer (for duplicates, to their exact sum).
//! - **Symmetry.** For `symmetric` coordinate files every off-diagonal entry `(i, j, v)` is also
//!   stored at `(j, i)`; for `skew-symmetric` files at `(j, i)` with value `-v`, and a diagonal
//!   entry is an error. The format lists the lower triangle; a file that lists the upper one
//!   instead is read the same way, but one that mixes both is an error (it is almost always a
//!   full matrix under a symmetric header, which would be doubled). `pattern` cannot be
//!   `skew-symmetric`. Array-format symmetric files hold the lower triangle column by column
//!   (for skew-symmetric, the strict lower triangle).
//! - **Duplicates** (the same coordinate stored more than once) are summed in file order, as
//!   SciPy does, but without overflow in the partial sums (`1e308 + 1e308 − 1e308` is `1e308`,
//!   where SciPy gives `inf`); a sum beyond `±f64::MAX` is an error. In an `integer` file they
//!   are summed exactly and rounded once (`2⁵³`, `1`, `1` is `2⁵³ + 2`, as in SciPy, which sums
//!   in `int64`; rounding each term first would give `2⁵³`). In a `pattern` file a
//!   repeated position is still `1.0`. The sparse result is in canonical
//!   form: indices sorted within each row, no duplicates.
//! - **Explicit zeros** in a coordinate file are kept as stored entries, so a file's sparsity
//!   pattern survives a read (and a round trip through [`write_sparse`]).
//! - **Counts.** Fewer entries than the size line declares, or more, is an error.
//!
//! Every problem is an [`Error::Parse`] carrying the 1-based line number (a truncated file names
//! its last line; a sum of duplicates that overflows names line 0, the whole file). No input
//! panics. [`ReadOptions::max_elements`] bounds the memory a file can make the reader allocate,
//! and each declared dimension (so a matrix that stores nothing cannot declare `2^64 − 1` rows);
//! storage for entries is reserved from the declared count only up to 2^20 entries, grows beyond
//! that as entries actually arrive, and never past the declared count.
//!
//! Writing produces `coordinate real general` ([`write_sparse`]) or `array real general`
//! ([`write_dense`], column-major), with values in Rust's shortest round-trip `{:e}` form, so a
//! write followed by a read gives back bitwise identical values (including `-0.0`).
//!
//! ```
//! use randnla::io::{read_matrix_market, write_sparse, MatrixMarket, ReadOptions};
//! use randnla::input::SparseRef;
//!
//! let text = "%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 4.0\n2 1 -1.5\n";
//! let m = read_matrix_market(text.as_bytes(), &ReadOptions::default()).unwrap();
//! assert_eq!((m.nrows(), m.ncols(), m.nnz()), (2, 2, 3)); // (1, 2) mirrored from (2, 1)
//!
//! let MatrixMarket::Sparse(a) = &m else { unreachable!() };
//! let mut out = Vec::new();
//! write_sparse(&mut out, &SparseRef::from_sprs(a.view()).unwrap()).unwrap();
//! let back = read_matrix_market(&out[..], &ReadOptions::default()).unwrap();
//! assert_eq!(back, m);
//!
//! // Errors name the line:
//! let bad = "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n";
//! let err = read_matrix_market(bad.as_bytes(), &ReadOptions::default()).unwrap_err();
//! assert!(err.to_string().contains("line 3"), "{err}");
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::input::{check_finite_dense, Layout, MatrixRef, SparseRef};

/// Longest line accepted, in bytes (excluding the line ending).
const MAX_LINE_BYTES: usize = 1 << 20;
/// Most entries reserved up front from a declared count; beyond it storage grows as entries arrive.
const MAX_INITIAL_RESERVE: usize = 1 << 20;
/// Longest excerpt of an offending token quoted in an error message, in characters.
const MAX_QUOTE_CHARS: usize = 40;

/// Appended to the message of an error on a line that holds a carriage return before its end.
/// Such a file most likely has classic Mac `\r`-only line endings and reads as one long line,
/// which the plain message ("header has more than 5 words" on a header with five, "expected 3
/// fields, found 6") does not reveal.
const STRAY_CR_HINT: &str = "; the line contains a carriage return (`\\r`) before its end: \
                             lines must end with `\\n` or `\\r\\n`, and a file with \
                             `\\r`-only line endings reads as one long line";

/// [`STRAY_CR_HINT`] when `line`, trimmed, holds a carriage return; `""` otherwise.
fn stray_cr(line: &[u8]) -> &'static str {
    if line.trim_ascii().contains(&b'\r') {
        STRAY_CR_HINT
    } else {
        ""
    }
}

const HEADER_HELP: &str = "expected `%%MatrixMarket matrix <coordinate|array> \
                           <real|integer|pattern> <general|symmetric|skew-symmetric>`";

/// Limits applied while reading a Matrix Market file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Largest number of elements the reader may be asked to store, checked against the size line
    /// before anything is allocated: a coordinate file needs `2·nrows + 1` (CSR; `2·ncols + 1`
    /// for CSC: the index pointers and a cursor per row while the entries are placed) plus its
    /// stored entries (after mirroring, for symmetric files); an array file needs `nrows · ncols`
    /// values, as does a coordinate file read as dense. Each declared dimension is bounded by it
    /// as well, even when nothing is stored. A larger declared size is an [`Error::TooLarge`]
    /// whose `requested` count is the largest of these needs, so a limit raised to it reads the
    /// file.
    ///
    /// Default: `1 << 28` (2 GB of `f64` values for a dense matrix; about 40 bytes per stored
    /// entry for a sparse one while it is read, 64 for an `integer` file, whose values are kept
    /// exact until duplicates are summed). An earlier default of `1 << 32` let a 60-byte
    /// header declaring `2^28` empty rows allocate 4 GB. Raise it for larger files.
    pub max_elements: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_elements: 1 << 28,
        }
    }
}

/// A matrix read from a Matrix Market file: coordinate files give a sparse CSR matrix, array
/// files a dense one.
#[derive(Clone, Debug)]
pub enum MatrixMarket {
    /// From a `coordinate` file: CSR, canonical (sorted indices, duplicates summed).
    Sparse(sprs::CsMat<f64>),
    /// From an `array` file.
    Dense(faer::Mat<f64>),
}

impl PartialEq for MatrixMarket {
    /// Same representation, same shape, same stored entries (values compared with `==`).
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (MatrixMarket::Sparse(a), MatrixMarket::Sparse(b)) => a == b,
            (MatrixMarket::Dense(a), MatrixMarket::Dense(b)) => {
                a.nrows() == b.nrows()
                    && a.ncols() == b.ncols()
                    && (0..a.ncols()).all(|j| (0..a.nrows()).all(|i| a[(i, j)] == b[(i, j)]))
            }
            _ => false,
        }
    }
}

impl MatrixMarket {
    /// Number of rows.
    pub fn nrows(&self) -> usize {
        match self {
            MatrixMarket::Sparse(a) => a.rows(),
            MatrixMarket::Dense(a) => a.nrows(),
        }
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        match self {
            MatrixMarket::Sparse(a) => a.cols(),
            MatrixMarket::Dense(a) => a.ncols(),
        }
    }

    /// Stored entries: `nnz` for sparse (explicit zeros included), `nrows · ncols` for dense.
    pub fn nnz(&self) -> usize {
        match self {
            MatrixMarket::Sparse(a) => a.nnz(),
            MatrixMarket::Dense(a) => a.nrows().saturating_mul(a.ncols()),
        }
    }

    /// The entries of a matrix with one column (`n × 1`) or one row (`1 × n`) as a vector: a
    /// right-hand side or labels read from a file. A coordinate file's entries that it does
    /// not store are 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use randnla::io::{read_matrix_market, ReadOptions};
    /// let text = "%%MatrixMarket matrix coordinate real general\n4 1 2\n1 1 2.5\n4 1 -1\n";
    /// let b = read_matrix_market(text.as_bytes(), &ReadOptions::default())?.to_vector()?;
    /// assert_eq!(b, [2.5, 0.0, 0.0, -1.0]);
    /// # Ok::<(), randnla::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when the matrix has more than one row and more than one
    /// column; [`Error::Empty`] for a matrix with no rows or no columns (`0 × 1`, `2 × 0`, …);
    /// [`Error::TooLarge`] when the vector cannot be allocated (a sparse matrix built by hand
    /// may declare far more rows than it stores).
    pub fn to_vector(&self) -> Result<Vec<f64>> {
        let (n, d) = (self.nrows(), self.ncols());
        if n > 1 && d > 1 {
            return Err(Error::dim(
                "a vector: one column (n × 1) or one row (1 × n); columns",
                1,
                d,
            ));
        }
        if n == 0 || d == 0 {
            return Err(Error::empty(format!("a {n} × {d} matrix as a vector")));
        }
        let len = n.max(d);
        let mut v = crate::input::filled_or_too_large(len, 0.0, "vector")?;
        match self {
            MatrixMarket::Dense(a) => {
                for (k, vk) in v.iter_mut().enumerate() {
                    *vk = if d == 1 { a[(k, 0)] } else { a[(0, k)] };
                }
            }
            MatrixMarket::Sparse(a) => {
                for (&val, (i, j)) in a.iter() {
                    v[i.max(j)] = val;
                }
            }
        }
        Ok(v)
    }

    /// A validated view for the crate's solvers.
    ///
    /// # Errors
    /// A matrix returned by the readers always converts. One built by hand (the variants are
    /// public) gives [`Error::NonFinite`] for a NaN or infinite value.
    pub fn view(&self) -> Result<MatrixRef<'_, f64>> {
        match self {
            MatrixMarket::Sparse(a) => MatrixRef::sparse(a),
            MatrixMarket::Dense(a) => MatrixRef::dense(a.as_ref()),
        }
    }
}

/// Reads a Matrix Market file: coordinate → [`MatrixMarket::Sparse`] (CSR), array →
/// [`MatrixMarket::Dense`]. See the [module documentation](self) for the rules.
///
/// # Errors
/// [`Error::Parse`] with the line number for malformed or unsupported input (including invalid
/// UTF-8); [`Error::TooLarge`] when the declared size exceeds `opts.max_elements`;
/// [`Error::Io`] when the reader fails, or with kind `OutOfMemory` when an allocation fails.
///
/// # Performance
/// One pass over the input. Coordinate files: O(nnz log nnz) time (a sort within each row) and
/// about 40 bytes per stored entry at peak. Array files: about twice the dense matrix at peak.
pub fn read_matrix_market<R: BufRead>(reader: R, opts: &ReadOptions) -> Result<MatrixMarket> {
    read_impl(reader, opts, Target::Auto, "reading Matrix Market data")
}

/// [`read_matrix_market`] on a file.
///
/// # Errors
/// As [`read_matrix_market`]; an [`Error::Io`] (file missing, unreadable) names the path.
pub fn read_matrix_market_path(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<MatrixMarket> {
    let path = path.as_ref();
    let reader = open(path)?;
    read_impl(
        reader,
        opts,
        Target::Auto,
        &format!("reading {}", path.display()),
    )
}

/// Reads a coordinate-format file as a sparse matrix in the requested storage order.
///
/// # Errors
/// As [`read_matrix_market`]; an array-format file is an [`Error::Parse`] on line 1 (use
/// [`read_dense`] or [`read_matrix_market`] for those). With [`Layout::Csc`] the fixed part of
/// the limit is `2·ncols + 1` (index pointers and a cursor per column; see
/// [`ReadOptions::max_elements`]).
pub fn read_sparse<R: BufRead>(
    reader: R,
    layout: Layout,
    opts: &ReadOptions,
) -> Result<sprs::CsMat<f64>> {
    into_sparse(read_impl(
        reader,
        opts,
        Target::Sparse(layout),
        "reading Matrix Market data",
    )?)
}

/// [`read_sparse`] on a file.
///
/// # Errors
/// As [`read_sparse`]; an [`Error::Io`] names the path.
pub fn read_sparse_path(
    path: impl AsRef<Path>,
    layout: Layout,
    opts: &ReadOptions,
) -> Result<sprs::CsMat<f64>> {
    let path = path.as_ref();
    let reader = open(path)?;
    into_sparse(read_impl(
        reader,
        opts,
        Target::Sparse(layout),
        &format!("reading {}", path.display()),
    )?)
}

/// Reads a file as a dense matrix: array format directly, coordinate format densified (duplicates
/// summed, absent entries zero).
///
/// # Errors
/// As [`read_matrix_market`]; in addition a coordinate file whose `nrows · ncols` exceeds
/// `opts.max_elements` is an [`Error::TooLarge`].
pub fn read_dense<R: BufRead>(reader: R, opts: &ReadOptions) -> Result<faer::Mat<f64>> {
    into_dense(read_impl(
        reader,
        opts,
        Target::Dense,
        "reading Matrix Market data",
    )?)
}

/// [`read_dense`] on a file.
///
/// # Errors
/// As [`read_dense`]; an [`Error::Io`] names the path.
pub fn read_dense_path(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<faer::Mat<f64>> {
    let path = path.as_ref();
    let reader = open(path)?;
    into_dense(read_impl(
        reader,
        opts,
        Target::Dense,
        &format!("reading {}", path.display()),
    )?)
}

/// Writes a sparse matrix as `coordinate real general` with 1-based indices, entries in storage
/// order (row by row for CSR, column by column for CSC), values in shortest round-trip form.
///
/// # Errors
/// [`Error::Io`] when the writer fails. (A [`SparseRef`] is validated, so every value is finite.)
pub fn write_sparse<W: Write>(w: W, a: &SparseRef<'_, f64>) -> Result<()> {
    write_sparse_impl(w, a, "writing Matrix Market data")
}

/// [`write_sparse`] to a file (created or truncated), through a [`BufWriter`].
///
/// # Errors
/// [`Error::Io`] naming the path when the file cannot be created or written.
pub fn write_sparse_path(path: impl AsRef<Path>, a: &SparseRef<'_, f64>) -> Result<()> {
    let path = path.as_ref();
    let file = create(path)?;
    write_sparse_impl(file, a, &format!("writing {}", path.display()))
}

/// Writes a dense matrix as `array real general`: the size line, then one value per line in
/// column-major order, in shortest round-trip form.
///
/// # Errors
/// [`Error::NonFinite`] (before anything is written) when a value is NaN or infinite, since the
/// file could not be read back; [`Error::Io`] when the writer fails.
pub fn write_dense<W: Write>(w: W, a: faer::MatRef<'_, f64>) -> Result<()> {
    check_finite_dense(a, "matrix to write")?;
    write_dense_impl(w, a, "writing Matrix Market data")
}

/// [`write_dense`] to a file (created or truncated), through a [`BufWriter`].
///
/// # Errors
/// As [`write_dense`] (the values are checked before the file is created); an [`Error::Io`]
/// names the path.
pub fn write_dense_path(path: impl AsRef<Path>, a: faer::MatRef<'_, f64>) -> Result<()> {
    let path = path.as_ref();
    check_finite_dense(a, "matrix to write")?;
    let file = create(path)?;
    write_dense_impl(file, a, &format!("writing {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Writing

fn write_sparse_impl<W: Write>(w: W, a: &SparseRef<'_, f64>, context: &str) -> Result<()> {
    let io = |e: std::io::Error| Error::io(&e, context);
    let mut out = BufWriter::new(w);
    writeln!(out, "%%MatrixMarket matrix coordinate real general").map_err(io)?;
    writeln!(out, "% written by randnla").map_err(io)?;
    writeln!(out, "{} {} {}", a.nrows(), a.ncols(), a.nnz()).map_err(io)?;
    for k in 0..a.outer_dim() {
        let (idx, val) = a.outer(k);
        for (&i, &v) in idx.iter().zip(val) {
            let (r, c) = match a.layout() {
                Layout::Csr => (k, i),
                Layout::Csc => (i, k),
            };
            writeln!(out, "{} {} {:e}", r + 1, c + 1, v).map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

fn write_dense_impl<W: Write>(w: W, a: faer::MatRef<'_, f64>, context: &str) -> Result<()> {
    let io = |e: std::io::Error| Error::io(&e, context);
    let mut out = BufWriter::new(w);
    writeln!(out, "%%MatrixMarket matrix array real general").map_err(io)?;
    writeln!(out, "% written by randnla").map_err(io)?;
    writeln!(out, "{} {}", a.nrows(), a.ncols()).map_err(io)?;
    if a.nrows() == 0 {
        // No values to write; walking the columns of a `0 × 2^62` view took centuries.
        return out.flush().map_err(io);
    }
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            writeln!(out, "{:e}", a[(i, j)]).map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

fn create(path: &Path) -> Result<File> {
    File::create(path).map_err(|e| Error::io(&e, &format!("creating {}", path.display())))
}

fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| Error::io(&e, &format!("opening {}", path.display())))
}

// ---------------------------------------------------------------------------------------------
// Reading: header

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Coordinate,
    Array,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Real,
    Integer,
    Pattern,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Symmetry {
    General,
    Symmetric,
    Skew,
}

impl Symmetry {
    fn name(self) -> &'static str {
        match self {
            Symmetry::General => "general",
            Symmetry::Symmetric => "symmetric",
            Symmetry::Skew => "skew-symmetric",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    format: Format,
    field: Field,
    symmetry: Symmetry,
}

/// What the caller wants back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// Coordinate → CSR, array → dense.
    Auto,
    /// Coordinate only, in this storage order.
    Sparse(Layout),
    /// Dense whatever the format.
    Dense,
}

/// Quotes a token for an error message, shortened when long.
fn quote(tok: &str) -> String {
    if tok.chars().count() <= MAX_QUOTE_CHARS {
        format!("`{tok}`")
    } else {
        let head: String = tok.chars().take(MAX_QUOTE_CHARS).collect();
        format!("`{head}…`")
    }
}

fn parse_header(raw: &[u8]) -> Result<Header> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let text = std::str::from_utf8(raw.trim_ascii())
        .map_err(|_| Error::parse(1, format!("header is not valid UTF-8; {HEADER_HELP}")))?;
    let tokens: Vec<&str> = text.split_ascii_whitespace().take(6).collect();
    match tokens.first() {
        Some(t) if t.eq_ignore_ascii_case("%%MatrixMarket") => {}
        _ => {
            return Err(Error::parse(
                1,
                format!("missing the `%%MatrixMarket` header; {HEADER_HELP}"),
            ))
        }
    }
    if tokens.len() != 5 {
        let found = if tokens.len() > 5 {
            "more than 5".to_string()
        } else {
            tokens.len().to_string()
        };
        return Err(Error::parse(
            1,
            format!(
                "header has {found} words, 5 expected; {HEADER_HELP}{}",
                stray_cr(raw)
            ),
        ));
    }
    let lower: Vec<String> = tokens.iter().map(|t| t.to_ascii_lowercase()).collect();
    if lower[1] != "matrix" {
        return Err(Error::parse(
            1,
            format!(
                "object {} is not supported, only `matrix`; {HEADER_HELP}",
                quote(tokens[1])
            ),
        ));
    }
    let format = match lower[2].as_str() {
        "coordinate" => Format::Coordinate,
        "array" => Format::Array,
        _ => {
            return Err(Error::parse(
                1,
                format!(
                    "unknown format {}; expected `coordinate` or `array`",
                    quote(tokens[2])
                ),
            ))
        }
    };
    let field = match lower[3].as_str() {
        "real" => Field::Real,
        "integer" => Field::Integer,
        "pattern" => Field::Pattern,
        "complex" => {
            return Err(Error::parse(
                1,
                "field `complex` is not supported; only `real`, `integer` and `pattern` are",
            ))
        }
        _ => {
            return Err(Error::parse(
                1,
                format!(
                    "unknown field {}; expected `real`, `integer` or `pattern`",
                    quote(tokens[3])
                ),
            ))
        }
    };
    let symmetry = match lower[4].as_str() {
        "general" => Symmetry::General,
        "symmetric" => Symmetry::Symmetric,
        "skew-symmetric" => Symmetry::Skew,
        "hermitian" => {
            return Err(Error::parse(
                1,
                "symmetry `hermitian` is not supported; only `general`, `symmetric` and \
                 `skew-symmetric` are",
            ))
        }
        _ => {
            return Err(Error::parse(
                1,
                format!(
                    "unknown symmetry {}; expected `general`, `symmetric` or `skew-symmetric`",
                    quote(tokens[4])
                ),
            ))
        }
    };
    if format == Format::Array && field == Field::Pattern {
        return Err(Error::parse(
            1,
            "field `pattern` is only valid with the `coordinate` format",
        ));
    }
    if field == Field::Pattern && symmetry == Symmetry::Skew {
        // The Matrix Market format allows skew-symmetry only with values (real, integer,
        // complex): a pattern has no value to negate, and reading one would invent −1s.
        return Err(Error::parse(
            1,
            "field `pattern` cannot be `skew-symmetric` (there are no values to negate)",
        ));
    }
    Ok(Header {
        format,
        field,
        symmetry,
    })
}

// ---------------------------------------------------------------------------------------------
// Reading: lines and fields

/// Reads a byte stream line by line, counting lines, with a cap on line length.
struct Lines<'c, R> {
    reader: R,
    buf: Vec<u8>,
    /// 1-based number of the line in `buf` (0 before the first line).
    line: usize,
    /// The first skipped comment line that holds a carriage return before its end: with
    /// `\r`-only line endings, everything after it reads as part of that comment.
    cr_comment: Option<usize>,
    context: &'c str,
}

impl<'c, R: BufRead> Lines<'c, R> {
    fn new(reader: R, context: &'c str) -> Self {
        Lines {
            reader,
            buf: Vec::new(),
            line: 0,
            cr_comment: None,
            context,
        }
    }

    /// Loads the next line into `buf`; `false` at end of input.
    fn advance(&mut self) -> Result<bool> {
        self.buf.clear();
        let n = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 2)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| Error::io(&e, self.context))?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        // The limit excludes the line ending, `\n` or `\r\n`.
        let mut content = self.buf.len();
        if self.buf.last() == Some(&b'\n') {
            content -= 1;
            if content > 0 && self.buf[content - 1] == b'\r' {
                content -= 1;
            }
        }
        if content > MAX_LINE_BYTES {
            return Err(Error::parse(
                self.line,
                format!(
                    "line is longer than {MAX_LINE_BYTES} bytes{}",
                    stray_cr(&self.buf[..content])
                ),
            ));
        }
        Ok(true)
    }

    /// Advances to the next line that is neither blank nor a comment; `false` at end of input.
    fn skip_to_data(&mut self) -> Result<bool> {
        loop {
            if !self.advance()? {
                return Ok(false);
            }
            let t = self.buf.trim_ascii();
            if !t.is_empty() && t[0] != b'%' {
                return Ok(true);
            }
            if self.cr_comment.is_none() && t.contains(&b'\r') {
                self.cr_comment = Some(self.line);
            }
        }
    }

    /// Appended to an error at the end of the input: names the comment line that may have
    /// swallowed the rest of the file (see [`Lines::cr_comment`]); `""` when there is none.
    fn eof_hint(&self) -> String {
        match self.cr_comment {
            Some(line) => format!(
                "; line {line} is a comment that contains a carriage return (`\\r`) before its \
                 end: lines must end with `\\n` or `\\r\\n`, and with `\\r`-only line \
                 endings the rest of the file reads as part of that comment"
            ),
            None => String::new(),
        }
    }

    /// The current line, trimmed and decoded, with its line number.
    fn current(&self) -> Result<(usize, &str)> {
        let trimmed = self.buf.trim_ascii();
        std::str::from_utf8(trimmed)
            .map(|text| (self.line, text))
            .map_err(|e| {
                // The position counts from the start of the line, not of its trimmed text
                // (leading blanks and tabs were cut off before decoding).
                let lead = self.buf.len() - self.buf.trim_ascii_start().len();
                Error::parse(
                    self.line,
                    format!(
                        "invalid UTF-8 at byte {} of the line; the file must be ASCII text",
                        lead + e.valid_up_to() + 1
                    ),
                )
            })
    }

    /// The next line that is neither blank nor a comment, trimmed, with its line number.
    fn next_data(&mut self) -> Result<Option<(usize, &str)>> {
        if self.skip_to_data()? {
            self.current().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Splits a line into exactly `N` whitespace-separated fields.
fn fields<'t, const N: usize>(text: &'t str, line: usize, names: &str) -> Result<[&'t str; N]> {
    let mut out: [&'t str; N] = [""; N];
    let mut found = 0usize;
    for tok in text.split_ascii_whitespace() {
        if found < N {
            out[found] = tok;
        }
        found += 1;
    }
    if found != N {
        let fields = if N == 1 { "field" } else { "fields" };
        return Err(Error::parse(
            line,
            format!(
                "expected {N} {fields} ({names}), found {found}{}",
                stray_cr(text.as_bytes())
            ),
        ));
    }
    Ok(out)
}

fn parse_count(tok: &str, what: &str, line: usize) -> Result<usize> {
    tok.parse::<usize>().map_err(|_| {
        Error::parse(
            line,
            format!(
                "{what} {} is not a non-negative integer that fits in usize",
                quote(tok)
            ),
        )
    })
}

/// Parses a 1-based index bounded by `dim` and returns it 0-based.
fn parse_index(tok: &str, dim: usize, what: &str, line: usize) -> Result<usize> {
    let k = tok.parse::<usize>().map_err(|_| {
        // A run of digits too long for usize is an integer, just far out of range.
        let digits = tok.strip_prefix('+').unwrap_or(tok);
        let reason = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            format!(
                "{what} index {} is out of range: the size line declares {dim} {what}s \
                 (valid range 1..={dim})",
                quote(tok)
            )
        } else {
            format!("{what} index {} is not a positive integer", quote(tok))
        };
        Error::parse(line, reason)
    })?;
    if k == 0 {
        return Err(Error::parse(
            line,
            format!("{what} index 0 is invalid: indices are 1-based (valid range 1..={dim})"),
        ));
    }
    if k > dim {
        return Err(Error::parse(
            line,
            format!(
                "{what} index {k} is out of range: the size line declares {dim} {what}s \
                 (valid range 1..={dim})"
            ),
        ));
    }
    Ok(k - 1)
}

/// An `integer` field's value: a 64-bit integer, or a parse error naming the token.
fn parse_integer(tok: &str, line: usize) -> Result<i64> {
    tok.parse::<i64>().map_err(|_| {
        Error::parse(
            line,
            format!(
                "value {} is not a 64-bit integer (the header declares the `integer` field)",
                quote(tok)
            ),
        )
    })
}

fn parse_value(tok: &str, field: Field, line: usize) -> Result<f64> {
    let v = match field {
        Field::Pattern => return Ok(1.0),
        Field::Integer => return parse_integer(tok, line).map(|x| x as f64),
        Field::Real => match tok.parse::<f64>() {
            Ok(v) => v,
            Err(_) => {
                let fortran = tok.bytes().any(|b| b == b'd' || b == b'D');
                let retry = if fortran {
                    tok.replace(['d', 'D'], "e").parse::<f64>().ok()
                } else {
                    None
                };
                retry.ok_or_else(|| {
                    Error::parse(line, format!("value {} is not a number", quote(tok)))
                })?
            }
        },
    };
    if !v.is_finite() {
        return Err(Error::parse(
            line,
            format!(
                "value {} is not finite; NaN, infinity and values beyond ±1.8e308 are not supported",
                quote(tok)
            ),
        ));
    }
    Ok(v)
}

fn out_of_memory(what: &str, n: usize) -> Error {
    Error::Io {
        kind: std::io::ErrorKind::OutOfMemory,
        message: format!("could not allocate {n} elements for {what}"),
    }
}

/// One thing a declared size makes the reader allocate, for [`check_needs`].
struct Need {
    /// The file is refused when this exceeds the limit.
    least: u128,
    /// What is reported then: the most the read can allocate (for a symmetric file, with every
    /// listed entry mirrored), so that one raise of the limit is enough.
    most: u128,
    what: String,
}

/// Checks a declared size against [`ReadOptions::max_elements`]: each declared dimension (even
/// when nothing is stored: an empty `0 × (2^64 − 1)` matrix is otherwise a loop over every column
/// for whoever reads it) and each of `storage`. When one exceeds the limit, the error reports the
/// largest need, so that raising the limit to the reported count reads the file (reporting the
/// first failed check instead asked for 300 elements, then 1801, for one 300 × 20 file).
fn check_needs(nrows: usize, ncols: usize, storage: Vec<Need>, opts: &ReadOptions) -> Result<()> {
    let limit = u128::from(opts.max_elements);
    let dims = nrows.max(ncols) as u128;
    if dims <= limit && storage.iter().all(|n| n.least <= limit) {
        return Ok(());
    }
    let mut worst = Need {
        least: dims,
        most: dims,
        what: format!("the declared dimensions {nrows}×{ncols} (each one is bounded by the limit)"),
    };
    for need in storage {
        if need.most >= worst.most {
            worst = need;
        }
    }
    Err(Error::TooLarge {
        what: worst.what,
        requested: worst.most,
        limit,
    })
}

/// A vector of `len` copies of `value`, or an error instead of an abort when memory is short.
fn try_filled<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| out_of_memory(what, len))?;
    v.resize(len, value);
    Ok(v)
}

/// Pushes with amortized growth, never reserving room for more than `most` elements in all (the
/// most the caller will push: what the size line declares), turning allocation failure into an
/// error. Plain doubling went past the declared count: room for 2^24 values for a file of
/// 2^23 + 1.
fn try_push<T>(v: &mut Vec<T>, x: T, most: usize, what: &str) -> Result<()> {
    if v.len() == v.capacity() {
        let extra = v.len().min(most.saturating_sub(v.len())).max(1);
        v.try_reserve_exact(extra)
            .map_err(|_| out_of_memory(what, v.len().saturating_add(extra)))?;
    }
    v.push(x);
    Ok(())
}

/// A zero `nrows × ncols` matrix, or an error instead of a panic when it cannot be allocated.
fn try_zeros(nrows: usize, ncols: usize) -> Result<faer::Mat<f64>> {
    let mut m = faer::Mat::<f64>::new();
    m.try_reserve(nrows, ncols).map_err(|_| {
        out_of_memory(
            &format!("a dense {nrows}×{ncols} matrix"),
            nrows.saturating_mul(ncols),
        )
    })?;
    m.resize_with(nrows, ncols, |_, _| 0.0);
    Ok(m)
}

// ---------------------------------------------------------------------------------------------
// Reading: the formats

fn read_impl<R: BufRead>(
    reader: R,
    opts: &ReadOptions,
    target: Target,
    context: &str,
) -> Result<MatrixMarket> {
    read_unnamed(reader, opts, target, context).map_err(|e| match e {
        // Allocation failures are detected where the file is not known: name it, as the
        // reader's own I/O errors do (callers such as the examples print `Io` errors as they
        // are, trusting them to name the file).
        Error::Io {
            kind: kind @ std::io::ErrorKind::OutOfMemory,
            message,
        } if !message.starts_with(context) => Error::Io {
            kind,
            message: format!("{context}: {message}"),
        },
        e => e,
    })
}

fn read_unnamed<R: BufRead>(
    reader: R,
    opts: &ReadOptions,
    target: Target,
    context: &str,
) -> Result<MatrixMarket> {
    let mut lines = Lines::new(reader, context);
    if !lines.advance()? {
        return Err(Error::parse(
            1,
            format!("the input is empty; {HEADER_HELP}"),
        ));
    }
    let header = parse_header(&lines.buf)?;
    match header.format {
        Format::Coordinate => {
            let layout = match target {
                Target::Sparse(layout) => layout,
                Target::Auto | Target::Dense => Layout::Csr,
            };
            let want_dense = target == Target::Dense;
            let mut a = if header.field == Field::Integer {
                // Exact integers, so that duplicates are summed exactly and rounded once.
                let (nrows, ncols, entries) =
                    read_coordinate::<_, i128>(&mut lines, header, opts, layout, want_dense)?;
                build_compressed(nrows, ncols, layout, entries)?
            } else {
                let (nrows, ncols, entries) =
                    read_coordinate::<_, f64>(&mut lines, header, opts, layout, want_dense)?;
                build_compressed(nrows, ncols, layout, entries)?
            };
            if header.field == Field::Pattern {
                // A pattern lists positions: a repeated one is still a 1, not a sum.
                a.data_mut().iter_mut().for_each(|v| *v = 1.0);
            }
            if want_dense {
                densify(&a).map(MatrixMarket::Dense)
            } else {
                Ok(MatrixMarket::Sparse(a))
            }
        }
        Format::Array => {
            if let Target::Sparse(_) = target {
                return Err(Error::parse(
                    1,
                    "the file is in `array` (dense) format, but a sparse matrix was requested, \
                     which needs the `coordinate` format; read it with `read_dense` or \
                     `read_matrix_market`",
                ));
            }
            read_array(&mut lines, header, opts).map(MatrixMarket::Dense)
        }
    }
}

fn into_sparse(m: MatrixMarket) -> Result<sprs::CsMat<f64>> {
    match m {
        MatrixMarket::Sparse(a) => Ok(a),
        MatrixMarket::Dense(_) => Err(Error::parse(
            1,
            "internal error: a dense matrix was produced where a sparse one was requested",
        )),
    }
}

fn into_dense(m: MatrixMarket) -> Result<faer::Mat<f64>> {
    match m {
        MatrixMarket::Dense(a) => Ok(a),
        MatrixMarket::Sparse(a) => densify(&a),
    }
}

/// Reads the size line; a missing one is an error naming the last line of the file.
fn size_line<'a, R: BufRead>(
    lines: &'a mut Lines<'_, R>,
    expected: &str,
) -> Result<(usize, &'a str)> {
    if !lines.skip_to_data()? {
        return Err(Error::parse(
            lines.line.max(1),
            format!(
                "the file ends before the size line; expected `{expected}`{}",
                lines.eof_hint()
            ),
        ));
    }
    lines.current()
}

#[derive(Clone, Copy, Debug)]
struct Triplet<V> {
    row: usize,
    col: usize,
    val: V,
}

/// A coordinate entry's value as read, before duplicates are summed: the `f64` of a `real` or
/// `pattern` entry, or the exact integer of an `integer` one. Integers are kept exact (in
/// `i128`, so that a skew-symmetric mirror of `i64::MIN` and any sum of the `i64` terms a file
/// can hold fit) and rounded to `f64` once, after their duplicates are summed: rounding each
/// term first read `2⁵³, 1, 1` as `2⁵³`, not `2⁵³ + 2`.
trait EntryValue: Copy + Default {
    /// A `pattern` entry's value.
    const ONE: Self;
    fn parse(tok: &str, field: Field, line: usize) -> Result<Self>;
    fn neg(self) -> Self;
    /// The `f64` of one position's values summed in file order (±∞ when the sum is beyond
    /// `±f64::MAX`, for the caller to refuse).
    fn sum(group: &[(usize, Self)]) -> f64;
}

impl EntryValue for f64 {
    const ONE: Self = 1.0;
    fn parse(tok: &str, field: Field, line: usize) -> Result<Self> {
        parse_value(tok, field, line)
    }
    fn neg(self) -> Self {
        -self
    }
    fn sum(group: &[(usize, Self)]) -> f64 {
        sum_duplicates(group)
    }
}

impl EntryValue for i128 {
    const ONE: Self = 1;
    fn parse(tok: &str, _field: Field, line: usize) -> Result<Self> {
        parse_integer(tok, line).map(i128::from)
    }
    fn neg(self) -> Self {
        -self
    }
    fn sum(group: &[(usize, Self)]) -> f64 {
        // At most 2⁶³ per term: no count of terms that fits in memory reaches `i128::MAX`.
        // The cast rounds to the nearest `f64`, ties to even.
        group.iter().fold(0i128, |acc, p| acc.saturating_add(p.1)) as f64
    }
}

fn read_coordinate<R: BufRead, V: EntryValue>(
    lines: &mut Lines<'_, R>,
    header: Header,
    opts: &ReadOptions,
    layout: Layout,
    want_dense: bool,
) -> Result<(usize, usize, Vec<Triplet<V>>)> {
    let (size_no, text) = size_line(lines, "M N NNZ (rows, columns, stored entries)")?;
    let [m, n, k] = fields::<3>(text, size_no, "rows, columns, stored entries")?;
    let nrows = parse_count(m, "row count", size_no)?;
    let ncols = parse_count(n, "column count", size_no)?;
    let nnz = parse_count(k, "entry count", size_no)?;
    let symmetry = header.symmetry;
    if symmetry != Symmetry::General && nrows != ncols {
        return Err(Error::parse(
            size_no,
            format!(
                "a {} matrix must be square, but the size line declares {nrows}×{ncols}",
                symmetry.name()
            ),
        ));
    }
    let outer = match layout {
        Layout::Csr => nrows,
        Layout::Csc => ncols,
    };
    // The index pointers and one cursor per outer slice (see `build_compressed`).
    let fixed = 2 * outer as u128 + 1;
    let per_entry = if symmetry == Symmetry::General { 1 } else { 2 };
    // What a file that fails the limit is reported to need: for a symmetric or skew file the
    // bound with every listed entry mirrored, so that one raise of the limit is enough.
    let bound = fixed + per_entry as u128 * nnz as u128;
    let sized = || {
        if per_entry == 1 {
            format!("a sparse {nrows}×{ncols} matrix with {nnz} stored entries (index pointers plus entries)")
        } else {
            format!(
                "a {} {nrows}×{ncols} matrix with {nnz} listed entries (index pointers plus \
                 entries, each counted twice for its mirror image)",
                symmetry.name()
            )
        }
    };
    // Refused when even the listed entries do not fit; reported with the mirrored bound.
    let mut needs = vec![Need {
        least: fixed + nnz as u128,
        most: bound,
        what: sized(),
    }];
    if want_dense {
        let dense = nrows as u128 * ncols as u128;
        needs.push(Need {
            least: dense,
            most: dense,
            what: format!("a dense {nrows}×{ncols} matrix"),
        });
    }
    check_needs(nrows, ncols, needs, opts)?;
    let stored_limit = u128::from(opts.max_elements) - fixed;

    let mut entries: Vec<Triplet<V>> = Vec::new();
    // No valid file lists more than `nnz` entries (mirrored: up to `per_entry · nnz`), and none
    // may store more than `stored_limit`.
    let most_entries = usize::try_from(stored_limit)
        .unwrap_or(usize::MAX)
        .min(nnz.saturating_mul(per_entry));
    let initial = most_entries.min(MAX_INITIAL_RESERVE);
    entries
        .try_reserve_exact(initial)
        .map_err(|_| out_of_memory("the entries", initial))?;
    let push = |entries: &mut Vec<Triplet<V>>, t: Triplet<V>| -> Result<()> {
        if entries.len() as u128 >= stored_limit {
            return Err(Error::TooLarge {
                what: sized(),
                requested: bound.max(fixed + entries.len() as u128 + 1),
                limit: u128::from(opts.max_elements),
            });
        }
        try_push(entries, t, most_entries, "the entries")
    };

    let mut count = 0usize;
    // The first off-diagonal entry's line and whether it lay above the diagonal: a symmetric or
    // skew-symmetric file stores one triangle, and one that lists both would be doubled.
    let mut triangle: Option<(usize, bool)> = None;
    while let Some((line, text)) = lines.next_data()? {
        if count == nnz {
            return Err(Error::parse(
                line,
                format!("more entries than the {nnz} declared on line {size_no}"),
            ));
        }
        let (row, col, val) = if header.field == Field::Pattern {
            let [i, j] = fields::<2>(text, line, "row, column")?;
            (
                parse_index(i, nrows, "row", line)?,
                parse_index(j, ncols, "column", line)?,
                V::ONE,
            )
        } else {
            let [i, j, v] = fields::<3>(text, line, "row, column, value")?;
            (
                parse_index(i, nrows, "row", line)?,
                parse_index(j, ncols, "column", line)?,
                V::parse(v, header.field, line)?,
            )
        };
        count += 1;
        if row == col && symmetry == Symmetry::Skew {
            return Err(Error::parse(
                line,
                format!(
                    "diagonal entry ({}, {}) in a skew-symmetric matrix; its diagonal is zero \
                     and must not be stored",
                    row + 1,
                    col + 1
                ),
            ));
        }
        if row != col && symmetry != Symmetry::General {
            let upper = row < col;
            match triangle {
                None => triangle = Some((line, upper)),
                Some((first, was_upper)) if was_upper != upper => {
                    let side = |u: bool| if u { "above" } else { "below" };
                    return Err(Error::parse(
                        line,
                        format!(
                            "entry ({}, {}) lies {} the diagonal, but line {first} listed one {} \
                             it: a {} file stores one triangle (each entry stands for its mirror \
                             too), so both would count twice; declare the file `general`",
                            row + 1,
                            col + 1,
                            side(upper),
                            side(was_upper),
                            symmetry.name()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        push(&mut entries, Triplet { row, col, val })?;
        if row != col {
            match symmetry {
                Symmetry::General => {}
                Symmetry::Symmetric => push(
                    &mut entries,
                    Triplet {
                        row: col,
                        col: row,
                        val,
                    },
                )?,
                Symmetry::Skew => push(
                    &mut entries,
                    Triplet {
                        row: col,
                        col: row,
                        val: val.neg(),
                    },
                )?,
            }
        }
    }
    if count < nnz {
        return Err(Error::parse(
            lines.line,
            format!(
                "the file ends early (truncated?): expected {nnz} entries, found {count}{}",
                lines.eof_hint()
            ),
        ));
    }
    Ok((nrows, ncols, entries))
}

fn read_array<R: BufRead>(
    lines: &mut Lines<'_, R>,
    header: Header,
    opts: &ReadOptions,
) -> Result<faer::Mat<f64>> {
    let (size_no, text) = size_line(lines, "M N (rows, columns)")?;
    let [m, n] = fields::<2>(text, size_no, "rows, columns")?;
    let nrows = parse_count(m, "row count", size_no)?;
    let ncols = parse_count(n, "column count", size_no)?;
    let symmetry = header.symmetry;
    if symmetry != Symmetry::General && nrows != ncols {
        return Err(Error::parse(
            size_no,
            format!(
                "a {} matrix must be square, but the size line declares {nrows}×{ncols}",
                symmetry.name()
            ),
        ));
    }
    let dense = nrows as u128 * ncols as u128;
    let need = Need {
        least: dense,
        most: dense,
        what: format!("a dense {nrows}×{ncols} matrix"),
    };
    check_needs(nrows, ncols, vec![need], opts)?;
    let n128 = nrows as u128;
    let expected = match symmetry {
        Symmetry::General => dense,
        Symmetry::Symmetric => n128 * (n128 + 1) / 2,
        Symmetry::Skew => n128 * n128.saturating_sub(1) / 2,
    };
    // `expected <= dense <= max_elements`; it only fails to fit a usize on narrow targets.
    let expected = usize::try_from(expected).map_err(|_| Error::TooLarge {
        what: format!("a dense {nrows}×{ncols} matrix on this platform"),
        requested: expected,
        limit: usize::MAX as u128,
    })?;
    let what = match symmetry {
        Symmetry::General => "values",
        Symmetry::Symmetric => "values (lower triangle, column by column)",
        Symmetry::Skew => "values (strict lower triangle, column by column)",
    };

    let mut values: Vec<f64> = Vec::new();
    let initial = expected.min(MAX_INITIAL_RESERVE);
    values
        .try_reserve_exact(initial)
        .map_err(|_| out_of_memory("the values", initial))?;
    while let Some((line, text)) = lines.next_data()? {
        if values.len() == expected {
            return Err(Error::parse(
                line,
                format!("more {what} than the {expected} the size line {size_no} implies"),
            ));
        }
        let [v] = fields::<1>(text, line, "value")?;
        let v = parse_value(v, header.field, line)?;
        try_push(&mut values, v, expected, "the values")?;
    }
    if values.len() < expected {
        return Err(Error::parse(
            lines.line,
            format!(
                "the file ends early (truncated?): expected {expected} entries, found {}{}",
                values.len(),
                lines.eof_hint()
            ),
        ));
    }

    let mut a = try_zeros(nrows, ncols)?;
    if expected == 0 {
        // Nothing to place (and an empty dimension must not be walked).
        return Ok(a);
    }
    let mut k = 0usize;
    match symmetry {
        Symmetry::General => {
            for j in 0..ncols {
                for i in 0..nrows {
                    a[(i, j)] = values[k];
                    k += 1;
                }
            }
        }
        Symmetry::Symmetric => {
            for j in 0..ncols {
                for i in j..nrows {
                    a[(i, j)] = values[k];
                    a[(j, i)] = values[k];
                    k += 1;
                }
            }
        }
        Symmetry::Skew => {
            for j in 0..ncols {
                for i in (j + 1)..nrows {
                    a[(i, j)] = values[k];
                    a[(j, i)] = -values[k];
                    k += 1;
                }
            }
        }
    }
    Ok(a)
}

/// Builds a canonical CSR/CSC matrix from triplets: count, prefix-sum, scatter, stable sort of
/// each outer slice (so duplicates are summed in file order), then each group of duplicates
/// summed ([`EntryValue::sum`]) into the stored values.
fn build_compressed<V: EntryValue>(
    nrows: usize,
    ncols: usize,
    layout: Layout,
    entries: Vec<Triplet<V>>,
) -> Result<sprs::CsMat<f64>> {
    let (outer_n, key) = match layout {
        Layout::Csr => (
            nrows,
            (|t: &Triplet<V>| (t.row, t.col)) as fn(&Triplet<V>) -> (usize, usize),
        ),
        Layout::Csc => (
            ncols,
            (|t: &Triplet<V>| (t.col, t.row)) as fn(&Triplet<V>) -> (usize, usize),
        ),
    };
    let len = outer_n
        .checked_add(1)
        .ok_or_else(|| out_of_memory("the index pointers", usize::MAX))?;
    let mut indptr = try_filled(len, 0usize, "the index pointers")?;
    for t in &entries {
        let (o, _) = key(t);
        indptr[o + 1] += 1;
    }
    for k in 0..outer_n {
        indptr[k + 1] += indptr[k];
    }
    let nnz = entries.len();
    let mut next = try_filled(outer_n, 0usize, "the index pointers")?;
    next.copy_from_slice(&indptr[..outer_n]);
    let mut pairs = try_filled(nnz, (0usize, V::default()), "the entries")?;
    for t in &entries {
        let (o, i) = key(t);
        pairs[next[o]] = (i, t.val);
        next[o] += 1;
    }
    drop(next);
    drop(entries);

    // Each outer slice sorted (stably: duplicates stay in file order); the distinct positions
    // counted, so that the output is reserved at its final size.
    let mut distinct = 0usize;
    for k in 0..outer_n {
        let slice = &mut pairs[indptr[k]..indptr[k + 1]];
        slice.sort_by_key(|p| p.0);
        distinct += slice.chunk_by(|p, q| p.0 == q.0).count();
    }
    let mut indices = Vec::new();
    indices
        .try_reserve_exact(distinct)
        .map_err(|_| out_of_memory("the indices", distinct))?;
    let mut data = Vec::new();
    data.try_reserve_exact(distinct)
        .map_err(|_| out_of_memory("the values", distinct))?;
    // `indptr[k + 1]` becomes the output's pointer as slice `k` is summed; `start` keeps the
    // input's.
    let mut start = 0usize;
    for k in 0..outer_n {
        let end = indptr[k + 1];
        for group in pairs[start..end].chunk_by(|p, q| p.0 == q.0) {
            let (i, v) = (group[0].0, V::sum(group));
            if !v.is_finite() {
                let (r, c) = match layout {
                    Layout::Csr => (k, i),
                    Layout::Csc => (i, k),
                };
                return Err(Error::parse(
                    0,
                    format!(
                        "duplicate entries at row {}, column {} (1-based) sum to a non-finite value",
                        r + 1,
                        c + 1
                    ),
                ));
            }
            indices.push(i);
            data.push(v);
        }
        indptr[k + 1] = indices.len();
        start = end;
    }
    drop(pairs);
    let built = match layout {
        Layout::Csr => sprs::CsMat::try_new((nrows, ncols), indptr, indices, data),
        Layout::Csc => sprs::CsMat::try_new_csc((nrows, ncols), indptr, indices, data),
    };
    built.map_err(|(_, _, _, e)| {
        Error::structure(format!("internal error building the sparse matrix: {e}"))
    })
}

/// The sum of one position's values in file order. When that overflows although the result may
/// not (`MAX + MAX − MAX`), it is recomputed with every term scaled by `2^-k`, `2^k ≥` the number
/// of terms, so that no partial sum can overflow, and scaled back: the file-order sum as if the
/// exponent range were unbounded (exact scaling, except for terms below about `2^(k − 1022)`,
/// which then round as subnormals). A sum beyond `±f64::MAX` stays infinite, for the caller to
/// refuse.
fn sum_duplicates(group: &[(usize, f64)]) -> f64 {
    // Starting from the first term (not from 0.0) keeps a lone `-0.0`.
    let sum = group[1..].iter().fold(group[0].1, |acc, p| acc + p.1);
    if sum.is_finite() {
        return sum;
    }
    // The terms are finite, so an infinite sum has `len ≥ 2` terms and `1 ≤ k ≤ 64`: both
    // scale factors are normal numbers.
    let k = (usize::BITS - (group.len() - 1).leading_zeros()) as i32;
    let down = 2f64.powi(-k);
    let scaled = group[1..]
        .iter()
        .fold(group[0].1 * down, |acc, p| acc + p.1 * down);
    scaled * 2f64.powi(k)
}

/// Scatters a (canonical) sparse matrix into a new dense one.
fn densify(a: &sprs::CsMat<f64>) -> Result<faer::Mat<f64>> {
    let mut out = try_zeros(a.rows(), a.cols())?;
    let csr = a.is_csr();
    for (k, vec) in a.outer_iterator().enumerate() {
        for (i, &v) in vec.iter() {
            if csr {
                out[(k, i)] = v;
            } else {
                out[(i, k)] = v;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Result<Header> {
        parse_header(s.as_bytes())
    }

    #[test]
    fn header_tokens_are_case_insensitive_and_bom_is_ignored() {
        let h = header("%%matrixmarket MATRIX Coordinate Integer Skew-Symmetric \r\n").unwrap();
        assert_eq!(
            h,
            Header {
                format: Format::Coordinate,
                field: Field::Integer,
                symmetry: Symmetry::Skew
            }
        );
        let h =
            parse_header(b"\xEF\xBB\xBF%%MatrixMarket matrix array integer symmetric\n").unwrap();
        assert_eq!(h.format, Format::Array);
        assert_eq!(h.field, Field::Integer);
        assert_eq!(h.symmetry, Symmetry::Symmetric);
    }

    #[test]
    fn header_rejections_say_why() {
        let cases = [
            (
                "%%MatrixMarket matrix coordinate complex general",
                "complex",
            ),
            (
                "%%MatrixMarket matrix coordinate real hermitian",
                "hermitian",
            ),
            ("%%MatrixMarket vector coordinate real general", "object"),
            (
                "%%MatrixMarket matrix sparse real general",
                "unknown format",
            ),
            ("%%MatrixMarket matrix coordinate real", "4 words"),
            (
                "%%MatrixMarket matrix coordinate real general extra",
                "more than 5",
            ),
            ("%%MatrixMarket matrix array pattern general", "pattern"),
            (
                "MatrixMarket matrix coordinate real general",
                "%%MatrixMarket",
            ),
            ("", "%%MatrixMarket"),
        ];
        for (text, needle) in cases {
            match header(text) {
                Err(Error::Parse { line: 1, reason }) => {
                    assert!(reason.contains(needle), "{text:?}: {reason}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_header(b"%%MatrixMarket matrix \xFF real general"),
            Err(Error::Parse { line: 1, .. })
        ));
    }

    #[test]
    fn field_counts_are_exact() {
        assert_eq!(fields::<3>(" 1  2\t3 ", 7, "x").unwrap(), ["1", "2", "3"]);
        for text in ["1 2", "1 2 3 4", ""] {
            let e = fields::<3>(text, 7, "row, column, value").unwrap_err();
            assert!(matches!(e, Error::Parse { line: 7, .. }), "{e:?}");
        }
        let e = fields::<1>("1 2", 3, "value").unwrap_err();
        assert!(
            e.to_string().contains("expected 1 field (value), found 2"),
            "{e}"
        );
    }

    #[test]
    fn values_parse_strictly() {
        assert_eq!(parse_value("1.5D+02", Field::Real, 1).unwrap(), 150.0);
        assert_eq!(
            parse_value("-0", Field::Real, 1).unwrap().to_bits(),
            (-0.0f64).to_bits()
        );
        assert_eq!(parse_value("-7", Field::Integer, 1).unwrap(), -7.0);
        assert_eq!(parse_value("zzz", Field::Pattern, 1).unwrap(), 1.0);
        for bad in [
            "nan",
            "NaN",
            "inf",
            "-infinity",
            "1e400",
            "1.0.0",
            "0x10",
            "d",
        ] {
            assert!(parse_value(bad, Field::Real, 4).is_err(), "{bad}");
        }
        for bad in ["1.5", "1e3", "99999999999999999999"] {
            assert!(parse_value(bad, Field::Integer, 4).is_err(), "{bad}");
        }
    }

    #[test]
    fn indices_are_one_based_and_bounded() {
        assert_eq!(parse_index("3", 3, "row", 1).unwrap(), 2);
        let e = parse_index("0", 3, "row", 9).unwrap_err();
        assert!(e.to_string().contains("1-based"), "{e}");
        let e = parse_index("4", 3, "column", 9).unwrap_err();
        assert!(e.to_string().contains("1..=3"), "{e}");
        assert!(parse_index("-1", 3, "row", 9).is_err());
        assert!(parse_index("1.0", 3, "row", 9).is_err());
    }

    #[test]
    fn long_tokens_are_shortened_in_messages() {
        let tok = "é".repeat(100);
        let q = quote(&tok);
        assert!(q.chars().count() < 50, "{q}");
        assert_eq!(quote("abc"), "`abc`");
    }

    #[test]
    fn overlong_line_is_an_error_not_an_allocation() {
        let mut text = b"%%MatrixMarket matrix coordinate real general\n".to_vec();
        text.extend(std::iter::repeat_n(b'1', MAX_LINE_BYTES + 5));
        let e = read_matrix_market(&text[..], &ReadOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Parse { line: 2, .. }), "{e:?}");
        // A line of exactly the maximum length is fine (here: a comment).
        let mut text = b"%%MatrixMarket matrix coordinate real general\n%".to_vec();
        text.extend(std::iter::repeat_n(b' ', MAX_LINE_BYTES - 1));
        text.extend(b"\n1 1 0\n");
        assert!(read_matrix_market(&text[..], &ReadOptions::default()).is_ok());
    }

    #[test]
    fn compressed_build_sorts_and_sums_in_both_layouts() {
        let t = |row, col, val| Triplet { row, col, val };
        let entries = vec![
            t(1, 2, 1.0),
            t(0, 1, 2.0),
            t(1, 0, 3.0),
            t(1, 2, 0.5),
            t(0, 1, -2.0),
        ];
        let csr = build_compressed(2, 3, Layout::Csr, entries.clone()).unwrap();
        assert!(csr.is_csr());
        assert_eq!(csr.indptr().raw_storage(), &[0, 1, 3]);
        assert_eq!(csr.indices(), &[1, 0, 2]);
        assert_eq!(csr.data(), &[0.0, 3.0, 1.5]); // explicit zero from 2 + (-2) kept
        let csc = build_compressed(2, 3, Layout::Csc, entries).unwrap();
        assert!(csc.is_csc());
        assert_eq!(csc.to_csr(), csr);
        // Overflowing sums are rejected.
        let e = build_compressed(1, 1, Layout::Csr, vec![t(0, 0, 1e308), t(0, 0, 1e308)]);
        assert!(matches!(e, Err(Error::Parse { line: 0, .. })), "{e:?}");
    }

    #[test]
    fn empty_shapes_are_fine() {
        let opts = ReadOptions::default();
        let m = read_matrix_market(
            "%%MatrixMarket matrix coordinate real general\n0 0 0\n".as_bytes(),
            &opts,
        )
        .unwrap();
        assert_eq!((m.nrows(), m.ncols(), m.nnz()), (0, 0, 0));
        let m = read_matrix_market(
            "%%MatrixMarket matrix array real general\n3 0\n".as_bytes(),
            &opts,
        )
        .unwrap();
        assert_eq!((m.nrows(), m.ncols(), m.nnz()), (3, 0, 0));
        // A dimension over the limit is refused even when nothing is stored (an empty matrix
        // with 2^64 − 1 rows or columns is a loop over all of them for whoever walks it).
        for text in [
            "%%MatrixMarket matrix array real general\n18446744073709551615 0\n",
            "%%MatrixMarket matrix array real general\n0 18446744073709551615\n",
            "%%MatrixMarket matrix coordinate real general\n1 18446744073709551615 0\n",
            "%%MatrixMarket matrix coordinate real general\n18446744073709551615 1 0\n",
        ] {
            for result in [
                read_matrix_market(text.as_bytes(), &opts).map(|_| ()),
                read_dense(text.as_bytes(), &opts).map(|_| ()),
                read_sparse(text.as_bytes(), Layout::Csc, &opts).map(|_| ()),
            ] {
                match result {
                    // `read_sparse` refuses an array file before its size line.
                    // The dimension, or the 2·(2^64 − 1) + 1 index pointers and cursors of
                    // the compressed form along it.
                    Err(Error::TooLarge { requested, .. }) => {
                        assert!(requested >= u64::MAX.into(), "{text:?}: {requested}")
                    }
                    Err(Error::Parse { line: 1, .. }) if text.contains("array") => {}
                    other => panic!("{text:?}: {other:?}"),
                }
            }
        }
    }
}
