#!/usr/bin/env bash
# The Python package's CI step (.ci/run): build the wheel with maturin, install it into a
# fresh venv with the pinned test requirements, run the pytest suite against the debug
# `daogou` binary of the same run (the command line whose numbers the package must give; it
# also imports the pyarrow-written Parquet files of tests/test_parquet.py).
#
# The wheel is built in the dev profile, after `cargo build --workspace --tests --benches`:
# the numeric crates are optimised there too ([profile.dev.package.*]; float results do not
# depend on opt-level) and every dependency is reused from the workspace build, so only
# pyo3/numpy and this crate compile. Users build the release wheel: `maturin build --release
# -m crates/python/Cargo.toml`.
#
#   bash crates/python/ci.sh                      # after cargo build --workspace --tests --benches
#   PROFILE=release DAOGOU_BIN=target/release/daogou bash crates/python/ci.sh
#   bash crates/python/ci.sh --install            # only maturin, the test requirements and a venv of them
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
profile=${PROFILE:-dev}
target=${CARGO_TARGET_DIR:-$root/target}
bin=${DAOGOU_BIN:-$target/debug/daogou}
# --install: only install maturin, fetch the test requirements and make their venv (.ci/run does it beside the build)
install_only=; [ "${1:-}" = --install ] && install_only=1
[ -n "$install_only" ] || [ -x "$bin" ] || { echo "python: $bin is missing; build it first (cargo build -p daogou)" >&2; exit 1; }
started=$(date +%s)
say() { echo "== python: $1 ($(($(date +%s) - started)) s)"; }

# a venv at $1; Debian's python3 needs python3-venv for ensurepip (as tests/fuzz/run.sh)
make_venv() {
  if ! python3 -m venv "$1" 2>/dev/null; then
    say "installing python3-venv (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    rm -rf "$1"
    python3 -m venv "$1"
  fi
}

# maturin in a venv under ~/.cache keyed by its pin, so a warm machine installs nothing
maturin_pin="maturin==1.16.0"
tools=${DAOGOU_MATURIN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/daogou/${maturin_pin/==/-}}
if [ ! -x "$tools/bin/maturin" ]; then
  say "installing $maturin_pin into $tools"
  rm -rf "$tools"
  make_venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check "$maturin_pin"
fi

# the test requirements as wheels (downloaded; scikit-surprise, a source package, built): the
# fresh test venv below installs from this folder
wheelhouse=$target/python-wheelhouse
# --install also makes the test venv (numpy, scipy, pandas, … unpacked: about 25 s) beside the
# build; the next run takes it once and removes it, so every run still tests in a fresh venv
prepared=$target/python-test-venv
requirements_hash=$(sha256sum crates/python/requirements-test.txt | cut -d' ' -f1)
if [ -n "$install_only" ]; then
  say "fetching crates/python/requirements-test.txt into $wheelhouse"
  "$tools/bin/pip" wheel -q --disable-pip-version-check -r crates/python/requirements-test.txt -w "$wheelhouse"
  say "a fresh venv with the test requirements in $prepared"
  # made where it is used (a venv holds its absolute path); the stamp, written last, says it is whole
  rm -rf "$prepared"
  make_venv "$prepared"
  "$prepared/bin/pip" install -q --disable-pip-version-check --find-links "$wheelhouse" \
    -r crates/python/requirements-test.txt
  echo "$requirements_hash" >"$prepared/requirements.sha256"
  exit 0
fi

# the shared dependencies must resolve to the workspace build's features, or the wheel build
# recompiles them (see the feature-alignment block of crates/python/Cargo.toml)
feature_drift=$(python3 - <<'PY'
import re, subprocess
def tree(*args):
    out = subprocess.run(["cargo", "tree", "--locked", "-f", "{p} [{f}]", "--prefix", "none", *args],
                         capture_output=True, text=True, check=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r"(\S+ v\S+)(?: \(.*?\))?(?: \(\*\))? \[(.*)\]", line.strip())
        if m:
            d.setdefault(m.group(1), set()).update(f for f in m.group(2).split(",") if f)
    return d
ws, py = tree("--workspace"), tree("-p", "daogou-python", "-e", "normal,build")
for k in sorted(py):
    if not k.startswith("daogou") and ws.get(k, set()) != py[k]:
        print(f"{k}: workspace {sorted(ws.get(k, set()))}, python {sorted(py[k])}")
PY
)
if [ -n "$feature_drift" ]; then
  echo "python: warning: features differ from the workspace build (the wheel build recompiles these and what uses them):"
  echo "$feature_drift" | sed 's/^/    /'
fi

say "maturin build --profile $profile"
wheels=$target/python-wheels
rm -rf "$wheels"
"$tools/bin/maturin" build --quiet --locked --profile "$profile" -m crates/python/Cargo.toml -i python3 --out "$wheels"
wheel=$(ls "$wheels"/daogou-*.whl)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
links=(); [ -d "$wheelhouse" ] && links=(--find-links "$wheelhouse")
if [ "$(cat "$prepared/requirements.sha256" 2>/dev/null)" = "$requirements_hash" ]; then
  # made by --install for this run
  say "the venv made beside the build: $(basename "$wheel")"
  venv=$prepared
  trap 'rm -rf "$tmp" "$prepared"' EXIT
else
  say "fresh venv: $(basename "$wheel") and crates/python/requirements-test.txt"
  venv=$tmp/venv
  make_venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "${links[@]}" "$wheel" -r crates/python/requirements-test.txt

say "pytest"
# the suite runs from outside the source tree, so `import daogou` is the installed wheel
cd "$tmp"
DAOGOU_BIN=$bin OPENBLAS_NUM_THREADS=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider \
  --rootdir "$root/crates/python" "$root/crates/python/tests"
say "done"
