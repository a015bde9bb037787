"""The package's layers, read from the source (ast, by ``isingviz.experiments.sources``): what each part may import,
and no import cycle anywhere.

The picture (docs/architecture.md): core (lattice, dynamics, data, metrics, config) < learn < methods <
experiments < figures, jobs < cli. A part may import itself and the parts listed for it in ``ALLOWED``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from isingviz.experiments.sources import import_graph, package_modules

PACKAGE = Path(__file__).resolve().parents[1] / "isingviz"
CORE = (
    "lattice",
    "dynamics",
    "data",
    "metrics",
    "config",
    "limits",
    "safejson",
    "files",
    "recordings",
    "heatbath",
    "nocoupling",
    "threads",
)
TOP_LEVEL = {"__init__", "__main__", *CORE}
SUBPACKAGES = ("learn", "methods", "experiments", "figures", "jobs", "cli")
ALLOWED = {
    "core": {"core"},
    "learn": {"core"},
    "methods": {"core", "learn"},
    "experiments": {"core", "learn", "methods"},
    "figures": {"core", "learn", "methods", "experiments"},
    "jobs": {"core", "learn", "methods", "experiments"},
    "cli": {"core", "learn", "methods", "experiments", "figures", "jobs"},
}
FORBIDDEN_ANYWHERE = ("streamlit", "ui")  # the library never imports the app's layer


def part_of(module: str) -> str | None:
    """'core', a subpackage name, or None for names outside the package."""
    parts = module.split(".")
    if parts[0] != "isingviz":
        return None
    if parts[1:] == ["__main__"]:
        return "cli"  # ``python -m isingviz`` is the command line's entry point
    if len(parts) == 1 or parts[1] in TOP_LEVEL:
        return "core"
    return parts[1]


def layering_errors(package: Path = PACKAGE) -> list[str]:
    """Every broken rule, one line each (empty: the layering holds)."""
    g = import_graph(package)
    errors = []
    for mod, deps in g.items():
        src = part_of(mod)
        for dep, line in deps:
            top = dep.split(".")[0]
            if top in FORBIDDEN_ANYWHERE:
                errors.append(f"{mod}:{line} imports {dep} (the library never imports streamlit or ui)")
                continue
            dst = part_of(dep)
            if dst is None or dst == src or dep == "isingviz":
                continue
            if dst not in ALLOWED[src]:
                errors.append(f"{mod}:{line} imports {dep}: {src} may import only {sorted(ALLOWED[src])}")
    errors += [f"import cycle: {' -> '.join(c)}" for c in cycles(g)]
    return errors


def cycles(g: dict[str, list[tuple[str, int]]]) -> list[list[str]]:
    """One cycle per strongly connected group of modules that import each other (Tarjan's algorithm)."""
    edges = {m: sorted({d for d, _ in deps if d in g and d != m}) for m, deps in g.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_layering_holds() -> None:
    assert layering_errors() == []


def test_the_top_level_holds_the_core_and_the_subpackages_only() -> None:
    entries = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    expected = {f"{m}.py" for m in TOP_LEVEL} | set(SUBPACKAGES)
    assert entries == expected
    for sub in SUBPACKAGES:
        doc = ast.get_docstring(ast.parse((PACKAGE / sub / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), f"isingviz/{sub}/__init__.py: say what lives there and what it imports"


def test_every_module_imports() -> None:
    import importlib

    for name in package_modules(PACKAGE):
        if not name.endswith("__main__"):
            importlib.import_module(name)


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "isingviz"
    for path in package_modules(PACKAGE).values():
        out = dst / path.relative_to(PACKAGE)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return dst


@pytest.mark.parametrize(
    ("file", "line", "message"),
    [
        ("lattice.py", "from .learn.store import load_model", "core may import only ['core']"),
        ("learn/train.py", "from ..experiments import sweeps", "learn may import only ['core']"),
        ("methods/physics.py", "from ..figures.graphs import lattice_figure", "methods may import only"),
        ("learn/store.py", "from ..jobs.background import BackgroundJob", "learn may import only"),
        ("methods/base.py", "import isingviz.cli.commands", "methods may import only"),
        ("metrics.py", "import streamlit as st", "never imports streamlit or ui"),
        ("experiments/runner.py", "from ui.state import SHIPPED_DIR", "never imports streamlit or ui"),
        ("learn/model_config.py", "from .networks import build_model", "import cycle"),
        ("figures/style.py", "from .general import general_figure", "import cycle"),
    ],
)
def test_a_forbidden_import_fails(tmp_path: Path, file: str, line: str, message: str) -> None:
    """The checker is not vacuous: each kind of forbidden import added to a copy of the package is reported."""
    pkg = _copy(tmp_path)
    path = pkg / file
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    errors = layering_errors(pkg)
    assert any(message in e for e in errors), errors
