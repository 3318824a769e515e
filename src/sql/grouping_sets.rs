//! `GROUP BY ROLLUP (...)`, `CUBE (...)` and `GROUPING SETS (...)` (and MySQL's `WITH ROLLUP`
//! / `WITH CUBE`): the GROUP BY list becomes a list of grouping sets, the cross product of its
//! items' sets, and the query aggregates once per set:
//!
//! ```text
//! GROUP BY a, ROLLUP (b, c)   →  sets (a, b, c), (a, b), (a)
//!
//!   Union ALL ─┬─ Projection [a, b,    c,    aggs]  ← Aggregate by (a, b, c)
//!              ├─ Projection [a, b,    NULL, aggs]  ← Aggregate by (a, b)
//!              └─ Projection [a, NULL, NULL, aggs]  ← Aggregate by (a)
//! ```
//! The union has the columns an `Aggregate` by all keys would have (keys, then aggregates), so
//! the select list, HAVING and ORDER BY refer to it as to one. Each set's aggregate reads the
//! input again. `grouping(k, ...)` calls become one more column each, constant in each branch.

use sqlparser::ast::{self, GroupByExpr, GroupByWithModifier};

use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::Expr;
use crate::logical::plan::LogicalPlan;

/// Most grouping sets one GROUP BY may produce (`CUBE` of 12 items makes 4096).
pub const MAX_GROUPING_SETS: usize = 4096;

/// A GROUP BY clause resolved to expressions.
#[derive(Debug)]
pub struct GroupBy {
    /// Every distinct key, in order of first appearance.
    pub keys: Vec<Expr>,
    /// For ROLLUP / CUBE / GROUPING SETS, the sets, as indexes into `keys`; `None` for a plain
    /// GROUP BY (one set of all keys).
    pub sets: Option<Vec<Vec<usize>>>,
}

/// Resolves a GROUP BY clause; `resolve` turns one key expression (an ordinal, an alias or an
/// expression over the input) into a coerced expression.
pub fn resolve_group_by(
    group_by: &GroupByExpr,
    mut resolve: impl FnMut(&ast::Expr) -> Result<Expr>,
) -> Result<GroupBy> {
    let (items, modifiers) = match group_by {
        GroupByExpr::Expressions(items, modifiers) => (items, modifiers),
        GroupByExpr::All(_) => {
            return Ok(GroupBy {
                keys: vec![],
                sets: None,
            });
        }
    };
    let mut keys: Vec<Expr> = vec![];
    let index = |e: Expr, keys: &mut Vec<Expr>| match keys.iter().position(|k| *k == e) {
        Some(i) => i,
        None => {
            keys.push(e);
            keys.len() - 1
        }
    };
    // each item's alternatives: a plain key is one set of one key
    let mut per_item: Vec<Vec<Vec<usize>>> = vec![];
    let mut grouped = false;
    let mut resolve_list = |list: &[ast::Expr], keys: &mut Vec<Expr>| -> Result<Vec<usize>> {
        let mut out = vec![];
        for e in list {
            if matches!(
                e,
                ast::Expr::Rollup(_) | ast::Expr::Cube(_) | ast::Expr::GroupingSets(_)
            ) {
                return Err(Error::not_implemented(
                    "ROLLUP, CUBE or GROUPING SETS nested inside another one is not supported",
                ));
            }
            out.push(index(resolve(e)?, keys));
        }
        Ok(out)
    };
    for item in items {
        let alternatives = match item {
            ast::Expr::Rollup(lists) | ast::Expr::Cube(lists) | ast::Expr::GroupingSets(lists) => {
                grouped = true;
                let lists = lists
                    .iter()
                    .map(|l| resolve_list(l, &mut keys))
                    .collect::<Result<Vec<_>>>()?;
                match item {
                    ast::Expr::Rollup(_) => rollup(&lists),
                    ast::Expr::Cube(_) => cube(&lists)?,
                    // GROUPING SETS lists its sets
                    _ => lists,
                }
            }
            e => vec![resolve_list(std::slice::from_ref(e), &mut keys)?],
        };
        per_item.push(alternatives);
    }
    match modifiers.as_slice() {
        [] => {}
        [m @ (GroupByWithModifier::Rollup | GroupByWithModifier::Cube)] => {
            if grouped {
                return Err(Error::plan(format!(
                    "{m} cannot be combined with ROLLUP, CUBE or GROUPING SETS"
                )));
            }
            // `GROUP BY a, b WITH ROLLUP` is `GROUP BY ROLLUP (a, b)`
            let elements: Vec<Vec<usize>> = per_item.into_iter().flatten().collect();
            per_item = vec![if matches!(m, GroupByWithModifier::Rollup) {
                rollup(&elements)
            } else {
                cube(&elements)?
            }];
            grouped = true;
        }
        [m, ..] => {
            return Err(Error::not_implemented(format!(
                "GROUP BY ... {m} is not supported"
            )));
        }
    }
    if !grouped {
        return Ok(GroupBy { keys, sets: None });
    }
    // the cross product of the items' alternatives
    let mut sets: Vec<Vec<usize>> = vec![vec![]];
    for alternatives in per_item {
        if sets.len().saturating_mul(alternatives.len()) > MAX_GROUPING_SETS {
            return Err(Error::plan(format!(
                "GROUP BY makes more than {MAX_GROUPING_SETS} grouping sets"
            )));
        }
        sets = sets
            .iter()
            .flat_map(|s| {
                alternatives.iter().map(move |a| {
                    let mut set = s.clone();
                    for k in a {
                        if !set.contains(k) {
                            set.push(*k);
                        }
                    }
                    set
                })
            })
            .collect();
    }
    Ok(GroupBy {
        keys,
        sets: Some(sets),
    })
}

/// `ROLLUP (e1, ..., en)`: the sets (e1..en), (e1..en-1), ..., ().
fn rollup(elements: &[Vec<usize>]) -> Vec<Vec<usize>> {
    (0..=elements.len())
        .rev()
        .map(|n| elements[..n].concat())
        .collect()
}

/// `CUBE (e1, ..., en)`: every subset of the elements.
fn cube(elements: &[Vec<usize>]) -> Result<Vec<Vec<usize>>> {
    if elements.len() > MAX_GROUPING_SETS.trailing_zeros() as usize {
        return Err(Error::plan(format!(
            "CUBE of {} items makes more than {MAX_GROUPING_SETS} grouping sets",
            elements.len()
        )));
    }
    let n = elements.len();
    Ok((0..1usize << n)
        .rev()
        .map(|mask| {
            (0..n)
                .filter(|i| mask & (1 << (n - 1 - i)) != 0)
                .flat_map(|i| elements[i].iter().copied())
                .collect()
        })
        .collect())
}

/// Adds the `grouping(...)` calls in `e` to `out` (once each).
pub fn collect_grouping_calls(e: &Expr, out: &mut Vec<Expr>) {
    e.any(&mut |x| {
        if is_grouping_call(x) && !out.contains(x) {
            out.push(x.clone());
        }
        false
    });
}

fn is_grouping_call(e: &Expr) -> bool {
    matches!(e, Expr::ScalarFunction(f) if f.func.name() == "grouping")
}

/// The value of a `grouping(k1, ..., kn)` call in the rows of grouping set `set`: bit `n-1-i`
/// is set when `ki` is not in the set.
fn grouping_value(call: &Expr, keys: &[Expr], set: &[usize]) -> Result<i64> {
    let Expr::ScalarFunction(f) = call else {
        return Err(Error::internal("not a grouping() call"));
    };
    let mut bits = 0i64;
    for arg in &f.args {
        let k = keys.iter().position(|k| k == arg).ok_or_else(|| {
            Error::plan(format!(
                "arguments of GROUPING() must be GROUP BY expressions: {arg} is not"
            ))
        })?;
        bits = (bits << 1) | i64::from(!set.contains(&k));
    }
    Ok(bits)
}

/// Aggregates `input` once per grouping set and unions the results, with the columns of an
/// aggregate by all `keys` (a key outside a row's set is NULL there), then one column per
/// `grouping(...)` call in `groupings`.
pub fn plan_grouping_sets(
    input: LogicalPlan,
    keys: &[Expr],
    sets: &[Vec<usize>],
    aggregates: &[Expr],
    groupings: &[Expr],
) -> Result<LogicalPlan> {
    // the names and types of an aggregate by every key
    let full = LogicalPlanBuilder::from(input.clone())
        .aggregate(keys.to_vec(), aggregates.to_vec())?
        .build();
    let full = full.schema().clone();
    let mut union: Option<LogicalPlanBuilder> = None;
    for set in sets {
        let set_keys: Vec<Expr> = set.iter().map(|&k| keys[k].clone()).collect();
        let agg = LogicalPlanBuilder::from(input.clone())
            .aggregate(set_keys, aggregates.to_vec())?
            .build();
        let schema = agg.schema().clone();
        let mut columns = Vec::with_capacity(keys.len() + aggregates.len());
        for (k, _) in keys.iter().enumerate() {
            let value = match set.iter().position(|&s| s == k) {
                Some(i) => Expr::Column(schema.column(i)),
                None => Expr::Literal(ScalarValue::try_from(full.data_type(k))?),
            };
            // keys by their qualified names, so `t1.a` and `t2.a` stay apart
            columns.push(value.alias(full.column(k).flat_name()));
        }
        for j in 0..aggregates.len() {
            let name = full.field(keys.len() + j).name().clone();
            columns.push(Expr::Column(schema.column(set.len() + j)).alias(name));
        }
        for g in groupings {
            let value = Expr::Literal(ScalarValue::Int64(Some(grouping_value(g, keys, set)?)));
            columns.push(value.alias(g.to_string()));
        }
        let branch = LogicalPlanBuilder::from(agg).project(columns)?.build();
        union = Some(match union {
            None => LogicalPlanBuilder::from(branch),
            Some(u) => u.union(branch)?,
        });
    }
    union
        .map(|u| u.build())
        .ok_or_else(|| Error::internal("GROUP BY without grouping sets"))
}
