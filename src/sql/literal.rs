//! SQL literals: numbers (BIGINT, DECIMAL or DOUBLE by their spelling), strings, booleans,
//! NULL, hex strings, intervals, and EXTRACT field names.

use arrow::datatypes::{DataType, IntervalUnit, TimeUnit};
use datafusion_common::ScalarValue;
use sqlparser::ast::{self, Value};

use crate::error::{Error, Result};

/// The lower-case name of an EXTRACT/INTERVAL field.
pub fn datetime_field_name(f: &ast::DateTimeField) -> String {
    use ast::DateTimeField as F;
    match f {
        F::Year | F::Years => "year".into(),
        F::Month | F::Months => "month".into(),
        F::Week(_) | F::Weeks => "week".into(),
        F::Day | F::Days => "day".into(),
        F::DayOfWeek | F::Dow => "dow".into(),
        F::DayOfYear | F::Doy => "doy".into(),
        F::Hour | F::Hours => "hour".into(),
        F::Minute | F::Minutes => "minute".into(),
        F::Second | F::Seconds => "second".into(),
        F::Millisecond | F::Milliseconds => "millisecond".into(),
        F::Microsecond | F::Microseconds => "microsecond".into(),
        F::Nanosecond | F::Nanoseconds => "nanosecond".into(),
        F::Quarter => "quarter".into(),
        F::Decade => "decade".into(),
        F::Century => "century".into(),
        F::Millenium | F::Millennium => "millennium".into(),
        F::Epoch => "epoch".into(),
        F::Isodow => "isodow".into(),
        F::Isoyear => "isoyear".into(),
        F::IsoWeek => "week".into(),
        F::Custom(id) => id.value.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

/// Parses an interval such as `3 months`, `90 day`, `1 year 2 days`.
pub fn interval_literal(text: &str) -> Result<ScalarValue> {
    let v = arrow::compute::kernels::cast_utils::parse_interval_month_day_nano(text)
        .map_err(|e| Error::plan(format!("invalid interval '{text}': {e}")))?;
    Ok(ScalarValue::IntervalMonthDayNano(Some(v)))
}

/// A SQL literal value.
pub fn literal(v: &Value) -> Result<ScalarValue> {
    Ok(match v {
        Value::Number(n, _) => number_literal(n)?,
        Value::SingleQuotedString(s)
        | Value::EscapedStringLiteral(s)
        | Value::NationalStringLiteral(s)
        | Value::TripleSingleQuotedString(s)
        | Value::UnicodeStringLiteral(s) => ScalarValue::Utf8(Some(s.clone())),
        Value::DollarQuotedString(s) => ScalarValue::Utf8(Some(s.value.clone())),
        Value::Boolean(b) => ScalarValue::Boolean(Some(*b)),
        Value::Null => ScalarValue::Null,
        Value::HexStringLiteral(h) => {
            let bytes = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(h.get(i..i + 2).unwrap_or("0"), 16))
                .collect::<std::result::Result<Vec<u8>, _>>()
                .map_err(|_| Error::plan(format!("invalid hex literal X'{h}'")))?;
            ScalarValue::Binary(Some(bytes))
        }
        Value::Placeholder(p) => {
            return Err(Error::not_implemented(format!(
                "parameter {p} is not supported"
            )));
        }
        other => {
            return Err(Error::not_implemented(format!(
                "literal {other} is not supported"
            )));
        }
    })
}

/// Integers are BIGINT (DECIMAL(38,0) if larger); numbers with a point are DECIMAL(p,s);
/// numbers with an exponent (or more than 38 digits) are DOUBLE.
fn number_literal(n: &str) -> Result<ScalarValue> {
    let bad = || Error::plan(format!("invalid number {n}"));
    if n.contains(['e', 'E']) {
        return n
            .parse::<f64>()
            .map(|f| ScalarValue::Float64(Some(f)))
            .map_err(|_| bad());
    }
    if !n.contains('.')
        && let Ok(i) = n.parse::<i64>()
    {
        return Ok(ScalarValue::Int64(Some(i)));
    }
    let (neg, digits) = match n.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, n),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let int_part = int_part.trim_start_matches('0');
    let precision = (int_part.len() + frac_part.len()).max(1);
    if precision > 38 {
        return n
            .parse::<f64>()
            .map(|f| ScalarValue::Float64(Some(f)))
            .map_err(|_| bad());
    }
    let mut value: i128 = format!("{int_part}{frac_part}")
        .parse::<i128>()
        .or_else(|_| {
            if int_part.is_empty() && frac_part.is_empty() {
                Ok(0)
            } else {
                Err(bad())
            }
        })?;
    if neg {
        value = -value;
    }
    let scale = frac_part.len() as i8;
    let precision = (precision as u8).max(scale as u8).max(1);
    Ok(ScalarValue::Decimal128(Some(value), precision, scale))
}

/// The default timestamp type.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

/// The interval type.
pub fn interval_type() -> DataType {
    DataType::Interval(IntervalUnit::MonthDayNano)
}

#[cfg(test)]
mod tests {
    use super::number_literal;
    use datafusion_common::ScalarValue;

    #[test]
    fn number_literals() {
        assert_eq!(number_literal("42").unwrap(), ScalarValue::Int64(Some(42)));
        assert_eq!(
            number_literal("0.06").unwrap(),
            ScalarValue::Decimal128(Some(6), 2, 2)
        );
        assert_eq!(
            number_literal("-1.50").unwrap(),
            ScalarValue::Decimal128(Some(-150), 3, 2)
        );
        assert_eq!(
            number_literal("1e3").unwrap(),
            ScalarValue::Float64(Some(1000.0))
        );
        assert_eq!(
            number_literal("-9223372036854775808").unwrap(),
            ScalarValue::Int64(Some(i64::MIN))
        );
        assert!(matches!(
            number_literal("99999999999999999999").unwrap(),
            ScalarValue::Decimal128(..)
        ));
    }
}
