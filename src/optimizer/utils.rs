//! Helpers shared by optimizer rules: column sets of expressions, and
//! rewriting expressions through the nodes that rename columns.

use std::collections::HashSet;

use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::expr::Expr;
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::{Column, PlanSchema};

/// Columns an expression reads, including outer references made by subqueries inside it
/// (a subquery evaluated per row needs those columns of the current input).
pub fn expr_columns(e: &Expr) -> HashSet<Column> {
    let mut out = HashSet::new();
    collect_columns(e, &mut out);
    out
}

fn collect_columns(e: &Expr, out: &mut HashSet<Column>) {
    match e {
        Expr::Column(c) => {
            out.insert(c.clone());
        }
        Expr::OuterColumn(c, _) => {
            out.insert(c.clone());
        }
        Expr::ScalarSubquery(sq) | Expr::Exists { subquery: sq, .. } => {
            for (c, _) in crate::physical_expr::subquery::outer_references(&sq.plan) {
                out.insert(c);
            }
        }
        Expr::InSubquery { expr, subquery, .. } => {
            collect_columns(expr, out);
            for (c, _) in crate::physical_expr::subquery::outer_references(&subquery.plan) {
                out.insert(c);
            }
        }
        other => {
            for c in other.children() {
                collect_columns(c, out);
            }
        }
    }
}

/// Whether every column `e` reads is in `schema`.
pub fn only_uses(e: &Expr, schema: &PlanSchema) -> bool {
    expr_columns(e).iter().all(|c| schema.has_column(c))
}

/// Whether an expression may be moved (evaluated elsewhere / fewer times): no subqueries,
/// no volatile functions, no aggregates or windows.
pub fn is_movable(e: &Expr) -> bool {
    !e.contains_subquery() && !e.is_volatile() && !e.contains_aggregate() && !e.contains_window()
}

/// Replaces columns by expressions (`map` gives a replacement or `None` to keep).
pub fn replace_columns(e: Expr, map: &dyn Fn(&Column) -> Option<Expr>) -> Result<Expr> {
    Ok(e.transform_up(|x| {
        Ok(match x {
            Expr::Column(c) => match map(&c) {
                Some(r) => Transformed::yes(r),
                None => Transformed::no(Expr::Column(c)),
            },
            other => Transformed::no(other),
        })
    })?
    .data)
}

/// For a node that renames its input's columns one-to-one (SubqueryAlias, Union inputs), maps a
/// column of `from` to the column at the same position in `to`.
pub fn positional_map(
    from: &PlanSchema,
    to: &PlanSchema,
) -> impl Fn(&Column) -> Option<Expr> + use<> {
    let from = from.clone();
    let to = to.clone();
    move |c: &Column| match from.find(c) {
        Ok(Some(i)) => Some(Expr::Column(to.column(i))),
        _ => None,
    }
}

/// The input plan of single-input nodes.
pub fn single_input(plan: &LogicalPlan) -> Option<&std::sync::Arc<LogicalPlan>> {
    match plan.inputs().as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}
