//! `ParquetScanExec`: reads the row groups assigned to each partition,
//! decoding only the projected columns. Row groups were already pruned by
//! statistics when the scan was planned (see `io/parquet/pruning.rs`).

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::exec::limit::limit_iter;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::io::parquet::{ParquetFile, RowGroupSlice};
use crate::physical::Partitioning;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Scans Parquet files.
#[derive(Debug)]
pub struct ParquetScanExec {
    files: Arc<Vec<ParquetFile>>,
    partitions: Vec<Vec<RowGroupSlice>>,
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    fetch: Option<usize>,
    pruned_row_groups: usize,
    metrics: Arc<Metrics>,
}

impl ParquetScanExec {
    /// A scan of `partitions` (row-group slices of `files`), projected to `projection`.
    pub fn new(
        files: Arc<Vec<ParquetFile>>,
        partitions: Vec<Vec<RowGroupSlice>>,
        schema: SchemaRef,
        projection: Option<Vec<usize>>,
        fetch: Option<usize>,
        pruned_row_groups: usize,
    ) -> Self {
        ParquetScanExec {
            files,
            partitions,
            schema,
            projection,
            fetch,
            pruned_row_groups,
            metrics: Arc::new(Metrics::new()),
        }
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
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        Partitioning::Unknown(self.partitions.len().max(1))
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
        let files = self.files.clone();
        let projection = self.projection.clone();
        let batch_size = ctx.batch_size();
        let schema = self.schema.clone();
        let metrics = self.metrics.clone();
        let mut slices = slices.into_iter();
        let mut current: Option<parquet::arrow::arrow_reader::ParquetRecordBatchReader> = None;
        let mut current_path = String::new();
        let iter = std::iter::from_fn(move || -> Option<Result<RecordBatch>> {
            loop {
                if let Some(reader) = current.as_mut() {
                    match reader.next() {
                        Some(Ok(b)) => {
                            // the file's types are the table's; only field metadata may differ
                            let b = RecordBatch::try_new_with_options(
                                schema.clone(),
                                b.columns().to_vec(),
                                &arrow::record_batch::RecordBatchOptions::new()
                                    .with_row_count(Some(b.num_rows())),
                            )
                            .map_err(|e| Error::from(e).context(&current_path));
                            return Some(b);
                        }
                        Some(Err(e)) => {
                            return Some(Err(
                                Error::from(e).context(format!("reading {current_path}"))
                            ));
                        }
                        None => current = None,
                    }
                }
                let slice = slices.next()?;
                let Some(file) = files.get(slice.file) else {
                    return Some(Err(Error::internal(
                        "row group slice refers to a missing file",
                    )));
                };
                metrics.add("row_groups_scanned", slice.row_groups.len());
                current_path = file.path.display().to_string();
                match file.reader(slice.row_groups.clone(), projection.as_deref(), batch_size) {
                    Ok(r) => current = Some(r),
                    Err(e) => return Some(Err(e)),
                }
            }
        });
        let iter: BatchIter = Box::new(iter);
        let iter = match self.fetch {
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
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut s = format!(
            "files={}, row_groups={groups} (pruned {}), projection=[{cols}]",
            self.files.len(),
            self.pruned_row_groups
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
        let mut rows = 0usize;
        for s in self.partitions.iter().flatten() {
            let f = self.files.get(s.file)?;
            for rg in &s.row_groups {
                rows += f.metadata.metadata().row_group(*rg).num_rows().max(0) as usize;
            }
        }
        Some(rows)
    }
}
