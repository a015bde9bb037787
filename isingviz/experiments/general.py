"""The ``general`` sweep: the shipped general model on lattices never seen in training, beside the other methods.

One task per (family, L, T, noise, R) cell: ``n`` unseen lattices, one instance each (``unseen.evaluation_set``:
tau = 0.1, M = 50, seed 1000 as in ``benchmarks/bench_general.py``; R > 0: heat-bath dynamics averaged over R
replicas), and every method of ``unseen.comparison_methods`` on the same instances: ``general`` (as shipped: the
evidence gate on Eq. 1 data, the confidence head on replica data), ``general_raw`` (the network alone),
``general_r1`` (one refinement round), ``inversion``, ``binary_ml`` (L <= 12), ``replica_ml`` (replica data,
L <= 16), ``var`` and the kinetic estimators ``naive_mf``, ``tap``, ``ml_kinetic`` (told the true E), ``cnn`` (the
shipped ``paper_T0.4`` model, at its L = 12 only, when the file exists). ``checks`` per cell: ``cell_checks``
(never confidently worse than guessing).

Document format (``run_sweep``'s): ``tasks[i]["result"]`` is ``evaluate_grid``'s row (L, T, noise, family, n, edges,
trivial, and per method ``<name>`` accuracy and ``<name>_ms`` wall time per instance) plus ``"calibration"``: the
additive ``unseen.calibration_counts`` of the general model's pair probabilities in that cell. ``summary``:
``methods`` (names in order), ``model`` (path, parameters, training_distribution), ``calibration`` (merged over the
random-family L = 12 cells; None without such cells), ``calibration_all`` (all cells) and ``wins`` (per other
method: cells where general is better / equal / worse).

Sizes: ``n``, ``seed``, ``grids`` (a list of {"families", "L", "T", "noise"}, each a full product), and optionally
``methods`` (a subset of ``METHODS``) and ``model_file`` (a general model file instead of the models folder's
``general.safetensors``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import REPO_ROOT
from ..learn.networks import n_parameters
from ..learn.store import load_model
from ..methods.general import ANSWERS, answer_counts
from .runner import Inputs, add_blob
from .unseen import (
    METHODS,
    calibration_counts,
    comparison_methods,
    evaluate_grid,
    evaluation_set,
    merge_calibration,
    paired_margin,
)

GENERAL_FILE = "general.safetensors"
CNN_FILE = "paper_T0.4.safetensors"
TAU, M = 0.1, 50  # the evaluation's instances, as in benchmarks/bench_general.py
TIE = 1e-12  # accuracy difference counted as equal (float rounding only)
OTHER_FAMILIES = ["erdos_renyi", "ring", "grid", "small_world"]
TRAPS = ["star", "tree", "complete_bipartite", "matching", "complete", "empty"]  # identifiability traps, extremes
ALL_T, ALL_NOISE = [0.4, 1.0, 5.0, 10.0, 50.0], [0.0, 1e-3, 1e-2]
REPLICAS = [10, 100, 1000]
GENERAL_SIZES = {
    "quick": {  # n and seed as benchmarks/bench_general.py: its random-lattice cells are the same instances
        "n": 20,
        "seed": 1000,
        "grids": [
            {"families": ["random"], "L": [8, 12, 16], "T": [0.4, 1.0, 50.0], "noise": [0.0, 1e-2]},
            {"families": ["ring", "complete_bipartite", "complete", "empty"], "L": [12], "T": [1.0], "noise": [0.0]},
            {"families": ["random"], "L": [8], "T": [1.0, 50.0], "noise": [0.0], "replicas": [10, 1000]},
        ],
    },
    "full": {
        "n": 20,
        "seed": 1000,
        "grids": [
            {"families": ["random", *OTHER_FAMILIES, *TRAPS], "L": [8, 12, 16, 24, 32], "T": ALL_T, "noise": ALL_NOISE},
            {"families": ["random", "erdos_renyi"], "L": [48, 64], "T": ALL_T, "noise": [0.0, 1e-3]},
            {
                "families": ["random", *OTHER_FAMILIES, *TRAPS],
                "L": [12],
                "T": ALL_T,
                "noise": [0.0],
                "replicas": REPLICAS,
            },
            {"families": ["random"], "L": [8, 16], "T": ALL_T, "noise": [0.0], "replicas": REPLICAS},
        ],
    },
}
HOW_TO_MAKE = (
    "make it with the two commands in models/README.md (python -m isingviz train-general ... --out"
    " models/general.safetensors), or give another general model file as sizes={'model_file': PATH}"
)


def _model_file(sizes: dict[str, Any], ctx: dict[str, Any]) -> Path:
    """The general model the sweep evaluates; a clear ValueError when it is missing or not a general model."""
    given = sizes.get("model_file")
    path = Path(given) if given else Path(ctx["models_dir"]) / GENERAL_FILE
    if not path.is_file():
        raise ValueError(f"the general sweep needs a general model file, and {path} does not exist; {HOW_TO_MAKE}")
    if not load_model(path).is_general:
        raise ValueError(f"{path} is not a general model (arch='general'); {HOW_TO_MAKE}")
    return path.resolve()


def plan_general(sizes: dict[str, Any], ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """One task per (family, L, T, noise) of every grid, in grid order; the CNN only where it can run (L = 12)."""
    model_file = _model_file(sizes, ctx)
    methods = list(sizes.get("methods", METHODS))
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown methods {unknown} in the general sweep's sizes; allowed: {', '.join(METHODS)}")
    n, seed = int(sizes["n"]), int(sizes["seed"])
    if n < 1:
        raise ValueError(f"n must be >= 1 (unseen lattices per cell), got {n}")
    cnn = Path(ctx["models_dir"]) / CNN_FILE
    cnn_model = load_model(cnn) if "cnn" in methods and cnn.is_file() else None
    cnn_L = cnn_model.config.L if cnn_model is not None else None
    general_sha = add_blob(ctx["blobs"], model_file.read_bytes())
    cnn_sha = add_blob(ctx["blobs"], cnn.read_bytes()) if cnn_model is not None else None
    cfgs = []
    for grid in sizes["grids"]:
        for family in grid["families"]:
            for L in grid["L"]:
                for T in grid["T"]:
                    for noise, R in ((nz, R) for nz in grid["noise"] for R in grid.get("replicas", [0])):
                        here = [m for m in methods if m != "cnn" or L == cnn_L]
                        cfgs.append(
                            {
                                "family": family,
                                "L": int(L),
                                "T": float(T),
                                "noise": float(noise),
                                "replicas": int(R),
                                "n": n,
                                "seed": seed,
                                "methods": here,
                                "model_file": _display_path(str(model_file)),
                                "inputs": {"general": general_sha} | ({"cnn": cnn_sha} if "cnn" in here else {}),
                            }
                        )
    return cfgs


def task_general(cfg: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Every method on the same ``n`` unseen lattices of one cell: ``evaluate_grid``'s row plus ``"calibration"``
    (``calibration_counts`` of the general model's p(edge), read from the timed forward pass, not a second one),
    ``"calibration_raw"`` (the same for the network alone, without gate and head), ``"checks"`` (``cell_checks``)
    and ``"answered_by"`` (how many of the general model's answers came from each of its parts, ``ANSWERS``).
    """
    L, T, noise, n, seed, family = cfg["L"], cfg["T"], cfg["noise"], cfg["n"], cfg["seed"], cfg["family"]
    R = int(cfg.get("replicas", 0))
    methods = comparison_methods(inputs["general"], inputs.get("cnn"), cfg["methods"])
    row = evaluate_grid(methods, [L], [T], [noise], n, seed, family, TAU, M, replicas=R)[0]
    _, y = evaluation_set(L, T, noise, n, seed, family, TAU, M, replicas=R)  # the same instances: a seeded redraw
    for name, key in (("general", "calibration"), ("general_raw", "calibration_raw")):
        if name in row:
            p_edge = methods[name](L).proba_[..., 1]  # (n, K): the shared General's last fit, this cell's
            row[key] = calibration_counts(p_edge, y)
    for name in ("general", "general_raw"):
        if name in row:
            row.setdefault("checks", {})[name] = cell_checks(row, name)
    if "general" in row:
        answers = methods["general"](L).results_.get("answered_by", [])
        row["answered_by"] = answer_counts(answers)
    return row


ANCHORS = ("inversion", "binary_ml")  # the methods that do not learn the general model must not fall below
TOLERANCE = 0.01  # accuracy below a reference by at most this (+ two paired standard errors) still passes
MIN_WRONG = 20  # the entropy checks judge a cell with at least this many wrong pairs
CONFIDENT_SHARE = 0.2  # at most this share of the wrong pairs may be confident (S < 0.1)


def cell_checks(row: dict[str, Any], name: str = "general") -> dict[str, Any]:
    """Issue-13 checks of one method in one cell: accuracy >= the trivial guess and >= the best anchor
    (inversion, binary decoder where it runs), each within 0.01 + two paired standard errors; with >= 20 wrong
    pairs, the wrong pairs' mean entropy above the right pairs' and at most 20 % of them confident (S < 0.1)."""
    acc = row["by_instance"][name]
    vs_trivial = paired_margin(acc, row["by_instance"]["trivial"])
    anchors = [a for a in ANCHORS if a in row["by_instance"]]
    best = max(anchors, key=lambda a: row[a]) if anchors else None
    vs_anchor = paired_margin(acc, row["by_instance"][best]) if best else None
    out: dict[str, Any] = {
        "vs_trivial": vs_trivial,
        "trivial_ok": margin_ok(vs_trivial),
        "anchor": best,
        "vs_anchor": vs_anchor,
        "anchor_ok": vs_anchor is None or margin_ok(vs_anchor),
    }
    return out | honesty_checks(row["honesty"].get(name))


def margin_ok(m: dict[str, float]) -> bool:
    """A paired margin (``unseen.paired_margin``) within ``TOLERANCE`` + two standard errors of 0 or above it."""
    return m["margin"] >= -(TOLERANCE + 2 * m["se"])


def honesty_checks(h: dict[str, Any] | None) -> dict[str, bool]:
    """Issue-13 checks of one method's honesty figures (``unseen.honesty``) where it has >= ``MIN_WRONG`` wrong
    pairs: ``entropy_ok`` (their mean entropy above the right pairs') and ``confident_ok`` (at most
    ``CONFIDENT_SHARE`` of them with S < 0.1); {} where there are fewer (or no figures)."""
    if h is None or h["wrong"] < MIN_WRONG:
        return {}
    return {"entropy_ok": h["entropy_right"] is None or h["entropy_wrong"] > h["entropy_right"],
            "confident_ok": h["confident_wrong"] <= CONFIDENT_SHARE}  # fmt: skip


def rows_general(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat CSV row per cell: the task result without its calibration counts and per-instance accuracies, with
    the general model's margins over the trivial guess and the best anchor and its honesty figures."""
    out = []
    for t in doc["tasks"]:
        if not _ok(t):
            continue
        r = t["result"]
        flat = {k: v for k, v in r.items() if k not in _NESTED}
        c = r.get("checks", {}).get("general")
        if c:
            flat |= {"margin_trivial": c["vs_trivial"]["margin"], "se_trivial": c["vs_trivial"]["se"],
                     "anchor": c["anchor"], "margin_anchor": (c["vs_anchor"] or {}).get("margin"),
                     "se_anchor": (c["vs_anchor"] or {}).get("se")}  # fmt: skip
        h = r.get("honesty", {}).get("general")
        if h:
            flat |= {f"general_{k}": v for k, v in h.items()}
        if "answered_by" in r:
            flat |= {f"answered_by_{a.replace(' ', '_')}": r["answered_by"].get(a, 0) for a in ANSWERS}
        out.append(flat)
    return out


_NESTED = ("calibration", "calibration_raw", "by_instance", "honesty", "checks", "answered_by")


def _ok(record: dict[str, Any]) -> bool:
    return "error" not in record["result"]


def _display_path(path: str) -> str:
    p = Path(path)
    return str(p.relative_to(REPO_ROOT)) if p.is_relative_to(REPO_ROOT) else str(p)


def summary_general(records: list[dict[str, Any]]) -> dict[str, Any]:
    """methods, model (path, parameters, training_distribution), calibration (random L = 12 cells),
    calibration_all (every cell), wins (per other method: cells where general is better / equal / worse)."""
    results = [t["result"] for t in records if _ok(t)]
    methods = [m for m in METHODS if any(m in r for r in results)]
    model: dict[str, Any] | None = None
    if records:
        path = records[0]["config"]["model_file"]
        if not Path(path).is_absolute():
            path = str(REPO_ROOT / path)
        try:
            loaded = load_model(path)
            model = {
                "path": _display_path(path),
                "parameters": n_parameters(loaded.model),
                "training_distribution": loaded.metadata.get("dataset"),
            }
        except (ValueError, OSError):  # the file changed since the run: report what is known
            model = {"path": _display_path(path), "parameters": None, "training_distribution": None}
    counted = [r for r in results if "calibration" in r]
    l12 = [r["calibration"] for r in counted if r["family"] == "random" and r["L"] == 12 and not r.get("replicas")]
    wins = {}
    for m in methods:
        if m == "general":
            continue
        both = [r for r in results if m in r and "general" in r]
        diff = [r["general"] - r[m] for r in both]  # accuracies over the same pairs: equal counts, equal floats
        wins[m] = {
            "better": sum(d > TIE for d in diff),
            "equal": sum(abs(d) <= TIE for d in diff),
            "worse": sum(d < -TIE for d in diff),
        }
    raw = [r["calibration_raw"] for r in results if "calibration_raw" in r]
    return {
        "methods": methods,
        "model": model,
        "calibration": merge_calibration(l12) if l12 else None,
        "calibration_all": merge_calibration([r["calibration"] for r in counted]) if counted else None,
        "calibration_all_raw": merge_calibration(raw) if raw else None,
        "wins": wins,
        "checks": {
            name: checks_summary(results, name)
            for name in ("general", "general_raw")
            if any(name in r.get("checks", {}) for r in results)
        },  # fmt: skip
    }


def checks_summary(results: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """How many cells pass each of ``cell_checks``'s tests, and the failing cells (family, L, T, noise, R)."""
    out: dict[str, Any] = {}
    for test in ("trivial_ok", "anchor_ok", "entropy_ok", "confident_ok"):
        cells = [r for r in results if test in r.get("checks", {}).get(name, {})]
        failed = [r for r in cells if not r["checks"][name][test]]
        out[test] = {
            "cells": len(cells),
            "passed": len(cells) - len(failed),
            "failed": [{k: r[k] for k in ("family", "L", "T", "noise", "replicas")} for r in failed],
        }
    return out
