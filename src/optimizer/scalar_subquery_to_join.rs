//! `ScalarSubqueryToJoin`: a correlated scalar subquery that aggregates,
//! correlated by equalities (`(SELECT avg(x) FROM t WHERE t.k = outer.k)`),
//! becomes a LEFT JOIN with the aggregate grouped by the correlation keys.
//! An aggregate whose value over no rows is not NULL (`count`) keeps its
//! meaning through a marker column: no match gives the empty-input value.

use std::sync::Arc;

use datafusion_common::ScalarValue;
use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::{BinaryOp, Expr};
use crate::logical::plan::{JoinType, LogicalPlan};
use crate::logical::tree_node::map_expressions;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::simplify_expressions::simplify_expr;
use crate::optimizer::utils::replace_columns;

/// Rewrites correlated aggregate scalar subqueries into left joins.
#[derive(Debug)]
pub struct ScalarSubqueryToJoin;

impl OptimizerRule for ScalarSubqueryToJoin {
    fn name(&self) -> &'static str {
        "scalar_subquery_to_join"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let mut counter = 0usize;
        let out = plan.transform_up(|node| {
            if !matches!(node, LogicalPlan::Filter(_) | LogicalPlan::Projection(_)) {
                return Ok(Transformed::no(node));
            }
            Ok(rewrite_node(node, &mut counter)?)
        })?;
        Ok(out)
    }
}

/// What replaces one subquery.
struct Rewrite {
    join_right: LogicalPlan,
    on: Vec<(Expr, Expr)>,
    replacement: Expr,
}

fn rewrite_node(node: LogicalPlan, counter: &mut usize) -> Result<Transformed<LogicalPlan>> {
    let input = node.inputs()[0].clone();
    let mut candidates = vec![];
    for e in node.expressions() {
        e.any(&mut |x| {
            if let Expr::ScalarSubquery(sq) = x
                && sq.plan.has_outer_references()
                && !candidates.contains(x)
            {
                candidates.push(x.clone());
            }
            false
        });
    }
    if candidates.is_empty() {
        return Ok(Transformed::no(node));
    }
    // a projection over a sort keeps the sort on top: the joins go below it, so the order holds
    let (mut plan, sort_above) = match (input.as_ref(), &node) {
        (LogicalPlan::Sort(s), LogicalPlan::Projection(_)) => {
            (s.input.as_ref().clone(), Some(s.clone()))
        }
        (other, _) => (other.clone(), None),
    };
    let mut replaced: Vec<(Expr, Expr)> = vec![];
    for c in candidates {
        let Expr::ScalarSubquery(sq) = &c else {
            continue;
        };
        *counter += 1;
        let alias = format!("__ssq{counter}");
        let Some(rw) = analyze(&sq.plan, &alias, plan.schema())? else {
            continue;
        };
        plan = LogicalPlanBuilder::from(plan)
            .join_detailed(Arc::new(rw.join_right), JoinType::Left, rw.on, None, false)?
            .build();
        replaced.push((c.clone(), rw.replacement));
    }
    if replaced.is_empty() {
        return Ok(Transformed::no(node));
    }
    let original_cols = input.schema().columns();
    let plan = match sort_above {
        Some(s) => LogicalPlan::Sort(crate::logical::plan::Sort {
            exprs: s.exprs,
            input: Arc::new(plan),
            fetch: s.fetch,
        }),
        None => plan,
    };
    let node = node.with_new_inputs(vec![Arc::new(plan)])?;
    let node = map_expressions(node, |e| {
        Ok(e.transform_down(|x| {
            Ok(match replaced.iter().find(|(from, _)| *from == x) {
                Some((_, to)) => Transformed::yes(to.clone()),
                None => Transformed::no(x),
            })
        })?
        .data)
    })?;
    // a filter passes its (now wider) input through: restore the original columns
    let node = match node {
        LogicalPlan::Filter(_) => LogicalPlanBuilder::from(node)
            .project(original_cols.into_iter().map(Expr::Column).collect())?
            .build(),
        other => other,
    };
    Ok(Transformed::yes(node))
}

/// Splits `a = b` into `(inner, outer)` when one side only uses outer references.
fn correlation_key(e: &Expr) -> Option<(Expr, Expr)> {
    let Expr::Binary(l, BinaryOp::Eq, r) = e else {
        return None;
    };
    let outer_only = |x: &Expr| {
        let mut has_outer = false;
        let mut has_inner = false;
        x.any(&mut |y| {
            match y {
                Expr::OuterColumn(..) => has_outer = true,
                Expr::Column(_) => has_inner = true,
                _ => {}
            }
            false
        });
        has_outer && !has_inner
    };
    let inner_only = |x: &Expr| {
        let mut has_outer = false;
        x.any(&mut |y| {
            has_outer |= matches!(y, Expr::OuterColumn(..));
            false
        });
        !has_outer && !x.contains_subquery()
    };
    if inner_only(l) && outer_only(r) {
        Some((l.as_ref().clone(), r.as_ref().clone()))
    } else if inner_only(r) && outer_only(l) {
        Some((r.as_ref().clone(), l.as_ref().clone()))
    } else {
        None
    }
}

fn analyze(
    sub: &LogicalPlan,
    alias: &str,
    outer: &crate::logical::schema::PlanSchema,
) -> Result<Option<Rewrite>> {
    // [Projection] -> Aggregate (no GROUP BY) -> correlated filters
    let (value_expr, agg) = match sub {
        LogicalPlan::Projection(p) if p.exprs.len() == 1 => match p.input.as_ref() {
            LogicalPlan::Aggregate(a) => (p.exprs[0].unaliased().clone(), a),
            _ => return Ok(None),
        },
        LogicalPlan::Aggregate(a) if a.aggr_exprs.len() == 1 && a.group_exprs.is_empty() => {
            (Expr::Column(a.schema.column(0)), a)
        }
        _ => return Ok(None),
    };
    if !agg.group_exprs.is_empty() || value_expr.contains_subquery() {
        return Ok(None);
    }
    let mut correlated = vec![];
    let inner = strip(agg.input.as_ref().clone(), &mut correlated)?;
    if correlated.is_empty() || inner.has_outer_references() {
        return Ok(None);
    }
    if agg.aggr_exprs.iter().any(|e| {
        let mut o = false;
        e.any(&mut |x| {
            o |= matches!(x, Expr::OuterColumn(..));
            o
        });
        o
    }) {
        return Ok(None);
    }
    let mut inner_keys = vec![];
    let mut outer_keys = vec![];
    for c in &correlated {
        match correlation_key(c) {
            Some((i, o)) => {
                inner_keys.push(i);
                outer_keys.push(o);
            }
            None => return Ok(None),
        }
    }
    // outer keys must be columns of the outer input
    let outer_keys = outer_keys
        .into_iter()
        .map(|o| {
            o.transform_up(|x| {
                Ok(match x {
                    Expr::OuterColumn(c, _) => Transformed::yes(Expr::Column(c)),
                    other => Transformed::no(other),
                })
            })
            .map(|t| t.data)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if outer_keys
        .iter()
        .any(|k| k.column_refs().iter().any(|c| !outer.has_column(c)))
    {
        return Ok(None);
    }
    // grouped aggregate: keys, then the aggregates
    let grouped = LogicalPlanBuilder::from(inner)
        .aggregate(inner_keys.clone(), agg.aggr_exprs.clone())?
        .build();
    let gs = grouped.schema().clone();
    let k = inner_keys.len();
    // the value expression referred to the old aggregate's outputs by position
    let old = agg.schema.clone();
    let value = replace_columns(value_expr.clone(), &|c| match old.find(c) {
        Ok(Some(i)) => Some(Expr::Column(gs.column(k + i))),
        _ => None,
    })?;
    let mut exprs: Vec<Expr> = (0..k)
        .map(|i| Expr::Column(gs.column(i)).alias(format!("__k{i}")))
        .collect();
    exprs.push(value.alias("__value"));
    exprs.push(Expr::Literal(ScalarValue::Boolean(Some(true))).alias("__m"));
    let right = LogicalPlanBuilder::from(grouped)
        .project(exprs)?
        .alias(alias)?
        .build();
    let rs = right.schema().clone();
    let on: Vec<(Expr, Expr)> = outer_keys
        .into_iter()
        .enumerate()
        .map(|(i, o)| (o, Expr::Column(rs.column(i))))
        .collect();
    // value over no rows: aggregates that are not NULL on empty input (count) give their empty value
    let empty_value = replace_columns(value_expr, &|c| match old.find(c) {
        Ok(Some(i)) => {
            let f = old.field(i);
            let v = match agg.aggr_exprs.get(i).map(|e| e.unaliased()) {
                Some(Expr::Aggregate(a)) if !a.func.null_on_empty() => ScalarValue::Int64(Some(0))
                    .cast_to(f.data_type())
                    .unwrap_or(ScalarValue::Int64(Some(0))),
                _ => ScalarValue::try_from(f.data_type()).unwrap_or(ScalarValue::Null),
            };
            Some(Expr::Literal(v))
        }
        _ => None,
    })?;
    let empty_value = simplify_expr(empty_value)?;
    let value_col = Expr::Column(rs.column(k));
    let replacement = match &empty_value {
        Expr::Literal(v) if v.is_null() => value_col,
        Expr::Literal(_) => Expr::Case {
            operand: None,
            when_then: vec![(
                Expr::IsNull(Box::new(Expr::Column(rs.column(k + 1)))),
                empty_value,
            )],
            else_expr: Some(Box::new(value_col)),
        },
        _ => return Ok(None),
    };
    Ok(Some(Rewrite {
        join_right: right,
        on,
        replacement,
    }))
}

/// Pulls correlated conjuncts out of filters at the top of `plan`.
fn strip(plan: LogicalPlan, out: &mut Vec<Expr>) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Filter(f) => {
            let input = strip(f.input.as_ref().clone(), out)?;
            let mut keep = vec![];
            for c in f.predicate.split_conjunction() {
                let mut has_outer = false;
                c.any(&mut |x| {
                    has_outer |= matches!(x, Expr::OuterColumn(..));
                    has_outer
                });
                if has_outer && !c.contains_subquery() {
                    out.push(c);
                } else {
                    keep.push(c);
                }
            }
            Ok(match Expr::conjunction(keep) {
                Some(p) => LogicalPlanBuilder::from(input).filter(p)?.build(),
                None => input,
            })
        }
        other => Ok(other),
    }
}
