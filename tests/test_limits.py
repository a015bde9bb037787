"""The size-and-type gate: ranges, types, the memory budget and how values are shown in messages."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from isingviz import limits as lim

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("value", [1, 64, np.int64(12), np.uint8(2)])
def test_check_int_accepts_integers_in_range(value) -> None:
    assert lim.check_int("L", value, 1, 64) == int(value) and type(lim.check_int("L", value, 1, 64)) is int


@pytest.mark.parametrize(
    "value, shown",
    [(0, "got 0"), (65, "got 65"), (True, "got True"), (2.0, "got 2.0"), ("3", "got '3'"), (None, "got nothing"),
     (10**4000, "an integer with 4,001 digits"), ([1, 2], "a list of 2 entries")],
)  # fmt: skip
def test_check_int_refuses_with_the_range_and_a_short_rendering(value, shown: str) -> None:
    with pytest.raises(ValueError, match="L must be an integer from 1 to 64") as e:
        lim.check_int("L", value, 1, 64)
    assert shown in str(e.value) and len(str(e.value)) < 120


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1e-9, 2.5, "0.5", True, 1 + 0j])
def test_check_float_refuses_non_finite_out_of_range_and_non_numbers(value) -> None:
    with pytest.raises(ValueError, match=r"T must be a finite number in \(0, 2\]"):
        lim.check_float("T", value, 0.0, 2.0, lo_open=True)


def test_check_float_accepts_ints_and_numpy_floats() -> None:
    assert lim.check_float("T", 1, 0.0, 2.0) == 1.0 and lim.check_float("T", np.float32(0.5), 0.0, 1.0) == 0.5


def test_check_ints_counts_before_it_looks_at_the_entries() -> None:
    with pytest.raises(ValueError, match="a list of 40,000 entries"):
        lim.check_ints("channels", [1] * 40_000, 1, 1024, 1, 8)
    with pytest.raises(ValueError, match="each entry of channels must be an integer from 1 to 1,024"):
        lim.check_ints("channels", [2**63], 1, 1024, 1, 8)
    assert lim.check_ints("channels", [32, 64], 1, 1024, 1, 8) == (32, 64)


def test_choice_and_text() -> None:
    assert lim.check_choice("mode", "meanfield", ("meanfield", "stochastic")) == "meanfield"
    with pytest.raises(ValueError, match="mode must be one of 'meanfield', 'stochastic', got 'x'"):
        lim.check_choice("mode", "x", ("meanfield", "stochastic"))
    with pytest.raises(ValueError, match="at most 5 characters"):
        lim.check_text("name", "x" * 6, 5)


def test_show_never_prints_thousands_of_characters() -> None:
    assert len(lim.show("x" * 100_000)) < 80 and len(lim.show(10**100_000)) < 60
    assert lim.show(np.zeros((2, 3))) == "an array of shape (2, 3) and dtype float64"


def test_budget_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISINGVIZ_MAX_BYTES", "1000000")
    assert lim.max_bytes() == 1_000_000
    assert lim.check_memory(1_000_000, "x") == 1_000_000
    with pytest.raises(ValueError, match=r"simulating 7 would need about 1.0 MB of memory, over the budget of 1.0 MB"):
        lim.check_memory(1_000_001, "simulating 7")
    monkeypatch.setenv("ISINGVIZ_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="ISINGVIZ_MAX_BYTES must be a positive number of bytes"):
        lim.max_bytes()


def test_default_budget_is_a_quarter_of_ram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ISINGVIZ_MAX_BYTES", raising=False)
    ram = lim.physical_memory()
    assert ram is not None and lim.max_bytes() == ram // 4


def test_budget_is_at_most_half_the_address_space_limit() -> None:
    code = "from isingviz.limits import max_bytes; print(max_bytes())"
    limit = 3 * 2**30

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, preexec_fn=cap)
    expected = min(limit // 2, (lim.physical_memory() or 0) // 4)
    assert int(out.stdout) == expected, out.stderr


def test_array_bytes_does_not_overflow() -> None:
    assert lim.array_bytes(10**9, 64, 2000) == 10**9 * 64 * 2000 * 8
    assert lim.fmt_bytes(1536) == "1.5 KB" and lim.fmt_bytes(12) == "12 bytes"
