"""What the server keeps for each visitor of the app, by a token the visitor's link carries: their current lattice
and the models they trained or uploaded, so that a reload or a reopened link finds them again.

A token is random (``new_token``: 128 bits, URL-safe) and is the only key: a visitor sees their own entry and no
one else's. The store is bounded: at most ``max_visitors`` entries (the least recently seen is dropped first), at
most ``max_models`` models each (the oldest is dropped first), and an entry not seen for ``idle_seconds``
(``ISINGVIZ_VISITOR_SECONDS``, default a day) is forgotten. Models a visitor saves to disk go to their own folder
(``model_folder``), never to another visitor's.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_token() -> str:
    return secrets.token_urlsafe(16)


def valid_token(token: Any) -> bool:
    """A token this module could have made (so that it is safe as a folder name and as a URL parameter)."""
    return isinstance(token, str) and TOKEN_RE.fullmatch(token) is not None


@dataclass
class Visitor:
    """One visitor's state. ``models`` keeps insertion order (oldest first)."""

    token: str
    seen: float
    lattice: np.ndarray | None = None
    models: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    data: dict[str, Any] = field(default_factory=dict)  # other small per-visitor values (the app's choices)


class VisitorStore:
    """Visitors by token, bounded in number, size and time (see the module's docstring). Thread-safe."""

    def __init__(
        self,
        *,
        max_visitors: int = 500,
        max_models: int = 8,
        idle_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_visitors, self.max_models = max_visitors, max_models
        if idle_seconds is None:
            raw = os.environ.get("ISINGVIZ_VISITOR_SECONDS", "86400")
            try:
                idle_seconds = float(raw)
            except ValueError:
                raise ValueError(f"ISINGVIZ_VISITOR_SECONDS must be a number of seconds, got {raw!r}") from None
        if not idle_seconds > 0:
            raise ValueError(f"the visitors' idle time must be > 0 seconds, got {idle_seconds}")
        self.idle_seconds, self.clock = float(idle_seconds), clock
        self._lock = threading.Lock()
        self._visitors: OrderedDict[str, Visitor] = OrderedDict()

    def get(self, token: str) -> Visitor:
        """The visitor ``token`` (a new, empty entry when unknown or forgotten); marks them as seen now."""
        if not valid_token(token):
            raise ValueError("a visitor token is 16 to 64 letters, digits, '-' or '_'")
        now = self.clock()
        with self._lock:
            self._forget_idle(now)
            v = self._visitors.pop(token, None) or Visitor(token, now)
            v.seen = now
            self._visitors[token] = v  # most recently seen last
            while len(self._visitors) > self.max_visitors:
                self._visitors.popitem(last=False)
            return v

    def add_model(self, token: str, name: str, model: Any) -> str:
        """Keep ``model`` as ``name`` for ``token`` (the oldest model goes when there are ``max_models``)."""
        v = self.get(token)
        with self._lock:
            v.models.pop(name, None)
            v.models[name] = model
            while len(v.models) > self.max_models:
                v.models.popitem(last=False)
        return name

    def __len__(self) -> int:
        with self._lock:
            return len(self._visitors)

    def __contains__(self, token: object) -> bool:
        with self._lock:
            return token in self._visitors

    def _forget_idle(self, now: float) -> None:
        for token in [t for t, v in self._visitors.items() if now - v.seen > self.idle_seconds]:
            del self._visitors[token]


def model_folder(root: str | os.PathLike, token: str) -> Path:
    """Where ``token``'s saved models live: ``root/visitors/TOKEN`` (``root/*.safetensors`` are the shared ones an
    operator put there, offered to everyone)."""
    if not valid_token(token):
        raise ValueError("a visitor token is 16 to 64 letters, digits, '-' or '_'")
    return Path(root) / "visitors" / token
