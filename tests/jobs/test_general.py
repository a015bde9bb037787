"""GeneralTrainingJob: the general model trained in the background, with the CLI's metadata, stop and continuation."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from isingviz.dynamics import simulate
from isingviz.jobs.general import GeneralTrainingJob
from isingviz.lattice import random_lattice
from isingviz.learn.general.recipe import recipe_config, recipe_overrides, train_and_save_general
from isingviz.learn.general.train import GeneralTrainConfig
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.networks import build_model
from isingviz.learn.store import LoadedModel, load_model, model_to_bytes

GENERAL_TINY = {"L_min": 6, "L_max": 8, "M_min": 20, "M_max": 30, "steps_per_epoch": 1, "batch_size": 4, "n_eval": 8}


def tiny_general(steps: int = 3, seed: int = 0) -> GeneralTrainConfig:
    return recipe_config(steps, seed, 2e-3, GENERAL_TINY)


@pytest.fixture(scope="module")
def general_job() -> GeneralTrainingJob:
    job = GeneralTrainingJob(tiny_general(), threads=1, name="gen").start()
    assert job.join(60)
    return job


def tiny_cnn() -> LoadedModel:
    cfg = ModelConfig(L=6, M=10, channels=(4,), squeeze=4, hidden=16, encoding="raw")
    return load_model(model_to_bytes(build_model(cfg), cfg, T=1.0, tau=0.1))


def test_a_tiny_general_job_makes_a_general_model_that_reads_any_L(general_job):
    job = general_job
    assert job.error is None and job.done and not job.running
    s = job.snapshot()
    assert s.phase == "finished" and s.fraction == 1.0 and (s.step, s.steps, s.epochs) == (3, 3, 3)
    assert [h["step"] for h in s.history] == [1, 2, 3] and 0 < job.trivial < 1
    model = job.model
    assert isinstance(model, LoadedModel) and model.is_general and model.name == "gen" and model.T == 1.0
    md = model.metadata
    assert GeneralTrainConfig.from_dict(md["dataset"]) == job.train_config  # the training distribution
    assert md["metrics"]["held_out_accuracy"] == max(h["test_accuracy"] for h in md["history"])
    assert md["metrics"]["steps_done"] == 3 and md["metrics"]["threads"] == 1
    assert "train-general --steps 3 --threads 1 --seed 0 --lr 0.002 --set L_min=6" in md["notes"]
    assert md["notes"].endswith("--out gen.safetensors")
    s0 = np.random.default_rng(0).choice([-1.0, 1.0], (2, 9))
    X = simulate(random_lattice(9, 10, seed=1), s0, T=1.0, tau=0.1, M=25)  # (2, 9, 25): a size never trained on
    p = model.predict_proba(X, T=1.0)
    assert p.shape == (2, 36, 2) and np.allclose(p.sum(-1), 1)


def test_the_app_model_matches_the_cli_one_but_for_the_notes(tmp_path, general_job):
    assert recipe_overrides(general_job.train_config) == GENERAL_TINY
    out = tmp_path / "gen.safetensors"
    train_and_save_general(out, steps=3, threads=1, overrides=GENERAL_TINY, name="gen")
    cli, app = load_model(out), general_job.model
    for key, value in app.model.state_dict().items():
        assert torch.equal(value, cli.model.state_dict()[key]), key
    drop = ("seconds",)
    a_md, c_md = app.metadata, cli.metadata
    assert set(a_md) == set(c_md) and a_md["dataset"] == c_md["dataset"] and app.config == cli.config
    assert [{k: v for k, v in h.items() if k not in drop} for h in a_md["history"]] == [
        {k: v for k, v in h.items() if k not in drop} for h in c_md["history"]
    ]
    assert {k: v for k, v in a_md["metrics"].items() if k not in drop} == {
        k: v for k, v in c_md["metrics"].items() if k not in drop
    }
    assert a_md["notes"].replace("--out gen.safetensors", f"--out {out}") == c_md["notes"]


def test_stopping_a_general_job_keeps_the_best_model_and_says_where_it_stopped():
    job = GeneralTrainingJob(tiny_general(steps=10_000), threads=1, name="long").start()
    deadline = time.monotonic() + 30
    while len(job.snapshot().history) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.snapshot().history, "no record finished"
    job.stop()
    assert job.join(10)
    s = job.snapshot()
    assert job.error is None and s.phase == "stopped" and 0 < s.fraction < 1 and s.step < 10_000
    assert job.result.stopped == "stop flag" and job.model is not None and job.model.is_general
    m = job.model.metadata["metrics"]
    assert m["stopped"] == "stop flag" and m["held_out_accuracy"] == max(h["test_accuracy"] for h in s.history)
    assert f"--stop-after-steps {m['steps_done']}" in job.model.metadata["notes"]


def test_a_general_job_continues_a_general_model_and_refuses_a_cnn(general_job):
    before = {k: v.clone() for k, v in general_job.model.model.state_dict().items()}
    job = GeneralTrainingJob(tiny_general(steps=2, seed=1), init=general_job.model, threads=1, name="more")
    job.run()
    assert job.error is None and job.model.is_general and "--init gen.safetensors" in job.model.metadata["notes"]
    assert all(torch.equal(v, general_job.model.model.state_dict()[k]) for k, v in before.items())  # base untouched
    bad = GeneralTrainingJob(tiny_general(), init=tiny_cnn(), threads=1)
    bad.run()
    assert bad.model is None and "general model" in bad.error and bad.snapshot().phase == "failed"
    early = GeneralTrainingJob(tiny_general())
    early.stop()
    early.run()
    assert early.model is None and early.error is None and early.snapshot().phase == "stopped"
