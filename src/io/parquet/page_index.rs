//! Page-level pruning with the Parquet page index: the column index holds each page's min and
//! max, the offset index where each page starts. A conjunct that rules a page out skips its rows;
//! the selection of every conjunct is intersected and handed to the decoder, which then fetches
//! and decodes only the pages holding selected rows.

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::Schema;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use parquet::file::metadata::ParquetMetaData;

use crate::error::Result;
use crate::io::parquet::pruning::{conjunct_column, conjunct_mask};
use crate::logical::expr::Expr;

/// A row selection over the rows of `row_groups` (in order) skipping pages no row of which can
/// pass `conjuncts`; `None` when the page index rules nothing out (or the file has none).
pub fn page_selection(
    meta: &ParquetMetaData,
    arrow_schema: &Schema,
    parquet_schema: &parquet::schema::types::SchemaDescriptor,
    row_groups: &[usize],
    conjuncts: &[Expr],
) -> Option<RowSelection> {
    let (Some(column_index), Some(offset_index)) = (meta.column_index(), meta.offset_index())
    else {
        return None;
    };
    let total: usize = row_groups
        .iter()
        .map(|rg| meta.row_group(*rg).num_rows().max(0) as usize)
        .sum();
    let mut selection: Option<RowSelection> = None;
    for c in conjuncts {
        let Some(col) = conjunct_column(c) else {
            continue;
        };
        if arrow_schema.column_with_name(&col).is_none() {
            continue;
        }
        let Ok(conv) = StatisticsConverter::try_new(&col, arrow_schema, parquet_schema) else {
            continue;
        };
        let Ok(Some(counts)) =
            conv.data_page_row_counts(offset_index, meta.row_groups(), row_groups.iter())
        else {
            continue;
        };
        let stats = |_: &str| -> Result<Option<(ArrayRef, ArrayRef)>> {
            let mins = conv.data_page_mins(column_index, offset_index, row_groups.iter())?;
            let maxes = conv.data_page_maxes(column_index, offset_index, row_groups.iter())?;
            Ok(Some((mins, maxes)))
        };
        let Ok(Some(mask)) = conjunct_mask(c, &stats) else {
            continue;
        };
        if mask.len() != counts.len() {
            continue;
        }
        let mut selectors: Vec<RowSelector> = vec![];
        for i in 0..counts.len() {
            let rows = counts.value(i) as usize;
            let keep = !mask.is_valid(i) || mask.value(i);
            selectors.push(if keep {
                RowSelector::select(rows)
            } else {
                RowSelector::skip(rows)
            });
        }
        let s = RowSelection::from(selectors);
        if s.row_count() == total {
            continue;
        }
        selection = Some(match selection {
            None => s,
            Some(prev) => prev.intersection(&s),
        });
    }
    selection
}
