//! `coalesce(a, b, ...)`: the first non-NULL argument. Later arguments are
//! evaluated only on the rows still NULL, so `coalesce(x, 1/0)` does not fail
//! where `x` has a value.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray};
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::physical_expr::cast::cast_array;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// The first non-NULL of its arguments.
#[derive(Debug)]
pub struct CoalesceExpr {
    args: Vec<PhysicalExprRef>,
    data_type: DataType,
}

impl CoalesceExpr {
    /// `coalesce(args...)` producing `data_type`.
    pub fn new(args: Vec<PhysicalExprRef>, data_type: DataType) -> Self {
        CoalesceExpr { args, data_type }
    }
}

impl fmt::Display for CoalesceExpr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self
            .args
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        write!(f, "coalesce({a})")
    }
}

impl PhysicalExpr for CoalesceExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }
    fn nullable(&self) -> bool {
        self.args.iter().all(|a| a.nullable())
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        self.args.iter().collect()
    }
    #[recursive::recursive]
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        let mut result = arrow::array::new_null_array(&self.data_type, n);
        let mut missing = BooleanArray::from(vec![true; n]);
        for arg in &self.args {
            if missing.true_count() == 0 {
                break;
            }
            let v = arg.evaluate_selection(batch, &missing)?.into_array(n)?;
            let v = cast_array(&v, &self.data_type, false)?;
            // take the value where it is not NULL and still missing
            let has = match v.logical_nulls() {
                Some(nulls) => BooleanArray::new(missing.values() & nulls.inner(), None),
                None => missing.clone(),
            };
            if has.true_count() > 0 {
                result = zip(&has, &v, &result)?;
            }
            missing = BooleanArray::new(missing.values() & &!has.values(), None);
        }
        Ok(ColumnarValue::Array(result))
    }
}
