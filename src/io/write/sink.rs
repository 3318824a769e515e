//! Writing a plan's output, all or nothing.
//!
//! ```text
//!  partition 0 ─▶ split by PARTITION_BY ─▶ FileWriter per folder (rolled at MAX_FILE_ROWS) ─┐
//!  partition 1 ─▶        ...                                                              ├─▶ flushed uploads
//!  partition n ─▶        ...                  (each task on a rayon worker)               ┘        │
//!                                                      success: complete all, delete replaced ◀──┤
//!                                                      failure / cancel: abort all ◀─────────────┘
//! ```
//! A folder target gets one file per partition (more with `MAX_FILE_ROWS` or `PARTITION_BY`), a
//! single-file target (`x.parquet`) one file fed by the partitions in turn. Memory is bounded:
//! batches stream through, and a task keeps at most [`MAX_OPEN_FILES`] files open.

use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::row::{RowConverter, SortField};
use object_store::ObjectStore;
use object_store::path::Path;
use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Result};
use crate::exec::ExecutionPlan;
use crate::io::listing::{FileFormat, HIVE_NULL, location_exists, percent_encode};
use crate::io::object_store::{ResolvedLocation, join_path};
use crate::io::write::commit::{abort_all, cleanup_local_dirs, commit, local_path};
use crate::io::write::file_writer::{FileWriter, FinishedFile};
use crate::io::write::options::WriteOptions;
use crate::io::write::upload::StagedUpload;
use crate::runtime::TaskContext;
use crate::runtime::scheduler::run_stages;

/// Files one task keeps open at most; the least recently used is finished beyond that. With
/// row groups capped at `file_writer::ROW_GROUP_MAX_BYTES` this bounds a task's buffers.
pub const MAX_OPEN_FILES: usize = 16;

/// What to do when the target already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Fail if anything is there (`COPY` without `OVERWRITE`).
    Create,
    /// Replace what is there once the new files are committed.
    Overwrite,
    /// Add files next to what is there (`INSERT INTO` an external table).
    Append,
}

/// Where a write goes.
#[derive(Debug, Clone)]
pub struct WriteTarget {
    /// The location and its store.
    pub resolved: ResolvedLocation,
    /// Output format.
    pub format: FileFormat,
    /// One file at exactly this path, or a folder of files.
    pub single_file: bool,
    /// Existing-target behaviour.
    pub mode: WriteMode,
}

impl WriteTarget {
    /// Decides format and shape: a path ending in a file extension is one file unless
    /// partitioning, `MAX_FILE_ROWS` or `PER_THREAD_OUTPUT` ask for a folder.
    pub fn new(
        resolved: ResolvedLocation,
        options: &WriteOptions,
        mode: WriteMode,
    ) -> Result<Self> {
        if resolved.location.glob.is_some() {
            return Err(Error::plan(format!(
                "cannot write to a glob pattern: '{}'",
                resolved.location.text
            )));
        }
        let ext_format = FileFormat::from_path(&resolved.location.text);
        let format = options.format.or(ext_format).unwrap_or(FileFormat::Parquet);
        options.validate(format)?;
        let single_file = ext_format.is_some()
            && !resolved.location.is_folder
            && options.partition_by.is_empty()
            && options.max_file_rows.is_none()
            && !options.per_thread_output
            && !options.is_bucketed();
        Ok(WriteTarget {
            resolved,
            format,
            single_file,
            mode,
        })
    }
}

/// A committed file.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    /// Path in the store.
    pub path: Path,
    /// How users see it.
    pub display: String,
    /// Rows.
    pub rows: u64,
    /// Size.
    pub bytes: u64,
    /// SHA-256 of the bytes (with checksums on).
    pub sha256: Option<String>,
    /// Checksum of the contents (with checksums on).
    pub content_checksum: Option<String>,
}

/// What a write produced.
#[derive(Debug, Clone, Default)]
pub struct WriteSummary {
    /// Rows written.
    pub rows: u64,
    /// Files committed, by path.
    pub files: Vec<WrittenFile>,
}

/// Progress callback: rows and bytes written since the last call.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// One write.
pub struct WriteJob<'a> {
    /// Where.
    pub target: WriteTarget,
    /// How.
    pub options: WriteOptions,
    /// Compute SHA-256 and content checksums of each file.
    pub checksums: bool,
    /// Called as data is written.
    pub progress: Option<Progress<'a>>,
}

/// Writes every row of `plan` to the job's target; on any failure (or cancellation) nothing
/// written is left visible.
pub fn write_plan(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &Arc<TaskContext>,
    job: &WriteJob<'_>,
) -> Result<WriteSummary> {
    let schema = plan.schema();
    for c in &job.options.partition_by {
        if schema.index_of(c).is_err() {
            return Err(Error::plan(format!(
                "PARTITION_BY column \"{c}\" is not a column of the result"
            )));
        }
    }
    if !job.options.partition_by.is_empty()
        && job.options.partition_by.len() == schema.fields().len()
    {
        return Err(Error::plan(
            "PARTITION_BY cannot use every column: the files would have none left",
        ));
    }
    // bucketed output: partition p of the plan is bucket p
    let bucketed;
    let plan = match job.options.buckets {
        Some(n) => {
            bucketed = crate::io::bucketing::bucketed_plan(plan, &job.options.bucket_by, n)?;
            &bucketed
        }
        None => plan,
    };
    let replaced = prepare_target(&job.target)?;
    let local_root_existed = local_path(&job.target.resolved, &job.target.resolved.location.prefix)
        .is_some_and(|p| p.exists());
    let finished: Mutex<Vec<FinishedFile>> = Mutex::new(vec![]);
    let started: Mutex<Vec<Path>> = Mutex::new(vec![]);
    let result = run_write(plan, ctx, job, &schema, &finished, &started);
    let files = finished.into_inner().unwrap_or_else(|e| e.into_inner());
    let io = &job.target.resolved.io;
    match result {
        Ok(rows) => {
            let committed = io.block_on(commit(files, replaced, &job.target))??;
            Ok(WriteSummary {
                rows,
                files: committed,
            })
        }
        Err(e) => {
            let paths = started.into_inner().unwrap_or_else(|e| e.into_inner());
            let _ = io.block_on(abort_all(files));
            cleanup_local_dirs(&job.target, &paths, local_root_existed);
            Err(e)
        }
    }
}

/// Checks the target against the mode; returns the objects an overwrite replaces.
fn prepare_target(target: &WriteTarget) -> Result<Vec<Path>> {
    let r = &target.resolved;
    match target.mode {
        WriteMode::Append => Ok(vec![]),
        WriteMode::Create => {
            if location_exists(r)? {
                return Err(Error::new(
                    ErrorKind::Plan,
                    format!(
                        "the target {} already exists; add OVERWRITE to replace it",
                        r.location.root_display()
                    ),
                ));
            }
            Ok(vec![])
        }
        WriteMode::Overwrite => {
            if target.single_file {
                return Ok(vec![]);
            }
            let prefix = r.location.prefix.clone();
            let store = r.store.clone();
            r.io.block_on(async move {
                use futures::TryStreamExt;
                let p = (!prefix.as_ref().is_empty()).then_some(&prefix);
                store
                    .list(p)
                    .map_ok(|m| m.location)
                    .try_collect::<Vec<Path>>()
                    .await
                    .map_err(Error::from)
            })?
        }
    }
}

fn run_write(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &Arc<TaskContext>,
    job: &WriteJob<'_>,
    schema: &SchemaRef,
    finished: &Mutex<Vec<FinishedFile>>,
    started: &Mutex<Vec<Path>>,
) -> Result<u64> {
    run_stages(plan, ctx)?;
    let n = plan.output_partitioning().partition_count();
    let write_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    if job.target.single_file {
        let mut w = PartitionWriter::new(job, 0, schema, &write_id, finished, started)?;
        let mut result = (0..n).try_for_each(|p| w.write_partition(plan, p, ctx));
        if result.is_ok() {
            result = w.ensure_one_file();
        }
        return w.close(result);
    }
    let rows: Vec<Result<u64>> = ctx.pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|p| {
                let mut w = PartitionWriter::new(job, p, schema, &write_id, finished, started)?;
                let mut result = w.write_partition(plan, p, ctx);
                if result.is_ok()
                    && job.options.is_bucketed()
                    && job.options.partition_by.is_empty()
                {
                    // every bucket gets its file, empty or not
                    result = w.ensure_one_file();
                }
                w.close(result)
            })
            .collect()
    });
    let mut total = 0;
    for r in rows {
        total += r?;
    }
    if total == 0 && job.options.partition_by.is_empty() && !job.options.is_bucketed() {
        // an empty result still leaves a file with the schema, so the folder reads back
        let mut w = PartitionWriter::new(job, 0, schema, &write_id, finished, started)?;
        let result = w.ensure_one_file();
        w.close(result)?;
    }
    Ok(total)
}

/// The writer of one task: splits batches by partition values and rolls files.
struct PartitionWriter<'a> {
    job: &'a WriteJob<'a>,
    task: usize,
    write_id: &'a str,
    data_schema: SchemaRef,
    key_indices: Vec<usize>,
    data_indices: Vec<usize>,
    open: Vec<(String, FileWriter, u64)>,
    seq: usize,
    tick: u64,
    rows: u64,
    reported_bytes: u64,
    finished: &'a Mutex<Vec<FinishedFile>>,
    started: &'a Mutex<Vec<Path>>,
}

impl<'a> PartitionWriter<'a> {
    fn new(
        job: &'a WriteJob<'a>,
        task: usize,
        schema: &SchemaRef,
        write_id: &'a str,
        finished: &'a Mutex<Vec<FinishedFile>>,
        started: &'a Mutex<Vec<Path>>,
    ) -> Result<Self> {
        let key_indices: Vec<usize> = job
            .options
            .partition_by
            .iter()
            .map(|c| schema.index_of(c).map_err(Error::from))
            .collect::<Result<_>>()?;
        let data_indices: Vec<usize> = (0..schema.fields().len())
            .filter(|i| !key_indices.contains(i))
            .collect();
        let data_schema = Arc::new(Schema::new_with_metadata(
            data_indices
                .iter()
                .map(|i| schema.field(*i).clone())
                .collect::<Vec<_>>(),
            schema.metadata().clone(),
        ));
        Ok(PartitionWriter {
            job,
            task,
            write_id,
            data_schema,
            key_indices,
            data_indices,
            open: vec![],
            seq: 0,
            tick: 0,
            rows: 0,
            reported_bytes: 0,
            finished,
            started,
        })
    }

    fn io(&self) -> &crate::runtime::io_runtime::IoRuntime {
        &self.job.target.resolved.io
    }

    fn write_partition(
        &mut self,
        plan: &Arc<dyn ExecutionPlan>,
        p: usize,
        ctx: &Arc<TaskContext>,
    ) -> Result<()> {
        for batch in plan.execute(p, ctx)? {
            ctx.cancel.check()?;
            let batch = batch?;
            if batch.num_rows() == 0 {
                continue;
            }
            for (dir, data) in self.split(&batch)? {
                self.write_to(&dir, data)?;
            }
            self.report();
        }
        Ok(())
    }

    /// Makes sure at least one file exists (for an empty result).
    fn ensure_one_file(&mut self) -> Result<()> {
        if self.open.is_empty() && self.seq == 0 {
            self.writer_for("")?;
        }
        Ok(())
    }

    fn report(&mut self) {
        if let Some(progress) = self.job.progress {
            let bytes: u64 = self.open.iter().map(|(_, w, _)| w.bytes()).sum();
            let delta = bytes.saturating_sub(self.reported_bytes);
            self.reported_bytes = bytes;
            progress(0, delta);
        }
    }

    /// `(folder, rows without the partition columns)` per distinct partition value.
    fn split(&self, batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>> {
        let data = |cols: Vec<ArrayRef>| -> Result<RecordBatch> {
            Ok(RecordBatch::try_new(self.data_schema.clone(), cols)?)
        };
        if self.key_indices.is_empty() {
            return Ok(vec![(String::new(), batch.clone())]);
        }
        let keys: Vec<ArrayRef> = self
            .key_indices
            .iter()
            .map(|i| batch.column(*i).clone())
            .collect();
        let converter = RowConverter::new(
            keys.iter()
                .map(|k| SortField::new(k.data_type().clone()))
                .collect(),
        )?;
        let rows = converter.convert_columns(&keys)?;
        let mut groups: Vec<Vec<u32>> = vec![];
        let mut index: hashbrown::HashMap<&[u8], usize> = hashbrown::HashMap::new();
        for i in 0..rows.num_rows() {
            let g = *index.entry(rows.row(i).data()).or_insert_with(|| {
                groups.push(vec![]);
                groups.len() - 1
            });
            groups[g].push(i as u32);
        }
        let formatters = keys
            .iter()
            .map(|k| arrow::util::display::ArrayFormatter::try_new(k.as_ref(), &Default::default()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut out = vec![];
        for g in groups {
            let first = g[0] as usize;
            let dir = self
                .job
                .options
                .partition_by
                .iter()
                .zip(keys.iter().zip(&formatters))
                .map(|(name, (k, f))| {
                    let v = if k.is_null(first) {
                        HIVE_NULL.to_string()
                    } else {
                        percent_encode(&f.value(first).to_string())
                    };
                    format!("{}={v}", percent_encode(name))
                })
                .collect::<Vec<_>>()
                .join("/");
            let cols: Vec<ArrayRef> = if g.len() == batch.num_rows() {
                self.data_indices
                    .iter()
                    .map(|i| batch.column(*i).clone())
                    .collect()
            } else {
                let idx = UInt32Array::from(g);
                self.data_indices
                    .iter()
                    .map(|i| take(batch.column(*i).as_ref(), &idx, None).map_err(Error::from))
                    .collect::<Result<_>>()?
            };
            out.push((dir, data(cols)?));
        }
        Ok(out)
    }

    /// The open writer for a folder, starting a new file if needed.
    fn writer_for(&mut self, dir: &str) -> Result<usize> {
        self.tick += 1;
        if let Some(i) = self.open.iter().position(|(d, _, _)| d == dir) {
            self.open[i].2 = self.tick;
            return Ok(i);
        }
        if self.open.len() >= MAX_OPEN_FILES {
            let lru = (0..self.open.len())
                .min_by_key(|i| self.open[*i].2)
                .unwrap_or(0);
            self.finish_at(lru)?;
        }
        let target = &self.job.target;
        let loc = &target.resolved.location;
        let path = if target.single_file {
            loc.prefix.clone()
        } else {
            let name = format!(
                "{}-{}-{}-{}.{}",
                if self.job.options.is_bucketed() {
                    "bucket"
                } else {
                    "part"
                },
                self.task,
                self.seq,
                self.write_id,
                target.format.extension()
            );
            let rel = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            join_path(&loc.prefix, &rel)?
        };
        self.seq += 1;
        self.started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.clone());
        let display = loc.display(&path);
        let store = target.resolved.store.clone();
        let hash = self.job.checksums;
        let upload = self
            .io()
            .block_on(StagedUpload::create(store, path, display, hash))??;
        let metadata = match self.job.options.buckets {
            Some(n) => vec![crate::io::bucketing::bucket_metadata(
                &self.data_schema,
                &self.job.options.bucket_by,
                n,
                self.task,
            )?],
            None => vec![],
        };
        let writer = FileWriter::try_new(
            upload,
            target.format,
            self.data_schema.clone(),
            &self.job.options,
            self.job.checksums,
            metadata,
        )?;
        self.open.push((dir.to_string(), writer, self.tick));
        Ok(self.open.len() - 1)
    }

    fn write_to(&mut self, dir: &str, batch: RecordBatch) -> Result<()> {
        let max = if self.job.target.single_file {
            None
        } else {
            self.job.options.max_file_rows
        };
        let mut offset = 0;
        while offset < batch.num_rows() {
            let i = self.writer_for(dir)?;
            let room = match max {
                Some(m) => (m as u64).saturating_sub(self.open[i].1.rows()) as usize,
                None => usize::MAX,
            };
            let n = room.min(batch.num_rows() - offset);
            let slice = batch.slice(offset, n);
            let io = self.job.target.resolved.io.clone();
            io.block_on(self.open[i].1.write(&slice))??;
            self.rows += n as u64;
            if let Some(progress) = self.job.progress {
                progress(n as u64, 0);
            }
            offset += n;
            if max.is_some_and(|m| self.open[i].1.rows() >= m as u64) {
                self.finish_at(i)?;
            }
        }
        Ok(())
    }

    fn finish_at(&mut self, i: usize) -> Result<()> {
        let (_, w, _) = self.open.remove(i);
        let io = self.job.target.resolved.io.clone();
        let f = io.block_on(w.finish())??;
        self.finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(f);
        Ok(())
    }

    /// Finishes every open file on success, aborts them on failure; returns the rows written.
    fn close(mut self, result: Result<()>) -> Result<u64> {
        match result {
            Ok(()) => {
                while !self.open.is_empty() {
                    self.finish_at(0)?;
                }
                self.report();
                Ok(self.rows)
            }
            Err(e) => {
                let io = self.job.target.resolved.io.clone();
                for (_, w, _) in self.open.drain(..) {
                    let _ = io.block_on(w.abort());
                }
                Err(e)
            }
        }
    }
}

impl Drop for PartitionWriter<'_> {
    fn drop(&mut self) {
        // a panic or early return: abandon open files (their uploads abort or clean up on drop)
        let io = self.job.target.resolved.io.clone();
        for (_, w, _) in self.open.drain(..) {
            let _ = io.block_on(w.abort());
        }
    }
}
