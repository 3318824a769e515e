//! Runtime filters: a hash join's build keys reach the scan under its probe side, which skips
//! Parquet row groups and drops rows that cannot match (counted in EXPLAIN ANALYZE); results
//! are the same with the filters off, for every join type.

use crate::rows_of;
use flint::prelude::*;

fn session() -> SessionContext {
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(2));
    ctx.execute_sql(
        "CREATE TABLE big AS SELECT x AS k, x % 7 AS g, CAST(x AS VARCHAR) AS s \
           FROM generate_series(1, 100000) t(x); \
         CREATE TABLE small AS SELECT x AS k, 'v' || CAST(x AS VARCHAR) AS name \
           FROM generate_series(500, 520) t(x); \
         CREATE TABLE none_t AS SELECT x AS k FROM generate_series(1, 10) t(x) WHERE x > 10;",
    )
    .unwrap();
    ctx
}

/// The value of `name=` on the first line of `plan` that mentions `op` and has it.
fn metric(plan: &str, op: &str, name: &str) -> Option<usize> {
    plan.lines()
        .filter(|l| l.contains(op))
        .find_map(|l| l.split(&format!(" {name}=")).nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn analyze(ctx: &SessionContext, sql: &str) -> String {
    ctx.sql(sql).unwrap().explain(false, true).unwrap()
}

fn rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let mut r = rows_of(&ctx.sql(sql).unwrap().collect().unwrap());
    r.sort();
    r
}

#[test]
fn a_memory_scan_drops_probe_rows_outside_the_build_keys() {
    let ctx = session();
    let q = "SELECT count(*), sum(big.g) FROM big JOIN small ON big.k = small.k";
    let plan = analyze(&ctx, q);
    assert_eq!(
        metric(&plan, "MemoryScanExec", "runtime_filter_rows_removed"),
        Some(100_000 - 21),
        "{plan}"
    );
    let on = rows(&ctx, q);
    ctx.execute_sql("SET runtime_filters = false").unwrap();
    let plan = analyze(&ctx, q);
    assert!(!plan.contains("runtime_filter"), "{plan}");
    assert_eq!(rows(&ctx, q), on);
    assert_eq!(on, ["21|63"]);
}

#[test]
fn an_empty_build_side_skips_the_whole_probe_scan() {
    let ctx = session();
    let q = "SELECT count(*) FROM big JOIN none_t ON big.k = none_t.k";
    let plan = analyze(&ctx, q);
    assert_eq!(
        metric(&plan, "MemoryScanExec", "runtime_filter_rows_removed"),
        Some(100_000),
        "{plan}"
    );
    assert_eq!(rows(&ctx, q), ["0"]);
}

#[test]
fn a_parquet_scan_skips_row_groups_outside_the_build_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.parquet").to_string_lossy().to_string();
    let ctx = session();
    ctx.execute_sql(&format!(
        "COPY big TO '{file}' (ROW_GROUP_SIZE 1000); \
         CREATE EXTERNAL TABLE pbig STORED AS PARQUET LOCATION '{file}';"
    ))
    .unwrap();
    let q =
        "SELECT count(*), min(pbig.s), max(small.name) FROM pbig JOIN small ON pbig.k = small.k";
    let plan = analyze(&ctx, q);
    // keys 500..=520 live in row group 0 (rows 1..=1000): the other 99 are skipped
    assert_eq!(
        metric(&plan, "ParquetScanExec", "runtime_filter_row_groups_pruned"),
        Some(99),
        "{plan}"
    );
    // and of the 1000 rows read, only the 21 matching ones come out of the scan
    assert_eq!(metric(&plan, "ParquetScanExec", "rows"), Some(21), "{plan}");
    assert_eq!(rows(&ctx, q), ["21|500|v520"]);
    ctx.execute_sql("SET runtime_filters = false").unwrap();
    assert_eq!(rows(&ctx, q), ["21|500|v520"]);
}

#[test]
fn only_joins_that_drop_unmatched_probe_rows_filter_them() {
    let ctx = session();
    let queries = [
        // the preserved side is the big one: nothing may be dropped there
        "SELECT count(*), count(small.k) FROM big LEFT JOIN small ON big.k = small.k",
        "SELECT count(*), count(small.k) FROM small RIGHT JOIN big ON big.k = small.k",
        "SELECT count(*), count(small.k) FROM big FULL JOIN small ON big.k = small.k",
        "SELECT count(*) FROM big WHERE NOT EXISTS (SELECT 1 FROM small WHERE small.k = big.k)",
        "SELECT count(*) FROM big WHERE k NOT IN (SELECT k FROM small)",
        // semi joins and joins preserving the small side may filter
        "SELECT count(*) FROM big WHERE EXISTS (SELECT 1 FROM small WHERE small.k = big.k)",
        "SELECT count(*) FROM big WHERE k IN (SELECT k FROM small)",
        "SELECT count(*), count(big.k) FROM small LEFT JOIN big ON big.k = small.k",
        "SELECT count(*) FROM small WHERE EXISTS (SELECT 1 FROM big WHERE small.k = big.k)",
        "SELECT count(*) FROM small WHERE NOT EXISTS (SELECT 1 FROM big WHERE small.k = big.k)",
        "SELECT count(*) FROM big JOIN small ON big.s = small.name",
        "SELECT count(*) FROM big JOIN small ON big.k = small.k AND big.g = 3",
        "SELECT count(*) FROM big b1 JOIN big b2 ON b1.k = b2.k JOIN small ON b2.k = small.k",
    ];
    let expected = [
        "100000|21",
        "100000|21",
        "100000|21",
        "99979",
        "99979",
        "21",
        "21",
        "21|21",
        "21",
        "0",
        "0",
        "3",
        "21",
    ];
    for (q, e) in queries.iter().zip(expected) {
        assert_eq!(rows(&ctx, q), [e], "{q}");
    }
    ctx.execute_sql("SET runtime_filters = false").unwrap();
    for (q, e) in queries.iter().zip(expected) {
        assert_eq!(rows(&ctx, q), [e], "{q} (runtime filters off)");
    }
}

/// A runtime filter that removes nearly every row moves into the Parquet decoder after a trial
/// (the other columns are then decoded only for the rows that pass), also when a page selection
/// from the filter's bounds is in play; the rows are the same as without runtime filters.
#[test]
fn a_very_selective_runtime_filter_moves_into_the_parquet_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir
        .path()
        .join("probe.parquet")
        .to_string_lossy()
        .to_string();
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(1));
    // 6 row groups of 50,000 rows (pages of at most 20,000 rows); keys 1..300,000 in order
    ctx.execute_sql(&format!(
        "CREATE TABLE src AS SELECT x AS k, CAST(x * 3 AS VARCHAR) AS s, \
           CASE WHEN x % 1000 = 7 THEN NULL ELSE x % 11 END AS v \
           FROM generate_series(1, 300000) t(x); \
         COPY src TO '{file}' (ROW_GROUP_SIZE 50000); \
         CREATE EXTERNAL TABLE probe STORED AS PARQUET LOCATION '{file}'; \
         CREATE TABLE build AS SELECT x * 50 AS k FROM generate_series(1, 2600) t(x) \
           UNION ALL SELECT NULL;"
    ))
    .unwrap();
    // build keys 50, 100, ..., 130,000: row groups 3-5 are pruned, the first two pages of row
    // group 0 (k > 45,000) and the last of row group 2 are skipped by the page index, and 98%
    // of the other rows are removed by the filter: the decoder that takes over after the trial
    // (row groups 0 and 1) must start at the right place of the page selection
    let q = "SELECT count(*), sum(v), min(s), max(s), count(v) \
             FROM probe JOIN build ON probe.k = build.k WHERE probe.k > 45000";
    let plan = analyze(&ctx, q);
    let in_decoder = metric(&plan, "ParquetScanExec", "runtime_filter_in_decoder");
    assert_eq!(in_decoder, Some(1), "{plan}");
    let skipped = metric(&plan, "ParquetScanExec", "page_rows_skipped");
    assert!(skipped.is_some_and(|n| n >= 20_000), "{plan}");
    assert_eq!(
        metric(&plan, "ParquetScanExec", "runtime_filter_row_groups_pruned"),
        Some(3),
        "{plan}"
    );
    let on = rows(&ctx, q);
    let semi = "SELECT count(*), sum(length(s)) FROM probe WHERE k IN (SELECT k FROM build)";
    let semi_on = rows(&ctx, semi);
    ctx.execute_sql("SET runtime_filters = false").unwrap();
    assert_eq!(rows(&ctx, q), on);
    assert_eq!(rows(&ctx, semi), semi_on);
    assert_eq!(on[0].split('|').next(), Some("1700"));
}

#[test]
fn a_partitioned_join_filters_its_probe_side_before_the_shuffle() {
    let ctx = session();
    // no broadcast: both inputs are shuffled; the build side's exchange publishes its keys
    ctx.execute_sql("SET broadcast_rows_threshold = 0").unwrap();
    let q = "SELECT count(*), sum(big.g) FROM big JOIN small ON big.k = small.k";
    let plan = analyze(&ctx, q);
    assert!(plan.contains("Partitioned"), "{plan}");
    assert!(plan.contains("publishes runtime_filter_keys"), "{plan}");
    assert_eq!(
        metric(&plan, "MemoryScanExec", "runtime_filter_rows_removed"),
        Some(100_000 - 21),
        "{plan}"
    );
    assert_eq!(rows(&ctx, q), ["21|63"]);
    // semi and anti joins, and an empty build side
    let semi = "SELECT count(*) FROM big WHERE k IN (SELECT k FROM small)";
    let anti = "SELECT count(*) FROM small WHERE NOT EXISTS (SELECT 1 FROM big WHERE big.k = small.k + 99490)";
    let empty = "SELECT count(*) FROM big JOIN none_t ON big.k = none_t.k";
    let with_filters: Vec<Vec<String>> =
        [semi, anti, empty].iter().map(|q| rows(&ctx, q)).collect();
    assert_eq!(with_filters, [vec!["21"], vec!["10"], vec!["0"]]);
    ctx.execute_sql("SET runtime_filters = false").unwrap();
    let without: Vec<Vec<String>> = [semi, anti, empty].iter().map(|q| rows(&ctx, q)).collect();
    assert_eq!(with_filters, without);
}

#[test]
fn a_build_side_too_big_to_publish_leaves_the_probe_side_unfiltered() {
    let ctx = session();
    ctx.execute_sql(
        "SET broadcast_rows_threshold = 0; \
         CREATE TABLE many AS SELECT x AS k FROM generate_series(1, 300000) t(x); \
         CREATE TABLE more AS SELECT x * 2 AS k FROM generate_series(1, 400000) t(x);",
    )
    .unwrap();
    // over MAX_BLOOM_ROWS build rows: nothing published, so nothing removed
    let q = "SELECT count(*) FROM many JOIN more ON many.k = more.k";
    let plan = analyze(&ctx, q);
    assert!(plan.contains("publishes runtime_filter_keys"), "{plan}");
    assert_eq!(
        metric(&plan, "MemoryScanExec", "runtime_filter_rows_removed"),
        None,
        "{plan}"
    );
    assert_eq!(rows(&ctx, q), ["150000"]);
}
