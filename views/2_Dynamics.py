"""Dynamics: simulate the session's lattice (Eq. 1 or stochastic replicas), see the instance, compare temperatures."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from isingviz.data import distinct_initial_states  # noqa: E402
from isingviz.figures.graphs import instance_heatmap, trajectories_figure  # noqa: E402
from ui import widgets as w  # noqa: E402
from ui.state import get_lattice  # noqa: E402

MODES = {"mean-field (paper, Eq. 1)": "meanfield", "stochastic heat-bath replicas": "stochastic"}
INITIAL = ("random", "all up", "edit")

st.set_page_config(page_title="Dynamics · isingviz", page_icon="🧲", layout="wide")
st.title("Dynamics")
A = get_lattice()
L = int(A.shape[0])

with st.sidebar:
    st.subheader("Conditions")
    T = st.select_slider("temperature T (log scale)", w.T_VALUES, value=0.4, format_func="{:g}".format, key="dyn_T")
    tau = st.number_input("time step τ", min_value=0.01, max_value=1.0, value=0.1, step=0.01, key="dyn_tau")
    M = int(st.number_input("time points M", min_value=2, max_value=500, value=50, step=10, key="dyn_M"))
    st.subheader("Initial state s(0)")
    init = st.radio("initial state", INITIAL, horizontal=True, key="dyn_init", label_visibility="collapsed")
    seed = int(st.number_input("seed (initial state, replicas, noise)", min_value=0, value=0, step=1, key="dyn_seed"))
    st.subheader("Measurement")
    mode_label = st.radio("dynamics", list(MODES), key="dyn_mode")
    mode = MODES[mode_label]
    R = int(st.number_input("replicas R", 1, 2000, 100, key="dyn_R")) if mode == "stochastic" else 100
    noise = st.number_input("observation noise σ", min_value=0.0, max_value=1.0, value=0.0, step=0.01, key="dyn_noise")

s0 = np.ones(L, dtype=np.int8) if init == "all up" else distinct_initial_states(L, 1, seed)[0]
if init == "edit":
    st.caption("Initial state: set each spin to +1 or -1 (starts from the random state of the seed).")
    row = pd.DataFrame([s0.astype(int)], columns=[str(i) for i in range(L)], index=["s(0)"])
    options = {str(i): st.column_config.SelectboxColumn(str(i), options=[1, -1], required=True) for i in range(L)}
    edited = st.data_editor(row, column_config=options, key=f"dyn_s0_{L}_{seed}", num_rows="fixed")
    s0 = w.attempt(w.state_from_row, edited)

X = w.attempt(w.simulate_cached, A, s0, T, tau, M, mode=mode, replicas=R, noise=noise, seed=seed)
detail = f" · R = {R} replicas" if mode == "stochastic" else ""
st.caption(
    f"L = {L} spins, {int(A.sum()) // 2} edges (the Lattice page's lattice) · T = {T:g} · τ = {tau:g} · M = {M}"
    f" (total time {(M - 1) * tau:g}) · {mode_label}{detail} · noise σ = {noise:g}"
)
c = st.columns(4)
c[0].metric("temperature T", f"{T:g}")
c[1].metric("max |s − s0 (1−τ)^m|", f"{w.max_deviation(X, s0, tau):.3g}", help="how far the couplings move s")
c[2].metric("final mean |s|", f"{np.abs(X[:, -1]).mean():.3g}")
c[3].metric("free decay at the end", f"{(1 - tau) ** (M - 1):.3g}", help="|s| of an uncoupled spin at t = (M-1)τ")

tab_map, tab_curves, tab_T = st.tabs(["instance (what the network sees)", "s_i(t) curves", "compare temperatures"])
with tab_map:
    st.plotly_chart(instance_heatmap(X, tau), key="dyn_heatmap")
    st.caption("Each row is one spin, each column one time step; this L x M picture is the network's whole input.")
with tab_curves:
    st.plotly_chart(trajectories_figure(X, tau), key="dyn_curves")
with tab_T:
    Ts = st.multiselect("temperatures", w.T_VALUES, default=[0.1, 1.0, 10.0, 100.0], key="dyn_Ts")
    stat = st.radio("over spins", ["max", "rms"], horizontal=True, key="dyn_stat")
    if not Ts:
        st.info("Choose at least one temperature.")
    else:
        fig, table = w.attempt(w.temperatures_cached, A, s0, sorted(Ts), tau, M, stat)
        st.plotly_chart(fig, key="dyn_T_fig")
        st.caption(
            "Same lattice and s(0) at each T (mean-field Eq. 1). Once T is well above the local fields the"
            " couplings add only ~τ·h/T per step, so the deviation from free decay shrinks like 1/T: the last"
            " column levels off. At high T every lattice looks almost the same; that is what makes learning hard."
        )
        st.dataframe(table, hide_index=True, column_config={"T": st.column_config.NumberColumn(format="%g")})

st.download_button(
    "Download this instance (.npz)",
    w.instance_npz(X, s0, A, T, tau, M),
    file_name=f"instance_L{L}_T{T:g}.npz",
    mime="application/octet-stream",
    help="X (L, M), s0 (L,), A (L, L), T, tau, M",
)
