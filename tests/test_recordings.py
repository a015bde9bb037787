"""A user's recordings: .npz and .csv read into checked instances; every malformed file refused in one sentence."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest

from isingviz.dynamics import simulate
from isingviz.lattice import random_lattice
from isingviz.recordings import MAX_FILE_BYTES, check_instances, parse_csv, read_recording


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _csv(X: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in X).encode()


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    A = random_lattice(8, 10, seed=1)
    s0 = np.where(np.random.default_rng(0).random((3, 8)) < 0.5, -1.0, 1.0)
    return simulate(A, s0, T=1.0, tau=0.1, M=20)


def test_npz_and_csv_give_the_same_instances(X):
    assert np.array_equal(read_recording(_npz(X=X), "runs.npz"), X)
    assert np.array_equal(read_recording(_npz(X=X[1]), "one.npz"), X[1:2])
    from_csv = read_recording(_csv(X[2]), "one.csv")
    assert from_csv.shape == (1, 8, 20) and np.array_equal(from_csv[0], X[2])  # repr() round-trips floats
    assert np.array_equal(parse_csv(b"\xef\xbb\xbf" + _csv(X[0]) + b"\n\n"), X[:1])  # a BOM and blank lines


def test_a_path_is_read_like_bytes(X, tmp_path):
    path = tmp_path / "rec.csv"
    path.write_bytes(_csv(X[0]))
    assert np.array_equal(read_recording(path), X[:1])
    with pytest.raises(ValueError, match="does not exist"):
        read_recording(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"1,2\n3", "r.csv", "different lengths"),
        (b"0.1,x\n0.2,0.3", "r.csv", "row 1 of r.csv has 'x', not a number"),
        (b"", "r.csv", "is empty"),
        (b"\xff\xfe", "r.csv", "not UTF-8"),
        (b"0.5,0.5", "r.csv", "1 spins"),
        (b"0.5\n0.5", "r.csv", "1 time steps"),
        (b"nan,0\n0,0", "r.csv", "NaN or infinite"),
        (b"1.5,0\n0,0", "r.csv", "magnitude 1.5"),
        (b"0,0\n0,0", "r.txt", "a .npz (member X) or a .csv"),
        (_npz(Y=np.zeros((2, 4))), "r.npz", "no member X"),
        (_npz(X=np.zeros(5)), "r.npz", "shape (L, M) or (B, L, M)"),
        (_npz(X=np.zeros((65, 4))), "r.npz", "65 spins"),
        (_npz(X=np.zeros((2, 3, 4), complex)), "r.npz", "complex"),
        (_npz(X=np.array("text")), "r.npz", "string"),
        (b"PK not a zip", "r.npz", "not an .npz file"),
        (b"0" * (MAX_FILE_BYTES + 1), "r.csv", "over the"),
    ],
)
def test_bad_recordings_are_refused_in_one_sentence(data, name, message):
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        read_recording(data, name)
    assert "\n" not in str(err.value) and "Traceback" not in str(err.value)


def test_object_arrays_are_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # an object array whose unpickling would create the marker
        obj = np.array([object()], dtype=object)
        inner = io.BytesIO()
        np.save(inner, obj, allow_pickle=True)
        zf.writestr("X.npy", inner.getvalue())
    with pytest.raises(ValueError):
        read_recording(buf.getvalue(), "evil.npz")
    assert not marker.exists()


def test_check_instances_takes_noise_but_not_more():
    x = np.zeros((2, 3))
    x[0, 0] = 1.05
    assert check_instances(x).shape == (1, 2, 3)
    with pytest.raises(ValueError, match="real numbers"):
        check_instances(np.array([["a", "b"], ["c", "d"]]))
