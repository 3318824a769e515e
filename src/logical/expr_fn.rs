//! Free functions that build expressions: `col("a").gt(lit(1))`, `when(c, v).otherwise(d)`.
//! Function calls (`sum`, `lower`, `row_number`, ...) are in [`crate::functions::expr_fn`];
//! [`crate::prelude`] brings both into scope.
//!
//! ```
//! use flint::prelude::*;
//! let size = when(col("n").lt(lit(10)), lit("small"))
//!     .when(col("n").lt(lit(100)), lit("medium"))
//!     .otherwise(lit("large"));
//! assert_eq!(
//!     size.to_string(),
//!     "CASE WHEN n < 10 THEN 'small' WHEN n < 100 THEN 'medium' ELSE 'large' END"
//! );
//! ```

use arrow::datatypes::DataType;
use datafusion_common::ScalarValue;

use crate::logical::expr::Expr;
use crate::logical::schema::Column;

/// A column reference; `"t.a"` is the column `a` of relation `t`.
pub fn col(name: &str) -> Expr {
    Expr::Column(column(name))
}

/// The [`Column`] a name refers to; `"t.a"` is the column `a` of relation `t`.
pub fn column(name: &str) -> Column {
    match name.split_once('.') {
        Some((q, n)) if !q.is_empty() && !n.is_empty() => Column::new(Some(q), n),
        _ => Column::bare(name),
    }
}

/// A literal value (`lit(1)`, `lit("a")`, `lit(2.5)`, `lit(ScalarValue::Null)`).
pub fn lit(v: impl Into<ScalarValue>) -> Expr {
    Expr::Literal(v.into())
}

/// A typed NULL literal.
pub fn null_lit(data_type: &DataType) -> Expr {
    Expr::Literal(ScalarValue::try_from(data_type).unwrap_or(ScalarValue::Null))
}

/// `NOT e`.
pub fn not(e: Expr) -> Expr {
    Expr::Not(Box::new(e))
}

/// `CAST(e AS data_type)`.
pub fn cast(e: Expr, data_type: DataType) -> Expr {
    e.cast_to(data_type)
}

/// `TRY_CAST(e AS data_type)`: NULL where a value does not convert.
pub fn try_cast(e: Expr, data_type: DataType) -> Expr {
    e.try_cast(data_type)
}

/// Starts a searched `CASE WHEN condition THEN value ...`; finish with
/// [`otherwise`](CaseBuilder::otherwise) or [`end`](CaseBuilder::end).
pub fn when(condition: Expr, value: Expr) -> CaseBuilder {
    CaseBuilder {
        operand: None,
        when_then: vec![(condition, value)],
    }
}

/// Starts a simple `CASE operand WHEN value THEN result ...`; add branches with
/// [`when`](CaseBuilder::when).
pub fn case(operand: Expr) -> CaseBuilder {
    CaseBuilder {
        operand: Some(operand),
        when_then: vec![],
    }
}

/// A `CASE` expression under construction.
#[derive(Debug, Clone)]
pub struct CaseBuilder {
    operand: Option<Expr>,
    when_then: Vec<(Expr, Expr)>,
}

impl CaseBuilder {
    /// Adds a `WHEN condition THEN value` branch (for `case(x)`: `WHEN x = condition`).
    pub fn when(mut self, condition: Expr, value: Expr) -> CaseBuilder {
        self.when_then.push((condition, value));
        self
    }
    /// Finishes with `ELSE value`.
    pub fn otherwise(self, value: Expr) -> Expr {
        self.build(Some(value))
    }
    /// Finishes without `ELSE` (NULL when no branch matches).
    pub fn end(self) -> Expr {
        self.build(None)
    }
    fn build(self, else_expr: Option<Expr>) -> Expr {
        Expr::Case {
            operand: self.operand.map(Box::new),
            when_then: self.when_then,
            else_expr: else_expr.map(Box::new),
        }
    }
}
