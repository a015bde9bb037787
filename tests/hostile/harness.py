"""Run hostile cases in a child process with an address-space limit and a hang guard, and read back what happened.

A group of cases shares one child (one torch import): ``run_group`` starts ``python -c "...child_main()"`` with
``RLIMIT_AS`` set in ``preexec_fn`` and a wall-clock limit of ``HANG_GUARD_S`` per case, sends it the case names,
and gets one JSON line per case: how it ended (the exception's type and message, or what it returned), its wall
time and the child's peak resident memory so far. Inside the child each case also gets its own alarm, so one
hanging case is reported as such instead of taking the whole group down.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 2 * 2**30  # bytes: torch and a general-model forward run in 1 GB; a 4.5 GB expansion cannot
HANG_GUARD_S = 30  # per case: a guard against minutes, not a timing test
MAX_RSS_MB = ADDRESS_SPACE / 2**20  # what "bounded memory" means below: the child never exceeded its limit


class Hang(Exception):
    """Raised in the child when a case outlives its alarm."""


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_group(module: str, cases: list[str], workdir: Path, env: dict[str, str] | None = None) -> dict[str, dict]:
    """Run ``cases`` (functions of ``module`` taking the work folder) in one limited child; results by case name."""
    job = json.dumps({"module": module, "cases": cases, "workdir": str(workdir)})
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    child_env.pop("ISINGVIZ_MAX_BYTES", None)  # the budget follows from the address-space limit (half of it)
    proc = subprocess.run(
        [sys.executable, "-c", "from tests.hostile.harness import child_main; child_main()"],
        input=job,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env,
        preexec_fn=_limit,
        timeout=HANG_GUARD_S * (len(cases) + 1),
    )
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            doc = json.loads(line)
            results[doc["case"]] = doc
    missing = [c for c in cases if c not in results]
    assert not missing, f"child exited {proc.returncode} before {missing}: {proc.stderr[-2000:]}"
    return results


def cases_of(module: Any) -> set[str]:
    """The case functions a case module defines (its public functions)."""
    return {n for n, f in vars(module).items() if callable(f) and getattr(f, "__module__", None) == module.__name__
            and not n.startswith("_") and isinstance(f, type(cases_of))}  # fmt: skip


def _alarm(signum: int, frame: Any) -> None:
    raise Hang(f"still running after {HANG_GUARD_S} s")


def child_main() -> None:
    """The child's side: run each case under an alarm and print one JSON line per case."""
    job = json.loads(sys.stdin.read())
    mod = importlib.import_module(job["module"])
    workdir = Path(job["workdir"])
    signal.signal(signal.SIGALRM, _alarm)
    for name in job["cases"]:
        t0 = time.perf_counter()
        doc: dict[str, Any] = {"case": name}
        signal.alarm(HANG_GUARD_S)
        try:
            doc["returned"] = getattr(mod, name)(workdir)
        except BaseException as e:  # everything is reported; the parent decides what is acceptable
            doc["type"], doc["message"] = type(e).__name__, str(e)
            if not isinstance(e, ValueError):
                doc["traceback"] = traceback.format_exc()[-3000:]
        finally:
            signal.alarm(0)
        doc["seconds"] = time.perf_counter() - t0
        doc["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(doc), flush=True)


def assert_refused(result: dict, *phrases: str) -> None:
    """A case ended in one clear sentence: a ValueError whose one-line message holds every phrase, in bounded memory."""
    assert result.get("type") == "ValueError", result
    message = result["message"]
    assert "\n" not in message and len(message) < 400, message
    for phrase in phrases:
        assert phrase in message, (phrase, message)
    assert "Traceback" not in message and not re.search(r"/[\w.-]+/", message), message  # no paths
    assert result["max_rss_mb"] < MAX_RSS_MB, result
