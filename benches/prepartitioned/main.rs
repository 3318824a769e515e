//! Pre-partitioned join benchmark: TPC-H `orders ⋈ lineitem` on the order key, then an
//! aggregation on that key, over (1) plain in-memory tables (both sides shuffled), (2) tables
//! created `CLUSTERED BY (orderkey) INTO n BUCKETS` (no shuffle), (3) plain Parquet folders and
//! (4) bucketed Parquet folders written with `COPY ... (BUCKET_BY (..), BUCKETS n)`. Prints the
//! best time of each (after a warm-up) and the shuffles (hash exchanges) in its plan; with
//! `--explain`, each plan with its metrics (`EXPLAIN ANALYZE`).
//!
//! ```text
//! cargo bench --bench prepartitioned -- [--sf 1] [--runs 3] [--buckets N] [--data DIR] [--explain]
//! ```
//! Data comes from flint's TPC-H generator (`tpchgen-arrow`), in memory; the Parquet folders are
//! written to `DIR` (default `target/prepartitioned-sf<SF>`), replaced on every run.

use std::path::PathBuf;
use std::time::Instant;

use flint::{SessionConfig, SessionContext};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    sf: f64,
    runs: usize,
    buckets: Option<usize>,
    data: Option<PathBuf>,
    explain: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        sf: 1.0,
        runs: 3,
        buckets: None,
        data: None,
        explain: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sf" => a.sf = it.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--buckets" => a.buckets = it.next().and_then(|v| v.parse().ok()),
            "--data" => a.data = it.next().map(PathBuf::from),
            "--explain" => a.explain = true,
            _ => {}
        }
    }
    a
}

/// The join and the aggregation on the key; the outer aggregate keeps the result small.
fn query(orders: &str, lineitem: &str) -> String {
    format!(
        "SELECT count(*) AS orders, sum(qty) AS qty, sum(price) AS price FROM ( \
           SELECT o_orderkey, max(o_totalprice) AS price, sum(l_quantity) AS qty \
           FROM {orders} JOIN {lineitem} ON o_orderkey = l_orderkey \
           GROUP BY o_orderkey)"
    )
}

fn main() {
    flint::runtime::allocator::set_freed_memory_policy(false);
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn timed<T>(f: impl FnOnce() -> flint::Result<T>) -> flint::Result<(T, f64)> {
    let t = Instant::now();
    let v = f()?;
    Ok((v, t.elapsed().as_secs_f64()))
}

fn run() -> flint::Result<()> {
    let args = parse_args();
    let ctx = SessionContext::with_config(SessionConfig::default());
    let n = args.buckets.unwrap_or(ctx.config().target_partitions);
    let dir = args
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/prepartitioned-sf{}", args.sf)));
    let d = |name: &str| dir.join(name).display().to_string();

    let ((), secs) = timed(|| ctx.load_tpch(args.sf))?;
    println!("generated TPC-H SF {} in memory in {secs:.1} s", args.sf);
    let setup = format!(
        "CREATE TABLE orders_b CLUSTERED BY (o_orderkey) INTO {n} BUCKETS AS \
           SELECT o_orderkey, o_totalprice FROM orders; \
         CREATE TABLE lineitem_b CLUSTERED BY (l_orderkey) INTO {n} BUCKETS AS \
           SELECT l_orderkey, l_quantity FROM lineitem;"
    );
    let (_, secs) = timed(|| ctx.execute_sql(&setup))?;
    println!("clustered both tables into {n} buckets in memory in {secs:.2} s");
    let copies = format!(
        "COPY (SELECT o_orderkey, o_totalprice FROM orders) TO '{}' (FORMAT parquet, OVERWRITE); \
         COPY (SELECT l_orderkey, l_quantity FROM lineitem) TO '{}' (FORMAT parquet, OVERWRITE); \
         COPY orders_b TO '{}' (FORMAT parquet, BUCKET_BY (o_orderkey), BUCKETS {n}, OVERWRITE); \
         COPY lineitem_b TO '{}' (FORMAT parquet, BUCKET_BY (l_orderkey), BUCKETS {n}, OVERWRITE);",
        d("orders"),
        d("lineitem"),
        d("orders_bucketed"),
        d("lineitem_bucketed"),
    );
    let (_, secs) = timed(|| ctx.execute_sql(&copies))?;
    println!(
        "wrote plain and bucketed Parquet to {} in {secs:.2} s",
        dir.display()
    );

    let cases = [
        ("memory, shuffled", query("orders", "lineitem")),
        ("memory, clustered", query("orders_b", "lineitem_b")),
        (
            "parquet, shuffled",
            query(
                &format!("'{}'", d("orders")),
                &format!("'{}'", d("lineitem")),
            ),
        ),
        (
            "parquet, bucketed",
            query(
                &format!("'{}'", d("orders_bucketed")),
                &format!("'{}'", d("lineitem_bucketed")),
            ),
        ),
    ];
    println!(
        "{:<20} {:>9} {:>10} {:>10}",
        "case", "best (s)", "shuffles", "orders"
    );
    let mut answer: Option<String> = None;
    for (name, sql) in &cases {
        let df = ctx.sql(sql)?;
        let plan = df.explain(false, false)?;
        let shuffles = plan
            .lines()
            .filter(|l| l.contains("ExchangeExec: Hash"))
            .count();
        if args.explain {
            println!("{name}:\n{}", df.explain(false, true)?);
        }
        let mut best = f64::MAX;
        let mut result = String::new();
        for run in 0..=args.runs {
            let (text, secs) = timed(|| ctx.sql(sql)?.to_pretty_string(None))?;
            if run > 0 {
                best = best.min(secs);
            }
            result = text;
        }
        match &answer {
            None => answer = Some(result.clone()),
            Some(a) if *a != result => {
                return Err(flint::Error::execution(format!(
                    "{name} gave a different answer:\n{result}\nexpected:\n{a}"
                )));
            }
            Some(_) => {}
        }
        let orders = result
            .lines()
            .nth(3)
            .and_then(|l| l.split('|').nth(1))
            .map(|c| c.trim().to_string())
            .unwrap_or_default();
        println!("{name:<20} {best:>9.3} {shuffles:>10} {orders:>10}");
    }
    Ok(())
}
