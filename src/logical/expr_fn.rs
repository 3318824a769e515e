//! Free functions that build expressions: `col("a").gt(lit(1))`.

use datafusion_common::ScalarValue;

use crate::logical::expr::Expr;
use crate::logical::schema::Column;

/// A column reference; `"t.a"` is the column `a` of relation `t`.
pub fn col(name: &str) -> Expr {
    match name.split_once('.') {
        Some((q, n)) if !q.is_empty() && !n.is_empty() => Expr::Column(Column::new(Some(q), n)),
        _ => Expr::Column(Column::bare(name)),
    }
}

/// A literal value.
pub fn lit(v: impl Into<ScalarValue>) -> Expr {
    Expr::Literal(v.into())
}
