"""Binary maximum-likelihood decoder: Eq. 1 plus the prior that every coupling is 0 or 1.

Per spin i, with r_i(m) = (s_i(m+1) - (1 - tau) s_i(m)) / tau (= tanh(h_i(m) / T) under Eq. 1), choose the 0/1
neighbour set a over the other L-1 spins minimising

    c_i(a) = sum_{m=0}^{M-2} (r_i(m) - tanh(a . s(m) / T))^2,

exhaustively over all 2^(L-1) sets for L <= ``exhaustive_max_L``, else by a local search.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..heatbath import flip_moves, subset_masks
from ..lattice import embed_rows, others_index
from ..learn.general.features import noise_floor
from .base import Reconstructor, increments, pair_values
from .physics import inversion_rows

COMBINES = ("product", "mean", "and", "or")
_CLIP = 1e-12  # directed marginals are kept in [1e-12, 1 - 1e-12] before they are combined


def _noise_var(best_cost: np.ndarray, n_steps: int, floor: float) -> np.ndarray:
    """sigma^2 of r from the best set's residual, at least ``floor`` (float64 rounding: sets whose costs differ
    only by rounding, e.g. two spins with identical trajectories, stay equally likely)."""
    return np.maximum(best_cost / n_steps, floor)


def exhaustive_costs(
    xo: np.ndarray,
    r: np.ndarray,
    T: float,
    whitens: tuple[np.ndarray | None, ...] = (None,),
    chunk_bytes: int = 32_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """c_i(a) of every 0/1 set a of every row: xo (N, L-1, S) other spins' states, r (N, S) -> costs
    (len(whitens), N, 2^(L-1)) and the sets (2^(L-1), L-1) (``heatbath.subset_masks``). Per whitener W (S, S)
    the cost is |W (r - tanh)|^2 (correlated increments, ``posterior.increment_whitener``); None: |r - tanh|^2.
    The fields of all sets are one matrix product per chunk of rows; torch does the arithmetic (float64; its tanh
    is ~2x numpy's)."""
    N, n, S = xo.shape
    masks = subset_masks(n)  # (P, n)
    P = masks.shape[0]
    rows = max(1, chunk_bytes // (8 * P * S))
    masks_t = torch.from_numpy(masks)
    xo_t = torch.from_numpy(np.ascontiguousarray(np.swapaxes(xo, 0, 1)) / T)  # (n, N, S)
    r_t = torch.from_numpy(np.ascontiguousarray(r))  # (N, S)
    w_t = [None if W is None else torch.from_numpy(np.array(W, dtype=np.float64).T.copy()) for W in whitens]  # owned
    cost = np.empty((len(whitens), N, P))
    for c in range(0, N, rows):
        k = min(N, c + rows) - c
        F = torch.matmul(masks_t, xo_t[:, c : c + k].reshape(n, k * S)).view(P, k, S)  # fields h / T of every set
        F.tanh_().sub_(r_t[c : c + k])
        for i, W in enumerate(w_t):
            cost[i, c : c + k] = (F if W is None else F @ W).square().sum(dim=2).T.numpy()  # (k, P)
    return cost, masks


def exhaustive_rows(
    xo: np.ndarray, r: np.ndarray, T: float, floor: float = 1e-26, chunk_bytes: int = 32_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Every 0/1 set for every row: xo (N, L-1, S) other spins' states, r (N, S) -> best set (N, L-1), marginals.

    The marginal P(a_j = 1) is the posterior weight of the sets containing j under a Gaussian likelihood
    exp(-c(a) / (2 sigma^2)) with a uniform prior over sets, sigma^2 = max(min_a c(a) / S, floor)
    (``exhaustive_costs``).
    """
    cost, masks = exhaustive_costs(xo, r, T, chunk_bytes=chunk_bytes)
    cost = cost[0]
    cmin = cost.min(axis=1, keepdims=True)
    w = np.exp(-(cost - cmin) / (2.0 * _noise_var(cmin, xo.shape[2], floor)))  # (N, P), best = 1
    return masks[cost.argmin(axis=1)], (w @ masks) / w.sum(axis=1, keepdims=True)


def move_costs(
    xo: np.ndarray, r: np.ndarray, a: np.ndarray, T: float, moves: np.ndarray, chunk_bytes: int = 32_000_000
) -> np.ndarray:
    """Cost of a XOR move for every move (Q, n), sets a (N, n), rows xo (N, n, S), r (N, S) -> (N, Q)."""
    N, n, S = xo.shape
    out = np.empty((N, moves.shape[0]))
    step = max(1, chunk_bytes // (8 * moves.shape[0] * S))
    for c in range(0, N, step):
        sl = slice(c, c + step)
        h = np.einsum("nj,njs->ns", a[sl], xo[sl])  # (c, S)
        delta = (moves[None, :, :] * (1.0 - 2.0 * a[sl])[:, None, :]) @ xo[sl]  # (c, Q, S): change of the field
        d = np.tanh((h[:, None, :] + delta) / T) - r[sl, None, :]
        out[sl] = np.einsum("nqs,nqs->nq", d, d)
    return out


def local_search_rows(
    xo: np.ndarray,
    r: np.ndarray,
    T: float,
    starts: list[np.ndarray],
    max_sweeps: int,
    depth: int = 2,
    floor: float = 1e-26,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Best-improving moves (flip one bit, or two when ``depth`` = 2: add, remove or swap neighbours) from each
    start until no move helps; every row of every start at once.

    Returns the best local optimum over the starts (N, n), marginals from its single-flip neighbours (bit j has
    P(a_j = current) = 1 / (1 + exp(-(c(flip j) - c) / (2 sigma^2)))), and the number of sets evaluated per row.
    """
    N, n, S = xo.shape
    moves = flip_moves(n, depth)  # (Q, n)
    a = np.concatenate([a0.astype(np.float64) for a0 in starts])  # (n_starts N, n)
    xs, rs = np.concatenate([xo] * len(starts)), np.concatenate([r] * len(starts))
    c = np.einsum("ns,ns->n", *(2 * [np.tanh(np.einsum("nj,njs->ns", a, xs) / T) - rs]))
    evaluated = 0
    for _ in range(max_sweeps):
        mc = move_costs(xs, rs, a, T, moves)  # (n_starts N, Q)
        evaluated += moves.shape[0] * len(starts)
        q = mc.argmin(axis=1)
        better = np.flatnonzero(mc[np.arange(a.shape[0]), q] < c)
        if better.size == 0:
            break
        a[better] = np.abs(a[better] - moves[q[better]])  # a XOR move
        c[better] = mc[better, q[better]]
    pick = c.reshape(len(starts), N).argmin(axis=0)  # best start per row
    rows = pick * N + np.arange(N)
    best_a, best_c = a[rows], c[rows]
    fc = move_costs(xo, r, best_a, T, np.eye(n))  # (N, n) single flips
    z = (fc - best_c[:, None]) / (2.0 * _noise_var(best_c, S, floor)[:, None])  # >= 0 at a local optimum
    p_keep = 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))
    return best_a, np.where(best_a == 1.0, p_keep, 1.0 - p_keep), evaluated


def combine_directions(P: np.ndarray, how: str) -> np.ndarray:
    """Directed edge probabilities P (B, L, L), P[b, i, j] from spin i's row -> pair probabilities (B, K)."""
    a = np.clip(pair_values(P), _CLIP, 1.0 - _CLIP)
    b = np.clip(pair_values(np.swapaxes(P, 1, 2)), _CLIP, 1.0 - _CLIP)
    if how == "product":
        return a * b / (a * b + (1.0 - a) * (1.0 - b))
    if how == "mean":
        return 0.5 * (a + b)
    if how == "and":
        return np.minimum(a, b)
    if how == "or":
        return np.maximum(a, b)
    raise ValueError(f"combine must be one of {COMBINES}, got {how!r}")


class BinaryML(Reconstructor):
    """Binary maximum-likelihood decoder (knows Eq. 1, T, tau, and that couplings are 0 or 1), from ONE instance.

    For each spin i: a_i = argmin over 0/1 sets a of sum_m (r_i(m) - tanh(a . s(m) / T))^2 (see the module
    docstring); exhaustive over the 2^(L-1) sets when L <= ``exhaustive_max_L`` (vectorised: every set's fields
    at once, in chunks), else a local search (best of all one- and two-bit flips: add, remove or swap
    neighbours) started from the empty set and from the rounded inversion (``inversion_rows``), at most
    ``max_sweeps`` moves (default 4 L). Per directed pair, P(a_ij = 1) is the posterior marginal under a
    Gaussian likelihood exp(-c / (2 sigma^2)), sigma^2 = the best set's mean squared residual (exhaustive: over
    all sets; local search: from the single-flip neighbours). Measured at L=12, forcing the local search, it
    finds the exhaustive optimum for 81-86% of rows under noise 1e-3 (accuracy 0.79 vs 0.89 at T=1, 0.87 vs
    0.93 at T=5) and all of them on clean data.
    The two directions i -> j and j -> i are combined by ``combine``: "product" (default: independent evidence,
    p = p_ij p_ji / (p_ij p_ji + (1 - p_ij)(1 - p_ji)), so the surer direction wins and a confident disagreement
    is a tie, read as no edge), "mean", "and" (min) or "or" (max). Score = pair probability; rule: threshold 1/2.
    ``results_``: ``search`` ("exhaustive" or "local"), ``sets_per_spin``; ``last_seconds`` is the wall time.
    Much more robust than the inversion at low T and under noise (science.md, "Methods that do not learn").
    """

    name = "binary_ml"
    needs = ("T", "tau")
    has_proba = True

    def __init__(
        self,
        exhaustive_max_L: int = 14,
        combine: str = "product",
        max_sweeps: int | None = None,
        chunk_bytes: int = 32_000_000,
    ) -> None:
        if combine not in COMBINES:
            raise ValueError(f"combine must be one of {COMBINES}, got {combine!r}")
        if not 2 <= exhaustive_max_L <= 20:
            raise ValueError(f"exhaustive_max_L must be in 2..20 (2^(L-1) sets per spin), got {exhaustive_max_L}")
        if max_sweeps is not None and max_sweeps < 1:
            raise ValueError(f"max_sweeps must be >= 1 or None, got {max_sweeps}")
        self.exhaustive_max_L, self.combine = exhaustive_max_L, combine
        self.max_sweeps, self.chunk_bytes = max_sweeps, chunk_bytes

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        T, tau = know["T"], know["tau"]
        B, L, M = x.shape
        r = increments(x, tau).reshape(B * L, M - 1)  # (B L, S)
        xo = x[:, others_index(L), :-1].reshape(B * L, L - 1, M - 1)  # (B L, L-1, S)
        floor = noise_floor(tau)  # variance of r from float64 rounding of the momenta (~1e-15 each)
        if L <= self.exhaustive_max_L:
            _, marg = exhaustive_rows(xo, r, T, floor, self.chunk_bytes)
            self.results_.update(search="exhaustive", sets_per_spin=2 ** (L - 1))
        else:
            A_inv, _ = inversion_rows(x, T, tau)
            start = (A_inv[:, np.arange(L)[:, None], others_index(L)] > 0.5).reshape(B * L, L - 1)
            starts = [np.zeros((B * L, L - 1)), start.astype(np.float64)]
            _, marg, n_eval = local_search_rows(xo, r, T, starts, self.max_sweeps or 4 * L, floor=floor)
            self.results_.update(search="local", sets_per_spin=n_eval)
        P = embed_rows(marg.reshape(B, L, L - 1))  # (B, L, L) directed marginals
        p1 = combine_directions(P, self.combine)
        return p1, np.stack([1.0 - p1, p1], axis=-1)
