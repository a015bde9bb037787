"""Seconds per full run of each page of the lab (Streamlit's AppTest, the shipped models), as JSON.

Usage: python benchmarks/bench_app.py [--reruns 5] [--threads 2]

In one process, for app.py and then every views/*.py in order: the first run of a fresh AppTest ("first_s": the
first page pays the imports of torch, plotly and streamlit and the model loads; later pages find them done), then
the median of ``--reruns`` further ``at.run()`` calls on the same AppTest ("rerun_median_s": what a widget change
costs, Streamlit's caches warm). Then the home page as a new visitor of a warm server sees it: a fresh AppTest of
app.py in the same process, nothing cleared ("home_warm_first_load_s": torch imported, the model and the try-it
prediction cached), and the same once more after ``st.cache_data.clear()`` ("home_warm_uncached_prediction_s": the
model still loaded, the instance simulated and predicted anew). Goals (issue 4): <= 0.5 s per rerun, <= 2 s for the
home page's first load with a prediction on a warm server. The machine's load average is reported beside.

"interactions": each click or widget change a visitor makes on the shipped models at default settings (issue 12:
each shows its result within 1 s), timed as the rerun it causes, median of ``--reruns`` repetitions that alternate
the widget between two values (so a cache never answers for the page).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / "app.py", *sorted(p for p in (ROOT / "views").glob("*.py") if p.name != "0_Home.py")]  # app.py: Home
PAGE = {p.stem: str(p) for p in (ROOT / "views").glob("*.py")}
GOAL_INTERACTION_S = 1.0
GOAL_RERUN_S = 0.5
GOAL_HOME_WARM_S = 2.0
TIMEOUT_S = 300  # one script run under AppTest (the first one imports torch)


def timed_run(at) -> float:
    """Seconds of one ``at.run()``; an exception shown by the page aborts the benchmark."""
    t0 = time.perf_counter()
    at.run(timeout=TIMEOUT_S)
    seconds = time.perf_counter() - t0
    if at.exception:
        raise SystemExit(f"the page raised: {[e.value for e in at.exception]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reruns", type=int, default=5, help="reruns per page after the first run (median reported)")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_app_") as empty:
        os.environ["ISINGVIZ_USER_MODELS"] = empty  # no user-saved models: the pages see exactly the shipped ones
        out = measure(args.reruns, args.threads)
    print(json.dumps(out, indent=2))


def measure(reruns: int, threads: int) -> dict:
    """The figures of the module docstring, for the pages in SCRIPTS."""
    t_import = time.perf_counter()
    import streamlit as st
    import torch
    from streamlit.testing.v1 import AppTest

    torch.set_num_threads(threads)
    import_s = time.perf_counter() - t_import

    pages = {}
    for script in SCRIPTS:
        at = AppTest.from_file(str(script), default_timeout=TIMEOUT_S)
        first = timed_run(at)
        times = [timed_run(at) for _ in range(reruns)]
        pages[script.name] = {
            "first_s": round(first, 3),
            "rerun_median_s": round(statistics.median(times), 3),
            "rerun_max_s": round(max(times), 3),
        }

    home_warm = timed_run(AppTest.from_file(str(SCRIPTS[0]), default_timeout=TIMEOUT_S))
    st.cache_data.clear()  # the try-it prediction goes, the loaded model (st.cache_resource) stays
    home_uncached = timed_run(AppTest.from_file(str(SCRIPTS[0]), default_timeout=TIMEOUT_S))

    interactions = {name: interaction(act, reruns) for name, act in INTERACTIONS.items()}
    worst = max(p["rerun_median_s"] for p in pages.values())
    out = {
        "reruns_per_page": reruns,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "import_streamlit_torch_s": round(import_s, 3),
        "pages": pages,
        "home_warm_first_load_s": round(home_warm, 3),
        "home_warm_uncached_prediction_s": round(home_uncached, 3),
        "worst_rerun_median_s": worst,
        "goal_rerun_s": GOAL_RERUN_S,
        "goal_home_warm_first_load_s": GOAL_HOME_WARM_S,
        "meets_goal_rerun": worst <= GOAL_RERUN_S,
        "meets_goal_home_warm": home_warm <= GOAL_HOME_WARM_S,
        "meets_goal_home_warm_uncached": home_uncached <= GOAL_HOME_WARM_S,
        "interactions": interactions,
        "goal_interaction_s": GOAL_INTERACTION_S,
        "meets_goal_interactions": all(v["median_s"] <= GOAL_INTERACTION_S for v in interactions.values()),
    }
    return out


def _toggle(key: str, a, b):
    """An action that sets widget ``key`` to ``a`` on even repetitions and ``b`` on odd ones."""

    def act(at, i: int) -> None:
        _find(at, key).set_value(a if i % 2 == 0 else b)

    return act


def _find(at, key: str):
    for getter in (at.toggle, at.slider, at.select_slider, at.radio, at.selectbox, at.number_input, at.checkbox):
        try:
            return getter(key=key)
        except KeyError:
            continue
    raise SystemExit(f"no widget with key {key!r}")


def _click(label: str):
    def act(at, i: int) -> None:
        next(b for b in at.button if b.label == label).click()

    return act


# (page, action) of a visitor's usual clicks; every one on the shipped models and default settings
INTERACTIONS = {
    "home: New initial state": ("0_Home", _click("New initial state")),
    "home: unseen random lattice": ("0_Home", _toggle("home_unseen", True, False)),
    "lattice: Randomize": ("1_Lattice", _click("Randomize")),
    "dynamics: temperature": ("2_Dynamics", _toggle("dyn_T", 1.0, 0.4)),
    "predict: S_c slider": ("4_Predict", _toggle("pr_sc", 0.1, 0.6)),
    "predict: paper model": ("4_Predict", _toggle("pr_model", "paper_T0.4 (shipped)", "general (shipped)")),
    "predict: new initial states": ("4_Predict", _toggle("pr_seed", 1, 0)),
    "experiments: another sweep": ("6_Experiments", _toggle("ex_sweep", "fig2b", "general")),
}


def interaction(spec, reruns: int) -> dict:
    from streamlit.testing.v1 import AppTest

    page, act = spec
    at = AppTest.from_file(PAGE[page], default_timeout=TIMEOUT_S)
    timed_run(at)
    times = []
    for i in range(max(2, reruns)):
        act(at, i)
        times.append(timed_run(at))
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


if __name__ == "__main__":
    main()
