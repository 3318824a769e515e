//! Bucketed Parquet: `COPY (query) TO 'dir' (FORMAT parquet, BUCKET_BY (k), BUCKETS n)` places
//! each row in bucket `hash(k) % n` — the placement of a hash exchange into `n` partitions — and
//! writes one file per bucket, recording the bucket spec in each file's key-value metadata:
//!
//! ```text
//!  flint.bucketing = {"version":1,"hash":"flint-1-<fingerprint>","columns":["k"],
//!                     "types":["Int64"],"count":n,"bucket":i}
//! ```
//! A table over such a folder reads bucket `i` as partition `i` and declares
//! `Partitioning::Hash(k, n)`, so joins and aggregations on `k` need no exchange. The `hash`
//! entry names the hash function by a fingerprint of its output on fixed values: files written by
//! a build whose hash differs (another version of the hash crate, another platform) read back as
//! unbucketed, as do folders with a file lacking the spec or with specs that disagree.

use std::sync::Arc;
use std::sync::OnceLock;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    StringArray,
};
use arrow::datatypes::{DataType, Schema};
use parquet::file::metadata::KeyValue;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::exec::ExecutionPlan;
use crate::exec::exchange::{ExchangeExec, ExchangeMode, partition_hashes};
use crate::io::parquet::read::normalize_type;
use crate::physical::Partitioning;
use crate::physical::partitioning::key_forms;
use crate::physical_expr::PhysicalExprRef;
use crate::physical_expr::column::ColumnExpr;

/// The key of the bucket spec in a Parquet file's key-value metadata.
pub const BUCKETING_KEY: &str = "flint.bucketing";

/// Version of the placement rule (`hash(keys) % n` with flint's partition hash).
const SCHEME_VERSION: u32 = 1;

/// The bucket spec one file records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBucket {
    /// Version of the placement rule.
    pub version: u32,
    /// The hash function's fingerprint (see [`hash_scheme`]).
    pub hash: String,
    /// Bucket columns, in hashing order.
    pub columns: Vec<String>,
    /// Their Arrow types as flint computes on them (hashes depend on the type).
    pub types: Vec<String>,
    /// Number of buckets.
    pub count: usize,
    /// This file's bucket.
    pub bucket: usize,
}

/// How a folder of files is bucketed: the spec all files share, and each file's bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketLayout {
    /// Bucket columns, in hashing order.
    pub columns: Vec<String>,
    /// Number of buckets.
    pub count: usize,
    /// Per file (in listing order), its bucket.
    pub file_buckets: Vec<usize>,
}

/// The name of the hash scheme this build places rows by: the version and a fingerprint of the
/// partition hash over fixed values of several types and a multi-column key.
pub fn hash_scheme() -> &'static str {
    static SCHEME: OnceLock<String> = OnceLock::new();
    SCHEME.get_or_init(|| match fingerprint() {
        Ok(f) => format!("flint-{SCHEME_VERSION}-{f:016x}"),
        // a hash that cannot run on its own probe values cannot place rows either
        Err(_) => format!("flint-{SCHEME_VERSION}-unavailable"),
    })
}

fn fingerprint() -> Result<u64> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![
            Some(0),
            Some(1),
            Some(-1),
            Some(i64::MAX),
            None,
        ])),
        Arc::new(Int32Array::from(vec![
            Some(7),
            None,
            Some(-7),
            Some(0),
            Some(1 << 20),
        ])),
        Arc::new(StringArray::from(vec![
            Some(""),
            Some("flint"),
            None,
            Some("bucket"),
            Some("ünïcode"),
        ])),
        Arc::new(Float64Array::from(vec![
            0.5,
            -2.25,
            1e300,
            0.0,
            f64::MIN_POSITIVE,
        ])),
        Arc::new(Date32Array::from(vec![0, 19000, -1, 1, 365])),
        Arc::new(
            Decimal128Array::from(vec![12345, -1, 0, i128::MAX, 7])
                .with_precision_and_scale(38, 2)?,
        ),
        Arc::new(BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
            Some(true),
            Some(false),
        ])),
    ];
    let mut hashes = vec![];
    let mut acc: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |h: u64| {
        for b in h.to_le_bytes() {
            acc ^= b as u64;
            acc = acc.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for c in &columns {
        partition_hashes(std::slice::from_ref(c), &mut hashes)?;
        hashes.iter().for_each(|h| mix(*h));
    }
    partition_hashes(&columns, &mut hashes)?;
    hashes.iter().for_each(|h| mix(*h));
    Ok(acc)
}

/// The type name recorded for a bucket column.
fn type_name(t: &DataType) -> String {
    normalize_type(t).to_string()
}

/// The key-value metadata entry of bucket `bucket` of `count`, bucketed by `columns` of `schema`.
pub fn bucket_metadata(
    schema: &Schema,
    columns: &[String],
    count: usize,
    bucket: usize,
) -> Result<KeyValue> {
    let types = columns
        .iter()
        .map(|c| Ok(type_name(schema.field_with_name(c)?.data_type())))
        .collect::<Result<Vec<_>>>()?;
    let spec = FileBucket {
        version: SCHEME_VERSION,
        hash: hash_scheme().to_string(),
        columns: columns.to_vec(),
        types,
        count,
        bucket,
    };
    let text =
        serde_json::to_string(&spec).map_err(|e| Error::internal(format!("bucket spec: {e}")))?;
    Ok(KeyValue::new(BUCKETING_KEY.to_string(), text))
}

/// The bucket spec a file's key-value metadata records, if any (and well-formed).
pub fn file_bucket(kv: Option<&Vec<KeyValue>>) -> Option<FileBucket> {
    let entry = kv?.iter().find(|e| e.key == BUCKETING_KEY)?;
    serde_json::from_str(entry.value.as_deref()?).ok()
}

/// The layout of files with these recorded specs, read as a table of `schema`: `None` unless
/// every file has a spec, all specs agree (columns, types, count, version, this build's hash),
/// every bucket number is in range, and the table has the bucket columns with the recorded types
/// (and they are not `excluded`, e.g. Hive partition columns).
pub fn bucket_layout(
    specs: &[Option<FileBucket>],
    schema: &Schema,
    excluded: &[String],
) -> Option<BucketLayout> {
    let first = specs.first()?.as_ref()?;
    if first.version != SCHEME_VERSION
        || first.hash != hash_scheme()
        || first.count == 0
        || first.columns.is_empty()
        || first.columns.len() != first.types.len()
    {
        return None;
    }
    for (c, t) in first.columns.iter().zip(&first.types) {
        let field = schema.field_with_name(c).ok()?;
        if excluded.contains(c) || type_name(field.data_type()) != *t {
            return None;
        }
    }
    let mut file_buckets = Vec::with_capacity(specs.len());
    for s in specs {
        let s = s.as_ref()?;
        if s.bucket >= first.count
            || s.count != first.count
            || s.columns != first.columns
            || s.types != first.types
            || s.hash != first.hash
            || s.version != first.version
        {
            return None;
        }
        file_buckets.push(s.bucket);
    }
    Some(BucketLayout {
        columns: first.columns.clone(),
        count: first.count,
        file_buckets,
    })
}

/// `plan` with its rows placed in `count` buckets by `columns`: a hash exchange on top, unless
/// the plan is already partitioned exactly that way (a bucketed table copied with the same spec).
pub fn bucketed_plan(
    plan: &Arc<dyn ExecutionPlan>,
    columns: &[String],
    count: usize,
) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = plan.schema();
    let keys = columns
        .iter()
        .map(|c| {
            let i = schema.index_of(c).map_err(|_| {
                Error::not_found(format!(
                    "BUCKET_BY column \"{c}\" is not a column of the result (columns: {})",
                    schema
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            Ok(Arc::new(ColumnExpr::of_field(i, schema.field(i))) as PhysicalExprRef)
        })
        .collect::<Result<Vec<_>>>()?;
    if let Partitioning::Hash(exprs, n) = plan.output_partitioning()
        && n == count
        && exprs.len() == keys.len()
        && exprs
            .iter()
            .zip(&keys)
            .all(|(e, k)| key_forms(e).iter().any(|f| f.to_string() == k.to_string()))
    {
        return Ok(plan.clone());
    }
    Ok(Arc::new(ExchangeExec::new(
        plan.clone(),
        ExchangeMode::Hash(keys, count),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ])
    }

    fn spec(bucket: usize) -> Option<FileBucket> {
        let kv = bucket_metadata(&schema(), &["k".to_string()], 4, bucket).unwrap();
        file_bucket(Some(&vec![kv]))
    }

    #[test]
    fn the_scheme_is_stable_within_a_build() {
        assert_eq!(hash_scheme(), hash_scheme());
        assert!(hash_scheme().starts_with("flint-1-"), "{}", hash_scheme());
        assert!(!hash_scheme().ends_with("unavailable"));
    }

    #[test]
    fn agreeing_specs_give_a_layout() {
        let specs = vec![spec(2), spec(0), spec(2)];
        let layout = bucket_layout(&specs, &schema(), &[]).unwrap();
        assert_eq!(layout.columns, ["k"]);
        assert_eq!(layout.count, 4);
        assert_eq!(layout.file_buckets, [2, 0, 2]);
    }

    #[test]
    fn missing_or_disagreeing_specs_give_none() {
        assert!(bucket_layout(&[spec(0), None], &schema(), &[]).is_none());
        assert!(bucket_layout(&[], &schema(), &[]).is_none());
        let mut other_count = spec(1).unwrap();
        other_count.count = 8;
        assert!(bucket_layout(&[spec(0), Some(other_count)], &schema(), &[]).is_none());
        let mut other_hash = spec(1).unwrap();
        other_hash.hash = "flint-1-0000000000000000".into();
        assert!(bucket_layout(&[Some(other_hash)], &schema(), &[]).is_none());
        let mut out_of_range = spec(1).unwrap();
        out_of_range.bucket = 4;
        assert!(bucket_layout(&[Some(out_of_range)], &schema(), &[]).is_none());
        // the table's column has another type, or is a Hive partition column
        let int32 = Schema::new(vec![Field::new("k", DataType::Int32, true)]);
        assert!(bucket_layout(&[spec(0)], &int32, &[]).is_none());
        assert!(bucket_layout(&[spec(0)], &schema(), &["k".to_string()]).is_none());
        // garbage metadata is no spec
        let kv = KeyValue::new(BUCKETING_KEY.to_string(), "{not json".to_string());
        assert!(file_bucket(Some(&vec![kv])).is_none());
    }
}
