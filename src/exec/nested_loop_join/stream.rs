//! The output of one nested-loop join task: a block nested loop over the build blocks.
//!
//! ```text
//!  one block (the build side in memory, or one spilled block file):
//!    probe input ─batch─▶ BlockJoin ─▶ pairs; probe rows by their matches, batch by batch
//!  several blocks:
//!    block 0 ◀── probe input (each batch also written to a probe spill file)
//!    block 1 ◀── probe spill file, re-read
//!    …                               after each block: its build rows by their matches
//!    last ─▶ probe spill file re-read: probe rows by their matches over all blocks
//! ```
//! With several blocks a probe row is only known to be unmatched (or matched, for semi joins)
//! after the last block, so its "matched" flag is kept in a bitmap over all probe rows of the
//! task, in the order of the probe spill file. A build row is in one block only, so its
//! flags are per block.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::array::BooleanBufferBuilder;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::hash_join::split_into;
use crate::exec::nested_loop_join::block::{BlockJoin, JoinSpec, Step};
use crate::exec::nested_loop_join::build::{BuildSide, load_block};
use crate::exec::{BatchIter, empty_iter};
use crate::runtime::spill::{SpillFile, SpillWriter};
use crate::runtime::{MemoryReservation, Metrics, TaskContext};

/// One build block being joined with the whole probe side.
struct BlockPass {
    join: BlockJoin,
    probe: BatchIter,
}

/// The join of one probe partition with every build block.
pub struct NestedLoopStream {
    spec: JoinSpec,
    build: BuildSide,
    build_schema: SchemaRef,
    probe_schema: SchemaRef,
    next_block: usize,
    current: Option<BlockPass>,
    /// The probe input, until the first block takes it.
    input: Option<BatchIter>,
    /// Writes the probe rows during the first block's pass (several blocks only).
    probe_writer: Option<SpillWriter>,
    /// The probe rows, for the blocks after the first.
    probe_file: Option<Arc<SpillFile>>,
    /// Rows seen by the current pass: where the next batch's flags go in `probe_matched`.
    probe_offset: usize,
    /// Probe rows matched by some block so far (several blocks, joins that track probe rows).
    probe_matched: Option<BooleanBufferBuilder>,
    /// Re-reading the probe spill file for the probe rows, after the last block.
    probe_rows_out: Option<BatchIter>,
    /// The loaded block's memory.
    reservation: MemoryReservation,
    /// The memory of `probe_matched`.
    flags_reservation: MemoryReservation,
    pending: VecDeque<RecordBatch>,
    ctx: Arc<TaskContext>,
    metrics: Arc<Metrics>,
    done: bool,
}

impl NestedLoopStream {
    /// Joins `probe` (one partition of the probe side) with `build`; `consumer` names the
    /// task's reservation.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        spec: JoinSpec,
        build: BuildSide,
        build_schema: SchemaRef,
        probe: BatchIter,
        probe_schema: SchemaRef,
        consumer: String,
        ctx: &Arc<TaskContext>,
        metrics: &Arc<Metrics>,
    ) -> Self {
        NestedLoopStream {
            spec,
            build,
            build_schema,
            probe_schema,
            next_block: 0,
            current: None,
            input: Some(probe),
            probe_writer: None,
            probe_file: None,
            probe_offset: 0,
            probe_matched: None,
            probe_rows_out: None,
            flags_reservation: ctx.memory.reserve(consumer.clone()).with_metrics(metrics),
            reservation: ctx.memory.reserve(consumer).with_metrics(metrics),
            pending: VecDeque::new(),
            ctx: ctx.clone(),
            metrics: metrics.clone(),
            done: false,
        }
    }

    fn blocks(&self) -> usize {
        match &self.build {
            BuildSide::Memory(_) => 1,
            BuildSide::Blocks(files) => files.len(),
        }
    }

    /// With several blocks, probe rows are emitted only after the last one.
    fn deferred(&self) -> bool {
        self.blocks() > 1
    }

    /// Emits an output batch in `batch_size` pieces.
    fn emit(&mut self, batch: Option<RecordBatch>) {
        if let Some(b) = batch {
            split_into(&mut self.pending, b, self.spec.batch_size.max(1));
        }
    }

    /// Does the next piece of work: one chunk of pairs, one probe batch read, or a block
    /// started or finished.
    fn step(&mut self) -> Result<()> {
        if let Some(reader) = &mut self.probe_rows_out {
            return match reader.next() {
                Some(b) => self.deferred_probe_rows(b?),
                None => {
                    self.probe_rows_out = None;
                    self.done = true;
                    Ok(())
                }
            };
        }
        let deferred = self.deferred();
        let Some(pass) = &mut self.current else {
            return self.start_next_block();
        };
        match pass.join.next_chunk(&self.spec)? {
            Step::Pairs(out) => self.emit(out),
            Step::ProbeDone(batch, matched) => match &mut self.probe_matched {
                Some(bits) => {
                    for (i, m) in matched.iter().enumerate() {
                        if *m {
                            bits.set_bit(self.probe_offset + i, true);
                        }
                    }
                    self.probe_offset += matched.len();
                }
                None if deferred => self.probe_offset += matched.len(),
                None => {
                    let out = self.spec.probe_rows_out(&batch, &matched)?;
                    self.emit(out);
                }
            },
            Step::Idle => match pass.probe.next() {
                Some(b) => {
                    let b = b?;
                    if b.num_rows() > 0 {
                        if let Some(w) = &mut self.probe_writer {
                            w.write(&b)?;
                        }
                        if let Some(bits) = &mut self.probe_matched
                            && self.next_block == 1
                        {
                            bits.append_n(b.num_rows(), false);
                            self.flags_reservation.grow(b.num_rows().div_ceil(8));
                        }
                        pass.join.start(b);
                    }
                }
                None => self.finish_block()?,
            },
        }
        Ok(())
    }

    /// After a block's pass: its build rows by their matches; the probe spill file is complete.
    fn finish_block(&mut self) -> Result<()> {
        if let Some(pass) = self.current.take() {
            let out = pass.join.build_rows_out(&self.spec)?;
            self.emit(out);
        }
        if let Some(w) = self.probe_writer.take() {
            self.probe_file = Some(w.finish()?);
        }
        self.probe_offset = 0;
        Ok(())
    }

    /// Loads the next block and starts its pass over the probe rows; after the last block,
    /// starts emitting the probe rows that waited for every block.
    fn start_next_block(&mut self) -> Result<()> {
        let i = self.next_block;
        if i >= self.blocks() {
            self.reservation.free();
            match &self.probe_file {
                Some(f) if self.probe_matched.is_some() => {
                    self.probe_rows_out = Some(Box::new(f.read()?));
                }
                _ => self.done = true,
            }
            return Ok(());
        }
        self.next_block += 1;
        let probe = match self.input.take() {
            Some(input) => {
                if self.deferred() {
                    let w =
                        SpillWriter::new(&self.ctx.spill, &self.probe_schema, Some(&self.metrics))?;
                    self.probe_writer = Some(w);
                    if self.spec.tracks_probe_rows() {
                        self.probe_matched = Some(BooleanBufferBuilder::new(0));
                    }
                }
                input
            }
            None => match &self.probe_file {
                Some(f) if f.rows() > 0 => Box::new(f.read()?),
                // no probe rows: a block can only give build rows
                _ if !self.spec.tracks_build_rows() => return Ok(()),
                _ => empty_iter(),
            },
        };
        let block = match &self.build {
            BuildSide::Memory(b) => b.batch.clone(),
            BuildSide::Blocks(files) => {
                let file = files[i].clone();
                load_block(&file, &self.build_schema, &mut self.reservation, &self.ctx)?
            }
        };
        self.current = Some(BlockPass {
            join: BlockJoin::new(block, &self.spec),
            probe,
        });
        Ok(())
    }

    /// The rows of one batch of the re-read probe spill file that the join emits by their
    /// matches over all blocks.
    fn deferred_probe_rows(&mut self, batch: RecordBatch) -> Result<()> {
        let Some(bits) = &self.probe_matched else {
            return Ok(());
        };
        let n = batch.num_rows();
        let matched: Vec<bool> = (self.probe_offset..self.probe_offset + n)
            .map(|i| bits.get_bit(i))
            .collect();
        self.probe_offset += n;
        let out = self.spec.probe_rows_out(&batch, &matched)?;
        self.emit(out);
        Ok(())
    }

    /// Drops everything held (files, memory) after an error.
    fn abandon(&mut self) {
        self.done = true;
        self.current = None;
        self.input = None;
        self.probe_writer = None;
        self.probe_file = None;
        self.probe_rows_out = None;
        self.probe_matched = None;
        self.pending.clear();
        self.reservation.free();
        self.flags_reservation.free();
    }
}

impl Iterator for NestedLoopStream {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(Ok(b));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.ctx.cancel.check() {
                self.abandon();
                return Some(Err(e));
            }
            // chunks filtered to nothing do not leave this loop: let other queries in here
            crate::runtime::fair::yield_point();
            if let Err(e) = self.step() {
                self.abandon();
                return Some(Err(e));
            }
        }
    }
}
