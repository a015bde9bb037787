"""Methods that know the paper's Eq. 1: the physics inversion and template matching among candidate lattices.

Eq. 1: s_i(m+1) = s_i(m) + tau (-s_i(m) + tanh(sum_j A_ij s_j(m) / T)), so with
r_i(m) = (s_i(m+1) - (1 - tau) s_i(m)) / tau one instance gives r_i(m) = tanh(sum_j A_ij s_j(m) / T).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dynamics import simulate
from ..lattice import adjacency_to_pairs, embed_rows, others_index, validate_adjacency
from .base import SATURATED, Reconstructor, increments, pair_values


def inversion_rows(
    x: np.ndarray,
    T: float,
    tau: float,
    *,
    eps: float = 1.0 - SATURATED,
    rcond: float = 1e-13,
    ridge: float | str = "auto",
    prior_var: float = 0.25,
    weighted: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares solution of y_i(m) = T artanh(r_i(m)) = sum_{j != i} A_ij s_j(m) for every spin of every instance.

    Steps with |r_i(m)| > 1 - eps are left out of row i (saturated tanh). ``weighted``: step m of row i is weighted
    by (1 - r_i(m)^2), the delta-method inverse standard deviation of y_i(m) under observation noise (no effect on
    clean data). Solved by a batched SVD of each row's (M-1, L-1) design; singular values below ``rcond`` times
    the largest are dropped. ``ridge``: a number lambda adds Tikhonov damping lambda * s_max^2; ``"auto"`` chooses
    lambda per row by empirical Bayes: a first plain fit gives the residual variance sigma^2 (over the
    n - (L-1) spare steps; pooled over the instance's rows where a row has fewer than 3), then the row is refitted
    with lambda = sigma^2 / prior_var, the posterior mean under a N(0, prior_var) prior on each coupling. On clean
    data sigma^2 ~ 0 and the fit stays exact. Returns the directed estimate (B, L, L) (zero diagonal, not
    symmetrised) and the fraction of steps kept (B, L).
    """
    B, L, M = x.shape
    r = increments(x, tau)  # (B, L, M-1)
    keep = np.abs(r) <= 1.0 - eps  # (B, L, M-1)
    rc = np.clip(r, -1.0 + eps, 1.0 - eps)
    w = np.where(keep, 1.0 - rc**2 if weighted else 1.0, 0.0)  # (B, L, M-1) row weights, 0 = left out
    y = w * T * np.arctanh(rc)  # (B, L, M-1)
    design = np.swapaxes(x[:, others_index(L), :-1], -1, -2) * w[..., None]  # (B, L, M-1, L-1)
    U, sv, Vt = np.linalg.svd(design, full_matrices=False)  # (B, L, M-1, k), (B, L, k), (B, L, k, L-1)
    top = sv[..., :1]
    uy = np.einsum("blmk,blm->blk", U, y)

    def solve(lam: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(sv > rcond * top, sv / (sv**2 + lam), 0.0)  # (B, L, k)
        return np.einsum("blkj,blk->blj", Vt, uy * inv)  # (B, L, L-1)

    if ridge == "auto":
        a = solve(np.zeros_like(top))
        ss = ((y - np.einsum("blmj,blj->blm", design, a)) ** 2).sum(axis=-1)  # (B, L)
        dof = keep.sum(axis=-1) - (L - 1)
        pooled = ss.sum(axis=1, keepdims=True) / np.maximum(np.clip(dof, 0, None).sum(axis=1, keepdims=True), 1)
        sigma2 = np.where(dof >= 3, ss / np.maximum(dof, 1), pooled)  # (B, L)
        a = solve(sigma2[..., None] / prior_var)
    else:
        a = solve(float(ridge) * top**2)
    return embed_rows(a), keep.mean(axis=-1)


class Inversion(Reconstructor):
    """Physics inversion of Eq. 1 from ONE instance (knows Eq. 1, T and tau).

    y_i(m) = T artanh(clip(r_i(m), -1 + eps, 1 - eps)) = sum_{j != i} A_ij s_j(m), r_i(m) as in Eq. 1 above;
    least squares per row i over the steps m with |r_i(m)| <= 1 - eps (saturated steps left out), all rows of all
    instances at once (batched SVD; see ``inversion_rows`` for the weights and the ridge). The estimate is
    symmetrised, W = (A_hat + A_hat^T) / 2, and the pair score is W_ij. Rule: threshold 1/2 (couplings are 0 or
    1). Exact on clean data where tanh is not saturated; weak at low T (saturation: few usable steps) and under
    observation noise at high T (the coupling signal is ~tau/T). Defaults (measured, L=12, 25 edges, one
    instance): weighted steps and the empirical-Bayes ridge lift T=0.4 clean from 0.77-0.84 (plain least squares)
    to 0.96-0.97, and noise 1e-4..1e-3 from ~0.5 (below the trivial 0.62) to 0.62-0.86; ``ridge=0,
    weighted=False`` is the plain textbook inversion.
    ``results_["kept_fraction"]``: (B,) mean fraction of steps used. Reference: science.md, "Methods that do not
    learn"; it follows from the paper's Eq. 1 (arXiv:2208.04119).
    """

    name = "inversion"
    needs = ("T", "tau")

    def __init__(
        self,
        eps: float = 1.0 - SATURATED,
        rcond: float = 1e-13,
        ridge: float | str = "auto",
        prior_var: float = 0.25,
        weighted: bool = True,
    ) -> None:
        if not 0 < eps < 1 or not 0 <= rcond < 1 or not prior_var > 0:
            raise ValueError(f"need 0 < eps < 1, 0 <= rcond < 1 and prior_var > 0, got {eps}, {rcond}, {prior_var}")
        if ridge != "auto" and not (isinstance(ridge, (int, float)) and ridge >= 0):
            raise ValueError(f"ridge must be 'auto' or a number >= 0, got {ridge!r}")
        self.eps, self.rcond, self.ridge, self.prior_var, self.weighted = eps, rcond, ridge, prior_var, weighted

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, None]:
        A_hat, kept = inversion_rows(
            x,
            know["T"],
            know["tau"],
            eps=self.eps,
            rcond=self.rcond,
            ridge=self.ridge,
            prior_var=self.prior_var,
            weighted=self.weighted,
        )
        self.results_["kept_fraction"] = kept.mean(axis=1)
        return pair_values(0.5 * (A_hat + np.swapaxes(A_hat, 1, 2))), None


def check_candidates(candidates: Any, L: int) -> np.ndarray:
    """Candidate lattices (N, L, L) -> int8 array, each one validated."""
    c = np.asarray(candidates)
    if c.ndim == 2:
        c = c[None]
    if c.ndim != 3 or c.shape[0] < 1 or c.shape[1:] != (L, L):
        raise ValueError(f"candidates must be lattices of shape (N, {L}, {L}) to match the instances, got {c.shape}")
    return np.stack([validate_adjacency(a) for a in c])


class Template(Reconstructor):
    """Template matching among candidate lattices (knows Eq. 1, T, tau and a list of N candidates).

    Each candidate is simulated with ``isingviz.dynamics.simulate`` (mean-field Eq. 1) from the instance's own
    s(0) = sign(instance[:, 0]) (ties -> +1), and the candidate at the smallest L2 distance
    d_n = ||instance - simulation_n|| is chosen. Probabilities: a Gaussian likelihood over candidates,
    w_n = softmax(-d_n^2 / (2 sigma^2)), with sigma the known ``noise`` if given (> 0), else ``sigma``, else
    estimated from the best candidate (sigma^2 = min_n d_n^2 / (L M), floored at 1e-24); pair probability of an
    edge p_k = sum_n w_n [candidate n has pair k]; score = p_k, rule: threshold 1/2. The lattice is recovered
    exactly whenever the right one is among the candidates and the data are Eq. 1's (planning: ~1.000 on the
    paper's test set at every T, even with noise 1e-2). It cannot reconstruct a lattice it was not given.
    ``results_``: ``chosen`` (B,) index, ``distances`` (B, N).
    """

    name = "template"
    needs = ("candidates", "T", "tau")
    has_proba = True

    def __init__(self, sigma: float | None = None) -> None:
        if sigma is not None and not sigma > 0:
            raise ValueError(f"sigma must be > 0 or None, got {sigma}")
        self.sigma = sigma

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        B, L, M = x.shape
        cand = check_candidates(know["candidates"], L)  # (N, L, L)
        s0 = np.where(x[:, :, 0] >= 0, 1.0, -1.0)  # (B, L)
        d2 = np.stack(
            [((x - simulate(A, s0, know["T"], know["tau"], M)) ** 2).sum(axis=(1, 2)) for A in cand], axis=1
        )  # (B, N)
        noise = know.get("noise")
        if noise is not None and noise > 0:
            var = np.full(B, float(noise) ** 2)
        elif self.sigma is not None:
            var = np.full(B, self.sigma**2)
        else:
            var = np.maximum(d2.min(axis=1) / (L * M), 1e-24)  # (B,)
        logw = -(d2 - d2.min(axis=1, keepdims=True)) / (2.0 * var[:, None])  # (B, N), max 0
        w = np.exp(logw)
        w /= w.sum(axis=1, keepdims=True)
        pairs = np.stack([adjacency_to_pairs(A) for A in cand]).astype(np.float64)  # (N, K)
        p1 = np.clip(w @ pairs, 0.0, 1.0)  # (B, K)
        self.results_.update(chosen=d2.argmin(axis=1), distances=np.sqrt(d2))
        return p1, np.stack([1.0 - p1, p1], axis=-1)
