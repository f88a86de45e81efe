#!/usr/bin/env python3
"""daogou's implicit-feedback models (als, bpr, ease, item-knn) vs the `implicit` library
(AlternatingLeastSquares, BayesianPersonalizedRanking, CosineRecommender, BM25Recommender),
side by side on two protocols, every peer scored exactly as `daogou evaluate` scores:

  (a) MovieLens-100k u1 as implicit feedback:
      daogou evaluate --train $DS/ml-100k/u1.base --test $DS/ml-100k/u1.test --format movielens \\
          --positive-threshold 4 --relevance-threshold 4 --model M --json
  (b) Online Retail discovery:
      daogou evaluate --data $DS/online-retail/online_retail.csv.gz --format online-retail \\
          --split time:2011-11-09 --model M --json

The peers get the same training matrix, candidates (the full catalogue minus the user's
training items) and relevant items, rebuilt in implicit_protocol.py (which mirrors
crates/data and crates/eval/src/protocol.rs); the NDCG@10 and precision@10 formulas are those
of crates/eval/src/metrics.rs. As a check, every peer run reports the training pairs and the
users evaluated, which must equal daogou's `train_pairs` and `users_evaluated`.

Peers (each run is one process, so that wall time and peak RSS are its own; measure.py):
  implicit-als         implicit 0.7 ALS with its defaults (factors 100, regularization 0.01,
                       alpha 1, 15 iterations, CG) on the weighted matrix
  implicit-als-same    the same objective as daogou als's defaults: 64 factors, 15 iterations,
                       regularization 20, confidence c = 2 on every positive (implicit's
                       c = alpha·value with the matrix made binary and alpha = 2 equals daogou's
                       c = 1 + alpha·r with binary r = 1 and alpha = 1), CG with 3 steps
  implicit-bpr         implicit BPR defaults (factors 100, lr 0.01, reg 0.01, 100 iterations)
  implicit-bpr-same    daogou bpr's settings: 64 factors, lr 0.02, reg 0.02, 100 iterations
                       (implicit samples negatives uniformly only)
  implicit-cosine      CosineRecommender(K=20) on the weighted matrix
  implicit-bm25        BM25Recommender with its defaults (K=20, K1=1.2, B=0.75) on the weighted matrix

Fit time is the in-process time of the fit alone (daogou's `fit_seconds`; time.perf_counter()
around implicit's fit()), the median (and the minimum) over --repeat runs; the runs are
interleaved (round r runs every method once), so load from other jobs on a shared machine
falls on all methods alike. Both
sides use the same number of threads (--threads, default: all cores; daogou through
RAYON_NUM_THREADS, implicit through num_threads, BLAS through OPENBLAS_NUM_THREADS).
Ratios are peer / daogou counterpart (> 1: daogou is faster or leaner): ALS peers vs daogou
als, BPR peers vs daogou bpr, item-item peers vs daogou item-knn.

Usage:  bench/.venv/bin/python bench/compare_implicit.py [--build] [--repeat 3] [--threads N]
        [--datasets ml100k,retail] [--methods ...]
Writes bench/out/compare_implicit.json and bench/out/compare_implicit.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    OUT_DIR, REPO_ROOT, daogou_bin, datasets_dir, fmt, machine_info, markdown_table, parse_json_stdout,
)
from measure import run_measured  # noqa: E402

DAOGOU_MODELS = ["als", "bpr", "ease", "item-knn"]
PEERS = {
    "implicit-als": "implicit ALS (defaults: 100 f, reg 0.01, alpha 1)",
    "implicit-als-same": "implicit ALS (daogou als's settings: 64 f, reg 20, c = 2)",
    "implicit-bpr": "implicit BPR (defaults: 100 f, lr 0.01, reg 0.01)",
    "implicit-bpr-same": "implicit BPR (daogou bpr's settings: 64 f, lr 0.02, reg 0.02)",
    "implicit-cosine": "implicit CosineRecommender (default K=20)",
    "implicit-bm25": "implicit BM25Recommender (defaults: K=20, K1 1.2, B 0.75)",
}
COUNTERPART = {
    "implicit-als": "als",
    "implicit-als-same": "als",
    "implicit-bpr": "bpr",
    "implicit-bpr-same": "bpr",
    "implicit-cosine": "item-knn",
    "implicit-bm25": "item-knn",
}
DATASETS = {
    "ml100k": "MovieLens-100k u1, ratings >= 4 as implicit",
    "retail": "Online Retail discovery, time:2011-11-09",
}


def daogou_args(dataset: str) -> list:
    d = datasets_dir()
    if dataset == "ml100k":
        m = d / "ml-100k"
        return ["--train", m / "u1.base", "--test", m / "u1.test", "--format", "movielens",
                "--positive-threshold", "4", "--relevance-threshold", "4"]
    return ["--data", d / "online-retail" / "online_retail.csv.gz", "--format", "online-retail",
            "--split", "time:2011-11-09"]


def thread_env(threads: int | None) -> dict:
    env = dict(os.environ)
    if threads:
        for k in ("RAYON_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(threads)
    return env


# ----------------------------------------------------------------------------- worker
def worker(dataset: str, method: str, threads: int) -> dict:
    import numpy as np
    import implicit_protocol as ip

    t0 = time.perf_counter()
    d = datasets_dir()
    proto = (ip.movielens_u1(d / "ml-100k") if dataset == "ml100k"
             else ip.online_retail(d / "online-retail" / "online_retail.csv.gz"))
    load_s = time.perf_counter() - t0
    X = proto.train.astype(np.float32)
    nt = threads or 0

    if method.startswith("implicit-als"):
        from implicit.cpu.als import AlternatingLeastSquares
        if method == "implicit-als":
            model = AlternatingLeastSquares(factors=100, regularization=0.01, alpha=1.0, iterations=15,
                                            random_state=42, num_threads=nt)
            fit_x = X
        else:
            model = AlternatingLeastSquares(factors=64, regularization=20.0, alpha=2.0, iterations=15,
                                            random_state=42, num_threads=nt)
            fit_x = X.copy()
            fit_x.data[:] = 1.0
        t = time.perf_counter()
        model.fit(fit_x, show_progress=False)
        fit_s = time.perf_counter() - t
        U, V = model.user_factors, model.item_factors
        score = lambda us: U[us] @ V.T  # noqa: E731
    elif method.startswith("implicit-bpr"):
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        kw = (dict(factors=100, learning_rate=0.01, regularization=0.01) if method == "implicit-bpr"
              else dict(factors=64, learning_rate=0.02, regularization=0.02))
        model = BayesianPersonalizedRanking(iterations=100, random_state=42, num_threads=nt, **kw)
        t = time.perf_counter()
        model.fit(X, show_progress=False)
        fit_s = time.perf_counter() - t
        U, V = model.user_factors, model.item_factors  # the last column holds the item bias
        score = lambda us: U[us] @ V.T  # noqa: E731
    elif method in ("implicit-cosine", "implicit-bm25"):
        from implicit.nearest_neighbours import BM25Recommender, CosineRecommender
        model = (CosineRecommender(K=20, num_threads=nt) if method == "implicit-cosine"
                 else BM25Recommender(K=20, num_threads=nt))  # implicit's defaults: K1 1.2, B 0.75
        t = time.perf_counter()
        model.fit(X, show_progress=False)
        fit_s = time.perf_counter() - t
        S = model.similarity.tocsr()
        score = lambda us: (X[us] @ S).toarray()  # noqa: E731
    else:
        raise SystemExit(f"unknown method {method}")

    t = time.perf_counter()
    metrics = ip.rank_metrics(score, proto)
    eval_s = time.perf_counter() - t
    return {
        "ndcg@10": float(metrics["ndcg@10"]),
        "precision@10": float(metrics["precision@10"]),
        "users_evaluated": int(metrics["users_evaluated"]),
        "train_pairs": int(proto.train.nnz),
        "n_users": proto.n_users,
        "n_items": proto.n_items,
        "fit_seconds": fit_s,
        "eval_seconds": eval_s,
        "load_seconds": load_s,
    }


# ----------------------------------------------------------------------------- parent
def run_daogou_once(binary: Path, dataset: str, model: str, threads: int | None) -> dict:
    cmd = [binary, "evaluate", *daogou_args(dataset), "--model", model, "--json"]
    m = run_measured(cmd, env=thread_env(threads), cwd=str(REPO_ROOT))
    if m.returncode != 0:
        raise RuntimeError(f"daogou {model} on {dataset} failed: {' '.join(map(str, cmd))}\n{m.stderr[-3000:]}")
    out = parse_json_stdout(m.stdout)
    return {"ndcg@10": out["ndcg@10"], "precision@10": out["precision@10"],
            "users_evaluated": out["users_evaluated"], "train_pairs": out["train_pairs"],
            "fit_seconds": out["fit_seconds"], "eval_seconds": out["eval_seconds"],
            "wall_seconds": m.wall_seconds, "peak_rss_mib": m.peak_rss_mib, "rss_method": m.rss_method}


def run_peer_once(dataset: str, method: str, threads: int | None) -> dict:
    cmd = [sys.executable, Path(__file__).resolve(), "--worker", dataset, method, "--threads", str(threads or 0)]
    m = run_measured(cmd, env=thread_env(threads), cwd=str(REPO_ROOT))
    if m.returncode != 0:
        raise RuntimeError(f"{method} on {dataset} failed:\n{m.stderr[-3000:]}")
    out = json.loads(m.stdout.strip().splitlines()[-1])
    out.update(wall_seconds=m.wall_seconds, peak_rss_mib=m.peak_rss_mib, rss_method=m.rss_method)
    return out


def summarise(label: str, runs: list, command: str) -> dict:
    med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
    return {
        "method": label,
        "command": command,
        "ndcg@10": runs[0]["ndcg@10"],
        "precision@10": runs[0]["precision@10"],
        "ndcg@10_all_runs": [r["ndcg@10"] for r in runs],
        "users_evaluated": runs[0]["users_evaluated"],
        "train_pairs": runs[0]["train_pairs"],
        "fit_seconds": med("fit_seconds"),
        "fit_seconds_min": min(r["fit_seconds"] for r in runs),
        "fit_seconds_all_runs": [r["fit_seconds"] for r in runs],
        "wall_seconds": med("wall_seconds"),
        "peak_rss_mib": max(r["peak_rss_mib"] or 0 for r in runs),
        "rss_method": runs[0]["rss_method"],
        "runs": runs,
    }


def ratio(a, b):
    return None if not a or not b else a / b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=2, metavar=("DATASET", "METHOD"), help=argparse.SUPPRESS)
    ap.add_argument("--build", action="store_true", help="run `cargo build --release -p daogou` first")
    ap.add_argument("--repeat", type=int, default=3, help="runs per method (median fit time; default 3)")
    ap.add_argument("--threads", type=int, default=0, help="threads for both sides (default: all cores)")
    ap.add_argument("--datasets", default="ml100k,retail")
    ap.add_argument("--models", default=",".join(DAOGOU_MODELS), help="daogou models")
    ap.add_argument("--methods", default=",".join(PEERS), help="peer methods")
    ap.add_argument("--out", default=str(OUT_DIR / "compare_implicit.json"))
    a = ap.parse_args()

    if a.worker:
        print(json.dumps(worker(a.worker[0], a.worker[1], a.threads)))
        return

    if a.build:
        print("+ cargo build --release -p daogou", flush=True)
        subprocess.run(["cargo", "build", "--release", "-p", "daogou"], cwd=REPO_ROOT, check=True)
    binary = daogou_bin()
    if not binary.is_file():
        sys.exit(f"error: daogou binary not found at {binary}; build it: (cd {REPO_ROOT} && cargo build --release -p daogou), "
                 "or pass --build, or set DAOGOU_BIN.")
    threads = a.threads or os.cpu_count()

    all_results = {}
    sections = []
    for ds in a.datasets.split(","):
        print(f"== {DATASETS[ds]}", flush=True)
        # Interleaved: round r runs every method once, so a burst of load on a shared machine
        # hits all methods alike instead of one method's repeats.
        keys = [("daogou", m) for m in a.models.split(",")] + [("peer", m) for m in a.methods.split(",")]
        runs: dict = {key: [] for key in keys}
        for r in range(a.repeat):
            for kind, name in keys:
                one = (run_daogou_once(binary, ds, name, threads) if kind == "daogou"
                       else run_peer_once(ds, name, threads))
                runs[(kind, name)].append(one)
                label = f"daogou {name}" if kind == "daogou" else PEERS[name]
                print(f"  [{r + 1}/{a.repeat}] {label:<58} NDCG@10 {one['ndcg@10']:.4f}  P@10 {one['precision@10']:.4f}  "
                      f"fit {one['fit_seconds']:.3f}s  RSS {fmt(one['peak_rss_mib'], 0)} MiB", flush=True)
        res = {}
        for kind, name in keys:
            if kind == "daogou":
                cmd = " ".join(["daogou evaluate", *map(str, daogou_args(ds)), "--model", name, "--json"])
                res[name] = summarise(f"daogou {name}", runs[(kind, name)], cmd)
            else:
                res[name] = summarise(PEERS[name], runs[(kind, name)], f"compare_implicit.py --worker {ds} {name}")
        # protocol parity: every run must see the same training pairs and test users
        ref = next(iter(res.values()))
        for key, r in res.items():
            if (r["train_pairs"], r["users_evaluated"]) != (ref["train_pairs"], ref["users_evaluated"]):
                sys.exit(f"protocol mismatch on {ds}: {key} has {r['train_pairs']} pairs / {r['users_evaluated']} users, "
                         f"expected {ref['train_pairs']} / {ref['users_evaluated']}")
        rows = []
        for key, r in res.items():
            cp = res.get(COUNTERPART.get(key, ""))
            rows.append([
                r["method"], fmt(r["ndcg@10"]), fmt(r["precision@10"]), fmt(r["fit_seconds"], 3),
                fmt(r["fit_seconds_min"], 3),
                f"{fmt(ratio(r['fit_seconds'], cp and cp['fit_seconds']), 2)}x" if cp else "-",
                fmt(r["wall_seconds"], 2), fmt(r["peak_rss_mib"], 0),
                f"{fmt(ratio(r['peak_rss_mib'], cp and cp['peak_rss_mib']), 2)}x" if cp else "-",
                f"daogou {COUNTERPART[key]}" if cp else "-",
            ])
        header = ["method", "NDCG@10", "P@10", "fit (s, median)", "fit (s, min)", "fit ratio (medians)", "process wall (s)",
                  "peak RSS (MiB)", "RSS ratio", "ratio vs"]
        table = markdown_table(header, rows)
        sections.append(f"## {DATASETS[ds]}\n\n{ref['train_pairs']} training pairs, {ref['users_evaluated']} users "
                        f"evaluated (identical for every row).\n\n{table}\n")
        print("\n" + table + "\n", flush=True)
        all_results[ds] = res

    info = machine_info()
    md = (
        "# daogou vs implicit: implicit-feedback models\n\n"
        f"Machine: {info.get('cpu_model', '?')}, {info.get('cpu_count')} CPUs; {threads} thread(s) on both sides; "
        f"median of {a.repeat} interleaved run(s); RSS via {next(iter(next(iter(all_results.values())).values()))['rss_method']}.\n"
        "Every model with its default parameters unless the row says otherwise. Fit = in-process fit time; "
        "process wall includes start-up, reading the data, fitting and ranking every test user. "
        "Ratios are peer / daogou counterpart (> 1: daogou is faster / leaner).\n\n"
        + "\n".join(sections)
        + "\nCommands: `" + binary.name + " evaluate <dataset flags> --model M --json` for daogou; "
        "`bench/.venv/bin/python bench/compare_implicit.py --worker DATASET METHOD` for a peer.\n"
    )
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "threads": threads, "repeat": a.repeat, "daogou_bin": str(binary),
                               "results": all_results}, indent=2))
    out.with_suffix(".md").write_text(md)
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
