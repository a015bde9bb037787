"""Training and fine-tuning: Adam, mini-batches, a learning-rate schedule, early stop, per-epoch history.

``train(...)`` is the one entry point. It reports progress through a callback, honours a stop flag within one
batch (returning the best model so far), fine-tunes from an existing network, and is deterministic on CPU for
a seed.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..config import dataclass_from_dict
from ..limits import (
    BATCH_MAX,
    EPOCHS_MAX,
    LR_MAX,
    SEED_MAX,
    THREADS_MAX,
    WEIGHT_DECAY_MAX,
    array_bytes,
    check_choice,
    check_float,
    check_int,
    check_memory,
    max_bytes,
)
from ..threads import torch_threads
from .cnn import activation_bytes, encode
from .model_config import ModelConfig
from .networks import build_model, expected_shapes

ProgressFn = Callable[[dict[str, Any]], None]
StopFlag = threading.Event | Callable[[], bool] | None
SCHEDULES = ("onecycle", "cosine", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (saved with the model)."""

    epochs: int = 14  # passes over the training set (paper setting: 0.996 is passed by epoch ~8)
    batch_size: int = 128  # instances per Adam step
    lr: float = 2e-3  # peak learning rate
    weight_decay: float = 0.0  # AdamW weight decay
    schedule: str = "onecycle"  # "onecycle" (warm-up then cosine decay), "cosine", "constant"
    target_accuracy: float | None = None  # stop early once test accuracy reaches this
    seed: int = 0  # initialisation and batch order
    threads: int | None = None  # torch CPU threads; None: all cores (at most 8)
    device: str = "auto"  # "auto" (CUDA when present), "cpu", "cuda"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> TrainConfig:
        """Inverse of ``to_dict``; unknown keys and values of the wrong type are refused."""
        tc = dataclass_from_dict(cls, d, "train config")
        tc.validate()
        return tc

    def validate(self) -> None:
        """Every field's type and range: epochs 1..EPOCHS_MAX, batch_size 1..BATCH_MAX, lr in (0, LR_MAX],
        weight_decay in [0, WEIGHT_DECAY_MAX], schedule in SCHEDULES, target_accuracy None or in (0, 1],
        seed 0..SEED_MAX, threads None or 1..THREADS_MAX, device "auto", "cpu" or "cuda"."""
        check_int("epochs", self.epochs, 1, EPOCHS_MAX)
        check_int("batch_size", self.batch_size, 1, BATCH_MAX)
        check_float("learning rate", self.lr, 0.0, LR_MAX, lo_open=True)
        check_float("weight_decay", self.weight_decay, 0.0, WEIGHT_DECAY_MAX)
        check_choice("schedule", self.schedule, SCHEDULES)
        if self.target_accuracy is not None:
            check_float("target_accuracy", self.target_accuracy, 0.0, 1.0, lo_open=True)
        check_int("training seed", self.seed, 0, SEED_MAX)
        if self.threads is not None:
            check_int("threads", self.threads, 1, THREADS_MAX)
        check_choice("device", self.device, ("auto", "cpu", "cuda"))


@dataclass
class TrainResult:
    """The best network (by test accuracy, or train loss without a test set) and the run's history."""

    model: nn.Module
    config: ModelConfig
    train_config: TrainConfig
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    stopped: str = "completed"  # "completed", "target", or "stop flag"
    device: str = "cpu"


def choose_device(name: str = "auto") -> torch.device:
    """CUDA when asked for or, with "auto", when present; otherwise CPU."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def default_threads() -> int:
    """All cores, capped at 8: small convolutions stop scaling beyond that."""
    return max(1, min(8, os.cpu_count() or 1))


def check_compatible(base: ModelConfig, cfg: ModelConfig) -> None:
    """Refuse fine-tuning between networks whose weights cannot carry over."""
    for name in ("L", "M", "arch", "channels", "kernel", "hidden", "squeeze", "time_bins"):
        if getattr(base, name) != getattr(cfg, name):
            raise ValueError(
                f"cannot fine-tune: the base model has {name}={getattr(base, name)!r} but the new setting has"
                f" {name}={getattr(cfg, name)!r}; these must match"
            )
    if base.in_channels != cfg.in_channels:
        raise ValueError(
            f"cannot fine-tune: the base model's input encoding {base.encoding!r} has {base.in_channels} channel(s),"
            f" {cfg.encoding!r} has {cfg.in_channels}"
        )


def _stop_requested(stop: StopFlag) -> bool:
    if stop is None:
        return False
    return stop.is_set() if isinstance(stop, threading.Event) else bool(stop())


@torch.no_grad()
def predict_log_proba(model: nn.Module, x: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    """Encoded inputs (B, C, L, M) -> log-probabilities (B, K, 2) on CPU, in eval mode, at most ``batch`` at a time
    (fewer when the network's activations would take more than an eighth of the memory budget)."""
    cfg = getattr(model, "config", None)
    if isinstance(cfg, ModelConfig):
        per = activation_bytes(cfg)
        check_memory(per, "one instance through this network")
        batch = max(1, min(batch, max_bytes() // 8 // per))
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    out = torch.cat([model(x[i : i + batch].to(dev)).cpu() for i in range(0, x.shape[0], batch)])
    model.train(was_training)
    return out


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    logp = predict_log_proba(model, x)
    loss = nn.functional.nll_loss(logp.reshape(-1, 2), y.reshape(-1)).item()
    acc = (logp.argmax(-1) == y).float().mean().item()
    return loss, acc


def _check_data(X: np.ndarray, y: np.ndarray, cfg: ModelConfig, name: str) -> None:
    if X.ndim != 3 or X.shape[1:] != (cfg.L, cfg.M):
        raise ValueError(f"{name} instances must have shape (B, {cfg.L}, {cfg.M}), got {X.shape}")
    if y.shape != (X.shape[0], cfg.K):
        raise ValueError(f"{name} labels must have shape ({X.shape[0]}, {cfg.K}), got {y.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} set is empty")


def train(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    *,
    config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    init: nn.Module | None = None,
    init_config: ModelConfig | None = None,
    progress: ProgressFn | None = None,
    stop: StopFlag = None,
) -> TrainResult:
    """Train a network on instances X (B, L, M) with pair labels y (B, K) (1 = edge).

    Args:
        X_train, y_train: training instances and labels.
        X_test, y_test: optional test set, evaluated every epoch; the best epoch by test accuracy is kept.
        config: architecture and encoding; defaults to ``ModelConfig(L, M)`` from the data, or ``init_config``.
        train_config: optimisation settings (defaults: ``TrainConfig()``).
        init, init_config: a network and its config to fine-tune from (incompatible shapes are refused).
        progress: called with {"kind": "batch", ...} every few batches and {"kind": "epoch", **record} per epoch.
        stop: a ``threading.Event`` or a callable; checked before every batch.

    Returns:
        ``TrainResult`` with the best network (on CPU, eval mode) and per-epoch history records holding
        epoch, train_loss, train_accuracy, test_loss, test_accuracy, grad_norm, lr, seconds (wall, cumulative).
    """
    tc = train_config or TrainConfig()
    tc.validate()
    X_train, y_train = np.asarray(X_train), np.asarray(y_train)
    if config is None:
        config = init_config or ModelConfig(L=X_train.shape[1], M=X_train.shape[2])
    config.validate()
    _check_data(X_train, y_train, config, "training")
    has_test = X_test is not None and y_test is not None
    if has_test:
        X_test, y_test = np.asarray(X_test), np.asarray(y_test)
        _check_data(X_test, y_test, config, "test")
    n = X_train.shape[0] + (X_test.shape[0] if has_test else 0)
    weights = sum(math.prod(s) for s in expected_shapes(config).values())
    need = array_bytes(n, config.in_channels, config.L, config.M, itemsize=4)  # the encoded instances
    need += 3 * min(tc.batch_size, X_train.shape[0]) * activation_bytes(config) + 16 * weights  # batch, Adam
    check_memory(need, f"training on {n:,} instances with batch size {tc.batch_size:,}")
    dev = choose_device(tc.device)
    with torch_threads(tc.threads or default_threads()):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(tc.seed)
            model = build_model(config)
        if init is not None:
            if init_config is None:
                raise ValueError("fine-tuning needs the base model's config (init_config)")
            check_compatible(init_config, config)
            model.load_state_dict(init.state_dict())
        model.to(dev).train()
        return _fit(model, config, tc, dev, X_train, y_train, X_test if has_test else None, y_test, progress, stop)


def _fit(
    model: nn.Module,
    config: ModelConfig,
    tc: TrainConfig,
    dev: torch.device,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray | None,
    y_test: np.ndarray | None,
    progress: ProgressFn | None,
    stop: StopFlag,
) -> TrainResult:
    xtr = encode(X_train, config.encoding, config.tau)
    ytr = torch.as_tensor(y_train, dtype=torch.long)
    xte = encode(X_test, config.encoding, config.tau) if X_test is not None else None
    yte = torch.as_tensor(y_test, dtype=torch.long) if y_test is not None else None
    n = xtr.shape[0]
    steps_per_epoch = math.ceil(n / tc.batch_size)
    total = steps_per_epoch * tc.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    if tc.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=tc.lr, total_steps=total, pct_start=0.15)
    elif tc.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    gen = torch.Generator().manual_seed(tc.seed)
    result = TrainResult(model, config, tc, device=str(dev))
    best_score, best_state = -math.inf, copy.deepcopy(model.state_dict())
    t0 = time.perf_counter()
    report_every = max(1, steps_per_epoch // 20)
    for epoch in range(1, tc.epochs + 1):
        perm = torch.randperm(n, generator=gen)
        loss_sum = correct = seen = 0.0
        gnorm_sum = 0.0
        for b in range(steps_per_epoch):
            if _stop_requested(stop):
                result.stopped = "stop flag"
                break
            idx = perm[b * tc.batch_size : (b + 1) * tc.batch_size]
            xb, yb = xtr[idx].to(dev), ytr[idx].to(dev)
            logp = model(xb)  # (b, K, 2)
            loss = nn.functional.nll_loss(logp.reshape(-1, 2), yb.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm_sum += float(torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf")))
            opt.step()
            sched.step()
            k = idx.shape[0]
            loss_sum += loss.item() * k
            correct += (logp.argmax(-1) == yb).float().sum().item()
            seen += k
            if progress and (b + 1) % report_every == 0:
                progress(
                    {
                        "kind": "batch",
                        "epoch": epoch,
                        "batch": b + 1,
                        "batches": steps_per_epoch,
                        "epochs": tc.epochs,
                        "loss": loss.item(),
                        "seconds": time.perf_counter() - t0,
                    }
                )
        if seen == 0:
            break
        rec: dict[str, float] = {
            "epoch": epoch,
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / (seen * config.K),
            "grad_norm": gnorm_sum / max(1, int(seen // tc.batch_size) or 1),
            "lr": sched.get_last_lr()[0],
        }
        if xte is not None:
            rec["test_loss"], rec["test_accuracy"] = _evaluate(model, xte, yte)
            score = rec["test_accuracy"]
        else:
            score = -rec["train_loss"]
        rec["seconds"] = time.perf_counter() - t0
        result.history.append(rec)
        if score > best_score:
            best_score, best_state, result.best_epoch = score, copy.deepcopy(model.state_dict()), epoch
        if progress:
            progress({"kind": "epoch", "epochs": tc.epochs, **rec})
        if result.stopped == "stop flag":
            break
        if tc.target_accuracy is not None and xte is not None and rec["test_accuracy"] >= tc.target_accuracy:
            result.stopped = "target"
            break
    model.load_state_dict(best_state)
    result.model = model.cpu().eval()
    return result
