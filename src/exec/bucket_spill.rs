//! Hash-partitioned spilling, shared by the grace hash join and the spilling hash aggregate:
//! rows go to one of a few bucket files by a hash of their keys, so that rows with equal keys
//! always meet in the same bucket and each bucket can be processed alone.
//!
//! ```text
//!  batch + key arrays ─▶ hash(keys, seed of level) % buckets ─▶ bucket 0 file, bucket 1 file, …
//! ```
//! Each recursion level has its own hash seed, different from the partitioning hash (whose
//! `hash % n` all rows of one partition share) and from the hash-table hash, so a bucket that
//! is still too big splits again when partitioned one level deeper.
//!
//! Rows with a NULL key can go to a bucket of their own ([`BucketSpiller::with_null_bucket`],
//! index [`BUCKETS`]): a join never matches them, and all of them sharing one hash bucket would
//! make that bucket impossible to split.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt32Array};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::exec::take_rows;
use crate::runtime::spill::{SpillFile, SpillWriter};
use crate::runtime::{Metrics, TaskContext};

/// Buckets per level.
pub const BUCKETS: usize = 32;

/// Deepest level of re-partitioning (a bucket that does not fit after that has too many rows
/// with one key).
pub const MAX_LEVEL: usize = 5;

/// Hashes of normalized key arrays for bucket placement at recursion `level`.
pub fn bucket_hashes(keys: &[ArrayRef], level: usize, hashes: &mut Vec<u64>) -> Result<()> {
    let n = keys.first().map(|k| k.len()).unwrap_or(0);
    hashes.clear();
    hashes.resize(n, 0);
    let seed = 0x6b75_636b_0000_u64 + level as u64 * 0x9e37_79b9;
    let state = datafusion_common::hash_utils::RandomState::with_seed(seed);
    datafusion_common::hash_utils::create_hashes(keys.iter(), &state, hashes)?;
    Ok(())
}

/// Writes rows into bucket files by hash of their keys.
pub struct BucketSpiller {
    schema: SchemaRef,
    level: usize,
    writers: Vec<Option<SpillWriter>>,
    hashes: Vec<u64>,
    rows: Vec<Vec<u32>>,
    null_bucket: bool,
    ctx: Arc<TaskContext>,
    metrics: Arc<Metrics>,
}

impl BucketSpiller {
    /// Buckets for batches of `schema` at recursion `level`; fails past [`MAX_LEVEL`] with an
    /// error naming `operator`.
    pub fn try_new(
        schema: SchemaRef,
        level: usize,
        ctx: &Arc<TaskContext>,
        metrics: &Arc<Metrics>,
        operator: &str,
    ) -> Result<Self> {
        if level > MAX_LEVEL {
            return Err(Error::resources_exhausted(format!(
                "{operator} does not fit in memory even after splitting its input {MAX_LEVEL} \
                 times by hash (too many rows share one key); raise it with SET memory_limit = '...'"
            )));
        }
        Ok(BucketSpiller {
            schema,
            level,
            writers: (0..=BUCKETS).map(|_| None).collect(),
            hashes: vec![],
            rows: vec![vec![]; BUCKETS + 1],
            null_bucket: false,
            ctx: ctx.clone(),
            metrics: metrics.clone(),
        })
    }

    /// Sends rows with a NULL in any key to an extra bucket, index [`BUCKETS`].
    pub fn with_null_bucket(mut self) -> Self {
        self.null_bucket = true;
        self
    }

    /// Writes the rows of `batch` to their buckets by `keys` (normalized key arrays of `batch`).
    pub fn write(&mut self, batch: &RecordBatch, keys: &[ArrayRef]) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        bucket_hashes(keys, self.level, &mut self.hashes)?;
        for r in self.rows.iter_mut() {
            r.clear();
        }
        let nulls = if self.null_bucket && keys.iter().any(|k| k.null_count() > 0) {
            Some(any_null(keys))
        } else {
            None
        };
        for (i, h) in self.hashes.iter().enumerate() {
            let b = match &nulls {
                Some(n) if n[i] => BUCKETS,
                _ => (*h % BUCKETS as u64) as usize,
            };
            self.rows[b].push(i as u32);
        }
        for b in 0..=BUCKETS {
            if self.rows[b].is_empty() {
                continue;
            }
            let piece = if self.rows[b].len() == batch.num_rows() {
                batch.clone()
            } else {
                take_rows(batch, &UInt32Array::from(std::mem::take(&mut self.rows[b])))?
            };
            if self.writers[b].is_none() {
                self.writers[b] = Some(SpillWriter::new(
                    &self.ctx.spill,
                    &self.schema,
                    Some(&self.metrics),
                )?);
            }
            if let Some(w) = self.writers[b].as_mut() {
                w.write(&piece)?;
            }
        }
        Ok(())
    }

    /// The bucket files (`None` for buckets that got no rows), [`BUCKETS`] of them and the NULL
    /// bucket last.
    pub fn finish(self) -> Result<Vec<Option<Arc<SpillFile>>>> {
        self.writers
            .into_iter()
            .map(|w| w.map(|w| w.finish()).transpose())
            .collect()
    }
}

/// For each row, whether some key is NULL.
pub fn any_null(keys: &[ArrayRef]) -> Vec<bool> {
    let n = keys.first().map(|k| k.len()).unwrap_or(0);
    let mut out = vec![false; n];
    for k in keys {
        if let Some(nulls) = k.nulls() {
            for (i, o) in out.iter_mut().enumerate() {
                *o |= nulls.is_null(i);
            }
        }
    }
    out
}
