//! `DataFrame`: a lazy query — a logical plan plus the session that runs it.
//!
//! Transformations (`select`, `filter`, `join`, `group_by(..).agg(..)`, ...) return a new
//! DataFrame whose plan is built with the same [`LogicalPlanBuilder`] the SQL planner uses, so
//! names are resolved and types coerced right away (an unknown column fails the transformation
//! that named it, listing the columns there are) and the same optimizer and engine run it.
//! Actions (`collect`, `count`, `show`, `execute_stream`, ...) optimize, plan and run it.
//!
//! | file | holds |
//! | --- | --- |
//! | `mod.rs` | the type, schema access, aliases and views |
//! | `transform.rs` | projections, filters, sorting, limits, distinct, sampling, repartitioning, windows |
//! | `aggregate.rs` | `group_by(..).agg(..)`, `aggregate`, `count_by_value` |
//! | `set_ops.rs` | `union`, `union_all`, `intersect`, `except` |
//! | `join.rs` | joins on column pairs or expressions |
//! | `unnest.rs` | `unnest_columns`, `explode`, `flat_map` |
//! | `map_partitions.rs` | user code per partition or batch |
//! | `cache.rs` | `cache` / `persist` into a partitioned in-memory table |
//! | `actions.rs` | `collect`, `count`, `show`, `take`, `first`, `explain`, `execute_stream` |
//!
//! ```
//! use flint::prelude::*;
//! let ctx = SessionContext::new();
//! let events = ctx
//!     .sql("SELECT * FROM (VALUES (42, 'click', 3), (42, 'view', 1), (7, 'click', 5)) t(campaign_id, event_type, value)")
//!     .unwrap();
//! let totals = events
//!     .filter(col("campaign_id").eq(lit(42))).unwrap()
//!     .group_by(vec![col("event_type")]).unwrap()
//!     .agg(vec![sum(col("value")).alias("total")]).unwrap()
//!     .sort(vec![col("total").sort(false, true)]).unwrap();
//! assert_eq!(totals.count().unwrap(), 2);
//! ```

mod actions;
mod aggregate;
mod cache;
mod join;
mod map_partitions;
mod set_ops;
mod transform;
mod unnest;

use std::sync::Arc;

use arrow::datatypes::SchemaRef;

pub use crate::logical::plan::JoinType;
/// How [`DataFrame::repartition`] redistributes rows: `RoundRobin(n)` or `Hash(keys, n)`.
pub use crate::logical::plan::RepartitionScheme as Partitioning;
pub use actions::{RecordBatchStream, Row};
pub use aggregate::GroupedData;

use crate::error::Result;
use crate::logical::LogicalPlanBuilder;
use crate::logical::expr::Expr;
use crate::logical::plan::LogicalPlan;
use crate::session::SessionContext;

mod write;

/// A lazily evaluated query: nothing runs until an action.
#[derive(Clone)]
pub struct DataFrame {
    session: SessionContext,
    plan: Arc<LogicalPlan>,
}

impl DataFrame {
    /// A DataFrame for `plan` in `session`.
    ///
    /// ```
    /// use flint::prelude::*;
    /// use flint::logical::LogicalPlanBuilder;
    /// let ctx = SessionContext::new();
    /// let df = DataFrame::new(ctx, LogicalPlanBuilder::empty(true).build());
    /// assert_eq!(df.count().unwrap(), 1);
    /// ```
    pub fn new(session: SessionContext, plan: LogicalPlan) -> Self {
        DataFrame {
            session,
            plan: Arc::new(plan),
        }
    }

    /// A DataFrame with the plan built by `builder` in the same session.
    pub(crate) fn with_plan(&self, builder: LogicalPlanBuilder) -> DataFrame {
        DataFrame {
            session: self.session.clone(),
            plan: builder.build_arc(),
        }
    }

    /// A builder starting from this DataFrame's plan.
    pub(crate) fn builder(&self) -> LogicalPlanBuilder {
        LogicalPlanBuilder::from(self.plan.clone())
    }

    /// The session this DataFrame runs in.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 AS one").unwrap();
    /// assert_eq!(df.session().config().batch_size, ctx.config().batch_size);
    /// ```
    pub fn session(&self) -> &SessionContext {
        &self.session
    }

    /// The logical plan, as built (not yet optimized).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS one").unwrap();
    /// assert_eq!(df.logical_plan().name(), "Projection");
    /// ```
    pub fn logical_plan(&self) -> &LogicalPlan {
        &self.plan
    }

    /// The plan after the optimizer's rules.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS one").unwrap();
    /// let plan = df.filter(lit(true)).unwrap().optimized_plan().unwrap();
    /// assert!(!plan.to_string().contains("Filter"));
    /// ```
    pub fn optimized_plan(&self) -> Result<LogicalPlan> {
        self.session.optimize(&self.plan)
    }

    /// The output schema (column names, types and nullability).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS one, 'a' AS s").unwrap();
    /// assert_eq!(df.schema().field(1).name(), "s");
    /// ```
    pub fn schema(&self) -> SchemaRef {
        self.plan.schema().arrow_schema().clone()
    }

    /// The output column names, in order.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS a, 2 AS b").unwrap();
    /// assert_eq!(df.columns(), ["a", "b"]);
    /// ```
    pub fn columns(&self) -> Vec<String> {
        self.plan
            .schema()
            .iter()
            .map(|(_, f)| f.name().clone())
            .collect()
    }

    /// Names the relation: its columns are then also known as `alias.column`. Needed to join a
    /// DataFrame with itself (`a.join(&a.alias("b")?, ..)`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let df = SessionContext::new().sql("SELECT 1 AS k").unwrap().alias("t").unwrap();
    /// let out = df.select(vec![col("t.k")]).unwrap();
    /// assert_eq!(out.columns(), ["k"]);
    /// ```
    pub fn alias(&self, alias: &str) -> Result<DataFrame> {
        Ok(self.with_plan(self.builder().alias(alias)?))
    }

    /// Registers this DataFrame as a view named `name` in its session, replacing any table or
    /// view of that name, so SQL can query it (Spark's `createOrReplaceTempView`).
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let df = ctx.sql("SELECT 1 AS x UNION ALL SELECT 2").unwrap();
    /// df.create_or_replace_temp_view("numbers").unwrap();
    /// assert_eq!(ctx.sql("SELECT sum(x) FROM numbers").unwrap().count().unwrap(), 1);
    /// ```
    pub fn create_or_replace_temp_view(&self, name: &str) -> Result<()> {
        self.session.register_dataframe(name, self)
    }
}

impl std::fmt::Debug for DataFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataFrame {}\n{}", self.plan.schema(), self.plan)
    }
}

/// Names an expression the way SQL names a select item written without `AS`: a column keeps
/// its name, anything else is named by its text (before types were coerced, so `sum(x)` rather
/// than `sum(CAST(x AS BIGINT))`).
pub(crate) fn named(e: Expr) -> Expr {
    match e {
        Expr::Alias(..) | Expr::Column(_) | Expr::Wildcard(_) => e,
        other => {
            let name = other.to_string();
            other.alias(name)
        }
    }
}
