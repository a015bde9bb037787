"""Atomic writes and the safe .npz reader."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from isingviz.files import atomic_write, read_npz


def test_atomic_write_creates_refuses_and_replaces(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "a.bin"
    assert atomic_write(p, b"one") == p and p.read_bytes() == b"one"
    with pytest.raises(ValueError, match="a.bin already exists; choose another name or allow it to be replaced"):
        atomic_write(p, b"two")
    atomic_write(p, b"three", overwrite=True)
    assert p.read_bytes() == b"three" and os.listdir(p.parent) == ["a.bin"]  # no temporary file left behind
    assert oct(p.stat().st_mode & 0o777) == "0o644"


def test_atomic_write_never_replaces_a_file_that_appears_meanwhile(tmp_path: Path, monkeypatch) -> None:
    p = tmp_path / "a.bin"
    real_link = os.link

    def racing_link(src: str, dst: str) -> None:
        Path(dst).write_bytes(b"theirs")  # another writer wins the race
        real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(ValueError, match="already exists"):
        atomic_write(p, b"mine")
    assert p.read_bytes() == b"theirs" and os.listdir(tmp_path) == ["a.bin"]


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_reads_only_the_members_asked_for(tmp_path: Path) -> None:
    data = npz(X=np.arange(24.0).reshape(2, 3, 4), T=0.4, mode="meanfield", A=np.eye(3, dtype=np.int8))
    out = read_npz(data, ["X", "T", "mode", "missing"])
    assert set(out) == {"X", "T", "mode"} and out["mode"] == "meanfield" and float(out["T"]) == 0.4
    assert np.array_equal(out["X"], np.arange(24.0).reshape(2, 3, 4)) and out["X"].flags.writeable
    path = tmp_path / "i.npz"
    path.write_bytes(data)
    assert read_npz(path, ["A"])["A"].dtype == np.int8


def test_fortran_order_arrays_come_back_right() -> None:
    a = np.asfortranarray(np.arange(6).reshape(2, 3))
    assert np.array_equal(read_npz(npz(F=a), ["F"])["F"], a)


@pytest.mark.parametrize(
    "member, message",
    [
        (np.zeros(3, dtype=complex), "has dtype complex128; only real numbers"),
        (np.array([1, None], dtype=object), "holds objects or records"),
        (np.zeros(2, dtype=[("a", "f8")]), "holds objects or records"),
        (np.array(["a", "b"]), "must be one short string"),
        (np.array("x" * 100), "must be one short string"),
    ],
    ids=["complex", "object", "structured", "string-array", "long-string"],
)
def test_refuses_what_is_not_plain_numbers_or_short_text(member: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_npz(npz(X=member), ["X"])


def test_a_member_larger_than_the_limit_is_refused_from_its_header() -> None:
    with pytest.raises(ValueError, match=r"the .npz data: member 'X' of shape \(1000,\) expands to 8.0 KB"):
        read_npz(npz(X=np.zeros(1000)), ["X"], limit=1000)


def test_too_many_members_and_non_zip_data_are_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(100):
            z.writestr(f"m{i}.npy", b"")
    with pytest.raises(ValueError, match="lists 100 members; an .npz of instances holds at most 64"):
        read_npz(buf.getvalue(), ["X"])
    with pytest.raises(ValueError, match="it is not an .npz file"):
        read_npz(b"plain bytes", ["X"])


def test_a_truncated_member_is_refused() -> None:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (100,)})
    short = io.BytesIO()
    with zipfile.ZipFile(short, "w") as z:
        z.writestr("X.npy", buf.getvalue() + b"\0" * 80)
    with pytest.raises(ValueError, match="member 'X' is truncated: 80 of 800 bytes"):
        read_npz(short.getvalue(), ["X"])
