"""Lattice page: the pure click-to-toggle and table-edit logic, and AppTest runs of the page."""

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from isingviz.lattice import GENERATORS, from_edges, lattice_to_dict
from tests.app.visiting import state_of
from ui.widgets import (
    ROW_HEIGHT,
    TABLE_WIDTH,
    adjacency_editor_layout,
    apply_editor_edits,
    clicked_node,
    generator_params,
    param_text,
    toggle_click,
)

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "1_Lattice.py")
A3 = from_edges(3, [[0, 1]])


def selection(*nodes):
    points = [{"curve_number": 1, "point_index": n, "customdata": n} for n in nodes]
    return {"selection": {"points": points, "point_indices": list(nodes), "box": [], "lasso": []}}


def test_clicked_node_reads_customdata():
    assert clicked_node(None) is None
    assert clicked_node(selection()) is None
    assert clicked_node(selection(2)) == 2
    assert clicked_node({"selection": {"points": [{"customdata": [4]}]}}) == 4
    assert clicked_node({"selection": {"points": [{"point_index": 0}]}}) is None  # an edge trace: no customdata


def test_two_clicks_toggle_an_edge_and_clear_the_highlight():
    A, pending = toggle_click(A3, None, 1)
    assert pending == 1 and np.array_equal(A, A3)
    A, pending = toggle_click(A, pending, 2)
    assert pending is None and A[1, 2] == A[2, 1] == 1
    A, pending = toggle_click(*toggle_click(A, None, 0), 1)  # 0 then 1 removes the existing edge
    assert pending is None and A[0, 1] == A[1, 0] == 0
    assert A3[0, 1] == 1  # the input is never modified


def test_clicking_the_highlighted_spin_cancels_and_bad_spins_are_ignored():
    assert toggle_click(A3, 2, 2)[1] is None
    A, pending = toggle_click(A3, 1, 7)
    assert pending == 1 and np.array_equal(A, A3)
    assert toggle_click(A3, 9, 0)[1] == 0  # a stale highlight from a bigger lattice is dropped


def test_editor_edits_are_symmetrised_and_diagonal_ignored():
    B = apply_editor_edits(A3, {0: {"1": False}, 2: {"0": True, "2": True}})
    np.testing.assert_array_equal(B, from_edges(3, [[0, 2]]))
    np.testing.assert_array_equal(apply_editor_edits(A3, {}), A3)


def test_generator_params():
    assert generator_params("small_world") == {"k": 4, "p": 0.1}
    assert generator_params("grid") == {}


@pytest.mark.parametrize("family", list(GENERATORS))
def test_every_generator_parameter_has_words_and_help(family):
    """Issue 12: the sidebar showed the keyword argument "n_edges"; every parameter has a label in words."""
    for name in generator_params(family):
        label, help_ = param_text(family, name)
        assert label != name and "_" not in label and help_, (family, name, label)
    assert param_text("random", "n_edges")[0] == "edges"


@pytest.mark.parametrize("L", [2, 12, 16, 32])
def test_adjacency_table_columns_and_rows_fit(L):
    """Issue 12: at L = 12 spins 10-11 hid behind a horizontal scroll and the last rows behind a vertical one."""
    layout = adjacency_editor_layout(L)
    widths = [c["width"] for c in layout["column_config"].values()]
    assert set(layout["column_config"]) == {*map(str, range(L)), "_index"} and len(set(widths)) == 1
    assert widths[0] >= 30
    if L <= 16:  # every spin's column fits the main column at 1280 x 800
        assert sum(widths) <= TABLE_WIDTH
    assert layout["height"] >= (L + 1) * layout["row_height"] and layout["row_height"] == ROW_HEIGHT


@pytest.fixture()
def at():
    return AppTest.from_file(PAGE, default_timeout=60).run()


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def widget_key(at, prefix):
    return next(k for k in at.session_state.keys() if k.startswith(prefix))


def test_page_renders_the_session_lattice(at):
    assert not at.exception
    assert metric(at, "spins L") == "12" and metric(at, "edges") == "25"
    assert not at.error
    assert [n.label for n in at.sidebar.number_input] == ["edges", "seed"]  # words, not "n_edges"
    columns = json.loads(at.dataframe[0].proto.columns)  # the adjacency table: 12 narrow spin columns
    narrow = adjacency_editor_layout(12)["column_config"]["0"]["width"]
    assert [columns[str(j)]["width"] for j in range(12)] == [narrow] * 12


def test_changing_L_and_randomize_draw_new_lattices(at):
    at.slider(key="lattice_L").set_value(20).run()
    assert metric(at, "spins L") == "20"
    before = state_of(at).lattice.copy()
    at.button[0].click().run()
    assert at.session_state["lattice_seed"] == 1
    assert not np.array_equal(state_of(at).lattice, before)
    at.selectbox(key="lattice_family").set_value("ring").run()
    assert metric(at, "edges") == "20" and metric(at, "max degree") == "2"
    assert at.number_input(key="lattice_ring_k").label == "neighbours per spin k"


def test_bad_generator_parameter_shows_error_not_traceback(at):
    at.selectbox(key="lattice_family").set_value("ring").run()
    at.number_input(key="lattice_ring_k").set_value(3).run()
    assert not at.exception
    assert any("ring k must be even" in e.value for e in at.error)


def test_clicking_two_nodes_toggles_the_edge(at):
    A = state_of(at).lattice.copy()
    at.session_state[widget_key(at, "lattice_graph")] = selection(0)
    at.run()
    assert at.session_state["lattice_pending"] == 0 and "Spin 0 is selected" in at.info[0].value
    at.session_state[widget_key(at, "lattice_graph")] = selection(5)
    at.run()
    assert at.session_state["lattice_pending"] is None
    B = state_of(at).lattice
    assert B[0, 5] == B[5, 0] == 1 - A[0, 5]
    assert int(metric(at, "edges")) == 25 + (1 if B[0, 5] else -1)


def test_table_edit_sets_both_cells(at):
    A = state_of(at).lattice.copy()
    i, j = 2, 7
    at.session_state[widget_key(at, "lattice_editor")] = {
        "edited_rows": {i: {str(j): not bool(A[i, j])}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    B = state_of(at).lattice
    assert B[i, j] == B[j, i] == 1 - A[i, j]


def test_upload_bad_and_good_lattice_files(at):
    at.sidebar.file_uploader[0].upload("bad.json", b"{not json", "application/json").run()
    assert not at.exception
    assert any("not valid JSON" in e.value for e in at.error)
    doc = json.dumps(lattice_to_dict(from_edges(5, [[0, 1], [3, 4]]))).encode()
    at.sidebar.file_uploader[0].clear().upload("ok.json", doc, "application/json").run()
    assert not at.error
    assert metric(at, "spins L") == "5" and metric(at, "edges") == "2"
    assert at.slider(key="lattice_L").value == 5
