#!/usr/bin/env bash
# Online Retail with repeat purchases (issue 4): time cut 2011-11-09, --repeats (items a customer
# bought before the cut stay candidates and count when bought again). Every model is tuned on a
# validation period cut from the training part only (events from 2011-10-09 up to the cut are the
# validation test, the earlier ones its training data), by NDCG@10; the winner is then refitted on
# everything before the cut and scored once on the test period. One table: test NDCG@10, P@10, R@10
# and the fit time of the final model.
#
#   cargo build --release -p daogou       # or: BUILD=1 bench/run_retail_repeats.sh
#   bench/run_retail_repeats.sh           # MODELS="buy-again als" to run some models only
#
# The data is read from $DAOGOU_DATASETS/online-retail/online_retail.csv.gz (default
# ../shared/datasets beside the repository). Results: bench/out/retail_repeats/{NAME.json,result.md}.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
cd "$REPO_ROOT"

DATASETS="${DAOGOU_DATASETS:-$REPO_ROOT/../shared/datasets}"
DATA="$DATASETS/online-retail/online_retail.csv.gz"
[ -f "$DATA" ] || { echo "SKIPPED: $DATA not found (set DAOGOU_DATASETS)"; exit 0; }
DAOGOU_BIN="${DAOGOU_BIN:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/daogou}"
if [ "${BUILD:-0}" = 1 ]; then
  echo "+ cargo build --release -p daogou"
  cargo build --release -p daogou
fi
[ -x "$DAOGOU_BIN" ] || { echo "error: daogou binary not found at $DAOGOU_BIN; build it: cargo build --release -p daogou (or BUILD=1 $0), or set DAOGOU_BIN" >&2; exit 1; }
command -v jq >/dev/null || { echo "error: jq is needed to read daogou's JSON" >&2; exit 1; }

CUT=2011-11-09
VALIDATION=2011-10-09
OUTDIR="$BENCH_DIR/out/retail_repeats"
mkdir -p "$OUTDIR"

# The models and their grids (small: the whole run takes a few minutes on 2 cores). A model with
# an empty grid has nothing to tune and is evaluated directly. Add a model by adding a line.
GRIDS=(
  "buy-again|--grid recency=0,0.25,0.5,0.75,1 --grid half_life=14,30,90,365"
  "popularity|"
  "item-knn|--grid k=10,20,50,100,200 --grid weighting=none,tfidf,bm25"
  "als|--grid factors=32,64,128 --grid regularization=1,5,20,80 --grid alpha=1,4,16"
  "ease|--grid lambda=30,100,300,1000,3000 --grid binary=true,false"
  # the deep next-basket model (crates/nn); each fit takes minutes, so the grid is small
  "sequential|--set dims=32 --set max_len=20 --set patience=0 --set epochs=8 --grid horizon=0,30"
)
SELECTED="${MODELS:-}"

COMMON=(--data "$DATA" --format online-retail --repeats --json)
rows=()
for entry in "${GRIDS[@]}"; do
  name="${entry%%|*}"
  grid="${entry#*|}"
  if [ -n "$SELECTED" ] && [[ " $SELECTED " != *" $name "* ]]; then continue; fi
  out="$OUTDIR/$name.json"
  started=$(date +%s.%N)
  if [ -z "$grid" ]; then
    echo "+ daogou evaluate --model $name (nothing to tune)" >&2
    "$DAOGOU_BIN" evaluate "${COMMON[@]}" --split "time:$CUT" --model "$name" \
      | jq '{model, best: {params: .params, metric: null}, test: .}' > "$out"
  else
    echo "+ daogou tune --model $name $grid" >&2
    # shellcheck disable=SC2086  # the grid is a list of flags
    "$DAOGOU_BIN" tune "${COMMON[@]}" --split "time:$CUT" --validation "time:$VALIDATION" --model "$name" $grid > "$out"
  fi
  wall=$(echo "$(date +%s.%N) - $started" | bc)
  rows+=("$(jq -r --arg wall "$wall" '[.model,
      (.best.params | to_entries | map("\(.key)=\(.value)") | join(" ") | if . == "" then "–" else . end),
      (if .best.metric == null then "–" else (.best.metric * 10000 | round / 10000 | tostring) end),
      (.test["ndcg@10"] * 10000 | round / 10000), (.test["precision@10"] * 10000 | round / 10000),
      (.test["recall@10"] * 10000 | round / 10000), (.test.fit_seconds * 100 | round / 100),
      ($wall | tonumber * 10 | round / 10), .test.users_evaluated] | map(tostring) | join(" | ")' "$out")")
done

{
  echo "Online Retail, time cut $CUT, --repeats; tuned by NDCG@10 on $VALIDATION..$CUT (training part only), scored once on the test period"
  echo
  echo "| model | chosen setting | validation NDCG@10 | test NDCG@10 | P@10 | R@10 | fit (s) | tune+test wall (s) | users |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do echo "| $r |"; done
} | tee "$OUTDIR/result.md"
