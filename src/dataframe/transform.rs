//! Row- and column-shaping transformations: `select`, `filter`, `with_column`, renames and
//! drops, `sort`, `limit`/`offset`, `distinct`, `sample`, `repartition` and `window`.

use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::dataframe::{DataFrame, Partitioning, named};
use crate::error::{Error, Result};
use crate::logical::LogicalPlanBuilder;
use crate::logical::builder::expand_wildcard;
use crate::logical::expr::{Expr, SortExpr};
use crate::logical::expr_fn::{col, column};
use crate::logical::expr_schema::coerce_expr;
use crate::logical::plan::{LogicalPlan, Repartition, RepartitionScheme, Sample};
use crate::logical::schema::Column;
use crate::sql::select::{collect_aggregates, collect_windows, rewrite_over_aggregate};

/// Replaces each of `targets` inside `e` by the column at `offset + its index` of `schema`.
fn replace_with_columns(
    e: Expr,
    targets: &[Expr],
    schema: &crate::logical::PlanSchema,
    offset: usize,
) -> Result<Expr> {
    Ok(e.transform_down(|x| {
        Ok(match targets.iter().position(|t| *t == x) {
            Some(k) => Transformed::yes(Expr::Column(schema.column(offset + k))),
            None => Transformed::no(x),
        })
    })?
    .data)
}

impl DataFrame {
    /// Computes `exprs` for every row (`SELECT exprs`). Items without an alias are named like
    /// SQL names them; `Expr::Wildcard(None)` stands for all columns. Aggregates without
    /// `group_by` aggregate the whole input into one row; window calls get a `Window` node.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 2 AS a, 3 AS b").unwrap();
    /// let out = df.select(vec![col("a"), (col("a") * col("b")).alias("product")]).unwrap();
    /// assert_eq!(out.columns(), ["a", "product"]);
    /// assert!(df.select(vec![col("c")]).unwrap_err().message().contains("available columns: a, b"));
    /// ```
    pub fn select(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        if exprs.is_empty() {
            return Err(Error::plan("select() needs at least one expression"));
        }
        let schema = self.plan.schema().clone();
        let mut items = vec![];
        for e in exprs {
            match e {
                Expr::Wildcard(q) => items.extend(expand_wildcard(&schema, q.as_deref())?),
                e => items.push(coerce_expr(named(e), &schema)?),
            }
        }
        let mut plan = self.builder();
        let mut aggregates = vec![];
        for e in &items {
            collect_aggregates(e, &mut aggregates);
        }
        if !aggregates.is_empty() {
            plan = plan.aggregate(vec![], aggregates.clone())?;
            let agg_schema = plan.schema().clone();
            items = items
                .into_iter()
                .map(|e| rewrite_over_aggregate(e, &[], &aggregates, &agg_schema))
                .collect::<Result<Vec<_>>>()?;
        }
        let mut windows = vec![];
        for e in &items {
            collect_windows(e, &mut windows);
        }
        if !windows.is_empty() {
            let width = plan.schema().len();
            plan = plan.window(windows.clone())?;
            let win_schema = plan.schema().clone();
            items = items
                .into_iter()
                .map(|e| replace_with_columns(e, &windows, &win_schema, width))
                .collect::<Result<Vec<_>>>()?;
        }
        Ok(self.with_plan(plan.project(items)?))
    }

    /// Keeps only the named columns, in the given order (`"t.a"` names a qualified column).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS a, 2 AS b, 3 AS c").unwrap();
    /// assert_eq!(df.select_columns(&["c", "a"]).unwrap().columns(), ["c", "a"]);
    /// ```
    pub fn select_columns(&self, columns: &[&str]) -> Result<DataFrame> {
        self.select(columns.iter().map(|c| col(c)).collect())
    }

    /// Keeps the rows where `predicate` is true (`WHERE`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM (VALUES (1), (5), (NULL)) t(x)").unwrap();
    /// assert_eq!(df.filter(col("x").gt(lit(2))).unwrap().count().unwrap(), 1);
    /// ```
    pub fn filter(&self, predicate: Expr) -> Result<DataFrame> {
        if predicate.contains_aggregate() || predicate.contains_window() {
            return Err(Error::plan(format!(
                "filter() cannot use aggregate or window functions ({predicate}); \
                 compute them first (agg, with_column) and filter on the result"
            )));
        }
        Ok(self.with_plan(self.builder().filter(predicate)?))
    }

    /// Adds a column named `name` computed by `expr`, or replaces the column of that name in
    /// place (Spark's `withColumn`). `expr` may be a window function call.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS a, 2 AS b").unwrap();
    /// let out = df.with_column("a", col("a") + lit(10)).unwrap().with_column("c", lit(0)).unwrap();
    /// assert_eq!(out.columns(), ["a", "b", "c"]);
    /// ```
    pub fn with_column(&self, name: &str, expr: Expr) -> Result<DataFrame> {
        let schema = self.plan.schema();
        let existing = schema.find(&Column::bare(name))?;
        let mut items: Vec<Expr> = schema.columns().into_iter().map(Expr::Column).collect();
        let new = expr.alias(name);
        match existing {
            Some(i) => items[i] = new,
            None => items.push(new),
        }
        self.select(items)
    }

    /// Renames column `old` (`"t.a"` for a qualified one) to `new`. Unlike Spark, a missing
    /// column is an error rather than a no-op.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS a, 2 AS b").unwrap();
    /// assert_eq!(df.with_column_renamed("a", "x").unwrap().columns(), ["x", "b"]);
    /// assert!(df.with_column_renamed("z", "x").is_err());
    /// ```
    pub fn with_column_renamed(&self, old: &str, new: &str) -> Result<DataFrame> {
        let schema = self.plan.schema();
        let i = schema.index_of(&column(old))?;
        let items = schema
            .columns()
            .into_iter()
            .enumerate()
            .map(|(k, c)| {
                let e = Expr::Column(c);
                if k == i { e.alias(new) } else { e }
            })
            .collect();
        self.select(items)
    }

    /// Removes the named columns. Unlike Spark, a missing column is an error.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS a, 2 AS b, 3 AS c").unwrap();
    /// assert_eq!(df.drop_columns(&["b"]).unwrap().columns(), ["a", "c"]);
    /// ```
    pub fn drop_columns(&self, columns: &[&str]) -> Result<DataFrame> {
        let schema = self.plan.schema();
        let mut drop = vec![];
        for c in columns {
            drop.push(schema.index_of(&column(c))?);
        }
        if drop.len() >= schema.len() && (0..schema.len()).all(|i| drop.contains(&i)) {
            return Err(Error::plan("drop_columns() would drop every column"));
        }
        let items = schema
            .columns()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, c)| Expr::Column(c))
            .collect();
        self.select(items)
    }

    /// Orders the rows by `keys` (`col("x").sort(asc, nulls_first)`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM (VALUES (2), (NULL), (1)) t(x)").unwrap();
    /// let sorted = df.sort(vec![col("x").sort(true, false)]).unwrap();
    /// let first = sorted.first().unwrap().unwrap();
    /// assert_eq!(first.get(0).unwrap().to_string(), "1");
    /// ```
    pub fn sort(&self, keys: Vec<SortExpr>) -> Result<DataFrame> {
        if keys.is_empty() {
            return Err(Error::plan("sort() needs at least one key"));
        }
        Ok(self.with_plan(self.builder().sort(keys)?))
    }

    /// Keeps the first `n` rows (in the current order, if the plan has one).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 100) t(x)").unwrap();
    /// assert_eq!(df.limit(7).unwrap().count().unwrap(), 7);
    /// ```
    pub fn limit(&self, n: usize) -> Result<DataFrame> {
        Ok(self.with_plan(self.builder().limit(0, Some(n))?))
    }

    /// Skips the first `n` rows (`OFFSET n`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 10) t(x)").unwrap();
    /// assert_eq!(df.offset(8).unwrap().count().unwrap(), 2);
    /// ```
    pub fn offset(&self, n: usize) -> Result<DataFrame> {
        Ok(self.with_plan(self.builder().limit(n, None)?))
    }

    /// Removes duplicate rows (`SELECT DISTINCT *`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM (VALUES (1), (1), (2)) t(x)").unwrap();
    /// assert_eq!(df.distinct().unwrap().count().unwrap(), 2);
    /// ```
    pub fn distinct(&self) -> Result<DataFrame> {
        Ok(self.with_plan(self.builder().distinct()?))
    }

    /// A random sample: each row is kept with probability `fraction` (in `[0, 1]`). The choice
    /// is seeded by `seed` and the partition, so the same DataFrame over the same partitions
    /// gives the same sample every time.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 1000) t(x)").unwrap();
    /// let s = df.sample(0.1, 42).unwrap();
    /// let n = s.count().unwrap();
    /// assert!(n > 50 && n < 150);
    /// assert_eq!(n, s.count().unwrap());
    /// ```
    pub fn sample(&self, fraction: f64, seed: u64) -> Result<DataFrame> {
        let node = Sample::try_new(self.plan.clone(), fraction, seed)?;
        Ok(self.with_plan(LogicalPlan::Sample(node).into()))
    }

    /// Redistributes the rows: `Partitioning::RoundRobin(n)` deals batches to `n` partitions in
    /// turn; `Partitioning::Hash(keys, n)` sends each row to partition `hash(keys) % n`, with the
    /// hash every exchange uses, so joins and aggregations on those keys need no further shuffle
    /// (keep it with [`cache`](DataFrame::cache)).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM generate_series(1, 100) t(k)").unwrap();
    /// let parts = df.repartition(Partitioning::Hash(vec![col("k")], 3)).unwrap().collect_partitioned().unwrap();
    /// assert_eq!(parts.len(), 3);
    /// ```
    pub fn repartition(&self, partitioning: Partitioning) -> Result<DataFrame> {
        let schema = self.plan.schema().clone();
        let scheme = match partitioning {
            RepartitionScheme::RoundRobin(n) => {
                check_partitions(n)?;
                RepartitionScheme::RoundRobin(n)
            }
            RepartitionScheme::Hash(keys, n) => {
                check_partitions(n)?;
                if keys.is_empty() {
                    return Err(Error::plan("hash repartitioning needs at least one key"));
                }
                let keys = keys
                    .into_iter()
                    .map(|k| coerce_expr(k, &schema))
                    .collect::<Result<Vec<_>>>()?;
                RepartitionScheme::Hash(keys, n)
            }
        };
        let node = LogicalPlan::Repartition(Repartition {
            input: self.plan.clone(),
            scheme,
        });
        Ok(self.with_plan(node.into()))
    }

    /// Appends one column per window function call (`row_number().over(..)`,
    /// `sum(x).over(..)`), keeping every input row and column.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM (VALUES ('a', 1), ('a', 2), ('b', 5)) t(k, v)").unwrap();
    /// let w = WindowSpec::new().partition_by(vec![col("k")]);
    /// let out = df.window(vec![sum(col("v")).over(w).alias("k_total")]).unwrap();
    /// assert_eq!(out.columns(), ["k", "v", "k_total"]);
    /// ```
    pub fn window(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        if exprs.is_empty() {
            return Err(Error::plan(
                "window() needs at least one window function call",
            ));
        }
        let schema = self.plan.schema().clone();
        let exprs = exprs
            .into_iter()
            .map(|e| coerce_expr(named(e), &schema))
            .collect::<Result<Vec<_>>>()?;
        for e in &exprs {
            if !matches!(e.unaliased(), Expr::Window(_)) {
                return Err(Error::plan(format!(
                    "window() takes window function calls (f(..).over(..)), got {e}"
                )));
            }
        }
        Ok(self.with_plan(self.builder().window(exprs)?))
    }

    /// A DataFrame over the same plan with the given builder step applied (for sibling modules).
    pub(crate) fn apply(
        &self,
        f: impl FnOnce(LogicalPlanBuilder) -> Result<LogicalPlanBuilder>,
    ) -> Result<DataFrame> {
        Ok(self.with_plan(f(self.builder())?))
    }
}

fn check_partitions(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::plan("repartition needs at least one partition"));
    }
    Ok(())
}
