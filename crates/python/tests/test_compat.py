"""The compat adapters run the libraries' documented examples with only the import changed,
and the notebook-style example runs Surprise and daogou side by side."""

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import daogou

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


# The libraries' own getting-started code, verbatim. The first is the "Getting started,
# example" of Surprise's README (the package description of scikit-surprise 1.1.5), the second
# the "train_test_split() and the fit() method" example of Surprise's getting-started guide,
# the third the "Basic Usage" of implicit's README (the package description of implicit 0.7.3).
SURPRISE_CROSS_VALIDATE = """\
from surprise import SVD
from surprise import Dataset
from surprise.model_selection import cross_validate

# Load the movielens-100k dataset (download it if needed).
data = Dataset.load_builtin('ml-100k')

# Use the famous SVD algorithm.
algo = SVD()

# Run 5-fold cross-validation and print results.
cross_validate(algo, data, measures=['RMSE', 'MAE'], cv=5, verbose=True)
"""

SURPRISE_TRAIN_TEST_SPLIT = """\
from surprise import SVD
from surprise import Dataset
from surprise import accuracy
from surprise.model_selection import train_test_split

# Load the movielens-100k dataset (download it if needed),
data = Dataset.load_builtin('ml-100k')

# sample random trainset and testset
# test set is made of 25% of the ratings.
trainset, testset = train_test_split(data, test_size=.25)

# We'll use the famous SVD algorithm.
algo = SVD()

# Train the algorithm on the trainset, and predict ratings for the testset
algo.fit(trainset)
predictions = algo.test(testset)

# Then compute RMSE
accuracy.rmse(predictions)
"""

IMPLICIT_BASIC_USAGE = """\
import implicit

# initialize a model
model = implicit.als.AlternatingLeastSquares(factors=50)

# train the model on a sparse matrix of user/item/confidence weights
model.fit(user_item_data)

# recommend items for a user
recommendations = model.recommend(userid, user_item_data[userid])

# find related items
related = model.similar_items(itemid)
"""


def with_import_changed(snippet, library):
    """The snippet with only its import lines pointed at daogou.compat."""
    out = []
    for line in snippet.splitlines(keepends=True):
        if line.startswith(f"from {library}"):
            line = line.replace(f"from {library}", f"from daogou.compat.{library}", 1)
        elif line == f"import {library}\n":
            line = f"import daogou.compat.{library} as {library}\n"
        out.append(line)
    changed = [(a, b) for a, b in zip(snippet.splitlines(), "".join(out).splitlines()) if a != b]
    assert changed and all(a.startswith(("from ", "import ")) for a, _ in changed)
    return "".join(out)


def documented(distribution, snippet):
    """The snippet is word for word in the installed peer's own description, when installed."""
    from importlib import metadata

    try:
        text = metadata.metadata(distribution).get_payload()
    except metadata.PackageNotFoundError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{distribution} is not installed (CI=true)")
        return
    assert snippet in text, f"{distribution}'s README no longer has this example"


def test_surprise_getting_started_runs_with_the_import_changed(datasets, capsys, monkeypatch):
    documented("scikit-surprise", SURPRISE_CROSS_VALIDATE)
    monkeypatch.setenv("DAOGOU_DATASETS", str(datasets))
    scope = {}
    exec(with_import_changed(SURPRISE_CROSS_VALIDATE, "surprise"), scope)
    out = capsys.readouterr().out
    assert "Evaluating RMSE, MAE of algorithm SVD on 5 split(s)." in out, out
    assert len(scope["data"].data) == 100_000, "load_builtin('ml-100k') is the whole u.data"
    rmse = [float(x) for x in re.search(r"^RMSE \(testset\)\s+(.*?)\s+mean", out, re.M).group(1).split()]
    mae = [float(x) for x in re.search(r"^MAE \(testset\)\s+(.*?)\s+mean", out, re.M).group(1).split()]
    # Surprise's README shows RMSE 0.9300..0.9378 and MAE 0.7325..0.7397 for these folds
    assert len(rmse) == 5 and all(0.90 < r < 0.97 for r in rmse), out
    assert len(mae) == 5 and all(0.70 < m < 0.77 for m in mae), out

    exec(with_import_changed(SURPRISE_TRAIN_TEST_SPLIT, "surprise"), scope)
    out = capsys.readouterr().out
    assert len(scope["predictions"]) == 25_000 and scope["trainset"].n_ratings == 75_000
    assert 0.90 < float(re.fullmatch(r"RMSE: (\d\.\d{4})\n", out).group(1)) < 0.97, out


def test_load_builtin_reads_local_files_only(tmp_path, monkeypatch):
    from daogou.compat.surprise import Dataset

    monkeypatch.setenv("DAOGOU_DATASETS", str(tmp_path))
    with pytest.raises(daogou.DaogouError) as e:
        Dataset.load_builtin("ml-100k")
    assert str(tmp_path / "ml-100k" / "u.data") in str(e.value) and "does not download" in str(e.value)
    with pytest.raises(daogou.DaogouError, match="unknown builtin dataset 'jester'"):
        Dataset.load_builtin("jester")
    # MovieLens 1M's layout: ml-1m/ratings.dat, "::"-separated
    (tmp_path / "ml-1m").mkdir()
    (tmp_path / "ml-1m" / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
    data = Dataset.load_builtin("ml-1m")
    trainset = data.build_full_trainset()
    assert (trainset.n_users, trainset.n_items, trainset.n_ratings) == (2, 2, 3)
    assert sorted(trainset.build_testset()) == [("1", "1193", 5.0), ("1", "661", 3.0), ("2", "1193", 4.0)]
    # without DAOGOU_DATASETS: ../shared/datasets from the current directory
    monkeypatch.delenv("DAOGOU_DATASETS")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(daogou.DaogouError, match="shared/datasets/ml-100k/u.data is missing"):
        Dataset.load_builtin("ml-100k")


def test_implicit_basic_usage_runs_with_the_import_changed(ml_small):
    documented("implicit", IMPLICIT_BASIC_USAGE)
    rows = np.loadtxt(ml_small, dtype=np.int64)
    # users × items play counts from MovieLens rows (ids are row and column numbers)
    user_item_data = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows[:, 0], rows[:, 1])))
    userid, itemid = int(rows[0, 0]), int(rows[0, 1])
    libraries = [("daogou", with_import_changed(IMPLICIT_BASIC_USAGE, "implicit"))]
    if peer_available("implicit"):
        libraries.append(("implicit", IMPLICIT_BASIC_USAGE))
    liked = set(user_item_data[userid].indices.tolist())
    for library, code in libraries:
        scope = {"user_item_data": user_item_data, "userid": userid, "itemid": itemid}
        exec(code, scope)
        ids, scores = scope["recommendations"]
        assert ids.shape == (10,) and np.all(np.diff(scores) <= 0), library
        assert not (set(ids.tolist()) & liked), f"{library}: the user's items are left out"
        related, _ = scope["related"]
        assert len(related) == 10 and np.all((0 <= related) & (related < user_item_data.shape[1])), library
