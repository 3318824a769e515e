//! Binary operators on whole arrays (or an array and a scalar), using Arrow's
//! kernels: checked arithmetic (overflow and division by zero are errors),
//! comparisons, Kleene AND/OR, `IS [NOT] DISTINCT FROM` and `||`.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int32Array, Int64Array};
use arrow::compute::kernels::{cmp, numeric};
use arrow::datatypes::{DataType, Date32Type};
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

use crate::error::{Error, Result};
use crate::logical::expr::BinaryOp;
use crate::physical_expr::cast::cast_array;
use crate::physical_expr::decimal_arith::decimal_arithmetic;
use crate::physical_expr::{ColumnarValue, PhysicalExpr, PhysicalExprRef};

/// `left op right`.
#[derive(Debug)]
pub struct BinaryExpr {
    left: PhysicalExprRef,
    op: BinaryOp,
    right: PhysicalExprRef,
    data_type: DataType,
}

impl BinaryExpr {
    /// A binary expression producing `data_type`.
    pub fn new(
        left: PhysicalExprRef,
        op: BinaryOp,
        right: PhysicalExprRef,
        data_type: DataType,
    ) -> Self {
        BinaryExpr {
            left,
            op,
            right,
            data_type,
        }
    }
    /// The operator.
    pub fn op(&self) -> BinaryOp {
        self.op
    }
    /// Left operand.
    pub fn left(&self) -> &PhysicalExprRef {
        &self.left
    }
    /// Right operand.
    pub fn right(&self) -> &PhysicalExprRef {
        &self.right
    }
}

impl fmt::Display for BinaryExpr {
    #[recursive::recursive]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({} {} {})", self.left, self.op, self.right)
    }
}

fn to_bool(v: &ColumnarValue, n: usize) -> Result<BooleanArray> {
    let a = v.to_array(n)?;
    match a.data_type() {
        DataType::Boolean => Ok(a.as_boolean().clone()),
        DataType::Null => Ok(BooleanArray::new_null(n)),
        other => Err(Error::internal(format!(
            "expected boolean operand, got {other}"
        ))),
    }
}

fn all_null_bool(n: usize) -> ColumnarValue {
    let _ = n;
    ColumnarValue::Scalar(ScalarValue::Boolean(None))
}

impl PhysicalExpr for BinaryExpr {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }
    fn nullable(&self) -> bool {
        match self.op {
            BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => false,
            _ => self.left.nullable() || self.right.nullable(),
        }
    }
    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.left, &self.right]
    }

    #[recursive::recursive]
    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows();
        let l = self.left.evaluate(batch)?;
        match self.op {
            BinaryOp::And | BinaryOp::Or => {
                // short-circuit when the left side decides every row
                let is_and = self.op == BinaryOp::And;
                if let ColumnarValue::Scalar(ScalarValue::Boolean(Some(b))) = &l {
                    if *b != is_and {
                        return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(*b))));
                    }
                    return self.right.evaluate(batch);
                }
                let lb = to_bool(&l, n)?;
                if lb.null_count() == 0 {
                    let t = lb.true_count();
                    if is_and && t == 0 {
                        return Ok(ColumnarValue::Array(Arc::new(lb)));
                    }
                    if !is_and && t == n {
                        return Ok(ColumnarValue::Array(Arc::new(lb)));
                    }
                }
                let r = self.right.evaluate(batch)?;
                let rb = to_bool(&r, n)?;
                let out = if is_and {
                    arrow::compute::and_kleene(&lb, &rb)?
                } else {
                    arrow::compute::or_kleene(&lb, &rb)?
                };
                Ok(ColumnarValue::Array(Arc::new(out)))
            }
            _ => {
                let r = self.right.evaluate(batch)?;
                let out = apply_binary(&l, self.op, &r, n)?;
                if let (DataType::Decimal128(p, _), true) =
                    (&self.data_type, self.op.is_arithmetic())
                    && decimal_result_may_overflow(&l.data_type(), self.op, &r.data_type())
                {
                    check_decimal_precision(&out, *p)?;
                }
                // decimal kernels pick their own precision; keep the planned type
                match out {
                    ColumnarValue::Array(a)
                        if a.data_type() != &self.data_type && self.data_type != DataType::Null =>
                    {
                        Ok(ColumnarValue::Array(cast_array(
                            &a,
                            &self.data_type,
                            false,
                        )?))
                    }
                    ColumnarValue::Scalar(s)
                        if s.data_type() != self.data_type && self.data_type != DataType::Null =>
                    {
                        Ok(ColumnarValue::Scalar(s.cast_to(&self.data_type)?))
                    }
                    other => Ok(other),
                }
            }
        }
    }
}

/// Fails when a decimal result does not fit its precision (Arrow only checks the 128-bit range).
/// Whether decimal arithmetic on values of these types needs its result checked against the
/// result's precision afterwards: not `+`, `-` and `*` of two decimals (their kernel,
/// `decimal_arith`, checks as it computes), nor results whose type is exact (see
/// `decimal_arithmetic_may_overflow`).
fn decimal_result_may_overflow(l: &DataType, op: BinaryOp, r: &DataType) -> bool {
    match (l, r) {
        (DataType::Decimal128(..), DataType::Decimal128(..))
            if matches!(op, BinaryOp::Plus | BinaryOp::Minus | BinaryOp::Multiply) =>
        {
            false
        }
        (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) => {
            crate::logical::coercion::decimal_arithmetic_may_overflow(op, *p1, *s1, *p2, *s2)
        }
        _ => true,
    }
}

fn check_decimal_precision(v: &ColumnarValue, precision: u8) -> Result<()> {
    let a = match v {
        ColumnarValue::Array(a) => a.clone(),
        ColumnarValue::Scalar(s) => s.to_array_of_size(1)?,
    };
    if let DataType::Decimal128(..) = a.data_type() {
        let a = a.as_primitive::<arrow::datatypes::Decimal128Type>();
        // fast path: every slot (nulls too) within bounds, in one branch-free pass
        let p = (precision as usize).min(38);
        let (lo, hi) = (
            arrow::datatypes::MIN_DECIMAL128_FOR_EACH_PRECISION[p],
            arrow::datatypes::MAX_DECIMAL128_FOR_EACH_PRECISION[p],
        );
        let (min, max) = a
            .values()
            .iter()
            .fold((i128::MAX, i128::MIN), |(mn, mx), v| {
                (mn.min(*v), mx.max(*v))
            });
        if a.is_empty() || (min >= lo && max <= hi) {
            return Ok(());
        }
        // exact check, which skips null slots
        a.validate_decimal_precision(precision).map_err(|_| {
            Error::execution(format!(
                "numeric overflow: result does not fit DECIMAL({precision})"
            ))
        })?;
    }
    Ok(())
}

/// Applies a non-logical binary operator to two values.
pub fn apply_binary(
    l: &ColumnarValue,
    op: BinaryOp,
    r: &ColumnarValue,
    n: usize,
) -> Result<ColumnarValue> {
    let both_scalar = matches!((l, r), (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_)));
    let lt = l.data_type();
    let rt = r.data_type();
    if lt == DataType::Null || rt == DataType::Null {
        if op.is_comparison() {
            match op {
                BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => {}
                _ => return Ok(all_null_bool(n)),
            }
        } else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Null));
        }
    }
    // -0.0 equals 0.0 in comparisons
    let (l, r) = if op.is_comparison() && lt.is_floating() {
        (normalize_value(l)?, normalize_value(r)?)
    } else {
        (l.clone(), r.clone())
    };
    let (l, r) = (&l, &r);
    if let Some(result) = decimal_arithmetic(op, l, r, n)? {
        return Ok(if both_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
        } else {
            ColumnarValue::Array(result)
        });
    }
    if op.is_comparison() && lt.is_nested() {
        let out = compare_nested(op, &l.to_array(n)?, &r.to_array(n)?)?;
        return Ok(if both_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        });
    }
    let ld = l.to_datum()?;
    let rd = r.to_datum()?;
    let (ld, rd) = (ld.as_ref(), rd.as_ref());
    let result: ArrayRef = match op {
        BinaryOp::Eq => Arc::new(cmp::eq(ld, rd)?),
        BinaryOp::NotEq => Arc::new(cmp::neq(ld, rd)?),
        BinaryOp::Lt => Arc::new(cmp::lt(ld, rd)?),
        BinaryOp::LtEq => Arc::new(cmp::lt_eq(ld, rd)?),
        BinaryOp::Gt => Arc::new(cmp::gt(ld, rd)?),
        BinaryOp::GtEq => Arc::new(cmp::gt_eq(ld, rd)?),
        BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => {
            let (la, ra) = (l.to_array(n)?, r.to_array(n)?);
            let (la, ra) = null_typed(la, ra)?;
            if op == BinaryOp::IsDistinctFrom {
                Arc::new(cmp::distinct(&la, &ra)?)
            } else {
                Arc::new(cmp::not_distinct(&la, &ra)?)
            }
        }
        BinaryOp::Plus | BinaryOp::Minus if is_date_int(&lt, &rt) => date_plus_days(l, op, r, n)?,
        BinaryOp::Plus if is_date_int(&rt, &lt) => date_plus_days(r, op, l, n)?,
        BinaryOp::Minus if lt == DataType::Date32 && rt == DataType::Date32 => {
            let la = l.to_array(n)?;
            let ra = r.to_array(n)?;
            let li = la.as_primitive::<Date32Type>();
            let ri = ra.as_primitive::<Date32Type>();
            let out: Int64Array = li
                .iter()
                .zip(ri.iter())
                .map(|(a, b)| match (a, b) {
                    (Some(a), Some(b)) => Some(a as i64 - b as i64),
                    _ => None,
                })
                .collect();
            Arc::new(out)
        }
        BinaryOp::Plus => numeric::add(ld, rd)?,
        BinaryOp::Minus => numeric::sub(ld, rd)?,
        BinaryOp::Multiply => numeric::mul(ld, rd)?,
        BinaryOp::Divide
            if matches!(
                (&lt, &rt),
                (DataType::Decimal128(..), DataType::Decimal128(..))
            ) =>
        {
            decimal_divide(&l.to_array(n)?, &r.to_array(n)?)?
        }
        BinaryOp::Divide => {
            if lt.is_floating() {
                float_div_checked(l, r, n)?;
            }
            numeric::div(ld, rd)?
        }
        BinaryOp::Modulo => {
            if lt.is_floating() {
                float_div_checked(l, r, n)?;
            }
            numeric::rem(ld, rd)?
        }
        BinaryOp::StringConcat => {
            let la = l.to_array(n)?;
            let ra = r.to_array(n)?;
            arrow::compute::kernels::concat_elements::concat_elements_dyn(&la, &ra)?
        }
        BinaryOp::And | BinaryOp::Or => unreachable!("handled by BinaryExpr"),
    };
    if both_scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}

fn normalize_value(v: &ColumnarValue) -> Result<ColumnarValue> {
    Ok(match v {
        ColumnarValue::Array(a) => {
            ColumnarValue::Array(crate::physical_expr::normalize::normalize_floats(a)?)
        }
        ColumnarValue::Scalar(ScalarValue::Float64(Some(x))) => {
            ColumnarValue::Scalar(ScalarValue::Float64(Some(x + 0.0)))
        }
        ColumnarValue::Scalar(ScalarValue::Float32(Some(x))) => {
            ColumnarValue::Scalar(ScalarValue::Float32(Some(x + 0.0)))
        }
        other => other.clone(),
    })
}

/// Decimal division rounded half away from zero at the result scale `s1 + 4` (Arrow's kernel
/// truncates).
fn decimal_divide(l: &ArrayRef, r: &ArrayRef) -> Result<ArrayRef> {
    use arrow::datatypes::Decimal128Type;
    let (DataType::Decimal128(p1, s1), DataType::Decimal128(_, s2)) =
        (l.data_type(), r.data_type())
    else {
        return Err(Error::internal("decimal division of non-decimals"));
    };
    let (p1, s1, s2) = (*p1, *s1, *s2);
    let result_scale = (s1 + 4).min(38);
    let shift = (result_scale - s1 + s2) as u32;
    let precision = ((shift as i16 + p1 as i16).clamp(1, 38)) as u8;
    let mul = 10i128
        .checked_pow(shift + 1)
        .ok_or_else(|| Error::execution("numeric overflow in decimal division"))?;
    let la = l.as_primitive::<Decimal128Type>();
    let ra = r.as_primitive::<Decimal128Type>();
    let out: arrow::array::PrimitiveArray<Decimal128Type> =
        arrow::compute::kernels::arity::try_binary(la, ra, |a, b| {
            if b == 0 {
                return Err(arrow::error::ArrowError::DivideByZero);
            }
            let num = a.checked_mul(mul).ok_or_else(|| {
                arrow::error::ArrowError::ArithmeticOverflow("decimal division".into())
            })?;
            let q = num / b;
            // one extra digit decides the rounding
            let rounded = if q >= 0 { (q + 5) / 10 } else { (q - 5) / 10 };
            Ok(rounded)
        })?;
    Ok(Arc::new(
        out.with_precision_and_scale(precision, result_scale)?,
    ))
}

/// Division by zero is an error for floats too (as in PostgreSQL), not infinity.
fn float_div_checked(_l: &ColumnarValue, r: &ColumnarValue, n: usize) -> Result<()> {
    let ra = r.to_array(n)?;
    let zeros = match ra.data_type() {
        DataType::Float64 => ra
            .as_primitive::<arrow::datatypes::Float64Type>()
            .iter()
            .any(|v| v == Some(0.0)),
        DataType::Float32 => ra
            .as_primitive::<arrow::datatypes::Float32Type>()
            .iter()
            .any(|v| v == Some(0.0)),
        _ => false,
    };
    if zeros {
        return Err(Error::execution("division by zero"));
    }
    Ok(())
}

fn is_date_int(l: &DataType, r: &DataType) -> bool {
    *l == DataType::Date32 && r.is_integer()
}

fn date_plus_days(
    date: &ColumnarValue,
    op: BinaryOp,
    days: &ColumnarValue,
    n: usize,
) -> Result<ArrayRef> {
    let d = cast_array(&date.to_array(n)?, &DataType::Int32, false)?;
    let k = cast_array(&days.to_array(n)?, &DataType::Int32, false)?;
    let d = d
        .as_any()
        .downcast_ref::<Int32Array>()
        .cloned()
        .unwrap_or_else(|| Int32Array::new_null(n));
    let k = k
        .as_any()
        .downcast_ref::<Int32Array>()
        .cloned()
        .unwrap_or_else(|| Int32Array::new_null(n));
    let out = if op == BinaryOp::Minus {
        numeric::sub(&d, &k)?
    } else {
        numeric::add(&d, &k)?
    };
    cast_array(&out, &DataType::Date32, false)
}

/// `distinct` kernels need equal types; a NULL-typed side takes the other's type.
fn null_typed(l: ArrayRef, r: ArrayRef) -> Result<(ArrayRef, ArrayRef)> {
    match (l.data_type(), r.data_type()) {
        (DataType::Null, t) if *t != DataType::Null => {
            let t = t.clone();
            Ok((arrow::array::new_null_array(&t, l.len()), r))
        }
        (t, DataType::Null) if *t != DataType::Null => {
            let t = t.clone();
            Ok((l.clone(), arrow::array::new_null_array(&t, r.len())))
        }
        (DataType::Null, DataType::Null) => {
            let b: ArrayRef = Arc::new(BooleanArray::new_null(l.len()));
            Ok((b.clone(), b))
        }
        _ => Ok((l, r)),
    }
}

/// A comparison of lists or structs (Arrow's comparison kernels take only flat types): element
/// by element, in the order ORDER BY uses (a NULL element sorts last); a NULL value gives NULL,
/// except for `IS [NOT] DISTINCT FROM`.
pub fn compare_nested(op: BinaryOp, l: &ArrayRef, r: &ArrayRef) -> Result<ArrayRef> {
    use std::cmp::Ordering;
    let options = arrow::compute::SortOptions {
        descending: false,
        nulls_first: false,
    };
    let cmp = arrow::array::make_comparator(l, r, options)?;
    let out: arrow::array::BooleanArray = (0..l.len())
        .map(|i| {
            let (ln, rn) = (l.is_null(i), r.is_null(i));
            match op {
                BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => {
                    let same = match (ln, rn) {
                        (true, true) => true,
                        (false, false) => cmp(i, i) == Ordering::Equal,
                        _ => false,
                    };
                    Some(same == (op == BinaryOp::IsNotDistinctFrom))
                }
                _ if ln || rn => None,
                _ => {
                    let o = cmp(i, i);
                    Some(match op {
                        BinaryOp::Eq => o == Ordering::Equal,
                        BinaryOp::NotEq => o != Ordering::Equal,
                        BinaryOp::Lt => o == Ordering::Less,
                        BinaryOp::LtEq => o != Ordering::Greater,
                        BinaryOp::Gt => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    })
                }
            }
        })
        .collect();
    Ok(Arc::new(out))
}
