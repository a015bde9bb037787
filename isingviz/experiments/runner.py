"""The machinery under ``sweeps``: the ``Stage`` / ``Sweep`` records, running one stage's tasks on an engine
(``engines``: this process, a process pool or Dask) with byte inputs and outputs, a task cache to resume from
(``cache``), one retry of a task whose worker died, strict-JSON clean-up, version stamps and CSV output.

A task is ``task(config, inputs) -> result``: ``config`` is JSON (it goes into the results document as it is) and
names its byte inputs by sha256 in ``config["inputs"]`` ({name: sha256}); ``inputs`` maps those names to the bytes
(model files), so no task reads a path that only the submitting machine has. A result may carry bytes a later
stage needs in ``result["outputs"]`` ({name: bytes}); the runner keeps them in the sweep's blob store and puts
their sha256 in the recorded result instead.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import re
import subprocess
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..files import atomic_write
from ..threads import torch_threads
from .cache import TaskCache, sha256, task_key
from .engines import Engine

Config = dict[str, Any]
Inputs = Mapping[str, bytes]
Task = Callable[[Config, Inputs], dict[str, Any]]
ProgressFn = Callable[[dict[str, Any]], None]
LABEL_KEYS = ("lattices", "variant", "split", "family", "L", "T", "noise", "n_train", "n_lattices", "n_train_asked")
ATTEMPTS = 2  # a task whose worker dies (killed, out of memory, lost machine) is retried once, then recorded


@dataclass(frozen=True)
class Stage:
    """``plan(sizes, ctx) -> [config, ...]`` (ctx: models_dir, blobs, previous records, quick) and its task."""

    plan: Callable[[Config, dict[str, Any]], list[Config]]
    task: Task


@dataclass(frozen=True)
class Sweep:
    name: str
    title: str
    help: str  # one paragraph for --help and the app
    sizes: Mapping[str, Config]  # "quick" and "full"
    stages: tuple[Stage, ...]
    rows: Callable[[dict[str, Any]], list[dict[str, Any]]]  # document -> flat CSV rows
    summarize: Callable[[list[dict[str, Any]]], dict[str, Any]]  # task records -> headline numbers


def device_name() -> str:
    """The device a training task of this process uses (``TrainConfig(device="auto")``)."""
    return f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"


def run_task(task: Task, cfg: Config, inputs: Inputs, threads: int = 1) -> tuple[dict[str, Any], float]:
    """``task(cfg, inputs)`` and its wall time; a failure becomes ``{"error": ..., "traceback": ...}``, never an
    exception. It runs with ``threads`` torch threads (1: the numbers then do not depend on the engine, the number
    of workers or the machine's cores), the caller's count restored after."""
    t0 = time.perf_counter()
    with torch_threads(threads):
        try:
            res = task(cfg, inputs)
        except Exception as e:  # one broken point must not lose the others
            res = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    return res, time.perf_counter() - t0


def add_blob(blobs: dict[str, bytes], data: bytes) -> str:
    """Keep ``data`` in a sweep's blob store; returns its sha256 (the name configs use for it)."""
    sha = sha256(data)
    blobs[sha] = data
    return sha


_NUMBER_LIST = re.compile(r"\[(\s*-?[0-9][-+.0-9eE]*(?:,\s*-?[0-9][-+.0-9eE]*)*\s*)\]")


def compact_json(doc: Any) -> str:
    """``json.dumps(doc, indent=1)`` with every list of plain numbers on one line (per-instance accuracies, counts:
    one line each instead of one per number). Only lists that span lines are touched, and a JSON string never
    holds a raw newline, so no string changes."""

    def one_line(m: re.Match[str]) -> str:
        return "[" + re.sub(r"\s+", "", m.group(1)).replace(",", ", ") + "]" if "\n" in m.group(1) else m.group(0)

    return _NUMBER_LIST.sub(one_line, json.dumps(doc, indent=1, allow_nan=False))


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


def git_commit() -> str | None:
    """The commit of the checkout that runs (None when installed, or without git): which code made a result."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def versions() -> dict[str, Any]:
    return {
        "git_commit": git_commit(),
        "isingviz": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


class StageRun:
    """One stage of a sweep on an engine: cached tasks taken from ``cache`` (when ``resume``), the others submitted,
    finished ones cached, a dead worker's task retried once. ``tick(event)`` after each task with
    {"config", "seconds", "cached", "running", "queued"}."""

    def __init__(
        self,
        sweep: str,
        index: int,
        stage: Stage,
        engine: Engine,
        blobs: dict[str, bytes],
        cache: TaskCache | None,
        resume: bool,
        tick: Callable[[dict[str, Any]], None],
        stop: threading.Event | None,
    ) -> None:
        self.sweep, self.index, self.stage, self.engine = sweep, index, stage, engine
        self.blobs, self.cache, self.resume, self.tick, self.stop = blobs, cache, resume, tick, stop

    def _stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _inputs(self, cfg: Config) -> dict[str, bytes]:
        return {name: self.blobs[sha] for name, sha in (cfg.get("inputs") or {}).items()}

    def _finish(self, cfg: Config, key: str, res: dict[str, Any], secs: float) -> dict[str, Any]:
        outputs = res.pop("outputs", None) or {}
        if outputs:
            res["outputs"] = {name: add_blob(self.blobs, data) for name, data in outputs.items()}
        record = {"result": res, "seconds": secs, "device": res.get("device", "cpu")}
        if self.cache is not None and "error" not in res:
            self.cache.put(key, jsonable(record), self.blobs)
        return record

    def _cached(self, key: str) -> dict[str, Any] | None:
        if not (self.resume and self.cache is not None):
            return None
        rec = self.cache.get(key)
        if rec is not None:
            for sha in (rec["result"].get("outputs") or {}).values():
                self.blobs[sha] = self.cache.blob(sha) or b""
            rec["cached"] = True
        return rec

    def run(self, configs: list[Config]) -> list[dict[str, Any] | None]:
        """Records ({result, seconds, device[, cached]}) in config order; None for tasks a stop cancelled."""
        out: list[dict[str, Any] | None] = [None] * len(configs)
        keys = [task_key(self.sweep, self.index, self.stage.task, cfg) for cfg in configs]
        todo = []
        for i, key in enumerate(keys):
            rec = self._cached(key)
            if rec is not None:
                out[i] = rec
                self.tick({"config": configs[i], "seconds": rec["seconds"], "cached": True, "running": 0,
                           "queued": len(configs) - i - 1})  # fmt: skip
            else:
                todo.append(i)
        if not self.engine.pooled:
            for n, i in enumerate(todo):
                if self._stopped():
                    break
                res, secs = run_task(self.stage.task, configs[i], self._inputs(configs[i]))
                out[i] = self._finish(configs[i], keys[i], res, secs)
                self.tick({"config": configs[i], "seconds": secs, "cached": False, "running": 0,
                           "queued": len(todo) - n - 1})  # fmt: skip
            return out
        return self._run_pooled(configs, keys, todo, out)

    def _run_pooled(
        self, configs: list[Config], keys: list[str], todo: list[int], out: list[dict[str, Any] | None]
    ) -> list[dict[str, Any] | None]:
        """At most one task per worker in flight, so that a dead worker's task can be told apart: a local pool
        that breaks fails every task it holds, so those are rerun one at a time ("alone"), and only a task that
        kills its worker while alone is charged; Dask reports the lost task itself."""
        queue, suspects = deque(todo), deque()
        deaths = dict.fromkeys(todo, 0)
        inflight: dict[Future, tuple[int, bool]] = {}

        def submit(i: int, alone: bool) -> None:
            ex = self.engine.executor
            inflight[ex.submit(run_task, self.stage.task, configs[i], self._inputs(configs[i]))] = (i, alone)

        def record(i: int, res: dict[str, Any], secs: float) -> None:
            out[i] = self._finish(configs[i], keys[i], res, secs)
            running = len(inflight)
            queued = len(queue) + len(suspects)
            self.tick({"config": configs[i], "seconds": secs, "cached": False, "running": running, "queued": queued})

        while queue or suspects or inflight:
            if not self._stopped():
                if suspects and not inflight:
                    submit(suspects.popleft(), True)
                while not suspects and queue and len(inflight) < self.engine.workers:
                    submit(queue.popleft(), False)
            if not inflight:
                break  # stopped with nothing running
            done, _ = wait(inflight, timeout=0.5, return_when=FIRST_COMPLETED)
            broken = False
            for f in done:
                i, alone = inflight.pop(f)
                try:
                    res, secs = f.result()
                except Exception as e:  # the worker died or vanished (the task itself never raises)
                    charged = alone or self.engine.name != "local"
                    deaths[i] += charged
                    broken |= self.engine.name == "local"
                    if deaths[i] < ATTEMPTS:
                        (suspects if self.engine.name == "local" else queue).appendleft(i)
                    else:
                        record(i, {"error": f"its worker died {deaths[i]} times ({type(e).__name__}: {e})"}, 0.0)
                    continue
                record(i, res, secs)
            if broken:  # every other task of the broken pool is a suspect too; none of them is charged
                suspects.extend(i for i, _ in inflight.values())
                inflight.clear()
                self.engine.restart()
        return out


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rows (dicts) as CSV, columns in order of first appearance; written atomically."""
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(cols))
    w.writeheader()
    w.writerows(rows)
    atomic_write(path, buf.getvalue().encode("utf-8"), overwrite=True)


def label(cfg: Config) -> str:
    """A short name of a task from its config, e.g. "variant=fixed n_lattices=1"."""
    return " ".join(f"{k}={cfg[k]:g}" if isinstance(cfg[k], float) else f"{k}={cfg[k]}" for k in LABEL_KEYS if k in cfg)
