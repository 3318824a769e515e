//! The grace hash join's last resort, for a bucket whose build rows do not fit in memory even
//! after splitting it by hash (many rows share one key): a block hash join.
//!
//! ```text
//!  build bucket ─▶ chunk 1 (as many rows as memory allows) ─▶ table ◀─ whole probe bucket
//!               ─▶ chunk 2 ───────────────────────────────▶ table ◀─ whole probe bucket …
//!  then, for joins that output probe rows by whether they matched (RIGHT, FULL, RIGHT SEMI /
//!  ANTI): one more pass over the probe bucket, using a bit per probe row set by every chunk
//! ```
//! Each build row belongs to one chunk, so unmatched build rows come out per chunk as usual.

use std::sync::Arc;

use arrow::array::BooleanBufferBuilder;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::BatchIter;
use crate::exec::hash_join::build::{JoinHashTable, build_estimate};
use crate::exec::hash_join::grace::GraceBuild;
use crate::exec::hash_join::probe::{ProbeSpec, finish_build_side, probe_pairs, probe_side_rows};
use crate::logical::plan::JoinType;
use crate::runtime::TaskContext;
use crate::runtime::spill::SpillFile;

/// One build chunk's table and the pass of the probe bucket through it.
struct Chunk {
    table: JoinHashTable,
    visited: Vec<bool>,
    probe: BatchIter,
    offset: usize,
}

/// A bucket pair joined chunk by chunk.
pub struct ChunkedBucket {
    build: BatchIter,
    /// A build batch read but not yet in a chunk.
    next_build: Option<RecordBatch>,
    build_done: bool,
    probe: Option<Arc<SpillFile>>,
    /// Which probe rows matched some chunk (for joins that output probe rows by that).
    probe_matched: Option<BooleanBufferBuilder>,
    chunk: Option<Chunk>,
    final_pass: Option<(BatchIter, usize)>,
    /// Empty table with the whole build side's facts, for the final pass.
    empty: JoinHashTable,
    build_rows: usize,
    build_has_null_key: bool,
}

impl ChunkedBucket {
    /// Joins build bucket `build` with probe bucket `probe`; `empty` carries the facts about
    /// the whole build side.
    pub fn try_new(
        build: &Arc<SpillFile>,
        probe: Option<Arc<SpillFile>>,
        spec: &ProbeSpec,
        empty: JoinHashTable,
        ctx: &TaskContext,
    ) -> Result<Self> {
        let probe_matched = matches!(
            spec.join_type,
            JoinType::Right | JoinType::Full | JoinType::RightSemi | JoinType::RightAnti
        )
        .then(|| {
            let rows = probe.as_ref().map(|p| p.rows()).unwrap_or(0);
            let mut bits = BooleanBufferBuilder::new(rows);
            bits.append_n(rows, false);
            bits
        });
        Ok(ChunkedBucket {
            build: build.read_coalesced(ctx.batch_size())?,
            next_build: None,
            build_done: false,
            probe,
            probe_matched,
            chunk: None,
            final_pass: None,
            build_rows: empty.build_side_rows,
            build_has_null_key: empty.has_null_key,
            empty,
        })
    }

    /// Reads build rows until memory is refused (at least one batch) into a table.
    fn next_chunk(&mut self, build: &GraceBuild, ctx: &TaskContext) -> Result<Option<Chunk>> {
        let mut reservation = ctx
            .memory
            .reserve_spillable(build.consumer.clone())
            .with_metrics(&build.metrics);
        let mut batches = vec![];
        loop {
            let b = match self.next_build.take() {
                Some(b) => b,
                None => match self.build.next() {
                    Some(b) => b?,
                    None => {
                        self.build_done = true;
                        break;
                    }
                },
            };
            let size = build_estimate(&b);
            if !reservation.grow_if_fits(size) {
                if !batches.is_empty() {
                    self.next_build = Some(b);
                    break;
                }
                // one batch is the least a chunk holds
                reservation.grow(size);
            }
            batches.push(b);
        }
        if batches.is_empty() {
            return Ok(None);
        }
        let mut table = JoinHashTable::build(
            batches,
            &build.schema,
            &build.key_exprs,
            build.null_equals_null,
            reservation,
        )?;
        table.build_side_rows = self.build_rows;
        table.has_null_key = self.build_has_null_key;
        let probe: BatchIter = match &self.probe {
            Some(f) => f.read_coalesced(ctx.batch_size())?,
            None => Box::new(std::iter::empty()),
        };
        Ok(Some(Chunk {
            visited: vec![false; table.num_rows()],
            table,
            probe,
            offset: 0,
        }))
    }

    /// Does one step: `None` when the bucket is finished, else the output rows of the step.
    pub fn step(
        &mut self,
        build: &GraceBuild,
        spec: &ProbeSpec,
        hashes: &mut Vec<u64>,
        ctx: &TaskContext,
    ) -> Result<Option<Option<RecordBatch>>> {
        if let Some(c) = self.chunk.as_mut() {
            return Ok(Some(match c.probe.next() {
                Some(batch) => {
                    let batch = batch?;
                    let offset = c.offset;
                    c.offset += batch.num_rows();
                    match probe_pairs(&c.table, spec, &batch, &mut c.visited, hashes)? {
                        Some((pairs, pi)) => {
                            if let Some(bits) = self.probe_matched.as_mut() {
                                for i in pi.values() {
                                    bits.set_bit(offset + *i as usize, true);
                                }
                            }
                            pairs
                        }
                        None => None,
                    }
                }
                None => {
                    let out = finish_build_side(&c.table, spec, &c.visited)?;
                    self.chunk = None;
                    out
                }
            }));
        }
        if !self.build_done {
            self.chunk = self.next_chunk(build, ctx)?;
            return Ok(Some(None));
        }
        let Some(bits) = self.probe_matched.as_ref() else {
            return Ok(None);
        };
        if self.final_pass.is_none() {
            let Some(f) = &self.probe else {
                return Ok(None);
            };
            self.final_pass = Some((f.read_coalesced(ctx.batch_size())?, 0));
        }
        let Some((reader, offset)) = self.final_pass.as_mut() else {
            return Ok(None);
        };
        match reader.next() {
            Some(batch) => {
                let batch = batch?;
                let matched: Vec<bool> = (*offset..*offset + batch.num_rows())
                    .map(|i| bits.get_bit(i))
                    .collect();
                *offset += batch.num_rows();
                Ok(Some(probe_side_rows(&self.empty, spec, &batch, &matched)?))
            }
            None => Ok(None),
        }
    }
}
