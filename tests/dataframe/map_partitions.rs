//! map_partitions and map_batches: once per partition, in parallel, schema checks, errors.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, AsArray, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use flint::prelude::*;

use crate::{assert_err, assert_same_as_sql, ctx, sorted_rows};

fn numbers(ctx: &SessionContext) -> DataFrame {
    ctx.sql("SELECT * FROM generate_series(1, 400) t(x)")
        .unwrap()
        .repartition(Partitioning::RoundRobin(4))
        .unwrap()
}

#[test]
fn map_partitions_sets_up_once_per_partition_in_parallel() {
    let ctx = ctx();
    let setups = Arc::new(AtomicUsize::new(0));
    let seen_partitions = Arc::new(Mutex::new(HashSet::new()));
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Int64, false),
        Field::new("part", DataType::Int64, false),
    ]));
    let out = schema.clone();
    let (s, p, t) = (setups.clone(), seen_partitions.clone(), threads.clone());
    let df = numbers(&ctx)
        .map_partitions(schema, move |partition, batches| {
            s.fetch_add(1, Ordering::SeqCst);
            // slow setup, so idle workers pick up the other partitions
            std::thread::sleep(std::time::Duration::from_millis(50));
            p.lock().unwrap().insert(partition);
            t.lock().unwrap().insert(std::thread::current().id());
            let out = out.clone();
            Ok(batches.map(move |b| {
                let b = b?;
                let part: ArrayRef =
                    Arc::new(Int64Array::from(vec![partition as i64; b.num_rows()]));
                Ok(RecordBatch::try_new(
                    out.clone(),
                    vec![b.column(0).clone(), part],
                )?)
            }))
        })
        .unwrap();
    let result = df.collect().unwrap();
    assert_eq!(result.iter().map(|b| b.num_rows()).sum::<usize>(), 400);
    assert_eq!(setups.load(Ordering::SeqCst), 4, "one setup per partition");
    assert_eq!(
        *seen_partitions.lock().unwrap(),
        HashSet::from([0, 1, 2, 3])
    );
    assert!(
        threads.lock().unwrap().len() > 1,
        "partitions ran on several workers"
    );
    // downstream operators work on the output
    let per_part = df.group_by(vec![col("part")]).unwrap().count().unwrap();
    assert_eq!(per_part.count().unwrap(), 4);
    assert!(
        df.explain(false, false)
            .unwrap()
            .contains("MapPartitionsExec: map_partitions -> [x, part]")
    );
}

#[test]
fn map_batches_transforms_each_batch() {
    let ctx = ctx();
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Int64, false),
        Field::new("label", DataType::Utf8, false),
    ]));
    let out = schema.clone();
    let df = numbers(&ctx)
        .map_batches(schema, move |b| {
            let x = b.column(0).as_primitive::<Int64Type>();
            let label: StringArray = x.iter().map(|v| v.map(|v| format!("n{v}"))).collect();
            Ok(RecordBatch::try_new(
                out.clone(),
                vec![b.column(0).clone(), Arc::new(label)],
            )?)
        })
        .unwrap()
        .filter(col("x").lt_eq(lit(3)))
        .unwrap();
    assert_eq!(sorted_rows(&df), ["1|n1", "2|n2", "3|n3"]);
    ctx.register_dataframe("mapped", &df).unwrap();
    assert_same_as_sql(
        &df,
        "SELECT x, 'n' || CAST(x AS VARCHAR) AS label FROM generate_series(1, 3) t(x)",
    );
    assert_eq!(
        ctx.sql("SELECT count(*) FROM mapped")
            .unwrap()
            .first()
            .unwrap()
            .unwrap()
            .to_string(),
        "(3)"
    );
}

#[test]
fn wrong_output_errors_and_panics_become_errors() {
    let ctx = ctx();
    let df = numbers(&ctx);
    let declared = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, true)]));
    let wrong = df.map_batches(declared, Ok).unwrap();
    assert_err(
        wrong.collect(),
        "returned a batch with columns (x Int64), but its declared schema is (s Utf8)",
    );
    let not_null = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
    let nulls = df
        .map_batches(not_null.clone(), move |b| {
            let v: ArrayRef = Arc::new(Int64Array::from(vec![None; b.num_rows()]));
            Ok(RecordBatch::try_new(
                Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)])),
                vec![v],
            )?)
        })
        .unwrap();
    assert_err(nulls.collect(), "declared NOT NULL");
    let failing = df
        .map_partitions(
            df.schema(),
            |p, _batches| -> flint::Result<std::vec::IntoIter<flint::Result<RecordBatch>>> {
                Err(Error::execution(format!("no client for partition {p}")))
            },
        )
        .unwrap();
    assert_err(failing.collect(), "no client for partition");
    let panicking = df
        .map_batches(df.schema(), |_b| -> flint::Result<RecordBatch> {
            panic!("scorer crashed")
        })
        .unwrap();
    assert_err(panicking.collect(), "map_batches panicked in partition");
    assert_err(panicking.collect(), "scorer crashed");
    let empty = Arc::new(Schema::empty());
    assert_err(df.map_batches(empty, Ok), "at least one column");
}
