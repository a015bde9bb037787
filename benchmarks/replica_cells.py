"""The general model on held-out replica cells, beside the replica decoder, the anchors and the trivial guess.

    python benchmarks/replica_cells.py [--n 10] [--Ls 12] [--Ts 0.4,1,5,10,50] [--Rs 10,100,1000]
        [--families all] [--seed 2000] [--workers 2] [--model PATH] > results/replica_cells.json

Every (family, L, T, R) cell draws ``n`` unseen lattices, one instance each (tau 0.1, M 50, heat-bath dynamics
averaged over R replicas), from ``seed`` (2000: not the general sweep's 1000), and runs on the same instances the
general model as shipped (or ``--model``), ``replica_ml`` (the replica decoder), ``binary_ml`` (L <= 12) and
``inversion``. Per cell: accuracies, the issue-13 margins (general against the trivial guess and against the best
anchor, inversion or binary decoder: ``experiments.general.margin_ok``) and the honesty figures with their checks
where there are at least 20 wrong pairs. Totals: cells passing each check, and the mean accuracy of each method.
Made to compare two versions of the replica likelihood (run it in a checkout of each): what the sweep's replica
cells will show, on lattices the sweep never draws.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from held_out import check_counts, floats, parser, replica_args, run_cells  # noqa: E402

from isingviz.experiments.general import honesty_checks, margin_ok  # noqa: E402
from isingviz.experiments.unseen import comparison_methods, evaluation_set, honesty, paired_margin  # noqa: E402

METHODS = ("general", "replica_ml", "binary_ml", "inversion")
ANCHORS = ("inversion", "binary_ml")


def cell(args: tuple[str, int, float, int, int, int, str]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    family, L, T, R, n, seed, model = args
    X, y = evaluation_set(L, T, 0.0, n, seed, family, 0.1, 50, replicas=R)
    yb = y.astype(bool)
    out: dict[str, Any] = {"family": family, "L": L, "T": T, "R": R, "n": n, "trivial": float((~yb).mean())}
    per = {"trivial": (~yb).mean(axis=1)}
    for name, make in comparison_methods(model, None, METHODS).items():  # as the general sweep makes them
        rec = make(L)
        if rec is None:
            continue
        t0 = time.perf_counter()
        pred = rec.predict(X, T=T, tau=0.1, replicas=R)
        out[f"{name}_ms"] = 1000.0 * (time.perf_counter() - t0) / n
        per[name] = (pred == yb).mean(axis=1)
        out[name] = float(per[name].mean())
        if name == "general":
            h = honesty(rec.proba_[..., 1], yb)
            out["honesty"] = h | honesty_checks(h)
    best = max((a for a in ANCHORS if a in per), key=lambda a: out[a])
    vs_trivial, vs_anchor = paired_margin(per["general"], per["trivial"]), paired_margin(per["general"], per[best])
    out |= {"anchor": best, "vs_trivial": vs_trivial, "trivial_ok": margin_ok(vs_trivial), "vs_anchor": vs_anchor,
            "anchor_ok": margin_ok(vs_anchor)}  # fmt: skip
    return out


def main() -> None:
    ap = parser(__doc__, n=10, Ls="12", Ts="0.4,1,5,10,50")
    ap.add_argument("--Rs", default="10,100,1000")
    ap.add_argument("--model", default=None, help="a general model file (default: the shipped one)")
    a, names, Ls, Rs = replica_args(ap)
    model = str(Path(a.model or ROOT / "models" / "general.safetensors").resolve())
    cells = [(f, L, T, R, a.n, a.seed, model) for f in names for L in Ls for T in floats(a.Ts) for R in Rs]
    t0 = time.perf_counter()
    rows = run_cells(cell, cells, a.workers, "R")
    doc = {
        "benchmark": "replica_cells",
        "n": a.n,
        "seed": a.seed,
        "model": a.model or "models/general.safetensors",
        "wall_seconds": time.perf_counter() - t0,
        "cells": len(rows),
        "trivial_ok": sum(r["trivial_ok"] for r in rows),
        "anchor_ok": sum(r["anchor_ok"] for r in rows),
        "honesty": check_counts([r["honesty"] for r in rows]),
        "mean_accuracy": {m: float(np.mean([r[m] for r in rows if m in r])) for m in ("trivial", *METHODS)},
        "rows": rows,
    }
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
