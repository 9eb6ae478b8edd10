//! FROSTT `.tns` text format: one entry per line, `i₁ i₂ … i_p value` with 1-based indices,
//! blank lines and lines starting with `#` ignored (and a byte-order mark at the start of the
//! file). FROSTT has no header, so the dimension is the largest index, unless a comment
//! `# order P dimension N` before the first entry declares it: [`write_tns`] writes one, so that a
//! tensor whose last coordinates are zero in every stored entry (or a zero tensor) reads back with
//! its own dimension. Other readers see a comment.

use super::symmetric::{
    dense_len, input_bytes_per_entry, permutation_values_differ, CoordinateGroups, SymmetricTensor,
    MAX_COORDINATE_BYTES, MAX_DIM, MAX_ENTRIES, MAX_ORDER, MIN_ORDER,
};
use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Write};

/// Which entries [`write_tns`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum TnsEntries {
    /// Every stored entry (every permutation; for dense storage every nonzero entry).
    #[default]
    All,
    /// One entry per unordered multi-index (`i₁ ≤ i₂ ≤ … ≤ i_p`): `1/p!` of the file size;
    /// [`read_tns`] expands it back by symmetry.
    Unique,
}

option_names!(TnsEntries, "entries", [All => "all", Unique => "unique"]);

/// The storage [`read_tns_as`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum TnsStorage {
    /// Coordinate storage (every permutation of every entry), as [`read_tns`].
    #[default]
    Coordinate,
    /// Dense storage, built from the entries directly ([`SymmetricTensor::dense_from_entries`]):
    /// `n^p` values, no coordinate form in between.
    Dense,
    /// Dense when `n^p ≤ 2²⁸` and the stored permutations would be at least a quarter of
    /// `n^p` (dense contractions stream memory, coordinate ones gather: ≈ 7× slower at
    /// `n = 400`, order 3), else coordinate.
    Auto,
}

option_names!(TnsStorage, "storage", [Coordinate => "coordinate", Dense => "dense", Auto => "auto"]);

/// Characters that end a line in some tools (CR, vertical tab, form feed, NEL, the Unicode line
/// and paragraph separators) and that `split_whitespace` would otherwise treat as blanks.
const LINE_BREAKS: [char; 6] = ['\r', '\u{0b}', '\u{0c}', '\u{85}', '\u{2028}', '\u{2029}'];

/// The line of each entry of a `.tns` file, held as runs of consecutive entry lines:
/// `(first entry of the run, its line)`, one run per entry that follows a comment or blank line
/// (one in all for a file without them).
struct EntryLines(Vec<(usize, usize)>);

/// Bytes held per run of [`EntryLines`].
const RUN_BYTES: u128 = std::mem::size_of::<(usize, usize)>() as u128;

impl EntryLines {
    /// The 1-based line of entry `e`.
    fn line(&self, e: usize) -> usize {
        let k = self.0.partition_point(|&(first, _)| first <= e);
        self.0
            .get(k.wrapping_sub(1))
            .map_or(0, |&(first, line)| line + (e - first))
    }
}

/// Longest line [`parse_tns`] reads, line ending excluded: an entry has at most 13 indices and a
/// value, so this leaves room for any comment while a file without line breaks (or a stream that
/// never sends one) is an error after 1 MiB rather than one unbounded allocation.
const MAX_LINE_BYTES: usize = 1 << 20;

/// The next line of `reader` (without its `\n` or `\r\n`), read into `buf` at most
/// [`MAX_LINE_BYTES`] at a time, and its 1-based number in `lineno`; `None` at the end.
///
/// # Errors
/// [`Error::Parse`] for a longer line or one that is not UTF-8; I/O errors.
fn next_line<'b, R: BufRead>(
    reader: &mut R,
    buf: &'b mut Vec<u8>,
    lineno: &mut usize,
) -> Result<Option<&'b str>> {
    buf.clear();
    let n = std::io::Read::take(&mut *reader, MAX_LINE_BYTES as u64 + 2)
        .read_until(b'\n', buf)
        .map_err(|e| Error::io(&e, &format!("reading line {}", *lineno + 1)))?;
    if n == 0 {
        return Ok(None);
    }
    *lineno += 1;
    let mut content = buf.len();
    if buf.last() == Some(&b'\n') {
        content -= 1;
        if content > 0 && buf[content - 1] == b'\r' {
            content -= 1;
        }
    }
    if content > MAX_LINE_BYTES {
        return Err(Error::parse(
            *lineno,
            format!("line is longer than {MAX_LINE_BYTES} bytes"),
        ));
    }
    std::str::from_utf8(&buf[..content]).map(Some).map_err(|e| {
        Error::parse(
            *lineno,
            format!(
                "invalid UTF-8 at byte {} of the line; the file must be text",
                e.valid_up_to() + 1
            ),
        )
    })
}

/// What [`parse_tns`] returns: order, dimension, 0-based indices, values, and the entries' lines.
type Parsed = (usize, usize, Vec<usize>, Vec<f64>, EntryLines);

/// Parses `.tns` text: `(order, dim, 0-based indices, values, lines)`, the line-level checks
/// of [`read_tns`].
fn parse_tns<R: BufRead>(reader: R) -> Result<Parsed> {
    let mut order = 0usize;
    let mut dim = 0usize;
    let mut indices: Vec<usize> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    // `(order, dimension, line)` of a `# order P dimension N` comment before the first entry.
    let mut declared: Option<(usize, usize, usize)> = None;
    let mut reader = reader;
    let mut buf: Vec<u8> = Vec::new();
    let mut lineno = 0usize;
    while let Some(line) = next_line(&mut reader, &mut buf, &mut lineno)? {
        // A byte-order mark ("UTF-8 with BOM") starts the file; `trim` does not remove it.
        let t = if lineno == 1 {
            line.trim_start_matches('\u{feff}').trim()
        } else {
            line.trim()
        };
        // `split_whitespace` would take these for field separators (and a comment would hide
        // what follows them): a file with CR-only line endings is one line here, and its
        // entries merged into one entry of a higher order.
        if let Some(c) = t.chars().find(|c| LINE_BREAKS.contains(c)) {
            return Err(Error::parse(
                lineno,
                format!(
                    "a line break {c:?} inside the line (CR-only line endings?): .tns has one \
                     entry per line, lines ending in LF or CRLF"
                ),
            ));
        }
        if let Some(comment) = t.strip_prefix('#') {
            if order == 0 && declared.is_none() {
                declared = parse_header(comment, lineno)?.map(|(p, n)| (p, n, lineno));
            }
            continue;
        }
        if t.is_empty() {
            continue;
        }
        let fields: Vec<&str> = t.split_whitespace().collect();
        if let Some((p, _, at)) = declared {
            if fields.len() != p + 1 {
                return Err(Error::parse(
                    lineno,
                    format!(
                        "{} fields, but line {at} declares order {p} ({} fields: indices and \
                         value)",
                        fields.len(),
                        p + 1
                    ),
                ));
            }
        }
        if order == 0 {
            if fields.len() < MIN_ORDER + 1 || fields.len() > MAX_ORDER + 1 {
                return Err(Error::parse(
                    lineno,
                    format!(
                        "{} fields: a symmetric tensor entry needs p indices and a value with \
                         {MIN_ORDER} ≤ p ≤ {MAX_ORDER}",
                        fields.len()
                    ),
                ));
            }
            order = fields.len() - 1;
        } else if fields.len() != order + 1 {
            return Err(Error::parse(
                lineno,
                format!(
                    "{} fields, but the first entry has {} (order {order} + value)",
                    fields.len(),
                    order + 1
                ),
            ));
        }
        // What the entries read so far and this one take, as parsed and once validated.
        let bytes = (values.len() as u128 + 1) * input_bytes_per_entry(order) as u128
            + (runs.len() as u128 + 1) * RUN_BYTES;
        let what = || {
            format!(
                "the entries of the .tns file up to line {lineno} and their validation ({} \
                 bytes each at order {order}: the elements are bytes)",
                input_bytes_per_entry(order)
            )
        };
        Error::within(bytes, MAX_COORDINATE_BYTES as u128, what)?;
        if values.len() == values.capacity() || indices.len() + order > indices.capacity() {
            // Amortized growth, refused by the allocator as an error rather than an abort, and
            // capped at the entries the limit admits: doubling let the two vectors' capacity
            // plus the validation's share reach about 1.45× the limit (order 7).
            let refused = |_| Error::TooLarge {
                what: what(),
                requested: bytes,
                limit: MAX_COORDINATE_BYTES as u128,
            };
            let admitted = MAX_COORDINATE_BYTES / input_bytes_per_entry(order);
            let extra = growth(
                values.len(),
                usize::try_from(admitted).unwrap_or(usize::MAX),
            );
            values.try_reserve_exact(extra).map_err(refused)?;
            indices
                .try_reserve_exact(extra.saturating_mul(order))
                .map_err(refused)?;
        }
        for (k, f) in fields[..order].iter().enumerate() {
            let i: u64 = f.parse().map_err(|e: std::num::ParseIntError| {
                let reason = if *e.kind() == std::num::IntErrorKind::PosOverflow {
                    format!(
                        "index {} `{f}` exceeds the largest supported dimension {MAX_DIM}",
                        k + 1
                    )
                } else {
                    format!("index {} `{f}` is not a positive integer", k + 1)
                };
                Error::parse(lineno, reason)
            })?;
            if i == 0 {
                return Err(Error::parse(
                    lineno,
                    format!("index {} is 0, but .tns indices are 1-based", k + 1),
                ));
            }
            if i > MAX_DIM as u64 {
                return Err(Error::parse(
                    lineno,
                    format!("index {i} exceeds the largest supported dimension {MAX_DIM}"),
                ));
            }
            if let Some((_, n, at)) = declared {
                if i > n as u64 {
                    return Err(Error::parse(
                        lineno,
                        format!("index {i} exceeds the dimension {n} declared on line {at}"),
                    ));
                }
            }
            dim = dim.max(i as usize);
            indices.push(i as usize - 1);
        }
        let v: f64 = fields[order].parse().map_err(|_| {
            Error::parse(lineno, format!("value `{}` is not a number", fields[order]))
        })?;
        if !v.is_finite() {
            return Err(Error::parse(lineno, format!("value {v} is not finite")));
        }
        let continues = runs
            .last()
            .is_some_and(|&(first, line)| line + (values.len() - first) == lineno);
        if !continues {
            runs.try_reserve(1).map_err(|_| Error::TooLarge {
                what: what(),
                requested: bytes,
                limit: MAX_COORDINATE_BYTES as u128,
            })?;
            runs.push((values.len(), lineno));
        }
        values.push(v);
    }
    if let Some((p, n, at)) = declared {
        if values.is_empty() {
            // The zero tensor of the declared shape, as one explicit zero.
            return Ok((p, n, vec![0; p], vec![0.0], EntryLines(vec![(0, at)])));
        }
        dim = n;
    }
    if values.is_empty() {
        return Err(Error::empty(".tns file (no entries)"));
    }
    Ok((order, dim, indices, values, EntryLines(runs)))
}

/// The parse error for entries that [`CoordinateGroups::validate`] refused as not symmetric
/// (a multi-index repeated, listed in some but not all of its permutations, or with unequal
/// values across them): the earliest line whose entry breaks the rule, its indices as written,
/// and the line it conflicts with. `None` when no such entry is found, or on an allocation
/// failure (the caller then keeps the validation's own error).
fn locate_asymmetry(
    order: usize,
    indices: &[usize],
    values: &[f64],
    lines: &EntryLines,
) -> Option<Error> {
    let nnz = values.len();
    let entry = |e: usize| &indices[e * order..(e + 1) * order];
    let mut keys: Vec<usize> = Vec::new();
    keys.try_reserve_exact(nnz.checked_mul(order)?).ok()?;
    for chunk in indices.chunks_exact(order) {
        let start = keys.len();
        keys.extend_from_slice(chunk);
        keys[start..].sort_unstable();
    }
    let key = |e: usize| &keys[e * order..(e + 1) * order];
    let mut by_key: Vec<usize> = Vec::new();
    by_key.try_reserve_exact(nnz).ok()?;
    by_key.extend(0..nnz);
    // Ties broken by position: each group lists its entries in file order.
    by_key.sort_unstable_by(|&a, &b| key(a).cmp(key(b)).then(a.cmp(&b)));
    let written = |e: usize| {
        let s: Vec<String> = entry(e).iter().map(|i| (i + 1).to_string()).collect();
        format!("`{}`", s.join(" "))
    };
    // (entry, reason) of the earliest offending entry found so far.
    let mut found: Option<(usize, String)> = None;
    let mut g = 0;
    while g < nnz {
        let mut h = g + 1;
        while h < nnz && key(by_key[h]) == key(by_key[g]) {
            h += 1;
        }
        let group = &by_key[g..h];
        g = h;
        if group.len() == 1 || found.as_ref().is_some_and(|f| f.0 < group[1]) {
            continue;
        }
        let perms = distinct_permutations(key(group[0]));
        // The earlier entry with the same indices, for every repeated one (`group` sorted by
        // indices, then position).
        let mut sorted: Vec<usize> = Vec::new();
        sorted.try_reserve_exact(group.len()).ok()?;
        sorted.extend_from_slice(group);
        sorted.sort_unstable_by(|&a, &b| entry(a).cmp(entry(b)).then(a.cmp(&b)));
        let mut repeats: Vec<(usize, usize)> = Vec::new();
        for w in sorted.windows(2) {
            if entry(w[0]) == entry(w[1]) {
                repeats.try_reserve(1).ok()?;
                repeats.push((w[1], w[0]));
            }
        }
        repeats.sort_unstable();
        let (e0, v0) = (group[0], values[group[0]]);
        for &e in &group[1..] {
            let v = values[e];
            let reason = if let Ok(k) = repeats.binary_search_by(|r| r.0.cmp(&e)) {
                let earlier = repeats[k].1;
                let rule = if perms == 1 {
                    "lists each multi-index once".to_string()
                } else {
                    format!("lists it once, or in all its {perms} distinct permutations, each once")
                };
                format!(
                    "{} repeats the entry on line {}: a symmetric tensor {rule}",
                    written(e),
                    lines.line(earlier)
                )
            } else if permutation_values_differ(v, v0) {
                format!(
                    "{} = {v:e} differs from {v0:e}, the value of its permutation {} on line {}: \
                     the tensor is not symmetric (permutations may differ by 1e-10 relative)",
                    written(e),
                    written(e0),
                    lines.line(e0)
                )
            } else if group.len() as u128 != perms {
                format!(
                    "{} lists the multi-index of {} on line {} again: a symmetric tensor lists \
                     it once, or in all its {perms} distinct permutations (this file lists it {} \
                     times)",
                    written(e),
                    written(e0),
                    lines.line(e0),
                    group.len()
                )
            } else {
                continue;
            };
            if found.as_ref().is_none_or(|f| e < f.0) {
                found = Some((e, reason));
            }
            break;
        }
    }
    found.map(|(e, reason)| Error::parse(lines.line(e), reason))
}

/// Number of distinct permutations of a sorted multi-index: `p!/∏ c!` over the multiplicities.
fn distinct_permutations(sorted: &[usize]) -> u128 {
    let mut count: u128 = (1..=sorted.len() as u128).product();
    for run in sorted.chunk_by(|a, b| a == b) {
        count /= (1..=run.len() as u128).product::<u128>();
    }
    count
}

/// The `(order, dimension)` of a header comment `order P dimension N` (the text after `#`),
/// `None` for any other comment.
///
/// # Errors
/// [`Error::Parse`] when the words match but `P` or `N` is not an integer in range.
fn parse_header(comment: &str, lineno: usize) -> Result<Option<(usize, usize)>> {
    let words: Vec<&str> = comment.split_whitespace().collect();
    let ["order", p, "dimension", n] = words[..] else {
        return Ok(None);
    };
    let p = p
        .parse::<usize>()
        .ok()
        .filter(|p| (MIN_ORDER..=MAX_ORDER).contains(p))
        .ok_or_else(|| {
            Error::parse(
                lineno,
                format!("declared order `{p}` is not an integer from {MIN_ORDER} to {MAX_ORDER}"),
            )
        })?;
    let n = n
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_DIM).contains(n))
        .ok_or_else(|| {
            Error::parse(
                lineno,
                format!("declared dimension `{n}` is not an integer from 1 to {MAX_DIM}"),
            )
        })?;
    Ok(Some((p, n)))
}

/// Entries to add to parse vectors holding `len` entries, at most `admitted` in all: as many
/// again (at least 64), never past `admitted`, at least one.
fn growth(len: usize, admitted: usize) -> usize {
    len.max(64).min(admitted.saturating_sub(len)).max(1)
}

/// Reads a symmetric tensor from FROSTT `.tns` text into coordinate storage (every
/// permutation of every entry); [`read_tns_as`] chooses the storage.
///
/// The order is the number of indices on the first entry line; the dimension is the largest
/// index over all modes, or `N` when a comment `# order P dimension N` precedes the first entry
/// (as [`write_tns`] writes it; a header with no entries gives the zero tensor of that shape, as
/// one stored zero). Each unordered multi-index may appear once (the other permutations are
/// implied) or in all its permutations with equal values (see
/// [`SymmetricTensor::coordinate`]). Zero values are kept.
///
/// # Errors
/// [`Error::Parse`] with the 1-based line number for: a line longer than 1 MiB (so a file without
/// line breaks is refused after reading that much) or not UTF-8, a line break other than LF inside
/// a line (a CR, as in a file with CR-only line endings, a vertical tab, a form feed, NEL, U+2028
/// or U+2029; a CR before the LF is fine), a line with a different number of fields
/// than the first (or than the declared order), a header comment whose order or dimension is out
/// of range, an index above the declared dimension, fewer than 4 fields (order < 3) or more than
/// 13, an index that is not a positive integer (indices are 1-based), an index above 2²⁶, a value
/// that is not a finite number, and entries that break the symmetric-tensor rule above — a
/// multi-index repeated, listed in some but not all of its distinct permutations, or with a value
/// that differs from the first listed permutation's (the one stored) by more than `1e-10` relative
/// (the earliest such line is named, with its indices as
/// written and the line it conflicts with); more entry lines than [`MAX_COORDINATE_BYTES`]
/// allows at `12p + 48` bytes each (plus 16 for each entry line that follows a comment or blank
/// line), or memory the allocator refuses ([`Error::TooLarge`]); no entries ([`Error::Empty`]);
/// I/O errors; and the other errors of [`SymmetricTensor::coordinate`] (among them more stored
/// permutations than [`MAX_COORDINATE_BYTES`] allows, checked before they are built).
///
/// # Performance
/// One pass over the text; memory proportional to the number of entries (never to the declared
/// indices), times `p!` for the stored permutations (`4p + 8` bytes each, see
/// [`MAX_COORDINATE_BYTES`]).
///
/// # Examples
///
/// ```
/// # fn main() -> randnla::Result<()> {
/// use randnla::tensor::read_tns;
/// // 1-based indices: T_000 = 1.5, and T_120 = −2 for all 6 permutations of (1, 2, 0);
/// // the header declares n = 4 (the entries alone would give 3).
/// let text = "# order 3 dimension 4\n1 1 1 1.5\n2 3 1 -2.0\n";
/// let t = read_tns(text.as_bytes())?;
/// assert_eq!((t.order(), t.dim(), t.nnz()), (3, 4, 1 + 6));
/// assert_eq!(t.get(&[0, 0, 0])?, 1.5);
/// assert_eq!(t.get(&[0, 2, 1])?, -2.0);
/// assert_eq!(t.get(&[3, 3, 3])?, 0.0);
/// assert_eq!(read_tns("1 1 1 1.5\n2 3 1 -2.0\n".as_bytes())?.dim(), 3);
/// // Errors name the line: index 0 is not 1-based.
/// let err = read_tns("1 1 1 1.5\n0 2 3 -2.0\n".as_bytes());
/// assert!(matches!(err, Err(randnla::Error::Parse { line: 2, .. })), "{err:?}");
/// # Ok(()) }
/// ```
pub fn read_tns<R: BufRead>(reader: R) -> Result<SymmetricTensor> {
    read_tns_as(reader, TnsStorage::Coordinate)
}

/// [`read_tns`] into the given [`TnsStorage`]. With [`TnsStorage::Dense`] (or `Auto` choosing
/// dense) the tensor is written straight into its `n^p` array: reading the 400³ file of the
/// TensorLy comparison in BENCHMARKS.md (10.7 million lines) then peaks at about a third of the
/// memory of reading it to coordinates and densifying.
///
/// # Errors
/// As [`read_tns`]; [`TnsStorage::Dense`] also `n^p > 2²⁸` ([`Error::TooLarge`]).
pub fn read_tns_as<R: BufRead>(reader: R, storage: TnsStorage) -> Result<SymmetricTensor> {
    let (order, dim, indices, values, lines) = parse_tns(reader)?;
    let groups = match CoordinateGroups::validate(order, dim, &indices, &values) {
        Ok(groups) => groups,
        Err(e @ Error::InvalidStructure { .. }) => {
            return Err(locate_asymmetry(order, &indices, &values, &lines).unwrap_or(e))
        }
        Err(e) => return Err(e),
    };
    drop(lines);
    drop(indices);
    let full = dense_len(order, dim).map_or(u128::MAX, |l| l as u128);
    let dense = match storage {
        TnsStorage::Coordinate => false,
        TnsStorage::Dense => true,
        TnsStorage::Auto => full <= MAX_ENTRIES as u128 && 4 * groups.stored_entries() >= full,
    };
    if dense {
        SymmetricTensor::dense_from_groups(order, dim, &values, &groups)
    } else {
        SymmetricTensor::coordinate_from_groups(order, dim, &values, groups)
    }
}

/// Reads a `.tns` file from a path; see [`read_tns`].
///
/// # Errors
/// As [`read_tns`], plus a file that cannot be opened; an [`Error::Io`] names the path.
pub fn read_tns_path(path: impl AsRef<std::path::Path>) -> Result<SymmetricTensor> {
    read_tns_path_as(path, TnsStorage::Coordinate)
}

/// Reads a `.tns` file from a path into the given storage; see [`read_tns_as`].
///
/// # Errors
/// As [`read_tns_as`], plus a file that cannot be opened; an [`Error::Io`] names the path
/// ("opening PATH: …", "reading PATH: reading line 3: …"), as the Matrix Market path readers'
/// do.
pub fn read_tns_path_as(
    path: impl AsRef<std::path::Path>,
    storage: TnsStorage,
) -> Result<SymmetricTensor> {
    let path = path.as_ref();
    let f = std::fs::File::open(path)
        .map_err(|e| Error::io(&e, &format!("opening {}", path.display())))?;
    read_tns_as(BufReader::new(f), storage).map_err(|e| match e {
        // The reader knows the line, not the file (a directory opens, then fails on line 1).
        Error::Io { kind, message } => Error::Io {
            kind,
            message: format!("reading {}: {message}", path.display()),
        },
        e => e,
    })
}

/// Writes a symmetric tensor as FROSTT `.tns` text (1-based indices, values in shortest
/// round-trip scientific notation), after a comment `# order P dimension N`, so [`read_tns`]
/// restores the values and the shape exactly (the entries alone would imply the largest
/// stored index as the dimension). Dense storage writes only nonzero entries (so its `-0.0`
/// entries, equal to `0.0`, read back as `+0.0`; coordinate storage keeps every stored entry,
/// `-0.0` included, bit for bit); a zero tensor is the header alone. The writer comes first,
/// as in [`crate::io::write_sparse`] and [`crate::io::write_dense`].
///
/// # Errors
/// I/O errors.
///
/// # Examples
///
/// ```
/// # fn main() -> randnla::Result<()> {
/// use randnla::tensor::{read_tns, write_tns, SymmetricTensor, TnsEntries};
/// use std::io::Cursor;
/// // T_001 = 0.5 and its permutations, n = 3 (index 2 in no entry).
/// let t = SymmetricTensor::coordinate(3, 3, &[0, 0, 1], &[0.5])?;
/// let mut text = Vec::new();
/// write_tns(&mut text, &t, TnsEntries::Unique)?;
/// // One line per unordered multi-index, 1-based, after the header.
/// assert_eq!(String::from_utf8(text).unwrap(), "# order 3 dimension 3\n1 1 2 5e-1\n");
/// // Every stored entry: the 3 permutations.
/// let mut all = Vec::new();
/// write_tns(&mut all, &t, TnsEntries::All)?;
/// let all = String::from_utf8(all).unwrap();
/// let mut lines: Vec<String> = all.lines().map(String::from).collect();
/// lines.sort();
/// assert_eq!(lines, ["# order 3 dimension 3", "1 1 2 5e-1", "1 2 1 5e-1", "2 1 1 5e-1"]);
/// // Round trip of a dense tensor with inexact values: every entry comes back bit for bit, and
/// // the header keeps n = 3 although index 2 is in no nonzero entry.
/// let d = SymmetricTensor::from_components(3, 3, &[1.0 / 3.0], &[[0.6, 0.8, 0.0]])?;
/// let mut buf = Vec::new();
/// write_tns(&mut buf, &d, TnsEntries::Unique)?;
/// let back = read_tns(Cursor::new(buf))?;
/// assert_eq!((back.dim(), back.nnz()), (3, 8));
/// for i in 0..3 {
///     for j in 0..3 {
///         for k in 0..3 {
///             assert_eq!(back.get(&[i, j, k])?.to_bits(), d.get(&[i, j, k])?.to_bits());
///         }
///     }
/// }
/// # Ok(()) }
/// ```
pub fn write_tns<W: Write>(writer: W, t: &SymmetricTensor, entries: TnsEntries) -> Result<()> {
    let mut w = std::io::BufWriter::new(writer);
    let mut err: Option<std::io::Error> = None;
    writeln!(w, "# order {} dimension {}", t.order(), t.dim())
        .map_err(|e| Error::io(&e, "writing .tns"))?;
    let mut line = String::new();
    t.for_each_entry(|idx, v| {
        if err.is_some() || (t.is_dense() && v == 0.0) {
            return;
        }
        if entries == TnsEntries::Unique && idx.windows(2).any(|p| p[0] > p[1]) {
            return;
        }
        line.clear();
        for &i in idx {
            line.push_str(&(i as u64 + 1).to_string());
            line.push(' ');
        }
        line.push_str(&format!("{v:e}\n"));
        if let Err(e) = w.write_all(line.as_bytes()) {
            err = Some(e);
        }
    });
    if let Some(e) = err {
        return Err(Error::io(&e, "writing .tns"));
    }
    w.flush().map_err(|e| Error::io(&e, "writing .tns"))
}

/// Writes a `.tns` file to a path; see [`write_tns`].
///
/// # Errors
/// I/O errors.
pub fn write_tns_path(
    path: impl AsRef<std::path::Path>,
    t: &SymmetricTensor,
    entries: TnsEntries,
) -> Result<()> {
    let path = path.as_ref();
    let f = std::fs::File::create(path)
        .map_err(|e| Error::io(&e, &format!("creating {}", path.display())))?;
    write_tns(f, t, entries)
}

#[cfg(test)]
mod tests {
    use super::growth;

    #[test]
    fn parse_vectors_grow_geometrically_up_to_the_admitted_entries() {
        for admitted in [1, 2, 63, 64, 65, 1000, 123_457, 1 << 20] {
            let (mut len, mut capacity, mut grown) = (0usize, 0usize, 0);
            while len < admitted {
                if len == capacity {
                    capacity += growth(len, admitted);
                    grown += 1;
                    assert!(capacity <= admitted, "{admitted}: capacity {capacity}");
                }
                len += 1;
            }
            // 64, then doubling: at most 1 + log₂(admitted / 64) + 1 reservations.
            let bound = 2 + (admitted / 64).max(1).ilog2() as usize;
            assert!(
                grown <= bound,
                "{admitted}: {grown} reservations, bound {bound}"
            );
        }
    }
}
