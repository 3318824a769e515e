//! Parquet and CSV on S3 against a real S3-compatible server (moto on 127.0.0.1, started per
//! test): queries, writes, external tables, settings from SQL, table options and the
//! environment, and faults — wrong credentials or bucket, corrupt objects, a connection cut
//! mid-upload, a server that dies mid-write. Without the server these tests fail, naming the
//! install command.

mod common;

use std::process::Command;

use arrow::array::{Array, Int64Array};
use common::{FaultProxy, MotoServer, s3_session};
use flint::ErrorKind;
use flint::io::write::WriteOptions;

fn count(ctx: &flint::SessionContext, sql: &str) -> i64 {
    let b = ctx.sql(sql).unwrap().collect().unwrap();
    b[0].column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("an integer")
        .value(0)
}

fn scan_metric(ctx: &flint::SessionContext, sql: &str, name: &str) -> usize {
    let text = ctx.sql(sql).unwrap().explain(false, true).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("ParquetScanExec"))
        .unwrap_or_else(|| panic!("no scan in {text}"));
    let key = format!(" {name}=");
    let Some(i) = line.find(&key) else { return 0 };
    let v = &line[i + key.len()..];
    let v = v.split_whitespace().next().unwrap_or("0");
    v.parse().unwrap_or_else(|_| panic!("{name} in {line}"))
}

#[test]
fn queries_writes_and_external_tables_on_s3() {
    let s3 = MotoServer::start();
    s3.create_bucket("data");
    let ctx = s3_session(s3.port, "test", "test");
    ctx.execute_sql(
        "COPY (SELECT i, i % 4 AS k, 'name ' || i AS s, i * 0.5 AS d FROM range(20000) t(i))
           TO 's3://data/events/' (FORMAT parquet, PARTITION_BY (k), ROW_GROUP_SIZE 1000, COMPRESSION zstd);
         COPY (SELECT i, 'x' || i AS s FROM range(100) t(i)) TO 's3://data/small.csv' (HEADER, DELIMITER '|');
         COPY (SELECT i FROM range(10) t(i)) TO 's3://data/one.parquet';",
    )
    .unwrap();
    // hidden staging names never show up; every partition folder holds files
    let keys = s3.keys("data", "events/");
    assert!(
        keys.iter()
            .all(|k| k.ends_with(".parquet") && k.contains("k=")),
        "{keys:?}"
    );
    assert!(s3.uploads("data").is_empty());
    assert_eq!(
        count(&ctx, "SELECT count(*) FROM 's3://data/events/'"),
        20000
    );
    assert_eq!(
        count(
            &ctx,
            "SELECT sum(i) FROM read_parquet('s3://data/events/*/*.parquet')"
        ),
        (0..20000).sum::<i64>()
    );
    assert_eq!(
        count(&ctx, "SELECT count(*) FROM 's3://data/events/' WHERE k = 3"),
        5000
    );
    assert_eq!(
        count(
            &ctx,
            "SELECT sum(i) FROM read_csv('s3://data/small.csv', delimiter => '|')"
        ),
        4950
    );
    assert_eq!(
        count(&ctx, "SELECT count(*) FROM 's3://data/one.parquet'"),
        10
    );
    // partition pruning skips folders; a selective predicate skips row groups
    let q = "SELECT count(*) FROM 's3://data/events/' WHERE k = 1 AND i < 1000";
    let text = ctx.sql(q).unwrap().explain(false, true).unwrap();
    assert!(text.contains("(pruned 6)"), "{text}");
    // projection: one column fetches less than all of them
    let all = scan_metric(&ctx, "SELECT * FROM 's3://data/events/'", "requests");
    assert!(all > 0);
    let one_col = "SELECT sum(i) FROM 's3://data/events/'";
    let all_cols = "SELECT i, s, d FROM 's3://data/events/'";
    let bytes_one = fetched(&ctx, one_col);
    let bytes_all = fetched(&ctx, all_cols);
    assert!(bytes_one * 2 < bytes_all, "{bytes_one} vs {bytes_all}");

    // an external table with its own options, in a session without S3 settings
    let plain = flint::SessionContext::new();
    plain
        .execute_sql(&format!(
            "CREATE EXTERNAL TABLE ev STORED AS PARQUET LOCATION 's3://data/events/'
             OPTIONS ('s3.endpoint' '{}', 's3.allow_http' 'true', 's3.region' 'us-east-1',
                      's3.access_key_id' 'test', 's3.secret_access_key' 'test')",
            s3.endpoint()
        ))
        .unwrap();
    assert_eq!(count(&plain, "SELECT count(*) FROM ev WHERE k = 0"), 5000);
    // INSERT adds files, readers see them at once
    plain
        .execute_sql("INSERT INTO ev VALUES (-1, 'new', -0.5, 9)")
        .unwrap();
    assert_eq!(count(&plain, "SELECT count(*) FROM ev"), 20001);
    assert_eq!(count(&plain, "SELECT count(*) FROM ev WHERE k = 9"), 1);
    assert_eq!(
        count(&ctx, "SELECT count(*) FROM 's3://data/events/'"),
        20001
    );

    // the library API
    let df = ctx
        .sql("SELECT i, i * 2 AS j FROM range(1000) t(i)")
        .unwrap();
    let w = df
        .write_parquet(
            "s3://data/lib/",
            WriteOptions::parquet().with_max_file_rows(300),
        )
        .unwrap();
    assert_eq!((w.rows, w.files.len()), (1000, 4));
    assert_eq!(
        ctx.read_parquet("s3://data/lib/").unwrap().count().unwrap(),
        1000
    );
    // writing over an existing target needs OVERWRITE
    let e = ctx
        .execute_sql("COPY (SELECT 1 AS i) TO 's3://data/lib/'")
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    ctx.execute_sql("COPY (SELECT 1 AS i) TO 's3://data/lib/' (OVERWRITE)")
        .unwrap();
    assert_eq!(count(&ctx, "SELECT count(*) FROM 's3://data/lib/'"), 1);
    assert_eq!(s3.keys("data", "lib/").len(), 1);
}

fn fetched(ctx: &flint::SessionContext, sql: &str) -> usize {
    let df = ctx.sql(sql).unwrap();
    let plan = ctx
        .create_physical_plan(&ctx.optimize(df.logical_plan()).unwrap())
        .unwrap();
    flint::runtime::scheduler::collect(&plan, &ctx.task_context()).unwrap();
    common::scan_counter(&plan, "fetched_bytes")
}

#[test]
fn settings_come_from_the_environment() {
    let s3 = MotoServer::start();
    s3.create_bucket("env");
    let ctx = s3_session(s3.port, "test", "test");
    ctx.execute_sql("COPY (SELECT 42 AS answer) TO 's3://env/a.parquet'")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flint"))
        .args([
            "--no-demo",
            "--format",
            "csv",
            "-c",
            "SELECT answer FROM 's3://env/a.parquet'",
        ])
        .env("AWS_ENDPOINT", s3.endpoint())
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("42"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn wrong_credentials_and_bucket_are_clear_errors() {
    let s3 = MotoServer::start();
    s3.create_bucket("secure");
    let (key, secret) = s3.enable_iam();
    let good = s3_session(s3.port, &key, &secret);
    good.execute_sql("COPY (SELECT 1 AS x) TO 's3://secure/t.parquet'")
        .unwrap();
    assert_eq!(
        count(&good, "SELECT count(*) FROM 's3://secure/t.parquet'"),
        1
    );

    let wrong_secret = s3_session(s3.port, &key, "not-the-secret");
    let e = wrong_secret
        .sql("SELECT * FROM 's3://secure/t.parquet'")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    let m = e.to_string();
    assert!(
        m.contains("s3://secure/t.parquet") && m.contains("403"),
        "{m}"
    );

    let unknown_key = s3_session(s3.port, "AKIAUNKNOWN000000000", "x");
    let e = unknown_key
        .execute_sql("COPY (SELECT 1 AS x) TO 's3://secure/u.parquet'")
        .unwrap_err();
    assert!(e.to_string().contains("s3://secure/u.parquet"), "{e}");

    let e = good
        .sql("SELECT * FROM 's3://no-such-bucket/t.parquet'")
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("s3://no-such-bucket/t.parquet") && m.contains("NoSuchBucket"),
        "{m}"
    );
}

#[test]
fn corrupt_truncated_and_missing_objects_name_the_object() {
    let s3 = MotoServer::start();
    s3.create_bucket("bbkt");
    let ctx = s3_session(s3.port, "test", "test");
    ctx.execute_sql(
        "COPY (SELECT i, 'v' || i AS s FROM range(5000) t(i)) TO 's3://bbkt/good.parquet'",
    )
    .unwrap();
    let dir = common::TempDir::new("s3corrupt");
    let local = dir.path("good.parquet");
    ctx.execute_sql(&format!(
        "COPY (SELECT i, 'v' || i AS s FROM range(5000) t(i)) TO '{local}'"
    ))
    .unwrap();
    let good = std::fs::read(&local).unwrap();
    s3.put("bbkt", "truncated.parquet", &good[..good.len() / 2]);
    // damage the data pages (not the footer)
    let mut flipped = good.clone();
    for b in flipped[4..good.len() / 2].iter_mut().step_by(7) {
        *b ^= 0x5a;
    }
    s3.put("bbkt", "corrupt.parquet", &flipped);
    s3.put("bbkt", "garbage.parquet", b"this is not parquet at all");
    for (name, expect) in [
        ("truncated.parquet", "truncated.parquet"),
        ("garbage.parquet", "garbage.parquet"),
        ("missing.parquet", "missing.parquet"),
    ] {
        let e = ctx
            .sql(&format!("SELECT count(*) FROM 's3://bbkt/{name}'"))
            .and_then(|df| df.collect())
            .unwrap_err();
        assert!(e.to_string().contains(expect), "{name}: {e}");
    }
    let e = ctx
        .sql("SELECT sum(i), sum(length(s)) FROM 's3://bbkt/corrupt.parquet'")
        .and_then(|df| df.collect())
        .unwrap_err();
    assert!(e.to_string().contains("s3://bbkt/corrupt.parquet"), "{e}");
}

/// Output big enough for several multipart parts.
const BIG: &str = "SELECT i, repeat(md5(CAST(i AS VARCHAR)), 4) AS s FROM range(100000) t(i)";

#[test]
fn a_connection_cut_mid_upload_leaves_nothing() {
    let s3 = MotoServer::start();
    s3.create_bucket("wbkt");
    let proxy = FaultProxy::start(s3.port);
    let ctx = s3_session(proxy.port, "test", "test");
    // parts are 8 MiB: every part upload dies after 1 MiB, small requests pass
    proxy.cut_connections_after(1024 * 1024);
    for target in ["s3://wbkt/out/", "s3://wbkt/single.parquet"] {
        let e = ctx
            .execute_sql(&format!(
                "COPY ({BIG}) TO '{target}' (COMPRESSION uncompressed, PER_THREAD_OUTPUT {})",
                target.ends_with('/')
            ))
            .unwrap_err();
        let m = e.to_string();
        assert!(m.contains("s3://wbkt/"), "{m}");
    }
    assert!(s3.keys("wbkt", "").is_empty(), "{:?}", s3.keys("wbkt", ""));
    assert!(
        s3.uploads("wbkt").is_empty(),
        "uploads left: {:?}",
        s3.uploads("wbkt")
    );
    // with the connection healthy again a write succeeds
    proxy.cut_connections_after(u64::MAX);
    ctx.execute_sql("COPY (SELECT i FROM range(1000) t(i)) TO 's3://wbkt/out/'")
        .unwrap();
    assert_eq!(count(&ctx, "SELECT count(*) FROM 's3://wbkt/out/'"), 1000);
}

#[test]
fn a_server_that_dies_mid_write_leaves_nothing_visible() {
    let mut s3 = MotoServer::start();
    s3.create_bucket("dbkt");
    let proxy = std::sync::Arc::new(FaultProxy::start(s3.port));
    let ctx = s3_session(proxy.port, "test", "test");
    // the server becomes unreachable once 4 MB are on their way
    let watcher = {
        let p = proxy.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            while p.forwarded() < 4 * 1024 * 1024 && start.elapsed().as_secs() < 60 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            p.set_down(true);
        })
    };
    let e = ctx
        .execute_sql(&format!(
            "COPY ({BIG}) TO 's3://dbkt/out/' (COMPRESSION uncompressed)"
        ))
        .unwrap_err();
    watcher.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.to_string().contains("s3://dbkt/out/"), "{e}");
    // the server is back: nothing under the target is visible
    proxy.set_down(false);
    assert!(
        s3.keys("dbkt", "out/").is_empty(),
        "{:?}",
        s3.keys("dbkt", "out/")
    );
    let e = ctx
        .sql("SELECT count(*) FROM read_parquet('s3://dbkt/out/')")
        .unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");

    // and a server process killed mid-write is an error too, not a panic
    let killer = {
        let p = proxy.clone();
        std::thread::spawn(move || {
            let before = p.forwarded();
            while p.forwarded() < before + 4 * 1024 * 1024 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let ctx2 = ctx.clone();
    let writer = std::thread::spawn(move || {
        let r = ctx2.execute_sql(&format!(
            "COPY ({BIG}) TO 's3://dbkt/again/' (COMPRESSION uncompressed)"
        ));
        tx.send(()).unwrap();
        r
    });
    killer.join().unwrap();
    s3.kill();
    let _ = rx.recv();
    let e = writer.join().expect("no panic").unwrap_err();
    assert!(e.to_string().contains("s3://dbkt/again/"), "{e}");
}
