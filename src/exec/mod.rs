//! Physical operators. Each implements [`ExecutionPlan`]: given a partition
//! index it returns an iterator of `RecordBatch`es (pull-based pipelining
//! within a task). Exchanges are stage boundaries: the scheduler materializes
//! their input (all partitions, in parallel) before the stage that reads them.

pub mod bucket_spill;
pub mod exchange;
pub mod filter;
pub mod hash_aggregate;
pub mod hash_join;
pub mod limit;
pub mod map_partitions;
pub mod nested_loop_join;
pub mod projection;
pub mod recursive_query;
pub mod runtime_filter;
pub mod sample;
pub mod scan;
pub mod sort;
pub mod union;
pub mod unnest;
pub mod values;
pub mod window;

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::physical::{Distribution, Partitioning};
use crate::runtime::{Metrics, TaskContext};

/// A stream of batches produced by one partition of an operator.
pub type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// A physical operator.
pub trait ExecutionPlan: Debug + Send + Sync {
    /// Operator name, e.g. `HashJoinExec`.
    fn name(&self) -> &'static str;

    /// For downcasting.
    fn as_any(&self) -> &dyn Any;

    /// Output schema.
    fn schema(&self) -> SchemaRef;

    /// How the output is partitioned.
    fn output_partitioning(&self) -> Partitioning;

    /// Inputs.
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>>;

    /// The same operator over new inputs.
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>>;

    /// What each input must look like; the planner inserts exchanges to satisfy it.
    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::Unspecified; self.children().len()]
    }

    /// Runs partition `partition`.
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter>;

    /// One line describing the operator's parameters (without its name).
    fn describe(&self) -> String;

    /// Metrics collected while running.
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        None
    }

    /// Stage boundaries (exchanges) return themselves here so the scheduler can materialize them.
    fn as_stage_boundary(&self) -> Option<&dyn StageBoundary> {
        None
    }

    /// Estimated output rows, when known.
    fn estimated_rows(&self) -> Option<usize> {
        None
    }

    /// The expressions this operator evaluates on its input (the scheduler runs the
    /// uncorrelated subqueries among them before any stage starts).
    fn expressions(&self) -> Vec<&crate::physical_expr::PhysicalExprRef> {
        vec![]
    }
}

/// An operator whose input must be fully computed (all partitions) before its output is read.
pub trait StageBoundary: Send + Sync {
    /// Computes and stores the input; called once, before any `execute` of this operator.
    fn materialize(&self, ctx: &Arc<TaskContext>) -> Result<()>;
    /// Whether `materialize` has already run.
    fn is_materialized(&self) -> bool;
}

/// A shared operator.
pub type ExecPlanRef = Arc<dyn ExecutionPlan>;

/// Runs all partitions of `plan` without materializing stage boundaries (callers use the scheduler).
pub fn empty_iter() -> BatchIter {
    Box::new(std::iter::empty())
}

/// An iterator over already computed batches.
pub fn batches_iter(batches: Vec<RecordBatch>) -> BatchIter {
    Box::new(batches.into_iter().map(Ok))
}

/// Wraps an iterator with cancellation checks between batches.
pub fn cancellable(inner: BatchIter, ctx: &Arc<TaskContext>) -> BatchIter {
    let token = ctx.cancel.clone();
    let mut inner = inner;
    Box::new(std::iter::from_fn(move || {
        if let Err(e) = token.check() {
            return Some(Err(e));
        }
        inner.next()
    }))
}

/// The rows of `batch` at `indices`, in that order (arrow's `take_record_batch`, which also
/// keeps the row count of a batch without columns, e.g. `SELECT 1 ORDER BY 2 + 2`).
pub fn take_rows(batch: &RecordBatch, indices: &arrow::array::UInt32Array) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|c| arrow::compute::take(c, indices, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new_with_options(
        batch.schema(),
        columns,
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(indices.len())),
    )?)
}

/// A batch of `schema` from `columns` with `rows` rows, casting the columns whose type differs
/// only nominally from the schema's (a decimal's precision, say).
pub fn batch_with_schema(
    schema: &SchemaRef,
    columns: Vec<arrow::array::ArrayRef>,
    rows: usize,
) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        cast_to_schema(schema, columns)?,
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows)),
    )?)
}

/// `columns` cast to the types of `schema`'s fields where they differ only nominally.
pub fn cast_to_schema(
    schema: &SchemaRef,
    columns: Vec<arrow::array::ArrayRef>,
) -> Result<Vec<arrow::array::ArrayRef>> {
    columns
        .into_iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() != f.data_type() {
                crate::physical_expr::cast::cast_array(&c, f.data_type(), false)
            } else {
                Ok(c)
            }
        })
        .collect()
}

/// Collects every batch of an iterator.
pub fn drain(iter: BatchIter) -> Result<Vec<RecordBatch>> {
    iter.collect()
}
