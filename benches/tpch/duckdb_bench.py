#!/usr/bin/env python3
"""Time the 22 TPC-H queries in DuckDB, as the reference for flint's TPC-H benchmark.

Usage:
    python3 duckdb_bench.py PARQUET_DIR [QUERY_DIR] [--threads N] [--runs N] [--json OUT.json] [--queries 1,3,18]

    PARQUET_DIR  the eight `<table>.parquet` files written by flint's `catalog::tpch::write_parquet`
                 (or `tpchgen-cli parquet`)
    QUERY_DIR    directory of q01.sql ... q22.sql (default /work/shared/tpch)
    --threads    DuckDB threads (default 2, i.e. `SET threads=2`)
    --runs       timed runs per query after one warm-up run; the best is kept (default 3)
    --json       also write the best times as a flat JSON object {"q01": seconds, ..., "q22": seconds} to this
                 file: `cargo bench --bench tpch -- --duckdb OUT.json` reads it and prints the flint/DuckDB
                 ratio per query (benches/tpch/main.rs)
    --queries    only these query numbers (comma-separated)

Example (SF 1):
    cargo run --release -- tpchgen --sf 1 --out target/tpch-sf1   # flint::catalog::tpch::write_parquet
    /tmp/duckvenv/bin/python benches/tpch/duckdb_bench.py target/tpch-sf1 --json /tmp/duckdb_sf1.json
    cargo bench --bench tpch -- --sf 1 --data target/tpch-sf1 --duckdb /tmp/duckdb_sf1.json

Needs the `duckdb` Python package (python3 -m venv /tmp/duckvenv && /tmp/duckvenv/bin/pip install duckdb).

The tables are views over the Parquet files (read in place on every query, as flint does). Each timing is
taken inside this process with time.perf_counter() around planning, execution and fetching the whole result
(`con.sql(q).fetchall()`), so Python start-up and DuckDB start-up are excluded. Comment lines and the
trailing semicolon of each .sql file are removed before running it.
"""

import argparse
import json
import os
import sys
import time

import duckdb

TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]


def query_text(path):
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip() for line in f if not line.lstrip().startswith("--")]
    text = "\n".join(lines).strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def run_once(con, sql):
    start = time.perf_counter()
    rows = con.sql(sql).fetchall()
    return time.perf_counter() - start, len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parquet_dir")
    parser.add_argument("query_dir", nargs="?", default="/work/shared/tpch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", dest="json_out")
    parser.add_argument("--queries", help="comma-separated query numbers, e.g. 1,3,18 (default: all 22)")
    args = parser.parse_args()
    if args.runs < 1:
        sys.exit("--runs must be at least 1")

    numbers = [int(q) for q in args.queries.split(",")] if args.queries else list(range(1, 23))
    con = duckdb.connect()
    con.execute(f"SET threads={args.threads}")
    parquet_dir = os.path.abspath(args.parquet_dir)
    for table in TABLES:
        path = os.path.join(parquet_dir, f"{table}.parquet")
        if not os.path.exists(path):
            sys.exit(f"missing {path}")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")

    print(f"DuckDB {duckdb.__version__}, threads={args.threads}, warm-up + best of {args.runs}, {parquet_dir}")
    print(f"{'query':<7}{'seconds':>10}{'rows':>7}")
    times = {}
    for q in numbers:
        name = f"q{q:02}"
        sql = query_text(os.path.join(args.query_dir, f"{name}.sql"))
        run_once(con, sql)  # warm-up
        best, rows = min(run_once(con, sql) for _ in range(args.runs))
        times[name] = best
        print(f"{name:<7}{best:>10.4f}{rows:>7}", flush=True)
    total = sum(times.values())
    print(f"{'total':<7}{total:>10.4f}")

    if args.json_out:
        # A flat map of query name to seconds: the format benches/tpch/main.rs reads (BTreeMap<String, f64>).
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(times, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
