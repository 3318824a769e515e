//! Row-group pruning: a conjunct `column op literal` (op one of = < <= > >=,
//! also BETWEEN and IN lists) rules out a row group when its min/max
//! statistics show no row can satisfy it. Evaluated with Arrow kernels over
//! the per-row-group min and max arrays.

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::compute::kernels::cmp;
use arrow::datatypes::Schema;
use datafusion_common::ScalarValue;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::file::metadata::ParquetMetaData;

use crate::error::Result;
use crate::logical::expr::{BinaryOp, Expr};

/// Which row groups of a file may contain rows matching all `conjuncts` (true = keep).
pub fn prune_row_groups(
    meta: &ParquetMetaData,
    arrow_schema: &Schema,
    parquet_schema: &parquet::schema::types::SchemaDescriptor,
    conjuncts: &[Expr],
) -> Vec<bool> {
    let n = meta.num_row_groups();
    let mut keep = vec![true; n];
    for c in conjuncts {
        if let Ok(Some(mask)) = conjunct_mask(meta, arrow_schema, parquet_schema, c) {
            for (i, k) in keep.iter_mut().enumerate() {
                if mask.is_valid(i) && !mask.value(i) {
                    *k = false;
                }
            }
        }
    }
    keep
}

fn column_and_literal(e: &Expr) -> Option<(String, BinaryOp, ScalarValue)> {
    if let Expr::Binary(l, op, r) = e {
        match (l.unaliased(), r.unaliased()) {
            (Expr::Column(c), Expr::Literal(v)) => return Some((c.name.clone(), *op, v.clone())),
            (Expr::Literal(v), Expr::Column(c)) => {
                return Some((c.name.clone(), op.swap()?, v.clone()));
            }
            _ => {}
        }
    }
    None
}

fn stats(
    meta: &ParquetMetaData,
    arrow_schema: &Schema,
    parquet_schema: &parquet::schema::types::SchemaDescriptor,
    col: &str,
) -> Result<Option<(ArrayRef, ArrayRef)>> {
    if arrow_schema.column_with_name(col).is_none() {
        return Ok(None);
    }
    let conv = StatisticsConverter::try_new(col, arrow_schema, parquet_schema)?;
    let mins = conv.row_group_mins(meta.row_groups().iter())?;
    let maxes = conv.row_group_maxes(meta.row_groups().iter())?;
    Ok(Some((mins, maxes)))
}

fn literal_as(v: &ScalarValue, like: &ArrayRef) -> Option<arrow::array::Scalar<ArrayRef>> {
    if v.is_null() {
        return None;
    }
    let v = if v.data_type() == *like.data_type() {
        v.clone()
    } else {
        v.cast_to(like.data_type()).ok()?
    };
    v.to_scalar().ok()
}

/// Keep-mask for one conjunct; `None` when the conjunct cannot be used for pruning.
fn conjunct_mask(
    meta: &ParquetMetaData,
    arrow_schema: &Schema,
    parquet_schema: &parquet::schema::types::SchemaDescriptor,
    e: &Expr,
) -> Result<Option<BooleanArray>> {
    match e {
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } => {
            let lo = Expr::binary(expr.as_ref().clone(), BinaryOp::GtEq, low.as_ref().clone());
            let hi = Expr::binary(expr.as_ref().clone(), BinaryOp::LtEq, high.as_ref().clone());
            let a = conjunct_mask(meta, arrow_schema, parquet_schema, &lo)?;
            let b = conjunct_mask(meta, arrow_schema, parquet_schema, &hi)?;
            return Ok(match (a, b) {
                (Some(a), Some(b)) => Some(arrow::compute::and_kleene(&a, &b)?),
                (a, b) => a.or(b),
            });
        }
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            let mut acc: Option<BooleanArray> = None;
            for item in list {
                let eq = Expr::binary(expr.as_ref().clone(), BinaryOp::Eq, item.clone());
                let Some(m) = conjunct_mask(meta, arrow_schema, parquet_schema, &eq)? else {
                    return Ok(None);
                };
                acc = Some(match acc {
                    None => m,
                    Some(a) => arrow::compute::or_kleene(&a, &m)?,
                });
            }
            return Ok(acc);
        }
        _ => {}
    }
    let Some((col, op, v)) = column_and_literal(e) else {
        return Ok(None);
    };
    let Some((mins, maxes)) = stats(meta, arrow_schema, parquet_schema, &col)? else {
        return Ok(None);
    };
    let (Some(lit_min), Some(lit_max)) = (literal_as(&v, &mins), literal_as(&v, &maxes)) else {
        return Ok(None);
    };
    let mask = match op {
        BinaryOp::Eq => arrow::compute::and_kleene(
            &cmp::lt_eq(&mins, &lit_min)?,
            &cmp::gt_eq(&maxes, &lit_max)?,
        )?,
        BinaryOp::Lt => cmp::lt(&mins, &lit_min)?,
        BinaryOp::LtEq => cmp::lt_eq(&mins, &lit_min)?,
        BinaryOp::Gt => cmp::gt(&maxes, &lit_max)?,
        BinaryOp::GtEq => cmp::gt_eq(&maxes, &lit_max)?,
        _ => return Ok(None),
    };
    Ok(Some(mask))
}
