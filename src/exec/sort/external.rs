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
//! copy of every column.

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
        for chunk in sorted_chunks(buffer, keys, self.batch_size)? {
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
            let mut reservation = Some(self.reservation);
            let mut chunks = sorted_chunks(buffer, keys, self.batch_size)?;
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
