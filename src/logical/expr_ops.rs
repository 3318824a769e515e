//! The Rust spelling of expressions: arithmetic and logic through `std::ops`
//! (`col("a") + lit(1)`, `-x`, `!p`, `p & q`, `p | q`) and methods for the SQL operators
//! (`in_list`, `like`, `between`, `cast`, `is_true`, ...). They build the same [`Expr`] values
//! the SQL planner builds, so both run through the same coercion and optimizer.
//!
//! ```
//! use arrow::datatypes::DataType;
//! use flint::prelude::*;
//! let e = (col("price") * lit(2) + lit(1)).gt(lit(10)) & col("name").like(lit("a%"));
//! assert_eq!(e.to_string(), "price * 2 + 1 > 10 AND name LIKE 'a%'");
//! let c = col("x").cast(DataType::Int64).between(lit(1), lit(5));
//! assert_eq!(c.to_string(), "CAST(x AS BIGINT) BETWEEN 1 AND 5");
//! ```

use std::ops;

use arrow::datatypes::DataType;

use crate::logical::expr::{BinaryOp, Expr};

macro_rules! binary_op {
    ($trait:ident, $method:ident, $op:expr) => {
        impl ops::$trait for Expr {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                Expr::binary(self, $op, rhs)
            }
        }
    };
}

binary_op!(Add, add, BinaryOp::Plus);
binary_op!(Sub, sub, BinaryOp::Minus);
binary_op!(Mul, mul, BinaryOp::Multiply);
binary_op!(Div, div, BinaryOp::Divide);
binary_op!(Rem, rem, BinaryOp::Modulo);
binary_op!(BitAnd, bitand, BinaryOp::And);
binary_op!(BitOr, bitor, BinaryOp::Or);

impl ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Negative(Box::new(self))
    }
}

impl Expr {
    /// `CAST(self AS data_type)`: fails when a value does not convert.
    pub fn cast(self, data_type: DataType) -> Expr {
        self.cast_to(data_type)
    }
    /// `TRY_CAST(self AS data_type)`: NULL where a value does not convert.
    pub fn try_cast(self, data_type: DataType) -> Expr {
        Expr::Cast {
            expr: Box::new(self),
            data_type,
            try_: true,
        }
    }
    /// `self IN (list)`, or `NOT IN` when `negated`.
    pub fn in_list(self, list: Vec<Expr>, negated: bool) -> Expr {
        Expr::InList {
            expr: Box::new(self),
            list,
            negated,
        }
    }
    /// `self LIKE pattern` (`%` any string, `_` any character).
    pub fn like(self, pattern: Expr) -> Expr {
        self.like_impl(pattern, false, false)
    }
    /// `self NOT LIKE pattern`.
    pub fn not_like(self, pattern: Expr) -> Expr {
        self.like_impl(pattern, true, false)
    }
    /// `self ILIKE pattern` (case-insensitive LIKE).
    pub fn ilike(self, pattern: Expr) -> Expr {
        self.like_impl(pattern, false, true)
    }
    /// `self NOT ILIKE pattern`.
    pub fn not_ilike(self, pattern: Expr) -> Expr {
        self.like_impl(pattern, true, true)
    }
    fn like_impl(self, pattern: Expr, negated: bool, case_insensitive: bool) -> Expr {
        Expr::Like {
            negated,
            expr: Box::new(self),
            pattern: Box::new(pattern),
            case_insensitive,
            escape: None,
        }
    }
    /// `self BETWEEN low AND high` (both ends included).
    pub fn between(self, low: Expr, high: Expr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            negated: false,
            low: Box::new(low),
            high: Box::new(high),
        }
    }
    /// `self NOT BETWEEN low AND high`.
    pub fn not_between(self, low: Expr, high: Expr) -> Expr {
        Expr::Between {
            expr: Box::new(self),
            negated: true,
            low: Box::new(low),
            high: Box::new(high),
        }
    }
    /// `self IS TRUE` (false for NULL).
    pub fn is_true(self) -> Expr {
        Expr::IsBool(Box::new(self), Some(true), false)
    }
    /// `self IS FALSE` (false for NULL).
    pub fn is_false(self) -> Expr {
        Expr::IsBool(Box::new(self), Some(false), false)
    }
    /// `self IS DISTINCT FROM other` (NULL-safe `<>`).
    pub fn is_distinct_from(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::IsDistinctFrom, other)
    }
    /// `self IS NOT DISTINCT FROM other` (NULL-safe `=`).
    pub fn is_not_distinct_from(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::IsNotDistinctFrom, other)
    }
    /// `self || other` (string concatenation; NULL if either is NULL).
    pub fn concat_str(self, other: Expr) -> Expr {
        Expr::binary(self, BinaryOp::StringConcat, other)
    }
}

#[cfg(test)]
mod tests {
    use crate::logical::expr_fn::{col, lit};

    #[test]
    fn operators_build_binary_expressions() {
        let e = -(col("a") % lit(3)) / col("b") - lit(1);
        assert_eq!(e.to_string(), "-(a % 3) / b - 1");
        let p = !(col("a").is_null() | col("b").in_list(vec![lit(1), lit(2)], true));
        assert_eq!(p.to_string(), "NOT (a IS NULL OR b NOT IN (1, 2))");
    }
}
