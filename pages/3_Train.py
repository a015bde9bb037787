"""Train: a CNN for one lattice size (from scratch or fine-tuned) or a general model for any lattice; watch it
live, stop it keeping the best, save or download it."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui import model_files as mf  # noqa: E402
from ui import training as t  # noqa: E402
from ui import widgets as w  # noqa: E402
from ui.state import available_models, get_lattice  # noqa: E402

st.set_page_config(page_title="Train · isingviz", page_icon="🧲", layout="wide")
st.title("Train")
st.caption(
    "Simulate instances, train a network to read the couplings back, and watch the test accuracy next to the trivial"
    " 'no edge' guess. The paper's CNN learns N_L lattices of one size; the general model learns from lattices"
    " simulated afresh for every step and reads any lattice of any size. Training runs in the background: you may"
    " visit other pages meanwhile."
)
A = get_lattice()
job = st.session_state.get(t.JOB_KEY)
if job is not None and job.done:
    t.register(job)  # before listing the models, so a finished one can be fine-tuned at once
models = available_models()

kind = st.radio("what to train", list(t.KINDS), format_func=t.KINDS.get, horizontal=True, key="tr_kind")
general = kind == "general"
base, name = t.base_choice(models, general)

with st.sidebar:
    if general:
        settings = t.general_inputs()
    else:
        ds = t.dataset_inputs(A, base)
        net = t.network_inputs(base)
        tc = t.train_inputs()

busy = job is not None and not job.done
if st.button("Start training", type="primary", disabled=busy, key="tr_start"):
    if general:
        new = w.attempt(t.start_general_job, settings, base, name, stop=False)
    else:
        new = w.attempt(t.start_job, ds, net, tc, base, name, stop=False)
    if new is not None:
        st.session_state[t.JOB_KEY] = new
        st.rerun()

t.poll(t.JOB_KEY, t.draw_job)
if job is not None and job.done:
    t.finished_panel(job)
elif job is None:
    what = "the general model's settings" if general else "the dataset, network and optimisation"
    st.info(f"Set {what} in the sidebar, then press Start training.")

st.divider()
st.subheader("Upload a model")
mf.upload_panel()
