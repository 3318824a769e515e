//! collect, collect_partitioned, count, show, take, first, explain, execute_stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, Int64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;
use flint::prelude::*;

use crate::{assert_err, ctx, rows_of, sorted_rows};

#[test]
fn collect_count_and_partitions_agree() {
    let ctx = ctx();
    let df = ctx
        .sql("SELECT * FROM generate_series(1, 100) t(x)")
        .unwrap();
    let all: usize = df.collect().unwrap().iter().map(|b| b.num_rows()).sum();
    assert_eq!(all, 100);
    assert_eq!(df.count().unwrap(), 100);
    let parts = df.collect_partitioned().unwrap();
    assert!(
        parts.len() > 1,
        "4 target partitions over 100 rows with batch size 8"
    );
    let in_parts: usize = parts.iter().flatten().map(|b| b.num_rows()).sum();
    assert_eq!(in_parts, 100);
    // count() aggregates instead of collecting the rows
    let plan = df
        .aggregate(vec![], vec![count_all().alias("count")])
        .unwrap()
        .explain(false, false)
        .unwrap();
    assert!(plan.contains("HashAggregateExec"));
    assert_eq!(
        df.filter(col("x").gt(lit(1000))).unwrap().count().unwrap(),
        0
    );
}

#[test]
fn take_first_and_rows() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let sorted = emp.sort(vec![col("id").sort(false, false)]).unwrap();
    let rows = sorted.take(3).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].get_by_name("name"), Some(&ScalarValue::from("hal")));
    assert_eq!(rows[2].get(0), Some(&ScalarValue::Int64(Some(6))));
    assert_eq!(rows[2].to_string(), "(6, fay, NULL, 70, 23)");
    assert_eq!(rows[0].values().len(), 5);
    assert_eq!(rows[0].schema().field(1).name(), "name");
    assert!(rows[0].get_by_name("nope").is_none());
    assert_eq!(sorted.take(100).unwrap().len(), 8);
    assert_eq!(sorted.first().unwrap().unwrap(), rows[0]);
    assert!(emp.filter(lit(false)).unwrap().first().unwrap().is_none());
}

#[test]
fn show_formats_a_table() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let text = emp
        .sort(vec![col("id").sort(true, false)])
        .unwrap()
        .select_columns(&["id", "dept"])
        .unwrap()
        .to_pretty_string(Some(6))
        .unwrap();
    let expected = "\
+----+------+
| id | dept |
+----+------+
| 1  | eng  |
| 2  | eng  |
| 3  | ops  |
| 4  | ops  |
| 5  | eng  |
| 6  | NULL |
+----+------+";
    assert_eq!(text, expected);
    // an empty result still shows its header
    let empty = emp
        .filter(lit(false))
        .unwrap()
        .select_columns(&["id"])
        .unwrap();
    assert!(empty.to_pretty_string(None).unwrap().contains("| id |"));
    emp.show().unwrap();
    emp.show_limit(2).unwrap();
}

#[test]
fn explain_variants() {
    let ctx = ctx();
    let df = ctx
        .table("emp")
        .unwrap()
        .filter(col("age").gt(lit(30)))
        .unwrap()
        .select_columns(&["name"])
        .unwrap();
    let plain = df.explain(false, false).unwrap();
    assert!(plain.contains("== Logical Plan ==") && plain.contains("== Physical Plan =="));
    assert!(
        plain.contains("TableScan: emp projection=[name, age]"),
        "{plain}"
    );
    let verbose = df.explain(true, false).unwrap();
    assert!(verbose.contains("== Initial Logical Plan =="));
    assert!(verbose.contains("== After push_down_projection"));
    let analyzed = df.explain(false, true).unwrap();
    assert!(analyzed.contains("executed: 5 rows"), "{analyzed}");
}

#[test]
fn execute_stream_matches_collect_in_order() {
    let ctx = ctx();
    let df = ctx
        .sql("SELECT x, x * 2 AS y FROM generate_series(1, 1000) t(x) WHERE x % 3 <> 0")
        .unwrap();
    let stream = df.execute_stream().unwrap();
    assert_eq!(stream.schema().field(1).name(), "y");
    let streamed: Vec<RecordBatch> = stream.collect::<flint::Result<_>>().unwrap();
    assert_eq!(rows_of(&streamed), rows_of(&df.collect().unwrap()));
    // a sorted result streams in order too
    let sorted = df.sort(vec![col("y").sort(false, true)]).unwrap();
    let streamed: Vec<RecordBatch> = sorted
        .execute_stream()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    assert_eq!(rows_of(&streamed), rows_of(&sorted.collect().unwrap()));
    // errors surface as items
    let failing = ctx
        .sql("SELECT 10 / (x - 500) AS z FROM generate_series(1, 1000) t(x)")
        .unwrap();
    let results: Vec<flint::Result<RecordBatch>> = failing.execute_stream().unwrap().collect();
    assert!(results.iter().any(|r| r.is_err()));
}

/// A source of `total` batches of `rows` rows per partition that counts the batches it made.
fn counting_source(
    ctx: &SessionContext,
    produced: Arc<AtomicUsize>,
    total: usize,
    rows: usize,
) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let seed = ctx.sql("SELECT * FROM generate_series(1, 4) t(x)").unwrap();
    let seed = seed.repartition(Partitioning::RoundRobin(4)).unwrap();
    let out = schema.clone();
    seed.map_partitions(schema, move |p, _input| {
        let produced = produced.clone();
        let out = out.clone();
        Ok((0..total).map(move |i| {
            produced.fetch_add(1, Ordering::SeqCst);
            let v: ArrayRef = Arc::new(Int64Array::from(vec![(p * total + i) as i64; rows]));
            Ok(RecordBatch::try_new(out.clone(), vec![v])?)
        }))
    })
    .unwrap()
}

#[test]
fn execute_stream_is_bounded_and_stops_when_dropped() {
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(4));
    let produced = Arc::new(AtomicUsize::new(0));
    // 4 partitions x 100,000 batches x 1,000 rows: 400 million rows if it were materialized
    let df = counting_source(&ctx, produced.clone(), 100_000, 1000)
        .select(vec![(col("v") + lit(1)).alias("w")])
        .unwrap();
    let mut stream = df.execute_stream().unwrap();
    let mut rows = 0;
    for _ in 0..50 {
        rows += stream.next().unwrap().unwrap().num_rows();
    }
    assert_eq!(rows, 50_000);
    drop(stream);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let made = produced.load(Ordering::SeqCst);
    // 50 consumed, plus at most a couple buffered per running partition
    assert!(made < 50 + 4 * 4, "produced {made} batches for 50 consumed");
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(
        produced.load(Ordering::SeqCst),
        made,
        "producers stop once the stream is dropped"
    );
}

#[test]
fn collect_cancellable_stops() {
    let ctx = ctx();
    let cancel = flint::runtime::CancellationToken::new();
    cancel.cancel();
    let df = ctx
        .sql("SELECT * FROM generate_series(1, 100) t(x)")
        .unwrap();
    assert_err(df.collect_cancellable(&cancel), "cancel");
    assert_eq!(sorted_rows(&df).len(), 100);
}
