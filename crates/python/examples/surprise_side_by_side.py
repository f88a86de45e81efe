# %% [markdown]
# # Surprise and daogou side by side
#
# Surprise's getting-started code, run twice: once with `surprise`, once with
# `daogou.compat.surprise`. Only the import differs. Then the same data through daogou's own
# API, with the command line's metrics.
#
# Run as a script (`python surprise_side_by_side.py [u.data]`) or cell by cell (`# %%`).

# %%
import pathlib
import sys
import time

import daogou

path = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/ml-100k/u.data")

SNIPPET = """
from {package} import SVD, Dataset, Reader, accuracy
from {package}.model_selection import train_test_split

data = Dataset.load_from_file(path, reader=Reader("ml-100k"))
trainset, testset = train_test_split(data, test_size=0.25, random_state=0)
algo = SVD(random_state=0)
algo.fit(trainset)
predictions = algo.test(testset)
rmse = accuracy.rmse(predictions)
"""

# %%
results = {}
for package in ("surprise", "daogou.compat.surprise"):
    scope = {"path": str(path)}
    started = time.perf_counter()
    exec(SNIPPET.format(package=package), scope)
    results[package] = (scope["rmse"], time.perf_counter() - started, len(scope["predictions"]))

# %% [markdown]
# The same split with daogou's own API: every metric of `daogou evaluate --json`.

# %%
data = daogou.load(path, format="movielens")
train, test = daogou.split(data, "random:0.25", seed=0)
report = daogou.evaluate(daogou.Model("svd", factors=100, lr=0.005, reg=0.02), train, test, seed=0)
model = daogou.Model("svd").fit(train)
ids, scores = model.recommend(model.user_ids()[:3], n=5)

# %%
print(f"{'library':<24} {'RMSE':>7} {'seconds':>8} {'predictions':>12}")
for package, (rmse, seconds, n) in results.items():
    print(f"{package:<24} {rmse:>7.4f} {seconds:>8.2f} {n:>12}")
print(f"{'daogou.evaluate':<24} {report['rmse']:>7.4f} {report['fit_seconds'] + report['eval_seconds']:>8.2f}"
      f" {report['ratings_predicted']:>12}   ndcg@10 {report['ndcg@10']:.4f}")
print("top 5 of the first users:", ids.tolist())
