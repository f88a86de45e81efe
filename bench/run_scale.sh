#!/usr/bin/env bash
# Scale case: daogou user-kNN (k=40, pearson) on 200k users x 50k items x ~5M ratings.
#
#   bench/setup.sh                        # once: venv for the generator (numpy, pandas)
#   cargo build --release -p daogou       # build daogou (or: BUILD=1 bench/run_scale.sh)
#   bench/run_scale.sh
#
# Generates bench/out/scale/ratings.csv (deterministic, seed 42) if missing, prints what the
# dense numpy tutorial approach would need (it cannot run: >= 560 GB), then runs
#   daogou evaluate --data bench/out/scale/ratings.csv --format csv --split random:0.2 \
#       --model user-knn --set k=40 --set similarity=pearson --json $DAOGOU_EXTRA_FLAGS
# under GNU time -v (or, without /usr/bin/time, a Python os.wait4 wrapper) and prints wall
# time and peak RSS. Results: bench/out/scale/result.json (daogou's JSON + time + RSS).
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO_ROOT"

PY="$BENCH_DIR/.venv/bin/python"
[ -x "$PY" ] || { echo "error: $PY missing; run bench/setup.sh first" >&2; exit 1; }
DATA="$BENCH_DIR/out/scale/ratings.csv"
OUTDIR="$BENCH_DIR/out/scale"
DAOGOU_BIN="${DAOGOU_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/daogou}"

# >>> EXTRA FLAGS for daogou evaluate, e.g. test-user sampling if evaluating ~1M test pairs is
# >>> too slow once the CLI has such an option:  DAOGOU_EXTRA_FLAGS="--max-test-users 20000"
DAOGOU_EXTRA_FLAGS="${DAOGOU_EXTRA_FLAGS:-}"

if [ "${BUILD:-0}" = 1 ]; then
  echo "+ cargo build --release -p daogou"
  cargo build --release -p daogou
fi
if [ ! -x "$DAOGOU_BIN" ]; then
  echo "error: daogou binary not found at $DAOGOU_BIN; build it: cargo build --release -p daogou (or BUILD=1 $0), or set DAOGOU_BIN" >&2
  exit 1
fi

if [ ! -s "$DATA" ]; then
  "$PY" "$BENCH_DIR/gen_scale.py" --out "$DATA"
else
  "$PY" "$BENCH_DIR/gen_scale.py" --dense-check-only
  echo "using existing $DATA"
fi

# shellcheck disable=SC2086
CMD=("$DAOGOU_BIN" evaluate --data "$DATA" --format csv --split random:0.2 \
     --model user-knn --set k=40 --set similarity=pearson --json $DAOGOU_EXTRA_FLAGS)
echo "+ ${CMD[*]}"

# measure.py uses /usr/bin/time -v when present, else os.wait4 (same counter: peak RSS)
"$PY" - "$OUTDIR/result.json" "${CMD[@]}" <<'PYEOF'
import json, sys
sys.path.insert(0, "bench")
from measure import run_measured
from compare_ml100k import parse_json_stdout
out_path, cmd = sys.argv[1], sys.argv[2:]
m = run_measured(cmd)
sys.stderr.write(m.stderr[-4000:])
res = {"command": cmd, "returncode": m.returncode, "wall_seconds": m.wall_seconds,
       "peak_rss_mib": m.peak_rss_mib, "rss_method": m.rss_method}
try:
    res["daogou"] = parse_json_stdout(m.stdout)
except Exception as e:
    res["stdout_tail"] = m.stdout[-4000:]
    res["parse_error"] = str(e)
with open(out_path, "w") as f:
    json.dump(res, f, indent=2)
d = res.get("daogou", {})
print(json.dumps(d, indent=2) if d else m.stdout[-4000:])
print(f"\nscale case: rc={m.returncode}  wall {m.wall_seconds:.1f} s  peak RSS {m.peak_rss_mib:.0f} MiB ({m.rss_method})")
for k in ("rmse", "mae", "fit_seconds", "eval_seconds"):
    if k in d:
        print(f"  {k}: {d[k]}")
print(f"wrote {out_path}")
sys.exit(m.returncode)
PYEOF
