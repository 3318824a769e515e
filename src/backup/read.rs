//! Verifying and restoring a backup. Every file is read once: its size and SHA-256 must match
//! the manifest, it must decode to the table's exact schema, and its rows and content checksum
//! must match too. Restore then loads the rows into in-memory tables, or registers the table
//! folders as external tables. Any mismatch is an error naming the table and the file.

use std::sync::Arc;

use arrow::record_batch::{RecordBatch, RecordBatchReader};
use object_store::ObjectStoreExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::backup::manifest::{FileEntry, MANIFEST, Manifest, TableEntry};
use crate::backup::progress::Progress;
use crate::backup::write::resolve_root;
use crate::catalog::listing::{ListingOptions, ListingTable};
use crate::catalog::{MemTable, TableProvider};
use crate::error::{Error, ErrorKind, Result};
use crate::io::checksum::ContentHasher;
use crate::io::listing::{FileFormat, percent_encode};
use crate::io::object_store::{ResolvedLocation, join_path};
use crate::io::write::upload::hex;
use crate::session::SessionContext;

/// How a backup is restored.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Register the backup's folders as external tables instead of loading the rows.
    pub as_external: bool,
    /// Only these tables (all when empty).
    pub tables: Vec<String>,
    /// Replace tables of the same name in the session.
    pub replace: bool,
}

/// What a verify or restore found, per table: name, rows, files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackupReport {
    /// The manifest read.
    pub manifest: Option<Manifest>,
    /// `(table, rows, files)` for each table checked.
    pub tables: Vec<(String, u64, usize)>,
}

/// Reads `manifest.json` under a backup root.
pub(crate) fn load_manifest(root: &ResolvedLocation) -> Result<Manifest> {
    let path = join_path(&root.location.prefix, MANIFEST)?;
    let shown = root.location.display(&path);
    let store = root.store.clone();
    let bytes = root
        .io
        .block_on(async move { store.get(&path).await?.bytes().await })?
        .map_err(|e| match e {
            object_store::Error::NotFound { .. } => Error::io(format!(
                "no backup at {}: {shown} not found",
                root.location.root_display()
            )),
            other => Error::from(other).context(format!("reading {shown}")),
        })?;
    Manifest::from_json(&String::from_utf8_lossy(&bytes), &shown)
}

/// Reads a backup's manifest.
pub fn read_manifest(ctx: &SessionContext, location: &str) -> Result<Manifest> {
    load_manifest(&resolve_root(ctx, location)?)
}

fn mismatch(table: &str, file: &str, what: String) -> Error {
    Error::new(
        ErrorKind::Format,
        format!("backup check failed for table {table}, file {file}: {what}"),
    )
}

/// Reads one file and checks it against the manifest; returns its rows when `keep` is set.
fn check_file(
    root: &ResolvedLocation,
    table: &TableEntry,
    f: &FileEntry,
    keep: bool,
    progress: &dyn Progress,
) -> Result<Vec<RecordBatch>> {
    let path = join_path(&root.location.prefix, &f.path)?;
    let shown = root.location.display(&path);
    let store = root.store.clone();
    let p = path.clone();
    let bytes = root
        .io
        .block_on(async move { store.get(&p).await?.bytes().await })?
        .map_err(|e| Error::from(e).context(format!("table {}: reading {shown}", table.name)))?;
    if bytes.len() as u64 != f.bytes {
        return Err(mismatch(
            &table.name,
            &shown,
            format!("{} bytes, the manifest says {}", bytes.len(), f.bytes),
        ));
    }
    let sha = hex(&Sha256::digest(&bytes));
    if sha != f.sha256 {
        return Err(mismatch(
            &table.name,
            &shown,
            format!(
                "SHA-256 is {sha}, the manifest says {} (the file changed)",
                f.sha256
            ),
        ));
    }
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.with_batch_size(8192).build())
        .map_err(|e| mismatch(&table.name, &shown, format!("cannot decode: {e}")))?;
    let stored = reader.schema();
    let schema = Arc::new(crate::io::parquet::interval::logical_schema(&stored));
    let convert = schema != stored;
    if schema.fields() != table.schema.fields() {
        return Err(mismatch(
            &table.name,
            &shown,
            format!(
                "columns are ({}), the manifest says ({})",
                crate::backup::manifest::column_list(&schema).join(", "),
                table.columns.join(", ")
            ),
        ));
    }
    let mut hasher = ContentHasher::new(schema.clone());
    let mut batches = vec![];
    for b in reader {
        let b = b.map_err(|e| mismatch(&table.name, &shown, format!("cannot decode: {e}")))?;
        let b = if convert {
            crate::io::parquet::interval::convert_batch(&b, &schema)?
        } else {
            b
        };
        hasher.update(&b)?;
        progress.advance(b.num_rows() as u64, 0);
        if keep {
            batches.push(b);
        }
    }
    progress.advance(0, f.bytes);
    if hasher.rows() != f.rows {
        return Err(mismatch(
            &table.name,
            &shown,
            format!("{} rows, the manifest says {}", hasher.rows(), f.rows),
        ));
    }
    let content = hasher.finish()?;
    if content != f.content_checksum {
        return Err(mismatch(
            &table.name,
            &shown,
            "the content checksum differs from the manifest".to_string(),
        ));
    }
    Ok(batches)
}

/// Checks every file of a table (in parallel); returns the rows when `keep` is set.
fn check_table(
    ctx: &SessionContext,
    root: &ResolvedLocation,
    table: &TableEntry,
    keep: bool,
    progress: &dyn Progress,
) -> Result<Vec<RecordBatch>> {
    progress.begin(
        &format!("verify {}", table.name),
        Some(table.rows),
        Some(table.bytes),
    );
    let pool = ctx.task_context().pool.clone();
    let per_file: Vec<Result<Vec<RecordBatch>>> = pool.install(|| {
        table
            .files
            .par_iter()
            .map(|f| check_file(root, table, f, keep, progress))
            .collect()
    });
    let mut batches = vec![];
    for r in per_file {
        batches.extend(r?);
    }
    let rows: u64 = table.files.iter().map(|f| f.rows).sum();
    if rows != table.rows {
        return Err(Error::new(
            ErrorKind::Format,
            format!(
                "backup check failed for table {}: its files hold {rows} rows, the manifest says {}",
                table.name, table.rows
            ),
        ));
    }
    progress.end();
    Ok(batches)
}

/// Checks a backup without restoring it.
pub fn verify_backup(
    ctx: &SessionContext,
    location: &str,
    progress: &dyn Progress,
) -> Result<BackupReport> {
    let root = resolve_root(ctx, location)?;
    let manifest = load_manifest(&root)?;
    let mut report = BackupReport::default();
    for t in &manifest.tables {
        check_table(ctx, &root, t, false, progress)?;
        report.tables.push((t.name.clone(), t.rows, t.files.len()));
    }
    report.manifest = Some(manifest);
    Ok(report)
}

/// Restores a backup into `ctx`: verified rows loaded into in-memory tables, or the backup's
/// folders registered as external tables (verified first).
pub fn restore_backup(
    ctx: &SessionContext,
    location: &str,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<BackupReport> {
    let root = resolve_root(ctx, location)?;
    let manifest = load_manifest(&root)?;
    for want in &options.tables {
        if manifest.table(want).is_none() {
            return Err(Error::not_found(format!(
                "table {want} is not in the backup at {} (tables: {})",
                root.location.root_display(),
                manifest
                    .tables
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let chosen: Vec<&TableEntry> = manifest
        .tables
        .iter()
        .filter(|t| options.tables.is_empty() || options.tables.contains(&t.name))
        .collect();
    if !options.replace {
        let existing = ctx.table_names();
        if let Some(t) = chosen
            .iter()
            .find(|t| existing.contains(&t.name.to_lowercase()))
        {
            return Err(Error::plan(format!(
                "table {} already exists; restore with replace to overwrite it",
                t.name
            )));
        }
    }
    let mut report = BackupReport::default();
    for t in chosen {
        let batches = check_table(ctx, &root, t, !options.as_external, progress)?;
        let schema = Arc::new(t.schema.clone());
        let table: Arc<dyn TableProvider> = if options.as_external {
            let mut folder = root.clone();
            folder.location.prefix = join_path(&root.location.prefix, &percent_encode(&t.name))?;
            folder.location.is_folder = true;
            folder.location.text = root.location.display(&folder.location.prefix);
            let mut lo = ListingOptions::new(FileFormat::Parquet);
            lo.hive_partitioning = false;
            if t.files.is_empty() {
                lo.declared_schema = Some(schema.clone());
            }
            let listing = ListingTable::try_new(folder, lo)?;
            let got = listing.schema();
            let same = got.fields().len() == schema.fields().len()
                && got
                    .fields()
                    .iter()
                    .zip(schema.fields())
                    .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
            if !same {
                return Err(Error::plan(format!(
                    "table {}: the files read as ({}) but the manifest says ({})",
                    t.name,
                    crate::backup::manifest::column_list(&got).join(", "),
                    t.columns.join(", ")
                )));
            }
            Arc::new(listing)
        } else {
            Arc::new(MemTable::try_new(schema, batches)?)
        };
        ctx.register_table(&t.name, table)?;
        report.tables.push((t.name.clone(), t.rows, t.files.len()));
    }
    report.manifest = Some(manifest);
    Ok(report)
}
