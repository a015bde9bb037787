"""AppTest of the recording panel of the Predict page: a CSV upload is reconstructed and offered as an edge list; a
bad file is one sentence and the page goes on. (A page file, not ``AppTest.from_function``: the latter leaves a
``__main__`` that spawned worker processes of later tests cannot import.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import ui.state
from isingviz.dynamics import simulate
from isingviz.lattice import adjacency_to_pairs, random_lattice
from ui.widgets import (
    NO_COUPLING_NOTE,
    POSTERIOR_NOTE,
    QUOTIENT_NOTE,
    SYMMETRIC_NOTE,
    UNDERDETERMINED_NOTE,
    UNSUPPORTED_NOTE,
)

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "4_Predict.py")


@pytest.fixture(autouse=True)
def no_shipped_models(tmp_path, monkeypatch):
    """Without models for the current lattice the page shows only the recording panel (it needs none: the general
    model comes from the models folder, which the panel's default method loads by itself)."""
    monkeypatch.setattr(ui.state, "SHIPPED_DIR", tmp_path / "shipped")
    monkeypatch.setenv("ISINGVIZ_USER_MODELS", str(tmp_path / "user"))


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60).run()


def csv_bytes(X: np.ndarray) -> bytes:
    """One recording (L, M) as the page reads it: one row per spin, comma-separated, no header."""
    return "\n".join(",".join(repr(float(v)) for v in row) for row in X).encode()


def recording_csv() -> tuple[bytes, np.ndarray]:
    A = random_lattice(8, 10, seed=2)
    X = simulate(A, np.array([[1, -1, 1, 1, -1, -1, 1, -1]], float), T=1.0, tau=0.1, M=40)[0]
    return csv_bytes(X), A


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return at.run()


def test_a_csv_recording_is_reconstructed_and_offered_as_an_edge_list():
    data, A = recording_csv()
    at = page()
    assert not at.exception and not at.error
    at = upload(at, "run.csv", data)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("reconstructed from run.csv (10 edges)" in t for t in titles)  # the general model finds all 10
    assert len(at.get("download_button")) == 2
    at.selectbox(key="rec_method").set_value("binary_ml").run()
    assert not at.exception and any("(10 edges)" in c.proto.spec for c in at.get("plotly_chart"))
    assert adjacency_to_pairs(A).sum() == 10


def test_a_bad_recording_is_one_sentence():
    at = page()
    at = upload(at, "bad.csv", b"1,2\nx,3\n")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "bad.csv: row 2 of bad.csv has 'x', not a number; the file is numbers only, no header"
    ]
    at.run()  # still there on the next run, and the page keeps working
    assert len(at.error) == 1 and not at.exception


def test_a_replica_recording_needs_its_replica_count_for_the_replica_decoder():
    A = random_lattice(8, 10, seed=2)
    s0 = np.array([1, -1, 1, 1, -1, -1, 1, -1], float)
    X = simulate(A, s0, T=1.0, tau=0.1, M=50, mode="stochastic", replicas=1000, seed=3)
    data = csv_bytes(X)
    at = upload(page(), "replicas.csv", data)
    at.selectbox(key="rec_method").set_value("replica_ml").run()
    assert not at.exception and [e.value for e in at.error] == [
        "the replica decoder reads means of R stochastic runs: give R (replicas) >= 1, or choose another method"
    ]
    at.number_input(key="rec_R").set_value(1000).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("reconstructed from replicas.csv" in c.proto.spec for c in at.get("plotly_chart"))
    at.selectbox(key="rec_method").set_value("general").run()  # the general model reads R through its head
    assert not at.exception and not at.error and len(at.get("download_button")) == 2


def test_replica_means_without_any_coupling_say_so():
    X = simulate(np.zeros((8, 8)), np.array([1, -1, 1, 1, -1, -1, 1, -1.0]), T=1.0, tau=0.1, M=50,
                 mode="stochastic", replicas=1000, seed=5)  # fmt: skip
    data = csv_bytes(X)
    at = upload(page(), "free.csv", data)
    at.selectbox(key="rec_method").set_value("general").run()
    at.number_input(key="rec_R").set_value(1000).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    notes = [i.value for i in at.info]
    assert NO_COUPLING_NOTE in notes and UNSUPPORTED_NOTE not in notes
    assert any("reconstructed from free.csv (0 edges)" in c.proto.spec for c in at.get("plotly_chart"))


def hot_recording(L, n_edges, seed=7):
    rng = np.random.default_rng(seed)
    A = random_lattice(L, n_edges, seed=4)
    X = simulate(A, rng.choice([-1.0, 1.0], (1, L)), T=50.0, tau=0.1, M=50)[0] + 1e-2 * rng.standard_normal((L, 50))
    return csv_bytes(X)


def test_a_recording_without_evidence_for_the_network_says_who_answered():
    at = upload(page(), "hot.csv", hot_recording(10, 12))
    at.select_slider(key="rec_T").set_value(50.0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    notes = [i.value for i in at.info]
    assert POSTERIOR_NOTE in notes and UNSUPPORTED_NOTE not in notes  # L <= 12: the exact posterior answers
    at = upload(at, "hot16.csv", hot_recording(16, 24))
    at.select_slider(key="rec_T").set_value(50.0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert UNSUPPORTED_NOTE in [i.value for i in at.info]  # beyond it: the gate's prior posterior
    assert any("reconstructed from hot16.csv (0 edges)" in c.proto.spec for c in at.get("plotly_chart"))
    clean, _ = recording_csv()  # a recording that carries its lattice: no such note
    at = upload(at, "run.csv", clean)
    at.select_slider(key="rec_T").set_value(1.0).run()
    notes = [i.value for i in at.info]
    assert not at.exception and UNSUPPORTED_NOTE not in notes and POSTERIOR_NOTE not in notes


def test_a_clean_dense_recording_says_the_symmetric_inversion_answered():
    rng = np.random.default_rng(11)
    A = random_lattice(24, 100, seed=5)  # 36 % of the pairs coupled: dense, beyond the network's sparse families
    X = simulate(A, rng.choice([-1.0, 1.0], (1, 24)), T=50.0, tau=0.1, M=50)[0]
    data = csv_bytes(X)
    at = upload(page(), "dense.csv", data)
    at.select_slider(key="rec_T").set_value(50.0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    notes = [i.value for i in at.info]
    assert SYMMETRIC_NOTE in notes and UNSUPPORTED_NOTE not in notes and POSTERIOR_NOTE not in notes
    assert UNDERDETERMINED_NOTE not in [w.value for w in at.warning]  # as many time points as spins


def test_a_noisy_complete_recording_beyond_12_spins_says_the_twin_quotient_answered():
    rng = np.random.default_rng(13)
    A = np.ones((24, 24)) - np.eye(24)
    X = simulate(A, rng.choice([-1.0, 1.0], (1, 24)), T=5.0, tau=0.1, M=50)[0] + 1e-3 * rng.standard_normal((24, 50))
    data = csv_bytes(X)
    at = upload(page(), "complete.csv", data)
    at.select_slider(key="rec_T").set_value(5.0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    notes = [i.value for i in at.info]
    assert QUOTIENT_NOTE in notes and SYMMETRIC_NOTE not in notes and UNSUPPORTED_NOTE not in notes
    assert any("reconstructed from complete.csv (276 edges)" in c.proto.spec for c in at.get("plotly_chart"))


def test_a_short_noisy_recording_of_many_spins_is_flagged_as_underdetermined():
    rng = np.random.default_rng(12)
    A = random_lattice(24, 30, seed=6)
    X = simulate(A, rng.choice([-1.0, 1.0], (1, 24)), T=1.0, tau=0.1, M=16)[0]  # 24 spins, 16 time points
    X = X + rng.normal(0.0, 1e-3, X.shape)
    data = csv_bytes(X)
    at = upload(page(), "short.csv", data)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert UNDERDETERMINED_NOTE in [w.value for w in at.warning]
