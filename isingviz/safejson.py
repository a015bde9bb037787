"""One strict JSON reader for everything that comes from outside: lattice files, model metadata, config files.

``loads`` refuses, each with one sentence: documents over a size limit, nesting deeper than
``limits.JSON_DEPTH_MAX`` (checked on the text before parsing, so a 100,000-deep document costs one pass and no
recursion), NaN / Infinity and numbers that overflow to them (1e400), integers of more than
``limits.JSON_INT_DIGITS_MAX`` digits, and duplicate keys (a second reader could keep the other value). A UTF-8
byte-order mark is tolerated. ``load_file`` adds the file-size check before reading.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .limits import JSON_DEPTH_MAX, JSON_INT_DIGITS_MAX, fmt_bytes

_BOM = b"\xef\xbb\xbf"


class _Refused(ValueError):
    """A value the strict reader does not accept (raised from inside json's hooks)."""


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number JSON allows")


def _float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise _Refused(f"the number {text[:30]} is out of range")
    return v


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > JSON_INT_DIGITS_MAX:
        raise _Refused(f"an integer with {digits:,} digits is too long (at most {JSON_INT_DIGITS_MAX})")
    return int(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _Refused(f"the key {dup[:40]!r} appears twice")
    return d


def nesting_depth(data: bytes, chunk: int = 1 << 20) -> int:
    """Deepest nesting of [ and { in a JSON text, brackets inside strings not counted.

    Vectorised passes over ``chunk`` bytes at a time (no recursion, no backtracking, ~60 bytes of scratch per byte
    of a chunk): a quote opens or closes a string unless an odd number of backslashes precedes it; brackets between
    an opening and a closing quote do not count.
    """
    depth = best = inside = run = 0  # carried from chunk to chunk; ``run``: backslashes just before the chunk
    for start in range(0, len(data), chunk):
        arr = np.frombuffer(data, dtype=np.uint8, count=min(chunk, len(data) - start), offset=start)
        idx = np.arange(arr.size)
        last_plain = np.maximum.accumulate(np.where(arr != ord("\\"), idx, -1))  # last non-backslash <= i
        prev = np.concatenate(([-1], last_plain[:-1]))  # last non-backslash < i
        run_before = np.where(prev >= 0, idx - 1 - prev, run + idx)  # backslashes right before i
        quote = (arr == ord('"')) & (run_before % 2 == 0)
        quotes = np.cumsum(quote)
        outside = (inside + quotes - quote) % 2 == 0  # not between an opening quote and its closing one
        steps = (((arr == ord("[")) | (arr == ord("{"))) & outside).astype(np.int64)
        steps -= ((arr == ord("]")) | (arr == ord("}"))) & outside
        levels = depth + np.cumsum(steps)
        best, depth = max(best, int(levels.max())), int(levels[-1])
        inside = int(inside + quotes[-1]) % 2
        run = arr.size - 1 - int(last_plain[-1]) if last_plain[-1] >= 0 else run + arr.size
    return best


def loads(data: bytes | str, what: str, *, max_bytes: int, max_depth: int = JSON_DEPTH_MAX) -> Any:
    """Parse ``data`` (UTF-8 bytes, an optional BOM, or str) strictly; ``ValueError`` naming ``what`` if refused.

    Allowed: at most ``max_bytes`` bytes, nesting at most ``max_depth`` deep, finite numbers, integers of at most
    ``JSON_INT_DIGITS_MAX`` digits, every key of an object once.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise ValueError(f"{what} is {fmt_bytes(len(raw))}, over the limit of {fmt_bytes(max_bytes)}")
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    depth = nesting_depth(raw)
    if depth > max_depth:
        raise ValueError(f"{what} is nested {depth:,} levels deep; at most {max_depth} are allowed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} is not UTF-8 text (byte {e.start:,} is not valid)") from None
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int, object_pairs_hook=_object)
    except _Refused as e:
        raise ValueError(f"{what} is refused: {e}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{what} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:  # unreachable after the depth check; kept so that no parser limit leaks out raw
        raise ValueError(f"{what} is nested too deeply; at most {max_depth} levels are allowed") from None


def load_file(path: str | os.PathLike[str], what: str, *, max_bytes: int, max_depth: int = JSON_DEPTH_MAX) -> Any:
    """``loads`` of a file, whose size is checked before it is read; a missing file is a ``ValueError``."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{what} {p.name!r} does not exist or is not a file")
    size = p.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{what} {p.name!r} is {fmt_bytes(size)}, over the limit of {fmt_bytes(max_bytes)}")
    with open(p, "rb") as f:
        return loads(f.read(max_bytes + 1), what, max_bytes=max_bytes, max_depth=max_depth)
