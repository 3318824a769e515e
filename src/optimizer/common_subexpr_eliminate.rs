//! `CommonSubexprEliminate`: an expression computed more than once by one
//! projection, aggregation or filter is computed once, in a projection beneath
//! it, and referred to by name. TPC-H Q1's `l_extendedprice * (1 - l_discount)`
//! appears in two aggregates; afterwards it is evaluated once per row:
//!
//! ```text
//! Aggregate: aggr=[sum(p * (1 - d)), sum(p * (1 - d) * (1 + t))]
//!   =>
//! Aggregate: aggr=[sum(__common_expr_1) AS .., sum(__common_expr_1 * (1 + t)) AS ..]
//!   Projection: p, t, p * (1 - d) AS __common_expr_1
//! ```
//!
//! A filter right over a scan is left as it is (the scan prunes with the same
//! predicate). Candidates are deterministic, free of subqueries, aggregates and windows,
//! read at least one column and are more than a column or literal. Branches of
//! `CASE` are not looked into: they are evaluated only for some rows, and
//! computing them for all could raise an error the query would not raise.
//! Aggregates with a `FILTER` are left alone for the same reason. The largest
//! repeated expression is taken first, then the search repeats.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::expr::Expr;
use crate::logical::plan::{Aggregate, Filter, LogicalPlan, Projection};
use crate::logical::schema::Column;
use crate::logical::tree_node::keep_name;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::utils::{expr_columns, is_movable};

/// Computes repeated subexpressions once.
#[derive(Debug)]
pub struct CommonSubexprEliminate;

impl OptimizerRule for CommonSubexprEliminate {
    fn name(&self) -> &'static str {
        "common_subexpr_eliminate"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let mut counter = 0usize;
        Ok(plan.transform_up(|node| Ok(eliminate(node, &mut counter)?))?)
    }
}

/// Prefix of the names given to extracted expressions.
const PREFIX: &str = "__common_expr_";

fn eliminate(node: LogicalPlan, counter: &mut usize) -> Result<Transformed<LogicalPlan>> {
    match node {
        LogicalPlan::Projection(p) => {
            let Some((exprs, input)) = extract(p.exprs.clone(), &p.input, false, counter)? else {
                return Ok(Transformed::no(LogicalPlan::Projection(p)));
            };
            Ok(Transformed::yes(LogicalPlan::Projection(
                Projection::try_new(exprs, input)?,
            )))
        }
        LogicalPlan::Aggregate(a) => {
            // aggregates with FILTER evaluate their arguments on some rows only
            let eligible = |e: &Expr| match e.unaliased() {
                Expr::Aggregate(call) => call.filter.is_none(),
                _ => false,
            };
            let g = a.group_exprs.len();
            let all: Vec<Expr> = a
                .group_exprs
                .iter()
                .chain(a.aggr_exprs.iter())
                .cloned()
                .collect();
            // keep group keys that are columns as they are: they carry their table's qualifier
            let mask: Vec<bool> = all
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    if i < g {
                        !matches!(e, Expr::Column(_))
                    } else {
                        eligible(e)
                    }
                })
                .collect();
            let Some((exprs, input)) = extract_masked(all, &mask, &a.input, false, counter)? else {
                return Ok(Transformed::no(LogicalPlan::Aggregate(a)));
            };
            let (groups, aggs) = exprs.split_at(g);
            Ok(Transformed::yes(LogicalPlan::Aggregate(
                Aggregate::try_new(input, groups.to_vec(), aggs.to_vec())?,
            )))
        }
        // a filter right over a scan stays there: it is the scan's pruning predicate too
        LogicalPlan::Filter(f) if !matches!(f.input.as_ref(), LogicalPlan::TableScan(_)) => {
            let conjuncts: Vec<Expr> = f.predicate.clone().split_conjunction();
            // the filter passes on every input column: the projection beneath keeps them all
            let Some((exprs, input)) = extract(conjuncts, &f.input, true, counter)? else {
                return Ok(Transformed::no(LogicalPlan::Filter(f)));
            };
            let Some(predicate) = Expr::conjunction(exprs.into_iter().map(Expr::unalias)) else {
                return Ok(Transformed::no(LogicalPlan::Filter(f)));
            };
            let filtered = LogicalPlan::Filter(Filter::try_new(predicate, input)?);
            // drop the extracted columns again: the filter's output schema stays the same
            let cols = f.input.schema().columns().into_iter().map(Expr::Column);
            Ok(Transformed::yes(LogicalPlan::Projection(
                Projection::try_new(cols.collect(), Arc::new(filtered))?,
            )))
        }
        other => Ok(Transformed::no(other)),
    }
}

fn extract(
    exprs: Vec<Expr>,
    input: &Arc<LogicalPlan>,
    keep_all: bool,
    counter: &mut usize,
) -> Result<Option<(Vec<Expr>, Arc<LogicalPlan>)>> {
    let mask = vec![true; exprs.len()];
    extract_masked(exprs, &mask, input, keep_all, counter)
}

/// Rewrites the expressions (those with `mask` set) to use the repeated subexpressions computed in
/// a projection over `input` (which passes on the input columns still read, or all with
/// `keep_all`); `None` when nothing repeats.
fn extract_masked(
    exprs: Vec<Expr>,
    mask: &[bool],
    input: &Arc<LogicalPlan>,
    keep_all: bool,
    counter: &mut usize,
) -> Result<Option<(Vec<Expr>, Arc<LogicalPlan>)>> {
    if input.has_outer_references() || exprs.iter().any(|e| e.contains_subquery()) {
        return Ok(None);
    }
    let mut current = exprs;
    let mut extracted: Vec<Expr> = vec![];
    loop {
        let mut counts: HashMap<&Expr, usize> = HashMap::new();
        for (e, m) in current.iter().zip(mask) {
            if *m {
                count(e, &mut counts);
            }
        }
        let best = counts
            .into_iter()
            .filter(|(_, n)| *n >= 2)
            .map(|(e, _)| e)
            .max_by_key(|e| (size(e), e.to_string()))
            .cloned();
        let Some(common) = best else { break };
        *counter += 1;
        let name = format!("{PREFIX}{counter}");
        let replacement = Expr::Column(Column::bare(name.clone()));
        current = current
            .into_iter()
            .zip(mask)
            .map(|(e, m)| {
                if *m {
                    keep_name(e, &mut |x| replace(x, &common, &replacement))
                } else {
                    Ok(e)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        extracted.push(common.alias(name));
    }
    if extracted.is_empty() {
        return Ok(None);
    }
    // the projection beneath: the input columns still read, then the common expressions
    let in_schema = input.schema();
    let mut used: HashSet<usize> = HashSet::new();
    for e in &current {
        for c in expr_columns(e) {
            if let Ok(Some(i)) = in_schema.find(&c) {
                used.insert(i);
            }
        }
    }
    let mut below: Vec<Expr> = (0..in_schema.len())
        .filter(|i| keep_all || used.contains(i))
        .map(|i| Expr::Column(in_schema.column(i)))
        .collect();
    below.extend(extracted);
    let projection = Projection::try_new(below, input.clone())?;
    Ok(Some((
        current,
        Arc::new(LogicalPlan::Projection(projection)),
    )))
}

/// Whether `e` may be computed once for all its occurrences.
fn is_candidate(e: &Expr) -> bool {
    !matches!(
        e,
        Expr::Column(_)
            | Expr::OuterColumn(..)
            | Expr::Literal(_)
            | Expr::Alias(..)
            | Expr::Wildcard(_)
            | Expr::Aggregate(_)
    ) && is_movable(e)
        && !e.column_refs().is_empty()
        && !e.any(&mut |x| matches!(x, Expr::OuterColumn(..)))
}

/// Counts candidate subexpressions of `e`, not looking into CASE branches.
fn count<'a>(e: &'a Expr, counts: &mut HashMap<&'a Expr, usize>) {
    if is_candidate(e) {
        *counts.entry(e).or_default() += 1;
    }
    match e {
        Expr::Case { operand, .. } => {
            if let Some(o) = operand {
                count(o, counts);
            }
        }
        other => {
            for c in other.children() {
                count(c, counts);
            }
        }
    }
}

fn size(e: &Expr) -> usize {
    1 + e.children().into_iter().map(size).sum::<usize>()
}

/// Replaces every occurrence of `common` in `e` (outside CASE branches) by `by`.
fn replace(e: Expr, common: &Expr, by: &Expr) -> Result<Expr> {
    if e == *common {
        return Ok(by.clone());
    }
    Ok(match e {
        Expr::Case {
            operand,
            when_then,
            else_expr,
        } => Expr::Case {
            operand: match operand {
                Some(o) => Some(Box::new(replace(*o, common, by)?)),
                None => None,
            },
            when_then,
            else_expr,
        },
        other => {
            other
                .map_children(|c| Ok(Transformed::yes(replace(c, common, by)?)))?
                .data
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::builder::LogicalPlanBuilder;
    use crate::logical::expr::BinaryOp;
    use crate::logical::expr_fn::{col, lit, when};
    use crate::optimizer::test_util::{optimize_with, scan};

    fn run(plan: LogicalPlan) -> String {
        optimize_with(&CommonSubexprEliminate, plan)
    }

    fn mul(a: Expr, b: Expr) -> Expr {
        Expr::binary(a, BinaryOp::Multiply, b)
    }
    fn minus(a: Expr, b: Expr) -> Expr {
        Expr::binary(a, BinaryOp::Minus, b)
    }

    #[test]
    fn q1_shape_computes_the_discounted_price_once() {
        let disc = mul(col("t.p"), minus(lit(1i64), col("t.d")));
        let plan = LogicalPlanBuilder::from(scan("t", &["k", "p", "d", "x"]))
            .aggregate(
                vec![col("t.k")],
                vec![
                    crate::functions::expr_fn::sum(disc.clone()),
                    crate::functions::expr_fn::sum(mul(
                        disc,
                        Expr::binary(lit(1i64), BinaryOp::Plus, col("t.x")),
                    )),
                ],
            )
            .unwrap()
            .build();
        assert_eq!(
            run(plan),
            "Aggregate: groupBy=[t.k], aggr=[sum(__common_expr_1) AS sum(t.p * (1 - t.d)), sum(__common_expr_1 * (1 + t.x)) AS sum(t.p * (1 - t.d) * (1 + t.x))]\
            \n  Projection: t.k, t.x, t.p * (1 - t.d) AS __common_expr_1\
            \n    TableScan: t\n"
        );
    }

    #[test]
    fn projections_keep_their_names_and_single_uses_stay() {
        let sum = Expr::binary(col("t.a"), BinaryOp::Plus, col("t.b"));
        let plan = LogicalPlanBuilder::from(scan("t", &["a", "b"]))
            .project(vec![
                sum.clone(),
                mul(sum.clone(), lit(2i64)).alias("twice"),
                minus(col("t.a"), col("t.b")),
            ])
            .unwrap()
            .build();
        assert_eq!(
            run(plan),
            "Projection: __common_expr_1 AS t.a + t.b, __common_expr_1 * 2 AS twice, t.a - t.b\
            \n  Projection: t.a, t.b, t.a + t.b AS __common_expr_1\
            \n    TableScan: t\n"
        );
        let plan = LogicalPlanBuilder::from(scan("t", &["a", "b"]))
            .project(vec![sum, col("t.a"), col("t.a")])
            .unwrap()
            .build();
        assert!(!run(plan).contains(PREFIX));
    }

    #[test]
    fn case_branches_and_volatile_calls_are_not_extracted() {
        let div = Expr::binary(lit(10i64), BinaryOp::Divide, col("t.a"));
        let guarded = when(col("t.a").not_eq(lit(0i64)), div.clone())
            .otherwise(lit(0i64))
            .alias("g");
        let plan = LogicalPlanBuilder::from(scan("t", &["a"]))
            .project(vec![
                guarded,
                when(col("t.a").gt(lit(1i64)), div).end().alias("h"),
            ])
            .unwrap()
            .build();
        assert!(!run(plan).contains(PREFIX));
    }

    #[test]
    fn filters_compute_once_and_keep_their_schema() {
        let sum = Expr::binary(col("t.a"), BinaryOp::Plus, col("t.b"));
        let plan = LogicalPlanBuilder::from(scan("t", &["a", "b"]))
            .sort(vec![col("t.a").sort(true, false)])
            .unwrap()
            .filter(sum.clone().gt(lit(1i64)).and(sum.clone().lt(lit(9i64))))
            .unwrap()
            .build();
        assert_eq!(
            run(plan),
            "Projection: t.a, t.b\
            \n  Filter: __common_expr_1 > 1 AND __common_expr_1 < 9\
            \n    Projection: t.a, t.b, t.a + t.b AS __common_expr_1\
            \n      Sort: t.a ASC NULLS LAST\
            \n        TableScan: t\n"
        );
        // over a scan, the filter stays as it is
        let plan = LogicalPlanBuilder::from(scan("t", &["a", "b"]))
            .filter(sum.clone().gt(lit(1i64)).and(sum.lt(lit(9i64))))
            .unwrap()
            .build();
        assert!(!run(plan).contains(PREFIX));
    }
}
