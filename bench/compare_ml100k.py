#!/usr/bin/env python3
"""daogou user-kNN vs. peers on MovieLens 100k folds u1..u5, side by side in one run.

Build daogou first (or pass --build, which runs exactly this from the repo root):

    cargo build --release -p daogou

then:

    bench/.venv/bin/python bench/compare_ml100k.py            # or: bench/run_ml100k.sh

daogou, per fold i and per similarity s in {pearson, cosine}, one process each:

    target/release/daogou evaluate --train $DS/ml-100k/u$i.base --test $DS/ml-100k/u$i.test \
        --format movielens --model user-knn --set k=40 --set similarity=$s --json

Its JSON on stdout gives rmse, mae, fit_seconds, eval_seconds. The peers (see
peers_ml100k.py) run the same way, one process per (method, fold). For every process the
parent measures wall time and peak RSS identically (GNU time -v, else os.wait4; measure.py).

Columns of the summary table:
  total time, 5 folds   sum of the 5 process wall times (start, load, fit, predict, exit)
  fit+predict, 5 folds  sum of the in-process model time: peers time fit + predicting the test
                        pairs; daogou reports fit_seconds + eval_seconds
  peak RSS              max over the 5 folds of the process peak resident set
  ratio vs daogou       method's time / daogou's time with the same similarity
                        (numpy dense uses cosine, so it is compared with daogou cosine);
                        > 1 means daogou is faster

Binary: $DAOGOU_BIN, else $CARGO_TARGET_DIR/release/daogou, else <repo>/target/release/daogou.
Datasets: $DAOGOU_DATASETS/ml-100k, default ../shared/datasets relative to the repo root.
Writes bench/out/compare_ml100k.json and bench/out/compare_ml100k.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    FOLDS, OUT_DIR, REPO_ROOT, daogou_bin, fmt, machine_info, markdown_table, ml100k_dir, parse_json_stdout,
)
from measure import run_measured  # noqa: E402
import peers_ml100k as peers  # noqa: E402

DAOGOU_SIMS = ["pearson", "cosine"]
# which daogou run each peer's time ratio is taken against
REFERENCE_SIM = {
    "numpy-tutorial": "cosine",
    "numpy-ratedmean": "cosine",
    "surprise-cosine": "cosine",
    "surprise-pearson": "pearson",
}


def run_daogou(binary: Path, d: Path, sim: str, folds: list[int], extra: list[str]) -> dict:
    per_fold = []
    for i in folds:
        cmd = [
            binary, "evaluate",
            "--train", d / f"u{i}.base", "--test", d / f"u{i}.test",
            "--format", "movielens", "--model", "user-knn",
            "--set", "k=40", "--set", f"similarity={sim}", "--json", *extra,
        ]
        m = run_measured(cmd, cwd=str(REPO_ROOT))
        if m.returncode != 0:
            raise RuntimeError(f"daogou {sim} fold {i} failed (rc={m.returncode}): {' '.join(map(str, cmd))}\n{m.stderr[-3000:]}")
        out = parse_json_stdout(m.stdout)
        r = {
            "fold": i,
            "rmse": float(out["rmse"]),
            "mae": float(out["mae"]),
            "fit_seconds": float(out.get("fit_seconds", 0.0)),
            "predict_seconds": float(out.get("eval_seconds", 0.0)),
            "wall_seconds": m.wall_seconds,
            "peak_rss_mib": m.peak_rss_mib,
            "rss_method": m.rss_method,
            "daogou_json": out,
        }
        r["fit_predict_seconds"] = r["fit_seconds"] + r["predict_seconds"]
        per_fold.append(r)
        print(
            f"  daogou {sim:8s} u{i}: RMSE {r['rmse']:.4f}  MAE {r['mae']:.4f}  "
            f"fit+eval {r['fit_predict_seconds']:.2f}s  wall {m.wall_seconds:.2f}s  "
            f"peak RSS {fmt(m.peak_rss_mib, 1)} MiB",
            flush=True,
        )
    return peers.summarise(f"daogou-{sim}", f"daogou user-knn k=40 {sim}", per_fold)


def ratio(a, b):
    return None if not a or not b else a / b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="store_true", help="run `cargo build --release -p daogou` first")
    ap.add_argument("--methods", default=",".join(peers.DEFAULT_METHODS), help="peer methods (comma list)")
    ap.add_argument("--folds", default="1,2,3,4,5")
    ap.add_argument("--daogou-extra", default="", help="extra flags appended to each daogou command (space separated)")
    ap.add_argument("--out", default=str(OUT_DIR / "compare_ml100k.json"))
    a = ap.parse_args()

    d = ml100k_dir()
    folds = [int(x) for x in a.folds.split(",")]
    if a.build:
        print("+ cargo build --release -p daogou", flush=True)
        subprocess.run(["cargo", "build", "--release", "-p", "daogou"], cwd=REPO_ROOT, check=True)
    binary = daogou_bin()
    if not binary.is_file():
        sys.exit(f"error: daogou binary not found at {binary}.\nBuild it first: (cd {REPO_ROOT} && cargo build --release -p daogou), "
                 f"or pass --build, or set DAOGOU_BIN.")

    results = []
    for sim in DAOGOU_SIMS:
        print(f"daogou user-knn {sim}:", flush=True)
        results.append(run_daogou(binary, d, sim, folds, a.daogou_extra.split()))
    ref = {r["key"].split("-", 1)[1]: r for r in results}
    for m in a.methods.split(","):
        print(f"{peers.METHODS.get(m, m)}:", flush=True)
        results.append(peers.run_peer(m, folds))

    rows = []
    for r in results:
        rs = ref.get(r["key"].split("-", 1)[1]) if r["key"].startswith("daogou-") else ref.get(REFERENCE_SIM.get(r["key"], "pearson"))
        r["reference"] = rs["key"] if rs else None
        r["wall_ratio_vs_daogou"] = ratio(r["total_wall_seconds"], rs and rs["total_wall_seconds"])
        r["fit_predict_ratio_vs_daogou"] = ratio(r["total_fit_predict_seconds"], rs and rs["total_fit_predict_seconds"])
        rows.append([
            r["method"],
            fmt(r["mean_rmse"]),
            fmt(r["mean_mae"]),
            fmt(r["total_wall_seconds"], 2),
            fmt(r["total_fit_predict_seconds"], 2),
            fmt(r["peak_rss_mib"], 1),
            f"{fmt(r['wall_ratio_vs_daogou'], 2)}x ({rs['key'] if rs else '-'})",
            f"{fmt(r['fit_predict_ratio_vs_daogou'], 2)}x",
        ])
    header = ["method", "mean RMSE", "mean MAE", f"total time for {len(folds)} folds (s)",
              f"fit+predict, {len(folds)} folds (s)", "peak RSS (MiB)", "time ratio vs daogou (wall)",
              "time ratio vs daogou (fit+predict)"]
    table = markdown_table(header, rows)

    fold_rows = [[r["method"], f"u{f['fold']}", fmt(f["rmse"]), fmt(f["mae"]), fmt(f["wall_seconds"], 2),
                  fmt(f["fit_predict_seconds"], 3), fmt(f["peak_rss_mib"], 1)] for r in results for f in r["folds"]]
    fold_table = markdown_table(["method", "fold", "RMSE", "MAE", "wall (s)", "fit+predict (s)", "peak RSS (MiB)"], fold_rows)

    info = machine_info()
    md = (
        f"# daogou vs peers, MovieLens 100k folds {','.join(f'u{i}' for i in folds)}\n\n"
        f"Machine: {info.get('cpu_model', '?')}, {info.get('cpu_count')} CPUs; RSS via {results[0]['folds'][0]['rss_method']}.\n\n"
        f"{table}\n\n"
        "Time ratio = method time / daogou time with the same similarity (numpy dense: cosine); > 1 means daogou is faster.\n"
        "Wall = whole process (start, load, fit, predict); fit+predict = in-process model time as each reports it.\n\n"
        f"## Per fold\n\n{fold_table}\n"
    )
    print()
    print(table)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "folds": folds, "daogou_bin": str(binary), "results": results}, indent=2))
    out.with_suffix(".md").write_text(md)
    print(f"\nwrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
