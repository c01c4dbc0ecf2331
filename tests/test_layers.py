"""The import graph of Tidal's packages: no cycles, and the engine depends on nothing above it.

The graph is read from the source with `ast`, so it sees every import a module can run:
at the top, inside functions (the lazy imports that keep `tidal --help` fast) and in
`try` blocks. Imports under `if TYPE_CHECKING:` never run, so they cannot make a cycle;
they still count for the layering, since the engine should not even name a service type.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the repository's folders installed as `tidal.<folder>` (linked from `tidal/`)
PACKAGES = ("engine", "service", "simulation", "training")
#: the layers the engine must never import
ABOVE_ENGINE = ("service", "simulation", "training")


def module_name(path: Path) -> str:
    """The installed name of a module file: `engine/core/model.py` is `tidal.engine.core.model`."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(("tidal", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def layer(module: str) -> str:
    """`engine`, `service`, ... for a module's installed name."""
    return module.split(".")[1]


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(
    node: ast.AST, module: str, is_package: bool, type_only: bool
) -> Iterator[tuple[str, bool]]:
    """(dotted name, only under TYPE_CHECKING) for every import below `node`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield alias.name, type_only
        elif isinstance(child, ast.ImportFrom):
            base = child.module or ""
            if child.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (child.level - 1)]
                base = ".".join([*package, base] if base else package)
            for alias in child.names:
                # a module (`from pkg import mod`) or a name in one (`from mod import name`)
                yield f"{base}.{alias.name}", type_only
        yield from _imported_names(
            child, module, is_package, type_only or _is_type_checking_block(child)
        )


def import_graph(*, with_type_only: bool) -> dict[str, set[str]]:
    """Each project module -> the project modules it imports."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for name, type_only in _imported_names(tree, module, path.name == "__init__.py", False):
            if type_only and not with_type_only:
                continue
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_sees_the_imports_between_layers() -> None:
    # guards the tests below against passing on an empty graph (names read wrong)
    graph = import_graph(with_type_only=False)
    assert "tidal.engine.core.engine" in graph["tidal.service.running.runtime"]
    assert sum(len(targets) for targets in graph.values()) > 300


def test_the_project_has_no_import_cycle() -> None:
    assert cycles(import_graph(with_type_only=False)) == []


def test_the_engine_imports_neither_the_service_nor_the_simulator_nor_training() -> None:
    graph = import_graph(with_type_only=True)
    upward = {
        module: sorted(t for t in targets if layer(t) in ABOVE_ENGINE)
        for module, targets in graph.items()
        if layer(module) == "engine"
    }
    assert {module: targets for module, targets in upward.items() if targets} == {}


#: the HTTP routes: they reach state through the running service and the use cases
ROUTES = "tidal.service.http.routes"
PERSISTENCE = "tidal.service.persistence"


def routes_importing_persistence(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Each route module -> the persistence modules it imports itself."""
    found = {
        module: sorted(t for t in targets if t == PERSISTENCE or t.startswith(PERSISTENCE + "."))
        for module, targets in graph.items()
        if module == ROUTES or module.startswith(ROUTES + ".")
    }
    return {module: targets for module, targets in found.items() if targets}


def test_no_http_route_imports_persistence() -> None:
    # a route that reads or writes the database itself bypasses the engine thread, the
    # group commit and the after-commit subscribers: it goes through
    # tidal.service.running and tidal.service.handling instead
    assert routes_importing_persistence(import_graph(with_type_only=True)) == {}


def test_a_route_importing_persistence_is_found() -> None:
    graph = import_graph(with_type_only=True)
    assert any(module.startswith(ROUTES + ".") for module in graph)  # the routes are read
    graph["tidal.service.http.routes.admin"] = {"tidal.service.persistence.tokens"}
    assert routes_importing_persistence(graph) == {
        "tidal.service.http.routes.admin": ["tidal.service.persistence.tokens"]
    }


def test_the_cycle_finder_sees_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    source = """
def later():
    from tidal.engine.b import thing
"""
    tree = ast.parse(source)
    names = {name for name, _ in _imported_names(tree, "tidal.engine.a", False, False)}
    assert "tidal.engine.b.thing" in names
    assert cycles(
        {
            "tidal.engine.a": {"tidal.engine.b"},
            "tidal.engine.b": {"tidal.engine.a"},
            "tidal.engine.c": set(),
        }
    ) == [["tidal.engine.a", "tidal.engine.b"]]


def test_imports_under_type_checking_are_marked_as_type_only() -> None:
    source = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from tidal.service.http.app import create_app
import tidal.engine.core.model
"""
    found = dict(_imported_names(ast.parse(source), "tidal.engine.x", False, False))
    assert found["tidal.service.http.app.create_app"] is True
    assert found["tidal.engine.core.model"] is False
