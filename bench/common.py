"""Shared helpers for the bench scripts: paths, dataset discovery, tables."""
from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
FOLDS = [1, 2, 3, 4, 5]


def datasets_dir() -> Path:
    """DAOGOU_DATASETS, else ../shared/datasets relative to the repository root."""
    raw = os.environ.get("DAOGOU_DATASETS")
    d = Path(raw) if raw else (REPO_ROOT / ".." / "shared" / "datasets")
    return d.resolve()


def ml100k_dir() -> Path:
    d = datasets_dir() / "ml-100k"
    missing = [f"u{i}.{s}" for i in FOLDS for s in ("base", "test") if not (d / f"u{i}.{s}").is_file()]
    if missing:
        sys.exit(
            f"error: MovieLens 100k folds not found in {d} (missing: {', '.join(missing)}).\n"
            f"Set DAOGOU_DATASETS to the folder that contains ml-100k/ "
            f"(default: ../shared/datasets relative to the repository root, i.e. {REPO_ROOT.parent / 'shared' / 'datasets'})."
        )
    return d


def machine_info() -> dict:
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["mem_total_kib"] = int(line.split()[1])
    except OSError:
        pass
    return info


def fmt(x, nd=4):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


# the daogou binary and its --json output, shared by the compare scripts
def daogou_bin() -> Path:
    if os.environ.get("DAOGOU_BIN"):
        return Path(os.environ["DAOGOU_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "release" / "daogou"


def parse_json_stdout(text: str) -> dict:
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    # tolerate log lines before the JSON: take the last line that parses as an object
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    # or a pretty-printed object at the end
    i = text.rfind("\n{")
    if i >= 0:
        return json.loads(text[i + 1 :])
    raise ValueError(f"no JSON object in daogou stdout:\n{text[-2000:]}")
