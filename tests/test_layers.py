"""The floors of lfvsim point one way, and no module imports itself back.

Floors, lowest first: base -> traces -> scenario -> engine -> experiments -> reports -> cli.
A module may import its own floor and the floors below it, never one above. The import
graph is read from the source (every ``import`` and ``from ... import``, in function bodies
too), so the test needs nothing installed beyond the standard library.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lfvsim"

FLOORS = ["base", "traces", "scenario", "engine", "experiments", "reports", "cli"]

# Longest prefix wins. The package itself re-exports the engine and what lies below it.
FLOOR_OF_PREFIX = {
    "lfvsim": "engine",
    "lfvsim.errors": "base",
    "lfvsim._schema": "base",
    "lfvsim.atomic": "base",
    "lfvsim.minutes": "base",
    "lfvsim.machine_output": "base",
    "lfvsim.safe_output": "base",
    "lfvsim.traces": "traces",
    "lfvsim.scenario": "scenario",
    "lfvsim.billing": "scenario",
    "lfvsim.budget": "scenario",
    "lfvsim.hosting": "scenario",
    "lfvsim.failures": "scenario",
    "lfvsim.client": "scenario",
    "lfvsim.startmodel": "scenario",
    "lfvsim.aws": "scenario",
    "lfvsim.theory": "scenario",
    "lfvsim.modes": "scenario",
    "lfvsim.ignored": "scenario",
    "lfvsim.engine": "engine",
    "lfvsim.experiments": "experiments",
    "lfvsim.reports": "reports",
    "lfvsim.cli": "cli",
}


def floor_of(module: str) -> str | None:
    """The floor of a dotted module name, or None when no prefix maps it."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        floor = FLOOR_OF_PREFIX.get(".".join(parts[:n]))
        if floor is not None:
            return floor
    return None


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted name of every module under ``root`` (a package is its ``__init__``)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_edges(modules: dict[str, Path]) -> set[tuple[str, str]]:
    """``(importer, imported)`` for every import of an lfvsim module, in any scope."""
    edges = set()
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(name, is_package, node)
                # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one.
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            else:
                continue
            edges |= {(name, t) for t in targets if t.split(".")[0] == "lfvsim" and t != name}
    return edges


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    return ".".join(parts[:keep] + ([node.module] if node.module else []))


def upward_edges(edges: set[tuple[str, str]]) -> list[str]:
    """Each import of a higher floor, as ``importer (floor) -> imported (floor)``."""
    bad = []
    for src, dst in sorted(edges):
        a, b = floor_of(src), floor_of(dst)
        if a is not None and b is not None and FLOORS.index(b) > FLOORS.index(a):
            bad.append(f"{src} ({a}) -> {dst} ({b})")
    return bad


def find_cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    """One import cycle as ``[m0, m1, ..., m0]``, or None when the graph has none."""
    graph: dict[str, list[str]] = {}
    for src, dst in sorted(edges):
        graph.setdefault(src, []).append(dst)
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


@pytest.fixture(scope="module")
def edges() -> set[tuple[str, str]]:
    return import_edges(module_names())


def test_every_module_has_a_floor():
    unmapped = [m for m in module_names() if floor_of(m) is None]
    assert unmapped == [], f"add these modules to FLOOR_OF_PREFIX: {unmapped}"


def test_the_graph_is_read(edges):
    # Guards the walker itself: these imports exist, so an empty graph would be a bug.
    assert ("lfvsim.engine.simulate", "lfvsim.engine.assemble") in edges
    assert ("lfvsim.experiments.sweep", "lfvsim.engine") in edges
    assert ("lfvsim.engine.dataplane", "lfvsim.engine.kernel") in edges  # from pkg import sub


def test_no_floor_imports_a_higher_one(edges):
    assert upward_edges(edges) == []


def test_no_import_cycle(edges):
    assert find_cycle(edges) is None


def test_an_upward_import_is_caught():
    edges = {
        ("lfvsim.traces.model", "lfvsim.errors"),
        ("lfvsim.traces.sensitivity", "lfvsim.engine"),
        ("lfvsim.engine.result", "lfvsim.reports.text"),
    }
    assert upward_edges(edges) == [
        "lfvsim.engine.result (engine) -> lfvsim.reports.text (reports)",
        "lfvsim.traces.sensitivity (traces) -> lfvsim.engine (engine)",
    ]


def test_a_cycle_is_caught():
    edges = {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({("a", "b"), ("b", "c"), ("a", "c")}) is None


def test_relative_imports_resolve(tmp_path):
    pkg = tmp_path / "lfvsim"
    (pkg / "engine").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "engine" / "__init__.py").write_text("from . import core\n")
    (pkg / "engine" / "core.py").write_text("from ..errors import X\nfrom .. import cli\n")
    (pkg / "cli.py").write_text("")
    found = import_edges(module_names(pkg))
    assert found == {
        ("lfvsim.engine", "lfvsim.engine.core"),
        ("lfvsim.engine.core", "lfvsim.errors"),
        ("lfvsim.engine.core", "lfvsim.cli"),
    }
    assert upward_edges(found) == ["lfvsim.engine.core (engine) -> lfvsim.cli (cli)"]
