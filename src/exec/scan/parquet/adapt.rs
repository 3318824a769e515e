//! Fitting a file's decoded columns to the table: each output column comes from the file (cast
//! when the table's merged type is wider), is NULL (the file lacks the column) or is the file's
//! Hive partition value.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};
use arrow::datatypes::{DataType, SchemaRef};
use datafusion_common::ScalarValue;

use crate::error::Result;
use crate::io::parquet::interval::cast_column;

/// Where one output column comes from.
#[derive(Debug, Clone)]
enum Source {
    /// Column `i` of the decoded batch, cast to the output type when `cast` is set.
    File { index: usize, cast: bool },
    /// The same value in every row (a partition value).
    Constant(ScalarValue),
    /// Not in this file.
    Null,
}

/// Turns decoded batches of one file into batches of the scan's output schema.
#[derive(Debug, Clone)]
pub struct BatchAdapter {
    output: SchemaRef,
    sources: Vec<Source>,
}

impl BatchAdapter {
    /// `decoded_types[i]` is the type of decoded column `i`; `column_of(name)` tells which decoded
    /// column holds an output column, and `partition_value(name)` gives partition constants.
    pub fn new(
        output: SchemaRef,
        decoded_types: &[DataType],
        column_of: impl Fn(&str) -> Option<usize>,
        partition_value: impl Fn(&str) -> Option<ScalarValue>,
    ) -> Self {
        let sources = output
            .fields()
            .iter()
            .map(|f| {
                if let Some(v) = partition_value(f.name()) {
                    Source::Constant(v)
                } else if let Some(i) = column_of(f.name()) {
                    Source::File {
                        index: i,
                        cast: decoded_types.get(i) != Some(f.data_type()),
                    }
                } else {
                    Source::Null
                }
            })
            .collect();
        BatchAdapter { output, sources }
    }

    /// The output batch for a decoded batch.
    pub fn adapt(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let n = batch.num_rows();
        let columns = self
            .sources
            .iter()
            .zip(self.output.fields())
            .map(|(s, f)| -> Result<ArrayRef> {
                Ok(match s {
                    Source::File { index, cast: false } => batch.column(*index).clone(),
                    Source::File { index, cast: true } => {
                        cast_column(batch.column(*index), f.data_type())?
                    }
                    Source::Constant(v) => {
                        if v.data_type() == *f.data_type() {
                            v.to_array_of_size(n)?
                        } else {
                            v.cast_to(f.data_type())?.to_array_of_size(n)?
                        }
                    }
                    Source::Null => new_null_array(f.data_type(), n),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new_with_options(
            Arc::clone(&self.output),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?)
    }
}
