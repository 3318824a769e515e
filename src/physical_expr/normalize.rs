//! Float keys compare as SQL says, not as IEEE total order does: `-0.0` equals
//! `0.0`. Arrow's comparison and hashing see them as different, so float keys
//! are normalized (`x + 0.0` turns `-0.0` into `0.0`; NaN stays NaN) before
//! comparisons, grouping, joins, DISTINCT and IN.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};

use crate::error::Result;

/// `array` with `-0.0` replaced by `0.0` (other types are returned as they are).
pub fn normalize_floats(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(match array.data_type() {
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            if !a.values().iter().any(|v| *v == 0.0 && v.is_sign_negative()) {
                return Ok(array.clone());
            }
            Arc::new(a.unary::<_, Float64Type>(|v| v + 0.0))
        }
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            if !a.values().iter().any(|v| *v == 0.0 && v.is_sign_negative()) {
                return Ok(array.clone());
            }
            Arc::new(a.unary::<_, Float32Type>(|v| v + 0.0))
        }
        _ => array.clone(),
    })
}

/// Normalizes every array of a key list.
pub fn normalize_keys(keys: Vec<ArrayRef>) -> Result<Vec<ArrayRef>> {
    keys.iter().map(normalize_floats).collect()
}

/// The key expressions evaluated over `batch` and normalized: the keys that grouping, joins and
/// hash partitioning compare and hash.
pub fn evaluate_keys(
    exprs: &[crate::physical_expr::PhysicalExprRef],
    batch: &arrow::record_batch::RecordBatch,
) -> Result<Vec<ArrayRef>> {
    let n = batch.num_rows();
    let keys = exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(n))
        .collect::<Result<Vec<_>>>()?;
    normalize_keys(keys)
}

/// Whether the type needs normalizing.
pub fn is_float(a: &dyn Array) -> bool {
    matches!(a.data_type(), DataType::Float32 | DataType::Float64)
}
