"""Adapters that let a notebook written against Surprise or implicit run on daogou with one
import changed: ``from daogou.compat import surprise`` (then ``surprise.SVD()``, …) or
``from daogou.compat import implicit`` (then ``implicit.als.AlternatingLeastSquares()``).
Each module's docstring lists exactly the calls it covers."""
