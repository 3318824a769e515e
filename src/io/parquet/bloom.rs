//! Bloom-filter pruning: for `col = literal` and `col IN (literals)`, a row group whose column
//! chunk has a bloom filter that holds none of the values cannot match. Checked after statistics
//! pruning, on the row groups still left, fetching only the filters (a few KB each).

use arrow::datatypes::{DataType, Schema};
use datafusion_common::ScalarValue;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::bloom_filter::Sbbf;

use crate::error::{Error, Result};
use crate::io::fetch::ObjectReader;
use crate::logical::expr::{BinaryOp, Expr};

/// A value as Parquet hashes it into a bloom filter (its plain encoding).
#[derive(Debug, Clone, PartialEq)]
enum BloomValue {
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Bytes(Vec<u8>),
}

impl BloomValue {
    fn check(&self, filter: &Sbbf) -> bool {
        match self {
            BloomValue::I32(v) => filter.check(v),
            BloomValue::I64(v) => filter.check(v),
            BloomValue::F32(v) => filter.check(v),
            BloomValue::F64(v) => filter.check(v),
            BloomValue::Bytes(v) => filter.check(v.as_slice()),
        }
    }
}

/// One conjunct's test against a column's bloom filters: the row group may match if the filter
/// holds any of `values`.
#[derive(Debug, Clone)]
pub struct BloomProbe {
    /// Parquet leaf column index.
    column: usize,
    values: Vec<BloomValue>,
}

fn to_bloom_value(v: &ScalarValue, t: &DataType) -> Option<BloomValue> {
    if v.is_null() {
        return None;
    }
    let v = v.cast_to(t).ok()?;
    Some(match v {
        ScalarValue::Int8(Some(x)) => BloomValue::I32(x as i32),
        ScalarValue::Int16(Some(x)) => BloomValue::I32(x as i32),
        ScalarValue::Int32(Some(x)) => BloomValue::I32(x),
        ScalarValue::Date32(Some(x)) => BloomValue::I32(x),
        ScalarValue::Int64(Some(x)) => BloomValue::I64(x),
        ScalarValue::Float32(Some(x)) => BloomValue::F32(x),
        ScalarValue::Float64(Some(x)) => BloomValue::F64(x),
        ScalarValue::Utf8(Some(s)) => BloomValue::Bytes(s.into_bytes()),
        ScalarValue::Binary(Some(b)) => BloomValue::Bytes(b),
        _ => return None,
    })
}

fn eq_values(e: &Expr) -> Option<(String, Vec<ScalarValue>)> {
    match e {
        Expr::Binary(l, BinaryOp::Eq, r) => match (l.unaliased(), r.unaliased()) {
            (Expr::Column(c), Expr::Literal(v)) | (Expr::Literal(v), Expr::Column(c)) => {
                Some((c.name.clone(), vec![v.clone()]))
            }
            _ => None,
        },
        Expr::InList {
            expr,
            list,
            negated: false,
        } => {
            let Expr::Column(c) = expr.unaliased() else {
                return None;
            };
            let values = list
                .iter()
                .map(|i| match i.unaliased() {
                    Expr::Literal(v) => Some(v.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some((c.name.clone(), values))
        }
        _ => None,
    }
}

/// The bloom-filter tests `conjuncts` allow on a file with these schemas.
pub fn bloom_probes(
    conjuncts: &[Expr],
    arrow_schema: &Schema,
    parquet_schema: &parquet::schema::types::SchemaDescriptor,
) -> Vec<BloomProbe> {
    let mut out = vec![];
    for c in conjuncts {
        let Some((col, values)) = eq_values(c) else {
            continue;
        };
        let Ok((_, field)) = arrow_schema.column_with_name(&col).ok_or(()) else {
            continue;
        };
        let Ok(conv) = StatisticsConverter::try_new(&col, arrow_schema, parquet_schema) else {
            continue;
        };
        let Some(column) = conv.parquet_column_index() else {
            continue;
        };
        let Some(values) = values
            .iter()
            .map(|v| to_bloom_value(v, field.data_type()))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        out.push(BloomProbe { column, values });
    }
    out
}

/// Which of `row_groups` may hold matching rows according to their bloom filters.
pub async fn prune_by_bloom_filters(
    reader: ObjectReader,
    metadata: ArrowReaderMetadata,
    row_groups: &[usize],
    probes: &[BloomProbe],
) -> Result<Vec<bool>> {
    let display = reader.display().to_string();
    let meta = metadata.metadata().clone();
    let mut builder = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, metadata);
    let mut keep = vec![true; row_groups.len()];
    for (i, rg) in row_groups.iter().enumerate() {
        for p in probes {
            if meta
                .row_group(*rg)
                .column(p.column)
                .bloom_filter_offset()
                .is_none()
            {
                continue;
            }
            let filter = builder
                .get_row_group_column_bloom_filter(*rg, p.column)
                .await
                .map_err(|e| {
                    Error::from(e).context(format!("reading a bloom filter of {display}"))
                })?;
            if let Some(f) = filter
                && !p.values.iter().any(|v| v.check(&f))
            {
                keep[i] = false;
                break;
            }
        }
    }
    Ok(keep)
}
