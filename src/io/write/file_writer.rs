//! `FileWriter`: encodes batches as one Parquet or CSV file into a [`StagedUpload`]. Parquet goes
//! through parquet's `AsyncArrowWriter` (a row group is encoded in memory, then handed to the
//! upload); CSV is encoded batch by batch. Encoding runs on the calling thread, uploads on the
//! I/O runtime.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::AsyncArrowWriter;
use parquet::file::metadata::KeyValue;

use crate::error::{Error, Result};
use crate::io::checksum::ContentHasher;
use crate::io::csv::CsvOptions;
use crate::io::listing::FileFormat;
use crate::io::parquet::interval;
use crate::io::write::options::WriteOptions;
use crate::io::write::upload::StagedUpload;

/// Encoded bytes a Parquet row group may grow to in memory before it is written out.
pub const ROW_GROUP_MAX_BYTES: usize = 32 * 1024 * 1024;

enum Encoder {
    /// The writer, and the schema batches are converted to first (INTERVAL columns).
    Parquet(Box<AsyncArrowWriter<StagedUpload>>, Option<SchemaRef>),
    Csv {
        upload: Box<StagedUpload>,
        options: CsvOptions,
        wrote_header: bool,
    },
}

/// A file written and flushed but not yet visible.
#[derive(Debug)]
pub struct FinishedFile {
    /// The upload to complete (or abort).
    pub upload: StagedUpload,
    /// Rows in the file.
    pub rows: u64,
    /// Checksum of the contents, when asked for.
    pub content_checksum: Option<String>,
}

/// One output file being encoded.
pub struct FileWriter {
    encoder: Encoder,
    schema: SchemaRef,
    rows: u64,
    content: Option<ContentHasher>,
}

impl FileWriter {
    /// Starts a file of `format` into `upload`; with `checksum`, contents are hashed too.
    /// `metadata` goes into a Parquet file's key-value metadata (e.g. its bucket spec).
    pub fn try_new(
        upload: StagedUpload,
        format: FileFormat,
        schema: SchemaRef,
        options: &WriteOptions,
        checksum: bool,
        metadata: Vec<KeyValue>,
    ) -> Result<Self> {
        let encoder = match format {
            FileFormat::Parquet => {
                let mut props = options.writer_properties()?;
                if !metadata.is_empty() {
                    props = props
                        .into_builder()
                        .set_key_value_metadata(Some(metadata))
                        .build();
                }
                let storage = interval::storage_schema(&schema);
                let file_schema = storage.clone().unwrap_or_else(|| schema.clone());
                let w = AsyncArrowWriter::try_new(upload, file_schema, Some(props))
                    .map_err(|e| Error::from(e).context("starting a Parquet file"))?;
                Encoder::Parquet(Box::new(w), storage)
            }
            FileFormat::Csv => Encoder::Csv {
                upload: Box::new(upload),
                options: options.csv.clone(),
                wrote_header: false,
            },
        };
        Ok(FileWriter {
            encoder,
            content: checksum.then(|| ContentHasher::new(schema.clone())),
            schema,
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The file's schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Bytes handed to the upload so far (Parquet: completed row groups only).
    pub fn bytes(&self) -> u64 {
        match &self.encoder {
            Encoder::Parquet(w, _) => w.bytes_written() as u64,
            Encoder::Csv { upload, .. } => upload.bytes(),
        }
    }

    /// Encodes one batch (must run on the I/O runtime).
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if let Some(h) = self.content.as_mut() {
            h.update(batch)?;
        }
        self.rows += batch.num_rows() as u64;
        match &mut self.encoder {
            Encoder::Parquet(w, storage) => {
                match storage {
                    None => w.write(batch).await,
                    Some(s) => w.write(&interval::convert_batch(batch, s)?).await,
                }
                .map_err(parquet_error)?;
                // a row group of wide rows is closed early, so a writer holds at most this much
                if w.in_progress_size() > ROW_GROUP_MAX_BYTES {
                    w.flush().await.map_err(parquet_error)?;
                }
                Ok(())
            }
            Encoder::Csv {
                upload,
                options,
                wrote_header,
            } => {
                let bytes = encode_csv(batch, options, !*wrote_header)?;
                *wrote_header = true;
                upload.write(&bytes).await
            }
        }
    }

    /// Writes the footer and uploads what is left; the file is complete but not visible.
    pub async fn finish(self) -> Result<FinishedFile> {
        let content_checksum = match self.content {
            Some(h) => Some(h.finish()?),
            None => None,
        };
        let upload = match self.encoder {
            Encoder::Parquet(mut w, _) => {
                if let Err(e) = w.finish().await {
                    let _ = w.into_inner().abort().await;
                    return Err(parquet_error(e));
                }
                w.into_inner()
            }
            Encoder::Csv {
                mut upload,
                options,
                wrote_header,
            } => {
                let mut result = Ok(());
                if !wrote_header && options.has_header {
                    let empty = RecordBatch::new_empty(self.schema.clone());
                    result = match encode_csv(&empty, &options, true) {
                        Ok(bytes) => upload.write(&bytes).await,
                        Err(e) => Err(e),
                    };
                }
                if result.is_ok() {
                    result = upload.flush().await;
                }
                if let Err(e) = result {
                    let _ = upload.abort().await;
                    return Err(e);
                }
                *upload
            }
        };
        Ok(FinishedFile {
            upload,
            rows: self.rows,
            content_checksum,
        })
    }

    /// Abandons the file.
    pub async fn abort(self) -> Result<()> {
        let mut upload = match self.encoder {
            Encoder::Parquet(w, _) => w.into_inner(),
            Encoder::Csv { upload, .. } => *upload,
        };
        upload.abort().await
    }
}

/// A Parquet error whose cause is ours (an upload failure) keeps its message.
fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    Error::from(e)
}

fn encode_csv(batch: &RecordBatch, o: &CsvOptions, header: bool) -> Result<Vec<u8>> {
    let mut b = arrow::csv::WriterBuilder::new()
        .with_header(header && o.has_header)
        .with_delimiter(o.delimiter)
        .with_quote(o.quote);
    if let Some(e) = o.escape {
        b = b.with_escape(e);
    }
    if let Some(n) = &o.null_string {
        b = b.with_null(n.clone());
    }
    let mut w = b.build(Vec::new());
    w.write(batch)?;
    Ok(w.into_inner())
}

impl std::fmt::Debug for FileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWriter")
            .field("rows", &self.rows)
            .finish()
    }
}
