//! Integration tests of the DataFrame API (one test binary): every transformation and action,
//! including its errors, with results checked against the same query written in SQL; and the
//! physical planning they lean on: pre-partitioned (clustered, bucketed) data and runtime filters.

mod actions;
mod aggregate;
mod bucketing;
mod cache;
mod joins;
mod map_partitions;
mod runtime_filters;
mod sql_mix;
mod stored;
mod transform;
mod udf;
mod unnest;
mod write;

use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use flint::prelude::*;

/// A session with two small tables (with NULLs and duplicates) and 4 partitions, so the
/// parallel paths run even on tiny data.
pub fn ctx() -> SessionContext {
    let ctx = SessionContext::with_config(
        SessionConfig::default()
            .with_target_partitions(4)
            .with_batch_size(8),
    );
    ctx.execute_sql(
        "CREATE TABLE emp AS SELECT * FROM (VALUES \
           (1, 'ann', 'eng', 120, 31), (2, 'bob', 'eng', 150, 45), (3, 'cid', 'ops', 90, 28), \
           (4, 'dee', 'ops', 110, NULL), (5, 'eve', 'eng', 180, 52), (6, 'fay', NULL, 70, 23), \
           (7, 'gus', 'sales', NULL, 39), (8, 'hal', 'sales', 95, 39)) \
         t(id, name, dept, salary, age); \
         CREATE TABLE dept AS SELECT * FROM (VALUES \
           ('eng', 'Engineering', 1), ('ops', 'Operations', 2), ('hr', 'People', 3), (NULL, 'Nobody', 4)) \
         t(code, title, floor);",
    )
    .unwrap();
    ctx
}

/// The rows of batches as text, one string per row (`|`-separated, NULL as `NULL`).
pub fn rows_of(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = vec![];
    for b in batches {
        let formatters: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            let cells: Vec<String> = formatters.iter().map(|f| f.value(r).to_string()).collect();
            out.push(cells.join("|"));
        }
    }
    out
}

/// The rows of a DataFrame, sorted.
pub fn sorted_rows(df: &DataFrame) -> Vec<String> {
    let mut rows = rows_of(&df.collect().unwrap());
    rows.sort();
    rows
}

/// Asserts a DataFrame gives the same column names, types and rows (in any order) as `sql`.
#[track_caller]
pub fn assert_same_as_sql(df: &DataFrame, sql: &str) {
    let expected = df.session().sql(sql).unwrap();
    let names = |d: &DataFrame| {
        d.schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(df), names(&expected), "schema differs from: {sql}");
    assert_eq!(
        sorted_rows(df),
        sorted_rows(&expected),
        "rows differ from: {sql}"
    );
}

/// Asserts a DataFrame gives the same rows in the same order as `sql`.
#[track_caller]
pub fn assert_same_ordered(df: &DataFrame, sql: &str) {
    let expected = df.session().sql(sql).unwrap();
    assert_eq!(
        rows_of(&df.collect().unwrap()),
        rows_of(&expected.collect().unwrap()),
        "rows differ from: {sql}"
    );
}

/// Asserts `r` failed with a message containing `part`.
#[track_caller]
pub fn assert_err<T>(r: flint::Result<T>, part: &str) {
    match r {
        Ok(_) => panic!("expected an error containing {part:?}, got Ok"),
        Err(e) => assert!(
            e.message().contains(part),
            "error {:?} does not contain {part:?}",
            e.message()
        ),
    }
}
