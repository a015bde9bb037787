"""How far can one replica-averaged instance be read? The issue-13 targets beside a one-step limit.

For each (R, T) cell: ``--n`` unseen random L = 12 lattices (25 edges), one heat-bath instance each (tau 0.1,
M 50, R replicas from one s(0)), read by the trivial guess, the inversion, the binary decoder, the replica decoder
(``replica_ml``), the general model with its confidence head (told R) and without it, and by the **one-step limit**:
the replica decoder's likelihood and prior, but with the exact replica average <tanh(h^r / T)>_r computed from every
replica's hidden spins for every candidate neighbour set (information an instance of replica means does not hold).
No decoder that scores each step from the means alone can know more about a step than that.

Also per cell: the error of the closure the replica decoder uses (independent spins with the replica means) on the
drift of the TRUE neighbour sets, |closure - <tanh(h^r / T)>_r| averaged over spins and lattices, at steps 1, 2, 5,
10, 20 and 48, beside the per-step noise of the increments; and, with ``--extra-model FILE``, another general model
file read without head (e.g. a network fine-tuned on replica data).

    python benchmarks/replica_limit.py --n 20      # JSON on stdout (results/replica_limit.json)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from isingviz.heatbath import closure_costs, combine_rows, set_marginals, subset_masks  # noqa: E402
from isingviz.lattice import adjacency_to_pairs, embed_rows, make_lattice, others_index  # noqa: E402
from isingviz.methods import reconstruct  # noqa: E402

L, E, TAU, M, PRIOR = 12, 25, 0.1, 50, 0.3
CELLS = [(1000, 1.0), (1000, 5.0), (100, 1.0)]  # the targets: >= 0.90, >= 0.85, >= 0.80
TARGETS = {(1000, 1.0): 0.90, (1000, 5.0): 0.85, (100, 1.0): 0.80}


def heat_bath(A: np.ndarray, s0: np.ndarray, T: float, R: int, rng: np.random.Generator) -> np.ndarray:
    """Every replica's spins (M, R, L): each step every spin is redrawn with probability tau from the heat bath."""
    s = np.tile(s0, (R, 1))
    out = [s.copy()]
    for _ in range(M - 1):
        up = rng.random((R, L)) < 0.5 * (1.0 + np.tanh(s @ A / T))
        s = np.where(rng.random((R, L)) < TAU, np.where(up, 1.0, -1.0), s)
        out.append(s.copy())
    return np.stack(out)


STEPS = (1, 2, 5, 10, 20, 48)


def closure_error(spins: np.ndarray, A: np.ndarray, T: float, R: int) -> tuple[np.ndarray, np.ndarray]:
    """|independent-spin closure - true replica average| of tanh(h / T) for the true neighbour sets, and the noise
    standard deviation of the increments r, both averaged over spins, at the steps in ``STEPS``."""
    err, noise = [], []
    h = np.arange(-L, L + 1)
    for m in STEPS:
        s = spins[m]  # (R, L)
        true = np.tanh(s @ A / T).mean(0)
        x = s.mean(0)
        closed = np.empty(L)
        for i in range(L):
            law = np.zeros(2 * L + 1)
            law[L] = 1.0
            for j in np.flatnonzero(A[i]):
                p = (1.0 + x[j]) / 2.0
                law = p * np.roll(law, 1) + (1.0 - p) * np.roll(law, -1)
            closed[i] = law @ np.tanh(h / T)
        err.append(float(np.abs(closed - true).mean()))
        per = 1.0 - ((1.0 - TAU) * s + TAU * np.tanh(s @ A / T)) ** 2
        noise.append(float(np.sqrt(per.mean() / R) / TAU))
    return np.array(err), np.array(noise)


def one_step_limit(spins: np.ndarray, T: float, R: int) -> np.ndarray:
    """Pair probabilities (K,) from the exact replica averages of every neighbour set (see the module docstring)."""
    x = spins.mean(1).T  # (L, M) replica means
    r = torch.from_numpy((x[:, 1:] - (1.0 - TAU) * x[:, :-1]) / TAU)
    xi = torch.from_numpy(x[:, :-1])
    masks = torch.from_numpy(subset_masks(L - 1))
    marg = []
    for i in range(L):
        so = torch.from_numpy(spins[:-1][:, :, others_index(L)[i]])  # (S, R, L-1)
        f = torch.tanh(torch.einsum("qn,srn->qsr", masks, so) / T).mean(-1)  # (Q, S)
        marg.append(set_marginals(closure_costs(f[None], xi[i : i + 1], r[i : i + 1], TAU, R, 1e-20), masks, PRIOR))
    return combine_rows(embed_rows(torch.cat(marg).numpy()[None]), PRIOR)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20, help="unseen lattices per cell, one instance each")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--extra-model", help="another general model file, read without its head (as 'extra')")
    a = ap.parse_args()
    torch.set_num_threads(1)
    cells = []
    for R, T in CELLS:
        rng = np.random.default_rng([a.seed, R, int(T * 10)])
        acc: dict[str, list[float]] = {}
        seconds: dict[str, float] = {}
        errs, noises = [], []
        for _ in range(a.n):
            A = make_lattice("random", L, rng, n_edges=E).astype(np.float64)
            spins = heat_bath(A, rng.choice([-1.0, 1.0], L), T, R, rng)
            x = spins.mean(1).T[None]  # (1, L, M): what an experiment records
            y = adjacency_to_pairs(A)
            e, nz = closure_error(spins, A, T, R)
            errs.append(e)
            noises.append(nz)
            preds = {"trivial": np.zeros_like(y)}
            t0 = time.perf_counter()
            preds["one_step_limit"] = (one_step_limit(spins, T, R) > 0.5).astype(np.int8)
            seconds["one_step_limit"] = seconds.get("one_step_limit", 0.0) + time.perf_counter() - t0
            runs = [
                ("replica_ml", {"replicas": R}),
                ("general", {"replicas": R}),
                ("general_raw", {"use_head": False}),
                ("binary_ml", {}),
                ("inversion", {}),
            ]
            if a.extra_model:
                runs.append(("extra", {"model": a.extra_model, "use_head": False}))
            for name, kw in runs:
                method = "general" if name.startswith("general") or name == "extra" else name
                t0 = time.perf_counter()
                preds[name] = reconstruct(method, x, T=T, tau=TAU, **kw).pred[0]
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
            for name, p in preds.items():
                acc.setdefault(name, []).append(float(np.mean(p == y)))
        cells.append(
            {
                "R": R,
                "T": T,
                "target": TARGETS[(R, T)],
                "n": a.n,
                "accuracy": {k: float(np.mean(v)) for k, v in acc.items()},
                "se": {k: float(np.std(v, ddof=1) / np.sqrt(len(v))) for k, v in acc.items()},
                "ms_per_instance": {k: 1e3 * v / a.n for k, v in seconds.items()},
                "closure_error": dict(zip(map(str, STEPS), np.mean(errs, 0).tolist())),
                "increment_noise_sd": dict(zip(map(str, STEPS), np.mean(noises, 0).tolist())),
            }
        )
        print(f"R={R} T={T}: " + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in acc.items()), file=sys.stderr)
    doc = {"command": "python benchmarks/replica_limit.py " + " ".join(sys.argv[1:]), "L": L, "edges": E,
           "tau": TAU, "M": M, "prior": PRIOR, "extra_model": a.extra_model, "cells": cells}  # fmt: skip
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
