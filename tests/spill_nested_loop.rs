//! The nested-loop join under a memory limit: the build side is spilled in blocks and the probe
//! side re-read for each block; results of every join type equal the unlimited ones, EXPLAIN
//! ANALYZE shows the blocks and spills, and no spill file outlives the query (after an error or
//! a cancellation either).

mod spill_support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{ArrayRef, AsArray, Int64Array};
use arrow::datatypes::{DataType, Int64Type};
use flint::functions::udf::{ScalarUdf, create_udf};
use flint::runtime::CancellationToken;
use flint::{Error, ErrorKind, SessionConfig, SessionContext};
use spill_support::{metric, rows, spill_files};

const LIMIT: usize = 256 * 1024;

/// A session with 4 partitions, small batches and its own spill directory, over `a` (the wide
/// build side, 4,000 rows) and `b` (300 rows), both with NULLs and duplicates in `k`.
fn session(dir: &Path) -> SessionContext {
    let ctx = SessionContext::with_config(
        SessionConfig::default()
            .with_target_partitions(4)
            .with_batch_size(256)
            .with_spill_dir(dir),
    );
    ctx.execute_sql(
        "CREATE TABLE a AS SELECT x, CASE WHEN x % 11 = 0 THEN NULL ELSE x % 53 END AS k,
                'row ' || (x % 37) || ' of the build side, long enough to need several blocks' AS s
             FROM range(4000) r(x);
         CREATE TABLE b AS SELECT y, CASE WHEN y % 6 = 0 THEN NULL ELSE y % 47 END AS k FROM range(300) r(y);",
    )
    .expect("setup");
    ctx
}

fn limited(dir: &Path) -> SessionContext {
    let ctx = session(dir);
    ctx.set("memory_limit", &LIMIT.to_string()).expect("limit");
    ctx
}

fn sorted_rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let mut r = rows(&ctx.sql(sql).unwrap().collect().unwrap());
    r.sort();
    r
}

/// One query per join type (a is the build side), each with a non-equi condition, and a cross
/// join; the probe side of the last two comes in 4 partitions.
const QUERIES: [&str; 11] = [
    "SELECT a.x, b.y, a.s FROM a JOIN b ON a.k < b.k - 40",
    "SELECT a.x, b.y, a.s FROM a LEFT JOIN b ON a.k < b.k - 40",
    "SELECT a.x, b.y, a.s FROM a RIGHT JOIN b ON a.k > b.k + 45",
    "SELECT a.x, b.y, a.s FROM a FULL JOIN b ON a.k > b.k + 45 AND a.x % 2 <> b.y % 2",
    "SELECT a.x, a.s FROM a LEFT SEMI JOIN b ON a.k < b.k - 40",
    "SELECT a.x, a.s FROM a LEFT ANTI JOIN b ON a.k < b.k - 40",
    "SELECT b.y FROM a RIGHT SEMI JOIN b ON a.k > b.k + 45 AND a.s > 'row 30'",
    "SELECT b.y FROM a RIGHT ANTI JOIN b ON a.k > b.k + 45 AND a.s > 'row 30'",
    "SELECT a.k, count(*), max(a.s), sum(b.y) FROM a CROSS JOIN (SELECT y FROM b WHERE y < 40) b GROUP BY a.k",
    "SELECT a.x, p.y, a.s FROM a JOIN (SELECT y, y % 47 AS k FROM range(300) r(y)) p ON a.k < p.k - 40",
    "SELECT a.x, p.y, a.s FROM a RIGHT JOIN (SELECT y, y % 47 AS k FROM range(300) r(y)) p ON a.k > p.k + 45",
];

#[test]
fn every_join_type_under_a_limit_equals_the_unlimited_result_and_leaves_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let unlimited = session(dir.path());
    let ctx = limited(dir.path());
    for sql in QUERIES {
        let expected = sorted_rows(&unlimited, sql);
        assert!(!expected.is_empty(), "{sql}: no rows to compare");
        let got = sorted_rows(&ctx, sql);
        assert_eq!(got.len(), expected.len(), "{sql}");
        assert!(got == expected, "{sql}: results differ under the limit");
        assert_eq!(spill_files(dir.path()), 0, "{sql}: spill files left behind");
        assert_eq!(
            ctx.task_context().memory.used(),
            ctx.memory_pool().storage_used(),
            "{sql}: memory held"
        );
    }
}

#[test]
fn explain_analyze_shows_several_build_blocks_and_the_probe_spill() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = limited(dir.path());
    for (sql, probe_tasks) in [(QUERIES[3], 1.0), (QUERIES[9], 4.0)] {
        let text = rows(
            &ctx.sql(&format!("EXPLAIN ANALYZE {sql}"))
                .unwrap()
                .collect()
                .unwrap(),
        )
        .join("\n");
        let line = text
            .lines()
            .find(|l| l.contains("NestedLoopJoinExec"))
            .unwrap_or_else(|| panic!("no join in {text}"));
        let blocks = metric(line, "build_blocks");
        assert!(blocks > 2.0, "{line}");
        // a file per block, and one per probe task for the probe side
        assert_eq!(metric(line, "spill_files"), blocks + probe_tasks, "{line}");
        assert!(metric(line, "spilled_rows") > 4000.0, "{line}");
        assert!(metric(line, "spilled_bytes") > 0.0, "{line}");
        assert!(metric(line, "peak_mem") > 0.0, "{line}");
    }
    assert_eq!(spill_files(dir.path()), 0);
}

#[test]
fn the_pool_peak_stays_near_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    for sql in [QUERIES[1], QUERIES[3], QUERIES[7]] {
        // a fresh session per query: the pool's peak is per session
        let ctx = limited(dir.path());
        assert!(!sorted_rows(&ctx, sql).is_empty());
        let peak = ctx.task_context().memory.peak();
        assert!(
            peak <= LIMIT + LIMIT / 4,
            "{sql}: peak {peak} is over the limit {LIMIT}"
        );
    }
}

/// A UDF that runs `action` the first time it sees a row while spill files exist, and records
/// how many existed.
fn spy(
    dir: &Path,
    seen: Arc<AtomicUsize>,
    action: impl Fn() -> Option<Error> + Send + Sync + 'static,
) -> ScalarUdf {
    let dir = dir.to_path_buf();
    create_udf("spy", vec![DataType::Int64], DataType::Int64, move |args| {
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

// the join's output is read while its build blocks and probe spill exist
const OVER_THE_JOIN: &str = "SELECT spy(a.x), b.y, a.s FROM a FULL JOIN b ON a.k > b.k + 45";

#[test]
fn spill_files_are_removed_after_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = limited(dir.path());
    let seen = Arc::new(AtomicUsize::new(0));
    ctx.register_udf(spy(dir.path(), seen.clone(), || {
        Some(Error::execution("injected failure"))
    }));
    let err = ctx.sql(OVER_THE_JOIN).unwrap().collect().unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert!(seen.load(Ordering::SeqCst) > 1, "the join did not spill");
    assert_eq!(
        spill_files(dir.path()),
        0,
        "spill files left after an error"
    );
    assert_eq!(
        ctx.task_context().memory.used(),
        ctx.memory_pool().storage_used(),
        "memory held"
    );
}

#[test]
fn spill_files_are_removed_after_a_cancellation() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = limited(dir.path());
    let seen = Arc::new(AtomicUsize::new(0));
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    ctx.register_udf(spy(dir.path(), seen.clone(), move || {
        token.cancel();
        None
    }));
    let err = ctx
        .sql(OVER_THE_JOIN)
        .unwrap()
        .collect_cancellable(&cancel)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(seen.load(Ordering::SeqCst) > 1, "the join did not spill");
    assert_eq!(
        spill_files(dir.path()),
        0,
        "spill files left after a cancellation"
    );
    assert_eq!(
        ctx.task_context().memory.used(),
        ctx.memory_pool().storage_used(),
        "memory held"
    );
}
