"""Physics-informed pair features of the general model, computed per instance in float64 (numpy, batched).

For instances x (B, L, M) at known T (B,) and tau, Eq. 1 gives per spin i and step m = 0..S-1 (S = M - 1)

    r_i(m) = (s_i(m+1) - (1 - tau) s_i(m)) / tau = tanh(h_i(m) / T),   h_i(m) = sum_j A_ij s_j(m).

Three kinds of per-(i, j) evidence are computed, all equivariant under relabelling the spins:

- ``ridge_rows``: weighted ridge least squares of y_i = T artanh(clip r_i) on the other spins' states, with
  saturated steps down-weighted by (1 - r^2) (as ``isingviz.methods.physics.inversion_rows``), at several
  regularisation levels (plain, empirical Bayes, fixed) from one batched SVD per row.
- ``max_marginal_llr``: the binary decoder's objective c_i(a) = sum_m (r_i(m) - tanh(a . s(m) / T))^2 around a
  0/1 set a, read as log-odds of an edge in row i: LLR_ij = (c_i(a, a_ij = 0) - c_i(a, a_ij = 1)) / (2 sigma^2)
  given the rest of the row, and its max-marginal version that lets one other coupling compensate (a swap:
  single toggles are ruled out when all trajectories decay alike, which is the high-T and noisy case).
  ``greedy_moves`` runs best-improving moves of one or two toggles (the binary decoder's local search) from a
  start. Both cost L^2 (kappa + 1) S per instance, kappa = compensating partners per row (``move_costs``).
- ``block_marginals``: exact posterior log-odds over each row's ``size`` least certain couplings, all 2^size
  settings enumerated with the rest of the row held fixed (cost L 2^size S per instance).

The arrays are small (one instance at L = 12 is a few thousand numbers), so the cost of a forward pass is the
number of operations, not the arithmetic: numpy's per-call overhead is a fraction of torch's. Where the
arithmetic dominates, torch works on the same memory (``torch.from_numpy``, no copy): the batched SVD of
``ridge_rows``, the sums of squared residuals through tanh (``residual_cost``, faster in torch than in numpy) and
the move and block fields of size L^2 S and more, whose element-wise operations then use torch's threads on
training batches. Reductions whose rounding the trained model saw (``block_marginals``' weights) and the order
of tied candidates (``smallest``) are computed by torch exactly as before. Large matrix products go through
torch too (``matmul``), so ``torch.set_num_threads`` governs every thread. The features are never differentiated;
the network converts them to float32 tensors.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from ... import heatbath

EPS = 1e-12  # |r| > 1 - EPS: saturated step (tanh carries no usable information)
LAMBDAS = (1.0, 10.0)  # fixed ridge levels (absolute; the weighted Gram matrix has scale ~ S)
PRIOR_VARS = (0.25, 0.025)  # empirical-Bayes ridge priors on a coupling
RCOND = 1e-13
SIGMA2_FLOOR = 1e-20  # residual variance of y below this is float64 rounding (clean data): keeps features stable
NUMPY_MATMUL_MAX = 2**18  # multiply-adds per matrix product done by numpy (above: torch, see ``matmul``)


def _frozen(v: np.ndarray) -> np.ndarray:
    v.flags.writeable = False
    return v


def increments(x: np.ndarray, tau: float) -> np.ndarray:
    """x (B, L, M) -> r (B, L, S), r(m) = (s(m+1) - (1 - tau) s(m)) / tau."""
    return (x[:, :, 1:] - (1.0 - tau) * x[:, :, :-1]) / tau


@functools.lru_cache(maxsize=64)
def off_diagonal(L: int) -> np.ndarray:
    """(L, L) float64 mask, 1 off the diagonal (cached and read-only: a forward pass asks for it a dozen times)."""
    return _frozen(1.0 - np.eye(L))


@functools.lru_cache(maxsize=64)
def diagonal(L: int) -> np.ndarray:
    """(L, L) bool mask of the diagonal (cached and read-only like ``off_diagonal``)."""
    return _frozen(np.eye(L, dtype=bool))


@functools.lru_cache(maxsize=64)
def _grid(B: int, L: int) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (B, 1, 1) and (1, L, 1) that, with an index array (B, L, n), pick entries [b, i, idx[b, i, q]]
    of a (B, L, L, ...) array (cached and read-only)."""
    return _frozen(np.arange(B)[:, None, None]), _frozen(np.arange(L)[None, :, None])


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``numpy.matmul(a, b, out)``, except that products of more than ``NUMPY_MATMUL_MAX`` multiply-adds per matrix
    (long instances, large L) go through torch: numpy's OpenBLAS spreads those over every core (spinning them),
    which ``torch.set_num_threads`` does not govern (the two routes may differ by rounding; each is deterministic)."""
    if a.shape[-2] * a.shape[-1] * b.shape[-1] <= NUMPY_MATMUL_MAX:
        return np.matmul(a, b, out=out)
    t = [torch.from_numpy(v if v.flags.writeable else v.copy()) for v in (a, b)]
    if out is None:
        return torch.matmul(*t).numpy()
    out[...] = torch.matmul(*t).numpy()
    return out


def residual_cost(h2: np.ndarray | torch.Tensor, r: np.ndarray) -> np.ndarray:
    """c = sum_m (tanh(h(m)) - r(m))^2 over the last axis, from doubled fields h2 = 2 h (..., S) (overwritten:
    they are scratch) and increments r of any shape that broadcasts to h2's.

    The hot loop of every local search, in torch on h2's memory. tanh h = 2 sigmoid(2 h) - 1 (half the time of
    ``torch.tanh``, a quarter of ``numpy.tanh`` for float64 on the CPU), so tanh h - r = 2 (sigmoid(2 h) - 1/2 -
    r/2) and c = 4 sum_m (sigmoid(2 h) - 1/2 - r/2)^2: the factors 2 and 4 are exact in floating point, so this
    rounds exactly like 2 sigmoid(2 h) - 1 - r squared and summed, with two passes fewer. The callers double
    the spins' states (exact) instead of the fields. Absolute error a few 1e-16, the rounding of the data.
    """
    half_r = torch.from_numpy(np.multiply(r, 0.5))
    h2 = torch.from_numpy(h2) if isinstance(h2, np.ndarray) else h2
    c = h2.sigmoid_().sub_(0.5).sub_(half_r).square_().sum(-1).numpy()
    return np.multiply(c, 4.0, out=c)


def ridge_rows(x: np.ndarray, r: np.ndarray, T: np.ndarray) -> dict[str, np.ndarray]:
    """Row-wise weighted ridge least squares of y_i(m) = T artanh(r_i(m)) on s_j(m), j != i, several lambdas.

    Args: x (B, L, M) momenta, r (B, L, S) increments, T (B,).
    Returns a dict of (B, L, L) directed solutions W[b, i, j] (zero diagonal) named ``plain``, ``eb0``, ``eb1``
    (empirical Bayes with ``PRIOR_VARS``), ``fix0``, ``fix1`` (``LAMBDAS``), all five as ``levels`` (B, L, L, 5)
    in that order (the others are views of it), the empirical-Bayes posterior variance ``var0`` (B, L, L), and
    per spin (B, L): ``sigma2`` (residual variance of y, at least ``SIGMA2_FLOOR``), ``kept`` (fraction of
    unsaturated steps).
    """
    B, L, M = x.shape
    keep = np.abs(r) <= 1.0 - EPS  # (B, L, S)
    rc = np.clip(r, -1.0 + EPS, 1.0 - EPS)
    w = np.where(keep, 1.0 - rc**2, 0.0)  # (B, L, S)
    y = w * T[:, None, None] * np.arctanh(rc)  # (B, L, S)
    s = x[:, :, :-1]  # (B, L, S)
    mask = off_diagonal(L)  # (L, L)
    design = w[:, :, :, None] * s.transpose(0, 2, 1)[:, None, :, :] * mask[None, :, None, :]  # (B, L, S, L)
    U, sv, Vh = (v.numpy() for v in torch.linalg.svd(torch.from_numpy(design), full_matrices=False))
    # U (B, L, S, k), sv (B, L, k), Vh (B, L, k, L)
    ok = sv > RCOND * sv[..., :1]  # (B, L, k)
    uy = np.matmul(y[:, :, None, :], U)  # (B, L, 1, k): U^T y
    inv0 = np.divide(sv, sv**2, out=np.zeros_like(sv), where=ok)  # (B, L, k): sv = 0 (masked column) dropped
    plain = np.matmul(uy * inv0[:, :, None, :], Vh)[:, :, 0] * mask  # (B, L, L)
    ss = ((y - np.matmul(design, plain[..., None])[..., 0]) ** 2).sum(-1)  # (B, L)
    dof = keep.sum(-1) - (L - 1)
    pooled = ss.sum(1, keepdims=True) / np.maximum(np.maximum(dof, 0).sum(1, keepdims=True), 1)
    sigma2 = np.maximum(np.where(dof >= 3, ss / np.maximum(dof, 1), pooled), SIGMA2_FLOOR)  # (B, L)
    lam = np.empty((B, L, len(PRIOR_VARS) + len(LAMBDAS), 1))  # (B, L, n, 1): all levels in one contraction
    for n, pv in enumerate(PRIOR_VARS):
        lam[:, :, n, 0] = sigma2 / pv
    lam[:, :, len(PRIOR_VARS) :, 0] = LAMBDAS
    sv_ = sv[:, :, None, :]  # (B, L, 1, k)
    inv = np.where(ok[:, :, None, :], sv_ / (sv_**2 + lam), 0.0)  # (B, L, n, k)
    levels = np.empty((B, L, L, 1 + inv.shape[2]))
    levels[..., 0] = plain
    np.multiply(np.matmul(uy * inv, Vh), mask[:, None, :], out=levels[..., 1:].transpose(0, 1, 3, 2))  # (B, L, n, L)
    names = ["plain"] + [f"eb{n}" for n in range(len(PRIOR_VARS))] + [f"fix{n}" for n in range(len(LAMBDAS))]
    out = {name: levels[..., n] for n, name in enumerate(names)} | {"levels": levels}
    inv2 = np.where(ok, 1.0 / (sv**2 + lam[:, :, 0]), 0.0)  # (B, L, k): 1 / (sv^2 + sigma2 / PRIOR_VARS[0])
    out["var0"] = sigma2[..., None] * np.matmul(inv2[:, :, None, :], Vh**2)[:, :, 0] * mask
    out["sigma2"] = sigma2
    out["kept"] = keep.mean(-1)
    return out


def noise_floor(tau: float) -> float:
    """Variance of r from float64 rounding of the momenta (~1e-15 each)."""
    return (1e-14 / tau) ** 2


def signed_log(x: np.ndarray) -> np.ndarray:
    """sign(x) log(1 + |x|): tames log-odds that range from 1e-3 to 1e20."""
    return np.sign(x) * np.log1p(np.abs(x))


def _sum_and_gap(u: np.ndarray, v: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """[u + v, |u - v|] along the last axis, into ``out`` (..., 2C) when given (any float dtype: computed in
    float64, then cast)."""
    C = u.shape[-1]
    if out is None:
        out = np.empty(u.shape[:-1] + (2 * C,))
    np.add(u, v, out=out[..., :C])
    np.abs(u - v, out=out[..., C:])
    return out


def symmetric_pairs(F: np.ndarray, i: np.ndarray, j: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Directed features F (B, L, L, C) -> symmetric features (B, K, 2C) of the pairs (i, j) (index arrays
    (K,)): F_ij + F_ji and |F_ij - F_ji| (written into ``out`` when given)."""
    return _sum_and_gap(F[:, i, j], F[:, j, i], out)


def spin_pairs(g: np.ndarray, i: np.ndarray, j: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Per-spin features g (B, L, C) -> symmetric features (B, K, 2C) of the pairs (i, j): g_i + g_j and
    |g_i - g_j| (written into ``out`` when given)."""
    return _sum_and_gap(g[:, i], g[:, j], out)


def log_clip(v: np.ndarray, lo: float = 1e-30) -> np.ndarray:
    """log10(max(v, lo)) / 10: variances from 1e-30 to 1 mapped to [-3, 0]."""
    return np.log10(np.maximum(v, lo)) / 10.0


def _as_float64(v: object) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu().numpy()
    return np.asarray(v, dtype=np.float64)


def check_inputs(x: object, T: object, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Instances (B, L, M) and T (scalar or (B,)), numpy or torch -> float64 arrays; ``ValueError`` on bad
    input."""
    x = _as_float64(x)
    if x.ndim != 3 or x.shape[1] < 2 or x.shape[2] < 3:
        raise ValueError(f"instances must have shape (B, L, M) with L >= 2 and M >= 3, got {tuple(x.shape)}")
    if not np.isfinite(x).all():
        raise ValueError("instances contain NaN or infinite values")
    Tt = _as_float64(T)
    if Tt.ndim == 0:
        Tt = np.full(x.shape[0], float(Tt))
    if Tt.shape != (x.shape[0],) or not np.isfinite(Tt).all() or (Tt <= 0).any():
        raise ValueError(f"T must be finite and > 0, a scalar or one value per instance ({x.shape[0]},)")
    if not (math.isfinite(tau) and 0 < tau <= 1):
        raise ValueError(f"time step tau must satisfy 0 < tau <= 1, got {tau}")
    return x, np.array(Tt)  # a fresh (writable, contiguous) copy


def smallest(v: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` smallest entries along the last axis, in increasing order: ``torch.topk``, whose order
    among tied entries (spins with identical trajectories) the model was trained with."""
    return torch.from_numpy(v).topk(n, dim=-1, largest=False).indices.numpy()


def compensators(c1: np.ndarray, c: np.ndarray, kappa: int) -> np.ndarray:
    """Per row, the ``kappa`` spins whose single toggle costs least (B, L, kappa): the partners of two-flip moves."""
    L = c1.shape[-1]
    return smallest(c1 - c[..., None], min(kappa, L - 1))


Costs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # c, C1, C2, comp (see ``move_costs``)


def move_costs(a: np.ndarray, s: np.ndarray, r: np.ndarray, T: np.ndarray, kappa: int) -> Costs:
    """Costs of the sets within one toggle of a (B, L, L), and of two toggles (j, k) with k among ``kappa``
    compensators per row.

    Returns c (B, L) the row costs at a, C1 (B, L, L) after toggling a_ij (+inf on the diagonal), C2
    (B, L, L, kappa) after toggling a_ij and a_ik, k = ``comp[b, i, q]`` (+inf where j == k or j == i), and comp
    (B, L, kappa). Cost L^2 (kappa + 1) S per instance.
    """
    B, L, _ = a.shape
    s2 = s + s  # (B, L, S): doubled states, so every field below is 2 h (exactly; see ``residual_cost``)
    h = matmul(a, s2)
    h /= T[:, None, None]  # (B, L, S): 2 h
    # the arrays of size L^2 S and up in torch, whose element-wise operations use its threads (training batches)
    tn = torch.from_numpy
    d = tn(1.0 - 2.0 * a)[..., None] * tn(s2 / T[:, None, None])[:, None]  # (B, L, L, S): toggle a_ij (sign exact)
    h_ = tn(h)[:, :, None, :]
    u = h_ + d  # (B, L, L, S)
    # c with torch.tanh, as before (the moves use residual_cost's sigmoid form): the two differ by rounding, so a
    # swap between spins with identical trajectories can "improve" on c by 1e-16. Which such moves the greedy search
    # makes is part of what the model was trained on; numpy's tanh or the sigmoid form here would change them.
    c = ((torch.tanh(tn(h * 0.5)) - tn(r)) ** 2).sum(-1).numpy()  # (B, L)
    C1 = residual_cost(u.clone(), r[:, :, None, :])  # (B, L, L)
    diag = diagonal(L)
    C1[:, diag] = math.inf
    comp = compensators(C1, c, kappa)  # (B, L, q)
    bi, li = _grid(B, L)
    dk = torch.gather(d, 2, tn(comp)[..., None].expand(-1, -1, -1, d.shape[-1]))  # (B, L, q, S)
    C2 = residual_cost(u[:, :, :, None, :] + dk[:, :, None, :, :], r[:, :, None, None, :])  # (B, L, L, q)
    C2[bi, li, comp, np.arange(comp.shape[-1])] = math.inf  # k == j
    C2[:, diag] = math.inf
    return c, C1, C2, comp


def greedy_moves(
    a: np.ndarray, s: np.ndarray, r: np.ndarray, T: np.ndarray, sweeps: int, kappa: int
) -> tuple[np.ndarray, Costs | None]:
    """Best-improving move per row (toggle one coupling, or two: add, remove, swap), at most ``sweeps`` per row.

    Returns the final sets a (B, L, L) and, when the search ended because no row could improve, the
    ``move_costs`` at a (already computed; ``max_marginal_llr`` reuses them), else None.
    """
    B, L, _ = a.shape
    eye = np.eye(L)
    for _ in range(sweeps):
        costs = move_costs(a, s, r, T, kappa)
        c, C1, C2, comp = costs
        q = C2.shape[-1]
        j1, b1 = C1.argmin(-1), C1.min(-1)  # (B, L); argmin: the first minimum on ties
        C2f = C2.reshape(B, L, L * q)
        m2, b2 = C2f.argmin(-1), C2f.min(-1)
        move = np.minimum(b1, b2) < c
        if not move.any():
            return a, costs
        bi, li = _grid(B, L)
        j2, k2 = m2 // q, comp[bi[..., 0], li[..., 0], m2 % q]
        flip = np.where((b1 <= b2)[..., None], eye[j1], eye[j2] + eye[k2])
        a = np.abs(a - flip * move[..., None])
    return a, None


def max_marginal_llr(
    a: np.ndarray,
    s: np.ndarray,
    r: np.ndarray,
    T: np.ndarray,
    tau: float,
    kappa: int,
    costs: Costs | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Directed log-odds of an edge near the 0/1 sets a (B, L, L) (see ``move_costs``; ``costs``: its result at
    a, when already known).

    For row i and pair j: F_ij = the least cost with a_ij toggled (alone or with one compensating toggle, e.g. a
    swap), K_ij = the least cost with a_ij kept (a itself, or one other toggle). With sigma^2 = max(least cost
    per step pooled over the rows, floor):

        max-marginal LLR_ij = (2 a_ij - 1) (F_ij - K_ij) / (2 sigma^2)
        single-toggle LLR_ij = (2 a_ij - 1) (c_i(a with a_ij toggled) - c_i(a)) / (2 sigma^2)

    Returns both (B, L, L) (zero diagonal; views of one (B, L, L, 2) array), the least cost per row (B, L) and
    sigma^2 (B,).
    """
    B, L, _ = a.shape
    S = r.shape[-1]
    c, C1, C2, _ = move_costs(a, s, r, T, kappa) if costs is None else costs
    F = np.minimum(C1, C2.min(-1))  # (B, L, L), +inf exactly on the diagonal
    first_is_j = C1.argmin(-1)[..., None] == np.arange(L)  # (B, L, L): j is the best single toggle of row i
    v1 = C1.min(-1, keepdims=True)  # (B, L, 1)
    v2 = np.where(first_is_j, math.inf, C1).min(-1, keepdims=True)  # second best
    K = np.minimum(np.where(first_is_j, v2, v1), c[..., None])  # a itself or the best toggle of another spin
    best = np.minimum(c, F.min(-1))  # (B, L)
    sigma2 = np.maximum(best.sum(1) / (L * S), noise_floor(tau))  # (B,)
    llr = np.empty((B, L, L, 2))  # max-marginal, single toggle
    np.subtract(F, K, out=llr[..., 0])
    np.subtract(C1, c[..., None], out=llr[..., 1])
    llr[:, diagonal(L)] = 0.0  # (both are inf there)
    llr *= ((2.0 * a - 1.0) / (2.0 * sigma2[:, None, None]))[..., None]
    return llr[..., 0], llr[..., 1], best, sigma2


@functools.lru_cache(maxsize=16)
def subset_masks(n: int) -> np.ndarray:
    """``isingviz.heatbath.subset_masks`` (bit u of the row index is item u), cached and read-only."""
    return _frozen(heatbath.subset_masks(n))


@functools.lru_cache(maxsize=16)
def _subset_masks_and_ones(n: int) -> np.ndarray:
    """``subset_masks`` with a column of ones appended (2^n, n + 1) (cached and read-only)."""
    return _frozen(np.concatenate([subset_masks(n), np.ones((2**n, 1))], axis=1))


@functools.lru_cache(maxsize=16)
def _subset_masks_t(n: int) -> torch.Tensor:
    """``subset_masks`` as a torch tensor (cached; never write into it). Made outside inference mode, like
    ``general._pair_index_t``: the cache outlives the prediction that filled it."""
    with torch.inference_mode(False):
        return torch.from_numpy(subset_masks(n).copy())


def block_marginals(
    a: np.ndarray, u: np.ndarray, s: np.ndarray, r: np.ndarray, T: np.ndarray, tau: float, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact row marginals over a block of uncertain couplings, the rest of the row held at a (B, L, L).

    For every row i, the ``size`` spins j with the smallest uncertainty score u_ij (B, L, L) form the block; all
    2^size 0/1 settings of the block are scored by c_i (the binary decoder's objective) under a Gaussian
    likelihood exp(-c / (2 sigma^2)) with a uniform prior, sigma^2 = max(least cost per step pooled over rows,
    floor). Cost L 2^size S per instance.
    Returns the block log-odds (B, L, L) (log P(a_ij = 1) / P(a_ij = 0) inside the block, exact unless beyond
    about +-690, 0 outside),
    the block membership (B, L, L) 0/1, and a with each row's block set to its most likely setting.
    """
    B, L, S = r.shape
    n = min(size, L - 1)
    idx = smallest(np.where(diagonal(L), math.inf, u), n)  # (B, L, n)
    bi, li = _grid(B, L)
    member = np.zeros_like(a)
    member[bi, li, idx] = 1.0  # (B, L, L)
    a_rest = a.copy()
    a_rest[bi, li, idx] = 0.0  # (B, L, L): the row outside its block
    s2 = s + s  # doubled states: the fields below are 2 h (exactly; see ``residual_cost``)
    v = np.empty((B, L, n + 1, S))
    v[:, :, :n] = s2[bi, idx]  # (B, L, n, S): the block's spins
    matmul(a_rest, s2, out=v[:, :, n])  # (B, L, S): field of the fixed part h0
    # every setting's field (B, L, 2^n, S): P @ (block spins) + h0, as one product [P 1] @ [spins; h0] per row
    # (the sum runs in the same order)
    h = torch.from_numpy(matmul(_subset_masks_and_ones(n), v)).div_(torch.from_numpy(T)[:, None, None, None])
    cost = residual_cost(h, r[:, :, None, :])  # (B, L, 2^n)
    P = subset_masks(n)  # (2^n, n)
    arg = cost.argmin(-1)  # (B, L)
    best = cost.min(-1, keepdims=True)  # (B, L, 1)
    # p0 = total - p1 cancels where one setting of a bit carries all the weight: there the log-odds are rounding
    # noise between ~36 and the clip at 690. The model was trained on these values, so sigma^2, the weights and
    # their sums are computed with torch's kernels exactly as before (numpy's exp and summation order would change
    # that noise).
    sigma2 = np.maximum(torch.from_numpy(best).sum((1, 2)).numpy() / (L * S), noise_floor(tau))  # (B,)
    wt = torch.from_numpy((cost - best) / (-2.0 * sigma2[:, None, None])).exp_()  # (B, L, 2^n), best: 1
    p1 = torch.matmul(wt, _subset_masks_t(n)).numpy()  # (B, L, n): weight of the settings with bit u set
    p0 = wt.sum(-1, keepdim=True).numpy() - p1
    lo = 1e-300  # a weight that underflowed: the log-odds are then clipped near +-690
    logit = np.zeros_like(a)
    logit[bi, li, idx] = np.log(np.maximum(p1, lo)) - np.log(np.maximum(p0, lo))
    a_rest[bi, li, idx] = P[arg]  # (B, L, L): block set to its best setting
    return logit, member, a_rest
