"""evaluate_model scores a saved model on fresh instances: sane keys and ranges, never a training state."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import isingviz.learn.evaluate as ev
from isingviz.data import build_dataset, training_states
from isingviz.lattice import adjacency_to_pairs, from_edges
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.networks import build_model
from isingviz.learn.store import LoadedModel, load_model, save_model
from isingviz.metrics import LN2

CFG = ModelConfig(L=6, M=10, channels=(4,), squeeze=4, hidden=16)
SPEC = dict(L=6, M=10, n_lattices=4, n_train=160, n_test=20, n_general_lattices=2, n_general=20)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    data = build_dataset(**SPEC, family_params={"n_edges": 5}, seed=3)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = build_model(CFG)
    path = tmp_path_factory.mktemp("evaluate") / "tiny.safetensors"
    save_model(path, net, CFG, T=data.spec.T, tau=CFG.tau, dataset=data.spec.to_dict(), name="tiny")
    return load_model(path)


def test_evaluate_model_keys_and_ranges(model: LoadedModel) -> None:
    res = ev.evaluate_model(model, n_test=40, n_general=20, n_general_lattices=2, seed=5)
    assert json.loads(json.dumps(res, allow_nan=False)) == res  # strict JSON
    assert res["model"] == "tiny" and res["T"] == model.T and res["tau"] == model.tau and res["M"] == CFG.M
    assert res["seconds"] > 0
    for split, n, n_lat in (("test", 40, 4), ("general", 20, 2)):
        r = res[split]
        assert r["n_instances"] == n and r["n_pairs"] == 15 and r["n_lattices"] == n_lat
        for key in ("accuracy", "trivial_accuracy", "majority_accuracy", "coverage@0.1", "coverage@0.6"):
            assert 0.0 <= r[key] <= 1.0
        assert r["trivial_accuracy"] == pytest.approx(10 / 15)  # 5 edges of 15 pairs on every lattice
        assert r["n_correct"] + r["n_incorrect"] == n * 15
        curve = r["coverage_curve"]
        assert len(curve["thresholds"]) == len(curve["coverage"]) == len(curve["accuracy"]) == 50
        assert curve["thresholds"][0] == 0.0 and curve["thresholds"][-1] == pytest.approx(LN2)
        assert curve["accuracy"][0] is None  # S < 0 keeps no pair
        assert all(a <= b for a, b in zip(curve["coverage"], curve["coverage"][1:]))


def test_test_instances_avoid_training_states(model: LoadedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    real = ev.evaluate_arrays

    def spy(m, X, y, *args, **kwargs):
        seen.append((X, y))
        return real(m, X, y, *args, **kwargs)

    monkeypatch.setattr(ev, "evaluate_arrays", spy)
    ev.evaluate_model(model, n_test=76, n_general=0, seed=2)  # 19 of the 64 - 45 unused per lattice
    (X, y), spec = seen[0], ev.model_dataset_spec(model)
    labels = [adjacency_to_pairs(from_edges(spec.L, e)).tobytes() for e in spec.lattices]
    used = {(lab, s.tobytes()) for lab, states in zip(labels, training_states(spec)) for s in states}
    fresh = {(row.tobytes(), s.astype(np.int8).tobytes()) for row, s in zip(y, X[:, :, 0])}  # column 0 is s0
    assert len(fresh) == 76  # distinct states, on the training lattices only
    assert {lab for lab, _ in fresh} <= set(labels)
    assert not fresh & used


def test_overrides_and_skipped_splits(model: LoadedModel) -> None:
    res = ev.evaluate_model(model, n_test=20, n_general=0, T=7.0, noise=0.01)
    assert res["T"] == 7.0 and res["noise"] == 0.01 and res["general"] is None
    with pytest.raises(ValueError, match="n_general_lattices"):
        ev.evaluate_model(model, n_test=0, n_general=10, n_general_lattices=0)


def test_model_without_dataset_is_refused(model: LoadedModel) -> None:
    bare = LoadedModel(metadata={**model.metadata, "dataset": None}, config=model.config, model=model.model)
    with pytest.raises(ValueError, match="no dataset metadata"):
        ev.evaluate_model(bare, n_test=10)


def test_predict_pairs_with_and_without_truth(model: LoadedModel) -> None:
    A = from_edges(6, [[0, 1], [2, 3], [4, 5]])
    x = ev.simulate_for_model(model, A, [1, -1, 1, -1, 1, -1])  # (L, M) at the model's T
    out = ev.predict_pairs(model, x, A)
    assert [(p["i"], p["j"]) for p in out["pairs"]] == [tuple(ij) for ij in zip(*np.triu_indices(6, 1))]
    assert all(0 <= p["p_edge"] <= 1 and 0 <= p["entropy"] <= LN2 + 1e-12 for p in out["pairs"])
    assert sum(p["true"] for p in out["pairs"]) == out["n_true_edges"] == 3
    assert out["trivial_accuracy"] == pytest.approx(12 / 15)
    hits = sum(p["predicted"] == p["true"] for p in out["pairs"])
    assert math.isclose(out["accuracy"], hits / 15)
    blind = ev.predict_pairs(model, x)
    assert blind["accuracy"] is None and all(p["true"] is None for p in blind["pairs"])
    with pytest.raises(ValueError, match="L=5"):
        ev.predict_pairs(model, x, from_edges(5, []))
