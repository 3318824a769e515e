//! Spilling under a memory limit: spill files exist while a query needs them and are gone after
//! it (also after an error or a cancellation), the memory pool's peak stays near the limit,
//! every spilling operator reports its peak memory and spills in EXPLAIN ANALYZE, and disk
//! problems surface as clear errors.

mod spill_support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, AsArray, Int64Array};
use arrow::datatypes::{DataType, Int64Type};
use flint::functions::udf::create_udf;
use flint::runtime::CancellationToken;
use flint::{Error, ErrorKind, SessionConfig, SessionContext};
use spill_support::{metric, rows, spill_files};

const LIMIT: usize = 2 * 1024 * 1024;

/// A session with 4 partitions, small batches, a 2 MB limit and its own spill directory, over
/// `t` (120,000 rows) and `u` (90,000 rows).
fn session(dir: &Path) -> SessionContext {
    let ctx = SessionContext::with_config(
        SessionConfig::default()
            .with_target_partitions(4)
            .with_batch_size(1024)
            .with_spill_dir(dir),
    );
    ctx.execute_sql(
        "CREATE TABLE t AS SELECT x, x % 30011 AS k, CASE WHEN x % 9 = 0 THEN NULL ELSE (x * 7) % 1000 END AS v,
                'v' || (x % 4999) AS s FROM range(120000) r(x);
         CREATE TABLE u AS SELECT y, CASE WHEN y % 7 = 0 THEN NULL ELSE (y * 3) % 40000 END AS k FROM range(90000) r(y);",
    )
    .expect("setup");
    // the tables count in the pool: lowering the limit moves most of them to disk
    ctx.set("memory_limit", &LIMIT.to_string()).expect("limit");
    // the peak of the queries, not of creating the tables without a limit
    ctx.memory_pool().reset_peak();
    ctx
}

const QUERIES: [&str; 4] = [
    "SELECT x, v, s FROM t ORDER BY v NULLS FIRST, s DESC, x",
    "SELECT k, count(*), sum(x), min(s), count(DISTINCT v) FROM t GROUP BY k ORDER BY k",
    "SELECT t.x, u.y FROM t FULL JOIN u ON t.k = u.k ORDER BY t.x NULLS FIRST, u.y NULLS FIRST",
    "SELECT count(*), sum(x) FROM t WHERE k NOT IN (SELECT k FROM u WHERE k IS NOT NULL)",
];

#[test]
fn results_under_a_limit_equal_unlimited_ones_and_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let limited = session(dir.path());
    let unlimited = session(dir.path());
    unlimited.set("memory_limit", "unlimited").unwrap();
    for sql in QUERIES {
        let expected = rows(&unlimited.sql(sql).unwrap().collect().unwrap());
        let got = rows(&limited.sql(sql).unwrap().collect().unwrap());
        assert_eq!(got.len(), expected.len(), "{sql}");
        assert!(got == expected, "{sql}: results differ under the limit");
        assert_eq!(spill_files(dir.path()), 0, "{sql}: spill files left behind");
    }
}

#[test]
fn explain_analyze_shows_the_spills_of_every_spilling_operator() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    ctx.set("broadcast_rows_threshold", "0").unwrap();
    let explain = |sql: &str| -> String {
        let batches = ctx
            .sql(&format!("EXPLAIN ANALYZE {sql}"))
            .unwrap()
            .collect()
            .unwrap();
        rows(&batches).join("\n")
    };
    // the operator's line shows its peak memory and what it spilled, all above zero
    let spilled = |text: &str, operator: &str| {
        text.lines().any(|l| {
            l.contains(operator)
                && ["peak_mem", "spill_files", "spilled_rows", "spilled_bytes"]
                    .iter()
                    .all(|k| metric(l, k) > 0.0)
        })
    };
    let sort = explain(QUERIES[0]);
    assert!(spilled(&sort, "SortExec"), "{sort}");
    assert!(spilled(&sort, "ExchangeExec: SortMerge"), "{sort}");
    let agg = explain("SELECT k, count(*), sum(x), min(s) FROM t GROUP BY k");
    assert!(spilled(&agg, "HashAggregateExec: mode=Final"), "{agg}");
    assert!(spilled(&agg, "ExchangeExec: Hash"), "{agg}");
    let distinct = explain("SELECT k, count(DISTINCT v) FROM t GROUP BY k");
    assert!(
        spilled(&distinct, "HashAggregateExec: mode=Single"),
        "{distinct}"
    );
    let join = explain("SELECT count(*) FROM t JOIN u ON t.k = u.k");
    assert!(spilled(&join, "HashJoinExec"), "{join}");
    ctx.set("broadcast_rows_threshold", "1000000").unwrap();
    let broadcast = explain("SELECT count(*) FROM t JOIN u ON t.k = u.k");
    assert!(
        spilled(&broadcast, "HashJoinExec: Inner Broadcast"),
        "{broadcast}"
    );
}

#[test]
fn the_pool_peak_stays_near_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    for sql in QUERIES {
        // a fresh session per query: the pool's peak is per session
        let ctx = session(dir.path());
        let n: usize = ctx
            .sql(sql)
            .unwrap()
            .collect()
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert!(n > 0);
        let peak = ctx.task_context().memory.peak();
        // the margin: the batches a merge must hold to make progress at all
        assert!(
            peak <= LIMIT + LIMIT / 16,
            "{sql}: peak {peak} is over the limit {LIMIT}"
        );
        // only the stored tables hold memory
        let pool = ctx.memory_pool();
        assert_eq!(
            pool.used(),
            pool.storage_used(),
            "{sql}: memory not released"
        );
    }
}

/// A UDF that runs `action` the first time it sees a row after spill files exist, and records
/// how many existed.
fn spy(
    name: &str,
    dir: &Path,
    seen: Arc<AtomicUsize>,
    action: impl Fn() -> Option<Error> + Send + Sync + 'static,
) -> flint::functions::udf::ScalarUdf {
    let dir = dir.to_path_buf();
    create_udf(name, vec![DataType::Int64], DataType::Int64, move |args| {
        let files = spill_files(&dir);
        if files > 0 {
            seen.fetch_max(files, Ordering::SeqCst);
            if let Some(e) = action() {
                return Err(e);
            }
        }
        let a = args[0].as_primitive::<Int64Type>();
        Ok(Arc::new(a.iter().collect::<Int64Array>()) as ArrayRef)
    })
    .with_volatile()
}

// the aggregation's groups come out only after its input was spilled to buckets, so the UDF
// over its output runs while bucket files exist
const OVER_SPILLED_GROUPS: &str =
    "SELECT spy(k), c, m FROM (SELECT k, count(*) AS c, min(s) AS m FROM t GROUP BY k) q";

#[test]
fn spill_files_are_removed_after_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    let seen = Arc::new(AtomicUsize::new(0));
    ctx.register_udf(spy("spy", dir.path(), seen.clone(), || {
        Some(Error::execution("injected failure"))
    }));
    let err = ctx.sql(OVER_SPILLED_GROUPS).unwrap().collect().unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert!(seen.load(Ordering::SeqCst) > 0, "the query did not spill");
    assert_eq!(
        spill_files(dir.path()),
        0,
        "spill files left after an error"
    );
}

#[test]
fn spill_files_are_removed_after_a_cancellation() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    let seen = Arc::new(AtomicUsize::new(0));
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    ctx.register_udf(spy("spy", dir.path(), seen.clone(), move || {
        token.cancel();
        None
    }));
    let err = ctx
        .sql(OVER_SPILLED_GROUPS)
        .unwrap()
        .collect_cancellable(&cancel)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(seen.load(Ordering::SeqCst) > 0, "the query did not spill");
    assert_eq!(
        spill_files(dir.path()),
        0,
        "spill files left after a cancellation"
    );
}

#[test]
fn spill_files_exist_while_a_stream_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    let mut stream = ctx.sql(QUERIES[0]).unwrap().execute_stream().unwrap();
    let first = stream.next().unwrap().unwrap();
    assert!(first.num_rows() > 0);
    // the sorted partitions wait in spill files for the merge that is being read
    assert!(spill_files(dir.path()) > 0);
    drop(stream);
    assert_eq!(spill_files(dir.path()), 0);
}

#[test]
fn disk_problems_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    let missing = dir.path().join("no/such/dir");
    ctx.set("spill_dir", missing.to_str().unwrap()).unwrap();
    let err = ctx.sql(QUERIES[0]).unwrap().collect().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("cannot create a spill file")
            && msg.contains("no/such/dir")
            && msg.contains("spill_dir"),
        "{msg}"
    );

    // a full disk: the query's spill quota stands in for it
    ctx.set("spill_dir", dir.path().to_str().unwrap()).unwrap();
    ctx.set("max_spill_size", "200KB").unwrap();
    let err = ctx.sql(QUERIES[0]).unwrap().collect().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourcesExhausted, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("flint-spill-") && msg.contains("max_spill_size"),
        "{msg}"
    );
    assert_eq!(
        spill_files(dir.path()),
        0,
        "spill files left after a full disk"
    );
}
