//! One-operand expressions: `NOT`, unary minus, `IS [NOT] NULL`, `IS [NOT] TRUE/FALSE/UNKNOWN`.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// Which one-operand operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `NOT x` (NULL stays NULL).
    Not,
    /// `-x` (overflow is an error).
    Negative,
    /// `x IS NULL`.
    IsNull,
    /// `x IS NOT NULL`.
    IsNotNull,
    /// `x IS TRUE`.
    IsTrue,
    /// `x IS FALSE`.
    IsFalse,
    /// `x IS UNKNOWN`.
    IsUnknown,
    /// `x IS NOT TRUE`.
    IsNotTrue,
    /// `x IS NOT FALSE`.
    IsNotFalse,
    /// `x IS NOT UNKNOWN`.
    IsNotUnknown,
}

/// A one-operand expression.
#[derive(Debug)]
pub struct UnaryExpr {
    op: UnaryOp,
    expr: PhysicalExprRef,
    data_type: DataType,
}

impl UnaryExpr {
    /// A unary expression.
    pub fn new(op: UnaryOp, expr: PhysicalExprRef) -> Self {
        let data_type = match op {
            UnaryOp::Negative => expr.data_type().clone(),
            _ => DataType::Boolean,
        };
        UnaryExpr {
            op,
            expr,
            data_type,
        }
    }
}

impl fmt::Display for UnaryExpr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            UnaryOp::Not => write!(f, "NOT {}", self.expr),
            UnaryOp::Negative => write!(f, "(- {})", self.expr),
            UnaryOp::IsNull => write!(f, "{} IS NULL", self.expr),
            UnaryOp::IsNotNull => write!(f, "{} IS NOT NULL", self.expr),
            UnaryOp::IsTrue => write!(f, "{} IS TRUE", self.expr),
            UnaryOp::IsFalse => write!(f, "{} IS FALSE", self.expr),
            UnaryOp::IsUnknown => write!(f, "{} IS UNKNOWN", self.expr),
            UnaryOp::IsNotTrue => write!(f, "{} IS NOT TRUE", self.expr),
            UnaryOp::IsNotFalse => write!(f, "{} IS NOT FALSE", self.expr),
            UnaryOp::IsNotUnknown => write!(f, "{} IS NOT UNKNOWN", self.expr),
        }
    }
}

fn bool_test(a: &BooleanArray, f: impl Fn(Option<bool>) -> bool) -> BooleanArray {
    a.iter().map(|v| Some(f(v))).collect()
}

impl PhysicalExpr for UnaryExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }
    fn nullable(&self) -> bool {
        matches!(self.op, UnaryOp::Not | UnaryOp::Negative) && self.expr.nullable()
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.expr]
    }
    #[recursive::recursive]
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let v = self.expr.evaluate(batch)?;
        let n = batch.num_rows();
        if let ColumnarValue::Scalar(s) = &v {
            // evaluate on a one-row array and return a scalar
            let a = s.to_array_of_size(1)?;
            let r = self.apply(&a)?;
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&r, 0)?));
        }
        let a = v.into_array(n)?;
        Ok(ColumnarValue::Array(self.apply(&a)?))
    }
}

impl UnaryExpr {
    fn apply(&self, a: &arrow::array::ArrayRef) -> Result<arrow::array::ArrayRef> {
        Ok(match self.op {
            UnaryOp::IsNull => Arc::new(arrow::compute::is_null(a)?),
            UnaryOp::IsNotNull => Arc::new(arrow::compute::is_not_null(a)?),
            UnaryOp::Negative => arrow::compute::kernels::numeric::neg(a)?,
            op => {
                let b = match a.data_type() {
                    DataType::Boolean => a.as_boolean().clone(),
                    DataType::Null => BooleanArray::new_null(a.len()),
                    other => return Err(Error::internal(format!("boolean test on {other}"))),
                };
                Arc::new(match op {
                    UnaryOp::Not => arrow::compute::not(&b)?,
                    UnaryOp::IsTrue => bool_test(&b, |v| v == Some(true)),
                    UnaryOp::IsFalse => bool_test(&b, |v| v == Some(false)),
                    UnaryOp::IsUnknown => bool_test(&b, |v| v.is_none()),
                    UnaryOp::IsNotTrue => bool_test(&b, |v| v != Some(true)),
                    UnaryOp::IsNotFalse => bool_test(&b, |v| v != Some(false)),
                    UnaryOp::IsNotUnknown => bool_test(&b, |v| v.is_some()),
                    _ => unreachable!(),
                })
            }
        })
    }
}

/// Number of NULLs in an array (helper for callers).
pub fn null_count(a: &dyn Array) -> usize {
    a.null_count()
}
