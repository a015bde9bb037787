"""Home: the idea in one screen, and a "try it" panel with the paper model (``app.py`` routes to it by default)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="isingviz", page_icon="🧲", layout="wide")

from isingviz.data import fresh_general_split, fresh_test_split  # noqa: E402
from isingviz.figures.graphs import compare_graphs, graph_figure, instance_heatmap  # noqa: E402
from isingviz.lattice import from_edges, pairs_to_adjacency  # noqa: E402
from isingviz.learn.evaluate import model_dataset_spec, predict_pairs  # noqa: E402
from isingviz.methods.general import general_proba  # noqa: E402
from ui import state, visitor  # noqa: E402
from ui import widgets as w  # noqa: E402

TRAIN_CMD = "python -m isingviz train --L 12 --edges 25 --lattices 10 --n-train 25000 --T 0.4 --out {path}"

st.title("isingviz — reading a lattice from its Glauber dynamics")
st.caption(
    "Which of L spins are coupled? A network reads one trajectory of their magnetic momenta and answers for every"
    " pair. Below: the paper's model (arXiv:2208.04119) on a fresh instance, scored beside the trivial guess"
    " “no edge anywhere”. How it works is further down."
)


@st.cache_data(max_entries=64, show_spinner=False)
def try_it(path: str, mtime: float, seed: int, unseen: bool) -> dict:
    """One fresh instance (a training lattice with an initial state training never used, or an unseen lattice)."""
    model = state.load_shipped(path, mtime)
    spec = model_dataset_spec(model)
    if unseen:
        lattices, split = fresh_general_split(spec, 1, 1, seed)
        A, X, k = lattices[0], split.X[0], None
    else:
        k = seed % len(spec.lattices)
        split = fresh_test_split(spec, len(spec.lattices), seed)  # one instance per training lattice
        A, X = from_edges(spec.L, spec.lattices[k]), split.X[k]
    res = predict_pairs(model, X, A)
    pred = pairs_to_adjacency([p["predicted"] for p in res["pairs"]], spec.L)
    n_unsure = sum(p["entropy"] > 0.1 for p in res["pairs"])
    return {"A": A, "X": X, "pred": pred, "res": res, "n_lattices": len(spec.lattices), "k": k, "n_unsure": n_unsure}


def how_it_works() -> None:
    """Eq. 1 and the three ideas, below the try-it panel (or alone when the paper model is missing)."""
    st.header("How it works")
    st.markdown(
        r"$L$ spins are coupled by an unknown **lattice**, a symmetric 0/1 adjacency matrix $A$ (the paper: $L = 12$,"
        r" 25 edges). Started from a state $s(0) \in \{-1, +1\}^L$, their local magnetic momenta relax by the"
        r" mean-field Glauber dynamics at temperature $T$ with time step $\tau$ (the paper's Eq. 1):"
    )
    st.latex(
        r"s_i\big((m+1)\tau\big) = s_i(m\tau) + \tau\Big[-s_i(m\tau)"
        r" + \tanh\Big(\frac{1}{T}\sum_j A_{ij}\, s_j(m\tau)\Big)\Big]"
    )
    c1, c2, c3 = st.columns(3)
    c1.markdown(
        r"**1 · An instance is a picture.** The momenta $s_i(m\tau)$ of $L$ spins over $M$ time steps form an"
        r" $L \times M$ image; one image from one initial state is all the network sees."
    )
    c2.markdown(
        r"**2 · A probability per pair.** A CNN reads the image and outputs, for each of the $L(L-1)/2$ spin pairs,"
        r" the probability $p$ that the two spins are coupled; the pair counts as an edge when $p > 1/2$."
    )
    c3.markdown(
        r"**3 · Entropy says how sure.** $S = -\sum_s p_s \ln p_s$ is 0 for a certain answer and"
        r" $\ln 2 \approx 0.69$ for a coin flip. Keeping only pairs with $S$ below a threshold trades coverage"
        r" for accuracy."
    )
    st.caption(
        "Reproduces Wang, Shi, Xi, Hu & Ran, arXiv:2208.04119. Every accuracy is shown beside the trivial guess "
        "“no edge anywhere”, which already scores 0.62 on the paper's lattices (12 spins, 25 of 66 pairs coupled)."
    )


st.subheader("Try it")
path = Path(state.PAPER_MODEL)
if not path.is_file():
    st.info(
        f"The paper model `{path.name}` is not in `models/` yet. Create it with\n\n"
        f"`{TRAIN_CMD.format(path='models/' + path.name)}`\n\nthen reload this page."
    )
    how_it_works()
    st.stop()

model = w.attempt(state.load_path, path)
st.session_state.setdefault("home_seed", 0)
left, mid, right = st.columns([2, 2, 3])
left.button("New initial state", on_click=w.bump, args=("home_seed",), help="draw another fresh instance")
unseen = mid.toggle("Unseen random lattice", key="home_unseen", help="a lattice the model never saw in training")
right.caption(w.describe(model))
out = w.attempt(try_it, str(path), path.stat().st_mtime, int(st.session_state["home_seed"]), bool(unseen))
res, A = out["res"], out["A"]

g1, g2, g3 = st.columns([3, 3, 2])
where = "an unseen random lattice" if unseen else f"training lattice {out['k'] + 1} of {out['n_lattices']}"
g1.plotly_chart(graph_figure(A, title=f"true: {where}"), config={"displayModeBar": False}, key="home_true")
g2.plotly_chart(
    graph_figure(A, edge_status=compare_graphs(A, out["pred"]), title="predicted from one instance"),
    config={"displayModeBar": False},
    key="home_pred",
)
with g3:
    acc, triv = res["accuracy"], res["trivial_accuracy"]
    st.metric("accuracy", f"{acc:.3f}", delta=f"{acc - triv:+.3f} vs trivial")
    st.metric("trivial “no edge” accuracy", f"{triv:.3f}")
    st.metric("edges predicted / true", f"{res['n_predicted_edges']} / {res['n_true_edges']}")
    st.metric("unsure pairs (S > 0.1)", out["n_unsure"])
if unseen:
    st.caption(
        f"The paper model was trained on only {out['n_lattices']} lattices: it learned to recognise those, not to "
        "read couplings from the dynamics; on lattices it never saw, the paper finds accuracy below the trivial guess."
    )
    general_path = Path(state.SHIPPED_DIR) / "general.safetensors"
    if general_path.is_file():  # the model that does read couplings: trained on fresh lattices, any L and T
        general = w.attempt(state.load_path, general_path)
        p_g = w.attempt(general_proba, general, out["X"], model.T)  # as shipped: with its evidence gate
        res_g = w.attempt(predict_pairs, general, out["X"], A, T=model.T, proba=p_g)
        pred_g = pairs_to_adjacency([p["predicted"] for p in res_g["pairs"]], A.shape[0])
        h1, h2 = st.columns([6, 2])
        title = "general model, same instance (trained on fresh lattices, never on this one)"
        fig = graph_figure(A, edge_status=compare_graphs(A, pred_g), title=title)
        h1.plotly_chart(fig, config={"displayModeBar": False}, key="home_general")
        acc_g = res_g["accuracy"]
        h2.metric("general model accuracy", f"{acc_g:.3f}", delta=f"{acc_g - triv:+.3f} vs trivial")
else:
    st.caption("Initial state never used in training; edges green = found, red = spurious, orange dashed = missed.")
with st.expander("The instance the network saw"):
    st.plotly_chart(instance_heatmap(X=out["X"], tau=model.tau), key="home_instance")

how_it_works()
link = visitor.share_link()
if link:
    st.caption(
        f"Share this lab: {link} — the link has no visitor token, so whoever opens it starts with their own lattice,"
        " models and runs (yours stay with the address in your browser's bar)."
    )
