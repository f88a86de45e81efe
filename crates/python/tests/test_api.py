"""The package's calls: data in (files, DataFrames, CSR), answers as numpy, model files shared
with the command line, errors with its messages, progress, the GIL and threads."""

import json
import re
import threading
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import daogou

SEED = 7


@pytest.fixture(scope="module")
def parts(ml_small):
    return daogou.split(daogou.load(ml_small, format="movielens"), "random:0.2", seed=SEED)


def seen_by(data):
    cols = data.columns()
    users, items = np.asarray(data.user_ids()), np.asarray(data.item_ids())
    out = {}
    for u, i in zip(users[cols["user"]], items[cols["item"]]):
        out.setdefault(u, set()).add(int(i))
    return out


def test_models_lists_the_registry_with_parameters():
    names = {m["name"]: m for m in daogou.models()}
    for expected in ("als", "svd", "item-knn", "ease", "ncf", "two-tower", "ranker"):
        assert expected in names
    assert "factors" in names["als"]["params"] and "default 64" in names["als"]["params"]["factors"]


def test_recommend_returns_numpy_top_n_without_seen_items(parts):
    train, _ = parts
    m = daogou.Model("item-knn", k=30).fit(train)
    users = m.user_ids()[:5]
    ids, scores = m.recommend(users, n=10)
    assert ids.shape == (5, 10) and scores.shape == (5, 10)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    seen = seen_by(train)
    for u, row, s in zip(users, ids, scores):
        assert not (set(row.tolist()) & seen[u]), "filter_seen=True leaves out training items"
        assert np.all(np.diff(s) <= 0), "best first"
    one_ids, one_scores = m.recommend(users[0], n=10)
    assert one_ids.shape == (10,) and np.array_equal(one_ids, ids[0]) and np.array_equal(one_scores, scores[0])
    # with seen items allowed, a user's own items come back (item-knn scores them highest)
    again, _ = m.recommend(users, n=10, filter_seen=False)
    assert any(set(row.tolist()) & seen[u] for u, row in zip(users, again))
    # exclude: an item named is never listed
    top = int(ids[0][0])
    assert top not in m.recommend(users[0], n=10, exclude=[top])[0].tolist()


def test_recommend_is_the_command_lines_list(parts, cli, tmp_path):
    train, _ = parts
    m = daogou.Model("als", factors=16, iterations=5).fit(train)
    path = tmp_path / "als.daogou"
    m.save(path)
    users = m.user_ids()[:3]
    ids, scores = m.recommend(users, n=5)
    for u, row, s in zip(users, ids, scores):
        # no database: the command line answers from the model file alone
        got = cli.json("recommend", "--db", tmp_path / "none.db", "--model", path, "--user", u, "--n", 5, "--json")
        assert [int(x["item"]) for x in got["items"]] == row.tolist()
        assert np.allclose([x["score"] for x in got["items"]], s, rtol=0, atol=1e-6)


def test_model_files_are_the_command_lines_bit_for_bit(ml_small, cli, tmp_path):
    cli_file, py_file = tmp_path / "cli.daogou", tmp_path / "py.daogou"
    cli.run("train", "--data", ml_small, "--format", "movielens", "--model", "item-knn", "--set", "k=25",
            "--out", cli_file)
    daogou.Model("item-knn", k=25, num_threads=1).fit(daogou.load(ml_small, format="movielens")).save(py_file)
    a, b = cli_file.read_bytes(), py_file.read_bytes()
    assert len(a) == len(b)
    # the files differ at most in the second they were written (and so in the checksum)
    at = re.compile(rb'trained_at[\\"]*:(\d+)')
    ma, mb = at.search(a), at.search(b)
    assert ma.span() == mb.span()
    if ma.group(1) == mb.group(1):
        assert a == b
    else:
        assert a[: ma.start(1)] == b[: mb.start(1)] and a[ma.end(1) : -4] == b[mb.end(1) : -4]
    # and each side reads the other's file with the same answers
    from_cli, from_py = daogou.Model.load(cli_file), daogou.Model.load(py_file)
    users = from_cli.user_ids()[:4]
    for x, y in zip(from_cli.recommend(users, n=7), from_py.recommend(users, n=7)):
        assert np.array_equal(x, y)
    out = cli.json("recommend", "--db", tmp_path / "none.db", "--model", py_file, "--user", users[0], "--json")
    assert [int(x["item"]) for x in out["items"]] == from_cli.recommend(users[0], n=10)[0].tolist()


def test_similar_and_predict(parts):
    train, test = parts
    knn = daogou.Model("item-knn").fit(train)
    item = knn.item_ids()[0]
    ids, scores = knn.similar(item, n=5)
    assert len(ids) == 5 and int(item) not in ids.tolist() and np.all(np.diff(scores) <= 0)
    svd = daogou.Model("svd", factors=8, epochs=5).fit(train)
    cols = test.columns()
    users = np.asarray(test.user_ids())[cols["user"][:50]]
    items = np.asarray(test.item_ids())[cols["item"][:50]]
    known = [(u, i) for u, i in zip(users, items) if u in set(svd.user_ids()) and i in set(svd.item_ids())]
    u, i = zip(*known)
    many = svd.predict(list(u), list(i))
    assert many.shape == (len(known),) and np.all((many >= 1) & (many <= 5))
    assert svd.predict(u[0], i[0]) == pytest.approx(float(many[0]), abs=0)
    with pytest.raises(daogou.DaogouError, match="does not predict ratings"):
        daogou.Model("als", iterations=1).fit(train).predict(u[0], i[0])


def test_csr_in_row_and_column_numbers_out():
    rng = np.random.default_rng(0)
    dense = (rng.random((40, 30)) < 0.2).astype(np.float32)
    dense[:, 0] = 1.0  # a popular item
    m = daogou.Model("als", factors=4, iterations=3).fit(sp.csr_matrix(dense))
    ids, scores = m.recommend([0, 5], n=5)
    assert ids.dtype == np.int64 and ids.shape == (2, 5)
    for row, user in zip(ids, (0, 5)):
        assert all(0 <= i < 30 and dense[user, i] == 0 for i in row if i >= 0)


def test_errors_carry_the_command_lines_messages(tmp_path, cli):
    bad = tmp_path / "bad.data"
    bad.write_text("1\t10\t5\t881250949\n2\t20\tfive\t881250950\n")
    with pytest.raises(daogou.DaogouError) as e:
        daogou.load(bad, format="movielens", strict=True)
    assert f"{bad}:2" in str(e.value)
    out = cli.run("train", "--data", bad, "--format", "movielens", "--strict", "--model", "popularity", check=False)
    assert out.returncode != 0 and out.stderr.strip() == f"error: {e.value}"
    with pytest.raises(daogou.DaogouError, match="unknown model `nope`; available models: .*als"):
        daogou.Model("nope")
    with pytest.raises(daogou.DaogouError, match="nieghbours"):
        daogou.Model("item-knn", nieghbours=3)
    with pytest.raises(daogou.DaogouError, match="expected one of: random:FRACTION"):
        daogou.split(daogou.load(bad, format="movielens"), "sometimes")
    with pytest.raises(daogou.DaogouError, match="not fitted yet"):
        daogou.Model("als").recommend(["1"])


def test_unknown_users_and_items_are_named(parts):
    m = daogou.Model("popularity").fit(parts[0])
    with pytest.raises(daogou.DaogouError, match="user `no-such-user` is not in"):
        m.recommend("no-such-user")
    with pytest.raises(daogou.DaogouError, match="item `no-such-item` is not in"):
        m.similar("no-such-item")


def test_verbose_reports_progress_to_stderr_and_quiet_says_nothing(parts, capsys):
    train, test = parts
    daogou.evaluate(daogou.Model("item-knn"), train, test)
    assert capsys.readouterr().err == ""
    daogou.evaluate(daogou.Model("item-knn", verbose=True), train, test)
    assert "evaluating item-knn" in capsys.readouterr().err
    daogou.Model("item-knn", verbose=True).fit(train)
    assert re.search(r"fitted item-knn in [0-9.]+ s", capsys.readouterr().err)


def test_fits_release_the_gil(ml_small):
    data = daogou.load(ml_small, format="movielens")
    model = daogou.Model("als", factors=64, iterations=10, solver="cholesky", num_threads=1)
    t = threading.Thread(target=model.fit, args=(data,))
    ticks = 0
    started = time.perf_counter()
    t.start()
    while t.is_alive():
        ticks += 1
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    assert model.is_fitted
    # the main thread kept running while the fit ran: about one tick per millisecond
    assert elapsed > 0.05, "fit too short to tell"
    assert ticks > elapsed * 1000 * 0.3, (ticks, elapsed)


def test_num_threads_gives_the_same_deterministic_model(parts):
    train, _ = parts
    one = daogou.Model("als", factors=8, iterations=3, num_threads=1).fit(train)
    two = daogou.Model("als", factors=8, iterations=3, num_threads=2).fit(train)
    users = one.user_ids()[:20]
    for x, y in zip(one.recommend(users), two.recommend(users)):
        assert np.array_equal(x, y)


def test_time_splits_and_given_splits(datasets):
    base, test = datasets / "ml-100k" / "u1.base", datasets / "ml-100k" / "u1.test"
    train, held = daogou.load_split(base, test, format="movielens")
    assert len(held) == 20000 and len(train) == 80000
    assert train.n_users == held.n_users == 943
    report = daogou.evaluate(daogou.Model("popularity"), train, held)
    assert report["users_evaluated"] > 400 and 0 < report["precision@10"] < 1
    other = daogou.split(daogou.load(base, format="movielens"))[1]
    with pytest.raises(daogou.DaogouError, match="two parts of one daogou.split"):
        daogou.evaluate(daogou.Model("popularity"), train, other)


def test_dataframe_columns_kinds_and_times():
    df = pd.DataFrame({
        "customer": ["a", "a", "b", "b", "c", "c", "c"],
        "sku": [10, 11, 10, 12, 11, 12, 13],
        "what": ["purchase", "view", "purchase", "add_to_cart", "purchase", "purchase", "view"],
        "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-03", "2024-01-02",
                                "2024-01-05", "2024-01-06"]),
    })
    data = daogou.from_pandas(df, user="customer", item="sku", kind="what", timestamp="when")
    assert not data.explicit and len(data) == 7 and data.user_ids() == ["a", "b", "c"]
    cols = data.columns()
    assert cols["kind"][:2] == ["purchase", "view"]
    assert cols["timestamp"][0] == 1704067200  # 2024-01-01 UTC in unix seconds
    ids, _ = daogou.Model("item-knn").fit(data).recommend("a", n=2)
    assert ids.dtype == np.int64 and not ({10, 11} & set(ids.tolist()))
    with pytest.raises(daogou.DaogouError, match="wishlist"):
        daogou.from_pandas(df.assign(what="wishlist"), user="customer", item="sku", kind="what")
    with pytest.raises(daogou.DaogouError, match="column 'price' is not in the DataFrame"):
        daogou.from_pandas(df, user="customer", item="sku", value="price")


RETAIL_ROWS = """\
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom
536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17851,United Kingdom
536367,71053,WHITE METAL LANTERN,2,2010-12-01 08:34:00,3.39,13047,United Kingdom
536368,22633,HAND WARMER UNION JACK,1,2010-12-01 08:40:00,1.85,,United Kingdom
C536369,71053,WHITE METAL LANTERN,-1,2010-12-01 09:00:00,3.39,17850,United Kingdom
"""
RETAIL_HEADERS = {
    "online retail": "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
    "online retail II": "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country",
}


@pytest.mark.parametrize("header", list(RETAIL_HEADERS))
def test_online_retail_preset(header, tmp_path, cli):
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL_HEADERS[header] + "\n" + RETAIL_ROWS)
    with pytest.warns(UserWarning, match="skipped 1 of .*missing CustomerID: 1"):
        data = daogou.load(path, format="online-retail")
    assert not data.explicit and len(data) == 5
    assert data.user_ids() == ["17850", "17851", "13047"] and data.item_ids() == ["85123A", "71053", "22633"]
    cols = data.columns()
    assert cols["kind"] == ["purchase", "purchase", "purchase", "purchase", "return"]
    assert cols["timestamp"][0] == 1291191960  # 2010-12-01 08:26:00 UTC
    # the command line reads the same events from the same file
    db = tmp_path / "retail.db"
    cli.run("import", path, "--format", "online-retail", "--db", db)
    stats = cli.json("stats", "--db", db, "--json")
    assert (stats["users"], stats["items"], stats["events"]) == (data.n_users, data.n_items, len(data))
    assert stats["events_by_kind"] == {"purchase": 4, "return": 1}
    # ids are text (85123A is no number); the shopper's own item is left out
    ids, _ = daogou.Model("popularity").fit(data).recommend("17851", n=3)
    assert set(ids.tolist()) - {None} == {"71053", "85123A"}
