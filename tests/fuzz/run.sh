#!/usr/bin/env bash
# Fuzz `daogou serve` with schemathesis from its own /openapi.json: every operation, all four
# phases (examples, coverage, fuzzing, stateful), bounded in time; one answer with a 5xx fails
# the run. A CI step (.ci/run), on the debug binary built there; loopback only.
#
# schemathesis is pinned with hashes in tests/fuzz/requirements.txt (made from requirements.in
# with `pip-compile --generate-hashes --allow-unsafe --strip-extras`) and installed into a venv
# under ~/.cache keyed by the lock's hash, so a warm machine installs nothing.
#
#   bash tests/fuzz/run.sh                                          # 120 s of fuzzing
#   DAOGOU_BIN=target/release/daogou FUZZ_SECONDS=600 bash tests/fuzz/run.sh
#   bash tests/fuzz/run.sh --install                                # only install schemathesis
#
# Reports (HAR of every request, JUnit) go to target/fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin=${DAOGOU_BIN:-$root/target/debug/daogou}
secs=${FUZZ_SECONDS:-120}
art=${ARTIFACTS:-$root/target/fuzz-artifacts}
# --install: only install schemathesis (.ci/run does it beside the build)
install_only=; [ "${1:-}" = --install ] && install_only=1
[ -n "$install_only" ] || [ -x "$bin" ] || { echo "fuzz: $bin is missing; build it first (cargo build -p daogou)" >&2; exit 1; }

lock=tests/fuzz/requirements.txt
venv=${DAOGOU_FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/daogou/schemathesis-$(sha256sum "$lock" | cut -c1-16)}
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "== installing schemathesis from $lock into $venv"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 needs python3-venv for ensurepip
    echo "== installing python3-venv (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$lock"
fi
echo "== $("$venv/bin/schemathesis" --version)"
[ -z "$install_only" ] || exit 0

rm -rf "$art"
mkdir -p "$art"
tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# stopped from outside (.ci/run runs it in the background): stop the server too
trap 'exit 143' TERM INT

key=fuzz-admin-key-1
# a small demo shop: every model, the deep ones too, fits in seconds in a debug build
"$bin" demo --db "$tmp/shop.db" --users 150 --items 120 --show 0 >"$art/demo.log"
RAYON_NUM_THREADS=1 "$bin" serve --db "$tmp/shop.db" --bind 127.0.0.1:0 --api-keys "$key:read+write+admin" \
  >"$tmp/serve.out" 2>"$art/serve.log" &
pid=$!
addr=
for _ in $(seq 1 600); do
  addr=$(sed -n 's#^listening on http://##p' "$tmp/serve.out" | head -n 1)
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "daogou serve exited:" >&2; cat "$art/serve.log" >&2; exit 1; }
  sleep 0.2
done
[ -n "$addr" ] || { echo "daogou serve did not start in 120 s" >&2; exit 1; }
"$venv/bin/python" - "$addr" "$key" "$art/openapi.json" <<'EOF'
import sys, urllib.request
addr, key, out = sys.argv[1:]
req = urllib.request.Request(f"http://{addr}/openapi.json", headers={"X-API-Key": key})
open(out, "wb").write(urllib.request.urlopen(req, timeout=30).read())
EOF

echo "== schemathesis against http://$addr for ${secs}s (all operations, all phases)"
start=$(date +%s)
status=0
# in the temporary folder: schemathesis keeps a .hypothesis/ cache where it runs. --max-time
# ends the phases; it finishes the test case at hand, so allow a little more before killing.
(cd "$tmp" && timeout $((secs + 50)) "$venv/bin/schemathesis" run "$art/openapi.json" --url "http://$addr" \
  -H "Authorization: Bearer $key" --phases examples,coverage,fuzzing,stateful --checks not_a_server_error \
  --max-time "$secs" --seed 20261212 --request-timeout 60 \
  --report har,junit --report-dir "$art" --output-truncate true) || status=$?
echo "== schemathesis finished in $(( $(date +%s) - start )) s (exit $status)"
[ "$status" = 124 ] && echo "schemathesis overran its ${secs} s budget by 50 s and was stopped" >&2

# the verdict from every recorded answer: each documented operation reached, no 5xx
"$venv/bin/python" - "$art" <<'EOF' || status=1
import collections, glob, json, re, sys
art = sys.argv[1]
doc = json.load(open(f"{art}/openapi.json"))
ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in ("get", "put", "post", "delete", "patch")}
pats = {op: re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op[1])) + "$") for op in ops}
seen, classes, fives = collections.Counter(), collections.Counter(), []
for f in glob.glob(f"{art}/har-*.json"):
    for e in json.load(open(f))["log"]["entries"]:
        method, url, st = e["request"]["method"], e["request"]["url"], e["response"]["status"]
        path = re.sub(r"^https?://[^/]+", "", url).split("?")[0]
        for op, rx in pats.items():
            if op[0] == method and rx.match(path):
                seen[op] += 1
                break
        classes[f"{st // 100}xx"] += 1
        if st >= 500:
            fives.append(f"{method} {url} -> {st}")
missing = sorted(f"{m} {p}" for m, p in ops if not seen[(m, p)])
print(f"{sum(classes.values())} requests, {dict(sorted(classes.items()))}, {len(ops) - len(missing)} of {len(ops)} operations reached")
for op in sorted(ops, key=lambda o: (o[1], o[0])):
    print(f"  {seen[op]:6}  {op[0]} {op[1]}")
if missing:
    print("operations never reached:", ", ".join(missing))
for x in fives[:20]:
    print("5xx:", x)
sys.exit(1 if fives or missing else 0)
EOF
exit $status
