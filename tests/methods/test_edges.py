"""A reconstruction as an edge list: every pair once, probabilities and entropies where the method has them."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from isingviz.dynamics import simulate
from isingviz.lattice import adjacency_to_pairs, random_lattice
from isingviz.methods import reconstruct
from isingviz.methods.edges import edge_rows, edges_csv, edges_json


@pytest.fixture(scope="module")
def case():
    A = random_lattice(8, 9, seed=3)
    x = simulate(A, np.ones((1, 8)) * np.array([1, -1, 1, 1, -1, 1, -1, -1]), T=1.0, tau=0.1, M=40)
    return A, x


def test_rows_hold_every_pair_with_the_decision(case):
    A, x = case
    rec = reconstruct("binary_ml", x, T=1.0, tau=0.1)
    rows = edge_rows(rec, 8)
    assert [(r["i"], r["j"]) for r in rows] == list(zip(*np.triu_indices(8, 1)))
    assert [r["edge"] for r in rows] == adjacency_to_pairs(A).tolist()  # clean data at T = 1: exact
    assert all(0 <= r["p_edge"] <= 1 and 0 <= r["entropy"] <= np.log(2) + 1e-12 for r in rows)
    table = list(csv.DictReader(io.StringIO(edges_csv(rows).decode())))
    assert len(table) == 28 and set(table[0]) == {"i", "j", "p_edge", "entropy", "edge", "score"}
    doc = json.loads(edges_json(rows, {"method": "binary_ml"}))
    assert doc["about"]["method"] == "binary_ml" and len(doc["edges"]) == int(A.sum() // 2)


def test_a_method_without_probabilities_leaves_them_empty(case):
    _, x = case
    rows = edge_rows(reconstruct("var", x, n_edges=9), 8)
    assert all(r["p_edge"] is None and r["entropy"] is None for r in rows) and sum(r["edge"] for r in rows) == 9
    assert ",," in edges_csv(rows).decode()
    with pytest.raises(ValueError, match="L = 9 spins have 36"):
        edge_rows(reconstruct("var", x, n_edges=9), 9)
