"""Which clean instances the symmetric fit answers as dense: by its mean coupling (shipped) or by the density of
its couplings rounded at 1/2 (the release before), on held-out dense lattices.

    python benchmarks/dense_fit.py [--n 8] [--Ls 24,32,48,64] [--Ts 0.4,1,5,10,50]
        [--families random,erdos_renyi,complete_bipartite,complete] [--seed 2000] [--workers 2]
        > results/dense_fit.json

Every (family, L, T) cell draws ``n`` unseen lattices, one clean Eq. 1 instance each (tau 0.1, M 50), from ``seed``
(2000: not the general sweep's 1000). On the same instances: the network's answer (``General(clean_fit=False)``),
the rounded symmetric fit alone, and ``symmetric.clean_answer``'s choice between them under each density rule (an
exact answer stands; a clean instance takes the fit where it finds a dense lattice or reproduces the instance
better). Per cell: accuracies, the fit's mean coupling, its rounded density and the true density, how many
instances the two rules answer differently and the paired margin of the shipped rule over the one before.
Sparse families are left out: their mean coupling is their density, below ``DENSE_FIT``, so neither rule calls
them dense.
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

from isingviz.experiments.unseen import evaluation_set, paired_margin  # noqa: E402


def cell(args: tuple[str, int, float, int, int]) -> dict[str, Any]:
    import torch

    from isingviz.methods.general import General
    from isingviz.methods.symmetric import DENSE_FIT, EXACT_RMS, answer_rms, symmetric_fit

    torch.set_num_threads(1)
    family, L, T, n, seed = args
    X, y = evaluation_set(L, T, 0.0, n, seed, family, 0.1, 50)
    yb = y.astype(bool)
    net = General(clean_fit=False).predict_proba(X, T=T, tau=0.1)[..., 1] > 0.5
    fit = symmetric_fit(X, T, 0.1)
    w = np.nan_to_num(fit.w)
    rounded = w > 0.5
    e_net, e_fit = answer_rms(X, T, 0.1, net.astype(float)), answer_rms(X, T, 0.1, rounded.astype(float))
    open_ = fit.clean & (e_net > EXACT_RMS)  # where clean_answer chooses: a clean instance, an inexact answer
    by_mean = open_ & ((w.mean(axis=1) >= DENSE_FIT) | (e_fit < e_net))
    by_rounded = open_ & ((rounded.mean(axis=1) >= DENSE_FIT) | (e_fit < e_net))

    def acc(use: np.ndarray) -> np.ndarray:
        return (np.where(use[:, None], rounded, net) == yb).mean(axis=1)

    shipped, before = acc(by_mean), acc(by_rounded)
    return {
        "family": family, "L": L, "T": T, "n": n, "trivial": float((~yb).mean()),
        "network": float((net == yb).mean()), "fit_alone": float((rounded == yb).mean()),
        "rule_rounded": float(before.mean()), "rule_mean": float(shipped.mean()),
        "mean_coupling": float(w.mean()), "rounded_density": float(rounded.mean()), "true_density": float(yb.mean()),
        "instances_changed": int((by_mean != by_rounded).sum()),
        "mean_minus_rounded": paired_margin(shipped, before),
    }  # fmt: skip


def main() -> None:
    ap = parser(__doc__, n=8, Ls="24,32,48,64", Ts="0.4,1,5,10,50")
    ap.set_defaults(families="random,erdos_renyi,complete_bipartite,complete")
    a = ap.parse_args()
    names = families(a.families)
    Ls = [int(v) for v in a.Ls.split(",")]
    if names is None or not all(8 <= L <= 64 for L in Ls) or a.n < 2:
        ap.error(f"{ALLOWED}, L in 8..64, n >= 2")
    got = run_cells(cell, [(f, L, T, a.n, a.seed) for L in Ls for f in names for T in floats(a.Ts)], a.workers)
    doc = {
        "benchmark": "dense_fit",
        "n": a.n,
        "seed": a.seed,
        "cells_changed": sum(c["instances_changed"] > 0 for c in got),
        "cells_better": sum(c["mean_minus_rounded"]["margin"] > 0 for c in got),
        "cells_worse": sum(c["mean_minus_rounded"]["margin"] < 0 for c in got),
        "mean_rule_rounded": float(np.mean([c["rule_rounded"] for c in got])),
        "mean_rule_mean": float(np.mean([c["rule_mean"] for c in got])),
        "cells": got,
    }
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
