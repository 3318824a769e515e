//! Runtime filters inside the Parquet decoder: the columns of the join keys are decoded first,
//! rows that cannot match the build sides are dropped there, and the scan's other columns are
//! decoded only for the rows left (late materialization, as the row filter of the scan's own
//! predicate does). With a selective join (TPC-H Q19: 1.5% of `lineitem` rows match `part`),
//! most of the string columns are never decoded.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowPredicate, ArrowPredicateFn};
use parquet::schema::types::SchemaDescriptor;

use crate::exec::runtime_filter::probe::ProbeMask;
use crate::io::parquet::interval::cast_column;

/// A decoder predicate for the conditions of `mask` and the file roots it decodes, or `None`
/// when a condition's column is not a column of the file (a partition column, say) or is read
/// under another name.
pub(super) fn runtime_predicate(
    mask: &Arc<ProbeMask>,
    output_schema: &SchemaRef,
    file_schema: &Schema,
    parquet_schema: &SchemaDescriptor,
    is_partition_column: impl Fn(&str) -> bool,
) -> Option<(Box<dyn ArrowPredicate>, BTreeSet<usize>)> {
    let mut keys = Vec::with_capacity(mask.conditions().len());
    let mut types: Vec<DataType> = Vec::with_capacity(keys.capacity());
    for c in mask.conditions() {
        let field = output_schema.fields().get(c.column)?;
        if is_partition_column(field.name()) {
            return None;
        }
        let root = file_schema.index_of(field.name()).ok()?;
        if !file_schema.field(root).data_type().is_primitive()
            && !matches!(
                file_schema.field(root).data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Binary
            )
        {
            return None;
        }
        keys.push(root);
        types.push(field.data_type().clone());
    }
    if keys.is_empty() {
        return None;
    }
    let roots: BTreeSet<usize> = keys.iter().copied().collect();
    // the decoded batch holds the roots in file order
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| roots.iter().position(|r| r == k).unwrap_or(0))
        .collect();
    let projection = ProjectionMask::roots(parquet_schema, roots.iter().copied());
    let mask = mask.clone();
    let f = move |batch: RecordBatch| -> std::result::Result<BooleanArray, ArrowError> {
        let rows = batch.num_rows();
        let keep = mask
            .keep(rows, |i| cast_column(batch.column(positions[i]), &types[i]))
            .map_err(ArrowError::from)?;
        Ok(keep.unwrap_or_else(|| BooleanArray::from(vec![true; rows])))
    };
    Some((Box::new(ArrowPredicateFn::new(projection, f)), roots))
}
