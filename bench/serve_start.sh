#!/usr/bin/env bash
# How long `daogou serve` takes to start from a model file on the 10M-event store, and its peak
# memory while starting: 100,000 users × 50,000 items × 10,000,000 purchases
# (bench/out/scale_implicit/interactions.csv from bench/gen_scale_implicit.py), imported once
# into bench/out/scale_serve/scale.db (the same store as `SCALE=1 bash bench/load_serve.sh`), and
# an `als` model file (64 factors, 10 iterations) trained once from that store.
#
#   bash bench/serve_start.sh                       # the release build in target/release
#   DAOGOU_BIN_BEFORE=/path/to/old/daogou bash bench/serve_start.sh
#       an earlier build beside it, on the same store and model file (interleaved runs)
#   REPEAT=3 (default) runs per build
#
# Each run: `serve --db scale.db --model als.daogou --bind 127.0.0.1:0`; the start time is from
# the spawn to the first answered GET /users/{id}/recommendations; the peak is the server's
# VmHWM (/proc/PID/status) at that moment. Prints one line per run and a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${DAOGOU_BIN:-${CARGO_TARGET_DIR:-target}/release/daogou}"
[ -x "$BIN" ] || { echo "error: $BIN missing; build it: cargo build --release -p daogou (or set DAOGOU_BIN)" >&2; exit 1; }
CSV=bench/out/scale_implicit/interactions.csv
[ -f "$CSV" ] || { echo "missing $CSV: run bench/setup.sh, then bench/.venv/bin/python bench/gen_scale_implicit.py" >&2; exit 1; }
DIR=bench/out/scale_serve
DB="$DIR/scale.db"
MODEL="$DIR/als.daogou"
REPEAT="${REPEAT:-3}"
mkdir -p "$DIR"
if [ ! -f "$DB" ]; then
  echo "+ importing $CSV into $DB (once; a few minutes)"
  # value= : the third column is a purchase count, not a rating (implicit data)
  "$BIN" import "$CSV" --format csv --mapping "value=" --db "$DB.tmp" --json
  mv "$DB.tmp" "$DB"
fi
if [ ! -f "$MODEL" ]; then
  echo "+ training $MODEL from the store (once)"
  /usr/bin/time -f "train: %e s wall, peak RSS %M KiB" \
    "$BIN" train --db "$DB" --model als --set factors=64 --set iterations=10 --out "$MODEL" --json
fi

TMP="$(mktemp -d)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT

# one start: prints "seconds peak_mib"
start_once() {
  local bin="$1"
  local t0 t1
  t0=$(date +%s.%N)
  RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-2}" "$bin" serve --db "$DB" --model "$MODEL" --bind 127.0.0.1:0 \
    >"$TMP/out" 2>"$TMP/err" &
  PID=$!
  local addr=""
  for _ in $(seq 1 6000); do
    addr="$(sed -n 's#^listening on http://##p' "$TMP/out" 2>/dev/null)"
    [ -n "$addr" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/err" >&2; exit 1; }
    sleep 0.05
  done
  until curl -sf "http://$addr/users/1/recommendations?n=10" >/dev/null; do
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/err" >&2; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  local hwm
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
  kill "$PID"; wait "$PID" 2>/dev/null || true
  PID=""
  echo "$(echo "$t1 - $t0" | bc) $((hwm / 1024))"
}

echo "store: $(du -m "$DB" | cut -f1) MB, model file: $(du -m "$MODEL" | cut -f1) MB; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A SECS PEAK
BUILDS=("now=$BIN")
[ -n "${DAOGOU_BIN_BEFORE:-}" ] && BUILDS=("before=$DAOGOU_BIN_BEFORE" "${BUILDS[@]}")
for r in $(seq 1 "$REPEAT"); do
  for b in "${BUILDS[@]}"; do
    name="${b%%=*}"; bin="${b#*=}"
    read -r s m < <(start_once "$bin")
    echo "[$r/$REPEAT] $name: started in $s s, peak RSS $m MiB"
    SECS[$name]="${SECS[$name]:-} $s"; PEAK[$name]="${PEAK[$name]:-} $m"
  done
done
echo
echo "| build | start (s, median) | peak RSS (MiB, max) |"
echo "|---|---:|---:|"
for b in "${BUILDS[@]}"; do
  name="${b%%=*}"
  med=$(echo "${SECS[$name]}" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  max=$(echo "${PEAK[$name]}" | tr ' ' '\n' | grep . | sort -g | tail -1)
  echo "| $name | $med | $max |"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
