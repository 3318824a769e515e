//! Opening local Parquet files: metadata is read once when a table is
//! registered; scans reuse it and decode only the projected columns of the
//! row groups that survive pruning.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use crate::error::{Error, Result};

/// A Parquet file with its metadata.
#[derive(Debug, Clone)]
pub struct ParquetFile {
    /// Where it is.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Decoded footer and the Arrow schema flint reads it as.
    pub metadata: ArrowReaderMetadata,
}

/// Row groups of one file that a scan partition reads.
#[derive(Debug, Clone)]
pub struct RowGroupSlice {
    /// Index into the table's file list.
    pub file: usize,
    /// Row group indices.
    pub row_groups: Vec<usize>,
}

/// The types flint computes on: view and large string types become Utf8, dictionaries their values.
pub fn normalize_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        DataType::Dictionary(_, v) => normalize_type(v),
        other => other.clone(),
    }
}

/// A schema with every field's type normalized.
pub fn normalize_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            f.as_ref()
                .clone()
                .with_data_type(normalize_type(f.data_type()))
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

impl ParquetFile {
    /// Opens a file and reads its footer; errors name the file.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| Error::io(format!("cannot open {}: {e}", path.display())))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| {
            Error::from(e).context(format!("reading Parquet footer of {}", path.display()))
        })?;
        let normalized = Arc::new(normalize_schema(meta.schema()));
        let metadata = if normalized.as_ref() != meta.schema().as_ref() {
            ArrowReaderMetadata::try_new(
                meta.metadata().clone(),
                ArrowReaderOptions::new().with_schema(normalized),
            )
            .map_err(|e| Error::from(e).context(path.display()))?
        } else {
            meta
        };
        Ok(ParquetFile {
            path: path.to_path_buf(),
            size,
            metadata,
        })
    }

    /// The Arrow schema of the file.
    pub fn schema(&self) -> SchemaRef {
        self.metadata.schema().clone()
    }

    /// Total rows.
    pub fn num_rows(&self) -> usize {
        self.metadata.metadata().file_metadata().num_rows().max(0) as usize
    }

    /// Opens a reader over some row groups, decoding only `projection` (top-level column indices).
    pub fn reader(
        &self,
        row_groups: Vec<usize>,
        projection: Option<&[usize]>,
        batch_size: usize,
    ) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
        let file = File::open(&self.path)
            .map_err(|e| Error::io(format!("cannot open {}: {e}", self.path.display())))?;
        let mut builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                .with_row_groups(row_groups)
                .with_batch_size(batch_size);
        if let Some(p) = projection {
            let mask = ProjectionMask::roots(self.metadata.parquet_schema(), p.iter().copied());
            builder = builder.with_projection(mask);
        }
        builder
            .build()
            .map_err(|e| Error::from(e).context(self.path.display()))
    }
}
