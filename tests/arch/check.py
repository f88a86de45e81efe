#!/usr/bin/env python3
"""Architecture checks (run by .ci/run, in well under a second):

1. no crate depends on a crate above it in the pipeline (the layers of ARCHITECTURE.md);
2. no import cycle among the top-level modules inside any crate.

A module `m` of a crate (src/m.rs or src/m/) uses module `n` when its code names `crate::n`,
or a name that the crate root (lib.rs, main.rs) brings in from `n` (`pub use n::Name` makes
`crate::Name` an import of `n`). Comments are not code. Only code that the library or binary
compiles is checked: items marked `#[cfg(test)]` (test modules, test-only helpers and modules)
are left out, because a module's tests may use the crate's front door (the model registry in
daogou-algo's tests, for example) without the module itself depending on it. Items defined in
the crate root itself belong to no module.
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
    """Top-level module name -> its source files (`src/m.rs`, and everything under `src/m/`)."""
    out = {}
    for p in sorted(src.iterdir()):
        if p.suffix == ".rs" and p.stem not in ("lib", "main"):
            out.setdefault(p.stem, []).append(p)
        elif p.is_dir():
            out.setdefault(p.name, []).extend(sorted(p.rglob("*.rs")))
    return out


IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments(text):
    """The code of a Rust file without its comments (a doc link such as [`crate::X`] is no
    import) and with every string literal emptied (`"postgres://…"` is no comment, `"crate::x"`
    no import). Character literals are skipped whole, so `'"'` opens no string."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif (i == 0 or not re.match(r"\w", text[i - 1])) and (m := re.match(r'b?r(#*)"', text[i:i + 260])):
            close = '"' + m.group(1)  # a raw string: it ends at its own quote-hashes
            j = text.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            out.append('""')
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and (m := re.match(r"'(\\[^']{1,10}|[^'\\])'", text[i:i + 14])):
            out.append(m.group(0))
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code, i):
    """Where the item starting at `code[i]` ends: after its block, or its `;` when it has none."""
    depth = 0
    while i < len(code):
        if code[i] == "{":
            depth += 1
        elif code[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif code[i] == ";" and depth == 0:
            return i + 1
        i += 1
    return i


CFG_TEST = re.compile(r"#\[cfg\(test\)\]")


def without_test_code(code):
    """`code` less every item marked `#[cfg(test)]` (test modules, test-only helpers)."""
    out, i = [], 0
    while m := CFG_TEST.search(code, i):
        out.append(code[i:m.start()])
        i = item_end(code, m.end())
    out.append(code[i:])
    return "".join(out)


def use_tree(code, i):
    """The paths of the use tree at `code[i:]`, groups expanded, each as (segments, the name it
    makes visible): `{a::B, c as d}` gives (["a", "B"], "B") and (["c"], "d")."""
    rest = code[i:].lstrip()
    i = len(code) - len(rest)
    if rest.startswith("{"):
        paths, depth, start = [], 0, i + 1
        for j in range(i + 1, len(code)):
            if code[j] == "{":
                depth += 1
            elif code[j] == "}" and depth:
                depth -= 1
            elif code[j] in ",}" and depth == 0:
                paths.extend(use_tree(code, start))
                if code[j] == "}":
                    break
                start = j + 1
        return paths
    m = re.match(rf"({IDENT})(\s*::|\s+as\s+({IDENT}))?", rest)
    if not m:
        return []
    if m.group(2) and m.group(2).strip() == "::":
        return [([m.group(1)] + segs, name) for segs, name in use_tree(code, i + m.end())]
    return [([m.group(1)], m.group(3) or m.group(1))]


def root_paths(code, top_level):
    """The first segment of every path from the crate root in `code`, groups expanded
    (`use crate::{a::B, C}` names `a` and `C`); in a top-level module's own file (`src/m.rs`,
    `src/m/mod.rs`) `super::` is the root as well."""
    root = r"\b(?:crate|super)::" if top_level else r"\bcrate::"
    return {segs[0] for m in re.finditer(root, code) for segs, _ in use_tree(code, m.end())}


def root_names(root_code, mods):
    """The names the crate root makes visible as `crate::Name`, each with the top-level module
    that defines it: the `use` and `pub use` declarations of lib.rs (main.rs for a binary) (`pub use m::Name`,
    `pub use crate::m::{A, B as C}`). Names defined in lib.rs itself, and those of other
    crates, belong to no module."""
    names = {}
    for m in re.finditer(r"\buse\s+(?:crate::)?", root_code):
        for segs, visible in use_tree(root_code, m.end()):
            if segs[0] in mods and len(segs) > 1:
                names[visible] = segs[0]
    return names


def import_graph(src):
    """Module -> {other top-level module its non-test code imports -> the name it uses for it}:
    `crate::m` directly, or a name the crate root re-exports from `m` (`crate::Name` with
    `pub use m::Name` in lib.rs)."""
    mods = modules(src)
    root = src / "lib.rs" if (src / "lib.rs").exists() else src / "main.rs"
    root_code = strip_comments(root.read_text())
    for m in re.findall(rf"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+({IDENT})\s*;", root_code):
        mods.pop(m, None)  # a module that only tests compile
    names = root_names(without_test_code(root_code), mods)
    graph = {}
    for m, files in mods.items():
        paths = set()
        for f in files:
            top_level = f.parent == src or f.name == "mod.rs" and f.parent.parent == src
            paths |= root_paths(without_test_code(strip_comments(f.read_text())), top_level)
        graph[m] = {}
        for name in sorted(paths):
            u = name if name in mods else names.get(name)
            if u and u != m:
                graph[m].setdefault(u, name)
    return graph


def describe(graph, cycle):
    """`a -> b -> a (a names crate::X, b names crate::Y)`: the cycle and a use that makes each step."""
    steps = ", ".join(f"{a} names crate::{graph[a][b]}" for a, b in zip(cycle, cycle[1:]))
    return f"{' -> '.join(cycle)} ({steps})"


def self_check():
    """The cycle check on a planted crate: a cycle through a re-export and a grouped `use` is
    found; comments, strings and `#[cfg(test)]` code make no edge."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        src = pathlib.Path(d)
        (src / "lib.rs").write_text("mod a;\nmod b;\nmod c;\npub use a::{Alpha, Other as Renamed};\n")
        (src / "a.rs").write_text("use crate::{b::Beta};\npub struct Alpha;\n")
        (src / "b.rs").write_text("// crate::c in a comment\nconst S: &str = \"crate::c\";\nfn f() -> crate::Renamed {}\n"
                                  "#[cfg(test)]\nmod tests {\n    use crate::c::Gamma;\n}\n")
        (src / "c.rs").write_text("use crate::Alpha;\n")
        graph = import_graph(src)
        assert graph == {"a": {"b": "b"}, "b": {"a": "Renamed"}, "c": {"a": "Alpha"}}, graph
        assert cycles(graph) == [["a", "b", "a"]], cycles(graph)


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
    self_check()
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
        graph = import_graph(manifest.parent / "src")
        for c in cycles(graph):
            problems.append(f"{name}: import cycle {describe(graph, c)}")
    for p in problems:
        print(f"architecture: {p}")
    if problems:
        sys.exit(1)
    print(f"architecture: {len(ALLOWED)} crates follow the layers; no import cycle inside any crate")


if __name__ == "__main__":
    main()
