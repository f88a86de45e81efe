#!/usr/bin/env python3
"""Generate the implicit-feedback scale case for the ALS benchmark (bench/run_scale_als.sh).

  100,000 users x 50,000 items, 10,000,000 distinct (user, item) interactions, written as CSV
  with header  user,item,value  (integer ids 1..n; value = purchase count 1..9).
  Deterministic for a given --seed (default 42).

Model (vectorised numpy):
  * item popularity: Zipf-like, p(item of rank r) ~ 1/(r + 10)^1.0, ranks shuffled over ids;
  * user activity: long-tailed, lognormal (median ~40, sigma 1.0), at least 1 and at most
    5,000 items, rescaled so that the total is the requested count; a user's items are drawn
    from the popularity distribution without repetition (duplicates re-drawn for a few rounds,
    then the shortfall is topped up with extra draws from random users until the total is
    exact);
  * value: Geometric(0.6) on 1, 2, ..., capped at 9 (60 % of pairs bought once).

Usage:  bench/.venv/bin/python bench/gen_scale_implicit.py [--out bench/out/scale_implicit/interactions.csv]
        [--users 100000] [--items 50000] [--interactions 10000000] [--seed 42]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT_DIR  # noqa: E402


def dedupe(key: np.ndarray) -> np.ndarray:
    key = np.sort(key)
    return key[np.concatenate(([True], key[1:] != key[:-1]))]


def generate(n_users: int, n_items: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ranks = rng.permutation(n_items)
    pop = 1.0 / (ranks + 10.0)
    pop /= pop.sum()
    cdf = np.cumsum(pop)
    cdf[-1] = 1.0

    raw = rng.lognormal(mean=np.log(40.0), sigma=1.0, size=n_users)
    counts = np.clip(np.rint(raw * (n / raw.sum())), 1, min(5000, n_items)).astype(np.int64)

    key = np.empty(0, dtype=np.int64)
    need = counts.copy()
    for _ in range(8):
        total = int(need.sum())
        if total == 0:
            break
        u = np.repeat(np.arange(n_users, dtype=np.int64), need)
        it = np.searchsorted(cdf, rng.random(total), side="right").astype(np.int64)
        key = dedupe(np.concatenate([key, u * n_items + it]))
        have = np.bincount(key // n_items, minlength=n_users)
        need = np.maximum(counts - have, 0)
    # exact total: top up (or trim) with draws for random users
    while len(key) < n:
        extra = n - len(key)
        u = rng.integers(0, n_users, extra)
        it = np.searchsorted(cdf, rng.random(extra), side="right").astype(np.int64)
        key = dedupe(np.concatenate([key, u * n_items + it]))
    if len(key) > n:
        key = np.sort(rng.choice(key, n, replace=False))
    users = key // n_items
    items = key % n_items
    values = np.minimum(rng.geometric(0.6, len(key)), 9).astype(np.int8)
    return users, items, values


def write_csv(path: Path, users, items, values) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    order = np.random.default_rng(7).permutation(len(users))  # rows in random order, like a log
    with open(tmp, "w") as f:
        f.write("user,item,value\n")
        chunk = 1_000_000
        for s in range(0, len(order), chunk):
            o = order[s:s + chunk]
            block = np.column_stack([users[o] + 1, items[o] + 1, values[o]])
            np.savetxt(f, block, fmt="%d", delimiter=",")
    tmp.replace(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(OUT_DIR / "scale_implicit" / "interactions.csv"))
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--interactions", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    t = time.perf_counter()
    users, items, values = generate(a.users, a.items, a.interactions, a.seed)
    gen_s = time.perf_counter() - t
    out = Path(a.out)
    write_csv(out, users, items, values)
    item_pop = np.bincount(items, minlength=a.items)
    user_act = np.bincount(users, minlength=a.users)
    meta = {
        "users_with_data": int((user_act > 0).sum()),
        "items_with_data": int((item_pop > 0).sum()),
        "interactions": int(len(users)),
        "seed": a.seed,
        "top_1pct_items_share": float(np.sort(item_pop)[::-1][: a.items // 100].sum() / len(items)),
        "user_items_median": float(np.median(user_act)),
        "user_items_max": int(user_act.max()),
        "item_users_max": int(item_pop.max()),
        "generate_seconds": gen_s,
        "total_seconds": time.perf_counter() - t,
    }
    out.with_name(out.stem + ".meta.json").write_text(json.dumps(meta, indent=2))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.0f} MB): {json.dumps(meta)}")


if __name__ == "__main__":
    main()
