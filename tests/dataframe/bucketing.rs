//! Pre-partitioned data: tables created `CLUSTERED BY (k) INTO n BUCKETS` and bucketed Parquet
//! written by `COPY ... (BUCKET_BY (k), BUCKETS n)` are placed by the same hash as an exchange,
//! so joins and aggregations on `k` plan no exchange (checked with EXPLAIN), mixed cases shuffle
//! only the other side, and results match unpartitioned data.

use flint::io::write::WriteOptions;
use flint::prelude::*;

use crate::{assert_err, rows_of, sorted_rows};

fn session() -> SessionContext {
    let ctx = SessionContext::with_config(
        SessionConfig::default()
            .with_target_partitions(4)
            .with_batch_size(64),
    );
    ctx.execute_sql(
        "SET broadcast_rows_threshold = 0; \
         CREATE TABLE src_a AS SELECT x % 97 AS k, x AS v FROM generate_series(1, 3000) t(x); \
         CREATE TABLE src_b AS SELECT x % 89 AS k, CAST(x AS VARCHAR) AS s FROM generate_series(1, 2000) t(x);",
    )
    .unwrap();
    ctx
}

fn plan(ctx: &SessionContext, sql: &str) -> String {
    ctx.sql(sql).unwrap().explain(false, false).unwrap()
}

fn exchanges(plan: &str) -> Vec<&str> {
    plan.lines()
        .filter(|l| l.contains("ExchangeExec"))
        .collect()
}

fn same_rows(ctx: &SessionContext, sql: &str, expected_sql: &str) {
    assert_eq!(
        sorted_rows(&ctx.sql(sql).unwrap()),
        sorted_rows(&ctx.sql(expected_sql).unwrap()),
        "{sql}"
    );
}

const JOIN: &str = "SELECT a.k, a.v, b.s FROM a JOIN b ON a.k = b.k";
const PLAIN_JOIN: &str = "SELECT a.k, a.v, b.s FROM src_a a JOIN src_b b ON a.k = b.k";
const AGG: &str = "SELECT k, count(*), sum(v) FROM a GROUP BY k";
const PLAIN_AGG: &str = "SELECT k, count(*), sum(v) FROM src_a GROUP BY k";

#[test]
fn clustered_tables_join_and_aggregate_without_exchange() {
    let ctx = session();
    ctx.execute_sql(
        "CREATE TABLE a CLUSTERED BY (k) INTO 4 BUCKETS AS SELECT * FROM src_a; \
         CREATE TABLE b CLUSTERED BY (k) INTO 4 BUCKETS AS SELECT * FROM src_b;",
    )
    .unwrap();
    let p = plan(&ctx, JOIN);
    assert!(exchanges(&p).is_empty(), "{p}");
    assert!(p.contains("HashJoinExec: Inner Partitioned"), "{p}");
    same_rows(&ctx, JOIN, PLAIN_JOIN);
    let p = plan(&ctx, AGG);
    assert!(exchanges(&p).is_empty(), "{p}");
    assert!(p.contains("mode=Single"), "{p}");
    same_rows(&ctx, AGG, PLAIN_AGG);
    // join then aggregate on the key: still no exchange
    let q = "SELECT a.k, count(*), max(b.s) FROM a JOIN b ON a.k = b.k GROUP BY a.k";
    let p = plan(&ctx, q);
    assert!(exchanges(&p).is_empty(), "{p}");
    same_rows(
        &ctx,
        q,
        "SELECT a.k, count(*), max(b.s) FROM src_a a JOIN src_b b ON a.k = b.k GROUP BY a.k",
    );
}

#[test]
fn a_clustered_table_is_placed_as_an_exchange_places_rows() {
    let ctx = session();
    ctx.execute_sql("CREATE TABLE a CLUSTERED BY (k) INTO 3 BUCKETS AS SELECT * FROM src_a")
        .unwrap();
    let stored = ctx.table("a").unwrap().collect_partitioned().unwrap();
    let shuffled = ctx
        .table("src_a")
        .unwrap()
        .repartition(Partitioning::Hash(vec![col("k")], 3))
        .unwrap()
        .collect_partitioned()
        .unwrap();
    assert_eq!(stored.len(), 3);
    assert_eq!(shuffled.len(), 3);
    for (s, x) in stored.iter().zip(&shuffled) {
        let (mut s, mut x) = (rows_of(s), rows_of(x));
        s.sort();
        x.sort();
        assert!(!s.is_empty());
        assert_eq!(s, x);
    }
}

#[test]
fn one_clustered_side_keeps_its_buckets_and_the_other_is_shuffled_to_match() {
    let ctx = session();
    ctx.execute_sql(
        "CREATE TABLE a CLUSTERED BY (k) INTO 3 BUCKETS AS SELECT * FROM src_a; \
         CREATE TABLE b AS SELECT * FROM src_b;",
    )
    .unwrap();
    let p = plan(&ctx, JOIN);
    let ex = exchanges(&p);
    assert_eq!(ex.len(), 1, "{p}");
    // the shuffled side goes into the bucket count (3), not target_partitions (4)
    assert!(ex[0].contains("Hash([k@0], 3)"), "{p}");
    same_rows(&ctx, JOIN, PLAIN_JOIN);
}

#[test]
fn bucketed_parquet_reads_back_hash_partitioned() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().to_string();
    let ctx = session();
    ctx.execute_sql(&format!(
        "COPY src_a TO '{}' (FORMAT parquet, BUCKET_BY (k), BUCKETS 4); \
         COPY (SELECT * FROM src_b) TO '{}' (FORMAT parquet, BUCKET_BY (k), BUCKETS 4); \
         COPY (SELECT * FROM src_b WHERE k < 0) TO '{}' (FORMAT parquet, BUCKET_BY (k), BUCKETS 4); \
         COPY src_b TO '{}' (FORMAT parquet, BUCKET_BY (k), BUCKETS 2);",
        path("a"),
        path("b"),
        path("empty"),
        path("b2")
    ))
    .unwrap();
    // one file per bucket, empty buckets included
    for d in ["a", "b", "empty"] {
        let files = std::fs::read_dir(dir.path().join(d)).unwrap().count();
        assert_eq!(files, 4, "{d}");
    }
    ctx.execute_sql(&format!(
        "CREATE EXTERNAL TABLE a STORED AS PARQUET LOCATION '{}'; \
         CREATE EXTERNAL TABLE b STORED AS PARQUET LOCATION '{}';",
        path("a"),
        path("b")
    ))
    .unwrap();
    let p = plan(&ctx, JOIN);
    assert!(exchanges(&p).is_empty(), "{p}");
    assert!(p.contains("ParquetScanExec"), "{p}");
    same_rows(&ctx, JOIN, PLAIN_JOIN);
    let p = plan(&ctx, AGG);
    assert!(exchanges(&p).is_empty(), "{p}");
    same_rows(&ctx, AGG, PLAIN_AGG);
    // a folder read directly, and read_parquet
    let q = format!(
        "SELECT a.k, a.v, b.s FROM '{}' a JOIN read_parquet('{}') b ON a.k = b.k",
        path("a"),
        path("b")
    );
    assert!(exchanges(&plan(&ctx, &q)).is_empty());
    same_rows(&ctx, &q, PLAIN_JOIN);
    // an empty bucketed folder joins to nothing
    let q = format!(
        "SELECT count(*) FROM a JOIN '{}' e ON a.k = e.k",
        path("empty")
    );
    assert_eq!(rows_of(&ctx.sql(&q).unwrap().collect().unwrap()), ["0"]);
    // another bucket count: one side is shuffled, results stay right
    let q = format!(
        "SELECT a.k, a.v, b.s FROM a JOIN '{}' b ON a.k = b.k",
        path("b2")
    );
    assert_eq!(exchanges(&plan(&ctx, &q)).len(), 1);
    same_rows(&ctx, &q, PLAIN_JOIN);
    // a bucketed table mixed with an in-memory table clustered alike: no exchange either
    ctx.execute_sql("CREATE TABLE m CLUSTERED BY (k) INTO 4 BUCKETS AS SELECT * FROM src_b")
        .unwrap();
    let q = "SELECT a.k, a.v, m.s FROM a JOIN m ON a.k = m.k";
    assert!(exchanges(&plan(&ctx, q)).is_empty());
    same_rows(&ctx, q, PLAIN_JOIN);
}

#[test]
fn files_without_or_with_other_bucket_specs_fall_back_to_unknown_partitioning() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().to_string();
    let ctx = session();
    ctx.execute_sql(&format!(
        "COPY src_a TO '{}' (FORMAT parquet, BUCKET_BY (k), BUCKETS 4); \
         COPY src_b TO '{}' (FORMAT parquet, BUCKET_BY (k), BUCKETS 4); \
         COPY (SELECT * FROM src_a WHERE k = 5) TO '{}' (FORMAT parquet); \
         COPY src_a TO '{}' (FORMAT parquet, BUCKET_BY (k), BUCKETS 4); \
         COPY src_a TO '{}' (FORMAT parquet, BUCKET_BY (k), BUCKETS 2);",
        path("a"),
        path("b"),
        path("a/extra.parquet"),
        path("mixed/one"),
        path("mixed/two"),
    ))
    .unwrap();
    ctx.execute_sql(&format!(
        "CREATE EXTERNAL TABLE b STORED AS PARQUET LOCATION '{}'",
        path("b")
    ))
    .unwrap();
    // a file without the spec: the folder is not bucketed, the extra rows count
    let q = format!(
        "SELECT a.k, a.v, b.s FROM '{}' a JOIN b ON a.k = b.k",
        path("a")
    );
    assert!(!exchanges(&plan(&ctx, &q)).is_empty());
    let expected = "SELECT a.k, a.v, b.s FROM (SELECT * FROM src_a UNION ALL \
                    SELECT * FROM src_a WHERE k = 5) a JOIN src_b b ON a.k = b.k";
    same_rows(&ctx, &q, expected);
    // specs that disagree (4 and 2 buckets)
    let q = format!(
        "SELECT a.k, a.v, b.s FROM '{}' a JOIN b ON a.k = b.k",
        path("mixed")
    );
    assert!(!exchanges(&plan(&ctx, &q)).is_empty());
    let expected = "SELECT a.k, a.v, b.s FROM (SELECT * FROM src_a UNION ALL \
                    SELECT * FROM src_a) a JOIN src_b b ON a.k = b.k";
    same_rows(&ctx, &q, expected);
    // INSERT adds a file without the spec: the table is no longer read as bucketed
    ctx.execute_sql("INSERT INTO b VALUES (1, 'new')").unwrap();
    let p = plan(&ctx, "SELECT k, count(*) FROM b GROUP BY k");
    assert!(!exchanges(&p).is_empty(), "{p}");
}

#[test]
fn bucketing_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().to_string();
    let ctx = session();
    let copy = |opts: &str| ctx.execute_sql(&format!("COPY src_a TO '{}' ({opts})", path("x")));
    assert_err(
        copy("FORMAT parquet, BUCKET_BY (k), BUCKETS 0"),
        "BUCKETS needs a positive integer, got '0'",
    );
    assert_err(
        copy("FORMAT parquet, BUCKET_BY (zz), BUCKETS 2"),
        "BUCKET_BY column \"zz\" is not a column of the result (columns: k, v)",
    );
    assert_err(
        copy("FORMAT parquet, BUCKET_BY (k)"),
        "BUCKET_BY (columns) needs BUCKETS n",
    );
    assert_err(
        copy("FORMAT parquet, BUCKETS 3"),
        "BUCKETS n needs BUCKET_BY (columns)",
    );
    assert_err(
        copy("FORMAT csv, BUCKET_BY (k), BUCKETS 3"),
        "Parquet output only",
    );
    assert_err(
        copy("FORMAT parquet, BUCKET_BY (k), BUCKETS 3, PARTITION_BY (k)"),
        "cannot be both in BUCKET_BY and PARTITION_BY",
    );
    // nothing was written by the failed statements
    assert!(!dir.path().join("x").exists());
    // the DataFrame API writes bucketed files too
    let summary = ctx
        .table("src_a")
        .unwrap()
        .write_parquet(
            &path("dfout"),
            WriteOptions::parquet().with_buckets(&["k"], 3),
        )
        .unwrap();
    assert_eq!(summary.files.len(), 3);
    assert_eq!(summary.rows, 3000);
    let p = ctx
        .read_parquet(&path("dfout"))
        .unwrap()
        .group_by(vec![col("k")])
        .unwrap()
        .agg(vec![count_all()])
        .unwrap()
        .explain(false, false)
        .unwrap();
    assert!(exchanges(&p).is_empty(), "{p}");
}
