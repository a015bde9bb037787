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
from ui import visitor as v  # noqa: E402
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
ticket = v.ticket(t.JOB_KIND)
job = ticket.job if ticket is not None else None
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

busy = ticket is not None and ticket.active
made = w.attempt(t.make_general_job, settings, base, name, stop=False) if general else None
if not general:
    made = w.attempt(t.make_job, ds, net, tc, base, name, stop=False)
if made is not None:
    st.caption(v.cost_caption(made[1]))
if st.button("Start training", type="primary", disabled=busy or made is None, key="tr_start"):
    if v.submit(t.JOB_KIND, made[0], made[1], name) is not None:
        st.rerun()

t.poll(t.JOB_KIND, t.draw_job)
if job is not None and job.done:
    t.finished_panel(job)
elif job is None:
    what = "the general model's settings" if general else "the dataset, network and optimisation"
    st.info(f"Set {what} in the sidebar, then press Start training.")

st.divider()
st.subheader("Upload a model")
mf.upload_panel()
