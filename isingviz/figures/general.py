"""Plotly figures of the ``general`` sweep: the general model on unseen lattices at any L, beside the other methods
on the same instances. Pure: a sweep document in, a figure or rows out.

``general_figure`` (accuracy vs T per method, one panel per noise), ``general_advantage_figure`` (general minus the
best other method over L x T), ``general_rows`` (the table), ``general_calibrations`` (its calibration blocks, drawn
by ``isingviz.figures.calibration``). Learned methods are solid lines, non-learned ones dotted; every panel carries
the trivial "no edge anywhere" accuracy of the same instances (grey dashed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..learn.general.train import FAMILIES
from .style import COLORS, LAYOUT, TRIVIAL, TWO_LINES, Doc, empty_figure, results, stored_number

GENERAL_METHODS = ("general", "general_r1", "inversion", "binary_ml", "var", "cnn")
METHOD_TEXT = {
    "general": "general model",
    "general_r1": "general model, 1 round",
    "inversion": "physics inversion",
    "binary_ml": "binary ML decoder (L ≤ 12)",
    "var": "VAR (told E)",
    "cnn": "paper CNN (L = 12)",
    "general_raw": "network alone",
    "replica_ml": "replica decoder (R given)",
    "naive_mf": "naive mean field (told E)",
    "tap": "TAP (told E)",
    "ml_kinetic": "ML kinetic Ising (told E)",
}
METHOD_LINE = {
    "general": {"color": COLORS["general"]},
    "general_r1": {"color": "#ff9896"},
    "inversion": {"color": "#1f77b4", "dash": "dot"},
    "binary_ml": {"color": "#9467bd", "dash": "dot"},
    "var": {"color": "#8c564b", "dash": "dot"},
    "cnn": {"color": "#2ca02c"},
    "general_raw": {"color": "#ff7f0e"},  # learned: solid; the methods that do not learn: dotted
    "replica_ml": {"color": "#17becf", "dash": "dot"},
    "naive_mf": {"color": "#bcbd22", "dash": "dot"},
    "tap": {"color": "#e377c2", "dash": "dot"},
    "ml_kinetic": {"color": "#393b79", "dash": "dot"},
}
FAMILY_TEXT = {"erdos_renyi": "Erdős–Rényi", "small_world": "small world"}  # the others read as they are named
CALIBRATION_TEXT = {"calibration": "random lattices, L = 12", "calibration_all": "all cells"}


def family_text(family: str) -> str:
    """How a lattice family is written on the page ("erdos_renyi" -> "Erdős–Rényi")."""
    return FAMILY_TEXT.get(family, family)


def general_methods(doc: Doc) -> list[str]:
    """The methods of a general-sweep document, in the sweep's order (``summary.methods``, else found in the rows)."""
    rs = results(doc)
    listed = (doc.get("summary") or {}).get("methods")
    if not listed:
        found = {k for r in rs for k in r if f"{k}_ms" in r}
        listed = [m for m in GENERAL_METHODS if m in found] + sorted(found - set(GENERAL_METHODS))
    return [m for m in listed if any(stored_number(r, m) is not None for r in rs)]


def _family_key(family: str) -> tuple[int, str]:
    return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), family)


def general_cells(doc: Doc, family: str | None = None, L: int | None = None) -> list[dict[str, Any]]:
    """The cells (task results) of a general-sweep document, of one family and L when given, by family, L, T, noise."""
    rs = [r for r in results(doc) if family in (None, r["family"]) and L in (None, r["L"])]
    return sorted(rs, key=lambda r: (_family_key(r["family"]), r["L"], data_key(r), r["T"]))


def general_choices(doc: Doc) -> dict[str, list[int]]:
    """Family -> the L values it was evaluated at (families in ``FAMILIES`` order)."""
    out: dict[str, list[int]] = {}
    for r in general_cells(doc):
        out.setdefault(r["family"], [])
        if r["L"] not in out[r["family"]]:
            out[r["family"]].append(r["L"])
    return out


def general_default(doc: Doc) -> tuple[str, int] | None:
    """The (family, L) shown first: random lattices at L = 12 when present, else the first evaluated; None if empty."""
    choices = general_choices(doc)
    if not choices:
        return None
    family = "random" if "random" in choices else next(iter(choices))
    Ls = choices[family]
    return family, 12 if 12 in Ls else Ls[0]


def _best_methods(row: Mapping[str, Any], methods: list[str]) -> tuple[float | None, list[str]]:
    """The best accuracy in a cell among ``methods`` and every method that reaches it (ties: same instances)."""
    accs = {m: a for m in methods if (a := stored_number(row, m)) is not None}
    if not accs:
        return None, []
    best = max(accs.values())
    return best, [m for m, a in accs.items() if a >= best - 1e-12]


def general_rows(doc: Doc, family: str | None = None, L: int | None = None) -> list[dict[str, Any]]:
    """The generalization table: per cell L, E (mean edges), T, noise, trivial, each method's accuracy, the best
    method(s) and ms per instance of the general model; a ``family`` column when not filtered by family.

    Accuracies are rounded to 3 decimals, E and ms to 1; a method that did not run in a cell is None.
    """
    methods = general_methods(doc)
    out = []
    for r in general_cells(doc, family, L):
        row: dict[str, Any] = {} if family is not None else {"family": r["family"]}
        row |= {
            "L": r["L"],
            "E": round(r["edges"], 1),
            "T": r["T"],
            "noise": r["noise"],
            "R": r.get("replicas") or None,
        }
        row["trivial"] = round(r["trivial"], 3)
        for m in methods:
            a = stored_number(r, m)
            row[m] = None if a is None else round(a, 3)
        row["best"] = ", ".join(_best_methods(r, methods)[1])
        ms = stored_number(r, "general_ms")
        row["general ms"] = None if ms is None else round(ms, 1)
        out.append(row)
    return out


def data_key(r: Mapping[str, Any]) -> tuple[int, float]:
    """What kind of data a cell holds: (R replicas, 0 for Eq. 1; observation noise sigma)."""
    return int(r.get("replicas") or 0), float(r["noise"])


def data_text(key: tuple[int, float]) -> str:
    """A data kind as a panel title: "clean (noise 0)", "noise 0.001", "R = 100 replicas", ..."""
    R, noise = key
    text = f"noise {noise:g}" if noise else ("clean (noise 0)" if not R else "")
    return f"R = {R} replicas" + (f", {text}" if text else "") if R else text


def general_figure(doc: Doc, family: str = "random", L: int = 12) -> go.Figure:
    """Accuracy vs T (log axis) of every method on one (family, L), one panel per noise level; trivial grey dashed."""
    title = f"unseen {family_text(family)} lattices, L = {L}: accuracy vs T"
    cells = general_cells(doc, family, L)
    if not cells:
        return empty_figure(title)
    kinds = sorted({data_key(r) for r in cells})
    fig = make_subplots(rows=1, cols=len(kinds), shared_yaxes=True, subplot_titles=[data_text(k) for k in kinds])
    shown: set[str] = set()
    for c, kind in enumerate(kinds, start=1):
        cs = [r for r in cells if data_key(r) == kind]
        Ts = [r["T"] for r in cs]
        for m in general_methods(doc):
            ys = [stored_number(r, m) for r in cs]
            if all(y is None for y in ys):
                continue
            ms = [stored_number(r, f"{m}_ms") for r in cs]
            trace = go.Scatter(
                x=Ts,
                y=ys,
                name=METHOD_TEXT.get(m, m),
                mode="lines+markers",
                line=METHOD_LINE.get(m, {"color": "#17becf"}),
                legendgroup=m,
                showlegend=m not in shown,
                text=["" if t is None else f"{t:.1f} ms per instance" for t in ms],
                hovertemplate="%{fullData.name}<br>T %{x:g}<br>accuracy %{y:.3f}<br>%{text}<extra></extra>",
            )
            fig.add_trace(trace, row=1, col=c)
            shown.add(m)
        trivial = go.Scatter(
            x=Ts,
            y=[r["trivial"] for r in cs],
            name="trivial (no edge)",
            mode="lines",
            line=TRIVIAL,
            legendgroup="trivial",
            showlegend=c == 1,
            hovertemplate="trivial 'no edge'<br>T %{x:g}<br>accuracy %{y:.3f}<extra></extra>",
        )
        fig.add_trace(trivial, row=1, col=c)
    Ts = sorted({r["T"] for r in cells})
    fig.update_xaxes(title_text="temperature T", type="log", tickvals=Ts, ticktext=[f"{T:g}" for T in Ts])
    fig.update_yaxes(title_text="accuracy γ", col=1)
    E, n = float(np.mean([r["edges"] for r in cells])), cells[0]["n"]
    sub = f"E ≈ {E:.0f} edges; {n} lattices per cell, one instance each; learned solid, non-learned dotted"
    return fig.update_layout(title=f"{title}<br><sup>{sub}</sup>", **LAYOUT | TWO_LINES)


MAP_COLUMNS = 3  # panels per row of the advantage map


def general_advantage_figure(doc: Doc, family: str = "random") -> go.Figure:
    """General model minus the best other method (not a general variant) per (L, T) cell, one panel per kind of data
    (noise level or R), at most ``MAP_COLUMNS`` panels to a row.

    Green: the general model is ahead; ``*``: it is below the trivial "no edge" guess there.
    """
    title = f"general model minus the best other method, unseen {family_text(family)} lattices"
    cells = general_cells(doc, family)
    others = [m for m in general_methods(doc) if not m.startswith("general")]
    if all(stored_number(r, "general") is None for r in cells):
        return empty_figure(title)
    kinds = sorted({data_key(r) for r in cells})
    Ls, Ts = sorted({r["L"] for r in cells}), sorted({r["T"] for r in cells})
    cols = min(len(kinds), MAP_COLUMNS)  # more panels side by side leave their cells too narrow for the numbers
    rows = -(-len(kinds) // cols)
    fig = make_subplots(rows=rows, cols=cols, shared_yaxes=True, subplot_titles=[data_text(k) for k in kinds],
                        vertical_spacing=0.3 / rows)  # fmt: skip
    diffs = []
    for c, kind in enumerate(kinds, start=1):
        z = np.full((len(Ls), len(Ts)), np.nan)
        text = [[""] * len(Ts) for _ in Ls]
        hover = [["no result"] * len(Ts) for _ in Ls]
        for r in (r for r in cells if data_key(r) == kind):
            i, j = Ls.index(r["L"]), Ts.index(r["T"])
            g, (b, best) = stored_number(r, "general"), _best_methods(r, others)
            if g is None or b is None:
                continue
            z[i, j] = g - b
            below = "*" if g < r["trivial"] else ""
            text[i][j] = f"{g - b:+.2f}{below}"
            hover[i][j] = (
                f"L {r['L']} (E {r['edges']:.0f}), T {r['T']:g}<br>general {g:.3f} ({g - b:+.3f})<br>best other:"
                f" {', '.join(best)} {b:.3f}<br>trivial {r['trivial']:.3f}"
            )
        diffs.append(z)
        heat = go.Heatmap(
            z=z,
            x=[f"{T:g}" for T in Ts],
            y=[f"L = {L}" for L in Ls],
            text=text,
            texttemplate="%{text}",
            textfont={"size": 10},
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale="PiYG",
            zmid=0,
            showscale=c == len(kinds),
            colorbar={"title": {"text": "Δ accuracy"}},
        )
        fig.add_trace(heat, row=(c - 1) // cols + 1, col=(c - 1) % cols + 1)
    span = max(0.05, float(np.nanmax(np.abs(diffs)))) if np.isfinite(diffs).any() else 0.05
    fig.update_traces(zmin=-span, zmax=span)
    fig.update_xaxes(title_text="T", type="category")
    fig.update_yaxes(type="category")
    note = "green: the general model is ahead; * general below the trivial 'no edge' guess"
    height = max(320, rows * (45 * len(Ls) + 110) + 60)
    return fig.update_layout(title=f"{title}<br><sup>{note}</sup>", height=height, **TWO_LINES)


CHECK_TEXT = {
    "trivial_ok": "at least the trivial guess",
    "anchor_ok": "at least the best non-learned anchor (inversion, binary decoder)",
    "entropy_ok": "wrong pairs less certain than right ones",
    "confident_ok": "at most 20 % of wrong pairs confident (S < 0.1)",
}


def general_checks_rows(doc: Doc) -> list[dict[str, Any]]:
    """The "never confidently worse than guessing" checks: per test, cells passed of cells tested, for the general
    model as shipped (evidence gate on Eq. 1 data, confidence head on replica data) and for the network alone
    (``summary.checks``)."""
    checks = (doc.get("summary") or {}).get("checks") or {}
    rows = []
    for test, text in CHECK_TEXT.items():
        row: dict[str, Any] = {"check (within 0.01 + 2 paired SE)": text}
        for name, label in (("general", "as shipped"), ("general_raw", "network alone")):
            c = (checks.get(name) or {}).get(test)
            row[label] = f"{c['passed']} / {c['cells']}" if isinstance(c, Mapping) else None
        rows.append(row)
    return rows if checks else []


def general_wins_text(doc: Doc) -> str:
    """One line: in how many cells the general model is better / equal / worse than each other method."""
    wins = (doc.get("summary") or {}).get("wins") or {}
    parts = [f"{m} {w['better']} / {w['equal']} / {w['worse']}" for m, w in wins.items() if isinstance(w, Mapping)]
    if not parts:
        return ""
    return "General model against each method, cells where it is better / equal / worse: " + " · ".join(parts) + "."


def general_model_text(doc: Doc) -> str:
    """The evaluated model in one line: file, parameters and the range of its fresh training lattices."""
    model = (doc.get("summary") or {}).get("model") or {}
    if not model:
        return ""
    text = f"model `{model.get('path', '?')}`"
    if isinstance(model.get("parameters"), int):
        text += f" ({model['parameters']:,} parameters)"
    td = model.get("training_distribution") or {}
    ranges = [f"{k} {td[f'{k}_min']:g}–{td[f'{k}_max']:g}" for k in ("L", "T") if f"{k}_min" in td and f"{k}_max" in td]
    if ranges:
        text += f", trained on freshly drawn lattices ({', '.join(ranges)}), none of them the evaluated ones"
    return text + "."


def general_calibrations(doc: Doc) -> dict[str, Mapping[str, Any]]:
    """The non-empty calibration blocks of a general-sweep document, keyed as in its summary (``CALIBRATION_TEXT``)."""
    summary = doc.get("summary") or {}
    return {k: summary[k] for k in CALIBRATION_TEXT if isinstance(summary.get(k), Mapping) and summary[k].get("pairs")}
