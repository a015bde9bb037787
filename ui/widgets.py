"""Small UI helpers shared by the pages: error display, uploads, lattice editing (clicks and table), cached simulations.

The editing logic is pure (``toggle_click``, ``apply_editor_edits``, ``clicked_node``) so it is tested without a
browser; the cached wrappers take hashable inputs (bytes, tuples, floats) so Streamlit keys them correctly.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from isingviz.dynamics import decay_deviation, free_decay, simulate
from isingviz.figures.graphs import temperature_comparison_figure
from isingviz.lattice import GENERATORS, load_lattice, validate_adjacency
from isingviz.learn.store import LoadedModel
from ui.state import get_lattice, set_lattice

R = TypeVar("R")
LOG = logging.getLogger("isingviz.app")
PAGE_L_MAX = 32  # the lab draws and edits lattices up to this size
# Temperatures offered by the log-scale slider: 1-1.5-2-3-4-5-7 per decade, 0.05 .. 200 (the paper's T included).
T_VALUES: list[float] = [
    round(m * 10.0**e, 6) for e in range(-2, 3) for m in (1, 1.5, 2, 3, 4, 5, 7) if 0.05 <= m * 10.0**e <= 200
]


def error_text(exc: Exception) -> str:
    """The one sentence a visitor sees for a failure: the library's ``ValueError`` as it is; anything else (a bug)
    a generic sentence, its traceback logged on the server only (``client.showErrorDetails`` is "none")."""
    if isinstance(exc, ValueError):
        return str(exc)
    LOG.error("unexpected error in the app", exc_info=exc)
    if isinstance(exc, MemoryError):
        return "There is not enough memory for this request; ask for fewer or smaller instances."
    return f"Something went wrong ({type(exc).__name__}); the details are in the server's log. Try other settings."


def attempt(fn: Callable[..., R], *args: Any, stop: bool = True, **kwargs: Any) -> R | None:
    """Call ``fn``; a failure becomes one ``st.error`` sentence (``error_text``), then ``st.stop()`` if ``stop``.

    Streamlit's own stop and rerun signals are BaseExceptions and pass through untouched."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        st.error(error_text(exc))
        if stop:
            st.stop()
        return None


def upload_once(upload: Any, key: str, read: Callable[[bytes], R]) -> tuple[R | None, str | None]:
    """Read an ``st.file_uploader`` file once per file: (result, None) the first time it is read well, (None, None)
    on later reruns, (None, error sentence) on every rerun while a refused file stays in the uploader (so the page
    around it keeps working and the reason stays on screen)."""
    if upload is None:
        return None, None
    seen = st.session_state.setdefault(key, {})
    if upload.file_id in seen:
        return None, seen[upload.file_id]
    try:
        result = read(upload.getvalue())
    except Exception as exc:
        seen[upload.file_id] = f"{upload.name}: {error_text(exc)}"
        return None, seen[upload.file_id]
    seen[upload.file_id] = None
    return result, None


def read_page_lattice(data: bytes) -> np.ndarray:
    """An uploaded lattice file (``lattice.load_lattice``) of at most ``PAGE_L_MAX`` spins, the lab's limit."""
    A = load_lattice(data)
    if A.shape[0] > PAGE_L_MAX:
        raise ValueError(f"this lattice has L={A.shape[0]} spins; the lab draws and edits at most {PAGE_L_MAX}")
    return A


def bump(key: str) -> None:
    """Button callback: add 1 to an integer in session state (seeds, revision counters)."""
    st.session_state[key] = int(st.session_state.get(key, 0)) + 1


# ---------------------------------------------------------------- lattice editing (pure)


def clicked_node(state: Any) -> int | None:
    """The spin clicked, read from a ``st.plotly_chart(on_select=...)`` state; None when nothing is selected.

    ``state`` is ``{"selection": {"points": [{"customdata": i or [i], "point_index": ...}, ...]}}``; only points
    that carry an integer ``customdata`` (the node trace of ``figures.graph_figure``) count; the last one wins.
    """
    if not isinstance(state, Mapping):
        return None
    selection = state.get("selection") or {}
    points = selection.get("points") if isinstance(selection, Mapping) else None
    for point in reversed(points or []):
        cd = point.get("customdata") if isinstance(point, Mapping) else None
        if isinstance(cd, (list, tuple)) and cd:
            cd = cd[0]
        if isinstance(cd, (int, float, np.integer, np.floating)) and float(cd).is_integer():
            return int(cd)
    return None


def toggle_click(A: np.ndarray, pending: int | None, node: int | None) -> tuple[np.ndarray, int | None]:
    """One click on spin ``node`` while spin ``pending`` is highlighted -> (new lattice, new highlighted spin).

    First click highlights; a second click on another spin toggles the edge between the two and clears the
    highlight; clicking the highlighted spin again clears it. Out-of-range spins are ignored. ``A`` is not changed.
    """
    A = validate_adjacency(A)
    L = A.shape[0]
    if pending is not None and not 0 <= pending < L:
        pending = None
    if node is None or not 0 <= node < L:
        return A, pending
    if pending is None:
        return A, node
    if pending == node:
        return A, None
    B = A.copy()
    B[pending, node] = B[node, pending] = 1 - A[pending, node]
    return B, None


def adjacency_frame(A: np.ndarray) -> pd.DataFrame:
    """Adjacency as an L x L DataFrame of booleans, rows and columns labelled "0".."L-1" (for ``st.data_editor``)."""
    A = validate_adjacency(A)
    labels = [str(i) for i in range(A.shape[0])]
    return pd.DataFrame(A.astype(bool), index=labels, columns=labels)


TABLE_WIDTH = 760  # px a table may take in the main column at 1280 x 800 (wide layout, sidebar open)
ROW_HEIGHT = 35  # px of one st.data_editor row (its default), the header row included


def adjacency_editor_layout(L: int) -> dict[str, Any]:
    """``st.data_editor`` arguments that show the whole L x L adjacency table at 1280 x 800 up to L = 16: columns
    narrow enough that spin L-1 needs no horizontal scroll, and a height with room for every row (no vertical
    scroll). Columns never narrower than 30 px, so larger lattices scroll sideways."""
    width = int(min(56, max(30, TABLE_WIDTH // (L + 1))))  # L spin columns + the index column
    columns: dict[str, Any] = {str(j): st.column_config.CheckboxColumn(str(j), width=width) for j in range(L)}
    columns["_index"] = st.column_config.TextColumn(width=width)
    return {"column_config": columns, "height": (L + 1) * ROW_HEIGHT + 3, "row_height": ROW_HEIGHT}


def apply_editor_edits(A: np.ndarray, edited_rows: Mapping[Any, Mapping[Any, Any]]) -> np.ndarray:
    """Apply ``st.data_editor`` cell edits {row: {column: bool}} to ``A``, symmetrised; diagonal edits ignored.

    Editing (i, j) sets both (i, j) and (j, i). Rows are positions, columns labels "0".."L-1". Returns a new array.
    """
    B = validate_adjacency(A).copy()
    L = B.shape[0]
    for row, cols in (edited_rows or {}).items():
        for col, value in (cols or {}).items():
            try:
                i, j = int(row), int(col)
            except (TypeError, ValueError):
                continue
            if i != j and 0 <= i < L and 0 <= j < L and value is not None:
                B[i, j] = B[j, i] = int(bool(value))
    return B


def generator_params(family: str) -> dict[str, Any]:
    """The parameters of a lattice generator and their defaults, read from ``GENERATORS[family]``'s signature."""
    sig = inspect.signature(GENERATORS[family])
    return {n: p.default for n, p in sig.parameters.items() if n not in ("L", "seed")}


# The one sentence (docs/general.md, "Where to trust it") shown wherever a prediction's pairs are read.
UNSUPPORTED_NOTE = (
    "This recording does not support the network's answer better than a lattice without edges (the evidence gate,"
    ' Eq. 1\'s one-step likelihood): what is shown is the prior posterior, "no edge" wherever the recording has no'
    " evidence, with entropies near 0.6 that say so. Too hot, too noisy or too short for this lattice, or not Eq. 1"
    " data (for heat-bath replica means, give R)."
)
POSTERIOR_NOTE = (
    "Answered by the exact posterior of Eq. 1: every neighbour set of every spin weighed, with the lattice's"
    " density and the recording's kind and level of noise learnt from the recording itself. Either the recording"
    " does not support the network's answer better than a lattice without edges (too hot, too noisy or too short),"
    " it looks dense (density 0.6 or more), where the network, trained on sparse lattices, is out of its depth, or"
    " the posterior is all but sure (over 99 %) that the network misread a pair, as it does under noise at low T."
    " No pair of this answer has an entropy below 0.2."
)
SYMMETRIC_NOTE = (
    "Answered by the symmetric inversion of Eq. 1: this recording has no observation noise (every step follows"
    " Eq. 1 to float precision), and a least-squares fit of all spins at once, with each coupling shared by its two"
    " spins, reproduces it better than the network's answer or finds a dense lattice, where the network, trained on"
    " sparse lattices, reads less. p(edge) is the fitted coupling, within 0.05 to 0.95."
)
QUOTIENT_NOTE = (
    "Answered by the twin quotient: beyond 12 spins this recording follows only a few distinct trajectories (groups"
    " of spins that move together to within the noise), and the exact posterior of Eq. 1 on the lattice of those"
    " groups finds it dense (90 % of the pairs or more), as a complete lattice is, which the network, trained on"
    " sparse lattices, reads as empty. At low T a complete bipartite lattice, a star or a matching whose spins all"
    " settle together looks the same, and then this answer is wrong. No pair is surer than 0.05 or 0.95."
)
UNDERDETERMINED_NOTE = (
    "This recording has more spins than time points (L > M) and is not noise-free: each spin's couplings are"
    " underdetermined by its steps, and the general model, trained with at least 40 time points, reads edges"
    ' there that are not. It therefore says "edge" only where its p(edge) was above 0.65 (shown shifted, so that'
    " 0.5 is still the line), and no pair is surer than 0.05 or 0.95. Record at least as many steps as spins."
)
NO_COUPLING_NOTE = (
    "This recording of replica means cannot be told from spins without any coupling (a regression test of each"
    " spin's steps on the others' states, p > 0.01): what is shown is \"no edge\" everywhere, each pair's p(edge)"
    " at most the prior 0.3. Too hot or too few replicas for this lattice, or truly no couplings."
)
TRUST_NOTE = (
    "Read the entropy before the edges: where an instance carries the lattice (Eq. 1 data at T up to ~10, light"
    " noise, sparse lattices; complete lattices) the general model's pairs with S < 0.1 are right;"
    " where it does not (T = 50 with noise, few replicas, complete bipartite lattices, dense ones beyond L = 12,"
    " noisy recordings with fewer time points than spins) no method reads it well, and the model says so: it falls"
    ' back on the prior ("no edge", or up to L = 12 the exact posterior) with entropies of 0.2 to ln 2 = 0.69'
    " instead of confident pairs."
)


# What a generator's parameter is called on screen, and its explanation, by (family, parameter): the library's
# names (n_edges, p, k) are keyword arguments, not words; the letter stays where the library's messages use it.
PARAM_TEXT: dict[tuple[str, str], tuple[str, str]] = {
    ("random", "n_edges"): ("edges", "exactly this many edges, drawn uniformly among the L(L−1)/2 spin pairs"),
    ("erdos_renyi", "p"): ("edge probability p", "each spin pair is an edge, independently, with this probability"),
    ("ring", "k"): ("neighbours per spin k", "each spin couples to its k nearest spins on a ring, k/2 on each side"),
    ("small_world", "k"): ("neighbours per spin k", "the ring before rewiring: k nearest spins, k/2 on each side"),
    ("small_world", "p"): ("rewiring probability p", "each ring edge is moved to a random spin with this probability"),
    ("complete_bipartite", "a"): (
        "spins on one side a",
        "every one of these a spins couples to every one of the"
        " other L − a, none within a side; 0 means L/3 (K₄,₈ at L = 12)",
    ),
}


def param_text(family: str, name: str) -> tuple[str, str | None]:
    """(label, help) of a generator parameter on screen; an unknown one falls back to its name with underscores
    as spaces."""
    return PARAM_TEXT.get((family, name), (name.replace("_", " "), None))


# ---------------------------------------------------------------- the session's lattice


def lattice_key(prefix: str) -> str:
    """A widget key that changes whenever the session's lattice or its edit revision changes.

    Editing widgets (graph clicks, the adjacency table) are keyed by it, so after an edit they start fresh.
    """
    digest = hashlib.sha1(np.ascontiguousarray(get_lattice()).tobytes()).hexdigest()[:10]
    return f"{prefix}_{digest}_{st.session_state.get('lattice_rev', 0)}"


def commit_lattice(A: np.ndarray) -> None:
    """Make ``A`` the session's lattice and start a new edit revision."""
    set_lattice(validate_adjacency(A))
    bump("lattice_rev")


# ---------------------------------------------------------------- cached simulations


@st.cache_data(max_entries=64, show_spinner=False)
def _simulate(a: bytes, L: int, s0: tuple, T: float, tau: float, M: int, mode: str, R: int, noise: float, seed: int):
    A = np.frombuffer(a, dtype=np.int8).reshape(L, L)
    return simulate(A, np.array(s0, dtype=np.float64), T, tau, M, mode=mode, replicas=R, noise=noise, seed=seed)


def simulate_cached(
    A: np.ndarray,
    s0: np.ndarray,
    T: float,
    tau: float,
    M: int,
    *,
    mode: str = "meanfield",
    replicas: int = 100,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """``isingviz.dynamics.simulate`` of one instance (L, M), cached per browser-independent inputs."""
    a = validate_adjacency(A)
    s = tuple(float(x) for x in np.asarray(s0).ravel())
    return _simulate(a.tobytes(), a.shape[0], s, float(T), float(tau), int(M), mode, int(replicas), float(noise), seed)


@st.cache_data(max_entries=32, show_spinner=False)
def _temperatures(a: bytes, L: int, s0: tuple, Ts: tuple, tau: float, M: int, stat: str):
    A = np.frombuffer(a, dtype=np.int8).reshape(L, L)
    s = np.array(s0, dtype=np.float64)
    return temperature_comparison_figure(A, s, Ts, tau, M, stat), decay_deviation(A, s, Ts, tau, M, stat)


def temperatures_cached(
    A: np.ndarray, s0: np.ndarray, Ts: list[float], tau: float, M: int, stat: str = "max"
) -> tuple[go.Figure, pd.DataFrame]:
    """The compare-temperatures figure and a table: T, peak deviation from free decay, and T x peak deviation."""
    a = validate_adjacency(A)
    s = tuple(float(x) for x in np.asarray(s0).ravel())
    fig, dev = _temperatures(a.tobytes(), a.shape[0], s, tuple(float(t) for t in Ts), float(tau), int(M), stat)
    peak = dev.max(axis=1)  # (nT,)
    table = pd.DataFrame({"T": Ts, "peak deviation": peak, "T × peak deviation": np.asarray(Ts) * peak})
    return fig, table


def max_deviation(X: np.ndarray, s0: np.ndarray, tau: float) -> float:
    """max over spins and time of |s_i(m) - s0_i (1 - tau)^m|: how much the couplings moved the instance."""
    return float(np.max(np.abs(np.asarray(X) - free_decay(s0, tau, np.asarray(X).shape[-1]))))


def state_from_row(frame: pd.DataFrame) -> np.ndarray:
    """An edited one-row table of +/-1 entries -> initial state (L,); ``ValueError`` for anything else."""
    row = pd.to_numeric(frame.iloc[0], errors="coerce").to_numpy(dtype=np.float64)
    if np.any(~np.isin(row, (-1.0, 1.0))):
        bad = [c for c, v in zip(frame.columns, row) if v not in (-1.0, 1.0)]
        raise ValueError(f"every spin of the initial state must be +1 or -1; fix spin(s) {', '.join(map(str, bad))}")
    return row.astype(np.int8)


def instance_npz(X: np.ndarray, s0: np.ndarray, A: np.ndarray, T: float, tau: float, M: int) -> bytes:
    """One instance as .npz bytes: X (L, M), s0 (L,), A (L, L), T, tau, M."""
    buf = io.BytesIO()
    np.savez(buf, X=X, s0=np.asarray(s0), A=np.asarray(A), T=T, tau=tau, M=M)
    return buf.getvalue()


def describe(model: LoadedModel) -> str:
    """A model in words a student reads: what it was trained on and how well it did, without the jargon."""
    ds = model.metadata.get("dataset") or {}
    m = model.metadata.get("metrics") or {}
    tests = [
        h["test_accuracy"] for h in model.metadata.get("history") or [] if isinstance(h.get("test_accuracy"), float)
    ]
    if model.is_general:
        held = m.get("held_out_accuracy", max(tests) if tests else None)
        span = f"L {ds.get('L_min', '?')}–{ds.get('L_max', '?')} spins, T {ds.get('T_min', '?')}–{ds.get('T_max', '?')}"
        text = (
            f"{model.name}: the general model, trained on lattices drawn afresh at every step ({span}); it reads"
            " lattices it never saw, of any size."
        )
        return text + (f" Held-out accuracy {held:.3f} on unseen lattices." if isinstance(held, float) else "")
    acc = m.get("accuracy", max(tests) if tests else None)
    text = (
        f"{model.name}: a CNN trained at T = {model.T:g} on {ds.get('n_lattices', '?')} lattice(s) of"
        f" {model.config.L} spins ({ds.get('n_train', 0):,} instances of {model.config.M} time steps)."
    )
    return text + (f" Test accuracy {acc:.3f} on those lattices." if isinstance(acc, float) else "")
