#!/usr/bin/env bash
# The scale-out topology on loopback, measured with wrk (Debian package) side by side with the
# single-binary mode on the same machine, same data (the demo shop: 800 shoppers, 600 products):
#
#   sqlite        one `daogou serve --db` (the embedded default)
#   pg            one `daogou serve --store postgres://…` (what PostgreSQL costs per request)
#   pg+redis      one `daogou serve --store postgres://… --redis …` (and Redis on top: the
#                 publish of each write to the other servers)
#   cluster       nginx → 3 × `daogou serve` on PostgreSQL + Redis, 1 `daogou trainer`
#
# Two workloads each: reads (for-you top 10 of a random shopper) and writes (one view event of
# a random shopper per request). Throughput and p50/p99 from wrk --latency.
#
#   bash bench/cluster.sh                      # 10 s per run, 16 connections, release build
#   SECS=20 CONNS=32 bash bench/cluster.sh
#
# On a 2-core machine every process (wrk, nginx, servers, PostgreSQL, Redis) shares the same
# two cores: the point is the overhead per request, not the scaling (see the README's arithmetic
# for N machines).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${SECS:-10}"
CONNS="${CONNS:-16}"

for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
done
cargo build --release -q -p daogou --bin daogou
BIN="$PWD/target/release/daogou"

if [ -z "${DAOGOU_TEST_POSTGRES:-}" ]; then
  # start PostgreSQL and Redis for the run, and this script again inside
  exec bash scripts/dev-services.sh run bash "$0" "$@"
fi

TMP="$(mktemp -d)"
chmod 755 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wrk scripts: random shoppers of the demo shop
cat >"$TMP/read.lua" <<'EOF'
request = function()
  return wrk.format("GET", string.format("/users/u%04d/recommendations?n=10", math.random(0, 799)))
end
EOF
cat >"$TMP/write.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = string.format('{"user":"u%04d","item":"p%05d","kind":"view"}', math.random(0, 799), math.random(1, 600))
  return wrk.format("POST", "/events", nil, body)
end
EOF

SERVE_OUT=""
serve() { # serve ARGS… : starts a server (in this shell, so its pid is kept); then `addr`
  SERVE_OUT="$TMP/serve.$RANDOM"
  "$BIN" serve --bind 127.0.0.1:0 "$@" >"$SERVE_OUT" 2>"$SERVE_OUT.err" &
  PIDS+=($!)
}
addr() { # the address the last started server listens on
  for _ in $(seq 600); do
    if [ -s "$SERVE_OUT" ]; then sed -n 's|listening on http://||p' "$SERVE_OUT" | head -1; return; fi
    sleep 0.1
  done
  cat "$SERVE_OUT.err" >&2
  exit 1
}

run_wrk() { # run_wrk NAME WORKLOAD URL
  local name=$1 workload=$2 url=$3
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$TMP/$workload.lua" "$url")
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf '%-10s %-6s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$workload" "$rps" "$p50" "$p99" "${errs:-0}"
}

echo "== data: the demo shop, into SQLite and into PostgreSQL"
"$BIN" demo --db "$TMP/shop.db" --show 0 >/dev/null
PG=$(echo "$DAOGOU_TEST_POSTGRES" | sed 's|/postgres$|/bench|')
psql "$DAOGOU_TEST_POSTGRES" -qc "CREATE DATABASE bench"
"$BIN" demo --store "$PG" --show 0 >/dev/null
"$BIN" stats --store "$PG"

echo "== sqlite: one server"
serve --db "$TMP/shop.db" --model item-knn
A=$(addr)
run_wrk sqlite read "http://$A"
run_wrk sqlite write "http://$A"
kill "${PIDS[-1]}"

echo "== trainer (item-knn) and the first model artifact"
"$BIN" trainer --store "$PG" --redis "$DAOGOU_TEST_REDIS" --every 0 --model item-knn >"$TMP/trainer.out" 2>"$TMP/trainer.err" &
PIDS+=($!)
for _ in $(seq 300); do grep -q artifact "$TMP/trainer.out" 2>/dev/null && break; sleep 0.2; done
cat "$TMP/trainer.out"

echo "== pg: one server, no Redis (what PostgreSQL alone costs)"
serve --store "$PG"
B=$(addr)
run_wrk pg read "http://$B"
run_wrk pg write "http://$B"
kill "${PIDS[-1]}"

echo "== pg+redis: one server"
serve --store "$PG" --redis "$DAOGOU_TEST_REDIS"
B=$(addr)
run_wrk pg+redis read "http://$B"
run_wrk pg+redis write "http://$B"
kill "${PIDS[-1]}"

echo "== cluster: nginx → 3 servers"
UP=""
for _ in 1 2 3; do
  serve --store "$PG" --redis "$DAOGOU_TEST_REDIS"
  S=$(addr)
  UP="$UP    server $S;\n"
done
PORT=$(free_port)
mkdir -p "$TMP/nginx"
printf "daemon on;\npid $TMP/nginx.pid;\nerror_log $TMP/nginx/error.log;\nworker_processes 1;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  upstream daogou {\n$UP    keepalive 32;\n  }\n  server {\n    listen 127.0.0.1:$PORT;\n    location / {\n      proxy_pass http://daogou;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_set_header Host 127.0.0.1;\n    }\n  }\n}\n" >"$TMP/nginx.conf"
nginx -p "$TMP/nginx" -c "$TMP/nginx.conf"
sleep 0.5
run_wrk cluster read "http://127.0.0.1:$PORT"
run_wrk cluster write "http://127.0.0.1:$PORT"
echo "== machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
