//! External merge sort for `SortExec` without a limit.
//!
//! ```text
//!  input batches ─▶ buffer (+ their sort keys), memory reserved batch by batch
//!        │ refused: sort the buffer, write it as a sorted run (spill file), free the memory
//!        ▼
//!  end of input ─▶ no runs: sort in memory, emit batch_size slices (or, when the pool has less
//!                           room left than the buffer takes, write it as one run and stream it)
//!               └▶ runs:    spill the rest as a last run; while the run heads do not fit in
//!                           memory, merge the first few runs into one; then stream a k-way
//!                           merge of all runs (MergeStream)
//! ```
//! Sorting a buffer sorts only the key columns (concatenated) and assembles output rows with
//! `interleave`, so it needs the keys and indices on top of the buffered data, never a second
//! copy of every column. A buffer of more than [`SORT_GROUP_ROWS`] rows is sorted in groups of
//! batches that are then merged as they stream out, so no single `lexsort` call runs long and a
//! cancel is seen between groups.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::compute::{SortColumn, concat, lexsort_to_indices};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::sort::merge::merge_sorted;
use crate::exec::{BatchIter, take_rows};
use crate::physical_expr::{PhysicalSortExpr, evaluate_sort_keys};
use crate::runtime::memory_pool::{array_memory_size, batch_memory_size};
use crate::runtime::spill::{SpillFile, SpillWriter};
use crate::runtime::{MemoryReservation, Metrics, TaskContext};

/// Sorts one partition's input, spilling sorted runs when memory is refused.
pub struct ExternalSorter {
    schema: SchemaRef,
    keys: Vec<PhysicalSortExpr>,
    batch_size: usize,
    buffer: Vec<RecordBatch>,
    buffer_keys: Vec<Vec<SortColumn>>,
    reservation: MemoryReservation,
    /// The most memory the buffer held: what a merge of the runs may use.
    max_buffer: usize,
    runs: Vec<Arc<SpillFile>>,
    ctx: Arc<TaskContext>,
    metrics: Arc<Metrics>,
}

impl ExternalSorter {
    /// A sorter for partition `partition` of a `SortExec`.
    pub fn new(
        schema: SchemaRef,
        keys: Vec<PhysicalSortExpr>,
        ctx: &Arc<TaskContext>,
        metrics: Arc<Metrics>,
        partition: usize,
    ) -> Self {
        ExternalSorter {
            schema,
            keys,
            batch_size: ctx.batch_size(),
            buffer: vec![],
            buffer_keys: vec![],
            reservation: ctx
                .memory
                .reserve_spillable(format!("SortExec[{partition}]"))
                .with_metrics(&metrics),
            max_buffer: 0,
            runs: vec![],
            ctx: ctx.clone(),
            metrics,
        }
    }

    /// Buffers a batch, spilling the buffer as a sorted run first if memory is refused.
    pub fn insert(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let keys = evaluate_sort_keys(&self.keys, &batch)?;
        // the batch, a concatenated copy of its keys and the sort indices
        let size = batch_memory_size(&batch)
            + keys
                .iter()
                .map(|k| array_memory_size(k.values.as_ref()))
                .sum::<usize>()
            + batch.num_rows() * 4;
        if !self.reservation.grow_if_fits(size) {
            if !self.buffer.is_empty() {
                self.spill_buffer()?;
            }
            if !self.reservation.grow_if_fits(size) {
                // one batch is the least a sort holds
                self.reservation.grow(size);
            }
        }
        self.max_buffer = self.max_buffer.max(self.reservation.size());
        self.buffer.push(batch);
        self.buffer_keys.push(keys);
        Ok(())
    }

    /// Writes the sorted buffer to a new run and frees its memory.
    fn spill_buffer(&mut self) -> Result<()> {
        let buffer = std::mem::take(&mut self.buffer);
        let keys = std::mem::take(&mut self.buffer_keys);
        let mut writer = SpillWriter::new(&self.ctx.spill, &self.schema, Some(&self.metrics))?;
        for chunk in self.sorted(buffer, keys)? {
            self.ctx.cancel.check()?;
            writer.write(&chunk?)?;
        }
        self.runs.push(writer.finish()?);
        self.reservation.free();
        Ok(())
    }

    /// The sorted output: from memory when nothing was spilled, else a merge of the runs.
    pub fn finish(mut self) -> Result<BatchIter> {
        // sorted in memory, the rows stay reserved until the last one is read; when the pool has
        // less room left than they take, the operators downstream would be starved: stream them
        // from a spill file instead
        let tight = self.ctx.memory.limit().is_some()
            && self.ctx.memory.available() < self.reservation.size();
        if self.runs.is_empty() && tight && !self.buffer.is_empty() {
            self.spill_buffer()?;
        }
        if self.runs.is_empty() {
            let buffer = std::mem::take(&mut self.buffer);
            let keys = std::mem::take(&mut self.buffer_keys);
            let mut chunks = self.sorted(buffer, keys)?;
            let mut reservation = Some(self.reservation);
            // the reservation lives until the last sorted batch is out
            return Ok(Box::new(std::iter::from_fn(move || {
                let next = chunks.next();
                if next.is_none() {
                    reservation.take();
                }
                next
            })));
        }
        if !self.buffer.is_empty() {
            self.spill_buffer()?;
        }
        let mut runs = std::mem::take(&mut self.runs);
        // merge passes until the heads of all runs fit in memory at once
        loop {
            let (fan_in, heads) = self.reserve_heads(&runs);
            if runs.len() <= fan_in {
                return self.merge(runs, heads);
            }
            let rest = runs.split_off(fan_in);
            let merged = self.merge(runs, heads)?;
            let mut writer = SpillWriter::new(&self.ctx.spill, &self.schema, Some(&self.metrics))?;
            for b in merged {
                self.ctx.cancel.check()?;
                writer.write(&b?)?;
            }
            runs = rest;
            runs.push(writer.finish()?);
        }
    }

    /// The rows of `buffer` sorted: with one `lexsort` up to [`SORT_GROUP_ROWS`] rows, else
    /// each group of that many rows sorted on its own (checking for a cancel before each) and
    /// the groups merged as the output is read.
    fn sorted(&self, buffer: Vec<RecordBatch>, keys: Vec<Vec<SortColumn>>) -> Result<BatchIter> {
        let total: usize = buffer.iter().map(|b| b.num_rows()).sum();
        if total <= SORT_GROUP_ROWS {
            return sorted_chunks(buffer, keys, self.batch_size);
        }
        let mut groups: Vec<BatchIter> = vec![];
        let (mut group, mut group_keys, mut rows) = (vec![], vec![], 0);
        for (batch, batch_keys) in buffer.into_iter().zip(keys) {
            rows += batch.num_rows();
            group.push(batch);
            group_keys.push(batch_keys);
            if rows >= SORT_GROUP_ROWS {
                self.ctx.cancel.check()?;
                let (g, k) = (std::mem::take(&mut group), std::mem::take(&mut group_keys));
                groups.push(sorted_chunks(g, k, self.batch_size)?);
                rows = 0;
            }
        }
        if !group.is_empty() {
            self.ctx.cancel.check()?;
            groups.push(sorted_chunks(group, group_keys, self.batch_size)?);
        }
        merge_sorted(
            self.schema.clone(),
            &self.keys,
            groups,
            None,
            self.batch_size,
            None,
        )
    }

    /// Reserves memory for the current batches (and row-format keys) of as many runs as fit
    /// — within what the buffer held, so that a merge does not starve the other tasks — and at
    /// least two: how many runs one merge pass reads at once.
    fn reserve_heads(&self, runs: &[Arc<SpillFile>]) -> (usize, MemoryReservation) {
        let per_run = runs
            .iter()
            .map(|r| r.max_batch_bytes())
            .max()
            .unwrap_or(0)
            .saturating_mul(3)
            .max(1);
        let most = (self.max_buffer / per_run).max(2);
        let mut heads = self
            .ctx
            .memory
            .reserve_spillable(format!("{} merge", self.reservation.consumer()))
            .with_metrics(&self.metrics);
        let mut n = 0;
        while n < runs.len().min(most) && heads.grow_if_fits(per_run) {
            n += 1;
        }
        (n.max(2), heads)
    }

    fn merge(&self, runs: Vec<Arc<SpillFile>>, heads: MemoryReservation) -> Result<BatchIter> {
        let inputs = runs
            .iter()
            .map(|r| Ok(Box::new(r.read()?) as BatchIter))
            .collect::<Result<Vec<_>>>()?;
        // the readers keep the files alive; `runs` can go
        merge_sorted(
            self.schema.clone(),
            &self.keys,
            inputs,
            None,
            self.batch_size,
            Some(heads),
        )
    }
}

/// The most rows one `lexsort` call orders in an external sort (about 10 ms in release, 0.1 s
/// in a debug build); larger buffers are sorted in groups and merged.
pub const SORT_GROUP_ROWS: usize = 128 * 1024;

/// The rows of `batches` sorted by their precomputed `keys`, as `batch_size`-row batches made
/// on demand: only the key columns are concatenated, and output rows are picked with
/// `interleave` (or `take` for a single batch).
pub fn sorted_chunks(
    batches: Vec<RecordBatch>,
    keys: Vec<Vec<SortColumn>>,
    batch_size: usize,
) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>> + Send>> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    if total == 0 {
        return Ok(Box::new(std::iter::empty()));
    }
    let no_keys = keys.first().is_none_or(|k| k.is_empty());
    if no_keys || batches[0].num_columns() == 0 {
        // nothing to order by (or nothing to order): the rows as they are
        return Ok(Box::new(batches.into_iter().map(Ok)));
    }
    let width = keys[0].len();
    let columns: Vec<SortColumn> = if batches.len() == 1 {
        keys.into_iter().next().unwrap_or_default()
    } else {
        (0..width)
            .map(|k| {
                let parts: Vec<&dyn arrow::array::Array> =
                    keys.iter().map(|b| b[k].values.as_ref()).collect();
                Ok(SortColumn {
                    values: concat(&parts)? as ArrayRef,
                    options: keys[0][k].options,
                })
            })
            .collect::<Result<Vec<_>>>()?
    };
    let indices = lexsort_to_indices(&columns, None)?;
    drop(columns);
    let batch_size = batch_size.max(1);
    if batches.len() == 1 {
        let mut batches = batches;
        let batch = batches.swap_remove(0);
        let mut offset = 0;
        return Ok(Box::new(std::iter::from_fn(move || {
            if offset >= total {
                return None;
            }
            let len = batch_size.min(total - offset);
            let idx = indices.slice(offset, len);
            offset += len;
            Some(take_rows(&batch, &idx))
        })));
    }
    let mut starts = Vec::with_capacity(batches.len());
    let mut acc = 0usize;
    for b in &batches {
        starts.push(acc);
        acc += b.num_rows();
    }
    let mut offset = 0;
    Ok(Box::new(std::iter::from_fn(move || {
        if offset >= total {
            return None;
        }
        let len = batch_size.min(total - offset);
        let picks: Vec<(usize, usize)> = indices.values()[offset..offset + len]
            .iter()
            .map(|&g| {
                let g = g as usize;
                let b = starts.partition_point(|&s| s <= g) - 1;
                (b, g - starts[b])
            })
            .collect();
        offset += len;
        let refs: Vec<&RecordBatch> = batches.iter().collect();
        Some(arrow::compute::interleave_record_batch(&refs, &picks).map_err(Into::into))
    })))
}
