"""Figures and tables of the general sweep (``isingviz.figures.sweeps``) on a synthetic document shaped like the
sweep's: accuracy vs T per method beside the trivial guess, the L x T advantage map, the table, the calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from isingviz.figures import calibration as cfig
from isingviz.figures import general as efg
from isingviz.figures import sweeps as ef
from tests.figures.test_calibration import calibration, is_empty

METHODS = ["general", "general_r1", "inversion", "binary_ml", "var", "cnn"]


def cell(family: str, L: int, T: float, noise: float) -> dict[str, Any]:
    """One cell (ROW) with the benchmark's orders of magnitude: 20 unseen lattices, the general model ahead of the
    inversion except on clean dense L = 32 at low T, below the trivial guess at L = 32, T = 50 with noise."""
    K = L * (L - 1) // 2
    E = 25 * (L / 12) ** 2 if family == "random" else 0.3 * K + (T == 1)
    trivial = 1 - E / K
    general = (1.0 if noise == 0 else 0.82) - 0.004 * (L - 8) - (0.05 if T == 50 else 0.0)
    if L == 32 and T == 50 and noise:
        general = trivial - 0.01
    inversion = general + 0.02 if (L == 32 and T == 0.4 and noise == 0) else general - (0.01 if noise == 0 else 0.1)
    row = {"L": L, "T": T, "noise": noise, "family": family, "n": 20, "edges": E, "trivial": trivial}
    accs = {"general": general, "general_r1": general - 0.005, "inversion": inversion, "var": 0.52}
    if L <= 12:
        accs["binary_ml"] = general + (0.01 if noise else 0.0)
    if L == 12:
        accs["cnn"] = 0.55
    for m in METHODS:
        if m in accs:
            row[m] = float(np.clip(accs[m], 0.0, 1.0))
            row[f"{m}_ms"] = 0.1 * L * (1 + METHODS.index(m))
    row["calibration"] = {"counts": [1, 2, 3]}  # raw counts the figures ignore
    return row


def wins(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out = {}
    for m in METHODS[1:]:
        pairs = [(r["general"], r[m]) for r in rows if m in r]
        out[m] = {
            "better": sum(g > a for g, a in pairs),
            "equal": sum(g == a for g, a in pairs),
            "worse": sum(g < a for g, a in pairs),
        }
    return out


def general_doc(
    families: tuple[str, ...] = ("random", "erdos_renyi"),
    Ls: tuple[int, ...] = (8, 12, 32),
    Ts: tuple[float, ...] = (0.4, 1.0, 5.0, 50.0),
    noises: tuple[float, ...] = (0.0, 0.001),
) -> dict[str, Any]:
    """A synthetic ``general`` sweep document, one failed task included (it must be skipped everywhere)."""
    rows = [cell(f, L, T, n) for f in families for L in Ls if f == "random" or L != 8 for T in Ts for n in noises]
    tasks = [
        {"stage": 0, "config": {k: r[k] for k in ("family", "L", "T", "noise")}, "seconds": 1.5, "result": r}
        for r in rows
    ]
    tasks.append({"stage": 0, "config": {"L": 16}, "seconds": 0.1, "result": {"error": "RuntimeError: boom"}})
    random12 = any(r["family"] == "random" and r["L"] == 12 for r in rows)
    return {
        "sweep": "general",
        "title": "The general model on unseen lattices, any L",
        "description": "the general model beside every method on the same unseen lattices",
        "quick": True,
        "command": "python -m isingviz sweep general --quick --workers 2",
        "wall_seconds": 212.0,
        "workers": 2,
        "started": "2025-01-01T00:00:00+00:00",
        "errors": ["L=16: RuntimeError: boom"],
        "notes": [],
        "stopped": False,
        "sizes": {"Ls": list(Ls), "Ts": list(Ts), "noises": list(noises), "n": 20},
        "tasks": tasks,
        "summary": {
            "methods": METHODS,
            "model": {
                "path": "models/general.safetensors",
                "parameters": 32451,
                "training_distribution": {"L_min": 8, "L_max": 32, "T_min": 0.3, "T_max": 60.0},
            },
            "calibration": calibration() if random12 else None,
            "calibration_all": calibration(drop=(7,)),
            "wins": wins(rows),
        },
    }


def cells_of(doc: dict[str, Any], family: str, L: int) -> list[dict[str, Any]]:
    rs = [t["result"] for t in doc["tasks"] if "error" not in t["result"]]
    return sorted((r for r in rs if r["family"] == family and r["L"] == L), key=lambda r: (r["T"], r["noise"]))


def trivial_traces(fig) -> list:
    return [t for t in fig.data if t.name == "trivial (no edge)"]


def test_methods_choices_and_default():
    doc = general_doc()
    assert efg.general_methods(doc) == METHODS
    del doc["summary"]["methods"]  # inferred from the rows: canonical order
    assert efg.general_methods(doc) == METHODS
    assert efg.general_choices(doc) == {"random": [8, 12, 32], "erdos_renyi": [12, 32]}
    assert efg.general_default(doc) == ("random", 12)
    assert efg.general_default(general_doc(families=("ring",), Ls=(16, 32))) == ("ring", 16)
    assert efg.general_default({"sweep": "general", "tasks": []}) is None


def test_rows_match_the_cells_with_missing_methods_as_none():
    doc = general_doc()
    rows = efg.general_rows(doc, "random", 12)
    cells = sorted(cells_of(doc, "random", 12), key=lambda r: (r["noise"], r["T"]))  # by kind of data, then T
    assert len(rows) == len(cells) == 8
    assert list(rows[0]) == ["L", "E", "T", "noise", "R", "trivial", *METHODS, "best", "general ms"]
    for row, c in zip(rows, cells):
        assert (row["L"], row["T"], row["noise"], row["E"], row["R"]) == (12, c["T"], c["noise"], 25.0, None)
        assert row["trivial"] == round(c["trivial"], 3) == 0.621
        for m in METHODS:
            assert row[m] == round(c[m], 3)
        assert row["general ms"] == round(c["general_ms"], 1)
    clean = rows[0]  # T = 0.4, clean: general and binary_ml tie
    assert clean["best"] == "general, binary_ml"
    far = efg.general_rows(doc, "random", 32)
    assert all(r["binary_ml"] is None and r["cnn"] is None for r in far)  # not run at L = 32
    assert far[0]["best"] == "inversion"  # clean, T = 0.4: the inversion is ahead there
    everything = efg.general_rows(doc)
    assert len(everything) == 40 and list(everything[0])[:2] == ["family", "L"]
    assert [r["family"] for r in everything][:24] == ["random"] * 24  # families in FAMILIES order


def test_accuracy_vs_T_one_panel_per_noise_with_trivial_line():
    doc = general_doc()
    fig = efg.general_figure(doc, "random", 12)
    assert [a.text for a in fig.layout.annotations] == ["clean (noise 0)", "noise 0.001"]
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"
    names = {t.name for t in fig.data}
    assert {efg.METHOD_TEXT[m] for m in METHODS} <= names
    triv = trivial_traces(fig)
    assert len(triv) == 2 and triv[0].line.dash == "dash" and triv[0].line.color == ef.TRIVIAL["color"]
    np.testing.assert_allclose(triv[0].y, [1 - 25 / 66] * 4)
    general = [t for t in fig.data if t.name == "general model"]
    assert len(general) == 2 and [t.showlegend for t in general] == [True, False]
    cells = [c for c in cells_of(doc, "random", 12) if c["noise"] == 0]
    assert list(general[0].x) == [0.4, 1.0, 5.0, 50.0]
    np.testing.assert_allclose(general[0].y, [c["general"] for c in sorted(cells, key=lambda c: c["T"])])
    assert general[0].line.dash is None and fig.data[2].line.dash == "dot"  # learned solid, inversion dotted
    at32 = {t.name for t in efg.general_figure(doc, "random", 32).data}
    assert efg.METHOD_TEXT["binary_ml"] not in at32 and efg.METHOD_TEXT["cnn"] not in at32
    assert is_empty(efg.general_figure(doc, "grid", 12))


def test_every_method_has_its_own_line_and_name():
    from isingviz.experiments.unseen import METHODS as ALL

    assert set(ALL) <= set(efg.METHOD_TEXT) and set(efg.METHOD_TEXT) == set(efg.METHOD_LINE)
    colours = [line["color"] for line in efg.METHOD_LINE.values()]
    assert len(set(colours)) == len(colours) and ef.TRIVIAL["color"] not in colours
    learned = {"general", "general_r1", "general_raw", "cnn"}
    assert all(("dash" in line) == (m not in learned) for m, line in efg.METHOD_LINE.items())


def test_advantage_map_general_minus_best_other():
    doc = general_doc()
    fig = efg.general_advantage_figure(doc, "random")
    assert len(fig.data) == 2 and all(t.type == "heatmap" for t in fig.data)
    clean, noisy = fig.data
    assert list(clean.y) == ["L = 8", "L = 12", "L = 32"] and list(clean.x) == ["0.4", "1", "5", "50"]
    z = np.asarray(clean.z, dtype=float)
    assert z[0, 0] == z[1, 0] == pytest.approx(0.0)  # L <= 12, clean: level with binary_ml
    assert z[2, 0] == pytest.approx(-0.02)  # L = 32, T = 0.4: the inversion is ahead
    assert z[2, 1] == pytest.approx(0.01)  # L = 32, T = 1: ahead of the inversion (binary_ml does not run)
    assert np.asarray(noisy.z, dtype=float)[2, 0] == pytest.approx(0.1)
    assert clean.zmid == 0 and clean.zmin == -clean.zmax
    assert noisy.text[2][3].endswith("*") and not noisy.text[1][3].endswith("*")  # below trivial at L = 32, T = 50
    assert "trivial" in noisy.customdata[2][3] and "binary_ml" in noisy.customdata[1][0]
    assert is_empty(efg.general_advantage_figure(doc, "grid"))


def test_advantage_map_wraps_its_panels_and_keeps_labels_short():
    doc = general_doc(noises=(0.0, 0.001, 0.01, 0.1))  # four kinds of data: three panels, then one below
    fig = efg.general_advantage_figure(doc, "random")
    assert len(fig.data) == 4 and efg.MAP_COLUMNS == 3
    lay = fig.layout
    assert lay.xaxis4.domain == lay.xaxis.domain  # the fourth panel starts a second row under the first
    assert lay.yaxis4.domain[1] < lay.yaxis.domain[0]
    labels = [t for trace in fig.data for row in trace.text for t in row if t]
    assert labels and all(len(t.rstrip("*")) <= 5 for t in labels)  # "+0.05": fits a cell of a third of the width


def test_texts_and_calibration_blocks():
    doc = general_doc()
    text = efg.general_wins_text(doc)
    w = doc["summary"]["wins"]["inversion"]
    assert f"inversion {w['better']} / {w['equal']} / {w['worse']}" in text
    assert "32,451 parameters" in efg.general_model_text(doc) and "L 8–32" in efg.general_model_text(doc)
    assert list(efg.general_calibrations(doc)) == ["calibration", "calibration_all"]
    assert efg.family_text("erdos_renyi") == "Erdős–Rényi" and efg.family_text("grid") == "grid"
    assert efg.general_wins_text({"summary": {}}) == "" and efg.general_model_text({}) == ""


def test_sweep_figure_dispatches_and_no_random_L12_does_not_crash():
    doc = general_doc()
    assert "random lattices, L = 12" in ef.sweep_figure(doc).layout.title.text
    other = general_doc(families=("ring", "grid"), Ls=(16, 32))
    assert "ring lattices, L = 16" in ef.sweep_figure(other).layout.title.text
    assert list(efg.general_calibrations(other)) == ["calibration_all"]
    assert is_empty(cfig.reliability_figure(other["summary"]["calibration"]))
    assert len(efg.general_advantage_figure(other, "grid").data) == 2
    assert ef.headline_rows(doc) == []  # the figure-sweep table has nothing to say about it
    empty = {**doc, "tasks": []}
    assert efg.general_rows(empty) == [] and efg.general_choices(empty) == {}
    assert is_empty(efg.general_figure(empty)) and is_empty(efg.general_advantage_figure(empty))
    assert is_empty(ef.sweep_figure(empty))
    with pytest.raises(ValueError, match="general"):
        ef.sweep_figure({"sweep": "nope"})


def test_replica_cells_get_their_own_panel_and_the_checks_table_reads_the_summary():
    doc = general_doc()
    extra = {**cell("random", 12, 1.0, 0.0), "replicas": 100}
    doc["tasks"].append({"stage": 0, "config": {}, "seconds": 1.0, "result": extra})
    titles = [a.text for a in efg.general_figure(doc, "random", 12).layout.annotations]
    assert titles == ["clean (noise 0)", "noise 0.001", "R = 100 replicas"]
    assert [r["R"] for r in efg.general_rows(doc, "random", 12)][-1] == 100
    assert efg.general_checks_rows(doc) == []  # no checks in this summary: no table
    doc["summary"]["checks"] = {
        "general": {t: {"cells": 9, "passed": 8, "failed": [{}]} for t in efg.CHECK_TEXT},
        "general_raw": {"trivial_ok": {"cells": 9, "passed": 5, "failed": [{}] * 4}},
    }
    rows = efg.general_checks_rows(doc)
    assert [r["as shipped"] for r in rows] == ["8 / 9"] * 4
    assert [r["network alone"] for r in rows] == ["5 / 9", None, None, None]
