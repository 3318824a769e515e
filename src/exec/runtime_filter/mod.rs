//! Runtime (dynamic) filters: once a hash join's build side is complete, the join knows every
//! key a probe row can match. It publishes, per key, the range of the build keys (and, for a
//! small build side, the keys themselves) to the scan that feeds its probe side, in the same
//! stage; the scan then skips Parquet row groups and pages whose statistics cannot match and
//! drops rows that cannot match before any other operator sees them.
//!
//! ```text
//!  HashJoinExec ── build complete ──▶ RuntimeFilter (per join partition, or one when broadcast)
//!        ▲                                     │ read when the probe scan partition starts
//!  probe side (projections, filters, joins) ◀── scan: prune row groups / pages, filter rows
//! ```
//! Only for joins where a probe row without a key match produces nothing (physical join types
//! INNER, LEFT, LEFT SEMI, LEFT ANTI, RIGHT SEMI with left = build; never NOT IN): see
//! `physical::runtime_filters` for where filters are placed. The cost is bounded: bounds are two
//! vectorized comparisons per row, a bloom filter (vectorized hashing, two bit tests per row)
//! only for build sides of at most [`MAX_BLOOM_ROWS`] rows, and a scan stops filtering rows when
//! the filter removes few of them.

mod bounds;
pub mod probe;

use std::sync::{Arc, OnceLock};

use arrow::array::ArrayRef;
use datafusion_common::ScalarValue;

pub use bounds::{KeyBounds, ValueSet, supports_type};

/// Build sides of at most this many rows also publish a bloom filter of their keys (16 bits per
/// row: at most 512 KiB per key), not only the range.
pub const MAX_BLOOM_ROWS: usize = 256 * 1024;

/// Build sides of at most this many rows publish their distinct keys (up to 64) for pruning.
pub const MAX_SET_ROWS: usize = 1024;

/// What one build side tells the probe side about its keys.
#[derive(Debug)]
pub enum BuildKeys {
    /// No build row can match anything (no rows, or only NULL keys that never match): no probe
    /// row can match either.
    Nothing,
    /// Per join key, what the build keys are (`None`: nothing known for that key).
    Keys(Vec<Option<KeyBounds>>),
}

impl BuildKeys {
    /// The facts about build key arrays (one per join key, aligned, over all build rows).
    pub fn from_arrays(keys: &[ArrayRef], rows: usize, null_equals_null: bool) -> Self {
        if rows == 0 {
            return BuildKeys::Nothing;
        }
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if k.null_count() == k.len() && !null_equals_null {
                // NULL keys never match
                return BuildKeys::Nothing;
            }
            out.push(if null_equals_null && k.null_count() > 0 {
                // a NULL probe key may match: the scan keeps NULLs, but a range says nothing
                // about them, so keep it simple and publish nothing for this key
                None
            } else {
                KeyBounds::of(k, rows <= MAX_BLOOM_ROWS)
            });
        }
        BuildKeys::Keys(out)
    }
}

/// The channel from one hash join's build side to the scan(s) under its probe side.
#[derive(Debug)]
pub struct RuntimeFilter {
    /// One slot per join partition (a broadcast join uses slot 0 for all).
    slots: Vec<OnceLock<Option<Arc<BuildKeys>>>>,
    broadcast: bool,
    /// Probe rows with a NULL key may match (`null_equals_null`): never drop them.
    keep_nulls: bool,
}

impl RuntimeFilter {
    /// A filter for a join with `partitions` partitions; `broadcast` when every partition
    /// shares one build side.
    pub fn new(partitions: usize, broadcast: bool, keep_nulls: bool) -> Self {
        let n = if broadcast { 1 } else { partitions.max(1) };
        RuntimeFilter {
            slots: (0..n).map(|_| OnceLock::new()).collect(),
            broadcast,
            keep_nulls,
        }
    }

    fn slot(&self, partition: usize) -> Option<&OnceLock<Option<Arc<BuildKeys>>>> {
        self.slots.get(if self.broadcast { 0 } else { partition })
    }

    /// Publishes partition `partition`'s build keys (computed by `keys` the first time only);
    /// `None` publishes that nothing is known (a build side spilled to disk).
    pub fn publish(&self, partition: usize, keys: impl FnOnce() -> Option<BuildKeys>) {
        if let Some(s) = self.slot(partition) {
            s.get_or_init(|| keys().map(Arc::new));
        }
    }

    /// What partition `partition`'s build side published, if it is complete.
    pub fn get(&self, partition: usize) -> Option<Arc<BuildKeys>> {
        self.slot(partition)?.get()?.clone()
    }

    /// Whether probe rows with NULL keys must be kept.
    pub fn keeps_nulls(&self) -> bool {
        self.keep_nulls
    }
}

/// A runtime filter as one scan sees it: which join key of the filter tests which of the scan's
/// output columns.
#[derive(Debug, Clone)]
pub struct ScanFilter {
    /// The join's filter.
    pub filter: Arc<RuntimeFilter>,
    /// Index of the join key.
    pub key: usize,
    /// The scan's output column holding the probe key.
    pub column: usize,
}

/// The conditions the filters of one scan partition impose, if their build sides are complete.
#[derive(Debug, Clone)]
pub enum ProbeConditions {
    /// No row can match: skip everything.
    Nothing,
    /// Each row must pass every condition.
    Rows(Vec<ColumnCondition>),
}

/// One column's condition.
#[derive(Debug, Clone)]
pub struct ColumnCondition {
    /// Column index in the scan's output.
    pub column: usize,
    /// The build keys' range and values.
    pub bounds: KeyBounds,
    /// Keep rows whose value is NULL.
    pub keep_nulls: bool,
}

impl ProbeConditions {
    /// The conditions for scan partition `partition`, or `None` when there are none.
    pub fn collect(filters: &[ScanFilter], partition: usize) -> Option<ProbeConditions> {
        let mut conditions = vec![];
        for f in filters {
            match f.filter.get(partition).as_deref() {
                Some(BuildKeys::Nothing) => return Some(ProbeConditions::Nothing),
                Some(BuildKeys::Keys(keys)) => {
                    if let Some(Some(b)) = keys.get(f.key) {
                        conditions.push(ColumnCondition {
                            column: f.column,
                            bounds: b.clone(),
                            keep_nulls: f.filter.keeps_nulls(),
                        });
                    }
                }
                None => {}
            }
        }
        (!conditions.is_empty()).then_some(ProbeConditions::Rows(conditions))
    }
}

/// `v` as a literal of the same type (for pruning expressions).
pub(crate) fn literal(v: &ScalarValue) -> crate::logical::expr::Expr {
    crate::logical::expr::Expr::Literal(v.clone())
}
