"""Plotly figures of the sweep results (``isingviz.sweeps`` documents). Pure: a document in, a figure or rows out.

Every accuracy plot draws the trivial "no edge anywhere" accuracy of the same instances (grey dashed line) and the
best non-learned method on the same instances (``baseline`` blocks, black dotted); the paper's reported points are
stars (science.md: Fig. 2a 0.999 / 0.996 at N_train = 25,000; Fig. 2b accuracy ~1 at S_c ~ 0.1 and coverage ~96%
at S_c ~ 0.6; Fig. 4 the lines gamma = a N_L + b). ``headline_rows`` gives, for any sweep, one row per evaluation:
accuracy, trivial accuracy, best baseline (method) on the same instances.

The ``general`` sweep (the general model on unseen lattices at any L, beside the other methods on the same
instances): ``general_figure`` (accuracy vs T per method, one panel per noise), ``general_advantage_figure`` (general
minus the best other method over L x T), ``general_rows`` (the table), ``reliability_figure`` and
``coverage_accuracy_figure`` (its calibration blocks). Learned methods are solid lines, non-learned ones dotted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .curves import coverage_figure
from .general_train import FAMILIES
from .metrics import LN2
from .sweeps_baselines import KINDS, PER_INSTANCE, POOLED
from .sweeps_fig2 import PAPER
from .sweeps_fig34 import PAPER_FIG4

Doc = Mapping[str, Any]
COLORS = {"train": "#2ca02c", "test": "#1f77b4", "general": "#d62728", "scratch": "#7f7f7f", "finetune": "#1f77b4"}
COLORS |= {"decay": "#ff7f0e", "fixed": "#1f77b4", "per_lattice": "#9467bd"}
TRIVIAL = {"color": "#7f7f7f", "dash": "dash", "width": 1}
BASELINE = {"color": "black", "dash": "dot", "width": 1.5}
STAR = {"symbol": "star", "size": 14, "line": {"color": "black", "width": 1}}
LAYOUT = {"margin": {"l": 10, "r": 10, "t": 50, "b": 40}, "legend": {"orientation": "h", "y": -0.2}, "height": 420}
VARIANT_TEXT = {"scratch": "scratch-raw", "finetune": "fine-tuned from T=0.1", "decay": "decay-encoded"}


def results(doc: Doc, stage: int | None = None) -> list[dict[str, Any]]:
    """The successful task results of a document (of one stage when given)."""
    return [t["result"] for t in doc.get("tasks", []) if "error" not in t["result"] and stage in (None, t["stage"])]


def _best(block: Mapping[str, Any]) -> float | None:
    return (block.get("baseline") or {}).get("best_accuracy")


def _trivial(fig: go.Figure, level: float | None, **where: Any) -> None:
    if level is not None and math.isfinite(level):
        fig.add_hline(y=level, line=TRIVIAL, annotation_text=f"trivial {level:.3f}", annotation_font_size=10, **where)


def _star(fig: go.Figure, x: float, y: float, name: str, color: str, **where: Any) -> None:
    fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", name=name, marker={**STAR, "color": color}), **where)


def _empty(title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text="no results", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig.update_layout(title=title, **LAYOUT)


def fig2a_figure(doc: Doc) -> go.Figure:
    """Train / test / unseen-lattice accuracy vs N_train; best baseline on the test and unseen instances."""
    rs = sorted(results(doc), key=lambda r: r["n_train"])
    if not rs:
        return _empty("Fig. 2a")
    fig = go.Figure()
    x = [r["n_train"] for r in rs]
    for key, name, ys in (
        ("train", "train", [r["train"]["accuracy"] for r in rs]),
        ("test", "test (same lattices)", [r["test"]["accuracy"] for r in rs]),
        ("general", "unseen lattices", [r["general"]["accuracy"] for r in rs]),
    ):
        fig.add_trace(go.Scatter(x=x, y=ys, name=name, mode="lines+markers", line={"color": COLORS[key]}))
    for split, name in (("test", "best baseline, test"), ("general", "best baseline, unseen")):
        ys = [_best(r[split]) for r in rs]
        fig.add_trace(go.Scatter(x=x, y=ys, name=name, mode="lines+markers", line={**BASELINE, "color": COLORS[split]}))
    p = PAPER["fig2a"]
    _star(fig, p["n_train"], p["train_accuracy"], f"paper train {p['train_accuracy']}", COLORS["train"])
    _star(fig, p["n_train"], p["test_accuracy"], f"paper test {p['test_accuracy']}", COLORS["test"])
    _trivial(fig, rs[0]["test"]["trivial_accuracy"])
    fig.update_xaxes(title_text="N_train")
    fig.update_yaxes(title_text="accuracy γ")
    return fig.update_layout(title="Fig. 2a: accuracy vs N_train (T = 0.4)", **LAYOUT)


def fig2b_figure(doc: Doc) -> go.Figure:
    """Coverage eta and accuracy of the pairs with S < S_c vs S_c, test (solid) and unseen lattices (dashed)."""
    rs = results(doc, stage=1)
    if not rs:
        return _empty("Fig. 2b")
    fig = go.Figure()
    for r in rs:
        dash = "solid" if r["split"] == "test" else "dash"
        where = "test" if r["split"] == "test" else "unseen lattices"
        sc = r["thresholds"]
        fig.add_trace(
            go.Scatter(x=sc, y=r["coverage"], name=f"coverage η, {where}", line={"color": "#1f77b4", "dash": dash})
        )
        acc = [np.nan if a is None else a for a in r["curve_accuracy"]]
        fig.add_trace(go.Scatter(x=sc, y=acc, name=f"accuracy γ, {where}", line={"color": "#d62728", "dash": dash}))
    test = next((r for r in rs if r["split"] == "test"), rs[0])
    _star(fig, 0.1, PAPER["fig2b"]["accuracy_at_0.1"], "paper: γ ≈ 1 at S_c ≈ 0.1", "#d62728")
    _star(fig, 0.6, PAPER["fig2b"]["coverage_at_0.6"], "paper: η ≈ 96% at S_c ≈ 0.6", "#1f77b4")
    _trivial(fig, test["trivial_accuracy"])
    best = _best(test)
    if best is not None:
        method = test["baseline"]["best_method"]
        fig.add_hline(
            y=best, line=BASELINE, annotation_text=f"best baseline ({method}) {best:.3f}", annotation_font_size=10
        )
    fig.update_xaxes(title_text="entropy threshold S_c", range=[0, LN2 * 1.01])
    fig.update_yaxes(title_text="η, γ", range=[0, 1.05])
    return fig.update_layout(title=f"Fig. 2b: coverage and accuracy vs S_c ({test['model']})", **LAYOUT)


def fig3_figure(doc: Doc, split: str = "test") -> go.Figure:
    """Accuracy vs T (log axis), one line per variant; best baseline and trivial accuracy per T."""
    rs = results(doc, stage=1)
    if not rs:
        return _empty("Fig. 3")
    fig = go.Figure()
    for v in ("scratch", "finetune", "decay"):
        vs = sorted((r for r in rs if r["variant"] == v), key=lambda r: r["T"])
        if vs:
            ys = [r[split]["accuracy"] for r in vs]
            line = {"color": COLORS[v]}
            fig.add_trace(
                go.Scatter(x=[r["T"] for r in vs], y=ys, name=VARIANT_TEXT[v], mode="lines+markers", line=line)
            )
    by_T = {r["T"]: r[split] for r in rs}
    Ts = sorted(by_T)
    fig.add_trace(
        go.Scatter(x=Ts, y=[_best(by_T[T]) for T in Ts], name="best baseline", mode="lines+markers", line=BASELINE)
    )
    triv = [by_T[T]["trivial_accuracy"] for T in Ts]
    fig.add_trace(go.Scatter(x=Ts, y=triv, name="trivial (no edge)", mode="lines", line=TRIVIAL))
    fig.add_annotation(
        text="paper (qualitative): scratch drops for T > 5; fine-tuned stays accurate up to T = 100",
        xref="paper",
        yref="paper",
        x=0,
        y=1.06,
        showarrow=False,
        xanchor="left",
        font={"size": 11},
    )
    fig.update_xaxes(title_text="temperature T", type="log")
    fig.update_yaxes(title_text=f"accuracy γ ({'test' if split == 'test' else 'unseen lattices'})")
    return fig.update_layout(title="Fig. 3: accuracy vs T", **LAYOUT)


def fig4_figure(doc: Doc) -> go.Figure:
    """Testing and generalization accuracy vs N_L: points, our fit (solid), the paper's line (dashed)."""
    rs = results(doc)
    if not rs:
        return _empty("Fig. 4")
    fits = (doc.get("summary") or {}).get("fits", {})
    fig = make_subplots(rows=1, cols=2, subplot_titles=("testing (same lattices)", "generalization (unseen lattices)"))
    xs = np.linspace(1, max(r["n_lattices"] for r in rs), 50)
    for col, split in ((1, "test"), (2, "general")):
        for v in ("fixed", "per_lattice"):
            vs = sorted((r for r in rs if r["variant"] == v), key=lambda r: r["n_lattices"])
            if not vs:
                continue
            c, name = COLORS[v], "N_train fixed" if v == "fixed" else "per lattice"
            x = [r["n_lattices"] for r in vs]
            show = col == 1
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[r[split]["accuracy"] for r in vs],
                    mode="markers",
                    name=name,
                    marker={"color": c},
                    legendgroup=v,
                    showlegend=show,
                ),
                row=1,
                col=col,
            )
            f = fits.get(v, {}).get(split, {})
            if f.get("a") is not None:
                text = f"fit {name}: a={f['a']:.4f}, b={f['b']:.3f}, R²={f['r2'] or 0:.2f}"
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=f["a"] * xs + f["b"],
                        mode="lines",
                        name=text,
                        line={"color": c},
                        legendgroup=v,
                        showlegend=True,
                    ),
                    row=1,
                    col=col,
                )
            p = PAPER_FIG4[split][v]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=p["a"] * xs + p["b"],
                    mode="lines",
                    line={"color": c, "dash": "dash"},
                    name=f"paper {name}: a={p['a']}, b={p['b']}",
                    legendgroup=v,
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[_best(r[split]) for r in vs],
                    mode="markers",
                    name="best baseline",
                    marker={"color": "black", "symbol": "x", "size": 7},
                    legendgroup="baseline",
                    showlegend=show and v == "fixed",
                ),
                row=1,
                col=col,
            )
        _trivial(fig, rs[0][split]["trivial_accuracy"], row=1, col=col)
    fig.update_xaxes(title_text="training lattices N_L")
    fig.update_yaxes(title_text="accuracy γ", col=1)
    return fig.update_layout(title="Fig. 4: accuracy vs N_L (T = 50)", **{**LAYOUT, "height": 480})


def method_order(doc: Doc) -> list[str]:
    """Row labels of the baseline heat map: per-instance methods, template, pooled methods, then the CNNs."""
    seen: dict[str, None] = {}
    for r in results(doc):
        for row in r["rows"]:
            seen[method_label(row)] = None
    order = [*PER_INSTANCE, "template", *(k for k, _, _ in POOLED)]
    known = [m for m in order if m in seen]
    return known + sorted(m for m in seen if m not in known)


def method_label(row: Mapping[str, Any]) -> str:
    return f"cnn ({row['model']})" if row["method"] == "cnn" else row["method"]


def baselines_heatmap(doc: Doc, lattices: str = "train") -> go.Figure:
    """Accuracy of every method (rows) at each T (columns), one panel per noise level; trivial in the title."""
    rs = [r for r in results(doc) if r["lattices"] == lattices]
    if not rs:
        return _empty(f"baselines ({lattices} lattices)")
    noises = sorted({r["noise"] for r in rs})
    Ts = sorted({r["T"] for r in rs})
    methods = [m for m in method_order(doc) if any(method_label(x) == m for r in rs for x in r["rows"])]
    fig = make_subplots(rows=1, cols=len(noises), shared_yaxes=True, subplot_titles=[f"noise {n:g}" for n in noises])
    for c, noise in enumerate(noises, start=1):
        z = np.full((len(methods), len(Ts)), np.nan)
        for r in rs:
            if r["noise"] == noise:
                for row in r["rows"]:
                    z[methods.index(method_label(row)), Ts.index(r["T"])] = row["accuracy"]
        text = [["" if np.isnan(v) else f"{v:.2f}" for v in line] for line in z]
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=[f"{T:g}" for T in Ts],
                y=methods,
                zmin=0.4,
                zmax=1.0,
                colorscale="Viridis",
                text=text,
                texttemplate="%{text}",
                textfont={"size": 9},
                showscale=c == len(noises),
                hovertemplate="%{y}<br>T %{x}<br>accuracy %{z:.3f}<extra></extra>",
            ),
            row=1,
            col=c,
        )
    fig.update_xaxes(title_text="T", type="category")
    fig.update_yaxes(autorange="reversed", col=1)
    triv = np.mean([r["trivial_accuracy"] for r in rs])
    where = "training lattices" if lattices == "train" else "unseen lattices"
    n = rs[0]["n_instances"]
    title = f"accuracy of every method on {where} (trivial 'no edge' ≈ {triv:.3f}; {n} instances per cell)"
    return fig.update_layout(
        title=title, height=max(380, 26 * len(methods) + 140), margin={"l": 10, "r": 10, "t": 70, "b": 40}
    )


def baselines_rows(doc: Doc, lattices: str = "train") -> list[dict[str, Any]]:
    """Per method: mean accuracy over the cells, how many cells it beats the trivial guess in, ms per instance."""
    rs = [r for r in results(doc) if r["lattices"] == lattices]
    out = []
    for m in method_order(doc):
        rows = [(r, x) for r in rs for x in r["rows"] if method_label(x) == m]
        if rows:
            acc = [x["accuracy"] for _, x in rows]
            beats = sum(x["accuracy"] > r["trivial_accuracy"] for r, x in rows)
            ms = 1000 * float(np.mean([x["seconds_per_instance"] for _, x in rows]))
            out.append(
                {
                    "method": m,
                    "data": rows[0][1]["data"],
                    "rule": rows[0][1]["rule"],
                    "cells": len(rows),
                    "mean accuracy": float(np.mean(acc)),
                    "min": min(acc),
                    "beats trivial in": beats,
                    "ms per instance": ms,
                }
            )
    return out


def headline_rows(doc: Doc) -> list[dict[str, Any]]:
    """One row per evaluation of a figure sweep: the point, accuracy, trivial and the best baseline on the same set."""
    out = []
    for r in results(doc):
        point = {k: r[k] for k in ("n_train", "T", "variant", "n_lattices", "split") if k in r}
        for split in ("test", "general"):
            block = r if r.get("split") == split else r.get(split)
            if not isinstance(block, Mapping) or "accuracy" not in block:
                continue
            b = block.get("baseline") or {}
            out.append(
                {
                    **point,
                    "instances": "same lattices" if split == "test" else "unseen lattices",
                    "accuracy": block["accuracy"],
                    "trivial": block["trivial_accuracy"],
                    "best baseline": b.get("best_accuracy"),
                    "best method": b.get("best_method"),
                    "model on baseline subset": b.get("model"),
                    "subset": b.get("n_instances"),
                }
            )
    return out


GENERAL_METHODS = ("general", "general_r1", "inversion", "binary_ml", "var", "cnn")
METHOD_TEXT = {
    "general": "general model",
    "general_r1": "general model, 1 round",
    "inversion": "physics inversion",
    "binary_ml": "binary ML decoder (L ≤ 12)",
    "var": "VAR (told E)",
    "cnn": "paper CNN (L = 12)",
}
METHOD_LINE = {
    "general": {"color": COLORS["general"]},
    "general_r1": {"color": "#ff9896"},
    "inversion": {"color": "#1f77b4", "dash": "dot"},
    "binary_ml": {"color": "#9467bd", "dash": "dot"},
    "var": {"color": "#8c564b", "dash": "dot"},
    "cnn": {"color": "#2ca02c"},
}
FAMILY_TEXT = {"erdos_renyi": "Erdős–Rényi", "small_world": "small world"}  # the others read as they are named
CALIBRATION_TEXT = {"calibration": "random lattices, L = 12", "calibration_all": "all cells"}
TWO_LINES = {"margin": {**LAYOUT["margin"], "t": 80}}  # room for a title with a <sup> second line


def family_text(family: str) -> str:
    """How a lattice family is written on the page ("erdos_renyi" -> "Erdős–Rényi")."""
    return FAMILY_TEXT.get(family, family)


def _acc(row: Mapping[str, Any], key: str) -> float | None:
    """A finite number stored under ``key`` (None when the method did not run in that cell)."""
    v = row.get(key)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return float(v) if ok else None


def general_methods(doc: Doc) -> list[str]:
    """The methods of a general-sweep document, in the sweep's order (``summary.methods``, else found in the rows)."""
    rs = results(doc)
    listed = (doc.get("summary") or {}).get("methods")
    if not listed:
        found = {k for r in rs for k in r if f"{k}_ms" in r}
        listed = [m for m in GENERAL_METHODS if m in found] + sorted(found - set(GENERAL_METHODS))
    return [m for m in listed if any(_acc(r, m) is not None for r in rs)]


def _family_key(family: str) -> tuple[int, str]:
    return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), family)


def general_cells(doc: Doc, family: str | None = None, L: int | None = None) -> list[dict[str, Any]]:
    """The cells (task results) of a general-sweep document, of one family and L when given, by family, L, T, noise."""
    rs = [r for r in results(doc) if family in (None, r["family"]) and L in (None, r["L"])]
    return sorted(rs, key=lambda r: (_family_key(r["family"]), r["L"], r["T"], r["noise"]))


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
    accs = {m: a for m in methods if (a := _acc(row, m)) is not None}
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
        row |= {"L": r["L"], "E": round(r["edges"], 1), "T": r["T"], "noise": r["noise"]}
        row["trivial"] = round(r["trivial"], 3)
        for m in methods:
            a = _acc(r, m)
            row[m] = None if a is None else round(a, 3)
        row["best"] = ", ".join(_best_methods(r, methods)[1])
        ms = _acc(r, "general_ms")
        row["general ms"] = None if ms is None else round(ms, 1)
        out.append(row)
    return out


def _noise_text(noise: float) -> str:
    return f"noise {noise:g}" if noise else "clean (noise 0)"


def general_figure(doc: Doc, family: str = "random", L: int = 12) -> go.Figure:
    """Accuracy vs T (log axis) of every method on one (family, L), one panel per noise level; trivial grey dashed."""
    title = f"unseen {family_text(family)} lattices, L = {L}: accuracy vs T"
    cells = general_cells(doc, family, L)
    if not cells:
        return _empty(title)
    noises = sorted({r["noise"] for r in cells})
    fig = make_subplots(rows=1, cols=len(noises), shared_yaxes=True, subplot_titles=[_noise_text(n) for n in noises])
    shown: set[str] = set()
    for c, noise in enumerate(noises, start=1):
        cs = [r for r in cells if r["noise"] == noise]
        Ts = [r["T"] for r in cs]
        for m in general_methods(doc):
            ys = [_acc(r, m) for r in cs]
            if all(y is None for y in ys):
                continue
            ms = [_acc(r, f"{m}_ms") for r in cs]
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


def general_advantage_figure(doc: Doc, family: str = "random") -> go.Figure:
    """General model minus the best other method (not a general variant) per (L, T) cell, one panel per noise.

    Green: the general model is ahead; ``*``: it is below the trivial "no edge" guess there.
    """
    title = f"general model minus the best other method, unseen {family_text(family)} lattices"
    cells = general_cells(doc, family)
    others = [m for m in general_methods(doc) if not m.startswith("general")]
    if all(_acc(r, "general") is None for r in cells):
        return _empty(title)
    noises = sorted({r["noise"] for r in cells})
    Ls, Ts = sorted({r["L"] for r in cells}), sorted({r["T"] for r in cells})
    fig = make_subplots(rows=1, cols=len(noises), shared_yaxes=True, subplot_titles=[_noise_text(n) for n in noises])
    diffs = []
    for c, noise in enumerate(noises, start=1):
        z = np.full((len(Ls), len(Ts)), np.nan)
        text = [[""] * len(Ts) for _ in Ls]
        hover = [["no result"] * len(Ts) for _ in Ls]
        for r in (r for r in cells if r["noise"] == noise):
            i, j = Ls.index(r["L"]), Ts.index(r["T"])
            g, (b, best) = _acc(r, "general"), _best_methods(r, others)
            if g is None or b is None:
                continue
            z[i, j] = g - b
            below = "*" if g < r["trivial"] else ""
            text[i][j] = f"{g - b:+.3f}{below}"
            hover[i][j] = (
                f"L {r['L']} (E {r['edges']:.0f}), T {r['T']:g}<br>general {g:.3f}<br>best other: {', '.join(best)}"
                f" {b:.3f}<br>trivial {r['trivial']:.3f}"
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
            showscale=c == len(noises),
            colorbar={"title": {"text": "Δ accuracy"}},
        )
        fig.add_trace(heat, row=1, col=c)
    span = max(0.05, float(np.nanmax(np.abs(diffs)))) if np.isfinite(diffs).any() else 0.05
    fig.update_traces(zmin=-span, zmax=span)
    fig.update_xaxes(title_text="T", type="category")
    fig.update_yaxes(type="category")
    note = "green: the general model is ahead; * general below the trivial 'no edge' guess"
    return fig.update_layout(title=f"{title}<br><sup>{note}</sup>", height=max(320, 45 * len(Ls) + 170), **TWO_LINES)


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


def calibration_trivial(cal: Mapping[str, Any]) -> float | None:
    """Accuracy of "no edge anywhere" on a calibration block's pairs: 1 - sum(count * edge_frequency) / sum(count)."""
    bins = cal.get("reliability") or []
    n = sum(b["count"] for b in bins)
    return 1.0 - sum(b["count"] * b["edge_frequency"] for b in bins) / n if n else None


def _calibration_title(name: str, cal: Mapping[str, Any]) -> str:
    parts = [f"{cal['pairs']:,} pairs"] if isinstance(cal.get("pairs"), int) else []
    trivial = calibration_trivial(cal)
    if _acc(cal, "accuracy") is not None and trivial is not None:
        parts.append(f"accuracy {cal['accuracy']:.3f}, trivial {trivial:.3f}")
    return f"{name}<br><sup>{'; '.join(parts)}</sup>" if parts else name


def reliability_figure(cal: Mapping[str, Any] | None) -> go.Figure:
    """Reliability diagram of the general model's p(edge): per bin of p, the mean p vs the observed edge frequency.

    Points on the diagonal are calibrated (of the pairs given p = 0.3, 30 % are edges). Grey bars: pairs per bin
    (right axis). ``cal``: a calibration block, ``{"reliability": [{"bin", "count", "mean_p", "edge_frequency"}]}``.
    """
    bins = [b for b in (cal or {}).get("reliability") or [] if b.get("count")]
    if not bins:
        return _empty("reliability of p(edge)")
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
        name="general model",
        line={"color": COLORS["general"]},
        customdata=[[b["bin"][0], b["bin"][1], b["count"]] for b in bins],
        hovertemplate="p(edge) in [%{customdata[0]:.1f}, %{customdata[1]:.1f}): %{customdata[2]} pairs<br>"
        "mean p %{x:.3f}<br>edge frequency %{y:.3f}<extra></extra>",
    )
    fig.add_trace(points, secondary_y=False)
    fig.update_xaxes(title_text="predicted p(edge), mean in bin", range=[0, 1])
    fig.update_yaxes(title_text="observed edge frequency", range=[0, 1.02], secondary_y=False)
    fig.update_yaxes(title_text="pairs", showgrid=False, rangemode="tozero", secondary_y=True)
    return fig.update_layout(title=_calibration_title("reliability of p(edge)", cal or {}), **LAYOUT | TWO_LINES)


def coverage_accuracy_figure(cal: Mapping[str, Any] | None) -> go.Figure:
    """Coverage eta and accuracy gamma of the kept pairs (entropy S < S_c) vs S_c (``curves.coverage_figure``), with
    the trivial "no edge" accuracy of the same pairs. ``cal["coverage"]``: thresholds, coverage, accuracy lists."""
    curve = (cal or {}).get("coverage") or {}
    if not curve.get("thresholds"):
        return _empty("coverage and accuracy vs S_c")
    fig = coverage_figure(curve)
    fig.update_traces(mode="lines+markers")
    _trivial(fig, calibration_trivial(cal or {}))
    fig.update_xaxes(range=[0, max(LN2, *curve["thresholds"]) * 1.02])
    title = _calibration_title("coverage η and accuracy γ vs S_c (entropy S < S_c kept)", cal or {})
    return fig.update_layout(title=title, **LAYOUT | TWO_LINES)


FIGURES = {"fig2a": fig2a_figure, "fig2b": fig2b_figure, "fig3": fig3_figure, "fig4": fig4_figure}


def sweep_figure(doc: Doc, lattices: str = "train") -> go.Figure:
    """The figure of any sweep document (``lattices`` picks the panel of the baselines heat map; a general sweep
    shows its default (family, L), see ``general_figure`` for another)."""
    name = doc.get("sweep")
    if name == "general":
        family, L = general_default(doc) or ("random", 12)
        return general_figure(doc, family, L)
    if name == "baselines":
        if lattices not in KINDS:
            raise ValueError(f"lattices must be one of {KINDS}, got {lattices!r}")
        return baselines_heatmap(doc, lattices)
    if name not in FIGURES:
        raise ValueError(f"no figure for sweep {name!r}; known: {', '.join([*FIGURES, 'baselines', 'general'])}")
    return FIGURES[name](doc)
