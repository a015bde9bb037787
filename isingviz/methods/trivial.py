"""The trivial guess "no edge anywhere", the reference level beside every accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Reconstructor


class Trivial(Reconstructor):
    """The trivial guess "no edge anywhere": P(edge) = 0 for every pair (reference for every accuracy).

    Its accuracy is the fraction of non-edges, 1 - 25/66 = 0.621 for the paper's lattices. Under ``top_e`` the
    (all equal) scores pick the first E pairs, an arbitrary guess.
    """

    name = "trivial"
    has_proba = True

    def __init__(self) -> None:
        pass

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        B, L, _ = x.shape
        p1 = np.zeros((B, L * (L - 1) // 2))
        return p1, np.stack([1.0 - p1, p1], axis=-1)
