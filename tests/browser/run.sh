#!/usr/bin/env bash
# The real-browser test of the storefront and dashboard (CI step after the cargo tests).
# Installs Debian's chromium when missing and playwright-core from package-lock.json, builds
# nothing itself (uses target/debug/daogou, or $DAOGOU_BIN), creates the demo shop, starts
# `daogou serve` on a free loopback port, and runs storefront.test.mjs. Screenshots and logs go
# to target/browser-artifacts/. Then `daogou report` on the same shop and report.test.mjs on its HTML.
# `run.sh --install` only installs (chromium, the font, playwright-core).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin=${DAOGOU_BIN:-$root/target/debug/daogou}
art=${ARTIFACTS:-$root/target/browser-artifacts}
# --install: only install what the test needs (.ci/run does it beside the build)
install_only=; [ "${1:-}" = --install ] && install_only=1
[ -n "$install_only" ] || [ -x "$bin" ] || { echo "browser test: $bin is missing; build it first (cargo build -p daogou)" >&2; exit 1; }

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
# a CJK font, or the screenshots show boxes instead of the Chinese text
{ command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; } || need+=(fonts-wqy-zenhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "== $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  { echo "browser test: playwright-core needs node 20 or newer, found $(node --version)" >&2; exit 1; }
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
[ -z "$install_only" ] || exit 0

rm -rf "$art"
mkdir -p "$art"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# start `daogou serve NAME ARGS…` on a free loopback port; its address in $url
serve() {
  local name=$1
  shift
  "$bin" serve --db "$tmp/shop.db" --bind 127.0.0.1:0 "$@" >"$tmp/$name.out" 2>"$art/$name.log" &
  local pid=$!
  pids+=("$pid")
  url=
  for _ in $(seq 1 600); do
    url=$(sed -n 's/^listening on //p' "$tmp/$name.out" | head -n 1)
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "daogou serve exited:" >&2; cat "$art/$name.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "daogou serve did not start in 120 s" >&2
  exit 1
}

start=$(date +%s%N)
"$bin" demo --db "$tmp/shop.db" >"$art/demo.log"
echo "== demo shop created in $(( ($(date +%s%N) - start) / 1000000 )) ms"
serve serve
open_url=$url
# the same shop behind an API key: the pages must ask for it
key=browser-test-admin-key
serve serve-keys --api-keys "$key:read+write+admin"
echo "== daogou serve at $open_url (open) and $url (API key)"
DAOGOU_URL=$open_url DAOGOU_KEYED_URL=$url DAOGOU_KEY=$key ARTIFACTS=$art node tests/browser/storefront.test.mjs

# the HTML report of `daogou report` on the same shop: charts drawn, numbers those of --json
start=$(date +%s%N)
"$bin" report --db "$tmp/shop.db" --models popularity,item-knn,als --bootstrap 200 \
  --out "$art/report.html" --json >"$tmp/report.json" 2>"$art/report.log"
echo "== report written in $(( ($(date +%s%N) - start) / 1000000 )) ms"
REPORT_HTML=$art/report.html REPORT_JSON=$tmp/report.json ARTIFACTS=$art node tests/browser/report.test.mjs
