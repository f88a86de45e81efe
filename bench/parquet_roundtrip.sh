#!/usr/bin/env bash
# Parquet round trip against another reader (pyarrow): pyarrow writes events and a catalogue,
# `daogou import` reads them, `daogou recommend --all-users --out recs.parquet` (and .csv)
# writes the top 10 of every user, pyarrow reads the Parquet file back, prints it and checks
# that it holds exactly the CSV's rows.
#
#   bash bench/parquet_roundtrip.sh                 # debug build of the daogou binary
#   PROFILE=release bash bench/parquet_roundtrip.sh
#
# pyarrow (pinned) is installed into bench/.venv when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${PROFILE:-debug}"
VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import pyarrow" 2>/dev/null || "$VENV/bin/pip" install -q "pyarrow==26.0.1"

if [ "$PROFILE" = release ]; then cargo build --release -q -p daogou; else cargo build -q -p daogou; fi
BIN="target/$PROFILE/daogou"
OUT=bench/out/parquet_roundtrip
rm -rf "$OUT" && mkdir -p "$OUT"

"$VENV/bin/python" bench/parquet_roundtrip.py write "$OUT"
MAP="user=customer_id,item=sku,value=quantity,timestamp=event_time,kind=event_type"
"$BIN" import "$OUT/events.parquet" --mapping "$MAP" --db "$OUT/shop.db" --strict --json
"$BIN" import "$OUT/items.parquet" --db "$OUT/shop.db" --strict --json
"$BIN" stats --db "$OUT/shop.db" --json
for f in recs.parquet recs.csv; do
  RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}" "$BIN" recommend --db "$OUT/shop.db" --model item-knn \
    --all-users -n 10 --out "$OUT/$f" --json
done
"$VENV/bin/python" bench/parquet_roundtrip.py read "$OUT"
