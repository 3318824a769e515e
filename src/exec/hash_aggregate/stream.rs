//! The running aggregation of one partition: consumes the input into an [`AggregateState`]
//! and reacts when the memory pool refuses more:
//!
//! ```text
//!  Partial:        refused ─▶ emit the groups' states now, start over (the final phase merges them)
//!  Final / Single: refused ─▶ spill the groups' states to hash buckets (spill.rs), start over
//!                  end of input ─▶ spilled? merge bucket by bucket : emit the groups
//! ```

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::BatchIter;
use crate::exec::bucket_spill::BucketSpiller;
use crate::exec::hash_aggregate::spill::{BucketMerge, MergeSpec, spill_schema, spill_state};
use crate::exec::hash_aggregate::state::AggregateState;
use crate::exec::hash_aggregate::{AggregateMode, AggregateSpec};
use crate::runtime::{MemoryReservation, Metrics, TaskContext};

/// One partition of a `HashAggregateExec`, as an iterator of output batches.
pub struct AggregateStream {
    mode: AggregateMode,
    g: usize,
    aggregates: Vec<AggregateSpec>,
    input: Option<BatchIter>,
    state: AggregateState,
    schema: SchemaRef,
    reservation: MemoryReservation,
    spiller: Option<(BucketSpiller, SchemaRef)>,
    merge: Option<BucketMerge>,
    pending: VecDeque<RecordBatch>,
    ctx: Arc<TaskContext>,
    metrics: Arc<Metrics>,
    operator: String,
    done: bool,
}

impl AggregateStream {
    /// Aggregates `input` into `state`; `g` group keys, output `schema`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mode: AggregateMode,
        g: usize,
        aggregates: Vec<AggregateSpec>,
        input: BatchIter,
        state: AggregateState,
        schema: SchemaRef,
        ctx: &Arc<TaskContext>,
        metrics: Arc<Metrics>,
        partition: usize,
    ) -> Self {
        let operator = format!("HashAggregateExec[{partition}]");
        AggregateStream {
            mode,
            g,
            aggregates,
            input: Some(input),
            state,
            schema,
            reservation: ctx
                .memory
                .reserve_spillable(operator.clone())
                .with_metrics(&metrics),
            spiller: None,
            merge: None,
            pending: VecDeque::new(),
            ctx: ctx.clone(),
            metrics,
            operator,
            done: false,
        }
    }

    fn push_output(&mut self, out: RecordBatch) {
        let batch_size = self.ctx.batch_size();
        let mut off = 0;
        while off < out.num_rows() {
            let len = batch_size.min(out.num_rows() - off);
            self.pending.push_back(out.slice(off, len));
            off += len;
        }
        if out.num_rows() == 0 && self.g == 0 {
            self.pending.push_back(out);
        }
    }

    /// The pool refused the state's growth.
    fn memory_refused(&mut self) -> Result<()> {
        match self.mode {
            AggregateMode::Partial => {
                // partial states of a group may come out several times: the final phase merges
                let out = self.state.finish(&self.schema)?;
                self.push_output(out);
                self.reservation.resize(self.state.size());
            }
            _ if self.g == 0 => {
                // one group: nothing to split by; fail with the operator and setting named
                self.reservation.try_resize(self.state.size())?;
            }
            _ => {
                if self.spiller.is_none() {
                    let schema = spill_schema(&self.schema, self.g, &self.aggregates)?;
                    let spiller = BucketSpiller::try_new(
                        schema.clone(),
                        0,
                        &self.ctx,
                        &self.metrics,
                        &self.operator,
                    )?;
                    self.spiller = Some((spiller, schema));
                }
                if let Some((spiller, schema)) = self.spiller.as_mut() {
                    spill_state(
                        &mut self.state,
                        spiller,
                        schema,
                        self.g,
                        self.ctx.batch_size(),
                    )?;
                }
                self.reservation.resize(self.state.size());
            }
        }
        Ok(())
    }

    fn end_of_input(&mut self) -> Result<()> {
        match self.spiller.take() {
            Some((mut spiller, spill_schema)) => {
                spill_state(
                    &mut self.state,
                    &mut spiller,
                    &spill_schema,
                    self.g,
                    self.ctx.batch_size(),
                )?;
                self.reservation.free();
                let files = spiller.finish()?;
                let spec = MergeSpec {
                    out_schema: self.schema.clone(),
                    spill_schema,
                    g: self.g,
                    aggregates: self.aggregates.clone(),
                    operator: self.operator.clone(),
                };
                self.merge = Some(BucketMerge::new(spec, files, &self.ctx, &self.metrics));
            }
            None => {
                let out = self.state.finish(&self.schema)?;
                self.push_output(out);
                self.done = true;
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Result<()> {
        let Some(input) = self.input.as_mut() else {
            self.done = true;
            return Ok(());
        };
        match input.next() {
            Some(b) => {
                self.ctx.cancel.check()?;
                let b = b?;
                if b.num_rows() == 0 {
                    return Ok(());
                }
                self.state.consume(&b)?;
                if !self.reservation.resize_if_fits(self.state.size()) {
                    self.memory_refused()?;
                }
                Ok(())
            }
            None => {
                self.input = None;
                self.end_of_input()
            }
        }
    }
}

impl Iterator for AggregateStream {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(Ok(b));
            }
            if let Some(m) = self.merge.as_mut() {
                match m.next() {
                    Some(r) => return Some(r),
                    None => {
                        self.merge = None;
                        self.done = true;
                    }
                }
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.step() {
                self.done = true;
                self.input = None;
                self.spiller = None;
                return Some(Err(e));
            }
        }
    }
}
