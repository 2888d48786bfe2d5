"""No import cycles in jwt_guard_core, jwt_guard_django and jwt_guard_flask.

The graph is built from the source with ``ast``, without importing
anything. What counts as an edge: every ``import`` / ``from ... import`` of
one of the three packages, at module level *and* inside functions (a
function-level import that closes a circle still ties the modules together;
it only hides the circle until the function runs). Imports under
``if TYPE_CHECKING:`` do not count: they never run. ``from . import x``
counts as an import of the submodule ``x`` when ``x`` is one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("jwt_guard_core", "jwt_guard_django", "jwt_guard_flask")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id in ("TYPE_CHECKING", "_TYPE_CHECKING")) or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    edges: set[str] = set()

    def add(name: str) -> None:
        # The deepest known module the name refers to.
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            edges.add(name)

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".")
                    if not is_package:
                        base = base[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    origin = ".".join(base + ([child.module] if child.module else []))
                else:
                    origin = child.module or ""
                if not origin.startswith(PACKAGES):
                    continue
                for alias in child.names:
                    sub = f"{origin}.{alias.name}"
                    add(sub if sub in modules else origin)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return edges


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            # A package's __init__ importing its own submodules is how a
            # package re-exports; a submodule importing its parent package
            # then is the circle this test looks for.
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return None


def test_the_graph_sees_the_packages():
    graph = _graph()
    assert "jwt_guard_flask.extension" in graph
    assert "jwt_guard_django.middleware" in graph
    assert "jwt_guard_core.verifier" in graph["jwt_guard_core"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    graph = _graph()
    inside = {
        name: {e for e in edges if e.startswith(package)}
        for name, edges in graph.items()
        if name.startswith(package)
    }
    assert _cycle(inside) is None, " -> ".join(_cycle(inside) or [])


def test_no_cycle_across_the_packages():
    graph = _graph()
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_a_cycle_is_found():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
