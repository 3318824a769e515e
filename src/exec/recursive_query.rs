//! `RecursiveQueryExec`: runs a recursive CTE (see `logical::recursive`).
//!
//! ```text
//!  static term ──▶ new rows ──▶ output
//!                     │  ▲
//!          work table ▼  │ (rows not seen before, for UNION)
//!               recursive term   (again, until an iteration adds no rows)
//! ```
//! Each execution uses a fresh work table, so a CTE referenced twice in one query runs twice
//! without the two runs sharing rows. The terms are logical plans, planned and run by the
//! session for every iteration (the recursive term sees the newest rows each time).

use std::any::Any;
type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
use std::sync::Arc;

use arrow::array::UInt32Array;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use arrow::row::{RowConverter, SortField};
use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::catalog::{MemTable, TableProvider};
use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan, batches_iter, take_rows};
use crate::logical::plan::{LogicalPlan, TableScan};
use crate::physical::Partitioning;
use crate::physical_expr::cast::cast_array;
use crate::physical_expr::subquery::SubqueryRunner;
use crate::runtime::memory_pool::batch_memory_size;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Runs a recursive CTE to its fixed point.
#[derive(Debug)]
pub struct RecursiveQueryExec {
    name: String,
    static_term: LogicalPlan,
    recursive_term: LogicalPlan,
    work_table: Arc<dyn TableProvider>,
    distinct: bool,
    schema: SchemaRef,
    runner: Arc<dyn SubqueryRunner>,
    metrics: Arc<Metrics>,
}

impl RecursiveQueryExec {
    /// A recursive query whose recursive term scans `work_table`; `schema` is the output.
    pub fn new(
        name: String,
        static_term: LogicalPlan,
        recursive_term: LogicalPlan,
        work_table: Arc<dyn TableProvider>,
        distinct: bool,
        schema: SchemaRef,
        runner: Arc<dyn SubqueryRunner>,
    ) -> Self {
        RecursiveQueryExec {
            name,
            static_term,
            recursive_term,
            work_table,
            distinct,
            schema,
            runner,
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// The recursive term reading `fresh` instead of the planned work table.
    fn with_work_table(&self, fresh: &Arc<dyn TableProvider>) -> Result<LogicalPlan> {
        let planned = &self.work_table;
        Ok(self
            .recursive_term
            .clone()
            .transform_up(|node| {
                Ok(match node {
                    LogicalPlan::TableScan(t) if Arc::ptr_eq(&t.source, planned) => {
                        let mut scan = TableScan::try_new(
                            t.table_name.clone(),
                            fresh.clone(),
                            t.projection.clone(),
                        )?;
                        scan.filters = t.filters;
                        scan.fetch = t.fetch;
                        Transformed::yes(LogicalPlan::TableScan(scan))
                    }
                    other => Transformed::no(other),
                })
            })?
            .data)
    }

    /// Batches of a term's result relabelled to the output schema (types were unified when the
    /// query was planned; names and nullability come from the output).
    fn conform(&self, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        batches
            .into_iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| {
                let columns = b
                    .columns()
                    .iter()
                    .zip(self.schema.fields())
                    .map(|(c, f)| cast_array(c, f.data_type(), false))
                    .collect::<Result<Vec<_>>>()?;
                Ok(RecordBatch::try_new_with_options(
                    self.schema.clone(),
                    columns,
                    &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
                )?)
            })
            .collect()
    }

    fn run(&self, ctx: &Arc<TaskContext>) -> Result<Vec<RecordBatch>> {
        let fresh: Arc<dyn TableProvider> =
            Arc::new(MemTable::try_new(self.work_table.schema(), vec![])?);
        let recursive_term = self.with_work_table(&fresh)?;
        let mut seen = if self.distinct {
            Some(SeenRows::new(&self.schema)?)
        } else {
            None
        };
        let mut reservation = ctx
            .memory
            .reserve(format!("RecursiveQueryExec({})", self.name))
            .with_metrics(&self.metrics);
        let mut out = vec![];
        let mut new_rows = self.conform(self.runner.run(self.static_term.clone(), &ctx.cancel)?)?;
        let mut iterations = 0;
        loop {
            if let Some(seen) = seen.as_mut() {
                new_rows = seen.keep_unseen(new_rows)?;
            }
            if new_rows.is_empty() {
                break;
            }
            ctx.cancel.check()?;
            iterations += 1;
            let limit = ctx.config.recursion_limit;
            if iterations > limit {
                return Err(Error::execution(format!(
                    "recursive query \"{}\" did not finish after {limit} iterations; check that \
                     its recursive term stops producing rows, or raise SET recursion_limit",
                    self.name
                )));
            }
            for b in &new_rows {
                reservation.try_grow(batch_memory_size(b))?;
            }
            out.extend(new_rows.iter().cloned());
            fresh.replace(new_rows)?;
            new_rows = self.conform(self.runner.run(recursive_term.clone(), &ctx.cancel)?)?;
        }
        Ok(out)
    }
}

/// The rows a `UNION` recursion has produced so far, in Arrow's row format.
struct SeenRows {
    converter: RowConverter,
    rows: HashSet<Box<[u8]>>,
}

impl SeenRows {
    fn new(schema: &SchemaRef) -> Result<Self> {
        let fields = schema
            .fields()
            .iter()
            .map(|f| SortField::new(f.data_type().clone()))
            .collect();
        Ok(SeenRows {
            converter: RowConverter::new(fields)?,
            rows: HashSet::default(),
        })
    }

    /// The rows of `batches` not seen before (the first of duplicates among them), and notes
    /// them as seen.
    fn keep_unseen(&mut self, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        let mut out = vec![];
        for b in batches {
            let rows = self.converter.convert_columns(b.columns())?;
            let keep: Vec<u32> = (0..b.num_rows())
                .filter(|&i| self.rows.insert(rows.row(i).as_ref().into()))
                .map(|i| i as u32)
                .collect();
            if keep.len() == b.num_rows() {
                out.push(b);
            } else if !keep.is_empty() {
                out.push(take_rows(&b, &UInt32Array::from(keep))?);
            }
        }
        Ok(out)
    }
}

impl ExecutionPlan for RecursiveQueryExec {
    fn name(&self) -> &'static str {
        "RecursiveQueryExec"
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
    fn execute(&self, _partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        Ok(Box::new(MeteredIter::new(
            batches_iter(self.run(ctx)?),
            self.metrics.clone(),
        )))
    }
    fn describe(&self) -> String {
        format!(
            "{} ({})",
            self.name,
            if self.distinct { "UNION" } else { "UNION ALL" }
        )
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
