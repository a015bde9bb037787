"""Your own recording on the Predict page: upload trajectories, pick a method, see the reconstructed graph with every
pair's probability and entropy, download the edge list (the library: ``isingviz.recordings`` and
``isingviz.methods.edges``; the same as ``python -m isingviz reconstruct``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from isingviz.figures.graphs import graph_figure, matrix_figure
from isingviz.jobs.costs import predict_seconds
from isingviz.lattice import pairs_to_adjacency
from isingviz.methods import reconstruct
from isingviz.methods.edges import edge_rows, edges_csv, edges_json
from isingviz.metrics import LN2
from isingviz.recordings import read_recording
from ui.widgets import (
    NO_COUPLING_NOTE,
    POSTERIOR_NOTE,
    QUOTIENT_NOTE,
    SYMMETRIC_NOTE,
    T_VALUES,
    TRUST_NOTE,
    UNDERDETERMINED_NOTE,
    UNSUPPORTED_NOTE,
    attempt,
    upload_once,
)

# The methods that read one recording on their own (the CNN needs a trained model of the recording's L and M; template
# matching and the pooled methods need known lattices or many instances of one).
METHODS = {
    "general": "general model (learned; any L)",
    "binary_ml": "binary decoder (knows Eq. 1)",
    "inversion": "physics inversion (knows Eq. 1)",
    "ml_kinetic": "kinetic Ising, max. likelihood",
    "replica_ml": "replica decoder (heat-bath replicas; needs R)",
}
REPLICA_MAX_L = 16  # the replica decoder's search above this L costs more than a page click may
PAGE_SECONDS = 5.0  # the most one reconstruction here may cost; larger ones are for the command line
KEY = "rec_data"


def recording_panel() -> None:
    st.subheader("Your own recording")
    st.caption(
        "Reconstruct the lattice behind trajectories you recorded or simulated elsewhere: a .csv with one row per spin"
        " and one column per time step (numbers only, no header), or an .npz whose member X has shape (B, L, M) or"
        " (L, M). Give the temperature and time step it was recorded at, and R if each trajectory is the mean of R"
        " stochastic (heat-bath) runs, as a measured magnetisation is."
    )
    upload = st.file_uploader("recording (.csv or .npz)", type=["csv", "npz"], key="rec_upload")
    if upload is None:
        st.session_state.pop(KEY, None)
        return
    X, error = upload_once(upload, "rec_seen", lambda data: read_recording(data, upload.name))
    if error is not None:
        st.error(error)
        return
    if X is not None:
        st.session_state[KEY] = (upload.file_id, X)
    stored = st.session_state.get(KEY)
    if stored is None or stored[0] != upload.file_id:
        return
    X = stored[1]
    B, L, M = X.shape
    c = st.columns(5)
    method = c[0].selectbox("method", list(METHODS), format_func=METHODS.get, key="rec_method")
    T = float(c[1].select_slider("temperature T", T_VALUES, value=1.0, key="rec_T"))
    tau = float(c[2].number_input("time step τ", 0.001, 1.0, 0.1, 0.01, format="%.3f", key="rec_tau"))
    R = int(c[3].number_input("replicas R", 0, 100_000, 0, key="rec_R",
                              help="0: deterministic data (Eq. 1); R >= 1: each trajectory is the mean of R heat-bath"
                                   " runs from the same start"))  # fmt: skip
    index = int(c[4].number_input("instance", 0, B - 1, 0, key="rec_index")) if B > 1 else 0
    if method == "replica_ml" and R == 0:
        st.error(
            "the replica decoder reads means of R stochastic runs: give R (replicas) >= 1, or choose another method"
        )
        return
    if R and L > REPLICA_MAX_L and method in ("general", "replica_ml"):
        st.error(
            f"reading replica data of L = {L} spins costs more than a click here (the page does it up to L ="
            f" {REPLICA_MAX_L}); use the command line: python -m isingviz reconstruct FILE --replicas {R} ..."
        )
        return
    cost = predict_seconds(method if method in ("general", "binary_ml", "inversion") else "general", L, 1)
    if cost > PAGE_SECONDS:
        st.error(
            f"{METHODS[method]} would take about {cost:.0f} s for L = {L} spins here; use the command line"
            f" (python -m isingviz reconstruct FILE --method {method} ...) or another method"
        )
        return
    know = {"replicas": R} if R else {}
    rec = attempt(reconstruct, method, X[index : index + 1], T=T, tau=tau, **know, stop=False)
    if rec is None:
        return
    rows = edge_rows(rec, L)
    if rec.results.get("answered_by") == ["exact posterior"]:
        st.info(POSTERIOR_NOTE)
    elif rec.results.get("answered_by") == ["symmetric inversion"]:
        st.info(SYMMETRIC_NOTE)
    elif rec.results.get("answered_by") == ["twin quotient"]:
        st.info(QUOTIENT_NOTE)
    elif rec.results.get("supported") == [False]:
        st.info(NO_COUPLING_NOTE if R else UNSUPPORTED_NOTE)
    if rec.results.get("underdetermined") == [True]:
        st.warning(UNDERDETERMINED_NOTE)
    _draw(rows, L, M, B, method, T, tau, upload.name, index, R)


def _draw(
    rows: list[dict[str, Any]], L: int, M: int, B: int, method: str, T: float, tau: float, name: str, i: int, R: int
) -> None:
    pred = np.array([r["edge"] for r in rows])
    A = pairs_to_adjacency(pred, L)
    g = st.columns([3, 2, 2])
    title = f"reconstructed from {name}" + (f", instance {i}" if B > 1 else "") + f" ({int(pred.sum())} edges)"
    g[0].plotly_chart(graph_figure(A, title=title), key="rec_graph")
    p = [r["p_edge"] for r in rows]
    if p[0] is not None:
        S = np.array([r["entropy"] for r in rows])
        g[1].plotly_chart(matrix_figure(np.array(p), "p(edge) per pair", 0.0, 1.0), key="rec_p")
        g[2].plotly_chart(matrix_figure(S, "entropy S per pair", 0.0, LN2), key="rec_S")
        sure = float(np.mean(S < 0.1))
        st.caption(
            f"{sure:.0%} of the pairs have entropy S < 0.1, where this method's decision is reliable; pairs near"
            " S = ln 2 = 0.69 are the ones this recording does not decide for it (too hot, too noisy or too short). "
            + TRUST_NOTE
        )
    about = {"file": name, "method": method, "L": L, "M": M, "instance": i, "T": T, "tau": tau, "replicas": R or None}
    d = st.columns(2)
    stem = name.rsplit(".", 1)[0]
    d[0].download_button("edge list (.csv)", edges_csv(rows), f"{stem}_edges.csv", "text/csv", key="rec_csv")
    d[1].download_button(
        "edge list (.json)", edges_json(rows, about), f"{stem}_edges.json", "application/json", key="rec_json"
    )
