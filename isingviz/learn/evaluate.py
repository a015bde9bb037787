"""Evaluate a saved model on freshly drawn instances, and read out one instance's pair predictions.

``evaluate_model`` redraws, from the model's own dataset recipe (its metadata ``"dataset"``), a test split of
the training lattices with initial states never used in training, and a generalization split on lattices never
seen in training; both are simulated anew (optionally at another T or noise level) and scored with
``metrics.summary`` plus the entropy coverage curve (the paper's Fig. 2b). Everything returned is plain JSON.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import Dataset, DatasetSpec, fresh_general_split, fresh_test_split
from ..dynamics import simulate
from ..lattice import adjacency_to_pairs, from_edges, validate_adjacency
from ..metrics import coverage_curve, pair_entropy, summary, trivial_accuracy
from .store import LoadedModel


def _none_if_nan(values: np.ndarray) -> list[Any]:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in np.asarray(values).tolist()]


def evaluate_arrays(
    model: LoadedModel,
    X: np.ndarray,
    y: np.ndarray,
    y_train: np.ndarray | None = None,
    thresholds: Sequence[float] = (0.1, 0.6),
) -> dict[str, Any]:
    """Score ``model`` on instances X (B, L, M) with pair labels y (B, K) (1 = edge).

    Returns ``metrics.summary(proba, y, y_train, thresholds)`` (accuracy next to the trivial "no edge" guess, the
    majority guess of ``y_train`` (N, K) if given, confusion counts, entropies, coverage/accuracy at each S_c)
    plus ``"coverage_curve"``: lists ``thresholds``, ``coverage``, ``accuracy`` (None where no pair is kept) and
    ``n_kept`` over 50 entropy thresholds from 0 to ln 2.
    """
    proba = model.predict_proba(X)  # (B, K, 2)
    out = summary(proba, y, y_train=y_train, thresholds=thresholds)
    curve = coverage_curve(proba, y)
    out["coverage_curve"] = {k: _none_if_nan(v) for k, v in curve.items()}
    return out


def model_dataset_spec(model: LoadedModel) -> DatasetSpec:
    """The resolved ``DatasetSpec`` (explicit training lattices) stored in a model's metadata; ValueError if none."""
    d = model.metadata.get("dataset")
    if not isinstance(d, dict) or not d.get("lattices"):
        raise ValueError(
            f"model {model.name!r} has no dataset metadata with its training lattices, so fresh test instances"
            " cannot be drawn; evaluate it on your own instances (evaluate_arrays) instead"
        )
    spec = DatasetSpec.from_dict(d)
    if (spec.L, spec.M) != (model.config.L, model.config.M):
        raise ValueError(
            f"the model's dataset has L={spec.L}, M={spec.M} but its network expects L={model.config.L},"
            f" M={model.config.M}"
        )
    return spec


def evaluate_model(
    model: LoadedModel,
    *,
    n_test: int = 3000,
    n_general: int = 3000,
    n_general_lattices: int = 10,
    seed: int = 1,
    T: float | None = None,
    noise: float | None = None,
    thresholds: Sequence[float] = (0.1, 0.6),
) -> dict[str, Any]:
    """Evaluate ``model`` on fresh instances of its training lattices and of unseen lattices.

    Args:
        model: a loaded model whose metadata holds its resolved dataset recipe (``Dataset.spec.to_dict()``).
        n_test: instances spread over the training lattices, from initial states training never used (0: skip).
        n_general: instances spread over ``n_general_lattices`` new lattices of the same family (0: skip).
        seed: draws the states and new lattices (the test split uses ``seed``, the generalization split
            ``seed + 1``); same seed, same numbers.
        T, noise: simulate at this temperature / observation noise instead of the model's own.
        thresholds: entropy thresholds S_c reported as ``coverage@S_c`` / ``accuracy@S_c``.

    Returns:
        JSON-able dict: ``model``, ``T``, ``tau``, ``M``, ``noise``, ``test`` and ``general`` (each the
        ``evaluate_arrays`` dict plus ``n_lattices``, or None when skipped) and ``seconds`` (wall time).
    """
    t0 = time.perf_counter()
    spec = model_dataset_spec(model)
    changes: dict[str, Any] = {}
    if T is not None:
        changes["T"] = float(T)
    if noise is not None:
        changes["noise"] = float(noise)
    for name, v in (("n_test", n_test), ("n_general", n_general), ("n_general_lattices", n_general_lattices)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
    if n_general > 0 and n_general_lattices < 1:
        raise ValueError("n_general > 0 needs n_general_lattices >= 1")
    y_train = np.stack([adjacency_to_pairs(from_edges(spec.L, e)) for e in spec.lattices or []])  # (N_L, K)
    result: dict[str, Any] = {
        "model": model.name,
        "T": changes.get("T", model.T),
        "tau": model.tau,
        "M": model.config.M,
        "noise": changes.get("noise", spec.noise),
        "test": None,
        "general": None,
    }
    if n_test > 0:
        split = fresh_test_split(spec, int(n_test), int(seed), **changes)
        result["test"] = {**evaluate_arrays(model, split.X, split.y, y_train, thresholds), "n_lattices": len(y_train)}
    if n_general > 0:
        lattices, split = fresh_general_split(spec, int(n_general_lattices), int(n_general), int(seed) + 1, **changes)
        scores = evaluate_arrays(model, split.X, split.y, y_train, thresholds)
        result["general"] = {**scores, "n_lattices": int(lattices.shape[0])}
    result["seconds"] = time.perf_counter() - t0
    return result


def dataset_metrics(model: LoadedModel, data: Dataset) -> dict[str, Any]:
    """Headline metrics of a model on a ``Dataset``'s own splits (what ``isingviz train`` stores in the file).

    Flat ``metrics.summary`` of the test split (plus ``test_accuracy``, the same as ``accuracy``) and, when the
    dataset has a generalization split, its summary under ``"general"``; ``y_train`` is the training labels.
    """
    out: dict[str, Any] = {}
    if len(data.test):
        out = summary(model.predict_proba(data.test.X), data.test.y, y_train=data.train.y)
        out["test_accuracy"] = out["accuracy"]
    if len(data.general):
        out["general"] = summary(model.predict_proba(data.general.X), data.general.y, y_train=data.train.y)
    return out


def simulate_for_model(
    model: LoadedModel, A: Any, s0: Any, *, T: float | None = None, noise: float | None = None, seed: int | None = None
) -> np.ndarray:
    """Instances on lattice ``A`` (L, L) from ``s0`` (L,) or (B, L) under the model's own conditions.

    Uses the model's T, tau and M and its dataset's mode, replicas and noise; ``T`` and ``noise`` override.
    Returns (L, M) or (B, L, M) as ``dynamics.simulate``.
    """
    spec = model.metadata.get("dataset") or {}
    T = model.T if T is None else T
    noise = spec.get("noise", 0.0) if noise is None else noise
    mode, replicas = spec.get("mode", "meanfield"), spec.get("replicas", 100)
    return simulate(A, s0, T, model.tau, model.config.M, mode=mode, replicas=replicas, noise=noise, seed=seed)


def predict_pairs(
    model: LoadedModel, instance: np.ndarray, A: Any = None, T: float | None = None, proba: Any = None
) -> dict[str, Any]:
    """One instance (L, M) -> a per-pair table, scored against the lattice ``A`` (L, L) when it is given.

    ``T`` is the instance's temperature, needed by the general model (a CNN reads its own T). ``proba`` (K, 2):
    the pair probabilities when they were computed elsewhere (the general model as shipped, with its evidence gate:
    ``isingviz.methods.general.general_proba``); by default the network's, ``model.predict_proba``.

    Returns ``pairs``: [{"i", "j", "p_edge", "entropy", "predicted", "true"}] in ``triu_indices(L, 1)`` order
    ("true" is None without ``A``), ``n_predicted_edges``, and with ``A``: ``accuracy``, ``trivial_accuracy``
    (the "no edge anywhere" guess) and ``n_true_edges`` (else None).
    """
    x = np.asarray(instance, dtype=np.float64)
    if proba is None:
        proba = model.predict_proba(x, T=T)  # (K, 2); checks the shape
    else:
        proba = np.asarray(proba, dtype=np.float64)
        K = x.shape[0] * (x.shape[0] - 1) // 2 if x.ndim == 2 else -1
        if proba.shape != (K, 2):
            raise ValueError(f"proba must have shape (L(L-1)/2, 2) = ({K}, 2) for this instance, got {proba.shape}")
    s = pair_entropy(proba)  # (K,)
    pred = (proba[:, 1] > proba[:, 0]).astype(int)  # (K,)
    truth = None
    if A is not None:
        A = validate_adjacency(A)
        if A.shape[0] != x.shape[0]:
            raise ValueError(f"the lattice has L={A.shape[0]} spins but the instance has {x.shape[0]}")
        truth = adjacency_to_pairs(A).astype(int)  # (K,)
    iu, ju = np.triu_indices(x.shape[0], 1)
    pairs = [
        {
            "i": int(i),
            "j": int(j),
            "p_edge": float(proba[k, 1]),
            "entropy": float(s[k]),
            "predicted": int(pred[k]),
            "true": None if truth is None else int(truth[k]),
        }
        for k, (i, j) in enumerate(zip(iu, ju))
    ]
    return {
        "pairs": pairs,
        "n_predicted_edges": int(pred.sum()),
        "n_true_edges": None if truth is None else int(truth.sum()),
        "accuracy": None if truth is None else float(np.mean(pred == truth)),
        "trivial_accuracy": None if truth is None else trivial_accuracy(truth),
    }
