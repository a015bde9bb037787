"""Training and confidence curves: the right traces, reference lines and axes, from real or partial histories."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isingviz.figures.curves import (
    compare_histories,
    coverage_figure,
    epoch_step,
    last_value,
    log_ticks,
    reference_levels,
    series,
    training_curves,
)
from isingviz.metrics import LN2, coverage_curve

HISTORY = [
    {"epoch": e, "train_loss": 0.7 / e, "test_loss": 0.72 / e, "train_accuracy": 0.6 + 0.05 * e,
     "test_accuracy": 0.6 + 0.04 * e, "grad_norm": 0.1 / e**2, "seconds": float(e)}
    for e in range(1, 5)
]  # fmt: skip


def names(fig) -> list[str]:
    return [t.name for t in fig.data]


def hlines(fig) -> list[float]:
    return sorted(s.y0 for s in fig.layout.shapes if s.y0 == s.y1)


def test_series_skips_missing_and_non_finite_values():
    h = [{"epoch": 1, "a": 0.5}, {"epoch": 2}, {"epoch": 3, "a": math.nan}, {"epoch": 4, "a": 0.7}, {"a": 0.9}]
    assert series(h, "a") == ([1.0, 4.0, 5.0], [0.5, 0.7, 0.9])
    assert last_value(h, "a") == 0.9 and last_value(h, "b") is None


def test_training_curves_three_panels_with_reference_lines():
    fig = training_curves(HISTORY, trivial=0.621, majority=0.68)
    assert names(fig) == ["train loss", "test loss", "train accuracy", "test accuracy", "gradient norm"]
    assert list(fig.data[3].y) == pytest.approx([h["test_accuracy"] for h in HISTORY])
    assert [fig.data[i].xaxis for i in range(5)] == ["x", "x", "x2", "x2", "x3"]
    assert hlines(fig) == [0.621, 0.68]
    assert all(s.yref == "y2" for s in fig.layout.shapes), "reference lines sit on the accuracy panel"
    assert fig.layout.yaxis3.type == "log" and fig.layout.yaxis.type != "log"


def test_training_curves_empty_or_partial_history():
    fig = training_curves([])
    assert not fig.data and any("no epoch" in a.text for a in fig.layout.annotations)
    partial = [{k: v for k, v in h.items() if not k.startswith("test")} for h in HISTORY]
    assert names(training_curves(partial, trivial=None)) == ["train loss", "train accuracy", "gradient norm"]


def epoch_ticks(axis, last: int) -> list[float]:
    """The tick positions a linear-mode plotly axis draws on 1..last."""
    assert axis.tickmode == "linear"
    return [axis.tick0 + k * axis.dtick for k in range(100) if 1 <= axis.tick0 + k * axis.dtick <= last]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_short_runs_have_integer_epoch_ticks(n):
    """Issue 12: a 2-epoch run showed epochs 0.5 and 1.5; every panel now ticks whole epochs only."""
    for fig, panels in ((training_curves(HISTORY[:n]), 3), (compare_histories({"a": HISTORY[:n], "b": HISTORY}), 2)):
        for i in range(panels):
            axis = fig.layout[f"xaxis{i + 1 if i else ''}"]
            ticks = epoch_ticks(axis, max(n, 4) if panels == 2 else n)
            assert ticks and all(float(t).is_integer() for t in ticks) and isinstance(axis.dtick, int)
    assert epoch_ticks(training_curves(HISTORY[:2]).layout.xaxis, 2) == [1, 2]


def test_epoch_step_keeps_at_most_eight_ticks():
    assert [epoch_step(n) for n in (1, 2, 8, 9, 14, 40, 41, 120, 500)] == [1, 1, 1, 2, 2, 5, 10, 20, 100]


def test_gradient_norm_panel_has_a_few_readable_log_ticks():
    """Issue 12: a narrow gradient-norm range drew 7 crowded ticks (0.1, 0.105, ...); now at most 5, labelled."""
    narrow = [{"epoch": e, "grad_norm": g} for e, g in ((1, 0.097), (2, 0.13))]
    fig = training_curves(narrow)
    axis = fig.layout.yaxis3
    assert axis.type == "log" and axis.tickmode == "array"
    assert list(axis.tickvals) == [0.097, 0.11, 0.13] and list(axis.ticktext) == ["0.097", "0.11", "0.13"]
    assert log_ticks([0.05, 0.6]) == ([0.05, 0.1, 0.2, 0.5], ["0.05", "0.1", "0.2", "0.5"])
    assert log_ticks([1e-3, 0.6])[0] == [1e-3, 1e-2, 1e-1]  # 1-2-5 and 1-3 would give 9 and 6
    assert log_ticks([1e-9, 1.0])[0] == [1e-9, 1e-7, 1e-5, 1e-3, 1e-1]  # many decades: every other power of ten
    assert log_ticks([]) == ([], []) and log_ticks([0.0, math.nan]) == ([], [])
    for values in ([0.1, 0.1001], [0.2, 0.21], [1e-4, 3.0], [0.003, 0.5, 7.0]):
        ticks, text = log_ticks(values)
        assert 1 <= len(ticks) <= 5 and len(text) == len(ticks) and ticks == sorted(ticks)
    runs = {"a": narrow, "b": [{"epoch": 1, "grad_norm": 0.01}]}
    assert list(compare_histories(runs).layout.yaxis2.tickvals) == [0.01, 0.02, 0.05, 0.1]


def test_coverage_figure_marks_s_c():
    rng = np.random.default_rng(0)
    p1 = rng.uniform(size=(20, 15))
    proba = np.stack([1 - p1, p1], axis=-1)  # (B, K, 2)
    y = (rng.uniform(size=(20, 15)) < 0.3).astype(int)
    curve = coverage_curve(proba, y)
    fig = coverage_figure(curve, 0.3)
    assert names(fig) == ["coverage eta", "accuracy gamma (kept pairs)"]
    assert list(fig.data[0].y) == pytest.approx(curve["coverage"])
    assert [s.x0 for s in fig.layout.shapes] == [0.3]
    assert any("S_c = 0.300" in a.text for a in fig.layout.annotations)
    assert tuple(fig.layout.xaxis.range) == pytest.approx((0, LN2 * 1.01))


def test_coverage_figure_accepts_json_lists_with_none():
    curve = {"thresholds": [0.0, 0.3, LN2], "coverage": [0.0, 0.5, 1.0], "accuracy": [None, 0.9, 0.8]}
    fig = coverage_figure(curve)
    assert math.isnan(fig.data[1].y[0]) and not fig.layout.shapes
    with pytest.raises(ValueError, match="one length"):
        coverage_figure({"thresholds": [0.0, 0.1], "coverage": [0.0], "accuracy": [None]})


def test_compare_histories_one_colour_per_run_two_panels():
    flat = [dict(h, test_accuracy=0.66, grad_norm=1e-4) for h in HISTORY]
    fig = compare_histories({"scratch-raw": flat, "fine-tuned": HISTORY, "decay": HISTORY[:2]}, majority=0.66)
    assert names(fig) == ["scratch-raw"] * 2 + ["fine-tuned"] * 2 + ["decay"] * 2
    assert [t.showlegend for t in fig.data] == [True, False] * 3
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert [t.xaxis for t in fig.data[:2]] == ["x", "x2"]
    assert hlines(fig) == [0.66] and fig.layout.yaxis2.type == "log"
    empty = compare_histories({"a": []})
    assert not empty.data and any("no history" in a.text for a in empty.layout.annotations)


def test_reference_levels_from_metrics_or_lattices():
    assert reference_levels({"metrics": {"trivial_accuracy": 0.62, "majority_accuracy": 0.7}}) == {
        "trivial": 0.62,
        "majority": 0.7,
    }
    # three lattices on L = 4 (K = 6): pair (0,1) in all, (1,2) in one -> majority guesses only (0,1)
    md = {"dataset": {"L": 4, "lattices": [[[0, 1]], [[0, 1], [1, 2]], [[0, 1]]]}}
    levels = reference_levels(md)
    assert levels["trivial"] == pytest.approx(1 - 4 / 18)
    assert levels["majority"] == pytest.approx(1 - 1 / 18)
    assert reference_levels({}) == {"trivial": None, "majority": None}
    assert reference_levels({"dataset": {"L": 4, "lattices": [[[0, 9]]]}})["majority"] is None
