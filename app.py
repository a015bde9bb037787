"""isingviz, the lab: ``streamlit run app.py``. This file routes to the pages in ``views/`` (``st.navigation``; not
``pages/``, which Streamlit would also list by itself, with an extra "app" entry) and holds what every
page shares: the visitor's token in the URL, a heartbeat that keeps their jobs alive while the tab is open, and the
timing of each script run (appended to ``ISINGVIZ_RERUN_LOG`` when set, for ``benchmarks/bench_classroom.py``)."""

import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from isingviz.jobs.costs import cnn_rate  # noqa: E402
from isingviz.learn.train import default_threads  # noqa: E402
from ui import visitor  # noqa: E402

t0 = time.perf_counter()
st.set_page_config(page_title="isingviz", page_icon="🧲", layout="wide")
PAGES = [
    st.Page("views/0_Home.py", title="Home", default=True),
    st.Page("views/1_Lattice.py", title="Lattice", url_path="Lattice"),
    st.Page("views/2_Dynamics.py", title="Dynamics", url_path="Dynamics"),
    st.Page("views/3_Train.py", title="Train", url_path="Train"),
    st.Page("views/4_Predict.py", title="Predict", url_path="Predict"),
    st.Page("views/5_Barren_plateau.py", title="Barren plateau", url_path="Barren_plateau"),
    st.Page("views/6_Experiments.py", title="Experiments", url_path="Experiments"),
]


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Measure this machine's training rate once per server, in the background, before the first cost estimate."""
    thread = threading.Thread(target=cnn_rate, args=(default_threads(),), name="isingviz-rate-probe", daemon=True)
    thread.start()
    return thread


@st.fragment(run_every=max(1.0, min(60.0, visitor.manager().orphan_seconds / 3)))
def heartbeat() -> None:
    visitor.heartbeat()


warm_up()
visitor.token()  # written to the URL on every run: page navigation clears query parameters
page = st.navigation(PAGES)
with st.sidebar:
    heartbeat()
try:
    page.run()
finally:
    log = os.environ.get("ISINGVIZ_RERUN_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{time.perf_counter() - t0:.4f}\n")
