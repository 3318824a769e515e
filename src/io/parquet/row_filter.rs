//! Late materialization: parquet's row filter decodes the columns a conjunct reads, evaluates it,
//! and decodes the other projected columns only for the rows (pages) that passed. One predicate
//! per conjunct, cheapest (fewest columns) first, so each sees only the survivors of the last.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{BooleanArray, RecordBatch, RecordBatchOptions};
use arrow::compute::cast;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::error::ArrowError;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowPredicate, ArrowPredicateFn, RowFilter};
use parquet::schema::types::SchemaDescriptor;

use crate::error::Result;
use crate::io::predicate::{CompiledPredicate, column_names};
use crate::logical::expr::Expr;

/// Rows a row filter evaluated and removed, summed over its predicates.
#[derive(Debug, Default)]
pub struct RowFilterCounters {
    /// Rows the predicates saw.
    pub evaluated: AtomicU64,
    /// Rows they removed.
    pub removed: AtomicU64,
}

/// A row filter for one file, or `None` when no conjunct can run inside the decoder (every
/// column a conjunct reads must be in the file; partition columns are pruned elsewhere).
/// `file_schema` is the file's Arrow schema, `table_schema` the table's (types to evaluate in).
pub fn build_row_filter(
    conjuncts: &[Expr],
    file_schema: &Schema,
    parquet_schema: &SchemaDescriptor,
    table_schema: &Schema,
    counters: &Arc<RowFilterCounters>,
) -> Result<Option<RowFilter>> {
    let mut candidates: Vec<(usize, Box<dyn ArrowPredicate>)> = vec![];
    for c in conjuncts {
        let cols = column_names(c);
        if cols.is_empty() {
            continue;
        }
        let mut roots = BTreeSet::new();
        let mut ok = true;
        for name in &cols {
            match (file_schema.index_of(name), table_schema.field_with_name(name)) {
                (Ok(i), Ok(_)) => {
                    roots.insert(i);
                }
                _ => ok = false,
            }
        }
        if !ok {
            continue;
        }
        // columns in file order, typed as the table declares them
        let fields: Vec<_> = roots
            .iter()
            .map(|i| {
                let name = file_schema.field(*i).name();
                table_schema
                    .field_with_name(name)
                    .map(|f| f.clone())
                    .map_err(crate::error::Error::from)
            })
            .collect::<Result<_>>()?;
        let eval_schema: SchemaRef = Arc::new(Schema::new(fields));
        let Ok(pred) = CompiledPredicate::try_new(c, &eval_schema) else {
            continue;
        };
        let mask = ProjectionMask::roots(parquet_schema, roots.iter().copied());
        let counters = counters.clone();
        let f = move |batch: RecordBatch| -> std::result::Result<BooleanArray, ArrowError> {
            let batch = retype(batch, &eval_schema)?;
            let keep = pred.evaluate(&batch).map_err(ArrowError::from)?;
            let n = batch.num_rows() as u64;
            counters.evaluated.fetch_add(n, Ordering::Relaxed);
            counters
                .removed
                .fetch_add(n - keep.true_count() as u64, Ordering::Relaxed);
            Ok(keep)
        };
        candidates.push((roots.len(), Box::new(ArrowPredicateFn::new(mask, f))));
    }
    if candidates.is_empty() {
        return Ok(None);
    }
    candidates.sort_by_key(|(n, _)| *n);
    Ok(Some(RowFilter::new(
        candidates.into_iter().map(|(_, p)| p).collect(),
    )))
}

/// `batch` with the columns cast to `schema`'s types (a no-op when they match).
fn retype(batch: RecordBatch, schema: &SchemaRef) -> std::result::Result<RecordBatch, ArrowError> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                cast(c, f.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}
