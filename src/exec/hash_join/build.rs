//! The build side of a hash join: all build rows in one batch, their key
//! arrays, and a hash table from key hash to a chain of row indices.

use arrow::array::{Array, ArrayRef};
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use hashbrown::HashTable;

use crate::error::Result;
use crate::exec::BatchIter;
use crate::exec::hash_aggregate::group_values::table_hashes;
use crate::physical_expr::PhysicalExprRef;
use crate::runtime::{MemoryReservation, TaskContext};

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
    /// Whether some build row has a NULL in a key.
    pub has_null_key: bool,
    /// Memory held by this table.
    pub reservation: Option<MemoryReservation>,
}

impl JoinHashTable {
    /// Number of build rows.
    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Reads the whole build input and builds the table. Rows with NULL keys are kept in the
    /// batch (outer joins emit them) but only inserted when `null_equals_null`.
    pub fn build(
        input: BatchIter,
        schema: &SchemaRef,
        key_exprs: &[PhysicalExprRef],
        null_equals_null: bool,
        ctx: &TaskContext,
        consumer: String,
    ) -> Result<Self> {
        let mut reservation = ctx.memory.reserve(consumer);
        let mut batches = vec![];
        for b in input {
            ctx.cancel.check()?;
            let b = b?;
            if b.num_rows() == 0 {
                continue;
            }
            reservation.try_grow(b.get_array_memory_size())?;
            batches.push(b);
        }
        let batch = concat_batches(schema, &batches)?;
        drop(batches);
        let n = batch.num_rows();
        let keys = key_exprs
            .iter()
            .map(|e| e.evaluate(&batch)?.into_array(n))
            .collect::<Result<Vec<_>>>()?;
        let keys = crate::physical_expr::normalize::normalize_keys(keys)?;
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
        reservation.try_grow(extra)?;
        Ok(JoinHashTable {
            batch,
            keys,
            hashes,
            map,
            next,
            has_null_key,
            reservation: Some(reservation),
        })
    }
}
