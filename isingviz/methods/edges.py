"""A reconstruction as an edge list: every pair (i, j), i < j, with its probability of an edge, its entropy and the
decision, as rows, CSV or JSON (what ``python -m isingviz reconstruct --out`` and the Predict page offer)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..metrics import pair_entropy
from .registry import Reconstruction

COLUMNS = ("i", "j", "p_edge", "entropy", "edge", "score")


def edge_rows(rec: Reconstruction, L: int, index: int = 0) -> list[dict[str, Any]]:
    """One row per pair of instance ``index``: i, j, p_edge (None when the method has no probabilities), entropy
    (natural log; None likewise), edge (0/1, the method's decision) and score; pairs in triu order."""
    scores = np.asarray(rec.scores)
    scores = scores[None] if scores.ndim == 1 else scores
    pred = np.asarray(rec.pred)
    pred = pred[None] if pred.ndim == 1 else pred
    if not 0 <= index < scores.shape[0]:
        raise ValueError(f"instance index must be in 0..{scores.shape[0] - 1}, got {index}")
    iu, ju = np.triu_indices(L, 1)
    if scores.shape[1] != iu.size:
        raise ValueError(f"the reconstruction has {scores.shape[1]} pairs, but L = {L} spins have {iu.size}")
    p = ent = None
    if rec.proba is not None:
        proba = np.asarray(rec.proba)
        proba = proba[None] if proba.ndim == 2 else proba
        p = proba[index, :, 1]
        ent = pair_entropy(proba[index])
    return [
        {
            "i": int(a),
            "j": int(b),
            "p_edge": None if p is None else float(p[k]),
            "entropy": None if ent is None else float(ent[k]),
            "edge": int(pred[index, k]),
            "score": float(scores[index, k]),
        }
        for k, (a, b) in enumerate(zip(iu, ju))
    ]


def edges_csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS))
    w.writeheader()
    w.writerows([{k: ("" if r[k] is None else r[k]) for k in COLUMNS} for r in rows])
    return buf.getvalue().encode("utf-8")


def edges_json(rows: list[dict[str, Any]], about: Mapping[str, Any]) -> bytes:
    """``{"about": {...method, T, tau, rule...}, "edges": [...the pairs predicted as edges...], "pairs": rows}``."""
    doc = {"about": dict(about), "edges": [[r["i"], r["j"]] for r in rows if r["edge"]], "pairs": rows}
    return (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode("utf-8")
