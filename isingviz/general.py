"""The general model: one set of weights that reconstructs unseen lattices at any L and any M.

``GeneralNet`` (``ModelConfig(arch="general")``, built by ``isingviz.model.build_model``) maps instances
x (B, L, M) float64 at known T (B,) and tau to (B, K, 2) log-probabilities in ``numpy.triu_indices(L, 1)`` order
(index 1 = edge), exactly like the CNN, but:

- it is permutation equivariant: relabelling the spins permutes the output pairs the same way, because every
  feature is computed per spin or per (i, j) from the physics (``isingviz.general_features``) and combined by
  symmetric functions (f_ij + f_ji, |f_ij - f_ji|, g_i + g_j, |g_i - g_j|, means over spins);
- the pair score is symmetric in (i, j) by construction;
- it has no weight that depends on L or M: a shared pair network reads each pair's features.

Forward pass (all features in float64, no gradient; the network in float32):

1. physics features: row-wise ridge least squares of y = T artanh(r) at five regularisation levels and the
   posterior z-score; the binary decoder's objective around the rounded solution improved by a few greedy
   moves (one or two toggles per row), read as directed log-odds (single-toggle LLR and the max-marginal LLR
   that allows one compensating toggle, e.g. a swap); per-spin residual variances and saturation; log T, the
   pooled residual variance, (L - 1) / (M - 1) and log L (how much of a row the local searches cover);
2. a pair MLP gives a first logit z_ij, added to a learned multiple of the inversion's margin
   W_ij + W_ji - 1 (empirical-Bayes ridge solution; the physics inversion's decision is its sign);
3. ``rounds`` refinement rounds (shared weights): the current decision a = [z > 0] is symmetric, so the
   evidence of row j enters row i. Around it, each row's ``BLOCK`` least certain couplings (smallest |z|) are
   enumerated exactly (2^BLOCK settings, the rest of the row held at a): exact block log-odds, and the log-odds
   around the block's best setting (explaining away). These, pooled with each spin's mean pair embedding, feed
   a residual MLP that updates z.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import nn

from . import general_features as gf
from .model import ModelConfig

KAPPA = 4  # compensating toggles considered per row in the max-marginal log-odds
GREEDY_SWEEPS = 2  # greedy moves per row from the rounded ridge solution
BLOCK = 7  # couplings per row enumerated exactly (2^BLOCK settings) in each refinement round
N_DIRECTED = 10  # directed features per (i, j) in the first stage
N_SPIN = 5  # per-spin features
N_GLOBAL = 4  # per-instance features
N_ROUND = 6  # directed features recomputed in each refinement round


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, n_out)
    )


def _triu(Z: torch.Tensor) -> torch.Tensor:
    """(B, L, L, ...) -> (B, K, ...) upper-triangle entries in ``numpy.triu_indices(L, 1)`` order."""
    i, j = _pair_index(Z.shape[1])
    return Z[:, i, j]


@functools.lru_cache(maxsize=64)
def _pair_index(L: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column indices (K,) of the pairs i < j in ``numpy.triu_indices(L, 1)`` order (cached)."""
    i, j = np.triu_indices(L, 1)
    return torch.from_numpy(i), torch.from_numpy(j)


def _full(zk: torch.Tensor, L: int) -> torch.Tensor:
    """Pair values (B, K) -> the symmetric (B, L, L) matrix with a zero diagonal."""
    i, j = _pair_index(L)
    Z = zk.new_zeros(zk.shape[0], L, L)
    Z[:, i, j] = zk
    Z[:, j, i] = zk
    return Z


def _round_features(
    a: torch.Tensor,
    s: torch.Tensor,
    r: torch.Tensor,
    T: torch.Tensor,
    tau: float,
    costs: gf.Costs | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Log-odds around the 0/1 sets a (B, L, L): directed features (B, L, L, N_ROUND), row costs, sigma^2."""
    mm, llr1, best, sigma2 = gf.max_marginal_llr(a, s, r, T, tau, KAPPA, costs)
    feats = [gf.signed_log(mm) / 5.0, gf.signed_log(llr1) / 5.0, a, gf.signed_log(mm.clamp(min=0) - llr1.clamp(min=0))]
    return torch.stack(feats, dim=-1), best, sigma2


def _block_features(
    a: torch.Tensor, u: torch.Tensor, s: torch.Tensor, r: torch.Tensor, T: torch.Tensor, tau: float
) -> torch.Tensor:
    """Refinement-round features around the decision a (B, L, L) with uncertainty u (B, L, L): exact block
    log-odds over each row's ``BLOCK`` least certain couplings, then the log-odds around the block's best set."""
    logit, member, a_map = gf.block_marginals(a, u, s, r, T, tau, BLOCK)
    rnd, _, _ = _round_features(a_map, s, r, T, tau)
    return torch.cat([torch.stack([gf.signed_log(logit) / 3.0, member], dim=-1), rnd], dim=-1)


@torch.no_grad()
def physics_features(x: torch.Tensor, T: torch.Tensor, tau: float) -> dict[str, torch.Tensor]:
    """First-stage features of instances x (B, L, M) float64 at T (B,).

    Returns ``directed`` (B, L, L, N_DIRECTED), ``spin`` (B, L, N_SPIN), ``glob`` (B, N_GLOBAL), the greedy set
    ``a`` (B, L, L) and the tensors the refinement rounds reuse (``s``, ``r``).
    """
    B, L, M = x.shape
    S = M - 1
    r = gf.increments(x, tau)  # (B, L, S)
    s = x[:, :, :-1]  # (B, L, S)
    R = gf.ridge_rows(x, r, T)
    W = R["eb0"]
    a0 = (0.5 * (W + W.transpose(1, 2)) > 0.5).double()  # rounded symmetrised ridge solution
    a, costs = gf.greedy_moves(a0, s, r, T, GREEDY_SWEEPS, KAPPA)
    rnd, best, sigma2 = _round_features(a, s, r, T, tau, costs)
    z = (W - 0.5) / torch.sqrt(R["var0"] + 1e-6)
    directed = [R[k].clamp(-3.0, 4.0) for k in ("plain", "eb0", "eb1", "fix0", "fix1")]
    directed += [gf.signed_log(z) / 3.0]
    directed = torch.cat([torch.stack(directed, -1), rnd], dim=-1)  # (B, L, L, N_DIRECTED)
    sat = (-torch.log10((1.0 - x.abs()).clamp(min=1e-16))).mean(-1) / 8.0  # (B, L)
    spin = torch.stack(
        [gf.log_clip(R["sigma2"]), R["kept"], gf.log_clip(best / S), sat, a.sum(-1) / 10.0], dim=-1
    )  # (B, L, N_SPIN)
    ratio = torch.full_like(T, (L - 1) / S)  # unknowns per equation of each row's least squares
    size = torch.full_like(T, float(np.log(L)) / 3.0)  # the block and the neighbourhoods cover less of a long row
    glob = torch.stack([torch.log(T) / 3.0, gf.log_clip(sigma2), ratio, size], dim=-1)  # (B, N_GLOBAL)
    return {"directed": directed, "spin": spin, "glob": glob, "a": a, "s": s, "r": r}


class GeneralNet(nn.Module):
    """Permutation-equivariant pair network on physics features; ``forward(x, T, tau)`` -> (B, K, 2).

    ``config.hidden`` is the pair network's width and ``config.rounds`` the number of refinement rounds;
    ``config.L`` and ``config.M`` are only the sizes it was trained around (any L >= 3, M >= 3 is accepted).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        H = cfg.hidden
        self.rounds = cfg.rounds
        n0 = 2 * N_DIRECTED + 2 * N_SPIN + N_GLOBAL
        self.stage0 = _mlp(n0, H, H)
        self.read0 = nn.Linear(H, 1)
        self.skip = nn.Parameter(torch.tensor(2.0))  # weight of the inversion's margin in the first logit
        n1 = H + 2 * H + 2 * N_ROUND + N_GLOBAL + 1
        self.refine = _mlp(n1, H, H)
        self.read = nn.Linear(H, 1)

    def pair_logits(self, x: Any, T: Any, tau: float, rounds: int | None = None) -> list[torch.Tensor]:
        """Logits z (B, L, L) (symmetric, zero diagonal) after the first stage and after each round (``rounds``,
        default ``self.rounds``)."""
        x, T = gf.check_inputs(x, T, tau)
        B, L, _ = x.shape
        i, j = _pair_index(L)
        f = physics_features(x, T, tau)
        # The pair network's inputs are symmetric in (i, j), so it runs on the K pairs i < j only.
        glob = f["glob"].float()[:, None, :].expand(B, i.numel(), -1)  # (B, K, N_GLOBAL)
        inp = torch.cat([gf.symmetric_pairs(f["directed"], i, j), gf.spin_pairs(f["spin"], i, j)], -1).float()
        h = self.stage0(torch.cat([inp, glob], -1))  # (B, K, H)
        W = f["directed"][..., 1]
        margin = (W[:, i, j] + W[:, j, i] - 1.0).clamp(-3.0, 3.0).float()
        z = self.read0(h)[..., 0] + self.skip * margin  # (B, K)
        out = [z]
        for _ in range(self.rounds if rounds is None else rounds):
            with torch.no_grad():
                zd = _full(z.detach().double(), L)
                a = (zd > 0).double() * gf.off_diagonal(L)
                rnd = _block_features(a, zd.abs(), f["s"], f["r"], T, tau)
            # mean pair embedding per spin: each pair (i, j) counts for both of its spins
            ctx = (h.new_zeros(B, L, h.shape[-1]).index_add(1, i, h).index_add(1, j, h)) / max(L - 1, 1)
            hi, hj = ctx[:, i], ctx[:, j]
            rnd_k = gf.symmetric_pairs(rnd, i, j).float()
            step = torch.cat([h, hi + hj, (hi - hj).abs(), rnd_k, glob, z[..., None]], -1)
            h = h + self.refine(step)
            z = z + self.read(h)[..., 0]
            out.append(z)
        return [_full(zk, L) for zk in out]

    def forward(self, x: Any, T: Any, tau: float, rounds: int | None = None) -> torch.Tensor:
        """Instances x (B, L, M), T scalar or (B,), tau -> log-probabilities (B, K, 2) (index 1 = edge);
        ``rounds`` overrides the number of refinement rounds."""
        return logits_to_logp(self.pair_logits(x, T, tau, rounds)[-1])


def logits_to_logp(z: torch.Tensor) -> torch.Tensor:
    """Symmetric logits (B, L, L) -> (B, K, 2) log-probabilities, [log p(no edge), log p(edge)]."""
    zk = _triu(z)  # (B, K)
    return torch.stack([nn.functional.logsigmoid(-zk), nn.functional.logsigmoid(zk)], dim=-1)
