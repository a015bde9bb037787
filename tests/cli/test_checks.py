"""What the command line checks before working, and its last-resort error line."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

import isingviz.cli.commands as commands
from isingviz.cli.checks import error_line, finite_float, parse_s0


def test_finite_float_refuses_nan_inf_and_overflow() -> None:
    assert finite_float("0.4") == 0.4
    for text in ("nan", "inf", "-inf", "1e400", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            finite_float(text)


def test_parse_s0() -> None:
    assert np.array_equal(parse_s0("+-+", 3), [1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="--s0 has 2 spins but the model expects L=3"):
        parse_s0("+-", 3)
    with pytest.raises(ValueError, match=r"--s0 entries must be numbers in \[-1, 1\]"):
        parse_s0("1,nan,1", 3)
    with pytest.raises(ValueError, match="--s0 is too long"):
        parse_s0("+" * 10_000, 3)


def test_error_lines_are_one_line_and_name_no_path() -> None:
    assert error_line(ValueError("two\nlines")) == "two lines"
    err = FileNotFoundError(2, "No such file or directory", "/srv/secret/data.json")
    assert error_line(err) == "No such file or directory: data.json"
    assert error_line(MemoryError()).startswith("out of memory")


def test_an_unexpected_exception_is_one_line_unless_debugging(capsys, monkeypatch, tmp_path) -> None:
    def boom(a: argparse.Namespace) -> int:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(commands, "_cmd_simulate", boom)
    argv = ["simulate", "--out", str(tmp_path / "x.npz")]
    assert commands.main(argv) == 2
    err = capsys.readouterr().err
    assert err == "error: unexpected RuntimeError; please report it (ISINGVIZ_DEBUG=1 shows the details)\n"
    monkeypatch.setenv("ISINGVIZ_DEBUG", "1")
    assert commands.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected RuntimeError") and "Traceback" in err and "internal detail" in err
