#!/usr/bin/env bash
# Top-10 for every user at the ALS scale case (100,000 users x 50,000 items x 10,000,000 pairs; the
# data of bench/run_scale_als.sh): daogou vs implicit, side by side, on the same threads.
#
#   cargo build --release -p daogou
#   bench/run_scale_als_topn.sh           # THREADS=N (default: all cores), REPEAT=N interleaved runs (default 3)
#
# Once, untimed: `daogou train ... --model als --set factors=64 --set iterations=10 --out als.daogou`
# and implicit's AlternatingLeastSquares with the same settings (factors saved to a .npz).
# Then, REPEAT times, interleaved:
#   daogou recommend --model als.daogou --all-users -n 10 --out top10.csv --json
#     (in-process `seconds`: scoring every user against every item, the top 10 without the user's
#     training items, and writing the 1,000,000-row CSV; the model-file load is outside it)
#   implicit: model.recommend(all users, X, N=10, filter_already_liked_items=True)
#     (in-process time of that call alone: its batched BLAS scores and top-k; nothing written)
# Each process runs under bench/measure.py (wall time, peak RSS). Results: bench/out/scale_implicit/topn.{json,md}.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO_ROOT"

PY="$BENCH_DIR/.venv/bin/python"
[ -x "$PY" ] || { echo "error: $PY missing; run bench/setup.sh first" >&2; exit 1; }
OUTDIR="$BENCH_DIR/out/scale_implicit"
DATA="$OUTDIR/interactions.csv"
DAOGOU_BIN="${DAOGOU_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/daogou}"
THREADS="${THREADS:-$(nproc)}"
REPEAT="${REPEAT:-3}"
export RAYON_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"

[ -x "$DAOGOU_BIN" ] || { echo "error: daogou binary not found at $DAOGOU_BIN; cargo build --release -p daogou" >&2; exit 1; }
if [ ! -s "$DATA" ]; then
  "$PY" "$BENCH_DIR/gen_scale_implicit.py" --out "$DATA"
fi

"$PY" - "$OUTDIR" "$THREADS" "$DAOGOU_BIN" "$DATA" "$REPEAT" <<'PYEOF'
import json, os, statistics, subprocess, sys
sys.path.insert(0, "bench")
from measure import run_measured
from common import fmt, machine_info, markdown_table
outdir, threads, binary, data, repeat = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
model_file, top_csv, npz = f"{outdir}/als.daogou", f"{outdir}/top10.csv", f"{outdir}/implicit_als.npz"
nodb = f"{outdir}/no-database.db"  # absent: recommend answers from the model file alone

load = r'''
import sys, time, json
import numpy as np, pandas as pd, scipy.sparse as sp
df = pd.read_csv(sys.argv[1], dtype={"user": np.int64, "item": np.int64, "value": np.float32})
u = df["user"].to_numpy() - 1; i = df["item"].to_numpy() - 1
X = sp.csr_matrix((np.ones(len(df), dtype=np.float32), (u, i)), shape=(u.max() + 1, i.max() + 1))
X.sum_duplicates(); X.data[:] = 1.0
del df, u, i
'''
fit = load + r'''
from implicit.cpu.als import AlternatingLeastSquares
m = AlternatingLeastSquares(factors=64, iterations=10, regularization=20.0, alpha=2.0, random_state=42,
                            num_threads=int(sys.argv[2]))
m.fit(X, show_progress=False)
np.savez(sys.argv[3], user_factors=m.user_factors, item_factors=m.item_factors)
'''
recommend = load + r'''
from implicit.cpu.als import AlternatingLeastSquares
f = np.load(sys.argv[3])
m = AlternatingLeastSquares(factors=64, num_threads=int(sys.argv[2]))
m.user_factors, m.item_factors = f["user_factors"], f["item_factors"]
users = np.arange(X.shape[0])
t = time.perf_counter()
ids, scores = m.recommend(users, X, N=10, filter_already_liked_items=True)
seconds = time.perf_counter() - t
assert ids.shape == (X.shape[0], 10)
print(json.dumps({"seconds": seconds, "users": int(X.shape[0])}))
'''

print(f"+ {binary} train --data {data} --format csv --model als --set factors=64 --set iterations=10 --out {model_file}", flush=True)
subprocess.run([binary, "train", "--data", data, "--format", "csv", "--model", "als", "--set", "factors=64",
                "--set", "iterations=10", "--out", model_file], check=True, stdout=subprocess.DEVNULL)
print("+ python: implicit ALS fit (64 factors, 10 iterations), factors saved", flush=True)
subprocess.run([sys.executable, "-c", fit, data, str(threads), npz], check=True)

cmd = [binary, "recommend", "--db", nodb, "--model", model_file, "--all-users", "-n", "10", "--out", top_csv, "--json"]
def daogou_once():
    m = run_measured(cmd)
    if m.returncode != 0:
        sys.exit(f"daogou failed:\n{m.stderr[-3000:]}")
    d = json.loads(m.stdout[m.stdout.index("{"):])
    return {"seconds": d["seconds"], "users": d["users"], "wall_seconds": m.wall_seconds, "peak_rss_mib": m.peak_rss_mib}

def implicit_once():
    m = run_measured([sys.executable, "-c", recommend, data, str(threads), npz])
    if m.returncode != 0:
        sys.exit(f"implicit failed:\n{m.stderr[-3000:]}")
    d = json.loads(m.stdout.strip().splitlines()[-1])
    return {"seconds": d["seconds"], "users": d["users"], "wall_seconds": m.wall_seconds, "peak_rss_mib": m.peak_rss_mib}

print("+ " + " ".join(cmd))
print(f"+ python: implicit model.recommend(all users, X, N=10, filter_already_liked_items=True), num_threads={threads}")
all_runs = {"daogou recommend --all-users": [], "implicit recommend (all users)": []}
for r in range(repeat):
    for name, fn in zip(all_runs, (daogou_once, implicit_once)):
        one = fn()
        all_runs[name].append(one)
        print(f"  [{r + 1}/{repeat}] {name}: top-10 {one['seconds']:.2f} s, wall {one['wall_seconds']:.1f} s, "
              f"peak RSS {one['peak_rss_mib']:.0f} MiB", flush=True)
runs = {}
for name, rs in all_runs.items():
    runs[name] = {"users": rs[0]["users"], "seconds": statistics.median(x["seconds"] for x in rs),
                  "seconds_min": min(x["seconds"] for x in rs), "wall_seconds": statistics.median(x["wall_seconds"] for x in rs),
                  "peak_rss_mib": max(x["peak_rss_mib"] for x in rs), "runs": rs}
a, b = runs.values()
if a["users"] != b["users"]:
    sys.exit(f"the two sides ranked for different users: {a['users']} vs {b['users']}")
rows = [[k, f"{r['users']:,}", fmt(r["seconds"], 2), fmt(r["seconds_min"], 2), fmt(r["wall_seconds"], 1),
         fmt(r["peak_rss_mib"], 0)] for k, r in runs.items()]
rows.append(["ratio implicit / daogou", "", f"{b['seconds'] / a['seconds']:.2f}x", f"{b['seconds_min'] / a['seconds_min']:.2f}x",
             f"{b['wall_seconds'] / a['wall_seconds']:.2f}x", f"{b['peak_rss_mib'] / a['peak_rss_mib']:.2f}x"])
table = markdown_table(["method", "users", "top-10 (s, median)", "top-10 (s, min)", "process wall (s, median)",
                        "peak RSS (MiB, max)"], rows)
info = machine_info()
md = (f"# Top-10 for every user at the ALS scale case: daogou vs implicit\n\nMachine: {info.get('cpu_model', '?')}, "
      f"{info.get('cpu_count')} CPUs; {threads} thread(s) on both sides; {repeat} interleaved runs each.\n"
      "100,000 users x 50,000 items, 64 factors; each user's training items are left out.\n"
      "daogou's time includes writing the 1,000,000-row CSV; implicit's is the recommend() call alone. Process wall "
      "includes loading: daogou the model file, implicit the 10M-line CSV (for the items to filter) and the factors.\n\n"
      f"{table}\n")
print("\n" + table)
open(f"{outdir}/topn.json", "w").write(json.dumps({"machine": info, "threads": threads, "repeat": repeat, "runs": runs}, indent=2))
open(f"{outdir}/topn.md", "w").write(md)
print(f"\nwrote {outdir}/topn.json and {outdir}/topn.md")
PYEOF
