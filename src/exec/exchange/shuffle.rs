//! The shuffle write and read of an exchange: each input task buffers its output per output
//! partition under a memory reservation and spills its buffers to files when refused; each
//! output partition is later read back — memory first released as it is read, files streamed.
//!
//! ```text
//!  input task p ─push(j, batch)─▶ pending[j] (reserved)
//!                  │ refused: every pending[j] ─▶ its spill file j (kept open), memory freed
//!  end of task ──▶ Segment per j: [spilled part][in-memory rest]   (rows stay in order)
//!  read of j ───▶ segments of every input task, in input order (or merged, for SortMerge)
//! ```

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::BatchIter;
use crate::runtime::memory_pool::batch_memory_size;
use crate::runtime::spill::{SpillFile, SpillWriter, spill_batches};
use crate::runtime::{MemoryReservation, Metrics, TaskContext};

/// A piece of one output partition's rows from one input task.
#[derive(Debug)]
pub enum Chunk {
    /// Batches held in memory.
    Memory(Vec<RecordBatch>),
    /// Batches in a spill file.
    Spilled(Arc<SpillFile>),
}

/// The rows one input task produced for one output partition: chunks in row order, and the
/// memory its in-memory chunk holds.
#[derive(Debug)]
pub struct Segment {
    /// Chunks in order (at most one in memory, the last).
    pub chunks: Vec<Chunk>,
    /// Memory of the in-memory chunk.
    pub reservation: MemoryReservation,
}

impl Segment {
    /// Bytes held in memory.
    pub fn memory(&self) -> usize {
        self.reservation.size()
    }

    /// Moves the in-memory chunk to a spill file (its place in the order unchanged).
    pub fn spill(
        &mut self,
        ctx: &TaskContext,
        schema: &SchemaRef,
        metrics: &Arc<Metrics>,
    ) -> Result<()> {
        for chunk in self.chunks.iter_mut() {
            if let Chunk::Memory(batches) = chunk {
                let file = spill_batches(&ctx.spill, schema, batches.iter(), Some(metrics))?;
                *chunk = Chunk::Spilled(file);
            }
        }
        self.reservation.free();
        Ok(())
    }

    /// The rows in order; memory is released as in-memory batches are handed out.
    pub fn into_stream(self) -> Result<BatchIter> {
        let mut reservation = self.reservation;
        let mut parts: Vec<BatchIter> = vec![];
        for chunk in self.chunks {
            match chunk {
                Chunk::Spilled(f) => parts.push(Box::new(f.read()?)),
                Chunk::Memory(batches) => {
                    let mut r = reservation.split(usize::MAX);
                    parts.push(Box::new(batches.into_iter().map(move |b| {
                        r.shrink(batch_memory_size(&b));
                        Ok(b)
                    })));
                }
            }
        }
        Ok(Box::new(parts.into_iter().flatten()))
    }
}

/// One output partition's buffer inside an input task.
struct OutBuffer {
    pending: Vec<RecordBatch>,
    pending_bytes: usize,
    writer: Option<SpillWriter>,
}

/// Buffers an input task's output per output partition, spilling when memory is refused.
pub struct ShuffleWriter {
    schema: SchemaRef,
    outs: Vec<OutBuffer>,
    reservation: MemoryReservation,
    ctx: Arc<TaskContext>,
    metrics: Arc<Metrics>,
}

impl ShuffleWriter {
    /// A writer for `n_out` output partitions; `consumer` names the reservation.
    pub fn new(
        schema: SchemaRef,
        n_out: usize,
        ctx: &Arc<TaskContext>,
        metrics: Arc<Metrics>,
        consumer: String,
    ) -> Self {
        ShuffleWriter {
            schema,
            outs: (0..n_out)
                .map(|_| OutBuffer {
                    pending: vec![],
                    pending_bytes: 0,
                    writer: None,
                })
                .collect(),
            reservation: ctx
                .memory
                .reserve_spillable(consumer)
                .with_metrics(&metrics),
            ctx: ctx.clone(),
            metrics,
        }
    }

    fn writer(&mut self, j: usize) -> Result<&mut SpillWriter> {
        let out = &mut self.outs[j];
        if out.writer.is_none() {
            out.writer = Some(SpillWriter::new(
                &self.ctx.spill,
                &self.schema,
                Some(&self.metrics),
            )?);
        }
        out.writer
            .as_mut()
            .ok_or_else(|| crate::error::Error::internal("spill writer missing"))
    }

    /// Adds a batch for output partition `j`.
    pub fn push(&mut self, j: usize, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.metrics.record_batch(&batch);
        let size = batch_memory_size(&batch);
        if !self.reservation.grow_if_fits(size) {
            self.spill_all()?;
            if !self.reservation.grow_if_fits(size) {
                // still no room (other operators hold the memory): straight to disk
                return self.writer(j)?.write(&batch);
            }
        }
        let out = &mut self.outs[j];
        out.pending.push(batch);
        out.pending_bytes += size;
        Ok(())
    }

    /// Appends every buffered batch to its partition's spill file and frees the memory.
    fn spill_all(&mut self) -> Result<()> {
        for j in 0..self.outs.len() {
            if self.outs[j].pending.is_empty() {
                continue;
            }
            let pending = std::mem::take(&mut self.outs[j].pending);
            self.outs[j].pending_bytes = 0;
            let w = self.writer(j)?;
            for b in &pending {
                w.write(b)?;
            }
        }
        self.reservation.free();
        Ok(())
    }

    /// One segment per output partition.
    pub fn finish(mut self) -> Result<Vec<Segment>> {
        let mut segments = Vec::with_capacity(self.outs.len());
        for out in std::mem::take(&mut self.outs) {
            let mut chunks = vec![];
            if let Some(w) = out.writer {
                chunks.push(Chunk::Spilled(w.finish()?));
            }
            if !out.pending.is_empty() {
                chunks.push(Chunk::Memory(out.pending));
            }
            segments.push(Segment {
                chunks,
                reservation: self.reservation.split(out.pending_bytes),
            });
        }
        Ok(segments)
    }
}
