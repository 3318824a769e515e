//! Taking a backup: each table (optionally only the rows matching a predicate) is written as
//! Parquet files under `DEST/<table>/` with the table's exact schema, checksummed while written;
//! `manifest.json` is written last. If any table fails, the files already written are removed.

use std::any::Any;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

use crate::backup::manifest::{FileEntry, MANIFEST, Manifest, TableEntry, column_list};
use crate::backup::progress::Progress;
use crate::backup::read::load_manifest;
use crate::error::{Error, Result};
use crate::exec::{BatchIter, ExecutionPlan};
use crate::io::listing::{FileFormat, percent_encode};
use crate::io::object_store::{ResolvedLocation, join_path};
use crate::io::write::{WriteJob, WriteMode, WriteOptions, WriteTarget, WrittenFile, write_plan};
use crate::physical::Partitioning;
use crate::runtime::{CancellationToken, TaskContext};
use crate::session::SessionContext;

/// How a backup is taken.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// Only rows matching this SQL predicate (incremental backups), e.g. `ts >= '2024-01-01'`.
    pub predicate: Option<String>,
    /// Rows per file at most.
    pub max_file_rows: usize,
    /// Parquet codec.
    pub compression: String,
    /// Replace an existing backup at the destination.
    pub overwrite: bool,
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions {
            predicate: None,
            max_file_rows: 1_000_000,
            compression: "zstd".into(),
            overwrite: false,
        }
    }
}

/// The backup root as a folder location.
pub(crate) fn resolve_root(ctx: &SessionContext, dest: &str) -> Result<ResolvedLocation> {
    let text = if dest.ends_with('/') {
        dest.to_string()
    } else {
        format!("{dest}/")
    };
    ctx.object_stores().resolve(&text, &ctx.config().s3)
}

/// Backs up `tables` of `ctx` to `dest` (a folder or S3 prefix); returns the manifest written.
pub fn backup_tables(
    ctx: &SessionContext,
    tables: &[String],
    dest: &str,
    options: &BackupOptions,
    progress: &dyn Progress,
) -> Result<Manifest> {
    if tables.is_empty() {
        return Err(Error::plan("nothing to back up: no tables given"));
    }
    let root = resolve_root(ctx, dest)?;
    let manifest_path = join_path(&root.location.prefix, MANIFEST)?;
    let old = match load_manifest(&root) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == crate::error::ErrorKind::Io => None,
        Err(e) => return Err(e),
    };
    if old.is_some() && !options.overwrite {
        return Err(Error::plan(format!(
            "a backup already exists at {}; use --overwrite to replace it",
            root.location.root_display()
        )));
    }
    let mut manifest = Manifest::new(options.predicate.clone());
    let mut written: Vec<WrittenFile> = vec![];
    let result = (|| -> Result<()> {
        for name in tables {
            let entry = backup_table(ctx, &root, name, options, progress, &mut written)?;
            manifest.tables.push(entry);
        }
        let json = manifest.to_json()?;
        let store = root.store.clone();
        let path = manifest_path.clone();
        root.io
            .block_on(async move { store.put(&path, PutPayload::from(json)).await })?
            .map_err(|e| {
                Error::from(e).context(format!("writing {}", root.location.display(&manifest_path)))
            })?;
        Ok(())
    })();
    if let Err(e) = result {
        // leave nothing half-written behind
        let store = root.store.clone();
        let paths: Vec<Path> = written.iter().map(|f| f.path.clone()).collect();
        let _ = root.io.block_on(async move {
            for p in paths {
                let _ = store.delete(&p).await;
            }
        });
        return Err(e);
    }
    // tables of a replaced backup that are not in the new one
    if let Some(old) = old {
        let gone: Vec<Path> = old
            .tables
            .iter()
            .filter(|t| manifest.table(&t.name).is_none())
            .flat_map(|t| t.files.iter())
            .filter_map(|f| join_path(&root.location.prefix, &f.path).ok())
            .collect();
        let store = root.store.clone();
        root.io.block_on(async move {
            for p in gone {
                let _ = store.delete(&p).await;
            }
        })?;
    }
    Ok(manifest)
}

fn backup_table(
    ctx: &SessionContext,
    root: &ResolvedLocation,
    name: &str,
    options: &BackupOptions,
    progress: &dyn Progress,
    written: &mut Vec<WrittenFile>,
) -> Result<TableEntry> {
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    // the provider's schema carries its metadata; a query's may not
    let schema = match ctx.table_provider_opt(name) {
        Some(t) => t.schema(),
        None => ctx.table(name)?.schema(),
    };
    let sql = match &options.predicate {
        Some(p) => format!("SELECT * FROM {quoted} WHERE {p}"),
        None => format!("SELECT * FROM {quoted}"),
    };
    let df = ctx
        .sql(&sql)
        .map_err(|e| e.context(format!("backing up table {name}")))?;
    let provider_rows = ctx
        .table_provider_opt(name)
        .and_then(|t| t.row_count())
        .map(|r| r as u64);
    progress.begin(&format!("backup {name}"), provider_rows, None);
    let optimized = ctx.optimize(df.logical_plan())?;
    let physical = ctx.create_physical_plan(&optimized)?;
    let plan: Arc<dyn ExecutionPlan> = Arc::new(RelabelExec {
        input: physical,
        schema: schema.clone(),
    });
    let folder = format!("{}/", percent_encode(name));
    let mut target_loc = root.clone();
    target_loc.location.prefix = join_path(&root.location.prefix, &folder)?;
    target_loc.location.is_folder = true;
    target_loc.location.text = root.location.display(&target_loc.location.prefix);
    let wo = WriteOptions {
        format: Some(FileFormat::Parquet),
        compression: Some(options.compression.clone()),
        max_file_rows: Some(options.max_file_rows),
        overwrite: options.overwrite,
        per_thread_output: true,
        ..WriteOptions::default()
    };
    let mode = if options.overwrite {
        WriteMode::Overwrite
    } else {
        WriteMode::Create
    };
    let report = |rows: u64, bytes: u64| progress.advance(rows, bytes);
    let job = WriteJob {
        target: WriteTarget::new(target_loc, &wo, mode)?,
        options: wo,
        checksums: true,
        progress: Some(&report),
    };
    let task = ctx.task_context_with(ctx.config(), CancellationToken::new());
    let summary = write_plan(&plan, &task, &job)
        .map_err(|e| e.context(format!("backing up table {name}")))?;
    progress.end();
    let mut files = vec![];
    for f in &summary.files {
        let rel: Vec<String> = f
            .path
            .prefix_match(&root.location.prefix)
            .map(|parts| parts.map(|p| p.as_ref().to_string()).collect())
            .unwrap_or_default();
        files.push(FileEntry {
            path: rel.join("/"),
            rows: f.rows,
            bytes: f.bytes,
            sha256: f.sha256.clone().unwrap_or_default(),
            content_checksum: f.content_checksum.clone().unwrap_or_default(),
        });
    }
    written.extend(summary.files.iter().cloned());
    Ok(TableEntry {
        name: name.to_string(),
        columns: column_list(&schema),
        schema: schema.as_ref().clone(),
        rows: summary.rows,
        bytes: summary.files.iter().map(|f| f.bytes).sum(),
        files,
    })
}

/// Gives the input's batches the table's exact schema (names, nullability, metadata), which a
/// query's output schema may not carry.
#[derive(Debug)]
struct RelabelExec {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
}

impl ExecutionPlan for RelabelExec {
    fn name(&self) -> &'static str {
        "RelabelExec"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn output_partitioning(&self) -> Partitioning {
        self.input.output_partitioning()
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("RelabelExec needs one input"))?;
        Ok(Arc::new(RelabelExec {
            input,
            schema: self.schema.clone(),
        }))
    }
    fn execute(&self, partition: usize, ctx: &Arc<TaskContext>) -> Result<BatchIter> {
        let schema = self.schema.clone();
        let input = self.input.execute(partition, ctx)?;
        Ok(Box::new(input.map(move |b| {
            let b = b?;
            RecordBatch::try_new_with_options(
                schema.clone(),
                b.columns().to_vec(),
                &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
            )
            .map_err(|e| Error::from(e).context("the table's rows do not match its schema"))
        })))
    }
    fn describe(&self) -> String {
        String::new()
    }
}
