//! `ValuesExec`: literal rows computed at planning time (also the one empty row of `SELECT 1`).

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::Partitioning;
use crate::runtime::TaskContext;

/// Emits fixed batches from one partition.
#[derive(Debug)]
pub struct ValuesExec {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl ValuesExec {
    /// Rows to emit.
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        ValuesExec { schema, batches }
    }
}

impl ExecutionPlan for ValuesExec {
    fn name(&self) -> &'static str {
        "ValuesExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        Partitioning::Unknown(1)
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }
    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }
    fn execute(&self, _partition: usize, _ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        Ok(Box::new(self.batches.clone().into_iter().map(Ok)))
    }
    fn describe(&self) -> String {
        format!(
            "rows={}",
            self.batches.iter().map(|b| b.num_rows()).sum::<usize>()
        )
    }
    fn estimated_rows(&self) -> Option<usize> {
        Some(self.batches.iter().map(|b| b.num_rows()).sum())
    }
}
