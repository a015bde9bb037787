"""AppTest of the Experiments page: no results -> an explanation; tiny results in a temp folder -> figures, tables and
working selectors (sweep, quick/full, training/unseen lattices); a synthetic general-sweep document (built in
test_experiment_figures_general.py) -> accuracy vs T, the L x T map, the table, the calibration, also live."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from isingviz.experiments.sweeps import SWEEPS, result_paths, run_sweep
from isingviz.jobs.background import BackgroundJob
from isingviz.jobs.manager import Cost
from tests.app.visiting import arrive
from tests.experiments.test_sweeps import DATA, NET
from tests.experiments.test_sweeps import TINY as SWEEP_TINY
from tests.figures.test_calibration import tempered_doc
from tests.figures.test_general import general_doc
from ui import visitor

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "6_Experiments.py")
TINY = {  # the sweeps' own tiny sizes (test_sweeps.py), with two temperatures for the baselines panel
    "fig4": {**SWEEP_TINY["fig4"], "model": NET},
    "baselines": {**SWEEP_TINY["baselines"], "T": [1.0, 5.0], "noise": [0.0]},
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


needs_general = pytest.mark.skipif(
    "general" not in SWEEPS, reason="the 'general' sweep is not registered in isingviz.experiments.sweeps.SWEEPS yet"
)


def write_general(folder: Path, doc: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    result_paths("general", True, folder)[0].write_text(json.dumps(doc), encoding="utf-8")


@needs_general
def test_general_sweep_figures_table_and_calibration(tmp_path, monkeypatch):
    write_general(tmp_path / "results", general_doc())
    monkeypatch.setenv("ISINGVIZ_RESULTS", str(tmp_path / "results"))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="ex_sweep").value == "general"
    assert (at.selectbox(key="ex_family").value, at.selectbox(key="ex_L_random").value) == ("random", 12)
    titles = chart_titles(at)
    assert len(titles) == 4
    assert "random lattices, L = 12: accuracy vs T" in titles[0] and "best other method" in titles[1]
    assert "reliability" in titles[2] and "trivial" in titles[2] and "coverage" in titles[3]
    table = at.dataframe[0].value
    assert len(table) == 8 and {"trivial", "general", "inversion", "best", "general ms"} <= set(table.columns)
    assert list(table["trivial"].unique()) == [0.621]
    assert any("better / equal / worse" in c.value for c in at.caption)
    assert any("diagonal" in c.value for c in at.caption)
    assert any("task failed" in w.value for w in at.warning)  # the failed cell is reported, not drawn
    at.selectbox(key="ex_family").set_value("erdos_renyi").run()
    assert not at.exception and at.selectbox(key="ex_L_erdos_renyi").options == ["12", "32"]
    at.selectbox(key="ex_L_erdos_renyi").set_value(32).run()
    assert not at.exception
    assert "Erdős–Rényi lattices, L = 32" in chart_titles(at)[0]
    assert set(at.dataframe[0].value["L"]) == {32} and at.dataframe[0].value["binary_ml"].isna().all()
    at.radio(key="ex_cal").set_value("calibration_all").run()
    assert not at.exception and len(chart_titles(at)) == 4


@needs_general
def test_the_replica_temperature_is_shown_before_and_after_when_its_benchmark_was_made(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    write_general(folder, general_doc())
    (folder / "replica_calibration.json").write_text(json.dumps(tempered_doc()), encoding="utf-8")
    monkeypatch.setenv("ISINGVIZ_RESULTS", str(folder))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    titles = chart_titles(at)
    assert len(titles) == 5 and "head's temperature 3.9" in titles[4]
    assert any("97 -> 150 of 150" in c.value for c in at.caption)


@needs_general
def test_general_sweep_without_random_L12_cells(tmp_path, monkeypatch):
    write_general(tmp_path / "results", general_doc(families=("ring", "grid"), Ls=(16, 32)))
    monkeypatch.setenv("ISINGVIZ_RESULTS", str(tmp_path / "results"))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert "ring lattices, L = 16" in chart_titles(at)[0]
    assert at.radio(key="ex_cal").options == ["all cells"]


class FinishedJob(BackgroundJob):
    """What ``draw`` reads of a ``SweepJob`` that has finished (the live quick run's result)."""

    error = None

    def __init__(self, result: dict) -> None:
        super().__init__()
        self.name, self.result = result["sweep"], result

    def run(self) -> None:
        self._finish()

    def snapshot(self) -> dict:
        return {"done": 5, "total": 5, "running": 0, "queued": 0, "eta": None, "fraction": 1.0, "seconds": 3.0,
                "finished": True, "error": None}  # fmt: skip


def test_live_general_result_is_drawn_beside_a_stored_one(tmp_path, monkeypatch):
    folder = tmp_path / "results"
    if "general" in SWEEPS:
        write_general(folder, general_doc())  # both on the page at once: every widget key must be unique
    monkeypatch.setenv("ISINGVIZ_RESULTS", str(folder))
    at = AppTest.from_file(PAGE, default_timeout=60)
    token = arrive(at)
    job = FinishedJob({**general_doc(), "quick": True, "stopped": True})
    visitor.manager().submit(token, job, Cost(1.0, 1), "a finished sweep", meta={"kind": "sweep"})
    assert job.join(10)
    at.run()
    assert not at.exception
    assert at.selectbox(key="live_family").value == "random"
    assert any("stopped" in w.value for w in at.warning)
    assert sum("accuracy vs T" in t for t in chart_titles(at)) == (2 if "general" in SWEEPS else 1)


def _progress_paths(node, path=()) -> list[tuple[int, ...]]:
    if getattr(node, "type", None) == "progress":
        return [path]
    children = getattr(node, "children", {})
    return [p for i, c in sorted(children.items()) for p in _progress_paths(c, (*path, i))]


def test_the_progress_bar_keeps_its_place_when_the_queue_line_goes(monkeypatch):
    """A queued job's page shows its queue line above its progress bar; when it starts, the bar must be redrawn in
    the same place, or the browser shows the stale bar beside the new one until the redraw ends."""
    line: list[str | None] = ["queued: 1st in line (1 job ahead)"]
    ticket = type("T", (), {"active": True, "why": None, "state": "queued", "job": None})()
    monkeypatch.setattr(visitor, "ticket", lambda kind: ticket)
    monkeypatch.setattr(visitor, "queue_line", lambda t: line[0])
    monkeypatch.setattr(visitor, "heartbeat", lambda: None)

    def script() -> None:
        import streamlit as st

        from ui.training import poll

        poll("sweep", lambda job: st.progress(0.0, text="a job: 0/? tasks done"))

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception and [i.value for i in at.info] == [line[0]]
    queued = _progress_paths(at.main)
    line[0], ticket.state = None, "running"
    at.run()
    assert not at.exception and len(at.info) == 0 and len(at.button) == 0
    assert _progress_paths(at.main) == queued and len(queued) == 1
