//! `MemoryScanExec`: reads partitions of in-memory batches (projected, limited).

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::exec::limit::limit_iter;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::Partitioning;
use crate::physical_expr::PhysicalExprRef;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Scans in-memory partitions.
#[derive(Debug)]
pub struct MemoryScanExec {
    partitions: Vec<Vec<RecordBatch>>,
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    fetch: Option<usize>,
    hash_keys: Option<Vec<PhysicalExprRef>>,
    metrics: Arc<Metrics>,
}

impl MemoryScanExec {
    /// A scan of `partitions` (batches of the full table schema) projected to `projection`.
    /// `schema` is the projected schema. `hash_keys` declares that partition `i` holds exactly the
    /// rows with `hash(keys) % n == i` (keys are over the projected schema).
    pub fn new(
        partitions: Vec<Vec<RecordBatch>>,
        schema: SchemaRef,
        projection: Option<Vec<usize>>,
        fetch: Option<usize>,
        hash_keys: Option<Vec<PhysicalExprRef>>,
    ) -> Self {
        MemoryScanExec {
            partitions,
            schema,
            projection,
            fetch,
            hash_keys,
            metrics: Arc::new(Metrics::new()),
        }
    }
}

impl ExecutionPlan for MemoryScanExec {
    fn name(&self) -> &'static str {
        "MemoryScanExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        let n = self.partitions.len().max(1);
        match &self.hash_keys {
            Some(k) => Partitioning::Hash(k.clone(), n),
            None => Partitioning::Unknown(n),
        }
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
    fn execute(&self, partition: usize, _ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let batches = self.partitions.get(partition).cloned().unwrap_or_default();
        let projection = self.projection.clone();
        let schema = self.schema.clone();
        let iter = batches.into_iter().map(move |b| match &projection {
            Some(p) => {
                let cols = p.iter().map(|i| b.column(*i).clone()).collect();
                Ok(RecordBatch::try_new_with_options(
                    schema.clone(),
                    cols,
                    &arrow::record_batch::RecordBatchOptions::new()
                        .with_row_count(Some(b.num_rows())),
                )?)
            }
            None => Ok(b),
        });
        let iter: BatchIter = Box::new(iter);
        let iter = match self.fetch {
            Some(f) => limit_iter(iter, 0, Some(f)),
            None => iter,
        };
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let rows: usize = self.partitions.iter().flatten().map(|b| b.num_rows()).sum();
        let cols = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut s = format!(
            "partitions={}, rows={rows}, projection=[{cols}]",
            self.partitions.len()
        );
        if let Some(f) = self.fetch {
            s.push_str(&format!(", fetch={f}"));
        }
        s
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
    fn estimated_rows(&self) -> Option<usize> {
        Some(self.partitions.iter().flatten().map(|b| b.num_rows()).sum())
    }
}
