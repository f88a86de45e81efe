"""The shared part of the implicit adapters: fit on a CSR matrix, recommend by row number."""

from __future__ import annotations

import numpy as np

import daogou


class RecommenderBase:
    _model = ""

    def __init__(self, num_threads=0, **params):
        self._params = params
        self._threads = num_threads or None
        self._m = None

    def fit(self, user_items, show_progress=True):
        data = daogou.from_csr(user_items)
        self._m = daogou.Model(self._model, num_threads=self._threads, **self._params).fit(data)
        return self

    def _fitted(self):
        if self._m is None:
            raise daogou.DaogouError(f"{type(self).__name__} is not fitted yet: call fit(user_items)")
        return self._m

    def recommend(self, userid, user_items=None, N=10, filter_already_liked_items=True, filter_items=None,
                  recalculate_user=False, items=None):
        if recalculate_user or items is not None:
            raise daogou.DaogouError("recommend: recalculate_user and items are not covered by daogou.compat.implicit")
        exclude = [] if filter_items is None else np.asarray(filter_items).ravel().tolist()
        return self._fitted().recommend(userid, n=N, filter_seen=filter_already_liked_items, exclude=exclude,
                                        include_unavailable=True)

    def similar_items(self, itemid, N=10, recalculate_item=False, item_users=None, filter_items=None, items=None):
        if recalculate_item or items is not None:
            raise daogou.DaogouError("similar_items: recalculate_item and items are not covered by daogou.compat.implicit")
        exclude = [] if filter_items is None else np.asarray(filter_items).ravel().tolist()
        return self._fitted().similar(itemid, n=N, exclude=exclude, include_unavailable=True)

    def save(self, path):
        """daogou's model file (not implicit's .npz)."""
        self._fitted().save(path)
