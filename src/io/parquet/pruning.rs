//! Pruning by min/max statistics: a conjunct `column op literal` (op one of = < <= > >=, also
//! BETWEEN and IN lists) rules out a unit (a row group, or a page with the page index) when its
//! min/max show no row can satisfy it. Evaluated with Arrow kernels over the per-unit min and
//! max arrays; the units' statistics come from a [`StatsSource`].

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::compute::kernels::cmp;
use arrow::datatypes::Schema;
use datafusion_common::ScalarValue;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::file::metadata::ParquetMetaData;

use crate::error::Result;
use crate::logical::expr::{BinaryOp, Expr};

/// Min/max arrays of a column, one entry per unit (row group or page); `None` when unknown.
pub type StatsSource<'a> = dyn Fn(&str) -> Result<Option<(ArrayRef, ArrayRef)>> + 'a;

/// Which row groups of a file may contain rows matching all `conjuncts` (true = keep).
pub fn prune_row_groups(
    meta: &ParquetMetaData,
    arrow_schema: &Schema,
    parquet_schema: &parquet::schema::types::SchemaDescriptor,
    conjuncts: &[Expr],
) -> Vec<bool> {
    let n = meta.num_row_groups();
    let mut keep = vec![true; n];
    let stats = |col: &str| row_group_stats(meta, arrow_schema, parquet_schema, col);
    for c in conjuncts {
        if let Ok(Some(mask)) = conjunct_mask(c, &stats) {
            apply_mask(&mut keep, &mask);
        }
    }
    keep
}

/// Clears `keep[i]` where `mask` is false (unknown entries keep).
pub fn apply_mask(keep: &mut [bool], mask: &BooleanArray) {
    for (i, k) in keep.iter_mut().enumerate() {
        if i < mask.len() && mask.is_valid(i) && !mask.value(i) {
            *k = false;
        }
    }
}

/// The one column a prunable conjunct tests (`col op literal`, BETWEEN, IN list), if any.
pub fn conjunct_column(e: &Expr) -> Option<String> {
    match e {
        Expr::Between {
            expr,
            negated: false,
            ..
        }
        | Expr::InList {
            expr,
            negated: false,
            ..
        } => match expr.unaliased() {
            Expr::Column(c) => Some(c.name.clone()),
            _ => None,
        },
        other => column_and_literal(other).map(|(c, _, _)| c),
    }
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

/// Min and max of `col` per row group (`None` when the file has no such column).
fn row_group_stats(
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

/// Keep-mask for one conjunct over the units `stats` describes; `None` when the conjunct
/// cannot be used for pruning.
pub fn conjunct_mask(e: &Expr, stats: &StatsSource<'_>) -> Result<Option<BooleanArray>> {
    match e {
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } => {
            let lo = Expr::binary(expr.as_ref().clone(), BinaryOp::GtEq, low.as_ref().clone());
            let hi = Expr::binary(expr.as_ref().clone(), BinaryOp::LtEq, high.as_ref().clone());
            let a = conjunct_mask(&lo, stats)?;
            let b = conjunct_mask(&hi, stats)?;
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
                let Some(m) = conjunct_mask(&eq, stats)? else {
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
    let Some((mins, maxes)) = stats(&col)? else {
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
