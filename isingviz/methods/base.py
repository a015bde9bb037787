"""The contract shared by every reconstruction method (see ``isingviz.methods`` for the methods and registry).

A method is a ``Reconstructor`` subclass. Its constructor takes the method's own settings (ridge, search limits,
a network to wrap); what the method may *know* about the data is passed per call as keyword ``knowledge``
(``KNOWLEDGE`` lists the names). One call ``fit(instances, **knowledge)`` computes, for instances (B, L, M):

- ``scores_`` (B, K): a pair score in ``numpy.triu_indices(L, 1)`` order, larger = more likely an edge;
- ``proba_`` (B, K, 2) or None: probabilities, index 1 = edge, for methods that have them;
- ``results_``: a dict of diagnostics, always with ``seconds`` and ``seconds_per_instance`` (also ``last_seconds``).

``scores``, ``predict_proba`` and ``predict`` are the pure forms (fit, then read). ``predict`` turns scores into
0/1 edges by a stated rule (``apply_rule``): ``"threshold"`` (score > threshold; ties are no edge), or ``"top_e"``
(the E highest-scoring pairs of each instance, E known; ties go to the lower pair index).
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import numpy as np

from ..limits import NOISE_MAX, REPLICAS_MAX, check_float, check_int

Rule = Literal["threshold", "top_e"]
RULES = ("threshold", "top_e")
SATURATED = 1.0 - 1e-12  # |r| above this: tanh is saturated, artanh(r) carries no usable information

# What a method may be told about the data, by keyword. A method ignores knowledge it does not use, and
# refuses a call that lacks knowledge it needs; unknown names (typos) are refused.
KNOWLEDGE: dict[str, str] = {
    "T": "temperature T > 0 of the dynamics",
    "tau": "Euler time step tau, 0 < tau <= 1",
    "candidates": "(N, L, L) candidate lattices, one of which made each instance",
    "groups": "(B,) label per instance; instances with the same label share a lattice (pooled methods)",
    "noise": "observation noise sigma >= 0, if known",
    "replicas": "R >= 1, the number of heat-bath replicas averaged into each instance (stochastic data)",
    "n_edges": "edge count E of each instance's lattice, a scalar or (B,) (used by the top_e rule)",
}


def check_instances(instances: Any) -> tuple[np.ndarray, bool]:
    """Instances (B, L, M), or one (L, M) -> float64 array (B, L, M) and whether a single instance was given."""
    try:
        x = np.asarray(instances, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"instances must be a numeric array of shape (B, L, M); could not read them ({exc})") from None
    single = x.ndim == 2
    x = x[None] if single else x
    if x.ndim != 3:
        raise ValueError(f"instances must have shape (B, L, M), or (L, M) for one instance, got {np.shape(instances)}")
    B, L, M = x.shape
    if B < 1 or L < 2 or M < 2:
        raise ValueError(f"instances need B >= 1 instances, L >= 2 spins and M >= 2 time points, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("instances contain NaN or infinite values")
    return x, single


def check_T(T: Any) -> float:
    if T is None:
        raise ValueError("temperature T is needed (T=...)")
    if isinstance(T, bool) or not isinstance(T, (int, float, np.integer, np.floating)) or not np.isfinite(T) or T <= 0:
        raise ValueError(f"temperature T must be a finite number > 0, got {T!r}")
    return float(T)


def check_tau(tau: Any) -> float:
    if tau is None:
        raise ValueError("time step tau is needed (tau=...)")
    ok = not isinstance(tau, bool) and isinstance(tau, (int, float, np.integer, np.floating))
    if not ok or not np.isfinite(tau) or not 0 < tau <= 1:
        raise ValueError(f"time step tau must satisfy 0 < tau <= 1, got {tau!r}")
    return float(tau)


def check_replicas(R: Any) -> int:
    """R, the heat-bath replicas averaged into each instance: an integer from 1 to ``REPLICAS_MAX``."""
    return check_int("replicas R", R, 1, REPLICAS_MAX)


def check_n_edges(n_edges: Any, B: int, K: int) -> np.ndarray:
    """Edge count E, a scalar or one per instance -> int64 array (B,), each 0 <= E <= K."""
    try:
        e = np.asarray(n_edges)
    except Exception:  # ragged input
        raise ValueError(f"n_edges must be an integer or one integer per instance, got {n_edges!r}") from None
    if e.dtype == bool or not np.issubdtype(e.dtype, np.number) or np.any(e != np.round(e)):
        raise ValueError(f"n_edges must be an integer or one integer per instance, got {n_edges!r}")
    e = np.broadcast_to(e, (B,)) if e.ndim == 0 else e
    if e.shape != (B,):
        raise ValueError(f"n_edges must be a scalar or have shape ({B},), got shape {e.shape}")
    if np.any(e < 0) or np.any(e > K):
        raise ValueError(f"n_edges must lie between 0 and K={K} pairs, got {e.min()} .. {e.max()}")
    return e.astype(np.int64)


def check_groups(groups: Any, B: int) -> np.ndarray:
    """Lattice labels (B,) -> integer codes 0..G-1 (B,); None means all instances share one lattice."""
    if groups is None:
        return np.zeros(B, dtype=np.int64)
    g = np.asarray(groups)
    if g.shape != (B,):
        raise ValueError(f"groups must have one label per instance, shape ({B},), got {g.shape}")
    return np.unique(g, return_inverse=True)[1].reshape(B).astype(np.int64)


def apply_rule(scores: Any, rule: Rule = "threshold", threshold: float = 0.5, n_edges: Any = None) -> np.ndarray:
    """Pair scores (B, K) -> 0/1 edges (B, K) int8.

    - ``"threshold"``: edge where score > threshold (a score equal to the threshold is no edge).
    - ``"top_e"``: the ``n_edges`` (scalar or (B,)) highest scores of each instance are edges; among equal scores
      the lower pair index wins, so exactly E edges are returned.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must have shape (B, K), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or infinite values")
    if rule == "threshold":
        if threshold is None or not np.isfinite(threshold):
            raise ValueError(f"the threshold rule needs a finite threshold, got {threshold!r}")
        return (s > threshold).astype(np.int8)
    if rule == "top_e":
        if n_edges is None:
            raise ValueError("the top_e rule needs the edge count: pass n_edges=E (a scalar or one per instance)")
        e = check_n_edges(n_edges, s.shape[0], s.shape[1])
        order = np.argsort(-s, axis=1, kind="stable")  # (B, K) best first, ties by pair index
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(s.shape[1])[None, :].repeat(s.shape[0], 0), axis=1)
        return (rank < e[:, None]).astype(np.int8)
    raise ValueError(f"rule must be one of {RULES}, got {rule!r}")


def one_hot(pred: Any) -> np.ndarray:
    """0/1 predictions (B, K) -> probabilities (B, K, 2) that are 0 or 1 (index 1 = edge), for ``metrics``."""
    p = np.asarray(pred, dtype=np.float64)
    return np.stack([1.0 - p, p], axis=-1)


def pair_values(W: np.ndarray) -> np.ndarray:
    """Matrices (B, L, L) -> their upper-triangle entries (B, K) in ``numpy.triu_indices(L, 1)`` order."""
    i, j = np.triu_indices(W.shape[-1], 1)
    return W[:, i, j]


def pair_matrices(pairs: np.ndarray, L: int) -> np.ndarray:
    """Pair values (B, K) in ``numpy.triu_indices(L, 1)`` order -> symmetric matrices (B, L, L) with a zero
    diagonal: the inverse of ``pair_values``."""
    pairs = np.asarray(pairs)
    i, j = np.triu_indices(L, 1)
    W = np.zeros((pairs.shape[0], L, L), dtype=np.result_type(pairs.dtype, np.float64))
    W[:, i, j] = pairs
    W[:, j, i] = pairs
    return W


def svd_lstsq(X: np.ndarray, Y: np.ndarray, rcond: float = 1e-10, ridge: float = 0.0) -> np.ndarray:
    """Batched least squares W minimising |Y - W X|^2 for X (..., p, N) and Y (..., q, N) -> W (..., q, p).

    By SVD of X: singular values below ``rcond`` times the largest are dropped (minimum-norm solution where the
    samples do not span all p directions, as for the low-rank transients here); ``ridge`` adds Tikhonov damping
    ridge * s_max^2.
    """
    U, sv, Vt = np.linalg.svd(X, full_matrices=False)  # (..., p, k), (..., k), (..., k, N)
    top = sv[..., :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(sv > rcond * top, sv / (sv**2 + ridge * top**2), 0.0)  # (..., k)
    return ((Y @ np.swapaxes(Vt, -1, -2)) * inv[..., None, :]) @ np.swapaxes(U, -1, -2)


def fit_pooled(fn: Callable[..., np.ndarray], groups: np.ndarray, *series: np.ndarray) -> np.ndarray:
    """Pool the samples of every group: ``fn`` gets each series (B, L, N) of the group's instances concatenated
    along the sample axis, as (1, L, n N), and returns (1, ...); the result (B, ...) repeats it per instance.

    Groups may differ in size, so this loops over groups (one fit per lattice).
    """
    out: np.ndarray | None = None
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        res = fn(*(np.concatenate(list(a[idx]), axis=-1)[None] for a in series))  # (1, ...)
        if out is None:
            out = np.empty((groups.shape[0], *res.shape[1:]), dtype=res.dtype)
        out[idx] = res[0]
    assert out is not None
    return out


def increments(x: np.ndarray, tau: float) -> np.ndarray:
    """r(m) = (s(m+1) - (1 - tau) s(m)) / tau, shape (B, L, M-1): Eq. 1 says r_i(m) = tanh(sum_j A_ij s_j(m) / T)."""
    return (x[:, :, 1:] - (1.0 - tau) * x[:, :, :-1]) / tau


class Reconstructor:
    """Base class of every reconstruction method; subclasses implement ``_fit``.

    Class attributes: ``name`` (registry key), ``needs`` (knowledge a call must give), ``has_proba``,
    ``default_rule`` and ``default_threshold`` (how ``predict`` turns scores into edges unless told otherwise).
    """

    name: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()
    has_proba: ClassVar[bool] = False
    default_rule: ClassVar[Rule] = "threshold"
    default_threshold: ClassVar[float] = 0.5

    scores_: np.ndarray
    proba_: np.ndarray | None
    results_: dict[str, Any]
    last_seconds: float

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
        """Instances (B, L, M) float64 and checked knowledge -> scores (B, K) and proba (B, K, 2) or None."""
        raise NotImplementedError

    def _check_knowledge(self, knowledge: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(knowledge) - set(KNOWLEDGE))
        if unknown:
            raise ValueError(f"unknown knowledge {unknown}; a method may be told: {', '.join(KNOWLEDGE)}")
        missing = [k for k in self.needs if knowledge.get(k) is None]
        if missing:
            wants = "; ".join(f"{k}: {KNOWLEDGE[k]}" for k in missing)
            raise ValueError(f"method {self.name!r} needs {', '.join(missing)} ({wants})")
        know = dict(knowledge)
        if "T" in self.needs or know.get("T") is not None:
            know["T"] = check_T(know.get("T"))
        if "tau" in self.needs or know.get("tau") is not None:
            know["tau"] = check_tau(know.get("tau"))
        if know.get("replicas") is not None:
            know["replicas"] = check_replicas(know["replicas"])
        if know.get("noise") is not None:
            know["noise"] = check_float("observation noise sigma", know["noise"], 0.0, NOISE_MAX)
        return know

    def fit(self, instances: Any, **knowledge: Any) -> Reconstructor:
        """Compute ``scores_`` (B, K), ``proba_`` (B, K, 2) or None, ``results_`` and ``last_seconds``; returns self."""
        x, self._single = check_instances(instances)
        know = self._check_knowledge(knowledge)
        self.results_ = {}
        t0 = time.perf_counter()
        scores, proba = self._fit(x, know)
        self.last_seconds = time.perf_counter() - t0
        if not np.all(np.isfinite(scores)):
            warnings.warn(f"{self.name}: some pair scores were not finite and were set to 0", stacklevel=2)
            scores = np.nan_to_num(scores, nan=0.0, posinf=0.0, neginf=0.0)
        self.scores_, self.proba_ = scores, proba
        self.results_.update(seconds=self.last_seconds, seconds_per_instance=self.last_seconds / x.shape[0])
        return self

    def _out(self, a: np.ndarray) -> np.ndarray:
        return a[0] if self._single else a

    def scores(self, instances: Any, **knowledge: Any) -> np.ndarray:
        """Pair scores (B, K) (or (K,) for one (L, M) instance); larger means more likely an edge."""
        return self._out(self.fit(instances, **knowledge).scores_)

    def predict_proba(self, instances: Any, **knowledge: Any) -> np.ndarray:
        """Probabilities (B, K, 2), index 1 = edge; ``ValueError`` for methods that only give scores."""
        if not self.has_proba:
            raise ValueError(
                f"method {self.name!r} gives scores, not probabilities; use predict(...) (and one_hot for metrics)"
            )
        return self._out(self.fit(instances, **knowledge).proba_)

    def predict(
        self,
        instances: Any,
        *,
        rule: Rule | None = None,
        threshold: float | None = None,
        n_edges: Any = None,
        **knowledge: Any,
    ) -> np.ndarray:
        """0/1 edges (B, K) int8 by ``rule`` (default ``default_rule``) on the scores; see ``apply_rule``."""
        self.fit(instances, **knowledge)
        pred = apply_rule(
            self.scores_,
            rule or self.default_rule,
            self.default_threshold if threshold is None else threshold,
            n_edges,
        )
        return self._out(pred)

    @classmethod
    def params(cls) -> list[str]:
        """Names of the constructor's settings (what ``reconstruct`` routes to the constructor)."""
        ps = inspect.signature(cls.__init__).parameters.values()
        return [p.name for p in ps if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.params() if hasattr(self, k))
        return f"{type(self).__name__}({settings})"
