//! `array_agg(x)`: the group's values as a list, in input order, NULLs included (as in
//! PostgreSQL and DuckDB); NULL for a group without rows.
//!
//! The accumulator keeps the input arrays it was given and, per group, which of their rows
//! belong to it (`group_rows`); `evaluate` gathers them with one `interleave` (no per-row
//! scalars). The state for a partial aggregation is the same list, and merging appends the
//! lists' elements.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;

use super::group_rows::{GroupRows, list_of};
use crate::error::{Error, Result};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `array_agg`.
#[derive(Debug)]
pub struct ArrayAgg;

impl AggregateFunction for ArrayAgg {
    fn name(&self) -> &str {
        "array_agg"
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        match arg_types {
            [t] => Ok((vec![t.clone()], list_of(t))),
            _ => Err(Error::plan(format!(
                "array_agg() takes 1 argument, got {}",
                arg_types.len()
            ))),
        }
    }
    fn state_types(&self, _a: &[DataType], return_type: &DataType) -> Result<Vec<DataType>> {
        Ok(vec![return_type.clone()])
    }
    fn create_accumulator(
        &self,
        arg_types: &[DataType],
        _rt: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ArrayAggAccumulator {
            item: arg_types.first().cloned().unwrap_or(DataType::Null),
            arrays: vec![],
            rows: GroupRows::default(),
            bytes: 0,
        }))
    }
}

#[derive(Debug)]
struct ArrayAggAccumulator {
    item: DataType,
    /// The value arrays seen so far.
    arrays: Vec<ArrayRef>,
    /// Per group, its values in `arrays`, in order.
    rows: GroupRows,
    /// Memory of `arrays`.
    bytes: usize,
}

impl ArrayAggAccumulator {
    fn keep(&mut self, values: &ArrayRef) -> usize {
        self.bytes += values.get_array_memory_size();
        self.arrays.push(values.clone());
        self.arrays.len() - 1
    }

    /// The groups' lists (NULL for a group without values), and a reset.
    fn take_lists(&mut self) -> Result<ArrayRef> {
        let arrays = std::mem::take(&mut self.arrays);
        self.bytes = 0;
        let rows = self.rows.take()?;
        let parts: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        rows.lists(rows.gather(&parts, &self.item)?)
    }
}

impl GroupsAccumulator for ArrayAggAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        let v = &values[0];
        // a NULL-typed argument (`array_agg(NULL)`) becomes NULLs of the item type
        let v = if v.data_type() != &self.item {
            arrow::compute::cast(v, &self.item)?
        } else {
            v.clone()
        };
        let a = self.keep(&v);
        self.rows.add_rows(a, group_indices, total);
        Ok(())
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        let a = self.keep(lists.values());
        self.rows.add_lists(a, lists, group_indices, total);
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.take_lists()?])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        self.take_lists()
    }
    fn size(&self) -> usize {
        self.bytes + self.rows.size()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow::array::Int64Array;

    fn lists(a: &ArrayRef) -> Vec<Option<Vec<Option<i64>>>> {
        let l = a.as_list::<i32>();
        (0..l.len())
            .map(|i| {
                l.is_valid(i).then(|| {
                    let v = l.value(i);
                    let v = v.as_any().downcast_ref::<Int64Array>().unwrap();
                    v.iter().collect()
                })
            })
            .collect()
    }

    #[test]
    fn keeps_input_order_and_nulls_per_group_and_merges_states() {
        let f = ArrayAgg;
        let rt = list_of(&DataType::Int64);
        let mut acc = f.create_accumulator(&[DataType::Int64], &rt).unwrap();
        let v: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3), Some(4)]));
        acc.update_batch(&[v], &[0, 1, 0, 1], 3).unwrap();
        let state = acc.state().unwrap();
        assert_eq!(
            lists(&state[0]),
            vec![
                Some(vec![Some(1), Some(3)]),
                Some(vec![None, Some(4)]),
                None
            ]
        );
        // a final aggregation merging two partial states into its own groups
        let mut fin = f.create_accumulator(&[DataType::Int64], &rt).unwrap();
        fin.merge_batch(&state, &[1, 0, 0], 2).unwrap();
        fin.merge_batch(&state, &[1, 1, 0], 2).unwrap();
        assert_eq!(
            lists(&fin.evaluate().unwrap()),
            vec![
                Some(vec![None, Some(4)]),
                Some(vec![Some(1), Some(3), Some(1), Some(3), None, Some(4)])
            ]
        );
    }
}
