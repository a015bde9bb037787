"""Rules for replica instances that cannot be told from no coupling, on held-out replica cells, as JSON.

results/quiet_gate.json was made at commit 01c876a, before the one-slope test shipped: its rule "shipped" is the
rule named "regression" here, and its "mean_field" (the same Bonferroni combination, computed in the script) is
"shipped" here.

    python benchmarks/quiet_gate.py [--n 10] [--Ls 12] [--Ts 0.4,1,5,10,50] [--Rs 10,100,1000]
        [--families all] [--seed 2000] [--workers 2] > results/quiet_gate.json

Every (family, L, T, R) cell draws ``n`` unseen lattices, one instance each (tau 0.1, M 50, heat-bath dynamics
averaged over R replicas), from ``seed`` (2000: not the general sweep's 1000; the instances of
``replica_cells.py``), reads each once with the shipped model's confidence head (``General(gate=False)``) and
the anchors, and then decides, per rule, which instances keep the head's answer and which get "no edge" (each
pair's p(edge) at most the prior 0.3, within [0.05, 0.95], as ``General`` does). Rules:
``regression`` (the release before: ``nocoupling.regression_pvalue`` <= 0.01 keeps the head, the regression F-test
alone), ``shipped`` (``nocoupling.no_coupling_pvalue`` <= 0.01: that test or the one-slope test
``nocoupling.mean_field_pvalue``, combined by Bonferroni; it reproduces ``General``'s answers),
``mean_field_dense_head`` (the regression rule, and also where the one-slope test alone is below 0.01 and the head
itself answers a dense lattice, >= 0.5 of the pairs) and ``mean_field_density`` (the same where the one-slope
test's slope implies a density >= 0.6, ``mean_field_density``). Per cell and rule: accuracy, the issue-13 checks
against the trivial guess and the best anchor (inversion or binary decoder) and the honesty checks; per cell the
share of instances each test rejects. The
summary counts, per rule, the cells passing each check and the mean accuracy.
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
from isingviz.experiments.unseen import evaluation_set, honesty, paired_margin  # noqa: E402
from isingviz.methods.general import QUIET_ALPHA  # noqa: E402

RULES = ("regression", "shipped", "mean_field_dense_head", "mean_field_density")
ANCHORS = ("inversion", "binary_ml")
TAU = 0.1


def mean_field_density(x: np.ndarray, T: float, tau: float) -> np.ndarray:
    """The density (B,) that the one-slope test's slope implies for replica means x (B, L, M): slope T / tau (the
    slope of the increments on the sum of the other spins is about tau density / T at high T)."""
    from isingviz.nocoupling import mean_field_slope

    return mean_field_slope(x, tau) * T / tau


def cell(args: tuple[str, int, float, int, int, int]) -> dict[str, Any]:
    import torch

    from isingviz.methods.general import General, no_coupling_answer
    from isingviz.methods.registry import make_method
    from isingviz.nocoupling import mean_field_pvalue, no_coupling_pvalue, regression_pvalue

    torch.set_num_threads(1)
    family, L, T, R, n, seed = args
    X, y = evaluation_set(L, T, 0.0, n, seed, family, TAU, 50, replicas=R)
    yb = y.astype(bool)
    head = General(gate=False).predict_proba(X, T=T, tau=TAU, replicas=R)[..., 1]
    p_regression = regression_pvalue(X, TAU)
    found = mean_field_pvalue(X, TAU) <= QUIET_ALPHA
    keep = {  # NaN is not quiet in General: no NaN at M > L
        "regression": p_regression <= QUIET_ALPHA,
        "shipped": no_coupling_pvalue(X, TAU) <= QUIET_ALPHA,
        "mean_field_dense_head": (p_regression <= QUIET_ALPHA) | (found & ((head > 0.5).mean(1) >= 0.5)),
        "mean_field_density": (p_regression <= QUIET_ALPHA) | (found & (mean_field_density(X, T, TAU) >= 0.6)),
    }
    trivial = (~yb).mean(axis=1)
    out: dict[str, Any] = {"family": family, "L": L, "T": T, "R": R, "n": n, "trivial": float(trivial.mean()),
                           "regression_rejects": float((p_regression <= QUIET_ALPHA).mean()),
                           "mean_field_rejects": float(found.mean())}  # fmt: skip
    anchors = {}
    for name in ANCHORS:
        rec = None if name == "binary_ml" and L > 12 else make_method(name)
        if rec is not None:
            anchors[name] = (rec.predict(X, T=T, tau=TAU) == yb).mean(axis=1)
            out[name] = float(anchors[name].mean())
    best = max(anchors, key=lambda a: anchors[a].mean())
    out["anchor"] = best
    for rule, kept in keep.items():
        p = head.copy()
        p[~kept] = no_coupling_answer(p[~kept])
        acc = ((p > 0.5) == yb).mean(axis=1)
        h = honesty(p, yb)
        out[rule] = {"accuracy": float(acc.mean()), "head_answers": int(kept.sum()),
                     "trivial_ok": margin_ok(paired_margin(acc, trivial)),
                     "anchor_ok": margin_ok(paired_margin(acc, anchors[best])),
                     "honesty": h | honesty_checks(h)}  # fmt: skip
    return out


def main() -> None:
    ap = parser(__doc__, n=10, Ls="12", Ts="0.4,1,5,10,50")
    ap.add_argument("--Rs", default="10,100,1000")
    a, names, Ls, Rs = replica_args(ap)
    cells = [(f, L, T, R, a.n, a.seed) for f in names for L in Ls for T in floats(a.Ts) for R in Rs]
    t0 = time.perf_counter()
    rows = run_cells(cell, cells, a.workers, "R")
    summary = {
        rule: {
            "trivial_ok": sum(r[rule]["trivial_ok"] for r in rows),
            "anchor_ok": sum(r[rule]["anchor_ok"] for r in rows),
            "honesty": check_counts([r[rule]["honesty"] for r in rows]),
            "mean_accuracy": float(np.mean([r[rule]["accuracy"] for r in rows])),
        }
        for rule in RULES
    }
    doc = {"benchmark": "quiet_gate", "n": a.n, "seed": a.seed, "model": "models/general.safetensors",
           "wall_seconds": time.perf_counter() - t0, "cells": len(rows), "summary": summary, "rows": rows}  # fmt: skip
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
