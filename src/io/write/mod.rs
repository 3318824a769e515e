//! Writing Parquet and CSV to any object store: options (`options.rs`), multipart uploads that
//! become visible only at commit (`upload.rs`), per-file encoders (`file_writer.rs`), the
//! parallel, all-or-nothing write of a plan's output (`sink.rs`) and its commit (`commit.rs`). Used by `COPY ... TO`,
//! `INSERT INTO` an external table, `DataFrame::write_parquet`/`write_csv` and backups.

mod commit;
pub mod file_writer;
pub mod options;
pub mod sink;
pub mod upload;

use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use crate::catalog::{ListingTable, TableProvider};
use crate::config::SessionConfig;
use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::exec::scan::MemoryScanExec;
use crate::io::listing::FileFormat;
use crate::runtime::TaskContext;

pub use options::WriteOptions;
pub use sink::{WriteJob, WriteMode, WriteSummary, WriteTarget, WrittenFile, write_plan};

/// The job that adds files to an external table (`INSERT INTO`): its format and CSV dialect,
/// partitioned like the table, next to the files already there.
pub fn listing_insert_job(table: &ListingTable) -> Result<WriteJob<'static>> {
    let loc = &table.location().location;
    if loc.glob.is_some() {
        return Err(Error::plan(format!(
            "cannot INSERT into an external table defined by a glob ('{}'); use a folder",
            loc.text
        )));
    }
    if !loc.is_folder && FileFormat::from_path(&loc.text).is_some() {
        return Err(Error::plan(format!(
            "cannot INSERT into an external table over the single file '{}'; use a folder",
            loc.text
        )));
    }
    let format = table.options().format;
    let mut options = WriteOptions {
        format: Some(format),
        csv: table.options().csv.clone(),
        ..WriteOptions::default()
    };
    options.partition_by = table.partition_columns();
    let mut resolved = table.location().clone();
    resolved.location.is_folder = true;
    Ok(WriteJob {
        target: WriteTarget {
            resolved,
            format,
            single_file: false,
            mode: WriteMode::Append,
        },
        options,
        checksums: false,
        progress: None,
    })
}

/// Appends batches (of the table's schema) to an external table as new files.
pub fn insert_into_listing(table: &ListingTable, batches: Vec<RecordBatch>) -> Result<usize> {
    let job = listing_insert_job(table)?;
    let plan: Arc<dyn ExecutionPlan> = Arc::new(MemoryScanExec::new(
        vec![batches],
        table.schema(),
        None,
        None,
        None,
    ));
    let ctx = TaskContext::new(SessionConfig::default().with_target_partitions(1));
    Ok(write_plan(&plan, &ctx, &job)?.rows as usize)
}
