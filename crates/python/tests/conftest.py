"""Fixtures of the Python package's tests: the command line to compare with, and a small
MovieLens file cut from the shared datasets (never committed).

DAOGOU_BIN names the `daogou` binary (default: target/debug/daogou, else target/release);
DAOGOU_DATASETS the shared datasets (default: ../shared/datasets beside the repository). A
missing dataset skips the tests that need it, and fails them with CI=true, as in the Rust tests.
"""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def _bin():
    if os.environ.get("DAOGOU_BIN"):
        return pathlib.Path(os.environ["DAOGOU_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    for profile in ("debug", "release"):
        if (target / profile / "daogou").exists():
            return target / profile / "daogou"
    pytest.fail("no daogou binary: build it (cargo build -p daogou) or set DAOGOU_BIN")


class Cli:
    def __init__(self, path):
        self.path = path

    def run(self, *args, check=True):
        env = dict(os.environ, RAYON_NUM_THREADS="1")
        out = subprocess.run([str(self.path), *map(str, args)], capture_output=True, text=True, env=env)
        if check and out.returncode != 0:
            raise AssertionError(f"daogou {' '.join(map(str, args))} failed:\n{out.stderr}")
        return out

    def json(self, *args):
        return json.loads(self.run(*args).stdout)


@pytest.fixture(scope="session")
def cli():
    return Cli(_bin())


@pytest.fixture(scope="session")
def datasets():
    d = pathlib.Path(os.environ.get("DAOGOU_DATASETS", ROOT.parent / "shared" / "datasets"))
    if not (d / "ml-100k" / "u.data").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{d}/ml-100k/u.data is missing (CI=true)")
        pytest.skip(f"{d}/ml-100k/u.data is missing")
    return d


@pytest.fixture(scope="session")
def ml_small(datasets, tmp_path_factory):
    """The first 6,000 ratings of MovieLens 100k (u.data format)."""
    lines = (datasets / "ml-100k" / "u.data").read_text().splitlines()[:6000]
    p = tmp_path_factory.mktemp("ml") / "u.small.data"
    p.write_text("\n".join(lines) + "\n")
    return p
