//! The build side of a hash join: all build rows in one batch, their key
//! arrays, and a hash table from key hash to a chain of row indices. When the
//! memory pool refuses the build rows, they go to hash buckets on disk instead
//! ([`BuildSide::Spilled`]) and the join runs bucket by bucket (`grace.rs`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use hashbrown::HashTable;

use crate::error::Result;
use crate::exec::BatchIter;
use crate::exec::bucket_spill::BucketSpiller;
use crate::exec::hash_aggregate::group_values::table_hashes;
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::normalize::evaluate_keys;
use crate::runtime::memory_pool::batch_memory_size;
use crate::runtime::spill::SpillFile;
use crate::runtime::{MemoryReservation, Metrics, TaskContext};

/// End of a chain.
pub const CHAIN_END: u32 = u32::MAX;

/// A built hash table over the build side's rows.
#[derive(Debug)]
pub struct JoinHashTable {
    /// All build rows.
    pub batch: RecordBatch,
    /// Build key arrays (one per key), aligned with `batch`.
    pub keys: Vec<ArrayRef>,
    /// Key hash of each build row.
    pub hashes: Vec<u64>,
    /// hash → first row of the chain of rows with that hash.
    pub map: HashTable<(u64, u32)>,
    /// Next row in the chain, or `CHAIN_END`.
    pub next: Vec<u32>,
    /// Whether some build row has a NULL in a key (of the whole build side, when this table
    /// holds one bucket of it).
    pub has_null_key: bool,
    /// Rows of the whole build side (more than `num_rows()` when this table is one bucket).
    pub build_side_rows: usize,
    /// Memory held by this table.
    pub reservation: Option<MemoryReservation>,
}

impl JoinHashTable {
    /// Number of build rows.
    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Builds the table over `batches` (whose memory `reservation` already holds, at least
    /// what [`build_estimate`] says). Rows with NULL keys are kept in the batch (outer joins
    /// emit them) but only inserted when `null_equals_null`.
    pub fn build(
        batches: Vec<RecordBatch>,
        schema: &SchemaRef,
        key_exprs: &[PhysicalExprRef],
        null_equals_null: bool,
        mut reservation: MemoryReservation,
    ) -> Result<Self> {
        let batch = concat_batches(schema, &batches)?;
        drop(batches);
        let n = batch.num_rows();
        let keys = evaluate_keys(key_exprs, &batch)?;
        let mut hashes = vec![];
        table_hashes(&keys, &mut hashes)?;
        let mut map: HashTable<(u64, u32)> = HashTable::with_capacity(n);
        let mut next = vec![CHAIN_END; n];
        let mut has_null_key = false;
        let null_rows: Option<Vec<bool>> = if keys.iter().any(|k| k.null_count() > 0) {
            Some((0..n).map(|i| keys.iter().any(|k| k.is_null(i))).collect())
        } else {
            None
        };
        // insert in reverse so chains list rows in ascending order
        for i in (0..n).rev() {
            if let Some(nulls) = &null_rows
                && nulls[i]
            {
                has_null_key = true;
                if !null_equals_null {
                    continue;
                }
            }
            let h = hashes[i];
            match map.find_mut(h, |(bh, _)| *bh == h) {
                Some(entry) => {
                    next[i] = entry.1;
                    entry.1 = i as u32;
                }
                None => {
                    map.insert_unique(h, (h, i as u32), |(h, _)| *h);
                }
            }
        }
        let extra = map.allocation_size() + next.len() * 4 + hashes.len() * 8;
        // the estimate reserved room for the concatenation; keep what the table holds
        reservation.resize(batch_memory_size(&batch) + extra);
        Ok(JoinHashTable {
            batch,
            keys,
            hashes,
            map,
            next,
            has_null_key,
            build_side_rows: n,
            reservation: Some(reservation),
        })
    }
}

/// Memory a build batch needs: itself, its copy in the concatenated build batch, and its share
/// of the hash table (hash, chain link and table slot per row).
pub fn build_estimate(batch: &RecordBatch) -> usize {
    2 * batch_memory_size(batch) + batch.num_rows() * 32
}

/// The build side of one join task.
#[derive(Debug, Clone)]
pub enum BuildSide {
    /// All build rows in a hash table.
    Table(Arc<JoinHashTable>),
    /// Build rows in hash buckets on disk.
    Spilled(Arc<SpilledBuild>),
}

/// A build side written to hash buckets, with the facts the probe needs about all of it.
#[derive(Debug)]
pub struct SpilledBuild {
    /// One file per bucket (`None`: no rows), the bucket of NULL keys last.
    pub buckets: Vec<Option<Arc<SpillFile>>>,
    /// Rows of the whole build side.
    pub rows: usize,
    /// Whether some build row has a NULL key.
    pub has_null_key: bool,
    /// Recursion level the buckets were written at.
    pub level: usize,
}

/// What reading a build input needs besides the input.
pub struct BuildParams<'a> {
    /// Build input schema.
    pub schema: &'a SchemaRef,
    /// Build key expressions.
    pub key_exprs: &'a [PhysicalExprRef],
    /// NULL keys match each other.
    pub null_equals_null: bool,
    /// The operator's name for the reservation and messages.
    pub consumer: String,
    /// Spill counters.
    pub metrics: &'a Arc<Metrics>,
}

/// Reads a build input into a hash table, or — when the memory pool refuses it — into hash
/// buckets on disk at recursion `level`.
pub fn build_side(
    input: BatchIter,
    params: &BuildParams<'_>,
    level: usize,
    ctx: &Arc<TaskContext>,
) -> Result<BuildSide> {
    let mut reservation = ctx
        .memory
        .reserve_spillable(params.consumer.clone())
        .with_metrics(params.metrics);
    let mut batches = vec![];
    let mut input = input;
    for b in input.by_ref() {
        ctx.cancel.check()?;
        let b = b?;
        if b.num_rows() == 0 {
            continue;
        }
        if !reservation.grow_if_fits(build_estimate(&b)) {
            batches.push(b);
            reservation.free();
            let spilled = spill_build(batches, input, params, level, ctx)?;
            return Ok(BuildSide::Spilled(Arc::new(spilled)));
        }
        batches.push(b);
    }
    Ok(BuildSide::Table(Arc::new(JoinHashTable::build(
        batches,
        params.schema,
        params.key_exprs,
        params.null_equals_null,
        reservation,
    )?)))
}

/// Writes buffered build batches and the rest of the input to hash buckets.
fn spill_build(
    buffered: Vec<RecordBatch>,
    rest: BatchIter,
    params: &BuildParams<'_>,
    level: usize,
    ctx: &Arc<TaskContext>,
) -> Result<SpilledBuild> {
    let mut spiller = BucketSpiller::try_new(
        params.schema.clone(),
        level,
        ctx,
        params.metrics,
        &params.consumer,
    )?;
    if !params.null_equals_null {
        spiller = spiller.with_null_bucket();
    }
    let mut rows = 0;
    let mut has_null_key = false;
    for b in buffered.into_iter().map(Ok).chain(rest) {
        ctx.cancel.check()?;
        let b = b?;
        if b.num_rows() == 0 {
            continue;
        }
        let keys = evaluate_keys(params.key_exprs, &b)?;
        has_null_key |= keys.iter().any(|k| k.null_count() > 0);
        rows += b.num_rows();
        spiller.write(&b, &keys)?;
    }
    Ok(SpilledBuild {
        buckets: spiller.finish()?,
        rows,
        has_null_key,
        level,
    })
}
