#!/usr/bin/env bash
# Load test of `daogou serve` on loopback: the demo shop (800 users, 600 items, ~50k events),
# a mixed workload (for-you top-10 reads + single-event writes) for SECONDS, with
# throughput and p50/p95/p99 latency from the keep-alive generator
# crates/server/examples/load.rs. Bounded: one server, THREADS connections, SECONDS seconds.
#
#   bash bench/load_serve.sh                 # 20 s, 8 connections, 10% writes
#   SECONDS_=10 THREADS=4 WRITE_SHARE=0.2 bash bench/load_serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${SECONDS_:-20}"
THREADS="${THREADS:-8}"
WRITE_SHARE="${WRITE_SHARE:-0.1}"
WORKERS="${WORKERS:-2}"
KEY="load-test-key-1"

cargo build --release -q -p daogou -p daogou-server --example load
BIN=target/release/daogou
LOAD=target/release/examples/load
TMP="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT

"$BIN" demo --db "$TMP/shop.db" >/dev/null
"$BIN" stats --db "$TMP/shop.db" --json
RAYON_NUM_THREADS=1 "$BIN" serve --db "$TMP/shop.db" --bind 127.0.0.1:0 --workers "$WORKERS" \
  --api-keys "$KEY:read+write" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 600); do
  grep -q "listening on" "$TMP/out" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$TMP/err"; exit 1; }
  sleep 0.1
done
ADDR="$(sed -n 's#^listening on http://##p' "$TMP/out")"
echo "server on $ADDR (workers $WORKERS); $THREADS connections, ${SECS}s, write share $WRITE_SHARE"
"$LOAD" --addr "$ADDR" --seconds "$SECS" --threads "$THREADS" --write-share "$WRITE_SHARE" \
  --users 800 --items 600 --key "$KEY"
echo "server metrics (events ingested, model version):"
curl -s -H "Authorization: Bearer $KEY" "http://$ADDR/metrics" | grep -E "^daogou_(events_ingested_total|model_version|recommendation_coverage) " || true
