import json

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isingviz import lattice as lat


@given(L=st.integers(2, 40), frac=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_random_lattice_has_exact_edge_count_and_is_valid(L, frac, seed):
    n = int(frac * lat.n_pairs(L))
    A = lat.random_lattice(L, n, seed)
    lat.validate_adjacency(A)
    assert int(A.sum()) == 2 * n


def test_random_lattice_seed_reproduces_and_differs():
    assert np.array_equal(lat.random_lattice(12, 25, 3), lat.random_lattice(12, 25, 3))
    assert not np.array_equal(lat.random_lattice(12, 25, 3), lat.random_lattice(12, 25, 4))


def test_random_lattice_is_uniform_over_pairs():
    counts = sum(lat.adjacency_to_pairs(lat.random_lattice(6, 5, s)).astype(int) for s in range(3000))
    expected = 3000 * 5 / 15
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


@given(L=st.integers(2, 30), seed=st.integers(0, 1000))
@settings(max_examples=40, deadline=None)
def test_pairs_roundtrip(L, seed):
    A = lat.erdos_renyi(L, 0.4, seed)
    v = lat.adjacency_to_pairs(A)
    assert v.shape == (L * (L - 1) // 2,)
    assert np.array_equal(lat.pairs_to_adjacency(v, L), A)
    i, j = np.triu_indices(L, 1)
    assert np.array_equal(v, A[i, j])


def test_generators():
    ring = lat.ring_lattice(10, 4)
    assert np.all(ring.sum(1) == 4)
    grid = lat.square_grid(4, 5)
    assert grid.shape == (20, 20) and np.all(grid.sum(1) == 4)
    sw = lat.small_world(16, 4, 0.2, seed=1)
    assert int(sw.sum()) == 2 * 32  # Watts-Strogatz keeps the edge count
    assert np.array_equal(sw, lat.small_world(16, 4, 0.2, seed=1))
    relabelled = lat.ring_lattice(10, 2, seed=5)
    assert sorted(relabelled.sum(1)) == [2] * 10
    for fam in lat.GENERATORS:
        lat.validate_adjacency(lat.make_lattice(fam, 12, seed=0))


def test_networkx_and_edges_roundtrip():
    A = lat.random_lattice(12, 25, 0)
    assert np.array_equal(lat.from_networkx(lat.to_networkx(A)), A)
    assert np.array_equal(lat.from_edges(12, lat.edges_of(A)), A)
    g = nx.Graph()
    g.add_edge(0, 0)
    with pytest.raises(ValueError, match="self-loops"):
        lat.from_networkx(g)


@pytest.mark.parametrize(
    "A, msg",
    [
        (np.zeros((3, 4)), "square"),
        (np.zeros((1, 1)), "between 2 and 64"),
        (np.zeros((65, 65)), "between 2 and 64"),
        (np.array([[0, 2], [2, 0]]), "0 or 1"),
        (np.array([[1, 0], [0, 0]]), "diagonal"),
        (np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]]), "symmetric"),
        ([[0, 1], [1]], "square"),
    ],
)
def test_validate_adjacency_errors(A, msg):
    with pytest.raises(ValueError, match=msg):
        lat.validate_adjacency(A)


def test_lattice_file_roundtrip(tmp_path):
    A = lat.random_lattice(12, 25, 1)
    p = tmp_path / "l.json"
    lat.save_lattice(p, A)
    doc = json.loads(p.read_text())
    assert doc["format"] == "isingviz-lattice" and doc["version"] == 1 and doc["L"] == 12
    assert np.array_equal(lat.load_lattice(p), A)
    assert np.array_equal(lat.load_lattice(p.read_bytes()), A)


@pytest.mark.parametrize(
    "payload, msg",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"format": "other", "version": 1, "L": 3, "edges": []}).encode(), "format"),
        (json.dumps({"format": "isingviz-lattice", "version": 9, "L": 3, "edges": []}).encode(), "version"),
        (json.dumps({"format": "isingviz-lattice", "version": 1, "L": 3, "edges": [[0, 3]]}).encode(), "out of range"),
        (json.dumps({"format": "isingviz-lattice", "version": 1, "L": 3, "edges": [[1, 1]]}).encode(), "self edge"),
        (json.dumps({"format": "isingviz-lattice", "version": 1, "L": 3, "edges": [[0, 1], [1, 0]]}).encode(), "twice"),
        (json.dumps({"format": "isingviz-lattice", "version": 1, "L": 99, "edges": []}).encode(), "from 2 to 64"),
        (json.dumps({"format": "isingviz-lattice", "version": 1, "L": 3, "edges": [[0, "a"]]}).encode(), "integer"),
        (json.dumps({"format": "isingviz-lattice", "version": 1, "L": 3}).encode(), "'edges'"),
    ],
)
def test_load_lattice_refuses_bad_files(payload, msg):
    with pytest.raises(ValueError, match=msg):
        lat.load_lattice(payload)


def _doc(edges: str, L: str = "3") -> bytes:
    return f'{{"format": "isingviz-lattice", "version": 1, "L": {L}, "edges": {edges}}}'.encode()


@pytest.mark.parametrize(
    "payload, msg",
    [
        (_doc('"01"'), "list of \\[i, j\\] pairs"),  # a string is iterable: it used to pass as the edge (0, 1)
        (_doc('{"0": 1}'), "list of \\[i, j\\] pairs"),
        (_doc('[["0", "1"]]'), "edge #0 must be a pair"),
        (_doc("[[true, false]]"), "edge #0 must be a pair"),
        (_doc("[[0.0, 1.0]]"), "edge #0 must be a pair"),
        (_doc("[[0, 1, 2]]"), "edge #0 must be a pair"),
        (_doc("[0, 1]"), "edge #0 must be a pair"),
        (_doc("[[0, 1]]", L="true"), "L \\(spins\\) must be an integer"),
        (_doc("[[0, 1]]", L="3.0"), "L \\(spins\\) must be an integer"),
        (b'{"format": "isingviz-lattice", "version": 1, "L": 3, "L": 4, "edges": []}', "'L' appears twice"),
        (_doc("[[0, Infinity]]"), "Infinity is not a number"),
        (_doc("[[0, 1e400]]"), "out of range"),
        (_doc(f"[[0, {'9' * 4000}]]"), "4,000 digits"),
        (_doc("[" * 100_000 + "]" * 100_000), "nested 100,001 levels"),
        (_doc("[[0, 1], [0, 2], [1, 2], [0, 1]]"), "4 edges listed"),
    ],
    ids=["str-edges", "object-edges", "str-index", "bool-index", "float-index", "triple", "flat-pair", "bool-L",
         "float-L", "duplicate-key", "infinity", "1e400", "4000-digits", "deep", "too-many-edges"],
)  # fmt: skip
def test_load_lattice_is_strict(payload: bytes, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        lat.load_lattice(payload)


def test_load_lattice_tolerates_a_utf8_bom(tmp_path):
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + _doc("[[0, 2]]"))
    assert lat.edges_of(lat.load_lattice(p)) == [[0, 2]]


def test_save_lattice_is_atomic_and_can_refuse_to_overwrite(tmp_path):
    p = tmp_path / "l.json"
    lat.save_lattice(p, lat.ring_lattice(5))
    with pytest.raises(ValueError, match="already exists"):
        lat.save_lattice(p, lat.ring_lattice(6), overwrite=False)
    assert lat.load_lattice(p).shape == (5, 5) and sorted(x.name for x in tmp_path.iterdir()) == ["l.json"]


def test_load_lattice_missing_path(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        lat.load_lattice(tmp_path / "nope.json")


def test_generator_parameter_errors():
    with pytest.raises(ValueError, match="n_edges"):
        lat.random_lattice(4, 7, 0)
    with pytest.raises(ValueError, match="unknown lattice family"):
        lat.make_lattice("hexagonal", 12)
    with pytest.raises(ValueError, match="even"):
        lat.ring_lattice(10, 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        lat.erdos_renyi(10, 1.5)


@pytest.mark.parametrize("L,k", [(12, 2), (12, 4), (9, 8)])
def test_degree_stats_of_a_ring_all_degrees_k(L, k):
    stats = lat.degree_stats(lat.ring_lattice(L, k, seed=5))
    assert stats["degrees"] == [k] * L
    assert stats["n_edges"] == L * k // 2
    assert (stats["min_degree"], stats["max_degree"], stats["mean_degree"], stats["n_isolated"]) == (k, k, k, 0)


def test_degree_stats_known_example_is_plain_json():
    stats = lat.degree_stats(lat.from_edges(5, [[0, 1], [0, 2], [0, 3]]))  # a star on 0..3, spin 4 alone
    assert stats == {
        "n_edges": 3,
        "mean_degree": 1.2,
        "min_degree": 0,
        "max_degree": 3,
        "n_isolated": 1,
        "degrees": [3, 1, 1, 1, 0],
    }
    assert json.loads(json.dumps(stats)) == stats  # plain Python types, no numpy scalars
    A = lat.random_lattice(12, 25, seed=0)
    stats = lat.degree_stats(A)
    assert stats["n_edges"] == 25 and sum(stats["degrees"]) == 50  # handshake lemma
    with pytest.raises(ValueError, match="symmetric"):
        lat.degree_stats(np.triu(A))
