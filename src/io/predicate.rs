//! Filters pushed into a file scan, made evaluable on the scan's own columns: which conjuncts a
//! scan may run itself (deterministic, no subqueries), with table qualifiers removed, compiled
//! against the columns a scan step sees (Hive partition values, a Parquet row filter's columns).

use std::collections::HashSet;

use arrow::array::{Array, BooleanArray};
use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;
use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::expr::Expr;
use crate::logical::schema::{Column, PlanSchema};
use crate::physical_expr::{PhysicalExprRef, create_physical_expr, evaluate_predicate};

/// Whether a scan may evaluate `e` itself: deterministic, no subqueries, aggregates or outer
/// references.
pub fn is_scan_evaluable(e: &Expr) -> bool {
    !e.is_volatile()
        && !e.contains_subquery()
        && !e.contains_aggregate()
        && !e.contains_window()
        && !e.any(&mut |x| matches!(x, Expr::OuterColumn(..) | Expr::Wildcard(_)))
}

/// `e` with every column reference unqualified (a scan sees only its own table's columns).
pub fn unqualified(e: &Expr) -> Expr {
    e.clone()
        .transform_up(|x| {
            Ok(match x {
                Expr::Column(c) if c.relation.is_some() => {
                    Transformed::yes(Expr::Column(Column::new(None::<&str>, c.name)))
                }
                other => Transformed::no(other),
            })
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| e.clone())
}

/// The names of the columns `e` reads.
pub fn column_names(e: &Expr) -> HashSet<String> {
    e.column_refs()
        .into_iter()
        .map(|c| c.name.clone())
        .collect()
}

/// A conjunct compiled against a fixed set of columns.
#[derive(Debug, Clone)]
pub struct CompiledPredicate {
    expr: PhysicalExprRef,
}

impl CompiledPredicate {
    /// Compiles an (unqualified) `e` over batches of `schema`.
    pub fn try_new(e: &Expr, schema: &Schema) -> Result<Self> {
        let plan_schema = PlanSchema::from_arrow(None, schema);
        let expr = create_physical_expr(e, &plan_schema, None)?;
        Ok(CompiledPredicate { expr })
    }

    /// Evaluates on `batch`: true where the row passes (NULL counts as false).
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        let b = evaluate_predicate(self.expr.as_ref(), batch)?;
        Ok(match b.nulls() {
            Some(_) => arrow::compute::prep_null_mask_filter(&b),
            None => b,
        })
    }
}
