//! `write_parquet` / `write_csv`: what is written reads back as the same rows as the SQL query,
//! options take effect, and bad targets are clear errors that leave nothing behind.

use flint::prelude::*;

use crate::{ctx, sorted_rows};

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn write_parquet_round_trips_with_nulls_and_duplicates() {
    let ctx = ctx();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emp").display().to_string();
    let df = ctx.table("emp").unwrap();
    let written = df.write_parquet(&out, WriteOptions::default()).unwrap();
    assert_eq!(written.rows, 8);
    assert!(!written.files.is_empty());
    let back = ctx.read_parquet(&out).unwrap();
    assert_eq!(sorted_rows(&back), sorted_rows(&df));
    assert_eq!(back.schema().fields().len(), 5);
}

#[test]
fn write_parquet_partitions_by_column_and_splits_files() {
    let ctx = ctx();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("by_dept").display().to_string();
    let df = ctx.table("emp").unwrap();
    let options = WriteOptions::parquet()
        .with_partition_by(&["dept"])
        .with_compression("zstd")
        .with_max_file_rows(1);
    df.write_parquet(&out, options).unwrap();
    let files = files_under(std::path::Path::new(&out));
    assert!(
        files.iter().any(|f| f.starts_with("dept=eng/")),
        "{files:?}"
    );
    // one row per file: eight files over the dept folders (NULL dept included)
    assert_eq!(files.len(), 8, "{files:?}");
    let back = ctx
        .read_parquet(&out)
        .unwrap()
        .select(vec![
            col("id"),
            col("name"),
            col("dept"),
            col("salary"),
            col("age"),
        ])
        .unwrap();
    assert_eq!(sorted_rows(&back), sorted_rows(&df));
}

#[test]
fn write_csv_of_an_aggregate_reads_back_as_the_sql_result() {
    let ctx = ctx();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("totals.csv").display().to_string();
    let totals = ctx
        .table("emp")
        .unwrap()
        .group_by(vec![col("dept")])
        .unwrap()
        .agg(vec![count_all().alias("n")])
        .unwrap();
    let written = totals.write_csv(&out, WriteOptions::csv()).unwrap();
    assert_eq!(written.rows, 4);
    let back = ctx.read_csv(&out, CsvOptions::default()).unwrap();
    let expected = ctx
        .sql("SELECT dept, count(*) AS n FROM emp GROUP BY dept")
        .unwrap();
    assert_eq!(sorted_rows(&back), sorted_rows(&expected));
}

#[test]
fn write_to_an_existing_target_needs_overwrite() {
    let ctx = ctx();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emp.parquet").display().to_string();
    let df = ctx.table("emp").unwrap();
    df.write_parquet(&out, WriteOptions::default()).unwrap();
    let err = df
        .limit(2)
        .unwrap()
        .write_parquet(&out, WriteOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("emp.parquet"), "{err}");
    // the first write is intact
    assert_eq!(ctx.read_parquet(&out).unwrap().count().unwrap(), 8);
    df.limit(2)
        .unwrap()
        .write_parquet(&out, WriteOptions::default().with_overwrite(true))
        .unwrap();
    assert_eq!(ctx.read_parquet(&out).unwrap().count().unwrap(), 2);
}

#[test]
fn a_failing_query_writes_nothing() {
    let ctx = ctx();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bad").display().to_string();
    // division by zero on the last row fails the query after earlier rows were produced
    let df = ctx.sql("SELECT id, 10 / (8 - id) AS x FROM emp").unwrap();
    let err = df.write_parquet(&out, WriteOptions::default()).unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("division by zero"),
        "{err}"
    );
    assert!(
        !std::path::Path::new(&out).exists() || files_under(std::path::Path::new(&out)).is_empty(),
        "partial output left: {:?}",
        files_under(std::path::Path::new(&out))
    );
}

#[test]
fn bad_write_options_are_clear_errors() {
    let ctx = ctx();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x").display().to_string();
    let df = ctx.table("emp").unwrap();
    let err = df
        .write_parquet(&out, WriteOptions::parquet().with_partition_by(&["nope"]))
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    let err = df
        .write_parquet(&out, WriteOptions::parquet().with_compression("lzma9"))
        .unwrap_err();
    assert!(err.to_string().contains("lzma9"), "{err}");
}
