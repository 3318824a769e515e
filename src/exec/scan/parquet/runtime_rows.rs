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

/// Where a file holds the columns of a runtime filter's conditions: what its decoder
/// predicate reads, resolved once per file.
#[derive(Debug, Clone)]
pub(super) struct RuntimeKeys {
    /// The file roots the predicate decodes.
    pub roots: BTreeSet<usize>,
    /// Per condition, its column's position in the decoded batch (roots in file order).
    positions: Vec<usize>,
    /// Per condition, the type the condition tests (the scan's output type).
    types: Vec<DataType>,
    projection: ProjectionMask,
}

impl RuntimeKeys {
    /// The key columns of `mask`'s conditions in this file, or `None` when one is not a column
    /// of the file (a partition column, say) or not of a simple type.
    pub(super) fn resolve(
        mask: &ProbeMask,
        output_schema: &SchemaRef,
        file_schema: &Schema,
        parquet_schema: &SchemaDescriptor,
        is_partition_column: impl Fn(&str) -> bool,
    ) -> Option<Self> {
        let mut keys = Vec::with_capacity(mask.conditions().len());
        let mut types: Vec<DataType> = Vec::with_capacity(keys.capacity());
        for c in mask.conditions() {
            let field = output_schema.fields().get(c.column)?;
            if is_partition_column(field.name()) {
                return None;
            }
            let root = file_schema.index_of(field.name()).ok()?;
            let file_type = file_schema.field(root).data_type();
            if !file_type.is_primitive()
                && !matches!(
                    file_type,
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
        let positions = keys
            .iter()
            .map(|k| roots.iter().position(|r| r == k).unwrap_or(0))
            .collect();
        let projection = ProjectionMask::roots(parquet_schema, roots.iter().copied());
        Some(RuntimeKeys {
            roots,
            positions,
            types,
            projection,
        })
    }

    /// The decoder predicate testing `mask`'s conditions on these columns.
    pub(super) fn predicate(&self, mask: &Arc<ProbeMask>) -> Box<dyn ArrowPredicate> {
        let (mask, positions, types) = (mask.clone(), self.positions.clone(), self.types.clone());
        let f = move |batch: RecordBatch| -> std::result::Result<BooleanArray, ArrowError> {
            let rows = batch.num_rows();
            let keep = mask
                .keep(rows, |i| cast_column(batch.column(positions[i]), &types[i]))
                .map_err(ArrowError::from)?;
            Ok(keep.unwrap_or_else(|| BooleanArray::from(vec![true; rows])))
        };
        Box::new(ArrowPredicateFn::new(self.projection.clone(), f))
    }
}
