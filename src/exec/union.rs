//! `UnionExec`: concatenates its inputs; its partitions are the inputs' partitions one after another.

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::Partitioning;
use crate::runtime::{Metrics, TaskContext};

/// UNION ALL of inputs with the same schema.
#[derive(Debug)]
pub struct UnionExec {
    inputs: Vec<Arc<dyn ExecutionPlan>>,
    schema: SchemaRef,
    metrics: Arc<Metrics>,
}

impl UnionExec {
    /// A union; `schema` is the output schema (inputs have the same column types).
    pub fn new(inputs: Vec<Arc<dyn ExecutionPlan>>, schema: SchemaRef) -> Self {
        UnionExec {
            inputs,
            schema,
            metrics: Arc::new(Metrics::new()),
        }
    }
}

impl ExecutionPlan for UnionExec {
    fn name(&self) -> &'static str {
        "UnionExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        Partitioning::Unknown(
            self.inputs
                .iter()
                .map(|i| i.output_partitioning().partition_count())
                .sum(),
        )
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inputs.iter().collect()
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(UnionExec::new(children, self.schema.clone())))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let mut p = partition;
        for input in &self.inputs {
            let n = input.output_partitioning().partition_count();
            if p < n {
                let schema = self.schema.clone();
                let metrics = self.metrics.clone();
                let it = input.execute(p, ctx)?.map(move |b| {
                    let b = b?;
                    metrics.record_batch(&b);
                    // inputs may differ in field names and nullability only
                    Ok(RecordBatch::try_new_with_options(
                        schema.clone(),
                        b.columns().to_vec(),
                        &arrow::record_batch::RecordBatchOptions::new()
                            .with_row_count(Some(b.num_rows())),
                    )?)
                });
                return Ok(Box::new(it));
            }
            p -= n;
        }
        Err(Error::internal(format!(
            "union partition {partition} out of range"
        )))
    }
    fn describe(&self) -> String {
        String::new()
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
