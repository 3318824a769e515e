//! Merging the schemas of a table's files by column name: a column missing from some files reads
//! as NULL there, integers widen (INT → BIGINT, unsigned into a wider signed type), REAL widens to
//! DOUBLE and decimals to a precision and scale holding both. Any other difference is an error
//! naming the file and the column.

use std::collections::HashMap;

use arrow::datatypes::{DataType, Field, Schema};

use crate::error::{Error, Result};

/// A file's schema, named for errors.
pub struct NamedSchema<'a> {
    /// How users see the file.
    pub name: &'a str,
    /// Its columns.
    pub schema: &'a Schema,
}

/// The union of the files' columns (first-seen order) with merged types; schema metadata and
/// field metadata come from the first file that has them.
pub fn merge_schemas(files: &[NamedSchema<'_>]) -> Result<Schema> {
    let mut fields: Vec<Field> = vec![];
    let mut first_seen: Vec<&str> = vec![];
    let mut present: Vec<usize> = vec![];
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut metadata = HashMap::new();
    for file in files {
        if metadata.is_empty() {
            metadata = file.schema.metadata().clone();
        }
        for f in file.schema.fields() {
            match index.get(f.name()) {
                None => {
                    index.insert(f.name().clone(), fields.len());
                    fields.push(f.as_ref().clone());
                    first_seen.push(file.name);
                    present.push(1);
                }
                Some(&i) => {
                    let merged = merge_types(fields[i].data_type(), f.data_type()).ok_or_else(|| {
                        Error::plan(format!(
                            "column \"{}\" is {} in {} but {} in {}; the types cannot be merged",
                            f.name(),
                            fields[i].data_type(),
                            first_seen[i],
                            f.data_type(),
                            file.name,
                        ))
                    })?;
                    let nullable = fields[i].is_nullable() || f.is_nullable();
                    fields[i] = fields[i]
                        .clone()
                        .with_data_type(merged)
                        .with_nullable(nullable);
                    present[i] += 1;
                }
            }
        }
    }
    for (i, f) in fields.iter_mut().enumerate() {
        if present[i] < files.len() {
            *f = f.clone().with_nullable(true);
        }
    }
    Ok(Schema::new_with_metadata(fields, metadata))
}

fn int_rank(t: &DataType) -> Option<(bool, u8)> {
    Some(match t {
        DataType::Int8 => (true, 8),
        DataType::Int16 => (true, 16),
        DataType::Int32 => (true, 32),
        DataType::Int64 => (true, 64),
        DataType::UInt8 => (false, 8),
        DataType::UInt16 => (false, 16),
        DataType::UInt32 => (false, 32),
        DataType::UInt64 => (false, 64),
        _ => return None,
    })
}

fn int_type(signed: bool, bits: u8) -> Option<DataType> {
    Some(match (signed, bits) {
        (true, 8) => DataType::Int8,
        (true, 16) => DataType::Int16,
        (true, 32) => DataType::Int32,
        (true, 64) => DataType::Int64,
        (false, 8) => DataType::UInt8,
        (false, 16) => DataType::UInt16,
        (false, 32) => DataType::UInt32,
        (false, 64) => DataType::UInt64,
        _ => return None,
    })
}

/// A type holding every value of `a` and of `b`, if there is one flint merges to.
pub fn merge_types(a: &DataType, b: &DataType) -> Option<DataType> {
    if a == b {
        return Some(a.clone());
    }
    if let (Some((sa, wa)), Some((sb, wb))) = (int_rank(a), int_rank(b)) {
        return match (sa, sb) {
            (true, true) | (false, false) => int_type(sa, wa.max(wb)),
            // an unsigned type fits a signed one twice as wide
            (true, false) => int_type(true, wa.max(wb.saturating_mul(2))),
            (false, true) => int_type(true, wb.max(wa.saturating_mul(2))),
        };
    }
    match (a, b) {
        (DataType::Float32 | DataType::Float16, DataType::Float64)
        | (DataType::Float64, DataType::Float32 | DataType::Float16)
        | (DataType::Float16, DataType::Float32)
        | (DataType::Float32, DataType::Float16) => {
            if matches!(a, DataType::Float64) || matches!(b, DataType::Float64) {
                Some(DataType::Float64)
            } else {
                Some(DataType::Float32)
            }
        }
        (DataType::Decimal128(pa, sa), DataType::Decimal128(pb, sb)) => {
            let scale = (*sa).max(*sb);
            let int_digits = (*pa as i16 - *sa as i16).max(*pb as i16 - *sb as i16);
            let precision = int_digits + scale as i16;
            (precision <= 38).then_some(DataType::Decimal128(precision as u8, scale))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{NamedSchema, merge_schemas, merge_types};
    use arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn widens_and_unions() {
        assert_eq!(
            merge_types(&DataType::Int32, &DataType::Int64),
            Some(DataType::Int64)
        );
        assert_eq!(
            merge_types(&DataType::UInt32, &DataType::Int32),
            Some(DataType::Int64)
        );
        assert_eq!(merge_types(&DataType::UInt64, &DataType::Int64), None);
        assert_eq!(
            merge_types(&DataType::Decimal128(10, 2), &DataType::Decimal128(12, 4)),
            Some(DataType::Decimal128(12, 4))
        );
        assert_eq!(merge_types(&DataType::Utf8, &DataType::Int64), None);
        let a = Schema::new(vec![
            Field::new("k", DataType::Int32, false),
            Field::new("v", DataType::Utf8, false),
        ]);
        let b = Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("w", DataType::Float64, false),
        ]);
        let m = merge_schemas(&[
            NamedSchema {
                name: "a",
                schema: &a,
            },
            NamedSchema {
                name: "b",
                schema: &b,
            },
        ])
        .unwrap();
        assert_eq!(m.field(0).data_type(), &DataType::Int64);
        assert!(!m.field(0).is_nullable());
        assert!(m.field(1).is_nullable() && m.field(2).is_nullable());
        let c = Schema::new(vec![Field::new("k", DataType::Utf8, false)]);
        let e = merge_schemas(&[
            NamedSchema {
                name: "a.parquet",
                schema: &a,
            },
            NamedSchema {
                name: "c.parquet",
                schema: &c,
            },
        ])
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("column \"k\" is Int32 in a.parquet but Utf8 in c.parquet"),
            "{e}"
        );
    }
}
