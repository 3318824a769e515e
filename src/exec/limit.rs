//! `LimitExec`: skips and keeps rows. A local limit caps each partition; the
//! global one (on a single partition) applies OFFSET and LIMIT exactly.

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::{Distribution, Partitioning};
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Skips `skip` rows then keeps at most `fetch` rows, per partition.
#[derive(Debug)]
pub struct LimitExec {
    skip: usize,
    fetch: Option<usize>,
    global: bool,
    input: Arc<dyn ExecutionPlan>,
    metrics: Arc<Metrics>,
}

impl LimitExec {
    /// A limit; `global` requires a single input partition.
    pub fn new(
        skip: usize,
        fetch: Option<usize>,
        global: bool,
        input: Arc<dyn ExecutionPlan>,
    ) -> Self {
        LimitExec {
            skip,
            fetch,
            global,
            input,
            metrics: Arc::new(Metrics::new()),
        }
    }
}

/// Applies skip/fetch to a stream of batches, stopping the input early.
pub fn limit_iter(mut input: BatchIter, skip: usize, fetch: Option<usize>) -> BatchIter {
    let mut to_skip = skip;
    let mut remaining = fetch.unwrap_or(usize::MAX);
    Box::new(std::iter::from_fn(
        move || -> Option<Result<RecordBatch>> {
            loop {
                if remaining == 0 {
                    return None;
                }
                let b = match input.next()? {
                    Ok(b) => b,
                    Err(e) => return Some(Err(e)),
                };
                let mut b = b;
                if to_skip > 0 {
                    if b.num_rows() <= to_skip {
                        to_skip -= b.num_rows();
                        continue;
                    }
                    b = b.slice(to_skip, b.num_rows() - to_skip);
                    to_skip = 0;
                }
                if b.num_rows() > remaining {
                    b = b.slice(0, remaining);
                }
                remaining -= b.num_rows();
                return Some(Ok(b));
            }
        },
    ))
}

impl ExecutionPlan for LimitExec {
    fn name(&self) -> &'static str {
        if self.global {
            "GlobalLimitExec"
        } else {
            "LocalLimitExec"
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
        if self.global {
            vec![Distribution::SinglePartition]
        } else {
            vec![Distribution::Unspecified]
        }
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(LimitExec::new(
            self.skip,
            self.fetch,
            self.global,
            children.remove(0),
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let input = self.input.execute(partition, ctx)?;
        let it = limit_iter(input, self.skip, self.fetch);
        Ok(Box::new(MeteredIter::new(it, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        match self.fetch {
            Some(f) => format!("skip={}, fetch={f}", self.skip),
            None => format!("skip={}", self.skip),
        }
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
