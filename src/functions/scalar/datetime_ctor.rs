//! Functions that make dates and timestamps: `make_date`, `to_date`, `to_timestamp`,
//! `last_day`, `current_date` and `now`.
//!
//! `current_date` and `now` read the clock at each call, in UTC, and are volatile.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow::array::{Array, AsArray, Date32Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimestampMicrosecondType};
use datafusion_common::ScalarValue;

use super::calendar::{US_PER_DAY, civil_from_days, days_from_civil, days_in_month};
use super::datetime::{TIMESTAMP, temporal_arg};
use super::{Param, Signature, arity, builtin, eval, volatile_builtin};
use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};

/// The date-making built-ins.
pub fn functions() -> Vec<Arc<dyn ScalarFunction>> {
    use Param::{Float, Int, Str};
    vec![
        builtin(
            "make_date",
            Signature::exact(&[Int, Int, Int], DataType::Date32),
            make_date,
        ),
        builtin(
            "to_date",
            Signature::exact(&[Str], DataType::Date32),
            to_date,
        ),
        builtin(
            "to_timestamp",
            Signature::exact(&[Float], TIMESTAMP),
            to_timestamp,
        ),
        builtin("last_day", Signature::Custom(last_day_signature), last_day),
        volatile_builtin(
            "current_date",
            Signature::exact(&[], DataType::Date32),
            current_date,
        ),
        volatile_builtin("now", Signature::exact(&[], TIMESTAMP), now),
    ]
}

/// Days since 1970-01-01 of a valid date that fits a `DATE`, else `None`.
fn checked_date(y: i64, m: i64, d: i64) -> Option<i32> {
    let m = u32::try_from(m).ok().filter(|m| (1..=12).contains(m))?;
    // keeps days_from_civil far from overflow; DATE covers about ±5.8 million years
    let y = Some(y).filter(|y| y.unsigned_abs() < 10_000_000)?;
    let d = u32::try_from(d)
        .ok()
        .filter(|d| (1..=days_in_month(y, m)).contains(d))?;
    i32::try_from(days_from_civil(y, m, d)).ok()
}

/// `make_date(year, month, day)`; an invalid date is an error.
fn make_date(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, rows| {
        let parts = a
            .iter()
            .map(|x| x.primitive::<Int64Type>())
            .collect::<Result<Vec<_>>>()?;
        let out = (0..rows)
            .map(|i| {
                let (Some(y), Some(m), Some(d)) =
                    (parts[0].get(i), parts[1].get(i), parts[2].get(i))
                else {
                    return Ok(None);
                };
                checked_date(y, m, d).map(Some).ok_or_else(|| {
                    Error::execution(format!("make_date: {y}-{m}-{d} is not a valid date"))
                })
            })
            .collect::<Result<Date32Array>>()?;
        Ok(Arc::new(out))
    })
}

/// Parses `[-]YYYY-MM-DD`: 4 to 7 year digits, 1 or 2 month and day digits, surrounding spaces
/// allowed; negative years are astronomical (year 0 is 1 BC).
fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    let (sign, rest) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s),
    };
    let mut fields = rest.splitn(3, '-');
    let mut next = |min_len: usize, max_len: usize| {
        fields
            .next()
            .filter(|f| {
                (min_len..=max_len).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit())
            })
            .and_then(|f| f.parse::<i64>().ok())
    };
    let (y, m, d) = (next(4, 7)?, next(1, 2)?, next(1, 2)?);
    checked_date(sign * y, m, d)
}

/// `to_date(s)`: a `YYYY-MM-DD` string as a date; anything else is an error.
fn to_date(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        let out: Date32Array = a[0]
            .strings()?
            .array()
            .iter()
            .map(|v| match v {
                None => Ok(None),
                Some(v) => parse_date(v).map(Some).ok_or_else(|| {
                    Error::execution(format!(
                        "to_date: '{v}' is not a valid date (expected YYYY-MM-DD)"
                    ))
                }),
            })
            .collect::<Result<_>>()?;
        Ok(Arc::new(out))
    })
}

/// `to_timestamp(seconds)`: the timestamp that many seconds after 1970-01-01 00:00:00.
fn to_timestamp(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        let out: TimestampMicrosecondArray =
            a[0].primitive::<Float64Type>()?.array().try_unary(|s| {
                let us = (s * 1e6).round();
                // `as` saturates, so compare in floating point before converting
                if us.is_finite() && us >= i64::MIN as f64 && us < i64::MAX as f64 {
                    Ok(us as i64)
                } else {
                    Err(Error::execution(format!(
                        "to_timestamp: {s} seconds is out of range"
                    )))
                }
            })?;
        Ok(Arc::new(out))
    })
}

fn last_day_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 1, 1)?;
    Ok((vec![temporal_arg(name, &args[0])?], DataType::Date32))
}

/// `last_day(x)`: the last day of the month of a date or timestamp.
fn last_day(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    fn month_end(days: i64) -> Result<i32> {
        let (y, m, _) = civil_from_days(days);
        i32::try_from(days_from_civil(y, m, days_in_month(y, m)))
            .map_err(|_| Error::execution("last_day: date out of range"))
    }
    eval(args, num_rows, |a, _| {
        let a = &a[0].array;
        let out: Date32Array = match a.data_type() {
            DataType::Date32 => a
                .as_primitive::<Date32Type>()
                .try_unary(|d| month_end(i64::from(d)))?,
            _ => a
                .as_primitive_opt::<TimestampMicrosecondType>()
                .ok_or_else(|| Error::internal(format!("last_day got {}", a.data_type())))?
                .try_unary(|us| month_end(us.div_euclid(US_PER_DAY)))?,
        };
        Ok(Arc::new(out))
    })
}

/// Microseconds since 1970-01-01 00:00:00 UTC.
fn now_micros() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

fn current_date(_: &[ColumnarValue], _: usize) -> Result<ColumnarValue> {
    let days = i32::try_from(now_micros().div_euclid(US_PER_DAY)).unwrap_or(i32::MAX);
    Ok(ColumnarValue::Scalar(ScalarValue::Date32(Some(days))))
}

fn now(_: &[ColumnarValue], _: usize) -> Result<ColumnarValue> {
    Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(
        Some(now_micros()),
        None,
    )))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    fn date(y: i64, m: u32, d: u32) -> ScalarValue {
        ScalarValue::Date32(Some(days_from_civil(y, m, d) as i32))
    }

    #[test]
    fn make_date_validates() {
        assert_eq!(
            call_scalars("make_date", vec![i(2024), i(2), i(29)]).unwrap(),
            date(2024, 2, 29)
        );
        let e = err_msg(call_scalars("make_date", vec![i(2023), i(2), i(29)]));
        assert_eq!(e, "make_date: 2023-2-29 is not a valid date");
        assert!(call_scalars("make_date", vec![i(2023), i(13), i(1)]).is_err());
        assert!(call_scalars("make_date", vec![i(2023), i(0), i(1)]).is_err());
        assert!(call_scalars("make_date", vec![i(i64::MAX), i(1), i(1)]).is_err());
        assert!(call_scalars("make_date", vec![i(6_000_000), i(1), i(1)]).is_err());
        let null = call_scalars("make_date", vec![i(2023), ScalarValue::Null, i(1)]).unwrap();
        assert_eq!(null, ScalarValue::Date32(None));
    }

    #[test]
    fn to_date_parses_iso_dates() {
        assert_eq!(
            call_scalars("to_date", vec![s("1995-03-15")]).unwrap(),
            date(1995, 3, 15)
        );
        assert_eq!(
            call_scalars("to_date", vec![s(" 2024-2-9 ")]).unwrap(),
            date(2024, 2, 9)
        );
        assert_eq!(
            call_scalars("to_date", vec![s("-0044-03-15")]).unwrap(),
            date(-44, 3, 15)
        );
        for bad in [
            "1995-02-30",
            "95-03-15",
            "1995/03/15",
            "1995-03-15x",
            "",
            "1995-+3-15",
        ] {
            let e = err_msg(call_scalars("to_date", vec![s(bad)]));
            assert!(e.contains("is not a valid date"), "{bad}: {e}");
        }
        let out = call("to_date", vec![strs(&[Some("2000-01-01"), None])]).unwrap();
        assert_eq!(
            out.as_ref(),
            &Date32Array::from(vec![Some(10_957), None]) as &dyn Array
        );
    }

    #[test]
    fn to_timestamp_and_last_day() {
        let out = call_scalars("to_timestamp", vec![f(1.5)]).unwrap();
        assert_eq!(
            out,
            ScalarValue::TimestampMicrosecond(Some(1_500_000), None)
        );
        assert!(call_scalars("to_timestamp", vec![f(f64::INFINITY)]).is_err());
        assert!(call_scalars("to_timestamp", vec![f(1e300)]).is_err());
        assert_eq!(
            call_scalars("last_day", vec![date(2024, 2, 10)]).unwrap(),
            date(2024, 2, 29)
        );
        assert_eq!(
            call_scalars("last_day", vec![date(2023, 12, 1)]).unwrap(),
            date(2023, 12, 31)
        );
        let ts = ScalarValue::TimestampMicrosecond(
            Some(days_from_civil(1999, 4, 3) * US_PER_DAY + 5),
            None,
        );
        assert_eq!(
            call_scalars("last_day", vec![ts]).unwrap(),
            date(1999, 4, 30)
        );
        assert_eq!(
            call_scalars("last_day", vec![ScalarValue::Null]).unwrap(),
            ScalarValue::Date32(None)
        );
    }

    #[test]
    fn clock_functions() {
        let today = func("current_date");
        assert!(today.volatile());
        let ColumnarValue::Scalar(ScalarValue::Date32(Some(d))) = today.invoke(&[], 5).unwrap()
        else {
            panic!("current_date is not a date scalar")
        };
        assert!(d > 19_000, "after 2022");
        let ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(Some(t), None)) =
            func("now").invoke(&[], 1).unwrap()
        else {
            panic!("now is not a timestamp scalar")
        };
        assert_eq!(t.div_euclid(US_PER_DAY), i64::from(d));
        assert!(
            func("current_timestamp")
                .signature(&[DataType::Int64])
                .is_err()
        );
    }
}
