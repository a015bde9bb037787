"""Training the general model on lattices generated afresh for every batch.

``GeneralTrainConfig`` is the training distribution and the optimisation (saved in the model file's ``dataset``
and ``train_config`` metadata); ``sample_batch`` draws one batch (one L per batch, every instance its own
lattice, family, T and noise); ``train_general`` follows ``isingviz.learn.train``'s conventions: history records per
"epoch" (``steps_per_epoch`` steps) with train loss, accuracy on a fixed held-out set of unseen lattices, grad
norm, lr and seconds; a progress callback; a stop flag checked before every step; the best model is returned.

``general_model_config`` is the shipped architecture and ``held_out_set`` / ``held_out_trivial`` the held-out
instances and their "no edge" level. The recipe behind ``python -m isingviz train-general`` (steps, seed, lr,
overrides -> config -> trained, saved model with its reproduction command) is ``isingviz.learn.general.recipe``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...config import dataclass_from_dict
from ...dynamics import add_observation_noise, simulate
from ...lattice import adjacency_to_pairs, make_lattice
from ...limits import (
    BATCH_MAX,
    L_MAX,
    LR_MAX,
    M_MAX,
    N_EVAL_MAX,
    NOISE_MAX,
    REPLICAS_MAX,
    SEED_MAX,
    STEPS_MAX,
    T_MAX,
    T_MIN,
    WEIGHT_DECAY_MAX,
    check_float,
    check_int,
    check_memory,
)
from ...threads import torch_threads
from ..model_config import ModelConfig
from ..networks import build_model
from ..train import ProgressFn, StopFlag, TrainResult, _stop_requested

FAMILIES = ("random", "erdos_renyi", "ring", "grid", "small_world")  # the default training mix
# every family ``draw_lattice`` can draw (a training mix may name any of them, a family twice for twice the share)
TRAINABLE = (*FAMILIES, "star", "tree", "complete_bipartite", "matching", "complete", "empty")


@dataclass(frozen=True)
class GeneralTrainConfig:
    """Training distribution and optimisation of the general model (defaults: the shipped recipe)."""

    L_min: int = 8  # spins, drawn uniformly per batch in [L_min, L_max]
    L_max: int = 32
    L_power: float = 1.0  # P(L) proportional to L^L_power: larger L is rarer per instance (smaller batches)
    M_min: int = 40  # time points, drawn uniformly per batch
    M_max: int = 60
    T_min: float = 0.3  # temperature, log-uniform per instance
    T_max: float = 60.0
    tau: float = 0.1  # time step of every instance
    degree_max: float = 12.0  # random / Erdos-Renyi: mean degree uniform in [0.5, min(degree_max, L-1)]
    families: tuple[str, ...] = FAMILIES  # each instance's family, drawn uniformly from this list (TRAINABLE)
    noise_fraction: float = 0.5  # share of instances with observation noise
    noise_min: float = 1e-4  # sigma log-uniform in [noise_min, noise_max] for those
    noise_max: float = 1e-2
    stochastic_fraction: float = 0.0  # share of instances from heat-bath dynamics averaged over R replicas
    replicas_min: int = 1  # R log-uniform in [replicas_min, replicas_max], one R per batch
    replicas_max: int = 1000
    steps: int = 2000  # Adam steps in all
    steps_per_epoch: int = 100  # steps between history records
    batch_size: int = 32  # instances per step at L = 12; batch_size (12 / L)^2 (at least 4) at other L
    lr: float = 2e-3  # peak learning rate (one-cycle schedule)
    weight_decay: float = 0.0
    n_eval: int = 128  # held-out instances (unseen lattices, L = 12, the training mix)
    keep: str = "best"  # the weights returned: "best" held-out epoch, or "last" (the held-out set is L = 12 only)
    seed: int = 0  # lattices, instances and initialisation

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> GeneralTrainConfig:
        tc = dataclass_from_dict(cls, d, "general train config")
        tc.validate()
        return tc

    def validate(self) -> None:
        """Every field's type and range (``isingviz.limits``); ``ValueError`` says what to change. (A model file's
        training distribution is checked this way; ``check_budget`` adds the memory check before training.)"""
        for name, lo, hi in (("L_min", 3, L_MAX), ("L_max", 3, L_MAX), ("M_min", 3, M_MAX), ("M_max", 3, M_MAX)):
            check_int(name, getattr(self, name), lo, hi)
        if self.L_min > self.L_max or self.M_min > self.M_max:
            raise ValueError(f"need L_min <= L_max and M_min <= M_max, got {self.L_min}, {self.L_max}, {self.M_min},"
                             f" {self.M_max}")  # fmt: skip
        check_float("L_power", self.L_power, -10.0, 10.0)
        check_float("T_min", self.T_min, T_MIN, T_MAX)
        check_float("T_max", self.T_max, T_MIN, T_MAX)
        if self.T_min > self.T_max:
            raise ValueError(f"need 0 < T_min <= T_max, got {self.T_min}, {self.T_max}")
        check_float("time step tau", self.tau, 0.0, 1.0, lo_open=True)
        check_float("degree_max", self.degree_max, 0.5, float(L_MAX))
        bad = [f for f in self.families if f not in TRAINABLE]
        if not self.families or bad or not isinstance(self.families, tuple):
            raise ValueError(f"families must be a non-empty list of {', '.join(TRAINABLE)}; got {self.families!r}")
        check_float("noise_fraction", self.noise_fraction, 0.0, 1.0)
        check_float("noise_min", self.noise_min, 0.0, NOISE_MAX, lo_open=True)
        check_float("noise_max", self.noise_max, 0.0, NOISE_MAX, lo_open=True)
        if self.noise_min > self.noise_max:
            raise ValueError("need 0 <= noise_fraction <= 1 and 0 < noise_min <= noise_max")
        check_float("stochastic_fraction", self.stochastic_fraction, 0.0, 1.0)
        check_int("replicas_min", self.replicas_min, 1, REPLICAS_MAX)
        check_int("replicas_max", self.replicas_max, 1, REPLICAS_MAX)
        if self.replicas_min > self.replicas_max:
            raise ValueError(f"need replicas_min <= replicas_max, got {self.replicas_min}, {self.replicas_max}")
        for name, hi in (("steps", STEPS_MAX), ("steps_per_epoch", STEPS_MAX), ("batch_size", BATCH_MAX)):
            check_int(name, getattr(self, name), 1, hi)
        check_int("n_eval", self.n_eval, 1, N_EVAL_MAX)
        if self.keep not in ("best", "last"):
            raise ValueError(f"keep must be 'best' (held-out epoch) or 'last', got {self.keep!r}")
        check_float("learning rate lr", self.lr, 0.0, LR_MAX, lo_open=True)
        check_float("weight_decay", self.weight_decay, 0.0, WEIGHT_DECAY_MAX)
        check_int("seed", self.seed, 0, SEED_MAX)

    def check_budget(self) -> None:
        """Refuse, before anything is simulated, a run whose steps or held-out set do not fit the memory budget."""
        check_memory(self.estimated_bytes(), f"general-model training with batch_size {self.batch_size:,}")

    def estimated_bytes(self) -> int:
        """Memory of the largest training step (the L with the most work at M_max, gradients included: 3x the
        forward) or of the held-out evaluation (n_eval instances of L = 12, M = 50), whichever is larger."""
        from .net import forward_bytes

        step = max(3 * forward_bytes(batch_for(self.batch_size, L), L, self.M_max) for L in (self.L_min, self.L_max))
        return max(step, forward_bytes(self.n_eval, 12, 50))


def draw_lattice(family: str, L: int, rng: np.random.Generator, degree_max: float = 12.0) -> np.ndarray:
    """One lattice of ``family`` (``TRAINABLE``) with random parameters (mean degree, ring width, rewiring, the
    smaller side of a complete bipartite lattice, uniform in 1..L // 2), randomly relabelled."""
    K = L * (L - 1) // 2
    deg = rng.uniform(0.5, max(0.5, min(degree_max, L - 1)))
    k_max = max(2, min(6, (L - 1) // 2 * 2))
    k = int(rng.choice(np.arange(2, k_max + 1, 2)))
    if family == "random":
        A = make_lattice("random", L, rng, n_edges=int(min(K, round(deg * L / 2))))
    elif family == "erdos_renyi":
        A = make_lattice("erdos_renyi", L, rng, p=min(1.0, deg / (L - 1)))
    elif family == "ring":
        A = make_lattice("ring", L, rng, k=k)
    elif family == "grid":
        A = make_lattice("grid", L, rng)
    elif family == "small_world":
        A = make_lattice("small_world", L, rng, k=k, p=float(rng.uniform(0.0, 0.5)))
    elif family == "complete_bipartite":
        A = make_lattice(family, L, rng, a=int(rng.integers(1, L // 2 + 1)))
    elif family in TRAINABLE:  # no parameters: star, tree, matching, complete, empty
        A = make_lattice(family, L, rng)
    else:
        raise ValueError(f"unknown family {family!r}; allowed: {', '.join(TRAINABLE)}")
    p = rng.permutation(L)
    return A[np.ix_(p, p)]


def batch_for(batch_size: int, L: int) -> int:
    """Instances per step at L: about ``batch_size`` (12 / L)^2, so a step costs about the same at every L."""
    return max(min(4, batch_size), round(batch_size * (12 / L) ** 2))


def sample_batch(
    tc: GeneralTrainConfig, rng: np.random.Generator, L: int | None = None, M: int | None = None, B: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fresh instances: X (B, L, M) float64, T (B,), noise sigma (B,), labels y (B, K) int8 (one L and M per batch;
    B = ``batch_for(tc.batch_size, L)`` unless given). A share ``tc.stochastic_fraction`` of the instances are
    heat-bath replica means, with one R per batch (log-uniform); the rest follow Eq. 1."""
    if L is None:
        Ls = np.arange(tc.L_min, tc.L_max + 1)
        w = Ls.astype(np.float64) ** tc.L_power
        L = int(rng.choice(Ls, p=w / w.sum()))
    M = int(rng.integers(tc.M_min, tc.M_max + 1)) if M is None else M
    B = batch_for(tc.batch_size, L) if B is None else B
    A = np.stack([draw_lattice(str(rng.choice(tc.families)), L, rng, tc.degree_max) for _ in range(B)])
    T = np.exp(rng.uniform(math.log(tc.T_min), math.log(tc.T_max), B))
    s0 = rng.choice(np.array([-1.0, 1.0]), (B, L))
    X = simulate(A, s0, T, tc.tau, M)
    # no draw at all without heat-bath instances: the mean-field recipe's random stream stays as it was
    heat_bath = np.flatnonzero(rng.random(B) < tc.stochastic_fraction) if tc.stochastic_fraction > 0 else []
    if len(heat_bath):
        R = int(round(math.exp(rng.uniform(math.log(tc.replicas_min), math.log(tc.replicas_max)))))
        X[heat_bath] = simulate(A[heat_bath], s0[heat_bath], T[heat_bath], tc.tau, M, mode="stochastic",
                                replicas=R, seed=int(rng.integers(2**62)))  # fmt: skip
    noisy = rng.random(B) < tc.noise_fraction
    sigma = np.where(noisy, np.exp(rng.uniform(math.log(tc.noise_min), math.log(tc.noise_max), B)), 0.0)
    X = X + sigma[:, None, None] * add_observation_noise(np.zeros_like(X), 1.0, rng)
    y = np.stack([adjacency_to_pairs(a) for a in A])
    return X, T, sigma, y


def one_cycle(step: int, total: int, warmup: float = 0.1) -> float:
    """Learning-rate factor: linear warm-up over the first ``warmup`` of the steps, then cosine decay to 0."""
    w = max(1, round(warmup * total))
    if step < w:
        return (step + 1) / w
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - w) / max(1, total - w))))


def general_model_config(tau: float = 0.1) -> ModelConfig:
    """The shipped general model's architecture (``GeneralNet``, MLP width 64); L = 12, M = 50 are nominal."""
    return ModelConfig(L=12, M=50, tau=tau, arch="general", encoding="raw", hidden=64)


def held_out_set(tc: GeneralTrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed held-out set of a run: ``tc.n_eval`` instances (n_eval, 12, 50) of unseen L = 12 lattices from the
    training mix, drawn from the run's own seed (``sample_batch``'s X, T, sigma, y)."""
    return sample_batch(tc, np.random.default_rng([tc.seed, 1]), L=12, M=50, B=tc.n_eval)


def held_out_trivial(tc: GeneralTrainConfig) -> float:
    """Accuracy of the trivial "no edge anywhere" guess on the held-out set (the level its accuracy is read against)."""
    return float(np.mean(held_out_set(tc)[3] == 0))


def _nll(logp: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.nll_loss(logp.reshape(-1, 2), y.reshape(-1))


def train_general(
    config: ModelConfig | None = None,
    train_config: GeneralTrainConfig | None = None,
    *,
    progress: ProgressFn | None = None,
    stop: StopFlag = None,
    threads: int | None = None,
    init: nn.Module | None = None,
) -> TrainResult:
    """Train ``GeneralNet`` on fresh lattices (see ``GeneralTrainConfig``); returns the best model by held-out
    accuracy (``keep="last"``: the last epoch's, for a mix the L = 12 held-out set does not represent) in a
    ``TrainResult`` (``train_config`` holds the ``GeneralTrainConfig``).

    The loss is the pair NLL after every round (earlier rounds weighted 1/2, so each round is trained to be
    useful), averaged over pairs. History records: epoch, step, train_loss, train_accuracy, test_loss,
    test_accuracy (held-out unseen lattices), grad_norm, lr, seconds. ``init``: a ``GeneralNet`` of the same
    config to continue from (its weights are copied; the schedule starts afresh).
    """
    tc = train_config or GeneralTrainConfig()
    tc.validate()
    tc.check_budget()
    cfg = config or general_model_config(tc.tau)
    if cfg.arch != "general":
        raise ValueError(f"train_general trains arch='general', got {cfg.arch!r}")
    if cfg.tau != tc.tau:
        raise ValueError(f"model config tau={cfg.tau} differs from the training tau={tc.tau}")
    with torch_threads(threads):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(tc.seed)
            model = build_model(cfg)
        if init is not None:
            model.load_state_dict(init.state_dict())
        Xe, Te, _, ye = held_out_set(tc)
        return _fit(model, cfg, tc, (Xe, Te, torch.as_tensor(ye, dtype=torch.long)), progress, stop)


@torch.no_grad()
def _evaluate(model: nn.Module, ev: tuple, tau: float) -> tuple[float, float]:
    model.eval()
    logp = model(ev[0], ev[1], tau)
    model.train()
    return _nll(logp, ev[2]).item(), (logp.argmax(-1) == ev[2]).float().mean().item()


def _fit(
    model: nn.Module, cfg: ModelConfig, tc: GeneralTrainConfig, ev: tuple, progress: ProgressFn | None, stop: StopFlag
) -> TrainResult:
    from .net import logits_to_logp

    rng = np.random.default_rng([tc.seed, 2])
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: one_cycle(t, tc.steps))
    result = TrainResult(model, cfg, tc, device="cpu")  # type: ignore[arg-type]
    best_score, best_state = -math.inf, copy.deepcopy(model.state_dict())
    t0 = time.perf_counter()
    epochs = math.ceil(tc.steps / tc.steps_per_epoch)
    step = 0
    model.train()
    for epoch in range(1, epochs + 1):
        loss_sum = acc_sum = gn_sum = 0.0
        n = 0
        for _ in range(min(tc.steps_per_epoch, tc.steps - step)):
            if _stop_requested(stop):
                result.stopped = "stop flag"
                break
            X, T, _, y = sample_batch(tc, rng)
            yt = torch.as_tensor(y, dtype=torch.long)
            zs = model.pair_logits(X, T, tc.tau)
            logps = [logits_to_logp(z) for z in zs]
            loss = _nll(logps[-1], yt) + 0.5 * sum(_nll(lp, yt) for lp in logps[:-1])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gn_sum += float(nn.utils.clip_grad_norm_(model.parameters(), 10.0))
            opt.step()
            sched.step()
            step += 1
            n += 1
            loss_sum += _nll(logps[-1], yt).item()
            acc_sum += (logps[-1].argmax(-1) == yt).float().mean().item()
            if progress and step % 10 == 0:
                progress(
                    {
                        "kind": "batch",
                        "epoch": epoch,
                        "epochs": epochs,
                        "step": step,
                        "steps": tc.steps,
                        "loss": loss.item(),
                        "seconds": time.perf_counter() - t0,
                    }
                )
        if n == 0:
            break
        rec: dict[str, float] = {
            "epoch": epoch,
            "step": step,
            "train_loss": loss_sum / n,
            "train_accuracy": acc_sum / n,
            "grad_norm": gn_sum / n,
            "lr": sched.get_last_lr()[0],
        }
        rec["test_loss"], rec["test_accuracy"] = _evaluate(model, ev, tc.tau)
        rec["seconds"] = time.perf_counter() - t0
        result.history.append(rec)
        if rec["test_accuracy"] > best_score or tc.keep == "last":
            best_score, best_state, result.best_epoch = rec["test_accuracy"], copy.deepcopy(model.state_dict()), epoch
        if progress:
            progress({"kind": "epoch", "epochs": epochs, **rec})
        if result.stopped == "stop flag" or step >= tc.steps:
            break
    model.load_state_dict(best_state)
    result.model = model.eval()
    return result
