//! `SimplifyOuterJoin`: an outer join under a predicate that rejects NULLs of
//! its NULL-supplying side produces no NULL-extended rows that survive, so it
//! can be a more restrictive join: `a LEFT JOIN b ... WHERE b.x > 5` is an
//! inner join, and a FULL join becomes LEFT, RIGHT or INNER by the side(s)
//! rejected. An inner join can then be reordered and have filters pushed
//! into both inputs.
//!
//! Predicates that filter rows of a join's input are collected top-down: the
//! conjuncts of filters, the conditions of inner and semi joins above (a row
//! whose key is NULL never matches), and those of a preserved side (a LEFT
//! join's filter above also filters its left input's rows).

use std::sync::Arc;

use datafusion_common::tree_node::Transformed;

use crate::error::Result;
use crate::logical::expr::{BinaryOp, Expr};
use crate::logical::plan::{Filter, Join, JoinType, LogicalPlan, SubqueryAlias};
use crate::logical::schema::PlanSchema;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::utils::{is_movable, positional_map, replace_columns};

/// Turns outer joins into inner (or one-sided) joins where a predicate above rejects NULLs.
#[derive(Debug)]
pub struct SimplifyOuterJoin;

impl OptimizerRule for SimplifyOuterJoin {
    fn name(&self) -> &'static str {
        "simplify_outer_join"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let mut changed = false;
        let after = simplify(plan, vec![], &mut changed)?;
        Ok(Transformed::new_transformed(after, changed))
    }
}

/// Rewrites `plan`, where `preds` are conjuncts over its output known to filter its rows.
fn simplify(plan: LogicalPlan, preds: Vec<Expr>, changed: &mut bool) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Filter(f) => {
            let mut all = preds;
            all.extend(
                f.predicate
                    .conjuncts()
                    .into_iter()
                    .filter(|p| is_movable(p))
                    .cloned(),
            );
            let input = simplify(f.input.as_ref().clone(), all, changed)?;
            Ok(LogicalPlan::Filter(Filter::try_new(
                f.predicate,
                Arc::new(input),
            )?))
        }
        LogicalPlan::SubqueryAlias(a) => {
            let map = positional_map(&a.schema, a.input.schema());
            let below = preds
                .into_iter()
                .map(|p| replace_columns(p, &map))
                .collect::<Result<Vec<_>>>()?;
            let input = simplify(a.input.as_ref().clone(), below, changed)?;
            Ok(LogicalPlan::SubqueryAlias(
                SubqueryAlias::try_new_with_columns(Arc::new(input), a.alias, a.columns)?,
            ))
        }
        LogicalPlan::Join(j) => simplify_join(j, preds, changed),
        other => {
            // nodes whose rows the predicates cannot be traced through: start afresh below
            let inputs = other
                .inputs()
                .into_iter()
                .map(|i| simplify(i.as_ref().clone(), vec![], changed).map(Arc::new))
                .collect::<Result<Vec<_>>>()?;
            if inputs.is_empty() {
                Ok(other)
            } else {
                other.with_new_inputs(inputs)
            }
        }
    }
}

fn simplify_join(j: Join, preds: Vec<Expr>, changed: &mut bool) -> Result<LogicalPlan> {
    let ls = j.left.schema().clone();
    let rs = j.right.schema().clone();
    let rejects_left = preds.iter().any(|p| rejects_nulls(p, &ls));
    let rejects_right = preds.iter().any(|p| rejects_nulls(p, &rs));
    let join_type = match (j.join_type, rejects_left, rejects_right) {
        (JoinType::Left, _, true) | (JoinType::Right, true, _) | (JoinType::Full, true, true) => {
            JoinType::Inner
        }
        (JoinType::Full, true, false) => JoinType::Left,
        (JoinType::Full, false, true) => JoinType::Right,
        (t, _, _) => t,
    };
    if join_type != j.join_type {
        *changed = true;
    }
    // the join's own conditions filter the rows of the inputs that must match
    let mut own: Vec<Expr> = vec![];
    if !j.null_equals_null {
        own.extend(j.on.iter().map(|(l, r)| l.clone().eq(r.clone())));
    }
    if let Some(f) = &j.filter {
        own.extend(f.conjuncts().into_iter().filter(|p| is_movable(p)).cloned());
    }
    let (to_left, to_right) = match join_type {
        JoinType::Inner | JoinType::LeftSemi | JoinType::RightSemi if !j.null_aware => {
            let mut both = preds;
            both.extend(own);
            (both.clone(), both)
        }
        // unmatched rows of the preserved side stay as they are: what filters them above
        // filters them below; the other side's rows count only where the condition holds
        JoinType::Left => (preds, own),
        JoinType::Right => (own, preds),
        JoinType::LeftAnti | JoinType::LeftMark => (preds, vec![]),
        JoinType::RightAnti => (vec![], preds),
        _ => (vec![], vec![]),
    };
    let left = simplify(j.left.as_ref().clone(), to_left, changed)?;
    let right = simplify(j.right.as_ref().clone(), to_right, changed)?;
    let mut nj = Join::try_new(
        Arc::new(left),
        Arc::new(right),
        j.on,
        j.filter,
        join_type,
        j.null_equals_null,
    )?;
    nj.null_aware = j.null_aware;
    Ok(LogicalPlan::Join(nj))
}

/// Whether `p` is never true on a row whose columns of `side` are all NULL (so such rows,
/// the NULL-extended rows of an outer join, are filtered out).
pub fn rejects_nulls(p: &Expr, side: &PlanSchema) -> bool {
    match p {
        Expr::Binary(l, BinaryOp::And, r) => rejects_nulls(l, side) || rejects_nulls(r, side),
        Expr::Binary(l, BinaryOp::Or, r) => rejects_nulls(l, side) && rejects_nulls(r, side),
        Expr::IsNotNull(e) => null_if_side_null(e, side),
        // `e IS TRUE` / `e IS FALSE` are false on NULL; the negated and UNKNOWN forms are not
        Expr::IsBool(e, Some(_), false) => null_if_side_null(e, side),
        Expr::Alias(e, _) => rejects_nulls(e, side),
        other => null_if_side_null(other, side),
    }
}

/// Whether `e` is NULL whenever every column of `side` is NULL (strict in those columns).
fn null_if_side_null(e: &Expr, side: &PlanSchema) -> bool {
    match e {
        Expr::Column(c) => side.has_column(c),
        Expr::Literal(v) => v.is_null(),
        Expr::Alias(x, _) | Expr::Negative(x) | Expr::Not(x) => null_if_side_null(x, side),
        Expr::Cast { expr, .. } => null_if_side_null(expr, side),
        Expr::Binary(l, op, r) => match op {
            // NULL AND false is false, NULL OR true is true
            BinaryOp::And | BinaryOp::Or => {
                null_if_side_null(l, side) && null_if_side_null(r, side)
            }
            BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => false,
            _ => null_if_side_null(l, side) || null_if_side_null(r, side),
        },
        Expr::Between { expr, .. } => null_if_side_null(expr, side),
        Expr::Like { expr, pattern, .. } => {
            null_if_side_null(expr, side) || null_if_side_null(pattern, side)
        }
        Expr::InList { expr, .. } => null_if_side_null(expr, side),
        // IS [NOT] NULL, CASE, functions (coalesce...), subqueries: may be non-NULL
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::builder::LogicalPlanBuilder;
    use crate::logical::expr_fn::{col, lit};
    use crate::optimizer::test_util::{optimize_with, scan};

    fn run(plan: LogicalPlan) -> String {
        optimize_with(&SimplifyOuterJoin, plan)
    }

    /// `a(x, y) <jt> b(u, z) ON a.x = b.u`
    fn join(jt: JoinType) -> LogicalPlanBuilder {
        LogicalPlanBuilder::from(scan("a", &["x", "y"]))
            .join(
                scan("b", &["u", "z"]),
                jt,
                vec![(col("a.x"), col("b.u"))],
                None,
            )
            .unwrap()
    }

    #[test]
    fn filter_rejecting_nulls_makes_left_join_inner() {
        let plan = join(JoinType::Left)
            .filter(col("b.z").gt(lit(5i64)))
            .unwrap()
            .build();
        assert_eq!(
            run(plan),
            "Filter: b.z > 5\
            \n  Inner Join: on=[a.x = b.u]\
            \n    TableScan: a\
            \n    TableScan: b\n"
        );
    }

    #[test]
    fn right_join_with_filter_on_left_becomes_inner() {
        let plan = join(JoinType::Right)
            .filter(
                col("a.y")
                    .cast_to(arrow::datatypes::DataType::Float64)
                    .lt(lit(1.5f64)),
            )
            .unwrap()
            .build();
        assert!(run(plan).contains("Inner Join"));
    }

    #[test]
    fn is_null_or_preserved_side_keep_the_outer_join() {
        for pred in [
            col("b.z").is_null(),
            col("b.z").is_null().or(col("b.z").gt(lit(1i64))),
            col("a.y").gt(lit(1i64)),
            col("b.z").is_not_distinct_from(lit(1i64)),
        ] {
            let plan = join(JoinType::Left).filter(pred.clone()).unwrap().build();
            let out = run(plan);
            assert!(out.contains("Left Join"), "{pred}: {out}");
        }
    }

    #[test]
    fn full_join_becomes_one_sided_or_inner() {
        let on_a = join(JoinType::Full)
            .filter(col("a.y").eq(lit(1i64)))
            .unwrap()
            .build();
        assert!(
            run(on_a).contains("Left Join"),
            "a filter on a keeps the a rows"
        );
        let on_b = join(JoinType::Full)
            .filter(col("b.z").eq(lit(1i64)))
            .unwrap()
            .build();
        assert!(run(on_b).contains("Right Join"));
        let both = join(JoinType::Full)
            .filter(Expr::binary(col("a.y"), BinaryOp::Plus, col("b.z")).gt(lit(1i64)))
            .unwrap()
            .build();
        assert!(run(both).contains("Inner Join"));
        let either = join(JoinType::Full)
            .filter(col("a.y").eq(lit(1i64)).or(col("b.z").eq(lit(1i64))))
            .unwrap()
            .build();
        assert!(run(either).contains("Full Join"));
    }

    #[test]
    fn inner_join_condition_above_rejects_nulls_below() {
        // (a LEFT JOIN b) JOIN c ON b.z = c.w: rows with b NULL never match c
        let plan = join(JoinType::Left)
            .join(
                scan("c", &["w"]),
                JoinType::Inner,
                vec![(col("b.z"), col("c.w"))],
                None,
            )
            .unwrap()
            .build();
        let out = run(plan);
        assert!(!out.contains("Left Join"), "{out}");
        // a LEFT join's condition filters nothing on its preserved (left) side
        let plan = join(JoinType::Left)
            .join(
                scan("c", &["w"]),
                JoinType::Left,
                vec![(col("b.z"), col("c.w"))],
                None,
            )
            .unwrap()
            .build();
        assert_eq!(run(plan).matches("Left Join").count(), 2);
    }

    #[test]
    fn predicates_follow_aliases_and_preserved_sides() {
        let plan = join(JoinType::Left)
            .alias("t")
            .unwrap()
            .filter(col("t.z").eq(lit(3i64)))
            .unwrap()
            .build();
        assert!(run(plan).contains("Inner Join"));
        // (a LEFT JOIN b) LEFT JOIN c WHERE b.z = 1: the lower join becomes inner
        let plan = join(JoinType::Left)
            .join(
                scan("c", &["w"]),
                JoinType::Left,
                vec![(col("a.y"), col("c.w"))],
                None,
            )
            .unwrap()
            .filter(col("b.z").eq(lit(1i64)))
            .unwrap()
            .build();
        let out = run(plan);
        assert_eq!(out.matches("Left Join").count(), 1, "{out}");
        assert_eq!(out.matches("Inner Join").count(), 1, "{out}");
    }
}
