"""Surprise's shapes over daogou's rating models.

Covered (anything else is not):

* ``Reader(name="ml-100k" | "ml-1m", line_format=..., sep=..., rating_scale=..., skip_lines=...)``
* ``Dataset.load_builtin("ml-100k" | "ml-1m")``: Surprise downloads the file on first use;
  daogou never downloads: it reads ``ml-100k/u.data`` or ``ml-1m/ratings.dat`` from the folder
  ``$DAOGOU_DATASETS`` names, else from ``../shared/datasets`` relative to the current
  directory (the repository's layout), and raises an error naming where it looked
* ``Dataset.load_from_file(path, reader)``, ``Dataset.load_from_df(df[[user, item, rating]], reader)``,
  ``data.build_full_trainset()``
* ``model_selection.train_test_split(data, test_size=0.2, random_state=None)`` (also importable
  from this module) → ``(trainset, testset)``; ``model_selection.cross_validate(algo, data,
  measures=["RMSE", "MAE"], cv=5, verbose=False)`` → ``{"test_rmse": array, ..., "fit_time",
  "test_time"}`` (``cv`` a number of folds: daogou's ``--folds``); ``trainset.build_testset()``,
  ``trainset.n_users``, ``n_items``, ``n_ratings``, ``global_mean``
* algorithms, each with ``fit(trainset)``, ``test(testset)`` → list of ``Prediction(uid, iid,
  r_ui, est, details)`` and ``predict(uid, iid, r_ui=None)``:

  - ``SVD(n_factors=100, n_epochs=20, init_std_dev=0.1, lr_all=0.005, reg_all=0.02, lr_bu, lr_bi,
    lr_pu, lr_qi, reg_bu, reg_bi, reg_pu, reg_qi, random_state)`` → daogou ``svd``
  - ``SVDpp(n_factors=20, n_epochs=20, init_std_dev=0.1, lr_all=0.007, reg_all=0.02, ...)`` → ``svdpp``
  - ``BaselineOnly(bsl_options={"method": "als", "reg_i": 10, "reg_u": 15, "n_epochs": 10})`` → ``baseline``
  - ``KNNWithMeans(k=40, min_k=1, sim_options={"name": "pearson" | "cosine", "user_based": True})``
    → ``user-knn`` (``user_based=False``: ``item-knn``); ``KNNBaseline(k, min_k, sim_options={"name":
    "pearson_baseline", "user_based": False, "shrinkage": 100})`` → ``knn-baseline``
  - ``SlopeOne()`` → ``slope-one``

* ``accuracy.rmse(predictions, verbose=True)``, ``accuracy.mae(...)`` (also importable from
  this module).

Not covered: ``Dataset.load_builtin("jester")``, ``KNNBasic``, ``KNNWithZScore``, ``NMF``, ``CoClustering``,
``NormalPredictor``, ``GridSearchCV`` (use ``daogou.tune``), ``dump``.

Differences: ids in predictions are the ids as the data gave them (text for files, as in
Surprise); an unknown user or item gets the training mean with ``details["was_impossible"]
= True``, as in Surprise. Random streams differ from Surprise's (numbers are daogou's).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

import daogou

__all__ = ["Reader", "Dataset", "Trainset", "Prediction", "SVD", "SVDpp", "BaselineOnly", "KNNWithMeans",
           "KNNBaseline", "SlopeOne", "accuracy", "model_selection", "train_test_split",
           "cross_validate"]


class Prediction(namedtuple("Prediction", ["uid", "iid", "r_ui", "est", "details"])):
    """One estimated rating, as Surprise's."""

    def __str__(self):
        return f"user: {self.uid!s:<10} item: {self.iid!s:<10} r_ui = {self.r_ui if self.r_ui is not None else 'None'}   est = {self.est:1.2f}   {self.details}"


_BUILTIN = {"ml-100k": ("user item rating timestamp", "\t"), "ml-1m": ("user item rating timestamp", "::")}
# the ratings file of each builtin dataset inside its folder (as GroupLens ships it)
_BUILTIN_FILES = {"ml-100k": "ml-100k/u.data", "ml-1m": "ml-1m/ratings.dat"}


def _builtin_path(name):
    """Where load_builtin reads ``name``: $DAOGOU_DATASETS, else ../shared/datasets."""
    import os
    import pathlib

    if name not in _BUILTIN_FILES:
        raise daogou.DaogouError(f"unknown builtin dataset {name!r} (covered: {', '.join(_BUILTIN_FILES)})")
    env = os.environ.get("DAOGOU_DATASETS")
    folder = pathlib.Path(env) if env else pathlib.Path("..", "shared", "datasets")
    path = folder / _BUILTIN_FILES[name]
    if not path.is_file():
        where = "$DAOGOU_DATASETS" if env else "../shared/datasets (set DAOGOU_DATASETS to the folder that holds it)"
        raise daogou.DaogouError(f"dataset {name} not found: {path.resolve()} is missing (looked in {where}); "
                                 "daogou does not download datasets: put the GroupLens files there")
    return path


class Reader:
    def __init__(self, name=None, line_format="user item rating", sep=None, rating_scale=(1, 5), skip_lines=0):
        if name is not None:
            if name not in _BUILTIN:
                raise daogou.DaogouError(f"unknown reader {name!r} (known: {', '.join(_BUILTIN)})")
            line_format, sep = _BUILTIN[name]
        self.fields = line_format.split()
        if not {"user", "item", "rating"} <= set(self.fields):
            raise daogou.DaogouError("line_format must name user, item and rating")
        self.sep, self.rating_scale, self.skip_lines = sep, rating_scale, skip_lines


class Dataset:
    """Ratings as daogou.Data; ``load_from_file`` / ``load_from_df`` as Surprise's."""

    def __init__(self, data: daogou.Data, reader: Reader):
        self.data, self.reader = data, reader

    @classmethod
    def load_builtin(cls, name="ml-100k", prompt=True):
        """Surprise's builtin dataset, read from local files only (Surprise downloads it; daogou
        does not, and ``prompt`` has nothing to ask): see the module docstring for where."""
        return cls.load_from_file(_builtin_path(name), Reader(name))

    @classmethod
    def load_from_file(cls, file_path, reader: Reader):
        import pandas as pd

        df = pd.read_csv(file_path, sep=reader.sep or r"\s+", names=reader.fields, header=None,
                         skiprows=reader.skip_lines, dtype={"user": str, "item": str}, engine="python"
                         if reader.sep and len(reader.sep) > 1 else "c")
        ts = "timestamp" if "timestamp" in reader.fields else None
        return cls(daogou.from_pandas(df, "user", "item", "rating", ts), reader)

    @classmethod
    def load_from_df(cls, df, reader: Reader):
        u, i, r = df.columns[:3]
        return cls(daogou.from_pandas(df, u, i, r), reader)

    def build_full_trainset(self) -> "Trainset":
        return Trainset(self.data, self.reader)


class Trainset:
    def __init__(self, data: daogou.Data, reader: Reader):
        self.data, self.reader = data, reader
        cols = data.columns()
        self.n_ratings = len(data)
        self.n_users = len(np.unique(cols["user"]))
        self.n_items = len(np.unique(cols["item"]))
        self.global_mean = float(np.mean(cols["value"], dtype=np.float64)) if self.n_ratings else math.nan
        self.rating_scale = reader.rating_scale

    def build_testset(self):
        """Every training rating as (uid, iid, r)."""
        return _tuples(self.data)


def _tuples(data: daogou.Data):
    cols = data.columns()
    users, items = np.asarray(data.user_ids(), dtype=object), np.asarray(data.item_ids(), dtype=object)
    return list(zip(users[cols["user"]].tolist(), items[cols["item"]].tolist(), cols["value"].astype(float).tolist()))


def train_test_split(data: Dataset, test_size=0.2, train_size=None, random_state=None, shuffle=True):
    """A random split of the ratings: (trainset, testset)."""
    n = len(data.data)
    frac = test_size / n if isinstance(test_size, int) else float(test_size)
    seed = random_state if isinstance(random_state, int) else 0
    train, test = daogou.split(data.data, f"random:{frac}", seed)
    return Trainset(train, data.reader), _tuples(test)




class _Algo:
    _model = ""

    def __init__(self, **params):
        self._params = params
        self._m = None

    def fit(self, trainset: Trainset):
        self.trainset = trainset
        self._m = daogou.Model(self._model, **self._params).fit(trainset.data)
        self._known_users = set(self._m.user_ids())
        self._known_items = set(self._m.item_ids())
        return self

    def _estimate(self, uids, iids):
        lo, hi = self.trainset.rating_scale
        uids, iids = [str(u) for u in uids], [str(i) for i in iids]
        ok = np.array([u in self._known_users and i in self._known_items for u, i in zip(uids, iids)], dtype=bool)
        est = np.full(len(uids), self.trainset.global_mean, dtype=np.float64)
        if ok.any():
            u = [x for x, k in zip(uids, ok) if k]
            i = [x for x, k in zip(iids, ok) if k]
            est[ok] = np.asarray(self._m.predict(u, i), dtype=np.float64)
        return np.clip(est, lo, hi), ok

    def predict(self, uid, iid, r_ui=None, clip=True, verbose=False):
        est, ok = self._estimate([uid], [iid])
        return _prediction(uid, iid, r_ui, est[0], ok[0])

    def test(self, testset, verbose=False):
        if not testset:
            return []
        uids, iids, r = zip(*testset)
        est, ok = self._estimate(uids, iids)
        return [_prediction(*x) for x in zip(uids, iids, r, est.tolist(), ok.tolist())]


def _prediction(uid, iid, r_ui, est, ok):
    details = {"was_impossible": False} if ok else {"was_impossible": True, "reason": "User and/or item is unknown."}
    return Prediction(uid, iid, r_ui, float(est), details)


def _mf(n_factors, n_epochs, init_std_dev, lr_all, reg_all, random_state, extra):
    p = {"factors": n_factors, "epochs": n_epochs, "init_std": init_std_dev, "lr": lr_all, "reg": reg_all}
    p.update({k: v for k, v in extra.items() if v is not None})
    if random_state is not None:
        p["seed"] = int(random_state)
    return p


class SVD(_Algo):
    _model = "svd"

    def __init__(self, n_factors=100, n_epochs=20, biased=True, init_mean=0, init_std_dev=0.1, lr_all=0.005,
                 reg_all=0.02, lr_bu=None, lr_bi=None, lr_pu=None, lr_qi=None, reg_bu=None, reg_bi=None,
                 reg_pu=None, reg_qi=None, random_state=None, verbose=False):
        if not biased or init_mean != 0:
            raise daogou.DaogouError("SVD: only biased=True and init_mean=0 are covered")
        extra = dict(lr_bu=lr_bu, lr_bi=lr_bi, lr_pu=lr_pu, lr_qi=lr_qi, reg_bu=reg_bu, reg_bi=reg_bi,
                     reg_pu=reg_pu, reg_qi=reg_qi)
        super().__init__(**_mf(n_factors, n_epochs, init_std_dev, lr_all, reg_all, random_state, extra))


class SVDpp(_Algo):
    _model = "svdpp"

    def __init__(self, n_factors=20, n_epochs=20, init_mean=0, init_std_dev=0.1, lr_all=0.007, reg_all=0.02,
                 lr_bu=None, lr_bi=None, lr_pu=None, lr_qi=None, lr_yj=None, reg_bu=None, reg_bi=None,
                 reg_pu=None, reg_qi=None, reg_yj=None, random_state=None, verbose=False, cache_ratings=False):
        if init_mean != 0:
            raise daogou.DaogouError("SVDpp: only init_mean=0 is covered")
        extra = dict(lr_bu=lr_bu, lr_bi=lr_bi, lr_pu=lr_pu, lr_qi=lr_qi, lr_yj=lr_all if lr_yj is None else lr_yj,
                     reg_bu=reg_bu, reg_bi=reg_bi, reg_pu=reg_pu, reg_qi=reg_qi,
                     reg_yj=reg_all if reg_yj is None else reg_yj)
        super().__init__(**_mf(n_factors, n_epochs, init_std_dev, lr_all, reg_all, random_state, extra))


def _bsl(bsl_options):
    o = dict(bsl_options or {})
    if o.get("method", "als") != "als":
        raise daogou.DaogouError("BaselineOnly: only method='als' is covered")
    return {"reg_i": o.get("reg_i", 10), "reg_u": o.get("reg_u", 15), "epochs": o.get("n_epochs", 10)}


class BaselineOnly(_Algo):
    _model = "baseline"

    def __init__(self, bsl_options={}, verbose=True):
        super().__init__(**_bsl(bsl_options))


class KNNWithMeans(_Algo):
    """Mean-centred k-NN (daogou's user-knn / item-knn on ratings)."""

    def __init__(self, k=40, min_k=1, sim_options={}, verbose=True, **kwargs):
        name = sim_options.get("name", "msd")
        if name not in ("pearson", "cosine"):
            raise daogou.DaogouError(f"sim_options name {name!r}: only 'pearson' and 'cosine' are covered")
        user_based = sim_options.get("user_based", True)
        self._model = "user-knn" if user_based else "item-knn"
        p = {"k": k, "similarity": name}
        if user_based:
            p["min_k"] = min_k
        if "min_support" in sim_options:
            p["min_support"] = sim_options["min_support"]
        super().__init__(**p)



class KNNBaseline(_Algo):
    _model = "knn-baseline"

    def __init__(self, k=40, min_k=1, sim_options={}, bsl_options={}, verbose=True, **kwargs):
        if sim_options.get("user_based", True) or sim_options.get("name", "msd") != "pearson_baseline":
            raise daogou.DaogouError("KNNBaseline: only sim_options={'name': 'pearson_baseline', 'user_based': False} is covered")
        b = _bsl(bsl_options)
        super().__init__(k=k, min_k=min_k, shrinkage=sim_options.get("shrinkage", 100),
                         min_support=sim_options.get("min_support", 1), reg_i=b["reg_i"], reg_u=b["reg_u"],
                         bsl_epochs=b["epochs"])


class SlopeOne(_Algo):
    _model = "slope-one"


def _errors(predictions):
    if not predictions:
        raise ValueError("Prediction list is empty.")
    return np.array([p.est - p.r_ui for p in predictions], dtype=np.float64)


def cross_validate(algo, data: Dataset, measures=("rmse", "mae"), cv=None, return_train_measures=False,
                   n_jobs=1, pre_dispatch="2*n_jobs", verbose=False):
    """Fit and test ``algo`` on ``cv`` rotating folds (default 5) of ``data``."""
    import time

    k = 5 if cv is None else cv
    if not isinstance(k, int):
        raise daogou.DaogouError("cross_validate: cv must be a number of folds here")
    names = [m.lower() for m in measures]
    out = {f"test_{m}": [] for m in names}
    fit_time, test_time = [], []
    for train, test in daogou.folds(data.data, k, seed=0):
        trainset, testset = Trainset(train, data.reader), _tuples(test)
        t = time.perf_counter()
        algo.fit(trainset)
        fit_time.append(time.perf_counter() - t)
        t = time.perf_counter()
        predictions = algo.test(testset)
        test_time.append(time.perf_counter() - t)
        for m in names:
            out[f"test_{m}"].append({"rmse": rmse, "mae": mae}[m](predictions, verbose=False))
    result = {key: np.asarray(v) for key, v in out.items()}
    result["fit_time"], result["test_time"] = tuple(fit_time), tuple(test_time)
    if verbose:
        print(f"Evaluating {', '.join(m.upper() for m in names)} of algorithm {type(algo).__name__} on {k} split(s).")
        for m in names:
            v = result[f"test_{m}"]
            print(f"{m.upper() + ' (testset)':<18}" + " ".join(f"{x:.4f}" for x in v) + f"  mean {v.mean():.4f} std {v.std():.4f}")
    return result


def rmse(predictions, verbose=True):
    v = float(np.sqrt(np.mean(_errors(predictions) ** 2)))
    if verbose:
        print(f"RMSE: {v:1.4f}")
    return v


def mae(predictions, verbose=True):
    v = float(np.mean(np.abs(_errors(predictions))))
    if verbose:
        print(f"MAE:  {v:1.4f}")
    return v


from . import accuracy, model_selection  # noqa: E402  (submodules, as Surprise's)
