//! Table and column statistics used by the optimizer's estimates: row counts,
//! and per column min/max/NULL counts (from Parquet footers, or computed once
//! for in-memory tables).

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;

/// What is known about one column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnStatistics {
    /// Smallest value.
    pub min: Option<ScalarValue>,
    /// Largest value.
    pub max: Option<ScalarValue>,
    /// Number of NULLs.
    pub null_count: Option<usize>,
    /// Number of distinct values, when known.
    pub distinct: Option<usize>,
}

impl ColumnStatistics {
    /// Estimated number of distinct values in a table of `rows` rows: exact when known, else at
    /// most the integer range `max - min + 1`, else `rows`.
    pub fn ndv(&self, rows: usize) -> usize {
        if let Some(d) = self.distinct {
            return d.max(1);
        }
        let as_i64 = |v: &ScalarValue| match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(x))) => Some(x),
            _ => None,
        };
        match (&self.min, &self.max) {
            (Some(lo), Some(hi))
                if lo.data_type().is_integer() || matches!(lo.data_type(), DataType::Date32) =>
            {
                match (as_i64(lo), as_i64(hi)) {
                    (Some(a), Some(b)) if b >= a => {
                        (((b - a) as u128 + 1).min(rows as u128) as usize).max(1)
                    }
                    _ => rows.max(1),
                }
            }
            _ => rows.max(1),
        }
    }
}

/// What is known about a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableStatistics {
    /// Number of rows.
    pub row_count: usize,
    /// One entry per column of the table schema.
    pub columns: Vec<ColumnStatistics>,
}

impl TableStatistics {
    /// The statistics of the rows of `self` and `other` together (same columns): row and NULL
    /// counts add up, min/max widen; distinct counts are dropped (they do not add up).
    pub fn merge(&self, other: &TableStatistics) -> TableStatistics {
        let pick =
            |a: &Option<ScalarValue>, b: &Option<ScalarValue>, want: std::cmp::Ordering| match (
                a, b,
            ) {
                (Some(x), Some(y)) => match x.partial_cmp(y) {
                    Some(o) if o == want => Some(x.clone()),
                    Some(_) => Some(y.clone()),
                    None => None,
                },
                _ => None,
            };
        // an empty side says nothing about min/max
        if self.row_count == 0 {
            return other.clone();
        }
        if other.row_count == 0 {
            return self.clone();
        }
        let columns = self
            .columns
            .iter()
            .zip(&other.columns)
            .map(|(a, b)| ColumnStatistics {
                min: pick(&a.min, &b.min, std::cmp::Ordering::Less),
                max: pick(&a.max, &b.max, std::cmp::Ordering::Greater),
                null_count: a.null_count.zip(b.null_count).map(|(x, y)| x + y),
                distinct: None,
            })
            .collect();
        TableStatistics {
            row_count: self.row_count + other.row_count,
            columns,
        }
    }
}

fn as_int64(a: &ArrayRef) -> Option<ArrayRef> {
    match a.data_type() {
        t if t.is_integer() || *t == DataType::Date32 => {
            arrow::compute::cast(a, &DataType::Int64).ok()
        }
        _ => None,
    }
}

/// Computes statistics of in-memory batches (min/max for integer and date columns).
pub fn compute_statistics(num_columns: usize, batches: &[RecordBatch]) -> TableStatistics {
    let row_count = batches.iter().map(|b| b.num_rows()).sum();
    let mut columns = vec![ColumnStatistics::default(); num_columns];
    for (i, col) in columns.iter_mut().enumerate() {
        let mut min: Option<i64> = None;
        let mut max: Option<i64> = None;
        let mut nulls = 0usize;
        let mut typed: Option<DataType> = None;
        let mut supported = true;
        for b in batches {
            let a = b.column(i);
            nulls += a.null_count();
            typed = Some(a.data_type().clone());
            let Some(ints) = as_int64(a) else {
                supported = false;
                break;
            };
            let ints = ints.as_primitive::<Int64Type>();
            if let Some(m) = arrow::compute::min(ints) {
                min = Some(min.map_or(m, |x| x.min(m)));
            }
            if let Some(m) = arrow::compute::max(ints) {
                max = Some(max.map_or(m, |x| x.max(m)));
            }
        }
        col.null_count = Some(nulls);
        if supported && let (Some(t), Some(lo), Some(hi)) = (typed, min, max) {
            col.min = ScalarValue::Int64(Some(lo)).cast_to(&t).ok();
            col.max = ScalarValue::Int64(Some(hi)).cast_to(&t).ok();
        }
    }
    TableStatistics { row_count, columns }
}
