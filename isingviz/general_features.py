"""Physics-informed pair features of the general model, computed per instance in float64 (torch, batched).

For instances x (B, L, M) at known T (B,) and tau, Eq. 1 gives per spin i and step m = 0..S-1 (S = M - 1)

    r_i(m) = (s_i(m+1) - (1 - tau) s_i(m)) / tau = tanh(h_i(m) / T),   h_i(m) = sum_j A_ij s_j(m).

Three kinds of per-(i, j) evidence are computed, all equivariant under relabelling the spins:

- ``ridge_rows``: weighted ridge least squares of y_i = T artanh(clip r_i) on the other spins' states, with
  saturated steps down-weighted by (1 - r^2) (as ``isingviz.baselines_physics.inversion_rows``), at several
  regularisation levels (plain, empirical Bayes, fixed) from one batched SVD per row.
- ``max_marginal_llr``: the binary decoder's objective c_i(a) = sum_m (r_i(m) - tanh(a . s(m) / T))^2 around a
  0/1 set a, read as log-odds of an edge in row i: LLR_ij = (c_i(a, a_ij = 0) - c_i(a, a_ij = 1)) / (2 sigma^2)
  given the rest of the row, and its max-marginal version that lets one other coupling compensate (a swap:
  single toggles are ruled out when all trajectories decay alike, which is the high-T and noisy case).
  ``greedy_moves`` runs best-improving moves of one or two toggles (the binary decoder's local search) from a
  start. Both cost L^2 (kappa + 1) S per instance, kappa = compensating partners per row (``move_costs``).
- ``block_marginals``: exact posterior log-odds over each row's ``size`` least certain couplings, all 2^size
  settings enumerated with the rest of the row held fixed (cost L 2^size S per instance).
"""

from __future__ import annotations

import functools
import math

import torch

EPS = 1e-12  # |r| > 1 - EPS: saturated step (tanh carries no usable information)
LAMBDAS = (1.0, 10.0)  # fixed ridge levels (absolute; the weighted Gram matrix has scale ~ S)
PRIOR_VARS = (0.25, 0.025)  # empirical-Bayes ridge priors on a coupling
RCOND = 1e-13
SIGMA2_FLOOR = 1e-20  # residual variance of y below this is float64 rounding (clean data): keeps features stable


def increments(x: torch.Tensor, tau: float) -> torch.Tensor:
    """x (B, L, M) -> r (B, L, S), r(m) = (s(m+1) - (1 - tau) s(m)) / tau."""
    return (x[:, :, 1:] - (1.0 - tau) * x[:, :, :-1]) / tau


@functools.lru_cache(maxsize=64)
def off_diagonal(L: int, device: torch.device | None = None) -> torch.Tensor:
    """(L, L) float64 mask, 1 off the diagonal (cached: one forward pass asks for it a dozen times; never write
    into it)."""
    return 1.0 - torch.eye(L, dtype=torch.float64, device=device)


@functools.lru_cache(maxsize=64)
def diagonal(L: int, device: torch.device | None = None) -> torch.Tensor:
    """(L, L) bool mask of the diagonal (cached like ``off_diagonal``; never write into it)."""
    return torch.eye(L, dtype=torch.bool, device=device)


def tanh_(t: torch.Tensor) -> torch.Tensor:
    """tanh in place, as 2 sigmoid(2 t) - 1: half the time of ``torch.tanh`` for float64 on the CPU, where the
    local searches spend most of theirs; absolute error a few 1e-16, the rounding of the data themselves."""
    return t.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)


def ridge_rows(x: torch.Tensor, r: torch.Tensor, T: torch.Tensor) -> dict[str, torch.Tensor]:
    """Row-wise weighted ridge least squares of y_i(m) = T artanh(r_i(m)) on s_j(m), j != i, several lambdas.

    Args: x (B, L, M) momenta, r (B, L, S) increments, T (B,).
    Returns a dict of (B, L, L) directed solutions W[b, i, j] (zero diagonal) named ``plain``, ``eb0``, ``eb1``
    (empirical Bayes with ``PRIOR_VARS``), ``fix0``, ``fix1`` (``LAMBDAS``), the empirical-Bayes posterior
    variance ``var0`` (B, L, L), and per spin (B, L): ``sigma2`` (residual variance of y, at least
    ``SIGMA2_FLOOR``), ``kept`` (fraction of unsaturated steps).
    """
    B, L, M = x.shape
    keep = r.abs() <= 1.0 - EPS  # (B, L, S)
    rc = r.clamp(-1.0 + EPS, 1.0 - EPS)
    w = torch.where(keep, 1.0 - rc**2, torch.zeros_like(rc))  # (B, L, S)
    y = w * T[:, None, None] * torch.atanh(rc)  # (B, L, S)
    s = x[:, :, :-1]  # (B, L, S)
    mask = off_diagonal(L, x.device)  # (L, L)
    design = w[:, :, :, None] * s.transpose(1, 2)[:, None, :, :] * mask[None, :, None, :]  # (B, L, S, L)
    U, sv, Vh = torch.linalg.svd(design, full_matrices=False)  # (B,L,S,k), (B,L,k), (B,L,k,L)
    top = sv[..., :1]
    ok = sv > RCOND * top  # (B, L, k)
    uy = torch.einsum("blmk,blm->blk", U, y)

    def solve(lam: torch.Tensor) -> torch.Tensor:
        inv = torch.where(ok, sv / (sv**2 + lam), torch.zeros_like(sv))  # (B, L, k)
        return torch.einsum("blkj,blk->blj", Vh, uy * inv) * mask  # (B, L, L)

    plain = solve(torch.zeros_like(top))
    ss = ((y - torch.einsum("blmj,blj->blm", design, plain)) ** 2).sum(-1)  # (B, L)
    dof = keep.sum(-1) - (L - 1)
    pooled = ss.sum(1, keepdim=True) / dof.clamp(min=0).sum(1, keepdim=True).clamp(min=1)
    sigma2 = torch.where(dof >= 3, ss / dof.clamp(min=1), pooled).clamp(min=SIGMA2_FLOOR)  # (B, L)
    lams = [sigma2 / pv for pv in PRIOR_VARS] + [torch.full_like(sigma2, lam) for lam in LAMBDAS]
    lam = torch.stack(lams, dim=-1)[..., None]  # (B, L, n, 1): all levels in one contraction
    inv = torch.where(ok[:, :, None, :], sv[:, :, None, :] / (sv[:, :, None, :] ** 2 + lam), torch.zeros_like(lam))
    sols = torch.einsum("blkj,blnk->blnj", Vh, uy[:, :, None, :] * inv) * mask[:, None, :]  # (B, L, n, L)
    names = [f"eb{n}" for n in range(len(PRIOR_VARS))] + [f"fix{n}" for n in range(len(LAMBDAS))]
    out = {"plain": plain} | {name: sols[:, :, n] for n, name in enumerate(names)}
    lam0 = sigma2[..., None] / PRIOR_VARS[0]
    inv2 = torch.where(ok, 1.0 / (sv**2 + lam0), torch.zeros_like(sv))  # (B, L, k)
    out["var0"] = sigma2[..., None] * torch.einsum("blkj,blk->blj", Vh**2, inv2) * mask
    out["sigma2"] = sigma2
    out["kept"] = keep.double().mean(-1)
    return out


def noise_floor(tau: float) -> float:
    """Variance of r from float64 rounding of the momenta (~1e-15 each)."""
    return (1e-14 / tau) ** 2


def signed_log(x: torch.Tensor) -> torch.Tensor:
    """sign(x) log(1 + |x|): tames log-odds that range from 1e-3 to 1e20."""
    return torch.sign(x) * torch.log1p(x.abs())


def symmetric_pairs(F: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Directed features F (B, L, L, C) -> symmetric features (B, K, 2C) of the pairs (i, j) (index tensors
    (K,)): F_ij + F_ji and |F_ij - F_ji|."""
    Fij, Fji = F[:, i, j], F[:, j, i]
    return torch.cat([Fij + Fji, (Fij - Fji).abs()], dim=-1)


def spin_pairs(g: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """Per-spin features g (B, L, C) -> symmetric features (B, K, 2C) of the pairs (i, j): g_i + g_j and
    |g_i - g_j|."""
    gi, gj = g[:, i], g[:, j]
    return torch.cat([gi + gj, (gi - gj).abs()], dim=-1)


def log_clip(v: torch.Tensor, lo: float = 1e-30) -> torch.Tensor:
    """log10(max(v, lo)) / 10: variances from 1e-30 to 1 mapped to [-3, 0]."""
    return torch.log10(v.clamp(min=lo)) / 10.0


def check_inputs(x: torch.Tensor, T: torch.Tensor | float, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Instances (B, L, M) and T (scalar or (B,)) -> float64 tensors; ``ValueError`` on bad input."""
    x = torch.as_tensor(x, dtype=torch.float64)
    if x.ndim != 3 or x.shape[1] < 2 or x.shape[2] < 3:
        raise ValueError(f"instances must have shape (B, L, M) with L >= 2 and M >= 3, got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("instances contain NaN or infinite values")
    Tt = torch.as_tensor(T, dtype=torch.float64)
    if Tt.ndim == 0:
        Tt = Tt.expand(x.shape[0])
    if Tt.shape != (x.shape[0],) or not bool(torch.isfinite(Tt).all()) or bool((Tt <= 0).any()):
        raise ValueError(f"T must be finite and > 0, a scalar or one value per instance ({x.shape[0]},)")
    if not (math.isfinite(tau) and 0 < tau <= 1):
        raise ValueError(f"time step tau must satisfy 0 < tau <= 1, got {tau}")
    return x, Tt.contiguous()


def compensators(c1: torch.Tensor, c: torch.Tensor, kappa: int) -> torch.Tensor:
    """Per row, the ``kappa`` spins whose single toggle costs least (B, L, kappa): the partners of two-flip moves."""
    L = c1.shape[-1]
    return (c1 - c[..., None]).topk(min(kappa, L - 1), dim=-1, largest=False).indices


Costs = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # c, C1, C2, comp (see ``move_costs``)


def move_costs(a: torch.Tensor, s: torch.Tensor, r: torch.Tensor, T: torch.Tensor, kappa: int) -> Costs:
    """Costs of the sets within one toggle of a (B, L, L), and of two toggles (j, k) with k among ``kappa``
    compensators per row.

    Returns c (B, L) the row costs at a, C1 (B, L, L) after toggling a_ij (+inf on the diagonal), C2
    (B, L, L, kappa) after toggling a_ij and a_ik, k = ``comp[b, i, q]`` (+inf where j == k or j == i), and comp
    (B, L, kappa). Cost L^2 (kappa + 1) S per instance.
    """
    B, L, _ = a.shape
    h = torch.einsum("bij,bjm->bim", a, s) / T[:, None, None]  # (B, L, S)
    c = ((torch.tanh(h) - r) ** 2).sum(-1)  # (B, L)
    d = (1.0 - 2.0 * a)[..., None] * s[:, None, :, :] / T[:, None, None, None]  # (B, L, L, S): toggle a_ij
    u = h[:, :, None, :] + d  # (B, L, L, S)
    diag = diagonal(L, a.device)
    C1 = tanh_(u.clone()).sub_(r[:, :, None, :]).square_().sum(-1).masked_fill_(diag, math.inf)  # (B, L, L)
    comp = compensators(C1, c, kappa)  # (B, L, q)
    dk = torch.gather(d, 2, comp[..., None].expand(-1, -1, -1, d.shape[-1]))  # (B, L, q, S)
    t = u[:, :, :, None, :] + dk[:, :, None, :, :]  # (B, L, L, q, S)
    C2 = tanh_(t).sub_(r[:, :, None, None, :]).square_().sum(-1)  # (B, L, L, q)
    same = comp[:, :, None, :] == torch.arange(L, device=a.device)[None, None, :, None]  # (B, L, L, q): k == j
    C2 = C2.masked_fill_(same | diag[None, :, :, None], math.inf)
    return c, C1, C2, comp


def greedy_moves(
    a: torch.Tensor, s: torch.Tensor, r: torch.Tensor, T: torch.Tensor, sweeps: int, kappa: int
) -> tuple[torch.Tensor, Costs | None]:
    """Best-improving move per row (toggle one coupling, or two: add, remove, swap), at most ``sweeps`` per row.

    Returns the final sets a (B, L, L) and, when the search ended because no row could improve, the
    ``move_costs`` at a (already computed; ``max_marginal_llr`` reuses them), else None.
    """
    B, L, _ = a.shape
    for _ in range(sweeps):
        costs = move_costs(a, s, r, T, kappa)
        c, C1, C2, comp = costs
        q = C2.shape[-1]
        b1, j1 = C1.min(-1)  # (B, L)
        b2, m2 = C2.reshape(B, L, L * q).min(-1)
        move = torch.minimum(b1, b2) < c
        if not bool(move.any()):
            return a, costs
        j2, k2 = m2 // q, torch.gather(comp, 2, (m2 % q)[..., None])[..., 0]
        one = torch.nn.functional.one_hot
        flip = torch.where((b1 <= b2)[..., None], one(j1, L), one(j2, L) + one(k2, L)).double()
        a = (a - flip * move[..., None]).abs()
    return a, None


def max_marginal_llr(
    a: torch.Tensor,
    s: torch.Tensor,
    r: torch.Tensor,
    T: torch.Tensor,
    tau: float,
    kappa: int,
    costs: Costs | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Directed log-odds of an edge near the 0/1 sets a (B, L, L) (see ``move_costs``; ``costs``: its result at
    a, when already known).

    For row i and pair j: F_ij = the least cost with a_ij toggled (alone or with one compensating toggle, e.g. a
    swap), K_ij = the least cost with a_ij kept (a itself, or one other toggle). With sigma^2 = max(least cost
    per step pooled over the rows, floor):

        max-marginal LLR_ij = (2 a_ij - 1) (F_ij - K_ij) / (2 sigma^2)
        single-toggle LLR_ij = (2 a_ij - 1) (c_i(a with a_ij toggled) - c_i(a)) / (2 sigma^2)

    Returns both (B, L, L) (zero diagonal), the least cost per row (B, L) and sigma^2 (B,).
    """
    B, L, _ = a.shape
    S = r.shape[-1]
    c, C1, C2, _ = move_costs(a, s, r, T, kappa) if costs is None else costs
    F = torch.minimum(C1, C2.min(-1).values)  # (B, L, L)
    two = C1.topk(2, dim=-1, largest=False)  # best and second-best single toggle per row
    first_is_j = two.indices[..., :1] == torch.arange(L, device=a.device)  # (B, L, L)
    other = torch.where(first_is_j, two.values[..., 1:], two.values[..., :1])  # best toggle of another spin
    K = torch.minimum(other, c[..., None])
    best = torch.minimum(c, F.min(-1).values)  # (B, L)
    sigma2 = (best.sum(1) / (L * S)).clamp(min=noise_floor(tau))  # (B,)
    sign = (2.0 * a - 1.0) * off_diagonal(L, a.device) / (2.0 * sigma2[:, None, None])
    finite = torch.isfinite(F)
    llr = sign * torch.where(finite, F - K, torch.zeros_like(F))
    llr1 = sign * torch.where(finite, C1 - c[..., None], torch.zeros_like(F))
    return llr, llr1, best, sigma2


@functools.lru_cache(maxsize=16)
def subset_masks(n: int, device: torch.device | None = None) -> torch.Tensor:
    """All 2^n subsets of n items as 0/1 rows (2^n, n) float64; bit u of the row index is item u (cached; never
    write into it)."""
    codes = torch.arange(2**n, device=device)[:, None]
    return ((codes >> torch.arange(n, device=device)) & 1).double()


def block_marginals(
    a: torch.Tensor, u: torch.Tensor, s: torch.Tensor, r: torch.Tensor, T: torch.Tensor, tau: float, size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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
    idx = u.masked_fill(diagonal(L, a.device), math.inf).topk(n, dim=-1, largest=False).indices  # (B, L, n)
    member = torch.zeros_like(a).scatter_(2, idx, 1.0)  # (B, L, L)
    h0 = torch.einsum("bij,bjm->bim", a * (1.0 - member), s)  # (B, L, S) field of the fixed part
    s_blk = torch.gather(s[:, None].expand(B, L, L, S), 2, idx[..., None].expand(B, L, n, S))  # (B, L, n, S)
    P = subset_masks(n, a.device)  # (2^n, n)
    h = torch.matmul(P, s_blk).add_(h0[:, :, None, :])  # (B, L, 2^n, S)
    cost = tanh_(h.div_(T[:, None, None, None])).sub_(r[:, :, None, :]).square_().sum(-1)  # (B, L, 2^n)
    best, arg = cost.min(-1)  # (B, L)
    sigma2 = (best.sum(1) / (L * S)).clamp(min=noise_floor(tau))  # (B,)
    w = torch.exp(-(cost - best[..., None]) / (2.0 * sigma2[:, None, None]))  # (B, L, 2^n), best = 1
    p1 = torch.matmul(w, P)  # (B, L, n): weight of the settings with bit u set
    p0 = w.sum(-1, keepdim=True) - p1
    lo = 1e-300  # a weight that underflowed: the log-odds are then clipped near +-690
    logit = torch.zeros_like(a).scatter_(2, idx, torch.log(p1.clamp(min=lo)) - torch.log(p0.clamp(min=lo)))
    a_map = a * (1.0 - member)
    a_map = a_map.scatter(2, idx, P[arg])  # (B, L, L): block set to its best setting
    return logit, member, a_map
