//! Planning a Parquet scan's work: table statistics (row count, per-column min/max) from the
//! files' row-group statistics, and the spread of row groups over partitions.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion_common::ScalarValue;

use crate::catalog::statistics::{ColumnStatistics, TableStatistics};
use crate::io::parquet::{ParquetFile, RowGroupSlice};

/// Row count and min/max per column from the files' row group statistics.
pub fn parquet_statistics(
    files: &[ParquetFile],
    schema: &SchemaRef,
) -> Option<Arc<TableStatistics>> {
    use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
    if files.is_empty() {
        return None;
    }
    let row_count = files.iter().map(|f| f.num_rows()).sum();
    let mut columns = vec![ColumnStatistics::default(); schema.fields().len()];
    for (i, field) in schema.fields().iter().enumerate() {
        let mut min: Option<ScalarValue> = None;
        let mut max: Option<ScalarValue> = None;
        let mut complete = true;
        'files: for f in files {
            let meta = f.metadata.metadata();
            let Ok(conv) = StatisticsConverter::try_new(
                field.name(),
                f.metadata.schema(),
                f.metadata.parquet_schema(),
            ) else {
                complete = false;
                break;
            };
            let (Ok(mins), Ok(maxes)) = (
                conv.row_group_mins(meta.row_groups().iter()),
                conv.row_group_maxes(meta.row_groups().iter()),
            ) else {
                complete = false;
                break;
            };
            for k in 0..mins.len() {
                let (Ok(lo), Ok(hi)) = (
                    ScalarValue::try_from_array(&mins, k)
                        .and_then(|v| v.cast_to(field.data_type())),
                    ScalarValue::try_from_array(&maxes, k)
                        .and_then(|v| v.cast_to(field.data_type())),
                ) else {
                    complete = false;
                    break 'files;
                };
                if lo.is_null() || hi.is_null() {
                    complete = false;
                    break 'files;
                }
                min = Some(match min {
                    Some(m) if m.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) => m,
                    _ => lo,
                });
                max = Some(match max {
                    Some(m) if m.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) => m,
                    _ => hi,
                });
            }
        }
        if complete {
            columns[i].min = min;
            columns[i].max = max;
        }
    }
    Some(Arc::new(TableStatistics { row_count, columns }))
}

/// Spreads row groups over `n` partitions, balancing rows (largest first).
pub fn assign_row_groups(
    files: &[ParquetFile],
    keep: &[Vec<bool>],
    n: usize,
) -> Vec<Vec<RowGroupSlice>> {
    let mut groups: Vec<(usize, usize, usize)> = vec![]; // (rows, file, rg)
    for (fi, f) in files.iter().enumerate() {
        for (rg, k) in keep[fi].iter().enumerate() {
            if *k {
                groups.push((f.row_group_rows(rg), fi, rg));
            }
        }
    }
    let n = n.max(1).min(groups.len().max(1));
    let mut parts: Vec<(usize, Vec<(usize, usize)>)> = vec![(0, vec![]); n];
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    for (rows, fi, rg) in groups {
        if let Some(p) = parts.iter_mut().min_by_key(|p| p.0) {
            p.0 += rows;
            p.1.push((fi, rg));
        }
    }
    parts
        .into_iter()
        .map(|(_, mut rgs)| {
            // read in file order within a partition
            rgs.sort();
            let mut slices: Vec<RowGroupSlice> = vec![];
            for (fi, rg) in rgs {
                match slices.last_mut() {
                    Some(s) if s.file == fi => s.row_groups.push(rg),
                    _ => slices.push(RowGroupSlice {
                        file: fi,
                        row_groups: vec![rg],
                    }),
                }
            }
            slices
        })
        .collect()
}
