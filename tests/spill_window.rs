//! Window functions over window partitions larger than the memory limit: the operator writes
//! such a partition to disk and computes it chunk by chunk. Every function and frame kind gives
//! the same rows as without a limit, EXPLAIN ANALYZE shows the window operator's spills, no
//! spill file or memory is left, and a frame wider than the limit fails clearly.

mod spill_support;

use std::path::Path;

use arrow::record_batch::RecordBatch;
use flint::{ErrorKind, SessionConfig, SessionContext};
use spill_support::{metric, spill_files};

/// A session over `w`: 30,000 rows in three big window partitions (`p` = 0, 1, 2) and a small
/// one (`p` NULL), order keys `o` with ~20 duplicates each, NULLs in `v` and `s`.
fn session(dir: &Path, limit: &str) -> SessionContext {
    let ctx = SessionContext::with_config(
        SessionConfig::default()
            .with_target_partitions(2)
            .with_batch_size(500)
            .with_spill_dir(dir),
    );
    ctx.execute_sql(
        "CREATE TABLE w AS SELECT x, CASE WHEN x % 97 = 0 THEN NULL ELSE x % 3 END AS p,
                (x * 37) % 1000 AS o,
                CASE WHEN x % 11 = 0 THEN NULL ELSE (x * 7) % 101 END AS v,
                CASE WHEN x % 13 = 0 THEN NULL ELSE 's' || (x % 17) END AS s
         FROM range(30000) r(x)",
    )
    .expect("setup");
    ctx.set("memory_limit", limit).expect("limit");
    ctx
}

/// The rows, sorted (row order is free in these queries).
fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = spill_support::rows(batches);
    out.sort();
    out
}

/// Queries covering every window function and frame shape the spilled path computes
/// differently: positions and peer groups, offsets, picked rows, whole-partition, running
/// (prefix) and sliding aggregates, with and without PARTITION BY / ORDER BY.
const QUERIES: [&str; 8] = [
    "SELECT x, row_number() OVER (PARTITION BY p ORDER BY o, x), rank() OVER (PARTITION BY p ORDER BY o),
            dense_rank() OVER (PARTITION BY p ORDER BY o), percent_rank() OVER (PARTITION BY p ORDER BY o),
            cume_dist() OVER (PARTITION BY p ORDER BY o), ntile(7) OVER (PARTITION BY p ORDER BY o, x) FROM w",
    "SELECT x, sum(v) OVER (PARTITION BY p ORDER BY o), count(*) OVER (PARTITION BY p),
            avg(v) OVER (PARTITION BY p ORDER BY o, x ROWS BETWEEN 3 PRECEDING AND 2 FOLLOWING),
            min(v) OVER (PARTITION BY p ORDER BY o, x ROWS BETWEEN UNBOUNDED PRECEDING AND 5 PRECEDING),
            max(s) OVER (PARTITION BY p ORDER BY o, x ROWS BETWEEN 5 FOLLOWING AND 10 FOLLOWING),
            count(DISTINCT v) OVER (PARTITION BY p ORDER BY o) FROM w",
    "SELECT x, lag(v) OVER (PARTITION BY p ORDER BY o, x), lead(v, 3, -1) OVER (PARTITION BY p ORDER BY o, x),
            lag(s, 700) OVER (PARTITION BY p ORDER BY o, x), lead(x, 0) OVER (PARTITION BY p ORDER BY o, x) FROM w",
    "SELECT x, first_value(v) OVER (PARTITION BY p ORDER BY o, x), last_value(o) OVER (PARTITION BY p ORDER BY o),
            nth_value(o, 3) OVER (PARTITION BY p ORDER BY o ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            last_value(s) OVER (PARTITION BY p ORDER BY o, x ROWS BETWEEN 1 PRECEDING AND UNBOUNDED FOLLOWING),
            first_value(s) OVER (PARTITION BY p ORDER BY o, x ROWS BETWEEN 2 PRECEDING AND CURRENT ROW),
            nth_value(x, 2) OVER (PARTITION BY p ORDER BY o, x ROWS BETWEEN 4 PRECEDING AND 1 FOLLOWING) FROM w",
    "SELECT x, row_number() OVER (ORDER BY x), sum(v) OVER (ORDER BY o), count(*) OVER (),
            sum(v) OVER (ORDER BY o GROUPS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
            string_agg(s, ',') OVER (ORDER BY x ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM w",
    "SELECT x, sum(v) OVER (PARTITION BY p), rank() OVER (PARTITION BY p), cume_dist() OVER (PARTITION BY p),
            first_value(x) OVER (PARTITION BY p ORDER BY x RANGE BETWEEN CURRENT ROW AND CURRENT ROW) FROM w",
    "SELECT x, sum(v) OVER (PARTITION BY p ORDER BY o, x ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING),
            min(s) OVER (PARTITION BY p ORDER BY o, x ROWS BETWEEN 3 FOLLOWING AND UNBOUNDED FOLLOWING),
            count(DISTINCT v) OVER (PARTITION BY p ORDER BY o ROWS BETWEEN 600 PRECEDING AND UNBOUNDED FOLLOWING),
            avg(v) OVER (PARTITION BY p ORDER BY o RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM w",
    "SELECT x, v, sum(v) OVER (PARTITION BY p ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            - sum(v) OVER (PARTITION BY p ORDER BY x), length(wide) FROM (SELECT *, repeat('abcdefghij', 8) || s AS wide FROM w) w WHERE x % 5 <> 0",
];

#[test]
fn spilled_window_partitions_give_the_unlimited_results() {
    let dir = tempfile::tempdir().unwrap();
    let unlimited = session(dir.path(), "unlimited");
    let limited = session(dir.path(), "512KB");
    for sql in QUERIES {
        let expected = rows(&unlimited.sql(sql).unwrap().collect().unwrap());
        assert!(expected.len() > 20_000, "{sql}");
        let explain = rows(
            &limited
                .sql(&format!("EXPLAIN ANALYZE {sql}"))
                .unwrap()
                .collect()
                .unwrap(),
        )
        .join("\n");
        let window_spills: f64 = explain
            .lines()
            .filter(|l| l.contains("WindowExec"))
            .map(|l| metric(l, "spill_files"))
            .sum();
        assert!(window_spills > 0.0, "{sql}: no window spill\n{explain}");
        let got = rows(&limited.sql(sql).unwrap().collect().unwrap());
        assert_eq!(got.len(), expected.len(), "{sql}");
        if let Some(i) = (0..got.len()).find(|&i| got[i] != expected[i]) {
            panic!(
                "{sql}: row {i} differs: {} (expected {})",
                got[i], expected[i]
            );
        }
        assert_eq!(spill_files(dir.path()), 0, "{sql}: spill files left");
        assert_eq!(
            limited.task_context().memory.used(),
            limited.memory_pool().storage_used(),
            "{sql}: memory held"
        );
    }
}

#[test]
fn a_peer_group_wider_than_the_limit_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let limited = session(dir.path(), "512KB");
    // a peer group (half the rows of a partition tie) wider than the limit
    let err = limited
        .sql("SELECT x, wide, sum(v) OVER (PARTITION BY p ORDER BY x % 2) FROM (SELECT *, repeat('abcdefghij', 20) || s AS wide FROM w) w")
        .unwrap()
        .collect()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourcesExhausted, "{err}");
    assert!(err.to_string().contains("in memory at once"), "{err}");
    assert_eq!(spill_files(dir.path()), 0);
    assert_eq!(
        limited.task_context().memory.used(),
        limited.memory_pool().storage_used()
    );
}
