"""``train_test_split``, as ``surprise.model_selection``'s."""

from . import train_test_split

__all__ = ["train_test_split"]
