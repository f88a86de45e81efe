"""The Python package gives the command line's numbers: every registered model evaluated on
the same file, split and seed has the same metrics to the last digit (timings aside)."""

import datetime
import json
import random

import numpy as np
import pandas as pd
import pytest

import daogou

SEED = 7
TIMINGS = ("fit_seconds", "eval_seconds")


def without_timings(report):
    return {k: v for k, v in report.items() if k not in TIMINGS}


# The deep models train fewer epochs here, in both front ends: the test is about the same
# pipeline giving the same numbers, and their defaults took 2 of this suite's 2.3 minutes
# (two-tower 64 s, sequential 45 s, ncf 16 s with the debug binary).
QUICK = {"ncf": {"epochs": 2}, "two-tower": {"epochs": 2}, "sequential": {"epochs": 1}}


@pytest.mark.parametrize("name", [m["name"] for m in daogou.models()])
def test_every_model_has_the_command_lines_metrics(name, cli, ml_small):
    params = QUICK.get(name, {})
    sets = [a for k, v in params.items() for a in ("--set", f"{k}={v}")]
    args = ["evaluate", "--data", ml_small, "--format", "movielens", "--split", "random:0.2",
            "--seed", SEED, "--model", name, *sets, "--json"]
    out = cli.run(*args, check=False)
    train, test = daogou.split(daogou.load(ml_small, format="movielens"), "random:0.2", seed=SEED)
    model = daogou.Model(name, num_threads=1, **params)
    if out.returncode != 0:
        # a model the command line refuses on this data is refused with the same message
        with pytest.raises(daogou.DaogouError) as e:
            daogou.evaluate(model, train, test, seed=SEED)
        assert out.stderr.strip() == f"error: {e.value}"
        return
    expected = json.loads(out.stdout)
    got = daogou.evaluate(model, train, test, seed=SEED)
    assert set(got) == set(expected)
    assert without_timings(got) == without_timings(expected)
    assert got["users_evaluated"] > 0


@pytest.mark.parametrize("name", ["item-knn", "svd"])
def test_a_dataframe_of_the_file_is_the_same_data(name, cli, ml_small):
    df = pd.read_csv(ml_small, sep="\t", names=["user", "item", "rating", "ts"])
    data = daogou.from_pandas(df, user="user", item="item", value="rating", timestamp="ts")
    assert data.explicit and len(data) == len(df)
    train, test = daogou.split(data, "random:0.2", seed=SEED)
    expected = cli.json("evaluate", "--data", ml_small, "--format", "movielens", "--split", "random:0.2",
                        "--seed", SEED, "--model", name, "--json")
    got = daogou.evaluate(daogou.Model(name, num_threads=1), train, test, seed=SEED)
    assert without_timings(got) == without_timings(expected)


def test_tune_chooses_and_scores_as_the_command_line(cli, ml_small):
    expected = cli.json("tune", "--data", ml_small, "--format", "movielens", "--model", "user-knn",
                        "--grid", "k=10,30", "--split", "random:0.2", "--seed", SEED, "--json")
    train, test = daogou.split(daogou.load(ml_small, format="movielens"), "random:0.2", seed=SEED)
    got = daogou.tune(daogou.Model("user-knn", num_threads=1), train, {"k": [10, 30]}, test=test, seed=SEED)

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if "seconds" not in k}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    assert got["settings_tried"] == 2
    assert strip(got) == strip(expected)


def test_folds_are_the_command_lines(cli, ml_small):
    expected = cli.json("evaluate", "--data", ml_small, "--format", "movielens", "--folds", 3, "--seed", SEED,
                        "--model", "item-knn", "--json")
    reports = [daogou.evaluate(daogou.Model("item-knn"), tr, te, seed=SEED)
               for tr, te in daogou.folds(daogou.load(ml_small, format="movielens"), 3, seed=SEED)]
    assert len(reports) == 3
    # the command line prints the mean of the folds
    assert "precision@10" in expected and "ndcg@10" in expected
    for key in [k for k in ("precision@10", "ndcg@10", "rmse") if k in expected]:
        assert sum(r[key] for r in reports) / 3 == pytest.approx(expected[key], rel=1e-12, abs=0)


@pytest.mark.parametrize("name", ["item-knn", "svd"])
def test_a_time_split_is_the_command_lines(name, cli, ml_small):
    cut = "1998-01-01"
    train, test = daogou.split(daogou.load(ml_small, format="movielens"), f"time:{cut}")
    at = int(datetime.datetime(1998, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    assert len(train) > 1000 and len(test) > 1000 and len(train) + len(test) == 6000
    assert (train.columns()["timestamp"] < at).all() and (test.columns()["timestamp"] >= at).all()
    expected = cli.json("evaluate", "--data", ml_small, "--format", "movielens", "--split", f"time:{cut}",
                        "--model", name, "--json")
    got = daogou.evaluate(daogou.Model(name, num_threads=1), train, test)
    assert without_timings(got) == without_timings(expected)


def shop_csv(path):
    """Events of 80 shoppers on 48 products of two brands in three categories, with prices."""
    rng = random.Random(11)
    categories = ["Home/Kitchen", "Home/Garden", "Toys"]
    lines = ["user,item,timestamp,kind,title,category,brand,price"]
    for u in range(80):
        taste = u % 3
        for k in range(8):
            i = taste * 16 + rng.randrange(16) if rng.random() < 0.7 else rng.randrange(48)
            kind = "purchase" if rng.random() < 0.4 else "view"
            lines.append(f"u{u},p{i},{1_700_000_000 + u * 100 + k},{kind},Product {i},{categories[i // 16]},"
                         f"{'Acme' if i % 2 else 'Globex'},{5 + (i * 7) % 40}.50")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("flags", [
    {"category": "Home"},
    {"category": "Home/Garden", "brand": "Acme"},
    {"min_price": 10.0, "max_price": 25.0},
    {"brand": "Globex", "max_price": 30.0, "exclude": ["p1", "p3"]},
])
def test_recommend_with_filters_is_the_command_lines(flags, cli, tmp_path):
    shop = shop_csv(tmp_path / "shop.csv")
    db, model_file = tmp_path / "shop.db", tmp_path / "shop.daogou"
    cli.run("import", shop, "--db", db, "--strict")
    model = daogou.Model("item-knn", num_threads=1).fit(daogou.load(shop))
    model.save(model_file)
    args = []
    for key, value in flags.items():
        args += [f"--{key.replace('_', '-')}", ",".join(value) if isinstance(value, list) else value]
    catalogue = {f"p{i}": (["Home/Kitchen", "Home/Garden", "Toys"][i // 16], "Acme" if i % 2 else "Globex",
                           5 + (i * 7) % 40 + 0.5) for i in range(48)}
    listed = 0
    for user in ("u0", "u1", "u2", "u40"):
        ids, scores = model.recommend(user, n=5, **flags)
        got = cli.json("recommend", "--db", db, "--model", model_file, "--user", user, "-n", 5, *args, "--json")
        expected = [x["item"] for x in got["items"]]
        kept = [str(i) for i in ids if i is not None]
        assert kept == expected, (user, flags)
        assert np.allclose(scores[: len(kept)], [x["score"] for x in got["items"]], rtol=0, atol=1e-6)
        for item in kept:  # and the filters hold
            category, brand, price = catalogue[item]
            assert category.startswith(flags.get("category", "")) and brand == flags.get("brand", brand)
            assert flags.get("min_price", 0) <= price <= flags.get("max_price", 1e9)
            assert item not in flags.get("exclude", [])
        listed += len(kept)
    assert listed > 0, "the filters leave something to recommend"
