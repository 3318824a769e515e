//! `expr [NOT] IN (v1, v2, ...)` with SQL's NULL rules: no match and a NULL
//! among the candidates (or a NULL tested value) gives NULL, not false.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, BooleanBuilder, Scalar};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};

use crate::error::Result;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// `expr [NOT] IN (list)`.
#[derive(Debug)]
pub struct InListExpr {
    expr: PhysicalExprRef,
    list: Vec<PhysicalExprRef>,
    negated: bool,
}

impl InListExpr {
    /// An IN list; all items already have the tested expression's type.
    pub fn new(expr: PhysicalExprRef, list: Vec<PhysicalExprRef>, negated: bool) -> Self {
        InListExpr {
            expr,
            list,
            negated,
        }
    }
}

impl fmt::Display for InListExpr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = self
            .list
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        write!(
            f,
            "{} {}IN ({items})",
            self.expr,
            if self.negated { "NOT " } else { "" }
        )
    }
}

/// Lists of at most this many values are tested with one vectorized comparison per value;
/// longer ones with a hash set.
const COMPARE_EACH_MAX: usize = 12;

/// Whether Arrow's comparison kernels compare values of this type against a scalar.
fn comparable(t: &DataType) -> bool {
    t.is_primitive()
        || matches!(
            t,
            DataType::Boolean
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Binary
                | DataType::LargeBinary
                | DataType::BinaryView
                | DataType::FixedSizeBinary(_)
        )
}

/// Tests each value of `values` for membership in `candidates`, with SQL NULL semantics.
pub fn in_set(values: &ArrayRef, candidates: &ArrayRef, negated: bool) -> Result<BooleanArray> {
    // anything IN () is false and NOT IN () true, even NULL
    if candidates.is_empty() {
        return Ok(BooleanArray::from(vec![negated; values.len()]));
    }
    let values = &crate::physical_expr::normalize::normalize_floats(values)?;
    let candidates = &crate::physical_expr::normalize::normalize_floats(candidates)?;
    let list_has_null = candidates.null_count() > 0;
    if candidates.len() <= COMPARE_EACH_MAX
        && comparable(values.data_type())
        && candidates.data_type() == values.data_type()
    {
        return compare_each(values, candidates, list_has_null, negated);
    }
    let converter = RowConverter::new(vec![SortField::new(values.data_type().clone())])?;
    let cand_rows = converter.convert_columns(std::slice::from_ref(candidates))?;
    let mut set: HashSet<&[u8], foldhash::fast::RandomState> =
        HashSet::with_capacity_and_hasher(cand_rows.num_rows(), Default::default());
    for i in 0..cand_rows.num_rows() {
        if candidates.is_valid(i) {
            set.insert(cand_rows.row(i).data());
        }
    }
    let rows = converter.convert_columns(std::slice::from_ref(values))?;
    let mut out = BooleanBuilder::with_capacity(values.len());
    for i in 0..values.len() {
        if values.is_null(i) {
            out.append_null();
            continue;
        }
        let found = set.contains(rows.row(i).as_ref());
        if found {
            out.append_value(!negated);
        } else if list_has_null {
            out.append_null();
        } else {
            out.append_value(negated);
        }
    }
    Ok(out.finish())
}

/// `in_set` for a short list: an OR of equality comparisons with each (non-NULL) value.
fn compare_each(
    values: &ArrayRef,
    candidates: &ArrayRef,
    list_has_null: bool,
    negated: bool,
) -> Result<BooleanArray> {
    let mut found: Option<BooleanArray> = None;
    for i in 0..candidates.len() {
        if candidates.is_null(i) {
            continue;
        }
        let item = Scalar::new(candidates.slice(i, 1));
        let eq = arrow::compute::kernels::cmp::eq(values, &item)?;
        found = Some(match found {
            None => eq,
            Some(f) => arrow::compute::or(&f, &eq)?,
        });
    }
    // NULL where the value is NULL (the comparisons keep those NULLs)
    let found = match found {
        Some(f) => f,
        None => BooleanArray::new(
            arrow::buffer::BooleanBuffer::new_unset(values.len()),
            values.logical_nulls(),
        ),
    };
    // no match with a NULL in the list: NULL
    let found = if list_has_null {
        let (bits, nulls) = found.into_parts();
        let matched = arrow::buffer::NullBuffer::new(bits.clone());
        let validity = match nulls {
            Some(n) => n.inner() & matched.inner(),
            None => matched.into_inner(),
        };
        BooleanArray::new(bits, Some(arrow::buffer::NullBuffer::new(validity)))
    } else {
        found
    };
    Ok(if negated {
        arrow::compute::not(&found)?
    } else {
        found
    })
}

impl PhysicalExpr for InListExpr {
    fn data_type(&self) -> &DataType {
        &DataType::Boolean
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        std::iter::once(&self.expr)
            .chain(self.list.iter())
            .collect()
    }
    #[recursive::recursive]
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        let value = self.expr.evaluate(batch)?.into_array(n)?;
        if value.data_type() == &DataType::Null {
            return Ok(ColumnarValue::Array(Arc::new(BooleanArray::new_null(n))));
        }
        let all_scalar = self.list.iter().all(|e| e.literal_value().is_some());
        if all_scalar {
            // constant list: one set for the whole batch
            let one = RecordBatch::try_new_with_options(
                Arc::new(arrow::datatypes::Schema::empty()),
                vec![],
                &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(1)),
            )?;
            let items = self
                .list
                .iter()
                .map(|e| e.evaluate(&one)?.into_array(1))
                .collect::<Result<Vec<_>>>()?;
            let refs: Vec<&dyn Array> = items.iter().map(|a| a.as_ref()).collect();
            let candidates = arrow::compute::concat(&refs)?;
            let candidates =
                crate::physical_expr::cast::cast_array(&candidates, value.data_type(), false)?;
            return Ok(ColumnarValue::Array(Arc::new(in_set(
                &value,
                &candidates,
                self.negated,
            )?)));
        }
        // per-row candidates: OR of equalities with Kleene logic
        let mut acc: Option<BooleanArray> = None;
        for item in &self.list {
            let iv = item.evaluate(batch)?;
            let eq = crate::physical_expr::binary::apply_binary(
                &ColumnarValue::Array(value.clone()),
                crate::logical::expr::BinaryOp::Eq,
                &iv,
                n,
            )?
            .into_array(n)?;
            let eq = eq
                .as_any()
                .downcast_ref::<BooleanArray>()
                .cloned()
                .unwrap_or_else(|| BooleanArray::new_null(n));
            acc = Some(match acc {
                None => eq,
                Some(a) => arrow::compute::or_kleene(&a, &eq)?,
            });
        }
        let mut res = acc.unwrap_or_else(|| BooleanArray::from(vec![false; n]));
        if self.negated {
            res = arrow::compute::not(&res)?;
        }
        Ok(ColumnarValue::Array(Arc::new(res)))
    }
}
