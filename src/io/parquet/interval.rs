//! INTERVAL columns in Parquet. Parquet has no type for Arrow's `Interval(MonthDayNano)` (flint's
//! INTERVAL) and arrow-rs cannot write one, so flint stores it as a 16-byte fixed-size binary
//! (months i32, days i32, nanoseconds i64, little-endian) marked by field metadata, and turns it
//! back into an INTERVAL when reading: files written by flint round-trip INTERVAL columns.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, FixedSizeBinaryArray, IntervalMonthDayNanoArray};
use arrow::datatypes::{DataType, Field, IntervalMonthDayNano, IntervalUnit, Schema, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::error::{Error, Result};

/// Field metadata key marking a stored logical type.
pub const LOGICAL_TYPE_KEY: &str = "flint.logical_type";
const MONTH_DAY_NANO: &str = "interval_month_day_nano";
const MDN: DataType = DataType::Interval(IntervalUnit::MonthDayNano);

fn is_stored_interval(f: &Field) -> bool {
    f.data_type() == &DataType::FixedSizeBinary(16)
        && f.metadata().get(LOGICAL_TYPE_KEY).map(|s| s.as_str()) == Some(MONTH_DAY_NANO)
}

/// The schema to write to Parquet, when `schema` has INTERVAL columns.
pub fn storage_schema(schema: &Schema) -> Option<SchemaRef> {
    if !schema.fields().iter().any(|f| f.data_type() == &MDN) {
        return None;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if f.data_type() == &MDN {
                let mut md = f.metadata().clone();
                md.insert(LOGICAL_TYPE_KEY.to_string(), MONTH_DAY_NANO.to_string());
                Field::new(f.name(), DataType::FixedSizeBinary(16), f.is_nullable())
                    .with_metadata(md)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Some(Arc::new(Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )))
}

/// The schema users see for a file's schema: stored INTERVAL columns are INTERVAL again.
pub fn logical_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if is_stored_interval(f) {
                let md: HashMap<String, String> = f
                    .metadata()
                    .iter()
                    .filter(|(k, _)| k.as_str() != LOGICAL_TYPE_KEY)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Field::new(f.name(), MDN, f.is_nullable()).with_metadata(md)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// `batch` in the given schema (from [`storage_schema`] or [`logical_schema`]), converting
/// INTERVAL columns in either direction.
pub fn convert_batch(batch: &RecordBatch, to: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(to.fields())
        .map(|(c, f)| cast_column(c, f.data_type()))
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new_with_options(
        to.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}

/// Arrow's cast, plus INTERVAL to and from its 16-byte storage.
pub fn cast_column(a: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    if a.data_type() == to {
        return Ok(a.clone());
    }
    match (a.data_type(), to) {
        (DataType::Interval(IntervalUnit::MonthDayNano), DataType::FixedSizeBinary(16)) => {
            let iv = a.as_primitive::<arrow::datatypes::IntervalMonthDayNanoType>();
            let values = iv.iter().map(|v| {
                v.map(|v| {
                    let mut b = [0u8; 16];
                    b[..4].copy_from_slice(&v.months.to_le_bytes());
                    b[4..8].copy_from_slice(&v.days.to_le_bytes());
                    b[8..].copy_from_slice(&v.nanoseconds.to_le_bytes());
                    b
                })
            });
            let out = FixedSizeBinaryArray::try_from_sparse_iter_with_size(values, 16)?;
            Ok(Arc::new(out))
        }
        (DataType::FixedSizeBinary(16), DataType::Interval(IntervalUnit::MonthDayNano)) => {
            let b = a.as_fixed_size_binary();
            let out: IntervalMonthDayNanoArray = (0..b.len())
                .map(|i| {
                    b.is_valid(i).then(|| {
                        let v = b.value(i);
                        let word = |r: std::ops::Range<usize>| -> [u8; 8] {
                            let mut w = [0u8; 8];
                            w[..r.len()].copy_from_slice(&v[r]);
                            w
                        };
                        IntervalMonthDayNano::new(
                            i32::from_le_bytes([v[0], v[1], v[2], v[3]]),
                            i32::from_le_bytes([v[4], v[5], v[6], v[7]]),
                            i64::from_le_bytes(word(8..16)),
                        )
                    })
                })
                .collect();
            Ok(Arc::new(out))
        }
        _ => arrow::compute::cast(a, to).map_err(Error::from),
    }
}

#[cfg(test)]
mod tests {
    use super::{cast_column, logical_schema, storage_schema};
    use arrow::array::{ArrayRef, IntervalMonthDayNanoArray};
    use arrow::datatypes::{DataType, Field, IntervalMonthDayNano, IntervalUnit, Schema};
    use std::sync::Arc;

    #[test]
    fn intervals_round_trip_through_storage() {
        let t = DataType::Interval(IntervalUnit::MonthDayNano);
        let schema = Schema::new(vec![Field::new("iv", t.clone(), true)]);
        let stored = storage_schema(&schema).unwrap();
        assert_eq!(stored.field(0).data_type(), &DataType::FixedSizeBinary(16));
        assert_eq!(logical_schema(&stored), schema);
        let a: ArrayRef = Arc::new(IntervalMonthDayNanoArray::from(vec![
            Some(IntervalMonthDayNano::new(-1, 2, i64::MIN)),
            None,
            Some(IntervalMonthDayNano::new(14, -30, 86_400_000_000_000)),
        ]));
        let s = cast_column(&a, &DataType::FixedSizeBinary(16)).unwrap();
        assert_eq!(cast_column(&s, &t).unwrap().as_ref(), a.as_ref());
    }
}
