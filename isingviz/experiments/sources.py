"""Which code computes what: the package's import graph read from its source (ast), and a hash of the source of
every module a task's module imports, directly or not (the cache key of a finished task depends on it, so editing
the code that computes a task, and only that, invalidates its cached result). ``tests/test_layering.py`` checks
the package's layers on the same graph.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]

Graph = dict[str, list[tuple[str, int]]]


def module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted name -> file of every module of ``package`` (a package's ``__init__`` under the package's name)."""
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def module_imports(path: Path, name: str, known: set[str]) -> list[tuple[str, int]]:
    """Every module the file imports (at any depth of the code, lazy imports included), with the line.

    Names inside the package resolve to the module they name (``from .x import f`` -> ``pkg.x``; ``from . import
    y`` -> ``pkg.y`` when y is a module); outside names keep their dotted name (``streamlit``, ``ui.state``).
    """
    is_pkg = path.name == "__init__.py"
    here = name.split(".") if is_pkg else name.split(".")[:-1]
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                src = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            for a in node.names:
                sub = f"{src}.{a.name}"
                out.append((sub if sub in known else src, node.lineno))
    return out


def import_graph(package: Path = PACKAGE) -> Graph:
    """Module -> [(imported module, line), ...] for every module of ``package``."""
    mods = package_modules(package)
    known = set(mods)
    return {m: module_imports(p, m, known) for m, p in mods.items()}


# The machinery that moves tasks and their results around (the runner, its engines and cache, the registry): it
# never changes a number, so editing it must not invalidate finished tasks.
MACHINERY = frozenset(f"isingviz.experiments.{m}" for m in ("runner", "engines", "cache", "sources", "sweeps"))


def closure(graph: Graph, start: str, skip: frozenset[str] = MACHINERY) -> list[str]:
    """``start`` and every module of the graph it imports, directly or not (with the packages on the way, whose
    ``__init__`` runs on import), except the ``skip`` modules and what only they import; sorted."""
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m in seen or m not in graph or (m in skip and m != start):
            continue
        seen.add(m)
        parts = m.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts))]
        todo += [d for d, _ in graph[m]]
    return sorted(seen)


@functools.lru_cache(maxsize=64)
def source_hash(module: str, package: Path = PACKAGE) -> str:
    """sha256 over the names and source of ``module``'s import closure in the package (read once per process)."""
    mods = package_modules(package)
    h = hashlib.sha256()
    for m in closure(import_graph(package), module):
        h.update(m.encode() + b"\0" + mods[m].read_bytes() + b"\0")
    return h.hexdigest()
