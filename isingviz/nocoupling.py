"""Does a replica-averaged heat-bath instance show any coupling at all? Two tests of "no coupling", combined.

Data: replica means x (B, L, M) of the stochastic mode of ``isingviz.dynamics.simulate`` (``isingviz.heatbath``
has the dynamics). ``no_coupling_pvalue`` tests whether an instance can be told from spins without any coupling
(a regression F-test of each spin's increments on the other spins' states, and a one-slope test of them on the sum
of the others, which finds dense lattices; no closure needed, since without couplings every field is zero). The
general model answers "no edge" where the instance cannot be told from no coupling (``methods.general``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .lattice import others_index


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


def _one_slope_fit(x: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The increments d (B, L, M-1), the sums of the other spins u (B, L, M-1) and the least-squares slope (B,) of d
    on u, one for all spins (0 where every u is zero), of replica means x (B, L, M) (``mean_field_pvalue``)."""
    d = x[:, :, 1:] - (1.0 - tau) * x[:, :, :-1]
    u = x[:, :, :-1].sum(1, keepdims=True) - x[:, :, :-1]
    suu = (u * u).sum((1, 2))
    ok = suu > 0
    return d, u, np.where(ok, (d * u).sum((1, 2)) / np.where(ok, suu, 1.0), 0.0)


def mean_field_slope(x: np.ndarray, tau: float) -> np.ndarray:
    """The one-slope test's slope (B,) of the increments on the sum of the other spins, for replica means x
    (B, L, M): about tau density / T at high T (``mean_field_pvalue``); 0 where every sum is zero."""
    x = np.asarray(x, dtype=np.float64)
    _check_replica_means(x)
    return _one_slope_fit(x, tau)[2]


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
    d, u, slope = _one_slope_fit(x, tau)
    sdu = (d * u).sum((1, 2))
    ok = (u * u).sum((1, 2)) > 0
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
