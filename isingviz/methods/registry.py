"""Reconstruction methods behind one contract: the CNN and the methods that do not learn, for honest comparison.

Every method is a ``Reconstructor`` (``isingviz.methods.base``): instances (B, L, M) plus what the method may
know (``KNOWLEDGE``: T, tau, candidates, groups, noise, n_edges) -> pair scores (B, K) in
``numpy.triu_indices(L, 1)`` order, probabilities (B, K, 2) (index 1 = edge) where the method has them, and
0/1 edges by a stated rule: ``"threshold"`` (score > threshold) or ``"top_e"`` (the E best pairs per instance).

| name | knows | from | score | default rule |
|---|---|---|---|---|
| ``inversion`` | Eq. 1, T, tau | one instance | symmetrised least-squares A | threshold 1/2 |
| ``binary_ml`` | Eq. 1, T, tau, A in {0,1} | one instance | pair probability | threshold 1/2 |
| ``template`` | Eq. 1, T, tau, candidate lattices | one instance | pair probability | threshold 1/2 |
| ``var`` | nothing | one instance, or pooled | normalised abs VAR(1) weights | top-E |
| ``correlation`` | nothing | instances of one lattice | abs Pearson corr. of momenta | top-E |
| ``correlation_diff`` | nothing | instances of one lattice | abs corr. of time differences | top-E |
| ``naive_mf``, ``tap``, ``ml_kinetic`` | kinetic Ising, T, tau | one instance, or pooled | T abs J, symmetric | top-E |
| ``trivial`` | nothing | - | 0 ("no edge anywhere") | threshold 1/2 |
| ``cnn`` | its training | one instance | network probability | threshold 1/2 (argmax) |
| ``general`` | Eq. 1's T, tau; its training | one instance, any L | network probability | threshold 1/2 (argmax) |

Use a class directly (``BinaryML().predict_proba(X, T=0.4, tau=0.1)``), or by name::

    rec = reconstruct("binary_ml", X, T=0.4, tau=0.1)        # Reconstruction: scores, proba, pred, rule, seconds
    rec = reconstruct("var", X, n_edges=25)                   # top-E rule, E = 25
    rec = reconstruct("template", X, T=T, tau=tau, candidates=lattices)
    rec = reconstruct("cnn", X, model=load_model(path))       # constructor settings are routed by name
    rec = reconstruct("general", X, T=T, tau=tau)             # the shipped general model, any L
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .base import KNOWLEDGE, RULES, Reconstructor, Rule, apply_rule, one_hot
from .binary import BinaryML
from .cnn import CNN
from .general import General
from .kinetic import TAP, MLKinetic, NaiveMF
from .physics import Inversion, Template
from .replica import ReplicaML
from .stats import VAR, Correlation, CorrelationDiff
from .trivial import Trivial

__all__ = [
    "KNOWLEDGE",
    "METHODS",
    "RULES",
    "CNN",
    "TAP",
    "VAR",
    "BinaryML",
    "Correlation",
    "CorrelationDiff",
    "General",
    "Inversion",
    "MLKinetic",
    "NaiveMF",
    "Reconstruction",
    "Reconstructor",
    "ReplicaML",
    "Template",
    "Trivial",
    "apply_rule",
    "make_method",
    "method_info",
    "one_hot",
    "reconstruct",
]


METHODS: dict[str, type[Reconstructor]] = {
    cls.name: cls
    for cls in (
        Inversion,
        BinaryML,
        ReplicaML,
        Template,
        VAR,
        Correlation,
        CorrelationDiff,
        NaiveMF,
        TAP,
        MLKinetic,
        Trivial,
        CNN,
        General,
    )
}


def method_info() -> list[dict[str, Any]]:
    """One row per method: name, first docstring line, knowledge it needs, settings, probabilities, default rule."""
    return [
        {
            "name": name,
            "summary": (cls.__doc__ or "").strip().splitlines()[0],
            "needs": list(cls.needs),
            "settings": cls.params(),
            "has_proba": cls.has_proba,
            "default_rule": cls.default_rule,
        }
        for name, cls in METHODS.items()
    ]


def _split(cls: type[Reconstructor], kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    params = {k: v for k, v in kwargs.items() if k in cls.params()}
    know = {k: v for k, v in kwargs.items() if k not in params}
    unknown = sorted(set(know) - set(KNOWLEDGE))
    if unknown:
        raise ValueError(
            f"unknown argument(s) {unknown} for method {cls.name!r}; its settings: {cls.params() or 'none'};"
            f" knowledge: {', '.join(KNOWLEDGE)}"
        )
    return params, know


def make_method(method_name: str, **params: Any) -> Reconstructor:
    """The method registered as ``method_name`` (see ``METHODS``), built with its settings ``params``."""
    if method_name not in METHODS:
        raise ValueError(f"unknown method {method_name!r}; available: {', '.join(METHODS)}")
    cls = METHODS[method_name]
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"bad settings for method {method_name!r}: {exc}; its settings: {cls.params()}") from None


@dataclass
class Reconstruction:
    """What ``reconstruct`` returns. Arrays have the instances' batch shape ((B, ...) or, for one instance, none)."""

    method: str
    scores: np.ndarray  # (B, K) pair scores, larger = more likely an edge
    proba: np.ndarray | None  # (B, K, 2), index 1 = edge, or None
    pred: np.ndarray  # (B, K) int8, 1 = edge
    rule: str  # how pred was made, e.g. "threshold 0.5 on the score" or "top-E (E known)"
    seconds: float  # wall time of the fit
    results: dict[str, Any] = field(default_factory=dict)  # method diagnostics

    def accuracy(self, y: Any) -> float:
        """Fraction of pairs whose prediction equals the labels ``y`` (same shape as ``pred``)."""
        labels = np.asarray(y)
        if labels.shape != self.pred.shape:
            raise ValueError(f"labels must have shape {self.pred.shape}, got {labels.shape}")
        return float(np.mean(self.pred == labels))

    def proba_or_one_hot(self) -> np.ndarray:
        """Probabilities if the method has them, else the predictions as 0/1 probabilities (for ``metrics``)."""
        return self.proba if self.proba is not None else one_hot(self.pred)


def reconstruct(
    method_name: str,
    instances: Any,
    *,
    rule: Rule | None = None,
    threshold: float | None = None,
    **kwargs: Any,
) -> Reconstruction:
    """Run one method on instances (B, L, M) (or one (L, M)) and turn its scores into edges.

    ``kwargs`` holds the method's settings (routed to its constructor, e.g. ``model=`` for ``cnn``,
    ``exhaustive_max_L=`` for ``binary_ml``) and what it may know (``KNOWLEDGE``: T, tau, candidates, groups,
    noise, n_edges). ``rule`` defaults to the method's own; ``"top_e"`` needs ``n_edges``. Raises
    ``ValueError`` for an unknown method, unknown arguments, missing knowledge or bad inputs.
    """
    cls = METHODS.get(method_name)
    if cls is None:
        raise ValueError(f"unknown method {method_name!r}; available: {', '.join(METHODS)}")
    params, know = _split(cls, kwargs)
    method = make_method(method_name, **params).fit(instances, **know)
    rule = rule or cls.default_rule
    thr = cls.default_threshold if threshold is None else float(threshold)
    n_edges = know.get("n_edges")
    if rule == "top_e" and n_edges is None:
        raise ValueError(
            f"method {method_name!r} uses the top_e rule: pass n_edges=E (the known edge count), or rule='threshold'"
        )
    pred = apply_rule(method.scores_, rule, thr, n_edges)
    text = "top-E (E known)" if rule == "top_e" else f"threshold {thr:g} on the score"
    out = method._out
    proba = out(method.proba_) if method.proba_ is not None else None
    seconds, results = method.last_seconds, method.results_
    return Reconstruction(method_name, out(method.scores_), proba, out(pred), text, seconds, results)
