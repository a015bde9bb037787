"""AppTest of the Experiments page: no results -> an explanation; tiny results in a temp folder -> figures, tables and
working selectors (sweep, quick/full, training/unseen lattices)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from isingviz.sweeps import result_paths, run_sweep

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "6_Experiments.py")
DATA = {"L": 6, "M": 12, "family_params": {"n_edges": 5}, "n_lattices": 3, "n_general_lattices": 2}
TINY = {
    "fig4": {
        "n_lattices": [1, 3],
        "variants": {"fixed": 100, "per_lattice": 10},
        "n_test": 9,
        "n_general": 6,
        "n_general_lattices": 2,
        "epochs": 1,
        "encoding": "decay",
        "n_baseline": 3,
        "model": {"channels": [4], "squeeze": 4, "hidden": 16},
    },
    "baselines": {"T": [1.0, 5.0], "noise": [0.0], "n_instances": 6, "pool_per_lattice": 4, "n_unseen_lattices": 2},
}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("made")
    for name, sizes in TINY.items():
        run_sweep(name, workers=1, out_dir=folder, sizes={**sizes, "dataset": DATA}, models=folder / "none")
    return folder


@pytest.fixture
def results(made, tmp_path, monkeypatch):
    folder = tmp_path / "results"
    shutil.copytree(made, folder)
    monkeypatch.setenv("ISINGVIZ_RESULTS", str(folder))
    return folder


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def test_no_results_shows_info(tmp_path, monkeypatch):
    monkeypatch.setenv("ISINGVIZ_RESULTS", str(tmp_path / "empty"))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("No sweep results" in i.value for i in at.info)
    assert at.button(key="ex_run") is not None  # the live run is still offered


def test_results_render_with_trivial_and_baseline(results):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="ex_sweep").options == ["Fig. 4: accuracy vs N_L (T = 50)", "Every method, T x noise"]
    assert chart_titles(at) == ["Fig. 4: accuracy vs N_L (T = 50)"]
    table = at.dataframe[0].value
    assert {"accuracy", "trivial", "best baseline", "best method"} <= set(table.columns)
    assert any("capped" in c.value for c in at.caption)  # N_L = 1: 2^6 states cannot give 100 + 8 test
    assert any("quick results" in c.value for c in at.caption)


def test_baseline_heat_map_lattice_selector(results):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="ex_sweep").set_value("baselines").run()
    assert not at.exception
    assert "training lattices" in chart_titles(at)[0]
    assert "template" in set(at.dataframe[0].value["method"])
    at.radio(key="ex_kind").set_value("unseen").run()
    assert not at.exception
    assert "unseen lattices" in chart_titles(at)[0]
    assert "template" not in set(at.dataframe[0].value["method"])  # no candidates for unseen lattices


def test_full_results_are_preferred_and_quick_selectable(results):
    for src, dst in zip(result_paths("fig4", True, results), result_paths("fig4", False, results)):
        shutil.copy(src, dst)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert at.radio(key="ex_size").value == "full"
    at.radio(key="ex_size").set_value("quick").run()
    assert not at.exception
    assert any("quick results" in c.value for c in at.caption)
