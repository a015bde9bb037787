"""Experiments: the paper's figures and the method comparison from results/ (full or quick), and a live quick run."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from isingviz.config import results_dir  # noqa: E402
from isingviz.experiments.sweeps import SWEEPS, load_benchmark, load_results, result_paths  # noqa: E402
from isingviz.figures import sweeps as ef  # noqa: E402
from isingviz.jobs.costs import sweep_cost  # noqa: E402
from isingviz.jobs.sweep import SweepJob  # noqa: E402
from ui import visitor as v  # noqa: E402
from ui.experiments import show_general  # noqa: E402
from ui.training import poll  # noqa: E402

JOB_KIND = "sweep"
KIND_TEXT = {"train": "training lattices", "unseen": "unseen lattices"}

st.set_page_config(page_title="Experiments · isingviz", page_icon="🧲", layout="wide")
st.title("Experiments")
st.caption(
    "The paper's figures re-run as sweeps (`python -m isingviz sweep NAME [--quick]`), and every non-learned method on"
    " the same instances. Each accuracy stands beside the trivial “no edge anywhere” guess (grey dashed) and the best"
    " non-learned method on the same instances (black dotted); stars and dashed lines are the paper's reported values."
)


@st.cache_data(show_spinner=False)
def load(name: str, quick: bool, folder: str, mtime: float) -> dict | None:
    """A results document, read once per file version (the best baselines inside were computed by the sweep)."""
    return load_results(name, quick, folder)


@st.cache_data(show_spinner=False)
def benchmark(name: str, folder: str, mtime: float) -> dict | None:
    """A benchmark's stored document, read once per file version."""
    return load_benchmark(name, folder)


def tempered_doc(folder: Path) -> dict | None:
    """The replica temperature's held-out calibration (benchmarks/replica_calibration.py), if it was made."""
    path = folder / "replica_calibration.json"
    return benchmark("replica_calibration", str(folder), path.stat().st_mtime) if path.is_file() else None


def available(folder: Path) -> dict[str, list[str]]:
    out = {}
    for name in SWEEPS:
        sizes = [s for s in ("full", "quick") if result_paths(name, s == "quick", folder)[0].is_file()]
        if sizes:
            out[name] = sizes
    return out


def show(doc: dict, size: str, key: str) -> None:
    """One sweep document: provenance, its figure, and the table of evaluations beside trivial and best baseline."""
    st.caption(
        f"**{doc['title']}** — {size} results, made by `{doc['command']}` in {doc['wall_seconds']:.0f} s"
        f" ({doc['workers']} worker(s), started {doc['started']}). {doc['description']}."
    )
    if doc["sweep"] == "general":
        show_general(doc, key, tempered_doc(results_dir()))
    elif doc["sweep"] == "baselines":
        kind = st.radio("lattices", list(KIND_TEXT), format_func=KIND_TEXT.get, horizontal=True, key=f"{key}_kind")
        st.plotly_chart(ef.baselines_heatmap(doc, kind), key=f"{key}_fig")
        st.dataframe(ef.baselines_rows(doc, kind), hide_index=True, key=f"{key}_table")
        st.caption(
            "Per-instance methods see ONE instance; pooled methods fit once per lattice on a separate pool of its"
            " instances. Template matching is given the 10 training lattices as candidates (training lattices only)."
            " Top-E rules are told the edge count. CNN rows: shipped models, each at its own T only."
        )
    else:
        st.plotly_chart(ef.sweep_figure(doc), key=f"{key}_fig")
        rows = ef.headline_rows(doc)
        if rows:
            st.dataframe(rows, hide_index=True, key=f"{key}_table")
            st.caption(
                "best baseline: the best of inversion, binary_ml and (same lattices only) template matching on an"
                " evenly spread subset of the same instances; 'model on baseline subset' is the network on that subset."
            )
    fits = (doc.get("summary") or {}).get("fits")
    if fits:
        table = [{"variant": v, "fit": k, **f} for v, d in fits.items() for k, f in d.items()]
        st.dataframe(table, hide_index=True, key=f"{key}_fits")
    for note in doc.get("notes", []):
        st.caption(f"capped: {note}")
    for err in doc.get("errors", []):
        st.warning(f"a task failed: {err}")


folder = results_dir()
avail = available(folder)
if not avail:
    st.info(
        f"No sweep results in {folder.name}/. Make them with `python -m isingviz sweep NAME --quick` (NAME: "
        f"{', '.join(SWEEPS)}), or run a quick sweep live below."
    )
else:
    name = st.selectbox("sweep", list(avail), format_func=lambda n: SWEEPS[n].title, key="ex_sweep")
    sizes = avail[name]
    size = st.radio("size", sizes, horizontal=True, key="ex_size") if len(sizes) > 1 else sizes[0]
    path = result_paths(name, size == "quick", folder)[0]
    doc = load(name, size == "quick", str(folder), path.stat().st_mtime)
    if doc is None:
        st.error(f"{path.name} could not be read as a results document")
    else:
        show(doc, size, "ex")

st.subheader("Run a quick sweep live")
c = st.columns([3, 1])
live = c[0].selectbox("quick sweep", list(SWEEPS), format_func=lambda n: SWEEPS[n].title, key="ex_live")
c[0].caption(SWEEPS[live].help)
ticket = v.ticket(JOB_KIND)
busy = ticket is not None and ticket.active
quick_file = result_paths(live, True, folder)[0]
cost = sweep_cost(load(live, True, str(folder), quick_file.stat().st_mtime) if quick_file.is_file() else None)
c[0].caption(v.cost_caption(cost))
if c[1].button("Run it", type="primary", disabled=busy, key="ex_run"):
    if v.submit(JOB_KIND, SweepJob(live, quick=True, write=False, workers=1), cost, f"quick {live}") is not None:
        st.rerun()
c[1].caption("Quick sizes take up to ~5 minutes on 2 cores; the result is shown here, not written to results/.")


def draw(job: SweepJob) -> None:
    s = job.snapshot()
    text = f"{job.name}: {s['done']}/{s['total'] or '?'} tasks done · {s['running']} running · {s['queued']} queued"
    eta = "" if s["eta"] is None or s["finished"] else f" · about {s['eta']:.0f} s left"
    text += f" · {s['seconds']:.0f} s{eta}"
    st.progress(s["fraction"], text=text + (" · done" if s["finished"] else ""))
    if not s["finished"] and st.button("Stop (no new task starts)", key="ex_stop"):
        job.stop()
    if job.error:
        st.error(job.error)
    elif job.result is not None:
        if job.result.get("stopped"):
            st.warning("stopped: the figure shows the tasks that finished")
        show(job.result, "live quick", "live")


poll(JOB_KIND, draw)
