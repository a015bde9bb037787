"""The real app in a real browser: ``streamlit run app.py`` driven by Playwright with Debian's chromium.

One server per module (a subprocess in its own process group, always killed); each test opens a fresh page, i.e.
a fresh Streamlit session. A script run is over when ``stApp`` carries ``data-test-script-state="notRunning"``
(the attribute Streamlit's own end-to-end tests wait on). Everything is local: 127.0.0.1, no network.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} is missing (CI installs it with apt, see .ci/run)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "pages"
START_TIMEOUT_S = 90  # server start: imports torch, plotly, streamlit
RUN_TIMEOUT_MS = 60_000  # one script run: the home page loads the shipped model and predicts
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXCEPTION = '[data-testid="stException"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``streamlit run app.py`` on a free local port; the process group is killed afterwards."""
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",  # others may edit the sources while the test runs; no reruns on save
    ]
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _healthy(f"{base}/_stcore/health"):
                if proc.poll() is not None:
                    pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit not healthy after {START_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")
                time.sleep(0.5)
            yield base
        finally:
            _stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(RUN_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def wait_idle(page: sync_api.Page) -> None:
    """Wait until the current script run has finished."""
    page.wait_for_selector(IDLE, state="attached", timeout=RUN_TIMEOUT_MS)


def assert_clean(page: sync_api.Page, where: str) -> None:
    """No Streamlit exception box and no traceback text on the page."""
    errors = page.locator(EXCEPTION)
    assert errors.count() == 0, f"{where}: exception shown:\n{errors.first.inner_text()}"
    assert "Traceback" not in page.locator("body").inner_text(), f"{where}: a traceback is shown"


def open_app(page: sync_api.Page, url: str, title: str) -> None:
    page.goto(url)
    sync_api.expect(page.locator("h1").first).to_contain_text(title, timeout=RUN_TIMEOUT_MS)
    wait_idle(page)


def url_path(script: Path) -> str:
    """Streamlit's URL path of a page script: its file name without the numeric ordering prefix."""
    return re.sub(r"^\d+_", "", script.stem)


def test_home_renders_try_it_and_new_initial_state(server: str, page: sync_api.Page, tmp_path: Path) -> None:
    open_app(page, server, "isingviz")
    metric = page.locator('[data-testid="stMetric"]', has_text="accuracy").first
    sync_api.expect(metric).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert_clean(page, "home")
    assert re.search(r"\d\.\d{3}", metric.inner_text()), metric.inner_text()
    sync_api.expect(page.get_by_text("true: training lattice 1 of")).to_be_visible()

    page.get_by_role("button", name="New initial state").click()
    sync_api.expect(page.get_by_text("true: training lattice 2 of")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    sync_api.expect(metric).to_be_visible()
    assert_clean(page, "home after 'New initial state'")


def test_sidebar_link_to_lattice_and_randomize(server: str, page: sync_api.Page) -> None:
    open_app(page, server, "isingviz")
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Lattice", exact=True).click()
    page.wait_for_url(re.compile(r"/Lattice$"))
    sync_api.expect(page.locator("h1").first).to_have_text("Lattice", timeout=RUN_TIMEOUT_MS)
    edges = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("edges", exact=True))
    sync_api.expect(edges).to_contain_text(re.compile(r"\d+"), timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    assert_clean(page, "Lattice")

    seed = page.get_by_label("seed", exact=True)
    sync_api.expect(seed).to_have_value("0")
    page.get_by_role("button", name="Randomize").click()
    sync_api.expect(seed).to_have_value("1", timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    sync_api.expect(edges).to_contain_text(re.compile(r"\d+"))
    assert_clean(page, "Lattice after 'Randomize'")


def test_every_page_renders_without_exception(server: str, page: sync_api.Page) -> None:
    scripts = sorted(PAGES.glob("*.py"))
    assert scripts, f"no page scripts in {PAGES}"
    active = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    for script in scripts:  # globbed now: pages added later are covered too
        path = url_path(script)
        page.goto(f"{server}/{path}")
        sync_api.expect(page.locator("h1").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
        wait_idle(page)
        # an unknown path falls back to the home page with a "Page not found" dialog: check we got the page asked for
        assert page.url.rstrip("/").endswith(f"/{path}"), f"pages/{script.name}: {path!r} led to {page.url}"
        sync_api.expect(active).to_have_attribute("href", re.compile(rf"/{re.escape(path)}$"))
        assert_clean(page, f"pages/{script.name}")
