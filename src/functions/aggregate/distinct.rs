//! `agg(DISTINCT x)`: wraps any accumulator, feeding it each (group, value)
//! pair only the first time it is seen. Runs in one phase (after a hash
//! exchange on the group keys), since distinct sets cannot be merged cheaply;
//! its state (each group's set of distinct values, as a list of row-format
//! bytes) exists so that a spilling aggregation can write groups to disk and
//! merge them back.

type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, ListBuilder, UInt32Array};
use arrow::datatypes::{DataType, Field};
use arrow::row::{RowConverter, SortField};

use crate::error::{Error, Result};
use crate::functions::GroupsAccumulator;

/// Deduplicates values per group before the inner accumulator sees them.
#[derive(Debug)]
pub struct DistinctAccumulator {
    inner: Box<dyn GroupsAccumulator>,
    arg_types: Vec<DataType>,
    converter: Option<RowConverter>,
    seen: Vec<HashSet<Box<[u8]>>>,
    bytes: usize,
}

impl DistinctAccumulator {
    /// Wraps `inner`, whose arguments have types `arg_types`.
    pub fn new(inner: Box<dyn GroupsAccumulator>, arg_types: Vec<DataType>) -> Self {
        DistinctAccumulator {
            inner,
            arg_types,
            converter: None,
            seen: vec![],
            bytes: 0,
        }
    }

    /// The type of the state: per group, its distinct values as row-format bytes.
    pub fn state_type() -> DataType {
        DataType::List(Arc::new(Field::new("item", DataType::Binary, true)))
    }

    fn converter_for(&mut self, types: &[DataType]) -> Result<&RowConverter> {
        if self.converter.is_none() {
            let fields = types.iter().map(|t| SortField::new(t.clone())).collect();
            self.converter = Some(RowConverter::new(fields)?);
        }
        self.converter
            .as_ref()
            .ok_or_else(|| Error::internal("no converter"))
    }
}

impl GroupsAccumulator for DistinctAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.seen.resize_with(total, HashSet::default);
        if values.is_empty() {
            return self.inner.update_batch(values, group_indices, total);
        }
        let types: Vec<DataType> = values.iter().map(|v| v.data_type().clone()).collect();
        let converter = self.converter_for(&types)?;
        let normalized = crate::physical_expr::normalize::normalize_keys(values.to_vec())?;
        let rows = converter.convert_columns(&normalized)?;
        let mut keep_rows = vec![];
        let mut keep_groups = vec![];
        for (row, g) in group_indices.iter().enumerate() {
            // NULLs are never counted by aggregates; skip them here too
            if values.iter().any(|v| v.is_null(row)) {
                continue;
            }
            let key: Box<[u8]> = rows.row(row).as_ref().into();
            let len = key.len();
            if self.seen[*g as usize].insert(key) {
                self.bytes += len + 16;
                keep_rows.push(row as u32);
                keep_groups.push(*g);
            }
        }
        if keep_rows.is_empty() {
            return self.inner.update_batch(
                &values.iter().map(|v| v.slice(0, 0)).collect::<Vec<_>>(),
                &[],
                total,
            );
        }
        let idx = UInt32Array::from(keep_rows);
        let taken = values
            .iter()
            .map(|v| Ok(arrow::compute::take(v.as_ref(), &idx, None)?))
            .collect::<Result<Vec<_>>>()?;
        self.inner.update_batch(&taken, &keep_groups, total)
    }
    fn merge_batch(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.seen.resize_with(total, HashSet::default);
        let lists = states
            .first()
            .and_then(|s| s.as_list_opt::<i32>())
            .ok_or_else(|| Error::internal("DISTINCT state is not a list of values"))?;
        let values = lists
            .values()
            .as_binary_opt::<i32>()
            .ok_or_else(|| Error::internal("DISTINCT state is not a list of values"))?;
        let mut keep: Vec<&[u8]> = vec![];
        let mut keep_groups = vec![];
        for (i, g) in group_indices.iter().enumerate() {
            if lists.is_null(i) {
                continue;
            }
            let start = lists.value_offsets()[i] as usize;
            let end = lists.value_offsets()[i + 1] as usize;
            for j in start..end {
                let v = values.value(j);
                if self.seen[*g as usize].insert(v.into()) {
                    self.bytes += v.len() + 16;
                    keep.push(v);
                    keep_groups.push(*g);
                }
            }
        }
        let types = self.arg_types.clone();
        let converter = self.converter_for(&types)?;
        let parser = converter.parser();
        let values = converter.convert_rows(keep.iter().map(|b| parser.parse(b)))?;
        self.inner.update_batch(&values, &keep_groups, total)
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        let mut builder = ListBuilder::new(BinaryBuilder::new());
        for set in std::mem::take(&mut self.seen) {
            for v in set {
                builder.values().append_value(&v);
            }
            builder.append(true);
        }
        self.bytes = 0;
        // the inner state follows from the distinct values; reset it
        self.inner.state()?;
        Ok(vec![Arc::new(builder.finish())])
    }
    fn evaluate(&mut self) -> Result<ArrayRef> {
        self.seen.clear();
        self.bytes = 0;
        self.inner.evaluate()
    }
    fn size(&self) -> usize {
        self.inner.size() + self.bytes + self.seen.capacity() * 48
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, AsArray, StringArray};
    use arrow::datatypes::{DataType, Int64Type};

    use super::DistinctAccumulator;
    use crate::functions::aggregate::count::Count;
    use crate::functions::{AggregateFunction, GroupsAccumulator};

    fn count_distinct() -> DistinctAccumulator {
        let inner = Count
            .create_accumulator(&[DataType::Utf8], &DataType::Int64)
            .unwrap();
        DistinctAccumulator::new(inner, vec![DataType::Utf8])
    }

    #[test]
    fn spilled_states_merge_into_the_same_counts() {
        let values = |v: &[Option<&str>]| -> Vec<ArrayRef> {
            vec![Arc::new(StringArray::from(v.to_vec())) as ArrayRef]
        };
        // all rows in one accumulator
        let mut whole = count_distinct();
        whole
            .update_batch(
                &values(&[Some("a"), Some("b"), None, Some("a")]),
                &[0, 0, 1, 1],
                2,
            )
            .unwrap();
        whole
            .update_batch(&values(&[Some("b"), Some("c"), Some("a")]), &[0, 1, 2], 3)
            .unwrap();
        // the same rows split in two, the first half written out as states and merged back
        let mut first = count_distinct();
        first
            .update_batch(
                &values(&[Some("a"), Some("b"), None, Some("a")]),
                &[0, 0, 1, 1],
                2,
            )
            .unwrap();
        let states = first.state().unwrap();
        let mut second = count_distinct();
        second
            .update_batch(&values(&[Some("b"), Some("c"), Some("a")]), &[0, 1, 2], 3)
            .unwrap();
        second.merge_batch(&states, &[0, 1], 3).unwrap();
        let a = whole.evaluate().unwrap();
        let b = second.evaluate().unwrap();
        let counts = |x: &ArrayRef| x.as_primitive::<Int64Type>().values().to_vec();
        assert_eq!(counts(&a), vec![2, 2, 1]);
        assert_eq!(counts(&a), counts(&b));
    }
}
