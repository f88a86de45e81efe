#!/usr/bin/env bash
# Set up the peer-benchmark environment: bench/.venv with pinned peer libraries, and GNU time.
# Idempotent: a no-op (a few seconds) when everything is already installed.
#
#   bench/setup.sh            # uses python3 from PATH (override: PYTHON=/path/to/python3)
#
# The daogou side is built separately with:  cargo build --release -p daogou
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$BENCH_DIR/.venv"
PYTHON="${PYTHON:-python3}"

# Pinned to the versions the published numbers were measured with (Python 3.11).
PINS=(
  "numpy==2.4.6"
  "scipy==1.17.1"
  "scikit-learn==1.9.1"
  "scikit-surprise==1.1.5"
  "implicit==0.7.3"
  "pandas==3.1.1"
)

# GNU time gives per-process peak RSS ("Maximum resident set size"). Optional: the scripts
# fall back to os.wait4() rusage when /usr/bin/time is missing. Install it when apt is there.
if [ ! -x /usr/bin/time ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing GNU time via apt-get"
    (apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }) \
      || echo "warning: could not install GNU time; peak RSS will come from os.wait4()" >&2
  else
    echo "note: /usr/bin/time missing and apt-get unavailable (or not root); peak RSS will come from os.wait4()" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# Quick path: every pin already satisfied -> nothing to do.
missing=()
frozen="$("$VENV/bin/pip" freeze 2>/dev/null | tr 'A-Z_' 'a-z-')"
for p in "${PINS[@]}"; do
  if ! grep -qx "$(echo "$p" | tr 'A-Z_' 'a-z-')" <<<"$frozen"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bench/.venv up to date: ${PINS[*]}"
  exit 0
fi

echo "installing: ${missing[*]}"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "${PINS[@]}"
"$VENV/bin/python" -c "import numpy, scipy, sklearn, surprise, implicit, pandas; print('ok: numpy', numpy.__version__, 'surprise', surprise.__version__)"
