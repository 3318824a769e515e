//! A constant.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::error::Result;
use crate::physical_expr::{ColumnarValue, PhysicalExpr};

/// A literal value.
#[derive(Debug, Clone)]
pub struct LiteralExpr {
    value: ScalarValue,
    data_type: DataType,
}

impl LiteralExpr {
    /// A literal.
    pub fn new(value: ScalarValue) -> Self {
        let data_type = value.data_type();
        LiteralExpr { value, data_type }
    }
    /// The value.
    pub fn value(&self) -> &ScalarValue {
        &self.value
    }
}

impl fmt::Display for LiteralExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::logical::display::literal_sql(&self.value))
    }
}

impl PhysicalExpr for LiteralExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }
    fn nullable(&self) -> bool {
        self.value.is_null()
    }
    fn evaluate(&self, _batch: &RecordBatch) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![]
    }
    fn literal_value(&self) -> Option<&ScalarValue> {
        Some(&self.value)
    }
}
