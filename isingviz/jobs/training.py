"""Training in the background: build a dataset and train a network in a daemon thread, watch it, stop it.

``TrainingJob`` runs ``data.build_dataset`` + ``train.train`` in a daemon thread that touches only the job object;
``snapshot()`` copies the progress (phase, epoch, batch fraction, history, seconds) under a lock; ``stop()`` sets
the stop flag (training ends within one batch, keeping the best network so far); a failure ends as ``error``, never
as an exception. The result ``model`` is a ``store.LoadedModel`` made by a round trip through the file format, so
its metadata is exactly what a saved file holds (``isingviz.jobs.general.GeneralTrainingJob`` does the same for the
general model). ``JobQueue`` runs jobs one after another (a job may fine-tune from an earlier one);
``dataset_spec`` builds a recipe from per-lattice counts; ``plateau_jobs`` plans the small barren-plateau comparison
(scratch-raw, fine-tuned, decay-encoded at one high T).
"""

from __future__ import annotations

import dataclasses
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import DatasetSpec, Stopped, build_dataset
from ..lattice import edges_of, make_lattice, validate_adjacency
from ..learn.evaluate import dataset_metrics, model_dataset_spec
from ..learn.model_config import ModelConfig
from ..learn.networks import n_parameters
from ..learn.store import LoadedModel, load_model, model_to_bytes
from ..learn.train import TrainConfig, TrainResult, check_compatible, train
from .background import BackgroundJob

PHASES = ("queued", "building dataset", "training", "evaluating", "finished", "stopped", "failed")


@dataclass(frozen=True)
class JobState:
    """A consistent copy of a job's progress (safe to read while the job runs)."""

    phase: str  # one of PHASES
    epoch: int  # epoch (history record) in progress, or the last one finished
    epochs: int  # epochs asked for
    batch_fraction: float  # fraction of the current epoch done, 0..1
    fraction: float  # fraction of the whole run done, 0..1
    history: list[dict[str, float]]  # per-epoch records so far (train.train's history format)
    seconds: float  # wall time since the job started (dataset building included)
    done: bool
    error: str | None
    loss: float | None  # last reported batch loss
    step: int | None = None  # Adam steps done (step-based runs: the general model; None for epoch-based ones)
    steps: int | None = None  # Adam steps asked for (None for epoch-based runs)


class TrainingRun(BackgroundJob):
    """What the training jobs share: identity, progress kept under a lock, a ``run`` that never raises, snapshots.

    Subclasses implement ``_work()`` (the run; ``self._stop`` is the stop flag) and ``_progress()`` (epochs asked
    for, fraction done, Adam step and steps, read under the lock).
    """

    def __init__(self, name: str, notes: str | None) -> None:
        self.name = name
        self.notes = notes
        self.id = uuid.uuid4().hex  # stable identity (object ids are reused after garbage collection)
        self.result: TrainResult | None = None
        self.model: LoadedModel | None = None
        self.error: str | None = None
        self.traceback: str | None = None
        super().__init__()
        self.thread_name = f"isingviz-train-{name}"
        self._phase = "queued"
        self._epoch = 0
        self._batch_fraction = 0.0
        self._loss: float | None = None
        self._history: list[dict[str, float]] = []
        self._t0: float | None = None
        self._t_end: float | None = None

    @property
    def running(self) -> bool:
        return self._t0 is not None and not self.done

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Do the whole job in the calling thread. Never raises: a failure ends as ``error``."""
        self._t0 = time.perf_counter()
        try:
            if self._stop.is_set():
                self._set(phase="stopped")
                return
            self._work()
        except Exception as e:  # a background thread must not die silently: keep the message for the UI
            self.error = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
            self.traceback = traceback.format_exc()
            self._set(phase="failed")
        finally:
            self._t_end = time.perf_counter()
            self._finish()

    def _work(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _progress(self) -> tuple[int, float, int | None, int | None]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _record(self, ev: dict[str, Any]) -> None:
        """Keep an epoch event as a history record (the caller holds the lock)."""
        self._batch_fraction = 1.0
        self._history.append({k: v for k, v in ev.items() if k not in ("kind", "epochs")})

    def _set(self, phase: str) -> None:
        with self._lock:
            self._phase = phase

    def snapshot(self) -> JobState:
        """The progress so far, copied under the lock."""
        with self._lock:
            epochs, fraction, step, steps = self._progress()
            end = self._t_end if self._t_end is not None else time.perf_counter()
            return JobState(
                phase=self._phase,
                epoch=self._epoch,
                epochs=epochs,
                batch_fraction=self._batch_fraction,
                fraction=fraction,
                history=[dict(h) for h in self._history],
                seconds=0.0 if self._t0 is None else end - self._t0,
                done=self._done.is_set(),
                error=self.error,
                loss=self._loss,
                step=step,
                steps=steps,
            )


class TrainingJob(TrainingRun):
    """Build ``spec``'s dataset and train on it in a background thread.

    Args:
        spec: dataset recipe; the network's L, M and tau follow it.
        config: architecture and encoding (default: ``ModelConfig()`` fields, or the base model's when
            fine-tuning); its L, M and tau are replaced by the dataset's.
        train_config: optimisation settings (default ``TrainConfig()``).
        init: fine-tune from this model, or from the model another ``TrainingJob`` produced (resolved when
            this job runs, e.g. the pre-training step of a ``JobQueue``).
        name, notes: stored in the finished model's metadata.
    """

    def __init__(
        self,
        spec: DatasetSpec,
        config: ModelConfig | None = None,
        train_config: TrainConfig | None = None,
        *,
        init: LoadedModel | TrainingJob | None = None,
        name: str = "model",
        notes: str | None = None,
    ) -> None:
        self.spec = spec
        self.config = config
        self.train_config = train_config or TrainConfig()
        self.init = init
        self.dataset_spec: DatasetSpec | None = None  # resolved recipe (lattices filled in) once built
        super().__init__(name, notes)

    def _work(self) -> None:
        base = self._base_model()
        config = model_config_for(self.spec, base, self.config)
        self._set(phase="building dataset")
        try:
            data = build_dataset(self.spec, stop=self._stop.is_set)
        except Stopped:
            self._set(phase="stopped")  # stopped while simulating: there is no model
            return
        self.dataset_spec = data.spec
        if self._stop.is_set():
            self._set(phase="stopped")  # stopped before training: there is no model
            return
        self._set(phase="training")
        init = {"init": base.model, "init_config": base.config} if base is not None else {}
        test = (data.test.X, data.test.y) if len(data.test) else (None, None)
        fit = {"config": config, "train_config": self.train_config, "progress": self._on_progress, **init}
        res = train(data.train.X, data.train.y, *test, **fit, stop=self._stop)
        self.result = res
        if not res.history:  # stopped before the first batch finished: nothing was trained
            self._set(phase="stopped")
            return
        self._set(phase="evaluating")
        self.model = self._package(res, data, base)
        self._set(phase="stopped" if res.stopped == "stop flag" else "finished")

    def _base_model(self) -> LoadedModel | None:
        if isinstance(self.init, TrainingJob):
            if not self.init.done:
                self.init.run()  # not started yet: do it here (a queue normally ran it before)
            if self.init.model is None:
                why = self.init.error or "it was stopped before training began"
                raise ValueError(f"the base run {self.init.name!r} produced no model: {why}")
            return self.init.model
        return self.init

    def _package(self, res: TrainResult, data: Any, base: LoadedModel | None) -> LoadedModel:
        """The trained network as a ``LoadedModel`` with full metadata (round trip through the file format)."""
        spec = data.spec
        scored = LoadedModel(metadata={"T": spec.T, "tau": spec.tau}, config=res.config, model=res.model)
        metrics = dataset_metrics(scored, data)
        seconds = res.history[-1]["seconds"] if res.history else 0.0
        metrics.update(best_epoch=res.best_epoch, stopped=res.stopped, seconds=seconds, device=res.device)
        metrics.update(n_parameters=n_parameters(res.model), init=base.name if base is not None else None)
        meta = {"dataset": spec.to_dict(), "train_config": self.train_config.to_dict(), "history": res.history}
        meta.update(metrics=metrics, name=self.name, notes=self.notes)
        return load_model(model_to_bytes(res.model, res.config, T=spec.T, tau=spec.tau, **meta))

    def _on_progress(self, ev: dict[str, Any]) -> None:
        with self._lock:
            self._epoch = int(ev["epoch"])
            if ev["kind"] == "batch":
                self._batch_fraction = ev["batch"] / max(1, ev["batches"])
                self._loss = float(ev["loss"])
            else:
                self._record(ev)

    def _progress(self) -> tuple[int, float, int | None, int | None]:
        epochs = self.train_config.epochs
        if self._phase in ("evaluating", "finished"):
            fraction = 1.0
        elif self._phase in ("training", "stopped", "failed") and self._epoch:
            fraction = min(1.0, (self._epoch - 1 + self._batch_fraction) / max(1, epochs))
        else:
            fraction = 0.0
        return epochs, fraction, None, None


class JobQueue(BackgroundJob):
    """Run ``TrainingJob``s one after another in one daemon thread (in the mapping's order).

    A job may fine-tune from an earlier one (``init=earlier_job``). ``stop()`` stops the running job (it keeps
    its best network) and cancels those not yet begun.
    """

    def __init__(self, jobs: Mapping[str, TrainingJob]) -> None:
        if not jobs:
            raise ValueError("a job queue needs at least one job")
        super().__init__()
        self.jobs = dict(jobs)

    def run(self) -> None:
        try:
            for job in self.jobs.values():
                if not job.done:
                    job.run()
        finally:
            self._finish()

    def stop(self) -> None:
        for job in self.jobs.values():
            job.stop()

    @property
    def current(self) -> str | None:
        """Label of the job running now (None when none is)."""
        return next((k for k, j in self.jobs.items() if j.running), None)

    def snapshot(self) -> dict[str, JobState]:
        return {k: j.snapshot() for k, j in self.jobs.items()}

    @property
    def fraction(self) -> float:
        """Overall progress, each job weighted equally."""
        return sum(1.0 if j.done else j.snapshot().fraction for j in self.jobs.values()) / len(self.jobs)


# --- planning ------------------------------------------------------------------------------------------------
def model_config_for(
    spec: DatasetSpec, base: LoadedModel | None = None, config: ModelConfig | None = None, encoding: str | None = None
) -> ModelConfig:
    """The network config for training on ``spec``: L, M and tau always follow the dataset.

    From scratch: ``config`` (default ``ModelConfig()``) with the dataset's geometry. Fine-tuning from ``base``:
    the base's architecture (``config``, if given, must agree with it) with the dataset's geometry. ``encoding``
    overrides the input encoding. Raises ``ValueError`` (``train.check_compatible``'s message when the base's
    weights cannot carry over).
    """
    changes: dict[str, Any] = {"L": spec.L, "M": spec.M, "tau": spec.tau}
    if encoding is not None:
        changes["encoding"] = encoding
    if base is None:
        cfg = dataclasses.replace(config or ModelConfig(), **changes)
    else:
        wanted = dataclasses.replace(config or base.config, **changes)
        check_compatible(base.config, wanted)
        cfg = dataclasses.replace(base.config, **{**changes, "encoding": wanted.encoding})
    cfg.validate()
    return cfg


def _draw_others(spec: DatasetSpec, A: np.ndarray, n: int) -> list[np.ndarray]:
    """``n`` lattices of ``spec``'s family from its seed, different from ``A`` and from each other if possible."""
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 7]))
    seen, out, tries = {A.tobytes()}, [], 0
    while len(out) < n:
        B = make_lattice(spec.family, spec.L, rng, **spec.family_params)
        tries += 1
        if B.tobytes() not in seen or tries > 100 * (n + 1):  # a family with few members may repeat
            seen.add(B.tobytes())
            out.append(B)
    return out


def dataset_spec(
    *,
    per_lattice: int,
    test_per_lattice: int,
    general_lattices: int = 0,
    general_per_lattice: int = 0,
    include: np.ndarray | None = None,
    base: LoadedModel | None = None,
    **fields: Any,
) -> DatasetSpec:
    """A ``DatasetSpec`` from per-lattice counts (what a user sets), validated.

    Args:
        per_lattice, test_per_lattice: training / test instances on each training lattice.
        general_lattices, general_per_lattice: unseen lattices and instances on each (0: no generalization split).
        include: put this lattice (L, L) first among the training lattices, the other ``n_lattices - 1`` drawn
            from the family with the seed.
        base: reuse this model's training lattices (the paper's fine-tuning); ``L``, ``family``,
            ``family_params`` and ``n_lattices`` then come from the base's dataset.
        fields: any other ``DatasetSpec`` fields (T, tau, M, seed, noise, family, n_lattices, ...).
    """
    if per_lattice < 1 or test_per_lattice < 0:
        raise ValueError(
            f"need >= 1 training and >= 0 test instances per lattice, got {per_lattice}, {test_per_lattice}"
        )
    if base is not None and include is not None:
        raise ValueError("either reuse the base model's lattices or include the current lattice, not both")
    if base is not None:
        keep = {k: v for k, v in fields.items() if k not in ("L", "family", "family_params", "n_lattices")}
        spec = dataclasses.replace(model_dataset_spec(base), **keep)
    else:
        spec = DatasetSpec(**fields)
    if include is not None:
        A = validate_adjacency(include)
        if A.shape[0] != spec.L:
            raise ValueError(f"the lattice to include has L={A.shape[0]} spins but the dataset has L={spec.L}")
        spec = dataclasses.replace(
            spec, lattices=[edges_of(A)] + [edges_of(B) for B in _draw_others(spec, A, spec.n_lattices - 1)]
        )
    n_lat = len(spec.lattices) if spec.lattices is not None else spec.n_lattices
    counts = {"n_lattices": n_lat, "n_train": per_lattice * n_lat, "n_test": test_per_lattice * n_lat}
    general = {"n_general_lattices": general_lattices, "n_general": general_per_lattice * general_lattices}
    spec = dataclasses.replace(spec, **counts, **general, general_lattices=None)  # unseen lattices drawn anew
    spec.validate()
    return spec


def plateau_jobs(
    T: float,
    *,
    pretrain: LoadedModel | None = None,
    n_lattices: int = 10,
    per_lattice: int = 100,
    test_per_lattice: int = 30,
    epochs: int = 5,
    pretrain_epochs: int = 5,
    config: ModelConfig | None = None,
    seed: int = 0,
    threads: int | None = None,
    **fields: Any,
) -> dict[str, TrainingJob]:
    """The barren-plateau comparison at temperature ``T``, small enough for a CPU: jobs in running order.

    ``scratch-raw`` (paper input, random start), ``fine-tuned`` (raw input, starting from a network trained at
    T = 0.1 on the same lattices: ``pretrain``, or a ``pretrain T=0.1`` job added first) and ``decay`` (input minus
    the free decay, random start). All use the same lattices, instances and architecture (``pretrain``'s, else
    ``config``, default ``ModelConfig()``). ``fields``: other ``DatasetSpec`` fields (tau, M, family_params, ...).
    """
    counts = {"per_lattice": per_lattice, "test_per_lattice": test_per_lattice}
    tc = TrainConfig(epochs=epochs, seed=seed, threads=threads)
    jobs: dict[str, TrainingJob] = {}
    if pretrain is not None:
        spec = dataset_spec(**counts, base=pretrain, T=T, **fields)
        arch, base = pretrain.config, pretrain
    else:
        spec = dataset_spec(**counts, T=T, n_lattices=n_lattices, seed=seed, **fields)
        arch = dataclasses.replace(config or ModelConfig(), encoding="raw")
        pre_spec = dataclasses.replace(spec, T=0.1)
        pre_tc = dataclasses.replace(tc, epochs=pretrain_epochs)
        base = TrainingJob(pre_spec, arch, pre_tc, name="pretrain_T0.1")
        jobs["pre-train T=0.1"] = base
    raw, decay = dataclasses.replace(arch, encoding="raw"), dataclasses.replace(arch, encoding="decay")
    fine = raw if arch.in_channels == raw.in_channels else arch  # a 2-channel base keeps its own encoding
    jobs["scratch-raw"] = TrainingJob(spec, raw, tc, name=f"scratch_T{T:g}")
    jobs[f"fine-tuned-{fine.encoding}"] = TrainingJob(spec, fine, tc, init=base, name=f"finetune_T{T:g}")
    jobs["decay"] = TrainingJob(spec, decay, tc, name=f"decay_T{T:g}")
    return jobs
