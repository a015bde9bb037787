"""AppTest of the Predict page with a tiny session model: metrics beside the trivial accuracy, the S_c slider."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.state
from isingviz.jobs.training import TrainingJob, dataset_spec
from isingviz.lattice import from_edges, random_lattice
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.train import TrainConfig
from tests.app.visiting import arrive

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "4_Predict.py")


@pytest.fixture(scope="module")
def tiny_model():
    spec = dataset_spec(per_lattice=20, test_per_lattice=5, L=6, M=10, n_lattices=3, family_params={"n_edges": 5})
    cfg = ModelConfig(L=6, M=10, channels=(4,), squeeze=4, hidden=16)
    job = TrainingJob(spec, cfg, TrainConfig(epochs=1, batch_size=16, threads=1), name="tiny")
    job.run()
    assert job.error is None, job.error
    return job.model


@pytest.fixture(autouse=True)
def no_shipped_models(tmp_path, monkeypatch):
    monkeypatch.setattr(ui.state, "SHIPPED_DIR", tmp_path / "shipped")
    monkeypatch.setenv("ISINGVIZ_USER_MODELS", str(tmp_path / "user"))


def page(lattice, models) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    arrive(at, lattice=lattice, models=models)
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_no_matching_model_says_so():
    at = page(random_lattice(5, 4, seed=0), {})
    assert any("No model fits the current lattice (L = 5" in i.value for i in at.info)
    assert not at.metric


def test_one_instance_shows_accuracy_beside_trivial_and_s_c_moves_coverage(tiny_model):
    at = page(random_lattice(6, 5, seed=1), {"tiny": tiny_model})
    shown = metrics(at)
    assert "accuracy" in shown and "trivial guess" in shown
    assert float(shown["trivial guess"]) == pytest.approx(10 / 15, abs=1e-4)
    assert len(at.get("plotly_chart")) == 5  # two graphs, two matrices, the coverage curve
    at.slider(key="pr_sc").set_value(0.0).run()
    assert metrics(at)["coverage η at S_c"] == "0.0%"
    assert metrics(at)["accuracy γ at S_c"] == "—"
    assert at.get("arrow_data_frame") or at.dataframe, "every pair is unconfident at S_c = 0: the table lists them"
    at.slider(key="pr_sc").set_value(0.69).run()
    assert not at.exception, at.exception
    assert metrics(at)["coverage η at S_c"] != "0.0%"


def test_many_instances_on_a_training_lattice(tiny_model):
    lattices = tiny_model.metadata["dataset"]["lattices"]
    at = page(random_lattice(6, 5, seed=1), {"tiny": tiny_model})
    at.selectbox(key="pr_lattice").set_value("training lattice 2").run()
    at.radio(key="pr_many").set_value("many instances").run()
    at.number_input(key="pr_n").set_value(20).run()
    assert not at.exception, at.exception
    assert "mean accuracy" in metrics(at) and "accuracy" not in metrics(at)  # a short label (issue 12)
    assert any("its training lattice" in c.value and "never saw" in c.value for c in at.caption)
    edges = int(from_edges(6, lattices[1]).sum()) // 2
    assert float(metrics(at)["trivial guess"]) == pytest.approx(1 - edges / 15, abs=1e-4)
    at.slider(key="pr_k").set_value(7).run()
    assert not at.exception, at.exception


def test_a_slow_decoder_waits_on_a_short_button(tiny_model, monkeypatch):
    """Issue 12: "Binary decoder (~10 s)" was cut off in a fifth of the page; the label is short, the detail in help."""
    import isingviz.jobs.costs

    slow = {"binary_ml": 12.0}
    monkeypatch.setattr(isingviz.jobs.costs, "predict_seconds", lambda method, L, n: slow.get(method, 1e-3))
    at = page(random_lattice(6, 5, seed=1), {"tiny": tiny_model})
    button = at.button(key="pr_decoder")
    assert button.label == "Decoder (~12 s)" and "binary decoder" in button.help
    assert "binary decoder" not in metrics(at)
    button.click().run()
    assert not at.exception, at.exception
    assert "binary decoder" in metrics(at)


def test_too_many_instances_is_an_error_not_a_traceback(tiny_model):
    at = page(random_lattice(6, 5, seed=1), {"tiny": tiny_model})
    at.radio(key="pr_many").set_value("many instances").run()
    at.number_input(key="pr_n").set_value(100).run()  # more than the 2^6 initial states
    assert not at.exception, at.exception
    assert at.error


def test_general_model_reads_any_temperature(monkeypatch):
    """The shipped general model is offered for the current lattice and told the T chosen on the page."""
    shipped = Path(__file__).resolve().parents[2] / "models"
    if not (shipped / "general.safetensors").exists():
        pytest.skip("models/general.safetensors is not shipped")
    monkeypatch.setattr(ui.state, "SHIPPED_DIR", shipped)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert at.selectbox(key="pr_model").value == "general (shipped)", "the general model is the default"
    at.selectbox(key="pr_model").set_value("general (shipped)").run()
    at.select_slider(key="pr_T").set_value(5.0).run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["accuracy"]) > float(metrics["trivial guess"])
    assert any("T = 5" in c.value for c in at.caption)
