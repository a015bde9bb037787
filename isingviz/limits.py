"""The size-and-type gate for everything that comes from outside: files, uploads, command-line flags, widgets.

Every integer a request carries has a stated range here (named constants, each with why), and every helper raises
``ValueError`` with one sentence that says what was wrong and what is allowed. Ranges bound the *shape* of a
request; ``check_memory`` bounds its *size*: an estimate of the bytes a request will allocate is compared, before
anything is allocated, with the budget ``max_bytes()`` (``ISINGVIZ_MAX_BYTES``, default a quarter of the physical
memory, and never more than half of the process's address-space limit when one is set).

The checks are cheap and pure, so the library calls them at its boundaries (dataclass ``validate`` methods,
``load_model``, ``simulate``, ``build_dataset``) and the command line and the app get the same sentences.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

# ---------------------------------------------------------------- ranges (inclusive)
L_MIN, L_MAX = 2, 64  # spins: the K = L(L-1)/2 pair outputs and the general model's L^2 M features stay small
M_MIN, M_MAX = 2, 2000  # time points: 40x the default 50; one general-model instance at L = 64 then needs ~0.5 GB
N_INSTANCES_MAX = 10_000_000  # instances in one request (400x the paper's 25,000); memory is checked on top
N_LATTICES_MAX = 10_000  # lattices of a dataset (the paper uses 10); each is drawn and checked one by one
REPLICAS_MAX = 100_000  # stochastic replicas per instance (1000x the default; memory is checked on top)
CHANNELS_COUNT_MAX = 8  # convolution layers: the default has 2; each is built before any shape can be checked
CHANNEL_MAX = 1024  # channels per convolution layer (the default's widest: 64)
KERNEL_MAX = 63  # kernel length / side: longer than the default M's half-length is never useful
HIDDEN_MAX = 4096  # dense / pair-network width (the default: 128 for the CNN, 64 for the general model)
SQUEEZE_MAX = 1024  # 1x1 squeeze channels (default 8)
ROUNDS_MAX = 16  # general model refinement rounds (default 2), each one a pass over every pair
PARAMETERS_MAX = 12_000_000  # weights of one network: float32 files stay under load_model's 50 MB limit
EPOCHS_MAX = 10_000  # CNN training passes (the paper's recipe: 14)
BATCH_MAX = 65_536  # instances per optimiser step
STEPS_MAX = 10_000_000  # general-model Adam steps (the shipped recipe: 1,800)
N_EVAL_MAX = 100_000  # held-out instances of a general-model run (default 128)
THREADS_MAX = 64  # torch CPU threads (small convolutions stop scaling beyond 8)
SEED_MAX = 2**63 - 1  # seeds feed numpy's SeedSequence and torch.manual_seed, which take 64-bit values
T_MIN, T_MAX = 1e-6, 1e6  # temperature: beyond these the dynamics are frozen or free, and A/T stays finite
NOISE_MAX = 1e3  # observation noise sigma (the momenta lie in [-1, 1])
LR_MAX = 10.0  # learning rate
WEIGHT_DECAY_MAX = 10.0  # AdamW weight decay
TEXT_MAX = 10_000  # free text (names, notes) kept in model files
STRING_SCALAR_MAX = 64  # short string metadata (an .npz's "mode", a family name)
JSON_DEPTH_MAX = 64  # nesting of any JSON document (a model's metadata needs 6)
JSON_INT_DIGITS_MAX = 20  # digits of a JSON integer (2^64 has 20); longer ones only serve to burn CPU
NPZ_MEMBERS_MAX = 64  # members of an .npz archive (simulate writes 8)
NPZ_BYTES_MAX = 1_000_000_000  # decompressed bytes read from one .npz: 200,000 instances of L = 12, M = 50


# ---------------------------------------------------------------- how values are shown in messages
def show(value: Any) -> str:
    """A short, safe rendering of ``value`` for an error message (never thousands of digits or characters)."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        v = int(value)
        digits = len(str(abs(v))) if v.bit_length() < 4000 else int(v.bit_length() * 0.30103) + 1
        return f"{v:,}" if digits <= 24 else f"an integer with {digits:,} digits"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:40]) + f"... ({len(value):,} characters)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple, dict)):
        kind = "an object" if isinstance(value, dict) else "a list"
        return f"{kind} of {len(value):,} {'entry' if len(value) == 1 else 'entries'}"
    if value is None:
        return "nothing (null)"
    return f"a value of type {type(value).__name__}"


def fmt_bytes(n: float) -> str:
    """1536 -> '1.5 KB'; decimal units, as the budget is usually given."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n} TB"  # pragma: no cover  (the loop always returns)


# ---------------------------------------------------------------- type and range checks
def is_int(value: Any) -> bool:
    """True for Python and numpy integers, False for bools (True is not a count)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """True for Python and numpy ints and floats (not bools, not complex, not strings)."""
    return is_int(value) or isinstance(value, (float, np.floating))


def check_int(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` as an int when it is an integer (not a bool) in [lo, hi]; ``ValueError`` otherwise."""
    if not is_int(value) or not lo <= int(value) <= hi:
        raise ValueError(f"{name} must be an integer from {lo:,} to {hi:,}, got {show(value)}")
    return int(value)


def check_float(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a float when it is a finite real number in the interval; ``ValueError`` otherwise.

    The interval is [lo, hi], or open at an end with ``lo_open`` / ``hi_open`` (e.g. T > 0).
    """
    left, right = "(" if lo_open else "[", ")" if hi_open else "]"
    ok = is_real(value) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        raise ValueError(f"{name} must be a finite number in {left}{lo:g}, {hi:g}{right}, got {show(value)}")
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` when it is one of the strings ``choices``; ``ValueError`` naming them otherwise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {show(value)}")
    return value


def check_text(name: str, value: Any, max_len: int = TEXT_MAX) -> str:
    """``value`` when it is a string of at most ``max_len`` characters."""
    if not isinstance(value, str) or len(value) > max_len:
        raise ValueError(f"{name} must be text of at most {max_len:,} characters, got {show(value)}")
    return value


def check_ints(name: str, values: Any, lo: int, hi: int, min_count: int, max_count: int) -> tuple[int, ...]:
    """A list or tuple of ``min_count`` to ``max_count`` integers, each in [lo, hi] (its length checked first)."""
    if not isinstance(values, (list, tuple)) or not min_count <= len(values) <= max_count:
        raise ValueError(f"{name} must be a list of {min_count} to {max_count} integers, got {show(values)}")
    return tuple(check_int(f"each entry of {name}", v, lo, hi) for v in values)


def check_count(name: str, n: int, hi: int) -> int:
    """A count of things (entries, members, records) of at most ``hi``, checked before they are looked at."""
    if n > hi:
        raise ValueError(f"{name} has {n:,} entries; at most {hi:,} are allowed")
    return n


# ---------------------------------------------------------------- memory
def physical_memory() -> int | None:
    """Bytes of physical memory (os.sysconf), or None where the system does not say."""
    try:
        n = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    return int(n) if n > 0 else None


def _address_space_limit() -> int | None:
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def max_bytes() -> int:
    """The memory budget of one request, in bytes.

    ``ISINGVIZ_MAX_BYTES`` (a positive integer) when set; otherwise a quarter of the physical memory (4 GB when
    unknown). Never more than half of the process's address-space limit (RLIMIT_AS) when one is set.
    """
    text = os.environ.get("ISINGVIZ_MAX_BYTES", "").strip()
    if text:
        try:
            budget = int(text)
        except ValueError:
            budget = 0
        if budget < 1:
            raise ValueError(f"ISINGVIZ_MAX_BYTES must be a positive number of bytes, got {show(text)}")
    else:
        budget = (physical_memory() or 16 * 10**9) // 4
    cap = _address_space_limit()
    return min(budget, cap // 2) if cap else budget


def array_bytes(*shape: int, itemsize: int = 8) -> int:
    """Bytes of an array of ``shape`` (float64 by default); Python ints, so huge shapes do not overflow."""
    n = itemsize
    for s in shape:
        n *= max(0, int(s))
    return n


def check_memory(nbytes: int, what: str) -> int:
    """Refuse a request whose estimated memory ``nbytes`` is over ``max_bytes()``, before it allocates anything.

    ``what`` names the request ("simulating 1,000,000 instances of L = 40, M = 50").
    """
    budget = max_bytes()
    if nbytes > budget:
        raise ValueError(
            f"{what} would need about {fmt_bytes(nbytes)} of memory, over the budget of {fmt_bytes(budget)}"
            " (ISINGVIZ_MAX_BYTES); ask for fewer or smaller instances"
        )
    return nbytes
