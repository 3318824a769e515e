//! `bool_and(x)` / `bool_or(x)` (also `every(x)`): logical AND / OR over a group, ignoring NULLs.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::DataType;

use crate::error::Result;
use crate::functions::aggregate::{bad_arg, expect_args, for_each_valid};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `bool_and` or `bool_or`.
#[derive(Debug)]
pub struct BoolAgg {
    is_and: bool,
}

impl BoolAgg {
    /// `bool_and`.
    pub fn and() -> Self {
        BoolAgg { is_and: true }
    }
    /// `bool_or`.
    pub fn or() -> Self {
        BoolAgg { is_and: false }
    }
}

impl AggregateFunction for BoolAgg {
    fn name(&self) -> &str {
        if self.is_and { "bool_and" } else { "bool_or" }
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        expect_args(self.name(), arg_types, 1)?;
        match &arg_types[0] {
            DataType::Boolean | DataType::Null => Ok((vec![DataType::Boolean], DataType::Boolean)),
            other => Err(bad_arg(self.name(), other)),
        }
    }
    fn state_types(&self, _a: &[DataType], _rt: &DataType) -> Result<Vec<DataType>> {
        Ok(vec![DataType::Boolean])
    }
    fn create_accumulator(
        &self,
        _a: &[DataType],
        _rt: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(BoolAggAccumulator {
            is_and: self.is_and,
            values: vec![],
        }))
    }
}

#[derive(Debug)]
struct BoolAggAccumulator {
    is_and: bool,
    values: Vec<Option<bool>>,
}

impl BoolAggAccumulator {
    fn fold(&mut self, array: &ArrayRef, group_indices: &[u32], total: usize) -> Result<()> {
        self.values.resize(total, None);
        if array.data_type() == &DataType::Null {
            return Ok(());
        }
        let a = array.as_boolean();
        let (vals, is_and) = (&mut self.values, self.is_and);
        for_each_valid(array.as_ref(), group_indices, |g, row| {
            let x = a.value(row);
            vals[g] = Some(match vals[g] {
                None => x,
                Some(c) => {
                    if is_and {
                        c && x
                    } else {
                        c || x
                    }
                }
            });
        });
        Ok(())
    }
}

impl GroupsAccumulator for BoolAggAccumulator {
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
        Ok(Arc::new(BooleanArray::from(std::mem::take(
            &mut self.values,
        ))))
    }
    fn size(&self) -> usize {
        self.values.capacity() * 2
    }
}
