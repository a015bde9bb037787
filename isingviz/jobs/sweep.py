"""A sweep run in the background (the app's live run), with progress and Stop."""

from __future__ import annotations

import time
from typing import Any

from ..experiments.sweeps import check_sweep, run_sweep
from .background import BackgroundJob


class SweepJob(BackgroundJob):
    """``run_sweep`` in a daemon thread (the app's live run); ``snapshot()`` is safe to call while it runs."""

    def __init__(self, name: str, quick: bool = True, **kwargs: Any) -> None:
        check_sweep(name)
        self.name, self.quick, self.kwargs = name, quick, kwargs
        self.result: dict[str, Any] | None = None
        self.error: str | None = None
        super().__init__()
        self.thread_name = f"isingviz-sweep-{name}"
        self._progress: dict[str, Any] = {"done": 0, "total": 0, "running": 0, "queued": 0, "eta": None}
        self._t0, self._t_end = time.perf_counter(), None

    def run(self) -> None:
        try:
            self.result = run_sweep(self.name, self.quick, progress=self._on_progress, stop=self._stop, **self.kwargs)
        except Exception as e:  # a background thread must not die silently
            self.error = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        finally:
            self._t_end = time.perf_counter()
            self._finish()

    def _on_progress(self, ev: dict[str, Any]) -> None:
        with self._lock:
            self._progress = {k: ev[k] for k in ("done", "total", "running", "queued", "eta")}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            p = dict(self._progress)
        frac = p["done"] / p["total"] if p["total"] else 0.0
        end = self._t_end if self._t_end is not None else time.perf_counter()
        return {**p, "fraction": 1.0 if self.done else frac, "seconds": end - self._t0, "finished": self.done,
                "error": self.error}  # fmt: skip
