//! Date/time fields and truncation: `date_trunc`, `date_part`, `date_diff`, `epoch` and the
//! shortcuts `year`, `quarter`, `month`, `week`, `day`, `dayofweek`, `dayofyear`, `hour`,
//! `minute` and `second`.
//!
//! Dates are `Date32` (days since 1970-01-01) and timestamps `Timestamp(Microsecond, None)`;
//! strings and other timestamp types are cast to the latter. The calendar rules are in
//! `calendar`.
//!
//! `date_part` returns `BIGINT` for every field (`second` and `epoch` as whole seconds, floored)
//! because its return type cannot depend on the field's value; `epoch(x)` gives the seconds with
//! their fraction as `DOUBLE`. `date_part` and `epoch` also take intervals.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, new_null_array};
use arrow::compute::interleave;
use arrow::datatypes::{
    DataType, Date32Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
    TimestampMicrosecondType,
};
use datafusion_common::ScalarValue;

use super::calendar::{
    PART_NAMES, Part, US_PER_DAY, extract, interval_field, interval_seconds, ordinal, out_of_range,
    trunc_days, trunc_us,
};
use super::{Signature, arity, bad_type, builtin, eval, is_string_like};
use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};

/// The timestamp type of the engine.
pub const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

/// The date/time field built-ins.
pub fn functions() -> Vec<Arc<dyn ScalarFunction>> {
    use Part::*;
    let mut all = vec![
        builtin("date_trunc", Signature::Custom(trunc_signature), date_trunc),
        builtin("date_part", Signature::Custom(part_signature), date_part),
        builtin("date_diff", Signature::Custom(diff_signature), date_diff),
        builtin("epoch", Signature::Custom(epoch_signature), epoch),
    ];
    let shortcuts = [
        ("year", Year),
        ("quarter", Quarter),
        ("month", Month),
        ("week", Week),
        ("day", Day),
        ("dayofweek", Dow),
        ("dayofyear", Doy),
        ("hour", Hour),
        ("minute", Minute),
        ("second", Second),
    ];
    all.extend(
        shortcuts.map(|(name, part)| Arc::new(PartFn { name, part }) as Arc<dyn ScalarFunction>),
    );
    all
}

/// The type a date/time argument is cast to: dates stay dates; timestamps, strings and NULL
/// become `TIMESTAMP`.
pub fn temporal_arg(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Date32 => Ok(DataType::Date32),
        DataType::Timestamp(_, _) | DataType::Date64 => Ok(TIMESTAMP),
        t if is_string_like(t) => Ok(TIMESTAMP),
        t => Err(bad_type(name, t)),
    }
}

/// Like [`temporal_arg`], but intervals are accepted too (`date_part`, `epoch`).
fn part_source_arg(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Interval(_) => Ok(DataType::Interval(IntervalUnit::MonthDayNano)),
        t => temporal_arg(name, t),
    }
}

/// Checks that a unit or field argument is a string.
fn name_arg(name: &str, t: &DataType) -> Result<DataType> {
    if is_string_like(t) {
        Ok(DataType::Utf8)
    } else {
        Err(bad_type(name, t))
    }
}

fn trunc_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 2, 2)?;
    // dates are truncated as timestamps and give a timestamp (PostgreSQL, DuckDB)
    temporal_arg(name, &args[1])?;
    Ok((vec![name_arg(name, &args[0])?, TIMESTAMP], TIMESTAMP))
}

fn part_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 2, 2)?;
    Ok((
        vec![name_arg(name, &args[0])?, part_source_arg(name, &args[1])?],
        DataType::Int64,
    ))
}

fn diff_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 3, 3)?;
    temporal_arg(name, &args[1])?;
    temporal_arg(name, &args[2])?;
    Ok((
        vec![name_arg(name, &args[0])?, TIMESTAMP, TIMESTAMP],
        DataType::Int64,
    ))
}

fn epoch_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 1, 1)?;
    Ok((vec![part_source_arg(name, &args[0])?], DataType::Float64))
}

/// Runs `f` for the part named by `arg` — normally one string for all rows; for a column of
/// names, `f` runs once per distinct name and the results are stitched together.
fn by_part(
    name: &str,
    arg: &ColumnarValue,
    units_only: bool,
    ret: &DataType,
    num_rows: usize,
    f: impl Fn(Part) -> Result<ColumnarValue>,
) -> Result<ColumnarValue> {
    let (what, valid) = if units_only {
        ("unit", "units")
    } else {
        ("field", "fields")
    };
    let parse = |s: &str| {
        Part::parse(s)
            .filter(|p| !units_only || p.is_unit())
            .ok_or_else(|| {
                let names = PART_NAMES
                    .iter()
                    .filter(|(p, _)| !units_only || p.is_unit())
                    .map(|(p, _)| p.name());
                let names = names.collect::<Vec<_>>().join(", ");
                Error::plan(format!("{name}: unknown {what} '{s}' ({valid}: {names})"))
            })
    };
    let names = match arg {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s))) => return f(parse(s)?),
        ColumnarValue::Scalar(_) => return Ok(ColumnarValue::Scalar(ScalarValue::try_from(ret)?)),
        ColumnarValue::Array(a) => a
            .as_string_opt::<i32>()
            .ok_or_else(|| Error::internal(format!("{name}: {what} names must be strings")))?,
    };
    let mut seen: Vec<&str> = Vec::new();
    let mut results: Vec<ArrayRef> = vec![new_null_array(ret, 1)];
    let mut indices = Vec::with_capacity(names.len());
    for (row, n) in names.iter().enumerate() {
        let Some(n) = n else {
            indices.push((0, 0));
            continue;
        };
        let k = match seen.iter().position(|s| *s == n) {
            Some(k) => k + 1,
            None => {
                results.push(f(parse(n)?)?.into_array(num_rows)?);
                seen.push(n);
                seen.len()
            }
        };
        indices.push((k, row));
    }
    let arrays = results.iter().map(|a| a.as_ref()).collect::<Vec<_>>();
    Ok(ColumnarValue::Array(interleave(&arrays, &indices)?))
}

fn date_trunc(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    let ret = args[1].data_type();
    by_part("date_trunc", &args[0], true, &ret, num_rows, |unit| {
        eval(&args[1..], num_rows, |a, _| {
            let a = &a[0].array;
            Ok(match a.data_type() {
                DataType::Date32 => Arc::new(
                    a.as_primitive::<Date32Type>()
                        .try_unary::<_, Date32Type, _>(|d| {
                            i32::try_from(trunc_days(unit, i64::from(d)))
                                .map_err(|_| out_of_range("date_trunc"))
                        })?,
                ),
                DataType::Timestamp(TimeUnit::Microsecond, _) => Arc::new(
                    a.as_primitive::<TimestampMicrosecondType>()
                        .try_unary::<_, TimestampMicrosecondType, _>(|us| trunc_us(unit, us))?
                        .with_data_type(a.data_type().clone()),
                ),
                t => return Err(Error::internal(format!("date_trunc got {t}"))),
            })
        })
    })
}

/// Field `part` of every value of a date, timestamp or interval array, as `BIGINT`.
fn part_array(name: &str, part: Part, a: &ArrayRef) -> Result<ArrayRef> {
    let out: Int64Array = match a.data_type() {
        DataType::Date32 => a
            .as_primitive::<Date32Type>()
            .unary(|d| extract(part, i64::from(d), 0)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => a
            .as_primitive::<TimestampMicrosecondType>()
            .unary(|us| extract(part, us.div_euclid(US_PER_DAY), us.rem_euclid(US_PER_DAY))),
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            if interval_field(part, IntervalMonthDayNano::ZERO).is_none() {
                return Err(Error::plan(format!(
                    "{name}: field '{}' does not apply to intervals",
                    part.name()
                )));
            }
            a.as_primitive::<IntervalMonthDayNanoType>()
                .unary(|iv| interval_field(part, iv).unwrap_or_default())
        }
        t => return Err(Error::internal(format!("{name} got {t}"))),
    };
    Ok(Arc::new(out))
}

fn date_part(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    by_part(
        "date_part",
        &args[0],
        false,
        &DataType::Int64,
        num_rows,
        |part| {
            eval(&args[1..], num_rows, |a, _| {
                part_array("date_part", part, &a[0].array)
            })
        },
    )
}

/// `date_diff(unit, a, b)`: the number of `unit` boundaries crossed going from `a` to `b`
/// (negative when `b` is earlier), as DuckDB counts them.
fn date_diff(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    by_part(
        "date_diff",
        &args[0],
        true,
        &DataType::Int64,
        num_rows,
        |unit| {
            eval(&args[1..], num_rows, |a, rows| {
                let (x, y) = (
                    a[0].primitive::<TimestampMicrosecondType>()?,
                    a[1].primitive::<TimestampMicrosecondType>()?,
                );
                let out = (0..rows)
                    .map(|i| {
                        let (Some(x), Some(y)) = (x.get(i), y.get(i)) else {
                            return Ok(None);
                        };
                        i64::try_from(ordinal(unit, y) - ordinal(unit, x))
                            .map(Some)
                            .map_err(|_| out_of_range("date_diff"))
                    })
                    .collect::<Result<Int64Array>>()?;
                Ok(Arc::new(out))
            })
        },
    )
}

/// `epoch(x)`: seconds since 1970-01-01 00:00:00 as `DOUBLE`, with the fraction.
fn epoch(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    eval(args, num_rows, |a, _| {
        let a = &a[0].array;
        let out: Float64Array = match a.data_type() {
            DataType::Date32 => a
                .as_primitive::<Date32Type>()
                .unary(|d| f64::from(d) * 86_400.0),
            DataType::Timestamp(TimeUnit::Microsecond, _) => a
                .as_primitive::<TimestampMicrosecondType>()
                .unary(|us| us as f64 / 1e6),
            DataType::Interval(IntervalUnit::MonthDayNano) => a
                .as_primitive::<IntervalMonthDayNanoType>()
                .unary(interval_seconds),
            t => return Err(Error::internal(format!("epoch got {t}"))),
        };
        Ok(Arc::new(out))
    })
}

/// A one-argument shortcut for `date_part` with a fixed field, e.g. `year(x)`.
#[derive(Debug)]
struct PartFn {
    name: &'static str,
    part: Part,
}

impl ScalarFunction for PartFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        arity(self.name, arg_types, 1, 1)?;
        Ok((
            vec![temporal_arg(self.name, &arg_types[0])?],
            DataType::Int64,
        ))
    }
    fn invoke(&self, args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
        eval(args, num_rows, |a, _| {
            part_array(self.name, self.part, &a[0].array)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::calendar::days_from_civil;
    use super::super::test_util::*;
    use super::*;
    use crate::error::ErrorKind;
    use arrow::array::{Date32Array, TimestampMicrosecondArray};

    fn ts(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64, us: i64) -> i64 {
        days_from_civil(y, mo, d) * US_PER_DAY + ((h * 60 + mi) * 60 + s) * 1_000_000 + us
    }

    fn ts_scalar(v: i64) -> ScalarValue {
        ScalarValue::TimestampMicrosecond(Some(v), None)
    }

    fn date(y: i64, m: u32, d: u32) -> ScalarValue {
        ScalarValue::Date32(Some(days_from_civil(y, m, d) as i32))
    }

    fn date_as_ts(y: i64, m: u32, d: u32) -> ScalarValue {
        ts_scalar(ts(y, m, d, 0, 0, 0, 0))
    }

    #[test]
    fn date_trunc_of_dates_is_a_timestamp() {
        let (args, ret) =
            trunc_signature("date_trunc", &[DataType::Utf8, DataType::Date32]).unwrap();
        assert_eq!(args[1], TIMESTAMP);
        assert_eq!(ret, TIMESTAMP);
    }

    #[test]
    fn date_trunc_units() {
        let t = ts(2024, 5, 15, 13, 45, 30, 123_456); // a Wednesday
        let cases = [
            ("microseconds", t),
            ("millisecond", ts(2024, 5, 15, 13, 45, 30, 123_000)),
            ("second", ts(2024, 5, 15, 13, 45, 30, 0)),
            ("MINUTE", ts(2024, 5, 15, 13, 45, 0, 0)),
            ("hour", ts(2024, 5, 15, 13, 0, 0, 0)),
            ("day", ts(2024, 5, 15, 0, 0, 0, 0)),
            ("week", ts(2024, 5, 13, 0, 0, 0, 0)),
            ("month", ts(2024, 5, 1, 0, 0, 0, 0)),
            ("quarter", ts(2024, 4, 1, 0, 0, 0, 0)),
            ("year", ts(2024, 1, 1, 0, 0, 0, 0)),
            ("decade", ts(2020, 1, 1, 0, 0, 0, 0)),
            ("century", ts(2001, 1, 1, 0, 0, 0, 0)),
            ("millennium", ts(2001, 1, 1, 0, 0, 0, 0)),
        ];
        for (unit, want) in cases {
            assert_eq!(
                call_scalars("date_trunc", vec![s(unit), ts_scalar(t)]).unwrap(),
                ts_scalar(want),
                "{unit}"
            );
        }
        let before_epoch = ts(1969, 12, 31, 23, 59, 59, 500_000);
        let out = call_scalars("date_trunc", vec![s("second"), ts_scalar(before_epoch)]).unwrap();
        assert_eq!(out, ts_scalar(ts(1969, 12, 31, 23, 59, 59, 0)));
        let out = call_scalars("date_trunc", vec![s("week"), date_as_ts(2024, 5, 19)]).unwrap();
        assert_eq!(out, date_as_ts(2024, 5, 13));
        let out = call_scalars("date_trunc", vec![s("century"), date_as_ts(2000, 12, 31)]).unwrap();
        assert_eq!(out, date_as_ts(1901, 1, 1));
        let out = call_scalars("date_trunc", vec![s("month"), s("2020-02-29 10:00:00")]).unwrap();
        assert_eq!(out, ts_scalar(ts(2020, 2, 1, 0, 0, 0, 0)));
        assert!(call_scalars("date_trunc", vec![s("second"), ts_scalar(i64::MIN)]).is_err());
    }

    #[test]
    fn date_trunc_bad_and_null_units() {
        let e = call_scalars("date_trunc", vec![s("fortnight"), date(2024, 1, 1)]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Plan);
        assert!(
            e.message().starts_with(
                "date_trunc: unknown unit 'fortnight' (units: nanosecond, microsecond,"
            )
        );
        assert!(
            err_msg(call_scalars("date_trunc", vec![s("dow"), date(2024, 1, 1)]))
                .contains("unknown unit 'dow'")
        );
        let out = call_scalars(
            "date_trunc",
            vec![ScalarValue::Utf8(None), date_as_ts(2024, 1, 1)],
        )
        .unwrap();
        assert_eq!(out, ScalarValue::TimestampMicrosecond(None, None));
        let out = call_scalars("date_trunc", vec![s("day"), ScalarValue::Null]).unwrap();
        assert_eq!(out, ScalarValue::TimestampMicrosecond(None, None));
        assert!(
            func("date_trunc")
                .signature(&[DataType::Utf8, DataType::Int64])
                .is_err()
        );
    }

    #[test]
    fn units_from_a_column() {
        let t = ts(2024, 5, 15, 13, 45, 30, 0);
        let units = strs(&[Some("year"), None, Some("month"), Some("year")]);
        let values: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![t; 4]));
        let out = call("date_trunc", vec![units.clone(), values.clone()]).unwrap();
        let want = TimestampMicrosecondArray::from(vec![
            Some(ts(2024, 1, 1, 0, 0, 0, 0)),
            None,
            Some(ts(2024, 5, 1, 0, 0, 0, 0)),
            Some(ts(2024, 1, 1, 0, 0, 0, 0)),
        ]);
        assert_eq!(out.as_ref(), &want as &dyn Array);
        let out = call("date_part", vec![units, values]).unwrap();
        assert_eq!(
            out.as_ref(),
            ints(&[Some(2024), None, Some(5), Some(2024)]).as_ref()
        );
        assert!(
            call(
                "date_part",
                vec![strs(&[Some("bogus")]), Arc::new(Date32Array::from(vec![0]))]
            )
            .is_err()
        );
    }

    #[test]
    fn date_part_fields() {
        let t = ts_scalar(ts(2024, 5, 19, 13, 45, 30, 123_456)); // a Sunday
        let cases = [
            ("year", 2024),
            ("quarter", 2),
            ("month", 5),
            ("day", 19),
            ("hour", 13),
            ("minute", 45),
            ("second", 30),
            ("millisecond", 30_123),
            ("microseconds", 30_123_456),
            ("nanosecond", 30_123_456_000),
            ("dow", 0),
            ("isodow", 7),
            ("doy", 140),
            ("week", 20),
            ("isoyear", 2024),
            ("decade", 202),
            ("century", 21),
            ("millennium", 3),
            ("epoch", ts(2024, 5, 19, 13, 45, 30, 0) / 1_000_000),
        ];
        for (field, want) in cases {
            assert_eq!(
                call_scalars("date_part", vec![s(field), t.clone()]).unwrap(),
                i(want),
                "{field}"
            );
        }
        // 2021-01-01 is a Friday in ISO week 53 of 2020
        assert_eq!(
            call_scalars("date_part", vec![s("week"), date(2021, 1, 1)]).unwrap(),
            i(53)
        );
        assert_eq!(
            call_scalars("date_part", vec![s("isoyear"), date(2021, 1, 1)]).unwrap(),
            i(2020)
        );
        assert_eq!(
            call_scalars("date_part", vec![s("hour"), date(2021, 1, 1)]).unwrap(),
            i(0)
        );
        assert_eq!(
            call_scalars("date_part", vec![s("century"), date(2000, 6, 1)]).unwrap(),
            i(20)
        );
        assert_eq!(
            call_scalars("date_part", vec![s("century"), date(-50, 6, 1)]).unwrap(),
            i(-1)
        );
        assert_eq!(
            call_scalars("extract", vec![s("year"), s("1995-03-01")]).unwrap(),
            i(1995)
        );
        let e = err_msg(call_scalars(
            "date_part",
            vec![s("fortnight"), date(2021, 1, 1)],
        ));
        assert!(
            e.starts_with("date_part: unknown field 'fortnight' (fields: nanosecond,"),
            "{e}"
        );
        let out = call_scalars("date_part", vec![s("year"), ScalarValue::Date32(None)]).unwrap();
        assert_eq!(out, ScalarValue::Int64(None));
    }

    #[test]
    fn interval_fields() {
        // 1 year 14 months 3 days 25:61:02.5
        let ns = ((25 * 60 + 61) * 60 + 2) * 1_000_000_000 + 500_000_000;
        let iv = ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(26, 3, ns)));
        let cases = [
            ("year", 2),
            ("month", 2),
            ("quarter", 1),
            ("day", 3),
            ("hour", 26),
            ("minute", 1),
            ("second", 2),
            ("millisecond", 2_500),
            (
                "epoch",
                63_115_200 + 60 * 86_400 + 3 * 86_400 + ns / 1_000_000_000,
            ),
        ];
        for (field, want) in cases {
            let got = call_scalars("date_part", vec![s(field), iv.clone()]).unwrap();
            assert_eq!(got, i(want), "{field}");
        }
        let neg = ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(
            0,
            0,
            -61 * 60_000_000_000,
        )));
        assert_eq!(
            call_scalars("date_part", vec![s("minute"), neg.clone()]).unwrap(),
            i(-1)
        );
        assert_eq!(call_scalars("epoch", vec![neg]).unwrap(), f(-3660.0));
        let e = call_scalars("date_part", vec![s("dow"), iv]).unwrap_err();
        assert_eq!(
            e.message(),
            "date_part: field 'dow' does not apply to intervals"
        );
        assert!(
            func("date_trunc")
                .signature(&[
                    DataType::Utf8,
                    DataType::Interval(IntervalUnit::MonthDayNano)
                ])
                .is_err()
        );
    }

    #[test]
    fn shortcuts_epoch_and_diff() {
        let d = date(1995, 3, 15);
        assert_eq!(call_scalars("year", vec![d.clone()]).unwrap(), i(1995));
        assert_eq!(call_scalars("month", vec![d.clone()]).unwrap(), i(3));
        assert_eq!(call_scalars("dayofmonth", vec![d.clone()]).unwrap(), i(15));
        assert_eq!(call_scalars("quarter", vec![d.clone()]).unwrap(), i(1));
        assert_eq!(call_scalars("dayofweek", vec![d.clone()]).unwrap(), i(3));
        assert_eq!(
            call_scalars("second", vec![ts_scalar(ts(2000, 1, 1, 0, 0, 7, 9))]).unwrap(),
            i(7)
        );
        let ep = call_scalars("epoch", vec![ts_scalar(-1_500_000)]).unwrap();
        assert_eq!(ep, f(-1.5));
        assert_eq!(
            call_scalars("epoch", vec![date(1970, 1, 2)]).unwrap(),
            f(86_400.0)
        );
        let diff = |unit, a: ScalarValue, b: ScalarValue| {
            call_scalars("date_diff", vec![s(unit), a, b]).unwrap()
        };
        let (a, b) = (
            ts_scalar(ts(2024, 1, 31, 23, 0, 0, 0)),
            ts_scalar(ts(2024, 2, 1, 1, 0, 0, 0)),
        );
        assert_eq!(diff("day", a.clone(), b.clone()), i(1));
        assert_eq!(diff("hour", a.clone(), b.clone()), i(2));
        assert_eq!(diff("month", a.clone(), b.clone()), i(1));
        assert_eq!(diff("year", b.clone(), a.clone()), i(0));
        assert_eq!(diff("month", b, a), i(-1));
        assert_eq!(diff("year", date(2023, 12, 31), date(2024, 1, 1)), i(1));
        assert_eq!(diff("week", date(2024, 5, 19), date(2024, 5, 20)), i(1));
        assert_eq!(diff("ns", ts_scalar(0), ts_scalar(2)), i(2_000));
        assert_eq!(diff("quarter", date(2024, 3, 31), date(2025, 4, 1)), i(5));
        let far = vec![s("microsecond"), ts_scalar(i64::MIN), ts_scalar(i64::MAX)];
        assert!(err_msg(call_scalars("date_diff", far)).contains("out of range"));
    }
}
