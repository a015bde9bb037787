"""Clean Eq. 1 instances: a test that an instance has no observation noise, the symmetric inversion, and which pairs
of an answer a clean instance shows to be wrong.

Eq. 1 gives, for every spin i and step m, y_i(m) = T artanh(r_i(m)) = sum_j A_ij s_j(m) with
r_i(m) = (s_i(m+1) - (1 - tau) s_i(m)) / tau. ``physics.inversion_rows`` solves this row by row: L - 1 unknowns
from the M - 1 steps of one spin, underdetermined once L > M (L = 64 at M = 50). Solved for all rows at once with
A_ij = A_ji, the K = L(L-1)/2 pair couplings meet L(M-1) equations, and on a clean instance every equation holds to
float precision: the least-squares residual over the spare equations (equations kept minus the rank) is ~1e-13,
while observation noise of 1e-5 already leaves 1e-4 or more (measured on random, ring and complete lattices at
L 16-64, T 0.4-50, seed 2000). An increment |r| above 1 beyond rounding is noise too: tanh never gets there.

Measured on clean held-out lattices (seed 2000, 6 per cell): the rounded symmetric solution beats the row-wise
inversion by 0.02-0.04 on dense random lattices at L 32-64 (e.g. L = 64, T = 5: 0.838 against 0.819; the network
0.771), where the general model's network, trained on sparse families, reads them 0.02-0.07 below the inversion;
on sparse families (ring, grid, small world, tree) it is 0.01-0.05 below the network. How the general model uses
both (``clean_answer``, ``temper_inexact``) and what that changed: docs/general.md, item 9, and
benchmarks/clean_fit.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import SATURATED, increments, pair_matrices

CLEAN_OVER = 1e-9  # |r| - 1 above this: not float rounding, so observation noise (tanh stays within [-1, 1])
CLEAN_RMS = 1e-9  # residual rms / T of the symmetric fit at or below this: the instance is clean (noise-free)
CLEAN_SPARE = 10  # the residual must have at least this many spare equations to say so
RCOND = 1e-12  # singular values below this times the largest are dropped (the transient's slow directions)


@dataclass(frozen=True)
class SymmetricFit:
    """The symmetric inversion of instances (B, L, M): ``w`` (B, K) least-squares pair couplings (NaN where the
    fit was skipped: an instance already known to be noisy), ``clean`` (B,) whether the instance is noise-free
    to float precision, ``rms`` (B,) the residual rms / T over the ``spare`` (B,) equations beyond the rank."""

    w: np.ndarray
    clean: np.ndarray
    rms: np.ndarray
    spare: np.ndarray


def symmetric_system(x: np.ndarray, T: float, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """One instance (L, M) -> the design (L (M-1), K) and the targets (L (M-1),) of y_i(m) = sum_j A_ij s_j(m)
    over the pairs (``numpy.triu_indices`` order). Steps with a saturated tanh (|r| > ``SATURATED``) get weight
    0; the others weight 1 - r^2, the delta-method inverse standard deviation of y (as ``inversion_rows``)."""
    L, M = x.shape
    r = increments(x[None], tau)[0]  # (L, S)
    rc = np.clip(r, -SATURATED, SATURATED)
    w = np.where(np.abs(r) <= SATURATED, 1.0 - rc**2, 0.0)  # (L, S)
    iu, ju = np.triu_indices(L, 1)
    k = np.arange(iu.size)
    design = np.zeros((L, M - 1, iu.size))
    design[iu, :, k] = x[ju, :-1]  # spin i's equations see s_j through the pair (i, j)
    design[ju, :, k] = x[iu, :-1]
    design *= w[:, :, None]
    return design.reshape(L * (M - 1), iu.size), (w * T * np.arctanh(rc)).reshape(-1)


def symmetric_fit(x: np.ndarray, T: Any, tau: float) -> SymmetricFit:
    """The symmetric least-squares fit and the clean test of each instance x (B, L, M) at T (scalar or (B,)).

    An instance with an increment |r| > 1 + ``CLEAN_OVER`` is noisy and skips the fit (its least squares at
    L = 64 take ~2 s on the idle 2-core machine, several times that under load). The others are solved
    (``numpy.linalg.lstsq``, ``RCOND``) and called clean when at least ``CLEAN_SPARE`` equations beyond the rank
    leave a residual rms / T of at most ``CLEAN_RMS``; one whose least squares fails (LAPACK's SVD does not
    converge, as on a noisy Erdős–Rényi instance of L = 32, M = 24, T = 50) is skipped too.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError(f"instances must have shape (B, L, M) with L, M >= 2, got {x.shape}")
    B, L, _ = x.shape
    T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (B,))
    over = np.abs(increments(x, tau)).max(axis=(1, 2)) - 1.0
    w = np.full((B, L * (L - 1) // 2), np.nan)
    rms, spare = np.full(B, np.inf), np.zeros(B, dtype=np.int64)
    for b in np.flatnonzero(over <= CLEAN_OVER):  # one least squares per instance: their systems differ
        design, y = symmetric_system(x[b], float(T_arr[b]), tau)
        try:
            w[b], _, rank, _ = np.linalg.lstsq(design, y, rcond=RCOND)
        except np.linalg.LinAlgError:  # LAPACK's SVD did not converge (seen once, on a noisy instance)
            continue  # not known to be clean: skipped like a noisy instance
        kept = int(np.count_nonzero(np.abs(design).sum(axis=1)))
        spare[b] = kept - int(rank)
        res = design @ w[b] - y
        rms[b] = np.sqrt(res @ res / max(spare[b], 1)) / T_arr[b]
    return SymmetricFit(w=w, clean=(spare >= CLEAN_SPARE) & (rms <= CLEAN_RMS), rms=rms, spare=spare)


# the general model uses it from this L up: at L 16-24 the network, trained at L 8-32, reads clean instances as
# well or better (held-out L = 16: random T = 0.4 0.988 against 0.972 with the fit, grid T = 5 0.872 against 0.853)
CLEAN_FIT_MIN_L = 20
EXACT_RMS = 1e-10  # an answer whose one-step rms error is at most this reproduces a clean instance exactly
# the fit's mean coupling is at least this: a dense lattice, where the fit reads better than the network. The mean of
# the unrounded couplings, not the density of the rounded ones: the total coupling is well determined where single
# pairs are not, and rounding at 1/2 loses the weak ones. Erdős–Rényi L = 48, T = 50 (seed 2000, 8 lattices): mean
# coupling 0.279-0.324 against the true densities 0.279-0.324, rounded 0.21-0.25; the fit read 0.841, the network 0.801
DENSE_FIT = 0.25


def row_rms(x: np.ndarray, T: Any, tau: float, pairs: np.ndarray) -> np.ndarray:
    """How far 0/1 pair answers (B, K) are from reproducing each spin of instances x (B, L, M) by Eq. 1: per spin,
    the rms over steps of r_i(m) - tanh(sum_j A_ij s_j(m) / T), (B, L)."""
    B, L, _ = x.shape
    T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (B,))
    fields = np.einsum("bij,bjm->bim", pair_matrices(pairs, L), x[:, :, :-1]) / T_arr[:, None, None]
    d = np.tanh(fields) - increments(x, tau)
    return np.sqrt((d**2).mean(axis=2))


def answer_rms(x: np.ndarray, T: Any, tau: float, pairs: np.ndarray) -> np.ndarray:
    """The same over all spins and steps, (B,)."""
    return np.sqrt((row_rms(x, T, tau, pairs) ** 2).mean(axis=1))


def temper_inexact(x: np.ndarray, T: Any, tau: float, p_edge: np.ndarray, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep within [cap, 1 - cap] the pairs of an answer p_edge (B, K) that both of their spins' rows fail to
    reproduce (row rms above ``EXACT_RMS``), on instances where some other row is reproduced exactly. Observation
    noise leaves no row exact, so such an instance is clean, and its answer is wrong somewhere in the rows it
    misses: a wrong pair (i, j) spoils rows i and j both. The argmax is kept; only confidence goes. Measured on
    clean held-out ring, grid and small-world cells at L 12-32 (seed 2000, 10 lattices each): the share of wrong
    pairs with S < 0.1 fell from up to 0.33 to at most 0.08 in all but 4 of 38 cells, while 0-36 % of the pairs
    were touched (grid L = 32, T = 50: 0.06 -> 0.00, 14 %; ring L = 24, T = 50: 0.33 -> 0.00, 0.6 %).

    Returns the pair probabilities (B, K) and how many pairs of each instance were tempered (B,).
    """
    B, L, _ = x.shape
    exact = row_rms(x, T, tau, (np.asarray(p_edge) > 0.5).astype(np.float64)) <= EXACT_RMS  # (B, L)
    iu, ju = np.triu_indices(L, 1)
    suspect = ~exact[:, iu] & ~exact[:, ju] & exact.any(axis=1, keepdims=True)  # (B, K)
    return np.where(suspect, np.clip(p_edge, cap, 1.0 - cap), p_edge), suspect.sum(axis=1)


def clean_answer(
    x: np.ndarray, T: Any, tau: float, p_edge: np.ndarray, cap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On clean instances (``symmetric_fit``), the symmetric inversion replaces an answer p_edge (B, K) that does
    not reproduce the instance (one-step rms above ``EXACT_RMS``) where it finds a dense lattice (mean coupling >=
    ``DENSE_FIT``) or reproduces the instance better; its p(edge) is the fitted coupling within [cap, 1 - cap].
    An exact answer stands: on sparse families the network's answer is exact where the fit is not (their
    instances leave many sparse lattices consistent, and the network knows which are likely).

    Returns the pair probabilities (B, K), which instances the symmetric inversion answered (B,) bool, and which
    are clean (B,) bool: those the fit calls clean and those the answer reproduces exactly (noise leaves no answer
    exact).
    """
    out = np.array(p_edge, dtype=np.float64)
    T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (x.shape[0],))
    mine = (out > 0.5).astype(np.float64)
    e_mine = answer_rms(x, T_arr, tau, mine)
    use = np.zeros(x.shape[0], dtype=bool)
    clean = e_mine <= EXACT_RMS
    todo = np.flatnonzero(~clean)  # an exact answer stands: no fit needed
    if todo.size:
        fit = symmetric_fit(x[todo], T_arr[todo], tau)
        w = np.nan_to_num(fit.w)
        theirs = (w > 0.5).astype(np.float64)
        e_theirs = answer_rms(x[todo], T_arr[todo], tau, theirs)
        better = (w.mean(axis=1) >= DENSE_FIT) | (e_theirs < e_mine[todo])
        use[todo] = fit.clean & better
        clean[todo] = fit.clean
        out[use] = np.clip(fit.w[fit.clean & better], cap, 1.0 - cap)
    return out, use, clean
