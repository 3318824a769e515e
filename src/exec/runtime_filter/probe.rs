//! The scan side of runtime filters: dropping rows that cannot match (vectorized, and given up
//! when it removes few rows), and the same conditions as pruning expressions for Parquet row
//! groups and pages.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{Array, ArrayRef, BooleanArray};
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

/// Drops the rows of a scan partition that cannot match the build sides above it: after the
/// scan decoded them ([`ProbeRowFilter::apply`]), or inside the Parquet decoder, before the other
/// columns are decoded (through the shared [`ProbeMask`]).
#[derive(Debug)]
pub struct ProbeRowFilter {
    mask: Arc<ProbeMask>,
}

/// The conditions of a scan partition's runtime filters and what they removed so far; shared by
/// the partition's stream and the Parquet decoders' row filters.
#[derive(Debug)]
pub struct ProbeMask {
    conditions: Vec<ColumnCondition>,
    seen: AtomicUsize,
    removed: AtomicUsize,
    metrics: Arc<Metrics>,
}

impl ProbeMask {
    /// The conditions (columns are indexes in the scan's output).
    pub fn conditions(&self) -> &[ColumnCondition] {
        &self.conditions
    }

    /// Whether filtering still pays: until a trial is over, or while it removes at least an
    /// eighth of the rows (the join removes them anyway).
    pub fn active(&self) -> bool {
        let seen = self.seen.load(Ordering::Relaxed);
        seen < TRIAL_ROWS || self.removed.load(Ordering::Relaxed) * 8 >= seen
    }

    /// Whether filtering inside the decoder pays: not known yet, or it removes most rows.
    pub fn selective(&self) -> bool {
        let seen = self.seen.load(Ordering::Relaxed);
        seen == 0 || self.removed.load(Ordering::Relaxed) * 2 >= seen
    }

    /// Whether, after a trial, it removed at least 19 rows in 20: what filtering inside the
    /// Parquet decoder needs to pay (TPC-H SF1: Q19, 98.5% removed, 25% faster; Q3, 90%
    /// removed, 10% slower).
    pub fn nearly_all_removed(&self) -> bool {
        let seen = self.seen.load(Ordering::Relaxed);
        seen >= TRIAL_ROWS && self.removed.load(Ordering::Relaxed) * 20 >= seen * 19
    }

    /// The rows that may match, given condition `i`'s column as `column(i)` (of the output
    /// type), over `rows` rows; counts what it removes. `None`: no condition.
    pub fn keep(
        &self,
        rows: usize,
        column: impl Fn(usize) -> Result<ArrayRef>,
    ) -> Result<Option<BooleanArray>> {
        let mut keep: Option<BooleanArray> = None;
        for (i, c) in self.conditions.iter().enumerate() {
            let column = column(i)?;
            let mut m = c.bounds.test(&column)?;
            if m.null_count() > 0 {
                m = prep_null_mask_filter(&m);
            }
            if c.keep_nulls && column.null_count() > 0 {
                m = or(&m, &is_null(&column)?)?;
            }
            keep = Some(match keep {
                None => m,
                Some(k) => arrow::compute::and(&k, &m)?,
            });
        }
        if let Some(k) = &keep {
            let removed = rows - k.true_count();
            self.seen.fetch_add(rows, Ordering::Relaxed);
            self.removed.fetch_add(removed, Ordering::Relaxed);
            if removed > 0 {
                self.metrics.add(ROWS_REMOVED, removed);
            }
        }
        Ok(keep)
    }
}

impl ProbeRowFilter {
    /// A filter by `conditions` counting into `metrics`.
    pub fn new(conditions: Vec<ColumnCondition>, metrics: Arc<Metrics>) -> Self {
        ProbeRowFilter {
            mask: Arc::new(ProbeMask {
                conditions,
                seen: AtomicUsize::new(0),
                removed: AtomicUsize::new(0),
                metrics,
            }),
        }
    }

    /// The shared conditions and counts.
    pub fn mask(&self) -> &Arc<ProbeMask> {
        &self.mask
    }

    /// The rows of `batch` that may match. After a trial, a filter that removes less than an
    /// eighth of the rows stops filtering (the join removes them anyway).
    pub fn apply(&mut self, batch: RecordBatch) -> Result<RecordBatch> {
        if !self.mask.active() || batch.num_rows() == 0 {
            return Ok(batch);
        }
        let conditions = &self.mask.conditions;
        let Some(keep) = self.mask.keep(batch.num_rows(), |i| {
            Ok(batch.column(conditions[i].column).clone())
        })?
        else {
            return Ok(batch);
        };
        Ok(if keep.true_count() == batch.num_rows() {
            batch
        } else {
            filter_record_batch(&batch, &keep)?
        })
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
