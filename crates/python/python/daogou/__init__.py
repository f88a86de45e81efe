"""daogou (导购) from Python: the recommender engine's models, data readers, splits,
evaluation and tuning, with the command line's parameters, defaults, model files and
messages.

    import daogou
    data = daogou.load("u.data", format="movielens")
    train, test = daogou.split(data, "random:0.2", seed=42)
    model = daogou.Model("als", factors=64).fit(train)
    ids, scores = model.recommend(["196", "186"], n=10)
    print(daogou.evaluate(daogou.Model("als"), train, test, k=10))

The work is done in Rust (``daogou._daogou``) with the GIL released; ``num_threads`` sets the
threads of a model's fits and answers (default: all cores, or ``RAYON_NUM_THREADS``).
"""

from __future__ import annotations

import json as _json

import numpy as np

from . import _daogou
from ._daogou import Data, DaogouError

__all__ = [
    "Data",
    "DaogouError",
    "Model",
    "evaluate",
    "folds",
    "from_csr",
    "from_pandas",
    "load",
    "load_split",
    "models",
    "split",
    "tune",
]
__version__ = _daogou.__version__

# keyword arguments of Model that are not model parameters
_SIGNAL = ("weights", "positive_threshold", "half_life")


def _text(v) -> str:
    """A parameter value as the command line's --set would spell it."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def _ids(values) -> list[str]:
    """External ids as text (the engine's ids are strings; integers read back as integers)."""
    if isinstance(values, (str, bytes, int, np.integer)):
        values = [values]
    return [str(v) for v in np.asarray(values, dtype=object).ravel()]


def load(path, format: str = "csv", mapping: str | None = None, strict: bool = False) -> Data:
    """Read an events file as ``--data FILE --format FORMAT`` does (csv, jsonl, parquet,
    movielens, online-retail; gzip by extension). ``mapping`` is ``--mapping``
    ("user=CustomerID,item=StockCode,..."); ``strict`` stops at the first malformed row with
    FILE:LINE in the error."""
    return Data.load(str(path), format, mapping, strict)


def load_split(train, test, format: str = "csv", mapping: str | None = None, strict: bool = False):
    """A given split, as ``--train FILE --test FILE`` (e.g. MovieLens u1.base/u1.test)."""
    return Data.load_split(str(train), str(test), format, mapping, strict)


def _seconds(col) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(col):
        t = col.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(col.dt, "tz", None) is not None else col
        return t.to_numpy(dtype="datetime64[s]").astype(np.int64)
    if pd.api.types.is_numeric_dtype(col):
        if col.isna().any():
            raise DaogouError(f"column {col.name!r}: missing timestamps")
        return col.to_numpy(dtype=np.int64)
    parsed = pd.to_datetime(col, utc=True)
    return parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[s]").astype(np.int64)


def from_pandas(df, user: str = "user", item: str = "item", value: str | None = None,
                timestamp: str | None = None, kind: str | None = None) -> Data:
    """Events from a pandas DataFrame, naming its columns (the ``--mapping`` of a CSV).

    Ids get their indices in order of first appearance, as the file readers give them, so a
    DataFrame of a file's rows yields the same dataset (and the same metrics) as the file.
    Without a ``kind`` column a ``value`` column means ratings, no value column purchases
    (as for CSV). Timestamps: datetime64 or unix seconds; text is parsed by
    ``pandas.to_datetime`` (not by the readers' date rules). Columns are handed over as numpy
    arrays (``pandas.factorize`` for the ids), with no Python loop over the rows.
    """
    import pandas as pd

    for name in (user, item, value, timestamp, kind):
        if name is not None and name not in df.columns:
            raise DaogouError(f"column {name!r} is not in the DataFrame (columns: {', '.join(map(str, df.columns))})")
    ucodes, uids = pd.factorize(df[user])
    icodes, iids = pd.factorize(df[item])
    values = None
    if value is not None:
        values = df[value].to_numpy(dtype=np.float32)
        if np.isnan(values).any():
            raise DaogouError(f"column {value!r}: missing values")
    times = _seconds(df[timestamp]) if timestamp is not None else None
    kcodes = knames = None
    if kind is not None:
        kcodes, kn = pd.factorize(df[kind])
        kcodes, knames = kcodes.astype(np.int64), [str(k) for k in kn]
    return Data.from_codes(
        ucodes.astype(np.int64), [str(u) for u in uids], icodes.astype(np.int64), [str(i) for i in iids],
        values, times, kcodes, knames,
    )


def from_csr(matrix, kind: str = "purchase") -> Data:
    """Events from a users × items scipy.sparse matrix (any format; converted to CSR): row r
    is user r, column c item c, each stored value one event of ``kind`` ("purchase": the
    value is a quantity, weighed by the signal as on the command line; "rating": explicit
    ratings). Answers give row and column numbers back as int64."""
    import scipy.sparse as sp

    m = sp.csr_matrix(matrix)
    if not m.has_canonical_format:
        m = m.copy()  # leave the caller's matrix as it was
        m.sum_duplicates()
    n_rows, n_cols = m.shape
    return Data.from_csr(m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data.astype(np.float32),
                         int(n_rows), int(n_cols), kind)


def _data(x) -> Data:
    if isinstance(x, Data):
        return x
    mod = type(x).__module__
    if mod.startswith("pandas"):
        return from_pandas(x, value="value" if "value" in x.columns else None,
                           timestamp="timestamp" if "timestamp" in x.columns else None,
                           kind="kind" if "kind" in x.columns else None)
    if mod.startswith("scipy.sparse"):
        return from_csr(x)
    raise DaogouError(f"cannot use a {type(x).__name__} as data: pass a daogou.Data, a DataFrame or a scipy.sparse matrix")


def split(data, spec: str = "random:0.2", seed: int = 42):
    """(train, test) as ``--split SPEC --seed SEED``: random:0.2, time:2011-11-09,
    user-time:0.2, leave-last:1, cold-items:0.1[/SPLIT]."""
    return _daogou.split(_data(data), spec, seed)


def folds(data, k: int = 5, seed: int = 42) -> list:
    """``k`` rotating (train, test) pairs, as ``--folds K --seed SEED`` (each event is in one
    test part)."""
    return _daogou.folds(_data(data), k, seed)


def models() -> list[dict]:
    """Every model of the registry with its parameters, as ``daogou models`` lists them."""
    return [{"name": n, "about": a, "params": dict(p)} for n, a, p in _daogou.models()]


class Model:
    """A model of the registry: ``Model("als", factors=64)``; the parameters and defaults of
    ``daogou models`` (values as for ``--set``). ``weights``, ``positive_threshold`` and
    ``half_life`` are the signal flags; ``num_threads`` the threads of fits and answers;
    ``verbose`` prints progress to ``sys.stderr``."""

    def __init__(self, name: str, *, num_threads: int | None = None, verbose: bool = False, **params):
        signal = {k: params.pop(k) for k in _SIGNAL if k in params}
        self._m = _daogou.Model(name, [(k, _text(v)) for k, v in params.items()], signal.get("weights"),
                                signal.get("positive_threshold"), signal.get("half_life"), num_threads, verbose)

    @classmethod
    def load(cls, path, num_threads: int | None = None, verbose: bool = False) -> "Model":
        """A model file written by ``save`` or by ``daogou train --out FILE``."""
        self = cls.__new__(cls)
        self._m = _daogou.Model.load(str(path), num_threads, verbose)
        return self

    name = property(lambda self: self._m.name, doc="registered model name")
    params = property(lambda self: dict(self._m.params), doc="the parameters given (others: defaults)")
    is_fitted = property(lambda self: self._m.is_fitted)

    def fit(self, data) -> "Model":
        """Fit on a Data (a split's part, a load), a DataFrame or a scipy.sparse matrix."""
        self._m.fit(_data(data))
        return self

    def recommend(self, users, n: int = 10, filter_seen: bool = True, **filters):
        """Top ``n`` (ids, scores) per user, through the engine's "for you" list: items the
        user has are left out unless ``filter_seen=False``; only items in stock (unless
        ``include_unavailable=True``); ``category``, ``brand``, ``min_price``, ``max_price``
        and ``exclude`` as in ``daogou recommend``. One user: 1-d arrays; a list: 2-d, padded
        with -1 (or None) and NaN when fewer than ``n`` items qualify."""
        one = np.ndim(users) == 0
        if "exclude" in filters:
            filters["exclude"] = _ids(filters["exclude"])
        ids, scores = self._m.recommend(_ids(users), n, filter_seen, **filters)
        return _shape(ids, scores, one)

    def similar(self, items, n: int = 10, **filters):
        """The ``n`` most similar items (ids, scores) per item, as ``daogou similar``."""
        one = np.ndim(items) == 0
        if "exclude" in filters:
            filters["exclude"] = _ids(filters["exclude"])
        ids, scores = self._m.similar(_ids(items), n, **filters)
        return _shape(ids, scores, one)

    def predict(self, user, item):
        """Predicted rating(s) of rating models: scalars, or arrays of equal length."""
        one = np.ndim(user) == 0 and np.ndim(item) == 0
        out = self._m.predict(_ids(user), _ids(item))
        return float(out[0]) if one else out

    def save(self, path) -> None:
        """Write the model file of ``daogou train --out`` (``daogou recommend --model FILE`` reads it)."""
        self._m.save(str(path))

    def user_ids(self) -> list[str]:
        return self._m.user_ids()

    def item_ids(self) -> list[str]:
        return self._m.item_ids()

    def __repr__(self) -> str:
        return repr(self._m)


def _shape(ids, scores, one: bool):
    if not isinstance(ids, np.ndarray):
        rows = ids
        n = scores.shape[1]
        ids = np.full((len(rows), n), None, dtype=object)
        for r, row in enumerate(rows):
            ids[r, : len(row)] = row
    return (ids[0], scores[0]) if one else (ids, scores)


def evaluate(model: Model, train, test, k: int = 10, relevance_threshold: float | None = None,
             repeats: bool = False, seed: int = 42) -> dict:
    """``daogou evaluate --json``: ``model``'s name and parameters fitted afresh on ``train``
    and judged on ``test`` (the two parts of one ``split``/``load_split``); the same keys
    (rmse, mae, precision@K, ndcg@K, …, fit_seconds). Stochastic models take ``seed`` unless
    given their own, as on the command line."""
    return _json.loads(_daogou.evaluate(model._m, train, test, k, relevance_threshold, repeats, seed))


def tune(model: Model, train, grid, test=None, validation: str = "random:0.2", folds: int | None = None,
         metric: str | None = None, random: int | None = None, k: int = 10,
         relevance_threshold: float | None = None, repeats: bool = False, seed: int = 42) -> dict:
    """``daogou tune --json``: settings from ``grid`` ({"k": [20, 40]} or ["k=20,40"]; with
    ``random=N``, N random settings, ranges "lo..hi" allowed) chosen on a validation split of
    ``train`` only; the winner evaluated once on ``test`` when given."""
    if isinstance(grid, dict):
        grid = [f"{k}={v}" if isinstance(v, str) else f"{k}={','.join(_text(x) for x in v)}" for k, v in grid.items()]
    return _json.loads(_daogou.tune(model._m, train, list(grid), test, validation, folds, metric, random, k,
                                    relevance_threshold, repeats, seed))
