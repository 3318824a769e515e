//! Grouping: `group_by(keys).agg(aggregates)`, `aggregate(keys, aggregates)` and the pair-RDD
//! style `count_by_value(column)`.

use crate::dataframe::{DataFrame, named};
use crate::error::{Error, Result};
use crate::functions::expr_fn::count_all;
use crate::logical::expr::Expr;
use crate::logical::expr_fn::col;
use crate::logical::expr_schema::coerce_expr;
use crate::sql::select::{collect_aggregates, rewrite_over_aggregate};

/// A DataFrame grouped by keys, waiting for its aggregates ([`DataFrame::group_by`]).
#[derive(Debug, Clone)]
pub struct GroupedData {
    df: DataFrame,
    keys: Vec<Expr>,
}

impl GroupedData {
    /// Computes `aggregates` per group: the output has the group keys, then one column per
    /// aggregate. An aggregate may be an expression over aggregate calls and group keys
    /// (`(sum(col("a")) / count_all()).alias("mean")`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM (VALUES ('a', 1), ('a', 3), ('b', 5)) t(k, v)").unwrap();
    /// let out = df.group_by(vec![col("k")]).unwrap()
    ///     .agg(vec![sum(col("v")).alias("total"), (max(col("v")) - min(col("v"))).alias("spread")]).unwrap();
    /// assert_eq!(out.columns(), ["k", "total", "spread"]);
    /// assert_eq!(out.count().unwrap(), 2);
    /// ```
    pub fn agg(&self, aggregates: Vec<Expr>) -> Result<DataFrame> {
        self.df.aggregate(self.keys.clone(), aggregates)
    }

    /// The number of rows of each group, in a column named `count`.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM (VALUES ('a'), ('a'), ('b')) t(k)").unwrap();
    /// let out = df.group_by(vec![col("k")]).unwrap().count().unwrap();
    /// assert_eq!(out.columns(), ["k", "count"]);
    /// ```
    pub fn count(&self) -> Result<DataFrame> {
        self.agg(vec![count_all().alias("count")])
    }
}

impl DataFrame {
    /// Groups the rows by `keys` (`GROUP BY keys`); finish with [`GroupedData::agg`]. The keys
    /// are checked here, so an unknown column fails this call.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS a").unwrap();
    /// assert!(df.group_by(vec![col("a")]).is_ok());
    /// assert!(df.group_by(vec![col("b")]).is_err());
    /// ```
    pub fn group_by(&self, keys: Vec<Expr>) -> Result<GroupedData> {
        let schema = self.plan.schema();
        for k in &keys {
            coerce_expr(k.clone(), schema)?;
            if k.contains_aggregate() || k.contains_window() {
                return Err(Error::plan(format!(
                    "group_by() keys cannot be aggregate or window function calls: {k}"
                )));
            }
        }
        Ok(GroupedData {
            df: self.clone(),
            keys,
        })
    }

    /// `GROUP BY group_keys` computing `aggregates` (see [`GroupedData::agg`]); with no keys, one
    /// row over the whole input.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM (VALUES (1), (2), (3)) t(x)").unwrap();
    /// let out = df.aggregate(vec![], vec![avg(col("x")).alias("mean")]).unwrap();
    /// assert_eq!(out.first().unwrap().unwrap().get(0).unwrap().to_string(), "2");
    /// ```
    pub fn aggregate(&self, group_keys: Vec<Expr>, aggregates: Vec<Expr>) -> Result<DataFrame> {
        let schema = self.plan.schema().clone();
        let coerce = |e: Expr| coerce_expr(e, &schema);
        // keys keep their text as name; duplicates add nothing
        let mut keys: Vec<Expr> = vec![];
        for k in group_keys {
            let k = coerce(named(k))?;
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let items = aggregates
            .into_iter()
            .map(|e| coerce(named(e)))
            .collect::<Result<Vec<_>>>()?;
        let mut calls = vec![];
        for e in &items {
            if !e.contains_aggregate() {
                return Err(Error::plan(format!(
                    "agg() expressions must use an aggregate function: {e}"
                )));
            }
            if e.contains_window() {
                return Err(Error::plan(format!(
                    "agg() expressions cannot use window functions: {e}; add them afterwards \
                     with with_column or window"
                )));
            }
            collect_aggregates(e, &mut calls);
        }
        let all_bare = items
            .iter()
            .all(|e| matches!(e.unaliased(), Expr::Aggregate(_)));
        if all_bare {
            return Ok(self.with_plan(self.builder().aggregate(keys, items)?));
        }
        // expressions over aggregates: aggregate the calls, then compute the expressions
        let agg = self.builder().aggregate(keys.clone(), calls.clone())?;
        let agg_schema = agg.schema().clone();
        let bare_keys: Vec<Expr> = keys.iter().map(|k| k.unaliased().clone()).collect();
        let mut out: Vec<Expr> = (0..keys.len())
            .map(|i| Expr::Column(agg_schema.column(i)))
            .collect();
        for e in items {
            out.push(rewrite_over_aggregate(e, &bare_keys, &calls, &agg_schema)?);
        }
        Ok(self.with_plan(agg.project(out)?))
    }

    /// How often each value of `column` occurs: one row per distinct value with its `count`
    /// (Spark's `countByValue`, as a DataFrame).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT * FROM (VALUES ('x'), ('y'), ('x')) t(w)").unwrap();
    /// let counts = df.count_by_value("w").unwrap().sort(vec![col("w").sort(true, false)]).unwrap();
    /// let top = counts.first().unwrap().unwrap();
    /// assert_eq!(top.get(1).unwrap().to_string(), "2");
    /// ```
    pub fn count_by_value(&self, column: &str) -> Result<DataFrame> {
        self.group_by(vec![col(column)])?.count()
    }
}
