"""The general model in the reconstruction contract, and its evaluation on lattices never seen in training.

``General`` (``isingviz.methods.general``, re-exported here) is the general model in the reconstruction contract.
``evaluation_set`` draws unseen lattices for one (L, T, noise) cell and
``evaluate_grid`` runs several methods on the same instances, with accuracy and wall time per instance;
``evaluate_unseen`` is one such cell for the general model beside the inversion and the trivial guess.

Calibration is kept additive so it can be summed over cells (or sweep tasks): ``calibration_counts`` counts one
cell's pairs per reliability bin of p(edge) and per entropy threshold S_c, ``merge_calibration`` sums any number of
them into a reliability diagram and an entropy/coverage curve; ``calibration`` does both over a (T, noise) grid.
``one_instance_ms`` times one instance through the model.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..dynamics import simulate
from ..lattice import GENERATORS, adjacency_to_pairs, make_lattice
from ..methods.base import Reconstructor
from ..methods.binary import BinaryML
from ..methods.cnn import CNN
from ..methods.general import General, as_general_net, predict_edge_proba
from ..methods.kinetic import TAP, MLKinetic, NaiveMF
from ..methods.physics import Inversion
from ..methods.replica import ReplicaML
from ..methods.stats import VAR
from ..metrics import pair_entropy

CALIBRATION_BINS = 10  # reliability bins of p(edge): [0, 0.1), ..., [0.9, 1]
# Entropy thresholds S_c of the coverage curve; 0.7 > ln 2 = 0.693 keeps every pair, so the curve ends at coverage 1.
CALIBRATION_THRESHOLDS = (0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.7)
# The methods compared with the general model, in table order (see ``comparison_methods``).
METHODS = ("general", "general_raw", "general_r1", "inversion", "binary_ml", "replica_ml", "var", "naive_mf", "tap",
           "ml_kinetic", "cnn")  # fmt: skip
BINARY_ML_MAX_L = 12  # the exhaustive binary decoder tries 2^(L-1) sets per spin: feasible up to here
REPLICA_ML_MAX_L = 16  # the replica decoder: exhaustive to L = 12, a local search above; replica data only
CONFIDENT = 0.1  # entropy below which a pair counts as confidently decided (the S_c of the honesty check)


def comparison_methods(
    model: Any, cnn_file: str | os.PathLike | bytes | None = None, wanted: Sequence[str] = METHODS
) -> dict[str, Callable[[int], Reconstructor | None]]:
    """``evaluate_grid`` factories of the ``wanted`` methods (``METHODS`` order), each ``f(L) -> Reconstructor | None``.

    ``general``: the model (``GeneralNet``, ``LoadedModel`` or file) as ``General`` ships it (its own rounds, the
    evidence gate on Eq. 1 data, its confidence head on replica data); ``general_raw``: the same network alone,
    without gate or head (the "before"); the factories
    return ONE shared ``General`` each, so after ``evaluate_grid`` their ``proba_`` hold the last cell's
    probabilities (no second forward pass for calibration). ``general_r1``: the same weights stopped after one
    refinement round. ``inversion``; ``binary_ml`` (L <= ``BINARY_ML_MAX_L`` only); ``replica_ml`` (replica data,
    L <= ``REPLICA_ML_MAX_L``; ``evaluate_grid`` skips it on mean-field data); ``var`` and the kinetic estimators
    ``naive_mf``, ``tap``, ``ml_kinetic`` (top-E, told the true E); ``cnn``: the fixed-L CNN in ``cnn_file`` (at
    its own L only; left out without a file).
    """
    unknown = sorted(set(wanted) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown methods {unknown}; allowed: {', '.join(METHODS)}")
    net = as_general_net(model)
    general, raw = General(net), General(net, use_head=False, gate=False)
    cnn = CNN(cnn_file if isinstance(cnn_file, bytes) else str(cnn_file)) if cnn_file is not None else None
    cnn_L = cnn.model.config.L if cnn is not None else None
    factories: dict[str, Callable[[int], Reconstructor | None]] = {
        "general": lambda L: general,
        "general_raw": lambda L: raw,
        "general_r1": lambda L: General(net, rounds=1),
        "inversion": lambda L: Inversion(),
        "binary_ml": lambda L: BinaryML() if L <= BINARY_ML_MAX_L else None,
        "replica_ml": lambda L: ReplicaML() if L <= REPLICA_ML_MAX_L else None,
        "var": lambda L: VAR(),
        "naive_mf": lambda L: NaiveMF(),
        "tap": lambda L: TAP(),
        "ml_kinetic": lambda L: MLKinetic(),
        "cnn": lambda L: cnn if L == cnn_L else None,
    }
    return {k: factories[k] for k in METHODS if k in wanted}


def default_edges(L: int) -> int:
    """Edge count of the evaluation's random lattices: 25 (L / 12)^2 (the paper's 25 at L = 12, 44 at L = 16)."""
    return int(round(25 * (L / 12) ** 2))


def evaluation_set(
    L: int,
    T: float,
    noise: float,
    n: int,
    seed: int,
    family: str = "random",
    tau: float = 0.1,
    M: int = 50,
    mean_degree: float | None = None,
    replicas: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """n unseen lattices of ``family``, one instance each: X (n, L, M), y (n, K).

    Random lattices have ``default_edges(L)`` edges, or round(mean_degree L / 2) when ``mean_degree`` is given;
    other families use their default parameters. Every lattice is randomly relabelled. ``replicas`` R > 0: heat-bath
    dynamics averaged over R replicas (``simulate(mode="stochastic")``) instead of Eq. 1.
    """
    key = [seed, L, int(T * 1000), int(noise * 1e6), 7] + ([int(replicas)] if replicas else [])
    rng = np.random.default_rng(key)
    if family == "random":
        E = default_edges(L) if mean_degree is None else int(round(mean_degree * L / 2))
        A = np.stack([make_lattice("random", L, rng, n_edges=min(E, L * (L - 1) // 2)) for _ in range(n)])
    else:
        A = np.stack([make_lattice(family, L, rng) for _ in range(n)])
    p = [rng.permutation(L) for _ in range(n)]
    A = np.stack([a[np.ix_(q, q)] for a, q in zip(A, p)])
    s0 = rng.choice(np.array([-1.0, 1.0]), (n, L))
    if replicas:
        X = simulate(A, s0, T, tau, M, mode="stochastic", replicas=replicas, seed=int(rng.integers(2**62)))
    else:
        X = simulate(A, s0, T, tau, M)
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return X, np.stack([adjacency_to_pairs(a) for a in A])


def evaluate_grid(
    methods: dict[str, Callable[[int], Reconstructor | None]],
    Ls: Sequence[int] = (8, 12, 16, 24, 32),
    Ts: Sequence[float] = (0.4, 1.0, 5.0, 10.0, 50.0),
    noises: Sequence[float] = (0.0, 1e-3, 1e-2),
    n: int = 20,
    seed: int = 1000,
    family: str = "random",
    tau: float = 0.1,
    M: int = 50,
    progress: Callable[[dict], None] | None = None,
    mean_degree: float | None = None,
    replicas: int = 0,
) -> list[dict[str, Any]]:
    """Every method on the same unseen instances of every (L, T, noise) cell.

    ``methods`` maps a name to a factory ``f(L) -> Reconstructor`` (None: not feasible at that L); methods whose
    default rule is top-E are told each instance's true edge count; ``replicas`` R > 0: heat-bath replica data,
    and every method is told R (``replica_ml`` runs only then). Returns rows {L, T, noise, replicas, family, n,
    edges (mean), trivial accuracy, and per method: accuracy, ms per instance, and in ``by_instance`` the accuracy
    of each instance (for paired errors); for methods with probabilities, in ``honesty`` the entropy check
    (``honesty``)}.
    """
    rows = []
    for L in Ls:
        for T in Ts:
            for noise in noises:
                X, y = evaluation_set(L, T, noise, n, seed, family, tau, M, mean_degree, replicas)
                row: dict[str, Any] = {
                    "L": L,
                    "T": T,
                    "noise": noise,
                    "replicas": int(replicas),
                    "family": family,
                    "n": n,
                    "edges": float(y.sum(1).mean()),
                    "trivial": float(1 - y.mean()),
                }
                by_instance: dict[str, list[float]] = {"trivial": per_instance(1 - y.mean(1))}
                honest: dict[str, dict[str, Any]] = {}
                know: dict[str, Any] = {"T": T, "tau": tau} | ({"replicas": int(replicas)} if replicas else {})
                for name, make in methods.items():
                    rec = make(L)
                    if rec is None or (name == "replica_ml" and not replicas):
                        continue
                    t0 = time.perf_counter()
                    with warnings.catch_warnings():  # the CNN warns away from its training T: intended here
                        warnings.simplefilter("ignore")
                        if rec.default_rule == "top_e":  # told the true edge count
                            pred = rec.predict(X, n_edges=y.sum(1), **know)
                        else:
                            pred = rec.predict(X, **know)
                    row[name] = float((pred == y).mean())
                    row[f"{name}_ms"] = 1e3 * (time.perf_counter() - t0) / n
                    by_instance[name] = per_instance((pred == y).mean(1))
                    if rec.has_proba and rec.proba_ is not None:
                        honest[name] = honesty(rec.proba_[..., 1], y)
                row["by_instance"] = by_instance
                row["honesty"] = honest
                rows.append(row)
                if progress:
                    progress(row)
    return rows


def per_instance(acc: np.ndarray) -> list[float]:
    """Accuracies of single instances, rounded to 6 decimals: each is k / K with K <= 2016 pairs, so k is still
    exact, and a full sweep's document stays a few MB instead of ~10."""
    return np.round(np.asarray(acc, dtype=np.float64), 6).tolist()


def honesty(p_edge: np.ndarray, y: np.ndarray, confident: float = CONFIDENT) -> dict[str, Any]:
    """Does a method's entropy tell its wrong pairs from its right ones? p(edge) (B, K), labels y (B, K).

    Returns ``wrong`` (pairs decided wrongly by p > 1/2), ``entropy_wrong`` / ``entropy_right`` (mean entropy S of
    each; None when there are none) and ``confident_wrong`` (share of the wrong pairs with S < ``confident``).
    """
    p = np.clip(np.asarray(p_edge, dtype=np.float64), 0.0, 1.0)
    S = pair_entropy(np.stack([1.0 - p, p], axis=-1))
    wrong = (p > 0.5) != np.asarray(y).astype(bool)
    n_wrong = int(wrong.sum())
    return {
        "wrong": n_wrong,
        "entropy_wrong": float(S[wrong].mean()) if n_wrong else None,
        "entropy_right": float(S[~wrong].mean()) if n_wrong < S.size else None,
        "confident_wrong": float((S[wrong] < confident).mean()) if n_wrong else None,
    }


def paired_margin(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Mean of the per-instance accuracy differences a - b and its standard error (the instances are paired)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else 0.0
    return {"margin": float(d.mean()), "se": se}


def _check_cell(L: int, T: float, noise: float, n: int, family: str) -> None:
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or not 3 <= L <= 64:
        raise ValueError(f"L must be an integer in 3..64 (spins), got {L!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1 (unseen lattices, one instance each), got {n!r}")
    if not (isinstance(T, (int, float, np.number)) and np.isfinite(T) and T > 0):
        raise ValueError(f"T must be a finite temperature > 0, got {T!r}")
    if not (isinstance(noise, (int, float, np.number)) and np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be an observation noise sigma >= 0, got {noise!r}")
    if family not in GENERATORS:
        raise ValueError(f"unknown lattice family {family!r}; allowed: {', '.join(GENERATORS)}")


def evaluate_unseen(
    model: Any,
    *,
    L: int = 12,
    T: float = 1.0,
    noise: float = 0.0,
    n: int = 100,
    seed: int = 1000,
    family: str = "random",
    tau: float = 0.1,
    M: int = 50,
) -> dict[str, Any]:
    """The general model, the physics inversion and the trivial guess on the same ``n`` unseen lattices of one cell.

    ``model``: a ``GeneralNet``, a ``LoadedModel`` of one, or a model file. Returns ``evaluate_grid``'s row
    (L, T, noise, family, n, edges, trivial, general, general_ms, inversion, inversion_ms) plus the general
    model's confident pairs: ``coverage@0.1`` and ``accuracy@0.1`` (pairs with entropy S < 0.1; accuracy None
    when none is kept).
    """
    _check_cell(L, T, noise, n, family)
    rec = General(model)
    methods: dict[str, Callable[[int], Reconstructor | None]] = {
        "general": lambda _: rec,  # one reconstructor, so its proba_ below is the timed forward pass
        "inversion": lambda _: Inversion(),
    }
    row = evaluate_grid(methods, [int(L)], [float(T)], [float(noise)], int(n), seed, family, tau, M)[0]
    _, y = evaluation_set(int(L), float(T), float(noise), int(n), seed, family, tau, M)  # the same instances again
    cal = merge_calibration([calibration_counts(rec.proba_[..., 1], y, thresholds=[0.1])])
    return {**row, "coverage@0.1": cal["coverage"]["coverage"][0], "accuracy@0.1": cal["coverage"]["accuracy"][0]}


def calibration_counts(p_edge: Any, y: Any, thresholds: Sequence[float] = CALIBRATION_THRESHOLDS) -> dict[str, Any]:
    """Additive calibration counts of pair probabilities p(edge) (B, K) or (K,) against labels y (same shape, 1 = edge).

    Per reliability bin b of p(edge) (``CALIBRATION_BINS`` bins of width 0.1; p = 1 falls in the last):
    ``count``, ``sum_p`` (sum of p(edge)), ``sum_edge`` (edges among them). Per entropy threshold S_c in
    ``thresholds`` (entropy S = -p ln p - (1-p) ln(1-p), ``metrics.pair_entropy``): ``n_kept`` (pairs with
    S < S_c) and ``n_correct`` (of those, predicted right by p > 1/2). Totals: ``pairs`` and ``correct``.
    Every count is a plain sum, so counts of disjoint sets of pairs add up (``merge_calibration``).
    """
    p = np.asarray(p_edge, dtype=np.float64)
    labels = np.asarray(y)
    if p.ndim not in (1, 2) or p.size == 0:
        raise ValueError(f"p_edge must be a non-empty array (B, K) or (K,), got shape {p.shape}")
    if labels.shape != p.shape:
        raise ValueError(f"y must have the shape of p_edge {p.shape}, got {labels.shape}")
    if not np.all(np.isin(labels, (0, 1))):
        raise ValueError("y entries must be 0 (no edge) or 1 (edge)")
    sc = np.asarray(thresholds, dtype=np.float64)
    if sc.ndim != 1 or sc.size == 0 or not np.all(np.isfinite(sc)):
        raise ValueError(f"thresholds must be a non-empty list of finite entropies S_c, got {thresholds!r}")
    s = pair_entropy(np.stack([1.0 - p, p], axis=-1)).ravel()  # (N,); checks 0 <= p <= 1
    p, edge = np.clip(p, 0.0, 1.0).ravel(), labels.astype(bool).ravel()  # (N,)
    ok = (p > 0.5) == edge  # (N,)
    bins = np.minimum((p * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)  # (N,)
    kept = s[:, None] < sc[None, :]  # (N, n_thresholds)
    return {
        "thresholds": sc.tolist(),
        "count": np.bincount(bins, minlength=CALIBRATION_BINS).tolist(),
        "sum_p": np.bincount(bins, weights=p, minlength=CALIBRATION_BINS).tolist(),
        "sum_edge": np.bincount(bins, weights=edge, minlength=CALIBRATION_BINS).astype(int).tolist(),
        "n_kept": kept.sum(axis=0).tolist(),
        "n_correct": (kept & ok[:, None]).sum(axis=0).tolist(),
        "pairs": int(p.size),
        "correct": int(ok.sum()),
    }


_COUNT_KEYS = ("thresholds", "count", "sum_p", "sum_edge", "n_kept", "n_correct", "pairs", "correct")


def merge_calibration(counts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Sum ``calibration_counts`` of disjoint sets of pairs into a reliability diagram and an entropy/coverage curve.

    Returns ``reliability``: [{"bin": [lo, hi], "count", "mean_p", "edge_frequency"}] for the non-empty bins;
    ``coverage``: {"thresholds", "coverage" (kept / all pairs), "accuracy" (right among the kept, None where none
    is kept), "n_kept"}; ``accuracy`` (all pairs, p > 1/2 = edge) and ``pairs``. All counts must share thresholds.
    """
    counts = list(counts)
    if not counts:
        raise ValueError("merge_calibration needs at least one calibration_counts result, got none")
    for c in counts:
        if not isinstance(c, dict) or set(_COUNT_KEYS) - set(c):
            raise ValueError(f"each item must be a calibration_counts result with keys {', '.join(_COUNT_KEYS)}")
        if list(c["thresholds"]) != list(counts[0]["thresholds"]) or len(c["count"]) != len(counts[0]["count"]):
            raise ValueError("calibration counts to merge must share their thresholds and bins")
    total = {k: np.sum([np.asarray(c[k], dtype=np.float64) for c in counts], axis=0) for k in _COUNT_KEYS[1:]}
    nb = len(total["count"])
    reliability = [
        {
            "bin": [b / nb, (b + 1) / nb],
            "count": int(total["count"][b]),
            "mean_p": float(total["sum_p"][b] / total["count"][b]),
            "edge_frequency": float(total["sum_edge"][b] / total["count"][b]),
        }
        for b in range(nb)
        if total["count"][b] > 0
    ]
    pairs, kept = int(total["pairs"]), total["n_kept"]
    curve = {
        "thresholds": [float(t) for t in counts[0]["thresholds"]],
        "coverage": [float(k / pairs) for k in kept],
        "accuracy": [float(c / k) if k else None for c, k in zip(total["n_correct"], kept)],
        "n_kept": [int(k) for k in kept],
    }
    return {"reliability": reliability, "coverage": curve, "accuracy": float(total["correct"] / pairs), "pairs": pairs}


def calibration(
    model: Any,
    Ts: Sequence[float],
    noises: Sequence[float],
    n: int,
    L: int = 12,
    seed: int = 1000,
    thresholds: Sequence[float] = CALIBRATION_THRESHOLDS,
) -> dict[str, Any]:
    """Reliability diagram and entropy/coverage curve of the general model on unseen random lattices (default L = 12).

    Pools ``n`` instances (``evaluation_set``, tau = 0.1, M = 50) of every (T, noise) cell; returns
    ``merge_calibration``'s dict. ``model``: a ``GeneralNet``, a ``LoadedModel`` of one, or a model file.
    """
    net = as_general_net(model)
    counts = []
    for T in Ts:
        for noise in noises:
            X, y = evaluation_set(L, T, noise, n, seed=seed)
            counts.append(calibration_counts(predict_edge_proba(net, X, T, 0.1, threads=1), y, thresholds))
    return merge_calibration(counts)


def one_instance_ms(model: Any, L: int = 12, repeats: int = 50, rounds: int | None = None) -> float:
    """Median wall time (ms) of one instance (L spins, M = 50, T = 1) through ``General`` on one CPU thread.

    ``repeats`` timed calls after 3 untimed warm-up calls; ``rounds`` overrides the model's refinement rounds.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    X, _ = evaluation_set(L, 1.0, 0.0, 1, seed=1000)
    rec = General(model, threads=1, rounds=rounds)
    times = []
    for _ in range(repeats + 3):
        t0 = time.perf_counter()
        rec.predict_proba(X, T=1.0, tau=0.1)
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times[3:]))
