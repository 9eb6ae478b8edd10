//! One spelling for every option: each option enum's `name()` parses back to the same value
//! with `FromStr`, aliases parse to their variant, and anything else is an
//! `Error::InvalidParameter` named after the parameter that holds the option, listing the names.
//! The examples parse their flags with these (`--map`, `--method`, `--storage`, `--hashing`,
//! `--strategy`, `--basis`), so the command lines and the library cannot drift apart.

use randnla::active::{Basis, BssParams, Strategy};
use randnla::attention::FeatureMap;
use randnla::leverage::ExactMethod;
use randnla::lstsq::kernel_regression::InnerSolve;
use randnla::lstsq::Factorization;
use randnla::sketch::sampling::SamplingScheme;
use randnla::sketch::tensor::TensorMethod;
use randnla::sketch::SketchKind;
use randnla::tensor::{ModeHashing, PowerMethod, TnsEntries, TnsStorage};
use randnla::Error;
use std::fmt::Debug;
use std::str::FromStr;

/// Every value's name parses back to the value, also in upper case and with `_` for `-` (one
/// rule for every option enum); the names are distinct and lower-case ASCII with `-` as the only
/// separator; each alias parses to its value; anything else (padded, empty, unknown) is an
/// `InvalidParameter` named `param` whose reason quotes the input and lists every name.
fn check<T>(param: &str, values: &[T], name: impl Fn(&T) -> &'static str, aliases: &[(&str, T)])
where
    T: FromStr<Err = Error> + PartialEq + Debug,
{
    let names: Vec<&str> = values.iter().map(&name).collect();
    for (v, n) in values.iter().zip(&names) {
        assert_eq!(n.parse::<T>().as_ref().ok(), Some(v), "{param}: `{n}`");
        assert!(
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{param}: `{n}`"
        );
        assert_eq!(
            names.iter().filter(|m| *m == n).count(),
            1,
            "{param}: `{n}` twice"
        );
        for variant in [
            n.to_uppercase(),
            n.replace('-', "_"),
            n.to_uppercase().replace('-', "_"),
        ] {
            assert_eq!(
                variant.parse::<T>().as_ref().ok(),
                Some(v),
                "{param}: `{variant}`"
            );
        }
    }
    for (alias, v) in aliases {
        assert_eq!(
            alias.parse::<T>().as_ref().ok(),
            Some(v),
            "{param}: alias `{alias}`"
        );
    }
    let near_misses = [
        format!(" {}", names[0]),
        format!("{}\t", names[0]),
        String::new(),
        format!("{}-", names[0]),
        "bogus\n\u{7}".to_string(),
        // Quoted as given, not as normalized for matching.
        "Bo_Gus".to_string(),
    ];
    for bad in &near_misses {
        if aliases.iter().any(|(a, _)| a == bad) {
            continue;
        }
        match bad.parse::<T>() {
            Err(Error::InvalidParameter { name, reason }) => {
                assert_eq!(name, param, "{bad:?}");
                assert!(reason.contains(&bad.escape_debug().to_string()), "{reason}");
                assert!(
                    !reason.contains('\n') && !reason.contains('\u{7}'),
                    "{reason:?}"
                );
                for n in &names {
                    assert!(reason.contains(n), "{param}: {reason} lacks `{n}`");
                }
            }
            other => panic!("{param}: {bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn every_option_enum_round_trips_through_its_name() {
    use Factorization as F;
    check(
        "factorization",
        &[F::Auto, F::Qr, F::Svd, F::Diagonal],
        |f| f.name(),
        &[],
    );
    check(
        "map",
        &[
            FeatureMap::Gaussian,
            FeatureMap::TensorSketch,
            FeatureMap::Identity,
        ],
        |f| f.name(),
        &[("tensor-sketch", FeatureMap::TensorSketch)],
    );
    check(
        "method",
        &[TensorMethod::Fft, TensorMethod::Tree],
        |m| m.name(),
        &[],
    );
    check(
        "entries",
        &[TnsEntries::All, TnsEntries::Unique],
        |e| e.name(),
        &[],
    );
    check(
        "storage",
        &[TnsStorage::Coordinate, TnsStorage::Dense, TnsStorage::Auto],
        |s| s.name(),
        &[],
    );
    check(
        "hashing",
        &[ModeHashing::Auto, ModeHashing::PerMode, ModeHashing::Shared],
        |h| h.name(),
        &[],
    );
    check(
        "scheme",
        &[SamplingScheme::WithReplacement, SamplingScheme::Bernoulli],
        |s| s.name(),
        &[],
    );
    check(
        "inner_solve",
        &[InnerSolve::Auto, InnerSolve::Cg, InnerSolve::Cholesky],
        |s| s.name(),
        &[],
    );
    check(
        "method",
        &[PowerMethod::Exact, PowerMethod::Sketched],
        |m| m.name(),
        &[("sketch", PowerMethod::Sketched)],
    );
    check(
        "method",
        &[
            ExactMethod::Auto,
            ExactMethod::Householder,
            ExactMethod::SketchCholesky,
        ],
        |m| m.name(),
        &[],
    );
    check(
        "basis",
        &[
            Basis::Exact,
            Basis::Sketched { sketch_rows: None },
            Basis::AsGiven,
        ],
        |b| b.name(),
        &[("given", Basis::AsGiven)],
    );
    check(
        "strategy",
        &[Strategy::Uniform, Strategy::leverage(), Strategy::bss()],
        |s| s.name(),
        &[],
    );
    check(
        "sketch",
        &[
            SketchKind::CountSketch,
            SketchKind::SparseSign { nnz_per_col: 8 },
            SketchKind::Gaussian,
            SketchKind::Srht,
        ],
        |k| k.name(),
        &[
            ("countsketch", SketchKind::CountSketch),
            ("count-sketch", SketchKind::CountSketch),
            ("CountSketch", SketchKind::CountSketch),
            ("osnap", SketchKind::SparseSign { nnz_per_col: 8 }),
            ("SRHT", SketchKind::Srht),
        ],
    );
}

/// A variant that carries data parses to its documented default: `sketched` has
/// `sketch_rows: None`, `bss` default parameters, `leverage` the pool's scores; the parameters a
/// caller set are not part of the name (`name()` of any `Sketched` is `sketched`).
#[test]
fn data_carrying_variants_parse_to_their_defaults() {
    assert_eq!(
        "sketched".parse::<Basis>().unwrap(),
        Basis::Sketched { sketch_rows: None }
    );
    assert_eq!(
        Basis::Sketched {
            sketch_rows: Some(7)
        }
        .name(),
        "sketched"
    );
    assert_eq!(
        "bss".parse::<Strategy>().unwrap(),
        Strategy::Bss(BssParams::default())
    );
    assert_eq!(
        "leverage".parse::<Strategy>().unwrap(),
        Strategy::leverage()
    );
    // The defaults of the parameter structs are the defaults of the names.
    assert_eq!(Factorization::default().name(), "auto");
    assert_eq!(TensorMethod::default().name(), "fft");
    assert_eq!(FeatureMap::default().name(), "gaussian");
    assert_eq!(ModeHashing::default().name(), "auto");
    assert_eq!(Strategy::default(), Strategy::bss());
    // A name carries no parameters: the value that gave it may hold others.
    let s2 = SketchKind::SparseSign { nnz_per_col: 2 };
    let parsed: SketchKind = s2.name().parse().unwrap();
    assert_eq!(parsed, SketchKind::SparseSign { nnz_per_col: 8 });
}
