"""The general model's training recipe: what ``python -m isingviz train-general``, the app's Train page
(``isingviz.jobs.general.GeneralTrainingJob``) and ``benchmarks/bench_general.py --train-steps`` share.

``recipe_config`` turns steps, seed, peak lr and other field overrides into a ``GeneralTrainConfig`` and
``recipe_overrides`` goes back; ``reproduce_command`` is the CLI line that repeats a run; ``general_metadata`` is
the model file's metadata (training distribution, history, metrics, notes with that command);
``train_and_save_general`` trains (``train.train_general``), optionally continuing from a model file, with
step / time limits, and saves the best model; ``train_and_save_head`` gives a trained model its confidence head
(``python -m isingviz train-head``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...limits import STEPS_MAX, THREADS_MAX, check_float, check_int
from ...threads import torch_threads
from ..networks import n_parameters
from ..store import SUFFIX, load_model, save_model
from ..train import ProgressFn, StopFlag, TrainResult, _stop_requested
from .head import N_HEAD, HeadTrainConfig
from .train import GeneralTrainConfig, general_model_config, train_general

# Fields with their own argument in train_and_save_general (and flag in the CLI); the others go in ``overrides``.
RECIPE_FIELDS = ("steps", "seed", "lr")


def recipe_config(
    steps: int, seed: int = 0, lr: float = 2e-3, overrides: Mapping[str, Any] | None = None
) -> GeneralTrainConfig:
    """The ``GeneralTrainConfig`` of a training recipe: ``steps``, ``seed``, peak ``lr``, a history record every
    max(10, steps // 20) steps, and ``overrides`` (other fields, e.g. {"L_power": 2}; they win) over the defaults."""
    check_int("steps (Adam steps in all)", steps, 1, STEPS_MAX)
    base = {"steps": steps, "steps_per_epoch": max(10, steps // 20), "seed": seed, "lr": lr}
    tc = GeneralTrainConfig.from_dict(base | dict(overrides or {}))
    tc.check_budget()
    return tc


def recipe_overrides(tc: GeneralTrainConfig) -> dict[str, Any]:
    """The ``overrides`` that, with ``tc``'s steps, seed and lr, give ``tc`` back through ``recipe_config`` (the
    fields where ``tc`` differs from the recipe's defaults, in field order)."""
    recipe = recipe_config(tc.steps, tc.seed, tc.lr).to_dict()
    return {k: v for k, v in tc.to_dict().items() if k not in RECIPE_FIELDS and v != recipe[k]}


def reproduce_command(
    out: str | os.PathLike,
    steps: int,
    threads: int,
    seed: int,
    lr: float,
    init: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    stopped_at: int | None = None,
) -> str:
    """The ``python -m isingviz train-general`` command line that trains the same model (``stopped_at``: the step a
    stopped run reached, given as --stop-after-steps so a run stopped by time or Ctrl-C can be repeated)."""
    cmd = f"python -m isingviz train-general --steps {steps} --threads {threads} --seed {seed} --lr {lr!r}"
    if init is not None:
        cmd += f" --init {init}"
    for k, v in (overrides or {}).items():
        cmd += " --set " + shlex.quote(f"{k}={json.dumps(v, separators=(',', ':'))}")
    if stopped_at is not None:
        cmd += f" --stop-after-steps {stopped_at}"
    return f"{cmd} --out {out}"


def training_summary(res: TrainResult) -> dict[str, Any]:
    """Headline numbers of a run: steps_done, stopped, seconds, best_epoch, held_out_accuracy (None if no record)."""
    h = res.history
    return {
        "steps_done": h[-1]["step"] if h else 0,
        "stopped": res.stopped,
        "seconds": h[-1]["seconds"] if h else 0.0,
        "best_epoch": res.best_epoch,
        "held_out_accuracy": max(r["test_accuracy"] for r in h) if h else None,
    }


def general_metadata(
    res: TrainResult,
    tc: GeneralTrainConfig,
    *,
    threads: int,
    out: str | os.PathLike,
    init: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    name: str = "general",
) -> dict[str, Any]:
    """The metadata arguments of ``store.save_model`` / ``model_to_bytes`` for a trained general model.

    ``T`` = 1 (nominal: each instance's T is given per call) and ``tc``'s tau; ``dataset``: the ``GeneralTrainConfig``
    (the training distribution); ``history``; ``metrics``: ``training_summary`` plus the parameter count and
    ``threads``; ``notes``: what the model reads and the ``reproduce_command`` (with ``out``, ``init``, ``overrides``
    as the recipe was given, and --stop-after-steps when the run was stopped); ``name``.
    """
    summary = training_summary(res)
    stopped_at = summary["steps_done"] if res.stopped != "completed" else None
    command = reproduce_command(out, tc.steps, threads, tc.seed, tc.lr, init, overrides, stopped_at)
    notes = (
        f"general model: any L and M; trained on fresh lattices, T log-uniform in [{tc.T_min}, {tc.T_max}]"
        f" (metadata T = 1 is nominal: pass each instance's T); reproduce with: {command}"
    )
    metrics = {**summary, "n_parameters": n_parameters(res.model), "threads": threads}
    meta = {"dataset": tc.to_dict(), "history": res.history, "metrics": metrics, "name": name, "notes": notes}
    return {"T": 1.0, "tau": tc.tau, **meta}


def train_and_save_general(
    out: str | os.PathLike,
    *,
    steps: int,
    threads: int = 1,
    seed: int = 0,
    lr: float = 2e-3,
    init: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    stop_after_steps: int | None = None,
    max_seconds: float | None = None,
    stop: StopFlag = None,
    progress: ProgressFn | None = None,
    overwrite: bool = False,
    name: str = "general",
) -> tuple[TrainResult, Path]:
    """Train the general model with ``recipe_config(steps, seed, lr, overrides)`` and save the best one to ``out``.

    Args:
        out: model file to write (.safetensors); an existing file is refused (before training) unless ``overwrite``.
        threads: torch CPU threads while training (the result is deterministic for a seed and thread count).
        init: a general model file to continue from (its weights and architecture; the schedule starts afresh).
        overrides: other ``GeneralTrainConfig`` fields; ``steps``, ``seed`` and ``lr`` have their own arguments.
        stop_after_steps: stop after this many steps (a stopped run is repeated exactly this way).
        max_seconds: stop after this many seconds of training; ``stop``: a flag or callable checked before every
            step (Ctrl-C in the CLI). Any stop keeps and saves the best model so far.
        progress: ``train_general``'s progress callback.

    Returns the ``TrainResult`` and the path written. The file's ``dataset`` metadata is the ``GeneralTrainConfig``,
    its ``metrics`` are ``training_summary`` plus the parameter count and threads, and its ``notes`` give the
    ``python -m isingviz train-general`` command that reproduces it (``reproduce_command``).
    """
    path = Path(out)
    if path.suffix != SUFFIX:
        raise ValueError(f"the model file must end in {SUFFIX}, got {path.name!r}")
    if path.exists() and not overwrite:
        raise ValueError(f"a model file {path.name} already exists; choose another name or allow it to be replaced")
    clash = sorted(set(overrides or {}) & set(RECIPE_FIELDS))
    if clash:
        raise ValueError(f"{', '.join(clash)} have their own argument (--steps, --seed, --lr), not an override")
    check_int("threads", threads, 1, THREADS_MAX)
    if stop_after_steps is not None:
        check_int("stop after steps", stop_after_steps, 0, STEPS_MAX)
    if max_seconds is not None:
        check_float("max seconds", max_seconds, 0.0, 1e9, lo_open=True)
    tc = recipe_config(steps, seed, lr, overrides)
    base = load_model(init) if init is not None else None
    if base is not None and not base.is_general:
        raise ValueError(f"--init must be a general model (arch='general'), got arch={base.config.arch!r}")
    cfg = base.config if base else general_model_config(tc.tau)
    deadline = time.perf_counter() + (max_seconds or 0.0)
    checks = iter(range(10**12))  # train_general asks once before every step: the n-th ask comes after n-1 steps

    def should_stop() -> bool:
        counted = stop_after_steps is not None and next(checks) >= stop_after_steps
        late = max_seconds is not None and time.perf_counter() > deadline
        return counted or late or _stop_requested(stop)

    net = base.model if base else None
    res = train_general(cfg, tc, init=net, threads=threads, stop=should_stop, progress=progress)
    meta = general_metadata(res, tc, threads=threads, out=path, init=init, overrides=overrides, name=name)
    return res, save_model(path, res.model, cfg, **meta, overwrite=overwrite)


def train_and_save_head(
    base: str | os.PathLike,
    out: str | os.PathLike,
    tc: HeadTrainConfig | None = None,
    *,
    threads: int = 1,
    collect_progress: Callable[[int, int], None] | None = None,
    fit_progress: Callable[[dict[str, Any]], None] | None = None,
    overwrite: bool = False,
) -> tuple[list[dict[str, float]], Path]:
    """Give the general model in ``base`` a confidence head (``isingviz.learn.general.head``) and save it to ``out``.

    The network's weights are kept as they are; the head is fitted on ``tc``'s fresh instances with the network
    frozen. The file keeps the base's metadata (training distribution, history) and adds to ``metrics`` the head's
    held-out pair loss and accuracy before (network alone) and after, and to ``notes`` the head's recipe and the
    ``python -m isingviz train-head`` command that repeats it. Returns the head's fit history and the path.
    """
    import torch

    from ..networks import build_model
    from .head import collect_examples, fit_head

    tc = tc or HeadTrainConfig()
    tc.validate()
    path = Path(out)
    if path.suffix != SUFFIX:
        raise ValueError(f"the model file must end in {SUFFIX}, got {path.name!r}")
    if path.exists() and not overwrite:
        raise ValueError(f"a model file {path.name} already exists; choose another name or allow it to be replaced")
    check_int("threads", threads, 1, THREADS_MAX)
    loaded = load_model(base)
    if not loaded.is_general:
        raise ValueError(f"the base must be a general model (arch='general'), got arch={loaded.config.arch!r}")
    if loaded.tau != tc.tau:
        raise ValueError(f"the base model's tau={loaded.tau} differs from the head's training tau={tc.tau}")
    cfg = dataclasses.replace(loaded.config, head=True, head_L_max=tc.L_max, head_inputs=N_HEAD)
    with torch_threads(threads):
        t0 = time.perf_counter()
        train, held = collect_examples(loaded.model, tc, collect_progress)
        head, history = fit_head(train, held, tc, fit_progress)
        seconds = time.perf_counter() - t0
    with torch.random.fork_rng(devices=[]):
        net = build_model(cfg)
    state = {k: v for k, v in loaded.model.state_dict().items() if not k.startswith("head.")}
    net.load_state_dict({**state, **{f"head.{k}": v for k, v in head.state_dict().items()}})
    meta = loaded.metadata
    best = min(history, key=lambda h: h["test_loss"])
    metrics = {**meta.get("metrics", {}), "head_test_loss_before": history[0]["test_loss"],
               "head_test_accuracy_before": history[0]["test_accuracy"], "head_test_loss": best["test_loss"],
               "head_test_accuracy": best["test_accuracy"], "head_seconds": seconds}  # fmt: skip
    overrides = {k: v for k, v in tc.to_dict().items() if v != HeadTrainConfig().to_dict()[k]}
    command = f"python -m isingviz train-head {Path(base).name} --threads {threads} --out {path.name}"
    command += "".join(f" --set {k}={json.dumps(v)}" for k, v in overrides.items())
    notes = (meta.get("notes") or "").split(" | confidence head:")[0]
    notes += f" | confidence head: {json.dumps(tc.to_dict(), separators=(',', ':'))}; reproduce with: {command}"
    saved = save_model(path, net, cfg, T=loaded.T, tau=loaded.tau, dataset=meta.get("dataset"),
                       train_config=meta.get("train_config"), history=meta.get("history"), metrics=metrics,
                       name=meta.get("name"), notes=notes, overwrite=overwrite)  # fmt: skip
    return history, saved
