//! Logical `Expr` → `PhysicalExpr`, resolving column names to indices of the input schema.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::logical::expr::Expr;
use crate::logical::schema::PlanSchema;
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::binary::BinaryExpr;
use crate::physical_expr::case::CaseExpr;
use crate::physical_expr::cast::CastExpr;
use crate::physical_expr::column::ColumnExpr;
use crate::physical_expr::in_list::InListExpr;
use crate::physical_expr::like::LikeExpr;
use crate::physical_expr::literal::LiteralExpr;
use crate::physical_expr::scalar_fn::ScalarFunctionExpr;
use crate::physical_expr::subquery::{
    SubqueryExpr, SubqueryKind, SubqueryRunner, outer_references,
};
use crate::physical_expr::unary::{UnaryExpr, UnaryOp};

/// Converts `expr` over rows of `schema` into an executable expression. `runner` evaluates
/// subqueries that were not decorrelated; without it such subqueries are an error.
#[recursive::recursive]
pub fn create_physical_expr(
    expr: &Expr,
    schema: &PlanSchema,
    runner: Option<&Arc<dyn SubqueryRunner>>,
) -> Result<PhysicalExprRef> {
    let rec = |e: &Expr| create_physical_expr(e, schema, runner);
    Ok(match expr {
        Expr::Column(c) => {
            let i = schema.index_of(c)?;
            let f = schema.field(i);
            Arc::new(ColumnExpr::new(
                c.name.clone(),
                i,
                f.data_type().clone(),
                f.is_nullable(),
            ))
        }
        Expr::OuterColumn(c, _) => {
            // an outer reference that is a column of this very input (after decorrelation)
            let i = schema.index_of(c).map_err(|_| {
                Error::internal(format!("correlated reference {c} was not bound to a value"))
            })?;
            let f = schema.field(i);
            Arc::new(ColumnExpr::new(
                c.name.clone(),
                i,
                f.data_type().clone(),
                f.is_nullable(),
            ))
        }
        Expr::Literal(v) => Arc::new(LiteralExpr::new(v.clone())),
        Expr::Alias(e, _) => rec(e)?,
        Expr::Binary(l, op, r) => {
            let t = expr.data_type(schema)?;
            Arc::new(BinaryExpr::new(rec(l)?, *op, rec(r)?, t))
        }
        Expr::Not(e) => Arc::new(UnaryExpr::new(UnaryOp::Not, rec(e)?)),
        Expr::Negative(e) => Arc::new(UnaryExpr::new(UnaryOp::Negative, rec(e)?)),
        Expr::IsNull(e) => Arc::new(UnaryExpr::new(UnaryOp::IsNull, rec(e)?)),
        Expr::IsNotNull(e) => Arc::new(UnaryExpr::new(UnaryOp::IsNotNull, rec(e)?)),
        Expr::IsBool(e, v, negated) => {
            let op = match (v, negated) {
                (Some(true), false) => UnaryOp::IsTrue,
                (Some(false), false) => UnaryOp::IsFalse,
                (None, false) => UnaryOp::IsUnknown,
                (Some(true), true) => UnaryOp::IsNotTrue,
                (Some(false), true) => UnaryOp::IsNotFalse,
                (None, true) => UnaryOp::IsNotUnknown,
            };
            Arc::new(UnaryExpr::new(op, rec(e)?))
        }
        Expr::Between {
            expr: e,
            negated,
            low,
            high,
        } => {
            // x BETWEEN a AND b  ==  x >= a AND x <= b
            let x = rec(e)?;
            let ge = Arc::new(BinaryExpr::new(
                x.clone(),
                crate::logical::expr::BinaryOp::GtEq,
                rec(low)?,
                arrow::datatypes::DataType::Boolean,
            ));
            let le = Arc::new(BinaryExpr::new(
                x,
                crate::logical::expr::BinaryOp::LtEq,
                rec(high)?,
                arrow::datatypes::DataType::Boolean,
            ));
            let both: PhysicalExprRef = Arc::new(BinaryExpr::new(
                ge,
                crate::logical::expr::BinaryOp::And,
                le,
                arrow::datatypes::DataType::Boolean,
            ));
            if *negated {
                Arc::new(UnaryExpr::new(UnaryOp::Not, both))
            } else {
                both
            }
        }
        Expr::Like {
            negated,
            expr: e,
            pattern,
            case_insensitive,
            escape,
        } => Arc::new(LikeExpr::new(
            rec(e)?,
            rec(pattern)?,
            *negated,
            *case_insensitive,
            *escape,
        )),
        Expr::InList {
            expr: e,
            list,
            negated,
        } => {
            let list = list.iter().map(rec).collect::<Result<Vec<_>>>()?;
            Arc::new(InListExpr::new(rec(e)?, list, *negated))
        }
        Expr::Case {
            operand,
            when_then,
            else_expr,
        } => {
            let t = expr.data_type(schema)?;
            let operand = match operand {
                Some(o) => Some(rec(o)?),
                None => None,
            };
            let wt = when_then
                .iter()
                .map(|(w, th)| Ok((rec(w)?, rec(th)?)))
                .collect::<Result<Vec<_>>>()?;
            let el = match else_expr {
                Some(e) => Some(rec(e)?),
                None => None,
            };
            Arc::new(CaseExpr::new(operand, wt, el, t))
        }
        Expr::Cast {
            expr: e,
            data_type,
            try_,
        } => Arc::new(CastExpr::new(rec(e)?, data_type.clone(), *try_)),
        Expr::ScalarFunction(call) if call.func.name() == "coalesce" => {
            let t = expr.data_type(schema)?;
            let args = call.args.iter().map(rec).collect::<Result<Vec<_>>>()?;
            Arc::new(crate::physical_expr::coalesce::CoalesceExpr::new(args, t))
        }
        Expr::ScalarFunction(call) => {
            let t = expr.data_type(schema)?;
            let args = call.args.iter().map(rec).collect::<Result<Vec<_>>>()?;
            Arc::new(ScalarFunctionExpr::new(call.func.clone(), args, t))
        }
        Expr::ScalarSubquery(sq) => subquery(SubqueryKind::Scalar, sq, schema, runner)?,
        Expr::Exists {
            subquery: sq,
            negated,
        } => subquery(
            SubqueryKind::Exists { negated: *negated },
            sq,
            schema,
            runner,
        )?,
        Expr::InSubquery {
            expr: e,
            subquery: sq,
            negated,
        } => subquery(
            SubqueryKind::In {
                expr: rec(e)?,
                negated: *negated,
            },
            sq,
            schema,
            runner,
        )?,
        Expr::Aggregate(_) => {
            return Err(Error::plan(format!(
                "aggregate function {expr} is not allowed here"
            )));
        }
        Expr::Window(_) => {
            return Err(Error::plan(format!(
                "window function {expr} is not allowed here"
            )));
        }
        Expr::Wildcard(_) => return Err(Error::plan("* is not allowed here")),
    })
}

fn subquery(
    kind: SubqueryKind,
    sq: &crate::logical::expr::Subquery,
    schema: &PlanSchema,
    runner: Option<&Arc<dyn SubqueryRunner>>,
) -> Result<PhysicalExprRef> {
    let runner = runner
        .cloned()
        .ok_or_else(|| Error::not_implemented("subqueries are not supported in this position"))?;
    let mut refs = vec![];
    for (c, _) in outer_references(&sq.plan) {
        let i = schema.index_of(&c).map_err(|_| {
            Error::plan(format!(
                "correlated subquery refers to {c}, which is not available at this point of the query"
            ))
        })?;
        let f = schema.field(i);
        let col: PhysicalExprRef = Arc::new(ColumnExpr::new(
            c.name.clone(),
            i,
            f.data_type().clone(),
            f.is_nullable(),
        ));
        refs.push((c, col));
    }
    Ok(Arc::new(SubqueryExpr::new(kind, sq, refs, runner)?))
}
