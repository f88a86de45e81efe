#!/usr/bin/env python3
"""RepeatPop on Online Retail, computed independently of daogou from the raw CSV (standard
library only), as the reference of the learned ranker's bars (issue 14).

RepeatPop ranks, for each customer, the items they bought before the cut by the number of
distinct invoices that hold them, ties and every other item by global popularity (distinct
customers who bought the item before the cut), then by the item's first appearance in the file.

The protocol is daogou's `evaluate --split time:CUT [--repeats] --format online-retail`:
rows without CustomerID are skipped; invoices starting with C are returns; a purchase row
needs Quantity > 0; a customer is evaluated when they have a purchase before the cut that was
not returned away (net purchases weigh more than the returns) and a purchase on or after it;
relevant = the distinct items they bought on or after the cut (with --discovery: only items
they had not bought before, and those are not ranked either). NDCG@10 with binary gains,
averaged over the customers evaluated; the whole catalogue (every StockCode in the file) is
ranked.

  python3 bench/repeatpop.py --cut 2011-11-09 [--end 2011-12-10] [--discovery] [--data FILE]

Prints one JSON object: {"cut", "users_evaluated", "ndcg@10", "precision@10"}.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
from collections import defaultdict
from pathlib import Path


def main() -> None:
    here = Path(__file__).resolve().parent
    default = Path(os.environ.get("DAOGOU_DATASETS", here.parent.parent / "shared" / "datasets"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--cut", required=True, help="YYYY-MM-DD: events from then on are the test part")
    ap.add_argument("--end", default="9999-12-31", help="YYYY-MM-DD: ignore events from then on")
    ap.add_argument("--discovery", action="store_true", help="new items only (no --repeats)")
    ap.add_argument("--data", default=str(default / "online-retail" / "online_retail.csv.gz"))
    a = ap.parse_args()

    catalogue: dict[str, int] = {}
    invoices: dict[tuple[str, str], set[str]] = defaultdict(set)  # (customer, item) → invoices
    net: dict[tuple[str, str], float] = defaultdict(float)  # returns cancel purchases (by weight)
    test: dict[str, set[str]] = defaultdict(set)
    with gzip.open(a.data, "rt", encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            code = row["StockCode"].strip()
            if code and code not in catalogue:
                catalogue[code] = len(catalogue)
            cust = row["CustomerID"].strip()
            if not cust or not code:
                continue
            cust = cust.removesuffix(".0")
            day = row["InvoiceDate"][:10]
            if day >= a.end:
                continue
            qty = float(row["Quantity"])
            ret = row["InvoiceNo"].startswith(("C", "c"))
            if qty == 0 or (not ret and qty < 0):
                continue
            # daogou's default weights: 8·(1 + ln q) for q > 1, −8·(…) for a return
            w = 8.0 * (1.0 + math.log(abs(qty))) if abs(qty) > 1 else 8.0
            if day < a.cut:
                net[(cust, code)] += -w if ret else w
                if not ret:
                    invoices[(cust, code)].add(row["InvoiceNo"])
            elif not ret:
                test[cust].add(code)

    bought: dict[str, dict[str, int]] = defaultdict(dict)
    buyers: dict[str, int] = defaultdict(int)
    for (cust, code), w in net.items():
        if w > 0:
            bought[cust][code] = len(invoices[(cust, code)])
            buyers[code] += 1
    order = sorted(catalogue, key=lambda c: (-buyers.get(c, 0), catalogue[c]))
    ndcg = prec = 0.0
    users = 0
    for cust, items in test.items():
        past = bought.get(cust)
        if not past:
            continue
        relevant = {i for i in items if not (a.discovery and i in past)}
        if not relevant:
            continue
        if a.discovery:
            ranked = [c for c in order if c not in past][:10]
        else:
            mine = sorted(past, key=lambda c: (-past[c], -buyers.get(c, 0), catalogue[c]))
            ranked = (mine + [c for c in order if c not in past])[:10]
        dcg = sum(1.0 / math.log2(r + 2) for r, c in enumerate(ranked) if c in relevant)
        idcg = sum(1.0 / math.log2(r + 2) for r in range(min(10, len(relevant))))
        ndcg += dcg / idcg
        prec += sum(c in relevant for c in ranked) / 10
        users += 1
    print(json.dumps({"cut": a.cut, "users_evaluated": users, "ndcg@10": ndcg / max(users, 1),
                      "precision@10": prec / max(users, 1)}))


if __name__ == "__main__":
    main()
