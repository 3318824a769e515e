//! Storage of the tables a session materializes (`DataFrame::cache()`/`persist()`,
//! `CREATE TABLE .. AS`, `INSERT INTO` them, `CACHE TABLE`), like Spark's `MEMORY_AND_DISK`
//! storage level: a table's partitions are sequences of [`StoredChunk`]s, each either batches in
//! memory, counted under a storage reservation of the session's memory pool, or an Arrow IPC
//! file on disk.
//!
//! ```text
//!  query partition p ──▶ PartitionWriter ──grow_if_fits?──▶ yes: batch stays in memory
//!                                               └──────────▶ no:  this and every later batch of
//!                                                                 the write go to files of
//!                                                                 FILE_BATCHES batches
//!  finish(): WrittenPartition { chunks, reservation } ──▶ MemTable commits all partitions at once
//! ```
//!
//! Policy: stored tables together take at most
//! [`STORAGE_FRACTION`](crate::runtime::memory_pool::STORAGE_FRACTION) of the memory limit
//! (half), so queries are never starved by cached data; what does not fit goes to disk at once
//! (earlier tables are not evicted for later ones). Lowering the limit moves stored memory to
//! disk until the tables fit their share again. Writes are all-or-nothing: the chunks of a
//! write join the table only when every partition finished, and a failed write drops them,
//! which frees their memory and removes their files. Files are named `flint-stored-*.arrows`
//! in the session's `spill_dir` and are removed when the table is dropped (`DROP TABLE`, the
//! last DataFrame reading it going away, the session ending) and no scan reads them anymore.

use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::catalog::memory::conform;
use crate::catalog::statistics::{TableStatistics, compute_statistics};
use crate::config::SessionConfig;
use crate::error::Result;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::runtime::memory_pool::batch_memory_size;
use crate::runtime::spill::{SpillFile, SpillManager, SpillWriter};
use crate::runtime::{MemoryPool, MemoryReservation, TaskContext, fair, scheduler};

/// Batches per file: a scan reads a file whole in one partition, so a table spilled in files of
/// a few batches each can still be split into partitions of about equal size.
const FILE_BATCHES: usize = 16;

/// A piece of a table partition, in memory or on disk.
#[derive(Debug, Clone)]
pub enum StoredChunk {
    /// A batch in memory.
    Memory(RecordBatch),
    /// Batches in a file, with their statistics (computed while they were written, so the
    /// planner never reads the file for them).
    Spilled {
        /// The file (removed when the last handle goes).
        file: Arc<SpillFile>,
        /// Statistics of its rows.
        stats: Arc<TableStatistics>,
    },
}

impl StoredChunk {
    /// Rows held.
    pub fn rows(&self) -> usize {
        match self {
            StoredChunk::Memory(b) => b.num_rows(),
            StoredChunk::Spilled { file, .. } => file.rows(),
        }
    }

    /// The batches, read from disk for a spilled chunk (streamed, one batch at a time).
    pub fn batches(&self) -> Result<BatchIter> {
        Ok(match self {
            StoredChunk::Memory(b) => Box::new(std::iter::once(Ok(b.clone()))),
            StoredChunk::Spilled { file, .. } => Box::new(file.read()?),
        })
    }
}

/// How much of a table is in memory and on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageSize {
    /// Bytes of batches in memory.
    pub memory_bytes: usize,
    /// Bytes of files on disk.
    pub disk_bytes: usize,
    /// Batches on disk.
    pub disk_batches: usize,
    /// Files on disk.
    pub disk_files: usize,
}

impl StorageSize {
    /// The sizes of `chunks` (`memory_bytes` counts the batches in memory).
    pub fn of<'a>(chunks: impl IntoIterator<Item = &'a StoredChunk>) -> StorageSize {
        let mut s = StorageSize::default();
        for c in chunks {
            match c {
                StoredChunk::Memory(b) => s.memory_bytes += batch_memory_size(b),
                StoredChunk::Spilled { file, .. } => {
                    s.disk_bytes += file.bytes();
                    s.disk_batches += file.batches();
                    s.disk_files += 1;
                }
            }
        }
        s
    }
}

/// Where one stored table keeps its data: a storage reservation in the session's memory pool
/// for the batches in memory, and its own spill files.
#[derive(Debug)]
pub struct TableStorage {
    pool: Arc<MemoryPool>,
    spill: Arc<SpillManager>,
    /// Rows per batch written when memory moves to disk (the session's `batch_size`).
    batch_size: usize,
    /// The memory of the table's chunks in memory.
    reservation: Mutex<MemoryReservation>,
}

impl TableStorage {
    /// Storage for table `name` in `pool`, writing files to the `spill_dir` of `config` (at
    /// most `max_spill_size` bytes on disk for this table).
    pub fn new(name: &str, pool: &Arc<MemoryPool>, config: &SessionConfig) -> Arc<Self> {
        Arc::new(TableStorage {
            pool: pool.clone(),
            spill: SpillManager::with_prefix(
                config.spill_dir.clone(),
                config.max_spill_size,
                "flint-stored-",
            ),
            batch_size: config.batch_size.max(1),
            reservation: Mutex::new(pool.reserve_storage(format!("stored table {name}"))),
        })
    }

    /// The memory pool the table's memory is counted in.
    pub fn pool(&self) -> &Arc<MemoryPool> {
        &self.pool
    }

    /// A writer for one partition of a write, conforming batches to `schema`.
    pub fn writer(self: &Arc<Self>, schema: &SchemaRef) -> PartitionWriter {
        PartitionWriter {
            storage: self.clone(),
            schema: schema.clone(),
            reservation: self.pool.reserve_storage("stored table write"),
            chunks: vec![],
            spill: None,
            spill_stats: None,
            spilling: false,
        }
    }

    /// Bytes held in memory now.
    pub fn memory_bytes(&self) -> usize {
        self.reservation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .size()
    }

    /// Counts the memory of a committed write as the table's.
    pub(crate) fn commit(&self, written: MemoryReservation) {
        self.reservation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .absorb(written);
    }

    /// Releases `bytes` of the table's memory (chunks that were replaced, dropped or moved
    /// to disk).
    pub(crate) fn release(&self, bytes: usize) {
        self.reservation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shrink(bytes);
    }

    /// Follows a change of the table's memory from `old` to `new` bytes (batches merged in
    /// memory): growing is forced, since the data is already there.
    pub(crate) fn resize_held(&self, old: usize, new: usize) {
        let mut r = self.reservation.lock().unwrap_or_else(|e| e.into_inner());
        if new > old {
            r.grow(new - old);
        } else {
            r.shrink(old - new);
        }
    }

    /// Moves the memory chunks of `partition` to disk (each run of them becomes one file at
    /// its place, so the order of rows stays); returns the bytes freed (not yet released).
    pub(crate) fn spill_partition(
        &self,
        schema: &SchemaRef,
        partition: &mut Vec<StoredChunk>,
    ) -> Result<usize> {
        let mut out = Vec::with_capacity(partition.len());
        let mut run: Vec<RecordBatch> = vec![];
        let mut freed = 0;
        for c in std::mem::take(partition) {
            match c {
                StoredChunk::Memory(b) => run.push(b),
                spilled => {
                    if !run.is_empty() {
                        freed += self.spill_run(schema, &mut run, &mut out)?;
                    }
                    out.push(spilled);
                }
            }
        }
        if !run.is_empty() {
            freed += self.spill_run(schema, &mut run, &mut out)?;
        }
        *partition = out;
        Ok(freed)
    }

    fn spill_run(
        &self,
        schema: &SchemaRef,
        run: &mut Vec<RecordBatch>,
        out: &mut Vec<StoredChunk>,
    ) -> Result<usize> {
        let freed = run.iter().map(batch_memory_size).sum();
        // batches of at most `batch_size` rows, so scans can split the files evenly
        let pieces: Vec<RecordBatch> = run
            .iter()
            .flat_map(|b| {
                (0..b.num_rows())
                    .step_by(self.batch_size)
                    .map(move |off| b.slice(off, self.batch_size.min(b.num_rows() - off)))
            })
            .collect();
        for group in pieces.chunks(FILE_BATCHES) {
            let mut w = SpillWriter::new(&self.spill, schema, None)?;
            for b in group {
                w.write(b)?;
            }
            let stats = compute_statistics(schema.fields().len(), group);
            out.push(StoredChunk::Spilled {
                file: w.finish()?,
                stats: Arc::new(stats),
            });
        }
        run.clear();
        Ok(freed)
    }
}

/// Writes one partition of a stored table: batches stay in memory while the pool grants the
/// storage reservation; from the first refusal on, they go to files (of `FILE_BATCHES`
/// batches of at most `batch_size` rows).
pub struct PartitionWriter {
    storage: Arc<TableStorage>,
    schema: SchemaRef,
    reservation: MemoryReservation,
    chunks: Vec<StoredChunk>,
    spill: Option<SpillWriter>,
    spill_stats: Option<TableStatistics>,
    /// Set at the first refusal: later batches go to disk too, keeping the order of rows.
    spilling: bool,
}

impl PartitionWriter {
    /// Adds a batch (checked against and re-labelled with the table's schema).
    pub fn push(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = conform(&self.schema, batch)?;
        if !self.spilling && self.reservation.grow_if_fits(batch_memory_size(&batch)) {
            self.chunks.push(StoredChunk::Memory(batch));
            return Ok(());
        }
        self.spilling = true;
        let size = self.storage.batch_size;
        for off in (0..batch.num_rows()).step_by(size) {
            let piece = batch.slice(off, size.min(batch.num_rows() - off));
            self.spill_piece(&piece)?;
        }
        Ok(())
    }

    /// Writes a batch to the current file (starting one if needed).
    fn spill_piece(&mut self, batch: &RecordBatch) -> Result<()> {
        let w = match &mut self.spill {
            Some(w) => w,
            None => self
                .spill
                .insert(SpillWriter::new(&self.storage.spill, &self.schema, None)?),
        };
        w.write(batch)?;
        let stats = compute_statistics(self.schema.fields().len(), std::slice::from_ref(batch));
        self.spill_stats = Some(match self.spill_stats.take() {
            Some(s) => s.merge(&stats),
            None => stats,
        });
        if w.batches() >= FILE_BATCHES {
            self.finish_file()?;
        }
        Ok(())
    }

    /// Ends the current file, if any, as a chunk.
    fn finish_file(&mut self) -> Result<()> {
        if let Some(w) = self.spill.take() {
            let stats = self.spill_stats.take().unwrap_or_default();
            self.chunks.push(StoredChunk::Spilled {
                file: w.finish()?,
                stats: Arc::new(stats),
            });
        }
        Ok(())
    }

    /// Ends the write of this partition.
    pub fn finish(mut self) -> Result<WrittenPartition> {
        self.finish_file()?;
        Ok(WrittenPartition {
            chunks: self.chunks,
            reservation: self.reservation,
        })
    }
}

/// The chunks one partition writer produced, with the memory they hold; dropped unless the
/// table commits them (which frees the memory and removes the files).
#[derive(Debug)]
pub struct WrittenPartition {
    /// The data, in order.
    pub chunks: Vec<StoredChunk>,
    /// Memory of the chunks in memory.
    pub reservation: MemoryReservation,
}

/// Runs `plan` and writes each of its output partitions through its own [`PartitionWriter`]
/// (streaming: no partition is collected in memory first).
pub fn store_plan(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &Arc<TaskContext>,
    storage: &Arc<TableStorage>,
    schema: &SchemaRef,
) -> Result<Vec<WrittenPartition>> {
    scheduler::run_stages(plan, ctx)?;
    let n = plan.output_partitioning().partition_count();
    scheduler::run_tasks(ctx, n, |p| {
        let mut w = storage.writer(schema);
        for b in plan.execute(p, ctx)? {
            ctx.cancel.check()?;
            fair::yield_point();
            w.push(b?)?;
        }
        w.finish()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
    use arrow::record_batch::RecordBatch;

    use super::{StorageSize, StoredChunk, TableStorage};
    use crate::config::SessionConfig;
    use crate::runtime::MemoryPool;

    fn batch(schema: &SchemaRef, from: i64, n: i64) -> RecordBatch {
        let a = Int64Array::from_iter((from..from + n).map(|v| (v % 5 != 0).then_some(v)));
        RecordBatch::try_new(schema.clone(), vec![Arc::new(a)]).unwrap()
    }

    #[test]
    fn refused_batches_go_to_files_in_order_and_go_away_with_their_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        // 8 KB of storage: the first batches stay in memory, the rest go to disk
        let pool = MemoryPool::new(Some(16 * 1024));
        let config = SessionConfig::default()
            .with_spill_dir(dir.path())
            .with_batch_size(100);
        let storage = TableStorage::new("t", &pool, &config);
        let mut w = storage.writer(&schema);
        let input: Vec<RecordBatch> = (0..40).map(|i| batch(&schema, i * 100, 100)).collect();
        for b in &input {
            w.push(b.clone()).unwrap();
        }
        let written = w.finish().unwrap();
        let size = StorageSize::of(&written.chunks);
        assert!(
            size.memory_bytes > 0 && size.memory_bytes <= 8 * 1024,
            "{size:?}"
        );
        assert_eq!(written.reservation.size(), size.memory_bytes);
        // files of at most 16 batches
        assert!(
            size.disk_files >= size.disk_batches.div_ceil(16),
            "{size:?}"
        );
        // memory chunks come first, then files only: the order of rows is kept
        let first_file = written
            .chunks
            .iter()
            .position(|c| matches!(c, StoredChunk::Spilled { .. }))
            .unwrap();
        assert!(
            written.chunks[first_file..]
                .iter()
                .all(|c| matches!(c, StoredChunk::Spilled { .. }))
        );
        let back: Vec<RecordBatch> = written
            .chunks
            .iter()
            .flat_map(|c| c.batches().unwrap())
            .collect::<crate::error::Result<_>>()
            .unwrap();
        assert_eq!(back, input);
        assert_eq!(pool.storage_used(), size.memory_bytes);
        // an uncommitted write frees its memory and removes its files when dropped
        drop(written);
        assert_eq!((pool.used(), pool.storage_used()), (0, 0));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
