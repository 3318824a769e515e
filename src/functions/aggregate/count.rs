//! `count(*)` and `count(x)`: rows, or non-NULL values, per group.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use arrow::datatypes::{DataType, Int64Type};

use crate::error::Result;
use crate::functions::aggregate::for_each_valid;
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `count`.
#[derive(Debug)]
pub struct Count;

impl AggregateFunction for Count {
    fn name(&self) -> &str {
        "count"
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        if arg_types.len() > 1 {
            return Err(crate::error::Error::plan(format!(
                "count() takes one argument (or *), got {}",
                arg_types.len()
            )));
        }
        Ok((arg_types.to_vec(), DataType::Int64))
    }
    fn state_types(&self, _arg_types: &[DataType], _rt: &DataType) -> Result<Vec<DataType>> {
        Ok(vec![DataType::Int64])
    }
    fn create_accumulator(
        &self,
        _arg_types: &[DataType],
        _rt: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(CountAccumulator { counts: vec![] }))
    }
    fn null_on_empty(&self) -> bool {
        false
    }
}

/// Per-group counts.
#[derive(Debug)]
pub struct CountAccumulator {
    counts: Vec<i64>,
}

impl GroupsAccumulator for CountAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.counts.resize(total, 0);
        let counts = &mut self.counts;
        // count(*) has no argument; count(a, b) counts rows where all are non-NULL
        match values {
            [] => {
                for g in group_indices {
                    counts[*g as usize] += 1;
                }
            }
            [v] => for_each_valid(v.as_ref(), group_indices, |g, _| counts[g] += 1),
            many => {
                let nulls: Vec<_> = many.iter().map(|a| a.logical_nulls()).collect();
                for (row, g) in group_indices.iter().enumerate() {
                    if nulls
                        .iter()
                        .all(|n| n.as_ref().is_none_or(|n| n.is_valid(row)))
                    {
                        counts[*g as usize] += 1;
                    }
                }
            }
        }
        Ok(())
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.counts.resize(total, 0);
        let partial = states[0].as_primitive::<Int64Type>();
        let vals = partial.values();
        for (row, g) in group_indices.iter().enumerate() {
            self.counts[*g as usize] += vals[row];
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        let counts = std::mem::take(&mut self.counts);
        Ok(Arc::new(Int64Array::from(counts)))
    }
    fn size(&self) -> usize {
        self.counts.capacity() * 8
    }
}
