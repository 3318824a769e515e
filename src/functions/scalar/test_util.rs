//! Helpers for the unit tests of the function modules, and tests that run every built-in on
//! NULLs, empty and awkward input.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

use super::{ALIASES, builtins};
use crate::error::Result;
use crate::functions::{ColumnarValue, ScalarFunction};

/// Looks up a built-in (or alias) by name.
pub fn func(name: &str) -> Arc<dyn ScalarFunction> {
    let target = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, t)| *t);
    builtins()
        .into_iter()
        .find(|f| f.name() == target)
        .unwrap_or_else(|| panic!("no function {name}"))
}

/// Plans and runs `name` on arrays (all of one length), casting them as the signature asks.
pub fn call(name: &str, args: Vec<ArrayRef>) -> Result<ArrayRef> {
    let rows = args.first().map_or(1, |a| a.len());
    let values = args
        .into_iter()
        .map(ColumnarValue::Array)
        .collect::<Vec<_>>();
    call_values(name, values, rows)?.into_array(rows)
}

/// Plans and runs `name` on columnar values, casting them as the signature asks.
pub fn call_values(name: &str, args: Vec<ColumnarValue>, rows: usize) -> Result<ColumnarValue> {
    let f = func(name);
    let types = args.iter().map(|a| a.data_type()).collect::<Vec<_>>();
    let (casts, ret) = f.signature(&types)?;
    let args = args
        .into_iter()
        .zip(&casts)
        .map(|(a, t)| {
            Ok(match a {
                ColumnarValue::Array(a) => ColumnarValue::Array(arrow::compute::cast(&a, t)?),
                ColumnarValue::Scalar(s) => ColumnarValue::Scalar(s.cast_to(t)?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let out = f.invoke(&args, rows)?;
    assert!(
        out.data_type() == ret || out.data_type() == DataType::Null,
        "{name}: planned {ret}, produced {}",
        out.data_type()
    );
    Ok(out)
}

/// Runs `name` on scalars only and returns the scalar result.
pub fn call_scalars(name: &str, args: Vec<ScalarValue>) -> Result<ScalarValue> {
    match call_values(
        name,
        args.into_iter().map(ColumnarValue::Scalar).collect(),
        3,
    )? {
        ColumnarValue::Scalar(s) => Ok(s),
        ColumnarValue::Array(a) => {
            panic!("{name}: scalar arguments gave an array of {}", a.len())
        }
    }
}

/// A string scalar.
pub fn s(v: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(v.to_string()))
}

/// An Int64 scalar.
pub fn i(v: i64) -> ScalarValue {
    ScalarValue::Int64(Some(v))
}

/// A Float64 scalar.
pub fn f(v: f64) -> ScalarValue {
    ScalarValue::Float64(Some(v))
}

/// A string array.
pub fn strs(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

/// An Int64 array.
pub fn ints(v: &[Option<i64>]) -> ArrayRef {
    Arc::new(arrow::array::Int64Array::from(v.to_vec()))
}

/// A Float64 array.
pub fn floats(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(arrow::array::Float64Array::from(v.to_vec()))
}

/// The error message of a failed call.
pub fn err_msg<T: std::fmt::Debug>(r: Result<T>) -> String {
    r.expect_err("expected an error").message().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-ins that evaluate (`grouping` gets its values from the SELECT planner).
    fn builtins() -> Vec<Arc<dyn crate::functions::ScalarFunction>> {
        super::builtins()
            .into_iter()
            .filter(|f| f.name() != "grouping")
            .collect()
    }

    #[test]
    fn null_arguments_are_accepted_everywhere() {
        for f in builtins() {
            for n in 0..=3 {
                let types = vec![DataType::Null; n];
                if let Ok((casts, _)) = f.signature(&types) {
                    let args = casts
                        .iter()
                        .map(|t| ColumnarValue::Scalar(ScalarValue::try_from(t).unwrap()))
                        .collect::<Vec<_>>();
                    let out = f.invoke(&args, 2);
                    assert!(out.is_ok(), "{}({n} NULLs): {:?}", f.name(), out.err());
                }
            }
        }
    }

    #[test]
    fn zero_row_arrays_give_zero_rows() {
        for f in builtins() {
            for n in 1..=3 {
                let types = vec![DataType::Null; n];
                if let Ok((casts, _)) = f.signature(&types) {
                    let args = casts
                        .iter()
                        .map(|t| ColumnarValue::Array(arrow::array::new_empty_array(t)))
                        .collect::<Vec<_>>();
                    let out = f
                        .invoke(&args, 0)
                        .unwrap_or_else(|e| panic!("{}: {e}", f.name()));
                    assert_eq!(out.into_array(0).unwrap().len(), 0, "{}", f.name());
                }
            }
        }
    }

    #[test]
    fn all_null_arrays_keep_their_length() {
        for f in builtins() {
            for n in 1..=3 {
                if let Ok((casts, _)) = f.signature(&vec![DataType::Null; n]) {
                    let args = casts
                        .iter()
                        .map(|t| ColumnarValue::Array(arrow::array::new_null_array(t, 4)))
                        .collect::<Vec<_>>();
                    let out = f
                        .invoke(&args, 4)
                        .unwrap_or_else(|e| panic!("{}: {e}", f.name()));
                    assert_eq!(out.into_array(4).unwrap().len(), 4, "{}", f.name());
                }
            }
        }
    }

    /// Sample columns of awkward values, one per type.
    fn samples() -> Vec<ArrayRef> {
        use arrow::array::*;
        use arrow::datatypes::IntervalMonthDayNano;
        let ts = TimestampMicrosecondArray::from(vec![
            Some(0),
            Some(-1),
            Some(i64::MIN),
            Some(i64::MAX),
            None,
            Some(1 << 50),
        ]);
        vec![
            Arc::new(Int64Array::from(vec![
                Some(0),
                Some(-1),
                Some(i64::MIN),
                Some(i64::MAX),
                None,
                Some(3),
            ])),
            Arc::new(Int32Array::from(vec![
                Some(0),
                Some(-1),
                Some(i32::MIN),
                Some(i32::MAX),
                None,
                Some(7),
            ])),
            Arc::new(UInt64Array::from(vec![
                Some(0),
                Some(1),
                Some(u64::MAX),
                Some(2),
                None,
                Some(9),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(-0.0),
                Some(f64::NAN),
                Some(f64::INFINITY),
                Some(-1e308),
                None,
                Some(2.5),
            ])),
            Arc::new(StringArray::from(vec![
                Some(""),
                Some("héllo wörld"),
                Some(" year "),
                Some("-1"),
                None,
                Some("2024-02-29"),
            ])),
            Arc::new(Date32Array::from(vec![
                Some(0),
                Some(-1),
                Some(i32::MIN),
                Some(i32::MAX),
                None,
                Some(19_000),
            ])),
            Arc::new(ts),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
                None,
                Some(false),
            ])),
            Arc::new(
                Decimal128Array::from(vec![
                    Some(0),
                    Some(-1),
                    Some(99_999_999_999_999_999_999_999_999_999_999_999_999),
                    Some(5),
                    None,
                    Some(-15),
                ])
                .with_precision_and_scale(38, 1)
                .unwrap(),
            ),
            Arc::new(IntervalMonthDayNanoArray::from(vec![
                Some(IntervalMonthDayNano::new(0, 0, 0)),
                Some(IntervalMonthDayNano::new(-1, -1, -1)),
                Some(IntervalMonthDayNano::new(i32::MIN, i32::MIN, i64::MIN)),
                Some(IntervalMonthDayNano::new(i32::MAX, i32::MAX, i64::MAX)),
                None,
                Some(IntervalMonthDayNano::new(14, 3, 90_000_000_000)),
            ])),
            Arc::new(NullArray::new(6)),
        ]
    }

    /// Every function on every combination of sample types (up to 3 arguments), as arrays, as
    /// scalars (row 1) and mixed (row 2 as scalars after an array): errors are fine, panics and
    /// wrong lengths are not.
    #[test]
    fn awkward_inputs_never_panic() {
        let samples = samples();
        let mut combos: Vec<Vec<usize>> = vec![vec![]];
        for _ in 0..3 {
            let longer: Vec<Vec<usize>> = combos
                .iter()
                .filter(|c| c.len() == combos.last().map_or(0, |l| l.len()))
                .flat_map(|c| (0..samples.len()).map(move |k| [c.clone(), vec![k]].concat()))
                .collect();
            combos.extend(longer);
        }
        let (rows, mut ran) = (6, 0);
        for f in builtins() {
            for combo in &combos {
                let types = combo
                    .iter()
                    .map(|&k| samples[k].data_type().clone())
                    .collect::<Vec<_>>();
                let Ok((casts, _)) = f.signature(&types) else {
                    continue;
                };
                let arrays = combo
                    .iter()
                    .zip(&casts)
                    .map(|(&k, t)| arrow::compute::cast(&samples[k], t))
                    .collect::<std::result::Result<Vec<_>, _>>();
                let Ok(arrays) = arrays else { continue };
                for shape in 0..3 {
                    let args = arrays
                        .iter()
                        .enumerate()
                        .map(|(pos, a)| match (shape, pos) {
                            (0, _) | (2, 0) => ColumnarValue::Array(a.clone()),
                            _ => ColumnarValue::Scalar(
                                ScalarValue::try_from_array(a, shape).unwrap(),
                            ),
                        })
                        .collect::<Vec<_>>();
                    if let Ok(out) = f.invoke(&args, rows) {
                        let len = out.into_array(rows).unwrap().len();
                        assert_eq!(len, rows, "{}({types:?}) shape {shape}", f.name());
                        ran += 1;
                    }
                }
            }
        }
        assert!(ran > 5_000, "only {ran} calls succeeded");
    }
}
