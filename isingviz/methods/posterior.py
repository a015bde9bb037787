"""The exact posterior of Eq. 1 at small L, with the density of the lattice and the noise learnt from the instance.

Per spin i, every 0/1 neighbour set a over the other L - 1 spins (2^(L-1) of them, feasible up to
``POSTERIOR_MAX_L``) is weighed by the Gaussian likelihood of the increments r_i(m) = (x_i(m+1) - (1 - tau)
x_i(m)) / tau around tanh(a . x(m) / T) and by a Bernoulli(pi) prior on each coupling. What a fixed prior or a
plug-in noise level gets wrong, this integrates out per instance, by its marginal likelihood on a grid:

- pi, the density (``DENSITIES``, weighted by a Beta(1, 2) hyperprior): a complete lattice and a perfect
  matching need opposite priors, and the instance tells them apart (the total field grows with the degree);
- sigma^2, the noise level (log-uniform over ``NOISE_LEVELS`` values spanning the instance's residuals);
- the kind of noise (``NOISE_KINDS``): "dynamics" (independent from step to step: heat-bath replicas, rounding)
  or "observation" (white noise e added to every recorded momentum). Observation noise enters r(m) as
  (e(m+1) - (1 - tau) e(m)) / tau: successive increments are anti-correlated, and slow changes of the field,
  which carry the couplings, are measured far better than independent noise would allow. The likelihood of the
  "observation" kind whitens r with that covariance (``increment_whitener``); taking it for independent noise
  throws that information away.

The two rows of a pair multiply their evidence with the prior counted once (``heatbath.combine_rows``), per
grid point. Measured on held-out Eq. 1 instances (seed 2000, 20 per cell, 264 cells: 11 families, L 8 and 12,
T 0.4-50, noise 0-1e-2; ``benchmarks/posterior_choice.py``, docs/general.md): complete lattices 1.000 where the
general network read 0.2-0.8; at T = 50 under noise 1e-2 random L = 12 0.676 (the independent-noise likelihood
0.627, the binary decoder 0.655, the trivial guess 0.621). It does not see twins (spins with the same
trajectory), whose rows are copies of one another: multiplied, they count a twin's share of a partner twice, and
on perfect matchings it is below the trivial guess; ``p_rows``, the mean of the two rows' own marginals, gives
each twin its share (``General`` answers such pairs with it), and ``General`` uses it only where its network is out
of its depth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..heatbath import DENSITIES, HYPER_B, combine_rows
from ..lattice import embed_rows, others_index
from ..learn.general.features import noise_floor
from .base import increments
from .binary import exhaustive_costs

POSTERIOR_MAX_L = 12  # 2^(L-1) sets per spin: 2,048 at L = 12
NOISE_KINDS = ("dynamics", "observation")
NOISE_LEVELS = 24
MIN_WEIGHT = 1e-4  # grid points below this share of the evidence do not enter the marginals


@dataclass(frozen=True)
class Posterior:
    """``p_edge`` (B, K) pair probabilities; ``p_rows`` (B, K) the mean of the two rows' own marginals instead of
    their evidence multiplied (where the two rows are not independent evidence: twins, whose rows are copies of
    one another); per instance ``density`` (B,), the posterior mean of pi, and ``observation`` (B,), the posterior
    weight of observation noise (against noise in the dynamics)."""

    p_edge: np.ndarray
    p_rows: np.ndarray
    density: np.ndarray
    observation: np.ndarray


@functools.lru_cache(maxsize=32)
def increment_whitener(n_steps: int, tau: float, kind: str) -> tuple[np.ndarray, float]:
    """W (S, S) with W^T W = C^-1 and log det C, C the correlation of S successive increments r up to the noise
    level: the identity for "dynamics"; for "observation", r(m) = (e(m+1) - (1 - tau) e(m)) / tau with white e."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; allowed: {', '.join(NOISE_KINDS)}")
    if kind == "dynamics":
        return np.eye(n_steps), 0.0
    D = np.zeros((n_steps, n_steps + 1))
    D[np.arange(n_steps), np.arange(n_steps) + 1] = 1.0 / tau
    D[np.arange(n_steps), np.arange(n_steps)] = -(1.0 - tau) / tau
    chol = np.linalg.cholesky(D @ D.T)
    W = np.linalg.solve(chol, np.eye(n_steps))
    W.setflags(write=False)  # cached: shared by every caller
    return W, float(2.0 * np.log(np.diag(chol)).sum())


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = a.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(a - m).sum(axis=axis))


def grid_weights(
    costs: dict[str, tuple[np.ndarray, float]],
    k: np.ndarray,
    n_bits: int,
    n_steps: int,
    floor: float,
    hyper_b: float = HYPER_B,
) -> tuple[np.ndarray, np.ndarray]:
    """The posterior weights of the grid of (noise kind, noise level, density) of one instance: per noise kind the
    costs of every set of every row (rows, P) and log det C, the size k (P,) of each set over ``n_bits`` couplings
    -> weights (kinds, ``NOISE_LEVELS``, len(``DENSITIES``)) summing to 1 and the noise levels sigma^2 (kinds,
    ``NOISE_LEVELS``)."""
    pis = np.asarray(DENSITIES)
    sizes = np.arange(n_bits + 1)  # a set's prior depends only on its size: sum over the sets of each size first
    by_size = (k[:, None] == sizes[None, :]).astype(np.float64)  # (P, sizes)
    size_prior = sizes[None, :] * np.log(pis)[:, None] + (n_bits - sizes)[None, :] * np.log1p(-pis)[:, None]
    log_hyper = (hyper_b - 1.0) * np.log1p(-pis)
    levels = np.empty((len(costs), NOISE_LEVELS))  # sigma^2 per kind
    evidence = np.empty((len(costs), NOISE_LEVELS, pis.size))  # log marginal likelihood of each grid point
    for a, (c, logdet) in enumerate(costs.values()):
        n_rows = c.shape[0]
        # sigma^2 from below the best sets' residual (it overfits) to above the empty set's, log-uniform
        lo = max(c.min(1).mean() / n_steps * 0.3, floor)
        hi = max(c[:, 0].mean() / n_steps * 2.0, lo * 10.0)
        levels[a] = np.geomspace(lo, hi, NOISE_LEVELS)
        for s, s2 in enumerate(levels[a]):
            ll = -c / (2.0 * s2)  # (rows, P)
            top = ll.max(1, keepdims=True)
            with np.errstate(divide="ignore"):  # a size without weight: log 0 = -inf, harmless below
                per_size = np.log(np.exp(ll - top) @ by_size) + top  # (rows, sizes)
            norm = -0.5 * n_steps * np.log(2.0 * np.pi * s2) - 0.5 * logdet
            rows = _logsumexp(per_size[None, :, :] + size_prior[:, None, :], axis=2)  # (G, rows)
            evidence[a, s] = rows.sum(1) + n_rows * norm + log_hyper
    w = np.exp(evidence - evidence.max())
    return w / w.sum(), levels


def _instance(
    costs: dict[str, tuple[np.ndarray, float]],
    k: np.ndarray,
    masks: np.ndarray,
    n_steps: int,
    floor: float,
    hyper_b: float = HYPER_B,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """One instance: per noise kind, the costs of every set of every row (L, P) and log det C -> pair
    probabilities (K,), the mean of the two rows' marginals (K,), the posterior mean density and the posterior
    weight of observation noise."""
    pis = np.asarray(DENSITIES)
    L = masks.shape[1] + 1
    log_prior = k[None, :] * np.log(pis)[:, None] + (L - 1 - k)[None, :] * np.log1p(-pis)[:, None]  # (G, P)
    kinds = list(costs)
    w, levels = grid_weights(costs, k, L - 1, n_steps, floor, hyper_b)
    iu, ju = np.triu_indices(L, 1)
    p, p_rows, used = np.zeros(iu.size), np.zeros(iu.size), 0.0
    for a, s, g in zip(*np.nonzero(w >= MIN_WEIGHT)):
        lp = -costs[kinds[a]][0] / (2.0 * levels[a, s]) + log_prior[g]
        rows = np.exp(lp - lp.max(1, keepdims=True))
        rows /= rows.sum(1, keepdims=True)
        P = embed_rows((rows @ masks)[None])
        p += w[a, s, g] * combine_rows(P, pis[g])[0]
        p_rows += w[a, s, g] * 0.5 * (P[0, iu, ju] + P[0, ju, iu])
        used += w[a, s, g]
    density = float(w.sum((0, 1)) @ pis)
    observation = float(w[kinds.index("observation")].sum()) if "observation" in costs else 0.0
    return p / used, p_rows / used, density, observation


def exact_posterior(
    x: np.ndarray, T: Any, tau: float, kinds: tuple[str, ...] = NOISE_KINDS, hyper_b: float = HYPER_B
) -> Posterior:
    """Pair probabilities of Eq. 1 instances x (B, L, M), L in 2..``POSTERIOR_MAX_L``, at T (scalar or one per
    instance) and tau, with the density (hyperprior Beta(1, ``hyper_b``)), the noise level and its kind (among
    ``kinds``) integrated out (module docstring)."""
    unknown = sorted(set(kinds) - set(NOISE_KINDS))
    if not kinds or unknown:
        raise ValueError(f"kinds must name some of {', '.join(NOISE_KINDS)}, got {kinds!r}")
    if not 1.0 <= hyper_b <= 100.0:
        raise ValueError(f"hyper_b must be in [1, 100] (Beta(1, b) on the density), got {hyper_b!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or not 2 <= x.shape[1] <= POSTERIOR_MAX_L or x.shape[2] < 2:
        raise ValueError(
            f"the exact posterior needs instances (B, L, M) with 2 <= L <= {POSTERIOR_MAX_L} and M >= 2,"
            f" got shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ValueError("instances must be finite (no NaN or inf)")
    if not 0.0 < tau <= 1.0:
        raise ValueError(f"tau must be in (0, 1], got {tau!r}")
    B, L, M = x.shape
    T = np.asarray(T, dtype=np.float64)
    if T.shape not in ((), (B,)) or not np.all(T > 0.0):
        raise ValueError(f"T must be positive, one value or one per instance ({B}), got {T.tolist()!r}")
    T_arr = np.broadcast_to(T, (B,))
    n, S = L - 1, M - 1
    r = increments(x, tau)  # (B, L, S)
    xo = x[:, others_index(L), :-1]  # (B, L, n, S)
    whiteners = {kind: increment_whitener(S, float(tau), kind) for kind in kinds}
    p, p_rows, density, observation = np.empty((B, L * n // 2)), np.empty((B, L * n // 2)), np.empty(B), np.empty(B)
    whitens = tuple(None if kind == "dynamics" else W for kind, (W, _) in whiteners.items())
    for b in range(B):
        c, masks = exhaustive_costs(xo[b], r[b], float(T_arr[b]), whitens=whitens)
        costs = {kind: (c[i], logdet) for i, (kind, (_, logdet)) in enumerate(whiteners.items())}
        p[b], p_rows[b], density[b], observation[b] = _instance(
            costs, masks.sum(1), masks, S, noise_floor(tau), hyper_b
        )
    return Posterior(p, p_rows, density, observation)
