//! cache/persist keep partitions and hash partitioning; co-partitioned joins and aggregations
//! skip the exchange (checked with explain).

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use flint::catalog::MemTable;
use flint::prelude::*;

use crate::{assert_same_as_sql, ctx, sorted_rows};

fn exchanges(df: &DataFrame) -> usize {
    df.explain(false, false)
        .unwrap()
        .lines()
        .filter(|l| l.contains("ExchangeExec"))
        .count()
}

#[test]
fn cached_hash_partitioned_join_twice_is_not_shuffled_again() {
    let ctx = ctx();
    let df = ctx
        .sql("SELECT x % 50 AS k, x AS v FROM generate_series(1, 2000) t(x)")
        .unwrap();
    let cached = df
        .repartition(Partitioning::Hash(vec![col("k")], 4))
        .unwrap()
        .cache()
        .unwrap();
    assert_eq!(cached.collect_partitioned().unwrap().len(), 4);
    let (a, b, c) = (
        cached.alias("a").unwrap(),
        cached.alias("b").unwrap(),
        cached.alias("c").unwrap(),
    );
    let joined = a
        .join(
            &b,
            JoinType::Inner,
            &["a.k"],
            &["b.k"],
            Some(col("a.v").lt(col("b.v"))),
        )
        .unwrap()
        .join(
            &c,
            JoinType::Inner,
            &["a.k"],
            &["c.k"],
            Some(col("c.v").eq(col("b.v"))),
        )
        .unwrap();
    let plan = joined.explain(false, false).unwrap();
    assert!(!plan.contains("ExchangeExec"), "{plan}");
    assert!(plan.matches("HashJoinExec").count() == 2, "{plan}");
    assert!(
        plan.contains("mode=Partitioned") || !plan.contains("CollectLeft"),
        "{plan}"
    );
    // the same join on uncached data shuffles
    let (ua, ub) = (df.alias("a").unwrap(), df.alias("b").unwrap());
    let uncached = ua
        .join(&ub, JoinType::Inner, &["a.k"], &["b.k"], None)
        .unwrap();
    assert!(
        exchanges(&uncached) > 0
            || uncached
                .explain(false, false)
                .unwrap()
                .contains("CollectLeft")
    );
    // results are right
    ctx.register_dataframe("src", &df).unwrap();
    assert_same_as_sql(
        &joined,
        "SELECT * FROM src a JOIN src b ON a.k = b.k AND a.v < b.v JOIN src c ON a.k = c.k AND c.v = b.v",
    );
    // grouping on the key needs no exchange either
    let grouped = cached
        .group_by(vec![col("k")])
        .unwrap()
        .agg(vec![sum(col("v")).alias("s")])
        .unwrap();
    assert_eq!(
        exchanges(&grouped),
        0,
        "{}",
        grouped.explain(false, false).unwrap()
    );
    assert_same_as_sql(&grouped, "SELECT k, sum(v) AS s FROM src GROUP BY k");
}

#[test]
fn cache_runs_once_and_keeps_names() {
    let ctx = ctx();
    let emp = ctx.table("emp").unwrap();
    let cached = emp
        .filter(col("age").gt(lit(30)))
        .unwrap()
        .persist()
        .unwrap();
    // a cached DataFrame no longer depends on its source table
    ctx.execute_sql("DELETE FROM emp").unwrap();
    assert_eq!(cached.count().unwrap(), 5);
    assert_eq!(
        cached
            .select_columns(&["emp.name"])
            .unwrap()
            .count()
            .unwrap(),
        5
    );
    assert_eq!(
        cached
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>(),
        ["id", "name", "dept", "salary", "age"]
    );
    // mixed relations are named `cached`
    let dept = ctx.table("dept").unwrap();
    let mixed = cached.cross_join(&dept).unwrap().cache().unwrap();
    assert_eq!(
        mixed
            .select_columns(&["cached.title"])
            .unwrap()
            .count()
            .unwrap(),
        20
    );
}

#[test]
fn cached_round_robin_keeps_partition_count_without_hash() {
    let ctx = ctx();
    let df = ctx
        .sql("SELECT x AS k FROM generate_series(1, 100) t(x)")
        .unwrap();
    let cached = df
        .repartition(Partitioning::RoundRobin(3))
        .unwrap()
        .cache()
        .unwrap();
    assert_eq!(cached.collect_partitioned().unwrap().len(), 3);
    let grouped = cached.group_by(vec![col("k")]).unwrap().count().unwrap();
    assert!(exchanges(&grouped) > 0, "no hash partitioning to reuse");
    assert_eq!(grouped.count().unwrap(), 100);
}

#[test]
fn hash_partitioned_mem_table_joins_without_exchange_and_takes_inserts() {
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(2));
    let batch = |ks: Vec<i64>, names: Vec<&str>| {
        RecordBatch::try_from_iter(vec![
            ("k", Arc::new(Int64Array::from(ks)) as ArrayRef),
            ("name", Arc::new(StringArray::from(names)) as ArrayRef),
        ])
        .unwrap()
    };
    let b = batch((0..40).collect(), (0..40).map(|_| "x").collect());
    let t1 = MemTable::try_new_hash_partitioned(b.schema(), vec![b.clone()], &["k"], 3).unwrap();
    let t2 = MemTable::try_new_hash_partitioned(b.schema(), vec![b.clone()], &["k"], 3).unwrap();
    assert_eq!(t1.partition_count(), 3);
    assert_eq!(t1.hash_keys(), Some(&[0usize][..]));
    ctx.register_table("t1", Arc::new(t1)).unwrap();
    ctx.register_table("t2", Arc::new(t2)).unwrap();
    let q = "SELECT t1.k, t2.name FROM t1 JOIN t2 ON t1.k = t2.k";
    let df = ctx.sql(q).unwrap();
    assert_eq!(exchanges(&df), 0, "{}", df.explain(false, false).unwrap());
    assert_eq!(df.count().unwrap(), 40);
    // inserted rows are placed by the same hash, so the join stays right
    ctx.execute_sql(
        "INSERT INTO t1 VALUES (5, 'new'), (77, 'other'); INSERT INTO t2 VALUES (77, 'y')",
    )
    .unwrap();
    let df = ctx.sql(q).unwrap();
    assert_eq!(exchanges(&df), 0);
    assert_eq!(df.count().unwrap(), 42);
    let rows = sorted_rows(
        &ctx.sql("SELECT t1.name FROM t1 JOIN t2 ON t1.k = t2.k WHERE t1.k = 77")
            .unwrap(),
    );
    assert_eq!(rows, ["other"]);
    // errors
    assert!(MemTable::try_new_hash_partitioned(b.schema(), vec![], &["zz"], 2).is_err());
    assert!(MemTable::try_new_hash_partitioned(b.schema(), vec![], &["k"], 0).is_err());
    assert!(MemTable::try_new_hash_partitioned(b.schema(), vec![], &[], 2).is_err());
}
