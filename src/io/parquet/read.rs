//! Opening Parquet files through the object-store layer: the footer (and page index, when the
//! file has one) is read once, when a table is created, with one suffix-sized request per file
//! and many files at a time. Scans reuse it to prune and to decode only what they need.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use futures::StreamExt;
use object_store::ObjectStore;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

use crate::error::{Error, Result};
use crate::io::fetch::{FetchCounters, ObjectReader};
use crate::io::listing::ListedFile;
use crate::runtime::io_runtime::IoRuntime;

/// Footers read at the same time when a table is opened.
const OPEN_CONCURRENCY: usize = 16;

/// A Parquet file with its metadata.
#[derive(Debug, Clone)]
pub struct ParquetFile {
    /// Where it is and how big.
    pub file: ListedFile,
    /// Decoded footer and the Arrow schema the decoder produces.
    pub metadata: ArrowReaderMetadata,
    /// The schema users see (stored INTERVAL columns as INTERVAL).
    pub logical: SchemaRef,
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
    /// Reads the footer of one file; errors name the file.
    pub async fn open(reader: ObjectReader, file: ListedFile) -> Result<Self> {
        let meta = Arc::new(reader.parquet_metadata().await?);
        let context = |e: parquet::errors::ParquetError| {
            Error::from(e).context(format!("reading Parquet schema of {}", file.display))
        };
        let options = ArrowReaderOptions::new()
            .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Optional);
        let plain = ArrowReaderMetadata::try_new(meta.clone(), options.clone()).map_err(context)?;
        let normalized = Arc::new(normalize_schema(plain.schema()));
        let metadata = if normalized.as_ref() != plain.schema().as_ref() {
            ArrowReaderMetadata::try_new(meta, options.with_schema(normalized)).map_err(context)?
        } else {
            plain
        };
        let logical = Arc::new(crate::io::parquet::interval::logical_schema(
            metadata.schema(),
        ));
        Ok(ParquetFile {
            file,
            metadata,
            logical,
        })
    }

    /// Reads the footers of many files concurrently, in listing order.
    pub fn open_all(
        io: &IoRuntime,
        store: &Arc<dyn ObjectStore>,
        files: Vec<ListedFile>,
        counters: &Arc<FetchCounters>,
    ) -> Result<Vec<ParquetFile>> {
        let opens = files.into_iter().map(|f| {
            let reader = ObjectReader::new(
                store.clone(),
                f.path.clone(),
                f.size,
                &f.display,
                counters.clone(),
            );
            ParquetFile::open(reader, f)
        });
        io.block_on(
            futures::stream::iter(opens)
                .buffered(OPEN_CONCURRENCY)
                .collect::<Vec<Result<ParquetFile>>>(),
        )?
        .into_iter()
        .collect()
    }

    /// The Arrow schema of the file.
    pub fn schema(&self) -> SchemaRef {
        self.metadata.schema().clone()
    }

    /// Total rows.
    pub fn num_rows(&self) -> usize {
        self.metadata.metadata().file_metadata().num_rows().max(0) as usize
    }

    /// Rows of one row group.
    pub fn row_group_rows(&self, rg: usize) -> usize {
        self.metadata.metadata().row_group(rg).num_rows().max(0) as usize
    }

    /// How users see the file.
    pub fn display(&self) -> &str {
        &self.file.display
    }
}
