"""The Python package gives the command line's numbers: every registered model evaluated on
the same file, split and seed has the same metrics to the last digit (timings aside)."""

import json

import pandas as pd
import pytest

import daogou

SEED = 7
TIMINGS = ("fit_seconds", "eval_seconds")


def without_timings(report):
    return {k: v for k, v in report.items() if k not in TIMINGS}


@pytest.mark.parametrize("name", [m["name"] for m in daogou.models()])
def test_every_model_has_the_command_lines_metrics(name, cli, ml_small):
    args = ["evaluate", "--data", ml_small, "--format", "movielens", "--split", "random:0.2",
            "--seed", SEED, "--model", name, "--json"]
    out = cli.run(*args, check=False)
    train, test = daogou.split(daogou.load(ml_small, format="movielens"), "random:0.2", seed=SEED)
    model = daogou.Model(name, num_threads=1)
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
