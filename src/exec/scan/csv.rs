//! `CsvScanExec`: reads CSV files (one partition per file) with a known schema.

use std::any::Any;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::exec::limit::limit_iter;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::io::csv::CsvOptions;
use crate::physical::Partitioning;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Scans CSV files.
#[derive(Debug)]
pub struct CsvScanExec {
    files: Vec<PathBuf>,
    file_schema: SchemaRef,
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    options: CsvOptions,
    fetch: Option<usize>,
    metrics: Arc<Metrics>,
}

impl CsvScanExec {
    /// A scan of `files` read with `file_schema`, projected to `projection`.
    pub fn new(
        files: Vec<PathBuf>,
        file_schema: SchemaRef,
        projection: Option<Vec<usize>>,
        options: CsvOptions,
        fetch: Option<usize>,
    ) -> Result<Self> {
        let schema = match &projection {
            Some(p) => Arc::new(file_schema.project(p)?),
            None => file_schema.clone(),
        };
        Ok(CsvScanExec {
            files,
            file_schema,
            schema,
            projection,
            options,
            fetch,
            metrics: Arc::new(Metrics::new()),
        })
    }
}

impl ExecutionPlan for CsvScanExec {
    fn name(&self) -> &'static str {
        "CsvScanExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        Partitioning::Unknown(self.files.len().max(1))
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
        let Some(path) = self.files.get(partition) else {
            return Ok(Box::new(std::iter::empty()));
        };
        let file = File::open(path)
            .map_err(|e| Error::io(format!("cannot open {}: {e}", path.display())))?;
        let reader = self
            .options
            .reader_builder(self.file_schema.clone())
            .with_batch_size(ctx.batch_size());
        let reader = match &self.projection {
            Some(p) => reader.with_projection(p.clone()),
            None => reader,
        };
        let reader = reader.build(file)?;
        let shown = path.display().to_string();
        let iter: BatchIter =
            Box::new(reader.map(move |b: std::result::Result<RecordBatch, _>| {
                b.map_err(|e| Error::from(e).context(format!("reading {shown}")))
            }));
        let iter = match self.fetch {
            Some(f) => limit_iter(iter, 0, Some(f)),
            None => iter,
        };
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let cols = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        format!("files={}, projection=[{cols}]", self.files.len())
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
