//! `MapPartitionsExec`: runs user code once per partition (Spark's `mapPartitions`): the closure
//! gets the partition index and an iterator over the partition's input batches, does its setup
//! once (open a client, load a model), and returns the output batches. The scheduler runs
//! partitions as parallel tasks, so the closures of different partitions run in parallel.
//!
//! Output batches are checked against the declared schema; a panic in user code becomes an
//! execution error of the query instead of tearing down the worker thread.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::logical::plan::PartitionFn;
use crate::physical::Partitioning;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Runs a closure over each partition.
pub struct MapPartitionsExec {
    input: Arc<dyn ExecutionPlan>,
    func: Arc<PartitionFn>,
    name: String,
    schema: SchemaRef,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for MapPartitionsExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapPartitionsExec")
            .field("name", &self.name)
            .finish()
    }
}

impl MapPartitionsExec {
    /// Runs `func` over each partition of `input`, producing rows of `schema`.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        func: Arc<PartitionFn>,
        name: impl Into<String>,
        schema: SchemaRef,
    ) -> Self {
        MapPartitionsExec {
            input,
            func,
            name: name.into(),
            schema,
            metrics: Arc::new(Metrics::new()),
        }
    }
}

/// The message of a caught panic.
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// Checks a batch from user code against the declared schema and relabels it with it.
fn conform(name: &str, schema: &SchemaRef, b: RecordBatch) -> Result<RecordBatch> {
    let got = b.schema();
    let same_types = got.fields().len() == schema.fields().len()
        && got
            .fields()
            .iter()
            .zip(schema.fields())
            .all(|(g, w)| g.data_type() == w.data_type());
    if !same_types {
        let show = |s: &SchemaRef| {
            s.fields()
                .iter()
                .map(|f| format!("{} {}", f.name(), f.data_type()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Error::execution(format!(
            "{name} returned a batch with columns ({}), but its declared schema is ({})",
            show(&got),
            show(schema)
        )));
    }
    for (f, c) in schema.fields().iter().zip(b.columns()) {
        if !f.is_nullable() && c.null_count() > 0 {
            return Err(Error::execution(format!(
                "{name} returned NULLs in column \"{}\", declared NOT NULL",
                f.name()
            )));
        }
    }
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        b.columns().to_vec(),
        &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
    )?)
}

impl ExecutionPlan for MapPartitionsExec {
    fn name(&self) -> &'static str {
        "MapPartitionsExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        Partitioning::Unknown(self.input.output_partitioning().partition_count())
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(MapPartitionsExec::new(
            children.remove(0),
            self.func.clone(),
            self.name.clone(),
            self.schema.clone(),
        )))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let input = self.input.execute(partition, ctx)?;
        let name = self.name.clone();
        let func = self.func.clone();
        let mut output =
            catch_unwind(AssertUnwindSafe(|| func(partition, input))).map_err(|p| {
                Error::execution(format!(
                    "{name} panicked in partition {partition}: {}",
                    panic_message(p)
                ))
            })??;
        let schema = self.schema.clone();
        let mut failed = false;
        let iter = std::iter::from_fn(move || {
            if failed {
                return None;
            }
            let next = catch_unwind(AssertUnwindSafe(|| output.next())).unwrap_or_else(|p| {
                Some(Err(Error::execution(format!(
                    "{name} panicked in partition {partition}: {}",
                    panic_message(p)
                ))))
            });
            let next = next.map(|r| r.and_then(|b| conform(&name, &schema, b)));
            if matches!(next, Some(Err(_))) {
                failed = true;
            }
            next
        });
        Ok(Box::new(MeteredIter::new(
            Box::new(iter),
            self.metrics.clone(),
        )))
    }
    fn describe(&self) -> String {
        let cols = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        format!("{} -> [{cols}]", self.name)
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
