"""``BayesianPersonalizedRanking`` → daogou ``bpr``."""

from ._base import RecommenderBase


class BayesianPersonalizedRanking(RecommenderBase):
    _model = "bpr"

    def __init__(self, factors=100, learning_rate=0.01, regularization=0.01, dtype=None, iterations=100,
                 use_gpu=False, num_threads=0, verify_negative_samples=True, random_state=None):
        p = dict(factors=factors, learning_rate=learning_rate, regularization=regularization, iterations=iterations,
                 sampling="uniform")
        if random_state is not None:
            p["seed"] = int(random_state)
        super().__init__(num_threads=num_threads, **p)
