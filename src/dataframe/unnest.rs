//! List columns into rows: `unnest_columns` (DuckDB/DataFusion), `explode` (Spark) and
//! `flat_map`, the word-count step: a list-valued expression, one row per element.

use std::sync::Arc;

use crate::dataframe::DataFrame;
use crate::error::Result;
use crate::logical::expr::Expr;
use crate::logical::expr_fn::column;
use crate::logical::plan::{LogicalPlan, Unnest};

impl DataFrame {
    /// One row per element of the list columns `columns` (the other columns repeated); rows
    /// whose lists are NULL or empty disappear. Several columns are unnested side by side,
    /// padded with NULLs to the longest list of the row.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS id, string_to_array('a b c', ' ') AS letters").unwrap();
    /// let rows = df.unnest_columns(&["letters"]).unwrap();
    /// assert_eq!(rows.count().unwrap(), 3);
    /// ```
    pub fn unnest_columns(&self, columns: &[&str]) -> Result<DataFrame> {
        self.unnest_columns_with(columns, false)
    }

    /// Like [`unnest_columns`](Self::unnest_columns); with `preserve_nulls`, a row whose lists
    /// are all NULL or empty stays, once, with NULL elements (Spark's `explode_outer`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT string_to_array('', ' ') AS xs").unwrap();
    /// assert_eq!(df.unnest_columns_with(&["xs"], true).unwrap().count().unwrap(), 1);
    /// assert_eq!(df.unnest_columns_with(&["xs"], false).unwrap().count().unwrap(), 0);
    /// ```
    pub fn unnest_columns_with(&self, columns: &[&str], preserve_nulls: bool) -> Result<DataFrame> {
        let cols = columns.iter().map(|c| column(c)).collect();
        let node = Unnest::try_new(self.plan.clone(), cols, preserve_nulls)?;
        Ok(self.with_plan(Arc::new(LogicalPlan::Unnest(node)).into()))
    }

    /// One row per element of the list column `column` (Spark's `explode`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT string_split('x,y', ',') AS parts").unwrap();
    /// assert_eq!(df.explode("parts").unwrap().count().unwrap(), 2);
    /// ```
    pub fn explode(&self, column: &str) -> Result<DataFrame> {
        self.unnest_columns(&[column])
    }

    /// Adds the column `name` computed by the list-valued `expr` and gives each of its
    /// elements its own row: the word-count step
    /// `lines.flat_map("word", string_split(col("line"), lit(" ")))`.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let lines = SessionContext::new().sql("SELECT * FROM (VALUES ('to be'), ('or not')) t(line)").unwrap();
    /// let words = lines.flat_map("word", string_split(col("line"), lit(" "))).unwrap();
    /// assert_eq!(words.columns(), ["line", "word"]);
    /// assert_eq!(words.count().unwrap(), 4);
    /// ```
    pub fn flat_map(&self, name: &str, expr: Expr) -> Result<DataFrame> {
        self.with_column(name, expr)?.unnest_columns(&[name])
    }
}
