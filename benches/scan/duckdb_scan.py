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


def load_httpfs(con):
    """DuckDB's S3 reader: from the duckdb-extension-httpfs wheel (no download needed), else
    INSTALL from DuckDB's extension server."""
    try:
        import duckdb_extension_httpfs as ext
        base = os.path.join(os.path.dirname(ext.__file__), "extensions")
        path = os.path.join(base, os.listdir(base)[0], "httpfs.duckdb_extension")
        con.execute("LOAD '%s'" % path)
    except ImportError:
        con.execute("INSTALL httpfs")
        con.execute("LOAD httpfs")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    p.add_argument("--s3-port", type=int,
                   help="also read s3://bench/lineitem/ (uploaded by `cargo bench --bench scan -- "
                        "--s3-port P`) from the S3 server on this port of 127.0.0.1")
    a = p.parse_args()
    places = [("", "read_parquet('%s')" % os.path.join(a.data, "lineitem.parquet"))]
    con = duckdb.connect()
    con.execute("SET threads=%d" % a.threads)
    if a.s3_port:
        load_httpfs(con)
        # DuckDB (1.3+) keeps remote file blocks in memory between queries; flint fetches them
        # every time, so measure DuckDB fetching them too
        try:
            con.execute("SET enable_external_file_cache = false")
        except duckdb.Error:
            pass
        con.execute(
            "CREATE SECRET bench (TYPE s3, KEY_ID 'bench', SECRET 'bench', REGION 'us-east-1', "
            "ENDPOINT '127.0.0.1:%d', URL_STYLE 'path', USE_SSL false)" % a.s3_port)
        places.append(("s3_", "read_parquet('s3://bench/lineitem/*.parquet')"))
    times = {}
    print("%-18s %9s %9s %12s" % ("query", "rows", "duckdb s", "rows/s"))
    for (prefix, table), (name, q) in [(p, q) for p in places for q in QUERIES]:
        name = prefix + name
        sql = q.format(t=table)
        drain(con, sql)
        best = None
        for _ in range(max(1, a.runs)):
            secs, rows = drain(con, sql)
            if best is None or secs < best[0]:
                best = (secs, rows)
        times[name] = best[0]
        print("%-18s %9d %9.3f %12.0f" % (name, best[1], best[0], best[1] / best[0]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(times, f, indent=2)


if __name__ == "__main__":
    main()
