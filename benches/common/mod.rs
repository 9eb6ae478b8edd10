//! Shared by every bench.

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion};
use faer::Par;

/// Whether criterion runs this bench in test mode (each benchmark once, on the smallest sizes):
/// under `cargo bench -- --test`, and under `cargo test --benches`, which passes no `--bench`.
pub fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

/// Every thread of the rayon pool (`RAYON_NUM_THREADS` sets it), or `Par::Seq` for one.
#[allow(dead_code)] // not every bench runs the solvers that take a `Par`
pub fn par() -> Par {
    match rayon::current_num_threads() {
        0 | 1 => Par::Seq,
        t => Par::rayon(t),
    }
}

/// Whether to skip the work of a benchmark group `group` (or of one size of it) whose
/// benchmarks would have the ids `ids` (`function/parameter`, as criterion prints them after
/// `group/`): its data, its one-shot lines and its criterion calls. Call it before any of these.
///
/// Criterion decides whether to run a benchmark only when it is registered, after the bench has
/// built the data and printed the one-shot tables that precede it: without this, `--list` did all
/// of that work (minutes for `lstsq` and `active`) to print names, and a filter generated every
/// group's data. So:
/// - under `--list` it registers `ids` in a group `group` with an empty routine, which `--list`
///   never runs (criterion prints those the filter selects, with the same group structure as the
///   real benchmarks), and says skip;
/// - otherwise it says skip when the filter provably matches none of `ids` ([`may_select`]), so
///   a group whose benchmarks would all be filtered out costs nothing. Without a filter (`cargo
///   bench`, `cargo test --benches`, `-- --test`) nothing is skipped.
///
/// `ids` must be exactly the ids the group registers (the listing before and after is the check).
#[allow(dead_code)] // not every bench has a group opened after its one-shot work
pub fn skip(c: &mut Criterion, group: &str, ids: &[String]) -> bool {
    if cli().list {
        list(&mut c.benchmark_group(group), ids);
        return true;
    }
    !may_select(group, ids)
}

/// [`skip`] for a size of a group that is already open as `g` (named `group`).
#[allow(dead_code)] // not every bench opens its group before the one-shot work of a size
pub fn skip_in<M: Measurement>(g: &mut BenchmarkGroup<'_, M>, group: &str, ids: &[String]) -> bool {
    if cli().list {
        list(g, ids);
        return true;
    }
    !may_select(group, ids)
}

fn list<M: Measurement>(g: &mut BenchmarkGroup<'_, M>, ids: &[String]) {
    for id in ids {
        g.bench_function(id.as_str(), |b| b.iter(|| ()));
    }
}

/// Whether criterion's filter might select one of `group/id` for `id` in `ids`: false only when
/// it provably selects none of them.
fn may_select(group: &str, ids: &[String]) -> bool {
    let cli = cli();
    ids.iter().any(|id| {
        let id = format!("{group}/{id}");
        match &cli.filter {
            Filter::All => true,
            Filter::Nothing => false,
            Filter::Exact(f) => *f == id,
            // criterion: `Regex::new(filter)?.is_match(id)`, a search anywhere in the id.
            Filter::Regex(f) => !is_plain_literal(f) || id.contains(f.as_str()),
        }
    })
}

/// Criterion's benchmark filter (criterion 0.8's `configure_from_args`).
enum Filter {
    /// No filter argument.
    All,
    /// The first positional argument, a regex searched for in each full id.
    Regex(String),
    /// The first positional argument with `--exact`: the full id itself.
    Exact(String),
    /// `--ignored`: no benchmark runs.
    Nothing,
}

struct Cli {
    list: bool,
    filter: Filter,
}

/// This process's arguments as criterion's command line (clap) reads them: flags, options that
/// take a value (`--opt v`, `--opt=v`, `-c v`, `-cv`), `--`, and the first positional argument,
/// the filter. An invalid command line never gets here: criterion has parsed it first and exited.
fn cli() -> Cli {
    // Criterion 0.8's options that take a value; its other options are flags.
    const LONG: &[&str] = &[
        "color",
        "colour",
        "save-baseline",
        "baseline",
        "baseline-lenient",
        "format",
        "profile-time",
        "load-baseline",
        "sample-size",
        "warm-up-time",
        "measurement-time",
        "nresamples",
        "noise-threshold",
        "confidence-level",
        "significance-level",
        "plotting-backend",
        "output-format",
    ];
    const SHORT: &[char] = &['c', 's', 'b'];
    let (mut list, mut exact, mut ignored, mut filter) = (false, false, false, None);
    let mut args = std::env::args().skip(1);
    let mut positional_only = false;
    while let Some(a) = args.next() {
        if positional_only || a == "-" || !a.starts_with('-') {
            filter.get_or_insert(a);
        } else if a == "--" {
            positional_only = true;
        } else if let Some(long) = a.strip_prefix("--") {
            match long {
                "list" => list = true,
                "exact" => exact = true,
                "ignored" => ignored = true,
                _ if LONG.contains(&long) => {
                    args.next();
                }
                _ => {}
            }
        } else if a.ends_with(SHORT) && a[1..a.len() - 1].find(SHORT).is_none() {
            // A cluster of short flags ending with one that takes the next argument.
            args.next();
        }
    }
    let filter = match filter {
        _ if ignored => Filter::Nothing,
        None => Filter::All,
        Some(f) if exact => Filter::Exact(f),
        Some(f) => Filter::Regex(f),
    };
    Cli { list, filter }
}

/// Whether the regex `re` is a plain literal: no character that has a meaning in a regex, so
/// it matches an id exactly when it occurs in it. Anything else (`.`, `|`, anchors, classes,
/// escapes, …) may match any id, and the group runs: the filters people type to pick a group
/// (`illmix`, `lstsq/dense`) are literals, and proving that a general regex matches none of a
/// group's ids would need a regex engine, which the crate does not depend on.
fn is_plain_literal(re: &str) -> bool {
    !re.chars()
        .any(|c| r"\.+*?()|[]{}^$#&-~".contains(c) || c.is_whitespace())
}
