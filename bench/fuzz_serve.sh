#!/usr/bin/env bash
# Fuzz `daogou serve` from its own OpenAPI document with schemathesis (PyPI), loopback only,
# bounded in time: every generated request (valid, invalid, stateful sequences) must get an
# answer that is not a 5xx. Installs schemathesis into ~/.cache/daogou-fuzz-venv (or
# $DAOGOU_FUZZ_VENV) on first use.
#
#   bash bench/fuzz_serve.sh            # 150 s
#   FUZZ_SECONDS=60 CHECKS=all bash bench/fuzz_serve.sh   # also schema conformance checks
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${FUZZ_SECONDS:-150}"
CHECKS="${CHECKS:-not_a_server_error}"
KEY="fuzz-admin-key-1"
VENV="${DAOGOU_FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/daogou-fuzz-venv}"
[ -x "$VENV/bin/schemathesis" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q schemathesis; }
cargo build --release -q -p daogou
TMP="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
target/release/daogou demo --db "$TMP/shop.db" >/dev/null
RAYON_NUM_THREADS=1 target/release/daogou serve --db "$TMP/shop.db" --bind 127.0.0.1:0 \
  --api-keys "$KEY:read+write+admin" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 600); do grep -q "listening on" "$TMP/out" 2>/dev/null && break; sleep 0.1; done
ADDR="$(sed -n 's#^listening on http://##p' "$TMP/out")"
curl -sf -H "X-API-Key: $KEY" "http://$ADDR/openapi.json" >"$TMP/openapi.json"
# run in the temporary folder: schemathesis leaves a .schemathesis/ cache where it runs
cd "$TMP" && "$VENV/bin/schemathesis" run openapi.json --url "http://$ADDR" -H "X-API-Key: $KEY" \
  -c "$CHECKS" --max-time "$SECS" -n 60
