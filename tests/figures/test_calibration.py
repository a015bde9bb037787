"""Calibration figures (``isingviz.figures.calibration``) on blocks shaped like the sweep's: the reliability
diagram and the coverage curve beside the trivial guess, before / after lines, the replica temperature's pair."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from isingviz.figures import calibration as cfig

# The calibration of results/bench_general.json (general model, random lattices, L = 12, all T and noise pooled).
RELIABILITY = [
    (0.0, 6723, 0.0163, 0.0162),
    (0.1, 1549, 0.1478, 0.1620),
    (0.2, 1553, 0.2511, 0.2479),
    (0.3, 1567, 0.3504, 0.3433),
    (0.4, 1592, 0.4473, 0.4033),
    (0.5, 1473, 0.5488, 0.5282),
    (0.6, 1030, 0.6465, 0.6544),
    (0.7, 654, 0.7468, 0.7798),
    (0.8, 491, 0.8521, 0.9206),
    (0.9, 3168, 0.9900, 0.9981),
]
COVERAGE = {
    "thresholds": [0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.7],
    "coverage": [0.3344, 0.3603, 0.3869, 0.4333, 0.5416, 0.6996, 1.0],
    "accuracy": [1.0, 1.0, 0.9996, 0.9974, 0.9798, 0.9368, 0.8401],
}


def is_empty(fig) -> bool:
    """The figure of ``style.empty_figure``: no traces, a "no results" note."""
    return not fig.data and any(a.text == "no results" for a in fig.layout.annotations)


def calibration(drop: tuple[int, ...] = ()) -> dict[str, Any]:
    """A calibration block (CAL) from the benchmark's numbers; ``drop``: bins left out (empty bins are absent)."""
    bins = [
        {"bin": [lo, round(lo + 0.1, 1)], "count": n, "mean_p": p, "edge_frequency": f}
        for k, (lo, n, p, f) in enumerate(RELIABILITY)
        if k not in drop
    ]
    return {"reliability": bins, "coverage": copy.deepcopy(COVERAGE), "pairs": 19800, "accuracy": 0.8401}


def test_reliability_diagram_and_trivial_of_the_pairs():
    cal = calibration()
    assert cfig.calibration_trivial(cal) == pytest.approx(1 - 25 / 66, abs=2e-3)  # 25 of 66 pairs are edges
    fig = cfig.reliability_figure(cal)
    bars, diagonal, points = fig.data
    assert list(bars.y) == [n for _, n, _, _ in RELIABILITY] and bars.yaxis == "y2"
    assert list(diagonal.x) == [0, 1] == list(diagonal.y)
    np.testing.assert_allclose(points.x, [p for _, _, p, _ in RELIABILITY])
    np.testing.assert_allclose(points.y, [f for _, _, _, f in RELIABILITY])
    assert [c[2] for c in points.customdata] == list(bars.y)  # counts in the hover
    assert "19,800 pairs" in fig.layout.title.text and "trivial 0.62" in fig.layout.title.text
    assert len(cfig.reliability_figure(calibration(drop=(3, 4))).data[2].x) == 8
    assert is_empty(cfig.reliability_figure(None)) and is_empty(cfig.reliability_figure({"reliability": []}))


def test_coverage_curve_with_trivial_line_and_missing_accuracy():
    cal = calibration()
    cal["coverage"]["accuracy"][0] = None  # no pair kept at the smallest S_c
    fig = cfig.coverage_accuracy_figure(cal)
    cov, acc = fig.data
    np.testing.assert_allclose(cov.x, COVERAGE["thresholds"])
    np.testing.assert_allclose(cov.y, COVERAGE["coverage"])
    assert math.isnan(acc.y[0]) and acc.y[-1] == pytest.approx(0.8401)
    (line,) = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert line.y0 == pytest.approx(cfig.calibration_trivial(cal))
    assert fig.layout.xaxis.range[1] >= 0.7  # the "all pairs" threshold is on the axis
    assert is_empty(cfig.coverage_accuracy_figure(None)) and is_empty(cfig.coverage_accuracy_figure({"pairs": 0}))


def test_reliability_before_and_after_the_head():
    cal = calibration()
    fig = cfig.reliability_figure(cal, before=calibration(drop=(3,)))
    names = [t.name for t in fig.data]
    assert names[2] == "general model (as shipped)" and names[3].startswith("network alone (no gate, no head)")
    assert len(cfig.reliability_figure(cal).data) == 3  # without a before: as it was


def tempered_doc() -> dict[str, Any]:
    """A ``benchmarks/replica_calibration.py`` document: the same pairs before and after the temperature."""
    after = calibration()
    before = copy.deepcopy(after)
    for b in before["reliability"]:  # surer before: the mean p pushed away from 1/2
        b["mean_p"] = min(1.0, max(0.0, 0.5 + 1.5 * (b["mean_p"] - 0.5)))
    checks = {"before": {"cells_with_20_wrong": 150, "entropy_ok": 137, "confident_ok": 97},
              "after": {"cells_with_20_wrong": 150, "entropy_ok": 135, "confident_ok": 150}}  # fmt: skip
    return {"benchmark": "replica_calibration", "seed": 2000, "fitted_temperature": 3.85, "shipped_temperature": 3.9,
            "nll_before": 0.723, "nll_after": 0.523, "checks": checks, "calibration_before": before,
            "calibration_after": after}  # fmt: skip


def test_replica_temperature_reliability_before_and_after():
    doc = tempered_doc()
    fig = cfig.replica_temperature_figure(doc)
    bars, diagonal, after, before = fig.data
    assert "temperature 3.9" in fig.layout.title.text and "pairs" in fig.layout.title.text
    assert after.name.startswith("general model") and before.name.startswith("without the temperature")
    assert before.line.dash == "dot" and after.line.dash is None
    np.testing.assert_allclose(after.x, [b["mean_p"] for b in doc["calibration_after"]["reliability"]])
    np.testing.assert_allclose(before.x, [b["mean_p"] for b in doc["calibration_before"]["reliability"]])
    text = cfig.replica_temperature_text(doc)
    assert "3.85" in text and "0.723 -> 0.523" in text and "97 -> 150 of 150" in text and "seed 2000" in text
    assert is_empty(cfig.replica_temperature_figure({})) and is_empty(cfig.replica_temperature_figure(None))
