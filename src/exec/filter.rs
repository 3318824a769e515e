//! `FilterExec`: keeps rows where the predicate is true. The predicate's
//! conjuncts are applied one after another on the shrinking batch, so later
//! conjuncts run on fewer rows (and never on rows an earlier one rejected).

use std::any::Any;
use std::sync::Arc;

use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use arrow_select::coalesce::BatchCoalescer;

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::Partitioning;
use crate::physical_expr::case::null_as_false;
use crate::physical_expr::{PhysicalExprRef, evaluate_predicate};
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Filters rows by a conjunction of predicates.
#[derive(Debug)]
pub struct FilterExec {
    predicates: Vec<PhysicalExprRef>,
    input: Arc<dyn ExecutionPlan>,
    metrics: Arc<Metrics>,
}

impl FilterExec {
    /// A filter applying `predicates` (a conjunction) in order.
    pub fn new(predicates: Vec<PhysicalExprRef>, input: Arc<dyn ExecutionPlan>) -> Self {
        FilterExec {
            predicates,
            input,
            metrics: Arc::new(Metrics::new()),
        }
    }
    /// The predicates.
    pub fn predicates(&self) -> &[PhysicalExprRef] {
        &self.predicates
    }
}

/// Applies a conjunction of predicates to a batch.
pub fn filter_batch(predicates: &[PhysicalExprRef], batch: RecordBatch) -> Result<RecordBatch> {
    let mut batch = batch;
    for p in predicates {
        if batch.num_rows() == 0 {
            break;
        }
        let mask = null_as_false(&evaluate_predicate(p.as_ref(), &batch)?);
        if mask.true_count() == batch.num_rows() {
            continue;
        }
        batch = filter_record_batch(&batch, &mask)?;
    }
    Ok(batch)
}

impl ExecutionPlan for FilterExec {
    fn expressions(&self) -> Vec<&crate::physical_expr::PhysicalExprRef> {
        self.predicates.iter().collect()
    }
    fn name(&self) -> &'static str {
        "FilterExec"
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
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(FilterExec::new(
            self.predicates.clone(),
            children.remove(0),
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let mut input = self.input.execute(partition, ctx)?;
        let predicates = self.predicates.clone();
        let mut coalescer = BatchCoalescer::new(self.schema(), ctx.batch_size());
        let mut done = false;
        let iter = std::iter::from_fn(move || -> Option<Result<RecordBatch>> {
            loop {
                if let Some(b) = coalescer.next_completed_batch() {
                    return Some(Ok(b));
                }
                if done {
                    return None;
                }
                match input.next() {
                    Some(Ok(batch)) => {
                        let out = match filter_batch(&predicates, batch) {
                            Ok(b) => b,
                            Err(e) => return Some(Err(e)),
                        };
                        if out.num_rows() == 0 {
                            continue;
                        }
                        if let Err(e) = coalescer.push_batch(out) {
                            return Some(Err(e.into()));
                        }
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        done = true;
                        if let Err(e) = coalescer.finish_buffered_batch() {
                            return Some(Err(e.into()));
                        }
                    }
                }
            }
        });
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        self.predicates
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" AND ")
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
