"""``rmse`` and ``mae`` of a list of predictions, as ``surprise.accuracy``'s."""

from . import mae, rmse

__all__ = ["rmse", "mae"]
