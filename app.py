"""isingviz home page: run with `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="isingviz", page_icon="🧲", layout="wide")
st.title("isingviz — reconstructing lattice topology from Glauber dynamics")
st.markdown(
    "A lattice of **L spins** couples through a symmetric 0/1 adjacency matrix A. From an initial state "
    "s(0) in {-1,+1}^L the local magnetic momenta follow the mean-field Glauber dynamics "
    "`s(m+1) = s(m) + tau (-s(m) + tanh(A s(m) / T))`. One trajectory, an L x M picture, is an **instance**; "
    "a network reads it and outputs, for every spin pair, the probability that they are coupled."
)
