#!/usr/bin/env python3
"""Peer baselines for daogou's user-kNN on MovieLens 100k (folds u1..u5).

Methods (each fold of each method runs in its own subprocess, so that its wall time and
peak RSS are its own):

  numpy-tutorial       "numpy dense (tutorial)": the widely copied dense user-based CF.
                       Zero-filled 943x1682 matrix from the .base file,
                       sim = sklearn cosine_similarity(R) (user x user, over the zero-filled rows),
                       mean_user_rating = R.mean(axis=1)      <- over ALL 1682 columns, zeros included
                       ratings_diff     = R - mean_user_rating[:, None]   (zeros included)
                       pred = mean[:, None] + sim.dot(ratings_diff) / |sim|.sum(axis=1)[:, None]
                       i.e. every user v contributes to every item, rated or not. No clipping.
  numpy-ratedmean      "numpy dense (rated mean)": the same formula, but the user mean and the
                       deviations use the rated entries only (unrated entries contribute 0 to
                       the numerator, still all users in the denominator). Not the tutorial; a
                       reference for what the mean bug costs.
  surprise-cosine      Surprise KNNWithMeans(k=40, sim_options={'name': 'cosine', 'user_based': True})
  surprise-pearson     Surprise KNNWithMeans(k=40, sim_options={'name': 'pearson', 'user_based': True})
                       (Surprise defaults otherwise: min_k=1, min_support=1, test() clips to [1,5],
                        impossible predictions fall back to the global train mean.)

Metrics over the .test pairs: RMSE = sqrt(mean((pred-true)^2)), MAE = mean(|pred-true|).
fit+predict seconds: time.perf_counter() around model building plus predicting all test pairs,
inside the worker, excluding interpreter start, imports and file parsing. The process wall time
(which includes those) and the peak RSS are measured by the parent (see measure.py).

Usage:  bench/.venv/bin/python bench/peers_ml100k.py [--methods a,b] [--folds 1,2] [--out FILE]
Dataset dir: $DAOGOU_DATASETS/ml-100k, default ../shared/datasets relative to the repo root.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import FOLDS, OUT_DIR, fmt, machine_info, markdown_table, ml100k_dir  # noqa: E402
from measure import run_measured  # noqa: E402

METHODS = {
    "numpy-tutorial": "numpy dense (tutorial)",
    "numpy-ratedmean": "numpy dense (rated mean)",
    "surprise-cosine": "Surprise KNNWithMeans k=40 cosine",
    "surprise-pearson": "Surprise KNNWithMeans k=40 pearson",
}
DEFAULT_METHODS = list(METHODS)


# ----------------------------------------------------------------------------- workers
def _ml100k_dims(d: Path) -> tuple[int, int]:
    n_users = n_items = None
    info = d / "u.info"
    if info.is_file():
        for line in info.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == "users":
                n_users = int(parts[0])
            elif len(parts) == 2 and parts[1] == "items":
                n_items = int(parts[0])
    if n_users is None or n_items is None:  # fall back to the max ids over all folds
        import numpy as np
        mu = mi = 0
        for i in FOLDS:
            for s in ("base", "test"):
                a = np.loadtxt(d / f"u{i}.{s}", dtype=np.int64, usecols=(0, 1))
                mu, mi = max(mu, int(a[:, 0].max())), max(mi, int(a[:, 1].max()))
        n_users, n_items = mu, mi
    return n_users, n_items


def worker_numpy(d: Path, fold: int, variant: str) -> dict:
    import numpy as np
    import pandas as pd
    from sklearn.metrics.pairwise import cosine_similarity

    names = ["user_id", "item_id", "rating", "timestamp"]
    train = pd.read_csv(d / f"u{fold}.base", sep="\t", names=names)
    test = pd.read_csv(d / f"u{fold}.test", sep="\t", names=names)
    n_users, n_items = _ml100k_dims(d)

    t0 = time.perf_counter()
    R = np.zeros((n_users, n_items))
    R[train.user_id.values - 1, train.item_id.values - 1] = train.rating.values
    similarity = cosine_similarity(R)
    if variant == "tutorial":
        mean_user_rating = R.mean(axis=1)
        ratings_diff = R - mean_user_rating[:, np.newaxis]
    else:  # rated mean: mean over nonzero entries, deviations only where rated
        mask = R != 0
        cnt = mask.sum(axis=1)
        mean_user_rating = np.divide(R.sum(axis=1), cnt, out=np.zeros(n_users), where=cnt > 0)
        ratings_diff = np.where(mask, R - mean_user_rating[:, np.newaxis], 0.0)
    pred = mean_user_rating[:, np.newaxis] + similarity.dot(ratings_diff) / np.array(
        [np.abs(similarity).sum(axis=1)]
    ).T
    t1 = time.perf_counter()
    p = pred[test.user_id.values - 1, test.item_id.values - 1]
    t2 = time.perf_counter()
    err = p - test.rating.values
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "n_test": int(len(test)),
        "fit_seconds": t1 - t0,
        "predict_seconds": t2 - t1,
        "n_users": n_users,
        "n_items": n_items,
    }


def worker_surprise(d: Path, fold: int, sim: str) -> dict:
    import numpy as np
    from surprise import Dataset, KNNWithMeans, Reader
    from surprise.model_selection import PredefinedKFold

    reader = Reader(line_format="user item rating timestamp", sep="\t", rating_scale=(1, 5))
    data = Dataset.load_from_folds([(str(d / f"u{fold}.base"), str(d / f"u{fold}.test"))], reader)
    trainset, testset = next(PredefinedKFold().split(data))

    algo = KNNWithMeans(k=40, sim_options={"name": sim, "user_based": True}, verbose=False)
    t0 = time.perf_counter()
    algo.fit(trainset)
    t1 = time.perf_counter()
    preds = algo.test(testset)
    t2 = time.perf_counter()
    est = np.array([p.est for p in preds])
    true = np.array([p.r_ui for p in preds])
    impossible = sum(1 for p in preds if p.details.get("was_impossible"))
    err = est - true
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "n_test": len(preds),
        "n_impossible": impossible,
        "fit_seconds": t1 - t0,
        "predict_seconds": t2 - t1,
    }


def run_worker(method: str, fold: int) -> dict:
    d = ml100k_dir()
    if method == "numpy-tutorial":
        return worker_numpy(d, fold, "tutorial")
    if method == "numpy-ratedmean":
        return worker_numpy(d, fold, "ratedmean")
    if method == "surprise-cosine":
        return worker_surprise(d, fold, "cosine")
    if method == "surprise-pearson":
        return worker_surprise(d, fold, "pearson")
    raise SystemExit(f"unknown method {method}")


# ----------------------------------------------------------------------------- parent
def run_peer(method: str, folds: list[int]) -> dict:
    """Run one method on the given folds, one subprocess per fold."""
    per_fold = []
    for i in folds:
        m = run_measured([sys.executable, str(Path(__file__).resolve()), "--worker", method, "--fold", str(i)])
        if m.returncode != 0:
            raise RuntimeError(f"{method} fold {i} failed (rc={m.returncode}):\n{m.stderr[-3000:]}")
        r = json.loads(m.stdout.strip().splitlines()[-1])
        r.update(fold=i, wall_seconds=m.wall_seconds, peak_rss_mib=m.peak_rss_mib, rss_method=m.rss_method)
        r["fit_predict_seconds"] = r["fit_seconds"] + r["predict_seconds"]
        per_fold.append(r)
        print(
            f"  {method:18s} u{i}: RMSE {r['rmse']:.4f}  MAE {r['mae']:.4f}  "
            f"fit+predict {r['fit_predict_seconds']:.2f}s  wall {m.wall_seconds:.2f}s  "
            f"peak RSS {fmt(m.peak_rss_mib, 1)} MiB",
            flush=True,
        )
    return summarise(method, METHODS.get(method, method), per_fold)


def summarise(key: str, label: str, per_fold: list[dict]) -> dict:
    n = len(per_fold)
    rss = [r["peak_rss_mib"] for r in per_fold if r.get("peak_rss_mib") is not None]
    return {
        "key": key,
        "method": label,
        "folds": per_fold,
        "mean_rmse": sum(r["rmse"] for r in per_fold) / n,
        "mean_mae": sum(r["mae"] for r in per_fold) / n,
        "total_fit_predict_seconds": sum(r["fit_predict_seconds"] for r in per_fold),
        "total_wall_seconds": sum(r["wall_seconds"] for r in per_fold),
        "peak_rss_mib": max(rss) if rss else None,
    }


def print_summary(results: list[dict]) -> str:
    rows = [
        [
            r["method"],
            fmt(r["mean_rmse"]),
            fmt(r["mean_mae"]),
            fmt(r["total_fit_predict_seconds"], 2),
            fmt(r["total_wall_seconds"], 2),
            fmt(r["peak_rss_mib"], 1),
        ]
        for r in results
    ]
    t = markdown_table(
        ["method", "mean RMSE", "mean MAE", "fit+predict, 5 folds (s)", "process wall, 5 folds (s)", "peak RSS (MiB)"],
        rows,
    )
    print(t)
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--fold", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--methods", default=",".join(DEFAULT_METHODS), help=f"comma list of {list(METHODS)}")
    ap.add_argument("--folds", default="1,2,3,4,5")
    ap.add_argument("--out", default=str(OUT_DIR / "peers_ml100k.json"))
    a = ap.parse_args()

    if a.worker:
        print(json.dumps(run_worker(a.worker, a.fold)))
        return

    ml100k_dir()  # fail early with a clear message
    folds = [int(x) for x in a.folds.split(",")]
    results = []
    for m in a.methods.split(","):
        print(f"{METHODS.get(m, m)}:", flush=True)
        results.append(run_peer(m, folds))
    print()
    table = print_summary(results)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine_info(), "folds": folds, "results": results}, indent=2))
    out.with_suffix(".md").write_text(table + "\n")
    print(f"\nwrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
