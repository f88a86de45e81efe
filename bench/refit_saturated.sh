#!/usr/bin/env bash
# How long a refit takes when the machine has no CPU to spare, at each refit priority: the
# other side of `refit_nice` (bench/refit_ingest.sh measures what it buys the writes).
#
#   bash bench/refit_saturated.sh              # nice 0, 5, 10 and 19; 500,000 events, item-knn
#   NICES="0 5 10" EVENTS=2000000 MODEL=popularity bash bench/refit_saturated.sh
#
# Uses bench/refit_ingest.sh's store (run that bench once first to make it). For each nice value the
# service starts with DAOGOU_REFIT_NICE set, times REPS (3) refits (`POST
# /admin/retrain?wait=true`) with the machine otherwise idle, then as many while one busy loop
# per core runs at normal priority in the same session (the worst case: the same scheduling
# group, so the service's whole share is contested). A refit's share of a contested core is
# about w / (1024 + w) with w = 1024 × 1.25^-nice: 50 % at nice 0, 25 % at 5, 10 % at 10, 1.4 % at 19.
# Output: bench/out/refit_saturated/result.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/serve_lib.sh
EVENTS="${EVENTS:-500000}"
MODEL="${MODEL:-item-knn}"
NICES="${NICES:-0 5 10 19}"
REPS="${REPS:-3}"
OUT=bench/out/refit_saturated
mkdir -p "$OUT"
KEY="refit-test-key-1"
BIN="${DAOGOU_BIN:-target/release/daogou}"
[ -n "${DAOGOU_BIN:-}" ] || cargo build --release -q -p daogou --bin daogou
DB="bench/out/refit_ingest/store_$EVENTS.db"
if [ ! -f "$DB" ]; then
  echo "no store $DB: run EVENTS=$EVENTS bash bench/refit_ingest.sh once to make it" >&2
  exit 1
fi
TMP="$(mktemp -d)"
PID= BUSY=
trap 'kill $PID $BUSY 2>/dev/null || true; rm -rf "$TMP"' EXIT
refit() { # seconds one refit takes
  local s
  s=$(date +%s%N)
  curl -s -o /dev/null --max-time 600 -X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    "http://$ADDR/admin/retrain?wait=true" -d '{}'
  python3 -c "print(f'{($(date +%s%N) - $s) / 1e9:.2f}')"
}
echo "timeout_secs = 600" >"$TMP/config.toml" # a starved refit answers when done, not 202
rows=()
for nice in $NICES; do
  DAOGOU_REFIT_NICE=$nice RAYON_NUM_THREADS=1 "$BIN" serve --db "$DB" --model "$MODEL" --bind 127.0.0.1:0 \
    --config "$TMP/config.toml" --api-keys "$KEY:read+write+admin" >"$TMP/out" 2>"$TMP/err" &
  PID=$!
  wait_listening "$PID" "$TMP" 180
  refit >/dev/null # warm: the first refit after start pays for the reader's page cache
  idle=() busy=()
  for _ in $(seq 1 "$REPS"); do idle+=("$(refit)"); done
  BUSY=
  for _ in $(seq 1 "$(nproc)"); do
    bash -c 'while :; do :; done' &
    BUSY="$BUSY $!"
  done
  for _ in $(seq 1 "$REPS"); do busy+=("$(refit)"); done
  kill $BUSY
  BUSY=
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=
  med() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
  mi=$(med "${idle[@]}") mb=$(med "${busy[@]}")
  rows+=("| $nice | $mi s (${idle[*]}) | $mb s (${busy[*]}) | $(python3 -c "print(f'{$mb / $mi:.1f}')")× |")
  echo "nice $nice: idle ${idle[*]} s, saturated ${busy[*]} s"
done
{
  echo "# Refits on a saturated machine: $MODEL on $EVENTS stored events ($BIN, $(nproc) cores)"
  echo
  echo "Median of $REPS refits each (each run in brackets); saturated: one busy loop per core at normal priority."
  echo
  echo "| refit nice | refit, machine idle | refit, machine saturated | slower by |"
  echo "|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} | tee "$OUT/result.md"
