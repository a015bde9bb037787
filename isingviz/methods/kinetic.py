"""Kinetic inverse-Ising estimators for the stochastic extension: naive mean field, TAP, maximum likelihood.

Reference: Y. Roudi and J. Hertz, "Mean field theory for nonequilibrium network reconstruction", PRL 106, 048702
(2011) (nMF and TAP); the likelihood of the kinetic Ising model for ML.

Assumptions (the data are replica-mean momenta, not single-spin trajectories):
- the momenta series s(m) (one instance, or all instances of one lattice when ``pooled=True``) is treated as the
  spin/magnetisation trajectory; statistics are averages over its time steps m = 0..M-2;
- the stochastic mode redraws each spin with probability tau per step, so E[s(m+1) | s(m)] = (1 - tau) s(m)
  + tau tanh(J s(m)) with J = A / T. The redrawn value is recovered as r(m) = (s(m+1) - (1 - tau) s(m)) / tau,
  which plays the role of s(t+1) in the synchronous kinetic Ising model (E[r | s] = tanh(J s));
- no external field. Estimates J are scaled by T, so scores are in units of A; rule: top-E (default) or a
  threshold of 1/2 on that scale. Replica averaging makes the momenta a mean-field-like trajectory, so the
  estimators are biased (E[tanh h] != tanh E[h]), more so at low T; they rank pairs, they do not calibrate them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..lattice import embed_rows, others_index
from .base import Reconstructor, check_groups, fit_pooled, increments, pair_values, svd_lstsq


def naive_mf_couplings(s: np.ndarray, r: np.ndarray, rcond: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """nMF: J = A^-1 D C^-1, A = diag(1 - m_i^2) -> J (U, L, L) and m (U, L).

    D C^-1 is the least-squares regression of dr on ds, computed by ``svd_lstsq`` (directions of C below
    ``rcond`` times its largest are dropped: one transient spans few directions).
    """
    m = s.mean(axis=2)
    DCinv = svd_lstsq(s - m[..., None], r - r.mean(axis=2, keepdims=True), rcond)  # (U, L, L)
    return DCinv / np.maximum(1.0 - m**2, 1e-12)[..., None], m


def tap_couplings(s: np.ndarray, r: np.ndarray, rcond: float = 1e-10) -> tuple[np.ndarray, int]:
    """TAP: J = J_nMF / (1 - F_i), F_i the smallest root of F (1 - F)^2 = (1 - m_i^2) sum_j J_nMF_ij^2 (1 - m_j^2).

    F (1 - F)^2 rises from 0 to 4/27 on [0, 1/3]; larger right-hand sides have no such root and are clipped to
    4/27 (F = 1/3). Returns J (U, L, L) and how many rows were clipped.
    """
    J, m = naive_mf_couplings(s, r, rcond)
    q = 1.0 - m**2  # (U, L)
    c = q * np.einsum("uij,uj->ui", J**2, q)
    clipped = int(np.sum(c > 4.0 / 27.0))
    c = np.minimum(c, 4.0 / 27.0)
    lo, hi = np.zeros_like(c), np.full_like(c, 1.0 / 3.0)
    for _ in range(60):  # bisection, vectorised over all rows
        mid = 0.5 * (lo + hi)
        up = mid * (1.0 - mid) ** 2 < c
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return J / (1.0 - 0.5 * (lo + hi))[..., None], clipped


def _quasi_loglik(h: np.ndarray, r: np.ndarray) -> np.ndarray:
    """sum over samples of (1+r)/2 log((1+tanh h)/2) + (1-r)/2 log((1-tanh h)/2), stable; (..., N) -> (...)."""
    return -(0.5 * (1.0 + r) * np.logaddexp(0.0, -2.0 * h) + 0.5 * (1.0 - r) * np.logaddexp(0.0, 2.0 * h)).sum(-1)


def ml_couplings(
    s: np.ndarray, r: np.ndarray, ridge: float = 1e-3, max_iter: int = 50, tol: float = 1e-10
) -> tuple[np.ndarray, int]:
    """Maximum likelihood J (U, L, L), zero diagonal, no field, by damped Newton ascent on every row at once.

    Objective per row i: sum_m [(1 + r_i)/2 log((1 + tanh h_i)/2) + (1 - r_i)/2 log((1 - tanh h_i)/2)]
    - ridge |J_i|^2 / 2, h_i(m) = sum_{j != i} J_ij s_j(m), r clipped to [-1, 1]. For r = +/-1 spins it is the
    kinetic Ising log-likelihood; its gradient is sum_m [r_i(m) - tanh h_i(m)] s_j(m) - ridge J_ij (the update
    of the reference), for momenta in [-1, 1] a quasi-likelihood with the same gradient. It is concave, so
    Newton steps with a halving line search converge. Returns J and the iterations used.
    """
    U, L, N = s.shape
    rc = np.clip(r, -1.0, 1.0)  # (U, L, N)
    X = np.swapaxes(s[:, others_index(L), :], -1, -2)  # (U, L, N, L-1) regressors of row i: the other spins
    a = np.zeros((U, L, L - 1))
    eye = np.eye(L - 1)

    def objective(a: np.ndarray) -> np.ndarray:
        return _quasi_loglik(np.einsum("ulnj,ulj->uln", X, a), rc) - 0.5 * ridge * (a**2).sum(-1)

    q = objective(a)
    steps = 0.5 ** np.arange(12)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        th = np.tanh(np.einsum("ulnj,ulj->uln", X, a))  # (U, L, N)
        grad = np.einsum("uln,ulnj->ulj", rc - th, X) - ridge * a
        H = np.swapaxes(X * (1.0 - th**2)[..., None], -1, -2) @ X + ridge * eye  # minus the Hessian (U, L, L-1, L-1)
        d = np.linalg.solve(H, grad[..., None])[..., 0]  # (U, L, L-1) ascent direction
        cand = np.stack([objective(a + t * d) for t in steps])  # (n_steps, U, L)
        ok = cand > q[None]
        first = np.where(ok.any(0), ok.argmax(0), -1)  # largest step that improves, -1: none
        t = np.where(first >= 0, steps[np.maximum(first, 0)], 0.0)
        a = a + t[..., None] * d
        gain = np.where(first >= 0, np.take_along_axis(cand, np.maximum(first, 0)[None], 0)[0] - q, 0.0)
        q = q + gain
        if np.all(gain <= tol * (1.0 + np.abs(q))):
            break
    return embed_rows(a), it


class _Kinetic(Reconstructor):
    """Shared plumbing: samples per instance, or pooled per lattice; scores T (|J_ij| + |J_ji|) / 2."""

    needs = ("T", "tau")
    default_rule = "top_e"
    pooled: bool

    def _couplings(self, s: np.ndarray, r: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, None]:
        s, r = x[:, :, :-1], increments(x, know["tau"])  # (B, L, M-1)
        if self.pooled:
            J = fit_pooled(self._couplings, check_groups(know.get("groups"), x.shape[0]), s, r)
        else:
            J = self._couplings(s, r)
        A = know["T"] * np.abs(J)
        return pair_values(0.5 * (A + np.swapaxes(A, 1, 2))), None


class NaiveMF(_Kinetic):
    """Naive mean-field kinetic inverse Ising (Roudi & Hertz, PRL 106, 048702 (2011)).

    J = A^-1 D C^-1 with A_ij = delta_ij (1 - m_i^2), m_i = <s_i>, C_ij = <ds_i ds_j>, D_ij = <dr_i ds_j> (time
    averages, ds = s - m, r the redrawn value; module docstring for the assumptions). Pair score
    T (|J_ij| + |J_ji|) / 2; rule top-E. From ONE instance by default; ``pooled=True``: statistics over all
    instances of a lattice (``groups``; default all), which these estimators need (one transient of M-1 steps
    is far too short for L x L connected correlations).
    """

    name = "naive_mf"

    def __init__(self, rcond: float = 1e-10, pooled: bool = False) -> None:
        if not 0 <= rcond < 1:
            raise ValueError(f"rcond must be in [0, 1), got {rcond}")
        self.rcond, self.pooled = rcond, pooled

    def _couplings(self, s: np.ndarray, r: np.ndarray) -> np.ndarray:
        return naive_mf_couplings(s, r, self.rcond)[0]


class TAP(NaiveMF):
    """TAP kinetic inverse Ising (Roudi & Hertz, PRL 106, 048702 (2011)): nMF with A_ii = (1 - m_i^2)(1 - F_i).

    F_i solves F_i (1 - F_i)^2 = (1 - m_i^2) sum_j (J^nMF_ij)^2 (1 - m_j^2) (smallest root; rows without one are
    clipped at F = 1/3, counted in ``results_["clipped_rows"]``). Score, rule and ``pooled`` as ``naive_mf``.
    """

    name = "tap"

    def _couplings(self, s: np.ndarray, r: np.ndarray) -> np.ndarray:
        J, clipped = tap_couplings(s, r, self.rcond)
        self.results_["clipped_rows"] = self.results_.get("clipped_rows", 0) + clipped
        return J


class MLKinetic(_Kinetic):
    """Maximum-likelihood kinetic inverse Ising: Newton ascent with gradient sum_m [r_i(m) - tanh h_i(m)] s_j(m).

    See ``ml_couplings`` (no field, zero diagonal, ridge 1e-3 by default). Score T (|J_ij| + |J_ji|) / 2; rule
    top-E; ``pooled`` as ``naive_mf``. ``results_["iterations"]``: Newton iterations of the last fit.
    """

    name = "ml_kinetic"

    def __init__(self, ridge: float = 1e-3, pooled: bool = False, max_iter: int = 50) -> None:
        if not ridge >= 0 or max_iter < 1:
            raise ValueError(f"need ridge >= 0 and max_iter >= 1, got {ridge}, {max_iter}")
        self.ridge, self.pooled, self.max_iter = ridge, pooled, max_iter

    def _couplings(self, s: np.ndarray, r: np.ndarray) -> np.ndarray:
        J, it = ml_couplings(s, r, self.ridge, self.max_iter)
        self.results_["iterations"] = it
        return J
