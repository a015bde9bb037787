"""Lattices (coupling graphs): generators, validation, adjacency <-> pair vector, and lattice files.

A lattice is a symmetric 0/1 adjacency matrix ``A`` of shape (L, L) with zero diagonal. Spin pairs are
numbered in ``numpy.triu_indices(L, 1)`` order, so a lattice is equally a 0/1 vector of length
K = L(L-1)/2 (1 = edge).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import networkx as nx
import numpy as np

from . import safejson
from .files import atomic_write
from .limits import L_MAX, L_MIN, check_int, is_int, show

FORMAT_TAG = "isingviz-lattice"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1_000_000  # a lattice file of L = 64 with every pair an edge is ~20 KB


def n_pairs(L: int) -> int:
    """Number of spin pairs K = L(L-1)/2."""
    return L * (L - 1) // 2


def _check_L(L: Any) -> int:
    return check_int("L (spins)", L, L_MIN, L_MAX)


def validate_adjacency(A: Any) -> np.ndarray:
    """Check that ``A`` is a lattice and return it as an int8 array of shape (L, L).

    Allowed: a square, symmetric matrix of 0/1 entries with zero diagonal and 2 <= L <= 64.
    Raises ``ValueError`` saying what is wrong otherwise.
    """
    try:
        arr = np.asarray(A)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"adjacency must be a square 0/1 matrix; could not read it as an array ({exc})") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"adjacency must be a square (L, L) matrix, got shape {arr.shape}")
    L = arr.shape[0]
    if not L_MIN <= L <= L_MAX:
        raise ValueError(f"adjacency must have between {L_MIN} and {L_MAX} spins, got L={L}")
    if arr.dtype == bool:
        arr = arr.astype(np.int8)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"adjacency entries must be 0 or 1, got dtype {arr.dtype}")
    if not np.all(np.isin(arr, (0, 1))):
        bad = arr[~np.isin(arr, (0, 1))].ravel()[0]
        raise ValueError(f"adjacency entries must be 0 or 1, found {bad!r}")
    arr = arr.astype(np.int8)
    if np.any(np.diag(arr) != 0):
        i = int(np.flatnonzero(np.diag(arr))[0])
        raise ValueError(f"adjacency must have a zero diagonal (no self-loops), but A[{i},{i}] = 1")
    if not np.array_equal(arr, arr.T):
        i, j = np.argwhere(arr != arr.T)[0]
        raise ValueError(f"adjacency must be symmetric, but A[{i},{j}] = {arr[i, j]} and A[{j},{i}] = {arr[j, i]}")
    return arr


def adjacency_to_pairs(A: Any) -> np.ndarray:
    """Adjacency (L, L) -> pair vector (K,) int8 in ``numpy.triu_indices(L, 1)`` order (1 = edge)."""
    arr = validate_adjacency(A)
    return arr[np.triu_indices(arr.shape[0], 1)].astype(np.int8)


def pairs_to_adjacency(v: Any, L: int) -> np.ndarray:
    """Pair vector (K,) of 0/1 in ``numpy.triu_indices(L, 1)`` order -> symmetric adjacency (L, L) int8."""
    L = _check_L(L)
    vec = np.asarray(v)
    if vec.shape != (n_pairs(L),):
        raise ValueError(f"pair vector for L={L} must have shape ({n_pairs(L)},), got {vec.shape}")
    if not np.all(np.isin(vec, (0, 1))):
        raise ValueError("pair vector entries must be 0 or 1")
    A = np.zeros((L, L), dtype=np.int8)
    iu = np.triu_indices(L, 1)
    A[iu] = vec
    return A + A.T


def edges_of(A: Any) -> list[list[int]]:
    """Edge list [[i, j], ...] with i < j, in pair order."""
    arr = validate_adjacency(A)
    i, j = np.nonzero(np.triu(arr, 1))
    return [[int(a), int(b)] for a, b in zip(i, j)]


def from_edges(L: int, edges: Iterable[Any]) -> np.ndarray:
    """Adjacency (L, L) from an edge list [[i, j], ...].

    Allowed: at most K = L(L-1)/2 edges, each a list or tuple (or array) of exactly two integer spin indices in
    0..L-1 (not bools, floats or strings), no self edge, no edge twice. ``ValueError`` names the first bad edge.
    """
    L = _check_L(L)
    if isinstance(edges, (str, bytes, dict)) or not isinstance(edges, (list, tuple, np.ndarray)):
        raise ValueError(f"edges must be a list of [i, j] pairs, got {show(edges)}")
    if len(edges) > n_pairs(L):
        raise ValueError(f"{len(edges):,} edges listed, but L={L} spins have only {n_pairs(L)} pairs")
    A = np.zeros((L, L), dtype=np.int8)
    for n, e in enumerate(edges):
        ok = isinstance(e, (list, tuple, np.ndarray)) and len(e) == 2 and all(is_int(x) for x in e)
        if not ok:
            raise ValueError(f"edge #{n} must be a pair [i, j] of integer spin indices, got {show(e)}")
        i, j = int(e[0]), int(e[1])
        if not (0 <= i < L and 0 <= j < L):
            raise ValueError(f"edge #{n} [{show(i)}, {show(j)}] is out of range: spins are numbered 0..{L - 1}")
        if i == j:
            raise ValueError(f"edge #{n} {[i, j]} is a self edge; a lattice has no self-loops")
        if A[i, j]:
            raise ValueError(f"edge #{n} {[i, j]} is listed twice")
        A[i, j] = A[j, i] = 1
    return A


def degree_stats(A: Any) -> dict[str, Any]:
    """Edge count and degree statistics of a lattice, as a plain (JSON-ready) dict.

    The degree of spin i is k_i = sum_j A_ij; the edge count is sum_i k_i / 2.

    Args:
        A: adjacency (L, L), symmetric 0/1 with zero diagonal (checked by ``validate_adjacency``).

    Returns:
        ``{"n_edges": int, "mean_degree": float, "min_degree": int, "max_degree": int, "n_isolated": int,
        "degrees": list[int]}`` where ``degrees`` is the degree sequence (L,) in spin order and ``n_isolated``
        counts spins of degree 0.
    """
    deg = validate_adjacency(A).sum(axis=1, dtype=np.int64)  # (L,)
    return {
        "n_edges": int(deg.sum() // 2),
        "mean_degree": float(deg.mean()),
        "min_degree": int(deg.min()),
        "max_degree": int(deg.max()),
        "n_isolated": int(np.count_nonzero(deg == 0)),
        "degrees": [int(k) for k in deg],
    }


def to_networkx(A: Any) -> nx.Graph:
    """Adjacency -> ``networkx.Graph`` with nodes 0..L-1 (isolated spins kept)."""
    arr = validate_adjacency(A)
    g = nx.Graph()
    g.add_nodes_from(range(arr.shape[0]))
    g.add_edges_from(edges_of(arr))
    return g


def from_networkx(g: nx.Graph) -> np.ndarray:
    """``networkx.Graph`` -> adjacency (L, L) int8, nodes taken in sorted order. Self-loops are refused."""
    if nx.number_of_selfloops(g):
        raise ValueError("graph has self-loops; a lattice has none")
    nodes = sorted(g.nodes())
    _check_L(len(nodes))
    A = nx.to_numpy_array(g, nodelist=nodes, dtype=float)
    return validate_adjacency((A != 0).astype(np.int8))


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _relabel(A: np.ndarray, seed: int | np.random.Generator | None) -> np.ndarray:
    if seed is None:
        return A
    p = _rng(seed).permutation(A.shape[0])
    return A[np.ix_(p, p)]


def random_lattice(L: int = 12, n_edges: int = 25, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Exactly ``n_edges`` edges drawn uniformly among the K pairs (the paper's lattices: L=12, 25 edges)."""
    L = _check_L(L)
    K = n_pairs(L)
    if isinstance(n_edges, bool) or not isinstance(n_edges, (int, np.integer)) or not 0 <= n_edges <= K:
        raise ValueError(f"n_edges must be an integer between 0 and {K} for L={L}, got {n_edges!r}")
    v = np.zeros(K, dtype=np.int8)
    v[_rng(seed).choice(K, size=int(n_edges), replace=False)] = 1
    return pairs_to_adjacency(v, L)


def erdos_renyi(L: int, p: float, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """G(L, p): each pair is an edge independently with probability p."""
    L = _check_L(L)
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"edge probability p must be in [0, 1], got {p}")
    v = (_rng(seed).random(n_pairs(L)) < p).astype(np.int8)
    return pairs_to_adjacency(v, L)


def ring_lattice(L: int, k: int = 2, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Ring where each spin couples to its k nearest neighbours (k even, k/2 on each side).

    With a ``seed`` the spins are randomly relabelled (spin order carries no meaning for the learner).
    """
    L = _check_L(L)
    if k % 2 or not 2 <= k <= L - 1:
        raise ValueError(f"ring k must be even and between 2 and L-1={L - 1}, got {k}")
    A = np.zeros((L, L), dtype=np.int8)
    idx = np.arange(L)
    for d in range(1, k // 2 + 1):
        A[idx, (idx + d) % L] = 1
        A[(idx + d) % L, idx] = 1
    return _relabel(A, seed)


def square_grid(rows: int, cols: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Periodic square grid (torus) of rows x cols spins; with a ``seed`` the spins are relabelled."""
    if rows < 1 or cols < 1:
        raise ValueError(f"grid needs rows >= 1 and cols >= 1, got {rows} x {cols}")
    L = _check_L(rows * cols)
    A = np.zeros((L, L), dtype=np.int8)
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            for j in (((r + 1) % rows) * cols + c, r * cols + (c + 1) % cols):
                if j != i:
                    A[i, j] = A[j, i] = 1
    return _relabel(A, seed)


def small_world(L: int, k: int = 4, p: float = 0.1, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Watts-Strogatz small world: a k-neighbour ring whose edges are rewired with probability p."""
    L = _check_L(L)
    if k % 2 or not 2 <= k <= L - 1:
        raise ValueError(f"small-world k must be even and between 2 and L-1={L - 1}, got {k}")
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"rewiring probability p must be in [0, 1], got {p}")
    nx_seed = int(_rng(seed).integers(2**31))
    return from_networkx(nx.watts_strogatz_graph(L, k, p, seed=nx_seed))


def star(L: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """One hub joined to every other spin (L - 1 edges); ``seed`` is accepted for a uniform signature."""
    return from_networkx(nx.star_graph(_check_L(L) - 1))


def random_tree(L: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """A uniformly random labelled tree (L - 1 edges, connected, no cycle)."""
    return from_networkx(nx.random_labeled_tree(_check_L(L), seed=int(_rng(seed).integers(2**31))))


def complete_bipartite(L: int, a: int = 0, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """K_{a, L-a}: every spin of one side joined to every spin of the other; a = 0 means L // 3 (K_{4,8} at 12)."""
    L = _check_L(L)
    a = a or max(1, L // 3)
    if not 1 <= a <= L - 1:
        raise ValueError(f"complete bipartite side a must be between 1 and L-1={L - 1}, got {a}")
    return from_networkx(nx.complete_bipartite_graph(a, L - a))


def perfect_matching(L: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Spins 2k and 2k + 1 joined (L // 2 edges; with odd L the last spin has none)."""
    A = np.zeros((_check_L(L), L), dtype=np.int8)
    k = np.arange(0, L - 1, 2)
    A[k, k + 1] = A[k + 1, k] = 1
    return A


def complete(L: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Every pair joined (L (L - 1) / 2 edges)."""
    L = _check_L(L)
    return (1 - np.eye(L, dtype=np.int8)).astype(np.int8)


def empty(L: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """No edge at all (free decay: nothing to find)."""
    return np.zeros((_check_L(L), L), dtype=np.int8)


def _grid_shape(L: int) -> tuple[int, int]:
    r = int(np.sqrt(L))
    while L % r:
        r -= 1
    return r, L // r


# Families by name, each called as f(L, seed, **params); used by datasets, the CLI and the app.
GENERATORS: dict[str, Callable[..., np.ndarray]] = {
    "random": lambda L, seed, n_edges=25: random_lattice(L, n_edges, seed),
    "erdos_renyi": lambda L, seed, p=0.3: erdos_renyi(L, p, seed),
    "ring": lambda L, seed, k=2: ring_lattice(L, k, seed),
    "grid": lambda L, seed: square_grid(*_grid_shape(L), seed=seed),
    "small_world": lambda L, seed, k=4, p=0.1: small_world(L, k, p, seed),
    "star": lambda L, seed: star(L, seed),
    "tree": lambda L, seed: random_tree(L, seed),
    "complete_bipartite": lambda L, seed, a=0: complete_bipartite(L, a, seed),
    "matching": lambda L, seed: perfect_matching(L, seed),
    "complete": lambda L, seed: complete(L, seed),
    "empty": lambda L, seed: empty(L, seed),
}


def make_lattice(family: str, L: int, seed: int | np.random.Generator | None = None, **params: Any) -> np.ndarray:
    """Draw a lattice of a named family (see ``GENERATORS``); ``params`` are the family's parameters."""
    if family not in GENERATORS:
        raise ValueError(f"unknown lattice family {family!r}; allowed: {', '.join(GENERATORS)}")
    try:
        return GENERATORS[family](L, seed, **params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for lattice family {family!r}: {exc}") from None


def lattice_to_dict(A: Any) -> dict[str, Any]:
    """Lattice -> the JSON document of a lattice file."""
    arr = validate_adjacency(A)
    return {"format": FORMAT_TAG, "version": FORMAT_VERSION, "L": int(arr.shape[0]), "edges": edges_of(arr)}


def lattice_from_dict(doc: Any) -> np.ndarray:
    """Lattice-file JSON document -> adjacency (L, L), every field checked (``from_edges`` checks the edges)."""
    if not isinstance(doc, dict):
        raise ValueError("lattice file must hold a JSON object")
    if doc.get("format") != FORMAT_TAG:
        raise ValueError(f"not a lattice file: 'format' must be {FORMAT_TAG!r}, got {show(doc.get('format'))}")
    if doc.get("version") != FORMAT_VERSION or not is_int(doc.get("version")):
        raise ValueError(
            f"unsupported lattice file version {show(doc.get('version'))}; this version reads {FORMAT_VERSION}"
        )
    if "L" not in doc or "edges" not in doc:
        raise ValueError("lattice file needs the fields 'L' and 'edges'")
    unknown = sorted(set(doc) - {"format", "version", "L", "edges"})
    if unknown:
        raise ValueError(f"lattice file has unknown fields {show(unknown[0])}; allowed: format, version, L, edges")
    if not isinstance(doc["edges"], list):
        raise ValueError(f"'edges' must be a list of [i, j] pairs, got {show(doc['edges'])}")
    return from_edges(_check_L(doc["L"]), doc["edges"])


def save_lattice(path: str | os.PathLike[str], A: Any, *, overwrite: bool = True) -> None:
    """Write a lattice file (JSON) atomically; ``overwrite=False`` refuses an existing file."""
    atomic_write(path, (json.dumps(lattice_to_dict(A)) + "\n").encode("utf-8"), overwrite=overwrite)


def load_lattice(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """Read a lattice file from a path or from its bytes; returns adjacency (L, L) int8.

    The JSON is read strictly (``safejson``: at most ``MAX_FILE_BYTES``, no NaN / Infinity, no duplicate keys, a
    UTF-8 byte-order mark tolerated); every field is then checked. ``ValueError`` says what is wrong.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        doc = safejson.loads(bytes(source), "lattice file", max_bytes=MAX_FILE_BYTES)
    else:
        doc = safejson.load_file(source, "lattice file", max_bytes=MAX_FILE_BYTES)
    return lattice_from_dict(doc)


def others_index(L: int) -> np.ndarray:
    """(L, L-1): row i lists the spins j != i in increasing order."""
    return np.array([[j for j in range(L) if j != i] for i in range(L)], dtype=np.int64).reshape(L, L - 1)


def embed_rows(a: np.ndarray) -> np.ndarray:
    """Row coefficients over the other spins (B, L, L-1) -> matrices (B, L, L) with a zero diagonal."""
    B, L = a.shape[:2]
    W = np.zeros((B, L, L), dtype=a.dtype)
    W[:, np.arange(L)[:, None], others_index(L)] = a
    return W
