//! Built-in aggregate functions. Each accumulator folds whole arrays into
//! per-group slots in tight typed loops (no per-row `ScalarValue`).

pub mod array_agg;
pub mod avg;
pub mod bool_agg;
pub mod count;
pub mod distinct;
pub mod group_rows;
pub mod min_max;
pub mod ordered;
pub mod string_agg;
pub mod sum;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, PrimitiveArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{ArrowPrimitiveType, DataType};

use crate::error::{Error, Result};
use crate::functions::AggregateFunction;
use crate::logical::types::sql_type_name;

/// All built-in aggregates.
pub fn builtins() -> Vec<Arc<dyn AggregateFunction>> {
    vec![
        Arc::new(count::Count),
        Arc::new(sum::Sum),
        Arc::new(avg::Avg),
        Arc::new(min_max::MinMax::min()),
        Arc::new(min_max::MinMax::max()),
        Arc::new(min_max::MinMax::any_value()),
        Arc::new(bool_agg::BoolAgg::and()),
        Arc::new(bool_agg::BoolAgg::or()),
        Arc::new(string_agg::StringAgg),
        Arc::new(array_agg::ArrayAgg),
    ]
}

/// Fails unless exactly `n` arguments were given.
pub fn expect_args(name: &str, args: &[DataType], n: usize) -> Result<()> {
    if args.len() != n {
        return Err(Error::plan(format!(
            "{name}() takes {n} argument{}, got {}",
            if n == 1 { "" } else { "s" },
            args.len()
        )));
    }
    Ok(())
}

/// The "wrong argument type" error for aggregate `name`.
pub fn bad_arg(name: &str, t: &DataType) -> Error {
    Error::type_mismatch(format!(
        "{name}() cannot be applied to {}",
        sql_type_name(t)
    ))
}

/// Builds a primitive array from values and a per-group "has value" flag.
pub fn primitive_with_validity<T: ArrowPrimitiveType>(
    values: Vec<T::Native>,
    valid: Option<Vec<bool>>,
    data_type: &DataType,
) -> Result<ArrayRef> {
    let nulls = valid.map(NullBuffer::from);
    let arr = PrimitiveArray::<T>::new(values.into(), nulls).with_data_type(data_type.clone());
    Ok(Arc::new(arr))
}

/// Calls `f(group, row)` for each row whose value is valid.
#[inline]
pub fn for_each_valid(array: &dyn Array, group_indices: &[u32], mut f: impl FnMut(usize, usize)) {
    // logical nulls: a NullArray (a bare NULL argument) has no valid values
    match array.logical_nulls() {
        None => {
            for (row, g) in group_indices.iter().enumerate() {
                f(*g as usize, row);
            }
        }
        Some(nulls) => {
            for (row, g) in group_indices.iter().enumerate() {
                if nulls.is_valid(row) {
                    f(*g as usize, row);
                }
            }
        }
    }
}

/// Takes a vector's contents, leaving it empty.
pub fn take_vec<T>(v: &mut Vec<T>) -> Vec<T> {
    std::mem::take(v)
}

/// A boolean "valid" vector from a boolean array of flags.
pub fn flags(b: &BooleanArray) -> Vec<bool> {
    b.iter().map(|v| v.unwrap_or(false)).collect()
}
