//! `DecorrelatePredicateSubquery`: turns `[NOT] EXISTS (subquery)` and
//! `x [NOT] IN (subquery)` conjuncts of a WHERE clause into semi and anti
//! joins. Correlated predicates (`inner.a = outer.b`, or any comparison)
//! are pulled out of the subquery's filters and become the join condition.
//! `NOT IN` keeps its NULL semantics with a null-aware anti join; a
//! correlated `NOT IN` is left to direct evaluation.

use std::sync::Arc;

use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::{Expr, Subquery};
use crate::logical::plan::{Filter, JoinType, LogicalPlan, SubqueryAlias};
use crate::logical::schema::PlanSchema;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::utils::{positional_map, replace_columns};

/// Rewrites EXISTS/IN predicates into semi/anti joins.
#[derive(Debug)]
pub struct DecorrelatePredicateSubquery;

impl OptimizerRule for DecorrelatePredicateSubquery {
    fn name(&self) -> &'static str {
        "decorrelate_predicate_subquery"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let out = plan.transform_up(|node| {
            let LogicalPlan::Filter(f) = node else {
                return Ok(Transformed::no(node));
            };
            Ok(rewrite_filter(f)?)
        })?;
        Ok(out)
    }
}

fn rewrite_filter(f: Filter) -> Result<Transformed<LogicalPlan>> {
    let conjuncts = f.predicate.clone().split_conjunction();
    if !conjuncts
        .iter()
        .any(|c| matches!(c, Expr::Exists { .. } | Expr::InSubquery { .. }))
    {
        return Ok(Transformed::no(LogicalPlan::Filter(f)));
    }
    let mut plan = f.input.as_ref().clone();
    let mut rest = vec![];
    let mut changed = false;
    for c in conjuncts {
        match to_join(&plan, &c)? {
            Some(joined) => {
                plan = joined;
                changed = true;
            }
            None => rest.push(c),
        }
    }
    if !changed {
        return Ok(Transformed::no(LogicalPlan::Filter(f)));
    }
    let plan = match Expr::conjunction(rest) {
        Some(p) => LogicalPlan::Filter(Filter::try_new(p, Arc::new(plan))?),
        None => plan,
    };
    Ok(Transformed::yes(plan))
}

/// The semi/anti join equivalent to filtering `outer` by `pred`, if there is one.
fn to_join(outer: &LogicalPlan, pred: &Expr) -> Result<Option<LogicalPlan>> {
    let (subquery, negated, in_expr) = match pred {
        Expr::Exists { subquery, negated } => (subquery, *negated, None),
        Expr::InSubquery {
            expr,
            subquery,
            negated,
        } => (subquery, *negated, Some(expr.as_ref())),
        _ => return Ok(None),
    };
    let Some(pulled) = pull_up(subquery, in_expr.is_some())? else {
        return Ok(None);
    };
    let correlated = !pulled.correlated.is_empty();
    // every outer reference must be a column of this very outer input (not of a query further out)
    let resolvable = pulled.correlated.iter().all(|c| {
        let mut ok = true;
        c.any(&mut |x| {
            if let Expr::OuterColumn(col, _) = x {
                ok &= outer.schema().has_column(col);
            }
            !ok
        });
        ok
    });
    if !resolvable {
        return Ok(None);
    }
    if negated && in_expr.is_some() && correlated {
        // correlated NOT IN needs per-group NULL checks: evaluated directly instead
        return Ok(None);
    }
    let mut inner = pulled.plan;
    let mut conditions = pulled.correlated;
    let mut value = pulled.value;
    // inner columns must not clash with outer ones: requalify the inner side if needed
    if clashes(outer.schema(), inner.schema()) {
        if has_duplicate_names(inner.schema()) {
            return Ok(None);
        }
        let alias = unique_alias(outer.schema());
        let aliased =
            LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(Arc::new(inner.clone()), alias)?);
        let map = positional_map(inner.schema(), aliased.schema());
        conditions = conditions
            .into_iter()
            .map(|c| replace_columns(c, &map))
            .collect::<Result<Vec<_>>>()?;
        value = value.map(|v| replace_columns(v, &map)).transpose()?;
        inner = aliased;
    }
    // outer references become plain columns of the (now joined) outer side
    let conditions = conditions
        .into_iter()
        .map(unouter)
        .collect::<Result<Vec<_>>>()?;
    let mut on = vec![];
    if let (Some(x), Some(v)) = (in_expr, value) {
        on.push((x.clone(), v));
    }
    let cond = Expr::conjunction(conditions);
    let (keys, filter) = match cond {
        Some(c) => crate::logical::builder::split_join_condition(c, outer.schema(), inner.schema()),
        None => (vec![], None),
    };
    on.extend(keys);
    let join_type = if negated {
        JoinType::LeftAnti
    } else {
        JoinType::LeftSemi
    };
    let b = LogicalPlanBuilder::from(outer.clone()).join_detailed(
        Arc::new(inner),
        join_type,
        on,
        filter,
        false,
    )?;
    let mut plan = b.build();
    if negated
        && in_expr.is_some()
        && let LogicalPlan::Join(j) = &mut plan
    {
        j.null_aware = true;
    }
    Ok(Some(plan))
}

/// The subquery with its correlated predicates pulled out.
struct Pulled {
    /// The uncorrelated remainder.
    plan: LogicalPlan,
    /// Conjuncts that mention outer columns.
    correlated: Vec<Expr>,
    /// For IN: the subquery's value expression over `plan`'s columns.
    value: Option<Expr>,
}

fn pull_up(subquery: &Subquery, want_value: bool) -> Result<Option<Pulled>> {
    let mut plan = subquery.plan.as_ref().clone();
    let mut value = None;
    // the value of IN: the top projection's single expression
    if want_value {
        match &plan {
            LogicalPlan::Projection(p) if p.exprs.len() == 1 => {
                value = Some(p.exprs[0].unaliased().clone());
                plan = p.input.as_ref().clone();
            }
            _ => value = Some(Expr::Column(plan.schema().column(0))),
        }
    } else {
        // EXISTS ignores the select list
        while let LogicalPlan::Projection(p) = &plan {
            if p.exprs.iter().any(|e| e.contains_subquery()) {
                break;
            }
            plan = p.input.as_ref().clone();
        }
    }
    let mut correlated = vec![];
    let plan = strip_correlated(plan, &mut correlated)?;
    if plan.has_outer_references() || value.as_ref().is_some_and(has_outer) {
        return Ok(None);
    }
    Ok(Some(Pulled {
        plan,
        correlated,
        value,
    }))
}

/// Removes correlated conjuncts from filters at the top of the plan (through aliases).
fn strip_correlated(plan: LogicalPlan, out: &mut Vec<Expr>) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Filter(f) => {
            let input = strip_correlated(f.input.as_ref().clone(), out)?;
            let mut keep = vec![];
            for c in f.predicate.split_conjunction() {
                if has_outer(&c) && !c.contains_subquery() {
                    out.push(c);
                } else {
                    keep.push(c);
                }
            }
            Ok(match Expr::conjunction(keep) {
                Some(p) => LogicalPlan::Filter(Filter::try_new(p, Arc::new(input))?),
                None => input,
            })
        }
        LogicalPlan::SubqueryAlias(a) => {
            let mut inner = vec![];
            let input = strip_correlated(a.input.as_ref().clone(), &mut inner)?;
            let aliased = SubqueryAlias::try_new_with_columns(Arc::new(input), a.alias, a.columns)?;
            let map = positional_map(aliased.input.schema(), &aliased.schema);
            for c in inner {
                out.push(replace_columns(c, &map)?);
            }
            Ok(LogicalPlan::SubqueryAlias(aliased))
        }
        other => Ok(other),
    }
}

fn has_outer(e: &Expr) -> bool {
    let mut found = false;
    e.any(&mut |x| {
        found |= matches!(x, Expr::OuterColumn(..));
        found
    });
    found
}

/// Turns outer references into plain column references.
fn unouter(e: Expr) -> Result<Expr> {
    Ok(e.transform_up(|x| {
        Ok(match x {
            Expr::OuterColumn(c, _) => Transformed::yes(Expr::Column(c)),
            other => Transformed::no(other),
        })
    })?
    .data)
}

fn clashes(a: &PlanSchema, b: &PlanSchema) -> bool {
    b.columns().iter().any(|c| a.has_column(c))
}

fn has_duplicate_names(s: &PlanSchema) -> bool {
    let mut names: Vec<&String> = s.iter().map(|(_, f)| f.name()).collect();
    names.sort();
    names.windows(2).any(|w| w[0] == w[1])
}

fn unique_alias(outer: &PlanSchema) -> String {
    let mut i = 1;
    loop {
        let a = format!("__sq{i}");
        if !outer
            .iter()
            .any(|(q, _)| q.map(|q| q.as_ref()) == Some(a.as_str()))
        {
            return a;
        }
        i += 1;
    }
}
