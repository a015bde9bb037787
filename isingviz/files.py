"""Files the package writes and the one binary format it reads from outside.

``atomic_write`` puts bytes in place through a temporary file in the same folder and a rename, so a crash leaves
either the old state or the whole new file (never a truncated one that a rerun would refuse as "already there").

``read_npz`` reads an ``.npz`` archive (``numpy.savez``) the safe way: the zip directory's size is checked first,
then only the members asked for are read, one at a time; each member's ``.npy`` header (dtype, shape) is checked
before its data is decompressed, and only exactly the bytes the header announces are read, so a small archive that
expands to gigabytes costs nothing. Numeric real arrays and short string scalars are accepted, nothing else, and
pickles never (no ``allow_pickle``).
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .limits import NPZ_BYTES_MAX, NPZ_MEMBERS_MAX, STRING_SCALAR_MAX, array_bytes, check_memory, fmt_bytes, max_bytes

_EOCD = b"PK\x05\x06"  # zip "end of central directory" signature
_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float (no complex, object, structured, datetime)


def atomic_write(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename); returns the path.

    The folder is created if needed. Without ``overwrite`` an existing file is never replaced (``ValueError``), even
    one that appears while writing. A leftover temporary file of a crashed run (``.NAME.*.tmp``) is harmless.
    """
    path = Path(path)
    exists = f"{path.name} already exists; choose another name or allow it to be replaced"
    if path.exists() and not overwrite:
        raise ValueError(exists)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; files written here are meant to be read by others (the app)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic, and fails if the target appeared meanwhile
            except FileExistsError:
                raise ValueError(exists) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _member_count(data: bytes) -> int:
    """Members listed in a zip's end-of-central-directory record (read before zipfile builds its index)."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))  # the record (22 bytes) plus at most a 64 KB comment
    if at < 0 or at + 22 > len(data):
        raise ValueError("it is not an .npz file (no zip directory found)")
    (count,) = struct.unpack("<H", data[at + 10 : at + 12])
    return count  # 0xFFFF means a zip64 directory, i.e. 65,535 members or more


def _read_member(zf: zipfile.ZipFile, name: str, budget: int) -> np.ndarray | str:
    info = zf.getinfo(f"{name}.npy")
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=10_000)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=10_000)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, SyntaxError, TypeError):  # a damaged or foreign header (numpy's own words vary)
            raise ValueError(f"member {name!r} is not a readable .npy array (no valid .npy header)") from None
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError(f"member {name!r} holds objects or records; only plain numbers and short text are read")
        if dtype.kind == "U":
            if shape != () or dtype.itemsize > 4 * STRING_SCALAR_MAX:
                raise ValueError(
                    f"member {name!r} must be one short string (at most {STRING_SCALAR_MAX} characters),"
                    f" got text of shape {shape} and item size {dtype.itemsize}"
                )
        elif dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(f"member {name!r} has dtype {dtype}; only real numbers (bool, int, float) are read")
        nbytes = array_bytes(*shape, itemsize=dtype.itemsize)
        if nbytes > budget:
            raise ValueError(
                f"member {name!r} of shape {shape} expands to {fmt_bytes(nbytes)}, over the limit of"
                f" {fmt_bytes(budget)} for one file"
            )
        arr = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
        flat = arr.reshape(-1, order="A").view(np.uint8)  # the array's own bytes, filled in place
        done = 0
        while done < nbytes:  # decompress exactly what the header announced, never more, 4 MB at a time
            chunk = f.read(min(nbytes - done, 1 << 22))
            if not chunk:
                raise ValueError(f"member {name!r} is truncated: {done:,} of {nbytes:,} bytes")
            flat[done : done + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            done += len(chunk)
    return str(arr.item()) if dtype.kind == "U" else arr


def read_npz(
    source: str | os.PathLike[str] | bytes, names: Iterable[str], *, limit: int | None = None
) -> dict[str, np.ndarray | str]:
    """The members ``names`` of an ``.npz`` (path or bytes) that it holds: arrays, or str for string scalars.

    Allowed: a zip of at most ``NPZ_MEMBERS_MAX`` members; each member asked for a ``.npy`` of real numbers (bool,
    int, float, any shape) or one string of at most ``STRING_SCALAR_MAX`` characters; at most ``limit`` bytes
    decompressed in all (default: ``NPZ_BYTES_MAX`` or the memory budget ``limits.max_bytes()``, the smaller).
    Members not asked for are never read; names asked for but absent are left out of the result (the caller says
    which ones it needs).
    ``ValueError`` says what is wrong otherwise.
    """
    budget = min(NPZ_BYTES_MAX, max_bytes()) if limit is None else limit
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, what = bytes(source), "the .npz data"
    else:
        p = Path(source)
        what = f"{p.name}"
        if not p.is_file():
            raise ValueError(f"instance file {p.name!r} does not exist or is not a file")
        size = p.stat().st_size
        if size > budget:
            raise ValueError(f"{what} is {fmt_bytes(size)}, over the limit of {fmt_bytes(budget)}")
        data = p.read_bytes()
    check_memory(len(data), f"reading {what}")
    try:
        count = _member_count(data)
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None
    if count > NPZ_MEMBERS_MAX:
        raise ValueError(f"{what} lists {count:,} members; an .npz of instances holds at most {NPZ_MEMBERS_MAX}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ValueError(f"{what} is not a valid .npz (zip) file: {e}") from None
    out: dict[str, np.ndarray | str] = {}
    with zf:
        present = set(zf.namelist())
        for name in names:
            if f"{name}.npy" not in present:
                continue
            try:
                out[name] = _read_member(zf, name, budget)
            except ValueError as e:
                raise ValueError(f"{what}: {e}") from None
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
                raise ValueError(f"{what}: member {name!r} cannot be read ({str(e)[:120]})") from None
            value = out[name]
            budget -= value.nbytes if isinstance(value, np.ndarray) else 0
    return out
