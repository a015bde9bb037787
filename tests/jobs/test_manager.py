"""The server-wide job manager: caps, first-in first-out queue, per-visitor limits, cost refusals, orphans, shutdown."""

from __future__ import annotations

import threading
import time

import pytest

from isingviz.jobs.background import BackgroundJob
from isingviz.jobs.manager import Cost, JobManager, JobRefused

SMALL = Cost(10.0, 1_000_000)


class Job(BackgroundJob):
    """Runs until stopped or released; records that it ran."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.ran = threading.Event()

    def run(self) -> None:
        self.ran.set()
        while not (self._stop.is_set() or self.release.is_set()):
            time.sleep(0.01)
        self._finish()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def until(cond, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def manager():
    m = JobManager(max_running=1, max_queued=3, max_job_seconds=100, memory_budget=10**9, orphan_seconds=60,
                   poll_seconds=0.02)  # fmt: skip
    yield m
    m.shutdown(2)


def test_one_slot_runs_first_in_first_out(manager):
    a, b, c = Job(), Job(), Job()
    ta = manager.submit("alice", a, SMALL, "a")
    tb = manager.submit("bob", b, SMALL, "b")
    tc = manager.submit("carol", c, Cost(30.0, 1), "c")
    assert until(a.ran.is_set) and manager.position(ta) == 0
    assert (manager.position(tb), manager.position(tc)) == (1, 2)
    assert 0 < manager.estimated_wait(tb) <= 10 < manager.estimated_wait(tc) <= 20
    assert not b.ran.is_set()
    a.release.set()
    assert until(b.ran.is_set) and manager.position(tc) == 1 and manager.position(ta) is None
    assert ta.state == "finished" and manager.counts() == {"running": 1, "queued": 1}


def test_a_visitor_runs_one_job_and_queues_two(manager):
    manager.max_running = 2
    jobs = [Job() for _ in range(3)]
    tickets = [manager.submit("alice", j, SMALL, f"j{i}") for i, j in enumerate(jobs)]
    with pytest.raises(JobRefused, match="at most 1 running and 2 waiting"):
        manager.submit("alice", Job(), SMALL, "one too many")
    other = Job()
    manager.submit("bob", other, SMALL, "bob's")
    assert until(other.ran.is_set)  # the free slot goes to another visitor, not to alice's second job
    assert jobs[0].ran.is_set() and not jobs[1].ran.is_set() and manager.position(tickets[1]) == 1


def test_costs_above_the_budget_are_refused_with_what_fits(manager):
    with pytest.raises(JobRefused, match=r"would take 3\.3 min .* more than the 1\.7 min .* about 50% of it"):
        manager.submit("alice", Job(), Cost(200.0, 1), "long")
    with pytest.raises(JobRefused, match=r"would need 2\.0 GB .* more than the 1\.0 GB .* about 50% of it"):
        manager.submit("alice", Job(), Cost(1.0, 2 * 10**9), "big")
    assert manager.tickets("alice") == []


def test_the_server_queue_is_capped(manager):
    first = Job()
    manager.submit("v0", first, SMALL, "running")
    assert until(first.ran.is_set)
    for i in range(3):
        manager.submit(f"v{i + 1}", Job(), SMALL, "waiting")
    with pytest.raises(JobRefused, match="queue is full"):
        manager.submit("late", Job(), SMALL, "late")


def test_stop_cancels_a_waiting_job_and_stops_a_running_one(manager):
    a, b = Job(), Job()
    ta, tb = manager.submit("alice", a, SMALL, "a"), manager.submit("bob", b, SMALL, "b")
    assert until(a.ran.is_set)
    manager.stop(tb)
    assert tb.state == "cancelled" and manager.position(tb) is None
    manager.stop(ta)
    assert a.join(5) and until(lambda: manager.tickets("alice")[0].state == "finished")
    assert not b.ran.is_set()


def test_a_visitor_away_too_long_has_their_jobs_stopped():
    clock = Clock()
    m = JobManager(max_running=1, orphan_seconds=60, memory_budget=10**9, poll_seconds=0.02, clock=clock)
    try:
        a, b, c = Job(), Job(), Job()
        ta = m.submit("alice", a, SMALL, "a")
        tb = m.submit("alice", b, SMALL, "b")
        tc = m.submit("bob", c, SMALL, "c")
        assert until(a.ran.is_set)
        clock.now += 50
        m.touch("bob")
        clock.now += 20  # alice: 70 s away; bob: 20 s
        assert until(lambda: ta.state == "finished") and tb.state == "cancelled"
        assert "away for more than 60 s" in ta.why and until(c.ran.is_set) and tc.state == "running"
    finally:
        m.shutdown(2)


def test_shutdown_stops_everything_and_refuses_new_jobs(manager):
    a, b = Job(), Job()
    manager.submit("alice", a, SMALL, "a")
    tb = manager.submit("bob", b, SMALL, "b")
    assert until(a.ran.is_set)
    assert manager.shutdown(5) and a.done and tb.state == "cancelled"
    with pytest.raises(JobRefused, match="shutting down"):
        manager.submit("carol", Job(), SMALL, "c")


def test_environment_settings_are_read_and_checked(monkeypatch):
    monkeypatch.setenv("ISINGVIZ_MAX_JOBS", "3")
    monkeypatch.setenv("ISINGVIZ_MAX_JOB_SECONDS", "120")
    m = JobManager(memory_budget=10**9)
    assert (m.max_running, m.max_queued, m.max_job_seconds) == (3, 12, 120)
    m.shutdown(1)
    monkeypatch.setenv("ISINGVIZ_ORPHAN_SECONDS", "soon")
    with pytest.raises(ValueError, match="ISINGVIZ_ORPHAN_SECONDS must be a number"):
        JobManager(memory_budget=10**9)


def test_the_general_models_cost_counts_its_exact_posterior_up_to_L_12(monkeypatch):
    import isingviz.jobs.costs
    from isingviz.jobs.costs import POSTERIOR_SECONDS, QUOTIENT_SECONDS, predict_seconds

    monkeypatch.setattr(isingviz.jobs.costs, "speed_factor", lambda: 1.0)  # the model's shape, not this machine's load

    assert predict_seconds("general", 12, 1) >= sum(POSTERIOR_SECONDS)  # the posterior runs on every instance there
    beyond = predict_seconds("general", 13, 1) - QUOTIENT_SECONDS  # beyond it, the network, the gate and the quotient
    assert 0 < beyond < sum(POSTERIOR_SECONDS) / 2
    assert predict_seconds("general", 11, 10) == pytest.approx(10 * predict_seconds("general", 11, 1))


def test_the_general_models_cost_counts_its_symmetric_inversion_from_L_20(monkeypatch):
    import isingviz.jobs.costs
    from isingviz.jobs.costs import SYMMETRIC_SECONDS, predict_seconds
    from isingviz.methods.symmetric import CLEAN_FIT_MIN_L

    monkeypatch.setattr(isingviz.jobs.costs, "speed_factor", lambda: 1.0)

    at, L0, _ = SYMMETRIC_SECONDS
    assert predict_seconds("general", L0, 1) >= at  # its least squares: 2.2 s at L = 64 on one core
    below = predict_seconds("general", CLEAN_FIT_MIN_L - 1, 1)
    assert predict_seconds("general", CLEAN_FIT_MIN_L, 1) - below > at * (CLEAN_FIT_MIN_L / L0) ** 5
