"""Shared pieces of the sweeps (``sweeps``): recipes from JSON configs, training, fresh instances, and the score
block that puts every accuracy beside the trivial guess and the best non-learned method on the same instances.

A task config may carry three optional dicts of overrides, so tests can shrink everything: ``"dataset"``
(``DatasetSpec`` fields, e.g. ``{"L": 6, "M": 12, "family_params": {"n_edges": 5}}``), ``"model"`` (``ModelConfig``
fields) and ``"train"`` (``TrainConfig`` fields).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import torch

from ..data import DatasetSpec, Split, build_dataset, simulate_split, states_from_integers, training_states
from ..lattice import adjacency_to_pairs, from_edges
from ..learn.evaluate import model_dataset_spec
from ..learn.model_config import ModelConfig
from ..learn.store import LoadedModel, load_model, model_to_bytes
from ..learn.train import TrainConfig, train
from ..methods.registry import reconstruct
from ..metrics import summary

# Methods that stand beside every evaluation (the strongest we know; template only where it was given candidates).
COMPARE_METHODS = ("inversion", "binary_ml", "template")
FIXED_TIME = "2000-01-01T00:00:00Z"  # the "created" stamp of model files a task returns (see train_and_save)
SCORE_KEYS = (
    "accuracy",
    "trivial_accuracy",
    "majority_accuracy",
    "mean_entropy_correct",
    "mean_entropy_incorrect",
    "coverage@0.1",
    "accuracy@0.1",
    "coverage@0.6",
    "accuracy@0.6",
    "n_instances",
)


def dataset_spec(cfg: dict[str, Any], **fields: Any) -> DatasetSpec:
    """``DatasetSpec`` from the config's ``"dataset"`` overrides plus ``fields`` (which win); not yet validated."""
    return DatasetSpec(**{**cfg.get("dataset", {}), **fields})


def model_config(cfg: dict[str, Any], spec: DatasetSpec, encoding: str | None = None) -> ModelConfig:
    """``ModelConfig`` from the config's ``"model"`` overrides; L, M, tau follow the dataset."""
    d = dict(cfg.get("model", {}))
    if "channels" in d:
        d["channels"] = tuple(d["channels"])
    if encoding is not None:
        d["encoding"] = encoding
    return ModelConfig(**{**d, "L": spec.L, "M": spec.M, "tau": spec.tau})


def train_config(cfg: dict[str, Any], epochs: int, seed: int = 0) -> TrainConfig:
    """``TrainConfig`` with ``epochs``, ``seed`` and the current torch thread count (1 inside a sweep worker)."""
    d = {"epochs": int(epochs), "seed": int(seed), "threads": torch.get_num_threads(), "device": "auto"}
    return TrainConfig(**{**d, **cfg.get("train", {})})


def lattice_labels(lattices: np.ndarray) -> np.ndarray:
    """Lattices (N, L, L) -> pair labels (N, K) int8."""
    return np.stack([adjacency_to_pairs(A) for A in lattices])


def fit_model(
    spec: DatasetSpec,
    train_split: Split,
    test_split: Split | None,
    config: ModelConfig,
    tc: TrainConfig,
    init: LoadedModel | None = None,
) -> tuple[LoadedModel, list[dict[str, float]], float]:
    """Train on ``train_split`` (best epoch chosen on ``test_split``, as ``train.train`` does).

    Returns the network as a ``LoadedModel`` (metadata T, tau, dataset), a compact per-epoch history
    (epoch, train_loss, test_accuracy, seconds) and the training wall time in seconds.
    """
    test = (test_split.X, test_split.y) if test_split is not None and len(test_split) else (None, None)
    kw = {"init": init.model, "init_config": init.config} if init is not None else {}
    res = train(train_split.X, train_split.y, *test, config=config, train_config=tc, **kw)
    keys = ("epoch", "train_loss", "test_accuracy", "seconds")
    history = [{k: float(r[k]) for k in keys if k in r} for r in res.history]
    seconds = history[-1]["seconds"] if history else 0.0
    meta = {"T": spec.T, "tau": spec.tau, "dataset": spec.to_dict(), "best_epoch": res.best_epoch, "device": res.device}
    return LoadedModel(metadata=meta, config=res.config, model=res.model), history, seconds


def train_and_save(cfg: dict[str, Any], encoding: str | None, name: str) -> dict[str, Any]:
    """A first-stage task: train the model ``cfg`` describes (T, n_train, n_test, seed, epochs, train_seed and the
    dataset sizes) on fresh data; result: the model file's bytes for the next stage (``outputs["model"]``), the last
    epoch's test accuracy, training seconds and device."""
    spec = dataset_spec(cfg, T=cfg["T"], n_train=cfg["n_train"], n_test=cfg["n_test"], n_general=0, seed=cfg["seed"])
    data = build_dataset(spec)
    tc = train_config(cfg, cfg["epochs"], cfg["train_seed"])
    model, hist, secs = fit_model(data.spec, data.train, data.test, model_config(cfg, spec, encoding), tc)
    # The file is a later stage's input, named by its sha256: without wall times its bytes depend on the training
    # alone, so the same seeds give the same file on any engine, and a resumed sweep finds the same cache keys.
    steps = [{k: v for k, v in r.items() if k != "seconds"} for r in hist]
    data_bytes = model_to_bytes(model.model, model.config, T=spec.T, tau=spec.tau, dataset=data.spec.to_dict(),
                                train_config=tc.to_dict(), history=steps, name=name, created=FIXED_TIME)  # fmt: skip
    return {
        "outputs": {"model": data_bytes},
        "test_accuracy": hist[-1].get("test_accuracy") if hist else None,
        "train_seconds": secs,
        "device": model.metadata["device"],
    }


def _codes(states: np.ndarray) -> np.ndarray:
    """+/-1 states (n, L) -> integer codes (bit j = spin j is +1), the inverse of ``states_from_integers``."""
    return ((np.asarray(states) > 0).astype(np.int64) << np.arange(states.shape[1])).sum(axis=1)


def used_states(specs: list[DatasetSpec], n_lattices: int) -> list[set[int]]:
    """Per training lattice, the codes of every initial state (train and test) any of the resolved ``specs`` used."""
    used: list[set[int]] = [set() for _ in range(n_lattices)]
    for spec in specs:
        for i, s in enumerate(training_states(spec)[:n_lattices]):
            used[i].update(_codes(s).tolist())
    return used


def fresh_states(L: int, counts: list[int], used: list[set[int]] | None, rng: np.random.Generator) -> list[np.ndarray]:
    """Per lattice i, ``counts[i]`` distinct initial states (n, L) int8 avoiding the codes ``used[i]``."""
    out = []
    for i, c in enumerate(counts):
        taken = used[i] if used else set()
        free = np.setdiff1d(np.arange(2**L), np.fromiter(taken, dtype=np.int64, count=len(taken)))
        if c > free.size:
            raise ValueError(f"lattice {i} has only {free.size} unused initial states, {c} asked for")
        out.append(states_from_integers(rng.choice(free, size=int(c), replace=False), L))
    return out


def simulate_fresh(
    spec: DatasetSpec, lattices: np.ndarray, counts: list[int], used: list[set[int]] | None, seed: int
) -> Split:
    """Instances of ``lattices`` (N, L, L) under ``spec``'s T, noise, ... from fresh states (see ``fresh_states``)."""
    states = fresh_states(spec.L, counts, used, np.random.default_rng(seed))
    return simulate_split(lattices, np.asarray(counts), states, spec, seed)


def subset_index(n: int, k: int) -> np.ndarray:
    """``k`` evenly spaced indices of ``n`` instances (splits are grouped by lattice, so every lattice appears)."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(np.int64))


def compare_baselines(
    split: Split,
    pred: np.ndarray | None,
    T: float,
    tau: float,
    noise: float,
    candidates: np.ndarray | None = None,
    n: int = 100,
) -> dict[str, Any]:
    """Accuracy of the non-learned methods (``COMPARE_METHODS``) and of ``pred`` on the same ``n`` instances.

    ``pred`` (B, K) are the network's 0/1 predictions on ``split`` (or None). Returns ``n_instances``, ``methods``
    {name: accuracy}, ``model`` (the network's accuracy on the subset), ``trivial``, ``best_method`` and
    ``best_accuracy`` (the best of ``methods``); template runs only with ``candidates`` (the training lattices).
    """
    idx = subset_index(len(split), n)
    X, y = split.X[idx], split.y[idx]
    out: dict[str, Any] = {"n_instances": int(idx.size), "methods": {}}
    for name in COMPARE_METHODS:
        if name == "template" and candidates is None:
            continue
        kw: dict[str, Any] = {"T": T, "tau": tau, "noise": noise}
        if name == "template":
            kw["candidates"] = candidates
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["methods"][name] = reconstruct(name, X, **kw).accuracy(y)
    out["model"] = float(np.mean(pred[idx] == y)) if pred is not None else None
    out["trivial"] = float(np.mean(y == 0))
    best = max(out["methods"], key=out["methods"].get)
    out.update(best_method=best, best_accuracy=out["methods"][best])
    return out


def score(
    model: LoadedModel,
    split: Split,
    y_lattices: np.ndarray,
    *,
    noise: float = 0.0,
    candidates: np.ndarray | None = None,
    n_baseline: int = 100,
) -> dict[str, Any]:
    """The model on ``split``: ``metrics.summary`` headline keys (``SCORE_KEYS``; majority = per-pair majority of the
    training lattices ``y_lattices`` (N, K)) plus ``baseline`` (``compare_baselines`` on n_baseline instances)."""
    proba = model.predict_proba(split.X)  # (B, K, 2)
    s = summary(proba, split.y, y_train=y_lattices)
    out = {k: s.get(k) for k in SCORE_KEYS}
    pred = (proba[..., 1] > proba[..., 0]).astype(np.int8)
    if n_baseline > 0:
        out["baseline"] = compare_baselines(split, pred, model.T, model.tau, noise, candidates, n_baseline)
    return out


def trained_scores(
    model: LoadedModel,
    history: list[dict[str, Any]],
    seconds: float,
    test: Split,
    general: Split,
    lattices: np.ndarray,
    *,
    noise: float = 0.0,
    n_baseline: int = 100,
) -> dict[str, Any]:
    """The result keys of every training task: ``test`` (instances of the training ``lattices``, which template
    matching gets as candidates) and ``general`` (unseen lattices) ``score`` blocks, ``history``, ``best_epoch``,
    ``train_seconds``, ``device``."""
    ylat = lattice_labels(lattices)
    return {
        "test": score(model, test, ylat, noise=noise, candidates=lattices, n_baseline=n_baseline),
        "general": score(model, general, ylat, noise=noise, n_baseline=n_baseline),
        "history": history,
        "best_epoch": model.metadata["best_epoch"],
        "train_seconds": seconds,
        "device": model.metadata["device"],
    }


def load_base(source: bytes) -> tuple[LoadedModel, DatasetSpec, np.ndarray]:
    """A model file's bytes -> the model, its resolved dataset recipe, and its training lattices (N, L, L)."""
    model = load_model(source)
    spec = model_dataset_spec(model)
    return model, spec, np.stack([from_edges(spec.L, e) for e in spec.lattices or []])


def resolve(spec: DatasetSpec) -> tuple[DatasetSpec, np.ndarray]:
    """The spec with its training lattices filled in (drawn from its seed as ``build_dataset`` would), and them."""
    d = build_dataset(spec, n_train=spec.n_lattices, n_test=0, n_general=0, n_general_lattices=0)
    lattices = d.lattices
    edges = d.spec.lattices
    return dataclasses.replace(spec, lattices=edges, n_lattices=len(edges or [])), lattices
