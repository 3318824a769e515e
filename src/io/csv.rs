//! CSV options (header, delimiter, quote, escape, null string, sample size, type overrides) and
//! schema inference from a sample: the first [`SAMPLE_BYTES`] of the first file, cut at the last
//! complete line, up to `sample_size` rows.

use std::io::Cursor;
use std::sync::Arc;

use arrow::csv::ReaderBuilder;
use arrow::csv::reader::Format;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use crate::error::{Error, Result};
use crate::logical::types::sql_to_arrow_type;

/// Bytes read from the start of a file to infer its schema.
pub const SAMPLE_BYTES: u64 = 4 * 1024 * 1024;

/// How CSV files are read and written.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// First line holds column names.
    pub has_header: bool,
    /// Field separator.
    pub delimiter: u8,
    /// Quote character.
    pub quote: u8,
    /// Escape character inside quotes (default: a doubled quote).
    pub escape: Option<u8>,
    /// Text that means NULL (besides an empty field).
    pub null_string: Option<String>,
    /// Rows read to infer the schema.
    pub infer_rows: usize,
    /// Column types that override inference (`types 'a:INT, b:VARCHAR'`).
    pub types: Vec<(String, DataType)>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            has_header: true,
            delimiter: b',',
            quote: b'"',
            escape: None,
            null_string: None,
            infer_rows: 1000,
            types: vec![],
        }
    }
}

/// Parses a SQL type name such as `DECIMAL(10,2)`.
pub fn parse_sql_type(text: &str) -> Result<DataType> {
    let dialect = GenericDialect {};
    let t = Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_data_type())
        .map_err(|e| Error::plan(format!("invalid type '{text}': {e}")))?;
    sql_to_arrow_type(&t)
}

impl CsvOptions {
    /// Sets an option by name (from `OPTIONS (...)` or `read_csv(...)`); unknown names are an
    /// error.
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
            "header" | "has_header" => self.has_header = parse_bool(key, value)?,
            "delimiter" | "delim" | "sep" => self.delimiter = one_byte(value)?,
            "quote" => self.quote = one_byte(value)?,
            "escape" => self.escape = Some(one_byte(value)?),
            "null" | "null_string" | "nullstr" => self.null_string = Some(value.to_string()),
            "sample_size" | "schema_infer_max_records" => {
                self.infer_rows = value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        Error::plan(format!("{key} needs a positive number, got '{value}'"))
                    })?
            }
            "types" | "column_types" => {
                for item in split_top_level(value)
                    .iter()
                    .filter(|s| !s.trim().is_empty())
                {
                    let (name, t) = item.split_once(':').ok_or_else(|| {
                        Error::plan(format!(
                            "CSV option types takes 'column:TYPE, ...', got '{item}'"
                        ))
                    })?;
                    let dt = parse_sql_type(t.trim())?;
                    if dt.is_nested() || matches!(dt, DataType::Binary | DataType::Interval(_)) {
                        return Err(Error::plan(format!(
                            "CSV columns cannot be of type {}",
                            t.trim().to_uppercase()
                        )));
                    }
                    self.types.push((name.trim().to_lowercase(), dt));
                }
            }
            "format" => {}
            other => {
                return Err(Error::plan(format!(
                    "unknown CSV option '{other}' (options: header, delimiter, quote, escape, \
                     null, sample_size, types)"
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
        if let Some(e) = self.escape {
            f = f.with_escape(e);
        }
        if let Some(n) = &self.null_string
            && let Ok(re) = regex_lite_exact(n)
        {
            f = f.with_null_regex(re);
        }
        f
    }

    /// Infers a schema from the first bytes of a file (`display` names it in errors).
    pub fn infer_schema(&self, sample: &[u8], complete: bool, display: &str) -> Result<SchemaRef> {
        // cut a partial last line off a sample that is not the whole file
        let sample = if complete {
            sample
        } else {
            match sample.iter().rposition(|b| *b == b'\n') {
                Some(i) => &sample[..=i],
                None => sample,
            }
        };
        let (schema, _) = self
            .format()
            .infer_schema(Cursor::new(sample), Some(self.infer_rows))
            .map_err(|e| Error::from(e).context(format!("inferring the schema of {display}")))?;
        let mut fields: Vec<Field> = schema
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
        for (name, t) in &self.types {
            let f = fields
                .iter_mut()
                .find(|f| f.name().to_lowercase() == *name)
                .ok_or_else(|| {
                    Error::plan(format!(
                        "CSV option types names column \"{name}\", which {display} does not have"
                    ))
                })?;
            *f = Field::new(f.name(), t.clone(), true);
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// A reader builder for this format and schema.
    pub fn reader_builder(&self, schema: SchemaRef) -> ReaderBuilder {
        ReaderBuilder::new(schema).with_format(self.format())
    }
}

/// Splits on commas outside parentheses (`a:INT, b:DECIMAL(6,2)`).
fn split_top_level(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" => Ok(true),
        "false" | "0" | "no" | "off" | "f" => Ok(false),
        other => Err(Error::plan(format!(
            "option {key} needs true or false, got '{other}'"
        ))),
    }
}

/// A regex matching exactly the given text (arrow's CSV reader takes a regex for NULLs).
fn regex_lite_exact(s: &str) -> Result<regex::Regex> {
    regex::Regex::new(&format!("^{}$", regex::escape(s)))
        .map_err(|e| Error::plan(format!("bad null string: {e}")))
}

#[cfg(test)]
mod tests {
    use super::CsvOptions;
    use arrow::datatypes::DataType;

    #[test]
    fn infers_from_a_cut_sample_with_overrides() {
        let mut o = CsvOptions::default();
        o.set("types", "b: VARCHAR").unwrap();
        let s = o
            .infer_schema(b"a,b\n1,2\n3,4\n5,6", false, "x.csv")
            .unwrap();
        assert_eq!(s.field(0).data_type(), &DataType::Int64);
        assert_eq!(s.field(1).data_type(), &DataType::Utf8);
        assert!(o.set("header", "maybe").is_err());
        assert!(o.set("types", "zz:INT").is_ok());
        assert!(o.infer_schema(b"a,b\n1,2\n", true, "x.csv").is_err());
    }
}
