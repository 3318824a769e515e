//! `agg(DISTINCT x)`: wraps any accumulator, feeding it each (group, value)
//! pair only the first time it is seen. Runs in one phase (after a hash
//! exchange on the group keys), since distinct sets cannot be merged cheaply.

use std::collections::HashSet;

use arrow::array::{ArrayRef, UInt32Array};
use arrow::row::{RowConverter, SortField};

use crate::error::{Error, Result};
use crate::functions::GroupsAccumulator;

/// Deduplicates values per group before the inner accumulator sees them.
#[derive(Debug)]
pub struct DistinctAccumulator {
    inner: Box<dyn GroupsAccumulator>,
    converter: Option<RowConverter>,
    seen: Vec<HashSet<Box<[u8]>>>,
    bytes: usize,
}

impl DistinctAccumulator {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn GroupsAccumulator>) -> Self {
        DistinctAccumulator {
            inner,
            converter: None,
            seen: vec![],
            bytes: 0,
        }
    }
}

impl GroupsAccumulator for DistinctAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[u32],
        total: usize,
    ) -> Result<()> {
        self.seen.resize_with(total, HashSet::new);
        if values.is_empty() {
            return self.inner.update_batch(values, group_indices, total);
        }
        if self.converter.is_none() {
            let fields = values
                .iter()
                .map(|v| SortField::new(v.data_type().clone()))
                .collect();
            self.converter = Some(RowConverter::new(fields)?);
        }
        let converter = self
            .converter
            .as_ref()
            .ok_or_else(|| Error::internal("no converter"))?;
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
        _states: &[ArrayRef],
        _group_indices: &[u32],
        _total: usize,
    ) -> Result<()> {
        Err(Error::internal("DISTINCT aggregates run in a single phase"))
    }
    fn state(&mut self) -> Result<Vec<ArrayRef>> {
        Err(Error::internal("DISTINCT aggregates run in a single phase"))
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
