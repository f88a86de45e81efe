"""The compat adapters run the libraries' documented examples with only the import changed,
and the notebook-style example runs Surprise and daogou side by side."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def peer(name):
    try:
        return __import__(name)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (CI=true)")
        pytest.skip(f"{name} is not installed")


def test_side_by_side_example_runs_both(ml_small):
    peer("surprise")
    out = subprocess.run([sys.executable, EXAMPLES / "surprise_side_by_side.py", ml_small],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines() if line.split()}
    theirs, ours = float(rows["surprise"][1]), float(rows["daogou.compat.surprise"][1])
    assert 0.5 < theirs < 1.3 and 0.5 < ours < 1.3, out.stdout
    assert abs(theirs - ours) < 0.1, out.stdout
    assert rows["surprise"][3] == rows["daogou.compat.surprise"][3], "as many predictions"
    assert 0.5 < float(rows["daogou.evaluate"][1]) < 1.3


def test_surprise_calls(ml_small):
    from daogou.compat.surprise import (SVD, BaselineOnly, Dataset, KNNBaseline, KNNWithMeans, Reader, SlopeOne,
                                        SVDpp, accuracy)
    from daogou.compat.surprise.model_selection import train_test_split

    data = Dataset.load_from_file(ml_small, reader=Reader(line_format="user item rating timestamp", sep="\t"))
    trainset, testset = train_test_split(data, test_size=0.2, random_state=1)
    assert trainset.n_ratings + len(testset) == 6000
    for algo in (SVD(n_epochs=5), SVDpp(n_epochs=2), BaselineOnly(), SlopeOne(),
                 KNNWithMeans(k=20, sim_options={"name": "pearson", "user_based": True}),
                 KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False})):
        predictions = algo.fit(trainset).test(testset)
        assert len(predictions) == len(testset)
        assert 0.5 < accuracy.rmse(predictions, verbose=False) < 1.3, type(algo).__name__
        assert accuracy.mae(predictions, verbose=False) < accuracy.rmse(predictions, verbose=False)
    p = algo.predict("no-such-user", testset[0][1])
    assert p.details["was_impossible"] and p.est == pytest.approx(trainset.global_mean)
    uid, iid, r = testset[0]
    assert algo.predict(uid, iid, r).r_ui == r


def test_implicit_example_runs_with_the_import_changed():
    rng = np.random.default_rng(3)
    plays = sp.csr_matrix((rng.random((60, 40)) < 0.15).astype(np.float32) * rng.integers(1, 5, (60, 40)))
    snippet = """
from {package}.als import AlternatingLeastSquares
from {package}.nearest_neighbours import BM25Recommender

model = AlternatingLeastSquares(factors=8, iterations=5, random_state=0)
model.fit(user_plays)
ids, scores = model.recommend(userid, user_plays[userid], N=10)
batch_ids, batch_scores = model.recommend(np.arange(5), user_plays[:5], N=10)
knn = BM25Recommender(K=10)
knn.fit(user_plays)
similar_ids, similar_scores = knn.similar_items(3, N=5)
"""
    packages = ["daogou.compat.implicit"]
    if peer_available("implicit"):
        packages.append("implicit")
    for package in packages:
        scope = {"np": np, "user_plays": plays, "userid": 7}
        exec(snippet.format(package=package), scope)
        ids, batch = scope["ids"], scope["batch_ids"]
        assert ids.shape == (10,) and batch.shape == (5, 10), package
        liked = set(plays[7].indices.tolist())
        assert not (set(ids.tolist()) & liked), f"{package}: liked items are filtered"
        assert len(scope["similar_ids"]) == 5


def peer_available(name):
    try:
        __import__(name)
        return True
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (CI=true)")
        return False


def test_surprise_cross_validate(ml_small):
    from daogou.compat.surprise import Dataset, Reader, SlopeOne
    from daogou.compat.surprise.model_selection import cross_validate

    data = Dataset.load_from_file(ml_small, reader=Reader("ml-100k"))
    out = cross_validate(SlopeOne(), data, measures=["RMSE", "MAE"], cv=3, verbose=True)
    assert out["test_rmse"].shape == (3,) and len(out["fit_time"]) == 3
    assert np.all((0.5 < out["test_rmse"]) & (out["test_rmse"] < 1.3))
    assert np.all(out["test_mae"] < out["test_rmse"])
