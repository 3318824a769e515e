//! Cancellation: long queries of every operator kind stop soon after `cancel()` and leave no
//! spill files behind.
//!
//! Each query below runs for several seconds (in a debug build; run them without the cancel to
//! see) over rows a cross join of two small tables makes, so planning is instant and the time is
//! all execution. Each is cancelled 200 ms after it starts and must return a "cancelled" error
//! within 500 ms of the `cancel()` call. No operator makes one long kernel call: sorts order
//! groups of at most 128 Ki rows at a time, and window aggregates check between chunks of rows.

mod spill_support;

use std::path::Path;
use std::time::{Duration, Instant};

use flint::runtime::CancellationToken;
use flint::{ErrorKind, SessionConfig, SessionContext};
use spill_support::spill_files;

/// Rows of `t`: the cross join `t a, t b` makes 4 million.
const ROWS: usize = 2000;
/// Generated rows `v` (0 .. 4 million, each once), from two small tables.
const GENERATED: &str = "(SELECT a.x * 2000 + b.x AS v FROM t a, t b)";

/// How long after its start a query is cancelled.
const CANCEL_AFTER: Duration = Duration::from_millis(200);
/// How soon after `cancel()` it must have returned. An operator checks between batches (a
/// few milliseconds each, even in a debug build); the rest is margin for a loaded machine.
const RETURN_WITHIN: Duration = Duration::from_millis(500);

fn session(spill_dir: &Path) -> SessionContext {
    let ctx = SessionContext::with_config(
        SessionConfig::default()
            .with_target_partitions(2)
            .with_spill_dir(spill_dir),
    );
    ctx.execute_sql(&format!(
        "CREATE TABLE t AS SELECT x FROM range({ROWS}) r(x)"
    ))
    .expect("setup");
    // small enough that sorts, aggregations and joins over the generated rows spill
    ctx.set("memory_limit", "32MB").expect("limit");
    ctx
}

/// Starts `sql`, cancels it after [`CANCEL_AFTER`] and returns how long it took to return
/// after the cancel.
fn cancel_during(ctx: &SessionContext, sql: &str) -> Duration {
    let df = ctx.sql(sql).expect("plans");
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let start = Instant::now();
    let (returned_at, result) = std::thread::scope(|scope| {
        let running = scope.spawn(move || {
            let result = df.collect_cancellable(&token);
            (Instant::now(), result)
        });
        std::thread::sleep(CANCEL_AFTER.saturating_sub(start.elapsed()));
        let cancelled_at = Instant::now();
        cancel.cancel();
        let (returned_at, result) = running.join().expect("the query thread panicked");
        (returned_at.saturating_duration_since(cancelled_at), result)
    });
    match result {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Cancelled, "{sql}: {e}"),
        Ok(_) => panic!("{sql}: finished within {CANCEL_AFTER:?}; make it longer"),
    }
    returned_at
}

/// Queries of every operator kind, which check the flag between batches all the way: they
/// return within [`RETURN_WITHIN`] of the cancel.
fn streaming_queries() -> Vec<String> {
    vec![
        // nested-loop join: 900 million pairs through a filter
        "SELECT count(*) FROM range(30000) a(x), range(30000) b(y) WHERE (x * 7 + y) % 1000 = 3"
            .to_string(),
        // nested-loop join whose 4 million row build side spills in blocks under the limit
        format!("SELECT count(*) FROM {GENERATED} g, range(3000) b(y) WHERE (v + y) % 1000 = 3"),
        // hash aggregation with 500,000 groups, spilling its buckets
        format!("SELECT v % 500009 AS k, count(*), sum(v) FROM {GENERATED} g GROUP BY 1"),
        // hash join probing 4 million rows against a small build side
        format!("SELECT count(*) FROM {GENERATED} p JOIN t ON p.v = t.x * 3"),
        // hash join with a 4 million row build side (grace join under the limit)
        format!("SELECT count(*) FROM {GENERATED} p JOIN {GENERATED} q ON p.v = q.v + 1"),
        // sort: runs sorted in groups of batches, spilled and merged
        format!("SELECT v FROM {GENERATED} g ORDER BY v % 977, v DESC"),
        // window function over 7 window partitions of ~570,000 rows each
        format!(
            "SELECT max(s) FROM (SELECT sum(v) OVER (PARTITION BY v % 7 ORDER BY v) AS s FROM {GENERATED} g) w"
        ),
        // window function over one window partition of 4 million rows, spilled
        format!(
            "SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY v % 1000, v) AS r FROM {GENERATED} g) w"
        ),
        // an uncorrelated scalar subquery, evaluated by a filter (it runs as its own plan)
        "SELECT count(*) FROM t WHERE x < (SELECT count(*) FROM range(30000) a(x), range(30000) b(y) \
         WHERE (x * 7 + y) % 1000 = 3)"
            .to_string(),
    ]
}

#[test]
fn long_queries_stop_soon_after_cancel_and_leave_no_spill_files() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = session(dir.path());
    for sql in streaming_queries() {
        let took = cancel_during(&ctx, &sql);
        eprintln!("returned {took:?} after the cancel: {sql}");
        assert!(
            took < RETURN_WITHIN,
            "{sql}: returned {took:?} after the cancel"
        );
        assert_eq!(spill_files(dir.path()), 0, "{sql}: spill files left");
        // only the stored table `t` holds memory
        let pool = ctx.memory_pool();
        assert_eq!(pool.used(), pool.storage_used(), "{sql}: memory held");
    }
    // the session still works
    let n = ctx.sql("SELECT count(*) FROM t").unwrap().count().unwrap();
    assert_eq!(n, 1);
}
