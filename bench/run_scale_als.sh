#!/usr/bin/env bash
# Scale case for implicit ALS: daogou als vs implicit's AlternatingLeastSquares, side by side, on
# 100,000 users x 50,000 items x 10,000,000 interactions (Zipf-like popularity; see
# bench/gen_scale_implicit.py), both with 64 factors and 10 iterations on the same threads.
#
#   cargo build --release -p daogou       # or: BUILD=1 bench/run_scale_als.sh
#   bench/run_scale_als.sh                # THREADS=N to pin both sides to N threads (default: all cores),
#                                         # REPEAT=N interleaved runs per side (default 3; median and min)
#   SIZE=100m REPEAT=1 bench/run_scale_als.sh   # the 100M case: 1,000,000 users x 200,000 items x
#                                         # 100,000,000 interactions (about 1.4 GB of CSV, generated once)
#
# Generates bench/out/scale_implicit/interactions.csv (deterministic, seed 42) if missing, then runs
#   daogou train --data FILE --format csv --model als --set factors=64 --set iterations=10 --out als.daogou --json
# (the whole job: read, fit and write the model file)
# and, in a separate Python process, reads the same CSV with pandas into a users x items CSR and fits
#   implicit.cpu.als.AlternatingLeastSquares(factors=64, iterations=10, regularization=20, alpha=2)
# on the binary matrix: the same objective as daogou's defaults (confidence 2 on every pair,
# 1 elsewhere; lambda 20; 3 CG steps per row), the same random-start scale (0.01).
# Each process runs under GNU time -v (or os.wait4; bench/measure.py) for wall time and peak RSS;
# the fit time is measured in-process by each side. Results: bench/out/scale_implicit/result.{json,md}.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO_ROOT"

PY="$BENCH_DIR/.venv/bin/python"
[ -x "$PY" ] || { echo "error: $PY missing; run bench/setup.sh first" >&2; exit 1; }
SIZE="${SIZE:-10m}"
case "$SIZE" in
  10m) OUTDIR="$BENCH_DIR/out/scale_implicit"; GEN_ARGS=() ;;
  100m) OUTDIR="$BENCH_DIR/out/scale_100m"; GEN_ARGS=(--users 1000000 --items 200000 --interactions 100000000) ;;
  *) echo "error: SIZE must be 10m or 100m" >&2; exit 1 ;;
esac
DATA="$OUTDIR/interactions.csv"
DAOGOU_BIN="${DAOGOU_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/daogou}"
THREADS="${THREADS:-$(nproc)}"
REPEAT="${REPEAT:-3}"
export RAYON_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"

if [ "${BUILD:-0}" = 1 ]; then
  echo "+ cargo build --release -p daogou"
  cargo build --release -p daogou
fi
[ -x "$DAOGOU_BIN" ] || { echo "error: daogou binary not found at $DAOGOU_BIN; build it: cargo build --release -p daogou (or BUILD=1 $0), or set DAOGOU_BIN" >&2; exit 1; }
if [ ! -s "$DATA" ]; then
  "$PY" "$BENCH_DIR/gen_scale_implicit.py" --out "$DATA" "${GEN_ARGS[@]}"
else
  echo "using existing $DATA"
fi

"$PY" - "$OUTDIR" "$THREADS" "$DAOGOU_BIN" "$DATA" "$REPEAT" <<'PYEOF'
import json, sys, platform, statistics
sys.path.insert(0, "bench")
from measure import run_measured
from common import fmt, machine_info, markdown_table
outdir, threads, binary, data, repeat = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])

peer = r'''
import sys, time, json
import numpy as np, pandas as pd, scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1], dtype={"user": np.int64, "item": np.int64, "value": np.float32})
u = df["user"].to_numpy() - 1; i = df["item"].to_numpy() - 1
X = sp.csr_matrix((np.ones(len(df), dtype=np.float32), (u, i)), shape=(u.max() + 1, i.max() + 1))
X.sum_duplicates(); X.data[:] = 1.0
del df, u, i
load = time.perf_counter() - t0
m = AlternatingLeastSquares(factors=64, iterations=10, regularization=20.0, alpha=2.0, random_state=42,
                            num_threads=int(sys.argv[2]))
t = time.perf_counter(); m.fit(X, show_progress=False); fit = time.perf_counter() - t
print(json.dumps({"fit_seconds": fit, "load_seconds": load, "users": X.shape[0], "items": X.shape[1], "pairs": int(X.nnz)}))
'''
def daogou_once():
    cmd = [binary, "train", "--data", data, "--format", "csv", "--model", "als", "--set", "factors=64", "--set", "iterations=10",
           "--out", f"{outdir}/als.daogou", "--json"]
    m = run_measured(cmd)
    if m.returncode != 0:
        sys.exit(f"daogou failed:\n{m.stderr[-3000:]}")
    d = json.loads(m.stdout[m.stdout.index("{"):])
    return {"command": " ".join(cmd), "fit_seconds": d["fit_seconds"], "wall_seconds": m.wall_seconds,
            "peak_rss_mib": m.peak_rss_mib, "users": d.get("users"), "items": d.get("items"), "pairs": d.get("pairs")}

def implicit_once():
    m = run_measured([sys.executable, "-c", peer, data, str(threads)])
    if m.returncode != 0:
        sys.exit(f"implicit failed:\n{m.stderr[-3000:]}")
    p = json.loads(m.stdout.strip().splitlines()[-1])
    return {"command": "implicit.cpu.als.AlternatingLeastSquares(factors=64, iterations=10, regularization=20, alpha=2)",
            "fit_seconds": p["fit_seconds"], "wall_seconds": m.wall_seconds, "peak_rss_mib": m.peak_rss_mib,
            "users": p["users"], "items": p["items"], "pairs": p["pairs"], "load_seconds": p["load_seconds"]}

print(f"+ {binary} train --data {data} --format csv --model als --set factors=64 --set iterations=10 --out {outdir}/als.daogou --json")
print(f"+ python: implicit AlternatingLeastSquares(factors=64, iterations=10, regularization=20, alpha=2), num_threads={threads}")
all_runs = {"daogou als": [], "implicit ALS": []}
for r in range(repeat):  # interleaved, so that load from other jobs falls on both sides alike
    for name, fn in (("daogou als", daogou_once), ("implicit ALS", implicit_once)):
        one = fn()
        all_runs[name].append(one)
        print(f"  [{r + 1}/{repeat}] {name}: fit {one['fit_seconds']:.1f} s, wall {one['wall_seconds']:.1f} s, "
              f"peak RSS {one['peak_rss_mib']:.0f} MiB", flush=True)
runs = {}
for name, rs in all_runs.items():
    runs[name] = dict(rs[0])
    runs[name].update(fit_seconds=statistics.median(x["fit_seconds"] for x in rs),
                      fit_seconds_min=min(x["fit_seconds"] for x in rs),
                      wall_seconds=statistics.median(x["wall_seconds"] for x in rs),
                      peak_rss_mib=max(x["peak_rss_mib"] for x in rs), runs=rs)
a, b = runs["daogou als"], runs["implicit ALS"]
if (a["users"], a["items"], a["pairs"]) != (b["users"], b["items"], b["pairs"]):
    sys.exit(f"the two sides saw different data: {a} vs {b}")
rows = [[k, f"{r['users']:,} x {r['items']:,}, {r['pairs']:,} pairs", fmt(r["fit_seconds"], 1),
         fmt(r["fit_seconds_min"], 1), fmt(r["wall_seconds"], 1), fmt(r["peak_rss_mib"], 0)] for k, r in runs.items()]
rows.append(["ratio implicit / daogou", "", f"{b['fit_seconds'] / a['fit_seconds']:.2f}x",
             f"{b['fit_seconds_min'] / a['fit_seconds_min']:.2f}x",
             f"{b['wall_seconds'] / a['wall_seconds']:.2f}x", f"{b['peak_rss_mib'] / a['peak_rss_mib']:.2f}x"])
table = markdown_table(["method", "data", "fit (s, median)", "fit (s, min)", "process wall (s, median)",
                        "peak RSS (MiB, max)"], rows)
info = machine_info()
md = (f"# ALS scale case: daogou vs implicit\n\nMachine: {info.get('cpu_model', '?')}, {info.get('cpu_count')} CPUs; "
      f"{threads} thread(s) on both sides; {repeat} interleaved runs each.\n64 factors, 10 iterations, lambda 20, confidence 2 "
      "on every pair (both sides solve the same objective with 3 CG steps per row).\n"
      f"Process wall includes reading the {a['pairs']:,}-line CSV (daogou: its CSV reader and id maps; implicit: pandas + scipy) "
      "and, for daogou, writing the model file (implicit writes nothing).\n\n"
      f"{table}\n")
print("\n" + table)
open(f"{outdir}/result.json", "w").write(json.dumps({"machine": info, "threads": threads, "repeat": repeat, "runs": runs}, indent=2))
open(f"{outdir}/result.md", "w").write(md)
print(f"\nwrote {outdir}/result.json and {outdir}/result.md")
PYEOF
