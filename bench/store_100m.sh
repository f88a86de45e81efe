#!/usr/bin/env bash
# The embedded SQLite store at scale: import the 100M-interaction file of the ALS case
# (SIZE=100m bench/run_scale_als.sh generates it: 1,000,000 users × 200,000 items) into a fresh
# database, then time the stats queries on it.
#
#   bash bench/store_100m.sh              # SIZE=10m for the 10M file (bench/out/scale_implicit)
#
# Prints the import rate (rows/s), the database size, the peak memory of the import, and the
# wall time of `daogou stats --json` (users, items, events, events per kind, first and last time) on the
# stored data, cold (right after the import) and warm (run again).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${DAOGOU_BIN:-${CARGO_TARGET_DIR:-target}/release/daogou}"
[ -x "$BIN" ] || { echo "error: $BIN missing; build it: cargo build --release -p daogou (or set DAOGOU_BIN)" >&2; exit 1; }
case "${SIZE:-100m}" in
  10m) DIR=bench/out/scale_implicit ;;
  100m) DIR=bench/out/scale_100m ;;
  *) echo "error: SIZE must be 10m or 100m" >&2; exit 1 ;;
esac
CSV="$DIR/interactions.csv"
[ -f "$CSV" ] || { echo "missing $CSV: run SIZE=${SIZE:-100m} bash bench/run_scale_als.sh first (it generates it)" >&2; exit 1; }
DB="$DIR/store.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# value= : the third column is a purchase count, not a rating (implicit data)
/usr/bin/time -f "%e %M" -o "$DIR/import.time" "$BIN" import "$CSV" --format csv --mapping "value=" --db "$DB" --json \
  >"$DIR/import.json"
read -r secs kib <"$DIR/import.time"
rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['events_inserted'])" "$DIR/import.json")
size=$(du -b "$DB" | cut -f1)
echo "import: $rows rows in $secs s = $(python3 -c "print(f'{$rows/$secs:,.0f}')") rows/s; peak RSS $((kib / 1024)) MiB"
echo "database: $(python3 -c "print(f'{$size/2**30:.2f} GiB, {$size/$rows:.1f} bytes per event')")"
for run in cold warm; do
  /usr/bin/time -f "%e %M" -o "$DIR/stats.time" "$BIN" stats --db "$DB" --json >"$DIR/stats.json"
  read -r secs kib <"$DIR/stats.time"
  echo "stats ($run): $secs s, peak RSS $((kib / 1024)) MiB"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
