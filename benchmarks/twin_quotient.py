"""The twin quotient (``isingviz.methods.quotient``) as the answer of dense Eq. 1 instances above L = 12, as JSON.

    python benchmarks/twin_quotient.py [--n 4] [--Ls 16,24,32] [--Ts 0.4,1,5,10,50] [--noises 0,1e-3,1e-2]
        [--families all] [--seed 2000] [--workers 2] [--thresholds 0.8,0.9,0.95] > results/twin_quotient.json

Every (family, L, T, noise) cell draws ``n`` unseen lattices, one instance each (tau 0.1, M 50), from ``seed``
(2000: not the general sweep's 1000). Variants, all on the same instances: ``without_quotient``
(``General(quotient_dense=None)``, the general model before the quotient) and ``dense_<t>``: its answer, replaced
by the twin quotient's (within [0.05, 0.95]) on the instances whose quotient finds a pair density >= t
(``General(quotient_dense=t)``); ``dense_<t>_better``: only where the quotient's answer also scores better than
the answer it replaces by the evidence gate's penalised likelihood of the whole instance (``evidence.scores``).
Per cell: the trivial guess, the inversion (the anchor above L = 12, where the binary decoder does not run), per
variant the mean accuracy, the number of instances the quotient answered and the issue-13 checks
(``experiments.general``) against the trivial guess and the inversion; per instance the number of twin groups, the
quotient's density and misfit. The summary counts the cells passing each check per variant, on complete lattices
and on the other families apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from held_out import ALLOWED, families, floats, parser, run_cells  # noqa: E402

from isingviz.experiments.general import margin_ok  # noqa: E402
from isingviz.experiments.unseen import evaluation_set, paired_margin  # noqa: E402
from isingviz.limits import L_MAX  # noqa: E402
from isingviz.methods.evidence import FALLBACK_CAP as CAP  # noqa: E402
from isingviz.methods.evidence import scores  # noqa: E402


def _round(v: float) -> float | None:
    return None if np.isnan(v) else round(float(v), 3)


def cell(args: tuple[str, int, float, float, int, int, tuple[float, ...]]) -> dict[str, Any]:
    import torch

    from isingviz.methods.general import General
    from isingviz.methods.physics import Inversion
    from isingviz.methods.quotient import quotient_posterior

    torch.set_num_threads(1)
    family, L, T, noise, n, seed, thresholds = args
    X, y = evaluation_set(L, T, noise, n, seed, family, 0.1, 50)
    y = y.astype(bool)

    def acc(p: np.ndarray) -> np.ndarray:
        return ((p > 0.5) == y).mean(1)

    trivial = (~y).mean(1)
    inversion = acc(Inversion().predict(X, T=T, tau=0.1).astype(np.float64))
    without = General(quotient_dense=None).predict_proba(X, T=T, tau=0.1)[..., 1]
    q = quotient_posterior(X, T, 0.1)
    row: dict[str, Any] = {
        "family": family, "L": L, "T": T, "noise": noise, "n": n,
        "trivial": float(trivial.mean()), "inversion": float(inversion.mean()),
        "groups": q.groups.tolist(), "density": [_round(d) for d in q.density],
        "misfit": [_round(m) for m in q.misfit],
    }  # fmt: skip
    variants = {"without_quotient": (without, 0)}
    s = scores(X, T, 0.1, [(without > 0.5).astype(np.float64), (np.nan_to_num(q.p_edge) > 0.5).astype(np.float64)])
    for t in thresholds:
        for better in (False, True):
            use = np.nan_to_num(q.density, nan=0.0) >= t
            if better:
                use &= s[1] < s[0]
            p = without.copy()
            p[use] = np.clip(q.p_edge[use], CAP, 1.0 - CAP)
            variants[f"dense_{t:g}" + ("_better" if better else "")] = (p, int(use.sum()))
    for name, (p, answered) in variants.items():
        a = acc(p)
        row[name] = {"accuracy": float(a.mean()), "answered": answered,
                     "trivial_ok": margin_ok(paired_margin(a, trivial)),
                     "anchor_ok": margin_ok(paired_margin(a, inversion))}  # fmt: skip
    return row


def summary(rows: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part, complete in (("complete", True), ("others", False)):
        rs = [r for r in rows if (r["family"] == "complete") == complete]
        out[part] = {v: {"cells": len(rs),
                         "trivial_ok": sum(r[v]["trivial_ok"] for r in rs),
                         "anchor_ok": sum(r[v]["anchor_ok"] for r in rs),
                         "answered": sum(r[v]["answered"] for r in rs),
                         "mean_accuracy": float(np.mean([r[v]["accuracy"] for r in rs])) if rs else None}
                     for v in names}  # fmt: skip
    return out


def main() -> None:
    ap = parser(__doc__, n=4, Ls="16,24,32", Ts="0.4,1,5,10,50")
    ap.add_argument("--noises", default="0,1e-3,1e-2")
    ap.add_argument("--thresholds", default="0.8,0.9,0.95")
    a = ap.parse_args()
    names = families(a.families)
    Ls = [int(v) for v in a.Ls.split(",")]
    thresholds = tuple(floats(a.thresholds))
    if names is None or not all(2 <= L <= L_MAX for L in Ls) or a.n < 2 or not all(0 < t <= 1 for t in thresholds):
        ap.error(f"{ALLOWED}, L in 2..{L_MAX}, n >= 2, thresholds in (0, 1]")
    cells = [(f, L, T, nz, a.n, a.seed, thresholds) for f in names for L in Ls for T in floats(a.Ts)
             for nz in floats(a.noises)]  # fmt: skip
    rows = run_cells(cell, cells, a.workers, "noise")
    variants = ["without_quotient"] + [f"dense_{t:g}{b}" for t in thresholds for b in ("", "_better")]
    doc = {"benchmark": "twin_quotient", "n": a.n, "seed": a.seed, "summary": summary(rows, variants), "cells": rows}
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
