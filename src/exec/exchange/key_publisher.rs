//! Runtime filters across a shuffle. A partitioned hash join's build side is an exchange that
//! is complete before the exchange of its probe side runs (the scheduler materializes a join's
//! inputs in order, build first). That build exchange watches the join keys of the rows it
//! buffers and, once complete, publishes them to a filter read by the scans under the probe
//! side's exchange: probe rows that cannot match are dropped before they are shuffled.
//!
//! ```text
//!  HashJoinExec (partitioned)
//!    ├─ ExchangeExec (build, stage k) ── keys, when complete ──▶ RuntimeFilter (one slot)
//!    └─ ExchangeExec (probe, stage k+1)                                │
//!         └─ ... ─ scan ◀──────────── filter rows before the shuffle ──┘
//! ```
//! Only build sides of at most [`MAX_BLOOM_ROWS`] rows publish (their keys' range and a bloom
//! filter); the key arrays kept until then are at most that many rows and [`MAX_KEY_BYTES`]. A
//! larger build side publishes nothing and the probe scans read everything, as without a filter.

use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef};
use arrow::record_batch::RecordBatch;

use crate::exec::runtime_filter::{BuildKeys, MAX_BLOOM_ROWS, RuntimeFilter};
use crate::physical_expr::PhysicalExprRef;

/// Most bytes of key arrays an exchange keeps for its filter (long string keys give up sooner).
pub const MAX_KEY_BYTES: usize = 8 << 20;

/// Collects the join keys of the rows an exchange buffers, and publishes them when it is done.
#[derive(Debug)]
pub struct KeyPublisher {
    filter: Arc<RuntimeFilter>,
    keys: Vec<PhysicalExprRef>,
    null_equals_null: bool,
    collected: Mutex<Collected>,
}

#[derive(Debug, Default)]
struct Collected {
    /// Per batch, the key arrays.
    batches: Vec<Vec<ArrayRef>>,
    rows: usize,
    bytes: usize,
    /// Too many rows (or a key that did not evaluate): publish nothing.
    gave_up: bool,
}

impl KeyPublisher {
    /// Publishes the values of `keys` (over the exchange's rows) to `filter`.
    pub fn new(
        filter: Arc<RuntimeFilter>,
        keys: Vec<PhysicalExprRef>,
        null_equals_null: bool,
    ) -> Self {
        KeyPublisher {
            filter,
            keys,
            null_equals_null,
            collected: Mutex::new(Collected::default()),
        }
    }

    /// A publisher to the same filter, with nothing collected yet (for a rebuilt exchange).
    pub fn fresh(&self) -> Self {
        KeyPublisher::new(
            self.filter.clone(),
            self.keys.clone(),
            self.null_equals_null,
        )
    }

    /// For EXPLAIN: which keys are published.
    pub fn describe(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        format!("runtime_filter_keys=[{}]", keys.join(", "))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Collected> {
        self.collected.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes the keys of one batch the exchange buffers.
    pub fn observe(&self, batch: &RecordBatch) {
        if self.lock().gave_up || batch.num_rows() == 0 {
            return;
        }
        let n = batch.num_rows();
        let arrays: Option<Vec<ArrayRef>> = self
            .keys
            .iter()
            .map(|k| k.evaluate(batch).and_then(|v| v.into_array(n)).ok())
            .collect();
        let bytes: usize = arrays
            .iter()
            .flatten()
            .map(|a| a.to_data().get_slice_memory_size().unwrap_or(usize::MAX))
            .fold(0usize, usize::saturating_add);
        let mut c = self.lock();
        match arrays {
            Some(a)
                if !c.gave_up
                    && c.rows + n <= MAX_BLOOM_ROWS
                    && c.bytes.saturating_add(bytes) <= MAX_KEY_BYTES =>
            {
                c.rows += n;
                c.bytes += bytes;
                c.batches.push(a);
            }
            _ => {
                c.gave_up = true;
                c.batches = vec![];
            }
        }
    }

    /// Publishes the keys noted, once the exchange is complete (not after an error: a filter
    /// from part of the build side would drop probe rows that match).
    pub fn publish(&self) {
        let mut c = self.lock();
        if c.gave_up {
            return;
        }
        let batches = std::mem::take(&mut c.batches);
        let rows = c.rows;
        let mut keys = Vec::with_capacity(self.keys.len());
        for k in 0..self.keys.len() {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b[k].as_ref()).collect();
            let array = if parts.is_empty() {
                None
            } else {
                arrow::compute::concat(&parts).ok()
            };
            match array {
                Some(a) => keys.push(a),
                None if rows == 0 => {}
                None => return,
            }
        }
        let null_equals_null = self.null_equals_null;
        self.filter.publish(0, || {
            Some(if rows == 0 {
                BuildKeys::Nothing
            } else {
                BuildKeys::from_arrays(&keys, rows, null_equals_null)
            })
        });
    }
}
