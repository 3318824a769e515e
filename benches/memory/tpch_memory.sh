#!/usr/bin/env bash
# TPC-H from Parquet with and without a memory limit: each of the 22 queries runs in its own
# `flint` process (so peak RSS is that query's), once unlimited (`--memory-limit unlimited`, not
# the default 80% of memory) and once with --memory-limit,
# under /usr/bin/time -v. Prints per query the query's time (flint's --timer, planning +
# execution + printing) and the process's peak RSS for both runs, whether the limited peak
# stays under limit + 300 MB, and whether both runs returned the same rows.
#
#   flint tpchgen --sf 10 --out target/tpch-sf10          # the data, once
#   bash benches/memory/tpch_memory.sh target/tpch-sf10 2GB
#
# Options (environment): FLINT (binary, default target/release/flint), QUERIES (folder of
# q01.sql..q22.sql, default ../shared/tpch), ONLY="1 9 18" (some queries), THREADS (--threads).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ $# -ne 2 ]; then
  echo "usage: $0 TPCH_PARQUET_DIR LIMIT   (e.g. target/tpch-sf10 2GB)" >&2
  exit 2
fi
DATA=$(cd "$1" && pwd)
LIMIT=$2
FLINT=${FLINT:-target/release/flint}
QUERIES=${QUERIES:-../shared/tpch}
ONLY=${ONLY:-$(seq 1 22)}
THREADS_ARG=()
if [ -n "${THREADS:-}" ]; then THREADS_ARG=(--threads "$THREADS"); fi

[ -x "$FLINT" ] || { echo "no flint binary at $FLINT (cargo build --release, or set FLINT)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time: apt-get install time)" >&2; exit 2; }
[ -f "$DATA/lineitem.parquet" ] || [ -d "$DATA/lineitem.parquet" ] ||
  { echo "no TPC-H Parquet in $DATA (flint tpchgen --sf 10 --out $DATA)" >&2; exit 2; }

# the limit in MB, for the RSS check (accepts KB, MB, GB, TB and plain bytes)
limit_mb=$(python3 -c '
import re, sys
m = re.fullmatch(r"\s*([0-9.]+)\s*([kmgt]?i?b?)\s*", sys.argv[1].lower())
if not m: sys.exit("cannot parse limit " + sys.argv[1])
n, unit = float(m.group(1)), m.group(2)[:1]
print(int(n * {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[unit] / 2**20))
' "$LIMIT")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
setup="$work/setup.sql"
: >"$setup"
for t in region nation supplier part partsupp customer orders lineitem; do
  echo "CREATE EXTERNAL TABLE $t STORED AS PARQUET LOCATION '$DATA/$t.parquet';" >>"$setup"
done

# runs one query; prints "seconds rss_mb status"
run() {
  local script=$1 out=$2 limit_args=("${@:3}")
  local status=ok
  if ! /usr/bin/time -v -o "$out.time" "$FLINT" --no-demo --timer --format csv \
      "${THREADS_ARG[@]}" "${limit_args[@]}" -f "$script" >"$out.stdout" 2>"$out.stderr"; then
    status=FAILED
  fi
  local secs rss_kb
  secs=$(grep '^Time: ' "$out.stdout" | tail -1 | awk '{print $2}')
  rss_kb=$(grep 'Maximum resident set size' "$out.time" | awk '{print $NF}')
  [ -n "$secs" ] || secs=nan
  [ -n "$rss_kb" ] || rss_kb=0
  echo "$secs $((rss_kb / 1024)) $status"
  if [ "$status" != ok ]; then
    sed 's/^/    /' "$out.stderr" | tail -5 >&2
  fi
}

printf "%-5s | %10s %10s | %10s %10s %-8s %s\n" query "time (s)" "RSS (MB)" "time (s)" "RSS (MB)" "" ""
printf "%-5s | %21s | %21s %-8s %s\n" "" "unlimited" "--memory-limit $LIMIT" "< +300MB" "rows"
failed=0
for q in $ONLY; do
  name=$(printf "q%02d" "$q")
  script="$work/$name.sql"
  { cat "$setup"; cat "$QUERIES/$name.sql"; echo; } >"$script"
  read -r t1 r1 s1 < <(run "$script" "$work/$name.free" --memory-limit unlimited)
  read -r t2 r2 s2 < <(run "$script" "$work/$name.limited" --memory-limit "$LIMIT")
  check=yes
  if [ "$r2" -gt $((limit_mb + 300)) ]; then check=NO; failed=1; fi
  same=same
  if ! cmp -s <(grep -v '^Time: ' "$work/$name.free.stdout" | sort) \
              <(grep -v '^Time: ' "$work/$name.limited.stdout" | sort); then
    same=DIFFERENT; failed=1
  fi
  [ "$s1" = ok ] || { t1="$s1"; failed=1; }
  [ "$s2" = ok ] || { t2="$s2"; failed=1; }
  printf "%-5s | %10s %10s | %10s %10s %-8s %s\n" "$name" "$t1" "$r1" "$t2" "$r2" "$check" "$same"
done
exit $failed
