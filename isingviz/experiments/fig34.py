"""The paper's Fig. 3 (accuracy vs T: scratch-raw, fine-tuned from T=0.1, decay-encoded) and Fig. 4 (testing and
generalization accuracy vs the number of training lattices N_L at T=50, with the paper's linear fit) as sweeps.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..config import models_dir
from ..data import build_dataset, fresh_general_split, fresh_test_split, simulate_split, spread, training_states
from .common import dataset_spec, fit_model, load_base, model_config, train_and_save, train_config, trained_scores
from .fig2 import split_columns
from .runner import Inputs, add_blob

VARIANTS = ("scratch", "finetune", "decay")  # raw from random init; raw from the T=0.1 model; decay encoding
PRETRAIN_FILE = "pretrain_T0.1.safetensors"
FIG3_SIZES = {
    "quick": {
        "T": [0.1, 1.0, 5.0, 20.0, 100.0],
        "n_train": 2000,
        "n_test": 500,
        "n_general": 500,
        "epochs": 8,
        "pretrain": {"n_train": 2000, "n_test": 500, "epochs": 10},
        "n_baseline": 60,
    },
    "full": {
        "T": [0.1, 0.2, 0.4, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0],
        "n_train": 10000,
        "n_test": 3000,
        "n_general": 3000,
        "epochs": 20,
        "pretrain": {"n_train": 10000, "n_test": 3000, "epochs": 30},
        "n_baseline": 300,
    },
}
PAPER_FIG4 = {  # gamma = a N_L + b (science.md)
    "test": {"fixed": {"a": -0.0038, "b": 1.016}, "per_lattice": {"a": -0.0037, "b": 1.008}},
    "general": {"fixed": {"a": 0.0012, "b": 0.553}, "per_lattice": {"a": 0.0011, "b": 0.552}},
}
FIG4_SIZES = {
    "quick": {
        "n_lattices": [1, 2, 5, 10, 20, 30],
        "variants": {"fixed": 3000, "per_lattice": 200},
        "n_test": 600,
        "n_general": 600,
        "n_general_lattices": 10,
        "epochs": 12,
        "encoding": "decay",
        "n_baseline": 50,
    },
    "full": {
        "n_lattices": list(range(1, 31)),
        "variants": {"fixed": 20000, "per_lattice": 500},
        "n_test": 3000,
        "n_general": 3000,
        "n_general_lattices": 10,
        "epochs": 20,
        "encoding": "decay",
        "n_baseline": 300,
    },
}


def _common(sizes: dict[str, Any]) -> dict[str, Any]:
    return {k: sizes.get(k, {}) for k in ("dataset", "model", "train")}


def linear_fit(x: Any, y: Any) -> dict[str, float | int | None]:
    """Least-squares line y = a x + b with R^2 = 1 - SS_res / SS_tot (None where undefined, e.g. < 2 points)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 2 or np.ptp(x) == 0:
        return {"a": None, "b": None, "r2": None, "n": int(x.size)}
    a, b = np.polyfit(x, y, 1)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((y - (a * x + b)) ** 2)) / ss_tot if ss_tot > 0 else None
    return {"a": float(a), "b": float(b), "r2": r2, "n": int(x.size)}


# ---------------------------------------------------------------- fig3: accuracy vs T


def _shipped_pretrain(sizes: dict[str, Any], ctx: dict[str, Any]) -> Path | None:
    path = Path(ctx.get("models_dir") or models_dir()) / PRETRAIN_FILE
    ok = sizes.get("use_shipped_pretrain", True) and path.is_file() and not sizes.get("dataset")
    return path if ok else None


def plan_fig3_pretrain(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage 1: nothing when models/pretrain_T0.1 ships (raw, T=0.1, the same seed-0 lattices); else pre-train."""
    if _shipped_pretrain(sizes, ctx) is not None:
        return []
    return [{"T": 0.1, "seed": 0, "train_seed": 0, **sizes["pretrain"], **_common(sizes)}]


def task_fig3_pretrain(cfg: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Pre-train raw at T=0.1; result: its bytes (``outputs["model"]``), test_accuracy, train_seconds, device."""
    return train_and_save(cfg, "raw", "fig3_pretrain")


def plan_fig3(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage 2: one task per (T, variant), the hottest first."""
    shipped = _shipped_pretrain(sizes, ctx)
    if shipped is not None:
        base, source = add_blob(ctx["blobs"], shipped.read_bytes()), f"shipped models/{PRETRAIN_FILE}"
    else:
        base, source = ctx["previous"][0]["result"]["outputs"]["model"], "pre-trained in stage 1 of this sweep"
    keep = {k: sizes[k] for k in ("n_train", "n_test", "n_general", "epochs", "n_baseline")}
    keep["n_general_lattices"] = sizes.get("n_general_lattices", 10)
    cfgs = [
        {
            "T": float(T),
            "variant": v,
            "inputs": {"base": base},
            "base_source": source,
            "seed": 2,
            "train_seed": 0,
            **keep,
        }
        for T in sorted(sizes["T"], reverse=True)
        for v in VARIANTS
    ]
    return [{**c, **_common(sizes)} for c in cfgs]


def task_fig3(cfg: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Train one variant at T on the base model's lattices and training states; score on fresh states and lattices.

    Training instances start from (the first N_train/N_L per lattice of) the base model's own training states, so
    the fresh test states are unseen by both the pre-training and this run. Result keys: ``T``, ``variant``,
    ``encoding``, ``init``, ``n_train``, ``epochs``, ``test``, ``general`` (``score`` blocks), ``history``,
    ``best_epoch``, ``train_seconds``, ``base_sha256``, ``capped`` (None or a note).
    """
    base, bspec, lattices = load_base(inputs["base"])
    n_lat = lattices.shape[0]
    have = spread(bspec.n_train, n_lat)
    want = spread(cfg["n_train"], n_lat)
    counts = np.minimum(want, have)
    capped = None if np.all(counts == want) else f"N_train capped at {int(counts.sum())} (the base's training states)"
    spec = dataclasses.replace(bspec, T=cfg["T"], n_train=int(counts.sum()))
    states = training_states(bspec)
    train_split = simulate_split(lattices, counts, [s[:c] for s, c in zip(states, counts)], spec, cfg["seed"])
    test = fresh_test_split(bspec, cfg["n_test"], cfg["seed"], T=cfg["T"])
    _, gen = fresh_general_split(bspec, cfg["n_general_lattices"], cfg["n_general"], cfg["seed"] + 1, T=cfg["T"])
    variant = cfg["variant"]
    encoding = "decay" if variant == "decay" else base.config.encoding
    config = dataclasses.replace(base.config, encoding=encoding)
    tc = train_config(cfg, cfg["epochs"], cfg["train_seed"])
    init = base if variant == "finetune" else None
    model, hist, secs = fit_model(spec, train_split, test, config, tc, init=init)
    return {
        "T": cfg["T"],
        "variant": variant,
        "encoding": encoding,
        "init": cfg["base_source"] if init is not None else "random",
        "n_train": int(counts.sum()),
        "epochs": tc.epochs,
        **trained_scores(model, hist, secs, test, gen, lattices, noise=spec.noise, n_baseline=cfg["n_baseline"]),
        "base_sha256": cfg["inputs"]["base"],
        "capped": capped,
    }


def rows_fig3(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for t in doc["tasks"]:
        r = t["result"]
        if t["stage"] != 1 or "error" in r:
            continue
        row = {k: r[k] for k in ("T", "variant", "encoding", "init", "n_train", "epochs", "best_epoch")}
        row.update(split_columns(r["test"], "test") | split_columns(r["general"], "general"))
        rows.append({**row, "train_seconds": r["train_seconds"]})
    return sorted(rows, key=lambda x: (x["variant"], x["T"]))


def summary_fig3(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in records:
        r = t["result"]
        if t["stage"] == 1 and "error" not in r:
            out.setdefault(r["variant"], {})[f"{r['T']:g}"] = r["test"]["accuracy"]
        elif t["stage"] == 0 and "error" not in r:
            out["pretrain_test_accuracy"] = r.get("test_accuracy")
    return out


# ---------------------------------------------------------------- fig4: accuracy vs N_L at T=50


def plan_fig4(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    keep = {k: sizes[k] for k in ("n_test", "n_general", "n_general_lattices", "epochs", "encoding", "n_baseline")}
    cfgs = []
    for variant, n in sizes["variants"].items():
        for n_lat in sizes["n_lattices"]:
            asked = int(n) if variant == "fixed" else int(n) * n_lat
            cfgs.append({"variant": variant, "n_lattices": n_lat, "n_train_asked": asked, "T": sizes.get("T", 50.0)})
    cfgs.sort(key=lambda c: -c["n_train_asked"])
    return [{**c, **keep, "seed": 0, "train_seed": 0, **_common(sizes)} for c in cfgs]


def task_fig4(cfg: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Train at T (default 50) on N_L lattices; score testing (same lattices) and generalization (unseen) accuracy.

    Test states per lattice: ceil(n_test / N_L), at most 2^L / 8; a lattice gives at most 2^L - that many
    distinct training states, so for small N_L the asked N_train is capped (all remaining states are used) and
    ``capped`` says so. Result keys: ``variant``, ``n_lattices``, ``n_train_asked``, ``n_train``, ``n_test``,
    ``capped``, ``test``, ``general`` (``score`` blocks), ``history``, ``best_epoch``, ``train_seconds``.
    """
    n_lat = int(cfg["n_lattices"])
    L = dataset_spec(cfg).L  # 2^L initial states per lattice
    test_per = min(math.ceil(cfg["n_test"] / n_lat), 2**L // 8)
    cap = 2**L - test_per
    asked = int(cfg["n_train_asked"])
    n_train = min(asked, cap * n_lat)
    capped = None
    if n_train < asked:
        capped = f"{asked} asked, {n_train} used: all {cap} states of each lattice left after {test_per} test states"
    spec = dataset_spec(
        cfg,
        T=cfg["T"],
        n_lattices=n_lat,
        n_train=n_train,
        n_test=test_per * n_lat,
        n_general_lattices=cfg["n_general_lattices"],
        n_general=cfg["n_general"],
        seed=cfg["seed"],
    )
    data = build_dataset(spec)
    tc = train_config(cfg, cfg["epochs"], cfg["train_seed"])
    model, hist, secs = fit_model(data.spec, data.train, data.test, model_config(cfg, spec, cfg["encoding"]), tc)
    return {
        "variant": cfg["variant"],
        "n_lattices": n_lat,
        "n_train_asked": asked,
        "n_train": len(data.train),
        "n_test": len(data.test),
        "capped": capped,
        "encoding": cfg["encoding"],
        **trained_scores(
            model, hist, secs, data.test, data.general, data.lattices, noise=spec.noise, n_baseline=cfg["n_baseline"]
        ),
    }


def rows_fig4(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for t in doc["tasks"]:
        r = t["result"]
        if "error" in r:
            continue
        row = {k: r[k] for k in ("variant", "n_lattices", "n_train_asked", "n_train", "n_test", "capped", "encoding")}
        row.update(split_columns(r["test"], "test") | split_columns(r["general"], "general"))
        rows.append({**row, "train_seconds": r["train_seconds"]})
    return sorted(rows, key=lambda x: (x["variant"], x["n_lattices"]))


def summary_fig4(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per variant and split: the fit gamma = a N_L + b of the network and of the majority guess, and the paper's."""
    out: dict[str, Any] = {"paper": PAPER_FIG4, "fits": {}}
    res = [t["result"] for t in records if "error" not in t["result"]]
    for variant in sorted({r["variant"] for r in res}):
        rs = sorted((r for r in res if r["variant"] == variant), key=lambda r: r["n_lattices"])
        x = [r["n_lattices"] for r in rs]
        fits = {}
        for split in ("test", "general"):
            fits[split] = linear_fit(x, [r[split]["accuracy"] for r in rs])
            fits[f"{split}_majority"] = linear_fit(x, [r[split]["majority_accuracy"] for r in rs])
        out["fits"][variant] = fits
    out["capped"] = [f"{r['variant']} N_L={r['n_lattices']}: {r['capped']}" for r in res if r.get("capped")]
    return out
