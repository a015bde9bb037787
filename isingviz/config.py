"""Configuration: typed loading of the frozen config dataclasses from JSON-like dicts (files and uploads are
untrusted), and the folders the package reads and writes (each overridable by an environment variable)."""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any, TypeVar

from .limits import show

C = TypeVar("C")

REPO_ROOT = Path(__file__).resolve().parents[1]  # the checkout (or the site-packages folder once installed)


def models_dir() -> Path:
    """Folder of the shipped models: ``ISINGVIZ_MODELS``, default ``models/`` of the repository."""
    return Path(os.environ.get("ISINGVIZ_MODELS", REPO_ROOT / "models"))


def results_dir() -> Path:
    """Where sweep results live: ``ISINGVIZ_RESULTS``, default ``results/`` of the repository."""
    return Path(os.environ.get("ISINGVIZ_RESULTS", REPO_ROOT / "results"))


def dataclass_from_dict(cls: type[C], d: Any, what: str) -> C:
    """Build ``cls(**d)`` after checking that every key is a field and every value has its default's JSON type.

    Tuples accept lists of their default's element type (ints when the default is empty); floats accept finite
    ints and floats; fields whose default is None or a container (dict, list) are passed through for the class's
    own validation. Raises ``ValueError``.
    """
    if not isinstance(d, dict):
        raise ValueError(f"{what} must be a JSON object, got {show(d)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(map(str, set(d) - set(fields)))
    if unknown:
        more = f" and {len(unknown) - 3:,} more" if len(unknown) > 3 else ""
        shown = ", ".join(show(k) for k in unknown[:3]) + more
        raise ValueError(f"unknown {what} fields {shown}; allowed: {', '.join(sorted(fields))}")
    values = dict(d)
    for name, v in d.items():
        f = fields[name]
        default = f.default if f.default is not dataclasses.MISSING else None
        if default is None or isinstance(default, (dict, list)):
            continue
        want = type(default)
        if want is tuple:
            item = type(default[0]) if default else int
            ok = isinstance(v, (list, tuple)) and all(isinstance(c, item) and not isinstance(c, bool) for c in v)
            values[name] = tuple(v) if ok else v
        elif want is float:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        elif want is bool:
            ok = isinstance(v, bool)
        else:
            ok = isinstance(v, want) and not (want is int and isinstance(v, bool))
        if not ok:
            wanted = "a finite number" if want is float else want.__name__
            wanted = f"a list of {item.__name__}" if want is tuple else wanted
            raise ValueError(f"{what} field {name!r} has a bad value {show(v)} ({wanted} wanted)")
    try:
        return cls(**values)
    except TypeError:  # a field without a default that is missing
        raise ValueError(f"{what} is missing required fields; it has {', '.join(sorted(values))}") from None
