#!/usr/bin/env bash
# LightGBM against hessboost on the learned ranker's training rows (Online Retail), the
# measurement behind the ranker's choice of library (README, "Learned ranker"). Builds LightGBM
# from source, which needs what the project's own builds avoid: CMake ≥ 3.28 (Debian 12 has
# 3.25, so it comes from PyPI into bench/.cmake-venv), libclang (Debian: libclang1-14
# libclang-common-14-dev) and g++. The build goes to bench/out/gbdt_compare/target.
#
#   bash bench/run_gbdt_compare.sh        # → bench/out/gbdt_compare/result.md
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
DATASETS="${DAOGOU_DATASETS:-$REPO_ROOT/../shared/datasets}"
DATA="$DATASETS/online-retail/online_retail.csv.gz"
[ -f "$DATA" ] || { echo "SKIPPED: $DATA not found (set DAOGOU_DATASETS)"; exit 0; }
OUT="$BENCH_DIR/out/gbdt_compare"
mkdir -p "$OUT"
if [ -z "${CMAKE:-}" ]; then
  [ -x "$BENCH_DIR/.cmake-venv/bin/cmake" ] || { python3 -m venv "$BENCH_DIR/.cmake-venv" && "$BENCH_DIR/.cmake-venv/bin/pip" install -q 'cmake>=3.28,<4'; }
  export CMAKE="$BENCH_DIR/.cmake-venv/bin/cmake"
fi
if ! ldconfig -p | grep -qE 'libclang(-[0-9.]+)?\.so'; then
  echo "installing libclang (apt)"; apt-get install -y libclang1-14 libclang-common-14-dev >/dev/null
fi
export CARGO_TARGET_DIR="$OUT/target"
cargo build --release --manifest-path "$BENCH_DIR/gbdt_compare/Cargo.toml"
"$OUT/target/release/gbdt-compare" "$DATA" | tee "$OUT/result.md"
