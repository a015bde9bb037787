import threading

import numpy as np
import pytest
import torch

from isingviz.data import build_dataset
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.train import TrainConfig, check_compatible, train

TINY = ModelConfig(L=8, M=12, channels=(4,), squeeze=4, hidden=16, encoding="raw")


@pytest.fixture(scope="module")
def data():
    return build_dataset(
        L=8,
        family_params={"n_edges": 8},
        n_lattices=3,
        n_train=240,
        n_test=60,
        n_general=0,
        n_general_lattices=0,
        T=1.0,
        M=12,
        seed=1,
    )


def fit(data, **kw):
    tc = TrainConfig(**{"epochs": 3, "batch_size": 32, "threads": 1, "lr": 5e-3, **kw.pop("tc", {})})
    return train(
        data.train.X, data.train.y, data.test.X, data.test.y, config=kw.pop("config", TINY), train_config=tc, **kw
    )


def test_training_lowers_loss_and_records_history(data):
    r = fit(data, tc={"epochs": 6})
    h = r.history
    assert len(h) == 6 and h[-1]["train_loss"] < h[0]["train_loss"]
    for key in ("train_loss", "train_accuracy", "test_accuracy", "test_loss", "grad_norm", "seconds", "lr"):
        assert all(np.isfinite(rec[key]) for rec in h)
    assert r.best_epoch == 1 + int(np.argmax([rec["test_accuracy"] for rec in h]))
    assert not r.model.training


def test_deterministic_for_a_seed(data):
    a, b = fit(data), fit(data)
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    c = fit(data, tc={"seed": 1})
    assert any(not torch.equal(p, q) for p, q in zip(a.model.parameters(), c.model.parameters()))


def test_stop_flag_stops_within_a_batch_and_returns_a_model(data):
    stop = threading.Event()
    seen = []

    def progress(ev):
        seen.append(ev)
        if ev["kind"] == "batch":
            stop.set()

    r = fit(data, tc={"epochs": 50}, progress=progress, stop=stop)
    assert r.stopped == "stop flag" and len(r.history) == 1
    batches = [e for e in seen if e["kind"] == "batch"]
    assert len(batches) == 1
    assert r.model(torch.zeros(1, 1, 8, 12)).shape == (1, 28, 2)


def test_target_accuracy_stops_early(data):
    r = fit(data, tc={"epochs": 20, "target_accuracy": 0.01})
    assert r.stopped == "target" and len(r.history) == 1


def test_fine_tuning_starts_from_the_base_and_refuses_incompatible(data):
    base = fit(data)
    tuned = fit(data, tc={"epochs": 1, "lr": 1e-9}, init=base.model, init_config=base.config)
    for p, q in zip(base.model.parameters(), tuned.model.parameters()):
        assert torch.allclose(p, q, atol=1e-6)
    for change, msg in (({"hidden": 32}, "hidden"), ({"L": 9}, "L"), ({"encoding": "saturation"}, "channel")):
        other = ModelConfig(**{**TINY.to_dict(), "channels": TINY.channels, **change})
        with pytest.raises(ValueError, match=msg):
            check_compatible(TINY, other)


def test_bad_inputs_refused(data):
    with pytest.raises(ValueError, match="shape"):
        train(data.train.X[:, :5], data.train.y, config=TINY)
    with pytest.raises(ValueError, match="learning rate"):
        fit(data, tc={"lr": -1.0})
    with pytest.raises(ValueError, match="schedule"):
        fit(data, tc={"schedule": "warm"})
    for tc, msg in (({"threads": -3}, "threads must be an integer from 1 to 64"), ({"lr": float("inf")}, "learning"),
                    ({"batch_size": 10**8}, "batch_size must be an integer from 1 to 65,536")):  # fmt: skip
        with pytest.raises(ValueError, match=msg):
            fit(data, tc=tc)


def test_training_checks_its_memory_before_encoding(data, monkeypatch):
    monkeypatch.setenv("ISINGVIZ_MAX_BYTES", "100000")  # the network fits, its data and batches do not
    with pytest.raises(ValueError, match=r"training on [\d,]+ instances with batch size [\d,]+ would need about"):
        fit(data)
