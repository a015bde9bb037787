"""Figures: types, trace counts, TP/FP/FN colouring, symmetric pair matrices, the temperature comparison."""

import numpy as np
import plotly.graph_objects as go
import pytest

from isingviz.figures.graphs import (
    STATUS_STYLE,
    circle_layout,
    compare_graphs,
    degree_histogram,
    graph_figure,
    instance_heatmap,
    matrix_figure,
    pair_matrix,
    spin_ticks,
    temperature_comparison_figure,
    trajectories_figure,
)
from isingviz.lattice import from_edges, random_lattice

TRUE = from_edges(4, [[0, 1], [1, 2], [2, 3]])
PRED = from_edges(4, [[0, 1], [1, 2], [0, 3]])  # 2 found, (2, 3) missed, (0, 3) spurious


def test_circle_layout_on_unit_circle_spin0_on_top():
    pos = circle_layout(7)
    assert pos.shape == (7, 2)
    np.testing.assert_allclose(np.hypot(pos[:, 0], pos[:, 1]), 1.0)
    np.testing.assert_allclose(pos[0], [0.0, 1.0], atol=1e-12)


def test_graph_figure_plain_has_edges_then_clickable_nodes():
    A = random_lattice(12, 25, seed=0)
    fig = graph_figure(A, highlight=3)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 2
    edges, nodes = fig.data
    assert edges.mode == "lines" and edges.hoverinfo == "skip"
    assert sum(x is None for x in edges.x) == 25  # one None separator per edge
    assert list(nodes.customdata) == list(range(12))
    assert nodes.marker.color[3] != nodes.marker.color[0]  # the highlighted spin stands out


def test_compare_graphs_known_example():
    assert compare_graphs(TRUE, PRED) == {(0, 1): "TP", (1, 2): "TP", (2, 3): "FN", (0, 3): "FP"}
    with pytest.raises(ValueError, match="same L"):
        compare_graphs(TRUE, np.zeros((5, 5), dtype=int))


def test_graph_figure_colours_edges_by_status():
    fig = graph_figure(TRUE, edge_status=compare_graphs(TRUE, PRED))
    assert len(fig.data) == 4  # TP, FP, FN, nodes
    by_color = {t.line.color: t for t in fig.data[:-1]}
    tp, fp, fn = (by_color[STATUS_STYLE[s]["color"]] for s in ("TP", "FP", "FN"))
    assert sum(x is None for x in tp.x) == 2 and sum(x is None for x in fp.x) == 1
    assert fn.line.dash == "dash" and tp.line.dash == "solid"
    pos = circle_layout(4)
    assert (fn.x[0], fn.x[1]) == (pos[2, 0], pos[3, 0])  # the missed edge is (2, 3)


def test_graph_figure_status_as_pair_array_and_bad_status():
    status = ["TP", "TN", "FP", "TN", "TN", "FN"]  # pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
    fig = graph_figure(TRUE, edge_status=status)
    assert [t.name.split(":")[0] for t in fig.data[:-1]] == ["TP", "FP", "FN"]
    with pytest.raises(ValueError, match="one entry per pair"):
        graph_figure(TRUE, edge_status=["TP"])
    with pytest.raises(ValueError, match="edge status"):
        graph_figure(TRUE, edge_status={(0, 1): "maybe"})


def test_instance_and_trajectory_figures():
    X = np.linspace(-1, 1, 5 * 8).reshape(5, 8)
    heat = instance_heatmap(X, tau=0.1)
    assert isinstance(heat.data[0], go.Heatmap)
    assert (heat.data[0].zmin, heat.data[0].zmax) == (-1, 1)
    assert heat.layout.yaxis.autorange == "reversed"
    curves = trajectories_figure(X, tau=0.1)
    assert len(curves.data) == 5
    np.testing.assert_allclose(curves.data[0].x, np.arange(8) * 0.1)
    with pytest.raises(ValueError, match="shape"):
        instance_heatmap(np.zeros(5))


def test_degree_histogram_counts():
    fig = degree_histogram(TRUE)  # degrees 1, 2, 2, 1
    assert list(fig.data[0].y) == [0, 2, 2]


def test_pair_matrix_is_symmetric_with_empty_diagonal():
    v = np.arange(6) / 6.0
    Z = pair_matrix(v)
    assert Z.shape == (4, 4)
    np.testing.assert_array_equal(Z, Z.T)
    assert np.all(np.isnan(np.diag(Z)))
    assert Z[0, 3] == v[2] and Z[2, 3] == v[5]
    fig = matrix_figure(v, "p(edge)", 0, 1)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z, dtype=float), Z)
    with pytest.raises(ValueError):
        pair_matrix(np.zeros(5))


@pytest.mark.parametrize("L", [5, 12, 16])
def test_matrix_figure_ticks_are_the_spins_only(L):
    """Issue 12: at L = 12 the square aspect stretched the axes and showed ticks -1 and 12."""
    fig = matrix_figure(np.linspace(0, 1, L * (L - 1) // 2), "p(edge)", 0, 1)
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.tickmode == "array" and list(axis.tickvals) == list(range(L))
        assert sorted(axis.range) == [-0.5, L - 0.5] and axis.constrain == "domain"
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1], "spin 0 on top"


def test_spin_ticks_thin_out_on_big_lattices():
    assert spin_ticks(12) == list(range(12))
    assert spin_ticks(32) == list(range(0, 32, 2))
    assert all(0 <= t < 40 for t in spin_ticks(40)) and len(spin_ticks(40)) <= 16


def test_temperature_comparison_figure_one_log_line_per_T():
    A = random_lattice(8, 10, seed=1)
    s0 = np.where(np.arange(8) % 3, 1.0, -1.0)
    fig = temperature_comparison_figure(A, s0, [0.1, 1, 10, 100], tau=0.1, M=30)
    assert len(fig.data) == 4 and fig.layout.yaxis.type == "log"
    assert np.isnan(fig.data[0].y[0])  # m = 0 deviates by exactly 0: not drawn on a log axis
