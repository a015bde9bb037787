"""Finished tasks of a sweep, kept under its output folder so that a stopped sweep resumes where it stopped.

One file per task, ``OUT/.cache/NAME[_quick]/KEY.json`` (config, result, seconds, device), and one file per byte
output a later stage needs (a pre-trained model), ``OUT/.cache/blobs/SHA256.bin``. ``KEY`` hashes the sweep, the
stage, the task function, its config (which names the sha256 of every model file it reads) and the hash of the
source of the modules that compute it (``sources.source_hash``): not the package version, which never changes,
nor the git commit, which changes with every unrelated edit. Errors are never cached, so a resumed sweep retries
them. Writes are atomic (temp file + rename): a sweep killed mid-write leaves no truncated entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..files import atomic_write
from .sources import source_hash


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def task_key(sweep: str, stage: int, task: Callable[..., Any], cfg: Mapping[str, Any]) -> str:
    """The cache key of one task (see the module's docstring)."""
    doc = {
        "sweep": sweep,
        "stage": stage,
        "task": f"{task.__module__}.{task.__qualname__}",
        "source": source_hash(task.__module__),
        "config": cfg,
    }
    return sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())


class TaskCache:
    """The finished tasks of one sweep in ``folder`` (``OUT/.cache/NAME[_quick]``), blobs in ``folder/../blobs``."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.blobs = self.folder.parent / "blobs"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached record (result, seconds, device) of ``key``, or None when absent, unreadable or incomplete."""
        path = self.folder / f"{key}.json"
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        outputs = (rec.get("result") or {}).get("outputs") or {}
        if not all((self.blobs / f"{sha}.bin").is_file() for sha in outputs.values()):
            return None
        return rec

    def put(self, key: str, record: Mapping[str, Any], blobs: Mapping[str, bytes]) -> None:
        """Store a finished task and the blobs its outputs name (blobs first: an entry never names a missing one)."""
        for sha in (record.get("result") or {}).get("outputs", {}).values():
            path = self.blobs / f"{sha}.bin"
            if not path.is_file():
                atomic_write(path, blobs[sha], overwrite=True)
        atomic_write(self.folder / f"{key}.json", json.dumps(record, allow_nan=False).encode(), overwrite=True)

    def blob(self, sha: str) -> bytes | None:
        path = self.blobs / f"{sha}.bin"
        return path.read_bytes() if path.is_file() else None
