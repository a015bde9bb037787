"""What a background run will cost on this machine, before it starts: seconds and peak bytes (``manager.Cost``).

Seconds come from a rate measured here, once per process (``cnn_rate``: a few batches of the default CNN, under
whatever load the machine has then), scaled by the run's size: a CNN epoch costs in proportion to its instances and
to L x M (the convolutions run over every spin and time step); a general-model step in proportion to its batch
(``GENERAL_STEP_PER_CNN``: one default general step costs as much as that many CNN instance-epochs, measured on the
2-core reference machine). Bytes are the dataset in float64 plus its float32 encoding, and the network with its
optimiser state. Estimates, not promises: the manager refuses what is clearly too big and shows the numbers.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..data import DatasetSpec
from ..learn.general.train import GeneralTrainConfig
from ..learn.model_config import ModelConfig
from ..learn.networks import build_model, n_parameters
from ..learn.train import TrainConfig, default_threads
from ..methods.posterior import POSTERIOR_MAX_L
from ..methods.symmetric import CLEAN_FIT_MIN_L
from .manager import Cost

PROBE_INSTANCES = 128  # instances of the rate probe (one epoch of the default CNN: ~0.04 s on the reference machine)
# One default general-model Adam step (batch 32) costs about as much as this many CNN instance-epochs: on the idle
# 2-core reference machine a step took 0.29 s (Train page run: 200 steps in 57 s, evaluation included) and a CNN
# instance-epoch 2.7e-4 s (bench_train: 25,000 instances x 14 epochs and the test passes in 104.5 s).
GENERAL_STEP_PER_CNN = 1070.0
GENERAL_STEP_BYTES = 200_000_000  # peak memory of a general-model step (features of a batch at L = 32)
OVERHEAD_BYTES = 100_000_000  # torch workspace, the evaluation copies, Python objects
QUICK_SWEEP_SECONDS = 300.0  # a quick sweep never measured here: its documented bound on 2 cores


@functools.lru_cache(maxsize=8)
def cnn_rate(threads: int) -> float:
    """Seconds per (instance x epoch) of the default CNN (L = 12, M = 50) with ``threads`` torch threads, measured
    here once: the fastest of three one-epoch runs on ``PROBE_INSTANCES`` seeded random instances after a warm-up
    (the fastest, because a passing burst of load should not make every later estimate pessimistic)."""
    from ..learn.train import train

    rng = np.random.default_rng(0)
    cfg = ModelConfig()
    X = np.tanh(rng.normal(size=(PROBE_INSTANCES, cfg.L, cfg.M)))
    y = rng.integers(0, 2, size=(PROBE_INSTANCES, cfg.K))
    tc = TrainConfig(epochs=1, batch_size=128, threads=threads, device="cpu", seed=0)
    train(X[:32], y[:32], config=cfg, train_config=tc)  # first-call costs (allocations, kernels) out of the timing
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        train(X, y, config=cfg, train_config=tc)
        best = min(best, time.perf_counter() - t0)
    return best / PROBE_INSTANCES


def _size_factor(L: int, M: int) -> float:
    return (L * M) / (12 * 50)


def training_cost(spec: DatasetSpec, config: ModelConfig | None, train_config: TrainConfig) -> Cost:
    """A CNN run of the Train page: build ``spec``'s dataset, train ``train_config.epochs`` epochs, evaluate."""
    cfg = config or ModelConfig()
    threads = train_config.threads or default_threads()
    n_fit = spec.n_train + spec.n_test / 3  # test instances are only evaluated, about a third of a training pass
    seconds = cnn_rate(threads) * _size_factor(spec.L, spec.M) * n_fit * train_config.epochs
    values = (spec.n_train + spec.n_test + spec.n_general) * spec.L * spec.M
    channels = 2 if cfg.encoding == "saturation" else 1
    weights = _parameters(cfg, spec.L, spec.M)
    nbytes = values * (8 + 4 * channels) + 16 * weights + OVERHEAD_BYTES  # Adam keeps two moments per weight
    return Cost(seconds, int(nbytes))


def _parameters(cfg: ModelConfig, L: int, M: int) -> int:
    try:
        return n_parameters(build_model(dataclasses.replace(cfg, L=L, M=M)))
    except (ValueError, RuntimeError):
        return 0


def general_training_cost(train_config: GeneralTrainConfig, threads: int | None = None) -> Cost:
    """A general-model run: ``steps`` Adam steps on fresh lattices (its batch at L = 12 sets the work per step)."""
    rate = cnn_rate(threads or default_threads())
    per_step = rate * GENERAL_STEP_PER_CNN * train_config.batch_size / GeneralTrainConfig().batch_size
    return Cost(per_step * train_config.steps, GENERAL_STEP_BYTES + OVERHEAD_BYTES)


def queue_cost(costs: Iterable[Cost]) -> Cost:
    """Runs one after another: their seconds add up, their memory does not."""
    costs = list(costs)
    return Cost(sum(c.seconds for c in costs), max((c.bytes for c in costs), default=0))


def sweep_cost(doc: Mapping[str, Any] | None) -> Cost:
    """A quick sweep run live in one process, from its last recorded run (``doc``: its results document; its wall
    time with ``workers`` processes, times ``workers``), or ``QUICK_SWEEP_SECONDS`` when it never ran here."""
    if doc and doc.get("wall_seconds"):
        seconds = float(doc["wall_seconds"]) * max(1, int(doc.get("workers") or 1))
    else:
        seconds = QUICK_SWEEP_SECONDS
    return Cost(seconds, 1_000_000_000)  # a quick sweep's largest task holds well under 1 GB


# Seconds per instance of a synchronous prediction on the idle 2-core reference machine, one thread (results/
# bench_general.json: the general model 5.3 ms at L = 12, 19.7 ms at L = 32; the binary decoder 18.6 ms at L = 12,
# exhaustive up to L = 14, and ~0.8 s at L = 32 by local search). The general model's bound is its worst case, every
# instance falling back on the evidence gate's prior posterior (results/bench_gate.json: 3.1, 24 and 264 ms at
# L = 12, 32, 64): 5.3 ms (L / 12)^2.6 stays above it. Up to L = 12 the exact posterior runs on every instance
# besides: a fixed part and one that doubles with each spin, POSTERIOR_SECONDS (results/bench_gate.json: as shipped
# 6.5, 12.4 and 45.5 ms at L = 8, 10, 12, the bound 7.7, 16.7 and 54). From L = 20 a clean instance whose answer
# does not reproduce it gets the symmetric inversion's least squares besides (``methods.symmetric``; numpy's
# default threads on the idle 2-core machine: 0.11, 0.42 and 2.2 s at L = 32, 48, 64; in a sweep with two workers
# on two cores, 11.5 s at L = 64): SYMMETRIC_SECONDS, 2.2 s (L / 64)^4.5. Above L = 12 an instance of at most
# ``quotient.QUOTIENT_MAX_G`` groups of twins gets the twin quotient besides, whose cost depends on the number of
# groups, not on L: QUOTIENT_SECONDS bounds it at that many groups (results/bench_gate_quotient.json,
# ``quotient_ms``: 169-194 ms at L = 32 and 64, in a run where the exact posterior at L = 12 took 72-73 ms against
# 30-36 ms in results/bench_gate.json, so about half that on the reference machine). Scaled by this machine's rate.
CNN_RATE_REFERENCE = 2.7e-4  # cnn_rate on the reference machine (bench_train: 25,000 x 14 epochs in 104.5 s)
PREDICT_SECONDS = {"general": (0.0053, 12, 2.6), "cnn": (0.0002, 12, 1.0)}  # (seconds at L0, L0, exponent in L/L0)
BINARY_EXHAUSTIVE_MAX_L = 14
POSTERIOR_SECONDS = (0.004, 0.045)  # the exact posterior: per instance, plus at L = 12 (2^11 sets per spin, two kinds)
SYMMETRIC_SECONDS = (2.2, 64, 4.5)  # the symmetric inversion: (seconds at L0, L0, exponent in L/L0)
QUOTIENT_SECONDS = 0.2  # the twin quotient's worst case per instance above L = 12 (at every L: it reads the groups)


def speed_factor() -> float:
    """How much slower than the reference machine this one is (1: as fast), from ``cnn_rate`` once it has been
    measured (e.g. by the app's warm-up thread); 1 until then, so an interactive page never waits for the probe."""
    if cnn_rate.cache_info().currsize == 0:
        return 1.0
    return max(0.25, min(8.0, cnn_rate(default_threads()) / CNN_RATE_REFERENCE))


def predict_seconds(method: str, L: int, n: int) -> float:
    """Estimated seconds to read ``n`` instances of ``L`` spins with ``method`` ("general", "cnn" or "binary_ml");
    it never waits for the rate probe (``speed_factor``)."""
    if method == "binary_ml":
        if L <= BINARY_EXHAUSTIVE_MAX_L:
            per = 0.0186 * (L / 12) * 2.0 ** (L - 12)  # 2^(L-1) neighbour sets for each of L spins
        else:
            per = 0.8 * (L / 32) ** 2  # local search: a few sweeps of single and pair moves per spin
    else:
        base, L0, power = PREDICT_SECONDS["general" if method == "general" else "cnn"]
        per = base * (L / L0) ** power
        if method == "general" and L <= POSTERIOR_MAX_L:
            fixed, at_12 = POSTERIOR_SECONDS
            per += fixed + at_12 * (L / 12) * 2.0 ** (L - 12)
        elif method == "general":
            per += QUOTIENT_SECONDS
            if L >= CLEAN_FIT_MIN_L:
                at, L0, power = SYMMETRIC_SECONDS
                per += at * (L / L0) ** power
    return per * n * speed_factor()
