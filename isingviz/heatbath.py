"""Replica-averaged heat-bath dynamics: the one-step likelihood of the replica means, and a 0/1 decoder on it.

Data: the stochastic mode of ``isingviz.dynamics.simulate``. Each of R replicas redraws every spin with
probability tau per step from the heat bath, P(sigma_i = +1) = (1 + tanh(h_i / T)) / 2, and the instance is the
replica mean x(m). Conditioned on every replica's spins, the next mean has

    E[x_i(m+1)] = (1 - tau) x_i(m) + tau <tanh(h_i^r(m) / T)>_r,
    Var[x_i(m+1)] = (1 / R) <1 - ((1 - tau) sigma_i^r + tau tanh(h_i^r / T))^2>_r.

Only the means x(m) are observed, so the replica average of tanh is *closed*: the spins of a replica are taken
independent, each +/-1 with mean x_j(m). For a 0/1 neighbour set a the law of h = sum_j a_j sigma_j is then
exact (``subset_field_laws``, every set at once); where sets are searched locally, a Gaussian with mean a . x and
variance sum_j a_j (1 - x_j^2) stands in (``closure_mean``, Gauss-Hermite). All replicas start from the same s(0),
so the first steps are (near) exact; the closure errs later, when spins inside a replica correlate (at low T).

``decode`` chooses, per spin, the 0/1 neighbour set that minimises the negative log-likelihood of its
increments r_i(m) = (x_i(m+1) - (1 - tau) x_i(m)) / tau under that Gaussian (``closure_costs``; at a step where
all of the spin's replicas agree, x_i = +/-1 recorded without noise, the exact binomial law of how many of them
flip instead, which the Gaussian misjudges near saturation), with a Bernoulli(prior) on each coupling:
exhaustively over all 2^(L-1) sets (posterior marginals) up to ``exhaustive_max_L``, else by a local search
(marginals from the single flips). The two directions i -> j and j -> i multiply their evidence. Exhaustively, the
prior's density can also be learnt from the instance (``density_rows``, ``learned_density``): every set's cost is
at hand, so each row's marginal likelihood under each density of a grid is a sum, and the rows together weigh the
grid (a complete lattice and a perfect matching need opposite priors; at high T the instance tells them apart by
its total field long before single pairs stand out).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from .lattice import embed_rows, others_index

_NODES = 15  # Gauss-Hermite nodes for the smooth part of E[tanh]: within 0.015 of it at T >= 0.4, field variance <= 9
EXHAUSTIVE_MAX_L = 12  # 2^(L-1) sets per spin, each with a field law of 2L - 1 values: feasible up to here
# the grid of densities pi that a decoder learning the density from the instance weighs (here and in
# ``methods.posterior``), and its hyperprior Beta(1, HYPER_B): mean 1/3, like the fixed prior 0.3, so that an
# instance without information leans to "no edge" (uniform: a tree at T = 50 under noise 1e-2 got 41 edges in one
# Eq. 1 instance of 8)
DENSITIES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
HYPER_B = 2.0
FALLBACK_PRIOR = 0.3  # the fixed prior where the density cannot be learnt (``decode`` with prior None, local search)


def subset_masks(n: int) -> np.ndarray:
    """All 2^n subsets of n items as 0/1 rows (2^n, n) float64; bit j of the row index is item j."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


def flip_moves(n: int, depth: int) -> np.ndarray:
    """Moves of a local search over n bits: all single flips, plus all pairs of flips when depth = 2; (Q, n)."""
    moves = [np.eye(n)]
    if depth >= 2:
        i, j = np.triu_indices(n, 1)
        two = np.zeros((i.size, n))
        two[np.arange(i.size), i] = two[np.arange(i.size), j] = 1.0
        moves.append(two)
    return np.concatenate(moves)


@functools.lru_cache(maxsize=1)  # called on every set evaluation of the local search: the nodes never change
def _quadrature() -> tuple[torch.Tensor, torch.Tensor]:
    xi, w = np.polynomial.hermite_e.hermegauss(_NODES)
    return torch.from_numpy(xi), torch.from_numpy(w / w.sum())


def closure_mean(mu: torch.Tensor, var: torch.Tensor, T: float) -> torch.Tensor:
    """E[tanh(z / T)] for z ~ N(mu, var), elementwise (float64 torch tensors of one shape).

    tanh(u) is within 0.02 of erf(sqrt(pi) u / 2), whose Gaussian mean is closed-form; quadrature is left only
    the small, smooth difference (a quadrature of tanh itself fails at low T, where tanh(z / T) is a step).
    """
    xi, w = _quadrature()
    a = math.sqrt(math.pi) / (2.0 * T)
    v = var.clamp_min(0.0)
    z = mu.unsqueeze(-1) + v.sqrt().unsqueeze(-1) * xi
    return torch.erf(a * mu / torch.sqrt(1.0 + 2.0 * a * a * v)) + (torch.tanh(z / T) - torch.erf(a * z)) @ w


def subset_field_laws(xo: torch.Tensor, T: float) -> torch.Tensor:
    """E[tanh(h / T)] for EVERY 0/1 subset of the n neighbours, h = sum of the chosen spins, the spins independent
    +/-1 with means xo: xo (N, n, S) -> (N, 2^n, S), subset index as ``subset_masks`` (bit j = neighbour j).

    The law of h is built by doubling: the subsets that contain neighbour j are those without it, convolved with
    that spin's two values; the field takes the values -n..n.
    """
    N, n, S = xo.shape
    W = 2 * n + 1
    law = torch.zeros((N, 1, W, S), dtype=xo.dtype)
    law[:, :, n] = 1.0
    p_up = ((1.0 + xo.clamp(-1.0, 1.0)) / 2.0).unsqueeze(1)  # (N, 1, n, S)
    for j in range(n):
        p = p_up[:, :, j : j + 1]  # (N, 1, 1, S)
        added = torch.zeros_like(law)
        added[:, :, 1:] = law[:, :, :-1] * p
        added[:, :, :-1] += law[:, :, 1:] * (1.0 - p)
        law = torch.cat([law, added], dim=1)
    h = torch.arange(-n, n + 1, dtype=xo.dtype)
    return torch.einsum("nqhs,h->nqs", law, torch.tanh(h / T))


EXACT_OBS_VAR = 1e-12  # below this observation variance the replica means are taken as recorded exactly
_COUNT_TOL = 1e-6  # a flip count within this of an integer is one


def _flips(xi: torch.Tensor, r: torch.Tensor, tau: float, R: int) -> torch.Tensor:
    """How many of a spin's R replicas flipped in a step, (N, S), if they all sat at x_i = +/-1 before it."""
    return R * tau * (1.0 - torch.sign(xi) * r) / 2.0


def aligned_steps(xi: torch.Tensor, r: torch.Tensor, tau: float, R: int, obs_var: float) -> torch.Tensor:
    """Where the flips of a step can be counted, (N, S) bool: the spin's R replicas all agree (x_i = +/-1), the
    means are recorded without observation noise, and the next mean says a whole number of replicas flipped."""
    if obs_var >= EXACT_OBS_VAR:
        return torch.zeros_like(xi, dtype=torch.bool)
    k = _flips(xi, r, tau, R)
    return (xi.abs() >= 1.0 - 1e-12) & ((k - k.round()).abs() < _COUNT_TOL)


def closure_costs(
    f: torch.Tensor, xi: torch.Tensor, r: torch.Tensor, tau: float, R: int, obs_var: float
) -> torch.Tensor:
    """Negative log-likelihood of each set from its replica-mean drift f (N, Q, S): xi (N, S) the spin's own mean,
    r (N, S) its increments -> (N, Q).

    A Gaussian around f with the replicas' variance, except at the ``aligned_steps``: there every replica of the
    spin sits at s = x_i, each flips with probability q = tau (1 - s f) / 2, and the k that flipped are counted
    exactly, binomially (up to a constant of the data). Near saturation (f -> s) the Gaussian's variance, and with
    it its log-density, collapses: a spin that stays put then scored ~2.8 nats per step (T = 0.4, R = 10) for a
    stronger field that it does not need, where the count's probability changes by ~0.007, and the decoder read
    edges between all the spins that had settled (a star's leaves).
    """
    per_replica = 1.0 - (1.0 - tau) ** 2 - 2.0 * tau * (1.0 - tau) * xi.unsqueeze(1) * f - tau**2 * f**2
    var = per_replica.clamp_min(1e-3 * tau**2) / (R * tau**2) + obs_var  # variance of r
    cost = 0.5 * (r.unsqueeze(1) - f) ** 2 / var + 0.5 * torch.log(var)
    counted = aligned_steps(xi, r, tau, R, obs_var)
    if bool(counted.any()):
        k = _flips(xi, r, tau, R).round().unsqueeze(1)
        q = (tau * (1.0 - torch.sign(xi).unsqueeze(1) * f) / 2.0).clamp(1e-300, 1.0 - 1e-16)
        exact = -(k * torch.log(q) + (R - k) * torch.log1p(-q))
        cost = torch.where(counted.unsqueeze(1), exact, cost)
    return cost.sum(-1)


def set_costs(
    sets: torch.Tensor, xo: torch.Tensor, vo: torch.Tensor, xi: torch.Tensor, r: torch.Tensor, T: float, tau: float,
    R: int, obs_var: float,
) -> torch.Tensor:  # fmt: skip
    """Negative log-likelihood of each set: sets (N, Q, n), xo / vo (N, n, S) neighbours' means and variances
    1 - x^2, xi (N, S) the spin's own mean, r (N, S) its increments -> (N, Q)."""
    return closure_costs(closure_mean(sets @ xo, sets @ vo, T), xi, r, tau, R, obs_var)


def set_marginals(cost: torch.Tensor, sets: torch.Tensor, prior: float = 0.5) -> torch.Tensor:
    """Posterior P(a_j = 1) under exp(-cost), each coupling 1 with prior probability ``prior``: cost (N, Q),
    sets (Q, n) -> (N, n)."""
    log_prior = sets.sum(1) * float(np.log(prior / (1.0 - prior)))  # (Q,)
    w = torch.softmax(-cost + log_prior, dim=1)
    return w @ sets


def combine_rows(P: np.ndarray, prior: float) -> np.ndarray:
    """Directed marginals P (B, L, L) -> pair probabilities (B, K): the two rows' evidence multiplied, the prior
    counted once (each row's marginal already holds it)."""
    lo = np.log(prior / (1.0 - prior))
    clip = 1e-12
    iu, ju = np.triu_indices(P.shape[-1], 1)
    a = np.clip(P[:, iu, ju], clip, 1.0 - clip)
    b = np.clip(P[:, ju, iu], clip, 1.0 - clip)
    z = np.log(a / (1.0 - a)) + np.log(b / (1.0 - b)) - lo
    return 1.0 / (1.0 + np.exp(-z))


def density_rows(cost: torch.Tensor, sets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row and grid density pi (``DENSITIES``): the log marginal likelihood log sum_a exp(-cost(a)) pi^|a|
    (1 - pi)^(n - |a|) (N, G) and the posterior marginals P(a_j = 1) (N, G, n); cost (N, Q), sets (Q, n)."""
    pis = torch.tensor(DENSITIES, dtype=torch.float64)
    k = sets.sum(1)  # (Q,)
    log_prior = k * pis.log()[:, None] + (sets.shape[1] - k) * torch.log1p(-pis)[:, None]  # (G, Q)
    joint = -cost.unsqueeze(1) + log_prior  # (N, G, Q)
    return torch.logsumexp(joint, dim=2), torch.softmax(joint, dim=2) @ sets


def learned_density(
    evidence: np.ndarray, marg: np.ndarray, hyper_b: float = HYPER_B
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The density integrated out: rows' log evidence (B, L, G) and marginals (B, L, G, L - 1) per grid density
    (``density_rows``) -> pair probabilities (B, K), the posterior mean density (B,) and the pair probabilities at
    each grid density (B, G, K). The rows multiply their evidence (as ``methods.posterior`` does, each pair
    counted by its two rows), the hyperprior is Beta(1, ``hyper_b``); each grid point's pairs combine their rows
    with its own pi counted once."""
    pis = np.asarray(DENSITIES)
    B, L, G = evidence.shape
    log_w = evidence.sum(1) + (hyper_b - 1.0) * np.log1p(-pis)  # (B, G)
    w = np.exp(log_w - log_w.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    P = embed_rows(np.moveaxis(marg, 2, 1).reshape(B * G, L, L - 1))  # (B G, L, L)
    per_g = np.stack([combine_rows(P[g::G], pis[g]) for g in range(G)], axis=1)  # (B, G, K)
    return np.einsum("bg,bgk->bk", w, per_g), w @ pis, per_g


def _local_search(
    xo: torch.Tensor, vo: torch.Tensor, xi: torch.Tensor, r: torch.Tensor, args: tuple, prior: float,
    max_sweeps: int | None, chunk_bytes: int,
) -> tuple[torch.Tensor, int]:  # fmt: skip
    """Best-improving one- and two-bit flips from the empty set, every row at once (in chunks of rows); returns
    the marginals from the optimum's single flips (N, n) and the sets tried per row."""
    N, n, S = xo.shape
    lo = float(np.log(prior / (1.0 - prior)))
    moves = torch.from_numpy(flip_moves(n, 2))  # (Q, n)
    rows = max(1, chunk_bytes // (8 * _NODES * moves.shape[0] * S))
    flips = torch.eye(n, dtype=torch.float64)
    marg = torch.empty((N, n), dtype=torch.float64)
    tried = 0
    for c0 in range(0, N, rows):
        sl = slice(c0, min(N, c0 + rows))

        def cost(sets: torch.Tensor, sl: slice = sl) -> torch.Tensor:  # minus the log posterior, up to a constant
            return set_costs(sets, xo[sl], vo[sl], xi[sl], r[sl], *args) - lo * sets.sum(-1)

        a = torch.zeros((sl.stop - c0, n), dtype=torch.float64)
        c = cost(a.unsqueeze(1))[:, 0]
        sweeps = 0
        while sweeps < (max_sweeps or 4 * (n + 1)):
            cand = (a.unsqueeze(1) - moves).abs()  # (rows, Q, n): a XOR move
            best, q = cost(cand).min(dim=1)
            sweeps += 1
            better = best < c - 1e-12
            if not bool(better.any()):
                break
            a[better] = cand[better, q[better]]
            c[better] = best[better]
        tried = max(tried, sweeps * moves.shape[0])
        p_keep = torch.sigmoid((cost((a.unsqueeze(1) - flips).abs()) - c.unsqueeze(1)).clamp(-700, 700))
        marg[sl] = torch.where(a == 1.0, p_keep, 1.0 - p_keep)
    return marg, tried


def decode(
    x: np.ndarray,
    T: float,
    tau: float,
    R: int,
    *,
    noise: float = 0.0,
    prior: float | None = 0.3,
    exhaustive_max_L: int = EXHAUSTIVE_MAX_L,
    max_sweeps: int | None = None,
    chunk_bytes: int = 64_000_000,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Pair probabilities (B, K) (``numpy.triu_indices`` order) of replica-mean instances x (B, L, M).

    Args:
        x: replica means, float64 (B, L, M).
        T, tau, R: temperature, time step and replica count of the heat-bath dynamics.
        noise: observation noise sigma on top (0 if none); it widens the likelihood.
        prior: probability of a coupling before the data (also the level a pair without evidence falls back to);
            None: the density learnt from the instance, integrated out over ``DENSITIES`` with the hyperprior
            Beta(1, ``HYPER_B``) (``learned_density``: a complete lattice and a perfect matching need opposite
            priors, and at high T and many replicas the instance tells them apart). Only the exhaustive search
            weighs every set, as the density's evidence needs; the local search uses ``FALLBACK_PRIOR`` instead.
        exhaustive_max_L: largest L searched exhaustively; above it, a local search.
        max_sweeps: moves of the local search (default 4 L).
        chunk_bytes: working memory per chunk of rows.

    Returns:
        The pair probabilities and ``{"search": "exhaustive" | "local", "sets_per_spin": int, "density": (B,)}``,
        the density the pairs were read with (learnt: its posterior mean; else the prior); with the density
        learnt, also ``"p_fixed_prior"`` (B, K): the pairs read from the same costs with ``FALLBACK_PRIOR`` fixed.
    """
    if prior is not None and not 0.0 < prior < 1.0:
        raise ValueError(f"prior must be in (0, 1) or None (learnt from the instance), got {prior!r}")
    B, L, M = x.shape
    S = M - 1
    obs_var = noise**2 * (1.0 + (1.0 - tau) ** 2) / tau**2 + (1e-14 / tau) ** 2  # rounding of the momenta at least
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    r = (xt[:, :, 1:] - (1.0 - tau) * xt[:, :, :-1]).reshape(B * L, S) / tau
    xi = xt[:, :, :-1].reshape(B * L, S)
    xo = xt[:, others_index(L), :-1].reshape(B * L, L - 1, S)
    if L <= exhaustive_max_L:
        masks = torch.from_numpy(subset_masks(L - 1))
        rows = max(1, chunk_bytes // (8 * (2 * L) * masks.shape[0] * S))
        costs = (
            closure_costs(subset_field_laws(xo[c : c + rows], T), xi[c : c + rows], r[c : c + rows], tau, R, obs_var)
            for c in range(0, B * L, rows)
        )
        info: dict[str, Any] = {"search": "exhaustive", "sets_per_spin": int(masks.shape[0])}
        if prior is None:
            ev, mg = zip(*(density_rows(c, masks) for c in costs))
            G = len(DENSITIES)
            p, info["density"], per_g = learned_density(
                torch.cat(ev).numpy().reshape(B, L, G), torch.cat(mg).numpy().reshape(B, L, G, L - 1)
            )
            info["p_fixed_prior"] = per_g[:, DENSITIES.index(FALLBACK_PRIOR)]  # the same costs, the prior fixed
            return p, info
        marg = torch.cat([set_marginals(c, masks, prior) for c in costs])
    else:
        prior = FALLBACK_PRIOR if prior is None else prior
        vo = (1.0 - xo**2).clamp_min(0.0)
        marg, tried = _local_search(xo, vo, xi, r, (T, tau, R, obs_var), prior, max_sweeps, chunk_bytes)
        info = {"search": "local", "sets_per_spin": tried}
    info["density"] = np.full(B, prior)
    return combine_rows(embed_rows(marg.numpy().reshape(B, L, L - 1)), prior), info
