"""Lattice: generate, draw and edit the session's lattice (click two spins, or tick the adjacency table); save it."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from isingviz.figures.graphs import degree_histogram, graph_figure  # noqa: E402
from isingviz.lattice import GENERATORS, degree_stats, lattice_to_dict, make_lattice  # noqa: E402
from ui import widgets as w  # noqa: E402
from ui.state import get_lattice  # noqa: E402

st.set_page_config(page_title="Lattice · isingviz", page_icon="🧲", layout="wide")
st.title("Lattice")
st.caption("The lattice drawn here is the session's current lattice: the Dynamics, Train and Predict pages use it.")

gen_box, file_box = st.sidebar.container(), st.sidebar.container()

# A file, handled first so that it can set the L slider below.
with file_box:
    st.subheader("Lattice file")
    upload = st.file_uploader("Upload a lattice (.json)", type=["json"], key="lattice_upload")
    loaded, problem = w.upload_once(upload, "lattice_uploads", w.read_page_lattice)  # a refused file: one sentence
    if problem:
        st.error(problem)
if loaded is not None:
    w.commit_lattice(loaded)
    st.session_state["lattice_L"] = int(loaded.shape[0])
    st.session_state["lattice_spec"] = None  # keep the uploaded lattice until a generator input changes

# Generator inputs; a change of any of them draws a new lattice.
A = get_lattice()
if "lattice_L" not in st.session_state:  # first visit, or back from another page (widget values were dropped)
    st.session_state["lattice_spec"] = None
st.session_state.setdefault("lattice_L", min(int(A.shape[0]), w.PAGE_L_MAX))
st.session_state.setdefault("lattice_seed", 0)
with gen_box:
    st.subheader("Generate")
    L = st.slider("spins L", 2, w.PAGE_L_MAX, key="lattice_L")
    family = st.selectbox("family", list(GENERATORS), key="lattice_family")
    params = {}
    for name, default in w.generator_params(family).items():
        kind = {"min_value": 0.0, "max_value": 1.0, "step": 0.05} if isinstance(default, float) else {"min_value": 0}
        label, help_ = w.param_text(family, name)
        params[name] = st.number_input(label, value=default, key=f"lattice_{family}_{name}", help=help_, **kind)
    seed = int(st.number_input("seed", min_value=0, step=1, key="lattice_seed"))
    st.button("Randomize", on_click=w.bump, args=("lattice_seed",), help="draw again with the next seed")
spec = (L, family, tuple(sorted(params.items())), seed)
if st.session_state.get("lattice_spec") is None:
    st.session_state["lattice_spec"] = spec  # first visit (or after an upload): keep the current lattice
elif spec != st.session_state["lattice_spec"]:
    drawn = w.attempt(make_lattice, family, L, seed, stop=False, **params)
    if drawn is not None:
        w.commit_lattice(drawn)
        st.session_state["lattice_spec"] = spec

# Edits made on the previous run: a click on the graph, or ticks in the adjacency table.
graph_key, editor_key = w.lattice_key("lattice_graph"), w.lattice_key("lattice_editor")
node = w.clicked_node(st.session_state.get(graph_key))
if node is not None:
    new, pending = w.toggle_click(get_lattice(), st.session_state.get("lattice_pending"), node)
    st.session_state["lattice_pending"] = pending
    w.commit_lattice(new)  # new revision: the chart comes back with no selection, ready for the next click
else:
    edits = st.session_state.get(editor_key) or {}
    if edits.get("edited_rows"):
        w.commit_lattice(w.apply_editor_edits(get_lattice(), edits["edited_rows"]))
graph_key, editor_key = w.lattice_key("lattice_graph"), w.lattice_key("lattice_editor")

A = get_lattice()
L_now = int(A.shape[0])
pending = st.session_state.get("lattice_pending")
pending = pending if pending is not None and pending < L_now else None
stats = degree_stats(A)

cols = st.columns(6)
cols[0].metric("spins L", L_now)
cols[1].metric("edges", stats["n_edges"])
cols[2].metric("mean degree", f"{stats['mean_degree']:.2f}")
cols[3].metric("min degree", stats["min_degree"])
cols[4].metric("max degree", stats["max_degree"])
cols[5].metric("isolated spins", stats["n_isolated"])

left, right = st.columns([3, 2])
with left:
    if pending is None:
        st.caption("Click a spin, then another one, to add or remove the edge between them.")
    else:
        st.info(f"Spin {pending} is selected: click another spin to toggle the edge, or spin {pending} to cancel.")
    fig = graph_figure(A, highlight=pending, title=f"L = {L_now}, {stats['n_edges']} edges")
    st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=graph_key, config={"displayModeBar": False})
with right:
    st.plotly_chart(degree_histogram(A), config={"displayModeBar": False})
    st.download_button(
        "Download lattice (.json)",
        json.dumps(lattice_to_dict(A)),
        file_name=f"lattice_L{L_now}_{stats['n_edges']}edges.json",
        mime="application/json",
    )

with st.expander("Adjacency table: tick a box to add an edge (the mirror cell follows; the diagonal is ignored)"):
    st.data_editor(w.adjacency_frame(A), key=editor_key, num_rows="fixed", **w.adjacency_editor_layout(L_now))
