"""The import graph of ``service/``: ``python -m tests.import_graph`` prints it by layer, with every circle and
every import that goes the wrong way; it exits 1 when there is one (tests/test_import_graph.py runs it).

Layers, bottom first: ``compute`` (pure), then ``config``, ``schemas`` and ``present`` (over compute), ``runtime``
(the services), ``observability``, ``errors``, ``middleware``, ``api`` and ``openapi``, ``main``, and the entry points
(``__main__``, ``openapi.__main__``), which nothing imports; ``cli`` (the ``nabla`` command) and ``client`` (the
Python client) stand beside them.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "service"
ENTRY = {"service.__main__", "service.openapi.__main__"}

# What each layer may import (besides itself and the package's own __init__, which holds only the version).
ALLOWED: dict[str, set[str]] = {
    "compute": set(),
    "config": {"compute"},
    "schemas": {"compute"},
    "present": {"compute"},
    "runtime": {"compute", "config"},
    "observability": {"compute", "config", "runtime"},
    "errors": {"compute", "observability"},
    "middleware": {"compute", "errors", "observability"},
    "api": {"compute", "config", "errors", "middleware", "present", "runtime", "schemas"},
    "openapi": {"compute", "schemas"},
    "main": {"api", "compute", "config", "errors", "middleware", "observability", "openapi", "runtime"},
    "client": {"compute"},
    "protocol": {"compute", "config", "errors"},
    "cli": {"client", "compute", "config", "observability", "protocol"},
    "entry": {"cli", "config", "main", "observability"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str:
    if module in ENTRY:
        return "entry"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "package"


def imports(path: Path) -> Iterator[str]:
    """Every ``service`` module ``path`` imports, at any depth of its code (a local import counts too)."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (name for name in names if name == "service" or name.startswith("service."))


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {target for target in imports(path) if target in modules and target != name}
        for name, path in modules.items()
    }


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def wrong_way(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports that leave the importer's layer for one it may not use (upward, or into an entry point)."""
    bad = []
    for source, targets in edges.items():
        here = layer(source)
        for target in targets:
            there = layer(target)
            if there in ("package", here) and target not in ENTRY:
                continue
            if here == "package" or there not in ALLOWED.get(here, set()):
                bad.append((source, target))
    return sorted(bad)


def main() -> int:
    edges = graph()
    by_layer: dict[str, list[str]] = defaultdict(list)
    for module in sorted(edges):
        by_layer[layer(module)].append(module)
    for name in ["package", *ALLOWED]:
        for module in by_layer.get(name, []):
            targets = ", ".join(sorted(edges[module])) or "-"
            print(f"[{name}] {module} -> {targets}")  # noqa: T201 (the command prints the graph)
    problems = [f"circle: {' <-> '.join(c)}" for c in circles(edges)]
    problems += [f"wrong way: {s} ({layer(s)}) imports {t} ({layer(t)})" for s, t in wrong_way(edges)]
    for line in problems:
        print(line)  # noqa: T201 (the command prints its findings)
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports, {len(problems)} problems")  # noqa: T201 (its summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
