//! TPC-H data generated in memory.
//!
//! The eight TPC-H tables are produced by the [`tpchgen`] generators (a Rust port of the official
//! `dbgen`) and converted to Arrow by [`tpchgen_arrow`]. The rows are those `tpchgen-cli` writes, so
//! results can be compared with other engines reading the same data, e.g. DuckDB over the Parquet
//! files written by [`write_parquet`].
//!
//! Column types are those of `tpchgen-arrow` except for strings: keys are `Int64` (and the small counts
//! `l_linenumber`, `p_size`, `ps_availqty`, `o_shippriority` are `Int32`), money and quantities are
//! `Decimal128(15, 2)`, dates are `Date32`, and every string column is `Utf8` (`tpchgen-arrow` emits
//! `Utf8View`, which is cast here). No column is nullable.
//!
//! Generation is parallel: each table is split into parts (`Generator::new(sf, part, part_count)`), the
//! parts are generated on the rayon pool and concatenated in part order, which gives exactly the rows of a
//! single-part generator in the same order.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow,
    RecordBatchIterator, RegionArrow, SupplierArrow,
};

use crate::error::{Error, Result};

/// Names of the TPC-H tables.
pub const TPCH_TABLES: [&str; 8] = [
    "nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem",
];

/// About how many rows one generator part produces; parts are the unit of parallel work.
const ROWS_PER_PART: f64 = 100_000.0;

/// Upper bound on the number of parts of one table.
const MAX_PARTS: i64 = 100_000;

/// Rows per Parquet row group written by [`write_parquet`]: 256 Ki rows gives several row groups per
/// large table already at SF 1 (lineitem 23, orders 6, partsupp 4) so that scans can be parallel,
/// while keeping per-row-group overhead small.
const PARQUET_ROW_GROUP_ROWS: usize = 256 * 1024;

/// Rows per record batch handed to the Parquet writer.
const PARQUET_BATCH_ROWS: usize = 64 * 1024;

/// One of the eight TPC-H tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Nation,
    Region,
    Part,
    Supplier,
    PartSupp,
    Customer,
    Orders,
    LineItem,
}

impl Table {
    /// The table called `name` (ASCII case-insensitive).
    fn from_name(name: &str) -> Result<Table> {
        let table = match name.to_ascii_lowercase().as_str() {
            "nation" => Table::Nation,
            "region" => Table::Region,
            "part" => Table::Part,
            "supplier" => Table::Supplier,
            "partsupp" => Table::PartSupp,
            "customer" => Table::Customer,
            "orders" => Table::Orders,
            "lineitem" => Table::LineItem,
            _ => {
                let hint = match crate::error::closest_name(name, TPCH_TABLES) {
                    Some(close) => format!(" (did you mean {close}?)"),
                    None => String::new(),
                };
                return Err(Error::not_found(format!(
                    "unknown TPC-H table '{name}'{hint}; the tables are {}",
                    TPCH_TABLES.join(", ")
                )));
            }
        };
        Ok(table)
    }

    /// The rows of the generator that drives the split into parts (`orders` for `lineitem`, `part`
    /// for `partsupp`), computed as `tpchgen` does.
    fn base_rows(self, sf: f64) -> i64 {
        let scale_base: f64 = match self {
            Table::Nation | Table::Region => return 1,
            Table::Part | Table::PartSupp => 200_000.0,
            Table::Supplier => 10_000.0,
            Table::Customer => 150_000.0,
            Table::Orders | Table::LineItem => 1_500_000.0,
        };
        (scale_base * sf) as i64
    }

    /// How many generated rows one base row yields on average.
    fn rows_per_base_row(self) -> f64 {
        match self {
            Table::PartSupp | Table::LineItem => 4.0,
            _ => 1.0,
        }
    }

    /// How many parts to split the generation of this table into.
    fn part_count(self, sf: f64) -> i32 {
        let base = self.base_rows(sf);
        let wanted = (base as f64 * self.rows_per_base_row() / ROWS_PER_PART).ceil() as i64;
        // Never more parts than base rows, so that no part is empty.
        let parts = wanted.min(base).clamp(1, MAX_PARTS);
        i32::try_from(parts).unwrap_or(1)
    }

    /// The `tpchgen-arrow` iterator of part `part` (1-based) of `part_count`.
    fn part_iter(
        self,
        sf: f64,
        part: i32,
        part_count: i32,
        batch_size: usize,
    ) -> Box<dyn RecordBatchIterator> {
        match self {
            Table::Nation => Box::new(
                NationArrow::new(NationGenerator::new(sf, part, part_count))
                    .with_batch_size(batch_size),
            ),
            Table::Region => Box::new(
                RegionArrow::new(RegionGenerator::new(sf, part, part_count))
                    .with_batch_size(batch_size),
            ),
            Table::Part => Box::new(
                PartArrow::new(PartGenerator::new(sf, part, part_count))
                    .with_batch_size(batch_size),
            ),
            Table::Supplier => Box::new(
                SupplierArrow::new(SupplierGenerator::new(sf, part, part_count))
                    .with_batch_size(batch_size),
            ),
            Table::PartSupp => Box::new(
                PartSuppArrow::new(PartSuppGenerator::new(sf, part, part_count))
                    .with_batch_size(batch_size),
            ),
            Table::Customer => Box::new(
                CustomerArrow::new(CustomerGenerator::new(sf, part, part_count))
                    .with_batch_size(batch_size),
            ),
            Table::Orders => Box::new(
                OrderArrow::new(OrderGenerator::new(sf, part, part_count))
                    .with_batch_size(batch_size),
            ),
            Table::LineItem => Box::new(
                LineItemArrow::new(LineItemGenerator::new(sf, part, part_count))
                    .with_batch_size(batch_size),
            ),
        }
    }

    /// The schema flint exposes: that of `tpchgen-arrow` with `Utf8View` replaced by `Utf8`.
    fn schema(self) -> SchemaRef {
        // Building the iterator only sets up the generator; rows are produced lazily.
        let generated = self.part_iter(1.0, 1, 1, 1);
        let fields: Vec<Field> = generated
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8View | DataType::LargeUtf8 => {
                    f.as_ref().clone().with_data_type(DataType::Utf8)
                }
                _ => f.as_ref().clone(),
            })
            .collect();
        Arc::new(Schema::new_with_metadata(
            fields,
            generated.schema().metadata().clone(),
        ))
    }

    /// Generates part `part` of `part_count` as batches of `schema` (strings cast to `Utf8`).
    fn generate_part(
        self,
        schema: &SchemaRef,
        sf: f64,
        part: i32,
        part_count: i32,
        batch_size: usize,
    ) -> Result<Vec<RecordBatch>> {
        self.part_iter(sf, part, part_count, batch_size)
            .map(|batch| conform(&batch, schema))
            .collect()
    }
}

/// Casts the columns of `batch` to the types of `schema` (here: `Utf8View` to `Utf8`).
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(Arc::clone(column))
            } else {
                cast(column, field.data_type()).map_err(Error::from)
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// Checks the scale factor and batch size shared by the public functions.
fn check_args(sf: f64, batch_size: usize) -> Result<()> {
    if !(sf.is_finite() && sf > 0.0) {
        return Err(Error::execution(format!(
            "TPC-H scale factor must be a positive number, got {sf}"
        )));
    }
    // Guard against absurd values: SF 100 000 would be 600 billion lineitem rows.
    if sf > 100_000.0 {
        return Err(Error::execution(format!(
            "TPC-H scale factor {sf} is too large"
        )));
    }
    if batch_size == 0 {
        return Err(Error::execution("TPC-H batch size must be at least 1"));
    }
    Ok(())
}

/// Generates one table at scale factor `sf` as record batches of about `batch_size` rows.
///
/// `name` is one of [`TPCH_TABLES`] (ASCII case-insensitive). The table is generated in parallel parts
/// on the rayon pool; the rows come out in the order of `dbgen` (by primary key). Each part ends with a
/// possibly short batch, so batches hold *at most* `batch_size` rows.
///
/// Strings are `Utf8`, decimals `Decimal128(15, 2)`, dates `Date32`, keys `Int64` (see the module docs).
///
/// # Errors
/// An unknown table name ([`ErrorKind::NotFound`](crate::error::ErrorKind::NotFound)), a scale factor that
/// is not a positive finite number, or a `batch_size` of 0.
pub fn generate_table(
    name: &str,
    sf: f64,
    batch_size: usize,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    check_args(sf, batch_size)?;
    let table = Table::from_name(name)?;
    let schema = table.schema();
    let part_count = table.part_count(sf);
    let parts = (1..=part_count)
        .into_par_iter()
        .map(|part| table.generate_part(&schema, sf, part, part_count, batch_size))
        .collect::<Result<Vec<Vec<RecordBatch>>>>()?;
    Ok((schema, parts.into_iter().flatten().collect()))
}

/// Generates all eight TPC-H tables at scale factor `sf`, in parallel (tables and parts of tables).
///
/// Returns `(name, schema, batches)` in the order of [`TPCH_TABLES`]. Memory: about 1.5 GB per unit of
/// scale factor, plus the 300 MB text pool that `tpchgen` builds once per process.
///
/// # Errors
/// As [`generate_table`].
pub fn generate_all(
    sf: f64,
    batch_size: usize,
) -> Result<Vec<(String, SchemaRef, Vec<RecordBatch>)>> {
    check_args(sf, batch_size)?;
    TPCH_TABLES
        .par_iter()
        .map(|name| {
            let (schema, batches) = generate_table(name, sf, batch_size)?;
            Ok((name.to_string(), schema, batches))
        })
        .collect()
}

/// Writes each TPC-H table at scale factor `sf` as Parquet, one file per table: `<dir>/<table>.parquet`.
///
/// The files are Snappy-compressed with dictionary encoding, page statistics and row groups of
/// 256 Ki rows, in the row order of `dbgen`; string columns are `Utf8`. `dir` is created if missing and
/// existing files are replaced. Tables are generated part by part (at most a few parts per thread in
/// memory at once), so memory stays bounded even at large scale factors. Each file is first written
/// under a temporary name and renamed when complete.
///
/// # Errors
/// Invalid `sf`, or any I/O or Parquet encoding failure (with the file name as context).
pub fn write_parquet(dir: &Path, sf: f64) -> Result<()> {
    check_args(sf, PARQUET_BATCH_ROWS)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create directory {}: {e}", dir.display())))?;
    TPCH_TABLES
        .par_iter()
        .try_for_each(|name| write_table_parquet(dir, name, sf))
}

/// Writes one table to `<dir>/<name>.parquet` (see [`write_parquet`]).
fn write_table_parquet(dir: &Path, name: &str, sf: f64) -> Result<()> {
    let table = Table::from_name(name)?;
    let path = dir.join(format!("{name}.parquet"));
    let tmp_path = dir.join(format!(".{name}.parquet.tmp"));
    let context = |e: Error| e.context(format!("writing {}", path.display()));

    let result = (|| -> Result<()> {
        let schema = table.schema();
        let file = File::create(&tmp_path)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
            .build();
        let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))?;
        let part_count = table.part_count(sf);
        // Generate a window of parts in parallel, then write them in order.
        let window = i32::try_from(rayon::current_num_threads().max(1) * 2).unwrap_or(2);
        let mut first = 1;
        while first <= part_count {
            let last = part_count.min(first.saturating_add(window - 1));
            let parts = (first..=last)
                .into_par_iter()
                .map(|part| table.generate_part(&schema, sf, part, part_count, PARQUET_BATCH_ROWS))
                .collect::<Result<Vec<Vec<RecordBatch>>>>()?;
            for batch in parts.iter().flatten() {
                writer.write(batch)?;
            }
            first = last + 1;
        }
        writer.close()?;
        std::fs::rename(&tmp_path, &path)?;
        Ok(())
    })();
    if result.is_err() {
        // Best effort: do not leave a partial temporary file behind.
        let _ = std::fs::remove_file(&tmp_path);
    }
    result.map_err(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, Int64Array, StringArray};

    fn rows(batches: &[RecordBatch]) -> usize {
        batches.iter().map(|b| b.num_rows()).sum()
    }

    #[test]
    fn row_counts_at_sf_001() {
        let expected = [
            ("nation", 25),
            ("region", 5),
            ("part", 2000),
            ("supplier", 100),
            ("partsupp", 8000),
            ("customer", 1500),
            ("orders", 15000),
            ("lineitem", 60175),
        ];
        let all = generate_all(0.01, 4096).unwrap();
        assert_eq!(all.len(), 8);
        for ((name, schema, batches), (want_name, want_rows)) in all.iter().zip(expected) {
            assert_eq!(name, want_name);
            assert_eq!(rows(batches), want_rows, "rows of {name}");
            for batch in batches {
                assert_eq!(batch.schema(), *schema);
                assert!(batch.num_rows() <= 4096);
            }
            for field in schema.fields() {
                assert_ne!(
                    field.data_type(),
                    &DataType::Utf8View,
                    "{name}.{}",
                    field.name()
                );
            }
        }
    }

    #[test]
    fn column_types() {
        let (schema, batches) = generate_table("LineItem", 0.001, 1000).unwrap();
        let ty = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
        assert_eq!(ty("l_orderkey"), DataType::Int64);
        assert_eq!(ty("l_linenumber"), DataType::Int32);
        assert_eq!(ty("l_extendedprice"), DataType::Decimal128(15, 2));
        assert_eq!(ty("l_shipdate"), DataType::Date32);
        assert_eq!(ty("l_comment"), DataType::Utf8);
        let flags = batches[0]
            .column_by_name("l_returnflag")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(flags.len(), batches[0].num_rows());
    }

    /// Splitting into parts must give exactly the rows of a single generator, in the same order.
    #[test]
    fn parts_match_single_generator() {
        let sf = 0.01;
        // nation and region ignore the part arguments (they always have 25 and 5 rows): never split.
        assert_eq!(Table::Nation.part_count(1000.0), 1);
        assert_eq!(Table::Region.part_count(1000.0), 1);
        for name in [
            "part", "supplier", "partsupp", "customer", "orders", "lineitem",
        ] {
            let table = Table::from_name(name).unwrap();
            let schema = table.schema();
            let single = table.generate_part(&schema, sf, 1, 1, 8192).unwrap();
            let split: Vec<RecordBatch> = (1..=3)
                .flat_map(|part| table.generate_part(&schema, sf, part, 3, 1000).unwrap())
                .collect();
            let a = arrow::compute::concat_batches(&schema, &single).unwrap();
            let b = arrow::compute::concat_batches(&schema, &split).unwrap();
            assert_eq!(a, b, "{name}");
        }
        // generate_table really splits lineitem at SF 0.05 (75k orders, ~300k rows).
        assert!(Table::LineItem.part_count(0.05) > 1);
        let (schema, parallel) = generate_table("lineitem", 0.05, 8192).unwrap();
        let single = Table::LineItem
            .generate_part(&schema, 0.05, 1, 1, 8192)
            .unwrap();
        assert_eq!(
            arrow::compute::concat_batches(&schema, &single).unwrap(),
            arrow::compute::concat_batches(&schema, &parallel).unwrap()
        );
    }

    #[test]
    fn bad_arguments() {
        let err = generate_table("lineitm", 0.01, 10).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::NotFound);
        assert!(err.message().contains("did you mean lineitem"), "{err}");
        assert!(generate_table("nation", 0.0, 10).is_err());
        assert!(generate_table("nation", f64::NAN, 10).is_err());
        assert!(generate_table("nation", 1.0, 0).is_err());
    }

    #[test]
    fn parquet_round_trip() {
        let dir = std::env::temp_dir().join(format!("flint_tpch_test_{}", std::process::id()));
        write_parquet(&dir, 0.001).unwrap();
        for name in TPCH_TABLES {
            let file = File::open(dir.join(format!("{name}.parquet"))).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .build()
                    .unwrap();
            let read: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
            let (schema, generated) = generate_table(name, 0.001, 1000).unwrap();
            assert_eq!(read[0].schema().fields(), schema.fields(), "{name}");
            let a = arrow::compute::concat_batches(&schema, &generated).unwrap();
            let b = arrow::compute::concat_batches(&read[0].schema(), &read).unwrap();
            assert_eq!(a.columns(), b.columns(), "{name}");
        }
        let keys = generate_table("nation", 1.0, 100).unwrap().1[0]
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .values()
            .to_vec();
        assert_eq!(keys, (0..25).collect::<Vec<i64>>());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
