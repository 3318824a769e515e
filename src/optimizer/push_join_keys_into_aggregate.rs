//! `PushJoinKeysIntoAggregate`: when one side of an equi-join is an aggregate grouped by the
//! join keys, only the groups whose keys occur on the other side can ever match. If those
//! keys come from a small, filtered relation on the other side, the aggregate's input is
//! semi-joined with that relation first, so the aggregate only builds the groups it will be
//! asked for.
//!
//! ```text
//!  Join(L ⋈ Aggregate(group by k)(I))  on  L.c = k
//!   ─▶ Join(L ⋈ Aggregate(group by k)(I ⋉ S))  on  L.c = k,   I ⋉ S on  k = S.c
//! ```
//! `S` is the deepest subtree of `L` that produces `c` through filters, projections, aliases,
//! joins and group keys — so every value of `c` in `L` is a value of `c` in `S` — and that
//! restricts rows (a filter or a semi/inner join). This is how decorrelated scalar subqueries
//! (TPC-H Q2, Q17, Q20) aggregate a few thousand groups instead of every group in the table.
//! Groups removed never match: the rewrite keeps results exactly, for inner joins and for outer
//! joins whose preserved side is `L` (a removed group would have been unmatched there too).

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::expr::Expr;
use crate::logical::plan::{
    Aggregate, Filter, Join, JoinType, LogicalPlan, Projection, SubqueryAlias,
};
use crate::logical::schema::Column;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::physical::statistics::estimate_rows;

/// The reducing relation must be estimated smaller than the aggregate's input (it is
/// computed a second time, and it only pays when it leaves out groups).
const MIN_REDUCTION: usize = 1;

/// Semi-joins an aggregate's input with the join keys it will be matched against.
#[derive(Debug)]
pub struct PushJoinKeysIntoAggregate;

impl OptimizerRule for PushJoinKeysIntoAggregate {
    fn name(&self) -> &'static str {
        "push_join_keys_into_aggregate"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        Ok(plan.transform_up(|node| {
            let LogicalPlan::Join(j) = node else {
                return Ok(Transformed::no(node));
            };
            Ok(match reduce(&j)? {
                Some(reduced) => Transformed::yes(LogicalPlan::Join(reduced)),
                None => Transformed::no(LogicalPlan::Join(j)),
            })
        })?)
    }
}

/// The join with one aggregate side reduced, if the pattern applies.
fn reduce(j: &Join) -> Result<Option<Join>> {
    if j.null_equals_null || j.on.is_empty() {
        return Ok(None);
    }
    // (aggregate on the right, keys from the left) and the mirror image
    let right_ok = matches!(j.join_type, JoinType::Inner | JoinType::Left);
    let left_ok = matches!(j.join_type, JoinType::Inner | JoinType::Right);
    if right_ok {
        let keys = group_key_pairs(j.on.iter().map(|(l, r)| (l, r)), &j.right);
        if !keys.is_empty() {
            let (from, to): (Vec<_>, Vec<_>) = keys.into_iter().unzip();
            if let Some(right) = reduce_side(&j.right, &to, &j.left, &from)? {
                let mut out = j.clone();
                out.right = Arc::new(right);
                return Ok(Some(out));
            }
        }
    }
    if left_ok {
        let keys = group_key_pairs(j.on.iter().map(|(l, r)| (r, l)), &j.left);
        if !keys.is_empty() {
            let (from, to): (Vec<_>, Vec<_>) = keys.into_iter().unzip();
            if let Some(left) = reduce_side(&j.left, &to, &j.right, &from)? {
                let mut out = j.clone();
                out.left = Arc::new(left);
                return Ok(Some(out));
            }
        }
    }
    Ok(None)
}

/// The `(other side column, aggregate side column)` key pairs whose aggregate side is a group
/// key of the aggregate under `agg_side`. Reducing on some of the keys is enough: a group whose
/// values of those keys the other side lacks never matches (other keys, such as a scalar
/// subquery's value compared with `=`, need not be group keys).
fn group_key_pairs<'a>(
    on: impl Iterator<Item = (&'a Expr, &'a Expr)>,
    agg_side: &LogicalPlan,
) -> Vec<(Column, Column)> {
    on.filter_map(|(other, agg)| Some((as_column(other)?, as_column(agg)?)))
        .filter(|(_, agg)| aggregate_input_rows(agg_side, std::slice::from_ref(agg)).is_some())
        .collect()
}

fn as_column(e: &Expr) -> Option<Column> {
    match e.unaliased() {
        Expr::Column(c) => Some(c.clone()),
        _ => None,
    }
}

/// `agg_side` with its aggregate's input reduced by the values of `other_keys` in `other`.
fn reduce_side(
    agg_side: &LogicalPlan,
    agg_keys: &[Column],
    other: &LogicalPlan,
    other_keys: &[Column],
) -> Result<Option<LogicalPlan>> {
    let Some(input_rows) = aggregate_input_rows(agg_side, agg_keys) else {
        return Ok(None);
    };
    let Some((source, source_keys)) = key_source(other, other_keys) else {
        return Ok(None);
    };
    match estimate_rows(&source) {
        Some(n) if n.saturating_mul(MIN_REDUCTION) <= input_rows => {}
        _ => return Ok(None),
    }
    // the reducer: just the key columns of the source, under a name of its own
    let exprs = source_keys.iter().cloned().map(Expr::Column).collect();
    let projected = LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(source))?);
    let reducer = Arc::new(LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
        Arc::new(projected),
        "__join_keys",
    )?));
    with_reduced_aggregate(agg_side, agg_keys, &reducer)
}

/// Estimated input rows of the aggregate that `keys` lead to (through aliases and
/// projections), when each key is one of its group columns.
fn aggregate_input_rows(plan: &LogicalPlan, keys: &[Column]) -> Option<usize> {
    match plan {
        LogicalPlan::SubqueryAlias(a) => aggregate_input_rows(&a.input, &through_alias(a, keys)?),
        LogicalPlan::Projection(p) => aggregate_input_rows(&p.input, &through_projection(p, keys)?),
        LogicalPlan::Aggregate(g) => {
            group_keys(g, keys)?;
            estimate_rows(&g.input)
        }
        _ => None,
    }
}

/// Rebuilds `plan` (aliases and projections over an aggregate) with the aggregate's input
/// semi-joined with `reducer` on the group keys that `keys` lead to.
fn with_reduced_aggregate(
    plan: &LogicalPlan,
    keys: &[Column],
    reducer: &Arc<LogicalPlan>,
) -> Result<Option<LogicalPlan>> {
    Ok(match plan {
        LogicalPlan::SubqueryAlias(a) => {
            let Some(inner) = through_alias(a, keys) else {
                return Ok(None);
            };
            with_reduced_aggregate(&a.input, &inner, reducer)?
                .map(|input| {
                    SubqueryAlias::try_new_with_columns(
                        Arc::new(input),
                        a.alias.clone(),
                        a.columns.clone(),
                    )
                })
                .transpose()?
                .map(LogicalPlan::SubqueryAlias)
        }
        LogicalPlan::Projection(p) => {
            let Some(inner) = through_projection(p, keys) else {
                return Ok(None);
            };
            with_reduced_aggregate(&p.input, &inner, reducer)?
                .map(|input| Projection::try_new(p.exprs.clone(), Arc::new(input)))
                .transpose()?
                .map(LogicalPlan::Projection)
        }
        LogicalPlan::Aggregate(g) => {
            let Some(groups) = group_keys(g, keys) else {
                return Ok(None);
            };
            let on = groups
                .into_iter()
                .enumerate()
                .map(|(i, e)| (e, Expr::Column(reducer.schema().column(i))))
                .collect();
            let semi = crate::logical::LogicalPlanBuilder::from(g.input.clone())
                .join_detailed(reducer.clone(), JoinType::LeftSemi, on, None, false)?
                .build();
            Some(LogicalPlan::Aggregate(Aggregate::try_new(
                Arc::new(semi),
                g.group_exprs.clone(),
                g.aggr_exprs.clone(),
            )?))
        }
        _ => None,
    })
}

/// The group expressions that the output columns `keys` of `g` are.
fn group_keys(g: &Aggregate, keys: &[Column]) -> Option<Vec<Expr>> {
    keys.iter()
        .map(|k| {
            let i = g.schema.find(k).ok()??;
            g.group_exprs.get(i).map(|e| e.unaliased().clone())
        })
        .collect()
}

/// The input columns behind output columns of an alias.
fn through_alias(a: &SubqueryAlias, keys: &[Column]) -> Option<Vec<Column>> {
    keys.iter()
        .map(|k| Some(a.input.schema().column(a.schema.find(k).ok()??)))
        .collect()
}

/// The input columns behind output columns of a projection (plain column references only).
fn through_projection(p: &Projection, keys: &[Column]) -> Option<Vec<Column>> {
    keys.iter()
        .map(|k| as_column(p.exprs.get(p.schema.find(k).ok()??)?))
        .collect()
}

/// The deepest subtree of `plan` that produces every value of `keys` and restricts rows, with
/// the key columns as that subtree names them.
fn key_source(plan: &LogicalPlan, keys: &[Column]) -> Option<(LogicalPlan, Vec<Column>)> {
    let deeper = match plan {
        LogicalPlan::Filter(Filter { input, .. }) => key_source(input, keys),
        LogicalPlan::SubqueryAlias(a) => key_source(&a.input, &through_alias(a, keys)?),
        LogicalPlan::Projection(p) => key_source(&p.input, &through_projection(p, keys)?),
        LogicalPlan::Aggregate(g) => {
            let groups: Option<Vec<Column>> = group_keys(g, keys)?.iter().map(as_column).collect();
            key_source(&g.input, &groups?)
        }
        LogicalPlan::Join(j) if !j.null_equals_null => {
            let in_left = keys.iter().all(|k| j.left.schema().has_column(k));
            let in_right = keys.iter().all(|k| j.right.schema().has_column(k));
            if in_left && j.join_type.outputs_left() {
                key_source(&j.left, keys)
            } else if in_right && j.join_type.outputs_right() {
                key_source(&j.right, keys)
            } else {
                None
            }
        }
        _ => None,
    };
    deeper.or_else(|| restricts_rows(plan).then(|| (plan.clone(), keys.to_vec())))
}

/// Whether a node drops rows of its input by itself.
fn restricts_rows(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Filter(_) => true,
        LogicalPlan::Join(j) => matches!(
            j.join_type,
            JoinType::Inner | JoinType::LeftSemi | JoinType::RightSemi
        ),
        _ => false,
    }
}
