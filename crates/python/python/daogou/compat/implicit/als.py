"""``AlternatingLeastSquares`` → daogou ``als``."""

from ._base import RecommenderBase


class AlternatingLeastSquares(RecommenderBase):
    _model = "als"

    def __init__(self, factors=100, regularization=0.01, alpha=1.0, dtype=None, use_native=True, use_cg=True,
                 use_gpu=False, iterations=15, calculate_training_loss=False, num_threads=0, random_state=None):
        p = dict(factors=factors, regularization=regularization, alpha=alpha, iterations=iterations,
                 solver="cg" if use_cg else "cholesky", binary=False)
        if random_state is not None:
            p["seed"] = int(random_state)
        super().__init__(num_threads=num_threads, **p)
