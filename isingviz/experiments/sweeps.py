"""Sweeps: the paper's figures and the method comparison as lists of independent tasks, run in parallel.

A sweep (``SWEEPS[name]``) is one or more stages; each stage plans a list of JSON-able task configs and runs one
pure task function on each (config, byte inputs -> result) on an engine (``engines``: a local process pool, or
Dask; one torch thread per task). A later stage may use an earlier stage's byte outputs (fig2b / fig3: a model
trained once, when no shipped one fits). Finished tasks are cached under ``OUT/.cache/`` and a stopped sweep
resumes from there (``resume=True``). ``run_sweep`` returns one JSON document with the exact configs, results,
seeds, versions, engine and wall times, and writes it to ``results/NAME[_quick].json`` plus a flat ``.csv``::

    doc = run_sweep("fig2a", quick=True, progress=lambda ev: print(ev["done"], "/", ev["total"]))
    doc = run_sweep("fig3", quick=False, engine="dask", workers=4, resume=True)
    doc = load_results("fig2a", quick=True)          # None when it was never run

Sizes: ``--quick`` finishes in <= 5 minutes on 2 cores; full sizes are the paper's (hours on a CPU).
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..config import models_dir, results_dir
from ..files import atomic_write
from .baselines import BASELINES_SIZES, plan_baselines, rows_baselines, summary_baselines, task_baselines
from .cache import TaskCache
from .engines import open_engine
from .fig2 import (
    FIG2A_SIZES,
    FIG2B_SIZES,
    plan_fig2a,
    plan_fig2b,
    plan_fig2b_model,
    rows_fig2a,
    rows_fig2b,
    summary_fig2a,
    summary_fig2b,
    task_fig2a,
    task_fig2b,
    task_fig2b_model,
)
from .fig34 import (
    FIG3_SIZES,
    FIG4_SIZES,
    plan_fig3,
    plan_fig3_pretrain,
    plan_fig4,
    rows_fig3,
    rows_fig4,
    summary_fig3,
    summary_fig4,
    task_fig3,
    task_fig3_pretrain,
    task_fig4,
)
from .general import GENERAL_SIZES, plan_general, rows_general, summary_general, task_general
from .runner import Config, ProgressFn, Stage, StageRun, Sweep, compact_json, jsonable, label, versions, write_csv

SWEEPS: dict[str, Sweep] = {
    s.name: s
    for s in (
        Sweep(
            "fig2a",
            "Fig. 2a: accuracy vs N_train (T = 0.4)",
            "train and test accuracy vs N_train at T=0.4, N_L=10 (paper: 2,500..25,000, 14 epochs; quick: 2,500 /"
            " 5,000 / 10,000, 6 epochs, 1,000 test instances), plus accuracy on unseen lattices",
            FIG2A_SIZES,
            (Stage(plan_fig2a, task_fig2a),),
            rows_fig2a,
            summary_fig2a,
        ),
        Sweep(
            "fig2b",
            "Fig. 2b: coverage and accuracy vs S_c",
            "coverage eta and accuracy of the pairs with entropy S < S_c on fresh test instances (and unseen"
            " lattices), from the shipped paper_T0.4 model if present, else a model trained first",
            FIG2B_SIZES,
            (Stage(plan_fig2b_model, task_fig2b_model), Stage(plan_fig2b, task_fig2b)),
            rows_fig2b,
            summary_fig2b,
        ),
        Sweep(
            "fig3",
            "Fig. 3: accuracy vs T",
            "accuracy vs T from 0.1 to 100 for scratch-raw, fine-tuned from a raw T=0.1 model pre-trained once on"
            " the same lattices (shipped pretrain_T0.1 if present), and decay-encoded (full: N_train=10,000,"
            " 20 epochs, 10 T; quick: 2,000, 8 epochs, 5 T)",
            FIG3_SIZES,
            (Stage(plan_fig3_pretrain, task_fig3_pretrain), Stage(plan_fig3, task_fig3)),
            rows_fig3,
            summary_fig3,
        ),
        Sweep(
            "fig4",
            "Fig. 4: accuracy vs N_L (T = 50)",
            "testing and generalization accuracy vs N_L at T=50 with the fit gamma = a N_L + b, both variants"
            " (N_train fixed at 20,000 / 500 per lattice; quick: 3,000 / 200, N_L in 1,2,5,10,20,30, 12 epochs);"
            " lattices without enough distinct initial states use all of them (recorded)",
            FIG4_SIZES,
            (Stage(plan_fig4, task_fig4),),
            rows_fig4,
            summary_fig4,
        ),
        Sweep(
            "baselines",
            "Every method, T x noise",
            "every reconstruction method on the same instances, T in {0.1,0.4,1,5,10,50,100} x noise in"
            " {0,1e-4,1e-3,1e-2}, training and unseen lattices, wall time per instance (quick: 50 instances per"
            " cell, pools of 50 per lattice; full: 300 and 200); the shipped CNNs at their own T",
            BASELINES_SIZES,
            (Stage(plan_baselines, task_baselines),),
            rows_baselines,
            summary_baselines,
        ),
        Sweep(
            "general",
            "General model on unseen lattices",
            "the shipped general model (models/general.safetensors) on unseen lattices of every family, L x T x"
            " noise, beside general_r1, inversion, binary_ml (L <= 12), var and the paper CNN (L = 12), on the same"
            " instances, with wall time per instance and the general model's calibration (20 unseen lattices per"
            " cell; quick: random lattices, L in 8..32 x T in 0.4..50 x noise in 0,1e-3,1e-2, plus the other families"
            " at L=12 and 32, T in 1,5, noise 0,1e-3, about a minute; full: all five families on the whole grid)",
            GENERAL_SIZES,
            (Stage(plan_general, task_general),),
            rows_general,
            summary_general,
        ),
    )
}


def result_paths(name: str, quick: bool, out_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    stem = f"{name}_quick" if quick else name
    folder = Path(out_dir) if out_dir is not None else results_dir()
    return folder / f"{stem}.json", folder / f"{stem}.csv"


def load_benchmark(name: str, out_dir: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """A benchmark's stored JSON (``results/NAME.json``, as ``benchmarks/NAME.py > results/NAME.json`` writes it), or
    None when there is none or it cannot be read as a JSON object."""
    folder = Path(out_dir) if out_dir is not None else results_dir()
    try:
        doc = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def load_results(name: str, quick: bool = True, out_dir: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """The stored document of a sweep run (``run_sweep``'s return value), or None when there is none."""
    path = result_paths(name, quick, out_dir)[0]
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_sweep(name: str) -> Sweep:
    if name not in SWEEPS:
        raise ValueError(f"unknown sweep {name!r}; available: {', '.join(SWEEPS)}")
    return SWEEPS[name]


def run_sweep(
    name: str,
    quick: bool = True,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    out_dir: str | os.PathLike | None = None,
    *,
    write: bool = True,
    sizes: Config | None = None,
    models: str | os.PathLike | None = None,
    stop: threading.Event | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    cache: bool | None = None,
) -> dict[str, Any]:
    """Run sweep ``name`` and return its document (also written to ``out_dir``, default ``results_dir()``).

    Args:
        quick: the quick sizes (<= 5 minutes on 2 cores) instead of the paper's.
        workers: processes (default min(2, cpu count)); 1 with the local engine runs the tasks in this process.
        progress: called after every task with {"done", "total", "stage", "config", "seconds", "elapsed",
            "cached" (this task came from the cache), "cached_total", "running", "queued", "eta"} ("total" counts
            the tasks planned so far; a later stage is planned when the earlier one ends; "eta" in seconds, None
            until a task has run here).
        write: write ``NAME[_quick].json`` and ``.csv`` (a stopped run is never written).
        sizes: overrides of the sizes (e.g. tiny ones in tests; {"dataset": {...}} changes L, M, ...).
        models: folder of shipped models to reuse (default ``models/``, or ``ISINGVIZ_MODELS``).
        stop: a ``threading.Event``; when set, no new task starts and the document has ``"stopped": true``.
        engine: "local" (a process pool) or "dask" (a ``LocalCluster`` of ``workers``, or the cluster at
            ``scheduler``, e.g. "tcp://host:8786").
        resume: take the tasks already finished from the cache instead of running them again.
        cache: keep every finished task under ``OUT/.cache/`` (default: when ``write``).
    """
    sw = check_sweep(name)
    eff = {**sw.sizes["quick" if quick else "full"], **(sizes or {})}
    folder = Path(out_dir) if out_dir is not None else results_dir()
    stem = f"{name}_quick" if quick else name
    store = TaskCache(folder / ".cache" / stem) if (write if cache is None else cache) else None
    if resume and store is None:
        raise ValueError("resuming needs the task cache, which is kept only when the results are written")
    t0, started = time.perf_counter(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    records: list[dict[str, Any]] = []
    blobs: dict[str, bytes] = {}
    state = {"done": 0, "total": 0, "cached": 0, "computed": 0}

    def tick(ev: dict[str, Any], k: int) -> None:
        state["done"] += 1
        state["cached" if ev["cached"] else "computed"] += 1
        elapsed = time.perf_counter() - t0
        left = state["total"] - state["done"]
        eta = elapsed / state["computed"] * left if state["computed"] else None  # cached tasks take no time
        if progress is not None:
            progress({"done": state["done"], "total": state["total"], "cached_total": state["cached"], "stage": k,
                      "elapsed": elapsed, "eta": eta, **ev})  # fmt: skip

    with open_engine(engine, workers, scheduler) as eng:
        for k, stage in enumerate(sw.stages):
            ctx = {"models_dir": str(models or models_dir()), "blobs": blobs, "previous": records, "quick": quick}
            configs = stage.plan(eff, ctx)
            state["total"] += len(configs)
            run = StageRun(name, k, stage, eng, blobs, store, resume, lambda ev, k=k: tick(ev, k), stop)
            outs = run.run(configs)
            for cfg, o in zip(configs, outs):
                if o is not None:
                    records.append({"stage": k, "config": cfg, **o})
            if stop is not None and stop.is_set():
                break
            if any("error" in r["result"] for r in records if r["stage"] == k) and k + 1 < len(sw.stages):
                break  # a later stage needs this one's results
        engine_info = eng.describe()
    errors = [f"{label(r['config'])}: {r['result']['error']}" for r in records if "error" in r["result"]]
    capped = [f"{label(r['config'])}: {r['result']['capped']}" for r in records if r["result"].get("capped")]
    flags = f"{' --quick' if quick else ''} --engine {engine} --workers {engine_info['workers']}"
    doc = {
        "sweep": name,
        "title": sw.title,
        "description": sw.help,
        "quick": quick,
        "sizes": eff,
        "command": f"python -m isingviz sweep {name}{flags}",
        **engine_info,
        "threads_per_task": 1,
        "started": started,
        "wall_seconds": time.perf_counter() - t0,
        "versions": versions(),
        "stopped": bool(stop is not None and stop.is_set()),
        "resumed_tasks": sum(1 for r in records if r.get("cached")),
        "devices": sorted({r.get("device", "cpu") for r in records}),
        "errors": errors,
        "notes": capped,
        "tasks": records,
    }
    doc["summary"] = sw.summarize(records)
    doc = jsonable(doc)
    if write and not doc["stopped"]:
        js, cs = result_paths(name, quick, out_dir)
        atomic_write(js, (compact_json(doc) + "\n").encode(), overwrite=True)
        write_csv(cs, sw.rows(doc))
    return doc
