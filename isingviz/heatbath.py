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

``no_coupling_pvalue`` tests whether an instance can be told from spins without any coupling at all (a regression
F-test of each spin's increments on the other spins' states, and a one-slope test of them on the sum of the others,
which finds dense lattices; no closure needed, since without couplings every field is zero).
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


def f_tail(F: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """P(F(d1, d2) > F) by Paulson's normal approximation (within 1e-3 of the exact tail from 10 degrees of
    freedom on, far closer at the hundreds this module meets), elementwise; float64 arrays of one shape."""
    a, b = 2.0 / (9.0 * d1), 2.0 / (9.0 * d2)
    c = np.cbrt(np.maximum(F, 0.0))
    z = ((1.0 - b) * c - (1.0 - a)) / np.sqrt(b * c**2 + a)
    return 0.5 * torch.special.erfc(torch.from_numpy(z / math.sqrt(2.0))).numpy()


def no_coupling_pvalue(x: np.ndarray, tau: float) -> np.ndarray:
    """P-values (B,) of "no spin is coupled to any other" for replica means x (B, L, M) of heat-bath dynamics.

    Two tests of the same null, each with its own alternative, combined by Bonferroni (twice the smaller p-value,
    at most 1), so that the size stays at or below the level: ``regression_pvalue`` (any couplings: each spin's
    increments regressed on every other spin's states, L (L - 1) degrees of freedom) and ``mean_field_pvalue``
    (one degree of freedom: every spin follows the sum of the others, as on a dense lattice, where the regression
    spreads the signal over L (L - 1) directions and misses it). On held-out replica cells (L = 12, 20 lattices
    each, seed 2000, level 0.01; ``benchmarks/quiet_gate.py``) the two together told complete lattices at T = 50,
    R = 1,000 from no coupling in 0.75 of instances (the regression alone: 0.15), complete bipartite at T = 10,
    R = 100 in 0.80 (0.35); on empty lattices 5 of 300 instances fell below 0.01 (the regression alone: 8).
    NaN where the regression cannot run (it needs residual degrees of freedom: M > L): the one-slope test has no
    power against sparse lattices (held-out rings of 64 spins, M = 50, T = 1, R = 100: 5 of 10 instances above
    0.01), so it does not call an instance quiet alone.
    """
    regression = regression_pvalue(x, tau)
    both = np.minimum(np.fmin(regression, mean_field_pvalue(x, tau)) * 2.0, 1.0)
    return np.where(np.isnan(regression), np.nan, both)


def _check_replica_means(x: np.ndarray) -> None:
    if x.ndim != 3 or x.shape[1] < 2 or x.shape[2] < 3:
        raise ValueError(f"need replica means (B, L, M) with L >= 2 and M >= 3, got shape {x.shape}")


def mean_field_pvalue(x: np.ndarray, tau: float) -> np.ndarray:
    """One-sided p-values (B,) of "no coupling" against "every spin follows the sum of the others" for replica
    means x (B, L, M) of heat-bath dynamics (``no_coupling_pvalue``'s one-slope test).

    The increments d_i(m) = x_i(m+1) - (1 - tau) x_i(m) are pooled over the spins and regressed on
    u_i(m) = sum_{j != i} x_j(m), one slope for all: couplings are 0/1, so on any lattice with edges the slope's
    mean is positive (tau <tanh(h_i / T)> grows with the field; about tau density / T at high T), largest on dense
    lattices, where the field of every spin is nearly the same sum. Without couplings d_i(m) has mean zero whatever
    the past (a martingale difference), so z = sum d u / sqrt(sum e^2 u^2), with e the residuals of the fitted
    slope (heteroscedasticity-consistent: the variance of a replica mean depends on its state), is standard normal
    in the limit; p = P(Z > z). NaN where every u or every residual is zero.
    """
    x = np.asarray(x, dtype=np.float64)
    _check_replica_means(x)
    d = x[:, :, 1:] - (1.0 - tau) * x[:, :, :-1]
    u = x[:, :, :-1].sum(1, keepdims=True) - x[:, :, :-1]
    sdu, suu = (d * u).sum((1, 2)), (u * u).sum((1, 2))
    ok = suu > 0
    slope = np.where(ok, sdu / np.where(ok, suu, 1.0), 0.0)
    var = (((d - slope[:, None, None] * u) * u) ** 2).sum((1, 2))
    ok &= var > 0
    z = np.where(ok, sdu, 0.0) / np.sqrt(np.where(ok, var, 1.0))
    p = 0.5 * torch.special.erfc(torch.from_numpy(z / math.sqrt(2.0))).numpy()
    return np.where(ok, p, np.nan)


def regression_pvalue(x: np.ndarray, tau: float) -> np.ndarray:
    """P-values (B,) of "no spin is coupled to any other" against any couplings for replica means x (B, L, M) of
    heat-bath dynamics (``no_coupling_pvalue``'s regression test).

    Without couplings every field is zero, each redrawn spin is +1 or -1 at random, and the increments
    d_i(m) = x_i(m+1) - (1 - tau) x_i(m) have mean zero whatever the past; couplings make them follow the
    neighbours' states (tau <tanh(h_i / T)>, about tau h_i / T at high T). So each spin's d_i is regressed on the
    other spins' states x_j(m) (least squares through an SVD, rank k_i), and the explained and residual sums of
    squares, pooled over the spins, give F = (ESS / k) / (RSS / (L (M - 1) - k)), k = sum k_i, against
    F(k, L (M - 1) - k). The variance is estimated, so the test holds at any R and under observation noise: on
    2,000 empty lattices (L = 12, M = 50, T = 1) 1.2 % / 1.0 % of the p-values were below 0.01 at R = 10 without
    / with noise 1e-2; a single run's (R = 1) jumps are heavy-tailed, 5 % there (too few "no coupling"). NaN
    where too few residual degrees of freedom are left (fewer than L: the states span the steps, L - 1 >= M - 1).
    A large p-value means the instance is consistent with no coupling at all: at high T and few replicas it
    carries no information on the lattice, and on an empty lattice it is the answer.
    """
    x = np.asarray(x, dtype=np.float64)
    _check_replica_means(x)
    B, L, M = x.shape
    S = M - 1
    d = x[:, :, 1:] - (1.0 - tau) * x[:, :, :-1]  # (B, L, S)
    xo = np.swapaxes(x[:, others_index(L), :-1], 2, 3)  # (B, L, S, L-1): row i's regressors
    U, sv, _ = np.linalg.svd(xo, full_matrices=False)
    basis = sv > sv.max(-1, keepdims=True) * 1e-8  # directions the states really span (none when all are zero)
    ess = ((np.einsum("blsk,bls->blk", U, d) * basis) ** 2).sum((1, 2))
    rss = np.maximum((d**2).sum((1, 2)) - ess, 0.0)
    k = basis.sum((1, 2)).astype(np.float64)
    d2 = L * S - k
    ok = (k > 0) & (d2 >= L) & (rss > 0)
    k1, d21 = np.maximum(k, 1.0), np.maximum(d2, 1.0)  # the instances not ok get NaN: no division by zero there
    F = (ess / k1) / np.where(ok, rss / d21, 1.0)
    return np.where(ok, f_tail(F, k1, d21), np.nan)
