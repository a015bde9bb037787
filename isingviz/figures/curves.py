"""Plotly figures of training runs and of the entropy trade-off (pure: data in, figure out; no streamlit).

- ``training_curves(history)``: loss, train/test accuracy (with the trivial "no edge" and majority-label
  accuracies as horizontal reference lines) and the gradient norm on a log axis, per epoch.
- ``coverage_figure(curve, s_c)``: coverage eta and accuracy gamma of the confident pairs (S < S_c) against the
  entropy threshold S_c (the paper's Fig. 2b), the current S_c marked.
- ``compare_histories(runs)``: accuracy and gradient norm per epoch of several runs side by side (the barren
  plateau: scratch-raw vs fine-tuned vs decay-encoded).
- ``reference_levels(metadata)``: the trivial and majority accuracies a model's history should be read against.

A history is ``train.train``'s list of per-epoch dicts (epoch, train_loss, train_accuracy, test_loss,
test_accuracy, grad_norm, seconds); missing keys are skipped, so older or partial histories still draw.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..lattice import adjacency_to_pairs, from_edges
from ..metrics import LN2, majority_accuracy

History = Sequence[Mapping[str, Any]]
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
TRIVIAL_STYLE = {"color": "#7f7f7f", "dash": "dash", "width": 1}
MAJORITY_STYLE = {"color": "#bcbd22", "dash": "dot", "width": 1.5}


def epoch_step(last: float, most: int = 8) -> int:
    """Spacing of the epoch ticks: the smallest of 1, 2, 5, 10, 20, 50, ... that puts at most ``most`` ticks on
    0..``last``, so a short run shows epochs 1, 2, 3 and never 1.5."""
    steps = (m * 10**e for e in itertools.count() for m in (1, 2, 5))
    return next(step for step in steps if math.ceil(max(last, 1) / step) <= most)


def log_ticks(values: Sequence[float], most: int = 5) -> tuple[list[float], list[str]]:
    """Readable ticks (values, labels) of a log axis over the positive finite ``values``: at most ``most`` of the
    1-2-5, then 1-3, then 1 values of each decade inside the data's range (every k-th power of ten over many
    decades); within less than a factor 2-5, three values spaced evenly in log, to 2 significant digits."""
    v = [float(x) for x in values if isinstance(x, (int, float)) and math.isfinite(x) and x > 0]
    if not v:
        return [], []
    lo, hi = min(v), max(v)
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    ticks: list[float] = []
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        ticks = [float(f"{m}e{e}") for e in decades for m in mantissas if lo <= float(f"{m}e{e}") <= hi]
        if 2 <= len(ticks) <= most:
            break
    if len(ticks) > most:  # many decades: every k-th power of ten
        ticks = ticks[:: math.ceil(len(ticks) / most)]
    elif len(ticks) < 2:  # a narrow range
        ticks = sorted({float(f"{x:.2g}") for x in np.geomspace(lo, hi, 3)})
    return ticks, [f"{t:.2g}" for t in ticks]


def _epoch_layout(fig: go.Figure, height: int, title: str, histories: Sequence[History] = ()) -> None:
    """Shared layout of the per-epoch panels: integer epoch ticks, the legend below them clear of the axis titles."""
    epochs = [rec.get("epoch", i + 1) for h in histories for i, rec in enumerate(h)]
    last = max((float(e) for e in epochs if isinstance(e, (int, float)) and math.isfinite(e)), default=1.0)
    fig.update_xaxes(title_text="epoch", tickmode="linear", tick0=0, dtick=epoch_step(last))
    fig.update_layout(
        height=height, title=title, margin={"t": 60, "b": 90, "l": 40, "r": 10}, legend={"orientation": "h", "y": -0.25}
    )


def series(history: History, key: str) -> tuple[list[float], list[float]]:
    """(epochs, values) of ``key`` over a history, skipping epochs without a finite value."""
    xs, ys = [], []
    for i, rec in enumerate(history):
        v = rec.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            xs.append(float(rec.get("epoch", i + 1)))
            ys.append(float(v))
    return xs, ys


def last_value(history: History, key: str) -> float | None:
    """The last finite value of ``key`` in a history (None if there is none)."""
    _, ys = series(history, key)
    return ys[-1] if ys else None


def _empty_note(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 14})
    return fig


def _reference_lines(fig: go.Figure, trivial: float | None, majority: float | None, **where: Any) -> None:
    for level, name, style in ((trivial, "no edge", TRIVIAL_STYLE), (majority, "majority", MAJORITY_STYLE)):
        if level is not None and math.isfinite(level):
            fig.add_hline(
                y=level,
                line=style,
                annotation_text=f"{name} {level:.3f}",
                annotation_position="bottom right",
                annotation_font_size=10,
                **where,
            )


def _log_axis(fig: go.Figure, histories: Sequence[History], col: int) -> None:
    """The gradient-norm panel: a log axis with a few readable ticks (``log_ticks``) of every run's values."""
    vals, text = log_ticks([y for h in histories for y in series(h, "grad_norm")[1]])
    ticks = {"tickmode": "array", "tickvals": vals, "ticktext": text} if vals else {}
    fig.update_yaxes(type="log", row=1, col=col, **ticks)


def training_curves(
    history: History,
    *,
    trivial: float | None = None,
    majority: float | None = None,
    title: str | None = None,
    height: int = 320,
) -> go.Figure:
    """Three panels per epoch: loss (train, test), accuracy (train, test; reference lines), gradient norm (log).

    ``trivial``: accuracy of guessing "no edge anywhere"; ``majority``: of the per-pair majority label of the
    training lattices (where a network that learns nothing from the instances plateaus).
    """
    fig = make_subplots(rows=1, cols=3, subplot_titles=("loss", "accuracy", "gradient norm"))
    panels = (
        (1, (("train_loss", "train loss", 0), ("test_loss", "test loss", 1))),
        (2, (("train_accuracy", "train accuracy", 0), ("test_accuracy", "test accuracy", 1))),
        (3, (("grad_norm", "gradient norm", 2),)),
    )
    for col, keys in panels:
        for key, name, color in keys:
            xs, ys = series(history, key)
            if xs:
                line = {"color": PALETTE[color]}
                fig.add_trace(go.Scatter(x=xs, y=ys, name=name, mode="lines+markers", line=line), row=1, col=col)
    _reference_lines(fig, trivial, majority, row=1, col=2)
    _log_axis(fig, [history], col=3)
    _epoch_layout(fig, height, title, [history])
    if not history:
        _empty_note(fig, "no epoch finished yet")
    return fig


def coverage_figure(curve: Mapping[str, Any], s_c: float | None = None, *, title: str | None = None) -> go.Figure:
    """Coverage eta and accuracy gamma on the kept pairs (S < S_c) vs S_c, from ``metrics.coverage_curve``.

    ``curve`` holds arrays or lists ``thresholds``, ``coverage``, ``accuracy`` (nan or None where no pair is kept).
    The current ``s_c`` is drawn as a vertical line with its eta and gamma read off the curve.
    """
    sc = np.asarray(curve["thresholds"], dtype=float)
    cov = np.asarray(curve["coverage"], dtype=float)
    acc = np.asarray([np.nan if a is None else a for a in curve["accuracy"]], dtype=float)
    if not (sc.shape == cov.shape == acc.shape) or sc.ndim != 1:
        raise ValueError(f"thresholds, coverage and accuracy must be 1-D of one length, got {sc.shape}, {cov.shape}")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=sc, y=cov, name="coverage eta", mode="lines", line={"color": PALETTE[0]}))
    fig.add_trace(go.Scatter(x=sc, y=acc, name="accuracy gamma (kept pairs)", mode="lines", line={"color": PALETTE[1]}))
    if s_c is not None:
        fig.add_vline(x=s_c, line={"color": "black", "dash": "dash", "width": 1})
        fig.add_annotation(x=s_c, y=1.04, text=f"S_c = {s_c:.3f}", showarrow=False, yref="y", font={"size": 11})
    fig.update_xaxes(title_text="entropy threshold S_c", range=[0, LN2 * 1.01])
    fig.update_yaxes(range=[0, 1.08])
    fig.update_layout(height=320, title=title, margin={"t": 40, "b": 40, "l": 40, "r": 10}, legend_orientation="h")
    return fig


def compare_histories(
    runs: Mapping[str, History],
    *,
    accuracy_key: str = "test_accuracy",
    trivial: float | None = None,
    majority: float | None = None,
    title: str | None = None,
    height: int = 360,
) -> go.Figure:
    """Accuracy (``accuracy_key``) and gradient norm (log) per epoch, one colour per run, two panels."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(accuracy_key.replace("_", " "), "gradient norm"))
    for i, (label, history) in enumerate(runs.items()):
        color = PALETTE[i % len(PALETTE)]
        for col, key in ((1, accuracy_key), (2, "grad_norm")):
            xs, ys = series(history, key)
            if xs:
                trace = go.Scatter(
                    x=xs, y=ys, name=label, legendgroup=label, showlegend=col == 1, mode="lines", line={"color": color}
                )
                fig.add_trace(trace, row=1, col=col)
    _reference_lines(fig, trivial, majority, row=1, col=1)
    _log_axis(fig, list(runs.values()), col=2)
    _epoch_layout(fig, height, title, list(runs.values()))
    if not any(len(h) for h in runs.values()):
        _empty_note(fig, "no history to show")
    return fig


def reference_levels(metadata: Mapping[str, Any]) -> dict[str, float | None]:
    """Trivial ("no edge") and majority-label accuracies for a model's metadata.

    Taken from its stored test ``metrics`` when present; otherwise computed from the training lattices in its
    ``dataset`` (each lattice weighted equally, as the instances are spread evenly). None when unknown.
    """
    m = metadata.get("metrics") or {}
    out: dict[str, float | None] = {"trivial": m.get("trivial_accuracy"), "majority": m.get("majority_accuracy")}
    ds = metadata.get("dataset") or {}
    if None in out.values() and ds.get("lattices") and isinstance(ds.get("L"), int):
        try:
            Y = np.stack([adjacency_to_pairs(from_edges(ds["L"], e)) for e in ds["lattices"]])  # (N_L, K)
        except (ValueError, TypeError):
            return out
        if out["trivial"] is None:
            out["trivial"] = float(np.mean(Y == 0))
        if out["majority"] is None:
            out["majority"] = majority_accuracy(Y, Y)
    return out
