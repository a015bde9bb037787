"""The general model with and without its clean-instance parts (the symmetric inversion, the tempering of pairs its
answer does not explain), on held-out lattices.

    python benchmarks/clean_fit.py [--n 10] [--Ls 12,16,24,32] [--Ts 0.4,1,5,10,50] [--noises 0]
        [--families all] [--seed 2000] [--workers 2] > results/clean_fit.json

Every (family, L, T, noise) cell draws ``n`` unseen lattices, one Eq. 1 instance each (tau 0.1, M 50), from
``seed`` (2000: not the general sweep's 1000). On the same instances: the general model without the symmetric
inversion (``General(clean_fit=False)``, "before"), as shipped (``General()``, "after"), the symmetric fit alone
(``methods.symmetric.symmetric_fit``, rounded; where the clean test skips the fit, no number), the row-wise
inversion and the trivial guess. Reported per cell: accuracies, how many instances the symmetric inversion
answered, the share of instances the clean test calls clean, the paired margin of after over before, and the
honesty figures before and after (``experiments.unseen.honesty``; "after" includes ``symmetric.temper_inexact``)
with the issue-13 checks where the cell has at least 20 wrong pairs; and seconds per instance before and after
(one thread).
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
from held_out import ALLOWED, check_counts, families, floats, parser, run_cells  # noqa: E402

from isingviz.experiments.general import honesty_checks  # noqa: E402
from isingviz.experiments.unseen import evaluation_set, honesty, paired_margin  # noqa: E402


def cell(args: tuple[str, int, float, float, int, int]) -> dict[str, Any]:
    import torch

    from isingviz.methods.general import General
    from isingviz.methods.physics import Inversion
    from isingviz.methods.symmetric import symmetric_fit

    torch.set_num_threads(1)
    family, L, T, noise, n, seed = args
    X, y = evaluation_set(L, T, noise, n, seed, family, 0.1, 50)
    yb = y.astype(bool)
    t0 = time.perf_counter()
    before = General(clean_fit=False).predict_proba(X, T=T, tau=0.1)[..., 1]
    t1 = time.perf_counter()
    shipped = General()
    after = shipped.predict_proba(X, T=T, tau=0.1)[..., 1]
    t2 = time.perf_counter()
    fit = symmetric_fit(X, T, 0.1)
    rows = Inversion().predict(X, T=T, tau=0.1)

    def acc(p: np.ndarray) -> np.ndarray:
        return ((p > 0.5) == yb).mean(axis=1)

    fitted = ~np.isnan(fit.w).any(axis=1)
    h, h0 = honesty(after, yb), honesty(before, yb)
    return {
        "family": family, "L": L, "T": T, "noise": noise, "n": n,
        "before": float(acc(before).mean()), "after": float(acc(after).mean()),
        "fit_alone": float(acc(fit.w[fitted]).mean()) if fitted.any() else None,
        "inversion": float((rows == yb).mean()), "trivial": float((~yb).mean()),
        "answered": shipped.results_["answered_by"].count("symmetric inversion"),
        "clean": float(fit.clean.mean()),
        "after_minus_before": paired_margin(acc(after), acc(before)),
        "honesty_before": h0 | honesty_checks(h0), "honesty_after": h | honesty_checks(h),
        "seconds_before": (t1 - t0) / n, "seconds_after": (t2 - t1) / n,
    }  # fmt: skip


def main() -> None:
    ap = parser(__doc__, n=10, Ls="12,16,24,32", Ts="0.4,1,5,10,50")
    ap.add_argument("--noises", default="0")
    a = ap.parse_args()
    names = families(a.families)
    Ls = [int(v) for v in a.Ls.split(",")]
    noises = floats(a.noises)
    if names is None or not all(8 <= L <= 64 for L in Ls) or not all(nz >= 0 for nz in noises) or a.n < 2:
        ap.error(f"{ALLOWED}, L in 8..64, noise >= 0, n >= 2")
    cells = [(f, L, T, nz, a.n, a.seed) for f in names for L in Ls for T in floats(a.Ts) for nz in noises]
    got = run_cells(cell, cells, a.workers, "noise")
    doc = {
        "benchmark": "clean_fit",
        "n": a.n,
        "seed": a.seed,
        "cells_changed": sum(c["answered"] > 0 for c in got),
        "cells_better": sum(c["after_minus_before"]["margin"] > 0 for c in got),
        "cells_worse": sum(c["after_minus_before"]["margin"] < 0 for c in got),
        "checks_before": check_counts([c["honesty_before"] for c in got]),
        "checks_after": check_counts([c["honesty_after"] for c in got]),
        "cells": got,
    }
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
