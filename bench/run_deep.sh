#!/usr/bin/env bash
# The deep models (crates/nn) against daogou's non-neural models, release build, one table.
#
# 1. MovieLens 100k, the given split u1.base / u1.test: every model fitted on u1.base and scored
#    on u1.test (all items ranked, every test rating relevant). Each deep model is trained twice
#    with the same seed: the two runs must give identical metrics (checked, printed). The bar is
#    a fit under 60 s on this 2-core machine.
# 2. Cold items, on two demo shops (`daogou demo`: categories, brands, prices, review counts,
#    bilingual titles) and on Online Retail: `--split cold-items:0.1` holds a seeded 10% of the
#    items out of training; the `cold` object scores the cold items only (candidates and relevant
#    items). The bar: two-tower recall@10 on cold items above zero and above category-popularity.
#
#   cargo build --release -p daogou       # or: BUILD=1 bench/run_deep.sh
#   bench/run_deep.sh                     # DEEP="ncf two-tower" BASE="als ease item-knn" to choose
#
# Data: $DAOGOU_DATASETS/ml-100k (default ../shared/datasets beside the repository).
# Results: bench/out/deep/{*.json,result.md}.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO_ROOT"

DATASETS="${DAOGOU_DATASETS:-$REPO_ROOT/../shared/datasets}"
ML="$DATASETS/ml-100k"
DAOGOU_BIN="${DAOGOU_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/daogou}"
if [ "${BUILD:-0}" = 1 ]; then
  echo "+ cargo build --release -p daogou"
  cargo build --release -p daogou
fi
[ -x "$DAOGOU_BIN" ] || { echo "error: daogou binary not found at $DAOGOU_BIN; build it: cargo build --release -p daogou (or BUILD=1 $0), or set DAOGOU_BIN" >&2; exit 1; }
command -v jq >/dev/null || { echo "error: jq is needed to read daogou's JSON" >&2; exit 1; }

DEEP="${DEEP:-ncf two-tower}"
BASE="${BASE:-popularity item-knn als ease}"
OUTDIR="$BENCH_DIR/out/deep"
mkdir -p "$OUTDIR"

metrics='[.["ndcg@10"], .["precision@10"], .["recall@10"], .["hit_rate@10"]] | map(. * 10000 | round / 10000)'
row() { # name run-label json
  jq -r --arg name "$1" --arg run "$2" "[\$name, \$run] + ($metrics) + [(.fit_seconds * 10 | round / 10)] | map(tostring) | join(\" | \")" "$3"
}

rows=()
same=()
if [ -f "$ML/u1.base" ]; then
  ML_ARGS=(--train "$ML/u1.base" --test "$ML/u1.test" --format movielens --json)
  for m in $BASE; do
    echo "+ daogou evaluate --model $m (MovieLens u1)" >&2
    "$DAOGOU_BIN" evaluate "${ML_ARGS[@]}" --model "$m" > "$OUTDIR/ml_$m.json"
    rows+=("$(row "$m" "" "$OUTDIR/ml_$m.json")")
  done
  for m in $DEEP; do
    for run in 1 2; do
      echo "+ daogou evaluate --model $m --set seed=42 (MovieLens u1, run $run)" >&2
      "$DAOGOU_BIN" evaluate "${ML_ARGS[@]}" --model "$m" --set seed=42 > "$OUTDIR/ml_${m}_$run.json"
      rows+=("$(row "$m" "seed 42, run $run" "$OUTDIR/ml_${m}_$run.json")")
    done
    if [ "$(jq -c "$metrics" "$OUTDIR/ml_${m}_1.json")" = "$(jq -c "$metrics" "$OUTDIR/ml_${m}_2.json")" ]; then
      same+=("$m: identical metrics in both runs")
    else
      same+=("$m: METRICS DIFFER between runs with the same seed")
    fi
  done
else
  echo "SKIPPED: MovieLens ($ML/u1.base not found; set DAOGOU_DATASETS)" >&2
fi

# Cold items: three shops, each with --split cold-items:0.1 (a seeded 10% of the items held out
# of training; `cold` scores those items only, as candidates and as relevant items).
#  * demo: the default demo shop (800 users, 600 items: about one cold item per subcategory,
#    so the category decides nearly everything);
#  * demo-large: a larger demo shop (4000 users, 3000 items: about five cold items per
#    subcategory, so price, brand and reviews matter too);
#  * online-retail: the real UCI shop; its catalogue has titles and prices only, no category.
# two-tower runs with and without its numeric-attribute input (review score and count in the
# demo shops), to show what each part of the item tower brings.
DB="$OUTDIR/demo.db"
echo "+ daogou demo --db $DB (the generated shop)" >&2
"$DAOGOU_BIN" demo --db "$DB" > "$OUTDIR/demo.txt"
LARGE="$OUTDIR/demo_large.db"
echo "+ daogou demo --db $LARGE --users 4000 --items 3000" >&2
"$DAOGOU_BIN" demo --db "$LARGE" --users 4000 --items 3000 --show 0 > "$OUTDIR/demo_large.txt"
RETAIL="$DATASETS/online-retail/online_retail.csv.gz"
SHOPS=("demo|--db $DB" "demo-large|--db $LARGE")
if [ -f "$RETAIL" ]; then
  SHOPS+=("online-retail|--data $RETAIL --format online-retail")
else
  echo "SKIPPED: Online Retail ($RETAIL not found; set DAOGOU_DATASETS)" >&2
fi
COLD_MODELS=("popularity|" "category-popularity|" "item-knn|" "two-tower|" "two-tower|--set numeric_attributes=false")
cold_rows=()
for shop in "${SHOPS[@]}"; do
  label="${shop%%|*}"
  read -r -a data_args <<< "${shop#*|}"
  for entry in "${COLD_MODELS[@]}"; do
    m="${entry%%|*}"
    read -r -a extra <<< "${entry#*|}"
    tag="$m${extra[*]:+ ${extra[*]}}"
    file="$OUTDIR/cold_${label}_$(echo "$tag" | tr -c 'a-z0-9\n' '_').json"
    echo "+ daogou evaluate ($label) --split cold-items:0.1 --model $tag" >&2
    "$DAOGOU_BIN" evaluate "${data_args[@]}" --split cold-items:0.1 --model "$m" "${extra[@]}" --json 2>/dev/null > "$file"
    cold_rows+=("$(jq -r --arg shop "$label" --arg name "$tag" '[$shop, $name,
        (.cold["recall@10"], .cold["ndcg@10"], .warm["recall@10"], .warm["ndcg@10"] | . * 10000 | round / 10000),
        (.fit_seconds * 10 | round / 10), .cold.items, .cold.users_evaluated] | map(tostring) | join(" | ")' "$file")")
  done
done

{
  echo "MovieLens 100k u1.base → u1.test (all items ranked, every test rating relevant), release build, $(nproc) cores"
  echo
  echo "| model | run | NDCG@10 | P@10 | R@10 | hit@10 | fit (s) |"
  echo "|---|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do echo "| $r |"; done
  echo
  for s in "${same[@]}"; do echo "* $s"; done
  echo
  echo "--split cold-items:0.1 (cold: candidates and relevant items are the held-out items only)"
  echo
  echo "| shop | model | cold R@10 | cold NDCG@10 | warm R@10 | warm NDCG@10 | fit (s) | cold items | cold users |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for r in "${cold_rows[@]}"; do echo "| $r |"; done
} | tee "$OUTDIR/result.md"
