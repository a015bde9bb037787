"""What the evidence gate, the twins, the exact posterior and the twin quotient cost: the general model as shipped vs
the network alone, per instance, as JSON.

    python benchmarks/bench_gate.py [--Ls 8,10,12,32,64] [--n 8] [--repeats 3]

Two kinds of instance per L (unseen random lattices, 25 (L/12)^2 edges, tau 0.1, M 50, seed 1000): informative
(T = 5, clean), where the gate keeps the network's answer and costs one score of two 0/1 answers, and
information-free (T = 50, noise 1e-2), where every instance falls back on the prior posterior's local search (L >
12): the worst case, which ``isingviz.jobs.costs.PREDICT_SECONDS`` bounds. Up to L = 12 the exact posterior runs
on every instance (its density decides whether it answers): ``posterior_ms`` is its cost alone. Above L = 12 the
twin quotient runs on every instance of at most ``QUOTIENT_MAX_G`` groups of twins: ``quotient_ms`` is its cost at
that many groups (the spins dealt round-robin into them), its worst case. One torch thread;
the median of ``repeats`` runs over ``n`` instances, in ms per instance; ``kept``: the instances that kept the
network's answer; ``answered_by``: which part answered how many.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from isingviz.experiments.unseen import evaluation_set  # noqa: E402
from isingviz.methods.general import General, answer_counts  # noqa: E402
from isingviz.methods.posterior import POSTERIOR_MAX_L, exact_posterior  # noqa: E402
from isingviz.methods.quotient import QUOTIENT_MAX_G, quotient_posterior  # noqa: E402

CASES = {"informative": (5.0, 0.0), "information_free": (50.0, 1e-2)}


def ms_per_instance(run, X, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(X)
        times.append(1e3 * (time.perf_counter() - t0) / X.shape[0])
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--Ls", default="8,10,12,32,64")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    shipped, alone = General(), General(use_head=False, gate=False)
    rows = []
    for L in (int(v) for v in a.Ls.split(",")):
        for case, (T, noise) in CASES.items():
            X, _ = evaluation_set(L, T, noise, a.n, 1000)
            net_ms = ms_per_instance(lambda x, T=T: alone.predict_proba(x, T=T, tau=0.1), X, a.repeats)
            ms = ms_per_instance(lambda x, T=T: shipped.predict_proba(x, T=T, tau=0.1), X, a.repeats)
            row = {"L": L, "case": case, "T": T, "noise": noise, "network_ms": round(net_ms, 2),
                   "shipped_ms": round(ms, 2), "kept": sum(shipped.results_["supported"]), "n": a.n,
                   "answered_by": answer_counts(shipped.results_["answered_by"])}  # fmt: skip
            if L <= POSTERIOR_MAX_L:
                row["posterior_ms"] = round(ms_per_instance(lambda x, T=T: exact_posterior(x, T, 0.1), X, a.repeats), 2)
            else:
                most = np.tile(np.arange(L) % QUOTIENT_MAX_G + 1, (X.shape[0], 1))  # the most groups it reads
                quotient = lambda x, T=T, g=most: quotient_posterior(x, T, 0.1, groups=g)  # noqa: E731
                row["quotient_ms"] = round(ms_per_instance(quotient, X, a.repeats), 2)
            rows.append(row)
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(json.dumps({"benchmark": "gate", "threads": 1, "repeats": a.repeats, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
