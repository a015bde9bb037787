"""What the command line checks before it does any work, and how it words a failure.

Flags are parsed by argparse (``finite_float`` refuses nan / inf at parse time) and checked here against the
ranges of ``isingviz.limits`` before anything is allocated; files given on the command line are read through the
core's safe readers (``files.read_npz``, ``safejson``). ``error_line`` turns any failure into the one line
``main`` prints after ``error:``; ``write_out`` writes every output file atomically.
"""

from __future__ import annotations

import argparse
import math
import os
import traceback
from pathlib import Path

import numpy as np

from ..files import atomic_write, read_npz
from ..lattice import validate_adjacency
from ..limits import (
    L_MAX,
    L_MIN,
    M_MAX,
    M_MIN,
    N_INSTANCES_MAX,
    NPZ_BYTES_MAX,
    REPLICAS_MAX,
    SEED_MAX,
    STEPS_MAX,
    T_MAX,
    T_MIN,
    THREADS_MAX,
    array_bytes,
    check_float,
    check_int,
    fmt_bytes,
    is_real,
    show,
)

EVALUATE_N_MAX = 100_000  # unseen lattices an evaluation scores with every method (the default, 100, takes seconds)


def finite_float(text: str) -> float:
    """argparse type: a finite number (argparse's ``float`` would take 'nan', 'inf' and '1e400')."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {show(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {show(text)}")
    return value


def _exists(p: Path) -> str:
    return f"{p.name} already exists; use --overwrite to replace it, or choose another --out"


def check_out(path: str, suffix: str, overwrite: bool) -> Path:
    """The ``--out`` path when it ends in ``suffix`` and, without ``--overwrite``, does not exist yet."""
    p = Path(path)
    if p.suffix != suffix:
        raise ValueError(f"--out must end in {suffix}, got {show(p.name)}")
    if p.exists() and not overwrite:
        raise ValueError(_exists(p))
    return p


def write_out(path: Path, data: bytes, overwrite: bool) -> Path:
    """Write an output file atomically: a crash leaves no partial file behind, so a rerun works."""
    try:
        return atomic_write(path, data, overwrite=overwrite)
    except ValueError:
        raise ValueError(_exists(path)) from None


def check_simulate(a: argparse.Namespace) -> None:
    """Ranges of the ``simulate`` flags (before the lattice is drawn or read)."""
    check_int("--n (instances)", a.n, 1, N_INSTANCES_MAX)
    check_int("--L (spins)", a.L, L_MIN, L_MAX)
    check_int("--M (time points)", a.M, M_MIN, M_MAX)
    check_int("--replicas", a.replicas, 1, REPLICAS_MAX)
    check_float("--T", a.T, T_MIN, T_MAX)
    for flag, value in (("--seed", a.seed), ("--lattice-seed", a.lattice_seed)):
        check_int(flag, value, 0, SEED_MAX)


def check_instance_file(n: int, L: int, M: int) -> None:
    """An instance file must be readable back (``files.read_npz`` reads at most ``NPZ_BYTES_MAX``)."""
    size = array_bytes(n, L, M)
    if size > NPZ_BYTES_MAX:
        raise ValueError(
            f"--n {n:,} instances of L = {L}, M = {M} would make a {fmt_bytes(size)} instance file; at most"
            f" {fmt_bytes(NPZ_BYTES_MAX)} can be read back, so simulate fewer per file"
        )


def check_train_general(a: argparse.Namespace) -> None:
    """Ranges of the ``train-general`` flags that are not fields of its config (checked before training starts)."""
    check_int("--threads", a.threads, 1, THREADS_MAX)
    if a.stop_after_steps is not None:
        check_int("--stop-after-steps", a.stop_after_steps, 0, STEPS_MAX)
    if a.max_seconds is not None:
        check_float("--max-seconds", a.max_seconds, 0.0, 1e9, lo_open=True)


def check_evaluate(a: argparse.Namespace) -> None:
    """Ranges of the ``evaluate`` flags (the library checks the memory of what they ask for)."""
    for flag, value in (("--n-test", a.n_test), ("--n-general", a.n_general)):
        check_int(flag, value, 0, N_INSTANCES_MAX)
    check_int("--general-lattices", a.n_general_lattices, 0, 10_000)
    check_int("--seed", a.seed, 0, SEED_MAX)
    if a.L is not None:
        check_int("--L (spins)", a.L, 3, L_MAX)
    if a.n is not None:
        check_int("--n (unseen lattices)", a.n, 1, EVALUATE_N_MAX)
    if a.T is not None:
        check_float("--T", a.T, T_MIN, T_MAX)


def parse_s0(text: str, L: int) -> np.ndarray:
    """``--s0``: '+-+-...' or comma-separated numbers in [-1, 1], exactly L of them."""
    t = text.strip()
    if len(t) > 64 * (L + 1):
        raise ValueError(f"--s0 is too long for L={L} spins")
    try:
        s0 = [1.0 if c == "+" else -1.0 for c in t] if set(t) <= {"+", "-"} else [float(v) for v in t.split(",")]
    except ValueError:
        raise ValueError(f"--s0 must be a string of + and - or comma-separated numbers, got {show(text)}") from None
    if len(s0) != L:
        raise ValueError(f"--s0 has {len(s0)} spins but the model expects L={L}")
    if not all(math.isfinite(v) and -1 <= v <= 1 for v in s0):
        raise ValueError("--s0 entries must be numbers in [-1, 1]")
    return np.array(s0)


def read_instance(path: str, index: int) -> tuple[np.ndarray, np.ndarray | None, float | None]:
    """Instance ``index`` (L, M) of an ``.npz`` from ``simulate``, its lattice A (if stored) and T (if stored).

    Only X, A and T are read (``files.read_npz``: headers checked before any data, size-limited, no pickles).
    X: real numbers, shape (B, L, M) or (L, M), finite; A: a lattice of the same L; T: one finite number > 0.
    """
    doc = read_npz(path, ["X", "A", "T"])
    name = Path(path).name
    if "X" not in doc:
        raise ValueError(f"instance file {name} has no array 'X' (instances, shape (B, L, M))")
    X = doc["X"]
    if not isinstance(X, np.ndarray) or X.ndim not in (2, 3):
        raise ValueError(f"instance file {name}: X must have shape (B, L, M) or (L, M), got {show(X)}")
    X = X[None] if X.ndim == 2 else X
    if not L_MIN <= X.shape[1] <= L_MAX or not 3 <= X.shape[2] <= M_MAX or X.shape[0] == 0:
        raise ValueError(f"instance file {name}: X has shape {X.shape}; it needs L in 2..64 and M in 3..{M_MAX}")
    check_int("--index", index, -X.shape[0], X.shape[0] - 1)
    x = X[index].astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"instance {index} of {name} contains NaN or infinite values")
    A = doc.get("A")
    if A is not None:
        try:
            A = validate_adjacency(A)
        except ValueError as e:
            raise ValueError(f"instance file {name}: its lattice A is refused: {e}") from None
        if A.shape[0] != x.shape[0]:
            raise ValueError(f"instance file {name}: the lattice A has L={A.shape[0]} but X has L={x.shape[0]}")
    T = doc.get("T")
    if T is not None:
        if not isinstance(T, np.ndarray) or T.shape != () or not is_real(T.item()):
            raise ValueError(f"instance file {name}: T must be one number, got {show(T)}")
        T = check_float(f"instance file {name}: T", T.item(), T_MIN, T_MAX)
    return x, A, T


def error_line(e: BaseException) -> str:
    """The one sentence ``main`` prints after ``error:`` (no traceback; ISINGVIZ_DEBUG=1 adds one)."""
    if isinstance(e, ValueError):
        text = str(e)
    elif isinstance(e, OSError):
        where = f": {Path(e.filename).name}" if getattr(e, "filename", None) else ""
        text = f"{e.strerror or type(e).__name__}{where}"
    elif isinstance(e, MemoryError):
        text = "out of memory; ask for fewer or smaller instances (or raise ISINGVIZ_MAX_BYTES if memory allows)"
    else:
        text = f"unexpected {type(e).__name__}; please report it (ISINGVIZ_DEBUG=1 shows the details)"
    if os.environ.get("ISINGVIZ_DEBUG") == "1":
        text += "\n" + "".join(traceback.format_exception(e)).rstrip()
        return text
    return " ".join(text.split())  # one line, whatever the message held
