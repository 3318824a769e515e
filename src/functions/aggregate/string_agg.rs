//! `string_agg(x, sep)` (also `group_concat(x [, sep])`, `listagg`): concatenates the
//! group's non-NULL strings with a separator (default `,`), in input order.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::DataType;

use crate::error::{Error, Result};
use crate::functions::{AggregateFunction, GroupsAccumulator};

/// `string_agg`.
#[derive(Debug)]
pub struct StringAgg;

impl AggregateFunction for StringAgg {
    fn name(&self) -> &str {
        "string_agg"
    }
    fn signature(&self, arg_types: &[DataType]) -> Result<(Vec<DataType>, DataType)> {
        match arg_types.len() {
            1 => Ok((vec![DataType::Utf8], DataType::Utf8)),
            2 => Ok((vec![DataType::Utf8, DataType::Utf8], DataType::Utf8)),
            n => Err(Error::plan(format!(
                "string_agg() takes 1 or 2 arguments, got {n}"
            ))),
        }
    }
    fn state_types(&self, _a: &[DataType], _rt: &DataType) -> Result<Vec<DataType>> {
        Ok(vec![DataType::Utf8, DataType::Utf8])
    }
    fn create_accumulator(
        &self,
        _a: &[DataType],
        _rt: &DataType,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(StringAggAccumulator {
            values: vec![],
            sep: vec![],
        }))
    }
}

#[derive(Debug)]
struct StringAggAccumulator {
    values: Vec<Option<String>>,
    sep: Vec<Option<String>>,
}

impl StringAggAccumulator {
    fn fold(
        &mut self,
        vals: &ArrayRef,
        seps: Option<&ArrayRef>,
        group_indices: &[u32],
        total: usize,
    ) {
        self.values.resize(total, None);
        self.sep.resize(total, None);
        if vals.data_type() == &DataType::Null {
            return;
        }
        let a = vals.as_string::<i32>();
        let s = seps
            .filter(|s| s.data_type() == &DataType::Utf8)
            .map(|s| s.as_string::<i32>());
        for (row, g) in group_indices.iter().enumerate() {
            if a.is_null(row) {
                continue;
            }
            let g = *g as usize;
            let sep = match s {
                Some(s) if s.is_valid(row) => s.value(row),
                Some(_) => "",
                None => ",",
            };
            match &mut self.values[g] {
                Some(cur) => {
                    cur.push_str(self.sep[g].as_deref().unwrap_or(sep));
                    cur.push_str(a.value(row));
                }
                slot @ None => *slot = Some(a.value(row).to_string()),
            }
            if self.sep[g].is_none() {
                self.sep[g] = Some(sep.to_string());
            }
        }
    }
}

impl GroupsAccumulator for StringAggAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.fold(&values[0], values.get(1), group_indices, total);
        Ok(())
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.fold(&states[0], Some(&states[1]), group_indices, total);
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let v = std::mem::take(&mut self.values);
        let s = std::mem::take(&mut self.sep);
        Ok(vec![
            Arc::new(StringArray::from(v)),
            Arc::new(StringArray::from(s)),
        ])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        self.sep.clear();
        Ok(Arc::new(StringArray::from(std::mem::take(
            &mut self.values,
        ))))
    }
    fn size(&self) -> usize {
        self.values
            .iter()
            .map(|v| v.as_ref().map(|s| s.capacity()).unwrap_or(0) + 24)
            .sum()
    }
}
