#!/usr/bin/env python3
"""Pin the expected TPC-H answers with DuckDB, as sqllogictest files.

Usage:
    python3 duckdb_expected.py PARQUET_DIR OUT_DIR [--queries DIR] [--sf SF]

    PARQUET_DIR  the eight `<table>.parquet` files written by flint's `catalog::tpch::write_parquet`
                 (or `tpchgen-cli parquet`) at scale factor SF
    OUT_DIR      where q01.slt ... q22.slt are written (e.g. sql-tests/tpch)
    --queries    directory of q01.sql ... q22.sql (default /work/shared/tpch)
    --sf         the scale factor of the data, used in the header and in `CALL dbgen(sf = SF)`
                 (default 0.01)

Needs the `duckdb` Python package (python3 -m venv /tmp/duckvenv && /tmp/duckvenv/bin/pip install duckdb).

Each query runs in DuckDB over views on the Parquet files. The .slt file holds the query text as in the
.sql file (comment lines and the trailing semicolon removed) and DuckDB's rows:
  * type letters: I integer, R decimal/float, T everything else (strings, dates);
  * values: integers plain, decimals as Python's Decimal (fixed point), floats as repr(), dates
    YYYY-MM-DD, NULL as NULL, '' as (empty); columns separated by a TAB;
  * sort mode: `nosort` when the query's outer ORDER BY orders the result rows totally (checked on the
    data: no two result rows share their ORDER BY key), `rowsort` otherwise. A LIMIT that cuts through a
    tie (row LIMIT+1 has the same key as row LIMIT) makes the answer itself ambiguous: this is reported
    on stderr and noted in the file, and the script exits with status 2.
"""

import argparse
import datetime
import decimal
import os
import re
import sys

import duckdb

TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]

INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "UHUGEINT"}
REAL_TYPES = {"FLOAT", "DOUBLE", "REAL"}


def query_text(path):
    """The query without comment lines, trailing blanks and the trailing semicolon."""
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip() for line in f if not line.lstrip().startswith("--")]
    lines = [line for line in lines if line.strip()]  # a blank line would end an slt record
    text = "\n".join(lines).rstrip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def type_letter(duck_type):
    name = str(duck_type).upper()
    if name in INTEGER_TYPES:
        return "I"
    if name in REAL_TYPES or name.startswith("DECIMAL"):
        return "R"
    return "T"


def format_value(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # like str(), but never in exponent form (0E-8)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    text = str(value)
    if text == "":
        return "(empty)"
    if "\t" in text or "\n" in text:
        raise ValueError(f"value {text!r} holds a TAB or newline and cannot be written to an slt file")
    return text


def outer_order_by(sql):
    """The outer ORDER BY as [(column, descending)] and the LIMIT (or None), parsed from the query's end."""
    flat = " ".join(sql.split())
    start = flat.lower().rfind("order by")
    m = re.fullmatch(r"order by (.*?)(?: limit (\d+))?", flat[start:], re.IGNORECASE) if start >= 0 else None
    if not m or ")" in m.group(1):  # the last ORDER BY belongs to a subquery: no outer ORDER BY
        return [], None
    keys = []
    for item in m.group(1).split(","):
        words = item.split()
        keys.append((words[0], len(words) > 1 and words[1].lower() == "desc"))
    return keys, int(m.group(2)) if m.group(2) else None


def analyse_order(con, sql, columns, rows):
    """Returns (sort mode, notes, ambiguous): is the row order, and the row set under LIMIT, determined?"""
    keys, limit = outer_order_by(sql)
    if not keys:
        note = "no ORDER BY" if len(rows) != 1 else None
        return "rowsort", [note] if note else [], False
    idx = [columns.index(k) for k, _ in keys]
    key = lambda row: tuple(row[i] for i in idx)  # noqa: E731
    tied = [i for i in range(1, len(rows)) if key(rows[i]) == key(rows[i - 1])]
    notes, ambiguous = [], False
    if limit is not None and len(rows) == limit:
        wider = re.sub(r"(?i)\blimit\s+\d+\s*$", f"limit {limit + 1}", sql)
        more = con.sql(wider).fetchall()
        if len(more) > limit and key(more[limit]) == key(more[limit - 1]):
            ambiguous = True
            notes.append(f"WARNING: row {limit + 1} ties with row {limit} on the ORDER BY key "
                         f"{key(more[limit])}: the LIMIT cuts through a tie, so the row set is not determined")
    if tied:
        shown = ", ".join(f"{i}/{i + 1}" for i in tied[:5])
        notes.append(f"ORDER BY ({', '.join(k for k, _ in keys)}) leaves ties (rows {shown}): rowsort")
        return "rowsort", notes, ambiguous
    return "nosort", notes, ambiguous


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parquet_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--queries", default="/work/shared/tpch")
    parser.add_argument("--sf", default="0.01")
    args = parser.parse_args()

    con = duckdb.connect()
    for table in TABLES:
        path = os.path.join(os.path.abspath(args.parquet_dir), f"{table}.parquet")
        if not os.path.exists(path):
            sys.exit(f"missing {path}")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")

    os.makedirs(args.out_dir, exist_ok=True)
    any_ambiguous = False
    for q in range(1, 23):
        sql = query_text(os.path.join(args.queries, f"q{q:02}.sql"))
        rel = con.sql(sql)
        columns, types = rel.columns, rel.types
        rows = rel.fetchall()
        mode, notes, ambiguous = analyse_order(con, sql, columns, rows)
        any_ambiguous |= ambiguous
        for row in rows:
            for v in row:
                if isinstance(v, str) and v != v.strip():
                    notes.append("some strings have leading/trailing spaces (kept as is)")
                    break
            else:
                continue
            break
        header = [f"# TPC-H Q{q:02} at SF {args.sf}; expected results computed by DuckDB "
                  f"{duckdb.__version__} on the same data written to Parquet."]
        header += [f"# {note}" for note in notes]
        out = header + [
            "statement ok",
            f"CALL dbgen(sf = {args.sf})",
            "",
            f"query {''.join(type_letter(t) for t in types)} {mode}",
            sql,
            "----",
        ]
        out += ["\t".join(format_value(v) for v in row) for row in rows]
        path = os.path.join(args.out_dir, f"q{q:02}.slt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        print(f"q{q:02}: {len(rows):4} rows  {mode:7} {' | '.join(notes)}")
        if ambiguous:
            print(f"q{q:02}: LIMIT cuts through a tie", file=sys.stderr)
    sys.exit(2 if any_ambiguous else 0)


if __name__ == "__main__":
    main()
