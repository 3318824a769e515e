//! `ReorderJoins`: flattens trees of inner and cross joins (with the filters
//! between them) into a set of relations and conditions, then rebuilds a
//! left-deep tree greedily: start from the smallest relation with an equi-join
//! condition, and repeatedly join the relation connected to what is joined so
//! far whose join is estimated smallest — by an equality (a hash join) when
//! there is one, else by another condition (a nested-loop join). A cross join
//! happens only when no connected relation is left. Equalities implied by
//! those already applied (same column classes) are left out.
//! A projection on top restores the original column order.

use std::sync::Arc;

use datafusion_common::tree_node::Transformed;

use crate::error::Result;
use crate::logical::builder::LogicalPlanBuilder;
use crate::logical::expr::{BinaryOp, Expr};
use crate::logical::plan::{JoinType, LogicalPlan};
use crate::optimizer::infer_join_predicates::ColumnClasses;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::utils::is_movable;
use crate::physical::statistics::estimate_rows;

/// Reorders inner join groups.
#[derive(Debug)]
pub struct ReorderJoins;

impl OptimizerRule for ReorderJoins {
    fn name(&self) -> &'static str {
        "reorder_joins"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let before = plan.clone();
        let after = reorder(plan)?;
        let changed = after != before;
        Ok(Transformed::new_transformed(after, changed))
    }
}

fn is_inner_join(p: &LogicalPlan) -> bool {
    matches!(p, LogicalPlan::Join(j) if j.join_type == JoinType::Inner && !j.null_equals_null)
}

fn reorder(plan: LogicalPlan) -> Result<LogicalPlan> {
    let starts_group = match &plan {
        LogicalPlan::Join(_) => is_inner_join(&plan),
        LogicalPlan::Filter(f) => is_inner_join(&f.input),
        _ => false,
    };
    if !starts_group {
        let inputs = plan
            .inputs()
            .into_iter()
            .map(|i| reorder(i.as_ref().clone()).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        return if inputs.is_empty() {
            Ok(plan)
        } else {
            plan.with_new_inputs(inputs)
        };
    }
    let mut leaves = vec![];
    let mut conds = vec![];
    let mut above = vec![];
    flatten(plan.clone(), &mut leaves, &mut conds, &mut above)?;
    if leaves.len() < 3 {
        // nothing to choose between two relations; just recurse
        let inputs = plan
            .inputs()
            .into_iter()
            .map(|i| reorder(i.as_ref().clone()).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        return plan.with_new_inputs(inputs);
    }
    let original = plan.schema().clone();
    let rebuilt = greedy(leaves, conds)?;
    let mut b = LogicalPlanBuilder::from(rebuilt);
    if let Some(p) = Expr::conjunction(above) {
        b = b.filter(p)?;
    }
    // restore the original column order
    let exprs = original.columns().into_iter().map(Expr::Column).collect();
    Ok(b.project(exprs)?.build())
}

/// Collects the relations and conditions of an inner join group.
fn flatten(
    plan: LogicalPlan,
    leaves: &mut Vec<LogicalPlan>,
    conds: &mut Vec<Expr>,
    above: &mut Vec<Expr>,
) -> Result<()> {
    match plan {
        LogicalPlan::Join(j) if j.join_type == JoinType::Inner && !j.null_equals_null => {
            flatten(j.left.as_ref().clone(), leaves, conds, above)?;
            flatten(j.right.as_ref().clone(), leaves, conds, above)?;
            for (l, r) in j.on {
                conds.push(l.eq(r));
            }
            if let Some(f) = j.filter {
                conds.extend(f.split_conjunction());
            }
            Ok(())
        }
        LogicalPlan::Filter(f) if is_inner_join(&f.input) => {
            for c in f.predicate.split_conjunction() {
                if is_movable(&c) {
                    conds.push(c);
                } else {
                    above.push(c);
                }
            }
            flatten(f.input.as_ref().clone(), leaves, conds, above)
        }
        other => {
            leaves.push(reorder(other)?);
            Ok(())
        }
    }
}

/// Which leaves an expression's columns come from.
fn leaves_of(e: &Expr, leaves: &[LogicalPlan]) -> Vec<usize> {
    let mut out = vec![];
    for c in e.column_refs() {
        if let Some(i) = leaves.iter().position(|l| l.schema().has_column(c))
            && !out.contains(&i)
        {
            out.push(i);
        }
    }
    out
}

/// A relation to join next: its rank (no equality?, estimated rows), index, the joined plan and
/// the conditions it applies.
type Candidate = ((bool, usize), usize, LogicalPlan, Vec<usize>);

fn greedy(leaves: Vec<LogicalPlan>, conds: Vec<Expr>) -> Result<LogicalPlan> {
    let n = leaves.len();
    let sizes: Vec<usize> = leaves
        .iter()
        .map(|l| estimate_rows(l).unwrap_or(usize::MAX / 4))
        .collect();
    let cond_leaves: Vec<Vec<usize>> = conds.iter().map(|c| leaves_of(c, &leaves)).collect();
    // equalities between expressions of different relations: usable as hash join keys
    let cond_equi: Vec<bool> = conds
        .iter()
        .map(|c| match c {
            Expr::Binary(l, BinaryOp::Eq, r) => {
                let (a, b) = (leaves_of(l, &leaves), leaves_of(r, &leaves));
                !a.is_empty() && !b.is_empty() && a.iter().all(|x| !b.contains(x))
            }
            _ => false,
        })
        .collect();
    let mut used = vec![false; n];
    let mut cond_used = vec![false; conds.len()];
    // start with the smallest relation that takes part in some join condition (else the smallest)
    let equi_connected = |i: usize| {
        cond_leaves
            .iter()
            .zip(&cond_equi)
            .any(|(ls, equi)| *equi && ls.contains(&i))
    };
    let connected_somewhere = |i: usize| {
        cond_leaves
            .iter()
            .any(|ls| ls.len() >= 2 && ls.contains(&i))
    };
    let start = (0..n)
        .filter(|i| equi_connected(*i))
        .min_by_key(|i| sizes[*i])
        .or_else(|| {
            (0..n)
                .filter(|i| connected_somewhere(*i))
                .min_by_key(|i| sizes[*i])
        })
        .or_else(|| (0..n).min_by_key(|i| sizes[*i]))
        .unwrap_or(0);
    used[start] = true;
    let mut plan = leaves[start].clone();
    let mut classes = ColumnClasses::default();
    for _ in 1..n {
        // among relations connected to the joined set, take the one whose join is smallest
        let applicable = |i: usize, used: &[bool], cond_used: &[bool]| -> Vec<usize> {
            cond_leaves
                .iter()
                .enumerate()
                .filter(|(k, ls)| {
                    !cond_used[*k] && ls.contains(&i) && ls.iter().all(|x| *x == i || used[*x])
                })
                .map(|(k, _)| k)
                .collect()
        };
        // equalities implied by those applied so far (inferred ones, `InferJoinPredicates`)
        // are left out: they would only add redundant hash keys
        let useful = |conds_i: &[usize]| -> Vec<usize> {
            let mut c = classes.clone();
            conds_i
                .iter()
                .copied()
                .filter(|k| c.apply(&conds[*k]))
                .collect()
        };
        // a relation joined by an equality (a hash join) beats one joined by another
        // condition only (a nested-loop join); among those, the smallest result wins
        let mut best: Option<Candidate> = None;
        for i in (0..n).filter(|i| !used[*i]) {
            let conds_i = applicable(i, &used, &cond_used);
            let connecting = |k: &&usize| cond_leaves[**k].iter().any(|x| *x != i);
            if !conds_i.iter().any(|k| connecting(&k)) {
                continue;
            }
            let equi = conds_i.iter().filter(connecting).any(|k| cond_equi[*k]);
            let on = Expr::conjunction(useful(&conds_i).iter().map(|k| conds[*k].clone()));
            let candidate = LogicalPlanBuilder::from(plan.clone())
                .join_on(Arc::new(leaves[i].clone()), JoinType::Inner, on)?
                .build();
            let rows = estimate_rows(&candidate).unwrap_or(usize::MAX);
            let rank = (!equi, rows);
            if best.as_ref().is_none_or(|b| rank < b.0) {
                best = Some((rank, i, candidate, conds_i));
            }
        }
        let (next, joined, used_conds) = match best {
            Some((_, i, p, c)) => (i, p, c),
            None => {
                // nothing connected: cross join the smallest remaining relation
                let Some(i) = (0..n).filter(|i| !used[*i]).min_by_key(|i| sizes[*i]) else {
                    break;
                };
                let conds_i = applicable(i, &used, &cond_used);
                let on = Expr::conjunction(useful(&conds_i).iter().map(|k| conds[*k].clone()));
                let p = LogicalPlanBuilder::from(plan.clone())
                    .join_on(Arc::new(leaves[i].clone()), JoinType::Inner, on)?
                    .build();
                (i, p, conds_i)
            }
        };
        used[next] = true;
        for k in used_conds {
            cond_used[k] = true;
            classes.apply(&conds[k]);
        }
        plan = joined;
    }
    // conditions on a single relation or none (constants) go on top
    let rest: Vec<Expr> = conds
        .into_iter()
        .zip(cond_used)
        .filter(|(_, u)| !u)
        .map(|(c, _)| c)
        .collect();
    let mut b = LogicalPlanBuilder::from(plan);
    if let Some(p) = Expr::conjunction(rest) {
        b = b.filter(p)?;
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::expr_fn::{col, lit};
    use crate::optimizer::test_util::{optimize_with, scan_rows};

    fn run(plan: LogicalPlan) -> String {
        optimize_with(&ReorderJoins, plan)
    }

    /// `FROM t1, t2, ... WHERE pred` as the SQL planner builds it: cross joins under a filter.
    fn from_where(tables: Vec<LogicalPlan>, pred: Expr) -> LogicalPlan {
        let mut it = tables.into_iter();
        let mut b = LogicalPlanBuilder::from(it.next().expect("a table"));
        for t in it {
            b = b.cross_join(Arc::new(t)).expect("cross join");
        }
        b.filter(pred).expect("filter").build()
    }

    #[test]
    fn a_connected_order_has_no_cross_join() {
        // a and c are listed together but only connect through b
        let plan = from_where(
            vec![
                scan_rows("a", &["x"], 50),
                scan_rows("c", &["y"], 20),
                scan_rows("b", &["x", "y"], 100),
            ],
            col("a.x").eq(col("b.x")).and(col("b.y").eq(col("c.y"))),
        );
        let out = run(plan);
        assert!(!out.contains("CrossJoin"), "{out}");
        assert_eq!(out.matches("Inner Join").count(), 2, "{out}");
    }

    #[test]
    fn starts_from_the_smallest_connected_relation_and_joins_small_results_first() {
        // f (1000 rows) joins d1 (10) and d2 (500) on distinct keys
        let plan = from_where(
            vec![
                scan_rows("f", &["k1", "k2"], 1000),
                scan_rows("d2", &["k2"], 500),
                scan_rows("d1", &["k1"], 10),
            ],
            col("f.k1")
                .eq(col("d1.k1"))
                .and(col("f.k2").eq(col("d2.k2"))),
        );
        assert_eq!(
            run(plan),
            "Projection: f.k1, f.k2, d2.k2, d1.k1\
            \n  Inner Join: on=[f.k2 = d2.k2]\
            \n    Inner Join: on=[d1.k1 = f.k1]\
            \n      TableScan: d1\
            \n      TableScan: f\
            \n    TableScan: d2\n"
        );
    }

    #[test]
    fn filters_count_in_the_estimates() {
        // a filtered big table becomes smaller than an unfiltered one
        let big = LogicalPlanBuilder::from(scan_rows("big", &["k"], 1000))
            .filter(col("big.k").lt(lit(5i64)))
            .unwrap()
            .build();
        let plan = from_where(
            vec![
                scan_rows("mid", &["k"], 100),
                scan_rows("hub", &["k"], 1000),
                big,
            ],
            col("mid.k")
                .eq(col("hub.k"))
                .and(col("hub.k").eq(col("big.k"))),
        );
        let out = run(plan);
        let first_scan = out
            .lines()
            .find(|l| l.trim_start().starts_with("TableScan") || l.contains("Filter"))
            .unwrap_or_default();
        assert!(first_scan.contains("big"), "{out}");
    }

    #[test]
    fn inferred_equalities_add_no_redundant_keys() {
        // a.x = b.x, b.x = c.x and the inferred a.x = c.x: two joins, one key each
        let plan = from_where(
            vec![
                scan_rows("a", &["x"], 10),
                scan_rows("b", &["x"], 20),
                scan_rows("c", &["x"], 30),
            ],
            col("a.x")
                .eq(col("b.x"))
                .and(col("b.x").eq(col("c.x")))
                .and(col("a.x").eq(col("c.x"))),
        );
        let out = run(plan);
        assert!(
            out.lines()
                .filter(|l| l.contains("Join"))
                .all(|l| !l.contains(", ")),
            "a join with two keys:\n{out}"
        );
        assert!(
            !out.contains("Filter"),
            "an implied equality left over:\n{out}"
        );
    }
}
