"""Instances per second of ``isingviz.dynamics.simulate`` for the paper's dataset size, as JSON.

Usage: python benchmarks/bench_simulate.py [--n 25000] [--repeats 7] [--threads 2]
One lattice (L=12, 25 edges) shared by the batch, tau=0.1, M=50, T=0.4. Best of several repeats after a
warm-up, and, in the same process, a plain batched numpy loop over time for the ratio.
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
from isingviz.dynamics import simulate  # noqa: E402
from isingviz.lattice import random_lattice  # noqa: E402


def numpy_loop(A: np.ndarray, s0: np.ndarray, T: float, tau: float, M: int, dtype: type) -> np.ndarray:
    """The plain batched version: one numpy matmul + tanh per time step, (B, L, M) out."""
    J = (A / T).astype(dtype)
    s = s0.astype(dtype)
    out = np.empty((s.shape[0], s.shape[1], M), dtype=dtype)
    out[:, :, 0] = s
    for m in range(M - 1):
        s = s + dtype(tau) * (-s + np.tanh(s @ J))
        out[:, :, m + 1] = s
    return out


def best_rate(fn, n: int, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return n / min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=25_000, help="instances per call (paper: 25,000)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    A = random_lattice(12, 25, seed=0)
    s0 = np.random.default_rng(0).choice([-1.0, 1.0], size=(args.n, 12))
    T, tau, M = 0.4, 0.1, 50
    result = {"n_instances": args.n, "L": 12, "M": M, "tau": tau, "T": T, "torch_threads": torch.get_num_threads()}
    for name, dt in (("float32", np.float32), ("float64", np.float64)):
        ours = best_rate(lambda dt=dt: simulate(A, s0, T, tau, M, dtype=dt), args.n, args.repeats)
        plain = best_rate(lambda dt=dt: numpy_loop(A, s0, T, tau, M, dt), args.n, args.repeats)
        result[name] = {
            "instances_per_s": round(ours),
            "numpy_loop_instances_per_s": round(plain),
            "ratio_vs_numpy_loop": round(ours / plain, 2),
        }
    result["goal_float32_instances_per_s"] = 250_000
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
