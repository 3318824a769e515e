//! `ParquetScanExec`: reads Parquet files from any object store. Files pruned by their Hive
//! partition values and row groups pruned by statistics were dropped when the scan was planned
//! (see `catalog/listing.rs`); each partition reads its row-group slices with parquet's push
//! decoder, which the task drives on its rayon worker while the bytes come from the I/O runtime
//! (`stream.rs`):
//!
//! ```text
//!  slice (file, row groups) ──▶ bloom filters ──▶ page index ──▶ push decoder ──▶ adapt ──▶ batches
//!                                  (I/O)          (selection)     ▲   │ needs ranges
//!                                                                 │   ▼
//!                               prefetch of the next row group ── I/O runtime (object store)
//! ```
//! With `parquet.pushdown_filters` on, the filter's conjuncts also run inside the decoder as a
//! row filter (late materialization).

mod adapt;
mod runtime_rows;
mod stream;

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion_common::ScalarValue;
use object_store::ObjectStore;

use crate::error::Result;
use crate::exec::limit::limit_iter;
use crate::exec::runtime_filter::probe::ROW_GROUPS_PRUNED;
use crate::exec::runtime_filter::{ProbeConditions, ScanFilter, supports_type};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::io::parquet::{ParquetFile, RowGroupSlice};
use crate::logical::expr::Expr;
use crate::physical::Partitioning;
use crate::physical_expr::PhysicalExprRef;
use crate::runtime::io_runtime::IoRuntime;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

pub use adapt::BatchAdapter;

impl ParquetScanConfig {
    /// The local file of an object path, if the files are local.
    pub fn local_path(&self, path: &object_store::path::Path) -> Option<std::path::PathBuf> {
        self.location.as_ref()?.local_file(path)
    }
}

/// Everything the partitions of one scan share.
#[derive(Debug)]
pub struct ParquetScanConfig {
    /// The table's files (all of them; slices refer to them by index).
    pub files: Arc<Vec<ParquetFile>>,
    /// Hive partition values per file (empty vectors when the table is not partitioned).
    pub partition_values: Arc<Vec<Vec<ScalarValue>>>,
    /// Names of the partition columns (the last columns of the table).
    pub partition_columns: Vec<String>,
    /// The store holding the files.
    pub store: Arc<dyn ObjectStore>,
    /// The runtime doing the I/O.
    pub io: Arc<IoRuntime>,
    /// Read local files directly (positioned reads on the task's thread).
    pub local_files: bool,
    /// Maps a local object path to its file (for `local_files`).
    pub location: Option<crate::io::object_store::ResolvedLocation>,
    /// All columns of the table.
    pub table_schema: SchemaRef,
    /// The scan's output columns (the projection of the table schema).
    pub output_schema: SchemaRef,
    /// Pushed-down conjuncts the scan may evaluate (unqualified); they stay above the scan too.
    pub conjuncts: Vec<Expr>,
    /// Run the conjuncts inside the decoder (late materialization).
    pub row_filter: bool,
    /// What the row filters of this scan saw so far (all partitions): once they let most rows
    /// through, the scan stops using them.
    pub row_filter_stats: Arc<crate::io::parquet::row_filter::RowFilterCounters>,
    /// Stop after this many rows.
    pub fetch: Option<usize>,
}

/// What planning already pruned, for EXPLAIN.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanPruning {
    /// Files skipped by partition values.
    pub files_pruned: usize,
    /// Row groups skipped by statistics.
    pub row_groups_pruned: usize,
}

/// Scans Parquet files.
#[derive(Debug)]
pub struct ParquetScanExec {
    config: Arc<ParquetScanConfig>,
    partitions: Vec<Vec<RowGroupSlice>>,
    pruning: PlanPruning,
    hash_keys: Option<Vec<PhysicalExprRef>>,
    runtime_filters: Vec<ScanFilter>,
    metrics: Arc<Metrics>,
}

impl ParquetScanExec {
    /// Declares that partition `i` holds exactly the rows with `hash(keys) % n == i` (bucketed
    /// files read one bucket per partition; keys are over the output schema).
    pub fn with_hash_partitioning(mut self, keys: Option<Vec<PhysicalExprRef>>) -> Self {
        self.hash_keys = keys;
        self
    }

    /// This scan, also skipping row groups, pages and rows that `filter` rules out; `None` when
    /// the scan cannot take it (a limit would then see other rows, or the type is unsupported).
    pub fn with_runtime_filter(&self, filter: ScanFilter) -> Option<Self> {
        let field = self.config.output_schema.field(filter.column);
        if self.config.fetch.is_some() || !supports_type(field.data_type()) {
            return None;
        }
        let mut runtime_filters = self.runtime_filters.clone();
        runtime_filters.push(filter);
        Some(ParquetScanExec {
            config: self.config.clone(),
            partitions: self.partitions.clone(),
            pruning: self.pruning,
            hash_keys: self.hash_keys.clone(),
            runtime_filters,
            metrics: Arc::new(Metrics::new()),
        })
    }

    /// A scan reading `partitions` (row-group slices of the config's files).
    pub fn new(
        config: ParquetScanConfig,
        partitions: Vec<Vec<RowGroupSlice>>,
        pruning: PlanPruning,
    ) -> Self {
        ParquetScanExec {
            config: Arc::new(config),
            partitions,
            pruning,
            hash_keys: None,
            runtime_filters: vec![],
            metrics: Arc::new(Metrics::new()),
        }
    }

    fn files_scanned(&self) -> usize {
        let mut files: Vec<usize> = self.partitions.iter().flatten().map(|s| s.file).collect();
        files.sort_unstable();
        files.dedup();
        files.len()
    }
}

impl ExecutionPlan for ParquetScanExec {
    fn name(&self) -> &'static str {
        "ParquetScanExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.config.output_schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        let n = self.partitions.len().max(1);
        match &self.hash_keys {
            Some(keys) => Partitioning::Hash(keys.clone(), n),
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
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let slices = self.partitions.get(partition).cloned().unwrap_or_default();
        let runtime = ProbeConditions::collect(&self.runtime_filters, partition);
        if let Some(ProbeConditions::Nothing) = runtime {
            // the build side above matches nothing: skip every row group
            let groups = slices.iter().map(|s| s.row_groups.len()).sum();
            self.metrics.add(ROW_GROUPS_PRUNED, groups);
            return Ok(Box::new(MeteredIter::new(
                crate::exec::empty_iter(),
                self.metrics.clone(),
            )));
        }
        let iter: BatchIter = Box::new(stream::PartitionStream::new(
            self.config.clone(),
            slices,
            self.metrics.clone(),
            ctx.batch_size(),
            runtime,
            ctx.cancel.clone(),
        ));
        let iter = match self.config.fetch {
            Some(f) => limit_iter(iter, 0, Some(f)),
            None => iter,
        };
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let groups: usize = self
            .partitions
            .iter()
            .flatten()
            .map(|s| s.row_groups.len())
            .sum();
        let cols = self
            .config
            .output_schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut s = format!(
            "files={} (pruned {}), row_groups={groups} (pruned {}), projection=[{cols}]",
            self.files_scanned(),
            self.pruning.files_pruned,
            self.pruning.row_groups_pruned
        );
        if !self.config.conjuncts.is_empty() {
            let preds: Vec<String> = self
                .config
                .conjuncts
                .iter()
                .map(|c| c.to_string())
                .collect();
            s.push_str(&format!(", predicate={}", preds.join(" AND ")));
            if self.config.row_filter {
                s.push_str(" (row filter)");
            }
        }
        if let Some(f) = self.config.fetch {
            s.push_str(&format!(", fetch={f}"));
        }
        s
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
    fn estimated_rows(&self) -> Option<usize> {
        let mut rows = 0usize;
        for s in self.partitions.iter().flatten() {
            let f = self.config.files.get(s.file)?;
            for rg in &s.row_groups {
                rows += f.row_group_rows(*rg);
            }
        }
        Some(rows)
    }
}
