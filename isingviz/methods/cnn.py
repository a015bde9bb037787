"""A trained CNN (a model file of ``isingviz.learn``) in the reconstruction contract."""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

import numpy as np

from .base import Reconstructor


class CNN(Reconstructor):
    """A trained network (``isingviz.learn.store.LoadedModel``, or a model file path / bytes) in the same contract.

    Scores and probabilities are the network's p(edge) (``LoadedModel.predict_proba``); rule: threshold 1/2,
    i.e. argmax. The network knows what it was trained on (its own T, tau, L, M); a T given that differs from
    the model's is warned about, not refused (evaluating away from the training T is a legitimate experiment).
    """

    name = "cnn"
    has_proba = True

    def __init__(self, model: Any) -> None:
        if isinstance(model, (str, bytes, os.PathLike)):
            from ..learn.store import load_model  # torch model code is loaded only when a file is given

            model = load_model(model)
        if not callable(getattr(model, "predict_proba", None)):
            raise ValueError(f"cnn needs a LoadedModel (or a model file), got {type(model).__name__}")
        self.model = model

    def __repr__(self) -> str:
        return f"CNN(model={getattr(self.model, 'name', type(self.model).__name__)!r})"

    def _fit(self, x: np.ndarray, know: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        T_model = getattr(self.model, "T", None)
        if know.get("T") is not None and T_model is not None and not math.isclose(know["T"], T_model, rel_tol=1e-9):
            msg = f"cnn: instances at T={know['T']:g} but the network was trained at T={T_model:g}"
            warnings.warn(msg, stacklevel=3)
        p = np.asarray(self.model.predict_proba(x), dtype=np.float64)  # (B, K, 2)
        return p[..., 1].copy(), p
