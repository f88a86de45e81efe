"""Parquet round trip with another reader: pyarrow writes the shop's events and catalogue the
way a data team's pandas/Spark job would, daogou imports them, and pyarrow reads back the
recommendations that `daogou recommend --all-users --out FILE.parquet` wrote.

    python bench/parquet_roundtrip.py write DIR   # DIR/events.parquet, DIR/items.parquet
    python bench/parquet_roundtrip.py read DIR    # print DIR/recs.parquet, compare with DIR/recs.csv

Driven by bench/parquet_roundtrip.sh; crates/python/tests/test_parquet.py runs the same round
trip in the Python CI step.
"""
import random
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

USERS, ITEMS, EVENTS_PER_USER = 2000, 300, 15


def write(out: Path) -> None:
    rng = random.Random(7)
    customer, sku, qty, ts, event = [], [], [], [], []
    t0 = 1_700_000_000_000  # ms
    for u in range(USERS):
        taste = u % 6  # six taste groups, 50 products each
        for k in range(EVENTS_PER_USER):
            item = taste * 50 + rng.randrange(50) if rng.random() < 0.8 else rng.randrange(ITEMS)
            customer.append(100_000 + u)
            sku.append(f"SKU{item:04d}")
            qty.append(rng.choice([1, 1, 1, 2, 3]))
            ts.append(t0 + (u * EVENTS_PER_USER + k) * 60_000)
            event.append("purchase" if rng.random() < 0.3 else "view")
    events = pa.table(
        {
            "customer_id": pa.array(customer, pa.int64()),
            "sku": pa.array(sku, pa.string()).dictionary_encode(),  # as pandas writes a categorical
            "quantity": pa.array(qty, pa.int32()),
            "event_time": pa.array(ts, pa.timestamp("ms", tz="UTC")),
            "event_type": pa.array(event, pa.string()),
        }
    )
    pq.write_table(events, out / "events.parquet", row_group_size=10_000, compression="zstd")
    items = pa.table(
        {
            "id": [f"SKU{i:04d}" for i in range(ITEMS)],
            "title": [f"Product {i}" for i in range(ITEMS)],
            "category": pa.array([f"Group {i // 50}" for i in range(ITEMS)]).dictionary_encode(),
            "price": pa.array([round(2.5 + (i * 37 % 200) / 4, 2) for i in range(ITEMS)], pa.float64()),
            "stock": pa.array([None if i % 10 == 0 else 5 + i % 20 for i in range(ITEMS)], pa.int64()),
            "available": pa.array([i % 97 != 0 for i in range(ITEMS)], pa.bool_()),
        }
    )
    pq.write_table(items, out / "items.parquet", row_group_size=128)
    print(f"pyarrow {pa.__version__} wrote {events.num_rows} events ({pq.ParquetFile(out / 'events.parquet').num_row_groups} row groups, zstd) "
          f"and {items.num_rows} items to {out}")


def tables(out: Path):
    """(recs.parquet as pyarrow reads it, recs.csv read with the Parquet file's column types).

    The Parquet columns are declared non-null and CSV columns read as nullable, so the CSV
    table is cast to the Parquet schema (the cast fails on a null) before comparing."""
    table = pq.read_table(out / "recs.parquet")
    csv = pacsv.read_csv(out / "recs.csv", convert_options=pacsv.ConvertOptions(
        column_types={"user": pa.string(), "rank": pa.uint32(), "item": pa.string(), "score": pa.float32()}))
    return table, csv.cast(table.schema)


def read(out: Path) -> int:
    md = pq.ParquetFile(out / "recs.parquet").metadata
    print(f"recs.parquet: {md.num_rows} rows, {md.num_row_groups} row group(s), written by {md.created_by!r}")
    table, csv = tables(out)
    print("schema:", table.schema)
    print(table.slice(0, 12).to_pandas().to_string(index=False) if _has_pandas() else table.slice(0, 12))
    users = table.column("user").unique()
    ranks = table.column("rank").to_pylist()
    print(f"{len(users)} users; ranks {min(ranks)}..{max(ranks)}")
    same = csv.equals(table)
    print(f"identical to recs.csv (same rows, order and values): {same}")
    return 0 if same else 1


def _has_pandas() -> bool:
    try:
        import pandas  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    cmd, out = sys.argv[1], Path(sys.argv[2])
    if cmd == "write":
        write(out)
    else:
        sys.exit(read(out))
