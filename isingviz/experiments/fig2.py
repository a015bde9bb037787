"""The paper's Fig. 2 as sweeps: accuracy vs N_train (``fig2a``) and coverage/accuracy vs S_c (``fig2b``).

Each task is a pure function: a JSON-able config -> a JSON-able result (see ``sweeps`` for the runner).
Every evaluation block is ``common.score``: accuracy, trivial and majority accuracy, entropies, and the
best non-learned method on the same instances.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..config import models_dir
from ..data import build_dataset, fresh_general_split, fresh_test_split
from ..metrics import coverage_curve, summary
from .common import (
    dataset_spec,
    fit_model,
    lattice_labels,
    load_base,
    model_config,
    score,
    train_and_save,
    train_config,
    trained_scores,
)
from .runner import Inputs, add_blob

PAPER = {
    "fig2a": {"n_train": 25000, "train_accuracy": 0.999, "test_accuracy": 0.996},
    "fig2b": {"accuracy_at_0.1": 1.0, "coverage_at_0.6": 0.96},
}
FIG2A_SIZES = {
    "quick": {"n_train": [2500, 5000, 10000], "n_test": 1000, "n_general": 1000, "epochs": 6, "n_baseline": 100},
    "full": {
        "n_train": [2500, 5000, 7500, 10000, 15000, 20000, 25000],
        "n_test": 3000,
        "n_general": 3000,
        "epochs": 14,
        "n_baseline": 300,
    },
}
FIG2B_SIZES = {
    "quick": {"n": 1000, "n_general_lattices": 10, "n_baseline": 100, "train_n": 10000, "train_epochs": 4},
    "full": {"n": 3000, "n_general_lattices": 10, "n_baseline": 300, "train_n": 25000, "train_epochs": 14},
}
PAPER_MODEL = "paper_T0.4.safetensors"


def _common(sizes: dict[str, Any]) -> dict[str, Any]:
    return {k: sizes.get(k, {}) for k in ("dataset", "model", "train")}


# ---------------------------------------------------------------- fig2a: accuracy vs N_train


def plan_fig2a(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """One task per N_train (largest first, so the long ones start early)."""
    keep = ("n_test", "n_general", "epochs", "n_baseline")
    base = {"T": sizes.get("T", 0.4), "seed": 0, "train_seed": 0, **{k: sizes[k] for k in keep}, **_common(sizes)}
    return [{**base, "n_train": int(n)} for n in sorted(sizes["n_train"], reverse=True)]


def task_fig2a(cfg: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Train at T on N_train instances of N_L lattices; score train, test (same lattices) and general (unseen).

    Result keys: ``n_train``, ``T``, ``epochs``, ``encoding``, ``train`` (accuracy, trivial_accuracy),
    ``test`` and ``general`` (``score`` blocks), ``history``, ``best_epoch``, ``train_seconds``.
    """
    spec = dataset_spec(
        cfg, T=cfg["T"], n_train=cfg["n_train"], n_test=cfg["n_test"], n_general=cfg["n_general"], seed=cfg["seed"]
    )
    data = build_dataset(spec)
    tc = train_config(cfg, cfg["epochs"], cfg["train_seed"])
    model, hist, secs = fit_model(data.spec, data.train, data.test, model_config(cfg, spec), tc)
    tr = summary(model.predict_proba(data.train.X), data.train.y)
    return {
        "n_train": len(data.train),
        "T": spec.T,
        "epochs": tc.epochs,
        "encoding": model.config.encoding,
        "train": {"accuracy": tr["accuracy"], "trivial_accuracy": tr["trivial_accuracy"]},
        **trained_scores(
            model, hist, secs, data.test, data.general, data.lattices, noise=spec.noise, n_baseline=cfg["n_baseline"]
        ),
    }


def rows_fig2a(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for t in doc["tasks"]:
        r = t["result"]
        if "error" in r:
            continue
        row = {"n_train": r["n_train"], "T": r["T"], "epochs": r["epochs"], "train_accuracy": r["train"]["accuracy"]}
        for split in ("test", "general"):
            row.update(split_columns(r[split], split))
        rows.append({**row, "train_seconds": r["train_seconds"], "task_seconds": t["seconds"]})
    return sorted(rows, key=lambda x: x["n_train"])


def split_columns(block: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A ``score`` block as flat CSV columns: ``{prefix}_accuracy``, ``{prefix}_trivial``, ... (one per key)."""
    b = block.get("baseline") or {}
    return {
        f"{prefix}_accuracy": block["accuracy"],
        f"{prefix}_trivial": block["trivial_accuracy"],
        f"{prefix}_majority": block.get("majority_accuracy"),
        f"{prefix}_best_baseline": b.get("best_accuracy"),
        f"{prefix}_best_baseline_method": b.get("best_method"),
        f"{prefix}_model_on_baseline_subset": b.get("model"),
        f"{prefix}_baseline_n": b.get("n_instances"),
        f"{prefix}_entropy_correct": block.get("mean_entropy_correct"),
        f"{prefix}_entropy_incorrect": block.get("mean_entropy_incorrect"),
    }


def summary_fig2a(records: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [t["result"] for t in records if "error" not in t["result"]]
    if not ok:
        return {}
    top = max(ok, key=lambda r: r["n_train"])
    return {
        "largest_n_train": top["n_train"],
        "train_accuracy": top["train"]["accuracy"],
        "test_accuracy": top["test"]["accuracy"],
        "general_accuracy": top["general"]["accuracy"],
        "trivial_accuracy": top["test"]["trivial_accuracy"],
        "paper": PAPER["fig2a"],
    }


# ---------------------------------------------------------------- fig2b: coverage and accuracy vs S_c


def _shipped_paper_model(sizes: dict[str, Any], ctx: dict[str, Any]) -> Path | None:
    path = Path(ctx.get("models_dir") or models_dir()) / PAPER_MODEL
    return path if sizes.get("use_shipped", True) and path.is_file() and not sizes.get("dataset") else None


def plan_fig2b_model(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage 1: nothing when the shipped paper model is there; else train one (its bytes go to stage 2)."""
    if _shipped_paper_model(sizes, ctx) is not None:
        return []
    cfg = {"T": 0.4, "n_train": sizes["train_n"], "n_test": sizes["n"], "epochs": sizes["train_epochs"], "seed": 0}
    return [{**cfg, "train_seed": 0, **_common(sizes)}]


def task_fig2b_model(cfg: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Train the paper-setting model (no shipped one); result: its bytes (``outputs["model"]``), test accuracy."""
    return train_and_save(cfg, None, "fig2b_trained")


def plan_fig2b(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage 2: the test split (same lattices, unseen states) and the general split (unseen lattices)."""
    shipped = _shipped_paper_model(sizes, ctx)
    if shipped is not None:
        sha, name, source = add_blob(ctx["blobs"], shipped.read_bytes()), shipped.name, f"shipped models/{PAPER_MODEL}"
    else:
        sha, name = ctx["previous"][0]["result"]["outputs"]["model"], "fig2b_model.safetensors"
        source = "trained in stage 1 of this sweep"
    keep = {k: sizes[k] for k in ("n", "n_general_lattices", "n_baseline")}
    model = {"inputs": {"model": sha}, "model_file": name, "model_source": source}
    return [{"split": s, **model, "seed": 1, **keep} for s in ("test", "general")]


def task_fig2b(cfg: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Coverage eta and accuracy of the pairs with S < S_c over 50 thresholds 0..ln 2, on fresh instances.

    Result keys: ``split``, ``model``, ``model_file``, ``model_sha256``, ``model_source``, ``model_n_train``,
    ``thresholds``, ``coverage``, ``curve_accuracy`` (None where no pair is kept), plus the ``score`` block keys
    (accuracy, trivial_accuracy, ..., coverage@0.1, accuracy@0.6, baseline).
    """
    model, spec, lattices = load_base(inputs["model"])
    if cfg["split"] == "test":
        split, cand = fresh_test_split(spec, cfg["n"], cfg["seed"]), lattices
    else:
        _, split = fresh_general_split(spec, cfg["n_general_lattices"], cfg["n"], cfg["seed"] + 1)
        cand = None
    curve = coverage_curve(model.predict_proba(split.X), split.y)
    acc = [None if math.isnan(v) else float(v) for v in curve["accuracy"]]
    block = score(
        model, split, lattice_labels(lattices), noise=spec.noise, candidates=cand, n_baseline=cfg["n_baseline"]
    )
    return {
        "split": cfg["split"],
        "model": model.name,
        "model_file": cfg["model_file"],
        "model_sha256": cfg["inputs"]["model"],
        "model_source": cfg["model_source"],
        "model_n_train": spec.n_train,
        "T": model.T,
        "thresholds": np.asarray(curve["thresholds"]).tolist(),
        "coverage": np.asarray(curve["coverage"]).tolist(),
        "curve_accuracy": acc,
        **block,
    }


def rows_fig2b(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for t in doc["tasks"]:
        r = t["result"]
        if t["stage"] != 1 or "error" in r:
            continue
        base = {"split": r["split"], "model": r["model"], "trivial": r["trivial_accuracy"]}
        base["best_baseline"] = (r.get("baseline") or {}).get("best_accuracy")
        for s_c, cov, acc in zip(r["thresholds"], r["coverage"], r["curve_accuracy"]):
            rows.append({**base, "S_c": s_c, "coverage": cov, "accuracy": acc, "overall_accuracy": r["accuracy"]})
    return rows


def summary_fig2b(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"paper": PAPER["fig2b"]}
    for t in records:
        r = t["result"]
        if t["stage"] == 1 and "error" not in r:
            keys = ("accuracy", "trivial_accuracy", "coverage@0.1", "accuracy@0.1", "coverage@0.6", "accuracy@0.6")
            out[r["split"]] = {k: r.get(k) for k in keys} | {"model": r["model"]}
    return out
