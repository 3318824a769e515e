//! Local files, scans and backups: scans prune by statistics, the page index and bloom filters and
//! fetch only the columns they need; every Arrow type flint supports survives a backup and a
//! restore unchanged (values, NULLs, nested types, schema and field metadata), checked type by
//! type; verify catches changed, missing and truncated files; incremental backups; backups on
//! S3; writes that fail half-way leave nothing behind.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Date64Array, Decimal128Array,
    DurationMicrosecondArray, FixedSizeBinaryArray, Float16Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int32Builder, Int64Array, LargeBinaryArray,
    LargeStringArray, ListBuilder, MapBuilder, RecordBatch, StringArray, StringBuilder,
    StructArray, Time32MillisecondArray, Time64MicrosecondArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt8Array,
    UInt16Array, UInt32Array, UInt64Array,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Fields, Schema};
use common::{MotoServer, TempDir, s3_session};
use flint::backup::{
    BackupOptions, NoProgress, RestoreOptions, backup_tables, read_manifest, restore_backup,
    verify_backup,
};
use flint::{ErrorKind, SessionConfig, SessionContext};

const N: usize = 1500;

fn opt<T: Copy>(i: usize, v: T) -> Option<T> {
    (i % 3 != 1).then_some(v)
}

/// One column per type, a third of the rows NULL, with field and schema metadata.
fn all_types() -> RecordBatch {
    let idx: Vec<usize> = (0..N).collect();
    let mut cols: Vec<(Field, ArrayRef)> = vec![];
    let mut add = |name: &str, a: ArrayRef| {
        cols.push((Field::new(name, a.data_type().clone(), true), a));
    };
    add(
        "id",
        Arc::new(Int64Array::from_iter_values(idx.iter().map(|i| *i as i64))),
    );
    add(
        "bool",
        Arc::new(BooleanArray::from(
            idx.iter().map(|i| opt(*i, i % 2 == 0)).collect::<Vec<_>>(),
        )),
    );
    add(
        "i8",
        Arc::new(Int8Array::from(
            idx.iter()
                .map(|i| opt(*i, (*i % 250) as i8))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "i16",
        Arc::new(Int16Array::from(
            idx.iter()
                .map(|i| opt(*i, -(*i as i16)))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "i32",
        Arc::new(Int32Array::from(
            idx.iter()
                .map(|i| opt(*i, i32::MIN + *i as i32))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "i64",
        Arc::new(Int64Array::from(
            idx.iter()
                .map(|i| opt(*i, i64::MAX - *i as i64))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "u8",
        Arc::new(UInt8Array::from(
            idx.iter()
                .map(|i| opt(*i, (*i % 256) as u8))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "u16",
        Arc::new(UInt16Array::from(
            idx.iter()
                .map(|i| opt(*i, u16::MAX - *i as u16))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "u32",
        Arc::new(UInt32Array::from(
            idx.iter()
                .map(|i| opt(*i, u32::MAX - *i as u32))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "u64",
        Arc::new(UInt64Array::from(
            idx.iter()
                .map(|i| opt(*i, u64::MAX - *i as u64))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "f16",
        Arc::new(Float16Array::from(
            idx.iter()
                .map(|i| opt(*i, half::f16::from_f32(*i as f32 / 4.0)))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "f32",
        Arc::new(Float32Array::from(
            idx.iter()
                .map(|i| opt(*i, *i as f32 * -0.5))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "f64",
        Arc::new(Float64Array::from(
            idx.iter()
                .map(|i| {
                    opt(
                        *i,
                        if i % 7 == 0 {
                            f64::NAN
                        } else {
                            *i as f64 / 3.0
                        },
                    )
                })
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "dec_small",
        Arc::new(
            Decimal128Array::from(
                idx.iter()
                    .map(|i| opt(*i, *i as i128 * 101 - 50000))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(9, 2)
            .unwrap(),
        ),
    );
    add(
        "dec_big",
        Arc::new(
            Decimal128Array::from(
                idx.iter()
                    .map(|i| opt(*i, i128::MAX / 10 - *i as i128))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(38, 10)
            .unwrap(),
        ),
    );
    add(
        "utf8",
        Arc::new(StringArray::from(
            idx.iter()
                .map(|i| opt(*i, ["", "a", "ünïcødé", "x,y\n\"z\""][i % 4]))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "large_utf8",
        Arc::new(LargeStringArray::from(
            idx.iter().map(|i| opt(*i, "large")).collect::<Vec<_>>(),
        )),
    );
    let bins: Vec<Vec<u8>> = idx
        .iter()
        .map(|i| vec![0u8, 255, (*i % 256) as u8])
        .collect();
    add(
        "binary",
        Arc::new(BinaryArray::from(
            idx.iter()
                .map(|i| opt(*i, bins[*i].as_slice()))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "large_binary",
        Arc::new(LargeBinaryArray::from(
            idx.iter().map(|i| opt(*i, &b"lb"[..])).collect::<Vec<_>>(),
        )),
    );
    add(
        "fixed_binary",
        Arc::new(
            FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                idx.iter().map(|i| opt(*i, (*i as u32).to_le_bytes())),
                4,
            )
            .unwrap(),
        ),
    );
    add(
        "date32",
        Arc::new(Date32Array::from(
            idx.iter()
                .map(|i| opt(*i, *i as i32 * 37 - 20000))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "date64",
        Arc::new(Date64Array::from(
            idx.iter()
                .map(|i| opt(*i, *i as i64 * 86_400_000))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "time32_ms",
        Arc::new(Time32MillisecondArray::from(
            idx.iter()
                .map(|i| opt(*i, (*i * 1000) as i32))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "time64_us",
        Arc::new(Time64MicrosecondArray::from(
            idx.iter()
                .map(|i| opt(*i, *i as i64 * 1_000_001))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "ts_s",
        Arc::new(TimestampSecondArray::from(
            idx.iter()
                .map(|i| opt(*i, *i as i64 * 3600))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "ts_ms",
        Arc::new(TimestampMillisecondArray::from(
            idx.iter()
                .map(|i| opt(*i, *i as i64 * 1001))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "ts_us",
        Arc::new(TimestampMicrosecondArray::from(
            idx.iter()
                .map(|i| opt(*i, *i as i64 * 1_000_003))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "ts_ns",
        Arc::new(TimestampNanosecondArray::from(
            idx.iter()
                .map(|i| opt(*i, *i as i64 * 1_000_000_007))
                .collect::<Vec<_>>(),
        )),
    );
    add(
        "ts_us_utc",
        Arc::new(
            TimestampMicrosecondArray::from(
                idx.iter().map(|i| opt(*i, *i as i64)).collect::<Vec<_>>(),
            )
            .with_timezone("UTC"),
        ),
    );
    add(
        "ts_ms_tz",
        Arc::new(
            TimestampMillisecondArray::from(
                idx.iter().map(|i| opt(*i, *i as i64)).collect::<Vec<_>>(),
            )
            .with_timezone("+02:00"),
        ),
    );
    add(
        "duration_us",
        Arc::new(DurationMicrosecondArray::from(
            idx.iter()
                .map(|i| opt(*i, *i as i64 - 700))
                .collect::<Vec<_>>(),
        )),
    );
    // nested: list of ints (some lists empty), list of strings, struct, map
    let mut lb = ListBuilder::new(Int32Builder::new());
    for i in &idx {
        match i % 4 {
            1 => lb.append_null(),
            2 => lb.append(true),
            _ => {
                for k in 0..(i % 5) {
                    if k == 2 {
                        lb.values().append_null();
                    } else {
                        lb.values().append_value(k as i32);
                    }
                }
                lb.append(true);
            }
        }
    }
    add("list_i32", Arc::new(lb.finish()));
    let mut ls = ListBuilder::new(StringBuilder::new());
    for i in &idx {
        if i % 3 == 1 {
            ls.append_null();
        } else {
            ls.values().append_value(format!("s{i}"));
            ls.values().append_value("t");
            ls.append(true);
        }
    }
    add("list_utf8", Arc::new(ls.finish()));
    let s_fields = Fields::from(vec![
        Field::new("a", DataType::Int32, true),
        Field::new("b", DataType::Utf8, true),
    ]);
    let s = StructArray::try_new(
        s_fields,
        vec![
            Arc::new(Int32Array::from(
                idx.iter()
                    .map(|i| opt(*i + 1, *i as i32))
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
            Arc::new(StringArray::from(
                idx.iter().map(|i| opt(*i, "b")).collect::<Vec<_>>(),
            )),
        ],
        Some(idx.iter().map(|i| i % 5 != 3).collect::<Vec<bool>>().into()),
    )
    .unwrap();
    add("struct", Arc::new(s));
    let mut mb = MapBuilder::new(None, StringBuilder::new(), Int32Builder::new());
    for i in &idx {
        if i % 3 == 1 {
            mb.append(false).unwrap();
        } else {
            mb.keys().append_value("k");
            mb.values().append_value(*i as i32);
            mb.append(true).unwrap();
        }
    }
    add("map", Arc::new(mb.finish()));

    let (mut fields, arrays): (Vec<Field>, Vec<ArrayRef>) = cols.into_iter().unzip();
    fields[1] = fields[1].clone().with_metadata(HashMap::from([(
        "comment".to_string(),
        "a flag".to_string(),
    )]));
    fields[0] = fields[0].clone().with_nullable(false);
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        HashMap::from([("owner".to_string(), "analytics".to_string())]),
    ));
    RecordBatch::try_new(schema, arrays).unwrap()
}

fn one_partition() -> SessionContext {
    SessionContext::with_config(SessionConfig::default().with_target_partitions(1))
}

#[test]
fn every_type_survives_backup_and_restore() {
    let dir = TempDir::new("backup-types");
    let dest = dir.path("bk");
    let original = all_types();
    let ctx = one_partition();
    // several batches, so files and batches split differently on the way back
    let batches: Vec<RecordBatch> = (0..3).map(|k| original.slice(k * 500, 500)).collect();
    ctx.register_batches("everything", original.schema(), batches)
        .unwrap();
    let options = BackupOptions {
        max_file_rows: 700,
        ..BackupOptions::default()
    };
    let m = backup_tables(&ctx, &["everything".into()], &dest, &options, &NoProgress).unwrap();
    assert_eq!(m.tables[0].rows, N as u64);
    assert_eq!(m.tables[0].files.len(), 3);
    verify_backup(&ctx, &dest, &NoProgress).unwrap();

    let fresh = one_partition();
    restore_backup(&fresh, &dest, &RestoreOptions::default(), &NoProgress).unwrap();
    let restored = fresh.table("everything").unwrap();
    let got = fresh.table_provider_opt("everything").unwrap().schema();
    assert_eq!(
        got.as_ref(),
        original.schema().as_ref(),
        "schema with metadata"
    );
    let rows = restored.collect().unwrap();
    let rows = concat_batches(&got, &rows).unwrap();
    assert_eq!(rows.num_rows(), N);
    for (i, f) in original.schema().fields().iter().enumerate() {
        assert_eq!(
            rows.column(i).as_ref(),
            original.column(i).as_ref(),
            "column {} of type {} changed in the round trip",
            f.name(),
            f.data_type()
        );
    }
}

#[test]
fn verify_catches_changed_missing_and_truncated_files() {
    let dir = TempDir::new("backup-verify");
    let ctx = one_partition();
    ctx.execute_sql("CREATE TABLE t AS SELECT i, 'v' || i AS s FROM range(3000) r(i)")
        .unwrap();
    let dest = dir.path("bk");
    let opts = BackupOptions {
        max_file_rows: 1000,
        ..BackupOptions::default()
    };
    let m = backup_tables(&ctx, &["t".into()], &dest, &opts, &NoProgress).unwrap();
    // a second backup to the same place needs --overwrite
    let e = backup_tables(&ctx, &["t".into()], &dest, &opts, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let file = dir.0.join("bk").join(&m.tables[0].files[1].path);
    let good = std::fs::read(&file).unwrap();
    // one flipped byte
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 1;
    std::fs::write(&file, &bad).unwrap();
    let e = verify_backup(&ctx, &dest, &NoProgress).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("table t")
            && msg.contains(&m.tables[0].files[1].path)
            && msg.contains("SHA-256"),
        "{msg}"
    );
    let e = restore_backup(
        &one_partition(),
        &dest,
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(e.to_string().contains("SHA-256"), "{e}");
    // truncated
    std::fs::write(&file, &good[..good.len() - 10]).unwrap();
    let e = verify_backup(&ctx, &dest, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("bytes, the manifest says"), "{e}");
    // missing
    std::fs::remove_file(&file).unwrap();
    let e = verify_backup(&ctx, &dest, &NoProgress).unwrap_err();
    assert!(
        e.to_string().contains("table t") && e.to_string().contains("not found"),
        "{e}"
    );
    // restored and healthy again
    std::fs::write(&file, &good).unwrap();
    verify_backup(&ctx, &dest, &NoProgress).unwrap();
    // a manifest that lies about the rows
    let mpath = dir.0.join("bk/manifest.json");
    let text = std::fs::read_to_string(&mpath).unwrap();
    std::fs::write(&mpath, text.replacen("\"rows\": 1000", "\"rows\": 999", 1)).unwrap();
    let e = verify_backup(&ctx, &dest, &NoProgress).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format, "{e}");
    // no backup at all
    let e = verify_backup(&ctx, &dir.path("nothing"), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("no backup at"), "{e}");
}

#[test]
fn incremental_backups_and_external_restore() {
    let dir = TempDir::new("backup-incr");
    let ctx = one_partition();
    ctx.execute_sql(
        "CREATE TABLE ev AS SELECT i AS id, CAST(DATE '2023-12-01' + CAST(i AS INT) AS TIMESTAMP) AS ts FROM range(100) r(i)",
    )
    .unwrap();
    let full = dir.path("full");
    let incr = dir.path("incr");
    backup_tables(
        &ctx,
        &["ev".into()],
        &full,
        &BackupOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let opts = BackupOptions {
        predicate: Some("ts >= '2024-01-01'".into()),
        ..BackupOptions::default()
    };
    let m = backup_tables(&ctx, &["ev".into()], &incr, &opts, &NoProgress).unwrap();
    assert_eq!(m.tables[0].rows, 69);
    assert_eq!(
        read_manifest(&ctx, &incr).unwrap().predicate.as_deref(),
        Some("ts >= '2024-01-01'")
    );
    let fresh = one_partition();
    restore_backup(
        &fresh,
        &incr,
        &RestoreOptions {
            as_external: true,
            ..RestoreOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    let b = fresh
        .sql("SELECT count(*), min(id) FROM ev")
        .unwrap()
        .collect()
        .unwrap();
    let shown = arrow::util::pretty::pretty_format_batches(&b)
        .unwrap()
        .to_string();
    assert!(shown.contains("| 69       | 31      |"), "{shown}");
    // restoring over an existing table is refused
    let e = restore_backup(&fresh, &full, &RestoreOptions::default(), &NoProgress).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    // a predicate on a column the table lacks is a clear error, and leaves no backup behind
    let bad = BackupOptions {
        predicate: Some("nope > 1".into()),
        ..BackupOptions::default()
    };
    let e = backup_tables(&ctx, &["ev".into()], &dir.path("bad"), &bad, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    assert!(!dir.0.join("bad").join("manifest.json").exists());
}

#[test]
fn backups_on_s3() {
    let s3 = MotoServer::start();
    s3.create_bucket("backups");
    let ctx = s3_session(s3.port, "test", "test");
    ctx.execute_sql("CREATE TABLE a AS SELECT i, i * 2 AS j FROM range(5000) r(i); CREATE TABLE b AS SELECT 'x' AS s")
        .unwrap();
    backup_tables(
        &ctx,
        &["a".into(), "b".into()],
        "s3://backups/nightly",
        &BackupOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let keys = s3.keys("backups", "nightly/");
    assert!(
        keys.contains(&"nightly/manifest.json".to_string()),
        "{keys:?}"
    );
    verify_backup(&ctx, "s3://backups/nightly", &NoProgress).unwrap();
    let fresh = s3_session(s3.port, "test", "test");
    restore_backup(
        &fresh,
        "s3://backups/nightly/",
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(fresh.table("a").unwrap().count().unwrap(), 5000);
    // a corrupted object is caught and named
    let key = keys.iter().find(|k| k.starts_with("nightly/a/")).unwrap();
    s3.put("backups", key, b"garbage");
    let e = verify_backup(&ctx, "s3://backups/nightly", &NoProgress).unwrap_err();
    assert!(
        e.to_string().contains(&format!("s3://backups/{key}")),
        "{e}"
    );
}

#[test]
fn failed_local_writes_leave_nothing() {
    let dir = TempDir::new("atomic");
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(2));
    // the query fails after some rows were written
    for target in ["out/", "single.parquet", "parts/"] {
        let extra = if target == "parts/" {
            " (PARTITION_BY (k))"
        } else {
            ""
        };
        let e = ctx
            .execute_sql(&format!(
                "COPY (SELECT i, i % 5 AS k, 10 / (i - 150000) AS boom FROM range(200000) t(i)) TO '{}'{extra}",
                dir.path(target)
            ))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Execution, "{e}");
    }
    let left: Vec<_> = std::fs::read_dir(&dir.0).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // an existing target is kept intact when an OVERWRITE fails
    ctx.execute_sql(&format!("COPY (SELECT 1 AS i) TO '{}'", dir.path("keep/")))
        .unwrap();
    let e = ctx
        .execute_sql(&format!(
            "COPY (SELECT 10 / (i - 150000) AS i FROM range(200000) t(i)) TO '{}' (OVERWRITE)",
            dir.path("keep/")
        ))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Execution, "{e}");
    let b = ctx
        .sql(&format!("SELECT count(*) FROM '{}'", dir.path("keep/")))
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(b[0].num_rows(), 1);
    // missing, truncated and corrupt local files
    let e = ctx
        .sql(&format!("SELECT * FROM '{}'", dir.path("missing.parquet")))
        .unwrap_err();
    assert!(e.to_string().contains("missing.parquet"), "{e}");
    let good = dir.path("good.parquet");
    ctx.execute_sql(&format!(
        "COPY (SELECT i FROM range(1000) t(i)) TO '{good}'"
    ))
    .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(dir.path("truncated.parquet"), &bytes[..bytes.len() - 100]).unwrap();
    let e = ctx
        .sql(&format!(
            "SELECT * FROM '{}'",
            dir.path("truncated.parquet")
        ))
        .unwrap_err();
    assert!(e.to_string().contains("truncated.parquet"), "{e}");
}

/// Runs `sql`, returns the scan's counters by name and the number of result rows.
fn run_counted(ctx: &SessionContext, sql: &str) -> (HashMap<&'static str, usize>, usize) {
    let df = ctx.sql(sql).unwrap();
    let plan = ctx
        .create_physical_plan(&ctx.optimize(df.logical_plan()).unwrap())
        .unwrap();
    let rows: usize = flint::runtime::scheduler::collect(&plan, &ctx.task_context())
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum();
    let names = [
        "row_groups_scanned",
        "row_groups_pruned_bloom",
        "page_rows_skipped",
        "rows_removed_by_row_filter",
        "fetched_bytes",
        "requests",
    ];
    (
        names
            .iter()
            .map(|n| (*n, common::scan_counter(&plan, n)))
            .collect(),
        rows,
    )
}

#[test]
fn scans_prune_by_statistics_page_index_and_bloom_filters() {
    let dir = TempDir::new("pruning");
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(2));
    // late materialization is on by default only for S3; here it is asked for
    ctx.execute_sql("SET parquet.pushdown_filters = true")
        .unwrap();
    let file = dir.path("sorted.parquet");
    // 2 row groups of 100000 rows, pages of at most 20000 rows, a bloom filter on `tag`
    ctx.execute_sql(&format!(
        "COPY (SELECT i, md5(CAST(i AS VARCHAR)) AS tag, i % 10 AS m, 'pad' || i AS pad FROM range(200000) t(i))
           TO '{file}' (ROW_GROUP_SIZE 100000, BLOOM_FILTER_COLUMNS 'tag')"
    ))
    .unwrap();
    let table = format!("'{file}'");
    let (all, n) = run_counted(&ctx, &format!("SELECT * FROM {table}"));
    assert_eq!((n, all["row_groups_scanned"]), (200000, 2));

    // statistics rule out one row group, the page index most of the other
    let (m, n) = run_counted(
        &ctx,
        &format!("SELECT * FROM {table} WHERE i BETWEEN 50000 AND 50099"),
    );
    assert_eq!(n, 100);
    assert_eq!(m["row_groups_scanned"], 1, "{m:?}");
    assert!(m["page_rows_skipped"] >= 75000, "{m:?}");
    // (the string columns' dictionary pages are needed whatever the selection)
    assert!(
        m["fetched_bytes"] * 3 < all["fetched_bytes"],
        "{m:?} vs {all:?}"
    );

    // min/max of md5 strings span everything: the bloom filter finds the one row group
    let tag = "c4ca4238a0b923820dcc509a6f75849b"; // md5('1')
    let (m, n) = run_counted(&ctx, &format!("SELECT i FROM {table} WHERE tag = '{tag}'"));
    assert_eq!(n, 1);
    assert_eq!(m["row_groups_pruned_bloom"], 1, "{m:?}");
    let (m, n) = run_counted(
        &ctx,
        &format!("SELECT i FROM {table} WHERE tag IN ('0123', 'abc')"),
    );
    assert_eq!(n, 0);
    assert_eq!(m["row_groups_pruned_bloom"], 2, "{m:?}");

    // late materialization: the filter runs inside the decoder
    let (m, n) = run_counted(&ctx, &format!("SELECT pad FROM {table} WHERE m = 3"));
    assert_eq!(n, 20000);
    assert_eq!(m["rows_removed_by_row_filter"], 180000, "{m:?}");
    // a filter most rows pass is dropped after the first row groups (20 row groups here)
    let many = dir.path("many.parquet");
    ctx.execute_sql(&format!(
        "COPY (SELECT * FROM {table}) TO '{many}' (ROW_GROUP_SIZE 10000)"
    ))
    .unwrap();
    let (m, n) = run_counted(&ctx, &format!("SELECT pad FROM '{many}' WHERE m <> 3"));
    assert_eq!(n, 180000);
    assert!(m["rows_removed_by_row_filter"] < 20000 / 2, "{m:?}");
    ctx.execute_sql("SET parquet.pushdown_filters = false")
        .unwrap();
    let (m, n) = run_counted(&ctx, &format!("SELECT pad FROM {table} WHERE m = 3"));
    assert_eq!((n, m["rows_removed_by_row_filter"]), (20000, 0));

    // projection: one narrow column costs a fraction of the bytes
    let (m, _) = run_counted(&ctx, &format!("SELECT sum(m) FROM {table}"));
    assert!(
        m["fetched_bytes"] * 4 < all["fetched_bytes"],
        "{m:?} vs {all:?}"
    );
}

#[test]
fn a_cancelled_write_leaves_nothing() {
    let dir = TempDir::new("cancel");
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(2));
    let token = flint::runtime::CancellationToken::new();
    let canceller = {
        let t = token.clone();
        let out = dir.0.join("out");
        std::thread::spawn(move || {
            // cancel once the write has started creating files
            let start = std::time::Instant::now();
            while !out.exists() && start.elapsed().as_secs() < 30 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            t.cancel();
        })
    };
    let e = ctx
        .execute_sql_cancellable(
            &format!(
                "COPY (SELECT i, md5(CAST(i AS VARCHAR)) AS s FROM range(50000000) t(i)) TO '{}'",
                dir.path("out/")
            ),
            &token,
        )
        .unwrap_err();
    canceller.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    let left: Vec<_> = std::fs::read_dir(&dir.0).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn backup_and_restore_commands() {
    let dir = TempDir::new("cli");
    let setup = dir.path("setup.sql");
    std::fs::write(
        &setup,
        "CREATE TABLE orders AS SELECT i AS id, CAST(DATE '2024-01-01' + CAST(i % 90 AS INT) AS DATE) AS day FROM range(3000) t(i);
         CREATE TABLE notes AS SELECT 'hello' AS txt;",
    )
    .unwrap();
    let flint = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_flint"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let full = dir.path("full");
    let (ok, out, err) = flint(&["backup", "--setup", &setup, "--to", &full]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("backed up orders: 3000 rows") && out.contains("backed up notes: 1 rows"),
        "{out}"
    );
    let incr = dir.path("incr");
    let (ok, out, err) = flint(&[
        "backup",
        "--setup",
        &setup,
        "--tables",
        "orders",
        "--where",
        "day >= DATE '2024-03-01'",
        "--to",
        &incr,
    ]);
    assert!(ok, "{out}{err}");
    let (ok, out, _) = flint(&["backup", "--verify", &full]);
    assert!(ok && out.contains("is intact"), "{out}");
    let (ok, out, err) = flint(&[
        "restore",
        "--from",
        &incr,
        "--sql",
        "SELECT count(*) AS n, min(day) AS first FROM orders",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("| 990 | 2024-03-01 |"), "{out}");
    let (ok, out, err) = flint(&[
        "restore",
        "--from",
        &full,
        "--as-external",
        "--tables",
        "notes",
        "--sql",
        "SELECT txt FROM notes",
    ]);
    assert!(
        ok && out.contains("hello") && out.contains("as an external table"),
        "{out}{err}"
    );
    // files named on the command line become tables
    let data = dir.path("data.parquet");
    let ctx = SessionContext::new();
    ctx.execute_sql(&format!("COPY (SELECT 1 AS x) TO '{data}'"))
        .unwrap();
    let (ok, out, err) = flint(&["backup", &data, "--to", &dir.path("files")]);
    assert!(ok && out.contains("backed up data: 1 rows"), "{out}{err}");
    // a damaged backup fails with the table and file named, and a non-zero exit
    let manifest = flint::backup::read_manifest(&ctx, &full).unwrap();
    let f = &manifest.table("orders").unwrap().files[0].path;
    std::fs::write(dir.0.join("full").join(f), b"oops").unwrap();
    let (ok, _, err) = flint(&["backup", "--verify", &full]);
    assert!(
        !ok && err.contains("table orders") && err.contains(f.as_str()),
        "{err}"
    );
    let (ok, _, err) = flint(&["backup", "--setup", &setup, "--to", &full]);
    assert!(!ok && err.contains("--overwrite"), "{err}");
}
