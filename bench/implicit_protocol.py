"""daogou's implicit evaluation protocol re-implemented in numpy/scipy, so that a peer library is
scored on exactly the matrices, candidates and relevant items that `daogou evaluate` uses.

It mirrors crates/data (readers, EventWeights, to_implicit), crates/eval/src/protocol.rs
(train_matrix, test_cases) and crates/eval/src/metrics.rs (precision@k, NDCG@k):

MovieLens u1 as implicit (`--positive-threshold 4 --relevance-threshold 4`):
  * users and items are numbered in order of first appearance over u1.base then u1.test (the
    catalogue is every item of both files, so items seen only in the test file are candidates);
  * train matrix: training ratings >= 4, each weighing 1 (EventWeights.rating), summed per pair;
  * relevant: test ratings >= 4 of users with at least one training positive, minus items the
    user rated in training (any rating);
  * candidates: every item except those the user rated in training, below 4 included (a film
    already watched is no recommendation; crates/eval/src/protocol.rs seen_matrix).

Online Retail discovery (`--split time:2011-11-09`):
  * a row with a CustomerID is an event: user = CustomerID (a trailing ".0" removed), item =
    StockCode (trimmed), Return when InvoiceNo starts with C/c else Purchase, value = |Quantity|;
    Quantity 0, or a negative Quantity on a purchase, is skipped; every StockCode of the file
    (guest rows included) is a catalogue item;
  * train = events before 2011-11-09 00:00 UTC; weight = +-8 * (1 + ln q) for q > 1 else +-8
    (purchase +, return -), summed per (user, item), pairs with total <= 0 dropped;
  * relevant: test purchases of users with a non-empty training row, minus items in that row.

Top-N: every item except the user's training items (`seen`, else the training matrix) is ranked;
ties by lower item index;
precision@k = hits / k; NDCG@k = sum_{hits} 1/log2(rank + 2) / sum_{r < min(|rel|, k)} 1/log2(r + 2).
"""
from __future__ import annotations

import csv
import gzip
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp


@dataclass
class Protocol:
    name: str
    train: sp.csr_matrix  # users x items, float32
    cases: list  # (user, sorted relevant item array)
    seen: sp.csr_matrix | None = None  # what each user had in training when more than `train`

    @property
    def n_users(self) -> int:
        return self.train.shape[0]

    @property
    def n_items(self) -> int:
        return self.train.shape[1]


class _Ids:
    def __init__(self):
        self.m: dict[str, int] = {}

    def get(self, key: str) -> int:
        i = self.m.get(key)
        if i is None:
            i = self.m[key] = len(self.m)
        return i

    def __len__(self):
        return len(self.m)


def _cases(train: sp.csr_matrix, test_pairs, seen: sp.csr_matrix | None = None) -> list:
    by_user: dict[int, set] = {}
    indptr, indices = train.indptr, train.indices
    had = seen if seen is not None else train
    for u, i in test_pairs:
        row = indices[indptr[u]:indptr[u + 1]]
        if len(row) == 0:
            continue
        if np.any(had.indices[had.indptr[u]:had.indptr[u + 1]] == i):
            continue
        by_user.setdefault(u, set()).add(i)
    return [(u, np.array(sorted(s), dtype=np.int64)) for u, s in sorted(by_user.items())]


def movielens_u1(d: Path, fold: int = 1, positive: float = 4.0, relevant: float = 4.0) -> Protocol:
    users, items = _Ids(), _Ids()

    def read(name):
        out = []
        for line in (d / name).read_text().splitlines():
            f = line.split("\t")
            if len(f) < 3:
                continue
            out.append((users.get(f[0].strip()), items.get(f[1].strip()), float(f[2])))
        return out

    base = read(f"u{fold}.base")
    test = read(f"u{fold}.test")
    nu, ni = len(users), len(items)
    tr = [(u, i) for u, i, r in base if r >= positive]
    m = sp.csr_matrix((np.ones(len(tr), dtype=np.float32), ([p[0] for p in tr], [p[1] for p in tr])), shape=(nu, ni))
    m.sum_duplicates()
    m.sort_indices()
    seen = sp.csr_matrix((np.ones(len(base), dtype=np.float32), ([b[0] for b in base], [b[1] for b in base])),
                         shape=(nu, ni))
    seen.sum_duplicates()
    seen.sort_indices()
    cases = _cases(m, [(u, i) for u, i, r in test if r >= relevant], seen)
    return Protocol(f"ml-100k u{fold} implicit", m, cases, seen)


def _weight(kind_return: bool, q: float) -> float:
    w = -8.0 if kind_return else 8.0
    q = abs(q)
    # f32 arithmetic as in Rust: w * (1 + ln q)
    if q <= 1.0:
        return np.float32(w)
    return np.float32(w) * (np.float32(1.0) + np.log(np.float32(q)))


def online_retail(path: Path, cut: str = "2011-11-09") -> Protocol:
    cut_ts = int(datetime.strptime(cut, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())
    users, items = _Ids(), _Ids()
    guest_codes: list[str] = []
    train_u, train_i, train_w = [], [], []
    test_pairs = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        header = next(r)
        col = {h: k for k, h in enumerate(header)}
        ci, si, qi, di, ii = col["CustomerID"], col["StockCode"], col["Quantity"], col["InvoiceDate"], col["InvoiceNo"]
        pi = col["UnitPrice"]
        n = len(header)
        for row in r:
            if len(row) != n:
                continue
            cust = row[ci].strip()
            code = row[si].strip()
            if not cust:
                if code:
                    guest_codes.append(code)
                continue
            if cust.endswith(".0"):
                cust = cust[:-2]
            if not code:
                continue
            try:
                q = float(row[qi])
                ts = int(datetime.strptime(row[di].strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
                float(row[pi])
            except ValueError:
                continue
            ret = row[ii].strip().startswith(("C", "c"))
            if q == 0.0 or (not ret and q < 0.0):
                continue
            u, i = users.get(cust), items.get(code)
            if ts < cut_ts:
                train_u.append(u)
                train_i.append(i)
                train_w.append(np.float32(_weight(ret, abs(q))))
            elif not ret:
                test_pairs.append((u, i))
    for code in guest_codes:  # catalogue-only items come after the event items
        items.get(code)
    nu, ni = len(users), len(items)
    # Sum per (user, item) sequentially in f32 and in input order, as Csr::from_triplets does
    # (the order matters for purchases and returns that cancel out to ~0).
    order = np.lexsort((np.array(train_i), np.array(train_u)))  # stable: input order within a pair
    rows, cols, vals = [], [], []
    last = None
    for k in order:
        key = (train_u[k], train_i[k])
        if key == last:
            vals[-1] = np.float32(vals[-1] + train_w[k])
        else:
            rows.append(key[0])
            cols.append(key[1])
            vals.append(np.float32(train_w[k]))
            last = key
    vals = np.array(vals, dtype=np.float32)
    keep = vals > 0
    m = sp.csr_matrix((vals[keep], (np.array(rows)[keep], np.array(cols)[keep])), shape=(nu, ni), dtype=np.float32)
    m.sort_indices()
    return Protocol("online-retail discovery time:2011-11-09", m, _cases(m, test_pairs))


def rank_metrics(score_fn, proto: Protocol, k: int = 10, batch: int = 1024) -> dict:
    """score_fn(users array) -> dense (len(users), n_items) scores. Returns precision, ndcg."""
    cases = proto.cases
    disc = 1.0 / np.log2(np.arange(k) + 2.0)
    prec = ndcg = 0.0
    had = proto.seen if proto.seen is not None else proto.train
    indptr, indices = had.indptr, had.indices
    for s in range(0, len(cases), batch):
        chunk = cases[s:s + batch]
        us = np.array([c[0] for c in chunk], dtype=np.int64)
        scores = np.asarray(score_fn(us), dtype=np.float64)
        for row, (u, rel) in enumerate(chunk):
            sc = scores[row].copy()
            sc[indices[indptr[u]:indptr[u + 1]]] = -np.inf
            sc[np.isnan(sc)] = -np.inf
            # best first, ties by lower index (stable sort on -score)
            top = np.argsort(-sc, kind="stable")[:k]
            top = top[np.isfinite(sc[top])]
            hit = np.isin(top, rel)
            prec += hit.sum() / k
            idcg = disc[: min(len(rel), k)].sum()
            ndcg += (disc[: len(top)][hit].sum() / idcg) if idcg > 0 else 0.0
    n = max(len(cases), 1)
    return {"precision@10": prec / n, "ndcg@10": ndcg / n, "users_evaluated": len(cases)}
