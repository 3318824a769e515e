//! `NestedLoopJoinExec`: joins without equi keys (non-equi conditions and
//! cross joins). The left input is collected once and every right batch is
//! paired with it in bounded chunks, filtered by the join condition.
//!
//! ```text
//!  left (one partition, collected once) ──┐
//!  right batch ── pairs (left × right, chunked) ─▶ condition ─▶ output
//! ```
//! Join types that emit unmatched left rows need the right side in one
//! partition too, so that "unmatched" is known globally.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use arrow::array::{BooleanArray, UInt32Array};
use arrow::compute::{concat_batches, filter_record_batch};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::Result;
use crate::exec::hash_join::probe::{pair_batch, with_nulls};
use crate::exec::hash_join::split_into;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::logical::plan::JoinType;
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::case::null_as_false;
use crate::physical_expr::{PhysicalExprRef, evaluate_predicate};
use crate::runtime::memory_pool::batch_memory_size;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Nested loop join of `left` (collected) and `right` (streamed).
#[derive(Debug)]
pub struct NestedLoopJoinExec {
    left: Arc<dyn ExecutionPlan>,
    right: Arc<dyn ExecutionPlan>,
    filter: Option<PhysicalExprRef>,
    join_type: JoinType,
    schema: SchemaRef,
    joined_schema: SchemaRef,
    left_data: OnceLock<Result<Arc<LeftData>>>,
    metrics: Arc<Metrics>,
}

impl NestedLoopJoinExec {
    /// A nested loop join; `filter` is over `left ++ right` columns (`joined_schema`).
    pub fn new(
        left: Arc<dyn ExecutionPlan>,
        right: Arc<dyn ExecutionPlan>,
        filter: Option<PhysicalExprRef>,
        join_type: JoinType,
        schema: SchemaRef,
        joined_schema: SchemaRef,
    ) -> Self {
        NestedLoopJoinExec {
            left,
            right,
            filter,
            join_type,
            schema,
            joined_schema,
            left_data: OnceLock::new(),
            metrics: Arc::new(Metrics::new()),
        }
    }

    fn needs_global_left(&self) -> bool {
        matches!(
            self.join_type,
            JoinType::Left
                | JoinType::Full
                | JoinType::LeftSemi
                | JoinType::LeftAnti
                | JoinType::LeftMark
        )
    }

    fn left_batch(&self, ctx: &Arc<TaskContext>) -> Result<Arc<LeftData>> {
        self.left_data
            .get_or_init(|| {
                let mut batches = vec![];
                let mut reservation = ctx
                    .memory
                    .reserve("NestedLoopJoinExec build")
                    .with_metrics(&self.metrics);
                for b in self.left.execute(0, ctx)? {
                    ctx.cancel.check()?;
                    let b = b?;
                    reservation.try_grow(batch_memory_size(&b))?;
                    batches.push(b);
                }
                let batch = concat_batches(&self.left.schema(), &batches)?;
                Ok(Arc::new(LeftData {
                    batch,
                    _reservation: reservation,
                }))
            })
            .clone()
    }
}

/// The collected left side and the memory it holds.
#[derive(Debug)]
struct LeftData {
    batch: RecordBatch,
    _reservation: crate::runtime::MemoryReservation,
}

struct NljState {
    left_data: Arc<LeftData>,
    filter: Option<PhysicalExprRef>,
    join_type: JoinType,
    schema: SchemaRef,
    joined_schema: SchemaRef,
    visited: Vec<bool>,
    batch_size: usize,
    /// The right batch being paired, the next (right row, left row) pair to form and which
    /// right rows matched.
    current: Option<(RecordBatch, (usize, usize), Vec<bool>)>,
}

impl NljState {
    /// Starts pairing a new right batch.
    fn start(&mut self, right: RecordBatch) {
        let nr = right.num_rows();
        self.current = Some((right, (0, 0), vec![false; nr]));
    }

    /// Pairs the next chunk of the current right batch (about `batch_size` pairs) and returns
    /// its output; after the last chunk, the batch's unmatched rows where the join type wants
    /// them. `None` when no right batch is in progress. Chunking keeps memory bounded and lets
    /// the caller check for cancellation between chunks.
    fn next_chunk(&mut self) -> Result<Option<Vec<RecordBatch>>> {
        let Some((right, (r0, l0), right_matched)) = self.current.take() else {
            return Ok(None);
        };
        let nl = self.left_data.batch.num_rows();
        let nr = right.num_rows();
        if nl == 0 || r0 >= nr {
            return self.right_unmatched(&right, &right_matched).map(Some);
        }
        let mut right_matched = right_matched;
        let mut out = vec![];
        // a chunk is about batch_size pairs: all left rows with enough right rows, or (with
        // more left rows than that) one right row with the next batch_size left rows
        let (r1, l1, next) = if nl <= self.batch_size {
            let r1 = (r0 + (self.batch_size / nl).max(1)).min(nr);
            (r1, nl, (r1, 0))
        } else {
            let l1 = (l0 + self.batch_size).min(nl);
            let next = if l1 == nl { (r0 + 1, 0) } else { (r0, l1) };
            (r0 + 1, l1, next)
        };
        let mut li = Vec::with_capacity((r1 - r0) * (l1 - l0));
        let mut ri = Vec::with_capacity((r1 - r0) * (l1 - l0));
        for r in r0..r1 {
            for l in l0..l1 {
                li.push(l as u32);
                ri.push(r as u32);
            }
        }
        let li = UInt32Array::from(li);
        let ri = UInt32Array::from(ri);
        let pairs = pair_batch(&self.joined_schema, &self.left_data.batch, &right, &li, &ri)?;
        let mask = match &self.filter {
            Some(f) => null_as_false(&evaluate_predicate(f.as_ref(), &pairs)?),
            None => BooleanArray::from(vec![true; pairs.num_rows()]),
        };
        for (k, m) in mask.iter().enumerate() {
            if m == Some(true) {
                if let Some(v) = self.visited.get_mut(li.value(k) as usize) {
                    *v = true;
                }
                right_matched[ri.value(k) as usize] = true;
            }
        }
        if matches!(
            self.join_type,
            JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full
        ) {
            let kept = filter_record_batch(&pairs, &mask)?;
            if kept.num_rows() > 0 {
                out.push(RecordBatch::try_new_with_options(
                    self.schema.clone(),
                    kept.columns().to_vec(),
                    &RecordBatchOptions::new().with_row_count(Some(kept.num_rows())),
                )?);
            }
        }
        self.current = Some((right, next, right_matched));
        Ok(Some(out))
    }

    fn right_unmatched(&self, right: &RecordBatch, matched: &[bool]) -> Result<Vec<RecordBatch>> {
        let lw = self.left_data.batch.num_columns();
        Ok(match self.join_type {
            JoinType::Right | JoinType::Full => {
                let mask: BooleanArray = matched.iter().map(|m| Some(!m)).collect();
                if mask.true_count() == 0 {
                    return Ok(vec![]);
                }
                let rest = filter_record_batch(right, &mask)?;
                vec![with_nulls(
                    &self.schema,
                    None,
                    Some(&rest),
                    lw,
                    rest.num_rows(),
                )?]
            }
            JoinType::RightSemi | JoinType::RightAnti => {
                let want = self.join_type == JoinType::RightSemi;
                let mask: BooleanArray = matched.iter().map(|m| Some(*m == want)).collect();
                if mask.true_count() == 0 {
                    return Ok(vec![]);
                }
                let kept = filter_record_batch(right, &mask)?;
                vec![RecordBatch::try_new_with_options(
                    self.schema.clone(),
                    kept.columns().to_vec(),
                    &RecordBatchOptions::new().with_row_count(Some(kept.num_rows())),
                )?]
            }
            _ => vec![],
        })
    }

    fn finish(&self) -> Result<Option<RecordBatch>> {
        let lw = self.left_data.batch.num_columns();
        let want = match self.join_type {
            JoinType::Left | JoinType::Full | JoinType::LeftAnti => false,
            JoinType::LeftSemi => true,
            _ => return Ok(None),
        };
        let mask: BooleanArray = self.visited.iter().map(|v| Some(*v == want)).collect();
        if mask.true_count() == 0 {
            return Ok(None);
        }
        let rows = filter_record_batch(&self.left_data.batch, &mask)?;
        Ok(Some(match self.join_type {
            JoinType::Left | JoinType::Full => {
                with_nulls(&self.schema, Some(&rows), None, lw, rows.num_rows())?
            }
            _ => RecordBatch::try_new_with_options(
                self.schema.clone(),
                rows.columns().to_vec(),
                &RecordBatchOptions::new().with_row_count(Some(rows.num_rows())),
            )?,
        }))
    }
}

impl ExecutionPlan for NestedLoopJoinExec {
    fn name(&self) -> &'static str {
        "NestedLoopJoinExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        Partitioning::Unknown(self.right.output_partitioning().partition_count())
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.left, &self.right]
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        if self.needs_global_left() {
            vec![Distribution::SinglePartition, Distribution::SinglePartition]
        } else {
            vec![Distribution::SinglePartition, Distribution::Unspecified]
        }
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let right = children.remove(1);
        let left = children.remove(0);
        Ok(Arc::new(NestedLoopJoinExec::new(
            left,
            right,
            self.filter.clone(),
            self.join_type,
            self.schema.clone(),
            self.joined_schema.clone(),
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let left_data = self.left_batch(ctx)?;
        let mut state = NljState {
            visited: if self.needs_global_left() {
                vec![false; left_data.batch.num_rows()]
            } else {
                vec![]
            },
            left_data,
            filter: self.filter.clone(),
            join_type: self.join_type,
            schema: self.schema.clone(),
            joined_schema: self.joined_schema.clone(),
            batch_size: ctx.batch_size(),
            current: None,
        };
        let mut input = self.right.execute(partition, ctx)?;
        let mut pending: std::collections::VecDeque<RecordBatch> = Default::default();
        let mut finished = false;
        let cancel = ctx.cancel.clone();
        let batch_size = ctx.batch_size();
        let iter = std::iter::from_fn(move || -> Option<Result<RecordBatch>> {
            loop {
                if let Some(b) = pending.pop_front() {
                    return Some(Ok(b));
                }
                if finished {
                    return None;
                }
                if let Err(e) = cancel.check() {
                    return Some(Err(e));
                }
                // chunks filtered to nothing do not leave this loop: let other queries in here
                crate::runtime::fair::yield_point();
                match state.next_chunk() {
                    Ok(Some(outs)) => {
                        for o in outs {
                            split_into(&mut pending, o, batch_size);
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
                match input.next() {
                    Some(Ok(b)) => state.start(b),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        finished = true;
                        match state.finish() {
                            Ok(Some(b)) => split_into(&mut pending, b, batch_size),
                            Ok(None) => {}
                            Err(e) => return Some(Err(e)),
                        }
                    }
                }
            }
        });
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        match &self.filter {
            Some(f) => format!("{} filter={f}", self.join_type),
            None => format!("{}", self.join_type),
        }
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
