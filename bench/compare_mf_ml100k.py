#!/usr/bin/env python3
"""daogou's explicit-rating models vs. Surprise on MovieLens 100k folds u1..u5, in one run.

Pairs (daogou model  <->  Surprise 1.1.5 algorithm):

  svd           <->  SVD(random_state=42)                   (defaults otherwise)
  svdpp         <->  SVDpp(random_state=42)
  knn-baseline  <->  KNNBaseline(k=40, sim_options={'name': 'pearson_baseline', 'user_based': False})
  slope-one     <->  SlopeOne()

plus, unless --no-parity, daogou with Surprise's own default hyperparameters where daogou's
defaults differ (svd factors=100 lr=0.005 reg=0.02; svdpp lr=0.007 reg=0.02 lr_yj=0.007 reg_yj=0.02;
knn-baseline reg_i=10), to show what the tuned defaults buy.

Build daogou first (or pass --build):

    cargo build --release -p daogou
    bench/.venv/bin/python bench/compare_mf_ml100k.py          # or: bench/run_mf_ml100k.sh

daogou, per fold i and model m, one process each:

    target/release/daogou evaluate --train $DS/ml-100k/u$i.base --test $DS/ml-100k/u$i.test \
        --format movielens --model $m --json

Its JSON gives rmse, mae, fit_seconds and eval_seconds (eval = predicting the test ratings AND
ranking the whole catalogue for every test user for the top-N metrics, which Surprise does not
do). Surprise runs one process per (algorithm, fold): fit on u$i.base, test() on u$i.test
(clipped to [1, 5]; impossible predictions get the global mean), timed with perf_counter
around fit and test. Wall time and peak RSS of every process are measured by the parent
(GNU time -v, else os.wait4; measure.py).

Protocol note: daogou's evaluate predicts the global mean for a test pair whose item has no
training rating (32-36 pairs per fold); Surprise's SVD, SVDpp and KNNBaseline predict
mu + b_u there, SlopeOne the global mean. This costs daogou about 0.0016 RMSE on knn-baseline.

Columns:
  fit+predict, 5 folds   in-process model time: daogou fit_seconds + eval_seconds; Surprise fit + test
  wall, 5 folds          sum of process wall times (interpreter/binary start, loading, fit, predict)
  peak RSS               max over the folds of the process peak resident set
  time vs Surprise       daogou fit+predict / Surprise fit+predict of the paired algorithm
                         (< 1: daogou is faster; the bars are <= 1/5 for svd, <= 1/20 for svdpp)

Binary: $DAOGOU_BIN, else $CARGO_TARGET_DIR/release/daogou, else <repo>/target/release/daogou.
Datasets: $DAOGOU_DATASETS/ml-100k, default ../shared/datasets relative to the repo root.
Writes bench/out/compare_mf_ml100k.json and bench/out/compare_mf_ml100k.md.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT_DIR, REPO_ROOT, fmt, machine_info, markdown_table, ml100k_dir  # noqa: E402
from common import daogou_bin, parse_json_stdout  # noqa: E402
from measure import run_measured  # noqa: E402
from peers_ml100k import summarise  # noqa: E402

# (key, label, daogou model, extra --set pairs, paired Surprise key)
DAOGOU_RUNS = [
    ("daogou-svd", "daogou svd", "svd", [], "surprise-svd"),
    ("daogou-svdpp", "daogou svdpp", "svdpp", [], "surprise-svdpp"),
    ("daogou-knn-baseline", "daogou knn-baseline", "knn-baseline", [], "surprise-knnbaseline"),
    ("daogou-slope-one", "daogou slope-one", "slope-one", [], "surprise-slopeone"),
]
PARITY_RUNS = [
    ("daogou-svd-sdefaults", "daogou svd, Surprise's factors/lr/reg", "svd", ["factors=100", "lr=0.005", "reg=0.02"],
     "surprise-svd"),
    ("daogou-svdpp-sdefaults", "daogou svdpp, Surprise's lr/reg", "svdpp",
     ["lr=0.007", "reg=0.02", "lr_yj=0.007", "reg_yj=0.02"], "surprise-svdpp"),
    ("daogou-knn-baseline-sdefaults", "daogou knn-baseline, Surprise's reg_i=10", "knn-baseline", ["reg_i=10"],
     "surprise-knnbaseline"),
]
SURPRISE = {
    "surprise-svd": "Surprise SVD",
    "surprise-svdpp": "Surprise SVDpp",
    "surprise-knnbaseline": "Surprise KNNBaseline (item, pearson_baseline, k=40)",
    "surprise-slopeone": "Surprise SlopeOne",
}
# bars: daogou key -> (max mean RMSE, max time fraction of Surprise or None)
BARS = {
    "daogou-svd": (0.934, 1 / 5),
    "daogou-svdpp": (0.919, 1 / 20),
    "daogou-knn-baseline": (0.921, None),
}


# ----------------------------------------------------------------------------- Surprise worker
def surprise_worker(method: str, fold: int) -> dict:
    import numpy as np
    from surprise import SVD, Dataset, KNNBaseline, Reader, SlopeOne, SVDpp
    from surprise.model_selection import PredefinedKFold

    d = ml100k_dir()
    reader = Reader(line_format="user item rating timestamp", sep="\t", rating_scale=(1, 5))
    data = Dataset.load_from_folds([(str(d / f"u{fold}.base"), str(d / f"u{fold}.test"))], reader)
    trainset, testset = next(PredefinedKFold().split(data))
    algo = {
        "surprise-svd": lambda: SVD(random_state=42),
        "surprise-svdpp": lambda: SVDpp(random_state=42),
        "surprise-knnbaseline": lambda: KNNBaseline(
            k=40, sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False),
        "surprise-slopeone": lambda: SlopeOne(),
    }[method]()
    t0 = time.perf_counter()
    algo.fit(trainset)
    t1 = time.perf_counter()
    preds = algo.test(testset)
    t2 = time.perf_counter()
    err = np.array([p.est - p.r_ui for p in preds])
    return {
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "mae": float(np.mean(np.abs(err))),
        "n_test": len(preds),
        "n_impossible": sum(1 for p in preds if p.details.get("was_impossible")),
        "fit_seconds": t1 - t0,
        "predict_seconds": t2 - t1,
    }


def run_surprise(method: str, folds: list[int]) -> dict:
    per_fold = []
    for i in folds:
        m = run_measured([sys.executable, str(Path(__file__).resolve()), "--worker", method, "--fold", str(i)])
        if m.returncode != 0:
            raise RuntimeError(f"{method} fold {i} failed (rc={m.returncode}):\n{m.stderr[-3000:]}")
        r = json.loads(m.stdout.strip().splitlines()[-1])
        r.update(fold=i, wall_seconds=m.wall_seconds, peak_rss_mib=m.peak_rss_mib, rss_method=m.rss_method)
        r["fit_predict_seconds"] = r["fit_seconds"] + r["predict_seconds"]
        per_fold.append(r)
        print(f"  {method:22s} u{i}: RMSE {r['rmse']:.4f}  MAE {r['mae']:.4f}  fit+predict "
              f"{r['fit_predict_seconds']:.2f}s  wall {m.wall_seconds:.2f}s  peak RSS {fmt(m.peak_rss_mib, 1)} MiB",
              flush=True)
    return summarise(method, SURPRISE[method], per_fold)


# ----------------------------------------------------------------------------- daogou
def run_daogou(binary: Path, d: Path, key: str, label: str, model: str, sets: list[str], folds: list[int],
               extra: list[str]) -> dict:
    per_fold = []
    for i in folds:
        cmd = [binary, "evaluate", "--train", d / f"u{i}.base", "--test", d / f"u{i}.test",
               "--format", "movielens", "--model", model, "--json"]
        for s in sets:
            cmd += ["--set", s]
        cmd += extra
        m = run_measured(cmd, cwd=str(REPO_ROOT))
        if m.returncode != 0:
            raise RuntimeError(f"{key} fold {i} failed (rc={m.returncode}): {' '.join(map(str, cmd))}\n{m.stderr[-3000:]}")
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
            "command": " ".join(map(str, cmd)),
        }
        r["fit_predict_seconds"] = r["fit_seconds"] + r["predict_seconds"]
        per_fold.append(r)
        print(f"  {key:30s} u{i}: RMSE {r['rmse']:.4f}  MAE {r['mae']:.4f}  fit+eval "
              f"{r['fit_predict_seconds']:.3f}s  wall {m.wall_seconds:.2f}s  peak RSS {fmt(m.peak_rss_mib, 1)} MiB",
              flush=True)
    return summarise(key, label, per_fold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--fold", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--build", action="store_true", help="run `cargo build --release -p daogou` first")
    ap.add_argument("--folds", default="1,2,3,4,5")
    ap.add_argument("--surprise", default=",".join(SURPRISE), help="Surprise algorithms to run (comma list; '' for none)")
    ap.add_argument("--no-parity", action="store_true", help="skip daogou with Surprise's default hyperparameters")
    ap.add_argument("--daogou-extra", default="", help="extra flags for every daogou command (space separated)")
    ap.add_argument("--out", default=str(OUT_DIR / "compare_mf_ml100k.json"))
    a = ap.parse_args()

    if a.worker:
        print(json.dumps(surprise_worker(a.worker, a.fold)))
        return

    d = ml100k_dir()
    folds = [int(x) for x in a.folds.split(",")]
    if a.build:
        print("+ cargo build --release -p daogou", flush=True)
        subprocess.run(["cargo", "build", "--release", "-p", "daogou"], cwd=REPO_ROOT, check=True)
    binary = daogou_bin()
    if not binary.is_file():
        sys.exit(f"error: daogou binary not found at {binary}.\nBuild it first: (cd {REPO_ROOT} && cargo build "
                 f"--release -p daogou), or pass --build, or set DAOGOU_BIN.")

    runs = DAOGOU_RUNS + ([] if a.no_parity else PARITY_RUNS)
    results, pair_of = [], {}
    for key, label, model, sets, peer in runs:
        print(f"{label}:", flush=True)
        results.append(run_daogou(binary, d, key, label, model, sets, folds, a.daogou_extra.split()))
        pair_of[key] = peer
    by_key = {}
    for method in [m for m in a.surprise.split(",") if m]:
        print(f"{SURPRISE[method]}:", flush=True)
        r = run_surprise(method, folds)
        results.append(r)
        by_key[method] = r

    rows = []
    for r in results:
        peer = by_key.get(pair_of.get(r["key"], ""))
        frac = r["total_fit_predict_seconds"] / peer["total_fit_predict_seconds"] if peer else None
        r["paired_with"] = peer["key"] if peer else None
        r["time_fraction_of_surprise"] = frac
        rows.append([
            r["method"],
            fmt(r["mean_rmse"]),
            fmt(r["mean_mae"]),
            fmt(r["total_fit_predict_seconds"], 2),
            fmt(r["total_wall_seconds"], 2),
            fmt(r["peak_rss_mib"], 1),
            f"{frac:.3f} (1/{1 / frac:.1f})" if frac else "-",
        ])
    n = len(folds)
    header = ["method", "mean RMSE", "mean MAE", f"fit+predict, {n} folds (s)", f"wall, {n} folds (s)",
              "peak RSS (MiB)", "time vs Surprise (fit+predict)"]
    table = markdown_table(header, rows)

    res = {r["key"]: r for r in results}
    bar_lines = []
    for key, (max_rmse, max_frac) in BARS.items():
        r = res.get(key)
        if not r:
            continue
        ok_rmse = r["mean_rmse"] <= max_rmse
        line = f"- {key}: mean RMSE {r['mean_rmse']:.4f} <= {max_rmse}: {'PASS' if ok_rmse else 'FAIL'}"
        if max_frac is not None:
            frac = r.get("time_fraction_of_surprise")
            if frac is None:
                line += f"; time <= 1/{round(1 / max_frac)} of Surprise: not measured"
            else:
                line += (f"; time {frac:.3f} of Surprise <= 1/{round(1 / max_frac)}: "
                         f"{'PASS' if frac <= max_frac else 'FAIL'}")
        bar_lines.append(line)
    bars = "\n".join(bar_lines)

    fold_rows = [[r["method"], f"u{f['fold']}", fmt(f["rmse"]), fmt(f["mae"]), fmt(f["fit_seconds"], 3),
                  fmt(f["predict_seconds"], 3), fmt(f["wall_seconds"], 2), fmt(f["peak_rss_mib"], 1)]
                 for r in results for f in r["folds"]]
    fold_table = markdown_table(["method", "fold", "RMSE", "MAE", "fit (s)", "predict / eval (s)", "wall (s)",
                                 "peak RSS (MiB)"], fold_rows)
    info = machine_info()
    md = (
        f"# daogou explicit-rating models vs Surprise, MovieLens 100k folds {','.join(f'u{i}' for i in folds)}\n\n"
        f"Machine: {info.get('cpu_model', '?')}, {info.get('cpu_count')} CPUs; RSS via "
        f"{results[0]['folds'][0]['rss_method']}.\n\n"
        f"{table}\n\n"
        "fit+predict: daogou = fit_seconds + eval_seconds of `daogou evaluate` (eval also ranks the whole catalogue "
        "for every test user); Surprise = fit() + test(). Time vs Surprise = daogou / paired Surprise algorithm "
        "(< 1: daogou is faster).\n"
        "daogou predicts the global mean for test items without training ratings (32-36 pairs per fold); "
        "Surprise's SVD, SVDpp and KNNBaseline predict mu + b_u there.\n\n"
        f"## Bars\n\n{bars}\n\n"
        f"## Per fold\n\n{fold_table}\n"
    )
    print()
    print(table)
    print()
    print(bars)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "folds": folds, "daogou_bin": str(binary), "results": results},
                              indent=2))
    out.with_suffix(".md").write_text(md)
    print(f"\nwrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
