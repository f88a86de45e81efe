#!/usr/bin/env bash
# MovieLens 100k, 5 folds: daogou svd, svdpp, knn-baseline, slope-one next to Surprise's SVD,
# SVDpp, KNNBaseline (item, pearson_baseline) and SlopeOne, in one run.
#
#   bench/setup.sh && bench/run_mf_ml100k.sh            # extra args go to compare_mf_ml100k.py
#
# Builds daogou with `cargo build --release -p daogou` (skip with NO_BUILD=1), then runs
# bench/compare_mf_ml100k.py, which writes bench/out/compare_mf_ml100k.{json,md}.
# Surprise's SVDpp takes about half a minute per fold; the whole run takes a few minutes.
# Datasets: $DAOGOU_DATASETS (default ../shared/datasets relative to the repo root).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$BENCH_DIR/.."
PY="$BENCH_DIR/.venv/bin/python"
[ -x "$PY" ] || { echo "error: $PY missing; run bench/setup.sh first" >&2; exit 1; }
if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "+ cargo build --release -p daogou"
  cargo build --release -p daogou
fi
exec "$PY" "$BENCH_DIR/compare_mf_ml100k.py" "$@"
