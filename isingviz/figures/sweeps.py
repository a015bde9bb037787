"""Plotly figures of the sweep results (``isingviz.experiments`` documents). Pure: a document in, a figure or rows out.

Every accuracy plot draws the trivial "no edge anywhere" accuracy of the same instances (grey dashed line) and the
best non-learned method on the same instances (``baseline`` blocks, black dotted); the paper's reported points are
stars (science.md: Fig. 2a 0.999 / 0.996 at N_train = 25,000; Fig. 2b accuracy ~1 at S_c ~ 0.1 and coverage ~96%
at S_c ~ 0.6; Fig. 4 the lines gamma = a N_L + b). ``headline_rows`` gives, for any sweep, one row per evaluation:
accuracy, trivial accuracy, best baseline (method) on the same instances.

The ``general`` sweep's figures are in ``isingviz.figures.general``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..experiments.baselines import KINDS, PER_INSTANCE, POOLED
from ..experiments.fig2 import PAPER
from ..experiments.fig34 import PAPER_FIG4
from ..metrics import LN2
from .general import general_default, general_figure
from .style import BASELINE, COLORS, LAYOUT, STAR, TRIVIAL, Doc, add_trivial, empty_figure, results

VARIANT_TEXT = {"scratch": "scratch-raw", "finetune": "fine-tuned from T=0.1", "decay": "decay-encoded"}


def _best(block: Mapping[str, Any]) -> float | None:
    return (block.get("baseline") or {}).get("best_accuracy")


def _star(fig: go.Figure, x: float, y: float, name: str, color: str, **where: Any) -> None:
    fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", name=name, marker={**STAR, "color": color}), **where)


def fig2a_figure(doc: Doc) -> go.Figure:
    """Train / test / unseen-lattice accuracy vs N_train; best baseline on the test and unseen instances."""
    rs = sorted(results(doc), key=lambda r: r["n_train"])
    if not rs:
        return empty_figure("Fig. 2a")
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
    add_trivial(fig, rs[0]["test"]["trivial_accuracy"])
    fig.update_xaxes(title_text="N_train")
    fig.update_yaxes(title_text="accuracy γ")
    return fig.update_layout(title="Fig. 2a: accuracy vs N_train (T = 0.4)", **LAYOUT)


def fig2b_figure(doc: Doc) -> go.Figure:
    """Coverage eta and accuracy of the pairs with S < S_c vs S_c, test (solid) and unseen lattices (dashed)."""
    rs = results(doc, stage=1)
    if not rs:
        return empty_figure("Fig. 2b")
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
    add_trivial(fig, test["trivial_accuracy"])
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
        return empty_figure("Fig. 3")
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
        return empty_figure("Fig. 4")
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
        add_trivial(fig, rs[0][split]["trivial_accuracy"], row=1, col=col)
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
        return empty_figure(f"baselines ({lattices} lattices)")
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
