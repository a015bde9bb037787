"""The general model: one set of weights that reconstructs unseen lattices at any L and any M.

``GeneralNet`` (``ModelConfig(arch="general")``, built by ``isingviz.learn.networks.build_model``) maps instances
x (B, L, M) float64 at known T (B,) and tau to (B, K, 2) log-probabilities in ``numpy.triu_indices(L, 1)`` order
(index 1 = edge), exactly like the CNN, but:

- it is permutation equivariant: relabelling the spins permutes the output pairs the same way, because every
  feature is computed per spin or per (i, j) from the physics (``isingviz.learn.general.features``) and combined by
  symmetric functions (f_ij + f_ji, |f_ij - f_ji|, g_i + g_j, |g_i - g_j|, means over spins);
- the pair score is symmetric in (i, j) by construction;
- it has no weight that depends on L or M: a shared pair network reads each pair's features.

Forward pass (all features in float64 numpy, batched, never differentiated; the network in float32 torch):

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

from ...limits import check_memory, max_bytes
from ..model_config import ModelConfig
from . import features as gf

KAPPA = 4  # compensating toggles considered per row in the max-marginal log-odds
GREEDY_SWEEPS = 2  # greedy moves per row from the rounded ridge solution
BLOCK = 7  # couplings per row enumerated exactly (2^BLOCK settings) in each refinement round
N_DIRECTED = 10  # directed features per (i, j) in the first stage
N_SPIN = 5  # per-spin features
N_GLOBAL = 4  # per-instance features
N_LOGODDS = 4  # log-odds features around a 0/1 set (``_round_features``)
N_ROUND = 2 + N_LOGODDS  # directed features recomputed in each refinement round
# Peak memory of a forward pass per (L^2 M + L^3) of each instance, in bytes: measured 60-90 at L = 12..64,
# M = 50..10,000 (float64 features, ridge solves and their temporaries); rounded up.
FORWARD_BYTES_PER_CELL = 100


def forward_bytes(B: int, L: int, M: int) -> int:
    """Estimated peak memory (bytes) of ``GeneralNet`` on B instances of L spins and M time points."""
    return int(B) * FORWARD_BYTES_PER_CELL * (int(L) ** 2 * int(M) + int(L) ** 3)


def batch_within_budget(L: int, M: int, batch: int) -> int:
    """The largest batch of at most ``batch`` instances (L, M) whose forward pass fits in an eighth of the memory
    budget (at least 1; ``GeneralNet`` itself refuses an instance that does not fit the whole budget)."""
    return max(1, min(int(batch), max_bytes() // 8 // max(1, forward_bytes(1, L, M))))


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, n_out)
    )


def _run_mlp(mlp: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """``mlp(x)`` for an ``_mlp`` stack, calling its operations directly: on these small matrices nn.Module's
    per-call machinery costs a sixth of the time (no hooks are used on these modules)."""
    l0, _, l1, _, l2 = mlp
    x = nn.functional.gelu(nn.functional.linear(x, l0.weight, l0.bias))
    x = nn.functional.gelu(nn.functional.linear(x, l1.weight, l1.bias))
    return nn.functional.linear(x, l2.weight, l2.bias)


def _triu(Z: torch.Tensor) -> torch.Tensor:
    """(B, L, L, ...) -> (B, K, ...) upper-triangle entries in ``numpy.triu_indices(L, 1)`` order."""
    i, j = _pair_index_t(Z.shape[1])
    return Z[:, i, j]


@functools.lru_cache(maxsize=64)
def _pair_index(L: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices (K,) of the pairs i < j in ``numpy.triu_indices(L, 1)`` order (cached, read-only)."""
    i, j = np.triu_indices(L, 1)
    i.flags.writeable = j.flags.writeable = False
    return i, j


@functools.lru_cache(maxsize=64)
def _pair_index_t(L: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``_pair_index`` as torch tensors (cached). Made outside inference mode even when first asked for inside it
    (prediction): an inference tensor in the cache would break a later training step that indexes with it."""
    i, j = np.triu_indices(L, 1)
    with torch.inference_mode(False):
        return torch.from_numpy(i), torch.from_numpy(j)


def _full(zk: torch.Tensor, L: int) -> torch.Tensor:
    """Pair values (B, K) -> the symmetric (B, L, L) matrix with a zero diagonal."""
    i, j = _pair_index_t(L)
    Z = zk.new_zeros(zk.shape[0], L, L)
    Z[:, i, j] = zk
    Z[:, j, i] = zk
    return Z


def _full_np(zk: np.ndarray, L: int) -> np.ndarray:
    """``_full`` for numpy pair values (B, K)."""
    i, j = _pair_index(L)
    Z = np.zeros((zk.shape[0], L, L), dtype=zk.dtype)
    Z[:, i, j] = zk
    Z[:, j, i] = zk
    return Z


def _round_features(
    out: np.ndarray,
    a: np.ndarray,
    s: np.ndarray,
    r: np.ndarray,
    T: np.ndarray,
    tau: float,
    costs: gf.Costs | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds around the 0/1 sets a (B, L, L), written into ``out`` (B, L, L, N_LOGODDS): signed_log of the
    max-marginal and single-toggle LLRs / 5, a, signed_log(max(mm, 0) - max(llr1, 0)). Returns the row costs
    (B, L) and sigma^2 (B,)."""
    mm, llr1, best, sigma2 = gf.max_marginal_llr(a, s, r, T, tau, KAPPA, costs)
    v = np.empty(a.shape + (3,))
    np.maximum(mm, 0.0, out=v[..., 0])
    np.maximum(llr1, 0.0, out=v[..., 1])
    np.subtract(v[..., 0], v[..., 1], out=v[..., 2])
    v[..., 0], v[..., 1] = mm, llr1
    v = gf.signed_log(v)
    np.divide(v[..., :2], 5.0, out=out[..., :2])
    out[..., 2] = a
    out[..., 3] = v[..., 2]
    return best, sigma2


def _block_features(
    a: np.ndarray, u: np.ndarray, s: np.ndarray, r: np.ndarray, T: np.ndarray, tau: float
) -> np.ndarray:
    """Refinement-round features (B, L, L, N_ROUND) around the decision a (B, L, L) with uncertainty u
    (B, L, L): exact block log-odds over each row's ``BLOCK`` least certain couplings / 3 (signed_log) and the
    block membership, then the log-odds around the block's best set (``_round_features``)."""
    logit, member, a_map = gf.block_marginals(a, u, s, r, T, tau, BLOCK)
    out = np.empty(a.shape + (N_ROUND,))
    np.divide(gf.signed_log(logit), 3.0, out=out[..., 0])
    out[..., 1] = member
    _round_features(out[..., 2:], a_map, s, r, T, tau)
    return out


def physics_features(x: np.ndarray, T: np.ndarray, tau: float) -> dict[str, np.ndarray]:
    """First-stage features of instances x (B, L, M) float64 at T (B,) (numpy, as from ``gf.check_inputs``).

    Returns ``directed`` (B, L, L, N_DIRECTED), ``spin`` (B, L, N_SPIN), ``glob`` (B, N_GLOBAL), the greedy set
    ``a`` (B, L, L) and the arrays the refinement rounds reuse (``s``, ``r``), all float64.
    """
    B, L, M = x.shape
    S = M - 1
    r = gf.increments(x, tau)  # (B, L, S)
    s = np.ascontiguousarray(x[:, :, :-1])  # (B, L, S)
    R = gf.ridge_rows(x, r, T)
    W = R["eb0"]
    a0 = (0.5 * (W + W.transpose(0, 2, 1)) > 0.5).astype(np.float64)  # rounded symmetrised ridge solution
    a, costs = gf.greedy_moves(a0, s, r, T, GREEDY_SWEEPS, KAPPA)
    directed = np.empty((B, L, L, N_DIRECTED))
    np.clip(R["levels"], -3.0, 4.0, out=directed[..., :5])  # plain, eb0, eb1, fix0, fix1
    z = (W - 0.5) / np.sqrt(R["var0"] + 1e-6)  # posterior z-score of the first empirical-Bayes solution
    np.divide(gf.signed_log(z), 3.0, out=directed[..., 5])
    best, sigma2 = _round_features(directed[..., 6:], a, s, r, T, tau, costs)
    sat = (-np.log10(np.maximum(1.0 - np.abs(x), 1e-16))).mean(-1) / 8.0  # (B, L)
    spin = np.stack(
        [gf.log_clip(R["sigma2"]), R["kept"], gf.log_clip(best / S), sat, a.sum(-1) / 10.0], axis=-1
    )  # (B, L, N_SPIN)
    ratio = np.full_like(T, (L - 1) / S)  # unknowns per equation of each row's least squares
    size = np.full_like(T, float(np.log(L)) / 3.0)  # the block and the neighbourhoods cover less of a long row
    glob = np.stack([np.log(T) / 3.0, gf.log_clip(sigma2), ratio, size], axis=-1)  # (B, N_GLOBAL)
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
        if cfg.head:
            from .head import ConfidenceHead

            self.head = ConfidenceHead(n_inputs=cfg.head_inputs)
        self.head_L_max = cfg.head_L_max

    def pair_logits(self, x: Any, T: Any, tau: float, rounds: int | None = None) -> list[torch.Tensor]:
        """Logits z (B, L, L) (symmetric, zero diagonal) after the first stage and after each round (``rounds``,
        default ``self.rounds``)."""
        L, zs = self._pair_logits(x, T, tau, rounds)
        return [_full(zk, L) for zk in zs]

    def _pair_logits(self, x: Any, T: Any, tau: float, rounds: int | None = None) -> tuple[int, list[torch.Tensor]]:
        """L and the logits (B, K) of the pairs i < j after the first stage and after each round."""
        L, zs, _ = self.logits_and_context(x, T, tau, rounds)
        return L, zs

    def logits_and_context(
        self, x: Any, T: Any, tau: float, rounds: int | None = None
    ) -> tuple[int, list[torch.Tensor], np.ndarray]:
        """``_pair_logits`` plus the per-instance features (B, N_GLOBAL): log T / 3, the log pooled residual
        variance of the best 0/1 sets (how far the data are from Eq. 1: noise, replicas), (L-1)/(M-1), log L / 3."""
        x, T = gf.check_inputs(x, T, tau)
        B, L, M = x.shape
        check_memory(forward_bytes(B, L, M), f"the general model on {B:,} instances of L = {L}, M = {M}")
        i, j = _pair_index(L)
        it, jt = _pair_index_t(L)
        K = i.size
        f = physics_features(x, T, tau)
        # The pair network's inputs are symmetric in (i, j), so it runs on the K pairs i < j only. The float64
        # features are cast to float32 as they are written into its input (B, K, n0).
        inp = np.empty((B, K, 2 * N_DIRECTED + 2 * N_SPIN + N_GLOBAL), dtype=np.float32)
        gf.symmetric_pairs(f["directed"], i, j, out=inp[..., : 2 * N_DIRECTED])
        gf.spin_pairs(f["spin"], i, j, out=inp[..., 2 * N_DIRECTED : 2 * N_DIRECTED + 2 * N_SPIN])
        inp[..., -N_GLOBAL:] = f["glob"][:, None, :]
        glob = torch.from_numpy(inp[..., -N_GLOBAL:])  # (B, K, N_GLOBAL)
        W = f["directed"][..., 1]  # eb0, clipped
        margin = torch.from_numpy(np.clip(W[:, i, j] + W[:, j, i] - 1.0, -3.0, 3.0).astype(np.float32))
        h = _run_mlp(self.stage0, torch.from_numpy(inp))  # (B, K, H)
        z = nn.functional.linear(h, self.read0.weight, self.read0.bias)[..., 0] + self.skip * margin  # (B, K)
        out = [z]
        for _ in range(self.rounds if rounds is None else rounds):
            zd = _full_np(z.detach().numpy().astype(np.float64), L)  # (B, L, L), zero diagonal
            rnd = _block_features((zd > 0).astype(np.float64), np.abs(zd), f["s"], f["r"], T, tau)
            rnd_k = gf.symmetric_pairs(rnd, i, j, out=np.empty((B, K, 2 * N_ROUND), dtype=np.float32))
            # mean pair embedding per spin: each pair (i, j) counts for both of its spins
            ctx = (h.new_zeros(B, L, h.shape[-1]).index_add(1, it, h).index_add(1, jt, h)) / max(L - 1, 1)
            hi, hj = ctx.index_select(1, it), ctx.index_select(1, jt)
            step = torch.cat([h, hi + hj, (hi - hj).abs(), torch.from_numpy(rnd_k), glob, z[..., None]], -1)
            h = h + _run_mlp(self.refine, step)
            z = z + nn.functional.linear(h, self.read.weight, self.read.bias)[..., 0]
            out.append(z)
        return L, out, f["glob"]

    def forward(
        self, x: Any, T: Any, tau: float, rounds: int | None = None, replicas: int | None = None, use_head: bool = True
    ) -> torch.Tensor:
        """Instances x (B, L, M), T scalar or (B,), tau -> log-probabilities (B, K, 2) (index 1 = edge);
        ``rounds`` overrides the number of refinement rounds. With a confidence head (``config.head``) and
        ``use_head``, the logits go through it: always on replica data (``replicas`` = R; None: Eq. 1 data), and on
        Eq. 1 data up to ``config.head_L_max`` spins, the largest L it was trained on (beyond it a learned correction
        would extrapolate: measured at L = 48 and 64 it fell from the network's 0.79 / 0.74 to 0.68 / 0.45)."""
        L, zs, glob = self.logits_and_context(x, T, tau, rounds)
        z = zs[-1]
        head = getattr(self, "head", None)
        if head is not None and use_head and (replicas is not None or L <= self.head_L_max):
            from .head import head_inputs, replica_features

            xs, Ts = gf.check_inputs(x, T, tau)
            z_rep, learnt = replica_features(xs, Ts, tau, replicas) if replicas is not None else (None, None)
            z = head(head_inputs(z, glob, z_rep, replicas, learnt, n_inputs=head.n_inputs), z)
        return _pairs_to_logp(z)


def _pairs_to_logp(zk: torch.Tensor) -> torch.Tensor:
    """Pair logits (B, K) -> (B, K, 2) log-probabilities, [log p(no edge), log p(edge)]."""
    return torch.stack([nn.functional.logsigmoid(-zk), nn.functional.logsigmoid(zk)], dim=-1)


def logits_to_logp(z: torch.Tensor) -> torch.Tensor:
    """Symmetric logits (B, L, L) -> (B, K, 2) log-probabilities, [log p(no edge), log p(edge)]."""
    return _pairs_to_logp(_triu(z))
