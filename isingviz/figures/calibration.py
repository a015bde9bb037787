"""Calibration figures of pair probabilities p(edge): the reliability diagram (mean p against the observed edge
frequency per bin, with the pairs per bin) and the coverage / accuracy curve against the entropy threshold S_c,
each beside the trivial "no edge" accuracy of the same pairs. Pure: a calibration block in (``{"reliability":
[...], "coverage": {...}, "pairs", "accuracy"}``, as ``experiments.unseen.merge_calibration`` makes it), a figure
out. The general sweep's blocks (``general.general_calibrations``) and the replica temperature's held-out
benchmark (``benchmarks/replica_calibration.py``) are drawn with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..metrics import LN2
from .curves import coverage_figure
from .style import COLORS, LAYOUT, TWO_LINES, add_trivial, empty_figure, stored_number


def calibration_trivial(cal: Mapping[str, Any]) -> float | None:
    """Accuracy of "no edge anywhere" on a calibration block's pairs: 1 - sum(count * edge_frequency) / sum(count)."""
    bins = cal.get("reliability") or []
    n = sum(b["count"] for b in bins)
    return 1.0 - sum(b["count"] * b["edge_frequency"] for b in bins) / n if n else None


def _calibration_title(name: str, cal: Mapping[str, Any]) -> str:
    parts = [f"{cal['pairs']:,} pairs"] if isinstance(cal.get("pairs"), int) else []
    trivial = calibration_trivial(cal)
    if stored_number(cal, "accuracy") is not None and trivial is not None:
        parts.append(f"accuracy {cal['accuracy']:.3f}, trivial {trivial:.3f}")
    return f"{name}<br><sup>{'; '.join(parts)}</sup>" if parts else name


def reliability_figure(
    cal: Mapping[str, Any] | None,
    before: Mapping[str, Any] | None = None,
    before_name: str = "network alone (no gate, no head)",
    title: str = "reliability of p(edge)",
) -> go.Figure:
    """Reliability diagram of the general model's p(edge): per bin of p, the mean p vs the observed edge frequency.

    Points on the diagonal are calibrated (of the pairs given p = 0.3, 30 % are edges). Grey bars: pairs per bin
    (right axis). ``cal``: a calibration block, ``{"reliability": [{"bin", "count", "mean_p", "edge_frequency"}]}``;
    ``before``: the same pairs read another way, by default by the network alone, without its evidence gate and
    confidence head (a second, dotted line named ``before_name``).
    """
    bins = [b for b in (cal or {}).get("reliability") or [] if b.get("count")]
    if not bins:
        return empty_figure(title)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    centre = [(b["bin"][0] + b["bin"][1]) / 2 for b in bins]
    width = [b["bin"][1] - b["bin"][0] for b in bins]
    counts = [b["count"] for b in bins]
    bars = go.Bar(x=centre, y=counts, width=width, name="pairs per bin", marker={"color": "#7f7f7f"}, opacity=0.25)
    fig.add_trace(bars.update(hovertemplate="%{y} pairs<extra></extra>"), secondary_y=True)
    diagonal = go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="calibrated", line={"color": "black", "dash": "dash"})
    fig.add_trace(diagonal.update(hoverinfo="skip"), secondary_y=False)
    points = go.Scatter(
        x=[b["mean_p"] for b in bins],
        y=[b["edge_frequency"] for b in bins],
        mode="lines+markers",
        name="general model (as shipped)" if before else "general model",
        line={"color": COLORS["general"]},
        customdata=[[b["bin"][0], b["bin"][1], b["count"]] for b in bins],
        hovertemplate="p(edge) in [%{customdata[0]:.1f}, %{customdata[1]:.1f}): %{customdata[2]} pairs<br>"
        "mean p %{x:.3f}<br>edge frequency %{y:.3f}<extra></extra>",
    )
    fig.add_trace(points, secondary_y=False)
    old = [b for b in (before or {}).get("reliability") or [] if b.get("count")]
    if old:
        acc = stored_number(before or {}, "accuracy")
        name = before_name + (f", accuracy {acc:.3f}" if acc is not None else "")
        fig.add_trace(go.Scatter(x=[b["mean_p"] for b in old], y=[b["edge_frequency"] for b in old],
                                 mode="lines+markers", name=name, line={"color": COLORS["general"], "dash": "dot"},
                                 opacity=0.6), secondary_y=False)  # fmt: skip
    fig.update_xaxes(title_text="predicted p(edge), mean in bin", range=[0, 1])
    fig.update_yaxes(title_text="observed edge frequency", range=[0, 1.02], secondary_y=False)
    fig.update_yaxes(title_text="pairs", showgrid=False, rangemode="tozero", secondary_y=True)
    return fig.update_layout(title=_calibration_title(title, cal or {}), **LAYOUT | TWO_LINES)


def replica_temperature_figure(doc: Mapping[str, Any] | None) -> go.Figure:
    """Reliability before and after the confidence head's temperature on replica data beyond L = 12, from
    ``benchmarks/replica_calibration.py``'s document (held-out lattices): "after" solid, "before" dotted."""
    doc = doc or {}
    t = doc.get("shipped_temperature")
    title = "replica data, L > 12: reliability with the head's temperature" + (f" {t:g}" if t else "")
    return reliability_figure(doc.get("calibration_after"), doc.get("calibration_before"),
                              before_name="without the temperature", title=title)  # fmt: skip


def replica_temperature_text(doc: Mapping[str, Any]) -> str:
    """One caption for ``replica_temperature_figure``: where the numbers come from and what changed."""
    checks = doc.get("checks") or {}
    before, after = checks.get("before") or {}, checks.get("after") or {}
    parts = [
        f"Held-out replica lattices (seed {doc.get('seed')}, `python benchmarks/replica_calibration.py`): beyond"
        " L = 12 the confidence head reads a local search it was not trained on, and its logits are divided by a"
        f" temperature fitted on these pairs ({doc.get('fitted_temperature', float('nan')):.2f}; shipped"
        f" {doc.get('shipped_temperature')}). Every answer stays the same; only the confidence changes."
    ]
    if "nll_before" in doc and "nll_after" in doc:
        parts.append(f"Negative log-likelihood per pair {doc['nll_before']:.3f} -> {doc['nll_after']:.3f}.")
    if before.get("cells_with_20_wrong"):
        parts.append(
            f"Cells with at most 20 % of their wrong pairs at S < 0.1: {before.get('confident_ok')} ->"
            f" {after.get('confident_ok')} of {before['cells_with_20_wrong']}."
        )
    return " ".join(parts)


def coverage_accuracy_figure(cal: Mapping[str, Any] | None) -> go.Figure:
    """Coverage eta and accuracy gamma of the kept pairs (entropy S < S_c) vs S_c (``curves.coverage_figure``), with
    the trivial "no edge" accuracy of the same pairs. ``cal["coverage"]``: thresholds, coverage, accuracy lists."""
    curve = (cal or {}).get("coverage") or {}
    if not curve.get("thresholds"):
        return empty_figure("coverage and accuracy vs S_c")
    fig = coverage_figure(curve)
    fig.update_traces(mode="lines+markers")
    add_trivial(fig, calibration_trivial(cal or {}))
    fig.update_xaxes(range=[0, max(LN2, *curve["thresholds"]) * 1.02])
    title = _calibration_title("coverage η and accuracy γ vs S_c (entropy S < S_c kept)", cal or {})
    return fig.update_layout(title=title, **LAYOUT | TWO_LINES)
