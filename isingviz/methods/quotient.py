"""The twin quotient: the exact posterior of Eq. 1 on the lattice of twin groups, for instances of many spins that
follow few distinct trajectories.

Twins (``twins``) are spins whose trajectories differ only by white noise. Two spins that start alike and whose
neighbours, other than each other, are the same follow one trajectory. The quotient assumes every group of twins is
of that kind: then between two groups either every pair is coupled or none, and within a group of three or more too
(i ~ j and k a twin of i give j ~ k). The couplings are those of the quotient lattice, one bit per pair of groups and
one per group (a clique or not), and Eq. 1 holds for the group means x_a:

    r_a(m) = tanh((sum_{b != a} A_ab w_b x_b(m) + A_aa (w_a - 1) x_a(m)) / T),

with w_b the size of group b (twins of opposite sign, x_j = -x_i, form two groups: nothing makes their couplings
all-or-none). With G groups, the exact posterior (``posterior``: the density of the bits, the noise level and its
kind integrated out) weighs all 2^G sets of each group's row, up to G = ``QUOTIENT_MAX_G``, at any L. A group's mean
averages its members' noise: its row's costs count its size times (noise variance divided by the size). Two groups'
rows multiply their evidence on the bit between them (``heatbath.combine_rows``); a group's own bit has its row's
evidence alone. The assumption holds for complete and complete multipartite lattices; it fails for twins whose
neighbours are twins of each other (the spins of aligned matched pairs) and for spins that only settle together
(at low T) or whose couplings the noise drowns (at high T). Where it fails the misfit (``Quotient``) is often large,
but not where saturation hides the difference.

A complete lattice is two groups (the spins that start up, those that start down: every field is the total
magnetisation less the spin's own), which the general network, trained on sparse families, reads as "no edge":
0.00-0.29 at L = 24-32 under noise, where the inversion reads 0.06-0.47. ``General`` uses the quotient only where it
finds the lattice dense (docs/general.md, item 11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..heatbath import DENSITIES, HYPER_B, combine_rows
from ..learn.general.features import noise_floor
from .base import increments
from .binary import exhaustive_costs
from .posterior import MIN_WEIGHT, NOISE_KINDS, grid_weights, increment_whitener
from .twins import twin_groups

QUOTIENT_MAX_G = 12  # 2^G sets per group: 4,096 at G = 12


@dataclass(frozen=True)
class Quotient:
    """Per instance: ``p_edge`` (B, K) pair probabilities (NaN where there is no quotient: more than the maximum
    number of groups), ``density`` (B,) the mean of p_edge over the pairs (NaN likewise), ``groups`` (B,) the
    number of twin groups and ``misfit`` (B,) how much worse the quotient explains the group means than the twins'
    spread says it could (about 1 where it holds; NaN where there is no quotient)."""

    p_edge: np.ndarray
    density: np.ndarray
    groups: np.ndarray
    misfit: np.ndarray


def _rows(x: np.ndarray, g: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One instance x (L, M) and its signed twin groups g (L,) -> each spin's group index (L,), the increments of
    the group means r (G, S), the fields' inputs of each group's row xo (G, G, S) (the other groups' means scaled by
    their sizes, then the group's own mean by its size less one) and the group sizes (G,). Twins of opposite sign
    form two groups: the argument for all-or-none couplings holds only for spins that follow one trajectory."""
    _, idx = np.unique(2 * (np.abs(g) - 1) + (g < 0), return_inverse=True)
    size = np.bincount(idx).astype(np.float64)
    G = size.size
    xg = np.zeros((G, x.shape[1]))
    np.add.at(xg, idx, x)
    xg /= size[:, None]
    r = increments(xg[None], tau)[0]
    xo = np.empty((G, G, x.shape[1] - 1))
    for a in range(G):
        others = np.r_[0:a, a + 1 : G]
        xo[a, : G - 1] = size[others, None] * xg[others, :-1]
        xo[a, G - 1] = (size[a] - 1.0) * xg[a, :-1]
    return idx, r, xo, size


def _instance(
    x: np.ndarray, g: np.ndarray, T: float, tau: float, kinds: tuple[str, ...], hyper_b: float
) -> tuple[np.ndarray, float]:
    """Pair probabilities (K,) of one instance x (L, M) with signed twin groups g (L,) (module docstring) and the
    misfit: the best sets' residual of the group means, whitened as observation noise and scaled by the group
    sizes, over the twins' own spread about their means (about 1 where the quotient holds; inf where no group has
    two members to measure the spread by; NaN where the observation kind is not among ``kinds``)."""
    idx, r, xo, size = _rows(x, g, tau)
    G, S = r.shape
    whiteners = {kind: increment_whitener(S, float(tau), kind) for kind in kinds}
    whitens = tuple(None if kind == "dynamics" else W for kind, (W, _) in whiteners.items())
    c, masks = exhaustive_costs(xo, r, float(T), whitens=whitens)
    c = c * size[None, :, None]  # a mean of n members: noise variance / n
    costs = {kind: (c[i], logdet) for i, (kind, (_, logdet)) in enumerate(whiteners.items())}
    k = masks.sum(1)
    w, levels = grid_weights(costs, k, G, S, noise_floor(tau), hyper_b)
    pis = np.asarray(DENSITIES)
    log_prior = k[None, :] * np.log(pis)[:, None] + (G - k)[None, :] * np.log1p(-pis)[:, None]
    iu, ju = np.triu_indices(x.shape[0], 1)
    between = idx[iu] != idx[ju]
    p, used = np.zeros(iu.size), 0.0
    kind_names = list(costs)
    for a, s, d in zip(*np.nonzero(w >= MIN_WEIGHT)):
        lp = -costs[kind_names[a]][0] / (2.0 * levels[a, s]) + log_prior[d]
        rows = np.exp(lp - lp.max(1, keepdims=True))
        rows /= rows.sum(1, keepdims=True)
        D = rows @ masks  # (G, G): the other groups in order, then the group's own bit
        P = np.zeros((1, G, G))
        for b in range(G):
            P[0, b, np.r_[0:b, b + 1 : G]] = D[b, : G - 1]
        pair = np.zeros((G, G))
        gi, gj = np.triu_indices(G, 1)
        pair[gi, gj] = combine_rows(P, pis[d])[0]
        pair = pair + pair.T
        p += w[a, s, d] * np.where(between, pair[idx[iu], idx[ju]], D[idx[iu], G - 1])
        used += w[a, s, d]
    misfit = np.nan
    if "observation" in costs:
        best = costs["observation"][0].min(1) / S  # (G,): sigma_e^2 of the fit, as if each mean were one spin
        means = np.zeros((size.size, x.shape[1]))
        np.add.at(means, idx, x)
        spread = ((x - means[idx] / size[idx, None]) ** 2).sum()
        dof = (size - 1.0).sum() * x.shape[1]
        misfit = float(best.mean() / max(spread / dof, noise_floor(tau) * tau**2)) if dof > 0 else np.inf
    return p / used, misfit


def quotient_posterior(
    x: np.ndarray,
    T: Any,
    tau: float,
    groups: np.ndarray | None = None,
    max_groups: int = QUOTIENT_MAX_G,
    kinds: tuple[str, ...] = NOISE_KINDS,
    hyper_b: float = HYPER_B,
) -> Quotient:
    """Pair probabilities of Eq. 1 instances x (B, L, M) on their twin quotient (module docstring), at T (scalar
    or one per instance) and tau; ``groups``: the signed twin groups (B, L) of ``twins.twin_groups`` (computed
    when None). Instances with more than ``max_groups`` groups (at most ``QUOTIENT_MAX_G``) get NaN."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[1] < 2 or x.shape[2] < 3:
        raise ValueError(f"the twin quotient needs instances (B, L, M) with L >= 2 and M >= 3, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("instances must be finite (no NaN or inf)")
    if not 0.0 < tau <= 1.0:
        raise ValueError(f"tau must be in (0, 1], got {tau!r}")
    if not (isinstance(max_groups, int) and 1 <= max_groups <= QUOTIENT_MAX_G):
        raise ValueError(f"max_groups must be an integer in 1..{QUOTIENT_MAX_G}, got {max_groups!r}")
    unknown = sorted(set(kinds) - set(NOISE_KINDS))
    if not kinds or unknown:
        raise ValueError(f"kinds must name some of {', '.join(NOISE_KINDS)}, got {kinds!r}")
    B, L, _ = x.shape
    T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (B,))
    if not np.all(T_arr > 0.0):
        raise ValueError(f"T must be positive, got {np.asarray(T).tolist()!r}")
    g = twin_groups(x) if groups is None else np.asarray(groups)
    if g.shape != (B, L):
        raise ValueError(f"groups must have shape {(B, L)}, got {g.shape}")
    count = np.array([np.unique(2 * (np.abs(row) - 1) + (row < 0)).size for row in g])
    p = np.full((B, L * (L - 1) // 2), np.nan)
    misfit = np.full(B, np.nan)
    for b in np.flatnonzero(count <= max_groups):
        p[b], misfit[b] = _instance(x[b], g[b], float(T_arr[b]), tau, tuple(kinds), hyper_b)
    return Quotient(p, p.mean(1), count, misfit)
