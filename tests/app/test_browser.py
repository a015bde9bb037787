"""The real app in a real browser: ``streamlit run app.py`` driven by Playwright with Debian's chromium.

One server per module (a subprocess in its own process group, always killed); each test opens a fresh page, i.e.
a fresh Streamlit session. A script run is over when ``stApp`` carries ``data-test-script-state="notRunning"``
(the attribute Streamlit's own end-to-end tests wait on). The attribute says nothing until a rerun has begun, so
after an action the tests first wait for what the action must show (a changed metric, a message), then for the run
to end and the page to stop changing. Everything is local: 127.0.0.1, no network.

Screenshots of every page go to ``docs/screenshots/NAME.png`` when ``ISINGVIZ_SCREENSHOTS=1`` (the README's
pictures: ``ISINGVIZ_SCREENSHOTS=1 python -m pytest -q tests/test_browser.py``), else to a temporary folder.

Outside CI a machine without ``/usr/bin/chromium`` or Playwright skips this module; under ``CI=true`` that is a
failure.
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
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from playwright import sync_api
except ImportError:  # reported by the availability check below
    sync_api = None

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "views"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI") == "true"
HOW_TO_GET = (
    "install Debian's browser with `apt-get install chromium` (it must be /usr/bin/chromium) and Playwright with"
    " `pip install -r requirements-dev.txt`; .ci/run does both"
)


def _missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    lacking = [
        what for what, ok in ((str(CHROMIUM), CHROMIUM.is_file()), ("playwright", sync_api is not None)) if not ok
    ]
    return f"{' and '.join(lacking)} missing: {HOW_TO_GET}" if lacking else None


if _missing() and not IN_CI:
    pytest.skip(_missing(), allow_module_level=True)

START_TIMEOUT_S = 90  # server start: imports torch, plotly, streamlit
RUN_TIMEOUT_MS = 60_000  # one script run: the home page loads the shipped model and predicts
QUIET_MS = 300  # the page counts as drawn once the DOM has not changed for this long
VIEWPORT = {"width": 1280, "height": 900}  # screenshots are of the viewport: a README-sized picture
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
# Records the time of the last DOM change, so that a test can wait for the page to stop changing.
MUTATION_CLOCK = """
window.__lastMutation = performance.now();
new MutationObserver(() => { window.__lastMutation = performance.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""
# Scrolls the element's scrolling ancestor so that the element sits 16 px below the top of the viewport.
SCROLL_TO_TOP = """el => {
    el.scrollIntoView({block: "start"});
    for (let p = el.parentElement; p; p = p.parentElement) {
        if (p.scrollTop > 0) { p.scrollTop -= 16; break; }
    }
}"""
PAPER_MODEL = "paper_T0.4 (shipped)"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture(scope="module", autouse=True)
def browser_available() -> None:
    """Under CI=true a missing browser fails every test here (outside CI the module was skipped above)."""
    reason = _missing()
    if reason:
        pytest.fail(f"CI=true: {reason}", pytrace=False)


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


@contextlib.contextmanager
def serve(folder: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` on a free local port (log in ``folder``): its base URL and process; the process group
    is killed afterwards."""
    port = _free_port()
    log = folder / "server.log"
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
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _healthy(f"{base}/_stcore/health"):
                if proc.poll() is not None:
                    pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit not healthy after {START_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")
                time.sleep(0.5)
            yield base, proc
        finally:
            _stop(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``streamlit run app.py`` on a free local port."""
    with serve(tmp_path_factory.mktemp("streamlit")) as (base, _):
        yield base


@pytest.fixture()
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(RUN_TIMEOUT_MS)
    context.add_init_script(MUTATION_CLOCK)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: the README's folder with ISINGVIZ_SCREENSHOTS=1, else a temporary one."""
    if os.environ.get("ISINGVIZ_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


# ---------------------------------------------------------------- helpers


def wait_idle(page: sync_api.Page) -> None:
    """Wait until no script run is going on and the page has stopped changing (charts drawn, metrics in place)."""
    page.wait_for_selector(IDLE, state="attached", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(f"performance.now() - window.__lastMutation > {QUIET_MS}", polling=100)
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
    """The URL path app.py gives a page script: its file name without the numeric ordering prefix ("" for Home,
    the default page)."""
    stem = re.sub(r"^\d+_", "", script.stem)
    return "" if stem == "Home" else stem


def metric(page: sync_api.Page, label: str) -> sync_api.Locator:
    """The value of the ``st.metric`` whose label is exactly ``label``."""
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    )
    return box.locator('[data-testid="stMetricValue"]')


def number(loc: sync_api.Locator) -> float:
    """The first number in a locator's text ("0.6212", "93.9%" -> 93.9)."""
    text = loc.inner_text()
    found = re.search(r"-?\d+(\.\d+)?", text)
    assert found, f"no number in {text!r}"
    return float(found.group())


def screenshot(page: sync_api.Page, folder: Path, name: str, top: sync_api.Locator | None = None) -> None:
    """The viewport as ``folder/NAME.png``, scrolled so that ``top`` (if given) starts near the top.

    Nothing focused or hovered, and Streamlit's own header (toolbar, running indicator) hidden: it is not the lab.
    """
    if top is not None:
        top.first.evaluate(SCROLL_TO_TOP)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(VIEWPORT["width"] - 2, VIEWPORT["height"] - 2)
    wait_idle(page)
    page.screenshot(path=str(folder / f"{name}.png"), style='[data-testid="stHeader"] {display: none}')


def click_spin(page: sync_api.Page, i: int) -> None:
    """Click spin ``i`` of the Lattice page's graph (the last scatter trace of the first plotly chart).

    Plotly's drag layer lies over the markers, so the click goes to the marker's position; plotly reports a click
    on the point it hovers, so the mouse first rests there until the hover label of that spin shows.
    """
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    point = chart.locator(".scatterlayer .trace:last-child .point").nth(i)
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    assert box is not None, f"spin {i} is not drawn"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    sync_api.expect(chart.locator(".hoverlayer .hovertext")).to_contain_text(f"spin {i},")
    page.mouse.click(x, y)


# ---------------------------------------------------------------- tests


def test_home_renders_try_it_and_new_initial_state(server: str, page: sync_api.Page, shots: Path) -> None:
    open_app(page, server, "isingviz")
    acc = metric(page, "accuracy")
    sync_api.expect(acc).to_have_text(re.compile(r"^\d\.\d{3}$"), timeout=RUN_TIMEOUT_MS)
    sync_api.expect(page.get_by_text("true: training lattice 1 of")).to_be_visible()
    assert_clean(page, "home")
    screenshot(page, shots, "home")  # the first screen: title, try-it, graphs and accuracy

    page.get_by_role("button", name="New initial state").click()
    sync_api.expect(page.get_by_text("true: training lattice 2 of")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    sync_api.expect(acc).to_have_text(re.compile(r"^\d\.\d{3}$"))
    assert_clean(page, "home after 'New initial state'")


def test_sidebar_link_to_lattice_and_randomize(server: str, page: sync_api.Page) -> None:
    open_app(page, server, "isingviz")
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Lattice", exact=True).click()
    page.wait_for_url(re.compile(r"/Lattice\?v=[\w-]+$"))  # the visitor's token rides along
    sync_api.expect(page.locator("h1").first).to_have_text("Lattice", timeout=RUN_TIMEOUT_MS)
    edges = metric(page, "edges")
    sync_api.expect(edges).to_have_text(re.compile(r"^\d+$"), timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    assert_clean(page, "Lattice")

    seed = page.get_by_label("seed", exact=True)
    sync_api.expect(seed).to_have_value("0")
    page.get_by_role("button", name="Randomize").click()
    sync_api.expect(seed).to_have_value("1", timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    sync_api.expect(edges).to_have_text(re.compile(r"^\d+$"))
    assert_clean(page, "Lattice after 'Randomize'")


def test_every_page_renders_without_exception(server: str, page: sync_api.Page, shots: Path) -> None:
    scripts = sorted(PAGES.glob("*.py"))
    assert scripts, f"no page scripts in {PAGES}"
    active = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    for script in scripts:  # globbed now: pages added later are covered (and photographed) too
        path = url_path(script)
        page.goto(f"{server}/{path}")
        sync_api.expect(page.locator("h1").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
        wait_idle(page)
        # an unknown path falls back to the home page with a "Page not found" dialog: check we got the page asked for
        here = urllib.parse.urlsplit(page.url).path.rstrip("/")
        assert here == (f"/{path}" if path else ""), f"views/{script.name}: {path!r} led to {page.url}"
        sync_api.expect(active).to_have_attribute("href", re.compile(rf"/{re.escape(path)}(\?.*)?$"))
        assert_clean(page, f"views/{script.name}")
        if path not in ("", "Lattice", "Predict"):  # photographed by the tests of Home, Lattice and Predict
            screenshot(page, shots, path.lower())


def test_lattice_click_two_spins_toggles_an_edge(server: str, page: sync_api.Page, shots: Path) -> None:
    open_app(page, f"{server}/Lattice", "Lattice")
    edges = metric(page, "edges")
    sync_api.expect(edges).to_have_text(re.compile(r"^\d+$"), timeout=RUN_TIMEOUT_MS)
    n0 = int(number(edges))
    selected = page.get_by_text("Spin 0 is selected")

    for round_ in ("toggle", "toggle back"):
        click_spin(page, 0)
        sync_api.expect(selected).to_be_visible(timeout=RUN_TIMEOUT_MS)  # the first click highlights spin 0
        wait_idle(page)
        assert_clean(page, f"Lattice after the first click ({round_})")
        if round_ == "toggle back":
            screenshot(page, shots, "lattice")
        expected = [n0 - 1, n0 + 1] if round_ == "toggle" else [n0]
        click_spin(page, 1)
        sync_api.expect(edges).to_have_text(re.compile(rf"^({'|'.join(map(str, expected))})$"), timeout=RUN_TIMEOUT_MS)
        sync_api.expect(selected).to_have_count(0)
        wait_idle(page)
        assert_clean(page, f"Lattice after the second click ({round_})")
        assert abs(int(number(edges)) - n0) == (1 if round_ == "toggle" else 0)


def test_predict_paper_model_and_move_s_c(server: str, page: sync_api.Page, shots: Path) -> None:
    open_app(page, f"{server}/Predict", "Predict & confidence")
    page.get_by_role("combobox", name="model").click()
    page.get_by_role("option", name=PAPER_MODEL, exact=True).click()
    sync_api.expect(page.get_by_text(f"{PAPER_MODEL} at its own T = 0.4")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    acc, triv, cov = (
        metric(page, "accuracy"),
        metric(page, "trivial guess"),
        metric(page, "coverage η at S_c"),
    )
    for m in (acc, triv):
        sync_api.expect(m).to_have_text(re.compile(r"^[01]\.\d{4}$"), timeout=RUN_TIMEOUT_MS)
    sync_api.expect(cov).to_have_text(re.compile(r"^\d+\.\d%$"))
    wait_idle(page)
    assert_clean(page, "Predict with the paper model")
    # the default lattice is the paper model's first training lattice: 25 of 66 pairs coupled
    assert number(triv) == pytest.approx(41 / 66, abs=1e-4)
    assert number(acc) >= 0.9 > number(triv), f"accuracy {number(acc)} beside trivial {number(triv)}"
    screenshot(page, shots, "predict")

    slider = page.get_by_role("slider", name="entropy threshold S_c")
    before = cov.inner_text()
    assert number(cov) > 0, "at the default S_c = 0.6 the paper model is sure of some pairs"
    slider.focus()
    slider.press("Home")  # S_c = 0: no pair has entropy below 0
    sync_api.expect(cov).to_have_text("0.0%", timeout=RUN_TIMEOUT_MS)
    sync_api.expect(slider).to_have_value("0")
    wait_idle(page)
    assert_clean(page, "Predict after S_c -> 0")
    slider.press("End")  # S_c at the top of the range (>= ln 2): every pair kept
    sync_api.expect(cov).to_have_text("100.0%", timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    assert_clean(page, "Predict after S_c -> max")
    assert before != "0.0%"


def test_experiments_shows_the_general_model_on_unseen_lattices(server: str, page: sync_api.Page, shots: Path) -> None:
    if not (ROOT / "results" / "general.json").is_file() and not (ROOT / "results" / "general_quick.json").is_file():
        pytest.skip("no general sweep results in results/ (python -m isingviz sweep general)")
    open_app(page, f"{server}/Experiments", "Experiments")
    page.get_by_role("combobox", name="sweep", exact=True).click()
    page.get_by_role("option", name="General model on unseen lattices", exact=True).click()
    wins = page.get_by_text("General model against each method")
    sync_api.expect(wins).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    assert_clean(page, "Experiments, general sweep")
    # accuracy vs T, the L x T overview, the reliability diagram and the coverage curve, and where its benchmark was
    # made, the replica temperature's reliability before and after
    tempered = (ROOT / "results" / "replica_calibration.json").is_file()
    sync_api.expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(4 + tempered)
    assert "trivial" in page.locator("body").inner_text()
    if tempered:
        assert "Held-out replica lattices" in page.locator("body").inner_text()
    screenshot(page, shots, "experiments_general", top=page.get_by_text("lattice family"))


def test_predict_reads_an_uploaded_recording_and_offers_the_edge_list(
    server: str, page: sync_api.Page, tmp_path: Path
) -> None:
    """A CSV recording (a row per spin) uploaded on Predict: the reconstruction is drawn, the edge list downloads."""
    import numpy as np

    from isingviz.dynamics import simulate
    from isingviz.lattice import random_lattice

    A = random_lattice(8, 10, seed=4)
    X = simulate(A, np.array([[1, -1, 1, 1, -1, -1, 1, -1]], float), T=1.0, tau=0.1, M=40)[0]
    csv_file = tmp_path / "my_run.csv"
    csv_file.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in X))
    open_app(page, f"{server}/Predict", "Predict & confidence")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').last.set_input_files(str(csv_file))
    sync_api.expect(page.get_by_text("reconstructed from my_run.csv (10 edges)")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    wait_idle(page)
    assert_clean(page, "Predict after a recording upload")
    with page.expect_download() as download:
        page.get_by_role("button", name="edge list (.csv)").click()
    saved = tmp_path / "edges.csv"
    download.value.save_as(saved)
    rows = saved.read_text().splitlines()
    assert rows[0] == "i,j,p_edge,entropy,edge,score" and len(rows) == 1 + 28
    assert sum(int(r.split(",")[4]) for r in rows[1:]) == 10
