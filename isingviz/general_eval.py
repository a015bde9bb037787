"""The general model in the reconstruction contract, and its evaluation on lattices never seen in training.

``General`` is a ``Reconstructor`` (name ``"general"``, knows Eq. 1's T and tau) wrapping a ``GeneralNet``, a
``LoadedModel`` of one, or a model file. ``evaluation_set`` draws unseen lattices for one (L, T, noise) cell and
``evaluate_grid`` runs several methods on the same instances, with accuracy and wall time per instance.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .baselines_core import Reconstructor
from .dynamics import simulate
from .lattice import adjacency_to_pairs, make_lattice


def _as_net(model: Any) -> nn.Module:
    if isinstance(model, (str, bytes, os.PathLike)):
        from .store import load_model

        model = load_model(model)
    net = getattr(model, "model", model)  # a LoadedModel holds the network in .model
    if not (isinstance(net, nn.Module) and hasattr(net, "pair_logits")):
        raise ValueError(
            f"general needs a GeneralNet, a LoadedModel of one or a model file, got {type(model).__name__}"
        )
    return net


class General(Reconstructor):
    """The general model (``isingviz.general``): any L and M, one instance, knows T and tau.

    Score = the network's pair probability of an edge; rule: threshold 1/2 (argmax). ``threads`` (default 1)
    is the torch CPU thread count while predicting. ``rounds`` (default: the model's) runs fewer or more
    refinement rounds: every round's output was trained, so fewer rounds trade accuracy for time.
    """

    name = "general"
    needs = ("T", "tau")
    has_proba = True

    def __init__(self, model: Any, threads: int | None = 1, batch: int = 64, rounds: int | None = None) -> None:
        self.model = _as_net(model)
        if rounds is not None and not 0 <= rounds <= 16:
            raise ValueError(f"rounds must be in 0..16 or None, got {rounds}")
        self.threads, self.batch, self.rounds = threads, batch, rounds

    def __repr__(self) -> str:
        return f"General(threads={self.threads!r}, rounds={self.rounds!r})"

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        kept = self.model.rounds
        self.model.rounds = kept if self.rounds is None else self.rounds
        try:
            p1 = predict_edge_proba(self.model, x, know["T"], know["tau"], threads=self.threads, batch=self.batch)
        finally:
            self.model.rounds = kept
        return p1, np.stack([1.0 - p1, p1], axis=-1)


@torch.no_grad()
def predict_edge_proba(
    model: nn.Module, x: np.ndarray, T: Any, tau: float, threads: int | None = 1, batch: int = 64
) -> np.ndarray:
    """Instances (B, L, M) at T (scalar or (B,)) -> p(edge) (B, K) float64, in eval mode, ``batch`` at a time."""
    x = np.asarray(x, dtype=np.float64)
    T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (x.shape[0],))
    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    was = model.training
    model.eval()
    try:
        out = [
            model(torch.from_numpy(x[i : i + batch]), torch.from_numpy(T_arr[i : i + batch].copy()), tau)[..., 1]
            .exp()
            .double()
            .numpy()
            for i in range(0, x.shape[0], batch)
        ]
    finally:
        model.train(was)
        torch.set_num_threads(old)
    return np.concatenate(out)


def default_edges(L: int) -> int:
    """Edge count of the evaluation's random lattices: 25 (L / 12)^2 (the paper's 25 at L = 12, 44 at L = 16)."""
    return int(round(25 * (L / 12) ** 2))


def evaluation_set(
    L: int,
    T: float,
    noise: float,
    n: int,
    seed: int,
    family: str = "random",
    tau: float = 0.1,
    M: int = 50,
    mean_degree: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """n unseen lattices of ``family``, one instance each: X (n, L, M), y (n, K).

    Random lattices have ``default_edges(L)`` edges, or round(mean_degree L / 2) when ``mean_degree`` is given;
    other families use their default parameters. Every lattice is randomly relabelled.
    """
    rng = np.random.default_rng([seed, L, int(T * 1000), int(noise * 1e6), 7])
    if family == "random":
        E = default_edges(L) if mean_degree is None else int(round(mean_degree * L / 2))
        A = np.stack([make_lattice("random", L, rng, n_edges=min(E, L * (L - 1) // 2)) for _ in range(n)])
    else:
        A = np.stack([make_lattice(family, L, rng) for _ in range(n)])
    p = [rng.permutation(L) for _ in range(n)]
    A = np.stack([a[np.ix_(q, q)] for a, q in zip(A, p)])
    X = simulate(A, rng.choice(np.array([-1.0, 1.0]), (n, L)), T, tau, M)
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return X, np.stack([adjacency_to_pairs(a) for a in A])


def evaluate_grid(
    methods: dict[str, Callable[[int], Reconstructor | None]],
    Ls: Sequence[int] = (8, 12, 16, 24, 32),
    Ts: Sequence[float] = (0.4, 1.0, 5.0, 10.0, 50.0),
    noises: Sequence[float] = (0.0, 1e-3, 1e-2),
    n: int = 20,
    seed: int = 1000,
    family: str = "random",
    tau: float = 0.1,
    M: int = 50,
    progress: Callable[[dict], None] | None = None,
    mean_degree: float | None = None,
) -> list[dict[str, Any]]:
    """Every method on the same unseen instances of every (L, T, noise) cell.

    ``methods`` maps a name to a factory ``f(L) -> Reconstructor`` (None: not feasible at that L); methods whose
    default rule is top-E are told each instance's true edge count. Returns rows
    {L, T, noise, family, n, edges (mean), trivial accuracy, and per method: accuracy and ms per instance}.
    """
    rows = []
    for L in Ls:
        for T in Ts:
            for noise in noises:
                X, y = evaluation_set(L, T, noise, n, seed, family, tau, M, mean_degree)
                row: dict[str, Any] = {
                    "L": L,
                    "T": T,
                    "noise": noise,
                    "family": family,
                    "n": n,
                    "edges": float(y.sum(1).mean()),
                    "trivial": float(1 - y.mean()),
                }
                for name, make in methods.items():
                    rec = make(L)
                    if rec is None:
                        continue
                    t0 = time.perf_counter()
                    with warnings.catch_warnings():  # the CNN warns away from its training T: intended here
                        warnings.simplefilter("ignore")
                        if rec.default_rule == "top_e":  # told the true edge count
                            pred = rec.predict(X, T=T, tau=tau, n_edges=y.sum(1))
                        else:
                            pred = rec.predict(X, T=T, tau=tau)
                    row[name] = float((pred == y).mean())
                    row[f"{name}_ms"] = 1e3 * (time.perf_counter() - t0) / n
                rows.append(row)
                if progress:
                    progress(row)
    return rows
