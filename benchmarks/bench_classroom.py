"""A class at once: K real browser visitors against one ``streamlit run app.py`` on 127.0.0.1, as JSON.

Each visitor (a Playwright context of one headless chromium, Debian's ``/usr/bin/chromium``) arrives at a random
moment within ``--stagger`` seconds and does Home (until the try-it prediction shows) -> Lattice, Randomize (until
the new lattice shows) -> Predict (until the prediction shows). Reported: per step p50 / p95 / max seconds (from the
click or the page load to the result on screen), the server's peak resident memory and its CPU use (cores), and
the server-side time of every script run (the app logs each run's duration to ``ISINGVIZ_RERUN_LOG``)::

    python benchmarks/bench_classroom.py                    # K = 10 visitors over 20 s (the classroom goal)
    python benchmarks/bench_classroom.py --visitors 3 --stagger 5

Before the class, one visitor (the teacher) does the same steps, so the server is warm (its time is reported as
``cold_start_home``; ``--cold`` skips that visit). Everything is local (127.0.0.1); the server is started and
stopped here, and every visitor's browser context is closed at the end. Goal on the 2-core reference machine,
browsers included: K = 10, p95 <= 5 s to the first prediction, server RSS <= 2 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
NUMBER = re.compile(r"^\d\.\d{3,4}$")  # an accuracy as the pages show it
TIMEOUT_MS = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]  # fmt: skip
    out = log.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while not healthy(f"http://127.0.0.1:{port}/_stcore/health"):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit(f"streamlit did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)
    return proc


def stop_server(proc: subprocess.Popen) -> int | None:
    """SIGTERM (then SIGKILL after 10 s); the exit status of a clean stop."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        return None


class Sampler(threading.Thread):
    """Samples the server's resident memory every 0.25 s and reads its CPU time at the start and the end."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.halt = pid, 0, threading.Event()
        self.cpu0, self.busy0, self.t0 = self.cpu(), self.machine_busy(), time.monotonic()

    @staticmethod
    def machine_busy() -> float:
        """CPU seconds the whole machine spent busy (all processes: the browsers, the server, anything else)."""
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def run(self) -> None:
        while not self.halt.is_set():
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, self.rss())
            time.sleep(0.25)

    def result(self) -> dict[str, float]:
        self.halt.set()
        wall = time.monotonic() - self.t0
        return {
            "server_rss_peak_mb": self.peak / 2**20,
            "server_cpu_cores": (self.cpu() - self.cpu0) / wall,
            "machine_cpu_cores": (self.machine_busy() - self.busy0) / wall,  # the rest: browsers and other work
        }


async def settle(page: Any) -> None:
    await page.wait_for_selector(IDLE, state="attached", timeout=TIMEOUT_MS)


async def visitor(browser: Any, base: str, delay: float, times: dict[str, list[float]], errors: list[str]) -> None:
    from playwright.async_api import expect

    await asyncio.sleep(delay)
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    step = "home"
    try:
        t = time.monotonic()
        await page.goto(base)
        await expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text(NUMBER, timeout=TIMEOUT_MS)
        times["home"].append(time.monotonic() - t)
        await settle(page)

        step = "randomize"
        await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Lattice", exact=True).click()
        seed = page.get_by_label("seed", exact=True)
        await expect(seed).to_be_visible(timeout=TIMEOUT_MS)
        await settle(page)
        before = await seed.input_value()
        t = time.monotonic()
        await page.get_by_role("button", name="Randomize").click()
        await expect(seed).not_to_have_value(before, timeout=TIMEOUT_MS)
        await settle(page)
        times["randomize"].append(time.monotonic() - t)

        step = "predict"
        t = time.monotonic()
        await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Predict", exact=True).click()
        await expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text(NUMBER, timeout=TIMEOUT_MS)
        times["predict"].append(time.monotonic() - t)
        if await page.locator('[data-testid="stException"]').count():
            errors.append("an exception box was shown")
    except Exception as e:  # one visitor's failure is reported, the others go on
        errors.append(f"{step}: {type(e).__name__}: {str(e).splitlines()[0]}")
    finally:
        await context.close()


async def run_class(
    base: str, k: int, stagger: float, seed: int, warm: bool
) -> tuple[dict[str, list[float]], list[str]]:
    from playwright.async_api import async_playwright

    rng = random.Random(seed)
    times: dict[str, list[float]] = {"home": [], "randomize": [], "predict": []}
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            if warm:  # the teacher opens the lab before the class arrives: the server's cold start is not theirs
                warm_times: dict[str, list[float]] = {"home": [], "randomize": [], "predict": []}
                await visitor(browser, base, 0.0, warm_times, errors)
                times["cold_start_home"] = warm_times["home"]
            delays = sorted(rng.uniform(0, stagger) for _ in range(k))
            await asyncio.gather(*(visitor(browser, base, d, times, errors) for d in delays))
        finally:
            await browser.close()
    return times, errors


def quantiles(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    s = sorted(xs)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    return {"n": len(s), "p50": statistics.median(s), "p95": p95, "max": s[-1]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--visitors", type=int, default=10, help="visitors K")
    ap.add_argument("--stagger", type=float, default=20.0, help="arrivals spread over this many seconds")
    ap.add_argument("--seed", type=int, default=0, help="seed of the arrival times")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--cold", action="store_true", help="no teacher's visit first: the class meets a cold server")
    a = ap.parse_args(argv)
    if not 1 <= a.visitors <= 50 or not 0 <= a.stagger <= 600:
        ap.error("--visitors must be 1..50 and --stagger 0..600")
    with tempfile.TemporaryDirectory(prefix="bench_classroom_") as tmp:
        reruns = Path(tmp) / "reruns.log"
        env = {**os.environ, "ISINGVIZ_RERUN_LOG": str(reruns), "ISINGVIZ_USER_MODELS": str(Path(tmp) / "user")}
        port = free_port()
        proc = start_server(port, env, Path(tmp) / "server.log")
        sampler = Sampler(proc.pid)
        sampler.start()
        t0 = time.monotonic()
        try:
            times, errors = asyncio.run(
                run_class(f"http://127.0.0.1:{port}", a.visitors, a.stagger, a.seed, not a.cold)
            )
        finally:
            usage = sampler.result()
            status = stop_server(proc)
        wall = time.monotonic() - t0
        runs = [float(x) for x in reruns.read_text().split()] if reruns.exists() else []
    out = {
        "visitors": a.visitors,
        "stagger_seconds": a.stagger,
        "wall_seconds": wall,
        "steps": {name: quantiles(xs) for name, xs in times.items()},
        "server_reruns": quantiles(runs),
        **usage,
        "server_exit_status": status,
        "errors": errors,
        "cpu_count": os.cpu_count(),
        "goal": {"p95_first_prediction_s": 5.0, "server_rss_mb": 2048},
    }
    text = json.dumps(out, indent=1)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return out


if __name__ == "__main__":
    main()
