#!/usr/bin/env bash
# The GPU build compiles on a machine without a GPU: `cargo check` of the binary with
# `daogou-nn/cuda`, which builds candle's CUDA kernels with nvcc. The CUDA compiler comes from
# NVIDIA's PyPI wheels (no GPU, driver or system CUDA install needed), into a venv under target/.
#
#   bash tests/cuda/check.sh          # about 8–10 min on 2 cores (nvcc compiles candle's kernels)
#
# CUDA 13.4: the newest release cudarc 0.19 (candle 0.11's CUDA bindings) knows. Compute
# capability 9.0 stands in for the GPU that is not there (set CUDA_COMPUTE_CAP to change it).
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV="${CUDA_VENV:-target/cuda-toolchain}"
CUDA_VERSION=13.4.92
if [ ! -x "$VENV/bin/pip" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
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
