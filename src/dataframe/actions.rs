//! Actions: they optimize, plan and run the DataFrame. `collect` / `collect_partitioned` return
//! all rows; `execute_stream` yields them batch by batch with bounded memory; `count`, `take`,
//! `first`, `show` and `explain` are conveniences over those.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::cli::format::{OutputFormat, write_batches};
use crate::dataframe::DataFrame;
use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::functions::expr_fn::count_all;
use crate::runtime::{CancellationToken, scheduler};

/// One row of a result, as values (from [`DataFrame::first`] and [`DataFrame::take`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    schema: SchemaRef,
    values: Vec<ScalarValue>,
}

impl Row {
    /// The value of column `i`.
    pub fn get(&self, i: usize) -> Option<&ScalarValue> {
        self.values.get(i)
    }
    /// The value of the column named `name` (the first one, if several have that name).
    pub fn get_by_name(&self, name: &str) -> Option<&ScalarValue> {
        let i = self.schema.fields().iter().position(|f| f.name() == name)?;
        self.values.get(i)
    }
    /// All values, in column order.
    pub fn values(&self) -> &[ScalarValue] {
        &self.values
    }
    /// The columns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.values.iter().map(|v| v.to_string()).collect();
        write!(f, "({})", parts.join(", "))
    }
}

/// The rows of a result as they are computed ([`DataFrame::execute_stream`]): an iterator of
/// batches that also knows their schema.
pub struct RecordBatchStream {
    schema: SchemaRef,
    inner: BatchIter,
    /// The query's own token: dropping the stream cancels what is still running.
    cancel: CancellationToken,
}

impl Drop for RecordBatchStream {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl RecordBatchStream {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl Iterator for RecordBatchStream {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        self.inner.next()
    }
}

impl fmt::Debug for RecordBatchStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordBatchStream({})", self.schema)
    }
}

impl DataFrame {
    /// The optimized physical plan.
    fn physical_plan(&self) -> Result<Arc<dyn ExecutionPlan>> {
        let optimized = self.session.optimize(&self.plan)?;
        self.session.create_physical_plan(&optimized)
    }

    /// Runs the query and returns all rows (partition 0's batches first, then partition 1's...).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let batches = SessionContext::new().sql("SELECT 1 AS x").unwrap().collect().unwrap();
    /// assert_eq!(batches[0].num_rows(), 1);
    /// ```
    pub fn collect(&self) -> Result<Vec<RecordBatch>> {
        self.collect_cancellable(&CancellationToken::new())
    }

    /// Like [`collect`](Self::collect), stoppable from another thread through `cancel`.
    ///
    /// ```
    /// use flint::prelude::*;
    /// use flint::runtime::CancellationToken;
    /// let cancel = CancellationToken::new();
    /// let df = SessionContext::new().sql("SELECT 1 AS x").unwrap();
    /// assert!(df.collect_cancellable(&cancel).is_ok());
    /// ```
    pub fn collect_cancellable(&self, cancel: &CancellationToken) -> Result<Vec<RecordBatch>> {
        self.session.collect_plan(&self.plan, cancel)
    }

    /// Runs the query and returns each output partition's batches.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 10) t(x)").unwrap();
    /// let parts = df.repartition(Partitioning::RoundRobin(4)).unwrap().collect_partitioned().unwrap();
    /// assert_eq!(parts.len(), 4);
    /// ```
    pub fn collect_partitioned(&self) -> Result<Vec<Vec<RecordBatch>>> {
        let physical = self.physical_plan()?;
        let ctx = self.session.task_context();
        scheduler::collect_partitioned(&physical, &ctx)
    }

    /// The number of rows (computed as `count(*)`, not by collecting the rows).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 1000) t(x)").unwrap();
    /// assert_eq!(df.count().unwrap(), 1000);
    /// ```
    pub fn count(&self) -> Result<usize> {
        let counted = self.apply(|b| b.aggregate(vec![], vec![count_all().alias("count")]))?;
        let batches = counted.collect()?;
        let value = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .map(|b| ScalarValue::try_from_array(b.column(0), 0))
            .transpose()?;
        match value {
            Some(ScalarValue::Int64(Some(n))) => Ok(n as usize),
            other => Err(Error::internal(format!("count(*) returned {other:?}"))),
        }
    }

    /// Prints all rows as a table on standard output.
    ///
    /// ```
    /// use flint::prelude::*;
    /// SessionContext::new().sql("SELECT 1 AS x").unwrap().show().unwrap();
    /// ```
    pub fn show(&self) -> Result<()> {
        println!("{}", self.to_pretty_string(None)?);
        Ok(())
    }

    /// Prints the first `n` rows as a table on standard output.
    ///
    /// ```
    /// use flint::prelude::*;
    /// SessionContext::new().sql("SELECT * FROM generate_series(1, 100) t(x)").unwrap().show_limit(3).unwrap();
    /// ```
    pub fn show_limit(&self, n: usize) -> Result<()> {
        println!("{}", self.to_pretty_string(Some(n))?);
        Ok(())
    }

    /// The table [`show`](Self::show) prints (of at most `limit` rows), as a string.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let text = SessionContext::new().sql("SELECT 1 AS x, NULL AS y").unwrap().to_pretty_string(None).unwrap();
    /// assert!(text.contains("| x | y    |"));
    /// assert!(text.contains("| 1 | NULL |"));
    /// ```
    pub fn to_pretty_string(&self, limit: Option<usize>) -> Result<String> {
        let df = match limit {
            Some(n) => self.limit(n)?,
            None => self.clone(),
        };
        let batches = df.collect()?;
        let mut out = Vec::new();
        write_batches(&mut out, &self.schema(), &batches, OutputFormat::Table)?;
        Ok(String::from_utf8_lossy(&out).trim_end().to_string())
    }

    /// The first `n` rows as [`Row`]s (meant for small `n`; use `limit(n)?.collect()` for
    /// batches).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 100) t(x) ORDER BY x DESC").unwrap();
    /// let rows = df.take(2).unwrap();
    /// assert_eq!(rows[1].get_by_name("x").unwrap().to_string(), "99");
    /// ```
    pub fn take(&self, n: usize) -> Result<Vec<Row>> {
        let schema = self.schema();
        let mut rows = vec![];
        for b in self.limit(n)?.collect()? {
            for r in 0..b.num_rows() {
                let values = b
                    .columns()
                    .iter()
                    .map(|c| ScalarValue::try_from_array(c, r))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                rows.push(Row {
                    schema: schema.clone(),
                    values,
                });
            }
        }
        Ok(rows)
    }

    /// The first row, or `None` when there are no rows.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 7 AS x").unwrap();
    /// assert_eq!(df.first().unwrap().unwrap().to_string(), "(7)");
    /// assert!(df.filter(lit(false)).unwrap().first().unwrap().is_none());
    /// ```
    pub fn first(&self) -> Result<Option<Row>> {
        Ok(self.take(1)?.into_iter().next())
    }

    /// The EXPLAIN text: the optimized logical plan and the physical plan (`verbose`: also the
    /// plan after each optimizer rule; `analyze`: run it and show each operator's metrics).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 10) t(x)").unwrap();
    /// let text = df.filter(col("x").gt(lit(5))).unwrap().explain(false, false).unwrap();
    /// assert!(text.contains("FilterExec"));
    /// ```
    pub fn explain(&self, verbose: bool, analyze: bool) -> Result<String> {
        self.session
            .explain_plan(&self.plan, verbose, analyze, &CancellationToken::new())
    }

    /// Runs the query and yields its batches as they are computed: stages below the last
    /// exchange run first (as for `collect`), then the final stage streams — its partitions
    /// compute a little ahead on their own threads and come out in order, so a program can
    /// consume results larger than memory. Dropping the stream stops the query.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 100000) t(x)").unwrap();
    /// let mut rows = 0;
    /// for batch in df.execute_stream().unwrap() {
    ///     rows += batch.unwrap().num_rows();
    /// }
    /// assert_eq!(rows, 100000);
    /// ```
    pub fn execute_stream(&self) -> Result<RecordBatchStream> {
        let physical = self.physical_plan()?;
        let cancel = CancellationToken::new();
        let ctx = self
            .session
            .task_context_with(self.session.config(), cancel.clone());
        Ok(RecordBatchStream {
            schema: self.schema(),
            inner: scheduler::execute_stream(physical, ctx)?,
            cancel,
        })
    }
}
