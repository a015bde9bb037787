"""Two ``general`` sweep documents compared cell by cell, as JSON: what a rerun changed.

    python benchmarks/compare_general.py OLD.json NEW.json [--method general] > /tmp/changes.json

Cells are matched by (family, L, T, noise, replicas); both runs must draw the same instances (the same seed and
sizes), which the per-cell trivial accuracy checks. Reports, for ``--method``: the cells passing each issue-13
check in each run (``experiments.general.cell_checks``, as stored with each cell), the cells that changed their
accuracy, sorted by the change, each with both accuracies, the trivial guess, the best anchor and every check
that flipped, the cells found in one run only, and the mean accuracy over the shared cells.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

CHECKS = ("trivial_ok", "anchor_ok", "entropy_ok", "confident_ok")
KEY = ("family", "L", "T", "noise", "replicas")


def cells(doc: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The finished cells of a sweep document by (family, L, T, noise, replicas)."""
    out = {}
    for t in doc["tasks"]:
        r = t.get("result") or {}
        if "error" not in r and "family" in r:
            out[tuple(r[k] for k in KEY)] = r
    return out


def compare(old: dict[str, Any], new: dict[str, Any], method: str = "general") -> dict[str, Any]:
    """The comparison of two sweep documents (see the module docstring)."""
    a, b = cells(old), cells(new)
    shared = [k for k in b if k in a]
    mismatched = [k for k in shared if abs(a[k]["trivial"] - b[k]["trivial"]) > 1e-12]
    if mismatched:
        raise SystemExit(f"the runs drew different instances (trivial accuracy differs) in {len(mismatched)} cells,"
                         f" e.g. {dict(zip(KEY, mismatched[0]))}")  # fmt: skip
    counts = {}
    for name, run in (("old", a), ("new", b)):
        judged = {c: [run[k]["checks"][method][c] for k in shared if c in run[k].get("checks", {}).get(method, {})]
                  for c in CHECKS}  # fmt: skip
        counts[name] = {c: {"passed": int(sum(v)), "cells": len(v)} for c, v in judged.items()}
    changed = []
    for k in shared:
        ra, rb = a[k], b[k]
        if ra.get(method) == rb.get(method):
            continue
        ca, cb = ra.get("checks", {}).get(method, {}), rb.get("checks", {}).get(method, {})
        flips = {c: [ca.get(c), cb.get(c)] for c in CHECKS if ca.get(c) != cb.get(c)}
        anchor = cb.get("anchor")
        changed.append(dict(zip(KEY, k)) | {"old": ra[method], "new": rb[method], "change": rb[method] - ra[method],
                       "trivial": rb["trivial"], "anchor": anchor, "anchor_accuracy": rb.get(anchor),
                       "flipped": flips})  # fmt: skip
    changed.sort(key=lambda c: c["change"])
    mean = {name: sum(run[k][method] for k in shared) / max(len(shared), 1) for name, run in (("old", a), ("new", b))}
    return {"method": method, "shared_cells": len(shared), "checks": counts, "mean_accuracy": mean,
            "changed": len(changed), "up": sum(c["change"] > 0 for c in changed),
            "down": sum(c["change"] < 0 for c in changed), "cells": changed,
            "only_old": [dict(zip(KEY, k)) for k in a if k not in b],
            "only_new": [dict(zip(KEY, k)) for k in b if k not in a]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--method", default="general")
    a = ap.parse_args()
    docs = []
    for path in (a.old, a.new):
        try:
            docs.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            ap.error(f"{path}: not a readable sweep document ({e})")
        if not isinstance(docs[-1], dict) or "tasks" not in docs[-1]:
            ap.error(f"{path}: not a sweep document (no 'tasks'; made by python -m isingviz sweep general)")
    print(json.dumps(compare(*docs, method=a.method), indent=1))


if __name__ == "__main__":
    main()
