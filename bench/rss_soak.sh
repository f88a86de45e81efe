#!/usr/bin/env bash
# Memory of `daogou serve` under a steady stream of events with retraining off: the live state
# (per-user live histories, trending counters) is bounded, so the resident set must level off.
#
#   bash bench/rss_soak.sh                      # 1,000 events/s: 300 s warm-up, then 10 minutes
#   SECONDS_=120 RATE=500 bash bench/rss_soak.sh
#   CONFIG='sqlite_cache_mib = 64' bash bench/rss_soak.sh   # extra `daogou serve --config` lines
#   DAOGOU_BIN=/tmp/daogou LOAD_BIN=/tmp/load bash bench/rss_soak.sh   # binaries built before
#
# The demo shop (800 users, 600 items) is served with its defaults (item-knn, retrain_secs 0,
# live_events_per_user 200, live_events_total 100,000). The load generator
# (crates/server/examples/load.rs) posts single view events at RATE per second from 4
# keep-alive connections, for a million distinct shoppers (most of them new, so the live
# state keeps meeting new users). The server's VmRSS is sampled every 10 s.
# Output: bench/out/rss_soak/{rss.csv, rss.svg, result.md}; the bar is max/min within ±10 %
# over the 10 minutes after a warm-up of WARMUP seconds (default 300: the caps fill in the
# first ~100 s at 1,000 events/s, then the allocator settles), so the default run is 900 s.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/serve_lib.sh
WARMUP="${WARMUP:-300}"
SECS="${SECONDS_:-$((WARMUP + 600))}"
RATE="${RATE:-1000}"
OUT=bench/out/rss_soak
mkdir -p "$OUT"
KEY="soak-test-key-1"

# DAOGOU_BIN / LOAD_BIN: binaries built before (another build of the same code, or one to
# compare); each is built here only when not given
BIN="${DAOGOU_BIN:-target/release/daogou}"
LOAD="${LOAD_BIN:-target/release/examples/load}"
[ -n "${DAOGOU_BIN:-}" ] || cargo build --release -q -p daogou --bin daogou
[ -n "${LOAD_BIN:-}" ] || cargo build --release -q -p daogou-server --example load
TMP="$(mktemp -d)"
PID= LOAD_PID=
trap 'kill $PID $LOAD_PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
"$BIN" demo --db "$TMP/shop.db" >/dev/null
printf '%s\n' "${CONFIG:-}" >"$TMP/daogou.toml"
RAYON_NUM_THREADS=1 "$BIN" serve --db "$TMP/shop.db" --bind 127.0.0.1:0 --api-keys "$KEY:read+write" --config "$TMP/daogou.toml" \
  >"$TMP/out" 2>"$TMP/err" &
PID=$!
wait_listening "$PID" "$TMP" 60
echo "server on $ADDR; $RATE events/s for ${SECS}s; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$LOAD" --addr "$ADDR" --seconds "$SECS" --threads 4 --write-share 1 --rate "$RATE" \
  --users 1000000 --items 600 --key "$KEY" >"$TMP/load.json" &
LOAD_PID=$!
echo "t_seconds,rss_mib" >"$OUT/rss.csv"
t0=$(date +%s)
while kill -0 "$LOAD_PID" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
  echo "$(($(date +%s) - t0)),$((rss / 1024))" >>"$OUT/rss.csv"
  sleep 10
done
wait "$LOAD_PID" || true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
METRICS=$(curl -s -H "Authorization: Bearer $KEY" "http://$ADDR/metrics" | grep -E "^daogou_(events_ingested_total|live_|trending_)")
python3 - "$OUT" "$TMP/load.json" "$METRICS" "${CONFIG:-}" "$WARMUP" <<'EOF'
import csv, json, sys
out, load, metrics, config, warmup = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4], int(sys.argv[5])
rows = [(int(r["t_seconds"]), int(r["rss_mib"])) for r in csv.DictReader(open(f"{out}/rss.csv"))]
steady = [m for t, m in rows if t >= warmup] or [m for _, m in rows]
lo, hi = min(steady), max(steady)
mid = (lo + hi) / 2
# a small SVG line chart of the resident set over time
W, H, P = 640, 240, 40
tmax = max(t for t, _ in rows) or 1
mmax = max(m for _, m in rows) * 1.2 or 1
pts = " ".join(f"{P + t / tmax * (W - 2 * P):.1f},{H - P - m / mmax * (H - 2 * P):.1f}" for t, m in rows)
svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">
<rect width="{W}" height="{H}" fill="white"/>
<line x1="{P}" y1="{H-P}" x2="{W-P}" y2="{H-P}" stroke="#999"/><line x1="{P}" y1="{P}" x2="{P}" y2="{H-P}" stroke="#999"/>
<text x="{W/2}" y="{H-8}" text-anchor="middle">seconds (0–{tmax})</text>
<text x="8" y="{P-10}">RSS MiB (max {max(m for _, m in rows)})</text>
<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{pts}"/>
</svg>"""
open(f"{out}/rss.svg", "w").write(svg)
md = [
    f"# daogou serve: resident memory at {load['events_per_s']:.0f} events/s for {load['seconds']:.0f} s, retraining off",
    "",
    f"* extra config: {config or '(none)'}",
    f"* events acknowledged: {load['events_per_s']:.0f}/s, write p99 {load['write_p99_ms']:.2f} ms, errors {load['errors']}",
    f"* RSS after the {warmup} s warm-up: min {lo} MiB, max {hi} MiB: ±{(hi - lo) / 2 / mid * 100:.1f} % around {mid:.0f} MiB",
    f"* RSS at {warmup} s, {warmup + 300} s, {warmup + 600} s: " + ", ".join(str(min(rows, key=lambda r: abs(r[0] - x))[1]) + " MiB" for x in (warmup, warmup + 300, warmup + 600)),
    f"* RSS at start {rows[0][1]} MiB, at the end {rows[-1][1]} MiB",
    "* live state at the end (Prometheus):",
    "",
    "```",
    metrics,
    "```",
    "",
    "![RSS over time](rss.svg)",
]
open(f"{out}/result.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
