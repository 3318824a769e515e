//! The scan side of runtime filters: dropping rows that cannot match (vectorized, and given up
//! when it removes few rows), and the same conditions as pruning expressions for Parquet row
//! groups and pages.

use std::sync::Arc;

use arrow::array::{Array, BooleanArray};
use arrow::compute::{filter_record_batch, is_null, or, prep_null_mask_filter};
use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;

use super::{ColumnCondition, ProbeConditions, literal};
use crate::error::Result;
use crate::logical::expr::Expr;
use crate::logical::schema::Column;
use crate::runtime::Metrics;

/// Rows to look at before deciding whether filtering pays.
const TRIAL_ROWS: usize = 32 * 1024;

/// Metric: rows a runtime filter removed in a scan.
pub const ROWS_REMOVED: &str = "runtime_filter_rows_removed";
/// Metric: Parquet row groups a runtime filter skipped.
pub const ROW_GROUPS_PRUNED: &str = "runtime_filter_row_groups_pruned";

/// Drops the rows of a scan partition that cannot match the build sides above it.
#[derive(Debug)]
pub struct ProbeRowFilter {
    conditions: Vec<ColumnCondition>,
    seen: usize,
    removed: usize,
    active: bool,
    metrics: Arc<Metrics>,
}

impl ProbeRowFilter {
    /// A filter by `conditions` counting into `metrics`.
    pub fn new(conditions: Vec<ColumnCondition>, metrics: Arc<Metrics>) -> Self {
        ProbeRowFilter {
            conditions,
            seen: 0,
            removed: 0,
            active: true,
            metrics,
        }
    }

    /// The rows of `batch` that may match. After a trial, a filter that removes less than an
    /// eighth of the rows stops filtering (the join removes them anyway).
    pub fn apply(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        if !self.active || batch.num_rows() == 0 {
            return Ok(batch);
        }
        let mut keep: Option<BooleanArray> = None;
        for c in &self.conditions {
            let column = batch.column(c.column);
            let mut m = c.bounds.test(column)?;
            if m.null_count() > 0 {
                m = prep_null_mask_filter(&m);
            }
            if c.keep_nulls && column.null_count() > 0 {
                m = or(&m, &is_null(column)?)?;
            }
            keep = Some(match keep {
                None => m,
                Some(k) => arrow::compute::and(&k, &m)?,
            });
        }
        let Some(keep) = keep else {
            return Ok(batch);
        };
        let before = batch.num_rows();
        let out = if keep.true_count() == before {
            batch
        } else {
            filter_record_batch(&batch, &keep)?
        };
        let removed = before - out.num_rows();
        self.seen += before;
        self.removed += removed;
        if removed > 0 {
            self.metrics.add(ROWS_REMOVED, removed);
        }
        if self.seen >= TRIAL_ROWS && self.removed * 8 < self.seen {
            self.active = false;
        }
        Ok(out)
    }
}

/// The conditions as conjuncts over the columns of `schema` (by name), for pruning Parquet row
/// groups and pages: `col BETWEEN min AND max`, and `col IN (values)` for a few values.
pub fn pruning_conjuncts(conditions: &ProbeConditions, schema: &Schema) -> Vec<Expr> {
    let ProbeConditions::Rows(conditions) = conditions else {
        return vec![];
    };
    let mut out = vec![];
    for c in conditions {
        let col = Expr::Column(Column::new(
            None::<&str>,
            schema.field(c.column).name().clone(),
        ));
        out.push(Expr::Between {
            expr: Box::new(col.clone()),
            negated: false,
            low: Box::new(literal(&c.bounds.min)),
            high: Box::new(literal(&c.bounds.max)),
        });
        if let Some(values) = c.bounds.pruning_values() {
            out.push(Expr::InList {
                expr: Box::new(col),
                list: values.iter().map(literal).collect(),
                negated: false,
            });
        }
    }
    out
}

/// Wraps a scan partition's batches with the conditions: nothing at all when no row can match,
/// else the rows that may match.
pub fn filter_iter(
    iter: crate::exec::BatchIter,
    conditions: Option<ProbeConditions>,
    metrics: Arc<Metrics>,
) -> crate::exec::BatchIter {
    match conditions {
        None => iter,
        Some(ProbeConditions::Nothing) => Box::new(std::iter::empty()),
        Some(ProbeConditions::Rows(c)) => {
            let mut f = ProbeRowFilter::new(c, metrics);
            Box::new(iter.filter_map(move |b| match b.and_then(|b| f.apply(b)) {
                Ok(b) if b.num_rows() == 0 => None,
                other => Some(other),
            }))
        }
    }
}
