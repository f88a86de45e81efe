#!/usr/bin/env python3
"""Architecture checks (run by .ci/run, in well under a second):

1. no crate depends on a crate above it in the pipeline (the layers of ARCHITECTURE.md);
2. no import cycle among the top-level modules inside any crate.

A module `m` of a crate (src/m.rs or src/m/) uses module `n` when its code names `crate::n`.
"""
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]

# What each crate may depend on (ARCHITECTURE.md, "What each crate may import").
ALLOWED = {
    "daogou-core": set(),
    "daogou-data": {"daogou-core"},
    "daogou-store": {"daogou-core"},
    "daogou-algo": {"daogou-core"},
    "daogou-modelfile": {"daogou-core", "daogou-data", "daogou-algo"},
    "daogou-eval": {"daogou-core", "daogou-data", "daogou-algo"},
    "daogou-nn": {"daogou-core", "daogou-algo"},
    "daogou-ranker": {"daogou-core", "daogou-data", "daogou-algo"},
    "daogou-guide": {"daogou-core"},
    "daogou-engine": {"daogou-core", "daogou-data", "daogou-store", "daogou-algo", "daogou-modelfile"},
    "daogou-server": {"daogou-core", "daogou-data", "daogou-store", "daogou-algo", "daogou-eval", "daogou-engine",
                      "daogou-guide"},
    # the Python package: the libraries the command line uses for data, models, files and
    # evaluation (not the HTTP service nor the assistant)
    "daogou-python": {"daogou-core", "daogou-data", "daogou-store", "daogou-algo", "daogou-modelfile", "daogou-eval",
                      "daogou-engine", "daogou-nn", "daogou-ranker"},
    "daogou": None,  # the binary may use every library
}


def crate_deps(manifest):
    data = tomllib.loads(manifest.read_text())
    name = data["package"]["name"]
    deps = {d for d in data.get("dependencies", {}) if d.startswith("daogou")}
    return name, deps


def modules(src):
    """Top-level module name -> its source files."""
    out = {}
    for p in src.iterdir():
        if p.suffix == ".rs" and p.stem not in ("lib", "main"):
            out[p.stem] = [p]
        elif p.is_dir():
            out[p.name] = sorted(p.rglob("*.rs"))
    return out


def cycles(graph):
    """Every cycle found by a depth-first search (as lists of modules)."""
    found, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def main():
    problems = []
    for manifest in sorted(ROOT.glob("crates/*/Cargo.toml")):
        name, deps = crate_deps(manifest)
        if name not in ALLOWED:
            problems.append(f"{name}: not in the layer table of tests/arch/check.py (and ARCHITECTURE.md)")
            continue
        allowed = ALLOWED[name]
        if allowed is not None:
            for d in sorted(deps - allowed):
                problems.append(f"{name} depends on {d}, a crate it may not import (see ARCHITECTURE.md)")
        src = manifest.parent / "src"
        mods = modules(src)
        graph = {}
        for m, files in mods.items():
            text = "\n".join(f.read_text() for f in files)
            used = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", text))
            graph[m] = {u for u in used if u in mods and u != m}
        for c in cycles(graph):
            problems.append(f"{name}: import cycle {' -> '.join(c)}")
    for p in problems:
        print(f"architecture: {p}")
    if problems:
        sys.exit(1)
    print(f"architecture: {len(ALLOWED)} crates follow the layers; no import cycle inside any crate")


if __name__ == "__main__":
    main()
