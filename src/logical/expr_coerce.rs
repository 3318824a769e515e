//! The coercion pass: applies the rules of `coercion.rs` to an expression over a schema,
//! inserting casts (literal casts are folded) and checking that names resolve.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::logical::coercion::{binary_signature, can_cast, common_supertype, comparison_type};
use crate::logical::expr::{AggregateCall, BinaryOp, Expr, ScalarCall, Subquery, WindowFunc};
use crate::logical::expr_schema::{cast_expr, cast_literal, subquery_type};
use crate::logical::schema::PlanSchema;
use crate::logical::types::{is_string, sql_type_name};

/// Applies the coercion rules to `expr` over `schema`, inserting casts and checking names.
#[recursive::recursive]
pub fn coerce_expr(expr: Expr, schema: &PlanSchema) -> Result<Expr> {
    Ok(match expr {
        Expr::Column(c) => {
            schema.index_of(&c)?;
            Expr::Column(c)
        }
        e @ (Expr::OuterColumn(..) | Expr::Literal(_)) => e,
        Expr::Alias(e, name) => Expr::Alias(Box::new(coerce_expr(*e, schema)?), name),
        Expr::Binary(l, op, r) => {
            let l = coerce_expr(*l, schema)?;
            let r = coerce_expr(*r, schema)?;
            let lt = l.data_type(schema)?;
            let rt = r.data_type(schema)?;
            // a number literal compared with a number takes the other side's type when it fits
            // exactly, so the column is compared as stored (no cast per row; scans can prune)
            if op.is_comparison() {
                if let Some(lit) = literal_as(&r, &rt, &lt) {
                    return Ok(Expr::Binary(Box::new(l), op, Box::new(lit)));
                }
                if let Some(lit) = literal_as(&l, &lt, &rt) {
                    return Ok(Expr::Binary(Box::new(lit), op, Box::new(r)));
                }
            }
            // date ± interval stays a date only when the interval has no time part
            let (l, lt, r, rt) = date_interval_to_timestamp(op, l, lt, r, rt)?;
            let sig = binary_signature(&lt, op, &rt)?;
            let l = cast_expr(l, &lt, &sig.left)?;
            let r = cast_expr(r, &rt, &sig.right)?;
            Expr::Binary(Box::new(l), op, Box::new(r))
        }
        Expr::Not(e) => Expr::Not(Box::new(coerce_to_boolean(*e, schema, "NOT")?)),
        Expr::Negative(e) => {
            let e = coerce_expr(*e, schema)?;
            let t = e.data_type(schema)?;
            if t.is_numeric() || matches!(t, DataType::Interval(_) | DataType::Null) {
                if t == DataType::Null {
                    Expr::Literal(ScalarValue::Int64(None))
                } else {
                    Expr::Negative(Box::new(e))
                }
            } else {
                return Err(Error::type_mismatch(format!(
                    "unary minus cannot be applied to {}",
                    sql_type_name(&t)
                )));
            }
        }
        Expr::IsNull(e) => Expr::IsNull(Box::new(coerce_expr(*e, schema)?)),
        Expr::IsNotNull(e) => Expr::IsNotNull(Box::new(coerce_expr(*e, schema)?)),
        Expr::IsBool(e, v, n) => {
            Expr::IsBool(Box::new(coerce_to_boolean(*e, schema, "IS TRUE")?), v, n)
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let e = coerce_expr(*expr, schema)?;
            let lo = coerce_expr(*low, schema)?;
            let hi = coerce_expr(*high, schema)?;
            let (et, lt, ht) = (
                e.data_type(schema)?,
                lo.data_type(schema)?,
                hi.data_type(schema)?,
            );
            // number literal bounds that fit the value's type exactly take it (as comparisons do)
            let (lo, lt) = match literal_as(&lo, &lt, &et) {
                Some(l) => (l, et.clone()),
                None => (lo, lt),
            };
            let (hi, ht) = match literal_as(&hi, &ht, &et) {
                Some(h) => (h, et.clone()),
                None => (hi, ht),
            };
            let t = comparison_type(&et, &lt)
                .and_then(|t| comparison_type(&t, &ht))
                .ok_or_else(|| {
                    Error::type_mismatch(format!(
                        "BETWEEN cannot compare {} with {} and {}",
                        sql_type_name(&et),
                        sql_type_name(&lt),
                        sql_type_name(&ht)
                    ))
                })?;
            Expr::Between {
                expr: Box::new(cast_expr(e, &et, &t)?),
                negated,
                low: Box::new(cast_expr(lo, &lt, &t)?),
                high: Box::new(cast_expr(hi, &ht, &t)?),
            }
        }
        Expr::Like {
            negated,
            expr,
            pattern,
            case_insensitive,
            escape,
        } => {
            let e = coerce_to_string(*expr, schema, "LIKE")?;
            let p = coerce_to_string(*pattern, schema, "LIKE")?;
            Expr::Like {
                negated,
                expr: Box::new(e),
                pattern: Box::new(p),
                case_insensitive,
                escape,
            }
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let e = coerce_expr(*expr, schema)?;
            let list = list
                .into_iter()
                .map(|x| coerce_expr(x, schema))
                .collect::<Result<Vec<_>>>()?;
            let et = e.data_type(schema)?;
            let mut types = vec![et.clone()];
            for x in &list {
                types.push(x.data_type(schema)?);
            }
            let t = common_supertype(types.iter()).ok_or_else(|| {
                Error::type_mismatch(format!(
                    "IN list values of types {} do not mix",
                    types
                        .iter()
                        .map(sql_type_name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let list = list
                .into_iter()
                .zip(types.iter().skip(1))
                .map(|(x, xt)| cast_expr(x, xt, &t))
                .collect::<Result<Vec<_>>>()?;
            Expr::InList {
                expr: Box::new(cast_expr(e, &et, &t)?),
                list,
                negated,
            }
        }
        Expr::Case {
            operand,
            when_then,
            else_expr,
        } => coerce_case(operand, when_then, else_expr, schema)?,
        Expr::Cast {
            expr,
            data_type,
            try_,
        } => {
            let e = coerce_expr(*expr, schema)?;
            let from = e.data_type(schema)?;
            if !can_cast(&from, &data_type) {
                return Err(Error::type_mismatch(format!(
                    "cannot cast {} to {}",
                    sql_type_name(&from),
                    sql_type_name(&data_type)
                )));
            }
            if let (Expr::Literal(v), false) = (&e, try_) {
                Expr::Literal(cast_literal(v, &data_type)?)
            } else {
                Expr::Cast {
                    expr: Box::new(e),
                    data_type,
                    try_,
                }
            }
        }
        Expr::ScalarFunction(call) => {
            let args = call
                .args
                .into_iter()
                .map(|a| coerce_expr(a, schema))
                .collect::<Result<Vec<_>>>()?;
            let types = args
                .iter()
                .map(|a| a.data_type(schema))
                .collect::<Result<Vec<_>>>()?;
            let (want, _) = call.func.signature(&types)?;
            let args = cast_args(args, &types, &want)?;
            Expr::ScalarFunction(ScalarCall {
                func: call.func,
                args,
            })
        }
        Expr::Aggregate(a) => {
            let args = a
                .args
                .into_iter()
                .map(|x| coerce_expr(x, schema))
                .collect::<Result<Vec<_>>>()?;
            let types = args
                .iter()
                .map(|x| x.data_type(schema))
                .collect::<Result<Vec<_>>>()?;
            let (want, _) = a.func.signature(&types)?;
            let args = cast_args(args, &types, &want)?;
            let filter = match a.filter {
                Some(f) => Some(Box::new(coerce_to_boolean(*f, schema, "FILTER")?)),
                None => None,
            };
            Expr::Aggregate(AggregateCall {
                func: a.func,
                args,
                distinct: a.distinct,
                filter,
            })
        }
        Expr::Window(w) => {
            let mut w = *w;
            let args = w
                .args
                .into_iter()
                .map(|x| coerce_expr(x, schema))
                .collect::<Result<Vec<_>>>()?;
            let args = if let WindowFunc::Aggregate(f) = &w.func {
                let types = args
                    .iter()
                    .map(|x| x.data_type(schema))
                    .collect::<Result<Vec<_>>>()?;
                let (want, _) = f.signature(&types)?;
                cast_args(args, &types, &want)?
            } else {
                args
            };
            w.args = args;
            w.partition_by = w
                .partition_by
                .into_iter()
                .map(|x| coerce_expr(x, schema))
                .collect::<Result<Vec<_>>>()?;
            for s in &mut w.order_by {
                s.expr = coerce_expr(s.expr.clone(), schema)?;
            }
            Expr::Window(Box::new(w))
        }
        Expr::ScalarSubquery(sq) => {
            subquery_type(&sq)?;
            Expr::ScalarSubquery(sq)
        }
        e @ Expr::Exists { .. } => e,
        Expr::InSubquery {
            expr,
            subquery,
            negated,
        } => {
            let e = coerce_expr(*expr, schema)?;
            let et = e.data_type(schema)?;
            let st = subquery_type(&subquery)?;
            let t = comparison_type(&et, &st).ok_or_else(|| {
                Error::type_mismatch(format!(
                    "IN cannot compare {} with subquery values of type {}",
                    sql_type_name(&et),
                    sql_type_name(&st)
                ))
            })?;
            let subquery = if st != t {
                let plan = subquery.plan.as_ref().clone();
                let col = Expr::Column(plan.schema().column(0));
                let name = plan.schema().field(0).name().clone();
                let casted = cast_expr(col, &st, &t)?.alias(name);
                Subquery {
                    plan: Arc::new(
                        crate::logical::builder::LogicalPlanBuilder::from(plan)
                            .project(vec![casted])?
                            .build(),
                    ),
                }
            } else {
                subquery
            };
            Expr::InSubquery {
                expr: Box::new(cast_expr(e, &et, &t)?),
                subquery,
                negated,
            }
        }
        Expr::Wildcard(_) => return Err(Error::plan("* is not allowed here")),
    })
}

/// Whether an interval expression is a literal without a time-of-day part.
fn is_whole_day_interval(e: &Expr) -> bool {
    match e {
        Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(v))) => v.nanoseconds == 0,
        Expr::Literal(ScalarValue::IntervalYearMonth(Some(_))) => true,
        Expr::Literal(ScalarValue::IntervalDayTime(Some(v))) => v.milliseconds == 0,
        _ => false,
    }
}

/// `date ± interval` with a time part (or an unknown interval) computes on timestamps.
fn date_interval_to_timestamp(
    op: BinaryOp,
    l: Expr,
    lt: DataType,
    r: Expr,
    rt: DataType,
) -> Result<(Expr, DataType, Expr, DataType)> {
    let ts = DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None);
    if !matches!(op, BinaryOp::Plus | BinaryOp::Minus) {
        return Ok((l, lt, r, rt));
    }
    match (&lt, &rt) {
        (DataType::Date32, DataType::Interval(_)) if !is_whole_day_interval(&r) => {
            Ok((cast_expr(l, &lt, &ts)?, ts, r, rt))
        }
        (DataType::Interval(_), DataType::Date32)
            if op == BinaryOp::Plus && !is_whole_day_interval(&l) =>
        {
            Ok((l, lt, cast_expr(r, &rt, &ts)?, ts))
        }
        _ => Ok((l, lt, r, rt)),
    }
}

fn cast_args(args: Vec<Expr>, have: &[DataType], want: &[DataType]) -> Result<Vec<Expr>> {
    args.into_iter()
        .zip(have.iter())
        .enumerate()
        .map(|(i, (a, h))| match want.get(i) {
            Some(w) => cast_expr(a, h, w),
            None => Ok(a),
        })
        .collect()
}

/// Coerces an expression that must be boolean (NULL literals and strings `'true'`/`'false'` are cast).
pub fn coerce_to_boolean(e: Expr, schema: &PlanSchema, what: &str) -> Result<Expr> {
    let e = coerce_expr(e, schema)?;
    let t = e.data_type(schema)?;
    match t {
        DataType::Boolean => Ok(e),
        DataType::Null => cast_expr(e, &t, &DataType::Boolean),
        ref s if is_string(s) => cast_expr(e, &t, &DataType::Boolean),
        ref n if n.is_integer() => Ok(Expr::binary(
            e,
            BinaryOp::NotEq,
            Expr::Literal(ScalarValue::Int64(Some(0))),
        )
        .pipe(|x| coerce_expr(x, schema))?),
        other => Err(Error::type_mismatch(format!(
            "{what} needs a boolean, got {}",
            sql_type_name(&other)
        ))),
    }
}

fn coerce_to_string(e: Expr, schema: &PlanSchema, what: &str) -> Result<Expr> {
    let e = coerce_expr(e, schema)?;
    let t = e.data_type(schema)?;
    if is_string(&t) {
        if t != DataType::Utf8 {
            return cast_expr(e, &t, &DataType::Utf8);
        }
        return Ok(e);
    }
    match t {
        DataType::Null => cast_expr(e, &t, &DataType::Utf8),
        other => Err(Error::type_mismatch(format!(
            "{what} needs strings, got {}",
            sql_type_name(&other)
        ))),
    }
}

fn coerce_case(
    operand: Option<Box<Expr>>,
    when_then: Vec<(Expr, Expr)>,
    else_expr: Option<Box<Expr>>,
    schema: &PlanSchema,
) -> Result<Expr> {
    // the simple form compares the operand with each WHEN value
    let (operand, whens) = match operand {
        Some(o) => {
            let o = coerce_expr(*o, schema)?;
            let ot = o.data_type(schema)?;
            let whens = when_then
                .iter()
                .map(|(w, _)| coerce_expr(w.clone(), schema))
                .collect::<Result<Vec<_>>>()?;
            let mut types = vec![ot.clone()];
            for w in &whens {
                types.push(w.data_type(schema)?);
            }
            let t = common_supertype(types.iter()).ok_or_else(|| {
                Error::type_mismatch(format!(
                    "CASE operand of type {} cannot be compared with its WHEN values",
                    sql_type_name(&ot)
                ))
            })?;
            let o = cast_expr(o, &ot, &t)?;
            let whens = whens
                .into_iter()
                .zip(types.iter().skip(1))
                .map(|(w, wt)| cast_expr(w, wt, &t))
                .collect::<Result<Vec<_>>>()?;
            (Some(Box::new(o)), whens)
        }
        None => {
            let whens = when_then
                .iter()
                .map(|(w, _)| coerce_to_boolean(w.clone(), schema, "CASE WHEN"))
                .collect::<Result<Vec<_>>>()?;
            (None, whens)
        }
    };
    let thens = when_then
        .into_iter()
        .map(|(_, t)| coerce_expr(t, schema))
        .collect::<Result<Vec<_>>>()?;
    let else_e = match else_expr {
        Some(e) => Some(coerce_expr(*e, schema)?),
        None => None,
    };
    let mut types = vec![];
    for t in &thens {
        types.push(t.data_type(schema)?);
    }
    if let Some(e) = &else_e {
        types.push(e.data_type(schema)?);
    }
    let t = common_supertype(types.iter()).ok_or_else(|| {
        Error::type_mismatch(format!(
            "CASE branches of types {} do not mix",
            types
                .iter()
                .map(sql_type_name)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let mut when_then = vec![];
    for (i, (w, th)) in whens.into_iter().zip(thens).enumerate() {
        when_then.push((w, cast_expr(th, &types[i], &t)?));
    }
    let else_expr = match else_e {
        Some(e) => Some(Box::new(cast_expr(e, types.last().unwrap_or(&t), &t)?)),
        None => None,
    };
    Ok(Expr::Case {
        operand,
        when_then,
        else_expr,
    })
}

/// Small helper to chain a function call on a value.
trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

/// `lit` (of type `from`) as a literal of the numeric type `to`, when `lit` is a non-NULL
/// number literal whose value `to` holds exactly (`24` as `DECIMAL(15,2)`, `1` as `INT`; not
/// `0.055` as `DECIMAL(15,2)` nor `3000000000` as `INT`).
fn literal_as(lit: &Expr, from: &DataType, to: &DataType) -> Option<Expr> {
    let Expr::Literal(v) = lit else {
        return None;
    };
    let number = |t: &DataType| t.is_integer() || matches!(t, DataType::Decimal128(..));
    if v.is_null() || from == to || !number(from) || !number(to) {
        return None;
    }
    let converted = cast_literal(v, to).ok()?;
    let back = cast_literal(&converted, from).ok()?;
    (back == *v).then_some(Expr::Literal(converted))
}
