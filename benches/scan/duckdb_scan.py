#!/usr/bin/env python3
"""Time DuckDB's read_parquet on the scans of flint's scan benchmark (benches/scan/main.rs).

Usage:
    python3 benches/scan/duckdb_scan.py PARQUET_DIR [--threads 2] [--runs 3] [--json OUT.json]

PARQUET_DIR holds lineitem.parquet (TPC-H SF1 written by `flint tpchgen --sf 1`). The queries are
the same three as flint's: (a) every column, (b) two columns, (c) every column of a 1%-selective
range of the sorted l_orderkey. Both engines produce every row and drop it: flint drains the
plan's record batches; here the query runs under EXPLAIN ANALYZE, which executes it completely
and discards the rows (no conversion to Python objects; the row count comes from a separate
count(*)). The best of --runs after one warm-up run is printed, and written as
{"a_all_columns": seconds, ...} to --json, which `cargo bench --bench scan -- --duckdb OUT.json`
reads to print the flint/DuckDB ratio.

Needs the `duckdb` Python package (python3 -m venv /tmp/duckvenv && /tmp/duckvenv/bin/pip install duckdb).
"""

import argparse
import json
import os
import time

import duckdb

QUERIES = [
    ("a_all_columns", "SELECT * FROM {t}"),
    ("b_two_columns", "SELECT l_orderkey, l_extendedprice FROM {t}"),
    ("c_1pct_sorted", "SELECT * FROM {t} WHERE l_orderkey BETWEEN 3000000 AND 3060000"),
]


def drain(con, sql):
    start = time.perf_counter()
    con.execute("EXPLAIN ANALYZE " + sql).fetchall()
    secs = time.perf_counter() - start
    rows = con.execute("SELECT count(*) FROM (%s)" % sql).fetchone()[0]
    return secs, rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    a = p.parse_args()
    table = "read_parquet('%s')" % os.path.join(a.data, "lineitem.parquet")
    con = duckdb.connect()
    con.execute("SET threads=%d" % a.threads)
    times = {}
    print("%-15s %9s %9s %12s" % ("query", "rows", "duckdb s", "rows/s"))
    for name, q in QUERIES:
        sql = q.format(t=table)
        drain(con, sql)
        best = None
        for _ in range(max(1, a.runs)):
            secs, rows = drain(con, sql)
            if best is None or secs < best[0]:
                best = (secs, rows)
        times[name] = best[0]
        print("%-15s %9d %9.3f %12.0f" % (name, best[1], best[0], best[1] / best[0]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(times, f, indent=2)


if __name__ == "__main__":
    main()
