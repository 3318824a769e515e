//! `min(x)`, `max(x)` and `any_value(x)` for numbers, decimals, dates,
//! timestamps, strings and booleans.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray};
use arrow::datatypes::*;

use crate::error::Result;
use crate::functions::aggregate::{bad_arg, expect_args, for_each_valid, primitive_with_validity};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// Which extreme to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// The first non-NULL value seen.
    Any,
}

/// `min`, `max` or `any_value`.
#[derive(Debug)]
pub struct MinMax {
    pick: Pick,
}

impl MinMax {
    /// `min`.
    pub fn min() -> Self {
        MinMax { pick: Pick::Min }
    }
    /// `max`.
    pub fn max() -> Self {
        MinMax { pick: Pick::Max }
    }
    /// `any_value` (also `first`, `arbitrary`).
    pub fn any_value() -> Self {
        MinMax { pick: Pick::Any }
    }
}

fn comparable(t: &DataType) -> bool {
    t.is_numeric()
        || t.is_temporal()
        || matches!(
            t,
            DataType::Utf8 | DataType::Boolean | DataType::Null | DataType::Interval(_)
        )
}

impl AggregateFunction for MinMax {
    fn name(&self) -> &str {
        match self.pick {
            Pick::Min => "min",
            Pick::Max => "max",
            Pick::Any => "any_value",
        }
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        expect_args(self.name(), arg_types, 1)?;
        let t = match &arg_types[0] {
            DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
            DataType::Null => DataType::Int64,
            t => t.clone(),
        };
        if !comparable(&t) && self.pick != Pick::Any {
            return Err(bad_arg(self.name(), &t));
        }
        Ok((vec![t.clone()], t))
    }
    fn state_types(&self, _arg_types: &[DataType], rt: &DataType) -> Result<Vec<DataType>> {
        Ok(vec![rt.clone()])
    }
    fn create_accumulator(
        &self,
        _arg_types: &[DataType],
        rt: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        macro_rules! prim {
            ($t:ty) => {
                Box::new(PrimitiveMinMax::<$t>::new(self.pick, rt.clone()))
                    as Box<dyn GroupsAccumulator>
            };
        }
        Ok(match rt {
            DataType::Int8 => prim!(Int8Type),
            DataType::Int16 => prim!(Int16Type),
            DataType::Int32 => prim!(Int32Type),
            DataType::Int64 => prim!(Int64Type),
            DataType::UInt8 => prim!(UInt8Type),
            DataType::UInt16 => prim!(UInt16Type),
            DataType::UInt32 => prim!(UInt32Type),
            DataType::UInt64 => prim!(UInt64Type),
            DataType::Float32 => prim!(Float32Type),
            DataType::Float64 => prim!(Float64Type),
            DataType::Decimal128(..) => prim!(Decimal128Type),
            DataType::Date32 => prim!(Date32Type),
            DataType::Date64 => prim!(Date64Type),
            DataType::Timestamp(TimeUnit::Second, _) => prim!(TimestampSecondType),
            DataType::Timestamp(TimeUnit::Millisecond, _) => prim!(TimestampMillisecondType),
            DataType::Timestamp(TimeUnit::Microsecond, _) => prim!(TimestampMicrosecondType),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => prim!(TimestampNanosecondType),
            DataType::Utf8 => Box::new(StringMinMax {
                pick: self.pick,
                values: vec![],
            }),
            DataType::Boolean => Box::new(BoolMinMax {
                pick: self.pick,
                values: vec![],
            }),
            other => return Err(bad_arg(self.name(), other)),
        })
    }
}

/// Per-group extreme of a primitive type.
struct PrimitiveMinMax<T: ArrowPrimitiveType> {
    pick: Pick,
    values: Vec<T::Native>,
    seen: Vec<bool>,
    data_type: DataType,
}

impl<T: ArrowPrimitiveType> std::fmt::Debug for PrimitiveMinMax<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PrimitiveMinMax({:?}, {} groups)",
            self.pick,
            self.values.len()
        )
    }
}

impl<T: ArrowPrimitiveType> PrimitiveMinMax<T> {
    fn new(pick: Pick, data_type: DataType) -> Self {
        PrimitiveMinMax {
            pick,
            values: vec![],
            seen: vec![],
            data_type,
        }
    }

    fn fold(&mut self, array: &ArrayRef, group_indices: &[u32], total: usize) -> Result<()> {
        self.values.resize(total, T::Native::default());
        self.seen.resize(total, false);
        if array.data_type() == &DataType::Null {
            return Ok(());
        }
        let v = array.as_primitive::<T>().values();
        let (vals, seen, pick) = (&mut self.values, &mut self.seen, self.pick);
        for_each_valid(array.as_ref(), group_indices, |g, row| {
            let x = v[row];
            if !seen[g] {
                vals[g] = x;
                seen[g] = true;
            } else {
                let better = match pick {
                    Pick::Min => x.is_lt(vals[g]),
                    Pick::Max => x.is_gt(vals[g]),
                    Pick::Any => false,
                };
                if better {
                    vals[g] = x;
                }
            }
        });
        Ok(())
    }
}

impl<T: ArrowPrimitiveType> GroupsAccumulator for PrimitiveMinMax<T> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.fold(&values[0], group_indices, total)
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.fold(&states[0], group_indices, total)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let values = std::mem::take(&mut self.values);
        let seen = std::mem::take(&mut self.seen);
        primitive_with_validity::<T>(values, Some(seen), &self.data_type)
    }
    fn size(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<T::Native>() + self.seen.capacity()
    }
}

/// Per-group extreme string.
#[derive(Debug)]
struct StringMinMax {
    pick: Pick,
    values: Vec<Option<String>>,
}

impl StringMinMax {
    fn fold(&mut self, array: &ArrayRef, group_indices: &[u32], total: usize) -> Result<()> {
        self.values.resize(total, None);
        if array.data_type() == &DataType::Null {
            return Ok(());
        }
        let a: &StringArray = array.as_string::<i32>();
        let (vals, pick) = (&mut self.values, self.pick);
        for_each_valid(array.as_ref(), group_indices, |g, row| {
            let x = a.value(row);
            let replace = match &vals[g] {
                None => true,
                Some(cur) => match pick {
                    Pick::Min => x < cur.as_str(),
                    Pick::Max => x > cur.as_str(),
                    Pick::Any => false,
                },
            };
            if replace {
                vals[g] = Some(x.to_string());
            }
        });
        Ok(())
    }
}

impl GroupsAccumulator for StringMinMax {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.fold(&values[0], group_indices, total)
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.fold(&states[0], group_indices, total)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let values = std::mem::take(&mut self.values);
        Ok(Arc::new(StringArray::from(values)))
    }
    fn size(&self) -> usize {
        self.values
            .iter()
            .map(|v| v.as_ref().map(|s| s.capacity()).unwrap_or(0) + 24)
            .sum()
    }
}

/// Per-group extreme boolean (false < true).
#[derive(Debug)]
struct BoolMinMax {
    pick: Pick,
    values: Vec<Option<bool>>,
}

impl BoolMinMax {
    fn fold(&mut self, array: &ArrayRef, group_indices: &[u32], total: usize) -> Result<()> {
        self.values.resize(total, None);
        if array.data_type() == &DataType::Null {
            return Ok(());
        }
        let a: &BooleanArray = array.as_boolean();
        let (vals, pick) = (&mut self.values, self.pick);
        for_each_valid(array.as_ref(), group_indices, |g, row| {
            let x = a.value(row);
            vals[g] = Some(match (vals[g], pick) {
                (None, _) => x,
                (Some(c), Pick::Min) => c && x,
                (Some(c), Pick::Max) => c || x,
                (Some(c), Pick::Any) => c,
            });
        });
        Ok(())
    }
}

impl GroupsAccumulator for BoolMinMax {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.fold(&values[0], group_indices, total)
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.fold(&states[0], group_indices, total)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let values = std::mem::take(&mut self.values);
        Ok(Arc::new(BooleanArray::from(values)))
    }
    fn size(&self) -> usize {
        self.values.capacity() * 2
    }
}

/// Whether an array has any non-NULL value.
pub fn has_any(a: &dyn Array) -> bool {
    a.null_count() < a.len()
}
