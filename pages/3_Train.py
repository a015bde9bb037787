"""Train: build a dataset, train a network from scratch or fine-tune one, watch it live, save or download it."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui import training as t  # noqa: E402
from ui import widgets as w  # noqa: E402
from ui.state import available_models, get_lattice  # noqa: E402

st.set_page_config(page_title="Train · isingviz", page_icon="🧲", layout="wide")
st.title("Train")
st.caption(
    "Simulate instances on N_L lattices, train the network to read the couplings back, and watch the test accuracy"
    " next to the trivial 'no edge' guess. Training runs in the background: you may visit other pages meanwhile."
)
A = get_lattice()
job = st.session_state.get(t.JOB_KEY)
if job is not None and job.done:
    t.register(job)  # before listing the models, so a finished one can be fine-tuned at once
models = available_models()

left, right = st.columns([2, 1])
base_label = left.selectbox(
    "start from",
    [t.SCRATCH, *models],
    key="tr_base",
    help="fine-tuning starts from a trained network (the paper pre-trains at T = 0.1, then fine-tunes at high T)",
)
base = models.get(base_label)
name = right.text_input("name of the new model", "my_model", key="tr_name", help="letters, digits, - and _")
if base is not None:
    st.caption(f"Base: {base.summary()}")

with st.sidebar:
    ds = t.dataset_inputs(A, base)
    net = t.network_inputs(base)
    tc = t.train_inputs()

busy = job is not None and not job.done
if st.button("Start training", type="primary", disabled=busy, key="tr_start"):
    new = w.attempt(t.start_job, ds, net, tc, base, name, stop=False)
    if new is not None:
        st.session_state[t.JOB_KEY] = new
        st.rerun()

t.poll(t.JOB_KEY, t.draw_job)
if job is not None and job.done:
    t.finished_panel(job)
elif job is None:
    st.info("Set the dataset, network and optimisation in the sidebar, then press Start training.")

st.divider()
st.subheader("Upload a model")
t.upload_panel()
