//! `InferJoinPredicates`: in a group of inner joins and the filters over them,
//! columns compared with `=` form equivalence classes (`a.x = b.x AND b.x = c.x`
//! puts `a.x`, `b.x`, `c.x` in one class). From them the rule derives
//! - the missing equalities (`a.x = c.x`), so the join order may join `a` with
//!   `c` directly (`ReorderJoins` skips equalities already implied by the joins
//!   made so far, so no redundant hash keys result), and
//! - copies of single-column comparisons with constants (`a.x = 5`,
//!   `a.x > 5`, `a.x BETWEEN 1 AND 9`, `a.x IN (1, 2)`, `a.x LIKE 'p%'`) for
//!   every other column of the class, so each side's scan filters (and prunes)
//!   by them.
//!
//! - from a disjunction over several relations, one per relation that every
//!   branch restricts (TPC-H Q7's `(n1.n_name = 'FRANCE' AND n2.n_name =
//!   'GERMANY') OR (..)` gives `n1.n_name = 'FRANCE' OR n1.n_name = 'GERMANY'`).
//!
//! The derived conjuncts go into a filter over the group; `PushDownFilter`
//! then moves each one to its place. Only rows that pass every condition of
//! the group leave it, so whatever holds on them may be added.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion_common::tree_node::Transformed;

use crate::error::Result;
use crate::logical::expr::{BinaryOp, Expr};
use crate::logical::plan::{Filter, JoinType, LogicalPlan};
use crate::logical::schema::{Column, PlanSchema};
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};
use crate::optimizer::utils::is_movable;

/// Derives equalities and constant filters from equivalence classes of join columns.
#[derive(Debug)]
pub struct InferJoinPredicates;

impl OptimizerRule for InferJoinPredicates {
    fn name(&self) -> &'static str {
        "infer_join_predicates"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let mut changed = false;
        let after = infer(plan, &mut changed)?;
        Ok(Transformed::new_transformed(after, changed))
    }
}

fn is_inner_join(p: &LogicalPlan) -> bool {
    matches!(p, LogicalPlan::Join(j) if j.join_type == JoinType::Inner && !j.null_equals_null)
}

fn infer(plan: LogicalPlan, changed: &mut bool) -> Result<LogicalPlan> {
    let starts_group = match &plan {
        LogicalPlan::Join(_) => is_inner_join(&plan),
        LogicalPlan::Filter(f) => is_inner_join(&f.input),
        _ => false,
    };
    if !starts_group {
        let inputs = plan
            .inputs()
            .into_iter()
            .map(|i| infer(i.as_ref().clone(), changed).map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        return if inputs.is_empty() {
            Ok(plan)
        } else {
            plan.with_new_inputs(inputs)
        };
    }
    let mut conjuncts = vec![];
    let mut leaves = 0usize;
    let plan = collect_group(plan, &mut conjuncts, &mut leaves, changed)?;
    let derived = derive(&conjuncts, plan.schema(), leaves > 2);
    if derived.is_empty() {
        return Ok(plan);
    }
    *changed = true;
    let (existing, input) = match plan {
        LogicalPlan::Filter(f) => (f.predicate.split_conjunction(), f.input),
        other => (vec![], Arc::new(other)),
    };
    match Expr::conjunction(existing.into_iter().chain(derived)) {
        Some(p) => Ok(LogicalPlan::Filter(Filter::try_new(p, input)?)),
        None => Ok(input.as_ref().clone()),
    }
}

/// Collects the conjuncts of the group rooted at `plan` (rewriting the relations it joins).
fn collect_group(
    plan: LogicalPlan,
    conjuncts: &mut Vec<Expr>,
    leaves: &mut usize,
    changed: &mut bool,
) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Join(j) if j.join_type == JoinType::Inner && !j.null_equals_null => {
            for (l, r) in &j.on {
                conjuncts.push(l.clone().eq(r.clone()));
            }
            if let Some(f) = &j.filter {
                conjuncts.extend(f.conjuncts().into_iter().cloned());
            }
            let left = collect_group(j.left.as_ref().clone(), conjuncts, leaves, changed)?;
            let right = collect_group(j.right.as_ref().clone(), conjuncts, leaves, changed)?;
            LogicalPlan::Join(j).with_new_inputs(vec![Arc::new(left), Arc::new(right)])
        }
        LogicalPlan::Filter(f) if is_inner_join(&f.input) => {
            conjuncts.extend(f.predicate.conjuncts().into_iter().cloned());
            let input = collect_group(f.input.as_ref().clone(), conjuncts, leaves, changed)?;
            Ok(LogicalPlan::Filter(Filter::try_new(
                f.predicate,
                Arc::new(input),
            )?))
        }
        other => {
            *leaves += 1;
            infer(other, changed)
        }
    }
}

/// `l = r` between two distinct columns.
fn column_equality(e: &Expr) -> Option<(&Column, &Column)> {
    match e {
        Expr::Binary(l, BinaryOp::Eq, r) => match (l.as_ref(), r.as_ref()) {
            (Expr::Column(a), Expr::Column(b)) if a != b => Some((a, b)),
            _ => None,
        },
        _ => None,
    }
}

/// Union-find over columns.
#[derive(Debug, Default, Clone)]
pub struct ColumnClasses {
    parent: HashMap<Column, Column>,
}

impl ColumnClasses {
    /// The representative of `c`'s class.
    pub fn find(&self, c: &Column) -> Column {
        let mut cur = c.clone();
        while let Some(p) = self.parent.get(&cur) {
            if *p == cur {
                break;
            }
            cur = p.clone();
        }
        cur
    }
    /// Puts `a` and `b` in one class; false when they already were.
    pub fn union(&mut self, a: &Column, b: &Column) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        self.parent.insert(ra, rb);
        true
    }
    /// Records a condition about to be applied: false when it is an equality of two columns
    /// already in one class (so it adds nothing), true otherwise (joining their classes).
    pub fn apply(&mut self, e: &Expr) -> bool {
        match column_equality(e) {
            Some((a, b)) => self.union(a, b),
            None => true,
        }
    }
}

/// The column a single-column comparison with constants tests, if `e` is one.
fn constant_filter_column(e: &Expr) -> Option<&Column> {
    let constant = |x: &Expr| matches!(x, Expr::Literal(v) if !v.is_null());
    match e {
        Expr::Binary(l, op, r) if op.is_comparison() => match (l.as_ref(), r.as_ref()) {
            (Expr::Column(c), x) | (x, Expr::Column(c)) if constant(x) => Some(c),
            _ => None,
        },
        Expr::Between {
            expr, low, high, ..
        } if constant(low) && constant(high) => match expr.as_ref() {
            Expr::Column(c) => Some(c),
            _ => None,
        },
        Expr::InList { expr, list, .. } if list.iter().all(constant) => match expr.as_ref() {
            Expr::Column(c) => Some(c),
            _ => None,
        },
        Expr::Like { expr, pattern, .. } if constant(pattern) => match expr.as_ref() {
            Expr::Column(c) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

fn disjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Binary(l, BinaryOp::Or, r) => {
            let mut v = disjuncts(l);
            v.extend(disjuncts(r));
            v
        }
        other => vec![other],
    }
}

/// The relation all of `e`'s columns belong to, if one.
fn only_relation(e: &Expr) -> Option<&str> {
    let cols = e.column_refs();
    let q = cols.first()?.relation.as_deref()?;
    cols.iter()
        .all(|c| c.relation.as_deref() == Some(q))
        .then_some(q)
}

/// For an OR over several relations, one implied OR per relation restricted by every branch.
fn per_relation_disjunctions(e: &Expr) -> Vec<Expr> {
    let branches = disjuncts(e);
    if branches.len() < 2 || only_relation(e).is_some() || e.contains_subquery() {
        return vec![];
    }
    let mut relations: Vec<&str> = vec![];
    for c in e.column_refs() {
        if let Some(q) = c.relation.as_deref()
            && !relations.contains(&q)
        {
            relations.push(q);
        }
    }
    let mut out = vec![];
    for q in relations {
        let parts: Option<Vec<Expr>> = branches
            .iter()
            .map(|b| {
                Expr::conjunction(
                    b.conjuncts()
                        .into_iter()
                        .filter(|c| only_relation(c) == Some(q))
                        .cloned(),
                )
            })
            .collect();
        if let Some(d) = parts.and_then(Expr::disjunction) {
            out.push(d);
        }
    }
    out
}

fn replace_column(e: &Expr, from: &Column, to: &Column) -> Expr {
    crate::optimizer::utils::replace_columns(e.clone(), &|c| {
        (c == from).then(|| Expr::Column(to.clone()))
    })
    .unwrap_or_else(|_| e.clone())
}

fn same_equality(a: &Expr, b: &Expr) -> bool {
    match (column_equality(a), column_equality(b)) {
        (Some((x1, y1)), Some((x2, y2))) => (x1 == x2 && y1 == y2) || (x1 == y2 && y1 == x2),
        _ => a == b,
    }
}

/// The conjuncts implied by `conjuncts` that are not among them. `across` allows equalities
/// between columns of different relations (useful to a join order over three or more).
fn derive(conjuncts: &[Expr], schema: &PlanSchema, across: bool) -> Vec<Expr> {
    let data_type = |c: &Column| schema.find(c).ok().flatten().map(|i| schema.data_type(i));
    let mut classes = ColumnClasses::default();
    let mut members: Vec<Column> = vec![];
    for e in conjuncts.iter().filter(|e| is_movable(e)) {
        if let Some((a, b)) = column_equality(e)
            && data_type(a).is_some()
            && data_type(a) == data_type(b)
        {
            classes.union(a, b);
            for c in [a, b] {
                if !members.contains(c) {
                    members.push(c.clone());
                }
            }
        }
    }
    let mut out: Vec<Expr> = vec![];
    let add = |e: Expr, out: &mut Vec<Expr>| {
        if !conjuncts
            .iter()
            .chain(out.iter())
            .any(|x| same_equality(x, &e))
        {
            out.push(e);
        }
    };
    // equalities between members of a class (within one relation always: they filter it)
    for (i, a) in members.iter().enumerate() {
        for b in &members[i + 1..] {
            let same_relation = a.relation == b.relation;
            if classes.find(a) == classes.find(b) && (across || same_relation) {
                add(
                    Expr::Column(a.clone()).eq(Expr::Column(b.clone())),
                    &mut out,
                );
            }
        }
    }
    // a disjunction over several relations implies, for each relation every branch restricts,
    // the disjunction of those restrictions: `(n1.a = 1 AND n2.b = 2) OR (n1.a = 3 AND ..)`
    // gives `n1.a = 1 OR n1.a = 3`, which filters n1 before the join
    for e in conjuncts.iter().filter(|e| is_movable(e)) {
        for d in per_relation_disjunctions(e) {
            add(d, &mut out);
        }
    }
    // comparisons with constants, copied to every other member of the class
    for e in conjuncts.iter().filter(|e| is_movable(e)) {
        let Some(c) = constant_filter_column(e) else {
            continue;
        };
        if !members.contains(c) {
            continue;
        }
        for m in members.iter().filter(|m| *m != c) {
            if classes.find(m) == classes.find(c) {
                add(replace_column(e, c, m), &mut out);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::builder::LogicalPlanBuilder;
    use crate::logical::expr_fn::{col, lit};
    use crate::optimizer::test_util::{optimize_with, scan};

    fn run(plan: LogicalPlan) -> String {
        optimize_with(&InferJoinPredicates, plan)
    }

    /// `a, b, c` cross joined, then filtered by `pred`.
    fn three(pred: Expr) -> LogicalPlan {
        LogicalPlanBuilder::from(scan("a", &["x", "y"]))
            .cross_join(Arc::new(scan("b", &["x"])))
            .unwrap()
            .cross_join(Arc::new(scan("c", &["x"])))
            .unwrap()
            .filter(pred)
            .unwrap()
            .build()
    }

    #[test]
    fn equalities_are_transitive() {
        let plan = three(col("a.x").eq(col("b.x")).and(col("b.x").eq(col("c.x"))));
        assert_eq!(
            run(plan),
            "Filter: a.x = b.x AND b.x = c.x AND a.x = c.x\
            \n  CrossJoin:\
            \n    CrossJoin:\
            \n      TableScan: a\
            \n      TableScan: b\
            \n    TableScan: c\n"
        );
    }

    #[test]
    fn constant_filters_are_copied_across_the_class() {
        let plan = three(
            col("a.x")
                .eq(col("b.x"))
                .and(col("b.x").eq(col("c.x")))
                .and(col("a.x").gt(lit(5i64)))
                .and(col("a.y").lt(lit(1i64))),
        );
        let out = run(plan);
        let first = out.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            "Filter: a.x = b.x AND b.x = c.x AND a.x > 5 AND a.y < 1 AND a.x = c.x AND b.x > 5 AND c.x > 5"
        );
    }

    #[test]
    fn join_keys_count_and_two_relations_get_no_redundant_keys() {
        // a JOIN b ON a.x = b.x WHERE a.x IN (1, 2): b gets the IN list, no new keys
        let plan = LogicalPlanBuilder::from(scan("a", &["x", "y"]))
            .join(
                scan("b", &["x"]),
                JoinType::Inner,
                vec![(col("a.x"), col("b.x"))],
                None,
            )
            .unwrap()
            .filter(col("a.x").in_list(vec![lit(1i64), lit(2i64)], false))
            .unwrap()
            .build();
        let out = run(plan);
        assert_eq!(
            out.lines().next().unwrap_or_default(),
            "Filter: a.x IN (1, 2) AND b.x IN (1, 2)"
        );
        // a.x = b.x AND a.x = b.y over two relations: only b.x = b.y is new
        let plan = LogicalPlanBuilder::from(scan("a", &["x"]))
            .cross_join(Arc::new(scan("b", &["x", "y"])))
            .unwrap()
            .filter(col("a.x").eq(col("b.x")).and(col("a.x").eq(col("b.y"))))
            .unwrap()
            .build();
        assert_eq!(
            run(plan).lines().next().unwrap_or_default(),
            "Filter: a.x = b.x AND a.x = b.y AND b.x = b.y"
        );
    }

    #[test]
    fn outer_joins_and_null_safe_comparisons_are_left_alone() {
        let plan = LogicalPlanBuilder::from(scan("a", &["x"]))
            .join(
                scan("b", &["x"]),
                JoinType::Left,
                vec![(col("a.x"), col("b.x"))],
                None,
            )
            .unwrap()
            .filter(col("a.x").eq(lit(1i64)))
            .unwrap()
            .build();
        let out = run(plan);
        assert!(!out.contains("b.x = 1"), "{out}");
        let plan = three(
            col("a.x")
                .is_not_distinct_from(col("b.x"))
                .and(col("b.x").eq(lit(3i64))),
        );
        assert!(!run(plan).contains("a.x = 3"));
    }

    #[test]
    fn disjunctions_over_relations_restrict_each_relation() {
        let branch = |x: i64, y: i64| {
            col("a.y")
                .eq(lit(x))
                .and(col("b.x").eq(lit(y)))
                .and(col("a.x").gt(col("b.x")))
        };
        let plan = LogicalPlanBuilder::from(scan("a", &["x", "y"]))
            .cross_join(Arc::new(scan("b", &["x"])))
            .unwrap()
            .filter(branch(1, 2).or(branch(3, 4)))
            .unwrap()
            .build();
        let out = run(plan);
        let first = out.lines().next().unwrap_or_default();
        assert!(
            first.ends_with(" AND (a.y = 1 OR a.y = 3) AND (b.x = 2 OR b.x = 4)"),
            "{first}"
        );
        // a branch that does not restrict b gives nothing for b
        let plan = LogicalPlanBuilder::from(scan("a", &["x", "y"]))
            .cross_join(Arc::new(scan("b", &["x"])))
            .unwrap()
            .filter(branch(1, 2).or(col("a.y").eq(lit(5i64))))
            .unwrap()
            .build();
        let first = run(plan).lines().next().unwrap_or_default().to_string();
        assert!(first.ends_with(" AND (a.y = 1 OR a.y = 5)"), "{first}");
    }

    #[test]
    fn applying_twice_adds_nothing() {
        let plan = three(col("a.x").eq(col("b.x")).and(col("b.x").eq(col("c.x"))));
        let config = crate::config::SessionConfig::default();
        let ctx = OptimizerContext { config: &config };
        let once = InferJoinPredicates.rewrite(plan, &ctx).unwrap().data;
        let twice = InferJoinPredicates.rewrite(once.clone(), &ctx).unwrap();
        assert!(!twice.transformed);
        assert_eq!(twice.data, once);
    }
}
