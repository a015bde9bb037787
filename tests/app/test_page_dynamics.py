"""Dynamics page: AppTest runs; temperature, mode and initial-state inputs change what is shown."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from isingviz.lattice import from_edges
from ui.widgets import T_VALUES, instance_npz, state_from_row

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "2_Dynamics.py")
DEVIATION = "max |s − s0 (1−τ)^m|"


@pytest.fixture()
def at():
    return AppTest.from_file(PAGE, default_timeout=60).run()


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def captions(at):
    return " | ".join(c.value for c in at.caption)


def test_temperature_slider_is_log_spaced_over_the_paper_range():
    assert T_VALUES[0] == 0.05 and T_VALUES[-1] == 200
    assert {0.1, 0.4, 1.0, 10.0, 50.0, 100.0} <= set(T_VALUES)
    ratios = np.diff(np.log10(T_VALUES))
    assert ratios.min() > 0.09 and ratios.max() < 0.2  # 7 steps per decade, roughly even


def test_state_from_row_and_npz():
    row = pd.DataFrame([[1, -1, 1]], columns=["0", "1", "2"])
    np.testing.assert_array_equal(state_from_row(row), [1, -1, 1])
    with pytest.raises(ValueError, match="spin"):
        state_from_row(pd.DataFrame([[1, 0, None]], columns=["0", "1", "2"]))
    A = from_edges(3, [[0, 1]])
    data = np.load(io.BytesIO(instance_npz(np.zeros((3, 4)), np.ones(3), A, 0.4, 0.1, 4)))
    assert set(data.files) == {"X", "s0", "A", "T", "tau", "M"} and float(data["T"]) == 0.4


def test_page_renders_instance_and_caption(at):
    assert not at.exception and not at.error
    assert metric(at, "temperature T") == "0.4"
    assert "T = 0.4" in captions(at) and "M = 50" in captions(at)
    assert len(at.get("plotly_chart")) >= 2


def test_raising_T_shrinks_the_deviation_from_free_decay(at):
    low = float(metric(at, DEVIATION))
    at.select_slider(key="dyn_T").set_value(100.0).run()
    assert not at.exception
    assert metric(at, "temperature T") == "100" and "T = 100" in captions(at)
    high = float(metric(at, DEVIATION))
    assert high < 0.05 * low
    at.select_slider(key="dyn_T").set_value(200.0).run()
    assert float(metric(at, DEVIATION)) == pytest.approx(high / 2, rel=0.1)


def test_compare_temperatures_table_levels_off(at):
    table = at.dataframe[0].value
    assert list(table["T"]) == [0.1, 1.0, 10.0, 100.0]
    assert table["peak deviation"].is_monotonic_decreasing
    at.multiselect(key="dyn_Ts").set_value([]).run()
    assert any("at least one temperature" in i.value for i in at.info)


def test_stochastic_mode_all_up_and_edited_initial_state(at):
    at.radio(key="dyn_mode").set_value("stochastic heat-bath replicas").run()
    at.number_input(key="dyn_R").set_value(20).run()
    assert not at.exception and "R = 20 replicas" in captions(at)
    at.radio(key="dyn_init").set_value("all up").run()
    assert not at.exception
    at.radio(key="dyn_init").set_value("edit").run()
    assert not at.exception and not at.error
    editor = at.dataframe[0].value
    assert set(editor.iloc[0]) <= {1, -1}
    at.number_input(key="dyn_noise").set_value(0.1).run()
    assert not at.exception and "noise σ = 0.1" in captions(at)
