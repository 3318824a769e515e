//! `CAST` and `TRY_CAST` with SQL's rules on top of Arrow's cast kernel:
//! a value that does not convert is an error (or NULL for `TRY_CAST`), and
//! timestamps print as `YYYY-MM-DD HH:MM:SS`.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::compute::CastOptions;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::util::display::FormatOptions;

use crate::error::{Error, Result};
use crate::logical::types::sql_type_name;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";

/// Casts an array, failing (or giving NULL when `try_`) on values that do not convert.
pub fn cast_array(array: &ArrayRef, to: &DataType, try_: bool) -> Result<ArrayRef> {
    if array.data_type() == to {
        return Ok(array.clone());
    }
    let options = CastOptions {
        safe: try_,
        format_options: FormatOptions::default()
            .with_timestamp_format(Some(TIMESTAMP_FORMAT))
            .with_datetime_format(Some(TIMESTAMP_FORMAT)),
    };
    // Arrow rounds floats to integers by truncating and accepts any string for booleans it knows;
    // both match SQLite's CAST. Strings with surrounding spaces convert after trimming.
    let source = match (array.data_type(), to) {
        (DataType::Utf8, t) if t.is_numeric() || t.is_temporal() || *t == DataType::Boolean => {
            trim_strings(array)
        }
        _ => array.clone(),
    };
    arrow::compute::cast_with_options(&source, to, &options).map_err(|e| {
        let detail = match e {
            arrow::error::ArrowError::CastError(m) | arrow::error::ArrowError::ParseError(m) => m,
            other => other.to_string(),
        };
        Error::execution(format!(
            "cannot cast {} to {}: {detail}",
            sql_type_name(array.data_type()),
            sql_type_name(to)
        ))
    })
}

fn trim_strings(array: &ArrayRef) -> ArrayRef {
    let s = array.as_any().downcast_ref::<arrow::array::StringArray>();
    match s {
        Some(s)
            if s.iter()
                .any(|v| v.is_some_and(|v| v.starts_with(' ') || v.ends_with(' '))) =>
        {
            Arc::new(
                s.iter()
                    .map(|v| v.map(str::trim))
                    .collect::<arrow::array::StringArray>(),
            )
        }
        _ => array.clone(),
    }
}

/// `CAST(expr AS type)`.
#[derive(Debug)]
pub struct CastExpr {
    expr: PhysicalExprRef,
    to: DataType,
    try_: bool,
}

impl CastExpr {
    /// A cast.
    pub fn new(expr: PhysicalExprRef, to: DataType, try_: bool) -> Self {
        CastExpr { expr, to, try_ }
    }
}

impl fmt::Display for CastExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CAST({} AS {})", self.expr, sql_type_name(&self.to))
    }
}

impl PhysicalExpr for CastExpr {
    fn data_type(&self) -> &DataType {
        &self.to
    }
    fn nullable(&self) -> bool {
        self.try_ || self.expr.nullable()
    }
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        match self.expr.evaluate(batch)? {
            ColumnarValue::Array(a) => {
                Ok(ColumnarValue::Array(cast_array(&a, &self.to, self.try_)?))
            }
            ColumnarValue::Scalar(s) => {
                let a = s.to_array_of_size(1)?;
                let c = cast_array(&a, &self.to, self.try_)?;
                Ok(ColumnarValue::Scalar(
                    datafusion_common::ScalarValue::try_from_array(&c, 0)?,
                ))
            }
        }
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.expr]
    }
}

/// Whether an array has any value at all (used by callers deciding on fast paths).
pub fn has_values(a: &dyn Array) -> bool {
    a.len() > a.null_count()
}
