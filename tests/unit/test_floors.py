"""The package's floors: no import circles, and no module imports one on a higher floor.

The floors (bottom first) are the layout the README's Development section documents. Imports
inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

#: Module prefixes by floor, bottom first; a module sits on the floor of its longest prefix.
FLOORS: list[tuple[str, ...]] = [
    ("emoscope", "emoscope.errors", "emoscope.registry", "emoscope.progress",
     "emoscope.sorting", "emoscope.schema", "emoscope.files", "emoscope.ort"),
    ("emoscope.audio", "emoscope.video.io", "emoscope.video.detect", "emoscope.video.track"),
    ("emoscope.corpora", "emoscope.models", "emoscope.evaluate", "emoscope.augment"),
    ("emoscope.protocols", "emoscope.features", "emoscope.doctor", "emoscope.video.inputs"),
    ("emoscope.config", "emoscope.bundle", "emoscope.video.config", "emoscope.report"),
    ("emoscope.train", "emoscope.inference"),
    ("emoscope.video", "emoscope.service", "emoscope.distributed"),
    ("emoscope.cli",),
]
#: Test helpers: they may import anything, and production code never imports them.
TESTING = "emoscope.testing"


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "emoscope").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] + [f"{module}.{a.name}" for a in node.names]
        found.update(t for t in targets if t in known and t != name)
    return found


def _floor(module: str) -> int:
    best, floor = -1, None
    for k, prefixes in enumerate(FLOORS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, floor = len(p), k
    assert floor is not None, f"{module} is on no floor: add it to FLOORS"
    return floor


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, set(mods)) for name, path in mods.items()}


def test_no_module_imports_a_higher_floor(graph):
    bad = sorted(f"{a} (floor {_floor(a)}) imports {b} (floor {_floor(b)})"
                 for a, targets in graph.items() if not a.startswith(TESTING)
                 for b in targets if not b.startswith(TESTING) and _floor(b) > _floor(a))
    assert not bad, "\n".join(bad)


def test_production_code_never_imports_the_test_helpers(graph):
    bad = sorted(f"{a} imports {b}" for a, targets in graph.items()
                 if not a.startswith(TESTING) for b in targets if b.startswith(TESTING))
    assert not bad, "\n".join(bad)


def test_no_import_circles(graph):
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not circles, circles


def test_no_source_file_is_too_long():
    long = sorted(f"{p.relative_to(SRC)}: {n} lines" for p in (SRC / "emoscope").rglob("*.py")
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450)
    assert not long, "\n".join(long)
