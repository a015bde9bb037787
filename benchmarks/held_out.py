"""What the held-out benchmarks share (posterior_choice, replica_calibration, clean_fit): their command-line cells.

Each draws unseen lattices per (family, L, T, ...) cell from seed 2000, not the general sweep's 1000, so that
choosing a rule on them does not tune on the sweep's cells. Run from a benchmark script: this folder is then on
``sys.path``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from isingviz.lattice import GENERATORS
from isingviz.limits import L_MAX, REPLICAS_MAX


def floats(text: str) -> list[float]:
    """ "0.4,1,5" -> [0.4, 1.0, 5.0]."""
    return [float(v) for v in text.split(",") if v]


def parser(doc: str, n: int, Ls: str, Ts: str) -> argparse.ArgumentParser:
    """A parser with the common flags --n, --Ls, --Ts, --families, --seed and --workers (a script adds its own)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--n", type=int, default=n)
    ap.add_argument("--Ls", default=Ls)
    ap.add_argument("--Ts", default=Ts)
    ap.add_argument("--families", default="all", help="comma-separated, or all")
    ap.add_argument("--seed", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    return ap


def families(text: str) -> list[str] | None:
    """The families a --families value names ("all": every generator); None when one is unknown."""
    names = list(GENERATORS) if text == "all" else text.split(",")
    return None if set(names) - set(GENERATORS) else names


ALLOWED = f"families from {', '.join(GENERATORS)}"


def run_cells(
    cell: Callable[[Any], dict[str, Any]], cells: Sequence[Any], workers: int, *keys: str
) -> list[dict[str, Any]]:
    """``cell`` on every cell in ``workers`` processes, the results in order; each finished cell is reported on
    stderr as "i/n family L=.. T=.." plus its ``keys`` (e.g. "noise", "R")."""
    got = []
    with ProcessPoolExecutor(workers) as pool:
        for i, c in enumerate(pool.map(cell, cells), 1):
            got.append(c)
            extra = "".join(f" {k}={c[k]}" for k in keys)
            print(f"{i}/{len(cells)} {c['family']} L={c['L']} T={c['T']}{extra}", file=sys.stderr)
    return got


def check_counts(figures: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The issue-13 honesty checks counted over cells: each cell's honesty figures with ``honesty_checks`` merged
    in (cells with fewer than 20 wrong pairs have no checks and are not judged)."""
    judged = [h for h in figures if "entropy_ok" in h]
    return {"cells_with_20_wrong": len(judged), "entropy_ok": sum(h["entropy_ok"] for h in judged),
            "confident_ok": sum(h["confident_ok"] for h in judged)}  # fmt: skip


def replica_args(ap: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[str], list[int], list[int]]:
    """Parse ``ap`` (``parser`` plus ``--Rs``) for a grid of replica cells: the arguments, the families, Ls and Rs,
    checked (``ap.error`` names what is allowed)."""
    a = ap.parse_args()
    names = families(a.families)
    Ls = [int(v) for v in a.Ls.split(",")]
    Rs = [int(v) for v in a.Rs.split(",")]
    if names is None or not (all(4 <= L <= L_MAX for L in Ls) and all(1 <= R <= REPLICAS_MAX for R in Rs) and a.n >= 2):
        ap.error(f"{ALLOWED}, L in 4..{L_MAX}, R in 1..{REPLICAS_MAX}, n >= 2")
    return a, names, Ls, Rs
