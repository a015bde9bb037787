"""The lifecycle shared by the app's background work (training jobs, job queues, sweeps): a daemon thread that
never touches the UI, a stop flag honoured by the work, and a done flag the UI polls."""

from __future__ import annotations

import threading
from typing import Any


class BackgroundJob:
    """Subclasses implement ``run()`` (which must end by calling ``self._finish()``) and set ``thread_name``."""

    thread_name = "isingviz-job"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self) -> Any:
        """Run in a daemon thread; returns ``self`` at once. A job starts only once."""
        if self._thread is not None or self._done.is_set():
            raise ValueError(f"{self.thread_name} was already started")
        self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the work to end at its next check of the stop flag."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the job is done (at most ``timeout`` seconds); returns ``done``."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def _finish(self) -> None:
        self._done.set()
