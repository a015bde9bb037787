"""The general model's confidence head: calibrated pair logits, on mean-field and on replica-averaged data.

The pair network reads one instance through Eq. 1's physics; off that distribution (heat-bath data averaged over
R replicas, information-free instances) its argmax can be confidently wrong. The head is a small MLP per pair that
corrects the network's logit z from what the instance says about its own information, and, for replica data,
from the replica decoder (``isingviz.heatbath``, the one-step likelihood of the replica means):

    inputs per pair: z / 10, z_rep / 10, [R given], 1 / sqrt(R), the network's per-instance features (log T,
    log residual variance, (L-1)/(M-1), log L), and per instance: mean |z| / 10, mean p(edge), mean |z_rep| / 10;
    from the head of ``N_HEAD`` = 13 inputs on, also z_dens / 10, the replica decoder's logit with the density
    learnt from the instance, and that density (``heatbath.decode`` with prior None: it tells a complete lattice
    from a sparse one where the fixed prior 0.3 reads "no edge"; but at low T with few replicas, where the closure
    errs, it can mislead, which the head weighs by T and R); output: z + MLP(inputs) (it starts as the identity).
    Heads of model files made before them read the first ``N_HEAD_FIXED_PRIOR`` = 11 (``ModelConfig.head_inputs``).

It is trained, with the network frozen, on fresh lattices of every family (``isingviz.lattice.GENERATORS``:
sparse, dense, star, tree, complete bipartite, matching, complete, empty), T log-uniform, half of the mean-field
instances with observation noise, and a share of heat-bath instances with R log-uniform in [1, 1000]: where an
instance carries no information, the loss teaches the prior; where the network is confidently wrong, less
confidence. ``HeadTrainConfig`` is the recipe, ``collect_examples`` the frozen inputs, ``fit_head`` the fit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ...config import dataclass_from_dict
from ...dynamics import simulate
from ...heatbath import EXHAUSTIVE_MAX_L, FALLBACK_PRIOR, decode
from ...lattice import GENERATORS, adjacency_to_pairs, make_lattice
from ...limits import L_MAX, REPLICAS_MAX, SEED_MAX, STEPS_MAX, T_MAX, T_MIN, check_float, check_int
from ..model_config import HEAD_INPUTS, check_head_inputs

# inputs per pair of the heads made before the learnt density (they read the first 11), and of the head since
N_HEAD_FIXED_PRIOR, N_HEAD = HEAD_INPUTS
Z_CLIP = 30.0  # logits beyond this carry no more information (p within 1e-13 of 0 or 1)


class ConfidenceHead(nn.Module):
    """Pair logits (B, K) and their context -> corrected logits (B, K); identity at initialisation."""

    def __init__(self, width: int = 32, n_inputs: int = N_HEAD) -> None:
        super().__init__()
        self.n_inputs = check_head_inputs("n_inputs", n_inputs)
        self.mlp = nn.Sequential(nn.Linear(n_inputs, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                                 nn.Linear(width, 1))  # fmt: skip
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, inputs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return z + self.mlp(inputs)[..., 0]


def head_inputs(
    z: torch.Tensor,
    glob: np.ndarray,
    z_rep: np.ndarray | None,
    replicas: int | None,
    learnt: tuple[np.ndarray, np.ndarray] | None = None,
    n_inputs: int = N_HEAD,
) -> torch.Tensor:
    """The head's inputs (B, K, n_inputs) from the network's logits z (B, K), its per-instance features glob (B, 4),
    the replica decoder's logits z_rep (B, K), R, and ``learnt``: the decoder's logits with the density learnt
    (B, K) and that density (B,) (all three None for mean-field data; ``replica_features`` makes them); a head of
    ``N_HEAD_FIXED_PRIOR`` inputs reads the first ones only."""
    check_head_inputs("n_inputs", n_inputs)
    if (z_rep is None) != (replicas is None) or (learnt is not None and z_rep is None):
        raise ValueError("replica data needs z_rep and R together (learnt only with them); mean-field data none")
    B, K = z.shape
    zc = z.detach().clamp(-Z_CLIP, Z_CLIP).double()
    zr = torch.zeros_like(zc) if z_rep is None else torch.from_numpy(np.clip(z_rep, -Z_CLIP, Z_CLIP))
    given = 0.0 if replicas is None else 1.0
    inv_sqrt_r = 0.0 if replicas is None else 1.0 / math.sqrt(replicas)
    per_instance = torch.cat(
        [
            torch.tensor([given, inv_sqrt_r], dtype=torch.float64).expand(B, 2),
            torch.from_numpy(np.asarray(glob, dtype=np.float64)),
            zc.abs().mean(1, keepdim=True) / 10.0,
            torch.sigmoid(zc).mean(1, keepdim=True),
            zr.abs().mean(1, keepdim=True) / 10.0,
        ],
        dim=1,
    )  # (B, 9)
    parts = [zc[..., None] / 10.0, zr[..., None] / 10.0, per_instance[:, None, :].expand(B, K, 9)]
    if n_inputs == N_HEAD:
        if learnt is None:  # mean-field data, or replica data read without the density (the fixed prior)
            zd, dens = zr, torch.zeros(B, dtype=torch.float64) if z_rep is None else torch.full((B,), FALLBACK_PRIOR)
        else:
            zd = torch.from_numpy(np.clip(learnt[0], -Z_CLIP, Z_CLIP))
            dens = torch.from_numpy(np.asarray(learnt[1], dtype=np.float64))
        parts += [zd[..., None] / 10.0, dens[:, None, None].expand(B, K, 1)]
    return torch.cat(parts, dim=-1).float()


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-13, 1.0 - 1e-13)
    return np.log(p / (1.0 - p))


def replica_features(
    x: np.ndarray, T: Any, tau: float, replicas: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The replica decoder's pair logits (B, K) with the prior fixed at ``heatbath.FALLBACK_PRIOR``, and, from the
    same costs, ``learnt``: its logits (B, K) with the density learnt from the instance and that density (B,)
    (``heatbath.decode`` with prior None; beyond its exhaustive search, the fixed prior's logits and density) for
    ``head_inputs``; T is a scalar or one per instance."""
    B, L = x.shape[:2]
    T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (B,))
    fixed, learnt, dens = np.empty((B, L * (L - 1) // 2)), np.empty((B, L * (L - 1) // 2)), np.empty(B)
    for t in np.unique(T_arr):  # the decoder takes one T
        sel = T_arr == t
        learnt[sel], info = decode(x[sel], float(t), tau, replicas, prior=None)
        fixed[sel] = info.get("p_fixed_prior", learnt[sel])  # the local search reads with the fixed prior
        dens[sel] = info["density"]
    return _logit(fixed), (_logit(learnt), dens)


@dataclass(frozen=True)
class HeadTrainConfig:
    """The confidence head's training distribution and fit (defaults: the shipped recipe)."""

    n_instances: int = 3200  # fresh lattices, one instance each
    group: int = 16  # instances per simulated group (one L, T range and kind per group)
    L_min: int = 8
    L_max: int = 24  # mean-field instances: L uniform in [L_min, L_max]
    replica_L_max: int = 12  # heat-bath instances: L uniform in [L_min, replica_L_max] (the exhaustive decoder)
    M: int = 50
    tau: float = 0.1
    T_min: float = 0.3
    T_max: float = 60.0
    noise_fraction: float = 0.5  # mean-field instances with observation noise, sigma log-uniform below
    noise_min: float = 1e-4
    noise_max: float = 1e-2
    stochastic_fraction: float = 0.5  # groups of heat-bath instances, R log-uniform in [replicas_min, replicas_max]
    replicas_min: int = 1
    replicas_max: int = 1000
    steps: int = 1000  # Adam steps over all pairs (full batch)
    lr: float = 3e-3
    held_out: float = 0.25  # share of the instances kept out of the fit, to report and to pick the best step
    seed: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> HeadTrainConfig:
        tc = dataclass_from_dict(cls, d, "head train config")
        tc.validate()
        return tc

    def validate(self) -> None:
        check_int("n_instances", self.n_instances, 8, 100_000)
        check_int("group", self.group, 1, 1024)
        check_int("L_min", self.L_min, 3, L_MAX)
        check_int("L_max", self.L_max, self.L_min, L_MAX)
        check_int("replica_L_max", self.replica_L_max, self.L_min, EXHAUSTIVE_MAX_L)
        check_int("M", self.M, 3, 2000)
        check_float("tau", self.tau, 0.0, 1.0, lo_open=True)
        check_float("T_min", self.T_min, T_MIN, T_MAX)
        check_float("T_max", self.T_max, self.T_min, T_MAX)
        check_float("noise_fraction", self.noise_fraction, 0.0, 1.0)
        check_float("noise_min", self.noise_min, 0.0, 1.0, lo_open=True)
        check_float("noise_max", self.noise_max, self.noise_min, 1.0)
        check_float("stochastic_fraction", self.stochastic_fraction, 0.0, 1.0)
        check_int("replicas_min", self.replicas_min, 1, REPLICAS_MAX)
        check_int("replicas_max", self.replicas_max, self.replicas_min, REPLICAS_MAX)
        check_int("steps", self.steps, 1, STEPS_MAX)
        check_float("lr", self.lr, 0.0, 1.0, lo_open=True)
        check_float("held_out", self.held_out, 0.0, 0.9, lo_open=True)
        check_int("seed", self.seed, 0, SEED_MAX)


Examples = dict[str, torch.Tensor]


@torch.no_grad()  # not inference_mode: the examples are fitted with autograd afterwards
def collect_examples(
    net: nn.Module, tc: HeadTrainConfig, progress: Callable[[int, int], None] | None = None
) -> tuple[Examples, Examples]:
    """Run the frozen network (and the replica decoder) on ``tc.n_instances`` fresh instances; returns the
    training and held-out examples: ``inputs`` (N, N_HEAD), ``z`` (N,), ``y`` (N,) over all their pairs."""
    rng = np.random.default_rng([tc.seed, 5])
    families = list(GENERATORS)
    parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, bool]] = []
    done = 0
    while done < tc.n_instances:
        n = min(tc.group, tc.n_instances - done)
        stochastic = bool(rng.random() < tc.stochastic_fraction)
        L = int(rng.integers(tc.L_min, (tc.replica_L_max if stochastic else tc.L_max) + 1))
        A = np.stack([_draw(str(rng.choice(families)), L, rng) for _ in range(n)])
        T = float(np.exp(rng.uniform(math.log(tc.T_min), math.log(tc.T_max))))  # one T per group: the decoder's
        s0 = rng.choice(np.array([-1.0, 1.0]), (n, L))
        R: int | None = None
        if stochastic:
            R = int(round(math.exp(rng.uniform(math.log(tc.replicas_min), math.log(tc.replicas_max)))))
            X = simulate(A, s0, T, tc.tau, tc.M, mode="stochastic", replicas=R, seed=int(rng.integers(2**62)))
        else:
            X = simulate(A, s0, T, tc.tau, tc.M)
            if rng.random() < tc.noise_fraction:
                sigma = float(np.exp(rng.uniform(math.log(tc.noise_min), math.log(tc.noise_max))))
                X = X + sigma * rng.standard_normal(X.shape)
        _, zs, glob = net.logits_and_context(X, np.full(n, T), tc.tau)
        z_rep, learnt = replica_features(X, T, tc.tau, R) if R is not None else (None, None)
        inputs = head_inputs(zs[-1], glob, z_rep, R, learnt)
        y = torch.from_numpy(np.stack([adjacency_to_pairs(a) for a in A]).astype(np.float32))
        held = bool(rng.random() < tc.held_out)
        parts.append((inputs.reshape(-1, N_HEAD), zs[-1].reshape(-1).float(), y.reshape(-1), held))
        done += n
        if progress:
            progress(done, tc.n_instances)

    def join(keep: bool) -> Examples:
        sel = [p for p in parts if p[3] == keep]
        return {k: torch.cat([p[i] for p in sel]) for i, k in enumerate(("inputs", "z", "y"))}

    return join(False), join(True)


def _draw(family: str, L: int, rng: np.random.Generator) -> np.ndarray:
    """A lattice of ``family`` (random ones with a random mean degree), randomly relabelled."""
    if family == "random":
        K = L * (L - 1) // 2
        A = make_lattice("random", L, rng, n_edges=int(min(K, round(rng.uniform(0.5, min(12.0, L - 1)) * L / 2))))
    elif family == "erdos_renyi":
        A = make_lattice("erdos_renyi", L, rng, p=float(rng.uniform(0.05, 0.6)))
    else:
        A = make_lattice(family, L, rng)
    p = rng.permutation(L)
    return A[np.ix_(p, p)]


def fit_head(
    train: Examples, held: Examples, tc: HeadTrainConfig, progress: Callable[[dict[str, Any]], None] | None = None
) -> tuple[ConfidenceHead, list[dict[str, float]]]:
    """Fit a ``ConfidenceHead`` by full-batch Adam on the pair NLL; returns the head of the best held-out NLL and
    the history (step, train and held-out NLL and accuracy; step 0 is the network alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tc.seed)
        head = ConfidenceHead()
    opt = torch.optim.Adam(head.parameters(), lr=tc.lr)
    bce = nn.functional.binary_cross_entropy_with_logits

    def scores(ex: Examples) -> tuple[float, float]:
        with torch.no_grad():
            out = head(ex["inputs"], ex["z"])
            return float(bce(out, ex["y"])), float(((out > 0).float() == ex["y"]).float().mean())

    history: list[dict[str, float]] = []
    best = (math.inf, head.state_dict())
    for step in range(tc.steps + 1):
        if step % 25 == 0 or step == tc.steps:
            (tl, ta), (hl, ha) = scores(train), scores(held)
            history.append({"step": step, "train_loss": tl, "train_accuracy": ta, "test_loss": hl,
                            "test_accuracy": ha})  # fmt: skip
            if hl < best[0]:
                best = (hl, {k: v.clone() for k, v in head.state_dict().items()})
            if progress:
                progress(history[-1])
        if step == tc.steps:
            break
        loss = bce(head(train["inputs"], train["z"]), train["y"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    head.load_state_dict(best[1])
    return head.eval(), history
