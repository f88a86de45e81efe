"""The README's Python quick start, as a reader copies it: the code block runs in a fresh
interpreter with the installed wheel and prints recommendations and metrics."""

import ast
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]


def quick_start() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"Quick start[^\n]*\n+```python\n(.*?)```", section, re.S)
    assert m, "README.md: the Python section has no ```python block after 'Quick start'"
    return m.group(1)


def test_readme_quick_start_prints_recommendations_and_metrics(datasets):
    code = quick_start()
    # the block reads ../shared/datasets from the repository's root, as the README runs it; a
    # DAOGOU_DATASETS elsewhere takes its place (the only change made to the block)
    if (ROOT.parent / "shared" / "datasets").resolve() != datasets.resolve():
        code = code.replace("../shared/datasets", str(datasets))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, RAYON_NUM_THREADS="1"))
    assert out.returncode == 0, out.stderr
    # the recommendations: two users' top 10 item ids, then their scores (numpy's printing)
    assert out.stdout.startswith("[["), out.stdout
    ids_text, rest = out.stdout.split("]]", 1)
    ids = [int(x) for x in re.findall(r"-?\d+", ids_text)]
    assert len(ids) == 20 and -1 not in ids, out.stdout
    assert len(set(ids[:10])) == 10 and len(set(ids[10:])) == 10, out.stdout
    scores = [float(x) for x in re.findall(r"-?\d+\.\d*(?:e[-+]?\d+)?", rest.split("]]", 1)[0])]
    assert len(scores) == 20, out.stdout
    assert scores[:10] == sorted(scores[:10], reverse=True) and scores[10:] == sorted(scores[10:], reverse=True)
    # the metrics: the last line is evaluate's dictionary with the keys of evaluate --json
    lines = out.stdout.strip().splitlines()
    metrics = ast.literal_eval(lines[-1])
    for key in ("precision@10", "ndcg@10", "recall@10", "users_evaluated"):
        assert key in metrics, lines[-1]
    assert 0 < metrics["precision@10"] < 1 and metrics["users_evaluated"] > 500, metrics
