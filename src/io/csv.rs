//! CSV options (header, delimiter, quote, null string) and schema inference from a sample.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use arrow::csv::ReaderBuilder;
use arrow::csv::reader::Format;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};

/// How CSV files are read.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// First line holds column names.
    pub has_header: bool,
    /// Field separator.
    pub delimiter: u8,
    /// Quote character.
    pub quote: u8,
    /// Text that means NULL (besides an empty field).
    pub null_string: Option<String>,
    /// Rows read to infer the schema.
    pub infer_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            has_header: true,
            delimiter: b',',
            quote: b'"',
            null_string: None,
            infer_rows: 1000,
        }
    }
}

impl CsvOptions {
    /// Sets an option by name (from `OPTIONS (...)`); unknown names are an error.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let one_byte = |v: &str| -> Result<u8> {
            let b = v.as_bytes();
            match b.len() {
                1 => Ok(b[0]),
                _ if v == "\\t" => Ok(b'\t'),
                _ => Err(Error::plan(format!(
                    "CSV option {key} must be one character, got '{v}'"
                ))),
            }
        };
        match key.to_lowercase().as_str() {
            "header" | "has_header" => {
                self.has_header =
                    matches!(value.to_lowercase().as_str(), "true" | "1" | "yes" | "on")
            }
            "delimiter" | "delim" | "sep" => self.delimiter = one_byte(value)?,
            "quote" => self.quote = one_byte(value)?,
            "null" | "null_string" | "nullstr" => self.null_string = Some(value.to_string()),
            "format" => {}
            other => {
                return Err(Error::plan(format!(
                    "unknown CSV option '{other}' (options: header, delimiter, quote, null)"
                )));
            }
        }
        Ok(())
    }

    fn format(&self) -> Format {
        let mut f = Format::default()
            .with_header(self.has_header)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote);
        if let Some(n) = &self.null_string
            && let Ok(re) = regex_lite_exact(n)
        {
            f = f.with_null_regex(re);
        }
        f
    }

    /// Infers a schema from the first rows of `path`.
    pub fn infer_schema(&self, path: &Path) -> Result<SchemaRef> {
        let mut file = File::open(path)
            .map_err(|e| Error::io(format!("cannot open {}: {e}", path.display())))?;
        let (schema, _) = self
            .format()
            .infer_schema(&mut file, Some(self.infer_rows))
            .map_err(|e| {
                Error::from(e).context(format!("inferring the schema of {}", path.display()))
            })?;
        file.seek(SeekFrom::Start(0))?;
        // integers default to BIGINT, anything odd to VARCHAR
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| {
                let t = match f.data_type() {
                    DataType::Null => DataType::Utf8,
                    t => t.clone(),
                };
                Field::new(f.name(), t, true)
            })
            .collect();
        Ok(Arc::new(Schema::new(fields)))
    }

    /// A reader builder for this format and schema.
    pub fn reader_builder(&self, schema: SchemaRef) -> ReaderBuilder {
        ReaderBuilder::new(schema).with_format(self.format())
    }
}

/// A regex matching exactly the given text (arrow's CSV reader takes a regex for NULLs).
fn regex_lite_exact(s: &str) -> Result<regex::Regex> {
    regex::Regex::new(&format!("^{}$", regex::escape(s)))
        .map_err(|e| Error::plan(format!("bad null string: {e}")))
}
