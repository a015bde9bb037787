"""The ``baselines`` sweep: every reconstruction method on the same instances, T x noise, on the training lattices and
on unseen lattices, with wall time per instance.

One task per cell (lattice kind, T, noise). Per-instance methods see ONE instance at a time; pooled methods
(``correlation``, ``correlation_diff``, and ``var`` / ``naive_mf`` / ``tap`` / ``ml_kinetic`` with ``pooled=True``) fit
once per lattice on a separate pool of instances of that lattice (``pool_per_lattice``, fresh initial states) and
their per-lattice prediction is scored on the evaluated instances: their rows say "pooled over P instances of a
lattice". ``template`` runs only on the training lattices, with the 10 training lattices as its candidates. The CNN
rows are the shipped models (``models/``) that share the training lattices, each only at its own T; the shipped
general model (``models/general.safetensors``, any lattice and T) runs in every cell. Top-E methods are told the
true edge count E of each instance's lattice.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..config import models_dir
from ..data import fresh_general_split, simulate_split, spread
from ..learn.evaluate import model_dataset_spec
from ..learn.store import list_models, load_model
from ..methods.registry import reconstruct
from .common import dataset_spec, fresh_states, resolve, used_states
from .runner import Inputs, add_blob

PER_INSTANCE = ("inversion", "binary_ml", "var", "naive_mf", "tap", "ml_kinetic", "trivial")
POOLED = (  # (row key, method, settings)
    ("correlation", "correlation", {}),
    ("correlation_diff", "correlation_diff", {}),
    ("var_pooled", "var", {"pooled": True}),
    ("naive_mf_pooled", "naive_mf", {"pooled": True}),
    ("tap_pooled", "tap", {"pooled": True}),
    ("ml_kinetic_pooled", "ml_kinetic", {"pooled": True}),
)
KINDS = ("train", "unseen")
LEARNED = ("trivial", "cnn", "general")  # never the "best baseline": trivial is the reference, the others learned
BASELINES_SIZES = {
    "quick": {
        "T": [0.1, 0.4, 1.0, 5.0, 10.0, 50.0, 100.0],
        "noise": [0.0, 1e-4, 1e-3, 1e-2],
        "n_instances": 50,
        "pool_per_lattice": 50,
        "n_unseen_lattices": 10,
    },
    "full": {
        "T": [0.1, 0.4, 1.0, 5.0, 10.0, 50.0, 100.0],
        "noise": [0.0, 1e-4, 1e-3, 1e-2],
        "n_instances": 300,
        "pool_per_lattice": 200,
        "n_unseen_lattices": 10,
    },
}


def _shipped_cnns(sizes: dict[str, Any], ctx: dict[str, Any], lattices: list) -> list[dict[str, Any]]:
    """Shipped models trained on exactly the sweep's training lattices: name, T, the model and its sha256."""
    if sizes.get("dataset") and not sizes.get("cnn_anyway"):
        return []
    out = []
    for path in list_models(Path(ctx.get("models_dir") or models_dir())):
        try:
            data = path.read_bytes()
            m = load_model(data)
            if model_dataset_spec(m).lattices == lattices:
                out.append({"name": m.name, "T": m.T, "model": m, "sha256": add_blob(ctx["blobs"], data)})
        except (OSError, ValueError):
            continue
    return out


def _used_states_blob(cnns: list[dict[str, Any]], n_lattices: int, blobs: dict[str, bytes]) -> str | None:
    """The initial states (integer codes per training lattice) any shipped CNN trained or tested on, as one JSON
    blob: the "train" cells draw fresh states outside them, so no CNN is scored on an instance it has seen."""
    if not cnns:
        return None
    used = used_states([model_dataset_spec(c["model"]) for c in cnns], n_lattices)
    return add_blob(blobs, json.dumps([sorted(u) for u in used]).encode())


def plan_baselines(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """One task per (lattice kind, T, noise); the shipped CNNs go to the cells at their own T."""
    common = {k: sizes.get(k, {}) for k in ("dataset",)}
    spec, _ = resolve(dataset_spec(common, seed=0))
    cnns = _shipped_cnns(sizes, ctx, spec.lattices)
    used = _used_states_blob(cnns, len(spec.lattices or []), ctx["blobs"])
    general = Path(ctx.get("models_dir") or models_dir()) / "general.safetensors"  # learned: any lattice, any T
    use_general = general.is_file() and not sizes.get("no_general")
    shared = {"general": add_blob(ctx["blobs"], general.read_bytes())} if use_general else {}
    shared |= {"used_states": used} if used else {}
    keep = {k: sizes[k] for k in ("n_instances", "pool_per_lattice", "n_unseen_lattices")}
    cfgs = []
    for k, kind in enumerate(KINDS):
        for i, T in enumerate(sizes["T"]):
            for j, noise in enumerate(sizes["noise"]):
                cnn = [c for c in cnns if np.isclose(c["T"], T)]
                inputs = shared | {f"cnn:{c['name']}": c["sha256"] for c in cnn}
                cfgs.append(
                    {
                        "lattices": kind,
                        "T": float(T),
                        "noise": float(noise),
                        **keep,
                        "seed": 1000 + 100 * i + 10 * j + k,
                    }
                    | {"lattice_seed": 0, "unseen_seed": 1, "cnn": [c["name"] for c in cnn], "inputs": inputs}
                    | common
                )
    return cfgs


def _row(key: str, rec: Any, y: np.ndarray, pred: np.ndarray, data: str, n_fit: int) -> dict[str, Any]:
    return {
        "method": key,
        "accuracy": float(np.mean(pred == y)),
        "seconds_per_instance": rec.seconds / n_fit,
        "rule": rec.rule,
        "data": data,
    }


def task_baselines(cfg: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Every method on ``n_instances`` instances of one cell.

    Result keys: ``lattices`` ("train" or "unseen"), ``T``, ``noise``, ``n_instances``, ``n_lattices``,
    ``pool_per_lattice``, ``trivial_accuracy``, ``rows`` (method, accuracy, seconds_per_instance, rule, data, and
    ``model`` for CNN and general-model rows), ``best`` and ``best_per_instance`` ({method, accuracy}; neither counts
    trivial, the CNN or the general model; the latter also leaves out pooled methods and template), ``warnings``
    (count of method warnings).
    """
    T, noise, kind = cfg["T"], cfg["noise"], cfg["lattices"]
    spec, train_lattices = resolve(dataset_spec(cfg, seed=cfg["lattice_seed"]))
    spec_cell = dataclasses.replace(spec, T=T, noise=noise)
    if kind == "train":
        lattices = train_lattices
        used = [set(u) for u in json.loads(inputs["used_states"])] if "used_states" in inputs else None
    else:
        lattices, _ = fresh_general_split(spec, cfg["n_unseen_lattices"], 0, cfg["unseen_seed"])
        used = None
    n_lat = lattices.shape[0]
    n_eval, pool = spread(cfg["n_instances"], n_lat), int(cfg["pool_per_lattice"])
    states = fresh_states(spec.L, [int(c) + pool for c in n_eval], used, np.random.default_rng(cfg["seed"]))
    ev = simulate_split(lattices, n_eval, [s[:c] for s, c in zip(states, n_eval)], spec_cell, cfg["seed"])
    pl = simulate_split(
        lattices, np.full(n_lat, pool), [s[c:] for s, c in zip(states, n_eval)], spec_cell, cfg["seed"] + 1
    )
    X, y = ev.X, ev.y
    know = {"T": T, "tau": spec.tau, "noise": noise}
    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in PER_INSTANCE + (("template",) if kind == "train" else ()):
            extra = {"candidates": train_lattices} if name == "template" else {}
            rec = reconstruct(name, X, **know, **extra, n_edges=y.sum(axis=1))
            rows.append(_row(name, rec, y, rec.pred, "one instance", len(y)))
        for key, name, settings in POOLED:
            rec = reconstruct(name, pl.X, **know, **settings, groups=pl.lattice_index, n_edges=pl.y.sum(axis=1))
            first = np.array([np.flatnonzero(pl.lattice_index == g)[0] for g in range(n_lat)])
            pred = rec.pred[first][ev.lattice_index]  # (B, K): each lattice's pooled prediction
            rows.append(_row(key, rec, y, pred, f"pooled over {pool} instances of a lattice", len(pl.y)))
        for name in cfg["cnn"]:
            rec = reconstruct("cnn", X, model=load_model(inputs[f"cnn:{name}"]), T=T)
            rows.append({**_row("cnn", rec, y, rec.pred, "one instance", len(y)), "model": name})
        if "general" in inputs:
            rec = reconstruct("general", X, model=inputs["general"], **know)
            rows.append({**_row("general", rec, y, rec.pred, "one instance", len(y)), "model": "general"})
    fair = [r for r in rows if r["method"] not in LEARNED]
    single = [r for r in fair if r["data"] == "one instance" and r["method"] != "template"]
    best, best1 = max(fair, key=lambda r: r["accuracy"]), max(single, key=lambda r: r["accuracy"])
    return {
        "lattices": kind,
        "T": T,
        "noise": noise,
        "n_instances": int(len(y)),
        "n_lattices": int(n_lat),
        "pool_per_lattice": pool,
        "trivial_accuracy": float(np.mean(y == 0)),
        "rows": rows,
        "best": {"method": best["method"], "accuracy": best["accuracy"]},
        "best_per_instance": {"method": best1["method"], "accuracy": best1["accuracy"]},
        "warnings": len(caught),
    }


def rows_baselines(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for t in doc["tasks"]:
        r = t["result"]
        if "error" in r:
            continue
        cell = {k: r[k] for k in ("lattices", "T", "noise", "n_instances", "trivial_accuracy")}
        for row in r["rows"]:
            out.append({**cell, **row, "model": row.get("model", "")})
    return out


def summary_baselines(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean accuracy per (lattice kind, method) over all cells, and the best method per kind."""
    acc: dict[str, dict[str, list[float]]] = {}
    for t in records:
        r = t["result"]
        if "error" in r:
            continue
        for row in r["rows"]:
            key = row["method"] if row["method"] != "cnn" else f"cnn ({row.get('model')})"
            acc.setdefault(r["lattices"], {}).setdefault(key, []).append(row["accuracy"])
    mean = {kind: {m: float(np.mean(v)) for m, v in d.items()} for kind, d in acc.items()}
    return {"mean_accuracy": mean}


def best_baseline(doc: dict[str, Any] | None, lattices: str, T: float, noise: float = 0.0) -> dict[str, Any] | None:
    """The best non-learned method of a baselines result at (lattice kind, T, noise): {method, accuracy, ...}.

    None when the result has no such cell. Pages use it to put an evaluation beside the best baseline.
    """
    for t in (doc or {}).get("tasks", []):
        r = t["result"]
        if "error" in r or r["lattices"] != lattices:
            continue
        if np.isclose(r["T"], T) and np.isclose(r["noise"], noise):
            return {**r["best"], "trivial_accuracy": r["trivial_accuracy"], "n_instances": r["n_instances"]}
    return None
