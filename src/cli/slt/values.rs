//! Scalar values extracted from Arrow arrays, and their text forms under both conventions
//! (SQLite's type-letter formatting and DuckDB's actual-type formatting).

/// One result cell, reduced to what the formatters need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// Any integer type.
    Int(i128),
    /// A float; `single` is true for 32-bit (and 16-bit) floats.
    Float { value: f64, single: bool },
    /// A decimal, as text with all digits of its scale (`12.50`).
    Decimal(String),
    /// A string or any other value already rendered as text.
    Text(String),
}

/// Renders a value the SQLite way, by the declared type letter of its column.
pub(crate) fn sqlite_text(val: &Val, letter: char) -> String {
    match (val, letter) {
        (Val::Null, _) => "NULL".to_string(),
        (Val::Bool(b), 'I') => if *b { "1" } else { "0" }.to_string(),
        (Val::Bool(b), 'R') => if *b { "1.000" } else { "0.000" }.to_string(),
        (Val::Bool(b), _) => b.to_string(),
        (Val::Int(i), 'I') => i.to_string(),
        (Val::Int(i), 'R') => fixed3(*i as f64),
        (Val::Int(i), _) => i.to_string(),
        (Val::Float { value, .. }, 'I') => float_to_int(*value).to_string(),
        (Val::Float { value, .. }, 'R') => fixed3(*value),
        (Val::Float { value, .. }, _) => printable(&g15(*value)),
        (Val::Decimal(s) | Val::Text(s), 'I') => text_to_int(s).to_string(),
        (Val::Decimal(s) | Val::Text(s), 'R') => fixed3(text_to_float(s)),
        (Val::Decimal(s), _) => printable(s),
        (Val::Text(s), _) => {
            if s.is_empty() {
                "(empty)".to_string()
            } else {
                printable(s)
            }
        }
    }
}

/// Renders a value the DuckDB way, by its actual type.
pub(crate) fn duckdb_text(val: &Val) -> String {
    match val {
        Val::Null => "NULL".to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float { value, single } => shortest_float(*value, *single),
        Val::Decimal(s) => s.clone(),
        Val::Text(s) if s.is_empty() => "(empty)".to_string(),
        Val::Text(s) => s.clone(),
    }
}

/// Replaces every byte outside `' '..='~'` with `@`, byte by byte like SQLite's C driver.
pub(crate) fn printable(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if (b' '..=b'~').contains(&b) {
                b as char
            } else {
                '@'
            }
        })
        .collect()
}

/// `printf("%.3f")`, including C's spelling of non-finite values.
pub(crate) fn fixed3(v: f64) -> String {
    if v.is_nan() {
        "nan".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{v:.3}")
    }
}

/// Truncates toward zero, saturating at the i64 range; NaN gives 0.
pub(crate) fn float_to_int(v: f64) -> i64 {
    v.trunc() as i64
}

/// SQLite-like text to integer: a string that parses as a number gives its integer part,
/// otherwise its leading integer digits (after spaces and a sign), otherwise 0.
pub(crate) fn text_to_int(s: &str) -> i128 {
    let t = s.trim();
    if let Ok(i) = t.parse::<i128>() {
        return i;
    }
    if let Some(int_part) = decimal_int_part(t) {
        return int_part;
    }
    if has_digit(t)
        && let Ok(f) = t.parse::<f64>()
    {
        return float_to_int(f) as i128;
    }
    leading_int(t)
}

/// Integer part of a plain decimal literal like `-12.50` (exact, no float rounding).
fn decimal_int_part(t: &str) -> Option<i128> {
    let (int, frac) = t.split_once('.')?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = int.trim_start_matches(['-', '+']);
    if digits.is_empty() {
        return if frac.is_empty() { None } else { Some(0) };
    }
    int.parse::<i128>().ok()
}

/// Whether `t` contains a digit (so `inf`, `nan` and `infinity` are not numbers here).
fn has_digit(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_digit())
}

/// The value of the leading `[+-]digits` of `t`, or 0.
fn leading_int(t: &str) -> i128 {
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let value = digits.parse::<i128>().unwrap_or(0);
    if neg { -value } else { value }
}

/// SQLite-like text to float: the number the string spells, else its longest numeric prefix,
/// else 0.
pub(crate) fn text_to_float(s: &str) -> f64 {
    let t = s.trim();
    if has_digit(t)
        && let Ok(f) = t.parse::<f64>()
    {
        return f;
    }
    // Longest prefix that parses as a float; numbers are short, so only the first 64 bytes
    // are tried (keeps this cheap on long strings).
    let mut end = t.len().min(64);
    while end > 0 {
        if t.is_char_boundary(end)
            && let Ok(f) = t[..end].parse::<f64>()
            && has_digit(&t[..end])
        {
            return f;
        }
        end -= 1;
    }
    0.0
}

/// Splits `format!("{:e}")` output into (negative, digits, exponent) where the value is
/// `0.d1d2d3... * 10^(exponent+1)`, i.e. `d1.d2d3... * 10^exponent`.
fn sci_parts(sci: &str) -> Option<(bool, String, i32)> {
    let (mantissa, exp) = sci.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    Some((neg, digits, exp))
}

/// Lays out significant `digits` (no leading zeros unless the value is 0) with decimal
/// exponent `exp` in fixed notation, with at least one fractional digit.
fn fixed_layout(digits: &str, exp: i32) -> String {
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            format!("{digits}{}.0", "0".repeat(int_len - digits.len()))
        } else {
            format!("{}.{}", &digits[..int_len], &digits[int_len..])
        }
    } else {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    }
}

/// Lays out `digits` in exponent notation: `d[.ddd]e+XX` (mantissa trailing zeros trimmed,
/// `keep_point` forces `d.0`).
fn exp_layout(digits: &str, exp: i32, keep_point: bool) -> String {
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let (first, rest) = digits.split_at(1);
    let mantissa = if !rest.is_empty() {
        format!("{first}.{rest}")
    } else if keep_point {
        format!("{first}.0")
    } else {
        first.to_string()
    };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// DuckDB/Python-style shortest round-trip float text: `2.0`, `0.1`, `24.5`, `1e+16`,
/// `1.5e-05`, `nan`, `inf`, `-inf`.
pub(crate) fn shortest_float(v: f64, single: bool) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sci = if single {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let Some((neg, digits, exp)) = sci_parts(&sci) else {
        return sci;
    };
    let sign = if neg { "-" } else { "" };
    if v != 0.0 && !(-4..16).contains(&exp) {
        format!("{sign}{}", exp_layout(&digits, exp, false))
    } else {
        format!("{sign}{}", fixed_layout(&digits, exp))
    }
}

/// SQLite's `%!.15g` text of a REAL: 15 significant digits, trailing zeros trimmed but always a
/// decimal point (`2.0`, `0.1`, `1.0e+20`); non-finite values as `nan`, `Inf`, `-Inf`.
pub(crate) fn g15(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Inf" } else { "-Inf" }.to_string();
    }
    let sci = format!("{v:.14e}");
    let Some((neg, digits, exp)) = sci_parts(&sci) else {
        return sci;
    };
    let sign = if neg { "-" } else { "" };
    if v != 0.0 && !(-4..15).contains(&exp) {
        format!("{sign}{}", exp_layout(&digits, exp, true))
    } else {
        format!("{sign}{}", fixed_layout(&digits, exp))
    }
}
