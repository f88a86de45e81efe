#!/usr/bin/env bash
# The shopper simulator's figures (README, "Online experiments"): ≥ 200 A/A experiments (the
# sequential test's false-positive rate), an A/B where B is truly better (power) and a broken
# assignment (the sample-ratio alarm), on shoppers from the demo shop's generator.
#   bash bench/shopper_sim.sh                      # 200 runs of each, 8,000 shoppers
#   RUNS=1000 SHOPPERS=8000 SEED=1 bash bench/shopper_sim.sh
# daogou-eval is optimised in the dev profile, so a debug build runs it in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q -p daogou-eval --example shopper_sim -- \
  --runs "${RUNS:-200}" --shoppers "${SHOPPERS:-8000}" --seed "${SEED:-1}"
