//! Comparing a formatted query result with the expected lines of a `query` record: sorting,
//! MD5 hashing, flattening and tolerant value matching.

use md5::{Digest, Md5};

use super::Style;
use super::script::Sort;

/// How many values of a result are shown in a failure report.
const PREVIEW_VALUES: usize = 40;

/// Why a result did not match, and how the actual result looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// One-line explanation.
    pub message: String,
    /// The actual result, rendered like expected results are written (bounded).
    pub actual: String,
}

/// Applies a sort mode to rows of values and flattens them.
pub(crate) fn sorted_values(mut rows: Vec<Vec<String>>, sort: Sort) -> Vec<String> {
    if sort == Sort::Rows {
        rows.sort();
    }
    let mut values: Vec<String> = rows.into_iter().flatten().collect();
    if sort == Sort::Values {
        values.sort();
    }
    values
}

/// MD5 (lower-case hex) of every value followed by `"\n"`, as sqllogictest hashes results.
pub(crate) fn hash_values(values: &[String]) -> String {
    let mut hasher = Md5::new();
    for value in values {
        hasher.update(value.as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses `N values hashing to <32 hex digits>`.
pub(crate) fn parse_hash_line(line: &str) -> Option<(usize, String)> {
    let (count, hash) = line.trim().split_once(" values hashing to ")?;
    let count = count.trim().parse().ok()?;
    let hash = hash.trim();
    if hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some((count, hash.to_ascii_lowercase()))
    } else {
        None
    }
}

/// Whether `s` is a plain integer literal (optional sign, digits).
fn is_int_literal(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Whether an expected value text matches an actual one: equal texts, or two numbers (not both
/// plain integers) within `max(1e-6, 1e-8 * max(|a|, |b|))` of each other.
pub(crate) fn values_match(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    // a boolean result matches an expected 1/0 or TRUE/FALSE (DuckDB's runner casts the
    // expected text to the result's type)
    match (expected.to_ascii_lowercase().as_str(), actual) {
        ("1" | "true", "true") | ("0" | "false", "false") | ("true", "1") | ("false", "0") => {
            return true;
        }
        _ => {}
    }
    if is_int_literal(expected) && is_int_literal(actual) {
        return false;
    }
    let (Ok(a), Ok(b)) = (expected.trim().parse::<f64>(), actual.trim().parse::<f64>()) else {
        return false;
    };
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff.is_finite() && diff <= f64::max(1e-6, 1e-8 * a.abs().max(b.abs()))
}

/// Renders values like expected results are written: one per line (SQLite) or rows joined by
/// TAB (DuckDB), showing at most [`PREVIEW_VALUES`] values.
pub(crate) fn render_values(values: &[String], ncols: usize, style: Style) -> String {
    let shown = &values[..values.len().min(PREVIEW_VALUES)];
    let mut text = match style {
        Style::Sqlite => shown.join("\n"),
        Style::DuckDb => shown
            .chunks(ncols.max(1))
            .map(|row| row.join("\t"))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    if values.len() > shown.len() {
        text.push_str(&format!(
            "\n... ({} more values)",
            values.len() - shown.len()
        ));
    }
    text
}

/// Checks a formatted result (`rows`, `ncols` columns) against the expected lines of a query.
/// `threshold` is the hash threshold in force (0 = never), used to render the actual result.
pub(crate) fn check_result(
    expected: &[String],
    rows: Vec<Vec<String>>,
    ncols: usize,
    sort: Sort,
    style: Style,
    threshold: u64,
) -> Result<(), Mismatch> {
    let nrows = rows.len();
    let actual = sorted_values(rows, sort);
    let hashed = threshold > 0 && actual.len() as u64 > threshold;
    let render_actual = |with_hash: bool| {
        let listing = render_values(&actual, ncols, style);
        if with_hash {
            let line = format!(
                "{} values hashing to {}",
                actual.len(),
                hash_values(&actual)
            );
            if listing.is_empty() {
                line
            } else {
                format!("{line}\n{listing}")
            }
        } else {
            listing
        }
    };

    if let [line] = expected
        && let Some((count, hash)) = parse_hash_line(line)
    {
        let actual_hash = hash_values(&actual);
        if count == actual.len() && hash == actual_hash {
            return Ok(());
        }
        let message = if count != actual.len() {
            format!(
                "expected {count} values, got {} ({nrows} rows)",
                actual.len()
            )
        } else {
            format!("hash mismatch: expected {hash}, got {actual_hash}")
        };
        return Err(Mismatch {
            message,
            actual: render_actual(true),
        });
    }

    let mut wanted: Vec<String> = match style {
        Style::Sqlite => expected.to_vec(),
        Style::DuckDb => expected
            .iter()
            .flat_map(|line| line.split('\t').map(str::to_string))
            .collect(),
    };
    match sort {
        Sort::None => {}
        Sort::Values => wanted.sort(),
        Sort::Rows => {
            if wanted.len().is_multiple_of(ncols.max(1)) {
                let mut chunks: Vec<Vec<String>> = wanted
                    .chunks(ncols.max(1))
                    .map(<[String]>::to_vec)
                    .collect();
                chunks.sort();
                wanted = chunks.into_iter().flatten().collect();
            }
        }
    }

    if wanted.len() != actual.len() {
        let per_row = ncols.max(1);
        return Err(Mismatch {
            message: format!(
                "expected {} values ({} rows of {ncols}), got {} values ({nrows} rows)",
                wanted.len(),
                wanted.len().div_ceil(per_row),
                actual.len()
            ),
            actual: render_actual(hashed),
        });
    }
    if let Some(i) = (0..wanted.len()).find(|&i| !values_match(&wanted[i], &actual[i])) {
        let per_row = ncols.max(1);
        let position = match sort {
            Sort::Values => format!("value {}", i + 1),
            _ => format!("row {}, column {}", i / per_row + 1, i % per_row + 1),
        };
        return Err(Mismatch {
            message: format!(
                "mismatch at {position}: expected {:?}, got {:?}",
                wanted[i], actual[i]
            ),
            actual: render_actual(hashed),
        });
    }
    Ok(())
}
