"""AppTest of the Barren-plateau page: no shipped runs -> an explanation; tiny fake histories -> curves and numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.state
from isingviz.jobs.training import TrainingJob, dataset_spec
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.store import save_model
from isingviz.learn.train import TrainConfig
from tests.app.visiting import job_of
from ui.model_files import file_kwargs

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "5_Barren_plateau.py")
PLATEAU = 0.6


def fake_history(final: float, epochs: int = 6) -> list[dict]:
    """Accuracy rising linearly from the plateau to ``final``; the gradient norm shrinking."""
    return [
        {
            "epoch": e,
            "train_loss": 0.7 - 0.01 * e,
            "train_accuracy": PLATEAU + (final - PLATEAU) * e / epochs,
            "test_accuracy": PLATEAU + (final - PLATEAU) * e / epochs,
            "grad_norm": 0.1 / e,
            "seconds": float(e),
        }
        for e in range(1, epochs + 1)
    ]


@pytest.fixture(scope="module")
def tiny_model():
    spec = dataset_spec(per_lattice=20, test_per_lattice=5, L=6, M=10, n_lattices=3, family_params={"n_edges": 5})
    cfg = ModelConfig(L=6, M=10, channels=(4,), squeeze=4, hidden=16, encoding="raw")
    job = TrainingJob(spec, cfg, TrainConfig(epochs=1, batch_size=16, threads=1), name="tiny")
    job.run()
    assert job.error is None, job.error
    return job.model


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    folder = tmp_path / "shipped"
    monkeypatch.setattr(ui.state, "SHIPPED_DIR", folder)
    return folder


def write(folder: Path, model, name: str, history: list[dict], T: float) -> None:
    kw = file_kwargs(model, name)
    kw.update(history=history, T=T, metrics={"trivial_accuracy": 0.55, "majority_accuracy": PLATEAU})
    save_model(folder / f"{name}.safetensors", model.model, model.config, **kw)


def test_no_shipped_runs_explains(shipped):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("No shipped barren-plateau runs" in i.value for i in at.info)
    assert at.button(key="pl_run").label == "Run it live"


def test_fake_histories_draw_the_comparison(shipped, tiny_model):
    write(shipped, tiny_model, "scratch_T50", fake_history(0.6002), 50.0)
    write(shipped, tiny_model, "finetune_T50", fake_history(0.95), 50.0)
    write(shipped, tiny_model, "decay_T50", fake_history(0.9), 50.0)
    write(shipped, tiny_model, "pretrain_T0.1", fake_history(0.99), 0.1)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    assert not at.info
    assert at.get("plotly_chart"), "the shipped comparison is drawn"
    text = " ".join(m.value for m in at.markdown)
    assert "**scratch-raw** ends at test accuracy 0.600 after 6 epochs — on the plateau" in text
    assert "**fine-tuned** ends at test accuracy 0.950" in text
    assert "majority-label accuracy" in text and "10^4 epochs" in text
    assert any("pretrain_T0.1" in c.value and "0.990" in c.value for c in at.caption)
    box = at.checkbox(key="pl_use_pre")  # a short label that fits a fifth of the page at 1280 px (issue 12)
    assert box.label == "shipped base" and box.value and "pretrain_T0.1" in box.help


def test_live_run_with_tiny_settings(shipped, tiny_model):
    write(shipped, tiny_model, "pretrain_T0.1", fake_history(0.99), 0.1)  # its lattices (L = 6) are reused
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.number_input(key="pl_n").set_value(10)
    at.number_input(key="pl_epochs").set_value(1).run()  # the estimate and the button follow the inputs
    assert any("Estimated cost on this server" in c.value for c in at.caption)
    at.button(key="pl_run").click().run()
    assert not at.exception, at.exception
    queue = job_of(at, "plateau")
    assert list(queue.jobs) == ["scratch-raw", "fine-tuned-raw", "decay"]
    assert queue.join(60), "the live runs did not finish"
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert all(len(j.model.metadata["history"]) == 1 for j in queue.jobs.values())
    assert any("ends at test accuracy" in m.value for m in at.markdown)


def test_plateau_runs_group_shipped_names_by_T():
    from ui.training import plateau_caption, plateau_runs

    groups = plateau_runs({"scratch_T50": 1, "finetune_T50": 2, "pretrain_T0.1": 3, "paper_T0.4": 4, "decay_T1e2": 5})
    assert groups == {50.0: {"scratch": 1, "finetune": 2}, 0.1: {"pretrain": 3}, 100.0: {"decay": 5}}
    text = plateau_caption({"a": fake_history(0.7), "b": []}, {"majority": PLATEAU, "trivial": 0.55}, 50.0)
    assert "**a** ends at test accuracy 0.700 after 6 epochs — +0.100 vs the plateau" in text and "**b**" not in text
