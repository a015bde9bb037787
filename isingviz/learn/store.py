"""Model files: one self-describing ``NAME.safetensors`` per network, loaded without pickle.

The safetensors header metadata holds one key, ``"isingviz"``, whose value is a JSON document::

    {"format": "isingviz-model", "version": 1, "model_config": {...}, "train_config": {...} | null,
     "T": 0.4, "tau": 0.1, "M": 50, "encoding": "saturation", "dataset": {...} | null,
     "history": [{...}, ...], "metrics": {...}, "package_version": "0.1.0", "created": "2025-...Z",
     "name": "...", "notes": "..."}

``load_model`` reads the header with the strict JSON reader (``isingviz.safejson``), checks the metadata document
(``isingviz.learn.metadata``: every config range before any layer is built, the dataset recipe, history and
metrics), then the tensor names, shapes and dtypes against the parameter count the config allows, before
deserializing anything; it rebuilds the network with ``build_model`` and never calls pickle or ``torch.load``.
Every problem is a ``ValueError`` with one sentence saying what is wrong; a file that loads can be used.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch
from torch import nn

from .. import __version__, safejson
from ..files import atomic_write
from ..limits import T_MAX, T_MIN, TEXT_MAX, check_float, check_text, show
from .cnn import encode
from .general.net import batch_within_budget
from .metadata import FORMAT, VERSION, check_document
from .metadata import jsonable as _jsonable
from .model_config import GENERAL_ARCHITECTURES, ModelConfig
from .networks import build_model, expected_shapes, n_parameters
from .train import predict_log_proba

META_KEY = "isingviz"
SUFFIX = ".safetensors"
MAX_HEADER_BYTES = 16_000_000  # header JSON (metadata + tensor table); a long history is ~1 MB
MAX_TENSORS = 1_000  # entries of the tensor table (the CNNs have 10, the general model 15)
_NOT_SAFETENSORS = "this looks like a pickle / torch.save file; only .safetensors model files are accepted"


def model_to_bytes(
    model: nn.Module,
    config: ModelConfig,
    *,
    T: float,
    tau: float,
    dataset: dict | None = None,
    train_config: dict | None = None,
    history: list | None = None,
    metrics: dict | None = None,
    name: str | None = None,
    notes: str | None = None,
    created: str | None = None,
) -> bytes:
    """The model file's content: float32 weights of ``model.state_dict()`` plus the JSON metadata document.

    ``tau`` must equal ``config.tau``; ``T`` must be finite and > 0. ``dataset`` and ``train_config`` may be
    dicts or objects with ``to_dict()`` (``DatasetSpec``, ``TrainConfig``). ``created`` (ISO time, default now)
    fixes the timestamp, so that the same training can give the same bytes.
    """
    config.validate()
    T = check_float("temperature T", T, T_MIN, T_MAX)
    tau = check_float("time step tau", tau, 0.0, 1.0, lo_open=True)
    if tau != config.tau:
        raise ValueError(f"tau={tau} differs from the model config's tau={config.tau}; they must match")
    expected = expected_shapes(config)
    state = model.state_dict()
    got = {k: tuple(v.shape) for k, v in state.items()}
    if got != expected:
        raise ValueError(f"the model's weights do not match build_model(config): {_shape_diff(expected, got)}")
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in state.items()}
    if not all(bool(torch.isfinite(t).all()) for t in tensors.values()):
        raise ValueError("the model has NaN or infinite weights; refusing to save it")
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": config.to_dict(),
        "train_config": _jsonable(train_config, "train_config"),
        "T": T,
        "tau": tau,
        "M": config.M,
        "encoding": config.encoding,
        "dataset": _jsonable(dataset, "dataset"),
        "history": _jsonable(list(history or []), "history"),
        "metrics": _jsonable(dict(metrics or {}), "metrics"),
        "package_version": __version__,
        "created": created or datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    for key, text in (("name", name), ("notes", notes)):
        if text is not None:
            doc[key] = check_text(key, text, TEXT_MAX)
    meta = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    return safetensors.torch.save(tensors, metadata={META_KEY: meta})


def save_model(
    path: str | os.PathLike,
    model: nn.Module,
    config: ModelConfig,
    *,
    T: float,
    tau: float,
    dataset: dict | None = None,
    train_config: dict | None = None,
    history: list | None = None,
    metrics: dict | None = None,
    name: str | None = None,
    notes: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model_to_bytes(...)`` (same arguments) to ``path`` (must end in .safetensors) atomically.

    A temporary file in the same folder is renamed into place; an existing file is never replaced unless
    ``overwrite=True`` (otherwise ``ValueError``). Returns the path written.
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        raise ValueError(f"model files must end in {SUFFIX}, got {show(path.name)}")
    if path.exists() and not overwrite:
        raise ValueError(f"a model file {path.name} already exists; choose another name or allow it to be replaced")
    data = model_to_bytes(
        model,
        config,
        T=T,
        tau=tau,
        dataset=dataset,
        train_config=train_config,
        history=history,
        metrics=metrics,
        name=name,
        notes=notes,
    )
    return atomic_write(path, data, overwrite=overwrite)


def _names(keys: list[str]) -> str:
    shown = ", ".join(show(k) for k in keys[:5])
    return shown + (f" and {len(keys) - 5:,} more" if len(keys) > 5 else "")


def _shape_diff(expected: dict[str, tuple], got: dict[str, tuple]) -> str:
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    wrong = [
        f"{k}: {got[k]} instead of {expected[k]}" for k in sorted(set(expected) & set(got)) if got[k] != expected[k]
    ]
    parts = [f"missing {_names(missing)}"] * bool(missing) + [f"unexpected {_names(extra)}"] * bool(extra) + wrong[:5]
    return "; ".join(parts)


def _read_source(source: str | os.PathLike | bytes, max_bytes: int) -> tuple[bytes, Path | None]:
    """The file's bytes, refusing anything over ``max_bytes`` (a path's size is checked before reading)."""
    path, what = None, "model data"
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        what = f"model file {path.name}"
        if not path.is_file():
            raise ValueError(f"no model file named {show(path.name)} (it does not exist or is not a regular file)")
        if path.stat().st_size > max_bytes:
            raise ValueError(f"{what} is {path.stat().st_size:,} bytes, over the limit of {max_bytes:,}")
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{what} is over the limit of {max_bytes:,} bytes ({len(data):,} read)")
    return data, path


def _parse_header(data: bytes) -> dict[str, Any]:
    """The safetensors header: u64 little-endian length N, then N bytes of JSON (tensor table + metadata)."""
    if len(data) < 8:
        raise ValueError(f"not a model file: {len(data)} bytes, shorter than the 8-byte safetensors header length")
    (n,) = struct.unpack("<Q", data[:8])
    plausible = 2 <= n <= min(len(data) - 8, MAX_HEADER_BYTES) and data[8:9] == b"{"
    # a safetensors header opens its JSON at byte 8 (a truncated file too), whatever its length's first byte (0x80
    # like a pickle's opcode when the length is 128 mod 256)
    sniffed = data[8:9] != b"{" and (data[:1] == b"\x80" or data[:4] == b"PK\x03\x04")
    if not plausible and sniffed:
        raise ValueError(_NOT_SAFETENSORS)
    if not plausible:
        raise ValueError(f"not a safetensors file: header length {n:,} is absurd for a file of {len(data):,} bytes")
    header = safejson.loads(data[8 : 8 + n], "the safetensors header", max_bytes=MAX_HEADER_BYTES)
    if not isinstance(header, dict):
        raise ValueError("not a safetensors file: the header is not a JSON object")
    if len(header) > MAX_TENSORS + 1:  # checked first: every later step walks the table
        raise ValueError(f"the file lists {len(header) - 1:,} tensors; a model has at most {MAX_TENSORS:,}")
    return header


def _check_metadata(header: dict[str, Any]) -> tuple[dict[str, Any], ModelConfig]:
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        raise ValueError("not an isingviz model file: the safetensors header has no '__metadata__'")
    text = meta.get(META_KEY)
    if not isinstance(text, str):
        raise ValueError(f"not an isingviz model file: the metadata has no {META_KEY!r} entry")
    doc = safejson.loads(text, f"the {META_KEY!r} metadata", max_bytes=MAX_HEADER_BYTES)
    return doc, check_document(doc)


def _check_tensors(header: dict[str, Any], config: ModelConfig) -> None:
    table = {k: v for k, v in header.items() if k != "__metadata__"}
    for k, v in table.items():
        shape = v.get("shape") if isinstance(v, dict) else None
        if not isinstance(shape, list) or len(shape) > 8 or not all(type(d) is int and d >= 0 for d in shape):
            raise ValueError(f"tensor {show(k)} has a malformed header entry")
        if v.get("dtype") != "F32":
            dtype = show(v.get("dtype"))
            raise ValueError(f"tensor {show(k)} has dtype {dtype}; only float32 (F32) weights are accepted")
    got = {k: tuple(v["shape"]) for k, v in table.items()}
    expected = expected_shapes(config)  # the config's ranges and parameter count were checked first
    if got != expected:
        raise ValueError(f"the weights do not match the architecture in model_config: {_shape_diff(expected, got)}")


@dataclass
class LoadedModel:
    """A checked network with its metadata. ``model`` is on the CPU in eval mode."""

    metadata: dict[str, Any]
    config: ModelConfig
    model: nn.Module
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.metadata.get("name") or (self.path.stem if self.path else "unnamed")

    @property
    def T(self) -> float:
        return float(self.metadata["T"])

    @property
    def tau(self) -> float:
        return float(self.metadata["tau"])

    def log_proba(self, instances: np.ndarray, T: Any = None) -> np.ndarray:
        """Instances (B, L, M) -> log-probabilities (B, K, 2) float64; one (L, M) instance -> (K, 2).

        CNNs read instances of their own L, M and T. The general model (``arch="general"``) reads any L and M and
        needs the instances' temperature ``T`` (a scalar or one per instance); this is the network as stored (its
        head included): the general model as shipped adds the evidence gate on Eq. 1 data
        (``isingviz.methods.general.general_proba``, ``reconstruct("general", ...)``).
        """
        x = np.asarray(instances, dtype=np.float64)
        single = x.ndim == 2
        x = x[None] if single else x
        if self.is_general:
            if T is None:
                raise ValueError("the general model needs the temperature T of the instances")
            if x.ndim != 3 or not 2 <= x.shape[1] <= 64 or x.shape[2] < 3:
                raise ValueError(f"instances must have shape (B, L, M) with 2 <= L <= 64 and M >= 3, got {x.shape}")
            T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (x.shape[0],)).copy()
            if not (np.all(np.isfinite(T_arr)) and np.all(T_arr > 0)):
                raise ValueError(f"temperature T must be finite and > 0, got {show(T)}")
            step = batch_within_budget(x.shape[1], x.shape[2], 256)
            with torch.no_grad():
                out = np.concatenate(
                    [
                        self.model(x[i : i + step], T_arr[i : i + step], self.config.tau).double().numpy()
                        for i in range(0, x.shape[0], step)
                    ]
                )
            return out[0] if single else out
        L, M = self.config.L, self.config.M
        if x.ndim != 3 or x.shape[1:] != (L, M):
            raise ValueError(f"instances must have shape (B, {L}, {M}) or ({L}, {M}) for this model, got {x.shape}")
        logp = predict_log_proba(self.model, encode(x, self.config.encoding, self.config.tau))  # (B, K, 2)
        out = logp.double().numpy()
        return out[0] if single else out

    def predict_proba(self, instances: np.ndarray, T: Any = None) -> np.ndarray:
        """Instances (B, L, M) -> p (B, K, 2), rows summing to 1 (index 1 = edge); (L, M) -> (K, 2)."""
        p = np.exp(self.log_proba(instances, T))
        return p / p.sum(axis=-1, keepdims=True)

    @property
    def is_general(self) -> bool:
        """True for the general model family (any L and M, temperature given per call)."""
        return self.config.arch in GENERAL_ARCHITECTURES

    def summary(self) -> str:
        c, m = self.config, self.metadata.get("metrics", {})
        acc = m.get("test_accuracy", m.get("accuracy"))
        if acc is None:
            acc = next((h.get("test_accuracy") for h in reversed(self.metadata.get("history", [])) if h), None)
        text = (
            f"{self.name}: {c.arch} L={c.L} M={c.M} encoding={c.encoding} T={self.T:g} tau={self.tau:g},"
            f" {n_parameters(self.model):,} parameters, {len(self.metadata.get('history', []))} epochs"
        )
        return text + (f", test accuracy {acc:.4f}" if isinstance(acc, (int, float)) else "")


def load_model(source: str | os.PathLike | bytes, *, max_bytes: int = 50_000_000) -> LoadedModel:
    """Read and check a model file (path or bytes); ``ValueError`` saying what is wrong when it is refused."""
    data, path = _read_source(source, max_bytes)
    header = _parse_header(data)
    doc, config = _check_metadata(header)
    _check_tensors(header, config)
    try:
        tensors = safetensors.torch.load(data)
    except Exception as e:  # safetensors' own error type for truncated or inconsistent files
        raise ValueError(f"corrupt or truncated safetensors file: {str(e).splitlines()[0][:200]}") from None
    for k, t in tensors.items():
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"tensor {show(k)} holds NaN or infinite weights")
    model = build_model(config)
    model.load_state_dict(tensors, strict=True)
    return LoadedModel(metadata=doc, config=config, model=model.eval(), path=path)


def list_models(folder: str | os.PathLike) -> list[Path]:
    """The ``*.safetensors`` files in ``folder`` (not recursive), sorted by name; [] if it does not exist."""
    folder = Path(folder)
    return sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file()) if folder.is_dir() else []
