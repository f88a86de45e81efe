"""``train_test_split`` and ``cross_validate``, as ``surprise.model_selection``'s."""

from . import cross_validate, train_test_split

__all__ = ["train_test_split", "cross_validate"]
