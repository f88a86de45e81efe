#!/usr/bin/env bash
# The learned ranker against its generators and the one-line baselines (issue 14), every model
# with its defaults (the defaults were chosen on validation periods only, see the README):
#
#   1. Online Retail, repeats allowed, cut 2011-11-09 (validation: 2011-10-09..11-09)
#   2. Online Retail, repeats allowed, cut 2011-10-09 (validation: 2011-09-09..10-09), the
#      second test period, on which nothing was tuned
#   3. Online Retail, new items only (discovery), cut 2011-11-09
#   4. MovieLens 100k u1, implicit (ratings ≥ 4)
#
# Each retail row has a validation score (fitted on what precedes the validation date, scored
# on the month up to the cut: the data from the cut on is cut off the file first) and the test
# score (fitted on everything before the cut, scored on everything from it). RepeatPop (each
# customer's own items by distinct invoices, ties and the rest by popularity) is computed
# twice: by daogou (`buy-again --set recency=0`) and independently from the raw CSV by
# bench/repeatpop.py.
#
#   cargo build --release -p daogou       # or: BUILD=1 bench/run_ranker.sh
#   bench/run_ranker.sh                   # MODELS="repeatpop ranker" to run some models only
#                                         # TABLES="1 2" to run some tables only
# Results: bench/out/ranker/{*.json,result.md}.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO_ROOT"
DATASETS="${DAOGOU_DATASETS:-$REPO_ROOT/../shared/datasets}"
RETAIL="$DATASETS/online-retail/online_retail.csv.gz"
ML="$DATASETS/ml-100k"
[ -f "$RETAIL" ] || { echo "SKIPPED: $RETAIL not found (set DAOGOU_DATASETS)"; exit 0; }
DAOGOU_BIN="${DAOGOU_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/daogou}"
if [ "${BUILD:-0}" = 1 ]; then cargo build --release -p daogou; fi
[ -x "$DAOGOU_BIN" ] || { echo "error: build daogou first: cargo build --release -p daogou (or BUILD=1 $0)" >&2; exit 1; }
command -v jq >/dev/null || { echo "error: jq is needed to read daogou's JSON" >&2; exit 1; }

OUT="$BENCH_DIR/out/ranker"
mkdir -p "$OUT"
MODELS="${MODELS:-repeatpop buy-again popularity item-knn als ease ranker}"
TABLES="${TABLES:-1 2 3 4}"

# model name → daogou arguments
args_of() {
  case "$1" in
    repeatpop) echo "--model buy-again --set recency=0" ;;
    *) echo "--model $1" ;;
  esac
}

# the Online Retail file without the events from DAY on (the validation run's data)
before() {
  local day="$1" f="$OUT/retail_before_$1.csv.gz"
  if [ ! -f "$f" ]; then
    python3 - "$RETAIL" "$day" "$f" <<'EOF'
import csv, gzip, sys
src, day, dst = sys.argv[1:]
with gzip.open(src, "rt", encoding="utf-8", errors="replace", newline="") as i, \
     gzip.open(dst, "wt", encoding="utf-8", newline="") as o:
    r, w = csv.reader(i), csv.writer(o)
    head = next(r); w.writerow(head); d = head.index("InvoiceDate")
    for row in r:
        if row[d][:10] < day:
            w.writerow(row)
EOF
  fi
  echo "$f"
}

ndcg() { jq -r '.["ndcg@10"] * 10000 | round / 10000' "$1"; }

retail_table() { # title cut validation repeats(0/1) tag
  local title="$1" cut="$2" val="$3" rep="$4" tag="$5" valdata
  valdata="$(before "$cut")"
  local flags=(--format online-retail --json)
  [ "$rep" = 1 ] && flags+=(--repeats)
  local py=(python3 "$BENCH_DIR/repeatpop.py")
  [ "$rep" = 1 ] || py+=(--discovery)
  local rp_val rp_test
  rp_val=$("${py[@]}" --cut "$val" --end "$cut" | jq -r '.["ndcg@10"] * 10000 | round / 10000')
  rp_test=$("${py[@]}" --cut "$cut" | jq -r '.["ndcg@10"] * 10000 | round / 10000')
  {
    echo "### $title"
    echo
    echo "| model | validation NDCG@10 ($val..$cut) | test NDCG@10 (from $cut) | × RepeatPop (test) | P@10 | R@10 | fit (s) | users |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| RepeatPop (bench/repeatpop.py, from the raw CSV) | $rp_val | $rp_test | 1.000 | | | | |"
  } > "$OUT/$tag.md"
  for m in $MODELS; do
    # shellcheck disable=SC2046
    echo "+ $tag: $m" >&2
    "$DAOGOU_BIN" evaluate --data "$valdata" --split "time:$val" "${flags[@]}" $(args_of "$m") > "$OUT/$tag.$m.val.json"
    "$DAOGOU_BIN" evaluate --data "$RETAIL" --split "time:$cut" "${flags[@]}" $(args_of "$m") > "$OUT/$tag.$m.test.json"
    jq -r --arg m "$m" --arg v "$(ndcg "$OUT/$tag.$m.val.json")" --argjson rp "$rp_test" \
      '"| \($m) | \($v) | \(.["ndcg@10"] * 10000 | round / 10000) | \(.["ndcg@10"] / $rp * 1000 | round / 1000) | \(.["precision@10"] * 10000 | round / 10000) | \(.["recall@10"] * 10000 | round / 10000) | \(.fit_seconds * 10 | round / 10) | \(.users_evaluated) |"' \
      "$OUT/$tag.$m.test.json" >> "$OUT/$tag.md"
  done
  echo >> "$OUT/$tag.md"
}

ml_table() {
  [ -f "$ML/u1.base" ] || { echo "SKIPPED: $ML/u1.base not found" > "$OUT/t4.md"; return; }
  {
    echo "### MovieLens 100k u1, implicit (ratings ≥ 4)"
    echo
    echo "| model | NDCG@10 | P@10 | R@10 | fit (s) | users |"
    echo "|---|---|---|---|---|---|"
  } > "$OUT/t4.md"
  for m in $MODELS; do
    case "$m" in repeatpop | buy-again) continue ;; esac
    echo "+ t4: $m" >&2
    # shellcheck disable=SC2046
    "$DAOGOU_BIN" evaluate --train "$ML/u1.base" --test "$ML/u1.test" --format movielens \
      --positive-threshold 4 --relevance-threshold 4 --json $(args_of "$m") > "$OUT/t4.$m.json"
    jq -r --arg m "$m" '"| \($m) | \(.["ndcg@10"] * 10000 | round / 10000) | \(.["precision@10"] * 10000 | round / 10000) | \(.["recall@10"] * 10000 | round / 10000) | \(.fit_seconds * 10 | round / 10) | \(.users_evaluated) |"' \
      "$OUT/t4.$m.json" >> "$OUT/t4.md"
  done
  echo >> "$OUT/t4.md"
}

for t in $TABLES; do
  case "$t" in
    1) retail_table "Online Retail, repeats allowed, cut 2011-11-09" 2011-11-09 2011-10-09 1 t1 ;;
    2) retail_table "Online Retail, repeats allowed, cut 2011-10-09 (second test period)" 2011-10-09 2011-09-09 1 t2 ;;
    3) retail_table "Online Retail, new items only (discovery), cut 2011-11-09" 2011-11-09 2011-10-09 0 t3 ;;
    4) ml_table ;;
  esac
done
cat "$OUT"/t[1234].md 2>/dev/null | tee "$OUT/result.md"
