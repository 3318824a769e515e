//! `sum(x)`: integers sum into BIGINT (overflow is an error), floats into
//! DOUBLE, decimals into DECIMAL(38, s). NULL for a group with no values.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type, UInt64Type};

use crate::error::{Error, Result};
use crate::functions::aggregate::{bad_arg, expect_args, for_each_valid, primitive_with_validity};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `sum`.
#[derive(Debug)]
pub struct Sum;

/// The type integers, floats and decimals are summed in.
pub fn sum_type(name: &str, t: &DataType) -> Result<DataType> {
    Ok(match t {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => DataType::Int64,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            DataType::UInt64
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => DataType::Float64,
        DataType::Decimal128(_, s) => DataType::Decimal128(38, *s),
        DataType::Null => DataType::Int64,
        other => return Err(bad_arg(name, other)),
    })
}

impl AggregateFunction for Sum {
    fn name(&self) -> &str {
        "sum"
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        expect_args("sum", arg_types, 1)?;
        let t = sum_type("sum", &arg_types[0])?;
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
        Ok(match rt {
            DataType::Int64 => Box::new(SumAccumulator::<i64>::new(rt.clone())),
            DataType::UInt64 => Box::new(SumAccumulator::<u64>::new(rt.clone())),
            DataType::Float64 => Box::new(SumAccumulator::<f64>::new(rt.clone())),
            DataType::Decimal128(..) => Box::new(SumAccumulator::<i128>::new(rt.clone())),
            other => return Err(bad_arg("sum", other)),
        })
    }
}

/// A number type sums accumulate in.
pub trait SumNative: Copy + Default + Send + std::fmt::Debug + 'static {
    /// Adds, failing on overflow.
    fn add_checked(self, other: Self) -> Result<Self>;
    /// Reads the value at `row` of an array of the accumulator's type.
    fn values(array: &ArrayRef) -> &[Self];
    /// Builds the output array.
    fn build(values: Vec<Self>, valid: Vec<bool>, dt: &DataType) -> Result<ArrayRef>;
}

macro_rules! int_sum_native {
    ($t:ty, $arrow:ty) => {
        impl SumNative for $t {
            #[inline]
            fn add_checked(self, other: Self) -> Result<Self> {
                self.checked_add(other)
                    .ok_or_else(|| Error::execution("integer overflow in sum()"))
            }
            fn values(array: &ArrayRef) -> &[Self] {
                array.as_primitive::<$arrow>().values()
            }
            fn build(values: Vec<Self>, valid: Vec<bool>, dt: &DataType) -> Result<ArrayRef> {
                primitive_with_validity::<$arrow>(values, Some(valid), dt)
            }
        }
    };
}
int_sum_native!(i64, Int64Type);
int_sum_native!(u64, UInt64Type);
int_sum_native!(i128, Decimal128Type);

impl SumNative for f64 {
    #[inline]
    fn add_checked(self, other: Self) -> Result<Self> {
        Ok(self + other)
    }
    fn values(array: &ArrayRef) -> &[Self] {
        array.as_primitive::<Float64Type>().values()
    }
    fn build(values: Vec<Self>, valid: Vec<bool>, dt: &DataType) -> Result<ArrayRef> {
        primitive_with_validity::<Float64Type>(values, Some(valid), dt)
    }
}

/// Per-group sums and "has a value" flags.
#[derive(Debug)]
pub struct SumAccumulator<T: SumNative> {
    sums: Vec<T>,
    seen: Vec<bool>,
    data_type: DataType,
}

impl<T: SumNative> SumAccumulator<T> {
    /// A sum producing `data_type`.
    pub fn new(data_type: DataType) -> Self {
        SumAccumulator {
            sums: vec![],
            seen: vec![],
            data_type,
        }
    }

    fn fold(&mut self, array: &ArrayRef, group_indices: &[u32], total: usize) -> Result<()> {
        self.sums.resize(total, T::default());
        self.seen.resize(total, false);
        if array.data_type() == &DataType::Null {
            return Ok(());
        }
        let values = T::values(array);
        let sums = &mut self.sums;
        let seen = &mut self.seen;
        let mut err = None;
        for_each_valid(array.as_ref(), group_indices, |g, row| {
            match sums[g].add_checked(values[row]) {
                Ok(v) => {
                    sums[g] = v;
                    seen[g] = true;
                }
                Err(e) => err = Some(e),
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<T: SumNative> GroupsAccumulator for SumAccumulator<T> {
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
        let sums = std::mem::take(&mut self.sums);
        let seen = std::mem::take(&mut self.seen);
        T::build(sums, seen, &self.data_type)
    }
    fn size(&self) -> usize {
        self.sums.capacity() * std::mem::size_of::<T>() + self.seen.capacity()
    }
}

/// Whether any value of the array is valid (for callers with fast paths).
pub fn any_valid(a: &dyn Array) -> bool {
    a.null_count() < a.len()
}
