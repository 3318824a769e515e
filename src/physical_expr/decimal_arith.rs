//! `+`, `-` and `*` on `DECIMAL` values in one pass over `i128`s.
//!
//! The result type is the one [`decimal_arithmetic_type`] gives (Arrow's rules). When that type
//! is exact — its precision is not capped at 38 — no result can overflow it (`|a| < 10^p1` and
//! `|b| < 10^p2` bound the result below `10^p`), so the kernel runs without any check. When the
//! precision is capped, each result is checked once, for `i128` overflow and against `10^38`,
//! instead of Arrow's checked kernel followed by a second pass validating the precision.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, PrimitiveArray, new_null_array};
use arrow::compute::kernels::arity::{binary, try_binary, try_unary, unary};
use arrow::datatypes::{DataType, Decimal128Type};
use arrow::error::ArrowError;
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::logical::coercion::decimal_arithmetic_type;
use crate::logical::expr::BinaryOp;
use crate::physical_expr::ColumnarValue;

/// `l op r` for two `DECIMAL` operands and `op` one of `+`, `-`, `*`; `None` for other operands.
pub fn decimal_arithmetic(
    op: BinaryOp,
    l: &ColumnarValue,
    r: &ColumnarValue,
    n: usize,
) -> Result<Option<ArrayRef>> {
    let (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) =
        (l.data_type(), r.data_type())
    else {
        return Ok(None);
    };
    if !matches!(op, BinaryOp::Plus | BinaryOp::Minus | BinaryOp::Multiply) {
        return Ok(None);
    }
    let result_type = decimal_arithmetic_type(op, p1, s1, p2, s2)?;
    let DataType::Decimal128(p, s) = result_type else {
        return Ok(None);
    };
    let (exact, fl, fr) = match op {
        BinaryOp::Multiply => ((p1 as u16 + p2 as u16) < 38, 1, 1),
        _ => {
            let int_digits = (p1 as i16 - s1 as i16).max(p2 as i16 - s2 as i16);
            let exact = int_digits + (s as i16) < 38;
            (exact, pow10(s - s1)?, pow10(s - s2)?)
        }
    };
    let kernel = Kernel {
        op,
        fl,
        fr,
        bound: 10i128.pow(p as u32),
    };
    let out = match (l, r) {
        (ColumnarValue::Array(a), ColumnarValue::Array(b)) => {
            let (a, b) = (
                a.as_primitive::<Decimal128Type>(),
                b.as_primitive::<Decimal128Type>(),
            );
            if exact {
                binary(a, b, |x, y| kernel.exact(x, y))?
            } else {
                try_binary(a, b, |x, y| kernel.checked(x, y))?
            }
        }
        (ColumnarValue::Scalar(x), ColumnarValue::Array(b)) => {
            let Some(x) = decimal_scalar(x) else {
                return Ok(Some(new_null_array(&result_type, n)));
            };
            let b = b.as_primitive::<Decimal128Type>();
            if exact {
                unary(b, |y| kernel.exact(x, y))
            } else {
                try_unary(b, |y| kernel.checked(x, y))?
            }
        }
        (ColumnarValue::Array(a), ColumnarValue::Scalar(y)) => {
            let Some(y) = decimal_scalar(y) else {
                return Ok(Some(new_null_array(&result_type, n)));
            };
            let a = a.as_primitive::<Decimal128Type>();
            if exact {
                unary(a, |x| kernel.exact(x, y))
            } else {
                try_unary(a, |x| kernel.checked(x, y))?
            }
        }
        (ColumnarValue::Scalar(x), ColumnarValue::Scalar(y)) => {
            let value = match (decimal_scalar(x), decimal_scalar(y)) {
                (Some(x), Some(y)) => Some(kernel.checked(x, y)?),
                _ => None,
            };
            PrimitiveArray::<Decimal128Type>::from(vec![value; n])
        }
    };
    Ok(Some(Arc::new(out.with_precision_and_scale(p, s)?)))
}

fn pow10(k: i8) -> Result<i128> {
    10i128
        .checked_pow(k as u32)
        .ok_or_else(|| Error::internal(format!("decimal rescale by 10^{k}")))
}

fn decimal_scalar(v: &ScalarValue) -> Option<i128> {
    match v {
        ScalarValue::Decimal128(x, _, _) => *x,
        _ => None,
    }
}

/// One operation with its operands' rescale factors and the result's bound (`10^precision`).
#[derive(Clone, Copy)]
struct Kernel {
    op: BinaryOp,
    fl: i128,
    fr: i128,
    bound: i128,
}

impl Kernel {
    /// The result when it cannot overflow (wrapping arithmetic never wraps then; null slots
    /// may hold any value and must not panic).
    #[inline(always)]
    fn exact(&self, x: i128, y: i128) -> i128 {
        match self.op {
            BinaryOp::Plus => x
                .wrapping_mul(self.fl)
                .wrapping_add(y.wrapping_mul(self.fr)),
            BinaryOp::Minus => x
                .wrapping_mul(self.fl)
                .wrapping_sub(y.wrapping_mul(self.fr)),
            _ => x.wrapping_mul(y),
        }
    }

    /// The result, or an overflow error when it does not fit the result precision.
    #[inline(always)]
    fn checked(&self, x: i128, y: i128) -> std::result::Result<i128, ArrowError> {
        let v = match self.op {
            BinaryOp::Plus => x
                .checked_mul(self.fl)
                .zip(y.checked_mul(self.fr))
                .and_then(|(a, b)| a.checked_add(b)),
            BinaryOp::Minus => x
                .checked_mul(self.fl)
                .zip(y.checked_mul(self.fr))
                .and_then(|(a, b)| a.checked_sub(b)),
            _ => x.checked_mul(y),
        };
        match v {
            Some(v) if v.unsigned_abs() < self.bound.unsigned_abs() => Ok(v),
            _ => Err(ArrowError::ArithmeticOverflow(format!(
                "Overflow happened on: {x} {} {y}",
                self.op.sql()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(values: &[Option<i128>], p: u8, s: i8) -> ColumnarValue {
        let a = PrimitiveArray::<Decimal128Type>::from(values.to_vec())
            .with_precision_and_scale(p, s)
            .expect("valid decimal type");
        ColumnarValue::Array(Arc::new(a))
    }

    fn run(op: BinaryOp, l: &ColumnarValue, r: &ColumnarValue) -> Result<Vec<Option<i128>>> {
        let out = decimal_arithmetic(op, l, r, 3)?.expect("decimal operands");
        Ok(out.as_primitive::<Decimal128Type>().iter().collect())
    }

    #[test]
    fn rescales_and_keeps_nulls() {
        // 1.50 + 2.5 = 4.00; NULL stays NULL; -0.01 - 1.0 = -1.01
        let l = dec(&[Some(150), None, Some(-1)], 15, 2);
        let r = dec(&[Some(25), Some(1), Some(10)], 10, 1);
        assert_eq!(
            run(BinaryOp::Plus, &l, &r).expect("add"),
            [Some(400), None, Some(99)]
        );
        assert_eq!(
            run(BinaryOp::Minus, &l, &r).expect("sub"),
            [Some(-100), None, Some(-101)]
        );
        assert_eq!(
            run(BinaryOp::Multiply, &l, &r).expect("mul"),
            [Some(3750), None, Some(-10)]
        );
        let one = ColumnarValue::Scalar(ScalarValue::Decimal128(Some(1), 19, 0));
        assert_eq!(
            run(BinaryOp::Minus, &one, &l).expect("scalar - array"),
            [Some(-50), None, Some(101)]
        );
    }

    #[test]
    fn capped_precision_overflows_with_an_error() {
        let big = 10i128.pow(38) - 1;
        let l = dec(&[Some(big), Some(1), None], 38, 0);
        let r = dec(&[Some(big), Some(2), None], 38, 0);
        let err = run(BinaryOp::Plus, &l, &r).expect_err("beyond 38 digits");
        assert!(err.to_string().contains("Overflow"), "{err}");
        let small = dec(&[Some(1), Some(2), None], 38, 0);
        assert_eq!(
            run(BinaryOp::Multiply, &small, &small).expect("fits"),
            [Some(1), Some(4), None]
        );
        let err = run(BinaryOp::Multiply, &l, &r).expect_err("i128 overflow");
        assert!(err.to_string().contains("Overflow"), "{err}");
    }
}
