#!/usr/bin/env python3
"""daogou from Python against Surprise and implicit: the same data (MovieLens 100k, the given
u1.base/u1.test split), one process, one run each, wall-clock seconds.

Rating models go through each library's Surprise-shaped API (daogou's via
``daogou.compat.surprise``, with Surprise's parameters) and are judged by the RMSE of the test
ratings; top-N models go through implicit's API (daogou's via ``daogou.compat.implicit``) on
the same binary users × items CSR matrix and are judged by precision@10 over the test users,
with the items a user rated in training left out. The same Python code scores both sides.

    python bench/python_peers.py [--data ../shared/datasets/ml-100k] [--threads 2]

Needs the daogou wheel (crates/python: maturin build --release), scikit-surprise and implicit
(pins: crates/python/requirements-test.txt).
"""

import argparse
import json
import os
import pathlib
import platform
import time

import numpy as np


def timed(f):
    t = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t


def rating_rows(lib, folder):
    Dataset, Reader = lib.Dataset, lib.Reader
    reader = Reader("ml-100k")
    train = Dataset.load_from_file(str(folder / "u1.base"), reader=reader).build_full_trainset()
    test = Dataset.load_from_file(str(folder / "u1.test"), reader=reader).build_full_trainset().build_testset()
    algos = {
        "SVD (100 factors, 20 epochs)": lambda: lib.SVD(random_state=0),
        "KNNBaseline (item, pearson_baseline)": lambda: lib.KNNBaseline(
            sim_options={"name": "pearson_baseline", "user_based": False}),
        "SlopeOne": lambda: lib.SlopeOne(),
    }
    rows = []
    for name, make in algos.items():
        algo = make()
        _, fit = timed(lambda: algo.fit(train))
        predictions, predict = timed(lambda: algo.test(test))
        rows.append({"task": "ratings", "model": name, "fit_s": fit, "answer_s": predict,
                     "quality": lib.accuracy.rmse(predictions, verbose=False), "metric": "RMSE"})
    return rows


def matrices(folder):
    import scipy.sparse as sp

    def read(name):
        a = np.loadtxt(folder / name, dtype=np.int64)
        return a[:, 0] - 1, a[:, 1] - 1

    (tu, ti), (su, si) = read("u1.base"), read("u1.test")
    shape = (943, 1682)
    train = sp.csr_matrix((np.ones(len(tu), dtype=np.float32), (tu, ti)), shape=shape)
    test = sp.csr_matrix((np.ones(len(su), dtype=np.float32), (su, si)), shape=shape)
    return train, test


def precision_at_10(ids, test):
    hits, users = 0, 0
    for u, row in enumerate(ids):
        relevant = set(test[u].indices.tolist())
        if relevant:
            users += 1
            hits += len(relevant & set(int(i) for i in row if i >= 0))
    return hits / (10 * users)


def topn_rows(lib, train, test, threads):
    algos = {
        "ALS (64 factors, 15 iterations)": lambda: lib.als.AlternatingLeastSquares(
            factors=64, regularization=0.05, iterations=15, num_threads=threads, random_state=0),
        "BPR (64 factors, 100 iterations)": lambda: lib.bpr.BayesianPersonalizedRanking(
            factors=64, iterations=100, num_threads=threads, random_state=0),
        "item k-NN (cosine, K=20)": lambda: lib.nearest_neighbours.CosineRecommender(K=20, num_threads=threads),
    }
    users = np.arange(train.shape[0])
    rows = []
    for name, make in algos.items():
        model = make()
        _, fit = timed(lambda: model.fit(train, show_progress=False))
        (ids, _), answer = timed(lambda: model.recommend(users, train[users], N=10))
        rows.append({"task": "top-N", "model": name, "fit_s": fit, "answer_s": answer,
                     "quality": precision_at_10(ids, test), "metric": "precision@10"})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("DAOGOU_DATASETS", "../shared/datasets") + "/ml-100k")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json", help="also write the rows here")
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit asks for it

    import implicit
    import surprise

    import daogou
    from daogou.compat import implicit as daogou_implicit
    from daogou.compat import surprise as daogou_surprise

    folder = pathlib.Path(a.data)
    rows = []
    for lib, label in ((surprise, f"Surprise {surprise.__version__}"), (daogou_surprise, "daogou")):
        rows += [dict(r, library=label) for r in rating_rows(lib, folder)]
    train, test = matrices(folder)
    for lib, label in ((implicit, f"implicit {implicit.__version__}"), (daogou_implicit, "daogou")):
        rows += [dict(r, library=label) for r in topn_rows(lib, train, test, a.threads)]

    print(f"MovieLens 100k u1.base → u1.test; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{a.threads} threads for implicit and daogou; daogou {daogou.__version__}")
    print("| task | model | library | fit (s) | answer (s) | quality |")
    print("|---|---|---|---:|---:|---|")
    for r in rows:
        print(f"| {r['task']} | {r['model']} | {r['library']} | {r['fit_s']:.2f} | {r['answer_s']:.2f} | "
              f"{r['metric']} {r['quality']:.4f} |")
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
