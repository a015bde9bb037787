"""Plotly figures of lattices, instances and pair predictions. Pure: data in, ``plotly.graph_objects.Figure`` out.

Conventions as everywhere in isingviz: adjacency ``A`` (L, L) symmetric 0/1; pairs in ``numpy.triu_indices(L, 1)``
order (K = L(L-1)/2); instances ``X`` (L, M) with column m the momenta s(m tau).

Graphs draw the spins on a circle; the node trace is always the last trace and carries ``customdata`` = spin
index, so a click on a node (Streamlit's ``on_select``) tells which spin was clicked. Edge traces skip hover
and clicks. When comparing a prediction with the truth, each pair is "TP" (edge found), "FP" (edge predicted
where there is none) or "FN" (edge missed); "TN" pairs are not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..dynamics import decay_deviation
from ..lattice import edges_of, n_pairs, validate_adjacency

STATUSES = ("TP", "FP", "FN")
STATUS_STYLE: dict[str, dict[str, str]] = {
    "TP": {"color": "#2ca02c", "dash": "solid", "label": "TP: edge found"},
    "FP": {"color": "#d62728", "dash": "solid", "label": "FP: spurious edge"},
    "FN": {"color": "#ff7f0e", "dash": "dash", "label": "FN: edge missed"},
}
EDGE_COLOR = "#7f7f7f"
NODE_COLOR = "#1f77b4"
HIGHLIGHT_COLOR = "#ff7f0e"
DIVERGING = "RdBu_r"  # -1 blue, 0 white, +1 red


def circle_layout(L: int) -> np.ndarray:
    """Positions (L, 2) of L spins evenly on the unit circle, spin 0 at the top, numbered clockwise."""
    if L < 1:
        raise ValueError(f"need at least one spin, got L={L}")
    phi = np.pi / 2 - 2 * np.pi * np.arange(L) / L
    return np.column_stack([np.cos(phi), np.sin(phi)])


def compare_graphs(A_true: Any, A_pred: Any) -> dict[tuple[int, int], str]:
    """Status of every pair (i, j), i < j, that is an edge in either graph: "TP", "FP" or "FN"."""
    t, p = validate_adjacency(A_true), validate_adjacency(A_pred)
    if t.shape != p.shape:
        raise ValueError(f"true and predicted lattices must have the same L, got {t.shape[0]} and {p.shape[0]}")
    out: dict[tuple[int, int], str] = {}
    for i, j in zip(*np.nonzero(np.triu(t | p, 1))):
        out[(int(i), int(j))] = "TP" if t[i, j] and p[i, j] else ("FN" if t[i, j] else "FP")
    return out


def _status_map(edge_status: Mapping | Sequence | np.ndarray, L: int) -> dict[tuple[int, int], str]:
    """Per-pair statuses from a dict {(i, j): status} or a length-K sequence in triu order."""
    if isinstance(edge_status, Mapping):
        items = [((min(i, j), max(i, j)), s) for (i, j), s in edge_status.items()]
    else:
        seq = list(edge_status)
        if len(seq) != n_pairs(L):
            raise ValueError(f"edge_status must have one entry per pair ({n_pairs(L)} for L={L}), got {len(seq)}")
        items = list(zip(zip(*np.triu_indices(L, 1)), seq))
    out: dict[tuple[int, int], str] = {}
    for (i, j), s in items:
        if not (0 <= i < j < L):
            raise ValueError(f"pair ({i}, {j}) is not a pair of distinct spins 0..{L - 1}")
        if s in STATUSES:
            out[(int(i), int(j))] = str(s)
        elif s not in ("TN", "", None):
            raise ValueError(f"edge status must be one of {STATUSES} (or 'TN'), got {s!r}")
    return out


def _edge_trace(pos: np.ndarray, pairs: Sequence[tuple[int, int]], name: str, color: str, dash: str) -> go.Scatter:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for i, j in pairs:
        xs += [pos[i, 0], pos[j, 0], None]
        ys += [pos[i, 1], pos[j, 1], None]
    return go.Scatter(
        x=xs, y=ys, mode="lines", name=name, line={"color": color, "width": 2.5, "dash": dash}, hoverinfo="skip"
    )


def graph_figure(
    A: Any,
    positions: Any = None,
    highlight: int | None = None,
    edge_status: Mapping | Sequence | np.ndarray | None = None,
    title: str = "lattice",
) -> go.Figure:
    """The lattice as a graph: edge traces, then one clickable node trace (``customdata`` = spin index).

    Without ``edge_status`` the edges of ``A`` form one grey trace. With it, the pairs marked "TP", "FP", "FN"
    are drawn instead (one trace per status present, in that order, coloured by ``STATUS_STYLE``), and ``A`` only
    gives L and the degrees shown on hover. ``highlight`` marks one spin (e.g. the first click of an edit).
    """
    A = validate_adjacency(A)
    L = A.shape[0]
    pos = circle_layout(L) if positions is None else np.asarray(positions, dtype=float)
    if pos.shape != (L, 2):
        raise ValueError(f"positions must have shape ({L}, 2), got {pos.shape}")
    fig = go.Figure()
    if edge_status is None:
        pairs = [(i, j) for i, j in edges_of(A)]
        fig.add_trace(_edge_trace(pos, pairs, f"edges ({len(pairs)})", EDGE_COLOR, "solid"))
    else:
        status = _status_map(edge_status, L)
        for s in STATUSES:
            pairs = [p for p, v in status.items() if v == s]
            if pairs:
                st = STATUS_STYLE[s]
                fig.add_trace(_edge_trace(pos, pairs, f"{st['label']} ({len(pairs)})", st["color"], st["dash"]))
    deg = A.sum(axis=1)
    colors = [HIGHLIGHT_COLOR if i == highlight else NODE_COLOR for i in range(L)]
    sizes = [30 if i == highlight else 22 for i in range(L)]
    fig.add_trace(
        go.Scatter(
            x=pos[:, 0],
            y=pos[:, 1],
            mode="markers+text",
            name="spins",
            text=[str(i) for i in range(L)],
            textfont={"color": "white", "size": 11},
            customdata=np.arange(L),
            marker={"color": colors, "size": sizes, "line": {"color": "white", "width": 1.5}},
            hovertext=[f"degree {d}" for d in deg],
            hovertemplate="spin %{customdata}, %{hovertext}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_layout(
        title=title,
        xaxis={"visible": False, "range": [-1.25, 1.25]},
        yaxis={"visible": False, "range": [-1.25, 1.25], "scaleanchor": "x"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=420,
        clickmode="event+select",
        dragmode=False,
        legend={"orientation": "h", "y": -0.02},
        plot_bgcolor="white",
    )
    return fig


def _instance(X: Any) -> np.ndarray:
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 2 or min(x.shape) < 1:
        raise ValueError(f"an instance must have shape (L, M), got {x.shape}")
    return x


def instance_heatmap(X: Any, tau: float | None = None, title: str = "instance: what the network sees") -> go.Figure:
    """Heat map of one instance (L, M): spins on y (0 at the top), time on x, diverging colours fixed to -1..1.

    The x axis is the step m, or the time m * tau when ``tau`` is given.
    """
    x = _instance(X)
    L, M = x.shape
    t = np.arange(M) if tau is None else np.arange(M) * tau
    fig = go.Figure(
        go.Heatmap(
            z=x,
            x=t,
            y=np.arange(L),
            zmin=-1,
            zmax=1,
            zmid=0,
            colorscale=DIVERGING,
            colorbar={"title": {"text": "s_i"}},
            hovertemplate="spin %{y}<br>t %{x}<br>s %{z:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="time m·τ" if tau is not None else "step m",
        yaxis={"title": "spin i", "autorange": "reversed", "dtick": 1 if L <= 16 else None},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=max(260, 22 * L + 100),
    )
    return fig


def trajectories_figure(X: Any, tau: float = 0.1, title: str = "momenta s_i(t)") -> go.Figure:
    """One line per spin: s_i(m tau) against time. ``X`` is one instance (L, M)."""
    x = _instance(X)
    t = np.arange(x.shape[1]) * tau
    fig = go.Figure([go.Scatter(x=t, y=row, mode="lines", name=f"s_{i}") for i, row in enumerate(x)])
    fig.update_layout(
        title=title,
        xaxis_title="time t = m·τ",
        yaxis={"title": "s_i(t)", "range": [-1.05, 1.05]},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=380,
    )
    return fig


def temperature_comparison_figure(
    A: Any, s0: Any, Ts: Sequence[float], tau: float = 0.1, M: int = 50, stat: str = "max"
) -> go.Figure:
    """Deviation from free decay vs time for several T on a log y axis (one line per T).

    The same initial state at every T; the curves drop by ~10x per decade of T once T exceeds the local fields,
    which is why instances of different lattices look alike at high T ("thermal fluctuations dominate").
    """
    dev = decay_deviation(A, s0, Ts, tau, M, stat)  # (nT, M)
    t = np.arange(M) * tau
    fig = go.Figure()
    for T, row in zip(Ts, dev):
        y = np.where(row > 1e-12, row, np.nan)  # m = 0, edgeless lattices: 0 up to rounding, nothing to draw on log
        fig.add_trace(go.Scatter(x=t, y=y, mode="lines", name=f"T = {T:g}"))
    fig.update_layout(
        title=f"deviation from free decay ({stat} over spins)",
        xaxis_title="time t = m·τ",
        yaxis={"title": "|s − s0 (1−τ)^m|", "type": "log", "exponentformat": "power"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=380,
    )
    return fig


def degree_histogram(A: Any, title: str = "degree distribution") -> go.Figure:
    """Bar chart: number of spins with each degree 0..max degree."""
    deg = validate_adjacency(A).sum(axis=1)
    counts = np.bincount(deg, minlength=int(deg.max()) + 1)
    fig = go.Figure(go.Bar(x=np.arange(counts.size), y=counts, marker_color=NODE_COLOR, name="spins"))
    fig.update_layout(
        title=title,
        xaxis={"title": "degree", "dtick": 1},
        yaxis_title="spins",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=260,
        bargap=0.1,
    )
    return fig


def pair_matrix(values: Any, L: int | None = None) -> np.ndarray:
    """Pair values (K,) in triu order -> symmetric (L, L) float matrix with NaN on the diagonal.

    An (L, L) matrix is taken as is (copied, diagonal set to NaN).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 2 and v.shape[0] == v.shape[1]:
        out = v.copy()
        np.fill_diagonal(out, np.nan)
        return out
    if v.ndim != 1:
        raise ValueError(f"pair values must have shape (K,) or (L, L), got {v.shape}")
    if L is None:
        L = int(round((1 + np.sqrt(1 + 8 * v.size)) / 2))
    if n_pairs(L) != v.size:
        raise ValueError(f"{v.size} pair values do not match L={L} (K = L(L-1)/2 = {n_pairs(L)})")
    out = np.full((L, L), np.nan)
    iu = np.triu_indices(L, 1)
    out[iu] = v
    out[iu[::-1]] = v
    return out


def spin_ticks(L: int, most: int = 16) -> list[int]:
    """Tick positions of a spin axis: every spin 0..L-1 up to ``most`` spins, else every k-th spin from 0."""
    return list(range(0, L, math.ceil(L / most) if L > most else 1))


def matrix_figure(
    P: Any, title: str = "", zmin: float = 0.0, zmax: float = 1.0, colorscale: str = "Viridis"
) -> go.Figure:
    """Heat map of an L x L pair matrix (e.g. p(edge) or entropy); a pair vector (K,) is placed symmetrically."""
    Z = pair_matrix(P)
    L = Z.shape[0]
    fig = go.Figure(
        go.Heatmap(
            z=Z,
            x=np.arange(L),
            y=np.arange(L),
            zmin=zmin,
            zmax=zmax,
            colorscale=colorscale,
            hovertemplate="spins %{y}, %{x}<br>%{z:.3f}<extra></extra>",
        )
    )
    spins = {"tickmode": "array", "tickvals": spin_ticks(L), "constrain": "domain"}  # spins 0..L-1, nothing else
    fig.update_layout(
        title=title,
        xaxis={"title": "spin j", "range": [-0.5, L - 0.5], **spins},
        yaxis={"title": "spin i", "range": [L - 0.5, -0.5], "scaleanchor": "x", **spins},  # spin 0 on top
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=420,
    )
    return fig
