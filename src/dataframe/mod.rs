//! `DataFrame`: a lazy query — a logical plan plus the session that runs it.
//! Transformations build a new plan; actions (`collect`, `show`, `count`) run it.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::logical::plan::LogicalPlan;
use crate::runtime::CancellationToken;
use crate::session::SessionContext;

mod write;

/// A lazily evaluated query.
#[derive(Debug, Clone)]
pub struct DataFrame {
    session: SessionContext,
    plan: Arc<LogicalPlan>,
}

impl DataFrame {
    /// A DataFrame for `plan` in `session`.
    pub fn new(session: SessionContext, plan: LogicalPlan) -> Self {
        DataFrame {
            session,
            plan: Arc::new(plan),
        }
    }

    /// The logical plan (not yet optimized).
    pub fn logical_plan(&self) -> &LogicalPlan {
        &self.plan
    }

    /// The output schema.
    pub fn schema(&self) -> SchemaRef {
        self.plan.schema().arrow_schema().clone()
    }

    /// Runs the query and returns all rows.
    pub fn collect(&self) -> Result<Vec<RecordBatch>> {
        self.session
            .collect_plan(&self.plan, &CancellationToken::new())
    }

    /// Runs the query, stoppable through `cancel`.
    pub fn collect_cancellable(&self, cancel: &CancellationToken) -> Result<Vec<RecordBatch>> {
        self.session.collect_plan(&self.plan, cancel)
    }

    /// Number of rows the query returns.
    pub fn count(&self) -> Result<usize> {
        Ok(self.collect()?.iter().map(|b| b.num_rows()).sum())
    }

    /// Prints the rows as a table.
    pub fn show(&self) -> Result<()> {
        let batches = self.collect()?;
        println!("{}", arrow::util::pretty::pretty_format_batches(&batches)?);
        Ok(())
    }

    /// The EXPLAIN text (`verbose`: plan after each optimizer rule; `analyze`: run and show metrics).
    pub fn explain(&self, verbose: bool, analyze: bool) -> Result<String> {
        self.session
            .explain_plan(&self.plan, verbose, analyze, &CancellationToken::new())
    }
}
