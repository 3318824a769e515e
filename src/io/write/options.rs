//! `WriteOptions`: how `COPY ... TO`, `INSERT INTO` an external table and
//! `DataFrame::write_parquet`/`write_csv` write files — format, compression, Hive partition
//! columns, row-group and file sizes, CSV dialect, overwrite.

use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};

use crate::error::{Error, Result};
use crate::io::csv::CsvOptions;
use crate::io::listing::FileFormat;

/// Rows per Parquet row group unless `ROW_GROUP_SIZE` says otherwise.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1024 * 1024;

/// Options of one write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Output format (`None`: from the target's extension, else Parquet).
    pub format: Option<FileFormat>,
    /// Parquet codec: `snappy` (default), `zstd`, `gzip`, `lz4`, `brotli`, `uncompressed`.
    pub compression: Option<String>,
    /// Codec level (zstd 1-22, gzip 0-9, brotli 0-11).
    pub compression_level: Option<i32>,
    /// Hive partition columns: one folder level `col=value` each, left out of the files.
    pub partition_by: Vec<String>,
    /// Rows per Parquet row group.
    pub row_group_size: Option<usize>,
    /// Rows per file at most (the target becomes a folder of files).
    pub max_file_rows: Option<usize>,
    /// Columns to write Parquet bloom filters for.
    pub bloom_filter_columns: Vec<String>,
    /// CSV header, delimiter, quote and NULL text.
    pub csv: CsvOptions,
    /// Replace an existing target instead of failing.
    pub overwrite: bool,
    /// Always write a folder of files, even to a path ending in `.parquet`/`.csv`.
    pub per_thread_output: bool,
    /// Bucket columns (`BUCKET_BY`): rows go to bucket `hash(columns) % buckets`, one file each.
    pub bucket_by: Vec<String>,
    /// Number of buckets (`BUCKETS`).
    pub buckets: Option<usize>,
}

fn positive(key: &str, v: &str) -> Result<usize> {
    v.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Error::plan(format!("{key} needs a positive integer, got '{v}'")))
}

fn boolean(key: &str, v: Option<&str>) -> Result<bool> {
    match v.map(|s| s.trim().to_lowercase()).as_deref() {
        None | Some("true" | "1" | "yes" | "on" | "t") => Ok(true),
        Some("false" | "0" | "no" | "off" | "f") => Ok(false),
        Some(other) => Err(Error::plan(format!(
            "{key} needs true or false, got '{other}'"
        ))),
    }
}

impl WriteOptions {
    /// Options for Parquet output.
    pub fn parquet() -> Self {
        WriteOptions {
            format: Some(FileFormat::Parquet),
            ..Self::default()
        }
    }

    /// Options for CSV output.
    pub fn csv() -> Self {
        WriteOptions {
            format: Some(FileFormat::Csv),
            ..Self::default()
        }
    }

    /// Hive-partitions the output by these columns.
    pub fn with_partition_by(mut self, cols: &[&str]) -> Self {
        self.partition_by = cols.iter().map(|c| c.to_lowercase()).collect();
        self
    }

    /// Sets the Parquet codec (`zstd`, `snappy`, ...).
    pub fn with_compression(mut self, codec: &str) -> Self {
        self.compression = Some(codec.to_lowercase());
        self
    }

    /// Sets rows per row group.
    pub fn with_row_group_size(mut self, rows: usize) -> Self {
        self.row_group_size = Some(rows.max(1));
        self
    }

    /// Sets rows per file.
    pub fn with_max_file_rows(mut self, rows: usize) -> Self {
        self.max_file_rows = Some(rows.max(1));
        self
    }

    /// Buckets the output: `n` files, each row in file `hash(cols) % n` (see `io::bucketing`).
    pub fn with_buckets(mut self, cols: &[&str], n: usize) -> Self {
        self.bucket_by = cols.iter().map(|c| c.to_lowercase()).collect();
        self.buckets = Some(n);
        self
    }

    /// Whether the output is bucketed.
    pub fn is_bucketed(&self) -> bool {
        self.buckets.is_some()
    }

    /// Replaces an existing target.
    pub fn with_overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Sets one option by its `COPY` name; `values` holds one value, or the items of a list
    /// such as `PARTITION_BY (a, b)`, or nothing for a bare flag (`HEADER`, `OVERWRITE`).
    pub fn set(&mut self, key: &str, values: &[String]) -> Result<()> {
        let key = key.to_lowercase();
        let one = || -> Result<&str> {
            match values {
                [v] => Ok(v.as_str()),
                _ => Err(Error::plan(format!("option {key} takes one value"))),
            }
        };
        match key.as_str() {
            "format" => self.format = Some(FileFormat::parse(one()?)?),
            "compression" | "codec" => {
                let c = one()?.to_lowercase();
                self.compression = Some(c);
            }
            "compression_level" => {
                self.compression_level = Some(one()?.trim().parse().map_err(|_| {
                    Error::plan(format!(
                        "compression_level needs an integer, got '{}'",
                        values.join(",")
                    ))
                })?)
            }
            "partition_by" => {
                if values.is_empty() {
                    return Err(Error::plan("PARTITION_BY needs at least one column"));
                }
                self.partition_by = values.iter().map(|v| v.trim().to_lowercase()).collect();
            }
            "row_group_size" | "row_group_rows" => {
                self.row_group_size = Some(positive(&key, one()?)?)
            }
            "bucket_by" | "clustered_by" => {
                if values.is_empty() {
                    return Err(Error::plan("BUCKET_BY needs at least one column"));
                }
                self.bucket_by = values.iter().map(|v| v.trim().to_lowercase()).collect();
            }
            "buckets" | "bucket_count" => self.buckets = Some(positive("BUCKETS", one()?)?),
            "max_file_rows" | "rows_per_file" => self.max_file_rows = Some(positive(&key, one()?)?),
            "bloom_filter_columns" | "bloom_filter" => {
                self.bloom_filter_columns = values
                    .iter()
                    .flat_map(|v| v.split(','))
                    .map(|v| v.trim().to_lowercase())
                    .filter(|v| !v.is_empty())
                    .collect()
            }
            "overwrite" | "overwrite_or_ignore" => {
                self.overwrite = boolean(&key, values.first().map(|s| s.as_str()))?
            }
            "per_thread_output" => {
                self.per_thread_output = boolean(&key, values.first().map(|s| s.as_str()))?
            }
            "header" => {
                let v = boolean(&key, values.first().map(|s| s.as_str()))?;
                self.csv.set("header", if v { "true" } else { "false" })?
            }
            "delimiter" | "delim" | "sep" | "quote" | "escape" | "null" | "nullstr" => {
                self.csv.set(&key, one()?)?
            }
            other => {
                return Err(Error::plan(format!(
                    "unknown COPY option '{other}' (options: FORMAT, COMPRESSION, \
                     COMPRESSION_LEVEL, PARTITION_BY, BUCKET_BY, BUCKETS, ROW_GROUP_SIZE, \
                     MAX_FILE_ROWS, BLOOM_FILTER_COLUMNS, OVERWRITE, PER_THREAD_OUTPUT, HEADER, DELIMITER, \
                     QUOTE, ESCAPE, NULL)"
                )));
            }
        }
        Ok(())
    }

    /// Checks option combinations that only make sense for one format.
    pub fn validate(&self, format: FileFormat) -> Result<()> {
        self.validate_buckets(format)?;
        if format == FileFormat::Csv {
            match self.compression.as_deref() {
                None | Some("none" | "uncompressed") => {}
                Some(c) => {
                    return Err(Error::plan(format!(
                        "COMPRESSION {c} is not supported for CSV output (use Parquet)"
                    )));
                }
            }
            if self.row_group_size.is_some() || !self.bloom_filter_columns.is_empty() {
                return Err(Error::plan(
                    "ROW_GROUP_SIZE and BLOOM_FILTER_COLUMNS apply to Parquet output only",
                ));
            }
        } else {
            self.parquet_compression()?;
        }
        Ok(())
    }

    fn validate_buckets(&self, format: FileFormat) -> Result<()> {
        match (self.bucket_by.is_empty(), self.buckets) {
            (true, None) => return Ok(()),
            (false, None) => return Err(Error::plan("BUCKET_BY (columns) needs BUCKETS n")),
            (true, Some(_)) => return Err(Error::plan("BUCKETS n needs BUCKET_BY (columns)")),
            (false, Some(_)) => {}
        }
        if self.buckets == Some(0) {
            return Err(Error::plan("BUCKETS needs a positive integer, got '0'"));
        }
        if format != FileFormat::Parquet {
            return Err(Error::plan(
                "BUCKET_BY applies to Parquet output only (the bucket spec is kept in the \
                 Parquet file metadata)",
            ));
        }
        if let Some(c) = self
            .bucket_by
            .iter()
            .find(|c| self.partition_by.contains(c))
        {
            return Err(Error::plan(format!(
                "column \"{c}\" cannot be both in BUCKET_BY and PARTITION_BY"
            )));
        }
        for (i, c) in self.bucket_by.iter().enumerate() {
            if self.bucket_by[..i].contains(c) {
                return Err(Error::plan(format!(
                    "BUCKET_BY column \"{c}\" appears more than once"
                )));
            }
        }
        Ok(())
    }

    fn parquet_compression(&self) -> Result<Compression> {
        let level = self.compression_level;
        let bad_level = |e: parquet::errors::ParquetError| {
            Error::plan(format!("invalid compression_level: {e}"))
        };
        Ok(match self.compression.as_deref().unwrap_or("snappy") {
            "snappy" => Compression::SNAPPY,
            "zstd" => Compression::ZSTD(match level {
                Some(l) => ZstdLevel::try_new(l).map_err(bad_level)?,
                None => ZstdLevel::default(),
            }),
            "gzip" => Compression::GZIP(match level {
                Some(l) => GzipLevel::try_new(l.max(0) as u32).map_err(bad_level)?,
                None => GzipLevel::default(),
            }),
            "brotli" => Compression::BROTLI(match level {
                Some(l) => BrotliLevel::try_new(l.max(0) as u32).map_err(bad_level)?,
                None => BrotliLevel::default(),
            }),
            "lz4" => Compression::LZ4_RAW,
            "uncompressed" | "none" => Compression::UNCOMPRESSED,
            other => {
                return Err(Error::plan(format!(
                    "unknown compression '{other}' (snappy, zstd, gzip, lz4, brotli, uncompressed)"
                )));
            }
        })
    }

    /// Parquet writer settings (statistics and the page index are always written).
    pub fn writer_properties(&self) -> Result<WriterProperties> {
        let mut b = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(self.parquet_compression()?)
            .set_max_row_group_row_count(Some(
                self.row_group_size.unwrap_or(DEFAULT_ROW_GROUP_ROWS),
            ))
            .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Page);
        for c in &self.bloom_filter_columns {
            b = b.set_column_bloom_filter_enabled(c.as_str().into(), true);
        }
        Ok(b.build())
    }
}
