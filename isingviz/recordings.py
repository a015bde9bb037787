"""A user's own trajectories: read, check and shape them as instances (B, L, M) for any reconstruction method.

Two formats:

- ``.npz`` with a member ``X`` of shape (B, L, M) (several instances) or (L, M) (one), e.g. what
  ``python -m isingviz simulate --out`` writes; read member by member with ``files.read_npz`` (no pickles).
- ``.csv``: one instance, one row per spin and one column per time step, comma-separated numbers, no header.

Checked before any method sees them: finite real numbers, 2 <= L <= 64 spins, M >= 2 time steps (at most
``limits.M_MAX``), momenta in [-1, 1] up to ``SLACK`` (observation noise may push a value slightly outside), and a
file no larger than ``MAX_FILE_BYTES`` (the app's upload limit). Every refusal is one ``ValueError`` sentence.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .files import read_npz
from .limits import L_MAX, L_MIN, M_MAX, M_MIN, N_INSTANCES_MAX, check_memory, fmt_bytes

MAX_FILE_BYTES = 50_000_000  # the app's upload limit (.streamlit/config.toml maxUploadSize, in MB)
SLACK = 0.1  # momenta lie in [-1, 1]; noisy recordings may stray this far outside, no farther
FORMATS = (".npz", ".csv")


def _shape(X: np.ndarray, what: str) -> np.ndarray:
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3:
        raise ValueError(f"{what} must have shape (L, M) or (B, L, M), got {X.ndim} dimensions {tuple(X.shape)}")
    B, L, M = X.shape
    if not L_MIN <= L <= L_MAX:
        raise ValueError(f"{what} has {L} spins (rows); between {L_MIN} and {L_MAX} are allowed")
    if not M_MIN <= M <= M_MAX:
        raise ValueError(f"{what} has {M} time steps (columns); between {M_MIN} and {M_MAX} are allowed")
    if not 1 <= B <= N_INSTANCES_MAX:
        raise ValueError(f"{what} holds {B} instances; between 1 and {N_INSTANCES_MAX:,} are allowed")
    return X


def check_instances(X: np.ndarray, what: str = "the recording") -> np.ndarray:
    """``X`` (L, M) or (B, L, M) of finite real momenta in [-1 - SLACK, 1 + SLACK] -> float64 (B, L, M)."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must hold real numbers, got {arr.dtype} values")
    arr = _shape(arr, what).astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{what} has {bad} NaN or infinite values; every value must be a finite number")
    top = float(np.max(np.abs(arr)))
    if top > 1.0 + SLACK:
        raise ValueError(
            f"{what} has a value of magnitude {top:.3g}; magnetic momenta lie in [-1, 1] (up to {SLACK} of noise)"
        )
    return arr


def parse_csv(data: bytes, what: str = "the CSV file") -> np.ndarray:
    """One instance from CSV text: a row per spin, a column per time step, numbers only -> (1, L, M) float64."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{what} is not UTF-8 text") from None
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise ValueError(f"{what} is empty; it needs one row per spin and one column per time step")
    if len(lines) > L_MAX:
        raise ValueError(f"{what} has {len(lines)} rows (spins); between {L_MIN} and {L_MAX} are allowed")
    rows = []
    for r, line in enumerate(lines, start=1):
        cells = line.split(",")
        if len(cells) > M_MAX:
            raise ValueError(f"row {r} of {what} has {len(cells)} columns (time steps); at most {M_MAX} are allowed")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise ValueError(
                f"row {r} of {what} has {bad.strip()[:20]!r}, not a number; the file is numbers only, no header"
            ) from None
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"the rows of {what} have different lengths ({min(widths)} to {max(widths)} columns)")
    return check_instances(np.array(rows), what)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_recording(source: str | os.PathLike[str] | bytes, name: str | None = None) -> np.ndarray:
    """The instances (B, L, M) float64 in a ``.npz`` or ``.csv`` recording (a path, or bytes with their file
    ``name`` for the format), checked as the module's docstring says."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, fname = bytes(source), name or "the upload"
    else:
        p = Path(source)
        fname = name or p.name
        if not p.is_file():
            raise ValueError(f"recording {fname!r} does not exist or is not a file")
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"{fname} is {fmt_bytes(p.stat().st_size)}, over the {fmt_bytes(MAX_FILE_BYTES)} limit")
        data = p.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{fname} is {fmt_bytes(len(data))}, over the {fmt_bytes(MAX_FILE_BYTES)} limit")
    suffix = Path(fname).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{fname}: a recording is a .npz (member X) or a .csv (a row per spin), not {suffix or '?'}")
    if suffix == ".csv":
        return parse_csv(data, fname)
    members = read_npz(data, ["X"])
    if "X" not in members:
        raise ValueError(f"{fname} has no member X; save the instances as numpy.savez(FILE, X=array)")
    X = members["X"]
    if isinstance(X, str):
        raise ValueError(f"member X of {fname} is a string; it must be an array of momenta")
    check_memory(X.size * 8, f"the instances of {fname}")
    return check_instances(X, f"member X of {fname}")
