"""One job manager for a whole server: every background run of the app (training, plateau runs, live sweeps) goes
through it, so that a class of visitors shares the machine fairly and nothing runs that no one can see or stop.

- At most ``max_running`` jobs run at once (``ISINGVIZ_MAX_JOBS``, default max(1, cores // 2)); the others wait in
  one first-in first-out queue of at most ``max_queued`` (``ISINGVIZ_MAX_QUEUED``, default 4 per running slot).
- Per visitor (an owner token): one running job and at most two queued.
- A job's estimated cost (``Cost``: seconds at this machine's rate, bytes) is checked before it is accepted: above
  ``max_job_seconds`` (``ISINGVIZ_MAX_JOB_SECONDS``, default 600) or the memory budget (``limits.max_bytes()``,
  ``ISINGVIZ_MAX_BYTES``) it is refused with the numbers that would fit.
- A visitor not seen (``touch``) for ``orphan_seconds`` (``ISINGVIZ_ORPHAN_SECONDS``, default 600) has their jobs
  stopped (a training job keeps its best model so far) and their queued jobs cancelled.
- ``shutdown()`` stops everything and waits (it also runs at interpreter exit), so a server never exits with a
  training thread still inside torch.

A job is any ``BackgroundJob`` (``start``, ``stop``, ``join``, ``done``); the manager starts queued ones from a
monitor thread.
"""

from __future__ import annotations

import atexit
import itertools
import math
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..limits import fmt_bytes, max_bytes
from .background import BackgroundJob

STATES = ("queued", "running", "finished", "cancelled")
KEEP_FINISHED = 8  # ended tickets kept per owner, so that a returning visitor finds their results ...
KEEP_SECONDS = 3600.0  # ... for an hour after they ended (each holds its job's model)


class JobRefused(ValueError):
    """A job the manager will not take, with one sentence saying why and what would fit."""


@dataclass(frozen=True)
class Cost:
    """What a job is expected to cost: wall seconds on this machine (one job alone) and peak bytes of memory."""

    seconds: float
    bytes: int

    def text(self) -> str:
        return f"about {_duration(self.seconds)} and {fmt_bytes(self.bytes)} of memory"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _env_number(name: str, default: float, lo: float, hi: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number between {lo:g} and {hi:g}, got {raw!r}") from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{name} must be a number between {lo:g} and {hi:g}, got {raw!r}")
    return value


@dataclass(eq=False)
class Ticket:
    """One submitted job: who asked for it, what it is, what it was expected to cost, and where it stands."""

    id: int
    owner: str
    label: str
    job: BackgroundJob
    cost: Cost
    submitted: float
    state: str = "queued"
    started: float | None = None
    finished: float | None = None
    why: str | None = None  # why it was cancelled or stopped by the manager (orphaned visitor, shutdown)
    meta: dict[str, Any] = field(default_factory=dict)  # what the app needs to show it again (kind, names, ...)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class JobManager:
    """The server-wide queue and caps (see the module's docstring). Thread-safe; one per server process."""

    def __init__(
        self,
        *,
        max_running: int | None = None,
        max_queued: int | None = None,
        per_owner_running: int = 1,
        per_owner_queued: int = 2,
        max_job_seconds: float | None = None,
        memory_budget: int | None = None,
        orphan_seconds: float | None = None,
        poll_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        cores = os.cpu_count() or 1
        self.max_running = int(max_running or _env_number("ISINGVIZ_MAX_JOBS", max(1, cores // 2), 1, 1024))
        if max_queued is None:
            max_queued = int(_env_number("ISINGVIZ_MAX_QUEUED", 4 * self.max_running, 0, 10_000))
        self.max_queued = int(max_queued)
        self.per_owner_running, self.per_owner_queued = per_owner_running, per_owner_queued
        self.max_job_seconds = float(max_job_seconds or _env_number("ISINGVIZ_MAX_JOB_SECONDS", 600, 1, 1e7))
        self.memory_budget = int(memory_budget or max_bytes())
        self.orphan_seconds = float(orphan_seconds or _env_number("ISINGVIZ_ORPHAN_SECONDS", 600, 1, 1e7))
        self.poll_seconds, self.clock = poll_seconds, clock
        self._lock = threading.RLock()
        self._tickets: list[Ticket] = []
        self._seen: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._wake = threading.Event()
        self._monitor = threading.Thread(target=self._loop, name="isingviz-job-manager", daemon=True)
        self._monitor.start()
        atexit.register(_shutdown_at_exit, weakref.ref(self))

    # ---------------------------------------------------------------- visitors

    def touch(self, owner: str) -> None:
        """The visitor ``owner`` is here (every page run calls it); their jobs are safe from the orphan reaper."""
        with self._lock:
            self._seen[owner] = self.clock()

    # ---------------------------------------------------------------- submitting

    def check(self, owner: str, cost: Cost) -> None:
        """Raise ``JobRefused`` if ``owner`` may not submit a job of ``cost`` now (the same test ``submit`` makes)."""
        if cost.seconds > self.max_job_seconds:
            raise JobRefused(
                f"this run would take {_duration(cost.seconds)} on this server, more than the "
                f"{_duration(self.max_job_seconds)} one run may take here; ask for about "
                f"{self.max_job_seconds / cost.seconds:.0%} of it (fewer instances, epochs or steps)"
            )
        if cost.bytes > self.memory_budget:
            raise JobRefused(
                f"this run would need {fmt_bytes(cost.bytes)} of memory, more than the {fmt_bytes(self.memory_budget)} "
                f"one run may use here; ask for about {self.memory_budget / cost.bytes:.0%} of it (fewer instances "
                "or time steps)"
            )
        with self._lock:
            mine = [t for t in self._tickets if t.owner == owner and t.active]
            queued = [t for t in self._tickets if t.state == "queued"]
            if len(mine) >= self.per_owner_running + self.per_owner_queued:
                raise JobRefused(
                    f"you already have {len(mine)} runs started or waiting (at most {self.per_owner_running} "
                    f"running and {self.per_owner_queued} waiting per visitor); stop one or wait for it to finish"
                )
            if len(queued) >= self.max_queued and self._free_slots() == 0:
                raise JobRefused(
                    f"the server's queue is full ({len(queued)} runs waiting, about "
                    f"{_duration(self._wait_for(len(queued)))} of work); try again in a few minutes"
                )

    def submit(
        self, owner: str, job: BackgroundJob, cost: Cost, label: str, meta: dict[str, Any] | None = None
    ) -> Ticket:
        """Accept ``job`` for ``owner`` (refusing it with ``JobRefused`` as ``check`` says); it starts when a slot is
        free and the visitor has no other job running, in first-in first-out order."""
        with self._lock:
            if self._closed:
                raise JobRefused("the server is shutting down; no new run can start")
            self.check(owner, cost)
            t = Ticket(next(self._ids), owner, label, job, cost, self.clock(), meta=dict(meta or {}))
            self._tickets.append(t)
            self._seen[owner] = self.clock()
            self._schedule()
        self._wake.set()
        return t

    # ---------------------------------------------------------------- reading

    def tickets(self, owner: str) -> list[Ticket]:
        """``owner``'s tickets, oldest first: running, waiting and the last few finished."""
        with self._lock:
            self._collect()
            return [t for t in self._tickets if t.owner == owner]

    def latest(self, owner: str, kind: str) -> Ticket | None:
        """``owner``'s latest ticket whose ``meta["kind"]`` is ``kind``, cancelled ones aside (running, waiting, or
        the last finished): what a page of that kind shows again after a reload."""
        mine = [t for t in self.tickets(owner) if t.meta.get("kind") == kind and t.state != "cancelled"]
        return mine[-1] if mine else None

    def position(self, ticket: Ticket) -> int | None:
        """0 while running; k >= 1 = k-th in line while waiting; None once finished or cancelled."""
        with self._lock:
            if ticket.state == "running":
                return 0
            if ticket.state != "queued":
                return None
            queued = [t for t in self._tickets if t.state == "queued"]
            return queued.index(ticket) + 1 if ticket in queued else None

    def estimated_wait(self, ticket: Ticket) -> float:
        """Seconds until ``ticket`` is expected to start (0 when running or done): the estimated remaining time of the
        running jobs and of the waiting ones ahead of it, shared by the running slots."""
        with self._lock:
            pos = self.position(ticket)
            return 0.0 if not pos else self._wait_for(pos - 1)

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._collect()
            return {s: sum(t.state == s for t in self._tickets) for s in ("running", "queued")}

    # ---------------------------------------------------------------- stopping

    def stop(self, ticket: Ticket, why: str | None = None) -> None:
        """Stop a running job (it ends at its next check, keeping what it has) or cancel a waiting one."""
        with self._lock:
            if ticket.state == "queued":
                ticket.state, ticket.finished, ticket.why = "cancelled", self.clock(), why
            elif ticket.state == "running":
                ticket.why = ticket.why or why
                ticket.job.stop()
        self._wake.set()

    def stop_owner(self, owner: str, why: str | None = None) -> None:
        with self._lock:
            for t in [t for t in self._tickets if t.owner == owner and t.active]:
                self.stop(t, why)

    def shutdown(self, timeout: float = 8.0) -> bool:
        """Refuse new jobs, cancel the waiting ones, stop the running ones and wait up to ``timeout`` seconds for
        them; returns True when every job ended in time."""
        with self._lock:
            if self._closed and not any(t.state == "running" for t in self._tickets):
                return True
            self._closed = True
            for t in [t for t in self._tickets if t.active]:
                self.stop(t, "the server stopped")
            running = [t for t in self._tickets if t.state == "running"]
        deadline = time.monotonic() + timeout
        ok = all(t.job.join(max(0.0, deadline - time.monotonic())) for t in running)
        self._wake.set()
        return ok

    # ---------------------------------------------------------------- the monitor

    def _free_slots(self) -> int:
        return self.max_running - sum(t.state == "running" for t in self._tickets)

    def _wait_for(self, ahead: int) -> float:
        """Seconds of work before the ``ahead``-th waiting job (0-based) can start, shared by the slots."""
        now = self.clock()
        running = [max(0.0, t.cost.seconds - (now - (t.started or now))) for t in self._tickets if t.state == "running"]
        queued = [t.cost.seconds for t in self._tickets if t.state == "queued"][:ahead]
        free = self._free_slots()
        if free > ahead:
            return 0.0
        # the earliest-finishing running jobs free the slots first
        return (sum(sorted(running)[: ahead - free + 1]) + sum(queued)) / self.max_running

    def _collect(self) -> None:
        """Mark finished jobs; keep only the last ``KEEP_FINISHED`` ended tickets per owner, for ``KEEP_SECONDS``."""
        now = self.clock()
        for t in self._tickets:
            if t.state == "running" and t.job.done:
                t.state, t.finished = "finished", now
        ended: dict[str, int] = {}
        keep = []
        for t in reversed(self._tickets):
            if not t.active:
                ended[t.owner] = ended.get(t.owner, 0) + 1
                if ended[t.owner] > KEEP_FINISHED or now - (t.finished or now) > KEEP_SECONDS:
                    continue
            keep.append(t)
        self._tickets = keep[::-1]

    def _schedule(self) -> None:
        """Start waiting jobs in order while slots are free, skipping owners who already have one running."""
        self._collect()
        busy = {t.owner for t in self._tickets if t.state == "running"}
        for t in [t for t in self._tickets if t.state == "queued"]:
            if self._free_slots() <= 0 or self._closed:
                break
            if t.owner in busy:
                continue
            t.state, t.started = "running", self.clock()
            busy.add(t.owner)
            t.job.start()

    def _reap(self) -> None:
        now = self.clock()
        for owner, seen in list(self._seen.items()):
            if now - seen > self.orphan_seconds:
                self.stop_owner(owner, f"its visitor was away for more than {_duration(self.orphan_seconds)}")
                if not any(t.owner == owner and t.active for t in self._tickets):
                    del self._seen[owner]

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            with self._lock:
                self._reap()
                self._schedule()
                if self._closed and not any(t.active for t in self._tickets):
                    return


def _shutdown_at_exit(ref: weakref.ReferenceType[JobManager]) -> None:
    manager = ref()
    if manager is not None:
        manager.shutdown()
