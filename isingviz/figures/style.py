"""What every results figure shares: colours, line styles, the layout, the trivial-accuracy line, an empty figure.

The figure modules of sweep documents (``sweeps``, ``general``, ``calibration``) import it; it imports nothing of
the package.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go

Doc = Mapping[str, Any]
COLORS = {"train": "#2ca02c", "test": "#1f77b4", "general": "#d62728", "scratch": "#7f7f7f", "finetune": "#1f77b4"}
COLORS |= {"decay": "#ff7f0e", "fixed": "#1f77b4", "per_lattice": "#9467bd"}
TRIVIAL = {"color": "#7f7f7f", "dash": "dash", "width": 1}
BASELINE = {"color": "black", "dash": "dot", "width": 1.5}
STAR = {"symbol": "star", "size": 14, "line": {"color": "black", "width": 1}}
LAYOUT = {"margin": {"l": 10, "r": 10, "t": 50, "b": 40}, "legend": {"orientation": "h", "y": -0.2}, "height": 420}
TWO_LINES = {"margin": {**LAYOUT["margin"], "t": 80}}  # room for a title with a <sup> second line


def stored_number(row: Mapping[str, Any], key: str) -> float | None:
    """A finite number stored under ``key`` (None when the method did not run in that cell, or it is not one)."""
    v = row.get(key)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return float(v) if ok else None


def results(doc: Doc, stage: int | None = None) -> list[dict[str, Any]]:
    """The successful task results of a document (of one stage when given)."""
    return [t["result"] for t in doc.get("tasks", []) if "error" not in t["result"] and stage in (None, t["stage"])]


def add_trivial(fig: go.Figure, level: float | None, **where: Any) -> None:
    if level is not None and math.isfinite(level):
        fig.add_hline(y=level, line=TRIVIAL, annotation_text=f"trivial {level:.3f}", annotation_font_size=10, **where)


def empty_figure(title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text="no results", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig.update_layout(title=title, **LAYOUT)
