#!/usr/bin/env bash
# Load test of `daogou serve` on loopback: the demo shop (800 users, 600 items, ~50k events),
# a mixed workload (for-you top-10 reads + single-event writes) for SECONDS, with
# throughput and p50/p95/p99 latency from the keep-alive generator
# crates/server/examples/load.rs. Bounded: one server, THREADS connections, SECONDS seconds.
#
#   bash bench/load_serve.sh                 # 20 s, 8 connections, 10% writes
#   SECONDS_=10 THREADS=4 WRITE_SHARE=0.2 bash bench/load_serve.sh
#   GROUP_COMMIT=both WRITE_SHARE=1 bash bench/load_serve.sh
#       ingest with group commit off, then on (the same database, one server each), side by side
#   PROFILE=debug ...   the debug build (no release build of the workspace needed)
#   EXPERIMENT=both ...  without, then with an online experiment running (two variants of the
#       serving model, one with a blending knob): every for-you answer is then also stored as
#       an exposure (EXPERIMENT=1: only with)
#   SCALE=1 WRITE_SHARE=0.15 bash bench/load_serve.sh
#       the issue's scale case instead of the demo shop: 100,000 users × 50,000 items,
#       10M purchases (bench/out/scale_implicit/interactions.csv from bench/gen_scale_implicit.py),
#       imported once into bench/out/scale_serve/scale.db (~2.5 min, 600 MB); the server then
#       needs ~1 min and ~5 GB to load and fit item-knn.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/serve_lib.sh
SECS="${SECONDS_:-20}"
THREADS="${THREADS:-8}"
WRITE_SHARE="${WRITE_SHARE:-0.1}"
WORKERS="${WORKERS:-2}"
KEY="load-test-key-1"

PROFILE="${PROFILE:-release}"
GROUP_COMMIT="${GROUP_COMMIT:-true}"
if [ "$PROFILE" = release ]; then
  cargo build --release -q -p daogou --bin daogou && cargo build --release -q -p daogou-server --example load
else
  cargo build -q -p daogou --bin daogou && cargo build -q -p daogou-server --example load
fi
BIN="target/$PROFILE/daogou"
LOAD="target/$PROFILE/examples/load"
TMP="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT

if [ "${SCALE:-0}" = 1 ]; then
  CSV=bench/out/scale_implicit/interactions.csv
  [ -f "$CSV" ] || { echo "missing $CSV: run bench/setup.sh, then bench/.venv/bin/python bench/gen_scale_implicit.py"; exit 1; }
  DB=bench/out/scale_serve/scale.db
  if [ ! -f "$DB" ]; then
    mkdir -p "$(dirname "$DB")"
    # value= : the third column is a purchase count, not a rating (implicit data)
    "$BIN" import "$CSV" --format csv --mapping "value=" --db "$DB.tmp" --json
    mv "$DB.tmp" "$DB"
  fi
  USERS=100000 ITEMS=50000 PLAIN=true
else
  DB="$TMP/shop.db"
  "$BIN" demo --db "$DB" >/dev/null
  USERS=800 ITEMS=600 PLAIN=false
fi
"$BIN" stats --db "$DB" --json
MODES="$GROUP_COMMIT"
[ "$GROUP_COMMIT" = both ] && MODES="false true"
EXPS="${EXPERIMENT:-0}"
[ "$EXPS" = both ] && EXPS="0 1"
for EXP in $EXPS; do
for GC in $MODES; do
  echo "=== group_commit = $GC, experiment running = $EXP ==="
  export DAOGOU_GROUP_COMMIT="$GC"
  RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}" "$BIN" serve --db "$DB" --bind 127.0.0.1:0 --workers "$WORKERS" \
    --api-keys "$KEY:read+write+admin" >"$TMP/out" 2>"$TMP/err" &
  PID=$!
  wait_listening "$PID" "$TMP" 300
  echo "server on $ADDR (workers $WORKERS); $THREADS connections, ${SECS}s, write share $WRITE_SHARE"
  if [ "$EXP" = 1 ]; then
    # created and started once per store; a later server on the same store resumes it
    curl -s -o /dev/null -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "http://$ADDR/admin/experiments" \
      -d '{"name": "load", "primary_metric": "ctr", "variants": [{"name": "a", "share": 1}, {"name": "b", "share": 1, "max_per_category": 3}]}'
    curl -s -o /dev/null -H "Authorization: Bearer $KEY" -XPOST "http://$ADDR/admin/experiments/load/start"
    echo "experiment: $(curl -s -H "Authorization: Bearer $KEY" "http://$ADDR/experiments/load" | grep -o '"status":"[a-z]*"')"
  fi
  # the machine may be shared: the load average says how much else ran alongside
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$LOAD" --addr "$ADDR" --seconds "$SECS" --threads "$THREADS" --write-share "$WRITE_SHARE" \
    --users "$USERS" --items "$ITEMS" --plain-ids "$PLAIN" --key "$KEY"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "server metrics (events ingested, model version):"
  curl -s -H "Authorization: Bearer $KEY" "http://$ADDR/metrics" \
    | grep -E "^daogou_(events_ingested_total|model_version|recommendation_coverage|ingest_requests_total|ingest_commits_total) " || true
  kill "$PID"; wait "$PID" 2>/dev/null || true
done
done
