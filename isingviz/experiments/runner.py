"""The machinery under ``sweeps``: the ``Stage`` / ``Sweep`` records, running one stage's tasks in a process
pool (one torch thread per worker) or in this process, strict-JSON clean-up, version stamps, and CSV output.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import platform
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__

Config = dict[str, Any]
ProgressFn = Callable[[dict[str, Any]], None]
# Worker processes get one BLAS / OpenMP thread: numpy's SVDs in the baselines otherwise oversubscribe the cores
# (measured: pooled fits 30x slower with 2 workers x 2 BLAS threads on 2 cores). Read when a worker starts.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
LABEL_KEYS = ("lattices", "variant", "split", "T", "noise", "n_train", "n_lattices", "n_train_asked")


@dataclass(frozen=True)
class Stage:
    """``plan(sizes, ctx) -> [config, ...]`` (ctx: workdir, models_dir, previous records) and the task to run."""

    plan: Callable[[Config, dict[str, Any]], list[Config]]
    task: Callable[[Config], dict[str, Any]]


@dataclass(frozen=True)
class Sweep:
    name: str
    title: str
    help: str  # one paragraph for --help and the app
    sizes: Mapping[str, Config]  # "quick" and "full"
    stages: tuple[Stage, ...]
    rows: Callable[[dict[str, Any]], list[dict[str, Any]]]  # document -> flat CSV rows
    summarize: Callable[[list[dict[str, Any]]], dict[str, Any]]  # task records -> headline numbers


@contextlib.contextmanager
def single_thread_env() -> Iterator[None]:
    """Set ``SINGLE_THREAD_ENV`` while worker processes are started (they inherit it); restore it afterwards."""
    old = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def init_worker() -> None:
    torch.set_num_threads(1)


def run_task(task: Callable[[Config], dict[str, Any]], cfg: Config) -> tuple[dict[str, Any], float]:
    """``task(cfg)`` and its wall time; a failure becomes ``{"error": ..., "traceback": ...}``, never an exception."""
    t0 = time.perf_counter()
    try:
        res = task(cfg)
    except Exception as e:  # one broken point must not lose the others
        res = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    return res, time.perf_counter() - t0


def jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def versions() -> dict[str, Any]:
    return {
        "isingviz": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def run_stage(
    stage: Stage,
    configs: list[Config],
    ex: ProcessPoolExecutor | None,
    tick: Callable[[Config, float], None],
    stop: threading.Event | None,
) -> list[tuple[dict[str, Any], float] | None]:
    """Run ``stage.task`` on every config (in ``ex``, or here when None), calling ``tick(config, seconds)`` after each.

    Returns (result, seconds) per config in config order; None for a task cancelled by ``stop``.
    """
    out: list[tuple[dict[str, Any], float] | None] = [None] * len(configs)
    if ex is None:
        for i, cfg in enumerate(configs):
            if stop is not None and stop.is_set():
                break
            out[i] = run_task(stage.task, cfg)
            tick(cfg, out[i][1])
        return out
    futures: dict[Future, int] = {ex.submit(run_task, stage.task, cfg): i for i, cfg in enumerate(configs)}
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        for f in done:
            if not f.cancelled():
                out[futures[f]] = f.result()
                tick(configs[futures[f]], out[futures[f]][1])
        if stop is not None and stop.is_set():
            for f in pending:
                f.cancel()
            pending = {f for f in pending if f.running()}
    return out


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows (dicts) as CSV; columns in order of first appearance."""
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(cols))
        w.writeheader()
        w.writerows(rows)


def label(cfg: Config) -> str:
    """A short name of a task from its config, e.g. "variant=fixed n_lattices=1"."""
    return " ".join(f"{k}={cfg[k]:g}" if isinstance(cfg[k], float) else f"{k}={cfg[k]}" for k in LABEL_KEYS if k in cfg)
