"""The general model's training in the background (the Train page's "general model"): ``GeneralTrainingJob``.

It runs ``learn.general.train.train_general`` on lattices drawn afresh for every batch in a daemon thread, with the same
surface as ``jobs.TrainingJob`` (``snapshot()``, ``stop()`` keeping the best record, ``error`` instead of an
exception, ``model`` a ``store.LoadedModel`` round-tripped through the file format); its metadata is the one
``learn.general.recipe.train_and_save_general`` writes, and progress is counted in Adam steps.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..learn.general.recipe import general_metadata, recipe_overrides
from ..learn.general.train import GeneralTrainConfig, general_model_config, held_out_trivial, train_general
from ..learn.store import SUFFIX, LoadedModel, load_model, model_to_bytes
from ..learn.train import default_threads
from .training import TrainingRun


class GeneralTrainingJob(TrainingRun):
    """Train a general model (any lattice, any L) on fresh lattices in a background thread: ``train_general``.

    The finished ``model`` carries the metadata ``train_and_save_general`` writes (``general_metadata``: the
    ``GeneralTrainConfig`` as ``dataset``, history, summary metrics, notes with the equivalent
    ``python -m isingviz train-general`` command, ``--out NAME.safetensors``), so its file matches a CLI-made one but
    for that command. ``stop()`` ends the run before its next Adam step, keeping the best record so far.

    Args:
        train_config: training distribution and optimisation (default ``GeneralTrainConfig()``; e.g.
            ``learn.general.recipe.recipe_config(steps, seed, lr, overrides)``, as the CLI builds it).
        init: a general model to continue from (its architecture and weights; the schedule starts afresh).
        threads: torch CPU threads while training (the weights depend on it; default ``train.default_threads()``).
        name: stored in the model's metadata (and in the reproduction command's ``--out``).
    """

    def __init__(
        self,
        train_config: GeneralTrainConfig | None = None,
        *,
        init: LoadedModel | None = None,
        threads: int | None = None,
        name: str = "general",
    ) -> None:
        self.train_config = train_config or GeneralTrainConfig()
        self.init = init
        self.threads = threads
        self.trivial: float | None = None  # "no edge" accuracy on the held-out set, known once the run begins
        super().__init__(name, None)
        self._step = 0

    def _work(self) -> None:
        tc = self.train_config
        tc.validate()
        if self.init is not None and not self.init.is_general:
            raise ValueError(f"can only continue from a general model; {self.init.name} is a {self.init.config.arch}")
        threads = self.threads or default_threads()
        config = self.init.config if self.init is not None else general_model_config(tc.tau)
        self.trivial = held_out_trivial(tc)
        self._set(phase="training")
        net = self.init.model if self.init is not None else None
        res = train_general(config, tc, progress=self._on_progress, stop=self._stop, threads=threads, init=net)
        self.result = res
        if not res.history:  # stopped before the first record: nothing to keep
            self._set(phase="stopped")
            return
        self._set(phase="evaluating")
        init = None if self.init is None else str(_shown_path(self.init.path) or f"{self.init.name}{SUFFIX}")
        out = f"{self.name}{SUFFIX}"
        meta = general_metadata(
            res, tc, threads=threads, out=out, init=init, overrides=recipe_overrides(tc), name=self.name
        )
        self.model = load_model(model_to_bytes(res.model, res.config, **meta))
        self._set(phase="stopped" if res.stopped == "stop flag" else "finished")

    def _on_progress(self, ev: dict[str, Any]) -> None:
        with self._lock:
            self._epoch = int(ev["epoch"])
            self._step = int(ev["step"])
            if ev["kind"] == "batch":
                done_before = (self._epoch - 1) * self.train_config.steps_per_epoch
                self._batch_fraction = (self._step - done_before) / self.train_config.steps_per_epoch
                self._loss = float(ev["loss"])
            else:
                self._record(ev)

    def _progress(self) -> tuple[int, float, int | None, int | None]:
        tc = self.train_config
        epochs = math.ceil(tc.steps / tc.steps_per_epoch)
        if self._phase in ("evaluating", "finished"):
            fraction = 1.0
        else:
            fraction = min(1.0, self._step / tc.steps)
        return epochs, fraction, self._step, tc.steps


def _shown_path(path: Path | None) -> Path | None:
    """``path`` relative to the working directory when it lies below it (as a command line would name it)."""
    if path is None:
        return None
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path
