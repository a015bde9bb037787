"""The confidence head: identity at the start, inputs that name the data, a fit that lowers the held-out loss, and a
model file that carries it (``train-head``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from isingviz.cli.commands import main
from isingviz.experiments.unseen import evaluation_set
from isingviz.learn.general.head import (
    N_HEAD,
    N_HEAD_FIXED_PRIOR,
    ConfidenceHead,
    HeadTrainConfig,
    collect_examples,
    fit_head,
    head_inputs,
    replica_features,
)
from isingviz.learn.general.recipe import train_and_save_head
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.networks import build_model
from isingviz.learn.store import load_model, save_model
from isingviz.methods import General

SMALL = HeadTrainConfig(n_instances=48, group=8, L_max=10, replica_L_max=8, steps=60, held_out=0.3, seed=3)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A small, untrained general network saved as a model file (the head needs only a frozen network)."""
    cfg = ModelConfig(L=8, M=50, arch="general", hidden=8, rounds=1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = build_model(cfg).eval()
    path = tmp_path_factory.mktemp("m") / "base.safetensors"
    save_model(path, net, cfg, T=1.0, tau=0.1, name="base", notes="a test network")
    return path


def test_a_new_head_changes_nothing():
    z = torch.randn(3, 10)
    inputs = head_inputs(z, np.zeros((3, 4)), None, None)
    assert inputs.shape == (3, 10, N_HEAD)
    assert torch.equal(ConfidenceHead()(inputs, z), z)


def test_inputs_say_what_data_they_are_from():
    z = torch.zeros(2, 6)
    mean_field = head_inputs(z, np.zeros((2, 4)), None, None)
    learnt = (np.full((2, 6), -2.0), np.array([0.25, 0.75]))
    replicas = head_inputs(z, np.zeros((2, 4)), np.full((2, 6), 3.0), 100, learnt)
    assert torch.all(mean_field[..., 1:4] == 0) and torch.all(mean_field[..., 11:] == 0)  # no decoder, no R
    assert torch.allclose(replicas[..., 1], torch.tensor(0.3)) and torch.all(replicas[..., 2] == 1)
    assert torch.allclose(replicas[..., 3], torch.tensor(0.1))  # 1 / sqrt(R)
    assert torch.allclose(replicas[..., 11], torch.tensor(-0.2))  # the learnt density's logit / 10
    assert torch.allclose(replicas[:, 0, 12], torch.tensor([0.25, 0.75]))  # and the density itself


def test_a_head_made_before_the_learnt_density_reads_the_first_inputs():
    z = torch.randn(2, 6)
    glob, z_rep, learnt = np.ones((2, 4)), np.full((2, 6), 3.0), (np.full((2, 6), -2.0), np.array([0.2, 0.9]))
    old = head_inputs(z, glob, z_rep, 100, learnt, n_inputs=N_HEAD_FIXED_PRIOR)
    assert torch.equal(old, head_inputs(z, glob, z_rep, 100, learnt)[..., :N_HEAD_FIXED_PRIOR])
    assert ConfidenceHead(n_inputs=N_HEAD_FIXED_PRIOR)(old, z).shape == (2, 6)
    with pytest.raises(ValueError, match="11 or 13 inputs"):
        ConfidenceHead(n_inputs=12)
    with pytest.raises(ValueError, match="z_rep and R together"):
        head_inputs(z, glob, z_rep, None)


def test_replica_features_take_one_T_per_instance():
    X, _ = evaluation_set(8, 1.0, 0.0, 2, seed=1, replicas=100)
    fixed, (learnt, density) = replica_features(X, np.array([1.0, 5.0]), 0.1, 100)
    assert fixed.shape == learnt.shape == (2, 28) and density.shape == (2,)
    one_fixed, (one_learnt, one_density) = replica_features(X[1:], 5.0, 0.1, 100)
    np.testing.assert_allclose(fixed[1], one_fixed[0])
    np.testing.assert_allclose(learnt[1], one_learnt[0])
    assert density[1] == pytest.approx(one_density[0]) and np.all((density > 0) & (density < 1))


def test_the_fit_lowers_the_held_out_loss_and_keeps_the_best(base):
    train, held = collect_examples(load_model(base).model, SMALL)
    assert train["inputs"].shape[1] == N_HEAD and len(held["y"]) > 0
    head, history = fit_head(train, held, SMALL)
    assert history[0]["step"] == 0 and history[-1]["step"] == SMALL.steps
    assert min(h["test_loss"] for h in history) < history[0]["test_loss"]  # an untrained network: much to correct


def test_train_head_writes_a_model_that_general_reads_with_and_without_its_head(base, tmp_path):
    out = tmp_path / "with_head.safetensors"
    history, path = train_and_save_head(base, out, SMALL)
    loaded = load_model(path)
    assert loaded.config.head and loaded.is_general
    m = loaded.metadata
    assert m["metrics"]["head_test_loss"] <= m["metrics"]["head_test_loss_before"]
    assert "train-head base.safetensors" in m["notes"] and m["notes"].startswith("a test network | confidence head:")
    with pytest.raises(ValueError, match="already exists"):
        train_and_save_head(base, out, SMALL)
    X, _ = evaluation_set(8, 1.0, 0.0, 2, seed=4, replicas=1000)
    raw = General(loaded, use_head=False).predict_proba(X, T=1.0, tau=0.1)
    plain = General(load_model(base)).predict_proba(X, T=1.0, tau=0.1)
    np.testing.assert_allclose(raw, plain, atol=1e-6)  # the network itself is unchanged
    told = General(loaded).predict_proba(X, T=1.0, tau=0.1, replicas=1000)
    assert told.shape == raw.shape and not np.allclose(told, raw)


def test_train_head_command(base, tmp_path, capsys):
    out = tmp_path / "h.safetensors"
    args = ["train-head", str(base), "--out", str(out), "--quiet"]
    sets = [f"--set={k}={v}" for k, v in SMALL.to_dict().items() if v != HeadTrainConfig().to_dict()[k]]
    assert main([*args, *sets]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["out"] == str(out) and doc["metrics"]["head_test_loss"] > 0
    args[3] = str(tmp_path / "other.safetensors")
    assert main([*args, "--set", "steps=0"]) == 2
    assert "steps" in capsys.readouterr().err
    assert main([*args, "--set", "colour=1"]) == 2
    assert "unknown field" in capsys.readouterr().err
    assert not (tmp_path / "other.safetensors").exists()


def test_the_head_corrects_eq1_data_only_without_the_gate_and_within_the_sizes_it_was_trained_on(base, tmp_path):
    _, path = train_and_save_head(base, tmp_path / "h.safetensors", SMALL)
    loaded = load_model(path)
    assert loaded.config.head_L_max == SMALL.L_max == 10
    inside, _ = evaluation_set(8, 1.0, 0.0, 2, seed=6)
    outside, _ = evaluation_set(12, 1.0, 0.0, 2, seed=6)
    for X, applied in ((inside, True), (outside, False)):
        with_head = General(loaded, gate=False).predict_proba(X, T=1.0, tau=0.1)
        alone = General(loaded, use_head=False, gate=False).predict_proba(X, T=1.0, tau=0.1)
        assert np.allclose(with_head, alone) != applied
        gated = General(loaded).predict_proba(X, T=1.0, tau=0.1)  # the default on Eq. 1 data: the gate, no head
        assert np.allclose(gated, General(loaded, use_head=False).predict_proba(X, T=1.0, tau=0.1))
    replicas, _ = evaluation_set(12, 1.0, 0.0, 2, seed=6, replicas=100)  # replica data: the head at any L
    told = General(loaded).predict_proba(replicas, T=1.0, tau=0.1, replicas=100)
    assert not np.allclose(told, General(loaded, use_head=False).predict_proba(replicas, T=1.0, tau=0.1))
