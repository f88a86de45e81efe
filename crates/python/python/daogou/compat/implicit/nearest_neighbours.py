"""Item-item nearest neighbours → daogou ``item-knn`` (implicit data)."""

from ._base import RecommenderBase


class ItemItemRecommender(RecommenderBase):
    _model = "item-knn"
    _weighting = "none"

    def __init__(self, K=20, num_threads=0, **weighting):
        super().__init__(num_threads=num_threads, k=K, similarity="cosine", weighting=self._weighting, **weighting)


class CosineRecommender(ItemItemRecommender):
    _weighting = "none"


class TFIDFRecommender(ItemItemRecommender):
    _weighting = "tfidf"


class BM25Recommender(ItemItemRecommender):
    _weighting = "bm25"

    def __init__(self, K=20, K1=1.2, B=0.75, num_threads=0):
        super().__init__(K=K, num_threads=num_threads, bm25_k1=K1, bm25_b=B)
