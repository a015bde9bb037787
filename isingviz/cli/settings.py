"""How ``python -m isingviz train`` layers its settings: defaults < the base model's dataset (--init) <
--config FILE.json < flags given explicitly; and how ``train-general`` reads its ``--set key=value`` overrides.
Kept apart from the parser so the settings read as one idea."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from .. import safejson
from ..config import dataclass_from_dict
from ..data import DatasetSpec
from ..lattice import GENERATORS
from ..learn.evaluate import model_dataset_spec
from ..learn.general.recipe import RECIPE_FIELDS
from ..learn.general.train import GeneralTrainConfig
from ..learn.model_config import ARCHITECTURES, ENCODINGS, ModelConfig
from ..learn.store import LoadedModel
from ..learn.train import SCHEDULES, TrainConfig
from ..limits import show
from .checks import finite_float

_FAMILY_PARAMS = {"random": {"n_edges"}, "erdos_renyi": {"p"}, "ring": {"k"}, "grid": set(), "small_world": {"k", "p"}}


def _ints(text: str) -> list[int]:
    try:
        return [int(c) for c in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {show(text)}") from None


# train flags: (flag, section, field, type, choices, help); defaults come from the dataclasses, a flag given
# explicitly overrides --config, which overrides the defaults (and, with --init, the base model's dataset).

_TRAIN_FLAGS: list[tuple[str, str, str, Any, Any, str]] = [
    ("--L", "dataset", "L", int, None, "spins"),
    ("--family", "dataset", "family", str, list(GENERATORS), "lattice family"),
    ("--lattices", "dataset", "n_lattices", int, None, "N_L training lattices"),
    ("--n-train", "dataset", "n_train", int, None, "training instances, spread evenly over the lattices"),
    ("--n-test", "dataset", "n_test", int, None, "test instances: same lattices, unseen initial states"),
    ("--general-lattices", "dataset", "n_general_lattices", int, None, "unseen lattices (generalization split)"),
    ("--n-general", "dataset", "n_general", int, None, "instances on the unseen lattices"),
    ("--T", "dataset", "T", finite_float, None, "temperature"),
    ("--tau", "dataset", "tau", finite_float, None, "Euler time step"),
    ("--M", "dataset", "M", int, None, "time points per instance"),
    ("--mode", "dataset", "mode", str, ["meanfield", "stochastic"], "dynamics"),
    ("--replicas", "dataset", "replicas", int, None, "stochastic replicas averaged per instance"),
    ("--noise", "dataset", "noise", finite_float, None, "Gaussian observation noise sigma"),
    ("--seed", "dataset", "seed", int, None, "dataset seed (lattices, initial states, noise)"),
    ("--encoding", "model", "encoding", str, list(ENCODINGS), "network input encoding"),
    ("--arch", "model", "arch", str, list(ARCHITECTURES), "network architecture"),
    ("--channels", "model", "channels", _ints, None, "convolution channels, comma-separated"),
    ("--hidden", "model", "hidden", int, None, "dense layer width"),
    ("--epochs", "train", "epochs", int, None, "passes over the training set"),
    ("--batch-size", "train", "batch_size", int, None, "instances per optimiser step"),
    ("--lr", "train", "lr", finite_float, None, "peak learning rate"),
    ("--schedule", "train", "schedule", str, list(SCHEDULES), "learning-rate schedule"),
    ("--target-accuracy", "train", "target_accuracy", finite_float, None, "stop once test accuracy reaches this"),
    ("--train-seed", "train", "seed", int, None, "initialisation and batch-order seed"),
    ("--threads", "train", "threads", int, None, "torch CPU threads (None: all cores, at most 8)"),
    ("--device", "train", "device", str, ["auto", "cpu", "cuda"], "where to train"),
]

_SECTIONS = {"dataset": DatasetSpec(), "model": ModelConfig(), "train": TrainConfig()}


def _read_json(path: str, what: str) -> Any:
    """A JSON file given on the command line, read strictly (``isingviz.safejson``, at most 10 MB)."""
    return safejson.load_file(path, what, max_bytes=10_000_000)


def _family_params(family: str, given: dict[str, Any]) -> dict[str, Any]:
    """The generator parameters given on the command line (None = not given); refuses those of another family."""
    params = {k: v for k, v in given.items() if v is not None}
    flag = {"n_edges": "--edges", "p": "--p", "k": "--k"}
    for k in params:
        if k not in _FAMILY_PARAMS.get(family, set()):
            raise ValueError(f"{flag[k]} does not apply to lattice family {family!r}")
    return params


def _layered_dataset(a: argparse.Namespace, file: dict, given: dict, base: LoadedModel | None) -> DatasetSpec:
    """DatasetSpec defaults < base model's dataset (with --init) < --config "dataset" < explicit flags."""
    ds: dict[str, Any] = {}
    base_spec = None
    if base is not None:
        if not a.new_lattices:
            base_spec = model_dataset_spec(base)
            ds.update(base_spec.to_dict())
        elif isinstance(base.metadata.get("dataset"), dict):
            ds.update(base.metadata["dataset"], lattices=None, general_lattices=None)
    for layer in (file.get("dataset", {}), given.get("dataset", {})):
        if layer.get("family", ds.get("family", DatasetSpec.family)) != ds.get("family", DatasetSpec.family):
            ds["family_params"] = {}  # another family: its own defaults, not the previous family's parameters
        ds.update(layer)
    params = _family_params(ds.get("family", DatasetSpec.family), {"n_edges": a.edges, "p": a.p, "k": a.k})
    if params:
        ds["family_params"] = {**ds.get("family_params", {}), **params}
    spec = dataclass_from_dict(DatasetSpec, ds, "dataset")
    if base_spec is not None:
        for k in ("L", "family", "family_params", "n_lattices", "n_general_lattices"):
            if getattr(spec, k) != getattr(base_spec, k):
                raise ValueError(
                    f"fine-tuning reuses the base model's lattices, so {k} cannot change; add --new-lattices"
                )
    elif base is not None and (base.metadata.get("dataset") or {}).get("seed") == spec.seed:
        print("warning: --new-lattices with the base model's --seed draws its lattices again", file=sys.stderr)
    spec.validate()
    return spec


def _layered_model(file: dict, given: dict, spec: DatasetSpec, base: LoadedModel | None) -> ModelConfig:
    """The network's L, M and tau follow the dataset; with --init only the encoding may change."""
    mo = {**file.get("model", {}), **given.get("model", {})}
    geometry = {"L": spec.L, "M": spec.M, "tau": spec.tau}
    if base is not None:
        base_d = base.config.to_dict()
        for k, v in mo.items():
            if k not in ("encoding", *geometry) and base_d.get(k) != (list(v) if isinstance(v, tuple) else v):
                raise ValueError(f"fine-tuning keeps the base model's architecture: {k} cannot change")
        return dataclasses.replace(base.config, **geometry, encoding=mo.get("encoding", base.config.encoding))
    for k, v in geometry.items():
        if k in mo and mo[k] != v:
            raise ValueError(f"the model's {k} follows the dataset ({v}); do not set it in the model section")
    return ModelConfig.from_dict({**mo, **geometry})


def _set_fields(pairs: list[str] | None, kind: type, command: str) -> dict[str, Any]:
    """``--set key=value`` pairs -> fields of the dataclass ``kind`` (values read as JSON: numbers, true/false,
    lists such as ["random","star"]; at most 1,000 characters)."""
    fields = [f.name for f in dataclasses.fields(kind)]
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{command} --set takes key=value (a {kind.__name__} field), got {pair!r}")
        if key not in fields:
            raise ValueError(f"--set {key}: unknown field; {kind.__name__} has {', '.join(fields)}")
        try:
            out[key] = safejson.loads(text, f"--set {key}", max_bytes=1000)
        except ValueError:
            wanted = "JSON (a number, true/false or a list)"
            raise ValueError(f"--set {key}: the value must be {wanted}, got {show(text)}") from None
    return out


def _general_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """``--set key=value`` pairs -> GeneralTrainConfig overrides (values read as JSON: 10, 0.5, 1e-3, true,
    ["random","complete"]).

    Refuses unknown fields and the fields that have their own flag (--steps, --seed, --lr), so a reproduction
    command has one spelling."""
    for pair in pairs or []:
        key = pair.partition("=")[0].strip()
        if key in RECIPE_FIELDS:
            raise ValueError(f"{key} has its own flag: use --{key} instead of --set {key}=...")
    return _set_fields(pairs, GeneralTrainConfig, "train-general")
