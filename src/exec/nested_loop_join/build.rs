//! The build (left) side of a nested-loop join: collected in memory under a spillable
//! reservation, or — when the memory pool refuses it — written to spill files in blocks, each
//! small enough to be loaded on its own while the probe side streams past it.
//!
//! ```text
//!  build batches ─▶ buffer (reserved: the batch and its copy in the concatenated block)
//!      │ refused: block size = half of what the buffer held (or of a task's share)
//!      ▼
//!  buffer + rest of the input ─▶ block files 0, 1, 2, … (each about one block size)
//! ```

use std::sync::Arc;

use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::BatchIter;
use crate::runtime::memory_pool::batch_memory_size;
use crate::runtime::spill::{SpillFile, SpillWriter};
use crate::runtime::{MemoryReservation, Metrics, TaskContext};

/// The build side of the join, shared by all its tasks.
#[derive(Debug, Clone)]
pub enum BuildSide {
    /// All build rows in one batch.
    Memory(Arc<BuildBatch>),
    /// Build rows in block files (at least one), to be loaded one at a time.
    Blocks(Arc<[Arc<SpillFile>]>),
}

/// All build rows, and the memory they hold.
#[derive(Debug)]
pub struct BuildBatch {
    /// The rows.
    pub batch: RecordBatch,
    _reservation: MemoryReservation,
}

/// Memory a buffered build batch needs: itself and its copy in the concatenated block.
fn build_estimate(batch: &RecordBatch) -> usize {
    2 * batch_memory_size(batch)
}

/// Reads the build input into memory, or into block files when the pool refuses it.
pub fn collect_build(
    input: BatchIter,
    schema: &SchemaRef,
    consumer: &str,
    ctx: &Arc<TaskContext>,
    metrics: &Arc<Metrics>,
) -> Result<BuildSide> {
    let mut reservation = ctx.memory.reserve_spillable(consumer).with_metrics(metrics);
    let mut batches = vec![];
    let mut input = input;
    for b in input.by_ref() {
        ctx.cancel.check()?;
        let b = b?;
        if b.num_rows() == 0 {
            continue;
        }
        if !reservation.grow_if_fits(build_estimate(&b)) {
            // a block and its concatenation take what the buffer held, or at least a task's
            // share of the pool (refused at once, one batch per block would re-read the probe
            // side for every batch)
            let share = ctx
                .memory
                .limit()
                .map_or(0, |l| l / ctx.config.target_partitions.max(1));
            let block_bytes = reservation.size().max(share) / 2;
            batches.push(b);
            let blocks = spill_blocks(
                batches,
                reservation,
                input,
                block_bytes,
                schema,
                ctx,
                metrics,
            )?;
            return Ok(BuildSide::Blocks(blocks.into()));
        }
        batches.push(b);
    }
    let batch = concat_batches(schema, &batches)?;
    drop(batches);
    reservation.resize(batch_memory_size(&batch));
    Ok(BuildSide::Memory(Arc::new(BuildBatch {
        batch,
        _reservation: reservation,
    })))
}

/// Writes the buffered batches (releasing their memory as they go) and the rest of the input
/// to block files of about `block_bytes` each (at least one batch).
fn spill_blocks(
    buffered: Vec<RecordBatch>,
    mut reservation: MemoryReservation,
    rest: BatchIter,
    block_bytes: usize,
    schema: &SchemaRef,
    ctx: &Arc<TaskContext>,
    metrics: &Arc<Metrics>,
) -> Result<Vec<Arc<SpillFile>>> {
    let mut blocks = vec![];
    let mut writer: Option<(SpillWriter, usize)> = None;
    for b in buffered.into_iter().map(Ok).chain(rest) {
        ctx.cancel.check()?;
        let b = b?;
        if b.num_rows() == 0 {
            continue;
        }
        let size = batch_memory_size(&b);
        let (w, held) = match &mut writer {
            Some(w) => w,
            None => writer.insert((SpillWriter::new(&ctx.spill, schema, Some(metrics))?, 0)),
        };
        w.write(&b)?;
        *held += size;
        reservation.shrink(build_estimate(&b));
        if *held >= block_bytes
            && let Some((w, _)) = writer.take()
        {
            blocks.push(w.finish()?);
        }
    }
    if let Some((w, _)) = writer {
        blocks.push(w.finish()?);
    }
    metrics.add("build_blocks", blocks.len());
    Ok(blocks)
}

/// Loads a block file into one batch, its memory reserved in `reservation` (past the limit if
/// need be: the block was sized to fit, and one block is the least the join works with). The
/// reservation's earlier block must be gone: its memory is given back first.
pub fn load_block(
    file: &Arc<SpillFile>,
    schema: &SchemaRef,
    reservation: &mut MemoryReservation,
    ctx: &Arc<TaskContext>,
) -> Result<RecordBatch> {
    reservation.free();
    let mut batches = vec![];
    for b in file.read()? {
        ctx.cancel.check()?;
        let b = b?;
        reservation.grow(batch_memory_size(&b));
        batches.push(b);
    }
    // the batches and their concatenation, then only the latter
    reservation.resize(2 * reservation.size());
    let block = concat_batches(schema, &batches)?;
    drop(batches);
    reservation.resize(batch_memory_size(&block));
    Ok(block)
}
