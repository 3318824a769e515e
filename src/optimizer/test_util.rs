//! Helpers for the rules' unit tests: small in-memory tables and running one rule.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use crate::catalog::memory::MemTable;
use crate::config::SessionConfig;
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::plan::LogicalPlan;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};

/// A scan of an empty table `name` with nullable BIGINT columns `cols`.
pub fn scan(name: &str, cols: &[&str]) -> LogicalPlan {
    scan_rows(name, cols, 0)
}

/// A scan of a table `name` with BIGINT columns `cols` holding `rows` rows (`0..rows` in each).
pub fn scan_rows(name: &str, cols: &[&str], rows: i64) -> LogicalPlan {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|c| Field::new(*c, DataType::Int64, true))
            .collect::<Vec<_>>(),
    ));
    let batches = if rows == 0 {
        vec![]
    } else {
        let columns: Vec<ArrayRef> = cols
            .iter()
            .map(|_| Arc::new(Int64Array::from_iter_values(0..rows)) as ArrayRef)
            .collect();
        vec![RecordBatch::try_new(schema.clone(), columns).expect("test batch")]
    };
    let table = MemTable::try_new(schema, batches).expect("test table");
    LogicalPlanBuilder::scan(name, Arc::new(table))
        .expect("test scan")
        .build()
}

/// Runs `rule` once over `plan` and renders the result.
pub fn optimize_with(rule: &dyn OptimizerRule, plan: LogicalPlan) -> String {
    let config = SessionConfig::default();
    let ctx = OptimizerContext { config: &config };
    rule.rewrite(plan, &ctx)
        .expect("rule failed")
        .data
        .to_string()
}
