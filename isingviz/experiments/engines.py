"""Where a sweep's tasks run: this process, a local process pool, or a Dask cluster, behind one executor.

Both pools are ``concurrent.futures`` executors, so the runner (``runner.run_stage``) does not know which it has:

- ``local`` (default): a ``ProcessPoolExecutor`` of ``workers`` spawned processes (``workers=1``: this process).
- ``dask``: ``dask.distributed``; no ``scheduler`` starts a ``LocalCluster`` of ``workers`` processes with one thread
  each, ``scheduler="tcp://HOST:8786"`` connects to a running cluster (its workers need ``pip install .`` of this
  repository so that they can import the tasks, and should run with ``--nthreads 1``).

Every task runs with one torch thread and one BLAS thread in a pool (``runner.run_task`` sets it), so the same
seeds give the same numbers on either engine on CPU.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

ENGINES = ("local", "dask")
# Worker processes get one BLAS / OpenMP thread: numpy's SVDs in the baselines otherwise oversubscribe the cores
# (measured: pooled fits 30x slower with 2 workers x 2 BLAS threads on 2 cores). Read when a worker starts.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


@contextlib.contextmanager
def single_thread_env() -> Iterator[None]:
    """Set ``SINGLE_THREAD_ENV`` while worker processes are started (they inherit it); restore it afterwards."""
    old = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def init_worker() -> None:
    import torch

    torch.set_num_threads(1)


@dataclass
class Engine:
    """An open engine: ``executor`` (None: run in this process), ``restart()`` after a pool broke, ``close()``."""

    name: str
    workers: int
    scheduler: str | None = None
    executor: Executor | None = None
    _client: Any = field(default=None, repr=False)
    _cluster: Any = field(default=None, repr=False)

    @property
    def pooled(self) -> bool:
        return self.executor is not None

    def describe(self) -> dict[str, Any]:
        """The engine fields of a results document."""
        return {"engine": self.name, "workers": self.workers, "scheduler": self.scheduler}

    def start(self) -> Engine:
        if self.name == "local":
            if self.workers > 1:
                with single_thread_env():
                    ctx = mp.get_context("spawn")
                    self.executor = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=init_worker)
            return self
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as e:  # pragma: no cover - dask is in requirements.txt
            raise ValueError("the dask engine needs dask[distributed]: pip install -r requirements.txt") from e
        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout="20s")
            except OSError as e:
                raise ValueError(f"cannot reach the Dask scheduler at {self.scheduler}: {e}") from None
            self.workers = max(1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values()))
        else:
            with single_thread_env():
                self._cluster = LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
            self._client = Client(self._cluster)
        self.executor = self._client.get_executor()
        return self

    def restart(self) -> None:
        """A fresh local pool after a worker died (a ``BrokenProcessPool`` breaks the whole pool); Dask replaces
        lost workers itself."""
        if self.name == "local" and self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None
            self.start()

    def close(self, kill: bool = False) -> None:
        """Shut the engine down; ``kill`` (an interrupted sweep) ends running local tasks at once instead of
        waiting for them (their results were never going to be recorded)."""
        if self.executor is not None and self.name == "local":
            if kill:  # ProcessPoolExecutor has no public way to end running tasks before Python 3.14
                for proc in list(getattr(self.executor, "_processes", {}).values()):
                    proc.terminate()
            self.executor.shutdown(wait=True, cancel_futures=True)
        for obj in (self._client, self._cluster):
            if obj is not None:
                with contextlib.suppress(Exception):  # a cluster that is already gone needs no closing
                    obj.close()
        self.executor = self._client = self._cluster = None


@contextlib.contextmanager
def open_engine(name: str = "local", workers: int | None = None, scheduler: str | None = None) -> Iterator[Engine]:
    """The engine ``name`` with ``workers`` processes (default min(2, cores)), closed on exit."""
    if name not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    workers = default_workers() if workers is None else int(workers)
    if not 1 <= workers <= 1024:
        raise ValueError(f"workers must be between 1 and 1024, got {workers}")
    if scheduler is not None and name != "dask":
        raise ValueError("a scheduler address goes with the dask engine (--engine dask)")
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise ValueError(f"the scheduler address must look like tcp://HOST:8786, got {scheduler!r}")
    engine = Engine(name, workers, scheduler)
    try:
        yield engine.start()
    except BaseException:
        engine.close(kill=True)
        raise
    else:
        engine.close()
