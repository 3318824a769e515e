//! `SortExec`: sorts each partition by several keys. Without `fetch` it is an
//! external merge sort (`external.rs`: sorted runs go to spill files when memory
//! is refused, then a streaming k-way merge, `merge.rs`). With `fetch` it is a
//! top-k: it keeps only the best `fetch` rows while reading, so memory stays
//! proportional to k and it never spills. The planner merges sorted partitions
//! with a sort-merge exchange.
//!
//! ```text
//!  input batches ──▶ buffer (reserved memory) ──▶ lexsort indices ──▶ take ──▶ sorted batches
//!                      ├─ refused: sorted run ──▶ spill file ──┐
//!                      │                        end of input ──┴─▶ k-way merge of runs
//!                      └─ top-k: every time the buffer holds > 2k rows, sort and keep k
//! ```

pub mod external;
pub mod merge;

use std::any::Any;
use std::sync::Arc;

use arrow::compute::{concat_batches, lexsort_to_indices};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::sort::external::ExternalSorter;
use crate::exec::{BatchIter, ExecutionPlan, take_rows};
use crate::physical::{Distribution, Partitioning};
use crate::physical_expr::{PhysicalSortExpr, evaluate_sort_keys};
use crate::runtime::memory_pool::batch_memory_size;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Sorts each partition.
#[derive(Debug)]
pub struct SortExec {
    keys: Vec<PhysicalSortExpr>,
    fetch: Option<usize>,
    input: Arc<dyn ExecutionPlan>,
    required: Distribution,
    metrics: Arc<Metrics>,
}

impl SortExec {
    /// Sorts by `keys`, keeping the first `fetch` rows if given.
    pub fn new(
        keys: Vec<PhysicalSortExpr>,
        fetch: Option<usize>,
        input: Arc<dyn ExecutionPlan>,
    ) -> Self {
        SortExec {
            keys,
            fetch,
            input,
            required: Distribution::Unspecified,
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Requires a distribution of the input (window functions sort within hash partitions).
    pub fn with_required_distribution(mut self, d: Distribution) -> Self {
        self.required = d;
        self
    }
    /// The sort keys.
    pub fn keys(&self) -> &[PhysicalSortExpr] {
        &self.keys
    }
    /// The row limit.
    pub fn fetch(&self) -> Option<usize> {
        self.fetch
    }
}

/// Sorts one batch by keys, keeping `fetch` rows if given.
pub fn sort_batch(
    batch: &RecordBatch,
    keys: &[PhysicalSortExpr],
    fetch: Option<usize>,
) -> Result<RecordBatch> {
    if batch.num_rows() == 0 || keys.is_empty() {
        let n = fetch.map_or(batch.num_rows(), |f| f.min(batch.num_rows()));
        return Ok(batch.slice(0, n));
    }
    let cols = evaluate_sort_keys(keys, batch)?;
    let indices = lexsort_to_indices(&cols, fetch)?;
    take_rows(batch, &indices)
}

impl ExecutionPlan for SortExec {
    fn expressions(&self) -> Vec<&crate::physical_expr::PhysicalExprRef> {
        self.keys.iter().map(|k| &k.expr).collect()
    }
    fn name(&self) -> &'static str {
        if self.fetch.is_some() {
            "TopKExec"
        } else {
            "SortExec"
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
    fn output_partitioning(&self) -> Partitioning {
        self.input.output_partitioning()
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![self.required.clone()]
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(
            SortExec::new(self.keys.clone(), self.fetch, children.remove(0))
                .with_required_distribution(self.required.clone()),
        ))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let input = self.input.execute(partition, ctx)?;
        let iter: BatchIter = match self.fetch {
            Some(k) => top_k(
                input,
                self.schema(),
                self.keys.clone(),
                k,
                ctx,
                partition,
                &self.metrics,
            ),
            None => {
                let mut sorter = Some(ExternalSorter::new(
                    self.schema(),
                    self.keys.clone(),
                    ctx,
                    self.metrics.clone(),
                    partition,
                ));
                let cancel = ctx.cancel.clone();
                let mut input = Some(input);
                let mut output: Option<BatchIter> = None;
                Box::new(std::iter::from_fn(move || {
                    if output.is_none() {
                        let mut s = sorter.take()?;
                        let run = || -> Result<BatchIter> {
                            for b in input.take().into_iter().flatten() {
                                cancel.check()?;
                                s.insert(b?)?;
                            }
                            s.finish()
                        };
                        match run() {
                            Ok(it) => output = Some(it),
                            Err(e) => return Some(Err(e)),
                        }
                    }
                    output.as_mut().and_then(|o| o.next())
                }))
            }
        };
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let k = self
            .keys
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        match self.fetch {
            Some(f) => format!("[{k}], fetch={f}"),
            None => format!("[{k}]"),
        }
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}

/// Keeps the best `k` rows of the input: every time the buffer holds more than `2k` rows (and a
/// batch), it is sorted and cut to `k`. Memory stays proportional to `k`, so it never spills.
fn top_k(
    input: BatchIter,
    schema: SchemaRef,
    keys: Vec<PhysicalSortExpr>,
    k: usize,
    ctx: &Arc<TaskContext>,
    partition: usize,
    metrics: &Arc<Metrics>,
) -> BatchIter {
    let batch_size = ctx.batch_size();
    let mut reservation = ctx
        .memory
        .reserve(format!("TopKExec[{partition}]"))
        .with_metrics(metrics);
    let cancel = ctx.cancel.clone();
    let mut output: Option<std::vec::IntoIter<RecordBatch>> = None;
    let mut input = Some(input);
    Box::new(std::iter::from_fn(
        move || -> Option<Result<RecordBatch>> {
            if output.is_none() {
                let mut run = || -> Result<Vec<RecordBatch>> {
                    let mut buffer: Vec<RecordBatch> = vec![];
                    let mut buffered_rows = 0usize;
                    for b in input.take().into_iter().flatten() {
                        cancel.check()?;
                        let b = b?;
                        if b.num_rows() == 0 {
                            continue;
                        }
                        reservation.try_grow(batch_memory_size(&b))?;
                        buffered_rows += b.num_rows();
                        buffer.push(b);
                        if buffered_rows > (2 * k).max(batch_size) {
                            let all = concat_batches(&schema, &buffer)?;
                            let top = sort_batch(&all, &keys, Some(k))?;
                            buffered_rows = top.num_rows();
                            buffer = vec![top];
                            reservation.try_resize(batch_memory_size(&buffer[0]))?;
                        }
                    }
                    if buffer.is_empty() {
                        return Ok(vec![]);
                    }
                    let all = if buffer.len() == 1 {
                        buffer
                            .pop()
                            .unwrap_or_else(|| RecordBatch::new_empty(schema.clone()))
                    } else {
                        concat_batches(&schema, &buffer)?
                    };
                    drop(buffer);
                    let sorted = sort_batch(&all, &keys, Some(k))?;
                    let mut out = vec![];
                    let mut offset = 0;
                    while offset < sorted.num_rows() {
                        let len = batch_size.min(sorted.num_rows() - offset);
                        out.push(sorted.slice(offset, len));
                        offset += len;
                    }
                    Ok(out)
                };
                match run() {
                    Ok(v) => output = Some(v.into_iter()),
                    Err(e) => {
                        output = Some(Vec::new().into_iter());
                        return Some(Err(e));
                    }
                }
            }
            output.as_mut().and_then(|o| o.next()).map(Ok)
        },
    ))
}
