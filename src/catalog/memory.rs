//! `MemTable`: a table held as Arrow batches in memory.
//!
//! By default the rows are kept in insertion order and scans split them into contiguous ranges,
//! one per partition, so collecting the partitions in order returns the rows in insertion order.
//! A table can instead keep fixed partitions (a cached DataFrame keeps the partitions it was
//! computed in), optionally declaring that partition `i` holds exactly the rows with
//! `hash(keys) % n == i` under flint's one partitioning hash. Its scan then reports
//! `Partitioning::Hash`, and joins and aggregations on those keys need no exchange.
//!
//! Tables the user builds from their own batches hold them as they are (that memory is the
//! user's). Tables the session materializes (`cache()`, `CREATE TABLE .. AS`, `CACHE TABLE`)
//! are *stored*: they have a [`TableStorage`] that counts their memory in the session's pool
//! and writes what the pool refuses to disk (see [`crate::catalog::stored`]); their partitions
//! then mix chunks in memory and on disk.

use std::any::Any;
use std::sync::{Arc, RwLock};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::catalog::statistics::{TableStatistics, compute_statistics};
use crate::catalog::stored::{StorageSize, StoredChunk, TableStorage, WrittenPartition};
use crate::catalog::{ScanArgs, TableKind, TableProvider};
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::exec::exchange::HashSplitter;
use crate::exec::scan::MemoryScanExec;
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::column::ColumnExpr;
use crate::runtime::memory_pool::batch_memory_size;

/// How a [`MemTable`] lays its rows out in partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layout {
    /// One sequence of batches in insertion order, split into ranges when scanned.
    Contiguous,
    /// Fixed partitions; with `hash_keys` (column indices) rows are placed by their hash.
    Fixed {
        /// Columns whose hash places each row, if any.
        hash_keys: Option<Vec<usize>>,
    },
}

/// An in-memory table.
#[derive(Debug)]
pub struct MemTable {
    schema: SchemaRef,
    /// The rows: one entry for a contiguous layout, one per partition for a fixed one.
    partitions: RwLock<Vec<Vec<StoredChunk>>>,
    layout: Layout,
    /// Where a stored table counts its memory and spills (`None`: the user's batches).
    storage: Option<Arc<TableStorage>>,
    stats: RwLock<Option<Arc<TableStatistics>>>,
    defaults: Vec<Option<datafusion_common::ScalarValue>>,
}

impl MemTable {
    /// A table with the given rows.
    pub fn try_new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self> {
        let batches = conform_all(&schema, batches)?;
        Ok(MemTable {
            schema,
            partitions: RwLock::new(vec![in_memory(batches)]),
            layout: Layout::Contiguous,
            storage: None,
            stats: RwLock::new(None),
            defaults: vec![],
        })
    }

    /// A table that keeps `partitions` as they are (scans read partition `i` as partition `i`).
    ///
    /// With `hash_keys` (column indices), the caller guarantees that partition `i` holds exactly
    /// the rows whose keys hash to `i` (as a hash exchange into `partitions.len()` partitions
    /// places them); use [`try_new_hash_partitioned`](Self::try_new_hash_partitioned) to have
    /// the table place the rows itself.
    pub(crate) fn try_new_partitioned(
        schema: SchemaRef,
        partitions: Vec<Vec<RecordBatch>>,
        hash_keys: Option<Vec<usize>>,
    ) -> Result<Self> {
        if let Some(k) = hash_keys
            .iter()
            .flatten()
            .find(|k| **k >= schema.fields().len())
        {
            return Err(Error::internal(format!("hash key column {k} out of range")));
        }
        let mut partitions = partitions
            .into_iter()
            .map(|p| conform_all(&schema, p))
            .collect::<Result<Vec<_>>>()?;
        if partitions.is_empty() {
            partitions.push(vec![]);
        }
        Ok(MemTable {
            schema,
            partitions: RwLock::new(partitions.into_iter().map(in_memory).collect()),
            layout: Layout::Fixed { hash_keys },
            storage: None,
            stats: RwLock::new(None),
            defaults: vec![],
        })
    }

    /// An empty stored table keeping its rows in insertion order (as [`try_new`](Self::try_new)),
    /// its data counted and spilled by `storage`.
    pub fn new_stored(schema: SchemaRef, storage: Arc<TableStorage>) -> Self {
        MemTable {
            schema,
            partitions: RwLock::new(vec![vec![]]),
            layout: Layout::Contiguous,
            storage: Some(storage),
            stats: RwLock::new(None),
            defaults: vec![],
        }
    }

    /// An empty stored table of `n` fixed partitions (as
    /// `try_new_partitioned`), its data counted and spilled by
    /// `storage`.
    pub fn new_stored_partitioned(
        schema: SchemaRef,
        n: usize,
        hash_keys: Option<Vec<usize>>,
        storage: Arc<TableStorage>,
    ) -> Result<Self> {
        let mut t = Self::try_new_partitioned(schema, vec![vec![]; n.max(1)], hash_keys)?;
        t.storage = Some(storage);
        Ok(t)
    }

    /// A table of `batches` hash-partitioned into `n` partitions by the columns named in `keys`,
    /// the way a hash exchange would place them. Joins and aggregations on these keys (with the
    /// same partition count) then run without moving rows.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow::array::{ArrayRef, Int64Array};
    /// use arrow::record_batch::RecordBatch;
    /// use flint::catalog::{MemTable, TableProvider};
    /// let k: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4]));
    /// let batch = RecordBatch::try_from_iter(vec![("k", k)]).unwrap();
    /// let t = MemTable::try_new_hash_partitioned(batch.schema(), vec![batch], &["k"], 2).unwrap();
    /// assert_eq!(t.row_count(), Some(4));
    /// ```
    pub fn try_new_hash_partitioned(
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        keys: &[&str],
        n: usize,
    ) -> Result<Self> {
        if n == 0 {
            return Err(Error::plan("a table needs at least one partition"));
        }
        if keys.is_empty() {
            return Err(Error::plan(
                "hash partitioning needs at least one key column",
            ));
        }
        let key_idx = keys
            .iter()
            .map(|k| {
                schema.index_of(k).map_err(|_| {
                    Error::not_found(format!(
                        "column \"{k}\" not found (available columns: {})",
                        schema
                            .fields()
                            .iter()
                            .map(|f| f.name().as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let batches = conform_all(&schema, batches)?;
        let partitions = hash_split_all(&schema, &key_idx, n, batches)?;
        Self::try_new_partitioned(schema, partitions, Some(key_idx))
    }

    /// Sets the `DEFAULT` values of the columns.
    pub fn with_defaults(mut self, defaults: Vec<Option<datafusion_common::ScalarValue>>) -> Self {
        self.defaults = defaults;
        self
    }

    /// The current rows (read back from disk where a stored table spilled them).
    pub fn batches(&self) -> Result<Vec<RecordBatch>> {
        Ok(self.partitions()?.into_iter().flatten().collect())
    }

    /// The current rows, partition by partition (one partition unless the table keeps fixed
    /// partitions), read back from disk where a stored table spilled them.
    pub fn partitions(&self) -> Result<Vec<Vec<RecordBatch>>> {
        self.chunks()
            .iter()
            .map(|p| {
                let mut out = vec![];
                for c in p {
                    for b in c.batches()? {
                        out.push(b?);
                    }
                }
                Ok(out)
            })
            .collect()
    }

    /// The number of partitions the table keeps (1 for a contiguous layout).
    pub fn partition_count(&self) -> usize {
        self.read().len()
    }

    /// Whether the session stores this table (counting its memory and spilling it).
    pub fn is_stored(&self) -> bool {
        self.storage.is_some()
    }

    /// Where a stored table counts its memory and spills (`None` for the user's batches).
    pub fn storage(&self) -> Option<&Arc<TableStorage>> {
        self.storage.as_ref()
    }

    /// The table's schema.
    pub fn schema_ref(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// How much of the table is in memory and how much on disk.
    pub fn storage_size(&self) -> StorageSize {
        StorageSize::of(self.read().iter().flatten())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Vec<StoredChunk>>> {
        self.partitions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn chunks(&self) -> Vec<Vec<StoredChunk>> {
        self.read().clone()
    }

    /// Adds (or, with `replace`, puts in place of the rows) the partitions of a finished write
    /// to a stored table, all at once. A contiguous table appends them in order; a
    /// hash-partitioned one takes partition `i` as its partition `i` (the writer placed the
    /// rows); one with fixed partitions and no placement rule takes them as its partitions when
    /// the counts match and the table is replaced, or appends them to its smallest partition.
    pub fn commit(&self, written: Vec<WrittenPartition>, replace: bool) -> Result<()> {
        let Some(storage) = &self.storage else {
            return Err(Error::internal(
                "commit of a write to a table that is not stored",
            ));
        };
        let mut data = self.partitions.write().unwrap_or_else(|e| e.into_inner());
        let n = data.len();
        let mut reservations = vec![];
        let mut parts: Vec<Vec<StoredChunk>> = vec![];
        for w in written {
            reservations.push(w.reservation);
            parts.push(w.chunks);
        }
        let placed = match &self.layout {
            Layout::Contiguous => vec![parts.into_iter().flatten().collect()],
            Layout::Fixed { hash_keys: Some(_) } if parts.len() != n => {
                return Err(Error::internal(format!(
                    "a write to a table of {n} hash partitions produced {} partitions",
                    parts.len()
                )));
            }
            Layout::Fixed { hash_keys: None } if replace && parts.len() <= n => {
                parts.resize_with(n, Vec::new);
                parts
            }
            Layout::Fixed { hash_keys: None } => {
                let mut out = vec![vec![]; n];
                let rows = |p: &Vec<StoredChunk>| p.iter().map(|c| c.rows()).sum::<usize>();
                let smallest = if replace {
                    0
                } else {
                    (0..n).min_by_key(|i| rows(&data[*i])).unwrap_or(0)
                };
                out[smallest] = parts.into_iter().flatten().collect();
                out
            }
            Layout::Fixed { hash_keys: Some(_) } => parts,
        };
        if replace {
            let old = StorageSize::of(data.iter().flatten()).memory_bytes;
            data.iter_mut().for_each(|p| p.clear());
            storage.release(old);
        }
        for (p, new) in data.iter_mut().zip(placed) {
            p.extend(new);
        }
        for r in reservations {
            storage.commit(r);
        }
        for p in data.iter_mut() {
            compact_tail(&self.schema, p, Some(storage))?;
        }
        *self.stats.write().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    /// Moves a stored table's data in memory to disk (when the memory limit was lowered below
    /// what stored tables hold); returns the bytes freed.
    pub fn move_to_disk(&self) -> Result<usize> {
        let Some(storage) = &self.storage else {
            return Ok(0);
        };
        let mut data = self.partitions.write().unwrap_or_else(|e| e.into_inner());
        let mut freed = 0;
        for p in data.iter_mut() {
            let f = storage.spill_partition(&self.schema, p)?;
            storage.release(f);
            freed += f;
        }
        Ok(freed)
    }

    /// Writes batches (already conformed) to a stored table, laid out in its layout.
    fn write_stored(
        &self,
        storage: &Arc<TableStorage>,
        batches: Vec<RecordBatch>,
        replace: bool,
    ) -> Result<()> {
        let n = self.partition_count();
        let laid_out = match &self.layout {
            // the partitions are filled by commit (the smallest one, for an append)
            Layout::Fixed { hash_keys: None } if !replace => vec![batches],
            _ => self.lay_out(batches, n)?,
        };
        let mut written = vec![];
        for part in laid_out {
            let mut w = storage.writer(&self.schema);
            for b in part {
                w.push(b)?;
            }
            written.push(w.finish()?);
        }
        self.commit(written, replace)
    }

    /// The columns (indices) whose hash places rows in partitions, if the table is hash-partitioned.
    pub fn hash_keys(&self) -> Option<&[usize]> {
        match &self.layout {
            Layout::Fixed { hash_keys } => hash_keys.as_deref(),
            Layout::Contiguous => None,
        }
    }

    /// Lays `batches` (already conformed) out in this table's layout.
    fn lay_out(&self, batches: Vec<RecordBatch>, n: usize) -> Result<Vec<Vec<RecordBatch>>> {
        Ok(match &self.layout {
            Layout::Contiguous => vec![batches],
            Layout::Fixed {
                hash_keys: Some(keys),
            } => hash_split_all(&self.schema, keys, n, batches)?,
            Layout::Fixed { hash_keys: None } => split_contiguous(&batches, n),
        })
    }
}

/// Column expressions for the key columns `keys` of `schema`.
fn key_exprs(schema: &SchemaRef, keys: &[usize]) -> Vec<PhysicalExprRef> {
    keys.iter()
        .map(|k| Arc::new(ColumnExpr::of_field(*k, schema.field(*k))) as PhysicalExprRef)
        .collect()
}

/// Places rows into `n` partitions by the hash of the key columns.
fn hash_split_all(
    schema: &SchemaRef,
    keys: &[usize],
    n: usize,
    batches: Vec<RecordBatch>,
) -> Result<Vec<Vec<RecordBatch>>> {
    let mut splitter = HashSplitter::new(key_exprs(schema, keys), n);
    let mut partitions = vec![vec![]; n.max(1)];
    for b in &batches {
        for (j, piece) in splitter.split(b)? {
            partitions[j].push(piece);
        }
    }
    Ok(partitions)
}

/// Re-labels a batch with the table's schema, checking types and NOT NULL columns.
pub(crate) fn conform(schema: &SchemaRef, b: RecordBatch) -> Result<RecordBatch> {
    let bs = b.schema();
    if bs.fields().len() != schema.fields().len()
        || bs
            .fields()
            .iter()
            .zip(schema.fields())
            .any(|(a, b)| a.data_type() != b.data_type())
    {
        return Err(Error::internal(format!(
            "batch schema {bs:?} does not match table schema {schema:?}"
        )));
    }
    for (f, c) in schema.fields().iter().zip(b.columns()) {
        if !f.is_nullable() && c.null_count() > 0 {
            return Err(Error::execution(format!(
                "NULL value in column \"{}\" violates NOT NULL",
                f.name()
            )));
        }
    }
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        b.columns().to_vec(),
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
    )?)
}

fn conform_all(schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    batches
        .into_iter()
        .filter(|b| b.num_rows() > 0)
        .map(|b| conform(schema, b))
        .collect()
}

/// Chunks in memory of `batches`.
fn in_memory(batches: Vec<RecordBatch>) -> Vec<StoredChunk> {
    batches.into_iter().map(StoredChunk::Memory).collect()
}

/// Many small INSERTs leave many tiny batches; merge trailing small batches in memory once
/// there are enough of them, so scans stay fast (amortized: each row is copied a bounded number
/// of times). A stored table's reservation follows the size change.
fn compact_tail(
    schema: &SchemaRef,
    data: &mut Vec<StoredChunk>,
    storage: Option<&Arc<TableStorage>>,
) -> Result<()> {
    const SMALL: usize = 1024;
    const MAX_SMALL: usize = 32;
    let small = data
        .iter()
        .rev()
        .take_while(|c| matches!(c, StoredChunk::Memory(b) if b.num_rows() < SMALL))
        .count();
    if small >= MAX_SMALL {
        let start = data.len() - small;
        let batches: Vec<RecordBatch> = data[start..]
            .iter()
            .filter_map(|c| match c {
                StoredChunk::Memory(b) => Some(b.clone()),
                StoredChunk::Spilled { .. } => None,
            })
            .collect();
        let merged = arrow::compute::concat_batches(schema, &batches)?;
        if let Some(storage) = storage {
            let old: usize = batches.iter().map(batch_memory_size).sum();
            storage.resize_held(old, batch_memory_size(&merged));
        }
        data.truncate(start);
        data.push(StoredChunk::Memory(merged));
    }
    Ok(())
}

/// Splits chunks into `n` contiguous ranges of about equal row counts: batches in memory are
/// sliced, a chunk on disk goes whole to one range.
fn split_chunks(chunks: &[StoredChunk], n: usize) -> Vec<Vec<StoredChunk>> {
    let total: usize = chunks.iter().map(|c| c.rows()).sum();
    let n = n.max(1);
    if total == 0 {
        return vec![vec![]];
    }
    let per = total.div_ceil(n);
    let mut parts: Vec<Vec<StoredChunk>> = vec![vec![]];
    let mut in_part = 0usize;
    for c in chunks {
        let b = match c {
            StoredChunk::Memory(b) => b,
            spilled => {
                if in_part >= per {
                    parts.push(vec![]);
                    in_part = 0;
                }
                if let Some(last) = parts.last_mut() {
                    last.push(spilled.clone());
                }
                in_part += spilled.rows();
                continue;
            }
        };
        let mut off = 0;
        while off < b.num_rows() {
            if in_part >= per {
                parts.push(vec![]);
                in_part = 0;
            }
            let take = (per - in_part).min(b.num_rows() - off);
            if let Some(last) = parts.last_mut() {
                last.push(StoredChunk::Memory(b.slice(off, take)));
            }
            in_part += take;
            off += take;
        }
    }
    parts
}

/// Splits batches into `n` contiguous ranges of about equal row counts.
pub fn split_contiguous(batches: &[RecordBatch], n: usize) -> Vec<Vec<RecordBatch>> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let n = n.max(1);
    if total == 0 {
        return vec![vec![]];
    }
    let per = total.div_ceil(n);
    let mut parts: Vec<Vec<RecordBatch>> = vec![vec![]];
    let mut in_part = 0usize;
    for b in batches {
        let mut off = 0;
        while off < b.num_rows() {
            if in_part == per {
                parts.push(vec![]);
                in_part = 0;
            }
            let take = (per - in_part).min(b.num_rows() - off);
            if let Some(last) = parts.last_mut() {
                last.push(b.slice(off, take));
            }
            in_part += take;
            off += take;
        }
    }
    parts
}

impl TableProvider for MemTable {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn kind(&self) -> TableKind {
        TableKind::Memory
    }
    fn scan(&self, args: ScanArgs<'_>) -> Result<Arc<dyn ExecutionPlan>> {
        let stored = self.chunks();
        let schema = match args.projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let (partitions, hash_keys) = match &self.layout {
            Layout::Contiguous => {
                let chunks: Vec<StoredChunk> = stored.into_iter().flatten().collect();
                let rows: usize = chunks.iter().map(|c| c.rows()).sum();
                // small tables are not worth splitting
                let n = if rows < args.config.batch_size {
                    1
                } else {
                    args.config.target_partitions
                };
                (split_chunks(&chunks, n), None)
            }
            Layout::Fixed { hash_keys } => {
                // the keys as positions in the projected output; lost if one is not read
                let projected = hash_keys.as_ref().and_then(|keys| {
                    keys.iter()
                        .map(|k| match args.projection {
                            Some(p) => p.iter().position(|c| c == k),
                            None => Some(*k),
                        })
                        .collect::<Option<Vec<usize>>>()
                });
                (stored, projected.map(|k| key_exprs(&schema, &k)))
            }
        };
        Ok(Arc::new(MemoryScanExec::new_chunked(
            partitions,
            schema,
            args.projection.cloned(),
            args.fetch,
            hash_keys,
        )))
    }
    fn column_default(&self, i: usize) -> Option<datafusion_common::ScalarValue> {
        self.defaults.get(i).cloned().flatten()
    }
    fn statistics(&self) -> Option<Arc<TableStatistics>> {
        if let Some(s) = self.stats.read().unwrap_or_else(|e| e.into_inner()).clone() {
            return Some(s);
        }
        let chunks = self.chunks();
        let columns = self.schema.fields().len();
        let in_memory: Vec<RecordBatch> = chunks
            .iter()
            .flatten()
            .filter_map(|c| match c {
                StoredChunk::Memory(b) => Some(b.clone()),
                StoredChunk::Spilled { .. } => None,
            })
            .collect();
        let mut s = compute_statistics(columns, &in_memory);
        for c in chunks.iter().flatten() {
            if let StoredChunk::Spilled { stats, .. } = c {
                s = s.merge(stats);
            }
        }
        let s = Arc::new(s);
        *self.stats.write().unwrap_or_else(|e| e.into_inner()) = Some(s.clone());
        Some(s)
    }
    fn row_count(&self) -> Option<usize> {
        Some(self.read().iter().flatten().map(|c| c.rows()).sum())
    }
    fn insert(&self, batches: Vec<RecordBatch>) -> Result<usize> {
        let batches = conform_all(&self.schema, batches)?;
        let n = batches.iter().map(|b| b.num_rows()).sum();
        if let Some(storage) = &self.storage {
            self.write_stored(storage, batches, false)?;
            return Ok(n);
        }
        let mut data = self.partitions.write().unwrap_or_else(|e| e.into_inner());
        let count = data.len();
        if self.layout == (Layout::Fixed { hash_keys: None }) {
            // no placement rule: the new rows go to the smallest partition
            let rows = |p: &Vec<StoredChunk>| p.iter().map(|c| c.rows()).sum::<usize>();
            if let Some(p) = data.iter_mut().min_by_key(|p| rows(p)) {
                p.extend(in_memory(batches));
                compact_tail(&self.schema, p, None)?;
            }
        } else {
            for (p, new) in data.iter_mut().zip(self.lay_out(batches, count)?) {
                p.extend(in_memory(new));
                compact_tail(&self.schema, p, None)?;
            }
        }
        *self.stats.write().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(n)
    }
    fn replace(&self, batches: Vec<RecordBatch>) -> Result<()> {
        let batches = conform_all(&self.schema, batches)?;
        if let Some(storage) = &self.storage {
            return self.write_stored(storage, batches, true);
        }
        let mut data = self.partitions.write().unwrap_or_else(|e| e.into_inner());
        let count = data.len();
        *data = self
            .lay_out(batches, count)?
            .into_iter()
            .map(in_memory)
            .collect();
        *self.stats.write().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }
}
