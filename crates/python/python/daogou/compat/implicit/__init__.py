"""implicit's shapes over daogou's implicit-feedback models.

Covered (anything else is not):

* ``implicit.als.AlternatingLeastSquares(factors=100, regularization=0.01, alpha=1.0,
  iterations=15, use_cg=True, num_threads=0, random_state=None)`` → daogou ``als``
  (``solver=cg``/``cholesky``, ``binary=false``: confidence from the values)
* ``implicit.bpr.BayesianPersonalizedRanking(factors=100, learning_rate=0.01,
  regularization=0.01, iterations=100, num_threads=0, random_state=None)`` → ``bpr``
* ``implicit.nearest_neighbours.CosineRecommender(K=20)``, ``TFIDFRecommender(K=20)``,
  ``BM25Recommender(K=20, K1=1.2, B=0.75)`` → ``item-knn`` (weighting none / tfidf / bm25)
* on each: ``fit(user_items, show_progress=True)`` with a users × items ``scipy.sparse``
  matrix (values are event quantities, weighed as daogou weighs purchases);
  ``recommend(userid, user_items, N=10, filter_already_liked_items=True, filter_items=None)``
  with one user id (1-d arrays) or an array of them (2-d arrays, padded with -1 / NaN);
  ``similar_items(itemid, N=10, filter_items=None)`` (one id or an array).

Differences: ``similar_items`` leaves the item itself out of its list (implicit puts it
first); the items already liked are those of the matrix given to ``fit`` (the
``user_items`` rows passed to ``recommend`` are not re-read); ``recalculate_user`` and
``items`` are not covered and raise. Random streams differ from implicit's.
"""

from . import als, bpr, nearest_neighbours

__all__ = ["als", "bpr", "nearest_neighbours"]
