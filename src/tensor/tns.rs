//! FROSTT `.tns` text format: one entry per line, `i₁ i₂ … i_p value` with 1-based indices,
//! blank lines and lines starting with `#` ignored. FROSTT has no header, so the dimension is
//! the largest index, unless a comment `# order P dimension N` before the first entry declares
//! it: [`write_tns`] writes one, so that a tensor whose last coordinates are zero in every
//! stored entry (or a zero tensor) reads back with its own dimension. Other readers see a comment.

use super::symmetric::{
    dense_len, input_bytes_per_entry, CoordinateGroups, SymmetricTensor, MAX_COORDINATE_BYTES,
    MAX_DIM, MAX_ENTRIES, MAX_ORDER, MIN_ORDER,
};
use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Write};

/// Which entries [`write_tns`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TnsEntries {
    /// Every stored entry (every permutation; for dense storage every nonzero entry).
    #[default]
    All,
    /// One entry per unordered multi-index (`i₁ ≤ i₂ ≤ … ≤ i_p`): `1/p!` of the file size;
    /// [`read_tns`] expands it back by symmetry.
    Unique,
}

/// The storage [`read_tns_as`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
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

/// Characters that end a line in some tools (CR, vertical tab, form feed, NEL, the Unicode line
/// and paragraph separators) and that `split_whitespace` would otherwise treat as blanks.
const LINE_BREAKS: [char; 6] = ['\r', '\u{0b}', '\u{0c}', '\u{85}', '\u{2028}', '\u{2029}'];

/// Parses `.tns` text: `(order, dim, 0-based indices, values)`, the line-level checks of
/// [`read_tns`].
fn parse_tns<R: BufRead>(reader: R) -> Result<(usize, usize, Vec<usize>, Vec<f64>)> {
    let mut order = 0usize;
    let mut dim = 0usize;
    let mut indices: Vec<usize> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    // `(order, dimension, line)` of a `# order P dimension N` comment before the first entry.
    let mut declared: Option<(usize, usize, usize)> = None;
    for (lineno, line) in reader.lines().enumerate() {
        let lineno = lineno + 1;
        let line = line.map_err(|e| Error::io(&e, &format!("reading line {lineno}")))?;
        let t = line.trim();
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
        let bytes = (values.len() as u128 + 1) * input_bytes_per_entry(order) as u128;
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
        values.push(v);
    }
    if let Some((p, n, _)) = declared {
        if values.is_empty() {
            // The zero tensor of the declared shape, as one explicit zero.
            return Ok((p, n, vec![0; p], vec![0.0]));
        }
        dim = n;
    }
    if values.is_empty() {
        return Err(Error::empty(".tns file (no entries)"));
    }
    Ok((order, dim, indices, values))
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
/// [`Error::Parse`] with the 1-based line number for: a line break other than LF inside a line
/// (a CR, as in a file with CR-only line endings, a vertical tab, a form feed, NEL, U+2028 or
/// U+2029; a CR before the LF is fine), a line with a different number of fields
/// than the first (or than the declared order), a header comment whose order or dimension is out
/// of range, an index above the declared dimension, fewer than 4 fields (order < 3) or more than 13, an index that is not a
/// positive integer (indices are 1-based), an index above 2²⁶, a value that is not a finite
/// number; more entry lines than [`MAX_COORDINATE_BYTES`] allows at `12p + 48` bytes each, or
/// memory the allocator refuses ([`Error::TooLarge`]); no entries ([`Error::Empty`]); I/O
/// errors; and the errors of [`SymmetricTensor::coordinate`] (among them more stored
/// permutations than [`MAX_COORDINATE_BYTES`] allows, checked before they are built).
///
/// # Performance
/// One pass over the text; memory proportional to the number of entries (never to the declared
/// indices), times `p!` for the stored permutations (`4p + 8` bytes each, see
/// [`MAX_COORDINATE_BYTES`]).
pub fn read_tns<R: BufRead>(reader: R) -> Result<SymmetricTensor> {
    read_tns_as(reader, TnsStorage::Coordinate)
}

/// [`read_tns`] into the given [`TnsStorage`]. With [`TnsStorage::Dense`] (or `Auto` choosing
/// dense) the tensor is written straight into its `n^p` array: reading the 400³ file of the
/// README's TensorLy comparison (10.7 million lines) then peaks at about a third of the memory
/// of reading it to coordinates and densifying.
///
/// # Errors
/// As [`read_tns`]; [`TnsStorage::Dense`] also `n^p > 2²⁸` ([`Error::TooLarge`]).
pub fn read_tns_as<R: BufRead>(reader: R, storage: TnsStorage) -> Result<SymmetricTensor> {
    let (order, dim, indices, values) = parse_tns(reader)?;
    let groups = CoordinateGroups::validate(order, dim, &indices, &values)?;
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
/// As [`read_tns`], plus a file that cannot be opened.
pub fn read_tns_path(path: impl AsRef<std::path::Path>) -> Result<SymmetricTensor> {
    read_tns_path_as(path, TnsStorage::Coordinate)
}

/// Reads a `.tns` file from a path into the given storage; see [`read_tns_as`].
///
/// # Errors
/// As [`read_tns_as`], plus a file that cannot be opened.
pub fn read_tns_path_as(
    path: impl AsRef<std::path::Path>,
    storage: TnsStorage,
) -> Result<SymmetricTensor> {
    let path = path.as_ref();
    let f = std::fs::File::open(path)
        .map_err(|e| Error::io(&e, &format!("opening {}", path.display())))?;
    read_tns_as(BufReader::new(f), storage)
}

/// Writes a symmetric tensor as FROSTT `.tns` text (1-based indices, values in shortest
/// round-trip scientific notation), after a comment `# order P dimension N`, so [`read_tns`]
/// restores the values and the shape exactly (the entries alone would imply the largest
/// stored index as the dimension). Dense storage writes only nonzero entries; a zero tensor
/// is the header alone.
///
/// # Errors
/// I/O errors.
pub fn write_tns<W: Write>(t: &SymmetricTensor, entries: TnsEntries, writer: W) -> Result<()> {
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
    t: &SymmetricTensor,
    entries: TnsEntries,
    path: impl AsRef<std::path::Path>,
) -> Result<()> {
    let path = path.as_ref();
    let f = std::fs::File::create(path)
        .map_err(|e| Error::io(&e, &format!("creating {}", path.display())))?;
    write_tns(t, entries, f)
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
