//! `SimplifyExpressions`: constant folding (`1 + 2` → `3`, `CAST('1995-01-01' AS DATE)` → a date
//! literal), boolean identities (`true AND p` → `p`, `p OR true` → `true`, `NOT NOT p` → `p`),
//! `x + 0`, `x * 1`, and filters that are always true (removed) or never true (empty input).
//! Folding that fails (e.g. `1/0` in a branch never taken) leaves the expression as it is, so
//! errors surface only if the expression is really evaluated.

use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion_common::ScalarValue;
use datafusion_common::tree_node::{Transformed, TreeNode};

use crate::error::Result;
use crate::logical::expr::{BinaryOp, Expr, Subquery};
use crate::logical::plan::{EmptyRelation, LogicalPlan};
use crate::logical::schema::PlanSchema;
use crate::logical::tree_node::map_expressions;
use crate::optimizer::rule::{OptimizerContext, OptimizerRule};

/// Folds constants and simplifies boolean logic.
#[derive(Debug)]
pub struct SimplifyExpressions;

impl OptimizerRule for SimplifyExpressions {
    fn name(&self) -> &'static str {
        "simplify_expressions"
    }
    fn rewrite(
        &self,
        plan: LogicalPlan,
        _ctx: &OptimizerContext,
    ) -> Result<Transformed<LogicalPlan>> {
        let before = plan.clone();
        let after = simplify_plan(plan)?;
        let changed = after != before;
        Ok(Transformed::new_transformed(after, changed))
    }
}

/// Simplifies every expression of a plan, including subquery plans.
pub fn simplify_plan(plan: LogicalPlan) -> Result<LogicalPlan> {
    let out = plan.transform_up(|node| {
        let schema = expression_schema(&node);
        let node = map_expressions(node, |e| simplify_expr_with(e, schema.as_ref()))?;
        let node = match node {
            LogicalPlan::Filter(f) => match &f.predicate {
                Expr::Literal(ScalarValue::Boolean(Some(true))) => f.input.as_ref().clone(),
                Expr::Literal(v) if v.is_null() || *v == ScalarValue::Boolean(Some(false)) => {
                    LogicalPlan::EmptyRelation(EmptyRelation {
                        produce_one_row: false,
                        schema: f.input.schema().clone(),
                    })
                }
                _ => LogicalPlan::Filter(f),
            },
            other => other,
        };
        Ok(Transformed::yes(node))
    })?;
    Ok(out.data)
}

/// The schema a node's expressions are evaluated against, when it has one.
fn expression_schema(plan: &LogicalPlan) -> Option<PlanSchema> {
    match plan {
        LogicalPlan::Join(j) => Some(j.left.schema().join(j.right.schema())),
        LogicalPlan::TableScan(t) => Some(t.schema.as_ref().clone()),
        LogicalPlan::Projection(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::Aggregate(_)
        | LogicalPlan::Window(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Repartition(_) => {
            crate::optimizer::utils::single_input(plan).map(|i| i.schema().as_ref().clone())
        }
        _ => None,
    }
}

fn is_true(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Boolean(Some(true))))
}
fn is_false(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Boolean(Some(false))))
}

fn is_zero(v: &ScalarValue) -> bool {
    match v {
        ScalarValue::Int8(Some(0))
        | ScalarValue::Int16(Some(0))
        | ScalarValue::Int32(Some(0))
        | ScalarValue::Int64(Some(0)) => true,
        ScalarValue::Float64(Some(x)) => *x == 0.0,
        _ => false,
    }
}

fn is_one(v: &ScalarValue) -> bool {
    match v {
        ScalarValue::Int8(Some(1))
        | ScalarValue::Int16(Some(1))
        | ScalarValue::Int32(Some(1))
        | ScalarValue::Int64(Some(1)) => true,
        ScalarValue::Float64(Some(x)) => *x == 1.0,
        _ => false,
    }
}

/// Simplifies one expression (bottom-up).
pub fn simplify_expr(e: Expr) -> Result<Expr> {
    simplify_expr_with(e, None)
}

/// Simplifies one expression over `schema` (which tells the types of columns, so `x + 0`
/// becomes `x` when that keeps the type).
pub fn simplify_expr_with(e: Expr, schema: Option<&PlanSchema>) -> Result<Expr> {
    let out = e.transform_up(|x| {
        let x = match x {
            // simplify the plans of subqueries too
            Expr::ScalarSubquery(sq) => Expr::ScalarSubquery(simplify_subquery(sq)?),
            Expr::Exists { subquery, negated } => Expr::Exists {
                subquery: simplify_subquery(subquery)?,
                negated,
            },
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => Expr::InSubquery {
                expr,
                subquery: simplify_subquery(subquery)?,
                negated,
            },
            other => other,
        };
        Ok(match simplify_node(x, schema) {
            (e, true) => Transformed::yes(e),
            (e, false) => Transformed::no(e),
        })
    })?;
    Ok(out.data)
}

fn simplify_subquery(sq: Subquery) -> Result<Subquery> {
    Ok(Subquery {
        plan: Arc::new(simplify_plan(sq.plan.as_ref().clone())?),
    })
}

fn simplify_node(e: Expr, schema: Option<&PlanSchema>) -> (Expr, bool) {
    match e {
        Expr::Binary(l, BinaryOp::And, r) => {
            if is_true(&l) {
                return (*r, true);
            }
            if is_true(&r) {
                return (*l, true);
            }
            if is_false(&l) || is_false(&r) {
                return (Expr::Literal(ScalarValue::Boolean(Some(false))), true);
            }
            (Expr::Binary(l, BinaryOp::And, r), false)
        }
        Expr::Binary(l, BinaryOp::Or, r) => {
            if is_false(&l) {
                return (*r, true);
            }
            if is_false(&r) {
                return (*l, true);
            }
            if is_true(&l) || is_true(&r) {
                return (Expr::Literal(ScalarValue::Boolean(Some(true))), true);
            }
            factor_or(Expr::Binary(l, BinaryOp::Or, r))
        }
        Expr::Not(inner) => match *inner {
            Expr::Not(x) => (*x, true),
            other => fold(Expr::Not(Box::new(other))),
        },
        Expr::Binary(l, BinaryOp::Plus | BinaryOp::Minus, r)
            if matches!(r.as_ref(), Expr::Literal(v) if is_zero(v))
                && same_literal_type(&l, &r, schema) =>
        {
            (*l, true)
        }
        Expr::Binary(l, BinaryOp::Plus, r)
            if matches!(l.as_ref(), Expr::Literal(v) if is_zero(v))
                && same_literal_type(&r, &l, schema) =>
        {
            (*r, true)
        }
        Expr::Binary(l, BinaryOp::Multiply | BinaryOp::Divide, r)
            if matches!(r.as_ref(), Expr::Literal(v) if is_one(v))
                && same_literal_type(&l, &r, schema) =>
        {
            (*l, true)
        }
        Expr::Binary(l, BinaryOp::Multiply, r)
            if matches!(l.as_ref(), Expr::Literal(v) if is_one(v))
                && same_literal_type(&r, &l, schema) =>
        {
            (*r, true)
        }
        other => fold(other),
    }
}

/// `(a AND b) OR (a AND c)` → `a AND (b OR c)`: conjuncts common to every branch of an OR
/// are pulled out, so a join key repeated in each branch (TPC-H Q19) becomes a join key.
fn factor_or(e: Expr) -> (Expr, bool) {
    let mut branches = vec![];
    fn disjuncts(e: Expr, out: &mut Vec<Expr>) {
        match e {
            Expr::Binary(l, BinaryOp::Or, r) => {
                disjuncts(*l, out);
                disjuncts(*r, out);
            }
            other => out.push(other),
        }
    }
    disjuncts(e, &mut branches);
    let sets: Vec<Vec<Expr>> = branches
        .iter()
        .map(|b| b.clone().split_conjunction())
        .collect();
    let common: Vec<Expr> = sets[0]
        .iter()
        .filter(|c| sets[1..].iter().all(|s| s.contains(c)) && !c.is_volatile())
        .cloned()
        .collect();
    if common.is_empty() {
        return (
            Expr::disjunction(branches).unwrap_or(Expr::Literal(ScalarValue::Boolean(Some(false)))),
            false,
        );
    }
    let mut rest = vec![];
    let mut any_empty = false;
    for s in sets {
        let left: Vec<Expr> = s.into_iter().filter(|c| !common.contains(c)).collect();
        if left.is_empty() {
            any_empty = true;
        }
        rest.push(left);
    }
    let common =
        Expr::conjunction(common).unwrap_or(Expr::Literal(ScalarValue::Boolean(Some(true))));
    if any_empty {
        // one branch is just the common part: the OR is implied by it
        return (common, true);
    }
    let ors = Expr::disjunction(rest.into_iter().filter_map(Expr::conjunction));
    match ors {
        Some(o) => (common.and(o), true),
        None => (common, true),
    }
}

/// Whether `x`'s type equals the literal's, so `x op literal` keeps `x`'s type.
fn same_literal_type(x: &Expr, lit: &Expr, schema: Option<&PlanSchema>) -> bool {
    let Expr::Literal(v) = lit else { return false };
    let t = v.data_type();
    match x {
        Expr::Cast { data_type, .. } => *data_type == t,
        Expr::Literal(w) => w.data_type() == t,
        // other expressions need the schema to tell their type
        _ => schema.is_some_and(|s| x.data_type(s).is_ok_and(|xt| xt == t)),
    }
}

/// Evaluates an expression without columns to a literal (unchanged when that fails).
fn fold(e: Expr) -> (Expr, bool) {
    if matches!(e, Expr::Literal(_) | Expr::Alias(..) | Expr::Wildcard(_)) {
        return (e, false);
    }
    let mut foldable = true;
    e.any(&mut |x| {
        if matches!(
            x,
            Expr::Column(_)
                | Expr::OuterColumn(..)
                | Expr::Aggregate(_)
                | Expr::Window(_)
                | Expr::ScalarSubquery(_)
                | Expr::Exists { .. }
                | Expr::InSubquery { .. }
                | Expr::Wildcard(_)
        ) || matches!(x, Expr::ScalarFunction(f) if f.func.volatile())
        {
            foldable = false;
        }
        !foldable
    });
    if !foldable {
        return (e, false);
    }
    match evaluate_constant(&e) {
        Some(v) => (Expr::Literal(v), true),
        None => (e, false),
    }
}

fn evaluate_constant(e: &Expr) -> Option<ScalarValue> {
    let empty = PlanSchema::empty();
    let pe = crate::physical_expr::create_physical_expr(e, &empty, None).ok()?;
    let one = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .ok()?;
    let a = pe.evaluate(&one).ok()?.into_array(1).ok()?;
    let v = ScalarValue::try_from_array(&a, 0).ok()?;
    // keep the expression's type (e.g. a NULL of the right type)
    let want = e.data_type(&empty).ok()?;
    if v.data_type() != want {
        return v.cast_to(&want).ok();
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logical::expr_fn::{col, lit};

    #[test]
    fn folds_and_simplifies() {
        let e = lit(1i64).eq(lit(1i64)).and(col("a").gt(lit(2i64)));
        assert_eq!(simplify_expr(e).unwrap().to_string(), "a > 2");
        let e = col("a").gt(lit(1i64)).or(lit(true));
        assert_eq!(simplify_expr(e).unwrap(), lit(true));
        let e = col("a").negate().negate();
        assert_eq!(simplify_expr(e).unwrap(), col("a"));
    }

    #[test]
    fn arithmetic_identities_keep_types() {
        use crate::optimizer::test_util::scan;
        let schema = scan("t", &["a"]).schema().as_ref().clone();
        let s = |e: Expr| simplify_expr_with(e, Some(&schema)).unwrap().to_string();
        assert_eq!(
            s(Expr::binary(col("t.a"), BinaryOp::Plus, lit(0i64))),
            "t.a"
        );
        assert_eq!(
            s(Expr::binary(lit(0i64), BinaryOp::Plus, col("t.a"))),
            "t.a"
        );
        assert_eq!(
            s(Expr::binary(col("t.a"), BinaryOp::Minus, lit(0i64))),
            "t.a"
        );
        assert_eq!(
            s(Expr::binary(lit(1i64), BinaryOp::Multiply, col("t.a"))),
            "t.a"
        );
        assert_eq!(
            s(Expr::binary(col("t.a"), BinaryOp::Divide, lit(1i64))),
            "t.a"
        );
        // 0 - a is not a; a + 0.0 would change the type
        assert_eq!(
            s(Expr::binary(lit(0i64), BinaryOp::Minus, col("t.a"))),
            "0 - t.a"
        );
        assert_eq!(
            s(Expr::binary(col("t.a"), BinaryOp::Plus, lit(0.0f64))),
            "t.a + 0.0"
        );
        // without a schema the column's type is unknown
        assert_eq!(
            simplify_expr(Expr::binary(col("t.a"), BinaryOp::Plus, lit(0i64)))
                .unwrap()
                .to_string(),
            "t.a + 0"
        );
    }

    #[test]
    fn constants_casts_and_double_negation_fold() {
        use arrow::datatypes::DataType;
        let e = lit(true).and(col("p"));
        assert_eq!(simplify_expr(e).unwrap(), col("p"));
        let e = col("p").and(lit(false));
        assert_eq!(simplify_expr(e).unwrap(), lit(false));
        let e = lit("1995-03-15").cast_to(DataType::Date32).lt(col("d"));
        assert_eq!(
            simplify_expr(e).unwrap().to_string(),
            "DATE '1995-03-15' < d"
        );
        let e = lit(2i64).eq(lit(1i64));
        assert_eq!(simplify_expr(e).unwrap(), lit(false));
        let e = Expr::Not(Box::new(Expr::Not(Box::new(col("p")))));
        assert_eq!(simplify_expr(e).unwrap(), col("p"));
    }

    #[test]
    fn filters_always_true_vanish_and_never_true_empty() {
        use crate::logical::builder::LogicalPlanBuilder;
        use crate::optimizer::test_util::scan;
        let plan = LogicalPlanBuilder::from(scan("t", &["a"]))
            .filter(lit(1i64).eq(lit(1i64)))
            .unwrap()
            .build();
        assert_eq!(simplify_plan(plan).unwrap().to_string(), "TableScan: t\n");
        let plan = LogicalPlanBuilder::from(scan("t", &["a"]))
            .filter(lit(1i64).eq(lit(2i64)).and(col("t.a").gt(lit(0i64))))
            .unwrap()
            .build();
        assert_eq!(simplify_plan(plan).unwrap().to_string(), "EmptyRelation\n");
    }

    #[test]
    fn failing_folds_are_left_alone() {
        let e = Expr::binary(lit(1i64), BinaryOp::Divide, lit(0i64));
        assert_eq!(simplify_expr(e.clone()).unwrap(), e);
    }
}
