//! Typing of expressions against a schema, and the pass that applies the
//! coercion rules of `coercion.rs` by inserting casts.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::logical::coercion::{binary_signature, can_cast, common_supertype, comparison_type};
use crate::logical::expr::{
    AggregateCall, BinaryOp, Expr, ScalarCall, Subquery, WindowCall, WindowFunc,
};
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::PlanSchema;
use crate::logical::types::{is_string, sql_type_name};

impl Expr {
    /// The type this expression produces over rows of `schema`. Assumes the expression has been coerced.
    pub fn data_type(&self, schema: &PlanSchema) -> Result<DataType> {
        Ok(match self {
            Expr::Column(c) => schema.data_type(schema.index_of(c)?).clone(),
            Expr::OuterColumn(_, t) => t.clone(),
            Expr::Literal(v) => v.data_type(),
            Expr::Alias(e, _) => e.data_type(schema)?,
            Expr::Binary(l, op, r) => {
                binary_signature(&l.data_type(schema)?, *op, &r.data_type(schema)?)?.result
            }
            Expr::Not(_)
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsBool(..)
            | Expr::Between { .. }
            | Expr::Like { .. }
            | Expr::InList { .. }
            | Expr::Exists { .. }
            | Expr::InSubquery { .. } => DataType::Boolean,
            Expr::Negative(e) => e.data_type(schema)?,
            Expr::Case {
                when_then,
                else_expr,
                ..
            } => {
                let mut types = vec![];
                for (_, t) in when_then {
                    types.push(t.data_type(schema)?);
                }
                if let Some(e) = else_expr {
                    types.push(e.data_type(schema)?);
                }
                common_supertype(types.iter()).unwrap_or(DataType::Null)
            }
            Expr::Cast { data_type, .. } => data_type.clone(),
            Expr::ScalarFunction(call) => {
                let types = call
                    .args
                    .iter()
                    .map(|a| a.data_type(schema))
                    .collect::<Result<Vec<_>>>()?;
                call.func.signature(&types)?.1
            }
            Expr::Aggregate(a) => {
                let types = a
                    .args
                    .iter()
                    .map(|e| e.data_type(schema))
                    .collect::<Result<Vec<_>>>()?;
                a.func.signature(&types)?.1
            }
            Expr::Window(w) => window_type(w, schema)?,
            Expr::ScalarSubquery(sq) => subquery_type(sq)?,
            Expr::Wildcard(_) => return Err(Error::plan("* is not allowed here")),
        })
    }

    /// Whether the expression may produce NULL over rows of `schema`.
    pub fn nullable(&self, schema: &PlanSchema) -> Result<bool> {
        Ok(match self {
            Expr::Column(c) => schema.field(schema.index_of(c)?).is_nullable(),
            Expr::OuterColumn(..) => true,
            Expr::Literal(v) => v.is_null(),
            Expr::Alias(e, _) | Expr::Not(e) | Expr::Negative(e) => e.nullable(schema)?,
            Expr::Cast { expr, try_, .. } => *try_ || expr.nullable(schema)?,
            Expr::Binary(l, op, r) => match op {
                BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => false,
                _ => l.nullable(schema)? || r.nullable(schema)?,
            },
            Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::IsBool(..) | Expr::Exists { .. } => false,
            Expr::Between {
                expr, low, high, ..
            } => expr.nullable(schema)? || low.nullable(schema)? || high.nullable(schema)?,
            Expr::Like { expr, pattern, .. } => {
                expr.nullable(schema)? || pattern.nullable(schema)?
            }
            Expr::Aggregate(a) => a.func.null_on_empty(),
            Expr::Window(w) => !matches!(
                w.func,
                WindowFunc::RowNumber
                    | WindowFunc::Rank
                    | WindowFunc::DenseRank
                    | WindowFunc::PercentRank
                    | WindowFunc::CumeDist
            ),
            _ => true,
        })
    }

    /// The output field (qualifier and Arrow field) this expression produces in a projection.
    pub fn to_field(&self, schema: &PlanSchema) -> Result<(Option<Arc<str>>, Field)> {
        let qualifier = match self {
            Expr::Column(c) => schema.qualifier(schema.index_of(c)?).cloned(),
            _ => None,
        };
        let mut field = Field::new(
            self.output_name(),
            self.data_type(schema)?,
            self.nullable(schema)?,
        );
        if let Expr::Column(c) = self {
            // keep field metadata of plain column references
            let f = schema.field(schema.index_of(c)?);
            field = field.with_metadata(f.metadata().clone());
        }
        Ok((qualifier, field))
    }
}

fn subquery_type(sq: &Subquery) -> Result<DataType> {
    let s = sq.plan.schema();
    if s.len() != 1 {
        return Err(Error::plan(format!(
            "a scalar subquery must return exactly one column, but returns {}",
            s.len()
        )));
    }
    Ok(s.data_type(0).clone())
}

fn window_type(w: &WindowCall, schema: &PlanSchema) -> Result<DataType> {
    Ok(match &w.func {
        WindowFunc::Aggregate(f) => {
            let types = w
                .args
                .iter()
                .map(|e| e.data_type(schema))
                .collect::<Result<Vec<_>>>()?;
            f.signature(&types)?.1
        }
        WindowFunc::RowNumber | WindowFunc::Rank | WindowFunc::DenseRank | WindowFunc::Ntile => {
            DataType::Int64
        }
        WindowFunc::PercentRank | WindowFunc::CumeDist => DataType::Float64,
        WindowFunc::Lag
        | WindowFunc::Lead
        | WindowFunc::FirstValue
        | WindowFunc::LastValue
        | WindowFunc::NthValue => match w.args.first() {
            Some(a) => a.data_type(schema)?,
            None => {
                return Err(Error::plan(format!(
                    "{}() needs an argument",
                    w.func.name()
                )));
            }
        },
    })
}

/// Casts `expr` (of type `from`) to `to`, folding literal casts right away.
pub fn cast_expr(expr: Expr, from: &DataType, to: &DataType) -> Result<Expr> {
    if from == to {
        return Ok(expr);
    }
    if let Expr::Literal(v) = &expr {
        return Ok(Expr::Literal(cast_literal(v, to)?));
    }
    if !can_cast(from, to) {
        return Err(Error::type_mismatch(format!(
            "cannot cast {} to {}",
            sql_type_name(from),
            sql_type_name(to)
        )));
    }
    Ok(Expr::Cast {
        expr: Box::new(expr),
        data_type: to.clone(),
        try_: false,
    })
}

/// Casts a literal value, with SQL's error message when it does not fit.
pub fn cast_literal(v: &ScalarValue, to: &DataType) -> Result<ScalarValue> {
    if v.data_type() == *to {
        return Ok(v.clone());
    }
    if v.is_null() {
        return Ok(ScalarValue::try_from(to)?);
    }
    let arr = v.to_array_of_size(1)?;
    let casted = crate::physical_expr::cast::cast_array(&arr, to, false).map_err(|e| {
        Error::type_mismatch(format!(
            "cannot cast {} to {}: {}",
            crate::logical::display::literal_sql(v),
            sql_type_name(to),
            e.message()
        ))
    })?;
    Ok(ScalarValue::try_from_array(&casted, 0)?)
}

/// Applies the coercion rules to `expr` over `schema`, inserting casts and checking names.
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

/// Checks that `plan` produces exactly one column, as IN and scalar subqueries need.
pub fn check_single_column(plan: &LogicalPlan, what: &str) -> Result<()> {
    let n = plan.schema().len();
    if n != 1 {
        return Err(Error::plan(format!(
            "{what} subquery must return one column, but returns {n}"
        )));
    }
    Ok(())
}
