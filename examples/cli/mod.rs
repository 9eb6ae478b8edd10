//! Shared command-line plumbing for the examples: argument parsing, thread pools, reading Matrix
//! Market files under `--max-elements`, the one-line JSON report and the "bad input → one line on
//! stderr, exit code 2" rule.
#![allow(dead_code)]

use randnla::io::{MatrixMarket, ReadOptions};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;

/// `println!` that does not panic: a failed write to stdout (a closed pipe, a full disk) prints
/// one line on stderr and exits with code 2 (see [`write_stdout_line`]).
macro_rules! outln {
    () => {
        $crate::cli::write_stdout_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout_line(format_args!($($arg)*))
    };
}
#[allow(unused_imports)] // not every example prints through it directly
pub(crate) use outln;

/// The option, taken by every example that reads Matrix Market files, that raises (or lowers) the
/// reader's size limit [`ReadOptions::max_elements`]: `--max-elements N`, default `2^28`. The
/// limit counts `2·nrows + 1` plus the stored entries (after mirroring a symmetric file) for a
/// coordinate file and `nrows·ncols` for an array file; each declared dimension is bounded by it
/// too. List it among the example's options to accept it.
pub const MAX_ELEMENTS: &str = "max-elements";

/// The most threads `--threads` accepts: a pool of hundreds of thousands of threads takes minutes
/// to start (or exhausts memory) before any work is done.
pub const MAX_THREADS: usize = 1024;

/// Parsed command-line arguments: `--name value` options, `--flag` switches and positionals.
pub struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
    positional: Vec<String>,
    usage: &'static str,
}

impl Args {
    /// Parses the command line. `options` names the `--options` that take a value, `flags` the
    /// switches; anything else starting with `--` is an error, as is an argument that is not
    /// valid UTF-8.
    pub fn parse(options: &[&str], flags: &[&str]) -> Result<Args, String> {
        Self::parse_from(command_line()?, options, flags)
    }

    /// As [`parse`](Self::parse), and `--help` (or `-h`) anywhere prints `usage` on stdout and
    /// exits with code 0; [`usage`](Self::usage) returns it for usage errors.
    pub fn parse_with_usage(
        usage: &'static str,
        options: &[&str],
        flags: &[&str],
    ) -> Result<Args, String> {
        let args = command_line()?;
        if args.iter().any(|a| a == "--help" || a == "-h") {
            outln!("{usage}");
            std::process::exit(0);
        }
        let mut out = Self::parse_from(args, options, flags)?;
        out.usage = usage;
        Ok(out)
    }

    /// The usage line given to [`parse_with_usage`](Self::parse_with_usage), as an error message.
    pub fn usage(&self) -> String {
        self.usage.to_string()
    }

    /// The positional arguments when there are between `min` and `max` of them; else the usage.
    pub fn positionals(&self, min: usize, max: usize) -> Result<&[String], String> {
        if (min..=max).contains(&self.positional.len()) {
            Ok(&self.positional)
        } else {
            Err(match self.positional.len() {
                k if k > max => format!(
                    "unexpected argument {:?}; {}",
                    self.positional[max], self.usage
                ),
                _ => self.usage(),
            })
        }
    }

    /// As [`parse`](Self::parse), from any iterator (for tests).
    pub fn parse_from(
        args: impl IntoIterator<Item = String>,
        options: &[&str],
        flags: &[&str],
    ) -> Result<Args, String> {
        let mut out = Args {
            values: HashMap::new(),
            flags: Vec::new(),
            positional: Vec::new(),
            usage: "",
        };
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let (name, inline) = match name.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (name.to_string(), None),
                };
                if options.contains(&name.as_str()) || ["seed", "threads"].contains(&name.as_str())
                {
                    let v = match inline {
                        Some(v) => v,
                        None => it.next().ok_or_else(|| format!("--{name} needs a value"))?,
                    };
                    if let Some(first) = out.values.get(&name) {
                        // Last-wins would silently drop one of two values a user typed.
                        return Err(format!(
                            "--{name} is given twice ({first:?} and {v:?}): give it once"
                        ));
                    }
                    out.values.insert(name, v);
                } else if flags.contains(&name.as_str()) || name == "json" {
                    if let Some(v) = inline {
                        return Err(format!(
                            "--{name} is a switch and takes no value (got {v:?})"
                        ));
                    }
                    out.flags.push(name);
                } else {
                    return Err(format!("unknown option --{name}"));
                }
            } else {
                out.positional.push(a);
            }
        }
        Ok(out)
    }

    /// The value of `--name`, parsed, if given.
    pub fn get<T: FromStr>(&self, name: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.values.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|e| format!("--{name} {v}: {e}")),
        }
    }

    /// The value of `--name`, or `default`.
    pub fn get_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        Ok(self.get(name)?.unwrap_or(default))
    }

    /// The ridge `λ` of `--ridge` (default 0): an error naming `--ridge` unless it is finite
    /// and ≥ 0 (the library's own error would name its parameter, `lambda`).
    pub fn ridge(&self) -> Result<f64, String> {
        let lambda: f64 = self.get_or("ridge", 0.0)?;
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(format!("--ridge: need a finite λ ≥ 0, got {lambda}"));
        }
        Ok(lambda)
    }

    /// The value of `--name`; an error naming it when missing.
    pub fn require<T: FromStr>(&self, name: &str) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)?
            .ok_or_else(|| format!("--{name} is required"))
    }

    /// Whether `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    /// The positional arguments.
    pub fn positional(&self) -> &[String] {
        &self.positional
    }

    /// `--seed` (default 0).
    pub fn seed(&self) -> Result<randnla::Seed, String> {
        Ok(randnla::Seed::new(self.get_or("seed", 0u64)?))
    }

    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        self.flag("json")
    }

    /// The reader's limits: `--max-elements N` when given (see [`MAX_ELEMENTS`]), else the
    /// library's default.
    pub fn read_options(&self) -> Result<ReadOptions, String> {
        let default = ReadOptions::default().max_elements;
        Ok(ReadOptions {
            max_elements: self.get_or(MAX_ELEMENTS, default)?,
        })
    }

    /// Reads a Matrix Market file (coordinate → sparse, array → dense) under
    /// [`read_options`](Self::read_options); errors as [`read_error`].
    pub fn read_matrix(&self, path: &str) -> Result<MatrixMarket, String> {
        let opts = self.read_options()?;
        randnla::io::read_matrix_market_path(path, &opts).map_err(|e| read_error(path, e))
    }

    /// Reads a Matrix Market file as a dense matrix under [`read_options`](Self::read_options);
    /// errors as [`read_error`].
    pub fn read_dense(&self, path: &str) -> Result<faer::Mat<f64>, String> {
        let opts = self.read_options()?;
        randnla::io::read_dense_path(path, &opts).map_err(|e| read_error(path, e))
    }

    /// `--threads` (default: rayon's, `RAYON_NUM_THREADS` or else all cores), as a rayon pool and
    /// the matching `faer::Par`.
    pub fn threads(&self) -> Result<(rayon::ThreadPool, faer::Par), String> {
        // Rayon reads 0 as "all cores": an explicit 0 is refused, not silently widened.
        let t: usize = match self.get::<usize>("threads")? {
            Some(0) => {
                return Err("--threads 0: give at least 1 (leave it out for all cores)".into())
            }
            Some(t) => t,
            None => 0,
        };
        if t > MAX_THREADS {
            return Err(format!("--threads {t}: at most {MAX_THREADS}"));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| format!("cannot start {t} threads: {e}"))?;
        let n = pool.current_num_threads();
        let par = if n <= 1 {
            faer::Par::Seq
        } else {
            faer::Par::rayon(n)
        };
        Ok((pool, par))
    }
}

/// The message for a file that could not be read: prefixed by its path (I/O errors already name
/// it); a file larger than the limit also says how to raise it, or that no limit `--max-elements`
/// takes (a `u64`) is enough.
pub fn read_error(path: &str, e: randnla::Error) -> String {
    match e {
        randnla::Error::TooLarge { requested, .. } if requested > u128::from(u64::MAX) => format!(
            "{path}: {e}; no --{MAX_ELEMENTS} can allow that (it takes at most {})",
            u64::MAX
        ),
        randnla::Error::TooLarge {
            requested, limit, ..
        } if requested > limit => format!(
            "{path}: {e}; to read it, raise the limit with --{MAX_ELEMENTS} N, N ≥ {requested}"
        ),
        _ => file_error(path, e),
    }
}

/// The message for a library error, with a parameter the library names (`tol`, `sketch_dim`)
/// named as the option that set it instead (`--tol`, `--sketch-dim`): `flags` pairs each library
/// name with its option. Other errors read as the library wrote them.
pub fn option_error(e: randnla::Error, flags: &[(&str, &str)]) -> String {
    match e {
        randnla::Error::InvalidParameter { name, reason } => {
            match flags.iter().find(|(lib, _)| *lib == name) {
                Some((_, flag)) => format!("{flag}: {reason}"),
                None => randnla::Error::InvalidParameter { name, reason }.to_string(),
            }
        }
        e => e.to_string(),
    }
}

/// The message for an error about a file: prefixed by its path, except I/O errors that name it
/// already, as the library's path functions do: their messages start with "opening PATH",
/// "reading PATH", "creating PATH" or "writing PATH", followed by `:` or nothing. (A search for
/// the path anywhere in the message took the "a" of "Is a directory" for a file named `a`.)
pub fn file_error(path: &str, e: randnla::Error) -> String {
    let names_path = |message: &str| {
        ["opening ", "reading ", "creating ", "writing "]
            .iter()
            .any(|verb| {
                message
                    .strip_prefix(verb)
                    .and_then(|rest| rest.strip_prefix(path))
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
            })
    };
    match e {
        randnla::Error::Io { ref message, .. } if names_path(message) => e.to_string(),
        _ => format!("{path}: {e}"),
    }
}

/// The arguments after the program name, or an error naming the first that is not valid UTF-8
/// (`std::env::args` panics on it).
fn command_line() -> Result<Vec<String>, String> {
    std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| format!("argument {a:?} is not valid UTF-8"))
        })
        .collect()
}

/// Writes one line to stdout; if that fails, says so in one line on stderr and exits with code
/// 2 (`println!` panics instead).
pub fn write_stdout_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out
        .write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
    {
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

/// Runs `main`; on `Err` prints one line to stderr and exits with code 2.
pub fn run(main: impl FnOnce() -> Result<(), String>) {
    if let Err(msg) = main() {
        let one_line = msg.replace('\n', " ");
        eprintln!("error: {one_line}");
        std::process::exit(2);
    }
}

/// A flat JSON object built field by field and printed as one line.
#[derive(Default)]
pub struct Json(Vec<(String, String)>);

impl Json {
    /// An empty object.
    pub fn new() -> Self {
        Json(Vec::new())
    }
    /// A string field.
    pub fn str(mut self, k: &str, v: &str) -> Self {
        let mut s = String::from("\"");
        for c in v.chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(s, "\\u{:04x}", c as u32);
                }
                c => s.push(c),
            }
        }
        s.push('"');
        self.0.push((k.into(), s));
        self
    }
    /// A number field (`null` when not finite), written by [`compact`].
    pub fn num(mut self, k: &str, v: f64) -> Self {
        let s = if !v.is_finite() {
            "null".into()
        } else {
            compact(v)
        };
        self.0.push((k.into(), s));
        self
    }
    /// An optional number field.
    pub fn opt(self, k: &str, v: Option<f64>) -> Self {
        match v {
            Some(v) => self.num(k, v),
            None => self.null(k),
        }
    }
    /// An optional string field (`null` when `None`).
    pub fn opt_str(self, k: &str, v: Option<&str>) -> Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }
    /// An integer field.
    pub fn int(mut self, k: &str, v: u64) -> Self {
        self.0.push((k.into(), v.to_string()));
        self
    }
    /// A boolean field.
    pub fn bool(mut self, k: &str, v: bool) -> Self {
        self.0.push((k.into(), v.to_string()));
        self
    }
    /// A field holding a nested object (e.g. `"ratio":{"median":…,"mean":…}`).
    pub fn obj(mut self, k: &str, v: Json) -> Self {
        let line = v.line();
        self.0.push((k.into(), line));
        self
    }
    /// A null field.
    pub fn null(mut self, k: &str) -> Self {
        self.0.push((k.into(), "null".into()));
        self
    }
    /// The object as one line.
    pub fn line(&self) -> String {
        let body: Vec<String> = self.0.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", body.join(","))
    }
    /// Prints the object as the last line of stdout.
    pub fn print(&self) {
        outln!("{}", self.line());
    }
}

/// The median of values sorted ascending (by `f64::total_cmp`): the middle one, or the mean of
/// the two middle ones for an even count (not the upper of the two, which for two values is
/// their maximum); `None` for no values. An infinite middle value gives an infinite median.
pub fn median(sorted: &[f64]) -> Option<f64> {
    let k = sorted.len();
    match k {
        0 => None,
        _ if k % 2 == 1 => Some(sorted[k / 2]),
        _ => {
            let (lo, hi) = (sorted[k / 2 - 1], sorted[k / 2]);
            // lo + (hi − lo)/2 would overflow for hi ≈ f64::MAX and lo < 0; halve first.
            Some(lo / 2.0 + hi / 2.0)
        }
    }
}

/// Prints a table with aligned columns.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let fmt_row = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:>width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ")
    };
    outln!(
        "{}",
        fmt_row(header.iter().map(|s| s.to_string()).collect())
    );
    outln!(
        "{}",
        w.iter()
            .map(|n| "-".repeat(*n))
            .collect::<Vec<_>>()
            .join("  ")
    );
    for r in rows {
        outln!("{}", fmt_row(r.clone()));
    }
}

/// `v` in exponent form below 10⁻⁴ and from 10¹⁵ on (`5.8e-17`, not seventeen zeros; `1e-320`,
/// not 320 digits), plainly otherwise; both forms round-trip to the same `f64`.
pub fn compact(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-4..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
