//! `CASE`: each THEN (and ELSE) is evaluated only on the rows that reach it,
//! so `CASE WHEN b <> 0 THEN a / b END` never divides by zero.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::zip::zip;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// `CASE [operand] WHEN .. THEN .. ELSE .. END`.
#[derive(Debug)]
pub struct CaseExpr {
    operand: Option<PhysicalExprRef>,
    when_then: Vec<(PhysicalExprRef, PhysicalExprRef)>,
    else_expr: Option<PhysicalExprRef>,
    data_type: DataType,
}

impl CaseExpr {
    /// A CASE expression producing `data_type`.
    pub fn new(
        operand: Option<PhysicalExprRef>,
        when_then: Vec<(PhysicalExprRef, PhysicalExprRef)>,
        else_expr: Option<PhysicalExprRef>,
        data_type: DataType,
    ) -> Self {
        CaseExpr {
            operand,
            when_then,
            else_expr,
            data_type,
        }
    }
}

impl fmt::Display for CaseExpr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CASE")?;
        if let Some(o) = &self.operand {
            write!(f, " {o}")?;
        }
        for (w, t) in &self.when_then {
            write!(f, " WHEN {w} THEN {t}")?;
        }
        if let Some(e) = &self.else_expr {
            write!(f, " ELSE {e}")?;
        }
        f.write_str(" END")
    }
}

/// Treats NULL as false.
pub fn null_as_false(b: &BooleanArray) -> BooleanArray {
    match b.nulls() {
        None => b.clone(),
        Some(nulls) => BooleanArray::new(b.values() & nulls.inner(), None),
    }
}

fn to_mask(v: ColumnarValue, n: usize) -> Result<BooleanArray> {
    let a = v.into_array(n)?;
    Ok(match a.data_type() {
        DataType::Boolean => null_as_false(a.as_boolean()),
        _ => BooleanArray::new(BooleanBuffer::new_unset(n), None),
    })
}

impl PhysicalExpr for CaseExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        let mut v = vec![];
        if let Some(o) = &self.operand {
            v.push(o);
        }
        for (w, t) in &self.when_then {
            v.push(w);
            v.push(t);
        }
        if let Some(e) = &self.else_expr {
            v.push(e);
        }
        v
    }
    #[recursive::recursive]
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        let operand = match &self.operand {
            Some(o) => Some(o.evaluate(batch)?),
            None => None,
        };
        let mut result: ArrayRef = arrow::array::new_null_array(&self.data_type, n);
        let mut remaining = BooleanArray::new(BooleanBuffer::new_set(n), None);
        for (w, t) in &self.when_then {
            let cond = match &operand {
                Some(o) => {
                    let wv = w.evaluate_selection(batch, &remaining)?;
                    crate::physical_expr::binary::apply_binary(
                        o,
                        crate::logical::expr::BinaryOp::Eq,
                        &wv,
                        n,
                    )?
                }
                None => w.evaluate_selection(batch, &remaining)?,
            };
            let cond = to_mask(cond, n)?;
            let matched = BooleanArray::new(remaining.values() & cond.values(), None);
            if matched.true_count() > 0 {
                let tv = t.evaluate_selection(batch, &matched)?;
                let tv = match tv {
                    ColumnarValue::Scalar(s) if s.data_type() == self.data_type => {
                        Box::new(s.to_scalar()?) as Box<dyn arrow::array::Datum>
                    }
                    other => {
                        let a = other.into_array(n)?;
                        let a = crate::physical_expr::cast::cast_array(&a, &self.data_type, false)?;
                        Box::new(a) as Box<dyn arrow::array::Datum>
                    }
                };
                result = zip(&matched, tv.as_ref(), &result)?;
            }
            remaining = BooleanArray::new(remaining.values() & &!cond.values(), None);
            if remaining.true_count() == 0 {
                break;
            }
        }
        if let Some(e) = &self.else_expr
            && remaining.true_count() > 0
        {
            let ev = e.evaluate_selection(batch, &remaining)?;
            let ev = ev.into_array(n)?;
            let ev = crate::physical_expr::cast::cast_array(&ev, &self.data_type, false)?;
            result = zip(&remaining, &ev, &result)?;
        }
        Ok(ColumnarValue::Array(result))
    }
}
