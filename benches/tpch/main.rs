//! TPC-H benchmark: runs the 22 queries over Parquet files and prints each
//! query's best time (after a warm-up), optionally next to DuckDB's times.
//!
//! ```text
//! cargo bench --bench tpch -- --sf 1 [--data DIR] [--queries DIR] [--runs 3] [--duckdb times.json] [--query 5] [--set name=value]
//! ```
//! Data is written to `DIR` (default `target/tpch-sf<SF>`) on first use with
//! flint's own generator (`flint tpchgen`). `benches/tpch/duckdb_bench.py`
//! produces the JSON of DuckDB times on the same files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use flint::{SessionConfig, SessionContext};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    sf: f64,
    data: Option<PathBuf>,
    queries: PathBuf,
    runs: usize,
    duckdb: Option<PathBuf>,
    only: Option<usize>,
    memory: bool,
    settings: Vec<(String, String)>,
}

fn parse_args() -> Args {
    let mut a = Args {
        sf: 1.0,
        data: None,
        queries: PathBuf::from("../shared/tpch"),
        runs: 3,
        duckdb: None,
        only: None,
        memory: false,
        settings: vec![],
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sf" => a.sf = it.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
            "--data" => a.data = it.next().map(PathBuf::from),
            "--queries" => a.queries = it.next().map(PathBuf::from).unwrap_or(a.queries),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--duckdb" => a.duckdb = it.next().map(PathBuf::from),
            "--query" => a.only = it.next().and_then(|v| v.parse().ok()),
            "--memory" => a.memory = true,
            "--set" => {
                if let Some((k, v)) = it.next().as_deref().and_then(|kv| kv.split_once('=')) {
                    a.settings.push((k.to_string(), v.to_string()));
                }
            }
            _ => {}
        }
    }
    a
}

fn main() {
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run() -> flint::Result<()> {
    let args = parse_args();
    let ctx = SessionContext::with_config(SessionConfig::default());
    for (k, v) in &args.settings {
        ctx.set(k, v)?;
    }
    // as the `flint` binary does: keep freed memory unless a memory limit is set
    let explicit_limit = args
        .settings
        .iter()
        .any(|(k, v)| k == "memory_limit" && v != "unlimited" && v != "default");
    flint::runtime::allocator::set_freed_memory_policy(explicit_limit);
    if args.memory {
        let t = Instant::now();
        ctx.load_tpch(args.sf)?;
        println!(
            "generated SF {} in memory in {:.1} s",
            args.sf,
            t.elapsed().as_secs_f64()
        );
    } else {
        let dir = args
            .data
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("target/tpch-sf{}", args.sf)));
        if !dir.join("lineitem.parquet").exists() {
            let t = Instant::now();
            flint::catalog::tpch::write_parquet(&dir, args.sf)?;
            println!(
                "wrote SF {} Parquet to {} in {:.1} s",
                args.sf,
                dir.display(),
                t.elapsed().as_secs_f64()
            );
        }
        for t in flint::catalog::tpch::TPCH_TABLES {
            ctx.register_parquet(t, &dir.join(format!("{t}.parquet")).display().to_string())?;
        }
    }
    let duck: BTreeMap<String, f64> = match &args.duckdb {
        Some(p) => {
            let text = std::fs::read_to_string(p)?;
            serde_json::from_str::<BTreeMap<String, f64>>(&text)
                .map_err(|e| flint::Error::io(format!("cannot read {}: {e}", p.display())))?
        }
        None => BTreeMap::new(),
    };
    println!(
        "{:<6} {:>10} {:>8} {:>10} {:>8}",
        "query", "flint (s)", "rows", "duckdb (s)", "ratio"
    );
    let mut total = 0.0;
    let mut duck_total = 0.0;
    for q in 1..=22 {
        if args.only.is_some_and(|o| o != q) {
            continue;
        }
        let name = format!("q{q:02}");
        let sql = std::fs::read_to_string(args.queries.join(format!("{name}.sql")))?;
        let mut best = f64::MAX;
        let mut rows = 0;
        for run in 0..=args.runs {
            let t = Instant::now();
            let batches = ctx.sql(&sql)?.collect()?;
            let secs = t.elapsed().as_secs_f64();
            rows = batches.iter().map(|b| b.num_rows()).sum();
            if run > 0 {
                best = best.min(secs);
            }
        }
        total += best;
        match duck.get(&name) {
            Some(d) => {
                duck_total += d;
                println!(
                    "{name:<6} {best:>10.3} {rows:>8} {d:>10.3} {:>8.2}",
                    best / d
                );
            }
            None => println!("{name:<6} {best:>10.3} {rows:>8}"),
        }
    }
    if duck_total > 0.0 {
        println!(
            "{:<6} {total:>10.3} {:>8} {duck_total:>10.3} {:>8.2}",
            "total",
            "",
            total / duck_total
        );
    } else {
        println!("{:<6} {total:>10.3}", "total");
    }
    Ok(())
}
