"""Home page: explanation always; the try-it panel with a tiny model trained here, or an st.info without one."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.state
from isingviz.data import build_dataset
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.store import save_model
from isingviz.learn.train import TrainConfig, train

APP = str(Path(__file__).resolve().parents[2] / "views" / "0_Home.py")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 6-spin model trained for one epoch on 2 lattices (a second of CPU), saved with its dataset recipe."""
    data = build_dataset(
        L=6, family_params={"n_edges": 5}, n_lattices=2, n_train=40, n_test=8, n_general=0, n_general_lattices=0, M=12
    )
    cfg = ModelConfig(L=6, M=12, channels=(4,), hidden=8, squeeze=2)
    tc = TrainConfig(epochs=1, batch_size=20, threads=1, device="cpu")
    res = train(data.train.X, data.train.y, config=cfg, train_config=tc)
    path = tmp_path_factory.mktemp("models") / "paper_T0.4.safetensors"
    return save_model(path, res.model, cfg, T=data.spec.T, tau=data.spec.tau, dataset=data.spec.to_dict(), name="tiny")


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_without_paper_model_explains_and_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setattr(ui.state, "PAPER_MODEL", tmp_path / "paper_T0.4.safetensors")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "python -m isingviz train" in at.info[0].value and "--out models/paper_T0.4.safetensors" in at.info[0].value
    assert at.title and len(at.latex) == 1  # Eq. 1 is there
    assert not at.metric


def test_try_it_shows_accuracy_beside_trivial(monkeypatch, tiny_model):
    monkeypatch.setattr(ui.state, "PAPER_MODEL", tiny_model)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and not at.error
    acc, triv = float(metric(at, "accuracy")), float(metric(at, "trivial “no edge” accuracy"))
    assert 0 <= acc <= 1 and triv == pytest.approx(10 / 15, abs=1e-3)  # 5 of 15 pairs are edges
    assert len(at.get("plotly_chart")) >= 2  # true and predicted graphs


def test_new_state_and_unseen_lattice(monkeypatch, tiny_model):
    monkeypatch.setattr(ui.state, "PAPER_MODEL", tiny_model)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.button[0].click().run()
    assert not at.exception and at.session_state["home_seed"] == 1
    at.toggle(key="home_unseen").set_value(True).run()
    assert not at.exception and not at.error
    assert "trained on only 2 lattices" in " ".join(c.value for c in at.caption)
    assert float(metric(at, "trivial “no edge” accuracy")) == pytest.approx(10 / 15, abs=1e-3)


def test_unseen_lattice_shows_the_general_model_beside_the_paper_model():
    root = Path(__file__).resolve().parents[2]
    if (
        not (root / "models" / "general.safetensors").is_file()
        or not (root / "models" / "paper_T0.4.safetensors").is_file()
    ):
        pytest.skip("the shipped paper and general models are needed")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120).run()
    at.toggle(key="home_unseen").set_value(True).run()
    assert not at.exception
    metrics = {m.label: float(m.value) for m in at.metric if m.label != "edges predicted / true"}
    assert metrics["general model accuracy"] > metrics["trivial “no edge” accuracy"] > metrics["accuracy"] - 0.2
