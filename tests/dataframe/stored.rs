//! Stored tables under a memory limit: `cache()` and SQL-made tables hold at most half the limit
//! in memory and the rest in `flint-stored-*` files; they read back the same rows, keep their
//! hash partitioning, free memory and files when dropped, and a failed write leaves nothing.

use std::path::Path;

use flint::prelude::*;

use crate::sorted_rows;

const LIMIT: usize = 1024 * 1024;

/// A session with a 1 MB limit, 4 partitions and its own spill directory.
fn session(dir: &Path) -> SessionContext {
    SessionContext::with_config(
        SessionConfig::default()
            .with_target_partitions(4)
            .with_batch_size(1024)
            .with_memory_limit(LIMIT)
            .with_spill_dir(dir),
    )
}

/// Files stored tables keep in `dir`.
fn stored_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("flint-stored-"))
        .count()
}

const QUERY: &str = "SELECT x, CASE WHEN x % 7 = 0 THEN NULL ELSE x % 100 END AS k, 'v' || x AS s \
                     FROM range(150000) r(x)";

#[test]
fn a_cache_larger_than_the_limit_spills_reads_back_and_is_freed_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    let df = ctx.sql(QUERY).unwrap();
    let expected = sorted_rows(&df);
    let pool = ctx.memory_pool();
    pool.reset_peak();
    let cached = df.cache().unwrap();
    assert!(pool.peak() <= LIMIT, "peak {} over the limit", pool.peak());
    assert!(pool.storage_used() <= LIMIT / 2);
    assert!(pool.storage_used() > 0, "nothing kept in memory");
    assert!(stored_files(dir.path()) > 0, "nothing spilled");
    let plan = cached.explain(false, false).unwrap();
    assert!(plan.contains("on disk: "), "{plan}");
    assert_eq!(sorted_rows(&cached), expected);
    // a projection and a filter over the spilled rows
    let some = cached.filter(col("k").eq(lit(3i64))).unwrap();
    assert_eq!(some.count().unwrap(), 1286);
    drop((cached, some));
    assert_eq!(pool.storage_used(), 0);
    assert_eq!(pool.used(), 0);
    assert_eq!(stored_files(dir.path()), 0);
}

#[test]
fn a_spilled_hash_partitioned_cache_still_joins_without_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    let cached = ctx
        .sql("SELECT x % 5000 AS k, x AS v FROM range(120000) r(x)")
        .unwrap()
        .repartition(Partitioning::Hash(vec![col("k")], 4))
        .unwrap()
        .cache()
        .unwrap();
    assert!(stored_files(dir.path()) > 0, "nothing spilled");
    let a = cached.alias("a").unwrap();
    let b = cached
        .filter(col("v").lt(lit(10_000i64)))
        .unwrap()
        .alias("b")
        .unwrap();
    let joined = a
        .join(&b, JoinType::Inner, &["a.k"], &["b.k"], None)
        .unwrap();
    let plan = joined.explain(false, false).unwrap();
    assert!(!plan.contains("ExchangeExec"), "{plan}");
    // each of the 5000 keys has 24 rows, 2 of them with v < 10000
    assert_eq!(joined.count().unwrap(), 5000 * 24 * 2);
}

#[test]
fn sql_tables_free_their_files_on_drop_and_failed_writes_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    ctx.execute_sql(&format!("CREATE TABLE t AS {QUERY}"))
        .unwrap();
    let pool = ctx.memory_pool();
    let (used, files) = (pool.storage_used(), stored_files(dir.path()));
    assert!(files > 0 && used <= LIMIT / 2);
    // the NULL comes late: earlier batches were written, and are dropped with the error
    let err = ctx
        .execute_sql(
            "CREATE TABLE nn (a BIGINT NOT NULL); \
             INSERT INTO nn SELECT CASE WHEN x = 140000 THEN NULL ELSE x END FROM range(150000) r(x)",
        )
        .unwrap_err();
    assert!(err.to_string().contains("NOT NULL"), "{err}");
    assert_eq!(ctx.table("nn").unwrap().count().unwrap(), 0);
    assert_eq!(
        (pool.storage_used(), stored_files(dir.path())),
        (used, files)
    );
    ctx.execute_sql("DROP TABLE t").unwrap();
    assert_eq!((pool.storage_used(), stored_files(dir.path())), (0, 0));
    // the session ending drops its tables too
    ctx.execute_sql(&format!("CREATE TABLE t2 AS {QUERY}"))
        .unwrap();
    assert!(stored_files(dir.path()) > 0);
    drop(ctx);
    assert_eq!(stored_files(dir.path()), 0);
    assert_eq!(pool.used(), 0);
}

#[test]
fn lowering_the_limit_moves_stored_tables_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = SessionContext::with_config(SessionConfig::default().with_spill_dir(dir.path()));
    ctx.execute_sql(&format!("CREATE TABLE t AS {QUERY}"))
        .unwrap();
    let before = sorted_rows(&ctx.table("t").unwrap());
    let pool = ctx.memory_pool();
    assert!(pool.storage_used() > LIMIT, "{}", pool.storage_used());
    assert_eq!(stored_files(dir.path()), 0);
    ctx.set("memory_limit", "1MB").unwrap();
    assert!(pool.storage_used() <= LIMIT / 2);
    assert!(stored_files(dir.path()) > 0);
    assert_eq!(sorted_rows(&ctx.table("t").unwrap()), before);
}
