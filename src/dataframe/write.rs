//! Sinks of a DataFrame: `write_parquet` and `write_csv` stream its rows into files (a single
//! file for a path ending in `.parquet`/`.csv`, else a folder of files written in parallel), on
//! local disk or S3, all or nothing.
//!
//! ```
//! use flint::SessionContext;
//! use flint::io::write::WriteOptions;
//! let dir = std::env::temp_dir().join(format!("flint-doc-{}", std::process::id()));
//! let ctx = SessionContext::new();
//! let df = ctx.sql("SELECT i, i % 2 AS odd FROM range(10) t(i)").unwrap();
//! let out = dir.join("out").display().to_string();
//! let written = df
//!     .write_parquet(&out, WriteOptions::parquet().with_partition_by(&["odd"]))
//!     .unwrap();
//! assert_eq!(written.rows, 10);
//! assert_eq!(ctx.read_parquet(&out).unwrap().count().unwrap(), 10);
//! std::fs::remove_dir_all(dir).unwrap();
//! ```

use crate::dataframe::DataFrame;
use crate::error::Result;
use crate::io::listing::FileFormat;
use crate::io::write::{WriteOptions, WriteSummary};
use crate::runtime::CancellationToken;

impl DataFrame {
    /// Writes the rows as Parquet to `path` (local path, `file://` or `s3://`).
    pub fn write_parquet(&self, path: &str, options: WriteOptions) -> Result<WriteSummary> {
        self.write(path, FileFormat::Parquet, options)
    }

    /// Writes the rows as CSV to `path`.
    pub fn write_csv(&self, path: &str, options: WriteOptions) -> Result<WriteSummary> {
        self.write(path, FileFormat::Csv, options)
    }

    fn write(
        &self,
        path: &str,
        format: FileFormat,
        mut options: WriteOptions,
    ) -> Result<WriteSummary> {
        options.format = Some(format);
        self.session.write_plan_to(
            self.logical_plan(),
            path,
            options,
            &CancellationToken::new(),
        )
    }
}
