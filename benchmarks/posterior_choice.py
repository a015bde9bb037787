"""How the exact posterior was chosen: variants of the general model on held-out lattices, as JSON.

    python benchmarks/posterior_choice.py [--n 20] [--Ls 8,12] [--Ts 0.4,1,5,10,50] [--noises 0,1e-3,1e-2]
        [--families all] [--seed 2000] [--workers 2] > results/posterior_choice.json

Every (family, L, T, noise) cell draws ``n`` unseen lattices, one instance each (tau 0.1, M 50), from ``seed``
(2000: not the general sweep's 1000, so that choosing on these cells does not tune on the sweep's). Variants, all
on the same instances:
``previous`` (the network, twins and the evidence gate with its prior posterior: ``General(posterior=False)``),
``shipped`` (``General()``: the exact posterior where the gate rejects, where its density >= 0.6 or where it gives
some pair of the network's answer a probability below 0.01, Beta(1, 2)), ``overrule_0`` / ``overrule_0.05`` (never
overrule the network, or below 0.05), ``dense_0.5`` / ``dense_0.7`` (other density thresholds), ``hyper_1`` /
``hyper_3`` (other hyperpriors Beta(1, b) on the density), ``twins_multiplied`` (pairs of twins answered by
their two rows' evidence multiplied, as other pairs, not by the mean of their marginals: the release before),
``posterior_alone`` (``exact_posterior``, both noise
kinds) and ``posterior_dynamics_only`` (only noise independent from step to step). Per cell and variant: the mean
accuracy and the issue-13 checks of ``experiments.general.cell_checks`` against the trivial guess and the best of
the inversion and the binary decoder. The summary counts, per variant, the cells passing each check and the mean
accuracy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from held_out import ALLOWED, check_counts, families, floats, parser, run_cells  # noqa: E402

from isingviz.experiments.general import honesty_checks, margin_ok  # noqa: E402
from isingviz.experiments.unseen import evaluation_set, honesty, paired_margin  # noqa: E402
from isingviz.methods.evidence import FALLBACK_CAP as CAP  # noqa: E402

VARIANTS = ("previous", "shipped", "overrule_0", "overrule_0.05", "dense_0.5", "dense_0.7", "hyper_1", "hyper_3",
            "twins_multiplied", "posterior_alone", "posterior_dynamics_only")  # fmt: skip


def variant_proba(X: np.ndarray, T: float) -> dict[str, np.ndarray]:
    """p(edge) (n, K) of every variant on the instances X (n, L, M) at temperature T. ``previous`` and ``shipped``
    are ``General`` itself; the other thresholds and hyperpriors apply its rule to the same network answer."""
    from isingviz.methods.general import DENSE, OVERRULE, General, overruled
    from isingviz.methods.posterior import exact_posterior
    from isingviz.methods.twins import twin_groups, unresolved_pairs

    previous = General(posterior=False)
    out = {"previous": previous.predict_proba(X, T=T, tau=0.1)[..., 1]}
    kept = np.array(previous.results_["supported"])
    out["shipped"] = General().predict_proba(X, T=T, tau=0.1)[..., 1]
    posts = {b: exact_posterior(X, T, 0.1, hyper_b=b) for b in (1.0, 2.0, 3.0)}
    unresolved = unresolved_pairs(twin_groups(X))
    rules = (("overrule_0", 2.0, DENSE, 0.0, True), ("overrule_0.05", 2.0, DENSE, 0.05, True),
             ("dense_0.5", 2.0, 0.5, OVERRULE, True), ("dense_0.7", 2.0, 0.7, OVERRULE, True),
             ("hyper_1", 1.0, DENSE, OVERRULE, True), ("hyper_3", 3.0, DENSE, OVERRULE, True),
             ("twins_multiplied", 2.0, DENSE, OVERRULE, False))  # fmt: skip
    for name, b, dense, below, rows in rules:
        use = ~kept | (posts[b].density >= dense) | overruled(out["previous"], posts[b].p_edge, below)
        answer = np.where(unresolved, posts[b].p_rows, posts[b].p_edge) if rows else posts[b].p_edge
        p = out["previous"].copy()
        p[use] = np.clip(answer[use], CAP, 1.0 - CAP)
        out[name] = np.where(unresolved, np.clip(p, CAP, 1.0 - CAP), p)
    out["posterior_alone"] = posts[2.0].p_edge
    out["posterior_dynamics_only"] = exact_posterior(X, T, 0.1, kinds=("dynamics",)).p_edge
    return out


def cell(args: tuple[str, int, float, float, int, int]) -> dict[str, Any]:
    import torch

    from isingviz.methods.binary import BinaryML
    from isingviz.methods.physics import Inversion

    torch.set_num_threads(1)
    family, L, T, noise, n, seed = args
    X, y = evaluation_set(L, T, noise, n, seed, family, 0.1, 50)
    y = y.astype(bool)
    trivial = (~y).mean(1)
    anchors = [(Inversion().predict(X, T=T, tau=0.1) == y).mean(1), (BinaryML().predict(X, T=T, tau=0.1) == y).mean(1)]
    best = max(anchors, key=lambda a: a.mean())
    row: dict[str, Any] = {"family": family, "L": L, "T": T, "noise": noise, "n": n,
                           "trivial": float(trivial.mean()), "anchor": float(best.mean())}  # fmt: skip
    for name, p in variant_proba(X, T).items():
        acc = ((p > 0.5) == y).mean(1)
        r = {"accuracy": float(acc.mean()), "trivial_ok": margin_ok(paired_margin(acc, trivial)),
             "anchor_ok": margin_ok(paired_margin(acc, best))}  # fmt: skip
        row[name] = r | honesty_checks(honesty(p, y))
    return row


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for v in VARIANTS:
        rs = [r[v] for r in rows]
        out[v] = {
            "cells": len(rs),
            "trivial_ok": sum(r["trivial_ok"] for r in rs),
            "anchor_ok": sum(r["anchor_ok"] for r in rs),
            "both_ok": sum(r["trivial_ok"] and r["anchor_ok"] for r in rs),
            **check_counts(rs),
            "mean_accuracy": float(np.mean([r["accuracy"] for r in rs])),
        }
    return out


def main() -> None:
    ap = parser(__doc__, n=20, Ls="8,12", Ts="0.4,1,5,10,50")
    ap.add_argument("--noises", default="0,1e-3,1e-2")
    a = ap.parse_args()
    names = families(a.families)
    Ls = [int(v) for v in a.Ls.split(",")]
    if names is None or not all(2 <= L <= 12 for L in Ls) or a.n < 2:
        ap.error(f"{ALLOWED}, L in 2..12 (the exact posterior's range), n >= 2")
    cells = [(f, L, T, nz, a.n, a.seed) for f in names for L in Ls for T in floats(a.Ts) for nz in floats(a.noises)]
    rows = run_cells(cell, cells, a.workers, "noise")
    doc = {"benchmark": "posterior_choice", "n": a.n, "seed": a.seed, "summary": summary(rows), "cells": rows}
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
