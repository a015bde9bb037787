"""Barren plateau: at high T, from-scratch training on raw momenta stalls; fine-tuning or decay encoding does not."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from isingviz.figures.curves import compare_histories, last_value, reference_levels, training_curves  # noqa: E402
from isingviz.jobs.costs import queue_cost, training_cost  # noqa: E402
from isingviz.jobs.training import JobQueue, plateau_jobs  # noqa: E402
from ui import training as t  # noqa: E402
from ui import visitor as v  # noqa: E402
from ui import widgets as w  # noqa: E402
from ui.state import load_path, shipped_models  # noqa: E402

LIVE_T = [5.0, 10.0, 20.0, 50.0, 100.0]

st.set_page_config(page_title="Barren plateau · isingviz", page_icon="🧲", layout="wide")
st.title("Barren plateau")
st.caption(
    "At high T the couplings add only ~τ/T to each step of an almost free decay, so every lattice gives nearly the"
    " same raw instance. A network trained from scratch on raw momenta then sits on a plateau: it predicts the"
    " label most training lattices give each pair, whatever the instance. The paper escapes by pre-training at"
    " T = 0.1 and fine-tuning; subtracting the free decay from the input (the 'decay' encoding) is another way."
)

shipped = {}
for stem, path in shipped_models().items():
    try:
        shipped[stem] = load_path(path)
    except (ValueError, OSError):
        continue  # an unreadable file is skipped, not fatal
groups = t.plateau_runs(shipped)
high = {T: g for T, g in groups.items() if set(g) & set(t.PLATEAU_KINDS)}
pretrain = groups.get(0.1, {}).get("pretrain")

st.subheader("Shipped runs")
if not high:
    st.info(
        "No shipped barren-plateau runs in models/ (scratch_T50, finetune_T50, decay_T50 with pretrain_T0.1)."
        " They are made with `python -m isingviz train` (see models/); meanwhile, run a small version live below."
    )
else:
    T = st.selectbox("temperature T", sorted(high), format_func=lambda v: f"{v:g}", key="pl_T")
    group = high[T]
    runs = {label: group[k].metadata.get("history", []) for k, label in t.PLATEAU_KINDS.items() if k in group}
    levels = reference_levels(next(iter(group.values())).metadata)
    fig = compare_histories(runs, trivial=levels["trivial"], majority=levels["majority"])
    st.plotly_chart(fig, key="pl_shipped")
    st.markdown(t.plateau_caption(runs, levels, T))
    if pretrain is not None:
        h = pretrain.metadata.get("history", [])
        acc = last_value(h, "test_accuracy")
        st.caption(
            f"'fine-tuned' starts from pretrain_T0.1: {len(h)} epochs at T = 0.1 (encoding {pretrain.config.encoding}),"
            f" test accuracy {acc:.3f} there."
            if acc is not None
            else "'fine-tuned' starts from pretrain_T0.1."
        )
        with st.expander("pre-training curves (T = 0.1)"):
            pre_levels = reference_levels(pretrain.metadata)
            pre_fig = training_curves(h, trivial=pre_levels["trivial"], majority=pre_levels["majority"])
            st.plotly_chart(pre_fig, key="pl_pre")

st.subheader("Run it live")
st.caption(
    "A small version on this machine: the same lattices and instances trained three ways for a few epochs each."
    " Expect the trend, not the paper's 10^4-epoch plateau."
)
c = st.columns(5)
live_T = c[0].select_slider("T", LIVE_T, value=50.0, format_func=lambda v: f"{v:g}", key="pl_live_T")
why = "fixed: fine-tuning uses the shipped pretrain_T0.1's own 10 lattices" if pretrain is not None else None
n_lat = int(c[1].number_input("lattices N_L", 1, 30, 10, key="pl_NL", disabled=pretrain is not None, help=why))
per = int(c[2].number_input("instances per lattice", 5, 1000, 100, key="pl_n"))
epochs = int(c[3].number_input("epochs per run", 1, 50, 4, key="pl_epochs"))
PRE_HELP = (
    "fine-tune the shipped pretrain_T0.1 (trained at T = 0.1 on its own 10 lattices); untick to pre-train a small"
    " network at T = 0.1 here first"
)
use_pre = pretrain is not None and c[4].checkbox("shipped base", True, key="pl_use_pre", help=PRE_HELP)
if pretrain is None:
    c[4].caption("No shipped pretrain_T0.1: a quick pre-training at T = 0.1 runs first.")

ticket = v.ticket(t.QUEUE_KIND)
busy = ticket is not None and ticket.active
base = pretrain if use_pre else None
settings = {"per_lattice": per, "test_per_lattice": max(5, per // 4), "epochs": epochs, "pretrain_epochs": epochs}
jobs = w.attempt(plateau_jobs, live_T, pretrain=base, n_lattices=n_lat, **settings, stop=False)
cost = queue_cost(training_cost(j.spec, j.config, j.train_config) for j in jobs.values()) if jobs else None
if cost is not None:
    st.caption(v.cost_caption(cost))
if st.button("Run it live", type="primary", disabled=busy or not jobs, key="pl_run"):
    if v.submit(t.QUEUE_KIND, JobQueue(jobs), cost, f"plateau T={live_T:g}") is not None:
        st.rerun()
t.poll(t.QUEUE_KIND, t.draw_queue)
