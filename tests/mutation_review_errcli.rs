//! Hand mutation review of `src/error.rs` (the `Error` type, its `Display`, its constructors and
//! `From<std::io::Error>`): tests that kill mutants the rest of the suite let through. Each
//! test's doc names the mutant (the one-line slip) and how it fails under it. The examples'
//! side of the review (`examples/cli/mod.rs`) is `mutation_review_errcli_cli` in `suite_examples`.
//!
//! 29 mutants (2026-12-07, one build, each switched on by an environment variable): the suite
//! killed 20 (the unit test of `Display`, `errors_review`, `io`, `review49`'s rounding-floor
//! message, `attention_fuzz_findings` for `first_error_in_order` taking the last error), these
//! tests 7. Two survived these tests, the `NotConverged` messages' `residual <= tolerance` made
//! `residual < tolerance` (with and without a rounding floor): they differ only at an exact
//! equality of two computed `f64`s, and the variant is `non_exhaustive`, so it cannot be built
//! here; two cases at `residual = tolerance` in `src/error.rs`'s unit test now kill them.

use faer::Par;
use randnla::input::SparseRef;
use randnla::lstsq::qr_solve;
use randnla::problems::sparse_ls_illmix;
use randnla::{Error, MatrixRef, Seed};
use std::io::ErrorKind;

/// `Error::TooLarge` with `requested == limit` is a size within the limit that the allocator
/// refused (the variant's doc: "when `requested ≤ limit` the allocator refused a size within
/// it"), so its message says it could not be allocated, not that it is over the limit.
/// Kills: the `Display` guard `requested <= limit` made `requested < limit` (the message said
/// "5 elements, more than the limit of 5").
#[test]
fn too_large_at_the_limit_reads_as_an_allocation_failure() {
    let e = Error::TooLarge {
        what: "the output".into(),
        requested: 5,
        limit: 5,
    };
    let s = e.to_string();
    assert_eq!(
        s, "the output needs 5 elements, which could not be allocated",
        "{e:?}"
    );
}

/// `From<std::io::Error>` keeps the kind and renders the message (its doc), with nothing else:
/// the caller's own I/O error has no context the crate could add. Kills: the conversion given a
/// non-empty context (`Error::io(&err, "io")`, message "io: gone") and the conversion that
/// drops the kind (`ErrorKind::Other`); the doc test checks the kind only, and only under
/// `cargo test --doc`.
#[test]
fn io_error_conversion_keeps_kind_and_message() {
    let e: Error = std::io::Error::new(ErrorKind::PermissionDenied, "gone").into();
    assert_eq!(
        e,
        Error::Io {
            kind: ErrorKind::PermissionDenied,
            message: "gone".into(),
        }
    );
    assert_eq!(e.to_string(), "I/O error: gone");
}

/// The crate's up-front size checks (`Error::within`) report the size asked for and the limit,
/// the right way round, and name what would be allocated. `qr_solve` on a sparse `A` declaring
/// `10 × 2⁴⁰` (no entries): its doc promises `TooLarge` when `(n + d)·d` exceeds `2³¹`, checked
/// before `n < d` is refused, so the error carries `requested = (10 + 2⁴⁰)·2⁴⁰` and
/// `limit = 2³¹`. Kills: `within` never failing (the error became `n < d`'s
/// `InvalidParameter` on `A`), `requested` and `limit` swapped (the message then read "could not
/// be allocated") and a generic `what` ("a buffer").
#[test]
fn size_checks_report_requested_limit_and_what() {
    let indptr = [0usize; 11];
    let wide = SparseRef::<f64>::try_csr(10, 1 << 40, &indptr, &[], &[]).unwrap();
    let e = qr_solve(MatrixRef::Sparse(wide), &[1.0; 10], 0.0, Par::Seq).unwrap_err();
    let Error::TooLarge {
        what,
        requested,
        limit,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*requested, (10 + (1u128 << 40)) << 40, "{e}");
    assert_eq!(*limit, 1 << 31, "{e}");
    assert!(what.contains("copy of A"), "{e}");
    assert!(
        e.to_string().contains("more than the limit of 2147483648"),
        "{e}"
    );
}

/// A size equal to a limit is within it (`within`: `Ok` when `requested ≤ limit`).
/// `sparse_ls_illmix(n = 2²⁸, d = 64, density = 1)` meets two such limits exactly (its doc:
/// `TooLarge` when `n` or `d` exceeds `2²⁸`, when `n·d > 2³⁴`): `n = 2²⁸` and `n·d = 2³⁴`, so
/// the error is the third check's, on the expected stored entries `1.5·n·d·density = 3·2³³`
/// against `2³¹` (nothing is allocated before it). Kills: `within` refusing `requested ==
/// limit` (the error was the first check's, `requested = limit = 2²⁸`).
#[test]
fn a_size_equal_to_its_limit_is_within_it() {
    let e = sparse_ls_illmix(1 << 28, 64, 1.0, 0.5, 0.0, Seed::new(1)).unwrap_err();
    let Error::TooLarge {
        requested, limit, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((*requested, *limit), (3 << 33, 1 << 31), "{e}");
}
