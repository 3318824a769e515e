//! `PushDownFilter`: moves each conjunct of a filter as close to the data as
//! it can go — through projections (substituting their expressions), aliases,
//! unions, sorts and aggregates (conjuncts on group keys) — into joins (where
//! conjuncts on both sides become join conditions, and equalities become hash
//! keys) and into scans (kept there for row-group pruning). Outer joins keep
//! their semantics: a conjunct on the NULL-supplying side stays above the join.

use std::sync::Arc;

use datafusion_common::tree_node::Transformed;

use crate::error::Result;
use crate::logical::builder::split_join_condition;
use crate::logical::expr::Expr;
use crate::logical::plan::*;
use crate::logical::schema::PlanSchema;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::utils::{expr_columns, is_movable, positional_map, replace_columns};

/// Pushes filters down.
#[derive(Debug)]
pub struct PushDownFilter;

impl OptimizerRule for PushDownFilter {
    fn name(&self) -> &'static str {
        "push_down_filter"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let before = plan.clone();
        let after = push(plan, vec![])?;
        let changed = after != before;
        Ok(Transformed::new_transformed(after, changed))
    }
}

/// Puts the predicates that could not go lower in a filter on top of `plan`.
fn wrap(plan: LogicalPlan, preds: Vec<Expr>) -> Result<LogicalPlan> {
    let mut unique: Vec<Expr> = vec![];
    for p in preds {
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    match Expr::conjunction(unique) {
        Some(p) => Ok(LogicalPlan::Filter(Filter::try_new(p, Arc::new(plan))?)),
        None => Ok(plan),
    }
}

fn push_arc(input: &Arc<LogicalPlan>, preds: Vec<Expr>) -> Result<Arc<LogicalPlan>> {
    Ok(Arc::new(push(input.as_ref().clone(), preds)?))
}

/// Which sides of a join an expression's columns come from (outer references are constants here).
fn sides(e: &Expr, left: &PlanSchema, right: &PlanSchema) -> (bool, bool) {
    let mut l = false;
    let mut r = false;
    for c in e.column_refs() {
        if left.has_column(c) {
            l = true;
        } else if right.has_column(c) {
            r = true;
        } else {
            // a column from further out (correlated): treat as both, so it stays put
            l = true;
            r = true;
        }
    }
    (l, r)
}

/// Pushes `preds` (conjuncts over `plan`'s output) into `plan`.
pub fn push(plan: LogicalPlan, preds: Vec<Expr>) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Filter(f) => {
            let mut all = preds;
            all.extend(f.predicate.split_conjunction());
            push(f.input.as_ref().clone(), all)
        }
        LogicalPlan::Projection(p) => {
            let schema = p.schema.clone();
            let mut below = vec![];
            let mut above = vec![];
            for pr in preds {
                if !is_movable(&pr) {
                    above.push(pr);
                    continue;
                }
                let exprs = &p.exprs;
                let substituted = replace_columns(pr.clone(), &|c| match schema.find(c) {
                    Ok(Some(i)) => Some(exprs[i].unaliased().clone()),
                    _ => None,
                })?;
                if is_movable(&substituted)
                    && expr_columns(&substituted)
                        .iter()
                        .all(|c| p.input.schema().has_column(c))
                {
                    below.push(substituted);
                } else {
                    above.push(pr);
                }
            }
            let input = push_arc(&p.input, below)?;
            wrap(
                LogicalPlan::Projection(Projection::try_new(p.exprs, input)?),
                above,
            )
        }
        LogicalPlan::SubqueryAlias(a) => {
            let map = positional_map(&a.schema, a.input.schema());
            let mut below = vec![];
            let mut above = vec![];
            for pr in preds {
                if !is_movable(&pr) {
                    above.push(pr);
                    continue;
                }
                below.push(replace_columns(pr, &map)?);
            }
            let input = push_arc(&a.input, below)?;
            wrap(
                LogicalPlan::SubqueryAlias(SubqueryAlias::try_new_with_columns(
                    input, a.alias, a.columns,
                )?),
                above,
            )
        }
        LogicalPlan::Aggregate(a) => {
            let schema = a.schema.clone();
            let g = a.group_exprs.len();
            let mut below = vec![];
            let mut above = vec![];
            for pr in preds {
                let cols = expr_columns(&pr);
                let on_keys = cols
                    .iter()
                    .all(|c| matches!(schema.find(c), Ok(Some(i)) if i < g));
                if on_keys && is_movable(&pr) && !cols.is_empty() {
                    let groups = &a.group_exprs;
                    below.push(replace_columns(pr, &|c| match schema.find(c) {
                        Ok(Some(i)) if i < g => Some(groups[i].unaliased().clone()),
                        _ => None,
                    })?);
                } else {
                    above.push(pr);
                }
            }
            let input = push_arc(&a.input, below)?;
            wrap(
                LogicalPlan::Aggregate(Aggregate::try_new(input, a.group_exprs, a.aggr_exprs)?),
                above,
            )
        }
        LogicalPlan::Sort(s) if s.fetch.is_none() => {
            let (below, above): (Vec<_>, Vec<_>) = preds.into_iter().partition(is_movable);
            let input = push_arc(&s.input, below)?;
            wrap(
                LogicalPlan::Sort(Sort {
                    exprs: s.exprs,
                    input,
                    fetch: None,
                }),
                above,
            )
        }
        LogicalPlan::Repartition(r) => {
            let (below, above): (Vec<_>, Vec<_>) = preds.into_iter().partition(is_movable);
            let input = push_arc(&r.input, below)?;
            wrap(
                LogicalPlan::Repartition(Repartition {
                    input,
                    scheme: r.scheme,
                }),
                above,
            )
        }
        LogicalPlan::Union(u) => {
            let (movable, above): (Vec<_>, Vec<_>) = preds.into_iter().partition(is_movable);
            let mut inputs = vec![];
            for i in &u.inputs {
                let map = positional_map(&u.schema, i.schema());
                let mapped = movable
                    .iter()
                    .map(|p| replace_columns(p.clone(), &map))
                    .collect::<Result<Vec<_>>>()?;
                inputs.push(push_arc(i, mapped)?);
            }
            wrap(
                LogicalPlan::Union(Union {
                    inputs,
                    schema: u.schema,
                }),
                above,
            )
        }
        LogicalPlan::Join(j) => push_join(j, preds),
        LogicalPlan::TableScan(mut t) => {
            for p in &preds {
                if is_movable(p)
                    && !t.filters.contains(p)
                    && expr_columns(p).iter().all(|c| t.schema.has_column(c))
                {
                    t.filters.push(p.clone());
                }
            }
            wrap(LogicalPlan::TableScan(t), preds)
        }
        other => {
            // nodes filters cannot pass (limits, windows, leaves): optimize below, keep preds here
            let inputs = other
                .inputs()
                .into_iter()
                .map(|i| push_arc(i, vec![]))
                .collect::<Result<Vec<_>>>()?;
            let node = if inputs.is_empty() {
                other
            } else {
                other.with_new_inputs(inputs)?
            };
            wrap(node, preds)
        }
    }
}

fn push_join(j: Join, preds: Vec<Expr>) -> Result<LogicalPlan> {
    let ls = j.left.schema().clone();
    let rs = j.right.schema().clone();
    let jt = j.join_type;
    let mut left = vec![];
    let mut right = vec![];
    let mut cond = vec![];
    let mut above = vec![];
    // predicates from above the join
    for p in preds {
        if !is_movable(&p) {
            above.push(p);
            continue;
        }
        let (l, r) = sides(&p, &ls, &rs);
        match (jt, l, r) {
            (_, false, false) => above.push(p),
            (JoinType::Inner, true, false) => left.push(p),
            (JoinType::Inner, false, true) => right.push(p),
            (JoinType::Inner, true, true) => cond.push(p),
            (JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti, true, false) => left.push(p),
            (JoinType::Right | JoinType::RightSemi | JoinType::RightAnti, false, true) => {
                right.push(p)
            }
            _ => above.push(p),
        }
    }
    // the join's own condition
    let mut keep = vec![];
    if let Some(f) = j.filter.clone() {
        for p in f.split_conjunction() {
            if !is_movable(&p) {
                keep.push(p);
                continue;
            }
            let (l, r) = sides(&p, &ls, &rs);
            match (jt, l, r) {
                (JoinType::Inner | JoinType::LeftSemi | JoinType::RightSemi, true, false) => {
                    left.push(p)
                }
                (JoinType::Inner | JoinType::LeftSemi | JoinType::RightSemi, false, true) => {
                    right.push(p)
                }
                (JoinType::Left | JoinType::LeftAnti, false, true) => right.push(p),
                (JoinType::Right | JoinType::RightAnti, true, false) => left.push(p),
                _ => keep.push(p),
            }
        }
    }
    keep.extend(cond);
    let new_left = push_arc(&j.left, left)?;
    let new_right = push_arc(&j.right, right)?;
    let mut on = j.on.clone();
    let filter = match Expr::conjunction(keep) {
        Some(f) => {
            let (keys, rest) = split_join_condition(f, &ls, &rs);
            for k in keys {
                // equality keys must have equal types (they do after coercion) and not repeat
                if !on.contains(&k) {
                    on.push(k);
                }
            }
            rest
        }
        None => None,
    };
    // keys whose types differ (e.g. from a comparison with a cast on one side) stay as a filter
    let (on, bad): (Vec<_>, Vec<_>) = on.into_iter().partition(
        |(l, r)| matches!((l.data_type(&ls), r.data_type(&rs)), (Ok(a), Ok(b)) if a == b),
    );
    let filter = Expr::conjunction(
        filter
            .into_iter()
            .chain(bad.into_iter().map(|(l, r)| l.eq(r))),
    );
    let mut nj = Join::try_new(new_left, new_right, on, filter, jt, j.null_equals_null)?;
    nj.null_aware = j.null_aware;
    wrap(LogicalPlan::Join(nj), above)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::builder::LogicalPlanBuilder;
    use crate::logical::expr_fn::{col, lit};
    use crate::optimizer::test_util::{optimize_with, scan};

    fn run(plan: LogicalPlan) -> String {
        optimize_with(&PushDownFilter, plan)
    }

    fn join(jt: JoinType, on_filter: Option<Expr>, filter: Expr) -> LogicalPlan {
        LogicalPlanBuilder::from(scan("a", &["x", "y"]))
            .join(
                scan("b", &["u", "z"]),
                jt,
                vec![(col("a.x"), col("b.u"))],
                on_filter,
            )
            .unwrap()
            .filter(filter)
            .unwrap()
            .build()
    }

    #[test]
    fn filter_on_the_null_supplying_side_stays_above_a_left_join() {
        let plan = join(
            JoinType::Left,
            None,
            col("b.z").is_null().and(col("a.y").gt(lit(1i64))),
        );
        assert_eq!(
            run(plan),
            "Filter: b.z IS NULL\
            \n  Left Join: on=[a.x = b.u]\
            \n    Filter: a.y > 1\
            \n      TableScan: a filters=[a.y > 1]\
            \n    TableScan: b\n"
        );
    }

    #[test]
    fn filter_on_the_null_supplying_side_stays_above_a_right_or_full_join() {
        let plan = join(JoinType::Right, None, col("a.y").gt(lit(1i64)));
        assert!(run(plan).starts_with("Filter: a.y > 1\n  Right Join"));
        let plan = join(
            JoinType::Full,
            None,
            col("a.y").gt(lit(1i64)).and(col("b.z").gt(lit(2i64))),
        );
        assert!(run(plan).starts_with("Filter: a.y > 1 AND b.z > 2\n  Full Join"));
    }

    #[test]
    fn on_conditions_of_outer_joins_go_to_the_null_supplying_side_only() {
        // LEFT JOIN ... ON a.x = b.u AND b.z = 1 AND a.y = 2: b.z = 1 filters b before the
        // join; a.y = 2 must stay in the condition (unmatched a rows are kept)
        let plan = join(
            JoinType::Left,
            Some(col("b.z").eq(lit(1i64)).and(col("a.y").eq(lit(2i64)))),
            col("a.x").gt(lit(0i64)),
        );
        let out = run(plan);
        assert_eq!(
            out,
            "Left Join: on=[a.x = b.u] filter=a.y = 2\
            \n  Filter: a.x > 0\
            \n    TableScan: a filters=[a.x > 0]\
            \n  Filter: b.z = 1\
            \n    TableScan: b filters=[b.z = 1]\n"
        );
    }
}
