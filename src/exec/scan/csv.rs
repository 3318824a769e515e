//! `CsvScanExec`: reads CSV files from any object store, one partition per file. Each file is
//! read in [`CHUNK_BYTES`] ranged requests (the next one in flight while the current one is
//! decoded) and fed to Arrow's push-based CSV decoder, so memory stays bounded.

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use object_store::ObjectStore;

use crate::error::{Error, Result};
use crate::exec::limit::limit_iter;
use crate::exec::{BatchIter, ExecutionPlan};
use crate::io::csv::CsvOptions;
use crate::io::fetch::{FetchCounters, ObjectReader};
use crate::io::listing::ListedFile;
use crate::physical::Partitioning;
use crate::runtime::io_runtime::IoRuntime;
use crate::runtime::metrics::MeteredIter;
use crate::runtime::{Metrics, TaskContext};

/// Bytes per read request.
pub const CHUNK_BYTES: u64 = 8 * 1024 * 1024;

/// Scans CSV files.
#[derive(Debug)]
pub struct CsvScanExec {
    files: Vec<ListedFile>,
    store: Arc<dyn ObjectStore>,
    io: Arc<IoRuntime>,
    file_schema: SchemaRef,
    schema: SchemaRef,
    projection: Option<Vec<usize>>,
    options: CsvOptions,
    fetch: Option<usize>,
    metrics: Arc<Metrics>,
    location: Option<crate::io::object_store::ResolvedLocation>,
}

impl CsvScanExec {
    /// Reads local files directly through this location's file system.
    pub fn with_location(mut self, location: crate::io::object_store::ResolvedLocation) -> Self {
        self.location = Some(location);
        self
    }

    /// A scan of `files` in `store`, read with `file_schema`, projected to `projection`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        files: Vec<ListedFile>,
        store: Arc<dyn ObjectStore>,
        io: Arc<IoRuntime>,
        file_schema: SchemaRef,
        projection: Option<Vec<usize>>,
        options: CsvOptions,
        fetch: Option<usize>,
    ) -> Result<Self> {
        let schema = match &projection {
            Some(p) => Arc::new(file_schema.project(p)?),
            None => file_schema.clone(),
        };
        Ok(CsvScanExec {
            files,
            store,
            io,
            file_schema,
            schema,
            projection,
            options,
            fetch,
            metrics: Arc::new(Metrics::new()),
            location: None,
        })
    }
}

/// Reads one file chunk by chunk into the decoder.
struct CsvFileStream {
    reader: ObjectReader,
    io: Arc<IoRuntime>,
    decoder: arrow::csv::reader::Decoder,
    offset: u64,
    next: Option<tokio::task::JoinHandle<Result<Bytes>>>,
    buffer: Bytes,
    done: bool,
}

impl CsvFileStream {
    fn start_next(&mut self) -> Result<()> {
        if self.offset >= self.reader.size() || self.reader.is_local() {
            self.next = None;
            return Ok(());
        }
        let end = (self.offset + CHUNK_BYTES).min(self.reader.size());
        let reader = self.reader.clone();
        let range = self.offset..end;
        self.offset = end;
        self.next = Some(self.io.spawn(async move { reader.fetch(range).await })?);
        Ok(())
    }

    /// Refills the buffer from the chunk in flight; an empty buffer means the end of the file.
    fn refill(&mut self) -> Result<()> {
        if self.reader.is_local() {
            let end = (self.offset + CHUNK_BYTES).min(self.reader.size());
            self.buffer = if self.offset < end {
                self.reader
                    .read_local(std::slice::from_ref(&(self.offset..end)))?
                    .pop()
                    .unwrap_or_default()
            } else {
                Bytes::new()
            };
            self.offset = end;
            return Ok(());
        }
        self.buffer = match self.next.take() {
            Some(h) => self.io.join(h)??,
            None => Bytes::new(),
        };
        self.start_next()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if self.buffer.is_empty() && !self.done {
                self.refill()?;
                if self.buffer.is_empty() {
                    self.done = true;
                }
            }
            let context = |e: arrow::error::ArrowError| {
                Error::from(e).context(format!("reading {}", self.reader.display()))
            };
            let consumed = self.decoder.decode(&self.buffer).map_err(context)?;
            self.buffer = self.buffer.slice(consumed..);
            if self.done || self.decoder.capacity() == 0 {
                return self.decoder.flush().map_err(context);
            }
            if consumed == 0 && !self.buffer.is_empty() {
                return Err(Error::internal("CSV decoder made no progress"));
            }
        }
    }
}

impl Drop for CsvFileStream {
    fn drop(&mut self) {
        if let Some(h) = self.next.take() {
            h.abort();
        }
    }
}

impl ExecutionPlan for CsvScanExec {
    fn name(&self) -> &'static str {
        "CsvScanExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        Partitioning::Unknown(self.files.len().max(1))
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }
    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let Some(file) = self.files.get(partition) else {
            return Ok(Box::new(std::iter::empty()));
        };
        let builder = self
            .options
            .reader_builder(self.file_schema.clone())
            .with_batch_size(ctx.batch_size());
        let builder = match &self.projection {
            Some(p) => builder.with_projection(p.clone()),
            None => builder,
        };
        let counters = FetchCounters::with_metrics(self.metrics.clone());
        let reader = ObjectReader::new(
            self.store.clone(),
            file.path.clone(),
            file.size,
            &file.display,
            counters,
        )
        .with_local_file(
            self.location
                .as_ref()
                .and_then(|l| l.local_file(&file.path)),
        )?;
        self.metrics.add("files_opened", 1);
        let mut stream = CsvFileStream {
            reader,
            io: self.io.clone(),
            decoder: builder.build_decoder(),
            offset: 0,
            next: None,
            buffer: Bytes::new(),
            done: false,
        };
        stream.start_next()?;
        let mut failed = false;
        let iter: BatchIter = Box::new(std::iter::from_fn(move || {
            if failed {
                return None;
            }
            match stream.next_batch() {
                Ok(Some(b)) => Some(Ok(b)),
                Ok(None) => None,
                Err(e) => {
                    failed = true;
                    Some(Err(e))
                }
            }
        }));
        let iter = match self.fetch {
            Some(f) => limit_iter(iter, 0, Some(f)),
            None => iter,
        };
        Ok(Box::new(MeteredIter::new(iter, self.metrics.clone())))
    }
    fn describe(&self) -> String {
        let cols = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ");
        format!("files={}, projection=[{cols}]", self.files.len())
    }
    fn metrics(&self) -> Option<&Arc<Metrics>> {
        Some(&self.metrics)
    }
}
