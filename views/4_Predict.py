"""Predict & confidence: a model reads instances of a lattice; true vs predicted graph, entropies, the S_c trade-off."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from isingviz import metrics as mt  # noqa: E402
from isingviz.data import distinct_initial_states, fresh_test_split  # noqa: E402
from isingviz.figures.curves import coverage_figure  # noqa: E402
from isingviz.figures.graphs import compare_graphs, graph_figure, matrix_figure  # noqa: E402
from isingviz.jobs.costs import predict_seconds  # noqa: E402
from isingviz.lattice import adjacency_to_pairs, from_edges, pairs_to_adjacency  # noqa: E402
from isingviz.learn.evaluate import model_dataset_spec, predict_pairs, simulate_for_model  # noqa: E402
from isingviz.methods import reconstruct  # noqa: E402
from isingviz.methods.general import general_proba  # noqa: E402
from ui import widgets as w  # noqa: E402
from ui.recording import recording_panel  # noqa: E402
from ui.state import available_models, get_lattice  # noqa: E402

st.set_page_config(page_title="Predict · isingviz", page_icon="🧲", layout="wide")
st.title("Predict & confidence")
A = get_lattice()
L = int(A.shape[0])
everything = available_models()
models = {k: m for k, m in everything.items() if m.config.L == L or m.is_general}  # general: any L
if not models:
    others = ", ".join(f"{k} (L = {m.config.L})" for k, m in everything.items()) or "none yet"
    st.info(
        f"No model fits the current lattice (L = {L} spins). Models available: {others}. Train one for this lattice"
        " on the Train page, or pick a lattice of a model's size on the Lattice page."
    )
    recording_panel()
    st.stop()


@st.cache_data(max_entries=16, show_spinner="Simulating the instances and running the model on them…")
def instances(_model, key: tuple, a: bytes, train_index: int | None, n: int, seed: int, T: float):
    """n instances (n, L, M) of the lattice and the model's p (n, K, 2); unseen initial states on its own lattices."""
    if train_index is None:
        lattice = np.frombuffer(a, dtype=np.int8).reshape(L, L)
        X = simulate_for_model(_model, lattice, distinct_initial_states(L, n, seed), T=T, seed=seed)
    else:
        spec = model_dataset_spec(_model)
        split = fresh_test_split(spec, n * len(spec.lattices), seed)  # n per training lattice, states never trained on
        X = split.X[split.lattice_index == train_index]
    if _model.is_general:  # as shipped: the evidence gate on Eq. 1 data, as everywhere else
        return X, general_proba(_model, X, T)
    return X, _model.predict_proba(X, T=T)  # a CNN reads its own T


@st.cache_data(max_entries=16, show_spinner="Running the binary maximum-likelihood decoder on the same instances…")
def baseline_accuracy(X: np.ndarray, y: np.ndarray, T: float, tau: float) -> float:
    """Accuracy of the strongest non-learned method (binary ML decoder, knows Eq. 1) on the same instances."""
    return reconstruct("binary_ml", X, T=T, tau=tau).accuracy(y)


PAGE_SECONDS = 3.0  # the most model time one click of this page may cost on this server
DECODER_HELP = (
    "a decoder that does not learn: it knows Eq. 1, T and that couplings are 0 or 1, and searches the couplings"
    " that best explain each step, on the same instances"
)

with st.sidebar:
    names = list(models)
    # The general model reads any lattice (seen or not) at any T: the default for real reconstruction.
    preferred = [n for n in ("general (shipped)", "paper_T0.4 (shipped)") if n in names]
    first = names.index(preferred[0]) if preferred else 0
    label = st.selectbox("model", names, index=first, key="pr_model", help=f"models for L = {L} spins")
    model = models[label]
    st.caption(w.describe(model))
    T = model.T
    if model.is_general:
        T = float(
            st.select_slider("temperature T", w.T_VALUES, value=1.0, key="pr_T", help="the general model reads any T")
        )
    trained_on = [from_edges(L, e) for e in (model.metadata.get("dataset") or {}).get("lattices") or []]
    options = ["current lattice (Lattice page)"] + [f"training lattice {i + 1}" for i in range(len(trained_on))]
    choice = options.index(st.selectbox("lattice", options, key="pr_lattice"))
    if choice:
        A = trained_on[choice - 1]
    train_index = next((i for i, B in enumerate(trained_on) if np.array_equal(A, B)), None)
    many = st.radio("instances", ["one instance", "many instances"], horizontal=True, key="pr_many") != "one instance"
    method = "general" if model.is_general else "cnn"
    # one click may cost at most PAGE_SECONDS of the model's time on this server: N is bounded accordingly
    n_max = int(max(2, min(2000, PAGE_SECONDS / max(predict_seconds(method, L, 1), 1e-6))))
    help_n = f"at most {n_max} here: about {predict_seconds(method, L, 1) * 1000:.0f} ms per instance at L = {L}"
    n = int(st.number_input("number of instances N", 2, n_max, min(200, n_max), key="pr_n", help=help_n)) if many else 1
    seed = int(st.number_input("seed of the initial states", 0, 2**31 - 1, 0, key="pr_seed"))
    s_c = st.slider("entropy threshold S_c", 0.0, round(mt.LN2, 3), 0.6, 0.005, format="%.3f", key="pr_sc")

key = (label, id(model))
X, proba = w.attempt(instances, model, key, np.ascontiguousarray(A, dtype=np.int8).tobytes(), train_index, n, seed, T)
y = np.broadcast_to(adjacency_to_pairs(A), proba.shape[:-1])  # (N, K)
where = "its training lattice" if train_index is not None else "a lattice it was not trained on"
states = "initial states it never saw in training" if train_index is not None else "random initial states"
st.caption(
    f"{label} at {'T' if model.is_general else 'its own T'} = {T:g}, τ = {model.tau:g}, M = {model.config.M},"
    f" on {where} ({int(A.sum()) // 2} edges), {n} instance(s) from {states}, seed {seed}."
)
eta, gamma = mt.coverage_at(proba, y, s_c)
c = st.columns(5)
acc_help = f"fraction of the pairs predicted right, mean over the N = {n} instances" if many else None
c[0].metric("mean accuracy" if many else "accuracy", f"{mt.pair_accuracy(proba, y):.4f}", help=acc_help)
c[1].metric("trivial guess", f"{mt.trivial_accuracy(y):.4f}", help="accuracy of guessing 'no edge' for every pair")
c[2].metric("coverage η at S_c", f"{eta:.1%}", help="fraction of pairs with entropy S < S_c")
c[3].metric("accuracy γ at S_c", "—" if np.isnan(gamma) else f"{gamma:.4f}", help="accuracy on the kept pairs")
baseline_slot = c[4].empty()  # filled last: the model's result is on screen first

k = int(st.slider("instance shown", 1, n, 1, key="pr_k")) - 1 if many else 0
pred = mt.predictions(proba[k])  # (K,)
A_pred = pairs_to_adjacency(pred, L)
status = compare_graphs(A, A_pred)
g = st.columns(2)
true_status = {p: s for p, s in status.items() if s != "FP"}
g[0].plotly_chart(graph_figure(A, edge_status=true_status, title="true lattice (TP, FN)"), key="pr_true")
pred_status = {p: s for p, s in status.items() if s != "FN"}
title = f"predicted (TP, FP) · instance {k + 1}: accuracy {np.mean(pred == y[k]):.3f}"
g[1].plotly_chart(graph_figure(A_pred, edge_status=pred_status, title=title), key="pr_pred")

m = st.columns(2)
m[0].plotly_chart(matrix_figure(proba[k, :, 1], "p(edge) per pair", 0.0, 1.0), key="pr_p")
m[1].plotly_chart(matrix_figure(mt.pair_entropy(proba[k]), "entropy S per pair", 0.0, mt.LN2), key="pr_S")
if model.is_general:
    st.caption(w.TRUST_NOTE)

st.subheader("Confidence: coverage and accuracy against S_c (paper Fig. 2b)")
st.plotly_chart(coverage_figure(mt.coverage_curve(proba, y), s_c), key="pr_cov")
st.caption(
    f"Keeping only the pairs the network is sure of (S < S_c = {s_c:.3f}) covers {eta:.1%} of the"
    f" {proba.shape[0] * proba.shape[1]} pair predictions; on them the accuracy is"
    f" {'undefined (none kept)' if np.isnan(gamma) else f'{gamma:.4f}'}. The paper reports accuracy ~1 at"
    " S_c ~ 0.1 and ~96% coverage at S_c ~ 0.6 on its training lattices at T = 0.4."
)

decoder_seconds = predict_seconds("binary_ml", L, n)
decoder_key = ("pr_decoder", label, A.tobytes(), n, seed, T)
if decoder_seconds <= 1.0 or st.session_state.get("pr_decoder_for") == decoder_key:
    best = w.attempt(baseline_accuracy, X, np.ascontiguousarray(y), T, model.tau)
    baseline_slot.metric("binary decoder", f"{best:.4f}", help=DECODER_HELP)
    st.caption(
        f"The binary decoder scores {best:.4f} on the same instances: it is told Eq. 1 and the temperature and"
        " searches the 0/1 couplings that best explain each step. A network that matches it reads the physics"
        " from data alone; one far below it (the paper's CNN on a lattice it never saw) has learned its lattices,"
        " not the dynamics."
    )
elif baseline_slot.button(
    f"Decoder (~{decoder_seconds:.0f} s)", key="pr_decoder", help=f"run the binary decoder, {DECODER_HELP}"
):
    st.session_state["pr_decoder_for"] = decoder_key
    st.rerun()

st.subheader(f"Unconfident pairs of instance {k + 1} (S ≥ S_c)")
table = pd.DataFrame(predict_pairs(model, X[k], A, T=T, proba=proba[k])["pairs"])
table = table[table["entropy"] >= s_c].sort_values("entropy", ascending=False)
if table.empty:
    st.success("The network is confident (S < S_c) about every pair of this instance.")
else:
    st.dataframe(table, hide_index=True, key="pr_table")

st.divider()
recording_panel()
