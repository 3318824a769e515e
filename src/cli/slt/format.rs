//! Turning Arrow record batches into rows of result texts, per column, under either style.

use arrow::array::{Array, ArrowPrimitiveType, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimeUnit, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::record_batch::RecordBatch;
use arrow::temporal_conversions::{as_datetime, date32_to_datetime};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::Style;
use super::values::{Val, duckdb_text, sqlite_text};

/// Formats all rows of `batches`; `types` holds the query's type letters, one per column
/// (the caller checks the count). Errors describe values that cannot be formatted.
pub(crate) fn format_rows(
    batches: &[RecordBatch],
    types: &[char],
    style: Style,
) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    for batch in batches {
        if batch.num_columns() != types.len() {
            return Err(format!(
                "expected {} columns, got {} in a result batch",
                types.len(),
                batch.num_columns()
            ));
        }
        let mut columns = Vec::with_capacity(types.len());
        for (array, letter) in batch.columns().iter().zip(types) {
            let vals = column_values(array.as_ref())?;
            columns.push(
                vals.iter()
                    .map(|v| match style {
                        Style::Sqlite => sqlite_text(v, *letter),
                        Style::DuckDb => duckdb_text(v),
                    })
                    .collect::<Vec<_>>(),
            );
        }
        for row in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|col| col.get(row).cloned().unwrap_or_default())
                    .collect(),
            );
        }
    }
    Ok(rows)
}

/// Extracts every value of an array.
pub(crate) fn column_values(array: &dyn Array) -> Result<Vec<Val>, String> {
    let len = array.len();
    let nulls = array.logical_nulls();
    let is_null = |i: usize| nulls.as_ref().is_some_and(|n| n.is_null(i));
    let values = match array.data_type() {
        DataType::Null => vec![Val::Null; len],
        DataType::Boolean => {
            let a = array.as_boolean();
            (0..len).map(|i| Val::Bool(a.value(i))).collect()
        }
        DataType::Int8 => ints::<Int8Type>(array),
        DataType::Int16 => ints::<Int16Type>(array),
        DataType::Int32 => ints::<Int32Type>(array),
        DataType::Int64 => ints::<Int64Type>(array),
        DataType::UInt8 => ints::<UInt8Type>(array),
        DataType::UInt16 => ints::<UInt16Type>(array),
        DataType::UInt32 => ints::<UInt32Type>(array),
        DataType::UInt64 => ints::<UInt64Type>(array),
        DataType::Float16 => {
            let cast_array = cast(array, &DataType::Float32).map_err(|e| e.to_string())?;
            return column_values(cast_array.as_ref());
        }
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            (0..len)
                .map(|i| Val::Float {
                    value: f64::from(a.value(i)),
                    single: true,
                })
                .collect()
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            (0..len)
                .map(|i| Val::Float {
                    value: a.value(i),
                    single: false,
                })
                .collect()
        }
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => displayed(array)?.into_iter().map(Val::Decimal).collect(),
        DataType::Utf8 => strings(len, |i| array.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => strings(len, |i| array.as_string::<i64>().value(i)),
        DataType::Utf8View => strings(len, |i| array.as_string_view().value(i)),
        DataType::Date32 => {
            let a = array.as_primitive::<arrow::datatypes::Date32Type>();
            (0..len)
                .map(|i| Val::Text(date32_text(a.value(i))))
                .collect()
        }
        DataType::Date64 => {
            let a = array.as_primitive::<Date64Type>();
            (0..len)
                .map(|i| Val::Text(date64_text(a.value(i))))
                .collect()
        }
        DataType::Timestamp(unit, tz) => {
            let ints = cast(array, &DataType::Int64).map_err(|e| e.to_string())?;
            let a = ints.as_primitive::<Int64Type>();
            (0..len)
                .map(|i| Val::Text(timestamp_text(a.value(i), *unit, tz.is_some())))
                .collect()
        }
        DataType::Time32(unit) | DataType::Time64(unit) => {
            let ints = cast(array, &DataType::Int64).map_err(|e| e.to_string())?;
            let a = ints.as_primitive::<Int64Type>();
            (0..len)
                .map(|i| Val::Text(time_text(a.value(i), *unit)))
                .collect()
        }
        DataType::Dictionary(_, value_type) => {
            let cast_array = cast(array, value_type).map_err(|e| e.to_string())?;
            return column_values(cast_array.as_ref());
        }
        _ => displayed(array)?.into_iter().map(Val::Text).collect(),
    };
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, v)| if is_null(i) { Val::Null } else { v })
        .collect())
}

fn ints<T>(array: &dyn Array) -> Vec<Val>
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128>,
{
    let a = array.as_primitive::<T>();
    a.values().iter().map(|v| Val::Int((*v).into())).collect()
}

fn strings<'a>(len: usize, value: impl Fn(usize) -> &'a str) -> Vec<Val> {
    (0..len).map(|i| Val::Text(value(i).to_string())).collect()
}

/// Every value rendered by Arrow's display formatter (nulls are replaced by the caller).
fn displayed(array: &dyn Array) -> Result<Vec<String>, String> {
    let options = FormatOptions::new().with_null("NULL");
    let formatter = ArrayFormatter::try_new(array, &options).map_err(|e| e.to_string())?;
    (0..array.len())
        .map(|i| {
            formatter
                .value(i)
                .try_to_string()
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// `YYYY-MM-DD` of a date counted in days (Date32), or the raw number when out of range.
fn date32_text(days: i32) -> String {
    date32_to_datetime(days)
        .map(|dt| dt.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| days.to_string())
}

/// `YYYY-MM-DD` of a date counted in milliseconds (Date64), or the raw number when out of range.
fn date64_text(millis: i64) -> String {
    as_datetime::<Date64Type>(millis)
        .map(|dt| dt.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| millis.to_string())
}

/// Splits a count of `unit`s into whole seconds and the fraction digits (trailing zeros
/// trimmed; empty when the fraction is zero).
fn split_seconds(value: i64, unit: TimeUnit) -> (i64, String) {
    let (per_second, width) = match unit {
        TimeUnit::Second => (1, 0),
        TimeUnit::Millisecond => (1_000, 3),
        TimeUnit::Microsecond => (1_000_000, 6),
        TimeUnit::Nanosecond => (1_000_000_000, 9),
    };
    let seconds = value.div_euclid(per_second);
    let fraction = value.rem_euclid(per_second);
    if fraction == 0 {
        return (seconds, String::new());
    }
    let digits = format!("{fraction:0width$}");
    (seconds, format!(".{}", digits.trim_end_matches('0')))
}

/// `YYYY-MM-DD HH:MM:SS[.fff]`, with `+00` for time-zone aware values (printed in UTC).
fn timestamp_text(value: i64, unit: TimeUnit, with_tz: bool) -> String {
    let (seconds, fraction) = split_seconds(value, unit);
    let Some(base) = as_datetime::<TimestampSecondType>(seconds)
        .map(|dt| dt.format("%Y-%m-%d %H:%M:%S").to_string())
    else {
        return value.to_string();
    };
    let tz = if with_tz { "+00" } else { "" };
    format!("{base}{fraction}{tz}")
}

/// `HH:MM:SS[.fff]` for a time of day.
fn time_text(value: i64, unit: TimeUnit) -> String {
    let (seconds, fraction) = split_seconds(value, unit);
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    format!("{h:02}:{m:02}:{s:02}{fraction}")
}
