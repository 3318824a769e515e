//! Conditional and comparison functions: `coalesce`, `nullif`, `greatest`, `least` and `typeof`;
//! also `grouping`, which only the SELECT planner gives a value.
//!
//! `coalesce`, `greatest` and `least` cast every argument to the common supertype of all of them
//! (the rules `CASE` uses, see `logical::coercion`); NULL arguments do not take part.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::compute::kernels::boolean::{is_not_null, is_null, or};
use arrow::compute::kernels::cmp;
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

use super::{Signature, arity, builtin, eval};
use crate::error::{Error, Result};
use crate::functions::{ColumnarValue, ScalarFunction};
use crate::logical::coercion::common_supertype;
use crate::logical::types::sql_type_name;

/// The conditional built-ins.
pub fn functions() -> Vec<Arc<dyn ScalarFunction>> {
    vec![
        builtin("coalesce", Signature::Custom(common_signature), coalesce),
        builtin("greatest", Signature::Custom(common_signature), |a, n| {
            extreme(a, n, true)
        }),
        builtin("least", Signature::Custom(common_signature), |a, n| {
            extreme(a, n, false)
        }),
        builtin("nullif", Signature::Custom(common_signature), nullif),
        builtin("typeof", Signature::Custom(typeof_signature), typeof_),
        builtin("grouping", Signature::Custom(grouping_signature), |_, _| {
            Err(Error::plan(
                "GROUPING() is only allowed in the select list, HAVING or ORDER BY of a query \
                 with GROUP BY",
            ))
        }),
    ]
}

/// `grouping(k1, ..., kn)`: which of the GROUP BY keys a row's grouping set leaves out, as bits
/// (k1 highest). The SELECT planner replaces each call by its value per grouping set
/// (`sql::grouping_sets`); evaluated anywhere else it fails.
fn grouping_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 1, 63)?;
    Ok((args.to_vec(), DataType::Int64))
}

/// Every argument cast to the common supertype, which is also the result type (`nullif` takes
/// exactly two arguments, the others at least one).
fn common_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    if name == "nullif" {
        arity(name, args, 2, 2)?;
    } else {
        arity(name, args, 1, usize::MAX)?;
    }
    let t = common_supertype(args).ok_or_else(|| {
        let names = args
            .iter()
            .map(sql_type_name)
            .collect::<Vec<_>>()
            .join(", ");
        Error::type_mismatch(format!("{name}() cannot mix types {names}"))
    })?;
    Ok((vec![t.clone(); args.len()], t))
}

/// `coalesce(...)`: the first non-NULL argument of each row.
fn coalesce(args: &[ColumnarValue], _num_rows: usize) -> Result<ColumnarValue> {
    let mut acc: Option<ArrayRef> = None;
    for arg in args {
        let merged = match (arg, acc.take()) {
            (ColumnarValue::Scalar(s), prev) if s.is_null() => {
                acc = prev;
                continue;
            }
            (ColumnarValue::Scalar(s), None) => return Ok(ColumnarValue::Scalar(s.clone())),
            (ColumnarValue::Scalar(s), Some(prev)) => {
                return Ok(ColumnarValue::Array(zip(
                    &is_not_null(&prev)?,
                    &prev,
                    &s.to_scalar()?,
                )?));
            }
            (ColumnarValue::Array(a), None) => a.clone(),
            (ColumnarValue::Array(a), Some(prev)) => zip(&is_not_null(&prev)?, &prev, a)?,
        };
        if merged.logical_null_count() == 0 {
            return Ok(ColumnarValue::Array(merged));
        }
        acc = Some(merged);
    }
    match (acc, args.first()) {
        (Some(a), _) => Ok(ColumnarValue::Array(a)),
        (None, Some(first)) => Ok(first.clone()), // every argument is a NULL scalar
        (None, None) => Ok(ColumnarValue::Scalar(ScalarValue::Null)),
    }
}

/// `greatest(...)` / `least(...)`: the largest / smallest non-NULL argument of each row.
fn extreme(args: &[ColumnarValue], num_rows: usize, greatest: bool) -> Result<ColumnarValue> {
    if args.first().is_none_or(|a| a.data_type() == DataType::Null) {
        return Ok(ColumnarValue::Scalar(ScalarValue::Null));
    }
    eval(args, num_rows, |a, rows| {
        let arrays = a.iter().map(|x| x.full(rows)).collect::<Result<Vec<_>>>()?;
        let mut acc = arrays[0].clone();
        for next in &arrays[1..] {
            let beats = if greatest {
                cmp::gt(next, &acc)?
            } else {
                cmp::lt(next, &acc)?
            };
            let take_next = or(&is_null(&acc)?, &null_as_false(&beats))?;
            acc = zip(&take_next, next, &acc)?;
        }
        Ok(acc)
    })
}

/// The mask with NULL entries turned into `false`.
fn null_as_false(mask: &BooleanArray) -> BooleanArray {
    match mask.nulls() {
        Some(nulls) => BooleanArray::new(mask.values() & nulls.inner(), None),
        None => mask.clone(),
    }
}

/// `nullif(a, b)`: NULL where `a = b`, else `a`.
fn nullif(args: &[ColumnarValue], num_rows: usize) -> Result<ColumnarValue> {
    if args.first().is_none_or(|a| a.data_type() == DataType::Null) {
        return Ok(ColumnarValue::Scalar(ScalarValue::Null));
    }
    eval(args, num_rows, |a, rows| {
        let equal = cmp::eq(a[0].datum().as_ref(), a[1].datum().as_ref())?;
        Ok(arrow::compute::nullif(&a[0].full(rows)?, &equal)?)
    })
}

/// `typeof(x)`: the SQL name of the argument's type (no cast).
fn typeof_signature(name: &str, args: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
    arity(name, args, 1, 1)?;
    Ok((args.to_vec(), DataType::Utf8))
}

fn typeof_(args: &[ColumnarValue], _num_rows: usize) -> Result<ColumnarValue> {
    let name = args.first().map(|a| sql_type_name(&a.data_type()));
    Ok(ColumnarValue::Scalar(ScalarValue::Utf8(name)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use arrow::array::{Array, Decimal128Array, Int32Array};
    use arrow::datatypes::DataType;
    use datafusion_common::ScalarValue;
    use std::sync::Arc;

    use crate::error::ErrorKind;
    use crate::functions::ColumnarValue;

    fn arr(v: ColumnarValue) -> arrow::array::ArrayRef {
        v.into_array(3).unwrap()
    }

    #[test]
    fn coalesce_takes_first_non_null() {
        let a = ColumnarValue::Array(ints(&[Some(1), None, None]));
        let b = ColumnarValue::Array(ints(&[Some(10), Some(20), None]));
        let out = call_values(
            "coalesce",
            vec![a.clone(), b.clone(), ColumnarValue::Scalar(i(0))],
            3,
        )
        .unwrap();
        assert_eq!(
            arr(out).as_ref(),
            ints(&[Some(1), Some(20), Some(0)]).as_ref()
        );
        let out = call_values("coalesce", vec![a.clone(), b.clone()], 3).unwrap();
        assert_eq!(arr(out).as_ref(), ints(&[Some(1), Some(20), None]).as_ref());
        let null = ColumnarValue::Scalar(ScalarValue::Null);
        let out =
            call_values("ifnull", vec![null.clone(), ColumnarValue::Scalar(i(5))], 3).unwrap();
        assert!(matches!(
            out,
            ColumnarValue::Scalar(ScalarValue::Int64(Some(5)))
        ));
        let out = call_values("nvl", vec![null.clone(), null.clone()], 3).unwrap();
        assert!(matches!(&out, ColumnarValue::Scalar(s) if s.is_null()));
        // mixed types go to the supertype
        let small: arrow::array::ArrayRef = Arc::new(Int32Array::from(vec![None, Some(2), None]));
        let out = call_values(
            "coalesce",
            vec![ColumnarValue::Array(small), ColumnarValue::Scalar(f(0.5))],
            3,
        )
        .unwrap();
        assert_eq!(
            arr(out).as_ref(),
            floats(&[Some(0.5), Some(2.0), Some(0.5)]).as_ref()
        );
        let e = func("coalesce")
            .signature(&[DataType::Boolean, DataType::Date32])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch);
        assert_eq!(e.message(), "coalesce() cannot mix types BOOLEAN, DATE");
    }

    #[test]
    fn greatest_and_least_ignore_nulls() {
        let a = ints(&[Some(1), None, Some(5), None]);
        let b = ints(&[Some(3), Some(2), Some(4), None]);
        let out = call("greatest", vec![a.clone(), b.clone()]).unwrap();
        assert_eq!(
            out.as_ref(),
            ints(&[Some(3), Some(2), Some(5), None]).as_ref()
        );
        let out = call("least", vec![a.clone(), b.clone()]).unwrap();
        assert_eq!(
            out.as_ref(),
            ints(&[Some(1), Some(2), Some(4), None]).as_ref()
        );
        assert_eq!(
            call_scalars("greatest", vec![s("apple"), s("pear"), s("fig")]).unwrap(),
            s("pear")
        );
        assert_eq!(
            call_scalars("least", vec![i(3), ScalarValue::Null, f(2.5)]).unwrap(),
            f(2.5)
        );
        assert_eq!(
            call_scalars("greatest", vec![ScalarValue::Null]).unwrap(),
            ScalarValue::Null
        );
        let d1 = Decimal128Array::from(vec![150])
            .with_precision_and_scale(5, 2)
            .unwrap();
        let d2 = Decimal128Array::from(vec![15])
            .with_precision_and_scale(3, 1)
            .unwrap();
        let out = call("greatest", vec![Arc::new(d1), Arc::new(d2)]).unwrap();
        assert_eq!(out.data_type(), &DataType::Decimal128(5, 2));
        // scalar against array
        let out = call_values(
            "least",
            vec![
                ColumnarValue::Scalar(i(2)),
                ColumnarValue::Array(ints(&[Some(1), Some(3), None])),
            ],
            3,
        );
        assert_eq!(
            arr(out.unwrap()).as_ref(),
            ints(&[Some(1), Some(2), Some(2)]).as_ref()
        );
    }

    #[test]
    fn nullif_compares() {
        let out = call(
            "nullif",
            vec![
                ints(&[Some(1), Some(2), None]),
                ints(&[Some(1), Some(3), Some(1)]),
            ],
        )
        .unwrap();
        assert_eq!(out.as_ref(), ints(&[None, Some(2), None]).as_ref());
        assert_eq!(
            call_scalars("nullif", vec![s("a"), s("a")]).unwrap(),
            ScalarValue::Utf8(None)
        );
        assert_eq!(
            call_scalars("nullif", vec![s("a"), ScalarValue::Null]).unwrap(),
            s("a")
        );
        assert_eq!(
            call_scalars("nullif", vec![ScalarValue::Null, i(1)]).unwrap(),
            ScalarValue::Int64(None)
        );
        let out = call_values(
            "nullif",
            vec![
                ColumnarValue::Scalar(i(0)),
                ColumnarValue::Array(ints(&[Some(0), Some(1), None])),
            ],
            3,
        );
        assert_eq!(
            arr(out.unwrap()).as_ref(),
            ints(&[None, Some(0), Some(0)]).as_ref()
        );
        assert_eq!(
            func("nullif")
                .signature(&[DataType::Int64])
                .unwrap_err()
                .kind(),
            ErrorKind::Plan
        );
    }

    #[test]
    fn typeof_names_sql_types() {
        assert_eq!(call_scalars("typeof", vec![i(1)]).unwrap(), s("BIGINT"));
        assert_eq!(
            call_scalars("typeof", vec![ScalarValue::Null]).unwrap(),
            s("NULL")
        );
        let d = Decimal128Array::from(vec![1])
            .with_precision_and_scale(10, 2)
            .unwrap();
        let out = call("typeof", vec![Arc::new(d)]).unwrap();
        assert_eq!(out.as_ref(), strs(&[Some("DECIMAL(10,2)")]).as_ref());
    }
}
