//! Session methods that connect DataFrames, SQL and user code: DataFrames as views, in-memory
//! data as DataFrames, and user-defined functions.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::catalog::{CatalogEntry, MemTable, TableProvider};
use crate::dataframe::DataFrame;
use crate::error::Result;
use crate::functions::udaf::AggregateUdf;
use crate::functions::udf::ScalarUdf;
use crate::logical::LogicalPlanBuilder;
use crate::logical::expr::{AggregateCall, Expr, ScalarCall};
use crate::session::SessionContext;

impl SessionContext {
    /// Makes `df` queryable from SQL as the view `name` (replacing a table or view of that
    /// name). The view is `df`'s plan: it is computed when a query reads it.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let evens = ctx.sql("SELECT * FROM generate_series(1, 10) t(x)").unwrap()
    ///     .filter((col("x") % lit(2)).eq(lit(0))).unwrap();
    /// ctx.register_dataframe("evens", &evens).unwrap();
    /// assert_eq!(ctx.sql("SELECT count(*) FROM evens").unwrap().first().unwrap().unwrap().to_string(), "(5)");
    /// assert_eq!(ctx.table("evens").unwrap().count().unwrap(), 5);
    /// ```
    pub fn register_dataframe(&self, name: &str, df: &DataFrame) -> Result<()> {
        let plan = Arc::new(df.logical_plan().clone());
        self.shared
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(&name.to_lowercase(), CatalogEntry::Plan(plan), true)
    }

    /// A DataFrame over in-memory batches, without registering a table. Its relation is named
    /// `batches` (rename it with [`DataFrame::alias`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, Int64Array};
    /// use arrow::record_batch::RecordBatch;
    /// use flint::prelude::*;
    /// let x: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
    /// let batch = RecordBatch::try_from_iter(vec![("x", x)]).unwrap();
    /// let df = SessionContext::new().read_batches(batch.schema(), vec![batch]).unwrap();
    /// assert_eq!(df.count().unwrap(), 3);
    /// ```
    pub fn read_batches(&self, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<DataFrame> {
        self.read_table("batches", Arc::new(MemTable::try_new(schema, batches)?))
    }

    /// A DataFrame reading a table provider, under the relation name `name`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use flint::catalog::range::RangeTable;
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let df = ctx.read_table("r", Arc::new(RangeTable::new("n", 0, 5, 1, false))).unwrap();
    /// assert_eq!(df.select(vec![col("r.n")]).unwrap().count().unwrap(), 5);
    /// ```
    pub fn read_table(&self, name: &str, table: Arc<dyn TableProvider>) -> Result<DataFrame> {
        Ok(DataFrame::new(
            self.clone(),
            LogicalPlanBuilder::scan(name, table)?.build(),
        ))
    }

    /// Registers a scalar UDF so SQL can call it by name (see [`crate::functions::udf`]).
    pub fn register_udf(&self, udf: ScalarUdf) {
        self.functions().register_scalar(Arc::new(udf));
    }

    /// Registers an aggregate UDF so SQL can call it by name (see [`crate::functions::udaf`]).
    pub fn register_udaf(&self, udaf: AggregateUdf) {
        self.functions().register_aggregate(Arc::new(udaf));
    }

    /// A call of the session's function `name` (built-in or registered UDF, scalar or
    /// aggregate) on `args`, for the DataFrame API.
    ///
    /// ```
    /// use flint::prelude::*;
    /// let ctx = SessionContext::new();
    /// let e = ctx.call_function("upper", vec![lit("a")]).unwrap();
    /// assert_eq!(e.to_string(), "upper('a')");
    /// assert!(ctx.call_function("uper", vec![]).unwrap_err().message().contains("did you mean upper()"));
    /// ```
    pub fn call_function(&self, name: &str, args: Vec<Expr>) -> Result<Expr> {
        let registry = self
            .shared
            .functions
            .read()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(func) = registry.aggregate(name) {
            return Ok(Expr::Aggregate(AggregateCall {
                func,
                args,
                distinct: false,
                filter: None,
            }));
        }
        let func = registry.scalar_or_err(name)?;
        Ok(Expr::ScalarFunction(ScalarCall { func, args }))
    }
}
