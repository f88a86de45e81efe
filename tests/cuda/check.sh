#!/usr/bin/env bash
# The GPU build compiles on a machine without a GPU: `cargo check` of the binary with
# `daogou-nn/cuda`, which builds candle's CUDA kernels with nvcc. The CUDA compiler comes from
# NVIDIA's PyPI wheels (no GPU, driver or system CUDA install needed), into a venv under target/.
#
#   bash tests/cuda/check.sh          # about 8–10 min on 2 cores (nvcc compiles candle's kernels)
#   FORCE=1 bash tests/cuda/check.sh  # even when nothing it checks changed
#
# It runs only when what it checks changed since the last passing check: the fingerprint of
# crates/nn, Cargo.lock and this script is compared with the committed tests/cuda/passed.stamp
# (written here after a pass; commit it with the change).
#
# CUDA 13.4: the newest release cudarc 0.19 (candle 0.11's CUDA bindings) knows. Compute
# capability 9.0 stands in for the GPU that is not there (set CUDA_COMPUTE_CAP to change it).
set -euo pipefail
cd "$(dirname "$0")/../.."

# what the check depends on: the deep-learning crate, the dependency versions, this script
fingerprint() {
  { git ls-files crates/nn Cargo.lock tests/cuda/check.sh | sort | while read -r f; do
      printf '%s\n' "$f"; sha256sum < "$f"; done; } | sha256sum | cut -d' ' -f1
}
STAMP=tests/cuda/passed.stamp
now=$(fingerprint)
if [ -z "${FORCE:-}" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$now" ]; then
  echo "cuda build check skipped: crates/nn, Cargo.lock and this script are unchanged since it last passed ($STAMP; FORCE=1 runs it)"
  exit 0
fi
echo "cuda build check: crates/nn, Cargo.lock or this script changed since the last pass; checking"

VENV="${CUDA_VENV:-target/cuda-toolchain}"
CUDA_VERSION=13.4.92
if [ ! -x "$VENV/bin/pip" ]; then
  python3 -m venv "$VENV"
fi
# --no-cache-dir: the wheels are about 1 GB and a cached copy would double it on a full disk
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \
  "nvidia-cuda-nvcc==$CUDA_VERSION" "nvidia-cuda-runtime==$CUDA_VERSION" \
  "nvidia-nvvm==$CUDA_VERSION" "nvidia-cuda-crt==$CUDA_VERSION" "nvidia-cuda-cccl"
ROOT="$(cd "$VENV" && pwd)/lib/python3.$("$VENV/bin/python" -c 'import sys; print(sys.version_info.minor)')/site-packages/nvidia/cu13"
[ -x "$ROOT/bin/nvcc" ] || { echo "error: nvcc not found under $ROOT" >&2; exit 1; }
export PATH="$ROOT/bin:$PATH" CUDA_ROOT="$ROOT" CUDA_PATH="$ROOT" CUDA_HOME="$ROOT"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
nvcc --version | tail -1

# its own target dir: the cuda feature changes candle's build, which would otherwise
# invalidate the CPU build of the tests
cargo check -p daogou --features daogou-nn/cuda --locked --target-dir target/cuda-check
echo "cuda build check passed (no GPU on this machine: $(command -v nvidia-smi >/dev/null && echo 'nvidia-smi present' || echo 'none'))"
echo "$now" > "$STAMP"
echo "wrote $STAMP: commit it so that CI skips this check until crates/nn, Cargo.lock or this script change"
