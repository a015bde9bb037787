"""Background training jobs: they finish, stop within a batch keeping a model, and fail with a message, not a crash."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from isingviz.data import DatasetSpec
from isingviz.jobs.training import JobQueue, TrainingJob, dataset_spec, model_config_for, plateau_jobs
from isingviz.lattice import edges_of, random_lattice
from isingviz.learn.model_config import ModelConfig
from isingviz.learn.store import LoadedModel, load_model, model_to_bytes
from isingviz.learn.train import TrainConfig

TINY = ModelConfig(L=6, M=10, channels=(4,), squeeze=4, hidden=16, encoding="raw")
COUNTS = {"per_lattice": 20, "test_per_lattice": 5}
GEOMETRY = {"L": 6, "M": 10, "n_lattices": 3, "family_params": {"n_edges": 5}}


def tiny_spec(**changes):
    return dataset_spec(**{**COUNTS, **GEOMETRY, **changes})


def tiny_train(epochs: int = 2) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=8, threads=1)


@pytest.fixture(scope="module")
def finished() -> TrainingJob:
    job = TrainingJob(tiny_spec(), TINY, tiny_train(), name="tiny").start()
    assert job.join(60)
    return job


def test_a_tiny_job_completes_with_a_self_describing_model(finished):
    job = finished
    assert job.error is None and job.done and not job.running
    state = job.snapshot()
    assert state.phase == "finished" and state.fraction == 1.0 and state.epoch == 2 and state.seconds > 0
    assert [h["epoch"] for h in state.history] == [1, 2]
    assert isinstance(job.model, LoadedModel)
    md = job.model.metadata
    assert md["name"] == "tiny" and md["T"] == 0.4 and len(md["history"]) == 2
    assert len(md["dataset"]["lattices"]) == 3 and md["dataset"]["n_train"] == 60
    assert md["metrics"]["trivial_accuracy"] == pytest.approx(10 / 15)  # 5 of 15 pairs are edges on each lattice
    assert 0 <= md["metrics"]["accuracy"] <= 1 and md["metrics"]["stopped"] == "completed"
    assert job.model.predict_proba(np.zeros((2, 6, 10))).shape == (2, 15, 2)
    again = load_model(model_to_bytes(job.model.model, job.model.config, T=0.4, tau=0.1))
    assert again.config == job.model.config


def test_snapshots_are_copies():
    job = TrainingJob(tiny_spec(), TINY, tiny_train())
    assert job.snapshot().phase == "queued" and job.snapshot().fraction == 0.0
    job.run()
    snap = job.snapshot()
    snap.history.clear()
    assert len(job.snapshot().history) == 2


def test_same_seeds_same_run(finished):
    twin = TrainingJob(tiny_spec(), TINY, tiny_train(), name="twin")
    twin.run()
    a = [h["test_accuracy"] for h in finished.model.metadata["history"]]
    assert a == [h["test_accuracy"] for h in twin.model.metadata["history"]]


def test_stop_ends_within_a_batch_and_keeps_the_best_model():
    job = TrainingJob(tiny_spec(), TINY, tiny_train(epochs=10_000), name="long").start()
    deadline = time.monotonic() + 30
    while not job.snapshot().history and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.snapshot().history, "no epoch finished"
    t0 = time.monotonic()
    job.stop()
    assert job.join(10)
    assert time.monotonic() - t0 < 5
    assert job.error is None and job.snapshot().phase == "stopped"
    assert job.result.stopped == "stop flag" and 1 <= len(job.result.history) < 10_000
    assert job.model is not None and job.model.metadata["metrics"]["stopped"] == "stop flag"
    best = max(h["test_accuracy"] for h in job.result.history)
    assert job.model.metadata["metrics"]["accuracy"] == pytest.approx(best, abs=1e-6)


def test_stop_before_start_makes_no_model():
    job = TrainingJob(tiny_spec(), TINY, tiny_train())
    job.stop()
    job.run()
    assert job.done and job.model is None and job.error is None and job.snapshot().phase == "stopped"


@pytest.mark.parametrize(
    "spec_changes, train_config, message",
    [
        ({}, TrainConfig(epochs=0), "epochs"),
        ({}, TrainConfig(batch_size=0), "batch_size"),
        ({"n_train": 10**6}, None, "distinct initial states"),
        ({"family_params": {"n_edges": 99}}, None, "n_edges"),
    ],
)
def test_invalid_settings_give_an_error_not_a_crash(spec_changes, train_config, message):
    job = TrainingJob(dataclasses.replace(tiny_spec(), **spec_changes), TINY, train_config or tiny_train())
    job.start()
    assert job.join(30)
    assert job.model is None and message in job.error and job.snapshot().phase == "failed"


def test_an_unexpected_exception_is_reported_with_its_type():
    job = TrainingJob("not a spec", TINY, tiny_train())  # type: ignore[arg-type]
    job.run()
    assert job.error.startswith("AttributeError") and "Traceback" in job.traceback


def test_a_job_starts_once(finished):
    with pytest.raises(ValueError, match="already started"):
        finished.start()


def test_dataset_spec_counts_include_and_reuse(finished):
    A = random_lattice(6, 7, seed=5)
    spec = tiny_spec(include=A)
    assert spec.lattices[0] == edges_of(A) and len(spec.lattices) == 3
    assert len({str(e) for e in spec.lattices}) == 3  # the others differ from it and from each other
    assert (spec.n_train, spec.n_test, spec.n_general) == (60, 15, 0)
    with pytest.raises(ValueError, match="L=7"):
        tiny_spec(include=random_lattice(7, 5, seed=0))
    reused = dataset_spec(per_lattice=4, test_per_lattice=2, base=finished.model, T=50.0, L=9, n_lattices=8)
    assert reused.lattices == finished.model.metadata["dataset"]["lattices"]
    assert (reused.L, reused.n_lattices, reused.n_train, reused.T) == (6, 3, 12, 50.0)
    with pytest.raises(ValueError, match="not both"):
        dataset_spec(**COUNTS, base=finished.model, include=A)
    with pytest.raises(ValueError, match="per lattice"):
        tiny_spec(per_lattice=0)


def test_model_config_follows_the_dataset_and_refuses_incompatible_bases(finished):
    spec = tiny_spec(M=12, tau=0.05)
    cfg = model_config_for(spec, None, dataclasses.replace(TINY, L=3, M=99))
    assert (cfg.L, cfg.M, cfg.tau) == (6, 12, 0.05)
    with pytest.raises(ValueError, match="cannot fine-tune: the base model has M=10"):
        model_config_for(spec, finished.model)
    with pytest.raises(ValueError, match="input encoding 'raw' has 1 channel"):
        model_config_for(tiny_spec(), finished.model, encoding="saturation")
    assert model_config_for(tiny_spec(), finished.model, encoding="decay").encoding == "decay"


def test_plateau_queue_pretrains_then_fine_tunes_on_the_same_lattices():
    jobs = plateau_jobs(
        50.0, n_lattices=3, per_lattice=10, test_per_lattice=4, epochs=1, pretrain_epochs=1, config=TINY
    )
    assert list(jobs) == ["pre-train T=0.1", "scratch-raw", "fine-tuned-raw", "decay"]
    for job in jobs.values():  # make the default-size network tiny: these tests only check the plumbing
        job.spec = dataclasses.replace(job.spec, **{k: v for k, v in GEOMETRY.items() if k != "n_lattices"})
    queue = JobQueue(jobs).start()
    assert queue.join(120) and queue.fraction == 1.0 and queue.current is None
    models = {k: j.model for k, j in jobs.items()}
    assert all(j.error is None for j in jobs.values()), {k: j.error for k, j in jobs.items()}
    assert models["pre-train T=0.1"].T == 0.1 and models["scratch-raw"].T == 50.0
    assert models["fine-tuned-raw"].metadata["metrics"]["init"] == "pretrain_T0.1"
    assert models["decay"].config.encoding == "decay"
    lattices = {str(m.metadata["dataset"]["lattices"]) for m in models.values()}
    assert len(lattices) == 1


def test_stopping_a_queue_cancels_the_runs_not_begun():
    jobs = {k: TrainingJob(tiny_spec(), TINY, tiny_train(epochs=10_000), name=k) for k in ("a", "b")}
    queue = JobQueue(jobs).start()
    deadline = time.monotonic() + 30
    while not jobs["a"].snapshot().history and time.monotonic() < deadline:
        time.sleep(0.01)
    queue.stop()
    assert queue.join(10)
    assert jobs["a"].model is not None and jobs["b"].model is None and jobs["b"].error is None


# --- the general model ---------------------------------------------------------------------------------------


def test_stop_is_honoured_while_the_dataset_is_built():
    """A big dataset is being simulated when Stop comes: the job ends long before the build would have."""
    spec = DatasetSpec(L=12, n_lattices=400, n_train=400 * 60, n_test=400, n_general=0, n_general_lattices=0, M=200)
    job = TrainingJob(spec, train_config=TrainConfig(epochs=1)).start()
    while job.snapshot().phase != "building dataset":
        time.sleep(0.01)
    t0 = time.perf_counter()
    job.stop()
    assert job.join(20), "the job did not stop while building its dataset"
    s = job.snapshot()
    assert s.phase == "stopped" and job.model is None and job.error is None
    assert time.perf_counter() - t0 < 10
