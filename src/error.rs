//! The crate's error type.
//!
//! Every public function that can be handed bad data returns [`Result<T>`](Result) instead of
//! panicking. Each variant carries the data a caller needs to say what was wrong and what was
//! expected; `Display` renders that as one line.

use std::fmt;

/// Shorthand for `std::result::Result<T, randnla::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

/// The values of tasks run in parallel, in task order, or the error of the first failing task in
/// that order: the error a sequential run returns, whatever the thread count (rayon's
/// `try_for_each` and `collect::<Result<_>>` return whichever failure comes first in time, so an
/// error naming a row could name another one on two threads). No task is cut short: only the
/// error path pays for the tasks after the failing one.
pub(crate) fn first_error_in_order<T>(results: Vec<Result<T>>) -> Result<Vec<T>> {
    results.into_iter().collect()
}

/// Everything that can go wrong in `randnla`.
///
/// The enum is `non_exhaustive`: later capabilities add variants without a breaking change.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Two dimensions that must agree do not.
    DimensionMismatch {
        /// What was being compared, e.g. `"rows of A vs columns of the sketch"`.
        what: String,
        /// The dimension that was required.
        expected: usize,
        /// The dimension that was given.
        found: usize,
    },
    /// A matrix or vector has no rows or no columns where at least one is required.
    Empty {
        /// Which input was empty.
        what: String,
    },
    /// A value is NaN or infinite.
    NonFinite {
        /// Which input holds it.
        what: String,
        /// Row of the offending entry (0-based).
        row: usize,
        /// Column of the offending entry (0-based).
        col: usize,
    },
    /// Arrays that do not describe a valid object: a sparse matrix's (`indptr`, indices,
    /// triplets) or a symmetric tensor's entries (a permutation missing, repeated or with
    /// another value).
    InvalidStructure {
        /// What is malformed, e.g. `"indptr is not non-decreasing at position 4"`.
        reason: String,
    },
    /// A parameter is outside its allowed range.
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// Why the given value is not allowed, and what is.
        reason: String,
    },
    /// A request would need more memory than the stated limit allows.
    TooLarge {
        /// What would be allocated.
        what: String,
        /// The number of elements requested.
        requested: u128,
        /// The limit in force; when `requested ≤ limit` the allocator refused a size within it.
        limit: u128,
    },
    /// A text file could not be parsed.
    Parse {
        /// 1-based line number where the problem was found (0 when it concerns the whole file).
        line: usize,
        /// What is wrong on that line and what was expected.
        reason: String,
    },
    /// An operating-system I/O error (the `std::io::Error` is rendered into the message so that
    /// `Error` stays `Clone + PartialEq`).
    Io {
        /// The kind reported by the operating system.
        kind: std::io::ErrorKind,
        /// The rendered message, including the path when known.
        message: String,
    },
    /// A matrix is numerically rank deficient where full rank is required.
    RankDeficient {
        /// The numerical rank found. Where an unpivoted Cholesky factorization of a Gram matrix
        /// refused the matrix, the first column whose pivot was a negligible fraction of its
        /// column's norm (the column lies in the span of the ones before it, to the precision
        /// of the Gram matrix), or else the number of leading columns it factored: a lower
        /// bound on the rank.
        rank: usize,
        /// The rank required.
        required: usize,
    },
    /// An iterative method stopped before reaching its tolerance. Match it with `..`: more
    /// diagnostics may be added.
    #[non_exhaustive]
    NotConverged {
        /// Iterations performed.
        iterations: usize,
        /// The final value of the stopping criterion.
        residual: f64,
        /// The tolerance that was asked for.
        tolerance: f64,
        /// The stopping criterion after each iteration (LSQR: the normal-equation residual
        /// estimate; kernel regression: the relative residual after each refinement step),
        /// oldest first, so a caller can see whether it stalled or was still falling. Empty
        /// where the method records none.
        history: Vec<f64>,
        /// Where the method can estimate it, the level below which rounding keeps its stopping
        /// criterion: a `tolerance` below it cannot be met in `f64`, so ask for one above it
        /// (or precondition the problem). Kernel regression P1/P2 (refinement on
        /// `b − (AᵀA)ʲx`): the estimated error of the computed relative residual at the last
        /// iterate, `u·‖A‖₂^{2j+p}·‖x‖/‖b‖` or, when smaller, its componentwise counterpart
        /// `u·‖|A|ᵖ(|A|ᵀ|A|)ʲ|x|‖/‖b‖`, `u = 2⁻⁵³` (see
        /// [`kernel_regression`](crate::lstsq::kernel_regression)); P2's semi-normal equations:
        /// their test value's floor, when below 1. `None` elsewhere.
        rounding_floor: Option<f64>,
    },
    /// A dense factorization failed inside `faer` (e.g. an SVD that did not converge).
    Factorization {
        /// Which factorization, and what it reported.
        reason: String,
    },
}

impl Error {
    /// `Ok(())` when `requested ≤ limit`, otherwise [`Error::TooLarge`] naming `what()`: the
    /// up-front size check of a buffer or a result, before anything is allocated.
    pub(crate) fn within(
        requested: u128,
        limit: u128,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        if requested > limit {
            return Err(Error::TooLarge {
                what: what(),
                requested,
                limit,
            });
        }
        Ok(())
    }

    pub(crate) fn dim(what: impl Into<String>, expected: usize, found: usize) -> Self {
        Error::DimensionMismatch {
            what: what.into(),
            expected,
            found,
        }
    }

    pub(crate) fn param(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }

    /// This error, with an [`Error::InvalidParameter`] named `from` renamed `to`: for a value a
    /// caller derived from one of its own parameters and handed to a constructor (a sketch's
    /// `m` is the solver's `sketch_rows`). Other errors pass through unchanged.
    pub(crate) fn renamed(self, from: &str, to: &'static str) -> Self {
        match self {
            Error::InvalidParameter { name, reason } if name == from => {
                Error::InvalidParameter { name: to, reason }
            }
            e => e,
        }
    }

    pub(crate) fn structure(reason: impl Into<String>) -> Self {
        Error::InvalidStructure {
            reason: reason.into(),
        }
    }

    pub(crate) fn empty(what: impl Into<String>) -> Self {
        Error::Empty { what: what.into() }
    }

    pub(crate) fn parse(line: usize, reason: impl Into<String>) -> Self {
        Error::Parse {
            line,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(err: &std::io::Error, context: &str) -> Self {
        Error::Io {
            kind: err.kind(),
            message: if context.is_empty() {
                err.to_string()
            } else {
                format!("{context}: {err}")
            },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DimensionMismatch {
                what,
                expected,
                found,
            } => write!(
                f,
                "dimension mismatch ({what}): expected {expected}, found {found}"
            ),
            Error::Empty { what } => write!(f, "{what} is empty; at least one entry is required"),
            Error::NonFinite { what, row, col } => {
                write!(f, "{what} has a NaN or infinite value at row {row}, column {col} (0-based); all values must be finite")
            }
            Error::InvalidStructure { reason } => write!(f, "invalid structure: {reason}"),
            Error::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter `{name}`: {reason}")
            }
            Error::TooLarge {
                what,
                requested,
                limit,
            } if requested <= limit => {
                write!(
                    f,
                    "{what} needs {requested} elements, which could not be allocated"
                )
            }
            Error::TooLarge {
                what,
                requested,
                limit,
            } => write!(
                f,
                "{what} needs {requested} elements, more than the limit of {limit}"
            ),
            Error::Parse { line, reason } => {
                if *line == 0 {
                    write!(f, "parse error: {reason}")
                } else {
                    write!(f, "parse error on line {line}: {reason}")
                }
            }
            Error::Io { message, .. } => write!(f, "I/O error: {message}"),
            Error::RankDeficient { rank, required } => {
                write!(
                    f,
                    "matrix is numerically rank deficient: rank {rank}, {required} required"
                )
            }
            Error::NotConverged {
                iterations,
                residual,
                tolerance,
                rounding_floor,
                ..
            } => {
                let s = if *iterations == 1 { "" } else { "s" };
                match rounding_floor {
                    // Refused on the rounding check: the criterion itself is below tolerance,
                    // but not by more than its own rounding (kernel regression P1/P2).
                    Some(floor) if residual <= tolerance => write!(
                        f,
                        "did not converge in {iterations} iteration{s}: stopping criterion {residual:e} ≤ tolerance {tolerance:e}, but its rounding floor of about {floor:.1e} leaves it uncertified"
                    ),
                    Some(floor) => write!(
                        f,
                        "did not converge in {iterations} iteration{s}: stopping criterion {residual:e} > tolerance {tolerance:e} (its rounding floor is about {floor:.1e})"
                    ),
                    // Within tolerance but refused for another reason (P2: the margin its
                    // least-squares stage's error takes from it).
                    None if residual <= tolerance => write!(
                        f,
                        "did not converge in {iterations} iteration{s}: stopping criterion {residual:e} ≤ tolerance {tolerance:e}, but not certified"
                    ),
                    None => write!(
                        f,
                        "did not converge in {iterations} iteration{s}: stopping criterion {residual:e} > tolerance {tolerance:e}"
                    ),
                }
            }
            Error::Factorization { reason } => write!(f, "dense factorization failed: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// An I/O error of the caller's own code as [`Error::Io`] (its kind kept, its message
/// rendered), so that a function returning `randnla::Result` can use `?` on `std::io` calls:
///
/// ```
/// fn first_line(path: &str) -> randnla::Result<String> {
///     let text = std::fs::read_to_string(path)?;
///     Ok(text.lines().next().unwrap_or("").to_string())
/// }
/// let err = first_line("/no/such/file").unwrap_err();
/// assert!(matches!(err, randnla::Error::Io { kind: std::io::ErrorKind::NotFound, .. }));
/// ```
impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::io(&err, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_and_names_the_problem() {
        // Each error with the pieces its message must carry: the kind of problem and every
        // value a user needs to find it.
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let cases: Vec<(Error, Vec<&str>)> = vec![
            (
                Error::dim("rows", 3, 4),
                vec!["dimension mismatch", "rows", "expected 3", "found 4"],
            ),
            (Error::empty("A"), vec!["A is empty"]),
            (
                Error::NonFinite {
                    what: "A".into(),
                    row: 1,
                    col: 2,
                },
                vec!["A has a NaN or infinite value", "row 1", "column 2"],
            ),
            (
                Error::structure("indptr"),
                vec!["invalid structure", "indptr"],
            ),
            (
                Error::param("rows", "must be positive"),
                vec!["invalid parameter `rows`", "must be positive"],
            ),
            (
                Error::parse(7, "bad count"),
                vec!["parse error", "line 7", "bad count"],
            ),
            (
                Error::parse(0, "empty file"),
                vec!["parse error: empty file"],
            ),
            (Error::io(&io, "x.mtx"), vec!["I/O error", "x.mtx", "gone"]),
            (
                Error::TooLarge {
                    what: "the output".into(),
                    requested: 10,
                    limit: 5,
                },
                vec!["the output", "10 elements", "limit of 5"],
            ),
            (
                Error::TooLarge {
                    what: "the output".into(),
                    requested: 5,
                    limit: 10,
                },
                vec!["the output", "5 elements", "could not be allocated"],
            ),
            (
                Error::RankDeficient {
                    rank: 2,
                    required: 3,
                },
                vec!["rank deficient", "rank 2", "3 required"],
            ),
            (
                Error::Factorization {
                    reason: "pivot 0".into(),
                },
                vec!["factorization failed", "pivot 0"],
            ),
            (
                Error::NotConverged {
                    iterations: 12,
                    residual: 2.5e-3,
                    tolerance: 1e-10,
                    history: vec![1.0, 2.5e-3],
                    rounding_floor: None,
                },
                vec!["did not converge", "12 iterations", "2.5e-3", "1e-10"],
            ),
            (
                Error::NotConverged {
                    iterations: 1,
                    residual: 3e-9,
                    tolerance: 1e-10,
                    history: vec![3e-9],
                    rounding_floor: Some(1.1e-8),
                },
                vec!["1 iteration:", "3e-9", "rounding floor is about 1.1e-8"],
            ),
            (
                Error::NotConverged {
                    iterations: 3,
                    residual: 1.78e-11,
                    tolerance: 1e-10,
                    history: vec![1.0, 1.78e-11],
                    rounding_floor: Some(2.1e-10),
                },
                vec![
                    "3 iterations:",
                    "1.78e-11 ≤ tolerance 1e-10",
                    "rounding floor of about 2.1e-10 leaves it uncertified",
                ],
            ),
            (
                Error::NotConverged {
                    iterations: 0,
                    residual: 8e-11,
                    tolerance: 1e-10,
                    history: vec![8e-11],
                    rounding_floor: None,
                },
                vec![
                    "0 iterations:",
                    "8e-11 ≤ tolerance 1e-10, but not certified",
                ],
            ),
            // A criterion exactly at the tolerance met it (the tests are `≤ tol`): refused for
            // another reason, and said so, with and without a rounding floor.
            (
                Error::NotConverged {
                    iterations: 2,
                    residual: 1e-10,
                    tolerance: 1e-10,
                    history: vec![1e-10],
                    rounding_floor: Some(3e-10),
                },
                vec!["1e-10 ≤ tolerance 1e-10", "leaves it uncertified"],
            ),
            (
                Error::NotConverged {
                    iterations: 2,
                    residual: 1e-10,
                    tolerance: 1e-10,
                    history: vec![1e-10],
                    rounding_floor: None,
                },
                vec!["1e-10 ≤ tolerance 1e-10, but not certified"],
            ),
        ];
        for (e, pieces) in cases {
            let s = e.to_string();
            assert!(!s.contains('\n'), "{s}");
            for piece in pieces {
                assert!(s.contains(piece), "{s:?} lacks {piece:?}");
            }
        }
    }
}
