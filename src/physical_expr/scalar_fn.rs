//! A call of a scalar function over evaluated arguments.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::functions::ScalarFunction;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// `f(args...)`.
#[derive(Debug)]
pub struct ScalarFunctionExpr {
    func: Arc<dyn ScalarFunction>,
    args: Vec<PhysicalExprRef>,
    data_type: DataType,
}

impl ScalarFunctionExpr {
    /// A call returning `data_type`.
    pub fn new(
        func: Arc<dyn ScalarFunction>,
        args: Vec<PhysicalExprRef>,
        data_type: DataType,
    ) -> Self {
        ScalarFunctionExpr {
            func,
            args,
            data_type,
        }
    }
}

impl fmt::Display for ScalarFunctionExpr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args = self
            .args
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        write!(f, "{}({args})", self.func.name())
    }
}

impl PhysicalExpr for ScalarFunctionExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        self.args.iter().collect()
    }
    #[recursive::recursive]
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let args = self
            .args
            .iter()
            .map(|a| a.evaluate(batch))
            .collect::<Result<Vec<_>>>()?;
        let out = self.func.invoke(&args, batch.num_rows())?;
        // functions may return a compatible but different type (e.g. Utf8View); keep the planned one
        Ok(match out {
            ColumnarValue::Array(a)
                if a.data_type() != &self.data_type && self.data_type != DataType::Null =>
            {
                ColumnarValue::Array(crate::physical_expr::cast::cast_array(
                    &a,
                    &self.data_type,
                    false,
                )?)
            }
            ColumnarValue::Scalar(s) if s.data_type() != self.data_type && !s.is_null() => {
                ColumnarValue::Scalar(s.cast_to(&self.data_type)?)
            }
            ColumnarValue::Scalar(s) if s.is_null() && s.data_type() != self.data_type => {
                ColumnarValue::Scalar(datafusion_common::ScalarValue::try_from(&self.data_type)?)
            }
            other => other,
        })
    }
}
