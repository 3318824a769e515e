//! `MemoryScanExec`: reads partitions of in-memory batches (projected, limited), dropping rows
//! that the runtime filters of joins above cannot match. Partitions of stored tables may hold
//! chunks on disk too; those are streamed from their files, and EXPLAIN says how much is there.

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::catalog::stored::{StorageSize, StoredChunk};
use crate::error::Result;
use crate::exec::limit::limit_iter;
use crate::exec::runtime_filter::probe::{ROWS_REMOVED, filter_iter};
use crate::exec::runtime_filter::{ProbeConditions, ScanFilter, supports_type};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::physical::Partitioning;
use crate::physical_expr::PhysicalExprRef;
use crate::runtime::memory_pool::human_bytes;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Scans in-memory partitions.
#[derive(Debug)]
pub struct MemoryScanExec {
    partitions: Vec<Vec<StoredChunk>>,
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    fetch: Option<usize>,
    hash_keys: Option<Vec<PhysicalExprRef>>,
    runtime_filters: Vec<ScanFilter>,
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
        let partitions = partitions
            .into_iter()
            .map(|p| p.into_iter().map(StoredChunk::Memory).collect())
            .collect();
        Self::new_chunked(partitions, schema, projection, fetch, hash_keys)
    }

    /// Like [`new`](Self::new), over partitions of a stored table, whose chunks may be on disk.
    pub fn new_chunked(
        partitions: Vec<Vec<StoredChunk>>,
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
            runtime_filters: vec![],
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// This scan, also dropping rows that `filter` rules out; `None` when the scan cannot take
    /// it (a limit would then see other rows, or the column's type is not supported).
    pub fn with_runtime_filter(&self, filter: ScanFilter) -> Option<Self> {
        if self.fetch.is_some() || !supports_type(self.schema.field(filter.column).data_type()) {
            return None;
        }
        let mut runtime_filters = self.runtime_filters.clone();
        runtime_filters.push(filter);
        Some(MemoryScanExec {
            partitions: self.partitions.clone(),
            schema: self.schema.clone(),
            projection: self.projection.clone(),
            fetch: self.fetch,
            hash_keys: self.hash_keys.clone(),
            runtime_filters,
            metrics: Arc::new(Metrics::new()),
        })
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
        let chunks = self.partitions.get(partition).cloned().unwrap_or_default();
        let projection = self.projection.clone();
        let schema = self.schema.clone();
        let batches = chunks.into_iter().flat_map(|c| match c.batches() {
            Ok(it) => it,
            Err(e) => Box::new(std::iter::once(Err(e))),
        });
        let iter = batches.map(move |b| match (&projection, b) {
            (Some(p), Ok(b)) => {
                let cols = p.iter().map(|i| b.column(*i).clone()).collect();
                Ok(RecordBatch::try_new_with_options(
                    schema.clone(),
                    cols,
                    &arrow::record_batch::RecordBatchOptions::new()
                        .with_row_count(Some(b.num_rows())),
                )?)
            }
            (None, b) => b,
            (_, Err(e)) => Err(e),
        });
        let iter: BatchIter = Box::new(iter);
        let iter = match self.fetch {
            Some(f) => limit_iter(iter, 0, Some(f)),
            None => iter,
        };
        let conditions = ProbeConditions::collect(&self.runtime_filters, partition);
        if let Some(ProbeConditions::Nothing) = conditions {
            let rows = self.partitions.get(partition).into_iter().flatten();
            self.metrics
                .add(ROWS_REMOVED, rows.map(|c| c.rows()).sum::<usize>());
        }
        let iter = filter_iter(iter, conditions, self.metrics.clone());
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let rows: usize = self.partitions.iter().flatten().map(|c| c.rows()).sum();
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
        let size = StorageSize::of(self.partitions.iter().flatten());
        if size.disk_batches > 0 {
            s.push_str(&format!(
                ", on disk: {} in {} batches",
                human_bytes(size.disk_bytes),
                size.disk_batches
            ));
        }
        s
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
    fn estimated_rows(&self) -> Option<usize> {
        Some(self.partitions.iter().flatten().map(|c| c.rows()).sum())
    }
}
