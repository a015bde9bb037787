"""Metrics for pair predictions: accuracy, confusion counts, per-pair entropy, coverage/accuracy curves.

Conventions (as everywhere in isingviz): pairs in ``numpy.triu_indices(L, 1)`` order, K = L(L-1)/2;
probabilities ``proba`` have shape (B, K, 2) with index 1 = edge, index 0 = no edge (pass
``exp(log_proba)`` for a network's output); labels ``y`` have shape (B, K), 1 = edge. A single instance may be
given as ``proba`` (K, 2) with ``y`` (K,): every function accepts either form, as long as
``y.shape == proba.shape[:-1]``. Entropies use the natural log, so 0 <= S <= ln 2.

Undefined quantities: a ratio with an empty denominator (precision without predicted edges, mean entropy of
no incorrect predictions) is ``None``; in the array-valued ``coverage_curve`` (and ``coverage_at``) an accuracy
over no kept pairs is ``nan``, which ``summary`` turns into ``None`` so its result is strict JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

LN2 = math.log(2.0)
PROBA_ATOL = 1e-3  # allowed deviation of p0 + p1 from 1 (and of p from [0, 1])


def _as_array(a: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be read as an array ({exc})") from None


def _check_proba(proba: Any) -> np.ndarray:
    """Probabilities (B, K, 2) or (K, 2) -> float64 array of the same shape, clipped to [0, 1]."""
    p = _as_array(proba, "proba")
    if p.ndim not in (2, 3) or p.shape[-1] != 2:
        raise ValueError(f"proba must have shape (B, K, 2), or (K, 2) for one instance, got {p.shape}")
    if p.shape[0] == 0 or p.shape[-2] == 0:
        raise ValueError(f"proba is empty (shape {p.shape}); need at least one instance and one pair")
    if not (np.issubdtype(p.dtype, np.number) or p.dtype == bool):
        raise ValueError(f"proba must be numeric, got dtype {p.dtype}")
    p = p.astype(np.float64)
    if not np.all(np.isfinite(p)):
        raise ValueError("proba contains NaN or infinite values")
    if p.min() < -PROBA_ATOL or p.max() > 1 + PROBA_ATOL:
        raise ValueError(f"proba entries must lie in [0, 1], found {p.min():g} .. {p.max():g} (log-probabilities?)")
    dev = np.abs(p.sum(axis=-1) - 1.0)
    if dev.max() > PROBA_ATOL:
        raise ValueError(f"proba[..., 0] + proba[..., 1] must be 1 (within {PROBA_ATOL:g}), off by up to {dev.max():g}")
    return np.clip(p, 0.0, 1.0)


def _check_labels(y: Any, name: str = "y", shape: tuple[int, ...] | None = None, ref: str = "proba") -> np.ndarray:
    """0/1 labels -> int8 array; ``shape`` (if given) is the shape they must have to match ``ref``."""
    arr = _as_array(y, name)
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape} to match {ref}, got {arr.shape}")
    if shape is None and (arr.ndim not in (1, 2) or arr.size == 0):
        raise ValueError(f"{name} must be a non-empty array of shape (B, K), or (K,) for one instance, got {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or not np.all(np.isin(arr, (0, 1))):
        raise ValueError(f"{name} entries must be 0 (no edge) or 1 (edge)")
    return arr.astype(np.int8)


def _pred_from(p: np.ndarray) -> np.ndarray:
    return (p[..., 1] > p[..., 0]).astype(np.int8)


def predictions(proba: Any) -> np.ndarray:
    """Argmax predictions: proba (B, K, 2) -> (B, K) int8 (1 = edge); (K, 2) -> (K,). Ties go to 0 (no edge)."""
    return _pred_from(_check_proba(proba))


def pair_accuracy(proba: Any, y: Any) -> float:
    """Accuracy gamma = correct argmax predictions / all pairs, over all pairs of all instances."""
    p = _check_proba(proba)
    labels = _check_labels(y, shape=p.shape[:-1])
    return float(np.mean(_pred_from(p) == labels))


def pair_entropy(proba: Any) -> np.ndarray:
    """Per-pair entropy S = -sum_s p(s) ln p(s), with 0 ln 0 = 0: (B, K, 2) -> (B, K) float64; (K, 2) -> (K,).

    Values are clipped to [0, ln 2] to absorb rounding of probabilities that sum to 1 only within tolerance.
    """
    p = _check_proba(proba)
    s = -np.sum(p * np.log(np.maximum(p, np.finfo(np.float64).tiny)), axis=-1)
    return np.clip(s, 0.0, LN2)


def confusion(proba_or_pred: Any, y: Any) -> dict[str, Any]:
    """Confusion counts of edge predictions against labels ``y`` (B, K) or (K,).

    ``proba_or_pred`` is either probabilities (shape ``y.shape + (2,)``) or 0/1 predictions (shape ``y.shape``).
    Returns ints TP, FP, FN, TN (positive = edge) and ``precision`` = TP / (TP + FP), ``recall`` = TP / (TP + FN)
    as floats, each ``None`` when its denominator is 0 (no predicted edges / no true edges).
    """
    labels = _check_labels(y)
    a = _as_array(proba_or_pred, "proba_or_pred")
    if a.ndim == labels.ndim + 1:
        if a.shape != labels.shape + (2,):
            raise ValueError(f"proba must have shape {labels.shape + (2,)} to match y {labels.shape}, got {a.shape}")
        pred = _pred_from(_check_proba(a))
    else:
        pred = _check_labels(a, "predictions", shape=labels.shape, ref=f"y {labels.shape}")
    tp = int(np.sum((pred == 1) & (labels == 1)))
    fp = int(np.sum((pred == 1) & (labels == 0)))
    fn = int(np.sum((pred == 0) & (labels == 1)))
    tn = int(np.sum((pred == 0) & (labels == 0)))
    return {
        "TP": tp,
        "FP": fp,
        "FN": fn,
        "TN": tn,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
    }


def entropy_stats(proba: Any, y: Any) -> dict[str, Any]:
    """Mean entropy of correct and of incorrect predictions (the paper's Fig. 2a, right axis).

    Returns ``mean_entropy_correct``, ``mean_entropy_incorrect`` (float, ``None`` when there are no such
    predictions) and the counts ``n_correct``, ``n_incorrect`` (ints).
    """
    p = _check_proba(proba)
    labels = _check_labels(y, shape=p.shape[:-1])
    s = pair_entropy(p)
    ok = _pred_from(p) == labels
    n_ok, n_bad = int(ok.sum()), int((~ok).sum())
    return {
        "mean_entropy_correct": float(s[ok].mean()) if n_ok else None,
        "mean_entropy_incorrect": float(s[~ok].mean()) if n_bad else None,
        "n_correct": n_ok,
        "n_incorrect": n_bad,
    }


def coverage_curve(proba: Any, y: Any, thresholds: Any = None) -> dict[str, np.ndarray]:
    """Coverage and accuracy of the confident pairs as a function of the entropy threshold (paper's Fig. 2b).

    For each threshold S_c (default: ``numpy.linspace(0, ln 2, 50)``), the kept pairs are those with S < S_c
    (strictly, so S_c = 0 keeps nothing and S_c = ln 2 drops exactly uniform pairs; any S_c > ln 2 keeps all).
    Returns arrays of shape (n_thresholds,): ``thresholds``, ``coverage`` eta = kept / all pairs, ``accuracy``
    on the kept pairs (``nan`` where none is kept) and ``n_kept`` (int64).
    """
    p = _check_proba(proba)
    labels = _check_labels(y, shape=p.shape[:-1])
    sc = np.linspace(0.0, LN2, 50) if thresholds is None else _as_array(thresholds, "thresholds")
    if sc.ndim != 1 or sc.size == 0 or not np.issubdtype(sc.dtype, np.number) or not np.all(np.isfinite(sc)):
        raise ValueError(f"thresholds must be a non-empty 1-D array of finite numbers, got shape {sc.shape}")
    sc = sc.astype(np.float64)
    s = pair_entropy(p).ravel()  # (N,)
    ok = (_pred_from(p) == labels).ravel()  # (N,)
    order = np.argsort(s, kind="stable")
    n_kept = np.searchsorted(s[order], sc, side="left")  # pairs with S < S_c
    correct_cum = np.concatenate([[0], np.cumsum(ok[order])])  # correct among the first n sorted pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(n_kept > 0, correct_cum[n_kept] / n_kept, np.nan)
    return {"thresholds": sc, "coverage": n_kept / s.size, "accuracy": acc, "n_kept": n_kept.astype(np.int64)}


def coverage_at(proba: Any, y: Any, s_c: float) -> tuple[float, float]:
    """(coverage, accuracy) of the pairs with entropy S < ``s_c``; accuracy is ``nan`` when no pair is kept."""
    if isinstance(s_c, bool) or not isinstance(s_c, (int, float, np.integer, np.floating)) or not math.isfinite(s_c):
        raise ValueError(f"s_c must be a finite number (an entropy threshold, 0 .. ln 2 = {LN2:.3f}), got {s_c!r}")
    c = coverage_curve(proba, y, [float(s_c)])
    return float(c["coverage"][0]), float(c["accuracy"][0])


def trivial_accuracy(y: Any) -> float:
    """Accuracy of guessing "no edge anywhere" on labels (B, K) or (K,): the fraction of zero labels."""
    return float(np.mean(_check_labels(y) == 0))


def majority_accuracy(y_train: Any, y_eval: Any) -> float:
    """Accuracy on ``y_eval`` (B, K) of the per-pair majority label of ``y_train`` (N, K) (ties -> no edge).

    The constant prediction a network falls back to when instances carry no information on the lattice (the
    high-T plateau). Both may be (K,) for a single instance; their K must agree.
    """
    tr = _check_labels(y_train, "y_train")
    ev = _check_labels(y_eval, "y_eval")
    tr2, ev2 = tr.reshape(-1, tr.shape[-1]), ev.reshape(-1, ev.shape[-1])
    if tr2.shape[1] != ev2.shape[1]:
        raise ValueError(f"y_train and y_eval must have the same pair count K, got {tr2.shape[1]} and {ev2.shape[1]}")
    majority = (2 * tr2.sum(axis=0, dtype=np.int64) > tr2.shape[0]).astype(np.int8)  # (K,)
    return float(np.mean(ev2 == majority[None, :]))


def _plain(v: Any) -> Any:
    """numpy scalars -> Python ints/floats, nan -> None (strict JSON)."""
    if v is None or isinstance(v, int):  # bool is an int too
        return v
    if isinstance(v, (np.integer, np.bool_)):
        return int(v)
    f = float(v)
    return None if math.isnan(f) else f


def summary(proba: Any, y: Any, y_train: Any = None, thresholds: Sequence[float] = (0.1, 0.6)) -> dict[str, Any]:
    """All headline metrics in one flat, JSON-able dict (plain ints/floats/None, no numpy types).

    Keys: ``accuracy``, ``trivial_accuracy``, ``majority_accuracy`` (only with ``y_train``), ``TP``, ``FP``,
    ``FN``, ``TN``, ``precision``, ``recall``, ``mean_entropy_correct``, ``mean_entropy_incorrect``,
    ``n_correct``, ``n_incorrect``, ``coverage@S_c`` and ``accuracy@S_c`` per threshold (formatted with ``:g``,
    e.g. ``coverage@0.1``), ``n_instances`` (B) and ``n_pairs`` (K, pairs per instance). Undefined values are None.
    """
    p = _check_proba(proba)
    labels = _check_labels(y, shape=p.shape[:-1])
    out: dict[str, Any] = {"accuracy": pair_accuracy(p, labels), "trivial_accuracy": trivial_accuracy(labels)}
    if y_train is not None:
        out["majority_accuracy"] = majority_accuracy(y_train, labels)
    out.update(confusion(p, labels))
    out.update(entropy_stats(p, labels))
    sc = [float(t) for t in thresholds]
    if sc:
        curve = coverage_curve(p, labels, sc)
        for t, cov, acc in zip(sc, curve["coverage"], curve["accuracy"]):
            out[f"coverage@{t:g}"], out[f"accuracy@{t:g}"] = cov, acc
    out["n_instances"] = 1 if p.ndim == 2 else p.shape[0]
    out["n_pairs"] = p.shape[-2]
    return {k: _plain(v) for k, v in out.items()}
