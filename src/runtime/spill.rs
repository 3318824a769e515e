//! Spill files: operators that are refused memory write batches to temporary Arrow IPC stream
//! files (LZ4-compressed) in `spill_dir` and stream them back later.
//!
//! ```text
//!  SpillManager (one per query: directory, disk quota, live files)
//!     └─ SpillWriter::new ─▶ write(batch)… ─▶ finish() ─▶ Arc<SpillFile> ─▶ read() ─▶ batches
//!                                                             └─ dropped: the file is removed
//! ```
//! Every file has a unique name (`flint-spill-<random>.arrows`) and is deleted when its last
//! handle goes away — after a successful query, an error or a cancellation alike, since the
//! handles live inside the operators. Errors name the file (a full disk, a missing directory).

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::CompressionType;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow::record_batch::RecordBatch;
use arrow_select::coalesce::BatchCoalescer;
use tempfile::TempPath;

use crate::error::{Error, Result};
use crate::runtime::Metrics;
use crate::runtime::memory_pool::batch_memory_size;

/// Where a query's spill files go, how much they may take, and how many exist.
#[derive(Debug)]
pub struct SpillManager {
    dir: PathBuf,
    /// File name prefix: `flint-spill-` for queries, `flint-stored-` for stored tables.
    prefix: &'static str,
    max_bytes: Option<usize>,
    bytes_on_disk: AtomicUsize,
    live_files: AtomicUsize,
    total_files: AtomicUsize,
    total_bytes: AtomicUsize,
}

impl SpillManager {
    /// Spills into `dir`, with at most `max_bytes` on disk at once.
    pub fn new(dir: PathBuf, max_bytes: Option<usize>) -> Arc<Self> {
        Self::with_prefix(dir, max_bytes, "flint-spill-")
    }

    /// Like [`new`](Self::new), naming files `<prefix><random>.arrows` (stored tables' files
    /// outlive queries and are told apart from theirs by the prefix).
    pub fn with_prefix(dir: PathBuf, max_bytes: Option<usize>, prefix: &'static str) -> Arc<Self> {
        Arc::new(SpillManager {
            dir,
            prefix,
            max_bytes,
            bytes_on_disk: AtomicUsize::new(0),
            live_files: AtomicUsize::new(0),
            total_files: AtomicUsize::new(0),
            total_bytes: AtomicUsize::new(0),
        })
    }

    /// The spill directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Spill files that exist now.
    pub fn live_files(&self) -> usize {
        self.live_files.load(Ordering::Relaxed)
    }

    /// Bytes of spill files that exist now.
    pub fn bytes_on_disk(&self) -> usize {
        self.bytes_on_disk.load(Ordering::Relaxed)
    }

    /// Spill files written so far.
    pub fn total_files(&self) -> usize {
        self.total_files.load(Ordering::Relaxed)
    }

    /// Bytes written to spill files so far.
    pub fn total_bytes(&self) -> usize {
        self.total_bytes.load(Ordering::Relaxed)
    }

    /// Counts `bytes` more on disk, unless that passes `max_spill_size`.
    fn add_bytes(&self, bytes: usize) -> bool {
        let mut cur = self.bytes_on_disk.load(Ordering::Relaxed);
        loop {
            if let Some(max) = self.max_bytes
                && cur + bytes > max
            {
                return false;
            }
            match self.bytes_on_disk.compare_exchange_weak(
                cur,
                cur + bytes,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.total_bytes.fetch_add(bytes, Ordering::Relaxed);
                    return true;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    fn release(&self, bytes: usize) {
        self.bytes_on_disk.fetch_sub(bytes, Ordering::SeqCst);
        self.live_files.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A finished spill file; the file is removed when this is dropped.
#[derive(Debug)]
pub struct SpillFile {
    path: TempPath,
    schema: SchemaRef,
    bytes: usize,
    rows: usize,
    batches: usize,
    max_batch_bytes: usize,
    manager: Arc<SpillManager>,
}

impl SpillFile {
    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Size on disk.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
    /// Rows written.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Batches written.
    pub fn batches(&self) -> usize {
        self.batches
    }
    /// The largest batch written, in memory bytes: what reading it back takes at a time.
    pub fn max_batch_bytes(&self) -> usize {
        self.max_batch_bytes
    }
    /// Schema of the batches.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Streams the batches back, in the order written. The reader keeps the file alive.
    pub fn read(self: &Arc<Self>) -> Result<SpillReader> {
        let file = File::open(&self.path).map_err(|e| {
            Error::io(format!(
                "cannot open spill file {}: {e}",
                self.path.display()
            ))
        })?;
        let reader = StreamReader::try_new(BufReader::with_capacity(1 << 16, file), None)
            .map_err(|e| read_error(&self.path, e))?;
        Ok(SpillReader {
            file: self.clone(),
            reader,
        })
    }
}

impl SpillFile {
    /// Streams the batches back joined into `batch_size`-row batches (bucket files hold many
    /// small pieces).
    pub fn read_coalesced(
        self: &Arc<Self>,
        batch_size: usize,
    ) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>> + Send>> {
        let mut reader = self.read()?;
        let mut coalescer = BatchCoalescer::new(self.schema.clone(), batch_size.max(1));
        let mut finished = false;
        Ok(Box::new(std::iter::from_fn(move || {
            loop {
                if let Some(b) = coalescer.next_completed_batch() {
                    return Some(Ok(b));
                }
                if finished {
                    return None;
                }
                match reader.next() {
                    Some(Ok(b)) => {
                        if let Err(e) = coalescer.push_batch(b) {
                            return Some(Err(e.into()));
                        }
                    }
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        finished = true;
                        if let Err(e) = coalescer.finish_buffered_batch() {
                            return Some(Err(e.into()));
                        }
                    }
                }
            }
        })))
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        // TempPath removes the file when it is dropped right after this
        self.manager.release(self.bytes);
    }
}

fn read_error(path: &Path, e: ArrowError) -> Error {
    Error::io(format!("cannot read spill file {}: {e}", path.display()))
}

/// Batches of a spill file, in the order they were written.
pub struct SpillReader {
    file: Arc<SpillFile>,
    reader: StreamReader<BufReader<File>>,
}

impl Iterator for SpillReader {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        self.reader
            .next()
            .map(|r| r.map_err(|e| read_error(&self.file.path, e)))
    }
}

/// Counts bytes on their way to disk against the query's spill quota.
struct QuotaWriter {
    inner: File,
    manager: Arc<SpillManager>,
    written: usize,
    over_quota: bool,
}

impl Write for QuotaWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.manager.add_bytes(buf.len()) {
            self.over_quota = true;
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "max_spill_size reached",
            ));
        }
        match self.inner.write(buf) {
            Ok(n) => {
                self.written += n;
                // only what was really written stays counted
                self.manager
                    .bytes_on_disk
                    .fetch_sub(buf.len() - n, Ordering::SeqCst);
                Ok(n)
            }
            Err(e) => {
                self.manager
                    .bytes_on_disk
                    .fetch_sub(buf.len(), Ordering::SeqCst);
                Err(e)
            }
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes batches to a new spill file.
pub struct SpillWriter {
    writer: StreamWriter<BufWriter<QuotaWriter>>,
    path: Option<TempPath>,
    schema: SchemaRef,
    rows: usize,
    batches: usize,
    max_batch_bytes: usize,
    manager: Arc<SpillManager>,
    metrics: Option<Arc<Metrics>>,
}

impl SpillWriter {
    /// Creates a new, uniquely named file in the manager's directory; `metrics` (the spilling
    /// operator's) count spill files, rows and bytes.
    pub fn new(
        manager: &Arc<SpillManager>,
        schema: &SchemaRef,
        metrics: Option<&Arc<Metrics>>,
    ) -> Result<Self> {
        let named = tempfile::Builder::new()
            .prefix(manager.prefix)
            .suffix(".arrows")
            .tempfile_in(&manager.dir)
            .map_err(|e| {
                Error::io(format!(
                    "cannot create a spill file in {}: {e} (set spill_dir to a writable directory)",
                    manager.dir.display()
                ))
            })?;
        let (file, path) = named.into_parts();
        let quota = QuotaWriter {
            inner: file,
            manager: manager.clone(),
            written: 0,
            over_quota: false,
        };
        // LZ4 frames: a fraction of the raw size for typical columns at little CPU cost (as
        // Spark's shuffle and spill files); readers decompress transparently
        let options = IpcWriteOptions::default()
            .try_with_compression(Some(CompressionType::LZ4_FRAME))
            .map_err(|e| write_error(&path, e, false))?;
        let writer = StreamWriter::try_new_with_options(
            BufWriter::with_capacity(1 << 16, quota),
            schema.as_ref(),
            options,
        )
        .map_err(|e| write_error(&path, e, false))?;
        manager.live_files.fetch_add(1, Ordering::SeqCst);
        manager.total_files.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = metrics {
            m.add("spill_files", 1);
        }
        Ok(SpillWriter {
            writer,
            path: Some(path),
            schema: schema.clone(),
            rows: 0,
            batches: 0,
            max_batch_bytes: 0,
            manager: manager.clone(),
            metrics: metrics.cloned(),
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Batches written so far.
    pub fn batches(&self) -> usize {
        self.batches
    }

    fn error(&self, e: ArrowError) -> Error {
        let over = self.writer.get_ref().get_ref().over_quota;
        match &self.path {
            Some(p) => write_error(p, e, over),
            None => Error::internal("spill file already finished"),
        }
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if let Err(e) = self.writer.write(batch) {
            return Err(self.error(e));
        }
        self.rows += batch.num_rows();
        self.batches += 1;
        self.max_batch_bytes = self.max_batch_bytes.max(batch_memory_size(batch));
        Ok(())
    }

    /// Ends the stream and returns the file, ready to be read.
    pub fn finish(mut self) -> Result<Arc<SpillFile>> {
        if let Err(e) = self.writer.finish() {
            return Err(self.error(e));
        }
        if let Err(e) = self.writer.get_mut().flush() {
            return Err(self.error(ArrowError::from(e)));
        }
        let bytes = self.writer.get_ref().get_ref().written;
        if let Some(m) = &self.metrics {
            m.add("spilled_rows", self.rows);
            m.add("spilled_bytes", bytes);
        }
        let path = self
            .path
            .take()
            .ok_or_else(|| Error::internal("spill file already finished"))?;
        Ok(Arc::new(SpillFile {
            path,
            schema: self.schema.clone(),
            bytes,
            rows: self.rows,
            batches: self.batches,
            max_batch_bytes: self.max_batch_bytes,
            manager: self.manager.clone(),
        }))
    }
}

impl Drop for SpillWriter {
    fn drop(&mut self) {
        // not finished (an error or a cancellation): give back its count; TempPath removes it
        if self.path.is_some() {
            let written = self.writer.get_ref().get_ref().written;
            self.manager.release(written);
        }
    }
}

fn write_error(path: &Path, e: ArrowError, over_quota: bool) -> Error {
    if over_quota {
        Error::resources_exhausted(format!(
            "spill file {} would pass max_spill_size; raise it with SET max_spill_size = '...'",
            path.display()
        ))
    } else {
        Error::io(format!(
            "cannot write spill file {}: {e} (free disk space or set spill_dir to another disk)",
            path.display()
        ))
    }
}

/// Writes `batches` to a new spill file.
pub fn spill_batches<'a>(
    manager: &Arc<SpillManager>,
    schema: &SchemaRef,
    batches: impl IntoIterator<Item = &'a RecordBatch>,
    metrics: Option<&Arc<Metrics>>,
) -> Result<Arc<SpillFile>> {
    let mut w = SpillWriter::new(manager, schema, metrics)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    use super::{SpillManager, SpillWriter, spill_batches};
    use crate::error::ErrorKind;

    fn batch(from: i64, n: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let a = Int64Array::from_iter((from..from + n).map(|v| (v % 3 != 0).then_some(v)));
        let b = StringArray::from_iter_values((from..from + n).map(|v| format!("s{v}")));
        RecordBatch::try_new(schema, vec![Arc::new(a), Arc::new(b)]).unwrap()
    }

    #[test]
    fn spill_files_are_compressed() {
        let dir = tempfile::tempdir().unwrap();
        let manager = SpillManager::new(dir.path().to_path_buf(), None);
        // 200,000 rows of repetitive values
        let input: Vec<RecordBatch> = (0..20)
            .map(|i| {
                let b = batch(i * 10_000, 10_000);
                let a = Int64Array::from_iter_values((0..10_000).map(|v| v % 7));
                let s = StringArray::from_iter_values((0..10_000).map(|v| format!("v{}", v % 5)));
                RecordBatch::try_new(b.schema(), vec![Arc::new(a), Arc::new(s)]).unwrap()
            })
            .collect();
        // the same batches as an uncompressed IPC stream
        let mut plain =
            arrow::ipc::writer::StreamWriter::try_new(vec![], &input[0].schema()).unwrap();
        for b in &input {
            plain.write(b).unwrap();
        }
        let raw = plain.into_inner().unwrap().len();
        let file = spill_batches(&manager, &input[0].schema(), &input, None).unwrap();
        // the string offsets (2, 4, 6, ...) compress least
        assert!(
            file.bytes() * 3 < raw,
            "{} bytes on disk for {raw} uncompressed",
            file.bytes()
        );
        let back: Vec<RecordBatch> = file.read().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(back, input);
    }

    #[test]
    fn batches_come_back_in_order_and_the_file_goes_with_its_handle() {
        let dir = tempfile::tempdir().unwrap();
        let manager = SpillManager::new(dir.path().to_path_buf(), None);
        let input = vec![batch(0, 100), batch(100, 5).slice(1, 3), batch(200, 50)];
        let file = spill_batches(&manager, &input[0].schema(), &input, None).unwrap();
        assert_eq!((file.rows(), file.batches()), (153, 3));
        assert!(file.path().exists() && file.path().starts_with(dir.path()));
        assert_eq!(manager.live_files(), 1);
        assert_eq!(manager.bytes_on_disk(), file.bytes());
        let back: Vec<RecordBatch> = file.read().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(back, input);
        let path = file.path().to_path_buf();
        // a reader keeps the file alive after the handle is gone
        let reader = file.read().unwrap();
        drop(file);
        assert!(path.exists());
        assert_eq!(reader.count(), 3);
        assert!(!path.exists());
        assert_eq!((manager.live_files(), manager.bytes_on_disk()), (0, 0));
    }

    #[test]
    fn an_unfinished_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let manager = SpillManager::new(dir.path().to_path_buf(), None);
        let b = batch(0, 10);
        let mut w = SpillWriter::new(&manager, &b.schema(), None).unwrap();
        w.write(&b).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(manager.live_files(), 0);
    }

    #[test]
    fn the_quota_and_a_missing_directory_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let manager = SpillManager::new(dir.path().to_path_buf(), Some(4096));
        let b = batch(0, 2000);
        let err = spill_batches(&manager, &b.schema(), [&b], None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ResourcesExhausted);
        assert!(err.to_string().contains("flint-spill-"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(manager.bytes_on_disk(), 0);

        let missing = SpillManager::new(dir.path().join("gone"), None);
        let err = SpillWriter::new(&missing, &b.schema(), None).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.to_string().contains("gone"), "{err}");
    }
}
