"""Model-free methods: a VAR(1) linear fit per instance, and correlations pooled over instances of one lattice.

They know nothing of Eq. 1, T or tau; their scores have no natural scale, so their rule is top-E (the edge count
E is known), or a threshold on the normalised score.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Reconstructor, check_groups, fit_pooled, pair_values, svd_lstsq


def var1_coefficients(x: np.ndarray, rcond: float = 1e-10, ridge: float = 0.0) -> np.ndarray:
    """Least-squares VAR(1) fit s(m+1) ~ W s(m) of each instance: x (B, L, M) -> W (B, L, L).

    Batched SVD (``svd_lstsq``): directions with singular value below ``rcond`` times the largest are dropped, so
    the low-rank transients of Eq. 1 (identical spins, slow modes) give the minimum-norm W; ``ridge`` optional.
    """
    return svd_lstsq(x[:, :, :-1], x[:, :, 1:], rcond, ridge)


class VAR(Reconstructor):
    """Model-free VAR(1) / Granger-style linear fit (knows nothing of the dynamics).

    s(m+1) ~ W s(m) by least squares (``var1_coefficients``), from ONE instance, or with ``pooled=True`` from all
    transitions of the instances that share a lattice (``groups``; default all). Pair score
    (|W_ij| + |W_ji|) / max_k(|W| + |W^T|)_k, normalised to [0, 1] per instance. Rule: top-E (default), or a
    threshold on the normalised score (default 1/2). One instance is not enough: its transient spans few
    directions and the tanh nonlinearity leaks into them (measured at L=12, 25 edges: ~random top-E, 0.48-0.58,
    below the trivial 0.62); pooled over many instances it recovers lattices. Reference: science.md, "Methods
    that do not learn".
    """

    name = "var"
    default_rule = "top_e"

    def __init__(self, rcond: float = 1e-10, ridge: float = 0.0, pooled: bool = False) -> None:
        if not (0 <= rcond < 1 and ridge >= 0):
            raise ValueError(f"need 0 <= rcond < 1 and ridge >= 0, got {rcond}, {ridge}")
        self.rcond, self.ridge, self.pooled = rcond, ridge, pooled

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, None]:
        def fit(s: np.ndarray, s_next: np.ndarray) -> np.ndarray:
            return svd_lstsq(s, s_next, self.rcond, self.ridge)

        s, s_next = x[:, :, :-1], x[:, :, 1:]
        W = fit_pooled(fit, check_groups(know.get("groups"), x.shape[0]), s, s_next) if self.pooled else fit(s, s_next)
        W = np.abs(W)
        sc = pair_values(W + np.swapaxes(W, 1, 2))  # (B, K)
        return sc / np.maximum(sc.max(axis=1, keepdims=True), 1e-300), None


def pooled_abs_corr(z: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """|Pearson correlation| between spins of series z (B, L, S), pooled over the instances of each group.

    Each group's (L, n S) samples give one correlation matrix; returns the pair values (B, K), the same for every
    instance of a group. A spin that never varies gets correlation 0.
    """
    B, L, _ = z.shape
    out = np.empty((B, L * (L - 1) // 2))
    for g in np.unique(groups):  # one correlation per lattice: a loop over groups is unavoidable
        idx = np.flatnonzero(groups == g)
        v = np.swapaxes(z[idx], 0, 1).reshape(L, -1)  # (L, n S)
        v = v - v.mean(axis=1, keepdims=True)
        C = v @ v.T  # (L, L)
        d = np.sqrt(np.diag(C))
        with np.errstate(divide="ignore", invalid="ignore"):
            R = np.where(np.outer(d, d) > 0, C / np.outer(d, d), 0.0)
        out[idx] = pair_values(np.abs(R)[None])[0]
    return out


class Correlation(Reconstructor):
    """Pearson correlation of the momenta, pooled over many instances of one lattice (a "statistic method").

    All (instance, time) columns of the instances that share a lattice (``groups``; default: all instances share
    one) are samples of the L momenta; pair score |corr(s_i, s_j)|, the same for every instance of the group.
    Rule: top-E (default), or a threshold on |corr| (default 1/2). Needs many instances; the paper contrasts its
    CNN with such methods (arXiv:2208.04119; science.md, "Methods that do not learn").
    """

    name = "correlation"
    default_rule = "top_e"

    def __init__(self) -> None:
        pass

    def _series(self, x: np.ndarray) -> np.ndarray:
        return x

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, None]:
        groups = check_groups(know.get("groups"), x.shape[0])
        self.results_["n_groups"] = int(groups.max()) + 1
        return pooled_abs_corr(self._series(x), groups), None


class CorrelationDiff(Correlation):
    """Pearson correlation of the momenta's time differences s(m+1) - s(m), pooled like ``correlation``.

    Differencing removes the slowly varying part each spin carries from its own history; pair score
    |corr(Delta s_i, Delta s_j)|; rule: top-E (default) or a threshold on it.
    """

    name = "correlation_diff"

    def _series(self, x: np.ndarray) -> np.ndarray:
        return np.diff(x, axis=2)
