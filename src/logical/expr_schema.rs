//! Typing of expressions against a schema, and the pass that applies the
//! coercion rules of `coercion.rs` by inserting casts.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::logical::coercion::{binary_signature, can_cast, common_supertype};
use crate::logical::expr::{BinaryOp, Expr, Subquery, WindowCall, WindowFunc};
pub use crate::logical::expr_coerce::{coerce_expr, coerce_to_boolean};
use crate::logical::plan::LogicalPlan;
use crate::logical::schema::PlanSchema;
use crate::logical::types::sql_type_name;

impl Expr {
    /// The type this expression produces over rows of `schema`. Assumes the expression has been coerced.
    #[recursive::recursive]
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
    #[recursive::recursive]
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

pub(crate) fn subquery_type(sq: &Subquery) -> Result<DataType> {
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
