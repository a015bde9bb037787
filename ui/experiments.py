"""Streamlit-side view of the ``general`` sweep for the Experiments page: family and L pickers, the figures of
``isingviz.figures.general``, the table, the wins line and the calibration pair."""

from __future__ import annotations

import streamlit as st

from isingviz.figures import calibration as cfig
from isingviz.figures import general as efg


def show_general(doc: dict, key: str, tempered: dict | None = None) -> None:
    """The general sweep: accuracy vs T for one (family, L), the L x T advantage map, the table, the calibration;
    ``tempered``: the replica temperature's benchmark document (``benchmarks/replica_calibration.py``), if any."""
    default = efg.general_default(doc)
    if default is None:
        st.info("No cell of this sweep finished.")
        return
    choices = efg.general_choices(doc)
    c, families = st.columns(2), list(choices)
    family = c[0].selectbox(
        "lattice family", families, families.index(default[0]), efg.family_text, key=f"{key}_family"
    )
    Ls = choices[family]
    at = Ls.index(default[1]) if family == default[0] else 0
    L = c[1].selectbox("L (spins)", Ls, index=at, key=f"{key}_L_{family}")  # one widget per family: its own L values
    st.caption(efg.general_model_text(doc))
    st.plotly_chart(efg.general_figure(doc, family, L), key=f"{key}_fig")
    st.plotly_chart(efg.general_advantage_figure(doc, family), key=f"{key}_map")
    st.dataframe(efg.general_rows(doc, family, L), hide_index=True, key=f"{key}_table")
    st.caption(efg.general_wins_text(doc))
    cals = efg.general_calibrations(doc)
    if not cals:
        return
    text = efg.CALIBRATION_TEXT.get
    which = st.radio("calibration of", list(cals), format_func=text, horizontal=True, key=f"{key}_cal")
    before = (doc.get("summary") or {}).get("calibration_all_raw") if which == "calibration_all" else None
    c = st.columns(2)
    c[0].plotly_chart(cfig.reliability_figure(cals[which], before), key=f"{key}_reliability")
    c[1].plotly_chart(cfig.coverage_accuracy_figure(cals[which]), key=f"{key}_coverage")
    st.caption(
        "Left: pairs binned by the general model's p(edge); points on the diagonal are calibrated (of the pairs given"
        " p = 0.3, 30 % are edges); dotted, where shown: the network alone, before the evidence gate (Eq. 1 data) and"
        " the confidence head (replica data). Right: keep only the pairs with entropy S < S_c; coverage η is the"
        " fraction kept, γ the accuracy on them, beside the trivial 'no edge' accuracy of all these pairs."
    )
    if tempered and tempered.get("calibration_after"):
        st.plotly_chart(cfig.replica_temperature_figure(tempered), key=f"{key}_tempered")
        st.caption(cfig.replica_temperature_text(tempered))
    checks = efg.general_checks_rows(doc)
    if checks:
        st.markdown("**Never confidently worse than guessing** (cells passing each check)")
        st.dataframe(checks, hide_index=True, key=f"{key}_checks")
