//! Printing results as a table, CSV or JSON.

use std::io::Write;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A boxed text table.
    Table,
    /// Comma-separated values with a header.
    Csv,
    /// One JSON object per row, in an array.
    Json,
}

impl OutputFormat {
    /// Parses `table`, `csv` or `json`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_lowercase().as_str() {
            "table" => Ok(OutputFormat::Table),
            "csv" => Ok(OutputFormat::Csv),
            "json" => Ok(OutputFormat::Json),
            other => Err(Error::plan(format!(
                "unknown output format '{other}' (table, csv, json)"
            ))),
        }
    }
}

/// Writes rows in `format`.
pub fn write_batches(
    out: &mut dyn Write,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    format: OutputFormat,
) -> Result<()> {
    match format {
        OutputFormat::Table => {
            if schema.fields().is_empty() {
                return Ok(());
            }
            let options = arrow::util::display::FormatOptions::default()
                .with_null("NULL")
                .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"));
            let table = if batches.is_empty() {
                arrow::util::pretty::pretty_format_batches_with_schema(schema.clone(), &[])?
                    .to_string()
            } else {
                arrow::util::pretty::pretty_format_batches_with_options(batches, &options)?
                    .to_string()
            };
            writeln!(out, "{table}")?;
        }
        OutputFormat::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .with_timestamp_format("%Y-%m-%d %H:%M:%S%.f".to_string())
                .build(&mut *out);
            if batches.is_empty() {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                drop(w);
                writeln!(out, "{}", names.join(","))?;
            } else {
                for b in batches {
                    w.write(b)?;
                }
            }
        }
        OutputFormat::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut *out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            w.write_batches(&refs)?;
            w.finish()?;
            drop(w);
            if batches.is_empty() {
                write!(out, "[]")?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}
