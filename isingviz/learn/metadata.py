"""The JSON metadata document of a model file, checked field by field before anything is built from it.

``check_document`` is what ``store.load_model`` asks of a file's ``"isingviz"`` metadata: the format and version,
the ``ModelConfig`` (every range checked before a layer is built), T, the fields that must agree with the config,
and the fields the app and the command line read later: the dataset recipe (a ``DatasetSpec`` for a CNN, the
``GeneralTrainConfig`` of a general model), the training settings, the history records and the metrics. A document
that passes can be used: nothing read from it later can hang, allocate without bound or raise a raw error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..data import DatasetSpec
from ..limits import EPOCHS_MAX, STEPS_MAX, T_MAX, T_MIN, TEXT_MAX, check_count, check_float, check_text, is_real, show
from .general.train import GeneralTrainConfig
from .model_config import GENERAL_ARCHITECTURES, ModelConfig
from .train import TrainConfig

FORMAT = "isingviz-model"
VERSION = 1
HISTORY_MAX = EPOCHS_MAX + STEPS_MAX // 10  # records: one per epoch (CNN) or per at least 10 steps (general)
RECORD_KEYS_MAX = 64  # fields of one history record (training writes 8 or 9)
# metrics the app reads as numbers (accuracies, counts, seconds): each must be a finite number or null
NUMERIC_METRICS = (
    "accuracy",
    "test_accuracy",
    "trivial_accuracy",
    "majority_accuracy",
    "held_out_accuracy",
    "seconds",
    "best_epoch",
    "steps_done",
    "n_parameters",
    "threads",
)


def jsonable(x: Any, where: str) -> Any:
    """Plain JSON types: dicts with str keys, lists, str, bool, int, finite float (NaN/inf -> None)."""
    if hasattr(x, "to_dict"):
        x = x.to_dict()
    if isinstance(x, dict):
        return {str(k): jsonable(v, where) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [jsonable(v, where) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if x is None or isinstance(x, (str, bool, int)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    raise ValueError(f"{where} must hold only JSON values (dict, list, str, number, bool, None), got {type(x)}")


def _number_or_null(value: Any) -> bool:
    return value is None or isinstance(value, bool) or (is_real(value) and math.isfinite(float(value)))


def _check_history(history: Any) -> None:
    if not isinstance(history, list):
        raise ValueError(f"metadata 'history' must be a list of records, got {show(history)}")
    check_count("metadata 'history'", len(history), HISTORY_MAX)
    for n, record in enumerate(history):
        if not isinstance(record, dict) or len(record) > RECORD_KEYS_MAX:
            raise ValueError(f"metadata 'history' record #{n} must be an object of at most {RECORD_KEYS_MAX} numbers")
        for key, value in record.items():
            if not _number_or_null(value):
                raise ValueError(f"metadata 'history' record #{n} has {show(key)} = {show(value)}; numbers only")


def _check_metrics(metrics: Any) -> None:
    if not isinstance(metrics, dict):
        raise ValueError(f"metadata 'metrics' must be an object, got {show(metrics)}")
    for part in (metrics, metrics.get("general")):
        if isinstance(part, dict):
            for key in NUMERIC_METRICS:
                if not _number_or_null(part.get(key)):
                    raise ValueError(f"metadata metric {key!r} must be a finite number, got {show(part.get(key))}")


def _check_section(doc: Mapping[str, Any], key: str, kind: type, general: bool) -> None:
    """``dataset`` / ``train_config``: null or absent, or the dataclass a model of this kind is trained with."""
    value = doc.get(key)
    if value is None:
        return
    try:
        kind.from_dict(value)  # type: ignore[attr-defined]
    except ValueError as e:
        what = "a general model's" if general else "a CNN's"
        raise ValueError(f"metadata {key!r} is not {what} {key.replace('_', ' ')}: {e}") from None


def check_document(doc: Any) -> ModelConfig:
    """Check a model file's metadata document (parsed strict JSON); returns its ``ModelConfig``.

    ``ValueError`` with one sentence naming the first field that is wrong and what is allowed.
    """
    if not isinstance(doc, dict):
        raise ValueError("the 'isingviz' metadata must be a JSON object")
    if doc.get("format") != FORMAT:
        raise ValueError(f"metadata format is {show(doc.get('format'))}, expected {FORMAT!r}")
    if doc.get("version") != VERSION or isinstance(doc.get("version"), bool):
        version = show(doc.get("version"))
        raise ValueError(f"metadata version {version} is not supported (this isingviz reads {VERSION})")
    try:
        config = ModelConfig.from_dict(doc.get("model_config"))
    except ValueError as e:
        raise ValueError(f"metadata 'model_config' is refused: {e}") from None
    try:
        check_float("metadata 'T'", doc.get("T"), T_MIN, T_MAX)
    except ValueError:
        raise ValueError(f"metadata 'T' must be a finite number > 0, got {show(doc.get('T'))}") from None
    for key, want in (("tau", config.tau), ("M", config.M), ("encoding", config.encoding)):
        if doc.get(key) != want or isinstance(doc.get(key), bool):
            raise ValueError(f"metadata {key!r}={show(doc.get(key))} contradicts model_config's {show(want)}")
    general = config.arch in GENERAL_ARCHITECTURES
    _check_section(doc, "dataset", GeneralTrainConfig if general else DatasetSpec, general)
    _check_section(doc, "train_config", GeneralTrainConfig if general else TrainConfig, general)
    _check_history(doc.get("history"))
    _check_metrics(doc.get("metrics"))
    for key in ("name", "notes"):
        if doc.get(key) is not None:
            check_text(f"metadata {key!r}", doc[key], TEXT_MAX)
    return config
