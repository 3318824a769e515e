//! Parquet scan benchmark on TPC-H SF1 `lineitem` (6M rows, sorted by `l_orderkey`, row groups
//! of 256Ki rows), locally and on an S3 server (moto on 127.0.0.1):
//!
//! - (a) every column, (b) two columns, (c) every column of a 1%-selective range of the sorted
//!   `l_orderkey`.
//!
//! Each query's batches are produced and dropped (no result is kept); the best of `--runs` is
//! reported with rows/s and the bytes and requests the scan fetched.
//!
//! ```text
//! cargo bench --bench scan -- [--data DIR] [--runs 3] [--s3] [--duckdb times.json]
//! ```
//! `--data` holds `lineitem.parquet` (written by `flint tpchgen --sf 1` if missing; default
//! `target/tpch-sf1`). `benches/scan/duckdb_scan.py DIR` times DuckDB's `read_parquet` on the
//! same queries and file and writes the JSON `--duckdb` reads.
//!
//! For DuckDB on the same S3 objects, start a server yourself and pass its port to both:
//! `.s3-venv/bin/moto_server -p 9555 &`, `cargo bench --bench scan -- --s3-port 9555` (uploads
//! the objects to `s3://bench/lineitem/`), `duckdb_scan.py DIR --s3-port 9555 --json d.json`
//! (needs duckdb 1.5.5 and `duckdb-extension-httpfs`, installable from PyPI), then the bench again
//! with `--duckdb d.json` for the ratios.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flint::exec::ExecutionPlan;
use flint::{SessionConfig, SessionContext};
use rayon::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The three scans; `{t}` is the table expression.
const QUERIES: [(&str, &str); 3] = [
    ("a_all_columns", "SELECT * FROM {t}"),
    (
        "b_two_columns",
        "SELECT l_orderkey, l_extendedprice FROM {t}",
    ),
    (
        "c_1pct_sorted",
        "SELECT * FROM {t} WHERE l_orderkey BETWEEN 3000000 AND 3060000",
    ),
];

struct Args {
    data: PathBuf,
    runs: usize,
    s3: bool,
    s3_port: Option<u16>,
    duckdb: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        data: PathBuf::from("target/tpch-sf1"),
        runs: 3,
        s3: false,
        s3_port: None,
        duckdb: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--data" => a.data = it.next().map(PathBuf::from).unwrap_or(a.data),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--s3" => a.s3 = true,
            "--s3-port" => {
                a.s3 = true;
                a.s3_port = it.next().and_then(|v| v.parse().ok());
            }
            "--duckdb" => a.duckdb = it.next().map(PathBuf::from),
            _ => {}
        }
    }
    a
}

/// One measured scan.
struct Measure {
    secs: f64,
    rows: usize,
    bytes: usize,
    requests: usize,
}

fn counter(plan: &Arc<dyn ExecutionPlan>, name: &str) -> usize {
    let own = plan
        .metrics()
        .map(|m| {
            m.extra()
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .sum()
        })
        .unwrap_or(0);
    own + plan
        .children()
        .iter()
        .map(|c| counter(c, name))
        .sum::<usize>()
}

/// Plans and runs `sql`, dropping batches as they come, all partitions in parallel.
fn run_once(ctx: &SessionContext, sql: &str) -> flint::Result<Measure> {
    let start = Instant::now();
    let df = ctx.sql(sql)?;
    let plan = ctx.create_physical_plan(&ctx.optimize(df.logical_plan())?)?;
    let task = ctx.task_context();
    flint::runtime::scheduler::run_stages(&plan, &task)?;
    let n = plan.output_partitioning().partition_count();
    let rows: Vec<flint::Result<usize>> = task.pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|p| {
                let mut rows = 0;
                for b in plan.execute(p, &task)? {
                    rows += b?.num_rows();
                }
                Ok(rows)
            })
            .collect()
    });
    let rows = rows.into_iter().sum::<flint::Result<usize>>()?;
    Ok(Measure {
        secs: start.elapsed().as_secs_f64(),
        rows,
        bytes: counter(&plan, "fetched_bytes"),
        requests: counter(&plan, "requests"),
    })
}

fn best(ctx: &SessionContext, sql: &str, runs: usize) -> flint::Result<Measure> {
    let _ = run_once(ctx, sql)?; // warm-up
    let mut best: Option<Measure> = None;
    for _ in 0..runs.max(1) {
        let m = run_once(ctx, sql)?;
        if best.as_ref().is_none_or(|b| m.secs < b.secs) {
            best = Some(m);
        }
    }
    Ok(best.expect("at least one run"))
}

fn report(
    place: &str,
    ctx: &SessionContext,
    table: &str,
    runs: usize,
    duck: &BTreeMap<String, f64>,
) -> flint::Result<()> {
    println!(
        "{:<8} {:<15} {:>9} {:>9} {:>12} {:>11} {:>8} {:>7} {:>10} {:>6}",
        place,
        "query",
        "rows",
        "flint s",
        "rows/s",
        "fetched MB",
        "share",
        "reqs",
        "duckdb s",
        "ratio"
    );
    let mut all_bytes = 0usize;
    for (name, q) in QUERIES {
        let m = best(ctx, &q.replace("{t}", table), runs)?;
        if name.starts_with("a_") {
            all_bytes = m.bytes.max(1);
        }
        let key = match place {
            "local" => name.to_string(),
            _ => format!("{place}_{name}"),
        };
        let (d, ratio) = match duck.get(&key) {
            Some(d) => (format!("{d:.3}"), format!("{:.2}", m.secs / d)),
            None => ("-".to_string(), "-".to_string()),
        };
        println!(
            "{:<8} {:<15} {:>9} {:>9.3} {:>12.0} {:>11.1} {:>7.1}% {:>7} {:>10} {:>6}",
            place,
            name,
            m.rows,
            m.secs,
            m.rows as f64 / m.secs,
            m.bytes as f64 / 1e6,
            100.0 * m.bytes as f64 / all_bytes as f64,
            m.requests,
            d,
            ratio
        );
    }
    Ok(())
}

/// A moto server for the S3 half, killed on drop.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> flint::Result<(Moto, u16)> {
    let bin = PathBuf::from(".s3-venv/bin/moto_server");
    if !bin.exists() {
        return Err(flint::Error::io(
            "moto is not installed: python3 -m venv .s3-venv && .s3-venv/bin/pip install 'moto[server]==5.2.5'",
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let moto = Moto(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(20) {
            return Err(flint::Error::io("moto did not start"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    Ok((moto, port))
}

fn main() {
    flint::runtime::allocator::set_freed_memory_policy(false);
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run() -> flint::Result<()> {
    let args = parse_args();
    let file = args.data.join("lineitem.parquet");
    if !file.exists() {
        println!("writing TPC-H SF 1 to {} ...", args.data.display());
        flint::catalog::tpch::write_parquet(&args.data, 1.0)?;
    }
    let duck: BTreeMap<String, f64> = match &args.duckdb {
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p)?)
            .map_err(|e| flint::Error::io(format!("cannot read {}: {e}", p.display())))?,
        None => BTreeMap::new(),
    };
    let ctx = SessionContext::with_config(SessionConfig::default());
    let local = format!("'{}'", file.display());
    report("local", &ctx, &local, args.runs, &duck)?;
    if args.s3 {
        // `--s3-port P`: a server already running (so DuckDB's script can read the same
        // objects afterwards); else a moto of our own for the run
        let (_moto, port) = match args.s3_port {
            Some(port) => (None, port),
            None => start_moto().map(|(m, p)| (Some(m), p))?,
        };
        ctx.execute_sql(&format!(
            "SET s3.endpoint = 'http://127.0.0.1:{port}'; SET s3.allow_http = true;
             SET s3.region = 'us-east-1'; SET s3.access_key_id = 'bench'; SET s3.secret_access_key = 'bench';"
        ))?;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
        std::io::Write::write_all(
            &mut s,
            format!("PUT /bench HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
        )?;
        let mut sink = vec![];
        let _ = std::io::Read::read_to_end(&mut s, &mut sink);
        // moto reads a whole object for every ranged GET, so one 216 MB object would measure
        // moto; the same rows go up as six files of 1Mi rows (row groups of 256Ki rows, still
        // sorted by l_orderkey: one partition keeps the order)
        let t = Instant::now();
        let writer =
            SessionContext::with_config(SessionConfig::default().with_target_partitions(1));
        writer.execute_sql(&format!(
            "SET s3.endpoint = 'http://127.0.0.1:{port}'; SET s3.allow_http = true;
             SET s3.region = 'us-east-1'; SET s3.access_key_id = 'bench'; SET s3.secret_access_key = 'bench';
             COPY (SELECT * FROM {local}) TO 's3://bench/lineitem/'
               (ROW_GROUP_SIZE 262144, MAX_FILE_ROWS 1048576, COMPRESSION snappy, OVERWRITE);"
        ))?;
        println!(
            "wrote lineitem to s3://bench/lineitem/ (6 files) in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        report("s3", &ctx, "'s3://bench/lineitem/'", args.runs, &duck)?;
    }
    Ok(())
}
