#!/usr/bin/env bash
# A longer schemathesis run than CI's, on the release binary: the same script as the CI step
# (tests/fuzz/run.sh: every operation of /openapi.json, all phases, schemathesis pinned by hash),
# with a bigger budget.
#
#   bash bench/fuzz_serve.sh                       # 600 s
#   FUZZ_SECONDS=1800 bash bench/fuzz_serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p daogou
DAOGOU_BIN=target/release/daogou FUZZ_SECONDS="${FUZZ_SECONDS:-600}" exec bash tests/fuzz/run.sh
