"""Every file the command line writes is written atomically: a process killed in the middle of writing ``--out``
leaves no (truncated) file there, and the rerun, a real ``python -m isingviz`` process, then succeeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from isingviz.files import read_npz

from .harness import HANG_GUARD_S, ROOT, _limit

# Runs the command line with os.fdopen patched so that writing a file opened for writing stops the process half-way
# through its bytes (os._exit: no cleanup, no exception handler), as a kill or a power cut would.
DIES_MID_WRITE = """
import os, sys
real = os.fdopen
class Dies:
    def __init__(self, f): self.f = f
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def __getattr__(self, name): return getattr(self.f, name)
    def write(self, data):
        self.f.write(data[: len(data) // 2]); self.f.flush(); os._exit(9)
os.fdopen = lambda fd, mode="r", *a, **k: Dies(real(fd, mode, *a, **k)) if "w" in mode else real(fd, mode, *a, **k)
from isingviz.cli import main
sys.exit(main(sys.argv[1:]))
"""

COMMANDS = {
    "simulate": ["simulate", "--n", "20", "--M", "10", "--out", "{out}/x.npz"],
    "evaluate": ["evaluate", str(ROOT / "models" / "paper_T0.4.safetensors"), "--n-test", "12", "--n-general", "0",
                 "--out", "{out}/r.json"],
}  # fmt: skip


def _run(argv: list[str], *prefix: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *prefix, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=_limit,
        timeout=2 * HANG_GUARD_S,
    )


@pytest.mark.parametrize("command", list(COMMANDS))
def test_killed_mid_write_leaves_no_file_and_the_rerun_works(tmp_path: Path, command: str) -> None:
    argv = [a.format(out=tmp_path) for a in COMMANDS[command]]
    target = Path(argv[-1])
    killed = _run(argv, "-c", DIES_MID_WRITE)
    assert killed.returncode == 9, killed.stderr[-2000:]  # it died while writing
    assert not target.exists(), "a killed run must not leave a (truncated) file at --out"
    rerun = _run(argv, "-m", "isingviz")
    assert rerun.returncode == 0 and rerun.stderr.count("error") == 0, rerun.stderr[-2000:]
    if target.suffix == ".npz":
        assert read_npz(target, ["X"])["X"].shape == (20, 12, 10)
    else:
        assert json.loads(target.read_text())["test"]["n_lattices"] == 10
    again = _run(argv, "-m", "isingviz")  # and a third run refuses to replace it, in one line
    refused = f"error: {target.name} already exists; use --overwrite to replace it, or choose another --out"
    assert again.returncode == 2 and again.stderr.strip() == refused
