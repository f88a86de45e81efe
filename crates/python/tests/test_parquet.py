"""Parquet round trip with another reader: pyarrow writes a shop's events and catalogue, the
`daogou` binary imports them and writes every user's recommendations as Parquet, and pyarrow
reads that file back with the same rows as the CSV output (bench/parquet_roundtrip.py holds
the writer and the reader; bench/parquet_roundtrip.sh prints the same round trip)."""

import importlib.util
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
MAPPING = "user=customer_id,item=sku,value=quantity,timestamp=event_time,kind=event_type"


@pytest.fixture(scope="module")
def roundtrip():
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("pyarrow is not installed (CI=true)")
        pytest.skip("pyarrow is not installed")
    spec = importlib.util.spec_from_file_location("parquet_roundtrip", ROOT / "bench" / "parquet_roundtrip.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recommendations_in_parquet_read_back_by_pyarrow(roundtrip, cli, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    roundtrip.write(tmp_path)
    db = tmp_path / "shop.db"
    events = cli.json("import", tmp_path / "events.parquet", "--mapping", MAPPING, "--db", db, "--strict", "--json")
    items = cli.json("import", tmp_path / "items.parquet", "--db", db, "--strict", "--json")
    stats = cli.json("stats", "--db", db, "--json")
    assert stats["users"] == roundtrip.USERS and stats["items"] == roundtrip.ITEMS, (events, items, stats)
    assert stats["events"] == roundtrip.USERS * roundtrip.EVENTS_PER_USER
    for name in ("recs.parquet", "recs.csv"):
        out = cli.json("recommend", "--db", db, "--model", "item-knn", "--all-users", "-n", 10,
                       "--out", tmp_path / name, "--json")
        assert out["users"] == roundtrip.USERS

    table, csv = roundtrip.tables(tmp_path)
    assert table.schema.names == ["user", "rank", "item", "score"]
    assert [f.type for f in table.schema] == [pa.string(), pa.uint32(), pa.string(), pa.float32()]
    assert not any(f.nullable for f in table.schema), "every pick has all four values"
    assert table.equals(csv), "the Parquet file holds the CSV's rows, in order, with equal values"
    assert table.num_rows == roundtrip.USERS * 10
    assert set(table.column("user").to_pylist()) == {str(100_000 + u) for u in range(roundtrip.USERS)}
    assert set(table.column("rank").to_pylist()) == set(range(1, 11))
    # the catalogue came through: items marked unavailable are never recommended
    unavailable = {f"SKU{i:04d}" for i in range(roundtrip.ITEMS) if i % 97 == 0}
    assert not unavailable & set(table.column("item").to_pylist())
    assert pq.ParquetFile(tmp_path / "recs.parquet").metadata.num_rows == table.num_rows
