#!/usr/bin/env python3
"""Generate the synthetic scale case for daogou's user-kNN benchmark, and show why the dense
tutorial approach cannot run on it.

  200,000 users x 50,000 items, ~5,000,000 explicit ratings 1..5, written to
  bench/out/scale/ratings.csv with header  user,item,value,timestamp  (ids are integers
  1..n; timestamps are Unix seconds). Deterministic for a given --seed (default 42).

Model (all vectorised numpy, a few seconds):
  * item popularity: Zipf-like, p(item of rank r) ~ 1/(r + 10)^1.0, ranks shuffled over ids;
  * user activity: long-tailed, lognormal number of ratings (median ~12, sigma 1.1),
    at least 1, at most 2,000, rescaled so the total is ~5M; a user's items are drawn from
    the popularity distribution without repetition (duplicates re-drawn for a few rounds);
  * value = round(clip(3.25 + b_u + b_i + p_u.q_i + noise, 1, 5)) with
    b_u ~ N(0, 0.45), b_i ~ N(0, 0.35) + 0.15 * (standardised log popularity),
    p_u, q_i ~ N(0, 0.5^2 I_8) (latent taste, so neighbours carry signal), noise ~ N(0, 0.75);
  * timestamp: each user starts at a uniform time in 2015..2020 and rates over ~120 days.

Dense memory: the tutorial's user-based CF needs the zero-filled user x item float64 matrix
(200k x 50k x 8 B = 80 GB), the same-size ratings_diff and prediction matrices, and the
user x user similarity (200k^2 x 8 B = 320 GB). The guarded attempt computes what it would
allocate, compares with MemAvailable, and refuses instead of allocating (np.zeros would often
"succeed" lazily thanks to overcommit and then die at first touch).

Usage:  bench/.venv/bin/python bench/gen_scale.py [--out bench/out/scale/ratings.csv] [--seed 42]
        [--users 200000] [--items 50000] [--ratings 5000000] [--force] [--dense-check-only]
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

GB = 1e9
GiB = 1024**3


def mem_available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def dense_requirements(n_users: int, n_items: int, itemsize: int = 8) -> dict:
    r = n_users * n_items * itemsize
    s = n_users * n_users * itemsize
    return {
        "rating_matrix_bytes": r,  # R, zero-filled
        "ratings_diff_bytes": r,  # R - mean
        "prediction_bytes": r,  # mean + sim.dot(diff) / norm
        "user_user_similarity_bytes": s,
        # R, sim, ratings_diff and the dot product's result are alive together at the peak
        "peak_bytes_at_least": 3 * r + s,
    }


def dense_tutorial_guarded(n_users: int, n_items: int) -> dict:
    """What the dense tutorial would allocate; refuses when it cannot fit (it never allocates
    here: this function only reports)."""
    req = dense_requirements(n_users, n_items)
    avail = mem_available_bytes()
    print(f"dense tutorial approach on {n_users:,} users x {n_items:,} items (float64):")
    print(f"  rating matrix R (zero-filled)       {req['rating_matrix_bytes'] / GB:8.1f} GB ({req['rating_matrix_bytes'] / GiB:.1f} GiB)")
    print(f"  ratings_diff (same shape)           {req['ratings_diff_bytes'] / GB:8.1f} GB")
    print(f"  prediction matrix (same shape)      {req['prediction_bytes'] / GB:8.1f} GB")
    print(f"  user x user cosine similarity       {req['user_user_similarity_bytes'] / GB:8.1f} GB ({req['user_user_similarity_bytes'] / GiB:.1f} GiB)")
    print(f"  peak, at least (R + diff + sim + pred) {req['peak_bytes_at_least'] / GB:5.1f} GB")
    if avail is not None:
        print(f"  MemAvailable on this machine        {avail / GB:8.1f} GB")
    fits = avail is not None and req["peak_bytes_at_least"] <= avail
    if fits:
        print("  -> would fit in memory (not attempted here: this script only reports).")
    else:
        try:
            raise MemoryError(
                f"dense user-based CF needs >= {req['peak_bytes_at_least'] / GB:.0f} GB "
                f"(rating matrix {req['rating_matrix_bytes'] / GB:.0f} GB, similarity "
                f"{req['user_user_similarity_bytes'] / GB:.0f} GB); only "
                f"{(avail or 0) / GB:.1f} GB available"
            )
        except MemoryError as e:
            print(f"  -> refused before allocating: MemoryError: {e}")
    return {**req, "mem_available_bytes": avail, "fits": fits}


def generate(n_users: int, n_items: int, n_ratings: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    # item popularity (Zipf-like over shuffled ids)
    ranks = rng.permutation(n_items)  # ranks[item] = popularity rank of item
    pop = 1.0 / (ranks + 10.0) ** 1.0
    pop /= pop.sum()
    cdf = np.cumsum(pop)
    cdf[-1] = 1.0

    # user activity: lognormal, >= 1, <= 2000, scaled to ~n_ratings total
    raw = rng.lognormal(mean=np.log(12.0), sigma=1.1, size=n_users)
    counts = np.clip(np.rint(raw * (n_ratings / raw.sum())), 1, 2000).astype(np.int64)

    # draw items per user, re-draw duplicates a few rounds
    key = np.empty(0, dtype=np.int64)
    need = counts.copy()
    for _ in range(8):
        total = int(need.sum())
        if total == 0:
            break
        u = np.repeat(np.arange(n_users, dtype=np.int64), need)
        it = np.searchsorted(cdf, rng.random(total), side="right").astype(np.int64)
        key = np.sort(np.concatenate([key, u * n_items + it]))  # np.unique is slow here (numpy 2.x hash path)
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
        have = np.bincount(key // n_items, minlength=n_users)
        need = np.maximum(counts - have, 0)
    users = key // n_items
    items = key % n_items
    n = len(key)

    # values: global mean + biases + latent taste + noise
    dim = 8
    b_u = rng.normal(0.0, 0.45, n_users)
    logpop = np.log(pop)
    b_i = rng.normal(0.0, 0.35, n_items) + 0.15 * (logpop - logpop.mean()) / logpop.std()
    P = rng.normal(0.0, 0.5, (n_users, dim)).astype(np.float32)
    Q = rng.normal(0.0, 0.5, (n_items, dim)).astype(np.float32)
    values = np.empty(n, dtype=np.int8)
    chunk = 1_000_000
    for s in range(0, n, chunk):
        uu, ii = users[s : s + chunk], items[s : s + chunk]
        x = 3.25 + b_u[uu] + b_i[ii] + np.einsum("ij,ij->i", P[uu], Q[ii]) + rng.normal(0.0, 0.75, len(uu))
        values[s : s + chunk] = np.clip(np.rint(x), 1, 5).astype(np.int8)

    # timestamps: per-user start in 2015..2020, ratings spread over ~120 days
    start = rng.integers(1_420_070_400, 1_577_836_800, n_users)
    ts = start[users] + rng.integers(0, 120 * 86_400, n)

    return {"user": users + 1, "item": items + 1, "value": values, "timestamp": ts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(OUT_DIR / "scale" / "ratings.csv"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--ratings", type=int, default=5_000_000)
    ap.add_argument("--force", action="store_true", help="regenerate even if the file exists")
    ap.add_argument("--dense-check-only", action="store_true", help="only print the dense memory requirement")
    a = ap.parse_args()

    dense = dense_tutorial_guarded(a.users, a.items)
    print()
    out = Path(a.out)
    meta_path = out.with_name("meta.json")
    if a.dense_check_only:
        return
    if out.exists() and not a.force:
        print(f"{out} exists (use --force to regenerate)")
        return

    t0 = time.perf_counter()
    d = generate(a.users, a.items, a.ratings, a.seed)
    t1 = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    tmp = out.with_suffix(".csv.tmp")
    pd.DataFrame(d).to_csv(tmp, index=False)
    tmp.replace(out)
    t2 = time.perf_counter()

    n = len(d["value"])
    per_user = np.bincount(d["user"], minlength=a.users + 1)[1:]
    per_item = np.bincount(d["item"], minlength=a.items + 1)[1:]
    n_u = int((per_user > 0).sum())
    n_i = int((per_item > 0).sum())
    hist = np.bincount(d["value"], minlength=6)[1:]
    stats = {
        "seed": a.seed,
        "n_ratings": n,
        "n_users_declared": a.users,
        "n_items_declared": a.items,
        "n_users_with_ratings": n_u,
        "n_items_with_ratings": n_i,
        "density": n / (a.users * a.items),
        "mean_value": float(d["value"].mean()),
        "value_histogram_1_to_5": hist.tolist(),
        "ratings_per_user": {"median": float(np.median(per_user)), "p99": float(np.percentile(per_user, 99)), "max": int(per_user.max())},
        "ratings_per_item": {"median": float(np.median(per_item)), "p99": float(np.percentile(per_item, 99)), "max": int(per_item.max())},
        "generate_seconds": t1 - t0,
        "write_seconds": t2 - t1,
        "file_bytes": out.stat().st_size,
        "dense_tutorial": dense,
    }
    meta_path.write_text(json.dumps(stats, indent=2))
    print(f"wrote {out}: {n:,} ratings, {n_u:,} users, {n_i:,} items with ratings, density {stats['density']:.2e}, "
          f"{stats['file_bytes'] / 1e6:.0f} MB ({t1 - t0:.1f}s generate, {t2 - t1:.1f}s write)")
    print(f"  mean value {stats['mean_value']:.3f}, histogram 1..5 {hist.tolist()}")
    print(f"  per user median {stats['ratings_per_user']['median']:.0f} / p99 {stats['ratings_per_user']['p99']:.0f} / max {stats['ratings_per_user']['max']}; "
          f"per item median {stats['ratings_per_item']['median']:.0f} / p99 {stats['ratings_per_item']['p99']:.0f} / max {stats['ratings_per_item']['max']}")
    print(f"  stats in {meta_path}")


if __name__ == "__main__":
    main()
