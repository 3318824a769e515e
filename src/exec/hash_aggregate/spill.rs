//! Spilling for Final and Single aggregation: when memory is refused, every group's
//! intermediate state is written to bucket files by a hash of its keys and the group table
//! starts over; after the input, each bucket's states are merged alone (a bucket that still
//! does not fit is split again one level deeper).
//!
//! ```text
//!  groups ─refused─▶ emit states ─▶ BucketSpiller (hash(keys) % 32) ─▶ bucket files
//!  end of input ─▶ for each bucket: read states ─▶ Final-mode merge ─▶ values ─▶ output
//!                                        └─ refused again: split the bucket one level deeper
//! ```
//! Rows of one group always land in the same bucket, so each bucket yields complete groups.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::bucket_spill::BucketSpiller;
use crate::exec::hash_aggregate::state::{AggregateState, to_schema};
use crate::exec::hash_aggregate::{AggregateMode, AggregateSpec};
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::column::ColumnExpr;
use crate::runtime::spill::SpillFile;
use crate::runtime::{MemoryReservation, Metrics, TaskContext};

/// The layout of spilled groups: the group keys (as output), then each aggregate's states.
pub fn spill_schema(
    out_schema: &SchemaRef,
    g: usize,
    aggregates: &[AggregateSpec],
) -> Result<SchemaRef> {
    let mut fields: Vec<Field> = out_schema.fields()[..g]
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    for a in aggregates {
        for (i, t) in a.spill_state_types()?.into_iter().enumerate() {
            fields.push(Field::new(format!("{}[{i}]", a.name), t, true));
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// Writes every group of `state` to `spiller` (in `batch_size` slices) and empties the state.
pub fn spill_state(
    state: &mut AggregateState,
    spiller: &mut BucketSpiller,
    schema: &SchemaRef,
    g: usize,
    batch_size: usize,
) -> Result<()> {
    let columns = state.emit_states()?;
    let rows = columns.first().map(|c| c.len()).unwrap_or(0);
    let batch = to_schema(schema, columns, rows)?;
    let mut offset = 0;
    while offset < rows {
        let len = batch_size.min(rows - offset);
        let slice = batch.slice(offset, len);
        spiller.write(&slice, &slice.columns()[..g])?;
        offset += len;
    }
    Ok(())
}

/// What merging the buckets needs to know about the aggregation.
pub struct MergeSpec {
    /// Output schema of the operator.
    pub out_schema: SchemaRef,
    /// Layout of the spilled groups.
    pub spill_schema: SchemaRef,
    /// Number of group keys.
    pub g: usize,
    /// The aggregates.
    pub aggregates: Vec<AggregateSpec>,
    /// Operator name for messages, e.g. `HashAggregateExec[2]`.
    pub operator: String,
}

impl MergeSpec {
    fn new_state(&self) -> Result<AggregateState> {
        let group_exprs: Vec<PhysicalExprRef> = (0..self.g)
            .map(|i| {
                Arc::new(ColumnExpr::of_field(i, self.spill_schema.field(i))) as PhysicalExprRef
            })
            .collect();
        let group_types: Vec<DataType> = self.spill_schema.fields()[..self.g]
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let widths = self
            .aggregates
            .iter()
            .map(|a| Ok(a.spill_state_types()?.len()))
            .collect::<Result<Vec<_>>>()?;
        AggregateState::try_new(
            AggregateMode::Final,
            group_exprs,
            &group_types,
            self.aggregates.clone(),
            &widths,
        )
    }
}

/// The output of a spilled aggregation: bucket after bucket, merged.
pub struct BucketMerge {
    spec: MergeSpec,
    stack: Vec<(Arc<SpillFile>, usize)>,
    pending: VecDeque<RecordBatch>,
    reservation: MemoryReservation,
    ctx: Arc<TaskContext>,
    metrics: Arc<Metrics>,
}

impl BucketMerge {
    /// Merges the bucket `files` written at level 0.
    pub fn new(
        spec: MergeSpec,
        files: Vec<Option<Arc<SpillFile>>>,
        ctx: &Arc<TaskContext>,
        metrics: &Arc<Metrics>,
    ) -> Self {
        let reservation = ctx
            .memory
            .reserve_spillable(format!("{} merge", spec.operator))
            .with_metrics(metrics);
        BucketMerge {
            spec,
            // popped from the end: reverse so buckets come out in order
            stack: files.into_iter().flatten().rev().map(|f| (f, 0)).collect(),
            pending: VecDeque::new(),
            reservation,
            ctx: ctx.clone(),
            metrics: metrics.clone(),
        }
    }

    /// Merges one bucket into `pending`, or splits it into deeper buckets pushed on the stack.
    fn merge_bucket(&mut self, file: Arc<SpillFile>, level: usize) -> Result<()> {
        let mut state = self.spec.new_state()?;
        let mut overflow: Option<BucketSpiller> = None;
        let g = self.spec.g;
        let batch_size = self.ctx.batch_size();
        for b in file.read_coalesced(batch_size)? {
            self.ctx.cancel.check()?;
            let b = b?;
            if let Some(sp) = overflow.as_mut() {
                sp.write(&b, &b.columns()[..g])?;
                continue;
            }
            state.consume(&b)?;
            if !self.reservation.resize_if_fits(state.size()) {
                let mut sp = BucketSpiller::try_new(
                    self.spec.spill_schema.clone(),
                    level + 1,
                    &self.ctx,
                    &self.metrics,
                    &self.spec.operator,
                )?;
                spill_state(&mut state, &mut sp, &self.spec.spill_schema, g, batch_size)?;
                self.reservation.resize(state.size());
                overflow = Some(sp);
            }
        }
        drop(file);
        if let Some(mut sp) = overflow {
            spill_state(&mut state, &mut sp, &self.spec.spill_schema, g, batch_size)?;
            drop(state);
            self.reservation.free();
            for f in sp.finish()?.into_iter().flatten().rev() {
                self.stack.push((f, level + 1));
            }
            return Ok(());
        }
        let out = state.finish(&self.spec.out_schema)?;
        let mut offset = 0;
        while offset < out.num_rows() {
            let len = batch_size.min(out.num_rows() - offset);
            self.pending.push_back(out.slice(offset, len));
            offset += len;
        }
        drop(state);
        self.reservation.free();
        Ok(())
    }
}

impl Iterator for BucketMerge {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Some(Ok(b));
            }
            let (file, level) = self.stack.pop()?;
            if let Err(e) = self.merge_bucket(file, level) {
                self.stack.clear();
                return Some(Err(e));
            }
        }
    }
}
